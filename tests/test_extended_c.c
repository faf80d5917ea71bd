/*
 * test_extended_c.c — unit tests specific to the unicornn and lem cells (the generic battery of
 * test_cells.c covers their Jacobians, VJPs and batching):
 *   - both steps against a step written out here for m = 3 (unicornn with parameters set by
 *     hand; lem in the official code's form (1 - dt sig) x + dt sig tanh(...));
 *   - unicornn with z eliminated is the two-step recursion in y of its (n, t) = (1, 2) class;
 *   - the unicornn inverse step inverts the step (both ways) to round-off, and refuses other
 *     cells;
 *   - the unicornn step Jacobian equals the product S_y S_z of two shears built here, and the
 *     LU determinant used by unicornn.volume-preserving tells a volume-changing step (coRNN)
 *     apart;
 *   - both steps are consistent with their ODE at first order: the defect
 *     (Phi_dt(s) - s)/dt - f(s) halves when dt halves;
 *   - the two checks of experiments/odernn_extended_c.c pass.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_linalg.h>
#include "cell.h"
#include "experiments.h"

/* Two computations of the same O(1) numbers with different operation orders (BLAS against a
 * loop, (1 - p) z + p t against z + p (t - z)) agree to a few ulps: 1e-14 is a margin of ~50. */
#define ROUND_TOL 1e-14
/* Step then inverse step: each is a few roundings of O(1) values; 1e-14 as above. */
#define INVERSE_TOL 1e-14
#define SEED 777UL

static double rel_diff(size_t n, const double *a, const double *b)
{
    double e = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, fabs(a[i] - b[i]));
        s = fmax(s, fabs(b[i]));
    }
    return e / fmax(s, 1.0);
}

static void fill(unsigned long seed, size_t n, double scale, double *x)
{
    unsigned long long s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = scale * (2.0 * (double)(s >> 11) / 9007199254740992.0 - 1.0);
    }
}

static double *blk(rnn_cell *c, const char *name)
{
    const rnn_block *b = rnn_cell_block(c, name);
    cr_assert_not_null(b, "%s has a block %s", c->type->name, name);
    return c->params + b->offset;
}

static double logistic(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* ---- unicornn ------------------------------------------------------------------------------ */

enum { m3 = 3, d2 = 2 };

/* A unicornn cell with m = 3, d = 2 and every parameter set by hand (b != 0, unlike the
 * official initialisation, so that the bias is exercised). */
static rnn_cell *unicornn_by_hand(void)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_unicornn, m3, d2, SEED);
    cr_assert_not_null(c);
    const double w[m3] = {0.3, 0.9, -0.4}, V[m3 * d2] = {0.5, -0.2, 0.1, 0.7, -0.6, 0.25},
                 b[m3] = {0.05, -0.1, 0.2}, cc[m3] = {-0.3, 0.0, 1.2};
    memcpy(blk(c, "w"), w, sizeof w);
    memcpy(blk(c, "V"), V, sizeof V);
    memcpy(blk(c, "b"), b, sizeof b);
    memcpy(blk(c, "c"), cc, sizeof cc);
    rnn_cell_params_changed(c);
    char msg[256];
    cr_assert_eq(rnn_cell_set_hyper(c, "alpha", 2.5, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert_eq(rnn_cell_set_dt(c, 0.3), RNN_OK);
    return c;
}

Test(extended_c, unicornn_matches_hand_written_step)
{
    rnn_cell *c = unicornn_by_hand();
    const double s[2 * m3] = {0.4, -1.1, 0.7, 0.2, 0.9, -0.5}, u[d2] = {0.8, -0.3};
    const double *w = blk(c, "w"), *V = blk(c, "V"), *b = blk(c, "b"), *cc = blk(c, "c");
    const double dt = 0.3, alpha = 2.5;
    double hand[2 * m3], lib[2 * m3];
    for (size_t i = 0; i < m3; i++) {
        double a = w[i] * s[i] + V[i * d2] * u[0] + V[i * d2 + 1] * u[1] + b[i];
        double tau = logistic(cc[i]);
        double zn = s[m3 + i] - dt * tau * (tanh(a) + alpha * s[i]);
        hand[m3 + i] = zn;
        hand[i] = s[i] + dt * tau * zn;
    }
    cr_assert_eq(rnn_cell_step(c, 0.0, s, u, lib), RNN_OK);
    for (size_t i = 0; i < 2 * m3; i++)
        cr_assert_leq(fabs(lib[i] - hand[i]), ROUND_TOL * fmax(1.0, fabs(hand[i])),
                      "entry %zu: library %.17g, hand %.17g", i, lib[i], hand[i]);
    rnn_cell_free(c);
}

/* The memory t = 2 of the class derivation: with z eliminated, the step is the two-step
 * recursion y_n = 2 y_{n-1} - y_{n-2} - dt^2 tau^2 (tanh(w y_{n-1} + V u_n + b) + alpha y_{n-1}). */
Test(extended_c, unicornn_is_a_two_step_recursion_in_y)
{
    rnn_cell *c = unicornn_by_hand();
    const double s0[2 * m3] = {0.4, -1.1, 0.7, 0.2, 0.9, -0.5};
    const double u1[d2] = {0.8, -0.3}, u2[d2] = {-0.5, 0.6};
    const double *w = blk(c, "w"), *V = blk(c, "V"), *b = blk(c, "b"), *cc = blk(c, "c");
    const double dt = 0.3, alpha = 2.5;
    double s1[2 * m3], s2[2 * m3];
    cr_assert_eq(rnn_cell_step(c, 0.0, s0, u1, s1), RNN_OK);
    cr_assert_eq(rnn_cell_step(c, dt, s1, u2, s2), RNN_OK);
    for (size_t i = 0; i < m3; i++) {
        double tau = logistic(cc[i]);
        double a = w[i] * s1[i] + V[i * d2] * u2[0] + V[i * d2 + 1] * u2[1] + b[i];
        double y2 = 2.0 * s1[i] - s0[i] - dt * dt * tau * tau * (tanh(a) + alpha * s1[i]);
        cr_assert_leq(fabs(s2[i] - y2), ROUND_TOL * fmax(1.0, fabs(y2)),
                      "unit %zu: step %.17g, two-step recursion %.17g", i, s2[i], y2);
    }
    rnn_cell_free(c);
}

Test(extended_c, unicornn_step_back_inverts_the_step)
{
    static const size_t ms[] = {3, 16};
    for (size_t im = 0; im < 2; im++) {
        const size_t m = ms[im], n = 2 * m;
        rnn_cell *c = rnn_cell_alloc(rnn_cell_unicornn, m, d2, SEED + m);
        cr_assert_not_null(c);
        double *buf = malloc((4 * n + d2) * sizeof(double));
        double *s = buf, *s1 = s + n, *back = s1 + n, *fwd = back + n, *u = fwd + n;
        for (unsigned long k = 0; k < 5; k++) {
            fill(100 + k, n, 1.5, s);
            fill(200 + k, d2, 1.0, u);
            double t = 0.37 * (double)k;
            /* step, then back */
            cr_assert_eq(rnn_cell_step(c, t, s, u, s1), RNN_OK);
            cr_assert_eq(rnn_unicornn_step_back(c, t, s1, u, back), RNN_OK);
            cr_assert_leq(rel_diff(n, back, s), INVERSE_TOL, "m = %zu: back(step(s)) != s", m);
            /* back, then step: the inverse is two-sided */
            cr_assert_eq(rnn_unicornn_step_back(c, t, s, u, back), RNN_OK);
            cr_assert_eq(rnn_cell_step(c, t, back, u, fwd), RNN_OK);
            cr_assert_leq(rel_diff(n, fwd, s), INVERSE_TOL, "m = %zu: step(back(s)) != s", m);
        }
        /* The inverse must use the same input: with another u it does not invert. */
        fill(300, n, 1.0, s);
        fill(301, d2, 1.0, u);
        cr_assert_eq(rnn_cell_step(c, 0.0, s, u, s1), RNN_OK);
        u[0] += 1.0;
        cr_assert_eq(rnn_unicornn_step_back(c, 0.0, s1, u, back), RNN_OK);
        cr_assert_gt(rel_diff(n, back, s), 1e-4, "a wrong input should not invert the step");
        free(buf);
        rnn_cell_free(c);
    }
}

Test(extended_c, unicornn_step_back_refuses_other_cells)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_cornn, m3, d2, SEED);
    double s[2 * m3] = {0}, u[d2] = {0}, out[2 * m3];
    cr_assert_eq(rnn_unicornn_step_back(c, 0.0, s, u, out), RNN_EINVAL);
    cr_assert_eq(rnn_unicornn_step_back(NULL, 0.0, s, u, out), RNN_EINVAL);
    rnn_cell_free(c);
}

/* C[n x n] = A B */
static void matmul(size_t n, const double *A, const double *B, double *C)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double v = 0;
            for (size_t k = 0; k < n; k++)
                v += A[i * n + k] * B[k * n + j];
            C[i * n + j] = v;
        }
}

static double lu_det(size_t n, double *A)
{
    gsl_matrix_view v = gsl_matrix_view_array(A, n, n);
    gsl_permutation *p = gsl_permutation_alloc(n);
    int sg = 0;
    gsl_linalg_LU_decomp(&v.matrix, p, &sg);
    double det = gsl_linalg_LU_det(&v.matrix, sg);
    gsl_permutation_free(p);
    return det;
}

Test(extended_c, unicornn_jacobian_is_a_product_of_two_shears)
{
    enum { n = 2 * m3 };
    rnn_cell *c = unicornn_by_hand();
    const double s[n] = {-0.6, 0.3, 1.4, 0.8, -0.2, 0.1}, u[d2] = {-0.4, 0.9};
    const double *w = blk(c, "w"), *V = blk(c, "V"), *b = blk(c, "b"), *cc = blk(c, "c");
    const double dt = 0.3, alpha = 2.5;
    /* S_z = [[I, 0], [-dt K, I]] (z moves by a function of y), S_y = [[I, dt T], [0, I]]. */
    double Sz[n * n] = {0}, Sy[n * n] = {0}, P[n * n], J[n * n];
    for (size_t i = 0; i < n; i++)
        Sz[i * n + i] = Sy[i * n + i] = 1.0;
    for (size_t i = 0; i < m3; i++) {
        double a = w[i] * s[i] + V[i * d2] * u[0] + V[i * d2 + 1] * u[1] + b[i];
        double tau = logistic(cc[i]), th = tanh(a);
        Sz[(m3 + i) * n + i] = -dt * tau * (w[i] * (1.0 - th * th) + alpha);
        Sy[i * n + m3 + i] = dt * tau;
    }
    matmul(n, Sy, Sz, P);
    cr_assert_eq(rnn_cell_step_jacobian(c, 0.0, s, u, J), RNN_OK);
    cr_assert_leq(rel_diff(n * n, J, P), ROUND_TOL, "J != S_y S_z");
    /* Each shear is unit triangular (det 1), hence det J = 1. */
    cr_assert_leq(fabs(lu_det(n, J) - 1.0), 1e-14, "det of the unicornn Jacobian");
    /* The measure discriminates: coRNN's damped step shrinks volume (det < 1). */
    rnn_cell *co = rnn_cell_alloc(rnn_cell_cornn, m3, d2, SEED);
    cr_assert_eq(rnn_cell_step_jacobian(co, 0.0, s, u, J), RNN_OK);
    double det_co = lu_det(n, J);
    cr_assert_gt(fabs(det_co - 1.0), 1e-3, "coRNN det = %.17g should differ from 1", det_co);
    rnn_cell_free(co);
    rnn_cell_free(c);
}

/* ---- lem --------------------------------------------------------------------------------- */

/* The official code's LEMCell.forward, written out: ms_dt = dt sig(.) for z (our a1),
 * ms_dt_bar = dt sig(.) for y (our a2), both from y; z first, then y from the new z. */
static void hand_lem(rnn_cell *c, const double *s, const double *u, double *out)
{
    const size_t m = c->m, d = c->d;
    const double dt = rnn_cell_dt(c);
    const double *W1 = blk(c, "W1"), *W2 = blk(c, "W2"), *Wz = blk(c, "Wz"), *Wy = blk(c, "Wy");
    const double *V1 = blk(c, "V1"), *V2 = blk(c, "V2"), *Vz = blk(c, "Vz"), *Vy = blk(c, "Vy");
    const double *b1 = blk(c, "b1"), *b2 = blk(c, "b2"), *bz = blk(c, "bz"), *by = blk(c, "by");
    const double *y = s, *z = s + m;
    double zn[16], qbar[16];
    for (size_t i = 0; i < m; i++) {
        double a1 = b1[i], a2 = b2[i], az = bz[i];
        for (size_t j = 0; j < m; j++) {
            a1 += W1[i * m + j] * y[j];
            a2 += W2[i * m + j] * y[j];
            az += Wz[i * m + j] * y[j];
        }
        for (size_t k = 0; k < d; k++) {
            a1 += V1[i * d + k] * u[k];
            a2 += V2[i * d + k] * u[k];
            az += Vz[i * d + k] * u[k];
        }
        double ms_dt = dt * logistic(a1);
        qbar[i] = dt * logistic(a2);
        zn[i] = (1.0 - ms_dt) * z[i] + ms_dt * tanh(az);
    }
    for (size_t i = 0; i < m; i++) {
        double ay = by[i];
        for (size_t j = 0; j < m; j++)
            ay += Wy[i * m + j] * zn[j];
        for (size_t k = 0; k < d; k++)
            ay += Vy[i * d + k] * u[k];
        out[i] = (1.0 - qbar[i]) * y[i] + qbar[i] * tanh(ay);
        out[m + i] = zn[i];
    }
}

Test(extended_c, lem_matches_hand_written_step)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_lem, m3, d2, SEED);
    cr_assert_not_null(c);
    double s[2 * m3], u[d2], lib[2 * m3], hand[2 * m3];
    static const double dts[] = {0.31, 1.0, 2.5};
    for (size_t h = 0; h < 3; h++) {
        cr_assert_eq(rnn_cell_set_dt(c, dts[h]), RNN_OK);
        fill(400 + h, 2 * m3, 1.2, s);
        fill(500 + h, d2, 1.0, u);
        cr_assert_eq(rnn_cell_step(c, 0.0, s, u, lib), RNN_OK);
        hand_lem(c, s, u, hand);
        for (size_t i = 0; i < 2 * m3; i++)
            cr_assert_leq(fabs(lib[i] - hand[i]), ROUND_TOL * fmax(1.0, fabs(hand[i])),
                          "dt = %g, entry %zu: library %.17g, hand %.17g", dts[h], i, lib[i],
                          hand[i]);
    }
    rnn_cell_free(c);
}

Test(extended_c, lem_y_update_reads_the_new_z)
{
    /* Zero y-gate inputs except through z: if the cell used z_{n-1} in tanh(Wy z + ...),
     * y_n would not change when only the z-target changes. */
    rnn_cell *c = rnn_cell_alloc(rnn_cell_lem, m3, d2, SEED);
    double s[2 * m3], u[d2], o1[2 * m3], o2[2 * m3];
    fill(600, 2 * m3, 1.0, s);
    fill(601, d2, 1.0, u);
    cr_assert_eq(rnn_cell_step(c, 0.0, s, u, o1), RNN_OK);
    double *bz = blk(c, "bz");
    bz[0] += 1.0; /* changes z_n only (bz enters the z-target alone) */
    rnn_cell_params_changed(c);
    cr_assert_eq(rnn_cell_step(c, 0.0, s, u, o2), RNN_OK);
    cr_assert_gt(fabs(o2[m3] - o1[m3]), 1e-3, "z_n moved");
    double dy = 0;
    for (size_t i = 0; i < m3; i++)
        dy = fmax(dy, fabs(o2[i] - o1[i]));
    cr_assert_gt(dy, 1e-4, "y_n must see the new z_n");
    rnn_cell_free(c);
}

/* ---- both: first-order consistency --------------------------------------------------------- */

/* |(Phi_dt(s) - s)/dt - f(s)| at dt and dt/2: ratio ~ 2 for a first-order step (the defect is
 * (dt/2) f' f + O(dt^2) with f' f != 0 generically). */
static double defect(rnn_cell *c, double dt, const double *s, const double *u)
{
    const size_t n = c->n_state;
    double out[64], f[64], e = 0;
    cr_assert_eq(rnn_cell_set_dt(c, dt), RNN_OK);
    cr_assert_eq(rnn_cell_step(c, 0.0, s, u, out), RNN_OK);
    cr_assert_eq(rnn_cell_ode_rhs(c, 0.0, s, u, f), RNN_OK);
    for (size_t i = 0; i < n; i++)
        e = fmax(e, fabs((out[i] - s[i]) / dt - f[i]));
    return e;
}

Test(extended_c, both_steps_are_first_order_consistent)
{
    const rnn_cell_type *types[] = {rnn_cell_unicornn, rnn_cell_lem};
    for (size_t k = 0; k < 2; k++) {
        rnn_cell *c = rnn_cell_alloc(types[k], 8, d2, SEED);
        double s[16], u[d2];
        fill(700 + k, 16, 1.0, s);
        fill(710 + k, d2, 1.0, u);
        double e1 = defect(c, 1e-3, s, u), e2 = defect(c, 5e-4, s, u);
        cr_assert_gt(e1, 1e-8, "%s: the defect is O(dt), not 0", types[k]->name);
        cr_assert(fabs(e1 / e2 - 2.0) < 0.05, "%s: defect ratio %.4f, expected 2 (order 1)",
                  types[k]->name, e1 / e2);
        rnn_cell_free(c);
    }
}

/* ---- the checks ----------------------------------------------------------------------------- */

Test(extended_c, unicornn_checks_pass)
{
    rnn_check_ctx ctx = {RNN_TIER_QUICK, 1, NULL};
    rnn_check_result r;
    memset(&r, 0, sizeof r);
    cr_assert_eq(rnn_check_unicornn_volume(&ctx, rnn_cell_unicornn, &r), RNN_OK, "%s", r.detail);
    cr_assert(r.pass, "volume-preserving: %s", r.detail);
    cr_assert_leq(r.measured, 1e-12);
    memset(&r, 0, sizeof r);
    cr_assert_eq(rnn_check_unicornn_reversible(&ctx, rnn_cell_unicornn, &r), RNN_OK, "%s", r.detail);
    cr_assert(r.pass, "reversible: %s", r.detail);
    cr_assert_leq(r.measured, 1e-9);
}
