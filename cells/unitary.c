/*
 * unitary.c — the orthogonal ("unitary") RNN as an integrator of a skew linear ODE with
 * forcing: the linear part is the implicit-midpoint (Cayley) step, the forcing is Euler-like.
 *
 *   S = W - W^T (antisymmetric),   F(u) = sigma(U u + b),   sigma = tanh,   a = dt / 2
 *   ODE:   h' = f(h) = S h + F(u)
 *   step:  h_n = Q h_{n-1} + dt F(u_n),   Q = (I - a S)^{-1} (I + a S)   (the Cayley map)
 *
 * Q is the implicit-midpoint (one-stage Gauss-Legendre) step of s' = S s: solving
 * (I - a S) x = (I + a S) h is x = h + dt S (h + x)/2. Because S is antisymmetric, Q is
 * orthogonal (Q^T Q = I, derivation in docs/theory/unitary-lipschitz-fastrnn.md), so the
 * recurrence neither grows nor shrinks the state: the orthogonal RNN with a Cayley-parametrised
 * recurrent matrix (cf. scoRNN, Helfrich, Willmott, Ye, ICML 2018) and the nonlinearity on the
 * input only.
 *
 * Order: Q = exp(dt S) + O(dt^3) (midpoint is order 2 on the linear part), but the forcing is
 * taken as dt F(u(t_{n-1})) while the exact solution has
 *     int_0^dt exp((dt - r) S) F(u(t_{n-1} + r)) dr = dt F + dt^2/2 (S F + dF/dt) + O(dt^3),
 * so the local error is dt^2/2 (S F + dF/dt) + O(dt^3) and the global error is O(dt): order 1
 * (measured by order.unitary). The step is not forward Euler of the ODE: tableau NULL.
 *
 *   Q is computed in prepare with GSL's LU (gsl_linalg_LU_decomp, then the inverse
 *   P = (I - a S)^{-1}) as Q = 2 P - I, since (I - a S)^{-1} (I + a S) = (I - a S)^{-1}
 *   (2 I - (I - a S)). P is kept: the gradient with respect to W needs it. The LU's rounding
 *   leaves |Q Q^T - I| ~ m eps ~ 1e-15, which over 10^4 steps of h -> Q h drifts the norm by up
 *   to ~1e-12 (measured); one Newton-Schulz step towards the orthogonal polar factor,
 *   Q <- Q - (Q Q^T - I) Q / 2 (quadratic: defect e -> O(e^2)), removes it down to the rounding
 *   of Q's entries and moves Q by O(e), i.e. no further from the exact Cayley map than the LU
 *   already was (odernn.unitary-is-midpoint measures both).
 *
 *   ODE Jacobian:   df/dh = S
 *   step Jacobian:  dh_n/dh = Q   (constant)
 *   step VJP:       delta = dt D g,  D = diag(sigma'(U u + b));  dL/dh = Q^T g;
 *                   dL/dU += delta u^T,  dL/db += delta;
 *                   dQ = a P dS (I + Q), so dL/dS = a P^T g ((I + Q) h)^T =: x y^T and,
 *                   S depending on W through W - W^T, dL/dW += x y^T - y x^T
 *   ODE VJP:        dL/dh = S^T g = -S g;  dL/dS = g h^T, so dL/dW += g h^T - h g^T;
 *                   delta = D g (the step's forcing term with dt -> 1, shared code)
 *
 * Both Jacobians are state-independent, so the ops that return only them check the state
 * and input themselves: a non-finite state is reported (RNN_ENONFINITE) as by every other cell.
 *
 * References: THEORY.md §2 and §5.3 (odernn.unitary-is-midpoint); Arjovsky, Shah, Bengio,
 * "Unitary evolution RNNs", ICML 2016; Helfrich, Willmott, Ye, "Orthogonal recurrent neural
 * networks with scaled Cayley transform", ICML 2018; Hairer, Lubich, Wanner, "Geometric
 * Numerical Integration", §IV.8 (Cayley transform) and §II.1 (implicit midpoint rule).
 */
#include <math.h>
#include <string.h>
#include <gsl/gsl_linalg.h>
#include "cell.h"

enum { W, U, B };
enum { DT, WSCALE };

/* The permutation of the LU factorisation is kept in the derived buffer: one double slot per
 * size_t entry. */
_Static_assert(sizeof(size_t) <= sizeof(double), "a size_t must fit in a double slot");

static const rnn_hyper_def hypers[] = {
    {"dt", 1.0, 0, INFINITY, 1, 1, RNN_HYPER_STEP,
     "step size; Q = (I - dt S/2)^{-1} (I + dt S/2)"},
    {"wscale", 1.0, 0, INFINITY, 0, 1, RNN_HYPER_INIT,
     "init: W ~ N(0, wscale^2/m), so the rotation rates of S = W - W^T are O(wscale)"},
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
    return 3 * m;
}

/* derived = [S | Q | P | scratch for prepare: 3 m^2 | permutation]: 6 m^2 + m doubles */
static size_t derived_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)type;
    (void)d;
    return 6 * m * m + m;
}

#define P(c, k) ((c)->params + (c)->blocks[k].offset)
#define SKEW(c) ((c)->derived)
#define QMAT(c) ((c)->derived + (c)->m * (c)->m)
#define PINV(c) ((c)->derived + 2 * (c)->m * (c)->m)

static void init(rnn_cell *c, gsl_rng *r)
{
    const size_t m = c->m, d = c->d;
    rnn_fill_gaussian(r, c->hyper[WSCALE] / sqrt((double)m), m * m, P(c, W));
    rnn_fill_gaussian(r, 1.0 / sqrt((double)d), m * d, P(c, U));
    rnn_fill_uniform(r, 0.1, m, P(c, B));
}

static void fill_nan(size_t n, double *x)
{
    for (size_t i = 0; i < n; i++)
        x[i] = NAN;
}

/* One Newton-Schulz step Q <- Q - (Q Q^T - I) Q / 2 (scratch: 3 m^2 doubles). */
static void reorthogonalise(size_t m, double *Q, double *scratch)
{
    double *Qt = scratch, *E = scratch + m * m, *C = scratch + 2 * m * m;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++)
            Qt[j * m + i] = Q[i * m + j];
    rnn_gemm_rows(m, m, m, Q, Q, m, 0.0, E); /* E = Q Q^T */
    for (size_t i = 0; i < m; i++)
        E[i * m + i] -= 1.0;
    rnn_gemm_rows(m, m, m, Qt, E, m, 0.0, C); /* C = E (Q^T)^T = E Q */
    for (size_t i = 0; i < m * m; i++)
        Q[i] -= 0.5 * C[i];
}

/* S = W - W^T; LU of I - a S (in Q's slot); P = its inverse; Q = 2 P - I. Parameters that are
 * not finite (or an LU with a zero or non-finite pivot, impossible in exact arithmetic since
 * I - a S has eigenvalues 1 - a i mu) leave Q and P NaN, so that every op reports
 * RNN_ENONFINITE instead of GSL's error handler being called. */
static void prepare(rnn_cell *c)
{
    const size_t m = c->m;
    const double a = 0.5 * c->hyper[DT];
    double *S = SKEW(c), *Q = QMAT(c), *Pm = PINV(c);
    rnn_skew_shift(m, P(c, W), 0.0, S);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++)
            Q[i * m + j] = (i == j ? 1.0 : 0.0) - a * S[i * m + j];
    if (!rnn_all_finite(m * m, Q)) {
        fill_nan(2 * m * m, Q);
        return;
    }
    gsl_matrix_view lu = gsl_matrix_view_array(Q, m, m), inv = gsl_matrix_view_array(Pm, m, m);
    gsl_permutation perm = {m, (size_t *)(void *)(c->derived + 6 * m * m)};
    int signum;
    int ok = gsl_linalg_LU_decomp(&lu.matrix, &perm, &signum) == GSL_SUCCESS;
    for (size_t i = 0; i < m && ok; i++)
        ok = isfinite(Q[i * m + i]) && Q[i * m + i] != 0.0;
    if (!ok || gsl_linalg_LU_invert(&lu.matrix, &perm, &inv.matrix) != GSL_SUCCESS) {
        fill_nan(2 * m * m, Q);
        return;
    }
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++)
            Q[i * m + j] = 2.0 * Pm[i * m + j] - (i == j ? 1.0 : 0.0);
    reorthogonalise(m, Q, c->derived + 3 * m * m);
}

static int finite_args(const rnn_cell *c, const double *s, const double *u)
{
    return rnn_all_finite(c->n_state, s) && rnn_all_finite(c->d, u);
}

/* F[nb x m] = sigma(u U^T + b) */
static void forcing(const rnn_cell *c, size_t nb, const double *u, double *F)
{
    rnn_gemm_rows(nb, c->m, c->d, P(c, U), u, c->d, 0.0, F);
    rnn_add_bias_rows(nb, c->m, P(c, B), F);
    for (size_t i = 0; i < nb * c->m; i++)
        F[i] = tanh(F[i]);
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    (void)t;
    const size_t m = c->m;
    const double dt = c->hyper[DT];
    double *F = c->work, *Qh = c->work + nb * m; /* separate from out: s and out may alias */
    forcing(c, nb, u, F);
    rnn_gemm_rows(nb, m, m, QMAT(c), s, m, 0.0, Qh);
    for (size_t i = 0; i < nb * m; i++)
        out[i] = Qh[i] + dt * F[i];
    return RNN_OK;
}

static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    if (!finite_args(c, s, u))
        return RNN_ENONFINITE;
    memcpy(J, QMAT(c), c->m * c->m * sizeof(double));
    return RNN_OK;
}

/* The forcing's part of both VJPs, gain dt (step) or 1 (ODE): delta = gain D g into delta[m];
 * dL/dU += delta u^T, dL/db += delta. */
static void forcing_grad(const rnn_cell *c, const double *u, const double *g, double gain,
                         double *delta, double *gtheta)
{
    const size_t m = c->m;
    forcing(c, 1, u, delta);
    for (size_t i = 0; i < m; i++)
        delta[i] = gain * (1.0 - delta[i] * delta[i]) * g[i];
    rnn_ger(m, c->d, delta, u, gtheta + c->blocks[U].offset);
    for (size_t i = 0; i < m; i++)
        gtheta[c->blocks[B].offset + i] += delta[i];
}

static int step_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                    const double *g, double *gs, double *gtheta)
{
    (void)t;
    const size_t m = c->m;
    const double dt = c->hyper[DT], a = 0.5 * dt;
    double *delta = c->work, *x = c->work + m, *y = c->work + 2 * m;
    forcing_grad(c, u, g, dt, delta, gtheta);
    /* x = a P^T g, y = (I + Q) h */
    rnn_gemv_t(m, m, PINV(c), g, 0.0, x);
    for (size_t i = 0; i < m; i++)
        x[i] *= a;
    memcpy(y, s, m * sizeof(double));
    rnn_gemm_rows(1, m, m, QMAT(c), s, m, 1.0, y);
    rnn_skew_ger(m, x, y, gtheta + c->blocks[W].offset);
    rnn_gemv_t(m, m, QMAT(c), g, 0.0, gs);
    return RNN_OK;
}

static int ode_rhs(const rnn_cell *c, double t, const double *s, const double *u, double *f)
{
    (void)t;
    double *F = c->work;
    forcing(c, 1, u, F);
    rnn_gemm_rows(1, c->m, c->m, SKEW(c), s, c->m, 0.0, f);
    for (size_t i = 0; i < c->m; i++)
        f[i] += F[i];
    return RNN_OK;
}

static int ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    if (!finite_args(c, s, u))
        return RNN_ENONFINITE;
    memcpy(J, SKEW(c), c->m * c->m * sizeof(double));
    return RNN_OK;
}

static int ode_jvp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *v, double *Jv)
{
    (void)t;
    if (!finite_args(c, s, u))
        return RNN_ENONFINITE;
    rnn_gemm_rows(1, c->m, c->m, SKEW(c), v, c->m, 0.0, Jv);
    return RNN_OK;
}

static int ode_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *g, double *gs, double *gtheta)
{
    (void)t;
    if (!finite_args(c, s, u))
        return RNN_ENONFINITE;
    forcing_grad(c, u, g, 1.0, c->work, gtheta);
    rnn_skew_ger(c->m, g, s, gtheta + c->blocks[W].offset);
    rnn_gemv_t(c->m, c->m, SKEW(c), g, 0.0, gs);
    return RNN_OK;
}

static const rnn_cell_type type = {
    .name = "unitary",
    .summary = "orthogonal RNN: Cayley (implicit-midpoint) recurrence, Euler-like forcing",
    .ode = "h' = (W - W^T) h + tanh(U u + b)",
    .scheme = "h_n = Q h_{n-1} + dt tanh(U u_n + b),  Q = (I - dt S/2)^{-1} (I + dt S/2), "
              "S = W - W^T",
    .reference = "THEORY.md §2, §5.3; Arjovsky et al., ICML 2016; Helfrich et al. (scoRNN), "
                 "ICML 2018",
    .init_doc = "W ~ N(0, wscale^2/m), wscale = 1 (as [AS] does for its W - W^T), so that S has "
                "rotation rates O(1) whatever m; U ~ N(0, 1/d); b ~ U(-0.1, 0.1); dt = 1 (a "
                "unit step: Q rotates each invariant plane of S by 2 atan(mu/2))",
    .order = 1,
    .tableau = NULL,
    .stages = 1,
    .memory = 1,
    .class_derivation =
        "n = 1: tanh is applied once per step (to the input; the recurrence Q is linear, one "
        "implicit-midpoint stage); t = 1: the step reads only h_{n-1}",
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

const rnn_cell_type *const rnn_cell_unitary = &type;
