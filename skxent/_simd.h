/*
 * The loops of skxent that must vectorise: exp and log over a chunk of entries
 * (the softmax rows and their sums, the sigmoid scores), and the element-wise
 * part of the sigmoid loss.
 *
 * gcc turns a loop over exp() into calls of glibc's vector exp (libmvec,
 * _ZGVbN2v_exp / _ZGVbN4v_expf: two doubles or four floats per call on baseline
 * SSE2) when exp is declared with the `simd` attribute.  glibc's <math.h> only
 * declares it under __FAST_MATH__, and -ffast-math is exactly what we must not
 * use: linked into a shared object it adds crtfastmath.o, which turns on
 * flush-to-zero for the whole process at import, and it lets the compiler drop
 * the isnan/isinf checks the validation relies on.  So we declare the vector
 * variants ourselves.  libmvec's exp and log are accurate to within 4 ulp (glibc
 * manual, "Known Maximum Errors in Math Functions").  The declarations apply to
 * this translation unit; gcc uses the vector variants only in loops it
 * vectorises, which the kernels keep to the ones below.
 *
 * Other compilers and platforms get the plain loop, which is correct, only
 * slower.
 */
#ifndef SKXENT_SIMD_H
#define SKXENT_SIMD_H

#include <math.h>
#include <stddef.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) \
    && defined(__linux__) && defined(__GLIBC__)
__attribute__((__simd__("notinbranch"))) extern double exp(double);
__attribute__((__simd__("notinbranch"))) extern float expf(float);
__attribute__((__simd__("notinbranch"))) extern double log(double);
#define SKX_VECTOR_EXP 1
/* One build runs everywhere: the loader picks the widest clone the CPU has
   (glibc ifunc), and each clone calls libmvec's exp of its width. */
#define SKX_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define SKX_SIMD _Pragma("omp simd")
/* For the element-wise loops: no-trapping-math lets gcc evaluate both sides
   of a select and blend them, which changes no result, only whether an
   operation whose value is discarded may raise a floating-point flag (nothing
   reads those flags); fp-contract=off keeps a * b + c two roundings, not one
   fused multiply-add in the vector body and two in the scalar remainder. */
#define SKX_SELECTS __attribute__((optimize("no-trapping-math", "fp-contract=off")))
#else
#define SKX_SIMD
#define SKX_CLONES
#define SKX_SELECTS
#define SKX_VECTOR_EXP 0
#endif

/* C99's restrict, under the spelling MSVC also knows. */
#define SKX_RESTRICT __restrict

#if defined(_OPENMP)
#define SKX_OPENMP 1
#else
#define SKX_OPENMP 0
#endif

/* x[j] = exp(x[j]) in place.  The bulk runs in whole vectors of 8 doubles (16
   floats), a multiple of every clone's width, and the tail goes through the
   same vector exp, padded, in a small buffer: every element gets the same
   function whatever its position, so a row's result does not depend on the
   rows around it or on n. */
#define SKX_MAP(NAME, T, W, F)                                                \
SKX_CLONES static void NAME(const T *x, T *out, ptrdiff_t n)                 \
{                                                                             \
    const ptrdiff_t whole = n - n % (W);                                      \
    ptrdiff_t j;                                                              \
    SKX_SIMD                                                                  \
    for (j = 0; j < whole; j++) {                                             \
        out[j] = F(x[j]);                                                     \
    }                                                                         \
    if (whole < n) {                                                          \
        T buf[W];                                                             \
        for (int i = 0; i < (W); i++) {                                       \
            buf[i] = (whole + i < n) ? x[whole + i] : (T)1;                   \
        }                                                                     \
        SKX_SIMD                                                              \
        for (int i = 0; i < (W); i++) {                                       \
            buf[i] = F(buf[i]);                                               \
        }                                                                     \
        for (j = whole; j < n; j++) {                                         \
            out[j] = buf[j - whole];                                          \
        }                                                                     \
    }                                                                         \
}

SKX_MAP(skx_exp_d, double, 8, exp)
SKX_MAP(skx_exp_f, float, 16, expf)
SKX_MAP(skx_log_d, double, 8, log)

/* The element-wise part of binary cross entropy, after the vector exp and log:
   with e = exp(-|z|), u = 1 + e rounded and logu = log(u),
     log1p(e) = logu e / (u - 1), or e when u == 1 (Goldberg 1991, Thm 4),
     sigmoid(|z|) = 1 / u, sigmoid(-|z|) = e / u,
     softplus(+-z) = max(+-z, 0) + log1p(e),
   and with a = wp t, b = wn (1 - t) for the target t:
     loss = a softplus(-z) + b softplus(z) (a term of weight 0 is 0, even where
     its softplus is inf: a -inf score where the target is 0),
     gradient = b sigmoid(z) - a sigmoid(-z),
     hessian = (a + b) sigmoid(z) sigmoid(-z).
   The sign of z is random on real data: as branches, these selects would be
   mispredicted half the time; the avx2 and avx512f clones make them blends
   (the default clone keeps branches: slower, the same results).  Only +, -, *, /
   (exactly rounded, scalar or vector alike), so an entry's bits do not depend
   on where it falls in a vector.  On return wp holds the gradient and wn the
   Hessian. */
SKX_CLONES SKX_SELECTS static void skx_sigmoid_terms(
    ptrdiff_t m, const double *SKX_RESTRICT z, const double *SKX_RESTRICT e,
    const double *SKX_RESTRICT u, const double *SKX_RESTRICT logu,
    const double *SKX_RESTRICT t, double *SKX_RESTRICT wp, double *SKX_RESTRICT wn,
    double *SKX_RESTRICT loss)
{
    ptrdiff_t q;
    SKX_SIMD
    for (q = 0; q < m; q++) {
        double zq = z[q], eq = e[q];
        double l1p = u[q] == 1.0 ? eq : logu[q] * eq / (u[q] - 1.0);
        double inv = 1.0 / u[q], small = eq * inv;
        double s_pos = zq >= 0 ? inv : small, s_neg = zq >= 0 ? small : inv;
        double a = wp[q] * t[q], b = wn[q] * (1.0 - t[q]);
        double sp_neg = (-zq > 0 ? -zq : 0.0) + l1p, sp_pos = (zq > 0 ? zq : 0.0) + l1p;
        loss[q] = (a != 0.0 ? a * sp_neg : 0.0) + (b != 0.0 ? b * sp_pos : 0.0);
        wp[q] = b * s_pos - a * s_neg;
        wn[q] = (a + b) * s_pos * s_neg;
    }
}

#endif /* SKXENT_SIMD_H */
