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
 * to QUAD_EXACT. A wrong recovery leaves a residual of order 1/q^2 or more. The ARK5(4)8L tables
 * were published as fractions with q ~ 1e13, which cannot be recovered (fractions that close
 * are not unique): they are carried here as published, checked entry by entry against ARKODE's
 * doubles. Tables with neither keep their doubles and say so (exact = 0, with their residual,
 * ~1e-16).
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

/* Rational coefficients are used when they meet the order conditions to QUAD_EXACT: eight
 * orders below double rounding. Recovered small-denominator tables reach binary128 rounding
 * (sums of s <= 13 products of coefficients up to ~1e2: ~ s^2 1e2 2^-113 ~ 2e-30); the published
 * fractions of the ARK tables ~1e-26. A wrong recovery, or a coefficient rounded to double,
 * leaves >= 1e-17. What remains is an error floor that the binary128 study estimates and keeps
 * 1000x below the errors it fits (convergence_quad.c). */
#define QUAD_EXACT 1e-24
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

/* ---- coefficients published as ratios of large integers --------------------------------------
 * Kennedy and Carpenter give their ARK tables as p/q with q ~ 1e13, beyond recovery from the
 * doubles (fractions that close are not unique): ARK5(4)8L[2]SA, Appl. Numer. Math. 44 (2003)
 * 139-181, Table 5; ARK5(4)8L[2]SAb, Appl. Numer. Math. 136 (2019) 183-205. The numbers are
 * the ones SUNDIALS' arkode_butcher_erk.def lists. They are rational approximations of the
 * schemes, so they meet the order conditions only to ~1e-26, not to binary128 rounding; every
 * entry must round to ARKODE's double, and entries not listed must be zero there. */
typedef struct {
    signed char i, j; /* A_ij; j = -1: b_i; j = -2: c_i */
    double p, q;      /* integers below 2^53: exact */
} frac;
#define END {-1, 0, 0, 0}

static const frac ark548l2sa[] = {
    {1, 0, 41, 100},
    {2, 0, 367902744464., 2072280473677.}, {2, 1, 677623207551., 8224143866563.},
    {3, 0, 1268023523408., 10340822734521.}, {3, 2, 1029933939417., 13636558850479.},
    {4, 0, 14463281900351., 6315353703477.}, {4, 2, 66114435211212., 5879490589093.},
    {4, 3, -54053170152839., 4284798021562.},
    {5, 0, 14090043504691., 34967701212078.}, {5, 2, 15191511035443., 11219624916014.},
    {5, 3, -18461159152457., 12425892160975.}, {5, 4, -281667163811., 9011619295870.},
    {6, 0, 19230459214898., 13134317526959.}, {6, 2, 21275331358303., 2942455364971.},
    {6, 3, -38145345988419., 4862620318723.}, {6, 4, -1, 8}, {6, 5, -1, 8},
    {7, 0, -19977161125411., 11928030595625.}, {7, 2, -40795976796054., 6384907823539.},
    {7, 3, 177454434618887., 12078138498510.}, {7, 4, 782672205425., 8267701900261.},
    {7, 5, -69563011059811., 9646580694205.}, {7, 6, 7356628210526., 4942186776405.},
    {0, -1, -872700587467., 9133579230613.}, {3, -1, 22348218063261., 9555858737531.},
    {4, -1, -1143369518992., 8141816002931.}, {5, -1, -39379526789629., 19018526304540.},
    {6, -1, 32727382324388., 42900044865799.}, {7, -1, 41, 200},
    {1, -2, 41, 100}, {2, -2, 2935347310677., 11292855782101.},
    {3, -2, 1426016391358., 7196633302097.}, {4, -2, 92, 100}, {5, -2, 24, 100}, {6, -2, 3, 5},
    {7, -2, 1, 1}, END};

static const frac ark548l2sab[] = {
    {1, 0, 4, 9}, {2, 0, 1, 9}, {2, 1, 1183333538310., 1827251437969.},
    {3, 0, 895379019517., 9750411845327.}, {3, 1, 477606656805., 13473228687314.},
    {3, 2, -112564739183., 9373365219272.},
    {4, 0, -4458043123994., 13015289567637.}, {4, 1, -2500665203865., 9342069639922.},
    {4, 2, 983347055801., 8893519644487.}, {4, 3, 2185051477207., 2551468980502.},
    {5, 0, -167316361917., 17121522574472.}, {5, 1, 1605541814917., 7619724128744.},
    {5, 2, 991021770328., 13052792161721.}, {5, 3, 2342280609577., 11279663441611.},
    {5, 4, 3012424348531., 12792462456678.},
    {6, 0, 6680998715867., 14310383562358.}, {6, 1, 5029118570809., 3897454228471.},
    {6, 2, 2415062538259., 6382199904604.}, {6, 3, -3924368632305., 6964820224454.},
    {6, 4, -4331110370267., 15021686902756.}, {6, 5, -3944303808049., 11994238218192.},
    {7, 0, 2193717860234., 3570523412979.}, {7, 1, 2193717860234., 3570523412979.},
    {7, 2, 5952760925747., 18750164281544.}, {7, 3, -4412967128996., 6196664114337.},
    {7, 4, 4151782504231., 36106512998704.}, {7, 5, 572599549169., 6265429158920.},
    {7, 6, -457874356192., 11306498036315.},
    {2, -1, 3517720773327., 20256071687669.}, {3, -1, 4569610470461., 17934693873752.},
    {4, -1, 2819471173109., 11655438449929.}, {5, -1, 3296210113763., 10722700128969.},
    {6, -1, -1142099968913., 5710983926999.}, {7, -1, 2, 9},
    {1, -2, 4, 9}, {2, -2, 6456083330201., 8509243623797.},
    {3, -2, 1632083962415., 14158861528103.}, {4, -2, 6365430648612., 17842476412687.},
    {5, -2, 18, 25}, {6, -2, 191, 200}, {7, -2, 1, 1}, END};

static const struct {
    const char *name;
    const frac *f;
} published[] = {{"ark548l2sa_erk_8_4_5", ark548l2sa}, {"ark548l2sab_erk_8_4_5", ark548l2sab}};

/* The published table for t into q (A, b, c); 1 if there is one and every entry matches
 * ARKODE's doubles. */
static int from_published(const rnn_tableau *t, rnn_tableau_quad *q)
{
    const frac *f = NULL;
    for (size_t k = 0; k < sizeof published / sizeof published[0]; k++)
        if (strcmp(t->name, published[k].name) == 0)
            f = published[k].f;
    if (!f)
        return 0;
    const size_t s = t->s;
    int listed[RNN_QUAD_MAX_STAGES * (RNN_QUAD_MAX_STAGES + 2)] = {0};
    for (; f->i >= 0; f++) {
        if ((size_t)f->i >= s || f->j >= f->i)
            return 0;
        const rnn_quad v = (rnn_quad)f->p / (rnn_quad)f->q;
        const size_t col = f->j >= 0 ? (size_t)f->j : s - 1 - (size_t)f->j; /* b: s, c: s + 1 */
        const double shipped = f->j >= 0 ? t->A[f->i * s + f->j] : f->j == -1 ? t->b[f->i] : t->c[f->i];
        if ((double)v != shipped)
            return 0;
        (f->j >= 0 ? q->A + f->i * s + f->j : f->j == -1 ? q->b + f->i : q->c + f->i)[0] = v;
        listed[f->i * (s + 2) + col] = 1;
    }
    for (size_t i = 0; i < s; i++) { /* what is not listed is zero in ARKODE's table too */
        for (size_t j = 0; j < s; j++)
            if (!listed[i * (s + 2) + j] && t->A[i * s + j] != 0)
                return 0;
        if ((!listed[i * (s + 2) + s] && t->b[i] != 0) ||
            (!listed[i * (s + 2) + s + 1] && t->c[i] != 0))
            return 0;
    }
    return 1;
}

/* The largest residual of q's order conditions up to its order, c = A 1 included. */
static int worst_residual(const rnn_tableau_quad *q, double *worst)
{
    double res[RNN_QUAD_MAX_ORDER + 1], cres = 0;
    int rc = rnn_order_residuals_quad(q->s, q->A, q->b, q->c, q->order, res, &cres);
    *worst = cres;
    for (int k = 1; rc == RNN_OK && k <= q->order; k++)
        *worst = fmax(*worst, res[k]);
    return rc;
}

/* Every coefficient read as the small-denominator fraction its double was rounded from; 1 if
 * all of them were. */
static int from_recovered(const rnn_tableau *t, rnn_tableau_quad *q)
{
    const size_t s = t->s;
    for (size_t i = 0; i < s * s + 2 * s; i++) {
        const double x = i < s * s ? t->A[i] : i < s * s + s ? t->b[i - s * s] : t->c[i - s * s - s];
        rnn_quad *dst = i < s * s ? q->A + i : i < s * s + s ? q->b + (i - s * s) : q->c + (i - s * s - s);
        long long p;
        unsigned long long d;
        if (rnn_rational_from_double(x, &p, &d) != RNN_OK)
            return 0;
        *dst = (rnn_quad)p / (rnn_quad)d;
    }
    return 1;
}

int rnn_tableau_to_quad(const rnn_tableau *t, rnn_tableau_quad *q)
{
    const size_t s = t ? t->s : 0;
    if (!t || s < 1 || s > RNN_QUAD_MAX_STAGES || t->order < 1 || t->order > RNN_QUAD_MAX_ORDER)
        return RNN_EINVAL;
    memset(q, 0, sizeof *q);
    q->s = s;
    q->order = t->order;
    q->name = t->name;
    /* published fractions first, then fractions recovered from the doubles: kept if the order
     * conditions hold to QUAD_EXACT */
    int rc = RNN_OK;
    if (from_published(t, q)) {
        q->source = "published fractions";
        rc = worst_residual(q, &q->residual);
        q->exact = rc == RNN_OK && q->residual <= QUAD_EXACT;
    }
    if (rc == RNN_OK && !q->exact) {
        memset(q->A, 0, sizeof q->A);
        if (from_recovered(t, q)) {
            q->source = "fractions recovered from the doubles";
            rc = worst_residual(q, &q->residual);
            q->exact = rc == RNN_OK && q->residual <= QUAD_EXACT;
        }
    }
    if (rc == RNN_OK && !q->exact) { /* the doubles as they are, and their own residual */
        for (size_t i = 0; i < s; i++) {
            for (size_t j = 0; j < s; j++)
                q->A[i * s + j] = t->A[i * s + j];
            q->b[i] = t->b[i];
            q->c[i] = t->c[i];
        }
        q->source = "ARKODE's doubles";
        rc = worst_residual(q, &q->residual);
    }
    return rc;
}
