/*
 * cornn.c — coupled oscillatory RNN [CO]: one ODE, two discretisations.
 *
 *   state s = (y, z) in R^{2m};   a = W y + Wz z + V u + b   (Wz is the paper's script W)
 *   ODE:   y' = z,   z' = sigma(a) - gamma y - eps z                      [CO eq. 1-2]
 *
 *   cornn (IMEX, [CO eq. 3]): damping implicit, the rest explicit,
 *       z_n = (z_{n-1} + dt (sigma(a_{n-1}) - gamma y_{n-1})) / (1 + dt eps)
 *   cornn_explicit (the official code github.com/tk-rusch/coRNN):
 *       z_n = (1 - dt eps) z_{n-1} + dt (sigma(a_{n-1}) - gamma y_{n-1})
 *   both:  y_n = y_{n-1} + dt z_n                                          (order 1)
 *
 * Both are z_n = kz z + kf dt (sigma(a) - gamma y), with (kz, kf) = (1/(1+dt eps), 1/(1+dt eps))
 * for IMEX and (1 - dt eps, 1) for explicit; one implementation serves both.
 *
 *   step Jacobian:  dz_n/dy = kf dt (D W - gamma I),  dz_n/dz = kz I + kf dt D Wz,
 *                   dy_n/dy = I + dt dz_n/dy,          dy_n/dz = dt dz_n/dz
 *   step VJP:       G = g_z + dt g_y (everything reaching z_n);  r = kf dt G;  q = D r;
 *                   dL/dy = g_y - gamma r + W^T q,   dL/dz = kz G + Wz^T q;
 *                   dL/dW += q y^T, dL/dWz += q z^T, dL/dV += q u^T, dL/db += q
 *   ODE Jacobian:   [[0, I], [D W - gamma I, D Wz - eps I]]
 *   ode_rhs_quad:   the same f in binary128 (tanhq), for order studies below double rounding.
 *
 * References: Rusch, Mishra, coRNN, ICLR 2021, eqs. 1-3; THEORY.md §2, §4.2.
 */
#include <math.h>
#include <quadmath.h>
#include <stdio.h>
#include <string.h>
#include "cell.h"

enum { W, WZ, V, B };
enum { DT, GAMMA, EPS, WSCALE };

static const rnn_hyper_def hypers[] = {
    {"dt", 0.042, 0, INFINITY, 1, 1, RNN_HYPER_STEP, "time step"},
    {"gamma", 2.7, -INFINITY, INFINITY, 1, 1, 0, "restoring force (the paper: gamma > 0)"},
    {"eps", 4.7, -INFINITY, INFINITY, 1, 1, 0,
     "damping (the paper: eps > 0; negative values make the ODE grow)"},
    {"wscale", 1.0, 0, INFINITY, 0, 1, RNN_HYPER_INIT,
     "init: weights ~ wscale U(-k, k), k = 1/sqrt(2m + d), PyTorch's nn.Linear"},
};

static size_t state_dim(const rnn_cell_type *type, size_t m)
{
    (void)type;
    return 2 * m;
}

static size_t layout(const rnn_cell_type *type, size_t m, size_t d, rnn_block *b)
{
    (void)type;
    b[W] = (rnn_block){"W", m, m, 0};
    b[WZ] = (rnn_block){"Wz", m, m, 0};
    b[V] = (rnn_block){"V", m, d, 0};
    b[B] = (rnn_block){"b", m, 1, 0};
    return 4;
}

static size_t work_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)type;
    (void)d;
    return 2 * m;
}

#define P(c, k) ((c)->params + (c)->blocks[k].offset)

/* The official code applies one nn.Linear(d + 2m, m) to [u, z, y]: every weight and the
 * bias are U(-k, k) with k = 1/sqrt(d + 2m). */
static void init(rnn_cell *c, gsl_rng *r)
{
    const size_t m = c->m, d = c->d;
    double k = c->hyper[WSCALE] / sqrt((double)(d + 2 * m));
    rnn_fill_uniform(r, k, m * m, P(c, W));
    rnn_fill_uniform(r, k, m * m, P(c, WZ));
    rnn_fill_uniform(r, k, m * d, P(c, V));
    rnn_fill_uniform(r, k, m, P(c, B));
}

static int check_imex(const rnn_cell *c, char *msg, size_t len)
{
    if (!(1.0 + c->hyper[DT] * c->hyper[EPS] > 0)) {
        snprintf(msg, len, "cornn needs 1 + dt*eps > 0 (the IMEX step divides by it); got dt=%g, "
                 "eps=%g", c->hyper[DT], c->hyper[EPS]);
        return RNN_EINVAL;
    }
    return RNN_OK;
}

/* a[nb x m] from states s[nb x 2m] */
static void preact(const rnn_cell *c, size_t nb, const double *s, const double *u, double *a)
{
    const size_t m = c->m;
    rnn_gemm_rows(nb, m, m, P(c, W), s, 2 * m, 0.0, a);
    rnn_gemm_rows(nb, m, m, P(c, WZ), s + m, 2 * m, 1.0, a);
    rnn_gemm_rows(nb, m, c->d, P(c, V), u, c->d, 1.0, a);
    rnn_add_bias_rows(nb, m, P(c, B), a);
}

static void gains(const rnn_cell *c, int imex, double *kz, double *kf)
{
    const double dt = c->hyper[DT], eps = c->hyper[EPS];
    *kz = imex ? 1.0 / (1.0 + dt * eps) : 1.0 - dt * eps;
    *kf = imex ? 1.0 / (1.0 + dt * eps) : 1.0;
}

static int step_scheme(const rnn_cell *c, int imex, size_t nb, const double *s, const double *u,
                       double *out)
{
    const size_t m = c->m;
    const double dt = c->hyper[DT], gamma = c->hyper[GAMMA];
    double kz, kf;
    gains(c, imex, &kz, &kf);
    double *a = c->work;
    preact(c, nb, s, u, a);
    for (size_t b = 0; b < nb; b++) {
        const double *y = s + b * 2 * m, *z = y + m;
        double *yn = out + b * 2 * m, *zn = yn + m;
        const double *ab = a + b * m;
        for (size_t i = 0; i < m; i++) {
            zn[i] = kz * z[i] + kf * dt * (tanh(ab[i]) - gamma * y[i]);
            yn[i] = y[i] + dt * zn[i];
        }
    }
    return RNN_OK;
}

static int jacobian_scheme(const rnn_cell *c, int imex, const double *s, const double *u,
                           double *J)
{
    const size_t m = c->m, n = 2 * m;
    const double dt = c->hyper[DT], gamma = c->hyper[GAMMA];
    const double *Wy = P(c, W), *Wz = P(c, WZ);
    double kz, kf;
    gains(c, imex, &kz, &kf);
    double *a = c->work;
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        double th = tanh(a[i]), di = kf * dt * (1.0 - th * th);
        double *Jy = J + i * n, *Jz = J + (m + i) * n; /* rows of y_n[i] and z_n[i] */
        for (size_t j = 0; j < m; j++) {
            Jz[j] = di * Wy[i * m + j];
            Jz[m + j] = di * Wz[i * m + j];
        }
        Jz[i] -= kf * dt * gamma;
        Jz[m + i] += kz;
        for (size_t j = 0; j < n; j++)
            Jy[j] = dt * Jz[j];
        Jy[i] += 1.0;
    }
    return RNN_OK;
}

static int vjp_scheme(const rnn_cell *c, int imex, const double *s, const double *u,
                      const double *g, double *gs, double *gtheta)
{
    const size_t m = c->m, d = c->d;
    const double dt = c->hyper[DT], gamma = c->hyper[GAMMA];
    double kz, kf;
    gains(c, imex, &kz, &kf);
    double *a = c->work, *q = c->work + m;
    const double *y = s, *z = s + m, *gy = g, *gz = g + m;
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        double G = gz[i] + dt * gy[i], r = kf * dt * G, th = tanh(a[i]);
        q[i] = (1.0 - th * th) * r;
        gs[i] = gy[i] - gamma * r;
        gs[m + i] = kz * G;
    }
    rnn_gemv_t(m, m, P(c, W), q, 1.0, gs);
    rnn_gemv_t(m, m, P(c, WZ), q, 1.0, gs + m);
    rnn_ger(m, m, q, y, gtheta + c->blocks[W].offset);
    rnn_ger(m, m, q, z, gtheta + c->blocks[WZ].offset);
    rnn_ger(m, d, q, u, gtheta + c->blocks[V].offset);
    for (size_t i = 0; i < m; i++)
        gtheta[c->blocks[B].offset + i] += q[i];
    return RNN_OK;
}

static int ode_rhs(const rnn_cell *c, double t, const double *s, const double *u, double *f)
{
    (void)t;
    const size_t m = c->m;
    const double gamma = c->hyper[GAMMA], eps = c->hyper[EPS];
    double *a = c->work;
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        f[i] = s[m + i];
        f[m + i] = tanh(a[i]) - gamma * s[i] - eps * s[m + i];
    }
    return RNN_OK;
}

static int ode_rhs_quad(const rnn_cell *c, rnn_quad t, const rnn_quad *s, const rnn_quad *u,
                        rnn_quad *work, rnn_quad *f)
{
    (void)t;
    (void)work;
    const size_t m = c->m, d = c->d;
    const double *Wy = P(c, W), *Wz = P(c, WZ), *Vm = P(c, V), *b = P(c, B);
    const rnn_quad gamma = c->hyper[GAMMA], eps = c->hyper[EPS];
    for (size_t i = 0; i < m; i++) {
        rnn_quad a = b[i];
        for (size_t j = 0; j < m; j++)
            a += Wy[i * m + j] * s[j] + Wz[i * m + j] * s[m + j];
        for (size_t j = 0; j < d; j++)
            a += Vm[i * d + j] * u[j];
        f[i] = s[m + i];
        f[m + i] = tanhq(a) - gamma * s[i] - eps * s[m + i];
    }
    return RNN_OK;
}

static int ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    const size_t m = c->m, n = 2 * m;
    const double *Wy = P(c, W), *Wz = P(c, WZ);
    double *a = c->work;
    preact(c, 1, s, u, a);
    memset(J, 0, n * n * sizeof(double));
    for (size_t i = 0; i < m; i++) {
        double th = tanh(a[i]), di = 1.0 - th * th;
        J[i * n + m + i] = 1.0;
        double *Jz = J + (m + i) * n;
        for (size_t j = 0; j < m; j++) {
            Jz[j] = di * Wy[i * m + j];
            Jz[m + j] = di * Wz[i * m + j];
        }
        Jz[i] -= c->hyper[GAMMA];
        Jz[m + i] -= c->hyper[EPS];
    }
    return RNN_OK;
}

/* f = (z, tanh(a) - gamma y - eps z): gs_y = -gamma g_z + W^T q, gs_z = g_y - eps g_z + Wz^T q,
 * q = D g_z; parameters += q (y, z, u, 1)^T. */
static int ode_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *g, double *gs, double *gtheta)
{
    (void)t;
    const size_t m = c->m, d = c->d;
    double *a = c->work, *q = c->work + m;
    const double *gy = g, *gz = g + m;
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        double th = tanh(a[i]);
        q[i] = (1.0 - th * th) * gz[i];
        gs[i] = -c->hyper[GAMMA] * gz[i];
        gs[m + i] = gy[i] - c->hyper[EPS] * gz[i];
    }
    rnn_gemv_t(m, m, P(c, W), q, 1.0, gs);
    rnn_gemv_t(m, m, P(c, WZ), q, 1.0, gs + m);
    rnn_ger(m, m, q, s, gtheta + c->blocks[W].offset);
    rnn_ger(m, m, q, s + m, gtheta + c->blocks[WZ].offset);
    rnn_ger(m, d, q, u, gtheta + c->blocks[V].offset);
    for (size_t i = 0; i < m; i++)
        gtheta[c->blocks[B].offset + i] += q[i];
    return RNN_OK;
}

static int ode_jvp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *v, double *Jv)
{
    (void)t;
    const size_t m = c->m;
    double *a = c->work;
    preact(c, 1, s, u, a);
    rnn_gemm_rows(1, m, m, P(c, W), v, m, 0.0, Jv + m);
    rnn_gemm_rows(1, m, m, P(c, WZ), v + m, m, 1.0, Jv + m);
    for (size_t i = 0; i < m; i++) {
        double th = tanh(a[i]);
        Jv[m + i] = (1.0 - th * th) * Jv[m + i] - c->hyper[GAMMA] * v[i] - c->hyper[EPS] * v[m + i];
        Jv[i] = v[m + i];
    }
    return RNN_OK;
}

/* ---- the two schemes ------------------------------------------------------------------------ */

#define SCHEME_OPS(tag, imex)                                                                   \
    static int step_##tag(const rnn_cell *c, size_t nb, double t, const double *s,              \
                          const double *u, double *out)                                         \
    {                                                                                           \
        (void)t;                                                                                \
        return step_scheme(c, imex, nb, s, u, out);                                             \
    }                                                                                           \
    static int jac_##tag(const rnn_cell *c, double t, const double *s, const double *u,         \
                         double *J)                                                             \
    {                                                                                           \
        (void)t;                                                                                \
        return jacobian_scheme(c, imex, s, u, J);                                               \
    }                                                                                           \
    static int vjp_##tag(const rnn_cell *c, double t, const double *s, const double *u,         \
                         const double *g, double *gs, double *gtheta)                           \
    {                                                                                           \
        (void)t;                                                                                \
        return vjp_scheme(c, imex, s, u, g, gs, gtheta);                                        \
    }

SCHEME_OPS(imex, 1)
SCHEME_OPS(explicit, 0)

#define COMMON_OPS                                                                             \
    .ode = "y' = z,  z' = tanh(W y + Wz z + V u + b) - gamma y - eps z", .order = 1,            \
    .state_dim = state_dim, .layout = layout, .hypers = hypers,                                 \
    .n_hypers = sizeof hypers / sizeof hypers[0], .work_size = work_size, .init = init,         \
    .ode_rhs = ode_rhs, .ode_jacobian = ode_jacobian, .ode_jvp = ode_jvp, .ode_vjp = ode_vjp,    \
    .ode_rhs_quad = ode_rhs_quad,                                                               \
    .stages = 1, .memory = 2,                                                                   \
    .class_derivation = "n = 1: one tanh per step; t = 2: eliminating z_{n-1} = (y_{n-1} - "      \
                        "y_{n-2}) / dt, the step is a recursion on y_{n-1}, y_{n-2} (a second-"  \
                        "order ODE y'' = ...)",                                                  \
    .init_doc = "weights and bias ~ wscale U(-k, k), k = 1/sqrt(2m + d), as the official code's " \
                "nn.Linear(d + 2m, m); dt = 0.042, gamma = 2.7, eps = 4.7: the official "        \
                "psMNIST settings"

static const rnn_cell_type imex_type = {
    .name = "cornn",
    .summary = "coRNN, IMEX scheme of the paper (damping implicit)",
    .scheme = "z_n = (z + dt (tanh(a) - gamma y)) / (1 + dt eps);  y_n = y + dt z_n",
    .reference = "Rusch & Mishra, coRNN, ICLR 2021, eq. 3",
    .check = check_imex,
    .step = step_imex,
    .step_jacobian = jac_imex,
    .step_vjp = vjp_imex,
    COMMON_OPS,
};

static const rnn_cell_type explicit_type = {
    .name = "cornn_explicit",
    .summary = "coRNN, explicit scheme of the official code (damping explicit)",
    .scheme = "z_n = z + dt (tanh(a) - gamma y - eps z);  y_n = y + dt z_n",
    .reference = "Rusch & Mishra, coRNN, official code github.com/tk-rusch/coRNN",
    .step = step_explicit,
    .step_jacobian = jac_explicit,
    .step_vjp = vjp_explicit,
    COMMON_OPS,
};

const rnn_cell_type *const rnn_cell_cornn = &imex_type;
const rnn_cell_type *const rnn_cell_cornn_explicit = &explicit_type;
