/*
 * rk.c — the family rk:<tableau>:<cell>: one explicit Runge-Kutta step of any cell's ODE
 * (THEORY.md §5.1, [OD] "n: stages", a reading).
 *
 *   k_i = f(t + c_i dt, Y_i),   Y_i = s + dt sum_{j<i} a_ij k_j,   i = 1..S
 *   s_n = s + dt sum_i b_i k_i
 *
 * Step Jacobian, forward through the stages (K_i = dk_i/ds, J_i = df/ds at Y_i):
 *   dY_i/ds = I + dt sum_{j<i} a_ij K_j,   K_i = J_i dY_i/ds,   ds_n/ds = I + dt sum_i b_i K_i
 * Vector-Jacobian product, backward through the stages (g = dL/ds_n):
 *   kbar_i = dt (b_i g + sum_{l>i} a_li Ybar_l),   Ybar_i = J_i^T kbar_i,
 *   theta_bar += (df/dtheta at Y_i)^T kbar_i,   dL/ds = g + sum_i Ybar_i
 * (the base cell's ode_vjp gives J_i^T kbar and the parameter part in one call).
 *
 * The ODE of rk:<tableau>:<cell> is the base cell's, unchanged; the order is the tableau's.
 * The input at stage i is u(t + c_i dt) when a signal is bound (rnn_cell_bind_signal), and
 * the step's u otherwise (held over the step).
 *
 * A type is built once per name, on first use, and kept (never freed); the base cell's
 * instance (c->inner) shares this cell's parameters, so rk:rk4:tanh with seed S has the
 * weights of tanh with seed S.
 *
 * Reference: Butcher, Numerical Methods for ODEs (2016), §23; Niu, Horesh, Chuang,
 * arXiv 1904.12933 ([OD], the reading of n as the stage count: docs/theory/od-reading.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "solvers.h"

typedef struct {
    rnn_cell_type type; /* first: the cell's type pointer is this struct's address */
    const rnn_tableau *tab;
    char name[96], summary[192], scheme[256], derivation[256];
} rk_type;

static const rk_type *RK(const rnn_cell *c)
{
    return (const rk_type *)c->type;
}

static const rnn_cell_type *base_of(const rnn_cell_type *t)
{
    return t->base;
}

static size_t state_dim(const rnn_cell_type *t, size_t m)
{
    return base_of(t)->state_dim(base_of(t), m);
}

static size_t layout(const rnn_cell_type *t, size_t m, size_t d, rnn_block *b)
{
    return base_of(t)->layout(base_of(t), m, d, b);
}

/* Per batch sample: S stage derivatives, the stage argument, the stage input. */
static size_t work_size(const rnn_cell_type *t, size_t m, size_t d)
{
    const rk_type *r = (const rk_type *)t;
    return (r->tab->s + 1) * state_dim(t, m) + d;
}

/* Scratch for the Jacobian and the VJP (one sample): S stage Jacobians K_i, J_i and dY/ds,
 * then S stage states and S stage adjoints. */
static size_t derived_size(const rnn_cell_type *t, size_t m, size_t d)
{
    const rk_type *r = (const rk_type *)t;
    const size_t n = state_dim(t, m), S = r->tab->s;
    return (S + 2) * n * n + 2 * S * n + S * d;
}

/* The input at stage i: from the bound signal, or u held over the step. */
static const double *stage_input(const rnn_cell *c, double t, double ci, const double *u,
                                 double *buf)
{
    if (!c->signal || ci == 0.0)
        return u;
    rnn_input_eval(c->signal, t + ci * rnn_cell_dt(c), buf);
    return buf;
}

/* Y = s + dt sum_{j<i} a_ij k_j */
static void stage_arg(const rnn_tableau *T, size_t i, size_t n, double dt, const double *s,
                      const double *k, double *Y)
{
    memcpy(Y, s, n * sizeof(double));
    for (size_t j = 0; j < i; j++) {
        double a = T->A[i * T->s + j];
        if (a != 0.0)
            cblas_daxpy((int)n, dt * a, k + j * n, 1, Y, 1);
    }
}

static int step(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *out)
{
    const rnn_tableau *T = RK(c)->tab;
    const size_t n = c->n_state, d = c->d, S = T->s;
    const double dt = rnn_cell_dt(c);
    double *k = c->work, *Y = k + S * n, *ui = Y + n;
    for (size_t b = 0; b < nb; b++) {
        const double *sb = s + b * n, *ub = u + b * d;
        for (size_t i = 0; i < S; i++) {
            stage_arg(T, i, n, dt, sb, k, Y);
            int rc = c->inner->type->ode_rhs(c->inner, t + T->c[i] * dt, Y,
                                             stage_input(c, t, T->c[i], ub, ui), k + i * n);
            if (rc != RNN_OK)
                return rc;
        }
        double *o = out + b * n;
        memcpy(o, sb, n * sizeof(double));
        for (size_t i = 0; i < S; i++)
            if (T->b[i] != 0.0)
                cblas_daxpy((int)n, dt * T->b[i], k + i * n, 1, o, 1);
    }
    return RNN_OK;
}

static int step_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    const rnn_tableau *T = RK(c)->tab;
    const size_t n = c->n_state, S = T->s;
    const double dt = rnn_cell_dt(c);
    double *K = c->derived, *Jf = K + S * n * n, *DY = Jf + n * n;
    double *k = DY + n * n, *Y = k + S * n, *ui = Y + S * n;
    for (size_t i = 0; i < S; i++) {
        double *Yi = Y + i * n;
        const double *u_i = stage_input(c, t, T->c[i], u, ui);
        stage_arg(T, i, n, dt, s, k, Yi);
        int rc = c->inner->type->ode_rhs(c->inner, t + T->c[i] * dt, Yi, u_i, k + i * n);
        if (rc == RNN_OK)
            rc = c->inner->type->ode_jacobian(c->inner, t + T->c[i] * dt, Yi, u_i, Jf);
        if (rc != RNN_OK)
            return rc;
        /* DY = I + dt sum_{j<i} a_ij K_j;  K_i = Jf DY */
        memset(DY, 0, n * n * sizeof(double));
        for (size_t r = 0; r < n; r++)
            DY[r * n + r] = 1.0;
        for (size_t j = 0; j < i; j++)
            if (T->A[i * S + j] != 0.0)
                cblas_daxpy((int)(n * n), dt * T->A[i * S + j], K + j * n * n, 1, DY, 1);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0, Jf,
                    (int)n, DY, (int)n, 0.0, K + i * n * n, (int)n);
    }
    memset(J, 0, n * n * sizeof(double));
    for (size_t r = 0; r < n; r++)
        J[r * n + r] = 1.0;
    for (size_t i = 0; i < S; i++)
        if (T->b[i] != 0.0)
            cblas_daxpy((int)(n * n), dt * T->b[i], K + i * n * n, 1, J, 1);
    return RNN_OK;
}

static int step_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                    const double *g, double *gs, double *gtheta)
{
    const rnn_tableau *T = RK(c)->tab;
    const size_t n = c->n_state, d = c->d, S = T->s;
    const double dt = rnn_cell_dt(c);
    double *kbar = c->derived, *k = kbar + n, *Y = k + S * n, *Ybar = Y + S * n,
           *ui = Ybar + S * n;
    /* Forward: the stage states (stage inputs are re-evaluated on the way back). */
    for (size_t i = 0; i < S; i++) {
        stage_arg(T, i, n, dt, s, k, Y + i * n);
        int rc = c->inner->type->ode_rhs(c->inner, t + T->c[i] * dt, Y + i * n,
                                         stage_input(c, t, T->c[i], u, ui + i * d), k + i * n);
        if (rc != RNN_OK)
            return rc;
    }
    memcpy(gs, g, n * sizeof(double));
    for (size_t ii = S; ii-- > 0;) {
        for (size_t r = 0; r < n; r++)
            kbar[r] = dt * T->b[ii] * g[r];
        for (size_t l = ii + 1; l < S; l++)
            if (T->A[l * S + ii] != 0.0)
                cblas_daxpy((int)n, dt * T->A[l * S + ii], Ybar + l * n, 1, kbar, 1);
        int rc = c->inner->type->ode_vjp(c->inner, t + T->c[ii] * dt, Y + ii * n,
                                         stage_input(c, t, T->c[ii], u, ui + ii * d), kbar,
                                         Ybar + ii * n, gtheta);
        if (rc != RNN_OK)
            return rc;
        cblas_daxpy((int)n, 1.0, Ybar + ii * n, 1, gs, 1);
    }
    return RNN_OK;
}

static int ode_rhs(const rnn_cell *c, double t, const double *s, const double *u, double *f)
{
    return c->inner->type->ode_rhs(c->inner, t, s, u, f);
}

static int ode_rhs_quad(const rnn_cell *c, rnn_quad t, const rnn_quad *s, const rnn_quad *u,
                        rnn_quad *work, rnn_quad *f)
{
    return c->inner->type->ode_rhs_quad(c->inner, t, s, u, work, f);
}

static int ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u, double *J)
{
    return c->inner->type->ode_jacobian(c->inner, t, s, u, J);
}

static int ode_jvp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *v, double *Jv)
{
    return rnn_cell_ode_jvp(c->inner, t, s, u, v, Jv);
}

static int ode_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *g, double *gs, double *gtheta)
{
    return c->inner->type->ode_vjp(c->inner, t, s, u, g, gs, gtheta);
}

/* ---- the family: built on first use, cached (cells/family.c) ---------------------------------- */

static const char FAMILY[] = "rk";

typedef struct {
    const rnn_tableau *tab;
    const rnn_cell_type *base;
} rk_key;

static void build(rk_type *r, const rnn_cell_type *base, const rnn_tableau *T)
{
    snprintf(r->name, sizeof r->name, "rk:%s:%s", T->name, base->name);
    snprintf(r->summary, sizeof r->summary, "%zu-stage order-%d Runge-Kutta (%s) step of %s's ODE",
             T->s, T->order, T->name, base->name);
    snprintf(r->scheme, sizeof r->scheme,
             "k_i = f(t + c_i dt, s + dt sum_j a_ij k_j), s_n = s + dt sum_i b_i k_i, "
             "tableau %s (%s)", T->name, T->reference);
    snprintf(r->derivation, sizeof r->derivation,
             "n = %zu stages x %u (each stage evaluates %s's right-hand side at the previous "
             "stages); t = %u (reads only s_{n-1}, as %s's ODE)",
             T->s, base->stages ? base->stages : 1, base->name, base->memory ? base->memory : 1,
             base->name);
    rnn_cell_type *t = &r->type;
    *t = (rnn_cell_type){0};
    t->name = r->name;
    t->summary = r->summary;
    t->ode = base->ode;
    t->scheme = r->scheme;
    t->reference = "THEORY.md §5.1; Butcher (2016) §23; [OD] arXiv 1904.12933 (reading)";
    t->init_doc = base->init_doc;
    t->order = T->order;
    t->tableau = T->name;
    t->stages = (unsigned)T->s * (base->stages ? base->stages : 1);
    t->memory = base->memory ? base->memory : 1;
    t->class_derivation = r->derivation;
    t->base = base;
    t->state_dim = state_dim;
    t->layout = layout;
    t->hypers = base->hypers;
    t->n_hypers = base->n_hypers;
    t->work_size = work_size;
    t->derived_size = derived_size;
    t->check = NULL; /* rnn_cell_* checks the base cell's joint constraints on c->inner */
    t->init = NULL; /* rnn_cell_init seeds the base cell (shared parameters) */
    t->step = step;
    t->step_jacobian = step_jacobian;
    t->step_vjp = base->ode_vjp ? step_vjp : NULL;
    t->ode_rhs = ode_rhs;
    t->ode_jacobian = ode_jacobian;
    t->ode_jvp = base->ode_jvp ? ode_jvp : NULL;
    t->ode_vjp = base->ode_vjp ? ode_vjp : NULL;
    t->ode_rhs_quad = base->ode_rhs_quad ? ode_rhs_quad : NULL;
    r->tab = T;
}

static int same(const rnn_cell_type *t, const void *key)
{
    const rk_key *k = key;
    return ((const rk_type *)t)->tab == k->tab && t->base == k->base;
}

static rnn_cell_type *make(const void *key)
{
    const rk_key *k = key;
    rk_type *r = calloc(1, sizeof *r);
    if (r)
        build(r, k->base, k->tab);
    return r ? &r->type : NULL;
}

const rnn_cell_type *rnn_rk_type(const char *tableau, const char *cell, char *msg, size_t len)
{
    const rnn_tableau *T = rnn_tableau_find(tableau);
    const rnn_cell_type *base = rnn_cell_type_find(cell, msg, len);
    if (!T) {
        char names[1024];
        size_t used = 0;
        for (size_t i = 0; i < rnn_tableau_count() && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                     rnn_tableau_get(i)->name);
        snprintf(msg, len, "unknown Butcher tableau '%s' (known: %s)", tableau, names);
        return NULL;
    }
    if (!base)
        return NULL;
    if (!rnn_tableau_is_explicit(T)) {
        snprintf(msg, len, "tableau '%s' is not explicit", tableau);
        return NULL;
    }
    if (base->history > 1) {
        snprintf(msg, len, "rk: needs a one-step cell; '%s' holds %zu past states", base->name,
                 base->history);
        return NULL;
    }
    rk_key key = {T, base};
    const rnn_cell_type *found = rnn_family_intern(FAMILY, same, make, &key);
    if (!found)
        snprintf(msg, len, "cannot build rk:%s:%s (out of memory)", tableau, cell);
    return found;
}
