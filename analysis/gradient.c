/*
 * gradient.c — the growth of gradient norms ||d s_T / d s_k|| along a trajectory, by forward
 * tangents and by the reverse (adjoint) sweep, and the per-step contributions to a parameter
 * gradient.
 *
 *   forward:  M_0 = I,  M_t = J_t M_{t-1}       => M_T = d s_T / d s_0      (all T at once)
 *   reverse:  G_T = I,  G_{k-1} = G_k J_k       => G_k = d s_T / d s_k      (all k at once)
 *   J_t = d s_t / d s_{t-1}, the cell's exact step Jacobian at (t_{t-1}, s_{t-1}, u(t_{t-1})).
 *
 * Log domain. The tanh cell over 10^4 steps reaches ||M|| ~ 1e-4000, far below the smallest
 * double. The products are kept as M = e^L M~ with M~ renormalised to unit max-entry every
 * step (a power of two, so the scaling is exact) and L accumulated; every norm is reported
 * as its natural logarithm log ||M||_2 = L + log ||M~||_2.
 *
 * ||M~||_2 at a requested lag: the largest singular value, certified to RNN_TOPSV_RTOL by a
 * warm-started subspace iteration (topsv.c, O(n^2) per lag once the top singular values
 * separate), with dgesdd where the iteration cannot certify (the first steps of a product).
 *
 * [CO] Prop. 3.3, the contribution of step k to dL_n/dtheta, L_n = 1/2 ||s_n||^2: the adjoint
 * g_k = (d s_n / d s_k)^T s_n is carried backwards (in the log domain), and the step's own
 * parameter VJP, (d^+ s_k / dtheta)^T g_k, is its contribution.
 *
 * References: Pascanu, Mikolov, Bengio, ICML 2013 (the product of Jacobians); Rusch &
 * Mishra, ICLR 2021, Prop. 3.2-3.3; Golub & Van Loan, Matrix Computations, 4th ed., §8.2
 * and §8.6 (SVD).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <cblas.h>
#include "analysis.h"


size_t rnn_log_lags(size_t T, size_t per_decade, size_t max, size_t *lags)
{
    size_t n = 0;
    if (T == 0 || max == 0)
        return 0;
    if (per_decade == 0)
        per_decade = 10;
    double step = pow(10.0, 1.0 / (double)per_decade);
    for (double x = 1; n < max; x *= step) {
        size_t v = (size_t)llround(x);
        if (v >= T)
            break;
        if (n == 0 || v > lags[n - 1])
            lags[n++] = v;
    }
    if (n < max && (n == 0 || lags[n - 1] < T))
        lags[n++] = T;
    else if (n == max)
        lags[n - 1] = T;
    return n;
}

/* Scales M (n x n) so that its largest |entry| is in [1, 2), by a power of two (exact);
 * adds the log of the factor taken out to *L. */
static void renormalise(size_t n, double *M, double *L)
{
    size_t i = cblas_idamax((int)(n * n), M, 1);
    double a = fabs(M[i]);
    if (a == 0 || !isfinite(a))
        return;
    int e;
    frexp(a, &e); /* a = f 2^e, f in [0.5, 1) */
    e -= 1;
    if (e == 0)
        return;
    cblas_dscal((int)(n * n), ldexp(1.0, -e), M, 1);
    *L += (double)e * M_LN2;
}

typedef struct {
    size_t n, d;
    double *J, *M, *M2, *u, *s;
} prod_ws;

static int prod_init(prod_ws *p, size_t n, size_t d)
{
    p->n = n;
    p->d = d;
    p->J = malloc((3 * n * n + 2 * n + d) * sizeof(double));
    if (!p->J)
        return RNN_ENOMEM;
    p->M = p->J + n * n;
    p->M2 = p->M + n * n;
    p->s = p->M2 + n * n;
    p->u = p->s + 2 * n;
    memset(p->M, 0, n * n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        p->M[i * n + i] = 1;
    return RNN_OK;
}

static int bad_lags(size_t n_lags, const size_t *lags, size_t T, char *msg, size_t len)
{
    for (size_t i = 0; i < n_lags; i++)
        if (lags[i] < 1 || (i && lags[i] <= lags[i - 1]) || (T && lags[i] > T)) {
            snprintf(msg, len, "gradient lags must be increasing integers in 1..%zu (lag %zu is %zu)",
                     T ? T : (size_t)-1, i, lags[i]);
            return RNN_EINVAL;
        }
    return RNN_OK;
}

/* One forward step of the product: s <- Phi(s), M <- J M (renormalised into *L). */
static int advance(const rnn_cell *c, const rnn_input *in, prod_ws *p, size_t t, double *L,
                   char *msg, size_t len)
{
    const size_t n = p->n;
    double tt = (double)(t - 1) * rnn_cell_dt(c), *s_next = p->s + n;
    rnn_input_eval(in, tt, p->u);
    int rc = rnn_cell_step_jacobian(c, tt, p->s, p->u, p->J);
    if (rc == RNN_OK)
        rc = rnn_cell_step(c, tt, p->s, p->u, s_next);
    if (rc != RNN_OK) {
        snprintf(msg, len, "gradient: step %zu of %s failed at t = %g: %s", t, c->type->name, tt,
                 rnn_strerror(rc));
        return rc;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0, p->J,
                (int)n, p->M, (int)n, 0.0, p->M2, (int)n);
    double *tmp = p->M;
    p->M = p->M2;
    p->M2 = tmp;
    renormalise(n, p->M, L);
    memcpy(p->s, s_next, n * sizeof(double));
    return RNN_OK;
}

int rnn_grad_product(const rnn_cell *c, const rnn_input *in, const double *s0, size_t T,
                     double *M, double *log_scale, double *s_T, char *msg, size_t len)
{
    if (!c || !in || !s0 || !M || !log_scale || in->d != c->d) {
        snprintf(msg, len, "gradient: bad arguments");
        return RNN_EINVAL;
    }
    const size_t n = c->n_state;
    prod_ws p;
    if (prod_init(&p, n, c->d) != RNN_OK)
        return RNN_ENOMEM;
    double *block = p.J;
    memcpy(p.s, s0, n * sizeof(double));
    double L = 0;
    int rc = RNN_OK;
    for (size_t t = 1; t <= T && rc == RNN_OK; t++)
        rc = advance(c, in, &p, t, &L, msg, len);
    if (rc == RNN_OK) {
        memcpy(M, p.M, n * n * sizeof(double));
        *log_scale = L;
        if (s_T)
            memcpy(s_T, p.s, n * sizeof(double));
    }
    free(block);
    return rc;
}

int rnn_grad_tangent(const rnn_cell *c, const rnn_input *in, const double *s0,
                     size_t n_lags, const size_t *lags, double *log_norm, char *msg, size_t len)
{
    if (!c || !in || !s0 || !lags || !log_norm || n_lags == 0 || in->d != c->d) {
        snprintf(msg, len, "gradient: bad arguments");
        return RNN_EINVAL;
    }
    int rc = bad_lags(n_lags, lags, 0, msg, len);
    if (rc != RNN_OK)
        return rc;
    const size_t n = c->n_state, T = lags[n_lags - 1];
    prod_ws p;
    if (prod_init(&p, n, c->d) != RNN_OK)
        return RNN_ENOMEM;
    double *block = p.J; /* p.M and p.M2 swap inside it */
    rnn_topsv *sv = rnn_topsv_alloc(n);
    if (!sv) {
        free(block);
        return RNN_ENOMEM;
    }
    memcpy(p.s, s0, n * sizeof(double));
    double L = 0;
    size_t next = 0;
    for (size_t t = 1; t <= T && rc == RNN_OK; t++) {
        rc = advance(c, in, &p, t, &L, msg, len);
        if (rc == RNN_OK && t == lags[next]) {
            double sigma = NAN;
            rc = rnn_topsv_value(sv, p.M, 0, &sigma);
            log_norm[next++] = L + log(sigma);
        }
    }
    free(block);
    rnn_topsv_free(sv);
    return rc;
}

int rnn_grad_adjoint(const rnn_cell *c, const rnn_input *in, const double *S, size_t T,
                     size_t n_lags, const size_t *lags, double *log_norm, char *msg, size_t len)
{
    if (!c || !in || !S || !lags || !log_norm || n_lags == 0 || T == 0 || in->d != c->d) {
        snprintf(msg, len, "gradient: bad arguments");
        return RNN_EINVAL;
    }
    int rc = bad_lags(n_lags, lags, T, msg, len);
    if (rc != RNN_OK)
        return rc;
    const size_t n = c->n_state;
    const double dt = rnn_cell_dt(c);
    prod_ws p;
    if (prod_init(&p, n, c->d) != RNN_OK)
        return RNN_ENOMEM;
    rnn_topsv *sv = rnn_topsv_alloc(n);
    if (!sv) {
        free(p.J);
        return RNN_ENOMEM;
    }
    double *block = p.J, L = 0;
    size_t next = 0;
    for (size_t k = T; k >= 1 && next < n_lags; k--) {
        double tt = (double)(k - 1) * dt;
        rnn_input_eval(in, tt, p.u);
        rc = rnn_cell_step_jacobian(c, tt, S + (k - 1) * n, p.u, p.J);
        if (rc != RNN_OK) {
            snprintf(msg, len, "gradient: Jacobian of step %zu of %s failed: %s", k,
                     c->type->name, rnn_strerror(rc));
            break;
        }
        /* G <- G J_k: now G = d s_T / d s_{k-1}, lag T - k + 1. */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0, p.M,
                    (int)n, p.J, (int)n, 0.0, p.M2, (int)n);
        double *tmp = p.M;
        p.M = p.M2;
        p.M2 = tmp;
        renormalise(n, p.M, &L);
        if (T - k + 1 == lags[next]) {
            double sigma = NAN;
            rc = rnn_topsv_value(sv, p.M, 1, &sigma); /* G's left vectors settle: work on G^T */
            log_norm[next++] = L + log(sigma);
            if (rc != RNN_OK)
                break;
        }
    }
    free(block);
    rnn_topsv_free(sv);
    return rc;
}

int rnn_grad_step_contributions(const rnn_cell *c, const rnn_input *in, const double *S,
                                size_t T, double *log_contrib, char *msg, size_t len)
{
    if (!c || !in || !S || !log_contrib || T == 0 || in->d != c->d) {
        snprintf(msg, len, "gradient: bad arguments");
        return RNN_EINVAL;
    }
    const size_t n = c->n_state, np = c->n_params;
    const double dt = rnn_cell_dt(c);
    double *g = malloc((2 * n + np + c->d) * sizeof(double));
    if (!g)
        return RNN_ENOMEM;
    double *gs = g + n, *gth = gs + n, *u = gth + np, L = 0;
    memcpy(g, S + T * n, n * sizeof(double)); /* dL_T/ds_T = s_T */
    int rc = RNN_OK;
    for (size_t k = T; k >= 1; k--) {
        double tt = (double)(k - 1) * dt;
        rnn_input_eval(in, tt, u);
        memset(gth, 0, np * sizeof(double));
        rc = rnn_cell_step_vjp(c, tt, S + (k - 1) * n, u, g, gs, gth);
        if (rc != RNN_OK) {
            snprintf(msg, len, "gradient: VJP of step %zu of %s failed: %s", k, c->type->name,
                     rnn_strerror(rc));
            break;
        }
        log_contrib[k - 1] = L + log(cblas_dnrm2((int)np, gth, 1));
        /* Carry g = e^L g~ with g~ of unit max-entry. */
        double a = fabs(gs[cblas_idamax((int)n, gs, 1)]);
        if (a > 0 && isfinite(a)) {
            int e;
            frexp(a, &e);
            cblas_dscal((int)n, ldexp(1.0, -e), gs, 1);
            L += (double)e * M_LN2;
        }
        memcpy(g, gs, n * sizeof(double));
    }
    free(g);
    return rc;
}
