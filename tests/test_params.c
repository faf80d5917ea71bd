/*
 * test_params.c — unit tests of parameter files (cells/params.c, docs/params-format.md).
 *
 *   - save then load round-trips exactly (bitwise) for every cell: parameters (including
 *     -0, a subnormal and DBL_MAX), hyperparameters and the seed; the loaded cell steps
 *     identically (derived quantities are refreshed);
 *   - every error path of load: missing file, wrong magic, wrong cell, wrong m, block name and
 *     shape mismatches (the message names the block and its expected shape), a missing block,
 *     too few / too many values, a value that is not a number, a bad hyperparameter; after a
 *     failed load the cell is unchanged;
 *   - save to an unwritable path fails with RNN_EIO and leaves no temporary file;
 *   - rnn_params_peek.
 * Files live in a fresh mkdtemp directory under /tmp, removed at the end of each test.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cell.h"

#define M 4
#define D 3

/* ---- helpers ------------------------------------------------------------------------------ */

static char dir[256];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/odernn-test-params-XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp failed");
}

static void remove_dir(void)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(dp)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rmdir(p);
        else
            unlink(p);
    }
    closedir(dp);
    rmdir(dir);
}

TestSuite(params, .init = make_dir, .fini = remove_dir);

static void path_of(const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* text with the first occurrence of `from` replaced by `to` (must occur). */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    cr_assert_not_null(p, "'%s' not found in the saved file", from);
    size_t a = (size_t)(p - text), lf = strlen(from), lt = strlen(to), lr = strlen(p + lf);
    char *out = malloc(a + lt + lr + 1);
    memcpy(out, text, a);
    memcpy(out + a, to, lt);
    memcpy(out + a + lt, p + lf, lr + 1);
    return out;
}

/* Number of entries of the test directory whose name contains ".tmp." */
static int count_temp_files(void)
{
    DIR *dp = opendir(dir);
    cr_assert_not_null(dp, "opendir");
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL)
        if (strstr(e->d_name, ".tmp.") != NULL)
            n++;
    closedir(dp);
    return n;
}

/* A snapshot of what a failed load must leave untouched. */
typedef struct {
    double *params;
    double hyper[RNN_MAX_HYPERS];
    unsigned long seed;
} snapshot;

static snapshot take(const rnn_cell *c)
{
    snapshot s;
    s.params = malloc(c->n_params * sizeof(double));
    memcpy(s.params, c->params, c->n_params * sizeof(double));
    memcpy(s.hyper, c->hyper, sizeof s.hyper);
    s.seed = c->seed;
    return s;
}

static void assert_unchanged(const rnn_cell *c, snapshot *s, const char *what)
{
    cr_assert(memcmp(c->params, s->params, c->n_params * sizeof(double)) == 0,
              "%s: parameters changed by a failed load", what);
    cr_assert(memcmp(c->hyper, s->hyper, sizeof s->hyper) == 0,
              "%s: hyperparameters changed by a failed load", what);
    cr_assert_eq(c->seed, s->seed, "%s: seed changed by a failed load", what);
    free(s->params);
}

/* Saves a tanh cell (m = 4, d = 3, seed 7) to good.txt and returns the file's text. */
static char *good_tanh_file(char *path, size_t len)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, M, D, 7);
    cr_assert_not_null(c, "alloc");
    char msg[512];
    path_of("good.txt", path, len);
    cr_assert_eq(rnn_params_save(c, path, msg, sizeof msg), RNN_OK, "save: %s", msg);
    rnn_cell_free(c);
    return read_text(path);
}

/* Loads `text` (written to bad.txt) into a fresh tanh cell: expects `code`, checks the cell is
 * unchanged, and returns the message in msg. */
static void load_expect(const char *text, int code, char *msg, size_t len, const char *what)
{
    char path[512];
    path_of("bad.txt", path, sizeof path);
    write_text(path, text);
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, M, D, 99);
    /* hyperparameters and seed unlike the file's (dt 1, wscale 1, seed 7), so that a failed
     * load that set them and did not roll them back is caught */
    cr_assert_eq(rnn_cell_set_hyper(c, "dt", 0.75, msg, len), RNN_OK, "%s", msg);
    cr_assert_eq(rnn_cell_set_hyper(c, "wscale", 2.0, msg, len), RNN_OK, "%s", msg);
    snapshot s = take(c);
    msg[0] = '\0';
    int rc = rnn_params_load(c, path, msg, len);
    cr_assert_eq(rc, code, "%s: load returned %d (%s), expected %d; message: %s", what, rc,
                 rnn_strerror(rc), code, msg);
    cr_assert(msg[0] != '\0', "%s: empty message", what);
    assert_unchanged(c, &s, what);
    rnn_cell_free(c);
}

/* ---- round trip ----------------------------------------------------------------------------- */

Test(params, save_load_round_trip_bitwise_every_cell)
{
    for (size_t ic = 0; ic < rnn_registry_count(); ic++) {
        const rnn_cell_type *t = rnn_registry_get(ic);
        rnn_cell *a = rnn_cell_alloc(t, M, D, 7), *b = rnn_cell_alloc(t, M, D, 8);
        cr_assert(a && b, "alloc");
        char msg[512], path[512];
        /* Non-default, non-representable-in-decimal hyperparameters: default * 4/3. */
        for (size_t i = 0; i < t->n_hypers; i++) {
            double v = t->hypers[i].def * (1.0 + 1.0 / 3.0);
            cr_assert_eq(rnn_cell_set_hyper(a, t->hypers[i].name, v, msg, sizeof msg), RNN_OK,
                         "%s: %s", t->name, msg);
        }
        /* Awkward values: negative zero, the smallest subnormal, the largest double. */
        a->params[0] = -0.0;
        a->params[1] = 4.9406564584124654e-324;
        a->params[2] = -DBL_MAX;
        a->params[3] = 1.0 / 3.0;
        rnn_cell_params_changed(a);
        path_of("rt.txt", path, sizeof path);
        cr_assert_eq(rnn_params_save(a, path, msg, sizeof msg), RNN_OK, "%s: save: %s", t->name, msg);
        cr_assert_eq(count_temp_files(), 0, "%s: save left a temporary file", t->name);
        cr_assert_eq(rnn_params_load(b, path, msg, sizeof msg), RNN_OK, "%s: load: %s", t->name, msg);
        cr_assert(memcmp(a->params, b->params, a->n_params * sizeof(double)) == 0,
                  "%s: parameters differ bitwise after the round trip", t->name);
        for (size_t i = 0; i < t->n_hypers; i++)
            cr_assert(memcmp(&a->hyper[i], &b->hyper[i], sizeof(double)) == 0,
                      "%s: hyperparameter %s: %.17g saved, %.17g loaded", t->name,
                      t->hypers[i].name, a->hyper[i], b->hyper[i]);
        cr_assert_eq(b->seed, 7UL, "%s: the seed recorded in the file is restored", t->name);
        /* The loaded cell is the same function (derived quantities such as A = W - W^T - gamma I
         * must have been refreshed): a normal-range state and parameters. */
        rnn_cell_init(a, 5);
        cr_assert_eq(rnn_params_save(a, path, msg, sizeof msg), RNN_OK, "%s", msg);
        cr_assert_eq(rnn_params_load(b, path, msg, sizeof msg), RNN_OK, "%s", msg);
        double s[2 * M], u[D] = {0.3, -0.2, 0.1}, oa[2 * M], ob[2 * M];
        rnn_cell_random_state(a, 3, 1.0, s);
        cr_assert_eq(rnn_cell_step(a, 0, s, u, oa), RNN_OK, "step a");
        cr_assert_eq(rnn_cell_step(b, 0, s, u, ob), RNN_OK, "step b");
        cr_assert(memcmp(oa, ob, a->n_state * sizeof(double)) == 0,
                  "%s: the loaded cell steps differently", t->name);
        rnn_cell_free(a);
        rnn_cell_free(b);
    }
}

/* A valid file must load whatever hyperparameters the receiving cell holds. cornn's joint
 * constraint 1 + dt eps > 0 is checked on each assignment, so a file is only loadable if no
 * intermediate (file's dt, cell's eps) pair violates it. Receiving cell: dt = 10, eps = -0.05
 * (1 + dt eps = 0.5, valid); file: dt = 30, eps = 0.5 (1 + dt eps = 16, valid). */
Test(params, load_valid_file_independent_of_current_hyperparameters)
{
    rnn_cell *src = rnn_cell_alloc(rnn_cell_cornn, M, D, 7), *dst = rnn_cell_alloc(rnn_cell_cornn, M, D, 8);
    char msg[512], path[512];
    cr_assert_eq(rnn_cell_set_hyper(src, "dt", 30.0, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert_eq(rnn_cell_set_hyper(src, "eps", 0.5, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert_eq(rnn_cell_set_hyper(dst, "eps", -0.05, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert_eq(rnn_cell_set_hyper(dst, "dt", 10.0, msg, sizeof msg), RNN_OK, "%s", msg);
    path_of("cornn.txt", path, sizeof path);
    cr_assert_eq(rnn_params_save(src, path, msg, sizeof msg), RNN_OK, "%s", msg);
    msg[0] = '\0';
    int rc = rnn_params_load(dst, path, msg, sizeof msg);
    cr_assert_eq(rc, RNN_OK, "a valid file (dt = 30, eps = 0.5) was refused by a cell holding dt = 10, "
                 "eps = -0.05: %s (%s)", rnn_strerror(rc), msg);
    cr_assert_eq(rnn_cell_get_hyper(dst, "dt"), 30.0, "dt loaded");
    cr_assert_eq(rnn_cell_get_hyper(dst, "eps"), 0.5, "eps loaded");
    rnn_cell_free(src);
    rnn_cell_free(dst);
}

/* ---- load error paths ------------------------------------------------------------------------ */

Test(params, load_missing_file)
{
    char path[512], msg[512] = "";
    path_of("does-not-exist.txt", path, sizeof path);
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, M, D, 1);
    snapshot s = take(c);
    cr_assert_eq(rnn_params_load(c, path, msg, sizeof msg), RNN_EIO, "missing file");
    cr_assert(strstr(msg, "does-not-exist.txt") != NULL, "the message names the file: '%s'", msg);
    assert_unchanged(c, &s, "missing file");
    rnn_cell_free(c);
}

Test(params, load_wrong_magic)
{
    char path[512], msg[512];
    char *good = good_tanh_file(path, sizeof path);
    char *bad = replace(good, "# odernn-params 1", "# odernn-params 2");
    load_expect(bad, RNN_EFORMAT, msg, sizeof msg, "wrong magic");
    cr_assert(strstr(msg, "odernn-params") != NULL, "the message quotes the expected first line: '%s'", msg);
    load_expect("", RNN_EFORMAT, msg, sizeof msg, "empty file");
    load_expect("1.0\n2.0\n", RNN_EFORMAT, msg, sizeof msg, "numbers without a header");
    free(bad);
    free(good);
}

Test(params, load_wrong_cell_name)
{
    char path[512], msg[512];
    char *good = good_tanh_file(path, sizeof path);
    char *bad = replace(good, "# cell: tanh", "# cell: antisym");
    load_expect(bad, RNN_EFORMAT, msg, sizeof msg, "wrong cell name");
    cr_assert(strstr(msg, "antisym") && strstr(msg, "tanh"), "the message names both cells: '%s'", msg);
    free(bad);
    /* A tanh file loaded into an antisym cell (different hyperparameters and blocks). */
    rnn_cell *c = rnn_cell_alloc(rnn_cell_antisym, M, D, 1);
    snapshot s = take(c);
    cr_assert_eq(rnn_params_load(c, path, msg, sizeof msg), RNN_EFORMAT, "tanh file into antisym");
    assert_unchanged(c, &s, "tanh file into antisym");
    rnn_cell_free(c);
    free(good);
}

Test(params, load_wrong_m)
{
    char path[512], msg[512];
    char *good = good_tanh_file(path, sizeof path);
    /* header m alone changed: blocks still match the cell, the m check must catch it */
    char *bad = replace(good, "# m: 4", "# m: 5");
    load_expect(bad, RNN_EFORMAT, msg, sizeof msg, "wrong m in the header");
    cr_assert(strstr(msg, "m=5") && strstr(msg, "m=4"), "the message gives both sizes: '%s'", msg);
    free(bad);
    /* a file of an m = 4 cell loaded into an m = 5 cell */
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, 5, D, 1);
    snapshot s = take(c);
    msg[0] = '\0';
    cr_assert_eq(rnn_params_load(c, path, msg, sizeof msg), RNN_EFORMAT, "m = 4 file into m = 5");
    cr_assert(strstr(msg, "'W'") && strstr(msg, "5x5"), "the message names block W and 5x5: '%s'", msg);
    assert_unchanged(c, &s, "m = 4 file into m = 5");
    rnn_cell_free(c);
    free(good);
}

Test(params, load_block_name_mismatch)
{
    char path[512], msg[512];
    char *good = good_tanh_file(path, sizeof path);
    char *bad = replace(good, "# block: U 4 3", "# block: X 4 3");
    load_expect(bad, RNN_EFORMAT, msg, sizeof msg, "block name mismatch");
    cr_assert(strstr(msg, "'X'") != NULL, "the message names the block found: '%s'", msg);
    cr_assert(strstr(msg, "'U'") != NULL, "the message names the block expected: '%s'", msg);
    cr_assert(strstr(msg, "4x3") != NULL, "the message gives the expected shape: '%s'", msg);
    free(bad);
    free(good);
}

Test(params, load_block_shape_mismatch)
{
    char path[512], msg[512];
    char *good = good_tanh_file(path, sizeof path);
    char *bad = replace(good, "# block: W 4 4", "# block: W 4 3");
    load_expect(bad, RNN_EFORMAT, msg, sizeof msg, "block shape mismatch");
    cr_assert(strstr(msg, "'W'") != NULL, "the message names the block: '%s'", msg);
    cr_assert(strstr(msg, "4x4") != NULL, "the message gives the expected shape 4x4: '%s'", msg);
    free(bad);
    /* a block missing from the header */
    bad = replace(good, "# block: b 4 1\n", "");
    load_expect(bad, RNN_EFORMAT, msg, sizeof msg, "missing block");
    cr_assert(strstr(msg, "'b'") != NULL, "the message names the missing block: '%s'", msg);
    free(bad);
    /* an extra block */
    bad = replace(good, "# block: b 4 1\n", "# block: b 4 1\n# block: c 4 1\n");
    load_expect(bad, RNN_EFORMAT, msg, sizeof msg, "extra block");
    free(bad);
    free(good);
}

Test(params, load_value_count_and_format)
{
    char path[512], msg[512];
    char *good = good_tanh_file(path, sizeof path);
    /* too few: drop the last value line */
    char *few = strdup(good);
    size_t n = strlen(few);
    cr_assert(n > 2 && few[n - 1] == '\n', "file ends with a newline");
    few[n - 1] = '\0';
    *strrchr(few, '\n') = '\0';
    strcat(few, "\n");
    load_expect(few, RNN_EFORMAT, msg, sizeof msg, "too few values");
    cr_assert(strstr(msg, "'b'") != NULL, "the message names the incomplete block b: '%s'", msg);
    free(few);
    /* too many */
    char *many = malloc(strlen(good) + 16);
    strcpy(many, good);
    strcat(many, "0.5\n");
    load_expect(many, RNN_EFORMAT, msg, sizeof msg, "too many values");
    free(many);
    /* not a number, in the first value (block W) */
    const char *first_value = strstr(good, "# block: b 4 1\n") + strlen("# block: b 4 1\n");
    size_t head = (size_t)(first_value - good);
    const char *bad_tokens[] = {"abc", "1.0x", "nan", "inf"};
    for (size_t k = 0; k < 4; k++) {
        const char *eol = strchr(first_value, '\n');
        char *bad = malloc(strlen(good) + 16);
        memcpy(bad, good, head);
        sprintf(bad + head, "%s%s", bad_tokens[k], eol);
        load_expect(bad, RNN_EFORMAT, msg, sizeof msg, bad_tokens[k]);
        cr_assert(strstr(msg, bad_tokens[k]) != NULL, "the message quotes '%s': '%s'", bad_tokens[k], msg);
        cr_assert(strstr(msg, "'W'") != NULL, "the message names block W: '%s'", msg);
        free(bad);
    }
    free(good);
}

Test(params, load_bad_hyperparameter)
{
    char path[512], msg[512];
    char *good = good_tanh_file(path, sizeof path);
    const char *cases[][2] = {
        {"# hyper: dt 1\n", "# hyper: dt -1\n"},       /* out of range */
        {"# hyper: dt 1\n", "# hyper: dt 0\n"},        /* out of range (open end) */
        {"# hyper: dt 1\n", "# hyper: dt abc\n"},      /* not a number */
        {"# hyper: dt 1\n", "# hyper: nosuch 1\n"},    /* unknown name */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *bad = replace(good, cases[k][0], cases[k][1]);
        load_expect(bad, RNN_EFORMAT, msg, sizeof msg, cases[k][1]);
        free(bad);
    }
    /* A valid hyperparameter followed by a later error: the hyperparameter is rolled back
     * (load_expect checks the cell is unchanged). */
    char *tmp = replace(good, "# hyper: dt 1\n", "# hyper: dt 0.5\n");
    char *bad = replace(tmp, "# block: W 4 4", "# block: W 3 4");
    load_expect(bad, RNN_EFORMAT, msg, sizeof msg, "valid dt, then a bad block");
    free(tmp);
    free(bad);
    free(good);
}

/* ---- save errors ------------------------------------------------------------------------------- */

Test(params, save_unwritable_path)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, M, D, 1);
    char msg[512] = "";
    cr_assert_eq(rnn_params_save(c, "/nonexistent/dir/f.txt", msg, sizeof msg), RNN_EIO,
                 "a missing directory");
    cr_assert(strstr(msg, "/nonexistent/dir/f.txt") != NULL, "the message names the path: '%s'", msg);
    /* The target is an existing directory: the temporary file is written next to it, the
     * rename fails, and the temporary file must be removed. */
    char sub[512];
    path_of("subdir", sub, sizeof sub);
    cr_assert_eq(mkdir(sub, 0700), 0, "mkdir");
    msg[0] = '\0';
    cr_assert_eq(rnn_params_save(c, sub, msg, sizeof msg), RNN_EIO, "saving over a directory");
    cr_assert(msg[0] != '\0', "message");
    cr_assert_eq(count_temp_files(), 0, "no stray temporary file after a failed save");
    rnn_cell_free(c);
}

/* ---- peek ------------------------------------------------------------------------------------ */

Test(params, peek_reads_the_header)
{
    char path[512], msg[512], cell[RNN_NAME_LEN];
    size_t m = 0, d = 0;
    rnn_cell *c = rnn_cell_alloc(rnn_cell_cornn_explicit, 6, 2, 3);
    path_of("peek.txt", path, sizeof path);
    cr_assert_eq(rnn_params_save(c, path, msg, sizeof msg), RNN_OK, "%s", msg);
    rnn_cell_free(c);
    cr_assert_eq(rnn_params_peek(path, cell, sizeof cell, &m, &d, msg, sizeof msg), RNN_OK, "%s", msg);
    cr_assert_str_eq(cell, "cornn_explicit", "cell name");
    cr_assert_eq(m, 6, "m");
    cr_assert_eq(d, 2, "d");
    /* peek reads only the header: a bad block shape does not matter to it */
    char *good = read_text(path);
    char *odd = replace(good, "# block: W 6 6", "# block: W 1 1");
    write_text(path, odd);
    cr_assert_eq(rnn_params_peek(path, cell, sizeof cell, &m, &d, msg, sizeof msg), RNN_OK, "%s", msg);
    free(odd);
    /* errors */
    char *nom = replace(good, "# m: 6\n", "");
    write_text(path, nom);
    msg[0] = '\0';
    cr_assert_eq(rnn_params_peek(path, cell, sizeof cell, &m, &d, msg, sizeof msg), RNN_EFORMAT,
                 "no m in the header");
    cr_assert(msg[0] != '\0', "message");
    free(nom);
    char *magic = replace(good, "# odernn-params 1", "# something else");
    write_text(path, magic);
    cr_assert_eq(rnn_params_peek(path, cell, sizeof cell, &m, &d, msg, sizeof msg), RNN_EFORMAT,
                 "wrong magic");
    free(magic);
    free(good);
    path_of("missing.txt", path, sizeof path);
    cr_assert_eq(rnn_params_peek(path, cell, sizeof cell, &m, &d, msg, sizeof msg), RNN_EIO, "missing");
}
