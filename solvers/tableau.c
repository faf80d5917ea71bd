/*
 * tableau.c — explicit Butcher tableaux (c | A, b) of classical Runge-Kutta methods.
 *
 *   euler     forward Euler                          order 1
 *   midpoint  explicit midpoint                      order 2
 *   heun      Heun's method (explicit trapezoid)     order 2
 *   ralston   Ralston's method (b = 1/4, 3/4)        order 2
 *   kutta3    Kutta's third-order method             order 3
 *   rk4       the classical Runge-Kutta method       order 4
 *
 * and every explicit table SUNDIALS ARKODE ships (arkode_butcher_erk.h), under the lower-case
 * name of its ID without the ARKODE_ prefix, e.g. "dormand_prince_7_4_5" (stages_embedding_order).
 * ARKODE's tables are copied once, on first use, into rnn_tableau form (never freed); for
 * embedded pairs the method of order q (b, not the embedding d) is the one used.
 *
 * Order conditions: rnn_tableau_check_order asks ARKODE (ARKodeButcherTable_CheckOrder, the
 * conditions of Butcher's rooted trees up to order 6) which order the coefficients satisfy, so
 * that a table's stated order is verified rather than trusted.
 *
 * Reference: Butcher, Numerical Methods for ODEs, 3rd ed. (2016), §23-§32; Hairer, Norsett,
 * Wanner, Solving ODEs I, §II.1, Table 1.1-1.2; SUNDIALS ARKODE documentation, "Butcher tables".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arkode/arkode_butcher.h>
#include <arkode/arkode_butcher_erk.h>
#include "solvers.h"

static const double euler_A[] = {0}, euler_b[] = {1}, euler_c[] = {0};
static const double mid_A[] = {0, 0, 0.5, 0}, mid_b[] = {0, 1}, mid_c[] = {0, 0.5};
static const double heun_A[] = {0, 0, 1, 0}, heun_b[] = {0.5, 0.5}, heun_c[] = {0, 1};
static const double ral_A[] = {0, 0, 2.0 / 3, 0}, ral_b[] = {0.25, 0.75}, ral_c[] = {0, 2.0 / 3};
static const double k3_A[] = {0, 0, 0, 0.5, 0, 0, -1, 2, 0}, k3_b[] = {1.0 / 6, 2.0 / 3, 1.0 / 6},
                    k3_c[] = {0, 0.5, 1};
static const double rk4_A[] = {0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 1, 0},
                    rk4_b[] = {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6}, rk4_c[] = {0, 0.5, 0.5, 1};

static const rnn_tableau tables[] = {
    {"euler", "Euler (1768)", 1, 1, euler_A, euler_b, euler_c},
    {"midpoint", "Runge (1895)", 2, 2, mid_A, mid_b, mid_c},
    {"heun", "Heun (1900)", 2, 2, heun_A, heun_b, heun_c},
    {"ralston", "Ralston, Math. Comp. 16 (1962)", 2, 2, ral_A, ral_b, ral_c},
    {"kutta3", "Kutta (1901)", 3, 3, k3_A, k3_b, k3_c},
    {"rk4", "Kutta (1901)", 4, 4, rk4_A, rk4_b, rk4_c},
};

#define N_BUILTIN (sizeof tables / sizeof tables[0])
#define N_ARKODE ((size_t)(ARKODE_MAX_ERK_NUM - ARKODE_MIN_ERK_NUM + 1))

/* ARKODE's IDs by name (the header has no name table for us to read). */
static const struct {
    ARKODE_ERKTableID id;
    const char *name;
} arkode_ids[] = {
    {ARKODE_HEUN_EULER_2_1_2, "ARKODE_HEUN_EULER_2_1_2"},
    {ARKODE_BOGACKI_SHAMPINE_4_2_3, "ARKODE_BOGACKI_SHAMPINE_4_2_3"},
    {ARKODE_ARK324L2SA_ERK_4_2_3, "ARKODE_ARK324L2SA_ERK_4_2_3"},
    {ARKODE_ZONNEVELD_5_3_4, "ARKODE_ZONNEVELD_5_3_4"},
    {ARKODE_ARK436L2SA_ERK_6_3_4, "ARKODE_ARK436L2SA_ERK_6_3_4"},
    {ARKODE_SAYFY_ABURUB_6_3_4, "ARKODE_SAYFY_ABURUB_6_3_4"},
    {ARKODE_CASH_KARP_6_4_5, "ARKODE_CASH_KARP_6_4_5"},
    {ARKODE_FEHLBERG_6_4_5, "ARKODE_FEHLBERG_6_4_5"},
    {ARKODE_DORMAND_PRINCE_7_4_5, "ARKODE_DORMAND_PRINCE_7_4_5"},
    {ARKODE_ARK548L2SA_ERK_8_4_5, "ARKODE_ARK548L2SA_ERK_8_4_5"},
    {ARKODE_VERNER_8_5_6, "ARKODE_VERNER_8_5_6"},
    {ARKODE_FEHLBERG_13_7_8, "ARKODE_FEHLBERG_13_7_8"},
    {ARKODE_KNOTH_WOLKE_3_3, "ARKODE_KNOTH_WOLKE_3_3"},
    {ARKODE_ARK437L2SA_ERK_7_3_4, "ARKODE_ARK437L2SA_ERK_7_3_4"},
    {ARKODE_ARK548L2SAb_ERK_8_4_5, "ARKODE_ARK548L2SAb_ERK_8_4_5"},
};

static rnn_tableau arkode_tables[sizeof arkode_ids / sizeof arkode_ids[0]];
static char arkode_names[sizeof arkode_ids / sizeof arkode_ids[0]][40];
static int arkode_loaded; /* 1: loaded, -1: ARKODE failed to provide a table */

/* Copies one ARKODE table; returns 0 on success. */
static int copy_arkode(size_t i)
{
    ARKodeButcherTable B = ARKodeButcherTable_LoadERK(arkode_ids[i].id);
    if (!B)
        return -1;
    const size_t s = (size_t)B->stages;
    double *A = calloc(s * s, sizeof(double)), *b = malloc(s * sizeof(double)),
           *c = malloc(s * sizeof(double));
    if (!A || !b || !c) {
        free(A), free(b), free(c);
        ARKodeButcherTable_Free(B);
        return -1;
    }
    for (size_t r = 0; r < s; r++) {
        for (size_t k = 0; k < s; k++)
            A[r * s + k] = B->A[r][k];
        b[r] = B->b[r];
        c[r] = B->c[r];
    }
    /* "ARKODE_DORMAND_PRINCE_7_4_5" -> "dormand_prince_7_4_5" */
    const char *src = arkode_ids[i].name + strlen("ARKODE_");
    size_t k = 0;
    for (; src[k] && k + 1 < sizeof arkode_names[i]; k++)
        arkode_names[i][k] = (char)tolower((unsigned char)src[k]);
    arkode_names[i][k] = '\0';
    arkode_tables[i] = (rnn_tableau){arkode_names[i], "SUNDIALS ARKODE (ARKodeButcherTable_LoadERK)",
                                     s, B->q, A, b, c};
    ARKodeButcherTable_Free(B);
    return 0;
}

static int load_arkode(void)
{
    int state;
#pragma omp critical(rnn_tableau_load)
    {
        if (!arkode_loaded) {
            int ok = 1;
            for (size_t i = 0; i < sizeof arkode_ids / sizeof arkode_ids[0]; i++)
                ok &= copy_arkode(i) == 0;
            arkode_loaded = ok ? 1 : -1;
        }
        state = arkode_loaded;
    }
    return state;
}

size_t rnn_tableau_count(void)
{
    return N_BUILTIN + (load_arkode() == 1 ? sizeof arkode_ids / sizeof arkode_ids[0] : 0);
}

const rnn_tableau *rnn_tableau_get(size_t i)
{
    if (i < N_BUILTIN)
        return &tables[i];
    if (i < rnn_tableau_count())
        return &arkode_tables[i - N_BUILTIN];
    return NULL;
}

const rnn_tableau *rnn_tableau_find(const char *name)
{
    for (size_t i = 0; name && i < rnn_tableau_count(); i++)
        if (strcmp(rnn_tableau_get(i)->name, name) == 0)
            return rnn_tableau_get(i);
    return NULL;
}

int rnn_tableau_is_explicit(const rnn_tableau *t)
{
    for (size_t i = 0; i < t->s; i++)
        for (size_t j = i; j < t->s; j++)
            if (t->A[i * t->s + j] != 0.0)
                return 0;
    return 1;
}

int rnn_tableau_check_order(const rnn_tableau *t, int *order)
{
    double *A = malloc(t->s * t->s * sizeof(double)), *b = malloc(t->s * sizeof(double)),
           *c = malloc(t->s * sizeof(double));
    int rc = RNN_ENOMEM;
    if (A && b && c) {
        memcpy(A, t->A, t->s * t->s * sizeof(double));
        memcpy(b, t->b, t->s * sizeof(double));
        memcpy(c, t->c, t->s * sizeof(double));
        ARKodeButcherTable B = ARKodeButcherTable_Create((int)t->s, t->order, 0, c, A, b, NULL);
        rc = RNN_ESOLVER;
        if (B) {
            int q = 0, p = 0;
            /* Returns 0 when the stated order holds, > 0 when it holds up to a
             * round-off warning, < 0 when a condition fails; q is the order found. */
            int flag = ARKodeButcherTable_CheckOrder(B, &q, &p, NULL);
            *order = q;
            rc = flag < -1 ? RNN_ESOLVER : RNN_OK;
            ARKodeButcherTable_Free(B);
        }
    }
    free(A), free(b), free(c);
    return rc;
}
