/*
 * main.c — the odernn program: the subcommand table, option parsing and exit statuses.
 *
 * Exit status: 0 success; 1 a check failed; 2 bad usage or bad input (with a message that
 * says what was wrong and what is allowed); 3 a numerical failure (with the solver's reason).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include "cli.h"

#define COMMON_HELP                                                                             \
    "  --hidden M          hidden size m (default 32; 1.." "8192" ")\n"                          \
    "  --input-dim D       input size d (default 1)\n"                                           \
    "  --input KIND        sines | hold | linear | zero (default sines; hold and linear use a\n"  \
    "                      seeded Gaussian sequence sampled at the cell's step)\n"               \
    "  --s0 KIND           initial state: random (N(0, 0.5^2), seeded; default) | zero\n"        \
    "  --seed S            seed of parameters, input and state (default 1)\n"                    \
    "  --set NAME=VALUE    set a hyperparameter (repeatable; see 'odernn info CELL')\n"          \
    "  --load-params F     read parameters (and hyperparameters) from F\n"                        \
    "  --save-params F     write the parameters used to F (docs/params-format.md)\n"             \
    "  --json              machine-readable output on stdout\n"

static const cli_command commands[] = {
    {"list", "cells, with ODE, hyperparameters, order",
     "Lists the cells of the registry.\n\n  --json              an array of {name, ode, order, hyperparameters}\n",
     "--json", 0, cmd_list},
    {"classes", "the (n, t) class of every cell ([OD], a reading)",
     "odernn classes [CELL] [--json]\n\nPrints, for every registered cell and the representative rk: and ms: cells\n"
     "(or for CELL, any name including rk:<tableau>:<cell> and ms:<method>:<cell>), its stage\n"
     "count n (nested applications of the nonlinearity per step), its memory t (past hidden\n"
     "states the step reads) and how both follow from the step's structure. Provenance:\n"
     "reading (docs/theory/od-reading.md).\n\n"
     "  --json              an array of {cell, n, t, derivation}\n",
     "--json", 0, cmd_classes},
    {"info", "equations, defaults, provenance of one cell",
     "odernn info CELL [options]\n\nShows a cell's ODE, discrete step, reference, order, "
     "parameter blocks, hyperparameters (defaults and allowed ranges) and default initialisation.\n\n" COMMON_HELP,
     "--hidden --input-dim --seed --set --load-params --save-params --json", 1, cmd_info},
    {"simulate", "the discrete trajectory",
     "odernn simulate CELL [options]\n\nRuns the cell for --steps steps and writes the trajectory as tidy CSV\n"
     "(columns step, t, unit, value; a '#' provenance preamble).\n\n"
     "  --steps N           number of steps (default 100)\n"
     "  --out F             write the CSV to F (default: stdout)\n" COMMON_HELP,
     "--hidden --input-dim --input --s0 --steps --seed --set --load-params --save-params --json --out",
     1, cmd_simulate},
    {"reference", "the ODE trajectory by CVODE",
     "odernn reference CELL [options]\n\nIntegrates the cell's ODE with CVODE and writes s(t_n) at the cell's time points\n"
     "t_n = n dt, n = 0..steps, in the same CSV format as simulate.\n\n"
     "  --steps N           number of time points after t = 0 (default 100)\n"
     "  --rtol R, --atol A  CVODE tolerances (default 1e-8, 1e-10)\n"
     "  --method M          bdf (default) | adams\n"
     "  --linsol L          dense (analytic Jacobian; default) | gmres (matrix-free, for wide states)\n"
     "  --max-steps N       CVODE's step limit per output interval (default 100000)\n"
     "  --out F             write the CSV to F (default: stdout)\n" COMMON_HELP,
     "--hidden --input-dim --input --s0 --steps --seed --set --load-params --save-params --json --out "
     "--rtol --atol --method --linsol --max-steps",
     1, cmd_reference},
    {"converge", "error against dt and the fitted order",
     "odernn converge CELL [options]\n\nGlobal error E(dt) = max_n |s_n - s(t_n)|_inf / max_n |s(t_n)|_inf on [0, t_end] for\n"
     "dt = t_end / (n0 2^k), k = 0..levels-1, against a reference (CVODE, or rk8pd for order >= 3;\n"
     "refined until it is 1000x more accurate than the finest level used), and the least-squares\n"
     "order over the asymptotic range.\n\n"
     "  --levels L          number of step sizes (default 10 for order <= 2, 11 for order >= 3\n"
     "                      (fewer for cells with past states); 3..16). Without --levels and\n"
     "                      --n0, the halving stops at the first level whose error is below\n"
     "                      1000x the reference's: finer levels would measure the reference\n"
     "  --n0 N              steps at the coarsest level (default 40 for order <= 2; 2 for order\n"
     "                      >= 3, more for cells with past states)\n"
     "  --t-end T           horizon (default 4)\n"
     "  --reference R       cvode (BDF, tightened to rtol 1e-13) | rk8pd (GSL Prince-Dormand\n"
     "                      8(9) at fixed steps, doubled until 1000x accurate enough; reaches\n"
     "                      rounding where CVODE cannot). Default: cvode for order <= 2, rk8pd\n"
     "                      for order >= 3 (smooth inputs; use cvode for stiff ODEs)\n"
     "  --precision P       auto | double | quad. quad: the tableau (its exact rational\n"
     "                      coefficients when they are known), the ODE and the input in\n"
     "                      binary128, against Gragg-Bulirsch-Stoer extrapolation of order 12\n"
     "                      in binary128; for rk:<tableau>:tanh and rk:<tableau>:cornn. auto:\n"
     "                      quad for order >= 5 with an exact tableau and no --reference\n"
     "                      (double rounding hides those orders), else double\n" COMMON_HELP,
     "--hidden --input-dim --input --s0 --seed --set --load-params --save-params --json --levels "
     "--n0 --t-end --reference --precision",
     1, cmd_converge},
    {"spectrum", "eigenvalues of the step / ODE Jacobian",
     "odernn spectrum CELL [options]\n\nEigenvalues (LAPACK dgeev) and singular values of the step Jacobian ds_n/ds_{n-1} and\n"
     "of the ODE Jacobian df/ds at step --at of the trajectory (default 0: the initial state),\n"
     "with the spectral radius, the largest real part and, for cells that are Runge-Kutta\n"
     "methods, |R(dt lambda)| of each ODE eigenvalue. CSV columns: step, t, which, index, re, im,\n"
     "abs (which = step | ode | sv).\n\n"
     "  --which W           step | ode | both (default both)\n"
     "  --at N              the step at which to take the Jacobians (default 0)\n"
     "  --out F             write the CSV to F (default: stdout)\n" COMMON_HELP,
     "--hidden --input-dim --input --s0 --seed --set --load-params --save-params --json --out --which --at",
     1, cmd_spectrum},
    {"lyapunov", "Lyapunov spectrum (QR), FTLEs",
     "odernn lyapunov CELL [options]\n\nThe Lyapunov spectrum of the cell's step map by the QR method: per step and per unit\n"
     "time, with 95% intervals over time blocks (and over seeds with --seeds), the sum rule's\n"
     "mean log|det J|, the Kaplan-Yorke dimension, and the finite-time exponents of each block\n"
     "(CSV with --out: columns seed, block, index, exponent). With --ode, the continuous-time\n"
     "spectrum of the cell's ODE by CVODE on the variational equations.\n\n"
     "  --k K               number of exponents (default: all)\n"
     "  --transient N       steps discarded first (default 1000)\n"
     "  --steps N           steps measured (default 10000)\n"
     "  --reorth R          QR every R steps (default 1)\n"
     "  --blocks B          time blocks for the finite-time exponents (default 10; >= 2)\n"
     "  --seeds S           repeat over S seeds (initial states and inputs) and add a 95%\n"
     "                      interval over seeds (default 1)\n"
     "  --ode               the ODE's spectrum (CVODE; transient and window are steps x dt)\n"
     "  --interval T        --ode: re-orthonormalise every T time units (default 10 dt)\n"
     "  --rtol R, --atol A  --ode: CVODE tolerances (default 1e-8, 1e-10)\n"
     "  --out F             write the finite-time exponents as CSV\n" COMMON_HELP,
     "--hidden --input-dim --input --s0 --seed --set --load-params --save-params --json --out --k "
     "--transient --steps --reorth --blocks --seeds --ode --interval --rtol --atol",
     1, cmd_lyapunov},
    {"gradnorm", "||ds_T/ds_k|| against T - k",
     "odernn gradnorm CELL [options]\n\nThe norm ||ds_T/ds_0||_2 against T (forward tangents) or ||ds_T/ds_k||_2 against\n"
     "T - k (the reverse sweep), carried in the log domain so that values like 1e-4000 are\n"
     "exact, with the fitted rate per step and per unit time. CSV columns: lag, t, log10_norm.\n\n"
     "  --steps T           horizon (default 1000)\n"
     "  --mode M            tangent (default) | adjoint | both (both also reports how closely\n"
     "                      the two agree at lag T, where both are ||ds_T/ds_0||)\n"
     "  --per-decade P      lags per decade, log-spaced (default 20); 0: every step\n"
     "  --out F             write the CSV to F (default: stdout)\n" COMMON_HELP,
     "--hidden --input-dim --input --s0 --steps --seed --set --load-params --save-params --json --out "
     "--mode --per-decade",
     1, cmd_gradnorm},
    {"energy", "energy and its bound along a trajectory",
     "odernn energy CELL [options]\n\nThe cell's energy functional along its trajectory, with the bounds of THEORY.md §4.2:\n"
     "for coRNN E_n = gamma |y_n|^2 + |z_n|^2 against E_0 + m t_n / (2 eps - gamma dt)\n"
     "(cumulative) and E_{n-1} + dt |s_n|^2 / (2 eps - gamma dt) (per step). CSV columns: step,\n"
     "t, energy, bound, step_bound.\n\n"
     "  --steps N           number of steps (default 1000)\n"
     "  --out F             write the CSV to F (default: stdout)\n" COMMON_HELP,
     "--hidden --input-dim --input --s0 --steps --seed --set --load-params --save-params --json --out",
     1, cmd_energy},
    {"region", "stability map over two hyperparameters",
     "odernn region CELL --x P=a:b:n --y Q=a:b:n [options]\n\nEvaluates a stability metric on an n_x x n_y grid of two hyperparameters (each point\n"
     "its own cell, seeded identically, so the map is smooth and independent of the thread\n"
     "count), in parallel with OpenMP. CSV columns: x, y, metric, value, with the parameter\n"
     "names in the '#' preamble.\n\n"
     "  --x P=a:b:n         first axis: hyperparameter P from a to b in n >= 2 points\n"
     "  --y Q=a:b:n         second axis\n"
     "  --metric M          rk-margin (max |R(dt lambda)| - 1 over the trajectory; cells that are\n"
     "                      Runge-Kutta methods) | ftle-max (largest exponent per unit time) |\n"
     "                      grad-growth (log ||ds_T/ds_0|| / t_T) | energy-ratio (max E_n / bound;\n"
     "                      coRNN) (default ftle-max)\n"
     "  --steps T           trajectory length per point (default 1000)\n"
     "  --threads N         OpenMP threads (default: all cores)\n"
     "  --out F             write the CSV to F (default: stdout)\n"
     "  --json              one line {command, cell, x, y, metric, nx, ny, steps, m, seed, x_values,\n"
     "                      y_values, values[i][j] at (x_values[i], y_values[j]), n_inf, n_neg_inf,\n"
     "                      n_nan}; non-finite values are null; without --out only the JSON is printed\n"
     "Values: inf = the trajectory blew up, -inf = the tangent was annihilated exactly, nan =\n"
     "undefined (energy-ratio when gamma dt >= 2 eps).\n\n" COMMON_HELP,
     "--hidden --input-dim --input --s0 --steps --seed --set --load-params --json --out --x --y "
     "--metric --threads",
     1, cmd_region},
    {"experiment", "produce the data behind the figures",
     "odernn experiment NAME|all|list [options]\n\nRuns an experiment of THEORY.md and writes its tidy CSV to the output folder.\n\n"
     "  --out-dir D         output folder (default results)\n"
     "  --seed S            the run's seed (default 1)\n"
     "  --threads N         OpenMP threads (default: all cores)\n",
     "--out-dir --seed --threads --json", 0, cmd_experiment},
    {"plot", "draw the figures (gnuplot) from the experiments' data",
     "odernn plot NAME|all|list [options]\n\nDraws a figure (plots/NAME.gp with the shared style plots/style.gp) from the CSV\n"
     "files in the data folder, with gnuplot, into the output folder (written atomically; tex:\n"
     "OUT/tex/NAME.tex with its NAME.pdf, labels typeset by LaTeX). Missing data: the figure is not\n"
     "drawn and the message names the command that makes them (exit 2); 'all' draws the others\n"
     "and skips optional figures whose command this build lacks, with a note.\n\n"
     "  --format F          pdf (default) | png | svg | tex\n"
     "  --data-dir D        the experiments' CSV files (default results)\n"
     "  --out-dir D         output folder (default results/figures)\n"
     "  --missing           print the odernn arguments that make the missing data, one per line\n"
     "Environment: ODERNN_PLOTS (the scripts' folder; default ../plots next to the program),\n"
     "GNUPLOT (the gnuplot program).\n",
     "--format --data-dir --out-dir --missing", 0, cmd_plot},
    {"explore", "interactive stability explorer (a REPL; scripts on stdin)",
     EXPLORE_HELP, "", 0, cmd_explore},
    {"ntk", "kernel-limit width sweep ([KL], THEORY.md §7)",
     "odernn ntk [options]\n\nThe kernel limit of a width-N recurrent network trained online on a Markov chain\n"
     "(THEORY.md §7, docs/theory/kernel-limit.md): unit i has H^i_{k+1} = tanh(W^i X_k + B^i H^i_k)\n"
     "(reading a) or tanh(W^i X_k + B^i mean_j H^j_k) (reading b), output g = N^-beta sum_i C^i H^i,\n"
     "SGD rate N^-(2-2beta), time t = k/N. For every width and seed: the NTK's distance to its limit\n"
     "and the output at initialisation, and after training to t_end the parameter and kernel drifts\n"
     "and the distance to the limit kernel ODE; then log-log slopes against N with 95% bootstrap\n"
     "intervals, next to THEORY.md's exponents. Writes <out-dir>/ntk-sweep.csv (beta, reading, N,\n"
     "seed, metric, value) and <out-dir>/ntk-fits.csv. Resumable: rerunning the same command after an\n"
     "interruption reads the finished runs back and computes only the rest.\n\n"
     "  --widths A:B        powers of two A, 2A, ..., B (default 64:4096)\n"
     "  --width N           one width only (no slopes)\n"
     "  --seeds S           replicates per width (default 16)\n"
     "  --beta B            in [0.5, 1); a comma list; or all = 0.5,0.6,0.75,0.9 (default 0.75)\n"
     "  --reading R         a (diagonal memory) | b (mean-field) | both (default a)\n"
     "  --steps K           SGD steps at the smallest width; every width trains for the same time\n"
     "                      t_end = K / N_min (default K = N_min: t_end = 1)\n"
     "  --seed S            the run's seed (default 1)\n"
     "  --threads T         OpenMP threads (default: all cores; results do not depend on it)\n"
     "  --out-dir D         output folder (default results)\n"
     "  --json              {beta, reading, widths, seeds, horizon, metrics: {name: {slope, ci95,\n"
     "                      expected, means}}} on stdout (an array for several beta or readings)\n",
     "--widths --width --seeds --beta --reading --steps --seed --threads --out-dir --json", 0, cmd_ntk},
    {"verify", "run the theorem checks",
     "odernn verify [options]\n\nRuns the checks of THEORY.md: one line per check, then 'N passed, N failed'.\n"
     "Exit status 1 if any check failed.\n\n"
     "  --tier T            quick | standard (default) | full\n"
     "  --only GLOB         only checks whose id matches (e.g. 'order.*', 'jac.step.tanh')\n"
     "  --seed S            the run's seed (default 1)\n"
     "  --json F            write the results as JSON (default results/verify.json)\n"
     "  --report F          write the Markdown report (default results/verify.md)\n"
     "  --list              list the selected checks and exit\n",
     "--tier --only --seed --json --report --list", 0, cmd_verify},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

int cli_has_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return 1;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: odernn COMMAND [options]   (odernn COMMAND --help for details)\n\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nExit status: 0 success, 1 a check failed, 2 bad usage or input, 3 numerical failure.\n");
}

static int parse_size(const char *opt, const char *v, size_t lo, size_t hi, size_t *out)
{
    char *end;
    errno = 0;
    if (!v || v[0] == '-' || v[0] == '\0')
        goto bad;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end != '\0' || errno == ERANGE || x < lo || x > hi)
        goto bad;
    *out = (size_t)x;
    return 0;
bad:
    return cli_error(EXIT_USAGE, "%s must be an integer in %zu..%zu; got '%s'", opt, lo, hi,
                     v ? v : "(nothing)");
}

static int parse_double(const char *opt, const char *v, double lo, double *out)
{
    char *end;
    errno = 0;
    double x = v ? strtod(v, &end) : NAN;
    if (!v || *end != '\0' || errno == ERANGE || !isfinite(x) || !(x > lo))
        return cli_error(EXIT_USAGE, "%s must be a finite number > %g; got '%s'", opt, lo,
                         v ? v : "(nothing)");
    *out = x;
    return 0;
}

static int allowed(const cli_command *cmd, const char *opt)
{
    size_t n = strlen(opt);
    for (const char *p = cmd->options; (p = strstr(p, opt)); p += n)
        if ((p == cmd->options || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

static int parse(const cli_command *cmd, int argc, char **argv, cli_opts *o)
{
    for (int i = 0; i < argc; i++) {
        char *a = argv[i], *v = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("odernn %s — %s\n\n%s", cmd->name, cmd->summary, cmd->usage);
            exit(EXIT_OK);
        }
        if (strncmp(a, "--", 2) != 0) {
            if ((cmd->needs_cell || !strcmp(cmd->name, "experiment") || !strcmp(cmd->name, "classes") ||
                 !strcmp(cmd->name, "plot")) && !o->cell) {
                o->cell = a; /* experiment: its name */
                continue;
            }
            return cli_error(EXIT_USAGE, "unexpected argument '%s' for 'odernn %s' (see 'odernn %s --help')",
                             a, cmd->name, cmd->name);
        }
        char name[64];
        char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        snprintf(name, sizeof name, "%.*s", (int)(nl < 63 ? nl : 63), a);
        if (!allowed(cmd, name))
            return cli_error(EXIT_USAGE, "unknown option '%s' for 'odernn %s' (allowed: %s)", name,
                             cmd->name, cmd->options);
        int flag = !strcmp(name, "--list") || !strcmp(name, "--ode") || !strcmp(name, "--missing") ||
                   (!strcmp(name, "--json") && strcmp(cmd->name, "verify"));
        if (!flag) {
            v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v)
                return cli_error(EXIT_USAGE, "option %s needs a value (see 'odernn %s --help')", name,
                                 cmd->name);
        }
        int rc = 0;
        if (!strcmp(name, "--hidden")) {
            rc = parse_size(name, v, 1, CLI_MAX_HIDDEN, &o->m);
            o->m_given = 1;
        } else if (!strcmp(name, "--input-dim")) {
            rc = parse_size(name, v, 1, 4096, &o->d);
            o->d_given = 1;
        } else if (!strcmp(name, "--input")) {
            o->input = rnn_input_kind_parse(v);
            if (o->input < 0)
                rc = cli_error(EXIT_USAGE, "unknown input '%s' (allowed: sines, hold, linear, zero)", v);
        } else if (!strcmp(name, "--s0")) {
            if (strcmp(v, "random") && strcmp(v, "zero"))
                rc = cli_error(EXIT_USAGE, "unknown --s0 '%s' (allowed: random, zero)", v);
            o->s0_random = !strcmp(v, "random");
        } else if (!strcmp(name, "--steps")) {
            rc = parse_size(name, v, 1, CLI_MAX_STEPS, &o->steps);
        } else if (!strcmp(name, "--seed")) {
            size_t s;
            rc = parse_size(name, v, 0, 4294967295u, &s);
            o->seed = (unsigned long)s;
        } else if (!strcmp(name, "--set")) {
            if (o->nsets == CLI_MAX_SETS)
                rc = cli_error(EXIT_USAGE, "at most %d --set options", CLI_MAX_SETS);
            else if (!strchr(v, '=') || v[0] == '=')
                rc = cli_error(EXIT_USAGE, "malformed --set '%s': expected NAME=VALUE, e.g. --set dt=0.1", v);
            else
                o->sets[o->nsets++] = v;
        } else if (!strcmp(name, "--json")) {
            if (flag)
                o->json = 1;
            else
                o->json_path = v;
        } else if (!strcmp(name, "--out")) {
            o->out = v;
        } else if (!strcmp(name, "--save-params")) {
            o->save_params = v;
        } else if (!strcmp(name, "--load-params")) {
            o->load_params = v;
        } else if (!strcmp(name, "--rtol")) {
            rc = parse_double(name, v, 0, &o->cvode.rtol);
        } else if (!strcmp(name, "--atol")) {
            rc = parse_double(name, v, 0, &o->cvode.atol);
        } else if (!strcmp(name, "--reference")) {
            if (!strcmp(v, "cvode"))
                o->reference = 0;
            else if (!strcmp(v, "rk8pd"))
                o->reference = 1;
            else
                rc = cli_error(EXIT_USAGE, "unknown --reference '%s' (allowed: cvode, rk8pd)", v);
        } else if (!strcmp(name, "--precision")) {
            if (!strcmp(v, "auto"))
                o->precision = -1;
            else if (!strcmp(v, "double"))
                o->precision = 0;
            else if (!strcmp(v, "quad"))
                o->precision = 1;
            else
                rc = cli_error(EXIT_USAGE, "unknown --precision '%s' (allowed: auto, double, quad)",
                               v);
        } else if (!strcmp(name, "--method")) {
            if (!strcmp(v, "bdf"))
                o->cvode.method = RNN_CVODE_BDF;
            else if (!strcmp(v, "adams"))
                o->cvode.method = RNN_CVODE_ADAMS;
            else
                rc = cli_error(EXIT_USAGE, "unknown --method '%s' (allowed: bdf, adams)", v);
        } else if (!strcmp(name, "--linsol")) {
            if (!strcmp(v, "dense"))
                o->cvode.linsol = RNN_CVODE_DENSE;
            else if (!strcmp(v, "gmres"))
                o->cvode.linsol = RNN_CVODE_GMRES;
            else
                rc = cli_error(EXIT_USAGE, "unknown --linsol '%s' (allowed: dense, gmres)", v);
        } else if (!strcmp(name, "--max-steps")) {
            size_t s;
            rc = parse_size(name, v, 1, 1000000000, &s);
            o->cvode.max_steps = (long)s;
        } else if (!strcmp(name, "--levels")) {
            rc = parse_size(name, v, 3, RNN_CONVERGE_MAX_LEVELS, &o->conv.levels);
            o->levels_given = 1;
        } else if (!strcmp(name, "--n0")) {
            rc = parse_size(name, v, 1, 1000000, &o->conv.n0);
            o->n0_given = 1;
        } else if (!strcmp(name, "--t-end")) {
            rc = parse_double(name, v, 0, &o->conv.t_end);
        } else if (!strcmp(name, "--tier")) {
            o->tier = rnn_tier_parse(v);
            if (o->tier < 0)
                rc = cli_error(EXIT_USAGE, "unknown tier '%s' (allowed: quick, standard, full)", v);
        } else if (!strcmp(name, "--only")) {
            o->only = v;
        } else if (!strcmp(name, "--report")) {
            o->report_path = v;
        } else if (!strcmp(name, "--list")) {
            o->list = 1;
        } else if (!strcmp(name, "--which")) {
            if (strcmp(v, "step") && strcmp(v, "ode") && strcmp(v, "both"))
                rc = cli_error(EXIT_USAGE, "unknown --which '%s' (allowed: step, ode, both)", v);
            o->which = v;
        } else if (!strcmp(name, "--at")) {
            rc = parse_size(name, v, 0, CLI_MAX_STEPS, &o->at);
        } else if (!strcmp(name, "--k")) {
            rc = parse_size(name, v, 1, 2 * CLI_MAX_HIDDEN, &o->k);
        } else if (!strcmp(name, "--transient")) {
            rc = parse_size(name, v, 0, CLI_MAX_STEPS, &o->transient);
        } else if (!strcmp(name, "--reorth")) {
            rc = parse_size(name, v, 1, 1000, &o->reorth);
        } else if (!strcmp(name, "--blocks")) {
            rc = parse_size(name, v, 2, 10000, &o->blocks);
        } else if (!strcmp(name, "--seeds")) {
            rc = parse_size(name, v, 1, 10000, &o->seeds);
            o->seeds_given = 1;
        } else if (!strcmp(name, "--width")) {
            o->ntk_width = v;
        } else if (!strcmp(name, "--widths")) {
            o->ntk_widths = v;
        } else if (!strcmp(name, "--beta")) {
            o->ntk_beta = v;
        } else if (!strcmp(name, "--reading")) {
            o->ntk_reading = v;
        } else if (!strcmp(name, "--ode")) {
            o->ode = 1;
        } else if (!strcmp(name, "--interval")) {
            rc = parse_double(name, v, 0, &o->interval);
        } else if (!strcmp(name, "--mode")) {
            if (strcmp(v, "tangent") && strcmp(v, "adjoint") && strcmp(v, "both"))
                rc = cli_error(EXIT_USAGE, "unknown --mode '%s' (allowed: tangent, adjoint, both)", v);
            o->mode = v;
        } else if (!strcmp(name, "--per-decade")) {
            rc = parse_size(name, v, 0, 1000, &o->per_decade);
        } else if (!strcmp(name, "--x")) {
            o->x_spec = v;
        } else if (!strcmp(name, "--y")) {
            o->y_spec = v;
        } else if (!strcmp(name, "--metric")) {
            o->metric = v;
        } else if (!strcmp(name, "--threads")) {
            rc = parse_size(name, v, 1, 1024, &o->threads);
        } else if (!strcmp(name, "--out-dir")) {
            o->out_dir = v;
        } else if (!strcmp(name, "--format")) {
            o->format = v;
        } else if (!strcmp(name, "--data-dir")) {
            o->data_dir = v;
        } else if (!strcmp(name, "--missing")) {
            o->missing = 1;
        }
        if (rc)
            return rc;
    }
    if (cmd->needs_cell && !o->cell)
        return cli_error(EXIT_USAGE, "'odernn %s' needs a cell (one of: %s)", cmd->name,
                         rnn_registry_names());
    return 0;
}

void cli_opts_default(cli_opts *o)
{
    *o = (cli_opts){.m = 32, .d = 1, .input = RNN_INPUT_SINES, .steps = 100, .seed = 1,
                    .s0_random = 1, .tier = RNN_TIER_STANDARD, .which = "both",
                    .transient = 1000, .reorth = 1, .blocks = 10, .seeds = 1, .mode = "tangent",
                    .per_decade = 20, .metric = "ftle-max", .out_dir = "results",
                    .reference = -1, .precision = -1};
    rnn_cvode_opts_default(&o->cvode);
    rnn_converge_opts_default(&o->conv);
}

int main(int argc, char **argv)
{
    /* Library code reports GSL errors as return codes; GSL must never abort the program. */
    gsl_set_error_handler_off();
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        cli_opts o;
        cli_opts_default(&o);
        /* Commands whose natural horizon is longer than simulate's 100 steps. */
        if (!strcmp(commands[i].name, "lyapunov"))
            o.steps = 10000;
        else if (!strcmp(commands[i].name, "ntk"))
            o.steps = 0; /* the sweep's default horizon, t_end = 1 */
        else if (!strcmp(commands[i].name, "gradnorm") || !strcmp(commands[i].name, "energy") ||
                 !strcmp(commands[i].name, "region"))
            o.steps = 1000;
        else if (!strcmp(commands[i].name, "plot"))
            o.out_dir = "results/figures";
        int rc = parse(&commands[i], argc - 2, argv + 2, &o);
        return rc ? rc : commands[i].run(&o);
    }
    cli_error(EXIT_USAGE, "unknown command '%s'", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
