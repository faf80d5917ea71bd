/*
 * lem.c — Long Expressive Memory (LEM) [LEM]: a two-scale gated ODE and its IMEX-like
 * (partitioned, "z first, then y") Euler step with learned per-unit time steps.
 *
 *   state s = (y, z) in R^{2m};  pre-activations, all at the state's y unless marked:
 *     a1 = W1 y + V1 u + b1,  a2 = W2 y + V2 u + b2,  az = Wz y + Vz u + bz,
 *     ay = Wy z + Vy u + by
 *   ODE ([LEM] eq. 2):
 *     z' = sig(a1) . (sigma(az) - z),     y' = sig(a2) . (sigma(ay) - y)
 *   step ([LEM] eq. 3, and the official code github.com/tk-rusch/LEM):
 *     p = dt sig(a1(y_{n-1})),  q = dt sig(a2(y_{n-1}))            (the learned time steps)
 *     z_n = (1 - p) . z_{n-1} + p . sigma(az(y_{n-1}))
 *     y_n = (1 - q) . y_{n-1} + q . sigma(ay(z_n))                                  (order 1)
 *   Both gates read y_{n-1}; the y-update reads the NEW z_n (as in [LEM] eq. 3). Each half is
 *   forward Euler of its own equation, y_n = y + dt y'(y_{n-1}, z_n), with z_n = z + O(dt):
 *   a partitioned Euler method, consistent of order 1 (docs/theory/unicornn-lem.md).
 *
 *   Notation: D1 = diag(dt sig'(a1) . (sigma(az) - z)), Dz = diag(p . sigma'(az)),
 *             D2 = diag(dt sig'(a2) . (sigma(ay_n) - y)), Dy = diag(q . sigma'(ay_n)),
 *             ay_n = Wy z_n + Vy u + by.
 *   step Jacobian:  dz_n/dy = Z := D1 W1 + Dz Wz,        dz_n/dz = diag(1 - p),
 *                   dy_n/dy = diag(1 - q) + D2 W2 + Dy Wy Z,   dy_n/dz = Dy Wy diag(1 - p)
 *   step VJP:       r = Dy g_y (dL/d ay),  e2 = D2 g_y (dL/d a2),  G = g_z + Wy^T r (dL/dz_n),
 *                   e1 = D1 G (dL/d a1),  ez = Dz G (dL/d az);
 *                   dL/dy = (1 - q) . g_y + W2^T e2 + W1^T e1 + Wz^T ez,  dL/dz = (1 - p) . G;
 *                   dL/dWy += r z_n^T, dL/dW2 += e2 y^T, dL/dW1 += e1 y^T, dL/dWz += ez y^T,
 *                   dL/dV* += e* u^T, dL/db* += e*   (e* = r, e2, e1, ez)
 *   ODE Jacobian:   the same with dt -> 1 in the gates' factors and without the step's coupling:
 *                   dz'/dy = diag(sig'(a1) . (sigma(az) - z)) W1 + diag(sig(a1) . sigma'(az)) Wz,
 *                   dz'/dz = -diag(sig(a1)),
 *                   dy'/dy = diag(sig'(a2) . (sigma(ay) - y)) W2 - diag(sig(a2)),
 *                   dy'/dz = diag(sig(a2) . sigma'(ay)) Wy
 *   ODE VJP:        the step VJP with dt -> 1, ay at z (not z_n), G = g_z (g_y does not reach
 *                   z through z_n), and Wy^T r going straight to dL/dz:
 *                   dL/dy = -sig(a2) . g_y + W2^T e2 + W1^T e1 + Wz^T ez,
 *                   dL/dz = -sig(a1) . g_z + Wy^T r,   dL/dWy += r z^T, the rest as the step's
 *                   (one function, vjp below, serves both)
 *
 * The official code names the gates the other way round (its "ms_dt" for z uses its second
 * chunk); that is a relabelling of W1 <-> W2 and changes nothing. It also has two biases per
 * gate (from two nn.Linear layers) whose sum is our single b.
 *
 * Reference: Rusch, Mishra, Erichson, Mahoney, Long Expressive Memory, ICLR 2022, eqs. 2-3;
 * THEORY.md §2; docs/theory/unicornn-lem.md.
 */
#include <math.h>
#include <string.h>
#include "cell.h"

enum { W1, W2, WZ, WY, V1, V2, VZ, VY, B1, B2, BZ, BY, N_BLOCKS };
enum { DT };

static const rnn_hyper_def hypers[] = {
    {"dt", 0.31, 0, INFINITY, 1, 1, RNN_HYPER_STEP,
     "time step (the official psMNIST setting 0.31); the per-unit steps are dt sig(a1), dt sig(a2)"},
};

static size_t state_dim(const rnn_cell_type *type, size_t m)
{
    (void)type;
    return 2 * m;
}

static size_t layout(const rnn_cell_type *type, size_t m, size_t d, rnn_block *b)
{
    (void)type;
    static const char *names[] = {"W1", "W2", "Wz", "Wy", "V1", "V2",
                                  "Vz", "Vy", "b1", "b2", "bz", "by"};
    for (size_t k = 0; k < N_BLOCKS; k++) {
        size_t cols = k <= WY ? m : (k <= VY ? d : 1);
        b[k] = (rnn_block){"", m, cols, 0};
        strcpy(b[k].name, names[k]);
    }
    return N_BLOCKS;
}

/* Per sample: a1, a2, az, ay, z_n (5 m); the VJP and JVP need 5 m more. */
static size_t work_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)type;
    (void)d;
    return 10 * m;
}

#define P(c, k) ((c)->params + (c)->blocks[k].offset)

/* The official code: every weight and bias ~ U(-1/sqrt(m), 1/sqrt(m)), input weights too. */
static void init(rnn_cell *c, gsl_rng *r)
{
    const double k = 1.0 / sqrt((double)c->m);
    for (size_t b = 0; b < N_BLOCKS; b++)
        rnn_fill_uniform(r, k, c->blocks[b].rows * c->blocks[b].cols, P(c, b));
}

/* A[nb x m] = Wblk x + Vblk u + bblk, x the rows of X (leading dimension ldx). */
static void affine(const rnn_cell *c, size_t nb, int wk, int vk, int bk, const double *X,
                   size_t ldx, const double *u, double *A)
{
    rnn_gemm_rows(nb, c->m, c->m, P(c, wk), X, ldx, 0.0, A);
    rnn_gemm_rows(nb, c->m, c->d, P(c, vk), u, c->d, 1.0, A);
    rnn_add_bias_rows(nb, c->m, P(c, bk), A);
}

/* The three pre-activations that read y: a1, a2, az (nb x m each) from states s[nb x 2m]. */
static void preact_y(const rnn_cell *c, size_t nb, const double *s, const double *u,
                     double *a1, double *a2, double *az)
{
    affine(c, nb, W1, V1, B1, s, 2 * c->m, u, a1);
    affine(c, nb, W2, V2, B2, s, 2 * c->m, u, a2);
    affine(c, nb, WZ, VZ, BZ, s, 2 * c->m, u, az);
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    (void)t;
    const size_t m = c->m, n = 2 * m, nm = nb * m;
    const double dt = c->hyper[DT];
    double *a1 = c->work, *a2 = a1 + nm, *az = a2 + nm, *ay = az + nm;
    preact_y(c, nb, s, u, a1, a2, az);
    for (size_t k = 0; k < nb; k++)
        for (size_t i = 0; i < m; i++) {
            double p = dt * rnn_sigmoid(a1[k * m + i]);
            out[k * n + m + i] = (1.0 - p) * s[k * n + m + i] + p * tanh(az[k * m + i]);
        }
    /* ay reads the new z_n (already in out); out may alias s: y_{n-1} is still intact. */
    affine(c, nb, WY, VY, BY, out + m, n, u, ay);
    for (size_t k = 0; k < nb; k++)
        for (size_t i = 0; i < m; i++) {
            double q = dt * rnn_sigmoid(a2[k * m + i]);
            out[k * n + i] = (1.0 - q) * s[k * n + i] + q * tanh(ay[k * m + i]);
        }
    return RNN_OK;
}

/* One sample's forward quantities: a1, a2, az, ay (at z_n) and z_n, in work (5 m). */
static void forward(const rnn_cell *c, const double *s, const double *u, double *w)
{
    const size_t m = c->m;
    const double dt = c->hyper[DT];
    double *a1 = w, *a2 = w + m, *az = w + 2 * m, *ay = w + 3 * m, *zn = w + 4 * m;
    preact_y(c, 1, s, u, a1, a2, az);
    for (size_t i = 0; i < m; i++) {
        double p = dt * rnn_sigmoid(a1[i]);
        zn[i] = (1.0 - p) * s[m + i] + p * tanh(az[i]);
    }
    affine(c, 1, WY, VY, BY, zn, m, u, ay);
}

static double dsigmoid(double x)
{
    double g = rnn_sigmoid(x);
    return g * (1.0 - g);
}

static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    const size_t m = c->m, n = 2 * m;
    const double dt = c->hyper[DT];
    const double *Mw1 = P(c, W1), *Mw2 = P(c, W2), *Mwz = P(c, WZ), *Mwy = P(c, WY);
    double *w = c->work;
    forward(c, s, u, w);
    const double *a1 = w, *a2 = w + m, *az = w + 2 * m, *ay = w + 3 * m;
    /* z rows: Z = D1 W1 + Dz Wz and diag(1 - p). */
    for (size_t i = 0; i < m; i++) {
        double thz = tanh(az[i]), p = dt * rnn_sigmoid(a1[i]);
        double d1 = dt * dsigmoid(a1[i]) * (thz - s[m + i]), dz = p * (1.0 - thz * thz);
        double *Jz = J + (m + i) * n;
        for (size_t j = 0; j < m; j++) {
            Jz[j] = d1 * Mw1[i * m + j] + dz * Mwz[i * m + j];
            Jz[m + j] = 0.0;
        }
        Jz[m + i] = 1.0 - p;
    }
    /* y rows: diag(1 - q) + D2 W2 + Dy Wy Z, and Dy Wy diag(1 - p). Wy Z is the cell's only
     * matrix-matrix product; a plain loop keeps it in the J buffer (no m x m workspace per
     * batch sample), and step Jacobians are diagnostics, not part of a training loop. */
    for (size_t i = 0; i < m; i++) {
        double thy = tanh(ay[i]), q = dt * rnn_sigmoid(a2[i]);
        double d2 = dt * dsigmoid(a2[i]) * (thy - s[i]), dy = q * (1.0 - thy * thy);
        double *Jy = J + i * n;
        for (size_t j = 0; j < m; j++) {
            Jy[j] = d2 * Mw2[i * m + j];
            Jy[m + j] = 0.0;
        }
        Jy[i] += 1.0 - q;
        for (size_t k = 0; k < m; k++) {
            double f = dy * Mwy[i * m + k];
            const double *Zk = J + (m + k) * n; /* row k of dz_n/d(y, z) */
            for (size_t j = 0; j < n; j++)
                Jy[j] += f * Zk[j];
        }
    }
    return RNN_OK;
}

/* The ODE's pre-activations at one state: a1, a2, az from y and ay from z (4 m in w). */
static void ode_preact(const rnn_cell *c, const double *s, const double *u, double *w)
{
    const size_t m = c->m;
    preact_y(c, 1, s, u, w, w + m, w + 2 * m);
    affine(c, 1, WY, VY, BY, s + m, m, u, w + 3 * m);
}

/* The VJP of the step (ode = 0) or of the ODE right-hand side (ode = 1): s -> keep s + h F with
 * (keep, h) = (1, dt) and (0, 1), F the two gated relaxations, except that the step's y-update
 * reads z_n (so g_y reaches z_n: G = g_z + Wy^T r) and the ODE's reads z (Wy^T r is dL/dz
 * directly). keep - h sig(a) is the step's 1 - p (1 - q) and the ODE's -sig(a). */
static void vjp(const rnn_cell *c, const double *s, const double *u, const double *g, int ode,
                double *gs, double *gtheta)
{
    const size_t m = c->m, d = c->d;
    const double h = ode ? 1.0 : c->hyper[DT], keep = ode ? 0.0 : 1.0;
    double *w = c->work;
    if (ode)
        ode_preact(c, s, u, w);
    else
        forward(c, s, u, w);
    /* xz: the z that the y-update reads (z_n for the step, z for the ODE) */
    const double *a1 = w, *a2 = w + m, *az = w + 2 * m, *ay = w + 3 * m;
    const double *xz = ode ? s + m : w + 4 * m;
    double *r = w + 5 * m, *e2 = w + 6 * m, *G = w + 7 * m, *e1 = w + 8 * m, *ez = w + 9 * m;
    const double *y = s, *z = s + m, *gy = g, *gz = g + m;
    for (size_t i = 0; i < m; i++) {
        double thy = tanh(ay[i]), q = h * rnn_sigmoid(a2[i]);
        r[i] = q * (1.0 - thy * thy) * gy[i];
        e2[i] = h * dsigmoid(a2[i]) * (thy - y[i]) * gy[i];
        G[i] = gz[i];
    }
    if (!ode)
        rnn_gemv_t(m, m, P(c, WY), r, 1.0, G);
    for (size_t i = 0; i < m; i++) {
        double thz = tanh(az[i]), p = h * rnn_sigmoid(a1[i]);
        e1[i] = h * dsigmoid(a1[i]) * (thz - z[i]) * G[i];
        ez[i] = p * (1.0 - thz * thz) * G[i];
    }
    /* gs may alias g: finish every read of g (above) before writing gs. */
    for (size_t i = 0; i < m; i++) {
        double q = h * rnn_sigmoid(a2[i]), p = h * rnn_sigmoid(a1[i]);
        gs[i] = (keep - q) * gy[i];
        gs[m + i] = (keep - p) * G[i];
    }
    if (ode)
        rnn_gemv_t(m, m, P(c, WY), r, 1.0, gs + m);
    rnn_gemv_t(m, m, P(c, W2), e2, 1.0, gs);
    rnn_gemv_t(m, m, P(c, W1), e1, 1.0, gs);
    rnn_gemv_t(m, m, P(c, WZ), ez, 1.0, gs);

    const struct { int w, v, b; const double *e, *x; } grads[] = {
        {WY, VY, BY, r, xz}, {W2, V2, B2, e2, y}, {W1, V1, B1, e1, y}, {WZ, VZ, BZ, ez, y}};
    for (size_t k = 0; k < sizeof grads / sizeof grads[0]; k++) {
        rnn_ger(m, m, grads[k].e, grads[k].x, gtheta + c->blocks[grads[k].w].offset);
        rnn_ger(m, d, grads[k].e, u, gtheta + c->blocks[grads[k].v].offset);
        double *gb = gtheta + c->blocks[grads[k].b].offset;
        for (size_t i = 0; i < m; i++)
            gb[i] += grads[k].e[i];
    }
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
    double *w = c->work;
    ode_preact(c, s, u, w);
    const double *a1 = w, *a2 = w + m, *az = w + 2 * m, *ay = w + 3 * m;
    for (size_t i = 0; i < m; i++) {
        f[m + i] = rnn_sigmoid(a1[i]) * (tanh(az[i]) - s[m + i]);
        f[i] = rnn_sigmoid(a2[i]) * (tanh(ay[i]) - s[i]);
    }
    return RNN_OK;
}

static int ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t;
    const size_t m = c->m, n = 2 * m;
    const double *Mw1 = P(c, W1), *Mw2 = P(c, W2), *Mwz = P(c, WZ), *Mwy = P(c, WY);
    double *w = c->work;
    ode_preact(c, s, u, w);
    const double *a1 = w, *a2 = w + m, *az = w + 2 * m, *ay = w + 3 * m;
    for (size_t i = 0; i < m; i++) {
        double thz = tanh(az[i]), thy = tanh(ay[i]);
        double g1 = rnn_sigmoid(a1[i]), g2 = rnn_sigmoid(a2[i]);
        double d1 = dsigmoid(a1[i]) * (thz - s[m + i]), dz = g1 * (1.0 - thz * thz);
        double d2 = dsigmoid(a2[i]) * (thy - s[i]), dy = g2 * (1.0 - thy * thy);
        double *Jy = J + i * n, *Jz = J + (m + i) * n;
        for (size_t j = 0; j < m; j++) {
            Jy[j] = d2 * Mw2[i * m + j];
            Jy[m + j] = dy * Mwy[i * m + j];
            Jz[j] = d1 * Mw1[i * m + j] + dz * Mwz[i * m + j];
            Jz[m + j] = 0.0;
        }
        Jy[i] -= g2;
        Jz[m + i] = -g1;
    }
    return RNN_OK;
}

static int ode_jvp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *v, double *Jv)
{
    (void)t;
    const size_t m = c->m;
    double *w = c->work;
    ode_preact(c, s, u, w);
    const double *a1 = w, *a2 = w + m, *az = w + 2 * m, *ay = w + 3 * m;
    double *p1 = w + 4 * m, *p2 = w + 5 * m, *pz = w + 6 * m, *py = w + 7 * m;
    rnn_gemm_rows(1, m, m, P(c, W1), v, m, 0.0, p1);
    rnn_gemm_rows(1, m, m, P(c, W2), v, m, 0.0, p2);
    rnn_gemm_rows(1, m, m, P(c, WZ), v, m, 0.0, pz);
    rnn_gemm_rows(1, m, m, P(c, WY), v + m, m, 0.0, py);
    for (size_t i = 0; i < m; i++) {
        double thz = tanh(az[i]), thy = tanh(ay[i]);
        double g1 = rnn_sigmoid(a1[i]), g2 = rnn_sigmoid(a2[i]);
        double vy = v[i], vz = v[m + i]; /* read before writing: Jv may alias v */
        Jv[m + i] = dsigmoid(a1[i]) * (thz - s[m + i]) * p1[i] + g1 * (1.0 - thz * thz) * pz[i]
                    - g1 * vz;
        Jv[i] = dsigmoid(a2[i]) * (thy - s[i]) * p2[i] - g2 * vy + g2 * (1.0 - thy * thy) * py[i];
    }
    return RNN_OK;
}

static const rnn_cell_type type = {
    .name = "lem",
    .summary = "Long Expressive Memory: two-scale gated ODE, z then y (partitioned Euler)",
    .ode = "z' = sig(W1 y + V1 u + b1) (tanh(Wz y + Vz u + bz) - z),  "
           "y' = sig(W2 y + V2 u + b2) (tanh(Wy z + Vy u + by) - y)",
    .scheme = "p = dt sig(W1 y + V1 u + b1), q = dt sig(W2 y + V2 u + b2);  "
              "z_n = (1 - p) z + p tanh(Wz y + Vz u + bz);  y_n = (1 - q) y + q tanh(Wy z_n + Vy u + by)",
    .reference = "Rusch, Mishra, Erichson, Mahoney, Long Expressive Memory, ICLR 2022, eqs. 2-3",
    .init_doc = "as the official code: every weight and bias ~ U(-1/sqrt(m), 1/sqrt(m)) (input "
                "weights too); dt = 0.31: the official psMNIST setting",
    .order = 1,
    .tableau = NULL, /* z first, then y with the new z: partitioned, not one Butcher tableau */
    .stages = 2,
    .memory = 2,
    .class_derivation = "n = 2: y_n applies tanh to Wy z_n, and z_n already contains "
                        "tanh(Wz y_{n-1} + ...) (and the gates sig(W y_{n-1} + ...)), so the "
                        "nonlinearity is nested twice; t = 2: with Wy invertible the y-update "
                        "solves for z_n as a function of (y_n, y_{n-1}, u_n), so z_{n-1} is one "
                        "of (y_{n-1}, y_{n-2}, u_{n-1}) and y_n reads y_{n-1} and y_{n-2}",
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

const rnn_cell_type *const rnn_cell_lem = &type;
