/*
 * family.c — the one cache of cell types built at run time: qunn:<t>, dense:<t> (cells/),
 * rk:<tableau>:<cell> and ms:<method>:<cell> (solvers/).
 *
 * A family's type is a struct whose first member is an rnn_cell_type (cell.h). A type is
 * built once per (family, key), on first use, by the family's own `build`, and kept for the
 * life of the program, so that pointers to it can be compared and stored. Lookups from
 * several threads (region maps build cells inside OpenMP loops) are serialised here.
 */
#include <stdlib.h>
#include "cell.h"

typedef struct node {
    const char *family;
    rnn_cell_type *type;
    struct node *next;
} node;

const rnn_cell_type *rnn_family_intern(const char *family, rnn_family_same same,
                                       rnn_family_build build, const void *key)
{
    static node *cache = NULL;
    const rnn_cell_type *found = NULL;
#pragma omp critical(rnn_cell_family)
    {
        for (node *n = cache; n && !found; n = n->next)
            if (n->family == family && same(n->type, key))
                found = n->type;
        node *n = found ? NULL : malloc(sizeof *n);
        rnn_cell_type *t = n ? build(key) : NULL;
        if (t) {
            *n = (node){family, t, cache};
            cache = n;
            found = t;
        } else {
            free(n);
        }
    }
    return found;
}
