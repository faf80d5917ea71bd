/*
 * bench_stability.c — how fast the stability engine is: a region map, a gradient-norm curve
 * and a full Lyapunov spectrum, each against a target stated in the issue.
 *
 * Entry point: int bench_stability(void), called from bench_step.c's main (the bench binary has
 * one main). Built alone with -DBENCH_STABILITY_MAIN it has its own main, for running it by
 * itself:  cc $(CPPFLAGS) $(CFLAGS) -fopenmp -DBENCH_STABILITY_MAIN bench/bench_stability.c
 *          build/libodernn.a $(LDLIBS)
 *
 *   1. Region map: `odernn region tanh --x dt=0.05:1:101 --y wscale=0.5:2:101 --metric ftle-max
 *      --hidden 32 --steps 1000`, i.e. 101 x 101 points, m = 32, T = 1000 (+ T/10 transient
 *      steps), every point its own cell, input and initial state exactly as cli/cmd_region.c
 *      makes them (seed 1, sines input, s0 ~ N(0, 0.5^2)), in parallel over points with OpenMP
 *      on all cores, OpenBLAS single-threaded inside (as the command does). Target: < 60 s.
 *   2. ||dh_t/dh_0||_2 for every t = 1..10^4 of the tanh cell at m = 128 (rnn_grad_tangent with
 *      the lags 1..10^4) against the dgemm roofline of its products: 10^4 products of 128 x 128
 *      matrices, 10^4 * 2 * 128^3 flops at the dgemm rate measured at n = 128 in this run.
 *      Target: within 1.5x. Split: the same product with one lag (the norms' share is the
 *      difference), and the parts of one step timed alone (step Jacobian, step, the dgemm).
 *   3. The full Lyapunov spectrum, m = 128, T = 10^4 steps, k = n, no transient, QR every step
 *      (rnn_lyap_spectrum), against the time implied by the same dgemm rate for
 *      2 n^3 (Z = J Q) + 4/3 n^3 (Householder QR, dgeqrf) + 4/3 n^3 (forming Q, dorgqr)
 *      = 14/3 n^3 flops per step (the QR method as textbooks state it). Target: within 2x.
 *      The library never forms Q (it applies the next J straight from dgeqrf's reflectors
 *      with dormqr: 10/3 n^3 flops), so the ratio against its own flop count is printed too.
 *      Split: dormqr and dgeqrf on 128 x 128 timed alone with their flop rates, the step
 *      Jacobian and the step; and the textbook path's dgemm and dorgqr for comparison.
 *
 * Timing: CLOCK_MONOTONIC. Rates (dgemm, the parts) by repeating a call until a batch takes
 * ~20 ms, then the best of 8 rounds of ~50 ms (the least disturbed by the rest of the machine).
 * The three big runs are timed once each (they take seconds). PASS/MISS is information; the
 * return value is 0 unless something failed to run. OpenBLAS runs on one thread throughout
 * (restored at the end): the map is parallel over points, and the roofline of sections 2-3 is
 * the single-core dgemm rate.
 *
 * cblas.h here is OpenBLAS's (openblas_set_num_threads); no GSL header that pulls in
 * gsl_cblas.h may join it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>
#include <cblas.h>
#include <lapacke.h>
#include "analysis.h"

#define RG_SEED 1UL           /* the CLI's default --seed */
#define RG_M 32
#define RG_N 101
#define RG_STEPS 1000
#define RG_TARGET_S 60.0
#define CURVE_M 128
#define CURVE_T 10000
#define CURVE_TARGET 1.5
#define LYAP_M 128
#define LYAP_T 10000
#define LYAP_TARGET 2.0
#define BS_ROUNDS 8
#define BS_ROUND_S 0.05
#define BS_CALIBRATE_S 0.02

static double bs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef int (*bs_fn)(void *ctx);

/* Seconds per call, best round; negative rnn_status if a call failed. */
static double bs_time_per_call(bs_fn f, void *ctx)
{
    size_t reps = 1;
    double t;
    for (;;) {
        double t0 = bs_now();
        for (size_t i = 0; i < reps; i++)
            if (f(ctx))
                return -1;
        t = bs_now() - t0;
        if (t >= BS_CALIBRATE_S || reps >= ((size_t)1 << 30))
            break;
        reps *= 2;
    }
    size_t n = (size_t)(BS_ROUND_S / (t / (double)reps));
    if (n < 1)
        n = 1;
    double best = INFINITY;
    for (int r = 0; r < BS_ROUNDS; r++) {
        double t0 = bs_now();
        for (size_t i = 0; i < n; i++)
            if (f(ctx))
                return -1;
        double dt = (bs_now() - t0) / (double)n;
        if (dt < best)
            best = dt;
    }
    return best;
}

static double *bs_alloc(size_t n)
{
    double *x = malloc((n ? n : 1) * sizeof(double));
    if (!x) {
        fprintf(stderr, "odernn-bench: out of memory\n");
        exit(1);
    }
    return x;
}

static void bs_fill(const char *stream, size_t n, double *x)
{
    gsl_rng *r = rnn_rng_alloc(RG_SEED, stream, n);
    if (!r) {
        fprintf(stderr, "odernn-bench: out of memory\n");
        exit(1);
    }
    rnn_fill_uniform(r, 1.0, n, x);
    gsl_rng_free(r);
}

static const char *verdict(double ratio, double target)
{
    return ratio <= target ? "PASS" : "MISS";
}

/* ---- the parts, as timed kernels ------------------------------------------------------------ */

typedef struct {
    int n;
    int col_trans;  /* 0: row-major NN (gradient.c); 1: column-major TN (lyapunov.c) */
    const double *A, *B;
    double *C;
} bs_gemm;

static int bs_gemm_call(void *p)
{
    bs_gemm *g = p;
    if (g->col_trans)
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, g->n, g->n, g->n, 1.0, g->A, g->n,
                    g->B, g->n, 0.0, g->C, g->n);
    else
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->n, g->n, g->n, 1.0, g->A, g->n,
                    g->B, g->n, 0.0, g->C, g->n);
    return 0;
}

/* QR parts on a copy of a fixed matrix (the copy is timed too; it is n^2 against n^3). */
typedef struct {
    lapack_int n, lwork;
    const double *A0;
    double *A, *tau, *work;
    int which; /* 0: dgeqrf; 1: dorgqr (on a factorised A0) */
} bs_qr;

static int bs_qr_call(void *p)
{
    bs_qr *q = p;
    memcpy(q->A, q->A0, (size_t)q->n * (size_t)q->n * sizeof(double));
    lapack_int info =
        q->which == 0
            ? LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, q->n, q->n, q->A, q->n, q->tau, q->work, q->lwork)
            : LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, q->n, q->n, q->n, q->A, q->n, q->tau, q->work,
                                  q->lwork);
    return info != 0;
}

/* C = C0^T Q with Q held as the reflectors of a dgeqrf factorisation (F, tau): the row-major
 * C0 transposed in 32 x 32 tiles, then dormqr, as rnn_lyap_spectrum does with the step
 * Jacobian. */
typedef struct {
    lapack_int n, lwork;
    const double *F, *tau, *C0;
    double *C, *work;
} bs_ormqr;

static int bs_ormqr_call(void *p)
{
    bs_ormqr *q = p;
    const size_t n = (size_t)q->n;
    for (size_t i0 = 0; i0 < n; i0 += 32)
        for (size_t j0 = 0; j0 < n; j0 += 32)
            for (size_t i = i0; i < i0 + 32 && i < n; i++)
                for (size_t j = j0; j < j0 + 32 && j < n; j++)
                    q->C[j * n + i] = q->C0[i * n + j];
    return LAPACKE_dormqr_work(LAPACK_COL_MAJOR, 'R', 'N', q->n, q->n, q->n, q->F, q->n, q->tau,
                               q->C, q->n, q->work, q->lwork) != 0;
}

typedef struct {
    const rnn_cell *c;
    const double *s, *u;
    double *out;
    int jac;
} bs_step;

static int bs_step_call(void *p)
{
    bs_step *x = p;
    return x->jac ? rnn_cell_step_jacobian(x->c, 0.0, x->s, x->u, x->out)
                  : rnn_cell_step(x->c, 0.0, x->s, x->u, x->out);
}

/* GFLOP/s of dgemm on n x n in the given layout. */
static double bs_dgemm_rate(int n, int col_trans, double *sec)
{
    const size_t nn = (size_t)n * (size_t)n;
    double *A = bs_alloc(nn), *B = bs_alloc(nn), *C = bs_alloc(nn);
    bs_fill("bench-stab-A", nn, A);
    bs_fill("bench-stab-B", nn, B);
    bs_gemm g = {n, col_trans, A, B, C};
    *sec = bs_time_per_call(bs_gemm_call, &g);
    free(A);
    free(B);
    free(C);
    return 2.0 * (double)n * (double)n * (double)n / *sec * 1e-9;
}

/* Seconds per step Jacobian and per step of a tanh cell of size m at a random state. */
static void bs_step_parts(size_t m, double *t_jac, double *t_step)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, m, 1, RG_SEED);
    double *s = bs_alloc(m), *u = bs_alloc(1), *out = bs_alloc(m * m);
    if (!c) {
        fprintf(stderr, "odernn-bench: out of memory\n");
        exit(1);
    }
    rnn_cell_random_state(c, 7, 0.5, s);
    u[0] = 0.3;
    bs_step x = {c, s, u, out, 1};
    *t_jac = bs_time_per_call(bs_step_call, &x);
    x.jac = 0;
    *t_step = bs_time_per_call(bs_step_call, &x);
    free(s);
    free(u);
    free(out);
    rnn_cell_free(c);
}

/* ---- 1. the region map ------------------------------------------------------------------------ */

/* One point, made as cli/cmd_region.c makes it (cli_make_cell with the defaults, the axes set
 * together, re-initialised because wscale is an initialisation hyperparameter, sines input,
 * s0 ~ N(0, 0.5^2) from the CLI's streams). */
static int region_point(double dt, double wscale, double *value, char *msg, size_t len)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, RG_M, 1, RG_SEED);
    rnn_input *in = NULL;
    double *s0 = NULL;
    int rc = RNN_ENOMEM;
    if (!c)
        goto out;
    char a0[64], a1[64];
    snprintf(a0, sizeof a0, "dt=%.17g", dt);
    snprintf(a1, sizeof a1, "wscale=%.17g", wscale);
    const char *as[2] = {a0, a1};
    if ((rc = rnn_cell_set_assignments(c, 2, as, msg, len)) != RNN_OK)
        goto out;
    rnn_cell_init(c, c->seed);
    rc = RNN_ENOMEM;
    in = rnn_input_alloc_sines(c->d, rnn_seed_derive(RG_SEED, "cli:input", 0));
    s0 = malloc(c->n_state * sizeof(double));
    if (!in || !s0)
        goto out;
    rnn_cell_random_state(c, rnn_seed_derive(RG_SEED, "cli:s0", 0), 0.5, s0);
    rc = rnn_region_metric(c, in, s0, RNN_REGION_FTLE_MAX, RG_STEPS, value, msg, len);
out:
    free(s0);
    rnn_input_free(in);
    rnn_cell_free(c);
    return rc;
}

static int bench_region(void)
{
    rnn_region_axis ax[2];
    char msg[512];
    if (rnn_region_axis_parse("dt=0.05:1:101", &ax[0], msg, sizeof msg) != RNN_OK ||
        rnn_region_axis_parse("wscale=0.5:2:101", &ax[1], msg, sizeof msg) != RNN_OK) {
        printf("region map: %s\n\n", msg);
        return 1;
    }
    const size_t nx = ax[0].n, ny = ax[1].n, total = nx * ny;
    double *values = bs_alloc(total);
    int threads = omp_get_max_threads();
    int failed = 0;
    double t0 = bs_now();
#pragma omp parallel for schedule(dynamic)
    for (size_t q = 0; q < total; q++) {
        char m[512];
        if (region_point(rnn_region_axis_value(&ax[0], q / ny), rnn_region_axis_value(&ax[1], q % ny),
                         &values[q], m, sizeof m) != RNN_OK) {
#pragma omp critical(bench_region_fail)
            {
                if (!failed)
                    fprintf(stderr, "odernn-bench: region point %zu: %s\n", q, m);
                failed = 1;
            }
        }
    }
    double sec = bs_now() - t0;
    double lo = INFINITY, hi = -INFINITY;
    size_t nonfinite = 0;
    for (size_t q = 0; q < total; q++) {
        if (!isfinite(values[q])) {
            nonfinite++;
            continue;
        }
        lo = fmin(lo, values[q]);
        hi = fmax(hi, values[q]);
    }
    printf("1. region map: tanh, m = %d, T = %d (+ %d transient), ftle-max, --x dt=0.05:1:101 "
           "--y wscale=0.5:2:101\n", RG_M, RG_STEPS, RG_STEPS / 10);
    printf("   %zu points on %d OpenMP threads (OpenBLAS 1 thread inside)\n", total, threads);
    if (failed) {
        printf("   FAILED (see stderr)\n\n");
        free(values);
        return 1;
    }
    printf("   time %.2f s  (%.2f ms per point per thread, %.0f points/s)\n", sec,
           sec * threads / (double)total * 1e3, (double)total / sec);
    printf("   values in [%.4g, %.4g], %zu non-finite\n", lo, hi, nonfinite);
    printf("   target < %.0f s: %s\n\n", RG_TARGET_S, sec < RG_TARGET_S ? "PASS" : "MISS");
    free(values);
    return 0;
}

/* ---- 2. the gradient-norm curve --------------------------------------------------------------- */

static int bench_curve(double rate128, double t_gemm)
{
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, CURVE_M, 1, RG_SEED);
    rnn_input *in = rnn_input_alloc_sines(1, rnn_seed_derive(RG_SEED, "cli:input", 0));
    size_t *lags = malloc(CURVE_T * sizeof(size_t));
    double *log_norm = bs_alloc(CURVE_T), *s0 = bs_alloc(CURVE_M);
    char msg[512];
    int rc = RNN_ENOMEM;
    if (!c || !in || !lags)
        goto out;
    rnn_cell_random_state(c, rnn_seed_derive(RG_SEED, "cli:s0", 0), 0.5, s0);
    for (size_t t = 0; t < CURVE_T; t++)
        lags[t] = t + 1;
    const double flops = (double)CURVE_T * 2.0 * pow(CURVE_M, 3);
    const double roof = flops / (rate128 * 1e9);

    double t0 = bs_now();
    rc = rnn_grad_tangent(c, in, s0, CURVE_T, lags, log_norm, msg, sizeof msg);
    double t_all = bs_now() - t0;
    if (rc != RNN_OK)
        goto out;
    double last = log_norm[CURVE_T - 1];
    t0 = bs_now();
    rc = rnn_grad_tangent(c, in, s0, 1, &lags[CURVE_T - 1], log_norm, msg, sizeof msg);
    double t_one = bs_now() - t0;
    if (rc != RNN_OK)
        goto out;
    double t_jac, t_step;
    bs_step_parts(CURVE_M, &t_jac, &t_step);

    printf("2. ||dh_t/dh_0||_2 for every t = 1..%d: tanh, m = %d (rnn_grad_tangent, %d lags)\n",
           CURVE_T, CURVE_M, CURVE_T);
    printf("   log ||dh_T/dh_0||_2 at T = %d: %.6g (one-lag run: %.6g)\n", CURVE_T, last,
           log_norm[0]);
    printf("   roofline: %d products x 2 x %d^3 = %.3g GFLOP at %.2f GFLOP/s (dgemm n = %d) = %.3f s\n",
           CURVE_T, CURVE_M, flops * 1e-9, rate128, CURVE_M, roof);
    printf("   measured %.3f s  ratio %.2f  target <= %.1f: %s\n", t_all, t_all / roof, CURVE_TARGET,
           verdict(t_all / roof, CURVE_TARGET));
    printf("   where the time goes (per step; the parts timed alone, x %d):\n", CURVE_T);
    printf("     whole, every lag               %8.1f us\n", t_all / CURVE_T * 1e6);
    printf("     whole, one lag (product only)  %8.1f us   (%.2fx the roofline)\n",
           t_one / CURVE_T * 1e6, t_one / roof);
    printf("     => norms at every t            %8.1f us   (%.0f%%)\n",
           (t_all - t_one) / CURVE_T * 1e6, 100 * (t_all - t_one) / t_all);
    printf("     dgemm J M (n = %d)             %8.1f us   (%.0f%%)\n", CURVE_M, t_gemm * 1e6,
           100 * t_gemm * CURVE_T / t_all);
    printf("     step Jacobian                  %8.1f us   (%.0f%%)\n", t_jac * 1e6,
           100 * t_jac * CURVE_T / t_all);
    printf("     step                           %8.1f us   (%.0f%%)\n", t_step * 1e6,
           100 * t_step * CURVE_T / t_all);
    double rest = t_one / CURVE_T - t_gemm - t_jac - t_step;
    printf("     rest of the product (renormalise, copies, input) %6.1f us   (%.0f%%)\n\n",
           rest * 1e6, 100 * rest * CURVE_T / t_all);
out:
    if (rc != RNN_OK)
        printf("2. gradient curve FAILED: %s\n\n", rc == RNN_ENOMEM ? "out of memory" : msg);
    free(lags);
    free(log_norm);
    free(s0);
    rnn_input_free(in);
    rnn_cell_free(c);
    return rc != RNN_OK;
}

/* ---- 3. the full Lyapunov spectrum ------------------------------------------------------------- */

static int bench_lyapunov(double rate128)
{
    const int n = LYAP_M;
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, LYAP_M, 1, RG_SEED);
    rnn_input *in = rnn_input_alloc_sines(1, rnn_seed_derive(RG_SEED, "cli:input", 0));
    rnn_lyap_result *r = rnn_lyap_result_alloc(LYAP_M, LYAP_M, 10);
    double *s0 = bs_alloc(LYAP_M);
    char msg[512];
    int rc = RNN_ENOMEM;
    if (!c || !in || !r)
        goto out;
    rnn_cell_random_state(c, rnn_seed_derive(RG_SEED, "cli:s0", 0), 0.5, s0);
    rnn_lyap_opts o;
    rnn_lyap_opts_default(&o);
    o.k = 0; /* all */
    o.transient = 0;
    o.steps = LYAP_T;
    o.reorth = 1;
    o.blocks = 10;
    const double n3 = pow(n, 3), flops_step = 2 * n3 + 4.0 / 3 * n3 + 4.0 / 3 * n3;
    const double implied = LYAP_T * flops_step / (rate128 * 1e9);
    double t0 = bs_now();
    rc = rnn_lyap_spectrum(c, in, s0, &o, r, msg, sizeof msg);
    double sec = bs_now() - t0;
    if (rc != RNN_OK)
        goto out;

    /* The parts alone, on a fixed matrix like J Q: the library's dgeqrf and dormqr (from
     * dgeqrf's reflectors, with the transpose of J in); the textbook path's dorgqr and dgemm
     * for comparison; the step Jacobian and the step. */
    const size_t nn = (size_t)n * (size_t)n;
    double *A0 = bs_alloc(nn), *A = bs_alloc(nn), *F = bs_alloc(nn), *tau = bs_alloc((size_t)n),
           *C0 = bs_alloc(nn);
    bs_fill("bench-stab-qr", nn, A0);
    bs_fill("bench-stab-J", nn, C0);
    double q1 = 0, q2 = 0, q3 = 0;
    LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, n, n, A, n, tau, &q1, -1);
    LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, n, n, n, A, n, tau, &q2, -1);
    LAPACKE_dormqr_work(LAPACK_COL_MAJOR, 'R', 'N', n, n, n, A, n, tau, F, n, &q3, -1);
    lapack_int lwork = (lapack_int)fmax(fmax(q1, q2), q3) + 1;
    double *work = bs_alloc((size_t)lwork);
    memcpy(F, A0, nn * sizeof(double));
    LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, n, n, F, n, tau, work, lwork);
    bs_qr qf = {n, lwork, A0, A, tau, work, 0}, qo = {n, lwork, F, A, tau, work, 1};
    bs_ormqr qm = {n, lwork, F, tau, C0, A, work};
    double t_ormqr = bs_time_per_call(bs_ormqr_call, &qm);
    double t_geqrf = bs_time_per_call(bs_qr_call, &qf), t_orgqr = bs_time_per_call(bs_qr_call, &qo);
    double t_gemm, rate_ct = bs_dgemm_rate(n, 1, &t_gemm);
    double t_jac, t_step;
    bs_step_parts(LYAP_M, &t_jac, &t_step);
    free(C0);
    free(A0);
    free(A);
    free(F);
    free(tau);
    free(work);

    const double own_flops = 2 * n3 + 4.0 / 3 * n3, own_implied = LYAP_T * own_flops / (rate128 * 1e9);
    printf("3. full Lyapunov spectrum: tanh, m = %d, T = %d, k = n, transient 0, QR every step\n",
           LYAP_M, LYAP_T);
    printf("   lambda_1..3 = %.6g, %.6g, %.6g; lambda_n = %.6g per step; sum %.6g\n",
           r->exponents[0], r->exponents[1], r->exponents[2], r->exponents[LYAP_M - 1], r->sum);
    printf("   implied (the QR method: Z = J Q, QR of Z, Q formed): %d steps x (2 n^3 + 4/3 n^3 + "
           "4/3 n^3 = 14/3 n^3 = %.3g MFLOP)\n     = %.3g GFLOP at %.2f GFLOP/s = %.3f s\n", LYAP_T,
           flops_step * 1e-6, LYAP_T * flops_step * 1e-9, rate128, implied);
    printf("   measured %.3f s  ratio %.2f  target <= %.1f: %s\n", sec, sec / implied, LYAP_TARGET,
           verdict(sec / implied, LYAP_TARGET));
    printf("   (the library never forms Q: against its own 2 n^3 + 4/3 n^3 = 10/3 n^3 per step, "
           "%.3f s, the ratio is %.2f)\n", own_implied, sec / own_implied);
    double per = sec / LYAP_T;
    printf("   where the time goes (per step; the parts timed alone):\n");
    printf("     whole step                       %8.1f us\n", per * 1e6);
    printf("     dormqr Z = J Q (2 n^3, J^T in)   %8.1f us  (%.0f%%)  %6.2f GFLOP/s\n",
           t_ormqr * 1e6, 100 * t_ormqr / per, 2 * n3 / t_ormqr * 1e-9);
    printf("     dgeqrf (4/3 n^3)                 %8.1f us  (%.0f%%)  %6.2f GFLOP/s\n",
           t_geqrf * 1e6, 100 * t_geqrf / per, 4.0 / 3 * n3 / t_geqrf * 1e-9);
    printf("     step Jacobian                    %8.1f us  (%.0f%%)\n", t_jac * 1e6,
           100 * t_jac / per);
    printf("     step                             %8.1f us  (%.0f%%)\n", t_step * 1e6,
           100 * t_step / per);
    double rest = per - t_ormqr - t_geqrf - t_jac - t_step;
    printf("     rest (log |R_ii|, block sums; noise if < 0) %5.1f us  (%.0f%%)\n", rest * 1e6,
           100 * rest / per);
    printf("   for comparison, the textbook step (what the library did before):\n");
    printf("     dgemm Z = J Q (col-major TN)     %8.1f us   %6.2f GFLOP/s\n", t_gemm * 1e6, rate_ct);
    printf("     dorgqr (4/3 n^3)                 %8.1f us   %6.2f GFLOP/s\n", t_orgqr * 1e6,
           4.0 / 3 * n3 / t_orgqr * 1e-9);
    printf("     dgemm + dgeqrf + dorgqr + Jacobian + step %8.1f us: ratio ~%.2f\n\n",
           (t_gemm + t_geqrf + t_orgqr + t_jac + t_step) * 1e6,
           (t_gemm + t_geqrf + t_orgqr + t_jac + t_step) * LYAP_T / implied);
out:
    if (rc != RNN_OK)
        printf("3. Lyapunov spectrum FAILED: %s\n\n", rc == RNN_ENOMEM ? "out of memory" : msg);
    free(s0);
    rnn_lyap_result_free(r);
    rnn_input_free(in);
    rnn_cell_free(c);
    return rc != RNN_OK;
}

int bench_stability(void)
{
    double t_start = bs_now();
    int blas_threads = openblas_get_num_threads();
    printf("odernn-bench: stability engine (OpenBLAS %s; %d OpenMP threads)\n",
           openblas_get_config(), omp_get_max_threads());
    printf("BLAS runs on 1 thread throughout: the map is parallel over points, and sections 2-3\n"
           "are sequential chains of 128 x 128 products whose roofline is the single-core dgemm\n"
           "rate (with %d BLAS threads, OpenBLAS's waiting threads spin in sched_yield whenever\n"
           "another process holds a core, which measures the machine, not the code)\n\n",
           blas_threads);
    openblas_set_num_threads(1);
    int bad = bench_region();
    double t_gemm, rate128 = bs_dgemm_rate(CURVE_M, 0, &t_gemm);
    printf("dgemm n = %d (row-major NN, the shape of rnn_grad_tangent's J M), 1 thread: %.2f "
           "GFLOP/s, %.1f us per product\n\n", CURVE_M, rate128, t_gemm * 1e6);
    bad |= bench_curve(rate128, t_gemm);
    bad |= bench_lyapunov(rate128);
    openblas_set_num_threads(blas_threads);
    printf("stability bench time %.1f s\n", bs_now() - t_start);
    return bad;
}

#ifdef BENCH_STABILITY_MAIN
int main(void)
{
    return bench_stability();
}
#endif
