/*
 * The rows of skxent's CSR products, vectorised across the K columns of the
 * dense matrix; included by skxent/_sparse_simd.h once per instruction set
 * (SKX_SP_ISA) and index type (SKX_SP_IDX, suffix SKX_SP_SFX).
 *
 * Output row r is  init + sum_k v_k D[indices[k]]  over the entries k of CSR
 * row r, in their order, init being b (or 0).  Each output column is the
 * plain loop's sum, with the same roundings: the sums stay in registers
 * (SKX_SP_ACC vectors at a time; wider K goes in blocks of columns, each a
 * pass over the row's entries), and a product is rounded before it is added,
 * except where it is exact: a float32 entry times a float32 entry, summed in
 * float64, whose product needs 48 of float64's 53 bits, takes a fused
 * multiply-add (the same bits, one instruction fewer).  The results are
 * bitwise those of skxent/_sparse.pyx's loops, on every instruction set,
 * NaN payloads aside (which of two NaNs an operation passes on depends on
 * its operands' order, which the compilers choose; fits reject NaN in X).
 */

/* Sums held in registers: 4 vectors (32 doubles or 64 floats with AVX-512,
   16 or 32 with AVX2); more columns go in blocks. */
#define SKX_SP_ACC 4

/* The rows r0..r1-1 of the output, for one block of at most SKX_SP_ACC
   vectors (NV of them, a constant after inlining) of the columns c0..c0+w-1.
   TD: the dense matrix's type, TA: the sums'; LOAD turns NV lanes of a dense
   row into sums' vectors; STEP(acc, v, g) adds v g to acc. */
#define SKX_SP_BLOCK(NAME, TD, TA, VA, N, LOAD, STORE, ZERO, SET1, STEP)                  \
    static inline __attribute__((always_inline)) void NAME(                                \
        const TD *data, const SKX_SP_IDX *indices, const SKX_SP_IDX *indptr, ptrdiff_t r0,  \
        ptrdiff_t r1, const TD *D, ptrdiff_t K, const TD *b, TA *out, int squared,          \
        ptrdiff_t nnz, ptrdiff_t c0, ptrdiff_t w, const int NV)                             \
    {                                                                                       \
        ptrdiff_t n0 = w < N ? w : N, n1 = w - N < N ? w - N : N;                           \
        ptrdiff_t n2 = w - 2 * N < N ? w - 2 * N : N, n3 = w - 3 * N;                       \
        for (ptrdiff_t r = r0; r < r1; r++) {                                               \
            VA a0, a1 = ZERO(), a2 = ZERO(), a3 = ZERO();                                   \
            if (b != NULL) {                                                                \
                a0 = LOAD(b + c0, n0);                                                      \
                if (NV > 1) a1 = LOAD(b + c0 + N, n1);                                      \
                if (NV > 2) a2 = LOAD(b + c0 + 2 * N, n2);                                  \
                if (NV > 3) a3 = LOAD(b + c0 + 3 * N, n3);                                  \
            } else {                                                                        \
                a0 = ZERO();                                                                \
            }                                                                               \
            ptrdiff_t end = (ptrdiff_t)indptr[r + 1];                                       \
            for (ptrdiff_t k = (ptrdiff_t)indptr[r]; k < end; k++) {                        \
                if (k + SKX_SP_PF < nnz) {                                                  \
                    const TD *pf = D + (ptrdiff_t)indices[k + SKX_SP_PF] * K + c0;          \
                    __builtin_prefetch(pf);                                                 \
                    __builtin_prefetch(pf + w - 1);                                         \
                }                                                                           \
                const TD *g = D + (ptrdiff_t)indices[k] * K + c0;                           \
                TA x = (TA)data[k];                                                         \
                if (squared) x = x * x;                                                     \
                VA v = SET1(x);                                                             \
                a0 = STEP(a0, v, LOAD(g, n0));                                              \
                if (NV > 1) a1 = STEP(a1, v, LOAD(g + N, n1));                              \
                if (NV > 2) a2 = STEP(a2, v, LOAD(g + 2 * N, n2));                          \
                if (NV > 3) a3 = STEP(a3, v, LOAD(g + 3 * N, n3));                          \
            }                                                                               \
            TA *o = out + r * K + c0;                                                       \
            STORE(o, a0, n0);                                                               \
            if (NV > 1) STORE(o + N, a1, n1);                                               \
            if (NV > 2) STORE(o + 2 * N, a2, n2);                                           \
            if (NV > 3) STORE(o + 3 * N, a3, n3);                                           \
        }                                                                                   \
    }

#define SKX_SP_ROUNDED_D(acc, v, g) skx_sp_add_d((acc), skx_sp_mul_d((v), (g)))
#define SKX_SP_FUSED_D(acc, v, g) skx_sp_fma_d((v), (g), (acc))
#define SKX_SP_ROUNDED_F(acc, v, g) skx_sp_add_f((acc), skx_sp_mul_f((v), (g)))

SKX_SP_BLOCK(SKX_SP_FN(sp_block_dd), double, double, skx_sp_vd, SKX_SP_ND, skx_sp_load_d,
             skx_sp_store_d, skx_sp_zero_d, skx_sp_set1_d, SKX_SP_ROUNDED_D)
SKX_SP_BLOCK(SKX_SP_FN(sp_block_ff), float, float, skx_sp_vf, SKX_SP_NF, skx_sp_load_f,
             skx_sp_store_f, skx_sp_zero_f, skx_sp_set1_f, SKX_SP_ROUNDED_F)
/* float32 data and dense matrix, float64 sums: the exact product fused, or
   (squared entries, whose squares have up to 48 bits) rounded. */
SKX_SP_BLOCK(SKX_SP_FN(sp_block_fd_exact), float, double, skx_sp_vd, SKX_SP_ND, skx_sp_load_f2d,
             skx_sp_store_d, skx_sp_zero_d, skx_sp_set1_d, SKX_SP_FUSED_D)
SKX_SP_BLOCK(SKX_SP_FN(sp_block_fd_rounded), float, double, skx_sp_vd, SKX_SP_ND, skx_sp_load_f2d,
             skx_sp_store_d, skx_sp_zero_d, skx_sp_set1_d, SKX_SP_ROUNDED_D)

/* The whole rows r0..r1-1: the column blocks, each with its number of
   vectors as a constant. */
#define SKX_SP_ROWS(NAME, BLOCK, TD, TA, N)                                                 \
    static void NAME(const TD *data, const SKX_SP_IDX *indices, const SKX_SP_IDX *indptr,  \
                     ptrdiff_t r0, ptrdiff_t r1, const TD *D, ptrdiff_t K, const TD *b,     \
                     TA *out, int squared, ptrdiff_t nnz)                                   \
    {                                                                                       \
        for (ptrdiff_t c0 = 0; c0 < K; c0 += SKX_SP_ACC * N) {                              \
            ptrdiff_t w = K - c0 < SKX_SP_ACC * N ? K - c0 : SKX_SP_ACC * N;               \
            switch ((w + N - 1) / N) {                                                      \
            case 1: BLOCK(data, indices, indptr, r0, r1, D, K, b, out, squared, nnz, c0, w, 1); break; \
            case 2: BLOCK(data, indices, indptr, r0, r1, D, K, b, out, squared, nnz, c0, w, 2); break; \
            case 3: BLOCK(data, indices, indptr, r0, r1, D, K, b, out, squared, nnz, c0, w, 3); break; \
            default: BLOCK(data, indices, indptr, r0, r1, D, K, b, out, squared, nnz, c0, w, 4); break; \
            }                                                                               \
        }                                                                                   \
    }

SKX_SP_ROWS(SKX_SP_FN(sp_rows_dd), SKX_SP_FN(sp_block_dd), double, double, SKX_SP_ND)
SKX_SP_ROWS(SKX_SP_FN(sp_rows_ff), SKX_SP_FN(sp_block_ff), float, float, SKX_SP_NF)
SKX_SP_ROWS(SKX_SP_FN(sp_rows_fd_exact), SKX_SP_FN(sp_block_fd_exact), float, double, SKX_SP_ND)
SKX_SP_ROWS(SKX_SP_FN(sp_rows_fd_rounded), SKX_SP_FN(sp_block_fd_rounded), float, double, SKX_SP_ND)

static void SKX_SP_FN(sp_rows_fd)(const float *data, const SKX_SP_IDX *indices,
                               const SKX_SP_IDX *indptr, ptrdiff_t r0, ptrdiff_t r1,
                               const float *D, ptrdiff_t K, const float *b, double *out,
                               int squared, ptrdiff_t nnz)
{
    if (squared) {
        SKX_SP_FN(sp_rows_fd_rounded)(data, indices, indptr, r0, r1, D, K, b, out, 1, nnz);
    } else {
        SKX_SP_FN(sp_rows_fd_exact)(data, indices, indptr, r0, r1, D, K, b, out, 0, nnz);
    }
}

#undef SKX_SP_ACC
#undef SKX_SP_BLOCK
#undef SKX_SP_ROWS
#undef SKX_SP_ROUNDED_D
#undef SKX_SP_FUSED_D
#undef SKX_SP_ROUNDED_F
