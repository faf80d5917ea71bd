/*
 * odernn_classes.c — odernn.class-table (THEORY.md §5.3; [OD] as read in
 * docs/theory/od-reading.md).
 *
 * The (n, t) class of a cell is stated in its type (stages, memory, class_derivation). This
 * check holds the statements to the structure they claim to come from:
 *   - every cell listed by `odernn classes` states n >= 1, t >= 1 and a derivation;
 *   - rk:<tableau>:<cell>: n = (stages of the tableau) x n(cell), t = t(cell);
 *   - ms:<method>:<cell>: n = n(cell), t = h + t(cell) - 1, and h is measured: the first block
 *     row of the step Jacobian at a random state has exactly h nonzero column blocks (the
 *     recursion really reads h past states, no more, no fewer).
 * measured = the number of disagreements (threshold 0).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "experiments.h"

#define M_HIDDEN 4
#define D_INPUT 2

/* Column blocks of block row 0 of J (n x n, blocks of n1) with a nonzero entry. */
static size_t read_blocks(size_t n, size_t n1, const double *J)
{
    size_t used = 0;
    for (size_t b = 0; b < n / n1; b++) {
        int nz = 0;
        for (size_t r = 0; r < n1 && !nz; r++)
            for (size_t k = 0; k < n1 && !nz; k++)
                nz = J[r * n + b * n1 + k] != 0.0;
        used += (size_t)nz;
    }
    return used;
}

int rnn_check_odernn_class_table(const rnn_check_ctx *ctx, const rnn_cell_type *unused,
                                 rnn_check_result *r)
{
    (void)unused;
    size_t bad = 0, rows = 0;
    char first_bad[256] = "";
    const char *name;
    char msg[512];
    for (size_t i = 0; (name = rnn_instance_cells_and_families(i)); i++) {
        const rnn_cell_type *t = rnn_cell_type_find(name, msg, sizeof msg);
        if (!t)
            return rnn_check_error(r, RNN_EINVAL, "%s", msg);
        rows++;
        int ok = t->stages >= 1 && t->memory >= 1 && t->class_derivation;
        const rnn_cell_type *b = t->base;
        if (ok && b && strncmp(name, "rk:", 3) == 0) {
            const rnn_tableau *T = rnn_tableau_find(t->tableau);
            ok = T && t->stages == T->s * b->stages && t->memory == b->memory;
        }
        if (ok && b && strncmp(name, "ms:", 3) == 0) {
            ok = t->stages == b->stages && t->memory == t->history + b->memory - 1;
            rnn_cell *c = rnn_check_cell(ctx, t, M_HIDDEN, D_INPUT, "class-table", i);
            double *buf = c ? malloc((c->n_state * c->n_state + c->n_state + D_INPUT) *
                                     sizeof(double)) : NULL;
            if (!buf) {
                rnn_cell_free(c);
                return rnn_check_error(r, RNN_ENOMEM, "out of memory");
            }
            double *J = buf, *s = J + c->n_state * c->n_state, *u = s + c->n_state;
            rnn_cell_random_state(c, rnn_seed_derive(ctx->seed, "class-table:s", i), 1.0, s);
            for (size_t k = 0; k < D_INPUT; k++)
                u[k] = 0.3 * (double)(k + 1);
            int rc = rnn_cell_step_jacobian(c, 0.0, s, u, J);
            size_t h = rc == RNN_OK ? read_blocks(c->n_state, c->n_state / t->history, J) : 0;
            /* leapfrog's beta_2 = 0 and alpha_1 = 0 still read both states (alpha_2 = 1) */
            ok = ok && rc == RNN_OK && h == t->history;
            free(buf);
            rnn_cell_free(c);
        }
        if (!ok && bad++ == 0)
            snprintf(first_bad, sizeof first_bad, "; first disagreement: %s (n = %u, t = %u)", name,
                     t->stages, t->memory);
    }
    r->measured = (double)bad;
    r->threshold = 0;
    r->cmp = RNN_CMP_LE;
    r->pass = bad == 0;
    snprintf(r->detail, sizeof r->detail,
             "%zu cells: stated (n, t) checked against the tableau's stages, the base cell's class "
             "and the measured past states read by the step Jacobian; %zu disagree%s",
             rows, bad, first_bad);
    return RNN_OK;
}
