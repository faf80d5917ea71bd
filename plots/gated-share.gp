# gated-share.gp — THEORY.md §4.1 (observation): the share of the steps of driven trajectories
# where the gated AntisymmetricRNN's ODE Jacobian has an eigenvalue with Re λ > 0, and where
# the step Jacobian's spectral radius exceeds 1, against the diffusion γ (mean over seeds and
# each seed; where the two coincide the dashed line lies on the thick one). Data: gated-share.csv (odernn experiment gated-share), columns
# gamma,seed,share_re_positive,share_radius_above_one.
W = 6.0; H = 3.8
load plotdir.'/style.gp'
f = data('gated-share.csv')
set xlabel tex ? 'diffusion $\gamma$' : 'diffusion γ'
set ylabel 'share of steps'
set yrange [-0.05:1.05]
set title tex ? 'antisym\_gated: how often the Jacobian has $\mathrm{Re}\,\lambda > 0$' : 'antisym\_gated: how often the Jacobian has Re λ > 0'
set key inside right center Left reverse opaque
plot f using 1:3 with points lt 1 pt 7 ps 0.4 notitle, \
     f using 1:3 smooth unique with linespoints lt 1 lw 5 title (tex ? 'max $\mathrm{Re}\,\lambda(\partial f/\partial s) > 0$' : 'max Re λ(∂f/∂s) > 0'), \
     f using 1:4 with points lt 2 pt 5 ps 0.4 notitle, \
     f using 1:4 smooth unique with linespoints lt 2 dt 2 title (tex ? 'spectral radius of the step $> 1$' : 'spectral radius of the step > 1')
