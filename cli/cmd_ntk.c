/*
 * cmd_ntk.c — `odernn ntk`: the kernel-limit width sweep of THEORY.md §7 [KL]
 * (experiments/ntk_sweep.c; docs/theory/kernel-limit.md).
 *
 * For each beta and memory reading, networks of width N (powers of two from --widths, or the
 * single --width) with --seeds replicates each are measured at initialisation and trained
 * online for t_end = K / N_min time units (K = --steps SGD steps at the smallest width; width N
 * runs K N / N_min steps; default t_end = 1). Prints, per (beta, reading), the fitted slope of
 * every metric against N with its 95% bootstrap interval and THEORY.md's exponent, and writes
 * <out-dir>/ntk-sweep.csv (beta,reading,N,seed,metric,value) and <out-dir>/ntk-fits.csv
 * (beta,reading,metric,slope,ci_lo,ci_hi,expected,intercept). The sweep is resumable: rerun the
 * same command after an interruption and the finished runs are read back, not recomputed.
 *
 * --json prints {"beta", "reading", "widths": [...], "metrics": {"<metric>": {"slope", "ci95":
 * [lo, hi], "expected", "means": [per width]}}} for one (beta, reading), an array of those for
 * several; slope and ci95 are null with a single width.
 *
 * Exit status: 0; 2 for bad options (with what is allowed) or an --out-dir holding a sweep made
 * with other settings; 3 when training diverges.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "cli.h"

#define MAX_WIDTH (1u << 20)

static int is_pow2(unsigned long x)
{
    return x && !(x & (x - 1));
}

static int parse_widths(const cli_opts *o, rnn_ntk_sweep_opts *s)
{
    char *end;
    if (o->ntk_width && o->ntk_widths)
        return cli_error(EXIT_USAGE, "give --width N or --widths A:B, not both");
    if (o->ntk_width) {
        errno = 0;
        unsigned long N = strtoul(o->ntk_width, &end, 10);
        if (o->ntk_width[0] == '-' || *end || errno || N < 2 || N > MAX_WIDTH)
            return cli_error(EXIT_USAGE, "--width must be an integer in 2..%u; got '%s'", MAX_WIDTH,
                             o->ntk_width);
        s->widths[0] = N;
        s->n_widths = 1;
        return 0;
    }
    if (!o->ntk_widths)
        return 0;
    errno = 0;
    unsigned long a = strtoul(o->ntk_widths, &end, 10), b = 0;
    int ok = o->ntk_widths[0] != '-' && *end == ':' && !errno;
    if (ok) {
        const char *q = end + 1;
        b = strtoul(q, &end, 10);
        ok = *q && *q != '-' && !*end && !errno;
    }
    if (!ok || !is_pow2(a) || !is_pow2(b) || a < 2 || b > MAX_WIDTH || a >= b)
        return cli_error(EXIT_USAGE, "--widths must be A:B with powers of two 2 <= A < B <= %u "
                         "(the sweep runs A, 2A, ..., B); got '%s'", MAX_WIDTH, o->ntk_widths);
    s->n_widths = 0;
    for (unsigned long N = a; N <= b; N *= 2)
        s->widths[s->n_widths++] = N;
    return 0;
}

static int parse_betas(const cli_opts *o, rnn_ntk_sweep_opts *s)
{
    if (!o->ntk_beta)
        return 0;
    if (!strcmp(o->ntk_beta, "all")) {
        const double all[] = {0.5, 0.6, 0.75, 0.9};
        memcpy(s->betas, all, sizeof all);
        s->n_betas = 4;
        return 0;
    }
    s->n_betas = 0;
    const char *p = o->ntk_beta;
    for (;;) {
        char *end;
        errno = 0;
        double b = strtod(p, &end);
        if (end == p || errno || !(b >= 0.5 && b < 1) || (*end && *end != ',') ||
            s->n_betas == RNN_NTK_MAX_LIST)
            return cli_error(EXIT_USAGE, "--beta must be a number in [0.5, 1), a comma-separated "
                             "list of them, or 'all' (0.5, 0.6, 0.75, 0.9); got '%s'", o->ntk_beta);
        s->betas[s->n_betas++] = b;
        if (!*end)
            return 0;
        p = end + 1;
    }
}

static int parse_reading(const cli_opts *o, rnn_ntk_sweep_opts *s)
{
    const char *r = o->ntk_reading ? o->ntk_reading : "a";
    if (!strcmp(r, "a") || !strcmp(r, "b")) {
        s->readings[0] = r[0] == 'a' ? RNN_NTK_DIAGONAL : RNN_NTK_MEANFIELD;
        s->n_readings = 1;
    } else if (!strcmp(r, "both")) {
        s->readings[0] = RNN_NTK_DIAGONAL;
        s->readings[1] = RNN_NTK_MEANFIELD;
        s->n_readings = 2;
    } else {
        return cli_error(EXIT_USAGE, "--reading must be a (diagonal memory), b (mean-field "
                         "memory) or both; got '%s'", r);
    }
    return 0;
}

static double mean_of(const rnn_ntk_sweep_result *res, const rnn_ntk_sweep_opts *s, size_t bi,
                      size_t ri, size_t wi, int m)
{
    double sum = 0;
    for (size_t k = 0; k < s->seeds; k++)
        sum += res->rows[((bi * s->n_readings + ri) * s->n_widths + wi) * s->seeds + k].value[m];
    return sum / (double)s->seeds;
}

static cJSON *json_one(const rnn_ntk_sweep_result *res, const rnn_ntk_sweep_opts *s, size_t bi,
                       size_t ri)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddNumberToObject(obj, "beta", s->betas[bi]);
    cJSON_AddStringToObject(obj, "reading", rnn_ntk_reading_name(s->readings[ri]));
    cJSON *w = cJSON_AddArrayToObject(obj, "widths");
    for (size_t i = 0; i < s->n_widths; i++)
        cJSON_AddItemToArray(w, cJSON_CreateNumber((double)s->widths[i]));
    cJSON_AddNumberToObject(obj, "seeds", (double)s->seeds);
    cJSON_AddNumberToObject(obj, "horizon", s->horizon);
    cJSON *ms = cJSON_AddObjectToObject(obj, "metrics");
    for (int m = 0; m < RNN_NTK_N_METRICS; m++) {
        const rnn_ntk_fit *f = rnn_ntk_sweep_fit(res, s->betas[bi], s->readings[ri], m);
        if (!f)
            continue;
        cJSON *e = cJSON_AddObjectToObject(ms, rnn_ntk_metric_name(m));
        if (f->ok) {
            cJSON_AddNumberToObject(e, "slope", f->slope);
            cJSON *ci = cJSON_AddArrayToObject(e, "ci95");
            cJSON_AddItemToArray(ci, cJSON_CreateNumber(f->ci_lo));
            cJSON_AddItemToArray(ci, cJSON_CreateNumber(f->ci_hi));
        } else {
            cJSON_AddNullToObject(e, "slope");
            cJSON_AddNullToObject(e, "ci95");
        }
        cJSON_AddNumberToObject(e, "expected", f->expected);
        cJSON *mean = cJSON_AddArrayToObject(e, "means");
        for (size_t i = 0; i < s->n_widths; i++)
            cJSON_AddItemToArray(mean, cJSON_CreateNumber(mean_of(res, s, bi, ri, i, m)));
    }
    return obj;
}

static void print_text(const rnn_ntk_sweep_result *res, const rnn_ntk_sweep_opts *s)
{
    for (size_t bi = 0; bi < s->n_betas; bi++)
        for (size_t ri = 0; ri < s->n_readings; ri++) {
            printf("beta %g, reading %s (%s memory): N = %zu..%zu, %zu seeds, t_end = %g\n",
                   s->betas[bi], rnn_ntk_reading_name(s->readings[ri]),
                   s->readings[ri] == RNN_NTK_DIAGONAL ? "diagonal" : "mean-field", s->widths[0],
                   s->widths[s->n_widths - 1], s->seeds, s->horizon);
            printf("  %-20s %8s  %-20s %9s   mean at N = %zu .. %zu\n", "metric", "slope",
                   "95% interval", "expected", s->widths[0], s->widths[s->n_widths - 1]);
            for (int m = 0; m < RNN_NTK_N_METRICS; m++) {
                const rnn_ntk_fit *f = rnn_ntk_sweep_fit(res, s->betas[bi], s->readings[ri], m);
                if (!f)
                    continue;
                char ci[48] = "-";
                if (f->ok)
                    snprintf(ci, sizeof ci, "[%.3f, %.3f]", f->ci_lo, f->ci_hi);
                printf("  %-20s %8.3f  %-20s %9.3f   %.4g .. %.4g\n", rnn_ntk_metric_name(m),
                       f->ok ? f->slope : NAN, ci, f->expected, mean_of(res, s, bi, ri, 0, m),
                       mean_of(res, s, bi, ri, s->n_widths - 1, m));
            }
        }
    printf("kernel_drift: THEORY.md says beta - 1; with symmetric C the drift is O(N^(2 beta - 2)) "
           "(docs/theory/kernel-limit.md)\n");
}

int cmd_ntk(cli_opts *o)
{
    rnn_ntk_sweep_opts s;
    rnn_ntk_sweep_opts_default(&s);
    int rc;
    if ((rc = parse_widths(o, &s)) || (rc = parse_betas(o, &s)) || (rc = parse_reading(o, &s)))
        return rc;
    s.seeds = o->seeds_given ? o->seeds : s.seeds;
    s.seed = o->seed;
    s.threads = o->threads;
    s.out_dir = o->out_dir;
    s.progress = isatty(STDERR_FILENO);
    if (o->steps) /* K SGD steps at the smallest width */
        s.horizon = (double)o->steps / (double)s.widths[0];
    char command[1024];
    snprintf(command, sizeof command, "odernn ntk%s%s%s%s%s%s%s%s --seeds %zu --seed %lu",
             o->ntk_width ? " --width " : "", o->ntk_width ? o->ntk_width : "",
             o->ntk_widths ? " --widths " : "", o->ntk_widths ? o->ntk_widths : "",
             o->ntk_beta ? " --beta " : "", o->ntk_beta ? o->ntk_beta : "",
             o->ntk_reading ? " --reading " : "", o->ntk_reading ? o->ntk_reading : "", s.seeds,
             o->seed);
    s.command = command;
    char msg[1024];
    rnn_ntk_sweep_result *res = NULL;
    rc = rnn_ntk_sweep_run(&s, &res, msg, sizeof msg);
    if (rc != RNN_OK)
        return cli_error(cli_status(rc), "%s", msg);
    if (o->json) {
        cJSON *root = NULL;
        if (s.n_betas * s.n_readings == 1) {
            root = json_one(res, &s, 0, 0);
        } else {
            root = cJSON_CreateArray();
            for (size_t bi = 0; bi < s.n_betas; bi++)
                for (size_t ri = 0; ri < s.n_readings; ri++)
                    cJSON_AddItemToArray(root, json_one(res, &s, bi, ri));
        }
        char *text = cJSON_PrintUnformatted(root);
        if (text)
            puts(text);
        free(text);
        cJSON_Delete(root);
    } else {
        print_text(res, &s);
        printf("%zu runs computed, %zu read back; wrote %s/ntk-sweep.csv and %s/ntk-fits.csv\n",
               res->computed, res->resumed, s.out_dir, s.out_dir);
    }
    rnn_ntk_sweep_result_free(res);
    return EXIT_OK;
}
