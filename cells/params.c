/*
 * params.c — parameter files: a network's blocks, hyperparameters and seed in plain text.
 *
 * The format (docs/params-format.md) is a '#' header followed by one value per line, the
 * blocks in order, each row-major, so that numpy reads every value with
 * np.loadtxt(path) and the header names and shapes them:
 *
 *   # odernn-params 1
 *   # cell: tanh
 *   # m: 8
 *   # d: 1
 *   # seed: 42
 *   # hyper: dt 1
 *   # block: W 8 8
 *   # block: U 8 1
 *   # block: b 8 1
 *   1.2345678901234567e-01
 *   ...
 * Values are written with 17 significant digits, so a save and load round-trips exactly.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cell.h"

#define MAGIC "# odernn-params 1"

int rnn_params_save(const rnn_cell *c, const char *path, char *msg, size_t len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        snprintf(msg, len, "output path too long: %s", path);
        return RNN_EINVAL;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(msg, len, "cannot write parameters to '%s': %s", path, strerror(errno));
        return RNN_EIO;
    }
    fprintf(f, MAGIC "\n# cell: %s\n# m: %zu\n# d: %zu\n# seed: %lu\n", c->type->name, c->m,
            c->d, c->seed);
    for (size_t i = 0; i < c->n_hypers; i++)
        fprintf(f, "# hyper: %s %.17g\n", c->type->hypers[i].name, c->hyper[i]);
    for (size_t i = 0; i < c->n_blocks; i++)
        fprintf(f, "# block: %s %zu %zu\n", c->blocks[i].name, c->blocks[i].rows,
                c->blocks[i].cols);
    for (size_t i = 0; i < c->n_params; i++)
        fprintf(f, "%.17g\n", c->params[i]);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        snprintf(msg, len, "cannot write parameters to '%s': %s", path, strerror(errno));
        remove(tmp);
        return RNN_EIO;
    }
    return RNN_OK;
}

/* Reads header lines "# key: rest"; stops at the first non-comment line (left unread). */
typedef struct {
    char cell[RNN_CELL_NAME_LEN];
    size_t m, d;
    int have_cell, have_m, have_d;
} header;

static int read_header(FILE *f, const char *path, header *h, rnn_cell *c, char *msg, size_t len)
{
    char line[1024];
    size_t nblock = 0, nhyper = 0;
    char assign[RNN_MAX_HYPERS][RNN_NAME_LEN + 64];
    const char *assign_ptr[RNN_MAX_HYPERS];
    long pos = ftell(f);
    if (!fgets(line, sizeof line, f) || strncmp(line, MAGIC, strlen(MAGIC)) != 0) {
        snprintf(msg, len, "'%s' is not an odernn parameter file (first line must be '%s')", path,
                 MAGIC);
        return RNN_EFORMAT;
    }
    for (;;) {
        pos = ftell(f);
        if (!fgets(line, sizeof line, f))
            break;
        if (line[0] != '#') {
            fseek(f, pos, SEEK_SET);
            break;
        }
        char key[32], rest[960];
        if (sscanf(line, "# %31[^:]: %959[^\n]", key, rest) != 2)
            continue; /* a free comment */
        if (strcmp(key, "cell") == 0) {
            if (sscanf(rest, "%95s", h->cell) != 1)
                goto bad;
            h->have_cell = 1;
        } else if (strcmp(key, "m") == 0) {
            if (sscanf(rest, "%zu", &h->m) != 1)
                goto bad;
            h->have_m = 1;
        } else if (strcmp(key, "d") == 0) {
            if (sscanf(rest, "%zu", &h->d) != 1)
                goto bad;
            h->have_d = 1;
        } else if (!c) {
            continue;
        } else if (strcmp(key, "seed") == 0) {
            if (sscanf(rest, "%lu", &c->seed) != 1)
                goto bad;
        } else if (strcmp(key, "hyper") == 0) {
            char name[RNN_NAME_LEN], val[64];
            if (sscanf(rest, "%31s %63s", name, val) != 2)
                goto bad;
            if (nhyper == RNN_MAX_HYPERS) {
                snprintf(msg, len, "'%s': more than %d hyperparameters", path, RNN_MAX_HYPERS);
                return RNN_EFORMAT;
            }
            /* set together after the header, so joint constraints see them all */
            snprintf(assign[nhyper], sizeof assign[nhyper], "%s=%s", name, val);
            assign_ptr[nhyper] = assign[nhyper];
            nhyper++;
        } else if (strcmp(key, "block") == 0) {
            char name[RNN_NAME_LEN];
            size_t rows, cols;
            if (sscanf(rest, "%31s %zu %zu", name, &rows, &cols) != 3)
                goto bad;
            if (nblock >= c->n_blocks) {
                snprintf(msg, len, "'%s': unexpected block '%s'; cell '%s' has %zu blocks", path,
                         name, c->type->name, c->n_blocks);
                return RNN_EFORMAT;
            }
            const rnn_block *b = &c->blocks[nblock];
            if (strcmp(name, b->name) != 0 || rows != b->rows || cols != b->cols) {
                snprintf(msg, len,
                         "'%s': block %zu is '%s' %zux%zu, but cell '%s' (m=%zu, d=%zu) expects "
                         "block '%s' of shape %zux%zu there",
                         path, nblock + 1, name, rows, cols, c->type->name, c->m, c->d, b->name,
                         b->rows, b->cols);
                return RNN_EFORMAT;
            }
            nblock++;
        }
        continue;
    bad:
        snprintf(msg, len, "'%s': malformed header line: %s", path, line);
        return RNN_EFORMAT;
    }
    if (!h->have_cell || !h->have_m || !h->have_d) {
        snprintf(msg, len, "'%s': header must give 'cell', 'm' and 'd'", path);
        return RNN_EFORMAT;
    }
    if (c && rnn_cell_set_assignments(c, nhyper, assign_ptr, line, sizeof line) != RNN_OK) {
        snprintf(msg, len, "'%s': %s", path, line);
        return RNN_EFORMAT;
    }
    if (c && nblock != c->n_blocks) {
        snprintf(msg, len, "'%s': lists %zu blocks, cell '%s' needs %zu (first missing: '%s' %zux%zu)",
                 path, nblock, c->type->name, c->n_blocks, c->blocks[nblock].name,
                 c->blocks[nblock].rows, c->blocks[nblock].cols);
        return RNN_EFORMAT;
    }
    return RNN_OK;
}

static FILE *open_read(const char *path, char *msg, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        snprintf(msg, len, "cannot read parameters from '%s': %s", path, strerror(errno));
    return f;
}

int rnn_params_peek(const char *path, char *cell, size_t cell_len, size_t *m, size_t *d,
                    char *msg, size_t len)
{
    FILE *f = open_read(path, msg, len);
    if (!f)
        return RNN_EIO;
    header h = {0};
    int rc = read_header(f, path, &h, NULL, msg, len);
    fclose(f);
    if (rc == RNN_OK) {
        snprintf(cell, cell_len, "%s", h.cell);
        *m = h.m;
        *d = h.d;
    }
    return rc;
}

/* Which block holds flat index k, for messages. */
static const rnn_block *block_of(const rnn_cell *c, size_t k)
{
    for (size_t i = c->n_blocks; i-- > 0;)
        if (k >= c->blocks[i].offset)
            return &c->blocks[i];
    return &c->blocks[0];
}

int rnn_params_load(rnn_cell *c, const char *path, char *msg, size_t len)
{
    FILE *f = open_read(path, msg, len);
    if (!f)
        return RNN_EIO;
    header h = {0};
    double saved_hyper[RNN_MAX_HYPERS];
    unsigned long saved_seed = c->seed;
    memcpy(saved_hyper, c->hyper, sizeof saved_hyper);
    double *vals = malloc(c->n_params * sizeof(double));
    int rc = vals ? RNN_OK : RNN_ENOMEM;
    if (rc == RNN_OK)
        rc = read_header(f, path, &h, c, msg, len);
    if (rc == RNN_OK && (strcmp(h.cell, c->type->name) != 0 || h.m != c->m || h.d != c->d)) {
        snprintf(msg, len, "'%s' holds cell '%s' with m=%zu, d=%zu; expected '%s' with m=%zu, d=%zu",
                 path, h.cell, h.m, h.d, c->type->name, c->m, c->d);
        rc = RNN_EFORMAT;
    }
    size_t k = 0;
    char tok[128];
    while (rc == RNN_OK && fscanf(f, "%127s", tok) == 1) {
        char *end;
        double v = strtod(tok, &end);
        if (*end != '\0' || !isfinite(v)) {
            const rnn_block *b = block_of(c, k < c->n_params ? k : c->n_params - 1);
            snprintf(msg, len, "'%s': value %zu ('%s', in block '%s') is not a finite number", path,
                     k + 1, tok, b->name);
            rc = RNN_EFORMAT;
        } else if (k >= c->n_params) {
            snprintf(msg, len, "'%s': more values than the %zu the blocks' shapes need", path,
                     c->n_params);
            rc = RNN_EFORMAT;
        } else {
            vals[k++] = v;
        }
    }
    if (rc == RNN_OK && k < c->n_params) {
        const rnn_block *b = block_of(c, k);
        snprintf(msg, len, "'%s': only %zu values; block '%s' (%zux%zu) is incomplete, %zu needed in all",
                 path, k, b->name, b->rows, b->cols, c->n_params);
        rc = RNN_EFORMAT;
    }
    fclose(f);
    if (rc == RNN_OK) {
        memcpy(c->params, vals, c->n_params * sizeof(double));
    } else {
        memcpy(c->hyper, saved_hyper, sizeof saved_hyper);
        c->seed = saved_seed;
    }
    free(vals);
    rnn_cell_params_changed(c);
    return rc;
}
