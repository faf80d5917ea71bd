/*
 * test_plot.c — `odernn plot` on small fixture CSVs written here (never into results/):
 *
 *   - gated-share in every format gives a non-empty file of that format (PNG and PDF magic
 *     numbers, an <svg> element; tex: the .tex refers to its .pdf by the bare name), and no
 *     temporary folder is left behind;
 *   - ntk-scaling draws from a synthetic sweep and fit file that follow the CSV contract
 *     (value = exp(c) N^slope with known slopes);
 *   - missing data: exit 2 and the message names the command that makes them; `all` skips the
 *     optional ntk figure with a note; --missing lists the commands; an unknown figure or format
 *     is exit 2.
 * DISPLAY is unset, so nothing can wait for a window.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "program.h"

static char tmpdir[64];
static char *const out = program_out;

static void setup(void)
{
    unsetenv("DISPLAY");
    program_tmpdir_make(tmpdir, "plot");
}

static void teardown(void)
{
    program_tmpdir_remove(tmpdir);
}

TestSuite(plot, .init = setup, .fini = teardown);

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static void gated_fixture(void)
{
    write_file(tmpdir, "gated-share.csv",
               "# fixture\ngamma,seed,share_re_positive,share_radius_above_one\n"
               "0,0,1,1\n0,1,0.9,0.8\n0.5,0,0.7,0.6\n0.5,1,0.6,0.6\n1,0,0.5,0.4\n1,1,0.4,0.4\n");
}

/* 1 if the n bytes at text contain magic (binary files: no strstr). */
static int contains(const char *text, size_t n, const char *magic)
{
    const size_t k = strlen(magic);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(text + i, magic, k))
            return 1;
    return 0;
}

static void no_leftovers(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        cr_assert_null(strstr(e->d_name, ".plot-"), "temporary folder %s left in %s", e->d_name, dir);
    closedir(d);
}

Test(plot, every_format_gives_a_file_of_that_format)
{
    gated_fixture();
    static const struct {
        const char *fmt, *file, *magic;
    } want[] = {{"png", "gated-share.png", "\x89PNG"}, {"pdf", "gated-share.pdf", "%PDF"},
                {"svg", "gated-share.svg", "<svg"}, {"tex", "tex/gated-share.tex", "\\begin{picture}"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char args[512], path[256];
        snprintf(args, sizeof args, "plot gated-share --format %s --data-dir %s --out-dir %s/fig",
                 want[i].fmt, tmpdir, tmpdir);
        cr_assert_eq(program_run(args), 0, "%s: %s", want[i].fmt, out);
        snprintf(path, sizeof path, "%s/fig/%s", tmpdir, want[i].file);
        size_t n;
        char *text = program_slurp(path, &n);
        cr_assert_gt(n, 100, "%s is nearly empty", path);
        cr_assert(contains(text, n, want[i].magic), "%s lacks '%s'", path,
                  want[i].magic);
        if (!strcmp(want[i].fmt, "tex")) /* the drawing, referred to by its bare name */
            cr_assert(strstr(text, "{gated-share}"), "the .tex does not include gated-share.pdf");
        free(text);
    }
    char tex_pdf[256];
    snprintf(tex_pdf, sizeof tex_pdf, "%s/fig/tex/gated-share.pdf", tmpdir);
    free(program_slurp(tex_pdf, NULL));
    char fig[128];
    snprintf(fig, sizeof fig, "%s/fig", tmpdir);
    no_leftovers(fig);
}

Test(plot, ntk_scaling_follows_the_csv_contract)
{
    /* value = exp(c) N^slope exactly; the fits file carries the same slopes. */
    static const char *const metrics[] = {"ntk_fluctuation", "output_at_init", "parameter_drift",
                                          "kernel_drift", "limit_distance"};
    static const double slopes[] = {-0.5, 0, -0.5, -0.5, -1};
    char path[256];
    snprintf(path, sizeof path, "%s/ntk-sweep.csv", tmpdir);
    FILE *f = fopen(path, "w");
    snprintf(path, sizeof path, "%s/ntk-fits.csv", tmpdir);
    FILE *g = fopen(path, "w");
    cr_assert(f && g);
    fprintf(f, "# synthetic fixture\nbeta,reading,N,seed,metric,value\n");
    fprintf(g, "# synthetic fixture\nbeta,reading,metric,slope,ci_lo,ci_hi,expected,intercept\n");
    for (int b = 0; b < 2; b++)
        for (int r = 0; r < 2; r++)
            for (int k = 0; k < 5; k++) {
                const double beta = b ? 1.0 : 0.5, c = log(beta) + 0.2 * r;
                for (int N = 16; N <= 256; N *= 2)
                    for (int seed = 0; seed < 2; seed++)
                        fprintf(f, "%g,%c,%d,%d,%s,%.17g\n", beta, 'a' + r, N, seed, metrics[k],
                                exp(c) * pow(N, slopes[k]));
                fprintf(g, "%g,%c,%s,%g,%g,%g,%g,%.17g\n", beta, 'a' + r, metrics[k], slopes[k],
                        slopes[k] - 0.05, slopes[k] + 0.05, slopes[k], c);
            }
    fclose(f);
    fclose(g);
    char args[512];
    snprintf(args, sizeof args, "plot ntk-scaling --format png --data-dir %s --out-dir %s", tmpdir, tmpdir);
    cr_assert_eq(program_run(args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/ntk-scaling.png", tmpdir);
    size_t n;
    char *png = program_slurp(path, &n);
    cr_assert(n > 10000 && !memcmp(png, "\x89PNG", 4), "ntk-scaling.png: %zu bytes", n);
    free(png);
}

Test(plot, missing_data_and_bad_names_are_exit_2)
{
    char args[512], empty[128];
    snprintf(empty, sizeof empty, "%s/empty", tmpdir);
    snprintf(args, sizeof args, "plot convergence --data-dir %s --out-dir %s", empty, tmpdir);
    cr_assert_eq(program_run(args), 2, "%s", out);
    cr_assert(strstr(out, "convergence.csv") && strstr(out, "odernn experiment convergence"), "%s", out);

    snprintf(args, sizeof args, "plot ntk-scaling --data-dir %s --out-dir %s", tmpdir, tmpdir);
    cr_assert_eq(program_run(args), 2, "asked for by name, missing ntk data are an error: %s", out);
    cr_assert(strstr(out, "ntk-sweep.csv") && strstr(out, "odernn ntk"), "%s", out);

    gated_fixture(); /* `all`: draws what it can, exit 2 for the rest, a note for ntk */
    snprintf(args, sizeof args, "plot all --format png --data-dir %s --out-dir %s/all", tmpdir, tmpdir);
    int st = program_run(args);
    cr_assert_eq(st, 2, "%s", out);
    cr_assert(strstr(out, "gated-share.png") && strstr(out, "odernn experiment gradnorm"), "%s", out);
    cr_assert(strstr(out, "ntk"), "%s", out);

    snprintf(args, sizeof args, "plot all --missing --data-dir %s", tmpdir);
    cr_assert_eq(program_run(args), 0, "%s", out);
    cr_assert(strstr(out, "experiment spectra --out-dir") && strstr(out, "ntk --out-dir") &&
              !strstr(out, "experiment gated-share"), "%s", out);

    cr_assert_eq(program_run("plot nosuch"), 2);
    cr_assert(strstr(out, "unknown figure 'nosuch'") && strstr(out, "antisym-region"), "%s", out);
    cr_assert_eq(program_run("plot gated-share --format jpg"), 2);
    cr_assert(strstr(out, "allowed: pdf, png, svg, tex"), "%s", out);
    cr_assert_eq(program_run("plot"), 2);
    cr_assert_eq(program_run("plot list"), 0);
    cr_assert(strstr(out, "as-fig1") && strstr(out, "[optional]"), "%s", out);
}
