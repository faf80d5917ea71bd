/*
 * fixedpoint_class.c — the linear stability of an equilibrium or a fixed point, from the
 * spectrum of the Jacobian there (eigenvalues by LAPACKE dgeev, spectrum.c).
 *
 *   ODE s' = f(s) at f(s*) = 0:       delta' = J delta,        J = df/ds(s*)
 *       a mode e^{lambda t} grows at rate Re lambda (per unit time)
 *   step s_n = Phi(s_{n-1}) at s*:    delta_n = M delta_{n-1}, M = dPhi/ds(s*)
 *       a mode mu^n grows at rate log |mu| (per step)
 *
 *   stable if the largest rate is < -tol; unstable if it is > tol (a saddle when some other
 *   rate is < -tol); marginal otherwise (the largest rate within tol of 0). For a hyperbolic point (no rate equal to 0) the
 *   Hartman-Grobman theorem makes the flow (or map) near s* conjugate to its linearisation, so
 *   the sign of the largest rate is the sign of the growth of a generic small perturbation;
 *   within tol of 0 the linearisation does not decide it (docs/theory/fixedpoint.md).
 *
 * References: Hartman, Ordinary Differential Equations, 1964, ch. IX; Guckenheimer & Holmes,
 * Nonlinear Oscillations, Dynamical Systems, and Bifurcations of Vector Fields, 1983, §1.3-1.4
 * (flows) and §1.4 (maps); the KINSOL user guide v6.4 and Kelley, Iterative Methods for Linear
 * and Nonlinear Equations, 1995, for how the points are found (solvers/fixedpoint.c).
 */
#include <math.h>
#include <stdlib.h>
#include "analysis.h"

const char *rnn_fp_class_name(rnn_fp_class k)
{
    static const char *names[] = {"stable", "unstable", "saddle", "marginal"};
    return (unsigned)k < 4 ? names[k] : "?";
}

void rnn_fp_classify_spectrum(size_t n, const double *re, const double *im, int is_map,
                              double tol, rnn_fp_classification *out)
{
    rnn_fp_classification r = {RNN_FP_MARGINAL, -INFINITY, 0, -INFINITY, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        double mod = hypot(re[i], im[i]);
        double rate = is_map ? log(mod) : re[i]; /* log 0 = -inf: a mode gone in one step */
        r.radius = fmax(r.radius, mod);
        r.max_re = fmax(r.max_re, re[i]);
        r.rate = fmax(r.rate, rate);
        if (rate > tol)
            r.n_grow++;
        else if (rate < -tol)
            r.n_decay++;
        else
            r.n_neutral++;
    }
    /* The class follows the largest rate, which decides the growth of a generic
     * perturbation; the counts say how many directions do what. */
    if (r.rate < -tol)
        r.cls = RNN_FP_STABLE;
    else if (r.rate > tol)
        r.cls = r.n_decay > 0 ? RNN_FP_SADDLE : RNN_FP_UNSTABLE;
    else
        r.cls = RNN_FP_MARGINAL;
    *out = r;
}

int rnn_fixedpoint_classify(const rnn_cell *c, rnn_fixedpoint_kind kind, const double *u,
                            double t, const double *s, double tol, rnn_eig_ws *w, double *work,
                            rnn_fp_classification *out)
{
    if (!c || !u || !s || !w || !out || !(tol >= 0) ||
        (kind != RNN_FP_ODE && kind != RNN_FP_STEP))
        return RNN_EINVAL;
    const size_t n = c->n_state;
    double *buf = work ? work : malloc((n * n + 2 * n) * sizeof(double));
    if (!buf)
        return RNN_ENOMEM;
    double *J = buf, *re = J + n * n, *im = re + n;
    int rc = kind == RNN_FP_ODE ? rnn_cell_ode_jacobian(c, t, s, u, J)
                                : rnn_cell_step_jacobian(c, t, s, u, J);
    if (rc == RNN_OK)
        rc = rnn_spectrum_eigvals(w, J, re, im);
    if (rc == RNN_OK)
        rnn_fp_classify_spectrum(n, re, im, kind == RNN_FP_STEP, tol, out);
    if (!work)
        free(buf);
    return rc;
}
