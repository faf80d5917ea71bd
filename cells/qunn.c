/*
 * qunn.c — QUNN, the product-of-rotations RNN of [OD], as a Lie–Trotter splitting of an ODE
 * (THEORY.md §5.4, a reading; docs/theory/qunn.md). A family qunn:<t>, t = the number of
 * generators; the registered `qunn` has t = RNN_QUNN_DEFAULT_T.
 *
 *   generators  G_k = E_ij - E_ji for the k-th pair (i, j), i < j, of the fixed enumeration
 *               (0,1), (0,2), ..., (0,m-1), (1,2), ..., (m-2,m-1)  (lexicographic; k counts
 *               from 0 and the list is cycled when t > N = m(m-1)/2). They span so(m), so the
 *               rotations exp(theta G_k) generate SO(m); for m = 1 there are none (SO(1) = {1}).
 *   amplitudes  theta_k(u) = a_k.u + c_k          (trainable: a is t x d, c is t)
 *   ODE:        h' = f(h) = A(u) h + kappa sigma(z),   A(u) = sum_k theta_k(u) G_k,
 *               z = V u + b,  sigma = tanh,  kappa = the `inject` hyperparameter
 *   step:       h_n = M h_{n-1} + dt kappa sigma(z),   M = E_1 E_2 ... E_t  (E_t acts first),
 *               E_k = exp(phi_k G_k),  phi_k = dt theta_k(u):  each E_k is the exact flow over
 *               dt of h' = theta_k G_k h (a plane rotation, O(1) to apply), so M is the
 *               Lie–Trotter splitting of h' = A h and the step is consistent of order 1.
 *               (E h)_i = cos(phi) h_i + sin(phi) h_j,  (E h)_j = -sin(phi) h_i + cos(phi) h_j.
 *               dt = 1 is [OD]'s QUNN h_n = prod_k exp(theta_k(u_n) G_k) h_{n-1} (+ injection).
 *
 *   step Jacobian:  dh_n/dh = M (orthogonal: the injection does not depend on h)
 *   ODE Jacobian:   df/dh = A(u) (antisymmetric)
 *   step VJP:       with x^(1) = M h and x^(k+1) = E_k^T x^(k) (the state before E_k acted),
 *                   g^(1) = g and g^(k+1) = E_k^T g^(k):
 *                   dL/dphi_k = g^(k).G_k x^(k) = g_i x_j - g_j x_i  (at pair (i, j)),
 *                   dL/da_k += dt dL/dphi_k u,  dL/dc_k += dt dL/dphi_k,  dL/dh = g^(t+1) = M^T g;
 *                   delta = dt kappa sigma'(z) g:  dL/dV += delta u^T,  dL/db += delta.
 *                   The x^(k) are recomputed backwards by the inverse rotations (orthogonal,
 *                   so exact up to rounding) instead of being stored: O(m) workspace for any t.
 *   ODE VJP:        dL/dh = A^T g = -A g;  dL/dtheta_k = g.G_k h = g_i h_j - g_j h_i,
 *                   dL/da_k += dL/dtheta_k u,  dL/dc_k += dL/dtheta_k;  delta = kappa sigma'(z) g
 *                   (the step's injection and amplitude terms with dt -> 1, shared code).
 *
 * rnn_qunn_givens_decompose: the constructive proof that t >= N generators reach all of SO(m):
 * plane rotations in the enumeration's order zero the subdiagonal of R column by column.
 *
 * References: Niu, Horesh, Chuang, arXiv 1904.12933 [OD] (QUNN: trainable parameters linear in
 * the memory length); THEORY.md §5.4; Golub & Van Loan, Matrix Computations, §5.1.8 (Givens).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cell.h"

enum { A, C, V, B };
enum { DT, INJECT };

/* A qunn type: the generic table plus its number of generators. The table comes first so
 * that the sizing functions, which receive the table, can cast back (cell.h). */
typedef struct {
    rnn_cell_type type;
    size_t t;
    char name[RNN_NAME_LEN];
} qunn_family;

static size_t gens(const rnn_cell_type *type)
{
    return ((const qunn_family *)type)->t;
}

static const rnn_hyper_def hypers[] = {
    {"dt", 1.0, 0, INFINITY, 1, 1, RNN_HYPER_STEP,
     "step: angles dt (a_k.u + c_k), injection dt tanh(V u + b); dt = 1 is [OD]'s QUNN"},
    {"inject", 1.0, 0, INFINITY, 0, 1, 0,
     "gain of the input injection; 0 switches it off (a pure rotation: norm-preserving)"},
};

/* ---- the generator enumeration ------------------------------------------------------------ */

void rnn_qunn_pair(size_t m, size_t k, size_t *i, size_t *j)
{
    if (m < 2) { /* no pairs */
        *i = *j = 0;
        return;
    }
    const size_t n = m * (m - 1) / 2;
    size_t q = k % n, a = 0;
    while (q >= m - 1 - a) { /* row a holds the m - 1 - a pairs (a, a+1..m-1) */
        q -= m - 1 - a;
        a++;
    }
    *i = a;
    *j = a + 1 + q;
}

static void pair_next(size_t m, size_t *i, size_t *j)
{
    if (++*j == m) {
        ++*i;
        *j = *i + 1;
    }
    if (*i == m - 1) { /* past (m-2, m-1): cycle */
        *i = 0;
        *j = 1;
    }
}

static void pair_prev(size_t m, size_t *i, size_t *j)
{
    if (*j == *i + 1) {
        if (*i == 0) { /* before (0, 1): cycle to the last pair */
            *i = m - 2;
            *j = m - 1;
            return;
        }
        --*i;
        *j = m - 1;
        return;
    }
    --*j;
}

/* x <- exp(phi G_ij) x on the plane (i, j). */
static void rotate(double *x, size_t i, size_t j, double phi)
{
    const double co = cos(phi), si = sin(phi), xi = x[i], xj = x[j];
    x[i] = co * xi + si * xj;
    x[j] = -si * xi + co * xj;
}

/* ---- sizes, layout, init ---------------------------------------------------------------- */

static size_t state_dim(const rnn_cell_type *type, size_t m)
{
    (void)type;
    return m;
}

static size_t layout(const rnn_cell_type *type, size_t m, size_t d, rnn_block *b)
{
    const size_t t = gens(type);
    b[A] = (rnn_block){"a", t, d, 0};
    b[C] = (rnn_block){"c", t, 1, 0};
    b[V] = (rnn_block){"V", m, d, 0};
    b[B] = (rnn_block){"b", m, 1, 0};
    return 4;
}

/* Per sample: t angles, then z, x, g (m each; the VJP uses all three). */
static size_t work_size(const rnn_cell_type *type, size_t m, size_t d)
{
    (void)d;
    return gens(type) + 3 * m;
}

#define P(c, k) ((c)->params + (c)->blocks[k].offset)

static void init(rnn_cell *c, gsl_rng *r)
{
    const size_t t = gens(c->type), m = c->m, d = c->d;
    rnn_fill_gaussian(r, 1.0 / sqrt((double)d), t * d, P(c, A));
    rnn_fill_uniform(r, M_PI, t, P(c, C));
    rnn_fill_gaussian(r, 1.0 / sqrt((double)d), m * d, P(c, V));
    rnn_fill_uniform(r, 0.1, m, P(c, B));
}

/* ---- the operations ----------------------------------------------------------------------- */

/* phi[nb x t] = scale (u a^T + c): the angles (scale = dt) or the amplitudes (scale = 1). */
static void angles(const rnn_cell *c, size_t nb, const double *u, double scale, double *phi)
{
    const size_t t = gens(c->type);
    rnn_gemm_rows(nb, t, c->d, P(c, A), u, c->d, 0.0, phi);
    rnn_add_bias_rows(nb, t, P(c, C), phi);
    for (size_t k = 0; k < nb * t; k++)
        phi[k] *= scale;
}

/* z[nb x m] = u V^T + b */
static void inject_preact(const rnn_cell *c, size_t nb, const double *u, double *z)
{
    rnn_gemm_rows(nb, c->m, c->d, P(c, V), u, c->d, 0.0, z);
    rnn_add_bias_rows(nb, c->m, P(c, B), z);
}

/* x <- M x = E_1 (E_2 (... (E_t x))). */
static void apply_product(size_t m, size_t t, const double *phi, double *x)
{
    if (m < 2 || t == 0)
        return;
    size_t i, j;
    rnn_qunn_pair(m, t - 1, &i, &j);
    for (size_t k = t; k-- > 0; pair_prev(m, &i, &j))
        rotate(x, i, j, phi[k]);
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    (void)t;
    const size_t m = c->m, ng = gens(c->type);
    const double dt = c->hyper[DT], gain = dt * c->hyper[INJECT];
    double *phi = c->work, *z = c->work + nb * ng;
    angles(c, nb, u, dt, phi);
    inject_preact(c, nb, u, z);
    for (size_t b = 0; b < nb; b++) {
        double *x = out + b * m;
        if (x != s + b * m)
            memcpy(x, s + b * m, m * sizeof(double));
        apply_product(m, ng, phi + b * ng, x);
        for (size_t i = 0; i < m; i++)
            x[i] += gain * tanh(z[b * m + i]);
    }
    return RNN_OK;
}

/* J = M, built by applying E_t, ..., E_1 to the rows of I. */
static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t, (void)s;
    const size_t m = c->m, ng = gens(c->type);
    double *phi = c->work;
    angles(c, 1, u, c->hyper[DT], phi);
    memset(J, 0, m * m * sizeof(double));
    for (size_t i = 0; i < m; i++)
        J[i * m + i] = 1.0;
    if (m < 2 || ng == 0)
        return RNN_OK;
    size_t i, j;
    rnn_qunn_pair(m, ng - 1, &i, &j);
    for (size_t k = ng; k-- > 0; pair_prev(m, &i, &j)) {
        const double co = cos(phi[k]), si = sin(phi[k]);
        double *ri = J + i * m, *rj = J + j * m;
        for (size_t col = 0; col < m; col++) {
            const double a = ri[col], bb = rj[col];
            ri[col] = co * a + si * bb;
            rj[col] = -si * a + co * bb;
        }
    }
    return RNN_OK;
}

/* Generator k's amplitude theta_k = a_k.u + c_k receives dL/dtheta_k = dth. */
static void amplitude_grad(const rnn_cell *c, size_t k, double dth, const double *u,
                           double *gtheta)
{
    const size_t d = c->d;
    double *ga = gtheta + c->blocks[A].offset + k * d;
    for (size_t l = 0; l < d; l++)
        ga[l] += dth * u[l];
    gtheta[c->blocks[C].offset + k] += dth;
}

/* The injection gain tanh(V u + b) (gain dt kappa in the step, kappa in the ODE): delta =
 * gain sigma'(z) g into delta[m]; dL/dV += delta u^T, dL/db += delta. */
static void inject_grad(const rnn_cell *c, const double *u, const double *g, double gain,
                        double *delta, double *gtheta)
{
    const size_t m = c->m;
    inject_preact(c, 1, u, delta);
    for (size_t i = 0; i < m; i++) {
        const double th = tanh(delta[i]);
        delta[i] = gain * (1.0 - th * th) * g[i];
    }
    rnn_ger(m, c->d, delta, u, gtheta + c->blocks[V].offset);
    for (size_t i = 0; i < m; i++)
        gtheta[c->blocks[B].offset + i] += delta[i];
}

static int step_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                    const double *g, double *gs, double *gtheta)
{
    (void)t;
    const size_t m = c->m, ng = gens(c->type);
    const double dt = c->hyper[DT];
    double *phi = c->work, *z = phi + ng, *x = z + m, *gg = x + m;
    angles(c, 1, u, dt, phi);
    memcpy(x, s, m * sizeof(double));
    apply_product(m, ng, phi, x); /* x^(1) = M h */
    memcpy(gg, g, m * sizeof(double));
    if (m >= 2) {
        size_t i = 0, j = 1;
        for (size_t k = 0; k < ng; k++, pair_next(m, &i, &j)) {
            amplitude_grad(c, k, dt * (gg[i] * x[j] - gg[j] * x[i]), u, gtheta);
            rotate(x, i, j, -phi[k]);
            rotate(gg, i, j, -phi[k]);
        }
    }
    inject_grad(c, u, g, dt * c->hyper[INJECT], z, gtheta);
    memcpy(gs, gg, m * sizeof(double)); /* last: gs may alias g */
    return RNN_OK;
}

/* y = A(u) x, with the amplitudes theta[t]. */
static void generator_apply(size_t m, size_t ng, const double *theta, const double *x, double *y)
{
    memset(y, 0, m * sizeof(double));
    if (m < 2)
        return;
    size_t i = 0, j = 1;
    for (size_t k = 0; k < ng; k++, pair_next(m, &i, &j)) {
        y[i] += theta[k] * x[j];
        y[j] -= theta[k] * x[i];
    }
}

static int ode_rhs(const rnn_cell *c, double t, const double *s, const double *u, double *f)
{
    (void)t;
    const size_t m = c->m, ng = gens(c->type);
    double *theta = c->work, *z = theta + ng;
    angles(c, 1, u, 1.0, theta);
    generator_apply(m, ng, theta, s, f);
    inject_preact(c, 1, u, z);
    for (size_t i = 0; i < m; i++)
        f[i] += c->hyper[INJECT] * tanh(z[i]);
    return RNN_OK;
}

static int ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    (void)t, (void)s;
    const size_t m = c->m, ng = gens(c->type);
    double *theta = c->work;
    angles(c, 1, u, 1.0, theta);
    memset(J, 0, m * m * sizeof(double));
    if (m < 2)
        return RNN_OK;
    size_t i = 0, j = 1;
    for (size_t k = 0; k < ng; k++, pair_next(m, &i, &j)) {
        J[i * m + j] += theta[k];
        J[j * m + i] -= theta[k];
    }
    return RNN_OK;
}

static int ode_jvp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *v, double *Jv)
{
    (void)t, (void)s;
    const size_t ng = gens(c->type);
    double *theta = c->work;
    angles(c, 1, u, 1.0, theta);
    generator_apply(c->m, ng, theta, v, Jv);
    return RNN_OK;
}

static int ode_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *g, double *gs, double *gtheta)
{
    (void)t;
    const size_t m = c->m, ng = gens(c->type);
    double *theta = c->work, *z = theta + ng;
    angles(c, 1, u, 1.0, theta);
    if (m >= 2) {
        size_t i = 0, j = 1;
        for (size_t k = 0; k < ng; k++, pair_next(m, &i, &j))
            amplitude_grad(c, k, g[i] * s[j] - g[j] * s[i], u, gtheta);
    }
    inject_grad(c, u, g, c->hyper[INJECT], z, gtheta);
    generator_apply(m, ng, theta, g, z); /* A g (z is free again) */
    for (size_t i = 0; i < m; i++)
        gs[i] = -z[i]; /* A^T = -A */
    return RNN_OK;
}

/* ---- the types ------------------------------------------------------------------------------ */

#define QUNN_OPS                                                                                \
    .summary = "QUNN: a product of t input-driven Givens rotations (Lie-Trotter splitting)",  \
    .ode = "h' = (sum_k (a_k.u + c_k) G_k) h + inject tanh(V u + b),  G_k = E_ij - E_ji",      \
    .scheme = "h_n = exp(phi_1 G_1) ... exp(phi_t G_t) h_{n-1} + dt inject tanh(V u + b),  "     \
              "phi_k = dt (a_k.u + c_k)",                                                       \
    .reference = "Niu, Horesh, Chuang, arXiv 1904.12933 (QUNN), as read in THEORY.md §5.4",    \
    .init_doc = "a_k ~ N(0, 1/d) (angles of unit size for unit inputs); c_k ~ U(-pi, pi) (each "  \
                "rotation starts anywhere on the circle, as in a random circuit); V ~ N(0, 1/d), " \
                "b ~ U(-0.1, 0.1) as the tanh cell; dt = 1 ([OD]'s QUNN), inject = 1",           \
    .order = 1, .tableau = NULL, .stages = 1, .memory = 1,                                      \
    .class_derivation = "n = 1: the state passes through no nonlinearity (the step is affine "  \
        "in h) and the input enters through one layer (angles and tanh injection), not nested; " \
        "t = 1: the step reads only h_{n-1}. [OD]'s t for QUNN (the generator count, THEORY "  \
        "§5.4's 'memory length') is the family index here, not this memory",                  \
    .state_dim = state_dim, .layout = layout, .hypers = hypers,                                 \
    .n_hypers = sizeof hypers / sizeof hypers[0], .work_size = work_size, .init = init,         \
    .step = step, .step_jacobian = step_jacobian, .step_vjp = step_vjp, .ode_rhs = ode_rhs,     \
    .ode_jacobian = ode_jacobian, .ode_jvp = ode_jvp, .ode_vjp = ode_vjp

static const qunn_family default_type = {
    .type = {.name = "qunn", QUNN_OPS},
    .t = RNN_QUNN_DEFAULT_T,
    .name = "qunn",
};

const rnn_cell_type *const rnn_cell_qunn = &default_type.type;

static const rnn_cell_type template_type = {.name = "qunn:<t>", QUNN_OPS};

static const char FAMILY[] = "qunn";

static int same_t(const rnn_cell_type *type, const void *key)
{
    return ((const qunn_family *)type)->t == *(const size_t *)key;
}

static rnn_cell_type *build_t(const void *key)
{
    qunn_family *f = malloc(sizeof *f);
    if (!f)
        return NULL;
    f->type = template_type;
    f->t = *(const size_t *)key;
    snprintf(f->name, sizeof f->name, "qunn:%zu", f->t);
    f->type.name = f->name;
    return &f->type;
}

const rnn_cell_type *rnn_cell_qunn_t(size_t t)
{
    if (t == 0 || t > RNN_QUNN_MAX_T)
        return NULL;
    return rnn_family_intern(FAMILY, same_t, build_t, &t);
}

size_t rnn_cell_qunn_generators(const rnn_cell_type *type)
{
    if (!type || type->step != step)
        return 0;
    return gens(type);
}

/* ---- the constructive Givens decomposition -------------------------------------------------- */

/* A rotation is accepted when the reduction leaves I to this accuracy: rounding leaves
 * ~ N eps (N = m(m-1)/2 rotations of O(1) rows), ~ 1e-13 at m = 256; an R off SO(m) leaves
 * at least its distance from SO(m) (det R = -1: an entry -1). */
#define GIVENS_RESIDUAL_TOL 1e-8

/*
 * R = E_1 E_2 ... E_N with E_k = exp(theta_k G_k) in the enumeration's order. Proof and
 * algorithm: left-multiply R by rotations of the pairs (0,1), (0,2), ..., (0,m-1), (1,2), ...
 * in that order, each chosen to zero entry (j, i) against the pivot (i, i):
 * E(phi) on (i, j) maps row i to c r_i + s r_j and row j to -s r_i + c r_j, which zeroes R_ji
 * for (c, s) = (R_ii, R_ji)/hypot, i.e. phi = atan2(R_ji, R_ii), and leaves R_ii >= 0. After
 * column i, R_ii = 1 (an orthogonal column of unit norm), so row i is e_i too and later
 * rotations (pairs > i) do not touch it. At the end the last entry is det R = 1: the product
 * E(phi_N) ... E(phi_1) R = I, hence R = E(-phi_1) ... E(-phi_N): theta_k = -phi_k.
 * Returns RNN_EINVAL if R is not in SO(m) to GIVENS_RESIDUAL_TOL, RNN_ENOMEM.
 */
int rnn_qunn_givens_decompose(size_t m, const double *R, double *theta)
{
    if (m == 0 || !R || !theta || !rnn_all_finite(m * m, R))
        return RNN_EINVAL;
    double *Q = malloc(m * m * sizeof(double));
    if (!Q)
        return RNN_ENOMEM;
    memcpy(Q, R, m * m * sizeof(double));
    size_t k = 0;
    for (size_t i = 0; i + 1 < m; i++)
        for (size_t j = i + 1; j < m; j++, k++) {
            const double phi = atan2(Q[j * m + i], Q[i * m + i]);
            const double co = cos(phi), si = sin(phi);
            double *ri = Q + i * m, *rj = Q + j * m;
            for (size_t col = 0; col < m; col++) {
                const double a = ri[col], b = rj[col];
                ri[col] = co * a + si * b;
                rj[col] = -si * a + co * b;
            }
            theta[k] = -phi;
        }
    double resid = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++)
            resid = fmax(resid, fabs(Q[i * m + j] - (i == j ? 1.0 : 0.0)));
    free(Q);
    return resid <= GIVENS_RESIDUAL_TOL ? RNN_OK : RNN_EINVAL;
}
