# ntk-scaling.gp — the kernel-limit scaling plots ([KL], THEORY.md §7, a reading): each metric
# against the width N on log–log axes, for every β and reading (a: solid, b: dashed), the mean
# over seeds (points), the fitted power law exp(intercept) N^slope (line) and the predicted
# slope (grey dotted, through the fit at the smallest N); the key gives the fitted slope with
# its interval and the expected one. Data: ntk-sweep.csv (beta,reading,N,seed,metric,value)
# and ntk-fits.csv (beta,reading,metric,slope,ci_lo,ci_hi,expected,intercept), from odernn ntk.
W = 11.0; H = 6.6
load plotdir.'/style.gp'
f = data('ntk-sweep.csv')
g = data('ntk-fits.csv')
metrics = 'ntk_fluctuation output_at_init parameter_drift kernel_drift limit_distance'
readings = 'a b'
betas = system(sprintf("grep -v '^#' '%s' | sed 1d | cut -d, -f1 | sort -gu | tr '\\n' ' '", f))
nb = words(betas)
# One field of the fits row for (β, reading, metric), NaN when there is none.
fitq = "grep -v '^#' '%s' | awk -F, -v b=%s -v r=%s -v m=%s -v c=%d 'NR > 1 && $1 + 0 == b + 0 && $2 == r && $3 == m { print $c; exit }'"
fitv(b, r, met, col) = (fit_s = system(sprintf(fitq, g, word(betas, b), word(readings, r), met, col)), fit_s eq '' ? NaN : real(fit_s))
stats f using 3 nooutput
Nmin = STATS_min; Nmax = STATS_max
set logscale xy
set format x pow10
set format y pow10
set xrange [Nmin / 1.5 : Nmax * 1.5]
set xtics 2
set format x '%g'
set xlabel tex ? 'width $N$' : 'width N'
set key inside left bottom Left reverse font ',7' samplen 1.5 spacing 0.9
set multiplot layout 2,3 title (tex ? 'Kernel-limit scaling: value $\approx e^{c} N^{\mathrm{slope}}$ (points: mean over seeds; lines: fit; dotted: expected slope)' : 'Kernel-limit scaling: value ≈ e^c N^{slope} (points: mean over seeds; lines: fit; dotted: expected slope)')
do for [k=1:words(metrics)] {
    met = word(metrics, k)
    set title esc(met)
    set ylabel (k == 1 || k == 4) ? 'value' : ''
    array sl[2*nb]; array lo[2*nb]; array hi[2*nb]; array ex[2*nb]; array ic[2*nb]
    do for [b=1:nb] {
        do for [r=1:2] {
            q = 2*(b-1) + r
            sl[q] = fitv(b, r, met, 4); lo[q] = fitv(b, r, met, 5); hi[q] = fitv(b, r, met, 6)
            ex[q] = fitv(b, r, met, 7); ic[q] = fitv(b, r, met, 8)
        }
    }
    lab(b, r) = sprintf(tex ? '$\beta=%s$ (%s): %.2f [%.2f, %.2f], exp. %g' : 'β=%s (%s): %.2f [%.2f, %.2f], exp. %g', word(betas, b), word(readings, r), sl[2*(b-1)+r], lo[2*(b-1)+r], hi[2*(b-1)+r], ex[2*(b-1)+r])
    sel(b, r) = (abs($1 - real(word(betas, b))) < 1e-12 && strcol(2) eq word(readings, r) && strcol(5) eq met)
    plot for [b=1:nb] for [r=1:2] f using (sel(b, r) ? $3 : NaN):6 smooth unique with points lt b pt (r == 1 ? 7 : 6) ps 0.6 notitle, \
         for [b=1:nb] for [r=1:2] (sl[2*(b-1)+r] == sl[2*(b-1)+r] ? exp(ic[2*(b-1)+r]) * x**sl[2*(b-1)+r] : NaN) with lines lt b dt r lw 1.2 title lab(b, r), \
         for [b=1:nb] for [r=1:2] (ex[2*(b-1)+r] == ex[2*(b-1)+r] ? exp(ic[2*(b-1)+r]) * Nmin**(sl[2*(b-1)+r] - ex[2*(b-1)+r]) * x**ex[2*(b-1)+r] : NaN) with lines lc rgb '#888888' dt 3 lw 1 notitle
}
unset multiplot
