/*
 * dense_tstep.c — the dense t-step ODERNN, the baseline QUNN is compared with (THEORY.md §5.4):
 * a recursion that reads t past hidden states through t dense m x m matrices. A family
 * dense:<t>; the registered `dense` has t = RNN_DENSE_DEFAULT_T.
 *
 *   step:   h_n = h_{n-1} + dt (-h_{n-1} + sigma(a)),  a = sum_{k=1..t} W_k h_{n-k} + U u + b,
 *           written (1 - dt) h_{n-1} + dt sigma(a) as in tanh.c, so that dense:1 is the tanh
 *           cell to the bit; parameters t m^2 + m d + m.
 *   state:  s = (h_{n-1}, h_{n-2}, ..., h_{n-t}), newest first (type->history = t); W is stored
 *           as one m x (t m) block [W_1 ... W_t], so a = W s + U u + b is one product.
 *   ODE:    on the stacked state every block follows the same decoupled ODE
 *               h_j' = -h_j + sigma(Wbar h_j + U u + b),   Wbar = sum_k W_k  (derived),
 *           the dt -> 0 limit of the recursion, in which all past states coincide; the
 *           consistent manifold "all blocks equal" is invariant. On it the step is consistent
 *           of order 1: h_{n-k} = h_{n-1} + O(dt), so a = Wbar h_{n-1} + U u + b + O(dt) and
 *           the recursion is forward Euler up to dt O(dt).
 *
 *   step Jacobian (block companion):  row block 0 = [(1 - dt) I + dt D W_1, dt D W_2, ...,
 *                   dt D W_t],  D = diag(sigma'(a));  row block j >= 1: I at column block j - 1
 *   ODE Jacobian:   block diagonal, block j = -I + D_j Wbar,  D_j = diag(sigma'(Wbar h_j + U u + b))
 *   step VJP:       g = (g_0, ..., g_{t-1});  delta = dt D g_0;
 *                   dL/ds = W^T delta + ((1 - dt) g_0 + 0, g_1, ..., g_{t-1}) shifted:
 *                   dL/ds_j = W_{j+1}^T delta + [j = 0] (1 - dt) g_0 + [j < t-1] g_{j+1};
 *                   dL/dW += delta s^T,  dL/dU += delta u^T,  dL/db += delta
 *   ODE VJP:        delta_j = D_j g_j;  dL/dh_j = -g_j + Wbar^T delta_j;  every W_k enters
 *                   through Wbar, so each W_k += sum_j delta_j h_j^T (one dgemm per k);
 *                   dL/dU += (sum_j delta_j) u^T,  dL/db += sum_j delta_j
 *
 * Reference: Niu, Horesh, Chuang, arXiv 1904.12933 [OD] (t-step ODERNNs; the Theta(t m^2)
 * baseline of QUNN); THEORY.md §5.4.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "cell.h"

enum { W, U, B };
enum { DT, WSCALE };

typedef struct {
    rnn_cell_type type; /* first: the ops receive the table and cast back (cell.h) */
    size_t t;
    char name[RNN_NAME_LEN];
} dense_family;

static size_t lags(const rnn_cell_type *type)
{
    return ((const dense_family *)type)->t;
}

static const rnn_hyper_def hypers[] = {
    {"dt", 1.0, 0, INFINITY, 1, 1, RNN_HYPER_STEP,
     "step; dt = 1 is the t-step RNN h_n = tanh(sum_k W_k h_{n-k} + U u + b)"},
    {"wscale", 1.0, 0, INFINITY, 0, 1, RNN_HYPER_INIT,
     "init: W_k ~ N(0, wscale^2/(t m)), so sum_k W_k has spectral radius about wscale"},
};

static size_t state_dim(const rnn_cell_type *type, size_t m)
{
    return lags(type) * m;
}

static size_t layout(const rnn_cell_type *type, size_t m, size_t d, rnn_block *b)
{
    b[W] = (rnn_block){"W", m, lags(type) * m, 0};
    b[U] = (rnn_block){"U", m, d, 0};
    b[B] = (rnn_block){"b", m, 1, 0};
    return 3;
}

/* Per sample: a and delta (2 m); the ODE VJP keeps one delta per block ((t + 2) m). */
static size_t work_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)d;
    return (lags(type) + 2) * m;
}

/* Wbar = sum_k W_k */
static size_t derived_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)type, (void)d;
    return m * m;
}

#define P(c, k) ((c)->params + (c)->blocks[k].offset)

static void init(rnn_cell *c, gsl_rng *r)
{
    const size_t m = c->m, d = c->d, t = lags(c->type);
    rnn_fill_gaussian(r, c->hyper[WSCALE] / sqrt((double)(t * m)), m * t * m, P(c, W));
    rnn_fill_gaussian(r, 1.0 / sqrt((double)d), m * d, P(c, U));
    rnn_fill_uniform(r, 0.1, m, P(c, B));
}

static void prepare(rnn_cell *c)
{
    const size_t m = c->m, t = lags(c->type);
    const double *Wm = P(c, W);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++) {
            double v = 0;
            for (size_t k = 0; k < t; k++)
                v += Wm[i * t * m + k * m + j];
            c->derived[i * m + j] = v;
        }
}

/* a[nb x m] = s W^T + u U^T + b, s[nb x t m] */
static void preact(const rnn_cell *c, size_t nb, const double *s, const double *u, double *a)
{
    const size_t tm = lags(c->type) * c->m;
    rnn_gemm_rows(nb, c->m, tm, P(c, W), s, tm, 0.0, a);
    rnn_gemm_rows(nb, c->m, c->d, P(c, U), u, c->d, 1.0, a);
    rnn_add_bias_rows(nb, c->m, P(c, B), a);
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    (void)t;
    const size_t m = c->m, n = lags(c->type) * m;
    const double dt = c->hyper[DT];
    double *a = c->work;
    preact(c, nb, s, u, a);
    for (size_t b = 0; b < nb; b++) {
        const double *sb = s + b * n;
        double *ob = out + b * n;
        /* shift first: it writes only blocks >= 1, so out == s stays correct */
        memmove(ob + m, sb, (n - m) * sizeof(double));
        for (size_t i = 0; i < m; i++)
            ob[i] = (1.0 - dt) * sb[i] + dt * rnn_tanh(a[b * m + i]);
    }
    return RNN_OK;
}

static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    const size_t m = c->m, n = lags(c->type) * m;
    const double dt = c->hyper[DT];
    const double *Wm = P(c, W);
    double *a = c->work;
    preact(c, 1, s, u, a);
    memset(J, 0, n * n * sizeof(double));
    for (size_t i = 0; i < m; i++) {
        const double th = rnn_tanh(a[i]), di = dt * (1.0 - th * th);
        for (size_t j = 0; j < n; j++)
            J[i * n + j] = di * Wm[i * n + j];
        J[i * n + i] += 1.0 - dt;
    }
    for (size_t r = m; r < n; r++)
        J[r * n + r - m] = 1.0;
    return RNN_OK;
}

/* dL/dU += delta u^T, dL/db += delta: the input part of both VJPs. */
static void input_grad(const rnn_cell *c, const double *delta, const double *u, double *gtheta)
{
    rnn_ger(c->m, c->d, delta, u, gtheta + c->blocks[U].offset);
    for (size_t i = 0; i < c->m; i++)
        gtheta[c->blocks[B].offset + i] += delta[i];
}

static int step_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                    const double *g, double *gs, double *gtheta)
{
    (void)t;
    const size_t m = c->m, n = lags(c->type) * m;
    const double dt = c->hyper[DT];
    double *a = c->work, *delta = c->work + m;
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        const double th = rnn_tanh(a[i]);
        delta[i] = dt * (1.0 - th * th) * g[i];
    }
    rnn_gemv_t(m, n, P(c, W), delta, 0.0, gs);
    for (size_t i = 0; i < m; i++)
        gs[i] += (1.0 - dt) * g[i];
    for (size_t r = 0; r + m < n; r++)
        gs[r] += g[r + m]; /* block j was block j + 1 of the output */
    rnn_ger(m, n, delta, s, gtheta + c->blocks[W].offset);
    input_grad(c, delta, u, gtheta);
    return RNN_OK;
}

/* z = U u + b (m), the input part shared by every block of the ODE. */
static void input_part(const rnn_cell *c, const double *u, double *z)
{
    rnn_gemm_rows(1, c->m, c->d, P(c, U), u, c->d, 0.0, z);
    rnn_add_bias_rows(1, c->m, P(c, B), z);
}

static int ode_rhs(const rnn_cell *c, double t, const double *s, const double *u, double *f)
{
    (void)t;
    const size_t m = c->m, nt = lags(c->type);
    double *z = c->work, *a = c->work + m;
    input_part(c, u, z);
    for (size_t blk = 0; blk < nt; blk++) {
        const double *h = s + blk * m;
        memcpy(a, z, m * sizeof(double));
        rnn_gemm_rows(1, m, m, c->derived, h, m, 1.0, a);
        for (size_t i = 0; i < m; i++)
            f[blk * m + i] = rnn_tanh(a[i]) - h[i];
    }
    return RNN_OK;
}

static int ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    const size_t m = c->m, nt = lags(c->type), n = nt * m;
    const double *Wb = c->derived;
    double *z = c->work, *a = c->work + m;
    input_part(c, u, z);
    memset(J, 0, n * n * sizeof(double));
    for (size_t blk = 0; blk < nt; blk++) {
        memcpy(a, z, m * sizeof(double));
        rnn_gemm_rows(1, m, m, Wb, s + blk * m, m, 1.0, a);
        const size_t o = blk * m;
        for (size_t i = 0; i < m; i++) {
            const double th = rnn_tanh(a[i]), di = 1.0 - th * th;
            for (size_t j = 0; j < m; j++)
                J[(o + i) * n + o + j] = di * Wb[i * m + j];
            J[(o + i) * n + o + i] -= 1.0;
        }
    }
    return RNN_OK;
}

static int ode_jvp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *v, double *Jv)
{
    (void)t;
    const size_t m = c->m, nt = lags(c->type);
    double *z = c->work, *a = c->work + m;
    input_part(c, u, z);
    for (size_t blk = 0; blk < nt; blk++) {
        const size_t o = blk * m;
        memcpy(a, z, m * sizeof(double));
        rnn_gemm_rows(1, m, m, c->derived, s + o, m, 1.0, a);
        rnn_gemm_rows(1, m, m, c->derived, v + o, m, 0.0, Jv + o);
        for (size_t i = 0; i < m; i++) {
            const double th = rnn_tanh(a[i]);
            Jv[o + i] = (1.0 - th * th) * Jv[o + i] - v[o + i];
        }
    }
    return RNN_OK;
}

static int ode_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *g, double *gs, double *gtheta)
{
    (void)t;
    const size_t m = c->m, nt = lags(c->type), tm = nt * m;
    double *z = c->work, *a = c->work + m, *Delta = c->work + 2 * m;
    input_part(c, u, z);
    for (size_t blk = 0; blk < nt; blk++) {
        const size_t o = blk * m;
        double *delta = Delta + o;
        memcpy(a, z, m * sizeof(double));
        rnn_gemm_rows(1, m, m, c->derived, s + o, m, 1.0, a);
        for (size_t i = 0; i < m; i++) {
            const double th = rnn_tanh(a[i]);
            delta[i] = (1.0 - th * th) * g[o + i];
        }
    }
    /* W_k += Delta^T S for every k: Delta, S = s are t x m (rows delta_j, h_j); gW has
     * leading dimension t m and W_k starts at column k m. */
    double *gW = gtheta + c->blocks[W].offset;
    for (size_t k = 0; k < nt; k++)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)m, (int)nt, 1.0, Delta,
                    (int)m, s, (int)m, 1.0, gW + k * m, (int)tm);
    for (size_t i = 0; i < m; i++) { /* a := sum_j delta_j */
        a[i] = 0.0;
        for (size_t blk = 0; blk < nt; blk++)
            a[i] += Delta[blk * m + i];
    }
    input_grad(c, a, u, gtheta);
    for (size_t blk = 0; blk < nt; blk++) { /* last: gs may alias g */
        const size_t o = blk * m;
        for (size_t i = 0; i < m; i++)
            gs[o + i] = -g[o + i];
        rnn_gemv_t(m, m, c->derived, Delta + o, 1.0, gs + o);
    }
    return RNN_OK;
}

/* ---- the types ------------------------------------------------------------------------------ */

#define DENSE_OPS                                                                               \
    .summary = "dense t-step ODERNN: t past states through t dense m x m matrices",            \
    .ode = "every stacked block: h_j' = -h_j + tanh((sum_k W_k) h_j + U u + b)",                \
    .scheme = "h_n = (1 - dt) h_{n-1} + dt tanh(sum_{k=1..t} W_k h_{n-k} + U u + b);  "         \
              "state (h_{n-1}, ..., h_{n-t})",                                                  \
    .reference = "Niu, Horesh, Chuang, arXiv 1904.12933 (t-step ODERNN), THEORY.md §5.4",       \
    .init_doc = "W_k ~ N(0, wscale^2/(t m)) (sum_k W_k ~ N(0, wscale^2/m): spectral radius about " \
                "wscale, as the tanh cell's W); U ~ N(0, 1/d); b ~ U(-0.1, 0.1); dt = 1",        \
    .order = 1, .stages = 1,                                                                    \
    .class_derivation = "n = 1: one step applies tanh once, to sum_k W_k h_{n-k} + U u + b; "   \
                        "t = the number of past hidden states the step reads, h_{n-1}..h_{n-t} " \
                        "(by construction)",                                                    \
    .state_dim = state_dim, .layout = layout, .hypers = hypers,                                 \
    .n_hypers = sizeof hypers / sizeof hypers[0], .work_size = work_size,                       \
    .derived_size = derived_size, .init = init, .prepare = prepare, .step = step,              \
    .step_jacobian = step_jacobian, .step_vjp = step_vjp, .ode_rhs = ode_rhs,                   \
    .ode_jacobian = ode_jacobian, .ode_jvp = ode_jvp, .ode_vjp = ode_vjp

/* t = 1 is exactly forward Euler of its (one-block) ODE (tableau "euler"); t > 1 is a
 * multistep recursion, not a Runge-Kutta method (tableau NULL). */
_Static_assert(RNN_DENSE_DEFAULT_T > 1, "the default dense type is declared multistep");
static const dense_family default_type = {
    .type = {.name = "dense", DENSE_OPS, .memory = RNN_DENSE_DEFAULT_T,
             .history = RNN_DENSE_DEFAULT_T, .tableau = NULL},
    .t = RNN_DENSE_DEFAULT_T,
    .name = "dense",
};

const rnn_cell_type *const rnn_cell_dense = &default_type.type;

static const rnn_cell_type template_type = {.name = "dense:<t>", DENSE_OPS};

static const char FAMILY[] = "dense";

static int same_t(const rnn_cell_type *type, const void *key)
{
    return ((const dense_family *)type)->t == *(const size_t *)key;
}

static rnn_cell_type *build_t(const void *key)
{
    dense_family *f = malloc(sizeof *f);
    if (!f)
        return NULL;
    const size_t t = *(const size_t *)key;
    f->type = template_type;
    f->t = t;
    snprintf(f->name, sizeof f->name, "dense:%zu", t);
    f->type.name = f->name;
    f->type.memory = (unsigned)t;
    f->type.history = t;
    f->type.tableau = t == 1 ? "euler" : NULL;
    return &f->type;
}

const rnn_cell_type *rnn_cell_dense_t(size_t t)
{
    if (t == 0 || t > RNN_DENSE_MAX_T)
        return NULL;
    return rnn_family_intern(FAMILY, same_t, build_t, &t);
}
