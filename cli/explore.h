/*
 * explore.h — the private interface between the explorer's REPL (explore.c) and its
 * computations and plots (explore_run.c).
 */
#ifndef ODERNN_EXPLORE_H
#define ODERNN_EXPLORE_H

#include "cli.h"

typedef struct {
    char cell[128];
    size_t m, d, steps;
    unsigned long seed;
    int input, s0_random;
    char sets[CLI_MAX_SETS][96];  /* hyperparameter assignments "name=value" */
    size_t nsets;
    char tmpdir[256];             /* the session's scratch folder */
    char last_kind[32];           /* the last result: spectrum, region, gradnorm, ... */
    char last_csv[512];           /* its data */
} explore_state;

/* The options of the subcommands for the current settings. */
void explore_opts(const explore_state *s, cli_opts *o);
/* A one-line message for a bad command or value (counted; the session goes on). */
void explore_bad(const char *fmt, ...);

/* The scratch folder (mkdtemp) and its removal. */
int explore_session_begin(explore_state *s);
void explore_session_end(explore_state *s);
/* spectrum, region, gradnorm, lyapunov, energy, converge with their arguments; returns an
 * exit status (2: bad arguments, the message printed). */
int explore_compute(explore_state *s, const char *cmd, size_t nargs, const char *const *args);
/* `plot [FILE]`: the last result in a window or as a PNG. */
int explore_plot_last(explore_state *s, const char *file);

#endif
