/*
 * vmath.c — tanh over an array, in a form the compiler vectorises; and the tanh cell's whole
 * elementwise step, out = alpha s + beta tanh(a + b), in one pass.
 *
 * The forward step of the tanh cell is one dgemm and one tanh per value; glibc's scalar tanh
 * costs ~9 ns a value, as much as the dgemm at m = 256 (make bench, "by part"). This loop has
 * no calls and no branches, so it runs 2 (SSE2) or 4 (AVX2 + FMA, where the processor has them,
 * chosen when the program loads) values per instruction.
 *
 *   tanh x = -sign(x) m / (2 + m),  m = expm1(-2|x|) in (-1, 0]
 *   (|x| is capped at 40, where tanh is 1 to the last bit; no cancellation at any x, so one
 *   formula and one division serve the whole line, as in glibc's tanh):
 *   expm1(y) = 2^k expm1(r) + (2^k - 1),  k = round(y / ln 2), r = y - k ln2_hi - k ln2_lo
 *   (Cody-Waite, with r's rounding error kept), |r| <= ln2 / 2,
 *   expm1(r) = r + r^2 (1/2! + ... + r^11/13!) (remainder < 5e-18 relative), 2^k built in the
 *   exponent field from the integer k; (2^k - 1) + 2^k r is summed exactly (Fast2Sum) and the
 *   rest added as its low part, so m is nearly correctly rounded even where the two leading
 *   terms cancel (|x| just above ln 2 / 4, k = -1).
 * Accuracy: within 2 ulp of a correctly rounded tanh (tests/test_vmath.c measures it against
 * tanhl over [-40, 40], on 10^6 random points of the band where k first changes, near 0 and
 * at the special values); NaN in gives NaN out, +-inf gives +-1.
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

/* tanh x = -sign(x) m / (2 + m),  m = expm1(-2|x|) in (-1, 0]: no cancellation anywhere, so
 * one formula serves every x, with one division. */
static RNN_INLINE double tanh_elem(double xi)
{
    const double shift = 0x1.8p52; /* adding it rounds to an integer held in the low bits */
    const double log2e = 1.4426950408889634074, ln2_hi = 6.93147180369123816490e-01,
                 ln2_lo = 1.90821492927058770002e-10;
    const double ax = fabs(xi), y = -2.0 * (isless(ax, 40.0) ? ax : 40.0);
    const double t = y * log2e + shift, kd = t - shift;
    /* Cody-Waite: rh is exact (ln2_hi has 11 trailing zero bits and |k| <= 116); r + rlo is
     * y - k ln 2 to ~2^-100 relative (Fast2Sum, |rh| >= |c|) */
    const double rh = y - kd * ln2_hi, c = kd * ln2_lo, r = rh - c, rlo = (rh - r) - c;
    double q = 1.0 / 6227020800.0; /* expm1(r) = r + r^2 (1/2! + r/3! + ... + r^11/13!) */
    q = q * r + 1.0 / 479001600.0;
    q = q * r + 1.0 / 39916800.0;
    q = q * r + 1.0 / 3628800.0;
    q = q * r + 1.0 / 362880.0;
    q = q * r + 1.0 / 40320.0;
    q = q * r + 1.0 / 5040.0;
    q = q * r + 1.0 / 720.0;
    q = q * r + 1.0 / 120.0;
    q = q * r + 1.0 / 24.0;
    q = q * r + 1.0 / 6.0;
    q = q * r + 0.5;
    uint64_t ti, si;
    memcpy(&ti, &t, sizeof ti);
    si = (ti + 1023u) << 52; /* the low bits of t hold k; k + 1023 is the biased exponent */
    double scale;
    memcpy(&scale, &si, sizeof scale);
    /* m = (2^k - 1) + 2^k r + 2^k (r^2 q + rlo (1 + r)): the first two terms are exact and
     * |2^k - 1| >= |2^k r| (k <= 0, |r| <= ln 2 / 2), so their sum's rounding error e is exact
     * (Fast2Sum) and joins the small terms; m is then rounded once */
    const double a = scale - 1.0, b = scale * r, sab = a + b, e = b - (sab - a);
    const double m = sab + (e + scale * (r * (r * q) + rlo * (1.0 + r)));
    const double v = copysign(-m / (2.0 + m), xi);
    return isunordered(xi, xi) ? xi : v;
}

/* y = tanh(x) */
static RNN_INLINE void tanh_loop(size_t n, const double *x, double *y)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        y[i] = tanh_elem(x[i]);
}

/* out = alpha s + beta tanh(a + bias), row by row (nb rows of m), in one pass */
static RNN_INLINE void affine_loop(size_t nb, size_t m, const double *a, const double *bias,
                                   const double *s, double alpha, double beta, double *out)
{
    for (size_t r = 0; r < nb; r++) {
        const double *ar = a + r * m, *sr = s + r * m;
        double *o = out + r * m;
#pragma omp simd
        for (size_t i = 0; i < m; i++)
            o[i] = alpha * sr[i] + beta * tanh_elem(ar[i] + bias[i]);
    }
}

static void tanh_generic(size_t n, const double *x, double *y)
{
    tanh_loop(n, x, y);
}

static void affine_generic(size_t nb, size_t m, const double *a, const double *bias,
                           const double *s, double alpha, double beta, double *out)
{
    affine_loop(nb, m, a, bias, s, alpha, beta, out);
}

#ifdef RNN_HAVE_AVX2_FMA
#define RNN_AVX2 __attribute__((target("avx2,fma")))
RNN_AVX2 static void tanh_avx2(size_t n, const double *x, double *y)
{
    tanh_loop(n, x, y);
}

RNN_AVX2 static void affine_avx2(size_t nb, size_t m, const double *a, const double *bias,
                                 const double *s, double alpha, double beta, double *out)
{
    affine_loop(nb, m, a, bias, s, alpha, beta, out);
}
#endif

/* The variants for this processor, chosen once when the program loads. */
static void (*tanh_impl)(size_t, const double *, double *) = tanh_generic;
static void (*affine_impl)(size_t, size_t, const double *, const double *, const double *, double,
                           double, double *) = affine_generic;

#ifdef RNN_HAVE_AVX2_FMA
__attribute__((constructor)) static void pick_tanh(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        tanh_impl = tanh_avx2;
        affine_impl = affine_avx2;
    }
}
#endif

void rnn_tanh_v(size_t n, const double *x, double *y)
{
    tanh_impl(n, x, y);
}

void rnn_tanh_affine(size_t nb, size_t m, const double *a, const double *bias, const double *s,
                     double alpha, double beta, double *out)
{
    affine_impl(nb, m, a, bias, s, alpha, beta, out);
}

double rnn_tanh(double x)
{
    double y;
    rnn_tanh_v(1, &x, &y);
    return y;
}
