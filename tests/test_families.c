/*
 * test_families.c — the rk: and ms: families (solvers/rk.c, solvers/multistep.c) and the
 * linear cell (cells/linear.c), against references written out by hand here:
 *   - rk:euler:tanh and ms:diff1:tanh are the tanh cell's own step (tanh is forward Euler);
 *   - rk:rk4:linear on h' = A h, A = [[a, -b], [b, a]], is multiplication by the degree-4
 *     Taylor polynomial of exp(z), z = dt (a + i b), computed here in complex arithmetic;
 *   - ms:leapfrog:linear is s_n = s_{n-2} + 2 dt A s_{n-1}, written out here;
 *   - rnn_multistep_order of diff1, diff2, diff3, leapfrog, ab2, ab3 is 1, 2, 1, 2, 2, 3;
 *   - every tableau satisfies the order conditions of its stated order (ARKODE's check);
 *   - malformed and unknown family names are rejected with a message.
 */
#include <criterion/criterion.h>
#include <complex.h>
#include <math.h>
#include <string.h>
#include "cell.h"
#include "solvers.h"
#include "experiments.h"

#define M 5
#define D 3
#define SEED 20240607UL
/* Two evaluations of the same step that differ only in rounding ((1 - dt) h + dt s against
 * h + dt (s - h), a BLAS axpy against a loop): a few ulps of O(1) states. 1e-14 is ~50 ulps;
 * any algebraic difference is O(dt) = O(0.1). */
#define ROUND_TOL 1e-14

static double max_diff(size_t n, const double *a, const double *b)
{
    double v = 0;
    for (size_t i = 0; i < n; i++)
        v = fmax(v, fabs(a[i] - b[i]));
    return v;
}

static const rnn_cell_type *find(const char *name)
{
    char msg[256];
    const rnn_cell_type *t = rnn_cell_type_find(name, msg, sizeof msg);
    cr_assert_not_null(t, "%s: %s", name, msg);
    return t;
}

/* A family cell built on tanh equals tanh's step at the same dt (same seed, same weights). */
static void same_as_tanh(const char *family)
{
    rnn_cell *base = rnn_cell_alloc(rnn_cell_tanh, M, D, SEED);
    rnn_cell *fam = rnn_cell_alloc(find(family), M, D, SEED);
    cr_assert(base && fam);
    cr_assert_eq(rnn_cell_set_dt(base, 0.3), RNN_OK);
    cr_assert_eq(rnn_cell_set_dt(fam, 0.3), RNN_OK);
    double s[M], u[D], a[M], b[M];
    rnn_cell_random_state(base, 7, 1.0, s);
    for (size_t i = 0; i < D; i++)
        u[i] = 0.5 - 0.4 * (double)i;
    cr_assert_eq(rnn_cell_step(base, 0.0, s, u, a), RNN_OK);
    cr_assert_eq(rnn_cell_step(fam, 0.0, s, u, b), RNN_OK);
    cr_assert_leq(max_diff(M, a, b), ROUND_TOL, "%s differs from tanh by %g", family,
                  max_diff(M, a, b));
    rnn_cell_free(base);
    rnn_cell_free(fam);
}

Test(families, rk_euler_tanh_is_tanh)
{
    same_as_tanh("rk:euler:tanh");
}

Test(families, ms_diff1_tanh_is_tanh)
{
    same_as_tanh("ms:diff1:tanh");
}

static void set_rotation(rnn_cell *c, double a, double b)
{
    const rnn_block *A = rnn_cell_block(c, "A"), *B = rnn_cell_block(c, "B");
    cr_assert(A && B);
    double *Am = c->params + A->offset;
    Am[0] = a, Am[1] = -b, Am[2] = b, Am[3] = a;
    memset(c->params + B->offset, 0, B->rows * B->cols * sizeof(double));
    rnn_cell_params_changed(c);
}

Test(families, linear_cell_step_by_hand)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_linear, 2, 1, SEED);
    cr_assert_not_null(c);
    const double dt = 0.25, s[2] = {0.7, -0.2}, u[1] = {1.5};
    cr_assert_eq(rnn_cell_set_dt(c, dt), RNN_OK);
    const double *A = c->params + rnn_cell_block(c, "A")->offset;
    const double *B = c->params + rnn_cell_block(c, "B")->offset;
    double out[2], want[2];
    for (int i = 0; i < 2; i++)
        want[i] = s[i] + dt * (A[2 * i] * s[0] + A[2 * i + 1] * s[1] + B[i] * u[0]);
    cr_assert_eq(rnn_cell_step(c, 0.0, s, u, out), RNN_OK);
    cr_assert_leq(max_diff(2, out, want), ROUND_TOL);
    rnn_cell_free(c);
}

Test(families, rk4_linear_is_taylor_polynomial)
{
    rnn_cell *c = rnn_cell_alloc(find("rk:rk4:linear"), 2, 1, SEED);
    cr_assert_not_null(c);
    const double dt = 0.7, a = -1.3, b = 2.1, s[2] = {0.4, 0.9}, u[1] = {0.0};
    cr_assert_eq(rnn_cell_set_dt(c, dt), RNN_OK);
    set_rotation(c, a, b);
    /* (s0 + i s1) -> R(z) (s0 + i s1): A acts on R^2 as multiplication by a + i b. */
    const double complex z = dt * (a + I * b);
    const double complex R = 1 + z + z * z / 2 + z * z * z / 6 + z * z * z * z / 24;
    const double complex w = R * (s[0] + I * s[1]);
    double out[2];
    cr_assert_eq(rnn_cell_step(c, 0.0, s, u, out), RNN_OK);
    const double want[2] = {creal(w), cimag(w)};
    cr_assert_leq(max_diff(2, out, want), ROUND_TOL, "rk4 step %g %g, R(z) s %g %g", out[0],
                  out[1], want[0], want[1]);
    rnn_cell_free(c);
}

Test(families, leapfrog_linear_by_hand)
{
    rnn_cell *c = rnn_cell_alloc(find("ms:leapfrog:linear"), 2, 1, SEED);
    cr_assert_not_null(c);
    cr_assert_eq(c->n_state, 4u);
    const double dt = 0.2, S[4] = {0.3, -0.5, 1.1, 0.2}, u[1] = {0.0}; /* (s_{n-1}, s_{n-2}) */
    cr_assert_eq(rnn_cell_set_dt(c, dt), RNN_OK);
    set_rotation(c, -0.4, 0.9);
    const double *A = c->params + rnn_cell_block(c, "A")->offset;
    double out[4], want[4];
    for (int i = 0; i < 2; i++)
        want[i] = S[2 + i] + 2 * dt * (A[2 * i] * S[0] + A[2 * i + 1] * S[1]);
    want[2] = S[0], want[3] = S[1];
    cr_assert_eq(rnn_cell_step(c, 0.0, S, u, out), RNN_OK);
    cr_assert_leq(max_diff(4, out, want), ROUND_TOL);
    rnn_cell_free(c);
}

Test(families, multistep_orders)
{
    static const char *const names[] = {"diff1", "diff2", "diff3", "leapfrog", "ab2", "ab3"};
    static const int orders[] = {1, 2, 1, 2, 2, 3};
    for (size_t i = 0; i < 6; i++) {
        const rnn_multistep_method *Mm = rnn_multistep_find(names[i]);
        cr_assert_not_null(Mm, "%s", names[i]);
        cr_assert_eq(rnn_multistep_order(Mm), orders[i], "%s: order %d, expected %d", names[i],
                     rnn_multistep_order(Mm), orders[i]);
        char name[64];
        snprintf(name, sizeof name, "ms:%s:tanh", names[i]);
        cr_assert_eq(find(name)->order, orders[i], "%s", name);
    }
}

Test(families, tableau_orders_satisfy_order_conditions)
{
    cr_assert_geq(rnn_tableau_count(), 6u);
    for (size_t i = 0; i < rnn_tableau_count(); i++) {
        const rnn_tableau *t = rnn_tableau_get(i);
        int p = -1;
        cr_assert_eq(rnn_tableau_check_order(t, &p), RNN_OK, "%s", t->name);
        /* ARKODE's check verifies the conditions up to order 6 (solvers.h). */
        const int want = t->order < 6 ? t->order : 6;
        cr_assert_eq(p, want, "%s: conditions give %d, stated %d", t->name, p, t->order);
        cr_assert(rnn_tableau_is_explicit(t), "%s", t->name);
    }
}

Test(families, bad_names_rejected)
{
    static const char *const bad[] = {
        "", "nope", "rk:nope:tanh", "rk:rk4:nope", "ms:nope:tanh", "ms:ab2:nope", "rk:rk4",
        "rk::tanh", "rk:rk4:", "ms:ab2", "ms:ab2:ms:ab3:tanh", "rk:rk4:ms:ab2:tanh",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[512] = "";
        cr_assert_null(rnn_cell_type_find(bad[i], msg, sizeof msg), "'%s' accepted", bad[i]);
        cr_assert_neq(msg[0], '\0', "'%s': no message", bad[i]);
    }
    char msg[256];
    cr_assert_null(rnn_cell_type_find(NULL, msg, sizeof msg));
}

Test(families, family_types_are_cached)
{
    cr_assert_eq(find("rk:heun:linear"), find("rk:heun:linear"));
    cr_assert_eq(find("ms:ab2:linear"), find("ms:ab2:linear"));
    cr_assert_eq(find("linear"), rnn_cell_linear);
}

/* odernn.stability-predicts-gradients on two tableaux whose regions differ (Euler: the disc
 * |1 + z| <= 1; RK4: x_R = 2.785): the spectral prediction matches the measured tangent growth at
 * every predicted point, with points on both sides, so the agreement is not vacuous. */
Test(families, stability_predicts_gradients_euler_rk4)
{
    const char *tabs[] = {"euler", "rk4"};
    for (size_t i = 0; i < 2; i++) {
        const rnn_check_ctx ctx = {RNN_TIER_STANDARD, 1, tabs[i]};
        rnn_check_result r;
        memset(&r, 0, sizeof r);
        cr_assert_eq(rnn_check_odernn_stability_gradients(&ctx, NULL, &r), RNN_OK, "%s", r.detail);
        cr_assert(r.pass, "%s: %s", tabs[i], r.detail);
        cr_assert_eq(r.measured, 1.0, "%s: every predicted point agrees: %s", tabs[i], r.detail);
    }
}
