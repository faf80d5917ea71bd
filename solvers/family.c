/*
 * family.c — cell types by name: the registered cells and the families built from any cell's
 * ODE, rk:<tableau>:<cell> (rk.c) and ms:<method>:<cell> (multistep.c).
 *
 * The inner <cell> may itself be a family name (rk:rk4:qunn:8); the tableau or method is the
 * token after the prefix, the rest of the name is the cell.
 */
#include <stdio.h>
#include <string.h>
#include "solvers.h"

static int split(const char *rest, char *head, size_t head_len, const char **tail)
{
    const char *colon = strchr(rest, ':');
    if (!colon || colon == rest || colon[1] == '\0' || (size_t)(colon - rest) >= head_len)
        return -1;
    memcpy(head, rest, (size_t)(colon - rest));
    head[colon - rest] = '\0';
    *tail = colon + 1;
    return 0;
}

const rnn_cell_type *rnn_cell_type_find(const char *name, char *msg, size_t len)
{
    if (!name || !*name) {
        snprintf(msg, len, "no cell name given (cells: %s; families: rk:<tableau>:<cell>, "
                 "ms:<method>:<cell>)", rnn_registry_names());
        return NULL;
    }
    int rk = strncmp(name, "rk:", 3) == 0, ms = strncmp(name, "ms:", 3) == 0;
    if (rk || ms) {
        char head[64];
        const char *cell;
        if (split(name + 3, head, sizeof head, &cell) != 0) {
            snprintf(msg, len, "malformed cell name '%s': expected %s", name,
                     rk ? "rk:<tableau>:<cell>, e.g. rk:rk4:tanh"
                        : "ms:<method>:<cell>, e.g. ms:ab2:tanh");
            return NULL;
        }
        return rk ? rnn_rk_type(head, cell, msg, len) : rnn_ms_type(head, cell, msg, len);
    }
    const rnn_cell_type *t = rnn_registry_find(name);
    if (!t)
        snprintf(msg, len, "unknown cell '%s' (cells: %s; families: rk:<tableau>:<cell>, "
                 "ms:<method>:<cell>, qunn:<t> with 1 <= t <= %d, dense:<t> with 1 <= t <= %d; "
                 "`odernn list` shows them)", name, rnn_registry_names(), RNN_QUNN_MAX_T,
                 RNN_DENSE_MAX_T);
    return t;
}
