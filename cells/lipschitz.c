/*
 * lipschitz.c — the Lipschitz RNN [LR]: a linear part with a tunable symmetric/antisymmetric
 * mix plus a tanh forcing, discretised by forward Euler.
 *
 *   mix_beta(M, gamma) = (1 - beta)(M + M^T) + beta (M - M^T) - gamma I
 *   A = mix_beta(M_A, gamma_A),   Wb = mix_beta(M_W, gamma_W),   beta in [0, 1]
 *   ODE:   h' = f(h) = A h + sigma(a),   a = Wb h + U u + b,   sigma = tanh      [LR]
 *   step:  h_n = h_{n-1} + dt f(h_{n-1})                       (forward Euler, order 1)
 *
 * The symmetric part of A is H = (1 - beta)(M_A + M_A^T) - gamma_A I, so every eigenvalue of A
 * has Re lambda in [lambda_min(H), lambda_max(H)] (numerical range;
 * docs/theory/unitary-lipschitz-fastrnn.md, checked by lipschitz.numerical-range): beta = 1 gives
 * an antisymmetric A - (-gamma_A) I (the AntisymmetricRNN's), beta -> 1 pushes the spectrum
 * towards the imaginary axis.
 *
 *   ODE Jacobian:   df/dh = A + D Wb,           D = diag(sigma'(a))
 *   step Jacobian:  I + dt (A + D Wb)
 *   step VJP:       delta = dt D g;  dL/dh = g + dt A^T g + Wb^T delta;
 *                   dL/dA = dt g h^T,  dL/dWb = delta h^T,  dL/dU += delta u^T,  dL/db += delta;
 *                   since mix_beta(M)_ij = M_ij + (1 - 2 beta) M_ji - gamma delta_ij, a gradient
 *                   G = x y^T with respect to the mixed matrix gives dL/dM += x y^T +
 *                   (1 - 2 beta) y x^T (for both M_A and M_W)
 *   ODE VJP:        the same with dt -> 1 and without the identity: delta = D g;
 *                   dL/dh = A^T g + Wb^T delta, dL/dA = g h^T, the rest as above (shared code)
 *
 * The official code (github.com/erichson/LipschitzRNN, models.py) multiplies row vectors,
 * h A, i.e. applies A^T; we follow the paper's h' = A h (same family: A^T is mix_beta of M^T).
 * [LR] also offers an RK2 step; here it is `rk:<tableau>:lipschitz` of the RK family.
 *
 * Reference: Erichson, Azencot, Queiruga, Hodgkinson, Mahoney, "Lipschitz Recurrent Neural
 * Networks", ICLR 2021 (the unit and its A_beta, W_beta construction); THEORY.md §2, §5.5.
 */
#include <math.h>
#include <string.h>
#include "cell.h"

enum { MA, MW, U, B };
enum { DT, BETA, GAMMA_A, GAMMA_W, WSCALE };

static const rnn_hyper_def hypers[] = {
    {"dt", 0.03, 0, INFINITY, 1, 1, RNN_HYPER_STEP,
     "Euler step (the official pixel-MNIST run uses eps = 0.03)"},
    {"beta", 0.75, 0, 1, 0, 0, 0, "skew level: A = (1-beta)(M+M^T) + beta(M-M^T) - gamma_A I"},
    {"gamma_A", 0.001, -INFINITY, INFINITY, 1, 1, 0, "diagonal shift of A ([LR]: 0.001)"},
    {"gamma_W", 0.001, -INFINITY, INFINITY, 1, 1, 0, "diagonal shift of W ([LR]: 0.001)"},
    {"wscale", 0.5, 0, INFINITY, 0, 1, RNN_HYPER_INIT,
     "init: M_A, M_W ~ N(0, wscale^2/m)"},
};

static size_t state_dim(const rnn_cell_type *type, size_t m)
{
    (void)type;
    return m;
}

static size_t layout(const rnn_cell_type *type, size_t m, size_t d, rnn_block *b)
{
    (void)type;
    b[MA] = (rnn_block){"MA", m, m, 0};
    b[MW] = (rnn_block){"MW", m, m, 0};
    b[U] = (rnn_block){"U", m, d, 0};
    b[B] = (rnn_block){"b", m, 1, 0};
    return 4;
}

static size_t work_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)type;
    (void)d;
    return 2 * m;
}

/* derived = [A | Wb] */
static size_t derived_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)type;
    (void)d;
    return 2 * m * m;
}

#define P(c, k) ((c)->params + (c)->blocks[k].offset)
#define AMAT(c) ((c)->derived)
#define WMAT(c) ((c)->derived + (c)->m * (c)->m)

static void init(rnn_cell *c, gsl_rng *r)
{
    const size_t m = c->m, d = c->d;
    const double sd = c->hyper[WSCALE] / sqrt((double)m);
    rnn_fill_gaussian(r, sd, m * m, P(c, MA));
    rnn_fill_gaussian(r, sd, m * m, P(c, MW));
    rnn_fill_gaussian(r, 1.0 / sqrt((double)d), m * d, P(c, U));
    rnn_fill_uniform(r, 0.1, m, P(c, B));
}

/* out = (1 - beta)(M + M^T) + beta (M - M^T) - gamma I. Written with the sum and the
 * difference so that beta = 1 gives an exactly antisymmetric off-diagonal part and beta = 0 an
 * exactly symmetric matrix (M_ij + M_ji and M_ji + M_ij round alike). */
static void mix(size_t m, const double *M, double beta, double gamma, double *out)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++) {
            double sum = M[i * m + j] + M[j * m + i], diff = M[i * m + j] - M[j * m + i];
            out[i * m + j] = (1.0 - beta) * sum + beta * diff - (i == j ? gamma : 0.0);
        }
}

/* G[m x m] += x y^T + (1 - 2 beta) y x^T: the gradient with respect to M of <x y^T, mix(M)>. */
static void mix_ger(size_t m, double beta, const double *x, const double *y, double *G)
{
    const double k = 1.0 - 2.0 * beta;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++)
            G[i * m + j] += x[i] * y[j] + k * y[i] * x[j];
}

static void prepare(rnn_cell *c)
{
    mix(c->m, P(c, MA), c->hyper[BETA], c->hyper[GAMMA_A], AMAT(c));
    mix(c->m, P(c, MW), c->hyper[BETA], c->hyper[GAMMA_W], WMAT(c));
}

/* a[nb x m] = s Wb^T + u U^T + b */
static void preact(const rnn_cell *c, size_t nb, const double *s, const double *u, double *a)
{
    rnn_gemm_rows(nb, c->m, c->m, WMAT(c), s, c->m, 0.0, a);
    rnn_gemm_rows(nb, c->m, c->d, P(c, U), u, c->d, 1.0, a);
    rnn_add_bias_rows(nb, c->m, P(c, B), a);
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    (void)t;
    const size_t m = c->m;
    const double dt = c->hyper[DT];
    double *a = c->work, *Ah = c->work + nb * m;
    preact(c, nb, s, u, a);
    rnn_gemm_rows(nb, m, m, AMAT(c), s, m, 0.0, Ah);
    for (size_t i = 0; i < nb * m; i++)
        out[i] = s[i] + dt * (Ah[i] + tanh(a[i]));
    return RNN_OK;
}

/* J = alpha I + beta (A + D Wb), the shape of both Jacobians. */
static void jac(const rnn_cell *c, const double *s, const double *u, double alpha, double scale,
                double *J)
{
    const size_t m = c->m;
    const double *A = AMAT(c), *Wb = WMAT(c);
    double *a = c->work;
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        double th = tanh(a[i]), di = 1.0 - th * th;
        for (size_t j = 0; j < m; j++)
            J[i * m + j] = scale * (A[i * m + j] + di * Wb[i * m + j]);
        J[i * m + i] += alpha;
    }
}

static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    jac(c, s, u, 1.0, c->hyper[DT], J);
    return RNN_OK;
}

/* gs = keep g + A^T x + Wb^T delta with x = scale g, delta = scale D g; the parameters
 * receive x h^T through A and delta (h, u, 1)^T through Wb, U, b.
 * (keep, scale) = (1, dt) for the step, (0, 1) for the ODE. */
static void vjp(const rnn_cell *c, const double *s, const double *u, const double *g,
                double keep, double scale, double *gs, double *gtheta)
{
    const size_t m = c->m;
    const double beta = c->hyper[BETA];
    double *a = c->work, *delta = c->work + m;
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        double th = tanh(a[i]);
        delta[i] = scale * (1.0 - th * th) * g[i];
        a[i] = scale * g[i]; /* a is free now: x, the adjoint of A h */
        gs[i] = keep * g[i];
    }
    rnn_gemv_t(m, m, AMAT(c), a, 1.0, gs);
    rnn_gemv_t(m, m, WMAT(c), delta, 1.0, gs);
    mix_ger(m, beta, a, s, gtheta + c->blocks[MA].offset);
    mix_ger(m, beta, delta, s, gtheta + c->blocks[MW].offset);
    rnn_ger(m, c->d, delta, u, gtheta + c->blocks[U].offset);
    for (size_t i = 0; i < m; i++)
        gtheta[c->blocks[B].offset + i] += delta[i];
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
    double *a = c->work;
    preact(c, 1, s, u, a);
    rnn_gemm_rows(1, c->m, c->m, AMAT(c), s, c->m, 0.0, f);
    for (size_t i = 0; i < c->m; i++)
        f[i] += tanh(a[i]);
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
    double *a = c->work, *Wv = c->work + m;
    preact(c, 1, s, u, a);
    rnn_gemm_rows(1, m, m, WMAT(c), v, m, 0.0, Wv);
    rnn_gemm_rows(1, m, m, AMAT(c), v, m, 0.0, Jv);
    for (size_t i = 0; i < m; i++) {
        double th = tanh(a[i]);
        Jv[i] += (1.0 - th * th) * Wv[i];
    }
    return RNN_OK;
}

static const rnn_cell_type type = {
    .name = "lipschitz",
    .summary = "Lipschitz RNN: Euler on h' = A_beta h + tanh(W_beta h + U u + b)",
    .ode = "h' = A h + tanh(Wb h + U u + b),  A = (1-beta)(MA+MA^T) + beta(MA-MA^T) - gamma_A I, "
           "Wb likewise from MW, gamma_W",
    .scheme = "h_n = h_{n-1} + dt (A h_{n-1} + tanh(Wb h_{n-1} + U u_n + b))",
    .reference = "Erichson et al., Lipschitz Recurrent Neural Networks, ICLR 2021 (official "
                 "code github.com/erichson/LipschitzRNN)",
    .init_doc = "MA, MW ~ N(0, wscale^2/m) as the paper's N(0, sigma^2/N), wscale = 0.5: the "
                "official driver draws sd = init_std/N with init_std = 6 at N = 128, i.e. "
                "sd = 0.047 = 0.53/sqrt(128); U ~ N(0, 1/d) as for the other cells; "
                "b ~ U(-0.1, 0.1); beta = 0.75, gamma_A = gamma_W = 0.001, dt = 0.03 (the "
                "official pixel-MNIST settings)",
    .order = 1,
    .tableau = "euler",
    .stages = 1,
    .memory = 1,
    .class_derivation = "n = 1: one Euler stage, tanh applied once to (Wb h_{n-1} + U u + b); "
                        "t = 1: the step reads only h_{n-1}",
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

const rnn_cell_type *const rnn_cell_lipschitz = &type;
