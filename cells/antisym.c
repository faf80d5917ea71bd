/*
 * antisym.c — AntisymmetricRNN [AS eq. 12]: forward Euler of an ODE whose Jacobian has an
 * antisymmetric factor.
 *
 *   A = W - W^T - gamma I        (gamma >= 0: diffusion)
 *   ODE:   h' = f(h) = sigma(a),   a = A h + V u + b,   sigma = tanh
 *   step:  h_n = h_{n-1} + eps sigma(a_{n-1})             (forward Euler with step eps, order 1)
 *
 *   ODE Jacobian:   df/dh = D A,   D = diag(sigma'(a))
 *   step Jacobian:  I + eps D A
 *   step VJP:       delta = eps D g;  dL/dh = g + A^T delta;
 *                   dL/dA = delta h^T, hence dL/dW = delta h^T - h delta^T (A depends on W
 *                   through W - W^T); dL/dV += delta u^T; dL/db += delta
 *
 * Reference: Chang, Chen, Haber, Chi, "AntisymmetricRNN", ICLR 2019, eq. 12; THEORY.md §2, §4.1.
 */
#include <math.h>
#include <string.h>
#include "cell.h"

enum { W, V, B };
enum { EPS, GAMMA, WSCALE };

static const rnn_hyper_def hypers[] = {
    {"eps", 0.1, 0, INFINITY, 1, 1, RNN_HYPER_STEP, "Euler step size epsilon"},
    {"gamma", 0.01, -INFINITY, INFINITY, 1, 1, 0,
     "diffusion: A = W - W^T - gamma I (the paper uses gamma >= 0)"},
    {"wscale", 1.0, 0, INFINITY, 0, 1, RNN_HYPER_INIT, "init: W ~ N(0, wscale^2/m) [AS §4]"},
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
    b[V] = (rnn_block){"V", m, d, 0};
    b[B] = (rnn_block){"b", m, 1, 0};
    return 3;
}

static size_t work_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)type;
    (void)d;
    return 2 * m;
}

static size_t derived_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)type;
    (void)d;
    return m * m;
}

#define P(c, k) ((c)->params + (c)->blocks[k].offset)

static void init(rnn_cell *c, gsl_rng *r)
{
    rnn_fill_gaussian(r, c->hyper[WSCALE] / sqrt((double)c->m), c->m * c->m, P(c, W));
    rnn_fill_gaussian(r, 1.0 / sqrt((double)c->d), c->m * c->d, P(c, V));
    rnn_fill_uniform(r, 0.1, c->m, P(c, B));
}

/* derived = A = W - W^T - gamma I */
static void prepare(rnn_cell *c)
{
    rnn_skew_shift(c->m, P(c, W), c->hyper[GAMMA], c->derived);
}

static void preact(const rnn_cell *c, size_t nb, const double *s, const double *u, double *a)
{
    rnn_gemm_rows(nb, c->m, c->m, c->derived, s, c->m, 0.0, a);
    rnn_gemm_rows(nb, c->m, c->d, P(c, V), u, c->d, 1.0, a);
    rnn_add_bias_rows(nb, c->m, P(c, B), a);
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    (void)t;
    const double eps = c->hyper[EPS];
    double *a = c->work;
    preact(c, nb, s, u, a);
    for (size_t i = 0; i < nb * c->m; i++)
        out[i] = s[i] + eps * tanh(a[i]);
    return RNN_OK;
}

/* J = alpha I + beta D A */
static void jac(const rnn_cell *c, const double *s, const double *u, double alpha, double beta,
                double *J)
{
    const size_t m = c->m;
    const double *A = c->derived;
    double *a = c->work;
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        double th = tanh(a[i]);
        double di = beta * (1.0 - th * th);
        for (size_t j = 0; j < m; j++)
            J[i * m + j] = di * A[i * m + j];
        J[i * m + i] += alpha;
    }
}

static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    jac(c, s, u, 1.0, c->hyper[EPS], J);
    return RNN_OK;
}

/* gs = alpha g + A^T delta, delta = beta D g; parameters += delta (h, u, 1)^T, with W
 * entering through W - W^T. (alpha, beta) = (1, eps) for the step, (0, 1) for the ODE. */
static void vjp(const rnn_cell *c, const double *s, const double *u, const double *g,
                double alpha, double beta, double *gs, double *gtheta)
{
    const size_t m = c->m;
    double *a = c->work, *delta = c->work + m;
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        double th = tanh(a[i]);
        delta[i] = beta * (1.0 - th * th) * g[i];
        gs[i] = alpha * g[i];
    }
    rnn_gemv_t(m, m, c->derived, delta, 1.0, gs);
    rnn_skew_ger(m, delta, s, gtheta + c->blocks[W].offset);
    rnn_ger(m, c->d, delta, u, gtheta + c->blocks[V].offset);
    for (size_t i = 0; i < m; i++)
        gtheta[c->blocks[B].offset + i] += delta[i];
}

static int step_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                    const double *g, double *gs, double *gtheta)
{
    (void)t;
    vjp(c, s, u, g, 1.0, c->hyper[EPS], gs, gtheta);
    return RNN_OK;
}

static int ode_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *g, double *gs, double *gtheta)
{
    (void)t;
    vjp(c, s, u, g, 0.0, 1.0, gs, gtheta);
    return RNN_OK;
}

static int ode_rhs(const rnn_cell *c, double t, const double *s, const double *u, double *f)
{
    (void)t;
    double *a = c->work;
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < c->m; i++)
        f[i] = tanh(a[i]);
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
    double *a = c->work;
    preact(c, 1, s, u, a);
    rnn_gemm_rows(1, c->m, c->m, c->derived, v, c->m, 0.0, Jv);
    for (size_t i = 0; i < c->m; i++) {
        double th = tanh(a[i]);
        Jv[i] *= 1.0 - th * th;
    }
    return RNN_OK;
}

static const rnn_cell_type type = {
    .name = "antisym",
    .summary = "AntisymmetricRNN: Euler on h' = tanh((W - W^T - gamma I) h + V u + b)",
    .ode = "h' = tanh((W - W^T - gamma I) h + V u + b)",
    .scheme = "h_n = h_{n-1} + eps tanh((W - W^T - gamma I) h_{n-1} + V u_n + b)",
    .reference = "Chang et al., AntisymmetricRNN, ICLR 2019, eq. 12",
    .init_doc = "W ~ N(0, wscale^2/m) with wscale = 1 (the paper's sigma_w^2/m); V ~ N(0, 1/d); "
                "b ~ U(-0.1, 0.1); eps = 0.1, gamma = 0.01 (inside the paper's grid)",
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
    .derived_size = derived_size,
    .init = init,
    .prepare = prepare,
    .step = step,
    .step_jacobian = step_jacobian,
    .step_vjp = step_vjp,
    .ode_rhs = ode_rhs,
    .ode_jacobian = ode_jacobian,
    .ode_jvp = ode_jvp,
    .ode_vjp = ode_vjp,
};

const rnn_cell_type *const rnn_cell_antisym = &type;
