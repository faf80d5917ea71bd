/*
 * registry.c — every check of `odernn verify`, with its id, kind, claim and source
 * (THEORY.md). Per-cell checks run once for every cell of the cell registry.
 */
#include <string.h>
#include "experiments.h"

static const rnn_check_def checks[] = {
    {"jac.step", RNN_KIND_DERIVED, "the analytic step Jacobian equals central differences of the step",
     "THEORY.md §3", RNN_TIER_QUICK, 1, rnn_check_jac_step},
    {"jac.ode", RNN_KIND_DERIVED, "the analytic ODE Jacobian equals central differences of the right-hand side",
     "THEORY.md §3", RNN_TIER_QUICK, 1, rnn_check_jac_ode},
    {"vjp", RNN_KIND_DERIVED, "BPTT gradients (state and every parameter) equal central differences of the loss",
     "THEORY.md §3", RNN_TIER_QUICK, 1, rnn_check_vjp},
    {"cvode.exact", RNN_KIND_DERIVED,
     "CVODE's error (BDF and Adams) against a closed-form solution falls in proportion to rtol",
     "THEORY.md §3; docs/theory/cvode-exact.md", RNN_TIER_QUICK, 0, rnn_check_cvode_exact},
    {"cvode.exact-constant", RNN_KIND_OBSERVATION,
     "THEORY.md's 'error <= 20 rtol max|s|' for CVODE: measured, not a theorem (BDF exceeds it at rtol 1e-11)",
     "THEORY.md §3; counterexample in docs/theory/cvode-exact.md", RNN_TIER_QUICK, 0,
     rnn_check_cvode_exact_constant},
    {"order", RNN_KIND_DERIVED, "the cell is a consistent integrator of its ODE with its stated order",
     "THEORY.md §2-3", RNN_TIER_QUICK, 1, rnn_check_order},
    {"cornn.energy-identity", RNN_KIND_DERIVED,
     "IMEX coRNN: E_n - E_{n-1} = -|z_n - z_{n-1}|^2 + 2 dt s_n.z_n + dt (gamma dt - 2 eps)|z_n|^2 exactly",
     "THEORY.md §4.2; docs/theory/cornn-energy.md", RNN_TIER_QUICK, 0, rnn_check_cornn_energy_identity},
    {"cornn.energy-bound", RNN_KIND_PAPER,
     "IMEX coRNN: E_n <= E_0 + m t_n / (2 eps - gamma dt) whenever gamma dt < 2 eps, for all weights and inputs",
     "[CO] Prop. 3.1, as derived in docs/theory/cornn-energy.md", RNN_TIER_QUICK, 0,
     rnn_check_cornn_energy_bound},
    {"cornn.explicit-vs-imex", RNN_KIND_OBSERVATION,
     "the official code's explicit damping does not satisfy the IMEX energy bound",
     "THEORY.md §4.2; [CO] official code", RNN_TIER_QUICK, 0, rnn_check_cornn_explicit_vs_imex},
    /* fixedpoint.c */
    /* continuous_adjoint.c */
};

size_t rnn_checks_count(void)
{
    return sizeof checks / sizeof checks[0];
}

const rnn_check_def *rnn_checks_get(size_t i)
{
    return i < rnn_checks_count() ? &checks[i] : NULL;
}

const char *rnn_check_kind_name(rnn_check_kind k)
{
    static const char *names[] = {"paper", "derived", "reading", "observation"};
    return names[k];
}

const char *rnn_tier_name(rnn_tier t)
{
    static const char *names[] = {"quick", "standard", "full"};
    return names[t];
}

int rnn_tier_parse(const char *s)
{
    for (int t = 0; t < 3; t++)
        if (strcmp(s, rnn_tier_name((rnn_tier)t)) == 0)
            return t;
    return -1;
}
