/*
 * spectrum.c — eigenvalues, singular values and determinants of the step and ODE Jacobians
 * (LAPACKE), and the stability function of a Butcher tableau.
 *
 *   general eigenvalues      dgeev  (Hessenberg QR, no eigenvectors)
 *   symmetric eigenvalues    dsyev
 *   singular values          dgesdd (divide and conquer, no vectors)
 *   log |det A|              dgetrf: sum_i log |U_ii|
 *   R(z) = 1 + z b^T (I - z A)^{-1} 1   for a lower-triangular Butcher matrix A:
 *          k_i = (1 + z sum_{j<i} a_ij k_j) / (1 - z a_ii),  R = 1 + z sum_i b_i k_i
 *
 * The _work variants of LAPACKE are used with workspaces sized once by a query, so spectra
 * along a trajectory allocate nothing per step. Our matrices are row-major; LAPACK is handed
 * them as column-major, i.e. transposed, which changes none of these quantities (A and A^T
 * share eigenvalues, singular values and determinant; for dsyev the row-major upper triangle
 * is the column-major lower one) and spares LAPACKE a transposed copy per call.
 *
 * References: Anderson et al., LAPACK Users' Guide, 3rd ed. (1999); Hairer & Wanner, Solving
 * ODEs II, §IV.2 (stability function of Runge-Kutta methods).
 */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <lapacke.h>
#include "analysis.h"

struct rnn_eig_ws {
    size_t n;
    double *A;       /* n x n copy (LAPACK overwrites its input) */
    double *work;
    lapack_int lwork;
    lapack_int *iwork; /* 8 n for dgesdd; n pivots for dgetrf */
    size_t *order;
    double *re, *im;   /* eigenvalues for rnn_spectrum_radius */
    double *tr, *ti;   /* sorting scratch */
};

void rnn_eig_ws_free(rnn_eig_ws *w)
{
    if (!w)
        return;
    free(w->A);
    free(w->work);
    free(w->iwork);
    free(w->order);
    free(w->re);
    free(w->im);
    free(w->tr);
    free(w->ti);
    free(w);
}

rnn_eig_ws *rnn_eig_ws_alloc(size_t n)
{
    if (n == 0)
        return NULL;
    rnn_eig_ws *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->n = n;
    w->A = malloc(n * n * sizeof(double));
    w->iwork = malloc(8 * n * sizeof(lapack_int));
    w->order = malloc(n * sizeof(size_t));
    w->re = malloc(n * sizeof(double));
    w->im = malloc(n * sizeof(double));
    w->tr = malloc(n * sizeof(double));
    w->ti = malloc(n * sizeof(double));
    if (!w->A || !w->iwork || !w->order || !w->re || !w->im || !w->tr || !w->ti) {
        rnn_eig_ws_free(w);
        return NULL;
    }
    /* Workspace queries: the largest of the three drivers. */
    lapack_int N = (lapack_int)n, info;
    double q, best = 1;
    info = LAPACKE_dgeev_work(LAPACK_COL_MAJOR, 'N', 'N', N, w->A, N, w->re, w->im, NULL, 1,
                              NULL, 1, &q, -1);
    if (info == 0 && q > best) best = q;
    info = LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'N', 'L', N, w->A, N, w->re, &q, -1);
    if (info == 0 && q > best) best = q;
    info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'N', N, N, w->A, N, w->re, NULL, 1, NULL, 1, &q,
                               -1, w->iwork);
    if (info == 0 && q > best) best = q;
    w->lwork = (lapack_int)best + (lapack_int)n;
    w->work = malloc((size_t)w->lwork * sizeof(double));
    if (!w->work) {
        rnn_eig_ws_free(w);
        return NULL;
    }
    return w;
}

static void load(rnn_eig_ws *w, const double *A)
{
    memcpy(w->A, A, w->n * w->n * sizeof(double));
}

/* Insertion sort of indices by decreasing real part, then decreasing imaginary part: n is a
 * hidden size, and the input is nearly sorted (conjugate pairs arrive together). */
static void sort_desc(size_t n, double *re, double *im, size_t *idx, double *tr, double *ti)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i], j = i;
        while (j > 0 && (re[idx[j - 1]] < re[v] || (re[idx[j - 1]] == re[v] && im[idx[j - 1]] < im[v]))) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
    for (size_t i = 0; i < n; i++) {
        tr[i] = re[idx[i]];
        ti[i] = im[idx[i]];
    }
    memcpy(re, tr, n * sizeof(double));
    memcpy(im, ti, n * sizeof(double));
}

int rnn_spectrum_eigvals(rnn_eig_ws *w, const double *A, double *re, double *im)
{
    if (!w || !A || !re || !im)
        return RNN_EINVAL;
    if (!rnn_all_finite(w->n * w->n, A))
        return RNN_ENONFINITE;
    load(w, A);
    lapack_int N = (lapack_int)w->n;
    lapack_int info = LAPACKE_dgeev_work(LAPACK_COL_MAJOR, 'N', 'N', N, w->A, N, re, im, NULL,
                                         1, NULL, 1, w->work, w->lwork);
    if (info != 0)
        return info < 0 ? RNN_EINVAL : RNN_ESOLVER; /* > 0: the QR algorithm did not converge */
    sort_desc(w->n, re, im, w->order, w->tr, w->ti);
    return RNN_OK;
}

int rnn_spectrum_symeig(rnn_eig_ws *w, const double *A, double *lam)
{
    if (!w || !A || !lam)
        return RNN_EINVAL;
    if (!rnn_all_finite(w->n * w->n, A))
        return RNN_ENONFINITE;
    load(w, A);
    lapack_int N = (lapack_int)w->n;
    lapack_int info = LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'N', 'L', N, w->A, N, lam, w->work,
                                         w->lwork);
    return info == 0 ? RNN_OK : info < 0 ? RNN_EINVAL : RNN_ESOLVER;
}

int rnn_spectrum_svals(rnn_eig_ws *w, const double *A, double *sv)
{
    if (!w || !A || !sv)
        return RNN_EINVAL;
    if (!rnn_all_finite(w->n * w->n, A))
        return RNN_ENONFINITE;
    load(w, A);
    lapack_int N = (lapack_int)w->n;
    lapack_int info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'N', N, N, w->A, N, sv, NULL, 1,
                                          NULL, 1, w->work, w->lwork, w->iwork);
    return info == 0 ? RNN_OK : info < 0 ? RNN_EINVAL : RNN_ESOLVER;
}

int rnn_spectrum_logdet(rnn_eig_ws *w, const double *A, double *logabsdet)
{
    if (!w || !A || !logabsdet)
        return RNN_EINVAL;
    if (!rnn_all_finite(w->n * w->n, A))
        return RNN_ENONFINITE;
    load(w, A);
    lapack_int N = (lapack_int)w->n;
    lapack_int info = LAPACKE_dgetrf_work(LAPACK_COL_MAJOR, N, N, w->A, N, w->iwork);
    if (info < 0)
        return RNN_EINVAL;
    double s = 0;
    for (size_t i = 0; i < w->n; i++)
        s += log(fabs(w->A[i * w->n + i])); /* a zero pivot (info > 0) gives -inf */
    *logabsdet = s;
    return RNN_OK;
}

int rnn_spectrum_radius(rnn_eig_ws *w, const double *A, double *radius, double *max_re)
{
    if (!w)
        return RNN_EINVAL;
    int rc = rnn_spectrum_eigvals(w, A, w->re, w->im);
    if (rc != RNN_OK)
        return rc;
    double r = 0;
    for (size_t i = 0; i < w->n; i++)
        r = fmax(r, hypot(w->re[i], w->im[i]));
    if (radius)
        *radius = r;
    if (max_re)
        *max_re = w->re[0];
    return RNN_OK;
}

void rnn_tableau_stability(const rnn_tableau *tab, double zre, double zim, double *Rre,
                           double *Rim)
{
    enum { MAX_STAGES = 64 };
    double complex z = zre + I * zim, k[MAX_STAGES], R = 1;
    const size_t s = tab->s < MAX_STAGES ? tab->s : MAX_STAGES;
    for (size_t i = 0; i < s; i++) {
        double complex acc = 1;
        for (size_t j = 0; j < i; j++)
            acc += z * tab->A[i * tab->s + j] * k[j];
        k[i] = acc / (1 - z * tab->A[i * tab->s + i]);
        R += z * tab->b[i] * k[i];
    }
    *Rre = creal(R);
    *Rim = cimag(R);
}

double rnn_tableau_stability_abs(const rnn_tableau *tab, double zre, double zim)
{
    double a, b;
    rnn_tableau_stability(tab, zre, zim, &a, &b);
    return hypot(a, b);
}
