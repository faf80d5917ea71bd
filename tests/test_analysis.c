/*
 * test_analysis.c — unit tests of the analysis module (analysis/analysis.h).
 *
 *   - rnn_fit_line: exact on a line (slope, intercept, zero standard error), a positive
 *     standard error on noisy data, RNN_EINVAL for n < 2 or non-finite data;
 *   - rnn_bptt_gradient against our own central differences of a loss computed here by our
 *     own forward loop (tanh and cornn, small m, every parameter and initial-state entry);
 *   - rnn_converge on the tanh and cornn cells: fitted order within 0.1 of 1, a trustworthy
 *     reference (ref_ok), the grid dt_k = t_end / (n0 2^k), the step size restored; error
 *     paths of its options;
 *   - the coRNN energy helpers against a hand computation for m = 2, and the IMEX energy
 *     identity on one step.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"

/* Central differences with h = cbrt(eps) max(1, |x|) are accurate to ~1e-10 relative to the
 * loss's scale (truncation h^2 ~ 4e-11, rounding eps/h ~ 4e-11, times modest derivatives);
 * 1e-7 leaves three orders of margin, far below the O(1) error of a wrong gradient. */
#define FD_TOL 1e-7
/* Results that are the same arithmetic in a different order: a few ulps. */
#define ROUND_TOL 1e-14
/* The order window asked of rnn_converge in these tests (the order.* checks allow 0.15). */
#define ORDER_TOL 0.1

/* ---- rnn_fit_line ------------------------------------------------------------------------------ */

Test(analysis, fit_line_exact)
{
    const double x[5] = {0, 1, 2, 3, 4}, y[5] = {2, -1, -4, -7, -10}; /* y = 2 - 3x */
    double b = 0, se = -1, a = 0;
    cr_assert_eq(rnn_fit_line(5, x, y, &b, &se, &a), RNN_OK, "fit");
    cr_assert_leq(fabs(b + 3.0), ROUND_TOL, "slope %.17g", b);
    cr_assert_leq(fabs(a - 2.0), ROUND_TOL, "intercept %.17g", a);
    /* the residuals are zero up to rounding of the means: the standard error is ~0 */
    cr_assert(se >= 0 && se <= ROUND_TOL, "standard error %.3e on exact data", se);
    /* two points: a line through both, standard error exactly 0 (nothing to estimate from) */
    cr_assert_eq(rnn_fit_line(2, x + 1, y + 1, &b, &se, &a), RNN_OK, "two points");
    cr_assert_leq(fabs(b + 3.0), ROUND_TOL, "slope through two points");
    cr_assert_eq(se, 0.0, "standard error with two points");
    /* optional outputs may be NULL */
    cr_assert_eq(rnn_fit_line(5, x, y, &b, NULL, NULL), RNN_OK, "NULL se and intercept");
}

Test(analysis, fit_line_noisy)
{
    double x[20], y[20];
    for (size_t i = 0; i < 20; i++) {
        x[i] = 0.5 * (double)i;
        y[i] = 1.0 + 0.5 * x[i] + 0.05 * sin(3.7 * (double)i); /* deterministic "noise" */
    }
    double b, se, a;
    cr_assert_eq(rnn_fit_line(20, x, y, &b, &se, &a), RNN_OK, "fit");
    cr_assert_gt(se, 0.0, "a positive standard error on noisy data");
    cr_assert_lt(se, 0.05, "but a small one: %.3e", se);
    cr_assert_leq(fabs(b - 0.5), 5 * se, "slope %.6f within 5 standard errors of 0.5", b);
}

Test(analysis, fit_line_invalid)
{
    double x[3] = {0, 1, 2}, y[3] = {1, 2, 3}, b, se, a;
    cr_assert_eq(rnn_fit_line(1, x, y, &b, &se, &a), RNN_EINVAL, "n = 1");
    cr_assert_eq(rnn_fit_line(0, x, y, &b, &se, &a), RNN_EINVAL, "n = 0");
    y[1] = NAN;
    cr_assert_eq(rnn_fit_line(3, x, y, &b, &se, &a), RNN_EINVAL, "NaN in y");
    y[1] = 2;
    x[2] = NAN;
    cr_assert_eq(rnn_fit_line(3, x, y, &b, &se, &a), RNN_EINVAL, "NaN in x");
    x[2] = INFINITY;
    cr_assert_eq(rnn_fit_line(3, x, y, &b, &se, &a), RNN_EINVAL, "infinite x");
}

/* ---- BPTT ------------------------------------------------------------------------------------- */

/* L = 1/2 ||s_N - target||^2 by our own forward loop: s_{k+1} = step(s_k, u(k dt)) at t = k dt. */
static double own_loss(const rnn_cell *c, const rnn_input *in, const double *s0, size_t N,
                       const double *target)
{
    const size_t n = c->n_state;
    double s[32], sn[32], u[8];
    memcpy(s, s0, n * sizeof(double));
    const double dt = rnn_cell_dt(c);
    for (size_t k = 0; k < N; k++) {
        double t = (double)k * dt;
        rnn_input_eval(in, t, u);
        cr_assert_eq(rnn_cell_step(c, t, s, u, sn), RNN_OK, "step");
        memcpy(s, sn, n * sizeof(double));
    }
    double L = 0;
    for (size_t i = 0; i < n; i++)
        L += 0.5 * (s[i] - target[i]) * (s[i] - target[i]);
    return L;
}

static void check_bptt(const rnn_cell_type *type)
{
    enum { m = 3, d = 2, N = 12 };
    rnn_cell *c = rnn_cell_alloc(type, m, d, 77);
    rnn_input *in = rnn_input_alloc_sines(d, 78);
    cr_assert(c && in, "alloc");
    const size_t n = c->n_state, P = c->n_params;
    double S[(N + 1) * 2 * m], s0[2 * m], target[2 * m], gs0[2 * m], L;
    double *gth = malloc(P * sizeof(double)), *fd = malloc(P * sizeof(double));
    rnn_cell_random_state(c, 1, 1.0, s0);
    rnn_cell_random_state(c, 2, 1.0, target);
    for (size_t j = 0; j < P; j++)
        gth[j] = 123.0; /* must be overwritten, not accumulated */
    cr_assert_eq(rnn_bptt_gradient(c, in, s0, N, target, S, &L, gs0, gth), RNN_OK, "bptt");
    double L_own = own_loss(c, in, s0, N, target);
    cr_assert_leq(fabs(L - L_own), ROUND_TOL * fmax(1.0, L_own), "%s: L = %.17g, own %.17g", type->name, L, L_own);
    cr_assert(memcmp(S, s0, n * sizeof(double)) == 0, "S[0] = s0");

    /* dL/dtheta, every parameter */
    double worst = 0, scale = 1e-300;
    for (size_t j = 0; j < P; j++) {
        double p0 = c->params[j], h = cbrt(DBL_EPSILON) * fmax(1.0, fabs(p0));
        c->params[j] = p0 + h;
        rnn_cell_params_changed(c);
        double Lp = own_loss(c, in, s0, N, target);
        c->params[j] = p0 - h;
        rnn_cell_params_changed(c);
        double Lm = own_loss(c, in, s0, N, target);
        c->params[j] = p0;
        rnn_cell_params_changed(c);
        fd[j] = (Lp - Lm) / (2 * h);
        scale = fmax(scale, fabs(fd[j]));
    }
    for (size_t j = 0; j < P; j++)
        worst = fmax(worst, fabs(gth[j] - fd[j]));
    cr_assert_leq(worst / scale, FD_TOL, "%s: dL/dtheta max rel. error %.3e", type->name, worst / scale);

    /* dL/ds0 */
    worst = 0;
    scale = 1e-300;
    double fds[2 * m];
    for (size_t j = 0; j < n; j++) {
        double x0 = s0[j], h = cbrt(DBL_EPSILON) * fmax(1.0, fabs(x0));
        s0[j] = x0 + h;
        double Lp = own_loss(c, in, s0, N, target);
        s0[j] = x0 - h;
        double Lm = own_loss(c, in, s0, N, target);
        s0[j] = x0;
        fds[j] = (Lp - Lm) / (2 * h);
        scale = fmax(scale, fabs(fds[j]));
    }
    for (size_t j = 0; j < n; j++)
        worst = fmax(worst, fabs(gs0[j] - fds[j]));
    /* relative to the larger of the gradient and the loss: the rounding part of a central
     * difference is eps |L| / h, so a gradient far smaller than L (here dL/ds0 decays over N
     * steps to ~4e-4 of L) cannot be resolved better than that by its FD. */
    scale = fmax(scale, fabs(L));
    cr_assert_leq(worst / scale, FD_TOL, "%s: dL/ds0 max rel. error %.3e (L %.3e)", type->name,
                  worst / scale, L);
    free(gth);
    free(fd);
    rnn_input_free(in);
    rnn_cell_free(c);
}

Test(analysis, bptt_gradient_tanh_vs_own_fd)
{
    check_bptt(rnn_cell_tanh);
}

Test(analysis, bptt_gradient_cornn_vs_own_fd)
{
    check_bptt(rnn_cell_cornn);
}

/* ---- convergence -------------------------------------------------------------------------------- */

static void check_converge(const rnn_cell_type *type)
{
    enum { m = 4, d = 2 };
    rnn_cell *c = rnn_cell_alloc(type, m, d, 5);
    rnn_input *in = rnn_input_alloc_sines(d, 6);
    cr_assert(c && in, "alloc");
    double s0[2 * m];
    rnn_cell_random_state(c, 7, 0.5, s0);
    const double dt_before = rnn_cell_dt(c);
    rnn_converge_opts o;
    rnn_converge_opts_default(&o);
    rnn_converge_result r;
    char msg[512] = "";
    int rc = rnn_converge(c, in, s0, &o, &r, msg, sizeof msg);
    cr_assert_eq(rc, RNN_OK, "%s: %s", type->name, msg);
    cr_assert_leq(fabs(r.order - type->order), ORDER_TOL, "%s: fitted order %.4f, expected %d",
                  type->name, r.order, type->order);
    cr_assert_eq(r.ref_ok, 1, "%s: reference error %.2e not 1000x below min E", type->name, r.ref_error);
    cr_assert_eq(r.levels, o.levels, "levels");
    for (size_t k = 0; k < r.levels; k++) {
        double want = o.t_end / (double)(o.n0 << k);
        cr_assert_eq(r.dt[k], want, "%s: dt[%zu] = %g, expected t_end / (n0 2^k) = %g", type->name, k,
                     r.dt[k], want);
        cr_assert_gt(r.err[k], 0.0, "errors are positive");
        if (k > 0)
            cr_assert_lt(r.err[k], r.err[k - 1], "%s: the error falls as dt halves", type->name);
    }
    cr_assert(r.fit_first <= r.fit_last && r.fit_last == r.levels - 1 && r.fit_last - r.fit_first >= 2,
              "the fit uses at least the three finest levels");
    cr_assert_leq(r.ref_error * o.ref_margin, r.err[r.levels - 1], "ref_ok agrees with its definition");
    cr_assert_eq(rnn_cell_dt(c), dt_before, "%s: the cell's step size is restored", type->name);
    rnn_input_free(in);
    rnn_cell_free(c);
}

Test(analysis, converge_tanh_order_one)
{
    check_converge(rnn_cell_tanh);
}

Test(analysis, converge_cornn_order_one)
{
    check_converge(rnn_cell_cornn);
}

Test(analysis, converge_invalid_options)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, 2, 1, 1);
    rnn_input *in = rnn_input_alloc_sines(1, 1);
    double s0[2] = {0.1, -0.1};
    rnn_converge_result r;
    const double dt_before = rnn_cell_dt(c);
    rnn_converge_opts o;
    char msg[512];
    for (int which = 0; which < 6; which++) {
        rnn_converge_opts_default(&o);
        const char *what = "";
        switch (which) {
        case 0: o.levels = 2; what = "levels = 2 (< 3)"; break;
        case 1: o.levels = RNN_CONVERGE_MAX_LEVELS + 1; what = "too many levels"; break;
        case 2: o.n0 = 0; what = "n0 = 0"; break;
        case 3: o.t_end = 0; what = "t_end = 0"; break;
        case 4: o.ref_rtol = -1; what = "ref_rtol < 0"; break;
        case 5: o.n0 = 100000000; what = "a finest level too large"; break;
        }
        msg[0] = '\0';
        cr_assert_eq(rnn_converge(c, in, s0, &o, &r, msg, sizeof msg), RNN_EINVAL, "%s", what);
        cr_assert(msg[0] != '\0', "%s: a message", what);
    }
    cr_assert_eq(rnn_cell_dt(c), dt_before, "dt untouched");
    rnn_input_free(in);
    rnn_cell_free(c);
}

/* ---- coRNN energy ------------------------------------------------------------------------------- */

Test(analysis, cornn_energy_helpers_by_hand_m2)
{
    enum { m = 2, d = 1 };
    rnn_cell *c = rnn_cell_alloc(rnn_cell_cornn, m, d, 11);
    cr_assert_not_null(c, "alloc");
    char msg[256];
    cr_assert_eq(rnn_cell_set_hyper(c, "dt", 0.3, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert_eq(rnn_cell_set_hyper(c, "gamma", 1.7, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert_eq(rnn_cell_set_hyper(c, "eps", 0.9, msg, sizeof msg), RNN_OK, "%s", msg);
    const double dt = 0.3, gamma = 1.7, eps = 0.9;

    /* E = gamma (y0^2 + y1^2) + z0^2 + z1^2 for s = (0.5, -1, 2, 0.25): 1.7 * 1.25 + 4.0625 */
    const double s[4] = {0.5, -1.0, 2.0, 0.25};
    cr_assert_leq(fabs(rnn_cornn_energy(m, gamma, s) - (1.7 * 1.25 + 4.0625)), ROUND_TOL * 10,
                  "energy %.17g", rnn_cornn_energy(m, gamma, s));
    cr_assert_eq(rnn_cornn_energy(m, 0.0, s), 4.0625, "gamma = 0: only ||z||^2");

    /* forcing sigma(a), a = W y + Wz z + V u + b, written out for m = 2, d = 1 */
    const double *W = c->params + rnn_cell_block(c, "W")->offset,
                 *Wz = c->params + rnn_cell_block(c, "Wz")->offset,
                 *V = c->params + rnn_cell_block(c, "V")->offset,
                 *b = c->params + rnn_cell_block(c, "b")->offset;
    const double u[1] = {0.8};
    double sig[2];
    for (int i = 0; i < 2; i++)
        sig[i] = tanh(W[2 * i] * s[0] + W[2 * i + 1] * s[1] + Wz[2 * i] * s[2] + Wz[2 * i + 1] * s[3] +
                      V[i] * u[0] + b[i]);
    double fsq = sig[0] * sig[0] + sig[1] * sig[1];
    cr_assert_leq(fabs(rnn_cornn_forcing_sq(c, s, u) - fsq), ROUND_TOL, "forcing_sq %.17g vs %.17g",
                  rnn_cornn_forcing_sq(c, s, u), fsq);

    /* the identity's right-hand side for an arbitrary next state */
    const double sn[4] = {0.1, 0.2, -0.3, 0.4};
    double dz0 = sn[2] - s[2], dz1 = sn[3] - s[3];
    double rhs = -(dz0 * dz0 + dz1 * dz1) + 2 * dt * (sig[0] * sn[2] + sig[1] * sn[3]) +
                 dt * (gamma * dt - 2 * eps) * (sn[2] * sn[2] + sn[3] * sn[3]);
    double got = rnn_cornn_energy_identity_rhs(c, s, u, sn);
    cr_assert_leq(fabs(got - rhs), ROUND_TOL * 10, "identity rhs %.17g, hand %.17g", got, rhs);

    /* and for the actual IMEX step the identity holds: E_n - E_{n-1} equals it (THEORY.md §4.2)
     * up to the rounding of O(10) quantities */
    double next[4];
    cr_assert_eq(rnn_cell_step(c, 0.0, s, u, next), RNN_OK, "step");
    double dE = rnn_cornn_energy(m, gamma, next) - rnn_cornn_energy(m, gamma, s);
    double id = rnn_cornn_energy_identity_rhs(c, s, u, next);
    cr_assert_leq(fabs(dE - id), 1e-13 * rnn_cornn_energy(m, gamma, s), "IMEX identity: dE %.17g, rhs %.17g", dE, id);
    rnn_cell_free(c);
}

/* Trimming (the order-aware defaults): the halving stops at the first level the reference cannot
 * resolve, and every level used is 1000x above the reference's error. rk:rk4:tanh from dt_0 = 2
 * reaches rk8pd's rounding floor (~1e-15) near dt = 2^-9, and its fitted order is 4. */
Test(analysis, converge_trims_to_the_reference)
{
    char msg[512] = "";
    const rnn_cell_type *T = rnn_rk_type("rk4", "tanh", msg, sizeof msg);
    cr_assert_not_null(T, "%s", msg);
    rnn_cell *c = rnn_cell_alloc(T, 8, 2, 2);
    rnn_input *in = rnn_input_alloc_sines(2, 6);
    double s0[8];
    rnn_cell_random_state(c, 7, 0.5, s0);
    rnn_converge_opts o;
    rnn_converge_opts_for_order(&o, 4, 1);
    cr_assert(o.trim && o.ref_rk8pd, "order 4: rk8pd reference, trimmed");
    o.levels = 14; /* far past the floor: trimming must stop it */
    rnn_converge_result r;
    cr_assert_eq(rnn_converge(c, in, s0, &o, &r, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert_lt(r.levels, o.levels, "trimmed: %zu of %zu levels", r.levels, o.levels);
    cr_assert_geq(r.levels, 6, "at least 6 levels (K >= 5) resolved");
    for (size_t k = 0; k < r.levels; k++)
        cr_assert_geq(r.err[k], o.ref_margin * r.ref_error, "level %zu resolved", k);
    cr_assert(r.ref_ok, "reference ok on the levels used");
    cr_assert_leq(fabs(r.order - 4.0), ORDER_TOL, "fitted order %.4f", r.order);
    rnn_input_free(in);
    rnn_cell_free(c);
}
