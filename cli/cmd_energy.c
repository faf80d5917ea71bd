/*
 * cmd_energy.c — `odernn energy CELL`: the cell's energy along its trajectory with the bounds
 * of THEORY.md §4.2 (docs/theory/cornn-energy.md).
 *
 *   coRNN (both schemes): E_n = gamma ||y_n||^2 + ||z_n||^2, k = 2 eps - gamma dt
 *     cumulative bound  E_0 + m t_n / k
 *     per-step bound    E_{n-1} + dt ||s_n||^2 / k,  s_n = tanh(a_n)
 *   The bounds are proved for the IMEX scheme (cornn); for cornn_explicit they are what the
 *   official code's scheme is measured against. With k <= 0 no bound exists (NAN).
 *
 * The other cells have no energy functional in THEORY.md; they are refused with a clear error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "cli.h"

int cmd_energy(cli_opts *o)
{
    cli_session ss;
    int rc = cli_session_open(o, o->steps + 1, o->steps + 1, &ss);
    if (rc)
        return rc;
    rnn_cell *c = ss.c;
    if (!rnn_cell_block(c, "Wz") || rnn_cell_hyper_index(c, "gamma") < 0 ||
        rnn_cell_hyper_index(c, "eps") < 0) {
        cli_session_close(&ss);
        return cli_error(EXIT_USAGE, "cell '%s' has no energy functional in THEORY.md (cells with "
                         "one: cornn, cornn_explicit)", o->cell);
    }
    const size_t m = c->m, n = c->n_state, N = o->steps;
    const double dt = rnn_cell_dt(c), gamma = rnn_cell_get_hyper(c, "gamma"),
                 eps = rnn_cell_get_hyper(c, "eps"), k = 2 * eps - gamma * dt;
    int run = rnn_cell_run(c, ss.in, 0.0, ss.S, N, ss.S);
    if (run != RNN_OK) {
        cli_session_close(&ss);
        return cli_error(cli_status(run), "%s: the trajectory failed: %s", c->type->name,
                         rnn_strerror(run));
    }
    double *E = malloc(3 * (N + 1) * sizeof(double)), *u = malloc(c->d * sizeof(double));
    if (!E || !u) {
        free(E), free(u);
        cli_session_close(&ss);
        return cli_error(EXIT_NUMERIC, "out of memory");
    }
    double *B = E + N + 1, *P = B + N + 1, max_ratio = 0, max_step = 0;
    for (size_t i = 0; i <= N; i++) {
        E[i] = rnn_cornn_energy(m, gamma, ss.S + i * n);
        B[i] = P[i] = NAN;
        if (i == 0 || !(k > 0))
            continue;
        rnn_input_eval(ss.in, (double)(i - 1) * dt, u);
        B[i] = E[0] + (double)m * (double)i * dt / k;
        P[i] = E[i - 1] + dt * rnn_cornn_forcing_sq(c, ss.S + (i - 1) * n, u) / k;
        max_ratio = fmax(max_ratio, E[i] / B[i]);
        max_step = fmax(max_step, E[i] / P[i]);
    }
    if (!o->json || o->out) {
        cli_out out;
        if ((rc = cli_out_open(&out, o->out)) == 0) {
            cli_preamble(out.f, "energy", o, c);
            fprintf(out.f, "# energy: gamma |y|^2 + |z|^2\n# bound: E_0 + m t / (2 eps - gamma dt)%s\n"
                    "# step_bound: E_(n-1) + dt |tanh(a_n)|^2 / (2 eps - gamma dt)\n",
                    k > 0 ? "" : " (none: gamma dt >= 2 eps)");
            fprintf(out.f, "step,t,energy,bound,step_bound\n");
            for (size_t i = 0; i <= N; i++)
                fprintf(out.f, "%zu,%.17g,%.17g,%.17g,%.17g\n", i, (double)i * dt, E[i], B[i], P[i]);
            rc = cli_out_commit(&out);
        }
    }
    if (!rc && o->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "cell", c->type->name);
        cJSON_AddNumberToObject(root, "steps", (double)N);
        cJSON_AddNumberToObject(root, "dt", dt);
        cJSON_AddNumberToObject(root, "gamma", gamma);
        cJSON_AddNumberToObject(root, "eps", eps);
        cJSON_AddBoolToObject(root, "bound_exists", k > 0);
        cJSON_AddNumberToObject(root, "E0", E[0]);
        cJSON_AddNumberToObject(root, "E_final", E[N]);
        if (k > 0) {
            cJSON_AddNumberToObject(root, "max_ratio", max_ratio);
            cJSON_AddNumberToObject(root, "max_step_ratio", max_step);
        }
        char *text = cJSON_Print(root);
        puts(text);
        free(text);
        cJSON_Delete(root);
    } else if (!rc && o->out) {
        if (k > 0)
            printf("%s: max E_n / bound = %.6g, max per-step ratio = %.6g over %zu steps (<= 1: "
                   "the bound holds)\n", c->type->name, max_ratio, max_step, N);
        else
            printf("%s: gamma dt >= 2 eps: the energy bound does not exist\n", c->type->name);
    }
    free(E);
    free(u);
    cli_session_close(&ss);
    return rc;
}
