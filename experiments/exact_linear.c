/*
 * exact_linear.c — a linear ODE with a closed-form solution, the test problem of cvode.exact.
 *
 *   s' = A s + c0 + v cos(nu t),   A = blockdiag(B_k),   B_k = [[-a_k, w_k], [-w_k, -a_k]]
 *   exp(B t) = e^{-a t} [[cos wt, sin wt], [-sin wt, cos wt]]
 *   constant part:  s_c = -B^{-1} c0,  B^{-1} = [[-a, -w], [w, -a]] / (a^2 + w^2)
 *   periodic part:  s_p = P cos(nu t) + Q sin(nu t) with (nu^2 I + B^2) Q = nu v, P = -B Q / nu
 *   solution:       s(t) = exp(B t) (s0 - s_c - P) + s_c + s_p(t)
 * Derivation: docs/theory/cvode-exact.md.
 */
#include <math.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include "experiments.h"

void rnn_exact_linear_make(rnn_exact_linear *p, size_t blocks, unsigned long seed)
{
    gsl_rng *r = rnn_rng_alloc(seed, "exact-linear", 0);
    memset(p, 0, sizeof *p);
    p->blocks = blocks > 8 ? 8 : blocks;
    p->nu = 1.3;
    for (size_t k = 0; k < p->blocks; k++) {
        /* decay rates 0.05..0.5 and rotations 0.5..5: slow decay, several time scales */
        p->a[k] = 0.05 + 0.45 * gsl_rng_uniform(r);
        p->w[k] = 0.5 + 4.5 * gsl_rng_uniform(r);
    }
    rnn_fill_gaussian(r, 1.0, 2 * p->blocks, p->c0);
    rnn_fill_gaussian(r, 1.0, 2 * p->blocks, p->v);
    rnn_fill_gaussian(r, 1.0, 2 * p->blocks, p->s0);
    gsl_rng_free(r);
}

void rnn_exact_linear_solution(const rnn_exact_linear *p, double t, double *s)
{
    const double nu = p->nu;
    for (size_t k = 0; k < p->blocks; k++) {
        const double a = p->a[k], w = p->w[k], *c0 = p->c0 + 2 * k, *v = p->v + 2 * k;
        const double *x0 = p->s0 + 2 * k;
        double det = a * a + w * w;
        double sc[2] = {(a * c0[0] + w * c0[1]) / det, (-w * c0[0] + a * c0[1]) / det};
        /* nu^2 I + B^2 = [[al, -be], [be, al]] */
        double al = nu * nu + a * a - w * w, be = 2 * a * w, dm = al * al + be * be;
        double Q[2] = {nu * (al * v[0] + be * v[1]) / dm, nu * (-be * v[0] + al * v[1]) / dm};
        double P[2] = {-(-a * Q[0] + w * Q[1]) / nu, -(-w * Q[0] - a * Q[1]) / nu};
        double x[2] = {x0[0] - sc[0] - P[0], x0[1] - sc[1] - P[1]};
        double e = exp(-a * t), cw = cos(w * t), sw = sin(w * t), cn = cos(nu * t), sn = sin(nu * t);
        s[2 * k] = e * (cw * x[0] + sw * x[1]) + sc[0] + P[0] * cn + Q[0] * sn;
        s[2 * k + 1] = e * (-sw * x[0] + cw * x[1]) + sc[1] + P[1] * cn + Q[1] * sn;
    }
}

static int rhs(double t, const double *s, double *f, void *ctx)
{
    const rnn_exact_linear *p = ctx;
    double cn = cos(p->nu * t);
    for (size_t k = 0; k < p->blocks; k++) {
        const double a = p->a[k], w = p->w[k], y0 = s[2 * k], y1 = s[2 * k + 1];
        f[2 * k] = -a * y0 + w * y1 + p->c0[2 * k] + p->v[2 * k] * cn;
        f[2 * k + 1] = -w * y0 - a * y1 + p->c0[2 * k + 1] + p->v[2 * k + 1] * cn;
    }
    return 0;
}

static int jac(double t, const double *s, double *J, void *ctx)
{
    (void)t, (void)s;
    const rnn_exact_linear *p = ctx;
    const size_t n = 2 * p->blocks;
    memset(J, 0, n * n * sizeof(double));
    for (size_t k = 0; k < p->blocks; k++) {
        size_t i = 2 * k;
        J[i * n + i] = -p->a[k];
        J[i * n + i + 1] = p->w[k];
        J[(i + 1) * n + i] = -p->w[k];
        J[(i + 1) * n + i + 1] = -p->a[k];
    }
    return 0;
}

rnn_ode rnn_exact_linear_ode(const rnn_exact_linear *p)
{
    return (rnn_ode){.n = 2 * p->blocks, .rhs = rhs, .jac = jac, .ctx = (void *)p,
                     .name = "the exact linear test problem"};
}
