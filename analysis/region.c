/*
 * region.c — stability metrics at one point of a map over two hyperparameters, and the
 * grammar of the map's axes (`odernn region`).
 *
 * Axes. "NAME=A:B:N" is N >= 2 points from A to B (finite, A != B; A > B gives a descending
 * axis):  x_i = ((N-1-i) A + i B) / (N-1),  i = 0..N-1,  exactly A and B at the ends.
 *
 * Metrics. One grid point is a cell whose hyperparameters are already set, an input signal
 * u(t) and an initial state s_0; the trajectory is s_n = Phi(s_{n-1}, u(t_{n-1}), t_{n-1}),
 * t_n = n dt, n = 1..T (T = steps, dt = rnn_cell_dt):
 *
 *   rk-margin     max over n = 0..T-1 and i of |R(dt lambda_i(n))| - 1, where lambda_i(n) are
 *                 the eigenvalues of the ODE Jacobian df/ds at (s_n, u(t_n), t_n), i.e. where
 *                 step n + 1 is linearised, and R(z) = 1 + z b^T (I - z A)^{-1} 1 is the
 *                 stability function of the cell's Butcher tableau [HW II, §IV.2]. <= 0: every
 *                 frozen linearisation along the trajectory lies in the method's linear
 *                 stability region; > 0: some mode is amplified by the discretisation. Only
 *                 for cells whose step is a Runge-Kutta method (c->type->tableau).
 *                 Cost: one dgeev per step (O(n^3): measured ~0.14 ms per step at n = 32,
 *                 against ~3 us per step for ftle-max), every step, never subsampled — the
 *                 maximum over the trajectory is what the metric means. A 101 x 101 map at
 *                 n = 32, T = 1000 is 10^7 eigenvalue problems, ~25 min on 1 core.
 *   ftle-max      lambda_1 / dt: the largest finite-time Lyapunov exponent per unit time, by the
 *                 QR method with k = 1 (rnn_lyap_spectrum: T/10 transient steps, then T measured
 *                 steps in 2 blocks, re-orthonormalised every step) [Benettin et al. 1980].
 *   grad-growth   log ||ds_T/ds_0||_2 / t_T, t_T = T dt: the mean exponential growth rate of
 *                 the state gradient per unit time (rnn_grad_tangent, one lag T, log domain)
 *                 [Pascanu, Mikolov, Bengio 2013].
 *   energy-ratio  max over n = 1..T of E_n / (E_0 + m t_n / (2 eps - gamma dt)),
 *                 E = gamma ||y||^2 + ||z||^2 for s = (y, z): the coRNN energy against its
 *                 cumulative bound ([CO] Prop. 3.1; THEORY.md §4.2; docs/theory/cornn-energy.md).
 *                 <= 1 where the bound holds (always, for the IMEX cell). The bound exists only
 *                 when gamma dt < 2 eps: otherwise the value is NAN. Terms whose bound is <= 0
 *                 (possible only when gamma < 0 makes E_0 negative) are skipped; NAN if all are.
 *                 Cells with parameter blocks W and Wz and hyperparameters gamma and eps.
 *
 * Blow-ups. A trajectory (or a Jacobian along it) that turns non-finite at some grid point is
 * a result, not a failure: the value is +INFINITY for every metric (a growth without bound;
 * the measured quantity diverges). A value can also be -INFINITY (ftle-max, grad-growth) when
 * a step Jacobian annihilates the tangent exactly (e.g. a saturated tanh at dt = 1), and NAN
 * where a metric is undefined (energy-ratio without a bound). Only bad arguments, unsupported
 * metrics and failures of LAPACK on finite data are errors.
 *
 * References: Hairer & Wanner, Solving ODEs II, 2nd ed., §IV.2 (stability functions);
 * Benettin, Galgani, Giorgilli, Strelcyn, Meccanica 15 (1980) (QR Lyapunov method);
 * Pascanu, Mikolov, Bengio, ICML 2013; Rusch & Mishra, coRNN, ICLR 2021, Prop. 3.1 [CO].
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"

/* ---- axes ------------------------------------------------------------------------------------ */

#define AXIS_EXAMPLE "e.g. eps=0.01:1:41"
#define AXIS_HELP "expected NAME=A:B:N (" AXIS_EXAMPLE ": N >= 2 points from A to B, A != B, " \
                  "both finite numbers)"

static int parse_number(const char *text, size_t n, double *out)
{
    char buf[64], *end;
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, text, n);
    buf[n] = '\0';
    errno = 0;
    *out = strtod(buf, &end);
    return *end == '\0' && end != buf;
}

int rnn_region_axis_parse(const char *spec, rnn_region_axis *ax, char *msg, size_t len)
{
    if (!spec || !ax) {
        snprintf(msg, len, "region axis: nothing given; " AXIS_HELP);
        return RNN_EINVAL;
    }
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec) {
        snprintf(msg, len, "malformed axis '%s': %s", spec,
                 eq ? "the hyperparameter name is missing; " AXIS_HELP : AXIS_HELP);
        return RNN_EINVAL;
    }
    size_t nl = (size_t)(eq - spec);
    if (nl >= sizeof ax->name) {
        snprintf(msg, len, "malformed axis '%s': the name is longer than %zu characters", spec,
                 sizeof ax->name - 1);
        return RNN_EINVAL;
    }
    for (size_t i = 0; i < nl; i++) {
        char ch = spec[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
                 (i > 0 && ch >= '0' && ch <= '9');
        if (!ok) {
            snprintf(msg, len, "malformed axis '%s': the name '%.*s' must be letters, digits and "
                     "'_', not starting with a digit; " AXIS_HELP, spec, (int)nl, spec);
            return RNN_EINVAL;
        }
    }
    /* Exactly three ':'-separated fields after '='. */
    const char *f0 = eq + 1, *c1 = strchr(f0, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || strchr(c2 + 1, ':')) {
        snprintf(msg, len, "malformed axis '%s': %s", spec, AXIS_HELP);
        return RNN_EINVAL;
    }
    double a, b;
    if (!parse_number(f0, (size_t)(c1 - f0), &a) ||
        !parse_number(c1 + 1, (size_t)(c2 - c1 - 1), &b)) {
        snprintf(msg, len, "malformed axis '%s': A and B must be numbers; " AXIS_HELP, spec);
        return RNN_EINVAL;
    }
    if (!isfinite(a) || !isfinite(b)) {
        snprintf(msg, len, "axis '%s': A and B must be finite numbers (got %g and %g); "
                 AXIS_HELP, spec, a, b);
        return RNN_EINVAL;
    }
    if (a == b) {
        snprintf(msg, len, "axis '%s': the range is empty (A = B = %g); " AXIS_HELP, spec, a);
        return RNN_EINVAL;
    }
    const char *nt = c2 + 1;
    char *end;
    errno = 0;
    long long n = (*nt >= '0' && *nt <= '9') ? strtoll(nt, &end, 10) : -1;
    if (n < 0 || *end != '\0' || errno == ERANGE) {
        snprintf(msg, len, "malformed axis '%s': N must be an integer in 2..%d; " AXIS_HELP, spec,
                 RNN_REGION_MAX_POINTS);
        return RNN_EINVAL;
    }
    if (n < 2 || n > RNN_REGION_MAX_POINTS) {
        snprintf(msg, len, "axis '%s': N = %lld; a map needs N in 2..%d points; " AXIS_HELP, spec,
                 n, RNN_REGION_MAX_POINTS);
        return RNN_EINVAL;
    }
    memcpy(ax->name, spec, nl);
    ax->name[nl] = '\0';
    ax->a = a;
    ax->b = b;
    ax->n = (size_t)n;
    return RNN_OK;
}

double rnn_region_axis_value(const rnn_region_axis *ax, size_t i)
{
    if (i == 0)
        return ax->a;
    if (i + 1 >= ax->n)
        return ax->b;
    /* One rounding in the division: 0.5:5:4 gives 3.5, where a + (b - a) i/(n-1) gives
     * 3.4999999999999996. The lerp is the fallback where the products overflow. */
    const double k = (double)(ax->n - 1), v = ((k - (double)i) * ax->a + (double)i * ax->b) / k;
    if (isfinite(v))
        return v;
    double t = (double)i / k;
    return ax->a * (1.0 - t) + ax->b * t;
}

/* ---- metric names ------------------------------------------------------------------------------ */

static const struct {
    const char *name, *doc;
} metrics[RNN_REGION_N_METRICS] = {
    [RNN_REGION_RK_MARGIN] = {"rk-margin",
                              "max over steps and eigenvalues lambda of the ODE Jacobian of "
                              "|R(dt lambda)| - 1 (R: the stability function of the cell's "
                              "Butcher tableau; <= 0 inside the linear stability region)"},
    [RNN_REGION_FTLE_MAX] = {"ftle-max",
                             "the largest finite-time Lyapunov exponent per unit time (QR "
                             "method, k = 1, steps/10 transient steps, then steps measured)"},
    [RNN_REGION_GRAD_GROWTH] = {"grad-growth", "log ||ds_T/ds_0||_2 / (T dt)"},
    [RNN_REGION_ENERGY_RATIO] = {"energy-ratio",
                                 "max over n of E_n / (E_0 + m t_n / (2 eps - gamma dt)), "
                                 "E = gamma |y|^2 + |z|^2 (<= 1 where the coRNN bound holds; "
                                 "nan where gamma dt >= 2 eps and no bound exists)"},
};

const char *rnn_region_metric_name(rnn_region_metric_id m)
{
    return (unsigned)m < RNN_REGION_N_METRICS ? metrics[m].name : "unknown";
}

const char *rnn_region_metric_doc(rnn_region_metric_id m)
{
    return (unsigned)m < RNN_REGION_N_METRICS ? metrics[m].doc : "";
}

int rnn_region_metric_parse(const char *name)
{
    for (int i = 0; name && i < RNN_REGION_N_METRICS; i++)
        if (strcmp(metrics[i].name, name) == 0)
            return i;
    return -1;
}

const char *rnn_region_metric_names(void)
{
    return "rk-margin, ftle-max, grad-growth, energy-ratio";
}

/* ---- which metric works for which cell -------------------------------------------------------- */

static int is_cornn_like(const rnn_cell *c)
{
    return rnn_cell_block(c, "W") && rnn_cell_block(c, "Wz") &&
           rnn_cell_hyper_index(c, "gamma") >= 0 && rnn_cell_hyper_index(c, "eps") >= 0 &&
           c->n_state == 2 * c->m;
}

/* 1 if the metric can be evaluated on the cell; else 0 and why (without the list). */
static int supported(const rnn_cell *c, rnn_region_metric_id m, char *why, size_t len)
{
    const char *name = c->type->name;
    switch (m) {
    case RNN_REGION_RK_MARGIN:
        if (!c->type->tableau) {
            snprintf(why, len, "rk-margin maps dt*lambda through the Butcher tableau of the "
                     "cell's step, but the step of cell '%s' is not a Runge-Kutta method", name);
            return 0;
        }
        if (!rnn_tableau_find(c->type->tableau)) {
            snprintf(why, len, "cell '%s' names the Butcher tableau '%s', which is not built in",
                     name, c->type->tableau);
            return 0;
        }
        if (!c->type->ode_jacobian) {
            snprintf(why, len, "rk-margin needs the ODE Jacobian, which cell '%s' does not "
                     "provide", name);
            return 0;
        }
        return 1;
    case RNN_REGION_FTLE_MAX:
    case RNN_REGION_GRAD_GROWTH:
        if (!c->type->step_jacobian) {
            snprintf(why, len, "%s needs the step Jacobian, which cell '%s' does not provide",
                     rnn_region_metric_name(m), name);
            return 0;
        }
        return 1;
    case RNN_REGION_ENERGY_RATIO:
        if (!is_cornn_like(c)) {
            snprintf(why, len, "energy-ratio is the coRNN energy E = gamma |y|^2 + |z|^2 against "
                     "its bound: it needs a state (y, z), parameter blocks W and Wz and "
                     "hyperparameters gamma and eps, and cell '%s' is not such a cell", name);
            return 0;
        }
        return 1;
    }
    snprintf(why, len, "unknown region metric %d (allowed: %s)", (int)m, rnn_region_metric_names());
    return 0;
}

int rnn_region_metric_check(const rnn_cell *c, rnn_region_metric_id m, char *msg, size_t len)
{
    if (!c) {
        snprintf(msg, len, "region: no cell");
        return RNN_EINVAL;
    }
    if ((unsigned)m >= RNN_REGION_N_METRICS) {
        snprintf(msg, len, "unknown region metric %d (allowed: %s)", (int)m,
                 rnn_region_metric_names());
        return RNN_EINVAL;
    }
    char why[384];
    if (supported(c, m, why, sizeof why))
        return RNN_OK;
    char list[128], scratch[384];
    size_t used = 0;
    list[0] = '\0';
    for (int i = 0; i < RNN_REGION_N_METRICS; i++)
        if (supported(c, (rnn_region_metric_id)i, scratch, sizeof scratch) && used < sizeof list)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
                                     metrics[i].name);
    snprintf(msg, len, "%s; metrics that work for '%s': %s", why, c->type->name,
             used ? list : "none");
    return RNN_EUNSUPPORTED;
}

/* ---- the metrics -------------------------------------------------------------------------------- */

/* A blow-up is a value, not an error (see the header comment). */
static int nonfinite_is_infinity(int rc, double *value)
{
    if (rc == RNN_ENONFINITE) {
        *value = INFINITY;
        return RNN_OK;
    }
    return rc;
}

static int rk_margin(const rnn_cell *c, const rnn_input *in, const double *s0, size_t steps,
                     double *value, char *msg, size_t len)
{
    const rnn_tableau *tab = rnn_tableau_find(c->type->tableau);
    const size_t n = c->n_state;
    const double dt = rnn_cell_dt(c);
    rnn_eig_ws *ws = rnn_eig_ws_alloc(n);
    double *buf = malloc((n * n + 4 * n + c->d) * sizeof(double));
    if (!ws || !buf) {
        rnn_eig_ws_free(ws);
        free(buf);
        snprintf(msg, len, "rk-margin: out of memory for n = %zu", n);
        return RNN_ENOMEM;
    }
    double *J = buf, *re = J + n * n, *im = re + n, *s = im + n, *s_next = s + n,
           *u = s_next + n;
    memcpy(s, s0, n * sizeof(double));
    double worst = -INFINITY;
    int rc = RNN_OK;
    for (size_t k = 0; k < steps; k++) {
        double t = (double)k * dt;
        rnn_input_eval(in, t, u);
        rc = rnn_cell_ode_jacobian(c, t, s, u, J);
        if (rc != RNN_OK) {
            if (rc != RNN_ENONFINITE)
                snprintf(msg, len, "rk-margin: the ODE Jacobian of %s failed at step %zu (t = %g): "
                         "%s", c->type->name, k, t, rnn_strerror(rc));
            break;
        }
        rc = rnn_spectrum_eigvals(ws, J, re, im);
        if (rc != RNN_OK) {
            snprintf(msg, len, "rk-margin: LAPACK dgeev failed on the ODE Jacobian of %s at step "
                     "%zu (t = %g): %s", c->type->name, k, t, rnn_strerror(rc));
            break;
        }
        for (size_t i = 0; i < n; i++) {
            double r = rnn_tableau_stability_abs(tab, dt * re[i], dt * im[i]) - 1.0;
            if (isnan(r))
                r = INFINITY; /* |R(z)| overflowed (inf - inf): unbounded amplification */
            if (r > worst)
                worst = r;
        }
        rc = rnn_cell_step(c, t, s, u, s_next);
        if (rc != RNN_OK) {
            if (rc != RNN_ENONFINITE)
                snprintf(msg, len, "rk-margin: step %zu of %s failed at t = %g: %s", k + 1,
                         c->type->name, t, rnn_strerror(rc));
            break;
        }
        memcpy(s, s_next, n * sizeof(double));
    }
    if (rc == RNN_OK)
        *value = worst;
    rc = nonfinite_is_infinity(rc, value);
    free(buf);
    rnn_eig_ws_free(ws);
    return rc;
}

static int ftle_max(const rnn_cell *c, const rnn_input *in, const double *s0, size_t steps,
                    double *value, char *msg, size_t len)
{
    enum { BLOCKS = 2 };
    if (steps < BLOCKS) {
        snprintf(msg, len, "ftle-max needs steps >= %d (two time blocks); got %zu", BLOCKS, steps);
        return RNN_EINVAL;
    }
    rnn_lyap_opts o;
    rnn_lyap_opts_default(&o);
    o.k = 1;
    o.transient = steps / 10;
    o.steps = steps;
    o.reorth = 1;
    o.blocks = BLOCKS;
    o.with_det = 0;
    rnn_lyap_result *r = rnn_lyap_result_alloc(c->n_state, 1, BLOCKS);
    if (!r) {
        snprintf(msg, len, "ftle-max: out of memory");
        return RNN_ENOMEM;
    }
    int rc = rnn_lyap_spectrum(c, in, s0, &o, r, msg, len);
    if (rc == RNN_OK)
        *value = r->exponents[0] / rnn_cell_dt(c);
    rnn_lyap_result_free(r);
    return nonfinite_is_infinity(rc, value);
}

static int grad_growth(const rnn_cell *c, const rnn_input *in, const double *s0, size_t steps,
                       double *value, char *msg, size_t len)
{
    double log_norm = NAN;
    int rc = rnn_grad_tangent(c, in, s0, 1, &steps, &log_norm, msg, len);
    if (rc == RNN_OK)
        *value = log_norm / ((double)steps * rnn_cell_dt(c));
    return nonfinite_is_infinity(rc, value);
}

static int energy_ratio(const rnn_cell *c, const rnn_input *in, const double *s0, size_t steps,
                        double *value, char *msg, size_t len)
{
    const size_t m = c->m, n = c->n_state;
    const double dt = rnn_cell_dt(c), gamma = rnn_cell_get_hyper(c, "gamma"),
                 eps = rnn_cell_get_hyper(c, "eps"), k = 2 * eps - gamma * dt;
    if (!(k > 0)) {
        *value = NAN; /* gamma dt >= 2 eps: the bound does not exist */
        return RNN_OK;
    }
    double *buf = malloc((2 * n + c->d) * sizeof(double));
    if (!buf) {
        snprintf(msg, len, "energy-ratio: out of memory");
        return RNN_ENOMEM;
    }
    double *s = buf, *s_next = s + n, *u = s_next + n;
    memcpy(s, s0, n * sizeof(double));
    const double E0 = rnn_cornn_energy(m, gamma, s);
    double worst = NAN;
    int rc = RNN_OK;
    for (size_t j = 1; j <= steps; j++) {
        double t = (double)(j - 1) * dt;
        rnn_input_eval(in, t, u);
        rc = rnn_cell_step(c, t, s, u, s_next);
        if (rc != RNN_OK) {
            if (rc != RNN_ENONFINITE)
                snprintf(msg, len, "energy-ratio: step %zu of %s failed at t = %g: %s", j,
                         c->type->name, t, rnn_strerror(rc));
            break;
        }
        memcpy(s, s_next, n * sizeof(double));
        double bound = E0 + (double)m * ((double)j * dt) / k;
        if (bound > 0) {
            double r = rnn_cornn_energy(m, gamma, s) / bound;
            if (isnan(worst) || r > worst || isnan(r))
                worst = isnan(r) ? INFINITY : r;
        }
    }
    if (rc == RNN_OK)
        *value = worst;
    free(buf);
    return nonfinite_is_infinity(rc, value);
}

int rnn_region_metric(const rnn_cell *c, const rnn_input *in, const double *s0,
                      rnn_region_metric_id metric, size_t steps, double *value, char *msg,
                      size_t len)
{
    if (!c || !in || !s0 || !value || in->d != c->d || steps == 0) {
        snprintf(msg, len, "region metric: bad arguments (need a cell, an input of dimension d, "
                 "an initial state and steps >= 1)");
        return RNN_EINVAL;
    }
    int rc = rnn_region_metric_check(c, metric, msg, len);
    if (rc != RNN_OK)
        return rc;
    if (!rnn_all_finite(c->n_state, s0)) {
        snprintf(msg, len, "region metric: the initial state is not finite");
        return RNN_EINVAL;
    }
    *value = NAN;
    switch (metric) {
    case RNN_REGION_RK_MARGIN: return rk_margin(c, in, s0, steps, value, msg, len);
    case RNN_REGION_FTLE_MAX: return ftle_max(c, in, s0, steps, value, msg, len);
    case RNN_REGION_GRAD_GROWTH: return grad_growth(c, in, s0, steps, value, msg, len);
    case RNN_REGION_ENERGY_RATIO: return energy_ratio(c, in, s0, steps, value, msg, len);
    }
    return RNN_EINVAL; /* not reached: rnn_region_metric_check rejects unknown metrics */
}
