# ntk-scaling.gp — the kernel-limit scaling plots ([KL], THEORY.md §7, a reading): each metric
# against the width N on log–log axes, for every β and reading (a: solid, b: dashed), the mean
# over seeds (points), the fitted power law exp(intercept) N^slope (line) and the predicted
# slope (grey dotted, through the fit at the smallest N); the key gives the fitted slope with
# its interval and the expected one. Only the (β, reading) series in the files are drawn and
# keyed (the default sweep has one). x: log base 2, a tic at every width that was run; y: whole
# decades, labelled 10^k. The sixth panel is the key to the styles, with the seed count.
# Data: ntk-sweep.csv (beta,reading,N,seed,metric,value) and ntk-fits.csv
# (beta,reading,metric,slope,ci_lo,ci_hi,expected,intercept), from odernn ntk.
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
# The widths that were run (powers of two): the x tics, on a base-2 log axis.
widths = system(sprintf("grep -v '^#' '%s' | sed 1d | cut -d, -f3 | sort -gu | tr '\\n' ' '", f))
Nmin = real(word(widths, 1)); Nmax = real(word(widths, words(widths)))
set logscale x 2
set xrange [Nmin / 1.4 : Nmax * 1.4]
xtfont = words(widths) > 7 ? ',8' : ','
set xtics () font xtfont
do for [i=1:words(widths)] { set xtics add (word(widths, i) real(word(widths, i))) }
set mxtics 1
set logscale y 10
set format y pow10
set xlabel tex ? 'width $N$' : 'width N'
set key inside left bottom Left reverse font ',8' samplen 2.5 spacing 1.0
set multiplot layout 2,3 title (tex ? 'Kernel-limit scaling: value $\approx e^{c} N^{\mathrm{slope}}$ (points: mean over seeds; lines: fit; dotted: expected slope)' : 'Kernel-limit scaling: value ≈ e^c N^{slope} (points: mean over seeds; lines: fit; dotted: expected slope)')
# With more than two series (β, reading) the key is smaller and gets a decade of its own below
# the data.
nseries = system(sprintf("grep -v '^#' '%s' | sed 1d | cut -d, -f1,2 | sort -u | wc -l", g)) + 0
keysize = nseries > 2 ? (tex ? '\scriptsize ' : '') : small
if (nseries > 2) { set key font ',7' }
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
    # A series (β, reading) that was not run has no fit: it is neither drawn nor in the key.
    has(b, r) = sl[2*(b-1)+r] == sl[2*(b-1)+r]
    lab(b, r) = !has(b, r) ? '' : keysize.sprintf(tex ? '$\beta=%s$ (%s): $%.2f$ $[%.2f, %.2f]$, exp.\ $%g$' : 'β=%s (%s): %.2f [%.2f, %.2f], exp. %g', word(betas, b), word(readings, r), sl[2*(b-1)+r], lo[2*(b-1)+r], hi[2*(b-1)+r], ex[2*(b-1)+r])
    sel(b, r) = (abs($1 - real(word(betas, b))) < 1e-12 && strcol(2) eq word(readings, r) && strcol(5) eq met)
    # y: whole decades around the panel's positive values, so that every tic is a power of ten
    set autoscale y  # stats skips points outside a fixed range
    stats f using (strcol(5) eq met && $6 > 0 ? $6 : NaN) nooutput
    ylo = floor(log10(STATS_min)) - (nseries > 2 ? 1 : 0); yhi = ceil(log10(STATS_max))
    set yrange [10**ylo : 10**(yhi > ylo ? yhi : ylo + 1)]
    plot for [b=1:nb] for [r=1:2] f using (sel(b, r) ? $3 : NaN):6 smooth unique with points lt b pt (r == 1 ? 7 : 6) ps 0.6 notitle, \
         for [b=1:nb] for [r=1:2] (has(b, r) ? exp(ic[2*(b-1)+r]) * x**sl[2*(b-1)+r] : NaN) with lines lt b dt r lw 1.2 title lab(b, r), \
         for [b=1:nb] for [r=1:2] (has(b, r) && ex[2*(b-1)+r] == ex[2*(b-1)+r] ? exp(ic[2*(b-1)+r]) * Nmin**(sl[2*(b-1)+r] - ex[2*(b-1)+r]) * x**ex[2*(b-1)+r] : NaN) with lines lc rgb '#888888' dt 3 lw 1 notitle
}
# The sixth panel: the key to the line and point styles.
unset title; unset xlabel; unset ylabel; unset logscale; unset grid; unset tics; unset border
set xrange [0:1]; set yrange [0:1]
set key inside center center Left reverse font ',' samplen 3 spacing 1.4
seeds = system(sprintf("grep -v '^#' '%s' | sed 1d | cut -d, -f4 | sort -gu | wc -l", f)) + 0
run = system(sprintf("grep -v '^#' '%s' | sed 1d | cut -d, -f2 | sort -u | tr '\\n' ' '", f))
plot NaN notitle, \
     keyentry with linespoints lc rgb '#444444' pt 7 dt 1 lw 1.2 title (strstrt(run, 'a') ? 'reading a (diagonal memory)' : ''), \
     keyentry with linespoints lc rgb '#444444' pt 6 dt 2 lw 1.2 title (strstrt(run, 'b') ? 'reading b (mean-field memory)' : ''), \
     keyentry with lines lc rgb '#888888' dt 3 lw 1 title (tex ? 'expected slope (THEORY.md \S7)' : 'expected slope (THEORY.md §7)'), \
     keyentry with points lc rgb '#ffffff' pt 0 title sprintf(tex ? 'colour: $\beta$; %d seeds per width' : 'colour: β; %d seeds per width', seeds)
unset multiplot
