/*
 * test_region.c — stability maps (analysis/region.c, `odernn region`).
 *
 *   - axis grammar NAME=A:B:N: good specs (descending, exponents, exact end points,
 *     x_i = ((N-1-i) A + i B) / (N-1)) and every kind of bad one (missing parts, extra parts,
 *     non-numbers, non-finite numbers, A = B, N < 2, N not an integer, bad names), each with
 *     RNN_EINVAL and a message that shows what is allowed;
 *   - metric names and which metric applies to which cell (the message lists those that do);
 *   - known values: the tanh cell with W = 0 has the ODE Jacobian -I and the step Jacobian
 *     (1 - dt) I at every state, so on a small grid of dt (and two inputs)
 *       rk-margin   = |R_euler(-dt)| - 1 = |1 - dt| - 1,
 *       ftle-max    = grad-growth = log |1 - dt| / dt;
 *     a blow-up (dt = 3.5: |1 - dt|^1000 overflows) gives +inf, not an error;
 *   - ftle-max is rnn_lyap_spectrum's largest exponent (k = 1, transient T/10) / dt;
 *   - energy-ratio: <= 1 for the IMEX coRNN where the bound exists ([CO] Prop. 3.1), NAN where
 *     gamma dt >= 2 eps (no bound);
 *   - the command: the CSV contract (x,y,metric,value with '# x:', '# y:', '# metric:' lines)
 *     and its known values, byte-identical files for --threads 1 and 2, the JSON contract,
 *     and exit status 2 with a clear message for bad axes, unknown names, out-of-range values,
 *     the same name twice, unknown and unsupported metrics.
 * The program is found through $ODERNN (the Makefile sets it), else build/odernn.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "analysis.h"
#include "program.h"

/* Sums of ~10^3 logarithms, each exact to an ulp or two: 1e-12 relative leaves margin. */
#define SUM_TOL 1e-12
/* One eigenvalue problem and one stability function: a few ulps. */
#define ULP_TOL 1e-14
/* The same QR recurrence by two routes (Householder vs normalisation): rounding only. */
#define ROUTE_TOL 1e-10

/* ---- axes --------------------------------------------------------------------------------- */

Test(region, axis_parse_good)
{
    rnn_region_axis ax;
    char msg[512];
    cr_assert_eq(rnn_region_axis_parse("eps=0.01:1:41", &ax, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert_str_eq(ax.name, "eps");
    cr_assert_eq(ax.a, 0.01);
    cr_assert_eq(ax.b, 1.0);
    cr_assert_eq(ax.n, 41);
    cr_assert_eq(rnn_region_axis_value(&ax, 0), 0.01, "exact first point");
    cr_assert_eq(rnn_region_axis_value(&ax, 40), 1.0, "exact last point");

    cr_assert_eq(rnn_region_axis_parse("dt=0.5:5:4", &ax, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert_eq(rnn_region_axis_value(&ax, 1), 2.0);
    cr_assert_eq(rnn_region_axis_value(&ax, 2), 3.5, "((n-1-i) a + i b)/(n-1) rounds once");

    cr_assert_eq(rnn_region_axis_parse("gamma_2=1e1:-2.5e-1:2", &ax, msg, sizeof msg), RNN_OK,
                 "%s", msg);
    cr_assert_str_eq(ax.name, "gamma_2");
    cr_assert_eq(ax.a, 10.0);
    cr_assert_eq(ax.b, -0.25, "descending axes are allowed");
    cr_assert_eq(ax.n, 2);
    for (size_t i = 0; i < 2; i++)
        cr_assert(isfinite(rnn_region_axis_value(&ax, i)));
}

Test(region, axis_parse_bad)
{
    static const struct {
        const char *spec, *says;
    } bad[] = {
        {"", "NAME=A:B:N"},
        {"eps", "NAME=A:B:N"},
        {"=0:1:3", "name is missing"},
        {"eps=0:1", "NAME=A:B:N"},
        {"eps=0:1:3:4", "NAME=A:B:N"},
        {"eps=:1:3", "numbers"},
        {"eps=0::3", "numbers"},
        {"eps=a:1:3", "numbers"},
        {"eps=0:1x:3", "numbers"},
        {"eps=0:1:x", "integer"},
        {"eps=0:1:2.5", "integer"},
        {"eps=0:1:-3", "integer"},
        {"eps=0:1:", "integer"},
        {"eps=1:1:5", "empty"},
        {"eps=0.5:0.5:2", "empty"},
        {"eps=0:1:1", "2.."},
        {"eps=0:1:0", "2.."},
        {"eps=0:1:100000000", "2.."},
        {"eps=nan:1:3", "finite"},
        {"eps=0:inf:3", "finite"},
        {"eps=-inf:0:3", "finite"},
        {"eps=0:1e400:3", "finite"},
        {"1eps=0:1:3", "digit"},
        {"e ps=0:1:3", "letters"},
        {"e-ps=0:1:3", "letters"},
        {"a_name_that_is_far_too_long_for_a_cell=0:1:3", "longer"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        rnn_region_axis ax;
        char msg[512] = "";
        cr_assert_eq(rnn_region_axis_parse(bad[k].spec, &ax, msg, sizeof msg), RNN_EINVAL,
                     "'%s' must be rejected", bad[k].spec);
        cr_assert(strstr(msg, bad[k].says), "'%s': message '%s' should say '%s'", bad[k].spec,
                  msg, bad[k].says);
        cr_assert(strstr(msg, "e.g. eps=0.01:1:41") || strstr(msg, "longer"),
                  "'%s': the message shows what is allowed: '%s'", bad[k].spec, msg);
    }
    char msg[256];
    cr_assert_eq(rnn_region_axis_parse(NULL, NULL, msg, sizeof msg), RNN_EINVAL);
}

/* ---- metrics: names and applicability ------------------------------------------------------- */

Test(region, metric_names)
{
    for (int m = 0; m < RNN_REGION_N_METRICS; m++) {
        const char *name = rnn_region_metric_name((rnn_region_metric_id)m);
        cr_assert_eq(rnn_region_metric_parse(name), m, "%s round-trips", name);
        cr_assert(strstr(rnn_region_metric_names(), name), "%s is listed", name);
        cr_assert(strlen(rnn_region_metric_doc((rnn_region_metric_id)m)) > 10);
    }
    cr_assert_eq(rnn_region_metric_parse("ftle"), -1);
    cr_assert_eq(rnn_region_metric_parse(NULL), -1);
}

Test(region, metric_applicability)
{
    rnn_cell *t = rnn_cell_alloc(rnn_cell_tanh, 4, 1, 1), *c = rnn_cell_alloc(rnn_cell_cornn, 4, 1, 1);
    cr_assert(t && c);
    char msg[1024];
    cr_assert_eq(rnn_region_metric_check(t, RNN_REGION_RK_MARGIN, msg, sizeof msg), RNN_OK);
    cr_assert_eq(rnn_region_metric_check(t, RNN_REGION_FTLE_MAX, msg, sizeof msg), RNN_OK);
    cr_assert_eq(rnn_region_metric_check(t, RNN_REGION_GRAD_GROWTH, msg, sizeof msg), RNN_OK);
    cr_assert_eq(rnn_region_metric_check(t, RNN_REGION_ENERGY_RATIO, msg, sizeof msg),
                 RNN_EUNSUPPORTED);
    cr_assert(strstr(msg, "metrics that work for 'tanh': rk-margin, ftle-max, grad-growth"), "%s",
              msg);
    cr_assert_eq(rnn_region_metric_check(c, RNN_REGION_RK_MARGIN, msg, sizeof msg),
                 RNN_EUNSUPPORTED);
    cr_assert(strstr(msg, "not a Runge-Kutta method"), "%s", msg);
    cr_assert(strstr(msg, "metrics that work for 'cornn': ftle-max, grad-growth, energy-ratio"),
              "%s", msg);
    cr_assert_eq(rnn_region_metric_check(c, RNN_REGION_ENERGY_RATIO, msg, sizeof msg), RNN_OK);
    cr_assert_eq(rnn_region_metric_check(c, (rnn_region_metric_id)99, msg, sizeof msg), RNN_EINVAL);

    /* The metric itself refuses the same way, and bad arguments are RNN_EINVAL. */
    rnn_input *in = rnn_input_alloc_zero(1);
    double s0[8] = {0}, v;
    cr_assert_eq(rnn_region_metric(c, in, s0, RNN_REGION_RK_MARGIN, 10, &v, msg, sizeof msg),
                 RNN_EUNSUPPORTED);
    cr_assert_eq(rnn_region_metric(t, in, s0, RNN_REGION_FTLE_MAX, 0, &v, msg, sizeof msg),
                 RNN_EINVAL);
    cr_assert_eq(rnn_region_metric(t, in, s0, RNN_REGION_FTLE_MAX, 1, &v, msg, sizeof msg),
                 RNN_EINVAL);
    cr_assert(strstr(msg, "steps >= 2"), "%s", msg);
    rnn_input *in2 = rnn_input_alloc_zero(2);
    cr_assert_eq(rnn_region_metric(t, in2, s0, RNN_REGION_GRAD_GROWTH, 10, &v, msg, sizeof msg),
                 RNN_EINVAL, "input dimension must match");
    s0[0] = NAN;
    cr_assert_eq(rnn_region_metric(t, in, s0, RNN_REGION_GRAD_GROWTH, 10, &v, msg, sizeof msg),
                 RNN_EINVAL, "a non-finite initial state is bad input, not a blow-up");
    rnn_input_free(in);
    rnn_input_free(in2);
    rnn_cell_free(t);
    rnn_cell_free(c);
}

/* ---- known values ------------------------------------------------------------------------------ */

/* The tanh cell with W = 0: df/ds = -I and ds_n/ds_{n-1} = (1 - dt) I at every state. */
static rnn_cell *tanh_without_recurrence(size_t m, double dt)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, m, 1, 3);
    cr_assert_not_null(c);
    const rnn_block *W = rnn_cell_block(c, "W");
    memset(c->params + W->offset, 0, W->rows * W->cols * sizeof(double));
    rnn_cell_params_changed(c);
    cr_assert_eq(rnn_cell_set_dt(c, dt), RNN_OK);
    return c;
}

Test(region, known_values_on_a_small_grid)
{
    const size_t m = 4, steps = 300;
    const double dts[] = {0.25, 0.5, 1.5, 1.9};
    rnn_input *ins[2] = {rnn_input_alloc_zero(1), rnn_input_alloc_sines(1, 5)};
    double s0[4] = {0.3, -0.2, 0.5, 0.1};
    char msg[512];
    for (size_t i = 0; i < sizeof dts / sizeof dts[0]; i++)
        for (size_t j = 0; j < 2; j++) {
            const double dt = dts[i], rate = log(fabs(1 - dt)) / dt;
            rnn_cell *c = tanh_without_recurrence(m, dt);
            double v;
            cr_assert_eq(rnn_region_metric(c, ins[j], s0, RNN_REGION_RK_MARGIN, steps, &v, msg,
                                           sizeof msg), RNN_OK, "%s", msg);
            cr_assert_leq(fabs(v - (fabs(1 - dt) - 1)), ULP_TOL, "rk-margin at dt = %g: %.17g",
                          dt, v);
            cr_assert_eq(rnn_region_metric(c, ins[j], s0, RNN_REGION_FTLE_MAX, steps, &v, msg,
                                           sizeof msg), RNN_OK, "%s", msg);
            cr_assert_leq(fabs(v - rate), SUM_TOL * fabs(rate), "ftle-max at dt = %g: %.17g vs %.17g",
                          dt, v, rate);
            cr_assert_eq(rnn_region_metric(c, ins[j], s0, RNN_REGION_GRAD_GROWTH, steps, &v, msg,
                                           sizeof msg), RNN_OK, "%s", msg);
            cr_assert_leq(fabs(v - rate), SUM_TOL * fabs(rate),
                          "grad-growth at dt = %g: %.17g vs %.17g", dt, v, rate);
            rnn_cell_free(c);
        }
    rnn_input_free(ins[0]);
    rnn_input_free(ins[1]);
}

Test(region, blowup_is_infinity_not_an_error)
{
    /* |1 - 3.5|^1000 = 2.5^1000 ~ 1e398 overflows a double. */
    rnn_cell *c = tanh_without_recurrence(4, 3.5);
    rnn_input *in = rnn_input_alloc_zero(1);
    double s0[4] = {0.3, -0.2, 0.5, 0.1}, v;
    char msg[512];
    const rnn_region_metric_id ms[] = {RNN_REGION_RK_MARGIN, RNN_REGION_FTLE_MAX,
                                       RNN_REGION_GRAD_GROWTH};
    for (size_t k = 0; k < 3; k++) {
        v = 0;
        int rc = rnn_region_metric(c, in, s0, ms[k], 1000, &v, msg, sizeof msg);
        cr_assert_eq(rc, RNN_OK, "%s: a blow-up is a value (%s)", rnn_region_metric_name(ms[k]),
                     msg);
        cr_assert(isinf(v) && v > 0, "%s: +inf, got %g", rnn_region_metric_name(ms[k]), v);
    }
    /* Odd totals of steps (transient + measured): rnn_lyap_spectrum once freed an interior
     * pointer there (fixed in e6259f4); a map hits every total. */
    for (size_t steps = 20; steps <= 23; steps++) {
        cr_assert_eq(rnn_region_metric(c, in, s0, RNN_REGION_FTLE_MAX, steps, &v, msg, sizeof msg),
                     RNN_OK, "%s", msg);
        cr_assert(isfinite(v));
    }
    rnn_input_free(in);
    rnn_cell_free(c);
}

Test(region, ftle_max_is_the_qr_methods_largest_exponent)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, 8, 1, 11);
    rnn_input *in = rnn_input_alloc_sines(1, 4);
    cr_assert(c && in);
    char msg[512];
    cr_assert_eq(rnn_cell_set_dt(c, 0.4), RNN_OK);
    double s0[8];
    rnn_cell_random_state(c, 2, 0.5, s0);
    const size_t steps = 400;
    rnn_lyap_opts o;
    rnn_lyap_opts_default(&o);
    o.k = 1;
    o.transient = steps / 10;
    o.steps = steps;
    o.reorth = 1;
    o.blocks = 2;
    rnn_lyap_result *r = rnn_lyap_result_alloc(8, 1, 2);
    cr_assert_eq(rnn_lyap_spectrum(c, in, s0, &o, r, msg, sizeof msg), RNN_OK, "%s", msg);
    double v, ref = r->exponents[0] / 0.4;
    cr_assert_eq(rnn_region_metric(c, in, s0, RNN_REGION_FTLE_MAX, steps, &v, msg, sizeof msg),
                 RNN_OK, "%s", msg);
    cr_assert_leq(fabs(v - ref), ROUTE_TOL * fmax(1, fabs(ref)), "%.17g vs %.17g", v, ref);
    rnn_lyap_result_free(r);
    rnn_input_free(in);
    rnn_cell_free(c);
}

Test(region, energy_ratio_of_cornn)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_cornn, 8, 1, 2);
    rnn_input *in = rnn_input_alloc_gaussian(RNN_INPUT_HOLD, 1, 600, 0.0, 0.042, 9);
    cr_assert(c && in);
    double s0[16], v;
    rnn_cell_random_state(c, 3, 0.5, s0);
    char msg[512];
    /* The paper's defaults: dt 0.042, gamma 2.7, eps 4.7 — the bound holds. */
    cr_assert_eq(rnn_region_metric(c, in, s0, RNN_REGION_ENERGY_RATIO, 500, &v, msg, sizeof msg),
                 RNN_OK, "%s", msg);
    cr_assert(v > 0 && v <= 1, "IMEX energy ratio %g must be in (0, 1]", v);
    /* gamma dt >= 2 eps: no bound, NAN. */
    cr_assert_eq(rnn_cell_set_hyper(c, "gamma", 300, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert_eq(rnn_region_metric(c, in, s0, RNN_REGION_ENERGY_RATIO, 500, &v, msg, sizeof msg),
                 RNN_OK, "%s", msg);
    cr_assert(isnan(v), "gamma dt = %g >= 2 eps = %g: NAN, got %g", 300 * 0.042, 2 * 4.7, v);
    rnn_input_free(in);
    rnn_cell_free(c);
}

/* ---- the command --------------------------------------------------------------------------------- */

static char *const out = program_out;


static char tmpdir[64];

static void make_tmpdir(void)
{
    program_tmpdir_make(tmpdir, "region");
}

static void remove_tmpdir(void)
{
    program_tmpdir_remove(tmpdir);
}

Test(region, cli_csv_contract_and_known_values, .init = make_tmpdir, .fini = remove_tmpdir)
{
    char args[1024], path[256];
    snprintf(path, sizeof path, "%s/rk.csv", tmpdir);
    /* wscale = 0 gives W = 0 (an initialisation axis: each point is re-initialised). */
    snprintf(args, sizeof args, "region tanh --hidden 4 --x dt=0.5:2.5:3 --y wscale=0:1:2 "
             "--metric rk-margin --steps 5 --out %s", path);
    cr_assert_eq(program_run(args), 0, "%s", out);
    size_t len;
    char *csv = program_slurp(path, &len);
    cr_assert(strstr(csv, "# odernn region\n"));
    cr_assert(strstr(csv, "\n# x: dt\n"), "%s", csv);
    cr_assert(strstr(csv, "\n# y: wscale\n"), "%s", csv);
    cr_assert(strstr(csv, "\n# metric: rk-margin"), "%s", csv);
    cr_assert(strstr(csv, "\nx,y,metric,value\n"), "%s", csv);
    cr_assert(strstr(csv, "\n0.5,0,rk-margin,-0.5\n"), "%s", csv);
    cr_assert(strstr(csv, "\n1.5,0,rk-margin,-0.5\n"), "%s", csv);
    cr_assert(strstr(csv, "\n2.5,0,rk-margin,0.5\n"), "%s", csv);
    /* 3 x 2 data rows after the header. */
    const char *rows = strstr(csv, "x,y,metric,value\n") + strlen("x,y,metric,value\n");
    size_t nl = 0;
    for (const char *p = rows; *p; p++)
        nl += *p == '\n';
    cr_assert_eq(nl, 6);
    free(csv);

    /* Parameters from a file: an initialisation axis would change nothing. */
    snprintf(path, sizeof path, "%s/p.params", tmpdir);
    snprintf(args, sizeof args, "simulate tanh --hidden 4 --steps 1 --save-params %s", path);
    cr_assert_eq(program_run(args), 0, "%s", out);
    snprintf(args, sizeof args, "region tanh --load-params %s --x dt=0.5:1:2 --y wscale=1:2:2",
             path);
    cr_assert_eq(program_run(args), 2, "%s", out);
    cr_assert(strstr(out, "only shapes the initialisation"), "%s", out);
    snprintf(args, sizeof args, "region tanh --load-params %s --x dt=0.5:1:2 --y dt=1:2:2", path);
    cr_assert_eq(program_run(args), 2, "%s", out);

    /* A blow-up is a value (inf), and the map still succeeds. */
    cr_assert_eq(program_run("region tanh --hidden 4 --x dt=0.5:3.5:2 --y wscale=0:1:2 --metric "
                     "grad-growth --steps 1000"), 0, "%s", out);
    cr_assert(strstr(out, "\n3.5,0,grad-growth,inf\n"), "%s", out);
}

Test(region, cli_same_file_for_any_thread_count, .init = make_tmpdir, .fini = remove_tmpdir)
{
    const char *metrics[] = {"ftle-max", "grad-growth", "rk-margin"};
    for (size_t k = 0; k < 3; k++) {
        char a1[256], a2[256], args[1024];
        snprintf(a1, sizeof a1, "%s/t1.csv", tmpdir);
        snprintf(a2, sizeof a2, "%s/t2.csv", tmpdir);
        for (int t = 1; t <= 2; t++) {
            snprintf(args, sizeof args, "region tanh --hidden 6 --x dt=0.1:1.2:7 --y "
                     "wscale=0.5:2.5:5 --metric %s --steps 150 --input hold --threads %d --out %s",
                     metrics[k], t, t == 1 ? a1 : a2);
            cr_assert_eq(program_run(args), 0, "%s", out);
        }
        size_t n1, n2;
        char *f1 = program_slurp(a1, &n1), *f2 = program_slurp(a2, &n2);
        cr_assert_eq(n1, n2, "%s: same length", metrics[k]);
        cr_assert_eq(memcmp(f1, f2, n1), 0, "%s: byte-identical for 1 and 2 threads", metrics[k]);
        free(f1);
        free(f2);
    }
    /* coRNN over a joint constraint, energy-ratio, 3 threads. */
    char a1[256], a2[256], args[1024];
    snprintf(a1, sizeof a1, "%s/c1.csv", tmpdir);
    snprintf(a2, sizeof a2, "%s/c3.csv", tmpdir);
    for (int t = 1; t <= 3; t += 2) {
        snprintf(args, sizeof args, "region cornn --hidden 4 --x gamma=0.5:300:4 --y "
                 "eps=0.5:8:3 --metric energy-ratio --steps 200 --threads %d --out %s", t,
                 t == 1 ? a1 : a2);
        cr_assert_eq(program_run(args), 0, "%s", out);
    }
    size_t n1, n2;
    char *f1 = program_slurp(a1, &n1), *f2 = program_slurp(a2, &n2);
    cr_assert(n1 == n2 && memcmp(f1, f2, n1) == 0, "cornn: byte-identical for 1 and 3 threads");
    cr_assert(strstr(f1, ",energy-ratio,nan\n"), "gamma dt >= 2 eps gives nan:\n%s", f1);
    free(f1);
    free(f2);
}

Test(region, cli_json_contract)
{
    cr_assert_eq(program_run("region tanh --hidden 4 --x dt=0.5:1:3 --y wscale=0.5:1:2 --steps 20 --json"),
                 0, "%s", out);
    cr_assert(out[0] == '{', "JSON only on stdout without --out: %s", out);
    cr_assert(strstr(out, "\"cell\":\"tanh\""), "%s", out);
    cr_assert(strstr(out, "\"x\":\"dt\""), "%s", out);
    cr_assert(strstr(out, "\"y\":\"wscale\""), "%s", out);
    cr_assert(strstr(out, "\"metric\":\"ftle-max\""), "%s", out);
    cr_assert(strstr(out, "\"nx\":3"), "%s", out);
    cr_assert(strstr(out, "\"ny\":2"), "%s", out);
    cr_assert(strstr(out, "\"values\":[["), "%s", out);
}

Test(region, cli_errors_exit_2)
{
    static const struct {
        const char *args, *says;
    } bad[] = {
        {"region tanh", "needs both axes"},
        {"region tanh --x dt=0.1:1:3", "needs both axes"},
        {"region tanh --x dt=0.1:1:3 --y wscale=1:1:3", "empty"},
        {"region tanh --x dt=0.1:1:1 --y wscale=1:2:3", "2..100000"},
        {"region tanh --x dt=0.1:1 --y wscale=1:2:3", "NAME=A:B:N"},
        {"region tanh --x dt=0.1:1:3 --y wscale=1:2:inf", "integer"},
        {"region tanh --x dt=0.1:1:3 --y dt=1:2:3", "both vary 'dt'"},
        {"region tanh --x eps=0.1:1:3 --y wscale=1:2:3", "its hyperparameters: dt, wscale"},
        {"region tanh --x dt=-1:1:3 --y wscale=1:2:3", "dt must be a number in (0, inf)"},
        {"region tanh --x dt=0.1:1:3 --y wscale=-1:2:3", "wscale must be a number in [0, inf)"},
        {"region cornn --x dt=0.1:1:3 --y eps=-20:1:3", "1 + dt*eps > 0"},
        {"region tanh --x dt=0.1:1:3 --y wscale=1:2:3 --metric nope",
         "allowed: rk-margin, ftle-max, grad-growth, energy-ratio"},
        {"region cornn --x dt=0.1:1:3 --y gamma=1:2:3 --metric rk-margin", "not a Runge-Kutta"},
        {"region tanh --x dt=0.1:1:3 --y wscale=1:2:3 --metric energy-ratio",
         "metrics that work for 'tanh'"},
        {"region tanh --x dt=0.1:1:3 --y wscale=1:2:3 --set dt=0.5", "conflicts"},
        {"region tanh --x dt=0.1:1:3 --y wscale=1:2:3 --steps 1", "--steps >= 2"},
        {"region tanh --x dt=0.1:1:3 --y wscale=1:2:3 --out /nonexistent-dir/r.csv",
         "cannot write"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        cr_assert_eq(program_run(bad[k].args), 2, "'%s' exits 2: %s", bad[k].args, out);
        cr_assert(strstr(out, bad[k].says), "'%s': '%s' should say '%s'", bad[k].args, out,
                  bad[k].says);
        cr_assert(!strstr(out, "x,y,metric,value"), "no data on error");
    }
}
