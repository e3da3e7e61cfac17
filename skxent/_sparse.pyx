"""Products of a CSR matrix with a dense matrix of a few columns.

Called by :mod:`skxent._linear_loss` only.  The objective of a linear model on
sparse ``X`` needs ``Z = X W + b`` and ``X^T G`` with ``W`` of shape (d, K) and
``G`` of shape (n, K), K the number of outputs.  scipy runs both on one thread;
here every output row is a sum over one row of a CSR matrix (``X`` for ``X W``,
``X^T`` stored as CSR for ``X^T G``), computed by one thread in the order of the
row's entries: the result has the same bits for any number of threads, and
the rows are shared out dynamically, since word counts are far from even
(the frequent columns of text hold most entries).  With K > 1, a thread's rows
go to the vector kernels of ``_sparse_simd.h`` (AVX-512 or AVX2: a row's sums
across its K outputs held in registers, the same bits as the loops here, which
run on other CPUs).  On the text-like benchmark problem (K = 20, Intel Xeon,
one thread) AVX-512 made ``X^T G`` 1.8x and ``X W`` 1.8x faster in float32,
1.2x and 1.6x in float64.

Arguments are marked ``# IN`` / ``# OUT``; the caller guarantees shapes,
dtypes and index ranges.  Nothing here allocates or raises
(but :func:`simd_select`, for the tests).
"""

from cython.parallel cimport parallel

cdef extern from "_omp.h" nogil:
    int skx_omp_bind(const char *module, const char **where)
    Py_ssize_t skx_claim(Py_ssize_t *next, Py_ssize_t step)

cdef extern from "_sparse_simd.h" nogil:
    int SKX_SP_PF
    int skx_sp_select(int isa)
    int skx_sp_current()
    int sp_rows_dd_i32(const double *data, const int *indices, const int *indptr,
                       Py_ssize_t r0, Py_ssize_t r1, const double *D, Py_ssize_t K,
                       const double *b, double *out, int squared, Py_ssize_t nnz)
    int sp_rows_dd_i64(const double *data, const long long *indices, const long long *indptr,
                       Py_ssize_t r0, Py_ssize_t r1, const double *D, Py_ssize_t K,
                       const double *b, double *out, int squared, Py_ssize_t nnz)
    int sp_rows_ff_i32(const float *data, const int *indices, const int *indptr,
                       Py_ssize_t r0, Py_ssize_t r1, const float *D, Py_ssize_t K,
                       const float *b, float *out, int squared, Py_ssize_t nnz)
    int sp_rows_ff_i64(const float *data, const long long *indices, const long long *indptr,
                       Py_ssize_t r0, Py_ssize_t r1, const float *D, Py_ssize_t K,
                       const float *b, float *out, int squared, Py_ssize_t nnz)
    int sp_rows_fd_i32(const float *data, const int *indices, const int *indptr,
                       Py_ssize_t r0, Py_ssize_t r1, const float *D, Py_ssize_t K,
                       const float *b, double *out, int squared, Py_ssize_t nnz)
    int sp_rows_fd_i64(const float *data, const long long *indices, const long long *indptr,
                       Py_ssize_t r0, Py_ssize_t r1, const float *D, Py_ssize_t K,
                       const float *b, double *out, int squared, Py_ssize_t nnz)

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define skx_prefetch(p) __builtin_prefetch((p))
    #else
    #define skx_prefetch(p) ((void)0)
    #endif
    """
    void skx_prefetch(const void *p) nogil

ctypedef fused floating:
    float
    double

ctypedef fused index_t:
    int
    long long

# Output rows handed to a thread at a time.
cdef enum:
    GRAIN = 64

# Entries ahead whose row of the dense matrix is prefetched (_sparse_simd.h).
cdef Py_ssize_t PF = SKX_SP_PF

# The instruction sets of the vector kernels (_sparse_simd.h), by code.
SIMD_LEVELS = {"none": 0, "avx2": 2, "avx512": 3}


def simd_select(level):
    """Run the products on the vector kernels of ``level`` (``"none"``: this
    module's loops; None: the widest the CPU has); return the previous level.
    For the tests: not thread-safe, process-wide."""
    names = {code: name for name, code in SIMD_LEVELS.items()}
    previous = names[skx_sp_current()]
    code = -1 if level is None else SIMD_LEVELS.get(level, -2)
    if code == -2 or skx_sp_select(code) < 0:
        raise ValueError(f"this CPU cannot run the {level} kernels of the CSR products")
    return previous


cdef inline int xw_rows(
    const floating[::1] data, const index_t[::1] indices, const index_t *indptr,
    Py_ssize_t r0, Py_ssize_t r1, const floating[:, ::1] W, const floating *b,
    floating[:, ::1] out,
) noexcept nogil:
    """Rows r0..r1-1 of ``X W + b`` on the vector kernels: 1, or 0 if none is selected."""
    cdef Py_ssize_t K = out.shape[1], nnz = indices.shape[0]
    if floating is float:
        if index_t is int:
            return sp_rows_ff_i32(&data[0], &indices[0], indptr, r0, r1, &W[0, 0], K, b,
                                  &out[0, 0], 0, nnz)
        else:
            return sp_rows_ff_i64(&data[0], &indices[0], indptr, r0, r1, &W[0, 0], K, b,
                                  &out[0, 0], 0, nnz)
    else:
        if index_t is int:
            return sp_rows_dd_i32(&data[0], &indices[0], indptr, r0, r1, &W[0, 0], K, b,
                                  &out[0, 0], 0, nnz)
        else:
            return sp_rows_dd_i64(&data[0], &indices[0], indptr, r0, r1, &W[0, 0], K, b,
                                  &out[0, 0], 0, nnz)


cdef inline int xtg_rows(
    const floating[::1] data, const index_t[::1] indices, const index_t[::1] indptr,
    Py_ssize_t r0, Py_ssize_t r1, const floating[:, ::1] G, double[:, ::1] out, bint squared,
) noexcept nogil:
    """Rows r0..r1-1 of ``X^T G`` on the vector kernels: 1, or 0 if none is selected."""
    cdef Py_ssize_t K = out.shape[1], nnz = indices.shape[0]
    if floating is float:
        if index_t is int:
            return sp_rows_fd_i32(&data[0], &indices[0], &indptr[0], r0, r1, &G[0, 0], K,
                                  NULL, &out[0, 0], squared, nnz)
        else:
            return sp_rows_fd_i64(&data[0], &indices[0], &indptr[0], r0, r1, &G[0, 0], K,
                                  NULL, &out[0, 0], squared, nnz)
    else:
        if index_t is int:
            return sp_rows_dd_i32(&data[0], &indices[0], &indptr[0], r0, r1, &G[0, 0], K,
                                  NULL, &out[0, 0], squared, nnz)
        else:
            return sp_rows_dd_i64(&data[0], &indices[0], &indptr[0], r0, r1, &G[0, 0], K,
                                  NULL, &out[0, 0], squared, nnz)


def openmp_bind(module=None):
    """Run this module's parallel regions on the OpenMP runtime of the loaded
    extension module at path ``module`` (see skxent/_omp.h): the one that
    :mod:`skxent._core` binds to, so that one pool of threads serves both."""
    cdef const char *where = NULL
    cdef bytes path = None if module is None else str(module).encode()
    return skx_omp_bind(NULL if path is None else <const char *> path, &where)


def csr_times_dense(
    const floating[::1] data,       # IN CSR values
    const index_t[::1] indices,     # IN CSR column indices
    const index_t[::1] indptr,      # IN CSR row pointers
    Py_ssize_t row_start,           # first row of the product
    const floating[:, ::1] W,       # IN (d, K)
    const floating[::1] b,          # IN (K,) added to every row, or empty
    floating[:, ::1] out,           # OUT (rows, K)
    int n_threads,
):
    """``out[r] = b + sum_k data[k] W[indices[k]]`` over the entries of row
    ``row_start + r``; sums in the data's dtype, as a BLAS product would."""
    cdef Py_ssize_t n_rows = out.shape[0], K = out.shape[1]
    cdef Py_ssize_t r, k, c, end
    cdef bint has_b = b.shape[0] > 0
    cdef floating v, acc
    cdef floating *o
    cdef const floating *wr
    cdef const floating *pf
    cdef Py_ssize_t nnz = indices.shape[0]
    # Shared (an element write is not made thread-private, a variable is).
    cdef Py_ssize_t next_row[1]
    cdef Py_ssize_t r0, r1
    next_row[0] = 0
    with nogil, parallel(num_threads=max(1, min(n_threads, (n_rows + GRAIN - 1) // GRAIN))):
        while True:
            r0 = skx_claim(&next_row[0], GRAIN)
            if r0 >= n_rows:
                break
            r1 = min(r0 + GRAIN, n_rows)
            if K == 1:
                # One output: the sum in a register, the same order (and
                # bits) as below, where each step went through memory.
                for r in range(r0, r1):
                    acc = b[0] if has_b else 0
                    end = indptr[row_start + r + 1]
                    for k in range(indptr[row_start + r], end):
                        if k + PF < nnz:
                            skx_prefetch(&W[indices[k + PF], 0])
                        acc = acc + data[k] * W[indices[k], 0]
                    out[r, 0] = acc
                continue
            if xw_rows(data, indices, &indptr[row_start], r0, r1, W,
                       &b[0] if has_b else NULL, out):
                continue
            for r in range(r0, r1):
                o = &out[r, 0]
                if has_b:
                    for c in range(K):
                        o[c] = b[c]
                else:
                    for c in range(K):
                        o[c] = 0
                end = indptr[row_start + r + 1]
                for k in range(indptr[row_start + r], end):
                    if k + PF < nnz:
                        pf = &W[indices[k + PF], 0]
                        skx_prefetch(pf)
                        skx_prefetch(pf + K - 1)
                    v = data[k]
                    wr = &W[indices[k], 0]
                    for c in range(K):
                        o[c] = o[c] + v * wr[c]


def csr_times_dense_f64(
    const floating[::1] data,       # IN CSR values (of X^T)
    const index_t[::1] indices,     # IN CSR column indices
    const index_t[::1] indptr,      # IN CSR row pointers
    const floating[:, ::1] G,       # IN (n, K)
    double[:, ::1] out,             # OUT (d, K)
    bint squared,
    int n_threads,
):
    """``out[j] = sum_k v_k G[indices[k]]`` over the entries of row j, summed
    in float64 (the gradient's dtype); ``v_k = data[k]``, or its square with
    ``squared`` (the curvature of a coordinate, ``sum_i x_ij^2 R_i``, without
    a squared copy of X)."""
    cdef Py_ssize_t n_rows = out.shape[0], K = out.shape[1]
    cdef Py_ssize_t r, k, c
    cdef double v, acc
    cdef double *o
    cdef const floating *gr
    cdef const floating *pf
    cdef Py_ssize_t nnz = indices.shape[0]
    cdef Py_ssize_t next_row[1]
    cdef Py_ssize_t r0, r1
    next_row[0] = 0
    with nogil, parallel(num_threads=max(1, min(n_threads, (n_rows + GRAIN - 1) // GRAIN))):
        while True:
            r0 = skx_claim(&next_row[0], GRAIN)
            if r0 >= n_rows:
                break
            r1 = min(r0 + GRAIN, n_rows)
            if K == 1:
                # One output: the sum in a register, the same order (and
                # bits) as below; G's one column stays in cache, unfetched.
                for r in range(r0, r1):
                    acc = 0.0
                    for k in range(indptr[r], indptr[r + 1]):
                        v = data[k]
                        if squared:
                            v = v * v
                        acc = acc + v * G[indices[k], 0]
                    out[r, 0] = acc
                continue
            if xtg_rows(data, indices, indptr, r0, r1, G, out, squared):
                continue
            for r in range(r0, r1):
                o = &out[r, 0]
                for c in range(K):
                    o[c] = 0.0
                for k in range(indptr[r], indptr[r + 1]):
                    if k + PF < nnz:
                        pf = &G[indices[k + PF], 0]
                        skx_prefetch(pf)
                        skx_prefetch(pf + K - 1)
                    v = data[k]
                    if squared:
                        v = v * v
                    gr = &G[indices[k], 0]
                    for c in range(K):
                        o[c] = o[c] + v * gr[c]


def csr_transpose(
    const floating[::1] data,       # IN CSR values
    const index_t[::1] indices,     # IN CSR column indices
    const index_t[::1] indptr,      # IN CSR row pointers
    const Py_ssize_t[::1] bounds,   # IN (parts + 1,) rows where each part starts
    floating[::1] data_t,           # OUT values of X^T as CSR (X as CSC)
    index_t[::1] indices_t,         # OUT their row indices, increasing in each column
    index_t[::1] indptr_t,          # OUT (n_cols + 1,) column pointers
    Py_ssize_t[:, ::1] count,       # SCRATCH (parts, n_cols), zeros
    int n_threads,
):
    """X^T as CSR, i.e. X as CSC with sorted row indices: what scipy's
    ``tocsc`` makes, on several threads.  Each part of the rows (``bounds``)
    counts its entries per column; the counts give every part its own slots
    in each column, after the earlier parts' (so the rows come out in order);
    then each part writes its entries there.  The result does not depend on
    the parts or the threads."""
    cdef Py_ssize_t parts = bounds.shape[0] - 1, n_cols = indptr_t.shape[0] - 1
    cdef Py_ssize_t t, r, k, j, pos, start, c
    cdef Py_ssize_t next_part[1]
    next_part[0] = 0
    with nogil, parallel(num_threads=max(1, min(n_threads, parts))):
        while True:
            t = skx_claim(&next_part[0], 1)
            if t >= parts:
                break
            for k in range(indptr[bounds[t]], indptr[bounds[t + 1]]):
                count[t, indices[k]] += 1
    with nogil:
        start = 0
        indptr_t[0] = 0
        for j in range(n_cols):
            for t in range(parts):
                c = count[t, j]
                count[t, j] = start
                start = start + c
            indptr_t[j + 1] = <index_t> start
    next_part[0] = 0
    with nogil, parallel(num_threads=max(1, min(n_threads, parts))):
        while True:
            t = skx_claim(&next_part[0], 1)
            if t >= parts:
                break
            for r in range(bounds[t], bounds[t + 1]):
                for k in range(indptr[r], indptr[r + 1]):
                    j = indices[k]
                    pos = count[t, j]
                    count[t, j] = pos + 1
                    indices_t[pos] = <index_t> r
                    data_t[pos] = data[k]


skx_sp_select(-1)


def _bind_as_core():
    """At import: the runtime that the loss kernels chose (its library's path,
    from the build-info helper)."""
    from ._config import build_info

    path = build_info().get("openmp_library")
    openmp_bind(path if path else None)


_bind_as_core()
