/*
 * test_ntk.c — the kernel-limit machinery (THEORY.md §7): forward (RTRL) gradients of both
 * memory readings against central differences, the NTK Gram matrix against a naive double loop,
 * the Markov chain's spectral gap and stationary law, the limit kernel by quadrature against
 * Monte Carlo over the initial law, the exact limit dynamics against RK4, the bootstrap fit on
 * synthetic power laws, and `odernn ntk` end to end: resuming an interrupted sweep, thread-count
 * independence, bad input (exit 2) and the --json shape.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "analysis.h"
#include "experiments.h"
#include "program.h"

/* ---- gradients ------------------------------------------------------------------------------- */

static void fd_check(rnn_ntk_reading reading)
{
    const size_t N = 6, d = 2, L = 9, p = d + 2;
    rnn_ntk_opts o;
    rnn_ntk_opts_default(&o, N, d);
    o.reading = reading;
    o.beta = 0.7;
    o.c_law = RNN_NTK_C_GAUSS;
    rnn_ntk_net *net = rnn_ntk_net_alloc(&o, 42);
    cr_assert_not_null(net);
    double X[9 * 2], grad[6 * 4];
    for (size_t k = 0; k < L * d; k++)
        X[k] = sin(1.3 * (double)k + 0.4);
    rnn_ntk_output(net, L, X, grad);
    double worst = 0, scale = 0;
    for (size_t j = 0; j < N * p; j++) {
        const double t = net->theta[j], h = 1e-5 * fmax(1, fabs(t));
        net->theta[j] = t + h;
        double gp = rnn_ntk_output(net, L, X, NULL);
        net->theta[j] = t - h;
        double gm = rnn_ntk_output(net, L, X, NULL);
        net->theta[j] = t;
        double fd = (gp - gm) / (2 * h);
        worst = fmax(worst, fabs(fd - grad[j]));
        scale = fmax(scale, fabs(fd));
    }
    /* central differences at h = 1e-5: truncation ~h^2 |g'''| ~ 1e-10 */
    cr_assert(worst <= 1e-8 * fmax(scale, 1), "reading %s: max |fd - rtrl| = %g (scale %g)",
              rnn_ntk_reading_name(reading), worst, scale);
    rnn_ntk_net_free(net);
}

Test(ntk, rtrl_gradient_diagonal) { fd_check(RNN_NTK_DIAGONAL); }
Test(ntk, rtrl_gradient_meanfield) { fd_check(RNN_NTK_MEANFIELD); }

/* The streaming SGD step uses the same forward gradient: with parameters frozen (alpha tiny),
 * its g_k equals the output on the same history from H = 0. */
Test(ntk, stream_matches_history)
{
    rnn_ntk_opts o;
    rnn_ntk_opts_default(&o, 16, 1);
    o.reading = RNN_NTK_MEANFIELD;
    o.alpha = 1e-300;
    rnn_ntk_net *net = rnn_ntk_net_alloc(&o, 3);
    double X[30], g = 0;
    for (size_t k = 0; k < 30; k++) {
        X[k] = cos(0.7 * (double)k);
        g = rnn_ntk_sgd_step(net, &X[k], 0.0);
    }
    cr_assert_float_eq(g, rnn_ntk_output(net, 30, X, NULL), 1e-15);
    rnn_ntk_net_free(net);
}

Test(ntk, gram_equals_naive_double_loop)
{
    const size_t N = 33, P = 5, L = 22, p = 3;
    for (int r = 0; r < 2; r++) {
        rnn_ntk_opts o;
        rnn_ntk_opts_default(&o, N, 1);
        o.reading = (rnn_ntk_reading)r;
        o.beta = 0.8;
        rnn_ntk_net *net = rnn_ntk_net_alloc(&o, 9);
        double X[5 * 22], G[5 * 33 * 3], K[25], g[5], gr[5][33 * 3];
        for (size_t k = 0; k < P * L; k++)
            X[k] = sin(0.37 * (double)(k * k % 17));
        cr_assert_eq(rnn_ntk_gram(net, P, L, X, G, K, g), RNN_OK);
        for (size_t a = 0; a < P; a++)
            cr_assert_eq(rnn_ntk_output(net, L, X + a * L, gr[a]), g[a]);
        for (size_t a = 0; a < P; a++)
            for (size_t b = 0; b < P; b++) {
                double s = 0;
                for (size_t j = 0; j < N * p; j++)
                    s += gr[a][j] * gr[b][j];
                s *= pow((double)N, 2 * o.beta - 1);
                cr_assert(fabs(K[a * P + b] - s) <= 1e-13 * fmax(1, fabs(s)), "K[%zu][%zu] %g vs %g",
                          a, b, K[a * P + b], s);
            }
        rnn_ntk_net_free(net);
    }
}

/* ---- data ------------------------------------------------------------------------------------ */

Test(ntk, chain_gap_and_stationary_law)
{
    rnn_ntk_data_opts o;
    rnn_ntk_data_opts_default(&o);
    o.states = 6;
    o.gap = 0.3;
    rnn_ntk_data *D = rnn_ntk_data_alloc(&o, 5, 6);
    cr_assert_not_null(D);
    double P[36], re[6], im[6], piP[6] = {0};
    cr_assert_eq(rnn_ntk_chain_matrix(D, P), RNN_OK);
    rnn_eig_ws *w = rnn_eig_ws_alloc(6);
    cr_assert_eq(rnn_spectrum_eigvals(w, P, re, im), RNN_OK);
    rnn_eig_ws_free(w);
    /* sorted by real part: 1, then 1 - gap five times */
    cr_assert_float_eq(re[0], 1.0, 1e-12);
    for (int i = 1; i < 6; i++)
        cr_assert_float_eq(re[i], 1 - o.gap, 1e-12);
    for (int j = 0; j < 6; j++)
        for (int i = 0; i < 6; i++)
            piP[j] += D->pi[i] * P[i * 6 + j];
    for (int j = 0; j < 6; j++)
        cr_assert_float_eq(piP[j], D->pi[j], 1e-14);
    /* empirical occupation of a long path against pi (5 standard errors, with the chain's
     * integrated autocorrelation (2 - g) / g for the indicator of a state) */
    const size_t K = 400000;
    size_t count[6] = {0};
    double x, y;
    for (size_t k = 0; k < K; k++) {
        rnn_ntk_data_next(D, &x, &y);
        for (int s = 0; s < 6; s++)
            count[s] += x == D->states[s];
        cr_assert(fabs(y - sin(x + 0.7 * D->past[((D->head + 21 - 1) % 21)])) < 1e-15);
    }
    for (int s = 0; s < 6; s++) {
        double f = (double)count[s] / (double)K, pi = D->pi[s];
        double se = sqrt(pi * (1 - pi) * (2 - o.gap) / o.gap / (double)K);
        cr_assert(fabs(f - pi) <= 5 * se, "state %d: %g vs pi %g (se %g)", s, f, pi, se);
    }
    rnn_ntk_data_free(D);
}

Test(ntk, ar1_bounded_and_sum_target)
{
    rnn_ntk_data_opts o;
    rnn_ntk_data_opts_default(&o);
    o.source = RNN_NTK_AR1;
    o.target = RNN_NTK_TARGET_SUM;
    o.ar = 0.8;
    rnn_ntk_data *D = rnn_ntk_data_alloc(&o, 1, 2);
    double xs[200], y = 0;
    for (int k = 0; k < 200; k++) {
        rnn_ntk_data_next(D, &xs[k], &y);
        cr_assert(fabs(xs[k]) <= o.spread);
    }
    double s = 0, w = 1;
    for (int j = 0; j <= RNN_NTK_TARGET_LAG; j++, w /= 2)
        s += w * xs[199 - j];
    cr_assert_float_eq(y, s, 1e-14);
    rnn_ntk_data_free(D);
}

/* ---- limit kernel and limit dynamics --------------------------------------------------------- */

Test(ntk, quadrature_kernel_matches_monte_carlo)
{
    const size_t P = 4, L = 22, N = 2048, seeds = 24;
    rnn_ntk_data_opts dop;
    rnn_ntk_data_opts_default(&dop);
    rnn_ntk_data *D = rnn_ntk_data_alloc(&dop, 11, 12);
    double X[4 * 22], y, G[4 * 2048 * 3], Kq[16], Kq2[16], Kt[16];
    for (size_t z = 0; z < P; z++)
        rnn_ntk_data_history(D, L, X + z * L, &y);
    rnn_ntk_data_free(D);
    for (int r = 0; r < 2; r++) {
        rnn_ntk_opts o;
        rnn_ntk_opts_default(&o, N, 1);
        o.reading = (rnn_ntk_reading)r;
        cr_assert_eq(rnn_ntk_limit_kernel_quad(&o, 96, 12, P, L, X, Kq), RNN_OK);
        cr_assert_eq(rnn_ntk_limit_kernel_quad(&o, 384, 32, P, L, X, Kq2), RNN_OK);
        double m[16] = {0}, m2[16] = {0};
        for (size_t s = 0; s < seeds; s++) {
            rnn_ntk_net *net = rnn_ntk_net_alloc(&o, rnn_seed_derive(7, "mc", s));
            rnn_ntk_gram(net, P, L, X, G, Kt, NULL);
            for (int i = 0; i < 16; i++) {
                m[i] += Kt[i] / (double)seeds;
                m2[i] += Kt[i] * Kt[i] / (double)seeds;
            }
            rnn_ntk_net_free(net);
        }
        for (int i = 0; i < 16; i++) {
            /* the sweep's rule (96 x 12) is within 1e-5 of a 4x finer one (measured 3e-6) */
            cr_assert(fabs(Kq[i] - Kq2[i]) <= 1e-5 * fmax(1, fabs(Kq2[i])), "%g vs %g", Kq[i], Kq2[i]);
            /* Monte Carlo at width 2048 over 24 seeds: within 5 standard errors plus the O(1/N)
             * bias of reading (b)'s mean field */
            double se = sqrt(fmax(m2[i] - m[i] * m[i], 0) / (double)(seeds - 1));
            cr_assert(fabs(m[i] - Kq[i]) <= 5 * se + 2.0 / (double)N, "reading %d K[%d]: mc %g +- %g, quad %g",
                      r, i, m[i], se, Kq[i]);
        }
    }
}

Test(ntk, limit_ode_exact_vs_rk4)
{
    const size_t P = 3, M = 20, n = P + M;
    double A[23 * 23], K[23 * 23], y[20], t[5] = {0, 0.5, 1, 1.5, 2};
    for (size_t i = 0; i < n * n; i++)
        A[i] = sin(1.7 * (double)i + 0.3);
    for (size_t i = 0; i < n; i++) /* K = A A^T / n, PSD */
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t k = 0; k < n; k++)
                s += A[i * n + k] * A[j * n + k];
            K[i * n + j] = 20 * s / (double)n;
        }
    for (size_t j = 0; j < M; j++)
        y[j] = cos((double)j);
    double gP[15], gS[100], rP[15], rS[100], rP2[15];
    cr_assert_eq(rnn_ntk_limit_ode(P, M, K, y, 1.0, 5, t, gP, gS), RNN_OK);
    cr_assert_eq(rnn_ntk_limit_ode_rk4(P, M, K, y, 1.0, 5, t, 400, rP, rS), RNN_OK);
    cr_assert_eq(rnn_ntk_limit_ode_rk4(P, M, K, y, 1.0, 5, t, 800, rP2, NULL), RNN_OK);
    double e1 = 0, e2 = 0;
    for (int i = 0; i < 15; i++) {
        e1 = fmax(e1, fabs(rP[i] - gP[i]));
        e2 = fmax(e2, fabs(rP2[i] - gP[i]));
    }
    for (int i = 0; i < 100; i++)
        e1 = fmax(e1, fabs(rS[i] - gS[i]));
    cr_assert(e1 < 1e-7, "rk4 vs exact: %g", e1);
    /* RK4 converges to the exact solution at order 4: halving the step divides the error by ~16 */
    cr_assert(e2 > 0 && e1 / e2 > 10 && e1 / e2 < 22, "error ratio %g", e1 / e2);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(gP[i], 0.0); /* g_0 = 0 */
}

Test(ntk, bootstrap_fit_recovers_a_power_law)
{
    double x[5] = {64, 128, 256, 512, 1024}, v[5 * 40];
    size_t counts[5] = {40, 40, 40, 40, 40};
    for (int g = 0; g < 5; g++)
        for (int r = 0; r < 40; r++)
            v[g * 40 + r] = 3 * pow(x[g], -0.3) * (1 + 0.5 * sin(1.1 * r + g));
    double s, a, lo, hi, s2, a2, lo2, hi2;
    cr_assert_eq(rnn_fit_loglog_bootstrap(5, x, counts, v, 40, 500, 17, &s, &a, &lo, &hi), RNN_OK);
    cr_assert_eq(rnn_fit_loglog_bootstrap(5, x, counts, v, 40, 500, 17, &s2, &a2, &lo2, &hi2), RNN_OK);
    cr_assert(fabs(s + 0.3) < 0.02 && lo < s && s < hi && lo < -0.3 && -0.3 < hi, "slope %g [%g, %g]", s, lo, hi);
    cr_assert(s == s2 && lo == lo2 && hi == hi2); /* deterministic */
    v[0] = -1e9;
    cr_assert_eq(rnn_fit_loglog_bootstrap(5, x, counts, v, 40, 500, 17, &s, &a, &lo, &hi), RNN_EINVAL);
}

/* ---- odernn ntk ----------------------------------------------------------------------------- */

static char tmpdir[64];
static void make_tmpdir(void) { program_tmpdir_make(tmpdir, "ntk"); }
static void remove_tmpdir(void) { program_tmpdir_remove(tmpdir); }
TestSuite(ntk_cli, .init = make_tmpdir, .fini = remove_tmpdir);

#define TINY "ntk --widths 8:16 --seeds 3 --steps 8"

/* The data lines (after the header) of a sweep CSV. */
static char *data_part(char *csv)
{
    char *h = strstr(csv, "beta,reading,N,seed,metric,value\n");
    cr_assert_not_null(h);
    return h;
}

Test(ntk_cli, resume_after_a_torn_write_equals_an_uninterrupted_run)
{
    char args[512], path[128];
    snprintf(args, sizeof args, TINY " --out-dir %s/full", tmpdir);
    cr_assert_eq(program_run(args), 0, "%s", program_out);
    cr_assert(strstr(program_out, "6 runs computed, 0 read back"), "%s", program_out);
    snprintf(path, sizeof path, "%s/full/ntk-sweep.csv", tmpdir);
    size_t len;
    char *full = program_slurp(path, &len);

    /* Keep two complete runs (12 lines), three lines of the third, and half of its fourth line
     * without a newline: what a kill in the middle of a write leaves. */
    char *p = data_part(full);
    p = strchr(p, '\n') + 1;
    for (int k = 0; k < 15; k++)
        p = strchr(p, '\n') + 1;
    size_t cut = (size_t)(p - full) + 7;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/torn", tmpdir);
    cr_assert_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/torn/ntk-sweep.csv", tmpdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fwrite(full, 1, cut, f);
    fclose(f);
    snprintf(args, sizeof args, TINY " --out-dir %s/torn", tmpdir);
    cr_assert_eq(program_run(args), 0, "%s", program_out);
    cr_assert(strstr(program_out, "4 runs computed, 2 read back"), "%s", program_out);
    size_t len2;
    char *resumed = program_slurp(path, &len2);
    cr_assert_eq(len2, len);
    cr_assert_str_eq(resumed, full);
    /* A rerun of a finished sweep computes nothing and changes nothing. */
    cr_assert_eq(program_run(args), 0, "%s", program_out);
    cr_assert(strstr(program_out, "0 runs computed, 6 read back"), "%s", program_out);
    free(resumed);
    resumed = program_slurp(path, NULL);
    cr_assert_str_eq(resumed, full);
    /* The fits file agrees too. */
    char p1[128], p2[128];
    snprintf(p1, sizeof p1, "%s/full/ntk-fits.csv", tmpdir);
    snprintf(p2, sizeof p2, "%s/torn/ntk-fits.csv", tmpdir);
    char *f1 = program_slurp(p1, NULL), *f2 = program_slurp(p2, NULL);
    cr_assert_str_eq(f1, f2);
    cr_assert(strstr(f1, "beta,reading,metric,slope,ci_lo,ci_hi,expected,intercept\n"));
    free(f1);
    free(f2);
    free(resumed);
    free(full);
}

Test(ntk_cli, settings_mismatch_is_refused)
{
    char args[512];
    snprintf(args, sizeof args, TINY " --out-dir %s/mismatch", tmpdir);
    cr_assert_eq(program_run(args), 0, "%s", program_out);
    snprintf(args, sizeof args, "ntk --widths 8:16 --seeds 3 --steps 16 --out-dir %s/mismatch", tmpdir);
    cr_assert_eq(program_run(args), 2, "%s", program_out);
    cr_assert(strstr(program_out, "other settings"), "%s", program_out);
}

Test(ntk_cli, thread_count_does_not_change_the_csv)
{
    char args[512], p1[128], p2[128];
    snprintf(args, sizeof args, TINY " --reading both --threads 1 --out-dir %s/t1", tmpdir);
    cr_assert_eq(program_run(args), 0, "%s", program_out);
    snprintf(args, sizeof args, TINY " --reading both --threads 2 --out-dir %s/t2", tmpdir);
    cr_assert_eq(program_run(args), 0, "%s", program_out);
    snprintf(p1, sizeof p1, "%s/t1/ntk-sweep.csv", tmpdir);
    snprintf(p2, sizeof p2, "%s/t2/ntk-sweep.csv", tmpdir);
    char *a = program_slurp(p1, NULL), *b = program_slurp(p2, NULL);
    cr_assert_str_eq(data_part(a), data_part(b));
    cr_assert(strstr(a, "0.75,b,16,2,limit_distance,"));
    free(a);
    free(b);
}

Test(ntk_cli, bad_input_exits_2)
{
    cr_assert_eq(program_run("ntk --widths 3:8"), 2);
    cr_assert(strstr(program_out, "powers of two"), "%s", program_out);
    cr_assert_eq(program_run("ntk --widths 16:8"), 2);
    cr_assert_eq(program_run("ntk --width 1"), 2);
    cr_assert_eq(program_run("ntk --width 8 --widths 8:16"), 2);
    cr_assert_eq(program_run("ntk --beta 0.3"), 2);
    cr_assert(strstr(program_out, "[0.5, 1)"), "%s", program_out);
    cr_assert_eq(program_run("ntk --beta 0.6,x"), 2);
    cr_assert_eq(program_run("ntk --reading c"), 2);
    cr_assert(strstr(program_out, "a (diagonal memory), b (mean-field memory) or both"));
    cr_assert_eq(program_run("ntk --seeds 0"), 2);
    cr_assert_eq(program_run("ntk --steps -4"), 2);
    cr_assert_eq(program_run("ntk --hidden 4"), 2);
    cr_assert_eq(program_run("ntk --help"), 0);
    cr_assert(strstr(program_out, "--widths A:B") && strstr(program_out, "--reading R"));
}

Test(ntk_cli, json_shape)
{
    char args[512];
    snprintf(args, sizeof args, "ntk --widths 8:32 --seeds 2 --steps 8 --json --out-dir %s/json", tmpdir);
    cr_assert_eq(program_run(args), 0, "%s", program_out);
    cJSON *root = cJSON_Parse(program_out);
    cr_assert_not_null(root, "%s", program_out);
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(root, "beta")));
    cr_assert_float_eq(cJSON_GetObjectItem(root, "beta")->valuedouble, 0.75, 1e-15);
    cr_assert_str_eq(cJSON_GetObjectItem(root, "reading")->valuestring, "a");
    cJSON *w = cJSON_GetObjectItem(root, "widths");
    cr_assert(cJSON_IsArray(w) && cJSON_GetArraySize(w) == 3);
    cJSON *m = cJSON_GetObjectItem(root, "metrics");
    const char *names[] = {"ntk_fluctuation", "output_at_init", "parameter_drift", "kernel_drift",
                           "limit_distance"};
    for (int i = 0; i < 5; i++) {
        cJSON *e = cJSON_GetObjectItem(m, names[i]);
        cr_assert_not_null(e, "%s missing", names[i]);
        cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(e, "slope")));
        cJSON *ci = cJSON_GetObjectItem(e, "ci95");
        cr_assert(cJSON_IsArray(ci) && cJSON_GetArraySize(ci) == 2);
        cr_assert(cJSON_GetArrayItem(ci, 0)->valuedouble <= cJSON_GetArrayItem(ci, 1)->valuedouble);
        cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(e, "expected")));
    }
    cr_assert_float_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "output_at_init"), "expected")->valuedouble,
                       -0.25, 1e-15);
    cJSON_Delete(root);
}
