/*
 * unicornn.c — the undamped independent controlled oscillatory RNN (UnICORNN) [UN]:
 * a second-order ODE with diagonal recurrence, discretised by symplectic Euler.
 *
 *   state s = (y, z) in R^{2m};  a = w . y + V u + b  (w in R^m: diagonal recurrence);
 *   tau = sig(c) in (0, 1)^m, c the trainable time-step logits;  phi(y) = sigma(a) + alpha y
 *   ODE:   y' = tau . z,   z' = -tau . phi(y)                              [UN eq. 3]
 *   step (symplectic Euler, [UN eq. 4]):
 *          z_n = z_{n-1} - dt tau . phi(y_{n-1}),   y_n = y_{n-1} + dt tau . z_n      (order 1)
 *
 * With k = tau . (w . sigma'(a) + alpha) (the derivative of tau . phi(y) by y, a diagonal), the
 * step is the product of two shears, S_y S_z with S_z = [[I, 0], [-dt K, I]] (z moves by a
 * function of y) and S_y = [[I, dt T], [0, I]] (y moves by a function of z), T = diag(tau):
 *
 *   step Jacobian:  [[I - dt^2 T K, dt T], [-dt K, I]],   det = 1 (each shear has det 1)
 *   inverse step:   y_{n-1} = y_n - dt tau . z_n,   z_{n-1} = z_n + dt tau . phi(y_{n-1})
 *                   (rnn_unicornn_step_back; the same input u is used)
 *   ODE Jacobian:   [[0, T], [-K, 0]]
 *   step VJP:       G = g_z + dt tau . g_y (everything reaching z_n);  q = -dt tau . sigma'(a) . G;
 *                   dL/dy = g_y - dt k . G,   dL/dz = G;
 *                   dL/dw += q . y,  dL/dV += q u^T,  dL/db += q,
 *                   dL/dc += dt tau (1 - tau) . (g_y . z_n - G . phi(y))
 *   ODE VJP:        the transpose of the ODE Jacobian and d f/d theta: the step VJP's formulas
 *                   with dt -> 1, G = g_z (no shear coupling), z_n -> z, and dL/dy = -k . g_z,
 *                   dL/dz = tau . g_y (one function, vjp below, serves both)
 *
 * The official code (github.com/tk-rusch/unicornn) runs exactly this step (its CUDA kernel:
 * hz -= dt sig(c)(tanh(w hy + x) + alpha hy); hy += dt sig(c) hz) with V u + b computed by a
 * dense layer before the recurrence, and reconstructs past states in its backward pass by the
 * inverse step above.
 *
 * Reference: Rusch & Mishra, UnICORNN, ICML 2021, eqs. 3-4; THEORY.md §2, §5.5;
 * docs/theory/unicornn-lem.md.
 */
#include <math.h>
#include <string.h>
#include "cell.h"

enum { WD, V, B, C };
enum { DT, ALPHA };

static const rnn_hyper_def hypers[] = {
    {"dt", 0.19, 0, INFINITY, 1, 1, RNN_HYPER_STEP,
     "time step (the official psMNIST setting 0.19); the effective step is dt sig(c)"},
    {"alpha", 30.65, -INFINITY, INFINITY, 1, 1, 0,
     "restoring force alpha y (the official psMNIST setting 30.65; alpha = 0 on IMDB)"},
};

static size_t state_dim(const rnn_cell_type *type, size_t m)
{
    (void)type;
    return 2 * m;
}

static size_t layout(const rnn_cell_type *type, size_t m, size_t d, rnn_block *b)
{
    (void)type;
    b[WD] = (rnn_block){"w", m, 1, 0};
    b[V] = (rnn_block){"V", m, d, 0};
    b[B] = (rnn_block){"b", m, 1, 0};
    b[C] = (rnn_block){"c", m, 1, 0};
    return 4;
}

static size_t work_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)type;
    (void)d;
    return m;
}

#define P(c, k) ((c)->params + (c)->blocks[k].offset)

/* The official code: w ~ U(0, 1), c ~ U(-0.1, 0.1); the input layer nn.Linear(d, m) with
 * kaiming_uniform_(a = 8, fan_in), i.e. U(-k, k), k = sqrt(6 / (65 d)), and a zero bias. */
static void init(rnn_cell *c, gsl_rng *r)
{
    const size_t m = c->m, d = c->d;
    double *w = P(c, WD);
    for (size_t i = 0; i < m; i++)
        w[i] = gsl_rng_uniform(r);
    rnn_fill_uniform(r, sqrt(6.0 / (65.0 * (double)d)), m * d, P(c, V));
    /* b stays 0 (the buffer is zeroed before init) */
    rnn_fill_uniform(r, 0.1, m, P(c, C));
}

/* a[nb x m] = w . y + V u + b for states s[nb x 2m] (y is the first half of each row). */
static void preact(const rnn_cell *c, size_t nb, const double *s, const double *u, double *a)
{
    const size_t m = c->m;
    const double *w = P(c, WD), *b = P(c, B);
    rnn_gemm_rows(nb, m, c->d, P(c, V), u, c->d, 0.0, a);
    for (size_t k = 0; k < nb; k++)
        for (size_t i = 0; i < m; i++)
            a[k * m + i] += w[i] * s[k * 2 * m + i] + b[i];
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    (void)t;
    const size_t m = c->m;
    const double dt = c->hyper[DT], alpha = c->hyper[ALPHA], *cc = P(c, C);
    double *a = c->work;
    preact(c, nb, s, u, a);
    for (size_t k = 0; k < nb; k++) {
        const double *y = s + k * 2 * m, *z = y + m, *ak = a + k * m;
        double *yn = out + k * 2 * m, *zn = yn + m;
        for (size_t i = 0; i < m; i++) {
            double tau = rnn_sigmoid(cc[i]);
            double y0 = y[i]; /* read before writing: out may alias s */
            zn[i] = z[i] - dt * tau * (tanh(ak[i]) + alpha * y0);
            yn[i] = y0 + dt * tau * zn[i];
        }
    }
    return RNN_OK;
}

int rnn_unicornn_step_back(const rnn_cell *c, double t, const double *s_n, const double *u,
                           double *s_prev)
{
    (void)t;
    if (!c || c->type != rnn_cell_unicornn || !s_n || !u || !s_prev)
        return RNN_EINVAL;
    const size_t m = c->m;
    const double dt = c->hyper[DT], alpha = c->hyper[ALPHA], *cc = P(c, C);
    /* Undo the y-shear first (it was applied last): y_{n-1} depends on (y_n, z_n) only. */
    for (size_t i = 0; i < m; i++)
        s_prev[i] = s_n[i] - dt * rnn_sigmoid(cc[i]) * s_n[m + i];
    double *a = c->work;
    preact(c, 1, s_prev, u, a);
    for (size_t i = 0; i < m; i++)
        s_prev[m + i] = s_n[m + i] + dt * rnn_sigmoid(cc[i]) * (tanh(a[i]) + alpha * s_prev[i]);
    return rnn_all_finite(2 * m, s_prev) ? RNN_OK : RNN_ENONFINITE;
}

/* k_i = tau_i (w_i sigma'(a_i) + alpha) into kk[m]; a from the state. */
static void stiffness(const rnn_cell *c, const double *s, const double *u, double *kk)
{
    const double *w = P(c, WD), *cc = P(c, C);
    preact(c, 1, s, u, kk);
    for (size_t i = 0; i < c->m; i++) {
        double th = tanh(kk[i]);
        kk[i] = rnn_sigmoid(cc[i]) * (w[i] * (1.0 - th * th) + c->hyper[ALPHA]);
    }
}

static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    const size_t m = c->m, n = 2 * m;
    const double dt = c->hyper[DT], *cc = P(c, C);
    double *kk = c->work;
    stiffness(c, s, u, kk);
    memset(J, 0, n * n * sizeof(double));
    for (size_t i = 0; i < m; i++) {
        double tau = rnn_sigmoid(cc[i]);
        J[i * n + i] = 1.0 - dt * dt * tau * kk[i];
        J[i * n + m + i] = dt * tau;
        J[(m + i) * n + i] = -dt * kk[i];
        J[(m + i) * n + m + i] = 1.0;
    }
    return RNN_OK;
}

/* The VJP of the step (ode = 0) or of the ODE right-hand side (ode = 1). The ODE's is the
 * step's with dt -> 1 and without the shear coupling: in the step g_y reaches z_n (G = g_z +
 * dt tau g_y) and the y-shear reads z_n; in the ODE y' = tau z reads z itself. */
static void vjp(const rnn_cell *c, const double *s, const double *u, const double *g, int ode,
                double *gs, double *gtheta)
{
    const size_t m = c->m, d = c->d;
    const double h = ode ? 1.0 : c->hyper[DT], alpha = c->hyper[ALPHA];
    const double *w = P(c, WD), *cc = P(c, C);
    const double *y = s, *z = s + m, *gy = g, *gz = g + m;
    double *gw = gtheta + c->blocks[WD].offset, *gb = gtheta + c->blocks[B].offset;
    double *gc = gtheta + c->blocks[C].offset;
    double *a = c->work; /* a, then q in place */
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        double tau = rnn_sigmoid(cc[i]), th = tanh(a[i]), dsig = 1.0 - th * th;
        double phi = th + alpha * y[i];
        double zz = ode ? z[i] : z[i] - h * tau * phi;  /* the z that y' reads */
        double G = ode ? gz[i] : gz[i] + h * tau * gy[i]; /* dL/d(z-update) */
        double gyi = gy[i];                               /* read before writing: gs may alias g */
        gc[i] += h * tau * (1.0 - tau) * (gyi * zz - G * phi);
        gs[i] = (ode ? 0.0 : gyi) - h * tau * (w[i] * dsig + alpha) * G;
        gs[m + i] = ode ? tau * gyi : G;
        a[i] = -h * tau * dsig * G; /* q: dL/da */
        gw[i] += a[i] * y[i];
        gb[i] += a[i];
    }
    rnn_ger(m, d, a, u, gtheta + c->blocks[V].offset);
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
    const double *cc = P(c, C);
    double *a = c->work;
    preact(c, 1, s, u, a);
    for (size_t i = 0; i < m; i++) {
        double tau = rnn_sigmoid(cc[i]);
        f[i] = tau * s[m + i];
        f[m + i] = -tau * (tanh(a[i]) + c->hyper[ALPHA] * s[i]);
    }
    return RNN_OK;
}

static int ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    const size_t m = c->m, n = 2 * m;
    const double *cc = P(c, C);
    double *kk = c->work;
    stiffness(c, s, u, kk);
    memset(J, 0, n * n * sizeof(double));
    for (size_t i = 0; i < m; i++) {
        J[i * n + m + i] = rnn_sigmoid(cc[i]);
        J[(m + i) * n + i] = -kk[i];
    }
    return RNN_OK;
}

static int ode_jvp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *v, double *Jv)
{
    (void)t;
    const size_t m = c->m;
    const double *cc = P(c, C);
    double *kk = c->work;
    stiffness(c, s, u, kk);
    for (size_t i = 0; i < m; i++) {
        double vy = v[i]; /* read before writing: Jv may alias v */
        Jv[i] = rnn_sigmoid(cc[i]) * v[m + i];
        Jv[m + i] = -kk[i] * vy;
    }
    return RNN_OK;
}

static const rnn_cell_type type = {
    .name = "unicornn",
    .summary = "UnICORNN: undamped oscillators, diagonal recurrence, symplectic Euler",
    .ode = "y' = sig(c) z,  z' = -sig(c) (tanh(w y + V u + b) + alpha y)  (elementwise)",
    .scheme = "z_n = z - dt sig(c) (tanh(w y + V u + b) + alpha y);  y_n = y + dt sig(c) z_n",
    .reference = "Rusch & Mishra, UnICORNN, ICML 2021, eqs. 3-4",
    .init_doc = "as the official code: w ~ U(0, 1), c ~ U(-0.1, 0.1) (so sig(c) ~ 0.5), "
                "V ~ U(-k, k) with k = sqrt(6/(65 d)) (kaiming_uniform, a = 8), b = 0; "
                "dt = 0.19, alpha = 30.65: the official psMNIST settings",
    .order = 1,
    .tableau = NULL, /* symplectic Euler is a partitioned method, not one Butcher tableau */
    .stages = 1,
    .memory = 2,
    .class_derivation = "n = 1: the step applies tanh once (z_n), and y_n is affine in z_n; "
                        "t = 2: eliminating z_n = (y_n - y_{n-1}) / (dt tau) gives "
                        "y_n = 2 y_{n-1} - y_{n-2} - dt^2 tau^2 (tanh(w y_{n-1} + V u + b) + "
                        "alpha y_{n-1}), which reads y_{n-1} and y_{n-2}",
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

const rnn_cell_type *const rnn_cell_unicornn = &type;
