/*
 * cli.h — the odernn program's private interface: options shared by the subcommands, the
 * exit statuses, and output helpers. Only cli/ decides exit statuses and prints to stdout.
 */
#ifndef ODERNN_CLI_H
#define ODERNN_CLI_H

#include <stdio.h>
#include "analysis.h"
#include "experiments.h"

enum { EXIT_OK = 0, EXIT_CHECK_FAILED = 1, EXIT_USAGE = 2, EXIT_NUMERIC = 3 };

#define CLI_MAX_SETS 32
#define CLI_MAX_HIDDEN 8192
#define CLI_MAX_STEPS 10000000

typedef struct {
    const char *cell;
    size_t m, d;
    int m_given, d_given;
    int levels_given, n0_given; /* converge: else the defaults for the cell's order */
    int reference;           /* converge: -1 by the cell's order, 0 CVODE, 1 rk8pd */
    int precision;           /* converge: -1 auto, 0 double, 1 binary128 */
    int input;               /* rnn_input_kind */
    size_t steps;
    unsigned long seed;
    int s0_random;
    const char *sets[CLI_MAX_SETS];
    size_t nsets;
    int json;
    const char *out, *save_params, *load_params;
    /* reference */
    rnn_cvode_opts cvode;
    /* converge */
    rnn_converge_opts conv;
    /* stability engine: spectrum, lyapunov, gradnorm, energy, region, experiment */
    const char *which;       /* spectrum: step | ode | both */
    size_t at;               /* spectrum: the step of the trajectory */
    size_t k, transient, reorth, blocks, seeds;  /* lyapunov */
    int ode;                 /* lyapunov: the ODE's spectrum by CVODE (flag) */
    double interval;         /* lyapunov --ode: re-orthonormalisation interval */
    const char *mode;        /* gradnorm: tangent | adjoint | both */
    size_t per_decade;       /* gradnorm: lags per decade (0: every step) */
    const char *x_spec, *y_spec, *metric; /* region */
    size_t threads;          /* region, experiment: OpenMP threads (0: the default) */
    const char *out_dir;     /* experiment, plot, ntk */
    const char *format, *data_dir; /* plot */
    int missing;             /* plot: list the commands that make the missing data (flag) */
    /* ntk: --width, --widths, --beta, --reading as given (checked in cmd_ntk.c) */
    const char *ntk_width, *ntk_widths, *ntk_beta, *ntk_reading;
    int seeds_given;
    /* verify */
    int tier;
    const char *only, *json_path, *report_path;
    int list;
} cli_opts;

typedef struct {
    const char *name;
    const char *summary;
    const char *usage;       /* the --help text after the usage line */
    const char *options;     /* space-separated option names this command accepts */
    int needs_cell;
    int (*run)(cli_opts *o);
} cli_command;

/* The options every command starts from (main.c; the explorer starts from them too). */
void cli_opts_default(cli_opts *o);

/* Prints "odernn: <message>" to stderr and returns the status. */
int cli_error(int status, const char *fmt, ...);
/* Maps a library status to an exit status: bad input 2, numerical failure 3. */
int cli_status(int rc);

/* The cell the options describe: loaded parameters, --set applied, params saved if asked. */
int cli_make_cell(const cli_opts *o, rnn_cell **out);
/* The input signal (hold/linear: a seeded Gaussian sequence sampled at the cell's step). */
int cli_make_input(const cli_opts *o, const rnn_cell *c, size_t n_samples, rnn_input **out);
/* The initial state: zero, or N(0, 0.5^2) from the seed. */
void cli_initial_state(const cli_opts *o, const rnn_cell *c, double *s0);
/* What most commands start from: the cell, its input signal (n_samples for hold/linear) and
 * a state buffer of n_states states with S[0] = the initial state. */
typedef struct {
    rnn_cell *c;
    rnn_input *in;
    double *S;
} cli_session;
int cli_session_open(const cli_opts *o, size_t n_samples, size_t n_states, cli_session *ss);
void cli_session_close(cli_session *ss);
/* A "# key: value" provenance preamble for CSV files. */
void cli_preamble(FILE *f, const char *command, const cli_opts *o, const rnn_cell *c);

/* Output files: written to a temporary name and renamed on success. */
typedef struct {
    FILE *f;
    char path[4096], tmp[4096];
} cli_out;
int cli_out_open(cli_out *out, const char *path);   /* NULL or "-": stdout */
int cli_out_commit(cli_out *out);                   /* 0, or prints the error and returns 2 */
void cli_out_abort(cli_out *out);

int cmd_list(cli_opts *o);
int cmd_classes(cli_opts *o);
int cmd_info(cli_opts *o);
int cmd_simulate(cli_opts *o);
int cmd_reference(cli_opts *o);
int cmd_converge(cli_opts *o);
int cmd_verify(cli_opts *o);
int cmd_spectrum(cli_opts *o);   /* cmd_spectrum.c */
int cmd_lyapunov(cli_opts *o);   /* cmd_lyapunov.c */
int cmd_gradnorm(cli_opts *o);   /* cmd_gradnorm.c */
int cmd_energy(cli_opts *o);     /* cmd_energy.c */
int cmd_region(cli_opts *o);     /* cmd_region.c */
int cmd_experiment(cli_opts *o); /* cmd_experiment.c */
int cmd_plot(cli_opts *o);       /* cmd_plot.c */
int cmd_explore(cli_opts *o);    /* explore.c */
/* 1 if NAME is a subcommand of this build (main.c). */
int cli_has_command(const char *name);
/* The --help text of 'odernn explore' (explore.c). */
#define EXPLORE_HELP explore_help
extern const char explore_help[];
int cmd_ntk(cli_opts *o);        /* cmd_ntk.c */

#endif
