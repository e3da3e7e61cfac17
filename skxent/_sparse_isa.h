/*
 * The vector primitives of skxent/_sparse_body.h for instruction set
 * SKX_SP_ISA (AVX-512 or AVX2), all macros; included again with
 * SKX_SP_UNDEF defined, it removes them (as skxent/_simd_isa.h does).
 *
 *   skx_sp_vd / skx_sp_vf     vectors of SKX_SP_ND doubles / SKX_SP_NF floats
 *   skx_sp_load_d(p, n)       the first n (1 .. width) doubles at p, the rest 0,
 *                             nothing past p + n read
 *   skx_sp_load_f2d(p, n)     the same from floats, widened to doubles
 *   skx_sp_load_f(p, n)       n floats
 *   skx_sp_store_d/_f(p, v, n) the first n lanes of v to p
 */
#ifndef SKX_SP_UNDEF

#if SKX_SP_ISA == SKX_SP_AVX512
#define SKX_SP_ND 8
#define SKX_SP_NF 16
#define skx_sp_vd __m512d
#define skx_sp_vf __m512
#define skx_sp_md(n) ((__mmask8)((n) >= 8 ? 0xFFu : (1u << (n)) - 1u))
#define skx_sp_mf(n) ((__mmask16)((n) >= 16 ? 0xFFFFu : (1u << (n)) - 1u))
#define skx_sp_zero_d() _mm512_setzero_pd()
#define skx_sp_zero_f() _mm512_setzero_ps()
#define skx_sp_set1_d(x) _mm512_set1_pd(x)
#define skx_sp_set1_f(x) _mm512_set1_ps(x)
#define skx_sp_add_d(a, b) _mm512_add_pd((a), (b))
#define skx_sp_mul_d(a, b) _mm512_mul_pd((a), (b))
#define skx_sp_fma_d(a, b, c) _mm512_fmadd_pd((a), (b), (c))
#define skx_sp_add_f(a, b) _mm512_add_ps((a), (b))
#define skx_sp_mul_f(a, b) _mm512_mul_ps((a), (b))
#define skx_sp_load_d(p, n) _mm512_maskz_loadu_pd(skx_sp_md(n), (p))
#define skx_sp_load_f2d(p, n) _mm512_cvtps_pd(_mm256_maskz_loadu_ps(skx_sp_md(n), (p)))
#define skx_sp_load_f(p, n) _mm512_maskz_loadu_ps(skx_sp_mf(n), (p))
#define skx_sp_store_d(p, v, n) _mm512_mask_storeu_pd((p), skx_sp_md(n), (v))
#define skx_sp_store_f(p, v, n) _mm512_mask_storeu_ps((p), skx_sp_mf(n), (v))
#else /* AVX2: maskload and maskstore take a vector of lane masks */
#define SKX_SP_ND 4
#define SKX_SP_NF 8
#define skx_sp_vd __m256d
#define skx_sp_vf __m256
#define skx_sp_md(n) \
    _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)(n)), _mm256_setr_epi64x(0, 1, 2, 3))
#define skx_sp_mh(n) _mm_cmpgt_epi32(_mm_set1_epi32((int)(n)), _mm_setr_epi32(0, 1, 2, 3))
#define skx_sp_mf(n) \
    _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define skx_sp_zero_d() _mm256_setzero_pd()
#define skx_sp_zero_f() _mm256_setzero_ps()
#define skx_sp_set1_d(x) _mm256_set1_pd(x)
#define skx_sp_set1_f(x) _mm256_set1_ps(x)
#define skx_sp_add_d(a, b) _mm256_add_pd((a), (b))
#define skx_sp_mul_d(a, b) _mm256_mul_pd((a), (b))
#define skx_sp_fma_d(a, b, c) _mm256_fmadd_pd((a), (b), (c))
#define skx_sp_add_f(a, b) _mm256_add_ps((a), (b))
#define skx_sp_mul_f(a, b) _mm256_mul_ps((a), (b))
#define skx_sp_load_d(p, n) \
    ((n) >= 4 ? _mm256_loadu_pd(p) : _mm256_maskload_pd((p), skx_sp_md(n)))
#define skx_sp_load_f2d(p, n) \
    _mm256_cvtps_pd((n) >= 4 ? _mm_loadu_ps(p) : _mm_maskload_ps((p), skx_sp_mh(n)))
#define skx_sp_load_f(p, n) \
    ((n) >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps((p), skx_sp_mf(n)))
#define skx_sp_store_d(p, v, n) _mm256_maskstore_pd((p), skx_sp_md(n), (v))
#define skx_sp_store_f(p, v, n) _mm256_maskstore_ps((p), skx_sp_mf(n), (v))
#endif

#else /* SKX_SP_UNDEF */

#undef SKX_SP_ND
#undef SKX_SP_NF
#undef skx_sp_vd
#undef skx_sp_vf
#undef skx_sp_md
#undef skx_sp_mh
#undef skx_sp_mf
#undef skx_sp_zero_d
#undef skx_sp_zero_f
#undef skx_sp_set1_d
#undef skx_sp_set1_f
#undef skx_sp_add_d
#undef skx_sp_mul_d
#undef skx_sp_fma_d
#undef skx_sp_add_f
#undef skx_sp_mul_f
#undef skx_sp_load_d
#undef skx_sp_load_f2d
#undef skx_sp_load_f
#undef skx_sp_store_d
#undef skx_sp_store_f

#endif /* SKX_SP_UNDEF */
