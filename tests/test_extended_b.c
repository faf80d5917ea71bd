/*
 * test_extended_b.c — cell-specific tests of `unitary`, `lipschitz` and `fastrnn` (the generic
 * Jacobian, VJP, batching and seeding tests of test_cells.c cover them through the registry).
 *
 *   unitary:   a step written out by hand for m = 2 (Q is a rotation by 2 atan(a s)); no forcing
 *              keeps the norm; the linear part is the implicit-midpoint step (local error
 *              O(dt^3) against the exact rotation) while the full step has local error O(dt^2)
 *              (first order: the forcing is Euler-like);
 *   lipschitz: beta = 1 gives A + A^T = -2 gamma_A I, beta = 0 a symmetric A (exactly); a step
 *              written out by hand for m = 3;
 *   fastrnn:   a step written out by hand; drift 0 is the Euler step and drift d adds exactly
 *              d h; the default is FastRNN's initial alpha = sigmoid(-3), beta = sigmoid(3);
 *   all three: the (n, t) class fields; the checks of experiments/odernn_extended_b.c pass.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cell.h"
#include "experiments.h"

/* Hand-written and library computations of the same O(1) quantities differ by the summation
 * order and the form of a few products: a few ulps. */
#define HAND_TOL 1e-14

static rnn_cell *make(const rnn_cell_type *t, size_t m, size_t d, unsigned long seed)
{
    rnn_cell *c = rnn_cell_alloc(t, m, d, seed);
    cr_assert_not_null(c, "alloc %s", t->name);
    return c;
}

static double *block(rnn_cell *c, const char *name)
{
    const rnn_block *b = rnn_cell_block(c, name);
    cr_assert_not_null(b, "%s: block %s", c->type->name, name);
    return c->params + b->offset;
}

static void set(rnn_cell *c, const char *name, double v)
{
    char msg[256];
    cr_assert_eq(rnn_cell_set_hyper(c, name, v, msg, sizeof msg), RNN_OK, "%s", msg);
}

static double norm2(size_t n, const double *x)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * x[i];
    return sqrt(s);
}

/* ---- unitary -------------------------------------------------------------------------------- */

/* m = 2: S = [[0, s], [-s, 0]], s = W01 - W10, and with a = dt/2
 * Q = [[1 - a^2 s^2, 2 a s], [-2 a s, 1 - a^2 s^2]] / (1 + a^2 s^2). */
static void unitary_hand_q(const rnn_cell *c, double dt, double Q[4])
{
    const double *W = c->params + rnn_cell_block(c, "W")->offset;
    const double s = W[1] - W[2], a = 0.5 * dt, k = 1.0 + a * a * s * s;
    Q[0] = Q[3] = (1.0 - a * a * s * s) / k;
    Q[1] = 2.0 * a * s / k;
    Q[2] = -Q[1];
}

Test(extended_b, unitary_m2_matches_hand_written_step)
{
    rnn_cell *c = make(rnn_cell_unitary, 2, 1, 11);
    const double dts[] = {0.1, 1.0, 3.0};
    for (int k = 0; k < 3; k++) {
        set(c, "dt", dts[k]);
        double Q[4], J[4], h[2] = {0.7, -0.4}, u[1] = {0.3}, out[2];
        unitary_hand_q(c, dts[k], Q);
        const double *U = block(c, "U"), *b = block(c, "b");
        cr_assert_eq(rnn_cell_step(c, 0.0, h, u, out), RNN_OK);
        cr_assert_eq(rnn_cell_step_jacobian(c, 0.0, h, u, J), RNN_OK);
        for (int i = 0; i < 2; i++) {
            double want = Q[2 * i] * h[0] + Q[2 * i + 1] * h[1] + dts[k] * tanh(U[i] * u[0] + b[i]);
            cr_assert_leq(fabs(out[i] - want), HAND_TOL, "dt = %g: h_n[%d] = %.17g, by hand %.17g",
                          dts[k], i, out[i], want);
            for (int j = 0; j < 2; j++)
                cr_assert_leq(fabs(J[2 * i + j] - Q[2 * i + j]), HAND_TOL, "J[%d][%d]", i, j);
        }
    }
    rnn_cell_free(c);
}

Test(extended_b, unitary_without_forcing_preserves_the_norm)
{
    enum { M = 6, N = 5000 };
    rnn_cell *c = make(rnn_cell_unitary, M, 2, 12);
    set(c, "dt", 0.7);
    memset(block(c, "U"), 0, M * 2 * sizeof(double));
    memset(block(c, "b"), 0, M * sizeof(double));
    rnn_cell_params_changed(c);
    double h[M], hn[M], u[2] = {1.0, -2.0};
    rnn_cell_random_state(c, 5, 1.0, h);
    const double n0 = norm2(M, h);
    double worst = 0;
    for (int k = 0; k < N; k++) {
        cr_assert_eq(rnn_cell_step(c, 0.0, h, u, hn), RNN_OK);
        memcpy(h, hn, sizeof h);
        worst = fmax(worst, fabs(norm2(M, h) / n0 - 1.0));
    }
    /* THEORY.md §5.3's 1e-12 over 10^4 steps; here half as many */
    cr_assert_leq(worst, 1e-12, "norm drift %.3e over %d steps", worst, N);
    rnn_cell_free(c);
}

/* The linear part against the exact flow exp(dt S) (a rotation by dt s for m = 2): the
 * implicit-midpoint error is s^3 dt^3 / 12 + O(dt^5), so halving dt divides it by 8. */
Test(extended_b, unitary_linear_part_is_second_order)
{
    rnn_cell *c = make(rnn_cell_unitary, 2, 1, 13);
    const double *W = block(c, "W");
    const double s = W[1] - W[2];
    double err[3];
    for (int k = 0; k < 3; k++) {
        const double dt = 0.2 / (double)(1 << k);
        set(c, "dt", dt);
        double J[4], h[2] = {0, 0}, u[1] = {0};
        cr_assert_eq(rnn_cell_step_jacobian(c, 0.0, h, u, J), RNN_OK);
        const double E[4] = {cos(dt * s), sin(dt * s), -sin(dt * s), cos(dt * s)};
        err[k] = 0;
        for (int i = 0; i < 4; i++)
            err[k] = fmax(err[k], fabs(J[i] - E[i]));
    }
    for (int k = 0; k < 2; k++)
        cr_assert(err[k] / err[k + 1] > 7.5 && err[k] / err[k + 1] < 8.5,
                  "local error ratio %.3f (want 8: order 2 on the linear part)", err[k] / err[k + 1]);
    rnn_cell_free(c);
}

/* With a constant input the exact solution over one step is
 * h(dt) = exp(dt S) h + S^{-1} (exp(dt S) - I) F, and the cell's step differs from it by
 * dt^2/2 S F + O(dt^3): halving dt divides the local error by 4 (global order 1). */
Test(extended_b, unitary_full_step_is_first_order)
{
    rnn_cell *c = make(rnn_cell_unitary, 2, 1, 14);
    const double *W = block(c, "W"), *U = block(c, "U"), *b = block(c, "b");
    const double s = W[1] - W[2], u[1] = {0.8};
    const double F[2] = {tanh(U[0] * u[0] + b[0]), tanh(U[1] * u[0] + b[1])};
    double err[3];
    for (int k = 0; k < 3; k++) {
        const double dt = 0.1 / (double)(1 << k), cs = cos(dt * s), sn = sin(dt * s);
        set(c, "dt", dt);
        double h[2] = {0.5, -0.3}, out[2];
        cr_assert_eq(rnn_cell_step(c, 0.0, h, u, out), RNN_OK);
        /* exp(dt S) = [[c, sn], [-sn, c]];  S^{-1} = [[0, -1/s], [1/s, 0]] */
        const double G[2] = {(cs - 1) * F[0] + sn * F[1], -sn * F[0] + (cs - 1) * F[1]};
        const double ex[2] = {cs * h[0] + sn * h[1] - G[1] / s, -sn * h[0] + cs * h[1] + G[0] / s};
        err[k] = fmax(fabs(out[0] - ex[0]), fabs(out[1] - ex[1]));
    }
    for (int k = 0; k < 2; k++)
        cr_assert(err[k] / err[k + 1] > 3.6 && err[k] / err[k + 1] < 4.4,
                  "local error ratio %.3f (want 4: the forcing makes the step first order)",
                  err[k] / err[k + 1]);
    rnn_cell_free(c);
}

/* ---- lipschitz ------------------------------------------------------------------------------ */

/* The ODE Jacobian with M_W = 0 and gamma_W = 0 is A_beta itself. */
static void lipschitz_a(rnn_cell *c, double beta, double gamma, double *A)
{
    set(c, "beta", beta);
    set(c, "gamma_A", gamma);
    set(c, "gamma_W", 0.0);
    memset(block(c, "MW"), 0, c->m * c->m * sizeof(double));
    rnn_cell_params_changed(c);
    double h[8] = {0}, u[2] = {0};
    cr_assert_eq(rnn_cell_ode_jacobian(c, 0.0, h, u, A), RNN_OK);
}

Test(extended_b, lipschitz_beta_one_is_antisymmetric_minus_gamma)
{
    enum { M = 7 };
    rnn_cell *c = make(rnn_cell_lipschitz, M, 2, 21);
    double A[M * M];
    lipschitz_a(c, 1.0, 0.3, A);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++)
            cr_assert_eq(A[i * M + j] + A[j * M + i], i == j ? -0.6 : 0.0,
                         "beta = 1: (A + A^T)[%d][%d] = %.17g", i, j, A[i * M + j] + A[j * M + i]);
    lipschitz_a(c, 0.0, 0.3, A);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++)
            cr_assert_eq(A[i * M + j], A[j * M + i], "beta = 0: A is symmetric");
    rnn_cell_free(c);
}

Test(extended_b, lipschitz_m3_matches_hand_written_step)
{
    enum { M = 3, D = 2 };
    rnn_cell *c = make(rnn_cell_lipschitz, M, D, 22);
    set(c, "beta", 0.6);
    set(c, "gamma_A", 0.2);
    set(c, "gamma_W", -0.1);
    set(c, "dt", 0.05);
    const double *MA = block(c, "MA"), *MW = block(c, "MW"), *U = block(c, "U"), *b = block(c, "b");
    const double beta = 0.6, dt = 0.05, h[M] = {0.3, -1.1, 0.6}, u[D] = {0.9, -0.2};
    double out[M];
    cr_assert_eq(rnn_cell_step(c, 0.0, h, u, out), RNN_OK);
    for (int i = 0; i < M; i++) {
        double Ah = 0, a = b[i];
        for (int j = 0; j < M; j++) {
            double A = (1 - beta) * (MA[i * M + j] + MA[j * M + i]) +
                       beta * (MA[i * M + j] - MA[j * M + i]) - (i == j ? 0.2 : 0.0);
            double Wb = (1 - beta) * (MW[i * M + j] + MW[j * M + i]) +
                        beta * (MW[i * M + j] - MW[j * M + i]) + (i == j ? 0.1 : 0.0);
            Ah += A * h[j];
            a += Wb * h[j];
        }
        for (int k = 0; k < D; k++)
            a += U[i * D + k] * u[k];
        double want = h[i] + dt * (Ah + tanh(a));
        cr_assert_leq(fabs(out[i] - want), HAND_TOL, "h_n[%d] = %.17g, by hand %.17g", i, out[i], want);
    }
    rnn_cell_free(c);
}

/* ---- fastrnn -------------------------------------------------------------------------------- */

Test(extended_b, fastrnn_m3_matches_hand_written_step)
{
    enum { M = 3, D = 2 };
    rnn_cell *c = make(rnn_cell_fastrnn, M, D, 31);
    set(c, "dt", 0.2);
    set(c, "rate", 1.5);
    set(c, "drift", 0.05);
    const double *W = block(c, "W"), *U = block(c, "U"), *b = block(c, "b");
    const double alpha = 0.3, beta = 1 - 0.3 + 0.05, h[M] = {0.4, -0.9, 0.2}, u[D] = {-0.5, 1.2};
    double out[M];
    cr_assert_eq(rnn_cell_step(c, 0.0, h, u, out), RNN_OK);
    for (int i = 0; i < M; i++) {
        double a = b[i];
        for (int j = 0; j < M; j++)
            a += W[i * M + j] * h[j];
        for (int k = 0; k < D; k++)
            a += U[i * D + k] * u[k];
        double want = alpha * tanh(a) + beta * h[i];
        cr_assert_leq(fabs(out[i] - want), HAND_TOL, "h_n[%d] = %.17g, by hand %.17g", i, out[i], want);
    }
    rnn_cell_free(c);
}

/* drift 0: the Euler step of the cell's own ODE; drift d: that plus exactly d h, a term that
 * does not shrink with dt (so the untied FastRNN is not consistent with the ODE). */
Test(extended_b, fastrnn_drift_is_an_inconsistent_term)
{
    enum { M = 5, D = 2 };
    rnn_cell *c = make(rnn_cell_fastrnn, M, D, 32);
    double h[M], u[D] = {0.4, -0.7}, f[M], a0[M], a1[M];
    rnn_cell_random_state(c, 9, 1.0, h);
    const double dt = rnn_cell_dt(c), d = 0.01;
    cr_assert_eq(rnn_cell_step(c, 0.0, h, u, a0), RNN_OK);
    cr_assert_eq(rnn_cell_ode_rhs(c, 0.0, h, u, f), RNN_OK);
    set(c, "drift", d);
    cr_assert_eq(rnn_cell_step(c, 0.0, h, u, a1), RNN_OK);
    for (int i = 0; i < M; i++) {
        cr_assert_leq(fabs(a0[i] - (h[i] + dt * f[i])), HAND_TOL, "drift 0 is Euler");
        cr_assert_leq(fabs((a1[i] - a0[i]) - d * h[i]), HAND_TOL, "drift adds d h");
        cr_assert_gt(fabs(a1[i] - (h[i] + dt * f[i])), 1e3 * HAND_TOL, "drift != 0 is not Euler");
    }
    rnn_cell_free(c);
}

Test(extended_b, fastrnn_default_is_fastrnn_initialisation)
{
    rnn_cell *c = make(rnn_cell_fastrnn, 4, 1, 33);
    const double alpha = rnn_cell_get_hyper(c, "rate") * rnn_cell_dt(c);
    const double beta = 1.0 - alpha + rnn_cell_get_hyper(c, "drift");
    cr_assert_leq(fabs(alpha - rnn_sigmoid(-3.0)), 1e-17, "alpha = sigmoid(-3)");
    cr_assert_leq(fabs(beta - rnn_sigmoid(3.0)), 2 * DBL_EPSILON, "beta = sigmoid(3)");
    rnn_cell_free(c);
}

/* ---- all three ------------------------------------------------------------------------------ */

Test(extended_b, class_fields_and_tableaux)
{
    const rnn_cell_type *cells[] = {rnn_cell_unitary, rnn_cell_lipschitz, rnn_cell_fastrnn};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(cells[i]->stages, 1u, "%s: n", cells[i]->name);
        cr_assert_eq(cells[i]->memory, 1u, "%s: t", cells[i]->name);
        cr_assert(cells[i]->class_derivation && cells[i]->class_derivation[0], "%s", cells[i]->name);
        cr_assert_eq(cells[i]->order, 1, "%s: order", cells[i]->name);
        cr_assert_eq(rnn_registry_find(cells[i]->name), cells[i], "registered");
    }
    cr_assert_null(rnn_cell_unitary->tableau, "the Cayley step is not forward Euler");
    cr_assert_str_eq(rnn_cell_lipschitz->tableau, "euler");
    cr_assert_str_eq(rnn_cell_fastrnn->tableau, "euler");
}

Test(extended_b, checks_pass)
{
    const rnn_check_ctx ctx = {RNN_TIER_QUICK, 1, NULL};
    int (*fns[])(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *) = {
        rnn_check_unitary_is_midpoint, rnn_check_lipschitz_numerical_range,
        rnn_check_fastrnn_is_euler};
    for (int i = 0; i < 3; i++) {
        rnn_check_result r = {0};
        cr_assert_eq(fns[i](&ctx, NULL, &r), RNN_OK, "%s", r.detail);
        cr_assert(r.pass, "%s", r.detail);
        cr_assert_leq(r.measured, r.threshold, "%s", r.detail);
    }
}
