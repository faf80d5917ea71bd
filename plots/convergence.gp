# convergence.gp — global error against the step size for each cell, with dt^p reference
# lines (THEORY.md §3, order.<cell>). Data: convergence.csv (odernn experiment convergence),
# columns cell,expected_order,fitted_order,dt,error,slope_line,in_fit.
W = 7.0; H = 4.2
load plotdir.'/style.gp'
f = data('convergence.csv')
cells = 'tanh antisym cornn lstm gru rk:midpoint:tanh rk:rk4:tanh'
n = words(cells)
array fitted[n]
array expected[n]
do for [i=1:n] {
    stats f using (strcol(1) eq word(cells, i) ? $3 : NaN):(strcol(1) eq word(cells, i) ? $2 : NaN) nooutput
    fitted[i] = STATS_mean_x
    expected[i] = STATS_mean_y
}
set logscale xy
set format x pow10
set format y pow10
set xlabel tex ? 'step size $\Delta t$ (time units)' : 'step size Δt (time units)'
set ylabel tex ? 'relative global error $E(\Delta t)$' : 'relative global error E(Δt)'
set title tex ? 'Convergence to the ODE: $E(\Delta t) \approx C\,\Delta t^p$ (dashed: slope $p$)' : 'Convergence to the ODE: E(Δt) ≈ C Δt^p (dashed: slope p)'
set key outside right top vertical Left reverse
lab(i) = tex ? sprintf('%s ($p=%d$, fit %.2f)', esc(word(cells, i)), expected[i], fitted[i]) : sprintf('%s (p=%d, fit %.2f)', esc(word(cells, i)), expected[i], fitted[i])
plot for [i=1:n] f using (strcol(1) eq word(cells, i) ? $4 : NaN):5 with linespoints lt i title lab(i), \
     for [i=1:n] f using (strcol(1) eq word(cells, i) ? $4 : NaN):6 with lines lt i dt 2 lw 1 notitle
