/*
 * convergence.c — the global error of a cell against its ODE, and the fitted order.
 *
 *   dt_k = t_end / (n0 2^k),  k = 0..K
 *   E(dt_k) = max_n ||s_n - s(t_n)||_inf / max_n ||s(t_n)||_inf   over the grid of level k
 *   order   = least-squares slope of log E against log dt over the asymptotic range
 *
 * The reference s(t) is CVODE (BDF, analytic Jacobian) on the finest grid, whose times
 * contain every coarser grid's. Its own error is estimated by solving again with a
 * tolerance ten times tighter; the tighter solution is used, and the looser one's distance
 * from it (a conservative estimate) must be at least ref_margin = 1000 times below the
 * smallest E. Otherwise the tolerance is tightened by 10 and everything is tried again.
 *
 * The asymptotic range (rnn_fit_order, stats.c): levels whose local order has not yet settled
 * (the pre-asymptotic regime) are left out rather than bending the fit.
 *
 * The input signal is bound to the cell during the runs (rnn_cell_bind_signal), so that
 * multi-stage and multistep cells see u at their stage and past times (THEORY.md §1).
 * A cell whose state holds h > 1 past states (cell.h `history`, the ms: family) starts at
 * level k from the reference itself, S_0 = (s(t_{h-1}), ..., s(t_0)) taken from block 0 of the
 * reference at the first h grid times, runs n_k - h + 1 steps from t_{h-1}, and is compared on
 * block 0 (the ODE's state variable) only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"

void rnn_converge_opts_default(rnn_converge_opts *o)
{
    o->t_end = 4.0;
    o->n0 = 40;
    o->levels = 7;
    o->ref_rtol = 1e-10;
    o->min_ref_rtol = 1e-13;
    o->ref_margin = 1000.0;
}

void rnn_converge_opts_for_order(rnn_converge_opts *o, int p)
{
    rnn_converge_opts_default(o);
    if (p <= 2)
        return;
    /* E ~ C dt^p spans 2^(pK) over K halvings; the smallest E must stay 1000x above the
     * reference's error (~1e-12 at rtol 1e-13), the largest inside the asymptotic range
     * (~1e-2). K = 5 (6 levels, THEORY.md's minimum) and a coarser start for higher p. */
    o->levels = 6;
    o->n0 = p == 3 ? 10 : p == 4 ? 4 : 2;
}

static double max_abs(size_t n, const double *x)
{
    double v = 0;
    for (size_t i = 0; i < n; i++)
        v = fmax(v, fabs(x[i]));
    return v;
}

/* Relative max-norm distance between two trajectories of nt states. */
static double traj_rel_diff(size_t nt, size_t n, const double *A, const double *B)
{
    double num = 0, den = 0;
    for (size_t k = 0; k < nt; k++) {
        for (size_t i = 0; i < n; i++)
            num = fmax(num, fabs(A[k * n + i] - B[k * n + i]));
        den = fmax(den, max_abs(n, B + k * n));
    }
    return den > 0 ? num / den : num;
}

static int reference(const rnn_cell *c, const rnn_input *in, const double *s0, size_t nt,
                     const double *times, double rtol, double *S, rnn_cvode_stats *st,
                     char *msg, size_t len)
{
    rnn_cell_ode_ctx ctx;
    rnn_ode ode;
    int rc = rnn_cell_ode_bind(c, in, &ctx, &ode);
    if (rc != RNN_OK)
        return rc;
    rnn_cvode_opts o;
    rnn_cvode_opts_default(&o);
    o.rtol = rtol;
    o.atol = rtol * 1e-2; /* states are O(1): keep the absolute floor below the relative one */
    o.max_steps = 1000000;
    rc = rnn_cvode_solve(&ode, 0.0, s0, nt, times, S, &o, st, msg, len);
    rnn_cell_ode_unbind(&ctx);
    return rc;
}

static void asymptotic_fit(rnn_converge_result *r)
{
    size_t first = 0;
    if (rnn_fit_order(r->levels, r->dt, r->err, r->local_order, &first, &r->order,
                      &r->order_stderr) != RNN_OK)
        r->order = r->order_stderr = NAN;
    r->fit_first = first;
    r->fit_last = r->levels - 1;
}

int rnn_converge(rnn_cell *c, const rnn_input *in, const double *s0,
                 const rnn_converge_opts *o, rnn_converge_result *r, char *msg, size_t len)
{
    const size_t n = c->n_state, h = c->type->history > 1 ? c->type->history : 1, n1 = n / h;
    if (o->levels < 3 || o->levels > RNN_CONVERGE_MAX_LEVELS || o->n0 < 1 || !(o->t_end > 0) ||
        !isfinite(o->t_end) || !(o->ref_rtol > 0) || !(o->min_ref_rtol > 0)) {
        snprintf(msg, len, "converge: need 3..%d levels, n0 >= 1, t_end > 0 and positive "
                 "reference tolerances", RNN_CONVERGE_MAX_LEVELS);
        return RNN_EINVAL;
    }
    if (o->n0 << (o->levels - 1) > 50000000 / (n > 0 ? n : 1)) {
        snprintf(msg, len, "converge: the finest level (n0 2^K = %zu steps of a %zu-dimensional "
                 "state) is too large; use fewer levels or a smaller n0",
                 o->n0 << (o->levels - 1), n);
        return RNN_EINVAL;
    }
    memset(r, 0, sizeof *r);
    r->levels = o->levels;
    const size_t K = o->levels - 1, nf = o->n0 << K; /* steps at the finest level */
    const double dt_saved = rnn_cell_dt(c);
    double *times = malloc((nf + 1) * sizeof(double));
    double *ref = malloc(2 * (nf + 1) * n * sizeof(double));
    double *S = malloc((nf + 1) * n * sizeof(double));
    double *start = malloc(n * sizeof(double));
    int rc = (times && ref && S && start) ? RNN_OK : RNN_ENOMEM;
    const rnn_input *bound = c->signal;
    rnn_cell_bind_signal(c, in);
    if (rc != RNN_OK)
        snprintf(msg, len, "converge: out of memory for %zu states", nf + 1);

    /* Cell runs at every level; errors measured once the reference is known. */
    double *ref_loose = ref, *ref_tight = ref + (nf + 1) * n;
    for (size_t i = 0; rc == RNN_OK && i <= nf; i++)
        times[i] = o->t_end * (double)i / (double)nf;
    double rtol = o->ref_rtol;
    double min_err = INFINITY;
    for (;;) {
        if (rc == RNN_OK)
            rc = reference(c, in, s0, nf + 1, times, rtol, ref_loose, NULL, msg, len);
        if (rc == RNN_OK)
            rc = reference(c, in, s0, nf + 1, times, rtol / 10, ref_tight, &r->ref_stats, msg, len);
        if (rc != RNN_OK)
            break;
        r->ref_rtol = rtol / 10;
        r->ref_error = traj_rel_diff(nf + 1, n, ref_loose, ref_tight);
        min_err = INFINITY;
        for (size_t k = 0; k <= K && rc == RNN_OK; k++) {
            size_t nk = o->n0 << k, stride = (size_t)1 << (K - k);
            r->dt[k] = o->t_end / (double)nk;
            rc = rnn_cell_set_dt(c, r->dt[k]);
            /* Past states from the reference (h = 1: s0 itself). */
            memcpy(start, s0, n * sizeof(double));
            for (size_t j = 0; h > 1 && j < h; j++)
                memcpy(start + j * n1, ref_tight + (h - 1 - j) * stride * n, n1 * sizeof(double));
            if (rc == RNN_OK)
                rc = rnn_cell_run(c, in, (double)(h - 1) * r->dt[k], start, nk - (h - 1), S);
            if (rc != RNN_OK) {
                snprintf(msg, len, "converge: %s failed at dt = %g: %s", c->type->name, r->dt[k],
                         rnn_strerror(rc));
                break;
            }
            double num = 0, den = 0;
            for (size_t i = 0; i + h - 1 <= nk; i++) {
                const double *sr = ref_tight + (i + h - 1) * stride * n, *sc = S + i * n;
                for (size_t j = 0; j < n1; j++)
                    num = fmax(num, fabs(sc[j] - sr[j]));
                den = fmax(den, max_abs(n1, sr));
            }
            r->err[k] = den > 0 ? num / den : num;
            min_err = fmin(min_err, r->err[k]);
        }
        if (rc != RNN_OK)
            break;
        r->ref_ok = r->ref_error * o->ref_margin <= min_err;
        if (r->ref_ok || rtol / 10 < o->min_ref_rtol * 1.0000001)
            break;
        rtol /= 10;
    }
    rnn_cell_set_dt(c, dt_saved);
    rnn_cell_bind_signal(c, bound);
    if (rc == RNN_OK) {
        for (size_t k = 0; k <= K; k++)
            if (!(r->err[k] > 0)) {
                snprintf(msg, len, "converge: %s has zero error at dt = %g (the ODE is trivial "
                         "for this input?); no order can be fitted", c->type->name, r->dt[k]);
                rc = RNN_EINVAL;
                break;
            }
    }
    if (rc == RNN_OK)
        asymptotic_fit(r);
    free(times);
    free(ref);
    free(S);
    free(start);
    return rc;
}
