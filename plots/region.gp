# region.gp — a heatmap of any `odernn region` CSV (columns x,y,metric,value; the axis names in
# the '#' preamble as "# x: NAME" and "# y: NAME"), with an optional boundary curve on top.
#   gnuplot -e "fmt='png'; out='map.png'; plotdir='plots'; map='map.csv'" plots/region.gp
# Colours: when the values have both signs, a diverging palette (blue: negative, red:
# positive) on a symmetric log scale T(v) = sgn(v) log10(1 + |v|/v0), v0 = 1e-4 max|v|, so
# that small growth rates next to large decay rates keep their sign visible; the colour-box
# tics are labelled with the values.
# Optional: boundary='b.csv' (two columns: a y value, then the x value on the boundary, with a
# header row), boundary_title, title, xlabel_text, ylabel_text, cblabel_text. Non-finite values (inf: the trajectory blew up) are drawn
# grey; the colour scale is symmetric around 0 (blue: decay, red: growth) when the values have
# both signs.
if (!exists("W")) W = 6.0
if (!exists("H")) H = 4.4
if (!exists("style_loaded")) load plotdir.'/style.gp'
# NaN pixels (non-finite values) are transparent in an image only when NaN does not mean
# 'missing' (that would drop them from the grid)
set datafile missing '?'
xname = system(sprintf("sed -n 's/^# x: //p' '%s' | head -1", map))
yname = system(sprintf("sed -n 's/^# y: //p' '%s' | head -1", map))
mname = system(sprintf("sed -n 's/^# metric: \\([^ ]*\\).*/\\1/p' '%s' | head -1", map))
stats map using 1:2 nooutput
x0 = STATS_min_x; x1 = STATS_max_x; y0 = STATS_min_y; y1 = STATS_max_y
stats map using ((abs($4) < 1e300) ? $4 : NaN) nooutput
vmax = (abs(STATS_min) > abs(STATS_max)) ? abs(STATS_min) : abs(STATS_max)
both = (STATS_min < 0 && STATS_max > 0)
set table $grid separator comma
plot map using 1:2:4 with table
unset table
v0 = 1e-4 * vmax
T(v) = both ? sgn(v) * log10(1 + abs(v) / v0) : v
if (both) {
    set palette defined (-1 '#2166ac', -0.5 '#92c5de', 0 '#f7f7f7', 0.5 '#f4a582', 1 '#b2182b')
    set cbrange [-T(vmax):T(vmax)]
    set cbtics ('0' 0)
    do for [k=int(floor(log10(v0)))+1:int(ceil(log10(vmax)))] {
        set cbtics add (sprintf(tex ? '$10^{%d}$' : '10^{%d}', k) T(10.0**k), sprintf(tex ? '$-10^{%d}$' : '-10^{%d}', k) T(-10.0**k))
    }
} else {
    set palette cubehelix start 0.5 cycles -1.0 saturation 1.2 negative
}
set xrange [x0:x1]; set yrange [y0:y1]
set xlabel (exists("xlabel_text") ? xlabel_text : esc(xname))
set ylabel (exists("ylabel_text") ? ylabel_text : esc(yname))
set cblabel (exists("cblabel_text") ? cblabel_text : esc(mname))
# LaTeX's colour-box tic labels ($-10^{-2}$) are wider than gnuplot estimates
if (tex) { set cblabel offset 1.5 }
if (exists("title")) { set title title } else { set title esc(mname).' over ('.esc(xname).', '.esc(yname).')' }
set key inside left top opaque box Left reverse
set object 1 rectangle from graph 0, graph 0 to graph 1, graph 1 behind fc rgb '#bbbbbb' fs solid noborder
if (exists("boundary")) {
    plot $grid using 1:2:($3 == $3 && abs($3) < 1e300 ? T($3) : NaN) with image notitle, \
         boundary using 2:1 with lines lc rgb '#000000' lw 2.5 title (exists("boundary_title") ? boundary_title : 'boundary')
} else {
    plot $grid using 1:2:($3 == $3 && abs($3) < 1e300 ? T($3) : NaN) with image notitle
}
