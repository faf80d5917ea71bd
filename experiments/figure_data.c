/*
 * figure_data.c — the experiments that produce the data behind the figures (THEORY.md §4, §6):
 * tidy CSV files (a '#' provenance preamble, a header row, one measurement per row) written
 * atomically (a temporary name in the same folder, then rename) into an output folder that is
 * created if missing. `odernn experiment NAME|all` runs them through the registry at the end.
 *
 *   as-fig1              [AS] Fig. 1, the 2-D feedback maps of Chang et al.:
 *                          residual  h_t = h_{t-1} + 0.1 tanh(W h_{t-1})
 *                          vanilla   h_t = tanh(W h_{t-1})
 *                        W+ = [[2, -2], [0, 2]] (eigenvalues 2, 2), W- = [[-2, 2], [0, -2]]
 *                        (-2, -2), W0 = [[0, -2], [2, 0]] (+-2i, antisymmetric), Wdiff =
 *                        [[-0.15, -2], [2, -0.15]] (-0.15 +- 2i, W0 with diffusion 0.15); 50
 *                        steps from (0, 0.5), (-0.5, -0.5), (0.5, -0.75). Plain 2 x 2
 *                        arithmetic, no cell.
 *   gradnorm             log10 ||ds_T/ds_0||_2 for T = 1..10^4 (20 per decade) of the five
 *                        cells at their defaults, m = 64, sines input, 8 seeds: forward tangents
 *                        M_T = J_T ... J_1 in the log domain (rnn_grad_tangent). [AS] §3 (the
 *                        antisymmetric cells' long memory), [CO] Prop. 3.2 (growth at most
 *                        exponential in physical time), [PA] (tanh vanishes or explodes).
 *   cornn-contributions  [CO] Prop. 3.3: for L_N = 1/2 ||s_N||^2, N = 1000, the norm of the
 *                        contribution of step k to dL_N/dtheta,
 *                        ||(dL_N/ds_N)(ds_N/ds_k)(d^+ s_k/dtheta)||_2, against the lag N - k
 *                        (rnn_grad_step_contributions), for cornn (IMEX) and cornn_explicit (the
 *                        official code), m = 64, a held standard-Gaussian input, 8 seeds.
 *   lyap-dt              THEORY.md §6 lyap.discrete-to-ode as data: the full Lyapunov spectrum
 *                        of the cell per unit time, lambda_i(dt)/dt, at dt = dt0 2^-k, k = 0..5,
 *                        dt0 = min(default step, 0.1) / 4 (as the check), over one physical
 *                        window [t_tr, t_tr + t_me] from the same state, and
 *                        the ODE's spectrum (CVODE on the variational equations, same window and
 *                        state) for tanh, antisym and cornn at m = 8 (rnn_lyap_dt_sweep).
 *   gated-share          THEORY.md §4.1 (observation): the gated cell's ODE Jacobian
 *                        diag(z tanh'(a_h) + tanh(a_h) sig'(a_z)) (W - W^T - gamma I) has a
 *                        diagonal factor that can be negative, so [AS]'s "purely imaginary"
 *                        argument does not apply; the share of the steps of driven trajectories
 *                        (sines, m = 32, 500 steps, 8 seeds) where max Re lambda > 1e-10 ||J||,
 *                        and where the step Jacobian's spectral radius exceeds 1, for gamma in
 *                        {0, 0.01, 0.1, 0.5, 1, 2}.
 *   convergence          THEORY.md §3 order.<cell> as data: E(dt) against dt (rnn_converge, the
 *                        defaults for the cell's order) for tanh, antisym, cornn, lstm, gru,
 *                        rk:midpoint:tanh and rk:rk4:tanh, m = 8, with the fitted order and the
 *                        line C dt^p through the fitted levels.
 *   spectra              z = dt lambda_i(df/ds) at s_n, n = 0, 25, ..., 475, for the tanh and
 *                        antisym ODEs under Euler (the cells) and RK4 (rk:rk4:), m = 32; and
 *                        |R(z)| of each method's tableau on a grid around them
 *                        (stability-regions.csv).
 *   lyap-spectra         the full Lyapunov spectrum per unit time of tanh, antisym, cornn, lstm
 *                        and gru (m = 16, 8 seeds, 1000 + 5000 steps), sorted per seed, the mean
 *                        and the 95% Student-t interval over seeds for each index.
 *   energy               [CO] Prop. 3.1: E_n = gamma |y_n|^2 + |z_n|^2 and E_0 + m t_n / (2 eps -
 *                        gamma dt) along 2000 steps of cornn and cornn_explicit (m = 64, held
 *                        Gaussian input) at (dt, gamma, eps) = (0.042, 2.7, 4.7), (0.06, 66, 15).
 *   antisym-region       [AS] Prop. 2: grad-growth of antisym (m = 16, zero input, s0 = 0) on a
 *                        100 x 81 (eps, gamma) grid, exactly `odernn region` with the settings the
 *                        preamble names, and the predicted Euler boundary eps = 2 gamma / (gamma^2
 *                        + omega_max^2), omega_max the largest |Im lambda| of W - W^T
 *                        (antisym-boundary.csv).
 *
 * Parallelism and reproducibility: the independent runs of an experiment (a cell and a seed, a
 * gamma and a seed) are OpenMP tasks, each with its own cell, input and workspaces, and each
 * writes its own slot of a result array; the file is written afterwards in a fixed order, and
 * OpenBLAS runs single-threaded inside the tasks. The files are byte-identical whatever the
 * thread count. Every random stream is rnn_seed_derive(run seed, "<experiment>:<stream>",
 * replicate), so the replicate r of one experiment is reproducible alone.
 *
 * References: Chang, Chen, Haber, Chi, "AntisymmetricRNN", ICLR 2019 (Fig. 1, eqs. 12-13, §3);
 * Rusch & Mishra, "coRNN", ICLR 2021 (Props. 3.2, 3.3); Pascanu, Mikolov, Bengio, ICML 2013.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <omp.h>
#include <cblas.h> /* openblas_set_num_threads; no GSL header here pulls gsl_cblas.h */
#include <gsl/gsl_version.h>
#include <sundials/sundials_config.h>
#include "analysis.h"
#include "experiments.h"

#define D_INPUT 2          /* input size of every driven experiment */
#define S0_SCALE 0.5       /* initial states N(0, 0.5^2), as the checks and the CLI */
#define TASK_MSG 512
#define PATH_LEN 4096

/* ---- output: folders, atomic CSV files, preambles -------------------------------------------- */

int rnn_make_dirs(const char *dir, char *msg, size_t len)
{
    char path[PATH_LEN];
    if (!dir || !dir[0]) {
        snprintf(msg, len, "the output folder name is empty");
        return RNN_EINVAL;
    }
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        snprintf(msg, len, "output folder name too long: %.64s...", dir);
        return RNN_EINVAL;
    }
    /* mkdir -p: every prefix ending before a '/', then the whole path. */
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char keep = *p;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            snprintf(msg, len, "cannot create the output folder '%s': %s (at '%s')", dir,
                     strerror(errno), path);
            return RNN_EIO;
        }
        *p = keep;
        if (keep == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(msg, len, "cannot create the output folder '%s': %s", dir, strerror(errno));
        return RNN_EIO;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(msg, len, "cannot create the output folder '%s': a file of that name exists", dir);
        return RNN_EIO;
    }
    return RNN_OK;
}

typedef struct {
    FILE *f;
    char path[PATH_LEN], tmp[PATH_LEN + 32];
} csv_file;

static int csv_open(csv_file *o, const char *dir, const char *file, char *msg, size_t len)
{
    memset(o, 0, sizeof *o);
    if (snprintf(o->path, sizeof o->path, "%s/%s", dir, file) >= (int)sizeof o->path) {
        snprintf(msg, len, "output path too long in folder %.64s...", dir);
        return RNN_EINVAL;
    }
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", o->path, (long)getpid());
    o->f = fopen(o->tmp, "w");
    if (!o->f) {
        snprintf(msg, len, "cannot write '%s': %s", o->path, strerror(errno));
        return RNN_EIO;
    }
    return RNN_OK;
}

/* Closes and renames; on any write error (ferror: e.g. a full disk) the temporary file is
 * removed and nothing appears under the final name. */
static int csv_commit(csv_file *o, char *msg, size_t len)
{
    int bad = ferror(o->f);
    bad |= fclose(o->f) != 0;
    o->f = NULL;
    if (bad || rename(o->tmp, o->path) != 0) {
        snprintf(msg, len, "cannot write '%s': %s", o->path, strerror(errno));
        remove(o->tmp);
        return RNN_EIO;
    }
    return RNN_OK;
}

/* Creates the folder, opens the experiment's file and writes the common preamble. */
static int csv_begin(csv_file *o, const char *name, const char *out_dir, unsigned long seed,
                     int quick, char *msg, size_t len)
{
    const rnn_experiment_def *e = rnn_experiments_find(name);
    int rc = e ? rnn_make_dirs(out_dir, msg, len) : RNN_EINVAL;
    if (rc == RNN_OK)
        rc = csv_open(o, out_dir, e->files[0], msg, len);
    if (rc != RNN_OK)
        return rc;
    fprintf(o->f, "# odernn experiment %s\n# title: %s\n# source: %s\n", e->name, e->title,
            e->source);
    fprintf(o->f, "# seed: %lu (streams: rnn_seed_derive(seed, \"%s:<stream>\", replicate))\n",
            seed, e->name);
    fprintf(o->f, "# size: %s\n", quick ? "quick (reduced, for tests)" : "full");
    fprintf(o->f, "# versions: GSL %s; SUNDIALS %s; compiler %s\n", GSL_VERSION,
            SUNDIALS_VERSION, __VERSION__);
    return RNN_OK;
}

/* "# cell NAME: h1=v1 h2=v2 ..." with the type's default hyperparameters. */
static void cell_line(FILE *f, const rnn_cell_type *t)
{
    fprintf(f, "# cell %s: %s; defaults", t->name, t->scheme);
    for (size_t i = 0; i < t->n_hypers; i++)
        fprintf(f, " %s=%.17g", t->hypers[i].name, t->hypers[i].def);
    fprintf(f, "\n");
}

/* ---- parallel tasks ----------------------------------------------------------------------------- */

typedef int (*task_fn)(void *ctx, size_t task, char *msg, size_t len);

/* Runs fn(ctx, i) for i < n on OpenMP threads (0: the default count), OpenBLAS single-threaded
 * inside; returns the status of the first failed task in task order (its message in msg). */
static int run_tasks(size_t n, task_fn fn, void *ctx, size_t threads, int progress,
                     const char *label, char *msg, size_t len)
{
    int *status = malloc(n * sizeof(int));
    char *msgs = calloc(n, TASK_MSG);
    if (!status || !msgs) {
        free(status);
        free(msgs);
        snprintf(msg, len, "%s: out of memory", label);
        return RNN_ENOMEM;
    }
    const int nt = threads ? (int)threads : omp_get_max_threads();
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    size_t done = 0;
    const long ln = (long)n;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (long i = 0; i < ln; i++) {
        status[i] = fn(ctx, (size_t)i, msgs + (size_t)i * TASK_MSG, TASK_MSG);
        if (progress) {
#pragma omp critical(figure_data_progress)
            {
                done++;
                fprintf(stderr, "\r\033[K%s: %zu/%zu", label, done, n);
                fflush(stderr);
            }
        }
    }
    openblas_set_num_threads(blas_threads);
    if (progress) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
    int rc = RNN_OK;
    for (size_t i = 0; i < n && rc == RNN_OK; i++)
        if (status[i] != RNN_OK) {
            rc = status[i];
            const char *m = msgs + i * TASK_MSG;
            snprintf(msg, len, "%s: %s", label, m[0] ? m : rnn_strerror(rc));
        }
    free(status);
    free(msgs);
    return rc;
}

/* The five cells of the gradient figure, by registry name (the exported pointers are not
 * constant expressions, so the tables hold names). */
static const char *const all_cells[] = {"tanh", "antisym", "antisym_gated", "cornn",
                                        "cornn_explicit"};
#define N_ALL_CELLS (sizeof all_cells / sizeof all_cells[0])

static int find_types(size_t n, const char *const *names, const rnn_cell_type **types, char *msg,
                      size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (!(types[i] = rnn_registry_find(names[i]))) {
            snprintf(msg, len, "cell '%s' is not registered", names[i]);
            return RNN_EINVAL;
        }
    return RNN_OK;
}

/* ---- one driven run: a cell, the sines input and a seeded initial state ----------------------- */

/* The streams "<name>:cell", "<name>:input" and "<name>:s0" with index r give the parameters,
 * the input and s0 (N(0, S0_SCALE^2)) of replicate r of experiment <name>. */
typedef struct {
    rnn_cell *c;
    rnn_input *in;
    double *s0;
} driven_run;

static int driven_run_open(driven_run *d, const rnn_cell_type *type, size_t m, unsigned long seed,
                           const char *name, size_t r)
{
    char stream[64];
    snprintf(stream, sizeof stream, "%s:cell", name);
    d->c = rnn_cell_alloc(type, m, D_INPUT, rnn_seed_derive(seed, stream, r));
    snprintf(stream, sizeof stream, "%s:input", name);
    d->in = rnn_input_alloc_sines(D_INPUT, rnn_seed_derive(seed, stream, r));
    d->s0 = d->c ? malloc(d->c->n_state * sizeof(double)) : NULL;
    if (!d->c || !d->in || !d->s0)
        return RNN_ENOMEM;
    snprintf(stream, sizeof stream, "%s:s0", name);
    rnn_cell_random_state(d->c, rnn_seed_derive(seed, stream, r), S0_SCALE, d->s0);
    return RNN_OK;
}

static void driven_run_close(driven_run *d)
{
    free(d->s0);
    rnn_input_free(d->in);
    rnn_cell_free(d->c);
}

/* ---- as-fig1 ------------------------------------------------------------------------------------ */

#define FIG1_STEPS 50
#define FIG1_EPS 0.1

static const struct {
    const char *name, *text;
    double W[4]; /* row-major 2 x 2 */
} fig1_panels[] = {
    {"Wplus", "[[2, -2], [0, 2]] (eigenvalues 2, 2)", {2, -2, 0, 2}},
    {"Wminus", "[[-2, 2], [0, -2]] (eigenvalues -2, -2)", {-2, 2, 0, -2}},
    {"W0", "[[0, -2], [2, 0]] (eigenvalues +-2i)", {0, -2, 2, 0}},
    {"Wdiff", "[[-0.15, -2], [2, -0.15]] (eigenvalues -0.15 +- 2i)", {-0.15, -2, 2, -0.15}},
};
static const double fig1_starts[3][2] = {{0, 0.5}, {-0.5, -0.5}, {0.5, -0.75}};

static int exp_as_fig1(unsigned long seed, const char *out_dir, size_t threads, int progress,
                       int quick, char *msg, size_t len)
{
    (void)threads, (void)progress;
    csv_file f;
    int rc = csv_begin(&f, "as-fig1", out_dir, seed, quick, msg, len);
    if (rc != RNN_OK)
        return rc;
    fprintf(f.f,
            "# claim: [AS] Fig. 1 draws these trajectories in the plane. The residual map is forward "
            "Euler (step 0.1) of h' = tanh(W h): with W+ (eigenvalues with positive real part) they "
            "leave the origin, with W- they fall into it, with the antisymmetric W0 (imaginary "
            "eigenvalues) they circle it, and Wdiff adds diffusion -0.15 I. The vanilla map "
            "tanh(W h) shows the same matrices without the residual connection.\n"
            "# note: near the origin the residual map is I + 0.1 W: |1 + 0.1 (+-2i)| = 1.0198 for W0 "
            "and |1 + 0.1 (-0.15 +- 2i)| = 1.0051 for Wdiff, both > 1 (Euler's condition eps "
            "|lambda|^2 <= -2 Re lambda needs a diffusion >= 0.2021 at eps = 0.1), so small orbits "
            "spiral outwards; away from the origin tanh' < 1 shrinks the effective step\n"
            "# settings: residual h_t = h_{t-1} + %g tanh(W h_{t-1}); vanilla h_t = tanh(W "
            "h_{t-1}); %d steps; deterministic (the seed is not used)\n",
            FIG1_EPS, FIG1_STEPS);
    for (size_t p = 0; p < 4; p++)
        fprintf(f.f, "# panel %s: W = %s\n", fig1_panels[p].name, fig1_panels[p].text);
    for (size_t s = 0; s < 3; s++)
        fprintf(f.f, "# start %zu: h_0 = (%g, %g)\n", s, fig1_starts[s][0], fig1_starts[s][1]);
    fprintf(f.f, "panel,scheme,start,step,h1,h2\n");
    for (size_t p = 0; p < 4; p++)
        for (int vanilla = 0; vanilla < 2; vanilla++)
            for (size_t s = 0; s < 3; s++) {
                const double *W = fig1_panels[p].W;
                double h1 = fig1_starts[s][0], h2 = fig1_starts[s][1];
                for (int t = 0; t <= FIG1_STEPS; t++) {
                    if (t > 0) {
                        double a1 = tanh(W[0] * h1 + W[1] * h2), a2 = tanh(W[2] * h1 + W[3] * h2);
                        h1 = vanilla ? a1 : h1 + FIG1_EPS * a1;
                        h2 = vanilla ? a2 : h2 + FIG1_EPS * a2;
                    }
                    fprintf(f.f, "%s,%s,%zu,%d,%.17g,%.17g\n", fig1_panels[p].name,
                            vanilla ? "vanilla" : "residual", s, t, h1, h2);
                }
            }
    return csv_commit(&f, msg, len);
}

/* ---- gradnorm ----------------------------------------------------------------------------------- */

#define GN_MAX_LAGS 128

typedef struct {
    unsigned long seed;
    size_t m, seeds, n_lags;
    size_t lags[GN_MAX_LAGS];
    const rnn_cell_type *types[N_ALL_CELLS];
    double *log_norm; /* [cell][seed][lag], natural logarithms */
} gradnorm_ctx;

static int gradnorm_task(void *vctx, size_t task, char *msg, size_t len)
{
    gradnorm_ctx *g = vctx;
    const size_t ci = task / g->seeds, r = task % g->seeds;
    const rnn_cell_type *type = g->types[ci];
    driven_run d;
    int rc = driven_run_open(&d, type, g->m, g->seed, "gradnorm", r);
    char inner[TASK_MSG - 64] = "";
    if (rc == RNN_OK)
        rc = rnn_grad_tangent(d.c, d.in, d.s0, g->n_lags, g->lags, g->log_norm + task * g->n_lags,
                              inner, sizeof inner);
    if (rc != RNN_OK)
        snprintf(msg, len, "%s, seed %zu: %s", type->name, r, inner[0] ? inner : rnn_strerror(rc));
    driven_run_close(&d);
    return rc;
}

static int exp_gradnorm(unsigned long seed, const char *out_dir, size_t threads, int progress,
                        int quick, char *msg, size_t len)
{
    gradnorm_ctx g = {.seed = seed, .m = quick ? 8 : 64, .seeds = quick ? 2 : 8};
    const size_t T = quick ? 100 : 10000, per_decade = 20;
    g.n_lags = rnn_log_lags(T, per_decade, GN_MAX_LAGS, g.lags);
    int rc = find_types(N_ALL_CELLS, all_cells, g.types, msg, len);
    if (rc != RNN_OK)
        return rc;
    const size_t n_tasks = N_ALL_CELLS * g.seeds;
    g.log_norm = malloc(n_tasks * g.n_lags * sizeof(double));
    if (!g.log_norm) {
        snprintf(msg, len, "gradnorm: out of memory");
        return RNN_ENOMEM;
    }
    rc = run_tasks(n_tasks, gradnorm_task, &g, threads, progress, "gradnorm", msg, len);
    csv_file f;
    if (rc == RNN_OK)
        rc = csv_begin(&f, "gradnorm", out_dir, seed, quick, msg, len);
    if (rc == RNN_OK) {
        fprintf(f.f,
                "# claim: ||ds_T/ds_0|| of the antisymmetric cells neither explodes nor vanishes over "
                "long horizons ([AS] §3); coRNN's grows at most exponentially in physical time t = T "
                "dt ([CO] Prop. 3.2); tanh's decays or grows exponentially in T ([PA])\n"
                "# settings: m = %zu, d = %d, sines input (seeded), s0 ~ N(0, %g^2) (seeded), "
                "%zu seeds (replicate r: cell, input and s0 from streams gradnorm:cell, "
                "gradnorm:input, gradnorm:s0 with index r, shared by the cells); T = 1..%zu, %zu "
                "per decade (log-spaced); forward tangents M_T = J_T ... J_1 in the log domain, "
                "||M_T||_2 by dgesdd\n",
                g.m, D_INPUT, S0_SCALE, g.seeds, T, per_decade);
        for (size_t ci = 0; ci < N_ALL_CELLS; ci++)
            cell_line(f.f, g.types[ci]);
        fprintf(f.f, "cell,seed,T,t,log10_norm\n");
        for (size_t ci = 0; ci < N_ALL_CELLS; ci++) {
            double dt = NAN;
            for (size_t h = 0; h < g.types[ci]->n_hypers; h++)
                if (g.types[ci]->hypers[h].flags & RNN_HYPER_STEP)
                    dt = g.types[ci]->hypers[h].def;
            for (size_t r = 0; r < g.seeds; r++)
                for (size_t i = 0; i < g.n_lags; i++)
                    fprintf(f.f, "%s,%zu,%zu,%.17g,%.17g\n", all_cells[ci], r, g.lags[i],
                            (double)g.lags[i] * dt,
                            g.log_norm[(ci * g.seeds + r) * g.n_lags + i] / M_LN10);
        }
        rc = csv_commit(&f, msg, len);
    }
    free(g.log_norm);
    return rc;
}

/* ---- cornn-contributions ---------------------------------------------------------------------- */

static const char *const cc_cells[] = {"cornn", "cornn_explicit"};
#define N_CC_CELLS (sizeof cc_cells / sizeof cc_cells[0])

typedef struct {
    unsigned long seed;
    size_t m, N, seeds;
    const rnn_cell_type *types[N_CC_CELLS];
    double *log_contrib; /* [cell][seed][k - 1], natural logarithms */
} contrib_ctx;

static int contrib_task(void *vctx, size_t task, char *msg, size_t len)
{
    contrib_ctx *g = vctx;
    const size_t ci = task / g->seeds, r = task % g->seeds;
    const rnn_cell_type *type = g->types[ci];
    rnn_cell *c = rnn_cell_alloc(type, g->m, D_INPUT,
                                 rnn_seed_derive(g->seed, "cornn-contributions:cell", r));
    /* A held standard-Gaussian sequence, one sample per step: step k (from t_{k-1}) sees u_k. */
    rnn_input *in = c ? rnn_input_alloc_gaussian(RNN_INPUT_HOLD, D_INPUT, g->N, 0.0, rnn_cell_dt(c),
                                                 rnn_seed_derive(g->seed, "cornn-contributions:input", r))
                      : NULL;
    double *S = c ? malloc((g->N + 1) * c->n_state * sizeof(double)) : NULL;
    int rc = c && in && S ? RNN_OK : RNN_ENOMEM;
    char inner[TASK_MSG - 64] = "";
    if (rc == RNN_OK) {
        rnn_cell_random_state(c, rnn_seed_derive(g->seed, "cornn-contributions:s0", r), S0_SCALE, S);
        rc = rnn_cell_run(c, in, 0.0, S, g->N, S);
        if (rc != RNN_OK)
            snprintf(inner, sizeof inner, "the trajectory failed: %s", rnn_strerror(rc));
    }
    if (rc == RNN_OK)
        rc = rnn_grad_step_contributions(c, in, S, g->N, g->log_contrib + task * g->N, inner,
                                         sizeof inner);
    if (rc != RNN_OK)
        snprintf(msg, len, "%s, seed %zu: %s", type->name, r, inner[0] ? inner : rnn_strerror(rc));
    free(S);
    rnn_input_free(in);
    rnn_cell_free(c);
    return rc;
}

static int exp_cornn_contributions(unsigned long seed, const char *out_dir, size_t threads,
                                   int progress, int quick, char *msg, size_t len)
{
    contrib_ctx g = {.seed = seed, .m = quick ? 8 : 64, .N = quick ? 100 : 1000,
                     .seeds = quick ? 2 : 8};
    int rc = find_types(N_CC_CELLS, cc_cells, g.types, msg, len);
    if (rc != RNN_OK)
        return rc;
    const size_t n_tasks = N_CC_CELLS * g.seeds;
    g.log_contrib = malloc(n_tasks * g.N * sizeof(double));
    if (!g.log_contrib) {
        snprintf(msg, len, "cornn-contributions: out of memory");
        return RNN_ENOMEM;
    }
    rc = run_tasks(n_tasks, contrib_task, &g, threads, progress, "cornn-contributions", msg, len);
    csv_file f;
    if (rc == RNN_OK)
        rc = csv_begin(&f, "cornn-contributions", out_dir, seed, quick, msg, len);
    if (rc == RNN_OK) {
        fprintf(f.f,
                "# claim: [CO] Prop. 3.3: the contribution of step k to the gradient of the loss at "
                "step N does not decay (vanish) exponentially with N - k\n"
                "# settings: L_N = 1/2 ||s_N||^2, N = %zu, m = %zu, d = %d; input: a seeded standard "
                "Gaussian sequence held over each step (zero-order hold, sample interval dt); s0 ~ "
                "N(0, %g^2); %zu seeds (streams cornn-contributions:cell, :input, :s0 with index r)\n"
                "# measured: log10 ||(dL_N/ds_N)(ds_N/ds_k)(d^+ s_k/dtheta)||_2 for k = 1..N, "
                "d^+ the explicit dependence of step k on all parameters; lag = N - k\n",
                g.N, g.m, D_INPUT, S0_SCALE, g.seeds);
        for (size_t ci = 0; ci < N_CC_CELLS; ci++)
            cell_line(f.f, g.types[ci]);
        fprintf(f.f, "cell,seed,lag,log10_contribution\n");
        for (size_t ci = 0; ci < N_CC_CELLS; ci++)
            for (size_t r = 0; r < g.seeds; r++) {
                const double *lc = g.log_contrib + (ci * g.seeds + r) * g.N;
                for (size_t lag = 0; lag < g.N; lag++) /* k = N - lag */
                    fprintf(f.f, "%s,%zu,%zu,%.17g\n", cc_cells[ci], r, lag,
                            lc[g.N - lag - 1] / M_LN10);
            }
        rc = csv_commit(&f, msg, len);
    }
    free(g.log_contrib);
    return rc;
}

/* ---- lyap-dt ------------------------------------------------------------------------------------ */

int rnn_lyap_dt_sweep(rnn_cell *c, const rnn_input *in, const double *s0,
                      const rnn_lyap_dt_opts *o, double *cell_exp, double *ode_exp,
                      double *ode_err, char *msg, size_t len)
{
    if (!c || !in || !s0 || !o || !cell_exp || !ode_exp || !(o->dt0 > 0) || o->levels == 0 ||
        o->levels > 20 || o->n_measure == 0 || o->blocks == 0 || !(o->ode_interval > 0) ||
        !(o->ode_rtol > 0)) {
        snprintf(msg, len, "lyap-dt: bad arguments (dt0 > 0, 1..20 levels, n_measure >= 1, "
                 "blocks >= 1, interval > 0, rtol > 0)");
        return RNN_EINVAL;
    }
    const size_t n = c->n_state;
    const double dt_orig = rnn_cell_dt(c);
    rnn_lyap_result *res = rnn_lyap_result_alloc(n, n, o->blocks);
    double *tmp = malloc(n * sizeof(double));
    rnn_cell_ode_ctx oc = {0};
    rnn_ode ode;
    int bound = 0, rc = res && tmp ? RNN_OK : RNN_ENOMEM;
    if (rc == RNN_OK) {
        rc = rnn_cell_ode_bind(c, in, &oc, &ode);
        bound = rc == RNN_OK;
    }
    /* The ODE over the window [n_transient dt0, (n_transient + n_measure) dt0], at ode_rtol
     * and (for the error estimate) at 100 ode_rtol. */
    rnn_lyap_ode_opts oo = {.k = n, .blocks = o->blocks, .t_transient = (double)o->n_transient * o->dt0,
                            .t_measure = (double)o->n_measure * o->dt0, .interval = o->ode_interval};
    rnn_cvode_opts_default(&oo.cvode);
    for (int pass = 0; pass < (ode_err ? 2 : 1) && rc == RNN_OK; pass++) {
        oo.cvode.rtol = pass ? 100 * o->ode_rtol : o->ode_rtol;
        oo.cvode.atol = 1e-3 * oo.cvode.rtol;
        rc = rnn_lyap_ode_spectrum(&ode, s0, &oo, res, msg, len);
        for (size_t i = 0; i < n && rc == RNN_OK; i++)
            (pass ? tmp : ode_exp)[i] = res->exponents[i];
    }
    if (rc == RNN_OK && ode_err) {
        *ode_err = 0;
        for (size_t i = 0; i < n; i++)
            *ode_err = fmax(*ode_err, fabs(ode_exp[i] - tmp[i]));
    }
    /* The cell at dt_k over the same physical window: 2^k times as many steps. */
    for (size_t k = 0; k < o->levels && rc == RNN_OK; k++) {
        const double dt = ldexp(o->dt0, -(int)k);
        rc = rnn_cell_set_dt(c, dt);
        if (rc != RNN_OK) {
            snprintf(msg, len, "lyap-dt: %s does not accept dt = %g", c->type->name, dt);
            break;
        }
        rnn_lyap_opts lo = {.k = n, .transient = o->n_transient << k, .steps = o->n_measure << k,
                            .reorth = 1, .blocks = o->blocks};
        rc = rnn_lyap_spectrum(c, in, s0, &lo, res, msg, len);
        for (size_t i = 0; i < n && rc == RNN_OK; i++)
            cell_exp[k * n + i] = res->exponents[i] / dt;
    }
    rnn_cell_set_dt(c, dt_orig);
    if (bound)
        rnn_cell_ode_unbind(&oc);
    free(tmp);
    rnn_lyap_result_free(res);
    return rc;
}

static const char *const ld_cells[] = {"tanh", "antisym", "cornn"};
#define N_LD_CELLS (sizeof ld_cells / sizeof ld_cells[0])
#define LD_MAX_STATE 64

typedef struct {
    unsigned long seed;
    size_t m;
    rnn_lyap_dt_opts base; /* dt0 and the interval are per cell, in units of dt0 here */
    double interval_steps; /* the ODE interval in steps of dt0 */
    const rnn_cell_type *types[N_LD_CELLS];
    double dt0[N_LD_CELLS], ode_err[N_LD_CELLS];
    double *cell_exp;      /* per cell a block of levels x LD_MAX_STATE: [level k][i] at k n + i */
    double *ode_exp;       /* [cell][i] */
    size_t n_state[N_LD_CELLS];
} lyapdt_ctx;

static int lyapdt_task(void *vctx, size_t task, char *msg, size_t len)
{
    lyapdt_ctx *g = vctx;
    const rnn_cell_type *type = g->types[task];
    driven_run d;
    int rc = driven_run_open(&d, type, g->m, g->seed, "lyap-dt", task);
    char inner[TASK_MSG - 64] = "";
    if (rc == RNN_OK) {
        rnn_lyap_dt_opts o = g->base;
        o.dt0 = g->dt0[task];
        o.ode_interval = g->interval_steps * o.dt0;
        rc = rnn_lyap_dt_sweep(d.c, d.in, d.s0, &o, g->cell_exp + task * g->base.levels * LD_MAX_STATE,
                               g->ode_exp + task * LD_MAX_STATE, &g->ode_err[task], inner,
                               sizeof inner);
        g->n_state[task] = d.c->n_state;
    }
    if (rc != RNN_OK)
        snprintf(msg, len, "%s: %s", type->name, inner[0] ? inner : rnn_strerror(rc));
    driven_run_close(&d);
    return rc;
}

static int exp_lyap_dt(unsigned long seed, const char *out_dir, size_t threads, int progress,
                       int quick, char *msg, size_t len)
{
    /* The settings of lyap.discrete-to-ode: dt0 = min(default step, 0.1) / 4 (coarser levels
     * are pre-asymptotic for the antisymmetric cell's near-degenerate rotation pairs: the
     * frame's phase error ~ omega^2 t dt must be small first), a window of 192 + 768 steps of
     * dt0, the ODE's frame re-orthonormalised every 32 dt0. */
    lyapdt_ctx g = {.seed = seed, .m = quick ? 4 : 8, .interval_steps = quick ? 16 : 32};
    g.base = (rnn_lyap_dt_opts){.levels = quick ? 3 : 6, .n_transient = quick ? 16 : 192,
                                .n_measure = quick ? 64 : 768, .blocks = 4,
                                .ode_rtol = quick ? 1e-8 : 1e-11};
    int rc = find_types(N_LD_CELLS, ld_cells, g.types, msg, len);
    if (rc != RNN_OK)
        return rc;
    for (size_t ci = 0; ci < N_LD_CELLS; ci++) {
        g.dt0[ci] = 0.1;
        for (size_t h = 0; h < g.types[ci]->n_hypers; h++)
            if (g.types[ci]->hypers[h].flags & RNN_HYPER_STEP)
                g.dt0[ci] = fmin(g.types[ci]->hypers[h].def, 0.1);
        g.dt0[ci] /= 4;
        if (g.types[ci]->state_dim(g.types[ci], g.m) > LD_MAX_STATE) {
            snprintf(msg, len, "lyap-dt: state of %s too large", ld_cells[ci]);
            return RNN_EINVAL;
        }
    }
    g.cell_exp = malloc(N_LD_CELLS * g.base.levels * LD_MAX_STATE * sizeof(double));
    g.ode_exp = malloc(N_LD_CELLS * LD_MAX_STATE * sizeof(double));
    if (!g.cell_exp || !g.ode_exp) {
        free(g.cell_exp);
        free(g.ode_exp);
        snprintf(msg, len, "lyap-dt: out of memory");
        return RNN_ENOMEM;
    }
    rc = run_tasks(N_LD_CELLS, lyapdt_task, &g, threads, progress, "lyap-dt", msg, len);
    csv_file f;
    if (rc == RNN_OK)
        rc = csv_begin(&f, "lyap-dt", out_dir, seed, quick, msg, len);
    if (rc == RNN_OK) {
        fprintf(f.f,
                "# claim: the exponents of the cell per unit time, lambda_i(dt)/dt, converge to the "
                "exponents of its ODE as dt -> 0, at order 1 (THEORY.md §6 lyap.discrete-to-ode)\n"
                "# settings: m = %zu, d = %d, sines input, s0 ~ N(0, %g^2) (streams lyap-dt:cell, "
                ":input, :s0 with index = the cell's position in %s, %s, %s); dt = dt0 2^-k, k = "
                "0..%zu, dt0 = min(the cell's default step, 0.1) / 4; the window: %zu dt0 of transient, "
                "then %zu dt0 measured, the same physical window and initial state at every dt; "
                "QR every step, the full spectrum\n"
                "# ode: CVODE (BDF) on s' = f(s, t), Y' = J Y, Y re-orthonormalised every %g dt0, "
                "rtol %g, atol 1e-3 rtol; the same window and state\n",
                g.m, D_INPUT, S0_SCALE, ld_cells[0], ld_cells[1], ld_cells[2], g.base.levels - 1,
                g.base.n_transient, g.base.n_measure, g.interval_steps, g.base.ode_rtol);
        for (size_t ci = 0; ci < N_LD_CELLS; ci++) {
            cell_line(f.f, g.types[ci]);
            fprintf(f.f, "# reference %s: dt0 = %g, window [%g, %g]; max_i |lambda_i(rtol) - "
                    "lambda_i(100 rtol)| = %.3g (the ODE exponents' error estimate)\n",
                    ld_cells[ci], g.dt0[ci], (double)g.base.n_transient * g.dt0[ci],
                    (double)(g.base.n_transient + g.base.n_measure) * g.dt0[ci], g.ode_err[ci]);
        }
        fprintf(f.f, "cell,dt,index,exponent,ode_exponent\n");
        for (size_t ci = 0; ci < N_LD_CELLS; ci++) {
            const size_t n = g.n_state[ci];
            for (size_t k = 0; k < g.base.levels; k++)
                for (size_t i = 0; i < n; i++)
                    fprintf(f.f, "%s,%.17g,%zu,%.17g,%.17g\n", ld_cells[ci],
                            ldexp(g.dt0[ci], -(int)k), i + 1,
                            g.cell_exp[ci * g.base.levels * LD_MAX_STATE + k * n + i],
                            g.ode_exp[ci * LD_MAX_STATE + i]);
        }
        rc = csv_commit(&f, msg, len);
    }
    free(g.cell_exp);
    free(g.ode_exp);
    return rc;
}

/* ---- gated-share -------------------------------------------------------------------------------- */

static const double gs_gammas[] = {0, 0.01, 0.1, 0.5, 1, 2};
#define N_GS_GAMMAS (sizeof gs_gammas / sizeof gs_gammas[0])
/* A real part counts as positive above 1e-10 ||J|| (dgeev's backward error is ~ n eps ||J||:
 * below it the sign is rounding), as the check antisym_gated.positive-real. */
#define GS_POSITIVE_RE 1e-10
/* The step Jacobian I + eps J has norm ~ 1: a radius counts as above 1 beyond 1 + 1e-10. */
#define GS_RADIUS_TOL 1e-10

typedef struct {
    unsigned long seed;
    size_t m, steps, seeds;
    double *share; /* [gamma][seed][2] */
} gated_ctx;

static int gated_task(void *vctx, size_t task, char *msg, size_t len)
{
    gated_ctx *g = vctx;
    const size_t gi = task / g->seeds, r = task % g->seeds, m = g->m;
    /* The same cell, input and state for every gamma (gamma is not used by the initialisation). */
    rnn_cell *c = rnn_cell_alloc(rnn_cell_antisym_gated, m, D_INPUT,
                                 rnn_seed_derive(g->seed, "gated-share:cell", r));
    rnn_input *in = rnn_input_alloc_sines(D_INPUT, rnn_seed_derive(g->seed, "gated-share:input", r));
    rnn_eig_ws *ws = rnn_eig_ws_alloc(m);
    double *buf = malloc((2 * m * m + 5 * m + D_INPUT) * sizeof(double));
    int rc = c && in && ws && buf ? RNN_OK : RNN_ENOMEM;
    char inner[TASK_MSG - 64] = "";
    if (rc == RNN_OK)
        rc = rnn_cell_set_hyper(c, "gamma", gs_gammas[gi], inner, sizeof inner);
    size_t positive = 0, above = 0, n = 0;
    if (rc == RNN_OK) {
        double *J = buf, *P = J + m * m, *sv = P + m * m, *s = sv + m, *s2 = s + m, *u = s2 + m;
        rnn_cell_random_state(c, rnn_seed_derive(g->seed, "gated-share:s0", r), S0_SCALE, s);
        const double dt = rnn_cell_dt(c);
        for (n = 0; n < g->steps && rc == RNN_OK; n++) {
            const double t = (double)n * dt;
            double max_re, radius, unused;
            rnn_input_eval(in, t, u);
            rc = rnn_cell_ode_jacobian(c, t, s, u, J);
            if (rc == RNN_OK)
                rc = rnn_spectrum_svals(ws, J, sv);
            if (rc == RNN_OK)
                rc = rnn_spectrum_radius(ws, J, &unused, &max_re);
            if (rc == RNN_OK)
                rc = rnn_cell_step_jacobian(c, t, s, u, P);
            if (rc == RNN_OK)
                rc = rnn_spectrum_radius(ws, P, &radius, &unused);
            if (rc == RNN_OK) {
                positive += max_re > GS_POSITIVE_RE * sv[0];
                above += radius > 1 + GS_RADIUS_TOL;
                rc = rnn_cell_step(c, t, s, u, s2);
                memcpy(s, s2, m * sizeof(double));
            }
            if (rc != RNN_OK)
                snprintf(inner, sizeof inner, "step %zu (t = %g): %s", n, t, rnn_strerror(rc));
        }
    }
    if (rc == RNN_OK) {
        g->share[2 * task] = (double)positive / (double)g->steps;
        g->share[2 * task + 1] = (double)above / (double)g->steps;
    } else {
        snprintf(msg, len, "antisym_gated, gamma = %g, seed %zu: %s", gs_gammas[gi], r,
                 inner[0] ? inner : rnn_strerror(rc));
    }
    free(buf);
    rnn_eig_ws_free(ws);
    rnn_input_free(in);
    rnn_cell_free(c);
    return rc;
}

static int exp_gated_share(unsigned long seed, const char *out_dir, size_t threads, int progress,
                           int quick, char *msg, size_t len)
{
    gated_ctx g = {.seed = seed, .m = quick ? 8 : 32, .steps = quick ? 50 : 500,
                   .seeds = quick ? 2 : 8};
    const size_t n_tasks = N_GS_GAMMAS * g.seeds;
    g.share = malloc(2 * n_tasks * sizeof(double));
    if (!g.share) {
        snprintf(msg, len, "gated-share: out of memory");
        return RNN_ENOMEM;
    }
    int rc = run_tasks(n_tasks, gated_task, &g, threads, progress, "gated-share", msg, len);
    csv_file f;
    if (rc == RNN_OK)
        rc = csv_begin(&f, "gated-share", out_dir, seed, quick, msg, len);
    if (rc == RNN_OK) {
        fprintf(f.f,
                "# claim: (observation, THEORY.md §4.1) [AS] remarks that the stability criterion "
                "\"still holds\" for the gated cell; its ODE Jacobian diag(e) (W - W^T - gamma I), e "
                "= z tanh'(a_h) + tanh(a_h) sig'(a_z), has e_i < 0 where tanh(a_h) is negative "
                "enough, so eigenvalues with a positive real part can appear (and -gamma e_i > 0 "
                "there: diffusion pushes those directions outwards)\n"
                "# settings: antisym_gated at its defaults except gamma, m = %zu, d = %d, sines "
                "input, s0 ~ N(0, %g^2), %zu steps, %zu seeds (streams gated-share:cell, :input, "
                ":s0 with index = seed; the same cell, input and state at every gamma); at the "
                "state s_n of every step n = 0..%zu: share_re_positive counts max Re lambda(df/ds) "
                "> %g ||df/ds||_2, share_radius_above_one counts rho(I + eps df/ds) > 1 + %g\n",
                g.m, D_INPUT, S0_SCALE, g.steps, g.seeds, g.steps - 1, GS_POSITIVE_RE,
                GS_RADIUS_TOL);
        cell_line(f.f, rnn_cell_antisym_gated);
        fprintf(f.f, "gamma,seed,share_re_positive,share_radius_above_one\n");
        for (size_t t = 0; t < n_tasks; t++)
            fprintf(f.f, "%.17g,%zu,%.17g,%.17g\n", gs_gammas[t / g.seeds], t % g.seeds,
                    g.share[2 * t], g.share[2 * t + 1]);
        rc = csv_commit(&f, msg, len);
    }
    free(g.share);
    return rc;
}

/* ---- convergence -------------------------------------------------------------------------------- */

/* The cells of the convergence figure: the five first-order cells and two rk: cells of orders
 * 2 and 4 on the tanh ODE (family names, found with rnn_cell_type_find). */
static const char *const cv_cells[] = {"tanh", "antisym", "cornn", "lstm", "gru",
                                       "rk:midpoint:tanh", "rk:rk4:tanh"};
#define N_CV_CELLS (sizeof cv_cells / sizeof cv_cells[0])

typedef struct {
    unsigned long seed;
    size_t m;
    const rnn_cell_type *types[N_CV_CELLS];
    rnn_converge_result res[N_CV_CELLS];
} converge_ctx;

static int converge_task(void *vctx, size_t task, char *msg, size_t len)
{
    converge_ctx *g = vctx;
    const rnn_cell_type *type = g->types[task];
    driven_run d;
    int rc = driven_run_open(&d, type, g->m, g->seed, "convergence", task);
    char inner[TASK_MSG - 64] = "";
    if (rc == RNN_OK) {
        rnn_converge_opts o;
        rnn_converge_opts_for_order(&o, type->order, type->history);
        rc = rnn_converge(d.c, d.in, d.s0, &o, &g->res[task], inner, sizeof inner);
    }
    if (rc != RNN_OK)
        snprintf(msg, len, "%s: %s", type->name, inner[0] ? inner : rnn_strerror(rc));
    driven_run_close(&d);
    return rc;
}

static int exp_convergence(unsigned long seed, const char *out_dir, size_t threads, int progress,
                           int quick, char *msg, size_t len)
{
    converge_ctx *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(msg, len, "convergence: out of memory");
        return RNN_ENOMEM;
    }
    g->seed = seed;
    g->m = quick ? 4 : 8;
    int rc = RNN_OK;
    for (size_t i = 0; i < N_CV_CELLS && rc == RNN_OK; i++)
        if (!(g->types[i] = rnn_cell_type_find(cv_cells[i], msg, len)))
            rc = RNN_EINVAL;
    if (rc == RNN_OK)
        rc = run_tasks(N_CV_CELLS, converge_task, g, threads, progress, "convergence", msg, len);
    csv_file f;
    if (rc == RNN_OK)
        rc = csv_begin(&f, "convergence", out_dir, seed, quick, msg, len);
    if (rc == RNN_OK) {
        fprintf(f.f,
                "# claim: every cell converges to its ODE at its order p: E(dt) ~ C dt^p "
                "(THEORY.md §3, order.<cell>)\n"
                "# settings: m = %zu, d = %d, sines input, s0 ~ N(0, %g^2) (streams convergence:cell, "
                ":input, :s0 with index = the cell's position in the list); rnn_converge with the "
                "defaults for the cell's order (as 'odernn converge'): E(dt) = max_n |s_n - s(t_n)|_inf "
                "/ max_n |s(t_n)|_inf on [0, 4] against CVODE\n"
                "# columns: expected_order p (the cell's), fitted_order (least squares over the rows "
                "with in_fit = 1), slope_line = C dt^p with log C the mean of log(E / dt^p) over the "
                "rows in the fit (the reference line of slope p)\n",
                g->m, D_INPUT, S0_SCALE);
        for (size_t ci = 0; ci < N_CV_CELLS; ci++) {
            cell_line(f.f, g->types[ci]);
            fprintf(f.f, "# reference %s: rtol %g, relative error %.3g\n", cv_cells[ci],
                    g->res[ci].ref_rtol, g->res[ci].ref_error);
        }
        fprintf(f.f, "cell,expected_order,fitted_order,dt,error,slope_line,in_fit\n");
        for (size_t ci = 0; ci < N_CV_CELLS; ci++) {
            const rnn_converge_result *r = &g->res[ci];
            const int p = g->types[ci]->order;
            double logc = 0;
            for (size_t k = r->fit_first; k <= r->fit_last; k++)
                logc += log(r->err[k]) - p * log(r->dt[k]);
            logc /= (double)(r->fit_last - r->fit_first + 1);
            for (size_t k = 0; k < r->levels; k++)
                fprintf(f.f, "%s,%d,%.17g,%.17g,%.17g,%.17g,%d\n", cv_cells[ci], p, r->order,
                        r->dt[k], r->err[k], exp(logc + p * log(r->dt[k])),
                        k >= r->fit_first && k <= r->fit_last);
        }
        rc = csv_commit(&f, msg, len);
    }
    free(g);
    return rc;
}

/* ---- spectra ------------------------------------------------------------------------------------ */

/* Four panels: two ODEs (tanh, antisym) under two Runge-Kutta methods (forward Euler, the
 * cells' own step; RK4 through the rk: family), each at its default step. */
static const char *const sp_cells[] = {"tanh", "rk:rk4:tanh", "antisym", "rk:rk4:antisym"};
#define N_SP_CELLS (sizeof sp_cells / sizeof sp_cells[0])
#define SP_SNAPSHOTS 20    /* states s_n, n = 0, SP_EVERY, ..., along the trajectory */
#define SP_EVERY 25
#define SP_GRID 161        /* the stability-region grid per panel, SP_GRID x SP_GRID */

typedef struct {
    unsigned long seed;
    size_t m;
    const rnn_cell_type *types[N_SP_CELLS];
    double dt[N_SP_CELLS];
    double *z;            /* [cell][snapshot][i][2]: dt lambda_i, re and im */
} spectra_ctx;

static int spectra_task(void *vctx, size_t task, char *msg, size_t len)
{
    spectra_ctx *g = vctx;
    const size_t m = g->m;
    /* The same parameters, input and state for the two methods of one ODE (the rk: cell
     * initialises its base cell from the same seed). */
    const size_t ode = task / 2;
    rnn_cell *c = rnn_cell_alloc(g->types[task], m, D_INPUT, rnn_seed_derive(g->seed, "spectra:cell", ode));
    rnn_input *in = rnn_input_alloc_sines(D_INPUT, rnn_seed_derive(g->seed, "spectra:input", ode));
    rnn_eig_ws *ws = c ? rnn_eig_ws_alloc(c->n_state) : NULL;
    const size_t n = c ? c->n_state : 0;
    double *buf = c ? malloc((n * n + 4 * n + D_INPUT) * sizeof(double)) : NULL;
    int rc = c && in && ws && buf ? RNN_OK : RNN_ENOMEM;
    char inner[TASK_MSG - 64] = "";
    if (rc == RNN_OK) {
        double *J = buf, *s = J + n * n, *s2 = s + n, *re = s2 + n, *im = re + n, *u = im + n;
        const double dt = g->dt[task] = rnn_cell_dt(c);
        rnn_cell_random_state(c, rnn_seed_derive(g->seed, "spectra:s0", ode), S0_SCALE, s);
        for (size_t step = 0; step <= (SP_SNAPSHOTS - 1) * SP_EVERY && rc == RNN_OK; step++) {
            const double t = (double)step * dt;
            rnn_input_eval(in, t, u);
            if (step % SP_EVERY == 0) {
                double *z = g->z + ((task * SP_SNAPSHOTS + step / SP_EVERY) * m) * 2;
                rc = rnn_cell_ode_jacobian(c, t, s, u, J);
                if (rc == RNN_OK)
                    rc = rnn_spectrum_eigvals(ws, J, re, im);
                for (size_t i = 0; i < n && rc == RNN_OK; i++) {
                    z[2 * i] = dt * re[i];
                    z[2 * i + 1] = dt * im[i];
                }
            }
            if (rc == RNN_OK)
                rc = rnn_cell_step(c, t, s, u, s2);
            if (rc == RNN_OK)
                memcpy(s, s2, n * sizeof(double));
            else
                snprintf(inner, sizeof inner, "step %zu (t = %g): %s", step, t, rnn_strerror(rc));
        }
    }
    if (rc != RNN_OK)
        snprintf(msg, len, "%s: %s", g->types[task]->name, inner[0] ? inner : rnn_strerror(rc));
    free(buf);
    rnn_eig_ws_free(ws);
    rnn_input_free(in);
    rnn_cell_free(c);
    return rc;
}

static int exp_spectra(unsigned long seed, const char *out_dir, size_t threads, int progress,
                       int quick, char *msg, size_t len)
{
    spectra_ctx g = {.seed = seed, .m = quick ? 4 : 32};
    int rc = RNN_OK;
    for (size_t i = 0; i < N_SP_CELLS && rc == RNN_OK; i++) {
        if (!(g.types[i] = rnn_cell_type_find(sp_cells[i], msg, len)))
            rc = RNN_EINVAL;
        else if (!g.types[i]->tableau || !rnn_tableau_find(g.types[i]->tableau) ||
                 g.types[i]->state_dim(g.types[i], g.m) != g.m) {
            snprintf(msg, len, "spectra: %s is not a Runge-Kutta cell with state size m", sp_cells[i]);
            rc = RNN_EINVAL;
        }
    }
    if (rc != RNN_OK)
        return rc;
    g.z = malloc(N_SP_CELLS * SP_SNAPSHOTS * g.m * 2 * sizeof(double));
    if (!g.z) {
        snprintf(msg, len, "spectra: out of memory");
        return RNN_ENOMEM;
    }
    rc = run_tasks(N_SP_CELLS, spectra_task, &g, threads, progress, "spectra", msg, len);
    csv_file f;
    if (rc == RNN_OK)
        rc = csv_begin(&f, "spectra", out_dir, seed, quick, msg, len);
    if (rc == RNN_OK) {
        fprintf(f.f,
                "# claim: a Runge-Kutta step is linearly stable where every dt lambda of the ODE "
                "Jacobian lies in the method's region |R(z)| <= 1 (THEORY.md §6; [HW II] §IV.2); "
                "Euler's disk |1 + z| <= 1 touches the imaginary axis only at 0, so the "
                "antisymmetric ODE's nearly imaginary spectrum sits on its edge ([AS] Prop. 2), "
                "while RK4's region contains the segment |Im z| < 2.83 of the axis\n"
                "# settings: m = %zu, d = %d, sines input, s0 ~ N(0, %g^2) (streams spectra:cell, "
                ":input, :s0 with index 0 for the tanh ODE, 1 for the antisym ODE: both methods of "
                "one ODE share parameters, input and s0); z = dt lambda_i(df/ds at s_n) for n = 0, "
                "%d, ..., %d along the cell's own trajectory\n",
                g.m, D_INPUT, S0_SCALE, SP_EVERY, (SP_SNAPSHOTS - 1) * SP_EVERY);
        for (size_t ci = 0; ci < N_SP_CELLS; ci++)
            fprintf(f.f, "# panel %s: method %s, dt = %.17g\n", sp_cells[ci], g.types[ci]->tableau,
                    g.dt[ci]);
        fprintf(f.f, "cell,method,step,index,re,im\n");
        for (size_t ci = 0; ci < N_SP_CELLS; ci++)
            for (size_t k = 0; k < SP_SNAPSHOTS; k++)
                for (size_t i = 0; i < g.m; i++) {
                    const double *z = g.z + ((ci * SP_SNAPSHOTS + k) * g.m + i) * 2;
                    fprintf(f.f, "%s,%s,%zu,%zu,%.17g,%.17g\n", sp_cells[ci], g.types[ci]->tableau,
                            k * SP_EVERY, i + 1, z[0], z[1]);
                }
        rc = csv_commit(&f, msg, len);
    }
    /* The second file: |R(z)| on a grid around each panel's eigenvalues (and the origin), for
     * the region drawn behind them. The window: a square around the bounding box of the points,
     * the origin (at least [-0.1, 0.1]^2) and the stability region, 15% larger. */
    const rnn_experiment_def *e = rnn_experiments_find("spectra");
    if (rc == RNN_OK)
        rc = csv_open(&f, out_dir, e->files[1], msg, len);
    if (rc == RNN_OK) {
        fprintf(f.f, "# odernn experiment spectra (stability regions)\n# source: %s\n"
                "# abs_R: |R(x + i y)| with R(z) = 1 + z b^T (I - z A)^{-1} 1 of the panel's "
                "Butcher tableau (rnn_tableau_stability_abs); the region is abs_R <= 1\n"
                "# grid: %d x %d points over the window of each panel (a square 1.15 times the "
                "bounding box of the eigenvalues, the origin and the region)\n", e->source, SP_GRID, SP_GRID);
        fprintf(f.f, "cell,method,x,y,abs_R\n");
        for (size_t ci = 0; ci < N_SP_CELLS; ci++) {
            double lo[2] = {-0.1, -0.1}, hi[2] = {0.1, 0.1};
            for (size_t k = 0; k < SP_SNAPSHOTS * g.m; k++)
                for (int a = 0; a < 2; a++) {
                    const double v = g.z[(ci * SP_SNAPSHOTS * g.m + k) * 2 + a];
                    lo[a] = fmin(lo[a], v);
                    hi[a] = fmax(hi[a], v);
                }
            /* and the whole stability region, so that its edge is not cut: the bounding box of
             * {|R(z)| <= 1} on a 0.02 grid over [-6, 1] x [-4, 4] (explicit tableaux: bounded) */
            const rnn_tableau *tb = rnn_tableau_find(g.types[ci]->tableau);
            for (double x = -6.0; x <= 1.0; x += 0.02)
                for (double y = -4.0; y <= 4.0; y += 0.02)
                    if (rnn_tableau_stability_abs(tb, x, y) <= 1.0) {
                        lo[0] = fmin(lo[0], x);
                        hi[0] = fmax(hi[0], x);
                        lo[1] = fmin(lo[1], y);
                        hi[1] = fmax(hi[1], y);
                    }
            /* a square window (the figure draws both axes to the same scale) */
            const double half = 0.5 * 1.15 * fmax(hi[0] - lo[0], hi[1] - lo[1]),
                         mid[2] = {0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1])};
            for (int a = 0; a < 2; a++) {
                lo[a] = mid[a] - half;
                hi[a] = mid[a] + half;
            }
            const rnn_tableau *tab = rnn_tableau_find(g.types[ci]->tableau);
            for (size_t i = 0; i < SP_GRID; i++)
                for (size_t j = 0; j < SP_GRID; j++) {
                    const double x = lo[0] + (hi[0] - lo[0]) * (double)i / (SP_GRID - 1),
                                 y = lo[1] + (hi[1] - lo[1]) * (double)j / (SP_GRID - 1);
                    fprintf(f.f, "%s,%s,%.9g,%.9g,%.9g\n", sp_cells[ci], tab->name, x, y,
                            rnn_tableau_stability_abs(tab, x, y));
                }
        }
        rc = csv_commit(&f, msg, len);
    }
    free(g.z);
    return rc;
}

/* ---- lyap-spectra ------------------------------------------------------------------------------- */

static const char *const ls_cells[] = {"tanh", "antisym", "cornn", "lstm", "gru"};
#define N_LS_CELLS (sizeof ls_cells / sizeof ls_cells[0])
#define LS_MAX_STATE 64

typedef struct {
    unsigned long seed;
    size_t m, seeds, transient, steps;
    const rnn_cell_type *types[N_LS_CELLS];
    size_t n_state[N_LS_CELLS];
    double *exps; /* [cell][seed][LS_MAX_STATE], per unit time, sorted descending */
} lyapspec_ctx;

static int cmp_desc(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static int lyapspec_task(void *vctx, size_t task, char *msg, size_t len)
{
    lyapspec_ctx *g = vctx;
    const size_t ci = task / g->seeds, r = task % g->seeds;
    const rnn_cell_type *type = g->types[ci];
    driven_run d;
    int rc = driven_run_open(&d, type, g->m, g->seed, "lyap-spectra", r);
    const size_t n = d.c ? d.c->n_state : 0;
    rnn_lyap_result *res = d.c ? rnn_lyap_result_alloc(n, n, 10) : NULL;
    if (rc == RNN_OK && !res)
        rc = RNN_ENOMEM;
    char inner[TASK_MSG - 64] = "";
    if (rc == RNN_OK && n > LS_MAX_STATE) {
        snprintf(inner, sizeof inner, "state size %zu > %d", n, LS_MAX_STATE);
        rc = RNN_EINVAL;
    }
    if (rc == RNN_OK) {
        rnn_lyap_opts o = {.k = n, .transient = g->transient, .steps = g->steps, .reorth = 1,
                           .blocks = 10};
        rc = rnn_lyap_spectrum(d.c, d.in, d.s0, &o, res, inner, sizeof inner);
    }
    if (rc == RNN_OK) {
        double *e = g->exps + task * LS_MAX_STATE;
        for (size_t i = 0; i < n; i++)
            e[i] = res->exponents[i] / rnn_cell_dt(d.c);
        qsort(e, n, sizeof(double), cmp_desc);
        g->n_state[ci] = n;
    } else {
        snprintf(msg, len, "%s, seed %zu: %s", type->name, r, inner[0] ? inner : rnn_strerror(rc));
    }
    rnn_lyap_result_free(res);
    driven_run_close(&d);
    return rc;
}

static int exp_lyap_spectra(unsigned long seed, const char *out_dir, size_t threads, int progress,
                            int quick, char *msg, size_t len)
{
    lyapspec_ctx g = {.seed = seed, .m = quick ? 4 : 16, .seeds = quick ? 2 : 8,
                      .transient = quick ? 100 : 1000, .steps = quick ? 500 : 5000};
    int rc = find_types(N_LS_CELLS, ls_cells, g.types, msg, len);
    if (rc != RNN_OK)
        return rc;
    const size_t n_tasks = N_LS_CELLS * g.seeds;
    g.exps = malloc(n_tasks * LS_MAX_STATE * sizeof(double));
    if (!g.exps) {
        snprintf(msg, len, "lyap-spectra: out of memory");
        return RNN_ENOMEM;
    }
    rc = run_tasks(n_tasks, lyapspec_task, &g, threads, progress, "lyap-spectra", msg, len);
    csv_file f;
    if (rc == RNN_OK)
        rc = csv_begin(&f, "lyap-spectra", out_dir, seed, quick, msg, len);
    if (rc == RNN_OK) {
        fprintf(f.f,
                "# claim: (observation, THEORY.md §6) the Lyapunov spectra per unit time of the cells "
                "at their defaults: the antisymmetric cell's exponents sit near 0 (long memory, [AS] "
                "§3), tanh's and the gated cells' are negative\n"
                "# settings: m = %zu, d = %d, sines input, s0 ~ N(0, %g^2), %zu seeds (streams "
                "lyap-spectra:cell, :input, :s0 with index r, shared by the cells); QR every step, "
                "%zu transient + %zu measured steps, the full spectrum; each seed's exponents sorted "
                "descending, divided by dt\n"
                "# columns: exponent = the mean over seeds of the index-th largest exponent; ci_lo, "
                "ci_hi = its 95%% Student-t interval over seeds\n",
                g.m, D_INPUT, S0_SCALE, g.seeds, g.transient, g.steps);
        for (size_t ci = 0; ci < N_LS_CELLS; ci++)
            cell_line(f.f, g.types[ci]);
        fprintf(f.f, "cell,index,exponent,ci_lo,ci_hi,seeds\n");
        for (size_t ci = 0; ci < N_LS_CELLS; ci++)
            for (size_t i = 0; i < g.n_state[ci]; i++) {
                double mean, half;
                rnn_mean_ci95(g.seeds, g.exps + ci * g.seeds * LS_MAX_STATE + i, LS_MAX_STATE,
                              &mean, &half);
                fprintf(f.f, "%s,%zu,%.17g,%.17g,%.17g,%zu\n", ls_cells[ci], i + 1, mean,
                        mean - half, mean + half, g.seeds);
            }
        rc = csv_commit(&f, msg, len);
    }
    free(g.exps);
    return rc;
}

/* ---- energy ------------------------------------------------------------------------------------- */

/* Two of the official code's task settings (dt, gamma, eps): the default one, where both schemes
 * stay below the bound, and (0.06, 66, 15), where the explicit scheme exceeds it
 * (cornn.explicit-vs-imex). */
static const double en_settings[][3] = {{0.042, 2.7, 4.7}, {0.06, 66, 15}};
#define N_EN_SETTINGS (sizeof en_settings / sizeof en_settings[0])

typedef struct {
    unsigned long seed;
    size_t m, N;
    const rnn_cell_type *types[N_CC_CELLS];
    double *E; /* [setting][cell][2][N + 1]: energy and bound */
} energy_ctx;

static int energy_task(void *vctx, size_t task, char *msg, size_t len)
{
    energy_ctx *g = vctx;
    const size_t si = task / N_CC_CELLS, ci = task % N_CC_CELLS, N = g->N;
    /* The same parameters, input and state for both schemes and settings. */
    rnn_cell *c = rnn_cell_alloc(g->types[ci], g->m, D_INPUT, rnn_seed_derive(g->seed, "energy:cell", 0));
    char inner[TASK_MSG - 64] = "";
    char a[3][64];
    snprintf(a[0], sizeof a[0], "dt=%.17g", en_settings[si][0]);
    snprintf(a[1], sizeof a[1], "gamma=%.17g", en_settings[si][1]);
    snprintf(a[2], sizeof a[2], "eps=%.17g", en_settings[si][2]);
    const char *as[3] = {a[0], a[1], a[2]};
    int rc = c ? rnn_cell_set_assignments(c, 3, as, inner, sizeof inner) : RNN_ENOMEM;
    rnn_input *in = rc == RNN_OK ? rnn_input_alloc_gaussian(RNN_INPUT_HOLD, D_INPUT, N, 0.0,
                                                            rnn_cell_dt(c),
                                                            rnn_seed_derive(g->seed, "energy:input", 0))
                                 : NULL;
    double *S = c ? malloc((N + 1) * c->n_state * sizeof(double)) : NULL;
    if (rc == RNN_OK && (!in || !S))
        rc = RNN_ENOMEM;
    if (rc == RNN_OK) {
        rnn_cell_random_state(c, rnn_seed_derive(g->seed, "energy:s0", 0), S0_SCALE, S);
        rc = rnn_cell_run(c, in, 0.0, S, N, S);
        if (rc != RNN_OK)
            snprintf(inner, sizeof inner, "the trajectory failed: %s", rnn_strerror(rc));
    }
    if (rc == RNN_OK) {
        const double dt = en_settings[si][0], gamma = en_settings[si][1], eps = en_settings[si][2];
        const double k = 2 * eps - gamma * dt;
        double *E = g->E + task * 2 * (N + 1), *B = E + N + 1;
        for (size_t i = 0; i <= N; i++) {
            E[i] = rnn_cornn_energy(g->m, gamma, S + i * c->n_state);
            B[i] = E[0] + (double)g->m * (double)i * dt / k;
        }
    } else {
        snprintf(msg, len, "%s at (dt, gamma, eps) = (%g, %g, %g): %s", g->types[ci]->name,
                 en_settings[si][0], en_settings[si][1], en_settings[si][2],
                 inner[0] ? inner : rnn_strerror(rc));
    }
    free(S);
    rnn_input_free(in);
    rnn_cell_free(c);
    return rc;
}

static int exp_energy(unsigned long seed, const char *out_dir, size_t threads, int progress,
                      int quick, char *msg, size_t len)
{
    energy_ctx g = {.seed = seed, .m = quick ? 8 : 64, .N = quick ? 200 : 2000};
    int rc = find_types(N_CC_CELLS, cc_cells, g.types, msg, len);
    if (rc != RNN_OK)
        return rc;
    for (size_t si = 0; si < N_EN_SETTINGS; si++)
        if (!(en_settings[si][1] * en_settings[si][0] < 2 * en_settings[si][2])) {
            snprintf(msg, len, "energy: setting %zu has no bound (gamma dt >= 2 eps)", si);
            return RNN_EINVAL;
        }
    const size_t n_tasks = N_EN_SETTINGS * N_CC_CELLS;
    g.E = malloc(n_tasks * 2 * (g.N + 1) * sizeof(double));
    if (!g.E) {
        snprintf(msg, len, "energy: out of memory");
        return RNN_ENOMEM;
    }
    rc = run_tasks(n_tasks, energy_task, &g, threads, progress, "energy", msg, len);
    csv_file f;
    if (rc == RNN_OK)
        rc = csv_begin(&f, "energy", out_dir, seed, quick, msg, len);
    if (rc == RNN_OK) {
        fprintf(f.f,
                "# claim: [CO] Prop. 3.1 (THEORY.md §4.2): for the IMEX coRNN, E_n = gamma |y_n|^2 + "
                "|z_n|^2 <= E_0 + m t_n / (2 eps - gamma dt) for all weights and inputs; the "
                "official code's explicit scheme is measured against the same bound\n"
                "# settings: m = %zu, d = %d, a held standard-Gaussian input (one sample per step), "
                "s0 ~ N(0, %g^2), N = %zu steps; the same parameters, input and state (streams "
                "energy:cell, :input, :s0, index 0) for both schemes and settings\n",
                g.m, D_INPUT, S0_SCALE, g.N);
        for (size_t si = 0; si < N_EN_SETTINGS; si++)
            fprintf(f.f, "# setting %zu: dt = %g, gamma = %g, eps = %g\n", si, en_settings[si][0],
                    en_settings[si][1], en_settings[si][2]);
        fprintf(f.f, "cell,setting,dt,gamma,eps,step,t,energy,bound\n");
        for (size_t t = 0; t < n_tasks; t++) {
            const size_t si = t / N_CC_CELLS, ci = t % N_CC_CELLS;
            const double *E = g.E + t * 2 * (g.N + 1), *B = E + g.N + 1;
            for (size_t i = 0; i <= g.N; i++)
                fprintf(f.f, "%s,%zu,%g,%g,%g,%zu,%.17g,%.17g,%.17g\n", cc_cells[ci], si,
                        en_settings[si][0], en_settings[si][1], en_settings[si][2], i,
                        (double)i * en_settings[si][0], E[i], B[i]);
        }
        rc = csv_commit(&f, msg, len);
    }
    free(g.E);
    return rc;
}

/* ---- antisym-region ----------------------------------------------------------------------------- */

/* The (eps, gamma) map of `odernn region antisym --hidden M --input zero --s0 zero --x
 * eps=A:B:N --y gamma=A:B:N --metric grad-growth --steps T --seed S`, computed the same way
 * (the cell from rnn_cell_alloc(antisym, M, 1, S) as the program does, zero input, s0 = 0, the
 * grid point's hyperparameters set, rnn_region_metric), and the boundary [AS] predicts: the
 * linearisation at the equilibrium (where the pre-activation is 0, so tanh' = 1) is
 * I + eps (A - gamma I), A = W - W^T, eigenvalues 1 + eps(-gamma + i omega_j); Euler is stable
 * iff |1 + eps lambda_j| <= 1 for all j, i.e. eps (gamma^2 + omega_max^2) <= 2 gamma:
 * the boundary is eps = 2 gamma / (gamma^2 + omega_max^2). */
#define AR_M 16
#define AR_BOUNDARY_POINTS 801

typedef struct {
    unsigned long seed;
    size_t steps;
    rnn_region_axis ax[2];
    double *values;
} aregion_ctx;

static int aregion_task(void *vctx, size_t task, char *msg, size_t len)
{
    aregion_ctx *g = vctx;
    const size_t i = task / g->ax[1].n, j = task % g->ax[1].n;
    rnn_cell *c = rnn_cell_alloc(rnn_cell_antisym, AR_M, 1, g->seed);
    rnn_input *in = rnn_input_alloc_zero(1);
    double *s0 = c ? calloc(c->n_state, sizeof(double)) : NULL;
    int rc = c && in && s0 ? RNN_OK : RNN_ENOMEM;
    char inner[TASK_MSG - 64] = "";
    if (rc == RNN_OK)
        rc = rnn_cell_set_hyper(c, g->ax[0].name, rnn_region_axis_value(&g->ax[0], i), inner, sizeof inner);
    if (rc == RNN_OK)
        rc = rnn_cell_set_hyper(c, g->ax[1].name, rnn_region_axis_value(&g->ax[1], j), inner, sizeof inner);
    if (rc == RNN_OK)
        rc = rnn_region_metric(c, in, s0, RNN_REGION_GRAD_GROWTH, g->steps, &g->values[task],
                               inner, sizeof inner);
    if (rc != RNN_OK)
        snprintf(msg, len, "antisym at (eps, gamma) = (%g, %g): %s",
                 rnn_region_axis_value(&g->ax[0], i), rnn_region_axis_value(&g->ax[1], j),
                 inner[0] ? inner : rnn_strerror(rc));
    free(s0);
    rnn_input_free(in);
    rnn_cell_free(c);
    return rc;
}

/* The shortest %.*g that reads back as the same double, and inf, -inf, nan: the format of
 * `odernn region` (cli/cmd_region.c), so that the two files' data rows are byte-identical. */
static void print_g(FILE *f, double v)
{
    char buf[40];
    if (isnan(v))
        fputs("nan", f);
    else if (isinf(v))
        fputs(v > 0 ? "inf" : "-inf", f);
    else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
        fputs(buf, f);
    }
}

static int exp_antisym_region(unsigned long seed, const char *out_dir, size_t threads,
                              int progress, int quick, char *msg, size_t len)
{
    aregion_ctx g = {.seed = seed, .steps = quick ? 100 : 1000};
    const char *spec[2] = {quick ? "eps=0.01:0.5:6" : "eps=0.005:0.5:100",
                           quick ? "gamma=0:8:5" : "gamma=0:8:81"};
    int rc = RNN_OK;
    for (int k = 0; k < 2 && rc == RNN_OK; k++)
        rc = rnn_region_axis_parse(spec[k], &g.ax[k], msg, len);
    if (rc != RNN_OK)
        return rc;
    const size_t total = g.ax[0].n * g.ax[1].n;
    /* omega_max of A = W - W^T of the same cell. */
    rnn_cell *c = rnn_cell_alloc(rnn_cell_antisym, AR_M, 1, seed);
    rnn_eig_ws *ws = rnn_eig_ws_alloc(AR_M);
    double *A = malloc((AR_M * AR_M + 2 * AR_M) * sizeof(double));
    g.values = malloc(total * sizeof(double));
    if (!c || !ws || !A || !g.values) {
        rc = RNN_ENOMEM;
        snprintf(msg, len, "antisym-region: out of memory");
    }
    double omega_max = 0;
    if (rc == RNN_OK) {
        const rnn_block *W = rnn_cell_block(c, "W");
        const double *w = c->params + W->offset;
        for (size_t i = 0; i < AR_M; i++)
            for (size_t j = 0; j < AR_M; j++)
                A[i * AR_M + j] = w[i * AR_M + j] - w[j * AR_M + i];
        double *re = A + AR_M * AR_M, *im = re + AR_M;
        rc = rnn_spectrum_eigvals(ws, A, re, im);
        for (size_t i = 0; i < AR_M && rc == RNN_OK; i++)
            omega_max = fmax(omega_max, fabs(im[i]));
        if (rc != RNN_OK)
            snprintf(msg, len, "antisym-region: the eigenvalues of W - W^T: %s", rnn_strerror(rc));
    }
    if (rc == RNN_OK)
        rc = run_tasks(total, aregion_task, &g, threads, progress, "antisym-region", msg, len);
    csv_file f;
    if (rc == RNN_OK)
        rc = csv_begin(&f, "antisym-region", out_dir, seed, quick, msg, len);
    if (rc == RNN_OK) {
        fprintf(f.f,
                "# claim: [AS] Prop. 2 and THEORY.md §4.1 antisym.euler-condition: forward Euler "
                "on h' = tanh((A - gamma I) h + b) is stable near its equilibrium iff |1 + eps "
                "lambda_j| <= 1 for lambda_j = -gamma + i omega_j, i.e. eps (gamma^2 + "
                "omega_max^2) <= 2 gamma (antisym-boundary.csv); the map measures the growth of "
                "perturbations along the trajectory\n"
                "# equivalent: odernn region antisym --hidden %d --input zero --s0 zero --x %s --y "
                "%s --metric grad-growth --steps %zu --seed %lu\n",
                AR_M, spec[0], spec[1], g.steps, seed);
        for (int k = 0; k < 2; k++)
            fprintf(f.f, "# %s: %s\n", k ? "y" : "x", g.ax[k].name);
        fprintf(f.f, "# metric: %s — %s\n# omega_max: %.17g\n",
                rnn_region_metric_name(RNN_REGION_GRAD_GROWTH),
                rnn_region_metric_doc(RNN_REGION_GRAD_GROWTH), omega_max);
        cell_line(f.f, rnn_cell_antisym);
        fprintf(f.f, "x,y,metric,value\n");
        for (size_t q = 0; q < total; q++) {
            print_g(f.f, rnn_region_axis_value(&g.ax[0], q / g.ax[1].n));
            fputc(',', f.f);
            print_g(f.f, rnn_region_axis_value(&g.ax[1], q % g.ax[1].n));
            fprintf(f.f, ",%s,", rnn_region_metric_name(RNN_REGION_GRAD_GROWTH));
            print_g(f.f, g.values[q]);
            fputc('\n', f.f);
        }
        rc = csv_commit(&f, msg, len);
    }
    const rnn_experiment_def *e = rnn_experiments_find("antisym-region");
    if (rc == RNN_OK)
        rc = csv_open(&f, out_dir, e->files[1], msg, len);
    if (rc == RNN_OK) {
        const double gmax = fmax(g.ax[1].a, g.ax[1].b);
        fprintf(f.f, "# odernn experiment antisym-region (the predicted boundary)\n# source: %s\n"
                "# omega_max: %.17g (the largest |Im lambda| of W - W^T, m = %d, seed %lu)\n"
                "# boundary: eps = 2 gamma / (gamma^2 + omega_max^2), from |1 + eps (-gamma + i "
                "omega_max)| = 1; Euler is stable for eps below it (largest, 1 / omega_max, at "
                "gamma = omega_max)\n",
                e->source, omega_max, AR_M, seed);
        fprintf(f.f, "gamma,eps_boundary\n");
        for (size_t i = 0; i < AR_BOUNDARY_POINTS; i++) {
            const double gm = gmax * (double)i / (AR_BOUNDARY_POINTS - 1);
            fprintf(f.f, "%.17g,%.17g\n", gm, 2 * gm / (gm * gm + omega_max * omega_max));
        }
        rc = csv_commit(&f, msg, len);
    }
    free(g.values);
    free(A);
    rnn_eig_ws_free(ws);
    rnn_cell_free(c);
    return rc;
}

/* ---- the registry ------------------------------------------------------------------------------- */

static const char *const files_as_fig1[] = {"as-fig1.csv", NULL};
static const char *const files_gradnorm[] = {"gradnorm.csv", NULL};
static const char *const files_contrib[] = {"cornn-contributions.csv", NULL};
static const char *const files_lyap_dt[] = {"lyap-dt.csv", NULL};
static const char *const files_gated[] = {"gated-share.csv", NULL};
static const char *const files_convergence[] = {"convergence.csv", NULL};
static const char *const files_spectra[] = {"spectra.csv", "stability-regions.csv", NULL};
static const char *const files_lyap_spectra[] = {"lyap-spectra.csv", NULL};
static const char *const files_energy[] = {"energy.csv", NULL};
static const char *const files_aregion[] = {"antisym-region.csv", "antisym-boundary.csv", NULL};

static const rnn_experiment_def experiments[] = {
    {"as-fig1", "2-D feedback maps: residual h + 0.1 tanh(W h) and vanilla tanh(W h), 4 matrices",
     "[AS] Chang et al., ICLR 2019, Fig. 1", exp_as_fig1, files_as_fig1},
    {"gradnorm", "log10 ||ds_T/ds_0|| against T = 1..10^4 for the five cells, 8 seeds",
     "[AS] §3 (long memory); [CO] Rusch & Mishra, ICLR 2021, Prop. 3.2; [PA] Pascanu et al. 2013",
     exp_gradnorm, files_gradnorm},
    {"cornn-contributions", "contribution of step k to dL_N/dtheta against N - k, both coRNN schemes",
     "[CO] Rusch & Mishra, ICLR 2021, Prop. 3.3", exp_cornn_contributions, files_contrib},
    {"lyap-dt", "Lyapunov spectra per unit time as dt shrinks, against the ODE's (CVODE)",
     "THEORY.md §6 lyap.discrete-to-ode (derived)", exp_lyap_dt, files_lyap_dt},
    {"gated-share", "share of steps where the gated cell's Jacobian has Re lambda > 0, against gamma",
     "[AS] eq. 13 and §3 (observation, THEORY.md §4.1)", exp_gated_share, files_gated},
    {"convergence", "global error against dt of seven cells (orders 1, 2, 4) against CVODE",
     "THEORY.md §3 order.<cell> (derived)", exp_convergence, files_convergence},
    {"spectra", "dt lambda of the ODE Jacobian along trajectories, with the method's stability region",
     "[AS] Prop. 2; [HW II] §IV.2 (stability functions)", exp_spectra, files_spectra},
    {"lyap-spectra", "sorted Lyapunov spectra per unit time of five cells with 95% intervals over seeds",
     "THEORY.md §6 (observation)", exp_lyap_spectra, files_lyap_spectra},
    {"energy", "coRNN energy and its bound along trajectories, IMEX and explicit, two settings",
     "[CO] Rusch & Mishra, ICLR 2021, Prop. 3.1; THEORY.md §4.2", exp_energy, files_energy},
    {"antisym-region", "grad-growth of antisym over (eps, gamma) with the predicted Euler boundary",
     "[AS] Prop. 2; THEORY.md §4.1 antisym.euler-condition", exp_antisym_region, files_aregion},
};
#define N_EXPERIMENTS (sizeof experiments / sizeof experiments[0])

size_t rnn_experiments_count(void)
{
    return N_EXPERIMENTS;
}

const rnn_experiment_def *rnn_experiments_get(size_t i)
{
    return i < N_EXPERIMENTS ? &experiments[i] : NULL;
}

const rnn_experiment_def *rnn_experiments_find(const char *name)
{
    for (size_t i = 0; name && i < N_EXPERIMENTS; i++)
        if (strcmp(experiments[i].name, name) == 0)
            return &experiments[i];
    return NULL;
}

const char *rnn_experiments_names(void)
{
    static char names[512];
    if (!names[0]) {
        size_t k = 0;
        for (size_t i = 0; i < N_EXPERIMENTS && k < sizeof names; i++)
            k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "",
                                  experiments[i].name);
    }
    return names;
}
