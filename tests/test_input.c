/*
 * test_input.c — unit tests of the input signals (cells/input.c, THEORY.md §1).
 *
 *   sines:  seeded and deterministic; smooth: a central-difference derivative matches the
 *           analytic u'_j(t) = sum_k a_jk w_jk cos(w_jk t + p_jk); bounded by sum_k a_jk.
 *   hold:   u(t) = u_n on [t0 + (n-1) h, t0 + n h), including at t = t0 + k*h computed in
 *           floating point, and clamped outside the sampled range.
 *   linear: hits the samples, interpolates midpoints, clamps outside.
 *   next_knot for hold, linear, sines and zero; the kind names; allocation error paths.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cell.h"

/* Central-difference derivative of a sines signal with h = cbrt(eps) max(1, |t|): the error
 * is at most the truncation h^2/6 |u'''| <= h^2/6 sum_k a w^3 plus the rounding of the
 * evaluations, ~eps sum_k a (1 + w |t|) / h (the argument w t + p carries eps |w t|). The test
 * computes this bound per component and allows DERIV_SAFETY times it (about 1e-9 at t ~ 1,
 * 1e-7 at t = 10); a wrong derivative (a missing factor w, a sin for a cos) is O(1). */
#define DERIV_SAFETY 4.0
/* Linear interpolation at t = t0 + k h computed in floating point: (t - t0)/h may be off by
 * a few ulps of k, moving the weight by ~k eps; with |u| <= 1 and k < 200 that is < 1e-13. */
#define INTERP_TOL 1e-12

static void fill_seq(size_t n, size_t d, double *seq)
{
    /* Distinct, O(1) values: sample k, component j. */
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < d; j++)
            seq[k * d + j] = sin(1.0 + 0.7 * (double)k + 2.3 * (double)j);
}

/* ---- sines -------------------------------------------------------------------------------- */

Test(input, sines_deterministic_and_seed_dependent)
{
    rnn_input *a = rnn_input_alloc_sines(3, 11), *b = rnn_input_alloc_sines(3, 11),
              *c = rnn_input_alloc_sines(3, 12);
    cr_assert(a && b && c, "alloc");
    cr_assert_eq(a->kind, RNN_INPUT_SINES, "kind");
    const size_t n = 3 * RNN_SINES_TERMS;
    cr_assert(memcmp(a->amp, b->amp, n * sizeof(double)) == 0, "same seed: amplitudes");
    cr_assert(memcmp(a->omega, b->omega, n * sizeof(double)) == 0, "same seed: frequencies");
    cr_assert(memcmp(a->phase, b->phase, n * sizeof(double)) == 0, "same seed: phases");
    cr_assert(memcmp(a->amp, c->amp, n * sizeof(double)) != 0, "different seed: amplitudes");
    double ua[3], ub[3], uc[3];
    rnn_input_eval(a, 1.7, ua);
    rnn_input_eval(b, 1.7, ub);
    rnn_input_eval(c, 1.7, uc);
    cr_assert(memcmp(ua, ub, sizeof ua) == 0, "same seed: same values");
    cr_assert(memcmp(ua, uc, sizeof ua) != 0, "different seed: different values");
    rnn_input_free(a);
    rnn_input_free(b);
    rnn_input_free(c);
}

Test(input, sines_parameters_in_documented_ranges)
{
    rnn_input *in = rnn_input_alloc_sines(4, 3);
    cr_assert_not_null(in, "alloc");
    for (size_t j = 0; j < 4; j++)
        for (size_t k = 0; k < RNN_SINES_TERMS; k++) {
            size_t i = j * RNN_SINES_TERMS + k;
            double kk = (double)(k + 1);
            cr_assert(in->amp[i] >= 0.5 / kk && in->amp[i] <= 1.0 / kk, "amp[%zu] = %g", i, in->amp[i]);
            cr_assert(in->omega[i] >= 0.5 * kk && in->omega[i] <= 2.0 * kk, "omega[%zu] = %g", i,
                      in->omega[i]);
            cr_assert(in->phase[i] >= 0 && in->phase[i] <= 2 * M_PI, "phase[%zu] = %g", i, in->phase[i]);
        }
    /* |u_j| <= sum_k a_jk <= 1 + 1/2 + 1/3 */
    for (int it = 0; it < 1000; it++) {
        double u[4];
        rnn_input_eval(in, 0.05 * it - 10.0, u);
        for (size_t j = 0; j < 4; j++)
            cr_assert_leq(fabs(u[j]), 11.0 / 6.0, "|u| bounded");
    }
    rnn_input_free(in);
}

Test(input, sines_smooth_derivative_matches_analytic)
{
    enum { d = 3 };
    rnn_input *in = rnn_input_alloc_sines(d, 7);
    cr_assert_not_null(in, "alloc");
    const double times[] = {0.0, 0.37, 3.3, -2.1, 10.0};
    for (size_t it = 0; it < sizeof times / sizeof times[0]; it++) {
        double t = times[it], h = cbrt(DBL_EPSILON) * fmax(1.0, fabs(t));
        double up[d], um[d], u0[d];
        rnn_input_eval(in, t + h, up);
        rnn_input_eval(in, t - h, um);
        rnn_input_eval(in, t, u0);
        for (size_t j = 0; j < d; j++) {
            double du = 0, val = 0, trunc = 0, round = 0;
            for (size_t k = 0; k < RNN_SINES_TERMS; k++) {
                size_t i = j * RNN_SINES_TERMS + k;
                const double a = in->amp[i], w = in->omega[i];
                du += a * w * cos(w * t + in->phase[i]);
                val += a * sin(w * t + in->phase[i]);
                trunc += h * h / 6 * a * w * w * w;
                round += DBL_EPSILON * a * (1 + w * fabs(t) + 2 * M_PI) / h;
            }
            double fd = (up[j] - um[j]) / (2 * h);
            cr_assert_leq(fabs(fd - du), DERIV_SAFETY * (trunc + round), "t = %g, j = %zu: FD %.15g, analytic %.15g", t, j,
                          fd, du);
            cr_assert_leq(fabs(u0[j] - val), 1e-15, "value at t = %g", t);
        }
    }
    rnn_input_free(in);
}

/* ---- hold --------------------------------------------------------------------------------- */

Test(input, hold_returns_sample_on_its_interval)
{
    /* Several grids, including ones where k*h is not representable (0.1, 0.042, 1/3). */
    const double grids[][2] = {{0.0, 0.1}, {0.25, 0.042}, {-1.5, 1.0 / 3.0}, {3.0, 0.7}, {0.0, 1.0}};
    enum { n = 20000, d = 1 };
    double *seq = malloc(n * d * sizeof(double));
    for (size_t k = 0; k < n; k++)
        seq[k] = (double)k; /* sample k (0-based) is the number k */
    for (size_t g = 0; g < sizeof grids / sizeof grids[0]; g++) {
        const double t0 = grids[g][0], h = grids[g][1];
        rnn_input *in = rnn_input_alloc_sequence(RNN_INPUT_HOLD, d, n, t0, h, seq);
        cr_assert_not_null(in, "alloc");
        for (size_t k = 0; k < n; k++) {
            double u, t = t0 + (double)k * h;
            rnn_input_eval(in, t, &u);
            cr_assert_eq(u, (double)k, "t0 = %g, h = %g: u(t0 + %zu*h) = %g, expected sample %zu",
                         t0, h, k, u, k);
            rnn_input_eval(in, t0 + ((double)k + 0.5) * h, &u);
            cr_assert_eq(u, (double)k, "midpoint of interval %zu", k);
            if (k + 1 < n) {
                rnn_input_eval(in, t0 + ((double)k + 0.999) * h, &u);
                cr_assert_eq(u, (double)k, "just before the end of interval %zu", k);
            }
        }
        /* Clamped outside [t0, t0 + n h). */
        double u;
        rnn_input_eval(in, t0 - 5 * h, &u);
        cr_assert_eq(u, 0.0, "before t0: the first sample");
        rnn_input_eval(in, t0 - 1e6, &u);
        cr_assert_eq(u, 0.0, "far before t0: the first sample");
        rnn_input_eval(in, t0 + (double)n * h, &u);
        cr_assert_eq(u, (double)(n - 1), "at the end: the last sample");
        rnn_input_eval(in, t0 + 1e9, &u);
        cr_assert_eq(u, (double)(n - 1), "far after: the last sample");
        rnn_input_free(in);
    }
    free(seq);
}

Test(input, hold_multidimensional_rows)
{
    enum { n = 5, d = 3 };
    double seq[n * d], u[d];
    fill_seq(n, d, seq);
    rnn_input *in = rnn_input_alloc_sequence(RNN_INPUT_HOLD, d, n, 1.0, 0.5, seq);
    cr_assert_not_null(in, "alloc");
    for (size_t k = 0; k < n; k++) {
        rnn_input_eval(in, 1.0 + 0.5 * (double)k + 0.2, u);
        cr_assert(memcmp(u, seq + k * d, sizeof u) == 0, "row %zu of the sequence", k);
    }
    /* the sequence was copied: changing the caller's array changes nothing */
    seq[0] = 1e3;
    rnn_input_eval(in, 1.0, u);
    cr_assert_neq(u[0], 1e3, "alloc_sequence copies the samples");
    rnn_input_free(in);
}

/* ---- linear ------------------------------------------------------------------------------- */

Test(input, linear_hits_samples_and_interpolates)
{
    enum { n = 200, d = 2 };
    double seq[n * d], u[d];
    fill_seq(n, d, seq);
    const double grids[][2] = {{0.5, 0.25}, {0.0, 0.1}, {-2.0, 0.042}};
    for (size_t g = 0; g < sizeof grids / sizeof grids[0]; g++) {
        const double t0 = grids[g][0], h = grids[g][1];
        /* dyadic grid (t0 = 0.5, h = 0.25): times and weights are exact, so equality is exact */
        const double tol = g == 0 ? 0.0 : INTERP_TOL;
        rnn_input *in = rnn_input_alloc_sequence(RNN_INPUT_LINEAR, d, n, t0, h, seq);
        cr_assert_not_null(in, "alloc");
        for (size_t k = 0; k < n; k++) {
            rnn_input_eval(in, t0 + (double)k * h, u);
            for (size_t j = 0; j < d; j++)
                cr_assert_leq(fabs(u[j] - seq[k * d + j]), tol,
                              "t0 = %g, h = %g: u(t_%zu)[%zu] = %.17g, sample %.17g", t0, h, k, j,
                              u[j], seq[k * d + j]);
            if (k + 1 < n) {
                rnn_input_eval(in, t0 + ((double)k + 0.5) * h, u);
                for (size_t j = 0; j < d; j++) {
                    double mid = 0.5 * (seq[k * d + j] + seq[(k + 1) * d + j]);
                    cr_assert_leq(fabs(u[j] - mid), INTERP_TOL, "midpoint %zu", k);
                }
                rnn_input_eval(in, t0 + ((double)k + 0.25) * h, u);
                for (size_t j = 0; j < d; j++) {
                    double q = 0.75 * seq[k * d + j] + 0.25 * seq[(k + 1) * d + j];
                    cr_assert_leq(fabs(u[j] - q), INTERP_TOL, "quarter point %zu", k);
                }
            }
        }
        rnn_input_eval(in, t0 - 3 * h, u);
        cr_assert(memcmp(u, seq, sizeof u) == 0, "clamped before t0");
        rnn_input_eval(in, t0 + (double)(n + 3) * h, u);
        cr_assert(memcmp(u, seq + (n - 1) * d, sizeof u) == 0, "clamped after the last sample");
        rnn_input_free(in);
    }
}

Test(input, linear_single_sample_is_constant)
{
    double seq[2] = {0.3, -0.4}, u[2];
    rnn_input *in = rnn_input_alloc_sequence(RNN_INPUT_LINEAR, 2, 1, 0.0, 1.0, seq);
    cr_assert_not_null(in, "alloc");
    const double ts[] = {-1.0, 0.0, 0.5, 7.0};
    for (size_t i = 0; i < 4; i++) {
        rnn_input_eval(in, ts[i], u);
        cr_assert(u[0] == 0.3 && u[1] == -0.4, "constant at t = %g", ts[i]);
    }
    rnn_input_free(in);
}

/* ---- next_knot ---------------------------------------------------------------------------- */

Test(input, next_knot_hold)
{
    /* t0 = 1, h = 0.5, 4 samples: jumps at 1.5, 2.0, 2.5 */
    double seq[4] = {1, 2, 3, 4};
    rnn_input *in = rnn_input_alloc_sequence(RNN_INPUT_HOLD, 1, 4, 1.0, 0.5, seq);
    cr_assert_not_null(in, "alloc");
    const double t[] = {-10.0, 0.0, 1.0, 1.2, 1.5, 1.7, 2.0, 2.4, 2.5, 3.0, 100.0};
    const double want[] = {1.5, 1.5, 1.5, 1.5, 2.0, 2.0, 2.5, 2.5, INFINITY, INFINITY, INFINITY};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        cr_assert_eq(rnn_input_next_knot(in, t[i]), want[i], "hold: next_knot(%g) = %g, expected %g",
                     t[i], rnn_input_next_knot(in, t[i]), want[i]);
    rnn_input_free(in);

    /* On a grid with h = 0.1, at t = t0 + k*h the next knot is t0 + (k+1)*h, strictly later. */
    enum { n = 1000 };
    double *s2 = calloc(n, sizeof(double));
    in = rnn_input_alloc_sequence(RNN_INPUT_HOLD, 1, n, 0.3, 0.1, s2);
    for (size_t k = 0; k + 1 < n; k++) {
        double tk = 0.3 + (double)k * 0.1, kn = rnn_input_next_knot(in, tk);
        cr_assert_gt(kn, tk, "next knot after t_%zu must be later", k);
        cr_assert_leq(fabs(kn - (0.3 + (double)(k + 1) * 0.1)), 1e-12, "next knot after t_%zu", k);
    }
    cr_assert_eq(rnn_input_next_knot(in, 0.3 + (double)(n - 1) * 0.1), INFINITY, "no knot after the last");
    rnn_input_free(in);
    free(s2);

    /* One sample: a constant, no knots at all. */
    in = rnn_input_alloc_sequence(RNN_INPUT_HOLD, 1, 1, 0.0, 1.0, seq);
    cr_assert_eq(rnn_input_next_knot(in, -5.0), INFINITY, "single-sample hold has no knots");
    rnn_input_free(in);
}

Test(input, next_knot_linear)
{
    /* t0 = 1, h = 0.5, 4 samples: kinks at 1.0, 1.5, 2.0, 2.5 */
    double seq[4] = {1, 2, 3, 4};
    rnn_input *in = rnn_input_alloc_sequence(RNN_INPUT_LINEAR, 1, 4, 1.0, 0.5, seq);
    cr_assert_not_null(in, "alloc");
    const double t[] = {-10.0, 0.9, 1.0, 1.2, 1.5, 2.4, 2.5, 7.0};
    const double want[] = {1.0, 1.0, 1.5, 1.5, 2.0, 2.5, INFINITY, INFINITY};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        cr_assert_eq(rnn_input_next_knot(in, t[i]), want[i], "linear: next_knot(%g) = %g, expected %g",
                     t[i], rnn_input_next_knot(in, t[i]), want[i]);
    rnn_input_free(in);
}

Test(input, next_knot_smooth_signals_is_infinite)
{
    rnn_input *s = rnn_input_alloc_sines(2, 1), *z = rnn_input_alloc_zero(2);
    cr_assert(s && z, "alloc");
    const double t[] = {-1.0, 0.0, 3.5, 1e6};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(rnn_input_next_knot(s, t[i]), INFINITY, "sines at %g", t[i]);
        cr_assert_eq(rnn_input_next_knot(z, t[i]), INFINITY, "zero at %g", t[i]);
    }
    double u[2] = {5, 5};
    rnn_input_eval(z, 2.0, u);
    cr_assert(u[0] == 0 && u[1] == 0, "zero input is zero");
    rnn_input_free(s);
    rnn_input_free(z);
}

/* ---- names, gaussian, allocation errors ------------------------------------------------------- */

Test(input, kind_parse_and_name_round_trip)
{
    const rnn_input_kind kinds[] = {RNN_INPUT_ZERO, RNN_INPUT_SINES, RNN_INPUT_HOLD, RNN_INPUT_LINEAR};
    const char *names[] = {"zero", "sines", "hold", "linear"};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_str_eq(rnn_input_kind_name(kinds[i]), names[i], "name of kind %zu", i);
        cr_assert_eq(rnn_input_kind_parse(names[i]), (int)kinds[i], "parse '%s'", names[i]);
        cr_assert_eq(rnn_input_kind_parse(rnn_input_kind_name(kinds[i])), (int)kinds[i], "round trip");
    }
    cr_assert_eq(rnn_input_kind_parse("bogus"), -1, "unknown");
    cr_assert_eq(rnn_input_kind_parse(""), -1, "empty");
    cr_assert_eq(rnn_input_kind_parse("sine"), -1, "a prefix is not a name");
    cr_assert_eq(rnn_input_kind_parse("holds"), -1, "an extension is not a name");
}

Test(input, gaussian_sequence_deterministic)
{
    rnn_input *a = rnn_input_alloc_gaussian(RNN_INPUT_HOLD, 2, 50, 0.0, 0.1, 9),
              *b = rnn_input_alloc_gaussian(RNN_INPUT_HOLD, 2, 50, 0.0, 0.1, 9),
              *c = rnn_input_alloc_gaussian(RNN_INPUT_HOLD, 2, 50, 0.0, 0.1, 10);
    cr_assert(a && b && c, "alloc");
    cr_assert(memcmp(a->seq, b->seq, 100 * sizeof(double)) == 0, "same seed, same samples");
    cr_assert(memcmp(a->seq, c->seq, 100 * sizeof(double)) != 0, "different seed, different samples");
    double mean = 0, var = 0;
    for (size_t i = 0; i < 100; i++)
        mean += a->seq[i] / 100;
    for (size_t i = 0; i < 100; i++)
        var += (a->seq[i] - mean) * (a->seq[i] - mean) / 99;
    /* 100 standard normals: mean within 5 standard errors (0.5), variance within [0.4, 2]. */
    cr_assert(fabs(mean) < 0.5 && var > 0.4 && var < 2.0, "N(0,1) samples: mean %g, var %g", mean, var);
    rnn_input_free(a);
    rnn_input_free(b);
    rnn_input_free(c);
}

Test(input, alloc_error_paths)
{
    double seq[8] = {0};
    cr_assert_null(rnn_input_alloc_sequence(RNN_INPUT_HOLD, 2, 4, 0.0, 0.0, seq), "h = 0");
    cr_assert_null(rnn_input_alloc_sequence(RNN_INPUT_HOLD, 2, 4, 0.0, -0.1, seq), "h < 0");
    cr_assert_null(rnn_input_alloc_sequence(RNN_INPUT_LINEAR, 2, 4, 0.0, -1.0, seq), "linear h < 0");
    cr_assert_null(rnn_input_alloc_sequence(RNN_INPUT_HOLD, 2, 4, 0.0, NAN, seq), "h NaN");
    cr_assert_null(rnn_input_alloc_sequence(RNN_INPUT_HOLD, 2, 4, 0.0, INFINITY, seq), "h inf");
    cr_assert_null(rnn_input_alloc_sequence(RNN_INPUT_HOLD, 2, 4, NAN, 0.1, seq), "t0 NaN");
    cr_assert_null(rnn_input_alloc_sequence(RNN_INPUT_HOLD, 2, 0, 0.0, 0.1, seq), "n = 0");
    cr_assert_null(rnn_input_alloc_sequence(RNN_INPUT_LINEAR, 0, 4, 0.0, 0.1, seq), "d = 0");
    cr_assert_null(rnn_input_alloc_sequence(RNN_INPUT_HOLD, 2, 4, 0.0, 0.1, NULL), "seq NULL");
    cr_assert_null(rnn_input_alloc_sequence(RNN_INPUT_SINES, 2, 4, 0.0, 0.1, seq), "kind sines");
    cr_assert_null(rnn_input_alloc_sequence(RNN_INPUT_ZERO, 2, 4, 0.0, 0.1, seq), "kind zero");
    cr_assert_null(rnn_input_alloc_sines(0, 1), "sines d = 0");
    cr_assert_null(rnn_input_alloc_zero(0), "zero d = 0");
    cr_assert_null(rnn_input_alloc_gaussian(RNN_INPUT_HOLD, 2, 0, 0.0, 0.1, 1), "gaussian n = 0");
    cr_assert_null(rnn_input_alloc_gaussian(RNN_INPUT_HOLD, 2, 4, 0.0, 0.0, 1), "gaussian h = 0");
    cr_assert_null(rnn_input_alloc_gaussian(RNN_INPUT_HOLD, 0, 4, 0.0, 0.1, 1), "gaussian d = 0");
    rnn_input_free(NULL); /* a no-op */
    rnn_input *ok = rnn_input_alloc_sequence(RNN_INPUT_HOLD, 2, 4, 0.0, 0.1, seq);
    cr_assert_not_null(ok, "valid arguments allocate");
    cr_assert(ok->n == 4 && ok->d == 2 && ok->h == 0.1 && ok->t0 == 0.0, "fields recorded");
    rnn_input_free(ok);
}
