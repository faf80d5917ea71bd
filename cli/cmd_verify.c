/*
 * cmd_verify.c — `odernn verify`: the theorem checks, exit status 1 if any failed.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

int cmd_verify(cli_opts *o)
{
    rnn_verify_opts vo = {
        .tier = (rnn_tier)o->tier,
        .seed = o->seed,
        .only = o->only,
        .json_path = o->json_path ? o->json_path : "results/verify.json",
        .report_path = o->report_path ? o->report_path : "results/verify.md",
        .out = stdout,
        .progress = isatty(fileno(stderr)),
    };
    if (o->list) {
        rnn_verify_list(&vo, stdout);
        return EXIT_OK;
    }
    if ((!o->json_path || !o->report_path) && mkdir("results", 0777) != 0 && errno != EEXIST)
        return cli_error(EXIT_USAGE, "cannot create results/: %s", strerror(errno));
    rnn_verify_summary sum;
    char msg[1024];
    int rc = rnn_verify_run(&vo, &sum, msg, sizeof msg);
    if (rc != RNN_OK)
        return cli_error(cli_status(rc), "%s", msg);
    if (sum.passed + sum.failed + sum.observations == 0)
        return cli_error(EXIT_USAGE, "no check matches --only '%s' in tier %s (see 'odernn verify --list --tier full')",
                         o->only ? o->only : "", rnn_tier_name(vo.tier));
    return sum.failed ? EXIT_CHECK_FAILED : EXIT_OK;
}
