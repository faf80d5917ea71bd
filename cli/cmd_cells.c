/*
 * cmd_cells.c — `odernn list` and `odernn info CELL`: what the registry holds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "cli.h"

static cJSON *hypers_json(const rnn_cell_type *t, const double *values)
{
    cJSON *h = cJSON_CreateObject();
    for (size_t i = 0; i < t->n_hypers; i++)
        cJSON_AddNumberToObject(h, t->hypers[i].name, values ? values[i] : t->hypers[i].def);
    return h;
}

static void print_json(cJSON *root)
{
    char *text = cJSON_Print(root);
    if (text)
        puts(text);
    free(text);
    cJSON_Delete(root);
}

int cmd_list(cli_opts *o)
{
    if (o->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < rnn_registry_count(); i++) {
            const rnn_cell_type *t = rnn_registry_get(i);
            cJSON *c = cJSON_CreateObject();
            cJSON_AddStringToObject(c, "name", t->name);
            cJSON_AddStringToObject(c, "summary", t->summary);
            cJSON_AddStringToObject(c, "ode", t->ode);
            cJSON_AddStringToObject(c, "scheme", t->scheme);
            cJSON_AddNumberToObject(c, "order", t->order);
            cJSON_AddItemToObject(c, "hyperparameters", hypers_json(t, NULL));
            cJSON_AddStringToObject(c, "reference", t->reference);
            cJSON_AddItemToArray(arr, c);
        }
        print_json(arr);
        return EXIT_OK;
    }
    for (size_t i = 0; i < rnn_registry_count(); i++) {
        const rnn_cell_type *t = rnn_registry_get(i);
        printf("%-16s order %d  %s\n%16s ODE: %s\n%16s hyperparameters:", t->name, t->order,
               t->summary, "", t->ode, "");
        for (size_t k = 0; k < t->n_hypers; k++)
            printf(" %s=%g", t->hypers[k].name, t->hypers[k].def);
        printf("\n");
    }
    return EXIT_OK;
}

static void range_text(const rnn_hyper_def *h, char *buf, size_t len)
{
    snprintf(buf, len, "%c%g, %g%c", h->lo_open ? '(' : '[', h->lo, h->hi, h->hi_open ? ')' : ']');
}

int cmd_info(cli_opts *o)
{
    rnn_cell *c;
    int rc = cli_make_cell(o, &c);
    if (rc)
        return rc;
    const rnn_cell_type *t = c->type;
    char range[96];
    if (o->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "name", t->name);
        cJSON_AddStringToObject(root, "summary", t->summary);
        cJSON_AddStringToObject(root, "ode", t->ode);
        cJSON_AddStringToObject(root, "scheme", t->scheme);
        cJSON_AddStringToObject(root, "reference", t->reference);
        cJSON_AddStringToObject(root, "init", t->init_doc);
        cJSON_AddNumberToObject(root, "order", t->order);
        cJSON_AddNumberToObject(root, "m", (double)c->m);
        cJSON_AddNumberToObject(root, "d", (double)c->d);
        cJSON_AddNumberToObject(root, "state_dim", (double)c->n_state);
        cJSON_AddNumberToObject(root, "n_params", (double)c->n_params);
        cJSON *blocks = cJSON_AddArrayToObject(root, "blocks");
        for (size_t i = 0; i < c->n_blocks; i++) {
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "name", c->blocks[i].name);
            cJSON_AddNumberToObject(b, "rows", (double)c->blocks[i].rows);
            cJSON_AddNumberToObject(b, "cols", (double)c->blocks[i].cols);
            cJSON_AddItemToArray(blocks, b);
        }
        cJSON *hs = cJSON_AddArrayToObject(root, "hyperparameters");
        for (size_t i = 0; i < t->n_hypers; i++) {
            cJSON *h = cJSON_CreateObject();
            range_text(&t->hypers[i], range, sizeof range);
            cJSON_AddStringToObject(h, "name", t->hypers[i].name);
            cJSON_AddNumberToObject(h, "value", c->hyper[i]);
            cJSON_AddNumberToObject(h, "default", t->hypers[i].def);
            cJSON_AddStringToObject(h, "range", range);
            cJSON_AddBoolToObject(h, "step", (t->hypers[i].flags & RNN_HYPER_STEP) != 0);
            cJSON_AddBoolToObject(h, "init_only", (t->hypers[i].flags & RNN_HYPER_INIT) != 0);
            cJSON_AddStringToObject(h, "doc", t->hypers[i].doc);
            cJSON_AddItemToArray(hs, h);
        }
        print_json(root);
    } else {
        printf("%s — %s\n\n  ODE:        %s\n  step:       %s\n  order:      %d\n  reference:  %s\n"
               "  init:       %s\n\n  state dim %zu, %zu parameters at m = %zu, d = %zu:\n",
               t->name, t->summary, t->ode, t->scheme, t->order, t->reference, t->init_doc,
               c->n_state, c->n_params, c->m, c->d);
        for (size_t i = 0; i < c->n_blocks; i++)
            printf("    %-6s %zu x %zu\n", c->blocks[i].name, c->blocks[i].rows, c->blocks[i].cols);
        printf("\n  hyperparameters (--set NAME=VALUE):\n");
        for (size_t i = 0; i < t->n_hypers; i++) {
            range_text(&t->hypers[i], range, sizeof range);
            printf("    %-8s = %-8g in %-14s %s%s\n", t->hypers[i].name, c->hyper[i], range,
                   (t->hypers[i].flags & RNN_HYPER_STEP) ? "[step size] " : "", t->hypers[i].doc);
        }
    }
    rnn_cell_free(c);
    return EXIT_OK;
}
