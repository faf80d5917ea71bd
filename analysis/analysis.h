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
    /* rnn_converge_quad only (quad = 1): the study ran in binary128 against Gragg-Bulirsch-
     * Stoer with gbs_k columns (order 2 gbs_k); quad_exact and quad_residual as in
     * rnn_tableau_quad; coef_floor: the error the coefficients' residual adds (ref_ok and the
     * trimming use max(ref_error, coef_floor)); double_vs_quad: the largest relative distance
     * between the cell's own (double) run and the binary128 run at the same dt, over the levels
     * run. */
    int quad, quad_exact, gbs_k;
    double quad_residual, coef_floor, double_vs_quad;
    const char *quad_source;
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

/* The same study in binary128 (convergence_quad.c) for an rk: cell whose ODE has ode_rhs_quad:
 * the tableau (rnn_tableau_to_quad) applied to the ODE in quad, against a Gragg-Bulirsch-Stoer
 * reference on the finest grid (its error: k - 1 against k columns). The grid, the trimming and
 * the fit are rnn_converge's. RNN_EUNSUPPORTED when the cell is not such a cell. */
int rnn_converge_quad(rnn_cell *c, const rnn_input *in, const double *s0,
                      const rnn_converge_opts *o, rnn_converge_result *r, char *msg, size_t len);
/* 1 if rnn_converge_quad can study this type. */
int rnn_converge_quad_supported(const rnn_cell_type *type);
/* 1 if it should: order >= 5 (no settled levels above double rounding, odernn-family.md §5)
 * and a tableau whose exact coefficients are recovered (rnn_tableau_quad.exact). */
int rnn_converge_quad_preferred(const rnn_cell_type *type);
/* The asymptotic fit of a study's levels (rnn_fit_order), into r->order, fit_first, fit_last. */
void rnn_converge_fit(rnn_converge_result *r);

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
/* ||M||_2 of a sequence of slowly changing n x n row-major matrices (topsv.c): warm-started
 * subspace iteration with a Kato-Temple certificate, dgesdd when it cannot certify. The value
 * is within RNN_TOPSV_RTOL of sigma_1^2 (relative), like an SVD's. trans = 1 works on M^T
 * (same norm; for products whose left singular vectors settle). Not shared between threads. */
#define RNN_TOPSV_RTOL 1e-12
typedef struct rnn_topsv rnn_topsv;
rnn_topsv *rnn_topsv_alloc(size_t n);
void rnn_topsv_free(rnn_topsv *p);
int rnn_topsv_value(rnn_topsv *p, const double *M, int trans, double *sigma);
/* how many values were certified by the iteration, and how many the SVD gave */
void rnn_topsv_counts(const rnn_topsv *p, size_t *certified, size_t *fallback);
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

/* ---- kernel limit [KL] (ntk_data.c, ntk.c, ntk_limit.c, ntk_fit.c) --------------------------
 * THEORY.md §7 and docs/theory/kernel-limit.md. A width-N recurrent network with one scalar
 * memory per unit, trained online on an ergodic data stream, and its neural tangent kernel. */

/* Data: a uniformly ergodic Markov chain X_k in R^d and a target Y_k that needs memory. */
typedef enum { RNN_NTK_CHAIN, RNN_NTK_AR1 } rnn_ntk_source;
typedef enum { RNN_NTK_TARGET_SIN, RNN_NTK_TARGET_SUM } rnn_ntk_target;
#define RNN_NTK_TARGET_LAG 20 /* the sum target reads X_k .. X_{k-20} */

typedef struct {
    rnn_ntk_source source;
    rnn_ntk_target target;
    size_t d;          /* input size (>= 1) */
    size_t states;     /* chain: number of states S (2..4096) */
    double gap;        /* chain: spectral gap g in (0, 1]: P = (1 - g) I + g 1 pi^T */
    double ar;         /* AR(1): a in [0, 1): X_{k+1} = a X_k + (1 - a) U_k, U_k ~ U[-spread, spread]^d */
    double spread;     /* chain states uniform in [-spread, spread]^d (seeded); AR(1) noise range */
    size_t burn_in;    /* AR(1): steps from X = 0 before a path counts as stationary */
} rnn_ntk_data_opts;

/* Chain, 8 states in [-1.5, 1.5], gap 0.5, d = 1, sin target, AR(1) a = 0.5, burn-in 200. */
void rnn_ntk_data_opts_default(rnn_ntk_data_opts *o);

typedef struct {
    rnn_ntk_data_opts o;
    double *states;    /* S x d: the chain's fixed points (the law: from law_seed) */
    double *pi;        /* S: the stationary law (seeded, bounded away from 0) */
    double *past;      /* (RNN_NTK_TARGET_LAG + 1) x d: X_k, X_{k-1}, ... (ring, newest first) */
    size_t head, filled;
    size_t cur;        /* chain: the current state */
    gsl_rng *rng;      /* the path (from path_seed) */
} rnn_ntk_data;

/* The law (states, pi) comes from law_seed, the sample path from path_seed: every width and
 * replicate of a sweep sees the same law and its own path. The path starts stationary (the
 * chain from X_0 ~ pi; AR(1) after burn_in steps). NULL on bad options or no memory. */
rnn_ntk_data *rnn_ntk_data_alloc(const rnn_ntk_data_opts *o, unsigned long law_seed,
                                 unsigned long path_seed);
void rnn_ntk_data_free(rnn_ntk_data *D);
/* Restarts the path from the stationary law with a new seed (no allocation). */
void rnn_ntk_data_restart(rnn_ntk_data *D, unsigned long path_seed);
/* One step: X_k (d) and its target Y_k. */
void rnn_ntk_data_next(rnn_ntk_data *D, double *x, double *y);
/* A fresh stationary history of L >= RNN_NTK_TARGET_LAG + 1 inputs X (L x d, oldest first) and
 * the target at its last input: the path is restarted from the stationary law first. */
void rnn_ntk_data_history(rnn_ntk_data *D, size_t L, double *X, double *y);
/* The chain's transition matrix (S x S, row-major: P[i][j] = P(X_{k+1} = j | X_k = i)). */
int rnn_ntk_chain_matrix(const rnn_ntk_data *D, double *P);

/* The network. Unit i has theta^i = (C^i, W^i in R^d, B^i) and one memory H^i:
 *   (a) diagonal    H^i_{k+1} = tanh(W^i.X_k + B^i H^i_k)
 *   (b) mean-field  H^i_{k+1} = tanh(W^i.X_k + B^i M_k),  M_k = (1/N) sum_j H^j_k
 *   g_k = N^-beta sum_i C^i H^i_{k+1};  online SGD on 1/2 (Y_k - g_k)^2 with rate
 *   alpha N^-(2 - 2 beta); gradients carried forward (RTRL), O(N d) per step for both. */
typedef enum { RNN_NTK_DIAGONAL, RNN_NTK_MEANFIELD } rnn_ntk_reading;
typedef enum { RNN_NTK_C_RADEMACHER, RNN_NTK_C_GAUSS, RNN_NTK_C_SKEW } rnn_ntk_c_law;

typedef struct {
    size_t N, d;
    rnn_ntk_reading reading;
    double beta, alpha;
    double b_max;        /* B^i ~ U[-b_max, b_max]; b_max < 1 makes the memory a contraction */
    double w_sd;         /* W^i ~ N(0, w_sd^2 I); default 1/sqrt(d) */
    rnn_ntk_c_law c_law; /* C^i: +-1 (default), N(0, 1), or Exp(1) - 1 (zero mean, E C^3 = 2) */
} rnn_ntk_opts;

void rnn_ntk_opts_default(rnn_ntk_opts *o, size_t N, size_t d); /* (a), beta 0.75, alpha 1, b_max 0.5 */
const char *rnn_ntk_reading_name(rnn_ntk_reading r); /* "a", "b" */

/* One memory pass's state: H (N), the sensitivities S (N x (d + 1): dH^i/d(W^i, B^i) for (a),
 * dM/d(W^j, B^j) for (b)) and M (the mean of H). */
typedef struct {
    double *H, *S;
    double M;
} rnn_ntk_state;

typedef struct {
    rnn_ntk_opts o;
    size_t p;            /* parameters per unit: d + 2 */
    double *theta;       /* N p: blocks C (N) | W (N x d) | B (N) */
    double *theta0;      /* the initial parameters (for drift) */
    double *grad;        /* N p, same layout: dg/dtheta of the last step or probe */
    rnn_ntk_state stream, probe, aux; /* aux: the second memory of rnn_ntk_memory_rate */
    double *work;        /* N: tanh' of the current step */
    size_t steps;        /* SGD steps taken */
} rnn_ntk_net;

/* Parameters from the initial law, seeded; stream memory H = 0. NULL on bad options/no memory. */
rnn_ntk_net *rnn_ntk_net_alloc(const rnn_ntk_opts *o, unsigned long seed);
void rnn_ntk_net_free(rnn_ntk_net *net);
/* Forward one input through a state (H_k -> H_{k+1}) with frozen parameters; with grad
 * non-NULL also dg/dtheta (N p) of g = N^-beta sum_i C^i H^i_{k+1}. Returns g. */
double rnn_ntk_advance(rnn_ntk_net *net, rnn_ntk_state *st, const double *x, double *grad);
/* One online SGD step on the stream: g_k, then theta += lr (y - g_k) dg/dtheta. Returns g_k. */
double rnn_ntk_sgd_step(rnn_ntk_net *net, const double *x, double y);
/* The output on a history X (L x d, oldest first) from H = 0 with the current parameters; with
 * grad non-NULL also dg/dtheta (N p). Uses the probe state; the stream is untouched. */
double rnn_ntk_output(rnn_ntk_net *net, size_t L, const double *X, double *grad);
/* The empirical NTK on P histories: K[a][b] = N^(2 beta - 1) grad g(z_a).grad g(z_b) (P x P,
 * full), the outputs g (P, may be NULL). G is a P x N p workspace (the gradients, by row).
 * The Gram matrix is one dsyrk. */
int rnn_ntk_gram(rnn_ntk_net *net, size_t P, size_t L, const double *X, double *G, double *K,
                 double *g);
/* mean_i |theta^i - theta^i_0|_2 (the per-unit drift). */
double rnn_ntk_param_drift(const rnn_ntk_net *net);
/* Memory forgetting: the same inputs (steps x d) through two memories, from H = 0 and from
 * H = +-1 (seeded signs), with the current parameters. rate = (|dH_K|_inf / |dH_1|_inf)^(1/(K-1))
 * (geometric mean per step after the first), worst = the largest one-step ratio |dH_{k+1}|_inf /
 * |dH_k|_inf from k = 0, bound = sup|tanh'| max_i |B^i|; only differences >= 1e-8 count (below,
 * rounding). Uses the probe and aux memories. */
int rnn_ntk_memory_rate(rnn_ntk_net *net, size_t steps, const double *X, unsigned long seed,
                        double *rate, double *worst, double *bound);

/* The limit kernel K(z, z') = E[phi(z).phi(z')] under the initial law, phi = (h, C dh/dW,
 * C dh/dB) = N^beta grad_{theta^i} g, on n histories X (n x L x d), by a tensor Gauss rule over
 * (W, B) (d = 1; E C^2 = 1 for every C law). For (b) the memory reads the limit mean field
 * m_{k+1} = E tanh(W x_k + B m_k) from the same rule. nw (a multiple of 8) nodes in W (composite Gauss-Legendre of the
 * density, 8 per panel), nb in B (Gauss-Legendre). K is n x n. RNN_EINVAL for d != 1. */
int rnn_ntk_limit_kernel_quad(const rnn_ntk_opts *o, size_t nw, size_t nb, size_t n, size_t L,
                              const double *X, double *K);
/* The limit dynamics dg/dt = alpha (1/M) sum_m K(z, z_m) (y_m - g(z_m)), g_0 = 0, on P probes
 * and M samples (K is (P + M) x (P + M), probes first), solved exactly by the eigenvectors of
 * K_SS (dsyevd): gP (n_t x P) at the times t (and gS, n_t x M, if not NULL). */
int rnn_ntk_limit_ode(size_t P, size_t M, const double *K, const double *y, double alpha,
                      size_t n_t, const double *t, double *gP, double *gS);
/* The same by classical RK4 with `steps` equal steps over [0, t[n_t - 1]] (t must lie on the
 * step grid, else the nearest step), for the cross-check. */
int rnn_ntk_limit_ode_rk4(size_t P, size_t M, const double *K, const double *y, double alpha,
                          size_t n_t, const double *t, size_t steps, double *gP, double *gS);

/* value ~ exp(intercept) N^slope: least squares of log(mean over replicates) against log N,
 * with a 95% percentile bootstrap interval (B resamples of the replicates within each N,
 * generator seeded with boot_seed). x[g] and values of group g at v[g * stride + r],
 * r < counts[g]. Groups with a non-positive mean are an error (RNN_EINVAL). */
int rnn_fit_loglog_bootstrap(size_t groups, const double *x, const size_t *counts,
                             const double *v, size_t stride, size_t B, unsigned long boot_seed,
                             double *slope, double *intercept, double *ci_lo, double *ci_hi);

#endif
