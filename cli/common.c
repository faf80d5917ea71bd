/*
 * common.c — what the subcommands share: errors and exit statuses, building the cell, the
 * input and the initial state from the options, provenance preambles, atomic output files.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

int cli_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("odernn: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

int cli_status(int rc)
{
    if (rc == RNN_OK)
        return EXIT_OK;
    return rnn_status_is_usage(rc) ? EXIT_USAGE : EXIT_NUMERIC;
}

/* Does "name=value" set a hyperparameter that only the initialisation uses? */
static int is_init_assignment(const rnn_cell *c, const char *a)
{
    const char *eq = strchr(a, '=');
    for (size_t k = 0; eq && k < c->n_hypers; k++) {
        const char *name = c->type->hypers[k].name;
        if ((c->type->hypers[k].flags & RNN_HYPER_INIT) && strlen(name) == (size_t)(eq - a) &&
            strncmp(name, a, (size_t)(eq - a)) == 0)
            return 1;
    }
    return 0;
}

int cli_make_cell(const cli_opts *o, rnn_cell **out)
{
    char msg[1024];
    const rnn_cell_type *type = rnn_cell_type_find(o->cell, msg, sizeof msg);
    if (!type)
        return cli_error(EXIT_USAGE, "%s", msg);
    size_t m = o->m, d = o->d;
    if (o->load_params) {
        char name[RNN_CELL_NAME_LEN];
        size_t fm, fd;
        if (rnn_params_peek(o->load_params, name, sizeof name, &fm, &fd, msg, sizeof msg) != RNN_OK)
            return cli_error(EXIT_USAGE, "%s", msg);
        if (strcmp(name, type->name) != 0)
            return cli_error(EXIT_USAGE, "'%s' holds parameters of cell '%s', not '%s'",
                             o->load_params, name, type->name);
        if ((o->m_given && fm != m) || (o->d_given && fd != d))
            return cli_error(EXIT_USAGE, "'%s' has m=%zu, d=%zu but --hidden/--input-dim ask for "
                             "m=%zu, d=%zu", o->load_params, fm, fd, m, d);
        m = fm;
        d = fd;
    }
    rnn_cell *c = rnn_cell_alloc(type, m, d, o->seed);
    if (!c)
        return cli_error(EXIT_NUMERIC, "out of memory for cell '%s' with m=%zu, d=%zu", o->cell, m, d);
    int rc = RNN_OK;
    /* Init hyperparameters (wscale) shape the initialisation: apply them, then re-init. */
    int reinit = 0;
    rc = rnn_cell_set_assignments(c, o->nsets, o->sets, msg, sizeof msg);
    for (size_t i = 0; i < o->nsets; i++)
        reinit |= is_init_assignment(c, o->sets[i]);
    if (rc == RNN_OK && reinit && !o->load_params)
        rnn_cell_init(c, o->seed);
    if (rc == RNN_OK && o->load_params) {
        rc = rnn_params_load(c, o->load_params, msg, sizeof msg);
        /* --set overrides what the file says */
        if (rc == RNN_OK)
            rc = rnn_cell_set_assignments(c, o->nsets, o->sets, msg, sizeof msg);
    }
    if (rc == RNN_OK && o->save_params)
        rc = rnn_params_save(c, o->save_params, msg, sizeof msg);
    if (rc != RNN_OK) {
        rnn_cell_free(c);
        return cli_error(cli_status(rc), "%s", msg);
    }
    *out = c;
    return EXIT_OK;
}

int cli_make_input(const cli_opts *o, const rnn_cell *c, size_t n_samples, rnn_input **out)
{
    rnn_input *in = NULL;
    unsigned long seed = rnn_seed_derive(o->seed, "cli:input", 0);
    switch (o->input) {
    case RNN_INPUT_ZERO: in = rnn_input_alloc_zero(c->d); break;
    case RNN_INPUT_SINES: in = rnn_input_alloc_sines(c->d, seed); break;
    default:
        in = rnn_input_alloc_gaussian((rnn_input_kind)o->input, c->d, n_samples, 0.0,
                                      rnn_cell_dt(c), seed);
    }
    if (!in)
        return cli_error(EXIT_NUMERIC, "out of memory for the input signal");
    *out = in;
    return EXIT_OK;
}

void cli_initial_state(const cli_opts *o, const rnn_cell *c, double *s0)
{
    if (o->s0_random)
        rnn_cell_random_state(c, rnn_seed_derive(o->seed, "cli:s0", 0), 0.5, s0);
    else
        memset(s0, 0, c->n_state * sizeof(double));
}

int cli_session_open(const cli_opts *o, size_t n_samples, size_t n_states, cli_session *ss)
{
    memset(ss, 0, sizeof *ss);
    int rc = cli_make_cell(o, &ss->c);
    if (rc)
        return rc;
    rc = cli_make_input(o, ss->c, n_samples, &ss->in);
    if (rc) {
        rnn_cell_free(ss->c);
        return rc;
    }
    ss->S = malloc((n_states ? n_states : 1) * ss->c->n_state * sizeof(double));
    if (!ss->S) {
        cli_session_close(ss);
        return cli_error(EXIT_NUMERIC, "out of memory for %zu states", n_states);
    }
    cli_initial_state(o, ss->c, ss->S);
    return EXIT_OK;
}

void cli_session_close(cli_session *ss)
{
    free(ss->S);
    rnn_input_free(ss->in);
    rnn_cell_free(ss->c);
    memset(ss, 0, sizeof *ss);
}

void cli_preamble(FILE *f, const char *command, const cli_opts *o, const rnn_cell *c)
{
    fprintf(f, "# odernn %s\n# cell: %s\n# ode: %s\n# scheme: %s\n# reference: %s\n", command,
            c->type->name, c->type->ode, c->type->scheme, c->type->reference);
    fprintf(f, "# m: %zu\n# d: %zu\n# state_dim: %zu\n# seed: %lu\n# input: %s\n# s0: %s\n", c->m,
            c->d, c->n_state, o->seed, rnn_input_kind_name((rnn_input_kind)o->input),
            o->s0_random ? "random N(0, 0.25)" : "zero");
    fprintf(f, "# hyperparameters:");
    for (size_t i = 0; i < c->n_hypers; i++)
        fprintf(f, " %s=%.17g", c->type->hypers[i].name, c->hyper[i]);
    fprintf(f, "\n");
    if (o->load_params)
        fprintf(f, "# parameters: %s\n", o->load_params);
}

int cli_out_open(cli_out *out, const char *path)
{
    memset(out, 0, sizeof *out);
    if (!path || strcmp(path, "-") == 0) {
        out->f = stdout;
        return EXIT_OK;
    }
    if (snprintf(out->path, sizeof out->path, "%s", path) >= (int)sizeof out->path ||
        snprintf(out->tmp, sizeof out->tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof out->tmp)
        return cli_error(EXIT_USAGE, "output path too long: %s", path);
    out->f = fopen(out->tmp, "w");
    if (!out->f)
        return cli_error(EXIT_USAGE, "cannot write '%s': %s (choose a writable path with --out)",
                         path, strerror(errno));
    return EXIT_OK;
}

int cli_out_commit(cli_out *out)
{
    if (out->f == stdout) {
        fflush(stdout);
        return EXIT_OK;
    }
    int bad = ferror(out->f);
    bad |= fclose(out->f) != 0;
    out->f = NULL;
    if (bad || rename(out->tmp, out->path) != 0) {
        int e = errno;
        remove(out->tmp);
        return cli_error(EXIT_USAGE, "cannot write '%s': %s", out->path, strerror(e));
    }
    return EXIT_OK;
}

void cli_out_abort(cli_out *out)
{
    if (out->f && out->f != stdout) {
        fclose(out->f);
        remove(out->tmp);
    }
    out->f = NULL;
}
