/*
 * topsv.c — the largest singular value of a sequence of matrices that change a little at a
 * time (M_t = J_t M_{t-1}), certified, at O(n^2 k) per matrix instead of an SVD's O(n^3).
 *
 * Subspace iteration on G = M^T M (Golub & Van Loan §8.2.4, §8.6), warm-started from the
 * previous matrix's Ritz vectors: V (n x k, orthonormal columns), W = M V, B = W^T W (k x k),
 * B Y = Y diag(theta_1 >= ... >= theta_k) (dsyev); v_1 = V y_1, r = G v_1 - theta_1 v_1.
 *
 * Certificate. theta_1 is a Rayleigh quotient of G, so theta_1 <= lambda_1 = sigma_1^2. For
 * the upper side, bound the second eigenvalue of G: by min-max,
 *   lambda_2 <= ||M (I - v_1 v_1^T)||_2^2,
 * and, with P = I - V V^T, M (I - v_1 v_1^T) = (M V Y_{2:k}) Y_{2:k}^T V^T + M P, where the
 * columns of M V Y are orthogonal with squared norms theta_i, so
 *   lambda_2 <= beta = (sqrt(theta_2) + sqrt(tail))^2,
 *   tail = ||M P||_F^2 = ||M||_F^2 - ||M V||_F^2  (>= ||M P||_2^2).
 * If theta_1 - ||r|| > beta, the one eigenvalue of G within ||r|| of theta_1 is lambda_1, and
 * the Kato-Temple inequality gives
 *   theta_1 <= lambda_1 <= theta_1 + ||r||^2 / (theta_1 - beta).
 * The value is accepted when that interval's relative width is below RNN_TOPSV_RTOL, and
 * its midpoint is returned; rounding is covered by margins of (2k + 4) n eps ||M||_F^2 on
 * tail, theta_2 and ||r||, and every comparison is false on NaN (no certificate).
 *
 * Range. Squares of entries below ~1e-154 underflow and above ~1e154 overflow, which would
 * certify wrong values or reject finite matrices. When ||M||_F^2 leaves [2^-600, 2^600], M is
 * copied scaled by 2^-e (e the exponent of its largest entry; exact but for subnormal
 * entries far below the norm) and sigma scaled back by 2^e. Otherwise up to
 * MAX_ITER subspace steps V <- orth(M^T W) are taken, and if still uncertified (the top
 * singular values cluster, as in the first steps of a product), LAPACK's dgesdd decides.
 * Either way the value returned is within RNN_TOPSV_RTOL of ||M||_2 (relative, in sigma^2).
 *
 * Products of Jacobians M_t = J_t ... J_1 have converging right singular vectors (Oseledets),
 * and their top singular values separate exponentially in t: after a transient, one warm
 * step certifies. For G_k = J_T ... J_k, whose left vectors converge, pass M^T (transposed).
 *
 * References: Golub & Van Loan, Matrix Computations, 4th ed., §8.1.2 (min-max), §8.2.4
 * (orthogonal iteration); Kato, J. Phys. Soc. Japan 4 (1949), Temple, Proc. R. Soc. A 119
 * (1928) (the bound); Parlett, The Symmetric Eigenvalue Problem, §10.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>
#include "analysis.h"

#define TOPSV_K 4     /* subspace size: enough that the tail beyond it is small once the product settles */
#define MAX_ITER 4    /* subspace steps per matrix before dgesdd decides */

struct rnn_topsv {
    size_t n, k;
    int warm;                 /* V holds the previous matrix's Ritz vectors */
    double *block;            /* owns V, W, Z, ...; V and Z swap */
    double *V, *W, *Z, *B, *theta, *tau, *work, *g, *v1, *w1, *sv;
    double *scaled;           /* n x n: M scaled by a power of two, for extreme magnitudes */
    lapack_int lwork;
    rnn_eig_ws *svd;
    size_t n_certified, n_fallback;
};

rnn_topsv *rnn_topsv_alloc(size_t n)
{
    rnn_topsv *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = n;
    p->k = n < TOPSV_K ? n : TOPSV_K;
    const size_t nk = n * p->k, k = p->k;
    double q1 = 0, q2 = 0, q3 = 0;
    p->block = p->V = malloc((3 * nk + k * k + 2 * k + 4 * n) * sizeof(double));
    p->scaled = malloc(n * n * sizeof(double));
    p->svd = rnn_eig_ws_alloc(n);
    if (!p->block || !p->scaled || !p->svd) {
        rnn_topsv_free(p);
        return NULL;
    }
    p->W = p->V + nk;
    p->Z = p->W + nk;
    p->B = p->Z + nk;
    p->theta = p->B + k * k;
    p->tau = p->theta + k;
    p->g = p->tau + k;
    p->v1 = p->g + n;
    p->w1 = p->v1 + n;
    p->sv = p->w1 + n;
    lapack_int N = (lapack_int)n, K = (lapack_int)k;
    if (LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, N, K, p->Z, N, p->tau, &q1, -1) != 0 ||
        LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, N, K, K, p->Z, N, p->tau, &q2, -1) != 0 ||
        LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'V', 'U', K, p->B, K, p->theta, &q3, -1) != 0) {
        rnn_topsv_free(p);
        return NULL;
    }
    p->lwork = (lapack_int)fmax(q1, fmax(q2, q3)) + 1;
    p->work = malloc((size_t)p->lwork * sizeof(double));
    if (!p->work) {
        rnn_topsv_free(p);
        return NULL;
    }
    return p;
}

void rnn_topsv_free(rnn_topsv *p)
{
    if (!p)
        return;
    free(p->block);
    free(p->scaled);
    free(p->work);
    rnn_eig_ws_free(p->svd);
    free(p);
}

void rnn_topsv_counts(const rnn_topsv *p, size_t *certified, size_t *fallback)
{
    *certified = p->n_certified;
    *fallback = p->n_fallback;
}

/* V = orth(Z) (n x k column-major), by Householder QR. */
static int orthonormalise(rnn_topsv *p, double *Z)
{
    lapack_int N = (lapack_int)p->n, K = (lapack_int)p->k;
    if (LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, N, K, Z, N, p->tau, p->work, p->lwork) != 0 ||
        LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, N, K, K, Z, N, p->tau, p->work, p->lwork) != 0)
        return RNN_ESOLVER;
    double *tmp = p->V;
    p->V = Z;
    p->Z = tmp;
    return RNN_OK;
}

/* A fixed start: the first k coordinate vectors plus a deterministic spread, orthonormalised. */
static int cold_start(rnn_topsv *p)
{
    const size_t n = p->n, k = p->k;
    for (size_t j = 0; j < k; j++)
        for (size_t i = 0; i < n; i++)
            p->Z[i + j * n] = (i % k == j ? 1.0 : 0.0) + 1e-3 * cos((double)(i * (j + 1)));
    return orthonormalise(p, p->Z);
}

/* One Rayleigh-Ritz step on span V: theta, Y (in B), W = M V; then the certificate. Returns
 * 1 with *sigma2 = theta_1 when certified, 0 when not. M is op(M) as described by trans. */
static int ritz_certify(rnn_topsv *p, const double *M, int trans, double fro2, double *sigma2)
{
    const int n = (int)p->n, k = (int)p->k;
    /* W = op(M) V: M row-major is M^T column-major. */
    cblas_dgemm(CblasColMajor, trans ? CblasNoTrans : CblasTrans, CblasNoTrans, n, k, n, 1.0, M,
                n, p->V, n, 0.0, p->W, n);
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, k, k, n, 1.0, p->W, n, p->W, n, 0.0,
                p->B, k);
    double mv2 = 0;
    for (int i = 0; i < k; i++)
        mv2 += p->B[i + i * k];
    if (LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'V', 'U', k, p->B, k, p->theta, p->work, p->lwork) != 0)
        return -1;
    /* dsyev sorts ascending: theta_1 is the last */
    const double th1 = p->theta[k - 1], th2 = k > 1 ? p->theta[k - 2] : 0.0;
    const double *y1 = p->B + (size_t)(k - 1) * (size_t)k;
    if (!(th1 > 0) || !isfinite(th1))
        return 0;
    /* v_1 = V y_1, w_1 = W y_1 = op(M) v_1, g = op(M)^T w_1 = G v_1, r = g - theta_1 v_1 */
    cblas_dgemv(CblasColMajor, CblasNoTrans, n, k, 1.0, p->V, n, y1, 1, 0.0, p->v1, 1);
    cblas_dgemv(CblasColMajor, CblasNoTrans, n, k, 1.0, p->W, n, y1, 1, 0.0, p->w1, 1);
    cblas_dgemv(CblasColMajor, trans ? CblasTrans : CblasNoTrans, n, n, 1.0, M, n, p->w1, 1, 0.0,
                p->g, 1);
    double r2 = 0;
    for (int i = 0; i < n; i++) {
        double ri = p->g[i] - th1 * p->v1[i];
        r2 += ri * ri;
    }
    /* rounding margins: products and sums of length n (and k) carry errors of ~(2k + 4) n eps
     * relative to the scale fro2 (>= theta_1); they are added to every upper bound. Each test
     * is written so that a NaN fails it. */
    const double slack = (double)(2 * k + 4) * (double)n * DBL_EPSILON * fro2;
    const double tail = fmax(0.0, fro2 - mv2) + slack;
    const double rn = sqrt(r2) + slack;
    const double beta = pow(sqrt(fmax(th2, 0.0) + slack) + sqrt(tail), 2);
    if (!(th1 - rn > beta))
        return 0;
    const double width = rn * rn / (th1 - beta);
    if (!(width <= RNN_TOPSV_RTOL * th1))
        return 0;
    *sigma2 = th1 + 0.5 * width;
    return 1;
}

/* ||M||_2 for M within the safe range of squares (see the header). */
static int topsv_in_range(rnn_topsv *p, const double *M, int trans, double fro2, double *sigma)
{
    const size_t n = p->n, k = p->k;
    if (!p->warm && cold_start(p) != RNN_OK)
        return RNN_ESOLVER;
    for (int it = 0; it <= MAX_ITER; it++) {
        double s2;
        int ok = ritz_certify(p, M, trans, fro2, &s2);
        if (ok < 0)
            return RNN_ESOLVER;
        if (ok) {
            /* span V is the next matrix's start (Rayleigh-Ritz does not depend on its basis) */
            p->warm = 1;
            p->n_certified++;
            *sigma = sqrt(s2);
            return RNN_OK;
        }
        if (it == MAX_ITER)
            break;
        /* V <- orth(op(M)^T W) = orth(G V) */
        cblas_dgemm(CblasColMajor, trans ? CblasTrans : CblasNoTrans, CblasNoTrans, (int)n, (int)k,
                    (int)n, 1.0, M, (int)n, p->W, (int)n, 0.0, p->Z, (int)n);
        if (orthonormalise(p, p->Z) != RNN_OK)
            return RNN_ESOLVER;
        p->warm = 1;
    }
    /* uncertified: the SVD decides (values only) */
    p->n_fallback++;
    int rc = rnn_spectrum_svals(p->svd, M, p->sv);
    if (rc == RNN_OK)
        *sigma = p->sv[0];
    return rc;
}

int rnn_topsv_value(rnn_topsv *p, const double *M, int trans, double *sigma)
{
    const size_t nn = p->n * p->n;
    const double fro2 = cblas_ddot((int)nn, M, 1, M, 1);
    if (isnan(fro2))
        return RNN_ENONFINITE;
    if (fro2 >= 0x1p-600 && fro2 <= 0x1p600)
        return topsv_in_range(p, M, trans, fro2, sigma);
    /* fro2 under- or overflowed (or is near doing so): rescale by a power of two */
    const double amax = fabs(M[cblas_idamax((int)nn, M, 1)]);
    if (!isfinite(amax))
        return RNN_ENONFINITE;
    if (amax == 0) {
        *sigma = 0;
        return RNN_OK;
    }
    const int e = ilogb(amax);
    for (size_t i = 0; i < nn; i++)
        p->scaled[i] = ldexp(M[i], -e);
    const double sfro2 = cblas_ddot((int)nn, p->scaled, 1, p->scaled, 1);
    int rc = topsv_in_range(p, p->scaled, trans, sfro2, sigma);
    if (rc == RNN_OK)
        *sigma = ldexp(*sigma, e);
    return rc;
}
