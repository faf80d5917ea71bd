/*
 * antisym_theorems.c — the AntisymmetricRNN checks of THEORY.md §4.1 (derived in
 * docs/theory/antisym-spectrum.md and docs/theory/pascanu.md).
 *
 *   A = W - W^T (antisymmetric), D = diag(d), d_i = sigma'(a_i) in (0, 1]
 *   antisym.spectrum-imaginary  J = D A (the ODE Jacobian at gamma = 0): max |Re lambda| <=
 *                               1e-10 ||A|| at random states (m = 8, 64, 256) and at every
 *                               step of a driven trajectory (m = 64)
 *   antisym.needs-positive-d    D = diag(1, -1), A = [[0, 1], [-1, 0]]: eigenvalues +-1, so
 *                               max |Re lambda| >= 0.1 ||A||
 *   antisym.diffusion-band      J = D (A - gamma I): -gamma max d <= Re lambda <= -gamma min d
 *                               to 1e-10 ||J||, gamma in {0.01, 0.1, 1}, random states
 *   antisym.euler-unstable      gamma = 0, frozen D: max_i |1 + eps lambda_i(D A)| > 1 for every
 *                               eps of a grid in [1e-3, 1], and ||(I + eps D A)^T|| grows with
 *                               T: at T = 10, 100, 1000 (eps = 0.01) its log lies in the exact band
 *                               [T log rho, T log rho + log kappa_D], kappa_D = sqrt(max d/min d)
 *   antisym.euler-condition     I + eps (A - gamma I): the prediction "spectral radius <= 1 iff
 *                               eps |lambda|^2 <= -2 Re lambda for every eigenvalue of A - gamma I"
 *                               agrees with dgeev on a 41 x 41 (eps, gamma) grid, except within
 *                               1e-9 of the boundary
 *   antisym.long-memory         T = 2000 driven steps (m = 64, eps = gamma = 0.01, sigma_w = 1,
 *                               sines): all singular values of dh_T/dh_0 in [1e-3, 1e3]; the tanh
 *                               cell at dt = 1 with ||W|| = 0.9 loses >= 10 orders over the same T
 *   antisym_gated.positive-real (observation) the share of steps of driven trajectories where
 *                               the gated cell's ODE Jacobian has max Re lambda > 1e-10 ||J||
 *
 * The Jacobians come from the cells' own ode_jacobian and step_jacobian, so the checks test
 * the suite's cells as well as the mathematics.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"
#include "experiments.h"

#define IMAG_TOL 1e-10      /* relative to ||A||: dgeev's backward error is ~ n eps ||J|| */
#define MIXED_MIN 0.1
#define BAND_TOL 1e-10
#define BOUNDARY_GAP 1e-9
#define LONG_T 2000
#define POSITIVE_RE 1e-10   /* relative to ||J||: below it a real part is rounding */

/* Scratch for spectra of n x n matrices. */
typedef struct {
    size_t n;
    rnn_eig_ws *ws;
    double *J, *re, *im, *sv, *s, *s2, *u;
} spec_buf;

static int spec_alloc(spec_buf *b, size_t n, size_t d)
{
    b->n = n;
    b->ws = rnn_eig_ws_alloc(n);
    b->J = malloc((n * n + 5 * n + d) * sizeof(double));
    if (!b->ws || !b->J) {
        rnn_eig_ws_free(b->ws);
        free(b->J);
        return RNN_ENOMEM;
    }
    b->re = b->J + n * n;
    b->im = b->re + n;
    b->sv = b->im + n;
    b->s = b->sv + n;
    b->s2 = b->s + n;
    b->u = b->s2 + n;
    return RNN_OK;
}

static void spec_free(spec_buf *b)
{
    rnn_eig_ws_free(b->ws);
    free(b->J);
}

static double norm2(spec_buf *b, const double *M)
{
    return rnn_spectrum_svals(b->ws, M, b->sv) == RNN_OK ? b->sv[0] : NAN;
}

static double max_abs_re(size_t n, const double *re)
{
    double x = 0;
    for (size_t i = 0; i < n; i++)
        x = fmax(x, fabs(re[i]));
    return x;
}

/* A = W - W^T of the antisym cell c (its derived matrix holds W - W^T - gamma I). */
static void skew_part(const rnn_cell *c, double *A)
{
    const rnn_block *W = rnn_cell_block(c, "W");
    rnn_skew_shift(c->m, c->params + W->offset, 0.0, A);
}

int rnn_check_antisym_imaginary(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                rnn_check_result *r)
{
    (void)type;
    static const size_t ms[] = {8, 64, 256};
    const size_t n_ms = ctx->tier == RNN_TIER_QUICK ? 2 : 3;
    const size_t traj = ctx->tier == RNN_TIER_QUICK ? 50 : 300;
    double worst = 0;
    size_t evaluated = 0;
    char msg[256] = "";
    int rc = RNN_OK;
    for (size_t im = 0; im < n_ms + 1 && rc == RNN_OK; im++) {
        const int driven = im == n_ms;
        const size_t m = driven ? 64 : ms[im];
        rnn_cell *c = rnn_check_cell(ctx, rnn_cell_antisym, m, 2, "antisym.imaginary", im);
        spec_buf b;
        double *A = malloc(m * m * sizeof(double));
        rnn_input *in = rnn_input_alloc_sines(2, rnn_seed_derive(ctx->seed, "antisym.imaginary", im));
        if (!c || !A || !in || spec_alloc(&b, m, 2) != RNN_OK) {
            rnn_cell_free(c), free(A), rnn_input_free(in);
            return rnn_check_error(r, RNN_ENOMEM, "out of memory");
        }
        rc = rnn_cell_set_hyper(c, "gamma", 0.0, msg, sizeof msg);
        skew_part(c, A);
        double nA = norm2(&b, A);
        rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "antisym.imaginary:s", im), 1.0, b.s);
        const size_t count = driven ? traj : 3;
        for (size_t k = 0; k < count && rc == RNN_OK; k++) {
            double t = driven ? (double)k * rnn_cell_dt(c) : 0.0;
            rnn_input_eval(in, t, b.u);
            if (!driven && k > 0)
                rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "antisym.imaginary:s", 10 * im + k), 1.0, b.s);
            rc = rnn_cell_ode_jacobian(c, t, b.s, b.u, b.J);
            if (rc == RNN_OK)
                rc = rnn_spectrum_eigvals(b.ws, b.J, b.re, b.im);
            if (rc == RNN_OK) {
                worst = fmax(worst, max_abs_re(m, b.re) / nA);
                evaluated++;
            }
            if (driven && rc == RNN_OK && (rc = rnn_cell_step(c, t, b.s, b.u, b.s2)) == RNN_OK)
                memcpy(b.s, b.s2, m * sizeof(double));
        }
        spec_free(&b);
        free(A);
        rnn_input_free(in);
        rnn_cell_free(c);
    }
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "%s", msg[0] ? msg : rnn_strerror(rc));
    r->measured = worst;
    r->threshold = IMAG_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = worst <= IMAG_TOL;
    snprintf(r->detail, sizeof r->detail,
             "J = D (W - W^T) from the antisym cell's ODE Jacobian (gamma = 0): max |Re lambda| / ||A|| "
             "= %.2e over %zu matrices (random states at m = 8, 64%s; %zu steps of a driven "
             "trajectory at m = 64)", worst, evaluated, n_ms == 3 ? ", 256" : "", traj);
    return RNN_OK;
}

int rnn_check_antisym_needs_positive_d(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                       rnn_check_result *r)
{
    (void)ctx, (void)type;
    /* J = D A with D = diag(1, -1), A = [[0, 1], [-1, 0]]: J = [[0, 1], [1, 0]]. */
    const double D[2] = {1, -1}, A[4] = {0, 1, -1, 0};
    double J[4], re[2], im[2];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            J[2 * i + j] = D[i] * A[2 * i + j];
    rnn_eig_ws *ws = rnn_eig_ws_alloc(2);
    if (!ws)
        return rnn_check_error(r, RNN_ENOMEM, "out of memory");
    int rc = rnn_spectrum_eigvals(ws, J, re, im);
    rnn_eig_ws_free(ws);
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "dgeev failed on the 2 x 2 example");
    r->measured = max_abs_re(2, re) / 1.0; /* ||A|| = 1 */
    r->threshold = MIXED_MIN;
    r->cmp = RNN_CMP_GE;
    r->pass = r->measured >= MIXED_MIN;
    snprintf(r->detail, sizeof r->detail,
             "D = diag(1, -1), A = [[0, 1], [-1, 0]]: eigenvalues of D A = %.3g%+.3gi, %.3g%+.3gi; "
             "max |Re lambda| / ||A|| = %.3g", re[0], im[0], re[1], im[1], r->measured);
    return RNN_OK;
}

int rnn_check_antisym_diffusion_band(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                     rnn_check_result *r)
{
    (void)type;
    static const double gammas[] = {0.01, 0.1, 1};
    const size_t m = 32;
    rnn_cell *c = rnn_check_cell(ctx, rnn_cell_antisym, m, 2, "antisym.band", 0);
    spec_buf b;
    double *a = malloc(m * sizeof(double));
    if (!c || !a || spec_alloc(&b, m, 2) != RNN_OK) {
        rnn_cell_free(c), free(a);
        return rnn_check_error(r, RNN_ENOMEM, "out of memory");
    }
    const rnn_block *V = rnn_cell_block(c, "V"), *bb = rnn_cell_block(c, "b");
    double worst = 0;
    size_t count = 0;
    char msg[256] = "";
    int rc = RNN_OK;
    for (size_t g = 0; g < 3 && rc == RNN_OK; g++) {
        rc = rnn_cell_set_hyper(c, "gamma", gammas[g], msg, sizeof msg);
        for (unsigned long k = 0; k < 4 && rc == RNN_OK; k++) {
            unsigned long seed = rnn_seed_derive(ctx->seed, "antisym.band:s", 10 * g + k);
            rnn_cell_random_state(c, seed, 1.0, b.s);
            gsl_rng *gr = rnn_rng_alloc(seed, "u", 0);
            rnn_fill_gaussian(gr, 1.0, 2, b.u);
            gsl_rng_free(gr);
            /* d_i = sigma'(a_i), a = (W - W^T - gamma I) h + V u + b, computed here
             * independently of the cell's Jacobian. */
            rnn_gemm_rows(1, m, m, c->derived, b.s, m, 0.0, a);
            rnn_gemm_rows(1, m, 2, c->params + V->offset, b.u, 2, 1.0, a);
            double dmin = INFINITY, dmax = 0;
            for (size_t i = 0; i < m; i++) {
                double th = tanh(a[i] + c->params[bb->offset + i]), d = 1 - th * th;
                dmin = fmin(dmin, d);
                dmax = fmax(dmax, d);
            }
            rc = rnn_cell_ode_jacobian(c, 0.0, b.s, b.u, b.J);
            double nJ = rc == RNN_OK ? norm2(&b, b.J) : NAN;
            if (rc == RNN_OK)
                rc = rnn_spectrum_eigvals(b.ws, b.J, b.re, b.im);
            for (size_t i = 0; i < m && rc == RNN_OK; i++) {
                double lo = -gammas[g] * dmax, hi = -gammas[g] * dmin;
                double out = fmax(lo - b.re[i], b.re[i] - hi);
                worst = fmax(worst, fmax(out, 0) / nJ);
                count++;
            }
        }
    }
    spec_free(&b);
    free(a);
    rnn_cell_free(c);
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "%s", msg[0] ? msg : rnn_strerror(rc));
    r->measured = worst;
    r->threshold = BAND_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = worst <= BAND_TOL;
    snprintf(r->detail, sizeof r->detail,
             "J = D (A - gamma I), m = %zu, gamma 0.01, 0.1, 1, 4 random states each: %zu eigenvalues, "
             "largest distance outside [-gamma max d, -gamma min d] = %.2e ||J||", m, count, worst);
    return RNN_OK;
}

/* ||P^T||_2 for P = I + eps J, by repeated squaring-free multiplication with renormalisation;
 * returns log of the norm at T = 10, 100, 1000. */
static int power_norms(spec_buf *b, const double *P, double *log_norms)
{
    const size_t n = b->n;
    double *M = malloc(2 * n * n * sizeof(double));
    if (!M)
        return RNN_ENOMEM;
    double *M2 = M + n * n, L = 0;
    memcpy(M, P, n * n * sizeof(double));
    size_t next = 0;
    static const size_t Ts[] = {10, 100, 1000};
    for (size_t t = 1; t <= 1000; t++) {
        if (t > 1) {
            rnn_gemm_rows(n, n, n, P, M, n, 0.0, M2); /* rows of M2 = P applied to rows of M */
            double *tmp = M;
            M = M2;
            M2 = tmp;
            double s = fabs(M[0]);
            for (size_t i = 1; i < n * n; i++)
                s = fmax(s, fabs(M[i]));
            for (size_t i = 0; i < n * n; i++)
                M[i] /= s;
            L += log(s);
        }
        if (t == Ts[next])
            log_norms[next++] = L + log(norm2(b, M));
    }
    free(M < M2 ? M : M2);
    return RNN_OK;
}

int rnn_check_antisym_euler_unstable(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                     rnn_check_result *r)
{
    (void)type;
    const size_t m = 16, n_eps = 31;
    rnn_cell *c = rnn_check_cell(ctx, rnn_cell_antisym, m, 2, "antisym.euler-unstable", 0);
    spec_buf b;
    double *P = malloc(m * m * sizeof(double));
    if (!c || !P || spec_alloc(&b, m, 2) != RNN_OK) {
        rnn_cell_free(c), free(P);
        return rnn_check_error(r, RNN_ENOMEM, "out of memory");
    }
    char msg[256] = "";
    int rc = rnn_cell_set_hyper(c, "gamma", 0.0, msg, sizeof msg);
    rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "antisym.euler-unstable", 1), 1.0, b.s);
    memset(b.u, 0, 2 * sizeof(double));
    double min_excess = INFINITY, min_eps = NAN, growth[3] = {NAN, NAN, NAN};
    if (rc == RNN_OK)
        rc = rnn_cell_ode_jacobian(c, 0.0, b.s, b.u, b.J); /* J = D A, frozen */
    if (rc == RNN_OK)
        rc = rnn_spectrum_eigvals(b.ws, b.J, b.re, b.im);
    for (size_t e = 0; e < n_eps && rc == RNN_OK; e++) {
        double eps = pow(10.0, -3.0 + 3.0 * (double)e / (double)(n_eps - 1));
        double rho = 0;
        for (size_t i = 0; i < m; i++)
            rho = fmax(rho, hypot(1 + eps * b.re[i], eps * b.im[i]));
        /* log rho > 0: the excess over 1, which at eps = 1e-3 is ~ eps^2 omega^2 / 2 ~ 1e-6 */
        double excess = log(rho);
        if (excess < min_excess) {
            min_excess = excess;
            min_eps = eps;
        }
    }
    /* Growth: I + eps D A = D^{1/2} (I + eps D^{1/2} A D^{1/2}) D^{-1/2} with a normal middle
     * factor, so T log rho <= log ||(I + eps D A)^T|| <= T log rho + log kappa_D exactly,
     * kappa_D = sqrt(max d / min d): the norm grows like rho^T > 1 up to a bounded factor. */
    const double eps_g = 0.01;
    double log_rho = 0, log_kappa = NAN, worst_out = 0;
    if (rc == RNN_OK) {
        for (size_t i = 0; i < m; i++)
            log_rho = fmax(log_rho, 0.5 * log1p(eps_g * eps_g * (b.re[i] * b.re[i] + b.im[i] * b.im[i]) +
                                                2 * eps_g * b.re[i]));
        const rnn_block *Wb = rnn_cell_block(c, "W"), *bb = rnn_cell_block(c, "b");
        double *A = malloc(2 * m * m * sizeof(double)), dmin = INFINITY, dmax = 0;
        rc = A ? RNN_OK : RNN_ENOMEM;
        if (A) {
            rnn_skew_shift(m, c->params + Wb->offset, 0.0, A); /* u = 0: a = A h + b */
            rnn_gemm_rows(1, m, m, A, b.s, m, 0.0, A + m * m);
            for (size_t i = 0; i < m; i++) {
                double th = tanh(A[m * m + i] + c->params[bb->offset + i]), d = 1 - th * th;
                dmin = fmin(dmin, d);
                dmax = fmax(dmax, d);
            }
            free(A);
            log_kappa = 0.5 * log(dmax / dmin);
        }
        for (size_t i = 0; i < m * m; i++)
            P[i] = eps_g * b.J[i] + (i % (m + 1) == 0 ? 1.0 : 0.0);
        if (rc == RNN_OK)
            rc = power_norms(&b, P, growth);
        static const double Ts[] = {10, 100, 1000};
        for (int j = 0; j < 3 && rc == RNN_OK; j++) {
            double lo = Ts[j] * log_rho, hi = lo + log_kappa, x = growth[j];
            worst_out = fmax(worst_out, fmax(lo - x, x - hi) / fmax(1.0, fabs(lo)));
        }
    }
    int grows = log_rho > 0 && worst_out <= 1e-10 && growth[2] > growth[0];
    spec_free(&b);
    free(P);
    rnn_cell_free(c);
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "%s", msg[0] ? msg : rnn_strerror(rc));
    r->measured = min_excess;
    r->threshold = 0;
    r->cmp = RNN_CMP_GE;
    r->pass = min_excess > 0 && grows;
    snprintf(r->detail, sizeof r->detail,
             "gamma = 0, m = %zu, frozen D: min over %zu eps in [1e-3, 1] of log max|1 + eps lambda| "
             "= %.3e (at eps = %.3g; must be > 0); log ||(I + 0.01 D A)^T|| = %.4f, %.4f, %.4f at "
             "T = 10, 100, 1000 against [T log rho, T log rho + log kappa_D] with log rho = %.3e, "
             "log kappa_D = %.3f%s", m, n_eps, min_excess, min_eps, growth[0], growth[1], growth[2],
             log_rho, log_kappa, grows ? " (inside: grows like rho^T)" : " — OUTSIDE the band");
    return RNN_OK;
}

int rnn_check_antisym_euler_condition(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                      rnn_check_result *r)
{
    (void)type;
    const size_t m = 16, G = 41;
    rnn_cell *c = rnn_check_cell(ctx, rnn_cell_antisym, m, 2, "antisym.euler-condition", 0);
    spec_buf b;
    double *A = malloc(2 * m * m * sizeof(double));
    if (!c || !A || spec_alloc(&b, m, 2) != RNN_OK) {
        rnn_cell_free(c), free(A);
        return rnn_check_error(r, RNN_ENOMEM, "out of memory");
    }
    double *P = A + m * m, *om = malloc(m * sizeof(double));
    skew_part(c, A);
    int rc = om ? rnn_spectrum_eigvals(b.ws, A, b.re, om) : RNN_ENOMEM; /* i omega_j */
    size_t disagree = 0, skipped = 0, stable = 0;
    for (size_t ie = 0; ie < G && rc == RNN_OK; ie++)
        for (size_t ig = 0; ig < G && rc == RNN_OK; ig++) {
            double eps = 0.01 + (1.0 - 0.01) * (double)ie / (double)(G - 1);
            double gamma = 4.0 * (double)ig / (double)(G - 1);
            /* Prediction: every lambda = -gamma + i omega_j satisfies eps |lambda|^2 <= -2 Re lambda. */
            double slack = -INFINITY;
            for (size_t j = 0; j < m; j++)
                slack = fmax(slack, eps * (gamma * gamma + om[j] * om[j]) - 2 * gamma);
            for (size_t i = 0; i < m * m; i++)
                P[i] = eps * A[i] + (i % (m + 1) == 0 ? 1.0 - eps * gamma : 0.0);
            double rho;
            rc = rnn_spectrum_radius(b.ws, P, &rho, NULL);
            /* Near the boundary both sides are rounding: skip within BOUNDARY_GAP. */
            if (fabs(slack) < BOUNDARY_GAP || fabs(rho - 1) < BOUNDARY_GAP) {
                skipped++;
                continue;
            }
            int predicted = slack <= 0, computed = rho <= 1;
            stable += computed;
            disagree += predicted != computed;
        }
    free(om);
    spec_free(&b);
    free(A);
    rnn_cell_free(c);
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "dgeev failed: %s", rnn_strerror(rc));
    r->measured = (double)disagree;
    r->threshold = 0;
    r->cmp = RNN_CMP_LE;
    r->pass = disagree == 0 && stable > 0 && stable < G * G - skipped;
    snprintf(r->detail, sizeof r->detail,
             "I + eps (A - gamma I), m = %zu, 41 x 41 grid eps in [0.01, 1], gamma in [0, 4]: %zu "
             "disagreements, %zu stable and %zu unstable points, %zu within %.0e of the boundary",
             m, disagree, stable, G * G - skipped - stable, skipped, BOUNDARY_GAP);
    return RNN_OK;
}

/* All singular values of d h_T / d h_0 for cell c over T driven steps: log of the largest and
 * the smallest. */
static int product_svals(rnn_cell *c, const rnn_input *in, const double *s0, size_t T,
                         double *log_max, double *log_min, char *msg, size_t len)
{
    const size_t n = c->n_state;
    spec_buf b;
    if (spec_alloc(&b, n, c->d) != RNN_OK)
        return RNN_ENOMEM;
    double *M = malloc(n * n * sizeof(double)), L = 0;
    int rc = M ? rnn_grad_product(c, in, s0, T, M, &L, NULL, msg, len) : RNN_ENOMEM;
    if (rc == RNN_OK)
        rc = rnn_spectrum_svals(b.ws, M, b.sv);
    if (rc == RNN_OK) {
        *log_max = L + log(b.sv[0]);
        *log_min = L + log(b.sv[n - 1]);
    }
    free(M);
    spec_free(&b);
    return rc;
}

int rnn_check_antisym_long_memory(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                  rnn_check_result *r)
{
    (void)type;
    const size_t m = 64;
    char msg[512] = "";
    rnn_cell *a = rnn_check_cell(ctx, rnn_cell_antisym, m, 2, "antisym.long-memory", 0);
    rnn_cell *t = rnn_check_cell(ctx, rnn_cell_tanh, m, 2, "antisym.long-memory", 1);
    rnn_input *in = rnn_input_alloc_sines(2, rnn_seed_derive(ctx->seed, "antisym.long-memory", 2));
    double *s0 = malloc(m * sizeof(double)), *sv = malloc(m * sizeof(double));
    rnn_eig_ws *ws = rnn_eig_ws_alloc(m);
    int rc = a && t && in && s0 && sv && ws ? RNN_OK : RNN_ENOMEM;
    const char *set_a[] = {"eps=0.01", "gamma=0.01", "wscale=1"};
    if (rc == RNN_OK)
        rc = rnn_cell_set_assignments(a, 3, set_a, msg, sizeof msg);
    if (rc == RNN_OK) {
        rnn_cell_init(a, rnn_seed_derive(ctx->seed, "antisym.long-memory:w", 0));
        rc = rnn_cell_set_hyper(t, "dt", 1.0, msg, sizeof msg);
    }
    if (rc == RNN_OK) { /* tanh: W scaled to ||W||_2 = 0.9 */
        const rnn_block *W = rnn_cell_block(t, "W");
        rc = rnn_spectrum_svals(ws, t->params + W->offset, sv);
        for (size_t i = 0; i < m * m && rc == RNN_OK; i++)
            t->params[W->offset + i] *= 0.9 / sv[0];
        rnn_cell_params_changed(t);
    }
    double amax = NAN, amin = NAN, tmax = NAN, tmin = NAN;
    if (rc == RNN_OK) {
        rnn_cell_random_state(a, rnn_seed_derive(ctx->seed, "antisym.long-memory:s", 0), 0.5, s0);
        rc = product_svals(a, in, s0, LONG_T, &amax, &amin, msg, sizeof msg);
    }
    if (rc == RNN_OK)
        rc = product_svals(t, in, s0, LONG_T, &tmax, &tmin, msg, sizeof msg);
    free(s0);
    free(sv);
    rnn_eig_ws_free(ws);
    rnn_input_free(in);
    rnn_cell_free(a);
    rnn_cell_free(t);
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "%s", msg[0] ? msg : rnn_strerror(rc));
    /* Measured: the antisym singular values' largest distance from 1 in decades (<= 3). */
    double dec = fmax(fabs(amax), fabs(amin)) / M_LN10, tanh_loss = -tmax / M_LN10;
    r->measured = dec;
    r->threshold = 3;
    r->cmp = RNN_CMP_LE;
    r->pass = dec <= 3 && tanh_loss >= 10;
    snprintf(r->detail, sizeof r->detail,
             "T = %d, m = %zu: antisym (eps = gamma = 0.01) singular values of dh_T/dh_0 in "
             "[10^%.3f, 10^%.3f]; tanh (dt = 1, ||W|| = 0.9) largest 10^%.1f (loses %.1f orders; "
             "must lose >= 10)", LONG_T, m, amin / M_LN10, amax / M_LN10, tmax / M_LN10, tanh_loss);
    return RNN_OK;
}

int rnn_check_antisym_gated_positive(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                     rnn_check_result *r)
{
    (void)type;
    const size_t m = 32, steps = 500, seeds = 4;
    size_t positive = 0, total = 0;
    double worst = -INFINITY;
    int rc = RNN_OK;
    for (size_t k = 0; k < seeds && rc == RNN_OK; k++) {
        rnn_cell *c = rnn_check_cell(ctx, rnn_cell_antisym_gated, m, 2, "antisym_gated.positive", k);
        rnn_input *in = rnn_input_alloc_sines(2, rnn_seed_derive(ctx->seed, "antisym_gated.positive", k));
        spec_buf b;
        if (!c || !in || spec_alloc(&b, m, 2) != RNN_OK) {
            rnn_cell_free(c), rnn_input_free(in);
            return rnn_check_error(r, RNN_ENOMEM, "out of memory");
        }
        rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "antisym_gated.positive:s", k), 0.5, b.s);
        for (size_t n = 0; n < steps && rc == RNN_OK; n++) {
            double t = (double)n * rnn_cell_dt(c);
            rnn_input_eval(in, t, b.u);
            rc = rnn_cell_ode_jacobian(c, t, b.s, b.u, b.J);
            double nJ = rc == RNN_OK ? norm2(&b, b.J) : NAN;
            if (rc == RNN_OK)
                rc = rnn_spectrum_eigvals(b.ws, b.J, b.re, b.im);
            if (rc == RNN_OK) {
                positive += b.re[0] > POSITIVE_RE * nJ;
                worst = fmax(worst, b.re[0] / nJ);
                total++;
                if ((rc = rnn_cell_step(c, t, b.s, b.u, b.s2)) == RNN_OK)
                    memcpy(b.s, b.s2, m * sizeof(double));
            }
        }
        spec_free(&b);
        rnn_input_free(in);
        rnn_cell_free(c);
    }
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "%s", rnn_strerror(rc));
    r->measured = (double)positive / (double)total;
    r->threshold = 0;
    r->cmp = RNN_CMP_GE;
    r->pass = 1;
    snprintf(r->detail, sizeof r->detail,
             "antisym_gated (defaults, m = %zu, %zu driven trajectories of %zu steps): %zu of %zu "
             "steps have max Re lambda(J) > %.0e ||J||; the largest max Re lambda / ||J|| is %.3g",
             m, seeds, steps, positive, total, POSITIVE_RE, worst);
    return RNN_OK;
}
