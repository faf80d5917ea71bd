/*
 * cornn_energy.c — the coRNN energy checks of THEORY.md §4.2 (derived in
 * docs/theory/cornn-energy.md).
 *
 *   E_n = gamma ||y_n||^2 + ||z_n||^2,   s_n = tanh(a_n),   k = 2 eps - gamma dt
 *   cornn.energy-identity   (IMEX) E_n - E_{n-1} = -||z_n - z_{n-1}||^2 + 2 dt s_n.z_n
 *                                   + dt (gamma dt - 2 eps) ||z_n||^2, every step, to 1e-12
 *                                   relative to the size of the terms
 *   cornn.energy-bound      (IMEX) E_n <= E_0 + m t_n / k and E_n <= E_{n-1} + dt ||s_n||^2 / k
 *   cornn.explicit-vs-imex  (observation) max_n E_n / (E_0 + m t_n / k) for the explicit scheme
 *
 * Settings: the official code's task settings (dt, gamma, eps) and (0.5, 1, 1); weight scales
 * 0.1, 1, 10; N = 5000 steps; Gaussian inputs (zero-order hold, d = 2); a random initial
 * state, so that E_0 > 0 and the bound is tested from a state the network did not produce.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "analysis.h"
#include "experiments.h"

#define IDENTITY_TOL 1e-12
#define N_STEPS 5000
#define M_HIDDEN 32
#define D_INPUT 2

static const double settings[][3] = {
    {0.06, 66, 15}, {0.042, 2.7, 4.7}, {0.076, 0.4, 8.0}, {0.034, 1.3, 12.7},
    {0.1, 0.2, 6.4}, {0.054, 4.9, 4.8}, {0.5, 1, 1},
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])
static const double wscales[] = {0.1, 1, 10};

typedef struct {
    double identity;   /* max relative residual of the identity */
    double cumulative; /* max E_n / (E_0 + m t_n / k) */
    double per_step;   /* max E_n / (E_{n-1} + dt ||s_n||^2 / k) */
} energy_stats;

/* Runs one setting and accumulates the three measures. */
static int run_setting(const rnn_check_ctx *ctx, const rnn_cell_type *type, const double *set,
                       double wscale, unsigned long idx, energy_stats *es, char *msg, size_t len)
{
    rnn_cell *c = rnn_check_cell(ctx, type, M_HIDDEN, D_INPUT, "cornn.energy", 0);
    if (!c) {
        snprintf(msg, len, "out of memory");
        return RNN_ENOMEM;
    }
    int rc = RNN_OK;
    const char *names[] = {"dt", "gamma", "eps"};
    for (int i = 0; i < 3 && rc == RNN_OK; i++)
        rc = rnn_cell_set_hyper(c, names[i], set[i], msg, len);
    if (rc == RNN_OK)
        rc = rnn_cell_set_hyper(c, "wscale", wscale, msg, len);
    if (rc != RNN_OK) {
        rnn_cell_free(c);
        return rc;
    }
    rnn_cell_init(c, rnn_seed_derive(ctx->seed, "cornn.energy:weights", idx));
    const size_t m = c->m, n = c->n_state;
    const double dt = set[0], gamma = set[1], eps = set[2], k = 2 * eps - gamma * dt;
    rnn_input *in = rnn_input_alloc_gaussian(RNN_INPUT_HOLD, D_INPUT, N_STEPS, 0.0, dt,
                                             rnn_seed_derive(ctx->seed, "cornn.energy:input", idx));
    double *buf = malloc((2 * n + D_INPUT) * sizeof(double));
    if (!in || !buf) {
        rnn_cell_free(c);
        rnn_input_free(in);
        free(buf);
        snprintf(msg, len, "out of memory");
        return RNN_ENOMEM;
    }
    double *s = buf, *sn = buf + n, *u = buf + 2 * n;
    rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "cornn.energy:s0", idx), 1.0, s);
    const double E0 = rnn_cornn_energy(m, gamma, s);
    double Eprev = E0;
    for (size_t step = 1; step <= N_STEPS && rc == RNN_OK; step++) {
        double t = (double)(step - 1) * dt;
        rnn_input_eval(in, t, u);
        double f2 = rnn_cornn_forcing_sq(c, s, u);
        rc = rnn_cell_step(c, t, s, u, sn);
        if (rc != RNN_OK) {
            snprintf(msg, len, "%s step %zu at (dt, gamma, eps) = (%g, %g, %g): %s", type->name,
                     step, dt, gamma, eps, rnn_strerror(rc));
            break;
        }
        double En = rnn_cornn_energy(m, gamma, sn);
        double rhs = rnn_cornn_energy_identity_rhs(c, s, u, sn);
        /* Rounding errors scale with the largest of the quantities summed. */
        double scale = fmax(fmax(En, Eprev), fabs(rhs));
        es->identity = fmax(es->identity, fabs((En - Eprev) - rhs) / (scale > 0 ? scale : 1));
        es->cumulative = fmax(es->cumulative, En / (E0 + (double)m * (double)step * dt / k));
        es->per_step = fmax(es->per_step, En / (Eprev + dt * f2 / k));
        Eprev = En;
        double *tmp = s;
        s = sn;
        sn = tmp;
    }
    free(buf);
    rnn_input_free(in);
    rnn_cell_free(c);
    return rc;
}

static int run_all(const rnn_check_ctx *ctx, const rnn_cell_type *type, int only_first,
                   energy_stats *es, rnn_check_result *r)
{
    char msg[512];
    size_t ns = only_first ? 1 : N_SETTINGS, nw = only_first ? 1 : 3;
    for (size_t i = 0; i < ns; i++)
        for (size_t w = 0; w < nw; w++) {
            double ws = only_first ? 1.0 : wscales[w];
            int rc = run_setting(ctx, type, settings[i], ws, 10 * i + w, es, msg, sizeof msg);
            if (rc != RNN_OK)
                return rnn_check_error(r, rc, "%s", msg);
        }
    return RNN_OK;
}

int rnn_check_cornn_energy_identity(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                    rnn_check_result *r)
{
    (void)type;
    energy_stats es = {0};
    if (run_all(ctx, rnn_cell_cornn, 0, &es, r) != RNN_OK)
        return r->status;
    r->measured = es.identity;
    r->threshold = IDENTITY_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = es.identity <= IDENTITY_TOL;
    snprintf(r->detail, sizeof r->detail,
             "max relative residual over %d steps x %zu settings x 3 weight scales (m = %d)",
             N_STEPS, N_SETTINGS, M_HIDDEN);
    return RNN_OK;
}

int rnn_check_cornn_energy_bound(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                 rnn_check_result *r)
{
    (void)type;
    energy_stats es = {0};
    if (run_all(ctx, rnn_cell_cornn, 0, &es, r) != RNN_OK)
        return r->status;
    r->measured = fmax(es.cumulative, es.per_step);
    r->threshold = 1.0;
    r->cmp = RNN_CMP_LE;
    r->pass = r->measured <= 1.0;
    snprintf(r->detail, sizeof r->detail,
             "max E_n / (E_0 + m t_n / (2 eps - gamma dt)) = %.4f, max per-step ratio = %.4f, over "
             "%d steps x %zu settings x 3 weight scales", es.cumulative, es.per_step, N_STEPS,
             N_SETTINGS);
    return RNN_OK;
}

int rnn_check_cornn_explicit_vs_imex(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                     rnn_check_result *r)
{
    (void)type;
    energy_stats ex = {0}, im = {0};
    if (run_all(ctx, rnn_cell_cornn_explicit, 1, &ex, r) != RNN_OK ||
        run_all(ctx, rnn_cell_cornn, 1, &im, r) != RNN_OK)
        return r->status;
    r->measured = ex.cumulative;
    r->threshold = 1.0;
    r->cmp = RNN_CMP_LE;
    r->pass = 0; /* an observation has no verdict */
    snprintf(r->detail, sizeof r->detail,
             "at (dt, gamma, eps) = (0.06, 66, 15), weight scale 1: cornn_explicit max E_n / bound = "
             "%.4g (per step %.4g); cornn (IMEX) on the same weights and inputs: %.4g",
             ex.cumulative, ex.per_step, im.cumulative);
    return RNN_OK;
}
