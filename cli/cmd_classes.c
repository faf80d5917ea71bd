/*
 * cmd_classes.c — `odernn classes`: the (n, t) class of every cell, as the suite reads [OD]
 * (Niu, Horesh, Chuang, arXiv 1904.12933): n = how many times one step nests the cell's
 * nonlinearity (Runge-Kutta stages), t = how many past hidden states the step reads (the order
 * of the time derivative). Provenance `reading`: docs/theory/od-reading.md says what the paper
 * states and what the suite formalises.
 *
 * The rows are every registered cell and the representative rk: and ms: cells that verify
 * checks (experiments/registry.c); `odernn classes rk:verner_8_5_6:lstm` shows any other name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "cli.h"

static void add_row(cJSON *arr, const rnn_cell_type *t)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "cell", t->name);
    cJSON_AddNumberToObject(c, "n", t->stages);
    cJSON_AddNumberToObject(c, "t", t->memory);
    cJSON_AddStringToObject(c, "derivation", t->class_derivation ? t->class_derivation : "not stated");
    cJSON_AddStringToObject(c, "provenance", "reading");
    cJSON_AddItemToArray(arr, c);
}

int cmd_classes(cli_opts *o)
{
    const rnn_cell_type *rows[256];
    size_t n = 0;
    char msg[1024];
    if (o->cell) {
        if (!(rows[n++] = rnn_cell_type_find(o->cell, msg, sizeof msg)))
            return cli_error(EXIT_USAGE, "%s", msg);
    } else {
        const char *name;
        for (size_t i = 0; n < 256 && (name = rnn_instance_cells_and_families(i)); i++)
            if ((rows[n] = rnn_cell_type_find(name, msg, sizeof msg)))
                n++;
    }
    if (o->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            add_row(arr, rows[i]);
        char *text = cJSON_Print(arr);
        if (text)
            puts(text);
        free(text);
        cJSON_Delete(arr);
        return EXIT_OK;
    }
    printf("# (n, t) classes of [OD] as the suite reads them (provenance: reading; "
           "docs/theory/od-reading.md)\n"
           "# n = nested applications of the nonlinearity per step (stages); t = past hidden "
           "states read (order in time)\n");
    printf("%-40s %3s %3s  %s\n", "cell", "n", "t", "derivation");
    for (size_t i = 0; i < n; i++)
        printf("%-40s %3u %3u  %s\n", rows[i]->name, rows[i]->stages, rows[i]->memory,
               rows[i]->class_derivation ? rows[i]->class_derivation : "not stated");
    return EXIT_OK;
}
