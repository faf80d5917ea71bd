/*
 * registry.c — the list of cells. Adding a cell is one file and one line here; the CLI,
 * the tests and `make verify` loop over this list.
 */
#include <stdio.h>
#include <string.h>
#include "cell.h"

#define CELLS                                                                        \
    {                                                                                \
        rnn_cell_tanh, rnn_cell_antisym, rnn_cell_antisym_gated, rnn_cell_cornn,     \
            rnn_cell_cornn_explicit, rnn_cell_lstm, rnn_cell_gru, rnn_cell_unicornn,  \
            rnn_cell_lem, rnn_cell_linear, rnn_cell_qunn, rnn_cell_unitary,          \
            rnn_cell_lipschitz, rnn_cell_fastrnn,                                    \
    }

size_t rnn_registry_count(void)
{
    const rnn_cell_type *all[] = CELLS;
    return sizeof all / sizeof all[0];
}

const rnn_cell_type *rnn_registry_get(size_t i)
{
    const rnn_cell_type *all[] = CELLS;
    return i < sizeof all / sizeof all[0] ? all[i] : NULL;
}

/* "<prefix><t>" with t a positive decimal integer without sign, spaces or leading zeros (so
 * that a name round-trips through the type's own name); 0 if name is not of that form. */
static size_t family_index(const char *name, const char *prefix)
{
    size_t lp = strlen(prefix), t = 0;
    if (strncmp(name, prefix, lp) != 0 || name[lp] < '1' || name[lp] > '9')
        return 0;
    for (const char *p = name + lp; *p; p++) {
        if (*p < '0' || *p > '9' || t > ((size_t)-1 - 9) / 10)
            return 0;
        t = 10 * t + (size_t)(*p - '0');
    }
    return t;
}

const rnn_cell_type *rnn_registry_find(const char *name)
{
    for (size_t i = 0; i < rnn_registry_count(); i++)
        if (strcmp(rnn_registry_get(i)->name, name) == 0)
            return rnn_registry_get(i);
    if (strcmp(name, "dense") == 0)
        return rnn_cell_dense;
    /* families built at run time; their constructors reject t above their caps */
    size_t t;
    if ((t = family_index(name, "qunn:")) > 0)
        return rnn_cell_qunn_t(t);
    if ((t = family_index(name, "dense:")) > 0)
        return rnn_cell_dense_t(t);
    return NULL;
}

const char *rnn_registry_names(void)
{
    static char buf[512];
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < rnn_registry_count() && used < sizeof buf; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", i ? ", " : "",
                                 rnn_registry_get(i)->name);
    return buf;
}
