# gradnorm.gp — ||ds_T/ds_0||_2 against T for the five cells side by side: the mean of
# log10 over seeds (line) and every seed (thin). [AS] §3, [CO] Prop. 3.2, [PA].
# Data: gradnorm.csv (odernn experiment gradnorm), columns cell,seed,T,t,log10_norm.
W = 9.0; H = 3.4
load plotdir.'/style.gp'
f = data('gradnorm.csv')
cells = 'tanh antisym antisym_gated cornn cornn_explicit'
stats f using 2 nooutput
seeds = int(STATS_max) + 1
set logscale x
set format x pow10
set xtics 100 
set xlabel tex ? 'horizon $T$ (steps)' : 'horizon T (steps)'
set multiplot layout 1,5 title (tex ? '$\log_{10}\|\partial s_T/\partial s_0\|_2$ against $T$: mean over seeds (thick), each seed (thin)' : 'log_{10} ||∂s_T/∂s_0||_2 against T: mean over seeds (thick), each seed (thin)')
do for [i=1:5] {
    c = word(cells, i)
    set title esc(c)
    if (i == 1) { set ylabel tex ? '$\log_{10}\|\partial s_T/\partial s_0\|_2$' : 'log_{10} ||∂s_T/∂s_0||_2' } else { unset ylabel }
    plot for [r=0:seeds-1] f using (strcol(1) eq c && $2 == r ? $3 : NaN):5 with lines lt i lw 0.5 notitle, \
         f using (strcol(1) eq c ? $3 : NaN):5 smooth unique with lines lt i lw 2.5 notitle
}
unset multiplot
