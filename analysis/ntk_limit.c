/*
 * ntk_limit.c — the infinite-width limit of the kernel-limit network (THEORY.md §7, [KL];
 * docs/theory/kernel-limit.md): the limit kernel by quadrature over the initial law, and the
 * limit dynamics on a finite set of histories, solved exactly and by RK4.
 *
 * Limit kernel. The empirical NTK is an average over units of a per-unit feature product,
 *   K^N(z, z') = (1/N) sum_i phi(theta^i; z).phi(theta^i; z'),
 *   phi = (h, C dh/dW, C dh/dB)      (N^beta grad_{theta^i} g, which does not depend on beta),
 * so by the law of large numbers K = E[phi.phi'] under the initial law, with an N^-1/2 error.
 * C is independent of (W, B) with E C^2 = 1, so K = E_{W,B}[h h' + dh/dW.dh/dW' + dh/dB dh/dB'].
 * For d = 1 this is a 2-D integral over W ~ N(0, w_sd^2) and B ~ U[-b_max, b_max], done by a
 * tensor rule with weights normalised to probabilities:
 *   W: composite Gauss-Legendre (GSL gsl_integration_fixed_legendre, PANEL_NODES nodes per
 *      panel) of the density on [-W_CUT w_sd, W_CUT w_sd] in nw / PANEL_NODES equal panels (the
 *      mass outside is 2e-17). Not Gauss-Hermite: the integrand has poles near the real axis
 *      (tanh(w x) at w = i pi / (2 x), |x| <= 1.5), where Hermite rules converge only like
 *      exp(-c sqrt(n)) because their nodes spread as sqrt(n): measured, 96 Hermite nodes still
 *      miss E[sech^4(1.5 w)] by 7e-4 relative, while 17 panels of 8 nodes reach 1e-10. On the
 *      kernel itself (entries ~1; the memory puts poles closer), 96 W nodes are within 3e-6 of
 *      a 384 x 32 rule and 192 within 1e-8 (tests/test_ntk.c): far below the N^-1/2 ~ 1e-2
 *      fluctuations the sweep measures.
 *   B: Gauss-Legendre with nb nodes on [-b_max, b_max] (the integrand is entire in b).
 * The integrand is analytic in (W, B), so the rule converges geometrically in the node count.
 * Per node and history the unit's memory is run from h = 0:
 *   (a) h_{k+1} = tanh(w x_k + b h_k), dh/dw and dh/db by the forward recursion of ntk.c;
 *   (b) the mean field is deterministic in the limit: m_{k+1} = E tanh(W x_k + B m_k) (the same
 *       quadrature), h_{k+1} = tanh(w x_k + b m_k), and d m / d theta^i = O(1/N) vanishes, so
 *       dh/dw = s x_{L-1}, dh/db = s m_{L-1} at the last step only.
 * K = Phi Phi^T with Phi (n x 3Q) the weighted features: one dsyrk.
 *
 * Limit dynamics. On P probes and M stationary samples z_m (the empirical stationary law),
 *   dg/dt(z) = alpha (1/M) sum_m K(z, z_m) (y_m - g(z_m)),   g_0 = 0.
 * With K_SS = V diag(lambda) V^T (dsyevd), mu_j = alpha lambda_j / M and c = V^T y:
 *   g_S(t) = y - V diag(exp(-mu t)) c
 *   g_P(t) = (alpha / M) K_PS V diag((1 - exp(-mu t)) / mu) c      ((1 - e^-mu t)/mu -> t at mu = 0).
 * Eigenvalues below zero by rounding are set to zero (K_SS is positive semi-definite).
 *
 * cblas.h is OpenBLAS's; gsl_integration.h pulls only gsl_math.h, never gsl_cblas.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>
#include <gsl/gsl_integration.h>
#include "analysis.h"

#define PANEL_NODES 8
#define W_CUT 8.5 /* P(|W| > 8.5 sd) = 2e-17 */

/* Normalised nodes and weights of one axis; n nodes. */
static int axis_rule(const gsl_integration_fixed_type *T, size_t n, double a, double b,
                     double *x, double *w)
{
    gsl_integration_fixed_workspace *ws = gsl_integration_fixed_alloc(T, n, a, b, 0.0, 0.0);
    if (!ws)
        return RNN_ESOLVER;
    const double *xn = gsl_integration_fixed_nodes(ws), *wn = gsl_integration_fixed_weights(ws);
    double tot = 0;
    for (size_t i = 0; i < n; i++)
        tot += wn[i];
    for (size_t i = 0; i < n; i++) {
        x[i] = xn[i];
        w[i] = wn[i] / tot;
    }
    gsl_integration_fixed_free(ws);
    return RNN_OK;
}

/* N(0, sd^2) on [-W_CUT sd, W_CUT sd]: nw / PANEL_NODES panels of Gauss-Legendre, each node
 * weighted by the density; normalised. */
static int gauss_axis(size_t nw, double sd, double *x, double *w)
{
    const size_t panels = nw / PANEL_NODES;
    const double h = 2 * W_CUT * sd / (double)panels;
    double tot = 0;
    for (size_t p = 0; p < panels; p++) {
        double a = -W_CUT * sd + (double)p * h;
        int rc = axis_rule(gsl_integration_fixed_legendre, PANEL_NODES, a, a + h,
                           x + p * PANEL_NODES, w + p * PANEL_NODES);
        if (rc != RNN_OK)
            return rc;
        for (size_t j = p * PANEL_NODES; j < (p + 1) * PANEL_NODES; j++) {
            w[j] *= h * exp(-0.5 * x[j] * x[j] / (sd * sd)); /* axis_rule normalised to 1 */
            tot += w[j];
        }
    }
    for (size_t j = 0; j < panels * PANEL_NODES; j++)
        w[j] /= tot;
    return RNN_OK;
}

int rnn_ntk_limit_kernel_quad(const rnn_ntk_opts *o, size_t nw, size_t nb, size_t n, size_t L,
                              const double *X, double *K)
{
    if (!o || o->d != 1 || nw < PANEL_NODES || nw % PANEL_NODES || nb < 1 || n < 1 || L < 1)
        return RNN_EINVAL;
    const size_t Q = nw * nb, cols = 3 * Q;
    double *wx = malloc(nw * sizeof(double)), *ww = malloc(nw * sizeof(double));
    double *bx = malloc(nb * sizeof(double)), *bw = malloc(nb * sizeof(double));
    double *Phi = malloc(n * cols * sizeof(double)), *m = malloc(L * sizeof(double));
    int rc = RNN_ENOMEM;
    if (!wx || !ww || !bx || !bw || !Phi || !m)
        goto out;
    if ((rc = gauss_axis(nw, o->w_sd, wx, ww)) != RNN_OK)
        goto out;
    if (o->b_max > 0) {
        if ((rc = axis_rule(gsl_integration_fixed_legendre, nb, -o->b_max, o->b_max, bx, bw)) != RNN_OK)
            goto out;
    } else {
        for (size_t j = 0; j < nb; j++) {
            bx[j] = 0;
            bw[j] = 1.0 / (double)nb;
        }
    }
    for (size_t z = 0; z < n; z++) {
        const double *x = X + z * L;
        double *row = Phi + z * cols;
        if (o->reading == RNN_NTK_MEANFIELD) {
            m[0] = 0;
            for (size_t k = 0; k + 1 < L; k++) {
                double e = 0;
                for (size_t a = 0; a < nw; a++)
                    for (size_t b = 0; b < nb; b++)
                        e += ww[a] * bw[b] * tanh(wx[a] * x[k] + bx[b] * m[k]);
                m[k + 1] = e;
            }
        }
        for (size_t a = 0; a < nw; a++)
            for (size_t b = 0; b < nb; b++) {
                const double w = wx[a], bb = bx[b], sq = sqrt(ww[a] * bw[b]);
                double h = 0, Sw = 0, Sb = 0;
                if (o->reading == RNN_NTK_DIAGONAL) {
                    for (size_t k = 0; k < L; k++) {
                        double hn = tanh(w * x[k] + bb * h), s = 1 - hn * hn;
                        Sw = s * (x[k] + bb * Sw);
                        Sb = s * (h + bb * Sb);
                        h = hn;
                    }
                } else {
                    h = tanh(w * x[L - 1] + bb * m[L - 1]);
                    double s = 1 - h * h;
                    Sw = s * x[L - 1];
                    Sb = s * m[L - 1];
                }
                size_t q = a * nb + b;
                row[3 * q] = sq * h;
                row[3 * q + 1] = sq * Sw;
                row[3 * q + 2] = sq * Sb;
            }
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)cols, 1.0, Phi, (int)cols,
                0.0, K, (int)n);
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < a; b++)
            K[a * n + b] = K[b * n + a];
    rc = rnn_all_finite(n * n, K) ? RNN_OK : RNN_ENONFINITE;
out:
    free(wx);
    free(ww);
    free(bx);
    free(bw);
    free(Phi);
    free(m);
    return rc;
}

int rnn_ntk_limit_ode(size_t P, size_t M, const double *K, const double *y, double alpha,
                      size_t n_t, const double *t, double *gP, double *gS)
{
    if (M < 1 || n_t < 1 || !(alpha > 0))
        return RNN_EINVAL;
    const size_t n = P + M;
    double *V = malloc(M * M * sizeof(double)), *lam = malloc(M * sizeof(double));
    double *c = malloc(M * sizeof(double)), *f = malloc(M * sizeof(double));
    double *KPV = P ? malloc(P * M * sizeof(double)) : NULL;
    int rc = RNN_ENOMEM;
    if (!V || !lam || !c || !f || (P && !KPV))
        goto out;
    for (size_t i = 0; i < M; i++)
        memcpy(V + i * M, K + (P + i) * n + P, M * sizeof(double));
    if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)M, V, (lapack_int)M, lam) != 0) {
        rc = RNN_ESOLVER;
        goto out;
    }
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)M, (int)M, 1.0, V, (int)M, y, 1, 0.0, c, 1);
    if (P)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)P, (int)M, (int)M, 1.0,
                    K + P, (int)n, V, (int)M, 0.0, KPV, (int)M);
    for (size_t k = 0; k < n_t; k++) {
        for (size_t j = 0; j < M; j++) {
            double mu = alpha * fmax(lam[j], 0.0) / (double)M, x = mu * t[k];
            /* (1 - e^-x) / mu = t (1 - e^-x) / x, which -> t as x -> 0 */
            f[j] = (x > 1e-300 ? -expm1(-x) / x : 1.0) * t[k] * c[j];
        }
        if (P)
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)P, (int)M, alpha / (double)M, KPV,
                        (int)M, f, 1, 0.0, gP + k * P, 1);
        if (gS) {
            for (size_t j = 0; j < M; j++)
                f[j] = exp(-alpha * fmax(lam[j], 0.0) / (double)M * t[k]) * c[j];
            memcpy(gS + k * M, y, M * sizeof(double));
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)M, (int)M, -1.0, V, (int)M, f, 1, 1.0,
                        gS + k * M, 1);
        }
    }
    rc = RNN_OK;
out:
    free(V);
    free(lam);
    free(c);
    free(f);
    free(KPV);
    return rc;
}

/* r = (alpha / M) K[:, S] (y - gS): the right-hand side for probes and samples together. */
static void ode_rhs(size_t P, size_t M, const double *K, const double *y, double alpha,
                    const double *gS, double *e, double *r)
{
    const size_t n = P + M;
    for (size_t j = 0; j < M; j++)
        e[j] = y[j] - gS[j];
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)M, alpha / (double)M, K + P, (int)n,
                e, 1, 0.0, r, 1);
}

int rnn_ntk_limit_ode_rk4(size_t P, size_t M, const double *K, const double *y, double alpha,
                          size_t n_t, const double *t, size_t steps, double *gP, double *gS)
{
    if (M < 1 || n_t < 1 || steps < 1 || !(alpha > 0))
        return RNN_EINVAL;
    const size_t n = P + M;
    const double h = t[n_t - 1] / (double)steps;
    double *g = calloc(n, sizeof(double)), *tmp = malloc(n * sizeof(double));
    double *k1 = malloc(n * sizeof(double)), *k2 = malloc(n * sizeof(double));
    double *k3 = malloc(n * sizeof(double)), *k4 = malloc(n * sizeof(double));
    double *e = malloc(M * sizeof(double));
    int rc = RNN_ENOMEM;
    if (!g || !tmp || !k1 || !k2 || !k3 || !k4 || !e)
        goto out;
    size_t next = 0;
    for (size_t s = 0; s <= steps && next < n_t; s++) {
        while (next < n_t && (h <= 0 || (size_t)llround(t[next] / h) == s)) {
            if (P)
                memcpy(gP + next * P, g, P * sizeof(double));
            if (gS)
                memcpy(gS + next * M, g + P, M * sizeof(double));
            next++;
        }
        if (s == steps)
            break;
        ode_rhs(P, M, K, y, alpha, g + P, e, k1);
        for (size_t i = 0; i < n; i++)
            tmp[i] = g[i] + 0.5 * h * k1[i];
        ode_rhs(P, M, K, y, alpha, tmp + P, e, k2);
        for (size_t i = 0; i < n; i++)
            tmp[i] = g[i] + 0.5 * h * k2[i];
        ode_rhs(P, M, K, y, alpha, tmp + P, e, k3);
        for (size_t i = 0; i < n; i++)
            tmp[i] = g[i] + h * k3[i];
        ode_rhs(P, M, K, y, alpha, tmp + P, e, k4);
        for (size_t i = 0; i < n; i++)
            g[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    }
    rc = next == n_t ? RNN_OK : RNN_EINVAL; /* times not increasing */
out:
    free(g);
    free(tmp);
    free(k1);
    free(k2);
    free(k3);
    free(k4);
    free(e);
    return rc;
}
