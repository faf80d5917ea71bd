/*
 * energy.c — the coRNN energy and the terms of its exact one-step identity (THEORY.md §4.2,
 * derived in docs/theory/cornn-energy.md).
 *
 *   E = gamma ||y||^2 + ||z||^2,  s_n = tanh(a_n),  a_n = W y_{n-1} + Wz z_{n-1} + V u + b
 *   IMEX:  E_n - E_{n-1} = -||z_n - z_{n-1}||^2 + 2 dt s_n.z_n + dt (gamma dt - 2 eps) ||z_n||^2
 *   bound: E_n <= E_{n-1} + dt ||s_n||^2 / (2 eps - gamma dt)   when gamma dt < 2 eps
 *
 * The functions read the cell's parameters by block name, so they serve both coRNN schemes.
 */
#include <math.h>
#include <cblas.h>
#include "analysis.h"

double rnn_cornn_energy(size_t m, double gamma, const double *s)
{
    double yy = cblas_ddot((int)m, s, 1, s, 1), zz = cblas_ddot((int)m, s + m, 1, s + m, 1);
    return gamma * yy + zz;
}

/* a = W y + Wz z + V u + b into out[m]; then out = tanh(a). */
static void forcing(const rnn_cell *c, const double *s, const double *u, double *out)
{
    const size_t m = c->m;
    const rnn_block *W = rnn_cell_block(c, "W"), *Wz = rnn_cell_block(c, "Wz"),
                    *V = rnn_cell_block(c, "V"), *b = rnn_cell_block(c, "b");
    rnn_gemm_rows(1, m, m, c->params + W->offset, s, m, 0.0, out);
    rnn_gemm_rows(1, m, m, c->params + Wz->offset, s + m, m, 1.0, out);
    rnn_gemm_rows(1, m, c->d, c->params + V->offset, u, c->d, 1.0, out);
    for (size_t i = 0; i < m; i++)
        out[i] = tanh(out[i] + c->params[b->offset + i]);
}

double rnn_cornn_energy_identity_rhs(const rnn_cell *c, const double *s_prev, const double *u,
                                     const double *s_next)
{
    const size_t m = c->m;
    const double dt = rnn_cell_get_hyper(c, "dt"), gamma = rnn_cell_get_hyper(c, "gamma"),
                 eps = rnn_cell_get_hyper(c, "eps");
    double *sn = c->scratch; /* m <= 2 n_state + d doubles */
    forcing(c, s_prev, u, sn);
    const double *zp = s_prev + m, *zn = s_next + m;
    double dz2 = 0, sz = 0, zz = 0;
    for (size_t i = 0; i < m; i++) {
        dz2 += (zn[i] - zp[i]) * (zn[i] - zp[i]);
        sz += sn[i] * zn[i];
        zz += zn[i] * zn[i];
    }
    return -dz2 + 2 * dt * sz + dt * (gamma * dt - 2 * eps) * zz;
}

double rnn_cornn_forcing_sq(const rnn_cell *c, const double *s_prev, const double *u)
{
    double *sn = c->scratch;
    forcing(c, s_prev, u, sn);
    return cblas_ddot((int)c->m, sn, 1, sn, 1);
}
