/*
 * stats.c — fits with GSL.
 *
 * rnn_fit_line: ordinary least squares y = a + b x (gsl_fit_linear). GSL estimates the
 * covariance of (a, b) from the scatter of the points about the line, so the standard error
 * of the slope is sqrt(cov11); with two points it is 0 (no scatter to estimate from).
 *
 * rnn_fit_order: the order of a convergence study. Local orders p_k = log2(E_k / E_{k+1})
 * settle to the true order as dt -> 0, with a deviation proportional to dt (the next term of
 * the error expansion). The fit starts with the three finest levels and is extended to
 * coarser levels while the new local order stays within ASYMPTOTIC_TOL of the current fit.
 *
 * rnn_mean_ci95: the mean and the half-width t_{0.975, n-1} s / sqrt(n) of its 95% Student-t
 * interval (s the sample standard deviation), for means over time blocks or seeds.
 */
#include <math.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fit.h>
#include "analysis.h"

int rnn_fit_line(size_t n, const double *x, const double *y, double *slope, double *slope_se,
                 double *intercept)
{
    if (n < 2 || !rnn_all_finite(n, x) || !rnn_all_finite(n, y))
        return RNN_EINVAL;
    double c0, c1, cov00, cov01, cov11, sumsq;
    if (gsl_fit_linear(x, 1, y, 1, n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq) != 0)
        return RNN_ESOLVER;
    *slope = c1;
    if (slope_se)
        *slope_se = n > 2 ? sqrt(cov11) : 0.0;
    if (intercept)
        *intercept = c0;
    return RNN_OK;
}

/* A tenth of the +-0.15 window of the order.* checks: a level that moves the local order
 * by more than this is not in the asymptotic regime. */
#define ASYMPTOTIC_TOL 0.1

static int fit_from(size_t levels, const double *dt, const double *err, size_t first,
                    double *order, double *se)
{
    double x[64], y[64];
    size_t n = 0;
    for (size_t k = first; k < levels && n < 64; k++, n++) {
        x[n] = log(dt[k]);
        y[n] = log(err[k]);
    }
    return rnn_fit_line(n, x, y, order, se, NULL);
}

int rnn_fit_order(size_t levels, const double *dt, const double *err, double *local_order,
                  size_t *first_used, double *order, double *order_se)
{
    if (levels < 3 || levels > 64)
        return RNN_EINVAL;
    const size_t K = levels - 1;
    for (size_t k = 0; k < K; k++)
        local_order[k] = log2(err[k] / err[k + 1]) / log2(dt[k] / dt[k + 1]);
    local_order[K] = NAN;
    size_t first = K - 2;
    int rc = fit_from(levels, dt, err, first, order, order_se);
    while (rc == RNN_OK && first > 0 && fabs(local_order[first - 1] - *order) <= ASYMPTOTIC_TOL)
        rc = fit_from(levels, dt, err, --first, order, order_se);
    *first_used = first;
    return rc;
}

/* Mean and the half-width of its 95% Student-t interval: t_{0.975, n-1} s / sqrt(n), with s
 * the sample standard deviation. One sample has no scatter: half-width NAN. */
void rnn_mean_ci95(size_t n, const double *x, size_t stride, double *mean, double *half)
{
    double m = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        m += x[i * stride];
    m /= (double)(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        double e = x[i * stride] - m;
        ss += e * e;
    }
    *mean = n ? m : NAN;
    *half = n > 1 ? gsl_cdf_tdist_Pinv(0.975, (double)(n - 1)) * sqrt(ss / (double)(n - 1) / (double)n)
                  : NAN;
}
