/*
 * quad_ode.c — two fixed-step integrators in binary128, for order studies whose errors fall
 * below double rounding (docs/theory/odernn-family.md §5).
 *
 * Explicit Runge-Kutta (the method under study), one step from (t, y) with stages
 *     Y_i = y + dt sum_{j<i} a_ij k_j,   k_i = f(t + c_i dt, Y_i),   y+ = y + dt sum_i b_i k_i.
 *
 * Gragg-Bulirsch-Stoer extrapolation (the reference). One macro step H from (t, y): for
 * n_j = 2j, j = 1..k, the modified midpoint rule with h = H / n_j,
 *     z_0 = y,  z_1 = z_0 + h f(t, z_0),  z_{i+1} = z_{i-1} + 2 h f(t + i h, z_i),  T_j1 = z_{n_j},
 * whose error has an expansion in even powers of h for even n_j (Gragg 1965); Aitken-Neville
 * extrapolation to h = 0,
 *     T_{j,l+1} = T_{j,l} + (T_{j,l} - T_{j-1,l}) / ((n_j / n_{j-l})^2 - 1),
 * gives T_kk of order 2k. It shares no coefficient with any Runge-Kutta table, so it is an
 * independent reference; its accuracy is estimated by the caller (k - 1 against k columns).
 * No smoothing step: the problems here are non-stiff at the steps used (|h lambda| < 0.1).
 *
 * Reference: Hairer, Norsett, Wanner, Solving ODEs I, 2nd ed., §II.9 (eqs. 9.13, 9.10, and the
 * harmonic sequence 9.8'); Deuflhard, SIAM Rev. 27 (1985) 505-535.
 */
#include <string.h>
#include <quadmath.h>
#include "solvers.h"

static int finite_state(size_t n, const rnn_quad *y)
{
    for (size_t i = 0; i < n; i++)
        if (!finiteq(y[i]))
            return 0;
    return 1;
}

int rnn_quad_rk_run(const rnn_tableau_quad *Q, size_t n, rnn_quad_rhs f, void *ctx, rnn_quad t0,
                    rnn_quad dt, size_t nsteps, const rnn_quad *s0, rnn_quad *S, rnn_quad *work)
{
    const size_t s = Q->s;
    rnn_quad *K = work, *Y = work + s * n; /* the stage derivatives k_i, one stage state */
    memcpy(S, s0, n * sizeof(rnn_quad));
    for (size_t step = 0; step < nsteps; step++) {
        const rnn_quad *y = S + step * n;
        rnn_quad *yn = S + (step + 1) * n, t = t0 + (rnn_quad)step * dt;
        for (size_t i = 0; i < s; i++) {
            for (size_t r = 0; r < n; r++) {
                rnn_quad acc = 0;
                for (size_t j = 0; j < i; j++)
                    acc += Q->A[i * s + j] * K[j * n + r];
                Y[r] = y[r] + dt * acc;
            }
            int rc = f(t + Q->c[i] * dt, Y, K + i * n, ctx);
            if (rc != RNN_OK)
                return rc;
        }
        for (size_t r = 0; r < n; r++) {
            rnn_quad acc = 0;
            for (size_t i = 0; i < s; i++)
                acc += Q->b[i] * K[i * n + r];
            yn[r] = y[r] + dt * acc;
        }
        if (!finite_state(n, yn))
            return RNN_ENONFINITE;
    }
    return RNN_OK;
}

/* T = z_{n} of the modified midpoint rule with n substeps over [t, t + H] from y. */
static int midpoint(size_t n, rnn_quad_rhs f, void *ctx, rnn_quad t, rnn_quad H, int nsub,
                    const rnn_quad *y, rnn_quad *T, rnn_quad *zp, rnn_quad *fz)
{
    const rnn_quad h = H / nsub;
    int rc = f(t, y, fz, ctx);
    for (size_t r = 0; r < n && rc == RNN_OK; r++) {
        zp[r] = y[r];
        T[r] = y[r] + h * fz[r];
    }
    /* zp = z_{i-1}, T = z_i */
    for (int i = 1; i < nsub && rc == RNN_OK; i++) {
        rc = f(t + i * h, T, fz, ctx);
        for (size_t r = 0; r < n && rc == RNN_OK; r++) {
            rnn_quad next = zp[r] + 2 * h * fz[r];
            zp[r] = T[r];
            T[r] = next;
        }
    }
    return rc;
}

int rnn_quad_gbs_run(size_t n, rnn_quad_rhs f, void *ctx, rnn_quad t0, rnn_quad H, size_t nsteps,
                     int k, const rnn_quad *s0, rnn_quad *S, rnn_quad *work)
{
    if (k < 1)
        return RNN_EINVAL;
    /* R[l] (l < j) holds T_{j,l+1} after row j; then a new T, z_{i-1} and f */
    rnn_quad *R = work, *T = work + (size_t)k * n, *zp = T + n, *fz = zp + n;
    memcpy(S, s0, n * sizeof(rnn_quad));
    for (size_t step = 0; step < nsteps; step++) {
        const rnn_quad *y = S + step * n, t = t0 + (rnn_quad)step * H;
        for (int j = 1; j <= k; j++) {
            int rc = midpoint(n, f, ctx, t, H, 2 * j, y, T, zp, fz);
            if (rc != RNN_OK)
                return rc;
            for (int l = 1; l < j; l++) { /* T_{j,l} -> T_{j,l+1}, keeping T_{j,l} in R */
                const rnn_quad ratio = (rnn_quad)j / (j - l), den = ratio * ratio - 1;
                for (size_t r = 0; r < n; r++) {
                    rnn_quad next = T[r] + (T[r] - R[(size_t)(l - 1) * n + r]) / den;
                    R[(size_t)(l - 1) * n + r] = T[r];
                    T[r] = next;
                }
            }
            memcpy(R + (size_t)(j - 1) * n, T, n * sizeof(rnn_quad));
        }
        memcpy(S + (step + 1) * n, R + (size_t)(k - 1) * n, n * sizeof(rnn_quad));
        if (!finite_state(n, S + (step + 1) * n))
            return RNN_ENONFINITE;
    }
    return RNN_OK;
}
