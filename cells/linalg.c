/*
 * linalg.c — the few dense kernels the cells share, on top of CBLAS.
 *
 * Batched cells keep nb states as the rows of a matrix X[nb x k]; a layer y = W x for
 * every row is then one dgemm, Y = X W^T, which is what makes batched steps fast. For
 * nb == 1 the same product is a dgemv (cheaper to dispatch).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <cblas.h>
#include "cell.h"

void rnn_gemm_rows(size_t nb, size_t r, size_t k, const double *W, const double *X, size_t ldx,
                   double beta, double *Y)
{
    if (nb == 1)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)r, (int)k, 1.0, W, (int)k, X, 1, beta, Y, 1);
    else
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)r, (int)k, 1.0, X,
                    (int)ldx, W, (int)k, beta, Y, (int)r);
}

void rnn_add_bias_rows(size_t nb, size_t r, const double *bias, double *Y)
{
    for (size_t b = 0; b < nb; b++)
        for (size_t i = 0; i < r; i++)
            Y[b * r + i] += bias[i];
}

void rnn_gemv_t(size_t r, size_t k, const double *W, const double *x, double beta, double *y)
{
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)r, (int)k, 1.0, W, (int)k, x, 1, beta, y, 1);
}

void rnn_ger(size_t r, size_t k, const double *x, const double *y, double *G)
{
    cblas_dger(CblasRowMajor, (int)r, (int)k, 1.0, x, 1, y, 1, G, (int)k);
}

void rnn_skew_shift(size_t m, const double *W, double gamma, double *A)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++)
            A[i * m + j] = W[i * m + j] - W[j * m + i] - (i == j ? gamma : 0.0);
}

void rnn_skew_ger(size_t m, const double *x, const double *y, double *G)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++)
            G[i * m + j] += x[i] * y[j] - y[i] * x[j];
}

/* A value is not finite when its 11 exponent bits are all ones: ((e + 1) >> 11) is then 1,
 * else 0. OR-ing that over a chunk is branch-free integer work the compiler vectorises
 * (isfinite with an early exit per value is not); the chunks keep an early exit. */
int rnn_all_finite(size_t n, const double *x)
{
    enum { CHUNK = 256 };
    for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
        const size_t i1 = i0 + CHUNK < n ? i0 + CHUNK : n;
        uint64_t bad = 0;
#pragma omp simd reduction(| : bad)
        for (size_t i = i0; i < i1; i++) {
            uint64_t b;
            memcpy(&b, x + i, sizeof b);
            bad |= (((b >> 52) & 0x7ffu) + 1u) >> 11;
        }
        if (bad)
            return 0;
    }
    return 1;
}

double rnn_sigmoid(double x)
{
    /* Two branches so that exp never overflows. */
    if (x >= 0) {
        double e = exp(-x);
        return 1.0 / (1.0 + e);
    }
    double e = exp(x);
    return e / (1.0 + e);
}
