/*
 * The one loop of skxent that must vectorise: p[j] = exp(z[j] - m).
 *
 * gcc turns a loop over exp() into calls of glibc's vector exp (libmvec,
 * _ZGVbN2v_exp / _ZGVbN4v_expf: two doubles or four floats per call on baseline
 * SSE2) when exp is declared with the `simd` attribute.  glibc's <math.h> only
 * declares it under __FAST_MATH__, and -ffast-math is exactly what we must not
 * use: linked into a shared object it adds crtfastmath.o, which turns on
 * flush-to-zero for the whole process at import, and it lets the compiler drop
 * the isnan/isinf checks the validation relies on.  So we declare the vector
 * variants ourselves, for this loop only.  libmvec's exp is accurate to within
 * 4 ulp (glibc manual, "Known Maximum Errors in Math Functions"); everything
 * else in skxent uses the scalar libm functions.
 *
 * Other compilers and platforms get the plain loop, which is correct, only
 * slower.
 */
#ifndef SKXENT_SIMD_H
#define SKXENT_SIMD_H

#include <math.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) \
    && defined(__linux__) && defined(__GLIBC__)
__attribute__((__simd__("notinbranch"))) extern double exp(double);
__attribute__((__simd__("notinbranch"))) extern float expf(float);
__attribute__((__simd__("notinbranch"))) extern double log(double);
#define SKX_VECTOR_EXP 1
/* One build runs everywhere: the loader picks the widest clone the CPU has
   (glibc ifunc), and each clone calls libmvec's exp of its width. */
#define SKX_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SKX_CLONES
#define SKX_VECTOR_EXP 0
#endif

#if defined(_OPENMP)
#define SKX_OPENMP 1
#else
#define SKX_OPENMP 0
#endif

/* Fixed-width chunks (8 doubles, 16 floats: one AVX-512 register) so that the
   loop has no scalar epilogue: the tail goes through the vector exp too, padded
   with zeros, instead of one scalar exp() call per leftover element. */
SKX_CLONES static void skx_exp_shift_d(const double *restrict z, double m,
                                       double *restrict p, int k)
{
    const int whole = k - k % 8;
    int j;
#pragma omp simd
    for (j = 0; j < whole; j++) {
        p[j] = exp(z[j] - m);
    }
    j = whole;
    if (j < k) {
        double buf[8];
        for (int i = 0; i < 8; i++) {
            buf[i] = (j + i < k) ? z[j + i] - m : 0.0;
        }
#pragma omp simd
        for (int i = 0; i < 8; i++) {
            buf[i] = exp(buf[i]);
        }
        for (int i = 0; j + i < k; i++) {
            p[j + i] = buf[i];
        }
    }
}

SKX_CLONES static void skx_exp_shift_f(const float *restrict z, float m,
                                       float *restrict p, int k)
{
    const int whole = k - k % 16;
    int j;
#pragma omp simd
    for (j = 0; j < whole; j++) {
        p[j] = expf(z[j] - m);
    }
    j = whole;
    if (j < k) {
        float buf[16];
        for (int i = 0; i < 16; i++) {
            buf[i] = (j + i < k) ? z[j + i] - m : 0.0f;
        }
#pragma omp simd
        for (int i = 0; i < 16; i++) {
            buf[i] = expf(buf[i]);
        }
        for (int i = 0; j + i < k; i++) {
            p[j + i] = buf[i];
        }
    }
}

/* In place: x[j] = exp(x[j]) over a whole chunk of rows, so the vector calls
   run full and only the last few elements go through the scalar epilogue. */
SKX_CLONES static void skx_exp_inplace_d(double *restrict x, int n)
{
#pragma omp simd
    for (int j = 0; j < n; j++) {
        x[j] = exp(x[j]);
    }
}

SKX_CLONES static void skx_exp_inplace_f(float *restrict x, int n)
{
#pragma omp simd
    for (int j = 0; j < n; j++) {
        x[j] = expf(x[j]);
    }
}

/* out[j] = log(x[j]); libmvec's log is accurate to a few ulp. */
SKX_CLONES static void skx_log_vec(const double *restrict x, double *restrict out,
                                   int n)
{
#pragma omp simd
    for (int j = 0; j < n; j++) {
        out[j] = log(x[j]);
    }
}

/* log1p(x) for x >= 0 from one log() and one division (Goldberg, "What every
   computer scientist should know about floating-point arithmetic", 1991,
   Theorem 4): with u = 1 + x rounded, log(u) * x / (u - 1) is accurate to a few
   ulp, and glibc's log is several times faster than its log1p. */
static inline double skx_log1p(double x)
{
    double u = 1.0 + x;
    if (u == 1.0) {
        return x;
    }
    return log(u) * x / (u - 1.0);
}

#endif /* SKXENT_SIMD_H */
