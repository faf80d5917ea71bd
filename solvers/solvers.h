/*
 * solvers.h — the reference integrator (CVODE) and the ODE problem it solves.
 *
 * As in GSL's ode-initval2, the problem (rnn_ode: a right-hand side, optionally its dense
 * Jacobian, its Jacobian-times-vector product and the times where it jumps) is separate
 * from the method. A cell and an input signal become an rnn_ode through rnn_cell_ode_bind.
 * Matrices are row-major here; the one adapter to SUNDIALS' column-major types lives in
 * sundials_adapter.c.
 */
#ifndef ODERNN_SOLVERS_H
#define ODERNN_SOLVERS_H

#include <stddef.h>
#include "cell.h"

/* Callbacks return 0 on success, > 0 for a recoverable failure (the solver retries with a
 * smaller step: e.g. a non-finite value), < 0 for a fatal one — the SUNDIALS convention. */
typedef struct {
    size_t n;
    int (*rhs)(double t, const double *s, double *f, void *ctx);
    int (*jac)(double t, const double *s, double *J, void *ctx);                  /* optional */
    int (*jvp)(double t, const double *s, const double *v, double *Jv, void *ctx); /* optional */
    double (*next_knot)(double t, void *ctx); /* optional: first time > t where rhs jumps */
    void *ctx;
    const char *name; /* what is being integrated, for messages */
} rnn_ode;

/* A cell's ODE driven by an input signal. ctx must outlive the rnn_ode. */
typedef struct {
    const rnn_cell *cell;
    const rnn_input *input;
    double *u; /* d doubles */
} rnn_cell_ode_ctx;

int rnn_cell_ode_bind(const rnn_cell *c, const rnn_input *in, rnn_cell_ode_ctx *ctx,
                      rnn_ode *ode);
void rnn_cell_ode_unbind(rnn_cell_ode_ctx *ctx);

typedef enum { RNN_CVODE_BDF, RNN_CVODE_ADAMS } rnn_cvode_method;
typedef enum { RNN_CVODE_DENSE, RNN_CVODE_GMRES } rnn_cvode_linsol;

typedef struct {
    rnn_cvode_method method;
    rnn_cvode_linsol linsol; /* DENSE uses ode.jac (CVODE's difference quotients if NULL);
                                GMRES uses ode.jvp (difference quotients if NULL) */
    double rtol, atol;
    long max_steps;          /* per output interval */
} rnn_cvode_opts;

typedef struct {
    long steps, rhs_evals, jac_evals, newton_iters, newton_conv_fails, err_test_fails,
        lin_iters, reinits;
    double last_step;
} rnn_cvode_stats;

void rnn_cvode_opts_default(rnn_cvode_opts *o); /* BDF, dense, rtol 1e-8, atol 1e-10 */

/* Integrates from (t0, s0) and writes s(t_out[k]) to S[k * n] for k < n_out; the t_out
 * must be >= t0 and non-decreasing. Stops and restarts at the problem's knots. On failure,
 * msg says which call failed, CVODE's reason, the problem and the time; returns
 * RNN_ESOLVER (or RNN_EINVAL for bad arguments). stats may be NULL. */
int rnn_cvode_solve(const rnn_ode *ode, double t0, const double *s0, size_t n_out,
                    const double *t_out, double *S, const rnn_cvode_opts *o,
                    rnn_cvode_stats *stats, char *msg, size_t len);

const char *rnn_cvode_method_name(rnn_cvode_method m);
const char *rnn_cvode_linsol_name(rnn_cvode_linsol l);

/* ---- Butcher tableaux (tableau.c) ------------------------------------------------------------
 * s stages, A (s x s, row-major), b, c. Explicit tables have A strictly lower triangular. */
typedef struct {
    const char *name;
    const char *reference;
    size_t s;
    int order;
    const double *A, *b, *c;
} rnn_tableau;

/* The built-in tables by name (euler, midpoint, heun, ralston, kutta3, rk4); NULL if unknown. */
const rnn_tableau *rnn_tableau_find(const char *name);
size_t rnn_tableau_count(void);
const rnn_tableau *rnn_tableau_get(size_t i);

/* ---- fixed points (fixedpoint.c, KINSOL) ---- */

/* ---- the continuous adjoint (adjoint.c, CVODES) ---- */

#endif
