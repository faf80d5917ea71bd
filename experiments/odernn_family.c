/*
 * odernn_family.c — the checks of THEORY.md §5.1 (n: stages, rk:<tableau>:<cell>) and §5.2
 * (t: memory, ms:<method>:<cell>); derivations in docs/theory/odernn-family.md.
 *
 *   odernn.stage-order.<tab>          rk:<tab>:tanh and rk:<tab>:cornn converge with the
 *                                     tableau's order (the order.* criterion, both cells)
 *   odernn.stability-function.<tab>   on h' = A h, A = [[a, -b], [b, a]] (eigenvalues a +- i b),
 *                                     one step of rk:<tab>:linear at dt = 1 multiplies by
 *                                     R(a + i b): the step applied to e_1 and the eigenvalues of
 *                                     the step Jacobian against rnn_tableau_stability
 *   odernn.equilibrium-spectrum       at an ODE equilibrium s* (KINSOL) the eigenvalues of the
 *                                     rk step Jacobian are R(dt lambda_i(J_f(s*)))
 *   odernn.memory-order.<method>      ms:<method>:tanh converges with rnn_multistep_order
 *   odernn.root-condition.<method>    the companion matrix's spectral radius rho predicts the
 *                                     sign of the growth rate of ms:<method>:linear over 10^4
 *                                     steps; leapfrog and diff2: the exact |roots| = 1 sets
 */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lapacke.h>
#include "analysis.h"
#include "experiments.h"

/* R(z) by the step against R(z) by forward substitution (rnn_tableau_stability): two
 * evaluations of the same polynomial of degree s <= 13 with |z| <= 6.4 in different orders;
 * their rounding is ~ s eps max_k |coefficient_k z^k| ~ 1e-14 relative to max(1, |R|), so
 * 1e-12 leaves a margin of 100 while a wrong stage coefficient is an O(|z|^k / k!) error. */
#define STABFN_TOL 1e-12
/* Eigenvalues of the step Jacobian at s* against R(dt lambda_i): dgeev's error is ~ eps
 * ||J|| times the eigenvalue condition number (the tanh Jacobian -I + D W is non-normal, with
 * condition numbers ~ 10-100 at m = 8), ~ 1e-13; 1e-9 relative to the largest modulus. */
#define EQSPEC_TOL 1e-9
/* Growth rates over N steps equal log rho up to (log cond + (multiplicity - 1) log N) / N
 * ~ 1e-3 (N = 10^4, double roots, eigenvector condition <= 1e3); points with |log rho| below
 * this band are left out of the sign comparison (there the sign is set by transients and
 * polynomial factors, not by rho). */
#define GROWTH_BAND 1e-2
#define GROWTH_STEPS 10000
/* |roots| = 1 tested as max_i ||zeta_i| - 1| <= ROOT_TOL: zgeev resolves simple roots to
 * ~ eps / separation (separation >= 0.3 on the grids below, which avoid the double roots at
 * the endpoints), while every grid point off the set has a root at distance >= 1e-2. */
#define ROOT_TOL 1e-10

/* ---- shared helpers ----------------------------------------------------------------------- */

/* Greedy matching of two n-sets of complex numbers: each a_i (in order of decreasing modulus)
 * takes the nearest unused b_j. Returns the largest distance, an upper bound on the optimal
 * (bottleneck) matching's, so a wrong verdict can only be a false failure. */
static double match_sets(size_t n, const double *are, const double *aim, const double *bre,
                         const double *bim, char *used)
{
    double worst = 0;
    memset(used, 0, n);
    for (size_t k = 0; k < n; k++) {
        size_t i = 0;
        double big = -1;
        for (size_t q = 0; q < n; q++) /* the unmatched a with the largest modulus */
            if (!(used[q] & 2) && hypot(are[q], aim[q]) > big) {
                big = hypot(are[q], aim[q]);
                i = q;
            }
        used[i] |= 2;
        size_t best = 0;
        double dmin = INFINITY;
        for (size_t j = 0; j < n; j++)
            if (!(used[j] & 1) && hypot(are[i] - bre[j], aim[i] - bim[j]) < dmin) {
                dmin = hypot(are[i] - bre[j], aim[i] - bim[j]);
                best = j;
            }
        used[best] |= 1;
        worst = fmax(worst, dmin);
    }
    return worst;
}

/* A = [[a, -b], [b, a]], B = 0 on a linear cell (or family) with m = 2, d = 1. */
static void set_rotation_decay(rnn_cell *c, double a, double b)
{
    const rnn_block *A = rnn_cell_block(c, "A"), *B = rnn_cell_block(c, "B");
    double *Am = c->params + A->offset;
    Am[0] = a;
    Am[1] = -b;
    Am[2] = b;
    Am[3] = a;
    memset(c->params + B->offset, 0, B->rows * B->cols * sizeof(double));
    rnn_cell_params_changed(c);
}

/* ---- odernn.stage-order.<tableau> -------------------------------------------------------- */

int rnn_check_odernn_stage_order(const rnn_check_ctx *ctx, const rnn_cell_type *unused,
                                 rnn_check_result *r)
{
    (void)unused;
    static const char *const bases[] = {"tanh", "cornn"};
    char msg[512];
    double worst = 0;
    int all = 1;
    r->threshold = RNN_ORDER_TOL;
    r->cmp = RNN_CMP_LE;
    for (size_t i = 0; i < 2; i++) {
        const rnn_cell_type *T = rnn_rk_type(ctx->instance, bases[i], msg, sizeof msg);
        if (!T)
            return rnn_check_error(r, RNN_EINVAL, "%s", msg);
        rnn_order_outcome oc;
        int rc = rnn_order_study(ctx, T, T->order, &oc, msg, sizeof msg);
        if (rc != RNN_OK)
            return rnn_check_error(r, rc, "%s: %s", T->name, msg);
        worst = fmax(worst, oc.deviation);
        all = all && oc.pass;
        size_t used = strlen(r->detail);
        snprintf(r->detail + used, sizeof r->detail - used, "%s%s: %s", i ? " | " : "",
                 bases[i], oc.detail);
    }
    r->measured = worst;
    r->pass = all;
    return RNN_OK;
}

/* ---- odernn.stability-function.<tableau> ------------------------------------------------- */

int rnn_check_odernn_stability_function(const rnn_check_ctx *ctx, const rnn_cell_type *unused,
                                        rnn_check_result *r)
{
    (void)unused;
    char msg[512];
    const rnn_tableau *tab = rnn_tableau_find(ctx->instance);
    const rnn_cell_type *T = rnn_rk_type(ctx->instance, "linear", msg, sizeof msg);
    if (!T || !tab)
        return rnn_check_error(r, RNN_EINVAL, "%s", msg);
    rnn_cell *c = rnn_check_cell(ctx, T, 2, 1, "odernn.stability-function", 0);
    rnn_eig_ws *ws = rnn_eig_ws_alloc(2);
    if (!c || !ws) {
        rnn_cell_free(c);
        rnn_eig_ws_free(ws);
        return rnn_check_error(r, RNN_ENOMEM, "out of memory");
    }
    rnn_cell_set_dt(c, 1.0); /* z = dt lambda = lambda */
    const double e1[2] = {1.0, 0.0}, u0[1] = {0.0};
    double worst_step = 0, worst_eig = 0, wz_re = 0, wz_im = 0;
    size_t points = 0;
    int rc = RNN_OK;
    /* z = a + i b on [-5, 1] x [-4, 4], step 0.5: inside and well outside every region. */
    for (int ia = 0; ia <= 12 && rc == RNN_OK; ia++)
        for (int ib = 0; ib <= 16 && rc == RNN_OK; ib++) {
            const double a = -5.0 + 0.5 * ia, b = -4.0 + 0.5 * ib;
            set_rotation_decay(c, a, b);
            double Rre, Rim, out[2], J[4], re[2], im[2];
            rnn_tableau_stability(tab, a, b, &Rre, &Rim);
            const double scale = fmax(1.0, hypot(Rre, Rim));
            rc = rnn_cell_step(c, 0.0, e1, u0, out); /* R(A) e1 = (Re R, Im R) */
            if (rc == RNN_OK)
                rc = rnn_cell_step_jacobian(c, 0.0, e1, u0, J);
            if (rc == RNN_OK)
                rc = rnn_spectrum_eigvals(ws, J, re, im);
            if (rc != RNN_OK)
                break;
            double es = hypot(out[0] - Rre, out[1] - Rim) / scale;
            const double pre[2] = {Rre, Rre}, pim[2] = {Rim, -Rim};
            char used[2];
            double ee = match_sets(2, re, im, pre, pim, used) / scale;
            if (fmax(es, ee) > fmax(worst_step, worst_eig)) {
                wz_re = a;
                wz_im = b;
            }
            worst_step = fmax(worst_step, es);
            worst_eig = fmax(worst_eig, ee);
            points++;
        }
    rnn_cell_free(c);
    rnn_eig_ws_free(ws);
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "%s: %s", T->name, rnn_strerror(rc));
    r->measured = fmax(worst_step, worst_eig);
    r->threshold = STABFN_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = r->measured <= STABFN_TOL;
    snprintf(r->detail, sizeof r->detail,
             "%s (%zu stages): max |step - R| %.1e, max |eig(J) - {R, conj R}| %.1e relative to "
             "max(1, |R|) over %zu points z in [-5, 1] x i[-4, 4] (worst at z = %g%+gi)",
             tab->name, tab->s, worst_step, worst_eig, points, wz_re, wz_im);
    return RNN_OK;
}

/* ---- odernn.equilibrium-spectrum ---------------------------------------------------------- */

#define EQ_M 8
#define EQ_D 2
#define EQ_STARTS 8

/* One (tableau, cell) pair: the relative mismatch at the first equilibrium found. */
static int equilibrium_pair(const rnn_check_ctx *ctx, const char *tab_name, const char *cell,
                            unsigned long index, double *err, char *msg, size_t len)
{
    const rnn_cell_type *T = rnn_rk_type(tab_name, cell, msg, len);
    const rnn_tableau *tab = rnn_tableau_find(tab_name);
    if (!T || !tab)
        return RNN_EINVAL;
    /* The same weights and input for every tableau: index names the base cell. */
    rnn_cell *c = rnn_check_cell(ctx, T, EQ_M, EQ_D, "odernn.equilibrium-spectrum", index);
    const size_t n = c ? c->n_state : 0;
    rnn_fixedpoint_set *set = c ? rnn_fixedpoint_set_alloc(n, EQ_STARTS) : NULL;
    rnn_eig_ws *ws = c ? rnn_eig_ws_alloc(n) : NULL;
    double *buf = c ? malloc((2 * n * n + 6 * n) * sizeof(double)) : NULL;
    char *used = malloc(n ? n : 1);
    int rc = (c && set && ws && buf && used) ? RNN_OK : RNN_ENOMEM;
    if (rc == RNN_OK) {
        double *J = buf, *Jf = J + n * n, *lre = Jf + n * n, *lim = lre + n, *mre = lim + n,
               *mim = mre + n, *Rre = mim + n, *Rim = Rre + n;
        double u[EQ_D];
        gsl_rng *g = rnn_rng_alloc(ctx->seed, "odernn.equilibrium-spectrum:u", index);
        if (!g)
            rc = RNN_ENOMEM;
        else {
            rnn_fill_gaussian(g, 1.0, EQ_D, u);
            gsl_rng_free(g);
        }
        rnn_fixedpoint_opts o;
        rnn_fixedpoint_opts_default(&o);
        o.seed = rnn_seed_derive(ctx->seed, "odernn.equilibrium-spectrum:start", index);
        if (rc == RNN_OK)
            rc = rnn_fixedpoint_find(c, RNN_FP_ODE, u, 0.0, EQ_STARTS, &o, set, msg, len);
        const double *s = set->s, dt = rnn_cell_dt(c);
        /* The signal is unbound: every stage sees the constant u (cell.h). */
        if (rc == RNN_OK)
            rc = rnn_cell_ode_jacobian(c, 0.0, s, u, Jf);
        if (rc == RNN_OK)
            rc = rnn_cell_step_jacobian(c, 0.0, s, u, J);
        if (rc == RNN_OK)
            rc = rnn_spectrum_eigvals(ws, Jf, lre, lim);
        if (rc == RNN_OK)
            rc = rnn_spectrum_eigvals(ws, J, mre, mim);
        if (rc == RNN_OK) {
            double big = 0;
            for (size_t i = 0; i < n; i++) {
                rnn_tableau_stability(tab, dt * lre[i], dt * lim[i], &Rre[i], &Rim[i]);
                big = fmax(big, hypot(mre[i], mim[i]));
            }
            *err = match_sets(n, Rre, Rim, mre, mim, used) / (big > 0 ? big : 1.0);
        } else if (!*msg)
            snprintf(msg, len, "%s: %s", T->name, rnn_strerror(rc));
    }
    rnn_cell_free(c);
    rnn_fixedpoint_set_free(set);
    rnn_eig_ws_free(ws);
    free(buf);
    free(used);
    return rc;
}

int rnn_check_odernn_equilibrium_spectrum(const rnn_check_ctx *ctx, const rnn_cell_type *unused,
                                          rnn_check_result *r)
{
    (void)unused;
    static const char *const tabs[] = {"euler", "heun", "kutta3", "rk4", "dormand_prince_7_4_5",
                                       "verner_8_5_6"};
    static const char *const cells[] = {"tanh", "antisym", "cornn"};
    const size_t nt = sizeof tabs / sizeof tabs[0], nc = sizeof cells / sizeof cells[0];
    double worst = 0;
    const char *wt = "", *wc = "";
    char msg[512] = "";
    for (size_t ic = 0; ic < nc; ic++)
        for (size_t it = 0; it < nt; it++) {
            double e = NAN;
            int rc = equilibrium_pair(ctx, tabs[it], cells[ic], ic, &e, msg, sizeof msg);
            if (rc != RNN_OK)
                return rnn_check_error(r, rc, "rk:%s:%s: %s", tabs[it], cells[ic], msg);
            if (!(e <= worst)) {
                worst = e;
                wt = tabs[it];
                wc = cells[ic];
            }
        }
    r->measured = worst;
    r->threshold = EQSPEC_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = worst <= EQSPEC_TOL;
    snprintf(r->detail, sizeof r->detail,
             "max_i |mu_i - R(dt lambda_i)| / max |mu| over %zu tableaux x {tanh, antisym, cornn} "
             "(m = %d, default dt, constant seeded input, KINSOL equilibrium): worst %.1e at "
             "rk:%s:%s", nt, EQ_M, worst, wt, wc);
    return RNN_OK;
}

/* ---- odernn.memory-order.<method> --------------------------------------------------------- */

int rnn_check_odernn_memory_order(const rnn_check_ctx *ctx, const rnn_cell_type *unused,
                                  rnn_check_result *r)
{
    (void)unused;
    char msg[512];
    const rnn_multistep_method *M = rnn_multistep_find(ctx->instance);
    const rnn_cell_type *T = rnn_ms_type(ctx->instance, "tanh", msg, sizeof msg);
    if (!T || !M)
        return rnn_check_error(r, RNN_EINVAL, "%s", msg);
    rnn_order_outcome oc;
    const int p = rnn_multistep_order(M);
    int rc = rnn_order_study(ctx, T, p, &oc, msg, sizeof msg);
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "%s: %s", T->name, msg);
    r->measured = oc.deviation;
    r->threshold = RNN_ORDER_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = oc.pass;
    snprintf(r->detail, sizeof r->detail, "%s (q = %d, %zu past states): %s", T->name, M->q,
             M->h, oc.detail);
    return RNN_OK;
}

/* ---- odernn.root-condition.<method> ------------------------------------------------------- */

/* The roots of the characteristic polynomial at z: eigenvalues of the companion matrix. */
static int char_roots(const rnn_multistep_method *M, double zre, double zim, double complex *w)
{
    double C[2 * 4 * 4];
    rnn_multistep_companion(M, zre, zim, C);
    lapack_int info = LAPACKE_zgeev(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)M->h,
                                    (lapack_complex_double *)C, (lapack_int)M->h,
                                    (lapack_complex_double *)w, NULL, 1, NULL, 1);
    return info == 0 ? RNN_OK : RNN_ESOLVER;
}

static double spectral_radius(size_t h, const double complex *w)
{
    double rho = 0;
    for (size_t i = 0; i < h; i++)
        rho = fmax(rho, cabs(w[i]));
    return rho;
}

static double norm2(size_t n, const double *x)
{
    double v = 0;
    for (size_t i = 0; i < n; i++)
        v = hypot(v, x[i]);
    return v;
}

/* Mean log growth per step of the state over GROWTH_STEPS steps with u = 0, renormalised every
 * step (the recursion is linear, so this is exact and cannot overflow). -INFINITY when the
 * state becomes exactly 0 (a nilpotent companion, e.g. diff1 at z = -1). */
static int growth_rate(const rnn_cell *c, const double *s0, double *s, double *tmp,
                       double *rate)
{
    const size_t n = c->n_state;
    const double u0[1] = {0.0};
    double logsum = 0, nrm = norm2(n, s0);
    for (size_t i = 0; i < n; i++)
        s[i] = s0[i] / nrm;
    for (size_t k = 0; k < GROWTH_STEPS; k++) {
        int rc = rnn_cell_step(c, (double)k, s, u0, tmp);
        if (rc != RNN_OK)
            return rc;
        nrm = norm2(n, tmp);
        if (nrm == 0) {
            *rate = -INFINITY;
            return RNN_OK;
        }
        logsum += log(nrm);
        for (size_t i = 0; i < n; i++)
            s[i] = tmp[i] / nrm;
    }
    *rate = logsum / GROWTH_STEPS;
    return RNN_OK;
}

/* 1 if every root has modulus 1 (to ROOT_TOL). */
static int all_on_circle(const rnn_multistep_method *M, double zre, double zim, int *rc)
{
    double complex w[4];
    *rc = char_roots(M, zre, zim, w);
    double dev = 0;
    for (size_t i = 0; i < M->h; i++)
        dev = fmax(dev, fabs(cabs(w[i]) - 1.0));
    return dev <= ROOT_TOL;
}

/* The exact statements on grids that avoid the endpoints (double roots on the unit circle,
 * where |roots| = 1 holds but the root condition fails: docs/theory/odernn-family.md):
 *   leapfrog: |roots| = 1 iff z in i(-1, 1);  grid z = 0.07 (j + i k), |j| <= 15, |k| <= 21;
 *   diff2:    |roots| = 1 iff z in (-4, 0);   grid z = 0.07 j + 0.035 + 0.07 i k, j in
 *             [-72, 14], |k| <= 10 (the real line k = 0 included, 0 and -4 never hit).
 * Returns the number of grid points where the statement fails; *points the grid size. */
static int exact_statement(const rnn_multistep_method *M, size_t *points, size_t *wrong)
{
    int rc = RNN_OK;
    *points = *wrong = 0;
    if (strcmp(M->name, "leapfrog") == 0) {
        for (int j = -15; j <= 15 && rc == RNN_OK; j++)
            for (int k = -21; k <= 21 && rc == RNN_OK; k++) {
                const double zre = 0.07 * j, zim = 0.07 * k;
                int predicted = j == 0 && fabs(zim) < 1.0;
                int on = all_on_circle(M, zre, zim, &rc);
                (*points)++;
                *wrong += on != predicted;
            }
    } else if (strcmp(M->name, "diff2") == 0) {
        for (int j = -72; j <= 14 && rc == RNN_OK; j++)
            for (int k = -10; k <= 10 && rc == RNN_OK; k++) {
                const double zre = 0.07 * j + 0.035, zim = 0.07 * k;
                int predicted = k == 0 && zre > -4.0 && zre < 0.0;
                int on = all_on_circle(M, zre, zim, &rc);
                (*points)++;
                *wrong += on != predicted;
            }
    }
    return rc;
}

int rnn_check_odernn_root_condition(const rnn_check_ctx *ctx, const rnn_cell_type *unused,
                                    rnn_check_result *r)
{
    (void)unused;
    char msg[512];
    const rnn_multistep_method *M = rnn_multistep_find(ctx->instance);
    const rnn_cell_type *T = rnn_ms_type(ctx->instance, "linear", msg, sizeof msg);
    if (!T || !M)
        return rnn_check_error(r, RNN_EINVAL, "%s", msg);
    rnn_cell *c = rnn_check_cell(ctx, T, 2, 1, "odernn.root-condition", 0);
    const size_t n = c ? c->n_state : 0;
    double *buf = c ? malloc(3 * n * sizeof(double)) : NULL;
    if (!buf) {
        rnn_cell_free(c);
        return rnn_check_error(r, RNN_ENOMEM, "out of memory");
    }
    double *s0 = buf, *s = s0 + n, *tmp = s + n;
    rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "odernn.root-condition:s0", 0), 1.0, s0);
    rnn_cell_set_dt(c, 1.0); /* z = dt^q lambda = lambda */
    size_t compared = 0, banded = 0, disagree = 0;
    double wz_re = NAN, wz_im = NAN, w_rate = NAN, w_logrho = NAN;
    int rc = RNN_OK;
    /* z = a + i b on [-4.5, 1] x [-3, 3], step 0.5 (includes both axes). */
    for (int ia = 0; ia <= 11 && rc == RNN_OK; ia++)
        for (int ib = 0; ib <= 12 && rc == RNN_OK; ib++) {
            const double a = -4.5 + 0.5 * ia, b = -3.0 + 0.5 * ib;
            double complex w[4];
            rc = char_roots(M, a, b, w);
            if (rc != RNN_OK)
                break;
            const double logrho = log(spectral_radius(M->h, w));
            if (fabs(logrho) < GROWTH_BAND) {
                banded++;
                continue;
            }
            set_rotation_decay(c, a, b);
            double rate;
            rc = growth_rate(c, s0, s, tmp, &rate);
            if (rc != RNN_OK)
                break;
            compared++;
            if ((rate > 0) != (logrho > 0)) {
                disagree++;
                wz_re = a;
                wz_im = b;
                w_rate = rate;
                w_logrho = logrho;
            }
        }
    size_t points = 0, wrong = 0;
    if (rc == RNN_OK)
        rc = exact_statement(M, &points, &wrong);
    rnn_cell_free(c);
    free(buf);
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "%s: %s", T->name, rnn_strerror(rc));
    r->measured = (double)(disagree + wrong);
    r->threshold = 0;
    r->cmp = RNN_CMP_LE;
    r->pass = disagree + wrong == 0 && compared > 0;
    int used = snprintf(r->detail, sizeof r->detail,
                        "%s (q = %d): sign of the growth rate over %d steps vs log rho(companion) "
                        "disagrees at %zu of %zu points z in [-4.5, 1] x i[-3, 3] (%zu within "
                        "|log rho| < %g left out)", T->name, M->q, GROWTH_STEPS, disagree,
                        compared, banded, GROWTH_BAND);
    if (disagree && used > 0 && (size_t)used < sizeof r->detail)
        used += snprintf(r->detail + used, sizeof r->detail - (size_t)used,
                         " [e.g. z = %g%+gi: rate %.3g, log rho %.3g]", wz_re, wz_im, w_rate,
                         w_logrho);
    if (points && used > 0 && (size_t)used < sizeof r->detail)
        snprintf(r->detail + used, sizeof r->detail - (size_t)used,
                 "; exact |roots| = 1 set (%s) wrong at %zu of %zu grid points", 
                 M->q == 2 ? "z in (-4, 0)" : "z in i(-1, 1)", wrong, points);
    return RNN_OK;
}
