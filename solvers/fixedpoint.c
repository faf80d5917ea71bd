/*
 * fixedpoint.c — equilibria of a cell's ODE and fixed points of its step, by KINSOL.
 *
 * With the input frozen at a constant u* and the time at t*, solve F(s) = 0 for
 *
 *     ODE equilibria:       F(s) = f(s, u*, t*),             J_F(s) = df/ds
 *     step fixed points:    F(s) = Phi(s, u*, t*) - s,       J_F(s) = dPhi/ds - I
 *
 * by Newton's method  J_F(s_k) p_k = -F(s_k),  s_{k+1} = s_k + lambda_k p_k,  with the cell's
 * exact Jacobian (dense LU) evaluated at every iterate (KINSetMaxSetupCalls 1: no modified
 * Newton) and lambda_k from KINSOL's backtracking line search on 1/2 ||F||^2 (KIN_LINESEARCH,
 * the alpha condition of Dennis & Schnabel). F is not scaled (fscale = 1), so KINSOL's stopping
 * test ||F||_inf <= fnormtol is the residual the callers check; uscale = 1, so the step test
 * reads max_i |p_i| / (|s_i| + 1) <= scsteptol.
 *
 * After KINSOL stops, up to polish_iters plain Newton steps (full steps, the same dense solver)
 * are taken, each kept only if it lowers ||F||_inf: near a simple root one step squares the
 * error, so the residual ends at the rounding floor of F. The residual reported is F evaluated
 * again at the returned point, never KINSOL's estimate.
 *
 * Several seeded starting guesses share one KINSOL instance (KINSol may be called again with a
 * new initial guess); roots closer than dedup_tol in the max-norm are merged. Starts alternate
 * between direct ones (s0 ~ N(0, start_scale^2), solved at u*) and, with track_steps = K > 0,
 * continuation ones (natural-parameter continuation in the input, Kelley ch. 8 and Allgower &
 * Georg, Numerical Continuation Methods, 1990, §1): s0 ~ N(0, (start_scale/10)^2) solved at
 * u = 0, then the root followed through u_j = (j/K) u*, j = 1..K, each solve started from the
 * previous root. Why: for cells without a leak term (antisym: F = tanh(A s + c)) the Jacobian
 * D A vanishes where the preactivation saturates, a line search accepts saturated iterates,
 * and the next Jacobian is singular (KIN_LSETUP_FAIL). Along the continuation the preactivation
 * at the start of each solve is off its value at a root by the input step, |u* / K| in size.
 * Direct starts are still needed: a branch followed from u = 0 can end at a fold before u*
 * (tanh at wscale 2 has roots at u* that no branch from u = 0 reaches).
 *
 * References: the KINSOL user guide, v6.4 (Hindmarsh, Serban, Reynolds et al.); C. T. Kelley,
 * Iterative Methods for Linear and Nonlinear Equations, SIAM 1995, ch. 5 and 8 (Newton's
 * method, its local quadratic convergence and the Armijo line search).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <kinsol/kinsol.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_dense.h>
#include "solvers.h"
#include "sundials_adapter.h"

void rnn_fixedpoint_opts_default(rnn_fixedpoint_opts *o)
{
    /* fnormtol: 1e-13 sits a decade under the suite's criterion (1e-12) and a few hundred
     * ulps above the rounding floor of F for O(1) states, so KINSOL can reach it. */
    o->fnormtol = 1e-13;
    o->scsteptol = 1e-15;
    o->max_iters = 200;
    o->polish_iters = 3;
    o->max_step = 0;
    o->accept_tol = 1e-10;
    o->root_tol = 1e-8;
    o->dedup_tol = 1e-8;
    o->start_scale = 1.0;
    o->track_steps = 8;
    o->path_starts = 4;
    o->path_radius = 1000.0;
    o->path_max_steps = 500;
    o->seed = 0;
}

const char *rnn_fixedpoint_kind_name(rnn_fixedpoint_kind k)
{
    return k == RNN_FP_ODE ? "ode" : "step";
}

static const char *kind_long(rnn_fixedpoint_kind k)
{
    return k == RNN_FP_ODE ? "ODE equilibrium" : "step fixed point";
}

rnn_fixedpoint_set *rnn_fixedpoint_set_alloc(size_t n, size_t cap)
{
    if (n == 0 || cap == 0)
        return NULL;
    rnn_fixedpoint_set *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->n = n;
    r->cap = cap;
    r->s = malloc(n * cap * sizeof(double));
    r->info = calloc(cap, sizeof *r->info);
    r->hits = calloc(cap, sizeof *r->hits);
    if (!r->s || !r->info || !r->hits) {
        rnn_fixedpoint_set_free(r);
        return NULL;
    }
    return r;
}

void rnn_fixedpoint_set_free(rnn_fixedpoint_set *r)
{
    if (!r)
        return;
    free(r->s);
    free(r->info);
    free(r->hits);
    free(r);
}

static double max_abs(size_t n, const double *x)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double a = fabs(x[i]);
        if (!(a <= m))
            m = a; /* propagates NaN */
    }
    return m;
}

/* F(s) with the cell's wrappers (which check finiteness). */
static int eval_F(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u, double t,
                  const double *s, double *F)
{
    if (kind == RNN_FP_ODE)
        return rnn_cell_ode_rhs(c, t, s, u, F);
    int rc = rnn_cell_step(c, t, s, u, F);
    if (rc == RNN_OK)
        for (size_t i = 0; i < c->n_state; i++)
            F[i] -= s[i];
    return rc;
}

/* J_F(s), row-major. */
static int eval_J(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u, double t,
                  const double *s, double *J)
{
    if (kind == RNN_FP_ODE)
        return rnn_cell_ode_jacobian(c, t, s, u, J);
    int rc = rnn_cell_step_jacobian(c, t, s, u, J);
    if (rc == RNN_OK)
        for (size_t i = 0; i < c->n_state; i++)
            J[i * c->n_state + i] -= 1.0;
    return rc;
}

int rnn_fixedpoint_jacobian(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u,
                            double t, const double *s, double *J)
{
    if (!c || !u || !s || !J || (kind != RNN_FP_ODE && kind != RNN_FP_STEP))
        return RNN_EINVAL;
    return eval_J(c, kind, u, t, s, J);
}

int rnn_fixedpoint_residual(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u,
                            double t, const double *s, double *F, double *norm)
{
    if (!c || !u || !s || !F || (kind != RNN_FP_ODE && kind != RNN_FP_STEP))
        return RNN_EINVAL;
    int rc = eval_F(c, kind, u, t, s, F);
    if (rc == RNN_OK && norm)
        *norm = max_abs(c->n_state, F);
    return rc;
}

/* ---- the KINSOL workspace (one per call, shared by all starts) ------------------------------- */

typedef struct {
    const rnn_cell *cell;
    rnn_fixedpoint_kind kind;
    const double *u;
    double t;
    size_t n;
    double *J, *F, *s, *s_try, *F_try; /* n x n, then n each */
    double *u_track;                   /* d: the input along a continuation */
    SUNContext sctx;
    N_Vector uu, ones, x, b;
    SUNMatrix A;
    SUNLinearSolver LS;
    void *mem;
    int cell_rc;   /* the last error of the cell inside a callback */
    char err[256]; /* KINSOL's last error message */
} kin_ws;

/* The SUNDIALS convention: 0 ok, > 0 recoverable (KINSOL shortens the step), < 0 fatal. */
static int to_sundials(kin_ws *w, int rc)
{
    if (rc != RNN_OK)
        w->cell_rc = rc;
    return rc == RNN_OK ? 0 : rc == RNN_ENONFINITE ? 1 : -1;
}

static int sys_cb(N_Vector uu, N_Vector fval, void *ud)
{
    kin_ws *w = ud;
    return to_sundials(w, eval_F(w->cell, w->kind, w->u, w->t, rnn_sun_data(uu),
                                 rnn_sun_data(fval)));
}

static int jac_cb(N_Vector uu, N_Vector fu, SUNMatrix Jm, void *ud, N_Vector t1, N_Vector t2)
{
    (void)fu, (void)t1, (void)t2;
    kin_ws *w = ud;
    int rc = eval_J(w->cell, w->kind, w->u, w->t, rnn_sun_data(uu), w->J);
    if (rc == RNN_OK)
        rnn_sun_dense_from_rows(w->n, w->J, Jm);
    return to_sundials(w, rc);
}

static void err_cb(int code, const char *module, const char *function, char *emsg, void *ud)
{
    kin_ws *w = ud;
    if (code == KIN_WARNING)
        return;
    snprintf(w->err, sizeof w->err, "%s/%s: %s", module, function, emsg);
}

static void ws_free(kin_ws *w)
{
    KINFree(&w->mem);
    SUNLinSolFree(w->LS);
    SUNMatDestroy(w->A);
    N_VDestroy(w->uu);
    N_VDestroy(w->ones);
    N_VDestroy(w->x);
    N_VDestroy(w->b);
    SUNContext_Free(&w->sctx);
    free(w->J);
    memset(w, 0, sizeof *w);
}

/* A setup failure: which call and KINSOL's flag name (flag 0: an allocation returned NULL). */
static int setup_fail(kin_ws *w, const char *call, int flag, char *msg, size_t len)
{
    char *name = flag ? KINGetReturnFlagName(flag) : NULL;
    snprintf(msg, len, "%s failed while setting up KINSOL for %s (%s, n = %zu): %s%s%s", call,
             w->cell->type->name, kind_long(w->kind), w->n, name ? name : "allocation failed",
             w->err[0] ? " — " : "", w->err);
    free(name);
    ws_free(w);
    return RNN_ESOLVER;
}

static int ws_init(kin_ws *w, const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u,
                   double t, const rnn_fixedpoint_opts *o, char *msg, size_t len)
{
    memset(w, 0, sizeof *w);
    const size_t n = c->n_state;
    w->cell = c;
    w->kind = kind;
    w->u = u;
    w->t = t;
    w->n = n;
    w->J = malloc((n * n + 4 * n + c->d) * sizeof(double));
    if (!w->J) {
        snprintf(msg, len, "fixedpoint: out of memory for %s (n = %zu)", c->type->name, n);
        return RNN_ENOMEM;
    }
    w->F = w->J + n * n;
    w->s = w->F + n;
    w->s_try = w->s + n;
    w->F_try = w->s_try + n;
    w->u_track = w->F_try + n;
    int flag;
    if ((flag = SUNContext_Create(NULL, &w->sctx)) != 0)
        return setup_fail(w, "SUNContext_Create", flag, msg, len);
    const sunindextype N = (sunindextype)n;
    w->uu = N_VNew_Serial(N, w->sctx);
    w->ones = N_VNew_Serial(N, w->sctx);
    w->x = N_VNew_Serial(N, w->sctx);
    w->b = N_VNew_Serial(N, w->sctx);
    if (!w->uu || !w->ones || !w->x || !w->b)
        return setup_fail(w, "N_VNew_Serial", 0, msg, len);
    N_VConst(1.0, w->ones);
    w->A = SUNDenseMatrix(N, N, w->sctx);
    w->LS = w->A ? SUNLinSol_Dense(w->uu, w->A, w->sctx) : NULL;
    if (!w->LS)
        return setup_fail(w, w->A ? "SUNLinSol_Dense" : "SUNDenseMatrix", 0, msg, len);
    w->mem = KINCreate(w->sctx);
    if (!w->mem)
        return setup_fail(w, "KINCreate", 0, msg, len);
#define TRY(call)                                                  \
    do {                                                           \
        if ((flag = (call)) != KIN_SUCCESS)                        \
            return setup_fail(w, #call, flag, msg, len);           \
    } while (0)
    TRY(KINSetErrHandlerFn(w->mem, err_cb, w));
    TRY(KINInit(w->mem, sys_cb, w->uu));
    TRY(KINSetUserData(w->mem, w));
    TRY(KINSetLinearSolver(w->mem, w->LS, w->A));
    TRY(KINSetJacFn(w->mem, jac_cb));
    TRY(KINSetMaxSetupCalls(w->mem, 1)); /* a fresh exact Jacobian every iteration */
    TRY(KINSetFuncNormTol(w->mem, o->fnormtol));
    TRY(KINSetScaledStepTol(w->mem, o->scsteptol));
    TRY(KINSetNumMaxIters(w->mem, o->max_iters));
    TRY(KINSetMaxNewtonStep(w->mem, o->max_step));
#undef TRY
    return RNN_OK;
}

/* The Newton correction p = -J_F(s)^{-1} F(s) at w->s (with F(w->s) in w->F) into w->x;
 * returns ||p||_inf, or INFINITY when J_F cannot be evaluated or factored. Uses the dense
 * solver KINSOL owns, outside KINSOL. */
static double newton_correction(kin_ws *w)
{
    const size_t n = w->n;
    if (eval_J(w->cell, w->kind, w->u, w->t, w->s, w->J) != RNN_OK)
        return INFINITY;
    rnn_sun_dense_from_rows(n, w->J, w->A);
    if (SUNLinSolSetup(w->LS, w->A) != SUNLS_SUCCESS) /* singular */
        return INFINITY;
    double *bb = rnn_sun_data(w->b);
    for (size_t i = 0; i < n; i++)
        bb[i] = -w->F[i];
    if (SUNLinSolSolve(w->LS, w->A, w->x, w->b, 0.0) != SUNLS_SUCCESS)
        return INFINITY;
    double c = max_abs(n, rnn_sun_data(w->x));
    return isfinite(c) ? c : INFINITY;
}

/* The error bound of a converged point w->s (F(w->s) in w->F): the Newton correction
 * p = J_F^{-1} F plus, for the step, |J_F^{-1}| r with r_i = eps |s_i| (the rounding floor of
 * Phi(s) - s, which cancels to 0 wherever the increment is below an ulp of s), by n solves
 * with the factors of J_F: max_i |p_i| + (|J_F^{-1}| r)_i. INFINITY if J_F is singular. */
static double error_bound(kin_ws *w, double *correction)
{
    const size_t n = w->n;
    *correction = newton_correction(w);
    if (!isfinite(*correction))
        return INFINITY;
    double *bound = w->s_try, *bb = rnn_sun_data(w->b);
    const double *x = rnn_sun_data(w->x);
    for (size_t i = 0; i < n; i++)
        bound[i] = fabs(x[i]);
    if (w->kind == RNN_FP_STEP)
        for (size_t j = 0; j < n; j++) { /* column j of J_F^{-1}, weighted by r_j */
            const double rj = DBL_EPSILON * fabs(w->s[j]);
            if (rj == 0)
                continue;
            memset(bb, 0, n * sizeof(double));
            bb[j] = 1.0;
            if (SUNLinSolSolve(w->LS, w->A, w->x, w->b, 0.0) != SUNLS_SUCCESS)
                return INFINITY;
            for (size_t i = 0; i < n; i++)
                bound[i] += fabs(x[i]) * rj;
        }
    double e = max_abs(n, bound);
    return isfinite(e) ? e : INFINITY;
}

/* Plain Newton steps from w->s (with F(w->s) in w->F and its norm *res), each kept only if it
 * lowers the residual. */
static int polish(kin_ws *w, int iters, double *res)
{
    const size_t n = w->n;
    int kept = 0;
    for (int k = 0; k < iters && *res > 0; k++) {
        if (!isfinite(newton_correction(w)))
            break;
        const double *p = rnn_sun_data(w->x);
        for (size_t i = 0; i < n; i++)
            w->s_try[i] = w->s[i] + p[i];
        if (eval_F(w->cell, w->kind, w->u, w->t, w->s_try, w->F_try) != RNN_OK)
            break;
        double r = max_abs(n, w->F_try);
        if (!(r < *res))
            break;
        memcpy(w->s, w->s_try, n * sizeof(double));
        memcpy(w->F, w->F_try, n * sizeof(double));
        *res = r;
        kept++;
    }
    return kept;
}

static const char *flag_hint(int flag)
{
    switch (flag) {
    case KIN_LINESEARCH_NONCONV:
        return " (the line search stalled: a local minimum of ||F|| or a poor start)";
    case KIN_MAXITER_REACHED:
        return " (raise max_iters, or the start is far from any root)";
    case KIN_MXNEWT_5X_EXCEEDED:
        return " (five maximal Newton steps in a row: the iterates diverge)";
    case KIN_LINESEARCH_BCFAIL:
        return " (the line search could not satisfy the beta condition)";
    case KIN_LSETUP_FAIL:
    case KIN_LSOLVE_FAIL:
        return " (the Jacobian is singular or not finite there)";
    case KIN_SYSFUNC_FAIL:
    case KIN_FIRST_SYSFUNC_ERR:
    case KIN_REPTD_SYSFUNC_ERR:
        return " (the cell's function failed or was not finite)";
    default:
        return "";
    }
}

/* One start: KINSol from s0, polish, verdict. The root or last iterate ends in out. */
static int solve_one(kin_ws *w, const double *s0, const rnn_fixedpoint_opts *o, const char *which,
                     double *out, rnn_fixedpoint_info *info, char *msg, size_t len)
{
    const size_t n = w->n;
    rnn_fixedpoint_info in = {NAN, NAN, NAN, NAN, 0, 0, 0, 0};
    w->err[0] = '\0';
    w->cell_rc = RNN_OK;
    rnn_sun_from_array(n, s0, w->uu);
    int flag = KINSol(w->mem, w->uu, KIN_LINESEARCH, w->ones, w->ones);
    in.flag = flag;
    KINGetNumNonlinSolvIters(w->mem, &in.iters);
    KINGetNumFuncEvals(w->mem, &in.fevals);
    KINGetFuncNorm(w->mem, &in.kinsol_fnorm);
    rnn_sun_to_array(n, w->uu, w->s);
    int rc = RNN_OK;
    if (flag >= 0) {
        rc = eval_F(w->cell, w->kind, w->u, w->t, w->s, w->F);
        if (rc == RNN_OK) {
            in.residual = max_abs(n, w->F);
            in.polish_steps = polish(w, o->polish_iters, &in.residual);
            in.error_bound = error_bound(w, &in.correction);
        }
    }
    memcpy(out, w->s, n * sizeof(double));
    if (info)
        *info = in;
    if (flag < 0) {
        char *name = KINGetReturnFlagName(flag);
        snprintf(msg, len, "KINSol failed for %s (%s, %s): %s%s%s%s; ||F||_inf = %.3g after %ld "
                 "iterations%s%s", w->cell->type->name, kind_long(w->kind), which,
                 name ? name : "unknown flag", flag_hint(flag), w->err[0] ? " — " : "", w->err,
                 in.kinsol_fnorm, in.iters, w->cell_rc ? "; cell: " : "",
                 w->cell_rc ? rnn_strerror(w->cell_rc) : "");
        free(name);
        return RNN_ESOLVER;
    }
    if (rc != RNN_OK) {
        snprintf(msg, len, "%s (%s, %s): F at KINSOL's answer failed: %s", w->cell->type->name,
                 kind_long(w->kind), which, rnn_strerror(rc));
        return RNN_ESOLVER;
    }
    if (flag == KIN_STEP_LT_STPTOL && !(in.residual <= o->accept_tol)) {
        char *name = KINGetReturnFlagName(flag);
        snprintf(msg, len, "KINSol stalled for %s (%s, %s): %s with ||F||_inf = %.3g > %.3g "
                 "after %ld iterations (steps below scsteptol away from a root)",
                 w->cell->type->name, kind_long(w->kind), which, name ? name : "?", in.residual,
                 o->accept_tol, in.iters);
        free(name);
        return RNN_ESOLVER;
    }
    const double scale = fmax(1.0, max_abs(n, w->s));
    if (!(in.error_bound <= o->root_tol * scale)) {
        snprintf(msg, len, "%s (%s, %s): KINSOL stopped at ||F||_inf = %.3g, but the distance "
                 "to a root is only bounded by %.3g > %.3g (Newton correction %.3g): not a "
                 "located root (F is flat there, e.g. a saturated gate, or J_F is nearly "
                 "singular)", w->cell->type->name, kind_long(w->kind), which, in.residual,
                 in.error_bound, o->root_tol * scale, in.correction);
        return RNN_ESOLVER;
    }
    if (!isfinite(in.residual)) {
        snprintf(msg, len, "%s (%s, %s): the residual at KINSOL's answer is not finite",
                 w->cell->type->name, kind_long(w->kind), which);
        return RNN_ESOLVER;
    }
    return RNN_OK;
}

/* A continuation start: s0 solved with the input 0, then the root followed to u* in
 * track_steps equal steps of the input. The iterations are summed. */
static int track_one(kin_ws *w, const double *s0, const rnn_fixedpoint_opts *o,
                     const double *ustar, const char *which, double *out,
                     rnn_fixedpoint_info *info, char *msg, size_t len)
{
    const size_t d = w->cell->d;
    int K = o->track_steps, rc = RNN_OK;
    if (max_abs(d, ustar) == 0)
        K = 0; /* u* = 0: the first solve is the last */
    long iters = 0, fevals = 0;
    const double *from = s0;
    w->u = w->u_track;
    for (int j = 0; j <= K && rc == RNN_OK; j++) {
        const double lam = K ? (double)j / (double)K : 1.0; /* 1.0 * u* is u* exactly */
        for (size_t i = 0; i < d; i++)
            w->u_track[i] = lam * ustar[i];
        char step[160];
        snprintf(step, sizeof step, "%s, continued from u = 0: input step %d of %d", which, j, K);
        rc = solve_one(w, from, o, step, out, info, msg, len);
        iters += info->iters;
        fevals += info->fevals;
        from = out; /* solve_one reads its start before it writes out */
    }
    w->u = ustar;
    info->iters = iters;
    info->fevals = fevals;
    return rc;
}

static int check_args(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u, double t,
                      const rnn_fixedpoint_opts *o, char *msg, size_t len)
{
    if (!c || !u || !o || (kind != RNN_FP_ODE && kind != RNN_FP_STEP)) {
        snprintf(msg, len, "fixedpoint: a cell, an input u*, options and a kind (ode or step) "
                 "are required");
        return RNN_EINVAL;
    }
    if (!(o->fnormtol > 0) || !(o->scsteptol > 0) || o->max_iters < 1 || o->polish_iters < 0 ||
        !(o->accept_tol >= 0) || !(o->max_step >= 0) || !(o->root_tol > 0) ||
        !(o->dedup_tol > 0) || !(o->start_scale > 0) || !isfinite(o->start_scale) ||
        o->track_steps < 0 || o->path_starts < 0 || !(o->path_radius > 0) ||
        !isfinite(o->path_radius) || o->path_max_steps < 1) {
        snprintf(msg, len, "fixedpoint: bad options for %s (need fnormtol > 0, scsteptol > 0, "
                 "max_iters >= 1, polish_iters >= 0, accept_tol >= 0, max_step >= 0, root_tol > 0, "
                 "dedup_tol > 0, "
                 "start_scale > 0 finite, track_steps >= 0, path_starts >= 0, path_radius > 0 "
                 "finite, path_max_steps >= 1)", c->type->name);
        return RNN_EINVAL;
    }
    if (!isfinite(t) || !rnn_all_finite(c->d, u)) {
        snprintf(msg, len, "fixedpoint: the frozen input u* (d = %zu) and time t* of %s must be "
                 "finite", c->d, c->type->name);
        return RNN_EINVAL;
    }
    const rnn_cell_type *ty = c->type;
    int have = kind == RNN_FP_ODE ? ty->ode_rhs && ty->ode_jacobian
                                  : ty->step && ty->step_jacobian;
    if (!have) {
        snprintf(msg, len, "fixedpoint: %s has no %s", ty->name,
                 kind == RNN_FP_ODE ? "ODE right-hand side with its Jacobian"
                                    : "step with its Jacobian");
        return RNN_EUNSUPPORTED;
    }
    return RNN_OK;
}

int rnn_fixedpoint_solve(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u,
                         double t, const double *s0, const rnn_fixedpoint_opts *o, double *s,
                         rnn_fixedpoint_info *info, char *msg, size_t len)
{
    int rc = check_args(c, kind, u, t, o, msg, len);
    if (rc != RNN_OK)
        return rc;
    if (!s0 || !s) {
        snprintf(msg, len, "fixedpoint: a starting guess and an output state are required");
        return RNN_EINVAL;
    }
    if (!rnn_all_finite(c->n_state, s0)) {
        snprintf(msg, len, "fixedpoint: the starting guess for %s is not finite", c->type->name);
        return RNN_EINVAL;
    }
    kin_ws w;
    if ((rc = ws_init(&w, c, kind, u, t, o, msg, len)) != RNN_OK)
        return rc;
    rc = solve_one(&w, s0, o, "given start", s, info, msg, len);
    ws_free(&w);
    return rc;
}

/* Merges a converged start into the set: a known root (within dedup_tol) keeps the better of
 * the two; a new one is appended while there is room. */
static void merge(rnn_fixedpoint_set *r, const double *s, const rnn_fixedpoint_info *info,
                  double tol)
{
    const size_t n = r->n;
    for (size_t k = 0; k < r->count; k++) {
        double *q = r->s + k * n, d = 0;
        for (size_t i = 0; i < n; i++)
            d = fmax(d, fabs(s[i] - q[i]));
        if (d <= tol * fmax(1.0, max_abs(n, q))) {
            r->hits[k]++;
            if (info->residual < r->info[k].residual) {
                memcpy(q, s, n * sizeof(double));
                r->info[k] = *info;
            }
            return;
        }
    }
    if (r->count == r->cap) {
        r->dropped++;
        return;
    }
    memcpy(r->s + r->count * n, s, n * sizeof(double));
    r->info[r->count] = *info;
    r->hits[r->count] = 1;
    r->count++;
}

/* A start's outcome: merged into the roots, or counted as failed with its message kept. */
static void tally(rnn_fixedpoint_set *roots, int rc, const double *s,
                  const rnn_fixedpoint_info *info, const char *err, double dedup_tol)
{
    if (rc == RNN_OK) {
        roots->converged++;
        merge(roots, s, info, dedup_tol);
    } else {
        roots->failed++;
        snprintf(roots->failure, sizeof roots->failure, "%s", err);
    }
}

int rnn_fixedpoint_find(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u,
                        double t, size_t n_starts, const rnn_fixedpoint_opts *o,
                        rnn_fixedpoint_set *roots, char *msg, size_t len)
{
    int rc = check_args(c, kind, u, t, o, msg, len);
    if (rc != RNN_OK)
        return rc;
    if (!roots || roots->n != c->n_state || n_starts == 0) {
        snprintf(msg, len, "fixedpoint: need n_starts >= 1 and a root set of state size %zu for "
                 "%s", c->n_state, c->type->name);
        return RNN_EINVAL;
    }
    roots->count = roots->starts = roots->converged = roots->failed = roots->dropped = 0;
    roots->failure[0] = '\0';
    const size_t n = c->n_state;
    double *buf = malloc(2 * n * sizeof(double));
    gsl_rng *g = rnn_rng_alloc(o->seed, "fixedpoint:start", 0);
    if (!buf || !g) {
        free(buf);
        gsl_rng_free(g);
        snprintf(msg, len, "fixedpoint: out of memory for %s", c->type->name);
        return RNN_ENOMEM;
    }
    double *s0 = buf, *s = buf + n;
    kin_ws w;
    if ((rc = ws_init(&w, c, kind, u, t, o, msg, len)) != RNN_OK) {
        free(buf);
        gsl_rng_free(g);
        return rc;
    }
    for (size_t k = 0; k < n_starts; k++) {
        char which[64], err[sizeof roots->failure];
        const int track = o->track_steps > 0 && k % 2 == 1;
        snprintf(which, sizeof which, "start %zu of %zu", k + 1, n_starts);
        rnn_fill_gaussian(g, track ? 0.1 * o->start_scale : o->start_scale, n, s0);
        rnn_fixedpoint_info info;
        roots->starts++;
        rc = track ? track_one(&w, s0, o, u, which, s, &info, err, sizeof err)
                   : solve_one(&w, s0, o, which, s, &info, err, sizeof err);
        tally(roots, rc, s, &info, err, o->dedup_tol);
    }
    /* homotopy-path starts from far away (fixedpoint_path.c): after the others, so that the
     * stream of the direct and continuation starts does not depend on them */
    for (int k = 0; k < o->path_starts; k++) {
        char which[96], err[sizeof roots->failure];
        snprintf(which, sizeof which, "homotopy start %d of %d", k + 1, o->path_starts);
        rnn_fill_gaussian(g, o->path_radius * o->start_scale, n, s0);
        rnn_fixedpoint_info info;
        long steps = 0;
        roots->starts++;
        rc = rnn_fixedpoint_path(c, kind, u, t, s0, o->path_max_steps, s, &steps, err, sizeof err);
        if (rc == RNN_OK) {
            memcpy(s0, s, n * sizeof(double));
            snprintf(which, sizeof which, "homotopy start %d of %d, Newton after %ld path steps",
                     k + 1, o->path_starts, steps);
            rc = solve_one(&w, s0, o, which, s, &info, err, sizeof err);
        }
        tally(roots, rc, s, &info, err, o->dedup_tol);
    }
    ws_free(&w);
    free(buf);
    gsl_rng_free(g);
    if (roots->count == 0) {
        snprintf(msg, len, "fixedpoint: no %s of %s found from %zu starts; last failure: %s",
                 kind_long(kind), c->type->name, n_starts, roots->failure);
        return RNN_ESOLVER;
    }
    return RNN_OK;
}
