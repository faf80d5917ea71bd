/*
 * lstm.c — the LSTM as the partitioned Euler step of a gated ODE ([OD] §5.3 reading).
 *
 *   state s = (h, c) in R^{2m}, h first (as PyTorch returns (h, c)); sigma = tanh, sig = logistic.
 *   a = W h + U u + b in R^{4m}, one fused product; gate rows in PyTorch's order (i, f, g, o):
 *       i = sig(a[0:m]),  f = sig(a[m:2m]),  g = tanh(a[2m:3m]),  o = sig(a[3m:4m])
 *   ODE:   c' = (f - 1) (.) c + i (.) g,      h' = o (.) tanh(c) - h
 *   step (partitioned Euler, gates at (h_{n-1}, u)):
 *       c_n = kf (.) c + dt i (.) g,          kf = (1 - dt) + dt f
 *       h_n = (1 - dt) h + dt o (.) tanh(c_n)                                   (order 1)
 *   which is c_n = c + dt((f - 1) c + i g), h_n = h + dt(o tanh(c_n) - h) rearranged so that
 *   at dt = 1 every factor is exact: kf = 0 + 1 f = f, 0 h + 1 (o tanh c_n) = o tanh c_n; the
 *   step is then bit for bit the standard LSTM c_n = f c + i g, h_n = o tanh(c_n)
 *   (Hochreiter & Schmidhuber 1997 with the forget gate of Gers et al. 2000).
 *
 *   Notation below: i' = i(1-i), f' = f(1-f), o' = o(1-o), g' = 1 - g^2; W_i, W_f, W_g, W_o the
 *   m x m row blocks of W; tau = tanh(c_n) (step) or tanh(c) (ODE); K the m x m matrix
 *       K = diag(c f') W_f + diag(g i') W_i + diag(i g') W_g      (= d c'/d h of the ODE)
 *
 *   ODE Jacobian:  dc'/dh = K,  dc'/dc = diag(f - 1),
 *                  dh'/dh = diag(tau o') W_o - I,  dh'/dc = diag(o (1 - tau^2))
 *   step Jacobian: dc_n/dh = dt K,  dc_n/dc = diag(kf),
 *                  dh_n/dh = (1 - dt) I + dt diag(tau o') W_o + dt diag(o (1 - tau^2)) dc_n/dh,
 *                  dh_n/dc = dt diag(o (1 - tau^2) kf)
 *                  (the last term of dh_n/dh and the kf in dh_n/dc are the partitioning: h_n
 *                  reads c_n, not c_{n-1})
 *   step VJP, g = (g_h, g_c):  G = g_c + dt g_h o (1 - tau^2)     (all that reaches c_n)
 *       delta_i = dt G g i',  delta_f = dt G c f',  delta_g = dt G i g',  delta_o = dt g_h tau o'
 *       dL/dh = (1 - dt) g_h + W^T delta,  dL/dc = kf G,
 *       dL/dW += delta h^T,  dL/dU += delta u^T,  dL/db += delta      (delta in R^{4m})
 *   ODE VJP (the transpose of the ODE Jacobian; tau = tanh(c), no partitioning): G = g_c,
 *       delta as above with dt -> 1,  dL/dh = -g_h + W^T delta,
 *       dL/dc = (f - 1) g_c + g_h o (1 - tau^2),  parameters as above.
 *   One function serves both (vjp below): the step's G and kf carry the partitioning.
 *
 * (n, t) class: n = 2, t = 2 (see class_derivation below and docs/theory/lstm-gru-euler.md).
 *
 * References: Hochreiter & Schmidhuber, Neural Computation 9(8), 1997; Gers, Schmidhuber,
 * Cummins, Neural Computation 12(10), 2000 (forget gate); Jozefowicz, Zaremba, Sutskever,
 * ICML 2015 (forget-gate bias 1); Niu, Horesh, Chuang, arXiv 1904.12933 [OD]; THEORY.md §2, §5.3.
 */
#include <math.h>
#include <string.h>
#include "cell.h"

enum { W, U, B };
enum { DT, WSCALE, FBIAS };
enum { GI, GF, GG, GO }; /* gate row blocks of W, U, b: a[k m + i] is gate k of unit i */

static const rnn_hyper_def hypers[] = {
    {"dt", 1.0, 0, INFINITY, 1, 1, RNN_HYPER_STEP,
     "partitioned Euler step; dt = 1 is the standard LSTM"},
    {"wscale", 1.0, 0, INFINITY, 0, 1, RNN_HYPER_INIT,
     "init: W, U, b ~ wscale U(-1/sqrt(m), 1/sqrt(m)) (PyTorch nn.LSTM)"},
    {"fbias", 1.0, -INFINITY, INFINITY, 1, 1, RNN_HYPER_INIT,
     "init: forget-gate bias b_f (Jozefowicz et al. 2015: 1)"},
};

static size_t state_dim(const rnn_cell_type *type, size_t m)
{
    (void)type;
    return 2 * m;
}

static size_t layout(const rnn_cell_type *type, size_t m, size_t d, rnn_block *b)
{
    (void)type;
    b[W] = (rnn_block){"W", 4 * m, m, 0};
    b[U] = (rnn_block){"U", 4 * m, d, 0};
    b[B] = (rnn_block){"b", 4 * m, 1, 0};
    return 3;
}

/* Gates (4m) and, for the VJP and JVP, a second 4m vector. */
static size_t work_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)type;
    (void)d;
    return 8 * m;
}

#define P(c, k) ((c)->params + (c)->blocks[k].offset)

/* PyTorch's nn.LSTM draws every weight and bias from U(-k, k), k = 1/sqrt(m); the forget-gate
 * bias is then set to fbias = 1 (Jozefowicz et al. 2015): f ~ sig(1) ~ 0.73 at the start, so the
 * cell state is kept rather than forgotten and gradients reach back further. */
static void init(rnn_cell *c, gsl_rng *r)
{
    const size_t m = c->m, d = c->d;
    const double k = c->hyper[WSCALE] / sqrt((double)m);
    rnn_fill_uniform(r, k, 4 * m * m, P(c, W));
    rnn_fill_uniform(r, k, 4 * m * d, P(c, U));
    rnn_fill_uniform(r, k, 4 * m, P(c, B));
    for (size_t i = 0; i < m; i++)
        P(c, B)[GF * m + i] = c->hyper[FBIAS];
}

/* gates[nb x 4m] = activated (i, f, g, o) at the states s[nb x 2m] (h = the first m entries). */
static void gates(const rnn_cell *c, size_t nb, const double *s, const double *u, double *a)
{
    const size_t m = c->m;
    rnn_gemm_rows(nb, 4 * m, m, P(c, W), s, 2 * m, 0.0, a);
    rnn_gemm_rows(nb, 4 * m, c->d, P(c, U), u, c->d, 1.0, a);
    rnn_add_bias_rows(nb, 4 * m, P(c, B), a);
    for (size_t b = 0; b < nb; b++) {
        double *ab = a + b * 4 * m;
        for (size_t i = 0; i < m; i++) {
            ab[GI * m + i] = rnn_sigmoid(ab[GI * m + i]);
            ab[GF * m + i] = rnn_sigmoid(ab[GF * m + i]);
            ab[GG * m + i] = tanh(ab[GG * m + i]);
            ab[GO * m + i] = rnn_sigmoid(ab[GO * m + i]);
        }
    }
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    (void)t;
    const size_t m = c->m;
    const double dt = c->hyper[DT];
    double *a = c->work;
    gates(c, nb, s, u, a);
    for (size_t b = 0; b < nb; b++) {
        const double *h = s + b * 2 * m, *cc = h + m, *ab = a + b * 4 * m;
        double *hn = out + b * 2 * m, *cn = hn + m;
        for (size_t i = 0; i < m; i++) {
            double kf = (1.0 - dt) + dt * ab[GF * m + i];
            cn[i] = kf * cc[i] + dt * (ab[GI * m + i] * ab[GG * m + i]);
            hn[i] = (1.0 - dt) * h[i] + dt * (ab[GO * m + i] * tanh(cn[i]));
        }
    }
    return RNN_OK;
}

/* Row i of K = dc'/dh into Krow[m]. */
static void k_row(const rnn_cell *c, const double *a, double ci, size_t i, double *Krow)
{
    const size_t m = c->m;
    const double *Wm = P(c, W);
    const double gi = a[GI * m + i], gf = a[GF * m + i], gg = a[GG * m + i];
    const double kfr = ci * gf * (1.0 - gf), kir = gg * gi * (1.0 - gi), kgr = gi * (1.0 - gg * gg);
    const double *Wi = Wm + (GI * m + i) * m, *Wf = Wm + (GF * m + i) * m, *Wg = Wm + (GG * m + i) * m;
    for (size_t j = 0; j < m; j++)
        Krow[j] = kfr * Wf[j] + kir * Wi[j] + kgr * Wg[j];
}

static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    const size_t m = c->m, n = 2 * m;
    const double dt = c->hyper[DT];
    const double *cc = s + m, *Wm = P(c, W);
    double *a = c->work;
    gates(c, 1, s, u, a);
    memset(J, 0, n * n * sizeof(double));
    for (size_t i = 0; i < m; i++) {
        const double gi = a[GI * m + i], gf = a[GF * m + i], gg = a[GG * m + i], go = a[GO * m + i];
        const double kf = (1.0 - dt) + dt * gf;
        const double tau = tanh(kf * cc[i] + dt * (gi * gg));
        const double dhdc = dt * go * (1.0 - tau * tau); /* dh_n/dc_n */
        double *Jh = J + i * n, *Jc = J + (m + i) * n;
        const double *Wo = Wm + (GO * m + i) * m;
        k_row(c, a, cc[i], i, Jc);
        for (size_t j = 0; j < m; j++) {
            Jc[j] *= dt;
            Jh[j] = dt * tau * go * (1.0 - go) * Wo[j] + dhdc * Jc[j];
        }
        Jh[i] += 1.0 - dt;
        Jc[m + i] = kf;
        Jh[m + i] = dhdc * kf;
    }
    return RNN_OK;
}

/* The VJP of the step (ode = 0) or of the ODE right-hand side (ode = 1). Both have the form
 * s -> keep s + h F with (keep, h) = (1, dt) or (0, 1), F the ODE's right-hand side, except that
 * the step's h-update reads c_n: there tau = tanh(c_n) and g_h reaches the gates through c_n too
 * (G = g_c + dt g_h o (1 - tau^2)), while in the ODE tau = tanh(c), G = g_c and g_h o (1 - tau^2)
 * goes straight to dL/dc. kf = (keep - h) + h f is the step's (1 - dt) + dt f and the ODE's
 * f - 1 (written so that the step's rounding is the forward step's). */
static void vjp(const rnn_cell *c, const double *s, const double *u, const double *g, int ode,
                double *gs, double *gtheta)
{
    const size_t m = c->m;
    const double h = ode ? 1.0 : c->hyper[DT], keep = ode ? 0.0 : 1.0;
    const double *hs = s, *cc = s + m, *gh = g, *gc = g + m;
    double *a = c->work, *delta = c->work + 4 * m;
    gates(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        const double gi = a[GI * m + i], gf = a[GF * m + i], gg = a[GG * m + i], go = a[GO * m + i];
        const double kf = (keep - h) + h * gf;
        const double tau = tanh(ode ? cc[i] : kf * cc[i] + h * (gi * gg));
        const double dhdc = gh[i] * go * (1.0 - tau * tau); /* g_h . dh'/dc */
        const double G = ode ? gc[i] : gc[i] + h * dhdc;
        delta[GI * m + i] = h * G * gg * gi * (1.0 - gi);
        delta[GF * m + i] = h * G * cc[i] * gf * (1.0 - gf);
        delta[GG * m + i] = h * G * gi * (1.0 - gg * gg);
        delta[GO * m + i] = h * gh[i] * tau * go * (1.0 - go);
        gs[i] = (keep - h) * gh[i];
        gs[m + i] = ode ? kf * G + dhdc : kf * G;
    }
    rnn_gemv_t(4 * m, m, P(c, W), delta, 1.0, gs);
    rnn_ger(4 * m, m, delta, hs, gtheta + c->blocks[W].offset);
    rnn_ger(4 * m, c->d, delta, u, gtheta + c->blocks[U].offset);
    for (size_t i = 0; i < 4 * m; i++)
        gtheta[c->blocks[B].offset + i] += delta[i];
}

static int step_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                    const double *g, double *gs, double *gtheta)
{
    (void)t;
    vjp(c, s, u, g, 0, gs, gtheta);
    return RNN_OK;
}

static int ode_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *g, double *gs, double *gtheta)
{
    (void)t;
    vjp(c, s, u, g, 1, gs, gtheta);
    return RNN_OK;
}

static int ode_rhs(const rnn_cell *c, double t, const double *s, const double *u, double *f)
{
    (void)t;
    const size_t m = c->m;
    const double *h = s, *cc = s + m;
    double *a = c->work;
    gates(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        f[m + i] = (a[GF * m + i] - 1.0) * cc[i] + a[GI * m + i] * a[GG * m + i];
        f[i] = a[GO * m + i] * tanh(cc[i]) - h[i];
    }
    return RNN_OK;
}

static int ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    const size_t m = c->m, n = 2 * m;
    const double *cc = s + m, *Wm = P(c, W);
    double *a = c->work;
    gates(c, 1, s, u, a);
    memset(J, 0, n * n * sizeof(double));
    for (size_t i = 0; i < m; i++) {
        const double go = a[GO * m + i], tau = tanh(cc[i]);
        double *Jh = J + i * n, *Jc = J + (m + i) * n;
        const double *Wo = Wm + (GO * m + i) * m;
        k_row(c, a, cc[i], i, Jc);
        Jc[m + i] = a[GF * m + i] - 1.0;
        for (size_t j = 0; j < m; j++)
            Jh[j] = tau * go * (1.0 - go) * Wo[j];
        Jh[i] -= 1.0;
        Jh[m + i] = go * (1.0 - tau * tau);
    }
    return RNN_OK;
}

static int ode_jvp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *v, double *Jv)
{
    (void)t;
    const size_t m = c->m;
    const double *cc = s + m, *vh = v, *vc = v + m;
    double *a = c->work, *Wv = c->work + 4 * m;
    gates(c, 1, s, u, a);
    rnn_gemm_rows(1, 4 * m, m, P(c, W), vh, m, 0.0, Wv);
    for (size_t i = 0; i < m; i++) {
        const double gi = a[GI * m + i], gf = a[GF * m + i], gg = a[GG * m + i], go = a[GO * m + i];
        const double tau = tanh(cc[i]);
        Jv[m + i] = cc[i] * gf * (1.0 - gf) * Wv[GF * m + i] + gg * gi * (1.0 - gi) * Wv[GI * m + i] +
                    gi * (1.0 - gg * gg) * Wv[GG * m + i] + (gf - 1.0) * vc[i];
        Jv[i] = tau * go * (1.0 - go) * Wv[GO * m + i] - vh[i] + go * (1.0 - tau * tau) * vc[i];
    }
    return RNN_OK;
}

static const rnn_cell_type type = {
    .name = "lstm",
    .summary = "LSTM as the partitioned Euler step of a gated ODE (dt = 1: the standard LSTM)",
    .ode = "c' = (f - 1) c + i g,  h' = o tanh(c) - h;  (i, f, o) = sig(W_* h + U_* u + b_*), "
           "g = tanh(W_g h + U_g u + b_g);  state (h, c)",
    .scheme = "c_n = ((1 - dt) + dt f) c + dt i g;  h_n = (1 - dt) h + dt o tanh(c_n)  "
              "(gates at h_{n-1}; dt = 1: c_n = f c + i g, h_n = o tanh(c_n))",
    .reference = "Hochreiter & Schmidhuber 1997; Gers et al. 2000; [OD] Niu, Horesh, Chuang, "
                 "arXiv 1904.12933 (reading); THEORY.md §2, §5.3",
    .init_doc = "W, U, b ~ wscale U(-1/sqrt(m), 1/sqrt(m)) as PyTorch nn.LSTM (one bias instead of "
                "PyTorch's two); forget-gate bias = fbias = 1 (Jozefowicz et al. 2015) so that the "
                "cell keeps its state at first; gate rows in the order (i, f, g, o)",
    .order = 1,
    .tableau = NULL, /* h_n reads c_n: a partitioned method, not one Runge-Kutta tableau */
    .stages = 2,
    .memory = 2,
    .class_derivation =
        "n = 2: h_n = o tanh(c_n) applies tanh to c_n, which already holds i g = sig(.) tanh(.) of "
        "h_{n-1}, so two nonlinearities nest per step; t = 2: c_{n-1} = artanh(h_{n-1} / o_{n-1}) "
        "with o_{n-1} = sig(W_o h_{n-2} + ...), so in terms of h alone h_n reads h_{n-1} and h_{n-2}",
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

const rnn_cell_type *const rnn_cell_lstm = &type;
