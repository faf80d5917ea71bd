/*
 * explore.c — `odernn explore`: the interactive stability explorer. A REPL (GNU readline, with
 * history and tab completion) over one cell and its settings; each command runs the same code
 * as the matching subcommand (cmd_spectrum, cmd_region, cmd_gradnorm, cmd_lyapunov,
 * cmd_energy, cmd_converge) on a cli_opts built from the settings, prints its numbers and a
 * plot as text (gnuplot's dumb terminal) or sixel (explore_plot.c).
 *
 * With stdin not a terminal (`odernn explore < script`) the same commands are read line by
 * line without prompt or readline, so sessions are reproducible and testable. A bad line gets a
 * one-line message saying what is allowed and the session goes on; the exit status is 2 if any
 * line was bad, else 3 if a computation failed numerically, else 0.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <readline/readline.h>
#include <readline/history.h>
#include "explore.h"

const char explore_help[] =
    "odernn explore [< SCRIPT]\n\n"
    "An interactive explorer of one cell's stability. Commands (one per line; '#' starts a\n"
    "comment):\n"
    "  cell NAME                  choose the cell (any name of 'odernn list', rk:T:C, ms:M:C)\n"
    "  set NAME VALUE             a hyperparameter of the cell, or hidden (m), input-dim,\n"
    "                             seed, input (sines|hold|linear|zero), s0 (random|zero), steps\n"
    "  show                       the settings\n"
    "  spectrum                   eigenvalues of the step and ODE Jacobians at s0\n"
    "  region X=a:b:n Y=a:b:n [METRIC]\n"
    "                             a stability map over two hyperparameters (METRIC: ftle-max\n"
    "                             (default), grad-growth, rk-margin, energy-ratio)\n"
    "  gradnorm [T]               ||ds_T/ds_0|| against T (default T = steps)\n"
    "  lyapunov [T]               the Lyapunov spectrum over T steps (default 10000)\n"
    "  energy                     coRNN energy and its bound\n"
    "  converge                   error against dt and the fitted order\n"
    "  plot [FILE]                the last result as a figure: a window when $DISPLAY is set and\n"
    "                             gnuplot has an interactive terminal, else a PNG (FILE, default\n"
    "                             explore-<command>.png), whose path is printed\n"
    "  save FILE                  the session's settings as a script explore can replay\n"
    "  help, quit\n\n"
    "Plots in the terminal: text (gnuplot dumb), or sixel when $TERM contains 'sixel' or\n"
    "ODERNN_SIXEL=1; ODERNN_PLOTS=0 turns them off. History: $ODERNN_HISTORY, else\n"
    "~/.odernn_history. Tab completes commands, cell names and setting names.\n\n"
    "Non-interactive: with stdin not a terminal the commands are read from it without prompts.\n"
    "A bad command or value prints one line saying what is allowed and the session continues.\n"
    "Exit status: 0; 2 if any line was bad; 3 if a computation failed numerically (and no line\n"
    "was bad).\n";

/* ---- messages ----------------------------------------------------------------------------- */

static int bad_lines, failed_lines;
static size_t line_no;
static int interactive;

void explore_bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    if (interactive)
        fputs("explore: ", stderr);
    else
        fprintf(stderr, "explore: line %zu: ", line_no);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    bad_lines++;
}

/* ---- settings ------------------------------------------------------------------------------ */

static const char *const commands[] = {"cell", "set", "show", "spectrum", "region", "gradnorm",
                                       "lyapunov", "energy", "converge", "plot", "save", "help",
                                       "quit", "exit", NULL};
static const char *const settings[] = {"hidden", "input-dim", "seed", "input", "s0", "steps", NULL};
static const char *const inputs[] = {"sines", "hold", "linear", "zero", NULL};

static explore_state S;

static void state_init(explore_state *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->cell, sizeof s->cell, "tanh");
    s->m = 8;
    s->d = 1;
    s->seed = 1;
    s->input = RNN_INPUT_SINES;
    s->s0_random = 1;
    s->steps = 1000;
}

void explore_opts(const explore_state *s, cli_opts *o)
{
    cli_opts_default(o);
    o->cell = s->cell;
    o->m = s->m;
    o->d = s->d;
    o->m_given = o->d_given = 1;
    o->input = s->input;
    o->steps = s->steps;
    o->seed = s->seed;
    o->s0_random = s->s0_random;
    for (size_t i = 0; i < s->nsets; i++)
        o->sets[i] = s->sets[i];
    o->nsets = s->nsets;
}

/* A probe of the settings: the cell builds and every assignment is allowed. */
static int settings_ok(const explore_state *s, char *msg, size_t len)
{
    const rnn_cell_type *t = rnn_cell_type_find(s->cell, msg, len);
    if (!t)
        return 0;
    rnn_cell *c = rnn_cell_alloc(t, s->m, s->d, s->seed);
    if (!c) {
        snprintf(msg, len, "cannot make cell '%s' with hidden %zu, input-dim %zu", s->cell, s->m, s->d);
        return 0;
    }
    const char *as[CLI_MAX_SETS];
    for (size_t i = 0; i < s->nsets; i++)
        as[i] = s->sets[i];
    int rc = rnn_cell_set_assignments(c, s->nsets, as, msg, len);
    rnn_cell_free(c);
    return rc == RNN_OK;
}

static void hyper_names(const char *cell, char *buf, size_t len)
{
    char msg[256];
    const rnn_cell_type *t = rnn_cell_type_find(cell, msg, sizeof msg);
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; t && i < t->n_hypers && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "", t->hypers[i].name);
}

static int parse_count(const char *v, size_t lo, size_t hi, size_t *out)
{
    char *end;
    errno = 0;
    if (!v || *v == '-' || !*v)
        return 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || errno || x < lo || x > hi)
        return 0;
    *out = (size_t)x;
    return 1;
}

static void cmd_cell(const char *name)
{
    char msg[1024];
    if (!name) {
        explore_bad("'cell' needs a name (one of: %s; or rk:<tableau>:<cell>, ms:<method>:<cell>)",
                    rnn_registry_names());
        return;
    }
    explore_state t = S;
    snprintf(t.cell, sizeof t.cell, "%s", name);
    t.nsets = 0; /* hyperparameters belong to the previous cell */
    if (!settings_ok(&t, msg, sizeof msg)) {
        explore_bad("%s", msg);
        return;
    }
    S = t;
    S.last_kind[0] = '\0';
    char names[512];
    hyper_names(S.cell, names, sizeof names);
    printf("cell %s (hyperparameters: %s)\n", S.cell, names[0] ? names : "none");
}

static void cmd_set(const char *name, const char *value)
{
    char msg[1024];
    if (!name || !value) {
        char names[512];
        hyper_names(S.cell, names, sizeof names);
        explore_bad("'set' needs NAME VALUE; NAME is hidden, input-dim, seed, input, s0, steps or a "
                    "hyperparameter of %s (%s)", S.cell, names);
        return;
    }
    explore_state t = S;
    size_t v;
    if (!strcmp(name, "hidden")) {
        if (!parse_count(value, 1, 1024, &v)) {
            explore_bad("hidden must be an integer in 1..1024; got '%s'", value);
            return;
        }
        t.m = v;
    } else if (!strcmp(name, "input-dim")) {
        if (!parse_count(value, 1, 256, &v)) {
            explore_bad("input-dim must be an integer in 1..256; got '%s'", value);
            return;
        }
        t.d = v;
    } else if (!strcmp(name, "seed")) {
        if (!parse_count(value, 0, 4294967295u, &v)) {
            explore_bad("seed must be an integer in 0..4294967295; got '%s'", value);
            return;
        }
        t.seed = (unsigned long)v;
    } else if (!strcmp(name, "steps")) {
        if (!parse_count(value, 2, 1000000, &v)) {
            explore_bad("steps must be an integer in 2..1000000; got '%s'", value);
            return;
        }
        t.steps = v;
    } else if (!strcmp(name, "input")) {
        int k = rnn_input_kind_parse(value);
        if (k < 0) {
            explore_bad("unknown input '%s' (allowed: sines, hold, linear, zero)", value);
            return;
        }
        t.input = k;
    } else if (!strcmp(name, "s0")) {
        if (strcmp(value, "random") && strcmp(value, "zero")) {
            explore_bad("unknown s0 '%s' (allowed: random, zero)", value);
            return;
        }
        t.s0_random = !strcmp(value, "random");
    } else {
        char names[512];
        hyper_names(S.cell, names, sizeof names);
        int known = 0;
        const rnn_cell_type *ty = rnn_cell_type_find(S.cell, msg, sizeof msg);
        for (size_t i = 0; ty && i < ty->n_hypers; i++)
            known |= !strcmp(ty->hypers[i].name, name);
        if (!known) {
            explore_bad("unknown setting '%s' (allowed: hidden, input-dim, seed, input, s0, steps, "
                        "or a hyperparameter of %s: %s)", name, S.cell, names);
            return;
        }
        char *end;
        errno = 0;
        double x = strtod(value, &end);
        (void)x;
        if (*end || end == value || errno) {
            explore_bad("%s needs a number; got '%s'", name, value);
            return;
        }
        size_t k = 0, nl = strlen(name);
        while (k < t.nsets && !(strncmp(t.sets[k], name, nl) == 0 && t.sets[k][nl] == '='))
            k++;
        if (k == CLI_MAX_SETS) {
            explore_bad("at most %d hyperparameter settings", CLI_MAX_SETS);
            return;
        }
        snprintf(t.sets[k], sizeof t.sets[k], "%s=%s", name, value);
        if (k == t.nsets)
            t.nsets++;
    }
    if (!settings_ok(&t, msg, sizeof msg)) {
        explore_bad("%s", msg);
        return;
    }
    S = t;
    printf("%s = %s\n", name, value);
}

static void cmd_show(void)
{
    char msg[256];
    const rnn_cell_type *t = rnn_cell_type_find(S.cell, msg, sizeof msg);
    rnn_cell *c = t ? rnn_cell_alloc(t, S.m, S.d, S.seed) : NULL;
    const char *as[CLI_MAX_SETS];
    for (size_t i = 0; i < S.nsets; i++)
        as[i] = S.sets[i];
    if (c)
        rnn_cell_set_assignments(c, S.nsets, as, msg, sizeof msg);
    printf("cell %s: hidden %zu, input-dim %zu, seed %lu, input %s, s0 %s, steps %zu\n", S.cell,
           S.m, S.d, S.seed, rnn_input_kind_name((rnn_input_kind)S.input),
           S.s0_random ? "random" : "zero", S.steps);
    for (size_t i = 0; c && i < c->n_hypers; i++)
        printf("  %-10s %.10g%s\n", c->type->hypers[i].name, c->hyper[i],
               c->type->hypers[i].flags & RNN_HYPER_STEP ? "  (step size)" : "");
    rnn_cell_free(c);
}

static int cmd_save(const char *path)
{
    if (!path) {
        explore_bad("'save' needs a file name");
        return 0;
    }
    char text[8192], msg[512];
    size_t k = 0;
    k += (size_t)snprintf(text + k, sizeof text - k,
                          "# odernn explore session (replay: odernn explore < %s)\ncell %s\n"
                          "set hidden %zu\nset input-dim %zu\nset seed %lu\nset input %s\n"
                          "set s0 %s\nset steps %zu\n", path, S.cell, S.m, S.d, S.seed,
                          rnn_input_kind_name((rnn_input_kind)S.input),
                          S.s0_random ? "random" : "zero", S.steps);
    for (size_t i = 0; i < S.nsets && k < sizeof text; i++) {
        const char *eq = strchr(S.sets[i], '=');
        k += (size_t)snprintf(text + k, sizeof text - k, "set %.*s %s\n", (int)(eq - S.sets[i]),
                              S.sets[i], eq + 1);
    }
    if (rnn_write_atomic(path, text, msg, sizeof msg) != RNN_OK) {
        explore_bad("%s", msg);
        return 0;
    }
    printf("saved %s\n", path);
    return 1;
}

/* ---- one line ------------------------------------------------------------------------------ */

#define MAX_WORDS 8

/* Returns 1 to quit. */
static int run_line(char *line)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *w[MAX_WORDS] = {0}, *save = NULL;
    size_t n = 0;
    for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == MAX_WORDS) {
            explore_bad("too many words (at most %d)", MAX_WORDS);
            return 0;
        }
        w[n++] = t;
    }
    if (n == 0)
        return 0;
    const char *c = w[0];
    size_t max_args = !strcmp(c, "set") ? 2 : !strcmp(c, "region") ? 3 :
                      (!strcmp(c, "cell") || !strcmp(c, "gradnorm") || !strcmp(c, "lyapunov") ||
                       !strcmp(c, "plot") || !strcmp(c, "save")) ? 1 : 0;
    int known = 0;
    for (const char *const *k = commands; *k; k++)
        known |= !strcmp(*k, c);
    if (!known) {
        explore_bad("unknown command '%s' (allowed: cell, set, show, spectrum, region, gradnorm, "
                    "lyapunov, energy, converge, plot, save, help, quit)", c);
        return 0;
    }
    if (n - 1 > max_args) {
        explore_bad("'%s' takes at most %zu argument%s (see 'help')", c, max_args, max_args == 1 ? "" : "s");
        return 0;
    }
    int st = EXIT_OK;
    if (!strcmp(c, "quit") || !strcmp(c, "exit"))
        return 1;
    else if (!strcmp(c, "help"))
        fputs(explore_help, stdout);
    else if (!strcmp(c, "cell"))
        cmd_cell(w[1]);
    else if (!strcmp(c, "set"))
        cmd_set(w[1], w[2]);
    else if (!strcmp(c, "show"))
        cmd_show();
    else if (!strcmp(c, "save"))
        cmd_save(w[1]);
    else if (!strcmp(c, "plot"))
        st = explore_plot_last(&S, w[1]);
    else
        st = explore_compute(&S, c, n - 1, (const char *const *)w + 1);
    if (st == EXIT_USAGE)
        bad_lines++;
    else if (st != EXIT_OK)
        failed_lines++;
    fflush(stdout);
    return 0;
}

/* ---- readline: completion and history ------------------------------------------------------ */

static const char *const *completion_words;
static char completion_buf[64][RNN_NAME_LEN + 8];
static const char *completion_list[65];

static char *generate(const char *text, int state)
{
    static size_t i, len;
    if (!state) {
        i = 0;
        len = strlen(text);
    }
    while (completion_words && completion_words[i]) {
        const char *w = completion_words[i++];
        if (!strncmp(w, text, len))
            return strdup(w);
    }
    return NULL;
}

/* The words for position `word` of a line starting with `first` (and `second`). */
static void completion_candidates(const char *first, const char *second, int word)
{
    size_t k = 0;
    completion_words = NULL;
    if (word == 0) {
        completion_words = commands;
        return;
    }
    if (!strcmp(first, "cell") && word == 1) {
        for (size_t i = 0; i < rnn_registry_count() && k < 60; i++)
            snprintf(completion_buf[k++], sizeof completion_buf[0], "%s", rnn_registry_get(i)->name);
        snprintf(completion_buf[k++], sizeof completion_buf[0], "rk:");
        snprintf(completion_buf[k++], sizeof completion_buf[0], "ms:");
    } else if (!strcmp(first, "set") && word == 1) {
        for (const char *const *s = settings; *s; s++)
            snprintf(completion_buf[k++], sizeof completion_buf[0], "%s", *s);
    } else if (!strcmp(first, "set") && word == 2 && second && !strcmp(second, "input")) {
        completion_words = inputs;
        return;
    } else if (!strcmp(first, "set") && word == 2 && second && !strcmp(second, "s0")) {
        snprintf(completion_buf[k++], sizeof completion_buf[0], "random");
        snprintf(completion_buf[k++], sizeof completion_buf[0], "zero");
    } else if (!strcmp(first, "region") && word == 3) {
        for (int m = 0; m < RNN_REGION_N_METRICS; m++)
            snprintf(completion_buf[k++], sizeof completion_buf[0], "%s",
                     rnn_region_metric_name((rnn_region_metric_id)m));
    }
    /* hyperparameter names: after 'set' (as NAME) and in 'region' axes (as NAME=) */
    if ((!strcmp(first, "set") && word == 1) || (!strcmp(first, "region") && word <= 2)) {
        char msg[256];
        const rnn_cell_type *t = rnn_cell_type_find(S.cell, msg, sizeof msg);
        for (size_t i = 0; t && i < t->n_hypers && k < 63; i++)
            snprintf(completion_buf[k++], sizeof completion_buf[0], "%s%s", t->hypers[i].name,
                     !strcmp(first, "region") ? "=" : "");
    }
    for (size_t i = 0; i < k; i++)
        completion_list[i] = completion_buf[i];
    completion_list[k] = NULL;
    completion_words = completion_list;
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    char first[64] = "", second[64] = "";
    int word = 0;
    const char *p = rl_line_buffer;
    /* count the words before start */
    while (p < rl_line_buffer + start) {
        while (p < rl_line_buffer + start && (*p == ' ' || *p == '\t'))
            p++;
        if (p >= rl_line_buffer + start)
            break;
        const char *q = p;
        while (q < rl_line_buffer + start && *q != ' ' && *q != '\t')
            q++;
        if (word == 0)
            snprintf(first, sizeof first, "%.*s", (int)(q - p), p);
        else if (word == 1)
            snprintf(second, sizeof second, "%.*s", (int)(q - p), p);
        word++;
        p = q;
    }
    completion_candidates(first, second, word);
    rl_attempted_completion_over = 1;
    int region_axis = !strcmp(first, "region") && word >= 1 && word <= 2;
    rl_completion_append_character = region_axis ? '\0' : ' ';
    return rl_completion_matches(text, generate);
}

static void history_path(char *buf, size_t len)
{
    const char *env = getenv("ODERNN_HISTORY"), *home = getenv("HOME");
    if (env && env[0])
        snprintf(buf, len, "%s", env);
    else
        snprintf(buf, len, "%s/.odernn_history", home && home[0] ? home : ".");
}

/* ---- the loop ------------------------------------------------------------------------------ */

int cmd_explore(cli_opts *o)
{
    (void)o;
    state_init(&S);
    interactive = isatty(STDIN_FILENO);
    char hist[4096];
    if (explore_session_begin(&S) != 0)
        return cli_error(EXIT_NUMERIC, "explore: cannot create a temporary folder");
    if (interactive) {
        history_path(hist, sizeof hist);
        rl_readline_name = "odernn";
        rl_attempted_completion_function = complete;
        rl_basic_word_break_characters = " \t";
        using_history();
        read_history(hist);
        printf("odernn explore — 'help' lists the commands, Tab completes, 'quit' leaves.\n");
        cmd_show();
        char *line;
        char prompt[160];
        for (;;) {
            snprintf(prompt, sizeof prompt, "odernn[%s]> ", S.cell);
            if (!(line = readline(prompt)))
                break;
            line_no++;
            if (line[strspn(line, " \t")])
                add_history(line);
            int quit = run_line(line);
            free(line);
            if (quit)
                break;
        }
        write_history(hist);
        history_truncate_file(hist, 1000);
        explore_session_end(&S);
        return EXIT_OK;
    }
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, stdin) >= 0) {
        line_no++;
        if (run_line(line))
            break;
    }
    free(line);
    explore_session_end(&S);
    return bad_lines ? EXIT_USAGE : failed_lines ? EXIT_NUMERIC : EXIT_OK;
}
