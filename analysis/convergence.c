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

/* rk8pd reference: the largest first step, and how many doublings of the step count to try.
 * At h = 0.02 the Prince–Dormand 8(9) error on the cells' ODEs is already at rounding
 * (measured: sub 1 -> 2 differ by ~1e-15 at h = 1/64 for tanh and cornn, m = 16); the
 * doublings are for ODEs with faster rates. */
#define RK8_H0 0.02
#define RK8_MAX_REFINE 4

void rnn_converge_opts_default(rnn_converge_opts *o)
{
    o->t_end = 4.0;
    o->n0 = 40;
    o->levels = 7;
    o->ref_rtol = 1e-10;
    o->min_ref_rtol = 1e-13;
    o->ref_margin = 1000.0;
    o->ref_method = RNN_CVODE_BDF;
    o->ref_rk8pd = 0;
    o->trim = 0;
}

void rnn_converge_opts_for_order(rnn_converge_opts *o, int p, size_t history)
{
    rnn_converge_opts_default(o);
    if (p <= 2) {
        /* CVODE (THEORY.md's reference for order.*) and 10 levels, trimmed where the error
         * meets 1000x CVODE's: methods whose asymptotic range starts late (leapfrog on a
         * dissipative ODE, docs/theory/odernn-family.md §5) still get resolved levels. */
        o->levels = 10;
        o->trim = 1;
        return;
    }
    /* E ~ C dt^p spans 2^(pK) over K halvings, and the fit needs the asymptotic ones: for
     * p >= 4 they lie between ~1e-5 and ~1e-12, below CVODE's floor (~1e-12 at rtol 1e-13).
     * rk8pd reaches ~1e-15; from a coarse dt_0 = 2 the halvings run until the error meets
     * 1000x the reference's (trim), so each method gets the levels its error constant allows. */
    o->n0 = 2;
    o->levels = 11;
    /* a cell holding h past states starts from h reference states: the coarsest level needs
     * steps of its own beyond them (dt_0 = t_end / n0, so n0 stays a power of two) */
    while (o->n0 < 4 * history && o->levels > 6) {
        o->n0 *= 2;
        o->levels--; /* the same finest step, dt = 2^-9 */
    }
    o->ref_rk8pd = 1;
    o->trim = 1;
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

/* The reference on the output grid: CVODE with `method` at rtol (sub == 0), or rk8pd with sub
 * steps per output interval. */
static int reference(const rnn_cell *c, const rnn_input *in, const double *s0, size_t nt,
                     const double *times, rnn_cvode_method method, double rtol, size_t sub,
                     double *S, rnn_cvode_stats *st, char *msg, size_t len)
{
    rnn_cell_ode_ctx ctx;
    rnn_ode ode;
    int rc = rnn_cell_ode_bind(c, in, &ctx, &ode);
    if (rc != RNN_OK)
        return rc;
    if (sub > 0) {
        rc = rnn_rk8pd_solve(&ode, 0.0, s0, nt, times, sub, S, msg, len);
    } else {
        rnn_cvode_opts o;
        rnn_cvode_opts_default(&o);
        o.method = method;
        o.rtol = rtol;
        o.atol = rtol * 1e-2; /* states are O(1): keep the absolute floor below the relative one */
        o.max_steps = 1000000;
        rc = rnn_cvode_solve(&ode, 0.0, s0, nt, times, S, &o, st, msg, len);
    }
    rnn_cell_ode_unbind(&ctx);
    return rc;
}

/* Refinement r of the reference: CVODE at rtol ref_rtol 10^-r, or rk8pd with sub0 2^r steps
 * per output interval; `loose` is refinement r, `tight` refinement r + 1. For r > 0 the caller
 * passes the previous tight solution as `loose` (it is refinement r), so only `tight` is solved. */
static int reference_pair(const rnn_cell *c, const rnn_input *in, const double *s0, size_t nt,
                          const double *times, const rnn_converge_opts *o, size_t sub0, int r,
                          double *loose, double *tight, rnn_converge_result *res, char *msg,
                          size_t len)
{
    const size_t sub = o->ref_rk8pd ? sub0 << r : 0;
    const double rtol = o->ref_rk8pd ? 0 : o->ref_rtol * pow(10.0, -r);
    int rc = RNN_OK;
    if (r == 0)
        rc = reference(c, in, s0, nt, times, o->ref_method, rtol, sub, loose, NULL, msg, len);
    if (rc == RNN_OK)
        rc = reference(c, in, s0, nt, times, o->ref_method, rtol / 10, 2 * sub, tight,
                       &res->ref_stats, msg, len);
    res->ref_rtol = rtol / 10;
    res->ref_substeps = 2 * sub;
    return rc;
}

void rnn_converge_fit(rnn_converge_result *r)
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
    r->levels = r->levels_run = o->levels;
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
    /* rk8pd: start from steps of at most RK8_H0 (rounding-level error on O(1) rates). */
    const double fine_dt = o->t_end / (double)nf;
    const size_t sub0 = fine_dt > RK8_H0 ? (size_t)ceil(fine_dt / RK8_H0) : 1;
    double min_err = INFINITY, prev_ref_error = INFINITY;
    for (int refine = 0;; refine++) {
        if (refine > 0) { /* the previous tight solution is this refinement's loose one */
            double *tmp = ref_loose;
            ref_loose = ref_tight;
            ref_tight = tmp;
        }
        if (rc == RNN_OK)
            rc = reference_pair(c, in, s0, nf + 1, times, o, sub0, refine, ref_loose, ref_tight,
                                r, msg, len);
        if (rc != RNN_OK)
            break;
        r->ref_error = traj_rel_diff(nf + 1, n, ref_loose, ref_tight);
        const int last = o->ref_rk8pd ? refine + 1 >= RK8_MAX_REFINE
                                      : r->ref_rtol < o->min_ref_rtol * 1.0000001;
        /* Trimming: refine the reference first, while its error still falls (rounding stops
         * it), then run the levels once, stopping at the first the reference cannot resolve. */
        const int stalled = refine > 0 && r->ref_error > 0.5 * prev_ref_error;
        prev_ref_error = r->ref_error;
        if (o->trim && !last && !stalled)
            continue;
        min_err = INFINITY;
        r->levels_run = 0;
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
            r->levels_run = k + 1;
            if (o->trim && r->ref_error * o->ref_margin > r->err[k] && k >= 3)
                break; /* finer levels would measure the reference, not the cell */
        }
        if (rc != RNN_OK)
            break;
        /* Trimmed: the levels down to the last one still resolved by the reference. */
        r->levels = r->levels_run;
        while (o->trim && r->levels > 3 && r->ref_error * o->ref_margin > r->err[r->levels - 1])
            r->levels--;
        for (size_t k = 0; k < r->levels; k++)
            min_err = fmin(min_err, r->err[k]);
        r->ref_ok = r->ref_error * o->ref_margin <= min_err;
        if (r->ref_ok || last || o->trim)
            break;
    }
    rnn_cell_set_dt(c, dt_saved);
    rnn_cell_bind_signal(c, bound);
    if (rc == RNN_OK) {
        for (size_t k = 0; k < r->levels; k++)
            if (!(r->err[k] > 0)) {
                snprintf(msg, len, "converge: %s has zero error at dt = %g (the ODE is trivial "
                         "for this input?); no order can be fitted", c->type->name, r->dt[k]);
                rc = RNN_EINVAL;
                break;
            }
    }
    if (rc == RNN_OK)
        rnn_converge_fit(r);
    free(times);
    free(ref);
    free(S);
    free(start);
    return rc;
}
