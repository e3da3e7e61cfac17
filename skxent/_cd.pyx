"""Coordinate descent on the quadratic model of a proximal Newton step (newton-cd).

Called by :mod:`skxent._solvers` only.  At a point ``W0`` with gradient ``G`` of
the smooth part (mean cross entropy plus the L2 term), the step ``D`` minimises
the quadratic model plus the L1 penalty::

    q(D) = <G, D> + 1/2 <D, H D> + l1 ||W0 + D||_1

one coordinate (output c, feature j) at a time, the intercepts unpenalised.
The Hessian is never formed: ``U = X D`` (the change of the raw scores, stored
per output, (K, n)) is kept up to date, and the model's gradient for a
coordinate is a pass over its column,

    dq/dD_cj = G_cj + l2 D_cj + sum_i x_ij Q_ci (U_ci - m_i)

with ``Q = s~ p`` (row weight times probability) and ``m_i = p_i . U_i`` for
softmax, whose Hessian in the raw scores of row i is
``s~_i (diag(p_i) - p_i p_i^T)``: the exact multinomial Hessian, not a
per-class approximation.  For sigmoids the Hessian is diagonal, ``Q = h``, and
``m`` stays 0.  The coordinate's curvature ``A_cj = sum_i x_ij^2 R_ci + l2``
(``R = s~ p (1 - p)``, or ``h``) comes from the caller
(:func:`dense_working_curvatures`, :func:`working_curvatures`); the update is a
soft-thresholded Newton step, which puts a coordinate at exactly 0.0 when the
optimality conditions ask for it.

The sweep is output-major: the arrays of one output stay in cache while every
feature's column streams past, instead of K sets of them for each feature.
While output c's coordinates move, the other outputs' part of m,
``m' = m - P_c U_c``, is fixed, and the sum above is
``sum_i x_ij (R_ci U_ci - Q_ci m'_i)``: a move updates ``U_c`` alone (on dense
X in the pass that sums the next coordinate's gradient), and m is made whole
after the output.  Only the coordinates of the working set are visited.
The coordinates are visited in a fixed order.  On dense X with many rows each
coordinate's sums run over fixed blocks of rows that the threads share out
(one barrier a coordinate), added in block order; otherwise one thread runs
the sweeps: either way the result does not depend on the number of threads.
The passes over the rows between sweeps run over the same fixed blocks.
Dense X is read by columns (Fortran order), sparse X as CSC.
Arguments are marked ``# IN`` / ``# INOUT``.
"""

from cython.parallel cimport parallel, prange, threadid
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer
from libc.math cimport exp, fabs, sqrt
from libc.string cimport memcpy, memset

import numpy as np

cdef extern from "_omp.h" nogil:
    int skx_omp_bind(const char *module, const char **where)

cdef extern from *:
    """
    /* A barrier of the enclosing parallel region (an orphaned directive), and
       the size of its team. */
    static void skx_cd_barrier(void)
    {
    #pragma omp barrier
    }
    #if defined(_OPENMP)
    #include <omp.h>
    static int skx_cd_team(void) { return omp_get_num_threads(); }
    #else
    static int skx_cd_team(void) { return 1; }
    #endif
    """
    void skx_cd_barrier() nogil
    int skx_cd_team() nogil

ctypedef fused floating:
    float
    double

# Sparse X's row indices and column pointers as scipy keeps them (no intp copy).
ctypedef fused index_t:
    int
    long long

cdef extern from "_cd_loops.h" nogil:
    double skx_cd_dot_d(const double *x, const double *r, const double *u,
                        const double *b, Py_ssize_t n)
    double skx_cd_dot_f(const float *x, const double *r, const double *u,
                        const double *b, Py_ssize_t n)
    void skx_cd_update_d(const double *x, double delta, double *u, Py_ssize_t n)
    void skx_cd_update_f(const float *x, double delta, double *u, Py_ssize_t n)
    double skx_cd_update_dot_d(const double *x, double delta, double *u, const double *y,
                               const double *r, const double *b, Py_ssize_t n)
    double skx_cd_update_dot_f(const float *x, double delta, double *u, const float *y,
                               const double *r, const double *b, Py_ssize_t n)
    void skx_cd_curvatures_d(const double *x, const double *r, Py_ssize_t n, double *a,
                             double *h)
    void skx_cd_curvatures_f(const float *x, const double *r, Py_ssize_t n, double *a,
                             double *h)
    double skx_cd_weighted_square(const double *w, const double *a, const double *a0,
                                  Py_ssize_t n)
    double skx_cd_slope(const double *q, const double *u, const double *u0, const double *m,
                        Py_ssize_t n)
    double skx_bj_sum(const double *r, Py_ssize_t n)
    void skx_bj_curvatures_d(const double *z, Py_ssize_t K, double s, double *e, double *R,
                             Py_ssize_t stride)
    void skx_bj_curvatures_f(const float *z, Py_ssize_t K, double s, double *e, double *R,
                             Py_ssize_t stride)
    void skx_bj_gather_d(const double *X, Py_ssize_t d, const double *r,
                         const Py_ssize_t *rows, Py_ssize_t m, int intercept, double *A)
    void skx_bj_gather_f(const float *X, Py_ssize_t d, const double *r,
                         const Py_ssize_t *rows, Py_ssize_t m, int intercept, double *A)
    double skx_cg_dot(const double *x, const double *y, Py_ssize_t n)
    double skx_cg_step(double a, const double *d, const double *h, double *p, double *r,
                       Py_ssize_t n)
    double skx_cg_precondition(const double *r, const double *inv, Py_ssize_t k, double *z,
                               Py_ssize_t n)
    void skx_cg_direction(double beta, const double *z, double *d, Py_ssize_t n)


cdef inline double _soft(double x, double t) noexcept nogil:
    """Soft thresholding: the proximal map of t |.|."""
    if x > t:
        return x - t
    if x < -t:
        return x + t
    return 0.0


cdef inline double _capped(double delta, double cap) noexcept nogil:
    """``delta`` clipped to [-cap, cap]."""
    if delta > cap:
        return cap
    if delta < -cap:
        return -cap
    return delta


cdef inline double _joint_curvature(double a, double hwb, double hbb) noexcept nogil:
    """A coordinate's curvature ``a`` with its output's intercept re-optimised
    along (its Schur complement ``a - hwb^2 / hbb``), or ``a`` without one."""
    if hbb > 0.0:
        return a - hwb * hwb / hbb
    return a


cdef inline double _move(
    double w_old, double grad, double curv, double l1, double cap
) noexcept nogil:
    """A coordinate's proximal Newton move from ``w_old``, at most ``cap`` either way."""
    return _capped(_soft(w_old - grad / curv, l1 / curv) - w_old, cap)


cdef inline double _dot(
    const floating *x, const double *r, const double *u, const double *b, Py_ssize_t n,
) noexcept nogil:
    """skx_cd_dot for X's dtype: sum_i x_i (r_i u_i - b_i) over a dense column."""
    if floating is double:
        return skx_cd_dot_d(x, r, u, b, n)
    else:
        return skx_cd_dot_f(x, r, u, b, n)


cdef inline double _update_dot(
    const floating *x, double delta, double *u, const floating *y, const double *r,
    const double *b, Py_ssize_t n,
) noexcept nogil:
    """skx_cd_update_dot for X's dtype: u += x delta, then column y's sum."""
    if floating is double:
        return skx_cd_update_dot_d(x, delta, u, y, r, b, n)
    else:
        return skx_cd_update_dot_f(x, delta, u, y, r, b, n)


cdef inline void _update(const floating *x, double delta, double *u, Py_ssize_t n) noexcept nogil:
    """skx_cd_update for X's dtype: u += x delta."""
    if floating is double:
        skx_cd_update_d(x, delta, u, n)
    else:
        skx_cd_update_f(x, delta, u, n)


cdef inline double _sparse_gradient(
    const floating *v,      # IN the column's values
    const index_t *idx,     # IN their rows
    Py_ssize_t count,
    const double *r,        # IN (n,) R of one output
    const double *u,        # IN (n,) U of one output
    const double *bv,       # IN (n,) Q_c m' (softmax), or NULL (sigmoids)
) noexcept nogil:
    """sum_k v_k (r_i u_i - b_i) over a sparse column's rows i = idx[k]."""
    cdef Py_ssize_t k, i
    cdef double g = 0.0
    if bv == NULL:
        for k in range(count):
            i = idx[k]
            g = g + v[k] * (r[i] * u[i])
        return g
    for k in range(count):
        i = idx[k]
        g = g + v[k] * (r[i] * u[i] - bv[i])
    return g


cdef inline double _output_start(
    Py_ssize_t c, Py_ssize_t r0, Py_ssize_t r1, const double[:, ::1] Q,
    const double[:, ::1] P, const double[:, ::1] R, const double[:, ::1] U,
    double[::1] m, double[::1] bv, bint with_sum,
) noexcept nogil:
    """Softmax, rows r0..r1, before output c's coordinates: m' = m - P_c U_c
    (the other outputs' part, fixed while c's move) in m, and bv = Q_c m';
    with ``with_sum``, :func:`_intercept_sum` in the same pass (the same bits)."""
    cdef Py_ssize_t i
    cdef double acc = 0.0
    for i in range(r0, r1):
        m[i] = m[i] - P[c, i] * U[c, i]
        bv[i] = Q[c, i] * m[i]
        if with_sum:
            acc = acc + (R[c, i] * U[c, i] - bv[i])
    return acc


cdef inline double _intercept_sum(
    Py_ssize_t c, Py_ssize_t r0, Py_ssize_t r1, const double[:, ::1] R,
    const double[:, ::1] U, const double *bv,
) noexcept nogil:
    """sum_i R_ci U_ci - bv_i over rows r0..r1: the model's gradient of output
    c's intercept, less its gradient at W0."""
    cdef Py_ssize_t i
    cdef double acc = 0.0
    if bv == NULL:
        for i in range(r0, r1):
            acc = acc + R[c, i] * U[c, i]
        return acc
    for i in range(r0, r1):
        acc = acc + (R[c, i] * U[c, i] - bv[i])
    return acc


cdef inline void _output_end(
    Py_ssize_t c, Py_ssize_t r0, Py_ssize_t r1, double pending, bint coupled,
    const double[:, ::1] P, double[:, ::1] U, double[::1] m,
) noexcept nogil:
    """Rows r0..r1, after output c's coordinates: its intercept's shift into
    U_c, and (softmax) m = m' + P_c U_c again."""
    cdef Py_ssize_t i
    if pending != 0.0:
        for i in range(r0, r1):
            U[c, i] = U[c, i] + pending
    if coupled:
        for i in range(r0, r1):
            m[i] = m[i] + P[c, i] * U[c, i]


# Dense X with at least this many rows: each coordinate's sum runs over
# BLOCKS fixed blocks of rows (the threads share them out, one barrier a
# coordinate), added in block order, so that the result does not depend on
# the number of threads.  Below, one sum over all rows, on one thread.
cdef enum:
    BLOCKS = 8
    MIN_BLOCKED_ROWS = 16384


cdef inline Py_ssize_t _block_start(Py_ssize_t n, Py_ssize_t b) noexcept nogil:
    """The first row of block b of n rows (block b ends where b + 1 starts)."""
    return (n * b) // BLOCKS


cdef void _blocked_sweeps(
    const floating[::1, :] X,
    Py_ssize_t n,
    const double[:, ::1] Q,
    const double[:, ::1] R,
    const double[:, ::1] A,
    const double[::1] a_b,
    const double[:, ::1] Hwb,
    const double[:, ::1] P,
    double[:, ::1] U,
    double[::1] m,
    double[::1] bv,
    const double[:, ::1] G,
    const double[::1] gb,
    const double[:, ::1] W0,
    double[:, ::1] D,
    double[::1] Db,
    double l1,
    double l2,
    const Py_ssize_t[::1] coord_ptr,
    const Py_ssize_t[::1] coord_feat,
    const double[::1] cap,
    int max_sweeps,
    double tol,
    int n_threads,
    double[:, ::1] part,                 # SCRATCH (2, BLOCKS) the blocks' sums
    double[::1] result,                  # OUT (2,) sweeps done, largest change
) noexcept nogil:
    """newton_cd_sweeps on dense X over BLOCKS blocks of rows: the same
    arithmetic per coordinate, its sums in blocks.  Every thread runs the whole
    loop and makes the same decisions from the same shared sums; each updates
    only the rows of its own blocks (block b is thread b mod n_threads's), and
    thread 0 alone writes D and Db.  One barrier per coordinate (and per
    output's intercept), one at the end of each sweep: the blocks' sums
    alternate between the two rows of ``part`` (a row is rewritten two
    barriers after it was read).  At most BLOCKS threads: no more have work.
    A coordinate's move reaches U in the pass that sums the next coordinate's
    gradient (skx_cd_update_dot)."""
    cdef Py_ssize_t K = Q.shape[0]
    cdef bint coupled = P.shape[0] > 0
    cdef bint intercept = Db.shape[0] > 0
    cdef Py_ssize_t sweep, f, j, c, b, r0, r1, tid, nt
    cdef int side
    cdef double grad, curv, w_old, delta, biggest, d_cj
    cdef double hbb, hwb, pending, g_b, acc
    cdef const floating *v
    cdef const floating *prev
    cdef double prev_delta
    cdef const double *bp = &bv[0] if coupled else NULL
    with parallel(num_threads=min(n_threads, BLOCKS)):
        tid = threadid()
        nt = skx_cd_team()
        prev = NULL
        prev_delta = 0.0
        sweep = 0
        side = 0
        while sweep < max_sweeps:
            sweep = sweep + 1
            biggest = 0.0
            for c in range(K):
                pending = 0.0
                hbb = a_b[c] if intercept else 0.0
                for b in range(BLOCKS):
                    if b % nt != tid:
                        continue  # another thread's block
                    r0 = _block_start(n, b)  # assigned here: thread-private
                    r1 = _block_start(n, b + 1)
                    if coupled:
                        acc = _output_start(c, r0, r1, Q, P, R, U, m, bv, hbb > 0.0)
                    elif hbb > 0.0:
                        acc = _intercept_sum(c, r0, r1, R, U, NULL)
                    if hbb > 0.0:
                        part[side, b] = acc
                if hbb > 0.0:
                    skx_cd_barrier()
                    g_b = gb[c]
                    for b in range(BLOCKS):
                        g_b = g_b + part[side, b]
                    side = 1 - side
                    pending = -g_b / hbb
                    if fabs(g_b) > biggest:
                        biggest = fabs(g_b)
                for f in range(coord_ptr[c], coord_ptr[c + 1]):
                    j = coord_feat[f]
                    hwb = Hwb[c, j] if hbb > 0.0 else 0.0
                    curv = _joint_curvature(A[c, j], hwb, hbb)
                    if not curv > 1e-12 * A[c, j]:
                        continue
                    d_cj = D[c, j]  # read before the barrier: thread 0 writes it after
                    v = &X[0, j]
                    for b in range(BLOCKS):
                        if b % nt != tid:
                            continue  # another thread's block
                        r0 = _block_start(n, b)  # assigned here: thread-private
                        r1 = _block_start(n, b + 1)
                        if prev != NULL:
                            # The last move's update and this sum in one pass.
                            part[side, b] = _update_dot(
                                prev + r0, prev_delta, &U[c, r0], v + r0, &R[c, r0],
                                bp + r0 if coupled else NULL, r1 - r0)
                        else:
                            part[side, b] = _dot(v + r0, &R[c, r0], &U[c, r0],
                                                 bp + r0 if coupled else NULL, r1 - r0)
                    prev = NULL
                    skx_cd_barrier()
                    grad = 0.0
                    for b in range(BLOCKS):
                        grad = grad + part[side, b]
                    side = 1 - side
                    grad = grad + pending * hwb + G[c, j] + l2 * d_cj
                    w_old = W0[c, j] + d_cj
                    delta = _move(w_old, grad, curv, l1, cap[j])
                    if delta == 0.0:
                        continue
                    if tid == 0:
                        D[c, j] = w_old + delta - W0[c, j]
                    if fabs(delta) * curv > biggest:
                        biggest = fabs(delta) * curv
                    # U takes the move with the next coordinate's sum.
                    prev = v
                    prev_delta = delta
                    if hbb > 0.0:
                        pending = pending - delta * hwb / hbb
                if pending != 0.0 and tid == 0:
                    Db[c] = Db[c] + pending
                for b in range(BLOCKS):
                    if b % nt != tid:
                        continue  # another thread's block
                    r0 = _block_start(n, b)  # assigned here: thread-private
                    r1 = _block_start(n, b + 1)
                    if prev != NULL:
                        _update(prev + r0, prev_delta, &U[c, r0], r1 - r0)
                    _output_end(c, r0, r1, pending, coupled, P, U, m)
                prev = NULL
            # Thread 0's last writes to D (read by every thread at the next
            # sweep, before that coordinate's barrier) and to Db are seen by
            # all before they go on.
            skx_cd_barrier()
            if biggest <= tol:
                break
        if tid == 0:
            result[0] = sweep
            result[1] = biggest


def newton_cd_sweeps(
    const floating[::1, :] X,            # IN (n, d) dense, Fortran order; or (0, 0)
    const floating[::1] data,            # IN CSC values; or empty (dense X)
    const index_t[::1] indices,          # IN CSC row indices
    const index_t[::1] indptr,           # IN CSC column pointers (d + 1,), same dtype
    Py_ssize_t n_samples,
    const double[:, ::1] Q,              # IN (K, n)
    const double[:, ::1] R,              # IN (K, n) Q (1 - P): the Hessian's diagonal
    const double[:, ::1] A,              # IN (K, d) curvature of each coordinate, l2 included
    const double[::1] a_b,               # IN (K,) curvature of each intercept, or empty
    const double[:, ::1] Hwb,            # IN (K, d) coordinate-intercept curvature, or (0, d)
    const double[:, ::1] P,              # IN (K, n) probabilities (softmax), or (0, n)
    double[:, ::1] U,                    # INOUT (K, n) X D + Db, the change of the scores
    double[::1] m,                       # INOUT (n,) p_i . U_i (softmax), else zeros
    const double[:, ::1] G,              # IN (K, d) gradient of the smooth part at W0
    const double[::1] gb,                # IN (K,) its intercept part, or empty
    const double[:, ::1] W0,             # IN (K, d)
    double[:, ::1] D,                    # INOUT (K, d) the step
    double[::1] Db,                      # INOUT (K,) the intercepts' step, or empty
    double l1,
    double l2,
    const Py_ssize_t[::1] coord_ptr,     # IN (K + 1,) output c's coordinates are
    const Py_ssize_t[::1] coord_feat,    # IN   coord_feat[coord_ptr[c]:coord_ptr[c + 1]]
    const double[::1] cap,               # IN (d,) the largest move of a coordinate at a time
    int max_sweeps,
    double tol,
    int n_threads=1,
):
    """Sweep the working set's coordinates (and the intercepts) until the
    largest change of the model's gradient, ``|delta| * curvature``, is at most
    ``tol``, or ``max_sweeps`` times.  Returns ``(sweeps, largest change of
    the last sweep)``.

    While output c's coordinates move, the other outputs' part of m,
    ``m' = m - P_c U_c``, stays fixed, and the model's gradient of a
    coordinate is ``sum_i x_ij (R_ci U_ci - Q_ci m'_i)``: a move updates U_c
    alone, and m is made whole again after the output (``R = Q (1 - P)``;
    for sigmoids ``R = Q`` and m is 0).

    With an intercept, each coordinate moves together with its output's
    intercept: the 2 x 2 block (coordinate, intercept) of the model is
    minimised exactly, the intercept in closed form (it has no penalty), so
    that a feature far from centred (x around 100) does not zigzag against the
    intercept.  The intercept's shift is kept pending while the output's
    coordinates are swept (its effect on a column's gradient is the shift times
    ``Hwb``), and added to all rows once, at the end: a sparse column costs
    its non-zeros only.
    """
    cdef Py_ssize_t K = Q.shape[0], n = n_samples
    cdef bint dense = X.shape[0] > 0
    cdef bint coupled = P.shape[0] > 0
    cdef bint intercept = Db.shape[0] > 0
    cdef Py_ssize_t sweep = 0, f, j, c, count, start, k, i
    cdef const floating *v
    cdef const floating *prev = NULL  # dense: the column whose move is still to apply
    cdef double prev_delta = 0.0
    cdef const index_t *idx
    cdef const double *bp
    cdef double grad, curv, w_old, delta, biggest, step
    cdef double hbb, hwb, pending, g_b
    cdef double[:, ::1] part
    cdef double[::1] result
    cdef double[::1] bv = np.zeros(n if coupled else 1)
    bp = &bv[0] if coupled else NULL
    if dense and n >= MIN_BLOCKED_ROWS:
        part = np.zeros((2, BLOCKS))
        result = np.zeros(2)
        with nogil:
            _blocked_sweeps(X, n, Q, R, A, a_b, Hwb, P, U, m, bv, G, gb, W0, D, Db, l1, l2,
                            coord_ptr, coord_feat, cap, max_sweeps, tol, max(1, n_threads),
                            part, result)
        return int(result[0]), result[1]
    with nogil:
        while sweep < max_sweeps:
            sweep = sweep + 1
            biggest = 0.0
            for c in range(K):
                pending = 0.0
                hbb = a_b[c] if intercept else 0.0
                g_b = 0.0
                if coupled:
                    g_b = _output_start(c, 0, n, Q, P, R, U, m, bv, hbb > 0.0)
                elif hbb > 0.0:
                    g_b = _intercept_sum(c, 0, n, R, U, NULL)
                if hbb > 0.0:
                    # The intercept alone first: a Newton step to its optimum,
                    # after which each joint update keeps it there.
                    g_b = gb[c] + g_b
                    pending = -g_b / hbb
                    if fabs(g_b) > biggest:
                        biggest = fabs(g_b)
                for f in range(coord_ptr[c], coord_ptr[c + 1]):
                    j = coord_feat[f]
                    hwb = Hwb[c, j] if hbb > 0.0 else 0.0
                    curv = _joint_curvature(A[c, j], hwb, hbb)
                    if not curv > 1e-12 * A[c, j]:
                        continue  # a constant column: the intercept is enough
                    if dense:
                        v = &X[0, j]
                        if prev != NULL:
                            # The last move's update and this sum in one pass.
                            grad = _update_dot(prev, prev_delta, &U[c, 0], v, &R[c, 0], bp, n)
                            prev = NULL
                        else:
                            grad = _dot(v, &R[c, 0], &U[c, 0], bp, n)
                    else:
                        start = indptr[j]
                        count = indptr[j + 1] - start
                        v = &data[start]
                        idx = &indices[start]
                        grad = _sparse_gradient(v, idx, count, &R[c, 0], &U[c, 0], bp)
                    grad = grad + pending * hwb + G[c, j] + l2 * D[c, j]
                    w_old = W0[c, j] + D[c, j]
                    delta = _move(w_old, grad, curv, l1, cap[j])
                    if delta == 0.0:
                        continue
                    D[c, j] = w_old + delta - W0[c, j]
                    if fabs(delta) * curv > biggest:
                        biggest = fabs(delta) * curv
                    if dense:
                        prev = v  # U takes the move with the next sum
                        prev_delta = delta
                    else:
                        for k in range(count):
                            i = idx[k]
                            step = v[k] * delta
                            U[c, i] = U[c, i] + step
                    if hbb > 0.0:
                        # The intercept's gradient was 0; the coordinate's move
                        # changed it by delta * hwb: move the intercept back.
                        pending = pending - delta * hwb / hbb
                if prev != NULL:
                    _update(prev, prev_delta, &U[c, 0], n)
                    prev = NULL
                if pending != 0.0:
                    Db[c] = Db[c] + pending
                _output_end(c, 0, n, pending, coupled, P, U, m)
            if biggest <= tol:
                break
    return sweep, biggest


def explicit_cd(
    const double[:, ::1] H,     # IN (p, p) the Hessian, symmetric
    const double[::1] g,        # IN (p,) the gradient of the smooth part
    const double[::1] w,        # IN (p,) the point
    double[::1] D,              # INOUT (p,) the step, from 0
    double[::1] HD,             # INOUT (p,) H D, from 0
    Py_ssize_t n_penalised,     # the first n_penalised coordinates carry the L1 term
    double l1,
    Py_ssize_t max_sweeps,
    double tol,
):
    """Coordinate descent on ``g.D + 1/2 D.H.D + l1 |w + D|`` with H explicit
    (newton-cd when its Hessian is formed: few coefficients, many rows, or
    dask arrays).  Cyclic sweeps until the largest ``|change| * H_jj`` of a
    sweep is at most ``tol``; returns the number of sweeps.  H symmetric: a
    coordinate's change updates ``H D`` from its row (contiguous)."""
    cdef Py_ssize_t p = w.shape[0], j, i, sweep, done = 0
    cdef double a, grad, old, new, delta, biggest
    with nogil:
        for sweep in range(max_sweeps):
            biggest = 0.0
            for j in range(p):
                a = H[j, j]
                if not a > 0.0:
                    continue
                grad = g[j] + HD[j]
                old = w[j] + D[j]
                if j < n_penalised:
                    new = _soft(old - grad / a, l1 / a)
                else:
                    new = old - grad / a
                delta = new - old
                if delta == 0.0:
                    continue
                D[j] = new - w[j]
                for i in range(p):
                    HD[i] += delta * H[j, i]
                if fabs(delta) * a > biggest:
                    biggest = fabs(delta) * a
            done = sweep + 1
            if biggest <= tol:
                break
    return done


# The passes over the scores' change between sweeps (extrapolation, Anderson
# acceleration) run over fixed blocks of rows, block b on thread b mod
# threads (as in the blocked sweeps of dense X, whose rows are then in that
# core's cache), their sums added in block order: the same bits on any
# number of threads.

cdef inline int _row_threads(Py_ssize_t n, int n_threads) noexcept nogil:
    """Threads for a pass over the blocks: one below MIN_BLOCKED_ROWS rows
    (too little work to share), else up to one a block."""
    if n < MIN_BLOCKED_ROWS or n_threads < 1:
        return 1
    return min(n_threads, BLOCKS)


cdef inline double _in_block_order(const double[::1] part) noexcept nogil:
    """The blocks' sums, added in block order."""
    cdef Py_ssize_t b
    cdef double total = 0.0
    for b in range(BLOCKS):
        total += part[b]
    return total


cdef inline void _block_terms(
    const double[:, ::1] Q, const double[:, ::1] U, const double[:, ::1] U0,
    const double[::1] m, const double[::1] m0, const double[::1] s,
    Py_ssize_t b, double[:, ::1] part,
) noexcept nogil:
    """Block b's part of :func:`extrapolation_terms`, into ``part[:, b]``."""
    cdef Py_ssize_t n = U.shape[1], r0 = _block_start(n, b), r1 = _block_start(n, b + 1), c
    cdef double g = 0.0, h = 0.0
    for c in range(U.shape[0]):
        g += skx_cd_slope(&Q[c, r0], &U[c, r0], &U0[c, r0], &m[r0], r1 - r0)
        h += skx_cd_weighted_square(&Q[c, r0], &U[c, r0], &U0[c, r0], r1 - r0)
    if s.shape[0] > 0:
        h -= skx_cd_weighted_square(&s[r0], &m[r0], &m0[r0], r1 - r0)
    part[0, b] = g
    part[1, b] = h


def extrapolation_terms(
    const double[:, ::1] Q,     # IN (K, n)
    const double[:, ::1] U,     # IN (K, n) the scores' change now
    const double[:, ::1] U0,    # IN (K, n) ... where the last sweep started
    const double[::1] m,        # IN (n,) p_i . U_i (softmax), else zeros
    const double[::1] m0,       # IN (n,)
    const double[::1] s,        # IN (n,) row weights (softmax), or empty
    int n_threads=1,
):
    """The slope and curvature of the model's data term along ``U - U0``:
    ``(sum dU Q (U - m), sum Q dU^2 - sum s dm^2)``, ``dU = U - U0`` and
    ``dm = m - m0``, in one pass (newton-cd's extrapolation after a sweep)."""
    cdef Py_ssize_t b
    cdef double[:, ::1] part = np.zeros((2, BLOCKS))
    for b in prange(BLOCKS, nogil=True, schedule="static", chunksize=1,
                    num_threads=_row_threads(U.shape[1], n_threads)):
        _block_terms(Q, U, U0, m, m0, s, b, part)
    return _in_block_order(part[0]), _in_block_order(part[1])


cdef inline void _block_quadratic(
    const double[:, ::1] Q, const double[:, ::1] U, const double[::1] m,
    const double[::1] s, Py_ssize_t b, double[::1] part,
) noexcept nogil:
    """Block b's part of :func:`model_quadratic`, into ``part[b]``."""
    cdef Py_ssize_t n = U.shape[1], r0 = _block_start(n, b), r1 = _block_start(n, b + 1), c
    cdef double h = 0.0
    for c in range(U.shape[0]):
        h += skx_cd_weighted_square(&Q[c, r0], &U[c, r0], NULL, r1 - r0)
    if s.shape[0] > 0:
        h -= skx_cd_weighted_square(&s[r0], &m[r0], NULL, r1 - r0)
    part[b] = h


def model_quadratic(
    const double[:, ::1] Q,     # IN (K, n)
    const double[:, ::1] U,     # IN (K, n) the scores' change
    const double[::1] m,        # IN (n,) p_i . U_i (softmax), else zeros
    const double[::1] s,        # IN (n,) row weights (softmax), or empty
    int n_threads=1,
):
    """The quadratic term of newton-cd's model at a step, ``D^T H D`` from the
    scores' change it makes: ``sum Q U^2 - sum s m^2``, in one pass without
    temporaries."""
    cdef Py_ssize_t b
    cdef double[::1] part = np.zeros(BLOCKS)
    for b in prange(BLOCKS, nogil=True, schedule="static", chunksize=1,
                    num_threads=_row_threads(U.shape[1], n_threads)):
        _block_quadratic(Q, U, m, s, b, part)
    return _in_block_order(part)


cdef inline void _block_extrapolate(
    double[:, ::1] U, double[:, ::1] U0, double[::1] m, double[::1] m0, double t,
    Py_ssize_t b,
) noexcept nogil:
    cdef Py_ssize_t n = U.shape[1], r0 = _block_start(n, b), r1 = _block_start(n, b + 1), c, i
    cdef double v
    cdef size_t size = (r1 - r0) * sizeof(double)
    if t == 0.0:  # a copy, U and m as they are
        for c in range(U.shape[0]):
            memcpy(&U0[c, r0], &U[c, r0], size)
        memcpy(&m0[r0], &m[r0], size)
        return
    for c in range(U.shape[0]):
        for i in range(r0, r1):
            v = U[c, i] + t * (U[c, i] - U0[c, i])
            U[c, i] = v
            U0[c, i] = v
    for i in range(r0, r1):
        v = m[i] + t * (m[i] - m0[i])
        m[i] = v
        m0[i] = v


def extrapolate(
    double[:, ::1] U,           # INOUT (K, n) U + t (U - U0)
    double[:, ::1] U0,          # OUT (K, n) the same
    double[::1] m,              # INOUT (n,) m + t (m - m0)
    double[::1] m0,             # OUT (n,) the same
    double t,
    int n_threads=1,
):
    """Step along ``(U - U0, m - m0)`` by t; then U0 and m0 hold the new point
    (with t = 0, U0 and m0 take a copy of U and m, which stay as they are)."""
    cdef Py_ssize_t b
    for b in prange(BLOCKS, nogil=True, schedule="static", chunksize=1,
                    num_threads=_row_threads(U.shape[1], n_threads)):
        _block_extrapolate(U, U0, m, m0, t, b)


cdef inline void _block_store(
    const double[:, ::1] U, const double[::1] m, double[:, ::1] out, Py_ssize_t b,
) noexcept nogil:
    cdef Py_ssize_t n = U.shape[1], r0 = _block_start(n, b), r1 = _block_start(n, b + 1), c
    cdef size_t size = (r1 - r0) * sizeof(double)
    for c in range(U.shape[0]):
        memcpy(&out[c, r0], &U[c, r0], size)
    memcpy(&out[U.shape[0], r0], &m[r0], size)


def store_iterate(
    const double[:, ::1] U,     # IN (K, n)
    const double[::1] m,        # IN (n,)
    double[:, ::1] out,         # OUT (K + 1, n) U's rows, then m
    int n_threads=1,
):
    """An iterate's scores' change kept for Anderson acceleration: U and m
    stacked."""
    cdef Py_ssize_t b
    for b in prange(BLOCKS, nogil=True, schedule="static", chunksize=1,
                    num_threads=_row_threads(U.shape[1], n_threads)):
        _block_store(U, m, out, b)


cdef inline void _block_combine(
    const double[::1] coef, const double[:, :, ::1] H, double[:, ::1] out, Py_ssize_t b,
) noexcept nogil:
    cdef Py_ssize_t n = out.shape[1], r0 = _block_start(n, b), r1 = _block_start(n, b + 1)
    cdef Py_ssize_t c, i, k
    cdef double v
    for c in range(out.shape[0]):
        for i in range(r0, r1):
            v = coef[0] * H[0, c, i]
            for k in range(1, coef.shape[0]):
                v = v + coef[k] * H[k, c, i]
            out[c, i] = v


def combine_iterates(
    const double[::1] coef,      # IN (k,) the combination's weights
    const double[:, :, ::1] H,   # IN (k, rows, n) stored iterates
    double[:, ::1] out,          # OUT (rows, n) sum_k coef_k H_k, in k order
    int n_threads=1,
):
    """Anderson acceleration's combination of stored iterates (the scores'
    change is linear in the step: the combination's is the same combination)."""
    cdef Py_ssize_t b
    for b in prange(BLOCKS, nogil=True, schedule="static", chunksize=1,
                    num_threads=_row_threads(out.shape[1], n_threads)):
        _block_combine(coef, H, out, b)


def working_curvatures(
    const floating[::1] data,            # IN CSC values
    const index_t[::1] indices,          # IN CSC row indices
    const index_t[::1] indptr,           # IN CSC column pointers (d + 1,), same dtype
    const double[:, ::1] R,              # IN (K, n)
    const Py_ssize_t[::1] coord_ptr,     # IN (K + 1,) as newton_cd_sweeps takes them
    const Py_ssize_t[::1] coord_feat,    # IN
    double l2,
    double[:, ::1] A,                    # OUT (K, d) at the working set's coordinates
    double[:, ::1] Hwb,                  # OUT (K, d) likewise, or (0, d): no intercept
):
    """For the working set of a sparse X only: ``A_cj = sum_i x_ij^2 R_ci + l2``
    and ``Hwb_cj = sum_i x_ij R_ci``, over column j's non-zeros in order (the
    other entries are left as they are).  A product over all the columns would
    read every non-zero of X twice, for a working set that may hold a hundredth
    of them."""
    cdef Py_ssize_t K = R.shape[0], c, f, j, k
    cdef bint intercept = Hwb.shape[0] > 0
    cdef double a, h, v, r
    with nogil:
        for c in range(K):
            for f in range(coord_ptr[c], coord_ptr[c + 1]):
                j = coord_feat[f]
                a = 0.0
                h = 0.0
                for k in range(indptr[j], indptr[j + 1]):
                    v = data[k]
                    r = R[c, indices[k]]
                    a = a + v * v * r
                    h = h + v * r
                A[c, j] = a + l2
                if intercept:
                    Hwb[c, j] = h


def dense_working_curvatures(
    const floating[::1, :] X,            # IN (n, d) Fortran order
    const double[:, ::1] R,              # IN (K, n)
    const Py_ssize_t[::1] coords,        # IN the working set, flat indices c * d + j
    double l2,
    double[:, ::1] A,                    # OUT (K, d) at the working set's coordinates
    double[:, ::1] Hwb,                  # OUT (K, d) likewise, or (0, d): no intercept
    int n_threads=1,
):
    """:func:`working_curvatures` for a dense X: each coordinate's two sums in
    eight lanes (skxent/_cd_loops.h), the coordinates shared out between the
    threads (each sum is one thread's: the same bits on any number).  Given
    feature by feature, a column of X is read from memory once for all its
    outputs (R's rows stay in cache)."""
    cdef Py_ssize_t d = A.shape[1], n = X.shape[0], f, c, j
    cdef bint intercept = Hwb.shape[0] > 0
    cdef double a, h
    for f in prange(coords.shape[0], nogil=True, schedule="static",
                    num_threads=max(1, n_threads)):
        c = coords[f] // d
        j = coords[f] - c * d
        a = 0.0  # assigned here: thread-private (the kernel writes through &a)
        h = 0.0
        if floating is double:
            skx_cd_curvatures_d(&X[0, j], &R[c, 0], n, &a, &h)
        else:
            skx_cd_curvatures_f(&X[0, j], &R[c, 0], n, &a, &h)
        A[c, j] = a + l2
        if intercept:
            Hwb[c, j] = h


def softmax_curvatures(
    const floating[:, ::1] raw,          # IN (n, K) raw scores
    const double[::1] s,                 # IN (n,) row weights
    double[:, ::1] P,                    # OUT (K, n) probabilities
    double[:, ::1] Q,                    # OUT (K, n) s P
    double[:, ::1] R,                    # OUT (K, n) Q (1 - P)
    int n_threads=1,
):
    """newton-cd's Q, R and P for softmax, row by row (the same bits on any
    number of threads), in the (K, n) layout the sweeps read."""
    cdef Py_ssize_t n = raw.shape[0], K = raw.shape[1], i, c
    cdef double top, total, e, p
    for i in prange(n, nogil=True, schedule="static", num_threads=max(1, n_threads)):
        top = raw[i, 0]
        for c in range(1, K):
            if raw[i, c] > top:
                top = raw[i, c]
        total = 0.0
        for c in range(K):
            e = exp(raw[i, c] - top)
            P[c, i] = e
            total = total + e
        for c in range(K):
            p = P[c, i] / total
            P[c, i] = p
            Q[c, i] = p * s[i]
            R[c, i] = Q[c, i] * (1.0 - p)


def fortran_copy(
    const floating[:, ::1] X,            # IN (n, d) C order
    floating[::1, :] out,                # OUT (n, d) Fortran order
    int n_threads=1,
):
    """``out[...] = X``: a dense X in the column order the sweeps read, eight
    columns at a time (a row's eight neighbouring values go to eight columns
    together), the blocks of columns shared out between the threads."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], block, i, j, j0, j1
    for block in prange((d + 7) // 8, nogil=True, schedule="static",
                        num_threads=max(1, n_threads)):
        j0 = 8 * block
        j1 = min(j0 + 8, d)
        for i in range(n):
            for j in range(j0, j1):
                out[i, j] = X[i, j]


def column_abs_max(
    const floating[::1] data,            # IN CSC values
    const index_t[::1] indptr,           # IN CSC column pointers (d + 1,)
    double[::1] out,                     # OUT (d,) each column's largest |x|, 0 if empty
):
    """Each column's largest absolute value, in one pass without temporaries."""
    cdef Py_ssize_t d = out.shape[0], j, k
    cdef double big, v
    with nogil:
        for j in range(d):
            big = 0.0
            for k in range(indptr[j], indptr[j + 1]):
                v = fabs(data[k])
                if v > big:
                    big = v
            out[j] = big


# ---------------------------------------------------------------------------
# newton-cg's block-Jacobi preconditioner (BlockJacobi in _solvers): one
# (d + 1) x (d + 1) block per class, built from the class's heaviest rows and
# factored by Cholesky, each class alone on one thread.  BLAS and LAPACK are
# scipy's, found through the capsules of scipy.linalg.cython_blas and
# cython_lapack at import (building skxent needs no scipy), and called
# without the GIL; the fits run them with BLAS on one thread, so that each
# block has the same bits on any number of threads.

ctypedef void (*_syrk_t)(char *uplo, char *trans, int *n, int *k, double *alpha,
                         double *a, int *lda, double *beta, double *c,
                         int *ldc) noexcept nogil
ctypedef void (*_potrf_t)(char *uplo, int *n, double *a, int *lda,
                          int *info) noexcept nogil
ctypedef void (*_potrs_t)(char *uplo, int *n, int *nrhs, double *a, int *lda,
                          double *b, int *ldb, int *info) noexcept nogil

cdef _syrk_t _dsyrk = NULL
cdef _potrf_t _dpotrf = NULL
cdef _potrs_t _dpotrs = NULL


cdef void *_scipy_routine(module, str name) except NULL:
    capsule = module.__pyx_capi__[name]
    return PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))


def _load_lapack():
    """scipy's dsyrk, dpotrf and dpotrs, as C function pointers."""
    global _dsyrk, _dpotrf, _dpotrs
    from scipy.linalg import cython_blas, cython_lapack

    _dsyrk = <_syrk_t>_scipy_routine(cython_blas, "dsyrk")
    _dpotrf = <_potrf_t>_scipy_routine(cython_lapack, "dpotrf")
    _dpotrs = <_potrs_t>_scipy_routine(cython_lapack, "dpotrs")


_load_lapack()


cdef inline void _swap(double *v, Py_ssize_t i, Py_ssize_t j) noexcept nogil:
    cdef double t = v[i]
    v[i] = v[j]
    v[j] = t


cdef double _kth_smallest(double *v, Py_ssize_t n, Py_ssize_t k) noexcept nogil:
    """The k-th smallest of v's n values (from 0), v reordered: Hoare's
    selection with the median of three as pivot (equal values split evenly)."""
    cdef Py_ssize_t lo = 0, hi = n - 1, i, j, mid
    cdef double pivot
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if v[mid] < v[lo]:
            _swap(v, lo, mid)
        if v[hi] < v[lo]:
            _swap(v, lo, hi)
        if v[hi] < v[mid]:
            _swap(v, mid, hi)
        pivot = v[mid]
        i = lo
        j = hi
        while i <= j:
            while v[i] < pivot:
                i += 1
            while v[j] > pivot:
                j -= 1
            if i <= j:
                _swap(v, i, j)
                i += 1
                j -= 1
        # v[lo..j] <= pivot <= v[i..hi], and pivot between them.
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return v[k]
    return v[k]


cdef inline Py_ssize_t _binade(double x) noexcept nogil:
    """x's top 12 bits (sign and exponent) as a bin of :func:`_kth_largest`:
    the order of non-negative doubles; negatives, -0.0 and NaN in bin 0."""
    cdef unsigned long long bits
    memcpy(&bits, &x, sizeof(double))
    return 0 if bits >> 63 or x != x else <Py_ssize_t>(bits >> 52)


cdef double _kth_largest(
    const double *r, Py_ssize_t n, Py_ssize_t k, double *values, Py_ssize_t *counts
) noexcept nogil:
    """The k-th largest of r's n values (from 1).  One pass counts the values
    by their top 12 bits (sign and exponent: the order of non-negative
    doubles; negative values, -0.0 and NaN go to the first bin, with +0.0 and
    the subnormals), and the binade that holds the k-th largest is searched
    by :func:`_kth_smallest`: the curvatures span many binades, and a
    selection over all n values took a third of the blocks' time.  With a NaN
    among them the result is some value of r (the caller takes at most k
    rows, never a NaN)."""
    cdef Py_ssize_t i, m = 0, above = 0, b
    memset(counts, 0, 2048 * sizeof(Py_ssize_t))
    for i in range(n):
        counts[_binade(r[i])] += 1
    b = 2047
    while above + counts[b] < k:
        above += counts[b]
        b -= 1
    for i in range(n):
        if _binade(r[i]) == b:
            values[m] = r[i]
            m += 1
    return _kth_smallest(values, m, m - (k - above))


cdef void _class_block(
    const floating[:, ::1] X, const double *r, const double[:, ::1] B,
    const double[::1] ridge, Py_ssize_t most, bint intercept, double *values,
    Py_ssize_t *counts, Py_ssize_t *rows, double *A, double *diagonal, double *block,
) noexcept nogil:
    """One class's factor: see :func:`block_jacobi_factors`."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], d1 = B.shape[0], i, j, m = 0
    cdef Py_ssize_t ties = 0
    cdef double tau = -1.0, exact = 0.0, rest, trace = 0.0, lift
    cdef int n_ = <int>d1, k_, info = 0
    cdef double one = 1.0, zero = 0.0
    cdef char lower = b"L", plain = b"N"
    if most < n:
        tau = _kth_largest(r, n, most, values, counts)
        ties = most
        for i in range(n):
            if r[i] > tau:
                ties -= 1
    # The rows above tau and the first `ties` rows at tau (every row when
    # most = n: the curvatures are >= 0), in row order; never a NaN, never
    # more than `most` (NaNs can make tau too small).
    for i in range(n):
        if m == most:
            break
        if r[i] > tau or (r[i] == tau and ties > 0):
            if not r[i] > tau:
                ties -= 1
            rows[m] = i
            exact += r[i]
            m += 1
    if floating is double:
        skx_bj_gather_d(&X[0, 0], d, r, rows, m, intercept, A)
    else:
        skx_bj_gather_f(&X[0, 0], d, r, rows, m, intercept, A)
    # block = A A^T (A: d1 x m in Fortran's order), its lower triangle
    # (Fortran's: row j of the C array holds column j).
    k_ = <int>m
    _dsyrk(&lower, &plain, &n_, &k_, &one, A, &n_, &zero, block, &n_)
    rest = skx_bj_sum(r, n) - exact  # (a rounding error when every row is exact)
    if not rest > 0:
        rest = 0.0
    for j in range(d1):
        for i in range(j, d1):
            block[j * d1 + i] += rest * B[j, i]
        for i in range(j):
            block[j * d1 + i] = 0.0
        trace += block[j * d1 + j]
    lift = 1e-12 * max(trace / d1, 1e-300)
    for j in range(d1):
        block[j * d1 + j] += ridge[j] + lift
        diagonal[j] = block[j * d1 + j]
    _dpotrf(&lower, &n_, block, &n_, &info)
    if info != 0:
        # Not positive definite at the working precision: its diagonal.
        for j in range(d1):
            for i in range(d1):
                block[j * d1 + i] = 0.0
            block[j * d1 + j] = sqrt(diagonal[j]) if diagonal[j] > 0 else 1.0


def block_jacobi_curvatures(
    const floating[:, ::1] raw,          # IN (n, K) raw scores
    const double[::1] s,                 # IN (n,) row weights
    double[:, ::1] R,                    # OUT (K, n) s p (1 - p)
    int n_threads=1,
):
    """Softmax's curvatures ``s_i p_ic (1 - p_ic)`` for the blocks, row by
    row (the same bits on any number of threads), in the (K, n) layout
    :func:`block_jacobi_factors` reads.  The exponential is good to about
    1e-8 (``skx_bj_exp``): a preconditioner's accuracy, at a fraction of
    libm's cost (with 1000 classes, libm's exp took most of the pass)."""
    cdef Py_ssize_t n = raw.shape[0], K = raw.shape[1], i
    cdef int nt = max(1, n_threads), tid
    if R.shape[0] != K or R.shape[1] != n or s.shape[0] != n:
        raise ValueError("block_jacobi_curvatures: inconsistent shapes")
    cdef double[:, ::1] work = np.empty((nt, K))
    for i in prange(n, nogil=True, schedule="static", num_threads=nt):
        tid = threadid()
        if floating is double:
            skx_bj_curvatures_d(&raw[i, 0], K, s[i], &work[tid, 0], &R[0, i], n)
        else:
            skx_bj_curvatures_f(&raw[i, 0], K, s[i], &work[tid, 0], &R[0, i], n)


def block_jacobi_factors(
    const floating[:, ::1] X,            # IN (n, d)
    const double[:, ::1] R,              # IN (K, n) each class's row curvatures, >= 0
    const double[:, ::1] B,              # IN (d1, d1) the rows' mean second moment
    const double[::1] ridge,             # IN (d1,) added to the diagonal
    Py_ssize_t most,                     # IN rows summed exactly, <= n
    bint intercept,                      # IN d1 = d + 1, the last column X's ones
    double[:, :, ::1] out,               # OUT (K, d1, d1) Cholesky factors
    int n_threads=1,
):
    """Each class's block ``X~^T diag(r_c) X~`` and its Cholesky factor.

    ``X~`` is X with a column of ones when ``intercept``.  The ``most`` rows
    of largest ``r_c`` (ties in row order, NaNs never) are summed exactly by
    BLAS's dsyrk; the rest of the class's weight (if > 0) enters as that
    weight times B.  The diagonal gets ``ridge + 1e-12 trace / d1``.  Factor c is
    lower triangular in Fortran's order (row j of ``out[c]`` is its column
    j, zero above the diagonal), as dpotrs reads it; a block that LAPACK
    finds not positive definite gets its diagonal's square root instead.
    Classes are shared out between the threads, each computed alone.
    """
    cdef Py_ssize_t K = R.shape[0], n = R.shape[1], d1 = B.shape[0], c
    cdef int nt = max(1, n_threads), tid
    if (X.shape[0] != n or X.shape[1] + intercept != d1 or not 0 < most <= n
            or B.shape[1] != d1 or ridge.shape[0] != d1 or d1 < 1):
        raise ValueError("block_jacobi_factors: inconsistent shapes")
    if out.shape[0] != K or out.shape[1] != d1 or out.shape[2] != d1:
        raise ValueError("block_jacobi_factors: out has the wrong shape")
    cdef double[:, ::1] values = np.empty((nt, n))
    cdef Py_ssize_t[:, ::1] counts = np.empty((nt, 2048), dtype=np.intp)
    cdef Py_ssize_t[:, ::1] rows = np.empty((nt, most), dtype=np.intp)
    cdef double[:, ::1] A = np.empty((nt, most * d1))
    cdef double[:, ::1] diagonal = np.empty((nt, d1))
    for c in prange(K, nogil=True, schedule="static", num_threads=nt):
        tid = threadid()
        _class_block(X, &R[c, 0], B, ridge, most, intercept, &values[tid, 0],
                     &counts[tid, 0], &rows[tid, 0], &A[tid, 0], &diagonal[tid, 0],
                     &out[c, 0, 0])


def block_jacobi_solve(
    const double[:, :, ::1] factors,     # IN (K, d1, d1) of block_jacobi_factors
    const double[:, ::1] V,              # IN (d1, K) one column a class
    double[:, ::1] out,                  # OUT (d1, K) each column through its block's inverse
    int n_threads=1,
):
    """``out[:, c] = M_c^{-1} V[:, c]`` with LAPACK's dpotrs on factor c."""
    cdef Py_ssize_t K = factors.shape[0], d1 = factors.shape[1], c, j
    cdef int nt = max(1, n_threads), tid, n_ = <int>d1, one = 1, info
    cdef char lower = b"L"
    if V.shape[0] != d1 or V.shape[1] != K or out.shape[0] != d1 or out.shape[1] != K:
        raise ValueError("block_jacobi_solve: inconsistent shapes")
    cdef double[:, ::1] work = np.empty((nt, d1))
    for c in prange(K, nogil=True, schedule="static", num_threads=nt):
        tid = threadid()
        info = 0  # assigned in the loop: private to each thread
        for j in range(d1):
            work[tid, j] = V[j, c]
        _dpotrs(&lower, &n_, &one, <double *>&factors[c, 0, 0], &n_, &work[tid, 0], &n_,
                &info)
        for j in range(d1):
            out[j, c] = work[tid, j]


# ---------------------------------------------------------------------------
# newton-cg's conjugate gradients (skxent/_solvers.py's _pcg): the vector
# work of a step, on flat coefficient vectors of millions of entries on text
# data, where numpy and BLAS took a pass over memory per operation on one
# core.  Fixed blocks (whole runs of k entries), shared out as above, their
# sums added in block order: the same bits on any number of threads.

cdef inline Py_ssize_t _cg_start(Py_ssize_t n, Py_ssize_t k, Py_ssize_t b) noexcept nogil:
    """The first entry of block b of n entries in runs of k."""
    return ((n // k) * b // BLOCKS) * k


def _cg_check(name, n, *vectors):
    for v in vectors:
        if v.shape[0] != n:
            raise ValueError(f"{name}: vectors of {v.shape[0]} and {n} entries")


def cg_dot(
    const double[::1] x,        # IN
    const double[::1] y,        # IN
    int n_threads=1,
):
    """``x . y``."""
    cdef Py_ssize_t n = x.shape[0], b, r0
    _cg_check("cg_dot", n, y)
    cdef double[::1] part = np.zeros(BLOCKS)
    for b in prange(BLOCKS, nogil=True, schedule="static", chunksize=1,
                    num_threads=_row_threads(n, n_threads)):
        r0 = _cg_start(n, 1, b)
        part[b] = skx_cg_dot(&x[r0], &y[r0], _cg_start(n, 1, b + 1) - r0)
    return _in_block_order(part)


def cg_step(
    double a,
    const double[::1] d,        # IN the direction
    const double[::1] h,        # IN H d
    double[::1] p,              # INOUT p + a d
    double[::1] r,              # INOUT r - a h
    int n_threads=1,
):
    """A step of conjugate gradients, ``p += a d`` and ``r -= a H d``, in one
    pass; returns ``r . r`` of the new residual."""
    cdef Py_ssize_t n = d.shape[0], b, r0
    _cg_check("cg_step", n, h, p, r)
    cdef double[::1] part = np.zeros(BLOCKS)
    for b in prange(BLOCKS, nogil=True, schedule="static", chunksize=1,
                    num_threads=_row_threads(n, n_threads)):
        r0 = _cg_start(n, 1, b)
        part[b] = skx_cg_step(a, &d[r0], &h[r0], &p[r0], &r[r0], _cg_start(n, 1, b + 1) - r0)
    return _in_block_order(part)


def cg_precondition(
    const double[::1] r,        # IN the residual
    const double[::1] inverse,  # IN 1 / diag(H)
    Py_ssize_t k,               # runs of k entries centred (k > 1), or none
    double[::1] z,              # OUT
    int n_threads=1,
):
    """The diagonal preconditioner: ``z = r * inverse``, then each run of k
    entries (a feature's K classes) less its mean; returns ``r . z``."""
    cdef Py_ssize_t n = r.shape[0], b, r0
    cdef Py_ssize_t run = max(k, 1)
    _cg_check("cg_precondition", n, inverse, z)
    if n % run:
        raise ValueError(f"cg_precondition: {n} entries are not runs of {k}")
    cdef double[::1] part = np.zeros(BLOCKS)
    for b in prange(BLOCKS, nogil=True, schedule="static", chunksize=1,
                    num_threads=_row_threads(n, n_threads)):
        r0 = _cg_start(n, run, b)
        part[b] = skx_cg_precondition(&r[r0], &inverse[r0], k, &z[r0],
                                      _cg_start(n, run, b + 1) - r0)
    return _in_block_order(part)


def cg_direction(
    double beta,
    const double[::1] z,        # IN the preconditioned residual
    double[::1] d,              # INOUT z + beta d
    int n_threads=1,
):
    """The next direction of conjugate gradients, ``d = z + beta d``."""
    cdef Py_ssize_t n = d.shape[0], b, r0
    _cg_check("cg_direction", n, z)
    for b in prange(BLOCKS, nogil=True, schedule="static", chunksize=1,
                    num_threads=_row_threads(n, n_threads)):
        r0 = _cg_start(n, 1, b)
        skx_cg_direction(beta, &z[r0], &d[r0], _cg_start(n, 1, b + 1) - r0)


def openmp_bind(module=None):
    """Run this module's parallel region on the OpenMP runtime of the loaded
    extension module at path ``module`` (see skxent/_omp.h): the one that
    :mod:`skxent._core` binds to, so that one pool of threads serves both."""
    cdef const char *where = NULL
    cdef bytes path = None if module is None else str(module).encode()
    return skx_omp_bind(NULL if path is None else <const char *> path, &where)


def _bind_as_core():
    """At import: the runtime that the loss kernels chose."""
    from ._config import build_info

    path = build_info().get("openmp_library")
    openmp_bind(path if path else None)


_bind_as_core()


# For the tests: the fewest rows that take the blocked sweeps.
BLOCKED_ROWS = MIN_BLOCKED_ROWS
