/*
 * test_fixedpoint.c — unit tests of the fixed-point solver (solvers/fixedpoint.c, KINSOL), the
 * classification (analysis/fixedpoint_class.c) and the check fixedpoint.kinsol.<cell>.
 *
 *   - closed forms: the tanh cell with W = 0 has the single equilibrium h* = tanh(U u + b) and
 *     the same step fixed point for every dt; the antisym ODE's equilibrium solves the linear
 *     system (W - W^T - gamma I) h = -(V u + b) (compared with LAPACK's dgesv here);
 *   - a scalar cell with three roots, h = tanh(2h): 0 (unstable, rate 1) and +-h* (stable,
 *     rate -1 + 2(1 - h*^2)), found and told apart, and deduplicated across starts; a saddle
 *     (diag(2, 1/2)); the marginal centre of antisym with gamma = 0; the classifier on
 *     hand-made spectra;
 *   - failures: one Newton iteration is not enough (KIN_MAXITER_REACHED, RNN_ESOLVER, the cell
 *     and the start in the message); points where F is only tiny because a gate is shut (ODE)
 *     or Phi(s) == s in floating point (step) are rejected, not reported as roots;
 *   - the homotopy path (solvers/fixedpoint_path.c): from far starts it reaches a root of
 *     every leaky cell tried (F = L s + bounded, L invertible: guaranteed), and it finds the
 *     roots that damped Newton missed at --seed 2 (the lipschitz check used to fail there);
 *   - argument errors and unsupported cells;
 *   - the check passes on every registered cell.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <kinsol/kinsol.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"
#include "experiments.h"
#include "solvers.h"

/* THEORY.md §6's residual criterion. */
#define RESIDUAL_TOL 1e-12

static double *block(rnn_cell *c, const char *name)
{
    const rnn_block *b = rnn_cell_block(c, name);
    cr_assert_not_null(b, "block %s", name);
    return c->params + b->offset;
}

static double max_diff(size_t n, const double *a, const double *b)
{
    double d = 0;
    for (size_t i = 0; i < n; i++)
        d = fmax(d, fabs(a[i] - b[i]));
    return d;
}

/* ---- closed forms ------------------------------------------------------------------------------ */

Test(fixedpoint, tanh_with_zero_recurrence_has_the_closed_form_root)
{
    enum { m = 6, d = 2 };
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, m, d, 5);
    cr_assert_not_null(c);
    memset(block(c, "W"), 0, m * m * sizeof(double));
    rnn_cell_params_changed(c);
    const double u[d] = {0.7, -1.3};
    const double *U = block(c, "U"), *b = block(c, "b");
    double exact[m], s0[m], s[m], F[m];
    for (size_t i = 0; i < m; i++)
        exact[i] = tanh(U[i * d] * u[0] + U[i * d + 1] * u[1] + b[i]);
    rnn_cell_random_state(c, 9, 1.0, s0);
    rnn_fixedpoint_opts o;
    rnn_fixedpoint_opts_default(&o);
    char msg[512];
    const double dts[] = {1.0, 0.5, 0.1};
    for (int kind = 0; kind < 2; kind++)
        for (size_t k = 0; k < 3; k++) {
            rnn_cell_set_dt(c, dts[k]);
            rnn_fixedpoint_info info;
            int rc = rnn_fixedpoint_solve(c, (rnn_fixedpoint_kind)kind, u, 0.0, s0, &o, s, &info,
                                          msg, sizeof msg);
            cr_assert_eq(rc, RNN_OK, "kind %d, dt %g: %s", kind, dts[k], msg);
            /* F is affine in s here (its only nonlinearity is in the constant U u + b), so
             * Newton lands on the root in one step, up to rounding */
            cr_assert_leq(max_diff(m, s, exact), 4 * DBL_EPSILON, "kind %d, dt %g: |s - h*| = %g",
                          kind, dts[k], max_diff(m, s, exact));
            double res;
            cr_assert_eq(rnn_fixedpoint_residual(c, (rnn_fixedpoint_kind)kind, u, 0.0, s, F, &res),
                         RNN_OK);
            cr_assert_leq(res, RESIDUAL_TOL, "residual %g", res);
            cr_assert_eq(res, info.residual, "the reported residual is F at the returned point");
            cr_assert_leq(info.iters, 2, "Newton on an affine F: %ld iterations", info.iters);
        }
    /* classification: df/ds = -I (rate -1); dPhi/ds = (1 - dt) I (rate log|1 - dt|) */
    rnn_eig_ws *w = rnn_eig_ws_alloc(m);
    rnn_fp_classification cl;
    cr_assert_eq(rnn_fixedpoint_classify(c, RNN_FP_ODE, u, 0.0, exact, 1e-3, w, NULL, &cl), RNN_OK);
    cr_assert_eq(cl.cls, RNN_FP_STABLE);
    cr_assert_float_eq(cl.rate, -1.0, 1e-14);
    cr_assert_eq(cl.n_decay, m);
    rnn_cell_set_dt(c, 0.5);
    cr_assert_eq(rnn_fixedpoint_classify(c, RNN_FP_STEP, u, 0.0, exact, 1e-3, w, NULL, &cl), RNN_OK);
    cr_assert_eq(cl.cls, RNN_FP_STABLE);
    cr_assert_float_eq(cl.rate, log(0.5), 1e-14);
    cr_assert_float_eq(cl.radius, 0.5, 1e-14);
    rnn_cell_set_dt(c, 1.0); /* dPhi/ds = 0: every mode is gone after one step */
    cr_assert_eq(rnn_fixedpoint_classify(c, RNN_FP_STEP, u, 0.0, exact, 1e-3, w, NULL, &cl), RNN_OK);
    cr_assert_eq(cl.cls, RNN_FP_STABLE);
    cr_assert(isinf(cl.rate) && cl.rate < 0, "rate %g", cl.rate);
    rnn_eig_ws_free(w);

    /* many starts, one root */
    rnn_fixedpoint_set *set = rnn_fixedpoint_set_alloc(m, 4);
    cr_assert_eq(rnn_fixedpoint_find(c, RNN_FP_ODE, u, 0.0, 10, &o, set, msg, sizeof msg), RNN_OK,
                 "%s", msg);
    cr_assert_eq(set->count, 1, "one distinct root, found %zu", set->count);
    cr_assert_eq(set->hits[0], 10 + (size_t)o.path_starts, "the homotopy starts too");
    cr_assert_eq(set->converged, 10 + (size_t)o.path_starts);
    cr_assert_eq(set->failed, 0);
    cr_assert_leq(max_diff(m, set->s, exact), 4 * DBL_EPSILON);
    rnn_fixedpoint_set_free(set);
    rnn_cell_free(c);
}

Test(fixedpoint, antisym_equilibrium_solves_the_linear_system)
{
    enum { m = 8, d = 2 };
    rnn_cell *c = rnn_cell_alloc(rnn_cell_antisym, m, d, 21);
    cr_assert_not_null(c);
    const double u[d] = {-0.4, 0.9}, gamma = rnn_cell_get_hyper(c, "gamma");
    const double *W = block(c, "W"), *V = block(c, "V"), *b = block(c, "b");
    /* tanh(A h + V u + b) = 0  <=>  A h = -(V u + b), A = W - W^T - gamma I */
    double A[m * m], h[m];
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < m; j++)
            A[i * m + j] = W[i * m + j] - W[j * m + i] - (i == j ? gamma : 0.0);
        h[i] = -(V[i * d] * u[0] + V[i * d + 1] * u[1] + b[i]);
    }
    lapack_int piv[m];
    cr_assert_eq(LAPACKE_dgesv(LAPACK_ROW_MAJOR, m, 1, A, m, piv, h, 1), 0, "dgesv");
    rnn_fixedpoint_opts o;
    rnn_fixedpoint_opts_default(&o);
    rnn_fixedpoint_set *set = rnn_fixedpoint_set_alloc(m, 8);
    char msg[512];
    for (int kind = 0; kind < 2; kind++) {
        cr_assert_eq(rnn_fixedpoint_find(c, (rnn_fixedpoint_kind)kind, u, 0.0, 8, &o, set, msg,
                                         sizeof msg), RNN_OK, "%s", msg);
        cr_assert_eq(set->count, 1, "kind %d: the equilibrium is unique; found %zu", kind, set->count);
        double scale = 1;
        for (size_t i = 0; i < m; i++)
            scale = fmax(scale, fabs(h[i]));
        /* both are backward stable solutions of a system with cond(A) ~ 1e2: agreement to a
         * few hundred ulps of the solution */
        cr_assert_leq(max_diff(m, set->s, h), 1e-12 * scale, "kind %d: |s - h*| = %g (|h*| %g)",
                      kind, max_diff(m, set->s, h), scale);
        cr_assert_leq(set->info[0].residual, RESIDUAL_TOL);
    }
    rnn_fixedpoint_set_free(set);
    rnn_cell_free(c);
}

/* ---- classification ------------------------------------------------------------------------------ */

/* A 1-unit tanh cell h' = -h + tanh(w h), u = 0 (U = b = 0). */
static rnn_cell *scalar_tanh(double w)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, 1, 1, 3);
    cr_assert_not_null(c);
    block(c, "W")[0] = w;
    block(c, "U")[0] = 0;
    block(c, "b")[0] = 0;
    rnn_cell_params_changed(c);
    return c;
}

Test(fixedpoint, three_roots_of_h_equals_tanh_2h_are_found_and_classified)
{
    rnn_cell *c = scalar_tanh(2.0);
    double hs = 1; /* h* = tanh(2 h*): the iteration contracts there (slope 2(1 - h*^2) ~ 0.17) */
    for (int k = 0; k < 200; k++)
        hs = tanh(2 * hs);
    const double u = 0, stable_rate = -1 + 2 * (1 - hs * hs);
    rnn_fixedpoint_opts o;
    rnn_fixedpoint_opts_default(&o);
    o.seed = 4;
    rnn_fixedpoint_set *set = rnn_fixedpoint_set_alloc(1, 8);
    rnn_eig_ws *w = rnn_eig_ws_alloc(1);
    char msg[512];
    for (int kind = 0; kind < 2; kind++) { /* dt = 1: the step is h = tanh(2h), same roots */
        cr_assert_eq(rnn_fixedpoint_find(c, (rnn_fixedpoint_kind)kind, &u, 0.0, 24, &o, set, msg,
                                         sizeof msg), RNN_OK, "%s", msg);
        cr_assert_eq(set->count, 3, "kind %d: found %zu roots", kind, set->count);
        size_t hits = 0;
        int seen[3] = {0, 0, 0};
        for (size_t r = 0; r < 3; r++) {
            const double h = set->s[r];
            hits += set->hits[r];
            cr_assert_leq(set->info[r].residual, RESIDUAL_TOL);
            rnn_fp_classification cl;
            cr_assert_eq(rnn_fixedpoint_classify(c, (rnn_fixedpoint_kind)kind, &u, 0.0, &h, 1e-3,
                                                 w, NULL, &cl), RNN_OK);
            if (fabs(h) < 1e-12) {
                seen[0]++;
                cr_assert_eq(cl.cls, RNN_FP_UNSTABLE, "h = 0 is a source");
                cr_assert_float_eq(cl.rate, kind ? log(2.0) : 1.0, 1e-14);
            } else {
                seen[h > 0 ? 1 : 2]++;
                cr_assert_float_eq(fabs(h), hs, 1e-15, "h = %.17g, h* = %.17g", h, hs);
                cr_assert_eq(cl.cls, RNN_FP_STABLE, "+-h* attract");
                cr_assert_float_eq(cl.rate, kind ? log(1 + stable_rate) : stable_rate, 1e-14);
            }
        }
        cr_assert(seen[0] == 1 && seen[1] == 1 && seen[2] == 1, "0, +h*, -h* once each");
        cr_assert_eq(hits, set->converged, "every converged start is merged into one root");
        cr_assert_eq(set->converged + set->failed, 24 + (size_t)o.path_starts);
    }
    rnn_eig_ws_free(w);
    rnn_fixedpoint_set_free(set);
    rnn_cell_free(c);
}

Test(fixedpoint, saddle_and_marginal_centre)
{
    /* h' = -h + tanh(diag(2, 1/2) h): at 0 the rates are 1 and -1/2 */
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, 2, 1, 3);
    cr_assert_not_null(c);
    memset(c->params, 0, c->n_params * sizeof(double));
    block(c, "W")[0] = 2.0;
    block(c, "W")[3] = 0.5;
    rnn_cell_params_changed(c);
    const double u = 0, zero[2] = {0, 0};
    rnn_eig_ws *w = rnn_eig_ws_alloc(2);
    rnn_fp_classification cl;
    cr_assert_eq(rnn_fixedpoint_classify(c, RNN_FP_ODE, &u, 0.0, zero, 1e-3, w, NULL, &cl), RNN_OK);
    cr_assert_eq(cl.cls, RNN_FP_SADDLE);
    cr_assert_eq(cl.n_grow, 1);
    cr_assert_eq(cl.n_decay, 1);
    cr_assert_float_eq(cl.rate, 1.0, 1e-15);
    rnn_eig_ws_free(w);
    rnn_cell_free(c);

    /* antisym with gamma = 0: df/ds = W - W^T at the equilibrium, a purely imaginary spectrum */
    enum { m = 6 };
    c = rnn_cell_alloc(rnn_cell_antisym, m, 1, 8);
    char msg[256];
    cr_assert_eq(rnn_cell_set_hyper(c, "gamma", 0.0, msg, sizeof msg), RNN_OK, "%s", msg);
    rnn_fixedpoint_opts o;
    rnn_fixedpoint_opts_default(&o);
    double s0[m] = {0}, s[m];
    cr_assert_eq(rnn_fixedpoint_solve(c, RNN_FP_ODE, &u, 0.0, s0, &o, s, NULL, msg, sizeof msg),
                 RNN_OK, "%s", msg);
    w = rnn_eig_ws_alloc(m);
    cr_assert_eq(rnn_fixedpoint_classify(c, RNN_FP_ODE, &u, 0.0, s, 1e-3, w, NULL, &cl), RNN_OK);
    cr_assert_eq(cl.cls, RNN_FP_MARGINAL, "a centre: %s, rate %g", rnn_fp_class_name(cl.cls), cl.rate);
    cr_assert_leq(fabs(cl.max_re), 1e-14, "max Re %g", cl.max_re);
    cr_assert_eq(cl.n_neutral, m);
    rnn_eig_ws_free(w);
    rnn_cell_free(c);
}

Test(fixedpoint, classifier_on_hand_made_spectra)
{
    rnn_fp_classification cl;
    const double re1[] = {-0.5, -0.5, -2}, im1[] = {3, -3, 0};
    rnn_fp_classify_spectrum(3, re1, im1, 0, 1e-3, &cl);
    cr_assert_eq(cl.cls, RNN_FP_STABLE);
    cr_assert_float_eq(cl.rate, -0.5, 0);
    /* the same numbers as multipliers: |mu| = hypot(0.5, 3) > 1 for the pair, 2 > 1 */
    rnn_fp_classify_spectrum(3, re1, im1, 1, 1e-3, &cl);
    cr_assert_eq(cl.cls, RNN_FP_UNSTABLE);
    cr_assert_float_eq(cl.rate, log(hypot(0.5, 3)), 1e-15);
    cr_assert_float_eq(cl.radius, hypot(0.5, 3), 1e-15);
    const double re2[] = {0.5, 1e-4, -1}, im2[] = {0, 0, 0};
    rnn_fp_classify_spectrum(3, re2, im2, 0, 1e-3, &cl);
    cr_assert_eq(cl.cls, RNN_FP_SADDLE);
    cr_assert(cl.n_grow == 1 && cl.n_neutral == 1 && cl.n_decay == 1);
    const double re3[] = {5e-4, -1}, im3[] = {0, 0};
    rnn_fp_classify_spectrum(2, re3, im3, 0, 1e-3, &cl);
    cr_assert_eq(cl.cls, RNN_FP_MARGINAL, "the largest rate is within the margin");
    const double re4[] = {0.99999, 0.5}, im4[] = {0, 0};
    rnn_fp_classify_spectrum(2, re4, im4, 1, 1e-3, &cl);
    cr_assert_eq(cl.cls, RNN_FP_MARGINAL, "|mu| within e^tol of 1");
    const double re5[] = {1.5, 0.5}, im5[] = {0, 0};
    rnn_fp_classify_spectrum(2, re5, im5, 1, 1e-3, &cl);
    cr_assert_eq(cl.cls, RNN_FP_SADDLE);
    cr_assert_str_eq(rnn_fp_class_name(RNN_FP_SADDLE), "saddle");
    cr_assert_str_eq(rnn_fp_class_name(RNN_FP_MARGINAL), "marginal");
}

/* ---- failures --------------------------------------------------------------------------------- */

Test(fixedpoint, one_iteration_is_not_enough)
{
    enum { m = 8 };
    rnn_cell *c = rnn_cell_alloc(rnn_cell_cornn, m, 2, 11);
    cr_assert_not_null(c);
    const double u[2] = {0.3, 0.1};
    double s0[2 * m], s[2 * m];
    rnn_cell_random_state(c, 12, 1.0, s0);
    rnn_fixedpoint_opts o;
    rnn_fixedpoint_opts_default(&o);
    o.max_iters = 1;
    char msg[512] = "";
    rnn_fixedpoint_info info;
    int rc = rnn_fixedpoint_solve(c, RNN_FP_ODE, u, 0.0, s0, &o, s, &info, msg, sizeof msg);
    cr_assert_eq(rc, RNN_ESOLVER, "rc %d (%s)", rc, msg);
    cr_assert(strstr(msg, "KIN_MAXITER_REACHED") != NULL, "KINSOL's flag name: '%s'", msg);
    cr_assert(strstr(msg, "cornn") != NULL, "the cell: '%s'", msg);
    cr_assert(strstr(msg, "given start") != NULL, "the start: '%s'", msg);
    cr_assert_eq(info.flag, KIN_MAXITER_REACHED);

    /* all starts fail: find reports the last failure with the start's index */
    rnn_fixedpoint_set *set = rnn_fixedpoint_set_alloc(2 * m, 4);
    o.track_steps = 0;
    o.path_starts = 0;
    rc = rnn_fixedpoint_find(c, RNN_FP_STEP, u, 0.0, 3, &o, set, msg, sizeof msg);
    cr_assert_eq(rc, RNN_ESOLVER, "rc %d", rc);
    cr_assert_eq(set->count, 0);
    cr_assert_eq(set->failed, 3);
    cr_assert(strstr(msg, "no step fixed point of cornn") != NULL, "'%s'", msg);
    cr_assert(strstr(msg, "start 3 of 3") != NULL, "'%s'", msg);
    cr_assert(strstr(set->failure, "KIN_MAXITER_REACHED") != NULL, "'%s'", set->failure);
    rnn_fixedpoint_set_free(set);
    rnn_cell_free(c);
}

Test(fixedpoint, a_shut_gate_is_not_a_root)
{
    /* m = 1: A = -gamma, f(h) = sig(-gamma h + b_z) tanh(-gamma h + b_h). With b_z = -80 the
     * gate is ~1e-35 everywhere near h = 0, so |f| < fnormtol although the root is at
     * h = b_h / gamma = 50. */
    rnn_cell *c = rnn_cell_alloc(rnn_cell_antisym_gated, 1, 1, 2);
    cr_assert_not_null(c);
    memset(c->params, 0, c->n_params * sizeof(double));
    block(c, "b_z")[0] = -80;
    block(c, "b_h")[0] = 0.5;
    rnn_cell_params_changed(c);
    const double u = 0, s0 = 0, s0_step = 3;
    double s;
    rnn_fixedpoint_opts o;
    rnn_fixedpoint_opts_default(&o);
    char msg[512];
    rnn_fixedpoint_info info;
    int rc = rnn_fixedpoint_solve(c, RNN_FP_ODE, &u, 0.0, &s0, &o, &s, &info, msg, sizeof msg);
    cr_assert_eq(rc, RNN_ESOLVER, "rc %d", rc);
    cr_assert_leq(info.residual, 1e-30, "F is tiny there: %g", info.residual);
    /* (the polishing Newton steps head for h = 50, but three of them do not get there) */
    cr_assert_gt(info.error_bound, o.root_tol * fmax(1.0, fabs(s)),
                 "but the Newton correction is not: %g at s = %g", info.error_bound, s);
    cr_assert(strstr(msg, "not a located root") != NULL, "'%s'", msg);
    /* the step: Phi(3) == 3 exactly in floating point, and dPhi/ds - 1 == 0 */
    rc = rnn_fixedpoint_solve(c, RNN_FP_STEP, &u, 0.0, &s0_step, &o, &s, &info, msg, sizeof msg);
    cr_assert_eq(rc, RNN_ESOLVER, "rc %d", rc);
    cr_assert_eq(info.residual, 0.0, "Phi(s) - s = %g", info.residual);
    cr_assert(isinf(info.error_bound), "bound %g", info.error_bound);
    cr_assert(strstr(msg, "not a located root") != NULL, "'%s'", msg);
    rnn_cell_free(c);
}

/* ---- arguments ---------------------------------------------------------------------------------- */

Test(fixedpoint, argument_errors)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, 3, 1, 1);
    cr_assert_not_null(c);
    const double u = 0.2, s0[3] = {0, 0, 0}, bad_u = NAN, bad_s0[3] = {0, INFINITY, 0};
    double s[3];
    rnn_fixedpoint_opts o;
    rnn_fixedpoint_opts_default(&o);
    char msg[512];
    cr_assert_eq(rnn_fixedpoint_solve(NULL, RNN_FP_ODE, &u, 0, s0, &o, s, NULL, msg, sizeof msg),
                 RNN_EINVAL);
    cr_assert_eq(rnn_fixedpoint_solve(c, (rnn_fixedpoint_kind)7, &u, 0, s0, &o, s, NULL, msg,
                                      sizeof msg), RNN_EINVAL);
    cr_assert_eq(rnn_fixedpoint_solve(c, RNN_FP_ODE, &bad_u, 0, s0, &o, s, NULL, msg, sizeof msg),
                 RNN_EINVAL);
    cr_assert(strstr(msg, "finite") != NULL, "'%s'", msg);
    cr_assert_eq(rnn_fixedpoint_solve(c, RNN_FP_ODE, &u, NAN, s0, &o, s, NULL, msg, sizeof msg),
                 RNN_EINVAL);
    cr_assert_eq(rnn_fixedpoint_solve(c, RNN_FP_ODE, &u, 0, bad_s0, &o, s, NULL, msg, sizeof msg),
                 RNN_EINVAL);
    cr_assert_eq(rnn_fixedpoint_solve(c, RNN_FP_ODE, &u, 0, NULL, &o, s, NULL, msg, sizeof msg),
                 RNN_EINVAL);
    const char *fields[] = {"fnormtol", "scsteptol", "max_iters", "polish_iters", "max_step",
                            "root_tol", "dedup_tol", "start_scale", "track_steps",
                            "path_starts", "path_radius", "path_max_steps"};
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        rnn_fixedpoint_opts b = o;
        switch (k) {
        case 0: b.fnormtol = 0; break;
        case 1: b.scsteptol = -1; break;
        case 2: b.max_iters = 0; break;
        case 3: b.polish_iters = -1; break;
        case 4: b.max_step = -1; break;
        case 5: b.root_tol = 0; break;
        case 6: b.dedup_tol = NAN; break;
        case 7: b.start_scale = INFINITY; break;
        case 8: b.track_steps = -1; break;
        case 9: b.path_starts = -1; break;
        case 10: b.path_radius = 0; break;
        default: b.path_max_steps = 0; break;
        }
        cr_assert_eq(rnn_fixedpoint_solve(c, RNN_FP_ODE, &u, 0, s0, &b, s, NULL, msg, sizeof msg),
                     RNN_EINVAL, "bad %s accepted", fields[k]);
        cr_assert(strstr(msg, fields[k]) != NULL, "the message lists %s: '%s'", fields[k], msg);
    }
    rnn_fixedpoint_set *set = rnn_fixedpoint_set_alloc(3, 2), *wrong = rnn_fixedpoint_set_alloc(4, 2);
    cr_assert_eq(rnn_fixedpoint_find(c, RNN_FP_ODE, &u, 0, 0, &o, set, msg, sizeof msg), RNN_EINVAL);
    cr_assert_eq(rnn_fixedpoint_find(c, RNN_FP_ODE, &u, 0, 2, &o, wrong, msg, sizeof msg), RNN_EINVAL);
    cr_assert_eq(rnn_fixedpoint_find(c, RNN_FP_ODE, &u, 0, 2, &o, NULL, msg, sizeof msg), RNN_EINVAL);
    cr_assert_null(rnn_fixedpoint_set_alloc(0, 2));
    cr_assert_null(rnn_fixedpoint_set_alloc(2, 0));
    rnn_fixedpoint_set_free(NULL);
    rnn_fixedpoint_set_free(set);
    rnn_fixedpoint_set_free(wrong);
    double F[3];
    cr_assert_eq(rnn_fixedpoint_residual(c, RNN_FP_ODE, &u, 0, s0, NULL, NULL), RNN_EINVAL);
    cr_assert_eq(rnn_fixedpoint_residual(c, RNN_FP_STEP, &u, 0, s0, F, NULL), RNN_OK);
    rnn_fp_classification cl;
    rnn_eig_ws *w = rnn_eig_ws_alloc(3);
    cr_assert_eq(rnn_fixedpoint_classify(c, RNN_FP_ODE, &u, 0, s0, -1, w, NULL, &cl), RNN_EINVAL);
    cr_assert_eq(rnn_fixedpoint_classify(c, RNN_FP_ODE, &u, 0, s0, 0, NULL, NULL, &cl), RNN_EINVAL);
    rnn_eig_ws_free(w);
    cr_assert_str_eq(rnn_fixedpoint_kind_name(RNN_FP_ODE), "ode");
    cr_assert_str_eq(rnn_fixedpoint_kind_name(RNN_FP_STEP), "step");

    /* a cell without an ODE Jacobian cannot be solved for equilibria (the step still can) */
    rnn_cell_type crippled = *rnn_cell_tanh;
    crippled.ode_jacobian = NULL;
    const rnn_cell_type *saved = c->type;
    c->type = &crippled;
    cr_assert_eq(rnn_fixedpoint_solve(c, RNN_FP_ODE, &u, 0, s0, &o, s, NULL, msg, sizeof msg),
                 RNN_EUNSUPPORTED);
    cr_assert(strstr(msg, "tanh") != NULL, "'%s'", msg);
    cr_assert_eq(rnn_fixedpoint_solve(c, RNN_FP_STEP, &u, 0, s0, &o, s, NULL, msg, sizeof msg),
                 RNN_OK, "%s", msg);
    c->type = saved;
    rnn_cell_free(c);
}

/* ---- the homotopy path -------------------------------------------------------------------------- */

/* F = L s + g(s), g bounded, L invertible (tanh: L = -I; lipschitz: L = A): from far out, a
 * homotopy path that crosses c = 0 exists (fixedpoint_path.c); a given start may lie on a curve
 * that turns back, so per setting (cell, weights, wscale, kind) at least one of STARTS far
 * starts must reach a root, and every path that ends must hand Newton a start that converges. */
Test(fixedpoint, homotopy_path_from_far_reaches_a_root_of_leaky_cells)
{
    enum { m = 8, d = 2, STARTS = 4, SEEDS = 12 };
    const rnn_cell_type *types[] = {rnn_cell_tanh, rnn_cell_lipschitz};
    const double wscales[] = {0.5, 2.0};
    rnn_fixedpoint_opts o;
    rnn_fixedpoint_opts_default(&o);
    char msg[512];
    long total_steps = 0;
    int paths = 0, reached = 0;
    for (size_t ti = 0; ti < 2; ti++)
        for (unsigned long seed = 0; seed < SEEDS; seed++)
            for (size_t wi = 0; wi < 2; wi++) {
                rnn_cell *c = rnn_cell_alloc(types[ti], m, d, seed);
                cr_assert_not_null(c);
                cr_assert_eq(rnn_cell_set_hyper(c, "wscale", wscales[wi], msg, sizeof msg), RNN_OK,
                             "%s", msg);
                gsl_rng *g = rnn_rng_alloc(seed, "test:path", wi);
                double u[d], a[m], s0[m], s[m];
                rnn_fill_gaussian(g, 1.0, d, u);
                for (int kind = 0; kind < 2; kind++) {
                    int ok = 0;
                    for (int k = 0; k < STARTS; k++) {
                        rnn_fill_gaussian(g, o.path_radius, m, a);
                        long steps = 0;
                        paths++;
                        if (rnn_fixedpoint_path(c, (rnn_fixedpoint_kind)kind, u, 0.0, a, 500, s0,
                                                &steps, msg, sizeof msg) != RNN_OK) {
                            cr_log_info("%s seed %lu wscale %g kind %d: %s", types[ti]->name, seed,
                                        wscales[wi], kind, msg);
                            continue;
                        }
                        rnn_fixedpoint_info info;
                        int rc = rnn_fixedpoint_solve(c, (rnn_fixedpoint_kind)kind, u, 0.0, s0, &o,
                                                      s, &info, msg, sizeof msg);
                        cr_assert_eq(rc, RNN_OK, "%s: Newton from the path's end: %s",
                                     types[ti]->name, msg);
                        cr_assert_leq(info.residual, RESIDUAL_TOL);
                        total_steps += steps;
                        ok++;
                    }
                    cr_assert_gt(ok, 0, "%s seed %lu wscale %g kind %d: no path reached a root",
                                 types[ti]->name, seed, wscales[wi], kind);
                    reached += ok;
                }
                gsl_rng_free(g);
                rnn_cell_free(c);
            }
    cr_log_info("%d of %d paths reached a root, %.1f continuation steps each on average", reached,
                paths, (double)total_steps / reached);
}

/* The lipschitz check at --seed 2: before the homotopy starts, no direct or continuation start
 * converged for one setting (wscale 0.5, u* random; damped Newton stalls at local minima of
 * ||F||), although a root exists there (Brouwer, A invertible). */
Test(fixedpoint, lipschitz_check_at_seed_2_finds_every_setting_a_root)
{
    const rnn_check_ctx ctx = {RNN_TIER_QUICK, 2, NULL};
    rnn_check_result r = {0};
    cr_assert_eq(rnn_check_fixedpoint_kinsol(&ctx, rnn_cell_lipschitz, &r), RNN_OK, "%s", r.detail);
    cr_assert(r.pass, "%s", r.detail);
}

/* ---- the check ----------------------------------------------------------------------------------- */

Test(fixedpoint, check_passes_on_every_cell)
{
    const rnn_check_ctx ctx = {RNN_TIER_QUICK, 1, NULL};
    for (size_t i = 0; i < rnn_registry_count(); i++) {
        const rnn_cell_type *t = rnn_registry_get(i);
        rnn_check_result r = {0};
        cr_assert_eq(rnn_check_fixedpoint_kinsol(&ctx, t, &r), RNN_OK, "%s: %s", t->name, r.detail);
        cr_assert(r.pass, "%s: %s", t->name, r.detail);
        cr_assert_leq(r.measured, RESIDUAL_TOL, "%s", t->name);
        cr_assert(strstr(r.detail, "growth sign agrees") != NULL, "%s", r.detail);
    }
}
