/*
 * analysis.h — measurements on cells: finite-difference derivatives, BPTT gradients,
 * convergence orders against the CVODE reference, coRNN energies, and fits.
 */
#ifndef ODERNN_ANALYSIS_H
#define ODERNN_ANALYSIS_H

#include <stddef.h>
#include "cell.h"
#include "solvers.h"

/* ---- finite differences (derivatives.c) --------------------------------------------------- */

/* Central differences with step h_j = cbrt(DBL_EPSILON) max(1, |x_j|): truncation error
 * O(h^2) and rounding error O(eps/h) balance there, about 1e-10 relative. */
double rnn_fd_step_size(double x);
/* J[n x n] of the step (which = 0) or of the ODE right-hand side (which = 1). work holds
 * 3 n doubles (pass it in loops); with NULL the function allocates its own. */
int rnn_fd_jacobian(const rnn_cell *c, int which, double t, const double *s, const double *u,
                    double *J, double *work);
/* The derivative of a scalar function of one coordinate x[j] by Ridders' extrapolation of
 * central differences (a shrinking step and a Neville tableau, stopping when the error
 * estimate grows): accurate even where the derivative is tiny against the function value,
 * which defeats a single central difference. eval(x, ctx, &f) returns an rnn_status. */
typedef int (*rnn_scalar_fn)(double *x, void *ctx, double *f);
int rnn_fd_ridders(rnn_scalar_fn eval, void *ctx, double *x, size_t j, double h0,
                   double *deriv, double *err_est);
/* max |A - B| / max(max |B|, floor), the error measure of the jac.* and vjp.* checks. */
double rnn_max_rel_diff(size_t n, const double *A, const double *B, double floor);

/* ---- BPTT (derivatives.c) ------------------------------------------------------------------- */

/* L = 1/2 ||s_N - target||^2 after N steps from s0 (state buffer S: (N + 1) n doubles). */
int rnn_bptt_loss(const rnn_cell *c, const rnn_input *in, const double *s0, size_t N,
                  const double *target, double *S, double *L);
/* The same L, with gs0 = dL/ds0 and gtheta = dL/dtheta (overwritten) by the reverse sweep. */
int rnn_bptt_gradient(const rnn_cell *c, const rnn_input *in, const double *s0, size_t N,
                      const double *target, double *S, double *L, double *gs0, double *gtheta);

/* ---- convergence (convergence.c) ------------------------------------------------------------ */

#define RNN_CONVERGE_MAX_LEVELS 16

typedef struct {
    double t_end;       /* horizon [0, t_end] */
    size_t n0;          /* steps at the coarsest level: dt_k = t_end / (n0 2^k) */
    size_t levels;      /* K + 1 levels, k = 0..K */
    double ref_rtol;    /* first reference tolerance (tightened if needed) */
    double min_ref_rtol;/* the tightest tolerance to try */
    double ref_margin;  /* the reference must be this many times more accurate: 1000 */
    rnn_cvode_method ref_method; /* CVODE's method: BDF (default) or Adams */
    int ref_rk8pd;      /* 1: the reference is GSL rk8pd at fixed steps instead of CVODE (for
                         * orders >= 3, whose fits need errors below CVODE's floor) */
    int trim;           /* 1: finest levels whose error is below ref_margin x the reference's
                         * error are left out (they measure the reference, not the cell) */
} rnn_converge_opts;

typedef struct {
    size_t levels;                               /* the levels used (after trimming) */
    size_t levels_run;                           /* the levels computed: dt, err hold them all */
    double dt[RNN_CONVERGE_MAX_LEVELS], err[RNN_CONVERGE_MAX_LEVELS];
    double local_order[RNN_CONVERGE_MAX_LEVELS]; /* log2(E_k / E_{k+1}) */
    size_t fit_first, fit_last;                  /* the asymptotic range used by the fit */
    double order, order_stderr;
    double ref_rtol, ref_error;                  /* relative error estimate of the reference */
    size_t ref_substeps;                         /* rk8pd: steps per output interval (else 0) */
    int ref_ok;                                  /* ref_error <= min E / ref_margin */
    rnn_cvode_stats ref_stats;
} rnn_converge_result;

void rnn_converge_opts_default(rnn_converge_opts *o); /* t_end 4, n0 40, 7 levels, 1e-10 .. 1e-13 */
/* The defaults for an integrator of order p: for p <= 2 the defaults (CVODE reference); for
 * p >= 3 dt_0 = 2 and 11 levels against the rk8pd reference, trimmed where the error reaches
 * the reference's (docs/theory/odernn-family.md §1); a cell with h > 1 past states (history)
 * starts with n0 >= 4 h. */
void rnn_converge_opts_for_order(rnn_converge_opts *o, int p, size_t history);

/* E(dt) = max_n ||s_n - s(t_n)||_inf / max_n ||s(t_n)||_inf over the levels, with the cell's
 * step size set to each dt (restored after), and the fitted order over the asymptotic
 * range. The reference s(t) comes from CVODE (BDF, dense analytic Jacobian). */
int rnn_converge(rnn_cell *c, const rnn_input *in, const double *s0,
                 const rnn_converge_opts *o, rnn_converge_result *r, char *msg, size_t len);

/* ---- fits (stats.c) ------------------------------------------------------------------------- */

/* Least squares y = a + b x: slope b, its standard error (from the residual scatter), a. */
int rnn_fit_line(size_t n, const double *x, const double *y, double *slope, double *slope_se,
                 double *intercept);

/* The order of a convergence study with levels dt[k] (decreasing) and errors err[k]: local
 * orders (levels - 1 of them, the last entry NAN) and the least-squares slope of log err
 * against log dt over the asymptotic range, the finest levels whose local orders have settled
 * (at least the three finest; first_used is the coarsest level used). */
int rnn_fit_order(size_t levels, const double *dt, const double *err, double *local_order,
                  size_t *first_used, double *order, double *order_se);

/* ---- energy (energy.c) ---------------------------------------------------------------------- */

/* coRNN energy E = gamma ||y||^2 + ||z||^2 of a state s = (y, z) in R^{2m}. */
double rnn_cornn_energy(size_t m, double gamma, const double *s);
/* The IMEX identity's right-hand side for one step s_prev -> s_next with input u:
 * -||z_n - z_{n-1}||^2 + 2 dt sigma(a_n).z_n + dt (gamma dt - 2 eps) ||z_n||^2. */
double rnn_cornn_energy_identity_rhs(const rnn_cell *c, const double *s_prev, const double *u,
                                     const double *s_next);
/* ||sigma(a_n)||^2 for the step from s_prev (the forcing of the per-step bound). */
double rnn_cornn_forcing_sq(const rnn_cell *c, const double *s_prev, const double *u);

/* ---- spectra (spectrum.c, LAPACKE) --------------------------------------------------------- */

/* A workspace for the spectra of n x n matrices, sized once (LAPACK workspace queries), so
 * that spectra along a trajectory allocate nothing per step. Not shared between threads. */
typedef struct rnn_eig_ws rnn_eig_ws;
rnn_eig_ws *rnn_eig_ws_alloc(size_t n);
void rnn_eig_ws_free(rnn_eig_ws *w);

/* Eigenvalues re + i im of a general matrix (dgeev, no vectors), sorted by decreasing real
 * part (ties: decreasing imaginary part). A is not modified. */
int rnn_spectrum_eigvals(rnn_eig_ws *w, const double *A, double *re, double *im);
/* Eigenvalues of a symmetric matrix (dsyev; the upper triangle is read), ascending. */
int rnn_spectrum_symeig(rnn_eig_ws *w, const double *A, double *lam);
/* Singular values (dgesdd, no vectors), descending. */
int rnn_spectrum_svals(rnn_eig_ws *w, const double *A, double *sv);
/* log |det A| by LU (dgetrf); -INFINITY for a singular A. */
int rnn_spectrum_logdet(rnn_eig_ws *w, const double *A, double *logabsdet);
/* max_i |lambda_i| and max_i Re lambda_i of a general matrix. */
int rnn_spectrum_radius(rnn_eig_ws *w, const double *A, double *radius, double *max_re);

/* The stability function of a Butcher tableau with lower-triangular A (explicit and
 * diagonally implicit methods): R(z) = 1 + z b^T (I - z A)^{-1} 1, by forward substitution.
 * The stability region is {z : |R(z)| <= 1}. */
void rnn_tableau_stability(const rnn_tableau *tab, double zre, double zim, double *Rre,
                           double *Rim);
double rnn_tableau_stability_abs(const rnn_tableau *tab, double zre, double zim);

/* ---- Lyapunov spectra (lyapunov.c) --------------------------------------------------------- */

typedef struct {
    size_t k;          /* number of exponents, 1..n (0 means all) */
    size_t transient;  /* steps run before measuring (Q and the state settle) */
    size_t steps;      /* steps measured */
    size_t reorth;     /* re-orthonormalise (QR) every reorth steps; 1 = every step */
    size_t blocks;     /* time blocks for finite-time exponents and the confidence interval */
    int with_det;      /* also the mean of log|det ds_n/ds_{n-1}| (LU per step; sum rule) */
} rnn_lyap_opts;

void rnn_lyap_opts_default(rnn_lyap_opts *o); /* all, 1000 + 10000 steps, QR every step, 10 blocks */

typedef struct {
    size_t n, k, blocks;
    double dt;            /* the cell's step: exponents per unit time are exponents / dt */
    double *exponents;    /* k, per step, in QR order (descending up to finite-time noise) */
    double *ci_lo, *ci_hi;/* k: 95% interval of the mean over time blocks (Student t) */
    double *block;        /* blocks x k: the finite-time exponents of each block */
    double sum;           /* sum of the exponents */
    double mean_log_det;  /* mean log|det J_n| over the measured steps (NAN unless with_det) */
    double kaplan_yorke;  /* j + (sum_{i<=j} l_i) / |l_{j+1}| (NAN when k = n does not suffice) */
    double *final_state;  /* n: the state after transient + steps */
} rnn_lyap_result;

rnn_lyap_result *rnn_lyap_result_alloc(size_t n, size_t k, size_t blocks);
void rnn_lyap_result_free(rnn_lyap_result *r);

/* The QR (Benettin / Shimada-Nagashima) method on the step Jacobian along the trajectory from
 * s0 at t = 0 driven by in: Q_{n} R_{n} = J_n Q_{n-1}, exponents = mean log |diag R|. The
 * result r must come from rnn_lyap_result_alloc(n, k, blocks). */
int rnn_lyap_spectrum(const rnn_cell *c, const rnn_input *in, const double *s0,
                      const rnn_lyap_opts *o, rnn_lyap_result *r, char *msg, size_t len);

/* The largest exponent from two trajectories d apart, renormalised to d = d0 max(1, |s|_2)
 * every step (Benettin's two-trajectory method; relative to the state so that a growing state
 * does not round the separation away); the interval is over time blocks as above. */
int rnn_lyap_two_trajectory(const rnn_cell *c, const rnn_input *in, const double *s0,
                            const rnn_lyap_opts *o, double d0, double *lambda, double *ci_lo,
                            double *ci_hi, char *msg, size_t len);

/* The continuous-time spectrum of an ODE: CVODE on s' = f(s, t), Y' = J(s, t) Y with
 * Y re-orthonormalised (QR) every interval; exponents per unit time over [t_transient,
 * t_transient + t_measure]. r from rnn_lyap_result_alloc(n, k, blocks); r->dt = interval. */
typedef struct {
    size_t k, blocks;
    double t_transient, t_measure, interval;
    rnn_cvode_opts cvode;
} rnn_lyap_ode_opts;
int rnn_lyap_ode_spectrum(const rnn_ode *ode, const double *s0, const rnn_lyap_ode_opts *o,
                          rnn_lyap_result *r, char *msg, size_t len);

/* Kaplan-Yorke dimension of a spectrum of k exponents, sorted internally (NAN if the partial
 * sums stay >= 0 through all k). */
double rnn_kaplan_yorke(size_t k, const double *l);
/* Mean and 95% Student-t half-width of n samples with stride. */
void rnn_mean_ci95(size_t n, const double *x, size_t stride, double *mean, double *half);

/* ---- gradient growth (gradient.c) ---------------------------------------------------------- */

/* Norms too small or large for a double (the tanh cell over 10^4 steps reaches 1e-4000) are
 * carried as natural logarithms: the products are renormalised and the scale accumulated. */

/* Forward tangents: M_T = J_T ... J_1 (M_0 = I) along the trajectory from s0, and
 * log ||M_T||_2 at the requested T = lags[i] (increasing, >= 1). S may be NULL or hold
 * (lags[n_lags-1] + 1) n doubles for the trajectory. */
int rnn_grad_tangent(const rnn_cell *c, const rnn_input *in, const double *s0,
                     size_t n_lags, const size_t *lags, double *log_norm, char *msg, size_t len);
/* The whole product d s_T / d s_0 = e^{log_scale} M (M n x n, row-major, renormalised), and
 * the state s_T (may be NULL). */
int rnn_grad_product(const rnn_cell *c, const rnn_input *in, const double *s0, size_t T,
                     double *M, double *log_scale, double *s_T, char *msg, size_t len);
/* Reverse (adjoint) sweep over a stored trajectory S ((T + 1) n doubles, from rnn_cell_run
 * at t0 = 0): G_k = d s_T / d s_k from G_T = I by G_{k-1} = G_k J_k; log ||G_k||_2 at the
 * lags T - k = lags[i] (increasing, <= T). */
int rnn_grad_adjoint(const rnn_cell *c, const rnn_input *in, const double *S, size_t T,
                     size_t n_lags, const size_t *lags, double *log_norm, char *msg, size_t len);
/* The contribution of step k to the parameter gradient of L_n = 1/2 ||s_n||^2 (the loss at
 * step n = T): ||(dL_n/ds_n)(ds_n/ds_k)(d^+ s_k/dtheta)||_2 for k = 1..T, into contrib[k-1]
 * as a natural logarithm (d^+: the explicit dependence of step k on theta) [CO] Prop. 3.3. */
int rnn_grad_step_contributions(const rnn_cell *c, const rnn_input *in, const double *S,
                                size_t T, double *log_contrib, char *msg, size_t len);
/* Log-spaced lags 1..T (always including 1 and T), strictly increasing; returns the count
 * (<= max). */
size_t rnn_log_lags(size_t T, size_t per_decade, size_t max, size_t *lags);

/* ---- fixed-point classification (fixedpoint_class.c) --------------------------------------- */

/* The linear stability of a root found by rnn_fixedpoint_find (solvers.h), from the spectrum of
 * the Jacobian there. Each eigenvalue gets a growth rate: Re lambda for the ODE (df/ds, per
 * unit time), log |mu| for the step (dPhi/ds, per step). The largest rate is the predicted
 * growth rate of a generic small perturbation. With a margin tol >= 0 (same units):
 *   stable    largest rate < -tol                    (every direction decays)
 *   unstable  largest rate >  tol, none < -tol        (no direction decays)
 *   saddle    largest rate >  tol, some < -tol
 *   marginal  largest rate within tol of 0: the linearisation does not settle the sign, so
 *             callers exclude these points from sign comparisons. */
typedef enum { RNN_FP_STABLE, RNN_FP_UNSTABLE, RNN_FP_SADDLE, RNN_FP_MARGINAL } rnn_fp_class;

typedef struct {
    rnn_fp_class cls;
    double rate;                       /* the largest rate (-INFINITY if dPhi/ds = 0) */
    double radius, max_re;             /* spectral radius and max Re of the Jacobian used */
    size_t n_grow, n_decay, n_neutral; /* rates > tol, < -tol, within tol */
} rnn_fp_classification;

const char *rnn_fp_class_name(rnn_fp_class k); /* "stable", "unstable", "saddle", "marginal" */

/* Classifies s for the cell with input u at time t: the Jacobian df/ds (RNN_FP_ODE) or
 * dPhi/ds (RNN_FP_STEP) at s, its eigenvalues by w (rnn_eig_ws_alloc(n_state)). work holds
 * n^2 + 2 n doubles (NULL: allocated here). Does not check that s is a root. */
int rnn_fixedpoint_classify(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u,
                            double t, const double *s, double tol, rnn_eig_ws *w, double *work,
                            rnn_fp_classification *out);
/* The same from eigenvalues already computed (n of them): rates Re lambda (is_map = 0) or
 * log |mu| (is_map = 1). */
void rnn_fp_classify_spectrum(size_t n, const double *re, const double *im, int is_map,
                              double tol, rnn_fp_classification *out);

/* ---- stability maps over two hyperparameters (region.c) ------------------------------------ */

/* `odernn region`: a metric on an n_x x n_y grid of two hyperparameters. The library parses
 * the axes and evaluates ONE grid point (a cell whose hyperparameters are already set); the
 * grid loop, one cell per point and the output live in cli/cmd_region.c.
 *
 * Values: +INFINITY when the trajectory (or a Jacobian along it) turns non-finite at that
 * point — a blow-up is a result, not an error; -INFINITY (ftle-max, grad-growth) when a step
 * Jacobian annihilates the tangent exactly; NAN where the metric is undefined (energy-ratio
 * when gamma dt >= 2 eps). Errors: RNN_EINVAL (arguments), RNN_EUNSUPPORTED (the metric does
 * not apply to the cell; msg lists those that do), RNN_ENOMEM, RNN_ESOLVER (LAPACK failed on
 * finite data). */

#define RNN_REGION_MAX_POINTS 100000 /* per axis */

/* "NAME=A:B:N": N >= 2 points from A to B, A != B, both finite (A > B: descending). */
typedef struct {
    char name[RNN_NAME_LEN];
    double a, b;
    size_t n;
} rnn_region_axis;

/* Parses an axis; on error msg says what is wrong and what is allowed (RNN_EINVAL). Does not
 * check that NAME is a hyperparameter of any cell (the caller does, with the cell at hand). */
int rnn_region_axis_parse(const char *spec, rnn_region_axis *ax, char *msg, size_t len);
/* x_i = ((N-1-i) A + i B) / (N-1): exactly A at i = 0 and B at i = N - 1. */
double rnn_region_axis_value(const rnn_region_axis *ax, size_t i);

typedef enum {
    RNN_REGION_RK_MARGIN,    /* max_n max_i |R(dt lambda_i(df/ds at s_n))| - 1; RK cells */
    RNN_REGION_FTLE_MAX,     /* largest Lyapunov exponent per unit time (QR, k = 1) */
    RNN_REGION_GRAD_GROWTH,  /* log ||ds_T/ds_0||_2 / (T dt) */
    RNN_REGION_ENERGY_RATIO  /* max_n E_n / (E_0 + m t_n / (2 eps - gamma dt)); coRNN cells */
} rnn_region_metric_id;
#define RNN_REGION_N_METRICS 4

const char *rnn_region_metric_name(rnn_region_metric_id m); /* "rk-margin", ... */
const char *rnn_region_metric_doc(rnn_region_metric_id m);  /* one line, for preambles */
int rnn_region_metric_parse(const char *name);              /* -1 if unknown */
const char *rnn_region_metric_names(void);                  /* "rk-margin, ftle-max, ..." */
/* RNN_OK if the metric applies to the cell; else RNN_EUNSUPPORTED and why, with the list of
 * the metrics that do apply. */
int rnn_region_metric_check(const rnn_cell *c, rnn_region_metric_id m, char *msg, size_t len);

/* One grid point: the metric along the trajectory of `steps` steps (>= 1; ftle-max: >= 2) from
 * s0 at t = 0 driven by in, with the cell's own dt. See region.c for each metric's definition
 * and cost: rk-margin computes the ODE Jacobian's eigenvalues (dgeev) at EVERY step. */
int rnn_region_metric(const rnn_cell *c, const rnn_input *in, const double *s0,
                      rnn_region_metric_id metric, size_t steps, double *value, char *msg,
                      size_t len);

#endif
