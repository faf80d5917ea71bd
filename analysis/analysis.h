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
} rnn_converge_opts;

typedef struct {
    size_t levels;
    double dt[RNN_CONVERGE_MAX_LEVELS], err[RNN_CONVERGE_MAX_LEVELS];
    double local_order[RNN_CONVERGE_MAX_LEVELS]; /* log2(E_k / E_{k+1}) */
    size_t fit_first, fit_last;                  /* the asymptotic range used by the fit */
    double order, order_stderr;
    double ref_rtol, ref_error;                  /* relative error estimate of the reference */
    int ref_ok;                                  /* ref_error <= min E / ref_margin */
    rnn_cvode_stats ref_stats;
} rnn_converge_result;

void rnn_converge_opts_default(rnn_converge_opts *o); /* t_end 4, n0 40, 7 levels, 1e-10 .. 1e-13 */

/* E(dt) = max_n ||s_n - s(t_n)||_inf / max_n ||s(t_n)||_inf over the levels, with the cell's
 * step size set to each dt (restored after), and the fitted order over the asymptotic
 * range. The reference s(t) comes from CVODE (BDF, dense analytic Jacobian). */
int rnn_converge(rnn_cell *c, const rnn_input *in, const double *s0,
                 const rnn_converge_opts *o, rnn_converge_result *r, char *msg, size_t len);

/* ---- fits (stats.c) ------------------------------------------------------------------------- */

/* Least squares y = a + b x: slope b, its standard error (from the residual scatter), a. */
int rnn_fit_line(size_t n, const double *x, const double *y, double *slope, double *slope_se,
                 double *intercept);

/* ---- energy (energy.c) ---------------------------------------------------------------------- */

/* coRNN energy E = gamma ||y||^2 + ||z||^2 of a state s = (y, z) in R^{2m}. */
double rnn_cornn_energy(size_t m, double gamma, const double *s);
/* The IMEX identity's right-hand side for one step s_prev -> s_next with input u:
 * -||z_n - z_{n-1}||^2 + 2 dt sigma(a_n).z_n + dt (gamma dt - 2 eps) ||z_n||^2. */
double rnn_cornn_energy_identity_rhs(const rnn_cell *c, const double *s_prev, const double *u,
                                     const double *s_next);
/* ||sigma(a_n)||^2 for the step from s_prev (the forcing of the per-step bound). */
double rnn_cornn_forcing_sq(const rnn_cell *c, const double *s_prev, const double *u);

#endif
