/*
 * convergence_quad.c — the global error of an rk:<tableau>:<cell> against its ODE in binary128.
 *
 * Why: an order-p fit needs three settled levels spanning 2^(2p), each 1000x above the
 * reference's error. For p >= 5 on the cells' ODEs the settled levels start near 1e-11 (the
 * tables are built to make the leading error term small), and double rounding (~1e-15) ends
 * them: docs/theory/odernn-family.md §5. In binary128 (eps ~ 1e-34) the same grid reaches
 * errors of 1e-25 and below.
 *
 * What runs in binary128: the tableau (rnn_tableau_to_quad: the rational coefficients ARKODE's
 * doubles were rounded from, verified by the order conditions, or the doubles themselves when
 * they are not exact), the ODE's right-hand side (the cell's ode_rhs_quad) and the input signal
 * (rnn_input_eval_quad). The parameters are the cell's doubles, exact in binary128, so the
 * ODE is the one the double cell discretises.
 *
 *   levels, errors:  as rnn_converge: dt_k = t_end / (n0 2^k), E(dt_k) = max_n ||s_n -
 *                    s(t_n)||_inf / max_n ||s(t_n)||_inf on level k's grid; the levels stop at
 *                    the first whose error is below ref_margin x the reference's (trim)
 *   reference:       Gragg-Bulirsch-Stoer (quad_ode.c) at H = the finest dt with GBS_K
 *                    columns (order 2 GBS_K); its error is estimated by its distance to the
 *                    run with GBS_K - 1 columns, a conservative estimate
 *   coefficients:    a table whose fractions meet the order conditions only to delta (the
 *                    published ARK5(4)8L fractions: ~1e-26) adds an error that does not fall
 *                    with dt; to leading order (the defect of sum b_i = 1, carried over [0, T])
 *                    it is coef_floor = delta T max_n ||f(s(t_n))|| / max_n ||s(t_n)||. The
 *                    trimming and the 1000x margin apply to max(reference error, coef_floor)
 *   same map:        at every level the cell's own double run is compared with the binary128
 *                    run (double_vs_quad): a different ODE, input or tableau would show as an
 *                    O(dt^q) or O(1) distance, rounding as ~1e-14
 *
 * The reference depends on the ODE, the input, s0 and the grid, not on the tableau: the last
 * REF_CACHE references are kept, so that the tableaux of one check share them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <quadmath.h>
#include "analysis.h"

/* GBS columns: order 12 at H = 2^-9 on the tanh and coRNN ODEs (rates |lambda| <~ 5) leaves
 * an error ~ (H |lambda|)^13 / (2 4 ... 12)^2 ~ 1e-33, below every level's error by far more
 * than ref_margin; the k - 1 = 5 column run (order 10) is the estimate. */
#define GBS_K 6
#define REF_CACHE 2

typedef struct {
    const rnn_cell *c;
    const rnn_input *in;
    rnn_quad *u, *work;
} quad_ctx;

static int quad_rhs(rnn_quad t, const rnn_quad *s, rnn_quad *f, void *p)
{
    quad_ctx *x = p;
    rnn_input_eval_quad(x->in, t, x->u);
    return x->c->type->ode_rhs_quad(x->c, t, s, x->u, x->work, f);
}

int rnn_converge_quad_supported(const rnn_cell_type *type)
{
    const rnn_tableau *tab = type && type->tableau ? rnn_tableau_find(type->tableau) : NULL;
    return tab && type->base && type->ode_rhs_quad && type->history <= 1 &&
           tab->s <= RNN_QUAD_MAX_STAGES && tab->order <= RNN_QUAD_MAX_ORDER &&
           rnn_tableau_is_explicit(tab);
}

/* Orders p >= 5 have no settled levels above double rounding on the cells' ODEs (their error
 * constants are small; docs/theory/odernn-family.md §5): such a cell is studied in binary128
 * when its table's exact rational coefficients are known. */
#define QUAD_MIN_ORDER 5

int rnn_converge_quad_preferred(const rnn_cell_type *type)
{
    if (!rnn_converge_quad_supported(type) || type->order < QUAD_MIN_ORDER)
        return 0;
    rnn_tableau_quad Q;
    return rnn_tableau_to_quad(rnn_tableau_find(type->tableau), &Q) == RNN_OK && Q.exact;
}

/* ---- the reference cache: key = everything the reference depends on -------------------- */

typedef struct {
    unsigned char *key;
    size_t key_len, nt, n;
    rnn_quad *S;
    double error;
} ref_entry;

static ref_entry cache[REF_CACHE];
static unsigned long cache_clock, cache_used[REF_CACHE];

static void put(unsigned char **p, const void *src, size_t bytes)
{
    if (*p)
        memcpy(*p, src, bytes);
    *p = *p ? *p + bytes : NULL;
}

/* The key's bytes into buf (NULL: only count them). */
static size_t make_key(const rnn_cell *c, const rnn_input *in, const double *s0, double t_end,
                       size_t nf, unsigned char *buf)
{
    unsigned char *p = buf;
    size_t bytes = 0;
#define PUT(src, nbytes) (put(&p, (src), (nbytes)), bytes += (nbytes))
    const rnn_cell_type *base = c->type->base;
    PUT(&base, sizeof base);
    PUT(&c->m, sizeof c->m);
    PUT(&c->d, sizeof c->d);
    PUT(c->params, c->n_params * sizeof(double));
    PUT(c->hyper, c->n_hypers * sizeof(double));
    PUT(s0, c->n_state * sizeof(double));
    PUT(&t_end, sizeof t_end);
    PUT(&nf, sizeof nf);
    PUT(&in->kind, sizeof in->kind);
    if (in->kind == RNN_INPUT_SINES) {
        PUT(in->amp, in->d * RNN_SINES_TERMS * sizeof(double));
        PUT(in->omega, in->d * RNN_SINES_TERMS * sizeof(double));
        PUT(in->phase, in->d * RNN_SINES_TERMS * sizeof(double));
    } else if (in->kind != RNN_INPUT_ZERO) {
        PUT(&in->t0, sizeof in->t0);
        PUT(&in->h, sizeof in->h);
        PUT(in->seq, in->n * in->d * sizeof(double));
    }
#undef PUT
    return bytes;
}

/* Copies a cached reference into S (nt x n) and its error; 1 if found. */
static int cache_get(const unsigned char *key, size_t len, size_t nt, size_t n, rnn_quad *S,
                     double *error)
{
    int found = 0;
#pragma omp critical(rnn_quad_ref_cache)
    for (int i = 0; i < REF_CACHE && !found; i++)
        if (cache[i].key && cache[i].key_len == len && cache[i].nt == nt && cache[i].n == n &&
            memcmp(cache[i].key, key, len) == 0) {
            memcpy(S, cache[i].S, nt * n * sizeof(rnn_quad));
            *error = cache[i].error;
            cache_used[i] = ++cache_clock;
            found = 1;
        }
    return found;
}

static void cache_put(const unsigned char *key, size_t len, size_t nt, size_t n,
                      const rnn_quad *S, double error)
{
    unsigned char *k = malloc(len);
    rnn_quad *copy = malloc(nt * n * sizeof(rnn_quad));
    if (!k || !copy) { /* not cached: only slower */
        free(k);
        free(copy);
        return;
    }
    memcpy(k, key, len);
    memcpy(copy, S, nt * n * sizeof(rnn_quad));
#pragma omp critical(rnn_quad_ref_cache)
    {
        int v = 0; /* the least recently used entry */
        for (int i = 1; i < REF_CACHE; i++)
            if (cache_used[i] < cache_used[v])
                v = i;
        free(cache[v].key);
        free(cache[v].S);
        cache[v] = (ref_entry){k, len, nt, n, copy, error};
        cache_used[v] = ++cache_clock;
    }
}

/* ---- the study ----------------------------------------------------------------------------- */

/* max_n ||A_n - B_n||_inf / max_n ||B_n||_inf over the rows n = 0, stride, 2 stride, ... of B
 * against the rows 0, 1, 2, ... of A (nA rows). */
static double rel_diff_quad(size_t nA, size_t n, const rnn_quad *A, const rnn_quad *B,
                            size_t stride)
{
    rnn_quad num = 0, den = 0;
    for (size_t k = 0; k < nA; k++)
        for (size_t i = 0; i < n; i++) {
            num = fmaxq(num, fabsq(A[k * n + i] - B[k * stride * n + i]));
            den = fmaxq(den, fabsq(B[k * stride * n + i]));
        }
    return (double)(den > 0 ? num / den : num);
}

/* The reference on the finest grid (nf + 1 states): GBS with GBS_K columns, and its error. */
static int reference(quad_ctx *x, size_t n, rnn_quad H, size_t nf, const rnn_quad *q0,
                     rnn_quad *ref, rnn_quad *loose, rnn_quad *work, double *error, char *msg,
                     size_t len)
{
    int rc = rnn_quad_gbs_run(n, quad_rhs, x, 0, H, nf, GBS_K, q0, ref, work);
    if (rc == RNN_OK)
        rc = rnn_quad_gbs_run(n, quad_rhs, x, 0, H, nf, GBS_K - 1, q0, loose, work);
    if (rc != RNN_OK)
        snprintf(msg, len, "converge (binary128): the Gragg-Bulirsch-Stoer reference failed: %s",
                 rnn_strerror(rc));
    else
        *error = rel_diff_quad(nf + 1, n, loose, ref, 1);
    return rc;
}

int rnn_converge_quad(rnn_cell *c, const rnn_input *in, const double *s0,
                      const rnn_converge_opts *o, rnn_converge_result *r, char *msg, size_t len)
{
    if (!rnn_converge_quad_supported(c->type)) {
        snprintf(msg, len, "converge (binary128): %s is not an rk:<tableau>:<cell> cell whose ODE "
                 "has a binary128 right-hand side (tanh and cornn have one)", c->type->name);
        return RNN_EUNSUPPORTED;
    }
    if (o->levels < 3 || o->levels > RNN_CONVERGE_MAX_LEVELS || o->n0 < 1 || !(o->t_end > 0) ||
        !isfinite(o->t_end)) {
        snprintf(msg, len, "converge: need 3..%d levels, n0 >= 1 and t_end > 0",
                 RNN_CONVERGE_MAX_LEVELS);
        return RNN_EINVAL;
    }
    const size_t n = c->n_state, d = c->d, K = o->levels - 1, nf = o->n0 << K;
    if (nf > 50000000 / n) {
        snprintf(msg, len, "converge: the finest level (%zu steps of a %zu-dimensional state) is "
                 "too large; use fewer levels or a smaller n0", nf, n);
        return RNN_EINVAL;
    }
    rnn_tableau_quad Q;
    int rc = rnn_tableau_to_quad(rnn_tableau_find(c->type->tableau), &Q);
    if (rc != RNN_OK) {
        snprintf(msg, len, "converge (binary128): tableau %s: %s", c->type->tableau,
                 rnn_strerror(rc));
        return rc;
    }
    memset(r, 0, sizeof *r);
    r->levels = r->levels_run = o->levels;
    r->quad = 1;
    r->quad_exact = Q.exact;
    r->quad_residual = Q.residual;
    r->quad_source = Q.source;
    r->gbs_k = GBS_K;
    const size_t wq = (Q.s + 1 > GBS_K + 3 ? Q.s + 1 : GBS_K + 3) * n;
    const size_t key_len = make_key(c, in, s0, o->t_end, nf, NULL);
    rnn_quad *ref = malloc((nf + 1) * n * sizeof(rnn_quad));
    rnn_quad *Sq = malloc((nf + 1) * n * sizeof(rnn_quad));
    rnn_quad *work = malloc((wq + n + d + n) * sizeof(rnn_quad));
    double *Sd = malloc((nf + 1) * n * sizeof(double));
    unsigned char *key = malloc(key_len);
    if (!ref || !Sq || !work || !Sd || !key) {
        free(ref), free(Sq), free(work), free(Sd), free(key);
        snprintf(msg, len, "converge: out of memory for %zu states", nf + 1);
        return RNN_ENOMEM;
    }
    make_key(c, in, s0, o->t_end, nf, key);
    rnn_quad *q0 = work + wq, *u = q0 + n, *fwork = u + d;
    for (size_t i = 0; i < n; i++)
        q0[i] = s0[i];
    quad_ctx x = {c, in, u, fwork};
    const rnn_quad T = o->t_end;
    if (!cache_get(key, key_len, nf + 1, n, ref, &r->ref_error)) {
        rc = reference(&x, n, T / nf, nf, q0, ref, Sq, work, &r->ref_error, msg, len);
        if (rc == RNN_OK)
            cache_put(key, key_len, nf + 1, n, ref, r->ref_error);
    }

    /* the coefficients' error floor: delta T max ||f|| / max ||s|| along the reference */
    rnn_quad fmax_q = 0, smax_q = 0;
    for (size_t i = 0; rc == RNN_OK && i <= nf; i++) {
        rc = quad_rhs(T * i / nf, ref + i * n, Sq, &x);
        for (size_t j = 0; j < n && rc == RNN_OK; j++) {
            fmax_q = fmaxq(fmax_q, fabsq(Sq[j]));
            smax_q = fmaxq(smax_q, fabsq(ref[i * n + j]));
        }
    }
    r->coef_floor = Q.residual * o->t_end * (double)(smax_q > 0 ? fmax_q / smax_q : fmax_q);
    const double floor_err = fmax(r->ref_error, r->coef_floor);

    const double dt_saved = rnn_cell_dt(c);
    const rnn_input *bound = c->signal;
    rnn_cell_bind_signal(c, in);
    r->levels_run = 0;
    for (size_t k = 0; k <= K && rc == RNN_OK; k++) {
        const size_t nk = o->n0 << k, stride = (size_t)1 << (K - k);
        r->dt[k] = o->t_end / (double)nk;
        rc = rnn_quad_rk_run(&Q, n, quad_rhs, &x, 0, T / nk, nk, q0, Sq, work);
        if (rc != RNN_OK) {
            snprintf(msg, len, "converge (binary128): %s failed at dt = %g: %s", c->type->name,
                     r->dt[k], rnn_strerror(rc));
            break;
        }
        r->err[k] = rel_diff_quad(nk + 1, n, Sq, ref, stride);
        /* the cell's own double run at the same dt: the same map up to rounding */
        rc = rnn_cell_set_dt(c, r->dt[k]);
        if (rc == RNN_OK)
            rc = rnn_cell_run(c, in, 0.0, s0, nk, Sd);
        if (rc != RNN_OK) {
            snprintf(msg, len, "converge: %s failed at dt = %g: %s", c->type->name, r->dt[k],
                     rnn_strerror(rc));
            break;
        }
        double num = 0, den = 0;
        for (size_t i = 0; i < (nk + 1) * n; i++) {
            num = fmax(num, fabs(Sd[i] - (double)Sq[i]));
            den = fmax(den, fabs((double)Sq[i]));
        }
        r->double_vs_quad = fmax(r->double_vs_quad, den > 0 ? num / den : num);
        r->levels_run = k + 1;
        if (o->trim && floor_err * o->ref_margin > r->err[k] && k >= 3)
            break; /* finer levels would measure the reference or the coefficients */
    }
    rnn_cell_set_dt(c, dt_saved);
    rnn_cell_bind_signal(c, bound);
    if (rc == RNN_OK) {
        r->levels = r->levels_run;
        while (o->trim && r->levels > 3 && floor_err * o->ref_margin > r->err[r->levels - 1])
            r->levels--;
        double min_err = INFINITY;
        for (size_t k = 0; k < r->levels; k++)
            min_err = fmin(min_err, r->err[k]);
        r->ref_ok = floor_err * o->ref_margin <= min_err;
        for (size_t k = 0; k < r->levels && rc == RNN_OK; k++)
            if (!(r->err[k] > 0)) {
                snprintf(msg, len, "converge: %s has zero error at dt = %g; no order can be "
                         "fitted", c->type->name, r->dt[k]);
                rc = RNN_EINVAL;
            }
    }
    if (rc == RNN_OK)
        rnn_converge_fit(r);
    free(ref), free(Sq), free(work), free(Sd), free(key);
    return rc;
}
