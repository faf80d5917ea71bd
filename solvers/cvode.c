/*
 * cvode.c — the reference integrator: SUNDIALS CVODE on an rnn_ode.
 *
 * BDF (orders 1-5) with Newton iteration and the problem's analytic dense Jacobian is the
 * default; Adams-Moulton (orders 1-12) is an option; for wide states, Newton-Krylov with
 * GMRES and the problem's matrix-free Jacobian-times-vector product. Tolerances are the
 * caller's (rtol, atol); the weighted RMS local error is kept below 1 per step.
 *
 * The input signals hold and linear make the right-hand side jump (or kink) at known times;
 * the solver stops exactly there (CVodeSetStopTime) and restarts (CVodeReInit), so that no
 * step straddles a discontinuity and the order of the method is not lost.
 *
 * CVODES is linked instead of CVODE: it is CVODE plus sensitivities and adjoints (the same
 * integrator and calls), and the two libraries cannot be linked into one program.
 *
 * Reference: Hindmarsh et al., SUNDIALS, ACM TOMS 31 (2005); the CVODE user guide, v6.4.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cvodes/cvodes.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunlinsol/sunlinsol_spgmr.h>
#include "solvers.h"
#include "sundials_adapter.h"

typedef struct {
    const rnn_ode *ode;
    double *J;          /* row-major n x n, for the dense Jacobian */
    char err[512];      /* CVODE's last message */
} solve_ctx;

static int rhs_cb(realtype t, N_Vector y, N_Vector ydot, void *ud)
{
    solve_ctx *sc = ud;
    return sc->ode->rhs(t, rnn_sun_data(y), rnn_sun_data(ydot), sc->ode->ctx);
}

static int jac_cb(realtype t, N_Vector y, N_Vector fy, SUNMatrix J, void *ud, N_Vector t1,
                  N_Vector t2, N_Vector t3)
{
    (void)fy, (void)t1, (void)t2, (void)t3;
    solve_ctx *sc = ud;
    int rc = sc->ode->jac(t, rnn_sun_data(y), sc->J, sc->ode->ctx);
    if (rc == 0)
        rnn_sun_dense_from_rows(sc->ode->n, sc->J, J);
    return rc;
}

static int jtimes_cb(N_Vector v, N_Vector Jv, realtype t, N_Vector y, N_Vector fy, void *ud,
                     N_Vector tmp)
{
    (void)fy, (void)tmp;
    solve_ctx *sc = ud;
    return sc->ode->jvp(t, rnn_sun_data(y), rnn_sun_data(v), rnn_sun_data(Jv), sc->ode->ctx);
}

static void err_cb(int code, const char *module, const char *function, char *msg, void *ud)
{
    (void)code;
    solve_ctx *sc = ud;
    snprintf(sc->err, sizeof sc->err, "%s/%s: %s", module, function, msg);
}

void rnn_cvode_opts_default(rnn_cvode_opts *o)
{
    o->method = RNN_CVODE_BDF;
    o->linsol = RNN_CVODE_DENSE;
    o->rtol = 1e-8;
    o->atol = 1e-10;
    o->max_steps = 100000;
}

const char *rnn_cvode_method_name(rnn_cvode_method m)
{
    return m == RNN_CVODE_BDF ? "bdf" : "adams";
}

const char *rnn_cvode_linsol_name(rnn_cvode_linsol l)
{
    return l == RNN_CVODE_DENSE ? "dense" : "gmres";
}

static void add_stats(void *mem, rnn_cvode_stats *st)
{
    long v;
    if (CVodeGetNumSteps(mem, &v) == CV_SUCCESS) st->steps += v;
    if (CVodeGetNumRhsEvals(mem, &v) == CV_SUCCESS) st->rhs_evals += v;
    if (CVodeGetNumJacEvals(mem, &v) == CV_SUCCESS) st->jac_evals += v;
    if (CVodeGetNumNonlinSolvIters(mem, &v) == CV_SUCCESS) st->newton_iters += v;
    if (CVodeGetNumNonlinSolvConvFails(mem, &v) == CV_SUCCESS) st->newton_conv_fails += v;
    if (CVodeGetNumErrTestFails(mem, &v) == CV_SUCCESS) st->err_test_fails += v;
    if (CVodeGetNumLinIters(mem, &v) == CV_SUCCESS) st->lin_iters += v;
    double h;
    if (CVodeGetLastStep(mem, &h) == CV_SUCCESS && h != 0) st->last_step = h;
}

/* Records a failed SUNDIALS call: which call, CVODE's flag name and message, and where. */
static int fail(const solve_ctx *sc, const char *call, int flag, double t, char *msg, size_t len)
{
    char *name = flag ? CVodeGetReturnFlagName(flag) : NULL;
    const char *hint = flag == CV_REPTD_RHSFUNC_ERR || flag == CV_RHSFUNC_FAIL
                           ? " (the right-hand side kept returning non-finite values: the solution "
                             "is blowing up)"
                       : flag == CV_TOO_MUCH_WORK ? " (raise the step limit, e.g. --max-steps, or "
                                                    "check for stiffness or blow-up)"
                                                  : "";
    snprintf(msg, len, "%s failed for %s at t = %.17g: %s%s%s%s", call, sc->ode->name, t,
             name ? name : "allocation failed", sc->err[0] ? " — " : "", sc->err, hint);
    free(name);
    return RNN_ESOLVER;
}

int rnn_cvode_solve(const rnn_ode *ode, double t0, const double *s0, size_t n_out,
                    const double *t_out, double *S, const rnn_cvode_opts *o,
                    rnn_cvode_stats *stats, char *msg, size_t len)
{
    const size_t n = ode->n;
    if (n == 0 || !ode->rhs || !s0 || !S || !t_out || !(o->rtol > 0) || !(o->atol > 0) ||
        !isfinite(t0) || o->max_steps < 1) {
        snprintf(msg, len, "cvode: bad arguments for %s (need n > 0, rtol > 0, atol > 0, "
                 "max_steps >= 1)", ode->name);
        return RNN_EINVAL;
    }
    for (size_t k = 0; k < n_out; k++)
        if (!(t_out[k] >= (k ? t_out[k - 1] : t0))) {
            snprintf(msg, len, "cvode: output times for %s must be >= t0 and non-decreasing "
                     "(t_out[%zu] = %g)", ode->name, k, t_out[k]);
            return RNN_EINVAL;
        }
    if (!rnn_all_finite(n, s0)) {
        snprintf(msg, len, "cvode: initial state of %s is not finite", ode->name);
        return RNN_ENONFINITE;
    }

    solve_ctx sc = {.ode = ode};
    rnn_cvode_stats st = {0};
    SUNContext sctx = NULL;
    N_Vector y = NULL;
    SUNMatrix A = NULL;
    SUNLinearSolver LS = NULL;
    void *mem = NULL;
    int rc = RNN_OK, flag;
    double t = t0;

    if ((flag = SUNContext_Create(NULL, &sctx)) != 0) {
        rc = fail(&sc, "SUNContext_Create", flag, t, msg, len);
        goto done;
    }
    y = N_VNew_Serial((sunindextype)n, sctx);
    mem = CVodeCreate(o->method == RNN_CVODE_BDF ? CV_BDF : CV_ADAMS, sctx);
    if (!y || !mem) {
        rc = fail(&sc, y ? "CVodeCreate" : "N_VNew_Serial", 0, t, msg, len);
        goto done;
    }
    rnn_sun_from_array(n, s0, y);
    CVodeSetErrHandlerFn(mem, err_cb, &sc);
#define TRY(call)                                                   \
    do {                                                            \
        if ((flag = (call)) < 0) {                                  \
            rc = fail(&sc, #call, flag, t, msg, len);               \
            goto done;                                              \
        }                                                           \
    } while (0)
    TRY(CVodeInit(mem, rhs_cb, t0, y));
    TRY(CVodeSetUserData(mem, &sc));
    TRY(CVodeSStolerances(mem, o->rtol, o->atol));
    TRY(CVodeSetMaxNumSteps(mem, o->max_steps));
    if (o->linsol == RNN_CVODE_DENSE) {
        A = SUNDenseMatrix((sunindextype)n, (sunindextype)n, sctx);
        LS = A ? SUNLinSol_Dense(y, A, sctx) : NULL;
        if (!LS) {
            rc = fail(&sc, "SUNLinSol_Dense", 0, t, msg, len);
            goto done;
        }
        TRY(CVodeSetLinearSolver(mem, LS, A));
        if (ode->jac) {
            sc.J = malloc(n * n * sizeof(double));
            if (!sc.J) {
                rc = RNN_ENOMEM;
                snprintf(msg, len, "cvode: out of memory for a %zu x %zu Jacobian", n, n);
                goto done;
            }
            TRY(CVodeSetJacFn(mem, jac_cb));
        }
    } else {
        LS = SUNLinSol_SPGMR(y, SUN_PREC_NONE, 0, sctx);
        if (!LS) {
            rc = fail(&sc, "SUNLinSol_SPGMR", 0, t, msg, len);
            goto done;
        }
        TRY(CVodeSetLinearSolver(mem, LS, NULL));
        if (ode->jvp)
            TRY(CVodeSetJacTimes(mem, NULL, jtimes_cb));
    }

    for (size_t k = 0; k < n_out; k++) {
        while (t < t_out[k]) {
            double knot = ode->next_knot ? ode->next_knot(t, ode->ctx) : INFINITY;
            /* A stop time at the next knot keeps every internal step on one side of it,
             * even when the output time lies before the knot. Past the last knot it is the
             * last output time: CVodeReInit (SUNDIALS 6.4) keeps an old stop time, and one
             * left at the current time makes CVode refuse to move. */
            double tstop = knot < t_out[n_out - 1] ? knot : t_out[n_out - 1];
            TRY(CVodeSetStopTime(mem, tstop));
            double target = t_out[k] < knot ? t_out[k] : knot;
            flag = CVode(mem, target, y, &t, CV_NORMAL);
            if (flag < 0) {
                rc = fail(&sc, "CVode", flag, t, msg, len);
                goto done;
            }
            if (flag == CV_TSTOP_RETURN || (isfinite(knot) && t >= knot)) {
                add_stats(mem, &st);
                st.reinits++;
                TRY(CVodeReInit(mem, t, y));
            }
        }
        if (!rnn_all_finite(n, rnn_sun_data(y))) {
            snprintf(msg, len, "CVode: the state of %s turned non-finite at t = %.17g", ode->name, t);
            rc = RNN_ENONFINITE;
            goto done;
        }
        rnn_sun_to_array(n, y, S + k * n);
    }
    add_stats(mem, &st);
#undef TRY
done:
    if (stats)
        *stats = st;
    CVodeFree(&mem);
    SUNLinSolFree(LS);
    SUNMatDestroy(A);
    N_VDestroy(y);
    SUNContext_Free(&sctx);
    free(sc.J);
    return rc;
}
