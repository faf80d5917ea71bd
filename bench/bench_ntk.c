/*
 * bench_ntk.c — what the kernel-limit experiments cost (analysis/ntk.c, THEORY.md §7): one
 * online SGD step with forward (RTRL) gradients, and one entry of the empirical NTK Gram matrix,
 * against the width N, with the fitted cost exponents.
 *
 * Entry point: int bench_ntk(void), called from bench_step.c's main (the bench binary has one
 * main). Built alone with -DBENCH_NTK_MAIN it has its own main:
 *   cc $(CPPFLAGS) $(CFLAGS) -fopenmp -DBENCH_NTK_MAIN bench/bench_ntk.c build/libodernn.a $(LDLIBS)
 *
 *   1. rnn_ntk_sgd_step (forward, RTRL, daxpy update) for readings (a) and (b), d = 1,
 *      N = 256 .. 65536: seconds per step, nanoseconds per unit, and the least-squares slope of
 *      log(seconds) against log N over N >= 1024 (where the per-call overhead is negligible).
 *      Expected: 1 for both readings (docs/theory/kernel-limit.md §2: (b)'s exact RTRL needs two
 *      scalars, not an N x N sensitivity matrix).
 *   2. rnn_ntk_gram on P = 16 probe histories of length L = 24 (the sweep's sizes): seconds per
 *      Gram matrix, per entry (P (P + 1) / 2 entries), the share of the dsyrk alone, and the
 *      slope against N. The gradients cost P L N unit updates and the dsyrk P^2 N (d + 2) flops,
 *      so both parts are linear in N: expected slope 1.
 *
 * Timing: CLOCK_MONOTONIC; a call is repeated until a batch takes ~20 ms, then the best of 5
 * such batches is kept (the least disturbed by the rest of the machine). OpenBLAS runs on one
 * thread (the sweep runs one network per core). Information only: the return value is 0 unless
 * something failed to run.
 *
 * cblas.h is OpenBLAS's; no GSL header that pulls gsl_cblas.h may join it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cblas.h>
#include "analysis.h"

#define BATCH_S 0.02
#define ROUNDS 5
#define P_PROBES 16
#define L_HIST 24
#define N_MIN_FIT 1024

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    rnn_ntk_net *net;
    double *X, *G, *K;
    size_t k;
} bench_ctx;

static void call_sgd(bench_ctx *b)
{
    double x = sin(0.1 * (double)b->k++);
    rnn_ntk_sgd_step(b->net, &x, 0.3 * x);
}

static void call_gram(bench_ctx *b)
{
    rnn_ntk_gram(b->net, P_PROBES, L_HIST, b->X, b->G, b->K, NULL);
}

static void call_syrk(bench_ctx *b)
{
    const int n = (int)(b->net->o.N * b->net->p);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, P_PROBES, n, 1.0, b->G, n, 0.0, b->K,
                P_PROBES);
}

static double time_call(void (*f)(bench_ctx *), bench_ctx *b)
{
    size_t reps = 1;
    for (;;) {
        double t0 = now();
        for (size_t i = 0; i < reps; i++)
            f(b);
        if (now() - t0 >= BATCH_S || reps >= ((size_t)1 << 28))
            break;
        reps *= 2;
    }
    double best = INFINITY;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now();
        for (size_t i = 0; i < reps; i++)
            f(b);
        best = fmin(best, (now() - t0) / (double)reps);
    }
    return best;
}

int bench_ntk(void)
{
    static const size_t widths[] = {256, 1024, 4096, 16384, 65536};
    const size_t nw = sizeof widths / sizeof widths[0];
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    double lx[8], ls[2][8], lg[8];
    size_t nfit = 0;
    int rc = 0;
    double X[P_PROBES * L_HIST];
    for (size_t k = 0; k < P_PROBES * L_HIST; k++)
        X[k] = 1.5 * sin(0.77 * (double)k * (double)k);

    printf("\nkernel limit (analysis/ntk.c): online SGD step with RTRL, and the NTK Gram matrix "
           "(P = %d probes, L = %d), d = 1, one thread\n", P_PROBES, L_HIST);
    printf("%7s | %12s %9s | %12s %9s | %12s %12s %9s\n", "N", "step (a) s", "ns/unit",
           "step (b) s", "ns/unit", "Gram s", "per entry s", "dsyrk %");
    printf("--------+------------------------+------------------------+----------------------"
           "--------------\n");
    for (size_t i = 0; i < nw && rc == 0; i++) {
        const size_t N = widths[i];
        double step[2], gram = NAN, syrk = NAN;
        for (int r = 0; r < 2 && rc == 0; r++) {
            rnn_ntk_opts o;
            rnn_ntk_opts_default(&o, N, 1);
            o.reading = (rnn_ntk_reading)r;
            bench_ctx b = {rnn_ntk_net_alloc(&o, 1), X, malloc(P_PROBES * N * 3 * sizeof(double)),
                           malloc(P_PROBES * P_PROBES * sizeof(double)), 0};
            if (!b.net || !b.G || !b.K) {
                rc = 1;
            } else {
                step[r] = time_call(call_sgd, &b);
                if (r == 0) {
                    gram = time_call(call_gram, &b);
                    syrk = time_call(call_syrk, &b);
                }
            }
            rnn_ntk_net_free(b.net);
            free(b.G);
            free(b.K);
        }
        if (rc)
            break;
        const double entries = P_PROBES * (P_PROBES + 1) / 2.0;
        printf("%7zu | %12.3e %9.2f | %12.3e %9.2f | %12.3e %12.3e %8.1f%%\n", N, step[0],
               1e9 * step[0] / (double)N, step[1], 1e9 * step[1] / (double)N, gram,
               gram / entries, 100 * syrk / gram);
        if (N >= N_MIN_FIT) {
            lx[nfit] = log((double)N);
            ls[0][nfit] = log(step[0]);
            ls[1][nfit] = log(step[1]);
            lg[nfit] = log(gram);
            nfit++;
        }
    }
    if (rc == 0 && nfit >= 2) {
        double sa, sb, sg;
        rnn_fit_line(nfit, lx, ls[0], &sa, NULL, NULL);
        rnn_fit_line(nfit, lx, ls[1], &sb, NULL, NULL);
        rnn_fit_line(nfit, lx, lg, &sg, NULL, NULL);
        printf("cost exponents over N >= %d: SGD step (a) %.3f, (b) %.3f; Gram entry %.3f "
               "(expected 1, 1, 1)\n", N_MIN_FIT, sa, sb, sg);
    } else if (rc) {
        printf("  out of memory\n");
    }
    openblas_set_num_threads(blas_threads);
    return rc;
}

#ifdef BENCH_NTK_MAIN
int main(void)
{
    return bench_ntk();
}
#endif
