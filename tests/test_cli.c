/*
 * test_cli.c — the odernn program end to end: exit statuses (0 ok, 1 check failed, 2 bad
 * input, 3 numerical failure), the messages that say what was wrong and what is allowed,
 * the JSON contracts, atomic output files, and parameter files through the command line.
 * The program is found through $ODERNN (the Makefile sets it), else build/odernn.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>
#include "experiments.h"
#include <unistd.h>
#include "program.h"

static char *const out = program_out;


static char tmpdir[64];

static void make_tmpdir(void)
{
    program_tmpdir_make(tmpdir, "cli");
}

static void remove_tmpdir(void)
{
    program_tmpdir_remove(tmpdir);
}

TestSuite(cli, .init = make_tmpdir, .fini = remove_tmpdir);

Test(cli, help_and_usage)
{
    cr_assert_eq(program_run("--help"), 0);
    cr_assert(strstr(out, "simulate"));
    cr_assert_eq(program_run(""), 2);
    cr_assert_eq(program_run("frobnicate"), 2);
    cr_assert(strstr(out, "unknown command 'frobnicate'"));
    cr_assert_eq(program_run("simulate --help"), 0);
    cr_assert(strstr(out, "--steps"));
}

Test(cli, list_json_contract)
{
    cr_assert_eq(program_run("list --json"), 0);
    cr_assert(strstr(out, "\"name\":\t\"cornn\""));
    cr_assert(strstr(out, "\"ode\""));
    cr_assert(strstr(out, "\"order\""));
    cr_assert(strstr(out, "\"hyperparameters\""));
}

Test(cli, bad_input_exits_2_with_what_is_allowed)
{
    cr_assert_eq(program_run("simulate nosuch"), 2);
    cr_assert(strstr(out, "unknown cell 'nosuch'") && strstr(out, "tanh, antisym"));
    cr_assert_eq(program_run("simulate tanh --hidden -3"), 2);
    cr_assert(strstr(out, "--hidden must be an integer in 1..8192"));
    cr_assert_eq(program_run("simulate tanh --hidden 0"), 2);
    cr_assert_eq(program_run("simulate tanh --steps abc"), 2);
    cr_assert_eq(program_run("simulate tanh --set dt=nan"), 2);
    cr_assert(strstr(out, "dt must be a number in (0, inf)"));
    cr_assert_eq(program_run("simulate tanh --set dt=-1"), 2);
    cr_assert_eq(program_run("simulate tanh --set dt"), 2);
    cr_assert(strstr(out, "expected NAME=VALUE"));
    cr_assert_eq(program_run("simulate tanh --set =3"), 2);
    cr_assert_eq(program_run("simulate tanh --set dt=1x"), 2);
    cr_assert(strstr(out, "not a number"));
    cr_assert_eq(program_run("simulate tanh --set eps=0.1"), 2);
    cr_assert(strstr(out, "has no hyperparameter 'eps'") && strstr(out, "dt, wscale"));
    cr_assert_eq(program_run("simulate tanh --input noise"), 2);
    cr_assert(strstr(out, "sines, hold, linear, zero"));
    cr_assert_eq(program_run("simulate tanh --bogus 1"), 2);
    cr_assert(strstr(out, "unknown option '--bogus'"));
    cr_assert_eq(program_run("simulate tanh --steps"), 2);
    cr_assert_eq(program_run("converge tanh --levels 2"), 2);
    cr_assert_eq(program_run("converge tanh --reference euler"), 2);
    cr_assert(strstr(out, "cvode, rk8pd"), "%s", out);
    cr_assert_eq(program_run("reference tanh --rtol -1"), 2);
    cr_assert_eq(program_run("reference tanh --method rk4"), 2);
    cr_assert_eq(program_run("verify --tier nope"), 2);
    cr_assert_eq(program_run("verify --only 'no.such.check' --json /tmp/x.json --report /tmp/x.md"), 2);
    cr_assert_eq(program_run("simulate"), 2);
    cr_assert(strstr(out, "needs a cell"));
}

Test(cli, joint_hyperparameter_constraints_ignore_order)
{
    cr_assert_eq(program_run("info cornn --set eps=-3 --set dt=0.1"), 0);
    cr_assert_eq(program_run("info cornn --set dt=0.5 --set eps=-3"), 2);
    cr_assert(strstr(out, "1 + dt*eps > 0"));
}

Test(cli, unwritable_outputs_exit_2_and_leave_nothing)
{
    cr_assert_eq(program_run("simulate tanh --out /nonexistent/dir/x.csv"), 2);
    cr_assert(strstr(out, "cannot write '/nonexistent/dir/x.csv'"));
    cr_assert_eq(program_run("verify --tier quick --json /nonexistent/v.json"), 2);
    cr_assert_eq(program_run("info tanh --save-params /nonexistent/p.txt"), 2);
}

Test(cli, blowup_exits_3_with_the_solver_reason)
{
    /* cornn_explicit with strong anti-damping: z grows like exp(300 t) and overflows */
    cr_assert_eq(program_run("reference cornn_explicit --set eps=-300 --set dt=1 --steps 50"), 3);
    cr_assert(strstr(out, "CV_"), "message: %s", out);
    cr_assert(strstr(out, "cornn_explicit"));
    cr_assert_eq(program_run("simulate cornn_explicit --set eps=-300 --set dt=1 --steps 500"), 3);
    cr_assert(strstr(out, "non-finite"));
    cr_assert_eq(program_run("reference tanh --max-steps 2 --rtol 1e-12 --steps 50"), 3);
    cr_assert(strstr(out, "CV_TOO_MUCH_WORK"));
}

Test(cli, simulate_writes_tidy_csv_atomically)
{
    char args[512], path[256];
    snprintf(path, sizeof path, "%s/traj.csv", tmpdir);
    snprintf(args, sizeof args, "simulate cornn --hidden 4 --steps 10 --out %s", path);
    cr_assert_eq(program_run(args), 0);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char line[1024];
    int header = 0, rows = 0, preamble = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            preamble++;
        else if (!header)
            header = strcmp(line, "step,t,unit,value\n") == 0;
        else
            rows++;
    }
    fclose(f);
    cr_assert(preamble > 5);
    cr_assert(header);
    cr_assert_eq(rows, 11 * 8, "rows = %d", rows); /* 11 states of dimension 2m = 8 */
    snprintf(args, sizeof args, "ls %s | grep -q tmp", tmpdir);
    cr_assert_neq(system(args), 0, "a temporary file was left behind");
}

/* The "order" field of converge's JSON output. */
static double json_order(void)
{
    const char *p = strstr(out, "\"order\":");
    cr_assert_not_null(p, "no \"order\" in: %s", out);
    return atof(p + strlen("\"order\":"));
}

Test(cli, converge_json_contract_and_order)
{
    cr_assert_eq(program_run("converge antisym --json --hidden 8"), 0);
    cr_assert(strstr(out, "\"cell\":\t\"antisym\""));
    cr_assert(strstr(out, "\"order_stderr\""));
    cr_assert(strstr(out, "\"expected_order\":\t1"));
    cr_assert(strstr(out, "\"levels\""));
    double order = json_order();
    cr_assert(order > 0.85 && order < 1.15, "order %g", order);
}

/* The order-aware defaults: rk:rk4:tanh is measured against rk8pd and reports the tableau's
 * order 4 (issue 3's contract). */
Test(cli, converge_rk4_reports_tableau_order)
{
    cr_assert_eq(program_run("converge rk:rk4:tanh --json --hidden 8"), 0);
    cr_assert(strstr(out, "\"expected_order\":\t4"), "%s", out);
    cr_assert(strstr(out, "\"solver\":\t\"GSL rk8pd, fixed steps\""), "%s", out);
    double order = json_order();
    cr_assert(fabs(order - 4.0) <= 0.15, "order %g", order);
}

/* Order >= 5 with an exact tableau: binary128 by default (a short horizon keeps it fast);
 * --precision double gives the double study; bad combinations exit 2. */
Test(cli, converge_quad_by_default_for_high_orders)
{
    cr_assert_eq(program_run("converge rk:verner_8_5_6:tanh --json --hidden 4 --t-end 1"), 0,
                 "%s", out);
    cr_assert(strstr(out, "\"precision\":\t\"binary128\""), "%s", out);
    cr_assert(strstr(out, "\"tableau_exact\":\ttrue"), "%s", out);
    cr_assert(strstr(out, "Gragg-Bulirsch-Stoer"), "%s", out);
    double order = json_order();
    cr_assert(fabs(order - 6.0) <= 0.15, "order %g", order);
    cr_assert_eq(program_run("converge rk:verner_8_5_6:tanh --json --hidden 4 --t-end 1 "
                             "--precision double"), 0, "%s", out);
    cr_assert(strstr(out, "\"precision\":\t\"double\""), "%s", out);
    cr_assert_eq(program_run("converge rk:rk4:lstm --precision quad"), 2);
    cr_assert(strstr(out, "binary128"), "%s", out);
    cr_assert_eq(program_run("converge rk:rk4:tanh --precision quad --reference cvode"), 2);
    cr_assert_eq(program_run("converge rk:rk4:tanh --precision single"), 2);
    cr_assert(strstr(out, "allowed: auto, double, quad"), "%s", out);
}

Test(cli, params_round_trip_and_mismatch)
{
    char args[1024], p1[256], p2[256];
    snprintf(p1, sizeof p1, "%s/net.txt", tmpdir);
    snprintf(p2, sizeof p2, "%s/net2.txt", tmpdir);
    snprintf(args, sizeof args, "simulate tanh --hidden 5 --seed 7 --steps 3 --save-params %s --json", p1);
    cr_assert_eq(program_run(args), 0);
    char first[4096];
    snprintf(first, sizeof first, "%s", strstr(out, "\"final_state\""));
    /* loading the file reproduces the run exactly (the seed still picks input and s0) */
    snprintf(args, sizeof args, "simulate tanh --seed 7 --steps 3 --load-params %s --save-params %s --json", p1, p2);
    cr_assert_eq(program_run(args), 0);
    cr_assert_str_eq(strstr(out, "\"final_state\""), first);
    snprintf(args, sizeof args, "cmp -s %s %s", p1, p2);
    cr_assert_eq(system(args), 0, "save -> load -> save is not the identity");
    snprintf(args, sizeof args, "simulate antisym --load-params %s", p1);
    cr_assert_eq(program_run(args), 2);
    cr_assert(strstr(out, "holds parameters of cell 'tanh'"));
    snprintf(args, sizeof args, "simulate tanh --hidden 6 --load-params %s", p1);
    cr_assert_eq(program_run(args), 2);
    snprintf(args, sizeof args, "sed -i 's/^# block: U 5 1/# block: U 5 2/' %s", p1);
    cr_assert_eq(system(args), 0);
    snprintf(args, sizeof args, "simulate tanh --load-params %s", p1);
    cr_assert_eq(program_run(args), 2);
    cr_assert(strstr(out, "block 'U' of shape 5x1"), "message: %s", out);
    cr_assert_eq(program_run("simulate tanh --load-params /nonexistent/p.txt"), 2);
}

Test(cli, verify_writes_json_and_report)
{
    char args[1024];
    snprintf(args, sizeof args, "verify --tier quick --only 'jac.step.*' --json %s/v.json --report %s/v.md",
             tmpdir, tmpdir);
    cr_assert_eq(program_run(args), 0);
    char expect[64];
    size_t cells = 0; /* the registered cells and the representative rk: and ms: cells */
    while (rnn_instance_cells_and_families(cells))
        cells++;
    snprintf(expect, sizeof expect, "%zu passed, 0 failed", cells);
    cr_assert(strstr(out, expect), "%s", out);
    char path[256];
    snprintf(path, sizeof path, "%s/v.json", tmpdir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    snprintf(expect, sizeof expect, "\"passed\":\t%zu", cells);
    cr_assert(strstr(buf, expect), "json should say %s", expect);
    cr_assert(strstr(buf, "\"verdict\":\t\"pass\""));
    cr_assert(strstr(buf, "\"source\""));
    cr_assert(strstr(buf, "\"kind\":\t\"derived\""));
}

/* The stability commands: bad input exits 2 with a message naming what is allowed. */
Test(cli, stability_commands_bad_input)
{
    static const struct { const char *args, *says; } bad[] = {
        {"lyapunov tanh --hidden 4 --k 9", "exceeds the state dimension of tanh (4)"},
        {"lyapunov tanh --blocks 1", "2..10000"},
        {"gradnorm tanh --mode sideways", "allowed: tangent, adjoint, both"},
        {"spectrum tanh --which all", "allowed: step, ode, both"},
        {"energy tanh", "cells with one: cornn, cornn_explicit"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(program_run(bad[i].args), 2, "'%s': %s", bad[i].args, out);
        cr_assert(strstr(out, bad[i].says), "'%s' should say '%s'; said: %s", bad[i].args,
                  bad[i].says, out);
    }
}

/* gradnorm prints norms below the double range exactly, and the lyapunov JSON contract. */
Test(cli, stability_commands_json)
{
    cr_assert_eq(program_run("gradnorm tanh --hidden 8 --steps 3000 --json"), 0, "%s", out);
    cr_assert(strstr(out, "\"rate_per_unit_time\""), "%s", out);
    /* tanh at dt = 1 loses far more than 308 orders over 3000 steps: the norm must still be
     * printed with its exponent, not as 0. */
    const char *norm = strrchr(out, '{') ? strstr(strrchr(out, '{'), "\"norm\"") : NULL;
    cr_assert_not_null(norm, "%s", out);
    int exponent = 0;
    const char *e = strchr(norm, 'e');
    cr_assert(e && sscanf(e + 1, "%d", &exponent) == 1 && exponent < -308,
              "the last norm should be below 1e-308 and printed exactly: %.80s", norm);
    cr_assert_eq(program_run("lyapunov cornn --hidden 4 --steps 400 --transient 100 --json"), 0,
                 "%s", out);
    static const char *keys[] = {"\"cell\"", "\"exponents\"", "\"ci95\"", "\"sum\"",
                                 "\"mean_log_det\"", "\"kaplan_yorke\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_assert(strstr(out, keys[i]), "lyapunov --json lacks %s: %s", keys[i], out);
}
