/*
 * vmath.c — tanh over an array, in a form the compiler vectorises.
 *
 * The forward step of the tanh cell is one dgemm and one tanh per value; glibc's scalar tanh
 * costs ~9 ns a value, as much as the dgemm at m = 256 (make bench, "by part"). This loop has
 * no calls and no branches, so it runs 2 (SSE2) or 4 (AVX2 + FMA, where the processor has them,
 * chosen when the program loads) values per instruction.
 *
 *   |x| <  0.625: tanh x = x + x z P(z) / Q(z),  z = x^2
 *                 (the rational approximation of Cephes tanh.c, S. L. Moshier, 1984)
 *   |x| >= 0.625: tanh x = sign(x) (1 - e) / (1 + e),  e = exp(-2|x|) in (0, 0.287]
 *                 (no cancellation: the result is >= 0.55)
 *   exp(y), y = -2|x| in [-80, -1.25] (|x| is capped at 40, where tanh is 1 to the last bit):
 *                 k = round(y / ln 2), r = y - k ln2_hi - k ln2_lo (Cody-Waite), |r| <= ln2 / 2,
 *                 exp(r) by its Taylor polynomial of degree 13 (remainder < 5e-18 relative),
 *                 2^k built in the exponent field from the integer k.
 * Both branches are evaluated and one is selected, so random signs do not mispredict.
 * Accuracy: within 2 ulp of a correctly rounded tanh (tests/test_vmath.c measures it against
 * tanhl over [-40, 40] and the special values; 1 ulp measured); NaN in gives NaN out, +-inf
 * gives +-1.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "cell.h"

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define RNN_HAVE_AVX2_FMA 1
#endif
#if defined(__GNUC__)
#define RNN_INLINE __attribute__((always_inline)) inline
#else
#define RNN_INLINE inline
#endif

static RNN_INLINE double exp_neg(double y) /* y in [-80, 0] */
{
    const double shift = 0x1.8p52; /* adding it rounds to an integer held in the low bits */
    const double log2e = 1.4426950408889634074, ln2_hi = 6.93147180369123816490e-01,
                 ln2_lo = 1.90821492927058770002e-10;
    const double t = y * log2e + shift, kd = t - shift;
    const double r = (y - kd * ln2_hi) - kd * ln2_lo;
    double p = 1.0 / 6227020800.0; /* 1/13! */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t ti, si;
    memcpy(&ti, &t, sizeof ti);
    si = (ti + 1023u) << 52; /* the low bits of t hold k; k + 1023 is the biased exponent */
    double scale;
    memcpy(&scale, &si, sizeof scale);
    return p * scale;
}

static RNN_INLINE void tanh_loop(size_t n, const double *x, double *y)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        const double xi = x[i], ax = fabs(xi), z = xi * xi;
        const double p = (-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z -
                         1.61468768441708447952e3;
        const double q = ((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z +
                         4.84406305325125486048e3;
        const double small = copysign(xi + xi * z * (p / q), xi); /* keeps tanh(-0) = -0 */
        const double e = exp_neg(-2.0 * (isless(ax, 40.0) ? ax : 40.0));
        const double big = copysign((1.0 - e) / (1.0 + e), xi);
        const double v = isless(ax, 0.625) ? small : big;
        y[i] = isunordered(xi, xi) ? xi : v;
    }
}

static void tanh_generic(size_t n, const double *x, double *y)
{
    tanh_loop(n, x, y);
}

#ifdef RNN_HAVE_AVX2_FMA
__attribute__((target("avx2,fma"))) static void tanh_avx2(size_t n, const double *x, double *y)
{
    tanh_loop(n, x, y);
}
#endif

/* The variant for this processor, chosen once when the program loads. */
static void (*tanh_impl)(size_t, const double *, double *) = tanh_generic;

#ifdef RNN_HAVE_AVX2_FMA
__attribute__((constructor)) static void pick_tanh(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        tanh_impl = tanh_avx2;
}
#endif

void rnn_tanh_v(size_t n, const double *x, double *y)
{
    tanh_impl(n, x, y);
}

double rnn_tanh(double x)
{
    double y;
    rnn_tanh_v(1, &x, &y);
    return y;
}
