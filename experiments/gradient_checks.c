/*
 * gradient_checks.c — the gradient-growth checks of THEORY.md §6 (derived in
 * docs/theory/lyapunov.md and docs/theory/pascanu.md).
 *
 *   grad.tangent-vs-adjoint.<cell>  log ||d s_T / d s_0||_2 by forward tangents M_t = J_t M_{t-1}
 *                                   and by the reverse sweep G_{k-1} = G_k J_k agree:
 *                                   |norm_fwd / norm_rev - 1| <= 1e-10 at every common lag,
 *                                   T = 1000 (quick: 300), m = 16; the curve spans many orders
 *                                   of magnitude, carried in the log domain
 *   grad.pascanu-bound              [PA]: tanh cell at dt = 1, ||d h_T / d h_k||_2 <=
 *                                   sigma_max(W)^{T-k} for all k < T <= 1000 (sigma' <= 1), on
 *                                   weight scales 0.5, 1, 2; and a W scaled to sigma_max = 0.9
 *                                   shows exponential vanishing (the norm at T = 1000 is below
 *                                   0.9^1000 = 1.7e-46)
 *
 * Rounding: each product step adds ~ n eps relative error to the norm, so T = 1000 steps at
 * n = 16 stay near 1e-12; 1e-10 leaves a margin of 100 and fails for any mistake in the
 * bookkeeping of the scale or of the order of the products. The bound check allows the same
 * rounding slack (PASCANU_SLACK) above sigma_max^{T-k}, which matters only where the bound is
 * nearly attained.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "analysis.h"
#include "experiments.h"

#define TVA_TOL 1e-10
#define PASCANU_SLACK 1e-10
#define M_HIDDEN 16

int rnn_check_grad_tangent_vs_adjoint(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                      rnn_check_result *r)
{
    const size_t T = ctx->tier == RNN_TIER_QUICK ? 300 : 1000;
    rnn_cell *c = rnn_check_cell(ctx, type, M_HIDDEN, 2, "grad.tangent-vs-adjoint", 0);
    rnn_input *in = rnn_input_alloc_sines(2, rnn_seed_derive(ctx->seed, "grad.tva:input", 0));
    const size_t n = c ? c->n_state : 0;
    size_t lags[64];
    size_t nl = rnn_log_lags(T, 10, 64, lags);
    double *S = c ? malloc(((T + 1) * n + 2 * nl) * sizeof(double)) : NULL;
    char msg[512] = "";
    int rc = (!c || !in || !S) ? RNN_ENOMEM : RNN_OK;
    double *fwd = S ? S + (T + 1) * n : NULL, *rev = fwd ? fwd + nl : NULL;
    if (rc == RNN_OK) {
        rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "grad.tva:state", 0), 0.5, S);
        rc = rnn_cell_run(c, in, 0.0, S, T, S);
        if (rc != RNN_OK)
            snprintf(msg, sizeof msg, "the trajectory failed: %s", rnn_strerror(rc));
    }
    if (rc == RNN_OK)
        rc = rnn_grad_tangent(c, in, S, nl, lags, fwd, msg, sizeof msg);
    /* The reverse sweep gives d s_T / d s_k at lag T - k; the common value is lag T (k = 0),
     * and for the forward sweep every lag t is d s_t / d s_0. Compare both at T and, by
     * running the reverse sweep from each lag's end point, at every lag. */
    double worst = 0;
    size_t worst_lag = 0;
    for (size_t i = 0; i < nl && rc == RNN_OK; i++) {
        size_t one = lags[i];
        rc = rnn_grad_adjoint(c, in, S, lags[i], 1, &one, rev + i, msg, sizeof msg);
        double e = fabs(expm1(fwd[i] - rev[i]));
        if (rc == RNN_OK && !(e <= worst) ) {
            worst = e;
            worst_lag = lags[i];
        }
    }
    if (rc == RNN_OK) {
        r->measured = worst;
        r->threshold = TVA_TOL;
        r->cmp = RNN_CMP_LE;
        r->pass = worst <= TVA_TOL;
        snprintf(r->detail, sizeof r->detail,
                 "%s m = %zu, T = %zu, %zu lags: ||ds_T/ds_0|| from %.3e (T = 1) to 10^%.1f (T = "
                 "%zu); worst |fwd/rev - 1| = %.2e at T = %zu",
                 type->name, (size_t)M_HIDDEN, T, nl, exp(fwd[0]), fwd[nl - 1] / M_LN10, T, worst,
                 worst_lag);
    } else {
        rnn_check_error(r, rc, "%s", msg[0] ? msg : rnn_strerror(rc));
    }
    free(S);
    rnn_input_free(in);
    rnn_cell_free(c);
    return r->status;
}

/* sigma_max of the cell's W block. */
static int sigma_max_W(const rnn_cell *c, double *out)
{
    const rnn_block *W = rnn_cell_block(c, "W");
    rnn_eig_ws *ws = rnn_eig_ws_alloc(c->m);
    double *sv = malloc(c->m * sizeof(double));
    int rc = ws && sv ? rnn_spectrum_svals(ws, c->params + W->offset, sv) : RNN_ENOMEM;
    if (rc == RNN_OK)
        *out = sv[0];
    free(sv);
    rnn_eig_ws_free(ws);
    return rc;
}

int rnn_check_grad_pascanu(const rnn_check_ctx *ctx, const rnn_cell_type *type, rnn_check_result *r)
{
    (void)type;
    const size_t T = 1000, m = 32;
    static const double wscales[] = {0.5, 1.0, 2.0};
    rnn_cell *c = rnn_check_cell(ctx, rnn_cell_tanh, m, 2, "grad.pascanu-bound", 0);
    rnn_input *in = rnn_input_alloc_sines(2, rnn_seed_derive(ctx->seed, "grad.pascanu:input", 0));
    double *S = c ? malloc((T + 1) * m * sizeof(double)) : NULL;
    double *ln = malloc((T + 1) * sizeof(double));
    size_t *lags = malloc((T + 1) * sizeof(size_t));
    char msg[512] = "";
    int rc = (!c || !in || !S || !ln || !lags) ? RNN_ENOMEM : RNN_OK;
    double worst = -INFINITY, vanish = NAN; /* max over all (k, T) of log(norm / bound) */
    size_t pairs = 0;
    for (size_t w = 0; w < 4 && rc == RNN_OK; w++) {
        rc = rnn_cell_set_hyper(c, "wscale", w < 3 ? wscales[w] : 1.0, msg, sizeof msg);
        if (rc != RNN_OK)
            break;
        rnn_cell_init(c, rnn_seed_derive(ctx->seed, "grad.pascanu:weights", w));
        double smax;
        if ((rc = sigma_max_W(c, &smax)) != RNN_OK)
            break;
        if (w == 3) { /* the vanishing case: W scaled to sigma_max = 0.9 exactly */
            const rnn_block *W = rnn_cell_block(c, "W");
            for (size_t i = 0; i < m * m; i++)
                c->params[W->offset + i] *= 0.9 / smax;
            rnn_cell_params_changed(c);
            if ((rc = sigma_max_W(c, &smax)) != RNN_OK)
                break;
        }
        rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "grad.pascanu:state", w), 0.5, S);
        if ((rc = rnn_cell_run(c, in, 0.0, S, T, S)) != RNN_OK)
            break;
        /* For every end point T' (log-spaced) and every k < T': the reverse sweep from T'. */
        size_t ends[160];
        size_t ne = rnn_log_lags(T, 40, 160, ends);
        for (size_t e = 0; e < ne && rc == RNN_OK; e++) {
            size_t Te = ends[e];
            for (size_t i = 0; i < Te; i++)
                lags[i] = i + 1;
            rc = rnn_grad_adjoint(c, in, S, Te, Te, lags, ln, msg, sizeof msg);
            for (size_t i = 0; i < Te && rc == RNN_OK; i++) {
                double excess = ln[i] - (double)lags[i] * log(smax);
                worst = fmax(worst, excess);
                pairs++;
            }
            if (w == 3 && Te == T)
                vanish = ln[T - 1] / M_LN10;
        }
    }
    if (rc == RNN_OK) {
        double ratio = exp(worst); /* max norm / bound */
        r->measured = ratio;
        r->threshold = 1 + PASCANU_SLACK;
        r->cmp = RNN_CMP_LE;
        double vanish_bound = (double)T * log10(0.9);
        r->pass = ratio <= r->threshold && vanish <= vanish_bound;
        snprintf(r->detail, sizeof r->detail,
                 "tanh dt = 1, m = %zu, wscale 0.5, 1, 2: max ||dh_T/dh_k|| / sigma_max(W)^(T-k) = "
                 "%.6f over %zu pairs (k < T <= %zu); sigma_max = 0.9: ||dh_T/dh_0|| = 10^%.1f "
                 "(bound 10^%.1f)%s",
                 m, ratio, pairs, T, vanish, vanish_bound,
                 vanish <= vanish_bound ? "" : " — does NOT vanish as the bound requires");
    } else {
        rnn_check_error(r, rc, "%s", msg[0] ? msg : rnn_strerror(rc));
    }
    free(lags);
    free(ln);
    free(S);
    rnn_input_free(in);
    rnn_cell_free(c);
    return r->status;
}
