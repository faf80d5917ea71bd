/*
 * adjoint.c — the continuous adjoint: the gradient of a terminal loss of an ODE with respect
 * to its initial state, by CVODES (forward solve with checkpoints, then the adjoint backward).
 *
 *   forward:   s' = f(s, t),  s(t0) = s0,  on [t0, T]
 *   loss:      L = 1/2 ||s(T) - target||^2
 *   adjoint:   lambda' = -J(s(t), t)^T lambda,  lambda(T) = dL/ds(T) = s(T) - target,
 *              integrated backward from T to t0, with J = df/ds
 *   gradient:  dL/ds0 = lambda(t0)
 *
 * Why it holds: d/dt (lambda^T delta) = 0 for every tangent delta' = J delta, so
 * lambda(t0)^T delta(t0) = lambda(T)^T delta(T) = dL; i.e. lambda(t0) = Y(T)^T lambda(T) with
 * Y the fundamental matrix of the variational equation.
 *
 * Only the state gradient: dL/dtheta would need the quadrature integral of (df/dtheta)^T
 * lambda over [t0, T], and an rnn_ode (like the cell type) has no df/dtheta operation.
 *
 * Method. Forward: CVODES BDF with Newton and the problem's analytic dense Jacobian, with
 * checkpoints every `checkpoint_steps` steps (CVodeAdjInit, CVodeF) and cubic Hermite
 * interpolation of the forward solution between them. Backward: a second BDF problem
 * (CVodeCreateB, CVodeInitB) with a dense linear solver and the analytic Jacobian of the
 * adjoint right-hand side, -J^T (CVodeSetLinearSolverB, CVodeSetJacFnB), integrated by CVodeB;
 * lambda(t0) is read by CVodeGetB. Forward and backward tolerances are the caller's.
 *
 * Knots (rnn_ode.next_knot: hold inputs jump, linear inputs kink). The forward solution is
 * continuous across a knot, so lambda is too, but f and J are not smooth there: a step that
 * straddles a knot loses the order of the method in both directions. We therefore run the
 * adjoint piecewise. Pass 1 solves forward segment by segment (stop time at each knot,
 * re-initialisation after it, as cvode.c does) and keeps s at every knot. Pass 2 walks the
 * segments from last to first: forward again over the segment from its stored start state
 * with fresh checkpoints (CVodeReInit, CVodeAdjReInit, CVodeF with a stop time at its end),
 * then backward over the same segment (CVodeInitB / CVodeReInitB at its end with the current
 * lambda, CVodeB to its start). With no knot before T (smooth inputs) there is one segment and
 * pass 2 reuses pass 1's checkpoints: one forward and one backward solve in all. Each segment
 * is solved forward twice otherwise; the cost is a second forward solve, not accuracy.
 *
 * Reference: SUNDIALS CVODES user guide v6.4.1, "Using CVODES for adjoint sensitivity
 * analysis"; Y. Cao, S. Li, L. Petzold, R. Serban, "Adjoint sensitivity analysis for
 * differential-algebraic equations: the adjoint DAE system and its numerical solution",
 * SIAM J. Sci. Comput. 24(3), 1076-1089 (2003).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <cvodes/cvodes.h>
#include <cvodes/cvodes_ls.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_dense.h>
#include "solvers.h"
#include "sundials_adapter.h"

/* Knots closer than this (relative to the time scale) to the previous segment's start or to T
 * are merged with it: CVODE cannot take a step shorter than about 1e-15 |t| (CV_TOO_CLOSE), and a
 * jump held for 1e-12 time units changes the solution by about 1e-12. */
#define KNOT_MERGE 1e-12

typedef struct {
    const rnn_ode *ode;
    double *J;      /* n x n row-major: the Jacobian of the forward problem */
    double *JB;     /* n x n row-major: -J^T for the backward Jacobian */
    char err[512];  /* the last message from CVODES (forward or backward) */
} adj_ctx;

/* ---- forward callbacks ------------------------------------------------------------------ */

static int rhs_cb(realtype t, N_Vector y, N_Vector ydot, void *ud)
{
    adj_ctx *ac = ud;
    return ac->ode->rhs(t, rnn_sun_data(y), rnn_sun_data(ydot), ac->ode->ctx);
}

static int jac_cb(realtype t, N_Vector y, N_Vector fy, SUNMatrix J, void *ud, N_Vector t1,
                  N_Vector t2, N_Vector t3)
{
    (void)fy, (void)t1, (void)t2, (void)t3;
    adj_ctx *ac = ud;
    int rc = ac->ode->jac(t, rnn_sun_data(y), ac->J, ac->ode->ctx);
    if (rc == 0)
        rnn_sun_dense_from_rows(ac->ode->n, ac->J, J);
    return rc;
}

/* ---- backward callbacks: lambda' = -J(s(t), t)^T lambda ---------------------------------- */

static int rhs_b_cb(realtype t, N_Vector y, N_Vector yB, N_Vector yBdot, void *ud)
{
    adj_ctx *ac = ud;
    const int n = (int)ac->ode->n;
    int rc = ac->ode->jac(t, rnn_sun_data(y), ac->JB, ac->ode->ctx);
    if (rc == 0)
        cblas_dgemv(CblasRowMajor, CblasTrans, n, n, -1.0, ac->JB, n, rnn_sun_data(yB), 1, 0.0,
                    rnn_sun_data(yBdot), 1);
    return rc;
}

static int jac_b_cb(realtype t, N_Vector y, N_Vector yB, N_Vector fyB, SUNMatrix JBmat,
                    void *ud, N_Vector t1, N_Vector t2, N_Vector t3)
{
    (void)yB, (void)fyB, (void)t1, (void)t2, (void)t3;
    adj_ctx *ac = ud;
    const size_t n = ac->ode->n;
    int rc = ac->ode->jac(t, rnn_sun_data(y), ac->J, ac->ode->ctx);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            ac->JB[i * n + j] = -ac->J[j * n + i];
    rnn_sun_dense_from_rows(n, ac->JB, JBmat);
    return 0;
}

static void err_cb(int code, const char *module, const char *function, char *msg, void *ud)
{
    (void)code;
    adj_ctx *ac = ud;
    snprintf(ac->err, sizeof ac->err, "%s/%s: %s", module, function, msg);
}

/* ---- options, messages ------------------------------------------------------------------- */

void rnn_adjoint_opts_default(rnn_adjoint_opts *o)
{
    o->rtol = 1e-8;
    o->atol = 1e-10;
    o->rtol_b = 1e-8;
    o->atol_b = 1e-10;
    o->max_steps = 100000;
    o->checkpoint_steps = 100;
}

/* Records a failed SUNDIALS call: which call, in which phase, CVODES' flag name and message,
 * the problem and the time. lin: the flag is a CVLS flag (linear-solver interface). */
static int fail(const adj_ctx *ac, const char *call, const char *phase, int flag, int lin,
                double t, char *msg, size_t len)
{
    char *name = flag ? (lin ? CVodeGetLinReturnFlagName(flag) : CVodeGetReturnFlagName(flag))
                      : NULL;
    const char *hint =
        lin ? ""
        : flag == CV_TOO_MUCH_WORK ? " (raise max_steps, or check for stiffness or blow-up)"
        : flag == CV_TOO_MUCH_ACC ? " (the tolerances are tighter than double precision allows)"
        : flag == CV_REPTD_RHSFUNC_ERR || flag == CV_RHSFUNC_FAIL
            ? " (the right-hand side kept returning non-finite values: the solution is blowing up)"
        : flag == CV_FWD_FAIL ? " (CVodeB's recomputation of the forward solution between "
                                "checkpoints failed; CVODES' message gives its time)"
            : "";
    snprintf(msg, len, "adjoint: %s failed (%s) for %s at t = %.17g: %s%s%s%s", call, phase,
             ac->ode->name ? ac->ode->name : "the problem", t, name ? name : "allocation failed",
             ac->err[0] ? " — " : "", ac->err, hint);
    free(name);
    return RNN_ESOLVER;
}

/* The segment boundaries t0 = k[0] < k[1] < ... < k[nseg] = T: the problem's knots in (t0, T).
 * With k == NULL only counts. Returns the number of segments, 0 if next_knot misbehaves. */
static size_t segments(const rnn_ode *ode, double t0, double T, double *k)
{
    const double fuzz = KNOT_MERGE * fmax(1.0, fmax(fabs(t0), fabs(T)));
    size_t nseg = 0;
    double t = t0;
    if (k)
        k[0] = t0;
    while (ode->next_knot) {
        double knot = ode->next_knot(t, ode->ctx);
        if (isnan(knot) || knot <= t)
            return 0;
        if (knot >= T - fuzz)
            break;
        if (knot - t > fuzz) {
            nseg++;
            if (k)
                k[nseg] = knot;
        }
        t = knot;
    }
    nseg++;
    if (k)
        k[nseg] = T;
    return nseg;
}

/* ---- the solver -------------------------------------------------------------------------- */

int rnn_adjoint_terminal_gradient(const rnn_ode *ode, double t0, double T, const double *s0,
                                  const double *target, const rnn_adjoint_opts *o, double *sT,
                                  double *L, double *grad, rnn_adjoint_stats *stats, char *msg,
                                  size_t len)
{
    if (!ode || !o || !s0 || !target || !grad || !msg || len == 0) {
        if (msg && len)
            snprintf(msg, len, "adjoint: NULL argument (ode, s0, target, opts, grad and msg are "
                     "required)");
        return RNN_EINVAL;
    }
    const size_t n = ode->n;
    const char *name = ode->name ? ode->name : "the problem";
    if (n == 0 || !ode->rhs) {
        snprintf(msg, len, "adjoint: %s has no right-hand side or n = 0", name);
        return RNN_EINVAL;
    }
    if (!ode->jac) {
        snprintf(msg, len, "adjoint: %s has no dense Jacobian; the adjoint right-hand side "
                 "-J^T lambda needs one", name);
        return RNN_EUNSUPPORTED;
    }
    if (!isfinite(t0) || !isfinite(T) || !(T > t0)) {
        snprintf(msg, len, "adjoint: need finite t0 < T for %s (got t0 = %g, T = %g)", name, t0, T);
        return RNN_EINVAL;
    }
    if (!(o->rtol > 0) || !(o->atol > 0) || !(o->rtol_b > 0) || !(o->atol_b > 0) ||
        o->max_steps < 1 || o->checkpoint_steps < 1) {
        snprintf(msg, len, "adjoint: bad options for %s (need rtol, atol, rtol_b, atol_b > 0, "
                 "max_steps >= 1, checkpoint_steps >= 1)", name);
        return RNN_EINVAL;
    }
    if (!rnn_all_finite(n, s0) || !rnn_all_finite(n, target)) {
        snprintf(msg, len, "adjoint: the initial state or the target of %s is not finite", name);
        return RNN_ENONFINITE;
    }
    const size_t nseg = segments(ode, t0, T, NULL);
    if (nseg == 0) {
        snprintf(msg, len, "adjoint: the knots of %s do not advance (next_knot returned a time "
                 "<= t or NaN)", name);
        return RNN_EINVAL;
    }

    adj_ctx ac = {.ode = ode};
    rnn_adjoint_stats st = {.segments = nseg};
    SUNContext sctx = NULL;
    N_Vector y = NULL, yB = NULL;
    SUNMatrix A = NULL, AB = NULL;
    SUNLinearSolver LS = NULL, LSB = NULL;
    void *mem = NULL;
    int rc = RNN_OK, flag, which = -1;
    double t = t0;
    /* knots: nseg + 1 times; S: the state at each; work: J and -J^T */
    double *buf = malloc(((nseg + 1) * (n + 1) + 2 * n * n) * sizeof(double));
    if (!buf) {
        snprintf(msg, len, "adjoint: out of memory for %zu segments of %s", nseg, name);
        return RNN_ENOMEM;
    }
    double *knot = buf, *S = knot + nseg + 1;
    ac.J = S + (nseg + 1) * n;
    ac.JB = ac.J + n * n;
    segments(ode, t0, T, knot);
    memcpy(S, s0, n * sizeof(double));

#define TRY(call, phase, lin)                                        \
    do {                                                             \
        if ((flag = (call)) < 0) {                                   \
            rc = fail(&ac, #call, phase, flag, lin, t, msg, len);    \
            goto done;                                               \
        }                                                            \
    } while (0)
#define NEED(ptr, what)                                              \
    do {                                                             \
        if (!(ptr)) {                                                \
            rc = fail(&ac, what, "setup", 0, 0, t, msg, len);        \
            goto done;                                               \
        }                                                            \
    } while (0)

    if ((flag = SUNContext_Create(NULL, &sctx)) != 0) {
        rc = fail(&ac, "SUNContext_Create", "setup", flag, 0, t, msg, len);
        goto done;
    }
    NEED(y = N_VNew_Serial((sunindextype)n, sctx), "N_VNew_Serial");
    NEED(yB = N_VNew_Serial((sunindextype)n, sctx), "N_VNew_Serial");
    NEED(mem = CVodeCreate(CV_BDF, sctx), "CVodeCreate");
    TRY(CVodeSetErrHandlerFn(mem, err_cb, &ac), "setup", 0);
    rnn_sun_from_array(n, s0, y);
    TRY(CVodeInit(mem, rhs_cb, t0, y), "forward setup", 0);
    TRY(CVodeSetUserData(mem, &ac), "forward setup", 0);
    TRY(CVodeSStolerances(mem, o->rtol, o->atol), "forward setup", 0);
    TRY(CVodeSetMaxNumSteps(mem, o->max_steps), "forward setup", 0);
    NEED(A = SUNDenseMatrix((sunindextype)n, (sunindextype)n, sctx), "SUNDenseMatrix");
    NEED(LS = SUNLinSol_Dense(y, A, sctx), "SUNLinSol_Dense");
    TRY(CVodeSetLinearSolver(mem, LS, A), "forward setup", 1);
    TRY(CVodeSetJacFn(mem, jac_cb), "forward setup", 1);
    TRY(CVodeAdjInit(mem, o->checkpoint_steps, CV_HERMITE), "forward setup", 0);

    /* Pass 1 (and, for the last segment, the checkpoints pass 2 uses): forward, segment by
     * segment, keeping the state at every knot. */
    size_t fwd_seg = 0; /* the segment whose checkpoints are in memory */
    for (size_t j = 0; j < nseg; j++) {
        if (j > 0) {
            rnn_sun_from_array(n, S + j * n, y);
            TRY(CVodeReInit(mem, knot[j], y), "forward", 0);
            TRY(CVodeAdjReInit(mem), "forward", 0);
        }
        /* A stop time at the segment's end keeps every step on one side of the knot (and
         * replaces the previous one, which CVodeReInit keeps in SUNDIALS 6.4). */
        TRY(CVodeSetStopTime(mem, knot[j + 1]), "forward", 0);
        int ncheck = 0;
        t = knot[j];
        flag = CVodeF(mem, knot[j + 1], y, &t, CV_NORMAL, &ncheck);
        if (flag < 0) {
            rc = fail(&ac, "CVodeF", "forward", flag, 0, t, msg, len);
            goto done;
        }
        long v;
        if (CVodeGetNumSteps(mem, &v) == CV_SUCCESS)
            st.fwd_steps += v;
        st.checkpoints += ncheck;
        if (!rnn_all_finite(n, rnn_sun_data(y))) {
            snprintf(msg, len, "adjoint: the forward state of %s turned non-finite at t = %.17g",
                     name, t);
            rc = RNN_ENONFINITE;
            goto done;
        }
        rnn_sun_to_array(n, y, S + (j + 1) * n);
        fwd_seg = j;
    }
    const double *sfin = S + nseg * n;
    double loss = 0;
    for (size_t i = 0; i < n; i++) {
        double r = sfin[i] - target[i];
        loss += 0.5 * r * r;
        rnn_sun_data(yB)[i] = r; /* lambda(T) = dL/ds(T) */
    }

    /* Pass 2: backward, segment by segment from the last. */
    for (size_t j = nseg; j-- > 0;) {
        if (j != fwd_seg) {
            /* the checkpoints of segment j: forward again from its stored start state */
            rnn_sun_from_array(n, S + j * n, y);
            t = knot[j];
            TRY(CVodeReInit(mem, knot[j], y), "forward recomputation", 0);
            TRY(CVodeAdjReInit(mem), "forward recomputation", 0);
            TRY(CVodeSetStopTime(mem, knot[j + 1]), "forward recomputation", 0);
            int ncheck = 0;
            flag = CVodeF(mem, knot[j + 1], y, &t, CV_NORMAL, &ncheck);
            if (flag < 0) {
                rc = fail(&ac, "CVodeF", "forward recomputation", flag, 0, t, msg, len);
                goto done;
            }
            long v;
            if (CVodeGetNumSteps(mem, &v) == CV_SUCCESS)
                st.fwd_steps += v;
            st.checkpoints += ncheck;
            fwd_seg = j;
        }
        t = knot[j + 1];
        if (which < 0) {
            TRY(CVodeCreateB(mem, CV_BDF, &which), "backward setup", 0);
            void *memB = CVodeGetAdjCVodeBmem(mem, which);
            NEED(memB, "CVodeGetAdjCVodeBmem");
            TRY(CVodeSetErrHandlerFn(memB, err_cb, &ac), "backward setup", 0);
            TRY(CVodeInitB(mem, which, rhs_b_cb, knot[j + 1], yB), "backward setup", 0);
            TRY(CVodeSetUserDataB(mem, which, &ac), "backward setup", 0);
            TRY(CVodeSStolerancesB(mem, which, o->rtol_b, o->atol_b), "backward setup", 0);
            TRY(CVodeSetMaxNumStepsB(mem, which, o->max_steps), "backward setup", 0);
            NEED(AB = SUNDenseMatrix((sunindextype)n, (sunindextype)n, sctx), "SUNDenseMatrix");
            NEED(LSB = SUNLinSol_Dense(yB, AB, sctx), "SUNLinSol_Dense");
            TRY(CVodeSetLinearSolverB(mem, which, LSB, AB), "backward setup", 1);
            TRY(CVodeSetJacFnB(mem, which, jac_b_cb), "backward setup", 1);
        } else {
            TRY(CVodeReInitB(mem, which, knot[j + 1], yB), "backward", 0);
        }
        flag = CVodeB(mem, knot[j], CV_NORMAL);
        if (flag < 0) {
            void *memB = CVodeGetAdjCVodeBmem(mem, which);
            if (!memB || CVodeGetCurrentTime(memB, &t) != CV_SUCCESS)
                t = knot[j + 1];
            rc = fail(&ac, "CVodeB", "backward", flag, 0, t, msg, len);
            goto done;
        }
        TRY(CVodeGetB(mem, which, &t, yB), "backward", 0);
        void *memB = CVodeGetAdjCVodeBmem(mem, which);
        long v;
        if (memB && CVodeGetNumSteps(memB, &v) == CV_SUCCESS)
            st.bwd_steps += v;
        if (!rnn_all_finite(n, rnn_sun_data(yB))) {
            snprintf(msg, len, "adjoint: the adjoint of %s turned non-finite at t = %.17g", name, t);
            rc = RNN_ENONFINITE;
            goto done;
        }
    }
#undef TRY
#undef NEED
    rnn_sun_to_array(n, yB, grad);
    if (sT)
        memcpy(sT, sfin, n * sizeof(double));
    if (L)
        *L = loss;
done:
    if (stats)
        *stats = st;
    CVodeFree(&mem); /* frees the adjoint memory and the backward problems too */
    SUNLinSolFree(LSB);
    SUNLinSolFree(LS);
    SUNMatDestroy(AB);
    SUNMatDestroy(A);
    N_VDestroy(yB);
    N_VDestroy(y);
    SUNContext_Free(&sctx);
    free(buf);
    return rc;
}
