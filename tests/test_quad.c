/*
 * test_quad.c — binary128 order studies: tableau_quad.c, quad_ode.c, convergence_quad.c and the
 * cells' ode_rhs_quad.
 *
 *   - rooted trees: 1, 1, 2, 4, 9, 20, 48, 115 of orders 1..8 (OEIS A000081);
 *   - the order-condition residuals against ARKODE's own check (ARKodeButcherTable_CheckOrder,
 *     an independent code, up to order 6) on every table, and against each table's stated order;
 *   - rational recovery on known fractions, on an irrational, and on bad input; which tables
 *     are exact (the ones SUNDIALS marks as quad-precision ready, among ours);
 *   - the two binary128 integrators against the closed-form logistic equation: the errors fall
 *     at the methods' orders, and GBS reaches ~1e-30;
 *   - ode_rhs_quad of tanh and cornn against their double ode_rhs, the quad input against the
 *     double one;
 *   - rnn_converge_quad on rk:dormand_prince_7_4_5:tanh (order 5 within 0.1, the double cell
 *     within 1e-12 of the binary128 run, the cached reference giving identical errors), and the
 *     cells it cannot study.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <quadmath.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"

/* ---- trees and order conditions -------------------------------------------------------------- */

Test(quad, rooted_tree_counts)
{
    static const int a000081[9] = {0, 1, 1, 2, 4, 9, 20, 48, 115};
    for (int k = 1; k <= 8; k++)
        cr_assert_eq(rnn_rooted_tree_count(k), a000081[k], "order %d: %d trees, expected %d", k,
                     rnn_rooted_tree_count(k), a000081[k]);
    cr_assert_eq(rnn_rooted_tree_count(0), -1);
    cr_assert_eq(rnn_rooted_tree_count(9), -1);
}

/* The order a table's residuals give: the largest k <= pmax with every residual up to k at
 * most tol. */
static int order_from_residuals(const rnn_tableau_quad *Q, int pmax, double tol)
{
    double res[RNN_QUAD_MAX_ORDER + 1], cres;
    cr_assert_eq(rnn_order_residuals_quad(Q->s, Q->A, Q->b, Q->c, pmax, res, &cres), RNN_OK);
    int k = 0;
    while (k < pmax && res[k + 1] <= tol)
        k++;
    return k;
}

Test(quad, order_conditions_agree_with_arkode_and_the_stated_orders)
{
    for (size_t i = 0; i < rnn_tableau_count(); i++) {
        const rnn_tableau *t = rnn_tableau_get(i);
        rnn_tableau_quad Q;
        cr_assert_eq(rnn_tableau_to_quad(t, &Q), RNN_OK, "%s", t->name);
        /* ARKODE checks up to order 6 in double with its own tolerance; ours with 1e-12, far
         * above the residuals of coefficients rounded to double (<= 1e-15) and far below the
         * residual of an unmet condition (>= 1e-4 on every table here) */
        int ark = 0;
        cr_assert_eq(rnn_tableau_check_order(t, &ark), RNN_OK, "%s", t->name);
        const int pmax = t->order + 1 <= 6 ? t->order + 1 : (t->order < 8 ? t->order + 1 : 8);
        const int ours = order_from_residuals(&Q, pmax, 1e-12);
        cr_assert_eq(ours, t->order, "%s: the order conditions give %d, the table says %d",
                     t->name, ours, t->order);
        if (t->order <= 6)
            cr_assert_eq(ours, ark, "%s: ours %d, ARKODE's %d", t->name, ours, ark);
        if (Q.exact && strstr(Q.source, "recovered"))
            cr_assert_leq(Q.residual, 1e-30, "%s: recovered but residual %.1e", t->name,
                          Q.residual);
        else if (Q.exact)
            cr_assert_leq(Q.residual, 1e-24, "%s: published but residual %.1e", t->name,
                          Q.residual);
        else
            cr_assert(Q.residual > 1e-20 && Q.residual < 1e-14,
                      "%s: doubles kept, their residual %.1e is that of double rounding", t->name,
                      Q.residual);
    }
}

Test(quad, exact_tables)
{
    /* the tables SUNDIALS gives as small fractions are recovered; the ARK5(4)8L tables come
     * from their published fractions (denominators ~1e13, not recoverable); the ARK4(3) tables,
     * whose fractions we do not carry, keep their doubles */
    static const char *exact[] = {"rk4", "dormand_prince_7_4_5", "verner_8_5_6",
                                  "fehlberg_13_7_8", "cash_karp_6_4_5", "fehlberg_6_4_5",
                                  "ark548l2sa_erk_8_4_5", "ark548l2sab_erk_8_4_5"};
    static const char *inexact[] = {"ark436l2sa_erk_6_3_4", "ark437l2sa_erk_7_3_4",
                                    "ark324l2sa_erk_4_2_3"};
    rnn_tableau_quad Q;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        cr_assert_eq(rnn_tableau_to_quad(rnn_tableau_find(exact[i]), &Q), RNN_OK);
        cr_assert_eq(Q.exact, 1, "%s should be exact (residual %.1e)", exact[i], Q.residual);
    }
    for (size_t i = 0; i < sizeof inexact / sizeof inexact[0]; i++) {
        cr_assert_eq(rnn_tableau_to_quad(rnn_tableau_find(inexact[i]), &Q), RNN_OK);
        cr_assert_eq(Q.exact, 0, "%s should not be exact", inexact[i]);
    }
    cr_assert_eq(rnn_tableau_to_quad(rnn_tableau_find("ark548l2sa_erk_8_4_5"), &Q), RNN_OK);
    cr_assert(strstr(Q.source, "published"), "%s", Q.source);
    /* the published fractions meet the order conditions to ~2e-26, the doubles only to ~8e-16 */
    cr_assert(Q.residual > 1e-28 && Q.residual < 1e-24, "residual %.1e", Q.residual);
    /* Dormand-Prince's a_52 = -25360/2187 and b_3 = 500/1113, in binary128 */
    cr_assert_eq(rnn_tableau_to_quad(rnn_tableau_find("dormand_prince_7_4_5"), &Q), RNN_OK);
    cr_assert_lt(fabsq(Q.A[4 * 7 + 1] + 25360 / (rnn_quad)2187), (rnn_quad)1e-32);
    cr_assert_lt(fabsq(Q.b[2] - 500 / (rnn_quad)1113), (rnn_quad)1e-32);
}

Test(quad, rational_recovery)
{
    long long p;
    unsigned long long q;
    static const struct { long long p; unsigned long long q; } cases[] = {
        {1, 3}, {-25360, 2187}, {2, 3}, {64448, 6561}, {-3, 1}, {297275, 52632}, {1, 1000000}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double x = (double)cases[i].p / (double)cases[i].q;
        cr_assert_eq(rnn_rational_from_double(x, &p, &q), RNN_OK, "%g", x);
        cr_assert(p == cases[i].p && q == cases[i].q, "%.17g -> %lld/%llu, expected %lld/%llu", x,
                  p, q, cases[i].p, cases[i].q);
    }
    cr_assert_eq(rnn_rational_from_double(0.0, &p, &q), RNN_OK);
    cr_assert(p == 0 && q == 1);
    cr_assert_eq(rnn_rational_from_double(sqrt(2.0), &p, &q), RNN_EFORMAT, "sqrt 2 is no p/q");
    cr_assert_eq(rnn_rational_from_double(NAN, &p, &q), RNN_EINVAL);
    cr_assert_eq(rnn_rational_from_double(1e300, &p, &q), RNN_EINVAL);
}

/* ---- the integrators on the logistic equation y' = y (1 - y) ---------------------------------- */

static int logistic(rnn_quad t, const rnn_quad *y, rnn_quad *f, void *ctx)
{
    (void)t;
    (void)ctx;
    f[0] = y[0] * (1 - y[0]);
    return RNN_OK;
}

static rnn_quad logistic_exact(rnn_quad y0, rnn_quad t)
{
    return 1 / (1 + (1 / y0 - 1) * expq(-t));
}

/* max_n |y_n - y(t_n)| over N steps of size T / N */
static double rk_error(const rnn_tableau_quad *Q, size_t N)
{
    const rnn_quad T = 2, y0 = (rnn_quad)1 / 10;
    rnn_quad *S = malloc((N + 1) * sizeof(rnn_quad)), work[RNN_QUAD_MAX_STAGES + 1];
    cr_assert_eq(rnn_quad_rk_run(Q, 1, logistic, NULL, 0, T / N, N, &y0, S, work), RNN_OK);
    rnn_quad e = 0;
    for (size_t n = 0; n <= N; n++)
        e = fmaxq(e, fabsq(S[n] - logistic_exact(y0, T * n / N)));
    free(S);
    return (double)e;
}

Test(quad, rk_orders_on_the_logistic_equation)
{
    static const char *names[] = {"rk4", "dormand_prince_7_4_5", "verner_8_5_6",
                                  "fehlberg_13_7_8"};
    for (size_t i = 0; i < 4; i++) {
        rnn_tableau_quad Q;
        cr_assert_eq(rnn_tableau_to_quad(rnn_tableau_find(names[i]), &Q), RNN_OK);
        /* N = 64, 128: dt = 1/32, 1/64, in the asymptotic range and far above 1e-30 */
        double e1 = rk_error(&Q, 64), e2 = rk_error(&Q, 128), p = log2(e1 / e2);
        cr_assert(fabs(p - Q.order) <= 0.2, "%s: local order %.3f (errors %.2e, %.2e), expected %d",
                  names[i], p, e1, e2, Q.order);
    }
}

Test(quad, gbs_on_the_logistic_equation)
{
    const rnn_quad T = 2, y0 = (rnn_quad)1 / 10;
    enum { N = 32 };
    rnn_quad S[N + 1], work[(6 + 3)];
    double e[2];
    for (int k = 4; k <= 6; k += 2) {
        cr_assert_eq(rnn_quad_gbs_run(1, logistic, NULL, 0, T / N, N, k, &y0, S, work), RNN_OK);
        rnn_quad err = 0;
        for (int n = 0; n <= N; n++)
            err = fmaxq(err, fabsq(S[n] - logistic_exact(y0, T * n / N)));
        e[k / 2 - 2] = (double)err;
    }
    /* order 8 at H = 1/16: ~ H^8 / (2 4 6 8)^2 ~ 1e-15 at most; order 12 ~ 1e-22 at most */
    cr_assert(e[0] < 1e-14, "k = 4: error %.2e", e[0]);
    cr_assert(e[1] < 1e-21 && e[1] < 1e-4 * e[0], "k = 6: error %.2e (k = 4: %.2e)", e[1], e[0]);
    cr_assert_eq(rnn_quad_gbs_run(1, logistic, NULL, 0, T / N, N, 0, &y0, S, work), RNN_EINVAL);
}

/* ---- the cells' binary128 right-hand sides and the input ------------------------------------- */

Test(quad, ode_rhs_quad_matches_ode_rhs)
{
    const rnn_cell_type *types[] = {rnn_cell_tanh, rnn_cell_cornn};
    enum { m = 6, d = 3 };
    for (size_t i = 0; i < 2; i++) {
        rnn_cell *c = rnn_cell_alloc(types[i], m, d, 11);
        cr_assert(c && types[i]->ode_rhs_quad, "%s", types[i]->name);
        const size_t n = c->n_state;
        double s[2 * m], u[d] = {0.3, -1.2, 0.7}, f[2 * m];
        rnn_quad sq[2 * m], uq[d], fq[2 * m], work[2 * m];
        rnn_cell_random_state(c, 12, 1.0, s);
        for (size_t j = 0; j < n; j++)
            sq[j] = s[j];
        for (size_t j = 0; j < d; j++)
            uq[j] = u[j];
        cr_assert_eq(types[i]->ode_rhs(c, 0.5, s, u, f), RNN_OK);
        cr_assert_eq(types[i]->ode_rhs_quad(c, (rnn_quad)0.5, sq, uq, work, fq), RNN_OK);
        /* the double rhs is accurate to a few ulps of its terms (|terms| <~ 10) */
        for (size_t j = 0; j < n; j++)
            cr_assert_leq(fabs(f[j] - (double)fq[j]), 1e-14, "%s: f[%zu] %.17g vs %.17g",
                          types[i]->name, j, f[j], (double)fq[j]);
        rnn_cell_free(c);
    }
}

Test(quad, input_eval_quad_matches_input_eval)
{
    const double seq[6] = {1, -2, 0.5, 3, 4, -1};
    rnn_input *ins[4] = {rnn_input_alloc_sines(2, 3), rnn_input_alloc_zero(2),
                         rnn_input_alloc_sequence(RNN_INPUT_HOLD, 2, 3, 0.0, 0.5, seq),
                         rnn_input_alloc_sequence(RNN_INPUT_LINEAR, 2, 3, 0.0, 0.5, seq)};
    for (int i = 0; i < 4; i++) {
        cr_assert(ins[i]);
        for (double t = -0.3; t < 2.0; t += 0.137) {
            double u[2];
            rnn_quad uq[2];
            rnn_input_eval(ins[i], t, u);
            rnn_input_eval_quad(ins[i], t, uq);
            for (int j = 0; j < 2; j++)
                cr_assert_leq(fabs(u[j] - (double)uq[j]), 1e-14, "input %d at t = %g", i, t);
        }
        rnn_input_free(ins[i]);
    }
}

/* ---- the study ------------------------------------------------------------------------------- */

Test(quad, converge_quad_dormand_prince_tanh)
{
    char msg[512] = "";
    const rnn_cell_type *T = rnn_rk_type("dormand_prince_7_4_5", "tanh", msg, sizeof msg);
    cr_assert(T, "%s", msg);
    rnn_cell *c = rnn_cell_alloc(T, 8, 2, 3);
    rnn_input *in = rnn_input_alloc_sines(2, 4);
    double s0[8];
    rnn_cell_random_state(c, 5, 0.5, s0);
    /* a shorter horizon and grid than the check's (t_end 4, 11 levels), to keep the test fast */
    rnn_converge_opts o;
    rnn_converge_opts_for_order(&o, 5, 1);
    o.t_end = 2.0;
    o.levels = 9;
    const double dt_before = rnn_cell_dt(c);
    rnn_converge_result r1, r2;
    cr_assert_eq(rnn_converge_quad(c, in, s0, &o, &r1, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert(r1.quad && r1.quad_exact, "a binary128 study with the exact table");
    cr_assert_leq(fabs(r1.order - 5), 0.1, "fitted order %.4f", r1.order);
    cr_assert(r1.ref_ok, "reference error %.1e", r1.ref_error);
    cr_assert_lt(r1.err[r1.levels - 1], 1e-16, "the finest errors go below double rounding");
    cr_assert_leq(r1.double_vs_quad, 1e-12, "the double cell is the same map (%.1e)",
                  r1.double_vs_quad);
    cr_assert_eq(rnn_cell_dt(c), dt_before, "the step size is restored");
    /* the second study takes the cached reference: the same numbers */
    cr_assert_eq(rnn_converge_quad(c, in, s0, &o, &r2, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert_eq(r2.levels, r1.levels);
    for (size_t k = 0; k < r1.levels; k++)
        cr_assert_eq(r2.err[k], r1.err[k], "level %zu", k);
    cr_assert_eq(r2.ref_error, r1.ref_error);
    rnn_input_free(in);
    rnn_cell_free(c);
}

Test(quad, converge_quad_unsupported)
{
    char msg[512] = "";
    const rnn_cell_type *lstm = rnn_rk_type("rk4", "lstm", msg, sizeof msg);
    cr_assert(lstm, "%s", msg);
    cr_assert_eq(rnn_converge_quad_supported(rnn_cell_tanh), 0, "tanh itself is not rk:");
    cr_assert_eq(rnn_converge_quad_supported(lstm), 0, "lstm has no binary128 rhs");
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, 4, 2, 1);
    rnn_input *in = rnn_input_alloc_sines(2, 1);
    double s0[4] = {0};
    rnn_converge_opts o;
    rnn_converge_opts_for_order(&o, 5, 1);
    rnn_converge_result r;
    cr_assert_eq(rnn_converge_quad(c, in, s0, &o, &r, msg, sizeof msg), RNN_EUNSUPPORTED);
    cr_assert(strstr(msg, "binary128"), "message: %s", msg);
    rnn_input_free(in);
    rnn_cell_free(c);
}
