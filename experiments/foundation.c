/*
 * foundation.c — the checks every cell passes (THEORY.md §3).
 *
 *   jac.step.<cell>  analytic step Jacobian vs central differences, 3 seeded states, two
 *                    step sizes (the default and half of it), m in {8, 32}: max rel. error <= 1e-6
 *   jac.ode.<cell>   the same for the ODE Jacobian df/ds
 *   vjp.<cell>       BPTT gradients of L = 1/2 ||s_N - target||^2, N = 50: dL/dtheta against
 *                    central differences of L extrapolated by Ridders' method, dL/ds0 against
 *                    the chain of per-step central-difference Jacobians; each block relative
 *                    to its own largest entry: max rel. error <= 1e-6 (m = 8; standard: 8, 32)
 *   order.<cell>     the fitted global order on the `sines` input within +-0.15 of the cell's
 *                    order, with a reference at least 1000x more accurate than the finest run
 *
 * Central differences have error ~ eps^(2/3) ~ 4e-11 relative (derivatives.c), so 1e-6
 * separates right from wrong by four orders of magnitude either way.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h> /* openblas_set_num_threads; no GSL header here pulls gsl_cblas.h */
#include "analysis.h"
#include "experiments.h"

#define JAC_TOL 1e-6
#define ORDER_TOL RNN_ORDER_TOL
#define N_STATES 3
#define D_INPUT 2

static int jacobian_check(const rnn_check_ctx *ctx, const rnn_cell_type *type, int which,
                          rnn_check_result *r)
{
    static const size_t ms[] = {8, 32};
    const char *stream = which ? "jac.ode" : "jac.step";
    double worst = 0;
    size_t worst_m = 0;
    r->threshold = JAC_TOL;
    r->cmp = RNN_CMP_LE;
    for (size_t im = 0; im < 2; im++) {
        const size_t m = ms[im];
        rnn_cell *c = rnn_check_cell(ctx, type, m, D_INPUT, stream, m);
        const size_t n = c ? c->n_state : 0;
        double *buf = c ? malloc((2 * n * n + n + D_INPUT) * sizeof(double)) : NULL;
        if (!buf) {
            rnn_cell_free(c);
            return rnn_check_error(r, RNN_ENOMEM, "out of memory (m = %zu)", m);
        }
        double *Ja = buf, *Jf = buf + n * n, *s = Jf + n * n, *u = s + n;
        const double dt0 = rnn_cell_dt(c);
        int rc = RNN_OK;
        for (int h = 0; h < 2 && rc == RNN_OK; h++) {
            rnn_cell_set_dt(c, h ? 0.5 * dt0 : dt0);
            for (unsigned long k = 0; k < N_STATES && rc == RNN_OK; k++) {
                unsigned long seed = rnn_seed_derive(ctx->seed, stream, 100 * m + 10 * h + k);
                rnn_cell_random_state(c, seed, 1.0, s);
                gsl_rng *g = rnn_rng_alloc(seed, "input", 0);
                rnn_fill_gaussian(g, 1.0, D_INPUT, u);
                gsl_rng_free(g);
                double t = 0.3 * (double)k;
                rc = which ? rnn_cell_ode_jacobian(c, t, s, u, Ja) : rnn_cell_step_jacobian(c, t, s, u, Ja);
                if (rc == RNN_OK)
                    rc = rnn_fd_jacobian(c, which, t, s, u, Jf, NULL);
                double e = rnn_max_rel_diff(n * n, Ja, Jf, 1e-300);
                if (rc == RNN_OK && !(e <= worst)) {
                    worst = e;
                    worst_m = m;
                }
            }
        }
        free(buf);
        rnn_cell_free(c);
        if (rc != RNN_OK)
            return rnn_check_error(r, rc, "%s (m = %zu): %s", type->name, m, rnn_strerror(rc));
    }
    r->measured = worst;
    r->pass = worst <= JAC_TOL;
    snprintf(r->detail, sizeof r->detail,
             "max |J - J_fd| / max |J_fd| over m = 8, 32, %d states, 2 step sizes (worst at m = %zu)",
             N_STATES, worst_m);
    return RNN_OK;
}

int rnn_check_jac_step(const rnn_check_ctx *ctx, const rnn_cell_type *type, rnn_check_result *r)
{
    return jacobian_check(ctx, type, 0, r);
}

int rnn_check_jac_ode(const rnn_check_ctx *ctx, const rnn_cell_type *type, rnn_check_result *r)
{
    return jacobian_check(ctx, type, 1, r);
}

/* L as a function of one parameter, perturbed in place in c->params. */
typedef struct {
    rnn_cell *c;
    const rnn_input *in;
    const double *s0, *target;
    size_t N;
    double *S;
} loss_ctx;

static int loss_at(double *x, void *p, double *f)
{
    (void)x; /* x is c->params, already perturbed */
    loss_ctx *lc = p;
    rnn_cell_params_changed(lc->c);
    return rnn_bptt_loss(lc->c, lc->in, lc->s0, lc->N, lc->target, lc->S, f);
}

/* dL/dtheta_j by Ridders' extrapolation started from h0 = 0.1 max(1, |theta_j|) and
 * shrinking to ~2e-4 h0: the small steps serve weights to which a 50-step trajectory responds
 * strongly, the large ones weak dependences; the tableau's own error estimate picks the answer. */
static int fd_param_gradient(rnn_cell *c, const rnn_input *in, const double *s0, size_t N,
                             const double *target, double *S, size_t j, double *out)
{
    loss_ctx lc = {c, in, s0, target, N, S};
    double *x = c->params;
    int rc = rnn_fd_ridders(loss_at, &lc, x, j, 0.1 * fmax(1.0, fabs(x[j])), out, NULL);
    rnn_cell_params_changed(c);
    return rc;
}

/* dL/dtheta_j for every j, the parameters shared out over OpenMP threads: each thread has
 * its own cell (made as c0 was, with c0's parameters copied in) and trajectory buffer, and
 * each j is computed exactly as alone, so the result does not depend on the thread count.
 * OpenBLAS runs on one thread meanwhile (as the figure experiments do). */
static int fd_param_gradients(const rnn_check_ctx *ctx, const rnn_cell *c0, size_t m,
                              const rnn_input *in, const double *s0, size_t N,
                              const double *target, double *out)
{
    const size_t P = c0->n_params, n = c0->n_state;
    int rc_all = RNN_OK;
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
#pragma omp parallel
    {
        rnn_cell *c = rnn_check_cell(ctx, c0->type, m, D_INPUT, "vjp", m);
        double *S = malloc((N + 1) * n * sizeof(double));
        int rc = c && S && c->n_params == P ? RNN_OK : RNN_ENOMEM;
        if (rc == RNN_OK) {
            memcpy(c->params, c0->params, P * sizeof(double));
            rnn_cell_params_changed(c);
        }
#pragma omp for schedule(dynamic, 4)
        for (size_t j = 0; j < P; j++)
            if (rc == RNN_OK)
                rc = fd_param_gradient(c, in, s0, N, target, S, j, &out[j]);
#pragma omp critical(vjp_fd)
        if (rc != RNN_OK && rc_all == RNN_OK)
            rc_all = rc;
        free(S);
        rnn_cell_free(c);
    }
    openblas_set_num_threads(blas_threads);
    return rc_all;
}

/* dL/ds0 by the chain rule over per-step central-difference Jacobians, independent of the
 * analytic Jacobians and VJPs: g = s_N - target, then g <- J_fd(s_k)^T g for k = N-1..0.
 * Each J_fd is O(1) and accurate to ~1e-10, so a gradient that has vanished over the N
 * steps is resolved in relative terms, which a difference of L itself cannot do (its
 * rounding floor eps L / h swamps dL/ds0 ~ 3e-8 L for the tanh cell at dt = 1). */
static int fd_state_gradient(const rnn_cell *c, const rnn_input *in, size_t N, const double *S,
                             const double *target, double *g)
{
    const size_t n = c->n_state;
    double *J = malloc((n * n + 4 * n + c->d) * sizeof(double));
    if (!J)
        return RNN_ENOMEM;
    double *tmp = J + n * n, *fdwork = tmp + n, *u = fdwork + 3 * n;
    int rc = RNN_OK;
    for (size_t i = 0; i < n; i++)
        g[i] = S[N * n + i] - target[i];
    const double dt = rnn_cell_dt(c);
    for (size_t k = N; k-- > 0 && rc == RNN_OK;) {
        double t = (double)k * dt;
        rnn_input_eval(in, t, u);
        rc = rnn_fd_jacobian(c, 0, t, S + k * n, u, J, fdwork);
        for (size_t j = 0; j < n; j++) {
            double v = 0;
            for (size_t i = 0; i < n; i++)
                v += J[i * n + j] * g[i];
            tmp[j] = v;
        }
        memcpy(g, tmp, n * sizeof(double));
    }
    free(J);
    return rc;
}

int rnn_check_vjp(const rnn_check_ctx *ctx, const rnn_cell_type *type, rnn_check_result *r)
{
    const size_t N = 50;
    const size_t nm = ctx->tier == RNN_TIER_QUICK ? 1 : 2;
    static const size_t ms[] = {8, 32};
    double worst = 0;
    r->threshold = JAC_TOL;
    r->cmp = RNN_CMP_LE;
    for (size_t im = 0; im < nm; im++) {
        const size_t m = ms[im];
        rnn_cell *c = rnn_check_cell(ctx, type, m, D_INPUT, "vjp", m);
        rnn_input *in = rnn_input_alloc_sines(D_INPUT, rnn_seed_derive(ctx->seed, "vjp:input", m));
        if (!c || !in) {
            rnn_cell_free(c);
            rnn_input_free(in);
            return rnn_check_error(r, RNN_ENOMEM, "out of memory");
        }
        const size_t n = c->n_state, P = c->n_params;
        double *buf = malloc(((N + 1) * n + 4 * n + 2 * P) * sizeof(double));
        if (!buf) {
            rnn_cell_free(c);
            rnn_input_free(in);
            return rnn_check_error(r, RNN_ENOMEM, "out of memory");
        }
        double *S = buf, *s0 = S + (N + 1) * n, *target = s0 + n, *gs = target + n, *gs_fd = gs + n;
        double *gth = gs_fd + n, *gth_fd = gth + P;
        rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "vjp:s0", m), 1.0, s0);
        rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "vjp:target", m), 1.0, target);
        double L;
        int rc = rnn_bptt_gradient(c, in, s0, N, target, S, &L, gs, gth);
        if (rc == RNN_OK)
            rc = fd_state_gradient(c, in, N, S, target, gs_fd);
        if (rc == RNN_OK)
            rc = fd_param_gradients(ctx, c, m, in, s0, N, target, gth_fd);
        if (rc == RNN_OK) {
            double es = rnn_max_rel_diff(n, gs, gs_fd, 1e-300);
            double et = rnn_max_rel_diff(P, gth, gth_fd, 1e-300);
            worst = fmax(worst, fmax(es, et));
            size_t used = strlen(r->detail);
            snprintf(r->detail + used, sizeof r->detail - used,
                     "%sm = %zu: dL/ds0 %.1e, dL/dtheta %.1e (%zu parameters)", im ? "; " : "", m,
                     es, et, P);
        }
        free(buf);
        rnn_cell_free(c);
        rnn_input_free(in);
        if (rc != RNN_OK)
            return rnn_check_error(r, rc, "%s (m = %zu): %s", type->name, m, rnn_strerror(rc));
    }
    r->measured = worst;
    r->pass = worst <= JAC_TOL;
    return RNN_OK;
}

/* The double cell against the binary128 run at the same dt: rounding in the double run grows
 * to ~ N s eps ~ 1e-12 at most (N <= 2048 steps, s <= 13 stages, contractive ODEs); a different
 * ODE, input or coefficient would differ by O(dt^q) or O(1), far above 1e-10. */
#define SAME_MAP_TOL 1e-10

/* The order.* criterion for a cell type and an expected order p: the fitted global order on
 * the `sines` input (m = 16, seeded from the run's seed and the stream "order") within ORDER_TOL
 * of p, with the reference ok. Shared by order.<cell> and the odernn.* family checks. Cells of
 * order >= 5 with an exact tableau run in binary128 (rnn_converge_quad_preferred), where the
 * double cell must also agree with the binary128 run to SAME_MAP_TOL. */
int rnn_order_study(const rnn_check_ctx *ctx, const rnn_cell_type *type, int p,
                    rnn_order_outcome *out, char *msg, size_t len)
{
    const size_t m = 16;
    rnn_cell *c = rnn_check_cell(ctx, type, m, D_INPUT, "order", m);
    rnn_input *in = rnn_input_alloc_sines(D_INPUT, rnn_seed_derive(ctx->seed, "order:input", 0));
    double *s0 = c ? malloc(c->n_state * sizeof(double)) : NULL;
    if (!s0 || !in) {
        rnn_cell_free(c);
        rnn_input_free(in);
        free(s0);
        snprintf(msg, len, "out of memory");
        return RNN_ENOMEM;
    }
    rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "order:s0", 0), 0.5, s0);
    rnn_converge_opts o;
    rnn_converge_opts_for_order(&o, p, type->history);
    rnn_converge_result res;
    const int quad = rnn_converge_quad_preferred(type);
    int rc = quad ? rnn_converge_quad(c, in, s0, &o, &res, msg, len)
                  : rnn_converge(c, in, s0, &o, &res, msg, len);
    rnn_cell_free(c);
    rnn_input_free(in);
    free(s0);
    if (rc != RNN_OK)
        return rc;
    out->deviation = fabs(res.order - p);
    out->pass = out->deviation <= ORDER_TOL && res.ref_ok;
    if (quad) {
        out->pass = out->pass && res.double_vs_quad <= SAME_MAP_TOL;
        snprintf(out->detail, sizeof out->detail,
                 "binary128, %s (order conditions to %.0e): fitted order %.4f +- %.4f "
                 "(expected %d) over levels %zu..%zu of dt = %g..%g, m = %zu, sines; reference "
                 "GBS order %d, error %.1e, coefficient floor %.0e, %s 1e-3 x min E = %.1e; the "
                 "double cell within %.1e %s of the binary128 run",
                 res.quad_source, res.quad_residual, res.order, res.order_stderr, p,
                 res.fit_first, res.fit_last, res.dt[0], res.dt[res.levels - 1], m,
                 2 * res.gbs_k, res.ref_error, res.coef_floor,
                 res.ref_ok ? "<=" : "> (FAILS)", 1e-3 * res.err[res.levels - 1],
                 res.double_vs_quad, res.double_vs_quad <= SAME_MAP_TOL ? "(<= 1e-10)"
                                                                         : "(> 1e-10: FAILS)");
        out->result = res;
        return RNN_OK;
    }
    snprintf(out->detail, sizeof out->detail,
             "fitted order %.4f +- %.4f (expected %d) over levels %zu..%zu of dt = %g..%g, m = %zu, "
             "sines; reference error %.1e %s 1e-3 x min E = %.1e",
             res.order, res.order_stderr, p, res.fit_first, res.fit_last,
             res.dt[0], res.dt[res.levels - 1], m, res.ref_error, res.ref_ok ? "<=" : "> (FAILS)",
             1e-3 * res.err[res.levels - 1]);
    out->result = res;
    return RNN_OK;
}

int rnn_check_order(const rnn_check_ctx *ctx, const rnn_cell_type *type, rnn_check_result *r)
{
    rnn_order_outcome oc;
    char msg[512];
    int rc = rnn_order_study(ctx, type, type->order, &oc, msg, sizeof msg);
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "%s", msg);
    r->measured = oc.deviation;
    r->threshold = ORDER_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = oc.pass;
    snprintf(r->detail, sizeof r->detail, "%s", oc.detail);
    return RNN_OK;
}
