/*
 * test_explore.c — `odernn explore` driven by scripts on stdin (program.h), and through a real
 * terminal with tmux when tmux is installed:
 *
 *   - a session's numbers are those of the matching subcommands (the same code on the same
 *     settings): spectrum's and gradnorm's summary lines match `odernn spectrum` and
 *     `odernn gradnorm` with the equivalent options;
 *   - bad lines (unknown command, unknown setting, a value out of range, a missing argument,
 *     plot before any result) each give one message with the line number and what is allowed,
 *     the session goes on, and the exit status is 2;
 *   - `save` writes a script that replays to the same settings;
 *   - `plot FILE` writes a PNG;
 *   - tmux: the prompt, Tab completion of a command, a cell name and a hyperparameter, the
 *     history file. Skipped with a message when tmux is absent.
 */
#include <criterion/criterion.h>
#include <limits.h>
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
    setenv("ODERNN_PLOTS", "0", 1); /* no text plots: the numbers are what is compared */
    program_tmpdir_make(tmpdir, "explore");
}

static void teardown(void)
{
    program_tmpdir_remove(tmpdir);
}

TestSuite(explore, .init = setup, .fini = teardown);

/* Runs `odernn explore < script`; the script is written to a file first. */
static int run_script(const char *script)
{
    char path[128], args[256];
    snprintf(path, sizeof path, "%s/script.txt", tmpdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(script, f);
    fclose(f);
    snprintf(args, sizeof args, "explore < %s", path);
    return program_run(args);
}

/* The line of out that starts with prefix, copied into buf. */
static const char *line_with(const char *text, const char *prefix, char *buf, size_t len)
{
    const char *p = strstr(text, prefix);
    cr_assert_not_null(p, "no line starting with '%s' in:\n%s", prefix, text);
    size_t n = strcspn(p, "\n");
    snprintf(buf, len, "%.*s", (int)n, p);
    return buf;
}

Test(explore, numbers_match_the_subcommands)
{
    cr_assert_eq(run_script("cell antisym\nset hidden 8\nset gamma 0.5\nset seed 3\nspectrum\n"
                            "gradnorm 200\nquit\nspectrum\n"), 0, "%s", out);
    char a[1024], b[1024], c[1024], d[1024];
    line_with(out, "antisym at step 0:", a, sizeof a);
    line_with(out, "antisym: ||ds_T/ds_0||", c, sizeof c);
    cr_assert_eq(strstr(strstr(out, "antisym at step 0:") + 1, "antisym at step 0:"), NULL,
                 "'quit' ends the script");
    char args[512];
    snprintf(args, sizeof args, "spectrum antisym --hidden 8 --set gamma=0.5 --seed 3 --out %s/s.csv", tmpdir);
    cr_assert_eq(program_run(args), 0, "%s", out);
    line_with(out, "antisym at step 0:", b, sizeof b);
    cr_assert_str_eq(a, b);
    snprintf(args, sizeof args, "gradnorm antisym --hidden 8 --set gamma=0.5 --seed 3 --steps 200 --out %s/g.csv", tmpdir);
    cr_assert_eq(program_run(args), 0, "%s", out);
    line_with(out, "antisym: ||ds_T/ds_0||", d, sizeof d);
    cr_assert_str_eq(c, d);
}

Test(explore, bad_lines_are_reported_and_the_session_goes_on)
{
    int st = run_script("cell nosuchcell\n"
                        "frobnicate\n"
                        "set nosuch 1\n"
                        "set hidden 0\n"
                        "set input wobbly\n"
                        "cell antisym\n"
                        "set eps -1\n"
                        "set eps abc\n"
                        "plot\n"
                        "region eps=0.1:0.2:3\n"
                        "gradnorm 1\n"
                        "energy\n"
                        "show\n");
    cr_assert_eq(st, 2, "%s", out);
    static const char *const expect[] = {
        "line 1: ",              "line 2: unknown command 'frobnicate' (allowed: cell, set",
        "line 3: unknown setting 'nosuch' (allowed: hidden",
        "line 4: hidden must be an integer in 1..1024",
        "line 5: unknown input 'wobbly' (allowed: sines, hold, linear, zero)",
        "line 7: eps=-1 is not allowed", "line 8: eps needs a number",
        "line 9: nothing to plot yet", "line 10: 'region X=a:b:n Y=a:b:n [METRIC]' needs two axes",
        "line 11: 'gradnorm [T]': T must be an integer in 2..1000000",
        "has no energy functional", "cell antisym: hidden 8"};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        cr_assert(strstr(out, expect[i]), "missing '%s' in:\n%s", expect[i], out);
    cr_assert(strstr(out, "nosuchcell"), "%s", out);
}

Test(explore, save_replays_the_settings_and_plot_writes_a_png)
{
    char script[1024], saved[128], png[128];
    snprintf(saved, sizeof saved, "%s/session.txt", tmpdir);
    snprintf(png, sizeof png, "%s/g.png", tmpdir);
    snprintf(script, sizeof script, "cell cornn\nset hidden 6\nset dt 0.05\nset input hold\n"
             "set s0 zero\nset steps 300\nshow\ngradnorm 50\nplot %s\nsave %s\n", png, saved);
    cr_assert_eq(run_script(script), 0, "%s", out);
    char first[1024];
    line_with(out, "cell cornn: hidden 6", first, sizeof first);
    cr_assert(strstr(out, "wrote ") && strstr(out, "g.png"), "%s", out);
    size_t n;
    char *p = program_slurp(png, &n);
    cr_assert(n > 1000 && !memcmp(p, "\x89PNG", 4));
    free(p);
    /* replay the saved script, then show */
    char replay[1100], cmd[3200];
    snprintf(script, sizeof script, "%s/replay.txt", tmpdir);
    snprintf(cmd, sizeof cmd, "cat %s > %s && echo show >> %s", saved, script, script);
    cr_assert_eq(system(cmd), 0);
    snprintf(replay, sizeof replay, "explore < %s", script);
    cr_assert_eq(program_run(replay), 0, "%s", out);
    char again[1024];
    line_with(out, "cell cornn: hidden 6", again, sizeof again);
    cr_assert_str_eq(first, again);
    cr_assert(strstr(out, "dt         0.05"), "%s", out);
}

/* ---- a real terminal (tmux) ------------------------------------------------------------------ */

static int have_tmux(void)
{
    return system("command -v tmux >/dev/null 2>&1") == 0;
}

static char session[64];

static void tmux(const char *fmt, const char *arg)
{
    char cmd[PATH_MAX + 1024], buf[PATH_MAX + 600];
    snprintf(buf, sizeof buf, fmt, arg);
    snprintf(cmd, sizeof cmd, "tmux -L %s %s", session, buf);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* Polls the pane until it shows `want` (up to ~10 s: not a timing assertion, a wait). */
static int pane_shows(const char *want, char *pane, size_t len)
{
    for (int i = 0; i < 100; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "tmux -L %s capture-pane -p -t explore", session);
        FILE *p = popen(cmd, "r");
        size_t n = p ? fread(pane, 1, len - 1, p) : 0;
        pane[n] = '\0';
        if (p)
            pclose(p);
        if (strstr(pane, want))
            return 1;
        usleep(100000);
    }
    return 0;
}

Test(explore, tmux_prompt_completion_and_history)
{
    if (!have_tmux()) {
        cr_skip_test("tmux is not installed: the real-terminal test of odernn explore is skipped "
                     "(apt-get install tmux)");
    }
    char prog[PATH_MAX], hist[128], pane[8192], start[PATH_MAX + 512];
    const char *rel = getenv("ODERNN") ? getenv("ODERNN") : "build/odernn";
    cr_assert_not_null(realpath(rel, prog));
    snprintf(hist, sizeof hist, "%s/history", tmpdir);
    snprintf(session, sizeof session, "odernn-test-%ld", (long)getpid());
    snprintf(start, sizeof start, "new-session -d -s explore -x 160 -y 50 "
             "'env ODERNN_HISTORY=%s ODERNN_PLOTS=0 %s explore'", hist, prog);
    tmux("%s", start);
    int ok = pane_shows("odernn[tanh]>", pane, sizeof pane);
    if (ok) {
        tmux("send-keys -t explore 'cel' Tab 'antis' Tab Enter%s", "");
        ok = pane_shows("cell antisym (hyperparameters", pane, sizeof pane);
    }
    if (ok) {
        tmux("send-keys -t explore 'set gam' Tab '0.25' Enter%s", "");
        ok = pane_shows("gamma = 0.25", pane, sizeof pane);
    }
    if (ok) {
        tmux("send-keys -t explore 'sh' Tab Enter%s", "");
        ok = pane_shows("gamma      0.25", pane, sizeof pane);
    }
    if (ok) {
        tmux("send-keys -t explore 'frob' Enter%s", "");
        ok = pane_shows("unknown command 'frob'", pane, sizeof pane);
    }
    if (ok)
        tmux("send-keys -t explore 'quit' Enter%s", "");
    /* the history is written when the session ends */
    int hist_ok = 0;
    for (int i = 0; ok && i < 100 && !hist_ok; i++) {
        FILE *f = fopen(hist, "r");
        if (f) {
            char buf[4096];
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            buf[n] = '\0';
            hist_ok = strstr(buf, "cell antisym") && strstr(buf, "set gamma 0.25");
            fclose(f);
        }
        if (!hist_ok)
            usleep(100000);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "tmux -L %s kill-server 2>/dev/null", session);
    if (system(cmd)) { /* already gone after quit */
    }
    cr_assert(ok, "the pane did not show what was expected:\n%s", pane);
    cr_assert(hist_ok, "the history file %s lacks the session's lines", hist);
}
