/*
 * input.c — input signals u(t) shared by a cell and its ODE (THEORY.md §1).
 *
 *   sines:  u_j(t) = sum_{k=1..3} a_jk sin(w_jk t + p_jk), with a_jk ~ U(0.5, 1)/k,
 *           w_jk ~ U(0.5, 2) k, p_jk ~ U(0, 2 pi): smooth, a few time scales, |u_j| < 2.
 *   hold:   zero-order hold, u(t) = u_n on [t0 + (n-1) h, t0 + n h), n = 1..N.
 *   linear: piecewise-linear interpolation through u_n at t0 + (n-1) h.
 *   zero:   u = 0.
 * Outside the sampled range, hold and linear keep the first or last sample.
 * The discrete cell evaluates u at t_{n-1} (and, for multi-stage steps, at the stage
 * times), so with h = dt the hold signal hands the cell exactly u_n at step n.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <quadmath.h>
#include <gsl/gsl_randist.h>
#include "cell.h"

static rnn_input *input_new(rnn_input_kind kind, size_t d)
{
    if (d == 0)
        return NULL;
    rnn_input *in = calloc(1, sizeof *in);
    if (in) {
        in->kind = kind;
        in->d = d;
    }
    return in;
}

rnn_input *rnn_input_alloc_zero(size_t d)
{
    return input_new(RNN_INPUT_ZERO, d);
}

rnn_input *rnn_input_alloc_sines(size_t d, unsigned long seed)
{
    rnn_input *in = input_new(RNN_INPUT_SINES, d);
    if (!in)
        return NULL;
    size_t n = d * RNN_SINES_TERMS;
    in->amp = malloc(n * sizeof(double));
    in->omega = malloc(n * sizeof(double));
    in->phase = malloc(n * sizeof(double));
    gsl_rng *r = rnn_rng_alloc(seed, "input:sines", 0);
    if (!in->amp || !in->omega || !in->phase || !r) {
        gsl_rng_free(r);
        rnn_input_free(in);
        return NULL;
    }
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k < RNN_SINES_TERMS; k++) {
            size_t i = j * RNN_SINES_TERMS + k;
            in->amp[i] = gsl_ran_flat(r, 0.5, 1.0) / (double)(k + 1);
            in->omega[i] = gsl_ran_flat(r, 0.5, 2.0) * (double)(k + 1);
            in->phase[i] = gsl_ran_flat(r, 0.0, 2.0 * M_PI);
        }
    gsl_rng_free(r);
    return in;
}

rnn_input *rnn_input_alloc_sequence(rnn_input_kind kind, size_t d, size_t n, double t0,
                                    double h, const double *seq)
{
    if ((kind != RNN_INPUT_HOLD && kind != RNN_INPUT_LINEAR) || n == 0 || !(h > 0) ||
        !isfinite(t0) || !isfinite(h) || !seq)
        return NULL;
    rnn_input *in = input_new(kind, d);
    if (!in)
        return NULL;
    in->seq = malloc(n * d * sizeof(double));
    if (!in->seq) {
        rnn_input_free(in);
        return NULL;
    }
    memcpy(in->seq, seq, n * d * sizeof(double));
    in->n = n;
    in->t0 = t0;
    in->h = h;
    return in;
}

rnn_input *rnn_input_alloc_gaussian(rnn_input_kind kind, size_t d, size_t n, double t0,
                                    double h, unsigned long seed)
{
    double *seq = malloc((n ? n : 1) * d * sizeof(double));
    gsl_rng *r = rnn_rng_alloc(seed, "input:gaussian", 0);
    rnn_input *in = NULL;
    if (seq && r) {
        rnn_fill_gaussian(r, 1.0, n * d, seq);
        in = rnn_input_alloc_sequence(kind, d, n, t0, h, seq);
    }
    gsl_rng_free(r);
    free(seq);
    return in;
}

void rnn_input_free(rnn_input *in)
{
    if (!in)
        return;
    free(in->amp);
    free(in->omega);
    free(in->phase);
    free(in->seq);
    free(in);
}

/* Sample n (0-based) holds on [t0 + n h, t0 + (n+1) h). A tiny relative slack makes
 * t_n = t0 + n dt, computed in floating point, land in its own interval. */
static size_t hold_index(const rnn_input *in, double t)
{
    double x = (t - in->t0) / in->h;
    double k = floor(x + 1e-9);
    return k <= 0 ? 0 : (k >= (double)(in->n - 1) ? in->n - 1 : (size_t)k);
}

void rnn_input_eval(const rnn_input *in, double t, double *u)
{
    const size_t d = in->d;
    switch (in->kind) {
    case RNN_INPUT_ZERO:
        memset(u, 0, d * sizeof(double));
        return;
    case RNN_INPUT_SINES:
        for (size_t j = 0; j < d; j++) {
            double v = 0;
            for (size_t k = 0; k < RNN_SINES_TERMS; k++) {
                size_t i = j * RNN_SINES_TERMS + k;
                v += in->amp[i] * sin(in->omega[i] * t + in->phase[i]);
            }
            u[j] = v;
        }
        return;
    case RNN_INPUT_HOLD:
        memcpy(u, in->seq + hold_index(in, t) * d, d * sizeof(double));
        return;
    case RNN_INPUT_LINEAR: {
        double x = (t - in->t0) / in->h;
        if (x <= 0 || in->n == 1) {
            memcpy(u, in->seq, d * sizeof(double));
            return;
        }
        if (x >= (double)(in->n - 1)) {
            memcpy(u, in->seq + (in->n - 1) * d, d * sizeof(double));
            return;
        }
        size_t n = (size_t)floor(x);
        double w = x - (double)n;
        for (size_t j = 0; j < d; j++)
            u[j] = (1 - w) * in->seq[n * d + j] + w * in->seq[(n + 1) * d + j];
        return;
    }
    }
}

void rnn_input_eval_quad(const rnn_input *in, rnn_quad t, rnn_quad *u)
{
    const size_t d = in->d;
    switch (in->kind) {
    case RNN_INPUT_ZERO:
        for (size_t j = 0; j < d; j++)
            u[j] = 0;
        return;
    case RNN_INPUT_SINES:
        for (size_t j = 0; j < d; j++) {
            rnn_quad v = 0;
            for (size_t k = 0; k < RNN_SINES_TERMS; k++) {
                size_t i = j * RNN_SINES_TERMS + k;
                v += (rnn_quad)in->amp[i] * sinq((rnn_quad)in->omega[i] * t + in->phase[i]);
            }
            u[j] = v;
        }
        return;
    case RNN_INPUT_HOLD: { /* the samples are exact; only the interval is looked up */
        const double *v = in->seq + hold_index(in, (double)t) * d;
        for (size_t j = 0; j < d; j++)
            u[j] = v[j];
        return;
    }
    case RNN_INPUT_LINEAR: {
        rnn_quad x = (t - in->t0) / in->h;
        size_t n = x <= 0 || in->n == 1 ? 0 : (x >= in->n - 1 ? in->n - 1 : (size_t)floorq(x));
        rnn_quad w = n + 1 < in->n ? x - n : 0;
        if (w < 0)
            w = 0;
        for (size_t j = 0; j < d; j++)
            u[j] = n + 1 < in->n ? (1 - w) * in->seq[n * d + j] + w * in->seq[(n + 1) * d + j]
                                 : (rnn_quad)in->seq[n * d + j];
        return;
    }
    }
}

double rnn_input_next_knot(const rnn_input *in, double t)
{
    if (in->kind != RNN_INPUT_HOLD && in->kind != RNN_INPUT_LINEAR)
        return INFINITY;
    /* Knots at t0 + k h for k = 1..n-1 (hold) or k = 0..n-1 (linear). */
    double x = (t - in->t0) / in->h;
    double k = floor(x + 1e-9) + 1;
    double kmin = in->kind == RNN_INPUT_HOLD ? 1 : 0;
    if (k < kmin)
        k = kmin;
    if (k > (double)(in->n - 1))
        return INFINITY;
    return in->t0 + k * in->h;
}

int rnn_input_kind_parse(const char *name)
{
    static const char *names[] = {"zero", "sines", "hold", "linear"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

const char *rnn_input_kind_name(rnn_input_kind kind)
{
    static const char *names[] = {"zero", "sines", "hold", "linear"};
    return names[kind];
}
