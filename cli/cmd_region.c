/*
 * cmd_region.c — `odernn region CELL --x P=a:b:n --y Q=a:b:n --metric M`: a stability metric
 * mapped over a grid of two hyperparameters.
 *
 *   x_i = ((n_x-1-i) a_x + i b_x) / (n_x-1),  y_j likewise;
 *   value(i, j) = metric(cell with P = x_i, Q = y_j;  input u(t);  s_0)
 *
 * with the metrics of analysis/region.c: rk-margin (max |R(dt lambda)| - 1 over the trajectory),
 * ftle-max (largest Lyapunov exponent per unit time), grad-growth (log ||ds_T/ds_0||_2 / t_T)
 * and energy-ratio (max E_n over the coRNN bound E_0 + m t_n / (2 eps - gamma dt)).
 *
 * Every grid point gets its own cell made by cli_make_cell from the same options (the same
 * seed, hence the same weights everywhere, so the map is smooth in its parameters), with the
 * two axis hyperparameters set together (joint constraints see the pair). An axis over an
 * initialisation hyperparameter (RNN_HYPER_INIT, e.g. wscale) changes the weights: the cell is
 * then re-initialised from the same seed after it is set. Each point also gets its own input
 * (hold and linear inputs are sampled at that point's dt) and initial state.
 *
 * Parallelism: `#pragma omp parallel for schedule(dynamic)` over the points, each writing its
 * own slot of a preallocated array; the CSV is written afterwards, serially, in a fixed order
 * (x outer, y inner). A point's value depends only on the options and (i, j), so the file is
 * byte-identical for any --threads. OpenBLAS is kept to one thread per call: the parallelism
 * is over grid points, and BLAS threads inside OpenMP threads would only oversubscribe the
 * cores (the matrices here are small).
 *
 * Errors (exit 2, before any point is evaluated): a missing or malformed axis, the same
 * hyperparameter on both axes, a name that is not a hyperparameter of the cell (the message
 * lists the cell's), a value out of range at any grid point (rnn_cell_set_assignments's
 * message, with the point), a metric that does not apply to the cell (the message lists those
 * that do), --set of an axis hyperparameter, an initialisation axis with --load-params.
 * A point whose trajectory blows up is not an error: its value is inf (see analysis.h).
 * A failure of LAPACK at a point ends the map with exit 3 and the point's coordinates.
 *
 * Reference: THEORY.md §6 (the stability machinery) and analysis/region.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <omp.h>
#include <cblas.h>
#include <cjson/cJSON.h>
#include "cli.h"

#define MAX_GRID_POINTS 10000000 /* n_x n_y: 80 MB of values */

typedef struct {
    const cli_opts *o;
    rnn_region_axis ax[2];     /* x, y */
    rnn_region_metric_id metric;
    int reinit;                /* an axis is an initialisation hyperparameter */
    size_t n_samples;          /* input samples per point (hold, linear) */
} region_plan;

static const char *axis_opt(int k)
{
    return k == 0 ? "--x" : "--y";
}

/* The shortest %.*g that reads back as the same double (0.1, not 0.10000000000000001); inf,
 * -inf and nan spelled the same way on every platform (printf may write "-nan"). */
static const char *fmt_value(double v, char *buf, size_t len)
{
    if (isnan(v))
        snprintf(buf, len, "nan");
    else if (isinf(v))
        snprintf(buf, len, "%s", v > 0 ? "inf" : "-inf");
    else
        for (int prec = 15; prec <= 17; prec++) { /* 15: no exponent for 20, 1e6 */
            snprintf(buf, len, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    return buf;
}

static void print_value(FILE *f, double v)
{
    char buf[40];
    fputs(fmt_value(v, buf, sizeof buf), f);
}

static void hyper_list(const rnn_cell *c, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < c->n_hypers && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                                 c->type->hypers[i].name);
}

/* Sets the pair (x_i, y_j) on c, joint constraints checked after both. */
static int set_point(rnn_cell *c, const region_plan *p, size_t i, size_t j, char *msg, size_t len)
{
    char a0[192], a1[192]; /* a name (< RNN_NAME_LEN) and a %.17g number */
    snprintf(a0, sizeof a0, "%s=%.17g", p->ax[0].name, rnn_region_axis_value(&p->ax[0], i));
    snprintf(a1, sizeof a1, "%s=%.17g", p->ax[1].name, rnn_region_axis_value(&p->ax[1], j));
    const char *as[2] = {a0, a1};
    return rnn_cell_set_assignments(c, 2, as, msg, len);
}

/* Every grid point must be allowed before any is evaluated: exit 2 with the library's
 * message (what is allowed) and the point. Ranges are per value; the cell's joint constraints
 * (its check op) need the pairs. A fresh cell, so the probe keeps the options' values. */
static int check_grid(const cli_opts *o, const region_plan *p)
{
    char msg[1024], b0[40], b1[40];
    rnn_cell *t = NULL;
    int rc = cli_make_cell(o, &t);
    if (rc)
        return rc;
    int sr = RNN_OK;
    if (t->type->check) {
        for (size_t i = 0; i < p->ax[0].n && sr == RNN_OK; i++)
            for (size_t j = 0; j < p->ax[1].n && sr == RNN_OK; j++)
                if ((sr = set_point(t, p, i, j, msg, sizeof msg)) != RNN_OK)
                    rc = cli_error(EXIT_USAGE, "grid point (%s, %s) = (%s, %s) of --x %s --y %s "
                                   "is not allowed: %s", p->ax[0].name, p->ax[1].name,
                                   fmt_value(rnn_region_axis_value(&p->ax[0], i), b0, sizeof b0),
                                   fmt_value(rnn_region_axis_value(&p->ax[1], j), b1, sizeof b1),
                                   o->x_spec, o->y_spec, msg);
    } else {
        for (int k = 0; k < 2 && sr == RNN_OK; k++)
            for (size_t q = 0; q < p->ax[k].n && sr == RNN_OK; q++)
                if ((sr = rnn_cell_set_hyper(t, p->ax[k].name, rnn_region_axis_value(&p->ax[k], q),
                                             msg, sizeof msg)) != RNN_OK)
                    rc = cli_error(EXIT_USAGE, "%s %s: point %zu of %zu is not allowed: %s",
                                   axis_opt(k), k ? o->y_spec : o->x_spec, q + 1, p->ax[k].n, msg);
    }
    rnn_cell_free(t);
    return rc;
}

/* Everything before the map: exit 2 with a message for every bad input. probe is the cell
 * of the options (off the grid), used for the checks and the preamble. */
static int plan_region(const cli_opts *o, region_plan *p, rnn_cell **probe)
{
    char msg[1024];
    memset(p, 0, sizeof *p);
    p->o = o;
    if (!o->x_spec || !o->y_spec)
        return cli_error(EXIT_USAGE, "'odernn region' needs both axes: --x P=a:b:n --y Q=a:b:n "
                         "(e.g. --x dt=0.05:1:41 --y wscale=0.5:2:41; see 'odernn region --help')");
    const char *spec[2] = {o->x_spec, o->y_spec};
    for (int k = 0; k < 2; k++)
        if (rnn_region_axis_parse(spec[k], &p->ax[k], msg, sizeof msg) != RNN_OK)
            return cli_error(EXIT_USAGE, "%s: %s", axis_opt(k), msg);
    if (strcmp(p->ax[0].name, p->ax[1].name) == 0)
        return cli_error(EXIT_USAGE, "--x and --y both vary '%s': the two axes must be different "
                         "hyperparameters", p->ax[0].name);
    if (p->ax[0].n * p->ax[1].n > MAX_GRID_POINTS)
        return cli_error(EXIT_USAGE, "a %zu x %zu grid has more than %d points; use fewer points "
                         "per axis", p->ax[0].n, p->ax[1].n, MAX_GRID_POINTS);
    int metric = rnn_region_metric_parse(o->metric);
    if (metric < 0)
        return cli_error(EXIT_USAGE, "unknown --metric '%s' (allowed: %s)", o->metric,
                         rnn_region_metric_names());
    p->metric = (rnn_region_metric_id)metric;
    if (p->metric == RNN_REGION_FTLE_MAX && o->steps < 2)
        return cli_error(EXIT_USAGE, "--metric ftle-max needs --steps >= 2 (two time blocks); got "
                         "%zu", o->steps);
    p->n_samples = o->steps + o->steps / 10 + 1; /* ftle-max also runs a transient of T/10 */

    int rc = cli_make_cell(o, probe);
    if (rc)
        return rc;
    rnn_cell *c = *probe;
    for (int k = 0; k < 2; k++) {
        int h = rnn_cell_hyper_index(c, p->ax[k].name);
        if (h < 0) {
            char names[256];
            hyper_list(c, names, sizeof names);
            return cli_error(EXIT_USAGE, "%s: cell '%s' has no hyperparameter '%s' (its "
                             "hyperparameters: %s)", axis_opt(k), c->type->name, p->ax[k].name,
                             names);
        }
        if (c->type->hypers[h].flags & RNN_HYPER_INIT) {
            if (o->load_params)
                return cli_error(EXIT_USAGE, "%s: '%s' only shapes the initialisation, but with "
                                 "--load-params the parameters come from '%s', so this axis "
                                 "would change nothing; drop one of them", axis_opt(k),
                                 p->ax[k].name, o->load_params);
            p->reinit = 1;
        }
        size_t nl = strlen(p->ax[k].name);
        for (size_t s = 0; s < o->nsets; s++)
            if (strncmp(o->sets[s], p->ax[k].name, nl) == 0 && o->sets[s][nl] == '=')
                return cli_error(EXIT_USAGE, "--set %s conflicts with %s %s: a hyperparameter on "
                                 "an axis takes the grid's values", o->sets[s], axis_opt(k),
                                 spec[k]);
    }
    if (rnn_region_metric_check(c, p->metric, msg, sizeof msg) != RNN_OK)
        return cli_error(EXIT_USAGE, "--metric %s: %s", o->metric, msg);

    return check_grid(o, p);
}

/* One grid point, from nothing but the options and (i, j): its own cell, input and s0.
 * Returns an exit status; msg says what failed. */
static int eval_point(const region_plan *p, size_t i, size_t j, double *value, char *msg,
                      size_t len)
{
    const cli_opts *o = p->o;
    rnn_cell *c = NULL;
    rnn_input *in = NULL;
    double *s0 = NULL;
    int status = EXIT_OK;
    if (cli_make_cell(o, &c) != 0) { /* it printed why; the probe succeeded, so rarely */
        snprintf(msg, len, "could not make the cell (see above)");
        return EXIT_NUMERIC;
    }
    int rc = set_point(c, p, i, j, msg, len);
    if (rc != RNN_OK) {
        status = cli_status(rc);
        goto out;
    }
    if (p->reinit)
        rnn_cell_init(c, c->seed);
    if (cli_make_input(o, c, p->n_samples, &in) != 0 ||
        !(s0 = malloc(c->n_state * sizeof(double)))) {
        snprintf(msg, len, "out of memory");
        status = EXIT_NUMERIC;
        goto out;
    }
    cli_initial_state(o, c, s0);
    rc = rnn_region_metric(c, in, s0, p->metric, o->steps, value, msg, len);
    if (rc != RNN_OK)
        status = cli_status(rc);
out:
    free(s0);
    rnn_input_free(in);
    rnn_cell_free(c);
    return status;
}

/* Writes the CSV to an output opened before the map (so an unwritable --out fails before the
 * work, not after it) and commits it (atomic rename). */
static int write_csv(const region_plan *p, const rnn_cell *probe, const double *values,
                     cli_out *out)
{
    const cli_opts *o = p->o;
    FILE *f = out->f;
    cli_preamble(f, "region", o, probe);
    for (int k = 0; k < 2; k++) {
        const rnn_region_axis *a = &p->ax[k];
        const char *xy = k ? "y" : "x";
        fprintf(f, "# %s: %s\n# %s_grid: a=", xy, a->name, xy);
        print_value(f, a->a);
        fputs(" b=", f);
        print_value(f, a->b);
        fprintf(f, " n=%zu (%s_i = ((n-1-i) a + i b) / (n-1), i = 0..n-1)\n", a->n, xy);
    }
    fprintf(f, "# axes: %s and %s take the grid's values at each point (the hyperparameters "
            "line above shows them off the grid)\n", p->ax[0].name, p->ax[1].name);
    if (p->reinit)
        fprintf(f, "# init: every point re-initialised from seed %lu after its initialisation "
                "hyperparameter was set\n", probe->seed);
    fprintf(f, "# metric: %s — %s\n# steps: %zu\n", rnn_region_metric_name(p->metric),
            rnn_region_metric_doc(p->metric), o->steps);
    fprintf(f, "# values: inf = the trajectory blew up (a state or Jacobian turned non-finite) "
            "at that point; -inf = a step Jacobian annihilated the tangent exactly; nan = the "
            "metric is undefined there (energy-ratio when gamma dt >= 2 eps)\n");
    fprintf(f, "x,y,metric,value\n");
    const char *name = rnn_region_metric_name(p->metric);
    for (size_t i = 0; i < p->ax[0].n; i++)
        for (size_t j = 0; j < p->ax[1].n; j++) {
            print_value(f, rnn_region_axis_value(&p->ax[0], i));
            fputc(',', f);
            print_value(f, rnn_region_axis_value(&p->ax[1], j));
            fprintf(f, ",%s,", name);
            print_value(f, values[i * p->ax[1].n + j]);
            fputc('\n', f);
        }
    return cli_out_commit(out);
}

/* JSON on stdout: the grid and values[i][j] at (x_values[i], y_values[j]); JSON has no inf or
 * nan, so non-finite values are null and counted. */
static void print_json(const region_plan *p, const rnn_cell *probe, const double *values)
{
    const size_t nx = p->ax[0].n, ny = p->ax[1].n;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "command", "region");
    cJSON_AddStringToObject(root, "cell", probe->type->name);
    cJSON_AddStringToObject(root, "x", p->ax[0].name);
    cJSON_AddStringToObject(root, "y", p->ax[1].name);
    cJSON_AddStringToObject(root, "metric", rnn_region_metric_name(p->metric));
    cJSON_AddNumberToObject(root, "nx", (double)nx);
    cJSON_AddNumberToObject(root, "ny", (double)ny);
    cJSON_AddNumberToObject(root, "steps", (double)p->o->steps);
    cJSON_AddNumberToObject(root, "m", (double)probe->m);
    cJSON_AddNumberToObject(root, "seed", (double)p->o->seed);
    cJSON *xs = cJSON_AddArrayToObject(root, "x_values"), *ys = cJSON_AddArrayToObject(root, "y_values");
    for (size_t i = 0; i < nx; i++)
        cJSON_AddItemToArray(xs, cJSON_CreateNumber(rnn_region_axis_value(&p->ax[0], i)));
    for (size_t j = 0; j < ny; j++)
        cJSON_AddItemToArray(ys, cJSON_CreateNumber(rnn_region_axis_value(&p->ax[1], j)));
    size_t n_inf = 0, n_neg_inf = 0, n_nan = 0;
    cJSON *vals = cJSON_AddArrayToObject(root, "values");
    for (size_t i = 0; i < nx; i++) {
        cJSON *row = cJSON_CreateArray();
        for (size_t j = 0; j < ny; j++) {
            double v = values[i * ny + j];
            n_inf += isinf(v) && v > 0;
            n_neg_inf += isinf(v) && v < 0;
            n_nan += isnan(v) != 0;
            cJSON_AddItemToArray(row, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
        }
        cJSON_AddItemToArray(vals, row);
    }
    cJSON_AddNumberToObject(root, "n_inf", (double)n_inf);
    cJSON_AddNumberToObject(root, "n_neg_inf", (double)n_neg_inf);
    cJSON_AddNumberToObject(root, "n_nan", (double)n_nan);
    if (p->o->out)
        cJSON_AddStringToObject(root, "csv", p->o->out);
    char *text = cJSON_PrintUnformatted(root);
    if (text)
        puts(text);
    free(text);
    cJSON_Delete(root);
}

int cmd_region(cli_opts *o)
{
    region_plan p;
    rnn_cell *probe = NULL;
    int rc = plan_region(o, &p, &probe);
    if (rc) {
        rnn_cell_free(probe);
        return rc;
    }
    const size_t nx = p.ax[0].n, ny = p.ax[1].n, total = nx * ny;
    /* With --json and no --out, the JSON alone goes to stdout. */
    const int csv = !o->json || o->out;
    cli_out out = {0};
    if (csv && (rc = cli_out_open(&out, o->out)) != 0) {
        rnn_cell_free(probe);
        return rc;
    }
    double *values = malloc(total * sizeof(double));
    if (!values) {
        cli_out_abort(&out);
        rnn_cell_free(probe);
        return cli_error(EXIT_NUMERIC, "out of memory for %zu grid values", total);
    }
    if (o->threads)
        omp_set_num_threads((int)o->threads);
    openblas_set_num_threads(1);

    const int progress = isatty(STDERR_FILENO);
    const size_t every = total >= 100 ? total / 100 : 1;
    size_t done = 0, fail_at = total;
    int failed = 0, fail_status = EXIT_OK;
    char fail_msg[1024] = "";

#pragma omp parallel for schedule(dynamic)
    for (size_t q = 0; q < total; q++) {
        int stop;
#pragma omp atomic read
        stop = failed;
        if (stop)
            continue;
        char msg[1024] = "";
        int st = eval_point(&p, q / ny, q % ny, &values[q], msg, sizeof msg);
        if (st != EXIT_OK) {
#pragma omp critical(region_failure)
            {
                if (q < fail_at) { /* the first point in grid order among those that failed */
                    fail_at = q;
                    fail_status = st;
                    snprintf(fail_msg, sizeof fail_msg, "%s", msg);
                }
            }
#pragma omp atomic write
            failed = 1;
        }
        size_t now;
#pragma omp atomic capture
        now = ++done;
        if (progress && (now % every == 0 || now == total)) {
#pragma omp critical(region_progress)
            fprintf(stderr, "\rodernn region: %zu/%zu points", now, total);
        }
    }
    if (progress)
        fputc('\n', stderr);

    if (failed) {
        cli_out_abort(&out);
        char b0[40], b1[40];
        rc = cli_error(fail_status, "region: grid point %s=%s, %s=%s: %s", p.ax[0].name,
                       fmt_value(rnn_region_axis_value(&p.ax[0], fail_at / ny), b0, sizeof b0),
                       p.ax[1].name,
                       fmt_value(rnn_region_axis_value(&p.ax[1], fail_at % ny), b1, sizeof b1),
                       fail_msg);
    } else {
        if (csv)
            rc = write_csv(&p, probe, values, &out);
        if (!rc && o->json)
            print_json(&p, probe, values);
    }
    free(values);
    rnn_cell_free(probe);
    return rc;
}
