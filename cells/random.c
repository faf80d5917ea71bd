/*
 * random.c — the suite's one seed scheme, and random fills of parameter blocks.
 * (Kept apart from linalg.c: GSL's gsl_cblas.h and OpenBLAS's cblas.h cannot meet in
 * one translation unit.)
 *
 * stream seed = splitmix64(seed XOR fnv1a(stream name) XOR golden * (index + 1)).
 * Named streams keep results independent of the order in which things run and of the
 * number of threads: each replicate or grid point draws from its own generator.
 */
#include <stdint.h>
#include <gsl/gsl_randist.h>
#include "cell.h"

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

unsigned long rnn_seed_derive(unsigned long seed, const char *stream, unsigned long index)
{
    uint64_t x = (uint64_t)seed ^ fnv1a(stream) ^ (0x9e3779b97f4a7c15ULL * ((uint64_t)index + 1));
    /* gsl_rng_set maps 0 to a default seed; keep streams distinct by avoiding 0. */
    uint64_t r = splitmix64(x) & 0xffffffffULL;
    return (unsigned long)(r ? r : 1);
}

gsl_rng *rnn_rng_alloc(unsigned long seed, const char *stream, unsigned long index)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r)
        gsl_rng_set(r, rnn_seed_derive(seed, stream, index));
    return r;
}

void rnn_fill_gaussian(gsl_rng *r, double sd, size_t n, double *x)
{
    for (size_t i = 0; i < n; i++)
        x[i] = gsl_ran_gaussian(r, sd);
}

void rnn_fill_uniform(gsl_rng *r, double a, size_t n, double *x)
{
    for (size_t i = 0; i < n; i++)
        x[i] = a * (2.0 * gsl_rng_uniform(r) - 1.0);
}

