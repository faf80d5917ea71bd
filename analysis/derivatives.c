/*
 * derivatives.c — derivatives by central differences, and BPTT by the reverse sweep.
 *
 * Central differences: f'(x) ~ (f(x + h) - f(x - h)) / 2h, error h^2 f'''/6 + eps f / h;
 * with h = cbrt(eps) max(1, |x|) both are O(eps^(2/3)) ~ 4e-11 relative, far below the
 * 1e-6 that the jac.* and vjp.* checks allow, so a wrong analytic derivative (an O(1) error)
 * cannot hide and a right one cannot fail.
 *
 * BPTT for L = 1/2 ||s_N - target||^2: forward s_k = Phi(s_{k-1}, u_k) storing every state,
 * then g_N = s_N - target and g_{k-1} = (dPhi/ds)^T g_k with dL/dtheta accumulated from each
 * step's vector-Jacobian product (llm.c's backward pass, one cell at a time).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"

double rnn_fd_step_size(double x)
{
    return cbrt(DBL_EPSILON) * fmax(1.0, fabs(x));
}

int rnn_fd_jacobian(const rnn_cell *c, int which, double t, const double *s, const double *u,
                    double *J, double *work)
{
    const size_t n = c->n_state;
    double *x = work ? work : malloc(3 * n * sizeof(double));
    if (!x)
        return RNN_ENOMEM;
    double *fp = x + n, *fm = x + 2 * n;
    memcpy(x, s, n * sizeof(double));
    int rc = RNN_OK;
    for (size_t j = 0; j < n && rc == RNN_OK; j++) {
        double h = rnn_fd_step_size(s[j]);
        x[j] = s[j] + h;
        rc = which ? rnn_cell_ode_rhs(c, t, x, u, fp) : rnn_cell_step(c, t, x, u, fp);
        x[j] = s[j] - h;
        if (rc == RNN_OK)
            rc = which ? rnn_cell_ode_rhs(c, t, x, u, fm) : rnn_cell_step(c, t, x, u, fm);
        x[j] = s[j];
        for (size_t i = 0; i < n; i++)
            J[i * n + j] = (fp[i] - fm[i]) / (2 * h);
    }
    if (!work)
        free(x);
    return rc;
}

/* Ridders (1982), as in Press et al., Numerical Recipes §5.7: central differences at steps
 * h0, h0/1.4, ..., extrapolated to h -> 0 column by column; the answer is the entry whose
 * difference from its neighbours is smallest, and that difference is its error estimate.
 * Unlike Numerical Recipes the whole tableau is built (no early stop): with a large h0 the
 * first rows can be far from the asymptotic regime, and stopping there picks a poor entry. */
#define RIDDERS_N 20 /* h0 down to h0 / 1.4^19 ~ 1.7e-3 h0 */
#define RIDDERS_SHRINK 1.4
int rnn_fd_ridders(rnn_scalar_fn eval, void *ctx, double *x, size_t j, double h0,
                   double *deriv, double *err_est)
{
    double a[RIDDERS_N][RIDDERS_N], x0 = x[j], h = h0, err = INFINITY, best = NAN;
    const double c2 = RIDDERS_SHRINK * RIDDERS_SHRINK;
    int rc = RNN_OK;
    for (int i = 0; i < RIDDERS_N && rc == RNN_OK; i++, h /= RIDDERS_SHRINK) {
        double fp, fm;
        x[j] = x0 + h;
        rc = eval(x, ctx, &fp);
        x[j] = x0 - h;
        if (rc == RNN_OK)
            rc = eval(x, ctx, &fm);
        x[j] = x0;
        if (rc != RNN_OK)
            break;
        a[0][i] = (fp - fm) / (2 * h);
        double fac = c2;
        for (int k = 1; k <= i; k++, fac *= c2) {
            a[k][i] = (a[k - 1][i] * fac - a[k - 1][i - 1]) / (fac - 1);
            double e = fmax(fabs(a[k][i] - a[k - 1][i]), fabs(a[k][i] - a[k - 1][i - 1]));
            if (e <= err) {
                err = e;
                best = a[k][i];
            }
        }
    }
    x[j] = x0;
    *deriv = best;
    if (err_est)
        *err_est = err;
    return rc;
}

double rnn_max_rel_diff(size_t n, const double *A, const double *B, double floor)
{
    double num = 0, den = floor;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, fabs(A[i] - B[i]));
        den = fmax(den, fabs(B[i]));
    }
    return num / den;
}

int rnn_bptt_loss(const rnn_cell *c, const rnn_input *in, const double *s0, size_t N,
                  const double *target, double *S, double *L)
{
    int rc = rnn_cell_run(c, in, 0.0, s0, N, S);
    if (rc != RNN_OK)
        return rc;
    const double *sN = S + N * c->n_state;
    double l = 0;
    for (size_t i = 0; i < c->n_state; i++)
        l += 0.5 * (sN[i] - target[i]) * (sN[i] - target[i]);
    *L = l;
    return RNN_OK;
}

int rnn_bptt_gradient(const rnn_cell *c, const rnn_input *in, const double *s0, size_t N,
                      const double *target, double *S, double *L, double *gs0, double *gtheta)
{
    const size_t n = c->n_state;
    int rc = rnn_bptt_loss(c, in, s0, N, target, S, L);
    if (rc != RNN_OK)
        return rc;
    double *g = malloc((2 * n + c->d) * sizeof(double));
    if (!g)
        return RNN_ENOMEM;
    double *gprev = g + n, *u = g + 2 * n;
    const double dt = rnn_cell_dt(c);
    memset(gtheta, 0, c->n_params * sizeof(double));
    for (size_t i = 0; i < n; i++)
        g[i] = S[N * n + i] - target[i];
    for (size_t k = N; k-- > 0 && rc == RNN_OK;) {
        double t = (double)k * dt;
        rnn_input_eval(in, t, u);
        rc = rnn_cell_step_vjp(c, t, S + k * n, u, g, gprev, gtheta);
        memcpy(g, gprev, n * sizeof(double));
    }
    if (rc == RNN_OK)
        memcpy(gs0, g, n * sizeof(double));
    free(g);
    return rc;
}
