# lyapunov.gp — the sorted Lyapunov spectra per unit time of five cells, the mean over seeds
# with its 95% interval (band). Data: lyap-spectra.csv (odernn experiment lyap-spectra),
# columns cell,index,exponent,ci_lo,ci_hi,seeds.
W = 6.5; H = 4.2
load plotdir.'/style.gp'
f = data('lyap-spectra.csv')
cells = 'tanh antisym cornn lstm gru'
set xlabel tex ? 'index $i$ (exponents sorted, largest first)' : 'index i (exponents sorted, largest first)'
set ylabel tex ? 'exponent $\lambda_i$ per unit time ($1/\mathrm{time}$)' : 'exponent λ_i per unit time (1/time)'
set title tex ? 'Lyapunov spectra at the default hyperparameters (band: 95\% interval over seeds)' : 'Lyapunov spectra at the default hyperparameters (band: 95% interval over seeds)'
set key outside right top Left reverse
set style fill transparent solid 0.25 noborder
set arrow from graph 0, first 0 to graph 1, first 0 nohead lc rgb '#888888' dt 3
plot for [i=1:5] f using (strcol(1) eq word(cells, i) ? $2 : NaN):4:5 with filledcurves lt i notitle, \
     for [i=1:5] f using (strcol(1) eq word(cells, i) ? $2 : NaN):3 with linespoints lt i title esc(word(cells, i))
