/*
 * cmd_gradnorm.c — `odernn gradnorm CELL`: ||ds_T/ds_k||_2 against the lag, in the log domain.
 *
 *   tangent: N(T) = ||ds_T/ds_0||_2 for T = lags (forward products M_T = J_T M_{T-1})
 *   adjoint: N(T - k) = ||ds_T/ds_k||_2 for the fixed horizon T (reverse sweep)
 *   rate per step: least-squares slope of ln N against the lag over lags >= T/10 (the part of
 *   the curve past the transient); per unit time: that rate / dt.
 *
 * Norms are printed from their logarithms, so 1e-4000 is printed as such (JSON numbers have
 * no exponent limit; a reader that parses them as doubles gets 0, and log10_norm is exact).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli.h"

/* "m.mmmmmmmmmmmmmme-XXXX" from a natural logarithm. */
static void format_from_log(double ln, char *buf, size_t len)
{
    if (!isfinite(ln)) {
        snprintf(buf, len, ln < 0 ? "0" : "null");
        return;
    }
    double l10 = ln / M_LN10, e = floor(l10), mant = pow(10.0, l10 - e);
    if (mant >= 9.9999999999999995) { /* rounding carried into the next decade */
        mant /= 10;
        e += 1;
    }
    snprintf(buf, len, "%.15fe%+.0f", mant, e);
}

int cmd_gradnorm(cli_opts *o)
{
    const size_t T = o->steps;
    int both = !strcmp(o->mode, "both"), adjoint = both || !strcmp(o->mode, "adjoint"),
        tangent = both || !strcmp(o->mode, "tangent");
    cli_session ss;
    int rc = cli_session_open(o, T + 1, adjoint ? T + 1 : 1, &ss);
    if (rc)
        return rc;
    rnn_cell *c = ss.c;
    size_t *lags = malloc(T * sizeof(size_t));
    double *ln_t = malloc(2 * T * sizeof(double)), *ln_a = ln_t ? ln_t + T : NULL;
    if (!lags || !ln_t) {
        free(lags);
        free(ln_t);
        cli_session_close(&ss);
        return cli_error(EXIT_NUMERIC, "out of memory for %zu lags", T);
    }
    size_t nl = T;
    if (o->per_decade == 0)
        for (size_t i = 0; i < T; i++)
            lags[i] = i + 1;
    else
        nl = rnn_log_lags(T, o->per_decade, T, lags);
    char msg[1024] = "";
    int r = RNN_OK;
    if (tangent)
        r = rnn_grad_tangent(c, ss.in, ss.S, nl, lags, ln_t, msg, sizeof msg);
    if (r == RNN_OK && adjoint) {
        r = rnn_cell_run(c, ss.in, 0.0, ss.S, T, ss.S);
        if (r != RNN_OK)
            snprintf(msg, sizeof msg, "%s: the trajectory failed: %s", c->type->name, rnn_strerror(r));
        else
            r = rnn_grad_adjoint(c, ss.in, ss.S, T, nl, lags, ln_a, msg, sizeof msg);
    }
    if (r != RNN_OK) {
        rc = cli_error(cli_status(r), "%s", msg);
        goto done;
    }
    const double dt = rnn_cell_dt(c), *ln = tangent ? ln_t : ln_a;
    /* The rate past the transient: lags >= T / 10 (at least the last two points). */
    size_t first = 0;
    while (first + 2 < nl && lags[first] < T / 10)
        first++;
    double *x = malloc(nl * sizeof(double)), rate = NAN, rate_se = NAN;
    if (x) {
        for (size_t i = first; i < nl; i++)
            x[i - first] = (double)lags[i];
        if (nl - first >= 2 && rnn_fit_line(nl - first, x, ln + first, &rate, &rate_se, NULL) != RNN_OK)
            rate = rate_se = NAN;
        free(x);
    }
    /* The two sweeps meet at lag T, where both are ||ds_T/ds_0||. */
    double disagreement = both ? fabs(expm1(ln_t[nl - 1] - ln_a[nl - 1])) : NAN;

    if (!o->json || o->out) {
        cli_out out;
        if ((rc = cli_out_open(&out, o->out)))
            goto done;
        cli_preamble(out.f, "gradnorm", o, c);
        fprintf(out.f, "# mode: %s (tangent: ||ds_T/ds_0|| at T = lag; adjoint: ||ds_T/ds_(T-lag)|| "
                "at T = %zu)\n# rate_per_step: %.10g\n# rate_per_unit_time: %.10g\n",
                o->mode, T, rate, rate / dt);
        fprintf(out.f, "lag,t,method,log10_norm\n");
        for (int pass = 0; pass < 2; pass++) {
            const double *v = pass ? ln_a : ln_t;
            if ((pass == 0 && !tangent) || (pass == 1 && !adjoint))
                continue;
            for (size_t i = 0; i < nl; i++)
                fprintf(out.f, "%zu,%.17g,%s,%.17g\n", lags[i], (double)lags[i] * dt,
                        pass ? "adjoint" : "tangent", v[i] / M_LN10);
        }
        if ((rc = cli_out_commit(&out)))
            goto done;
    }
    if (o->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "cell", c->type->name);
        cJSON_AddStringToObject(root, "mode", o->mode);
        cJSON *pts = cJSON_AddArrayToObject(root, "points");
        for (size_t i = 0; i < nl; i++) {
            cJSON *p = cJSON_CreateObject();
            char buf[64];
            format_from_log(ln[i], buf, sizeof buf);
            cJSON_AddNumberToObject(p, "lag", (double)lags[i]);
            cJSON_AddRawToObject(p, "norm", buf);
            cJSON_AddNumberToObject(p, "log10_norm", ln[i] / M_LN10);
            cJSON_AddItemToArray(pts, p);
        }
        cJSON_AddNumberToObject(root, "rate_per_step", rate);
        cJSON_AddNumberToObject(root, "rate_per_step_stderr", rate_se);
        cJSON_AddNumberToObject(root, "rate_per_unit_time", rate / dt);
        cJSON_AddNumberToObject(root, "dt", dt);
        cJSON_AddNumberToObject(root, "steps", (double)T);
        cJSON_AddNumberToObject(root, "m", (double)c->m);
        cJSON_AddNumberToObject(root, "seed", (double)o->seed);
        if (both)
            cJSON_AddNumberToObject(root, "tangent_adjoint_rel_diff_at_T", disagreement);
        char *text = cJSON_Print(root);
        puts(text);
        free(text);
        cJSON_Delete(root);
    } else if (o->out) {
        char buf[64];
        format_from_log(ln[nl - 1], buf, sizeof buf);
        printf("%s: ||ds_T/ds_0|| at T = %zu is %s (10^%.4f); rate %.6g per step, %.6g per unit time\n",
               c->type->name, T, buf, ln[nl - 1] / M_LN10, rate, rate / dt);
        if (both)
            printf("tangent and adjoint agree at T to %.2e relative\n", disagreement);
    }
done:
    free(lags);
    free(ln_t);
    cli_session_close(&ss);
    return rc;
}
