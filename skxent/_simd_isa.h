/*
 * The vector primitives of one instruction set, for skxent/_simd_body.h.
 *
 * Included once per instruction set by skxent/_simd.h, with SKX_ISA set to one
 * of SKX_ISA_AVX512, SKX_ISA_AVX2, SKX_ISA_SSE2 or SKX_ISA_SCALAR, inside a
 * region compiled for that instruction set; included again with SKX_ISA_UNDEF
 * defined, it takes the names back.  The same names stand for every
 * instruction set:
 *
 *   VD, VF            a vector of WD doubles / WF floats
 *   MD, MF            a lane mask of a VD / VF comparison
 *   vd_load(p), vd_store(p, v)          unaligned, whole vectors
 *   vd_load_n(p, n), vd_store_n(p, v, n)
 *                     the first n lanes (0 <= n <= WD); lanes >= n load as 0,
 *                     and memory past p + n is neither read nor written
 *   vd_add, vd_sub, vd_mul, vd_div      exactly rounded, lane by lane
 *   vd_fma(a, b, c)   a * b + c: fused where the instruction set has it
 *                     (AVX2, AVX-512), two roundings on SSE2 and the scalar
 *                     fallback.  Every lane of a kernel goes through the same
 *                     instructions (tails are padded, not done in scalar
 *                     code), so an entry's bits do not depend on its position.
 *   vd_max(a, b)      a > b ? a : b (so NaN in b propagates, NaN in a does not)
 *   vd_lt, vd_le, vd_eq, vd_ge, vd_nan  comparisons (ordered; vd_nan: unordered)
 *   vd_sel(m, a, b)   m ? a : b;  vd_keep(m, a)   m ? a : 0
 *   vd_any(m)         whether any lane of m is set
 *   vd_lanes(n)       the mask of the first n lanes;  vd_ne0(a)   a != 0 (true for NaN)
 *   vd_or_sign(a, s)  a | s bitwise, with s = -0.0: -|a|;  vd_abs(a)   |a|
 *   vd_swap_pairs(a)  lanes 0 1 2 3 ... as 1 0 3 2 ... (not in plain C, WD = 1)
 *   vd_hsum(v), vd_hmax(v)              horizontal sum / maximum, as a double
 *   vd_hsum_rows(v), vd_hmax_rows(v)    for an array of WD vectors, the vector
 *                     whose lane l is vd_hsum(v[l]) (vd_hmax(v[l])), rounded the
 *                     same way for every lane
 *   vd_pow2(t)        2**n as a double, for t = n + 0x1.8p52 (n an integer in
 *                     [-1022, 1023] held in the low bits of t's mantissa)
 *   vd_frexp(u, &k)   u = m 2**k with m in [1, 2), for positive finite u
 *   and the same with vf_ for floats, plus
 *   vf_widen_lo(v), vf_widen_hi(v)      the lower / upper half of a VF as a VD
 *                     (the scalar fallback: the float, and 0)
 *   vf_from_vd(a, b)  a VF whose lower half is a, upper half b (narrowed)
 *
 * Only these names are used by the kernels, so the scalar fallback (WD = WF
 * = 1) compiles with any C99 compiler on any platform.
 */

#ifndef SKX_ISA_UNDEF

/* ------------------------------------------------------------------------- */
#if SKX_ISA == SKX_ISA_AVX512

#define VD __m512d
#define VF __m512
#define MD __mmask8
#define MF __mmask16
#define WD 8
#define WF 16
#define vd_set1 _mm512_set1_pd
#define vd_zero _mm512_setzero_pd
#define vd_load _mm512_loadu_pd
#define vd_store _mm512_storeu_pd
#define VI __m512i
#define vi_load(p) _mm512_loadu_si512((const void *)(p))
#define vd_perm(i, a) _mm512_permutexvar_pd((i), (a))
#define vd_load_n(p, n) _mm512_maskz_loadu_pd((__mmask8)((1u << (n)) - 1u), (p))
#define vd_store_n(p, v, n) _mm512_mask_storeu_pd((p), (__mmask8)((1u << (n)) - 1u), (v))
#define vd_add _mm512_add_pd
#define vd_sub _mm512_sub_pd
#define vd_mul _mm512_mul_pd
#define vd_div _mm512_div_pd
#define vd_fma _mm512_fmadd_pd
#define vd_max _mm512_max_pd
#define vd_lt(a, b) _mm512_cmp_pd_mask((a), (b), _CMP_LT_OQ)
#define vd_le(a, b) _mm512_cmp_pd_mask((a), (b), _CMP_LE_OQ)
#define vd_eq(a, b) _mm512_cmp_pd_mask((a), (b), _CMP_EQ_OQ)
#define vd_ge(a, b) _mm512_cmp_pd_mask((a), (b), _CMP_GE_OQ)
#define vd_nan(a) _mm512_cmp_pd_mask((a), (a), _CMP_UNORD_Q)
#define vd_sel(m, a, b) _mm512_mask_blend_pd((m), (b), (a))
#define vd_keep(m, a) _mm512_maskz_mov_pd((m), (a))
#define vd_any(m) ((m) != 0)
#define vd_hsum _mm512_reduce_add_pd
#define vd_lanes(n) ((__mmask8)((1u << (n)) - 1u))
#define vd_ne0(a) _mm512_cmp_pd_mask((a), _mm512_setzero_pd(), _CMP_NEQ_UQ)
#define vd_or_sign _mm512_or_pd
#define vd_abs(a) _mm512_andnot_pd(_mm512_set1_pd(-0.0), (a))
#define vd_swap_pairs(a) _mm512_permute_pd((a), 0x55)
#define vd_hmax _mm512_reduce_max_pd
#define vd_pow2(t) _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_add_epi64( \
    _mm512_castpd_si512(t), _mm512_set1_epi64(1023)), 52))

#define vf_set1 _mm512_set1_ps
#define vf_zero _mm512_setzero_ps
#define vf_load _mm512_loadu_ps
#define vf_store _mm512_storeu_ps
#define vf_load_n(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1u), (p))
#define vf_store_n(p, v, n) _mm512_mask_storeu_ps((p), (__mmask16)((1u << (n)) - 1u), (v))
#define vf_add _mm512_add_ps
#define vf_sub _mm512_sub_ps
#define vf_mul _mm512_mul_ps
#define vf_div _mm512_div_ps
#define vf_fma _mm512_fmadd_ps
#define vf_max _mm512_max_ps
#define vf_lt(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ)
#define vf_le(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_LE_OQ)
#define vf_eq(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_EQ_OQ)
#define vf_ge(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_GE_OQ)
#define vf_nan(a) _mm512_cmp_ps_mask((a), (a), _CMP_UNORD_Q)
#define vf_sel(m, a, b) _mm512_mask_blend_ps((m), (b), (a))
#define vf_keep(m, a) _mm512_maskz_mov_ps((m), (a))
#define vf_any(m) ((m) != 0)
#define vf_hmax _mm512_reduce_max_ps
#define vf_lanes(n) ((__mmask16)((1u << (n)) - 1u))
#define vf_ne0(a) _mm512_cmp_ps_mask((a), _mm512_setzero_ps(), _CMP_NEQ_UQ)
#define vf_or_sign _mm512_or_ps
#define vf_abs(a) _mm512_andnot_ps(_mm512_set1_ps(-0.0f), (a))
#define vf_swap_pairs(a) _mm512_permute_ps((a), 0xB1)
#define vf_pow2(t) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32( \
    _mm512_castps_si512(t), _mm512_set1_epi32(127)), 23))
#define vf_widen_lo(v) _mm512_cvtps_pd(_mm512_castps512_ps256(v))
#define vf_widen_hi(v) _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd( \
    _mm512_castps_pd(v), 1)))
#define vf_from_vd(a, b) _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd( \
    _mm512_castps256_ps512(_mm512_cvtpd_ps(a))), _mm256_castps_pd(_mm512_cvtpd_ps(b)), 1))

static inline VD SKX_FN(vd_frexp)(VD u, VD *k)
{
    *k = _mm512_getexp_pd(u);
    return _mm512_getmant_pd(u, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
}

static inline VF SKX_FN(vf_frexp)(VF u, VF *k)
{
    *k = _mm512_getexp_ps(u);
    return _mm512_getmant_ps(u, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
}

/* Lane l of the result: the sum (maximum) of the lanes of v[l]. */
#define SKX_ROWS8(NAME, OP)                                                     \
static inline VD SKX_FN(NAME)(const VD *v)                                     \
{                                                                             \
    VD t0 = OP(_mm512_unpacklo_pd(v[0], v[1]), _mm512_unpackhi_pd(v[0], v[1]));  \
    VD t1 = OP(_mm512_unpacklo_pd(v[2], v[3]), _mm512_unpackhi_pd(v[2], v[3]));  \
    VD t2 = OP(_mm512_unpacklo_pd(v[4], v[5]), _mm512_unpackhi_pd(v[4], v[5]));  \
    VD t3 = OP(_mm512_unpacklo_pd(v[6], v[7]), _mm512_unpackhi_pd(v[6], v[7]));  \
    VD u0 = OP(_mm512_shuffle_f64x2(t0, t1, 0x88), _mm512_shuffle_f64x2(t0, t1, 0xDD)); \
    VD u1 = OP(_mm512_shuffle_f64x2(t2, t3, 0x88), _mm512_shuffle_f64x2(t2, t3, 0xDD)); \
    return OP(_mm512_shuffle_f64x2(u0, u1, 0x88), _mm512_shuffle_f64x2(u0, u1, 0xDD)); \
}
SKX_ROWS8(vd_hsum_rows, _mm512_add_pd)
SKX_ROWS8(vd_hmax_rows, _mm512_max_pd)
#undef SKX_ROWS8
#define vd_hsum_rows SKX_FN(vd_hsum_rows)
#define vd_hmax_rows SKX_FN(vd_hmax_rows)
#define vd_frexp SKX_FN(vd_frexp)
#define vf_frexp SKX_FN(vf_frexp)

/* ------------------------------------------------------------------------- */
#elif SKX_ISA == SKX_ISA_AVX2

#define VD __m256d
#define VF __m256
#define MD __m256d
#define MF __m256
#define WD 4
#define WF 8
#define vd_set1 _mm256_set1_pd
#define vd_zero _mm256_setzero_pd
#define vd_load _mm256_loadu_pd
#define vd_store _mm256_storeu_pd
#define skx_lanes_d(n) _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3))
#define vd_load_n(p, n) _mm256_maskload_pd((p), skx_lanes_d(n))
#define vd_store_n(p, v, n) _mm256_maskstore_pd((p), skx_lanes_d(n), (v))
#define vd_add _mm256_add_pd
#define vd_sub _mm256_sub_pd
#define vd_mul _mm256_mul_pd
#define vd_div _mm256_div_pd
#define vd_fma _mm256_fmadd_pd
#define vd_max _mm256_max_pd
#define vd_lt(a, b) _mm256_cmp_pd((a), (b), _CMP_LT_OQ)
#define vd_le(a, b) _mm256_cmp_pd((a), (b), _CMP_LE_OQ)
#define vd_eq(a, b) _mm256_cmp_pd((a), (b), _CMP_EQ_OQ)
#define vd_ge(a, b) _mm256_cmp_pd((a), (b), _CMP_GE_OQ)
#define vd_nan(a) _mm256_cmp_pd((a), (a), _CMP_UNORD_Q)
#define vd_sel(m, a, b) _mm256_blendv_pd((b), (a), (m))
#define vd_keep(m, a) _mm256_and_pd((m), (a))
#define vd_any(m) (_mm256_movemask_pd(m) != 0)
#define vd_lanes(n) _mm256_castsi256_pd(skx_lanes_d(n))
#define vd_ne0(a) _mm256_cmp_pd((a), _mm256_setzero_pd(), _CMP_NEQ_UQ)
#define vd_or_sign _mm256_or_pd
#define vd_abs(a) _mm256_andnot_pd(_mm256_set1_pd(-0.0), (a))
#define vd_swap_pairs(a) _mm256_permute_pd((a), 0x5)
#define vd_pow2(t) _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64( \
    _mm256_castpd_si256(t), _mm256_set1_epi64x(1023)), 52))

#define vf_set1 _mm256_set1_ps
#define vf_zero _mm256_setzero_ps
#define vf_load _mm256_loadu_ps
#define vf_store _mm256_storeu_ps
#define skx_lanes_f(n) _mm256_cmpgt_epi32(_mm256_set1_epi32(n), \
    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define vf_load_n(p, n) _mm256_maskload_ps((p), skx_lanes_f(n))
#define vf_store_n(p, v, n) _mm256_maskstore_ps((p), skx_lanes_f(n), (v))
#define vf_add _mm256_add_ps
#define vf_sub _mm256_sub_ps
#define vf_mul _mm256_mul_ps
#define vf_div _mm256_div_ps
#define vf_fma _mm256_fmadd_ps
#define vf_max _mm256_max_ps
#define vf_lt(a, b) _mm256_cmp_ps((a), (b), _CMP_LT_OQ)
#define vf_le(a, b) _mm256_cmp_ps((a), (b), _CMP_LE_OQ)
#define vf_eq(a, b) _mm256_cmp_ps((a), (b), _CMP_EQ_OQ)
#define vf_ge(a, b) _mm256_cmp_ps((a), (b), _CMP_GE_OQ)
#define vf_nan(a) _mm256_cmp_ps((a), (a), _CMP_UNORD_Q)
#define vf_sel(m, a, b) _mm256_blendv_ps((b), (a), (m))
#define vf_keep(m, a) _mm256_and_ps((m), (a))
#define vf_any(m) (_mm256_movemask_ps(m) != 0)
#define vf_lanes(n) _mm256_castsi256_ps(skx_lanes_f(n))
#define vf_ne0(a) _mm256_cmp_ps((a), _mm256_setzero_ps(), _CMP_NEQ_UQ)
#define vf_or_sign _mm256_or_ps
#define vf_abs(a) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), (a))
#define vf_swap_pairs(a) _mm256_permute_ps((a), 0xB1)
#define vf_pow2(t) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32( \
    _mm256_castps_si256(t), _mm256_set1_epi32(127)), 23))
#define vf_widen_lo(v) _mm256_cvtps_pd(_mm256_castps256_ps128(v))
#define vf_widen_hi(v) _mm256_cvtps_pd(_mm256_extractf128_ps((v), 1))
#define vf_from_vd(a, b) _mm256_insertf128_ps(_mm256_castps128_ps256( \
    _mm256_cvtpd_ps(a)), _mm256_cvtpd_ps(b), 1)

static inline double SKX_FN(vd_hsum)(VD v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

static inline double SKX_FN(vd_hmax)(VD v)
{
    __m128d s = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_max_sd(s, _mm_unpackhi_pd(s, s)));
}

static inline float SKX_FN(vf_hmax)(VF v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_shuffle_ps(s, s, 1)));
}

static inline VD SKX_FN(vd_frexp)(VD u, VD *k)
{
    const __m256i bits = _mm256_castpd_si256(u);
    /* The biased exponent e, as the double 2**52 + e, minus 2**52 + 1023. */
    *k = _mm256_sub_pd(
        _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(bits, 52),
                                            _mm256_set1_epi64x(0x4330000000000000LL))),
        _mm256_set1_pd(0x1p52 + 1023.0));
    return _mm256_castsi256_pd(_mm256_or_si256(
        _mm256_and_si256(bits, _mm256_set1_epi64x(0x000FFFFFFFFFFFFFLL)),
        _mm256_set1_epi64x(0x3FF0000000000000LL)));
}

static inline VF SKX_FN(vf_frexp)(VF u, VF *k)
{
    const __m256i bits = _mm256_castps_si256(u);
    *k = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127)));
    return _mm256_castsi256_ps(_mm256_or_si256(
        _mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)), _mm256_set1_epi32(0x3F800000)));
}

#define SKX_ROWS4(NAME, OP)                                                     \
static inline VD SKX_FN(NAME)(const VD *v)                                     \
{                                                                             \
    VD t0 = OP(_mm256_unpacklo_pd(v[0], v[1]), _mm256_unpackhi_pd(v[0], v[1]));  \
    VD t1 = OP(_mm256_unpacklo_pd(v[2], v[3]), _mm256_unpackhi_pd(v[2], v[3]));  \
    return OP(_mm256_permute2f128_pd(t0, t1, 0x20), _mm256_permute2f128_pd(t0, t1, 0x31)); \
}
SKX_ROWS4(vd_hsum_rows, _mm256_add_pd)
SKX_ROWS4(vd_hmax_rows, _mm256_max_pd)
#undef SKX_ROWS4
#define vd_hsum_rows SKX_FN(vd_hsum_rows)
#define vd_hmax_rows SKX_FN(vd_hmax_rows)
#define vd_hsum SKX_FN(vd_hsum)
#define vd_hmax SKX_FN(vd_hmax)
#define vf_hmax SKX_FN(vf_hmax)
#define vd_frexp SKX_FN(vd_frexp)
#define vf_frexp SKX_FN(vf_frexp)

/* ------------------------------------------------------------------------- */
#elif SKX_ISA == SKX_ISA_SSE2

#define VD __m128d
#define VF __m128
#define MD __m128d
#define MF __m128
#define WD 2
#define WF 4
#define vd_set1 _mm_set1_pd
#define vd_zero _mm_setzero_pd
#define vd_load _mm_loadu_pd
#define vd_store _mm_storeu_pd
#define vd_add _mm_add_pd
#define vd_sub _mm_sub_pd
#define vd_mul _mm_mul_pd
#define vd_div _mm_div_pd
#define vd_fma(a, b, c) _mm_add_pd(_mm_mul_pd((a), (b)), (c))
#define vd_max _mm_max_pd
#define vd_lt _mm_cmplt_pd
#define vd_le _mm_cmple_pd
#define vd_eq _mm_cmpeq_pd
#define vd_ge _mm_cmpge_pd
#define vd_nan(a) _mm_cmpunord_pd((a), (a))
#define vd_keep(m, a) _mm_and_pd((m), (a))
#define vd_any(m) (_mm_movemask_pd(m) != 0)
#define vd_lanes(n) _mm_castsi128_pd(_mm_cmpgt_epi32(_mm_set1_epi32((int)(n)), _mm_setr_epi32(0, 0, 1, 1)))
#define vd_ne0(a) _mm_cmpneq_pd((a), _mm_setzero_pd())
#define vd_or_sign _mm_or_pd
#define vd_abs(a) _mm_andnot_pd(_mm_set1_pd(-0.0), (a))
#define vd_swap_pairs(a) _mm_shuffle_pd((a), (a), 1)
#define vd_pow2(t) _mm_castsi128_pd(_mm_slli_epi64(_mm_add_epi64( \
    _mm_castpd_si128(t), _mm_set1_epi64x(1023)), 52))

#define vf_set1 _mm_set1_ps
#define vf_zero _mm_setzero_ps
#define vf_load _mm_loadu_ps
#define vf_store _mm_storeu_ps
#define vf_add _mm_add_ps
#define vf_sub _mm_sub_ps
#define vf_mul _mm_mul_ps
#define vf_div _mm_div_ps
#define vf_fma(a, b, c) _mm_add_ps(_mm_mul_ps((a), (b)), (c))
#define vf_max _mm_max_ps
#define vf_lt _mm_cmplt_ps
#define vf_le _mm_cmple_ps
#define vf_eq _mm_cmpeq_ps
#define vf_ge _mm_cmpge_ps
#define vf_nan(a) _mm_cmpunord_ps((a), (a))
#define vf_keep(m, a) _mm_and_ps((m), (a))
#define vf_any(m) (_mm_movemask_ps(m) != 0)
#define vf_lanes(n) _mm_castsi128_ps(_mm_cmpgt_epi32(_mm_set1_epi32((int)(n)), _mm_setr_epi32(0, 1, 2, 3)))
#define vf_ne0(a) _mm_cmpneq_ps((a), _mm_setzero_ps())
#define vf_or_sign _mm_or_ps
#define vf_abs(a) _mm_andnot_ps(_mm_set1_ps(-0.0f), (a))
#define vf_swap_pairs(a) _mm_shuffle_ps((a), (a), 0xB1)
#define vf_pow2(t) _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32( \
    _mm_castps_si128(t), _mm_set1_epi32(127)), 23))
#define vf_widen_lo(v) _mm_cvtps_pd(v)
#define vf_widen_hi(v) _mm_cvtps_pd(_mm_movehl_ps((v), (v)))
#define vf_from_vd(a, b) _mm_movelh_ps(_mm_cvtpd_ps(a), _mm_cvtpd_ps(b))

static inline VD SKX_FN(vd_sel)(MD m, VD a, VD b)
{
    return _mm_or_pd(_mm_and_pd(m, a), _mm_andnot_pd(m, b));
}

static inline VF SKX_FN(vf_sel)(MF m, VF a, VF b)
{
    return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b));
}

static inline VD SKX_FN(vd_load_n)(const double *p, ptrdiff_t n)
{
    return n >= 2 ? _mm_loadu_pd(p) : n == 1 ? _mm_load_sd(p) : _mm_setzero_pd();
}

static inline void SKX_FN(vd_store_n)(double *p, VD v, ptrdiff_t n)
{
    if (n >= 2) {
        _mm_storeu_pd(p, v);
    } else if (n == 1) {
        _mm_store_sd(p, v);
    }
}

static inline VF SKX_FN(vf_load_n)(const float *p, ptrdiff_t n)
{
    switch (n) {
    case 0: return _mm_setzero_ps();
    case 1: return _mm_load_ss(p);
    case 2: return _mm_castpd_ps(_mm_load_sd((const double *)p));
    case 3: return _mm_movelh_ps(_mm_castpd_ps(_mm_load_sd((const double *)p)), _mm_load_ss(p + 2));
    default: return _mm_loadu_ps(p);
    }
}

static inline void SKX_FN(vf_store_n)(float *p, VF v, ptrdiff_t n)
{
    switch (n) {
    case 0: break;
    case 1: _mm_store_ss(p, v); break;
    case 2: _mm_store_sd((double *)p, _mm_castps_pd(v)); break;
    case 3:
        _mm_store_sd((double *)p, _mm_castps_pd(v));
        _mm_store_ss(p + 2, _mm_movehl_ps(v, v));
        break;
    default: _mm_storeu_ps(p, v); break;
    }
}

static inline double SKX_FN(vd_hsum)(VD v)
{
    return _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v)));
}

static inline double SKX_FN(vd_hmax)(VD v)
{
    return _mm_cvtsd_f64(_mm_max_sd(v, _mm_unpackhi_pd(v, v)));
}

static inline float SKX_FN(vf_hmax)(VF v)
{
    VF s = _mm_max_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_shuffle_ps(s, s, 1)));
}

static inline VD SKX_FN(vd_frexp)(VD u, VD *k)
{
    const __m128i bits = _mm_castpd_si128(u);
    *k = _mm_sub_pd(_mm_castsi128_pd(_mm_or_si128(_mm_srli_epi64(bits, 52),
                                                  _mm_set1_epi64x(0x4330000000000000LL))),
                    _mm_set1_pd(0x1p52 + 1023.0));
    return _mm_castsi128_pd(_mm_or_si128(_mm_and_si128(bits, _mm_set1_epi64x(0x000FFFFFFFFFFFFFLL)),
                                         _mm_set1_epi64x(0x3FF0000000000000LL)));
}

static inline VF SKX_FN(vf_frexp)(VF u, VF *k)
{
    const __m128i bits = _mm_castps_si128(u);
    *k = _mm_cvtepi32_ps(_mm_sub_epi32(_mm_srli_epi32(bits, 23), _mm_set1_epi32(127)));
    return _mm_castsi128_ps(_mm_or_si128(_mm_and_si128(bits, _mm_set1_epi32(0x007FFFFF)),
                                         _mm_set1_epi32(0x3F800000)));
}

static inline VD SKX_FN(vd_hsum_rows)(const VD *v)
{
    return _mm_add_pd(_mm_unpacklo_pd(v[0], v[1]), _mm_unpackhi_pd(v[0], v[1]));
}

static inline VD SKX_FN(vd_hmax_rows)(const VD *v)
{
    return _mm_max_pd(_mm_unpacklo_pd(v[0], v[1]), _mm_unpackhi_pd(v[0], v[1]));
}

#define vd_hsum_rows SKX_FN(vd_hsum_rows)
#define vd_hmax_rows SKX_FN(vd_hmax_rows)
#define vd_sel SKX_FN(vd_sel)
#define vf_sel SKX_FN(vf_sel)
#define vd_load_n SKX_FN(vd_load_n)
#define vd_store_n SKX_FN(vd_store_n)
#define vf_load_n SKX_FN(vf_load_n)
#define vf_store_n SKX_FN(vf_store_n)
#define vd_hsum SKX_FN(vd_hsum)
#define vd_hmax SKX_FN(vd_hmax)
#define vf_hmax SKX_FN(vf_hmax)
#define vd_frexp SKX_FN(vd_frexp)
#define vf_frexp SKX_FN(vf_frexp)

/* ------------------------------------------------------------------------- */
#elif SKX_ISA == SKX_ISA_SCALAR

#define VD double
#define VF float
#define MD int
#define MF int
#define WD 1
#define WF 1
#define vd_set1(x) ((double)(x))
#define vd_zero() 0.0
#define vd_load(p) (*(p))
#define vd_store(p, v) (*(p) = (v))
#define vd_load_n(p, n) ((n) > 0 ? *(p) : 0.0)
#define vd_store_n(p, v, n) do { if ((n) > 0) { *(p) = (v); } } while (0)
#define vd_add(a, b) ((a) + (b))
#define vd_sub(a, b) ((a) - (b))
#define vd_mul(a, b) ((a) * (b))
#define vd_div(a, b) ((a) / (b))
#define vd_fma(a, b, c) ((a) * (b) + (c))
#define vd_max(a, b) ((a) > (b) ? (a) : (b))
#define vd_lt(a, b) ((a) < (b))
#define vd_le(a, b) ((a) <= (b))
#define vd_eq(a, b) ((a) == (b))
#define vd_ge(a, b) ((a) >= (b))
#define vd_nan(a) ((a) != (a))
#define vd_sel(m, a, b) ((m) ? (a) : (b))
#define vd_keep(m, a) ((m) ? (a) : 0.0)
#define vd_any(m) (m)
#define vd_lanes(n) ((n) > 0)
#define vd_ne0(a) ((a) != 0.0)
#define vd_or_sign(z, s) (-fabs(z))
#define vd_abs(a) fabs(a)
#define vd_hsum(v) (v)
#define vd_hmax(v) (v)
#define vd_hsum_rows(v) ((v)[0])
#define vd_hmax_rows(v) ((v)[0])

#define vf_set1(x) ((float)(x))
#define vf_zero() 0.0f
#define vf_load(p) (*(p))
#define vf_store(p, v) (*(p) = (v))
#define vf_load_n(p, n) ((n) > 0 ? *(p) : 0.0f)
#define vf_store_n(p, v, n) do { if ((n) > 0) { *(p) = (v); } } while (0)
#define vf_add(a, b) ((a) + (b))
#define vf_sub(a, b) ((a) - (b))
#define vf_mul(a, b) ((a) * (b))
#define vf_div(a, b) ((a) / (b))
#define vf_fma(a, b, c) ((a) * (b) + (c))
#define vf_max(a, b) ((a) > (b) ? (a) : (b))
#define vf_lt(a, b) ((a) < (b))
#define vf_le(a, b) ((a) <= (b))
#define vf_eq(a, b) ((a) == (b))
#define vf_ge(a, b) ((a) >= (b))
#define vf_nan(a) ((a) != (a))
#define vf_sel(m, a, b) ((m) ? (a) : (b))
#define vf_keep(m, a) ((m) ? (a) : 0.0f)
#define vf_any(m) (m)
#define vf_lanes(n) ((n) > 0)
#define vf_ne0(a) ((a) != 0.0f)
#define vf_or_sign(z, s) (-fabsf(z))
#define vf_abs(a) fabsf(a)
#define vf_hmax(v) (v)
#define vf_widen_lo(v) ((double)(v))
#define vf_widen_hi(v) 0.0
#define vf_from_vd(a, b) ((float)(a))

static inline VD SKX_FN(vd_pow2)(VD t)
{
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023u) << 52;
    memcpy(&t, &bits, sizeof bits);
    return t;
}

static inline VF SKX_FN(vf_pow2)(VF t)
{
    uint32_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 127u) << 23;
    memcpy(&t, &bits, sizeof bits);
    return t;
}

static inline VD SKX_FN(vd_frexp)(VD u, VD *k)
{
    uint64_t bits;
    memcpy(&bits, &u, sizeof bits);
    *k = (double)(int)(bits >> 52) - 1023.0;
    bits = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;
    memcpy(&u, &bits, sizeof bits);
    return u;
}

static inline VF SKX_FN(vf_frexp)(VF u, VF *k)
{
    uint32_t bits;
    memcpy(&bits, &u, sizeof bits);
    *k = (float)((int)(bits >> 23) - 127);
    bits = (bits & 0x007FFFFFu) | 0x3F800000u;
    memcpy(&u, &bits, sizeof bits);
    return u;
}

#define vd_pow2 SKX_FN(vd_pow2)
#define vf_pow2 SKX_FN(vf_pow2)
#define vd_frexp SKX_FN(vd_frexp)
#define vf_frexp SKX_FN(vf_frexp)

#else
#error "SKX_ISA must be one of SKX_ISA_AVX512, SKX_ISA_AVX2, SKX_ISA_SSE2, SKX_ISA_SCALAR"
#endif

/* ------------------------------------------------------------------------- */
#else /* SKX_ISA_UNDEF: take the names back for the next instruction set */

#undef VD
#undef VI
#undef vi_load
#undef vd_perm
#undef VF
#undef MD
#undef MF
#undef vd_frexp
#undef vf_frexp
#undef vd_hsum_rows
#undef vd_hmax_rows
#undef WD
#undef WF
#undef vd_set1
#undef vd_zero
#undef vd_load
#undef vd_store
#undef vd_load_n
#undef vd_store_n
#undef vd_add
#undef vd_sub
#undef vd_mul
#undef vd_div
#undef vd_fma
#undef vd_max
#undef vd_lt
#undef vd_le
#undef vd_eq
#undef vd_ge
#undef vd_nan
#undef vd_sel
#undef vd_keep
#undef vd_any
#undef vd_hsum
#undef vd_hmax
#undef vd_pow2
#undef vf_set1
#undef vf_zero
#undef vf_load
#undef vf_store
#undef vf_load_n
#undef vf_store_n
#undef vf_add
#undef vf_sub
#undef vf_mul
#undef vf_div
#undef vf_fma
#undef vf_max
#undef vf_lt
#undef vf_le
#undef vf_eq
#undef vf_ge
#undef vf_nan
#undef vf_sel
#undef vf_keep
#undef vf_any
#undef vf_hmax
#undef vf_pow2
#undef vf_widen_lo
#undef vf_widen_hi
#undef vf_from_vd
#undef skx_lanes_d
#undef skx_lanes_f
#undef vd_lanes
#undef vf_lanes
#undef vd_ne0
#undef vf_ne0
#undef vd_or_sign
#undef vf_or_sign
#undef vd_abs
#undef vf_abs
#undef vd_swap_pairs
#undef vf_swap_pairs

#endif /* SKX_ISA_UNDEF */
