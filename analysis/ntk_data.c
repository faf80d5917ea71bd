/*
 * ntk_data.c — the ergodic data of the kernel-limit experiments (THEORY.md §7, [KL]).
 *
 * Two uniformly ergodic Markov chains X_k in R^d:
 *
 *   chain  S fixed states x_1..x_S, uniform in [-spread, spread]^d (seeded), and
 *            P = (1 - g) I + g 1 pi^T:  stay with probability 1 - g, else draw from pi.
 *          pi^T P = pi, and P has eigenvalues 1 (once) and 1 - g (S - 1 times), so the
 *          spectral gap is exactly g and |P^k(x, .) - pi|_TV <= (1 - g)^k for every x
 *          (Doeblin: every row holds g pi). pi is seeded: pi_s proportional to 1 + u_s,
 *          u_s ~ U[0, 1], so that no state is rare.
 *   ar1    X_{k+1} = a X_k + (1 - a) U_k, U_k ~ U[-spread, spread]^d independent: bounded
 *          (|X| <= spread) and geometrically ergodic at rate a; a path counts as stationary
 *          after burn_in steps from X = 0 (the law is then within a^burn_in of pi in the
 *          Wasserstein distance).
 *
 * Targets that need memory (s_k = the mean of the coordinates of X_k; for d = 1, s_k = X_k):
 *   sin   Y_k = sin(s_k + 0.7 s_{k-1})
 *   sum   Y_k = sum_{j=0..20} 2^-j s_{k-j}
 *
 * The law (states, pi) comes from one seed and the path from another, so that every width and
 * replicate of a sweep samples the same law. A path always starts stationary: the chain from
 * X_0 ~ pi, the AR(1) after its burn-in; the ring of past inputs is then filled by running
 * RNN_NTK_TARGET_LAG further steps, so the first target already sees a full past.
 *
 * Reference: Lam, Sirignano, Spiliopoulos, arXiv 2308.14555 (ergodic data sequences);
 * Levin, Peres, Wilmer, "Markov chains and mixing times", §4 (Doeblin, spectral gap).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"

#define RING (RNN_NTK_TARGET_LAG + 1)

void rnn_ntk_data_opts_default(rnn_ntk_data_opts *o)
{
    memset(o, 0, sizeof *o);
    o->source = RNN_NTK_CHAIN;
    o->target = RNN_NTK_TARGET_SIN;
    o->d = 1;
    o->states = 8;
    o->gap = 0.5;
    o->ar = 0.5;
    o->spread = 1.5;
    o->burn_in = 200;
}

static int opts_ok(const rnn_ntk_data_opts *o)
{
    if (o->d < 1 || o->d > 4096 || !(o->spread > 0) || !isfinite(o->spread))
        return 0;
    if (o->source == RNN_NTK_CHAIN)
        return o->states >= 2 && o->states <= 4096 && o->gap > 0 && o->gap <= 1;
    return o->source == RNN_NTK_AR1 && o->ar >= 0 && o->ar < 1;
}

/* The s_k of the target: the mean of the coordinates of the input j steps back. */
static double past_mean(const rnn_ntk_data *D, size_t j)
{
    const double *x = D->past + ((D->head + RING - j) % RING) * D->o.d;
    double s = 0;
    for (size_t l = 0; l < D->o.d; l++)
        s += x[l];
    return s / (double)D->o.d;
}

static double target(const rnn_ntk_data *D)
{
    if (D->o.target == RNN_NTK_TARGET_SIN)
        return sin(past_mean(D, 0) + 0.7 * past_mean(D, 1));
    double y = 0, w = 1;
    for (size_t j = 0; j <= RNN_NTK_TARGET_LAG; j++, w *= 0.5)
        y += w * past_mean(D, j);
    return y;
}

static size_t draw_pi(rnn_ntk_data *D)
{
    double u = gsl_rng_uniform(D->rng), acc = 0;
    for (size_t s = 0; s + 1 < D->o.states; s++)
        if (u < (acc += D->pi[s]))
            return s;
    return D->o.states - 1;
}

/* The next input into the ring (newest at head). */
static void advance(rnn_ntk_data *D)
{
    const size_t d = D->o.d;
    double *prev = D->past + D->head * d;
    D->head = (D->head + 1) % RING;
    double *x = D->past + D->head * d;
    if (D->o.source == RNN_NTK_CHAIN) {
        if (gsl_rng_uniform(D->rng) < D->o.gap)
            D->cur = draw_pi(D);
        memcpy(x, D->states + D->cur * d, d * sizeof(double));
    } else {
        const double a = D->o.ar;
        for (size_t l = 0; l < d; l++)
            x[l] = a * prev[l] + (1 - a) * D->o.spread * (2 * gsl_rng_uniform(D->rng) - 1);
    }
    if (D->filled < RING)
        D->filled++;
}

void rnn_ntk_data_restart(rnn_ntk_data *D, unsigned long path_seed)
{
    const size_t d = D->o.d;
    gsl_rng_set(D->rng, path_seed);
    D->head = 0;
    D->filled = 1;
    if (D->o.source == RNN_NTK_CHAIN) {
        D->cur = draw_pi(D);
        memcpy(D->past, D->states + D->cur * d, d * sizeof(double));
    } else {
        memset(D->past, 0, d * sizeof(double));
        for (size_t k = 0; k < D->o.burn_in; k++)
            advance(D);
    }
    for (size_t k = 0; k < RNN_NTK_TARGET_LAG; k++)
        advance(D);
}

rnn_ntk_data *rnn_ntk_data_alloc(const rnn_ntk_data_opts *o, unsigned long law_seed,
                                 unsigned long path_seed)
{
    if (!o || !opts_ok(o))
        return NULL;
    rnn_ntk_data *D = calloc(1, sizeof *D);
    if (!D)
        return NULL;
    D->o = *o;
    const size_t S = o->source == RNN_NTK_CHAIN ? o->states : 1;
    D->states = malloc(S * o->d * sizeof(double));
    D->pi = malloc(S * sizeof(double));
    D->past = calloc(RING * o->d, sizeof(double));
    D->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!D->states || !D->pi || !D->past || !D->rng) {
        rnn_ntk_data_free(D);
        return NULL;
    }
    gsl_rng_set(D->rng, law_seed);
    double tot = 0;
    for (size_t s = 0; s < S; s++) {
        for (size_t l = 0; l < o->d; l++)
            D->states[s * o->d + l] = o->spread * (2 * gsl_rng_uniform(D->rng) - 1);
        tot += D->pi[s] = 1 + gsl_rng_uniform(D->rng);
    }
    for (size_t s = 0; s < S; s++)
        D->pi[s] /= tot;
    rnn_ntk_data_restart(D, path_seed);
    return D;
}

void rnn_ntk_data_free(rnn_ntk_data *D)
{
    if (!D)
        return;
    free(D->states);
    free(D->pi);
    free(D->past);
    if (D->rng)
        gsl_rng_free(D->rng);
    free(D);
}

void rnn_ntk_data_next(rnn_ntk_data *D, double *x, double *y)
{
    advance(D);
    memcpy(x, D->past + D->head * D->o.d, D->o.d * sizeof(double));
    *y = target(D);
}

void rnn_ntk_data_history(rnn_ntk_data *D, size_t L, double *X, double *y)
{
    /* A fresh stationary start with a seed drawn from the path's own generator, so that the
     * histories are independent and reproducible from the path seed. */
    unsigned long s = gsl_rng_get(D->rng);
    rnn_ntk_data_restart(D, s ? s : 1);
    for (size_t k = 0; k < L; k++)
        rnn_ntk_data_next(D, X + k * D->o.d, y);
}

int rnn_ntk_chain_matrix(const rnn_ntk_data *D, double *P)
{
    if (D->o.source != RNN_NTK_CHAIN)
        return RNN_EINVAL;
    const size_t S = D->o.states;
    for (size_t i = 0; i < S; i++)
        for (size_t j = 0; j < S; j++)
            P[i * S + j] = D->o.gap * D->pi[j] + (i == j ? 1 - D->o.gap : 0);
    return RNN_OK;
}
