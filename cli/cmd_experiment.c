/*
 * cmd_experiment.c — `odernn experiment NAME|all|list`: runs the experiments that produce the
 * data behind the figures (experiments/figure_data.c) at their full size and writes their tidy
 * CSV files into --out-dir (default results/, created if missing).
 *
 *   list    the names with their titles and sources (--json: an array of objects)
 *   NAME    one experiment; all: every experiment in registry order, stopping at the first
 *           failure. One line per experiment: name, the files written, seconds (--json: an
 *           array of {name, title, source, files, seconds}).
 *
 * Exit status: 0; 2 for an unknown name (with the list of names) or an output folder that
 * cannot be created or written; 3 for a numerical failure (with the cell and the seed).
 * Progress goes to stderr only when stderr is a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "cli.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int list(const cli_opts *o)
{
    const size_t n = rnn_experiments_count();
    if (o->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            const rnn_experiment_def *e = rnn_experiments_get(i);
            cJSON *obj = cJSON_CreateObject();
            cJSON_AddStringToObject(obj, "name", e->name);
            cJSON_AddStringToObject(obj, "title", e->title);
            cJSON_AddStringToObject(obj, "source", e->source);
            cJSON *files = cJSON_AddArrayToObject(obj, "files");
            for (const char *const *f = e->files; *f; f++)
                cJSON_AddItemToArray(files, cJSON_CreateString(*f));
            cJSON_AddItemToArray(arr, obj);
        }
        char *text = cJSON_Print(arr);
        puts(text);
        free(text);
        cJSON_Delete(arr);
        return EXIT_OK;
    }
    for (size_t i = 0; i < n; i++) {
        const rnn_experiment_def *e = rnn_experiments_get(i);
        printf("%-20s %s\n%-20s   source: %s\n", e->name, e->title, "", e->source);
    }
    return EXIT_OK;
}

/* out_dir/file, or file alone when out_dir is "." */
static void join(char *buf, size_t len, const char *dir, const char *file)
{
    if (!strcmp(dir, "."))
        snprintf(buf, len, "%s", file);
    else
        snprintf(buf, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", file);
}

int cmd_experiment(cli_opts *o)
{
    const char *name = o->cell;
    if (!name)
        return cli_error(EXIT_USAGE, "'odernn experiment' needs a name: list, all, or one of: %s",
                         rnn_experiments_names());
    if (!strcmp(name, "list"))
        return list(o);
    const rnn_experiment_def *one = NULL;
    if (strcmp(name, "all") && !(one = rnn_experiments_find(name)))
        return cli_error(EXIT_USAGE, "unknown experiment '%s' (allowed: list, all, %s)", name,
                         rnn_experiments_names());
    if (!o->out_dir || !o->out_dir[0])
        return cli_error(EXIT_USAGE, "--out-dir needs a folder name");
    const int progress = isatty(fileno(stderr));
    const size_t first = one ? (size_t)(one - rnn_experiments_get(0)) : 0,
                 last = one ? first + 1 : rnn_experiments_count();
    cJSON *arr = o->json ? cJSON_CreateArray() : NULL;
    int status = EXIT_OK;
    double total = 0;
    for (size_t i = first; i < last; i++) {
        const rnn_experiment_def *e = rnn_experiments_get(i);
        char msg[1024] = "";
        if (progress) {
            fprintf(stderr, "%s ...\n", e->name);
            fflush(stderr);
        }
        double t0 = now();
        int rc = e->run(o->seed, o->out_dir, o->threads, progress, 0, msg, sizeof msg);
        double secs = now() - t0;
        total += secs;
        if (rc != RNN_OK) {
            status = cli_error(cli_status(rc), "experiment %s failed: %s", e->name,
                               msg[0] ? msg : rnn_strerror(rc));
            break;
        }
        char path[4096], files[4096] = "";
        size_t k = 0;
        cJSON *jf = NULL, *obj = NULL;
        if (arr) {
            obj = cJSON_CreateObject();
            cJSON_AddStringToObject(obj, "name", e->name);
            cJSON_AddStringToObject(obj, "title", e->title);
            cJSON_AddStringToObject(obj, "source", e->source);
            jf = cJSON_AddArrayToObject(obj, "files");
        }
        for (const char *const *f = e->files; *f; f++) {
            join(path, sizeof path, o->out_dir, *f);
            if (jf)
                cJSON_AddItemToArray(jf, cJSON_CreateString(path));
            if (k < sizeof files)
                k += (size_t)snprintf(files + k, sizeof files - k, "%s%s", k ? " " : "", path);
        }
        if (obj) {
            cJSON_AddNumberToObject(obj, "seconds", secs);
            cJSON_AddItemToArray(arr, obj);
        } else {
            printf("%-20s %-40s %8.2f s\n", e->name, files, secs);
            fflush(stdout);
        }
    }
    if (arr) {
        if (status == EXIT_OK) {
            char *text = cJSON_Print(arr);
            puts(text);
            free(text);
        }
        cJSON_Delete(arr);
    } else if (status == EXIT_OK && last - first > 1) {
        printf("%zu experiments, %.2f s\n", last - first, total);
    }
    return status;
}
