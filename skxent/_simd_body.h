/*
 * skxent's kernels for one instruction set, written with the primitives of
 * skxent/_simd_isa.h.  skxent/_simd.h includes this file once per instruction
 * set; SKX_FN(name) gives each function the set's suffix (name_avx512, ...).
 *
 * Every entry goes through the same vector instructions wherever it sits:
 * the last, partial vector of a run is loaded with zeros in its spare lanes
 * (vd_load_n), computed as a whole vector and stored partially (vd_store_n),
 * never finished in scalar code.  So a row's result does not depend on the
 * rows around it, on n, or on which thread computed it.  Only +, -, *, / and
 * explicit fused multiply-adds are used (the build has -ffp-contract=off), so
 * the bits are fixed by this source and the instruction set.
 */

/* ---------------------------------------------------------------------------
 * exp(x) for x <= 0 (or NaN), to about 1 ulp
 *
 * x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two so that n * LN2_HI is
 * exact), exp(r) = 1 + r + r^2 Q(r) with Q a minimax polynomial (mpmath's
 * chebyfit of (exp(r) - 1 - r) / r^2 on [-ln2/2, ln2/2]; its error is below
 * 0.13 ulp), and exp(x) = s + s q with s = 2^n and q = r + r^2 Q(r), one
 * rounding at the end.  Below -708 the result is subnormal or 0 and 2^n not a
 * normal double: those vectors take a slower path that scales in two steps,
 * so that the one rounding happens at the end there too.  -inf gives 0, NaN
 * gives NaN.
 * ------------------------------------------------------------------------- */

#define SKX_LOG2E 0x1.71547652b82fep0
#define SKX_LN2_HI 0x1.62e42fee00000p-1
#define SKX_LN2_LO 0x1.a39ef35793c76p-33
#define SKX_SHIFT_D 0x1.8p52

static inline VD SKX_FN(vd_exp_q)(VD x, VD *t_out)
{
    VD t = vd_fma(x, vd_set1(SKX_LOG2E), vd_set1(SKX_SHIFT_D));
    VD n = vd_sub(t, vd_set1(SKX_SHIFT_D));
    VD r = vd_fma(n, vd_set1(-SKX_LN2_HI), x);
    r = vd_fma(n, vd_set1(-SKX_LN2_LO), r);
    VD r2 = vd_mul(r, r);
    VD p = vd_set1(0x1.af389ecfc4b9cp-26);
    p = vd_fma(p, r, vd_set1(0x1.28917c89a43a7p-22));
    p = vd_fma(p, r, vd_set1(0x1.71de0db2f6b19p-19));
    p = vd_fma(p, r, vd_set1(0x1.a019b9149a41cp-16));
    p = vd_fma(p, r, vd_set1(0x1.a01a01a7c2efep-13));
    p = vd_fma(p, r, vd_set1(0x1.6c16c17889ef1p-10));
    p = vd_fma(p, r, vd_set1(0x1.11111111109b5p-7));
    p = vd_fma(p, r, vd_set1(0x1.5555555553d68p-5));
    p = vd_fma(p, r, vd_set1(0x1.5555555555556p-3));
    p = vd_fma(p, r, vd_set1(0x1.0000000000001p-1));
    *t_out = t;
    return vd_fma(p, r2, r);
}

static VD SKX_FN(vd_exp_tiny)(VD x)
{
    /* 2^n = 2^h 2^(n - h), h = n / 2 rounded: both factors normal. */
    VD t, q = SKX_FN(vd_exp_q)(x, &t);
    VD n = vd_sub(t, vd_set1(SKX_SHIFT_D));
    VD th = vd_fma(n, vd_set1(0.5), vd_set1(SKX_SHIFT_D));
    VD h = vd_sub(th, vd_set1(SKX_SHIFT_D));
    VD s1 = vd_pow2(th);
    VD s2 = vd_pow2(vd_add(vd_sub(n, h), vd_set1(SKX_SHIFT_D)));
    return vd_mul(vd_fma(s1, q, s1), s2);
}

static inline VD SKX_FN(vd_exp_np)(VD x)
{
    VD t, q;
    x = vd_max(vd_set1(-746.0), x);   /* -inf -> -746 (exp rounds to 0); NaN stays */
    if (vd_any(vd_lt(x, vd_set1(-708.0)))) {
        return SKX_FN(vd_exp_tiny)(x);
    }
    q = SKX_FN(vd_exp_q)(x, &t);
    VD s = vd_pow2(t);
    return vd_fma(s, q, s);
}

/* The same in single precision: Q of degree 4 (0.13 ulp), 2^n normal down to
   x = -87, both steps below. */
#define SKX_LOG2E_F 0x1.715476p0f
#define SKX_LN2_HI_F 0x1.62e4p-1f
#define SKX_LN2_LO_F 0x1.7f7d1cp-20f
#define SKX_SHIFT_F 0x1.8p23f

static inline VF SKX_FN(vf_exp_q)(VF x, VF *t_out)
{
    VF t = vf_fma(x, vf_set1(SKX_LOG2E_F), vf_set1(SKX_SHIFT_F));
    VF n = vf_sub(t, vf_set1(SKX_SHIFT_F));
    VF r = vf_fma(n, vf_set1(-SKX_LN2_HI_F), x);
    r = vf_fma(n, vf_set1(-SKX_LN2_LO_F), r);
    VF r2 = vf_mul(r, r);
    VF p = vf_set1(0x1.6d10fcp-10f);
    p = vf_fma(p, r, vf_set1(0x1.120b62p-7f));
    p = vf_fma(p, r, vf_set1(0x1.55551ap-5f));
    p = vf_fma(p, r, vf_set1(0x1.5554dep-3f));
    p = vf_fma(p, r, vf_set1(0x1p-1f));
    *t_out = t;
    return vf_fma(p, r2, r);
}

static VF SKX_FN(vf_exp_tiny)(VF x)
{
    VF t, q = SKX_FN(vf_exp_q)(x, &t);
    VF n = vf_sub(t, vf_set1(SKX_SHIFT_F));
    VF th = vf_fma(n, vf_set1(0.5f), vf_set1(SKX_SHIFT_F));
    VF h = vf_sub(th, vf_set1(SKX_SHIFT_F));
    VF s1 = vf_pow2(th);
    VF s2 = vf_pow2(vf_add(vf_sub(n, h), vf_set1(SKX_SHIFT_F)));
    return vf_mul(vf_fma(s1, q, s1), s2);
}

static inline VF SKX_FN(vf_exp_np)(VF x)
{
    VF t, q;
    x = vf_max(vf_set1(-104.0f), x);
    if (vf_any(vf_lt(x, vf_set1(-87.0f)))) {
        return SKX_FN(vf_exp_tiny)(x);
    }
    q = SKX_FN(vf_exp_q)(x, &t);
    VF s = vf_pow2(t);
    return vf_fma(s, q, s);
}

/* ---------------------------------------------------------------------------
 * log(1 + f) for f in [-0.25, 0.5], to well under 1 ulp of the result's
 * rounding, and the logs built on it
 *
 * With s = f / (2 + f), log(1 + f) = 2 atanh(s) = f - (f^2/2 - s (f^2/2 + R(s^2)))
 * (the arrangement of fdlibm's log, which keeps the error below 1 ulp), R a
 * minimax polynomial in z = s^2 <= 0.04 (mpmath's chebyfit; its own error is
 * below 0.01 ulp of the result).  log(u) = k ln2 + log(1 + f) with u = (1 + f) 2^k.
 * ------------------------------------------------------------------------- */

static inline VD SKX_FN(vd_log1p_k)(VD f, VD k)
{
    VD s = vd_div(f, vd_add(vd_set1(2.0), f));
    VD z = vd_mul(s, s);
    VD R = vd_set1(0x1.169c38cc826bep-3);
    R = vd_fma(R, z, vd_set1(0x1.0e8c55b42945fp-3));
    R = vd_fma(R, z, vd_set1(0x1.3b29d0452d426p-3));
    R = vd_fma(R, z, vd_set1(0x1.745cac43cc003p-3));
    R = vd_fma(R, z, vd_set1(0x1.c71c72df580fcp-3));
    R = vd_fma(R, z, vd_set1(0x1.24924923de6edp-2));
    R = vd_fma(R, z, vd_set1(0x1.9999999999f17p-2));
    R = vd_fma(R, z, vd_set1(0x1.5555555555555p-1));
    R = vd_mul(R, z);
    VD hfsq = vd_mul(vd_mul(vd_set1(0.5), f), f);
    /* k ln2_hi - ((hfsq - (s (hfsq + R) + k ln2_lo)) - f) */
    VD lo = vd_fma(k, vd_set1(SKX_LN2_LO), vd_mul(s, vd_add(hfsq, R)));
    return vd_fma(k, vd_set1(SKX_LN2_HI), vd_sub(f, vd_sub(hfsq, lo)));
}

/* log(u) for u >= 1 (finite) or NaN. */
static inline VD SKX_FN(vd_log_ge1)(VD u)
{
    VD k, m = vd_frexp(u, &k);              /* u = m 2^k, m in [1, 2) */
    MD big = vd_lt(vd_set1(0x1.6a09e667f3bcdp0), m);
    m = vd_sel(big, vd_mul(m, vd_set1(0.5)), m);  /* m in [sqrt(2)/2, sqrt(2)) */
    k = vd_add(k, vd_keep(big, vd_set1(1.0)));
    VD r = SKX_FN(vd_log1p_k)(vd_sub(m, vd_set1(1.0)), k);
    return vd_sel(vd_nan(u), u, r);
}

/* log(1 + e) for e in [0, 1] or NaN, exactly reduced: f = e, or
   f = (e - 1) / 2 and k = 1 for e >= 1/2 (e - 1 is then exact). */
static inline VD SKX_FN(vd_log1p_unit)(VD e)
{
    MD big = vd_ge(e, vd_set1(0.5));
    VD f = vd_sel(big, vd_mul(vd_sub(e, vd_set1(1.0)), vd_set1(0.5)), e);
    return SKX_FN(vd_log1p_k)(f, vd_keep(big, vd_set1(1.0)));
}

/* Single precision: R of degree 3. */
static inline VF SKX_FN(vf_log1p_unit)(VF e)
{
    MF big = vf_ge(e, vf_set1(0.5f));
    VF f = vf_sel(big, vf_mul(vf_sub(e, vf_set1(1.0f)), vf_set1(0.5f)), e);
    VF k = vf_keep(big, vf_set1(1.0f));
    VF s = vf_div(f, vf_add(vf_set1(2.0f), f));
    VF z = vf_mul(s, s);
    VF R = vf_set1(0x1.32bed2p-2f);
    R = vf_fma(R, z, vf_set1(0x1.996298p-2f));
    R = vf_fma(R, z, vf_set1(0x1.555566p-1f));
    R = vf_mul(R, z);
    VF hfsq = vf_mul(vf_mul(vf_set1(0.5f), f), f);
    VF lo = vf_fma(k, vf_set1(-0x1.05c61p-29f), vf_mul(s, vf_add(hfsq, R)));
    return vf_fma(k, vf_set1(0x1.62e43p-1f), vf_sub(f, vf_sub(hfsq, lo)));
}

/* ---------------------------------------------------------------------------
 * Maps over arrays (the tests check each instruction set against mpmath)
 * ------------------------------------------------------------------------- */

#define SKX_MAP_D(NAME, F)                                                     \
static void SKX_FN(NAME)(const double *x, double *out, ptrdiff_t n)           \
{                                                                             \
    ptrdiff_t j = 0;                                                          \
    for (; j + WD <= n; j += WD) {                                            \
        vd_store(out + j, SKX_FN(F)(vd_load(x + j)));                         \
    }                                                                         \
    if (j < n) {                                                              \
        vd_store_n(out + j, SKX_FN(F)(vd_load_n(x + j, n - j)), n - j);       \
    }                                                                         \
}
#define SKX_MAP_F(NAME, F)                                                     \
static void SKX_FN(NAME)(const float *x, float *out, ptrdiff_t n)             \
{                                                                             \
    ptrdiff_t j = 0;                                                          \
    for (; j + WF <= n; j += WF) {                                            \
        vf_store(out + j, SKX_FN(F)(vf_load(x + j)));                         \
    }                                                                         \
    if (j < n) {                                                              \
        vf_store_n(out + j, SKX_FN(F)(vf_load_n(x + j, n - j)), n - j);       \
    }                                                                         \
}

SKX_MAP_D(map_exp_d, vd_exp_np)
SKX_MAP_F(map_exp_f, vf_exp_np)
SKX_MAP_D(map_log_d, vd_log_ge1)
SKX_MAP_D(map_log1p_d, vd_log1p_unit)
SKX_MAP_F(map_log1p_f, vf_log1p_unit)

/* ---------------------------------------------------------------------------
 * Softmax over a chunk of r rows of k scores
 *
 * e is scratch of at least r k + 2 W entries (skx_scratch_size), never an
 * output: rows are stored there with whole vectors, spilling into the next
 * row's place (written over right after) or the padding, and a partial store
 * followed by a load of the same place stalls the pipeline until the store
 * has reached the cache.
 *
 * Phase 1, per row: the maximum m.  Phase 2, per row: e = z - m.  Phase 3,
 * over the chunk's r k entries as one run: e = exp(e).  Phase 4, per row:
 * rest = sum(e) - 1, the sum of the exponentials other than the maximum's
 * exp(0) = 1.  When that is >= 1, s - 1 is exact and keeps rest's relative
 * precision; below, s < 2, so the maximum is the row's only entry of 1 (a
 * tie would make s >= 2) and rest is the sum of the entries below 1, which
 * the same pass adds up alongside (a compare and a masked add: no second
 * pass, no branch).  A NaN anywhere makes s NaN, which fails "< 1" and stays.
 * ------------------------------------------------------------------------- */

#if SKX_ISA == SKX_ISA_AVX512
/* idx[c], c < k: lane l holds (WD c + l) / k, the row (of WD rows of k
   entries) that entry l of their vector c belongs to. */
static inline void SKX_FN(group_index_d)(ptrdiff_t k, VI *idx)
{
    int64_t t[WD];
    ptrdiff_t row = 0, col = 0, c, l;
    for (c = 0; c < k; c++) {
        for (l = 0; l < WD; l++) {
            t[l] = row;
            if (++col == k) {
                col = 0;
                row++;
            }
        }
        idx[c] = vi_load(t);
    }
}
#endif

static void SKX_FN(softmax_prep_d)(
    const double *z, ptrdiff_t r, ptrdiff_t k, double *e, double *m, double *rest,
    const char *pf_read, char *pf_write)
{
    const ptrdiff_t whole = k - k % WD, tail = k - whole;
    const VD one = vd_set1(1.0), ninf = vd_set1(-INFINITY);
    VD acc[WD], acc2[WD];
    ptrdiff_t i0, l, c, j;
    /* Maxima, WD rows at a time: each row's vector of maxima, then one
       transpose-and-reduce for the group (rows past r reduce a copy of the
       last row's vector, never used: with 1000 classes a chunk is one row,
       and recomputing that row for the seven lanes past it made the kernels
       about twice as slow). */
    for (i0 = 0; i0 < r; i0 += WD) {
        for (l = 0; l < WD; l++) {
            if (i0 + l >= r) {   /* past the chunk: a copy, never used */
                acc[l] = acc[l - 1];
                continue;
            }
            const double *zi = z + (i0 + l) * k;
            VD vm = ninf;
            for (c = 0; c < whole; c += WD) {
                vm = vd_max(vd_load(zi + c), vm);
            }
            if (tail) {
                vm = vd_max(vd_sel(vd_lanes(tail), vd_load_n(zi + c, tail), ninf), vm);
            }
            acc[l] = vm;
        }
        vd_store(m + i0, vd_hmax_rows(acc));
    }
    const ptrdiff_t size = r * k;
#if SKX_ISA == SKX_ISA_AVX512
    if (k <= SKX_GROUP_K && k % WD != 0) {
        /* Few classes, not a multiple of WD: the chunk's r k entries as one
           run of whole vectors, each less the maxima of its rows (WD rows are
           k vectors; lane l of their vector c belongs to row (WD c + l) / k
           of them), then exp: no pass of its own for the differences, no
           partial vectors.  The same operations on the same numbers, so the
           same bits. */
        VI idx[SKX_GROUP_K];
        SKX_FN(group_index_d)(k, idx);
        j = 0;
        for (i0 = 0; j < size; i0 += WD) {
            const VD mv = vd_load(m + i0);
            for (c = 0; c < k && j < size; c++, j += WD) {
                skx_prefetch_ahead(pf_read, pf_write, (size_t)j * sizeof(double));
                VD x = j + WD <= size ? vd_load(z + j) : vd_load_n(z + j, size - j);
                vd_store(e + j, SKX_FN(vd_exp_np)(vd_sub(x, vd_perm(idx[c], mv))));
            }
        }
    } else
#endif
    {
        for (i0 = 0; i0 < r; i0++) {
            const double *zi = z + i0 * k;
            double *ei = e + i0 * k;
            const VD vm = vd_set1(m[i0]);
            for (c = 0; c < whole; c += WD) {
                vd_store(ei + c, vd_sub(vd_load(zi + c), vm));
            }
            if (tail) {   /* a whole store: the next row's overwrites the spare lanes */
                vd_store(ei + c, vd_sub(vd_load_n(zi + c, tail), vm));
            }
        }
        /* Every entry up to the next multiple of WD is set (the padding once,
           by the caller): one run of whole vectors, while memory ahead is
           fetched (one cache line of each stream per vector of exponentials). */
        for (j = 0; j < size; j += WD) {
            skx_prefetch_ahead(pf_read, pf_write, (size_t)j * sizeof(double));
            vd_store(e + j, SKX_FN(vd_exp_np)(vd_load(e + j)));
        }
    }
    for (i0 = 0; i0 < r; i0 += WD) {
        for (l = 0; l < WD; l++) {
            if (i0 + l >= r) {   /* past the chunk: a copy, never used */
                acc[l] = acc[l - 1];
                acc2[l] = acc2[l - 1];
                continue;
            }
            const double *ei = e + (i0 + l) * k;
            /* Two running sums of each kind (even and odd vectors): half the
               dependency chain, and for one lane (plain C) the rounding of
               two sums of half the terms. */
            VD sa0 = vd_zero(), sa1 = vd_zero(), sb0 = vd_zero(), sb1 = vd_zero(), v, u;
            for (c = 0; c + 2 * WD <= whole; c += 2 * WD) {
                v = vd_load(ei + c);
                u = vd_load(ei + c + WD);
                sa0 = vd_add(sa0, v);
                sa1 = vd_add(sa1, u);
                sb0 = vd_add(sb0, vd_keep(vd_lt(v, one), v));
                sb1 = vd_add(sb1, vd_keep(vd_lt(u, one), u));
            }
            if (c < whole) {
                v = vd_load(ei + c);
                sa0 = vd_add(sa0, v);
                sb0 = vd_add(sb0, vd_keep(vd_lt(v, one), v));
                c += WD;
            }
            if (tail) {
                v = vd_load_n(ei + c, tail);
                sa1 = vd_add(sa1, v);
                sb1 = vd_add(sb1, vd_keep(vd_lt(v, one), v));
            }
            acc[l] = vd_add(sa0, sa1);
            acc2[l] = vd_add(sb0, sb1);
        }
        VD s = vd_sub(vd_hsum_rows(acc), one);
        vd_store(rest + i0, vd_sel(vd_lt(s, one), vd_hsum_rows(acc2), s));
    }
}

/* Single precision: the scores, maxima and exponentials in float, the sums
   (and so rest) in double. */
static void SKX_FN(softmax_prep_f)(
    const float *z, ptrdiff_t r, ptrdiff_t k, float *e, double *m, double *rest,
    const char *pf_read, char *pf_write)
{
    const ptrdiff_t whole = k - k % WF, tail = k - whole;
    const VD one = vd_set1(1.0);
    const VF ninf = vf_set1(-INFINITY);
    VD acc[WD], acc2[WD];
    ptrdiff_t i0, l, c, j;
    for (i0 = 0; i0 < r; i0 += WD) {
        for (l = 0; l < WD; l++) {
            if (i0 + l >= r) {   /* past the chunk: a copy, never used */
                acc[l] = acc[l - 1];
                continue;
            }
            const float *zi = z + (i0 + l) * k;
            VF vm = ninf;
            for (c = 0; c < whole; c += WF) {
                vm = vf_max(vf_load(zi + c), vm);
            }
            if (tail) {
                vm = vf_max(vf_sel(vf_lanes(tail), vf_load_n(zi + c, tail), ninf), vm);
            }
#if WF > WD
            acc[l] = vd_max(vf_widen_lo(vm), vf_widen_hi(vm));   /* exact */
#else
            acc[l] = vf_widen_lo(vm);
#endif
        }
        vd_store(m + i0, vd_hmax_rows(acc));
    }
    for (i0 = 0; i0 < r; i0++) {
        const float *zi = z + i0 * k;
        float *ei = e + i0 * k;
        const VF vm = vf_set1((float)m[i0]);
        for (c = 0; c < whole; c += WF) {
            vf_store(ei + c, vf_sub(vf_load(zi + c), vm));
        }
        if (tail) {
            vf_store(ei + c, vf_sub(vf_load_n(zi + c, tail), vm));
        }
    }
    const ptrdiff_t size = r * k;
    for (j = 0; j < size; j += WF) {
        skx_prefetch_ahead(pf_read, pf_write, (size_t)j * sizeof(float));
        vf_store(e + j, SKX_FN(vf_exp_np)(vf_load(e + j)));
    }
    for (i0 = 0; i0 < r; i0 += WD) {
        for (l = 0; l < WD; l++) {
            if (i0 + l >= r) {   /* past the chunk: a copy, never used */
                acc[l] = acc[l - 1];
                acc2[l] = acc2[l - 1];
                continue;
            }
            const float *ei = e + (i0 + l) * k;
            /* The two halves of each float vector widened to doubles, in two
               running sums of each kind. */
            VD sa0 = vd_zero(), sa1 = vd_zero(), sb0 = vd_zero(), sb1 = vd_zero(), lo, hi;
            VF v;
            for (c = 0; c < k; c += WF) {
                v = c < whole ? vf_load(ei + c) : vf_load_n(ei + c, tail);
                lo = vf_widen_lo(v);
                hi = vf_widen_hi(v);
#if WF == 1
                if ((c & 1) != 0) {   /* plain C: even and odd entries */
                    hi = lo;
                    lo = vd_zero();
                }
#endif
                sa0 = vd_add(sa0, lo);
                sa1 = vd_add(sa1, hi);
                sb0 = vd_add(sb0, vd_keep(vd_lt(lo, one), lo));
                sb1 = vd_add(sb1, vd_keep(vd_lt(hi, one), hi));
            }
            acc[l] = vd_add(sa0, sa1);
            acc2[l] = vd_add(sb0, sb1);
        }
        VD s = vd_sub(vd_hsum_rows(acc), one);
        vd_store(rest + i0, vd_sel(vd_lt(s, one), vd_hsum_rows(acc2), s));
    }
}

/* Per row, from rest (r entries, readable up to a multiple of WD): inv =
   1 / (1 + rest) and lse1 = log1p(rest), the log-sum-exp less the maximum,
   as log(u) rest / (u - 1) with u = 1 + rest rounded (Goldberg 1991, Thm 4),
   or rest where u == 1. */
static inline void SKX_FN(softmax_rows_v)(VD ri, VD *inv, VD *lse1)
{
    const VD one = vd_set1(1.0);
    VD u = vd_add(one, ri);
    VD lg = SKX_FN(vd_log_ge1)(u);
    *inv = vd_div(one, u);
    *lse1 = vd_sel(vd_eq(u, one), ri, vd_div(vd_mul(lg, ri), vd_sub(u, one)));
}

static void SKX_FN(softmax_rows)(const double *rest, ptrdiff_t r, double *inv, double *lse1)
{
    for (ptrdiff_t i = 0; i < r; i += WD) {
        VD vi, vl;
        SKX_FN(softmax_rows_v)(vd_load(rest + i), &vi, &vl);
        vd_store(inv + i, vi);
        vd_store(lse1 + i, vl);
    }
}

/* Hard labels, per row (WD rows at a time), from rest ri, the row's weight
   w, maximum m, score zy and exponential ey of its class: the loss, the
   scale of the row's gradient (w / (1 + rest)) and the gradient of its
   class (see below). */
static inline void SKX_FN(softmax_hard_terms)(VD ri, VD w, VD m, VD zy, VD ey, VD *loss,
                                              VD *scale, VD *grad_y)
{
    const VD one = vd_set1(1.0);
    VD inv, lse1;
    SKX_FN(softmax_rows_v)(ri, &inv, &lse1);
    *loss = vd_mul(w, vd_add(vd_sub(m, zy), lse1));
    *scale = vd_mul(w, inv);
    *grad_y = vd_sel(vd_eq(ey, one), vd_mul(vd_sub(vd_zero(), ri), *scale),
                     vd_mul(w, vd_sub(vd_mul(ey, inv), one)));
}

/* Hard labels, no smoothing: loss_i = w_i cw_y (m - z_y + lse1), and the
   gradient w_i cw_y (p - onehot(y)), p = e / (1 + rest); at a maximum (e_y = 1)
   p_y - 1 = -rest / (1 + rest) without the cancellation.  e: scratch of
   skx_scratch_size(k) entries; g == NULL: the loss only.  The per-row
   quantities are computed WD rows at a time, and then each row's gradient is
   its exponentials times one scale, and the entry of its class. */
#define SKX_SOFTMAX_HARD(NAME, PREP, T, VT, WT, vt_set1, vt_load, vt_load_n, vt_store, vt_store_n, vt_mul) \
static void SKX_FN(NAME)(                                                       \
    const T *z, const ptrdiff_t *y, ptrdiff_t r, ptrdiff_t k, const double *sw, \
    const double *cw, T *e, T *g, T *loss, int pf)                             \
{                                                                             \
    double m[SKX_MAX_ROWS + 8], rest[SKX_MAX_ROWS + 8], wc[SKX_MAX_ROWS + 8];  \
    double zy[SKX_MAX_ROWS + 8], ey[SKX_MAX_ROWS + 8], lv[SKX_MAX_ROWS + 8];   \
    const ptrdiff_t whole = k - k % WT, tail = k - whole;                       \
    ptrdiff_t i, c;                                                            \
    /* the chunk after next is fetched meanwhile (rows of k like this one's), \
       when it is the caller's too (pf): another thread's would cost both */    \
    SKX_FN(PREP)(z, r, k, e, m, rest, pf ? (const char *)(z + 2 * r * k) : NULL, \
                 pf && g != NULL ? (char *)(g + 2 * r * k) : NULL);            \
    /* Each row's weight, score and exponential of its class, */              \
    for (i = 0; i < r; i++) {                                                  \
        const ptrdiff_t yi = y[i];                                             \
        wc[i] = (sw != NULL ? sw[i] : 1.0) * (cw != NULL ? cw[yi] : 1.0);       \
        zy[i] = (double)z[i * k + yi];                                         \
        ey[i] = (double)e[i * k + yi];                                         \
    }                                                                         \
    for (; i < ((r + WD - 1) / WD) * WD; i++) {                               \
        wc[i] = zy[i] = ey[i] = 0.0;                                           \
    }                                                                         \
    /* then, WD rows at a time, the loss, each row's scale (kept in wc) and   \
       the gradient of its class (kept in ey), */                              \
    for (i = 0; i < r; i += WD) {                                              \
        VD lvi, sc, gy;                                                        \
        SKX_FN(softmax_hard_terms)(vd_load(rest + i), vd_load(wc + i), vd_load(m + i), \
                                   vd_load(zy + i), vd_load(ey + i), &lvi, &sc, &gy); \
        vd_store(lv + i, lvi);                                                 \
        vd_store(wc + i, sc);                                                  \
        vd_store(ey + i, gy);                                                  \
    }                                                                         \
    for (i = 0; i < r; i++) {                                                  \
        loss[i] = (T)lv[i];                                                    \
    }                                                                         \
    if (g == NULL) {                                                           \
        return;                                                                \
    }                                                                         \
    /* and the rows of the gradient: exponentials times the scale. */         \
    for (i = 0; i < r; i++) {                                                  \
        const VT vs = vt_set1((T)wc[i]);                                       \
        const T *ei = e + i * k;                                               \
        T *gi = g + i * k;                                                     \
        for (c = 0; c < whole; c += WT) {                                      \
            vt_store(gi + c, vt_mul(vt_load(ei + c), vs));                     \
        }                                                                     \
        if (tail) {                                                            \
            vt_store_n(gi + c, vt_mul(vt_load_n(ei + c, tail), vs), tail);     \
        }                                                                     \
        gi[y[i]] = (T)ey[i];                                                   \
    }                                                                         \
}

SKX_SOFTMAX_HARD(softmax_hard_rows_d, softmax_prep_d, double, VD, WD, vd_set1, vd_load, vd_load_n,
                 vd_store, vd_store_n, vd_mul)
SKX_SOFTMAX_HARD(softmax_hard_rows_f, softmax_prep_f, float, VF, WF, vf_set1, vf_load, vf_load_n,
                 vf_store, vf_store_n, vf_mul)
#undef SKX_SOFTMAX_HARD

#if SKX_ISA == SKX_ISA_AVX512
/* ---------------------------------------------------------------------------
 * Hard labels, no smoothing, at most 16 classes: a vector's worth of rows
 * at a time (WF floats, WD doubles), transposed, one class of the rows in
 * each vector
 *
 * With k <= 16 a row is one or two vectors, and the row-by-row passes of
 * softmax_prep_* and softmax_hard_rows_* (a maximum, a sum, a store and a
 * reload of the exponentials, the gradient's scale) cost more than the
 * exponentials.  Here the rows are loaded and transposed in registers
 * (vector c: class c of the rows; a double row past 8 classes in two parts),
 * and every per-row step is a lane's: the maxima are k - 1 vector maxima, the
 * exponentials k whole vectors, the sums k additions, and the gradient is
 * transposed back and stored row by row.  Every lane (row) goes through the
 * same operations, so a row's bits do not depend on its neighbours or on the
 * thread.  At 10^6 x 10, one thread, Intel Xeon (AVX-512), both builds
 * alternating in one process: float32 0.63x the time of the row-by-row
 * kernel, float64 0.80-0.83x.
 *
 * rest (see softmax_prep_d) is sum(e where e != 1) + (count(e == 1) - 1):
 * each entry of 1 (the maximum, a tie, or an exponential that rounds to 1)
 * counted exactly, the others summed in double (float32: in class order;
 * float64: in four running sums, classes mod 4, as accurate as the row-by-row
 * kernel's sums); a NaN stays.
 * ------------------------------------------------------------------------- */

/* v[0..15]: 16 rows of 16 floats in, their 16 columns out. */
static inline void SKX_FN(transpose16_f)(VF *v)
{
    VF a[16], b[16];
    int i, s;
    for (i = 0; i < 16; i += 2) {   /* pairs of rows, interleaved by 32 bits */
        a[i] = _mm512_unpacklo_ps(v[i], v[i + 1]);
        a[i + 1] = _mm512_unpackhi_ps(v[i], v[i + 1]);
    }
    for (i = 0; i < 16; i += 4) {   /* by 64 bits */
        __m512d a0 = _mm512_castps_pd(a[i]), a1 = _mm512_castps_pd(a[i + 1]);
        __m512d a2 = _mm512_castps_pd(a[i + 2]), a3 = _mm512_castps_pd(a[i + 3]);
        b[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
        b[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
        b[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
        b[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
    }
    /* b[4q + s], 128-bit block j: column 4j + s of rows 4q .. 4q + 3 */
    for (s = 0; s < 4; s++) {
        VF lo0 = _mm512_shuffle_f32x4(b[s], b[4 + s], 0x44);
        VF hi0 = _mm512_shuffle_f32x4(b[s], b[4 + s], 0xEE);
        VF lo1 = _mm512_shuffle_f32x4(b[8 + s], b[12 + s], 0x44);
        VF hi1 = _mm512_shuffle_f32x4(b[8 + s], b[12 + s], 0xEE);
        v[s] = _mm512_shuffle_f32x4(lo0, lo1, 0x88);
        v[4 + s] = _mm512_shuffle_f32x4(lo0, lo1, 0xDD);
        v[8 + s] = _mm512_shuffle_f32x4(hi0, hi1, 0x88);
        v[12 + s] = _mm512_shuffle_f32x4(hi0, hi1, 0xDD);
    }
}

/* 16 class indices (int64) as 32-bit lanes; lanes past n are 0. */
static inline __m512i SKX_FN(load_classes)(const ptrdiff_t *y, ptrdiff_t n)
{
    const __mmask16 rows = vf_lanes(n);
    __m256i lo = _mm512_cvtepi64_epi32(_mm512_maskz_loadu_epi64((__mmask8)rows, y));
    __m256i hi = n > 8 ? _mm512_cvtepi64_epi32(_mm512_maskz_loadu_epi64((__mmask8)(rows >> 8), y + 8))
                       : _mm256_setzero_si256();
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* The weights sw_i cw_y of the WD rows from i, of which n (<= 0 possible)
   are the chunk's; the others 0. */
static inline VD SKX_FN(few_weights)(const double *sw, const double *cw, const ptrdiff_t *y,
                                     ptrdiff_t i, ptrdiff_t n)
{
    double t[WD];
    ptrdiff_t l;
    if (cw != NULL) {
        for (l = 0; l < WD; l++) {
            t[l] = l < n ? (sw != NULL ? sw[i + l] : 1.0) * cw[y[i + l]] : 0.0;
        }
        return vd_load(t);
    }
    if (sw != NULL) {
        return n > 0 ? _mm512_maskz_loadu_pd(vd_lanes(n < WD ? n : WD), sw + i) : vd_zero();
    }
    return vd_set1(1.0);
}

/* A group's k cache lines (WF floats or WD doubles of k) of scores and
   gradient two chunks ahead, fetched while it is computed (see
   softmax_hard_rows_*); g NULL: no gradient. */
static inline void SKX_FN(few_prefetch)(const char *z, char *g, ptrdiff_t k)
{
    for (ptrdiff_t c = 0; c < k; c++) {
        skx_prefetch_ahead(z, g, (size_t)c * 64);
    }
}

static void SKX_FN(softmax_hard_few_f)(
    const float *z, const ptrdiff_t *y, ptrdiff_t r, ptrdiff_t k, const double *sw,
    const double *cw, float *g, float *loss, int pf)
{
    const __mmask16 row = vf_lanes(k);
    const VD one = vd_set1(1.0);
    const VF onef = vf_set1(1.0f);
    ptrdiff_t i0, c, l;
    int h;
    for (i0 = 0; i0 < r; i0 += WF) {
        const ptrdiff_t n = r - i0 < WF ? r - i0 : WF;   /* rows of this group */
        const __mmask16 rows = vf_lanes(n);
        VF v[16];
        if (pf) {
            SKX_FN(few_prefetch)((const char *)(z + (2 * r + i0) * k),
                                 g != NULL ? (char *)(g + (2 * r + i0) * k) : NULL, k);
        }
        for (l = 0; l < WF; l++) {
            v[l] = l < n ? _mm512_maskz_loadu_ps(row, z + (i0 + l) * k) : vf_zero();
        }
        SKX_FN(transpose16_f)(v);
        const __m512i yv = SKX_FN(load_classes)(y + i0, n);
        VF m = v[0];
        for (c = 1; c < k; c++) {
            m = vf_max(v[c], m);
        }
        /* the exponentials; the score and exponential of each row's class;
           the entries of 1 counted, the others summed */
        VF zy = vf_zero(), ey = vf_zero(), ones = vf_zero();
        VD s_lo = vd_zero(), s_hi = vd_zero();
        for (c = 0; c < k; c++) {
            const __mmask16 at = _mm512_cmpeq_epi32_mask(yv, _mm512_set1_epi32((int)c));
            zy = _mm512_mask_mov_ps(zy, at, v[c]);
            v[c] = SKX_FN(vf_exp_np)(vf_sub(v[c], m));
            ey = _mm512_mask_mov_ps(ey, at, v[c]);
            const __mmask16 is1 = vf_eq(v[c], onef);
            ones = _mm512_mask_add_ps(ones, is1, ones, onef);
            VF below = _mm512_mask_mov_ps(v[c], is1, vf_zero());
            s_lo = vd_add(s_lo, vf_widen_lo(below));
            s_hi = vd_add(s_hi, vf_widen_hi(below));
        }
        /* per row, in double, WD rows at a time (h: first or second half),
           as in softmax_hard_rows_f: the loss, the scale of the row's
           gradient and the gradient of its class */
        VD sc[2], gy[2], lv[2];
        for (h = 0; h < 2; h++) {
            SKX_FN(softmax_hard_terms)(
                vd_add(h ? s_hi : s_lo, vd_sub(h ? vf_widen_hi(ones) : vf_widen_lo(ones), one)),
                SKX_FN(few_weights)(sw, cw, y, i0 + WD * h, n - WD * h),
                h ? vf_widen_hi(m) : vf_widen_lo(m), h ? vf_widen_hi(zy) : vf_widen_lo(zy),
                h ? vf_widen_hi(ey) : vf_widen_lo(ey), &lv[h], &sc[h], &gy[h]);
        }
        _mm512_mask_storeu_ps(loss + i0, rows, vf_from_vd(lv[0], lv[1]));
        if (g == NULL) {
            continue;
        }
        /* the gradient: exponentials times the row's scale, the row's class
           set apart, transposed back */
        const VF scf = vf_from_vd(sc[0], sc[1]), gyf = vf_from_vd(gy[0], gy[1]);
        for (c = 0; c < k; c++) {
            const __mmask16 at = _mm512_cmpeq_epi32_mask(yv, _mm512_set1_epi32((int)c));
            v[c] = _mm512_mask_mov_ps(vf_mul(v[c], scf), at, gyf);
        }
        SKX_FN(transpose16_f)(v);
        for (l = 0; l < n; l++) {
            _mm512_mask_storeu_ps(g + (i0 + l) * k, row, v[l]);
        }
    }
}

/* v[0..7]: 8 rows of 8 doubles in, their 8 columns out. */
static inline void SKX_FN(transpose8_d)(VD *v)
{
    VD a[8], b[8];
    int i;
    for (i = 0; i < 8; i += 2) {   /* pairs of rows, interleaved */
        a[i] = _mm512_unpacklo_pd(v[i], v[i + 1]);
        a[i + 1] = _mm512_unpackhi_pd(v[i], v[i + 1]);
    }
    /* a[2q], a[2q + 1]: the even and odd columns of rows 2q, 2q + 1 */
    for (i = 0; i < 8; i += 4) {
        b[i] = _mm512_shuffle_f64x2(a[i], a[i + 2], 0x88);       /* columns 0, 4 */
        b[i + 1] = _mm512_shuffle_f64x2(a[i], a[i + 2], 0xDD);   /* 2, 6 */
        b[i + 2] = _mm512_shuffle_f64x2(a[i + 1], a[i + 3], 0x88);   /* 1, 5 */
        b[i + 3] = _mm512_shuffle_f64x2(a[i + 1], a[i + 3], 0xDD);   /* 3, 7 */
    }
    v[0] = _mm512_shuffle_f64x2(b[0], b[4], 0x88);
    v[4] = _mm512_shuffle_f64x2(b[0], b[4], 0xDD);
    v[2] = _mm512_shuffle_f64x2(b[1], b[5], 0x88);
    v[6] = _mm512_shuffle_f64x2(b[1], b[5], 0xDD);
    v[1] = _mm512_shuffle_f64x2(b[2], b[6], 0x88);
    v[5] = _mm512_shuffle_f64x2(b[2], b[6], 0xDD);
    v[3] = _mm512_shuffle_f64x2(b[3], b[7], 0x88);
    v[7] = _mm512_shuffle_f64x2(b[3], b[7], 0xDD);
}

static void SKX_FN(softmax_hard_few_d)(
    const double *z, const ptrdiff_t *y, ptrdiff_t r, ptrdiff_t k, const double *sw,
    const double *cw, double *g, double *loss, int pf)
{
    const ptrdiff_t k1 = k < WD ? k : WD, k2 = k - k1;   /* each row's two parts */
    const __mmask8 part1 = vd_lanes(k1), part2 = vd_lanes(k2);
    const VD one = vd_set1(1.0);
    ptrdiff_t i0, c, l;
    for (i0 = 0; i0 < r; i0 += WD) {
        const ptrdiff_t n = r - i0 < WD ? r - i0 : WD;
        const __mmask8 rows = vd_lanes(n);
        VD v[16];
        if (pf) {
            SKX_FN(few_prefetch)((const char *)(z + (2 * r + i0) * k),
                                 g != NULL ? (char *)(g + (2 * r + i0) * k) : NULL, k);
        }
        for (l = 0; l < WD; l++) {
            v[l] = l < n ? _mm512_maskz_loadu_pd(part1, z + (i0 + l) * k) : vd_zero();
            if (k2) {
                v[WD + l] = l < n ? _mm512_maskz_loadu_pd(part2, z + (i0 + l) * k + WD) : vd_zero();
            }
        }
        SKX_FN(transpose8_d)(v);
        if (k2) {
            SKX_FN(transpose8_d)(v + WD);
        }
        const __m512i yv = _mm512_maskz_loadu_epi64(rows, y + i0);
        VD m = v[0];
        for (c = 1; c < k; c++) {
            m = vd_max(v[c], m);
        }
        /* four running sums (classes c mod 4): shorter chains of roundings,
           about the accuracy of the row-by-row kernel's sums */
        VD zy = vd_zero(), ey = vd_zero(), ones = vd_zero();
        VD s[4] = {vd_zero(), vd_zero(), vd_zero(), vd_zero()};
        for (c = 0; c < k; c++) {
            const __mmask8 at = _mm512_cmpeq_epi64_mask(yv, _mm512_set1_epi64(c));
            zy = _mm512_mask_mov_pd(zy, at, v[c]);
            v[c] = SKX_FN(vd_exp_np)(vd_sub(v[c], m));
            ey = _mm512_mask_mov_pd(ey, at, v[c]);
            const __mmask8 is1 = vd_eq(v[c], one);
            ones = _mm512_mask_add_pd(ones, is1, ones, one);
            s[c & 3] = vd_add(s[c & 3], _mm512_mask_mov_pd(v[c], is1, vd_zero()));
        }
        VD lv, sc, gy;
        SKX_FN(softmax_hard_terms)(
            vd_add(vd_add(vd_add(s[0], s[1]), vd_add(s[2], s[3])), vd_sub(ones, one)),
            SKX_FN(few_weights)(sw, cw, y, i0, n), m, zy, ey, &lv, &sc, &gy);
        _mm512_mask_storeu_pd(loss + i0, rows, lv);
        if (g == NULL) {
            continue;
        }
        for (c = 0; c < k; c++) {
            const __mmask8 at = _mm512_cmpeq_epi64_mask(yv, _mm512_set1_epi64(c));
            v[c] = _mm512_mask_mov_pd(vd_mul(v[c], sc), at, gy);
        }
        SKX_FN(transpose8_d)(v);
        if (k2) {
            SKX_FN(transpose8_d)(v + WD);
        }
        for (l = 0; l < n; l++) {
            _mm512_mask_storeu_pd(g + (i0 + l) * k, part1, v[l]);
            if (k2) {
                _mm512_mask_storeu_pd(g + (i0 + l) * k + WD, part2, v[WD + l]);
            }
        }
    }
}
#endif

static void SKX_FN(softmax_hard_d)(
    const double *z, const ptrdiff_t *y, ptrdiff_t r, ptrdiff_t k, const double *sw,
    const double *cw, double *e, double *g, double *loss, int pf)
{
#if SKX_ISA == SKX_ISA_AVX512
    if (k >= 2 && k <= 2 * WD) {
        SKX_FN(softmax_hard_few_d)(z, y, r, k, sw, cw, g, loss, pf);
        return;
    }
#endif
    SKX_FN(softmax_hard_rows_d)(z, y, r, k, sw, cw, e, g, loss, pf);
}

static void SKX_FN(softmax_hard_f)(
    const float *z, const ptrdiff_t *y, ptrdiff_t r, ptrdiff_t k, const double *sw,
    const double *cw, float *e, float *g, float *loss, int pf)
{
#if SKX_ISA == SKX_ISA_AVX512
    if (k >= 2 && k <= WF) {
        SKX_FN(softmax_hard_few_f)(z, y, r, k, sw, cw, g, loss, pf);
        return;
    }
#endif
    SKX_FN(softmax_hard_rows_f)(z, y, r, k, sw, cw, e, g, loss, pf);
}

/* ---------------------------------------------------------------------------
 * Binary cross entropy on logits, over a run of m entries
 *
 * With e = exp(-|z|): log1p(e) (above), sigmoid(|z|) = 1 / (1 + e),
 * sigmoid(-|z|) = e / (1 + e), softplus(+-z) = max(+-z, 0) + log1p(e); with
 * a = wp t', b = wn (1 - t') for the smoothed target t' = ta t + tb:
 *   loss = a softplus(-z) + b softplus(z) (a term of weight 0 is 0, even
 *   where its softplus is inf), gradient = b sigmoid(z) - a sigmoid(-z),
 *   hessian = (a + b) sigmoid(z) sigmoid(-z).
 * wp, wn: the weights of each entry, or NULL for 1.  grad, hess may be NULL.
 * Returns whether every output written is finite (so that the caller need
 * not look again; it is a by-product of values already in registers).
 * ------------------------------------------------------------------------- */

static int SKX_FN(sigmoid_d)(
    const double *z, const double *t, ptrdiff_t m, const double *wp, const double *wn,
    double ta, double tb, double *loss, double *grad, double *hess)
{
    const VD zero = vd_zero(), one = vd_set1(1.0), sign = vd_set1(-0.0);
    (void)sign;
    const VD vta = vd_set1(ta), vtb = vd_set1(tb);
    VD fin = vd_zero();   /* x - x: 0, or NaN once an output is inf or NaN */
    for (ptrdiff_t q = 0; q < m; q += WD) {
        const ptrdiff_t n = m - q < WD ? m - q : WD;
        const int part = n < WD;
        VD zq = part ? vd_load_n(z + q, n) : vd_load(z + q);
        VD tq = part ? vd_load_n(t + q, n) : vd_load(t + q);
        VD e = SKX_FN(vd_exp_np)(vd_or_sign(zq, sign));   /* -|z| */
        VD l1p = SKX_FN(vd_log1p_unit)(e);
        VD inv = vd_div(one, vd_add(one, e));
        VD small = vd_mul(e, inv);
        MD pos = vd_ge(zq, zero);
        VD s_pos = vd_sel(pos, inv, small), s_neg = vd_sel(pos, small, inv);
        VD tt = vd_add(vd_mul(vta, tq), vtb);
        VD a = tt, b = vd_sub(one, tt);
        if (wp != NULL) {
            a = vd_mul(part ? vd_load_n(wp + q, n) : vd_load(wp + q), a);
        }
        if (wn != NULL) {
            b = vd_mul(part ? vd_load_n(wn + q, n) : vd_load(wn + q), b);
        }
        VD sp_neg = vd_add(vd_max(vd_sub(zero, zq), zero), l1p);
        VD sp_pos = vd_add(vd_max(zq, zero), l1p);
        VD lq = vd_add(vd_keep(vd_ne0(a), vd_mul(a, sp_neg)), vd_keep(vd_ne0(b), vd_mul(b, sp_pos)));
        fin = vd_add(fin, vd_sub(lq, lq));
        if (part) {
            vd_store_n(loss + q, lq, n);
        } else {
            vd_store(loss + q, lq);
        }
        if (grad != NULL) {
            VD gq = vd_sub(vd_mul(b, s_pos), vd_mul(a, s_neg));
            fin = vd_add(fin, vd_sub(gq, gq));
            if (part) {
                vd_store_n(grad + q, gq, n);
            } else {
                vd_store(grad + q, gq);
            }
        }
        if (hess != NULL) {
            VD hq = vd_mul(vd_mul(vd_add(a, b), s_pos), s_neg);
            fin = vd_add(fin, vd_sub(hq, hq));
            if (part) {
                vd_store_n(hess + q, hq, n);
            } else {
                vd_store(hess + q, hq);
            }
        }
    }
    return vd_hsum(fin) == 0.0;
}

/* n <= WF weights, rounded to float. */
static inline VF SKX_FN(vf_load_weights)(const double *p, ptrdiff_t n)
{
    const ptrdiff_t n1 = n < WD ? n : WD, n2 = n - n1;
    VD lo = n1 == WD ? vd_load(p) : vd_load_n(p, n1);
    VD hi = n2 == WD ? vd_load(p + WD) : vd_load_n(p + WD, n2);
    (void)hi;   /* plain C: one lane, lo */
    return vf_from_vd(lo, hi);
}

/* Single precision, all in float (weights rounded to float). */
static int SKX_FN(sigmoid_f)(
    const float *z, const float *t, ptrdiff_t m, const double *wp, const double *wn,
    double ta, double tb, float *loss, float *grad, float *hess)
{
    const VF zero = vf_zero(), one = vf_set1(1.0f), sign = vf_set1(-0.0f);
    (void)sign;
    const VF vta = vf_set1((float)ta), vtb = vf_set1((float)tb);
    VF fin = vf_zero();
    for (ptrdiff_t q = 0; q < m; q += WF) {
        const ptrdiff_t n = m - q < WF ? m - q : WF;
        const int part = n < WF;
        VF zq = part ? vf_load_n(z + q, n) : vf_load(z + q);
        VF tq = part ? vf_load_n(t + q, n) : vf_load(t + q);
        VF e = SKX_FN(vf_exp_np)(vf_or_sign(zq, sign));
        VF l1p = SKX_FN(vf_log1p_unit)(e);
        VF inv = vf_div(one, vf_add(one, e));
        VF small = vf_mul(e, inv);
        MF pos = vf_ge(zq, zero);
        VF s_pos = vf_sel(pos, inv, small), s_neg = vf_sel(pos, small, inv);
        VF tt = vf_add(vf_mul(vta, tq), vtb);
        VF a = tt, b = vf_sub(one, tt);
        if (wp != NULL) {
            a = vf_mul(SKX_FN(vf_load_weights)(wp + q, n), a);
        }
        if (wn != NULL) {
            b = vf_mul(SKX_FN(vf_load_weights)(wn + q, n), b);
        }
        VF sp_neg = vf_add(vf_max(vf_sub(zero, zq), zero), l1p);
        VF sp_pos = vf_add(vf_max(zq, zero), l1p);
        VF lq = vf_add(vf_keep(vf_ne0(a), vf_mul(a, sp_neg)), vf_keep(vf_ne0(b), vf_mul(b, sp_pos)));
        fin = vf_add(fin, vf_sub(lq, lq));
        if (part) {
            vf_store_n(loss + q, lq, n);
        } else {
            vf_store(loss + q, lq);
        }
        if (grad != NULL) {
            VF gq = vf_sub(vf_mul(b, s_pos), vf_mul(a, s_neg));
            fin = vf_add(fin, vf_sub(gq, gq));
            if (part) {
                vf_store_n(grad + q, gq, n);
            } else {
                vf_store(grad + q, gq);
            }
        }
        if (hess != NULL) {
            VF hq = vf_mul(vf_mul(vf_add(a, b), s_pos), s_neg);
            fin = vf_add(fin, vf_sub(hq, hq));
            if (part) {
                vf_store_n(hess + q, hq, n);
            } else {
                vf_store(hess + q, hq);
            }
        }
    }
    return vd_hsum(vd_add(vf_widen_lo(fin), vf_widen_hi(fin))) == 0.0;
}

/* ---------------------------------------------------------------------------
 * log_loss's pass: rows of k probabilities checked, the class's gathered
 *
 * Each row must be finite, in [0, 1], and sum to 1 within tol (tol < 0: sums
 * unchecked); its class y must be in 0..k-1.  out[i] = clip(p[i, y[i]]) to
 * [lo, hi] in the input's precision; seen[c] is set for each class met (seen
 * may be NULL).  Returns a count of failures, 0 exactly when every row is
 * good.  The row checks run WD rows at a time (sums in double and the
 * largest |x - 1/2|, then a transpose-and-reduce per group); spare lanes
 * load as 0, neutral to both.  A row's verdict does not depend on its
 * neighbours.
 * ------------------------------------------------------------------------- */

#define SKX_WIDEN_D(v, a, b) do { (a) = (v); (b) = vd_zero(); } while (0)
#if WF > WD
#define SKX_WIDEN_F(v, a, b) do { (a) = vf_widen_lo(v); (b) = vf_widen_hi(v); } while (0)
#else
#define SKX_WIDEN_F(v, a, b) do { (a) = vf_widen_lo(v); (b) = vd_zero(); } while (0)
#endif

/* Two probabilities a row (binary classifiers' predict_proba): the rows are
   pairs of lanes, checked as one run of whole vectors, sums in the input's
   precision (one rounding; log_loss's margin allows for (k + 4) eps).
   Returns whether every entry is in [0, 1] and every pair sums to 1 within
   tol (a NaN anywhere fails: x - x propagates it). */
#if WD >= 2
static inline double SKX_FN(vf_hsum_wide)(VF v)
{
    return vd_hsum(vd_add(vf_widen_lo(v), vf_widen_hi(v)));
}

#define SKX_PAIRS(NAME, T, VT, WT, vt_load, vt_load_n, vt_set1, vt_zero, vt_add, vt_sub, vt_max, \
                  vt_abs, vt_swap_pairs, vt_hmax, vt_sel, vt_lanes, vt_hsum)    \
static int SKX_FN(NAME)(const T *p, ptrdiff_t n, double tol)                   \
{                                                                             \
    const ptrdiff_t size = 2 * n;                                              \
    const VT half = vt_set1(0.5), one = vt_set1(1.0);                          \
    VT dev = vt_zero(), off = vt_zero(), nan = vt_zero(), v, s;                \
    for (ptrdiff_t j = 0; j < size; j += WT) {                                 \
        v = j + WT <= size ? vt_load(p + j) : vt_load_n(p + j, size - j);      \
        if (j + WT > size) {   /* spare lanes: rows of (0.5, 0.5) */           \
            v = vt_add(v, vt_sel(vt_lanes(size - j), vt_zero(), half));        \
        }                                                                     \
        s = vt_add(v, vt_swap_pairs(v));                                       \
        dev = vt_max(vt_abs(vt_sub(v, half)), dev);                            \
        off = vt_max(vt_abs(vt_sub(s, one)), off);                             \
        nan = vt_add(nan, vt_sub(s, s));                                       \
    }                                                                         \
    /* a maximum drops NaN, a sum keeps it */                                 \
    return vt_hmax(dev) <= 0.5 && vt_hmax(off) <= tol && vt_hsum(nan) == 0.0;  \
}
SKX_PAIRS(pairs_ok_d, double, VD, WD, vd_load, vd_load_n, vd_set1, vd_zero, vd_add, vd_sub,
          vd_max, vd_abs, vd_swap_pairs, vd_hmax, vd_sel, vd_lanes, vd_hsum)
SKX_PAIRS(pairs_ok_f, float, VF, WF, vf_load, vf_load_n, vf_set1, vf_zero, vf_add, vf_sub,
          vf_max, vf_abs, vf_swap_pairs, vf_hmax, vf_sel, vf_lanes, SKX_FN(vf_hsum_wide))
#undef SKX_PAIRS
#endif

#define SKX_GATHER_ROWS(NAME, PAIRS, T, VT, WT, vt_load, vt_load_n, WIDEN)     \
static ptrdiff_t SKX_FN(NAME)(                                                  \
    const T *p, const int64_t *y, ptrdiff_t n, ptrdiff_t k, double lo, double hi, \
    double tol, T *out, unsigned char *seen)                                   \
{                                                                             \
    const ptrdiff_t whole = k - k % WT, tail = k - whole;                       \
    const VD one = vd_set1(1.0), zero = vd_zero(), half = vd_set1(0.5);        \
    const VD vtol = vd_set1(tol);                                              \
    const T tlo = (T)lo, thi = (T)hi;                                          \
    VD sum[WD], dev[WD];                                                       \
    ptrdiff_t i, b0, i0, l, c, bad = 0;                                        \
    /* Blocks of rows small enough to stay in cache between the check and the \
       gather. */                                                              \
    const ptrdiff_t B = 1024 / k > WD ? (1024 / k) - (1024 / k) % WD : WD;      \
    for (b0 = 0; b0 < n; b0 += B) {                                            \
        const ptrdiff_t nb = n - b0 < B ? n - b0 : B;                          \
        const T *pb = p + b0 * k;                                              \
        if (SKX_HAVE_PAIRS && k == 2 && tol >= 0.0) {                          \
            bad += !SKX_PAIRS_CALL(PAIRS, pb, nb, tol);                        \
        } else {                                                               \
            for (i0 = 0; i0 < nb; i0 += WD) {                                  \
                const ptrdiff_t nl = nb - i0 < WD ? nb - i0 : WD;              \
                for (l = 0; l < WD; l++) {                                     \
                    const T *pi = pb + (i0 + (l < nl ? l : 0)) * k;            \
                    VD s = zero, d = zero, a, b;                               \
                    VT v;                                                      \
                    for (c = 0; c < k; c += WT) {                              \
                        v = c < whole ? vt_load(pi + c) : vt_load_n(pi + c, tail); \
                        WIDEN(v, a, b);                                        \
                        s = vd_add(s, vd_add(a, b));                           \
                        /* |x - 1/2| <= 1/2: x in [0, 1] (spare lanes are 0) */ \
                        d = vd_max(vd_max(vd_abs(vd_sub(a, half)), vd_abs(vd_sub(b, half))), d); \
                    }                                                         \
                    sum[l] = s;                                                \
                    dev[l] = d;                                                \
                }                                                             \
                VD S = vd_hsum_rows(sum), D = vd_hmax_rows(dev);               \
                /* S finite (S - S == 0: NaN anywhere), entries in [0, 1], sum */ \
                VD ok = vd_keep(vd_eq(vd_sub(S, S), zero), one);               \
                ok = vd_keep(vd_le(D, half), ok);                              \
                if (tol >= 0.0) {                                              \
                    ok = vd_keep(vd_le(vd_abs(vd_sub(S, one)), vtol), ok);     \
                }                                                             \
                bad += nl - (ptrdiff_t)vd_hsum(vd_keep(vd_lanes(nl), ok));     \
            }                                                                 \
        }                                                                     \
        for (i = b0; i < b0 + nb; i++) {                                       \
            const int64_t ci = y[i];                                           \
            if ((uint64_t)ci >= (uint64_t)k) {                                 \
                bad++;                                                         \
                out[i] = tlo;                                                  \
                continue;                                                      \
            }                                                                 \
            if (seen != NULL) {                                                \
                seen[ci] = 1;                                                  \
            }                                                                 \
            const T v = p[i * k + ci];                                         \
            out[i] = v < tlo ? tlo : (v > thi ? thi : v);                      \
        }                                                                     \
    }                                                                         \
    return bad;                                                                \
}

#if WD >= 2
#define SKX_HAVE_PAIRS 1
#define SKX_PAIRS_CALL(NAME, p, n, tol) SKX_FN(NAME)((p), (n), (tol))
#else
#define SKX_HAVE_PAIRS 0
#define SKX_PAIRS_CALL(NAME, p, n, tol) 1
#endif
SKX_GATHER_ROWS(gather_rows_d, pairs_ok_d, double, VD, WD, vd_load, vd_load_n, SKX_WIDEN_D)
SKX_GATHER_ROWS(gather_rows_f, pairs_ok_f, float, VF, WF, vf_load, vf_load_n, SKX_WIDEN_F)
#undef SKX_HAVE_PAIRS
#undef SKX_PAIRS_CALL
#undef SKX_GATHER_ROWS
#undef SKX_WIDEN_D
#undef SKX_WIDEN_F
