/*
 * cmd_lyapunov.c — `odernn lyapunov CELL`: the Lyapunov spectrum of the cell's step map by the
 * QR method (or of its ODE with --ode), with intervals, the sum rule and Kaplan-Yorke.
 *
 *   exponents per step lambda_i; per unit time lambda_i / dt
 *   ci95: over the time blocks of one run (Student t), or over --seeds runs when S > 1 (each
 *         seed its own initial state and input; the weights are the cell's)
 *   sum rule: sum_i lambda_i = mean log |det J| (reported when k = n)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "cli.h"

static cJSON *number_array(size_t n, const double *x, double scale)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(x[i] * scale));
    return a;
}

/* One run: seed index s (0 = the options' own state and input). */
static int run_one(const cli_opts *o, rnn_cell *c, size_t s, rnn_lyap_result *r, char *msg, size_t len)
{
    const size_t n = c->n_state, k = r->k;
    cli_opts os = *o;
    if (s > 0)
        os.seed = rnn_seed_derive(o->seed, "lyapunov:seeds", s);
    rnn_input *in = NULL;
    double *s0 = malloc(n * sizeof(double));
    int rc = s0 ? cli_make_input(&os, c, o->transient + o->steps + 1, &in) : EXIT_NUMERIC;
    if (rc) {
        free(s0);
        snprintf(msg, len, "could not make the input");
        return RNN_ENOMEM;
    }
    cli_initial_state(&os, c, s0);
    int r2;
    if (o->ode) {
        rnn_cell_ode_ctx oc;
        rnn_ode ode;
        r2 = rnn_cell_ode_bind(c, in, &oc, &ode);
        const double dt = rnn_cell_dt(c);
        rnn_lyap_ode_opts lo = {.k = k, .blocks = o->blocks, .t_transient = (double)o->transient * dt,
                                .t_measure = (double)o->steps * dt,
                                .interval = o->interval > 0 ? o->interval : 10 * dt, .cvode = o->cvode};
        if (r2 == RNN_OK) {
            r2 = rnn_lyap_ode_spectrum(&ode, s0, &lo, r, msg, len);
            rnn_cell_ode_unbind(&oc);
        }
    } else {
        rnn_lyap_opts lo = {.k = k, .transient = o->transient, .steps = o->steps,
                            .reorth = o->reorth, .blocks = o->blocks, .with_det = k == n};
        r2 = rnn_lyap_spectrum(c, in, s0, &lo, r, msg, len);
    }
    free(s0);
    rnn_input_free(in);
    return r2;
}

int cmd_lyapunov(cli_opts *o)
{
    rnn_cell *c;
    int rc = cli_make_cell(o, &c);
    if (rc)
        return rc;
    const size_t n = c->n_state, k = o->k ? o->k : n, S = o->seeds;
    if (k > n) {
        rc = cli_error(EXIT_USAGE, "--k %zu exceeds the state dimension of %s (%zu)", k, c->type->name, n);
        rnn_cell_free(c);
        return rc;
    }
    if (o->blocks > o->steps || (o->ode && (double)o->steps * rnn_cell_dt(c) <
                                                (o->interval > 0 ? o->interval : 10 * rnn_cell_dt(c)) * (double)o->blocks)) {
        rnn_cell_free(c);
        return cli_error(EXIT_USAGE, "--blocks %zu is more than the measured window allows (--steps %zu%s)",
                         o->blocks, o->steps, o->ode ? "; with --ode a block needs at least one --interval" : "");
    }
    rnn_lyap_result *r = rnn_lyap_result_alloc(n, k, o->blocks);
    double *per_seed = malloc(S * k * sizeof(double)), *sums = malloc(3 * S * sizeof(double));
    double *blocks_all = malloc(S * o->blocks * k * sizeof(double));
    if (!r || !per_seed || !sums || !blocks_all) {
        rnn_lyap_result_free(r);
        free(per_seed), free(sums), free(blocks_all);
        rnn_cell_free(c);
        return cli_error(EXIT_NUMERIC, "out of memory");
    }
    char msg[1024] = "";
    int progress = isatty(2) && S > 1;
    for (size_t s = 0; s < S && rc == 0; s++) {
        int r2 = run_one(o, c, s, r, msg, sizeof msg);
        if (r2 != RNN_OK) {
            rc = cli_error(cli_status(r2), "%s (seed %zu of %zu)", msg, s + 1, S);
            break;
        }
        memcpy(per_seed + s * k, r->exponents, k * sizeof(double));
        memcpy(blocks_all + s * o->blocks * k, r->block, o->blocks * k * sizeof(double));
        sums[3 * s] = r->sum;
        sums[3 * s + 1] = r->mean_log_det;
        sums[3 * s + 2] = r->kaplan_yorke;
        if (progress)
            fprintf(stderr, "\rlyapunov: seed %zu of %zu", s + 1, S);
    }
    if (progress)
        fprintf(stderr, "\n");
    if (rc)
        goto done;
    /* Means over seeds (S = 1: the run itself) and their intervals. */
    double *mean = malloc(3 * k * sizeof(double)), *lo = mean + k, *hi = lo + k;
    if (!mean) {
        rc = cli_error(EXIT_NUMERIC, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < k; i++) {
        double m, h;
        rnn_mean_ci95(S, per_seed + i, k, &m, &h);
        mean[i] = m;
        lo[i] = S > 1 ? m - h : r->ci_lo[i];
        hi[i] = S > 1 ? m + h : r->ci_hi[i];
    }
    double sum = 0, mld = 0, ky;
    for (size_t s = 0; s < S; s++)
        sum += sums[3 * s] / (double)S, mld += sums[3 * s + 1] / (double)S;
    ky = rnn_kaplan_yorke(k, mean);
    if (isnan(ky) && k == n)
        ky = (double)n;
    const double dt = o->ode ? 1.0 : rnn_cell_dt(c); /* --ode: already per unit time */
    const double cdt = rnn_cell_dt(c);

    if (o->out) {
        cli_out out;
        if ((rc = cli_out_open(&out, o->out)) == 0) {
            cli_preamble(out.f, "lyapunov", o, c);
            fprintf(out.f, "# method: %s\n# transient: %zu steps\n# steps: %zu\n# reorth: %zu\n"
                    "# blocks: %zu\n# seeds: %zu\n# exponent: finite-time exponent of the block, %s\n",
                    o->ode ? "CVODE on the variational equations, QR every interval" : "QR on the step Jacobian",
                    o->transient, o->steps, o->reorth, o->blocks, S, o->ode ? "per unit time" : "per step");
            fprintf(out.f, "seed,block,index,exponent\n");
            for (size_t s = 0; s < S; s++)
                for (size_t b = 0; b < o->blocks; b++)
                    for (size_t i = 0; i < k; i++)
                        fprintf(out.f, "%zu,%zu,%zu,%.17g\n", s, b, i + 1,
                                blocks_all[(s * o->blocks + b) * k + i]);
            rc = cli_out_commit(&out);
        }
    }
    if (!rc && o->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "cell", c->type->name);
        cJSON_AddStringToObject(root, "method", o->ode ? "ode" : "qr");
        cJSON_AddStringToObject(root, "units", o->ode ? "per unit time" : "per step");
        cJSON_AddItemToObject(root, "exponents", number_array(k, mean, 1));
        cJSON *ci = cJSON_AddArrayToObject(root, "ci95");
        for (size_t i = 0; i < k; i++) {
            double pair[2] = {lo[i], hi[i]};
            cJSON_AddItemToArray(ci, number_array(2, pair, 1));
        }
        cJSON_AddStringToObject(root, "ci95_over", S > 1 ? "seeds" : "time blocks");
        cJSON_AddNumberToObject(root, "sum", sum);
        if (k == n && !o->ode)
            cJSON_AddNumberToObject(root, "mean_log_det", mld);
        else
            cJSON_AddNullToObject(root, "mean_log_det");
        if (isfinite(ky))
            cJSON_AddNumberToObject(root, "kaplan_yorke", ky);
        else
            cJSON_AddNullToObject(root, "kaplan_yorke");
        cJSON_AddItemToObject(root, "per_unit_time", number_array(k, mean, 1 / dt));
        cJSON_AddNumberToObject(root, "dt", cdt);
        cJSON_AddNumberToObject(root, "k", (double)k);
        cJSON_AddNumberToObject(root, "state_dim", (double)n);
        cJSON_AddNumberToObject(root, "transient", (double)o->transient);
        cJSON_AddNumberToObject(root, "steps", (double)o->steps);
        cJSON_AddNumberToObject(root, "reorth", (double)o->reorth);
        cJSON_AddNumberToObject(root, "blocks", (double)o->blocks);
        cJSON_AddNumberToObject(root, "seeds", (double)S);
        cJSON_AddNumberToObject(root, "seed", (double)o->seed);
        char *text = cJSON_Print(root);
        puts(text);
        free(text);
        cJSON_Delete(root);
    } else if (!rc) {
        printf("# odernn lyapunov %s  (m = %zu, %s, %zu + %zu steps, %zu blocks, %zu seed%s)\n",
               c->type->name, c->m, o->ode ? "ODE by CVODE" : "QR on the step Jacobian",
               o->transient, o->steps, o->blocks, S, S > 1 ? "s" : "");
        printf("%-6s %-16s %-16s %s\n", "i", o->ode ? "per unit time" : "per step",
               "per unit time", S > 1 ? "95% interval over seeds" : "95% interval over blocks");
        for (size_t i = 0; i < k; i++)
            printf("%-6zu %-16.8g %-16.8g [%.8g, %.8g]\n", i + 1, mean[i], mean[i] / dt, lo[i], hi[i]);
        printf("sum %.10g", sum);
        if (k == n && !o->ode)
            printf(", mean log|det J| %.10g (sum rule)", mld);
        printf("; Kaplan-Yorke dimension %s%.4g\n", isfinite(ky) ? "" : "undefined with k = ", isfinite(ky) ? ky : (double)k);
    }
    free(mean);
done:
    rnn_lyap_result_free(r);
    free(per_seed);
    free(sums);
    free(blocks_all);
    rnn_cell_free(c);
    return rc;
}
