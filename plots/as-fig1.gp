# as-fig1.gp — [AS] Fig. 1: trajectories of the 2-D feedback maps, residual
# h_t = h_{t−1} + 0.1 tanh(W h_{t−1}) (top) and vanilla h_t = tanh(W h_{t−1}) (bottom), for
# the four matrices W+, W−, W0, Wdiff, 50 steps from three starts (the square marks the start).
# Data: as-fig1.csv (odernn experiment as-fig1), columns panel,scheme,start,step,h1,h2.
W = 9.0; H = 4.8
load plotdir.'/style.gp'
f = data('as-fig1.csv')
panels = 'Wplus Wminus W0 Wdiff'
ptitle = tex ? '"$W_{+}$ (eigenvalues 2, 2)" "$W_{-}$ ($-2$, $-2$)" "$W_0$ ($\pm 2i$)" "$W_{\mathrm{diff}}$ ($-0.15 \pm 2i$)"' : '"W_+ (eigenvalues 2, 2)" "W_{−} (−2, −2)" "W_0 (±2i)" "W_{diff} (−0.15 ± 2i)"'
schemes = 'residual vanilla'
set size ratio -1
set xrange [-1.5:1.5]; set yrange [-1.5:1.5]
set xtics 1; set ytics 1
set multiplot layout 2,4 title lead(tex ? '[AS] Fig.~1: residual $h_t = h_{t-1} + 0.1\tanh(W h_{t-1})$ (top), vanilla $h_t = \tanh(W h_{t-1})$ (bottom)' : '[AS] Fig. 1: residual h_t = h_{t-1} + 0.1 tanh(W h_{t-1}) (top), vanilla h_t = tanh(W h_{t-1}) (bottom)')
do for [s=1:2] {
    do for [p=1:4] {
        set title word(ptitle, p)
        set xlabel (s == 2 ? (tex ? '$h_1$' : 'h_1') : '')
        set ylabel (p == 1 ? (tex ? sprintf('%s: $h_2$', word(schemes, s)) : sprintf('%s: h_2', word(schemes, s))) : '')
        plot for [k=0:2] f using (strcol(1) eq word(panels, p) && strcol(2) eq word(schemes, s) && $3 == k ? $5 : NaN):6 with linespoints lt k+1 lw 1 pt 7 ps 0.25 notitle, \
             for [k=0:2] f using (strcol(1) eq word(panels, p) && strcol(2) eq word(schemes, s) && $3 == k && $4 == 0 ? $5 : NaN):6 with points lt k+1 pt 5 ps 0.8 notitle
    }
}
unset multiplot
