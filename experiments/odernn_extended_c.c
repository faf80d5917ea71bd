/*
 * odernn_extended_c.c — the geometric checks of the UnICORNN step (THEORY.md §5.5).
 *
 *   unicornn.volume-preserving  the step is S_y S_z, S_z = [[I, 0], [-dt K, I]] and
 *                               S_y = [[I, dt T], [0, I]] (two shears), so
 *                               det(ds_n/ds_{n-1}) = 1 for every state, input and parameter:
 *                               |det - 1| <= 1e-12, det by LU (GSL) of the 2m x 2m Jacobian at
 *                               random states, m in {4, 16, 64}, 4 seeds, dt in {0.19, 1}
 *   unicornn.reversible         the inverse shears (rnn_unicornn_step_back) undo the step:
 *                               10^4 steps forward, then 10^4 back with the same inputs in
 *                               reverse order, ||s_0' - s_0|| <= 1e-9 ||s_0||, on the `sines`
 *                               input and a Gaussian held input, m in {16, 64}, 3 seeds
 *
 * Derivations: docs/theory/unicornn-lem.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include "experiments.h"

/* THEORY.md §5.5. Up to a permutation J is m independent 2 x 2 blocks and partial pivoting
 * stays within each, so det J is a product of m block determinants, each accurate to a few u
 * times its entries squared (<= ~10 at dt = 1); with errors adding like sqrt(m) that is ~1e-13
 * at m = 64 (measured 1.3e-14; docs/theory/unicornn-lem.md §1). */
#define VOLUME_TOL 1e-12
#define VOLUME_SEEDS 4
/* THEORY.md §5.5. Each forward and backward step commits ~ u relative rounding; for these
 * nearly linear oscillators (alpha = 30.65 dominates tanh) the errors add up at most linearly,
 * 2 N u ~ 4e-12 at N = 10^4, so 1e-9 leaves room for moderate amplification only. */
#define REVERSIBLE_TOL 1e-9
#define REVERSIBLE_STEPS 10000
#define REVERSIBLE_SEEDS 3
#define D_INPUT 2

/* det of an n x n matrix by LU (GSL); A is overwritten. */
static int lu_det(size_t n, double *A, gsl_permutation *perm, double *det)
{
    gsl_matrix_view v = gsl_matrix_view_array(A, n, n);
    int signum = 0;
    if (gsl_linalg_LU_decomp(&v.matrix, perm, &signum) != GSL_SUCCESS)
        return RNN_ESOLVER;
    *det = gsl_linalg_LU_det(&v.matrix, signum);
    return RNN_OK;
}

int rnn_check_unicornn_volume(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                              rnn_check_result *r)
{
    (void)type;
    static const size_t ms[] = {4, 16, 64};
    static const double dts[] = {0.19, 1.0};
    double worst = 0, worst_det = 1;
    size_t worst_m = 0, count = 0;
    for (size_t im = 0; im < sizeof ms / sizeof ms[0]; im++) {
        const size_t m = ms[im], n = 2 * m;
        rnn_cell *c = rnn_check_cell(ctx, rnn_cell_unicornn, m, D_INPUT, "unicornn.volume", m);
        double *buf = malloc((n * n + n + D_INPUT) * sizeof(double));
        gsl_permutation *perm = gsl_permutation_alloc(n);
        if (!c || !buf || !perm) {
            rnn_cell_free(c), free(buf);
            if (perm)
                gsl_permutation_free(perm);
            return rnn_check_error(r, RNN_ENOMEM, "out of memory (m = %zu)", m);
        }
        double *J = buf, *s = J + n * n, *u = s + n;
        int rc = RNN_OK;
        for (size_t h = 0; h < 2 && rc == RNN_OK; h++) {
            rc = rnn_cell_set_dt(c, dts[h]);
            for (unsigned long k = 0; k < VOLUME_SEEDS && rc == RNN_OK; k++) {
                unsigned long seed = rnn_seed_derive(ctx->seed, "unicornn.volume:s", 100 * m + 10 * h + k);
                rnn_cell_init(c, seed); /* fresh w, V, c for every sample */
                rnn_cell_random_state(c, seed, 1.0, s);
                gsl_rng *g = rnn_rng_alloc(seed, "input", 0);
                if (!g) {
                    rc = RNN_ENOMEM;
                    break;
                }
                rnn_fill_gaussian(g, 1.0, D_INPUT, u);
                gsl_rng_free(g);
                double det = NAN;
                rc = rnn_cell_step_jacobian(c, 0.7 * (double)k, s, u, J);
                if (rc == RNN_OK)
                    rc = lu_det(n, J, perm, &det);
                double e = fabs(det - 1.0);
                count++;
                if (rc == RNN_OK && !(e <= worst)) { /* NaN is the worst */
                    worst = e;
                    worst_det = det;
                    worst_m = m;
                }
            }
        }
        gsl_permutation_free(perm);
        free(buf);
        rnn_cell_free(c);
        if (rc != RNN_OK)
            return rnn_check_error(r, rc, "unicornn m = %zu: %s", m, rnn_strerror(rc));
    }
    r->measured = worst;
    r->threshold = VOLUME_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = worst <= VOLUME_TOL;
    snprintf(r->detail, sizeof r->detail,
             "max |det(ds_n/ds_{n-1}) - 1| by LU over %zu random (parameters, state, input), "
             "m = 4, 16, 64, dt = 0.19, 1; worst det = 1 %+.3g at m = %zu",
             count, worst_det - 1.0, worst_m);
    return RNN_OK;
}

/* N steps forward from s0 and N inverse steps back; *err = ||s0' - s0|| / ||s0||,
 * *growth = ||s_N|| / ||s0||. buf holds 2 n + d doubles. */
static int forward_back(const rnn_cell *c, const rnn_input *in, const double *s0, size_t N,
                        double *buf, double *err, double *growth)
{
    const size_t n = c->n_state;
    const double dt = rnn_cell_dt(c);
    double *s = buf, *tmp = buf + n, *u = buf + 2 * n;
    for (size_t i = 0; i < n; i++)
        s[i] = s0[i];
    for (size_t k = 0; k < N; k++) {
        double t = (double)k * dt; /* t_{k}: the same expression on the way back */
        rnn_input_eval(in, t, u);
        int rc = rnn_cell_step(c, t, s, u, tmp);
        if (rc != RNN_OK)
            return rc;
        for (size_t i = 0; i < n; i++)
            s[i] = tmp[i];
    }
    double nN = 0, n0 = 0, d = 0;
    for (size_t i = 0; i < n; i++)
        nN += s[i] * s[i];
    for (size_t k = N; k-- > 0;) {
        double t = (double)k * dt;
        rnn_input_eval(in, t, u);
        int rc = rnn_unicornn_step_back(c, t, s, u, tmp);
        if (rc != RNN_OK)
            return rc;
        for (size_t i = 0; i < n; i++)
            s[i] = tmp[i];
    }
    for (size_t i = 0; i < n; i++) {
        n0 += s0[i] * s0[i];
        d += (s[i] - s0[i]) * (s[i] - s0[i]);
    }
    *err = sqrt(d / n0);
    *growth = sqrt(nN / n0);
    return RNN_OK;
}

int rnn_check_unicornn_reversible(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                  rnn_check_result *r)
{
    (void)type;
    static const size_t ms[] = {16, 64};
    static const char *input_names[] = {"sines", "hold"};
    double worst = 0, worst_growth = 0;
    size_t worst_m = 0, worst_in = 0;
    for (size_t im = 0; im < sizeof ms / sizeof ms[0]; im++) {
        const size_t m = ms[im], n = 2 * m;
        rnn_cell *c = rnn_check_cell(ctx, rnn_cell_unicornn, m, D_INPUT, "unicornn.reversible", m);
        double *buf = malloc((4 * n + D_INPUT) * sizeof(double));
        if (!c || !buf) {
            rnn_cell_free(c), free(buf);
            return rnn_check_error(r, RNN_ENOMEM, "out of memory (m = %zu)", m);
        }
        double *s0 = buf + 3 * n + D_INPUT;
        int rc = RNN_OK;
        for (unsigned long k = 0; k < REVERSIBLE_SEEDS && rc == RNN_OK; k++)
            for (size_t which = 0; which < 2 && rc == RNN_OK; which++) {
                unsigned long seed = rnn_seed_derive(ctx->seed, "unicornn.reversible:s", 10 * m + k);
                rnn_cell_init(c, seed);
                rnn_cell_random_state(c, seed, 1.0, s0);
                unsigned long iseed = rnn_seed_derive(seed, input_names[which], 0);
                rnn_input *in = which == 0
                    ? rnn_input_alloc_sines(D_INPUT, iseed)
                    : rnn_input_alloc_gaussian(RNN_INPUT_HOLD, D_INPUT, REVERSIBLE_STEPS, 0.0,
                                               rnn_cell_dt(c), iseed);
                if (!in) {
                    rc = RNN_ENOMEM;
                    break;
                }
                double err = NAN, growth = NAN;
                rc = forward_back(c, in, s0, REVERSIBLE_STEPS, buf, &err, &growth);
                rnn_input_free(in);
                if (rc == RNN_OK && !(err <= worst)) {
                    worst = err;
                    worst_growth = growth;
                    worst_m = m;
                    worst_in = which;
                }
            }
        free(buf);
        rnn_cell_free(c);
        if (rc != RNN_OK)
            return rnn_check_error(r, rc, "unicornn m = %zu: %s", m, rnn_strerror(rc));
    }
    r->measured = worst;
    r->threshold = REVERSIBLE_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = worst <= REVERSIBLE_TOL;
    snprintf(r->detail, sizeof r->detail,
             "max ||s_0' - s_0|| / ||s_0|| after %d steps forward and back (dt = 0.19), m = 16, 64, "
             "%d seeds, sines and Gaussian held inputs; worst at m = %zu, %s input, where "
             "||s_N|| / ||s_0|| = %.3g",
             REVERSIBLE_STEPS, REVERSIBLE_SEEDS, worst_m, input_names[worst_in], worst_growth);
    return RNN_OK;
}
