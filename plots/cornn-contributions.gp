# cornn-contributions.gp — [CO] Prop. 3.3: the contribution of step k to the gradient of
# L_N = ½||s_N||², ||(∂L_N/∂s_N)(∂s_N/∂s_k)(∂⁺s_k/∂θ)||_2, against the lag N − k, for the IMEX
# and the explicit coRNN: the mean of log10 over seeds (thick) and each seed (thin). Data:
# cornn-contributions.csv (odernn experiment cornn-contributions), columns
# cell,seed,lag,log10_contribution.
W = 6.5; H = 4.0
load plotdir.'/style.gp'
f = data('cornn-contributions.csv')
cells = 'cornn cornn_explicit'
names = '"IMEX (cornn)" "explicit (cornn\_explicit)"'
stats f using 2 nooutput
seeds = int(STATS_max) + 1
set xlabel tex ? 'lag $N - k$ (steps)' : 'lag N − k (steps)'
set ylabel tex ? '$\log_{10}$ contribution of step $k$' : 'log_{10} contribution of step k'
set title lead(tex ? '[CO] Prop.~3.3: step contributions to $\partial L_N/\partial\theta$ ($N = 1000$)' : '[CO] Prop. 3.3: step contributions to ∂L_N/∂θ (N = 1000)')
set key inside right top Left reverse opaque
plot for [i=1:2] for [r=0:seeds-1] f using (strcol(1) eq word(cells, i) && $2 == r ? $3 : NaN):4 with lines lt i lw 0.3 notitle, \
     for [i=1:2] f using (strcol(1) eq word(cells, i) ? $3 : NaN):4 smooth unique with lines lt i lw 2.5 title word(names, i)
