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

/* The second reference (rk8pd.c): GSL's Prince–Dormand 8(9) at a fixed step, sub equal steps per
 * output interval (the first interval runs from t0 to times[0]); S is nt x n. For smooth,
 * non-stiff ODEs it reaches rounding where CVODE cannot; compare sub and 2 sub for its error. */
int rnn_rk8pd_solve(const rnn_ode *ode, double t0, const double *s0, size_t nt,
                    const double *times, size_t sub, double *S, char *msg, size_t len);

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

/* The tables by name: euler, midpoint, heun, ralston, kutta3, rk4, and every explicit table
 * of SUNDIALS ARKODE (e.g. "heun_euler_2_1_2", "dormand_prince_7_4_5", "verner_8_5_6");
 * NULL if unknown. The first six come first in index order. */
const rnn_tableau *rnn_tableau_find(const char *name);
size_t rnn_tableau_count(void);
const rnn_tableau *rnn_tableau_get(size_t i);
/* 1 if A is strictly lower triangular. */
int rnn_tableau_is_explicit(const rnn_tableau *t);
/* The order the coefficients satisfy, by ARKODE's order-condition check (up to 6). */
int rnn_tableau_check_order(const rnn_tableau *t, int *order);

/* ---- binary128 (tableau_quad.c, quad_ode.c): order studies below double rounding ----------- */

#define RNN_QUAD_MAX_STAGES 13
#define RNN_QUAD_MAX_ORDER 8

/* A tableau in binary128. exact = 1: rational coefficients that meet all the order conditions
 * to 1e-24 (source: the published fractions of the ARK5(4)8L tables, or the fractions p/q,
 * q <= 2^26, that ARKODE's doubles were rounded from); exact = 0: ARKODE's doubles as they are.
 * residual: the largest |Phi(t) - 1/gamma(t)| over trees of order <= p, and |c - A 1|. */
typedef struct {
    const char *name;
    size_t s;
    int order;
    rnn_quad A[RNN_QUAD_MAX_STAGES * RNN_QUAD_MAX_STAGES], b[RNN_QUAD_MAX_STAGES],
        c[RNN_QUAD_MAX_STAGES];
    int exact;
    double residual;
    const char *source; /* where the coefficients came from, for messages */
} rnn_tableau_quad;

int rnn_tableau_to_quad(const rnn_tableau *t, rnn_tableau_quad *q);
/* res[k], k = 1..pmax (pmax <= 8): max |Phi(t) - 1/gamma(t)| over the rooted trees t of order
 * k (res[0] = 0); c_res = max_i |c_i - sum_j A_ij|. A is s x s row-major. */
int rnn_order_residuals_quad(size_t s, const rnn_quad *A, const rnn_quad *b, const rnn_quad *c,
                             int pmax, double *res, double *c_res);
/* The number of rooted trees of the given order (1..8). */
int rnn_rooted_tree_count(int order);
/* The fraction p/q with the smallest q <= 2^26 among x's continued-fraction convergents that
 * rounds to x; RNN_EFORMAT if there is none. */
int rnn_rational_from_double(double x, long long *num, unsigned long long *den);

/* A right-hand side in binary128; returns 0 or an rnn_status. */
typedef int (*rnn_quad_rhs)(rnn_quad t, const rnn_quad *s, rnn_quad *f, void *ctx);

/* nsteps steps of the explicit tableau Q with step dt from s0 at t0: S is (nsteps + 1) x n,
 * S[0] = s0. work: (Q->s + 1) n. RNN_ENONFINITE if a state turns non-finite. */
int rnn_quad_rk_run(const rnn_tableau_quad *Q, size_t n, rnn_quad_rhs f, void *ctx, rnn_quad t0,
                    rnn_quad dt, size_t nsteps, const rnn_quad *s0, rnn_quad *S, rnn_quad *work);
/* The Gragg-Bulirsch-Stoer extrapolation method at a fixed macro step H: each step by the
 * modified midpoint rule with n_j = 2j substeps, j = 1..k, extrapolated to h -> 0 (order 2k).
 * S is (nsteps + 1) x n; work: (k + 3) n. */
int rnn_quad_gbs_run(size_t n, rnn_quad_rhs f, void *ctx, rnn_quad t0, rnn_quad H, size_t nsteps,
                     int k, const rnn_quad *s0, rnn_quad *S, rnn_quad *work);

/* ---- cell families built from any cell's ODE (family.c, rk.c, multistep.c) --------------------
 * Names: a registered cell ("tanh", "qunn:16", ...), "rk:<tableau>:<cell>" (THEORY.md §5.1) or
 * "ms:<method>:<cell>" (§5.2). A family type is built once, on first use, and kept for the life
 * of the program; it is safe to look names up from several threads. On failure NULL and msg
 * says what is allowed. */
const rnn_cell_type *rnn_cell_type_find(const char *name, char *msg, size_t len);
const rnn_cell_type *rnn_rk_type(const char *tableau, const char *cell, char *msg, size_t len);
const rnn_cell_type *rnn_ms_type(const char *method, const char *cell, char *msg, size_t len);

/* Linear multistep recursions s_n = sum_j alpha_j s_{n-j} + dt^q sum_j beta_j f_{n-j}
 * for a q-th order ODE (multistep.c). */
typedef struct {
    const char *name, *title;
    size_t h; /* past states read */
    int q;    /* order of the ODE */
    double alpha[4], beta[4];
} rnn_multistep_method;

size_t rnn_multistep_count(void);
const rnn_multistep_method *rnn_multistep_get(size_t i);
const rnn_multistep_method *rnn_multistep_find(const char *name);
/* The consistency order, from the Taylor conditions on alpha and beta. */
int rnn_multistep_order(const rnn_multistep_method *M);
/* C (h x h complex, interleaved re/im, row-major): the companion matrix of the recursion on
 * s^(q) = lambda s with z = dt^q lambda; its spectral radius is the growth per step. */
void rnn_multistep_companion(const rnn_multistep_method *M, double z_re, double z_im, double *C);

/* ---- fixed points (fixedpoint.c, KINSOL) ---- */

/* Roots of F(s) = 0 for a cell whose input is frozen at a constant u* (and time t*):
 *   RNN_FP_ODE:   F(s) = f(s, u*, t*)           equilibria of the ODE;       dF/ds = df/ds
 *   RNN_FP_STEP:  F(s) = Phi(s, u*, t*) - s     fixed points of the step;    dF/ds = dPhi/ds - I
 * KINSOL's Newton method with line search and the dense analytic Jacobian (the cell's
 * ode_jacobian or step_jacobian), then a few plain Newton steps to polish. */
typedef enum { RNN_FP_ODE, RNN_FP_STEP } rnn_fixedpoint_kind;

typedef struct {
    double fnormtol;    /* KINSOL stops when ||F||_inf <= fnormtol (F unscaled): 1e-13 */
    double scsteptol;   /* ... or when max_i |ds_i| / (|s_i| + 1) <= scsteptol: 1e-15 */
    long max_iters;     /* Newton iterations per start: 200 */
    int polish_iters;   /* plain Newton steps after KINSOL, each kept only if it lowers
                           ||F||_inf: 3 */
    double max_step;    /* the longest Newton step, ||ds||_2 (KINSetMaxNewtonStep); 0: KINSOL's
                           default 1000 ||s0||_2. KINSOL fails (KIN_MXNEWT_5X_EXCEEDED) after
                           five steps of this length in a row: 0 */
    double accept_tol;  /* KIN_STEP_LT_STPTOL (steps too small to go on) counts as a root only
                           when the polished ||F||_inf <= accept_tol: 1e-10; above it KINSOL
                           has stalled away from a root */
    double root_tol;    /* a converged start counts as a root only when its error bound (info)
                           is <= root_tol max(1, ||s||_inf): 1e-8. A residual test alone accepts
                           points where F is tiny only because the cell saturates (a gate
                           sig(a) ~ 1e-25 makes F ~ 1e-25 far from any root; for the step,
                           Phi(s) - s is then exactly 0 in floating point) */
    double dedup_tol;   /* two roots are one when max_i |a_i - b_i| <= dedup_tol
                           max(1, ||a||_inf): 1e-8 */
    double start_scale; /* direct starts: s0 ~ N(0, start_scale^2) per entry: 1 */
    int track_steps;    /* K: with K > 0, every second start (k = 1, 3, ...) is a continuation
                           start: s0 ~ N(0, (start_scale/10)^2) is solved with the input 0, and
                           the root followed to u* through u = (j/K) u*, j = 1..K, each solve
                           starting from the last root. Where F saturates (antisym: F = tanh(a),
                           whose Jacobian vanishes with the preactivation a), Newton-Armijo
                           converges only from unsaturated starts; near s = 0 with u = 0 the
                           preactivation is the bias alone, and each input step moves it by
                           u* / K. 0: direct starts only. Default 8 */
    int path_starts;    /* homotopy starts after the others: a ~ N(0, (path_radius start_scale)^2)
                           per entry, the path {F(s) = c F(a)} followed from c = 1 to c = 0
                           (fixedpoint_path.c), then Newton. Where damped Newton stalls at a
                           local minimum of ||F|| (a fold of that path) this goes through.
                           Default 4 */
    double path_radius; /* far: the curve is straight out there and steps grow with |s|: 1000 */
    long path_max_steps; /* continuation steps per path: 500 */
    unsigned long seed; /* starting guesses: one stream rnn_rng_alloc(seed, "fixedpoint:start",
                           0), start k its k-th block of n draws: 0 */
} rnn_fixedpoint_opts;

void rnn_fixedpoint_opts_default(rnn_fixedpoint_opts *o);

typedef struct {
    double residual;     /* ||F(s)||_inf at the returned s (after polishing), recomputed */
    double kinsol_fnorm; /* ||F||_inf where KINSOL stopped */
    double correction;   /* ||J_F(s)^{-1} F(s)||_inf at the returned s (INFINITY: J_F singular) */
    double error_bound;  /* the estimated distance to the exact root: max_i |J_F^{-1} F|_i +
                            (|J_F^{-1}| r)_i, r the rounding floor of F: r_i = eps |s_i| for
                            the step (Phi(s) - s cannot resolve less than an ulp of s), 0 for
                            the ODE (f is computed directly; its rounding is the cell's) */
    long iters;          /* KINSOL's Newton iterations (summed over a continuation) */
    long fevals;         /* KINSOL's evaluations of F (likewise) */
    int polish_steps;    /* polishing steps kept */
    int flag;            /* KINSOL's return flag (KIN_SUCCESS, KIN_INITIAL_GUESS_OK, ...) */
} rnn_fixedpoint_info;

/* Distinct roots from several starts, in the order found. */
typedef struct {
    size_t n, cap;              /* state size; most roots kept */
    size_t count;               /* distinct roots found */
    double *s;                  /* cap x n */
    rnn_fixedpoint_info *info;  /* cap: of the start that gave the smallest residual */
    size_t *hits;               /* cap: starts that converged to each root */
    size_t starts, converged, failed, dropped; /* dropped: distinct roots beyond cap */
    char failure[320];          /* the last failed start's message ("" if none failed) */
} rnn_fixedpoint_set;

rnn_fixedpoint_set *rnn_fixedpoint_set_alloc(size_t n, size_t cap);
void rnn_fixedpoint_set_free(rnn_fixedpoint_set *r);

const char *rnn_fixedpoint_kind_name(rnn_fixedpoint_kind k); /* "ode" or "step" */

/* F(s) into F (n doubles, required) and ||F||_inf into *norm (may be NULL). */
int rnn_fixedpoint_residual(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u,
                            double t, const double *s, double *F, double *norm);

/* J_F(s) (row-major n x n). */
int rnn_fixedpoint_jacobian(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u,
                            double t, const double *s, double *J);

/* From a, the path {(s, c) : F(s) = c F(a)} followed by pseudo-arclength continuation from
 * c = 1 until c changes sign (fixedpoint_path.c); s_out is the point there (a starting guess
 * for Newton, not yet a root). At most max_steps steps (counted in *steps). RNN_ESOLVER with
 * the reason in msg when the path folds back outwards, hits a singular point or runs out. */
int rnn_fixedpoint_path(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u, double t,
                        const double *a, long max_steps, double *s_out, long *steps, char *msg,
                        size_t len);

/* One Newton solve from s0; the root (or, on failure, KINSOL's last iterate) goes to s.
 * Failures: RNN_ESOLVER with msg naming KINSOL's flag, the cell and the start; RNN_EINVAL
 * for bad arguments; RNN_EUNSUPPORTED when the cell lacks the function or its Jacobian.
 * info may be NULL. */
int rnn_fixedpoint_solve(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u,
                         double t, const double *s0, const rnn_fixedpoint_opts *o, double *s,
                         rnn_fixedpoint_info *info, char *msg, size_t len);

/* n_starts seeded solves with one KINSOL instance (direct and, with track_steps > 0,
 * continuation starts alternating); converged starts are merged into distinct roots (dedup_tol). A start that fails is counted in roots->failed and its message kept in
 * roots->failure; the call returns RNN_OK when at least one root was found, RNN_ESOLVER
 * (msg: the last failure) when none was. roots from rnn_fixedpoint_set_alloc(c->n_state, .)
 * and is reset first. */
int rnn_fixedpoint_find(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u,
                        double t, size_t n_starts, const rnn_fixedpoint_opts *o,
                        rnn_fixedpoint_set *roots, char *msg, size_t len);

/* ---- the continuous adjoint (adjoint.c, CVODES) ---- */

/* The gradient of a terminal loss with respect to the initial state by the continuous adjoint
 * (CVODES; Cao, Li, Petzold, Serban, SIAM J. Sci. Comput. 24 (2003)):
 *
 *   s' = f(s, t), s(t0) = s0;  L = 1/2 ||s(T) - target||^2;
 *   lambda' = -J(s(t), t)^T lambda, lambda(T) = s(T) - target;  dL/ds0 = lambda(t0).
 *
 * Forward and backward are BDF with Newton and dense solvers; the problem's analytic Jacobian
 * (ode.jac, required: RNN_EUNSUPPORTED without it) serves the forward Newton iteration, the
 * adjoint right-hand side and its Jacobian -J^T. The problem's knots are respected: the
 * forward and the adjoint solves run piecewise between them (adjoint.c explains how).
 * State gradient only: dL/dtheta needs df/dtheta, which neither rnn_ode nor the cell provide. */
typedef struct {
    double rtol, atol;      /* forward problem */
    double rtol_b, atol_b;  /* backward (adjoint) problem */
    long max_steps;         /* per segment between knots, forward and backward each */
    long checkpoint_steps;  /* forward steps between checkpoints (CVodeAdjInit) */
} rnn_adjoint_opts;

typedef struct {
    long fwd_steps;         /* including recomputations of segments (knots) */
    long bwd_steps;
    long checkpoints;
    size_t segments;        /* 1 + the number of knots in (t0, T) */
} rnn_adjoint_stats;

void rnn_adjoint_opts_default(rnn_adjoint_opts *o); /* rtol 1e-8, atol 1e-10 both; 100000; 100 */

/* Writes dL/ds0 to grad (n doubles) and, when not NULL, s(T) to sT and L to *L. On failure,
 * msg says which call failed, in which phase (forward or backward), CVODES' flag and message,
 * the problem and the time; returns RNN_ESOLVER (RNN_EINVAL for bad arguments,
 * RNN_EUNSUPPORTED without ode.jac, RNN_ENONFINITE for non-finite states). stats may be NULL. */
int rnn_adjoint_terminal_gradient(const rnn_ode *ode, double t0, double T, const double *s0,
                                  const double *target, const rnn_adjoint_opts *o, double *sT,
                                  double *L, double *grad, rnn_adjoint_stats *stats, char *msg,
                                  size_t len);

#endif
