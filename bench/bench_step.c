/*
 * bench_step.c — how fast a forward step is, measured against dgemm on the same machine.
 *
 * What it measures, all in one run (so the numbers share one machine state):
 *
 *   1. The dgemm rate. cblas_dgemm on a square row-major problem, n = 1024, counted as
 *      2 n^3 flops; and on the exact shape of the tanh step's matrix product,
 *      C[nb x m] = X[nb x m] W^T, i.e. dgemm(RowMajor, NoTrans, Trans, nb, m, m), counted
 *      as 2 m^2 nb flops. (For nb == 1 the cell calls dgemv instead; the dgemm row is still
 *      printed as the reference.)
 *   2. The batched forward step of the tanh cell, rnn_cell_step_batch, for m in
 *      {64, 256, 1024} and nb in {1, 64}, with d = 1. A step is counted as
 *      2 m^2 nb + 2 m d nb flops (W s and U u; the bias, tanh and the Euler update are
 *      O(m nb) and not counted, so the rate is what a step achieves on its useful work).
 *      Reported as steps/s, samples*steps/s, GFLOP/s and the ratio to the n = 1024 rate.
 *      The target — at m = 256, nb = 64 a step reaches at least half the dgemm
 *      rate — is printed as information only; the exit code does not depend on it.
 *   3. Where a step's time goes at m = 256, nb = 64: each part of the step (W s and U u
 *      products, the one-pass bias + tanh + Euler update, the wrapper's finiteness check) timed
 *      alone on the data of a real rollout, next to the whole step.
 *   4. One unbatched step (rnn_cell_step) of every registered cell at m = 256, d = 1,
 *      relative to the tanh cell.
 *
 * How: every measurement calls its kernel through one timing routine. It doubles the
 * repeat count until a batch of calls takes ~20 ms (which also warms caches and the BLAS
 * thread pool), then runs ROUNDS rounds sized to fill TARGET_S seconds together and keeps
 * the fastest round's time per call: the best round is the least disturbed by the rest
 * of the machine. Clock: clock_gettime(CLOCK_MONOTONIC). All buffers are allocated and
 * filled before timing; steps swap two state buffers so each step reads the last one's
 * output, as a real rollout does. Inputs come from fixed seeds.
 *
 * cblas.h here is OpenBLAS's; no GSL header that pulls in gsl_cblas.h may join it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include <gsl/gsl_rng.h>
#include "cell.h"
#include "solvers.h"

#define SEED 20240601UL
#define TARGET_S 0.4      /* seconds per measurement, all rounds together */
#define CALIBRATE_S 0.02  /* a batch this long sets the repeat count */
#define ROUNDS 8
#define SQUARE_N 1024
#define TARGET_M 256      /* the target shape */
#define TARGET_NB 64

static const size_t ms[] = {64, 256, 1024};
static const size_t nbs[] = {1, 64};
#define N_MS (sizeof ms / sizeof ms[0])
#define N_NBS (sizeof nbs / sizeof nbs[0])

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One call of the kernel under test; nonzero stops the measurement (an rnn_status). */
typedef int (*bench_fn)(void *ctx);

/* Seconds per call (best round), or a negative rnn_status if a call failed. */
static double time_per_call(bench_fn f, void *ctx)
{
    size_t reps = 1;
    double t;
    for (;;) {
        double t0 = now();
        for (size_t i = 0; i < reps; i++) {
            int rc = f(ctx);
            if (rc)
                return -(double)rc;
        }
        t = now() - t0;
        if (t >= CALIBRATE_S || reps >= ((size_t)1 << 30))
            break;
        reps *= 2;
    }
    /* Calls per round so that ROUNDS rounds fill TARGET_S. */
    double per_round = TARGET_S / ROUNDS;
    size_t n = (size_t)(per_round / (t / (double)reps));
    if (n < 1)
        n = 1;
    double best = INFINITY;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) {
            int rc = f(ctx);
            if (rc)
                return -(double)rc;
        }
        double dt = (now() - t0) / (double)n;
        if (dt < best)
            best = dt;
    }
    return best;
}

static double *alloc_doubles(size_t n)
{
    double *x = malloc((n ? n : 1) * sizeof(double));
    if (!x) {
        fprintf(stderr, "odernn-bench: out of memory\n");
        exit(1);
    }
    return x;
}

/* U(-1, 1) entries from a named stream, so each buffer is reproducible on its own. */
static void fill_uniform(const char *stream, unsigned long index, size_t n, double *x)
{
    gsl_rng *r = rnn_rng_alloc(SEED, stream, index);
    if (!r) {
        fprintf(stderr, "odernn-bench: out of memory\n");
        exit(1);
    }
    rnn_fill_uniform(r, 1.0, n, x);
    gsl_rng_free(r);
}

static void fill_gaussian(const char *stream, unsigned long index, double sd, size_t n,
                          double *x)
{
    gsl_rng *r = rnn_rng_alloc(SEED, stream, index);
    if (!r) {
        fprintf(stderr, "odernn-bench: out of memory\n");
        exit(1);
    }
    rnn_fill_gaussian(r, sd, n, x);
    gsl_rng_free(r);
}

/* ---- dgemm ---------------------------------------------------------------------------- */

/* C[rows x cols] = A[rows x k] B^T (trans_b) or A B, row-major. */
typedef struct {
    int rows, cols, k, trans_b;
    const double *A, *B;
    double *C;
} gemm_ctx;

static int gemm_call(void *p)
{
    gemm_ctx *g = p;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, g->trans_b ? CblasTrans : CblasNoTrans, g->rows,
                g->cols, g->k, 1.0, g->A, g->k, g->B, g->trans_b ? g->k : g->cols, 0.0, g->C,
                g->cols);
    return 0;
}

/* GFLOP/s of dgemm on the tanh step's shape: nb rows of m, times W^T for W[m x m]. */
static double gemm_step_shape_rate(size_t m, size_t nb, double *sec)
{
    double *X = alloc_doubles(nb * m), *Wm = alloc_doubles(m * m), *C = alloc_doubles(nb * m);
    fill_uniform("bench-gemm-X", m * 1000 + nb, nb * m, X);
    fill_uniform("bench-gemm-W", m, m * m, Wm);
    gemm_ctx g = {(int)nb, (int)m, (int)m, 1, X, Wm, C};
    *sec = time_per_call(gemm_call, &g);
    free(X);
    free(Wm);
    free(C);
    return 2.0 * (double)m * (double)m * (double)nb / *sec * 1e-9;
}

static double gemm_square_rate(void)
{
    const size_t n = SQUARE_N;
    double *A = alloc_doubles(n * n), *B = alloc_doubles(n * n), *C = alloc_doubles(n * n);
    fill_uniform("bench-square-A", 0, n * n, A);
    fill_uniform("bench-square-B", 0, n * n, B);
    gemm_ctx g = {(int)n, (int)n, (int)n, 0, A, B, C};
    double sec = time_per_call(gemm_call, &g);
    free(A);
    free(B);
    free(C);
    return 2.0 * (double)n * (double)n * (double)n / sec * 1e-9;
}

/* ---- cell steps ------------------------------------------------------------------------ */

/* Everything one timed step needs; s and s_out swap after each call. */
typedef struct {
    const rnn_cell *c;
    size_t nb;
    double t, dt;
    double *s, *s_out;
    const double *u;
} step_ctx;

static int step_call(void *p)
{
    step_ctx *x = p;
    int rc = x->nb == 1 ? rnn_cell_step(x->c, x->t, x->s, x->u, x->s_out)
                        : rnn_cell_step_batch(x->c, x->nb, x->t, x->s, x->u, x->s_out);
    double *tmp = x->s;
    x->s = x->s_out;
    x->s_out = tmp;
    x->t += x->dt;
    return rc;
}

/* Seconds per step of a fresh cell of this type (negative rnn_status on failure), at its
 * default dt, or at dt if dt > 0. A cell that cannot be allocated returns -RNN_ENOMEM. */
static double time_cell_step_dt(const rnn_cell_type *type, size_t m, size_t nb, double dt)
{
    const size_t d = 1;
    char msg[256];
    rnn_cell *c = rnn_cell_alloc(type, m, d, SEED);
    if (!c)
        return -(double)RNN_ENOMEM;
    int rc = dt > 0 ? rnn_cell_set_hyper(c, "dt", dt, msg, sizeof msg) : RNN_OK;
    if (rc != RNN_OK) {
        rnn_cell_free(c);
        return -(double)rc;
    }
    if (rnn_cell_reserve_batch(c, nb) != RNN_OK) {
        rnn_cell_free(c);
        return -(double)RNN_ENOMEM;
    }
    const size_t n = c->n_state;
    double *s = alloc_doubles(nb * n), *s_out = alloc_doubles(nb * n), *u = alloc_doubles(nb * d);
    /* Each sample its own seeded initial state, as in a batch of rollouts. */
    for (size_t b = 0; b < nb; b++)
        rnn_cell_random_state(c, rnn_seed_derive(SEED, "bench-state", b), 0.5, s + b * n);
    fill_gaussian("bench-input", 0, 1.0, nb * d, u);
    step_ctx x = {c, nb, 0.0, rnn_cell_dt(c), s, s_out, u};
    double sec = time_per_call(step_call, &x);
    free(s);
    free(s_out);
    free(u);
    rnn_cell_free(c);
    return sec;
}

static double time_cell_step(const rnn_cell_type *type, size_t m, size_t nb)
{
    return time_cell_step_dt(type, m, nb, 0.0);
}

static double step_flops(size_t m, size_t d, size_t nb)
{
    return 2.0 * (double)m * (double)m * (double)nb + 2.0 * (double)m * (double)d * (double)nb;
}

/* ---- the parts of one step, timed alone ------------------------------------------------- */

/* The tanh cell's elementwise part, the same call as its step: bias, tanh and the Euler
 * update in one pass (rnn_tanh_affine), on the pre-activations without the bias. */
typedef struct {
    size_t nb, m;
    double dt;
    const double *a, *bias, *s;
    double *out;
} update_ctx;

static int update_call(void *p)
{
    update_ctx *x = p;
    rnn_tanh_affine(x->nb, x->m, x->a, x->bias, x->s, 1.0 - x->dt, x->dt, x->out);
    return 0;
}

/* The wrapper's finiteness check over the output. volatile: keep the result alive. */
static volatile int finite_sink;

static int finite_call(void *p)
{
    update_ctx *x = p;
    finite_sink = rnn_all_finite(x->nb * x->m, x->out);
    return 0;
}

static void print_part(const char *what, double sec, double whole)
{
    printf("  %-34s %10.2f us  %5.1f%% of the step\n", what, sec * 1e6, 100.0 * sec / whole);
}

/* Times the parts of the tanh cell's step at the target shape one by one, right after the
 * whole step, on the data a real rollout produces: the cell's own W, U, b, a state after
 * some steps from a random start, and the pre-activations that state gives (tanh's cost
 * depends on its argument's range, so made-up arguments could mislead). */
static void breakdown(const rnn_cell_type *type)
{
    const size_t m = TARGET_M, nb = TARGET_NB, d = 1, n = m * nb;
    rnn_cell *c = rnn_cell_alloc(type, m, d, SEED);
    if (!c || rnn_cell_reserve_batch(c, nb) != RNN_OK) {
        printf("step m = %zu, nb = %zu, by part: the cell could not be allocated\n\n", m, nb);
        rnn_cell_free(c);
        return;
    }
    double *s = alloc_doubles(n), *s_out = alloc_doubles(n), *u = alloc_doubles(nb * d);
    double *a = alloc_doubles(n), *out = alloc_doubles(n);
    for (size_t b = 0; b < nb; b++)
        rnn_cell_random_state(c, rnn_seed_derive(SEED, "bench-state", b), 0.5, s + b * m);
    fill_gaussian("bench-input", 0, 1.0, nb * d, u);
    step_ctx x = {c, nb, 0.0, rnn_cell_dt(c), s, s_out, u};
    /* Leave the transient of the random start behind. */
    for (int k = 0; k < 50; k++)
        if (step_call(&x) != RNN_OK) {
            printf("step m = %zu, nb = %zu, by part: the step failed\n\n", m, nb);
            goto out;
        }
    const double *Wm = c->params + rnn_cell_block(c, "W")->offset;
    const double *Um = c->params + rnn_cell_block(c, "U")->offset;
    const double *bias = c->params + rnn_cell_block(c, "b")->offset;
    /* The pre-activations of the current state, as the step computes them. */
    rnn_gemm_rows(nb, m, m, Wm, x.s, m, 0.0, a);
    rnn_gemm_rows(nb, m, d, Um, u, d, 1.0, a);
    const double *s_now = x.s;

    double t_step = time_per_call(step_call, &x);
    gemm_ctx gw = {(int)nb, (int)m, (int)m, 1, s_now, Wm, out};
    double t_gw = time_per_call(gemm_call, &gw);
    gemm_ctx gu = {(int)nb, (int)m, (int)d, 1, u, Um, out};
    double t_gu = time_per_call(gemm_call, &gu);
    update_ctx uc = {nb, m, rnn_cell_dt(c), a, bias, s_now, out};
    double t_update = time_per_call(update_call, &uc);
    double t_finite = time_per_call(finite_call, &uc);
    double t_rest = t_step - t_gw - t_gu - t_update - t_finite;

    printf("step m = %zu, nb = %zu, by part (each timed alone, on a rollout's own data):\n", m,
           nb);
    printf("  %-34s %10.2f us\n", "whole step (rnn_cell_step_batch)", t_step * 1e6);
    print_part("dgemm X W^T", t_gw, t_step);
    print_part("dgemm U u (k = d = 1)", t_gu, t_step);
    print_part("bias + tanh + Euler update (1 pass)", t_update, t_step);
    printf("  %-34s %10.1f ns per value, %.2fx the dgemm X W^T\n", "", t_update / (double)n * 1e9,
           t_update / t_gw);
    print_part("finiteness check (wrapper)", t_finite, t_step);
    print_part("rest (dispatch; noise if < 0)", t_rest, t_step);
    printf("\n");
out:
    free(s);
    free(s_out);
    free(u);
    free(a);
    free(out);
    rnn_cell_free(c);
}

/* ---- output ------------------------------------------------------------------------------ */

static void print_failure(const char *what, double sec)
{
    printf("  %-28s failed: %s\n", what, rnn_strerror((int)-sec));
}

int bench_stability(void); /* bench_stability.c */
int bench_ntk(void);       /* bench_ntk.c */

int main(void)
{
    const rnn_cell_type *tanh_type = rnn_registry_find("tanh");
    if (!tanh_type) {
        fprintf(stderr, "odernn-bench: no tanh cell in the registry\n");
        return 1;
    }
    double t_start = now();

    printf("odernn-bench: forward step vs dgemm (OpenBLAS %s, %d threads)\n",
           openblas_get_config(), openblas_get_num_threads());
    printf("timing: best of %d rounds, ~%.1f s per measurement, CLOCK_MONOTONIC\n\n", ROUNDS,
           TARGET_S);

    /* 1. dgemm: the reference rate and the step's own shape. */
    double peak = gemm_square_rate();
    printf("dgemm %dx%dx%d (row-major, NN)            %8.2f GFLOP/s   (the reference rate)\n\n",
           SQUARE_N, SQUARE_N, SQUARE_N, peak);

    double gemm_rate[N_MS][N_NBS], gemm_sec[N_MS][N_NBS];
    for (size_t i = 0; i < N_MS; i++)
        for (size_t j = 0; j < N_NBS; j++)
            gemm_rate[i][j] = gemm_step_shape_rate(ms[i], nbs[j], &gemm_sec[i][j]);

    /* 2. The tanh cell, batched. */
    printf("tanh cell, d = 1; flops/step = 2 m^2 nb + 2 m d nb; dgemm(NT) = the step's shape "
           "[nb x m] x [m x m]^T\n");
    printf("%6s %4s | %12s %14s %9s %9s | %9s %9s %9s\n", "m", "nb", "steps/s",
           "samp*steps/s", "GFLOP/s", "/ref", "dgemm(NT)", "/ref", "step/NT");
    printf("-------------+-----------------------------------------------+---------------------"
           "--------\n");
    double target_ratio = NAN;
    for (size_t i = 0; i < N_MS; i++)
        for (size_t j = 0; j < N_NBS; j++) {
            const size_t m = ms[i], nb = nbs[j];
            double sec = time_cell_step(tanh_type, m, nb);
            if (sec < 0) {
                char what[64];
                snprintf(what, sizeof what, "tanh m = %zu nb = %zu", m, nb);
                print_failure(what, sec);
                continue;
            }
            double rate = step_flops(m, 1, nb) / sec * 1e-9;
            printf("%6zu %4zu | %12.0f %14.0f %9.2f %9.3f | %9.2f %9.3f %9.3f\n", m, nb,
                   1.0 / sec, (double)nb / sec, rate, rate / peak, gemm_rate[i][j],
                   gemm_rate[i][j] / peak, rate / gemm_rate[i][j]);
            if (m == TARGET_M && nb == TARGET_NB) {
                target_ratio = rate / peak;
            }
        }
    printf("  (nb = 1 steps use dgemv; their dgemm(NT) column is only a reference)\n\n");

    printf("target (informational): at m = %d, nb = %d a forward step reaches >= 0.5 of the "
           "dgemm rate:\n",
           TARGET_M, TARGET_NB);
    if (isnan(target_ratio))
        printf("  not measured (the step failed)\n\n");
    else
        printf("  measured ratio %.3f -> %s\n\n", target_ratio,
               target_ratio >= 0.5 ? "met" : "not met");

    /* 3. Where the target step's time goes. */
    breakdown(tanh_type);

    /* 4. Every registered cell, one unbatched step. */
    printf("every cell, one unbatched step (rnn_cell_step), m = %d, d = 1:\n", TARGET_M);
    printf("  %-38s %8s %12s %12s %10s\n", "cell", "n_state", "us/step", "steps/s", "vs tanh");
    double t_tanh = time_cell_step(tanh_type, TARGET_M, 1);
    /* The registered cells, then cells of the rk: and ms: families built on tanh. The rollout
     * feeds each step's output back, so a family cell runs at a dt inside its method's
     * stability region (AB3's ends at dt lambda = -6/11 on the real axis, and the leaky tanh
     * ODE has lambda near -1); the cost of a step does not depend on dt. */
    static const struct {
        const char *name;
        double dt;
    } families[] = {{"rk:heun:tanh", 0.25},  {"rk:rk4:tanh", 0.25}, {"rk:dormand_prince_7_4_5:tanh", 0.25},
                    {"ms:ab2:tanh", 0.25},   {"ms:ab3:tanh", 0.25}, {"ms:diff2:tanh", 0.25}};
    const size_t n_reg = rnn_registry_count(), n_fam = sizeof families / sizeof families[0];
    for (size_t i = 0; i < n_reg + n_fam; i++) {
        char msg[512], label[96];
        const rnn_cell_type *type =
            i < n_reg ? rnn_registry_get(i) : rnn_cell_type_find(families[i - n_reg].name, msg, sizeof msg);
        if (!type) {
            printf("  %-38s cannot build: %s\n", families[i - n_reg].name, msg);
            continue;
        }
        double dt = i < n_reg ? 0.0 : families[i - n_reg].dt;
        if (dt > 0)
            snprintf(label, sizeof label, "%s (dt %g)", type->name, dt);
        else
            snprintf(label, sizeof label, "%s", type->name);
        double sec = type == tanh_type ? t_tanh : time_cell_step_dt(type, TARGET_M, 1, dt);
        if (sec < 0) {
            print_failure(label, sec);
            continue;
        }
        size_t n_state = type->state_dim(type, TARGET_M);
        if (t_tanh > 0)
            printf("  %-38s %8zu %12.2f %12.0f %9.2fx\n", label, n_state, sec * 1e6, 1.0 / sec,
                   sec / t_tanh);
        else
            printf("  %-38s %8zu %12.2f %12.0f %10s\n", label, n_state, sec * 1e6, 1.0 / sec, "-");
    }

    printf("\ntotal bench time %.1f s\n", now() - t_start);
    /* The stability engine: gradient-norm curve, Lyapunov spectrum, region map (bench_stability.c). */
    bench_stability();
    bench_ntk();
    return 0;
}
