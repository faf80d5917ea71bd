/*
 * cornn_gradient.c — the coRNN checks of THEORY.md §4.2 beyond the discrete energy (derived in
 * docs/theory/cornn-energy.md and docs/theory/cornn-gradient.md).
 *
 *   E = gamma ||y||^2 + ||z||^2,  k = 2 eps - gamma dt,  c = ||W|| / sqrt(gamma) + ||Wz||,
 *   Lambda = c^2 / k,  ||M||_e = ||E^{1/2} M E^{-1/2}||_2 with E = diag(gamma I, I)
 *
 *   cornn.ode-energy         the ODE: dE/dt = 2 z.s - 2 eps ||z||^2 <= ||s||^2 / (2 eps), so
 *                            E(t) <= E(0) + m t / (2 eps) along CVODE trajectories (rtol 1e-10):
 *                            max_t E(t) / bound <= 1 on the official settings (gamma, eps) x
 *                            weight scales {0.1, 1, 10}, Gaussian held inputs, t in [0, 50]
 *   cornn.gradient-bound     IMEX: ||dX_n/dX_k||_e <= exp(Lambda (t_n - t_k) / 2): every single
 *                            step (k = n - 1, all n <= 2000) and the products from k = 0, 100,
 *                            1000 to 40 log-spaced n per decade, on the same settings
 *   cornn.no-step-explosion  gamma = 2.7, eps = 4.7, t_N = 5, N_k = 120 2^k (k = 0..5): the
 *                            successive differences of log ||dX_N/dX_0||_2 shrink with ratio in
 *                            [1.6, 2.4]; the tanh cell at dt = 1 changes by >= 1 order of
 *                            magnitude whenever N doubles
 *
 * The gradient bound holds for every weight and input, so it is tested from random initial
 * states with weight scales up to 10, where tanh saturates and D_n varies most.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "analysis.h"
#include "experiments.h"

#define M_HIDDEN 16
#define D_INPUT 2
#define ODE_RTOL 1e-10
#define ODE_T_END 50.0
#define ODE_POINTS 500
#define GB_STEPS 2000
#define NSE_RATIO_LO 1.6
#define NSE_RATIO_HI 2.4
#define NSE_LEVELS 6

static const double settings[][3] = { /* (dt, gamma, eps): the official code's tasks, and (0.5, 1, 1) */
    {0.06, 66, 15}, {0.042, 2.7, 4.7}, {0.076, 0.4, 8.0}, {0.034, 1.3, 12.7},
    {0.1, 0.2, 6.4}, {0.054, 4.9, 4.8}, {0.5, 1, 1},
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])
static const double wscales[] = {0.1, 1, 10};

/* A coRNN cell with a setting and weight scale, re-initialised with its own seed. */
static rnn_cell *cornn_cell(const rnn_check_ctx *ctx, const char *stream, size_t set, size_t w,
                            char *msg, size_t len)
{
    rnn_cell *c = rnn_check_cell(ctx, rnn_cell_cornn, M_HIDDEN, D_INPUT, stream, 0);
    if (!c) {
        snprintf(msg, len, "out of memory");
        return NULL;
    }
    char a[4][64];
    snprintf(a[0], 64, "dt=%.17g", settings[set][0]);
    snprintf(a[1], 64, "gamma=%.17g", settings[set][1]);
    snprintf(a[2], 64, "eps=%.17g", settings[set][2]);
    snprintf(a[3], 64, "wscale=%.17g", wscales[w]);
    const char *as[4] = {a[0], a[1], a[2], a[3]};
    if (rnn_cell_set_assignments(c, 4, as, msg, len) != RNN_OK) {
        rnn_cell_free(c);
        return NULL;
    }
    rnn_cell_init(c, rnn_seed_derive(ctx->seed, stream, 10 * set + w));
    return c;
}

int rnn_check_cornn_ode_energy(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                               rnn_check_result *r)
{
    (void)type;
    double worst = 0, *S = malloc((ODE_POINTS + 1) * 2 * M_HIDDEN * sizeof(double)),
           *times = malloc((ODE_POINTS + 1) * sizeof(double));
    char msg[512] = "";
    int rc = S && times ? RNN_OK : RNN_ENOMEM;
    size_t worst_set = 0, worst_w = 0;
    long steps = 0;
    for (size_t i = 0; i <= ODE_POINTS; i++)
        times[i] = ODE_T_END * (double)i / ODE_POINTS;
    for (size_t set = 0; set < N_SETTINGS && rc == RNN_OK; set++)
        for (size_t w = 0; w < 3 && rc == RNN_OK; w++) {
            rnn_cell *c = cornn_cell(ctx, "cornn.ode-energy", set, w, msg, sizeof msg);
            /* Gaussian inputs held over unit intervals: knots where CVODE restarts. */
            rnn_input *in = rnn_input_alloc_gaussian(RNN_INPUT_HOLD, D_INPUT, (size_t)ODE_T_END + 1, 0.0, 1.0,
                                                     rnn_seed_derive(ctx->seed, "cornn.ode-energy:u", 10 * set + w));
            rnn_cell_ode_ctx oc;
            rnn_ode ode;
            rc = c && in ? rnn_cell_ode_bind(c, in, &oc, &ode) : (c ? RNN_ENOMEM : RNN_EINVAL);
            if (rc == RNN_OK) {
                rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "cornn.ode-energy:s", 10 * set + w), 1.0, S);
                rnn_cvode_opts o;
                rnn_cvode_opts_default(&o);
                o.rtol = ODE_RTOL;
                o.atol = 1e-3 * ODE_RTOL;
                rnn_cvode_stats st;
                rc = rnn_cvode_solve(&ode, 0.0, S, ODE_POINTS, times + 1, S + 2 * M_HIDDEN, &o, &st, msg, sizeof msg);
                steps += st.steps;
                const double gamma = settings[set][1], eps = settings[set][2];
                double E0 = rnn_cornn_energy(M_HIDDEN, gamma, S);
                for (size_t i = 1; i <= ODE_POINTS && rc == RNN_OK; i++) {
                    double ratio = rnn_cornn_energy(M_HIDDEN, gamma, S + i * 2 * M_HIDDEN) /
                                   (E0 + M_HIDDEN * times[i] / (2 * eps));
                    if (ratio > worst) {
                        worst = ratio;
                        worst_set = set;
                        worst_w = w;
                    }
                }
                rnn_cell_ode_unbind(&oc);
            }
            rnn_input_free(in);
            rnn_cell_free(c);
        }
    free(S);
    free(times);
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "%s", msg[0] ? msg : rnn_strerror(rc));
    r->measured = worst;
    r->threshold = 1;
    r->cmp = RNN_CMP_LE;
    r->pass = worst <= 1;
    snprintf(r->detail, sizeof r->detail,
             "coRNN ODE by CVODE (BDF, rtol %.0e), m = %d, t in [0, %g], %zu settings x weight scales "
             "0.1, 1, 10 (%ld steps): max E(t) / (E(0) + m t / (2 eps)) = %.4f (at gamma = %g, eps = %g, "
             "wscale %g)", ODE_RTOL, M_HIDDEN, ODE_T_END, N_SETTINGS, steps, worst,
             settings[worst_set][1], settings[worst_set][2], wscales[worst_w]);
    return RNN_OK;
}

/* ||E^{1/2} M E^{-1/2}||_2 with E = diag(gamma I_m, I_m), M 2m x 2m row-major. */
static double e_norm(rnn_eig_ws *ws, size_t m, double gamma, const double *M, double *tmp,
                     double *sv)
{
    const size_t n = 2 * m;
    const double sg = sqrt(gamma);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            tmp[i * n + j] = M[i * n + j] * (i < m ? sg : 1.0) / (j < m ? sg : 1.0);
    return rnn_spectrum_svals(ws, tmp, sv) == RNN_OK ? sv[0] : NAN;
}

int rnn_check_cornn_gradient_bound(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                   rnn_check_result *r)
{
    (void)type;
    const size_t m = M_HIDDEN, n = 2 * m;
    static const size_t starts[] = {0, 100, 1000};
    rnn_eig_ws *ws = rnn_eig_ws_alloc(n), *wm = rnn_eig_ws_alloc(m);
    double *buf = malloc((4 * n * n + 2 * n + (GB_STEPS + 1) * n + D_INPUT) * sizeof(double));
    char msg[512] = "";
    int rc = ws && wm && buf ? RNN_OK : RNN_ENOMEM;
    double worst = -INFINITY; /* max of log(norm_e) - Lambda (t_n - t_k) / 2 */
    size_t checked = 0;
    for (size_t set = 0; set < N_SETTINGS && rc == RNN_OK; set++)
        for (size_t w = 0; w < 3 && rc == RNN_OK; w++) {
            double *J = buf, *M = J + n * n, *M2 = M + n * n, *tmp = M2 + n * n, *sv = tmp + n * n,
                   *S = sv + 2 * n, *u = S + (GB_STEPS + 1) * n;
            rnn_cell *c = cornn_cell(ctx, "cornn.gradient-bound", set, w, msg, sizeof msg);
            rnn_input *in = rnn_input_alloc_gaussian(RNN_INPUT_HOLD, D_INPUT, GB_STEPS + 1, 0.0,
                                                     settings[set][0],
                                                     rnn_seed_derive(ctx->seed, "cornn.gradient-bound:u", 10 * set + w));
            rc = c && in ? RNN_OK : RNN_ENOMEM;
            double dt = settings[set][0], gamma = settings[set][1], eps = settings[set][2];
            double nW = NAN, nWz = NAN;
            if (rc == RNN_OK) {
                rc = rnn_spectrum_svals(wm, c->params + rnn_cell_block(c, "W")->offset, sv);
                nW = sv[0];
                if (rc == RNN_OK)
                    rc = rnn_spectrum_svals(wm, c->params + rnn_cell_block(c, "Wz")->offset, sv);
                nWz = sv[0];
            }
            const double cc = nW / sqrt(gamma) + nWz, Lambda = cc * cc / (2 * eps - gamma * dt);
            if (rc == RNN_OK) {
                rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "cornn.gradient-bound:s", 10 * set + w), 1.0, S);
                rc = rnn_cell_run(c, in, 0.0, S, GB_STEPS, S);
            }
            /* Single steps: every n. */
            for (size_t k = 1; k <= GB_STEPS && rc == RNN_OK; k++) {
                rnn_input_eval(in, (double)(k - 1) * dt, u);
                rc = rnn_cell_step_jacobian(c, (double)(k - 1) * dt, S + (k - 1) * n, u, J);
                double ne = e_norm(ws, m, gamma, J, tmp, sv);
                worst = fmax(worst, log(ne) - Lambda * dt / 2);
                checked++;
            }
            /* Products from a few starts, at log-spaced ends. */
            for (size_t is = 0; is < 3 && rc == RNN_OK; is++) {
                size_t k0 = starts[is], lags[200];
                size_t nl = rnn_log_lags(GB_STEPS - k0, 40, 200, lags), next = 0;
                memset(M, 0, n * n * sizeof(double));
                for (size_t i = 0; i < n; i++)
                    M[i * n + i] = 1;
                double L = 0;
                for (size_t t = k0 + 1; t <= GB_STEPS && rc == RNN_OK && next < nl; t++) {
                    rnn_input_eval(in, (double)(t - 1) * dt, u);
                    rc = rnn_cell_step_jacobian(c, (double)(t - 1) * dt, S + (t - 1) * n, u, J);
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n,
                                1.0, J, (int)n, M, (int)n, 0.0, M2, (int)n); /* M2 = J M */
                    double *tmp2 = M;
                    M = M2;
                    M2 = tmp2;
                    double a = 0;
                    for (size_t i = 0; i < n * n; i++)
                        a = fmax(a, fabs(M[i]));
                    for (size_t i = 0; i < n * n; i++)
                        M[i] /= a;
                    L += log(a);
                    if (t - k0 == lags[next]) {
                        double ne = e_norm(ws, m, gamma, M, tmp, sv);
                        worst = fmax(worst, L + log(ne) - Lambda * (double)lags[next] * dt / 2);
                        checked++;
                        next++;
                    }
                }
            }
            rnn_input_free(in);
            rnn_cell_free(c);
        }
    free(buf);
    rnn_eig_ws_free(ws);
    rnn_eig_ws_free(wm);
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "%s", msg[0] ? msg : rnn_strerror(rc));
    r->measured = exp(worst);
    r->threshold = 1;
    r->cmp = RNN_CMP_LE;
    r->pass = r->measured <= 1;
    snprintf(r->detail, sizeof r->detail,
             "IMEX coRNN, m = %d, %zu settings x weight scales 0.1, 1, 10, N = %d: max "
             "||dX_n/dX_k||_e / exp(Lambda (t_n - t_k) / 2) = %.4g over %zu (k, n) pairs (every "
             "single step; products from k = 0, 100, 1000)",
             M_HIDDEN, N_SETTINGS, GB_STEPS, r->measured, checked);
    return RNN_OK;
}

/* log ||ds_N/ds_0||_2 of cell c at step size dt over N steps. */
static int log_norm_at(rnn_cell *c, const rnn_input *in, const double *s0, double dt, size_t N,
                       double *out, char *msg, size_t len)
{
    int rc = rnn_cell_set_dt(c, dt);
    return rc == RNN_OK ? rnn_grad_tangent(c, in, s0, 1, &N, out, msg, len) : rc;
}

int rnn_check_cornn_no_step_explosion(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                      rnn_check_result *r)
{
    (void)type;
    char msg[512] = "";
    rnn_cell *c = rnn_check_cell(ctx, rnn_cell_cornn, M_HIDDEN, D_INPUT, "cornn.no-step-explosion", 0);
    rnn_cell *t = rnn_check_cell(ctx, rnn_cell_tanh, M_HIDDEN, D_INPUT, "cornn.no-step-explosion", 1);
    rnn_input *in = rnn_input_alloc_sines(D_INPUT, rnn_seed_derive(ctx->seed, "cornn.no-step-explosion", 2));
    double s0[2 * M_HIDDEN], Lc[NSE_LEVELS], Lt[NSE_LEVELS];
    const char *set[] = {"gamma=2.7", "eps=4.7"};
    int rc = c && t && in ? rnn_cell_set_assignments(c, 2, set, msg, sizeof msg) : RNN_ENOMEM;
    if (rc == RNN_OK)
        rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "cornn.no-step-explosion:s", 0), 0.5, s0);
    for (int k = 0; k < NSE_LEVELS && rc == RNN_OK; k++) {
        size_t N = (size_t)120 << k;
        rc = log_norm_at(c, in, s0, 5.0 / (double)N, N, &Lc[k], msg, sizeof msg);
        if (rc == RNN_OK)
            rc = log_norm_at(t, in, s0, 1.0, N, &Lt[k], msg, sizeof msg);
    }
    rnn_input_free(in);
    rnn_cell_free(c);
    rnn_cell_free(t);
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "%s", msg[0] ? msg : rnn_strerror(rc));
    double ratio_lo = INFINITY, ratio_hi = 0, tanh_min = INFINITY;
    char ratios[160] = "";
    for (int k = 0; k + 2 < NSE_LEVELS; k++) {
        double q = fabs(Lc[k + 1] - Lc[k]) / fabs(Lc[k + 2] - Lc[k + 1]);
        ratio_lo = fmin(ratio_lo, q);
        ratio_hi = fmax(ratio_hi, q);
        size_t l = strlen(ratios);
        snprintf(ratios + l, sizeof ratios - l, "%s%.3f", k ? ", " : "", q);
    }
    for (int k = 0; k + 1 < NSE_LEVELS; k++)
        tanh_min = fmin(tanh_min, fabs(Lt[k + 1] - Lt[k]) / M_LN10);
    /* Measured: the ratio farthest from 2, as a distance from the band's centre. */
    r->measured = fmax(2 - ratio_lo, ratio_hi - 2);
    r->threshold = 0.4;
    r->cmp = RNN_CMP_LE;
    r->pass = ratio_lo >= NSE_RATIO_LO && ratio_hi <= NSE_RATIO_HI && tanh_min >= 1;
    snprintf(r->detail, sizeof r->detail,
             "IMEX coRNN (gamma 2.7, eps 4.7), t_N = 5, N = 120..3840: log||dX_N/dX_0|| = %.6f .. "
             "%.6f, ratios of successive differences %s (must lie in [%.1f, %.1f]); tanh at dt = 1: "
             "log10||dh_N/dh_0|| = %.1f .. %.1f, smallest change per doubling %.1f orders (>= 1)",
             Lc[0], Lc[NSE_LEVELS - 1], ratios, NSE_RATIO_LO, NSE_RATIO_HI, Lt[0] / M_LN10,
             Lt[NSE_LEVELS - 1] / M_LN10, tanh_min);
    return RNN_OK;
}
