/*
 * cmd_plot.c — `odernn plot NAME|all|list`: draws the figures of plots/ (one gnuplot script per
 * figure, the shared style plots/style.gp) from the CSV files the experiments wrote.
 *
 *   gnuplot -e "fmt='F'; out='NAME.EXT'; datadir='D'; plotdir='P'" P/NAME.gp
 *
 * runs in a fresh folder OUT/.plot-XXXXXX (so that cairolatex's .tex refers to its .pdf by the
 * bare name), with stdin from /dev/null and DISPLAY unset (nothing waits for a window); the
 * files it made are then renamed into OUT (tex: OUT/tex/NAME.tex and OUT/tex/NAME.pdf), so a
 * figure appears whole or not at all. The scripts read data files only; they never run odernn.
 *
 * Missing data: the figure is not drawn and the message names the file and the command that
 * makes it (exit 2). With `all`, the other figures are still drawn; an optional figure (whose
 * data come from a command this build may not have, e.g. `odernn ntk`) is skipped with a note
 * and does not change the exit status. --missing prints, one per line, the odernn arguments
 * that make the missing data (the Makefile's `plots` target runs them).
 *
 * The scripts are found in $ODERNN_PLOTS, else ../plots next to the program (build/odernn ->
 * plots/), else ./plots; gnuplot is $GNUPLOT, else gnuplot on the PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>
#include "cli.h"

#define MAX_FILES 3

typedef struct {
    const char *name;                /* figure and script name: plots/<name>.gp */
    const char *title;
    const char *files[MAX_FILES + 1];/* data files in the data folder, NULL-terminated */
    const char *maker;               /* odernn arguments that make them (before --out-dir) */
    int optional;                    /* skipped with a note by `all` when data are missing */
} figure_def;

static const figure_def figures[] = {
    {"convergence", "global error against dt with dt^p lines", {"convergence.csv"},
     "experiment convergence", 0},
    {"spectra", "dt lambda in the stability region of the cell's method",
     {"spectra.csv", "stability-regions.csv"}, "experiment spectra", 0},
    {"gradnorm", "||ds_T/ds_0|| against T for five cells", {"gradnorm.csv"}, "experiment gradnorm", 0},
    {"lyapunov", "sorted Lyapunov spectra with 95% intervals", {"lyap-spectra.csv"},
     "experiment lyap-spectra", 0},
    {"lyap-dt", "discrete against continuous Lyapunov exponents", {"lyap-dt.csv"},
     "experiment lyap-dt", 0},
    {"energy", "coRNN energy with its bound, both schemes", {"energy.csv"}, "experiment energy", 0},
    {"antisym-region", "AntisymmetricRNN (eps, gamma) map with the predicted boundary",
     {"antisym-region.csv", "antisym-boundary.csv"}, "experiment antisym-region", 0},
    {"as-fig1", "[AS] Fig. 1 panels", {"as-fig1.csv"}, "experiment as-fig1", 0},
    {"cornn-contributions", "[CO] Prop. 3.3 step contributions", {"cornn-contributions.csv"},
     "experiment cornn-contributions", 0},
    {"gated-share", "share of unstable Jacobians of antisym_gated", {"gated-share.csv"},
     "experiment gated-share", 0},
    {"ntk-scaling", "kernel-limit scaling, log-log with fitted and predicted slopes",
     {"ntk-sweep.csv", "ntk-fits.csv"}, "ntk", 1},
};
#define N_FIGURES (sizeof figures / sizeof figures[0])

static const char *const formats[] = {"pdf", "png", "svg", "tex"};
#define N_FORMATS (sizeof formats / sizeof formats[0])

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The folder of the scripts (absolute), or an empty string. */
static void find_plotdir(char *dir, size_t len)
{
    char buf[PATH_MAX], probe[PATH_MAX + 32];
    const char *env = getenv("ODERNN_PLOTS");
    dir[0] = '\0';
    if (env && env[0]) {
        snprintf(probe, sizeof probe, "%s/style.gp", env);
        if (file_exists(probe) && realpath(env, buf))
            snprintf(dir, len, "%s", buf);
        return;
    }
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = '\0';
        char *slash = strrchr(buf, '/');
        if (slash) {
            *slash = '\0';
            snprintf(probe, sizeof probe, "%s/../plots/style.gp", buf);
            char real[PATH_MAX];
            if (file_exists(probe) && realpath(probe, real)) {
                *strrchr(real, '/') = '\0';
                snprintf(dir, len, "%s", real);
                return;
            }
        }
    }
    if (file_exists("plots/style.gp") && realpath("plots", buf))
        snprintf(dir, len, "%s", buf);
}

static const figure_def *find_figure(const char *name)
{
    for (size_t i = 0; i < N_FIGURES; i++)
        if (!strcmp(figures[i].name, name))
            return &figures[i];
    return NULL;
}

static const char *figure_names(void)
{
    static char names[512];
    if (!names[0]) {
        size_t k = 0;
        for (size_t i = 0; i < N_FIGURES && k < sizeof names; i++)
            k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "", figures[i].name);
    }
    return names;
}

/* The first data file of the figure that is missing, or NULL. */
static const char *missing_file(const figure_def *f, const char *data_dir)
{
    char path[PATH_MAX];
    for (const char *const *p = f->files; *p; p++) {
        snprintf(path, sizeof path, "%s/%s", data_dir, *p);
        if (!file_exists(path))
            return *p;
    }
    return NULL;
}

/* The maker's first word is a command of this build (e.g. `odernn ntk` may not exist yet). */
static int maker_available(const figure_def *f)
{
    char word[64];
    snprintf(word, sizeof word, "%s", f->maker);
    word[strcspn(word, " ")] = '\0';
    return cli_has_command(word);
}

static int list(void)
{
    for (size_t i = 0; i < N_FIGURES; i++) {
        printf("%-20s %s\n%-20s   data:", figures[i].name, figures[i].title, "");
        for (const char *const *p = figures[i].files; *p; p++)
            printf(" %s", *p);
        printf(" (odernn %s)%s\n", figures[i].maker, figures[i].optional ? " [optional]" : "");
    }
    return EXIT_OK;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[PATH_MAX + 288];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                remove(path);
            }
        closedir(d);
    }
    rmdir(dir);
}

/* Runs gnuplot on one figure in tmp; 0 on success, else prints gnuplot's messages. */
static int run_gnuplot(const figure_def *f, const char *fmt, const char *tmp, const char *data_dir,
                       const char *plotdir)
{
    char vars[4 * PATH_MAX], script[PATH_MAX + 64], log[PATH_MAX + 48];
    const char *ext = !strcmp(fmt, "tex") ? "tex" : fmt;
    snprintf(vars, sizeof vars, "fmt='%s'; out='%s.%s'; datadir='%s'; plotdir='%s'", fmt, f->name,
             ext, data_dir, plotdir);
    snprintf(script, sizeof script, "%s/%s.gp", plotdir, f->name);
    snprintf(log, sizeof log, "%s/gnuplot.log", tmp);
    const char *gp = getenv("GNUPLOT") && getenv("GNUPLOT")[0] ? getenv("GNUPLOT") : "gnuplot";
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return cli_error(EXIT_NUMERIC, "plot %s: cannot start gnuplot: %s", f->name, strerror(errno));
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY), err = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || err < 0 || chdir(tmp) != 0)
            _exit(126);
        dup2(in, STDIN_FILENO);
        dup2(err, STDOUT_FILENO);
        dup2(err, STDERR_FILENO);
        unsetenv("DISPLAY");
        execlp(gp, gp, "-e", vars, script, (char *)NULL);
        fprintf(stderr, "cannot run '%s': %s\n", gp, strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    char out[PATH_MAX + 64];
    snprintf(out, sizeof out, "%s/%s.%s", tmp, f->name, ext);
    struct stat sb;
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 && stat(out, &sb) == 0 && sb.st_size > 0;
    if (ok)
        return EXIT_OK;
    FILE *lf = fopen(log, "r");
    char line[1024];
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    cli_error(EXIT_USAGE, "plot %s: gnuplot failed (%s)%s", f->name,
              code == 127 ? "gnuplot not found: install gnuplot (Debian: gnuplot-nox) or set $GNUPLOT"
                          : "its messages follow", "");
    while (lf && fgets(line, sizeof line, lf))
        fprintf(stderr, "  %s", line);
    if (lf)
        fclose(lf);
    return EXIT_USAGE;
}

/* Moves the figure's files from tmp into dest (atomic per file). */
static int commit(const figure_def *f, const char *fmt, const char *tmp, const char *dest,
                  char *shown, size_t len)
{
    const char *exts[2] = {!strcmp(fmt, "tex") ? "tex" : fmt, !strcmp(fmt, "tex") ? "pdf" : NULL};
    shown[0] = '\0';
    size_t k = 0;
    for (int i = 0; i < 2 && exts[i]; i++) {
        char from[PATH_MAX + 96], to[PATH_MAX + 96];
        snprintf(from, sizeof from, "%s/%s.%s", tmp, f->name, exts[i]);
        snprintf(to, sizeof to, "%s/%s.%s", dest, f->name, exts[i]);
        if (rename(from, to) != 0)
            return cli_error(EXIT_USAGE, "plot %s: cannot write '%s': %s", f->name, to, strerror(errno));
        if (k < len)
            k += (size_t)snprintf(shown + k, len - k, "%s%s", k ? " " : "", to);
    }
    return EXIT_OK;
}

static int draw(const figure_def *f, const char *fmt, const char *data_abs, const char *dest,
                const char *plotdir)
{
    char msg[1024], tmp[PATH_MAX + 32];
    if (rnn_make_dirs(dest, msg, sizeof msg) != RNN_OK)
        return cli_error(EXIT_USAGE, "%s (choose a writable folder with --out-dir)", msg);
    snprintf(tmp, sizeof tmp, "%s/.plot-XXXXXX", dest);
    if (!mkdtemp(tmp))
        return cli_error(EXIT_USAGE, "cannot write in '%s': %s", dest, strerror(errno));
    int rc = run_gnuplot(f, fmt, tmp, data_abs, plotdir);
    char shown[2 * PATH_MAX + 256];
    if (!rc)
        rc = commit(f, fmt, tmp, dest, shown, sizeof shown);
    remove_tree(tmp);
    if (!rc) {
        printf("%-20s %s\n", f->name, shown);
        fflush(stdout);
    }
    return rc;
}

int cmd_plot(cli_opts *o)
{
    const char *name = o->cell;
    if (!name)
        return cli_error(EXIT_USAGE, "'odernn plot' needs a figure: list, all, or one of: %s",
                         figure_names());
    if (!strcmp(name, "list"))
        return list();
    const figure_def *one = NULL;
    if (strcmp(name, "all") && !(one = find_figure(name)))
        return cli_error(EXIT_USAGE, "unknown figure '%s' (allowed: list, all, %s)", name,
                         figure_names());
    const char *fmt = o->format ? o->format : "pdf";
    size_t fi = 0;
    while (fi < N_FORMATS && strcmp(formats[fi], fmt))
        fi++;
    if (fi == N_FORMATS)
        return cli_error(EXIT_USAGE, "unknown --format '%s' (allowed: pdf, png, svg, tex)", fmt);
    const char *data_dir = o->data_dir ? o->data_dir : "results";
    const size_t first = one ? (size_t)(one - figures) : 0, last = one ? first + 1 : N_FIGURES;

    if (o->missing) { /* the commands that make the missing data, each once */
        for (size_t i = first; i < last; i++) {
            int seen = 0;
            for (size_t j = first; j < i; j++)
                seen |= !strcmp(figures[j].maker, figures[i].maker) && missing_file(&figures[j], data_dir);
            if (!seen && missing_file(&figures[i], data_dir))
                printf("%s --out-dir %s\n", figures[i].maker, data_dir);
        }
        return EXIT_OK;
    }

    char plotdir[PATH_MAX], data_abs[PATH_MAX], dest[PATH_MAX + 16];
    find_plotdir(plotdir, sizeof plotdir);
    if (!plotdir[0])
        return cli_error(EXIT_USAGE, "cannot find the gnuplot scripts (plots/style.gp): set "
                         "ODERNN_PLOTS to the project's plots folder");
    int status = EXIT_OK, have_data_dir = realpath(data_dir, data_abs) != NULL;
    const char *out_dir = o->out_dir ? o->out_dir : "results/figures";
    snprintf(dest, sizeof dest, "%s%s", out_dir, !strcmp(fmt, "tex") ? "/tex" : "");
    for (size_t i = first; i < last; i++) {
        const figure_def *f = &figures[i];
        const char *miss = have_data_dir ? missing_file(f, data_dir) : f->files[0];
        if (miss) {
            if (f->optional && !one && !maker_available(f)) {
                fprintf(stderr, "odernn: note: skipped figure %s: %s/%s is missing and 'odernn %s' "
                        "is not part of this build\n", f->name, data_dir, miss, f->maker);
                continue;
            }
            status = cli_error(EXIT_USAGE, "figure %s needs %s/%s, which is missing; make it "
                               "with: odernn %s --out-dir %s", f->name, data_dir, miss, f->maker,
                               data_dir);
            continue;
        }
        int rc = draw(f, fmt, data_abs, dest, plotdir);
        if (rc)
            status = rc;
    }
    return status;
}
