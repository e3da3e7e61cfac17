"""Cross-entropy kernels: per-sample loss, gradient and Hessian-vector products.

Layer rules (DESIGN.md): the kernels validate nothing, allocate nothing but
per-thread scratch, and raise nothing.  The Python callers (:mod:`skxent.loss`,
:mod:`skxent.metrics`) guarantee C-contiguous arrays of the right shapes and
dtypes.  Arguments are marked ``# IN`` or ``# OUT``; outputs are filled in place
and the functions return nothing, except the reductions, the checks (a count
of bad rows, the first bad entry) and the sigmoid kernel (whether its outputs
are all finite, a by-product that spares the caller a pass over them).

The softmax and sigmoid kernels are C (skxent/_simd.h): vector code for
AVX-512, AVX2 and SSE2, picked at import by what the CPU has, with their own
vector exp and log.  The loops over rows here hand them chunks of rows.  Every
loop over rows runs on OpenMP threads: the kernels' threads claim a few chunks
at a time from a shared counter (skx_claim in skxent/_omp.h), so that a thread
that starts late does not hold up the others; the checks and reductions take
fixed, contiguous shares.  Per-sample outputs do not depend on the thread count.  Sums over
samples are taken over fixed blocks of ``BLOCK`` rows, and the block partials
are then added in order, so that they are bitwise identical for any number of
threads.

Notation: ``z`` raw scores (logits) of one sample, ``k`` classes, ``t`` target
distribution, ``p = softmax(z)``, ``w`` sample weight, ``cw`` class weights.
"""

from cython.parallel cimport parallel, prange, threadid
from libc.math cimport fabs, isfinite, log
from libc.stdlib cimport calloc, free, malloc

import os

ctypedef fused floating:
    float
    double

cdef extern from "_simd.h" nogil:
    enum:
        SKX_MAX_ROWS
    int SKX_OPENMP
    Py_ssize_t skx_chunk_rows(Py_ssize_t k)
    Py_ssize_t skx_scratch_size(Py_ssize_t k)
    int skx_simd_select(int isa)
    int skx_simd_current()
    int skx_simd_available()
    void skx_softmax_prep_d(
        const double *z, Py_ssize_t r, Py_ssize_t k, double *e, double *m, double *rest, int pf)
    void skx_softmax_prep_f(
        const float *z, Py_ssize_t r, Py_ssize_t k, float *e, double *m, double *rest, int pf)
    void skx_softmax_rows(const double *rest, Py_ssize_t r, double *inv, double *lse1)
    void skx_softmax_hard_d(
        const double *z, const Py_ssize_t *y, Py_ssize_t r, Py_ssize_t k, const double *sw,
        const double *cw, double *e, double *g, double *loss, int pf)
    void skx_softmax_hard_f(
        const float *z, const Py_ssize_t *y, Py_ssize_t r, Py_ssize_t k, const double *sw,
        const double *cw, float *e, float *g, float *loss, int pf)
    int skx_sigmoid_d(
        const double *z, const double *t, Py_ssize_t m, const double *wp, const double *wn,
        double ta, double tb, double *loss, double *grad, double *hess)
    int skx_sigmoid_f(
        const float *z, const float *t, Py_ssize_t m, const double *wp, const double *wn,
        double ta, double tb, float *loss, float *grad, float *hess)
    void skx_map_exp_d(const double *x, double *out, Py_ssize_t n)
    void skx_map_exp_f(const float *x, float *out, Py_ssize_t n)
    void skx_map_log_d(const double *x, double *out, Py_ssize_t n)
    void skx_map_log1p_d(const double *x, double *out, Py_ssize_t n)
    void skx_map_log1p_f(const float *x, float *out, Py_ssize_t n)
    Py_ssize_t skx_gather_rows_d(
        const double *p, const Py_ssize_t *y, Py_ssize_t n, Py_ssize_t k, double lo, double hi,
        double tol, double *out, unsigned char *seen)
    Py_ssize_t skx_gather_rows_f(
        const float *p, const Py_ssize_t *y, Py_ssize_t n, Py_ssize_t k, double lo, double hi,
        double tol, float *out, unsigned char *seen)

cdef extern from "_omp.h" nogil:
    int skx_omp_bind(const char *module, const char **where)
    Py_ssize_t skx_claim(Py_ssize_t *next, Py_ssize_t step)

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int skx_max_threads(void) { return omp_get_max_threads(); }
    static int skx_team_size(void) { return omp_get_num_threads(); }
    #else
    static int skx_max_threads(void) { return 1; }
    static int skx_team_size(void) { return 1; }
    #endif
    """
    int skx_max_threads() nogil
    int skx_team_size() nogil

cdef extern from *:
    """
    /* Float class labels of a chunk to indices: 1 when every one of the n is a
       whole number in [0, top], else 0 (idx is then partly garbage).  Without
       a branch or a float-to-integer instruction per label: for
       0 <= v < 2^52, v + 2^52 rounds v to a whole number in the low bits of
       its representation, and is exact (gives v back) only when v is whole;
       NaN fails every comparison.  float labels are widened to double
       (exactly) first.  SSE2 by hand: gcc does not vectorise it for SSE2. */
    #define SKX_LABELS_TO_INDICES(NAME, T, LOAD2)                               \
    static int NAME(const T *labels, ptrdiff_t n, double top, ptrdiff_t *idx)  \
    {                                                                        \
        const double shift = 4503599627370496.0;   /* 2^52 */                 \
        uint64_t base, bits;                                                 \
        int ok = 1;                                                          \
        ptrdiff_t i = 0;                                                     \
        memcpy(&base, &shift, sizeof base);                                  \
        SKX_LABELS_SSE2(LOAD2)                                               \
        for (; i < n; i++) {                                                 \
            double v = (double)labels[i];                                    \
            double s = v + shift;                                            \
            memcpy(&bits, &s, sizeof bits);                                  \
            ok &= (v >= 0.0) & (v <= top) & (s - shift == v);                \
            idx[i] = (ptrdiff_t)(bits - base);   /* unsigned: wraps, no UB */ \
        }                                                                    \
        return ok;                                                           \
    }
    #if SKX_X86
    #define SKX_LABELS_SSE2(LOAD2)                                              \
        const __m128d vs = _mm_set1_pd(shift), vtop = _mm_set1_pd(top);      \
        const __m128i vb = _mm_set1_epi64x((long long)base);                 \
        __m128d good = _mm_cmpeq_pd(vs, vs);                                 \
        for (; i + 2 <= n; i += 2) {                                         \
            __m128d v = LOAD2(labels + i), sv = _mm_add_pd(v, vs);           \
            good = _mm_and_pd(good, _mm_and_pd(                              \
                _mm_and_pd(_mm_cmpge_pd(v, _mm_setzero_pd()), _mm_cmple_pd(v, vtop)), \
                _mm_cmpeq_pd(_mm_sub_pd(sv, vs), v)));                       \
            _mm_storeu_si128((__m128i *)(idx + i),                           \
                             _mm_sub_epi64(_mm_castpd_si128(sv), vb));       \
        }                                                                    \
        ok = _mm_movemask_pd(good) == 3;
    #define SKX_LOAD2_F(p) _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(p))))
    #else
    #define SKX_LABELS_SSE2(LOAD2)
    #endif
    SKX_LABELS_TO_INDICES(skx_labels_to_indices_d, double, _mm_loadu_pd)
    SKX_LABELS_TO_INDICES(skx_labels_to_indices_f, float, SKX_LOAD2_F)

    /* 1 when every one of the n class indices is in [0, k). */
    static int skx_indices_ok(const ptrdiff_t *y, ptrdiff_t n, ptrdiff_t k)
    {
        int ok = 1;
        for (ptrdiff_t i = 0; i < n; i++) {
            ok &= (size_t)y[i] < (size_t)k;
        }
        return ok;
    }
    """
    bint skx_labels_to_indices_d(const double *labels, Py_ssize_t n, double top,
                                 Py_ssize_t *idx) nogil
    bint skx_labels_to_indices_f(const float *labels, Py_ssize_t n, double top,
                                 Py_ssize_t *idx) nogil
    bint skx_indices_ok(const Py_ssize_t *y, Py_ssize_t n, Py_ssize_t k) nogil

# Rows per block of a deterministic reduction.  A constant, never derived from
# the thread count: that is what makes sums independent of it.
cdef enum:
    BLOCK = 1024
    # Entries per chunk of the sigmoid kernel (its weights are built per chunk).
    SCHUNK = 2048
    # Chunks a thread claims at a time (see skx_claim): 64 KB or more of input
    # (sigmoid); softmax chunks claim up to 32 (a claim's last two chunks
    # fetch no memory ahead), fewer when there are few chunks per thread.
    CLAIM = 8
    SOFTMAX_CLAIM = 32
    # Rows of log_loss's gather a thread claims at a time.
    GATHER_CLAIM = 8192

# Row status codes of the probability kernels (0 = valid row).
cdef enum:
    ST_NONFINITE = 1
    ST_NEGATIVE = 2
    ST_ABOVE_ONE = 3
    ST_SUM = 4

# The instruction sets of skxent/_simd.h, in the order of their codes there.
SIMD_LEVELS = ("none", "sse2", "avx2", "avx512")

skx_simd_select(-1)

# The OpenMP runtime of the parallel regions: its kind (2 scikit-learn's, 1 the
# system's, 0 none) and path.
_openmp = [0, ""]


def openmp_bind(module=None):
    """Run the parallel regions on the OpenMP runtime of the loaded extension
    module at path ``module`` (with gcc on Linux; see skxent/_omp.h), else on
    the system's; return (kind, path of the runtime).  Not thread-safe: at
    import, and in the benchmarks and tests."""
    cdef const char *where = NULL
    cdef bytes path = None if module is None else str(module).encode()
    kind = skx_omp_bind(NULL if path is None else <const char *> path, &where)
    where_str = (<bytes> where).decode(errors="replace")
    _openmp[0] = kind
    _openmp[1] = os.path.realpath(where_str) if where_str else ""
    return kind, _openmp[1]


def _sklearn_openmp_module():
    """Path of a scikit-learn extension module linked with its OpenMP runtime."""
    try:
        from sklearn.utils import _openmp_helpers
    except ImportError:
        return None
    return getattr(_openmp_helpers, "__file__", None)


openmp_bind(_sklearn_openmp_module())


def build_info():
    """Compile-time facts: OpenMP and its runtime, vector instruction set, and the
    current thread cap."""
    level = skx_simd_current()
    return {
        "openmp": bool(SKX_OPENMP),
        "openmp_runtime": ("none", "system", "scikit-learn")[_openmp[0]] if SKX_OPENMP else "none",
        "openmp_library": _openmp[1],
        "vector_exp": level > 0,
        "simd": SIMD_LEVELS[level],
        "max_threads": skx_max_threads(),
    }


def max_threads():
    """``omp_get_max_threads()``: honours OMP_NUM_THREADS and threadpoolctl."""
    return skx_max_threads()


def simd_levels():
    """The instruction sets this CPU can run, narrowest first (for the tests)."""
    return SIMD_LEVELS[: skx_simd_available() + 1]


def simd_select(level):
    """Use the kernels of instruction set ``level`` (None: the widest); return the
    previous one.  For the tests: not thread-safe, process-wide."""
    previous = SIMD_LEVELS[skx_simd_current()]
    code = skx_simd_available() if level is None else SIMD_LEVELS.index(level)
    if skx_simd_select(code) < 0:
        raise ValueError(f"this CPU cannot run the {level} kernels")
    return previous


def simd_map(str name, floating[::1] x, floating[::1] out):
    """``out = f(x)`` with the vector functions of the current instruction set:
    ``exp`` (x <= 0), ``log`` (double, x >= 1), ``log1p`` (0 <= x <= 1)."""
    cdef Py_ssize_t n = x.shape[0]
    if n == 0:
        return
    if name == "exp":
        if floating is double:
            skx_map_exp_d(&x[0], &out[0], n)
        else:
            skx_map_exp_f(&x[0], &out[0], n)
    elif name == "log1p":
        if floating is double:
            skx_map_log1p_d(&x[0], &out[0], n)
        else:
            skx_map_log1p_f(&x[0], &out[0], n)
    elif name == "log":
        if floating is double:
            skx_map_log_d(&x[0], &out[0], n)
        else:
            raise ValueError("log is double only")
    else:
        raise ValueError(name)


cdef inline Py_ssize_t _share(Py_ssize_t n_chunks, int tid, int n_threads) noexcept nogil:
    """First chunk of thread ``tid``'s contiguous share of ``n_chunks``."""
    return (n_chunks * tid) // n_threads


# ---------------------------------------------------------------------------
# Softmax: chunks of rows
# ---------------------------------------------------------------------------

cdef inline void _prep(
    const floating *z, Py_ssize_t r, Py_ssize_t k, floating *e, double *m, double *rest, int pf
) noexcept nogil:
    if floating is double:
        skx_softmax_prep_d(z, r, k, e, m, rest, pf)
    else:
        skx_softmax_prep_f(z, r, k, e, m, rest, pf)


cdef void _softmax_chunk(
    const floating *z,      # IN (r, k) raw scores of r consecutive rows
    const Py_ssize_t *y,    # IN (r,) class indices, or NULL when `t` is given
    const floating *t,      # IN (r, k) target distributions, or NULL
    Py_ssize_t r,
    Py_ssize_t k,
    const double *sw,       # IN (r,) sample weights, or NULL
    const double *cw,       # IN (k,) class weights, or NULL
    double smoothing,       # IN label smoothing epsilon
    floating *e,            # scratch, skx_scratch_size(k) entries
    floating *g,            # OUT (r, k) gradient, or NULL
    floating *loss_out,     # OUT (r,)
    int pf,                 # IN whether the chunk after next is this caller's (prefetch)
) noexcept nogil:
    """Softmax cross entropy and its gradient for a chunk of r rows.

    With t_c the (smoothed) target and cw_c the class weights,
    loss = sum_c cw_c t_c (lse(z) - z_c) and, writing S = sum_c cw_c t_c,
    d loss / d z_c = S p_c - cw_c t_c, both times the sample weight.

    Log-sum-exp subtracts the row maximum (no overflow) and splits the sum of
    exponentials as 1 + rest (the maximum's exp(0) = 1 and the others), so
    that lse(z) = max(z) + log1p(rest) keeps full relative precision when one
    class dominates (log(1 + rest) would round rest away: for z = (10, -10)
    the loss is 2.06e-9 and log(1 + rest) gets 7 digits of it).  Each term
    (max - z_c) + log1p(rest) is >= 0, so the loss has no cancellation.

    Hard labels without smoothing (the common case) are all C; the other
    targets take the exponentials and per-row quantities from C and loop here.
    """
    cdef double m[SKX_MAX_ROWS + 8]
    cdef double rest[SKX_MAX_ROWS + 8]
    cdef double inv[SKX_MAX_ROWS + 8]
    cdef double lse1[SKX_MAX_ROWS + 8]
    cdef Py_ssize_t i, c, yi
    cdef const floating *zi
    cdef const floating *ei
    cdef floating *gi
    cdef double tc, wc, wi, loss, S
    cdef double a = 1.0 - smoothing, b = smoothing / k

    if t == NULL and smoothing == 0.0:
        if floating is double:
            skx_softmax_hard_d(z, y, r, k, sw, cw, e, g, loss_out, pf)
        else:
            skx_softmax_hard_f(z, y, r, k, sw, cw, e, g, loss_out, pf)
        return

    _prep(z, r, k, e, m, rest, pf)
    skx_softmax_rows(rest, r, inv, lse1)
    for i in range(r):
        zi = z + i * k
        ei = e + i * k
        wi = sw[i] if sw != NULL else 1.0
        yi = -1 if t != NULL else y[i]
        loss = 0.0
        S = 0.0
        for c in range(k):
            tc = (a * t[i * k + c] + b) if t != NULL else (b + (a if c == yi else 0.0))
            wc = cw[c] if cw != NULL else 1.0
            if tc != 0.0:
                loss = loss + wc * tc * ((m[i] - zi[c]) + lse1[i])
            S = S + wc * tc
        loss_out[i] = <floating> (wi * loss)
        if g != NULL:
            gi = g + i * k
            for c in range(k):
                tc = (a * t[i * k + c] + b) if t != NULL else (b + (a if c == yi else 0.0))
                wc = cw[c] if cw != NULL else 1.0
                gi[c] = <floating> (wi * (S * (ei[c] * inv[i]) - wc * tc))


cdef void _softmax_hessp_chunk(
    const floating *z,      # IN (r, k) raw scores of r consecutive rows
    const Py_ssize_t *y,    # IN (r,) class indices, or NULL when `t` is given
    const floating *t,      # IN (r, k) targets, or NULL
    Py_ssize_t r,
    Py_ssize_t k,
    const double *sw,       # IN (r,) or NULL
    const double *cw,       # IN (k,) or NULL
    double smoothing,
    const floating *v,      # IN (r, k) directions
    floating *e,            # scratch, skx_scratch_size(k) entries
    floating *hv,           # OUT (r, k)
    int pf,                 # IN whether the chunk after next is this caller's (prefetch)
) noexcept nogil:
    """(H v)_c = w S (p_c v_c - p_c (p . v)), H = w S (diag(p) - p p^T), for a chunk.

    S = sum_c cw_c t_c is the total target mass (1 without class weights).
    """
    cdef double m[SKX_MAX_ROWS + 8]
    cdef double rest[SKX_MAX_ROWS + 8]
    cdef Py_ssize_t i, c
    cdef floating *hi
    cdef const floating *ei
    cdef const floating *vi
    cdef double inv, tc, S, pv, ws
    cdef double a = 1.0 - smoothing, b = smoothing / k
    _prep(z, r, k, e, m, rest, pf)
    for i in range(r):
        hi = hv + i * k
        ei = e + i * k
        vi = v + i * k
        inv = 1.0 / (1.0 + rest[i])
        S = 0.0
        if cw == NULL and t == NULL:
            S = 1.0
        else:
            for c in range(k):
                if t == NULL:
                    tc = b + (a if c == y[i] else 0.0)
                else:
                    tc = a * t[i * k + c] + b
                S = S + (cw[c] if cw != NULL else 1.0) * tc
        pv = 0.0
        for c in range(k):
            pv = pv + (ei[c] * inv) * vi[c]
        ws = (sw[i] if sw != NULL else 1.0) * S
        for c in range(k):
            hi[c] = <floating> (ws * (ei[c] * inv) * (vi[c] - pv))


cdef Py_ssize_t _chunk_labels(
    const Py_ssize_t *y, const floating *labels, Py_ssize_t r, Py_ssize_t k, Py_ssize_t *idx
) noexcept nogil:
    """Check a chunk's r class indices (``y``), or convert its float ``labels``
    into ``idx``; return the first bad row of the chunk, or -1.

    A label is bad unless it is a whole number in [0, k) (NaN fails every
    comparison).  The kernels index rows with them: checked here, per chunk,
    they cost no pass over y and no array of their own.
    """
    cdef Py_ssize_t i
    cdef double top = <double> (k - 1)
    cdef bint ok
    if labels != NULL:
        if floating is double:
            ok = skx_labels_to_indices_d(labels, r, top, idx)
        else:
            ok = skx_labels_to_indices_f(labels, r, top, idx)
        # A bad label: class_indices' scalar test finds the first.
        return -1 if ok else _first_bad_index(labels, r, k, idx)
    if skx_indices_ok(y, r, k):
        return -1
    for i in range(r):
        if not (y[i] >= 0 and y[i] < k):
            return i
    return -1   # not reached


cdef Py_ssize_t _softmax_range(
    const floating *raw, const Py_ssize_t *y, const floating *labels, const floating *target,
    Py_ssize_t n, Py_ssize_t k, const double *sw, const double *cw, double smoothing,
    const floating *vector, floating *grad, floating *loss, floating *hessp,
    Py_ssize_t c0, Py_ssize_t c1, floating *e,
) noexcept nogil:
    """Chunks c0..c1-1: loss and gradient, or (``vector`` given) H v into ``hessp``.

    Hard labels come as checked class indices ``y`` or as float ``labels``
    (or neither, with ``target``).  Returns the first row with a bad label,
    or -1; a chunk with one is skipped.
    """
    cdef Py_ssize_t R = skx_chunk_rows(k), ch, i0, r, bad
    cdef Py_ssize_t idx[SKX_MAX_ROWS]
    cdef const Py_ssize_t *yc
    cdef int pf
    for ch in range(c0, c1):
        i0 = ch * R
        r = min(R, n - i0)
        yc = NULL
        if y != NULL or labels != NULL:
            bad = _chunk_labels(
                y + i0 if y != NULL else NULL,
                labels + i0 if labels != NULL else NULL, r, k, idx,
            )
            if bad >= 0:
                return i0 + bad
            yc = &idx[0] if labels != NULL else y + i0
        # Memory two chunks ahead is fetched while this one is computed, when
        # those rows are this range's: a thread fetching (for writing) the
        # rows another thread claimed would move their cache lines between
        # the cores twice (two threads ran 1.5-1.7x one's speed, 1.8-1.9x now).
        pf = ch + 2 < c1
        if vector != NULL:
            _softmax_hessp_chunk(
                raw + i0 * k,
                yc,
                target + i0 * k if target != NULL else NULL,
                r, k,
                sw + i0 if sw != NULL else NULL,
                cw, smoothing, vector + i0 * k, e, hessp + i0 * k, pf,
            )
        else:
            _softmax_chunk(
                raw + i0 * k,
                yc,
                target + i0 * k if target != NULL else NULL,
                r, k,
                sw + i0 if sw != NULL else NULL,
                cw, smoothing, e,
                grad + i0 * k if grad != NULL else NULL,
                loss + i0, pf,
            )
    return -1


cdef Py_ssize_t _softmax_run(
    const floating *raw, const Py_ssize_t *y, const floating *labels, const floating *target,
    Py_ssize_t n, Py_ssize_t k, const double *sw, const double *cw, double smoothing,
    const floating *vector, floating *grad, floating *loss, floating *hessp, int n_threads,
) noexcept nogil:
    """All chunks, on ``n_threads`` threads, each with its own scratch.

    Returns the first row with a bad label (see _softmax_range), -1 when there
    is none, or -2 when memory for the scratch cannot be allocated; in both
    failures the outputs are incomplete.
    """
    cdef Py_ssize_t n_chunks = (n + skx_chunk_rows(k) - 1) // skx_chunk_rows(k)
    cdef Py_ssize_t size = skx_scratch_size(k), c0, c1, bad, mine, first = -1
    # Claims never change a result (each row is computed alone), only speed.
    cdef Py_ssize_t per_thread = n_chunks // (8 * max(n_threads, 1))
    cdef Py_ssize_t claim = max(1, min(<Py_ssize_t> SOFTMAX_CLAIM, per_thread))
    cdef floating *e
    cdef int t
    # Shared (an element write is not made thread-private, a variable is): a
    # flag, the next chunk to claim and each thread's first bad label.
    cdef int failed[1]
    cdef Py_ssize_t next_chunk[1]
    cdef Py_ssize_t *found
    failed[0] = 0
    next_chunk[0] = 0
    if n_threads <= 1 or n_chunks == 1:
        e = <floating *> calloc(size, sizeof(floating))
        if e == NULL:
            return -2
        first = _softmax_range(raw, y, labels, target, n, k, sw, cw, smoothing, vector, grad,
                               loss, hessp, 0, n_chunks, e)
        free(e)
        return first
    found = <Py_ssize_t *> malloc(n_threads * sizeof(Py_ssize_t))
    if found == NULL:
        return -2
    for t in range(n_threads):
        found[t] = -1
    with parallel(num_threads=n_threads):
        mine = -1
        # Zeroed: the padding past a chunk's last row goes through exp too.
        e = <floating *> calloc(size, sizeof(floating))
        if e == NULL:
            failed[0] = 1
        else:
            while True:
                c0 = skx_claim(&next_chunk[0], claim)
                if c0 >= n_chunks:
                    break
                c1 = min(c0 + claim, n_chunks)
                bad = _softmax_range(raw, y, labels, target, n, k, sw, cw, smoothing, vector,
                                     grad, loss, hessp, c0, c1, e)
                if bad >= 0 and (mine < 0 or bad < mine):
                    mine = bad
            free(e)
        found[threadid()] = mine
    for t in range(n_threads):
        if found[t] >= 0 and (first < 0 or found[t] < first):
            first = found[t]
    free(found)
    return -2 if failed[0] else first


# ---------------------------------------------------------------------------
# Sigmoid: runs of entries
# ---------------------------------------------------------------------------

cdef int _sigmoid_range(
    const floating *z, const floating *t, Py_ssize_t size, Py_ssize_t L,
    const double *sw, const double *pw, const double *nw, double smoothing,
    floating *lo, floating *gr, floating *he, Py_ssize_t c0, Py_ssize_t c1,
) noexcept nogil:
    """Chunks c0..c1-1 of SCHUNK entries of the flat (n, L) arrays; returns
    whether every output written is finite.

    The weights of each entry (sample weight times the output's positive or
    negative weight) are built per chunk, unless they are just the sample
    weights of one output a row (or none), which the kernel reads in place.
    """
    cdef double wp[SCHUNK]
    cdef double wn[SCHUNK]
    cdef Py_ssize_t ch, q0, m, q, i, j
    cdef double w, ta = 1.0 - smoothing, tb = 0.5 * smoothing
    cdef bint direct = pw == NULL and nw == NULL and (sw == NULL or L == 1)
    cdef const double *wpp
    cdef const double *wnp
    cdef int finite = 1
    for ch in range(c0, c1):
        q0 = ch * SCHUNK
        m = min(SCHUNK, size - q0)
        if direct:
            wpp = sw + q0 if sw != NULL else NULL
            wnp = wpp
        else:
            i = q0 // L
            j = q0 % L
            for q in range(m):
                w = sw[i] if sw != NULL else 1.0
                wp[q] = w * (pw[j] if pw != NULL else 1.0)
                wn[q] = w * (nw[j] if nw != NULL else 1.0)
                j = j + 1
                if j == L:
                    j = 0
                    i = i + 1
            wpp = wp
            wnp = wn
        if floating is double:
            finite &= skx_sigmoid_d(
                z + q0, t + q0, m, wpp, wnp, ta, tb, lo + q0,
                gr + q0 if gr != NULL else NULL, he + q0 if he != NULL else NULL)
        else:
            finite &= skx_sigmoid_f(
                z + q0, t + q0, m, wpp, wnp, ta, tb, lo + q0,
                gr + q0 if gr != NULL else NULL, he + q0 if he != NULL else NULL)
    return finite


# ---------------------------------------------------------------------------
# Arrays: loss, gradient, Hessian-vector products (skxent.loss)
# ---------------------------------------------------------------------------

def softmax_loss_gradient(
    const floating[:, ::1] raw,          # IN (n, k)
    const Py_ssize_t[::1] y,             # IN (n,) class indices, or empty
    const floating[::1] labels,          # IN (n,) float class labels, or empty
    const floating[:, ::1] target,       # IN (n, k) targets, or (0, k)
    const double[::1] sample_weight,     # IN (n,) or empty
    const double[::1] class_weight,      # IN (k,) or empty
    double label_smoothing,
    floating[::1] loss_out,              # OUT (n,)
    floating[:, ::1] gradient_out,       # OUT (n, k), or (0, k) for no gradient
    int n_threads,
):
    """Per-sample softmax cross entropy and its gradient w.r.t. ``raw``.

    Returns the first row whose label (``y`` or ``labels``) is not a class
    index in [0, k), or -1; the outputs are incomplete when there is one.
    """
    cdef Py_ssize_t n = raw.shape[0], k = raw.shape[1]
    cdef bint has_t = target.shape[0] > 0
    cdef Py_ssize_t status
    if n == 0:
        return -1
    with nogil:
        status = _softmax_run(
            &raw[0, 0],
            &y[0] if y.shape[0] > 0 else NULL,
            &labels[0] if labels.shape[0] > 0 else NULL,
            &target[0, 0] if has_t else NULL,
            n, k,
            &sample_weight[0] if sample_weight.shape[0] > 0 else NULL,
            &class_weight[0] if class_weight.shape[0] > 0 else NULL,
            label_smoothing, NULL,
            &gradient_out[0, 0] if gradient_out.shape[0] > 0 else NULL,
            &loss_out[0], NULL, n_threads,
        )
    if status == -2:
        raise MemoryError(f"no memory for a scratch chunk of {skx_scratch_size(k)} scores")
    return status


def softmax_hessp(
    const floating[:, ::1] raw,          # IN (n, k)
    const Py_ssize_t[::1] y,             # IN (n,) or empty
    const floating[::1] labels,          # IN (n,) float class labels, or empty
    const floating[:, ::1] target,       # IN (n, k) or (0, k)
    const double[::1] sample_weight,     # IN (n,) or empty
    const double[::1] class_weight,      # IN (k,) or empty
    double label_smoothing,
    const floating[:, ::1] vector,       # IN (n, k)
    floating[:, ::1] hessp_out,          # OUT (n, k)
    int n_threads,
):
    """Row-wise Hessian-vector products of the softmax cross entropy; returns
    the first row with a bad label, or -1 (as softmax_loss_gradient)."""
    cdef Py_ssize_t n = raw.shape[0], k = raw.shape[1]
    cdef bint has_t = target.shape[0] > 0
    cdef Py_ssize_t status
    if n == 0:
        return -1
    with nogil:
        status = _softmax_run(
            &raw[0, 0],
            &y[0] if y.shape[0] > 0 else NULL,
            &labels[0] if labels.shape[0] > 0 else NULL,
            &target[0, 0] if has_t else NULL,
            n, k,
            &sample_weight[0] if sample_weight.shape[0] > 0 else NULL,
            &class_weight[0] if class_weight.shape[0] > 0 else NULL,
            label_smoothing, &vector[0, 0], NULL, NULL, &hessp_out[0, 0], n_threads,
        )
    if status == -2:
        raise MemoryError(f"no memory for a scratch chunk of {skx_scratch_size(k)} scores")
    return status


def sigmoid_loss_gradient(
    const floating[:, ::1] raw,          # IN (n, L)
    const floating[:, ::1] target,       # IN (n, L) targets in [0, 1]
    const double[::1] sample_weight,     # IN (n,) or empty
    const double[::1] pos_weight,        # IN (L,) or empty
    const double[::1] neg_weight,        # IN (L,) or empty
    double label_smoothing,
    floating[:, ::1] loss_out,           # OUT (n, L) element-wise losses
    floating[:, ::1] gradient_out,       # OUT (n, L), or (0, L)
    floating[:, ::1] hessian_out,        # OUT (n, L) diagonal Hessian, or (0, L)
    int n_threads,
):
    """Element-wise binary cross entropy of sigmoid(raw), gradient and Hessian.

    Smoothing moves each target to (1 - eps) t + eps / 2.  The (n, L) arrays
    are walked as flat runs of SCHUNK entries, whatever L is.  Returns whether
    every output written is finite.
    """
    cdef Py_ssize_t n = raw.shape[0], L = raw.shape[1]
    cdef Py_ssize_t size = n * L, n_chunks = (size + SCHUNK - 1) // SCHUNK
    cdef const floating *z
    cdef const floating *t
    cdef floating *lo
    cdef floating *gr
    cdef floating *he
    cdef const double *sw
    cdef const double *pw
    cdef const double *nw
    cdef Py_ssize_t c0, c1
    # Shared (an element write is not made thread-private, a variable is).
    cdef int nonfinite[1]
    cdef Py_ssize_t next_chunk[1]
    nonfinite[0] = 0
    next_chunk[0] = 0
    if size == 0:
        return True
    z = &raw[0, 0]
    t = &target[0, 0]
    lo = &loss_out[0, 0]
    gr = &gradient_out[0, 0] if gradient_out.shape[0] > 0 else NULL
    he = &hessian_out[0, 0] if hessian_out.shape[0] > 0 else NULL
    sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    pw = &pos_weight[0] if pos_weight.shape[0] > 0 else NULL
    nw = &neg_weight[0] if neg_weight.shape[0] > 0 else NULL
    if n_threads <= 1 or n_chunks == 1:
        with nogil:
            if not _sigmoid_range(z, t, size, L, sw, pw, nw, label_smoothing, lo, gr, he,
                                  0, n_chunks):
                nonfinite[0] = 1
        return not nonfinite[0]
    with nogil, parallel(num_threads=n_threads):
        while True:
            c0 = skx_claim(&next_chunk[0], CLAIM)
            if c0 >= n_chunks:
                break
            c1 = min(c0 + CLAIM, n_chunks)
            if not _sigmoid_range(z, t, size, L, sw, pw, nw, label_smoothing, lo, gr, he,
                                  c0, c1):
                nonfinite[0] = 1
    return not nonfinite[0]


# ---------------------------------------------------------------------------
# Metrics on probabilities: validation fused with the computation
# ---------------------------------------------------------------------------

cdef inline signed char _check_row(
    const floating *q, Py_ssize_t k, double tol
) noexcept nogil:
    """Status of one row of probabilities: finite, in [0, 1], sums to 1 +- tol.

    The common case costs one pass without branches: four independent partial
    sums (an add's latency, not its throughput, bounds a single running sum)
    and a running min and max.  A NaN or an infinity anywhere makes the sum
    non-finite; only then is the row examined entry by entry.
    """
    cdef Py_ssize_t c = 0
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, v, s
    cdef double lo = q[0], hi = q[0]
    while c + 4 <= k:
        s0 = s0 + q[c]
        s1 = s1 + q[c + 1]
        s2 = s2 + q[c + 2]
        s3 = s3 + q[c + 3]
        c = c + 4
    while c < k:
        s0 = s0 + q[c]
        c = c + 1
    for c in range(k):
        v = q[c]
        lo = v if v < lo else lo
        hi = v if v > hi else hi
    s = (s0 + s1) + (s2 + s3)
    if not isfinite(s):
        for c in range(k):
            if not isfinite(q[c]):
                return ST_NONFINITE
    if lo < 0.0:
        return ST_NEGATIVE
    if hi > 1.0:
        return ST_ABOVE_ONE
    if tol >= 0.0 and fabs(s - 1.0) > tol:
        return ST_SUM
    return 0


cdef inline floating _clip(floating v, floating lo, floating hi) noexcept nogil:
    if v < lo:
        return lo
    if v > hi:
        return hi
    return v


cdef Py_ssize_t _gather_binary(
    const floating *p, const Py_ssize_t *y, Py_ssize_t n, floating lo, floating hi,
    floating *out, unsigned char *seen,
) noexcept nogil:
    """gather_binary over one run; returns its number of bad entries."""
    cdef Py_ssize_t i, bad = 0, yi
    cdef floating v, q
    for i in range(n):
        v = p[i]
        yi = y[i]
        bad = bad + (not (v >= 0 and v <= 1)) + (yi != 0 and yi != 1)
        if yi == 0 or yi == 1:
            seen[yi] = 1
        q = v if yi == 1 else <floating> (<floating> 1.0 - v)
        out[i] = lo if q < lo else (hi if q > hi else q)
    return bad


def gather_proba(
    const floating[:, ::1] proba,        # IN (n, k)
    const Py_ssize_t[::1] y,             # IN (n,) class indices (checked: 0..k-1)
    double clip,
    double tol,
    floating[::1] out,                   # OUT (n,) clip(proba[i, y[i]])
    unsigned char[::1] seen,             # OUT (k,) which classes occur
    int n_threads,
):
    """One pass for ``log_loss``: check every row and gather its clipped entry.

    A row is bad unless it is finite, in [0, 1], sums to 1 within ``tol``
    (``tol < 0`` skips the sums), and its class is in 0..k-1.  Clipping is
    done in the input's dtype, to [clip, 1 - clip], exactly as scikit-learn
    does before taking the log.  Returns the number of bad rows.
    """
    cdef Py_ssize_t n = proba.shape[0], k = proba.shape[1], bad = 0, c0, c1, c
    cdef int tid, t
    cdef floating lo = <floating> clip
    cdef double hi = <double> (<floating> 1.0 - lo)
    cdef unsigned char *seen_t
    cdef Py_ssize_t *bad_t
    cdef Py_ssize_t next_row[1]
    next_row[0] = 0
    if n == 0:
        return 0
    if n_threads <= 1 or n < 4 * BLOCK:
        with nogil:
            if floating is double:
                bad = skx_gather_rows_d(&proba[0, 0], &y[0], n, k, lo, hi, tol, &out[0], &seen[0])
            else:
                bad = skx_gather_rows_f(&proba[0, 0], &y[0], n, k, lo, hi, tol, &out[0], &seen[0])
        return bad
    seen_t = <unsigned char *> calloc(n_threads * k, 1)
    bad_t = <Py_ssize_t *> calloc(n_threads, sizeof(Py_ssize_t))
    if seen_t == NULL or bad_t == NULL:
        free(seen_t)
        free(bad_t)
        raise MemoryError()
    with nogil, parallel(num_threads=n_threads):
        tid = threadid()
        while True:
            c0 = skx_claim(&next_row[0], GATHER_CLAIM)
            if c0 >= n:
                break
            c1 = min(c0 + GATHER_CLAIM, n)
            if floating is double:
                bad_t[tid] += skx_gather_rows_d(&proba[0, 0] + c0 * k, &y[0] + c0, c1 - c0, k,
                                                lo, hi, tol, &out[0] + c0, seen_t + tid * k)
            else:
                bad_t[tid] += skx_gather_rows_f(&proba[0, 0] + c0 * k, &y[0] + c0, c1 - c0, k,
                                                lo, hi, tol, &out[0] + c0, seen_t + tid * k)
    for t in range(n_threads):
        bad += bad_t[t]
        for c in range(k):
            seen[c] |= seen_t[t * k + c]
    free(seen_t)
    free(bad_t)
    return bad


def gather_binary(
    const floating[::1] proba,           # IN (n,) positive-class probabilities
    const Py_ssize_t[::1] y,             # IN (n,) 0 or 1 (checked)
    double clip,
    floating[::1] out,                   # OUT (n,) clip(p) or clip(1 - p)
    unsigned char[::1] seen,             # OUT (2,) which classes occur
    int n_threads,
):
    """``gather_proba`` for 1-D positive-class probabilities (column [1 - p, p]);
    an entry is bad unless p is in [0, 1] and its class 0 or 1."""
    cdef Py_ssize_t n = proba.shape[0], bad = 0, c0, c1
    cdef int tid, t
    cdef floating lo = <floating> clip
    cdef floating hi = <floating> 1.0 - lo
    cdef unsigned char *seen_t
    cdef Py_ssize_t *bad_t
    cdef Py_ssize_t next_row[1]
    next_row[0] = 0
    if n == 0:
        return 0
    if n_threads <= 1 or n < 4 * BLOCK:
        with nogil:
            bad = _gather_binary(&proba[0], &y[0], n, lo, hi, &out[0], &seen[0])
        return bad
    seen_t = <unsigned char *> calloc(n_threads * 2, 1)
    bad_t = <Py_ssize_t *> calloc(n_threads, sizeof(Py_ssize_t))
    if seen_t == NULL or bad_t == NULL:
        free(seen_t)
        free(bad_t)
        raise MemoryError()
    with nogil, parallel(num_threads=n_threads):
        tid = threadid()
        while True:
            c0 = skx_claim(&next_row[0], GATHER_CLAIM)
            if c0 >= n:
                break
            c1 = min(c0 + GATHER_CLAIM, n)
            bad_t[tid] += _gather_binary(&proba[0] + c0, &y[0] + c0, c1 - c0, lo, hi,
                                         &out[0] + c0, seen_t + 2 * tid)
    for t in range(n_threads):
        bad += bad_t[t]
        seen[0] |= seen_t[2 * t]
        seen[1] |= seen_t[2 * t + 1]
    free(seen_t)
    free(bad_t)
    return bad


def xent_proba(
    const floating[:, ::1] proba,        # IN (n, k)
    const Py_ssize_t[::1] y,             # IN (n,) class indices, or empty
    const floating[:, ::1] target,       # IN (n, k) targets, or (0, k)
    const double[::1] class_weight,      # IN (k,) or empty
    double label_smoothing,
    double clip,
    double tol,
    double[::1] loss_out,                # OUT (n,) in nats
    signed char[::1] status_out,         # OUT (n,)
    int n_threads,
):
    """Per-sample -sum_c cw_c t_c log(clip(q_c)), with each row checked.

    Terms with t_c = 0 are 0 (the convention 0 log 0 = 0), so that an
    impossible class predicted impossible costs nothing even unclipped.
    """
    cdef Py_ssize_t n = proba.shape[0], k = proba.shape[1], i, c, yi
    cdef bint has_t = target.shape[0] > 0
    cdef const double *cw = &class_weight[0] if class_weight.shape[0] > 0 else NULL
    cdef double a = 1.0 - label_smoothing, b = label_smoothing / k
    cdef double loss, tc
    cdef floating lo = <floating> clip
    cdef floating hi = <floating> 1.0 - lo
    for i in prange(n, nogil=True, schedule="static", num_threads=n_threads):
        status_out[i] = _check_row(&proba[i, 0], k, tol)
        loss = 0.0
        if not has_t and label_smoothing == 0.0:
            yi = y[i]
            # A class weight of 0 makes the term 0, even against log(0).
            if cw == NULL or cw[yi] != 0.0:
                loss = -log(<double> _clip(proba[i, yi], lo, hi))
                if cw != NULL:
                    loss = loss * cw[yi]
        else:
            for c in range(k):
                if has_t:
                    tc = a * target[i, c] + b
                else:
                    tc = b + (a if c == y[i] else 0.0)
                if tc != 0.0 and (cw == NULL or cw[c] != 0.0):
                    loss = loss - (cw[c] if cw != NULL else 1.0) * tc * log(
                        <double> _clip(proba[i, c], lo, hi)
                    )
        loss_out[i] = loss


def check_rows(
    const floating[:, ::1] proba,        # IN (n, k)
    double tol,
    signed char[::1] status_out,         # OUT (n,)
    int n_threads,
):
    """Row status only (targets, distributions)."""
    cdef Py_ssize_t n = proba.shape[0], k = proba.shape[1], i
    for i in prange(n, nogil=True, schedule="static", num_threads=n_threads):
        status_out[i] = _check_row(&proba[i, 0], k, tol)


# ---------------------------------------------------------------------------
# Deterministic reductions
# ---------------------------------------------------------------------------

def block_sum(
    const floating[::1] x,               # IN (n,)
    const double[::1] weight,            # IN (n,) or empty
    int n_threads,
):
    """Return (sum_i w_i x_i, sum_i w_i) in double, bitwise thread-independent.

    Rows are summed in fixed blocks of BLOCK; the block partials are added in
    block order afterwards.
    """
    cdef Py_ssize_t n = x.shape[0], nb = (n + BLOCK - 1) // BLOCK, bi, i, end
    cdef bint has_w = weight.shape[0] > 0
    cdef double *part
    cdef double *wpart
    cdef double s, sw, total = 0.0, wtotal = 0.0
    if n == 0:
        return 0.0, 0.0
    part = <double *> malloc(2 * nb * sizeof(double))
    if part == NULL:
        raise MemoryError()
    wpart = part + nb
    for bi in prange(nb, nogil=True, schedule="static", num_threads=n_threads):
        s = 0.0
        sw = 0.0
        end = min((bi + 1) * BLOCK, n)
        if has_w:
            for i in range(bi * BLOCK, end):
                s = s + weight[i] * x[i]
                sw = sw + weight[i]
        else:
            for i in range(bi * BLOCK, end):
                s = s + x[i]
            sw = <double> (end - bi * BLOCK)
        part[bi] = s
        wpart[bi] = sw
    for bi in range(nb):
        total += part[bi]
        wtotal += wpart[bi]
    free(part)
    return total, wtotal


cdef Py_ssize_t _first_bad_index(
    const floating *y, Py_ssize_t n, Py_ssize_t n_classes, Py_ssize_t *out
) noexcept nogil:
    """class_indices over one run: the index of its first bad entry, or -1."""
    cdef Py_ssize_t i
    cdef floating v
    cdef floating top = <floating> (n_classes - 1)
    for i in range(n):
        v = y[i]
        if not (v >= 0 and v <= top and v == <floating> (<Py_ssize_t> v)):
            return i
        out[i] = <Py_ssize_t> v
    return -1


def class_indices(
    const floating[::1] y,               # IN (n,) class indices as floats
    Py_ssize_t n_classes,
    Py_ssize_t[::1] out,                 # OUT (n,) the same as integers
    int n_threads=1,
):
    """Convert float class indices to integers; return the first bad entry or -1.

    One pass, in place of min, max, an integrality test and a cast.  An entry
    is bad unless it is a whole number in [0, n_classes); NaN fails every
    comparison and is caught too.  On several threads each takes a contiguous
    share and stops at its first bad entry; the first share with one has the
    first overall.
    """
    cdef Py_ssize_t n = y.shape[0], bad = -1, c0, c1, b, t
    cdef int tid, nt
    cdef Py_ssize_t *found
    if n == 0:
        return -1
    if n_threads <= 1 or n < 2 * BLOCK:
        with nogil:
            bad = _first_bad_index(&y[0], n, n_classes, &out[0])
        return bad
    found = <Py_ssize_t *> malloc(n_threads * sizeof(Py_ssize_t))
    if found == NULL:
        raise MemoryError()
    for t in range(n_threads):
        found[t] = -1
    with nogil, parallel(num_threads=n_threads):
        tid = threadid()
        nt = skx_team_size()
        c0 = _share(n, tid, nt)
        c1 = _share(n, tid + 1, nt)
        b = _first_bad_index(&y[0] + c0, c1 - c0, n_classes, &out[0] + c0)
        found[tid] = -1 if b < 0 else c0 + b
    for t in range(n_threads):
        if found[t] >= 0:
            bad = found[t]
            break
    free(found)
    return bad


cdef Py_ssize_t _first_outside(const floating *x, Py_ssize_t n) noexcept nogil:
    """Index of the first entry not in [0, 1] (NaN included), or -1.

    Blocks of 256 entries are tested without a branch per entry (a count the
    compiler vectorises); only a block with a bad entry is searched.
    """
    cdef Py_ssize_t i0, i, m, bad
    for i0 in range(0, n, 256):
        m = min(256, n - i0)
        bad = 0
        for i in range(i0, i0 + m):
            bad = bad + (not (x[i] >= 0 and x[i] <= 1))
        if bad:
            for i in range(i0, i0 + m):
                if not (x[i] >= 0 and x[i] <= 1):
                    return i
    return -1


def first_outside_unit(
    const floating[::1] x,               # IN (n,)
    int n_threads,
):
    """Index of the first entry of ``x`` outside [0, 1] (or NaN), or -1: one
    read-only pass, in contiguous shares on ``n_threads`` threads."""
    cdef Py_ssize_t n = x.shape[0], bad = -1, c0, c1, b, t
    cdef int tid, nt
    cdef Py_ssize_t *found
    if n == 0:
        return -1
    if n_threads <= 1 or n < 2 * BLOCK:
        with nogil:
            bad = _first_outside(&x[0], n)
        return bad
    found = <Py_ssize_t *> malloc(n_threads * sizeof(Py_ssize_t))
    if found == NULL:
        raise MemoryError()
    for t in range(n_threads):
        found[t] = -1
    with nogil, parallel(num_threads=n_threads):
        tid = threadid()
        nt = skx_team_size()
        c0 = _share(n, tid, nt)
        c1 = _share(n, tid + 1, nt)
        b = _first_outside(&x[0] + c0, c1 - c0)
        found[tid] = -1 if b < 0 else c0 + b
    for t in range(n_threads):
        if found[t] >= 0:
            bad = found[t]
            break
    free(found)
    return bad
