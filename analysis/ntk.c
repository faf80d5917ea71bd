/*
 * ntk.c — the width-N recurrent network of the kernel-limit experiments, its online SGD with
 * forward (real-time recurrent) gradients, and its empirical neural tangent kernel
 * (THEORY.md §7, [KL]; derivations in docs/theory/kernel-limit.md).
 *
 * Unit i has theta^i = (C^i, W^i in R^d, B^i) and one memory H^i; sigma = tanh:
 *   (a) diagonal    H^i_{k+1} = sigma(W^i.X_k + B^i H^i_k)
 *   (b) mean-field  H^i_{k+1} = sigma(W^i.X_k + B^i M_k),   M_k = (1/N) sum_j H^j_k
 *   output          g_k = N^-beta sum_i C^i H^i_{k+1}
 *   SGD             theta <- theta + alpha N^-(2 - 2 beta) (Y_k - g_k) dg_k/dtheta
 *   NTK             K^N(z, z') = N^(2 beta - 1) sum_i grad_{theta^i} g(z).grad_{theta^i} g(z')
 *
 * Initial law: C^i = +-1 (or N(0, 1), or Exp(1) - 1), W^i ~ N(0, w_sd^2 I) with w_sd = 1/sqrt(d),
 * B^i ~ U[-b_max, b_max] with b_max = 0.5: since sup|sigma'| = 1, |B| sup|sigma'| <= 0.5 < 1 and
 * both memory maps are contractions in the sup norm.
 *
 * Forward gradients (RTRL), with s^i = sigma'(a^i) at step k + 1 and e^i = (X_k, H^i_k) for
 * (a), (X_k, M_k) for (b):
 *   (a) S^i = dH^i/d(W^i, B^i):  S^i_{k+1} = s^i (e^i + B^i S^i_k)          (own unit only)
 *       dg/dW^i, dg/dB^i = N^-beta C^i S^i_{k+1};  dg/dC^i = N^-beta H^i_{k+1}.
 *       Cost O(N d) per step, memory N (d + 1).
 *   (b) H^i depends on every theta^j through M. With m^j_k = dM_k/d(W^j, B^j) (N (d + 1)
 *       numbers) and D^{ij} = dH^i/d(W^j, B^j):
 *         D^{ij}_{k+1} = s^i (delta_ij e^j + B^i m^j_k)
 *         m^j_{k+1}   = (1/N) s^j e^j + lambda_k m^j_k,     lambda_k = (1/N) sum_i s^i B^i
 *         dg/d(W^j, B^j) = N^-beta (C^j s^j e^j + kappa_k m^j_k),  kappa_k = sum_i C^i s^i B^i.
 *       The N x N p matrix D is never formed: two scalars (lambda, kappa) carry the coupling,
 *       so the cost is O(N d) per step (two passes over the units) and the memory N (d + 1),
 *       and the gradient is exact (for frozen parameters), not an approximation.
 * As in every RTRL, the sensitivities along the training stream are propagated with the
 * parameters of each step, so after updates they are the gradient for the past parameters;
 * on a probe history (rnn_ntk_output) the parameters are frozen and the gradient is exact.
 *
 * Layout (llm.c): theta holds blocks C (N) | W (N x d) | B (N), and grad the same layout, so
 * the SGD update is one daxpy and the NTK is one dsyrk on the P x N p gradient matrix.
 * Nothing is allocated after rnn_ntk_net_alloc.
 *
 * cblas.h is OpenBLAS's; no GSL header that pulls gsl_cblas.h may join it (cell.h brings
 * gsl_rng.h only; gsl_randist.h would bring gsl_matrix.h, so the draws go through random.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "analysis.h"

void rnn_ntk_opts_default(rnn_ntk_opts *o, size_t N, size_t d)
{
    memset(o, 0, sizeof *o);
    o->N = N;
    o->d = d;
    o->reading = RNN_NTK_DIAGONAL;
    o->beta = 0.75;
    o->alpha = 1.0;
    o->b_max = 0.5;
    o->w_sd = 1.0 / sqrt((double)(d ? d : 1));
    o->c_law = RNN_NTK_C_RADEMACHER;
}

const char *rnn_ntk_reading_name(rnn_ntk_reading r)
{
    return r == RNN_NTK_DIAGONAL ? "a" : "b";
}

static int state_alloc(rnn_ntk_state *st, size_t N, size_t d)
{
    st->H = calloc(N, sizeof(double));
    st->S = calloc(N * (d + 1), sizeof(double));
    st->M = 0;
    return st->H && st->S ? RNN_OK : RNN_ENOMEM;
}

static void state_free(rnn_ntk_state *st)
{
    free(st->H);
    free(st->S);
}

static void state_zero(rnn_ntk_state *st, size_t N, size_t d)
{
    memset(st->H, 0, N * sizeof(double));
    memset(st->S, 0, N * (d + 1) * sizeof(double));
    st->M = 0;
}

void rnn_ntk_net_free(rnn_ntk_net *net)
{
    if (!net)
        return;
    free(net->theta);
    free(net->theta0);
    free(net->grad);
    free(net->work);
    state_free(&net->stream);
    state_free(&net->probe);
    state_free(&net->aux);
    free(net);
}

rnn_ntk_net *rnn_ntk_net_alloc(const rnn_ntk_opts *o, unsigned long seed)
{
    if (!o || o->N < 1 || o->d < 1 || !(o->beta >= 0.5 && o->beta <= 1) || !(o->alpha > 0) ||
        !(o->b_max >= 0 && o->b_max < 1) || !(o->w_sd > 0) || !isfinite(o->w_sd) ||
        !isfinite(o->alpha) || (o->reading != RNN_NTK_DIAGONAL && o->reading != RNN_NTK_MEANFIELD))
        return NULL;
    rnn_ntk_net *net = calloc(1, sizeof *net);
    if (!net)
        return NULL;
    net->o = *o;
    const size_t N = o->N, d = o->d, p = d + 2;
    net->p = p;
    net->theta = malloc(N * p * sizeof(double));
    net->theta0 = malloc(N * p * sizeof(double));
    net->grad = calloc(N * p, sizeof(double));
    net->work = calloc(N, sizeof(double));
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!net->theta || !net->theta0 || !net->grad || !net->work || !r ||
        state_alloc(&net->stream, N, d) || state_alloc(&net->probe, N, d) ||
        state_alloc(&net->aux, N, d)) {
        if (r)
            gsl_rng_free(r);
        rnn_ntk_net_free(net);
        return NULL;
    }
    gsl_rng_set(r, seed);
    double *C = net->theta, *W = C + N, *B = W + N * d;
    for (size_t i = 0; i < N; i++) {
        switch (o->c_law) {
        case RNN_NTK_C_GAUSS: rnn_fill_gaussian(r, 1.0, 1, &C[i]); break;
        case RNN_NTK_C_SKEW: C[i] = -log1p(-gsl_rng_uniform(r)) - 1.0; break; /* Exp(1) - 1 */
        default: C[i] = gsl_rng_uniform(r) < 0.5 ? -1.0 : 1.0;
        }
        for (size_t l = 0; l < d; l++)
            rnn_fill_gaussian(r, o->w_sd, 1, &W[i * d + l]);
        B[i] = o->b_max * (2 * gsl_rng_uniform(r) - 1);
    }
    gsl_rng_free(r);
    memcpy(net->theta0, net->theta, N * p * sizeof(double));
    return net;
}

static double advance_diagonal(rnn_ntk_net *net, rnn_ntk_state *st, const double *x,
                               double *grad)
{
    const size_t N = net->o.N, d = net->o.d, q = d + 1;
    const double *C = net->theta, *W = C + N, *B = W + N * d;
    const double inv = pow((double)N, -net->o.beta);
    double g = 0, *hv = net->work;
    if (d == 1) { /* the sweep's case: the same arithmetic without the inner loops */
        const double x0 = x[0];
        for (size_t i = 0; i < N; i++)
            hv[i] = W[i] * x0 + B[i] * st->H[i];
        rnn_tanh_v(N, hv, hv); /* vectorised (cells/vmath.c): the update's main cost */
        for (size_t i = 0; i < N; i++) {
            const double h = hv[i], s = 1 - h * h;
            double *Si = st->S + 2 * i;
            Si[0] = s * (x0 + B[i] * Si[0]);
            Si[1] = s * (st->H[i] + B[i] * Si[1]);
            st->H[i] = h;
            g += C[i] * h;
            if (grad) {
                grad[i] = inv * h;
                grad[N + i] = inv * C[i] * Si[0];
                grad[2 * N + i] = inv * C[i] * Si[1];
            }
        }
        return inv * g;
    }
    for (size_t i = 0; i < N; i++) {
        const double *w = W + i * d;
        double a = B[i] * st->H[i];
        for (size_t l = 0; l < d; l++)
            a += w[l] * x[l];
        hv[i] = a;
    }
    rnn_tanh_v(N, hv, hv);
    for (size_t i = 0; i < N; i++) {
        const double h = hv[i], s = 1 - h * h;
        double *Si = st->S + i * q;
        for (size_t l = 0; l < d; l++)
            Si[l] = s * (x[l] + B[i] * Si[l]);
        Si[d] = s * (st->H[i] + B[i] * Si[d]);
        st->H[i] = h;
        g += C[i] * h;
        if (grad) {
            grad[i] = inv * h;
            for (size_t l = 0; l < d; l++)
                grad[N + i * d + l] = inv * C[i] * Si[l];
            grad[N + N * d + i] = inv * C[i] * Si[d];
        }
    }
    return inv * g;
}

static double advance_meanfield(rnn_ntk_net *net, rnn_ntk_state *st, const double *x,
                                double *grad)
{
    const size_t N = net->o.N, d = net->o.d, q = d + 1;
    const double *C = net->theta, *W = C + N, *B = W + N * d;
    const double inv = pow((double)N, -net->o.beta), Nd = (double)N;
    const double M = st->M;
    double *s = net->work;
    double g = 0, sum_h = 0, lam = 0, kappa = 0;
    for (size_t i = 0; i < N; i++) {
        const double *w = W + i * d;
        double a = B[i] * M;
        for (size_t l = 0; l < d; l++)
            a += w[l] * x[l];
        s[i] = a;
    }
    rnn_tanh_v(N, s, st->H); /* vectorised (cells/vmath.c) */
    for (size_t i = 0; i < N; i++) {
        const double h = st->H[i];
        s[i] = 1 - h * h;
        sum_h += h;
        g += C[i] * h;
        lam += s[i] * B[i];
        kappa += C[i] * s[i] * B[i];
    }
    lam /= Nd;
    for (size_t j = 0; j < N; j++) {
        double *Sj = st->S + j * q; /* m^j_k on entry, m^j_{k+1} on exit */
        if (grad) {
            grad[j] = inv * st->H[j];
            for (size_t l = 0; l < d; l++)
                grad[N + j * d + l] = inv * (C[j] * s[j] * x[l] + kappa * Sj[l]);
            grad[N + N * d + j] = inv * (C[j] * s[j] * M + kappa * Sj[d]);
        }
        for (size_t l = 0; l < d; l++)
            Sj[l] = s[j] * x[l] / Nd + lam * Sj[l];
        Sj[d] = s[j] * M / Nd + lam * Sj[d];
    }
    st->M = sum_h / Nd;
    return inv * g;
}

double rnn_ntk_advance(rnn_ntk_net *net, rnn_ntk_state *st, const double *x, double *grad)
{
    return net->o.reading == RNN_NTK_DIAGONAL ? advance_diagonal(net, st, x, grad)
                                              : advance_meanfield(net, st, x, grad);
}

double rnn_ntk_sgd_step(rnn_ntk_net *net, const double *x, double y)
{
    const double N = (double)net->o.N;
    const double lr = net->o.alpha * pow(N, -(2 - 2 * net->o.beta));
    double g = rnn_ntk_advance(net, &net->stream, x, net->grad);
    cblas_daxpy((int)(net->o.N * net->p), lr * (y - g), net->grad, 1, net->theta, 1);
    net->steps++;
    return g;
}

double rnn_ntk_output(rnn_ntk_net *net, size_t L, const double *X, double *grad)
{
    const size_t d = net->o.d;
    state_zero(&net->probe, net->o.N, d);
    double g = 0;
    for (size_t k = 0; k < L; k++)
        g = rnn_ntk_advance(net, &net->probe, X + k * d, k + 1 == L ? grad : NULL);
    return g;
}

int rnn_ntk_gram(rnn_ntk_net *net, size_t P, size_t L, const double *X, double *G, double *K,
                 double *g)
{
    if (P < 1 || L < 1)
        return RNN_EINVAL;
    const size_t n = net->o.N * net->p;
    for (size_t a = 0; a < P; a++) {
        double ga = rnn_ntk_output(net, L, X + a * L * net->o.d, G + a * n);
        if (g)
            g[a] = ga;
    }
    const double scale = pow((double)net->o.N, 2 * net->o.beta - 1);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)P, (int)n, scale, G, (int)n, 0.0,
                K, (int)P);
    for (size_t a = 0; a < P; a++)
        for (size_t b = 0; b < a; b++)
            K[a * P + b] = K[b * P + a];
    return rnn_all_finite(P * P, K) ? RNN_OK : RNN_ENONFINITE;
}

double rnn_ntk_param_drift(const rnn_ntk_net *net)
{
    const size_t N = net->o.N, d = net->o.d;
    double tot = 0;
    for (size_t i = 0; i < N; i++) {
        double dc = net->theta[i] - net->theta0[i];
        double db = net->theta[N + N * d + i] - net->theta0[N + N * d + i];
        double ss = dc * dc + db * db;
        for (size_t l = 0; l < d; l++) {
            double dw = net->theta[N + i * d + l] - net->theta0[N + i * d + l];
            ss += dw * dw;
        }
        tot += sqrt(ss);
    }
    return tot / (double)N;
}

/* Ratios of differences are taken only while both stay above this: the states carry rounding
 * errors of a few ulps (and (b)'s mean M up to ~log2(N) ulps), so at |dH| >= 1e-8 a ratio is
 * exact to ~1e-7 relative, far inside the tolerance of kernel.memory-contraction. */
#define DH_FLOOR 1e-8

static double sup_diff(const double *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

int rnn_ntk_memory_rate(rnn_ntk_net *net, size_t steps, const double *X, unsigned long seed,
                        double *rate, double *worst, double *bound)
{
    const size_t N = net->o.N, d = net->o.d;
    if (steps < 1)
        return RNN_EINVAL;
    state_zero(&net->probe, N, d);
    state_zero(&net->aux, N, d);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return RNN_ENOMEM;
    gsl_rng_set(r, seed);
    double sum = 0;
    for (size_t i = 0; i < N; i++)
        sum += net->aux.H[i] = gsl_rng_uniform(r) < 0.5 ? -1.0 : 1.0;
    gsl_rng_free(r);
    net->aux.M = sum / (double)N;
    /* worst: every one-step ratio, from H_0 on. For (b) sup_i |dH^i_{k+1}| <= |B^i| |dM_k| <=
     * b |dH_k|_inf, and the first step sees only dM_0 ~ N^-1/2 (H_0 = +-1 has mean near 0), so
     * the geometric-mean rate starts after the first step: (|dH_K| / |dH_1|)^(1/(K-1)). */
    double prev = sup_diff(net->probe.H, net->aux.H, N), first = prev, last = prev;
    double w = 0;
    size_t used = 0;
    for (size_t k = 0; k < steps; k++) {
        rnn_ntk_advance(net, &net->probe, X + k * d, NULL);
        rnn_ntk_advance(net, &net->aux, X + k * d, NULL);
        double cur = sup_diff(net->probe.H, net->aux.H, N);
        if (prev >= DH_FLOOR && cur >= DH_FLOOR) {
            w = fmax(w, cur / prev);
            if (k == 0)
                first = cur;
            else {
                last = cur;
                used = k;
            }
        }
        prev = cur;
    }
    const double *B = net->theta + N + N * d;
    double bmax = 0;
    for (size_t i = 0; i < N; i++)
        bmax = fmax(bmax, fabs(B[i]));
    *bound = bmax; /* sup|tanh'| = 1 */
    *worst = w;
    *rate = used ? pow(last / first, 1.0 / (double)used) : 0.0;
    return RNN_OK;
}
