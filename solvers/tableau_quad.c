/*
 * tableau_quad.c — explicit Butcher tableaux in binary128: their order conditions up to order 8,
 * and the rational coefficients recovered from ARKODE's doubles.
 *
 * Order conditions (Butcher's rooted trees). An explicit method (c | A, b) has order p on every
 * smooth non-autonomous ODE iff c = A 1 and, for every rooted tree t with |t| <= p vertices,
 *
 *     Phi(t) = sum_i b_i g_i(t) = 1 / gamma(t),
 *     g(t) = prod_j (A g(t_j))   (componentwise)   for t = [t_1, ..., t_k],   g(.) = 1,
 *     gamma(t) = |t| prod_j gamma(t_j),
 *
 * where [t_1, ..., t_k] is the tree whose root carries the subtrees t_j. Trees are generated
 * as multisets of smaller trees: 1, 1, 2, 4, 9, 20, 48, 115 of orders 1..8 (OEIS A000081),
 * 200 in all. The residual of order k is max |Phi(t) - 1/gamma(t)| over the trees of order k.
 *
 * Rational recovery. ARKODE ships its tables as doubles. A coefficient published as p/q is the
 * double x nearest p/q, so |x - p/q| <= ulp(x)/2, which is below 1/(2 q^2) for q < 2^26: by
 * Legendre's theorem p/q is then a convergent of x's continued fraction. The expansion is
 * exact (Euclid's algorithm on x = M 2^e as integers); the first convergent with q <= 2^26 that
 * rounds back to x is taken and divided out in binary128. That this gave the published table is
 * not assumed but checked: the recovered table must meet every order condition up to its order
 * to QUAD_EXACT. A wrong recovery leaves a residual of order 1/q^2, and tables whose published
 * coefficients are themselves rounded (SUNDIALS' arkode_butcher_erk.def marks ARK4(3)6L,
 * ARK4(3)7L and ARK5(4)8L[2]SA as not exact beyond double) fail the check; they keep their
 * double coefficients and say so (exact = 0, with their residual).
 *
 * References: Butcher, Numerical Methods for ODEs, 3rd ed. (2016), §30-§31 (trees, elementary
 * weights, order conditions); Hairer, Norsett, Wanner, Solving ODEs I, §II.2; Khinchin,
 * Continued Fractions (1964), Theorem 19 (Legendre).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <quadmath.h>
#include "solvers.h"

/* A recovered table is exact when its residuals are at binary128 rounding: sums of s <= 13
 * products of coefficients up to ~1e2 in size (Fehlberg 8, Verner 6) carry rounding ~ s^2 1e2
 * 2^-113 ~ 2e-30 per tree; 1e-26 leaves a margin of 5000, while a coefficient rounded to double
 * leaves residuals ~ 1e-17 and a wrong rational one ~ 1/q^2 >= 2^-52. */
#define QUAD_EXACT 1e-26
#define MAX_DEN ((unsigned long long)1 << 26)
#define N_TREES 200

typedef struct {
    int order, nchild;
    int child[RNN_QUAD_MAX_ORDER];
    double gamma; /* the density: at most 8! = 40320, exact */
} tree;

/* Appends every tree of order n: a root whose subtrees (indices <= maxi, non-increasing, so
 * that each multiset comes once) have orders summing to rem. */
static void grow(tree *T, int *nt, int n, int rem, int maxi, tree *cur)
{
    if (rem == 0) {
        cur->order = n;
        cur->gamma = n;
        for (int j = 0; j < cur->nchild; j++)
            cur->gamma *= T[cur->child[j]].gamma;
        T[(*nt)++] = *cur;
        return;
    }
    for (int i = maxi; i >= 0; i--) {
        if (T[i].order > rem)
            continue;
        cur->child[cur->nchild++] = i;
        grow(T, nt, n, rem - T[i].order, i, cur);
        cur->nchild--;
    }
}

/* All rooted trees of order 1..pmax in order of increasing order; returns their count. */
static int make_trees(int pmax, tree *T)
{
    int nt = 0;
    T[nt++] = (tree){.order = 1, .nchild = 0, .gamma = 1};
    for (int n = 2; n <= pmax; n++) {
        tree cur = {0};
        grow(T, &nt, n, n - 1, nt - 1, &cur);
    }
    return nt;
}

int rnn_rooted_tree_count(int order)
{
    if (order < 1 || order > RNN_QUAD_MAX_ORDER)
        return -1;
    tree T[N_TREES];
    int nt = make_trees(order, T), k = 0;
    for (int i = 0; i < nt; i++)
        k += T[i].order == order;
    return k;
}

int rnn_order_residuals_quad(size_t s, const rnn_quad *A, const rnn_quad *b, const rnn_quad *c,
                             int pmax, double *res, double *c_res)
{
    if (s < 1 || s > RNN_QUAD_MAX_STAGES || pmax < 1 || pmax > RNN_QUAD_MAX_ORDER)
        return RNN_EINVAL;
    tree T[N_TREES];
    const int nt = make_trees(pmax, T);
    rnn_quad *g = malloc(2 * (size_t)nt * s * sizeof(rnn_quad)), *Ag = g ? g + nt * s : NULL;
    if (!g)
        return RNN_ENOMEM;
    for (int k = 0; k <= pmax; k++)
        res[k] = 0;
    for (int t = 0; t < nt; t++) {
        rnn_quad *gt = g + (size_t)t * s, phi = 0;
        for (size_t i = 0; i < s; i++) {
            gt[i] = 1;
            for (int j = 0; j < T[t].nchild; j++)
                gt[i] *= Ag[(size_t)T[t].child[j] * s + i];
        }
        for (size_t i = 0; i < s; i++) {
            rnn_quad a = 0;
            for (size_t j = 0; j < s; j++)
                a += A[i * s + j] * gt[j];
            Ag[(size_t)t * s + i] = a;
            phi += b[i] * gt[i];
        }
        double r = (double)fabsq(phi - 1 / (rnn_quad)T[t].gamma);
        res[T[t].order] = fmax(res[T[t].order], r);
    }
    double cr = 0;
    for (size_t i = 0; i < s; i++) {
        rnn_quad a = 0;
        for (size_t j = 0; j < s; j++)
            a += A[i * s + j];
        cr = fmax(cr, (double)fabsq(c[i] - a));
    }
    *c_res = cr;
    free(g);
    return RNN_OK;
}

int rnn_rational_from_double(double x, long long *num, unsigned long long *den)
{
    if (!isfinite(x))
        return RNN_EINVAL;
    if (x == 0) {
        *num = 0, *den = 1;
        return RNN_OK;
    }
    int e;
    const double f = frexp(fabs(x), &e); /* |x| = f 2^e, f in [0.5, 1) */
    /* |x| = M / 2^k with M < 2^53 an integer: a = M, b = 2^k (or |x| an integer if k <= 0) */
    __extension__ typedef unsigned __int128 u128;
    const int k = 53 - e;
    if (k <= 0 || k > 126)
        return RNN_EINVAL; /* |x| >= 2^53 or tiny: not a coefficient of a tableau */
    u128 a = (u128)ldexp(f, 53), b = (u128)1 << k;
    /* convergents p_j / q_j of a / b */
    u128 p0 = 0, q0 = 1, p1 = 1, q1 = 0;
    while (b != 0) {
        u128 t = a / b, r = a % b;
        u128 p2 = t * p1 + p0, q2 = t * q1 + q0;
        if (q2 > MAX_DEN || p2 > ((u128)1 << 62))
            break;
        if ((double)((rnn_quad)p2 / (rnn_quad)q2) == fabs(x)) {
            *num = x < 0 ? -(long long)p2 : (long long)p2;
            *den = (unsigned long long)q2;
            return RNN_OK;
        }
        p0 = p1, q0 = q1, p1 = p2, q1 = q2;
        a = b, b = r;
    }
    return RNN_EFORMAT; /* no fraction with a denominator up to 2^26 rounds to x */
}

int rnn_tableau_to_quad(const rnn_tableau *t, rnn_tableau_quad *q)
{
    const size_t s = t->s;
    if (s > RNN_QUAD_MAX_STAGES || t->order < 1 || t->order > RNN_QUAD_MAX_ORDER)
        return RNN_EINVAL;
    memset(q, 0, sizeof *q);
    q->s = s;
    q->order = t->order;
    q->name = t->name;
    /* the rational reading of every coefficient */
    int all = 1;
    const double *src[3] = {t->A, t->b, t->c};
    rnn_quad *dst[3] = {q->A, q->b, q->c};
    const size_t cnt[3] = {s * s, s, s};
    for (int v = 0; v < 3; v++)
        for (size_t i = 0; i < cnt[v]; i++) {
            long long p;
            unsigned long long d;
            if (rnn_rational_from_double(src[v][i], &p, &d) == RNN_OK) {
                dst[v][i] = (rnn_quad)p / (rnn_quad)d;
                if (d > q->max_den)
                    q->max_den = d;
            } else {
                dst[v][i] = src[v][i];
                all = 0;
            }
        }
    double res[RNN_QUAD_MAX_ORDER + 1], cres;
    int rc = rnn_order_residuals_quad(s, q->A, q->b, q->c, t->order, res, &cres);
    if (rc != RNN_OK)
        return rc;
    double worst = cres;
    for (int k = 1; k <= t->order; k++)
        worst = fmax(worst, res[k]);
    q->exact = all && worst <= QUAD_EXACT;
    if (!q->exact) { /* the doubles as they are, and their own residual */
        for (int v = 0; v < 3; v++)
            for (size_t i = 0; i < cnt[v]; i++)
                dst[v][i] = src[v][i];
        q->max_den = 0;
        rc = rnn_order_residuals_quad(s, q->A, q->b, q->c, t->order, res, &cres);
        worst = cres;
        for (int k = 1; k <= t->order; k++)
            worst = fmax(worst, res[k]);
    }
    q->residual = worst;
    return rc;
}
