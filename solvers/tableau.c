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
 * Reference: Butcher, Numerical Methods for ODEs, 3rd ed. (2016), §23-§32; Hairer, Norsett,
 * Wanner, Solving ODEs I, §II.1, Table 1.1-1.2.
 */
#include <string.h>
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

size_t rnn_tableau_count(void)
{
    return sizeof tables / sizeof tables[0];
}

const rnn_tableau *rnn_tableau_get(size_t i)
{
    return i < rnn_tableau_count() ? &tables[i] : NULL;
}

const rnn_tableau *rnn_tableau_find(const char *name)
{
    for (size_t i = 0; name && i < rnn_tableau_count(); i++)
        if (strcmp(tables[i].name, name) == 0)
            return &tables[i];
    return NULL;
}
