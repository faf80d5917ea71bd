/*
 * antisym_gated.c — the gated AntisymmetricRNN [AS eq. 13], forward Euler with step eps.
 *
 *   A = W - W^T - gamma I
 *   a_h = A h + V_h u + b_h,   a_z = A h + V_z u + b_z
 *   ODE:   h' = f(h) = z (.) g,   z = sig(a_z) (input gate),  g = tanh(a_h)
 *   step:  h_n = h_{n-1} + eps f(h_{n-1})                            (order 1)
 *
 *   ODE Jacobian:   df/dh = diag(e) A,   e = z (.) tanh'(a_h) + g (.) sig'(a_z)
 *                   (e can be negative where g < 0: the gated cell's Jacobian is not
 *                   D A with D >= 0, so [AS]'s criterion is an observation for it, THEORY.md §4.1)
 *   step Jacobian:  I + eps diag(e) A
 *   step VJP:       G = eps g_out; dh = G z tanh'(a_h); dz = G g sig'(a_z); delta = dh + dz;
 *                   dL/dh = g_out + A^T delta; dL/dW += delta h^T - h delta^T;
 *                   dL/dV_h += dh u^T, dL/db_h += dh, dL/dV_z += dz u^T, dL/db_z += dz
 *
 * Reference: Chang, Chen, Haber, Chi, "AntisymmetricRNN", ICLR 2019, eq. 13; THEORY.md §2.
 */
#include <math.h>
#include <string.h>
#include "cell.h"

enum { W, VH, BH, VZ, BZ };
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
    b[VH] = (rnn_block){"V_h", m, d, 0};
    b[BH] = (rnn_block){"b_h", m, 1, 0};
    b[VZ] = (rnn_block){"V_z", m, d, 0};
    b[BZ] = (rnn_block){"b_z", m, 1, 0};
    return 5;
}

static size_t work_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)type;
    (void)d;
    return 3 * m;
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
    const size_t m = c->m, d = c->d;
    rnn_fill_gaussian(r, c->hyper[WSCALE] / sqrt((double)m), m * m, P(c, W));
    rnn_fill_gaussian(r, 1.0 / sqrt((double)d), m * d, P(c, VH));
    rnn_fill_uniform(r, 0.1, m, P(c, BH));
    rnn_fill_gaussian(r, 1.0 / sqrt((double)d), m * d, P(c, VZ));
    rnn_fill_uniform(r, 0.1, m, P(c, BZ));
}

static void prepare(rnn_cell *c)
{
    rnn_skew_shift(c->m, P(c, W), c->hyper[GAMMA], c->derived);
}

/* ah, az [nb x m] (ah doubles as A h on the way) */
static void preact(const rnn_cell *c, size_t nb, const double *s, const double *u, double *ah,
                   double *az)
{
    const size_t n = nb * c->m;
    rnn_gemm_rows(nb, c->m, c->m, c->derived, s, c->m, 0.0, ah);
    memcpy(az, ah, n * sizeof(double));
    rnn_gemm_rows(nb, c->m, c->d, P(c, VH), u, c->d, 1.0, ah);
    rnn_add_bias_rows(nb, c->m, P(c, BH), ah);
    rnn_gemm_rows(nb, c->m, c->d, P(c, VZ), u, c->d, 1.0, az);
    rnn_add_bias_rows(nb, c->m, P(c, BZ), az);
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    (void)t;
    const double eps = c->hyper[EPS];
    double *ah = c->work, *az = c->work + nb * c->m;
    preact(c, nb, s, u, ah, az);
    for (size_t i = 0; i < nb * c->m; i++)
        out[i] = s[i] + eps * rnn_sigmoid(az[i]) * tanh(ah[i]);
    return RNN_OK;
}

/* e_i = z tanh'(a_h) + g sig'(a_z), into e[m] */
static void gain(const rnn_cell *c, const double *s, const double *u, double *e)
{
    const size_t m = c->m;
    double *ah = c->work + m, *az = c->work + 2 * m;
    preact(c, 1, s, u, ah, az);
    for (size_t i = 0; i < m; i++) {
        double z = rnn_sigmoid(az[i]), g = tanh(ah[i]);
        e[i] = z * (1.0 - g * g) + g * z * (1.0 - z);
    }
}

/* J = alpha I + beta diag(e) A */
static void jac(const rnn_cell *c, const double *s, const double *u, double alpha, double beta,
                double *J)
{
    const size_t m = c->m;
    double *e = c->work;
    gain(c, s, u, e);
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < m; j++)
            J[i * m + j] = beta * e[i] * c->derived[i * m + j];
        J[i * m + i] += alpha;
    }
}

static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    jac(c, s, u, 1.0, c->hyper[EPS], J);
    return RNN_OK;
}

/* gs = alpha g + J_f^T (beta g) and the parameter part of beta (df/dtheta)^T g:
 * (alpha, beta) = (1, eps) for the step, (0, 1) for the ODE. */
static void vjp(const rnn_cell *c, const double *s, const double *u, const double *g,
                double alpha, double eps, double *gs, double *gtheta)
{
    const size_t m = c->m, d = c->d;
    /* After the loop: ah holds delta_h, az holds delta_z, delta = their sum. */
    double *ah = c->work, *az = c->work + m, *delta = c->work + 2 * m;
    preact(c, 1, s, u, ah, az);
    for (size_t i = 0; i < m; i++) {
        double z = rnn_sigmoid(az[i]), th = tanh(ah[i]), G = eps * g[i];
        ah[i] = G * z * (1.0 - th * th);
        az[i] = G * th * z * (1.0 - z);
        delta[i] = ah[i] + az[i];
    }
    for (size_t i = 0; i < m; i++)
        gs[i] = alpha * g[i];
    rnn_gemv_t(m, m, c->derived, delta, 1.0, gs);
    rnn_skew_ger(m, delta, s, gtheta + c->blocks[W].offset);
    rnn_ger(m, d, ah, u, gtheta + c->blocks[VH].offset);
    rnn_ger(m, d, az, u, gtheta + c->blocks[VZ].offset);
    for (size_t i = 0; i < m; i++) {
        gtheta[c->blocks[BH].offset + i] += ah[i];
        gtheta[c->blocks[BZ].offset + i] += az[i];
    }
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
    double *ah = c->work, *az = c->work + c->m;
    preact(c, 1, s, u, ah, az);
    for (size_t i = 0; i < c->m; i++)
        f[i] = rnn_sigmoid(az[i]) * tanh(ah[i]);
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
    double *e = c->work;
    gain(c, s, u, e);
    rnn_gemm_rows(1, c->m, c->m, c->derived, v, c->m, 0.0, Jv);
    for (size_t i = 0; i < c->m; i++)
        Jv[i] *= e[i];
    return RNN_OK;
}

static const rnn_cell_type type = {
    .name = "antisym_gated",
    .summary = "gated AntisymmetricRNN: Euler on h' = sig(A h + V_z u + b_z) * tanh(A h + V_h u + b_h)",
    .ode = "h' = sig(A h + V_z u + b_z) (.) tanh(A h + V_h u + b_h),  A = W - W^T - gamma I",
    .scheme = "h_n = h_{n-1} + eps sig(A h_{n-1} + V_z u_n + b_z) (.) tanh(A h_{n-1} + V_h u_n + b_h)",
    .reference = "Chang et al., AntisymmetricRNN, ICLR 2019, eq. 13",
    .init_doc = "W ~ N(0, wscale^2/m), wscale = 1; V_h, V_z ~ N(0, 1/d); b_h, b_z ~ U(-0.1, 0.1); "
                "eps = 0.1, gamma = 0.01",
    .order = 1,
    .tableau = "euler",
    .stages = 1,
    .memory = 1,
    .class_derivation = "n = 1: the gate sig(.) and tanh(.) act side by side on the same pre-activation "
                        "depth (a product, not a composition); t = 1: reads h_{n-1} only",
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

const rnn_cell_type *const rnn_cell_antisym_gated = &type;
