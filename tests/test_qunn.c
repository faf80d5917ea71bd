/*
 * test_qunn.c — QUNN (cells/qunn.c) and the dense t-step baseline (cells/dense_tstep.c) against
 * references written out here, independently of the library's code paths:
 *   - a single generator's step is the plane rotation by dt (a.u + c), plus the injection;
 *   - the generator enumeration is lexicographic and cycles;
 *   - qunn:<t> at m = 3 against full 3 x 3 matrices exp(phi G) = I + sin(phi) G +
 *     (1 - cos(phi)) G^2 multiplied in the order E_1 ... E_t (step, Jacobian, ODE);
 *   - the Givens decomposition round-trips targets built from random rotations in random
 *     planes, and rejects matrices outside SO(m);
 *   - dense:1 is the tanh cell to the bit; dense:3 against the recursion written out by hand;
 *     dense:2 from a consistent start converges to its ODE at order 1;
 *   - family names resolve, bad ones do not, and concurrent creation yields one type per t.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"
#include "cell.h"

/* Two computations of the same O(1) quantity that differ in summation order or in how a
 * rotation is applied (in place vs a full matrix product) agree to a few ulps per operation:
 * <= 20 rotations or products of 3-vectors here, ~ 1e-15; 1e-13 leaves a margin of 100 while
 * a wrong angle, sign or order is an O(1) error. */
#define ROUND_TOL 1e-13
/* Round trip of the decomposition at m <= 10: 45 rotations each way, ~ 1e-14. */
#define GIVENS_TOL 1e-12

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
    cr_assert_not_null(t, "type");
    rnn_cell *c = rnn_cell_alloc(t, m, d, seed);
    cr_assert_not_null(c, "rnn_cell_alloc(%s, %zu, %zu) failed", t->name, m, d);
    return c;
}

static double *blk(rnn_cell *c, const char *name)
{
    const rnn_block *b = rnn_cell_block(c, name);
    cr_assert_not_null(b, "%s has a block %s", c->type->name, name);
    return c->params + b->offset;
}

static void set(rnn_cell *c, const char *name, double v)
{
    char msg[256];
    cr_assert_eq(rnn_cell_set_hyper(c, name, v, msg, sizeof msg), RNN_OK, "%s", msg);
}

/* ---- QUNN: hand-written references -------------------------------------------------------- */

/* The k-th pair of the lexicographic enumeration, counted here by walking the list. */
static void own_pair(size_t m, size_t k, size_t *pi, size_t *pj)
{
    const size_t n = m * (m - 1) / 2;
    size_t q = k % n;
    *pi = *pj = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = i + 1; j < m; j++)
            if (q-- == 0) {
                *pi = i;
                *pj = j;
                return;
            }
}

/* E = exp(phi G), G = E_ij - E_ji, as a full m x m matrix: I + sin(phi) G + (1 - cos(phi)) G^2. */
static void own_rotation(size_t m, size_t i, size_t j, double phi, double *E)
{
    double *G = calloc(m * m, sizeof(double)), *G2 = calloc(m * m, sizeof(double));
    cr_assert(G && G2, "alloc");
    G[i * m + j] = 1.0;
    G[j * m + i] = -1.0;
    for (size_t r = 0; r < m; r++)
        for (size_t col = 0; col < m; col++)
            for (size_t k = 0; k < m; k++)
                G2[r * m + col] += G[r * m + k] * G[k * m + col];
    for (size_t r = 0; r < m; r++)
        for (size_t col = 0; col < m; col++)
            E[r * m + col] = (r == col) + sin(phi) * G[r * m + col] + (1.0 - cos(phi)) * G2[r * m + col];
    free(G), free(G2);
}

/* P = E_1 E_2 ... E_t with the angles phi, by full matrix products (left to right). */
static void own_product(size_t m, size_t t, const double *phi, double *P)
{
    double *E = malloc(m * m * sizeof(double)), *T = malloc(m * m * sizeof(double));
    cr_assert(E && T, "alloc");
    memset(P, 0, m * m * sizeof(double));
    for (size_t i = 0; i < m; i++)
        P[i * m + i] = 1.0;
    for (size_t k = 0; k < t; k++) {
        size_t i, j;
        own_pair(m, k, &i, &j);
        own_rotation(m, i, j, phi[k], E);
        for (size_t r = 0; r < m; r++)
            for (size_t col = 0; col < m; col++) {
                double v = 0;
                for (size_t l = 0; l < m; l++)
                    v += P[r * m + l] * E[l * m + col];
                T[r * m + col] = v;
            }
        memcpy(P, T, m * m * sizeof(double));
    }
    free(E), free(T);
}

Test(qunn, single_generator_is_the_plane_rotation_by_dt_theta)
{
    enum { m = 3, d = 2 };
    rnn_cell *c = make_cell(rnn_cell_qunn_t(1), m, d, 1);
    blk(c, "a")[0] = 0.3;
    blk(c, "a")[1] = -0.2;
    blk(c, "c")[0] = 0.7;
    rnn_cell_params_changed(c);
    set(c, "dt", 0.5);
    set(c, "inject", 0.0);
    const double h[m] = {0.75, -0.5, 0.25}, u[d] = {1.0, 2.0};
    const double phi = 0.5 * (0.3 * 1.0 - 0.2 * 2.0 + 0.7); /* dt (a.u + c) = 0.3 */
    double out[m];
    cr_assert_eq(rnn_cell_step(c, 0.0, h, u, out), RNN_OK, "step");
    cr_assert_leq(fabs(out[0] - (cos(phi) * h[0] + sin(phi) * h[1])), ROUND_TOL, "h_0");
    cr_assert_leq(fabs(out[1] - (-sin(phi) * h[0] + cos(phi) * h[1])), ROUND_TOL, "h_1");
    cr_assert(out[2] == h[2], "the coordinate outside the plane is untouched");
    /* with the injection: + dt kappa tanh(V u + b) */
    set(c, "inject", 0.8);
    const double *V = blk(c, "V"), *b = blk(c, "b");
    cr_assert_eq(rnn_cell_step(c, 0.0, h, u, out), RNN_OK, "step");
    const double rot[m] = {cos(phi) * h[0] + sin(phi) * h[1], -sin(phi) * h[0] + cos(phi) * h[1], h[2]};
    for (size_t i = 0; i < m; i++) {
        double z = b[i] + V[i * d] * u[0] + V[i * d + 1] * u[1];
        cr_assert_leq(fabs(out[i] - (rot[i] + 0.5 * 0.8 * tanh(z))), ROUND_TOL, "injected h_%zu", i);
    }
    rnn_cell_free(c);
}

Test(qunn, enumeration_is_lexicographic_and_cycles)
{
    static const size_t expect[][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
    for (size_t k = 0; k < 14; k++) {
        size_t i, j;
        rnn_qunn_pair(4, k, &i, &j);
        cr_assert(i == expect[k % 6][0] && j == expect[k % 6][1], "k = %zu: (%zu, %zu)", k, i, j);
    }
}

/* qunn:<t> at m = 3, t = 7 (> 3 pairs: cycled), random weights, against full matrices. */
Test(qunn, step_jacobian_and_ode_against_full_matrices)
{
    enum { m = 3, d = 2, t = 7 };
    rnn_cell *c = make_cell(rnn_cell_qunn_t(t), m, d, 5);
    set(c, "dt", 0.37);
    set(c, "inject", 1.3);
    double h[m], u[d], phi[t], theta[t], P[m * m], J[m * m], out[m], f[m];
    fill_vec(1, m, 1.0, h);
    fill_vec(2, d, 1.0, u);
    const double *a = blk(c, "a"), *cc = blk(c, "c"), *V = blk(c, "V"), *b = blk(c, "b");
    for (size_t k = 0; k < t; k++) {
        theta[k] = a[k * d] * u[0] + a[k * d + 1] * u[1] + cc[k];
        phi[k] = 0.37 * theta[k];
    }
    own_product(m, t, phi, P);
    cr_assert_eq(rnn_cell_step(c, 0.0, h, u, out), RNN_OK, "step");
    cr_assert_eq(rnn_cell_step_jacobian(c, 0.0, h, u, J), RNN_OK, "jacobian");
    for (size_t i = 0; i < m; i++) {
        double z = b[i] + V[i * d] * u[0] + V[i * d + 1] * u[1], ph = 0;
        for (size_t j = 0; j < m; j++) {
            ph += P[i * m + j] * h[j];
            cr_assert_leq(fabs(J[i * m + j] - P[i * m + j]), ROUND_TOL, "J[%zu][%zu]", i, j);
        }
        cr_assert_leq(fabs(out[i] - (ph + 0.37 * 1.3 * tanh(z))), ROUND_TOL, "step[%zu]", i);
    }
    /* ODE: A = sum_k theta_k G_k, f = A h + kappa tanh(V u + b) */
    double Af[m * m] = {0};
    for (size_t k = 0; k < t; k++) {
        size_t i, j;
        own_pair(m, k, &i, &j);
        Af[i * m + j] += theta[k];
        Af[j * m + i] -= theta[k];
    }
    cr_assert_eq(rnn_cell_ode_rhs(c, 0.0, h, u, f), RNN_OK, "rhs");
    cr_assert_eq(rnn_cell_ode_jacobian(c, 0.0, h, u, J), RNN_OK, "ode jacobian");
    for (size_t i = 0; i < m; i++) {
        double z = b[i] + V[i * d] * u[0] + V[i * d + 1] * u[1], v = 1.3 * tanh(z);
        for (size_t j = 0; j < m; j++) {
            v += Af[i * m + j] * h[j];
            cr_assert_leq(fabs(J[i * m + j] - Af[i * m + j]), ROUND_TOL, "A[%zu][%zu]", i, j);
        }
        cr_assert_leq(fabs(f[i] - v), ROUND_TOL, "f[%zu]", i);
    }
    rnn_cell_free(c);
}

Test(qunn, parameter_count_is_t_times_d_plus_one_plus_injection)
{
    static const size_t ts[] = {1, 5, 28, 300}, ms[] = {1, 4, 9};
    for (size_t it = 0; it < 4; it++)
        for (size_t im = 0; im < 3; im++) {
            rnn_cell *c = make_cell(rnn_cell_qunn_t(ts[it]), ms[im], 3, 1);
            cr_assert_eq(c->n_params, ts[it] * 4 + ms[im] * 4, "qunn:%zu m = %zu", ts[it], ms[im]);
            rnn_cell_free(c);
        }
    rnn_cell *c = make_cell(rnn_cell_dense_t(3), 4, 3, 1);
    cr_assert_eq(c->n_params, 3 * 16 + 4 * 3 + 4, "dense:3: t m^2 + m d + m");
    cr_assert_eq(c->n_state, 12, "dense:3 stacks 3 states");
    rnn_cell_free(c);
}

/* m = 1: SO(1) is trivial, there are no pairs; the cell is h + dt tanh(V u + b). */
Test(qunn, one_unit_has_no_rotation)
{
    rnn_cell *c = make_cell(rnn_cell_qunn, 1, 2, 3);
    const double h = 0.4, u[2] = {0.5, -1.0};
    double out, J, f;
    cr_assert_eq(rnn_cell_step(c, 0.0, &h, u, &out), RNN_OK, "step");
    cr_assert_eq(rnn_cell_step_jacobian(c, 0.0, &h, u, &J), RNN_OK, "jacobian");
    cr_assert_eq(rnn_cell_ode_jacobian(c, 0.0, &h, u, &f), RNN_OK, "ode jacobian");
    const double *V = blk(c, "V"), *b = blk(c, "b");
    cr_assert_leq(fabs(out - (h + tanh(V[0] * u[0] + V[1] * u[1] + b[0]))), ROUND_TOL, "step");
    cr_assert(J == 1.0 && f == 0.0, "J = 1, A = 0");
    rnn_cell_free(c);
}

/* ---- the Givens decomposition -------------------------------------------------------------- */

/* A rotation built independently of the enumeration: 3 m^2 rotations in random planes. */
static void random_rotation(unsigned long seed, size_t m, double *R)
{
    const size_t n = 3 * m * m;
    double *x = malloc(3 * n * sizeof(double)), *E = malloc(m * m * sizeof(double)),
           *T = malloc(m * m * sizeof(double));
    cr_assert(x && E && T, "alloc");
    fill_vec(seed, 3 * n, 1.0, x);
    memset(R, 0, m * m * sizeof(double));
    for (size_t i = 0; i < m; i++)
        R[i * m + i] = 1.0;
    for (size_t k = 0; k < n && m > 1; k++) {
        size_t i = (size_t)((x[3 * k] + 1.0) * 0.5 * (double)m) % m;
        size_t j = (size_t)((x[3 * k + 1] + 1.0) * 0.5 * (double)m) % m;
        if (i == j)
            continue;
        own_rotation(m, i, j, M_PI * x[3 * k + 2], E);
        for (size_t r = 0; r < m; r++)
            for (size_t col = 0; col < m; col++) {
                double v = 0;
                for (size_t l = 0; l < m; l++)
                    v += E[r * m + l] * R[l * m + col];
                T[r * m + col] = v;
            }
        memcpy(R, T, m * m * sizeof(double));
    }
    free(x), free(E), free(T);
}

Test(qunn, givens_decomposition_round_trips)
{
    for (size_t m = 1; m <= 10; m++) {
        const size_t n = m * (m - 1) / 2;
        double R[100], P[100], theta[45];
        random_rotation(100 + m, m, R);
        cr_assert_eq(rnn_qunn_givens_decompose(m, R, theta), RNN_OK, "m = %zu", m);
        own_product(m, n, theta, P);
        for (size_t i = 0; i < m * m; i++)
            cr_assert_leq(fabs(P[i] - R[i]), GIVENS_TOL, "m = %zu, entry %zu: %g vs %g", m, i,
                          P[i], R[i]);
    }
}

Test(qunn, givens_decomposition_of_known_rotations)
{
    /* m = 2: [[cos a, sin a], [-sin a, cos a]] = exp(a G_01), so theta = a for a in (-pi, pi) */
    for (double a = -3.0; a <= 3.0; a += 0.75) {
        const double R[4] = {cos(a), sin(a), -sin(a), cos(a)};
        double theta;
        cr_assert_eq(rnn_qunn_givens_decompose(2, R, &theta), RNN_OK, "a = %g", a);
        cr_assert_leq(fabs(theta - a), ROUND_TOL, "a = %g: theta = %.17g", a, theta);
    }
    /* the identity needs no rotation at all */
    double I[16] = {0}, th[6];
    for (size_t i = 0; i < 4; i++)
        I[i * 4 + i] = 1.0;
    cr_assert_eq(rnn_qunn_givens_decompose(4, I, th), RNN_OK, "identity");
    for (size_t k = 0; k < 6; k++)
        cr_assert(th[k] == 0.0, "theta_%zu = %g", k, th[k]);
}

Test(qunn, givens_decomposition_rejects_matrices_outside_so_m)
{
    double th[3];
    const double reflect[9] = {-1, 0, 0, 0, 1, 0, 0, 0, 1};  /* orthogonal, det -1 */
    const double scaled[9] = {2, 0, 0, 0, 2, 0, 0, 0, 2};    /* not orthogonal */
    const double nan3[9] = {NAN, 0, 0, 0, 1, 0, 0, 0, 1};
    cr_assert_eq(rnn_qunn_givens_decompose(3, reflect, th), RNN_EINVAL, "det -1");
    cr_assert_eq(rnn_qunn_givens_decompose(3, scaled, th), RNN_EINVAL, "2 I");
    cr_assert_eq(rnn_qunn_givens_decompose(3, nan3, th), RNN_EINVAL, "NaN");
    cr_assert_eq(rnn_qunn_givens_decompose(0, reflect, th), RNN_EINVAL, "m = 0");
}

/* ---- the dense baseline --------------------------------------------------------------------- */

/* dense:1 and tanh compute the same products in the same order: equal to the bit. */
Test(qunn, dense_one_is_the_tanh_cell)
{
    enum { m = 5, d = 3 };
    rnn_cell *tc = make_cell(rnn_cell_tanh, m, d, 11), *dc = make_cell(rnn_cell_dense_t(1), m, d, 12);
    cr_assert_eq(tc->n_params, dc->n_params, "same parameter count");
    cr_assert(dc->type->history == 1 && dc->type->memory == 1, "one-step");
    cr_assert(dc->type->tableau && strcmp(dc->type->tableau, "euler") == 0, "forward Euler");
    memcpy(blk(dc, "W"), blk(tc, "W"), m * m * sizeof(double));
    memcpy(blk(dc, "U"), blk(tc, "U"), m * d * sizeof(double));
    memcpy(blk(dc, "b"), blk(tc, "b"), m * sizeof(double));
    rnn_cell_params_changed(dc);
    double s[m], u[d], g[m], o1[m], o2[m], J1[m * m], J2[m * m], gs1[m], gs2[m];
    double *gt1 = calloc(tc->n_params, sizeof(double)), *gt2 = calloc(dc->n_params, sizeof(double));
    cr_assert(gt1 && gt2, "alloc");
    fill_vec(3, m, 1.0, s);
    fill_vec(4, d, 1.0, u);
    fill_vec(5, m, 1.0, g);
    static const double dts[] = {1.0, 0.3};
    for (size_t k = 0; k < 2; k++) {
        set(tc, "dt", dts[k]);
        set(dc, "dt", dts[k]);
        cr_assert_eq(rnn_cell_step(tc, 0.0, s, u, o1), RNN_OK, "tanh step");
        cr_assert_eq(rnn_cell_step(dc, 0.0, s, u, o2), RNN_OK, "dense step");
        cr_assert_eq(memcmp(o1, o2, sizeof o1), 0, "dt = %g: step differs", dts[k]);
        cr_assert_eq(rnn_cell_step_jacobian(tc, 0.0, s, u, J1), RNN_OK, "tanh J");
        cr_assert_eq(rnn_cell_step_jacobian(dc, 0.0, s, u, J2), RNN_OK, "dense J");
        cr_assert_eq(memcmp(J1, J2, sizeof J1), 0, "dt = %g: Jacobian differs", dts[k]);
        cr_assert_eq(rnn_cell_step_vjp(tc, 0.0, s, u, g, gs1, gt1), RNN_OK, "tanh vjp");
        cr_assert_eq(rnn_cell_step_vjp(dc, 0.0, s, u, g, gs2, gt2), RNN_OK, "dense vjp");
        for (size_t i = 0; i < m; i++)
            cr_assert_leq(fabs(gs1[i] - gs2[i]), ROUND_TOL, "dt = %g: dL/ds[%zu]", dts[k], i);
        for (size_t i = 0; i < tc->n_params; i++)
            cr_assert_leq(fabs(gt1[i] - gt2[i]), ROUND_TOL, "dt = %g: dL/dtheta[%zu]", dts[k], i);
        cr_assert_eq(rnn_cell_ode_rhs(tc, 0.0, s, u, o1), RNN_OK, "tanh rhs");
        cr_assert_eq(rnn_cell_ode_rhs(dc, 0.0, s, u, o2), RNN_OK, "dense rhs");
        for (size_t i = 0; i < m; i++)
            cr_assert_leq(fabs(o1[i] - o2[i]), ROUND_TOL, "rhs[%zu]", i);
    }
    free(gt1), free(gt2);
    rnn_cell_free(tc), rnn_cell_free(dc);
}

/* dense:3 at m = 3: the recursion, its companion Jacobian and the per-block ODE by hand. */
Test(qunn, dense_three_against_the_recursion_by_hand)
{
    enum { m = 3, d = 2, t = 3, n = t * m };
    rnn_cell *c = make_cell(rnn_cell_dense_t(t), m, d, 21);
    cr_assert(c->type->history == t && c->type->memory == t && c->type->stages == 1, "class");
    cr_assert_null(c->type->tableau, "a multistep recursion is no Runge-Kutta tableau");
    const double dt = 0.2;
    set(c, "dt", dt);
    const double *W = blk(c, "W"), *U = blk(c, "U"), *b = blk(c, "b");
    double s[n], u[d], out[n], J[n * n], f[n], a[m];
    fill_vec(7, n, 1.0, s);
    fill_vec(8, d, 1.0, u);
    /* a = W_1 h_{n-1} + W_2 h_{n-2} + W_3 h_{n-3} + U u + b, W_k = W[:, (k-1) m : k m] */
    for (size_t i = 0; i < m; i++) {
        a[i] = b[i] + U[i * d] * u[0] + U[i * d + 1] * u[1];
        for (size_t k = 0; k < t; k++)
            for (size_t j = 0; j < m; j++)
                a[i] += W[i * n + k * m + j] * s[k * m + j];
    }
    cr_assert_eq(rnn_cell_step(c, 0.0, s, u, out), RNN_OK, "step");
    cr_assert_eq(rnn_cell_step_jacobian(c, 0.0, s, u, J), RNN_OK, "jacobian");
    for (size_t i = 0; i < m; i++) {
        cr_assert_leq(fabs(out[i] - (s[i] + dt * (-s[i] + tanh(a[i])))), ROUND_TOL, "h_n[%zu]", i);
        cr_assert(out[m + i] == s[i] && out[2 * m + i] == s[m + i], "the history shifts");
        const double di = 1.0 - tanh(a[i]) * tanh(a[i]);
        for (size_t col = 0; col < n; col++) {
            double e = dt * di * W[i * n + col] + (col == i ? 1.0 - dt : 0.0);
            cr_assert_leq(fabs(J[i * n + col] - e), ROUND_TOL, "J[%zu][%zu]", i, col);
        }
    }
    for (size_t r = m; r < n; r++)
        for (size_t col = 0; col < n; col++)
            cr_assert(J[r * n + col] == (col + m == r ? 1.0 : 0.0), "companion row %zu", r);
    /* ODE: every block h_j' = -h_j + tanh((W_1 + W_2 + W_3) h_j + U u + b) */
    cr_assert_eq(rnn_cell_ode_rhs(c, 0.0, s, u, f), RNN_OK, "rhs");
    for (size_t blk_j = 0; blk_j < t; blk_j++)
        for (size_t i = 0; i < m; i++) {
            double z = b[i] + U[i * d] * u[0] + U[i * d + 1] * u[1];
            for (size_t j = 0; j < m; j++)
                z += (W[i * n + j] + W[i * n + m + j] + W[i * n + 2 * m + j]) * s[blk_j * m + j];
            cr_assert_leq(fabs(f[blk_j * m + i] - (tanh(z) - s[blk_j * m + i])), ROUND_TOL,
                          "f block %zu [%zu]", blk_j, i);
        }
    rnn_cell_free(c);
}

/* From a consistent start (every block = h_0: the invariant manifold of the stacked ODE) the
 * t-step recursion is a first-order method: the older blocks lag by O(dt) and the start
 * misses h(-k dt) by O(dt), both of the order of the global error. */
Test(qunn, dense_converges_at_order_one_from_a_consistent_start)
{
    enum { m = 6, d = 2 };
    rnn_cell *c = make_cell(rnn_cell_dense, m, d, 31);
    const size_t t = c->type->history;
    cr_assert_eq(t, RNN_DENSE_DEFAULT_T, "registered dense");
    rnn_input *in = rnn_input_alloc_sines(d, 32);
    double *s0 = malloc(c->n_state * sizeof(double));
    cr_assert(in && s0, "alloc");
    fill_vec(33, m, 0.5, s0);
    for (size_t k = 1; k < t; k++)
        memcpy(s0 + k * m, s0, m * sizeof(double));
    rnn_converge_opts o;
    rnn_converge_opts_default(&o);
    rnn_converge_result r;
    char msg[512];
    cr_assert_eq(rnn_converge(c, in, s0, &o, &r, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert(r.ref_ok, "reference accurate enough");
    cr_assert_leq(fabs(r.order - 1.0), 0.15, "fitted order %g", r.order);
    free(s0);
    rnn_input_free(in);
    rnn_cell_free(c);
}

/* ---- names --------------------------------------------------------------------------------- */

Test(qunn, family_names_resolve_and_bad_ones_do_not)
{
    cr_assert_eq(rnn_registry_find("qunn"), rnn_cell_qunn, "qunn is registered");
    cr_assert_eq(rnn_registry_find("dense"), rnn_cell_dense, "dense is registered");
    cr_assert_eq(rnn_cell_qunn_generators(rnn_cell_qunn), RNN_QUNN_DEFAULT_T, "default t");
    cr_assert_eq(rnn_cell_qunn_generators(rnn_cell_tanh), 0, "tanh is not a qunn");
    const rnn_cell_type *q5 = rnn_registry_find("qunn:5");
    cr_assert_not_null(q5, "qunn:5");
    cr_assert_str_eq(q5->name, "qunn:5");
    cr_assert_eq(q5, rnn_cell_qunn_t(5), "cached: one type per t");
    cr_assert_eq(rnn_cell_qunn_generators(q5), 5, "t");
    const rnn_cell_type *dmax = rnn_registry_find("dense:64");
    cr_assert(dmax && dmax->history == 64 && strcmp(dmax->name, "dense:64") == 0, "dense:64");
    cr_assert_not_null(rnn_registry_find("qunn:65536"), "the cap itself");
    static const char *bad[] = {"qunn:0", "qunn:abc", "qunn:", "qunn:-1", "qunn:+3", "qunn: 3",
                                "qunn:3x", "qunn:007", "qunn:65537", "qunn:99999999999999999999999",
                                "dense:0", "dense:65", "dense:x", "Qunn:3", "qunn3", "qunn:3:4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_null(rnn_registry_find(bad[i]), "'%s' must not resolve", bad[i]);
    cr_assert_null(rnn_cell_qunn_t(0), "t = 0");
    cr_assert_null(rnn_cell_qunn_t(RNN_QUNN_MAX_T + 1), "t above the cap");
    cr_assert_null(rnn_cell_dense_t(0), "t = 0");
    cr_assert_null(rnn_cell_dense_t(RNN_DENSE_MAX_T + 1), "t above the cap");
}

Test(qunn, concurrent_creation_yields_one_type_per_t)
{
    enum { N = 64 };
    const rnn_cell_type *p[N], *q[N];
#pragma omp parallel for
    for (int i = 0; i < N; i++) {
        p[i] = rnn_cell_qunn_t(1000 + (size_t)(i % 8));
        q[i] = rnn_cell_dense_t(40 + (size_t)(i % 8));
    }
    for (int i = 0; i < N; i++) {
        cr_assert_not_null(p[i], "created");
        cr_assert_eq(p[i], p[i % 8], "qunn:%d: one type", 1000 + i % 8);
        cr_assert_eq(q[i], q[i % 8], "dense:%d: one type", 40 + i % 8);
        cr_assert_eq(rnn_cell_qunn_generators(p[i]), 1000 + (size_t)(i % 8), "its t");
    }
}
