/*
 * stats.c — fits with GSL.
 *
 * rnn_fit_line: ordinary least squares y = a + b x (gsl_fit_linear). GSL estimates the
 * covariance of (a, b) from the scatter of the points about the line, so the standard error
 * of the slope is sqrt(cov11); with two points it is 0 (no scatter to estimate from).
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
