/*
 * ntk_sweep.c — the kernel-limit width sweep (THEORY.md §7 [KL]; docs/theory/kernel-limit.md):
 * for every (beta, reading, N, seed) the network of analysis/ntk.c, measured at initialisation
 * and along online SGD, against the infinite-width limit; log-log fits with bootstrap intervals.
 *
 * Shared by every run (from the run's seed only, so every width sees the same problem):
 *   the data law (rnn_seed_derive(seed, "ntk:law", 0)), P probe histories of length L
 *   ("ntk:probes") and M stationary samples ("ntk:samples"); per reading, the limit kernel K on
 *   probes and samples by quadrature (rnn_ntk_limit_kernel_quad) and the limit outputs g_t on
 *   the probes at the checkpoints t_j = t_end j / J (rnn_ntk_limit_ode, exact).
 * Per run (beta, reading, N, seed): the network from rnn_seed_derive(seed,
 *   "ntk:init:<beta>:<reading>:<N>", seed index) and its data path ("ntk:path:..."):
 *   ntk_fluctuation   ||K^N_0 - K||_F / ||K||_F on the probes
 *   output_at_init    sqrt(mean over probes of g^N_0(z)^2)
 *   memory_contraction  (|dH_K|_inf / |dH_1|_inf)^(1/(K-1)) for two memories on probe 0's inputs
 *   and with training (t_end N online SGD steps; J checkpoints):
 *   parameter_drift   max_j mean_i |theta^i_{t_j} - theta^i_0|
 *   kernel_drift      max_j ||K^N_{t_j} - K^N_0||_F
 *   limit_distance    max_{j >= 0} max_probe |g^N_{t_j} - g_{t_j}|   (g_0 = 0)
 * Fits: value ~ exp(intercept) N^slope on the per-N mean over seeds, 95% percentile bootstrap
 * over seeds within each N (rnn_fit_loglog_bootstrap; seed "ntk:boot:<beta>:<r>:<metric>").
 *
 * Parallelism: OpenMP over runs (largest N first, dynamic), OpenBLAS single-threaded inside;
 * every run depends only on its own seeds, so the values do not depend on the thread count.
 *
 * Files (with out_dir): <out_dir>/ntk-sweep.csv, tidy: beta,reading,N,seed,metric,value, with a
 * '#' preamble whose "# config:" line holds every setting that changes values. Resumable: a
 * finished run's lines are appended with ONE write(2) and fsync'ed; on restart the file is read
 * back, a last line without its newline and any run missing a metric are discarded, the rest is
 * rewritten atomically (temporary name, rename) and skipped. A CSV whose config line differs is
 * an error (its rows would mix two experiments). At the end ntk-sweep.csv is rewritten sorted
 * (so a resumed sweep and an uninterrupted one give the same file) and <out_dir>/ntk-fits.csv
 * (beta,reading,metric,slope,ci_lo,ci_hi,expected,intercept) is written atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <omp.h>
#include <cblas.h> /* openblas_set_num_threads; no GSL header here pulls gsl_cblas.h */
#include "analysis.h"
#include "experiments.h"

#define PATH_LEN 4096
#define CONFIG_LEN 1024
#define TASK_MSG 512
#define LINE_MAX_LEN 160

static const char *const metric_names[RNN_NTK_N_METRICS] = {
    "ntk_fluctuation", "output_at_init", "parameter_drift", "kernel_drift", "limit_distance",
    "memory_contraction"};

const char *rnn_ntk_metric_name(int metric)
{
    return metric >= 0 && metric < RNN_NTK_N_METRICS ? metric_names[metric] : "?";
}

double rnn_ntk_expected_slope(int metric, double beta)
{
    switch (metric) {
    case RNN_NTK_M_FLUCTUATION: return -0.5;
    case RNN_NTK_M_OUTPUT_INIT: return 0.5 - beta;
    case RNN_NTK_M_PARAM_DRIFT:
    case RNN_NTK_M_KERNEL_DRIFT: return beta - 1;
    case RNN_NTK_M_LIMIT_DIST: return -fmin(fmin(beta - 0.5, 1 - beta), 0.5);
    default: return 0.0;
    }
}

void rnn_ntk_sweep_opts_default(rnn_ntk_sweep_opts *o)
{
    memset(o, 0, sizeof *o);
    o->betas[0] = 0.75;
    o->n_betas = 1;
    o->readings[0] = RNN_NTK_DIAGONAL;
    o->n_readings = 1;
    for (size_t N = 64; N <= 4096; N *= 2)
        o->widths[o->n_widths++] = N;
    o->seeds = 16;
    o->horizon = 1.0;
    o->checkpoints = 4;
    o->probes = 16;
    o->history = 24;
    o->samples = 512;
    o->quad_w = 96;
    o->quad_b = 12;
    o->train = 1;
    o->alpha = 1.0;
    o->b_max = 0.5;
    o->c_law = RNN_NTK_C_RADEMACHER;
    rnn_ntk_data_opts_default(&o->data);
    o->boot = 1000;
    o->seed = 1;
}

static int metric_needed(const rnn_ntk_sweep_opts *o, int m)
{
    return o->train || m == RNN_NTK_M_FLUCTUATION || m == RNN_NTK_M_OUTPUT_INIT ||
           m == RNN_NTK_M_MEMORY;
}

static const char *c_law_name(rnn_ntk_c_law c)
{
    return c == RNN_NTK_C_GAUSS ? "gauss" : c == RNN_NTK_C_SKEW ? "skew" : "rademacher";
}

static void config_line(const rnn_ntk_sweep_opts *o, char *buf, size_t len)
{
    const rnn_ntk_data_opts *d = &o->data;
    char data[256];
    if (d->source == RNN_NTK_CHAIN)
        snprintf(data, sizeof data, "chain:states=%zu:gap=%.17g:spread=%.17g", d->states, d->gap,
                 d->spread);
    else
        snprintf(data, sizeof data, "ar1:a=%.17g:spread=%.17g:burn_in=%zu", d->ar, d->spread,
                 d->burn_in);
    snprintf(buf, len,
             "# config: seed=%lu horizon=%.17g checkpoints=%zu probes=%zu history=%zu samples=%zu "
             "quad=%zux%zu train=%d alpha=%.17g b_max=%.17g c_law=%s d=%zu data=%s target=%s\n",
             o->seed, o->horizon, o->checkpoints, o->probes, o->history, o->samples, o->quad_w,
             o->quad_b, o->train, o->alpha, o->b_max, c_law_name(o->c_law), d->d, data,
             d->target == RNN_NTK_TARGET_SIN ? "sin" : "sum");
}

/* ---- records (one CSV line each) ------------------------------------------------------------ */

/* The shortest %.*g that reads back as the same double (0.6, not 0.59999999999999998): beta is a
 * key of the CSV, so it must survive the round trip exactly. */
static const char *fmt_exact(double v, char *buf, size_t len)
{
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

typedef struct {
    double beta;
    int reading;
    size_t N, seed;
    int metric;
    double value;
} record;

static int rec_cmp(const void *pa, const void *pb)
{
    const record *a = pa, *b = pb;
    if (a->beta != b->beta)
        return a->beta < b->beta ? -1 : 1;
    if (a->reading != b->reading)
        return a->reading - b->reading;
    if (a->N != b->N)
        return a->N < b->N ? -1 : 1;
    if (a->seed != b->seed)
        return a->seed < b->seed ? -1 : 1;
    return a->metric - b->metric;
}

static int same_key(const record *a, const record *b)
{
    return a->beta == b->beta && a->reading == b->reading && a->N == b->N && a->seed == b->seed;
}

static int rec_format(const record *r, char *buf, size_t len)
{
    char b[32];
    return snprintf(buf, len, "%s,%s,%zu,%zu,%s,%.17g\n", fmt_exact(r->beta, b, sizeof b),
                    rnn_ntk_reading_name((rnn_ntk_reading)r->reading), r->N, r->seed,
                    metric_names[r->metric], r->value);
}

/* Parses one data line (without its newline); 0 if it is not a valid record. */
static int rec_parse(const char *line, record *r)
{
    char rd[8], metric[40];
    int used = 0;
    if (sscanf(line, "%lf,%7[^,],%zu,%zu,%39[^,],%n", &r->beta, rd, &r->N, &r->seed, metric,
               &used) != 5 || used == 0)
        return 0;
    char *end;
    errno = 0;
    r->value = strtod(line + used, &end);
    if (*end != '\0' || end == line + used || errno == ERANGE)
        return 0;
    if (!strcmp(rd, "a"))
        r->reading = RNN_NTK_DIAGONAL;
    else if (!strcmp(rd, "b"))
        r->reading = RNN_NTK_MEANFIELD;
    else
        return 0;
    r->beta = strtod(line, NULL); /* exactly as written (fmt_exact) */
    for (int m = 0; m < RNN_NTK_N_METRICS; m++)
        if (!strcmp(metric, metric_names[m])) {
            r->metric = m;
            return 1;
        }
    return 0;
}

typedef struct {
    record *v;
    size_t n, cap;
} rec_list;

static int rec_push(rec_list *l, const record *r)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        record *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return RNN_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *r;
    return RNN_OK;
}

/* ---- the CSV: preamble, read back, rewrite, append ------------------------------------------ */

static void preamble(FILE *f, const rnn_ntk_sweep_opts *o, const char *config)
{
    fprintf(f, "# odernn ntk: kernel-limit width sweep (THEORY.md §7 [KL]; docs/theory/kernel-limit.md)\n");
    if (o->command)
        fprintf(f, "# command: %s\n", o->command);
    fprintf(f, "# model: H^i_{k+1} = tanh(W^i.X_k + B^i H^i_k) (a) or tanh(W^i.X_k + B^i mean_j H^j_k) "
               "(b); g = N^-beta sum_i C^i H^i_{k+1}; SGD rate alpha N^-(2-2beta); t = k/N\n");
    fprintf(f, "# init: C %s, W ~ N(0, 1/d), B ~ U[-b_max, b_max]; seeds rnn_seed_derive(seed, "
               "\"ntk:init:<beta>:<reading>:<N>\", seed index)\n", c_law_name(o->c_law));
    fprintf(f, "# metrics: ntk_fluctuation = |K^N_0 - K|_F/|K|_F; output_at_init = rms_probes g_0; "
               "parameter_drift = max_t mean_i |theta^i_t - theta^i_0|; kernel_drift = max_t "
               "|K^N_t - K^N_0|_F; limit_distance = max_t max_probes |g^N_t - g_t|; "
               "memory_contraction = forgetting rate per step\n");
    fputs(config, f);
    fprintf(f, "beta,reading,N,seed,metric,value\n");
}

/* The whole file, or NULL (*missing = 1 when it does not exist). */
static char *slurp(const char *path, int *missing, char *msg, size_t len)
{
    *missing = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            *missing = 1;
        else
            snprintf(msg, len, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *b = realloc(buf, 2 * cap + 1);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        snprintf(msg, len, "cannot read '%s'", path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

typedef struct {
    record r;
    size_t pos;
} keyed;

/* By key, then by position in the file (so the first line of a metric comes first). */
static int keyed_cmp(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    record ka = a->r, kb = b->r;
    ka.metric = kb.metric = 0;
    int c = rec_cmp(&ka, &kb);
    return c ? c : (a->pos < b->pos ? -1 : a->pos > b->pos);
}

/* Reads back the complete runs of an existing CSV into old (file order). RNN_EINVAL when the
 * file is not a sweep CSV or was made with another config. */
static int read_back(const char *path, const char *config, const rnn_ntk_sweep_opts *o,
                     rec_list *old, size_t *dropped, char *msg, size_t len)
{
    int missing;
    char *text = slurp(path, &missing, msg, len);
    *dropped = 0;
    if (!text)
        return missing ? RNN_OK : RNN_EIO;
    if (!strstr(text, config)) {
        const char *c = strstr(text, "# config:");
        snprintf(msg, len, "'%s' holds a sweep made with other settings (%.*s); use another "
                 "--out-dir or remove the file", path, c ? (int)strcspn(c, "\n") : 9,
                 c ? c : "no config line");
        free(text);
        return RNN_EINVAL;
    }
    rec_list all = {0};
    int rc = RNN_OK, header = 0;
    for (char *line = text; *line && rc == RNN_OK;) {
        char *nl = strchr(line, '\n');
        if (!nl) { /* a partial last line: an interrupted write */
            (*dropped)++;
            break;
        }
        *nl = '\0';
        record r;
        if (line[0] == '#' || line[0] == '\0') {
        } else if (!strcmp(line, "beta,reading,N,seed,metric,value")) {
            header = 1;
        } else if (header && rec_parse(line, &r)) {
            rc = rec_push(&all, &r);
        } else {
            (*dropped)++;
        }
        line = nl + 1;
    }
    free(text);
    /* Keep the runs that have every metric the config measures (the first line of each metric
     * wins): sort by key, stably by file position, then walk the groups. */
    size_t need = 0;
    for (int m = 0; m < RNN_NTK_N_METRICS; m++)
        need += metric_needed(o, m) != 0;
    keyed *ks = rc == RNN_OK ? malloc((all.n ? all.n : 1) * sizeof *ks) : NULL;
    if (!ks)
        rc = RNN_ENOMEM;
    for (size_t i = 0; rc == RNN_OK && i < all.n; i++) {
        ks[i].r = all.v[i];
        ks[i].pos = i;
    }
    if (rc == RNN_OK)
        qsort(ks, all.n, sizeof *ks, keyed_cmp);
    for (size_t i = 0; rc == RNN_OK && i < all.n;) {
        size_t j = i;
        const record *first[RNN_NTK_N_METRICS] = {0};
        for (; j < all.n && same_key(&ks[j].r, &ks[i].r); j++)
            if (!first[ks[j].r.metric])
                first[ks[j].r.metric] = &ks[j].r;
        size_t seen = 0;
        for (int m = 0; m < RNN_NTK_N_METRICS; m++)
            seen += first[m] && metric_needed(o, m);
        if (seen != need)
            (*dropped)++;
        else
            for (int m = 0; m < RNN_NTK_N_METRICS && rc == RNN_OK; m++)
                if (metric_needed(o, m))
                    rc = rec_push(old, first[m]);
        i = j;
    }
    free(ks);
    free(all.v);
    if (rc != RNN_OK)
        snprintf(msg, len, "out of memory reading '%s'", path);
    return rc;
}

/* Writes preamble + records to path atomically. */
static int write_records(const char *path, const rnn_ntk_sweep_opts *o, const char *config,
                         const rec_list *l, char *msg, size_t len)
{
    char tmp[PATH_LEN + 32], line[LINE_MAX_LEN];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(msg, len, "cannot write '%s': %s", path, strerror(errno));
        return RNN_EIO;
    }
    preamble(f, o, config);
    for (size_t i = 0; i < l->n; i++) {
        rec_format(&l->v[i], line, sizeof line);
        fputs(line, f);
    }
    int bad = ferror(f) != 0;
    bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        snprintf(msg, len, "cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
        return RNN_EIO;
    }
    return RNN_OK;
}

/* One finished run: its lines in ONE write, then fsync, so that an interruption leaves either
 * nothing or whole lines (a torn write shows as a partial last line and is dropped on resume). */
static int append_run(int fd, const rnn_ntk_sweep_opts *o, const rnn_ntk_row *row)
{
    char buf[RNN_NTK_N_METRICS * LINE_MAX_LEN];
    size_t n = 0;
    for (int m = 0; m < RNN_NTK_N_METRICS; m++) {
        if (!metric_needed(o, m))
            continue;
        record r = {row->beta, (int)row->reading, row->N, row->seed, m, row->value[m]};
        n += (size_t)rec_format(&r, buf + n, sizeof buf - n);
    }
    ssize_t w = write(fd, buf, n);
    if (w != (ssize_t)n)
        return RNN_EIO;
    return fsync(fd) == 0 ? RNN_OK : RNN_EIO;
}

/* ---- the shared problem: probes, samples, limit kernels and limit outputs -------------------- */

typedef struct {
    const rnn_ntk_sweep_opts *o;
    unsigned long law_seed;
    double *X;            /* P x L x d probe histories */
    double *KP[2];        /* per reading: the limit kernel on the probes (P x P) */
    double KPnorm[2];
    double *gl[2];        /* per reading: (J + 1) x P limit outputs at t_j (row 0: zeros) */
} sweep_ctx;

static void ctx_free(sweep_ctx *c)
{
    free(c->X);
    for (int r = 0; r < 2; r++) {
        free(c->KP[r]);
        free(c->gl[r]);
    }
}

static int ctx_make(sweep_ctx *c, const rnn_ntk_sweep_opts *o, char *msg, size_t len)
{
    memset(c, 0, sizeof *c);
    c->o = o;
    const size_t P = o->probes, L = o->history, d = o->data.d;
    const size_t M = o->train ? o->samples : 0, n = P + M, J = o->checkpoints;
    c->law_seed = rnn_seed_derive(o->seed, "ntk:law", 0);
    double *Xa = malloc(n * L * d * sizeof(double)), *y = malloc(n * sizeof(double));
    double *K = malloc(n * n * sizeof(double)), *t = malloc((J + 1) * sizeof(double));
    rnn_ntk_data *D = rnn_ntk_data_alloc(&o->data, c->law_seed, rnn_seed_derive(o->seed, "ntk:probes", 0));
    int rc = RNN_ENOMEM;
    if (!Xa || !y || !K || !t || !D) {
        snprintf(msg, len, "ntk: out of memory for %zu histories (or bad data options)", n);
        goto out;
    }
    for (size_t z = 0; z < P; z++)
        rnn_ntk_data_history(D, L, Xa + z * L * d, &y[z]);
    rnn_ntk_data_restart(D, rnn_seed_derive(o->seed, "ntk:samples", 0));
    for (size_t z = P; z < n; z++)
        rnn_ntk_data_history(D, L, Xa + z * L * d, &y[z]);
    for (size_t j = 0; j <= J; j++)
        t[j] = o->horizon * (double)j / (double)J;
    for (size_t ri = 0; ri < o->n_readings; ri++) {
        const int r = (int)o->readings[ri];
        rnn_ntk_opts no;
        rnn_ntk_opts_default(&no, 1, d);
        no.reading = (rnn_ntk_reading)r;
        no.alpha = o->alpha;
        no.b_max = o->b_max;
        c->KP[r] = malloc(P * P * sizeof(double));
        c->gl[r] = calloc((J + 1) * P, sizeof(double));
        if (!c->KP[r] || !c->gl[r]) {
            rc = RNN_ENOMEM;
            snprintf(msg, len, "ntk: out of memory");
            goto out;
        }
        if ((rc = rnn_ntk_limit_kernel_quad(&no, o->quad_w, o->quad_b, n, L, Xa, K)) != RNN_OK) {
            snprintf(msg, len, "ntk: the limit kernel by quadrature failed (%s)", rnn_strerror(rc));
            goto out;
        }
        double nrm = 0;
        for (size_t a = 0; a < P; a++)
            for (size_t b = 0; b < P; b++) {
                c->KP[r][a * P + b] = K[a * n + b];
                nrm += K[a * n + b] * K[a * n + b];
            }
        c->KPnorm[r] = sqrt(nrm);
        if (o->train && (rc = rnn_ntk_limit_ode(P, M, K, y + P, o->alpha, J + 1, t, c->gl[r], NULL)) != RNN_OK) {
            snprintf(msg, len, "ntk: the limit dynamics failed (%s)", rnn_strerror(rc));
            goto out;
        }
    }
    c->X = Xa;
    Xa = NULL;
    rc = RNN_OK;
out:
    free(Xa);
    free(y);
    free(K);
    free(t);
    rnn_ntk_data_free(D);
    return rc;
}

/* ---- one run ---------------------------------------------------------------------------------- */

static double frob_diff(size_t n, const double *A, const double *B)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (A[i] - B[i]) * (A[i] - B[i]);
    return sqrt(s);
}

static int run_one(const sweep_ctx *c, rnn_ntk_row *row, char *msg, size_t len)
{
    const rnn_ntk_sweep_opts *o = c->o;
    const size_t P = o->probes, L = o->history, d = o->data.d, N = row->N, J = o->checkpoints;
    const int r = (int)row->reading;
    char stream[96];
    rnn_ntk_opts no;
    rnn_ntk_opts_default(&no, N, d);
    no.reading = row->reading;
    no.beta = row->beta;
    no.alpha = o->alpha;
    no.b_max = o->b_max;
    no.c_law = o->c_law;
    char bs[32];
    fmt_exact(row->beta, bs, sizeof bs);
    snprintf(stream, sizeof stream, "ntk:init:%s:%s:%zu", bs, rnn_ntk_reading_name(row->reading), N);
    rnn_ntk_net *net = rnn_ntk_net_alloc(&no, rnn_seed_derive(o->seed, stream, row->seed));
    double *G = malloc(P * N * (d + 2) * sizeof(double)), *K0 = malloc(P * P * sizeof(double));
    double *Kt = malloc(P * P * sizeof(double)), *g = malloc(P * sizeof(double)), *x = malloc(d * sizeof(double));
    rnn_ntk_data *D = NULL;
    int rc = RNN_ENOMEM;
    for (int m = 0; m < RNN_NTK_N_METRICS; m++)
        row->value[m] = NAN;
    if (!net || !G || !K0 || !Kt || !g || !x) {
        snprintf(msg, len, "out of memory at N = %zu", N);
        goto out;
    }
    if ((rc = rnn_ntk_gram(net, P, L, c->X, G, K0, g)) != RNN_OK) {
        snprintf(msg, len, "the NTK at initialisation is not finite");
        goto out;
    }
    double ss = 0, ld = 0;
    for (size_t a = 0; a < P; a++) {
        ss += g[a] * g[a];
        ld = fmax(ld, fabs(g[a]));
    }
    row->value[RNN_NTK_M_FLUCTUATION] = frob_diff(P * P, K0, c->KP[r]) / c->KPnorm[r];
    row->value[RNN_NTK_M_OUTPUT_INIT] = sqrt(ss / (double)P);
    snprintf(stream, sizeof stream, "ntk:memory:%s:%s:%zu", bs, rnn_ntk_reading_name(row->reading), N);
    double rate, worst, bound;
    if ((rc = rnn_ntk_memory_rate(net, L, c->X, rnn_seed_derive(o->seed, stream, row->seed), &rate,
                                  &worst, &bound)) != RNN_OK) {
        snprintf(msg, len, "memory rate: %s", rnn_strerror(rc));
        goto out;
    }
    row->value[RNN_NTK_M_MEMORY] = rate;
    row->memory_worst = worst;
    row->memory_bound = bound;
    if (o->train) {
        snprintf(stream, sizeof stream, "ntk:path:%s:%s:%zu", bs, rnn_ntk_reading_name(row->reading), N);
        D = rnn_ntk_data_alloc(&o->data, c->law_seed, rnn_seed_derive(o->seed, stream, row->seed));
        if (!D) {
            rc = RNN_ENOMEM;
            snprintf(msg, len, "out of memory for the data path");
            goto out;
        }
        const size_t total = (size_t)llround(o->horizon * (double)N);
        double pd = 0, kd = 0;
        for (size_t j = 1; j <= J; j++) {
            const size_t upto = total * j / J;
            while (net->steps < upto) {
                double y;
                rnn_ntk_data_next(D, x, &y);
                rnn_ntk_sgd_step(net, x, y);
            }
            if ((rc = rnn_ntk_gram(net, P, L, c->X, G, Kt, g)) != RNN_OK) {
                snprintf(msg, len, "training diverged (non-finite NTK at step %zu)", net->steps);
                goto out;
            }
            kd = fmax(kd, frob_diff(P * P, Kt, K0));
            pd = fmax(pd, rnn_ntk_param_drift(net));
            for (size_t a = 0; a < P; a++)
                ld = fmax(ld, fabs(g[a] - c->gl[r][j * P + a]));
        }
        row->value[RNN_NTK_M_PARAM_DRIFT] = pd;
        row->value[RNN_NTK_M_KERNEL_DRIFT] = kd;
        row->value[RNN_NTK_M_LIMIT_DIST] = ld;
        if (!isfinite(pd) || !isfinite(ld)) {
            rc = RNN_ENONFINITE;
            snprintf(msg, len, "training diverged (non-finite parameters)");
            goto out;
        }
    }
    rc = RNN_OK;
out:
    rnn_ntk_data_free(D);
    rnn_ntk_net_free(net);
    free(G);
    free(K0);
    free(Kt);
    free(g);
    free(x);
    return rc;
}

/* ---- fits ------------------------------------------------------------------------------------- */

static int fit_all(const rnn_ntk_sweep_opts *o, rnn_ntk_sweep_result *res)
{
    const size_t nb = o->n_betas, nr = o->n_readings, nw = o->n_widths, S = o->seeds;
    res->fits = calloc(nb * nr * RNN_NTK_N_METRICS, sizeof *res->fits);
    double *v = malloc(nw * S * sizeof(double)), x[RNN_NTK_MAX_LIST];
    size_t counts[RNN_NTK_MAX_LIST];
    if (!res->fits || !v) {
        free(v);
        return RNN_ENOMEM;
    }
    for (size_t bi = 0; bi < nb; bi++)
        for (size_t ri = 0; ri < nr; ri++)
            for (int m = 0; m < RNN_NTK_N_METRICS; m++) {
                if (!metric_needed(o, m))
                    continue;
                rnn_ntk_fit *f = &res->fits[res->n_fits++];
                f->beta = o->betas[bi];
                f->reading = o->readings[ri];
                f->metric = m;
                f->expected = rnn_ntk_expected_slope(m, f->beta);
                f->slope = f->ci_lo = f->ci_hi = f->intercept = NAN;
                for (size_t wi = 0; wi < nw; wi++) {
                    x[wi] = (double)o->widths[wi];
                    counts[wi] = S;
                    for (size_t s = 0; s < S; s++)
                        v[wi * S + s] = res->rows[((bi * nr + ri) * nw + wi) * S + s].value[m];
                }
                char stream[96], bs[32];
                snprintf(stream, sizeof stream, "ntk:boot:%s:%s:%s", fmt_exact(f->beta, bs, sizeof bs),
                         rnn_ntk_reading_name(f->reading), metric_names[m]);
                f->ok = nw >= 2 &&
                        rnn_fit_loglog_bootstrap(nw, x, counts, v, S, o->boot,
                                                 rnn_seed_derive(o->seed, stream, 0), &f->slope,
                                                 &f->intercept, &f->ci_lo, &f->ci_hi) == RNN_OK;
            }
    free(v);
    return RNN_OK;
}

const rnn_ntk_fit *rnn_ntk_sweep_fit(const rnn_ntk_sweep_result *r, double beta,
                                     rnn_ntk_reading reading, int metric)
{
    for (size_t i = 0; r && i < r->n_fits; i++)
        if (fabs(r->fits[i].beta - beta) < 1e-12 && r->fits[i].reading == reading &&
            r->fits[i].metric == metric)
            return &r->fits[i];
    return NULL;
}

static int write_fits(const char *dir, const rnn_ntk_sweep_opts *o, const char *config,
                      const rnn_ntk_sweep_result *res, char *msg, size_t len)
{
    char path[PATH_LEN], tmp[PATH_LEN + 32];
    snprintf(path, sizeof path, "%s/ntk-fits.csv", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(msg, len, "cannot write '%s': %s", path, strerror(errno));
        return RNN_EIO;
    }
    fprintf(f, "# odernn ntk: log-log fits of the per-N mean over seeds, value ~ exp(intercept) "
               "N^slope; 95%% percentile bootstrap over seeds within each N (%zu resamples); "
               "expected = THEORY.md §7\n", o->boot);
    if (o->command)
        fprintf(f, "# command: %s\n", o->command);
    fputs(config, f);
    fprintf(f, "# widths:");
    for (size_t i = 0; i < o->n_widths; i++)
        fprintf(f, " %zu", o->widths[i]);
    fprintf(f, "\n# seeds: %zu\nbeta,reading,metric,slope,ci_lo,ci_hi,expected,intercept\n", o->seeds);
    for (size_t i = 0; i < res->n_fits; i++) {
        const rnn_ntk_fit *q = &res->fits[i];
        if (!q->ok)
            continue;
        char bs[32];
        fprintf(f, "%s,%s,%s,%.10g,%.10g,%.10g,%.10g,%.10g\n", fmt_exact(q->beta, bs, sizeof bs),
                rnn_ntk_reading_name(q->reading), metric_names[q->metric], q->slope, q->ci_lo,
                q->ci_hi, q->expected, q->intercept);
    }
    int bad = ferror(f) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        snprintf(msg, len, "cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
        return RNN_EIO;
    }
    return RNN_OK;
}

/* ---- the sweep ---------------------------------------------------------------------------------- */

void rnn_ntk_sweep_result_free(rnn_ntk_sweep_result *r)
{
    if (!r)
        return;
    free(r->rows);
    free(r->fits);
    free(r);
}

static int opts_check(const rnn_ntk_sweep_opts *o, char *msg, size_t len)
{
    if (o->n_betas < 1 || o->n_betas > RNN_NTK_MAX_LIST || o->n_readings < 1 || o->n_readings > 2 ||
        o->n_widths < 1 || o->n_widths > RNN_NTK_MAX_LIST || o->seeds < 1) {
        snprintf(msg, len, "ntk: need 1..%d betas, 1..2 readings, 1..%d widths and >= 1 seed",
                 RNN_NTK_MAX_LIST, RNN_NTK_MAX_LIST);
        return RNN_EINVAL;
    }
    for (size_t i = 0; i < o->n_betas; i++)
        if (!(o->betas[i] >= 0.5 && o->betas[i] <= 1)) {
            snprintf(msg, len, "ntk: beta must be in [0.5, 1]; got %g", o->betas[i]);
            return RNN_EINVAL;
        }
    if (o->data.d != 1) {
        snprintf(msg, len, "ntk: the sweep's limit kernel is a quadrature for input size d = 1; got d = %zu", o->data.d);
        return RNN_EINVAL;
    }
    if (o->probes < 1 || o->history < RNN_NTK_TARGET_LAG + 1 || o->checkpoints < 1 ||
        (o->train && o->samples < 1) || !(o->horizon > 0) || o->boot < 2 || o->quad_w % 8 ||
        o->quad_w < 8 || o->quad_b < 1) {
        snprintf(msg, len, "ntk: bad sizes (probes >= 1, history >= %d, checkpoints >= 1, samples >= 1, "
                 "horizon > 0, quadrature W nodes a multiple of 8)", RNN_NTK_TARGET_LAG + 1);
        return RNN_EINVAL;
    }
    return RNN_OK;
}

int rnn_ntk_sweep_run(const rnn_ntk_sweep_opts *o, rnn_ntk_sweep_result **out, char *msg,
                      size_t len)
{
    *out = NULL;
    int rc = opts_check(o, msg, len);
    if (rc != RNN_OK)
        return rc;
    const size_t nb = o->n_betas, nr = o->n_readings, nw = o->n_widths, S = o->seeds;
    const size_t total = nb * nr * nw * S;
    char config[CONFIG_LEN], path[PATH_LEN];
    config_line(o, config, sizeof config);
    rnn_ntk_sweep_result *res = calloc(1, sizeof *res);
    unsigned char *have = calloc(total, 1);
    size_t *todo = malloc(total * sizeof(size_t));
    rec_list old = {0};
    sweep_ctx ctx = {0};
    int fd = -1;
    if (!res || !have || !todo || !(res->rows = calloc(total, sizeof *res->rows))) {
        snprintf(msg, len, "ntk: out of memory");
        rc = RNN_ENOMEM;
        goto fail;
    }
    res->n_rows = total;
    for (size_t bi = 0; bi < nb; bi++)
        for (size_t ri = 0; ri < nr; ri++)
            for (size_t wi = 0; wi < nw; wi++)
                for (size_t s = 0; s < S; s++) {
                    rnn_ntk_row *row = &res->rows[((bi * nr + ri) * nw + wi) * S + s];
                    row->beta = o->betas[bi];
                    row->reading = o->readings[ri];
                    row->N = o->widths[wi];
                    row->seed = s;
                    row->memory_worst = row->memory_bound = NAN;
                    for (int m = 0; m < RNN_NTK_N_METRICS; m++)
                        row->value[m] = NAN;
                }

    /* Resume: read back, keep complete runs, rewrite without the torn tail, then append. */
    if (o->out_dir) {
        if ((rc = rnn_make_dirs(o->out_dir, msg, len)) != RNN_OK)
            goto fail;
        if (snprintf(path, sizeof path, "%s/ntk-sweep.csv", o->out_dir) >= (int)sizeof path) {
            snprintf(msg, len, "output folder name too long");
            rc = RNN_EINVAL;
            goto fail;
        }
        size_t dropped;
        if ((rc = read_back(path, config, o, &old, &dropped, msg, len)) != RNN_OK)
            goto fail;
        for (size_t i = 0; i < old.n; i++) {
            const record *q = &old.v[i];
            size_t bi = 0, ri = 0, wi = 0;
            while (bi < nb && o->betas[bi] != q->beta)
                bi++;
            while (ri < nr && (int)o->readings[ri] != q->reading)
                ri++;
            while (wi < nw && o->widths[wi] != q->N)
                wi++;
            if (bi == nb || ri == nr || wi == nw || q->seed >= S)
                continue; /* a run outside this request: kept in the file, not used */
            const size_t k = ((bi * nr + ri) * nw + wi) * S + q->seed;
            res->rows[k].value[q->metric] = q->value;
            have[k] = 1;
        }
        if ((rc = write_records(path, o, config, &old, msg, len)) != RNN_OK)
            goto fail;
        fd = open(path, O_WRONLY | O_APPEND);
        if (fd < 0) {
            snprintf(msg, len, "cannot append to '%s': %s", path, strerror(errno));
            rc = RNN_EIO;
            goto fail;
        }
    }
    size_t n_todo = 0;
    for (size_t k = 0; k < total; k++) {
        res->resumed += have[k];
        if (!have[k])
            todo[n_todo++] = k;
    }
    /* Largest widths first: the long runs start early and the short ones fill the gaps. */
    for (size_t i = 1; i < n_todo; i++)
        for (size_t j = i; j > 0 && res->rows[todo[j]].N > res->rows[todo[j - 1]].N; j--) {
            size_t t = todo[j];
            todo[j] = todo[j - 1];
            todo[j - 1] = t;
        }
    if ((rc = ctx_make(&ctx, o, msg, len)) != RNN_OK)
        goto fail;
    for (size_t ri = 0; ri < nr; ri++)
        res->limit_kernel_norm[o->readings[ri]] = ctx.KPnorm[o->readings[ri]];

    const int nt = o->threads ? (int)o->threads : omp_get_max_threads();
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    int failed = 0, fail_rc = RNN_OK;
    size_t done = 0;
    char fail_msg[TASK_MSG] = "";
    const long lt = (long)n_todo;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (long i = 0; i < lt; i++) {
        int stop;
#pragma omp atomic read
        stop = failed;
        if (stop)
            continue;
        char tmsg[TASK_MSG] = "";
        rnn_ntk_row *row = &res->rows[todo[i]];
        int trc = run_one(&ctx, row, tmsg, sizeof tmsg);
#pragma omp critical(ntk_sweep_out)
        {
            if (trc == RNN_OK && fd >= 0 && append_run(fd, o, row) != RNN_OK) {
                trc = RNN_EIO;
                snprintf(tmsg, sizeof tmsg, "cannot append to '%s': %s", path, strerror(errno));
            }
            if (trc != RNN_OK && fail_rc == RNN_OK) {
#pragma omp atomic write
                failed = 1;
                fail_rc = trc;
                snprintf(fail_msg, sizeof fail_msg, "ntk: beta %g, reading %s, N = %zu, seed %zu: %s",
                         row->beta, rnn_ntk_reading_name(row->reading), row->N, row->seed, tmsg);
            }
            done++;
            if (o->progress)
                fprintf(stderr, "\rodernn ntk: %zu/%zu runs (%zu read back)", done + res->resumed,
                        total, res->resumed);
        }
    }
    if (o->progress)
        fputc('\n', stderr);
    openblas_set_num_threads(blas_threads);
    res->computed = done;
    if (failed) {
        snprintf(msg, len, "%s", fail_msg);
        rc = fail_rc;
        goto fail;
    }
    if ((rc = fit_all(o, res)) != RNN_OK) {
        snprintf(msg, len, "ntk: out of memory for the fits");
        goto fail;
    }
    if (o->out_dir) {
        close(fd);
        fd = -1;
        /* The final file: every complete run (also those outside this request), sorted. */
        for (size_t i = 0; i < n_todo && rc == RNN_OK; i++)
            for (int m = 0; m < RNN_NTK_N_METRICS && rc == RNN_OK; m++) {
                const rnn_ntk_row *row = &res->rows[todo[i]];
                if (!metric_needed(o, m))
                    continue;
                record q = {row->beta, (int)row->reading, row->N, row->seed, m, row->value[m]};
                rc = rec_push(&old, &q);
            }
        if (rc == RNN_OK) {
            qsort(old.v, old.n, sizeof *old.v, rec_cmp);
            rc = write_records(path, o, config, &old, msg, len);
        } else {
            snprintf(msg, len, "ntk: out of memory");
        }
        if (rc == RNN_OK)
            rc = write_fits(o->out_dir, o, config, res, msg, len);
        if (rc != RNN_OK)
            goto fail;
    }
    free(old.v);
    free(have);
    free(todo);
    ctx_free(&ctx);
    *out = res;
    return RNN_OK;
fail:
    if (fd >= 0)
        close(fd);
    free(old.v);
    free(have);
    free(todo);
    ctx_free(&ctx);
    rnn_ntk_sweep_result_free(res);
    return rc;
}
