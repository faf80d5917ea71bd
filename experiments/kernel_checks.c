/*
 * kernel_checks.c — the checks of THEORY.md §7, kernel limit [KL] (a reading), from one width
 * sweep (experiments/ntk_sweep.c) shared by all of them; derivations and the measured
 * counterexample in docs/theory/kernel-limit.md.
 *
 *   kernel.memory-contraction  max over every run of the largest one-step ratio
 *                              |dH_{k+1}|_inf / |dH_k|_inf over sup|tanh'| max_i |B^i|: <= 1
 *   kernel.ntk-fluctuation     |slope + 1/2| <= 0.08 for ||K^N_0 - K||_F / ||K||_F
 *   kernel.output-at-init      |slope - (1/2 - beta)| <= 0.08 for the rms of g^N_0
 *   kernel.parameter-drift     |slope - (beta - 1)| <= 0.08 for mean_i |theta^i_t - theta^i_0|
 *   kernel.kernel-drift        THEORY.md's slope beta - 1 for sup_t ||K^N_t - K^N_0||_F: an
 *                              observation (see below)
 *   kernel.limit-ode           slope <= -min(beta - 1/2, 1 - beta, 1/2) + 0.08 for
 *                              max_t max_probe |g^N_t - g_t|
 *   kernel.control             beta = 1/2: the slope of the rms of g^N_0 is >= -0.08
 * Each slope is the least-squares slope of log(mean over seeds) against log N, with a 95%
 * bootstrap interval (reported); the verdict uses the slope itself, as THEORY.md states it.
 * The slope checks hold for every beta in {0.6, 0.75, 0.9} and both memory readings (a), (b):
 * measured = the worst deviation over the six.
 *
 * kernel.kernel-drift is an observation, not a check: the first-order kernel change has mean
 * zero under the initial law (E C = 0 kills two of its terms, and h is odd in W when H_0 = 0, so
 * the symmetric law of W kills the third, whatever the law of C), so the drift is
 * O(N^(2 beta - 2)) + O(N^(beta - 3/2)), not N^(beta - 1); measured slopes follow 2 beta - 2
 * for C = +-1, N(0, 1) and Exp(1) - 1 alike (docs/theory/kernel-limit.md §5). It reports the
 * worst |slope - (beta - 1)|; the detail gives the slopes and the values of 2 beta - 2.
 *
 * Two sweeps per tier and seed, shared by all the checks (computed by the first that runs):
 *   init   beta in {0.5, 0.6, 0.75, 0.9}, both readings, no training: ntk-fluctuation,
 *          output-at-init, control, memory-contraction;
 *   train  beta in {0.6, 0.75, 0.9}, both readings, trained to t = 1 (4 checkpoints):
 *          parameter-drift, kernel-drift, limit-ode (and memory-contraction).
 *                init sweep                  train sweep
 *   quick        N = 64..1024, 128 seeds     N = 64..512, 16 seeds, M = 256 samples
 *   standard     N = 64..4096, 64 seeds      N = 64..4096, 32 seeds, M = 512
 *   full         N = 64..16384, 64 seeds     N = 64..16384, 32 seeds, M = 1024
 * Why so many seeds: g^N_0 on the probes is, to a good approximation, one Gaussian times a fixed
 * profile (the NNGP kernel on these histories has one dominant direction), so its rms over the
 * probes varies by ~70% from seed to seed, and so does the limit distance, which contains it.
 * The slope of log(mean over S seeds) over widths w_1..w_n then has a standard error of about
 * 0.7 / sqrt(S) / sqrt(sum (log w - mean log w)^2): 0.029 (quick, init), 0.024 (standard,
 * init), 0.034 (standard, train), against the window of 0.08. kernel.limit-ode runs from the
 * standard tier on: at N <= 512 with the seeds the quick tier can afford its error is ~0.1, and
 * its one-sided window would be a coin toss.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "analysis.h"
#include "experiments.h"

/* A slope measured over 64..N_max with 16+ seeds carries a bootstrap half-width of 0.03-0.06
 * (see the detail lines); THEORY.md's window is +-0.08. */
#define SLOPE_TOL 0.08
/* The contraction bound is exact; a ratio of two rounded differences, both >= 1e-8 (ntk.c
 * DH_FLOOR), is off by at most ~1e-7 relative (a few ulps of |H| <= 1 over 1e-8). */
#define CONTRACTION_TOL 1e-6

static const double betas[] = {0.6, 0.75, 0.9};
#define N_BETAS 3

typedef struct {
    rnn_ntk_sweep_result *init, *train;
    int tier;
    unsigned long seed;
    int status;
    char msg[512];
} sweep_cache;

static sweep_cache cache = {.tier = -1};

static void tier_opts(const rnn_check_ctx *ctx, int train, rnn_ntk_sweep_opts *o)
{
    rnn_ntk_sweep_opts_default(o);
    o->seed = ctx->seed;
    const int q = ctx->tier == RNN_TIER_QUICK, f = ctx->tier == RNN_TIER_FULL;
    size_t nmax = f ? 16384 : q ? (train ? 512 : 1024) : 4096;
    o->n_widths = 0;
    for (size_t N = 64; N <= nmax; N *= 2)
        o->widths[o->n_widths++] = N;
    o->seeds = train ? (q ? 16 : 32) : (q ? 128 : 64);
    o->samples = q ? 256 : f ? 1024 : 512;
    o->readings[0] = RNN_NTK_DIAGONAL;
    o->readings[1] = RNN_NTK_MEANFIELD;
    o->n_readings = 2;
    o->train = train;
    if (train) {
        memcpy(o->betas, betas, sizeof betas);
        o->n_betas = N_BETAS;
    } else {
        o->betas[0] = 0.5;
        memcpy(o->betas + 1, betas, sizeof betas);
        o->n_betas = N_BETAS + 1;
    }
}

/* The shared sweeps of this tier and seed (computed once per process). */
static const sweep_cache *get_sweep(const rnn_check_ctx *ctx)
{
#pragma omp critical(kernel_checks_cache)
    {
        if (cache.tier != (int)ctx->tier || cache.seed != ctx->seed) {
            rnn_ntk_sweep_result_free(cache.init);
            rnn_ntk_sweep_result_free(cache.train);
            memset(&cache, 0, sizeof cache);
            rnn_ntk_sweep_opts o;
            tier_opts(ctx, 0, &o);
            cache.status = rnn_ntk_sweep_run(&o, &cache.init, cache.msg, sizeof cache.msg);
            if (cache.status == RNN_OK) {
                tier_opts(ctx, 1, &o);
                cache.status = rnn_ntk_sweep_run(&o, &cache.train, cache.msg, sizeof cache.msg);
            }
            cache.tier = (int)ctx->tier;
            cache.seed = ctx->seed;
        }
    }
    return &cache;
}

/* The worst deviation over beta and readings of a slope from its target; mode 0: |slope -
 * target|, mode 1: slope - target (a one-sided bound). Appends "beta/r: slope [lo, hi]" to the
 * detail. */
static int slope_check(const rnn_check_ctx *ctx, int metric, int mode, double (*target)(double),
                       const char *what, rnn_check_result *r)
{
    const sweep_cache *cc = get_sweep(ctx);
    if (cc->status != RNN_OK)
        return rnn_check_error(r, cc->status, "%s", cc->msg);
    const rnn_ntk_sweep_result *c = metric == RNN_NTK_M_FLUCTUATION ||
                                    metric == RNN_NTK_M_OUTPUT_INIT ? cc->init : cc->train;
    double worst = -INFINITY;
    size_t used = 0;
    used += (size_t)snprintf(r->detail, sizeof r->detail, "%s, N = %zu..%zu, %zu seeds:", what,
                             c->rows[0].N, c->rows[c->n_rows - 1].N,
                             (size_t)(c->rows[c->n_rows - 1].seed + 1));
    for (size_t b = 0; b < N_BETAS; b++)
        for (int rd = 0; rd < 2; rd++) {
            const rnn_ntk_fit *f = rnn_ntk_sweep_fit(c, betas[b], (rnn_ntk_reading)rd, metric);
            if (!f || !f->ok)
                return rnn_check_error(r, RNN_ESOLVER, "no fit for beta %g, reading %s",
                                       betas[b], rnn_ntk_reading_name((rnn_ntk_reading)rd));
            double t = target(betas[b]), dev = mode ? f->slope - t : fabs(f->slope - t);
            worst = fmax(worst, dev);
            if (used < sizeof r->detail)
                used += (size_t)snprintf(r->detail + used, sizeof r->detail - used,
                                         " %g%s %.3f [%.3f, %.3f] (%.2f)", betas[b],
                                         rnn_ntk_reading_name((rnn_ntk_reading)rd), f->slope,
                                         f->ci_lo, f->ci_hi, t);
        }
    r->measured = worst;
    r->threshold = SLOPE_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = worst <= SLOPE_TOL;
    r->status = RNN_OK;
    return RNN_OK;
}

static double t_fluct(double beta) { (void)beta; return -0.5; }
static double t_output(double beta) { return 0.5 - beta; }
static double t_drift(double beta) { return beta - 1; }
static double t_limit(double beta) { return rnn_ntk_expected_slope(RNN_NTK_M_LIMIT_DIST, beta); }

int rnn_check_kernel_ntk_fluctuation(const rnn_check_ctx *ctx, const rnn_cell_type *t,
                                     rnn_check_result *r)
{
    (void)t;
    return slope_check(ctx, RNN_NTK_M_FLUCTUATION, 0, t_fluct,
                       "|K^N_0 - K|_F/|K|_F slope vs -1/2 (beta+reading: slope [95% CI] (target))", r);
}

int rnn_check_kernel_output_at_init(const rnn_check_ctx *ctx, const rnn_cell_type *t,
                                    rnn_check_result *r)
{
    (void)t;
    return slope_check(ctx, RNN_NTK_M_OUTPUT_INIT, 0, t_output,
                       "rms g^N_0 slope vs 1/2 - beta (beta+reading: slope [95% CI] (target))", r);
}

int rnn_check_kernel_parameter_drift(const rnn_check_ctx *ctx, const rnn_cell_type *t,
                                     rnn_check_result *r)
{
    (void)t;
    return slope_check(ctx, RNN_NTK_M_PARAM_DRIFT, 0, t_drift,
                       "mean_i |theta^i_t - theta^i_0| slope vs beta - 1 (beta+reading: slope [95% CI] (target))", r);
}

int rnn_check_kernel_kernel_drift(const rnn_check_ctx *ctx, const rnn_cell_type *t,
                                  rnn_check_result *r)
{
    (void)t;
    return slope_check(ctx, RNN_NTK_M_KERNEL_DRIFT, 0, t_drift,
                       "sup_t |K^N_t - K^N_0|_F slope vs THEORY's beta - 1 (beta+reading: slope [95% CI] "
                       "(beta - 1)); docs/theory/kernel-limit.md §5 derives 2 beta - 2 = -0.8, -0.5, -0.2 "
                       "(the first-order drift has mean zero by the symmetry of the initial law)", r);
}

int rnn_check_kernel_limit_ode(const rnn_check_ctx *ctx, const rnn_cell_type *t,
                               rnn_check_result *r)
{
    (void)t;
    return slope_check(ctx, RNN_NTK_M_LIMIT_DIST, 1, t_limit,
                       "max_t max_probe |g^N_t - g_t| slope minus -min(beta-1/2, 1-beta, 1/2) "
                       "(beta+reading: slope [95% CI] (bound))", r);
}

int rnn_check_kernel_control(const rnn_check_ctx *ctx, const rnn_cell_type *t,
                             rnn_check_result *r)
{
    (void)t;
    const sweep_cache *cc = get_sweep(ctx);
    if (cc->status != RNN_OK)
        return rnn_check_error(r, cc->status, "%s", cc->msg);
    const rnn_ntk_sweep_result *c = cc->init;
    const size_t Nmax = c->rows[c->n_rows - 1].N;
    double worst = INFINITY;
    size_t used = (size_t)snprintf(r->detail, sizeof r->detail,
                                   "beta = 1/2, rms g^N_0 against N = %zu..%zu:",
                                   c->rows[0].N, Nmax);
    for (int rd = 0; rd < 2; rd++) {
        const rnn_ntk_fit *f = rnn_ntk_sweep_fit(c, 0.5, (rnn_ntk_reading)rd,
                                                 RNN_NTK_M_OUTPUT_INIT);
        if (!f || !f->ok)
            return rnn_check_error(r, RNN_ESOLVER, "no fit for the control");
        worst = fmin(worst, f->slope);
        used += (size_t)snprintf(r->detail + used, sizeof r->detail - used,
                                 " reading %s slope %.3f [%.3f, %.3f], std %.3g at N = %zu;",
                                 rnn_ntk_reading_name((rnn_ntk_reading)rd), f->slope, f->ci_lo,
                                 f->ci_hi, exp(f->intercept) * pow((double)Nmax, f->slope), Nmax);
    }
    r->measured = worst;
    r->threshold = -SLOPE_TOL;
    r->cmp = RNN_CMP_GE;
    r->pass = worst >= -SLOPE_TOL;
    r->status = RNN_OK;
    return RNN_OK;
}

int rnn_check_kernel_memory_contraction(const rnn_check_ctx *ctx, const rnn_cell_type *t,
                                        rnn_check_result *r)
{
    (void)t;
    const sweep_cache *c = get_sweep(ctx);
    if (c->status != RNN_OK)
        return rnn_check_error(r, c->status, "%s", c->msg);
    double worst = 0, rate_lo[2] = {INFINITY, INFINITY}, rate_hi[2] = {0, 0}, bmax = 0;
    const rnn_ntk_sweep_result *sets[2] = {c->init, c->train};
    size_t runs = 0;
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < sets[k]->n_rows; i++) {
            const rnn_ntk_row *row = &sets[k]->rows[i];
            worst = fmax(worst, row->memory_worst / row->memory_bound);
            bmax = fmax(bmax, row->memory_bound);
            rate_lo[row->reading] = fmin(rate_lo[row->reading], row->value[RNN_NTK_M_MEMORY]);
            rate_hi[row->reading] = fmax(rate_hi[row->reading], row->value[RNN_NTK_M_MEMORY]);
            runs++;
        }
    snprintf(r->detail, sizeof r->detail,
             "%zu networks (N = %zu..%zu, both readings): largest one-step |dH_{k+1}|_inf / |dH_k|_inf "
             "over sup|tanh'| max|B^i| (max|B^i| <= %.4f); geometric-mean rates per step: (a) "
             "%.3f..%.3f, (b) %.3f..%.3f over all N and seeds",
             runs, c->init->rows[0].N, c->init->rows[c->init->n_rows - 1].N, bmax, rate_lo[0],
             rate_hi[0], rate_lo[1], rate_hi[1]);
    r->measured = worst;
    r->threshold = 1.0 + CONTRACTION_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = worst <= 1.0 + CONTRACTION_TOL;
    r->status = RNN_OK;
    return RNN_OK;
}
