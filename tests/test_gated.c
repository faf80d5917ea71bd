/*
 * test_gated.c — the gated cells `lstm` and `gru` (cells/lstm.c, cells/gru.c) and their checks
 * odernn.lstm-is-euler, odernn.gru-is-euler (experiments/odernn_popular.c).
 *
 * The generic tests (tests/test_cells.c) already cover Jacobians, VJPs, batching and seeding for
 * every registered cell. Here, what is specific to these two:
 *   - at dt = 1 each cell is the standard cell, written out by hand for m = 3 from per-gate
 *     matrices: bit for bit when the weights are dyadic (every pre-activation exact), to a few
 *     ulps with random weights;
 *   - the documented gate order (i, f, g, o) of the lstm's fused blocks, seen through saturated
 *     gates, and the initialisation (forget-gate bias = fbias);
 *   - the ODE right-hand side is the dt -> 0 limit of (s_n - s_{n-1}) / dt: exactly for gru (Euler)
 *     and for lstm's c; for lstm's h with the first-order defect dt (dh'/dc) c' of the
 *     partitioning, which the test predicts;
 *   - the block structure of lstm's step Jacobian (c-columns diagonal; the chain rule through c_n),
 *     and gru's step Jacobian = I + dt (ODE Jacobian);
 *   - the (n, t) class fields;
 *   - the two checks pass, and fail on plausible wrong cells: plain (unpartitioned) Euler of the
 *     LSTM ODE, and a GRU with the reset gate outside the product (PyTorch's variant).
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "experiments.h"

enum { M = 3, D = 2 };

/* Random weights: the cell's BLAS pre-activations and the loops here differ only in summation
 * order, a few ulps of O(1) numbers; 8 eps leaves a margin while a wrong term is O(0.01+). */
#define ULP_TOL (8 * DBL_EPSILON)
/* Rounding of the exact Euler structure: (s_n - s) / dt carries eps |s| / dt of rounding. */
#define QUOTIENT_ROUND(dt) (16 * DBL_EPSILON / (dt))

static const rnn_check_ctx CTX = {RNN_TIER_QUICK, 1, NULL};

static double max_abs(size_t n, const double *x)
{
    double v = 0;
    for (size_t i = 0; i < n; i++)
        v = fmax(v, fabs(x[i]));
    return v;
}

static double *blk(rnn_cell *c, const char *name)
{
    const rnn_block *b = rnn_cell_block(c, name);
    cr_assert_not_null(b, "%s has a block %s", c->type->name, name);
    return c->params + b->offset;
}

/* A dyadic weight in [-1/2, 1/2], a multiple of 1/8: products with multiples of 1/4 are exact. */
static double dyadic(size_t i, size_t salt)
{
    return (double)((int)((i * 5 + salt * 3) % 9) - 4) / 8.0;
}

/* ---- LSTM ------------------------------------------------------------------------------------ */

/* Per-gate weights of a standard LSTM, gates 0..3 = i, f, g, o. */
typedef struct {
    double W[4][M][M], U[4][M][D], b[4][M];
} lstm_ref;

static void lstm_ref_to_cell(const lstm_ref *p, rnn_cell *c)
{
    double *W = blk(c, "W"), *U = blk(c, "U"), *b = blk(c, "b");
    for (size_t k = 0; k < 4; k++)
        for (size_t i = 0; i < M; i++) {
            for (size_t j = 0; j < M; j++)
                W[(k * M + i) * M + j] = p->W[k][i][j];
            for (size_t j = 0; j < D; j++)
                U[(k * M + i) * D + j] = p->U[k][i][j];
            b[k * M + i] = p->b[k][i];
        }
    rnn_cell_params_changed(c);
}

static void lstm_ref_from_cell(rnn_cell *c, lstm_ref *p)
{
    const double *W = blk(c, "W"), *U = blk(c, "U"), *b = blk(c, "b");
    for (size_t k = 0; k < 4; k++)
        for (size_t i = 0; i < M; i++) {
            for (size_t j = 0; j < M; j++)
                p->W[k][i][j] = W[(k * M + i) * M + j];
            for (size_t j = 0; j < D; j++)
                p->U[k][i][j] = U[(k * M + i) * D + j];
            p->b[k][i] = b[k * M + i];
        }
}

/* c_n = f c + i g, h_n = o tanh(c_n): Hochreiter & Schmidhuber 1997 with Gers' forget gate. */
static void lstm_by_hand(const lstm_ref *p, const double *s, const double *u, double *out)
{
    const double *h = s, *c = s + M;
    for (size_t i = 0; i < M; i++) {
        double a[4];
        for (size_t k = 0; k < 4; k++) {
            a[k] = p->b[k][i];
            for (size_t j = 0; j < M; j++)
                a[k] += p->W[k][i][j] * h[j];
            for (size_t j = 0; j < D; j++)
                a[k] += p->U[k][i][j] * u[j];
        }
        double gi = rnn_sigmoid(a[0]), gf = rnn_sigmoid(a[1]), gg = tanh(a[2]), go = rnn_sigmoid(a[3]);
        out[M + i] = gf * c[i] + gi * gg;
        out[i] = go * tanh(out[M + i]);
    }
}

Test(gated, lstm_at_dt_one_is_the_standard_lstm_bit_for_bit)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_lstm, M, D, 1);
    cr_assert_not_null(c);
    cr_assert_eq(rnn_cell_get_hyper(c, "dt"), 1.0, "the default dt of lstm is 1");
    cr_assert_eq(c->n_state, 2 * M, "state (h, c)");
    lstm_ref p;
    for (size_t k = 0; k < 4; k++)
        for (size_t i = 0; i < M; i++) {
            for (size_t j = 0; j < M; j++)
                p.W[k][i][j] = dyadic(i * M + j, k);
            for (size_t j = 0; j < D; j++)
                p.U[k][i][j] = dyadic(i * D + j, k + 4);
            p.b[k][i] = dyadic(i, k + 8);
        }
    lstm_ref_to_cell(&p, c);
    /* h and c multiples of 1/4: every pre-activation is exact in any summation order, so the
     * comparison can be ==. The sigmoid is the library's on both sides on purpose: this test is
     * about the update formulas, not the activation. */
    const double s[2 * M] = {0.75, -0.5, 0.25, 1.5, -0.75, 0.5}, u[D] = {-1.25, 0.5};
    double out[2 * M], ref[2 * M];
    cr_assert_eq(rnn_cell_step(c, 0.0, s, u, out), RNN_OK);
    lstm_by_hand(&p, s, u, ref);
    for (size_t i = 0; i < 2 * M; i++)
        cr_assert(out[i] == ref[i], "%s[%zu]: cell %.17g, standard LSTM %.17g", i < M ? "h" : "c",
                  i % M, out[i], ref[i]);
    /* Random (seeded) weights and state: equal to the rounding of the pre-activations. */
    rnn_cell_init(c, 99);
    lstm_ref_from_cell(c, &p);
    double s2[2 * M], u2[D] = {0.3, -1.7};
    rnn_cell_random_state(c, 5, 1.0, s2);
    cr_assert_eq(rnn_cell_step(c, 0.0, s2, u2, out), RNN_OK);
    lstm_by_hand(&p, s2, u2, ref);
    for (size_t i = 0; i < 2 * M; i++)
        cr_assert_leq(fabs(out[i] - ref[i]), ULP_TOL * max_abs(2 * M, ref), "entry %zu: %.17g vs %.17g",
                      i, out[i], ref[i]);
    rnn_cell_free(c);
}

/* The gate order (i, f, g, o) of the fused blocks, seen through saturated gates: with W = U = 0
 * the gates are constants, sig(+-40) = 1 or 4e-18. */
Test(gated, lstm_gate_order_is_i_f_g_o)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_lstm, M, D, 1);
    cr_assert_not_null(c);
    memset(c->params, 0, c->n_params * sizeof(double));
    double *b = blk(c, "b");
    const double s[2 * M] = {0.1, 0.2, 0.3, 0.7, -0.4, 1.1}, u[D] = {1, -1};
    double out[2 * M];
    /* input gate closed, forget gate open, output gate open: c is kept, h = tanh(c) */
    for (size_t i = 0; i < M; i++)
        b[0 * M + i] = -40, b[1 * M + i] = 40, b[2 * M + i] = 0.5, b[3 * M + i] = 40;
    rnn_cell_params_changed(c);
    cr_assert_eq(rnn_cell_step(c, 0.0, s, u, out), RNN_OK);
    for (size_t i = 0; i < M; i++) {
        cr_assert_leq(fabs(out[M + i] - s[M + i]), 1e-16, "c kept: %.17g vs %.17g", out[M + i], s[M + i]);
        cr_assert_leq(fabs(out[i] - tanh(s[M + i])), 1e-16, "h = tanh(c)");
    }
    /* input gate open, forget gate closed, output gate closed: c = g = tanh(b_g), h = 0 */
    for (size_t i = 0; i < M; i++)
        b[0 * M + i] = 40, b[1 * M + i] = -40, b[3 * M + i] = -40;
    rnn_cell_params_changed(c);
    cr_assert_eq(rnn_cell_step(c, 0.0, s, u, out), RNN_OK);
    for (size_t i = 0; i < M; i++) {
        cr_assert_leq(fabs(out[M + i] - tanh(0.5)), 1e-16, "c = g: %.17g", out[M + i]);
        cr_assert_leq(fabs(out[i]), 1e-16, "h = 0: %.17g", out[i]);
    }
    rnn_cell_free(c);
}

Test(gated, lstm_init_forget_bias)
{
    enum { m = 16 };
    rnn_cell *c = rnn_cell_alloc(rnn_cell_lstm, m, D, 7);
    cr_assert_not_null(c);
    const double k = 1.0 / sqrt((double)m);
    const double *b = blk(c, "b"), *W = blk(c, "W");
    for (size_t i = 0; i < 4 * m; i++) {
        if (i >= m && i < 2 * m)
            cr_assert_eq(b[i], 1.0, "forget-gate bias = 1 (Jozefowicz et al. 2015)");
        else
            cr_assert(fabs(b[i]) <= k, "other biases in U(-1/sqrt(m), 1/sqrt(m))");
    }
    for (size_t i = 0; i < 4 * m * m; i++)
        cr_assert(fabs(W[i]) <= k, "W in U(-1/sqrt(m), 1/sqrt(m))");
    char msg[128];
    cr_assert_eq(rnn_cell_set_hyper(c, "fbias", 2.5, msg, sizeof msg), RNN_OK, "%s", msg);
    rnn_cell_init(c, 7);
    cr_assert_eq(blk(c, "b")[m], 2.5, "fbias sets the forget-gate bias");
    rnn_cell_free(c);
}

/* ---- GRU ------------------------------------------------------------------------------------- */

/* Per-gate weights of a standard GRU: 0 = z, 1 = r, 2 = candidate. */
typedef struct {
    double W[3][M][M], U[3][M][D], b[3][M];
} gru_ref;

static void gru_ref_to_cell(const gru_ref *p, rnn_cell *c)
{
    double *Wzr = blk(c, "W_zr"), *Uzr = blk(c, "U_zr"), *bzr = blk(c, "b_zr");
    double *W = blk(c, "W"), *U = blk(c, "U"), *b = blk(c, "b");
    for (size_t i = 0; i < M; i++) {
        for (size_t k = 0; k < 2; k++) {
            for (size_t j = 0; j < M; j++)
                Wzr[(k * M + i) * M + j] = p->W[k][i][j];
            for (size_t j = 0; j < D; j++)
                Uzr[(k * M + i) * D + j] = p->U[k][i][j];
            bzr[k * M + i] = p->b[k][i];
        }
        for (size_t j = 0; j < M; j++)
            W[i * M + j] = p->W[2][i][j];
        for (size_t j = 0; j < D; j++)
            U[i * D + j] = p->U[2][i][j];
        b[i] = p->b[2][i];
    }
    rnn_cell_params_changed(c);
}

static double gate_pre(const double W[M][M], const double U[M][D], const double *b, size_t i,
                       const double *x, const double *u)
{
    double a = b[i];
    for (size_t j = 0; j < M; j++)
        a += W[i][j] * x[j];
    for (size_t j = 0; j < D; j++)
        a += U[i][j] * u[j];
    return a;
}

/* h_n = (1 - z) h + z tanh(W (r h) + U u + b) (THEORY.md's convention, r inside the product). */
static void gru_by_hand(const gru_ref *p, const double *h, const double *u, double *out)
{
    double rh[M];
    for (size_t i = 0; i < M; i++)
        rh[i] = rnn_sigmoid(gate_pre(p->W[1], p->U[1], p->b[1], i, h, u)) * h[i];
    for (size_t i = 0; i < M; i++) {
        double z = rnn_sigmoid(gate_pre(p->W[0], p->U[0], p->b[0], i, h, u));
        double ht = tanh(gate_pre(p->W[2], p->U[2], p->b[2], i, rh, u));
        out[i] = (1.0 - z) * h[i] + z * ht;
    }
}

Test(gated, gru_at_dt_one_is_the_standard_gru)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_gru, M, D, 1);
    cr_assert_not_null(c);
    cr_assert_eq(rnn_cell_get_hyper(c, "dt"), 1.0, "the default dt of gru is 1");
    gru_ref p;
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < M; i++) {
            for (size_t j = 0; j < M; j++)
                p.W[k][i][j] = dyadic(i * M + j, k);
            for (size_t j = 0; j < D; j++)
                p.U[k][i][j] = dyadic(i * D + j, k + 4);
            p.b[k][i] = dyadic(i, k + 8);
        }
    /* r = sig(0) = 1/2 exactly, so r h is dyadic and W (r h) exact in any summation order:
     * bit for bit. */
    memset(p.W[1], 0, sizeof p.W[1]);
    memset(p.U[1], 0, sizeof p.U[1]);
    memset(p.b[1], 0, sizeof p.b[1]);
    gru_ref_to_cell(&p, c);
    const double h[M] = {0.75, -0.5, 0.25}, u[D] = {-1.25, 0.5};
    double out[M], ref[M];
    cr_assert_eq(rnn_cell_step(c, 0.0, h, u, out), RNN_OK);
    gru_by_hand(&p, h, u, ref);
    for (size_t i = 0; i < M; i++)
        cr_assert(out[i] == ref[i], "h[%zu]: cell %.17g, standard GRU %.17g", i, out[i], ref[i]);
    /* A live reset gate (dyadic weights): equal to the rounding of W (r h). */
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < M; j++)
            p.W[1][i][j] = dyadic(i * M + j, 11);
    gru_ref_to_cell(&p, c);
    cr_assert_eq(rnn_cell_step(c, 0.0, h, u, out), RNN_OK);
    gru_by_hand(&p, h, u, ref);
    for (size_t i = 0; i < M; i++)
        cr_assert_leq(fabs(out[i] - ref[i]), ULP_TOL * max_abs(M, ref), "h[%zu]: %.17g vs %.17g", i,
                      out[i], ref[i]);
    rnn_cell_free(c);
}

/* ---- the ODE as the limit of the step ------------------------------------------------------------ */

/* q = (step(s) - s) / dt at step size dt. */
static void quotient(rnn_cell *c, double dt, const double *s, const double *u, double *q)
{
    cr_assert_eq(rnn_cell_set_dt(c, dt), RNN_OK);
    cr_assert_eq(rnn_cell_step(c, 0.0, s, u, q), RNN_OK);
    for (size_t i = 0; i < c->n_state; i++)
        q[i] = (q[i] - s[i]) / dt;
}

Test(gated, gru_rhs_is_the_step_quotient)
{
    enum { m = 8 };
    rnn_cell *c = rnn_cell_alloc(rnn_cell_gru, m, D, 3);
    cr_assert_not_null(c);
    double s[m], u[D] = {0.4, -0.9}, f[m], q[m];
    rnn_cell_random_state(c, 11, 1.0, s);
    cr_assert_eq(rnn_cell_ode_rhs(c, 0.0, s, u, f), RNN_OK);
    /* Euler: q = f for every dt, up to the rounding of the step. */
    static const double dts[] = {0.5, 1e-2, 1e-4};
    for (size_t k = 0; k < 3; k++) {
        quotient(c, dts[k], s, u, q);
        for (size_t i = 0; i < m; i++)
            cr_assert_leq(fabs(q[i] - f[i]), QUOTIENT_ROUND(dts[k]) * fmax(1.0, max_abs(m, s)),
                          "dt = %g, entry %zu: quotient %.17g, f %.17g", dts[k], i, q[i], f[i]);
    }
    rnn_cell_free(c);
}

/* lstm: c_n is Euler, so q_c = f_c; h_n reads c_n = c + dt f_c, so
 *   q_h = o tanh(c + dt f_c) - h = f_h + dt (dh'/dc) f_c + O(dt^2),
 * with dh'/dc = diag(o (1 - tanh^2 c)) read off the ODE Jacobian (checked by jac.ode.lstm).
 * The predicted defect dt (dh'/dc) f_c is matched to O(dt^2): relative 1e-3 at dt = 1e-4. */
Test(gated, lstm_rhs_is_the_step_quotient_with_the_partitioning_defect)
{
    enum { m = 8, n = 2 * m };
    rnn_cell *c = rnn_cell_alloc(rnn_cell_lstm, m, D, 3);
    cr_assert_not_null(c);
    double s[n], u[D] = {0.4, -0.9}, f[n], q[n], J[n * n], lead[m];
    rnn_cell_random_state(c, 12, 1.0, s);
    cr_assert_eq(rnn_cell_ode_rhs(c, 0.0, s, u, f), RNN_OK);
    cr_assert_eq(rnn_cell_ode_jacobian(c, 0.0, s, u, J), RNN_OK);
    for (size_t i = 0; i < m; i++)
        lead[i] = J[i * n + m + i] * f[m + i];
    cr_assert_gt(max_abs(m, lead), 1e-2, "the defect is visible at this state");
    static const double dts[] = {1e-2, 1e-3, 1e-4};
    double prev = INFINITY;
    for (size_t k = 0; k < 3; k++) {
        const double dt = dts[k];
        quotient(c, dt, s, u, q);
        for (size_t i = 0; i < m; i++)
            cr_assert_leq(fabs(q[m + i] - f[m + i]), QUOTIENT_ROUND(dt) * fmax(1.0, max_abs(n, s)),
                          "dt = %g: the c-update is Euler (entry %zu)", dt, i);
        double e = 0;
        for (size_t i = 0; i < m; i++)
            e = fmax(e, fabs((q[i] - f[i]) / dt - lead[i]));
        e /= max_abs(m, lead);
        /* first order: the remainder of the predicted defect shrinks with dt */
        cr_assert_lt(e, 0.5 * prev, "dt = %g: remainder %.3e did not shrink (previous %.3e)", dt, e, prev);
        prev = e;
    }
    cr_assert_leq(prev, 1e-3, "at dt = 1e-4 the defect is dt (dh'/dc) f_c to %.3e", prev);
    rnn_cell_free(c);
}

/* ---- Jacobian structure -------------------------------------------------------------------------- */

/* h_n = h + dt f_h(h, c_n(h, c)) with f_h the ODE's h-row: by the chain rule, with the ODE
 * Jacobian Jm evaluated at the mixed state (h, c_n) (the gates depend on h and u only),
 *   dh_n/dh = I + dt Jm_hh + dt Jm_hc dc_n/dh,   dh_n/dc = dt Jm_hc dc_n/dc,
 * and c_n = c + dt f_c(h, c) gives dc_n/d(h, c) = [0, I] + dt J_c(h, c). The c-columns are
 * diagonal. The unpartitioned Euler Jacobian I + dt J(h, c) differs in dh_n/dc. */
Test(gated, lstm_step_jacobian_is_the_partitioned_chain_rule)
{
    enum { m = 5, n = 2 * m };
    const double dt = 0.3;
    rnn_cell *c = rnn_cell_alloc(rnn_cell_lstm, m, D, 4);
    cr_assert_not_null(c);
    cr_assert_eq(rnn_cell_set_dt(c, dt), RNN_OK);
    double s[n], u[D] = {0.8, 0.1}, sn[n], mixed[n], J[n * n], Jo[n * n], Jm[n * n];
    rnn_cell_random_state(c, 13, 1.0, s);
    cr_assert_eq(rnn_cell_step(c, 0.0, s, u, sn), RNN_OK);
    cr_assert_eq(rnn_cell_step_jacobian(c, 0.0, s, u, J), RNN_OK);
    cr_assert_eq(rnn_cell_ode_jacobian(c, 0.0, s, u, Jo), RNN_OK);
    memcpy(mixed, s, m * sizeof(double));
    memcpy(mixed + m, sn + m, m * sizeof(double));
    cr_assert_eq(rnn_cell_ode_jacobian(c, 0.0, mixed, u, Jm), RNN_OK);
    const double tol = 64 * DBL_EPSILON * fmax(1.0, max_abs(n * n, J));
    double partition_effect = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++) {
            const double eye = i == j ? 1.0 : 0.0;
            /* c rows: Euler */
            const double *Jc = J + (m + i) * n;
            cr_assert_leq(fabs(Jc[j] - dt * Jo[(m + i) * n + j]), tol, "dc_n/dh (%zu, %zu)", i, j);
            cr_assert_leq(fabs(Jc[m + j] - (eye + dt * Jo[(m + i) * n + m + j])), tol,
                          "dc_n/dc (%zu, %zu)", i, j);
            /* c-columns diagonal, exactly */
            if (i != j) {
                cr_assert_eq(Jc[m + j], 0.0, "dc_n/dc is diagonal");
                cr_assert_eq(J[i * n + m + j], 0.0, "dh_n/dc is diagonal");
            }
            /* h rows: the chain rule through c_n */
            const double *Jmh = Jm + i * n;
            double hh = eye + dt * Jmh[j], hc = 0;
            for (size_t k = 0; k < m; k++) {
                hh += dt * Jmh[m + k] * J[(m + k) * n + j];
                hc += dt * Jmh[m + k] * J[(m + k) * n + m + j];
            }
            cr_assert_leq(fabs(J[i * n + j] - hh), tol, "dh_n/dh (%zu, %zu): %.17g vs %.17g", i, j,
                          J[i * n + j], hh);
            cr_assert_leq(fabs(J[i * n + m + j] - hc), tol, "dh_n/dc (%zu, %zu)", i, j);
            partition_effect = fmax(partition_effect,
                                    fabs(J[i * n + m + j] - dt * Jo[i * n + m + j]));
        }
    cr_assert_gt(partition_effect, 1e-3, "the partitioning changes dh_n/dc (%.3e)", partition_effect);
    rnn_cell_free(c);
}

Test(gated, gru_step_jacobian_is_euler)
{
    enum { m = 6 };
    const double dt = 0.25;
    rnn_cell *c = rnn_cell_alloc(rnn_cell_gru, m, D, 5);
    cr_assert_not_null(c);
    cr_assert_eq(rnn_cell_set_dt(c, dt), RNN_OK);
    double s[m], u[D] = {-0.3, 0.6}, J[m * m], Jo[m * m];
    rnn_cell_random_state(c, 14, 1.0, s);
    cr_assert_eq(rnn_cell_step_jacobian(c, 0.0, s, u, J), RNN_OK);
    cr_assert_eq(rnn_cell_ode_jacobian(c, 0.0, s, u, Jo), RNN_OK);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++)
            cr_assert_leq(fabs(J[i * m + j] - ((i == j) + dt * Jo[i * m + j])), 16 * DBL_EPSILON,
                          "(%zu, %zu)", i, j);
    cr_assert_str_eq(rnn_cell_gru->tableau, "euler", "gru is forward Euler");
    cr_assert_null(rnn_cell_lstm->tableau, "lstm is partitioned, no single tableau");
    rnn_cell_free(c);
}

Test(gated, class_fields)
{
    cr_assert_eq(rnn_cell_lstm->stages, 2u, "lstm: tanh(c_n) over sig/tanh gates");
    cr_assert_eq(rnn_cell_lstm->memory, 2u, "lstm: c_{n-1} recovered from h_{n-1}, h_{n-2}");
    cr_assert_eq(rnn_cell_gru->stages, 2u, "gru: tanh over the reset gate");
    cr_assert_eq(rnn_cell_gru->memory, 1u, "gru: h_{n-1} only");
    cr_assert(rnn_cell_lstm->class_derivation && rnn_cell_gru->class_derivation);
    cr_assert_eq(rnn_cell_lstm->order, 1);
    cr_assert_eq(rnn_cell_gru->order, 1);
}

/* ---- the checks pass, and can fail -------------------------------------------------------------- */

/* Plain forward Euler of the LSTM ODE: s_n = s + dt f(s), so h_n reads c_{n-1}, not c_n. At dt = 1
 * this is h_n = o tanh(c_{n-1}): not the LSTM. */
static int lstm_plain_euler(const rnn_cell *c, size_t nb, double t, const double *s,
                            const double *u, double *out)
{
    const size_t n = c->n_state;
    const double dt = rnn_cell_dt(c);
    for (size_t b = 0; b < nb; b++) {
        int rc = rnn_cell_lstm->ode_rhs(c, t, s + b * n, u + b * c->d, out + b * n);
        if (rc != RNN_OK)
            return rc;
        for (size_t i = 0; i < n; i++)
            out[b * n + i] = s[b * n + i] + dt * out[b * n + i];
    }
    return RNN_OK;
}

/* PyTorch's GRU variant: the reset gate after the product, tanh(r (W h) + U u + b). */
static int gru_reset_outside(const rnn_cell *c, size_t nb, double t, const double *s,
                             const double *u, double *out)
{
    (void)t;
    const size_t m = c->m, d = c->d;
    const double dt = rnn_cell_dt(c);
    const double *P = c->params;
    const double *Wzr = P + rnn_cell_block(c, "W_zr")->offset, *Uzr = P + rnn_cell_block(c, "U_zr")->offset,
                 *bzr = P + rnn_cell_block(c, "b_zr")->offset, *W = P + rnn_cell_block(c, "W")->offset,
                 *U = P + rnn_cell_block(c, "U")->offset, *bh = P + rnn_cell_block(c, "b")->offset;
    for (size_t b = 0; b < nb; b++) {
        const double *h = s + b * m, *ub = u + b * d;
        for (size_t i = 0; i < m; i++) {
            double az = bzr[i], ar = bzr[m + i], wh = 0, uh = bh[i];
            for (size_t j = 0; j < m; j++) {
                az += Wzr[i * m + j] * h[j];
                ar += Wzr[(m + i) * m + j] * h[j];
                wh += W[i * m + j] * h[j];
            }
            for (size_t j = 0; j < d; j++) {
                az += Uzr[i * d + j] * ub[j];
                ar += Uzr[(m + i) * d + j] * ub[j];
                uh += U[i * d + j] * ub[j];
            }
            double z = rnn_sigmoid(az), ht = tanh(rnn_sigmoid(ar) * wh + uh);
            out[b * m + i] = h[i] + dt * z * (ht - h[i]);
        }
    }
    return RNN_OK;
}

Test(gated, is_euler_checks_pass)
{
    rnn_check_result r = {0};
    cr_assert_eq(rnn_check_odernn_lstm_is_euler(&CTX, NULL, &r), RNN_OK, "ran: %s", r.detail);
    cr_assert_eq(r.pass, 1, "lstm-is-euler: %.3e > %.1e: %s", r.measured, r.threshold, r.detail);
    cr_assert_eq(rnn_check_odernn_gru_is_euler(&CTX, NULL, &r), RNN_OK, "ran: %s", r.detail);
    cr_assert_eq(r.pass, 1, "gru-is-euler: %.3e > %.1e: %s", r.measured, r.threshold, r.detail);
}

Test(gated, is_euler_checks_fail_on_wrong_cells)
{
    rnn_check_result r = {0};
    rnn_cell_type plain = *rnn_cell_lstm;
    plain.step = lstm_plain_euler;
    cr_assert_eq(rnn_check_odernn_lstm_is_euler(&CTX, &plain, &r), RNN_OK, "ran: %s", r.detail);
    cr_assert_eq(r.pass, 0, "plain Euler of the LSTM ODE is not the LSTM (measured %.3e)", r.measured);
    cr_assert_gt(r.measured, 1e-3, "an O(1) difference, measured %.3e", r.measured);
    rnn_cell_type outside = *rnn_cell_gru;
    outside.step = gru_reset_outside;
    cr_assert_eq(rnn_check_odernn_gru_is_euler(&CTX, &outside, &r), RNN_OK, "ran: %s", r.detail);
    cr_assert_eq(r.pass, 0, "the reset gate outside the product is another map (measured %.3e)",
                 r.measured);
    cr_assert_gt(r.measured, 1e-3, "measured %.3e", r.measured);
}
