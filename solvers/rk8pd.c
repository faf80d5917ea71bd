/*
 * rk8pd.c — a second reference integrator: GSL's explicit Runge–Kutta Prince–Dormand (8, 9)
 * pair (gsl_odeiv2_step_rk8pd; Prince & Dormand, J. Comput. Appl. Math. 7 (1981) 67–75) at a
 * fixed step, `sub` equal steps per output interval [t_i, t_{i+1}].
 *
 * Why a second reference: CVODE's BDF (order <= 5) and Adams (<= 12) stop improving near
 * rtol 1e-13, where their own error is ~1e-12 (BDF) or ~1e-13 (Adams). An order-p fit needs
 * errors spanning 2^(pK) over K halvings, all 1000 times above the reference's error: for
 * p >= 4 that is out of CVODE's reach. A smooth, non-stiff ODE integrated by an order-8 method
 * at a fixed small step h has error ~ C h^8, which reaches rounding (~1e-15 relative) at h
 * ~ 1e-2 on the cells' ODEs with O(1) rates.
 *
 * The caller estimates the error by Richardson's comparison of sub and 2 sub: for an order-8
 * method the finer solution's error is about 2^-8 of their difference (the difference is a
 * conservative estimate of the coarser one's error). Rounding, a stiff or discontinuous
 * right-hand side (a `hold` input jumps between knots) all show up as a large difference, so
 * the estimate cannot be fooled by them; this solver does not step across knots specially.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>
#include "solvers.h"

typedef struct {
    const rnn_ode *ode;
    int rc; /* the right-hand side's own status, for the message */
} rk8_ctx;

static int gsl_rhs(double t, const double y[], double dydt[], void *p)
{
    rk8_ctx *x = p;
    x->rc = x->ode->rhs(t, y, dydt, x->ode->ctx);
    return x->rc == 0 ? GSL_SUCCESS : GSL_EBADFUNC;
}

int rnn_rk8pd_solve(const rnn_ode *ode, double t0, const double *s0, size_t nt,
                    const double *times, size_t sub, double *S, char *msg, size_t len)
{
    const size_t n = ode ? ode->n : 0;
    if (!ode || !ode->rhs || n == 0 || !s0 || !times || !S || nt < 1 || sub < 1 ||
        !(times[0] >= t0)) {
        snprintf(msg, len, "rk8pd: bad arguments (need an ODE, nt >= 1, sub >= 1 and "
                 "times[0] >= t0)");
        return RNN_EINVAL;
    }
    for (size_t i = 1; i < nt; i++)
        if (!(times[i] > times[i - 1])) {
            snprintf(msg, len, "rk8pd: output times must increase (times[%zu] = %g after %g)", i,
                     times[i], times[i - 1]);
            return RNN_EINVAL;
        }
    rk8_ctx x = {ode, 0};
    gsl_odeiv2_system sys = {gsl_rhs, NULL, n, &x};
    gsl_odeiv2_step *st = gsl_odeiv2_step_alloc(gsl_odeiv2_step_rk8pd, n);
    double *y = malloc(2 * n * sizeof(double)), *yerr = y ? y + n : NULL;
    if (!st || !y) {
        gsl_odeiv2_step_free(st);
        free(y);
        snprintf(msg, len, "rk8pd: out of memory for a %zu-dimensional state", n);
        return RNN_ENOMEM;
    }
    memcpy(y, s0, n * sizeof(double));
    int rc = RNN_OK;
    double t = t0;
    for (size_t i = 0; i < nt && rc == RNN_OK; i++) {
        /* sub equal steps to times[i] (the first interval may be empty: times[0] == t0) */
        const double a = t, h = (times[i] - a) / (double)sub;
        for (size_t j = 0; j < sub && h > 0 && rc == RNN_OK; j++) {
            t = a + (double)j * h;
            int g = gsl_odeiv2_step_apply(st, t, h, y, yerr, NULL, NULL, &sys);
            if (g != GSL_SUCCESS) {
                if (x.rc)
                    snprintf(msg, len, "rk8pd: %s: the right-hand side returned %d at t = %g",
                             ode->name ? ode->name : "ODE", x.rc, t);
                else
                    snprintf(msg, len, "rk8pd: %s: step at t = %g failed: %s",
                             ode->name ? ode->name : "ODE", t, gsl_strerror(g));
                rc = RNN_ESOLVER;
            }
        }
        t = times[i];
        for (size_t k = 0; k < n && rc == RNN_OK; k++)
            if (!isfinite(y[k])) {
                snprintf(msg, len, "rk8pd: %s: the state turned non-finite by t = %g (the step "
                         "%g is outside the method's stability interval?)",
                         ode->name ? ode->name : "ODE", t, h);
                rc = RNN_ENONFINITE;
            }
        if (rc == RNN_OK)
            memcpy(S + i * n, y, n * sizeof(double));
    }
    gsl_odeiv2_step_free(st);
    free(y);
    return rc;
}
