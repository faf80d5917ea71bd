# style.gp — the shared style of the figures: terminal and size by format, fonts, line widths,
# the Okabe–Ito palette (colour-blind safe), CSV input, and labels that work in every format.
#
# Set by the caller (gnuplot -e, as `odernn plot` does):
#   fmt      pdf (pdfcairo, vector) | tex (cairolatex: a .tex with the labels for LaTeX and a
#            .pdf with the drawing) | png (pngcairo) | svg | dumb (text) | sixel (sixelgd)
#   out      the output file (for tex: NAME.tex; the drawing goes to NAME.pdf)
#   datadir  the folder with the experiments' CSV files (default results)
# Set by the figure script before `load`: W, H (inches).
#
# Labels: a figure writes each label twice, as plain text with enhanced-text markup for the
# cairo and svg terminals and as LaTeX for tex: tex ? '$\Delta t$' : 'Δt'. Log axes are
# labelled with powers of ten: set format y pow10.
# The tex labels are typeset by pdflatex in the paper (tests/test_plot.c compiles them when
# pdflatex is installed), so they must be LaTeX-safe:
#   - symbols (Δ λ ε ‖ ∂ ≈ −) only as math: '$\lambda$', never as Unicode characters;
#   - text taken from the data (cell, metric and parameter names) goes through esc(s), which
#     escapes _ % & # ^ (tex) or _ ^ (enhanced text);
#   - cairolatex reads a label that starts with '[' as a position ('[AS] Fig. 1' loses its
#     first characters) and one that starts with '{' as centred: start such labels with lead();
#   - set key font / set label font act only in the cairo and svg terminals; for tex, put
#     small (a LaTeX size command) in front of the label instead.

if (!exists("fmt")) fmt = 'pdf'
if (!exists("datadir")) datadir = 'results'
if (!exists("W")) W = 6.0
if (!exists("H")) H = 4.0
tex = (fmt eq 'tex')

if (fmt eq 'pdf') {
    set terminal pdfcairo enhanced color font 'Sans,9' size W,H linewidth 1.0 rounded
} else { if (fmt eq 'tex') {
    # cairolatex draws lw 1 about half as wide as pdfcairo does; 2.0 makes the two PDFs match
    set terminal cairolatex pdf color size W,H linewidth 2.0 rounded
} else { if (fmt eq 'png') {
    set terminal pngcairo enhanced color font 'Sans,10' size W*120,H*120 linewidth 1.2 rounded
} else { if (fmt eq 'svg') {
    set terminal svg enhanced font 'Sans,10' size W*100,H*100 linewidth 1.0 rounded background '#ffffff'
} else { if (fmt eq 'sixel') {
    set terminal sixelgd enhanced truecolor font 'Sans,9' size W*100,H*100
} else {
    set terminal dumb size 100,32 enhanced
}}}}}
if (exists("out")) set output out

# Okabe & Ito (2008): blue, vermillion, bluish green, orange, reddish purple, sky blue, black,
# yellow (last: weak on white).
set linetype 1 lc rgb '#0072B2' lw 2 pt 7 ps 0.6
set linetype 2 lc rgb '#D55E00' lw 2 pt 5 ps 0.6
set linetype 3 lc rgb '#009E73' lw 2 pt 9 ps 0.7
set linetype 4 lc rgb '#E69F00' lw 2 pt 11 ps 0.7
set linetype 5 lc rgb '#CC79A7' lw 2 pt 13 ps 0.7
set linetype 6 lc rgb '#56B4E9' lw 2 pt 3 ps 0.7
set linetype 7 lc rgb '#000000' lw 2 pt 2 ps 0.7
set linetype 8 lc rgb '#F0E442' lw 2 pt 1 ps 0.7
set linetype cycle 8
okabe(i) = word('#0072B2 #D55E00 #009E73 #E69F00 #CC79A7 #56B4E9 #000000 #F0E442', (int(i) - 1) % 8 + 1)

set datafile separator comma
set datafile commentschars '#'
set datafile missing NaN   # filtered rows (NaN from a using expression) do not break lines
set border 3 lw 1
set tics nomirror out scale 0.6
set grid lc rgb '#e6e6e6' lw 0.8
set key noautotitle
set key samplen 2.5 spacing 1.1
pow10 = tex ? '$10^{%L}$' : '10^{%L}'
data(name) = datadir.'/'.name
# Text from the data, literal in enhanced text and in LaTeX: replace(s, a, b) puts b for every a.
replace(s, a, b) = strstrt(s, a) ? s[1:strstrt(s, a) - 1].b.replace(s[strstrt(s, a) + strlen(a):], a, b) : s
esc(s) = tex ? replace(replace(replace(replace(replace(s, '_', '\_'), '%', '\%'), '&', '\&'), '#', '\#'), '^', '\^{}') \
             : replace(replace(s, '_', '\_'), '^', '\^')
lead(s) = tex ? '\relax '.s : s
small = tex ? '\footnotesize ' : ''
style_loaded = 1
