/*
 * cmd_converge.c — `odernn converge CELL`: error against dt and the fitted order, in double
 * (analysis/convergence.c) or binary128 (convergence_quad.c; --precision).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "cli.h"

int cmd_converge(cli_opts *o)
{
    rnn_cell *c;
    int rc = cli_make_cell(o, &c);
    if (rc)
        return rc;
    /* Levels and n0 not given: the defaults for the cell's order (higher orders start coarser,
     * so that the finest error stays above the reference's). */
    rnn_converge_opts def;
    rnn_converge_opts_for_order(&def, c->type->order, c->type->history);
    if (!o->levels_given)
        o->conv.levels = def.levels;
    if (!o->n0_given)
        o->conv.n0 = def.n0;
    o->conv.ref_rk8pd = o->reference < 0 ? def.ref_rk8pd : o->reference;
    o->conv.trim = !o->levels_given && !o->n0_given ? def.trim : 0;
    /* hold/linear sequences are sampled at the coarsest step, so every level sees the same signal */
    rnn_cell_set_dt(c, o->conv.t_end / (double)o->conv.n0);
    rnn_input *in = NULL;
    rc = cli_make_input(o, c, o->conv.n0 + 1, &in);
    double *s0 = rc ? NULL : malloc(c->n_state * sizeof(double));
    if (!s0) {
        rnn_cell_free(c);
        rnn_input_free(in);
        return rc ? rc : cli_error(EXIT_NUMERIC, "out of memory");
    }
    cli_initial_state(o, c, s0);
    /* binary128 when asked, or by default where double rounding hides the order */
    const int quad = o->precision == 1 ||
                     (o->precision < 0 && o->reference < 0 && rnn_converge_quad_preferred(c->type));
    rnn_converge_result r;
    char msg[1024];
    int cr = RNN_OK;
    if (quad && o->reference >= 0)
        cr = RNN_EINVAL, snprintf(msg, sizeof msg, "--reference chooses a double-precision "
                                  "reference; with --precision quad the reference is "
                                  "Gragg-Bulirsch-Stoer in binary128 (drop one of the two)");
    else if (quad)
        cr = rnn_converge_quad(c, in, s0, &o->conv, &r, msg, sizeof msg);
    else
        cr = rnn_converge(c, in, s0, &o->conv, &r, msg, sizeof msg);
    if (cr == RNN_EUNSUPPORTED)
        cr = RNN_EINVAL; /* asked of a cell that has no binary128 form: bad input */
    if (cr != RNN_OK) {
        rc = cli_error(cli_status(cr), "%s", msg);
    } else if (o->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "cell", c->type->name);
        cJSON_AddNumberToObject(root, "order", r.order);
        cJSON_AddNumberToObject(root, "order_stderr", r.order_stderr);
        cJSON_AddNumberToObject(root, "expected_order", c->type->order);
        cJSON *lv = cJSON_AddArrayToObject(root, "levels");
        for (size_t k = 0; k < r.levels; k++) {
            cJSON *l = cJSON_CreateObject();
            cJSON_AddNumberToObject(l, "dt", r.dt[k]);
            cJSON_AddNumberToObject(l, "error", r.err[k]);
            if (k + 1 < r.levels)
                cJSON_AddNumberToObject(l, "local_order", r.local_order[k]);
            cJSON_AddBoolToObject(l, "in_fit", k >= r.fit_first && k <= r.fit_last);
            cJSON_AddItemToArray(lv, l);
        }
        cJSON_AddStringToObject(root, "precision", quad ? "binary128" : "double");
        if (quad) {
            cJSON_AddBoolToObject(root, "tableau_exact", r.quad_exact);
            cJSON_AddStringToObject(root, "coefficients", r.quad_source);
            cJSON_AddNumberToObject(root, "order_condition_residual", r.quad_residual);
            cJSON_AddNumberToObject(root, "coefficient_floor", r.coef_floor);
            cJSON_AddNumberToObject(root, "double_vs_quad", r.double_vs_quad);
        }
        cJSON *ref = cJSON_AddObjectToObject(root, "reference");
        if (quad) {
            cJSON_AddStringToObject(ref, "solver", "Gragg-Bulirsch-Stoer, binary128");
            cJSON_AddNumberToObject(ref, "order", 2.0 * r.gbs_k);
        } else if (o->conv.ref_rk8pd) {
            cJSON_AddStringToObject(ref, "solver", "GSL rk8pd, fixed steps");
            cJSON_AddNumberToObject(ref, "substeps", (double)r.ref_substeps);
        } else {
            cJSON_AddStringToObject(ref, "solver", "CVODE BDF, analytic dense Jacobian");
            cJSON_AddNumberToObject(ref, "rtol", r.ref_rtol);
        }
        cJSON_AddNumberToObject(ref, "error_estimate", r.ref_error);
        cJSON_AddBoolToObject(ref, "accurate_enough", r.ref_ok);
        cJSON_AddNumberToObject(ref, "steps", (double)r.ref_stats.steps);
        cJSON_AddNumberToObject(root, "m", (double)c->m);
        cJSON_AddNumberToObject(root, "t_end", o->conv.t_end);
        cJSON_AddStringToObject(root, "input", rnn_input_kind_name((rnn_input_kind)o->input));
        cJSON_AddNumberToObject(root, "seed", (double)o->seed);
        char *text = cJSON_Print(root);
        puts(text);
        free(text);
        cJSON_Delete(root);
    } else {
        printf("# odernn converge %s  (m = %zu, input %s, t_end = %g, seed %lu)\n", c->type->name,
               c->m, rnn_input_kind_name((rnn_input_kind)o->input), o->conv.t_end, o->seed);
        printf("%-12s %-12s %-12s %s\n", "dt", "error", "local order", "in fit");
        for (size_t k = 0; k < r.levels; k++)
            printf("%-12.6g %-12.4e %-12.4f %s\n", r.dt[k], r.err[k], r.local_order[k],
                   k >= r.fit_first && k <= r.fit_last ? "yes" : "no");
        char ref[128];
        if (quad)
            snprintf(ref, sizeof ref, "Gragg-Bulirsch-Stoer of order %d in binary128",
                     2 * r.gbs_k);
        else if (o->conv.ref_rk8pd)
            snprintf(ref, sizeof ref, "rk8pd at %zu steps per output interval", r.ref_substeps);
        else
            snprintf(ref, sizeof ref, "CVODE BDF at rtol %g", r.ref_rtol);
        if (r.levels_run > r.levels)
            printf("(dt = %g: error %.4e, below 1000x the reference's error; halving stopped)\n",
                   r.dt[r.levels], r.err[r.levels]);
        printf("order %.4f +- %.4f (expected %d); reference %s, its error %.2e (%s)\n", r.order,
               r.order_stderr, c->type->order, ref, r.ref_error,
               r.ref_ok ? "at least 1000x below the smallest error" : "NOT 1000x below the smallest error");
        if (quad)
            printf("binary128: tableau from %s (order conditions to %.1e, error floor %.1e, "
                   "counted with the reference's); the double cell within %.1e of the binary128 "
                   "run\n", r.quad_source, r.quad_residual, r.coef_floor, r.double_vs_quad);
    }
    free(s0);
    rnn_input_free(in);
    rnn_cell_free(c);
    return rc;
}
