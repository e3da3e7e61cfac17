"""Cross-entropy kernels: per-sample loss, gradient and Hessian-vector products.

Layer rules (DESIGN.md): the kernels validate nothing, allocate nothing but a
per-thread scratch row, and raise nothing.  The Python callers
(:mod:`skxent.loss`, :mod:`skxent.metrics`) guarantee C-contiguous arrays of the
right shapes and dtypes.  Arguments are marked ``# IN`` or ``# OUT``; outputs are
filled in place and the functions return nothing, except the reductions.

Every loop over rows is an OpenMP ``prange`` with a static schedule.  Per-sample
outputs do not depend on the thread count.  Sums over samples are taken over
fixed blocks of ``BLOCK`` rows, and the block partials are then added in order,
so that they are bitwise identical for any number of threads.

Notation: ``z`` raw scores (logits) of one sample, ``k`` classes, ``t`` target
distribution, ``p = softmax(z)``, ``w`` sample weight, ``cw`` class weights.
"""

from cython.parallel cimport parallel, prange
from libc.math cimport fabs, isfinite, log
from libc.stdlib cimport free, malloc

ctypedef fused floating:
    float
    double

cdef extern from "_simd.h" nogil:
    void skx_exp_d(const double *x, double *out, Py_ssize_t n)
    void skx_exp_f(const float *x, float *out, Py_ssize_t n)
    void skx_log_d(const double *x, double *out, Py_ssize_t n)
    void skx_sigmoid_terms(
        Py_ssize_t m, const double *z, const double *e, const double *u,
        const double *logu, const double *t, double *wp, double *wn, double *loss)
    int SKX_VECTOR_EXP
    int SKX_OPENMP

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int skx_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int skx_max_threads(void) { return 1; }
    #endif
    """
    int skx_max_threads() nogil

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define skx_prefetch(p) __builtin_prefetch((p))
    #else
    #define skx_prefetch(p) ((void)0)
    #endif
    """
    void skx_prefetch(const void *p) nogil

# Rows per block of a deterministic reduction.  A constant, never derived from
# the thread count: that is what makes sums independent of it.
cdef enum:
    BLOCK = 1024
    # Rows per chunk of the softmax kernel (vector exp and log calls).
    CHUNK = 32
    # Entries per chunk of the sigmoid kernel.
    SCHUNK = 256

# Row status codes of the probability kernels (0 = valid row).
cdef enum:
    ST_NONFINITE = 1
    ST_NEGATIVE = 2
    ST_ABOVE_ONE = 3
    ST_SUM = 4


def build_info():
    """Compile-time facts: OpenMP, vectorised exp, and the current thread cap."""
    return {
        "openmp": bool(SKX_OPENMP),
        "vector_exp": bool(SKX_VECTOR_EXP),
        "max_threads": skx_max_threads(),
    }


def max_threads():
    """``omp_get_max_threads()``: honours OMP_NUM_THREADS and threadpoolctl."""
    return skx_max_threads()


# ---------------------------------------------------------------------------
# One sample
# ---------------------------------------------------------------------------

cdef inline double _sum(const floating *x, Py_ssize_t k) noexcept nogil:
    """Sum of a row, in double, with two running sums.

    An add's latency, not its throughput, bounds a single running sum over a
    short row.
    """
    cdef Py_ssize_t c = 0
    cdef double s0 = 0.0, s1 = 0.0
    while c + 2 <= k:
        s0 = s0 + x[c]
        s1 = s1 + x[c + 1]
        c = c + 2
    if c < k:
        s0 = s0 + x[c]
    return s0 + s1


cdef inline double _sum_below_one(const floating *e, Py_ssize_t k) noexcept nogil:
    """Sum of the entries of a row that are below 1, in double, with two running sums.

    Leaves out the maximum of a row of shifted exponentials when it is the
    row's only entry of 1, as _rests makes sure.  A select between e and 0,
    which the compiler makes a compare and a mask rather than a branch (that
    would be mispredicted on most rows).  NaN is not below 1 and would be
    dropped: _rests keeps rows with a NaN away from here.
    """
    cdef Py_ssize_t c = 0
    cdef double s0 = 0.0, s1 = 0.0
    while c + 2 <= k:
        s0 = s0 + (e[c] if e[c] < 1 else 0.0)
        s1 = s1 + (e[c + 1] if e[c + 1] < 1 else 0.0)
        c = c + 2
    if c < k:
        s0 = s0 + (e[c] if e[c] < 1 else 0.0)
    return s0 + s1


cdef inline void _rests(const floating *e, Py_ssize_t r, Py_ssize_t k, double *rest) noexcept nogil:
    """rest = sum(e) - 1 for r rows of shifted exponentials, each with a maximum of 1.

    The row's log-sum-exp is max(z) + log1p(rest).  When rest >= 1 the plain
    sum s serves: s - 1 is exact, so rest keeps the relative precision of s,
    within a factor s / rest <= 2.  A smaller rest would lose more (s - 1
    cancels the digits of a small rest: for z = (10, -10) the loss is
    2.06e-9), and those rows are summed again without their maximum.  Then s
    < 2, so the maximum is their only entry of 1 (a tie would make s >= 2),
    and _sum_below_one leaves it out.  The rows are listed first and redone
    after, rather than picked by a branch per row, which would be
    mispredicted whenever both kinds of rows are common.
    """
    cdef Py_ssize_t redo[CHUNK]
    cdef Py_ssize_t i, j, n_redo = 0
    for i in range(r):
        rest[i] = _sum(e + i * k, k) - 1.0
        redo[n_redo] = i
        n_redo = n_redo + (rest[i] < 1.0)  # not NaN: it stays in the plain sum
    for j in range(n_redo):
        i = redo[j]
        rest[i] = _sum_below_one(e + i * k, k)


cdef inline void _shifted_exp(
    const floating *z,  # IN (r, k) raw scores
    Py_ssize_t r,
    Py_ssize_t k,
    floating *e,        # OUT (r, k) exp(z - max(z)), row by row
    double *m,          # OUT (r,) max(z) of each row
    double *rest,       # OUT (r,) sum(e) - 1 of each row, see _rests
) noexcept nogil:
    """The exponentials of r <= CHUNK rows, shifted by their maxima, in one vector call."""
    cdef Py_ssize_t i, c
    cdef const floating *zi
    cdef floating *ei
    cdef floating mi
    for i in range(r):
        zi = z + i * k
        ei = e + i * k
        skx_prefetch(zi + 16 * k)
        # A select, not a branch (the outcome is random on real data), and no
        # argmax: an index carried along would lengthen the dependency chain.
        mi = zi[0]
        for c in range(1, k):
            mi = zi[c] if zi[c] > mi else mi
        m[i] = mi
        for c in range(k):
            ei[c] = zi[c] - mi
    if floating is double:
        skx_exp_d(e, e, r * k)
    else:
        skx_exp_f(e, e, r * k)
    _rests(e, r, k, rest)


cdef void _softmax_chunk(
    const floating *z,      # IN (r, k) raw scores of r consecutive rows
    const Py_ssize_t *y,    # IN (r,) class indices, or NULL when `t` is given
    const floating *t,      # IN (r, k) target distributions, or NULL
    Py_ssize_t r,
    Py_ssize_t k,
    const double *sw,       # IN (r,) sample weights, or NULL
    const double *cw,       # IN (k,) class weights, or NULL
    double smoothing,       # IN label smoothing epsilon
    floating *g,            # OUT (r, k) gradient (also the exp scratch)
    bint want_grad,
    floating *loss_out,     # OUT (r,)
) noexcept nogil:
    """Softmax cross entropy and its gradient for a chunk of r <= CHUNK rows.

    With t_c the (smoothed) target and cw_c the class weights,
    loss = sum_c cw_c t_c (lse(z) - z_c) and, writing S = sum_c cw_c t_c,
    d loss / d z_c = S p_c - cw_c t_c, both times the sample weight.

    Log-sum-exp subtracts the row maximum (no overflow) and splits the sum of
    exponentials as 1 + rest (the maximum's exp(0) = 1 and the others, see
    _rests), so that lse(z) = max(z) + log1p(rest) keeps full relative
    precision when one class dominates (log(1 + rest) would round rest away:
    for z = (10, -10) the loss is 2.06e-9 and log(1 + rest) gets 7 digits of
    it).  Each term (max - z_c) + log1p(rest) is >= 0, so the loss has no
    cancellation.

    The exponentials and logs of the whole chunk go through one vector call
    each (skxent/_simd.h).
    """
    cdef double m[CHUNK]
    cdef double rest[CHUNK]
    cdef double u[CHUNK]
    cdef double logu[CHUNK]
    cdef Py_ssize_t i, c, yi
    cdef const floating *zi
    cdef floating *gi
    cdef double ri, lse1, inv, tc, wc, wi, ey, loss, S, scale
    cdef double a = 1.0 - smoothing, b = smoothing / k

    _shifted_exp(z, r, k, g, m, rest)
    for i in range(r):
        u[i] = 1.0 + rest[i]
    skx_log_d(u, logu, r)

    for i in range(r):
        zi = z + i * k
        gi = g + i * k
        ri = rest[i]
        # log1p(rest) from log(u), u = 1 + rest rounded (Goldberg 1991, Thm 4).
        lse1 = ri if u[i] == 1.0 else logu[i] * ri / (u[i] - 1.0)
        inv = 1.0 / u[i]
        wi = sw[i] if sw != NULL else 1.0

        if t == NULL and smoothing == 0.0:
            # Hard label: a single term.
            yi = y[i]
            wc = cw[yi] if cw != NULL else 1.0
            loss_out[i] = <floating> (wi * wc * ((m[i] - zi[yi]) + lse1))
            if want_grad:
                ey = gi[yi]
                scale = wi * wc * inv
                for c in range(k):
                    gi[c] = <floating> (gi[c] * scale)
                # At a maximum (e_y = 1), p_y - 1 = -rest / (1 + rest) without
                # the cancellation.
                gi[yi] = <floating> (-ri * scale if ey == 1.0 else wi * wc * (ey * inv - 1.0))
            continue

        yi = -1 if t != NULL else y[i]
        loss = 0.0
        S = 0.0
        for c in range(k):
            tc = (a * t[i * k + c] + b) if t != NULL else (b + (a if c == yi else 0.0))
            wc = cw[c] if cw != NULL else 1.0
            if tc != 0.0:
                loss = loss + wc * tc * ((m[i] - zi[c]) + lse1)
            S = S + wc * tc
        loss_out[i] = <floating> (wi * loss)
        if want_grad:
            for c in range(k):
                tc = (a * t[i * k + c] + b) if t != NULL else (b + (a if c == yi else 0.0))
                wc = cw[c] if cw != NULL else 1.0
                gi[c] = <floating> (wi * (S * (gi[c] * inv) - wc * tc))


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
    floating *hv,           # OUT (r, k) (also the exp scratch)
) noexcept nogil:
    """(H v)_c = w S (p_c v_c - p_c (p . v)), H = w S (diag(p) - p p^T), for r <= CHUNK rows.

    S = sum_c cw_c t_c is the total target mass (1 without class weights).
    """
    cdef double m[CHUNK]
    cdef double rest[CHUNK]
    cdef Py_ssize_t i, c
    cdef floating *hi
    cdef const floating *vi
    cdef double inv, tc, S, pv, ws
    cdef double a = 1.0 - smoothing, b = smoothing / k
    _shifted_exp(z, r, k, hv, m, rest)
    for i in range(r):
        hi = hv + i * k
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
            pv = pv + (hi[c] * inv) * vi[c]
        ws = (sw[i] if sw != NULL else 1.0) * S
        for c in range(k):
            hi[c] = <floating> (ws * (hi[c] * inv) * (vi[c] - pv))


cdef void _sigmoid_chunk(
    const floating *z,   # IN (m,) raw scores: m consecutive entries of the (n, L) array
    const floating *t,   # IN (m,) targets in [0, 1]
    Py_ssize_t m,
    Py_ssize_t i,        # row of the first entry
    Py_ssize_t j,        # its column
    Py_ssize_t L,
    const double *sw,    # IN (n,) sample weights, or NULL
    const double *pw,    # IN (L,) weights of the positive terms, or NULL
    const double *nw,    # IN (L,) weights of the negative terms, or NULL
    double smoothing,
    floating *loss,      # OUT (m,)
    floating *grad,      # OUT (m,), or NULL
    floating *hess,      # OUT (m,) diagonal of the Hessian, or NULL
) noexcept nogil:
    """Binary cross entropy of sigmoid(z) against t, for m <= SCHUNK entries.

    With the smoothed target t' = (1 - eps) t + eps / 2, a = w pw t' and
    b = w nw (1 - t'): loss = a softplus(-z) + b softplus(z), both terms >= 0,
    so there is no cancellation.  With e = exp(-|z|) every quantity needs one
    exp and one log1p, the log1p as a log with Goldberg's correction
    (skx_sigmoid_terms in skxent/_simd.h has the formulas).
    The exps and logs of the chunk go through one vector call each.
    """
    cdef double zd[SCHUNK]
    cdef double td[SCHUNK]
    cdef double e[SCHUNK]
    cdef double u[SCHUNK]
    cdef double logu[SCHUNK]
    cdef double wp[SCHUNK]
    cdef double wn[SCHUNK]
    cdef double out[SCHUNK]
    cdef Py_ssize_t q
    cdef double w, ta = 1.0 - smoothing, tb = 0.5 * smoothing
    for q in range(m):
        zd[q] = z[q]
        e[q] = -fabs(zd[q])
        td[q] = ta * t[q] + tb
    skx_exp_d(e, e, m)
    for q in range(m):
        u[q] = 1.0 + e[q]
    skx_log_d(u, logu, m)
    # The weights of each entry, walking its (row, column).
    for q in range(m):
        w = sw[i] if sw != NULL else 1.0
        wp[q] = w * (pw[j] if pw != NULL else 1.0)
        wn[q] = w * (nw[j] if nw != NULL else 1.0)
        j = j + 1
        if j == L:
            j = 0
            i = i + 1
    skx_sigmoid_terms(m, zd, e, u, logu, td, wp, wn, out)
    for q in range(m):
        loss[q] = <floating> out[q]
    if grad != NULL:
        for q in range(m):
            grad[q] = <floating> wp[q]
    if hess != NULL:
        for q in range(m):
            hess[q] = <floating> wn[q]


# ---------------------------------------------------------------------------
# Arrays: loss, gradient, Hessian-vector products (skxent.loss)
# ---------------------------------------------------------------------------

def softmax_loss_gradient(
    const floating[:, ::1] raw,          # IN (n, k)
    const Py_ssize_t[::1] y,             # IN (n,) class indices, or empty
    const floating[:, ::1] target,       # IN (n, k) targets, or (0, k)
    const double[::1] sample_weight,     # IN (n,) or empty
    const double[::1] class_weight,      # IN (k,) or empty
    double label_smoothing,
    floating[::1] loss_out,              # OUT (n,)
    floating[:, ::1] gradient_out,       # OUT (n, k), or (0, k) for no gradient
    int n_threads,
):
    """Per-sample softmax cross entropy and its gradient w.r.t. ``raw``."""
    cdef Py_ssize_t n = raw.shape[0], k = raw.shape[1], i0 = 0, r = 0
    cdef Py_ssize_t n_chunks = (n + CHUNK - 1) // CHUNK, ch
    cdef bint want_grad = gradient_out.shape[0] > 0
    cdef bint has_t = target.shape[0] > 0
    cdef bint has_sw = sample_weight.shape[0] > 0
    cdef const double *cw = &class_weight[0] if class_weight.shape[0] > 0 else NULL
    cdef floating *scratch
    # Shared flag (an element write is not made thread-private, a variable is).
    cdef int out_of_memory[1]
    out_of_memory[0] = 0
    if n == 0:
        return
    with nogil, parallel(num_threads=n_threads):
        # Without a gradient to write into, each thread needs a chunk of scratch.
        scratch = NULL
        if not want_grad:
            scratch = <floating *> malloc(min(CHUNK, n) * k * sizeof(floating))
            if scratch == NULL:
                out_of_memory[0] = 1
        for ch in prange(n_chunks, schedule="static"):
            if out_of_memory[0]:
                continue
            i0 = ch * CHUNK
            r = min(CHUNK, n - i0)
            _softmax_chunk(
                &raw[i0, 0],
                NULL if has_t else &y[i0],
                &target[i0, 0] if has_t else NULL,
                r,
                k,
                &sample_weight[i0] if has_sw else NULL,
                cw,
                label_smoothing,
                &gradient_out[i0, 0] if want_grad else scratch,
                want_grad,
                &loss_out[i0],
            )
        free(scratch)
    if out_of_memory[0]:
        raise MemoryError(f"no memory for a scratch chunk of {CHUNK} x {k} scores")


def softmax_hessp(
    const floating[:, ::1] raw,          # IN (n, k)
    const Py_ssize_t[::1] y,             # IN (n,) or empty
    const floating[:, ::1] target,       # IN (n, k) or (0, k)
    const double[::1] sample_weight,     # IN (n,) or empty
    const double[::1] class_weight,      # IN (k,) or empty
    double label_smoothing,
    const floating[:, ::1] vector,       # IN (n, k)
    floating[:, ::1] hessp_out,          # OUT (n, k)
    int n_threads,
):
    """Row-wise Hessian-vector products of the softmax cross entropy."""
    cdef Py_ssize_t n = raw.shape[0], k = raw.shape[1], i0, ch
    cdef Py_ssize_t n_chunks = (n + CHUNK - 1) // CHUNK
    cdef bint has_t = target.shape[0] > 0
    cdef bint has_sw = sample_weight.shape[0] > 0
    cdef const double *cw = &class_weight[0] if class_weight.shape[0] > 0 else NULL
    if n == 0:
        return
    for ch in prange(n_chunks, nogil=True, schedule="static", num_threads=n_threads):
        i0 = ch * CHUNK
        _softmax_hessp_chunk(
            &raw[i0, 0],
            NULL if has_t else &y[i0],
            &target[i0, 0] if has_t else NULL,
            min(CHUNK, n - i0),
            k,
            &sample_weight[i0] if has_sw else NULL,
            cw,
            label_smoothing,
            &vector[i0, 0],
            &hessp_out[i0, 0],
        )


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
    are walked as flat runs of SCHUNK entries, whatever L is.
    """
    cdef Py_ssize_t n = raw.shape[0], L = raw.shape[1]
    cdef Py_ssize_t size = n * L, n_chunks = (size + SCHUNK - 1) // SCHUNK, ch, q0
    cdef const floating *z
    cdef const floating *t
    cdef floating *lo
    cdef floating *gr
    cdef floating *he
    cdef const double *sw
    cdef const double *pw
    cdef const double *nw
    if size == 0:
        return
    z = &raw[0, 0]
    t = &target[0, 0]
    lo = &loss_out[0, 0]
    gr = &gradient_out[0, 0] if gradient_out.shape[0] > 0 else NULL
    he = &hessian_out[0, 0] if hessian_out.shape[0] > 0 else NULL
    sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    pw = &pos_weight[0] if pos_weight.shape[0] > 0 else NULL
    nw = &neg_weight[0] if neg_weight.shape[0] > 0 else NULL
    for ch in prange(n_chunks, nogil=True, schedule="static", num_threads=n_threads):
        q0 = ch * SCHUNK
        _sigmoid_chunk(
            z + q0,
            t + q0,
            min(SCHUNK, size - q0),
            q0 // L,
            q0 % L,
            L,
            sw,
            pw,
            nw,
            label_smoothing,
            lo + q0,
            gr + q0 if gr != NULL else NULL,
            he + q0 if he != NULL else NULL,
        )


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


def gather_proba(
    const floating[:, ::1] proba,        # IN (n, k)
    const Py_ssize_t[::1] y,             # IN (n,) class indices
    double clip,
    double tol,
    floating[::1] out,                   # OUT (n,) clip(proba[i, y[i]])
    signed char[::1] status_out,         # OUT (n,) row status
    int n_threads,
):
    """One pass for ``log_loss``: check every row and gather its clipped entry.

    Clipping is done in the input's dtype, to [clip, 1 - clip], exactly as
    scikit-learn does before taking the log.  ``tol < 0`` skips the row sums.
    """
    cdef Py_ssize_t n = proba.shape[0], k = proba.shape[1], i
    cdef floating lo = <floating> clip
    cdef floating hi = <floating> 1.0 - lo
    for i in prange(n, nogil=True, schedule="static", num_threads=n_threads):
        status_out[i] = _check_row(&proba[i, 0], k, tol)
        out[i] = _clip(proba[i, y[i]], lo, hi)


def gather_binary(
    const floating[::1] proba,           # IN (n,) positive-class probabilities
    const Py_ssize_t[::1] y,             # IN (n,) 0 or 1
    double clip,
    floating[::1] out,                   # OUT (n,) clip(p) or clip(1 - p)
    signed char[::1] status_out,         # OUT (n,)
    int n_threads,
):
    """``gather_proba`` for 1-D positive-class probabilities (column [1 - p, p])."""
    cdef Py_ssize_t n = proba.shape[0], i
    cdef floating lo = <floating> clip
    cdef floating hi = <floating> 1.0 - lo
    cdef floating p
    for i in prange(n, nogil=True, schedule="static", num_threads=n_threads):
        p = proba[i]
        status_out[i] = _check_row(&proba[i], 1, -1.0)
        if y[i] == 1:
            out[i] = _clip(p, lo, hi)
        else:
            out[i] = _clip(<floating> (<floating> 1.0 - p), lo, hi)


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


def class_indices(
    const floating[::1] y,               # IN (n,) class indices as floats
    Py_ssize_t n_classes,
    Py_ssize_t[::1] out,                 # OUT (n,) the same as integers
):
    """Convert float class indices to integers; return the first bad entry or -1.

    One pass, in place of min, max, an integrality test and a cast.  An entry
    is bad unless it is a whole number in [0, n_classes); NaN fails every
    comparison and is caught too.
    """
    cdef Py_ssize_t n = y.shape[0], i, bad = -1
    cdef floating v
    cdef floating top = <floating> (n_classes - 1)
    with nogil:
        for i in range(n):
            v = y[i]
            if not (v >= 0 and v <= top and v == <floating> (<Py_ssize_t> v)):
                bad = i
                break
            out[i] = <Py_ssize_t> v
    return bad
