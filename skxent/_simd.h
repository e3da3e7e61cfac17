/*
 * skxent's vector kernels: the softmax and sigmoid cross entropy over chunks
 * of rows, with their own vector exp and log, compiled for each x86-64
 * instruction set and picked at import by what the CPU has.
 *
 * One build runs everywhere: skxent/_simd_body.h is compiled four times, for
 * AVX-512 (F, DQ, VL, BW), AVX2 with FMA, SSE2 (every x86-64) and plain C (any
 * other platform or compiler), each time with the primitives of
 * skxent/_simd_isa.h.  skx_simd_select() fills a table of function pointers
 * with the widest set the CPU supports (gcc's and clang's
 * __builtin_cpu_supports, which also check that the OS saves the registers);
 * the tests force each set in turn.  Nothing is compiled with -march=native
 * and nothing with -ffast-math: linked into a shared object, -ffast-math adds
 * crtfastmath.o, which turns on flush-to-zero for the whole process at import,
 * and it would let the compiler drop the NaN checks the validation relies on.
 * The build has -ffp-contract=off: the only fused multiply-adds are the
 * explicit ones of the AVX2 and AVX-512 sets (every entry takes the same
 * path, see _simd_body.h), so results are bitwise the same for any number of
 * threads and any position of a row; they differ between instruction sets by
 * an ulp here and there.
 *
 * The exp and log are skxent's own (minimax polynomials, about 1 ulp; the
 * tests compare every set with mpmath): glibc's vector functions (libmvec)
 * exist only on glibc, work one call per vector, and their special-case
 * handling goes scalar.
 */
#ifndef SKXENT_SIMD_H
#define SKXENT_SIMD_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "_cpu.h"

/* Rows of the softmax kernels' chunks: at most this many, of about
   SKX_CHUNK_SCORES scores.  (2048 scores and 256 rows made k = 100 5-12 %
   faster, but log_loss's gathers, which use neither, 40 % slower in the same
   process: measured, and left at 1024.) */
#define SKX_MAX_ROWS 128
#define SKX_CHUNK_SCORES 1024
/* Up to this many classes (and not a multiple of the vector width), the
   softmax kernels take a chunk's scores less their rows' maxima as one run of
   whole vectors (SKX_ISA_AVX512; measured at 10^6 x 10, float64: 20.0 ms
   before, 18.9 ms; 3 classes 10 % faster, 17 to 32 no faster). */
#define SKX_GROUP_K 16

/* Prefetches into the outer caches (prefetcht2): measured on an AMD EPYC
   (Zen 4) with huge pages, they hide more of the memory than prefetches into
   L1, whose few miss buffers they would fill. */
#if defined(__GNUC__) || defined(__clang__)
#define skx_prefetch(p) __builtin_prefetch((p), 0, 1)
#define skx_prefetchw(p) __builtin_prefetch((p), 1, 1)
#else
#define skx_prefetch(p) ((void)0)
#define skx_prefetchw(p) ((void)0)
#endif

/* One cache line of each stream ahead (either may be NULL: not this
   caller's memory), `offset` bytes into it. */
static inline void skx_prefetch_ahead(const char *read, char *write, size_t offset)
{
    if (read != NULL) {
        skx_prefetch(read + offset);
    }
    if (write != NULL) {
        skx_prefetchw(write + offset);
    }
}

#define SKX_CAT_(a, b) a##_##b
#define SKX_CAT(a, b) SKX_CAT_(a, b)
#define SKX_FN(name) SKX_CAT(name, SKX_SFX)

#define SKX_ISA_SCALAR 0
#define SKX_ISA_SSE2 1
#define SKX_ISA_AVX2 2
#define SKX_ISA_AVX512 3

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define SKX_X86 1
#include <immintrin.h>
#else
#define SKX_X86 0
#endif

#if defined(_OPENMP)
#define SKX_OPENMP 1
#else
#define SKX_OPENMP 0
#endif

/* Plain C: the fallback of other platforms (and the reference of the tests). */
#define SKX_ISA SKX_ISA_SCALAR
#define SKX_SFX scalar
#include "_simd_isa.h"
#include "_simd_body.h"
#define SKX_ISA_UNDEF
#include "_simd_isa.h"
#undef SKX_ISA_UNDEF
#undef SKX_ISA
#undef SKX_SFX

#if SKX_X86

/* SSE2: every x86-64 CPU, no target needed. */
#define SKX_ISA SKX_ISA_SSE2
#define SKX_SFX sse2
#include "_simd_isa.h"
#include "_simd_body.h"
#define SKX_ISA_UNDEF
#include "_simd_isa.h"
#undef SKX_ISA_UNDEF
#undef SKX_ISA
#undef SKX_SFX

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#define SKX_ISA SKX_ISA_AVX2
#define SKX_SFX avx2
#include "_simd_isa.h"
#include "_simd_body.h"
#define SKX_ISA_UNDEF
#include "_simd_isa.h"
#undef SKX_ISA_UNDEF
#undef SKX_ISA
#undef SKX_SFX
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")
#endif
#define SKX_ISA SKX_ISA_AVX512
#define SKX_SFX avx512
#include "_simd_isa.h"
#include "_simd_body.h"
#define SKX_ISA_UNDEF
#include "_simd_isa.h"
#undef SKX_ISA_UNDEF
#undef SKX_ISA
#undef SKX_SFX
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif /* SKX_X86 */

/* ------------------------------------------------------------------------- */
/* Dispatch */

typedef struct {
    void (*softmax_prep_d)(const double *, ptrdiff_t, ptrdiff_t, double *, double *, double *,
                           const char *, char *);
    void (*softmax_prep_f)(const float *, ptrdiff_t, ptrdiff_t, float *, double *, double *,
                           const char *, char *);
    void (*softmax_rows)(const double *, ptrdiff_t, double *, double *);
    void (*softmax_hard_d)(const double *, const ptrdiff_t *, ptrdiff_t, ptrdiff_t,
                           const double *, const double *, double *, double *, double *, int);
    void (*softmax_hard_f)(const float *, const ptrdiff_t *, ptrdiff_t, ptrdiff_t,
                           const double *, const double *, float *, float *, float *, int);
    int (*sigmoid_d)(const double *, const double *, ptrdiff_t, const double *,
                      const double *, double, double, double *, double *, double *);
    int (*sigmoid_f)(const float *, const float *, ptrdiff_t, const double *,
                      const double *, double, double, float *, float *, float *);
    void (*map_exp_d)(const double *, double *, ptrdiff_t);
    void (*map_exp_f)(const float *, float *, ptrdiff_t);
    void (*map_log_d)(const double *, double *, ptrdiff_t);
    void (*map_log1p_d)(const double *, double *, ptrdiff_t);
    void (*map_log1p_f)(const float *, float *, ptrdiff_t);
    ptrdiff_t (*gather_rows_d)(const double *, const int64_t *, ptrdiff_t, ptrdiff_t, double,
                               double, double, double *, unsigned char *);
    ptrdiff_t (*gather_rows_f)(const float *, const int64_t *, ptrdiff_t, ptrdiff_t, double,
                               double, double, float *, unsigned char *);
} skx_kernels;

#define SKX_TABLE(SFX) {                                                       \
    SKX_CAT(softmax_prep_d, SFX), SKX_CAT(softmax_prep_f, SFX),                \
    SKX_CAT(softmax_rows, SFX), SKX_CAT(softmax_hard_d, SFX),                  \
    SKX_CAT(softmax_hard_f, SFX), SKX_CAT(sigmoid_d, SFX),                     \
    SKX_CAT(sigmoid_f, SFX), SKX_CAT(map_exp_d, SFX), SKX_CAT(map_exp_f, SFX), \
    SKX_CAT(map_log_d, SFX), SKX_CAT(map_log1p_d, SFX),                        \
    SKX_CAT(map_log1p_f, SFX), SKX_CAT(gather_rows_d, SFX),                    \
    SKX_CAT(gather_rows_f, SFX)}

static const skx_kernels skx_table_scalar = SKX_TABLE(scalar);
#if SKX_X86
static const skx_kernels skx_table_sse2 = SKX_TABLE(sse2);
static const skx_kernels skx_table_avx2 = SKX_TABLE(avx2);
static const skx_kernels skx_table_avx512 = SKX_TABLE(avx512);
#endif

static skx_kernels skx_k = SKX_TABLE(scalar);
static int skx_isa = SKX_ISA_SCALAR;

/* The widest instruction set this CPU (and OS) supports (skxent/_cpu.h's
   codes are SKX_ISA_*'s). */
static int skx_simd_best(void) { return skx_cpu_best(); }

/* Use instruction set `isa` (-1: the widest available); returns the set in
   use, or -1 (and changes nothing) when the CPU does not have it.  Not
   thread-safe: called at import, and by the tests. */
static int skx_simd_select(int isa)
{
    int best = skx_simd_best();
    if (isa < 0) {
        isa = best;
    }
    if (isa > best) {
        return -1;
    }
    switch (isa) {
#if SKX_X86
    case SKX_ISA_AVX512: skx_k = skx_table_avx512; break;
    case SKX_ISA_AVX2: skx_k = skx_table_avx2; break;
    case SKX_ISA_SSE2: skx_k = skx_table_sse2; break;
#endif
    default: skx_k = skx_table_scalar; isa = SKX_ISA_SCALAR; break;
    }
    skx_isa = isa;
    return isa;
}

static int skx_simd_current(void) { return skx_isa; }
static int skx_simd_available(void) { return skx_simd_best(); }

/* The calls, through the table. */
/* pf: the chunk after next (r rows of k) is the caller's to fetch ahead. */
static inline void skx_softmax_prep_d(const double *z, ptrdiff_t r, ptrdiff_t k, double *e,
                                      double *m, double *rest, int pf)
{ skx_k.softmax_prep_d(z, r, k, e, m, rest, pf ? (const char *)(z + 2 * r * k) : NULL, NULL); }
static inline void skx_softmax_prep_f(const float *z, ptrdiff_t r, ptrdiff_t k, float *e,
                                      double *m, double *rest, int pf)
{ skx_k.softmax_prep_f(z, r, k, e, m, rest, pf ? (const char *)(z + 2 * r * k) : NULL, NULL); }
static inline void skx_softmax_rows(const double *rest, ptrdiff_t r, double *inv, double *lse1)
{ skx_k.softmax_rows(rest, r, inv, lse1); }
static inline void skx_softmax_hard_d(const double *z, const ptrdiff_t *y, ptrdiff_t r,
                                      ptrdiff_t k, const double *sw, const double *cw,
                                      double *e, double *g, double *loss, int pf)
{ skx_k.softmax_hard_d(z, y, r, k, sw, cw, e, g, loss, pf); }
static inline void skx_softmax_hard_f(const float *z, const ptrdiff_t *y, ptrdiff_t r,
                                      ptrdiff_t k, const double *sw, const double *cw,
                                      float *e, float *g, float *loss, int pf)
{ skx_k.softmax_hard_f(z, y, r, k, sw, cw, e, g, loss, pf); }
static inline int skx_sigmoid_d(const double *z, const double *t, ptrdiff_t m,
                                 const double *wp, const double *wn, double ta, double tb,
                                 double *loss, double *grad, double *hess)
{ return skx_k.sigmoid_d(z, t, m, wp, wn, ta, tb, loss, grad, hess); }
static inline int skx_sigmoid_f(const float *z, const float *t, ptrdiff_t m,
                                 const double *wp, const double *wn, double ta, double tb,
                                 float *loss, float *grad, float *hess)
{ return skx_k.sigmoid_f(z, t, m, wp, wn, ta, tb, loss, grad, hess); }
static inline void skx_map_exp_d(const double *x, double *out, ptrdiff_t n)
{ skx_k.map_exp_d(x, out, n); }
static inline void skx_map_exp_f(const float *x, float *out, ptrdiff_t n)
{ skx_k.map_exp_f(x, out, n); }
static inline void skx_map_log_d(const double *x, double *out, ptrdiff_t n)
{ skx_k.map_log_d(x, out, n); }
static inline void skx_map_log1p_d(const double *x, double *out, ptrdiff_t n)
{ skx_k.map_log1p_d(x, out, n); }
static inline void skx_map_log1p_f(const float *x, float *out, ptrdiff_t n)
{ skx_k.map_log1p_f(x, out, n); }

static inline ptrdiff_t skx_gather_rows_d(const double *p, const int64_t *y, ptrdiff_t n,
                                          ptrdiff_t k, double lo, double hi, double tol,
                                          double *out, unsigned char *seen)
{ return skx_k.gather_rows_d(p, y, n, k, lo, hi, tol, out, seen); }
static inline ptrdiff_t skx_gather_rows_f(const float *p, const int64_t *y, ptrdiff_t n,
                                          ptrdiff_t k, double lo, double hi, double tol,
                                          float *out, unsigned char *seen)
{ return skx_k.gather_rows_f(p, y, n, k, lo, hi, tol, out, seen); }

/* Rows per chunk of the softmax kernels: about 1024 scores (8 KB of doubles,
   so that a chunk's scores and exponentials stay in L1), at most
   SKX_MAX_ROWS, at least 1; with k <= 16, a multiple of 16, the rows that
   softmax_hard_few_f takes at a time (96 rather than 102 at k = 10: about 10 %
   faster there, no partial group in each chunk). */
static inline ptrdiff_t skx_chunk_rows(ptrdiff_t k)
{
    ptrdiff_t r = SKX_CHUNK_SCORES / (k > 0 ? k : 1);
    if (k <= 16) {
        r -= r % 16;
    }
    return r < 1 ? 1 : r > SKX_MAX_ROWS ? SKX_MAX_ROWS : r;
}

/* Entries of the scratch of a softmax chunk. */
static inline ptrdiff_t skx_scratch_size(ptrdiff_t k)
{
    return skx_chunk_rows(k) * k + 64;
}

#endif /* SKXENT_SIMD_H */
