# antisym-region.gp — the AntisymmetricRNN (ε, γ) stability picture: the growth rate of
# ||ds_T/ds_0|| per unit time measured by `odernn region` (grad-growth; blue: perturbations
# decay, red: they grow) with the boundary [AS] predicts for forward Euler,
# |1 + ε(−γ + iω_max)| = 1, i.e. ε = 2γ/(γ² + ω_max²) (THEORY.md §4.1). Data:
# antisym-region.csv (the map, in `odernn region` format) and antisym-boundary.csv (gamma,
# eps_boundary), from odernn experiment antisym-region.
W = 6.5; H = 4.6
load plotdir.'/style.gp'
map = data('antisym-region.csv')
boundary = data('antisym-boundary.csv')
boundary_title = tex ? 'predicted: $|1 + \varepsilon(-\gamma + i\omega_{\max})| = 1$' : 'predicted: |1 + ε(−γ + iω_{max})| = 1'
title = tex ? 'AntisymmetricRNN: growth of $\|\partial s_T/\partial s_0\|$ per unit time' : 'AntisymmetricRNN: growth of ||∂s_T/∂s_0|| per unit time'
xlabel_text = tex ? 'Euler step $\varepsilon$' : 'Euler step ε'
ylabel_text = tex ? 'diffusion $\gamma$' : 'diffusion γ'
cblabel_text = tex ? '$\log\|\partial s_T/\partial s_0\|_2 / t_T$ ($1/\mathrm{time}$)' : 'log ||∂s_T/∂s_0||_2 / t_T (1/time)'
load plotdir.'/region.gp'
