/*
 * test_cells.c — unit tests of the cell module (cells/cell.h): every registered cell type,
 * its wrappers, hyperparameters and error codes.
 *
 * For EVERY cell of the registry:
 *   - step Jacobian and ODE Jacobian against central differences, both through the library's
 *     rnn_fd_jacobian and through an independent directional derivative computed here with
 *     our own step h;
 *   - the step VJP: gs == J^T g against the analytic Jacobian, and dL/dtheta of
 *     L = <g, step(s)> against our own central differences in seeded parameter coordinates
 *     (at least two in every block);
 *   - a batched step (nb = 5) equals five single steps; ode_jvp equals ode_jacobian * v;
 *   - seeding is deterministic;
 *   - hyperparameter error paths, and wrappers on NULL arguments and NaN states.
 * Cell-specific: the tanh cell at dt = 1 is exactly the Elman RNN, and both coRNN schemes
 * match a step written out by hand here for m = 3.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"
#include "cell.h"

/* Sizes: m != d and both odd so that a transposed block or a wrong leading dimension shows. */
#define M 5
#define D 3
#define SEED 20240601UL

/* Central differences with h ~ cbrt(eps) ~ 6e-6 have truncation O(h^2) and rounding
 * O(eps/h), both ~1e-10 relative to the function's scale. 1e-7 leaves three orders of
 * magnitude of margin, while any wrong analytic derivative term (an O(1) or O(dt) relative
 * error, dt >= 0.042 for the default cells) exceeds it by far. */
#define FD_TOL 1e-7
/* Our own difference step for the independent checks: cbrt(DBL_EPSILON) rounded. */
#define OWN_H 6e-6
/* Two computations of the same product that differ only in summation order (BLAS vs a loop)
 * agree to a few ulps of the magnitudes involved: n * eps ~ 1e-15 for n <= 10. 1e-13 leaves
 * a margin of 100 while any algebraic mistake is O(1). */
#define ROUND_TOL 1e-13
/* Batched vs single steps: a dgemm against a dgemv, the same products in possibly different
 * orders (the brief's 1e-14, a few ulps of O(1) states). */
#define BATCH_TOL 1e-14

/* ---- helpers ------------------------------------------------------------------------------ */

static double max_abs(size_t n, const double *x)
{
    double v = 0;
    for (size_t i = 0; i < n; i++)
        v = fmax(v, fabs(x[i]));
    return v;
}

/* A deterministic pseudo-random vector (an LCG, independent of the library's GSL streams). */
static void fill_vec(unsigned long seed, size_t n, double scale, double *x)
{
    unsigned long long s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double r = (double)(s >> 11) / 9007199254740992.0; /* [0, 1) */
        x[i] = scale * (2.0 * r - 1.0);
    }
}

static rnn_cell *make_cell(const rnn_cell_type *t, size_t m, size_t d, unsigned long seed)
{
    rnn_cell *c = rnn_cell_alloc(t, m, d, seed);
    cr_assert_not_null(c, "rnn_cell_alloc(%s, %zu, %zu) failed", t->name, m, d);
    return c;
}

static int step_or_rhs(const rnn_cell *c, int which, const double *s, const double *u, double *out)
{
    return which ? rnn_cell_ode_rhs(c, 0.7, s, u, out) : rnn_cell_step(c, 0.7, s, u, out);
}

/* ---- Jacobians ------------------------------------------------------------------------------ */

/* Analytic Jacobian (step: which = 0; ODE: which = 1) against rnn_fd_jacobian. */
static void check_jacobian_fd(int which)
{
    for (size_t ic = 0; ic < rnn_registry_count(); ic++) {
        const rnn_cell_type *t = rnn_registry_get(ic);
        rnn_cell *c = make_cell(t, M, D, SEED + ic);
        const size_t n = c->n_state;
        double *Ja = malloc(n * n * sizeof(double)), *Jf = malloc(n * n * sizeof(double));
        double s[2 * M], u[D];
        for (unsigned long k = 0; k < 3; k++) {
            rnn_cell_random_state(c, 100 + k, 1.0, s);
            fill_vec(200 + k, D, 1.0, u);
            int rc = which ? rnn_cell_ode_jacobian(c, 0.7, s, u, Ja)
                           : rnn_cell_step_jacobian(c, 0.7, s, u, Ja);
            cr_assert_eq(rc, RNN_OK, "%s: analytic Jacobian failed: %s", t->name, rnn_strerror(rc));
            rc = rnn_fd_jacobian(c, which, 0.7, s, u, Jf, NULL);
            cr_assert_eq(rc, RNN_OK, "%s: rnn_fd_jacobian failed", t->name);
            double e = rnn_max_rel_diff(n * n, Ja, Jf, 1e-300);
            cr_assert_leq(e, FD_TOL, "%s %s Jacobian vs rnn_fd_jacobian: rel. error %.3e (state %lu)",
                          t->name, which ? "ODE" : "step", e, k);
        }
        free(Ja);
        free(Jf);
        rnn_cell_free(c);
    }
}

Test(cells, step_jacobian_vs_library_fd)
{
    check_jacobian_fd(0);
}

Test(cells, ode_jacobian_vs_library_fd)
{
    check_jacobian_fd(1);
}

/* Independent of the library's FD code: J v against (F(s + h v) - F(s - h v)) / 2h for a unit
 * direction v, with our own h. Also run at a non-default step size so that dt-dependence of
 * the step Jacobian is exercised. */
static void check_directional(int which)
{
    for (size_t ic = 0; ic < rnn_registry_count(); ic++) {
        const rnn_cell_type *t = rnn_registry_get(ic);
        rnn_cell *c = make_cell(t, M, D, SEED + 10 + ic);
        const size_t n = c->n_state;
        const double dt0 = rnn_cell_dt(c);
        for (int variant = 0; variant < 2; variant++) {
            cr_assert_eq(rnn_cell_set_dt(c, variant ? 0.37 * dt0 : dt0), RNN_OK, "set_dt");
            double J[4 * M * M], s[2 * M], u[D], v[2 * M], sp[2 * M], sm[2 * M], fp[2 * M],
                fm[2 * M];
            fill_vec(300 + variant, n, 1.0, s);
            fill_vec(400 + variant, D, 1.0, u);
            fill_vec(500 + variant, n, 1.0, v);
            double nv = 0;
            for (size_t i = 0; i < n; i++)
                nv += v[i] * v[i];
            for (size_t i = 0; i < n; i++) {
                v[i] /= sqrt(nv);
                sp[i] = s[i] + OWN_H * v[i];
                sm[i] = s[i] - OWN_H * v[i];
            }
            int rc = which ? rnn_cell_ode_jacobian(c, 0.7, s, u, J)
                           : rnn_cell_step_jacobian(c, 0.7, s, u, J);
            cr_assert_eq(rc, RNN_OK, "%s: Jacobian failed", t->name);
            cr_assert_eq(step_or_rhs(c, which, sp, u, fp), RNN_OK, "%s: F(s + h v)", t->name);
            cr_assert_eq(step_or_rhs(c, which, sm, u, fm), RNN_OK, "%s: F(s - h v)", t->name);
            double scale = 1.0;
            for (size_t i = 0; i < n; i++) {
                double Jv = 0;
                for (size_t j = 0; j < n; j++)
                    Jv += J[i * n + j] * v[j];
                scale = fmax(scale, fabs(Jv));
            }
            for (size_t i = 0; i < n; i++) {
                double Jv = 0;
                for (size_t j = 0; j < n; j++)
                    Jv += J[i * n + j] * v[j];
                double fd = (fp[i] - fm[i]) / (2 * OWN_H);
                cr_assert_leq(fabs(Jv - fd), FD_TOL * scale,
                              "%s %s Jacobian (dt = %g): (J v)[%zu] = %.15g, directional FD %.15g",
                              t->name, which ? "ODE" : "step", rnn_cell_dt(c), i, Jv, fd);
            }
        }
        rnn_cell_free(c);
    }
}

Test(cells, step_jacobian_vs_own_directional_derivative)
{
    check_directional(0);
}

Test(cells, ode_jacobian_vs_own_directional_derivative)
{
    check_directional(1);
}

/* ---- VJP ------------------------------------------------------------------------------------ */

Test(cells, vjp_state_equals_jacobian_transpose)
{
    for (size_t ic = 0; ic < rnn_registry_count(); ic++) {
        const rnn_cell_type *t = rnn_registry_get(ic);
        rnn_cell *c = make_cell(t, M, D, SEED + 20 + ic);
        const size_t n = c->n_state;
        double J[4 * M * M], s[2 * M], u[D], g[2 * M], gs[2 * M];
        double *gth = calloc(c->n_params, sizeof(double));
        for (unsigned long k = 0; k < 2; k++) {
            fill_vec(600 + k, n, 1.0, s);
            fill_vec(700 + k, D, 1.0, u);
            fill_vec(800 + k, n, 1.0, g);
            cr_assert_eq(rnn_cell_step_jacobian(c, 0.2, s, u, J), RNN_OK, "%s: jacobian", t->name);
            cr_assert_eq(rnn_cell_step_vjp(c, 0.2, s, u, g, gs, gth), RNN_OK, "%s: vjp", t->name);
            double scale = max_abs(n * n, J) * (double)n * max_abs(n, g);
            for (size_t j = 0; j < n; j++) {
                double JTg = 0;
                for (size_t i = 0; i < n; i++)
                    JTg += J[i * n + j] * g[i];
                cr_assert_leq(fabs(gs[j] - JTg), ROUND_TOL * scale,
                              "%s: gs[%zu] = %.17g but (J^T g)[%zu] = %.17g", t->name, j, gs[j], j,
                              JTg);
            }
        }
        free(gth);
        rnn_cell_free(c);
    }
}

/* L(theta) = <g, step(s; theta)> */
static double inner_step(const rnn_cell *c, const double *s, const double *u, const double *g)
{
    double out[2 * M];
    int rc = rnn_cell_step(c, 0.2, s, u, out);
    cr_assert_eq(rc, RNN_OK, "%s: step failed", c->type->name);
    double L = 0;
    for (size_t i = 0; i < c->n_state; i++)
        L += g[i] * out[i];
    return L;
}

Test(cells, vjp_parameter_gradient_vs_own_central_differences)
{
    for (size_t ic = 0; ic < rnn_registry_count(); ic++) {
        const rnn_cell_type *t = rnn_registry_get(ic);
        rnn_cell *c = make_cell(t, M, D, SEED + 30 + ic);
        const size_t n = c->n_state, P = c->n_params;
        double s[2 * M], u[D], g[2 * M], gs[2 * M];
        double *gth = calloc(P, sizeof(double));
        fill_vec(900, n, 1.0, s);
        fill_vec(901, D, 1.0, u);
        fill_vec(902, n, 1.0, g);
        /* gtheta is accumulated: start from a known non-zero value and subtract it. */
        for (size_t j = 0; j < P; j++)
            gth[j] = 0.25;
        cr_assert_eq(rnn_cell_step_vjp(c, 0.2, s, u, g, gs, gth), RNN_OK, "%s: vjp", t->name);
        /* Two seeded coordinates in every block (so every block's gradient is exercised). */
        for (size_t b = 0; b < c->n_blocks; b++) {
            const rnn_block *blk = &c->blocks[b];
            size_t size = blk->rows * blk->cols;
            for (size_t r = 0; r < 2; r++) {
                double x;
                fill_vec(1000 + 10 * b + r, 1, 1.0, &x);
                size_t j = blk->offset + (size_t)((0.5 + 0.5 * x) * (double)size) % size;
                double p0 = c->params[j], h = cbrt(DBL_EPSILON) * fmax(1.0, fabs(p0));
                c->params[j] = p0 + h;
                rnn_cell_params_changed(c);
                double Lp = inner_step(c, s, u, g);
                c->params[j] = p0 - h;
                rnn_cell_params_changed(c);
                double Lm = inner_step(c, s, u, g);
                c->params[j] = p0;
                rnn_cell_params_changed(c);
                double fd = (Lp - Lm) / (2 * h), an = gth[j] - 0.25;
                cr_assert_leq(fabs(an - fd), FD_TOL * fmax(1.0, fabs(fd)),
                              "%s: dL/dtheta in block %s (flat index %zu): vjp %.15g, FD %.15g",
                              t->name, blk->name, j, an, fd);
            }
        }
        free(gth);
        rnn_cell_free(c);
    }
}

/* ---- batch, jvp, determinism ------------------------------------------------------------------ */

Test(cells, batched_step_equals_single_steps)
{
    enum { NB = 5 };
    for (size_t ic = 0; ic < rnn_registry_count(); ic++) {
        const rnn_cell_type *t = rnn_registry_get(ic);
        rnn_cell *c = make_cell(t, M, D, SEED + 40 + ic);
        const size_t n = c->n_state;
        cr_assert_eq(rnn_cell_step_batch(c, NB, 0.1, (double[NB * 2 * M]){0}, (double[NB * D]){0},
                                         (double[NB * 2 * M]){0}),
                     RNN_EINVAL, "%s: a batch beyond the reserved capacity must be refused", t->name);
        cr_assert_eq(rnn_cell_reserve_batch(c, NB), RNN_OK, "reserve_batch");
        double S[NB * 2 * M], U[NB * D], out[NB * 2 * M], one[2 * M];
        fill_vec(1100, NB * n, 1.0, S);
        fill_vec(1101, NB * D, 1.0, U);
        cr_assert_eq(rnn_cell_step_batch(c, NB, 0.1, S, U, out), RNN_OK, "%s: batch step", t->name);
        for (size_t b = 0; b < NB; b++) {
            cr_assert_eq(rnn_cell_step(c, 0.1, S + b * n, U + b * D, one), RNN_OK, "single step");
            for (size_t i = 0; i < n; i++)
                cr_assert_leq(fabs(out[b * n + i] - one[i]), BATCH_TOL * fmax(1.0, fabs(one[i])),
                              "%s: batch sample %zu, entry %zu: %.17g vs single %.17g", t->name, b,
                              i, out[b * n + i], one[i]);
        }
        rnn_cell_free(c);
    }
}

Test(cells, ode_jvp_equals_jacobian_times_v)
{
    for (size_t ic = 0; ic < rnn_registry_count(); ic++) {
        const rnn_cell_type *t = rnn_registry_get(ic);
        rnn_cell *c = make_cell(t, M, D, SEED + 50 + ic);
        const size_t n = c->n_state;
        double J[4 * M * M], s[2 * M], u[D], v[2 * M], Jv[2 * M];
        fill_vec(1200, n, 1.0, s);
        fill_vec(1201, D, 1.0, u);
        fill_vec(1202, n, 1.0, v);
        cr_assert_eq(rnn_cell_ode_jacobian(c, 0.3, s, u, J), RNN_OK, "%s: ode_jacobian", t->name);
        cr_assert_eq(rnn_cell_ode_jvp(c, 0.3, s, u, v, Jv), RNN_OK, "%s: ode_jvp", t->name);
        double scale = max_abs(n * n, J) * (double)n * max_abs(n, v);
        for (size_t i = 0; i < n; i++) {
            double ref = 0;
            for (size_t j = 0; j < n; j++)
                ref += J[i * n + j] * v[j];
            cr_assert_leq(fabs(Jv[i] - ref), ROUND_TOL * scale,
                          "%s: ode_jvp[%zu] = %.17g, (J v)[%zu] = %.17g", t->name, i, Jv[i], i, ref);
        }
        rnn_cell_free(c);
    }
}

Test(cells, seeding_is_deterministic)
{
    for (size_t ic = 0; ic < rnn_registry_count(); ic++) {
        const rnn_cell_type *t = rnn_registry_get(ic);
        rnn_cell *a = make_cell(t, M, D, 42), *b = make_cell(t, M, D, 42), *c = make_cell(t, M, D, 43);
        cr_assert_eq(a->n_params, b->n_params, "sizes");
        cr_assert(memcmp(a->params, b->params, a->n_params * sizeof(double)) == 0,
                  "%s: the same seed must give identical parameters", t->name);
        cr_assert(memcmp(a->params, c->params, a->n_params * sizeof(double)) != 0,
                  "%s: different seeds must give different parameters", t->name);
        cr_assert_eq(a->seed, 42UL, "%s: the seed is recorded", t->name);
        /* Re-initialising c from 42 reproduces a exactly, whatever it held before. */
        rnn_cell_init(c, 42);
        cr_assert(memcmp(a->params, c->params, a->n_params * sizeof(double)) == 0,
                  "%s: rnn_cell_init(42) must reproduce the parameters of seed 42", t->name);
        double s1[2 * M], s2[2 * M], s3[2 * M];
        rnn_cell_random_state(a, 7, 1.0, s1);
        rnn_cell_random_state(a, 7, 1.0, s2);
        rnn_cell_random_state(a, 8, 1.0, s3);
        cr_assert(memcmp(s1, s2, a->n_state * sizeof(double)) == 0, "random_state deterministic");
        cr_assert(memcmp(s1, s3, a->n_state * sizeof(double)) != 0, "random_state seed-dependent");
        rnn_cell_free(a);
        rnn_cell_free(b);
        rnn_cell_free(c);
    }
}

/* ---- cell-specific closed forms ----------------------------------------------------------------- */

/* At dt = 1 the tanh cell is the Elman RNN h_n = tanh(W h + U u + b) exactly, with tanh the
 * cell's own (rnn_tanh, vmath.c; within 2 ulp of libm's, asserted too). The weights,
 * state and input are small dyadic rationals (multiples of 1/8 and 1/4) so that every product
 * and partial sum is exact in floating point: the pre-activation is then the same number
 * whatever the summation order of BLAS, and the comparison can be exact (==). */
Test(cells, tanh_at_dt_one_is_elman_exactly)
{
    enum { m = 3, d = 2 };
    rnn_cell *c = make_cell(rnn_cell_tanh, m, d, 1);
    cr_assert_eq(rnn_cell_get_hyper(c, "dt"), 1.0, "the default dt of tanh is 1");
    const rnn_block *W = rnn_cell_block(c, "W"), *U = rnn_cell_block(c, "U"), *b = rnn_cell_block(c, "b");
    cr_assert(W && U && b, "tanh has blocks W, U, b");
    for (size_t i = 0; i < m * m; i++)
        c->params[W->offset + i] = (double)((int)(i * 5 % 9) - 4) / 8.0;
    for (size_t i = 0; i < m * d; i++)
        c->params[U->offset + i] = (double)((int)(i * 3 % 7) - 3) / 8.0;
    for (size_t i = 0; i < m; i++)
        c->params[b->offset + i] = (double)((int)i - 1) / 8.0;
    rnn_cell_params_changed(c);
    const double h[m] = {0.75, -0.5, 0.25}, u[d] = {-1.25, 0.5};
    double out[m];
    cr_assert_eq(rnn_cell_step(c, 0.0, h, u, out), RNN_OK, "step");
    for (size_t i = 0; i < m; i++) {
        double a = c->params[b->offset + i];
        for (size_t j = 0; j < m; j++)
            a += c->params[W->offset + i * m + j] * h[j];
        for (size_t k = 0; k < d; k++)
            a += c->params[U->offset + i * d + k] * u[k];
        cr_assert(out[i] == rnn_tanh(a), "h_n[%zu] = %.17g, tanh(W h + U u + b) = %.17g", i,
                  out[i], rnn_tanh(a));
        /* and the cell's tanh (vmath.c) is libm's to within 2 ulp */
        cr_assert_leq(fabs(out[i] - tanh(a)), 2 * DBL_EPSILON * fabs(tanh(a)), "vs libm");
    }
    /* With random (seeded) weights the agreement is to rounding of the pre-activation. */
    rnn_cell_init(c, 99);
    cr_assert_eq(rnn_cell_step(c, 0.0, h, u, out), RNN_OK, "step");
    for (size_t i = 0; i < m; i++) {
        double a = c->params[b->offset + i];
        for (size_t j = 0; j < m; j++)
            a += c->params[W->offset + i * m + j] * h[j];
        for (size_t k = 0; k < d; k++)
            a += c->params[U->offset + i * d + k] * u[k];
        cr_assert_leq(fabs(out[i] - tanh(a)), 1e-15, "random weights: %.17g vs %.17g", out[i], tanh(a));
    }
    rnn_cell_free(c);
}

/* coRNN, m = 3, both schemes written out here from THEORY.md §2:
 *   a = W y + Wz z + V u + b
 *   IMEX:      z_n = (z + dt (tanh(a) - gamma y)) / (1 + dt eps)
 *   explicit:  z_n = z + dt (tanh(a) - gamma y - eps z)
 *   both:      y_n = y + dt z_n
 * The library computes the IMEX update as kz z + kf dt (...) with kz = kf = 1/(1 + dt eps):
 * the same number up to a few roundings of O(1) values, hence ROUND_TOL. */
static void hand_cornn(const rnn_cell *c, int imex, const double *s, const double *u, double *out)
{
    const size_t m = c->m, d = c->d;
    const double dt = rnn_cell_get_hyper(c, "dt"), gamma = rnn_cell_get_hyper(c, "gamma"),
                 eps = rnn_cell_get_hyper(c, "eps");
    const double *W = c->params + rnn_cell_block(c, "W")->offset,
                 *Wz = c->params + rnn_cell_block(c, "Wz")->offset,
                 *V = c->params + rnn_cell_block(c, "V")->offset,
                 *b = c->params + rnn_cell_block(c, "b")->offset;
    const double *y = s, *z = s + m;
    for (size_t i = 0; i < m; i++) {
        double a = b[i];
        for (size_t j = 0; j < m; j++)
            a += W[i * m + j] * y[j] + Wz[i * m + j] * z[j];
        for (size_t k = 0; k < d; k++)
            a += V[i * d + k] * u[k];
        double zn = imex ? (z[i] + dt * (tanh(a) - gamma * y[i])) / (1.0 + dt * eps)
                         : z[i] + dt * (tanh(a) - gamma * y[i] - eps * z[i]);
        out[m + i] = zn;
        out[i] = y[i] + dt * zn;
    }
}

Test(cells, cornn_schemes_match_hand_written_step)
{
    enum { m = 3, d = 2 };
    double s[2 * m], u[d], lib[2][2 * m], hand[2 * m];
    fill_vec(1300, 2 * m, 1.0, s);
    fill_vec(1301, d, 1.0, u);
    const rnn_cell_type *types[2] = {rnn_cell_cornn_explicit, rnn_cell_cornn};
    for (int imex = 0; imex < 2; imex++) {
        rnn_cell *c = make_cell(types[imex], m, d, 5); /* same seed: same weights */
        char msg[256];
        /* A large dt and damping make the two schemes differ visibly. */
        cr_assert_eq(rnn_cell_set_hyper(c, "dt", 0.3, msg, sizeof msg), RNN_OK, "%s", msg);
        cr_assert_eq(rnn_cell_set_hyper(c, "gamma", 1.5, msg, sizeof msg), RNN_OK, "%s", msg);
        cr_assert_eq(rnn_cell_set_hyper(c, "eps", 2.0, msg, sizeof msg), RNN_OK, "%s", msg);
        cr_assert_eq(rnn_cell_step(c, 0.0, s, u, lib[imex]), RNN_OK, "step");
        hand_cornn(c, imex, s, u, hand);
        for (size_t i = 0; i < 2 * m; i++)
            cr_assert_leq(fabs(lib[imex][i] - hand[i]), ROUND_TOL * fmax(1.0, fabs(hand[i])),
                          "%s: entry %zu: library %.17g, hand %.17g", c->type->name, i,
                          lib[imex][i], hand[i]);
        rnn_cell_free(c);
    }
    /* The test must be able to tell the schemes apart: z_n differs by O(dt^2 eps). */
    cr_assert_gt(fabs(lib[0][m] - lib[1][m]), 1e-3, "IMEX and explicit steps should differ");
}

/* ---- hyperparameters ---------------------------------------------------------------------------- */

Test(cells, set_hyper_error_paths)
{
    for (size_t ic = 0; ic < rnn_registry_count(); ic++) {
        const rnn_cell_type *t = rnn_registry_get(ic);
        rnn_cell *c = make_cell(t, M, D, 1);
        /* The step hyperparameter: dt or eps, whichever is flagged. */
        const char *step_name = NULL;
        for (size_t i = 0; i < t->n_hypers; i++)
            if (t->hypers[i].flags & RNN_HYPER_STEP)
                step_name = t->hypers[i].name;
        cr_assert_not_null(step_name, "%s: a cell has a step hyperparameter", t->name);
        const double old = rnn_cell_dt(c);
        cr_assert_eq(old, rnn_cell_get_hyper(c, step_name), "%s: rnn_cell_dt", t->name);

        char msg[512] = "";
        cr_assert_eq(rnn_cell_set_hyper(c, "no_such_hyper", 1.0, msg, sizeof msg), RNN_EINVAL,
                     "%s: unknown name", t->name);
        cr_assert(strstr(msg, "no_such_hyper") != NULL, "%s: message names the unknown: '%s'", t->name, msg);
        const double bad[] = {NAN, -1.0, 0.0, INFINITY, -INFINITY};
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            msg[0] = '\0';
            int rc = rnn_cell_set_hyper(c, step_name, bad[k], msg, sizeof msg);
            cr_assert_eq(rc, RNN_EINVAL, "%s: %s = %g must be refused", t->name, step_name, bad[k]);
            cr_assert(msg[0] != '\0', "%s: %s = %g: empty message", t->name, step_name, bad[k]);
            cr_assert_eq(rnn_cell_dt(c), old, "%s: the old value is kept after %g", t->name, bad[k]);
        }
        cr_assert_eq(rnn_cell_set_dt(c, -1.0), RNN_EINVAL, "%s: rnn_cell_set_dt(-1)", t->name);
        cr_assert_eq(rnn_cell_dt(c), old, "%s: kept", t->name);
        /* Success path: set, read back through every accessor. */
        cr_assert_eq(rnn_cell_set_hyper(c, step_name, 0.125, msg, sizeof msg), RNN_OK, "%s", msg);
        cr_assert_eq(rnn_cell_dt(c), 0.125, "%s: dt read back", t->name);
        cr_assert(isnan(rnn_cell_get_hyper(c, "no_such_hyper")), "get_hyper(unknown) is NaN");
        cr_assert_eq(rnn_cell_hyper_index(c, "no_such_hyper"), -1, "hyper_index(unknown)");
        rnn_cell_free(c);
    }
}

Test(cells, cornn_imex_rejects_nonpositive_one_plus_dt_eps)
{
    rnn_cell *c = make_cell(rnn_cell_cornn, M, D, 1);
    char msg[512];
    const double dt0 = rnn_cell_get_hyper(c, "dt"), eps0 = rnn_cell_get_hyper(c, "eps");
    /* dt = 0.042 (default), eps = -30: 1 + dt eps = -0.26 */
    msg[0] = '\0';
    cr_assert_eq(rnn_cell_set_hyper(c, "eps", -30.0, msg, sizeof msg), RNN_EINVAL, "eps = -30");
    cr_assert(msg[0] != '\0', "a message is written");
    cr_assert_eq(rnn_cell_get_hyper(c, "eps"), eps0, "eps kept");
    /* The boundary 1 + dt eps == 0 exactly (dt = 0.5, eps = -2) is also refused. */
    cr_assert_eq(rnn_cell_set_hyper(c, "dt", 0.5, msg, sizeof msg), RNN_OK, "%s", msg);
    msg[0] = '\0';
    cr_assert_eq(rnn_cell_set_hyper(c, "eps", -2.0, msg, sizeof msg), RNN_EINVAL, "1 + dt eps = 0");
    cr_assert(msg[0] != '\0', "a message is written");
    cr_assert_eq(rnn_cell_get_hyper(c, "eps"), eps0, "eps kept");
    /* The joint check also guards dt: eps = -1 is fine at dt = 0.5, then dt = 2 is not. */
    cr_assert_eq(rnn_cell_set_hyper(c, "eps", -1.0, msg, sizeof msg), RNN_OK, "%s", msg);
    msg[0] = '\0';
    cr_assert_eq(rnn_cell_set_hyper(c, "dt", 2.0, msg, sizeof msg), RNN_EINVAL, "dt = 2, eps = -1");
    cr_assert(msg[0] != '\0', "a message is written");
    cr_assert_eq(rnn_cell_get_hyper(c, "dt"), 0.5, "dt kept");
    (void)dt0;
    rnn_cell_free(c);
}

Test(cells, set_assignment_malformed_forms)
{
    rnn_cell *c = make_cell(rnn_cell_tanh, M, D, 1);
    const char *bad[] = {"dt", "=1", "dt=", "dt=abc", "dt=1x", "dt=1e999", "dt = 1", ""};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char msg[512] = "";
        cr_assert_eq(rnn_cell_set_assignment(c, bad[k], msg, sizeof msg), RNN_EINVAL,
                     "'%s' must be refused", bad[k]);
        cr_assert(msg[0] != '\0', "'%s': empty message", bad[k]);
        cr_assert_eq(rnn_cell_dt(c), 1.0, "'%s': dt unchanged", bad[k]);
    }
    char msg[512] = "";
    cr_assert_eq(rnn_cell_set_assignment(c, "dt=0.25", msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert_eq(rnn_cell_dt(c), 0.25, "dt=0.25 applied");
    cr_assert_eq(rnn_cell_set_assignment(c, "dt=-0.25", msg, sizeof msg), RNN_EINVAL, "range");
    cr_assert_eq(rnn_cell_set_assignment(c, "nosuch=1", msg, sizeof msg), RNN_EINVAL, "name");
    cr_assert_eq(rnn_cell_dt(c), 0.25, "unchanged by refused assignments");
    rnn_cell_free(c);
}

/* Several assignments at once: joint constraints are checked after all are set, so order does
 * not matter, and on any error nothing changes. */
Test(cells, set_assignments_joint_and_atomic)
{
    rnn_cell *c = make_cell(rnn_cell_cornn, M, D, 1);
    char msg[512] = "";
    /* dt = 10, eps = -0.05 (1 + dt eps = 0.5): valid, reached in this order */
    cr_assert_eq(rnn_cell_set_hyper(c, "eps", -0.05, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert_eq(rnn_cell_set_hyper(c, "dt", 10.0, msg, sizeof msg), RNN_OK, "%s", msg);
    /* to dt = 30, eps = 0.5 (valid) although dt = 30 with the old eps is not */
    const char *both[] = {"dt=30", "eps=0.5"};
    cr_assert_eq(rnn_cell_set_assignments(c, 2, both, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert(rnn_cell_get_hyper(c, "dt") == 30.0 && rnn_cell_get_hyper(c, "eps") == 0.5, "both set");
    /* a jointly invalid pair is refused and nothing changes */
    const char *joint_bad[] = {"dt=0.5", "eps=-2"};
    msg[0] = '\0';
    cr_assert_eq(rnn_cell_set_assignments(c, 2, joint_bad, msg, sizeof msg), RNN_EINVAL, "1 + dt eps = 0");
    cr_assert(msg[0] != '\0', "a message");
    cr_assert(rnn_cell_get_hyper(c, "dt") == 30.0 && rnn_cell_get_hyper(c, "eps") == 0.5, "unchanged");
    /* a malformed or out-of-range one after a valid one: the valid one is rolled back */
    const char *later_bad[][2] = {{"dt=0.5", "eps=abc"}, {"gamma=1", "dt=-1"}, {"dt=0.5", "nosuch=1"}};
    for (size_t k = 0; k < 3; k++) {
        msg[0] = '\0';
        cr_assert_eq(rnn_cell_set_assignments(c, 2, later_bad[k], msg, sizeof msg), RNN_EINVAL,
                     "'%s', '%s'", later_bad[k][0], later_bad[k][1]);
        cr_assert(msg[0] != '\0', "a message");
        cr_assert(rnn_cell_get_hyper(c, "dt") == 30.0 && rnn_cell_get_hyper(c, "eps") == 0.5 &&
                      rnn_cell_get_hyper(c, "gamma") == 2.7,
                  "'%s', '%s': nothing changes", later_bad[k][0], later_bad[k][1]);
    }
    cr_assert_eq(rnn_cell_set_assignments(c, 0, NULL, msg, sizeof msg), RNN_OK, "no assignments");
    rnn_cell_free(c);
}

/* ---- allocation, wrappers, error codes ----------------------------------------------------------- */

Test(cells, alloc_invalid_sizes_and_free_null)
{
    for (size_t ic = 0; ic < rnn_registry_count(); ic++) {
        const rnn_cell_type *t = rnn_registry_get(ic);
        cr_assert_null(rnn_cell_alloc(t, 0, D, 1), "%s: m = 0", t->name);
        cr_assert_null(rnn_cell_alloc(t, M, 0, 1), "%s: d = 0", t->name);
        cr_assert_null(rnn_cell_alloc(t, 0, 0, 1), "%s: m = d = 0", t->name);
    }
    cr_assert_null(rnn_cell_alloc(NULL, M, D, 1), "NULL type");
    rnn_cell_free(NULL); /* must not crash */
    cr_assert(1, "rnn_cell_free(NULL) returned");
}

Test(cells, registry_is_consistent)
{
    cr_assert_geq(rnn_registry_count(), 5, "at least the five cells of THEORY.md §2");
    cr_assert_null(rnn_registry_get(rnn_registry_count()), "past the end");
    cr_assert_null(rnn_registry_find("no_such_cell"), "unknown name");
    for (size_t ic = 0; ic < rnn_registry_count(); ic++) {
        const rnn_cell_type *t = rnn_registry_get(ic);
        cr_assert_eq(rnn_registry_find(t->name), t, "find(%s)", t->name);
        cr_assert(strstr(rnn_registry_names(), t->name) != NULL, "names lists %s", t->name);
        cr_assert(t->step && t->step_jacobian && t->step_vjp && t->ode_rhs && t->ode_jacobian,
                  "%s: the required operations", t->name);
        cr_assert(t->order >= 1, "%s: order", t->name);
    }
}

Test(cells, wrappers_reject_null_arguments)
{
    for (size_t ic = 0; ic < rnn_registry_count(); ic++) {
        const rnn_cell_type *t = rnn_registry_get(ic);
        rnn_cell *c = make_cell(t, M, D, 1);
        double s[2 * M] = {0}, u[D] = {0}, o[2 * M], J[4 * M * M], v[2 * M] = {0};
        double *gth = calloc(c->n_params, sizeof(double));
        const char *n = t->name;
        cr_assert_eq(rnn_cell_step(NULL, 0, s, u, o), RNN_EINVAL, "%s step c", n);
        cr_assert_eq(rnn_cell_step(c, 0, NULL, u, o), RNN_EINVAL, "%s step s", n);
        cr_assert_eq(rnn_cell_step(c, 0, s, NULL, o), RNN_EINVAL, "%s step u", n);
        cr_assert_eq(rnn_cell_step(c, 0, s, u, NULL), RNN_EINVAL, "%s step out", n);
        cr_assert_eq(rnn_cell_step_batch(c, 0, 0, s, u, o), RNN_EINVAL, "%s batch nb = 0", n);
        cr_assert_eq(rnn_cell_step_jacobian(NULL, 0, s, u, J), RNN_EINVAL, "%s jac c", n);
        cr_assert_eq(rnn_cell_step_jacobian(c, 0, NULL, u, J), RNN_EINVAL, "%s jac s", n);
        cr_assert_eq(rnn_cell_step_jacobian(c, 0, s, NULL, J), RNN_EINVAL, "%s jac u", n);
        cr_assert_eq(rnn_cell_step_jacobian(c, 0, s, u, NULL), RNN_EINVAL, "%s jac J", n);
        cr_assert_eq(rnn_cell_step_vjp(NULL, 0, s, u, v, o, gth), RNN_EINVAL, "%s vjp c", n);
        cr_assert_eq(rnn_cell_step_vjp(c, 0, s, u, NULL, o, gth), RNN_EINVAL, "%s vjp g", n);
        cr_assert_eq(rnn_cell_step_vjp(c, 0, s, u, v, NULL, gth), RNN_EINVAL, "%s vjp gs", n);
        cr_assert_eq(rnn_cell_step_vjp(c, 0, s, u, v, o, NULL), RNN_EINVAL, "%s vjp gtheta", n);
        cr_assert_eq(rnn_cell_ode_rhs(NULL, 0, s, u, o), RNN_EINVAL, "%s rhs c", n);
        cr_assert_eq(rnn_cell_ode_rhs(c, 0, NULL, u, o), RNN_EINVAL, "%s rhs s", n);
        cr_assert_eq(rnn_cell_ode_rhs(c, 0, s, u, NULL), RNN_EINVAL, "%s rhs f", n);
        cr_assert_eq(rnn_cell_ode_jacobian(c, 0, s, NULL, J), RNN_EINVAL, "%s ode_jac u", n);
        cr_assert_eq(rnn_cell_ode_jacobian(c, 0, s, u, NULL), RNN_EINVAL, "%s ode_jac J", n);
        cr_assert_eq(rnn_cell_ode_jvp(c, 0, s, u, NULL, o), RNN_EINVAL, "%s jvp v", n);
        cr_assert_eq(rnn_cell_ode_jvp(c, 0, s, u, v, NULL), RNN_EINVAL, "%s jvp Jv", n);
        cr_assert_eq(rnn_cell_run(c, NULL, 0, s, 1, o), RNN_EINVAL, "%s run in", n);
        rnn_input *wrong_d = rnn_input_alloc_zero(D + 1);
        cr_assert_eq(rnn_cell_run(c, wrong_d, 0, s, 1, o), RNN_EINVAL, "%s run with d mismatch", n);
        rnn_input_free(wrong_d);
        free(gth);
        rnn_cell_free(c);
    }
}

Test(cells, wrappers_report_nonfinite_state)
{
    for (size_t ic = 0; ic < rnn_registry_count(); ic++) {
        const rnn_cell_type *t = rnn_registry_get(ic);
        rnn_cell *c = make_cell(t, M, D, 1);
        const size_t n = c->n_state;
        double s[2 * M], u[D], o[2 * M], J[4 * M * M], v[2 * M];
        double *gth = calloc(c->n_params, sizeof(double));
        fill_vec(1400, n, 1.0, s);
        fill_vec(1401, D, 1.0, u);
        fill_vec(1402, n, 1.0, v);
        s[0] = NAN;
        const char *nm = t->name;
        cr_assert_eq(rnn_cell_step(c, 0, s, u, o), RNN_ENONFINITE, "%s step", nm);
        cr_assert_eq(rnn_cell_step_jacobian(c, 0, s, u, J), RNN_ENONFINITE, "%s step_jacobian", nm);
        cr_assert_eq(rnn_cell_step_vjp(c, 0, s, u, v, o, gth), RNN_ENONFINITE, "%s step_vjp", nm);
        cr_assert_eq(rnn_cell_ode_rhs(c, 0, s, u, o), RNN_ENONFINITE, "%s ode_rhs", nm);
        cr_assert_eq(rnn_cell_ode_jacobian(c, 0, s, u, J), RNN_ENONFINITE, "%s ode_jacobian", nm);
        cr_assert_eq(rnn_cell_ode_jvp(c, 0, s, u, v, o), RNN_ENONFINITE, "%s ode_jvp", nm);
        /* A NaN input is caught the same way. */
        s[0] = 0.5;
        u[0] = NAN;
        cr_assert_eq(rnn_cell_step(c, 0, s, u, o), RNN_ENONFINITE, "%s step (NaN input)", nm);
        free(gth);
        rnn_cell_free(c);
    }
}

/* An optional operation left NULL is reported as RNN_EUNSUPPORTED by its wrapper. */
Test(cells, missing_optional_op_is_unsupported)
{
    rnn_cell_type no_jvp = *rnn_cell_tanh;
    no_jvp.ode_jvp = NULL;
    rnn_cell *c = make_cell(&no_jvp, M, D, 1);
    double s[M] = {0}, u[D] = {0}, v[M] = {0}, Jv[M];
    cr_assert_eq(rnn_cell_ode_jvp(c, 0, s, u, v, Jv), RNN_EUNSUPPORTED, "NULL ode_jvp");
    rnn_cell_free(c);
}

/* rnn_cell_run: S[0] = s0 and S[k+1] = step(S[k], u(t0 + k dt)), t_k not accumulated. */
Test(cells, run_matches_manual_steps)
{
    enum { N = 12 };
    rnn_cell *c = make_cell(rnn_cell_cornn, M, D, 3);
    rnn_input *in = rnn_input_alloc_sines(D, 5);
    cr_assert_not_null(in, "sines");
    const size_t n = c->n_state;
    double S[(N + 1) * 2 * M], s[2 * M], sn[2 * M], u[D];
    fill_vec(1500, n, 1.0, s);
    cr_assert_eq(rnn_cell_run(c, in, 0.5, s, N, S), RNN_OK, "run");
    cr_assert(memcmp(S, s, n * sizeof(double)) == 0, "S[0] = s0");
    const double dt = rnn_cell_dt(c);
    for (size_t k = 0; k < N; k++) {
        rnn_input_eval(in, 0.5 + (double)k * dt, u);
        cr_assert_eq(rnn_cell_step(c, 0.5 + (double)k * dt, s, u, sn), RNN_OK, "step");
        cr_assert(memcmp(S + (k + 1) * n, sn, n * sizeof(double)) == 0, "S[%zu] equals the manual step", k + 1);
        memcpy(s, sn, sizeof sn);
    }
    rnn_input_free(in);
    rnn_cell_free(c);
}

Test(cells, strerror_and_usage_classification)
{
    const int codes[] = {RNN_OK, RNN_EINVAL, RNN_ENOMEM, RNN_EUNSUPPORTED, RNN_ENONFINITE,
                         RNN_ESOLVER, RNN_EIO, RNN_EFORMAT};
    const size_t nc = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < nc; i++) {
        const char *s = rnn_strerror(codes[i]);
        cr_assert(s && s[0] != '\0', "rnn_strerror(%d) is empty", codes[i]);
        for (size_t j = 0; j < i; j++)
            cr_assert(strcmp(s, rnn_strerror(codes[j])) != 0, "codes %d and %d share a message",
                      codes[i], codes[j]);
    }
    cr_assert(rnn_strerror(12345) && rnn_strerror(12345)[0], "an unknown code still has a message");
    cr_assert(rnn_strerror(-1) && rnn_strerror(-1)[0], "a negative code still has a message");
    /* Bad input (CLI exit 2) ... */
    cr_assert(rnn_status_is_usage(RNN_EINVAL), "EINVAL is usage");
    cr_assert(rnn_status_is_usage(RNN_EIO), "EIO is usage");
    cr_assert(rnn_status_is_usage(RNN_EFORMAT), "EFORMAT is usage");
    cr_assert(rnn_status_is_usage(RNN_EUNSUPPORTED), "EUNSUPPORTED is usage");
    /* ... against numerical failures (exit 3) and success. */
    cr_assert(!rnn_status_is_usage(RNN_ENONFINITE), "ENONFINITE is numerical");
    cr_assert(!rnn_status_is_usage(RNN_ESOLVER), "ESOLVER is numerical");
    cr_assert(!rnn_status_is_usage(RNN_OK), "OK is not a usage error");
}
