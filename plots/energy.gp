# energy.gp — the coRNN energy E_n = γ|y_n|² + |z_n|² along a trajectory with its bound
# E_0 + m t_n/(2ε − γΔt) ([CO] Prop. 3.1; THEORY.md §4.2), both schemes, two settings (top),
# and the ratio E_n / bound (bottom; the bound holds below 1); time on a log axis from t_1. Data: energy.csv (odernn
# experiment energy), columns cell,setting,dt,gamma,eps,step,t,energy,bound.
W = 8.0; H = 5.6
load plotdir.'/style.gp'
f = data('energy.csv')
cells = 'cornn cornn_explicit'
names = tex ? '"IMEX (cornn)" "explicit (cornn\_explicit)"' : '"IMEX (cornn)" "explicit (cornn\_explicit)"'
set logscale xy
set format x pow10
set format y pow10
set multiplot layout 2,2 title (tex ? 'coRNN energy against its bound $E_0 + m\,t_n/(2\varepsilon - \gamma\Delta t)$' : 'coRNN energy against its bound E_0 + m t_n/(2ε − γΔt)')
do for [row=1:2] {
    do for [s=0:1] {
        stats f using (int($2) == s ? $3 : NaN):(int($2) == s ? $4 : NaN) nooutput
        dt = STATS_min_x; gm = STATS_min_y
        stats f using (int($2) == s ? $5 : NaN) nooutput
        ep = STATS_min
        set title tex ? sprintf('$\Delta t = %g$, $\gamma = %g$, $\varepsilon = %g$', dt, gm, ep) : sprintf('Δt = %g, γ = %g, ε = %g', dt, gm, ep)
        set xlabel tex ? 'time $t_n = n\,\Delta t$ (time units)' : 'time t_n = n Δt (time units)'
        if (row == 1 && s == 0) { set key inside left bottom Left reverse } else { unset key }
        if (row == 1) {
            set ylabel tex ? 'energy $E_n$' : 'energy E_n'
            plot for [i=1:2] f using (strcol(1) eq word(cells, i) && int($2) == s && $6 > 0 ? $7 : NaN):8 with lines lt i title word(names, i), \
                 f using (strcol(1) eq 'cornn' && int($2) == s && $6 > 0 ? $7 : NaN):9 with lines lc rgb '#000000' dt 2 lw 1.5 title 'bound'
        } else {
            set ylabel tex ? '$E_n$ / bound' : 'E_n / bound'
            set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lc rgb '#000000' dt 2
            plot for [i=1:2] f using (strcol(1) eq word(cells, i) && int($2) == s && $6 > 0 ? $7 : NaN):($8 / $9) with lines lt i title word(names, i)
            unset arrow 1
        }
    }
}
unset multiplot
