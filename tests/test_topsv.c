/*
 * test_topsv.c — the certified largest singular value (analysis/topsv.c) against dgesdd:
 * along a product of tanh-cell Jacobians (forward and transposed, the shapes of
 * rnn_grad_tangent and rnn_grad_adjoint), on matrices whose top singular values tie or
 * nearly tie (where the certificate must refuse and the SVD decide), at extreme magnitudes
 * (where squares under- or overflow) and at the edges (zero, non-finite).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "analysis.h"

static double svd_top(size_t n, const double *M)
{
    rnn_eig_ws *w = rnn_eig_ws_alloc(n);
    double *sv = malloc(n * sizeof(double));
    cr_assert(w && sv);
    cr_assert_eq(rnn_spectrum_svals(w, M, sv), RNN_OK);
    double top = sv[0];
    free(sv);
    rnn_eig_ws_free(w);
    return top;
}

/* Products M_t = J_t M_{t-1} (trans 0) or G = G J (trans 1) of the tanh cell's Jacobians,
 * renormalised as gradient.c does; every value compared with dgesdd. */
static void along_a_product(int trans, size_t *certified, size_t *fallback)
{
    enum { m = 48, T = 400 };
    rnn_cell *c = rnn_cell_alloc(rnn_cell_tanh, m, 1, 5);
    rnn_input *in = rnn_input_alloc_sines(1, 6);
    double *J = malloc(m * m * sizeof(double)), *M = calloc(m * m, sizeof(double)),
           *M2 = malloc(m * m * sizeof(double)), s[m], s2[m], u[1];
    rnn_topsv *p = rnn_topsv_alloc(m);
    cr_assert(c && in && J && M && M2 && p);
    rnn_cell_random_state(c, 7, 0.5, s);
    for (size_t i = 0; i < m; i++)
        M[i * m + i] = 1;
    double worst = 0;
    for (size_t t = 1; t <= T; t++) {
        rnn_input_eval(in, (double)(t - 1), u);
        cr_assert_eq(rnn_cell_step_jacobian(c, (double)(t - 1), s, u, J), RNN_OK);
        cr_assert_eq(rnn_cell_step(c, (double)(t - 1), s, u, s2), RNN_OK);
        memcpy(s, s2, sizeof s);
        if (trans)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0, M, m, J, m, 0.0, M2, m);
        else
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0, J, m, M, m, 0.0, M2, m);
        double scale = 1.0 / M2[cblas_idamax(m * m, M2, 1)];
        for (size_t i = 0; i < m * m; i++)
            M[i] = M2[i] * scale;
        double sigma, ref = svd_top(m, M);
        cr_assert_eq(rnn_topsv_value(p, M, trans, &sigma), RNN_OK);
        worst = fmax(worst, fabs(sigma * sigma - ref * ref) / (ref * ref));
    }
    rnn_topsv_counts(p, certified, fallback);
    cr_log_info("trans %d: %zu certified, %zu by SVD, worst relative error in sigma^2 %.2e", trans,
                *certified, *fallback, worst);
    /* dgesdd's own error is ~n eps: the bound is the certificate's tolerance plus that */
    cr_assert_leq(worst, RNN_TOPSV_RTOL + 1e-13, "worst %.3e", worst);
    cr_assert_eq(*certified + *fallback, T);
    rnn_topsv_free(p);
    free(J);
    free(M);
    free(M2);
    rnn_input_free(in);
    rnn_cell_free(c);
}

Test(topsv, equals_the_svd_along_a_forward_product)
{
    size_t cert, fb;
    along_a_product(0, &cert, &fb);
    cr_assert_gt(cert, fb, "the iteration should certify most values once the product settles");
}

Test(topsv, equals_the_svd_along_a_transposed_product)
{
    size_t cert, fb;
    along_a_product(1, &cert, &fb);
    cr_assert_gt(cert, fb);
}

/* Q diag(sigma) with an orthogonal Q (a Householder reflector): singular values exactly sigma. */
static void reflected_diag(size_t n, const double *sigma, double *M)
{
    double v[64], vv = 0;
    for (size_t i = 0; i < n; i++) {
        v[i] = cos(1.0 + 3.0 * (double)i);
        vv += v[i] * v[i];
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            M[i * n + j] = ((i == j) - 2 * v[i] * v[j] / vv) * sigma[j];
}

Test(topsv, ties_and_near_ties_are_left_to_the_svd)
{
    enum { n = 20 };
    double sigma[n], M[n * n], out;
    rnn_topsv *p = rnn_topsv_alloc(n);
    size_t cert, fb;
    /* all equal: no gap, the certificate cannot hold */
    for (size_t i = 0; i < n; i++)
        sigma[i] = 2.0;
    reflected_diag(n, sigma, M);
    cr_assert_eq(rnn_topsv_value(p, M, 0, &out), RNN_OK);
    cr_assert_float_eq(out, 2.0, 1e-14);
    rnn_topsv_counts(p, &cert, &fb);
    cr_assert_eq(fb, 1, "a tie must go to the SVD");
    /* the top two within 1e-13 relative, the rest far below: value still right to rounding */
    for (size_t i = 0; i < n; i++)
        sigma[i] = 0.1;
    sigma[3] = 1.0;
    sigma[11] = 1.0 - 1e-13;
    reflected_diag(n, sigma, M);
    cr_assert_eq(rnn_topsv_value(p, M, 0, &out), RNN_OK);
    cr_assert_leq(fabs(out - 1.0), 1e-13, "sigma_1 = %.17g", out);
    /* a clear gap: certified */
    sigma[11] = 0.5;
    reflected_diag(n, sigma, M);
    rnn_topsv_counts(p, &cert, &fb);
    size_t before = cert;
    cr_assert_eq(rnn_topsv_value(p, M, 0, &out), RNN_OK);
    cr_assert_leq(fabs(out - 1.0), 1e-13);
    rnn_topsv_counts(p, &cert, &fb);
    cr_assert_eq(cert, before + 1, "a clear gap should be certified");
    rnn_topsv_free(p);
}

Test(topsv, zero_and_nonfinite)
{
    enum { n = 5 };
    double M[n * n] = {0}, out = -1;
    rnn_topsv *p = rnn_topsv_alloc(n);
    cr_assert_eq(rnn_topsv_value(p, M, 0, &out), RNN_OK);
    cr_assert_eq(out, 0.0);
    M[7] = NAN;
    cr_assert_eq(rnn_topsv_value(p, M, 0, &out), RNN_ENONFINITE);
    M[7] = INFINITY;
    cr_assert_eq(rnn_topsv_value(p, M, 0, &out), RNN_ENONFINITE);
    rnn_topsv_free(p);
}

/* c M for c from 1e-300 to 1e300: the value scales exactly with c (the method is scaled by
 * powers of two) and equals dgesdd's, in both orientations; squares of these entries under-
 * or overflow, so without rescaling the certificate would accept wrong values or refuse a
 * finite matrix. A diagonal with a huge and a unit entry checks overflow of ||M||_F^2 alone. */
Test(topsv, extreme_magnitudes)
{
    enum { n = 2, N = 24 };
    const double base[n * n] = {1.2, 0.5, 0.3, 0.9};
    const double cs[] = {1e-300, 1e-165, 1e-160, 1e-158, 1e-150, 1.0, 1e150, 1e154, 1e160, 1e300};
    for (int trans = 0; trans <= 1; trans++) {
        double ref = svd_top(n, base);
        for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
            double M[n * n], out = -1;
            for (size_t j = 0; j < n * n; j++)
                M[j] = cs[i] * base[j];
            rnn_topsv *p = rnn_topsv_alloc(n);
            cr_assert_eq(rnn_topsv_value(p, M, trans, &out), RNN_OK, "c = %g", cs[i]);
            cr_assert_leq(fabs(out / cs[i] - ref), 1e-13 * ref, "c = %g: %.17g vs %.17g", cs[i],
                          out / cs[i], ref);
            cr_assert_leq(fabs(out - svd_top(n, M)), 1e-13 * out, "c = %g against dgesdd", cs[i]);
            rnn_topsv_free(p);
        }
    }
    double D[n * n] = {2e154, 0, 0, 1}, out = -1;
    rnn_topsv *p = rnn_topsv_alloc(n);
    cr_assert_eq(rnn_topsv_value(p, D, 0, &out), RNN_OK);
    cr_assert_leq(fabs(out / 2e154 - 1.0), 1e-14, "%.17g", out);
    rnn_topsv_free(p);
    /* a wider matrix at 1e-200 takes the same path as at 1: same values (to rounding), same
     * certified/SVD counts, and with a warm start the iteration certifies */
    double sigma[N], Mw[N * N], Ms[N * N];
    for (size_t i = 0; i < N; i++)
        sigma[i] = 0.01 + 0.001 * (double)i;
    sigma[5] = 1.0;
    reflected_diag(N, sigma, Mw);
    for (size_t j = 0; j < N * N; j++)
        Ms[j] = 1e-200 * Mw[j];
    rnn_topsv *p1 = rnn_topsv_alloc(N), *ps = rnn_topsv_alloc(N);
    for (int rep = 0; rep < 3; rep++) {
        double o1, os;
        cr_assert_eq(rnn_topsv_value(p1, Mw, 0, &o1), RNN_OK);
        cr_assert_eq(rnn_topsv_value(ps, Ms, 0, &os), RNN_OK);
        cr_assert_leq(fabs(o1 - 1.0), 1e-13, "%.17g", o1);
        cr_assert_leq(fabs(os / 1e-200 - 1.0), 1e-13, "%.17g", os / 1e-200);
    }
    size_t c1, f1, cs_, fs;
    rnn_topsv_counts(p1, &c1, &f1);
    rnn_topsv_counts(ps, &cs_, &fs);
    cr_assert(c1 == cs_ && f1 == fs, "scaled run took another path: %zu/%zu vs %zu/%zu", cs_, fs, c1, f1);
    cr_log_info("gap 1 : 0.033, n = %d: %zu certified, %zu by SVD", N, cs_, fs);
    cr_assert_geq(cs_, 2, "warm starts should certify (%zu certified, %zu by SVD)", cs_, fs);
    rnn_topsv_free(p1);
    rnn_topsv_free(ps);
}
