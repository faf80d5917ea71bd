# lyap-dt.gp — discrete against continuous Lyapunov spectra: |λ_i(Δt)/Δt − λ_i(ODE)| against Δt
# for each exponent (thin), their mean over i (thick) and a slope-1 line through the mean at
# the finest Δt (THEORY.md §6 lyap.discrete-to-ode: order 1). Data: lyap-dt.csv (odernn
# experiment lyap-dt), columns cell,dt,index,exponent,ode_exponent.
W = 9.0; H = 3.6
load plotdir.'/style.gp'
f = data('lyap-dt.csv')
cells = 'tanh antisym cornn'
set logscale xy
set format x pow10
set format y pow10
set xlabel tex ? 'step size $\Delta t$ (time units)' : 'step size Δt (time units)'
set key inside left top Left reverse
set multiplot layout 1,3 title (tex ? 'Cell against ODE exponents: $|\lambda_i(\Delta t)/\Delta t - \lambda_i^{\mathrm{ODE}}|$ (thin: each $i$; thick: mean over $i$)' : 'Cell against ODE exponents: |λ_i(Δt)/Δt − λ_i^{ODE}| (thin: each i; thick: mean over i)')
do for [k=1:3] {
    c = word(cells, k)
    stats f using (strcol(1) eq c ? $3 : NaN):(strcol(1) eq c ? $2 : NaN) nooutput
    n = int(STATS_max_x)
    dmin = STATS_min_y
    stats f using (strcol(1) eq c && $2 == dmin ? abs($4 - $5) : NaN) nooutput
    C = STATS_mean / dmin
    set title esc(c)
    if (k == 1) { set ylabel tex ? 'deviation ($1/\mathrm{time}$)' : 'deviation (1/time)' } else { unset ylabel }
    plot for [i=1:n] f using (strcol(1) eq c && $3 == i ? $2 : NaN):(abs($4 - $5)) smooth unique with lines lt k lw 0.5 notitle, \
         f using (strcol(1) eq c ? $2 : NaN):(abs($4 - $5)) smooth unique with linespoints lt k lw 2.5 title 'mean', \
         f using (strcol(1) eq c ? $2 : NaN):(C * $2) smooth unique with lines lc rgb '#000000' dt 2 lw 1 title (tex ? 'slope 1' : 'slope 1')
}
unset multiplot
