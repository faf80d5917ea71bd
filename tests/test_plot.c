/*
 * test_plot.c — `odernn plot` on small fixture CSVs written here (never into results/):
 *
 *   - gated-share in every format gives a non-empty file of that format (PNG and PDF magic
 *     numbers, an <svg> element; tex: the .tex refers to its .pdf by the bare name), and no
 *     temporary folder is left behind;
 *   - ntk-scaling draws from a synthetic sweep and fit file that follow the CSV contract
 *     (value = exp(c) N^slope with known slopes);
 *   - the tex output compiles: when pdflatex is on the PATH, gated-share, ntk-scaling, as-fig1
 *     and cornn-contributions (titles that start with '[', Greek and subscripts in labels) are
 *     drawn with --format tex and each is \input into a minimal LaTeX document that pdflatex
 *     must typeset without an error or a missing character; no label may be read by
 *     cairolatex as a position ('[AS] Fig. 1' was once typeset as 'ig. 1'). Skipped, with the
 *     reason, when pdflatex is not installed;
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
#include <unistd.h>
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

/* A sweep and fit file with value = exp(c) N^slope exactly, N = 16..256; the fits carry the same
 * slopes. full: β in {0.5, 1} and both readings; else only β = 0.5, reading a (as `odernn ntk`
 * writes by default: one series). */
static void ntk_fixture(int full)
{
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
    for (int b = 0; b < (full ? 2 : 1); b++)
        for (int r = 0; r < (full ? 2 : 1); r++)
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
}

Test(plot, ntk_scaling_follows_the_csv_contract)
{
    ntk_fixture(1);
    char args[512], path[256];
    snprintf(args, sizeof args, "plot ntk-scaling --format png --data-dir %s --out-dir %s", tmpdir, tmpdir);
    cr_assert_eq(program_run(args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/ntk-scaling.png", tmpdir);
    size_t n;
    char *png = program_slurp(path, &n);
    cr_assert(n > 10000 && !memcmp(png, "\x89PNG", 4), "ntk-scaling.png: %zu bytes", n);
    free(png);
}

Test(plot, ntk_scaling_draws_only_the_series_that_were_run)
{
    /* One series (the default sweep): the key has no entry for the reading that was not run
     * (once shown as "nan [nan, nan]"), and the x tics are the widths, 16 .. 256. The SVG
     * holds the labels as text. */
    ntk_fixture(0);
    char args[512], path[256];
    snprintf(args, sizeof args, "plot ntk-scaling --format svg --data-dir %s --out-dir %s", tmpdir, tmpdir);
    cr_assert_eq(program_run(args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/ntk-scaling.svg", tmpdir);
    char *svg = program_slurp(path, NULL);
    cr_assert_null(strstr(svg, "nan"), "a series with no data is in the key");
    cr_assert_null(strstr(svg, "(b)"), "reading b was not run but is in the key");
    cr_assert(strstr(svg, "β=0.5 (a): -0.50"), "the fitted series is not in the key");
    for (int N = 16; N <= 256; N *= 2) {
        char tic[32];
        snprintf(tic, sizeof tic, ">%d</", N);
        cr_assert(strstr(svg, tic), "no x tic at the width %d", N);
    }
    cr_assert_null(strstr(svg, ">24</"), "x tics between the widths");
    free(svg);
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

/* 1 if an executable called name is in a folder of $PATH. */
static int on_path(const char *name)
{
    const char *path = getenv("PATH");
    char dir[4096], file[4200];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(dir, sizeof dir, "%.*s", (int)(n < sizeof dir ? n : sizeof dir - 1), path);
        snprintf(file, sizeof file, "%s/%s", n ? dir : ".", name);
        if (access(file, X_OK) == 0)
            return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

/* 1 if the cairolatex file puts a label at a position that is not one: \makebox(0,0)[X] with X
 * other than letters of l, r, t, b, c (a label that starts with '[' without lead()). */
static int bad_position(const char *tex)
{
    static const char key[] = "\\makebox(0,0)[";
    for (const char *p = strstr(tex, key); p; p = strstr(p + 1, key)) {
        const char *q = p + strlen(key);
        size_t n = strspn(q, "lrtbc");
        if (q[n] != ']' || n == 0 || n > 2)
            return 1;
    }
    return 0;
}

Test(plot, tex_output_compiles_with_pdflatex)
{
    if (!on_path("pdflatex")) {
        cr_skip_test("pdflatex is not on the PATH: the tex figures are not compiled "
                     "(apt-get install texlive-latex-base)");
    }
    gated_fixture();
    ntk_fixture(1);
    write_file(tmpdir, "as-fig1.csv",
               "# fixture\npanel,scheme,start,step,h1,h2\n"
               "Wplus,residual,0,0,0,0.5\nWplus,residual,0,1,-0.1,0.6\n"
               "Wminus,vanilla,1,0,-0.5,-0.5\nWminus,vanilla,1,1,0.2,-0.3\n"
               "W0,residual,2,0,0.5,-0.75\nW0,residual,2,1,0.6,-0.7\n"
               "Wdiff,vanilla,0,0,0,0.5\nWdiff,vanilla,0,1,0.3,0.4\n");
    write_file(tmpdir, "cornn-contributions.csv",
               "# fixture\ncell,seed,lag,log10_contribution\n"
               "cornn,0,0,-2\ncornn,0,1,-2.5\ncornn,1,0,-2.1\ncornn,1,1,-2.4\n"
               "cornn_explicit,0,0,-2\ncornn_explicit,0,1,-2.2\n"
               "cornn_explicit,1,0,-1.9\ncornn_explicit,1,1,-2.3\n");
    static const char *const names[] = {"gated-share", "ntk-scaling", "as-fig1", "cornn-contributions"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char args[512], dir[256], path[512], cmd[1024];
        snprintf(args, sizeof args, "plot %s --format tex --data-dir %s --out-dir %s/fig", names[i],
                 tmpdir, tmpdir);
        cr_assert_eq(program_run(args), 0, "%s: %s", names[i], out);
        snprintf(dir, sizeof dir, "%s/fig/tex", tmpdir);
        snprintf(path, sizeof path, "%s/%s.tex", dir, names[i]);
        char *tex = program_slurp(path, NULL);
        cr_assert_not(bad_position(tex), "%s: a label that starts with '[' is read as a position "
                      "(use lead() from plots/style.gp)", names[i]);
        for (const unsigned char *c = (const unsigned char *)tex; *c; c++)
            cr_assert_lt(*c, 0x80, "%s.tex has a non-ASCII character (write symbols as LaTeX "
                         "math): ...%.40s", names[i], (const char *)c);
        free(tex);
        snprintf(path, sizeof path, "%s/doc-%s.tex", dir, names[i]);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fprintf(f, "\\documentclass{article}\n\\usepackage{graphicx,color}\n\\begin{document}\n"
                "\\input{%s.tex}\n\\end{document}\n", names[i]);
        fclose(f);
        snprintf(cmd, sizeof cmd, "cd '%s' && pdflatex -interaction=nonstopmode -halt-on-error "
                 "doc-%s.tex </dev/null >/dev/null 2>&1", dir, names[i]);
        int st = system(cmd);
        snprintf(path, sizeof path, "%s/doc-%s.log", dir, names[i]);
        char *log = program_slurp(path, NULL);
        const char *err = strstr(log, "\n!");
        cr_assert(st == 0 && !err, "%s: pdflatex failed: %.300s", names[i], err ? err : log);
        cr_assert_null(strstr(log, "Missing character"), "%s: a character the font lacks",
                       names[i]);
        free(log);
        snprintf(path, sizeof path, "%s/doc-%s.pdf", dir, names[i]);
        size_t n;
        char *pdf = program_slurp(path, &n);
        cr_assert(n > 1000 && !memcmp(pdf, "%PDF", 4), "%s: no PDF from pdflatex", names[i]);
        free(pdf);
    }
}
