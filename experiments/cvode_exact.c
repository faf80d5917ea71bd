/*
 * cvode_exact.c — cvode.exact: the reference integrator against a closed-form solution.
 *
 * The linear problem of exact_linear.c (4 rotation-decay blocks, constant plus cosine
 * forcing) on [0, 10] with 101 output times, solved by CVODE BDF (Newton, analytic dense
 * Jacobian) and Adams (Newton, dense) at rtol in {1e-6, 1e-9, 1e-11}, atol = 1e-2 rtol.
 * Error = max over outputs of ||s - s_exact||_inf; scaled error = error / (rtol max ||s||_inf).
 *
 *   cvode.exact            passes when, for each method, the least-squares slope of log error
 *                          against log rtol lies in [0.7, 1.3] (the error falls with rtol)
 *   cvode.exact-constant   observation: the largest scaled error. THEORY.md asks for <= 20;
 *                          BDF measures ~31 at rtol 1e-11 on this problem (29-38 over seeds,
 *                          the same on horizons 2.5..160 and with steps stopped at every output),
 *                          so that constant is not a property of CVODE: docs/theory/cvode-exact.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "analysis.h"
#include "experiments.h"

#define SCALED_TOL 20.0
#define SLOPE_LO 0.7
#define SLOPE_HI 1.3
#define NOUT 101

typedef struct {
    double worst[2];  /* max scaled error per method */
    double slopes[2];
} exact_stats;

static int measure(const rnn_check_ctx *ctx, exact_stats *es, rnn_check_result *r)
{
    static const double rtols[] = {1e-6, 1e-9, 1e-11};
    static const rnn_cvode_method methods[] = {RNN_CVODE_BDF, RNN_CVODE_ADAMS};
    rnn_exact_linear p;
    rnn_exact_linear_make(&p, 4, rnn_seed_derive(ctx->seed, "cvode.exact", 0));
    rnn_ode ode = rnn_exact_linear_ode(&p);
    const size_t n = ode.n;
    double times[NOUT], S[NOUT * 16], ex[16];
    for (size_t k = 0; k < NOUT; k++)
        times[k] = 10.0 * (double)k / (NOUT - 1);
    for (size_t im = 0; im < 2; im++) {
        es->worst[im] = 0;
        double lx[3], ly[3];
        for (size_t ir = 0; ir < 3; ir++) {
            rnn_cvode_opts o;
            rnn_cvode_opts_default(&o);
            o.method = methods[im];
            o.rtol = rtols[ir];
            o.atol = 1e-2 * rtols[ir];
            char msg[512];
            int rc = rnn_cvode_solve(&ode, 0.0, p.s0, NOUT, times, S, &o, NULL, msg, sizeof msg);
            if (rc != RNN_OK)
                return rnn_check_error(r, rc, "%s", msg);
            double err = 0, smax = 0;
            for (size_t k = 0; k < NOUT; k++) {
                rnn_exact_linear_solution(&p, times[k], ex);
                for (size_t i = 0; i < n; i++) {
                    err = fmax(err, fabs(S[k * n + i] - ex[i]));
                    smax = fmax(smax, fabs(ex[i]));
                }
            }
            es->worst[im] = fmax(es->worst[im], err / (rtols[ir] * smax));
            lx[ir] = log(rtols[ir]);
            ly[ir] = log(err);
        }
        if (rnn_fit_line(3, lx, ly, &es->slopes[im], NULL, NULL) != RNN_OK)
            return rnn_check_error(r, RNN_ESOLVER, "could not fit the error slope");
    }
    return RNN_OK;
}

int rnn_check_cvode_exact(const rnn_check_ctx *ctx, const rnn_cell_type *type, rnn_check_result *r)
{
    (void)type;
    exact_stats es;
    if (measure(ctx, &es, r) != RNN_OK)
        return r->status;
    /* measured: the slope farthest from 1; passes when both lie in [0.7, 1.3] */
    double d0 = fabs(es.slopes[0] - 1), d1 = fabs(es.slopes[1] - 1);
    r->measured = d0 > d1 ? es.slopes[0] : es.slopes[1];
    r->threshold = fabs(r->measured - SLOPE_LO) < fabs(r->measured - SLOPE_HI) ? SLOPE_LO : SLOPE_HI;
    r->cmp = r->threshold == SLOPE_LO ? RNN_CMP_GE : RNN_CMP_LE;
    r->pass = es.slopes[0] >= SLOPE_LO && es.slopes[0] <= SLOPE_HI && es.slopes[1] >= SLOPE_LO &&
              es.slopes[1] <= SLOPE_HI;
    snprintf(r->detail, sizeof r->detail,
             "log-log slope of the error against rtol (1e-6, 1e-9, 1e-11) on the closed-form linear "
             "problem: BDF %.3f, Adams %.3f (each must lie in [%.1f, %.1f]); max error / (rtol max|s|): "
             "BDF %.1f, Adams %.1f", es.slopes[0], es.slopes[1], SLOPE_LO, SLOPE_HI, es.worst[0],
             es.worst[1]);
    return RNN_OK;
}

int rnn_check_cvode_exact_constant(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                   rnn_check_result *r)
{
    (void)type;
    exact_stats es;
    if (measure(ctx, &es, r) != RNN_OK)
        return r->status;
    r->measured = fmax(es.worst[0], es.worst[1]);
    r->threshold = SCALED_TOL;
    r->cmp = RNN_CMP_LE;
    r->pass = 0; /* an observation */
    snprintf(r->detail, sizeof r->detail,
             "max error / (rtol max|s|) over rtol 1e-6, 1e-9, 1e-11: BDF %.1f, Adams %.1f (THEORY.md's "
             "bound 20 does not hold for BDF at tight rtol: docs/theory/cvode-exact.md)",
             es.worst[0], es.worst[1]);
    return RNN_OK;
}
