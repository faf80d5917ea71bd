/*
 * odernn_stability_gradients.c — odernn.stability-predicts-gradients.<tableau> (THEORY.md §5.1,
 * a reading of [OD]): the stability region of the tableau predicts whether ||ds_n/ds_0|| grows.
 *
 *   cell      rk:<tableau>:tanh, h' = -h + tanh(W h + U u + b), m = 8, sines input; W ~ N(0,
 *             sigma^2/m) ("wscale" sigma), so J_f = -I + D W has eigenvalues in a disc of
 *             radius ~ sigma about -1
 *   grid      sigma in SIGMAS (the spectral scale) x dt = f x_R / (1 + sigma), f in FRACS, with
 *             x_R the tableau's real stability interval (-x_R, 0); one seed per point
 *   predict   along the cell's own trajectory s_0..s_{N-1}: g_n = max_i log |R(dt lambda_i(J_f(s_n,
 *             u_n)))|. Inside (all i, all n): max_n g_n <= -BAND. Outside: min_n g_n >= +BAND
 *             (some eigenvalue outside at every step). Other points are marginal or mixed
 *             (inside at some steps, outside at others): the claim says nothing about them and
 *             they are left out, and counted.
 *   measure   rate = (1/N) log ||ds_N/ds_0||_2 (forward tangents, rnn_grad_tangent). Grows iff
 *             rate > BAND; does not grow iff rate <= BAND.
 *   passes    when the measured class matches the prediction at >= 95 % of the predicted points
 *             (THEORY.md), and at least MIN_POINTS points are predicted on each side, so that
 *             the check cannot pass vacuously.
 *
 * Why it can fail: the eigenvalues of the frozen Jacobians do not control products of
 * non-commuting, non-normal matrices (a product of matrices of spectral radius < 1 can grow),
 * and the nonlinearity moves the spectrum along the trajectory. The claim is a reading, not a
 * theorem; the share of agreement is what is measured.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"
#include "experiments.h"

#define M_HIDDEN 8
#define N_STEPS 300
/* The band around 0 for both the predicted log|R| and the measured rate per step: over N = 300
 * steps a bounded transient of size C adds log(C)/N to the rate; C ~ 10 (non-normal W at
 * m = 8) gives 0.008, so 0.02 separates "bounded" from "growing" with margin 2. */
#define BAND 0.02
#define SHARE 0.95
#define MIN_POINTS 3

/* dt = FRACS x_R / (1 + sigma), x_R the tableau's real stability interval (-x_R, 0): the
 * spectrum's extent |lambda| <~ 1 + sigma is scaled to each tableau's region, so every tableau
 * gets points well inside (f <= 0.6) and well outside (f >= 1.25). A rule, not a choice per
 * tableau. */
static const double FRACS[] = {0.2, 0.4, 0.6, 0.8, 1.25, 1.6, 2.0, 2.5};
static const double SIGMAS[] = {0.25, 0.5, 1.0, 1.5, 2.0};
enum { NDT = sizeof FRACS / sizeof FRACS[0], NSIG = sizeof SIGMAS / sizeof SIGMAS[0] };

/* x_R: the first x > 0 with |R(-x)| > 1, by a scan in steps of 0.01 and bisection. */
static double real_stability_interval(const rnn_tableau *tab)
{
    double lo = 0, hi = 0;
    for (double x = 0.01; x < 20.0; x += 0.01)
        if (rnn_tableau_stability_abs(tab, -x, 0.0) > 1.0) {
            hi = x;
            break;
        }
    if (hi == 0)
        return 20.0;
    lo = hi - 0.01;
    for (int i = 0; i < 50; i++) {
        double mid = 0.5 * (lo + hi);
        if (rnn_tableau_stability_abs(tab, -mid, 0.0) > 1.0)
            hi = mid;
        else
            lo = mid;
    }
    return lo;
}

typedef enum { PRED_NONE, PRED_INSIDE, PRED_OUTSIDE } prediction;

/* max_n g_n and min_n g_n along the trajectory S over its first `steps` states. */
static int spectral_prediction(const rnn_cell *c, const rnn_tableau *tab, const rnn_input *in,
                               const double *S, size_t steps, rnn_eig_ws *ws, double *J, double *re,
                               double *im, double *u, double *gmax, double *gmin)
{
    const size_t n = c->n_state;
    const double dt = rnn_cell_dt(c);
    *gmax = -INFINITY;
    *gmin = INFINITY;
    for (size_t k = 0; k < steps; k++) {
        const double t = (double)k * dt;
        rnn_input_eval(in, t, u);
        int rc = rnn_cell_ode_jacobian(c, t, S + k * n, u, J);
        if (rc == RNN_OK)
            rc = rnn_spectrum_eigvals(ws, J, re, im);
        if (rc != RNN_OK)
            return rc;
        double g = -INFINITY;
        for (size_t i = 0; i < n; i++)
            g = fmax(g, log(rnn_tableau_stability_abs(tab, dt * re[i], dt * im[i])));
        *gmax = fmax(*gmax, g);
        *gmin = fmin(*gmin, g);
    }
    return RNN_OK;
}

int rnn_check_odernn_stability_gradients(const rnn_check_ctx *ctx, const rnn_cell_type *unused,
                                         rnn_check_result *r)
{
    (void)unused;
    char msg[512] = "";
    const rnn_tableau *tab = rnn_tableau_find(ctx->instance);
    const rnn_cell_type *T = rnn_rk_type(ctx->instance, "tanh", msg, sizeof msg);
    if (!T || !tab)
        return rnn_check_error(r, RNN_EINVAL, "%s", msg[0] ? msg : "unknown tableau");
    const size_t n = M_HIDDEN;
    rnn_input *in = rnn_input_alloc_sines(1, rnn_seed_derive(ctx->seed, "stability-gradients:input", 0));
    rnn_eig_ws *ws = rnn_eig_ws_alloc(n);
    double *S = malloc(((N_STEPS + 1) * n + n * n + 3 * n + 1) * sizeof(double));
    if (!in || !ws || !S) {
        rnn_input_free(in);
        rnn_eig_ws_free(ws);
        free(S);
        return rnn_check_error(r, RNN_ENOMEM, "out of memory");
    }
    double *J = S + (N_STEPS + 1) * n, *re = J + n * n, *im = re + n, *s0 = im + n, *u = s0 + n;
    const double xR = real_stability_interval(tab);
    size_t inside = 0, outside = 0, agree_in = 0, agree_out = 0, left_out = 0, blown = 0;
    double worst_in = -INFINITY, worst_out = INFINITY; /* the rates that disagree most */
    int rc = RNN_OK;
    for (size_t a = 0; a < NSIG && rc == RNN_OK; a++)
        for (size_t b = 0; b < NDT && rc == RNN_OK; b++) {
            const unsigned long seed = rnn_seed_derive(ctx->seed, "stability-gradients", a * NDT + b);
            rnn_cell *c = rnn_cell_alloc(T, n, 1, seed);
            if (!c) {
                rc = RNN_ENOMEM;
                break;
            }
            rc = rnn_cell_set_hyper(c, "wscale", SIGMAS[a], msg, sizeof msg);
            if (rc == RNN_OK) {
                rnn_cell_init(c, seed);
                rc = rnn_cell_set_dt(c, FRACS[b] * xR / (1.0 + SIGMAS[a]));
            }
            rnn_cell_random_state(c, rnn_seed_derive(seed, "s0", 0), 0.5, s0);
            if (rc == RNN_OK) {
                int run = rnn_cell_run(c, in, 0.0, s0, N_STEPS, S);
                double gmax = NAN, gmin = NAN, rate = NAN;
                if (run == RNN_ENONFINITE) {
                    /* The state overflowed: far from the origin tanh saturates, f ~ -h + const
                     * and the step is ~ R(-dt) h, so the tangent grows with the state. Counted
                     * as growth, and predicted from the spectrum along the part that exists. */
                    blown++;
                    rate = INFINITY;
                    size_t k = 0;
                    while (k < N_STEPS && rnn_all_finite(n, S + (k + 1) * n))
                        k++;
                    run = k > 0 ? spectral_prediction(c, tab, in, S, k, ws, J, re, im, u, &gmax,
                                                      &gmin)
                                : RNN_OK;
                } else if (run == RNN_OK) {
                    run = spectral_prediction(c, tab, in, S, N_STEPS, ws, J, re, im, u, &gmax,
                                              &gmin);
                    if (run == RNN_OK) {
                        const size_t lag = N_STEPS;
                        double logn;
                        run = rnn_grad_tangent(c, in, s0, 1, &lag, &logn, msg, sizeof msg);
                        rate = logn / (double)N_STEPS;
                    }
                }
                if (run != RNN_OK) {
                    rc = run;
                } else if (gmax <= -BAND) {
                    inside++;
                    agree_in += rate <= BAND;
                    if (rate > BAND)
                        worst_in = fmax(worst_in, rate);
                } else if (gmin >= BAND) {
                    outside++;
                    agree_out += rate > BAND;
                    if (rate <= BAND)
                        worst_out = fmin(worst_out, rate);
                } else {
                    left_out++;
                }
            }
            rnn_cell_free(c);
        }
    rnn_input_free(in);
    rnn_eig_ws_free(ws);
    free(S);
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "%s: %s", T->name, msg[0] ? msg : rnn_strerror(rc));
    const size_t predicted = inside + outside, agree = agree_in + agree_out;
    const double share = predicted ? (double)agree / (double)predicted : 0.0;
    r->measured = share;
    r->threshold = SHARE;
    r->cmp = RNN_CMP_GE;
    r->pass = share >= SHARE && inside >= MIN_POINTS && outside >= MIN_POINTS;
    snprintf(r->detail, sizeof r->detail,
             "%s, m = %d, N = %d, x_R = %.3g, %d x %d (dt, sigma) points: predicted inside %zu (agree %zu), "
             "outside %zu (agree %zu); left out %zu marginal or mixed; %zu overflowed (growth); "
             "band %.2g per step%s",
             T->name, M_HIDDEN, N_STEPS, xR, NDT, NSIG, inside, agree_in, outside, agree_out,
             left_out, blown, BAND,
             inside < MIN_POINTS || outside < MIN_POINTS ? "; too few predicted points on one side" : "");
    size_t used = strlen(r->detail);
    if (agree_in < inside)
        used += (size_t)snprintf(r->detail + used, sizeof r->detail - used,
                                 "; inside but growing, up to rate %.3g", worst_in);
    if (agree_out < outside && used < sizeof r->detail)
        snprintf(r->detail + used, sizeof r->detail - used,
                 "; outside but not growing, down to rate %.3g", worst_out);
    return RNN_OK;
}
