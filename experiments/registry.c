/*
 * registry.c — every check of `odernn verify`, with its id, kind, claim and source
 * (THEORY.md). Per-cell checks run once for every cell of the cell registry.
 */
#include <string.h>
#include "experiments.h"

/* Representative cells of the rk: and ms: families, checked like registered cells (jac.*,
 * vjp.*, order.*): every family code path (stages, past states, higher-order ODEs) on the
 * first-order cells, the one-state coRNN and gated cells (GRU, LSTM, LEM: their ODE VJPs). */
static const char *const family_cells[] = {
    "rk:rk4:tanh", "rk:heun:cornn", "rk:kutta3:antisym_gated", "rk:bogacki_shampine_4_2_3:antisym",
    "rk:heun:gru", "rk:ralston:lstm",
    "ms:ab2:tanh", "ms:ab3:cornn", "ms:leapfrog:antisym", "ms:diff2:tanh", "ms:ab2:lem", "dense:2",
};

const char *rnn_instance_cells_and_families(size_t i)
{
    size_t nr = rnn_registry_count(), nf = sizeof family_cells / sizeof family_cells[0];
    return i < nr ? rnn_registry_get(i)->name : i < nr + nf ? family_cells[i - nr] : NULL;
}

const char *rnn_instance_tableaux(size_t i)
{
    const rnn_tableau *t = rnn_tableau_get(i);
    return t ? t->name : NULL;
}

const char *rnn_instance_multistep(size_t i)
{
    const rnn_multistep_method *M = rnn_multistep_get(i);
    return M ? M->name : NULL;
}

static const rnn_check_def checks[] = {
    {"jac.step", RNN_KIND_DERIVED, "the analytic step Jacobian equals central differences of the step",
     "THEORY.md §3", RNN_TIER_QUICK, 1, rnn_check_jac_step, rnn_instance_cells_and_families},
    {"jac.ode", RNN_KIND_DERIVED, "the analytic ODE Jacobian equals central differences of the right-hand side",
     "THEORY.md §3", RNN_TIER_QUICK, 1, rnn_check_jac_ode, rnn_instance_cells_and_families},
    {"vjp", RNN_KIND_DERIVED, "BPTT gradients (state and every parameter) equal central differences of the loss",
     "THEORY.md §3", RNN_TIER_QUICK, 1, rnn_check_vjp, rnn_instance_cells_and_families},
    {"cvode.exact", RNN_KIND_DERIVED,
     "CVODE's error (BDF and Adams) against a closed-form solution falls in proportion to rtol",
     "THEORY.md §3; docs/theory/cvode-exact.md", RNN_TIER_QUICK, 0, rnn_check_cvode_exact, NULL},
    {"cvode.exact-constant", RNN_KIND_OBSERVATION,
     "THEORY.md's 'error <= 20 rtol max|s|' for CVODE: measured, not a theorem (BDF exceeds it at rtol 1e-11)",
     "THEORY.md §3; counterexample in docs/theory/cvode-exact.md", RNN_TIER_QUICK, 0,
     rnn_check_cvode_exact_constant, NULL},
    {"order", RNN_KIND_DERIVED, "the cell is a consistent integrator of its ODE with its stated order",
     "THEORY.md §2-3", RNN_TIER_QUICK, 1, rnn_check_order, rnn_instance_cells_and_families},
    {"cornn.energy-identity", RNN_KIND_DERIVED,
     "IMEX coRNN: E_n - E_{n-1} = -|z_n - z_{n-1}|^2 + 2 dt s_n.z_n + dt (gamma dt - 2 eps)|z_n|^2 exactly",
     "THEORY.md §4.2; docs/theory/cornn-energy.md", RNN_TIER_QUICK, 0, rnn_check_cornn_energy_identity, NULL},
    {"cornn.energy-bound", RNN_KIND_PAPER,
     "IMEX coRNN: E_n <= E_0 + m t_n / (2 eps - gamma dt) whenever gamma dt < 2 eps, for all weights and inputs",
     "[CO] Prop. 3.1, as derived in docs/theory/cornn-energy.md", RNN_TIER_QUICK, 0,
     rnn_check_cornn_energy_bound, NULL},
    {"cornn.explicit-vs-imex", RNN_KIND_OBSERVATION,
     "the official code's explicit damping does not satisfy the IMEX energy bound",
     "THEORY.md §4.2; [CO] official code", RNN_TIER_QUICK, 0, rnn_check_cornn_explicit_vs_imex, NULL},
    {"cornn.ode-energy", RNN_KIND_DERIVED,
     "coRNN ODE: dE/dt <= |s|^2 / (2 eps), so E(t) <= E(0) + m t / (2 eps) along CVODE trajectories",
     "THEORY.md §4.2; docs/theory/cornn-energy.md", RNN_TIER_QUICK, 0, rnn_check_cornn_ode_energy, NULL},
    {"cornn.gradient-bound", RNN_KIND_PAPER,
     "IMEX coRNN: the e-norm of dX_n/dX_k is at most exp(Lambda (t_n - t_k) / 2), Lambda = c^2 / (2 eps - gamma dt)",
     "[CO] Prop. 3.2, as derived in docs/theory/cornn-gradient.md", RNN_TIER_STANDARD, 0,
     rnn_check_cornn_gradient_bound, NULL},
    {"cornn.no-step-explosion", RNN_KIND_PAPER,
     "at a fixed horizon, refining dt does not make |dX_N/dX_0| explode: it converges at order 1",
     "[CO] §3, as derived in docs/theory/cornn-gradient.md", RNN_TIER_QUICK, 0,
     rnn_check_cornn_no_step_explosion, NULL},
    {"antisym.spectrum-imaginary", RNN_KIND_PAPER,
     "the ODE Jacobian D A (A antisymmetric, D > 0 diagonal) has purely imaginary eigenvalues",
     "[AS] §3; docs/theory/antisym-spectrum.md", RNN_TIER_QUICK, 0, rnn_check_antisym_imaginary, NULL},
    {"antisym.needs-positive-d", RNN_KIND_DERIVED,
     "the hypothesis d > 0 is needed: D = diag(1, -1) gives real eigenvalues +-1",
     "THEORY.md §4.1; docs/theory/antisym-spectrum.md", RNN_TIER_QUICK, 0, rnn_check_antisym_needs_positive_d, NULL},
    {"antisym.diffusion-band", RNN_KIND_DERIVED,
     "with diffusion, J = D (A - gamma I) has -gamma max d <= Re lambda <= -gamma min d",
     "THEORY.md §4.1; docs/theory/antisym-spectrum.md", RNN_TIER_QUICK, 0, rnn_check_antisym_diffusion_band, NULL},
    {"antisym.euler-unstable", RNN_KIND_PAPER,
     "forward Euler needs |1 + eps lambda| <= 1; with gamma = 0 it fails for every eps > 0",
     "[AS] Prop. 2; docs/theory/antisym-spectrum.md", RNN_TIER_QUICK, 0, rnn_check_antisym_euler_unstable, NULL},
    {"antisym.euler-condition", RNN_KIND_DERIVED,
     "|1 + eps lambda| <= 1 iff eps |lambda|^2 <= -2 Re lambda predicts the spectral radius of I + eps (A - gamma I)",
     "THEORY.md §4.1; docs/theory/antisym-spectrum.md", RNN_TIER_QUICK, 0, rnn_check_antisym_euler_condition, NULL},
    {"antisym.long-memory", RNN_KIND_PAPER,
     "with small gamma the end-to-end Jacobian neither explodes nor vanishes over 2000 steps; tanh loses >= 10 orders",
     "[AS] §3; docs/theory/pascanu.md", RNN_TIER_QUICK, 0, rnn_check_antisym_long_memory, NULL},
    {"antisym_gated.positive-real", RNN_KIND_OBSERVATION,
     "the share of steps where the gated cell's Jacobian has an eigenvalue with positive real part",
     "THEORY.md §4.1 ([AS] §3.3 says the criterion 'still holds')", RNN_TIER_QUICK, 0,
     rnn_check_antisym_gated_positive, NULL},
    {"lyap.sum-rule", RNN_KIND_DERIVED,
     "QR method with k = n: the exponents sum to the mean log|det| of the step Jacobian",
     "THEORY.md §6; docs/theory/lyapunov.md", RNN_TIER_QUICK, 1, rnn_check_lyap_sum_rule, NULL},
    {"lyap.qr-vs-two-trajectory", RNN_KIND_DERIVED,
     "the largest exponent by QR equals the renormalised divergence rate of two nearby trajectories",
     "THEORY.md §6; docs/theory/lyapunov.md", RNN_TIER_QUICK, 1, rnn_check_lyap_qr_vs_two, NULL},
    {"lyap.discrete-to-ode", RNN_KIND_DERIVED,
     "the cell's exponents per unit time converge at order 1 to its ODE's (CVODE, variational equations)",
     "THEORY.md §6; docs/theory/lyapunov.md", RNN_TIER_STANDARD, 1, rnn_check_lyap_discrete_to_ode, NULL},
    {"lyap.classical", RNN_KIND_PAPER,
     "the engine reproduces the Lorenz-63 spectrum (0.91, 0, -14.57)",
     "THEORY.md §6 (classical: Wolf et al., Physica D 16, 1985)", RNN_TIER_QUICK, 0, rnn_check_lyap_classical, NULL},
    {"grad.tangent-vs-adjoint", RNN_KIND_DERIVED,
     "||ds_T/ds_0|| by forward tangents equals the reverse (adjoint) sweep, in the log domain",
     "THEORY.md §6; docs/theory/lyapunov.md", RNN_TIER_QUICK, 1, rnn_check_grad_tangent_vs_adjoint, NULL},
    {"grad.pascanu-bound", RNN_KIND_PAPER,
     "tanh cell at dt = 1: ||dh_T/dh_k|| <= sigma_max(W)^(T-k), and sigma_max < 1 vanishes exponentially",
     "[PA] Pascanu, Mikolov, Bengio, ICML 2013, §2.2; docs/theory/pascanu.md", RNN_TIER_QUICK, 0,
     rnn_check_grad_pascanu, NULL},
    /* fixedpoint.c */
    {"fixedpoint.kinsol", RNN_KIND_DERIVED,
     "equilibria of the ODE and fixed points of the step are found (KINSOL) and classified by the "
     "spectrum there: residual <= 1e-12, and the class predicts the sign of the measured local growth",
     "THEORY.md §6; docs/theory/fixedpoint.md", RNN_TIER_QUICK, 1, rnn_check_fixedpoint_kinsol, NULL},
    /* continuous_adjoint.c */
    {"grad.continuous-adjoint", RNN_KIND_DERIVED,
     "the CVODES adjoint gradient dL/ds0 of a terminal loss of the ODE is the dt -> 0 limit of the cell's BPTT gradient, with an error of the cell's order",
     "THEORY.md §6; docs/theory/continuous-adjoint.md", RNN_TIER_QUICK, 1, rnn_check_continuous_adjoint, NULL},
    {"odernn.class-table", RNN_KIND_READING,
     "each cell's stated (n, t) class follows from its structure: stages nested, past states read",
     "[OD] arXiv 1904.12933 (reading); THEORY.md §5.3; docs/theory/od-reading.md", RNN_TIER_QUICK, 0,
     rnn_check_odernn_class_table, NULL},
    {"odernn.unitary-is-midpoint", RNN_KIND_READING,
     "the unitary cell's linear map is the implicit-midpoint step of s' = S s: orthogonal, eigenvalues on the unit circle, norm preserved",
     "[OD] (reading); THEORY.md §5.3; docs/theory/unitary-lipschitz-fastrnn.md", RNN_TIER_QUICK, 0,
     rnn_check_unitary_is_midpoint, NULL},
    {"lipschitz.numerical-range", RNN_KIND_DERIVED,
     "every eigenvalue of A_beta has Re lambda in [lambda_min(H), lambda_max(H)], H = (1-beta)(M + M^T) - gamma_A I",
     "[LR]; THEORY.md §5.5; docs/theory/unitary-lipschitz-fastrnn.md", RNN_TIER_QUICK, 0,
     rnn_check_lipschitz_numerical_range, NULL},
    {"fastrnn.is-euler", RNN_KIND_DERIVED,
     "with beta = 1 - alpha (drift 0) the FastRNN step is the Euler step of h' = rate (tanh(W h + U u + b) - h)",
     "THEORY.md §5.5; docs/theory/unitary-lipschitz-fastrnn.md", RNN_TIER_QUICK, 0,
     rnn_check_fastrnn_is_euler, NULL},
    {"unicornn.volume-preserving", RNN_KIND_DERIVED,
     "the UnICORNN step is a composition of two shears, so det(ds_n/ds_{n-1}) = 1",
     "THEORY.md §5.5; docs/theory/unicornn-lem.md", RNN_TIER_QUICK, 0, rnn_check_unicornn_volume, NULL},
    {"unicornn.reversible", RNN_KIND_DERIVED,
     "the inverse shears undo the UnICORNN step: 10^4 steps forward and back recover s_0 to 1e-9",
     "THEORY.md §5.5; docs/theory/unicornn-lem.md", RNN_TIER_QUICK, 0, rnn_check_unicornn_reversible, NULL},
    {"odernn.lstm-is-euler", RNN_KIND_READING,
     "the standard LSTM (c_n = f c + i g, h_n = o tanh(c_n)) equals the partitioned Euler step of the LSTM ODE at dt = 1",
     "[OD] (reading); THEORY.md §5.3; docs/theory/lstm-gru-euler.md", RNN_TIER_QUICK, 0,
     rnn_check_odernn_lstm_is_euler, NULL},
    {"odernn.gru-is-euler", RNN_KIND_READING,
     "the standard GRU (h_n = (1 - z) h + z tanh(W (r h) + U u + b)) equals the Euler step of the GRU ODE at dt = 1",
     "[OD] (reading); THEORY.md §5.3; docs/theory/lstm-gru-euler.md", RNN_TIER_QUICK, 0,
     rnn_check_odernn_gru_is_euler, NULL},
    {"qunn.params-linear", RNN_KIND_READING,
     "QUNN's parameter count is exactly alpha t + beta(m), alpha independent of m (beta = the injection); the dense t-step baseline's recurrent count grows as m^2",
     "[OD] §QUNN (reading); THEORY.md §5.4; docs/theory/qunn.md", RNN_TIER_QUICK, 0,
     rnn_check_qunn_params_linear, NULL},
    {"qunn.norm-preserving", RNN_KIND_DERIVED,
     "the QUNN recurrence is orthogonal: without injection |h_n| = |h_0| over 10^4 steps, and every singular value of the step Jacobian is 1",
     "THEORY.md §5.4; docs/theory/qunn.md", RNN_TIER_QUICK, 0, rnn_check_qunn_norm_preserving, NULL},
    {"qunn.universal", RNN_KIND_DERIVED,
     "with t >= m(m-1)/2 Givens generators every rotation in SO(m) is reachable: a constructive decomposition fed into the cell reproduces a Haar-random target",
     "THEORY.md §5.4; docs/theory/qunn.md", RNN_TIER_QUICK, 0, rnn_check_qunn_universal, NULL},
    {"odernn.stage-order", RNN_KIND_READING,
     "an n-stage rk:<tableau>:<cell> converges to the ODE with the tableau's order p (tanh and cornn ODEs)",
     "[OD] (reading); THEORY.md §5.1", RNN_TIER_STANDARD, 0, rnn_check_odernn_stage_order,
     rnn_instance_tableaux},
    {"odernn.stability-function", RNN_KIND_DERIVED,
     "on h' = lambda h one step of rk:<tableau> multiplies by R(dt lambda) = 1 + z b^T (I - z A)^{-1} 1",
     "THEORY.md §5.1; docs/theory/odernn-family.md", RNN_TIER_QUICK, 0,
     rnn_check_odernn_stability_function, rnn_instance_tableaux},
    {"odernn.equilibrium-spectrum", RNN_KIND_DERIVED,
     "at an ODE equilibrium s* every stage sits at s*, so the rk step Jacobian is R(dt J_f(s*)): eigenvalues R(dt lambda_i)",
     "THEORY.md §5.1; docs/theory/odernn-family.md", RNN_TIER_QUICK, 0,
     rnn_check_odernn_equilibrium_spectrum, NULL},
    {"odernn.memory-order", RNN_KIND_DERIVED,
     "ms:<method>:tanh converges with the order of the method's Taylor conditions",
     "THEORY.md §5.2; docs/theory/odernn-family.md", RNN_TIER_STANDARD, 0,
     rnn_check_odernn_memory_order, rnn_instance_multistep},
    {"odernn.stability-predicts-gradients", RNN_KIND_READING,
     "when dt lambda_i(J_f) lies inside {|R| <= 1} for all i along a trajectory, ||ds_n/ds_0|| does not grow; outside, it grows",
     "[OD] (reading); THEORY.md §5.1; docs/theory/odernn-family.md", RNN_TIER_STANDARD, 0,
     rnn_check_odernn_stability_gradients, rnn_instance_tableaux},
    {"odernn.root-condition", RNN_KIND_DERIVED,
     "the companion matrix's spectral radius predicts growth of the linear test problem; leapfrog |roots| = 1 iff z in i(-1, 1), diff2 iff z in (-4, 0)",
     "THEORY.md §5.2; docs/theory/odernn-family.md", RNN_TIER_QUICK, 0,
     rnn_check_odernn_root_condition, rnn_instance_multistep},
    /* kernel_checks.c (THEORY.md §7; one shared width sweep) */
    {"kernel.memory-contraction", RNN_KIND_READING,
     "the memory forgets its initial state geometrically: every one-step ratio |dH_{k+1}|_inf/|dH_k|_inf <= sup|sigma'| max|B^i|, at every width",
     "[KL] arXiv 2308.14555 (reading); THEORY.md §7; docs/theory/kernel-limit.md", RNN_TIER_QUICK, 0,
     rnn_check_kernel_memory_contraction, NULL},
    {"kernel.ntk-fluctuation", RNN_KIND_DERIVED,
     "||K^N - K||_F/||K|| at initialisation ~ N^-1/2 (slope within -0.5 +- 0.08, beta 0.6/0.75/0.9, readings a and b)",
     "THEORY.md §7; docs/theory/kernel-limit.md", RNN_TIER_QUICK, 0, rnn_check_kernel_ntk_fluctuation, NULL},
    {"kernel.output-at-init", RNN_KIND_DERIVED,
     "the std of g^N_0 ~ N^(1/2 - beta) (slope within +-0.08)",
     "THEORY.md §7; docs/theory/kernel-limit.md", RNN_TIER_QUICK, 0, rnn_check_kernel_output_at_init, NULL},
    {"kernel.parameter-drift", RNN_KIND_DERIVED,
     "mean_i |theta^i_t - theta^i_0| over the horizon ~ N^(beta - 1) (slope within +-0.08)",
     "THEORY.md §7; docs/theory/kernel-limit.md", RNN_TIER_QUICK, 0, rnn_check_kernel_parameter_drift, NULL},
    {"kernel.kernel-drift", RNN_KIND_OBSERVATION,
     "THEORY.md's sup_t ||K^N_t - K^N_0||_F ~ N^(beta - 1): measured, not a theorem (with symmetric C the drift is ~ N^(2 beta - 2))",
     "THEORY.md §7; counterexample in docs/theory/kernel-limit.md", RNN_TIER_QUICK, 0,
     rnn_check_kernel_kernel_drift, NULL},
    {"kernel.limit-ode", RNN_KIND_READING,
     "the trained network follows the kernel ODE dg/dt = alpha E_pi[K (y - g)]: sup_t max_probe |g^N_t - g_t| has slope <= -min(beta - 1/2, 1 - beta, 1/2) + 0.08",
     "[KL] arXiv 2308.14555 (reading); THEORY.md §7; docs/theory/kernel-limit.md", RNN_TIER_STANDARD, 0,
     rnn_check_kernel_limit_ode, NULL},
    {"kernel.control", RNN_KIND_DERIVED,
     "at beta = 1/2 the output at initialisation stays random: the slope of its std over seeds is >= -0.08",
     "THEORY.md §7; docs/theory/kernel-limit.md", RNN_TIER_QUICK, 0, rnn_check_kernel_control, NULL},
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
