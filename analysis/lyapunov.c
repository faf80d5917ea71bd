/*
 * lyapunov.c — Lyapunov spectra of a cell's step map and of an ODE.
 *
 * Discrete (the QR method of Benettin et al. and Shimada & Nagashima):
 *   Q_0 a fixed n x k matrix with orthonormal columns,
 *   Z_t = J_t Q_{t-1},  J_t = d s_t / d s_{t-1};  every `reorth` steps Z = Q R (Householder,
 *   LAPACK dgeqrf) and lambda_i += log |R_ii|;  lambda_i / (measured steps). For k < n the
 *   frame Q is formed (dorgqr); for the full spectrum (k = n) Q stays as its reflectors and
 *   the next J_t Q is applied from them (dormqr), so that Q is never formed (see qr_step).
 * The exponents are per step; divided by dt they are per unit time. The finite-time
 * exponents of `blocks` consecutive time blocks give a 95% interval of the mean (Student t).
 * Sum rule (k = n): prod_t det J_t = det(Q_T R) / det Q_0, so sum_i lambda_i equals the mean of
 * log |det J_t| over the same steps (computed independently by LU when with_det is set).
 *
 * Two trajectories (Benettin's original method): s and s + d v, renormalised to distance
 * d = d0 max(1, |s|) after every step; the mean log of the stretching is the largest exponent.
 *
 * Continuous: s' = f(s, t), Y' = J(s, t) Y (Y n x k) by CVODE over intervals of length
 * `interval`, Y re-orthonormalised after each; exponents per unit time.
 *
 * Rounding. With reorth = R, Z is a product of R Jacobians before its QR, so its columns are
 * graded by ~exp(R (l_1 - l_k)) and the small exponents carry a relative error of about
 * eps exp(R (l_1 - l_k)): two correct implementations (e.g. formed Q versus reflectors) agree
 * to ~1e-13 at R = 1 but may differ at 1e-9 when R (l_1 - l_k) is tens. That is the QR's
 * conditioning, not a bug; keep R (l_1 - l_k) small for the full spectrum.
 *
 * Kaplan-Yorke dimension: D = j + (l_1 + ... + l_j) / |l_{j+1}|, j the largest index with
 * l_1 + ... + l_j >= 0.
 *
 * Matrices handed to LAPACK are column-major here (Q, Z: n x k, leading dimension n), so that
 * LAPACKE does not transpose and allocate per call; J is the cell's row-major Jacobian,
 * multiplied as a transposed column-major matrix.
 *
 * References: Benettin, Galgani, Giorgilli, Strelcyn, Meccanica 15 (1980); Shimada &
 * Nagashima, Prog. Theor. Phys. 61 (1979); Dieci, Russell, Van Vleck, SIAM J. Numer. Anal. 34
 * (1997) (QR methods); Kaplan & Yorke, LNM 730 (1979).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <lapacke.h>
#include "analysis.h"

void rnn_lyap_opts_default(rnn_lyap_opts *o)
{
    o->k = 0;
    o->transient = 1000;
    o->steps = 10000;
    o->reorth = 1;
    o->blocks = 10;
    o->with_det = 0;
}

void rnn_lyap_result_free(rnn_lyap_result *r)
{
    if (!r)
        return;
    free(r->exponents);
    free(r);
}

rnn_lyap_result *rnn_lyap_result_alloc(size_t n, size_t k, size_t blocks)
{
    if (n == 0 || k == 0 || k > n || blocks == 0)
        return NULL;
    rnn_lyap_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->exponents = malloc((3 * k + blocks * k + n) * sizeof(double));
    if (!r->exponents) {
        free(r);
        return NULL;
    }
    r->n = n;
    r->k = k;
    r->blocks = blocks;
    r->ci_lo = r->exponents + k;
    r->ci_hi = r->ci_lo + k;
    r->block = r->ci_hi + k;
    r->final_state = r->block + blocks * k;
    r->mean_log_det = NAN;
    r->kaplan_yorke = NAN;
    return r;
}

static int desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* Finite-time QR exponents can come slightly out of order; the dimension uses them sorted. */
double rnn_kaplan_yorke(size_t k, const double *l)
{
    double *s = k ? malloc(k * sizeof(double)) : NULL;
    if (!s)
        return NAN;
    memcpy(s, l, k * sizeof(double));
    qsort(s, k, sizeof(double), desc);
    double sum = 0, D = NAN; /* NAN: the partial sums stay >= 0 through the k exponents */
    if (s[0] < 0)
        D = 0;
    else
        for (size_t j = 0; j < k; j++) {
            if (sum + s[j] < 0) {
                D = (double)j + sum / fabs(s[j]);
                break;
            }
            sum += s[j];
        }
    free(s);
    return D;
}

/* ---- the QR workspace ----------------------------------------------------------------------- */

typedef struct {
    size_t n, k;
    double *block;        /* owns Q, Z and tau; Q and Z swap roles every step */
    double *Q, *Z, *tau, *work;
    int full;             /* k = n: Q may be held as its reflectors */
    int reflectors;       /* full: Q holds dgeqrf's output (R and the reflectors of Q) */
    lapack_int lwork;
} qr_ws;

static int qr_init(qr_ws *w, size_t n, size_t k)
{
    w->n = n;
    w->k = k;
    w->full = k == n;
    w->reflectors = 0;
    lapack_int N = (lapack_int)n, K = (lapack_int)k;
    double q1 = 0, q2 = 0, q3 = 0;
    w->block = w->Q = malloc((2 * n * k + k) * sizeof(double));
    if (!w->Q)
        return RNN_ENOMEM;
    w->Z = w->Q + n * k;
    w->tau = w->Z + n * k;
    if (LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, N, K, w->Z, N, w->tau, &q1, -1) != 0 ||
        LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, N, K, K, w->Z, N, w->tau, &q2, -1) != 0 ||
        (w->full && LAPACKE_dormqr_work(LAPACK_COL_MAJOR, 'R', 'N', N, N, N, w->Z, N, w->tau,
                                        w->Q, N, &q3, -1) != 0)) {
        free(w->block);
        return RNN_ESOLVER;
    }
    w->lwork = (lapack_int)fmax(fmax(q1, q2), q3) + 1;
    w->work = malloc((size_t)w->lwork * sizeof(double));
    if (!w->work) {
        free(w->block);
        return RNN_ENOMEM;
    }
    return RNN_OK;
}

static void qr_release(qr_ws *w)
{
    free(w->work);
    free(w->block);
}

/* A = Q R in place (A n x k column-major); logs of |R_ii| added to acc (if not NULL). */
static int qr_orthonormalise(qr_ws *w, double *A, double *acc)
{
    lapack_int N = (lapack_int)w->n, K = (lapack_int)w->k;
    lapack_int info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, N, K, A, N, w->tau, w->work, w->lwork);
    if (info != 0)
        return RNN_ESOLVER;
    if (acc)
        for (size_t i = 0; i < w->k; i++)
            acc[i] += log(fabs(A[i + i * w->n]));
    info = LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, N, K, K, A, N, w->tau, w->work, w->lwork);
    return info == 0 ? RNN_OK : RNN_ESOLVER;
}

/* The spectrum's frame update and QR step. For k < n the frame Q (n x k) is explicit:
 * Z = J Q by dgemm, and Z = Q R by dgeqrf + dorgqr. For the full spectrum (k = n) Q is kept
 * as dgeqrf's reflectors and never formed: the next J Q is applied straight from them
 * (dormqr, 2 n^3 flops, where dorgqr + dgemm cost 4/3 n^3 + 2 n^3). dormqr wants J in
 * column-major order, and the cell's J is row-major: it is transposed in 32 x 32 tiles
 * (n^2 moves, each tile within the cache). */
static int qr_step(qr_ws *w, double *A, double *acc)
{
    if (!w->full)
        return qr_orthonormalise(w, A, acc);
    lapack_int N = (lapack_int)w->n;
    if (LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, N, N, A, N, w->tau, w->work, w->lwork) != 0)
        return RNN_ESOLVER;
    for (size_t i = 0; i < w->n; i++)
        acc[i] += log(fabs(A[i + i * w->n]));
    w->reflectors = 1;
    return RNN_OK;
}

/* B = A^T for n x n A, B (either order), by tiles. */
static void transpose(size_t n, const double *A, double *B)
{
    enum { TILE = 32 };
    for (size_t i0 = 0; i0 < n; i0 += TILE)
        for (size_t j0 = 0; j0 < n; j0 += TILE) {
            size_t i1 = i0 + TILE < n ? i0 + TILE : n, j1 = j0 + TILE < n ? j0 + TILE : n;
            for (size_t i = i0; i < i1; i++)
                for (size_t j = j0; j < j1; j++)
                    B[j * n + i] = A[i * n + j];
        }
}

/* Z = J Q, then Z becomes the frame (Q and Z swap). J is the cell's row-major Jacobian. */
static int frame_apply(qr_ws *w, const double *J)
{
    const int n = (int)w->n, k = (int)w->k;
    if (w->reflectors) {
        transpose(w->n, J, w->Z); /* J column-major */
        if (LAPACKE_dormqr_work(LAPACK_COL_MAJOR, 'R', 'N', n, n, n, w->Q, n, w->tau, w->Z, n,
                                w->work, w->lwork) != 0)
            return RNN_ESOLVER;
        w->reflectors = 0;
    } else { /* J row-major is J^T column-major */
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, n, k, n, 1.0, J, n, w->Q, n, 0.0,
                    w->Z, n);
    }
    double *tmp = w->Q;
    w->Q = w->Z;
    w->Z = tmp;
    return RNN_OK;
}

/* The initial frame: a fixed pseudo-random n x k matrix with orthonormal columns, the same for
 * every cell and ODE of state size n, so that a cell and its ODE start from the same frame
 * (finite-time exponents depend on it at O(1/T)). */
static int random_frame(qr_ws *w, double *Q)
{
    gsl_rng *r = rnn_rng_alloc(0, "lyapunov:frame", w->n);
    if (!r)
        return RNN_ENOMEM;
    rnn_fill_gaussian(r, 1.0, w->n * w->k, Q);
    gsl_rng_free(r);
    return qr_orthonormalise(w, Q, NULL);
}

/* Block statistics: means, intervals, sum, Kaplan-Yorke, from the block sums and lengths. */
static void finish(rnn_lyap_result *r, const double *total, double measured)
{
    const size_t k = r->k;
    r->sum = 0;
    for (size_t i = 0; i < k; i++) {
        r->exponents[i] = total[i] / measured;
        r->sum += r->exponents[i];
        double mean, half;
        rnn_mean_ci95(r->blocks, r->block + i, k, &mean, &half);
        r->ci_lo[i] = r->exponents[i] - half;
        r->ci_hi[i] = r->exponents[i] + half;
    }
    r->kaplan_yorke = rnn_kaplan_yorke(k, r->exponents);
    if (isnan(r->kaplan_yorke) && k == r->n)
        r->kaplan_yorke = (double)k; /* volume does not contract: the full dimension */
}

static int check_opts(size_t n, size_t k, size_t steps, size_t blocks, const rnn_lyap_result *r,
                      char *msg, size_t len)
{
    if (k == 0 || k > n || blocks == 0 || steps < blocks || !r || r->n != n || r->k != k ||
        r->blocks != blocks) {
        snprintf(msg, len, "lyapunov: need 1 <= k <= %zu exponents, 1 <= blocks <= steps, and a "
                 "result allocated for (n, k, blocks) = (%zu, %zu, %zu)", n, n, k, blocks);
        return RNN_EINVAL;
    }
    return RNN_OK;
}

/* The block of measured step j (0-based) when `steps` are split into `blocks` near-equal parts. */
static size_t block_of(size_t j, size_t steps, size_t blocks)
{
    return (size_t)(((unsigned long long)j * blocks) / steps);
}

/* The number of steps in block b: the j with block_of(j) = b are ceil(b steps / blocks) up to
 * ceil((b + 1) steps / blocks) - 1. */
static double block_len(size_t b, size_t steps, size_t blocks)
{
    size_t first = (b * steps + blocks - 1) / blocks, last = ((b + 1) * steps + blocks - 1) / blocks;
    return (double)(last - first);
}

int rnn_lyap_spectrum(const rnn_cell *c, const rnn_input *in, const double *s0,
                      const rnn_lyap_opts *o, rnn_lyap_result *r, char *msg, size_t len)
{
    if (!c || !in || !s0 || !o || in->d != c->d || o->reorth == 0) {
        snprintf(msg, len, "lyapunov: bad arguments (reorth must be >= 1)");
        return RNN_EINVAL;
    }
    const size_t n = c->n_state, k = o->k ? o->k : n;
    int rc = check_opts(n, k, o->steps, o->blocks, r, msg, len);
    if (rc != RNN_OK)
        return rc;
    qr_ws w;
    if ((rc = qr_init(&w, n, k)) != RNN_OK) {
        snprintf(msg, len, "lyapunov: %s", rnn_strerror(rc));
        return rc;
    }
    rnn_eig_ws *ews = o->with_det ? rnn_eig_ws_alloc(n) : NULL;
    double *buf = malloc((n * n + 2 * n + c->d + 2 * k) * sizeof(double));
    if (!buf || (o->with_det && !ews)) {
        snprintf(msg, len, "lyapunov: out of memory for a %zu-dimensional state", n);
        free(buf);
        rnn_eig_ws_free(ews);
        qr_release(&w);
        return RNN_ENOMEM;
    }
    double *J = buf, *s = J + n * n, *s_next = s + n, *u = s_next + n, *acc = u + c->d,
           *total = acc + k;
    memset(total, 0, k * sizeof(double));
    memset(r->block, 0, r->blocks * k * sizeof(double));
    memcpy(s, s0, n * sizeof(double));
    rc = random_frame(&w, w.Q);

    const double dt = rnn_cell_dt(c);
    const size_t total_steps = o->transient + o->steps;
    double logdet_sum = 0;
    size_t since_qr = 0;
    memset(acc, 0, k * sizeof(double));
    for (size_t t = 1; t <= total_steps && rc == RNN_OK; t++) {
        double tt = (double)(t - 1) * dt;
        rnn_input_eval(in, tt, u);
        rc = rnn_cell_step_jacobian(c, tt, s, u, J);
        if (rc == RNN_OK)
            rc = rnn_cell_step(c, tt, s, u, s_next);
        if (rc == RNN_OK && ews && t > o->transient) {
            double ld;
            rc = rnn_spectrum_logdet(ews, J, &ld);
            logdet_sum += ld;
        }
        if (rc != RNN_OK) {
            snprintf(msg, len, "lyapunov: step %zu of %s failed at t = %g: %s", t, c->type->name,
                     tt, rnn_strerror(rc));
            break;
        }
        memcpy(s, s_next, n * sizeof(double));
        if ((rc = frame_apply(&w, J)) != RNN_OK) {
            snprintf(msg, len, "lyapunov: LAPACK dormqr failed at step %zu of %s", t, c->type->name);
            break;
        }
        since_qr++;
        /* Re-orthonormalise every reorth steps, and always at the end of the transient and of
         * each block, so that each block's growth is its own. */
        size_t j = t > o->transient ? t - o->transient - 1 : 0; /* measured index */
        int block_end = t > o->transient &&
                        (t == total_steps || block_of(j + 1, o->steps, o->blocks) != block_of(j, o->steps, o->blocks));
        if (since_qr == o->reorth || t == o->transient || block_end) {
            rc = qr_step(&w, w.Q, acc);
            if (rc != RNN_OK) {
                snprintf(msg, len, "lyapunov: LAPACK QR failed at step %zu of %s", t, c->type->name);
                break;
            }
            since_qr = 0;
            if (t > o->transient) {
                double *b = r->block + block_of(j, o->steps, o->blocks) * k;
                for (size_t i = 0; i < k; i++) {
                    b[i] += acc[i];
                    total[i] += acc[i];
                }
            }
            memset(acc, 0, k * sizeof(double));
        }
    }
    if (rc == RNN_OK) {
        /* Block sums to block means per step. */
        for (size_t b = 0; b < o->blocks; b++) {
            for (size_t i = 0; i < k; i++)
                r->block[b * k + i] /= block_len(b, o->steps, o->blocks);
        }
        r->dt = dt;
        finish(r, total, (double)o->steps);
        r->mean_log_det = ews ? logdet_sum / (double)o->steps : NAN;
        memcpy(r->final_state, s, n * sizeof(double));
    }
    free(buf);
    rnn_eig_ws_free(ews);
    qr_release(&w);
    return rc;
}

int rnn_lyap_two_trajectory(const rnn_cell *c, const rnn_input *in, const double *s0,
                            const rnn_lyap_opts *o, double d0, double *lambda, double *ci_lo,
                            double *ci_hi, char *msg, size_t len)
{
    if (!c || !in || !s0 || !o || in->d != c->d || !(d0 > 0) || o->blocks < 1 ||
        o->steps < o->blocks) {
        snprintf(msg, len, "lyapunov: bad arguments for the two-trajectory method (need d0 > 0, "
                 "1 <= blocks <= steps)");
        return RNN_EINVAL;
    }
    const size_t n = c->n_state;
    double *buf = malloc((4 * n + c->d + o->blocks) * sizeof(double));
    if (!buf)
        return RNN_ENOMEM;
    double *s = buf, *p = s + n, *tmp = p + n, *tmp2 = tmp + n, *u = tmp2 + n, *blk = u + c->d;
    memcpy(s, s0, n * sizeof(double));
    gsl_rng *g = rnn_rng_alloc(rnn_seed_derive(c->seed, "lyapunov", n), "two-trajectory", 0);
    if (!g) {
        free(buf);
        return RNN_ENOMEM;
    }
    rnn_fill_gaussian(g, 1.0, n, tmp);
    gsl_rng_free(g);
    double nv = cblas_dnrm2((int)n, tmp, 1);
    /* The separation is d0 relative to the state's size (d0 absolute while |s| <= 1): it must
     * stay far above the rounding of the states, eps |s|, also along a trajectory that grows
     * (a cell whose linear part is unstable, e.g. the Lipschitz RNN at [LR]'s initialisation). */
    double dcur = d0 * fmax(1.0, cblas_dnrm2((int)n, s, 1));
    for (size_t i = 0; i < n; i++)
        p[i] = s[i] + dcur * tmp[i] / nv;
    memset(blk, 0, o->blocks * sizeof(double));
    const double dt = rnn_cell_dt(c);
    const size_t total_steps = o->transient + o->steps;
    double total = 0;
    int rc = RNN_OK;
    for (size_t t = 1; t <= total_steps; t++) {
        double tt = (double)(t - 1) * dt;
        rnn_input_eval(in, tt, u);
        rc = rnn_cell_step(c, tt, s, u, tmp);
        if (rc == RNN_OK)
            rc = rnn_cell_step(c, tt, p, u, tmp2);
        if (rc != RNN_OK) {
            snprintf(msg, len, "lyapunov: step %zu of %s failed at t = %g: %s", t, c->type->name,
                     tt, rnn_strerror(rc));
            break;
        }
        double dist = 0;
        for (size_t i = 0; i < n; i++) {
            double e = tmp2[i] - tmp[i];
            dist += e * e;
        }
        dist = sqrt(dist);
        if (!(dist > 0)) {
            snprintf(msg, len, "lyapunov: the two trajectories of %s merged at step %zu (the "
                     "separation rounded to zero; use a larger d0)", c->type->name, t);
            rc = RNN_ENONFINITE;
            break;
        }
        const double l = log(dist / dcur);
        dcur = d0 * fmax(1.0, cblas_dnrm2((int)n, tmp, 1));
        for (size_t i = 0; i < n; i++) {
            s[i] = tmp[i];
            p[i] = tmp[i] + (dcur / dist) * (tmp2[i] - tmp[i]);
        }
        if (t > o->transient) {
            size_t j = t - o->transient - 1;
            blk[block_of(j, o->steps, o->blocks)] += l;
            total += l;
        }
    }
    if (rc == RNN_OK) {
        for (size_t b = 0; b < o->blocks; b++) {
            blk[b] /= block_len(b, o->steps, o->blocks);
        }
        double mean, half;
        rnn_mean_ci95(o->blocks, blk, 1, &mean, &half);
        *lambda = total / (double)o->steps;
        *ci_lo = *lambda - half;
        *ci_hi = *lambda + half;
    }
    free(buf);
    return rc;
}

/* ---- continuous time --------------------------------------------------------------------- */

typedef struct {
    const rnn_ode *ode;
    size_t n, k;
    double *J; /* n x n row-major */
} var_ctx;

/* (s, Y)' = (f(s, t), J(s, t) Y), Y column-major n x k after s. */
static int var_rhs(double t, const double *x, double *f, void *p)
{
    var_ctx *v = p;
    const size_t n = v->n;
    int rc = v->ode->rhs(t, x, f, v->ode->ctx);
    if (rc != 0)
        return rc;
    rc = v->ode->jac(t, x, v->J, v->ode->ctx);
    if (rc != 0)
        return rc;
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)n, (int)v->k, (int)n, 1.0, v->J,
                (int)n, x + n, (int)n, 0.0, f + n, (int)n);
    return 0;
}

static double var_knot(double t, void *p)
{
    var_ctx *v = p;
    return v->ode->next_knot(t, v->ode->ctx);
}

int rnn_lyap_ode_spectrum(const rnn_ode *ode, const double *s0, const rnn_lyap_ode_opts *o,
                          rnn_lyap_result *r, char *msg, size_t len)
{
    if (!ode || !ode->jac || !s0 || !o || !(o->interval > 0) || !(o->t_transient >= 0) ||
        !(o->t_measure > 0)) {
        snprintf(msg, len, "lyapunov: the variational equations need the ODE's Jacobian, an "
                 "interval > 0, t_transient >= 0 and t_measure > 0");
        return RNN_EINVAL;
    }
    const size_t n = ode->n, k = o->k ? o->k : n;
    const size_t n_tr = (size_t)llround(o->t_transient / o->interval),
                 n_me = (size_t)llround(o->t_measure / o->interval);
    int rc = check_opts(n, k, n_me, o->blocks, r, msg, len);
    if (rc != RNN_OK)
        return rc;
    qr_ws w;
    if ((rc = qr_init(&w, n, k)) != RNN_OK) {
        snprintf(msg, len, "lyapunov: %s", rnn_strerror(rc));
        return rc;
    }
    const size_t N = n + n * k;
    double *x = malloc((N + n * n + 2 * k) * sizeof(double));
    if (!x) {
        qr_release(&w);
        return RNN_ENOMEM;
    }
    double *J = x + N, *acc = J + n * n, *total = acc + k;
    memcpy(x, s0, n * sizeof(double));
    rc = random_frame(&w, x + n);
    var_ctx v = {ode, n, k, J};
    rnn_ode aug = {.n = N, .rhs = var_rhs, .ctx = &v, .name = ode->name,
                   .next_knot = ode->next_knot ? var_knot : NULL};
    memset(total, 0, k * sizeof(double));
    memset(r->block, 0, r->blocks * k * sizeof(double));
    for (size_t i = 1; i <= n_tr + n_me && rc == RNN_OK; i++) {
        double t0 = (double)(i - 1) * o->interval, t1 = (double)i * o->interval;
        rc = rnn_cvode_solve(&aug, t0, x, 1, &t1, x, &o->cvode, NULL, msg, len);
        if (rc != RNN_OK)
            break;
        memset(acc, 0, k * sizeof(double));
        if ((rc = qr_orthonormalise(&w, x + n, acc)) != RNN_OK) {
            snprintf(msg, len, "lyapunov: LAPACK QR failed at t = %g for %s", t1, ode->name);
            break;
        }
        if (i > n_tr) {
            double *b = r->block + block_of(i - n_tr - 1, n_me, o->blocks) * k;
            for (size_t j = 0; j < k; j++) {
                b[j] += acc[j];
                total[j] += acc[j];
            }
        }
    }
    if (rc == RNN_OK) {
        for (size_t b = 0; b < o->blocks; b++) {
            for (size_t j = 0; j < k; j++)
                r->block[b * k + j] /= block_len(b, n_me, o->blocks) * o->interval;
        }
        r->dt = o->interval;
        finish(r, total, (double)n_me * o->interval);
        r->mean_log_det = NAN;
        memcpy(r->final_state, x, n * sizeof(double));
    }
    free(x);
    qr_release(&w);
    return rc;
}
