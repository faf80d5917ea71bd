/*
 * cell.h — the RNN cell type, its wrappers, input signals and error codes.
 *
 * A cell is a family of discrete maps indexed by a step size, paired with the ODE it
 * discretises (THEORY.md §2):
 *
 *     s_n = Phi_dt(s_{n-1}, u(t_{n-1}), t_{n-1})        (the step)
 *     s'(t) = f(s(t), u(t), t)                          (the ODE)
 *
 * A cell type is a const table of operations (as gsl_odeiv2_step_type is for GSL's
 * steppers), defined static in one file per cell and listed once in registry.c. A cell
 * instance (rnn_cell) holds the sizes, one contiguous parameter buffer with named views
 * (blocks), the hyperparameter values and a workspace allocated once.
 *
 * Conventions: matrices row-major; states of batched calls are nb rows of n_state;
 * every op returns RNN_OK or an rnn_status; no op allocates; one instance is used by one
 * thread at a time (its workspace is shared by its ops).
 */
#ifndef ODERNN_CELL_H
#define ODERNN_CELL_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

/* IEEE binary128 (GCC's __float128, libquadmath): the precision of the order studies whose
 * errors go below double rounding (docs/theory/odernn-family.md §5). */
__extension__ typedef __float128 rnn_quad;

/* ---- error codes -------------------------------------------------------------------- */

typedef enum {
    RNN_OK = 0,
    RNN_EINVAL,       /* bad argument: size, range, NaN, unknown name */
    RNN_ENOMEM,       /* allocation failed */
    RNN_EUNSUPPORTED, /* the cell has no such operation */
    RNN_ENONFINITE,   /* a state or value turned NaN or infinite */
    RNN_ESOLVER,      /* an external solver (CVODE, GSL, LAPACKE) failed */
    RNN_EIO,          /* a file could not be read or written */
    RNN_EFORMAT       /* a file is malformed or does not match */
} rnn_status;

const char *rnn_strerror(int code);

/* True for codes that mean bad input (CLI exit 2) rather than numerical failure (exit 3). */
int rnn_status_is_usage(int code);

/* ---- input signals (THEORY.md §1) ---------------------------------------------------- */

typedef enum { RNN_INPUT_ZERO, RNN_INPUT_SINES, RNN_INPUT_HOLD, RNN_INPUT_LINEAR } rnn_input_kind;

#define RNN_SINES_TERMS 3

/*
 * sines:  u_j(t) = sum_{k<3} a_jk sin(w_jk t + p_jk), seeded.
 * hold:   u(t) = u_n on [t0 + (n-1) h, t0 + n h), n = 1..N (clamped outside).
 * linear: piecewise-linear through u_n at t0 + (n-1) h (clamped outside).
 */
typedef struct {
    rnn_input_kind kind;
    size_t d;
    double *amp, *omega, *phase; /* sines: d * RNN_SINES_TERMS each */
    size_t n;                    /* hold, linear: number of samples */
    double t0, h;                /* hold, linear: first sample time, sample interval */
    double *seq;                 /* hold, linear: n * d values, row-major */
} rnn_input;

rnn_input *rnn_input_alloc_zero(size_t d);
rnn_input *rnn_input_alloc_sines(size_t d, unsigned long seed);
rnn_input *rnn_input_alloc_sequence(rnn_input_kind kind, size_t d, size_t n, double t0,
                                    double h, const double *seq);
/* A seeded standard-Gaussian sequence of n samples, held or interpolated. */
rnn_input *rnn_input_alloc_gaussian(rnn_input_kind kind, size_t d, size_t n, double t0,
                                    double h, unsigned long seed);
void rnn_input_free(rnn_input *in);
void rnn_input_eval(const rnn_input *in, double t, double *u);
/* The same signal evaluated in binary128 (sines by sinq; hold and linear from their samples). */
void rnn_input_eval_quad(const rnn_input *in, rnn_quad t, rnn_quad *u);
/* The first time > t at which u (hold) or u' (linear) jumps; INFINITY if none. */
double rnn_input_next_knot(const rnn_input *in, double t);
/* Parses "sines|hold|linear|zero"; returns -1 if unknown. */
int rnn_input_kind_parse(const char *name);
const char *rnn_input_kind_name(rnn_input_kind kind);

/* ---- the cell type ------------------------------------------------------------------- */

#define RNN_MAX_BLOCKS 16
#define RNN_MAX_HYPERS 8
#define RNN_NAME_LEN 32
#define RNN_CELL_NAME_LEN 96 /* cell names, e.g. rk:dormand_prince_7_4_5:antisym_gated */

typedef struct {
    char name[RNN_NAME_LEN];
    size_t rows, cols, offset; /* a vector is rows x 1 */
} rnn_block;

enum { RNN_HYPER_STEP = 1, RNN_HYPER_INIT = 2 };

typedef struct {
    const char *name;
    double def;
    double lo, hi;           /* the allowed range */
    int lo_open, hi_open;    /* 1: that end is excluded */
    int flags;               /* RNN_HYPER_STEP: the step size; RNN_HYPER_INIT: used by init only */
    const char *doc;
} rnn_hyper_def;

typedef struct rnn_cell rnn_cell;
typedef struct rnn_cell_type rnn_cell_type;

struct rnn_cell_type {
    const char *name;
    const char *summary;     /* one line */
    const char *ode;         /* the ODE, plain text */
    const char *scheme;      /* the discrete step, plain text */
    const char *reference;   /* paper and equation */
    const char *init_doc;    /* the default initialisation and why */
    int order;               /* consistency order of the step as an integrator of the ODE */
    /* Optional: the Butcher tableau (by name, see solvers.h) the step applies to the ODE, with
     * step rnn_cell_dt; NULL when the step is not a Runge-Kutta method (e.g. IMEX coRNN).
     * Linear stability analysis (region --metric rk-margin) maps dt lambda through it. */
    const char *tableau;

    /* The (n, t) class of [OD] as the suite reads it (THEORY.md §5, docs/theory/od-reading.md):
     * stages = n, how many times the step nests the nonlinearity; memory = t, how many past
     * states the step reads; class_derivation says how both follow from the step's structure.
     * 0 means not stated (printed as such). */
    unsigned stages, memory;
    const char *class_derivation;

    /* Optional, for families built from another cell (solvers/rk.c, solvers/multistep.c):
     * rnn_cell_alloc makes an instance of `base` (c->inner) that shares this cell's parameter
     * buffer and hyperparameter values; seeding initialises the base's parameters, so that
     * rk:rk4:tanh with seed S has the weights of tanh with seed S. */
    const rnn_cell_type *base;
    /* Optional: the state is `history` stacked states of size n_state / history, newest first
     * (s_{n-1}, s_{n-2}, ...), and the first block is the ODE's state variable s(t) (its other
     * blocks are the ODE's own, e.g. derivatives). The convergence engine starts such a cell
     * from the reference solution at the first `history` grid times and compares the first
     * block. 0 or 1: a one-step cell. */
    size_t history;

    /* The sizing functions receive the type itself, so that a family of types built at run time
     * (rk:, ms:, qunn:<t>) can keep its own data in a larger struct that starts with this one. */
    size_t (*state_dim)(const rnn_cell_type *type, size_t m);
    /* Fills name, rows, cols of each parameter block; returns the count (<= RNN_MAX_BLOCKS). */
    size_t (*layout)(const rnn_cell_type *type, size_t m, size_t d, rnn_block *blocks);
    const rnn_hyper_def *hypers;
    size_t n_hypers;
    /* Doubles of scratch per batch sample. */
    size_t (*work_size)(const rnn_cell_type *type, size_t m, size_t d);
    /* Optional: doubles of quantities derived from the parameters (filled by prepare). */
    size_t (*derived_size)(const rnn_cell_type *type, size_t m, size_t d);

    /* Optional: joint constraints on hyperparameters beyond their ranges. */
    int (*check)(const rnn_cell *c, char *msg, size_t len);
    /* Seeded initialisation of the parameters (the paper's defaults). */
    void (*init)(rnn_cell *c, gsl_rng *r);
    /* Optional: recompute derived quantities after parameters or hyperparameters change. */
    void (*prepare)(rnn_cell *c);

    /* s_out[nb x n] = Phi(s[nb x n], u[nb x d]) at time t. */
    int (*step)(const rnn_cell *c, size_t nb, double t, const double *s, const double *u,
                double *s_out);
    /* J[n x n] = d s_out / d s. */
    int (*step_jacobian)(const rnn_cell *c, double t, const double *s, const double *u, double *J);
    /* Given g = dL/ds_out: gs = J^T g (overwritten), gtheta += dL/dtheta (accumulated). */
    int (*step_vjp)(const rnn_cell *c, double t, const double *s, const double *u,
                    const double *g, double *gs, double *gtheta);
    /* f = f(s, u, t). */
    int (*ode_rhs)(const rnn_cell *c, double t, const double *s, const double *u, double *f);
    /* J[n x n] = df/ds. */
    int (*ode_jacobian)(const rnn_cell *c, double t, const double *s, const double *u, double *J);
    /* Optional: Jv = (df/ds) v, matrix-free. */
    int (*ode_jvp)(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *v, double *Jv);
    /* Optional: given g, gs = (df/ds)^T g (overwritten) and gtheta += (df/dtheta)^T g: the
     * ODE's vector-Jacobian product, which the rk: and ms: families chain through their
     * stages and past states for BPTT. */
    int (*ode_vjp)(const rnn_cell *c, double t, const double *s, const double *u,
                   const double *g, double *gs, double *gtheta);
    /* Optional: f = f(s, u, t) with every operation in binary128 (the parameters are the
     * cell's doubles, exact in quad); work holds n_state rnn_quad. For order studies whose
     * errors fall below double rounding (analysis/convergence_quad.c). */
    int (*ode_rhs_quad)(const rnn_cell *c, rnn_quad t, const rnn_quad *s, const rnn_quad *u,
                        rnn_quad *work, rnn_quad *f);
};

struct rnn_cell {
    const rnn_cell_type *type;
    size_t m, d, n_state, n_params, n_blocks, n_hypers;
    double *params;          /* all parameters, one buffer */
    rnn_block blocks[RNN_MAX_BLOCKS];
    double hyper[RNN_MAX_HYPERS];
    unsigned long seed;      /* the seed of the last rnn_cell_init */
    double *work;            /* work_size(m, d) * batch_cap doubles */
    size_t work_per_sample, batch_cap;
    double *scratch;         /* 2 n_state + d doubles for the wrappers */
    double *derived;         /* derived_size(m, d) doubles, kept up to date by prepare */
    rnn_cell *inner;         /* an instance of type->base sharing params, or NULL */
    /* Optional: the input signal the step's u was sampled from. When bound, multi-stage and
     * multistep families evaluate the input at their stage and past times from it (THEORY.md
     * §1); when NULL they hold u over the step, which is the discrete RNN's own convention and
     * equal for `hold` inputs sampled on the step grid. */
    const rnn_input *signal;
};

/* ---- the cells (one file each) --------------------------------------------------------- */

extern const rnn_cell_type *const rnn_cell_tanh;           /* tanh.c */
extern const rnn_cell_type *const rnn_cell_antisym;        /* antisym.c */
extern const rnn_cell_type *const rnn_cell_antisym_gated;  /* antisym_gated.c */
extern const rnn_cell_type *const rnn_cell_cornn;          /* cornn.c (IMEX, the paper) */
extern const rnn_cell_type *const rnn_cell_cornn_explicit; /* cornn.c (the official code) */
extern const rnn_cell_type *const rnn_cell_linear;         /* linear.c */
extern const rnn_cell_type *const rnn_cell_qunn;           /* qunn.c (t = RNN_QUNN_DEFAULT_T) */
extern const rnn_cell_type *const rnn_cell_dense;          /* dense_tstep.c (t = RNN_DENSE_DEFAULT_T) */

/* QUNN (qunn.c, THEORY.md §5.4): qunn:<t>, t Givens generators, 1 <= t <= RNN_QUNN_MAX_T
 * (enough for all of SO(m) up to m = 362). The registered `qunn` has t = 28 = m(m-1)/2 at the
 * suite's usual m = 8. Types are built once per t and cached (thread-safe); NULL for bad t. */
#define RNN_QUNN_DEFAULT_T 28
#define RNN_QUNN_MAX_T 65536
const rnn_cell_type *rnn_cell_qunn_t(size_t t);
/* The number of generators of a qunn type; 0 if the type is not a qunn type. */
size_t rnn_cell_qunn_generators(const rnn_cell_type *type);
/* The pair (i, j), i < j, of generator k: lexicographic (0,1), (0,2), ..., (m-2,m-1), cycled. */
void rnn_qunn_pair(size_t m, size_t k, size_t *i, size_t *j);
/* theta[m(m-1)/2] with R = prod_k exp(theta_k G_k) in the enumeration's order (constructive
 * Givens decomposition); RNN_EINVAL if R (row-major m x m) is not in SO(m) to 1e-8. */
int rnn_qunn_givens_decompose(size_t m, const double *R, double *theta);

/* The dense t-step baseline (dense_tstep.c): dense:<t>, 1 <= t <= RNN_DENSE_MAX_T (its state
 * stacks t past states and its Jacobians are (t m)^2). `dense` (t = 2) is found by name; it is
 * not in the registry's loop (see experiments/registry.c for the checks it gets). */
#define RNN_DENSE_DEFAULT_T 2
#define RNN_DENSE_MAX_T 64
const rnn_cell_type *rnn_cell_dense_t(size_t t);
extern const rnn_cell_type *const rnn_cell_lstm;           /* lstm.c */
extern const rnn_cell_type *const rnn_cell_gru;            /* gru.c */
extern const rnn_cell_type *const rnn_cell_unicornn;       /* unicornn.c */
extern const rnn_cell_type *const rnn_cell_lem;            /* lem.c */
extern const rnn_cell_type *const rnn_cell_unitary;        /* unitary.c */
extern const rnn_cell_type *const rnn_cell_lipschitz;      /* lipschitz.c */
extern const rnn_cell_type *const rnn_cell_fastrnn;        /* fastrnn.c */
/* The exact inverse of one unicornn step (the two shears undone): s_prev with
 * Phi(s_prev, u, t) = s_n to round-off; RNN_EINVAL if c is not a unicornn cell. */
int rnn_unicornn_step_back(const rnn_cell *c, double t, const double *s_n, const double *u,
                           double *s_prev);

/* ---- families of types built at run time (family.c) ---------------------------------------- */

/* 1 if the built type t is the one for key. */
typedef int (*rnn_family_same)(const rnn_cell_type *t, const void *key);
/* Allocates and fills the type for key (a struct starting with rnn_cell_type); NULL if out of
 * memory. Called at most once per key, under the cache's lock: it must not look up types. */
typedef rnn_cell_type *(*rnn_family_build)(const void *key);
/* The type of `family` (compared by address: pass one static string per family) for key,
 * built on first use and cached for the life of the program; thread-safe. NULL if out of
 * memory. */
const rnn_cell_type *rnn_family_intern(const char *family, rnn_family_same same,
                                       rnn_family_build build, const void *key);

/* ---- the registry ---------------------------------------------------------------------- */

size_t rnn_registry_count(void);
const rnn_cell_type *rnn_registry_get(size_t i);
const rnn_cell_type *rnn_registry_find(const char *name);
/* "tanh, antisym, ..." for messages. */
const char *rnn_registry_names(void);

/* ---- instances ------------------------------------------------------------------------- */

/* A cell with hidden size m >= 1 and input size d >= 1, default hyperparameters,
 * parameters initialised from seed. NULL if out of memory or sizes are invalid. */
rnn_cell *rnn_cell_alloc(const rnn_cell_type *type, size_t m, size_t d, unsigned long seed);
void rnn_cell_free(rnn_cell *c);
/* Re-initialises the parameters from a seed (GSL mt19937). */
void rnn_cell_init(rnn_cell *c, unsigned long seed);
/* Grows the workspace for batched steps of up to nb samples (call outside loops). */
int rnn_cell_reserve_batch(rnn_cell *c, size_t nb);
/* Binds (or with NULL unbinds) the input signal for stage-time evaluation (see rnn_cell). */
void rnn_cell_bind_signal(rnn_cell *c, const rnn_input *in);
/* Must be called after writing to c->params or c->hyper directly. */
void rnn_cell_params_changed(rnn_cell *c);

int rnn_cell_hyper_index(const rnn_cell *c, const char *name);
/* Sets a hyperparameter with range and joint checks; on error writes what is allowed. */
int rnn_cell_set_hyper(rnn_cell *c, const char *name, double value, char *msg, size_t len);
/* Parses "name=value" and sets it. */
int rnn_cell_set_assignment(rnn_cell *c, const char *assignment, char *msg, size_t len);
/* Sets several "name=value" at once: each is range-checked, the joint constraints are
 * checked after all are set (so their order does not matter); on error nothing changes. */
int rnn_cell_set_assignments(rnn_cell *c, size_t n, const char *const *assignments, char *msg,
                             size_t len);
double rnn_cell_get_hyper(const rnn_cell *c, const char *name);
/* The step size (the hyperparameter flagged RNN_HYPER_STEP). */
double rnn_cell_dt(const rnn_cell *c);
int rnn_cell_set_dt(rnn_cell *c, double dt);
const rnn_block *rnn_cell_block(const rnn_cell *c, const char *name);

/* Wrappers: check arguments, call the op, return RNN_EUNSUPPORTED where the op is NULL,
 * and RNN_ENONFINITE when a produced value is not finite. */
int rnn_cell_step(const rnn_cell *c, double t, const double *s, const double *u, double *s_out);
int rnn_cell_step_batch(const rnn_cell *c, size_t nb, double t, const double *s,
                        const double *u, double *s_out);
int rnn_cell_step_jacobian(const rnn_cell *c, double t, const double *s, const double *u,
                           double *J);
int rnn_cell_step_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                      const double *g, double *gs, double *gtheta);
int rnn_cell_ode_rhs(const rnn_cell *c, double t, const double *s, const double *u, double *f);
int rnn_cell_ode_jacobian(const rnn_cell *c, double t, const double *s, const double *u,
                          double *J);
int rnn_cell_ode_jvp(const rnn_cell *c, double t, const double *s, const double *u,
                     const double *v, double *Jv);
int rnn_cell_ode_vjp(const rnn_cell *c, double t, const double *s, const double *u,
                     const double *g, double *gs, double *gtheta);

/* Runs n steps from s0 at t0 driven by a signal; S holds (n + 1) x n_state states,
 * S[0] = s0. The step size is the cell's. */
int rnn_cell_run(const rnn_cell *c, const rnn_input *in, double t0, const double *s0,
                 size_t n, double *S);

/* A seeded initial state: entries N(0, scale^2). */
void rnn_cell_random_state(const rnn_cell *c, unsigned long seed, double scale, double *s);

/* ---- parameter files (documented in docs/params-format.md) ------------------------------ */

/* Writes via a temporary file and rename. msg says what went wrong. */
int rnn_params_save(const rnn_cell *c, const char *path, char *msg, size_t len);
/* Reads into c: checks the cell name, m, d, every block name and shape; sets the
 * hyperparameters and the seed recorded in the file. */
int rnn_params_load(rnn_cell *c, const char *path, char *msg, size_t len);
/* Reads only the header: cell name, m, d (to allocate the right cell first). */
int rnn_params_peek(const char *path, char *cell, size_t cell_len, size_t *m, size_t *d,
                    char *msg, size_t len);

/* ---- seeds ------------------------------------------------------------------------------ */

/* The one seed scheme: every random stream is named, and its GSL seed is a hash
 * (splitmix64 over FNV-1a) of the run's seed, the stream's name and a replicate index.
 * A check or command is reproducible alone, whatever ran before it. */
unsigned long rnn_seed_derive(unsigned long seed, const char *stream, unsigned long index);
/* A new mt19937 generator seeded by rnn_seed_derive; NULL if out of memory. */
gsl_rng *rnn_rng_alloc(unsigned long seed, const char *stream, unsigned long index);

/* ---- small numerical helpers shared by the cells (linalg.c) ------------------------------ */

/* Y[nb x r] = X[nb x k] W^T + beta Y for W[r x k]; X has leading dimension ldx >= k
 * (one gemv when nb == 1). */
void rnn_gemm_rows(size_t nb, size_t r, size_t k, const double *W, const double *X, size_t ldx,
                   double beta, double *Y);
/* Y[nb x r] += bias broadcast over rows. */
void rnn_add_bias_rows(size_t nb, size_t r, const double *bias, double *Y);
/* y = W^T x + beta y for W[r x k], x[r], y[k]. */
void rnn_gemv_t(size_t r, size_t k, const double *W, const double *x, double beta, double *y);
/* G[r x k] += x y^T. */
void rnn_ger(size_t r, size_t k, const double *x, const double *y, double *G);
/* A[m x m] = W - W^T - gamma I: the antisymmetric recurrence of [AS] with diffusion. */
void rnn_skew_shift(size_t m, const double *W, double gamma, double *A);
/* G[m x m] += x y^T - y x^T: the gradient dL/dW when A depends on W through W - W^T. */
void rnn_skew_ger(size_t m, const double *x, const double *y, double *G);
/* Fills a block with N(0, sd^2) or U(-a, a) draws. */
void rnn_fill_gaussian(gsl_rng *r, double sd, size_t n, double *x);
void rnn_fill_uniform(gsl_rng *r, double a, size_t n, double *x);
int rnn_all_finite(size_t n, const double *x);
double rnn_sigmoid(double x);

/* ---- tanh over an array, vectorised, within 2 ulp (vmath.c) ------------------------------ */

void rnn_tanh_v(size_t n, const double *x, double *y);
/* out[r m + i] = alpha s[r m + i] + beta tanh(a[r m + i] + bias[i]) for nb rows of m */
void rnn_tanh_affine(size_t nb, size_t m, const double *a, const double *bias, const double *s,
                     double alpha, double beta, double *out);
double rnn_tanh(double x);

#endif
