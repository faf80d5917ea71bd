/*
 * gru.c — the GRU as the forward-Euler step of a gated leaky ODE ([OD] §5.3 reading).
 *
 *   state h in R^m; sig = logistic, tanh the candidate's nonlinearity.
 *   gates (one fused product, rows z then r):  [a_z; a_r] = W_zr h + U_zr u + b_zr,
 *       z = sig(a_z) (update gate),  r = sig(a_r) (reset gate)
 *   candidate (the reset gate inside the product, Cho et al. 2014 eq. 8):
 *       a_h = W (r (.) h) + U u + b,  ht = tanh(a_h)
 *   ODE:   h' = f(h) = z (.) (ht - h)
 *   step:  h_n = (1 - dt z) (.) h + dt z (.) ht     (= h + dt f(h): forward Euler, order 1)
 *   dt = 1 gives, with the same floating-point operations, the standard GRU
 *   h_n = (1 - z) h + z ht (the convention of Chung et al. 2014 and THEORY.md; Cho et al. write
 *   z h + (1 - z) ht, the same family with z -> 1 - z, i.e. W_z, U_z, b_z negated).
 *
 *   Notation: z' = z(1-z), r' = r(1-r), ht' = 1 - ht^2, W_z, W_r the m x m row blocks of W_zr.
 *   ODE Jacobian:  df/dh = diag((ht - h) z') W_z + diag(z ht') W (diag(r) + diag(h r') W_r)
 *                          - diag(z)
 *   step Jacobian: I + dt df/dh
 *   step VJP (g = dL/dh_n, G = dt g; the ODE VJP is the same with dt -> 1 and g -> 0 in "g - G z"):
 *       delta_z = G (ht - h) z',  delta_h = G z ht',  q = W^T delta_h,  delta_r = q h r'
 *       dL/dh = g - G z + q r + W_zr^T [delta_z; delta_r]
 *       dL/dW_zr += [delta_z; delta_r] h^T,  dL/dU_zr += [delta_z; delta_r] u^T,
 *       dL/db_zr += [delta_z; delta_r],      dL/dW += delta_h (r h)^T,
 *       dL/dU += delta_h u^T,                dL/db += delta_h
 *
 * (n, t) class: n = 2, t = 1 (see class_derivation below and docs/theory/lstm-gru-euler.md).
 *
 * References: Cho et al., EMNLP 2014, eqs. 5-8; Chung, Gulcehre, Cho, Bengio, arXiv 1412.3555
 * (2014); [OD] Niu, Horesh, Chuang, arXiv 1904.12933 (reading); THEORY.md §2, §5.3.
 */
#include <math.h>
#include <string.h>
#include "cell.h"

enum { WZR, UZR, BZR, WH, UH, BH };
enum { DT, WSCALE };

static const rnn_hyper_def hypers[] = {
    {"dt", 1.0, 0, INFINITY, 1, 1, RNN_HYPER_STEP, "Euler step; dt = 1 is the standard GRU"},
    {"wscale", 1.0, 0, INFINITY, 0, 1, RNN_HYPER_INIT,
     "init: every weight and bias ~ wscale U(-1/sqrt(m), 1/sqrt(m)) (PyTorch nn.GRU)"},
};

static size_t state_dim(const rnn_cell_type *type, size_t m)
{
    (void)type;
    return m;
}

static size_t layout(const rnn_cell_type *type, size_t m, size_t d, rnn_block *b)
{
    (void)type;
    b[WZR] = (rnn_block){"W_zr", 2 * m, m, 0};
    b[UZR] = (rnn_block){"U_zr", 2 * m, d, 0};
    b[BZR] = (rnn_block){"b_zr", 2 * m, 1, 0};
    b[WH] = (rnn_block){"W", m, m, 0};
    b[UH] = (rnn_block){"U", m, d, 0};
    b[BH] = (rnn_block){"b", m, 1, 0};
    return 6;
}

/* Per sample: z, r (2m), r h (m), ht (m); the single-sample ops use 4m more. */
static size_t work_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)type;
    (void)d;
    return 8 * m;
}

#define P(c, k) ((c)->params + (c)->blocks[k].offset)

/* PyTorch's nn.GRU: every weight and bias U(-k, k), k = 1/sqrt(m) (one candidate bias where
 * PyTorch has two). */
static void init(rnn_cell *c, gsl_rng *r)
{
    const size_t m = c->m, d = c->d;
    const double k = c->hyper[WSCALE] / sqrt((double)m);
    rnn_fill_uniform(r, k, 2 * m * m, P(c, WZR));
    rnn_fill_uniform(r, k, 2 * m * d, P(c, UZR));
    rnn_fill_uniform(r, k, 2 * m, P(c, BZR));
    rnn_fill_uniform(r, k, m * m, P(c, WH));
    rnn_fill_uniform(r, k, m * d, P(c, UH));
    rnn_fill_uniform(r, k, m, P(c, BH));
}

/* The workspace of nb samples: zr[nb x 2m] (activated z, r), rh[nb x m], ht[nb x m]. */
typedef struct {
    double *zr, *rh, *ht;
} gru_ws;

static gru_ws gru_eval(const rnn_cell *c, size_t nb, const double *s, const double *u)
{
    const size_t m = c->m;
    gru_ws w = {c->work, c->work + nb * 2 * m, c->work + nb * 3 * m};
    rnn_gemm_rows(nb, 2 * m, m, P(c, WZR), s, m, 0.0, w.zr);
    rnn_gemm_rows(nb, 2 * m, c->d, P(c, UZR), u, c->d, 1.0, w.zr);
    rnn_add_bias_rows(nb, 2 * m, P(c, BZR), w.zr);
    for (size_t i = 0; i < nb * 2 * m; i++)
        w.zr[i] = rnn_sigmoid(w.zr[i]);
    for (size_t b = 0; b < nb; b++)
        for (size_t i = 0; i < m; i++)
            w.rh[b * m + i] = w.zr[b * 2 * m + m + i] * s[b * m + i];
    rnn_gemm_rows(nb, m, m, P(c, WH), w.rh, m, 0.0, w.ht);
    rnn_gemm_rows(nb, m, c->d, P(c, UH), u, c->d, 1.0, w.ht);
    rnn_add_bias_rows(nb, m, P(c, BH), w.ht);
    for (size_t i = 0; i < nb * m; i++)
        w.ht[i] = tanh(w.ht[i]);
    return w;
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    (void)t;
    const size_t m = c->m;
    const double dt = c->hyper[DT];
    gru_ws w = gru_eval(c, nb, s, u);
    for (size_t b = 0; b < nb; b++)
        for (size_t i = 0; i < m; i++) {
            const double z = w.zr[b * 2 * m + i];
            out[b * m + i] = (1.0 - dt * z) * s[b * m + i] + dt * (z * w.ht[b * m + i]);
        }
    return RNN_OK;
}

/* J = alpha I + beta df/dh, the shape of both Jacobians. Row i of W (diag(r) + diag(h r') W_r)
 * is W_i (.) r + W_r^T (W_i (.) h r'): one gemv per row. */
static void jac(const rnn_cell *c, const double *s, const double *u, double alpha, double beta,
                double *J)
{
    const size_t m = c->m;
    const double *Wz = P(c, WZR), *Wr = P(c, WZR) + m * m, *Wh = P(c, WH);
    gru_ws w = gru_eval(c, 1, s, u);
    const double *z = w.zr, *r = w.zr + m;
    double *x = c->work + 4 * m;
    for (size_t i = 0; i < m; i++) {
        double *Ji = J + i * m;
        const double *Whi = Wh + i * m;
        for (size_t j = 0; j < m; j++) {
            x[j] = Whi[j] * s[j] * r[j] * (1.0 - r[j]);
            Ji[j] = Whi[j] * r[j];
        }
        rnn_gemv_t(m, m, Wr, x, 1.0, Ji);
        const double cz = beta * (w.ht[i] - s[i]) * z[i] * (1.0 - z[i]);
        const double ch = beta * z[i] * (1.0 - w.ht[i] * w.ht[i]);
        for (size_t j = 0; j < m; j++)
            Ji[j] = ch * Ji[j] + cz * Wz[i * m + j];
        Ji[i] += alpha - beta * z[i];
    }
}

static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    jac(c, s, u, 1.0, c->hyper[DT], J);
    return RNN_OK;
}

/* The VJP of s -> keep s + h f(s): the step with (h, keep) = (dt, 1), the ODE with (1, 0). */
static void vjp(const rnn_cell *c, const double *s, const double *u, const double *g, double h,
                double keep, double *gs, double *gtheta)
{
    const size_t m = c->m, d = c->d;
    const double dt = h;
    gru_ws w = gru_eval(c, 1, s, u);
    const double *z = w.zr, *r = w.zr + m;
    double *dzr = c->work + 4 * m, *dh = dzr + 2 * m, *q = dh + m;
    for (size_t i = 0; i < m; i++) {
        const double G = dt * g[i];
        dzr[i] = G * (w.ht[i] - s[i]) * z[i] * (1.0 - z[i]);
        dh[i] = G * z[i] * (1.0 - w.ht[i] * w.ht[i]);
    }
    rnn_gemv_t(m, m, P(c, WH), dh, 0.0, q);
    for (size_t i = 0; i < m; i++) {
        dzr[m + i] = q[i] * s[i] * r[i] * (1.0 - r[i]);
        gs[i] = keep * g[i] - dt * g[i] * z[i] + q[i] * r[i];
    }
    rnn_gemv_t(2 * m, m, P(c, WZR), dzr, 1.0, gs);
    rnn_ger(2 * m, m, dzr, s, gtheta + c->blocks[WZR].offset);
    rnn_ger(2 * m, d, dzr, u, gtheta + c->blocks[UZR].offset);
    rnn_ger(m, m, dh, w.rh, gtheta + c->blocks[WH].offset);
    rnn_ger(m, d, dh, u, gtheta + c->blocks[UH].offset);
    for (size_t i = 0; i < 2 * m; i++)
        gtheta[c->blocks[BZR].offset + i] += dzr[i];
    for (size_t i = 0; i < m; i++)
        gtheta[c->blocks[BH].offset + i] += dh[i];
}

static int step_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                    const double *g, double *gs, double *gtheta)
{
    (void)t;
    vjp(c, s, u, g, c->hyper[DT], 1.0, gs, gtheta);
    return RNN_OK;
}

static int ode_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *g, double *gs, double *gtheta)
{
    (void)t;
    vjp(c, s, u, g, 1.0, 0.0, gs, gtheta);
    return RNN_OK;
}

static int ode_rhs(const rnn_cell *c, double t, const double *s, const double *u, double *f)
{
    (void)t;
    gru_ws w = gru_eval(c, 1, s, u);
    for (size_t i = 0; i < c->m; i++)
        f[i] = w.zr[i] * (w.ht[i] - s[i]);
    return RNN_OK;
}

static int ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    jac(c, s, u, 0.0, 1.0, J);
    return RNN_OK;
}

static int ode_jvp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *v, double *Jv)
{
    (void)t;
    const size_t m = c->m;
    gru_ws w = gru_eval(c, 1, s, u);
    const double *z = w.zr, *r = w.zr + m;
    double *Wv = c->work + 4 * m, *x = Wv + 2 * m, *Wx = x + m;
    rnn_gemm_rows(1, 2 * m, m, P(c, WZR), v, m, 0.0, Wv);
    for (size_t i = 0; i < m; i++)
        x[i] = r[i] * v[i] + s[i] * r[i] * (1.0 - r[i]) * Wv[m + i];
    rnn_gemm_rows(1, m, m, P(c, WH), x, m, 0.0, Wx);
    for (size_t i = 0; i < m; i++)
        Jv[i] = (w.ht[i] - s[i]) * z[i] * (1.0 - z[i]) * Wv[i] +
                z[i] * ((1.0 - w.ht[i] * w.ht[i]) * Wx[i] - v[i]);
    return RNN_OK;
}

static const rnn_cell_type type = {
    .name = "gru",
    .summary = "GRU as forward Euler of a gated leaky ODE (dt = 1: the standard GRU)",
    .ode = "h' = z (tanh(W (r h) + U u + b) - h);  [z; r] = sig(W_zr h + U_zr u + b_zr)",
    .scheme = "h_n = (1 - dt z) h_{n-1} + dt z tanh(W (r h_{n-1}) + U u + b)  "
              "(dt = 1: h_n = (1 - z) h_{n-1} + z ht)",
    .reference = "Cho et al., EMNLP 2014; Chung et al., arXiv 1412.3555; [OD] Niu, Horesh, Chuang, "
                 "arXiv 1904.12933 (reading); THEORY.md §2, §5.3",
    .init_doc = "every weight and bias ~ wscale U(-1/sqrt(m), 1/sqrt(m)), as PyTorch nn.GRU (one "
                "candidate bias instead of PyTorch's two): the common default, sig and tanh "
                "unsaturated at the start",
    .order = 1,
    .tableau = "euler",
    .stages = 2,
    .memory = 1,
    .class_derivation =
        "n = 2: the candidate tanh(W (r h) + ...) applies tanh to r = sig(W_r h_{n-1} + ...), two "
        "nested nonlinearities (z only multiplies); t = 1: the step reads h_{n-1} alone",
    .state_dim = state_dim,
    .layout = layout,
    .hypers = hypers,
    .n_hypers = sizeof hypers / sizeof hypers[0],
    .work_size = work_size,
    .init = init,
    .step = step,
    .step_jacobian = step_jacobian,
    .step_vjp = step_vjp,
    .ode_rhs = ode_rhs,
    .ode_jacobian = ode_jacobian,
    .ode_jvp = ode_jvp,
    .ode_vjp = ode_vjp,
};

const rnn_cell_type *const rnn_cell_gru = &type;
