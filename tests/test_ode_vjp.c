/*
 * test_ode_vjp.c — the ODE vector-Jacobian product (cells/cell.h ode_vjp) of every cell, and the
 * step VJPs that the rk: and ms: families build from it (solvers/rk.c, solvers/multistep.c).
 *
 *   ode_vjp(s, u, g) gives gs = (df/ds)^T g (overwritten) and gtheta += (df/dtheta)^T g.
 *
 * For every cell of the registry, plus `dense` (dense:2) and `qunn:2`, at a seeded state off the
 * origin (m = 4, d = 2):
 *   - gs equals ode_jacobian^T g (the same derivative written a second way) and, where the cell
 *     has one, <g, ode_jvp(v)> = <gs, v> for a seeded v (a third, matrix-free way);
 *   - gs equals central differences of L(s) = <g, f(s)> in every state coordinate;
 *   - gtheta (accumulated onto a non-zero start) equals central differences of L(theta) =
 *     <g, f(s; theta)> in EVERY parameter coordinate, so every parameter block is covered.
 * For rk:rk4:<cell>, ms:ab2:<cell> and ms:diff2:<cell> (diff2: the second-order form, which feeds
 * dt^2 f through the VJP) over the same cells: step_vjp exists, its state part equals
 * step_jacobian^T g and central differences of <g, step(s)>, and its parameter part equals
 * central differences of <g, step(s; theta)> in every parameter; the family's own ode_vjp passes
 * the ODE checks above.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cell.h"
#include "solvers.h"

#define M 4
#define D 2
#define SEED 20240711UL
#define T_EVAL 0.35

/* Central differences with h = cbrt(eps) max(1, |x|) ~ 6e-6: truncation h^2 |L'''| / 6 ~ 1e-11
 * and rounding ~ eps |L|_abs / h ~ 4e-11 |L|_abs, where |L|_abs = sum_i |g_i| |f_i| bounds the
 * size of the rounding in L (unicornn's alpha = 30.65 makes it ~ 100). Relative to
 * max(1, |dL/dx|, |L|_abs) both are ~1e-10; FD_TOL = 1e-7 leaves three orders of margin, while a
 * missing or wrong term (an O(1), O(dt) or O(rate - 1) relative error) exceeds it by far. */
#define FD_TOL 1e-7
/* The same product computed two ways (BLAS against a loop, or gs against J^T g summed here):
 * a few ulps of the magnitudes involved, n eps ~ 1e-15 for n <= 16; 1e-12 relative to
 * max|J| n max|g| leaves a margin of 100 over that, any algebraic mistake is O(1). */
#define ROUND_TOL 1e-12

/* ---- helpers ------------------------------------------------------------------------------ */

/* A deterministic pseudo-random vector in [-scale, scale) (an LCG, independent of the
 * library's GSL streams). */
static void fill_vec(unsigned long seed, size_t n, double scale, double *x)
{
    unsigned long long s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double r = (double)(s >> 11) / 9007199254740992.0;
        x[i] = scale * (2.0 * r - 1.0);
    }
}

/* A state off the origin: every entry 0.3 .. 1.0 in size, seeded signs. */
static void off_origin_state(unsigned long seed, size_t n, double *s)
{
    fill_vec(seed, n, 0.7, s);
    for (size_t i = 0; i < n; i++)
        s[i] += s[i] >= 0 ? 0.3 : -0.3;
}

static double max_abs(size_t n, const double *x)
{
    double v = 0;
    for (size_t i = 0; i < n; i++)
        v = fmax(v, fabs(x[i]));
    return v;
}

static const rnn_cell_type *find(const char *name)
{
    char msg[512];
    const rnn_cell_type *t = rnn_cell_type_find(name, msg, sizeof msg);
    cr_assert_not_null(t, "%s: %s", name, msg);
    return t;
}

/* Base cells: the registry, dense (dense:2) and qunn:2. NULL past the end. */
static const char *base_name(size_t i)
{
    const size_t nr = rnn_registry_count();
    if (i < nr)
        return rnn_registry_get(i)->name;
    static const char *const extra[] = {"dense", "qunn:2"};
    return i - nr < sizeof extra / sizeof extra[0] ? extra[i - nr] : NULL;
}

/* Hyperparameters moved off values that would hide a missing factor: fastrnn's rate 1 would
 * hide a missing r, qunn's inject 1 a missing kappa. Matched on the base cell's name. */
static void set_test_hypers(rnn_cell *c, const char *base)
{
    char msg[256];
    const char *set = NULL;
    if (strcmp(base, "fastrnn") == 0)
        set = "rate=1.7";
    else if (strncmp(base, "qunn", 4) == 0)
        set = "inject=0.8";
    if (set)
        cr_assert_eq(rnn_cell_set_assignment(c, set, msg, sizeof msg), RNN_OK, "%s: %s", base, msg);
}

/* dt = 0: the cell's default step. */
static rnn_cell *make(const char *name, const char *base, unsigned long seed, double dt)
{
    rnn_cell *c = rnn_cell_alloc(find(name), M, D, seed);
    cr_assert_not_null(c, "rnn_cell_alloc(%s) failed", name);
    set_test_hypers(c, base);
    if (dt > 0)
        cr_assert_eq(rnn_cell_set_dt(c, dt), RNN_OK, "%s: dt = %g", name, dt);
    return c;
}

/* L = <g, f(s)> (ode = 1) or <g, step(s)> (ode = 0); *Labs = sum |g_i| |out_i|. */
static double inner(const rnn_cell *c, int ode, const double *s, const double *u, const double *g,
                    double *Labs)
{
    double *out = malloc(c->n_state * sizeof(double));
    cr_assert_not_null(out);
    int rc = ode ? rnn_cell_ode_rhs(c, T_EVAL, s, u, out) : rnn_cell_step(c, T_EVAL, s, u, out);
    cr_assert_eq(rc, RNN_OK, "%s: %s failed: %s", c->type->name, ode ? "ode_rhs" : "step",
                 rnn_strerror(rc));
    double L = 0, La = 0;
    for (size_t i = 0; i < c->n_state; i++) {
        L += g[i] * out[i];
        La += fabs(g[i] * out[i]);
    }
    free(out);
    if (Labs)
        *Labs = La;
    return L;
}

static int vjp(const rnn_cell *c, int ode, const double *s, const double *u, const double *g,
               double *gs, double *gth)
{
    return ode ? rnn_cell_ode_vjp(c, T_EVAL, s, u, g, gs, gth)
               : rnn_cell_step_vjp(c, T_EVAL, s, u, g, gs, gth);
}

/*
 * All checks of one VJP (ODE: ode = 1, step: ode = 0) of the cell `name` (base cell `base`):
 * gs against the Jacobian's transpose and central differences; gtheta against central
 * differences in every parameter; for the ODE, gs against ode_jvp by the adjoint identity.
 */
static void check_vjp(const char *name, const char *base, int ode, unsigned long seed, double dt)
{
    rnn_cell *c = make(name, base, seed, dt);
    const size_t n = c->n_state, P = c->n_params;
    const char *what = ode ? "ode_vjp" : "step_vjp";
    double *buf = malloc((6 * n + n * n + 2 * P + D) * sizeof(double));
    cr_assert_not_null(buf);
    double *s = buf, *g = s + n, *gs = g + n, *v = gs + n, *Jv = v + n, *sp = Jv + n;
    double *J = sp + n, *gth = J + n * n, *gth0 = gth + P, *u = gth0 + P;
    off_origin_state(seed + 1, n, s);
    fill_vec(seed + 2, D, 1.0, u);
    fill_vec(seed + 3, n, 1.0, g);
    fill_vec(seed + 4, P, 0.5, gth0); /* gtheta is accumulated onto this */
    memcpy(gth, gth0, P * sizeof(double));
    for (size_t i = 0; i < n; i++)
        gs[i] = 1e3; /* gs is overwritten: garbage must not survive */

    int rc = vjp(c, ode, s, u, g, gs, gth);
    cr_assert_eq(rc, RNN_OK, "%s: %s failed: %s", name, what, rnn_strerror(rc));

    /* 1. gs = J^T g, J the analytic Jacobian of the same map. */
    rc = ode ? rnn_cell_ode_jacobian(c, T_EVAL, s, u, J)
             : rnn_cell_step_jacobian(c, T_EVAL, s, u, J);
    cr_assert_eq(rc, RNN_OK, "%s: Jacobian failed", name);
    const double jscale = max_abs(n * n, J) * (double)n * max_abs(n, g);
    for (size_t j = 0; j < n; j++) {
        double JTg = 0;
        for (size_t i = 0; i < n; i++)
            JTg += J[i * n + j] * g[i];
        cr_assert_leq(fabs(gs[j] - JTg), ROUND_TOL * fmax(jscale, 1e-300),
                      "%s: %s gs[%zu] = %.17g but (J^T g)[%zu] = %.17g", name, what, j, gs[j], j,
                      JTg);
    }

    /* 2. For the ODE: <g, J v> (ode_jvp, matrix-free) = <J^T g, v>. */
    if (ode && c->type->ode_jvp) {
        fill_vec(seed + 5, n, 1.0, v);
        cr_assert_eq(rnn_cell_ode_jvp(c, T_EVAL, s, u, v, Jv), RNN_OK, "%s: ode_jvp", name);
        double a = 0, b = 0;
        for (size_t i = 0; i < n; i++) {
            a += g[i] * Jv[i];
            b += gs[i] * v[i];
        }
        cr_assert_leq(fabs(a - b), ROUND_TOL * fmax(jscale * (double)n * max_abs(n, v), 1e-300),
                      "%s: <g, J v> = %.17g but <J^T g, v> = %.17g", name, a, b);
    }

    /* 3. gs against central differences of L(s) = <g, map(s)>. */
    for (size_t j = 0; j < n; j++) {
        const double h = cbrt(DBL_EPSILON) * fmax(1.0, fabs(s[j]));
        double Lap, Lam;
        memcpy(sp, s, n * sizeof(double));
        sp[j] = s[j] + h;
        const double Lp = inner(c, ode, sp, u, g, &Lap);
        sp[j] = s[j] - h;
        const double Lm = inner(c, ode, sp, u, g, &Lam);
        const double fd = (Lp - Lm) / (2 * h);
        const double tol = FD_TOL * fmax(fmax(1.0, fabs(fd)), fmax(Lap, Lam));
        cr_assert_leq(fabs(gs[j] - fd), tol, "%s: %s dL/ds[%zu] = %.15g, central differences %.15g",
                      name, what, j, gs[j], fd);
    }

    /* 4. gtheta against central differences of L(theta), every parameter. */
    for (size_t b = 0; b < c->n_blocks; b++) {
        const rnn_block *blk = &c->blocks[b];
        for (size_t j = blk->offset; j < blk->offset + blk->rows * blk->cols; j++) {
            const double p0 = c->params[j], h = cbrt(DBL_EPSILON) * fmax(1.0, fabs(p0));
            double Lap, Lam;
            c->params[j] = p0 + h;
            rnn_cell_params_changed(c);
            const double Lp = inner(c, ode, s, u, g, &Lap);
            c->params[j] = p0 - h;
            rnn_cell_params_changed(c);
            const double Lm = inner(c, ode, s, u, g, &Lam);
            c->params[j] = p0;
            rnn_cell_params_changed(c);
            const double fd = (Lp - Lm) / (2 * h), an = gth[j] - gth0[j];
            const double tol = FD_TOL * fmax(fmax(1.0, fabs(fd)), fmax(Lap, Lam));
            cr_assert_leq(fabs(an - fd), tol,
                          "%s: %s dL/dtheta in block %s (flat index %zu): %.15g, central "
                          "differences %.15g", name, what, blk->name, j, an, fd);
        }
    }
    free(buf);
    rnn_cell_free(c);
}

/* ---- the tests ------------------------------------------------------------------------------ */

Test(ode_vjp, every_cell_has_one)
{
    for (size_t i = 0; base_name(i); i++)
        cr_assert_not_null(find(base_name(i))->ode_vjp, "%s has no ode_vjp", base_name(i));
}

Test(ode_vjp, state_and_parameters_vs_jacobian_and_central_differences)
{
    for (size_t i = 0; base_name(i); i++)
        check_vjp(base_name(i), base_name(i), 1, SEED + 100 * i, 0.0);
}

/* The families chain the base cell's ode_vjp: step_vjp now exists for every base cell. */
static const char *const families[] = {"rk:rk4:", "ms:ab2:", "ms:diff2:"};

/* The base cells of the families: rk: and ms: refuse cells that already hold past states
 * (dense:2), so the dense family enters as dense:1, its one-step member (the same ode_vjp code
 * with one block). */
static const char *family_base(size_t i)
{
    const char *b = base_name(i);
    if (b && find(b)->history > 1) {
        cr_assert_str_eq(b, "dense", "unexpected multi-state base cell %s", b);
        return "dense:1";
    }
    return b;
}

Test(ode_vjp, family_step_vjp_exists)
{
    char name[RNN_CELL_NAME_LEN];
    for (size_t i = 0; family_base(i); i++)
        for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
            snprintf(name, sizeof name, "%s%s", families[f], family_base(i));
            const rnn_cell_type *t = find(name);
            cr_assert_not_null(t->step_vjp, "%s has no step_vjp", name);
            cr_assert_not_null(t->ode_vjp, "%s has no ode_vjp", name);
        }
}

/* dt = 0.25 for the families: not 1, so that a dt factor dropped in the chain shows, and small
 * enough that RK4 stages stay O(1) for the stiffest default (unicornn, alpha = 30.65). */
#define FAMILY_DT 0.25

static void check_family(const char *family, int ode)
{
    char name[RNN_CELL_NAME_LEN];
    for (size_t i = 0; family_base(i); i++) {
        snprintf(name, sizeof name, "%s%s", family, family_base(i));
        check_vjp(name, family_base(i), ode, SEED + 1000 + 100 * i, FAMILY_DT);
    }
}

Test(ode_vjp, rk4_family_step_vjp_vs_central_differences)
{
    check_family("rk:rk4:", 0);
}

Test(ode_vjp, ab2_family_step_vjp_vs_central_differences)
{
    check_family("ms:ab2:", 0);
}

Test(ode_vjp, diff2_family_step_vjp_vs_central_differences)
{
    check_family("ms:diff2:", 0);
}

Test(ode_vjp, family_ode_vjp_vs_central_differences)
{
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        check_family(families[f], 1);
}
