/*
 * verify.c — `odernn verify`: runs the checks of the registry, prints one line per check
 * (verdict, id, kind, measured, threshold, margin, time), ends with "N passed, N failed",
 * and writes results/verify.json (cJSON) and results/verify.md (a readable report with the
 * provenance of every claim, the seed and the library versions).
 *
 * margin: how far the measured value is from the threshold, as a factor: threshold/measured
 * for "<=" checks, measured/threshold for ">=" checks; a margin above 1 passes.
 */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cblas.h>
#include <lapacke.h>
#include <cjson/cJSON.h>
#include <gsl/gsl_version.h>
#include <sundials/sundials_config.h>
#include "experiments.h"

#define MAX_CHECKS 2048

typedef struct {
    char id[160];
    const char *instance;
    const rnn_check_def *def;
    const rnn_cell_type *cell;
    rnn_check_result res;
    double seconds;
} outcome;

int rnn_write_atomic(const char *path, const char *text, char *msg, size_t len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        snprintf(msg, len, "path too long: %s", path);
        return RNN_EINVAL;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(msg, len, "cannot write '%s': %s", path, strerror(errno));
        return RNN_EIO;
    }
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        snprintf(msg, len, "cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
        return RNN_EIO;
    }
    return RNN_OK;
}

/* Fails early (before minutes of checks) when an output cannot be written; leaves nothing. */
static int probe_writable(const char *path, char *msg, size_t len)
{
    char tmp[4096];
    if (!path)
        return RNN_OK;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(msg, len, "cannot write '%s': %s", path, strerror(errno));
        return RNN_EIO;
    }
    fclose(f);
    remove(tmp);
    return RNN_OK;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int selected(const rnn_verify_opts *o, const rnn_check_def *d, const char *id)
{
    return d->tier <= o->tier && (!o->only || fnmatch(o->only, id, 0) == 0);
}

/* Expands the registry into check instances (per-cell checks once per cell). */
static size_t expand(const rnn_verify_opts *o, outcome *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < rnn_checks_count(); i++) {
        const rnn_check_def *d = rnn_checks_get(i);
        size_t nc = d->instance ? SIZE_MAX : d->per_cell ? rnn_registry_count() : 1;
        for (size_t k = 0; k < nc && n < cap; k++) {
            outcome *oc = &out[n];
            memset(oc, 0, sizeof *oc);
            oc->def = d;
            if (d->instance) {
                if (!(oc->instance = d->instance(k)))
                    break;
                char msg[512];
                oc->cell = d->per_cell ? rnn_cell_type_find(oc->instance, msg, sizeof msg) : NULL;
                if (d->per_cell && !oc->cell)
                    continue; /* a family the build cannot make: not a check */
            } else {
                oc->cell = d->per_cell ? rnn_registry_get(k) : NULL;
            }
            if (oc->instance)
                snprintf(oc->id, sizeof oc->id, "%s.%s", d->id, oc->instance);
            else if (oc->cell)
                snprintf(oc->id, sizeof oc->id, "%s.%s", d->id, oc->cell->name);
            else
                snprintf(oc->id, sizeof oc->id, "%s", d->id);
            if (selected(o, d, oc->id))
                n++;
        }
    }
    return n;
}

void rnn_verify_list(const rnn_verify_opts *o, FILE *out)
{
    outcome *oc = calloc(MAX_CHECKS, sizeof *oc);
    if (!oc)
        return;
    size_t n = expand(o, oc, MAX_CHECKS);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%-34s %-12s %-8s %s\n", oc[i].id, rnn_check_kind_name(oc[i].def->kind),
                rnn_tier_name(oc[i].def->tier), oc[i].def->claim);
    free(oc);
}

static const char *verdict(const outcome *oc)
{
    if (oc->def->kind == RNN_KIND_OBSERVATION && oc->res.status == RNN_OK)
        return "observation";
    return oc->res.pass && oc->res.status == RNN_OK ? "pass" : "fail";
}

static double margin(const rnn_check_result *r)
{
    if (r->cmp == RNN_CMP_LE)
        return r->measured > 0 ? r->threshold / r->measured : INFINITY;
    return r->threshold > 0 ? r->measured / r->threshold : INFINITY;
}

static void print_line(FILE *f, const outcome *oc)
{
    const rnn_check_result *r = &oc->res;
    const char *v = verdict(oc);
    const char *tag = strcmp(v, "pass") == 0 ? "PASS" : strcmp(v, "fail") == 0 ? "FAIL" : "OBS ";
    if (r->status != RNN_OK) {
        fprintf(f, "%s  %-34s %-12s error: %s  %.2f s\n", tag, oc->id,
                rnn_check_kind_name(oc->def->kind), r->detail, oc->seconds);
        return;
    }
    fprintf(f, "%s  %-34s %-12s measured %-10.3g threshold %s %-8.3g margin %-9.3g %.2f s\n", tag,
            oc->id, rnn_check_kind_name(oc->def->kind), r->measured,
            r->cmp == RNN_CMP_LE ? "<=" : ">=", r->threshold, margin(r), oc->seconds);
    if (strcmp(v, "fail") == 0)
        fprintf(f, "      %s\n", r->detail);
}

static void versions(char *buf, size_t len)
{
    int maj = 0, min = 0, pat = 0;
    LAPACKE_ilaver(&maj, &min, &pat);
    snprintf(buf, len, "GSL %s; SUNDIALS %s; LAPACK %d.%d.%d; OpenBLAS %s; cJSON %s; compiler %s",
             GSL_VERSION, SUNDIALS_VERSION, maj, min, pat, openblas_get_config(), cJSON_Version(),
             __VERSION__);
}

static char *json_text(const rnn_verify_opts *o, const outcome *oc, size_t n,
                       const rnn_verify_summary *s, double seconds)
{
    char ver[512];
    versions(ver, sizeof ver);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "passed", (double)s->passed);
    cJSON_AddNumberToObject(root, "failed", (double)s->failed);
    cJSON_AddNumberToObject(root, "skipped", (double)s->skipped);
    cJSON_AddNumberToObject(root, "observations", (double)s->observations);
    cJSON_AddStringToObject(root, "tier", rnn_tier_name(o->tier));
    cJSON_AddNumberToObject(root, "seed", (double)o->seed);
    cJSON_AddNumberToObject(root, "seconds", seconds);
    cJSON_AddStringToObject(root, "versions", ver);
    cJSON *arr = cJSON_AddArrayToObject(root, "checks");
    for (size_t i = 0; i < n; i++) {
        const rnn_check_result *r = &oc[i].res;
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "id", oc[i].id);
        cJSON_AddStringToObject(c, "kind", rnn_check_kind_name(oc[i].def->kind));
        cJSON_AddStringToObject(c, "verdict", verdict(&oc[i]));
        if (r->status == RNN_OK && isfinite(r->measured))
            cJSON_AddNumberToObject(c, "measured", r->measured);
        else
            cJSON_AddNullToObject(c, "measured");
        cJSON_AddNumberToObject(c, "threshold", r->threshold);
        cJSON_AddStringToObject(c, "comparison", r->cmp == RNN_CMP_LE ? "<=" : ">=");
        cJSON_AddStringToObject(c, "claim", oc[i].def->claim);
        cJSON_AddStringToObject(c, "source", oc[i].def->source);
        cJSON_AddStringToObject(c, "detail", r->detail);
        cJSON_AddNumberToObject(c, "seconds", oc[i].seconds);
        cJSON_AddItemToArray(arr, c);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

static char *report_text(const rnn_verify_opts *o, const outcome *oc, size_t n,
                         const rnn_verify_summary *s, double seconds)
{
    char *text = NULL, ver[512], date[64];
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return NULL;
    time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    versions(ver, sizeof ver);
    fprintf(f, "# odernn verify — %s tier\n\n", rnn_tier_name(o->tier));
    fprintf(f, "- date: %s\n- seed: %lu (every check draws from streams named after it: "
               "`odernn verify --only ID --seed %lu` reproduces any line alone)\n",
            date, o->seed, o->seed);
    fprintf(f, "- versions: %s\n- time: %.1f s\n\n", ver, seconds);
    fprintf(f, "**%zu passed, %zu failed**", s->passed, s->failed);
    if (s->observations)
        fprintf(f, ", %zu observation%s reported (no verdict)", s->observations,
                s->observations > 1 ? "s" : "");
    fprintf(f, "\n\nKinds: `paper` (the paper states it), `derived` (proved in docs/theory/), "
               "`reading` (our formalisation of an informal claim), `observation` (a measured "
               "fact, reported without a verdict).\n\n");
    fprintf(f, "| verdict | id | kind | measured | threshold | margin | seconds |\n"
               "|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        const rnn_check_result *r = &oc[i].res;
        fprintf(f, "| %s | `%s` | %s | %.4g | %s %.3g | %.3g | %.2f |\n", verdict(&oc[i]), oc[i].id,
                rnn_check_kind_name(oc[i].def->kind), r->measured,
                r->cmp == RNN_CMP_LE ? "≤" : "≥", r->threshold, margin(r), oc[i].seconds);
    }
    fprintf(f, "\n## Claims, provenance and what was measured\n\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "### `%s` — %s\n\n- claim: %s\n- source: %s\n- measured: %s\n\n", oc[i].id,
                verdict(&oc[i]), oc[i].def->claim, oc[i].def->source, oc[i].res.detail);
    fprintf(f, "## Figures\n\nThis run draws no figures.\n");
    fclose(f);
    return text;
}

static void progress(const rnn_verify_opts *o, size_t i, size_t n, const char *id)
{
    if (!o->progress)
        return;
    if (id)
        fprintf(stderr, "\r\033[K[%zu/%zu] %s ...", i + 1, n, id);
    else
        fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

int rnn_verify_run(const rnn_verify_opts *o, rnn_verify_summary *sum, char *msg, size_t len)
{
    int rc;
    if ((rc = probe_writable(o->json_path, msg, len)) != RNN_OK ||
        (rc = probe_writable(o->report_path, msg, len)) != RNN_OK)
        return rc;
    outcome *oc = calloc(MAX_CHECKS, sizeof *oc);
    if (!oc) {
        snprintf(msg, len, "out of memory");
        return RNN_ENOMEM;
    }
    size_t n = expand(o, oc, MAX_CHECKS);
    memset(sum, 0, sizeof *sum);
    rnn_check_ctx ctx = {.tier = o->tier, .seed = o->seed};
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        progress(o, i, n, oc[i].id);
        double ts = now();
        ctx.instance = oc[i].instance;
        oc[i].def->run(&ctx, oc[i].cell, &oc[i].res);
        oc[i].seconds = now() - ts;
        progress(o, i, n, NULL);
        const char *v = verdict(&oc[i]);
        if (strcmp(v, "pass") == 0)
            sum->passed++;
        else if (strcmp(v, "fail") == 0)
            sum->failed++;
        else
            sum->observations++;
        print_line(o->out, &oc[i]);
        fflush(o->out);
    }
    double seconds = now() - t0;
    if (sum->observations)
        fprintf(o->out, "%zu observation%s reported (no verdict)\n", sum->observations,
                sum->observations > 1 ? "s" : "");
    fprintf(o->out, "%zu passed, %zu failed", sum->passed, sum->failed);
    if (sum->skipped)
        fprintf(o->out, ", %zu skipped", sum->skipped);
    fprintf(o->out, "\n");
    rc = RNN_OK;
    if (o->json_path) {
        char *text = json_text(o, oc, n, sum, seconds);
        rc = text ? rnn_write_atomic(o->json_path, text, msg, len) : RNN_ENOMEM;
        free(text);
    }
    if (rc == RNN_OK && o->report_path) {
        char *text = report_text(o, oc, n, sum, seconds);
        rc = text ? rnn_write_atomic(o->report_path, text, msg, len) : RNN_ENOMEM;
        free(text);
    }
    free(oc);
    return rc;
}
