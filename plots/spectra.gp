# spectra.gp — dt λ of the ODE Jacobian along trajectories in the complex plane, with the
# stability region |R(z)| <= 1 of the cell's Runge–Kutta method shaded behind (from the
# tableau's stability function, solvers/tableau.c) and its boundary |R(z)| = 1 drawn from the
# closed form (Euler: R = 1 + z; RK4: R = 1 + z + z²/2 + z³/6 + z⁴/24): the two must coincide.
# Data: spectra.csv (cell,method,step,index,re,im) and stability-regions.csv
# (cell,method,x,y,abs_R), from odernn experiment spectra.
W = 7.0; H = 6.4
load plotdir.'/style.gp'
# NaN pixels are transparent in an image only when NaN does not mean 'missing' (that would
# drop them from the grid)
set datafile missing '?'
f = data('spectra.csv')
g = data('stability-regions.csv')
cells = 'tanh rk:rk4:tanh antisym rk:rk4:antisym'
methods = 'euler rk4 euler rk4'
R_euler(z) = 1 + z
R_rk4(z) = 1 + z + z**2/2 + z**3/6 + z**4/24
absR(m, x, y) = m eq 'rk4' ? abs(R_rk4(x + {0,1}*y)) : abs(R_euler(x + {0,1}*y))
unset colorbox
set palette defined (0 '#d6e9f8', 1 '#d6e9f8')
set cbrange [0:1]
set size ratio -1
set xlabel tex ? '$\mathrm{Re}\,(\Delta t\,\lambda)$' : 'Re(Δt λ)'
set ylabel tex ? '$\mathrm{Im}\,(\Delta t\,\lambda)$' : 'Im(Δt λ)'
set key off
set multiplot layout 2,2 title (tex ? "Points: $\\Delta t\\,\\lambda_i$ of $\\partial f/\\partial s$ along the trajectory. Shaded: $|R(z)| \\le 1$ (tableau);\nline: $|R(z)| = 1$ (closed form)" : "Points: Δt λ_i of ∂f/∂s along the trajectory. Shaded: |R(z)| ≤ 1 (tableau);\nline: |R(z)| = 1 (closed form)")
do for [i=1:4] {
    c = word(cells, i); meth = word(methods, i)
    set table $grid separator comma
    plot g using 3:4:5 with table if (strcol(1) eq c)
    unset table
    stats $grid using 1:2 nooutput
    x0 = STATS_min_x; x1 = STATS_max_x; y0 = STATS_min_y; y1 = STATS_max_y
    # the closed-form boundary as a contour, on the same window
    set contour base; set cntrparam levels discrete 1; unset surface
    set isosamples 200, 200
    set table $edge
    splot [x0:x1][y0:y1] absR(meth, x, y)
    unset table
    unset contour; set surface
    set xrange [x0:x1]; set yrange [y0:y1]
    set title (tex ? sprintf('%s (%s)', esc(c), meth) : sprintf('%s (%s)', esc(c), meth))
    plot $grid using 1:2:($3 <= 1 ? 1 : 0.0/0) with image notitle, \
         $edge using (real(word(strcol(1), 1))):(real(word(strcol(1), 2))) with lines lc rgb '#0072B2' lw 1.5 title (tex ? '$|R(z)| = 1$' : '|R(z)| = 1'), \
         f using (strcol(1) eq c ? $5 : NaN):6 with points pt 7 ps 0.35 lc rgb '#D55E00' title (tex ? '$\Delta t\,\lambda_i$' : 'Δt λ_i')
    unset xrange; unset yrange
    set autoscale xy
}
unset multiplot
