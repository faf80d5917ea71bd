/*
 * test_figure_data.c — the figure-data experiments (experiments/figure_data.c) and
 * `odernn experiment`:
 *
 *   - as-fig1 against a hand computation of its first steps (residual h + 0.1 tanh(W h) and
 *     vanilla tanh(W h) for the [AS] Fig. 1 matrices);
 *   - every registered experiment, at its quick size, writes a well-formed tidy CSV into a
 *     fresh folder (mkdtemp): a '#' preamble, a header row, the same column count on every
 *     row, finite numbers, no temporary file left behind;
 *   - the output folder is created with its parents; a path under a regular file fails with
 *     RNN_EIO;
 *   - gradnorm's file is byte-identical with 1 and 2 OpenMP threads;
 *   - the program (found through $ODERNN, else build/odernn): list, an unknown name (exit 2,
 *     the names listed), an unwritable folder (exit 2), one experiment end to end.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "experiments.h"
#include "program.h"

static char tmpdir[64];

static void make_tmpdir(void)
{
    program_tmpdir_make(tmpdir, "fig");
}

static void remove_tmpdir(void)
{
    program_tmpdir_remove(tmpdir);
}

TestSuite(figure_data, .init = make_tmpdir, .fini = remove_tmpdir);

/* ---- helpers ------------------------------------------------------------------------------------ */

static int run_quick(const char *name, const char *dir, size_t threads)
{
    const rnn_experiment_def *e = rnn_experiments_find(name);
    cr_assert_not_null(e, "experiment %s is not registered", name);
    char msg[1024] = "";
    int rc = e->run(1, dir, threads, 0, 1, msg, sizeof msg);
    cr_assert_eq(rc, RNN_OK, "%s failed: %s", name, msg);
    return rc;
}

static size_t count_fields(const char *line)
{
    size_t k = 1;
    for (; *line && *line != '\n'; line++)
        k += *line == ',';
    return k;
}

/* A well-formed tidy CSV: a '#' preamble first, then one header row, then rows with the same
 * number of fields, every numeric field finite. Returns the number of data rows. */
static size_t check_csv(const char *path, const char *header)
{
    char *text = program_slurp(path, NULL);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    cr_assert(line && line[0] == '#', "%s: no '#' preamble", path);
    size_t preamble = 0;
    while (line && line[0] == '#') {
        preamble++;
        line = strtok_r(NULL, "\n", &save);
    }
    cr_assert_geq(preamble, 4, "%s: preamble too short", path);
    cr_assert_not_null(line, "%s: no header row", path);
    cr_assert_str_eq(line, header, "%s: header", path);
    const size_t cols = count_fields(line);
    size_t rows = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        cr_assert_neq(line[0], '#', "%s: a comment after the header", path);
        cr_assert_eq(count_fields(line), cols, "%s: row %zu has %zu fields, the header %zu", path,
                     rows + 1, count_fields(line), cols);
        char *fs = NULL, *copy = strdup(line);
        for (char *fld = strtok_r(copy, ",", &fs); fld; fld = strtok_r(NULL, ",", &fs)) {
            char *end;
            double v = strtod(fld, &end);
            if (end != fld && *end == '\0') /* a number (nan and inf parse too) */
                cr_assert(isfinite(v), "%s: row %zu has a non-finite value '%s'", path, rows + 1, fld);
        }
        free(copy);
        rows++;
    }
    free(text);
    return rows;
}

static void no_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        cr_assert_null(strstr(e->d_name, ".tmp."), "temporary file %s left in %s", e->d_name, dir);
    closedir(d);
}

/* ---- as-fig1 against a hand computation --------------------------------------------------------- */

/* The value in column col (4: h1, 5: h2) of the row panel,scheme,start,step. */
static double fig1_value(const char *text, const char *panel, const char *scheme, int start,
                         int step, int col)
{
    char key[96];
    snprintf(key, sizeof key, "\n%s,%s,%d,%d,", panel, scheme, start, step);
    const char *p = strstr(text, key);
    cr_assert_not_null(p, "row %s not found", key + 1);
    p += strlen(key);
    double h1 = strtod(p, (char **)&p);
    cr_assert_eq(*p, ',');
    double h2 = strtod(p + 1, NULL);
    return col == 4 ? h1 : h2;
}

Test(figure_data, as_fig1_matches_a_hand_computation)
{
    run_quick("as-fig1", tmpdir, 1);
    char path[256];
    snprintf(path, sizeof path, "%s/as-fig1.csv", tmpdir);
    cr_assert_eq(check_csv(path, "panel,scheme,start,step,h1,h2"), 4 * 2 * 3 * 51);
    char *text = program_slurp(path, NULL);
    const double th1 = 0.76159415595576489; /* tanh(1) */
    const double tol = 1e-15;

    /* W+ = [[2, -2], [0, 2]], h0 = (0, 0.5): W h0 = (-1, 1). */
    cr_assert_float_eq(fig1_value(text, "Wplus", "residual", 0, 0, 4), 0.0, tol);
    cr_assert_float_eq(fig1_value(text, "Wplus", "residual", 0, 0, 5), 0.5, tol);
    cr_assert_float_eq(fig1_value(text, "Wplus", "residual", 0, 1, 4), -0.1 * th1, tol);
    cr_assert_float_eq(fig1_value(text, "Wplus", "residual", 0, 1, 5), 0.5 + 0.1 * th1, tol);
    cr_assert_float_eq(fig1_value(text, "Wplus", "vanilla", 0, 1, 4), -th1, tol);
    cr_assert_float_eq(fig1_value(text, "Wplus", "vanilla", 0, 1, 5), th1, tol);
    /* Step 2 by hand: h1 = (-0.1 th1, 0.5 + 0.1 th1); W+ h1 = (2 h1_1 - 2 h1_2, 2 h1_2). */
    {
        double a = -0.1 * th1, b = 0.5 + 0.1 * th1;
        double a2 = a + 0.1 * tanh(2 * a - 2 * b), b2 = b + 0.1 * tanh(2 * b);
        cr_assert_float_eq(fig1_value(text, "Wplus", "residual", 0, 2, 4), a2, tol);
        cr_assert_float_eq(fig1_value(text, "Wplus", "residual", 0, 2, 5), b2, tol);
        /* numerically: 2 a - 2 b = -1 - 0.4 th1 = -1.30463766..., 2 b = 1.15231883... */
        cr_assert_float_eq(a2, -0.076159415595576489 + 0.1 * tanh(-1.3046376623823060), tol);
    }
    /* W0 = [[0, -2], [2, 0]], h0 = (0, 0.5): W0 h0 = (-1, 0), so h1 = (-0.1 th1, 0.5); then
     * W0 h1 = (-1, -0.2 th1). */
    cr_assert_float_eq(fig1_value(text, "W0", "residual", 0, 1, 4), -0.1 * th1, tol);
    cr_assert_float_eq(fig1_value(text, "W0", "residual", 0, 1, 5), 0.5, tol);
    cr_assert_float_eq(fig1_value(text, "W0", "residual", 0, 2, 4), -0.2 * th1, tol);
    cr_assert_float_eq(fig1_value(text, "W0", "residual", 0, 2, 5), 0.5 + 0.1 * tanh(-0.2 * th1), tol);
    /* W- = [[-2, 2], [0, -2]], h0 = (-0.5, -0.5): W- h0 = (0, 1); vanilla h1 = (0, th1). */
    cr_assert_float_eq(fig1_value(text, "Wminus", "vanilla", 1, 1, 4), 0.0, tol);
    cr_assert_float_eq(fig1_value(text, "Wminus", "vanilla", 1, 1, 5), th1, tol);
    /* Wdiff = [[-0.15, -2], [2, -0.15]], h0 = (0.5, -0.75): Wdiff h0 = (1.425, 1.1125). */
    cr_assert_float_eq(fig1_value(text, "Wdiff", "residual", 2, 1, 4), 0.5 + 0.1 * tanh(1.425), tol);
    cr_assert_float_eq(fig1_value(text, "Wdiff", "residual", 2, 1, 5), -0.75 + 0.1 * tanh(1.1125), tol);
    cr_assert_float_eq(fig1_value(text, "Wdiff", "vanilla", 2, 1, 4), tanh(1.425), tol);
    /* The residual W- map falls into the origin; the W+ map leaves it. */
    cr_assert_lt(hypot(fig1_value(text, "Wminus", "residual", 0, 50, 4),
                       fig1_value(text, "Wminus", "residual", 0, 50, 5)), 0.5);
    cr_assert_gt(hypot(fig1_value(text, "Wplus", "residual", 0, 50, 4),
                       fig1_value(text, "Wplus", "residual", 0, 50, 5)), 2.0);
    free(text);
    no_temporaries(tmpdir);
}

/* ---- every experiment: a well-formed CSV ------------------------------------------------------- */

Test(figure_data, every_experiment_writes_a_tidy_csv)
{
    static const struct {
        const char *name, *header;
    } expect[] = {
        {"as-fig1", "panel,scheme,start,step,h1,h2"},
        {"gradnorm", "cell,seed,T,t,log10_norm"},
        {"cornn-contributions", "cell,seed,lag,log10_contribution"},
        {"lyap-dt", "cell,dt,index,exponent,ode_exponent"},
        {"gated-share", "gamma,seed,share_re_positive,share_radius_above_one"},
        {"convergence", "cell,expected_order,fitted_order,dt,error,slope_line,in_fit"},
        {"spectra", "cell,method,step,index,re,im"},
        {"lyap-spectra", "cell,index,exponent,ci_lo,ci_hi,seeds"},
        {"energy", "cell,setting,dt,gamma,eps,step,t,energy,bound"},
        {"antisym-region", "x,y,metric,value"},
    };
    const size_t n = sizeof expect / sizeof expect[0];
    cr_assert_eq(rnn_experiments_count(), n);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/a/b", tmpdir); /* created with its parents */
    for (size_t i = 0; i < n; i++) {
        const rnn_experiment_def *e = rnn_experiments_get(i);
        cr_assert_str_eq(e->name, expect[i].name);
        cr_assert(e->title && e->title[0] && e->source && e->source[0]);
        cr_assert_not_null(e->files[0]);
        run_quick(e->name, dir, 2);
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, e->files[0]);
        size_t rows = check_csv(path, expect[i].header);
        cr_assert_gt(rows, 0, "%s wrote no rows", e->name);
    }
    cr_assert_null(rnn_experiments_get(n));
    cr_assert_null(rnn_experiments_find("nosuch"));
    cr_assert(strstr(rnn_experiments_names(), "as-fig1, gradnorm"));
    no_temporaries(dir);
}

Test(figure_data, shares_are_fractions_and_contributions_cover_every_lag)
{
    run_quick("gated-share", tmpdir, 1);
    run_quick("cornn-contributions", tmpdir, 1);
    char path[256];
    snprintf(path, sizeof path, "%s/gated-share.csv", tmpdir);
    char *text = program_slurp(path, NULL);
    size_t rows = 0;
    for (char *p = strstr(text, "\n0,"); p; p = strchr(p + 1, '\n')) {
        double g, a, b;
        unsigned s;
        if (sscanf(p + 1, "%lf,%u,%lf,%lf", &g, &s, &a, &b) != 4)
            continue;
        cr_assert(a >= 0 && a <= 1 && b >= 0 && b <= 1, "share out of [0, 1]");
        rows++;
    }
    cr_assert_eq(rows, 6 * 2, "6 gammas x 2 seeds at the quick size");
    free(text);
    /* quick: N = 100, 2 seeds, 2 cells: lags 0..99 for each */
    snprintf(path, sizeof path, "%s/cornn-contributions.csv", tmpdir);
    cr_assert_eq(check_csv(path, "cell,seed,lag,log10_contribution"), 2 * 2 * 100);
}

/* ---- folders and errors ------------------------------------------------------------------------- */

Test(figure_data, unwritable_folder_is_an_io_error)
{
    char file[128], bad[160], msg[512] = "";
    snprintf(file, sizeof file, "%s/plainfile", tmpdir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fclose(f);
    snprintf(bad, sizeof bad, "%s/sub", file);
    cr_assert_eq(rnn_make_dirs(bad, msg, sizeof msg), RNN_EIO);
    cr_assert(strstr(msg, "cannot create"), "message: %s", msg);
    cr_assert_eq(rnn_make_dirs(file, msg, sizeof msg), RNN_EIO, "a file is not a folder");
    const rnn_experiment_def *e = rnn_experiments_find("as-fig1");
    cr_assert_eq(e->run(1, bad, 1, 0, 1, msg, sizeof msg), RNN_EIO);
    cr_assert_eq(rnn_make_dirs(tmpdir, msg, sizeof msg), RNN_OK, "an existing folder is fine");
}

/* ---- thread-count independence ------------------------------------------------------------------ */

Test(figure_data, gradnorm_is_independent_of_the_thread_count)
{
    char d1[128], d2[128], p1[160], p2[160];
    snprintf(d1, sizeof d1, "%s/t1", tmpdir);
    snprintf(d2, sizeof d2, "%s/t2", tmpdir);
    run_quick("gradnorm", d1, 1);
    run_quick("gradnorm", d2, 2);
    snprintf(p1, sizeof p1, "%s/gradnorm.csv", d1);
    snprintf(p2, sizeof p2, "%s/gradnorm.csv", d2);
    size_t n1, n2;
    char *a = program_slurp(p1, &n1), *b = program_slurp(p2, &n2);
    cr_assert_eq(n1, n2, "sizes differ: %zu and %zu bytes", n1, n2);
    cr_assert_eq(memcmp(a, b, n1), 0, "the files differ between 1 and 2 threads");
    free(a);
    free(b);
}

/* ---- the program -------------------------------------------------------------------------------- */

static char *const out = program_out;


Test(figure_data, cli_list_unknown_and_unwritable)
{
    cr_assert_eq(program_run("experiment list"), 0);
    for (size_t i = 0; i < rnn_experiments_count(); i++)
        cr_assert(strstr(out, rnn_experiments_get(i)->name), "list lacks %s",
                  rnn_experiments_get(i)->name);
    cr_assert_eq(program_run("experiment list --json"), 0);
    cr_assert(strstr(out, "\"name\":\t\"gated-share\""));

    cr_assert_eq(program_run("experiment nosuch"), 2);
    cr_assert(strstr(out, "unknown experiment 'nosuch'") && strstr(out, "as-fig1") &&
              strstr(out, "lyap-dt"), "%s", out);
    cr_assert_eq(program_run("experiment"), 2);

    char args[512], file[160];
    snprintf(file, sizeof file, "%s/plainfile", tmpdir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fclose(f);
    snprintf(args, sizeof args, "experiment as-fig1 --out-dir %s/sub", file);
    cr_assert_eq(program_run(args), 2);
    cr_assert(strstr(out, "cannot create the output folder"), "%s", out);
}

Test(figure_data, cli_runs_one_experiment)
{
    char args[512], path[256];
    snprintf(args, sizeof args, "experiment as-fig1 --out-dir %s/new/dir --json", tmpdir);
    cr_assert_eq(program_run(args), 0, "%s", out);
    cr_assert(strstr(out, "\"name\":\t\"as-fig1\"") && strstr(out, "\"seconds\""), "%s", out);
    snprintf(path, sizeof path, "%s/new/dir/as-fig1.csv", tmpdir);
    cr_assert_eq(check_csv(path, "panel,scheme,start,step,h1,h2"), 4 * 2 * 3 * 51);
    snprintf(args, sizeof args, "experiment as-fig1 --out-dir %s/new/dir", tmpdir);
    cr_assert_eq(program_run(args), 0, "%s", out);
    cr_assert(strstr(out, "as-fig1") && strstr(out, "as-fig1.csv") && strstr(out, " s"), "%s", out);
}

/* antisym-region's map is `odernn region` with the settings its preamble names: the data rows
 * are byte-identical (the same cell, input, state and metric, computed independently by the
 * program's grid loop). */
Test(figure_data, antisym_region_is_odernn_region)
{
    run_quick("antisym-region", tmpdir, 2);
    char path[256], args[512], csv[256];
    snprintf(path, sizeof path, "%s/antisym-region.csv", tmpdir);
    char *text = program_slurp(path, NULL);
    const char *eq = strstr(text, "# equivalent: odernn ");
    cr_assert_not_null(eq);
    eq += strlen("# equivalent: odernn ");
    snprintf(csv, sizeof csv, "%s/region.csv", tmpdir);
    snprintf(args, sizeof args, "%.*s --out %s", (int)strcspn(eq, "\n"), eq, csv);
    cr_assert_eq(program_run(args), 0, "%s", program_out);
    char *other = program_slurp(csv, NULL);
    const char *a = strstr(text, "\nx,y,metric,value\n"), *b = strstr(other, "\nx,y,metric,value\n");
    cr_assert(a && b);
    cr_assert_str_eq(a, b, "the experiment's map differs from odernn region's");
    free(text);
    free(other);
    snprintf(path, sizeof path, "%s/antisym-boundary.csv", tmpdir);
    cr_assert_gt(check_csv(path, "gamma,eps_boundary"), 100);
}
