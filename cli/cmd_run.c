/*
 * cmd_run.c — `odernn simulate` (the discrete trajectory) and `odernn reference` (the ODE
 * trajectory by CVODE at the cell's time points t_n = n dt). Both write tidy CSV:
 * step,t,unit,value with a '#' provenance preamble.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "cli.h"

static int write_csv(const cli_opts *o, const char *command, const rnn_cell *c, size_t steps,
                     const double *S, const char *extra)
{
    cli_out out;
    int rc = cli_out_open(&out, o->out);
    if (rc)
        return rc;
    const double dt = rnn_cell_dt(c);
    cli_preamble(out.f, command, o, c);
    if (extra)
        fputs(extra, out.f);
    fprintf(out.f, "step,t,unit,value\n");
    for (size_t k = 0; k <= steps; k++)
        for (size_t i = 0; i < c->n_state; i++)
            fprintf(out.f, "%zu,%.17g,%zu,%.17g\n", k, (double)k * dt, i, S[k * c->n_state + i]);
    return cli_out_commit(&out);
}

static void json_summary(const char *command, const rnn_cell *c, size_t steps, const double *S,
                         const cli_opts *o, const rnn_cvode_stats *st)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "command", command);
    cJSON_AddStringToObject(root, "cell", c->type->name);
    cJSON_AddNumberToObject(root, "m", (double)c->m);
    cJSON_AddNumberToObject(root, "d", (double)c->d);
    cJSON_AddNumberToObject(root, "steps", (double)steps);
    cJSON_AddNumberToObject(root, "dt", rnn_cell_dt(c));
    cJSON_AddNumberToObject(root, "t_end", (double)steps * rnn_cell_dt(c));
    cJSON_AddNumberToObject(root, "seed", (double)o->seed);
    cJSON_AddStringToObject(root, "input", rnn_input_kind_name((rnn_input_kind)o->input));
    cJSON *fin = cJSON_AddArrayToObject(root, "final_state");
    double norm = 0;
    for (size_t i = 0; i < c->n_state; i++) {
        double v = S[steps * c->n_state + i];
        cJSON_AddItemToArray(fin, cJSON_CreateNumber(v));
        norm += v * v;
    }
    cJSON_AddNumberToObject(root, "final_norm", sqrt(norm));
    if (st) {
        cJSON *s = cJSON_AddObjectToObject(root, "solver");
        cJSON_AddStringToObject(s, "method", rnn_cvode_method_name(o->cvode.method));
        cJSON_AddStringToObject(s, "linsol", rnn_cvode_linsol_name(o->cvode.linsol));
        cJSON_AddNumberToObject(s, "rtol", o->cvode.rtol);
        cJSON_AddNumberToObject(s, "atol", o->cvode.atol);
        cJSON_AddNumberToObject(s, "steps", (double)st->steps);
        cJSON_AddNumberToObject(s, "rhs_evals", (double)st->rhs_evals);
        cJSON_AddNumberToObject(s, "jac_evals", (double)st->jac_evals);
        cJSON_AddNumberToObject(s, "newton_iters", (double)st->newton_iters);
        cJSON_AddNumberToObject(s, "err_test_fails", (double)st->err_test_fails);
        cJSON_AddNumberToObject(s, "lin_iters", (double)st->lin_iters);
        cJSON_AddNumberToObject(s, "restarts_at_knots", (double)st->reinits);
    }
    if (o->out)
        cJSON_AddStringToObject(root, "csv", o->out);
    char *text = cJSON_Print(root);
    puts(text);
    free(text);
    cJSON_Delete(root);
}

/* Shared set-up: cell, input, state buffer with s0. */
static int setup(cli_opts *o, rnn_cell **c, rnn_input **in, double **S)
{
    cli_session ss;
    int rc = cli_session_open(o, o->steps + 1, o->steps + 1, &ss);
    *c = ss.c;
    *in = ss.in;
    *S = ss.S;
    return rc;
}
int cmd_simulate(cli_opts *o)
{
    rnn_cell *c;
    rnn_input *in;
    double *S;
    int rc = setup(o, &c, &in, &S);
    if (rc)
        return rc;
    /* With --json and no --out, the summary alone goes to stdout. Stage and past-state
     * inputs of rk: and ms: cells come from the signal itself. */
    rnn_cell_bind_signal(c, in);
    int run = rnn_cell_run(c, in, 0.0, S, o->steps, S);
    if (run != RNN_OK) {
        /* find the step where it happened, for the message */
        size_t k = 0;
        while (k < o->steps && rnn_all_finite(c->n_state, S + (k + 1) * c->n_state))
            k++;
        rc = cli_error(cli_status(run), "%s: step %zu (t = %g) failed: %s", c->type->name, k + 1,
                       (double)k * rnn_cell_dt(c), rnn_strerror(run));
    } else {
        if (!o->json || o->out)
            rc = write_csv(o, "simulate", c, o->steps, S, NULL);
        if (!rc && o->json)
            json_summary("simulate", c, o->steps, S, o, NULL);
    }
    free(S);
    rnn_input_free(in);
    rnn_cell_free(c);
    return rc;
}

int cmd_reference(cli_opts *o)
{
    rnn_cell *c;
    rnn_input *in;
    double *S;
    int rc = setup(o, &c, &in, &S);
    if (rc)
        return rc;
    double *times = malloc((o->steps + 1) * sizeof(double));
    rnn_cell_ode_ctx ctx;
    rnn_ode ode;
    rnn_cvode_stats st;
    char msg[1024];
    int sr = times ? rnn_cell_ode_bind(c, in, &ctx, &ode) : RNN_ENOMEM;
    if (sr == RNN_OK) {
        for (size_t k = 0; k <= o->steps; k++)
            times[k] = (double)k * rnn_cell_dt(c);
        sr = rnn_cvode_solve(&ode, 0.0, S, o->steps + 1, times, S, &o->cvode, &st, msg, sizeof msg);
        rnn_cell_ode_unbind(&ctx);
    } else {
        snprintf(msg, sizeof msg, "out of memory");
    }
    if (sr != RNN_OK) {
        rc = cli_error(cli_status(sr), "%s", msg);
    } else {
        char extra[512];
        snprintf(extra, sizeof extra,
                 "# solver: CVODE %s/%s rtol=%g atol=%g; %ld steps, %ld rhs evals, %ld Jacobian "
                 "evals, %ld restarts at input knots\n",
                 rnn_cvode_method_name(o->cvode.method), rnn_cvode_linsol_name(o->cvode.linsol),
                 o->cvode.rtol, o->cvode.atol, st.steps, st.rhs_evals, st.jac_evals, st.reinits);
        if (!o->json || o->out)
            rc = write_csv(o, "reference", c, o->steps, S, extra);
        if (!rc && o->json)
            json_summary("reference", c, o->steps, S, o, &st);
    }
    free(times);
    free(S);
    rnn_input_free(in);
    rnn_cell_free(c);
    return rc;
}
