/*
 * multistep.c — the family ms:<method>:<cell>: a recursion that reads h past states
 * (THEORY.md §5.2, [OD] "t: memory", a reading).
 *
 *   s_n = sum_{j=1..h} alpha_j s_{n-j} + dt^q sum_{j=1..h} beta_j f(s_{n-j}, u(t_{n-j}), t_{n-j})
 *
 * for a q-th order ODE s^(q) = f(s, u, t) (q = 1: the cell's own ODE):
 *
 *   method     h  q  alpha               beta                       order
 *   diff1      1  1  1                   1                          1   (forward Euler)
 *   diff2      2  2  2, -1               1, 0                       2   (Stormer)
 *   diff3      3  3  3, -3, 1            1, 0, 0                    1
 *   leapfrog   2  1  0, 1                2, 0                       2
 *   ab2        2  1  1, 0                3/2, -1/2                  2
 *   ab3        3  1  1, 0, 0             23/12, -16/12, 5/12        3
 *
 * diff<q> is the q-th backward difference: (s_n - ... ) / dt^q = f(s_{n-1}). The order is not
 * stated by hand: rnn_multistep_order computes it from the coefficients (the Taylor
 * conditions C_i = 0, i < p + q, below).
 *
 * The state is the h past states stacked newest first, S = (s_{n-1}, ..., s_{n-h}); the step
 * returns (s_n, s_{n-1}, ..., s_{n-h+1}). Step Jacobian: the block companion matrix
 *   row 0:  alpha_j I + dt^q beta_j J_f(s_{n-j})  in column block j-1;   row i >= 1: I at block i-1.
 * VJP (g = (g_0, ..., g_{h-1})): dL/ds_{n-j} = g_j [j < h] + alpha_j g_0 + dt^q beta_j J_f^T g_0,
 * and the parameters receive dt^q beta_j (df/dtheta)^T g_0 at each past state.
 *
 * The ODE paired with the cell, on the same stacked state (cell.h `history`: block 0 is s):
 *   q = 1: h decoupled copies of the base ODE, S_j' = f(S_j, u, t) — the limit dt -> 0 of the
 *          recursion, in which all past states coincide (that manifold is invariant);
 *   q > 1: the first-order form of s^(q) = f(s, u, t): blocks (s, s', ..., s^(q-1)).
 * Linear stability: on s^(q) = lambda s with z = dt^q lambda the recursion has characteristic
 * polynomial zeta^h - sum_j (alpha_j + z beta_j) zeta^(h-j), whose companion matrix
 * (rnn_multistep_companion) gives the growth (the root condition).
 *
 * Reference: Hairer, Norsett, Wanner, Solving ODEs I (1993), §III.1-III.4 (order conditions
 * and the root condition; §III.10 for methods of second-order ODEs); [OD] arXiv 1904.12933.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "solvers.h"

static const rnn_multistep_method methods[] = {
    {"diff1", "first backward difference (forward Euler)", 1, 1, {1}, {1}},
    {"diff2", "second backward difference (Stormer) of s'' = f", 2, 2, {2, -1}, {1, 0}},
    {"diff3", "third backward difference of s''' = f", 3, 3, {3, -3, 1}, {1, 0, 0}},
    {"leapfrog", "leapfrog (explicit midpoint rule over two steps)", 2, 1, {0, 1}, {2, 0}},
    {"ab2", "Adams-Bashforth 2", 2, 1, {1, 0}, {1.5, -0.5}},
    {"ab3", "Adams-Bashforth 3", 3, 1, {1, 0, 0}, {23.0 / 12, -16.0 / 12, 5.0 / 12}},
};

size_t rnn_multistep_count(void)
{
    return sizeof methods / sizeof methods[0];
}

const rnn_multistep_method *rnn_multistep_get(size_t i)
{
    return i < rnn_multistep_count() ? &methods[i] : NULL;
}

const rnn_multistep_method *rnn_multistep_find(const char *name)
{
    for (size_t i = 0; name && i < rnn_multistep_count(); i++)
        if (strcmp(methods[i].name, name) == 0)
            return &methods[i];
    return NULL;
}

/* C_i = [i = 0] - sum_j alpha_j (-j)^i / i! - [i >= q] sum_j beta_j (-j)^(i-q) / (i-q)!:
 * the coefficient of dt^i s^(i)(t_n) in the residual of the exact solution. The order is the
 * largest p with C_i = 0 for all i < p + q. The coefficients are small rationals, so a
 * relative tolerance of 1e-12 separates zero from the smallest nonzero C_i (~1e-3). */
int rnn_multistep_order(const rnn_multistep_method *M)
{
    for (int i = 0; i < 16; i++) {
        double Ci = i == 0 ? 1.0 : 0.0, fact = 1.0, fq = 1.0;
        for (int k = 2; k <= i; k++)
            fact *= k;
        for (int k = 2; k <= i - M->q; k++)
            fq *= k;
        for (size_t j = 1; j <= M->h; j++) {
            Ci -= M->alpha[j - 1] * pow(-(double)j, i) / fact;
            if (i >= M->q)
                Ci -= M->beta[j - 1] * pow(-(double)j, i - M->q) / fq;
        }
        if (fabs(Ci) > 1e-12)
            return i - M->q; /* C_0 .. C_{i-1} vanish: p + q - 1 = i - 1 */
    }
    return 16 - M->q;
}

void rnn_multistep_companion(const rnn_multistep_method *M, double z_re, double z_im,
                             double *C)
{
    /* C is (h x h) complex, interleaved (re, im), row-major: first row alpha_j + z beta_j. */
    const size_t h = M->h;
    memset(C, 0, 2 * h * h * sizeof(double));
    for (size_t j = 0; j < h; j++) {
        C[2 * j] = M->alpha[j] + z_re * M->beta[j];
        C[2 * j + 1] = z_im * M->beta[j];
    }
    for (size_t i = 1; i < h; i++)
        C[2 * (i * h + i - 1)] = 1.0;
}

/* ---- the cell family -------------------------------------------------------------------------- */

typedef struct {
    rnn_cell_type type; /* first */
    const rnn_multistep_method *M;
    int order;
    char name[96], summary[192], scheme[256], derivation[320];
} ms_type;

static const rnn_multistep_method *MS(const rnn_cell *c)
{
    return ((const ms_type *)c->type)->M;
}

static size_t base_dim(const rnn_cell_type *t, size_t m)
{
    return t->base->state_dim(t->base, m);
}

static size_t state_dim(const rnn_cell_type *t, size_t m)
{
    return ((const ms_type *)t)->M->h * base_dim(t, m);
}

static size_t layout(const rnn_cell_type *t, size_t m, size_t d, rnn_block *b)
{
    return t->base->layout(t->base, m, d, b);
}

/* Per sample: one f value, one input. */
static size_t work_size(const rnn_cell_type *t, size_t m, size_t d)
{
    return base_dim(t, m) + d;
}

/* Jacobian scratch: one base Jacobian; VJP scratch: one base vector. */
static size_t derived_size(const rnn_cell_type *t, size_t m, size_t d)
{
    const size_t nb = base_dim(t, m);
    return nb * nb + 2 * nb + d;
}

/* The time and input of past state j (j = 1: s_{n-1} at t). */
static const double *past_input(const rnn_cell *c, double t, size_t j, const double *u,
                                double *buf, double *tj)
{
    *tj = t - (double)(j - 1) * rnn_cell_dt(c);
    if (!c->signal || j == 1)
        return u;
    rnn_input_eval(c->signal, *tj, buf);
    return buf;
}

static double dtq(const rnn_cell *c)
{
    return pow(rnn_cell_dt(c), MS(c)->q);
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    const rnn_multistep_method *M = MS(c);
    const size_t n = c->n_state, m1 = n / M->h, d = c->d;
    const double hq = dtq(c);
    double *f = c->work, *ub = f + m1;
    for (size_t b = 0; b < nb; b++) {
        const double *S = s + b * n;
        double *o = out + b * n;
        memset(o, 0, m1 * sizeof(double));
        for (size_t j = 1; j <= M->h; j++) {
            const double *Sj = S + (j - 1) * m1;
            if (M->alpha[j - 1] != 0.0)
                cblas_daxpy((int)m1, M->alpha[j - 1], Sj, 1, o, 1);
            if (M->beta[j - 1] != 0.0) {
                double tj;
                const double *uj = past_input(c, t, j, u + b * d, ub, &tj);
                int rc = c->inner->type->ode_rhs(c->inner, tj, Sj, uj, f);
                if (rc != RNN_OK)
                    return rc;
                cblas_daxpy((int)m1, hq * M->beta[j - 1], f, 1, o, 1);
            }
        }
        memcpy(o + m1, S, (n - m1) * sizeof(double)); /* the shift */
    }
    return RNN_OK;
}

static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    const rnn_multistep_method *M = MS(c);
    const size_t n = c->n_state, m1 = n / M->h;
    const double hq = dtq(c);
    double *Jf = c->derived, *ub = Jf + m1 * m1;
    memset(J, 0, n * n * sizeof(double));
    for (size_t j = 1; j <= M->h; j++) {
        double *blk = J + (j - 1) * m1; /* row block 0, column block j-1 */
        if (M->beta[j - 1] != 0.0) {
            double tj;
            const double *uj = past_input(c, t, j, u, ub, &tj);
            int rc = c->inner->type->ode_jacobian(c->inner, tj, s + (j - 1) * m1, uj, Jf);
            if (rc != RNN_OK)
                return rc;
            for (size_t r = 0; r < m1; r++)
                for (size_t k = 0; k < m1; k++)
                    blk[r * n + k] = hq * M->beta[j - 1] * Jf[r * m1 + k];
        }
        for (size_t r = 0; r < m1; r++)
            blk[r * n + r] += M->alpha[j - 1];
    }
    for (size_t i = m1; i < n; i++)
        J[i * n + i - m1] = 1.0;
    return RNN_OK;
}

static int step_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                    const double *g, double *gs, double *gtheta)
{
    const rnn_multistep_method *M = MS(c);
    const size_t n = c->n_state, m1 = n / M->h;
    const double hq = dtq(c);
    double *gb = c->derived, *tmp = gb + m1, *ub = tmp + m1;
    for (size_t j = 1; j <= M->h; j++) {
        double *gj = gs + (j - 1) * m1;
        for (size_t r = 0; r < m1; r++)
            gj[r] = (j < M->h ? g[j * m1 + r] : 0.0) + M->alpha[j - 1] * g[r];
        if (M->beta[j - 1] != 0.0) {
            double tj;
            const double *uj = past_input(c, t, j, u, ub, &tj);
            for (size_t r = 0; r < m1; r++)
                gb[r] = hq * M->beta[j - 1] * g[r];
            int rc = c->inner->type->ode_vjp(c->inner, tj, s + (j - 1) * m1, uj, gb, tmp, gtheta);
            if (rc != RNN_OK)
                return rc;
            cblas_daxpy((int)m1, 1.0, tmp, 1, gj, 1);
        }
    }
    return RNN_OK;
}

/* ---- the paired ODE ---- */

static int ode_rhs(const rnn_cell *c, double t, const double *s, const double *u, double *f)
{
    const rnn_multistep_method *M = MS(c);
    const size_t n = c->n_state, m1 = n / M->h;
    if (M->q == 1) {
        for (size_t j = 0; j < M->h; j++) {
            int rc = c->inner->type->ode_rhs(c->inner, t, s + j * m1, u, f + j * m1);
            if (rc != RNN_OK)
                return rc;
        }
        return RNN_OK;
    }
    memcpy(f, s + m1, (n - m1) * sizeof(double));
    return c->inner->type->ode_rhs(c->inner, t, s, u, f + n - m1);
}

static int ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    const rnn_multistep_method *M = MS(c);
    const size_t n = c->n_state, m1 = n / M->h;
    double *Jf = c->derived;
    memset(J, 0, n * n * sizeof(double));
    for (size_t j = 0; j < (M->q == 1 ? M->h : 1); j++) {
        int rc = c->inner->type->ode_jacobian(c->inner, t, s + j * m1, u, Jf);
        if (rc != RNN_OK)
            return rc;
        /* q = 1: diagonal block j; q > 1: last row block, first column block */
        double *blk = M->q == 1 ? J + j * m1 * n + j * m1 : J + (n - m1) * n;
        for (size_t r = 0; r < m1; r++)
            memcpy(blk + r * n, Jf + r * m1, m1 * sizeof(double));
    }
    if (M->q > 1)
        for (size_t i = 0; i + m1 < n; i++)
            J[i * n + i + m1] = 1.0;
    return RNN_OK;
}

static int ode_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *g, double *gs, double *gtheta)
{
    const rnn_multistep_method *M = MS(c);
    const size_t n = c->n_state, m1 = n / M->h;
    if (M->q == 1) {
        for (size_t j = 0; j < M->h; j++) {
            int rc = c->inner->type->ode_vjp(c->inner, t, s + j * m1, u, g + j * m1, gs + j * m1,
                                             gtheta);
            if (rc != RNN_OK)
                return rc;
        }
        return RNN_OK;
    }
    memcpy(gs + m1, g, (n - m1) * sizeof(double));
    return c->inner->type->ode_vjp(c->inner, t, s, u, g + n - m1, gs, gtheta);
}

/* ---- the family: built on first use, cached (cells/family.c) ---- */

static const char FAMILY[] = "ms";

typedef struct {
    const rnn_multistep_method *M;
    const rnn_cell_type *base;
} ms_key;

static void build(ms_type *r, const rnn_cell_type *base, const rnn_multistep_method *M)
{
    r->M = M;
    r->order = rnn_multistep_order(M);
    snprintf(r->name, sizeof r->name, "ms:%s:%s", M->name, base->name);
    snprintf(r->summary, sizeof r->summary, "%s on %s's %s (reads %zu past states)", M->title,
             base->name, M->q == 1 ? "ODE" : "right-hand side as a higher-order ODE", M->h);
    snprintf(r->scheme, sizeof r->scheme,
             "s_n = sum_j alpha_j s_{n-j} + dt^%d sum_j beta_j f(s_{n-j}), j = 1..%zu (%s)", M->q,
             M->h, M->title);
    snprintf(r->derivation, sizeof r->derivation,
             "n = %u (each f evaluation nests %s's nonlinearity once; past evaluations are "
             "added, not nested); t = %zu (the recursion reads s_{n-1}..s_{n-%zu}%s%s)",
             base->stages ? base->stages : 1, base->name,
             M->h + (base->memory ? base->memory : 1) - 1, M->h,
             base->memory > 1 ? ", each spanning the base cell's own memory" : "",
             M->q > 1 ? ", the order of the ODE it discretises" : "");
    rnn_cell_type *t = &r->type;
    *t = (rnn_cell_type){0};
    t->name = r->name;
    t->summary = r->summary;
    t->ode = M->q == 1 ? base->ode : "s^(q) = f(s, u, t), f the base cell's right-hand side";
    t->scheme = r->scheme;
    t->reference = "THEORY.md §5.2; Hairer, Norsett, Wanner I §III; [OD] arXiv 1904.12933 (reading)";
    t->init_doc = base->init_doc;
    t->order = r->order;
    t->tableau = NULL;
    t->stages = base->stages ? base->stages : 1;
    /* h consecutive states of a cell that itself reads base_t hidden states span
     * h + base_t - 1 hidden states (cornn: (y, z) ~ (y_{n-1}, y_{n-2})). */
    t->memory = (unsigned)M->h + (base->memory ? base->memory : 1) - 1;
    t->class_derivation = r->derivation;
    t->base = base;
    t->history = M->h;
    t->state_dim = state_dim;
    t->layout = layout;
    t->hypers = base->hypers;
    t->n_hypers = base->n_hypers;
    t->work_size = work_size;
    t->derived_size = derived_size;
    t->check = NULL; /* rnn_cell_* checks the base cell's joint constraints on c->inner */
    t->step = step;
    t->step_jacobian = step_jacobian;
    t->step_vjp = base->ode_vjp ? step_vjp : NULL;
    t->ode_rhs = ode_rhs;
    t->ode_jacobian = ode_jacobian;
    t->ode_vjp = base->ode_vjp ? ode_vjp : NULL;
}

static int same(const rnn_cell_type *t, const void *key)
{
    const ms_key *k = key;
    return ((const ms_type *)t)->M == k->M && t->base == k->base;
}

static rnn_cell_type *make(const void *key)
{
    const ms_key *k = key;
    ms_type *r = calloc(1, sizeof *r);
    if (r)
        build(r, k->base, k->M);
    return r ? &r->type : NULL;
}

const rnn_cell_type *rnn_ms_type(const char *method, const char *cell, char *msg, size_t len)
{
    const rnn_multistep_method *M = rnn_multistep_find(method);
    if (!M) {
        char names[256];
        size_t used = 0;
        for (size_t i = 0; i < rnn_multistep_count() && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                     methods[i].name);
        snprintf(msg, len, "unknown multistep method '%s' (known: %s)", method, names);
        return NULL;
    }
    const rnn_cell_type *base = rnn_cell_type_find(cell, msg, len);
    if (!base)
        return NULL;
    if (base->history > 1) {
        snprintf(msg, len, "ms: needs a one-step cell; '%s' already holds %zu past states",
                 base->name, base->history);
        return NULL;
    }
    ms_key key = {M, base};
    const rnn_cell_type *found = rnn_family_intern(FAMILY, same, make, &key);
    if (!found)
        snprintf(msg, len, "cannot build ms:%s:%s (out of memory)", method, cell);
    return found;
}
