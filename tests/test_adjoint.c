/*
 * test_adjoint.c — unit tests of the continuous adjoint (solvers/adjoint.c):
 * rnn_adjoint_terminal_gradient computes dL/ds0 for L = 1/2 ||s(T) - target||^2 of
 * s' = f(s, t) by CVODES: lambda' = -J^T lambda, lambda(T) = s(T) - target, dL/ds0 = lambda(0).
 *
 *   - closed form, smooth: the linear problem of experiments/exact_linear.c,
 *     s' = A s + c0 + v cos(nu t) with A = blockdiag([[-a, w], [-w, -a]]), whose gradient is
 *     dL/ds0 = exp(A T)^T (s(T) - target), exp(B T) = e^{-aT} [[cos wT, sin wT], [-sin wT, cos wT]]
 *     and s(T) in closed form; the error falls with the tolerance;
 *   - closed form, with knots: the same A with a piecewise-constant forcing c_k on
 *     [k h, (k+1) h) (the problem's next_knot gives the jumps), s(T) composed piece by piece:
 *     s(t + tau) = exp(B tau) (s(t) - s_c) + s_c, s_c = -B^{-1} c_k;
 *   - a cell (tanh, m = 4) against a reference free of forward sensitivities: fourth-order
 *     central differences of L through rnn_cvode_solve at tight tolerances, with the smooth
 *     `sines` input and with a held Gaussian sequence (knots, where J jumps too);
 *   - failures: max_steps too small for the forward solve, and a Jacobian that fails only
 *     backward in time, give RNN_ESOLVER with a message naming the call, the phase, CVODES'
 *     flag and the problem;
 *   - argument errors: NULL pointers, t0 >= T, non-finite times, bad tolerances and counts,
 *     a problem without a Jacobian, non-finite initial states, knots that do not advance.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "experiments.h"
#include "solvers.h"

static double max_abs(size_t n, const double *x)
{
    double v = 0;
    for (size_t i = 0; i < n; i++)
        v = fmax(v, fabs(x[i]));
    return v;
}

static double rel_err(size_t n, const double *a, const double *ref)
{
    double e = 0;
    for (size_t i = 0; i < n; i++)
        e = fmax(e, fabs(a[i] - ref[i]));
    return e / max_abs(n, ref);
}

/* g = exp(A T)^T r for A = blockdiag([[-a_k, w_k], [-w_k, -a_k]]). */
static void exp_transpose_times(size_t blocks, const double *a, const double *w, double T,
                                const double *r, double *g)
{
    for (size_t k = 0; k < blocks; k++) {
        double e = exp(-a[k] * T), c = cos(w[k] * T), s = sin(w[k] * T);
        const double *rk = r + 2 * k;
        /* exp(B T)^T = e^{-aT} [[c, -s], [s, c]] */
        g[2 * k] = e * (c * rk[0] - s * rk[1]);
        g[2 * k + 1] = e * (s * rk[0] + c * rk[1]);
    }
}

static void adjoint_opts(rnn_adjoint_opts *o, double rtol)
{
    rnn_adjoint_opts_default(o);
    o->rtol = o->rtol_b = rtol;
    o->atol = o->atol_b = rtol * 1e-2;
}

/* ---- closed form, smooth forcing --------------------------------------------------------- */

/* With rtol = atol * 100 for both passes, the measured relative gradient error on this problem
 * (seed 17, 3 blocks, T = 3) is 14 rtol at rtol 1e-10 (6 rtol at 1e-6); 100 rtol leaves a
 * margin for other platforms while still separating a right gradient from a wrong one (a
 * transposed exp(A T) is off by O(1)). */
#define LINEAR_FACTOR 100.0

static double linear_gradient_error(double rtol, rnn_adjoint_stats *st)
{
    rnn_exact_linear p;
    rnn_exact_linear_make(&p, 3, 17);
    const size_t n = 2 * p.blocks;
    const double T = 3.0;
    rnn_ode ode = rnn_exact_linear_ode(&p);
    double target[16], sT_exact[16], r[16], g_exact[16], g[16], sT[16], L;
    for (size_t i = 0; i < n; i++)
        target[i] = 0.3 * (double)i - 0.7;
    rnn_exact_linear_solution(&p, T, sT_exact);
    double L_exact = 0;
    for (size_t i = 0; i < n; i++) {
        r[i] = sT_exact[i] - target[i];
        L_exact += 0.5 * r[i] * r[i];
    }
    exp_transpose_times(p.blocks, p.a, p.w, T, r, g_exact);
    rnn_adjoint_opts o;
    adjoint_opts(&o, rtol);
    char msg[512];
    int rc = rnn_adjoint_terminal_gradient(&ode, 0.0, T, p.s0, target, &o, sT, &L, g, st, msg,
                                           sizeof msg);
    cr_assert_eq(rc, RNN_OK, "rtol %g: %s", rtol, msg);
    cr_assert_leq(rel_err(n, sT, sT_exact), LINEAR_FACTOR * rtol, "s(T) at rtol %g", rtol);
    cr_assert_leq(fabs(L - L_exact), LINEAR_FACTOR * rtol * L_exact, "L at rtol %g", rtol);
    return rel_err(n, g, g_exact);
}

Test(adjoint, linear_closed_form)
{
    rnn_adjoint_stats st;
    double e = linear_gradient_error(1e-10, &st);
    cr_assert_leq(e, LINEAR_FACTOR * 1e-10, "relative gradient error %.3e > %g rtol", e,
                  LINEAR_FACTOR);
    cr_assert_eq(st.segments, 1, "no knots: one segment, got %zu", st.segments);
    cr_assert_gt(st.fwd_steps, 0, "forward steps counted");
    cr_assert_gt(st.bwd_steps, 0, "backward steps counted");
    cr_assert_gt(st.checkpoints, 0, "checkpoints counted");
}

Test(adjoint, linear_error_falls_with_tolerance)
{
    double e6 = linear_gradient_error(1e-6, NULL), e10 = linear_gradient_error(1e-10, NULL);
    /* four decades of tolerance: ask for at least two decades of error */
    cr_assert_leq(e10, 1e-2 * e6, "error at rtol 1e-10 (%.3e) vs 1e-6 (%.3e)", e10, e6);
}

/* ---- closed form, piecewise-constant forcing (knots) -------------------------------------- */

typedef struct {
    rnn_exact_linear p; /* a, w of the blocks; s0 */
    size_t pieces;      /* forcing c_k on [k h, (k+1) h), the last held beyond */
    double h;
    double c[8][16];
} pw_linear;

/* No slack here (unlike rnn_input_eval's hold, whose 1e-9 h slack moves each jump 1e-9 h
 * before its knot: an O(1e-9 h |c_k - c_{k-1}|) change of s(T) that the closed form below
 * would see as an error floor near 1e-9). At t = k h itself floor may give k - 1: the left
 * limit, harmless, since the solver stops there. */
static size_t pw_piece(const pw_linear *q, double t)
{
    double k = floor(t / q->h);
    return k <= 0 ? 0 : (k >= (double)(q->pieces - 1) ? q->pieces - 1 : (size_t)k);
}

static int pw_rhs(double t, const double *s, double *f, void *ctx)
{
    const pw_linear *q = ctx;
    const double *c = q->c[pw_piece(q, t)];
    for (size_t k = 0; k < q->p.blocks; k++) {
        const double a = q->p.a[k], w = q->p.w[k], y0 = s[2 * k], y1 = s[2 * k + 1];
        f[2 * k] = -a * y0 + w * y1 + c[2 * k];
        f[2 * k + 1] = -w * y0 - a * y1 + c[2 * k + 1];
    }
    return 0;
}

static int pw_jac(double t, const double *s, double *J, void *ctx)
{
    const pw_linear *q = ctx;
    return rnn_exact_linear_ode(&q->p).jac(t, s, J, (void *)&q->p);
}

static double pw_knot(double t, void *ctx)
{
    const pw_linear *q = ctx;
    double k = floor(t / q->h + 1e-9) + 1;
    if (k < 1)
        k = 1;
    return k > (double)(q->pieces - 1) ? INFINITY : k * q->h;
}

/* s(t + tau) = exp(B tau) (s - s_c) + s_c per block, s_c = [[a, w], [-w, a]] c / (a^2 + w^2) */
static void pw_advance(const pw_linear *q, const double *c, double tau, double *s)
{
    for (size_t k = 0; k < q->p.blocks; k++) {
        const double a = q->p.a[k], w = q->p.w[k], det = a * a + w * w;
        const double *ck = c + 2 * k;
        double sc[2] = {(a * ck[0] + w * ck[1]) / det, (-w * ck[0] + a * ck[1]) / det};
        double x0 = s[2 * k] - sc[0], x1 = s[2 * k + 1] - sc[1];
        double e = exp(-a * tau), cw = cos(w * tau), sw = sin(w * tau);
        s[2 * k] = e * (cw * x0 + sw * x1) + sc[0];
        s[2 * k + 1] = e * (-sw * x0 + cw * x1) + sc[1];
    }
}

/* With knots CVODE restarts at order 1 at each of them, and the global error of s(T) grows with
 * the number of restarts: on this problem (7 segments) the measured relative errors of s(T)
 * and of the gradient are 50-60 rtol at rtol 1e-10 (4-220 rtol over rtol 1e-6..1e-13), and
 * rnn_cvode_solve's s(T) has the same error. A lost knot, a lambda not carried across one or
 * a segment out of order is off by O(1e-2) or more. */
#define KNOT_FACTOR 1000.0

Test(adjoint, linear_with_knots_closed_form)
{
    pw_linear q;
    rnn_exact_linear_make(&q.p, 3, 17);
    q.pieces = 8;
    q.h = 0.4;
    const size_t n = 2 * q.p.blocks;
    gsl_rng *r = rnn_rng_alloc(5, "test:pw-forcing", 0);
    for (size_t k = 0; k < q.pieces; k++)
        rnn_fill_gaussian(r, 2.0, n, q.c[k]);
    gsl_rng_free(r);
    /* T = 2.5 lies inside piece 6: knots at 0.4 .. 2.4, seven segments */
    const double T = 2.5;
    rnn_ode ode = {.n = n, .rhs = pw_rhs, .jac = pw_jac, .next_knot = pw_knot, .ctx = &q,
                   .name = "pw-linear"};

    double s[16], target[16], rres[16], g_exact[16], g[16], sT[16];
    memcpy(s, q.p.s0, n * sizeof(double));
    double t = 0;
    while (t < T) {
        double next = fmin(pw_knot(t, &q), T);
        pw_advance(&q, q.c[pw_piece(&q, t)], next - t, s);
        t = next;
    }
    for (size_t i = 0; i < n; i++) {
        target[i] = 0.5 - 0.2 * (double)i;
        rres[i] = s[i] - target[i];
    }
    exp_transpose_times(q.p.blocks, q.p.a, q.p.w, T, rres, g_exact);

    rnn_adjoint_opts o;
    adjoint_opts(&o, 1e-10);
    rnn_adjoint_stats st;
    char msg[512];
    int rc = rnn_adjoint_terminal_gradient(&ode, 0.0, T, q.p.s0, target, &o, sT, NULL, g, &st,
                                           msg, sizeof msg);
    cr_assert_eq(rc, RNN_OK, "%s", msg);
    cr_assert_eq(st.segments, 7, "knots 0.4..2.4 in (0, 2.5): 7 segments, got %zu", st.segments);
    double es = rel_err(n, sT, s), eg = rel_err(n, g, g_exact);
    cr_assert_leq(es, KNOT_FACTOR * 1e-10, "s(T) error %.3e", es);
    cr_assert_leq(eg, KNOT_FACTOR * 1e-10, "gradient error %.3e", eg);
}

/* ---- a cell against central differences of L through rnn_cvode_solve --------------------- */

/* Fourth-order central differences, step FD_H max(1, |s0_i|): truncation ~ H^4 |L^(5)| / 30
 * ~ 3e-10, CVODE's noise at rtol 1e-12 ~ 1e-12 |L| / H ~ 1e-10; so 1e-7 relative to the
 * largest entry is far above both and far below any real error (a wrong transpose, a lost
 * knot or a wrong sign is O(1e-2) or more). */
#define FD_H 1e-2
#define FD_TOL 1e-7

typedef struct {
    const rnn_ode *ode;
    double T;
    const double *target;
} fd_ctx;

static double loss(const fd_ctx *f, const double *s0)
{
    rnn_cvode_opts o;
    rnn_cvode_opts_default(&o);
    o.rtol = 1e-12;
    o.atol = 1e-14;
    o.max_steps = 1000000;
    double sT[64];
    char msg[512];
    int rc = rnn_cvode_solve(f->ode, 0.0, s0, 1, &f->T, sT, &o, NULL, msg, sizeof msg);
    cr_assert_eq(rc, RNN_OK, "%s", msg);
    double L = 0;
    for (size_t i = 0; i < f->ode->n; i++)
        L += 0.5 * (sT[i] - f->target[i]) * (sT[i] - f->target[i]);
    return L;
}

static void fd_gradient(const fd_ctx *f, const double *s0, double *g)
{
    const size_t n = f->ode->n;
    double x[64];
    for (size_t i = 0; i < n; i++) {
        memcpy(x, s0, n * sizeof(double));
        const double h = FD_H * fmax(1.0, fabs(s0[i]));
        double L[4];
        static const double off[4] = {2, 1, -1, -2};
        for (int k = 0; k < 4; k++) {
            x[i] = s0[i] + off[k] * h;
            L[k] = loss(f, x);
        }
        g[i] = (-L[0] + 8 * L[1] - 8 * L[2] + L[3]) / (12 * h);
    }
}

static void cell_vs_fd(rnn_input *in, size_t expect_segments)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, 4, 2, 3);
    cr_assert_not_null(c);
    cr_assert_not_null(in);
    rnn_cell_ode_ctx ctx;
    rnn_ode ode;
    cr_assert_eq(rnn_cell_ode_bind(c, in, &ctx, &ode), RNN_OK);
    const size_t n = c->n_state;
    double s0[64], target[64], g[64], g_fd[64], L;
    rnn_cell_random_state(c, 11, 0.5, s0);
    rnn_cell_random_state(c, 12, 0.5, target);
    const double T = 2.0;
    rnn_adjoint_opts o;
    adjoint_opts(&o, 1e-12);
    rnn_adjoint_stats st;
    char msg[512];
    int rc = rnn_adjoint_terminal_gradient(&ode, 0.0, T, s0, target, &o, NULL, &L, g, &st, msg,
                                           sizeof msg);
    cr_assert_eq(rc, RNN_OK, "%s", msg);
    cr_assert_eq(st.segments, expect_segments, "segments %zu, expected %zu", st.segments,
                 expect_segments);
    fd_ctx f = {&ode, T, target};
    cr_assert_float_eq(L, loss(&f, s0), 1e-9 * L, "L agrees with rnn_cvode_solve");
    fd_gradient(&f, s0, g_fd);
    double e = rel_err(n, g, g_fd);
    cr_assert_leq(e, FD_TOL, "adjoint vs central differences: relative error %.3e", e);
    rnn_cell_ode_unbind(&ctx);
    rnn_input_free(in);
    rnn_cell_free(c);
}

Test(adjoint, tanh_cell_sines_vs_central_differences)
{
    cell_vs_fd(rnn_input_alloc_sines(2, 7), 1);
}

Test(adjoint, tanh_cell_hold_vs_central_differences)
{
    /* 8 samples every 0.25: knots at 0.25 .. 1.75, so 8 segments on [0, 2] */
    cell_vs_fd(rnn_input_alloc_gaussian(RNN_INPUT_HOLD, 2, 8, 0.0, 0.25, 9), 8);
}

Test(adjoint, tanh_cell_linear_vs_central_differences)
{
    /* linear: kinks at 0 (not inside (0, T)) and 0.3 .. 1.8: 7 segments on [0, 2] */
    cell_vs_fd(rnn_input_alloc_gaussian(RNN_INPUT_LINEAR, 2, 7, 0.0, 0.3, 9), 7);
}

/* ---- failures --------------------------------------------------------------------------- */

Test(adjoint, too_few_steps_fails_with_flag_and_message)
{
    rnn_exact_linear p;
    rnn_exact_linear_make(&p, 2, 17);
    rnn_ode ode = rnn_exact_linear_ode(&p);
    double target[4] = {0}, g[4];
    rnn_adjoint_opts o;
    adjoint_opts(&o, 1e-10);
    o.max_steps = 2;
    char msg[512] = "";
    int rc = rnn_adjoint_terminal_gradient(&ode, 0.0, 3.0, p.s0, target, &o, NULL, NULL, g, NULL,
                                           msg, sizeof msg);
    cr_assert_eq(rc, RNN_ESOLVER, "rc = %d (%s)", rc, msg);
    cr_assert(strstr(msg, "CVodeF") != NULL, "names the call: '%s'", msg);
    cr_assert(strstr(msg, "forward") != NULL, "names the phase: '%s'", msg);
    cr_assert(strstr(msg, "CV_TOO_MUCH_WORK") != NULL, "gives CVODES' flag: '%s'", msg);
    cr_assert(strstr(msg, "exact linear") != NULL, "names the problem: '%s'", msg);
    cr_assert(strstr(msg, "t = ") != NULL, "gives the time: '%s'", msg);
}

/* A Jacobian that fails (unrecoverably) for t < 1 once the forward solve has reached T = 3:
 * only the backward phase (the adjoint, or CVodeB's forward recomputation between
 * checkpoints) can ask for it there. */
typedef struct {
    rnn_exact_linear p;
    int armed;
} failing_ctx;

static int failing_rhs(double t, const double *s, double *f, void *ctx)
{
    failing_ctx *fc = ctx;
    if (t >= 3.0)
        fc->armed = 1;
    return rnn_exact_linear_ode(&fc->p).rhs(t, s, f, &fc->p);
}

static int failing_jac(double t, const double *s, double *J, void *ctx)
{
    failing_ctx *fc = ctx;
    if (fc->armed && t < 1.0)
        return -1;
    return rnn_exact_linear_ode(&fc->p).jac(t, s, J, &fc->p);
}

Test(adjoint, backward_failure_fails_with_flag_and_message)
{
    failing_ctx fc = {.armed = 0};
    rnn_exact_linear_make(&fc.p, 2, 17);
    rnn_ode ode = {.n = 4, .rhs = failing_rhs, .jac = failing_jac, .ctx = &fc,
                   .name = "backward-failing-problem"};
    double target[4] = {0}, g[4];
    rnn_adjoint_opts o;
    adjoint_opts(&o, 1e-8);
    char msg[512] = "";
    int rc = rnn_adjoint_terminal_gradient(&ode, 0.0, 3.0, fc.p.s0, target, &o, NULL, NULL, g,
                                           NULL, msg, sizeof msg);
    cr_assert_eq(rc, RNN_ESOLVER, "rc = %d (%s)", rc, msg);
    cr_assert(strstr(msg, "CVodeB") != NULL, "names the call: '%s'", msg);
    cr_assert(strstr(msg, "backward") != NULL, "names the phase: '%s'", msg);
    cr_assert(strstr(msg, "CV_") != NULL, "gives CVODES' flag: '%s'", msg);
    cr_assert(strstr(msg, "backward-failing-problem") != NULL, "names the problem: '%s'", msg);
}

Test(adjoint, backward_tolerance_too_tight_fails_in_cvodeb)
{
    rnn_exact_linear p;
    rnn_exact_linear_make(&p, 2, 17);
    rnn_ode ode = rnn_exact_linear_ode(&p);
    double target[4] = {0}, g[4];
    rnn_adjoint_opts o;
    adjoint_opts(&o, 1e-8);
    o.rtol_b = o.atol_b = 1e-300; /* the forward problem is fine; the adjoint cannot start */
    char msg[512] = "";
    int rc = rnn_adjoint_terminal_gradient(&ode, 0.0, 3.0, p.s0, target, &o, NULL, NULL, g, NULL,
                                           msg, sizeof msg);
    cr_assert_eq(rc, RNN_ESOLVER, "rc = %d (%s)", rc, msg);
    cr_assert(strstr(msg, "CVodeB") != NULL, "names the call: '%s'", msg);
    cr_assert(strstr(msg, "backward") != NULL, "names the phase: '%s'", msg);
    cr_assert(strstr(msg, "CV_TOO_MUCH_ACC") != NULL, "gives CVODES' flag: '%s'", msg);
}

/* ---- argument errors -------------------------------------------------------------------- */

static double knot_stuck(double t, void *ctx)
{
    (void)ctx;
    return t; /* never advances */
}

Test(adjoint, argument_errors)
{
    rnn_exact_linear p;
    rnn_exact_linear_make(&p, 2, 17);
    rnn_ode ode = rnn_exact_linear_ode(&p);
    double target[4] = {0}, g[4], s_nan[4] = {0, NAN, 0, 0};
    rnn_adjoint_opts o, bad;
    rnn_adjoint_opts_default(&o);
    char msg[512];
#define CALL(odep, t0, T, s0, tgt, opts, grad) \
    (msg[0] = '\0', rnn_adjoint_terminal_gradient(odep, t0, T, s0, tgt, opts, NULL, NULL, grad, \
                                                  NULL, msg, sizeof msg))
#define EXPECT(code, call, what)                                                      \
    do {                                                                              \
        int rc_ = (call);                                                             \
        cr_assert_eq(rc_, code, "%s: rc = %d, expected %d (%s)", what, rc_, code, msg); \
        cr_assert(msg[0] != '\0', "%s: a message", what);                             \
    } while (0)
    EXPECT(RNN_EINVAL, CALL(NULL, 0.0, 1.0, p.s0, target, &o, g), "NULL ode");
    EXPECT(RNN_EINVAL, CALL(&ode, 0.0, 1.0, NULL, target, &o, g), "NULL s0");
    EXPECT(RNN_EINVAL, CALL(&ode, 0.0, 1.0, p.s0, NULL, &o, g), "NULL target");
    EXPECT(RNN_EINVAL, CALL(&ode, 0.0, 1.0, p.s0, target, NULL, g), "NULL opts");
    EXPECT(RNN_EINVAL, CALL(&ode, 0.0, 1.0, p.s0, target, &o, NULL), "NULL grad");
    EXPECT(RNN_EINVAL, CALL(&ode, 1.0, 1.0, p.s0, target, &o, g), "T == t0");
    EXPECT(RNN_EINVAL, CALL(&ode, 1.0, 0.5, p.s0, target, &o, g), "T < t0");
    EXPECT(RNN_EINVAL, CALL(&ode, NAN, 1.0, p.s0, target, &o, g), "t0 NaN");
    EXPECT(RNN_EINVAL, CALL(&ode, 0.0, INFINITY, p.s0, target, &o, g), "T infinite");
    cr_assert(strstr(msg, "exact linear") != NULL, "names the problem: '%s'", msg);
    bad = o, bad.rtol = 0;
    EXPECT(RNN_EINVAL, CALL(&ode, 0.0, 1.0, p.s0, target, &bad, g), "rtol = 0");
    bad = o, bad.atol = -1;
    EXPECT(RNN_EINVAL, CALL(&ode, 0.0, 1.0, p.s0, target, &bad, g), "atol < 0");
    bad = o, bad.rtol_b = NAN;
    EXPECT(RNN_EINVAL, CALL(&ode, 0.0, 1.0, p.s0, target, &bad, g), "rtol_b NaN");
    bad = o, bad.atol_b = 0;
    EXPECT(RNN_EINVAL, CALL(&ode, 0.0, 1.0, p.s0, target, &bad, g), "atol_b = 0");
    bad = o, bad.max_steps = 0;
    EXPECT(RNN_EINVAL, CALL(&ode, 0.0, 1.0, p.s0, target, &bad, g), "max_steps = 0");
    bad = o, bad.checkpoint_steps = 0;
    EXPECT(RNN_EINVAL, CALL(&ode, 0.0, 1.0, p.s0, target, &bad, g), "checkpoint_steps = 0");
    EXPECT(RNN_ENONFINITE, CALL(&ode, 0.0, 1.0, s_nan, target, &o, g), "s0 NaN");
    EXPECT(RNN_ENONFINITE, CALL(&ode, 0.0, 1.0, p.s0, s_nan, &o, g), "target NaN");

    rnn_ode nojac = ode;
    nojac.jac = NULL;
    EXPECT(RNN_EUNSUPPORTED, CALL(&nojac, 0.0, 1.0, p.s0, target, &o, g), "no Jacobian");
    cr_assert(strstr(msg, "Jacobian") != NULL, "says a Jacobian is needed: '%s'", msg);
    rnn_ode norhs = ode;
    norhs.rhs = NULL;
    EXPECT(RNN_EINVAL, CALL(&norhs, 0.0, 1.0, p.s0, target, &o, g), "no right-hand side");
    rnn_ode empty = ode;
    empty.n = 0;
    EXPECT(RNN_EINVAL, CALL(&empty, 0.0, 1.0, p.s0, target, &o, g), "n = 0");
    rnn_ode stuck = ode;
    stuck.next_knot = knot_stuck;
    EXPECT(RNN_EINVAL, CALL(&stuck, 0.0, 1.0, p.s0, target, &o, g), "knots that do not advance");
    cr_assert(strstr(msg, "knot") != NULL, "says the knots are at fault: '%s'", msg);

    /* no msg buffer: still an error code, and no crash */
    cr_assert_eq(rnn_adjoint_terminal_gradient(&ode, 0.0, 1.0, p.s0, target, &o, NULL, NULL, g,
                                               NULL, NULL, 0),
                 RNN_EINVAL, "NULL msg");
#undef CALL
#undef EXPECT
}
