/*
 * Vector kernels of skxent's CSR products (skxent/_sparse.pyx): the rows of
 * X W and X^T G with their sums across the K columns held in registers.
 *
 * skxent/_sparse_body.h is compiled (skxent/_sparse_set.h) for AVX-512 (F, DQ, VL, BW) and AVX2 with
 * FMA, each for 32- and 64-bit indices; skx_sp_select() picks the widest the
 * CPU supports at import (the tests force each in turn).  Without either,
 * the skx_sp_rows_* calls return 0 and _sparse.pyx runs its own loops, which
 * compute the same bits (see _sparse_body.h; NaN payloads aside): the
 * products' results do not depend on the instruction set, or on the number
 * of threads.
 */
#ifndef SKXENT_SPARSE_SIMD_H
#define SKXENT_SPARSE_SIMD_H

#include <stddef.h>

#include "_cpu.h"

#define SKX_SP_NONE 0
#define SKX_SP_AVX2 2
#define SKX_SP_AVX512 3

/* Entries ahead whose row of the dense matrix is prefetched: the rows are
   read in the order of X's column indices, which no hardware prefetcher
   follows.  On the text-like benchmark problem (10**5 x 2**17, K = 20) 24
   made both products 2x faster than without; 6 and 48 helped less. */
#define SKX_SP_PF 24

#define SKX_SP_CAT_(a, b) a##_##b
#define SKX_SP_CAT(a, b) SKX_SP_CAT_(a, b)
#define SKX_SP_FN(name) SKX_SP_CAT(name, SKX_SP_SFX)

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define SKX_SP_X86 1
#include <immintrin.h>
#else
#define SKX_SP_X86 0
#endif

#if SKX_SP_X86

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#define SKX_SP_ISA SKX_SP_AVX2
#define SKX_SP_SET avx2
#include "_sparse_set.h"
#undef SKX_SP_SET
#undef SKX_SP_ISA
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
#define SKX_SP_ISA SKX_SP_AVX512
#define SKX_SP_SET avx512
#include "_sparse_set.h"
#undef SKX_SP_SET
#undef SKX_SP_ISA
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif /* SKX_SP_X86 */

static int skx_sp_isa = SKX_SP_NONE;

/* The widest set this CPU (and OS) supports of the two (skxent/_cpu.h). */
static int skx_sp_best(void)
{
    int best = skx_cpu_best();
    return best >= SKX_SP_AVX2 ? best : SKX_SP_NONE;
}

/* Use set `isa` (SKX_SP_NONE: _sparse.pyx's loops; -1: the widest); returns
   it, or -1 (changing nothing) when the CPU lacks it.  Not thread-safe:
   called at import, and by the tests. */
static int skx_sp_select(int isa)
{
    int best = skx_sp_best();
    if (isa < 0) {
        isa = best;
    }
    if (isa > best || (isa != SKX_SP_NONE && isa != SKX_SP_AVX2 && isa != SKX_SP_AVX512)) {
        return -1;
    }
    skx_sp_isa = isa;
    return isa;
}

static int skx_sp_current(void) { return skx_sp_isa; }

/* Output rows r0 .. r1-1 of a product (see _sparse_body.h) on the selected
   set: 1, or 0 (nothing done) when none is. */
#if SKX_SP_X86
#define SKX_SP_CALL(NAME, TD, TA, IDX, SFX)                                                \
    static inline int SKX_SP_CAT(NAME, SFX)(const TD *data, const IDX *indices,             \
                                            const IDX *indptr, ptrdiff_t r0, ptrdiff_t r1,  \
                                            const TD *D, ptrdiff_t K, const TD *b, TA *out, \
                                            int squared, ptrdiff_t nnz)                     \
    {                                                                                       \
        switch (skx_sp_isa) {                                                               \
        case SKX_SP_AVX512:                                                                 \
            SKX_SP_CAT(NAME, SKX_SP_CAT(avx512, SFX))(data, indices, indptr, r0, r1, D, K,  \
                                                      b, out, squared, nnz);                \
            return 1;                                                                       \
        case SKX_SP_AVX2:                                                                   \
            SKX_SP_CAT(NAME, SKX_SP_CAT(avx2, SFX))(data, indices, indptr, r0, r1, D, K, b, \
                                                    out, squared, nnz);                     \
            return 1;                                                                       \
        default:                                                                            \
            return 0;                                                                       \
        }                                                                                   \
    }
#else
#define SKX_SP_CALL(NAME, TD, TA, IDX, SFX)                                                \
    static inline int SKX_SP_CAT(NAME, SFX)(const TD *data, const IDX *indices,             \
                                            const IDX *indptr, ptrdiff_t r0, ptrdiff_t r1,  \
                                            const TD *D, ptrdiff_t K, const TD *b, TA *out, \
                                            int squared, ptrdiff_t nnz)                     \
    { return 0; }
#endif

SKX_SP_CALL(sp_rows_dd, double, double, int, i32)
SKX_SP_CALL(sp_rows_dd, double, double, long long, i64)
SKX_SP_CALL(sp_rows_ff, float, float, int, i32)
SKX_SP_CALL(sp_rows_ff, float, float, long long, i64)
SKX_SP_CALL(sp_rows_fd, float, double, int, i32)
SKX_SP_CALL(sp_rows_fd, float, double, long long, i64)

#undef SKX_SP_CALL

#endif /* SKXENT_SPARSE_SIMD_H */
