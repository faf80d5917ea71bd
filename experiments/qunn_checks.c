/*
 * qunn_checks.c — the QUNN checks of THEORY.md §5.4 (a reading of [OD]; derived in
 * docs/theory/qunn.md).
 *
 *   qunn.params-linear   (reading) P(t, m) = n_params of qunn:<t> at hidden size m, d = 2, for
 *                        t = 1..64 and m in {8, 16, ..., 256}: for each m the exact (integer)
 *                        fit P = alpha_m t + beta(m) has residual 0 at every t, alpha_m = d + 1
 *                        is the same for every m, and beta(m) = m (d + 1) is the injection
 *                        (V, b), so the recurrence alone has alpha t parameters, independent
 *                        of m. The dense baseline dense:<t>: least-squares slope of log P_W
 *                        against log m (P_W = its recurrent block W, t m^2) at t in {1, 8, 64}
 *                        within 2 +- 0.05. The input map (m d + m, the same in both models) is
 *                        excluded from both recurrent counts; the detail line also prints the
 *                        slope of the total count, which the m(d + 1) term pulls below 2 at small
 *                        t over this range of m (docs/theory/qunn.md §2).
 *   qunn.norm-preserving (derived) inject = 0: | ||h_n|| / ||h_0|| - 1 | <= 1e-12 over 10^4
 *                        steps driven by Gaussian inputs, for (m, t) = (8, 28), (16, 120) and
 *                        (16, 200) (t > m(m-1)/2: cycled generators); and at default injection
 *                        every singular value of the step Jacobian is 1 to 1e-12 (dgesdd) at
 *                        random states and inputs. The detail line reports how far the norm
 *                        moves with the injection on, to show the run is not trivially constant.
 *   qunn.universal       (derived) a Haar-random R in SO(m) (QR of a Gaussian matrix, columns'
 *                        signs fixed by diag(R) > 0, then det fixed by flipping one column),
 *                        m in {2, 3, 4, 8, 16}, 3 targets each, decomposed by
 *                        rnn_qunn_givens_decompose into t = m(m-1)/2 angles and fed into
 *                        qunn:<t> (a = 0, c_k = theta_k / dt at dt = 0.5, inject = 0): the step
 *                        Jacobian (= the product of rotations) and the step of a random state
 *                        match R and R h to 1e-10 (max abs entry).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_linalg.h>
#include "analysis.h"
#include "experiments.h"

#define D_INPUT 2
/* params-linear */
#define PL_T_MAX 64
#define PL_EXPONENT_TOL 0.05   /* THEORY.md §5.4 */
/* norm-preserving: each rotation rounds the norm of its plane by ~ eps, in a direction that
 * varies with the angle, so 10^4 steps x t = 200 rotations drift like a random walk,
 * ~ sqrt(2e6) eps ~ 3e-13, within THEORY.md's 1e-12; a systematic error (a wrong sign in
 * one rotation, a missing cos) moves the norm by O(1). */
#define NP_STEPS 10000
#define NP_TOL 1e-12
#define NP_JAC_POINTS 5
/* universal: the decomposition and the t rotations of the step each add ~ eps per entry and
 * rotation, ~ t eps ~ 3e-14 at t = 120; THEORY.md's 1e-10 leaves a margin of 1000 that any
 * wrong angle, order or sign (an O(1) error) cannot use. */
#define UNIV_TOL 1e-10
#define UNIV_TARGETS 3
#define UNIV_DT 0.5

/* ---- qunn.params-linear ------------------------------------------------------------------- */

static const size_t pl_ms[] = {8, 16, 32, 64, 128, 256};
#define PL_NM (sizeof pl_ms / sizeof pl_ms[0])
static const size_t pl_dense_t[] = {1, 8, 64};
#define PL_NDT (sizeof pl_dense_t / sizeof pl_dense_t[0])

static size_t block_size(const rnn_cell *c, const char *name)
{
    const rnn_block *b = rnn_cell_block(c, name);
    return b ? b->rows * b->cols : 0;
}

/* Exact integer fit of P(t), t = 1..PL_T_MAX, through its first two points; residual over all. */
static void exact_fit(const long long *P, long long *alpha, long long *beta, long long *resid)
{
    *alpha = P[1] - P[0];
    *beta = P[0] - *alpha;
    *resid = 0;
    for (long long t = 1; t <= PL_T_MAX; t++) {
        long long r = P[t - 1] - (*alpha * t + *beta);
        *resid = r < 0 ? (-r > *resid ? -r : *resid) : (r > *resid ? r : *resid);
    }
}

/* The slope of log P against log m for the dense baseline at t lags (W only, or the total). */
static int dense_exponent(const rnn_check_ctx *ctx, size_t t, double *slope_w, double *slope_tot)
{
    double lm[PL_NM], lw[PL_NM], lt[PL_NM];
    for (size_t i = 0; i < PL_NM; i++) {
        rnn_cell *c = rnn_check_cell(ctx, rnn_cell_dense_t(t), pl_ms[i], D_INPUT,
                                     "qunn.params-linear:dense", 100 * t + i);
        if (!c)
            return RNN_ENOMEM;
        lm[i] = log((double)pl_ms[i]);
        lw[i] = log((double)block_size(c, "W"));
        lt[i] = log((double)c->n_params);
        rnn_cell_free(c);
    }
    int rc = rnn_fit_line(PL_NM, lm, lw, slope_w, NULL, NULL);
    return rc == RNN_OK ? rnn_fit_line(PL_NM, lm, lt, slope_tot, NULL, NULL) : rc;
}

int rnn_check_qunn_params_linear(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                 rnn_check_result *r)
{
    (void)type;
    long long P[PL_T_MAX], Prec[PL_T_MAX];
    long long alpha0 = 0, alpha_spread = 0, worst_resid = 0, beta_off = 0, rec_beta = 0;
    double ls_slope = NAN;
    for (size_t i = 0; i < PL_NM; i++) {
        const size_t m = pl_ms[i];
        for (size_t t = 1; t <= PL_T_MAX; t++) {
            rnn_cell *c = rnn_check_cell(ctx, rnn_cell_qunn_t(t), m, D_INPUT,
                                         "qunn.params-linear", 1000 * i + t);
            if (!c)
                return rnn_check_error(r, RNN_ENOMEM, "out of memory (qunn:%zu, m = %zu)", t, m);
            P[t - 1] = (long long)c->n_params;
            Prec[t - 1] = (long long)(block_size(c, "a") + block_size(c, "c"));
            rnn_cell_free(c);
        }
        long long alpha, beta, resid, ar, br, rr;
        exact_fit(P, &alpha, &beta, &resid);
        exact_fit(Prec, &ar, &br, &rr);
        if (i == 0)
            alpha0 = alpha;
        alpha_spread = llabs(alpha - alpha0) > alpha_spread ? llabs(alpha - alpha0) : alpha_spread;
        alpha_spread = llabs(ar - alpha0) > alpha_spread ? llabs(ar - alpha0) : alpha_spread;
        worst_resid = resid > worst_resid ? resid : worst_resid;
        worst_resid = rr > worst_resid ? rr : worst_resid;
        /* beta(m) must be exactly the injection's m (d + 1); the recurrence has no offset */
        long long off = llabs(beta - (long long)(m * (D_INPUT + 1)));
        beta_off = off > beta_off ? off : beta_off;
        rec_beta = llabs(br) > rec_beta ? llabs(br) : rec_beta;
        if (i == PL_NM - 1) { /* the same alpha by least squares, as a cross-check */
            double tt[PL_T_MAX], pp[PL_T_MAX];
            for (size_t k = 0; k < PL_T_MAX; k++) {
                tt[k] = (double)(k + 1);
                pp[k] = (double)P[k];
            }
            if (rnn_fit_line(PL_T_MAX, tt, pp, &ls_slope, NULL, NULL) != RNN_OK)
                ls_slope = NAN;
        }
    }
    double sw[PL_NDT], st[PL_NDT], worst_exp = 0;
    for (size_t k = 0; k < PL_NDT; k++) {
        int rc = dense_exponent(ctx, pl_dense_t[k], &sw[k], &st[k]);
        if (rc != RNN_OK)
            return rnn_check_error(r, rc, "dense:%zu: %s", pl_dense_t[k], rnn_strerror(rc));
        worst_exp = fmax(worst_exp, fabs(sw[k] - 2.0));
    }
    const int exact_ok = worst_resid == 0 && alpha_spread == 0 && beta_off == 0 && rec_beta == 0 &&
                         alpha0 == D_INPUT + 1;
    r->measured = worst_exp;
    r->threshold = PL_EXPONENT_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = exact_ok && worst_exp <= PL_EXPONENT_TOL;
    snprintf(r->detail, sizeof r->detail,
             "qunn (d = %d, t = 1..%d, m = 8..256): P = %lld t + beta(m), residual %lld, alpha "
             "spread over m %lld, beta(m) - m(d+1) = %lld, recurrent part a,c = %lld t + 0 "
             "(offset %lld); least squares at m = 256: alpha = %.12g. dense: slope of log P_W vs "
             "log m = %.4f, %.4f, %.4f at t = 1, 8, 64 (measured: max |slope - 2|); total count "
             "slope %.4f, %.4f, %.4f%s",
             D_INPUT, PL_T_MAX, alpha0, worst_resid, alpha_spread, beta_off, alpha0, rec_beta,
             ls_slope, sw[0], sw[1], sw[2], st[0], st[1], st[2],
             exact_ok ? "" : "; FAILS: the qunn count is not exactly alpha t + beta(m)");
    return RNN_OK;
}

/* ---- qunn.norm-preserving ------------------------------------------------------------------ */

typedef struct {
    size_t m, t;
} qunn_setting;

static const qunn_setting np_settings[] = {{8, RNN_QUNN_DEFAULT_T}, {16, 120}, {16, 200}};
#define NP_NSET (sizeof np_settings / sizeof np_settings[0])

static double norm2(size_t n, const double *x)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * x[i];
    return sqrt(s);
}

/* max_n | ||h_n|| / ||h_0|| - 1 | over NP_STEPS steps from a seeded state (S: (N+1) m). */
static int norm_drift(rnn_cell *c, const rnn_input *in, const double *h0, double *S, double *drift)
{
    const size_t m = c->m;
    int rc = rnn_cell_run(c, in, 0.0, h0, NP_STEPS, S);
    if (rc != RNN_OK)
        return rc;
    const double n0 = norm2(m, h0);
    *drift = 0;
    for (size_t k = 1; k <= NP_STEPS; k++)
        *drift = fmax(*drift, fabs(norm2(m, S + k * m) / n0 - 1.0));
    return RNN_OK;
}

/* max_i |sigma_i(J) - 1| of the step Jacobian at NP_JAC_POINTS seeded (state, input) points. */
static int jacobian_svals(const rnn_check_ctx *ctx, rnn_cell *c, size_t iset, double *dev)
{
    const size_t m = c->m;
    rnn_eig_ws *ws = rnn_eig_ws_alloc(m);
    double *buf = malloc((m * m + 2 * m + D_INPUT) * sizeof(double));
    if (!ws || !buf) {
        rnn_eig_ws_free(ws);
        free(buf);
        return RNN_ENOMEM;
    }
    double *J = buf, *sv = J + m * m, *s = sv + m, *u = s + m;
    int rc = RNN_OK;
    *dev = 0;
    for (unsigned long p = 0; p < NP_JAC_POINTS && rc == RNN_OK; p++) {
        unsigned long seed = rnn_seed_derive(ctx->seed, "qunn.norm-preserving:jac", 10 * iset + p);
        rnn_cell_random_state(c, seed, 1.0, s);
        gsl_rng *g = rnn_rng_alloc(seed, "input", 0);
        if (!g) {
            rc = RNN_ENOMEM;
            break;
        }
        rnn_fill_gaussian(g, 1.0, D_INPUT, u);
        gsl_rng_free(g);
        rc = rnn_cell_step_jacobian(c, 0.0, s, u, J);
        if (rc == RNN_OK)
            rc = rnn_spectrum_svals(ws, J, sv);
        for (size_t i = 0; i < m && rc == RNN_OK; i++)
            *dev = fmax(*dev, fabs(sv[i] - 1.0));
    }
    rnn_eig_ws_free(ws);
    free(buf);
    return rc;
}

int rnn_check_qunn_norm_preserving(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                   rnn_check_result *r)
{
    (void)type;
    double worst_norm = 0, worst_sv = 0, min_inject_move = INFINITY;
    char msg[256];
    for (size_t k = 0; k < NP_NSET; k++) {
        const size_t m = np_settings[k].m, t = np_settings[k].t;
        rnn_cell *c = rnn_check_cell(ctx, rnn_cell_qunn_t(t), m, D_INPUT, "qunn.norm-preserving", k);
        rnn_input *in = rnn_input_alloc_gaussian(RNN_INPUT_HOLD, D_INPUT, NP_STEPS, 0.0, 1.0,
                                                 rnn_seed_derive(ctx->seed, "qunn.norm-preserving:u", k));
        double *S = malloc((NP_STEPS + 2) * m * sizeof(double));
        if (!c || !in || !S) {
            rnn_cell_free(c), rnn_input_free(in), free(S);
            return rnn_check_error(r, RNN_ENOMEM, "out of memory");
        }
        double *h0 = S + (NP_STEPS + 1) * m, drift = 0, sv_dev = 0, with_inject = 0;
        rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "qunn.norm-preserving:h0", k), 1.0, h0);
        /* the singular values at the default injection (it does not depend on h) */
        int rc = jacobian_svals(ctx, c, k, &sv_dev);
        if (rc == RNN_OK)
            rc = norm_drift(c, in, h0, S, &with_inject);
        if (rc == RNN_OK)
            rc = rnn_cell_set_hyper(c, "inject", 0.0, msg, sizeof msg);
        if (rc == RNN_OK)
            rc = norm_drift(c, in, h0, S, &drift);
        rnn_cell_free(c), rnn_input_free(in), free(S);
        if (rc != RNN_OK)
            return rnn_check_error(r, rc, "qunn:%zu, m = %zu: %s", t, m, rnn_strerror(rc));
        worst_norm = fmax(worst_norm, drift);
        worst_sv = fmax(worst_sv, sv_dev);
        min_inject_move = fmin(min_inject_move, with_inject);
    }
    r->measured = fmax(worst_norm, worst_sv);
    r->threshold = NP_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = r->measured <= NP_TOL;
    snprintf(r->detail, sizeof r->detail,
             "(m, t) = (8, %d), (16, 120), (16, 200), %d steps of Gaussian inputs, inject = 0: "
             "max | |h_n|/|h_0| - 1 | = %.2e; max |sigma_i(dh_n/dh) - 1| = %.2e at %d points each; "
             "with the injection on, |h_n|/|h_0| moves by at least %.2g",
             RNN_QUNN_DEFAULT_T, NP_STEPS, worst_norm, worst_sv, NP_JAC_POINTS, min_inject_move);
    return RNN_OK;
}

/* ---- qunn.universal ---------------------------------------------------------------------------- */

/* A Haar-distributed R in SO(m): Q of the QR of a Gaussian matrix, with the columns' signs set
 * so that diag(R) > 0 (this makes Q Haar on O(m), Mezzadri, Notices AMS 54, 2007), then column
 * 0 negated if det Q = -1 (a measure-preserving bijection between the two cosets). */
static int haar_rotation(gsl_rng *g, size_t m, double *R)
{
    gsl_matrix *A = gsl_matrix_alloc(m, m), *Q = gsl_matrix_alloc(m, m), *Rm = gsl_matrix_alloc(m, m);
    gsl_vector *tau = gsl_vector_alloc(m);
    gsl_permutation *perm = gsl_permutation_alloc(m);
    int rc = (A && Q && Rm && tau && perm) ? RNN_OK : RNN_ENOMEM;
    if (rc == RNN_OK) {
        rnn_fill_gaussian(g, 1.0, m * m, A->data);
        if (gsl_linalg_QR_decomp(A, tau) || gsl_linalg_QR_unpack(A, tau, Q, Rm))
            rc = RNN_ESOLVER;
    }
    if (rc == RNN_OK) {
        for (size_t j = 0; j < m; j++)
            if (gsl_matrix_get(Rm, j, j) < 0)
                for (size_t i = 0; i < m; i++)
                    gsl_matrix_set(Q, i, j, -gsl_matrix_get(Q, i, j));
        gsl_matrix_memcpy(A, Q);
        int sgn;
        if (gsl_linalg_LU_decomp(A, perm, &sgn))
            rc = RNN_ESOLVER;
        else if (gsl_linalg_LU_det(A, sgn) < 0)
            for (size_t i = 0; i < m; i++)
                gsl_matrix_set(Q, i, 0, -gsl_matrix_get(Q, i, 0));
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < m; j++)
                R[i * m + j] = gsl_matrix_get(Q, i, j);
    }
    gsl_matrix_free(A), gsl_matrix_free(Q), gsl_matrix_free(Rm);
    gsl_vector_free(tau);
    gsl_permutation_free(perm);
    return rc;
}

/* max |J - R| and max |step(h) - R h| of qunn:<N> programmed with the angles of R. */
static int program_and_compare(const rnn_check_ctx *ctx, size_t m, unsigned long idx,
                               const double *R, const double *theta, double *err)
{
    const size_t n = m * (m - 1) / 2;
    char msg[256];
    rnn_cell *c = rnn_check_cell(ctx, rnn_cell_qunn_t(n), m, D_INPUT, "qunn.universal:cell", idx);
    /* u has m entries: rnn_cell_random_state fills n_state = m (a = 0: its value is unused) */
    double *buf = malloc((m * m + 4 * m + D_INPUT) * sizeof(double));
    if (!c || !buf) {
        rnn_cell_free(c), free(buf);
        return RNN_ENOMEM;
    }
    double *J = buf, *h = J + m * m, *out = h + m, *Rh = out + m, *u = Rh + m;
    int rc = rnn_cell_set_hyper(c, "dt", UNIV_DT, msg, sizeof msg);
    if (rc == RNN_OK)
        rc = rnn_cell_set_hyper(c, "inject", 0.0, msg, sizeof msg);
    if (rc == RNN_OK) {
        const rnn_block *a = rnn_cell_block(c, "a"), *cb = rnn_cell_block(c, "c");
        memset(c->params + a->offset, 0, a->rows * a->cols * sizeof(double));
        for (size_t k = 0; k < n; k++)
            c->params[cb->offset + k] = theta[k] / UNIV_DT;
        rnn_cell_params_changed(c);
        rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "qunn.universal:h", idx), 1.0, h);
        rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "qunn.universal:u", idx), 1.0, u);
        rc = rnn_cell_step_jacobian(c, 0.0, h, u, J);
    }
    if (rc == RNN_OK)
        rc = rnn_cell_step(c, 0.0, h, u, out);
    if (rc == RNN_OK) {
        *err = 0;
        for (size_t i = 0; i < m; i++) {
            Rh[i] = 0;
            for (size_t j = 0; j < m; j++) {
                *err = fmax(*err, fabs(J[i * m + j] - R[i * m + j]));
                Rh[i] += R[i * m + j] * h[j];
            }
            *err = fmax(*err, fabs(out[i] - Rh[i]));
        }
    }
    rnn_cell_free(c), free(buf);
    return rc;
}

int rnn_check_qunn_universal(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                             rnn_check_result *r)
{
    (void)type;
    static const size_t ms[] = {2, 3, 4, 8, 16};
    double worst = 0;
    size_t worst_m = 0, targets = 0;
    for (size_t im = 0; im < sizeof ms / sizeof ms[0]; im++) {
        const size_t m = ms[im], n = m * (m - 1) / 2;
        double *R = malloc((m * m + n) * sizeof(double));
        if (!R)
            return rnn_check_error(r, RNN_ENOMEM, "out of memory");
        double *theta = R + m * m;
        int rc = RNN_OK;
        for (unsigned long k = 0; k < UNIV_TARGETS && rc == RNN_OK; k++) {
            const unsigned long idx = 100 * m + k;
            gsl_rng *g = rnn_rng_alloc(ctx->seed, "qunn.universal:target", idx);
            rc = g ? haar_rotation(g, m, R) : RNN_ENOMEM;
            gsl_rng_free(g);
            if (rc == RNN_OK)
                rc = rnn_qunn_givens_decompose(m, R, theta);
            double err = INFINITY;
            if (rc == RNN_OK)
                rc = program_and_compare(ctx, m, idx, R, theta, &err);
            if (rc == RNN_OK && !(err <= worst)) {
                worst = err;
                worst_m = m;
            }
            targets++;
        }
        free(R);
        if (rc != RNN_OK)
            return rnn_check_error(r, rc, "m = %zu: %s", m, rnn_strerror(rc));
    }
    r->measured = worst;
    r->threshold = UNIV_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = worst <= UNIV_TOL;
    snprintf(r->detail, sizeof r->detail,
             "%zu Haar targets in SO(m), m = 2, 3, 4, 8, 16 (t = m(m-1)/2 up to 120 generators), "
             "Givens angles fed into qunn:<t> (a = 0, c = theta/dt, dt = %g, no injection): "
             "max |J - R|, |step(h) - R h| = %.2e (worst at m = %zu)",
             targets, UNIV_DT, worst, worst_m);
    return RNN_OK;
}
