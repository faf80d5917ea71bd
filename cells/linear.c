/*
 * linear.c — the linear cell: the test problem of linear stability analysis as a cell.
 *
 *   ODE:   h' = f(h) = A h + B u                   A (m x m), B (m x d) parameters
 *   step:  h_n = h_{n-1} + dt (A h_{n-1} + B u)    (forward Euler, order 1)
 *
 *   ODE Jacobian:   df/dh = A                      step Jacobian:  dh_n/dh = I + dt A
 *   ODE VJP:        dL/dh = A^T g;         dL/dA += g h^T;      dL/dB += g u^T
 *   step VJP:       dL/dh = g + dt A^T g;  dL/dA += dt g h^T;   dL/dB += dt g u^T
 *
 * There is no nonlinearity, so every family built on it (rk:<tableau>:linear,
 * ms:<method>:linear) is exactly its method applied to h' = A h + B u: with u = 0 and
 * A = [[a, -b], [b, a]] (eigenvalues a +- i b) the step is R(dt A) for a Runge-Kutta tableau
 * and the companion recursion for a multistep method, the checks odernn.stability-function
 * and odernn.root-condition (THEORY.md §5.1-5.2, docs/theory/odernn-family.md).
 *
 * Reference: Hairer & Wanner, Solving ODEs II (1996), §IV.2 (the linear test equation);
 * THEORY.md §5.
 */
#include <math.h>
#include <string.h>
#include "cell.h"

enum { A, B };
enum { DT, DECAY, WSCALE };

static const rnn_hyper_def hypers[] = {
    {"dt", 0.1, 0, INFINITY, 1, 1, RNN_HYPER_STEP, "Euler step size"},
    {"decay", 1.0, -INFINITY, INFINITY, 1, 1, RNN_HYPER_INIT,
     "init: A = -decay I + N(0, wscale^2/m): the spectrum is centred at -decay"},
    {"wscale", 0.5, 0, INFINITY, 0, 1, RNN_HYPER_INIT,
     "init: the random part of A has spectral radius about wscale"},
};

static size_t state_dim(const rnn_cell_type *type, size_t m)
{
    (void)type;
    return m;
}

static size_t layout(const rnn_cell_type *type, size_t m, size_t d, rnn_block *b)
{
    (void)type;
    b[A] = (rnn_block){"A", m, m, 0};
    b[B] = (rnn_block){"B", m, d, 0};
    return 2;
}

static size_t work_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)type;
    (void)d;
    return m;
}

#define P(c, k) ((c)->params + (c)->blocks[k].offset)

/* A = -decay I + N(0, wscale^2/m): with the defaults (1, 0.5) the eigenvalues lie in the disc
 * of radius ~0.5 about -1, so the ODE is stable and mildly non-normal. */
static void init(rnn_cell *c, gsl_rng *r)
{
    const size_t m = c->m, d = c->d;
    double *Am = P(c, A);
    rnn_fill_gaussian(r, c->hyper[WSCALE] / sqrt((double)m), m * m, Am);
    for (size_t i = 0; i < m; i++)
        Am[i * m + i] -= c->hyper[DECAY];
    rnn_fill_gaussian(r, 1.0 / sqrt((double)d), m * d, P(c, B));
}

/* f[nb x m] = s A^T + u B^T */
static void rhs_rows(const rnn_cell *c, size_t nb, const double *s, const double *u, double *f)
{
    rnn_gemm_rows(nb, c->m, c->m, P(c, A), s, c->m, 0.0, f);
    rnn_gemm_rows(nb, c->m, c->d, P(c, B), u, c->d, 1.0, f);
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    (void)t;
    const double dt = c->hyper[DT];
    double *f = c->work;
    rhs_rows(c, nb, s, u, f);
    for (size_t i = 0; i < nb * c->m; i++)
        out[i] = s[i] + dt * f[i];
    return RNN_OK;
}

/* J = alpha I + beta A, the shape of both Jacobians. J does not depend on s, but a non-finite
 * s means the trajectory has already failed: report it as every other cell's Jacobian does
 * (its value then turns NaN), rather than return a finite matrix for a NaN state. */
static int jac(const rnn_cell *c, const double *s, double alpha, double beta, double *J)
{
    const size_t m = c->m;
    if (!rnn_all_finite(m, s))
        return RNN_ENONFINITE;
    const double *Am = P(c, A);
    for (size_t i = 0; i < m * m; i++)
        J[i] = beta * Am[i];
    for (size_t i = 0; i < m; i++)
        J[i * m + i] += alpha;
    return RNN_OK;
}

static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    (void)u;
    return jac(c, s, 1.0, c->hyper[DT], J);
}

/* gs = alpha g + beta A^T g; dA += beta g s^T, dB += beta g u^T.
 * (alpha, beta) = (1, dt) for the step, (0, 1) for the ODE. */
static void vjp(const rnn_cell *c, const double *s, const double *u, const double *g,
                double alpha, double beta, double *gs, double *gtheta)
{
    const size_t m = c->m;
    double *bg = c->work;
    for (size_t i = 0; i < m; i++) {
        bg[i] = beta * g[i];
        gs[i] = alpha * g[i];
    }
    rnn_gemv_t(m, m, P(c, A), bg, 1.0, gs);
    rnn_ger(m, m, bg, s, gtheta + c->blocks[A].offset);
    rnn_ger(m, c->d, bg, u, gtheta + c->blocks[B].offset);
}

static int step_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                    const double *g, double *gs, double *gtheta)
{
    (void)t;
    vjp(c, s, u, g, 1.0, c->hyper[DT], gs, gtheta);
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
    rhs_rows(c, 1, s, u, f);
    return RNN_OK;
}

static int ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    (void)u;
    return jac(c, s, 0.0, 1.0, J);
}

static int ode_jvp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *v, double *Jv)
{
    (void)t;
    (void)u;
    if (!rnn_all_finite(c->m, s)) /* as jac(): a non-finite state is reported */
        return RNN_ENONFINITE;
    rnn_gemm_rows(1, c->m, c->m, P(c, A), v, c->m, 0.0, Jv);
    return RNN_OK;
}

static const rnn_cell_type type = {
    .name = "linear",
    .summary = "linear ODE h' = A h + B u by forward Euler (the linear test problem)",
    .ode = "h' = A h + B u",
    .scheme = "h_n = h_{n-1} + dt (A h_{n-1} + B u_n)  (forward Euler)",
    .reference = "THEORY.md §5.1-5.2; Hairer & Wanner, Solving ODEs II (1996), §IV.2",
    .init_doc = "A = -decay I + N(0, wscale^2/m) (decay 1, wscale 0.5: a stable, mildly "
                "non-normal A); B ~ N(0, 1/d). The stability checks overwrite A",
    .order = 1,
    .tableau = "euler",
    .stages = 1,
    .memory = 1,
    .class_derivation = "n = 1: the step applies the (linear) right-hand side once; t = 1: "
                        "it reads only h_{n-1}",
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

const rnn_cell_type *const rnn_cell_linear = &type;
