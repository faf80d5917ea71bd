/*
 * test_vmath.c — rnn_tanh_v against tanhl (80-bit, so its rounding to double is the correctly
 * rounded tanh but for rare ties) over [-40, 40], where the range reduction's k changes, in the
 * subnormal range, and at the special values.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "cell.h"

/* distance in units in the last place between two finite doubles of the same sign */
static double ulps(double a, double b)
{
    if (a == b)
        return 0;
    int64_t ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    if (ia < 0)
        ia = INT64_MIN - ia;
    if (ib < 0)
        ib = INT64_MIN - ib;
    return fabs((double)(ia - ib));
}

static double max_ulps(size_t n, const double *x)
{
    double y[1024], worst = 0;
    cr_assert(n <= 1024);
    rnn_tanh_v(n, x, y);
    for (size_t i = 0; i < n; i++) {
        double ref = (double)tanhl((long double)x[i]);
        double e = ulps(y[i], ref);
        if (e > worst)
            worst = e;
        cr_assert_eq(rnn_tanh(x[i]), y[i], "scalar and array disagree at %.17g", x[i]);
    }
    return worst;
}

Test(vmath, tanh_within_2_ulp_on_a_dense_grid)
{
    double x[1024], worst = 0;
    for (int block = 0; block < 200; block++) {
        for (int i = 0; i < 1024; i++) /* 204800 points over [-40, 40], not on a round grid */
            x[i] = -40.0 + 80.0 * ((block * 1024 + i) + 0.318309886) / (200.0 * 1024);
        double w = max_ulps(1024, x);
        worst = w > worst ? w : worst;
    }
    cr_log_info("tanh: worst %.0f ulp over [-40, 40]", worst);
    cr_assert_leq(worst, 2.0, "worst error %.0f ulp", worst);
}

/* Just past the first change of k (|x| in [0.173, 0.229], k = -1), the two leading terms of
 * expm1's reconstruction, 2^k - 1 and 2^k r, nearly cancel: a plain sum reached 3 ulp there
 * (at x = 0.19772225720962655). 10^6 seeded random points in the band, and that point. */
Test(vmath, tanh_within_2_ulp_where_the_reconstruction_cancels)
{
    double x[1024], worst = 0;
    uint64_t state = 20261122;
    for (int block = 0; block < 977; block++) {
        for (int i = 0; i < 1024; i++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            double u = (double)(state >> 11) * 0x1p-53;
            x[i] = (i % 2 ? -1 : 1) * (0.17 + 0.06 * u);
        }
        double w = max_ulps(1024, x);
        worst = w > worst ? w : worst;
    }
    x[0] = 0.19772225720962655;
    x[1] = -x[0];
    worst = fmax(worst, max_ulps(2, x));
    cr_log_info("tanh: worst %.0f ulp over |x| in [0.17, 0.23]", worst);
    cr_assert_leq(worst, 2.0, "worst error %.0f ulp", worst);
}

Test(vmath, tanh_where_k_changes_and_at_small_arguments)
{
    double x[1024];
    for (int i = 0; i < 512; i++) {
        /* k = round(-2|x| / ln 2) changes at |x| = (2j + 1) ln 2 / 4: both sides of j = 0..3 */
        x[i] = (2 * (i % 4) + 1) * 0.17328679513998632 + ((double)(i / 4) - 64) * 1e-13;
        x[512 + i] = ldexp(1.0 + i / 512.0, -(i % 60)) * (i % 2 ? -1 : 1);
    }
    cr_assert_leq(max_ulps(1024, x), 2.0);
    double sub[4] = {DBL_MIN, -DBL_MIN, 4.9e-324, -0.0}, y[4];
    rnn_tanh_v(4, sub, y);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(y[i], sub[i], "tanh(%g) = %g: tiny arguments are their own tanh", sub[i], y[i]);
    cr_assert(signbit(y[3]), "tanh(-0) keeps its sign");
}

Test(vmath, tanh_special_values)
{
    double x[6] = {INFINITY, -INFINITY, NAN, 1e300, -1e300, 40.0}, y[6];
    rnn_tanh_v(6, x, y);
    cr_assert_eq(y[0], 1.0);
    cr_assert_eq(y[1], -1.0);
    cr_assert(isnan(y[2]), "NaN in gives NaN out");
    cr_assert_eq(y[3], 1.0);
    cr_assert_eq(y[4], -1.0);
    cr_assert_eq(y[5], 1.0);
}
