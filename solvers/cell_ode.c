/*
 * cell_ode.c — a cell's ODE s' = f(s, u(t)) driven by an input signal, as an rnn_ode.
 *
 * The callbacks evaluate u(t) and call the cell's ode_rhs, ode_jacobian and ode_jvp.
 * A non-finite right-hand side is reported as recoverable (> 0), so CVODE first retries
 * with a smaller step and then fails with its own reason; other cell errors are fatal.
 * The knots of the signal (hold: jumps; linear: kinks) become the problem's knots.
 */
#include <stdio.h>
#include <stdlib.h>
#include "solvers.h"

static int status_to_sundials(int rc)
{
    return rc == RNN_OK ? 0 : (rc == RNN_ENONFINITE ? 1 : -1);
}

static int rhs(double t, const double *s, double *f, void *p)
{
    rnn_cell_ode_ctx *ctx = p;
    rnn_input_eval(ctx->input, t, ctx->u);
    return status_to_sundials(rnn_cell_ode_rhs(ctx->cell, t, s, ctx->u, f));
}

static int jac(double t, const double *s, double *J, void *p)
{
    rnn_cell_ode_ctx *ctx = p;
    rnn_input_eval(ctx->input, t, ctx->u);
    return status_to_sundials(rnn_cell_ode_jacobian(ctx->cell, t, s, ctx->u, J));
}

static int jvp(double t, const double *s, const double *v, double *Jv, void *p)
{
    rnn_cell_ode_ctx *ctx = p;
    rnn_input_eval(ctx->input, t, ctx->u);
    return status_to_sundials(rnn_cell_ode_jvp(ctx->cell, t, s, ctx->u, v, Jv));
}

static double knot(double t, void *p)
{
    rnn_cell_ode_ctx *ctx = p;
    return rnn_input_next_knot(ctx->input, t);
}

int rnn_cell_ode_bind(const rnn_cell *c, const rnn_input *in, rnn_cell_ode_ctx *ctx,
                      rnn_ode *ode)
{
    if (!c || !in || in->d != c->d)
        return RNN_EINVAL;
    ctx->cell = c;
    ctx->input = in;
    ctx->u = malloc(c->d * sizeof(double));
    if (!ctx->u)
        return RNN_ENOMEM;
    *ode = (rnn_ode){
        .n = c->n_state,
        .rhs = rhs,
        .jac = c->type->ode_jacobian ? jac : NULL,
        .jvp = c->type->ode_jvp ? jvp : NULL,
        .next_knot = knot,
        .ctx = ctx,
        .name = c->type->name,
    };
    return RNN_OK;
}

void rnn_cell_ode_unbind(rnn_cell_ode_ctx *ctx)
{
    free(ctx->u);
    ctx->u = NULL;
}
