/*
 * stats.c — fits with GSL.
 *
 * rnn_fit_line: ordinary least squares y = a + b x (gsl_fit_linear). GSL estimates the
 * covariance of (a, b) from the scatter of the points about the line, so the standard error
 * of the slope is sqrt(cov11); with two points it is 0 (no scatter to estimate from).
 */
#include <math.h>
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
