/*
 * cell.c — cell instances and the wrappers around a cell type's operations.
 *
 * The wrappers are where arguments are checked (never compiled out), optional operations
 * fall back to RNN_EUNSUPPORTED, and produced values are checked to be finite, so that a
 * blow-up is reported as RNN_ENONFINITE at the step where it happens.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <gsl/gsl_randist.h>
#include "cell.h"

static void layout_blocks(rnn_cell *c)
{
    c->n_blocks = c->type->layout(c->type, c->m, c->d, c->blocks);
    size_t off = 0;
    for (size_t i = 0; i < c->n_blocks; i++) {
        c->blocks[i].offset = off;
        off += c->blocks[i].rows * c->blocks[i].cols;
    }
    c->n_params = off;
}

rnn_cell *rnn_cell_alloc(const rnn_cell_type *type, size_t m, size_t d, unsigned long seed)
{
    if (!type || m == 0 || d == 0)
        return NULL;
    rnn_cell *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->type = type;
    c->m = m;
    c->d = d;
    c->n_state = type->state_dim(type, m);
    layout_blocks(c);
    c->n_hypers = type->n_hypers;
    for (size_t i = 0; i < c->n_hypers; i++)
        c->hyper[i] = type->hypers[i].def;
    c->work_per_sample = type->work_size(type, m, d);
    c->params = calloc(c->n_params ? c->n_params : 1, sizeof(double));
    c->scratch = calloc(2 * c->n_state + d, sizeof(double));
    size_t nd = type->derived_size ? type->derived_size(type, m, d) : 0;
    c->derived = calloc(nd ? nd : 1, sizeof(double));
    if (!c->params || !c->scratch || !c->derived || rnn_cell_reserve_batch(c, 1) != RNN_OK) {
        rnn_cell_free(c);
        return NULL;
    }
    if (type->base) {
        /* The inner instance reads this cell's parameters in place (same layout). */
        c->inner = rnn_cell_alloc(type->base, m, d, seed);
        if (!c->inner || c->inner->n_params != c->n_params) {
            rnn_cell_free(c);
            return NULL;
        }
        free(c->inner->params);
        c->inner->params = c->params;
    }
    rnn_cell_init(c, seed);
    return c;
}

void rnn_cell_free(rnn_cell *c)
{
    if (!c)
        return;
    if (c->inner) {
        c->inner->params = NULL; /* shared with c */
        rnn_cell_free(c->inner);
    }
    free(c->params);
    free(c->work);
    free(c->scratch);
    free(c->derived);
    free(c);
}

int rnn_cell_reserve_batch(rnn_cell *c, size_t nb)
{
    if (nb == 0)
        return RNN_EINVAL;
    if (nb <= c->batch_cap)
        return RNN_OK;
    size_t n = c->work_per_sample * nb;
    double *w = realloc(c->work, (n ? n : 1) * sizeof(double));
    if (!w)
        return RNN_ENOMEM;
    c->work = w;
    c->batch_cap = nb;
    return RNN_OK;
}

void rnn_cell_bind_signal(rnn_cell *c, const rnn_input *in)
{
    c->signal = in;
    if (c->inner)
        c->inner->signal = in;
}

void rnn_cell_params_changed(rnn_cell *c)
{
    if (c->inner) {
        /* A family's hyperparameters start with its base's, in the same order. */
        for (size_t i = 0; i < c->inner->n_hypers; i++)
            c->inner->hyper[i] = c->hyper[i];
        c->inner->seed = c->seed;
        rnn_cell_params_changed(c->inner);
    }
    if (c->type->prepare)
        c->type->prepare(c);
}

void rnn_cell_init(rnn_cell *c, unsigned long seed)
{
    if (c->inner) {
        for (size_t i = 0; i < c->inner->n_hypers; i++) /* init-only hypers, e.g. wscale */
            c->inner->hyper[i] = c->hyper[i];
        rnn_cell_init(c->inner, seed); /* writes the shared parameters */
        c->seed = seed;
        rnn_cell_params_changed(c);
        return;
    }
    gsl_rng *r = rnn_rng_alloc(seed, c->type->name, 0);
    c->seed = seed;
    memset(c->params, 0, c->n_params * sizeof(double));
    if (r) {
        c->type->init(c, r);
        gsl_rng_free(r);
    }
    rnn_cell_params_changed(c);
}

/* ---- hyperparameters ---------------------------------------------------------------------- */

int rnn_cell_hyper_index(const rnn_cell *c, const char *name)
{
    for (size_t i = 0; i < c->n_hypers; i++)
        if (strcmp(c->type->hypers[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void describe_range(const rnn_hyper_def *h, char *buf, size_t len)
{
    snprintf(buf, len, "%c%g, %g%c", h->lo_open ? '(' : '[', h->lo, h->hi, h->hi_open ? ')' : ']');
}

static int in_range(const rnn_hyper_def *h, double v)
{
    if (isnan(v))
        return 0;
    if (h->lo_open ? !(v > h->lo) : !(v >= h->lo))
        return 0;
    if (h->hi_open ? !(v < h->hi) : !(v <= h->hi))
        return 0;
    return 1;
}

static void hyper_names(const rnn_cell *c, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < c->n_hypers && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                                 c->type->hypers[i].name);
}

/* The joint constraints of a cell and, for a family cell, of its base cell on the proposed
 * hyperparameters (a family's hyperparameters start with its base's, in the same order). The
 * inner instance sees the proposal only for the check; rnn_cell_params_changed syncs it. */
static int joint_check(rnn_cell *c, char *msg, size_t len)
{
    int rc = RNN_OK;
    if (c->inner && c->inner->type->check) {
        double saved[RNN_MAX_HYPERS];
        memcpy(saved, c->inner->hyper, sizeof saved);
        memcpy(c->inner->hyper, c->hyper, c->inner->n_hypers * sizeof(double));
        rc = c->inner->type->check(c->inner, msg, len);
        memcpy(c->inner->hyper, saved, sizeof saved);
    }
    if (rc == RNN_OK && c->type->check)
        rc = c->type->check(c, msg, len);
    return rc;
}

static int set_hyper(rnn_cell *c, const char *name, double value, int joint, char *msg, size_t len)
{
    int i = rnn_cell_hyper_index(c, name);
    if (i < 0) {
        char names[256];
        hyper_names(c, names, sizeof names);
        snprintf(msg, len, "cell '%s' has no hyperparameter '%s' (it has: %s)", c->type->name,
                 name, names);
        return RNN_EINVAL;
    }
    const rnn_hyper_def *h = &c->type->hypers[i];
    if (!in_range(h, value)) {
        char range[96];
        describe_range(h, range, sizeof range);
        snprintf(msg, len, "%s=%g is not allowed for cell '%s': %s must be a number in %s (%s)",
                 name, value, c->type->name, name, range, h->doc);
        return RNN_EINVAL;
    }
    double old = c->hyper[i];
    c->hyper[i] = value;
    if (joint) {
        int rc = joint_check(c, msg, len);
        if (rc != RNN_OK) {
            c->hyper[i] = old;
            return rc;
        }
    }
    rnn_cell_params_changed(c);
    return RNN_OK;
}

int rnn_cell_set_hyper(rnn_cell *c, const char *name, double value, char *msg, size_t len)
{
    return set_hyper(c, name, value, 1, msg, len);
}

static int assign(rnn_cell *c, const char *assignment, int joint, char *msg, size_t len)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment || eq[1] == '\0') {
        snprintf(msg, len, "malformed --set '%s': expected name=value, e.g. dt=0.1", assignment);
        return RNN_EINVAL;
    }
    char name[RNN_NAME_LEN];
    size_t nl = (size_t)(eq - assignment);
    if (nl >= sizeof name) {
        snprintf(msg, len, "malformed --set '%s': name too long", assignment);
        return RNN_EINVAL;
    }
    memcpy(name, assignment, nl);
    name[nl] = '\0';
    char *end;
    errno = 0;
    double v = strtod(eq + 1, &end);
    if (*end != '\0' || errno == ERANGE) {
        snprintf(msg, len, "malformed --set '%s': '%s' is not a number", assignment, eq + 1);
        return RNN_EINVAL;
    }
    return set_hyper(c, name, v, joint, msg, len);
}

int rnn_cell_set_assignment(rnn_cell *c, const char *assignment, char *msg, size_t len)
{
    return assign(c, assignment, 1, msg, len);
}

int rnn_cell_set_assignments(rnn_cell *c, size_t n, const char *const *assignments, char *msg,
                             size_t len)
{
    double saved[RNN_MAX_HYPERS];
    memcpy(saved, c->hyper, sizeof saved);
    int rc = RNN_OK;
    for (size_t i = 0; i < n && rc == RNN_OK; i++)
        rc = assign(c, assignments[i], 0, msg, len);
    if (rc == RNN_OK)
        rc = joint_check(c, msg, len);
    if (rc != RNN_OK)
        memcpy(c->hyper, saved, sizeof saved);
    rnn_cell_params_changed(c);
    return rc;
}

double rnn_cell_get_hyper(const rnn_cell *c, const char *name)
{
    int i = rnn_cell_hyper_index(c, name);
    return i < 0 ? NAN : c->hyper[i];
}

static int step_hyper_index(const rnn_cell *c)
{
    for (size_t i = 0; i < c->n_hypers; i++)
        if (c->type->hypers[i].flags & RNN_HYPER_STEP)
            return (int)i;
    return -1;
}

double rnn_cell_dt(const rnn_cell *c)
{
    int i = step_hyper_index(c);
    return i < 0 ? NAN : c->hyper[i];
}

int rnn_cell_set_dt(rnn_cell *c, double dt)
{
    int i = step_hyper_index(c);
    char msg[256];
    if (i < 0)
        return RNN_EUNSUPPORTED;
    return rnn_cell_set_hyper(c, c->type->hypers[i].name, dt, msg, sizeof msg);
}

const rnn_block *rnn_cell_block(const rnn_cell *c, const char *name)
{
    for (size_t i = 0; i < c->n_blocks; i++)
        if (strcmp(c->blocks[i].name, name) == 0)
            return &c->blocks[i];
    return NULL;
}

/* ---- wrappers ------------------------------------------------------------------------------ */

static int finish(int rc, size_t n, const double *out)
{
    if (rc != RNN_OK)
        return rc;
    return rnn_all_finite(n, out) ? RNN_OK : RNN_ENONFINITE;
}

int rnn_cell_step_batch(const rnn_cell *c, size_t nb, double t, const double *s,
                        const double *u, double *s_out)
{
    if (!c || !s || !u || !s_out || nb == 0 || nb > c->batch_cap)
        return RNN_EINVAL;
    return finish(c->type->step(c, nb, t, s, u, s_out), nb * c->n_state, s_out);
}

int rnn_cell_step(const rnn_cell *c, double t, const double *s, const double *u, double *s_out)
{
    return rnn_cell_step_batch(c, 1, t, s, u, s_out);
}

/* A Jacobian (or its product with v) need not depend on the state (a linear recurrence:
 * qunn's rotations) or on the input, so a non-finite argument is not always visible in the
 * result: the Jacobian wrappers check the arguments too. */
static int finite_args(const rnn_cell *c, const double *s, const double *u)
{
    return rnn_all_finite(c->n_state, s) && rnn_all_finite(c->d, u);
}

int rnn_cell_step_jacobian(const rnn_cell *c, double t, const double *s, const double *u,
                           double *J)
{
    if (!c || !s || !u || !J)
        return RNN_EINVAL;
    if (!c->type->step_jacobian)
        return RNN_EUNSUPPORTED;
    if (!finite_args(c, s, u))
        return RNN_ENONFINITE;
    return finish(c->type->step_jacobian(c, t, s, u, J), c->n_state * c->n_state, J);
}

int rnn_cell_step_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                      const double *g, double *gs, double *gtheta)
{
    if (!c || !s || !u || !g || !gs || !gtheta)
        return RNN_EINVAL;
    if (!c->type->step_vjp)
        return RNN_EUNSUPPORTED;
    int rc = c->type->step_vjp(c, t, s, u, g, gs, gtheta);
    if (rc == RNN_OK && !rnn_all_finite(c->n_params, gtheta))
        rc = RNN_ENONFINITE;
    return finish(rc, c->n_state, gs);
}

int rnn_cell_ode_rhs(const rnn_cell *c, double t, const double *s, const double *u, double *f)
{
    if (!c || !s || !u || !f)
        return RNN_EINVAL;
    if (!c->type->ode_rhs)
        return RNN_EUNSUPPORTED;
    return finish(c->type->ode_rhs(c, t, s, u, f), c->n_state, f);
}

int rnn_cell_ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u,
                          double *J)
{
    if (!c || !s || !u || !J)
        return RNN_EINVAL;
    if (!c->type->ode_jacobian)
        return RNN_EUNSUPPORTED;
    if (!finite_args(c, s, u))
        return RNN_ENONFINITE;
    return finish(c->type->ode_jacobian(c, t, s, u, J), c->n_state * c->n_state, J);
}

int rnn_cell_ode_jvp(const rnn_cell *c, double t, const double *s, const double *u,
                     const double *v, double *Jv)
{
    if (!c || !s || !u || !v || !Jv)
        return RNN_EINVAL;
    if (!c->type->ode_jvp)
        return RNN_EUNSUPPORTED;
    if (!finite_args(c, s, u))
        return RNN_ENONFINITE;
    return finish(c->type->ode_jvp(c, t, s, u, v, Jv), c->n_state, Jv);
}

int rnn_cell_ode_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                     const double *g, double *gs, double *gtheta)
{
    if (!c || !s || !u || !g || !gs || !gtheta)
        return RNN_EINVAL;
    if (!c->type->ode_vjp)
        return RNN_EUNSUPPORTED;
    return finish(c->type->ode_vjp(c, t, s, u, g, gs, gtheta), c->n_state, gs);
}

int rnn_cell_run(const rnn_cell *c, const rnn_input *in, double t0, const double *s0,
                 size_t n, double *S)
{
    if (!c || !in || !s0 || !S || in->d != c->d)
        return RNN_EINVAL;
    const size_t ns = c->n_state;
    const double dt = rnn_cell_dt(c);
    double *u = c->scratch;
    memcpy(S, s0, ns * sizeof(double));
    for (size_t k = 0; k < n; k++) {
        /* t_k = t0 + k dt, not accumulated, so that long runs keep their time grid exact. */
        double t = t0 + (double)k * dt;
        rnn_input_eval(in, t, u);
        int rc = rnn_cell_step(c, t, S + k * ns, u, S + (k + 1) * ns);
        if (rc != RNN_OK)
            return rc;
    }
    return RNN_OK;
}

void rnn_cell_random_state(const rnn_cell *c, unsigned long seed, double scale, double *s)
{
    gsl_rng *r = rnn_rng_alloc(seed, "state", 0);
    if (!r) {
        memset(s, 0, c->n_state * sizeof(double));
        return;
    }
    rnn_fill_gaussian(r, scale, c->n_state, s);
    gsl_rng_free(r);
}
