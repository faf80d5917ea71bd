/*
 * fixedpoint_path.c — a root of F by following a homotopy path from far away (the global
 * Newton method of Branin and Smale), for the starts where damped Newton stalls.
 *
 * For a start a, the solutions of
 *
 *     H(s, c) = F(s) - c F(a) = 0,   (s, c) in R^n x R,
 *
 * form curves; the one through (a, 1) is followed by pseudo-arclength continuation until c
 * changes sign, and the point there (s with c ~ 0, interpolated) is handed to Newton
 * (fixedpoint.c) to be located exactly. Damped Newton follows the same curve as long as c
 * falls monotonically (its direction J^-1 F is the curve's tangent), and stalls where c turns:
 * at a fold, where J_F is singular and ||F|| has a local minimum along the path. The arclength
 * parametrisation goes through folds.
 *
 * Why it (usually) succeeds from a far start. Let F(s) = L s + g(s) with L invertible and g
 * bounded (the ODEs and steps of the leaky cells: tanh, lipschitz, coRNN, ...). Far out,
 * |s| >> |L^-1| |g| (far_enough pushes a start out to that scale), the solutions of
 * F(s) = c F(a) lie near c L^-1 F(a), so every curve that comes from far out has its ends at
 * c -> +inf or c -> -inf. Where the tanh there is saturated (|L^-1 Dg| < 1), each large |c| has
 * one solution: two ends, one of each sign, on one curve, which must cross c = 0 at a root;
 * in general the ends are odd in number on each side (the degree of F is sign det L) and some
 * curve from far crosses c = 0, but a given start may lie on one that turns back. So: the path
 * is followed first in the direction in which c falls; if it runs out to c > C_ESCAPE, from a
 * again the other way; if that runs out too, the start fails and is reported like any other
 * (tests/test_fixedpoint.c: 380 of 384 far starts on tanh and lipschitz cells reach a root,
 * and every setting has one). For bounded F without a linear part (antisym: F = tanh(A s + c))
 * there is no such structure.
 *
 * Continuation (Allgower & Georg, Introduction to Numerical Continuation Methods, SIAM 2003,
 * ch. 2 and 6): y = (s, c); tangent tau from the bordered system [H_y; tau_prev^T] tau = e_N,
 * normalised (the first one oriented so that c decreases); Euler predictor y + h tau; Newton
 * corrector on [H(y); tau^T (y - y_pred)] = 0 with the bordered Jacobian. A corrector that
 * takes more than CORR_MAX iterations or grows, lands farther than 0.3 h from the prediction,
 * or a tangent that turns by more than ~25 degrees, halves h; a step that converges in <= 2
 * iterations doubles it (up to H_MAX_REL max(|a|, |s|): far out the path is nearly straight). Dense LU (LAPACK dgesv) on (n + 1) x (n + 1)
 * column-major matrices allocated once per path.
 *
 * References: F. H. Branin, IBM J. Res. Dev. 16 (1972); S. Smale, J. Math. Econ. 3 (1976)
 * (global Newton); E. L. Allgower & K. Georg, op. cit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>
#include "solvers.h"

#define CORR_MAX 6       /* corrector iterations before the step is halved */
#define CORR_TOL 1e-9    /* corrector converged: ||dy||_inf <= CORR_TOL max(1, ||y||_inf) */
#define H_MIN_REL 1e-9   /* the smallest step, relative to max(1, |a|) */
#define H_MAX_REL 0.25   /* the largest step, relative to max(1, |a|, |s|) */
#define COS_MAX_TURN 0.9 /* the tangent may turn by at most acos(0.9) ~ 25 degrees a step */
#define H_LAND_REL 1e-3  /* the step that crosses c = 0, relative to max(1, |s|) */
#define C_ESCAPE 1e3     /* c above this: the path runs out to the c = +inf end, give up */
#define FAR_FACTOR 10.0  /* a start is far when |a| >= FAR_FACTOR |g| / sigma_min(L) */
#define FAR_ROUNDS 3     /* pushes outwards at most */
#define FAR_MAX 1e12     /* and never beyond this |a| */

typedef struct {
    const rnn_cell *cell;
    rnn_fixedpoint_kind kind;
    const double *u;
    double t;
    size_t n, N;
    double *Fa, *F, *J, *M, *rhs, *y, *yp, *tau, *tau_new, *y_try;
    lapack_int *piv;
} path_ws;

static double norm_inf(size_t n, const double *x)
{
    return fabs(x[cblas_idamax((int)n, x, 1)]);
}

static double norm2(size_t n, const double *x)
{
    return cblas_dnrm2((int)n, x, 1);
}

/* M = [J_F(s), -F(a); b^T] column-major (N x N); H(y) into F when want_H. */
static int bordered(path_ws *w, const double *y, const double *b, int want_H)
{
    const size_t n = w->n, N = w->N;
    int rc = rnn_fixedpoint_jacobian(w->cell, w->kind, w->u, w->t, y, w->J);
    if (rc == RNN_OK && want_H)
        rc = rnn_fixedpoint_residual(w->cell, w->kind, w->u, w->t, y, w->F, NULL);
    if (rc != RNN_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++)
            w->M[i + j * N] = w->J[i * n + j];
        w->M[i + n * N] = -w->Fa[i];
        if (want_H)
            w->F[i] -= y[n] * w->Fa[i];
    }
    for (size_t j = 0; j < N; j++)
        w->M[n + j * N] = b[j];
    return RNN_OK;
}

static int solve(path_ws *w, double *x)
{
    lapack_int N = (lapack_int)w->N;
    return LAPACKE_dgesv_work(LAPACK_COL_MAJOR, N, 1, w->M, N, w->piv, x, N) == 0 ? RNN_OK
                                                                                : RNN_ESOLVER;
}

/* The unit tangent at y, oriented along prev (tau^T prev > 0 by the bordered system). */
static int tangent(path_ws *w, const double *y, const double *prev, double *tau)
{
    int rc = bordered(w, y, prev, 0);
    if (rc != RNN_OK)
        return rc;
    memset(tau, 0, w->N * sizeof(double));
    tau[w->n] = 1.0;
    if ((rc = solve(w, tau)) != RNN_OK)
        return rc;
    const double nt = norm2(w->N, tau);
    if (!(nt > 0) || !isfinite(nt))
        return RNN_ESOLVER;
    for (size_t i = 0; i < w->N; i++)
        tau[i] /= nt;
    return RNN_OK;
}

/* Newton on [H(y); tau^T (y - yp)] = 0 from yp, into y_try. 1 converged, 0 not, < 0 error. */
static int correct(path_ws *w, int *iters)
{
    const size_t n = w->n, N = w->N;
    memcpy(w->y_try, w->yp, N * sizeof(double));
    double last = INFINITY;
    for (int it = 1; it <= CORR_MAX; it++) {
        if (bordered(w, w->y_try, w->tau, 1) != RNN_OK)
            return 0; /* non-finite on the way: a shorter step */
        for (size_t i = 0; i < n; i++)
            w->rhs[i] = -w->F[i];
        double g = 0;
        for (size_t i = 0; i < N; i++)
            g += w->tau[i] * (w->y_try[i] - w->yp[i]);
        w->rhs[n] = -g;
        if (solve(w, w->rhs) != RNN_OK)
            return 0;
        const double d = norm_inf(N, w->rhs);
        if (!isfinite(d) || d > 0.5 * last)
            return 0; /* not contracting: a shorter step */
        for (size_t i = 0; i < N; i++)
            w->y_try[i] += w->rhs[i];
        last = d;
        if (d <= CORR_TOL * fmax(1.0, norm_inf(N, w->y_try))) {
            *iters = it;
            return 1;
        }
    }
    return 0;
}

/* "Far" is relative to the cell: with F = L s + g(s), the curve is near s = c L^-1 F(a) only
 * where |s| >> |L^-1| |g|. Far out J_F(a) ~ L and g(a) = F(a) - J_F(a) a, so a is pushed out
 * along its direction until |a| >= FAR_FACTOR |g(a)| / sigma_min(J_F(a)) (at most FAR_ROUNDS
 * times, up to FAR_MAX): nearly singular L (a slow mode) needs a start much farther out. */
static int far_enough(path_ws *w, double *a)
{
    const size_t n = w->n;
    double *sv = w->M, *Jc = w->M + n; /* scratch: M is free before the path starts */
    for (int round = 0; round < FAR_ROUNDS; round++) {
        int rc = rnn_fixedpoint_jacobian(w->cell, w->kind, w->u, w->t, a, w->J);
        if (rc == RNN_OK)
            rc = rnn_fixedpoint_residual(w->cell, w->kind, w->u, w->t, a, w->F, NULL);
        if (rc != RNN_OK)
            return rc;
        /* g(a) = F(a) - J_F(a) a */
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)n, -1.0, w->J, (int)n, a, 1, 1.0,
                    w->F, 1);
        memcpy(Jc, w->J, n * n * sizeof(double)); /* as J^T column-major: the same sigma */
        lapack_int N = (lapack_int)n;
        if (LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', N, N, Jc, N, sv, NULL, 1, NULL, 1) != 0)
            return RNN_ESOLVER;
        const double gn = norm2(n, w->F);
        if (!(gn > 0))
            return RNN_OK; /* F is affine: every start is far enough */
        const double need = fmin(FAR_FACTOR * gn / sv[n - 1], FAR_MAX); /* sigma = 0: FAR_MAX */
        const double na = norm2(n, a);
        if (!(na > 0) || na >= need)
            return RNN_OK;
        for (size_t i = 0; i < n; i++)
            a[i] *= need / na;
    }
    return RNN_OK;
}

/* Follows the path from (a, 1) with the first tangent oriented by dir (-1: c decreasing).
 * 1: crossed c = 0 (s_out set); 0: ran out to c > C_ESCAPE; -1: failed (*why set). */
static int follow(path_ws *w, const double *a, double dir, long max_steps, double *s_out,
                  long *steps, const char **why)
{
    const size_t n = w->n, N = w->N;
    const double scale = fmax(1.0, norm2(n, a));
    double *prev = w->y_try + N;
    memcpy(w->y, a, n * sizeof(double));
    w->y[n] = 1.0;
    memset(prev, 0, N * sizeof(double));
    prev[n] = dir;
    if (tangent(w, w->y, prev, w->tau) != RNN_OK) {
        *why = "the first tangent is undefined (J_F singular at the start)";
        return -1;
    }
    double h = 0.05 * scale;
    for (;;) {
        if (*steps >= max_steps) {
            *why = "the step budget ran out";
            return -1;
        }
        if (h < H_MIN_REL * scale) {
            *why = "the step fell below its minimum (a singular point or a sharp turn)";
            return -1;
        }
        for (size_t i = 0; i < N; i++)
            w->yp[i] = w->y[i] + h * w->tau[i];
        int iters = 0;
        if (!correct(w, &iters)) {
            h *= 0.5;
            continue;
        }
        /* the corrected point must stay near the prediction, and the tangent there must turn
         * by less than ~25 degrees: larger steps risk jumping to another part of the curve,
         * or across a turn, after which the path would run backwards */
        double dist = 0;
        for (size_t i = 0; i < N; i++)
            dist += (w->y_try[i] - w->yp[i]) * (w->y_try[i] - w->yp[i]);
        if (!(sqrt(dist) <= 0.3 * h)) {
            h *= 0.5;
            continue;
        }
        if (tangent(w, w->y_try, w->tau, w->tau_new) != RNN_OK) {
            h *= 0.5; /* singular at the new point: a shorter step */
            continue;
        }
        double cosang = 0;
        for (size_t i = 0; i < N; i++)
            cosang += w->tau[i] * w->tau_new[i];
        if (!(cosang >= COS_MAX_TURN)) {
            h *= 0.5;
            continue;
        }
        const double c0 = w->y[n], c1 = w->y_try[n];
        if (c1 <= 0 && h > H_LAND_REL * fmax(1.0, norm2(n, w->y))) {
            h *= 0.5; /* land on c = 0 with a short step, so the interpolated point is close */
            continue;
        }
        (*steps)++;
        if (c1 <= 0) { /* crossed c = 0: interpolate s there */
            const double th = c0 / (c0 - c1);
            for (size_t i = 0; i < n; i++)
                s_out[i] = w->y[i] + th * (w->y_try[i] - w->y[i]);
            return 1;
        }
        if (c1 > C_ESCAPE)
            return 0;
        memcpy(w->y, w->y_try, N * sizeof(double));
        memcpy(w->tau, w->tau_new, N * sizeof(double));
        /* steps may grow with the distance from the origin, where the path straightens */
        if (iters <= 2)
            h = fmin(2.0 * h, H_MAX_REL * fmax(scale, norm2(n, w->y)));
    }
}

int rnn_fixedpoint_path(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u, double t,
                        const double *a, long max_steps, double *s_out, long *steps, char *msg,
                        size_t len)
{
    const size_t n = c->n_state, N = n + 1;
    path_ws w = {c, kind, u, t, n, N, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                 NULL};
    double *buf = malloc((3 * n + n * n + N * N + 7 * N) * sizeof(double));
    w.piv = malloc(N * sizeof(lapack_int));
    *steps = 0;
    if (!buf || !w.piv) {
        free(buf);
        free(w.piv);
        snprintf(msg, len, "fixedpoint path: out of memory");
        return RNN_ENOMEM;
    }
    w.Fa = buf;
    w.F = w.Fa + n;
    w.J = w.F + n;
    w.M = w.J + n * n;
    w.rhs = w.M + N * N;
    w.y = w.rhs + N;
    w.yp = w.y + N;
    w.tau = w.yp + N;
    w.tau_new = w.tau + N;
    w.y_try = w.tau_new + N; /* then N for the first tangent's orientation, n for the start */
    const char *why = "";
    int r = -1;
    double *a_far = w.y_try + 2 * N; /* n */
    memcpy(a_far, a, n * sizeof(double));
    int rc = far_enough(&w, a_far);
    a = a_far;
    if (rc == RNN_OK)
        rc = rnn_fixedpoint_residual(c, kind, u, t, a, w.Fa, NULL);
    if (rc != RNN_OK)
        why = "F is not defined at the start";
    else if (!(norm_inf(n, w.Fa) > 0))
        why = "the start is a root already (Newton has it)";
    else {
        /* c decreasing first; if that end of the curve runs out to c = +inf, a lies on the
         * unbounded curve and its other end crosses c = 0: follow it from a the other way */
        r = follow(&w, a, -1.0, max_steps, s_out, steps, &why);
        if (r == 0) {
            r = follow(&w, a, 1.0, max_steps, s_out, steps, &why);
            if (r == 0)
                why = "both directions ran outwards (c grew past C_ESCAPE = 1000)";
        }
    }
    if (r != 1)
        snprintf(msg, len, "homotopy path for %s (%s) from |a| = %.3g: %s after %ld steps, at "
                 "c = %.3g", c->type->name, rnn_fixedpoint_kind_name(kind), norm2(n, a), why,
                 *steps, w.y[n]);
    free(buf);
    free(w.piv);
    return r == 1 ? RNN_OK : RNN_ESOLVER;
}
