/*
 * fixedpoint.c — fixedpoint.kinsol.<cell> (THEORY.md §6; derived in docs/theory/fixedpoint.md).
 *
 * With the input frozen at a constant u*, find by KINSOL (solvers/fixedpoint.c)
 *
 *     ODE equilibria       f(s*, u*) = 0           predicted rate  r = max Re lambda(df/ds)
 *     step fixed points    Phi(s*, u*) - s* = 0    predicted rate  r = log rho(dPhi/ds)
 *
 * from N_STARTS seeded starting guesses and N_PATH_STARTS homotopy starts from far away
 * (solvers/fixedpoint_path.c), and classify each distinct root by the spectrum there
 * (analysis/fixedpoint_class.c). Then measure the local growth without the spectrum: CVODE's
 * answer does not depend on the Jacobian it is given (only its Newton iterations do), and the
 * map is just iterated:
 * perturb s* by delta_0 (a seeded random direction, ||delta_0|| = PERTURB_REL max(1, ||s*||_inf))
 * and follow the nonlinear dynamics for E / |r| (E = EFOLDS, or ODE_DECAY_EFOLDS for a decaying
 * ODE point),
 *
 *     ODE:   CVODE on the cell's ODE with the input held at u*, for T = E / |r|
 *     step:  N = ceil(E / |r|) steps of the cell
 *
 * measured rate = log(||delta_T|| / ||delta_0||) / T (per unit time; per step for the map).
 * The detail line also gives the closest call: the smallest |log(||delta_T|| / ||delta_0||)|
 * among the compared points, in e-folds (E predicted).
 * A point whose |r| is below the margin (MARGIN_RATE per unit time, MARGIN_RATE dt per step) is
 * marginal: reported and counted, not compared. Every other point must have
 * sign(measured) == sign(r), strictly (a perturbation that neither grows nor decays agrees
 * with neither sign).
 *
 * Settings: m = 8, d = 2; the cell's default hyperparameters, with its `wscale` (if it has one)
 * at 0.5 and 2; N_SEEDS weight seeds; inputs u* = 0 and u* ~ N(0, I). Measured: the worst
 * residual ||F(s*)||_inf over every root (threshold 1e-12); the check fails if any sign
 * disagrees, or if for some setting no ODE equilibrium or no step fixed point is found.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"
#include "experiments.h"

#define M_HIDDEN 8
#define D_INPUT 2
#define N_SEEDS 2
/* Enough starts that the several equilibria of tanh at wscale 2 show up (Newton's basins are
 * fragmented there); each start costs a few dozen dense 8 x 8 or 16 x 16 solves. */
#define N_STARTS 12
/* Homotopy-path starts from far away (solvers/fixedpoint_path.c), after the others: they
 * reach roots where damped Newton stalls at a local minimum of ||F|| (docs/theory/fixedpoint.md). */
#define N_PATH_STARTS 4
/* distinct roots kept per setting and kind: one per start at most */
#define ROOT_CAP (N_STARTS + N_PATH_STARTS)
/* THEORY.md §6's criterion on the residual max-norm. */
#define RESIDUAL_TOL 1e-12
/* Relative size of the perturbation, as the check was specified: quadratic terms of F are
 * PERTURB_REL times the linear ones at the start. */
#define PERTURB_REL 1e-7
/* Predicted e-folds over the run. log(|delta_T|/|delta_0|) = +-E + log c, where c is the
 * weight of delta_0 on the dominant mode (a random direction: typically 1/sqrt(n), smaller
 * where the Jacobian is far from normal) or a transient growth factor; the sign is right while
 * |log c| < E. E = 8 tolerates c down to e^-8 ~ 3e-4 (or transient growth up to e^8): a growing
 * |delta_T| ends near e^8 PERTURB_REL ~ 3e-4 of the state, where quadratic terms are still 3e-4
 * of the linear ones; a decaying one of the map ends near 3e-11 of the state, far above the
 * rounding of the step (1e-16). Decaying ODE points: E = 5 only, because CVODE's error (about
 * CVODE_RTOL |s*| per step) must stay far below |delta_T| ~ e^-5 PERTURB_REL ~ 7e-10 of the
 * state; transient growth up to e^5 ~ 150 is tolerated there. */
#define EFOLDS 8.0
#define ODE_DECAY_EFOLDS 5.0
/* |rate| below this (per unit time) is marginal: it is far above the error of the computed
 * eigenvalues (~1e-14 ||J||), and resolving it would need T > EFOLDS / MARGIN_RATE =
 * 8000, the longest run budgeted; the linearisation does not decide stability at 0 anyway. */
#define MARGIN_RATE 1e-3
/* CVODE for the ODE measurement: its local error (~rtol |s*| per step) must be far below the
 * smallest |delta| of interest, ~7e-10 |s*|; the absolute part covers components with s*_i = 0
 * (coRNN's z*). */
#define CVODE_RTOL 1e-12
#define CVODE_ATOL 1e-14
#define CVODE_MAX_STEPS 2000000L

static const double wscales[] = {0.5, 2.0};

typedef struct {
    size_t roots[2], cls[2][4];  /* per kind: roots, and by class */
    size_t compared, agree, marginal, no_root_settings, failed_starts, starts, dropped;
    double worst_residual;
    double closest;              /* min |log(|delta_T| / |delta_0|)| over compared points */
    char closest_at[160];
    size_t shared, shared_differ; /* step roots that are ODE roots; of those, other class */
    char disagreement[256];      /* the first disagreement */
    char failure[320];           /* the last failed start */
} fp_stats;

typedef struct {
    rnn_cell *c;
    size_t n;
    double *u, *d0, *s, *sn, *F, *work;
    rnn_eig_ws *eig;
    rnn_fixedpoint_set *roots[2];   /* per kind */
    int cls[2][ROOT_CAP];           /* the class of each root */
} fp_ws;

static void ws_free(fp_ws *w)
{
    rnn_cell_free(w->c);
    free(w->u);
    rnn_eig_ws_free(w->eig);
    rnn_fixedpoint_set_free(w->roots[0]);
    rnn_fixedpoint_set_free(w->roots[1]);
}

static int ws_alloc(fp_ws *w, const rnn_check_ctx *ctx, const rnn_cell_type *type)
{
    memset(w, 0, sizeof *w);
    w->c = rnn_check_cell(ctx, type, M_HIDDEN, D_INPUT, "fixedpoint", 0);
    if (!w->c)
        return RNN_ENOMEM;
    const size_t n = w->n = w->c->n_state;
    w->u = malloc((D_INPUT + 4 * n + n * n + 2 * n) * sizeof(double));
    w->eig = rnn_eig_ws_alloc(n);
    w->roots[0] = rnn_fixedpoint_set_alloc(n, ROOT_CAP);
    w->roots[1] = rnn_fixedpoint_set_alloc(n, ROOT_CAP);
    if (!w->u || !w->eig || !w->roots[0] || !w->roots[1]) {
        ws_free(w);
        return RNN_ENOMEM;
    }
    w->d0 = w->u + D_INPUT;
    w->s = w->d0 + n;
    w->sn = w->s + n;
    w->F = w->sn + n;
    w->work = w->F + n;
    return RNN_OK;
}

static double norm2(size_t n, const double *x)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * x[i];
    return sqrt(s);
}

static double diff_norm2(size_t n, const double *a, const double *b)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

/* The measured growth rate around root per unit time (ODE) or per step (map), over the run
 * length given by the predicted rate; *efolds = log(|delta_T| / |delta_0|). */
static int measure_growth(fp_ws *w, rnn_fixedpoint_kind kind, const rnn_input *hold,
                          const double *root, double rate, double dt, unsigned long seed,
                          double *measured, double *efolds, char *msg, size_t len)
{
    const size_t n = w->n;
    rnn_cell *c = w->c;
    gsl_rng *g = rnn_rng_alloc(seed, "fixedpoint:delta", 0);
    if (!g) {
        snprintf(msg, len, "out of memory");
        return RNN_ENOMEM;
    }
    rnn_fill_gaussian(g, 1.0, n, w->d0);
    gsl_rng_free(g);
    double scale = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(root[i]));
    const double size0 = PERTURB_REL * fmax(1.0, scale), nv = norm2(n, w->d0);
    for (size_t i = 0; i < n; i++) {
        w->s[i] = root[i] + size0 * w->d0[i] / nv;
        w->d0[i] = w->s[i] - root[i]; /* the perturbation as represented */
    }
    const double delta0 = norm2(n, w->d0);
    const double E = kind == RNN_FP_ODE && rate < 0 ? ODE_DECAY_EFOLDS : EFOLDS;
    int rc = RNN_OK;
    if (kind == RNN_FP_STEP) {
        /* rate per step; |rate| >= MARGIN_RATE dt here, so N <= EFOLDS / (MARGIN_RATE dt);
         * rate = -inf (dPhi/ds = 0) takes one step */
        size_t N = isfinite(rate) ? (size_t)fmax(1.0, ceil(E / fabs(rate))) : 1;
        for (size_t k = 0; k < N && rc == RNN_OK; k++) {
            rc = rnn_cell_step(c, dt * (double)k, w->s, w->u, w->sn);
            double *tmp = w->s;
            w->s = w->sn;
            w->sn = tmp;
        }
        if (rc != RNN_OK) {
            snprintf(msg, len, "%s: stepping from the perturbed fixed point: %s", c->type->name,
                     rnn_strerror(rc));
            return rc;
        }
        *efolds = log(diff_norm2(n, w->s, root) / delta0);
        *measured = *efolds / (double)N;
        return RNN_OK;
    }
    rnn_cell_ode_ctx octx;
    rnn_ode ode;
    if ((rc = rnn_cell_ode_bind(c, hold, &octx, &ode)) != RNN_OK) {
        snprintf(msg, len, "%s: binding the ODE: %s", c->type->name, rnn_strerror(rc));
        return rc;
    }
    rnn_cvode_opts o;
    rnn_cvode_opts_default(&o);
    o.rtol = CVODE_RTOL;
    o.atol = CVODE_ATOL * fmax(1.0, scale);
    o.max_steps = CVODE_MAX_STEPS;
    double T = E / fabs(rate);
    rc = rnn_cvode_solve(&ode, 0.0, w->s, 1, &T, w->sn, &o, NULL, msg, len);
    rnn_cell_ode_unbind(&octx);
    if (rc != RNN_OK)
        return rc;
    *efolds = log(diff_norm2(n, w->sn, root) / delta0);
    *measured = *efolds / T;
    return RNN_OK;
}

/* One setting (weights, input): both kinds, every root. */
static int run_setting(fp_ws *w, const rnn_check_ctx *ctx, unsigned long idx, const char *label,
                       fp_stats *st, char *msg, size_t len)
{
    rnn_cell *c = w->c;
    const size_t n = w->n;
    const double dt = rnn_cell_dt(c);
    rnn_input *hold = rnn_input_alloc_sequence(RNN_INPUT_HOLD, D_INPUT, 1, 0.0, 1.0, w->u);
    if (!hold) {
        snprintf(msg, len, "out of memory");
        return RNN_ENOMEM;
    }
    rnn_fixedpoint_opts o;
    rnn_fixedpoint_opts_default(&o);
    o.seed = rnn_seed_derive(ctx->seed, "fixedpoint:starts", idx);
    o.path_starts = N_PATH_STARTS;
    int rc = RNN_OK;
    for (int kind = 0; kind < 2 && rc == RNN_OK; kind++) {
        const rnn_fixedpoint_kind k = kind ? RNN_FP_STEP : RNN_FP_ODE;
        rnn_fixedpoint_set *set = w->roots[kind];
        rc = rnn_fixedpoint_find(c, k, w->u, 0.0, N_STARTS, &o, set, msg, len);
        st->starts += set->starts;
        st->failed_starts += set->failed;
        st->dropped += set->dropped;
        if (set->failed)
            snprintf(st->failure, sizeof st->failure, "%s", set->failure);
        if (rc == RNN_ESOLVER && set->count == 0) {
            st->no_root_settings++;
            rc = RNN_OK; /* a failed verdict, with the reason in the detail */
            continue;
        }
        if (rc != RNN_OK)
            break;
        /* the margin in the units of the rate: per unit time (ODE), per step (map) */
        const double tol = kind ? MARGIN_RATE * dt : MARGIN_RATE;
        for (size_t r = 0; r < set->count && rc == RNN_OK; r++) {
            const double *root = set->s + r * n;
            double res;
            rc = rnn_fixedpoint_residual(c, k, w->u, 0.0, root, w->F, &res);
            if (rc != RNN_OK) {
                snprintf(msg, len, "%s: residual at a %s root: %s", c->type->name,
                         rnn_fixedpoint_kind_name(k), rnn_strerror(rc));
                break;
            }
            if (!(res <= st->worst_residual))
                st->worst_residual = res;
            rnn_fp_classification cl;
            rc = rnn_fixedpoint_classify(c, k, w->u, 0.0, root, tol, w->eig, w->work, &cl);
            if (rc != RNN_OK) {
                snprintf(msg, len, "%s: spectrum at a %s root: %s", c->type->name,
                         rnn_fixedpoint_kind_name(k), rnn_strerror(rc));
                break;
            }
            w->cls[kind][r] = (int)cl.cls;
            st->roots[kind]++;
            st->cls[kind][cl.cls]++;
            if (cl.cls == RNN_FP_MARGINAL) {
                st->marginal++;
                continue;
            }
            double measured, efolds;
            rc = measure_growth(w, k, hold, root, cl.rate, dt,
                                rnn_seed_derive(ctx->seed, "fixedpoint:delta",
                                                1000 * idx + 10 * r + (unsigned long)kind),
                                &measured, &efolds, msg, len);
            if (rc != RNN_OK)
                break;
            st->compared++;
            if ((cl.rate > 0 && measured > 0) || (cl.rate < 0 && measured < 0))
                st->agree++;
            else if (!st->disagreement[0])
                snprintf(st->disagreement, sizeof st->disagreement,
                         "%s %s root %zu (%s): predicted %.4g (%s), measured %.4g", label,
                         rnn_fixedpoint_kind_name(k), r, rnn_fp_class_name(cl.cls), cl.rate,
                         kind ? "log rho per step" : "max Re lambda", measured);
            if (!(fabs(efolds) >= st->closest)) {
                st->closest = fabs(efolds);
                snprintf(st->closest_at, sizeof st->closest_at,
                         "%s %s root %zu, %s, predicted %.0f", label,
                         rnn_fixedpoint_kind_name(k), r, rnn_fp_class_name(cl.cls),
                         cl.rate > 0 ? EFOLDS : kind ? -EFOLDS : -ODE_DECAY_EFOLDS);
            }
        }
    }
    /* For information: step fixed points that are also ODE equilibria (all of them for
     * Euler-type steps), and how many of those change class between flow and step (the step
     * can be unstable where the flow is stable, e.g. tanh at dt = 1). */
    if (rc == RNN_OK)
        for (size_t a = 0; a < w->roots[1]->count; a++)
            for (size_t b = 0; b < w->roots[0]->count; b++) {
                const double *p = w->roots[1]->s + a * n, *q = w->roots[0]->s + b * n;
                double d = 0, sc = 1;
                for (size_t i = 0; i < n; i++) {
                    d = fmax(d, fabs(p[i] - q[i]));
                    sc = fmax(sc, fabs(q[i]));
                }
                if (d <= o.dedup_tol * sc) {
                    st->shared++;
                    st->shared_differ += w->cls[1][a] != w->cls[0][b];
                    break;
                }
            }
    rnn_input_free(hold);
    return rc;
}

int rnn_check_fixedpoint_kinsol(const rnn_check_ctx *ctx, const rnn_cell_type *type,
                                rnn_check_result *r)
{
    fp_ws w;
    if (ws_alloc(&w, ctx, type) != RNN_OK)
        return rnn_check_error(r, RNN_ENOMEM, "out of memory");
    const int has_wscale = rnn_cell_hyper_index(w.c, "wscale") >= 0;
    const size_t nw = has_wscale ? sizeof wscales / sizeof wscales[0] : 1;
    fp_stats st = {0};
    st.closest = INFINITY;
    char msg[512];
    int rc = RNN_OK;
    size_t settings = 0;
    for (size_t iw = 0; iw < nw && rc == RNN_OK; iw++)
        for (unsigned long seed = 0; seed < N_SEEDS && rc == RNN_OK; seed++)
            for (int input = 0; input < 2 && rc == RNN_OK; input++) {
                unsigned long idx = 100 * iw + 10 * seed + (unsigned long)input;
                if (has_wscale)
                    rc = rnn_cell_set_hyper(w.c, "wscale", wscales[iw], msg, sizeof msg);
                if (rc != RNN_OK)
                    break;
                rnn_cell_init(w.c, rnn_seed_derive(ctx->seed, "fixedpoint:weights", 10 * iw + seed));
                if (input) {
                    gsl_rng *g = rnn_rng_alloc(ctx->seed, "fixedpoint:input", idx);
                    if (!g) {
                        rc = RNN_ENOMEM;
                        snprintf(msg, sizeof msg, "out of memory");
                        break;
                    }
                    rnn_fill_gaussian(g, 1.0, D_INPUT, w.u);
                    gsl_rng_free(g);
                } else {
                    memset(w.u, 0, D_INPUT * sizeof(double));
                }
                char label[96], ws[32] = "";
                if (has_wscale)
                    snprintf(ws, sizeof ws, "wscale %g, ", wscales[iw]);
                snprintf(label, sizeof label, "(%sseed %lu, u* %s)", ws, seed,
                         input ? "random" : "0");
                rc = run_setting(&w, ctx, idx, label, &st, msg, sizeof msg);
                settings++;
            }
    ws_free(&w);
    if (rc != RNN_OK)
        return rnn_check_error(r, rc, "%s", msg);
    r->measured = st.worst_residual;
    r->threshold = RESIDUAL_TOL;
    r->cmp = RNN_CMP_LE;
    const int signs_ok = st.agree == st.compared;
    r->pass = st.worst_residual <= RESIDUAL_TOL && signs_ok && st.no_root_settings == 0 &&
              st.roots[0] + st.roots[1] > 0;
    int used = snprintf(r->detail, sizeof r->detail,
        "%zu settings (m = %d); ODE %zu roots (%zu stable, %zu unstable, %zu saddle, %zu marginal), "
        "step %zu (%zu/%zu/%zu/%zu); growth sign agrees %zu/%zu (%zu marginal excluded), "
        "closest call |log(|dT|/|d0|)| = %.2f at %s; %zu step roots are ODE roots, %zu of them "
        "of another class; %zu/%zu starts failed%s",
        settings, M_HIDDEN, st.roots[0], st.cls[0][0], st.cls[0][1], st.cls[0][2], st.cls[0][3],
        st.roots[1], st.cls[1][0], st.cls[1][1], st.cls[1][2], st.cls[1][3], st.agree,
        st.compared, st.marginal, st.closest, st.closest_at[0] ? st.closest_at : "-", st.shared,
        st.shared_differ, st.failed_starts, st.starts,
        st.dropped ? " (some roots dropped: set full)" : "");
    if (used < 0 || (size_t)used >= sizeof r->detail)
        return RNN_OK;
    if (st.no_root_settings)
        used += snprintf(r->detail + used, sizeof r->detail - (size_t)used,
                         "; FAILS: %zu setting-kinds without a root (last: %s)", st.no_root_settings,
                         st.failure);
    else if (!signs_ok)
        used += snprintf(r->detail + used, sizeof r->detail - (size_t)used,
                         "; FAILS: sign disagrees at %s", st.disagreement);
    else if (st.worst_residual > RESIDUAL_TOL)
        used += snprintf(r->detail + used, sizeof r->detail - (size_t)used,
                         "; FAILS: a residual exceeds %.0e", RESIDUAL_TOL);
    (void)used;
    return RNN_OK;
}
