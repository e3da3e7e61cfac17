/*
 * The loops of newton-cd's coordinate descent over a dense column
 * (skxent/_cd.pyx): the model's gradient sum_i x_i (r_i u_i - b_i), the
 * update u += x delta, and both in one pass (one column's update, then the
 * next column's sum over the rows just updated).
 *
 * The sum keeps eight partial sums, lane j taking the rows i = j (mod 8), added
 * in a fixed tree at the end: the compiler maps them to vector registers of any
 * width (one AVX-512 register, two AVX2 ones, four SSE2 ones) with the same
 * arithmetic per lane, so every clone gives the same bits, and no -ffast-math
 * is needed to vectorise a reduction.  fp-contract=off keeps a * b + c two
 * roundings in every clone.  One build runs everywhere: the loader picks the
 * widest clone the CPU has (glibc ifunc, gcc on x86-64 Linux).
 */
#ifndef SKXENT_CD_LOOPS_H
#define SKXENT_CD_LOOPS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) \
    && defined(__linux__) && defined(__GLIBC__)
#define SKX_CD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define SKX_CD_EXACT __attribute__((optimize("fp-contract=off")))
#else
#define SKX_CD_CLONES
#define SKX_CD_EXACT
#endif

#define SKX_CD_LANES 8

/* The eight partial sums' terms; b may be NULL (sigmoids: 0). */
#define SKX_CD_TERM(y, r, u, b, k) ((double)(y)[k] * ((r)[k] * (u)[k] - (b)[k]))
#define SKX_CD_TERM0(y, r, u, k) ((double)(y)[k] * ((r)[k] * (u)[k]))
#define SKX_CD_TREE(s) \
    (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])))

#define SKX_CD_DOT(NAME, T)                                                   \
SKX_CD_CLONES SKX_CD_EXACT static double NAME(                                \
    const T *__restrict x, const double *__restrict r,                        \
    const double *__restrict u, const double *__restrict b, ptrdiff_t n)      \
{                                                                             \
    double s[SKX_CD_LANES] = {0.0};                                           \
    ptrdiff_t i = 0, j;                                                       \
    if (b != NULL) {                                                          \
        for (; i + SKX_CD_LANES <= n; i += SKX_CD_LANES)                      \
            for (j = 0; j < SKX_CD_LANES; j++)                                \
                s[j] += SKX_CD_TERM(x, r, u, b, i + j);                       \
        for (j = 0; i + j < n; j++)                                           \
            s[j] += SKX_CD_TERM(x, r, u, b, i + j);                           \
    } else {                                                                  \
        for (; i + SKX_CD_LANES <= n; i += SKX_CD_LANES)                      \
            for (j = 0; j < SKX_CD_LANES; j++)                                \
                s[j] += SKX_CD_TERM0(x, r, u, i + j);                         \
        for (j = 0; i + j < n; j++)                                           \
            s[j] += SKX_CD_TERM0(x, r, u, i + j);                             \
    }                                                                         \
    return SKX_CD_TREE(s);                                                    \
}

SKX_CD_DOT(skx_cd_dot_d, double)
SKX_CD_DOT(skx_cd_dot_f, float)

/* u += x delta. */
#define SKX_CD_UPDATE(NAME, T)                                                \
SKX_CD_CLONES SKX_CD_EXACT static void NAME(                                  \
    const T *__restrict x, double delta, double *__restrict u, ptrdiff_t n)   \
{                                                                             \
    ptrdiff_t i;                                                              \
    for (i = 0; i < n; i++) {                                                 \
        u[i] += (double)x[i] * delta;                                         \
    }                                                                         \
}

SKX_CD_UPDATE(skx_cd_update_d, double)
SKX_CD_UPDATE(skx_cd_update_f, float)

/* u += x delta, then the sum of SKX_CD_DOT for column y over the rows just
 * updated: each row's arithmetic and each lane's order are those of the two
 * loops above one after the other (the same bits), with u read once. */
#define SKX_CD_UPDATE_DOT(NAME, T)                                            \
SKX_CD_CLONES SKX_CD_EXACT static double NAME(                                \
    const T *__restrict x, double delta, double *__restrict u,                \
    const T *__restrict y, const double *__restrict r,                        \
    const double *__restrict b, ptrdiff_t n)                                  \
{                                                                             \
    double s[SKX_CD_LANES] = {0.0};                                           \
    ptrdiff_t i = 0, j;                                                       \
    if (b != NULL) {                                                          \
        for (; i + SKX_CD_LANES <= n; i += SKX_CD_LANES)                      \
            for (j = 0; j < SKX_CD_LANES; j++) {                              \
                u[i + j] += (double)x[i + j] * delta;                         \
                s[j] += SKX_CD_TERM(y, r, u, b, i + j);                       \
            }                                                                 \
        for (j = 0; i + j < n; j++) {                                         \
            u[i + j] += (double)x[i + j] * delta;                             \
            s[j] += SKX_CD_TERM(y, r, u, b, i + j);                           \
        }                                                                     \
    } else {                                                                  \
        for (; i + SKX_CD_LANES <= n; i += SKX_CD_LANES)                      \
            for (j = 0; j < SKX_CD_LANES; j++) {                              \
                u[i + j] += (double)x[i + j] * delta;                         \
                s[j] += SKX_CD_TERM0(y, r, u, i + j);                         \
            }                                                                 \
        for (j = 0; i + j < n; j++) {                                         \
            u[i + j] += (double)x[i + j] * delta;                             \
            s[j] += SKX_CD_TERM0(y, r, u, i + j);                             \
        }                                                                     \
    }                                                                         \
    return SKX_CD_TREE(s);                                                    \
}

SKX_CD_UPDATE_DOT(skx_cd_update_dot_d, double)
SKX_CD_UPDATE_DOT(skx_cd_update_dot_f, float)

/* A coordinate's curvatures over a dense column: *a = sum_i x_i^2 r_i and
 * *h = sum_i x_i r_i, eight lanes each as above, one sum a pass (gcc
 * vectorises one lane array a loop; two in one loop it reduced lane by lane). */
#define SKX_CD_CURVATURES(NAME, T)                                            \
SKX_CD_CLONES SKX_CD_EXACT static void NAME(                                  \
    const T *__restrict x, const double *__restrict r, ptrdiff_t n,           \
    double *a, double *h)                                                     \
{                                                                             \
    double s[SKX_CD_LANES] = {0.0}, t[SKX_CD_LANES] = {0.0};                  \
    ptrdiff_t i = 0, j;                                                       \
    for (; i + SKX_CD_LANES <= n; i += SKX_CD_LANES)                          \
        for (j = 0; j < SKX_CD_LANES; j++)                                    \
            s[j] += ((double)x[i + j] * r[i + j]) * (double)x[i + j];         \
    for (j = 0; i + j < n; j++)                                               \
        s[j] += ((double)x[i + j] * r[i + j]) * (double)x[i + j];             \
    for (i = 0; i + SKX_CD_LANES <= n; i += SKX_CD_LANES)                     \
        for (j = 0; j < SKX_CD_LANES; j++)                                    \
            t[j] += (double)x[i + j] * r[i + j];                              \
    for (j = 0; i + j < n; j++)                                               \
        t[j] += (double)x[i + j] * r[i + j];                                  \
    *a = SKX_CD_TREE(s);                                                      \
    *h = SKX_CD_TREE(t);                                                      \
}

SKX_CD_CURVATURES(skx_cd_curvatures_d, double)
SKX_CD_CURVATURES(skx_cd_curvatures_f, float)

/* Between sweeps, over a block of rows (skxent/_cd.pyx): sum_i w_i (a_i -
 * a0_i)^2, or sum_i w_i a_i^2 with a0 NULL (the model's curvature along a
 * change of the scores, or at them), eight lanes as above. */
SKX_CD_CLONES SKX_CD_EXACT static double skx_cd_weighted_square(
    const double *__restrict w, const double *__restrict a,
    const double *__restrict a0, ptrdiff_t n)
{
    double s[SKX_CD_LANES] = {0.0}, v;
    ptrdiff_t i = 0, j;
    if (a0 != NULL) {
        for (; i + SKX_CD_LANES <= n; i += SKX_CD_LANES)
            for (j = 0; j < SKX_CD_LANES; j++) {
                v = a[i + j] - a0[i + j];
                s[j] += (w[i + j] * v) * v;
            }
        for (j = 0; i + j < n; j++) {
            v = a[i + j] - a0[i + j];
            s[j] += (w[i + j] * v) * v;
        }
    } else {
        for (; i + SKX_CD_LANES <= n; i += SKX_CD_LANES)
            for (j = 0; j < SKX_CD_LANES; j++)
                s[j] += (w[i + j] * a[i + j]) * a[i + j];
        for (j = 0; i + j < n; j++)
            s[j] += (w[i + j] * a[i + j]) * a[i + j];
    }
    return SKX_CD_TREE(s);
}

/* sum_i (u_i - u0_i) q_i (u_i - m_i): the slope of the model's data term
 * along the change U - U0, one output's rows of a block. */
SKX_CD_CLONES SKX_CD_EXACT static double skx_cd_slope(
    const double *__restrict q, const double *__restrict u,
    const double *__restrict u0, const double *__restrict m, ptrdiff_t n)
{
    double s[SKX_CD_LANES] = {0.0};
    ptrdiff_t i = 0, j;
    for (; i + SKX_CD_LANES <= n; i += SKX_CD_LANES)
        for (j = 0; j < SKX_CD_LANES; j++)
            s[j] += ((u[i + j] - u0[i + j]) * q[i + j]) * (u[i + j] - m[i + j]);
    for (j = 0; i + j < n; j++)
        s[j] += ((u[i + j] - u0[i + j]) * q[i + j]) * (u[i + j] - m[i + j]);
    return SKX_CD_TREE(s);
}

/* newton-cg's block-Jacobi blocks (block_jacobi_factors in skxent/_cd.pyx).
 * The sum of a class's curvatures r, in eight lanes. */
SKX_CD_CLONES SKX_CD_EXACT static double skx_bj_sum(const double *__restrict r, ptrdiff_t n)
{
    double s[SKX_CD_LANES] = {0.0};
    ptrdiff_t i = 0, j;
    for (; i + SKX_CD_LANES <= n; i += SKX_CD_LANES)
        for (j = 0; j < SKX_CD_LANES; j++)
            s[j] += r[i + j];
    for (j = 0; i + j < n; j++)
        s[j] += r[i + j];
    return SKX_CD_TREE(s);
}

/* Row t of A (d + 1 values with the intercept, else d) is
 * sqrt(r_i) (x_i, 1) for the t-th chosen row i = rows[t] of X (n x d, C
 * order).  The chosen rows lie scattered over X, and waiting for each one's
 * first cache lines took most of the gather's time: every line of the row
 * SKX_BJ_AHEAD places on is fetched meanwhile. */
#define SKX_BJ_AHEAD 4
#if defined(__GNUC__)
#define SKX_BJ_PREFETCH(p) __builtin_prefetch(p)
#else
#define SKX_BJ_PREFETCH(p) ((void)0)
#endif

#define SKX_BJ_GATHER(NAME, T)                                                \
SKX_CD_CLONES SKX_CD_EXACT static void NAME(                                  \
    const T *__restrict X, ptrdiff_t d, const double *__restrict r,           \
    const ptrdiff_t *__restrict rows, ptrdiff_t m, int intercept,             \
    double *__restrict A)                                                     \
{                                                                             \
    ptrdiff_t t, j, d1 = d + (intercept != 0);                                \
    size_t line;                                                              \
    for (t = 0; t < m; t++) {                                                 \
        const T *x = X + rows[t] * d;                                         \
        double s = sqrt(r[rows[t]]);                                          \
        double *a = A + t * d1;                                               \
        if (t + SKX_BJ_AHEAD < m) {                                           \
            const char *next = (const char *)(X + rows[t + SKX_BJ_AHEAD] * d);\
            for (line = 0; line < (size_t)d * sizeof(T); line += 64)          \
                SKX_BJ_PREFETCH(next + line);                                 \
        }                                                                     \
        for (j = 0; j < d; j++)                                               \
            a[j] = s * (double)x[j];                                          \
        if (intercept)                                                        \
            a[d] = s;                                                         \
    }                                                                         \
}

SKX_BJ_GATHER(skx_bj_gather_d, double)
SKX_BJ_GATHER(skx_bj_gather_f, float)

/* exp(x) for x <= 0 to about 1e-8, relative: enough for a preconditioner, in
 * operations every clone vectorises.  x = n ln2 + r (Cody and Waite's two-part
 * ln2, n found by adding 1.5 2^52, which leaves n in the low bits), exp(r)
 * by its Taylor polynomial of degree 7 (|r| <= ln2 / 2: error below 6e-9),
 * and 2^n added to the result's exponent bits.  x below -700 is taken as -700
 * (exp about 1e-304; NaN too). */
static inline double skx_bj_exp(double x)
{
    const double shifter = 0x1.8p52;
    double t, n, r, q;
    uint64_t tb, qb;
    x = x > -700.0 ? x : -700.0;
    t = x * 1.4426950408889634 + shifter;
    n = t - shifter;
    r = (x - n * 0.6931471803691238) - n * 1.9082149292705877e-10;
    q = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120
        + r * (1.0 / 720 + r * (1.0 / 5040)))))));
    memcpy(&tb, &t, sizeof tb);
    memcpy(&qb, &q, sizeof qb);
    qb += tb << 52;
    memcpy(&q, &qb, sizeof q);
    return q;
}

/* One row's softmax curvatures s p_c (1 - p_c), p = softmax(z), written to
 * R[c * stride] (the class-major layout the blocks read); e holds K values. */
#define SKX_BJ_CURVATURES(NAME, T)                                            \
SKX_CD_CLONES SKX_CD_EXACT static void NAME(                                  \
    const T *__restrict z, ptrdiff_t K, double s, double *__restrict e,       \
    double *__restrict R, ptrdiff_t stride)                                   \
{                                                                             \
    double top[SKX_CD_LANES], sum[SKX_CD_LANES] = {0.0}, big, scale, p;       \
    ptrdiff_t c = 0, j;                                                       \
    for (j = 0; j < SKX_CD_LANES; j++)                                        \
        top[j] = (double)z[0];                                                \
    for (; c + SKX_CD_LANES <= K; c += SKX_CD_LANES)                          \
        for (j = 0; j < SKX_CD_LANES; j++)                                    \
            top[j] = (double)z[c + j] > top[j] ? (double)z[c + j] : top[j];   \
    for (j = 0; c + j < K; j++)                                               \
        top[j] = (double)z[c + j] > top[j] ? (double)z[c + j] : top[j];       \
    big = top[0];                                                             \
    for (j = 1; j < SKX_CD_LANES; j++)                                        \
        big = top[j] > big ? top[j] : big;                                    \
    for (c = 0; c < K; c++)                                                   \
        e[c] = skx_bj_exp((double)z[c] - big);                                \
    for (c = 0; c + SKX_CD_LANES <= K; c += SKX_CD_LANES)                     \
        for (j = 0; j < SKX_CD_LANES; j++)                                    \
            sum[j] += e[c + j];                                               \
    for (j = 0; c + j < K; j++)                                               \
        sum[j] += e[c + j];                                                   \
    scale = 1.0 / SKX_CD_TREE(sum);                                           \
    for (c = 0; c < K; c++) {                                                 \
        p = e[c] * scale;                                                     \
        R[c * stride] = (p * s) * (1.0 - p);                                  \
    }                                                                         \
}

SKX_BJ_CURVATURES(skx_bj_curvatures_d, double)
SKX_BJ_CURVATURES(skx_bj_curvatures_f, float)

/* The vector work of newton-cg's conjugate gradients (skxent/_solvers.py's
 * _pcg), over one block of the flat coefficient vectors; sums in eight lanes
 * as above. */

/* x . y */
SKX_CD_CLONES SKX_CD_EXACT static double skx_cg_dot(const double *__restrict x,
                                                    const double *__restrict y, ptrdiff_t n)
{
    double s[SKX_CD_LANES] = {0.0};
    ptrdiff_t i = 0, j;
    for (; i + SKX_CD_LANES <= n; i += SKX_CD_LANES)
        for (j = 0; j < SKX_CD_LANES; j++)
            s[j] += x[i + j] * y[i + j];
    for (j = 0; i + j < n; j++)
        s[j] += x[i + j] * y[i + j];
    return SKX_CD_TREE(s);
}

/* p += a d and r -= a h; returns r . r (of the new r) */
SKX_CD_CLONES SKX_CD_EXACT static double skx_cg_step(double a, const double *__restrict d,
                                                     const double *__restrict h,
                                                     double *__restrict p,
                                                     double *__restrict r, ptrdiff_t n)
{
    double s[SKX_CD_LANES] = {0.0};
    ptrdiff_t i = 0, j;
    for (; i + SKX_CD_LANES <= n; i += SKX_CD_LANES)
        for (j = 0; j < SKX_CD_LANES; j++) {
            p[i + j] += a * d[i + j];
            r[i + j] -= a * h[i + j];
            s[j] += r[i + j] * r[i + j];
        }
    for (j = 0; i + j < n; j++) {
        p[i + j] += a * d[i + j];
        r[i + j] -= a * h[i + j];
        s[j] += r[i + j] * r[i + j];
    }
    return SKX_CD_TREE(s);
}

/* z = r * inv, then (k > 1) each run of k entries less its mean (n a
 * multiple of k); returns r . z.  In pieces of 64 runs, each centred and
 * summed while in L1. */
SKX_CD_CLONES SKX_CD_EXACT static double skx_cg_precondition(const double *__restrict r,
                                                             const double *__restrict inv,
                                                             ptrdiff_t k,
                                                             double *__restrict z,
                                                             ptrdiff_t n)
{
    double s[SKX_CD_LANES] = {0.0};
    ptrdiff_t piece = 64 * (k > 1 ? k : 8), i0, i, j;
    for (i0 = 0; i0 < n; i0 += piece) {
        ptrdiff_t i1 = i0 + piece < n ? i0 + piece : n;
        for (i = i0; i < i1; i++)
            z[i] = r[i] * inv[i];
        if (k > 1) {
            for (i = i0; i + k <= i1; i += k) {
                /* four running sums (j mod 4): one sum's chain of k
                   dependent additions was this loop's time */
                double m[4] = {0.0, 0.0, 0.0, 0.0}, mean;
                for (j = 0; j + 4 <= k; j += 4) {
                    m[0] += z[i + j];
                    m[1] += z[i + j + 1];
                    m[2] += z[i + j + 2];
                    m[3] += z[i + j + 3];
                }
                for (; j < k; j++)
                    m[j & 3] += z[i + j];
                mean = ((m[0] + m[1]) + (m[2] + m[3])) / (double)k;
                for (j = 0; j < k; j++)
                    z[i + j] -= mean;
            }
        }
        /* piece is a multiple of 8: the lanes take i = j (mod 8) throughout */
        for (i = i0; i + SKX_CD_LANES <= i1; i += SKX_CD_LANES)
            for (j = 0; j < SKX_CD_LANES; j++)
                s[j] += r[i + j] * z[i + j];
        for (j = 0; i + j < i1; j++)
            s[j] += r[i + j] * z[i + j];
    }
    return SKX_CD_TREE(s);
}

/* d = z + beta d */
SKX_CD_CLONES SKX_CD_EXACT static void skx_cg_direction(double beta, const double *__restrict z,
                                                        double *__restrict d, ptrdiff_t n)
{
    ptrdiff_t i;
    for (i = 0; i < n; i++)
        d[i] = z[i] + beta * d[i];
}

#endif /* SKXENT_CD_LOOPS_H */
