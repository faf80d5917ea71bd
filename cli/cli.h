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
int cmd_info(cli_opts *o);
int cmd_simulate(cli_opts *o);
int cmd_reference(cli_opts *o);
int cmd_converge(cli_opts *o);
int cmd_verify(cli_opts *o);

#endif
