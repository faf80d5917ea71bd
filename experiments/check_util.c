/*
 * check_util.c — small helpers shared by the checks: seeded cells and error results.
 */
#include <stdarg.h>
#include <stdio.h>
#include "experiments.h"

rnn_cell *rnn_check_cell(const rnn_check_ctx *ctx, const rnn_cell_type *type, size_t m,
                         size_t d, const char *stream, unsigned long index)
{
    return rnn_cell_alloc(type, m, d, rnn_seed_derive(ctx->seed, stream, index));
}

int rnn_check_error(rnn_check_result *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
    r->status = status ? status : RNN_ESOLVER;
    r->pass = 0;
    return r->status;
}
