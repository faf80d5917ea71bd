/*
 * test_experiments.c — unit tests of the experiments module (experiments/experiments.h):
 * the checks themselves, called directly with ctx = {RNN_TIER_QUICK, seed 1}.
 *
 *   - jac.step, jac.ode, vjp, order and cvode.exact pass on correct code;
 *   - they can FAIL: deliberately broken cell types built here (a step Jacobian scaled by
 *     1.001, an ODE Jacobian with one entry perturbed, a VJP scaled by 1.001, a wrong stated
 *     order) are reported with pass == 0 and a measured value beyond the threshold;
 *   - the closed-form linear problem's solution satisfies its ODE (central-difference
 *     residual) and its initial condition, and its Jacobian is right;
 *   - the check registry, tier and kind names, and rnn_write_atomic.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "experiments.h"

static const rnn_check_ctx CTX = {RNN_TIER_QUICK, 1, NULL};

/* The foundation checks' threshold (THEORY.md §3): max relative error 1e-6. A Jacobian or VJP
 * scaled by 1.001 has relative error 1e-3, three orders above it. */
#define JAC_THRESHOLD 1e-6

/* ---- broken cell types ------------------------------------------------------------------------- */

static int jac_scaled(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    int rc = rnn_cell_tanh->step_jacobian(c, t, s, u, J);
    for (size_t i = 0; i < c->n_state * c->n_state; i++)
        J[i] *= 1.001;
    return rc;
}

static int ode_jac_perturbed(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    int rc = rnn_cell_tanh->ode_jacobian(c, t, s, u, J);
    J[1] += 1e-3; /* one off-diagonal entry */
    return rc;
}

static int vjp_scaled(const rnn_cell *c, double t, const double *s, const double *u,
                      const double *g, double *gs, double *gtheta)
{
    int rc = rnn_cell_tanh->step_vjp(c, t, s, u, g, gs, gtheta);
    for (size_t i = 0; i < c->n_state; i++)
        gs[i] *= 1.001;
    return rc;
}

/* ---- the checks pass on correct code ----------------------------------------------------------- */

Test(experiments, jac_step_passes_on_tanh)
{
    rnn_check_result r = {0};
    cr_assert_eq(rnn_check_jac_step(&CTX, rnn_cell_tanh, &r), RNN_OK, "ran: %s", r.detail);
    cr_assert_eq(r.status, RNN_OK, "status");
    cr_assert_eq(r.pass, 1, "jac.step.tanh passes: measured %.3e (%s)", r.measured, r.detail);
    cr_assert_leq(r.measured, JAC_THRESHOLD, "measured %.3e", r.measured);
    cr_assert_eq(r.threshold, JAC_THRESHOLD, "threshold");
    cr_assert_eq(r.cmp, RNN_CMP_LE, "compared with <=");
    cr_assert(r.detail[0] != '\0', "a detail line");
}

Test(experiments, jac_ode_and_vjp_pass_on_cornn)
{
    rnn_check_result r = {0};
    cr_assert_eq(rnn_check_jac_ode(&CTX, rnn_cell_cornn, &r), RNN_OK, "ran: %s", r.detail);
    cr_assert_eq(r.pass, 1, "jac.ode.cornn: measured %.3e", r.measured);
    memset(&r, 0, sizeof r);
    cr_assert_eq(rnn_check_vjp(&CTX, rnn_cell_cornn, &r), RNN_OK, "ran: %s", r.detail);
    cr_assert_eq(r.pass, 1, "vjp.cornn: measured %.3e (%s)", r.measured, r.detail);
}

/* What cvode.exact measures is its own business (docs/theory/cvode-exact.md); here: it runs,
 * carries a verdict, and passes. */
Test(experiments, cvode_exact_passes)
{
    rnn_check_result r = {0};
    cr_assert_eq(rnn_check_cvode_exact(&CTX, NULL, &r), RNN_OK, "ran: %s", r.detail);
    cr_assert_eq(r.status, RNN_OK, "status");
    cr_assert_eq(r.pass, 1, "cvode.exact: measured %.3f, threshold %.3f, %s", r.measured, r.threshold,
                 r.detail);
    cr_assert(isfinite(r.measured) && r.detail[0] != '\0', "a measured value and a detail line");
}

/* ---- the checks can fail -------------------------------------------------------------------------- */

Test(experiments, jac_step_fails_on_wrong_jacobian)
{
    rnn_cell_type broken = *rnn_cell_tanh;
    broken.step_jacobian = jac_scaled;
    rnn_check_result r = {0};
    cr_assert_eq(rnn_check_jac_step(&CTX, &broken, &r), RNN_OK, "the check runs: %s", r.detail);
    cr_assert_eq(r.pass, 0, "a Jacobian scaled by 1.001 must fail jac.step (measured %.3e)", r.measured);
    cr_assert_gt(r.measured, JAC_THRESHOLD, "measured %.3e", r.measured);
    /* and it measures the planted error: 1e-3 relative, up to the max-norm normalisation */
    cr_assert(r.measured > 1e-4 && r.measured < 1e-2, "measured %.3e ~ 1e-3", r.measured);
}

Test(experiments, jac_ode_fails_on_wrong_jacobian)
{
    rnn_cell_type broken = *rnn_cell_tanh;
    broken.ode_jacobian = ode_jac_perturbed;
    rnn_check_result r = {0};
    cr_assert_eq(rnn_check_jac_ode(&CTX, &broken, &r), RNN_OK, "the check runs");
    cr_assert_eq(r.pass, 0, "a perturbed ODE Jacobian must fail jac.ode (measured %.3e)", r.measured);
    cr_assert_gt(r.measured, JAC_THRESHOLD, "measured %.3e", r.measured);
}

Test(experiments, vjp_fails_on_wrong_vjp)
{
    rnn_cell_type broken = *rnn_cell_tanh;
    broken.step_vjp = vjp_scaled;
    rnn_check_result r = {0};
    cr_assert_eq(rnn_check_vjp(&CTX, &broken, &r), RNN_OK, "the check runs: %s", r.detail);
    cr_assert_eq(r.pass, 0, "a VJP scaled by 1.001 must fail vjp (measured %.3e)", r.measured);
    cr_assert_gt(r.measured, JAC_THRESHOLD, "measured %.3e", r.measured);
}

/* order.tanh passes with the true order 1, and the same cell claiming order 2 fails with
 * |fitted - 2| ~ 1, far beyond the 0.15 window. */
Test(experiments, order_passes_and_fails_on_wrong_order)
{
    rnn_check_result r = {0};
    cr_assert_eq(rnn_check_order(&CTX, rnn_cell_tanh, &r), RNN_OK, "ran: %s", r.detail);
    cr_assert_eq(r.pass, 1, "order.tanh: measured %.3f (%s)", r.measured, r.detail);
    cr_assert_leq(r.measured, 0.15, "|order - 1| = %.3f", r.measured);

    rnn_cell_type wrong = *rnn_cell_tanh;
    wrong.order = 2;
    memset(&r, 0, sizeof r);
    cr_assert_eq(rnn_check_order(&CTX, &wrong, &r), RNN_OK, "ran: %s", r.detail);
    cr_assert_eq(r.pass, 0, "a cell claiming order 2 must fail (measured %.3f)", r.measured);
    cr_assert(r.measured > 0.85 && r.measured < 1.15, "|fitted - 2| = %.3f ~ 1", r.measured);
}

/* ---- the exact linear problem ---------------------------------------------------------------------- */

Test(experiments, exact_linear_solution_satisfies_its_ode)
{
    rnn_exact_linear p;
    rnn_exact_linear_make(&p, 4, 3);
    rnn_ode ode = rnn_exact_linear_ode(&p);
    cr_assert_eq(ode.n, 8, "n = 2 blocks");
    cr_assert(ode.rhs && ode.jac && ode.name, "rhs, jac and a name");
    for (size_t k = 0; k < p.blocks; k++)
        cr_assert(p.a[k] >= 0.05 && p.a[k] <= 0.5 && p.w[k] >= 0.5 && p.w[k] <= 5.0,
                  "documented ranges of decay and rotation");
    double s[8], sp[8], sm[8], f[8];
    rnn_exact_linear_solution(&p, 0.0, s);
    for (size_t i = 0; i < 8; i++)
        cr_assert_leq(fabs(s[i] - p.s0[i]), 1e-14 * fmax(1.0, fabs(p.s0[i])), "s(0) = s0 [%zu]", i);
    /* Central-difference residual: h = cbrt(eps) max(1, t); truncation h^2/6 |s'''| with
     * |s'''| <~ (w + a + nu)^3 max|s| ~ 300 gives ~1e-8, rounding eps |s| / h ~ 1e-10; 1e-7
     * relative to max(1, |f|) is a safe bound, while a wrong sign or factor in the solution is
     * O(1). */
    const double times[] = {0.3, 1.7, 5.0, 9.9};
    for (size_t it = 0; it < 4; it++) {
        double t = times[it], h = cbrt(DBL_EPSILON) * fmax(1.0, t);
        rnn_exact_linear_solution(&p, t, s);
        rnn_exact_linear_solution(&p, t + h, sp);
        rnn_exact_linear_solution(&p, t - h, sm);
        cr_assert_eq(ode.rhs(t, s, f, ode.ctx), 0, "rhs");
        for (size_t i = 0; i < 8; i++) {
            double ds = (sp[i] - sm[i]) / (2 * h);
            cr_assert_leq(fabs(ds - f[i]), 1e-7 * fmax(1.0, fabs(f[i])),
                          "t = %g, i = %zu: ds/dt %.12g, f(t, s(t)) %.12g", t, i, ds, f[i]);
        }
    }
    /* The Jacobian is the constant block matrix: f is linear, so differences are exact up to
     * rounding. */
    double J[64], fp[8], fm[8];
    rnn_exact_linear_solution(&p, 1.0, s);
    cr_assert_eq(ode.jac(1.0, s, J, ode.ctx), 0, "jac");
    for (size_t j = 0; j < 8; j++) {
        double x = s[j];
        s[j] = x + 1e-3;
        ode.rhs(1.0, s, fp, ode.ctx);
        s[j] = x - 1e-3;
        ode.rhs(1.0, s, fm, ode.ctx);
        s[j] = x;
        for (size_t i = 0; i < 8; i++)
            cr_assert_leq(fabs((fp[i] - fm[i]) / 2e-3 - J[i * 8 + j]), 1e-9, "J[%zu][%zu]", i, j);
    }
    /* deterministic in its seed */
    rnn_exact_linear q;
    rnn_exact_linear_make(&q, 4, 3);
    cr_assert(memcmp(&p, &q, sizeof p) == 0, "same seed, same problem");
}

/* ---- registry, names, files --------------------------------------------------------------------- */

Test(experiments, check_registry_is_well_formed)
{
    const size_t n = rnn_checks_count();
    cr_assert_geq(n, 5, "at least the foundation checks");
    cr_assert_null(rnn_checks_get(n), "past the end");
    int have_jac_step = 0;
    for (size_t i = 0; i < n; i++) {
        const rnn_check_def *d = rnn_checks_get(i);
        cr_assert(d && d->id && d->id[0] && d->claim && d->claim[0] && d->source && d->run,
                  "check %zu is complete", i);
        for (size_t j = 0; j < i; j++)
            cr_assert(strcmp(d->id, rnn_checks_get(j)->id) != 0, "duplicate id %s", d->id);
        have_jac_step |= strcmp(d->id, "jac.step") == 0 && d->per_cell && d->run == rnn_check_jac_step;
    }
    cr_assert(have_jac_step, "jac.step is registered as a per-cell check");
}

Test(experiments, tier_and_kind_names)
{
    cr_assert_eq(rnn_tier_parse("quick"), RNN_TIER_QUICK, "quick");
    cr_assert_eq(rnn_tier_parse("standard"), RNN_TIER_STANDARD, "standard");
    cr_assert_eq(rnn_tier_parse("full"), RNN_TIER_FULL, "full");
    cr_assert_eq(rnn_tier_parse("paranoid"), -1, "unknown tier");
    cr_assert_eq(rnn_tier_parse(""), -1, "empty");
    cr_assert_eq(rnn_tier_parse("Quick"), -1, "names are case-sensitive");
    for (int t = RNN_TIER_QUICK; t <= RNN_TIER_FULL; t++)
        cr_assert_eq(rnn_tier_parse(rnn_tier_name((rnn_tier)t)), t, "round trip of tier %d", t);
    cr_assert_str_eq(rnn_check_kind_name(RNN_KIND_PAPER), "paper", "paper");
    cr_assert_str_eq(rnn_check_kind_name(RNN_KIND_DERIVED), "derived", "derived");
    cr_assert_str_eq(rnn_check_kind_name(RNN_KIND_READING), "reading", "reading");
    cr_assert_str_eq(rnn_check_kind_name(RNN_KIND_OBSERVATION), "observation", "observation");
}

Test(experiments, write_atomic)
{
    char msg[512] = "";
    cr_assert_eq(rnn_write_atomic("/nonexistent/dir/out.json", "x", msg, sizeof msg), RNN_EIO,
                 "an unwritable path");
    cr_assert(strstr(msg, "/nonexistent/dir/out.json") != NULL, "the message names the path: '%s'", msg);

    char dir[] = "/tmp/odernn-test-exp-XXXXXX", path[256];
    cr_assert_not_null(mkdtemp(dir), "mkdtemp");
    snprintf(path, sizeof path, "%s/out.txt", dir);
    cr_assert_eq(rnn_write_atomic(path, "hello\nworld\n", msg, sizeof msg), RNN_OK, "%s", msg);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "written");
    char buf[64] = "";
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = '\0';
    cr_assert_str_eq(buf, "hello\nworld\n", "contents");
    /* overwriting replaces the file, and nothing but it is left in the directory */
    cr_assert_eq(rnn_write_atomic(path, "again\n", msg, sizeof msg), RNN_OK, "%s", msg);
    DIR *dp = opendir(dir);
    struct dirent *e;
    int entries = 0;
    while ((e = readdir(dp)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            entries++;
    closedir(dp);
    cr_assert_eq(entries, 1, "no temporary file left beside the output");
    unlink(path);
    rmdir(dir);
}
