/*
 * cmd_spectrum.c — `odernn spectrum CELL`: eigenvalues and singular values of the step
 * Jacobian ds_n/ds_{n-1} and eigenvalues of the ODE Jacobian df/ds at one state of the
 * trajectory, with the linear stability of the cell's scheme there.
 *
 *   step: mu_i = eig(J_step), sigma_i = sv(J_step), spectral radius max |mu_i|
 *   ode:  lambda_i = eig(J_ode), spectral abscissa max Re lambda_i
 *   stability (cells that are Runge-Kutta methods, by their tableau): R(dt lambda_i) and
 *   max |R(dt lambda_i)|; for a linear ODE this is exactly the step's spectrum.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli.h"

static cJSON *complex_array(size_t n, const double *re, const double *im)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *p = cJSON_CreateArray();
        cJSON_AddItemToArray(p, cJSON_CreateNumber(re[i]));
        cJSON_AddItemToArray(p, cJSON_CreateNumber(im[i]));
        cJSON_AddItemToArray(a, p);
    }
    return a;
}

int cmd_spectrum(cli_opts *o)
{
    cli_session ss;
    int rc = cli_session_open(o, o->at + 1, o->at + 1, &ss);
    if (rc)
        return rc;
    rnn_cell *c = ss.c;
    const size_t n = c->n_state, at = o->at;
    const double dt = rnn_cell_dt(c), t = (double)at * dt;
    const int want_step = strcmp(o->which, "ode") != 0, want_ode = strcmp(o->which, "step") != 0;
    const rnn_tableau *tab = c->type->tableau ? rnn_tableau_find(c->type->tableau) : NULL;
    rnn_eig_ws *ws = rnn_eig_ws_alloc(n);
    double *buf = malloc((n * n + 8 * n + c->d) * sizeof(double));
    if (!ws || !buf) {
        rnn_eig_ws_free(ws), free(buf);
        cli_session_close(&ss);
        return cli_error(EXIT_NUMERIC, "out of memory for the spectra of a %zu x %zu Jacobian", n, n);
    }
    double *J = buf, *sre = J + n * n, *sim = sre + n, *sv = sim + n, *ore = sv + n, *oim = ore + n,
           *Rre = oim + n, *Rim = Rre + n, *Rabs = Rim + n, *u = Rabs + n;
    char msg[512] = "";
    int r = at ? rnn_cell_run(c, ss.in, 0.0, ss.S, at, ss.S) : RNN_OK;
    const double *s = ss.S + at * n;
    if (r != RNN_OK)
        snprintf(msg, sizeof msg, "%s: the trajectory to step %zu failed: %s", c->type->name, at,
                 rnn_strerror(r));
    rnn_input_eval(ss.in, t, u);
    double radius = NAN, abscissa = NAN, maxR = NAN;
    if (r == RNN_OK && want_step) {
        r = rnn_cell_step_jacobian(c, t, s, u, J);
        if (r == RNN_OK)
            r = rnn_spectrum_eigvals(ws, J, sre, sim);
        if (r == RNN_OK)
            r = rnn_spectrum_svals(ws, J, sv);
        if (r != RNN_OK)
            snprintf(msg, sizeof msg, "%s: the step Jacobian's spectrum at step %zu failed: %s",
                     c->type->name, at, rnn_strerror(r));
        radius = 0;
        for (size_t i = 0; i < n; i++)
            radius = fmax(radius, hypot(sre[i], sim[i]));
    }
    if (r == RNN_OK && want_ode) {
        r = rnn_cell_ode_jacobian(c, t, s, u, J);
        if (r == RNN_OK)
            r = rnn_spectrum_eigvals(ws, J, ore, oim);
        if (r != RNN_OK)
            snprintf(msg, sizeof msg, "%s: the ODE Jacobian's spectrum at step %zu failed: %s",
                     c->type->name, at, rnn_strerror(r));
        abscissa = ore[0];
        if (tab) {
            maxR = 0;
            for (size_t i = 0; i < n; i++) {
                rnn_tableau_stability(tab, dt * ore[i], dt * oim[i], &Rre[i], &Rim[i]);
                Rabs[i] = hypot(Rre[i], Rim[i]);
                maxR = fmax(maxR, Rabs[i]);
            }
        }
    }
    if (r != RNN_OK) {
        rc = cli_error(cli_status(r), "%s", msg);
        goto done;
    }
    if (!o->json || o->out) {
        cli_out out;
        if ((rc = cli_out_open(&out, o->out)))
            goto done;
        cli_preamble(out.f, "spectrum", o, c);
        fprintf(out.f, "# at: step %zu (t = %.17g)\n# which: step = eig(ds_n/ds_n-1), sv = its singular "
                "values, ode = eig(df/ds)%s\n", at, t,
                tab ? ", stability = R(dt lambda_ode) of the cell's tableau" : "");
        if (tab)
            fprintf(out.f, "# tableau: %s\n", tab->name);
        fprintf(out.f, "step,t,which,index,re,im,abs\n");
        for (size_t i = 0; i < n && want_step; i++)
            fprintf(out.f, "%zu,%.17g,step,%zu,%.17g,%.17g,%.17g\n", at, t, i + 1, sre[i], sim[i],
                    hypot(sre[i], sim[i]));
        for (size_t i = 0; i < n && want_step; i++)
            fprintf(out.f, "%zu,%.17g,sv,%zu,%.17g,0,%.17g\n", at, t, i + 1, sv[i], sv[i]);
        for (size_t i = 0; i < n && want_ode; i++)
            fprintf(out.f, "%zu,%.17g,ode,%zu,%.17g,%.17g,%.17g\n", at, t, i + 1, ore[i], oim[i],
                    hypot(ore[i], oim[i]));
        for (size_t i = 0; i < n && want_ode && tab; i++)
            fprintf(out.f, "%zu,%.17g,stability,%zu,%.17g,%.17g,%.17g\n", at, t, i + 1, Rre[i],
                    Rim[i], Rabs[i]);
        if ((rc = cli_out_commit(&out)))
            goto done;
    }
    if (o->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "cell", c->type->name);
        cJSON_AddNumberToObject(root, "step", (double)at);
        cJSON_AddNumberToObject(root, "t", t);
        cJSON_AddNumberToObject(root, "dt", dt);
        if (want_step) {
            cJSON *sj = cJSON_AddObjectToObject(root, "step_jacobian");
            cJSON_AddItemToObject(sj, "eigenvalues", complex_array(n, sre, sim));
            cJSON *a = cJSON_AddArrayToObject(sj, "singular_values");
            for (size_t i = 0; i < n; i++)
                cJSON_AddItemToArray(a, cJSON_CreateNumber(sv[i]));
            cJSON_AddNumberToObject(sj, "spectral_radius", radius);
        }
        if (want_ode) {
            cJSON *oj = cJSON_AddObjectToObject(root, "ode_jacobian");
            cJSON_AddItemToObject(oj, "eigenvalues", complex_array(n, ore, oim));
            cJSON_AddNumberToObject(oj, "spectral_abscissa", abscissa);
            if (tab) {
                cJSON_AddStringToObject(oj, "tableau", tab->name);
                cJSON_AddNumberToObject(oj, "max_abs_R", maxR);
            }
        }
        char *text = cJSON_Print(root);
        puts(text);
        free(text);
        cJSON_Delete(root);
    } else if (o->out) {
        printf("%s at step %zu: ", c->type->name, at);
        if (want_step)
            printf("step Jacobian spectral radius %.10g, largest singular value %.10g; ", radius, sv[0]);
        if (want_ode)
            printf("ODE Jacobian spectral abscissa %.10g", abscissa);
        if (want_ode && tab)
            printf(", max |R(dt lambda)| = %.10g (%s)", maxR, tab->name);
        printf("\n");
    }
done:
    rnn_eig_ws_free(ws);
    free(buf);
    cli_session_close(&ss);
    return rc;
}
