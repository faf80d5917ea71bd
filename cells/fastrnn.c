/*
 * fastrnn.c — FastRNN (Kusupati et al., NeurIPS 2018) as a family indexed by the step size.
 *
 *   ODE:   h' = f(h) = r (sigma(a) - h),   a = W h + U u + b,   sigma = tanh,   r = `rate`
 *   step:  h_n = alpha sigma(a_{n-1}) + beta h_{n-1},   alpha = r dt,   beta = 1 - alpha + drift
 *
 * FastRNN's update h_t = alpha h~_t + beta h_{t-1} with trainable scalars alpha, beta. Here
 * alpha = r dt ties it to a step size, and `drift` is how far beta is from 1 - alpha:
 *   drift = 0:  h_n = h + dt r (sigma(a) - h), exactly the forward-Euler step (order 1;
 *               checked by fastrnn.is-euler). FastRNN's default initialisation is this case:
 *               alpha = sigmoid(-3), beta = sigmoid(3) = 1 - alpha.
 *   drift != 0: FastRNN with an untied beta. Then h_n - h = dt f(h) + drift h, and the
 *               extra term does not vanish with dt: the step is NOT a consistent integrator of
 *               this ODE (it is Euler of h' = r (sigma(a) - h) + (drift/dt) h, an ODE that
 *               changes with dt). order.fastrnn is measured at drift = 0 only.
 *
 *   ODE Jacobian:   df/dh = r (D W - I),   D = diag(sigma'(a))
 *   step Jacobian:  dh_n/dh = beta I + alpha D W
 *   step VJP:       delta = alpha D g;  dL/dh = beta g + W^T delta;
 *                   dL/dW += delta h^T,  dL/dU += delta u^T,  dL/db += delta
 *   ODE VJP:        the same with (beta, alpha) -> (-r, r): delta = r D g, dL/dh = -r g + W^T delta
 *
 * The step is written as alpha sigma(a) + beta h (FastRNN's form), not h + dt f(h): at drift 0
 * the two differ by rounding only (a few ulps), which is what fastrnn.is-euler measures.
 *
 * Reference: Kusupati, Singh, Bhatia, Kumar, Jain, Varma, "FastGRNN: A Fast, Accurate, Stable
 * and Tiny Kilobyte Sized Gated Recurrent Neural Network", NeurIPS 2018, §3.1 (FastRNN);
 * THEORY.md §2, §5.5.
 */
#include <math.h>
#include <string.h>
#include "cell.h"

enum { W, U, B };
enum { DT, RATE, DRIFT, WSCALE };

/* sigmoid(-3): FastRNN's initial alpha (alpha_init = -3 through a sigmoid). */
#define FASTRNN_ALPHA0 0.047425873177566781

static const rnn_hyper_def hypers[] = {
    {"dt", FASTRNN_ALPHA0, 0, INFINITY, 1, 1, RNN_HYPER_STEP,
     "step size: alpha = rate dt (default sigmoid(-3), FastRNN's initial alpha)"},
    {"rate", 1.0, 0, INFINITY, 1, 1, 0, "relaxation rate r of the ODE h' = r (tanh(.) - h)"},
    {"drift", 0.0, -INFINITY, INFINITY, 1, 1, 0,
     "beta - (1 - alpha): 0 is exactly Euler; nonzero is FastRNN with untied beta "
     "(not consistent with the ODE)"},
    {"wscale", 1.0, 0, INFINITY, 0, 1, RNN_HYPER_INIT, "init: W ~ N(0, wscale^2/m)"},
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

static void coefficients(const rnn_cell *c, double *alpha, double *beta)
{
    *alpha = c->hyper[RATE] * c->hyper[DT];
    *beta = 1.0 - *alpha + c->hyper[DRIFT];
}

static void preact(const rnn_cell *c, size_t nb, const double *s, const double *u, double *a)
{
    rnn_gemm_rows(nb, c->m, c->m, P(c, W), s, c->m, 0.0, a);
    rnn_gemm_rows(nb, c->m, c->d, P(c, U), u, c->d, 1.0, a);
    rnn_add_bias_rows(nb, c->m, P(c, B), a);
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    (void)t;
    double alpha, beta;
    coefficients(c, &alpha, &beta);
    double *a = c->work;
    preact(c, nb, s, u, a);
    for (size_t i = 0; i < nb * c->m; i++)
        out[i] = alpha * tanh(a[i]) + beta * s[i];
    return RNN_OK;
}

/* J = diag_coef I + scale D W, the shape of both Jacobians. */
static void jac(const rnn_cell *c, const double *s, const double *u, double diag_coef,
                double scale, double *J)
{
    const size_t m = c->m;
    const double *Wm = P(c, W);
    double *a = c->work;
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        double th = tanh(a[i]), di = scale * (1.0 - th * th);
        for (size_t j = 0; j < m; j++)
            J[i * m + j] = di * Wm[i * m + j];
        J[i * m + i] += diag_coef;
    }
}

static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    double alpha, beta;
    coefficients(c, &alpha, &beta);
    jac(c, s, u, beta, alpha, J);
    return RNN_OK;
}

/* gs = diag_coef g + W^T delta, delta = scale D g; parameters += delta (h, u, 1)^T.
 * (diag_coef, scale) = (beta, alpha) for the step, (-r, r) for the ODE: the shapes of jac. */
static void vjp(const rnn_cell *c, const double *s, const double *u, const double *g,
                double diag_coef, double scale, double *gs, double *gtheta)
{
    const size_t m = c->m;
    double *a = c->work, *delta = c->work + m;
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        double th = tanh(a[i]);
        delta[i] = scale * (1.0 - th * th) * g[i];
        gs[i] = diag_coef * g[i];
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
    double alpha, beta;
    coefficients(c, &alpha, &beta);
    vjp(c, s, u, g, beta, alpha, gs, gtheta);
    return RNN_OK;
}

static int ode_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *g, double *gs, double *gtheta)
{
    (void)t;
    const double r = c->hyper[RATE];
    vjp(c, s, u, g, -r, r, gs, gtheta);
    return RNN_OK;
}

static int ode_rhs(const rnn_cell *c, double t, const double *s, const double *u, double *f)
{
    (void)t;
    const double r = c->hyper[RATE];
    double *a = c->work;
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < c->m; i++)
        f[i] = r * (tanh(a[i]) - s[i]);
    return RNN_OK;
}

static int ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    const double r = c->hyper[RATE];
    jac(c, s, u, -r, r, J);
    return RNN_OK;
}

static int ode_jvp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *v, double *Jv)
{
    (void)t;
    const size_t m = c->m;
    const double r = c->hyper[RATE];
    double *a = c->work;
    preact(c, 1, s, u, a);
    rnn_gemm_rows(1, m, m, P(c, W), v, m, 0.0, Jv);
    for (size_t i = 0; i < m; i++) {
        double th = tanh(a[i]);
        Jv[i] = r * ((1.0 - th * th) * Jv[i] - v[i]);
    }
    return RNN_OK;
}

static const rnn_cell_type type = {
    .name = "fastrnn",
    .summary = "FastRNN: alpha tanh(W h + U u + b) + beta h, alpha = rate dt, "
               "beta = 1 - alpha + drift",
    .ode = "h' = rate (tanh(W h + U u + b) - h)",
    .scheme = "h_n = alpha tanh(W h_{n-1} + U u_n + b) + beta h_{n-1},  alpha = rate dt, "
              "beta = 1 - alpha + drift  (drift = 0: forward Euler)",
    .reference = "Kusupati et al., FastGRNN, NeurIPS 2018, §3.1 (FastRNN)",
    .init_doc = "dt = sigmoid(-3) = 0.0474 and rate = 1, drift = 0: alpha = sigmoid(-3), "
                "beta = sigmoid(3) = 1 - alpha, FastRNN's initial alpha, beta (alpha_init = -3, "
                "beta_init = 3); W ~ N(0, wscale^2/m), wscale = 1; U ~ N(0, 1/d); "
                "b ~ U(-0.1, 0.1)",
    .order = 1,
    .tableau = "euler",
    .stages = 1,
    .memory = 1,
    .class_derivation = "n = 1: tanh applied once to (W h_{n-1} + U u + b); t = 1: the step "
                        "reads only h_{n-1}",
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

const rnn_cell_type *const rnn_cell_fastrnn = &type;
