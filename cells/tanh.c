/*
 * tanh.c — the tanh (Elman) RNN as the forward-Euler discretisation of a leaky ODE.
 *
 *   ODE:   h' = f(h) = -h + sigma(a),   a = W h + U u + b,   sigma = tanh
 *   step:  h_n = (1 - dt) h_{n-1} + dt sigma(a_{n-1})          (forward Euler, order 1)
 *   dt = 1 gives exactly the Elman RNN h_n = sigma(W h_{n-1} + U u_n + b): writing the step
 *   as (1 - dt) h + dt sigma(a) rather than h + dt (sigma(a) - h) makes that exact in
 *   floating point too.
 *
 *   ODE Jacobian:   df/dh = -I + D W,              D = diag(sigma'(a)) = diag(1 - tanh^2 a)
 *   step Jacobian:  dh_n/dh = (1 - dt) I + dt D W
 *   step VJP:       delta = dt D g;  dL/dh = (1 - dt) g + W^T delta;  (ODE VJP: dt -> 1, 1 - dt -> -1)
 *                   dL/dW += delta h^T,  dL/dU += delta u^T,  dL/db += delta
 *   sigma is rnn_tanh_v (vmath.c): vectorised, within 2 ulp of the correctly rounded tanh.
 *   ode_rhs_quad: the same f in binary128 (tanhq), for order studies below double rounding.
 *
 * Reference: THEORY.md §2; Pascanu, Mikolov, Bengio, ICML 2013 (the cell of [PA]).
 */
#include <math.h>
#include <quadmath.h>
#include <string.h>
#include "cell.h"

enum { W, U, B };
enum { DT, WSCALE };

static const rnn_hyper_def hypers[] = {
    {"dt", 1.0, 0, INFINITY, 1, 1, RNN_HYPER_STEP,
     "Euler step; dt = 1 is the Elman RNN"},
    {"wscale", 1.0, 0, INFINITY, 0, 1, RNN_HYPER_INIT,
     "init: W ~ N(0, wscale^2/m), so its spectral radius is about wscale"},
};

static size_t state_dim(const rnn_cell_type *type, size_t m)
{
    (void)type;
    return m;
}

static size_t layout(const rnn_cell_type *type, size_t m, size_t d, rnn_block *b)
{
    (void)type;
    b[W] = (rnn_block){"W", m, m, 0};
    b[U] = (rnn_block){"U", m, d, 0};
    b[B] = (rnn_block){"b", m, 1, 0};
    return 3;
}

static size_t work_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)type;
    (void)d;
    return 2 * m;
}

#define P(c, k) ((c)->params + (c)->blocks[k].offset)

static void init(rnn_cell *c, gsl_rng *r)
{
    const size_t m = c->m, d = c->d;
    rnn_fill_gaussian(r, c->hyper[WSCALE] / sqrt((double)m), m * m, P(c, W));
    rnn_fill_gaussian(r, 1.0 / sqrt((double)d), m * d, P(c, U));
    rnn_fill_uniform(r, 0.1, m, P(c, B));
}

/* a[nb x m] = s W^T + u U^T (the pre-activation without its bias) */
static void preactivation(const rnn_cell *c, size_t nb, const double *s, const double *u,
                          double *a)
{
    rnn_gemm_rows(nb, c->m, c->m, P(c, W), s, c->m, 0.0, a);
    rnn_gemm_rows(nb, c->m, c->d, P(c, U), u, c->d, 1.0, a);
}

/* a[nb x m] = tanh(s W^T + u U^T + b), the tanh vectorised (vmath.c) */
static void activation(const rnn_cell *c, size_t nb, const double *s, const double *u, double *a)
{
    preactivation(c, nb, s, u, a);
    rnn_add_bias_rows(nb, c->m, P(c, B), a);
    rnn_tanh_v(nb * c->m, a, a);
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    (void)t;
    const double dt = c->hyper[DT];
    double *a = c->work;
    /* bias, tanh and the Euler update in one pass (vmath.c) */
    preactivation(c, nb, s, u, a);
    rnn_tanh_affine(nb, c->m, a, P(c, B), s, 1.0 - dt, dt, out);
    return RNN_OK;
}

/* J = alpha I + beta D W, the shape of both Jacobians. */
static void jac(const rnn_cell *c, const double *s, const double *u, double alpha, double beta,
                double *J)
{
    const size_t m = c->m;
    const double *Wm = P(c, W);
    double *a = c->work;
    activation(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        double th = a[i];
        double di = beta * (1.0 - th * th);
        for (size_t j = 0; j < m; j++)
            J[i * m + j] = di * Wm[i * m + j];
        J[i * m + i] += alpha;
    }
}

static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    const double dt = c->hyper[DT];
    jac(c, s, u, 1.0 - dt, dt, J);
    return RNN_OK;
}

/* gs = alpha g + W^T delta, delta = beta D g; parameters += delta (h, u, 1)^T.
 * (alpha, beta) = (1 - dt, dt) for the step, (-1, 1) for the ODE. */
static void vjp(const rnn_cell *c, const double *s, const double *u, const double *g,
                double alpha, double beta, double *gs, double *gtheta)
{
    const size_t m = c->m;
    double *a = c->work, *delta = c->work + m;
    activation(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        double th = a[i];
        delta[i] = beta * (1.0 - th * th) * g[i];
        gs[i] = alpha * g[i];
    }
    rnn_gemv_t(m, m, P(c, W), delta, 1.0, gs);
    rnn_ger(m, m, delta, s, gtheta + c->blocks[W].offset);
    rnn_ger(m, c->d, delta, u, gtheta + c->blocks[U].offset);
    for (size_t i = 0; i < m; i++)
        gtheta[c->blocks[B].offset + i] += delta[i];
}

static int step_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                    const double *g, double *gs, double *gtheta)
{
    (void)t;
    vjp(c, s, u, g, 1.0 - c->hyper[DT], c->hyper[DT], gs, gtheta);
    return RNN_OK;
}

static int ode_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *g, double *gs, double *gtheta)
{
    (void)t;
    vjp(c, s, u, g, -1.0, 1.0, gs, gtheta);
    return RNN_OK;
}

static int ode_rhs(const rnn_cell *c, double t, const double *s, const double *u, double *f)
{
    (void)t;
    double *a = c->work;
    activation(c, 1, s, u, a);
    for (size_t i = 0; i < c->m; i++)
        f[i] = a[i] - s[i];
    return RNN_OK;
}

static int ode_rhs_quad(const rnn_cell *c, rnn_quad t, const rnn_quad *s, const rnn_quad *u,
                        rnn_quad *work, rnn_quad *f)
{
    (void)t;
    (void)work;
    const size_t m = c->m, d = c->d;
    const double *Wm = P(c, W), *Um = P(c, U), *b = P(c, B);
    for (size_t i = 0; i < m; i++) {
        rnn_quad a = b[i];
        for (size_t j = 0; j < m; j++)
            a += Wm[i * m + j] * s[j];
        for (size_t j = 0; j < d; j++)
            a += Um[i * d + j] * u[j];
        f[i] = tanhq(a) - s[i];
    }
    return RNN_OK;
}

static int ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    jac(c, s, u, -1.0, 1.0, J);
    return RNN_OK;
}

static int ode_jvp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *v, double *Jv)
{
    (void)t;
    const size_t m = c->m;
    double *a = c->work;
    activation(c, 1, s, u, a);
    rnn_gemm_rows(1, m, m, P(c, W), v, m, 0.0, Jv);
    for (size_t i = 0; i < m; i++) {
        double th = a[i];
        Jv[i] = (1.0 - th * th) * Jv[i] - v[i];
    }
    return RNN_OK;
}

static const rnn_cell_type type = {
    .name = "tanh",
    .summary = "Elman tanh RNN as forward Euler of a leaky ODE",
    .ode = "h' = -h + tanh(W h + U u + b)",
    .scheme = "h_n = (1 - dt) h_{n-1} + dt tanh(W h_{n-1} + U u_n + b)  (dt = 1: Elman RNN)",
    .reference = "THEORY.md §2; Pascanu, Mikolov, Bengio, ICML 2013",
    .init_doc = "W ~ N(0, wscale^2/m) (spectral radius ~ wscale, the edge of chaos at 1); "
                "U ~ N(0, 1/d); b ~ U(-0.1, 0.1) so that sigma' is not symmetric about the state",
    .order = 1,
    .tableau = "euler",
    .stages = 1,
    .memory = 1,
    .class_derivation = "n = 1: one tanh between h_{n-1} and h_n; t = 1: the step reads h_{n-1} only",
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
    .ode_rhs_quad = ode_rhs_quad,
};

const rnn_cell_type *const rnn_cell_tanh = &type;
