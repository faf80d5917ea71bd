/*
 * experiments.h — the check registry and `odernn verify`.
 *
 * A check is a registry entry: its id (from THEORY.md), kind (paper / derived / reading /
 * observation), the claim in one sentence, the source, its tier, and a function that
 * measures a value and compares it with a threshold. A per-cell check runs once for every
 * cell of the cell registry, with id "<id>.<cell>". Observations report a value and no
 * verdict.
 */
#ifndef ODERNN_EXPERIMENTS_H
#define ODERNN_EXPERIMENTS_H

#include <stddef.h>
#include <stdio.h>
#include "cell.h"
#include "solvers.h"
#include "analysis.h" /* rnn_converge_result, for rnn_order_outcome */

typedef enum { RNN_KIND_PAPER, RNN_KIND_DERIVED, RNN_KIND_READING, RNN_KIND_OBSERVATION } rnn_check_kind;
typedef enum { RNN_TIER_QUICK, RNN_TIER_STANDARD, RNN_TIER_FULL } rnn_tier;
/* How measured is compared with threshold. */
typedef enum { RNN_CMP_LE, RNN_CMP_GE } rnn_check_cmp;

typedef struct {
    rnn_tier tier;
    unsigned long seed;
    const char *instance; /* the instance name of a check with an `instance` list, else NULL */
} rnn_check_ctx;

typedef struct {
    double measured, threshold;
    rnn_check_cmp cmp;
    int pass;            /* set by the check: for most checks measured cmp threshold, but a
                            check may require more (e.g. cvode.exact's slope) */
    int status;          /* RNN_OK, or why the check could not be carried out (a failure) */
    char detail[768];    /* one line: what was measured, on what */
} rnn_check_result;

typedef struct {
    const char *id;
    rnn_check_kind kind;
    const char *claim;
    const char *source;
    rnn_tier tier;       /* the lowest tier that runs it */
    int per_cell;        /* 1: run for every registered cell (or every name of `instance`) */
    int (*run)(const rnn_check_ctx *ctx, const rnn_cell_type *cell, rnn_check_result *r);
    /* Optional: the i-th instance name (NULL past the end); the check runs once per name with
     * id "<id>.<name>" and ctx->instance = name; with per_cell the names are cell names
     * (families included) and `cell` is that type. */
    const char *(*instance)(size_t i);
} rnn_check_def;

/* Instance lists (registry.c): every registered cell plus representative rk: and ms: cells;
 * every Butcher tableau; every multistep method. */
const char *rnn_instance_cells_and_families(size_t i);
const char *rnn_instance_tableaux(size_t i);
const char *rnn_instance_multistep(size_t i);

const char *rnn_check_kind_name(rnn_check_kind k);
const char *rnn_tier_name(rnn_tier t);
int rnn_tier_parse(const char *s); /* -1 if unknown */

/* The check registry (registry.c). */
size_t rnn_checks_count(void);
const rnn_check_def *rnn_checks_get(size_t i);

/* The checks, one group per file. */
int rnn_check_jac_step(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_jac_ode(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_vjp(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_order(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_cvode_exact(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_cvode_exact_constant(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_cornn_energy_identity(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_cornn_energy_bound(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_cornn_explicit_vs_imex(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
/* antisym_theorems.c */
int rnn_check_antisym_imaginary(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_antisym_needs_positive_d(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_antisym_diffusion_band(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_antisym_euler_unstable(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_antisym_euler_condition(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_antisym_long_memory(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_antisym_gated_positive(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
/* cornn_gradient.c */
int rnn_check_cornn_ode_energy(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_cornn_gradient_bound(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_cornn_no_step_explosion(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
/* gradient_checks.c */
int rnn_check_grad_tangent_vs_adjoint(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_grad_pascanu(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
/* lyapunov_checks.c */
int rnn_check_lyap_sum_rule(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_lyap_qr_vs_two(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_lyap_discrete_to_ode(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_lyap_classical(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
/* Lorenz-63 (sigma 10, rho 28, beta 8/3) with its Jacobian: the classical fixture. */
rnn_ode rnn_lorenz_ode(void);
/* fixedpoint.c */
int rnn_check_fixedpoint_kinsol(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
/* odernn_stability_gradients.c */
int rnn_check_odernn_stability_gradients(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
/* odernn_extended_b.c */
int rnn_check_unitary_is_midpoint(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_lipschitz_numerical_range(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_fastrnn_is_euler(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
/* odernn_extended_c.c */
int rnn_check_unicornn_volume(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_unicornn_reversible(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
/* odernn_popular.c */
int rnn_check_odernn_lstm_is_euler(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_odernn_gru_is_euler(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
/* qunn_checks.c */
int rnn_check_qunn_params_linear(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_qunn_norm_preserving(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_qunn_universal(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
/* odernn_family.c (THEORY.md §5.1-5.2; instances: tableaux or multistep methods) */
int rnn_check_odernn_stage_order(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_odernn_stability_function(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_odernn_equilibrium_spectrum(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_odernn_memory_order(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_odernn_root_condition(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);

/* The order.* criterion (foundation.c) for any type and expected order p: fitted order within
 * 0.15 of p on the `sines` input with a reference 1000x more accurate than the finest run. */
#define RNN_ORDER_TOL 0.15
typedef struct {
    double deviation;            /* |fitted - p| */
    int pass;                    /* deviation <= RNN_ORDER_TOL and the reference ok */
    char detail[400];            /* the fit, one line */
    rnn_converge_result result;
} rnn_order_outcome;
int rnn_order_study(const rnn_check_ctx *ctx, const rnn_cell_type *type, int p,
                    rnn_order_outcome *out, char *msg, size_t len);
/* odernn_classes.c */
int rnn_check_odernn_class_table(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
/* continuous_adjoint.c */
int rnn_check_continuous_adjoint(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);

/* The closed-form linear test problem of cvode.exact (exact_linear.c), also used by tests. */
typedef struct {
    size_t blocks;                 /* n = 2 blocks */
    double a[8], w[8], nu;         /* decay, rotation per block; forcing frequency */
    double c0[16], v[16], s0[16];  /* constant and cosine forcing, initial state */
} rnn_exact_linear;
void rnn_exact_linear_make(rnn_exact_linear *p, size_t blocks, unsigned long seed);
void rnn_exact_linear_solution(const rnn_exact_linear *p, double t, double *s);
/* As an rnn_ode (rhs and analytic Jacobian) with ctx = p. */
rnn_ode rnn_exact_linear_ode(const rnn_exact_linear *p);

/* ---- helpers shared by the checks (check_util.c) ---------------------------------------------- */

/* A cell of the given type with parameters seeded from the run's seed and a stream name. */
rnn_cell *rnn_check_cell(const rnn_check_ctx *ctx, const rnn_cell_type *type, size_t m,
                         size_t d, const char *stream, unsigned long index);
/* Marks the result as not carried out (a failure), with a reason. */
int rnn_check_error(rnn_check_result *r, int status, const char *fmt, ...);

/* ---- verify (verify.c) ---------------------------------------------------------------------- */

typedef struct {
    rnn_tier tier;
    unsigned long seed;
    const char *only;        /* glob on check ids, or NULL */
    const char *json_path;   /* or NULL */
    const char *report_path; /* or NULL */
    FILE *out;               /* one line per check */
    int progress;            /* 1: progress on stderr */
} rnn_verify_opts;

typedef struct {
    size_t passed, failed, skipped, observations;
} rnn_verify_summary;

/* Runs the selected checks; returns RNN_OK, or an I/O error writing the files (msg). */
int rnn_verify_run(const rnn_verify_opts *o, rnn_verify_summary *sum, char *msg, size_t len);
/* Lists the ids the options select (for --list). */
void rnn_verify_list(const rnn_verify_opts *o, FILE *out);

/* Writes a text file atomically: to path.tmp.PID, then rename. */
int rnn_write_atomic(const char *path, const char *text, char *msg, size_t len);

/* ---- figure data (figure_data.c) -------------------------------------------------------------
 * The experiments that write the data behind the figures ([AS] Fig. 1, gradient norms against
 * T, [CO] Prop. 3.3 step contributions, Lyapunov spectra as dt shrinks, the gated cell's share
 * of unstable Jacobians): tidy CSV with a '#' provenance preamble, written atomically into
 * out_dir (created with its parents if missing). `odernn experiment NAME|all` runs them.
 *
 * run(seed, out_dir, threads, progress, quick, msg, len): seed is the run's seed; threads the
 * OpenMP threads (0: the default; the files are byte-identical for any count); progress 1:
 * progress on stderr; quick 1: reduced sizes (unit tests), 0: the full figure. Returns RNN_OK,
 * RNN_EIO when the folder cannot be created or a file written (msg says which), RNN_EINVAL for
 * a bad folder name, or the status of a numerical failure (msg: which cell, which seed). */
typedef int (*rnn_experiment_fn)(unsigned long seed, const char *out_dir, size_t threads,
                                 int progress, int quick, char *msg, size_t len);

typedef struct {
    const char *name;           /* "as-fig1", "gradnorm", ... */
    const char *title;          /* one line */
    const char *source;         /* paper and figure, proposition or THEORY.md section */
    rnn_experiment_fn run;
    const char *const *files;   /* the files written into out_dir, NULL-terminated */
} rnn_experiment_def;

size_t rnn_experiments_count(void);
const rnn_experiment_def *rnn_experiments_get(size_t i);        /* NULL past the end */
const rnn_experiment_def *rnn_experiments_find(const char *name); /* NULL if unknown */
const char *rnn_experiments_names(void);                         /* "as-fig1, gradnorm, ..." */

/* mkdir -p: creates dir and its missing parents; RNN_EIO (msg says why) when it cannot or
 * when dir exists and is not a folder. */
int rnn_make_dirs(const char *dir, char *msg, size_t len);

/* Discrete against continuous Lyapunov spectra (the approach of lyap.discrete-to-ode): the
 * cell's full spectrum per unit time at dt_k = dt0 2^-k, k < levels, over the physical window
 * [n_transient dt0, (n_transient + n_measure) dt0] from s0 (2^k times as many steps at level
 * k), and the ODE's spectrum by rnn_lyap_ode_spectrum over the same window from the same state.
 * cell_exp[k n + i] (levels x n, descending per level) and ode_exp[i] (n), n = c->n_state;
 * with ode_err non-NULL the ODE is solved again at 100 ode_rtol and *ode_err = max_i of the
 * difference (an estimate of the reference's error). The cell's step size is restored. */
typedef struct {
    double dt0;                   /* the coarsest step */
    size_t levels;                /* 1..20 */
    size_t n_transient, n_measure;/* steps of dt0 before and in the window */
    size_t blocks;                /* time blocks of both spectra */
    double ode_interval;          /* QR interval of the ODE's variational equations */
    double ode_rtol;              /* CVODE rtol (atol = 1e-3 rtol) */
} rnn_lyap_dt_opts;
int rnn_lyap_dt_sweep(rnn_cell *c, const rnn_input *in, const double *s0,
                      const rnn_lyap_dt_opts *o, double *cell_exp, double *ode_exp,
                      double *ode_err, char *msg, size_t len);

/* ---- kernel-limit width sweep (ntk_sweep.c) and its checks (kernel_checks.c) ----------------
 * THEORY.md §7 [KL]; docs/theory/kernel-limit.md. For every (beta, reading, N, seed): the
 * network of analysis/ntk.c at width N, seeded by rnn_seed_derive(seed, "ntk:init:<beta>:<r>:<N>",
 * replicate) (its data path likewise with "ntk:path:..."), measured at initialisation and,
 * with train, along online SGD up to t_end = horizon (horizon N steps). The metrics: */
enum {
    RNN_NTK_M_FLUCTUATION,  /* ||K^N_0 - K||_F / ||K||_F on the probes (K: the quadrature limit) */
    RNN_NTK_M_OUTPUT_INIT,  /* rms over the probes of g^N_0 */
    RNN_NTK_M_PARAM_DRIFT,  /* max over checkpoints of mean_i |theta^i_t - theta^i_0|_2 */
    RNN_NTK_M_KERNEL_DRIFT, /* max over checkpoints of ||K^N_t - K^N_0||_F */
    RNN_NTK_M_LIMIT_DIST,   /* max over checkpoints (and t = 0) and probes of |g^N_t - g_t| */
    RNN_NTK_M_MEMORY,       /* memory forgetting rate (geometric mean per step) */
    RNN_NTK_N_METRICS
};
const char *rnn_ntk_metric_name(int metric); /* "ntk_fluctuation", ... */
/* The exponent of the metric in N that THEORY.md §7 states (limit_distance: the bound
 * -min(beta - 1/2, 1 - beta, 1/2); memory_contraction: 0). */
double rnn_ntk_expected_slope(int metric, double beta);

#define RNN_NTK_MAX_LIST 32
typedef struct {
    double betas[RNN_NTK_MAX_LIST];
    size_t n_betas;
    rnn_ntk_reading readings[2];
    size_t n_readings;
    size_t widths[RNN_NTK_MAX_LIST];
    size_t n_widths;
    size_t seeds;          /* replicates 0..seeds-1 per (beta, reading, N) */
    double horizon;        /* t_end in time units t = k / N */
    size_t checkpoints;    /* measurements at t_end j / checkpoints, j = 1..checkpoints */
    size_t probes, history;/* P probe histories of length L */
    size_t samples;        /* M stationary samples for the limit dynamics */
    size_t quad_w, quad_b; /* quadrature nodes of the limit kernel */
    int train;             /* 0: only the metrics at initialisation (and memory) */
    double alpha, b_max;
    rnn_ntk_c_law c_law;
    rnn_ntk_data_opts data;
    size_t boot;           /* bootstrap resamples */
    unsigned long seed;
    size_t threads;        /* OpenMP threads (0: the default); results do not depend on it */
    int progress;          /* progress on stderr */
    const char *out_dir;   /* NULL: nothing written; else ntk-sweep.csv and ntk-fits.csv */
    const char *command;   /* the command line, for the preamble */
} rnn_ntk_sweep_opts;

/* beta 0.75, reading a, widths 64..4096, 16 seeds, horizon 1, 4 checkpoints, P 16, L 24,
 * M 512, quadrature 96 x 12, train, alpha 1, b_max 0.5, C = +-1, chain data, 1000 resamples. */
void rnn_ntk_sweep_opts_default(rnn_ntk_sweep_opts *o);

typedef struct {
    double beta;
    rnn_ntk_reading reading;
    size_t N, seed;
    double value[RNN_NTK_N_METRICS]; /* NAN where not measured */
    double memory_worst, memory_bound; /* largest one-step ratio and its bound (not in the CSV) */
} rnn_ntk_row;

typedef struct {
    double beta;
    rnn_ntk_reading reading;
    int metric;
    double slope, ci_lo, ci_hi, expected, intercept;
    int ok;                /* 0: too few widths or a non-positive mean (no fit) */
} rnn_ntk_fit;

typedef struct {
    rnn_ntk_row *rows;     /* the requested (beta, reading, N, seed), in that order */
    size_t n_rows;
    rnn_ntk_fit *fits;     /* per (beta, reading, metric) */
    size_t n_fits;
    size_t computed, resumed; /* rows computed now / read back from the CSV */
    double limit_kernel_norm[2]; /* ||K||_F on the probes, per reading */
} rnn_ntk_sweep_result;

/* Runs the sweep (OpenMP over tasks). With out_dir, every finished (beta, reading, N, seed) is
 * appended to ntk-sweep.csv as one write of complete lines and fsynced; on a rerun the complete
 * ones are read back and skipped (a partial last line or an incomplete group is discarded), and
 * at the end the file is rewritten sorted (atomically) and ntk-fits.csv written. A CSV made with
 * other settings is an error (RNN_EINVAL). */
int rnn_ntk_sweep_run(const rnn_ntk_sweep_opts *o, rnn_ntk_sweep_result **out, char *msg,
                      size_t len);
void rnn_ntk_sweep_result_free(rnn_ntk_sweep_result *r);
/* The fit of (beta, reading, metric), or NULL. */
const rnn_ntk_fit *rnn_ntk_sweep_fit(const rnn_ntk_sweep_result *r, double beta,
                                     rnn_ntk_reading reading, int metric);

int rnn_check_kernel_memory_contraction(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_kernel_ntk_fluctuation(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_kernel_output_at_init(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_kernel_parameter_drift(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_kernel_kernel_drift(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_kernel_limit_ode(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);
int rnn_check_kernel_control(const rnn_check_ctx *, const rnn_cell_type *, rnn_check_result *);

#endif
