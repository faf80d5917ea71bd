/*
 * odernn_popular.c — popular cells as ODERNNs (THEORY.md §5.3, [OD] as the suite reads it).
 *
 *   odernn.lstm-is-euler  the standard LSTM  c_n = f c + i g,  h_n = o tanh(c_n)  (gates
 *                         i, f, o = sig(W_* h + U_* u + b_*), g = tanh(W_g h + U_g u + b_g) at
 *                         h_{n-1}, u_n) equals the `lstm` cell, the partitioned Euler step of
 *                         c' = (f - 1) c + i g, h' = o tanh(c) - h, at dt = 1
 *   odernn.gru-is-euler   the standard GRU  h_n = (1 - z) h + z tanh(W_h (r h) + U_h u + b_h)
 *                         (z, r = sig(W_* h + U_* u + b_*)) equals the `gru` cell, the Euler step
 *                         of h' = z (tanh(W_h (r h) + U_h u + b_h) - h), at dt = 1
 *
 * Measured: the reference is written here with plain loops and one weight matrix per gate (as
 * the cells are usually written down), independently of the cells' fused BLAS code; its
 * weights are copied into the cell through the cell's documented layout (gate row blocks of W,
 * U, b in the order (i, f, g, o) for lstm; W_zr = [W_z; W_r] and W, U, b = the candidate's for
 * gru). Both run N_STEPS = 100 steps from the same random state on the same Gaussian inputs,
 * for m in {8, 64}, three seeds each with weight scales 1, 2, 4 times PyTorch's 1/sqrt(m)
 * (unsaturated to strongly saturated gates). measured = max over runs and steps of
 * ||s_cell - s_ref||_inf / ||s_ref||_inf; the detail also gives the one-step difference (both
 * maps applied to the cell's state), which isolates the identity from any growth of rounding
 * differences along the trajectory.
 *
 * verify passes no cell (type NULL): the checks then test the registered `lstm` and `gru`; a
 * test may pass another type with the same parameter layout to see the check fail.
 *
 * Derivation: docs/theory/lstm-gru-euler.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "experiments.h"

/* THEORY.md §5.3's threshold. At dt = 1 the cells perform, after the pre-activations, exactly the
 * floating-point operations of the standard cells (docs/theory/lstm-gru-euler.md), so the two
 * differ only by the summation order of the pre-activations, sums of k = m + d + 1 <= 69
 * terms: a few ulps of O(1) numbers (~1e-16 to 1e-15), passed through Lipschitz-1/4 and
 * Lipschitz-1 activations. 1e-14 leaves a margin of ten while any algebraic difference (a
 * wrong sign, gate order, (1 - z) vs z, a missing partitioning) is O(1e-2) or more. */
#define IS_EULER_TOL 1e-14
#define N_STEPS 100
#define D_IN 4
#define N_SEEDS 3
#define MAX_GATES 4

static const size_t sizes[] = {8, 64};
/* Weight scale of seed k, in units of 1/sqrt(m). */
static const double scales[N_SEEDS] = {1.0, 2.0, 4.0};

/* One weight matrix, input matrix and bias per gate, in one buffer. */
typedef struct {
    size_t m, d, gates;
    double *W[MAX_GATES], *U[MAX_GATES], *b[MAX_GATES];
    double *tmp; /* m doubles of scratch */
    double *buf;
} ref_params;

static int ref_alloc(ref_params *p, size_t m, size_t d, size_t gates)
{
    const size_t per = m * m + m * d + m;
    p->m = m, p->d = d, p->gates = gates;
    p->buf = malloc((gates * per + m) * sizeof(double));
    if (!p->buf)
        return RNN_ENOMEM;
    p->tmp = p->buf + gates * per;
    for (size_t k = 0; k < gates; k++) {
        p->W[k] = p->buf + k * per;
        p->U[k] = p->W[k] + m * m;
        p->b[k] = p->U[k] + m * d;
    }
    return RNN_OK;
}

static double sigm(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* b_k + W_k x + U_k u, row j: the pre-activation of gate k, unit j, as a plain loop. */
static double preact(const ref_params *p, size_t k, size_t j, const double *x, const double *u)
{
    double a = p->b[k][j];
    for (size_t l = 0; l < p->m; l++)
        a += p->W[k][j * p->m + l] * x[l];
    for (size_t l = 0; l < p->d; l++)
        a += p->U[k][j * p->d + l] * u[l];
    return a;
}

/* ---- the standard LSTM: gates k = 0..3 are i, f, g, o; state (h, c) ---------------------------- */

static void lstm_ref_step(const ref_params *p, const double *s, const double *u, double *out)
{
    const size_t m = p->m;
    const double *h = s, *c = s + m;
    for (size_t j = 0; j < m; j++) {
        double i = sigm(preact(p, 0, j, h, u)), f = sigm(preact(p, 1, j, h, u));
        double g = tanh(preact(p, 2, j, h, u)), o = sigm(preact(p, 3, j, h, u));
        double cn = f * c[j] + i * g;
        out[m + j] = cn;
        out[j] = o * tanh(cn);
    }
}

/* The cell's W, U, b hold the gates as row blocks (i, f, g, o). */
static int lstm_load(rnn_cell *c, const ref_params *p)
{
    const size_t m = p->m, d = p->d;
    const rnn_block *W = rnn_cell_block(c, "W"), *U = rnn_cell_block(c, "U"), *b = rnn_cell_block(c, "b");
    if (!W || !U || !b || W->rows != 4 * m || U->rows != 4 * m || b->rows != 4 * m)
        return RNN_EINVAL;
    for (size_t k = 0; k < 4; k++) {
        memcpy(c->params + W->offset + k * m * m, p->W[k], m * m * sizeof(double));
        memcpy(c->params + U->offset + k * m * d, p->U[k], m * d * sizeof(double));
        memcpy(c->params + b->offset + k * m, p->b[k], m * sizeof(double));
    }
    return RNN_OK;
}

/* ---- the standard GRU: gates k = 0..2 are z, r and the candidate ------------------------------- */

static void gru_ref_step(const ref_params *p, const double *h, const double *u, double *out)
{
    const size_t m = p->m;
    double *rh = p->tmp;
    for (size_t j = 0; j < m; j++)
        rh[j] = sigm(preact(p, 1, j, h, u)) * h[j];
    for (size_t j = 0; j < m; j++) {
        double z = sigm(preact(p, 0, j, h, u)), ht = tanh(preact(p, 2, j, rh, u));
        out[j] = (1.0 - z) * h[j] + z * ht;
    }
}

/* The cell's W_zr = [W_z; W_r] (likewise U_zr, b_zr); W, U, b are the candidate's. */
static int gru_load(rnn_cell *c, const ref_params *p)
{
    const size_t m = p->m, d = p->d;
    const rnn_block *blk[6] = {rnn_cell_block(c, "W_zr"), rnn_cell_block(c, "U_zr"),
                               rnn_cell_block(c, "b_zr"), rnn_cell_block(c, "W"),
                               rnn_cell_block(c, "U"), rnn_cell_block(c, "b")};
    for (size_t k = 0; k < 6; k++)
        if (!blk[k] || blk[k]->rows != (k < 3 ? 2 * m : m))
            return RNN_EINVAL;
    for (size_t k = 0; k < 3; k++) {
        const size_t rows = k < 2 ? k * m : 0; /* row offset inside the fused blocks */
        const size_t set = k < 2 ? 0 : 3;      /* fused (gates) or candidate blocks */
        memcpy(c->params + blk[set]->offset + rows * m, p->W[k], m * m * sizeof(double));
        memcpy(c->params + blk[set + 1]->offset + rows * d, p->U[k], m * d * sizeof(double));
        memcpy(c->params + blk[set + 2]->offset + rows, p->b[k], m * sizeof(double));
    }
    return RNN_OK;
}

/* ---- the shared experiment ---------------------------------------------------------------------- */

typedef struct {
    const char *stream;
    const rnn_cell_type *type;
    size_t gates;
    int (*load)(rnn_cell *c, const ref_params *p);
    void (*ref_step)(const ref_params *p, const double *s, const double *u, double *out);
} popular_spec;

static double max_abs(size_t n, const double *x)
{
    double v = 0;
    for (size_t i = 0; i < n; i++)
        v = fmax(v, fabs(x[i]));
    return v;
}

static double rel_diff(size_t n, const double *a, const double *ref)
{
    double e = 0;
    for (size_t i = 0; i < n; i++)
        e = fmax(e, fabs(a[i] - ref[i]));
    return e / max_abs(n, ref);
}

typedef struct {
    double run, one_step; /* worst relative differences */
    size_t m;
    double scale;
} popular_worst;

/* One run: m, seed index k. Updates w. */
static int popular_run(const rnn_check_ctx *ctx, const popular_spec *sp, size_t m, size_t k,
                       popular_worst *w)
{
    const unsigned long idx = 10 * m + k;
    ref_params p;
    if (ref_alloc(&p, m, D_IN, sp->gates) != RNN_OK)
        return RNN_ENOMEM;
    rnn_cell *c = rnn_check_cell(ctx, sp->type, m, D_IN, sp->stream, idx);
    gsl_rng *g = rnn_rng_alloc(ctx->seed, sp->stream, idx);
    const size_t n = c ? c->n_state : 0;
    double *buf = c ? malloc((4 * n + D_IN) * sizeof(double)) : NULL;
    if (!c || !g || !buf) {
        free(buf);
        free(p.buf);
        gsl_rng_free(g);
        rnn_cell_free(c);
        return RNN_ENOMEM;
    }
    const double a = scales[k] / sqrt((double)m);
    for (size_t q = 0; q < sp->gates; q++) {
        rnn_fill_uniform(g, a, m * m, p.W[q]);
        rnn_fill_uniform(g, a, m * D_IN, p.U[q]);
        rnn_fill_uniform(g, a, m, p.b[q]);
    }
    int rc = sp->load(c, &p);
    if (rc == RNN_OK) {
        rnn_cell_params_changed(c);
        rc = rnn_cell_set_dt(c, 1.0);
    }
    double *sc = buf, *sr = buf + n, *next = buf + 2 * n, *one = buf + 3 * n, *u = buf + 4 * n;
    rnn_fill_gaussian(g, 0.5, n, sc);
    memcpy(sr, sc, n * sizeof(double));
    for (size_t step = 0; step < N_STEPS && rc == RNN_OK; step++) {
        rnn_fill_gaussian(g, 1.0, D_IN, u);
        rc = rnn_cell_step(c, (double)step, sc, u, next);
        if (rc != RNN_OK)
            break;
        sp->ref_step(&p, sc, u, one); /* the standard map at the cell's own state */
        double e1 = rel_diff(n, next, one);
        memcpy(sc, next, n * sizeof(double));
        sp->ref_step(&p, sr, u, next);
        memcpy(sr, next, n * sizeof(double));
        double e = rel_diff(n, sc, sr);
        if (!(e1 <= w->one_step))
            w->one_step = e1;
        if (!(e <= w->run)) {
            w->run = e;
            w->m = m;
            w->scale = scales[k];
        }
    }
    free(buf);
    free(p.buf);
    gsl_rng_free(g);
    rnn_cell_free(c);
    return rc;
}

static int popular_check(const rnn_check_ctx *ctx, const popular_spec *sp, rnn_check_result *r)
{
    popular_worst w = {0, 0, 0, 0};
    for (size_t im = 0; im < sizeof sizes / sizeof sizes[0]; im++)
        for (size_t k = 0; k < N_SEEDS; k++) {
            int rc = popular_run(ctx, sp, sizes[im], k, &w);
            if (rc != RNN_OK)
                return rnn_check_error(r, rc, "%s (m = %zu, seed %zu): %s%s", sp->type->name,
                                       sizes[im], k, rnn_strerror(rc),
                                       rc == RNN_EINVAL ? " (parameter blocks not as documented)" : "");
        }
    r->measured = w.run;
    r->threshold = IS_EULER_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = w.run <= IS_EULER_TOL;
    snprintf(r->detail, sizeof r->detail,
             "%s at dt = 1 vs a hand-written standard cell, %d steps, m = 8, 64, %d seeds "
             "(weights U(-a, a), a = 1, 2, 4 / sqrt(m)): max ||s - s_ref||_inf / ||s_ref||_inf = "
             "%.2e (m = %zu, a = %g / sqrt(m)); one step from the same state: %.2e",
             sp->type->name, N_STEPS, N_SEEDS, w.run, w.m, w.scale, w.one_step);
    return RNN_OK;
}

int rnn_check_odernn_lstm_is_euler(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                   rnn_check_result *r)
{
    const popular_spec sp = {"odernn.lstm-is-euler", type ? type : rnn_cell_lstm, 4, lstm_load,
                              lstm_ref_step};
    return popular_check(ctx, &sp, r);
}

int rnn_check_odernn_gru_is_euler(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                  rnn_check_result *r)
{
    const popular_spec sp = {"odernn.gru-is-euler", type ? type : rnn_cell_gru, 3, gru_load,
                              gru_ref_step};
    return popular_check(ctx, &sp, r);
}
