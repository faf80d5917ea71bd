/*
 * ntk_fit.c — scaling exponents with bootstrap intervals, for the width sweeps of the
 * kernel-limit experiments (THEORY.md §7).
 *
 *   value ~ exp(a) N^b:  b, a = least squares of log(mean_r v_{g,r}) against log N_g
 *   (gsl_fit_linear through rnn_fit_line), over the groups g (widths), where the mean is over
 *   the replicates r (seeds) of group g.
 *   95% interval: the percentile bootstrap. B times, resample the replicates of every group
 *   with replacement (independently per group: the seeds of one width are independent draws,
 *   the widths are separate experiments), refit, and take the 2.5% and 97.5% quantiles of the
 *   B slopes (gsl_stats_quantile_from_sorted_data). The generator (mt19937) is seeded with
 *   boot_seed, so the interval is reproducible.
 *
 * Reference: Efron & Tibshirani, "An introduction to the bootstrap", 1993, ch. 13 (percentile
 * intervals) and §8.4 (resampling within strata).
 */
#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include "analysis.h"

#define MAX_GROUPS 64

int rnn_fit_loglog_bootstrap(size_t groups, const double *x, const size_t *counts,
                             const double *v, size_t stride, size_t B, unsigned long boot_seed,
                             double *slope, double *intercept, double *ci_lo, double *ci_hi)
{
    if (groups < 2 || groups > MAX_GROUPS || B < 2)
        return RNN_EINVAL;
    double lx[MAX_GROUPS], ly[MAX_GROUPS];
    for (size_t g = 0; g < groups; g++) {
        if (counts[g] < 1 || !(x[g] > 0))
            return RNN_EINVAL;
        double m = 0;
        for (size_t r = 0; r < counts[g]; r++)
            m += v[g * stride + r];
        m /= (double)counts[g];
        if (!(m > 0) || !isfinite(m))
            return RNN_EINVAL;
        lx[g] = log(x[g]);
        ly[g] = log(m);
    }
    int rc = rnn_fit_line(groups, lx, ly, slope, NULL, intercept);
    if (rc != RNN_OK)
        return rc;
    double *bs = malloc(B * sizeof(double));
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!bs || !rng) {
        free(bs);
        if (rng)
            gsl_rng_free(rng);
        return RNN_ENOMEM;
    }
    gsl_rng_set(rng, boot_seed);
    size_t nb = 0;
    for (size_t b = 0; b < B; b++) {
        int ok = 1;
        for (size_t g = 0; g < groups && ok; g++) {
            double m = 0;
            for (size_t r = 0; r < counts[g]; r++)
                m += v[g * stride + gsl_rng_uniform_int(rng, counts[g])];
            m /= (double)counts[g];
            ok = m > 0;
            ly[g] = log(m);
        }
        double s;
        if (ok && rnn_fit_line(groups, lx, ly, &s, NULL, NULL) == RNN_OK)
            bs[nb++] = s;
    }
    gsl_rng_free(rng);
    if (nb < 2) {
        free(bs);
        return RNN_EINVAL;
    }
    gsl_sort(bs, 1, nb);
    *ci_lo = gsl_stats_quantile_from_sorted_data(bs, 1, nb, 0.025);
    *ci_hi = gsl_stats_quantile_from_sorted_data(bs, 1, nb, 0.975);
    free(bs);
    return RNN_OK;
}
