/*
 * explore_run.c — the explorer's computations and plots. Each command builds the subcommand's
 * options from the session (explore_opts), runs the subcommand itself (cmd_spectrum,
 * cmd_region, ...) with its CSV going to the session's scratch folder, and draws that CSV:
 * in the terminal as text (gnuplot `set terminal dumb`) or sixel (`sixelgd`, when $TERM
 * contains "sixel" or ODERNN_SIXEL=1), and on `plot` in a window (when $DISPLAY is set and
 * gnuplot has an interactive terminal) or as a PNG. Region maps are drawn in the terminal as a
 * character map (gnuplot's dumb terminal has no images).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "explore.h"

int explore_session_begin(explore_state *s)
{
    snprintf(s->tmpdir, sizeof s->tmpdir, "/tmp/odernn-explore-XXXXXX");
    return mkdtemp(s->tmpdir) ? 0 : -1;
}

void explore_session_end(explore_state *s)
{
    static const char *const files[] = {"spectrum.csv", "region.csv", "gradnorm.csv",
                                        "lyapunov.csv", "energy.csv", "converge.csv",
                                        "converge.txt", "plot.png", NULL};
    char path[600];
    for (const char *const *f = files; *f; f++) {
        snprintf(path, sizeof path, "%s/%s", s->tmpdir, *f);
        remove(path);
    }
    rmdir(s->tmpdir);
}

/* ---- gnuplot ----------------------------------------------------------------------------------- */

/* The body of the figure of each kind; %1$s is the CSV file. */
static const struct {
    const char *kind, *body;
} bodies[] = {
    {"spectrum",
     "set size ratio -1\nset xtics 0.5\nset ytics 0.5\nset xlabel 'Re mu'\nset ylabel 'Im mu'\n"
     "set title 'eigenvalues mu of the step Jacobian ds_n/ds_{n-1} (circle: |mu| = 1)' noenhanced\n"
     "plot '%1$s' using (strcol(3) eq 'step' ? $5 : NaN):6 with points pt 7 notitle, "
     "[0:2*pi] '+' using (cos($1)):(sin($1)) with lines notitle\n"},
    {"gradnorm",
     "set logscale x\nset xlabel 'T (steps)'\nset ylabel 'log10 ||ds_T/ds_0||'\n"
     "set title 'gradient norm against the horizon' noenhanced\n"
     "plot '%1$s' using 1:4 with lines notitle\n"},
    {"lyapunov",
     "set xlabel 'index i'\nset ylabel 'exponent per step'\n"
     "set title 'finite-time Lyapunov exponents of each time block' noenhanced\n"
     "plot '%1$s' using 3:4 with points pt 7 notitle\n"},
    {"energy",
     "set logscale y\nset xlabel 't'\nset ylabel 'E'\nset key bottom right\n"
     "set title 'energy E_n and its bound' noenhanced\n"
     "plot '%1$s' using 2:3 with lines title 'energy', '' using 2:4 with lines dt 2 title 'bound'\n"},
    {"converge",
     "set logscale xy\nset xlabel 'dt'\nset ylabel 'error'\n"
     "set title 'global error against dt' noenhanced\n"
     "plot '%1$s' using 1:2 with linespoints pt 7 notitle\n"},
    {"region",
     "set xlabel 'x'\nset ylabel 'y'\nset title 'region map' noenhanced\n"
     "plot '%1$s' using 1:2:($4 == $4 && abs($4) < 1e300 ? $4 : NaN) with image notitle\n"},
};

static const char *body_of(const char *kind)
{
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        if (!strcmp(bodies[i].kind, kind))
            return bodies[i].body;
    return NULL;
}

/* Runs gnuplot on the script (terminal setup + body); its output (dumb, sixel) goes to our
 * stdout; DISPLAY is unset unless a window is wanted. Returns gnuplot's exit status. */
static int gnuplot_run(const char *setup, const char *kind, const char *csv, int window)
{
    const char *body = body_of(kind);
    if (!body)
        return -1;
    char cmd[64];
    snprintf(cmd, sizeof cmd, "%s%s 2>/dev/null", window ? "" : "DISPLAY= ",
             window ? "gnuplot -persist" : "gnuplot");
    fflush(stdout);
    FILE *p = popen(cmd, "w");
    if (!p)
        return -1;
    fprintf(p, "set datafile separator comma\nset datafile missing NaN\n%s\n", setup);
    fprintf(p, body, csv);
    int st = pclose(p);
    return st;
}

static int sixel_wanted(void)
{
    const char *t = getenv("TERM"), *e = getenv("ODERNN_SIXEL");
    return (e && !strcmp(e, "1")) || (t && strstr(t, "sixel"));
}

/* The result in the terminal. */
static void show(const char *kind, const char *csv)
{
    const char *off = getenv("ODERNN_PLOTS");
    if (off && !strcmp(off, "0"))
        return;
    char setup[128];
    if (sixel_wanted())
        snprintf(setup, sizeof setup, "set terminal sixelgd size 640,400 font 'Sans,9'\nset output");
    else {
        const char *cols = getenv("COLUMNS");
        int w = cols ? atoi(cols) : 0;
        snprintf(setup, sizeof setup, "set terminal dumb size %d,22\nset output", w >= 40 && w <= 300 ? w - 1 : 79);
    }
    if (gnuplot_run(setup, kind, csv, 0) != 0)
        fprintf(stderr, "explore: (no terminal plot: gnuplot is missing or failed)\n");
}

/* ---- region as characters ---------------------------------------------------------------------- */

/* '.' below the metric's threshold (stable), '+' above, '#' +inf (blow-up), '-' -inf, '?' nan. */
static void region_chars(const char *csv, const char *metric)
{
    FILE *f = fopen(csv, "r");
    if (!f)
        return;
    char line[512], xname[64] = "x", yname[64] = "y";
    size_t cap = 1024, n = 0;
    double *x = malloc(cap * sizeof(double)), *y = malloc(cap * sizeof(double)),
           *v = malloc(cap * sizeof(double));
    while (x && y && v && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "# x: ", 5))
            sscanf(line + 5, "%63s", xname);
        if (!strncmp(line, "# y: ", 5))
            sscanf(line + 5, "%63s", yname);
        if (line[0] == '#' || !strncmp(line, "x,", 2))
            continue;
        if (n == cap) {
            cap *= 2;
            double *a = realloc(x, cap * sizeof(double)), *b = realloc(y, cap * sizeof(double)),
                   *c = realloc(v, cap * sizeof(double));
            x = a ? a : x, y = b ? b : y, v = c ? c : v;
            if (!a || !b || !c)
                break;
        }
        char *p = line, *q;
        x[n] = strtod(p, &q);
        y[n] = strtod(q + 1, &q);
        q = strchr(q + 1, ',');
        v[n] = q ? strtod(q + 1, NULL) : NAN;
        n++;
    }
    fclose(f);
    /* rows of the file: x outer, y inner */
    size_t ny = 1;
    while (ny < n && x[ny] == x[0])
        ny++;
    const size_t nx = ny ? n / ny : 0;
    const double thr = !strcmp(metric, "energy-ratio") ? 1.0 : 0.0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
    printf("%s over (%s, %s): '.' <= %g, '+' > %g, '#' inf (blow-up), '-' -inf, '?' undefined\n",
           metric, xname, yname, thr, thr);
    for (size_t jj = 0; jj < ny && nx; jj++) {
        const size_t j = ny - 1 - jj; /* largest y on top */
        printf("%10.4g |", y[j]);
        for (size_t i = 0; i < nx; i++) {
            const double w = v[i * ny + j];
            putchar(isnan(w) ? '?' : isinf(w) ? (w > 0 ? '#' : '-') : w > thr ? '+' : '.');
        }
        putchar('\n');
    }
    if (nx)
        printf("%10s  %-*.4g%*.4g  (%s)\n", "", (int)(nx / 2), x[0], (int)(nx - nx / 2), x[(nx - 1) * ny], xname);
    if (isfinite(lo))
        printf("finite values in [%.6g, %.6g]\n", lo, hi);
    free(x), free(y), free(v);
}

/* ---- commands ---------------------------------------------------------------------------------- */

static int parse_T(const char *cmd, const char *v, size_t *T)
{
    char *end;
    errno = 0;
    unsigned long long x = (v && *v != '-') ? strtoull(v, &end, 10) : 0;
    if (!v || *v == '-' || *end || errno || x < 2 || x > 1000000) {
        explore_bad("'%s [T]': T must be an integer in 2..1000000; got '%s'", cmd, v ? v : "");
        return 0;
    }
    *T = (size_t)x;
    return 1;
}

/* Runs fn with its stdout captured in path, then echoes it. */
static int captured(int (*fn)(cli_opts *), cli_opts *o, const char *path)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (saved < 0 || fd < 0) {
        if (saved >= 0)
            close(saved);
        if (fd >= 0)
            close(fd);
        return fn(o);
    }
    dup2(fd, STDOUT_FILENO);
    close(fd);
    int rc = fn(o);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    FILE *f = fopen(path, "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f))
        fputs(line, stdout);
    if (f)
        fclose(f);
    return rc;
}

/* converge's table (dt, error rows) as a CSV for the plot. */
static void converge_csv(const char *txt, const char *csv)
{
    FILE *in = fopen(txt, "r"), *out = fopen(csv, "w");
    char line[1024];
    if (in && out) {
        fprintf(out, "dt,error\n");
        while (fgets(line, sizeof line, in)) {
            double dt, err;
            char rest[64];
            if (line[0] != '#' && sscanf(line, "%lf %lf %63s", &dt, &err, rest) == 3)
                fprintf(out, "%.17g,%.17g\n", dt, err);
        }
    }
    if (in)
        fclose(in);
    if (out)
        fclose(out);
}

int explore_compute(explore_state *s, const char *cmd, size_t nargs, const char *const *args)
{
    cli_opts o;
    explore_opts(s, &o);
    char csv[512];
    snprintf(csv, sizeof csv, "%s/%s.csv", s->tmpdir, cmd);
    o.out = csv;
    int rc;
    s->last_kind[0] = '\0';
    if (!strcmp(cmd, "spectrum")) {
        rc = cmd_spectrum(&o);
    } else if (!strcmp(cmd, "region")) {
        if (nargs < 2) {
            explore_bad("'region X=a:b:n Y=a:b:n [METRIC]' needs two axes, e.g. region eps=0.01:1:21 "
                        "gamma=0:2:21 grad-growth (metrics: %s)", rnn_region_metric_names());
            return EXIT_USAGE;
        }
        o.x_spec = args[0];
        o.y_spec = args[1];
        /* a hyperparameter on an axis takes the grid's values: drop its setting */
        size_t k = 0;
        for (size_t i = 0; i < o.nsets; i++) {
            size_t nl = strcspn(o.sets[i], "=");
            int on_axis = 0;
            for (int a = 0; a < 2; a++)
                on_axis |= !strncmp(args[a], o.sets[i], nl) && args[a][nl] == '=';
            if (!on_axis)
                o.sets[k++] = o.sets[i];
        }
        o.nsets = k;
        if (nargs > 2)
            o.metric = args[2];
        rc = cmd_region(&o);
        if (!rc)
            region_chars(csv, o.metric);
    } else if (!strcmp(cmd, "gradnorm")) {
        if (nargs && !parse_T(cmd, args[0], &o.steps))
            return EXIT_USAGE;
        rc = cmd_gradnorm(&o);
    } else if (!strcmp(cmd, "lyapunov")) {
        o.steps = 10000;
        if (nargs && !parse_T(cmd, args[0], &o.steps))
            return EXIT_USAGE;
        rc = cmd_lyapunov(&o);
    } else if (!strcmp(cmd, "energy")) {
        rc = cmd_energy(&o);
    } else { /* converge */
        char txt[512];
        snprintf(txt, sizeof txt, "%s/converge.txt", s->tmpdir);
        o.out = NULL;
        rc = captured(cmd_converge, &o, txt);
        if (!rc)
            converge_csv(txt, csv);
    }
    if (rc)
        return rc;
    snprintf(s->last_kind, sizeof s->last_kind, "%s", cmd);
    snprintf(s->last_csv, sizeof s->last_csv, "%s", csv);
    if (strcmp(cmd, "region"))
        show(cmd, csv);
    fflush(stdout);
    return EXIT_OK;
}

/* An interactive gnuplot terminal (qt, wxt, x11) exists. */
static const char *window_terminal(void)
{
    static const char *const names[] = {"qt", "wxt", "x11", NULL};
    FILE *p = popen("gnuplot -e 'set terminal' 2>&1", "r");
    char line[256];
    const char *found = NULL;
    while (p && fgets(line, sizeof line, p)) {
        char w[64] = "";
        sscanf(line, "%63s", w);
        for (const char *const *n = names; *n && !found; n++)
            if (!strcmp(w, *n))
                found = *n;
    }
    if (p)
        pclose(p);
    return found;
}

int explore_plot_last(explore_state *s, const char *file)
{
    if (!s->last_kind[0]) {
        explore_bad("nothing to plot yet: run spectrum, region, gradnorm, lyapunov, energy or "
                    "converge first");
        return EXIT_USAGE;
    }
    const char *disp = getenv("DISPLAY");
    const char *term = disp && disp[0] && !file ? window_terminal() : NULL;
    char setup[1200];
    if (term) {
        snprintf(setup, sizeof setup, "set terminal %s", term);
        if (gnuplot_run(setup, s->last_kind, s->last_csv, 1) == 0) {
            printf("opened a %s window\n", term);
            return EXIT_OK;
        }
    }
    char path[512], tmp[600];
    snprintf(path, sizeof path, "%s", file ? file : "");
    if (!file)
        snprintf(path, sizeof path, "explore-%s.png", s->last_kind);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    snprintf(setup, sizeof setup, "set terminal pngcairo size 900,600 font 'Sans,10'\nset output '%s'", tmp);
    if (gnuplot_run(setup, s->last_kind, s->last_csv, 0) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        explore_bad("cannot write '%s' (gnuplot failed or the folder is not writable)", path);
        return EXIT_USAGE;
    }
    printf("wrote %s\n", path);
    return EXIT_OK;
}
