r"""Objective, gradient and Hessian of a linear model under cross entropy.

Raw scores are :math:`Z = X W + b`; a configured
:class:`skxent.loss.CrossEntropyLoss` turns them into per-sample losses and
gradients :math:`G = \partial \ell / \partial Z`; this module maps back to the
coefficients, :math:`\nabla_W = X^T G`, and adds the penalty.  The objective is
scikit-learn's ``LogisticRegression`` objective (``sklearn/linear_model/
_linear_loss.py`` and ``_logistic.py``, scikit-learn 1.9)::

    f(W, b) = 1/N sum_i s_i l_i(X_i W + b)  +  1/(2 C N) ||W||^2

with sample weights ``s`` and ``N = sum_i s_i S_i``, where ``S_i`` is the
class-weighted target mass of row ``i`` (``class_weight[y_i]`` for a hard
label, 1 without class weights): exactly scikit-learn's ``sw_sum`` after it
multiplies the sample weights by the class weights.  The intercept is not
penalised.  ``N`` rescales the whole objective, so it changes what ``tol``
means but not the minimiser; multiplying every weight by ``c`` is the same as
multiplying ``C`` by ``c``.  The weights are divided by their largest before
anything is summed, so that weights of 1e308 or subnormal weights lose nothing
to overflow or underflow.

The targets arrive encoded and validated (:mod:`skxent._validation`); nothing
here checks them again, inside or outside the solvers' iterations.

Coefficients travel as one flat float64 vector ``w`` (what scipy's optimisers
want): first ``W`` of shape ``(n_features, K)`` in C order, then the ``K``
intercepts.  ``K`` is the number of classes for the softmax link, 1 for a
binary sigmoid, the number of labels for multilabel sigmoids.

Dense ``X`` is never copied.  It is read in row chunks small enough to stay in
cache, and each chunk goes through ``X_b @ W``, the kernel and ``X_b.T @ G_b``
before the next one is read: one pass over memory per evaluation instead of
two.  The chunks run in parallel and their sums are added in chunk order
(:mod:`skxent._chunks`), so a result has the same bits for any number of
threads.  For sparse ``X`` the chunks fill one gradient matrix ``G`` and a
single sparse product ``X^T G`` follows (a dense ``X_b^T G_b`` per chunk would
cost ``n_features * K`` per chunk, whatever the number of non-zeros).
float32 ``X`` is multiplied in float32 (coefficients are cast down for the
product): sums within a chunk are BLAS's, in float32, and the chunks' partial
sums, the losses and everything the solvers see are float64.
"""

import copy
import math
import threading

import numpy as np
from scipy import sparse
from scipy.linalg import blas
from scipy.special import log_softmax

from . import _sparse
from . import loss as _loss
from ._chunks import ChunkRunner
from ._validation import SampleWeight

__all__ = ["LinearModelLoss"]

# Bytes of X per chunk: about one core's L2 cache on the machines we measured.
_CHUNK_BYTES = 1 << 21
_MIN_CHUNK_ROWS = 256
# The penalty strength 1 / (C N) is capped here: beyond it the coefficients
# are 0 to working precision anyway (a uniform weight of 1e-310 with C = 1
# asks for 2.5e309), and infinity would turn 0 * inf into NaN.
_MAX_L2 = 1e300
# Stored entries of X times outputs from which Hessian products of float64
# sparse data run in float32 (see LinearModelLoss._float32_products): below
# it a product takes a few milliseconds and exact ones cost nothing.
_FLOAT32_PRODUCTS_WORK = 10**7
# Dense float64 X multiplies the Hessian in float32 from this many outputs on
# (with the work above): the preconditioner's diagonal blocks take over there.
_FLOAT32_DENSE_OUTPUTS = 200
_EMPTY_OF = {np.float32: np.empty(0, dtype=np.float32), np.float64: np.empty(0)}


class _Point:
    """The state of the objective at a point: raw scores, and for sigmoids the
    diagonal of the Hessian in them (what Hessian products need).

    ``raw`` and ``hdiag`` are (n,) for a single sigmoid output, else (n, K);
    ``raw2`` and ``hdiag2`` are (n, K) views of them.
    """

    __slots__ = ("raw", "hdiag", "raw2", "hdiag2")

    def __init__(self, n, K, dtype, sigmoid):
        shape = (n,) if sigmoid and K == 1 else (n, K)
        self.raw = np.empty(shape, dtype=dtype)
        self.raw2 = self.raw.reshape(n, K)
        self.hdiag = self.hdiag2 = None
        if sigmoid:
            self.hdiag = np.empty(shape, dtype=dtype)
            self.hdiag2 = self.hdiag.reshape(n, K)


def _sym(a):
    return 0.5 * (a + a.T)


def _used_columns(X, n_threads):
    """``(columns, XT)``: the columns of a sparse X that hold entries, when they
    are at most half of them (else None); and for a CSR X its transpose
    (:func:`_csr_transpose`, of X's used columns only), whose row pointers
    count them (else None).

    A column without entries contributes nothing to the loss: its gradient is
    the penalty's alone, and its coefficients are 0 at the optimum.  Fitting
    the other columns only makes an iteration cost the data's size rather than
    ``n_features * K`` (300 rows of text in 10**6 columns: 3 000 non-zeros).
    """
    if not sparse.issparse(X) or X.shape[1] == 0:
        return None, None
    XT = None
    if X.format == "csc":
        used = np.diff(X.indptr) > 0
    elif X.format == "csr":
        # The transpose the gradients need anyway: its row pointers are the
        # column counts (a bincount of the indices took 28 ms of a 0.6 s fit).
        XT = _csr_transpose(X, n_threads)
        used = np.diff(XT[2]) > 0
    else:
        used = np.bincount(X.tocsr().indices, minlength=X.shape[1]) > 0
    if used.sum() > X.shape[1] // 2:
        return None, XT
    columns = np.flatnonzero(used)
    if XT is not None:
        # The dropped rows of X^T are empty: its entries stay as they are.
        data, indices, indptr = XT
        XT = (data, indices, np.append(indptr[columns], indptr[-1]).astype(indptr.dtype))
    return columns, XT


def _csr_arrays(X):
    """``(data, indices, indptr)`` of a CSR matrix, with one index dtype (a copy
    of the row pointers at most), as skxent's sparse products take them."""
    indptr = X.indptr
    if indptr.dtype != X.indices.dtype:
        indptr = indptr.astype(X.indices.dtype)
    return np.ascontiguousarray(X.data), np.ascontiguousarray(X.indices), indptr


def _weighted_sums(s, T):
    """``s @ T`` (rows weighted and summed) by numpy's own loop, not BLAS:
    BLAS splits a long sum between its threads, and the result's bits (a fit's
    starting point, outside the fit's single-threaded BLAS) then changed with
    their number."""
    return np.einsum("i,i...->...", s, T)


def _csr_transpose(X, n_threads):
    """``(data, indices, indptr)`` of ``X^T`` as CSR (X as CSC, sorted) for a CSR
    X: scipy's conversion, on ``n_threads`` threads (:func:`skxent._sparse.csr_transpose`;
    scipy's took 0.1 s of a 0.7 s fit on the text-like benchmark problem)."""
    data, indices, indptr = _csr_arrays(X)
    n, d = X.shape
    nnz = indices.shape[0]
    # One (parts, d) table of counts: no more parts than it pays for.
    parts = max(1, min(int(n_threads), nnz // max(d, 1), n))
    bounds = np.searchsorted(indptr, np.linspace(0, nnz, parts + 1), side="left")
    bounds = np.clip(bounds, 0, n).astype(np.intp)
    bounds[0], bounds[-1] = 0, n
    data_t = np.empty_like(data)
    indices_t = np.empty(nnz, dtype=indices.dtype)
    indptr_t = np.empty(d + 1, dtype=indices.dtype)
    count = np.zeros((parts, d), dtype=np.intp)
    _sparse.csr_transpose(data, indices, indptr, bounds, data_t, indices_t, indptr_t, count, parts)
    return data_t, indices_t, indptr_t


def hessian_stride(n, n_dof):
    """The stride m of the row sample that Hessians are estimated from: every
    m-th row, about max(20000, 20 n_dof) rows; 1 (all rows) unless there are
    at least twice as many."""
    n_sub = max(20_000, 20 * n_dof)
    return n // n_sub if n >= 2 * n_sub else 1


def fair_share(share, n, stride):
    """Whether the sampled rows' ``share`` of the weight is within a factor 2
    of their share of the rows (else the weights are skewed: exact Hessians)."""
    expected = len(range(0, n, stride)) / n
    return 0.5 * expected <= share <= 2.0 * expected


def strided_chunks(n, stride, rows_per_chunk, start=0):
    """Row slices ``start, start + stride, ...`` below n, about
    ``rows_per_chunk`` rows each (views of a dense X)."""
    step = stride * max(1, rows_per_chunk)
    return [slice(i, min(i + step, n), stride) for i in range(start, n, step)]


def _softmax_curvature(raw, weight, dtype):
    """``weight_i p_ic (1 - p_ic)`` in ``dtype``, ``p_i`` the softmax of the
    raw scores ``raw[i]``: each row's Hessian diagonal in its raw scores.
    Computed in place on one copy of ``raw`` (a preconditioner's input:
    float32 where the products it serves are float32)."""
    P = np.array(raw, dtype=dtype)
    P -= P.max(axis=1, keepdims=True)
    np.exp(P, out=P)
    P /= P.sum(axis=1, keepdims=True)
    R = np.subtract(1, P, dtype=dtype)
    R *= P
    R *= np.asarray(weight, dtype=dtype)[:, None]
    return R


def _unit_scaled(hessp):
    """``v -> 2^e hessp(2^-e v)`` with ``2^e`` the power of two just above
    ``max|v|``: the same product (scaling by a power of two is exact), with
    ``v``'s largest entry in [0.5, 1).

    Conjugate gradients' directions shrink with their residual.  Near the
    optimum of 1000 classes (20000 x 128, float32 products) they had entries
    of 1e-4 and less, and the row products ``s p (u - m)``, with row weights
    of 1/n and probabilities down to 1e-38, fell below float32's smallest
    normal number: BLAS then multiplied subnormals, and a product took
    0.25 s instead of 0.11 s (and lost digits).
    """

    def scaled(v):
        # max|v| without a temporary |v|; NaN makes it NaN
        big = max(float(np.max(v, initial=-np.inf)), -float(np.min(v, initial=np.inf)))
        if not 0.0 < big < np.inf:
            return hessp(v)
        _, e = math.frexp(big)
        if not -1000 < e < 1000:  # 2^-e or 2^e would not be a normal number
            return np.ldexp(hessp(np.ldexp(v, -e)), e)
        # Multiplying by a normal power of two rounds as ldexp does (once,
        # to nearest), and runs vectorised where np.ldexp calls libm per entry;
        # the product is a new array, scaled back in place.
        out = hessp(v * math.ldexp(1.0, -e))
        out *= math.ldexp(1.0, e)
        return out

    return scaled


class LinearModelLoss:
    r"""Cross entropy of ``X @ W + b`` plus an L2 penalty, as a function of ``w``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        float32 or float64; C- or F-ordered dense arrays and CSR/CSC matrices
        are used as they are.
    y : ndarray
        Encoded, valid targets.  For ``link="softmax"``: class indices of shape
        (n_samples,) (integers, or whole floats) or a target matrix
        (n_samples, K).  For ``link="sigmoid"``: targets in [0, 1] of shape
        (n_samples,) (binary, K = 1) or (n_samples, K) (multilabel).
    link : {"softmax", "sigmoid"}
    n_outputs : int
        ``K``, the number of columns of the raw scores.
    fit_intercept : bool, default=True
    sample_weight : ndarray of shape (n_samples,) or SampleWeight, default=None
        Validated, non-negative.
    class_weight : ndarray of shape (K,) for softmax, (2,) for sigmoid
        (negative, positive), default=None.
    label_smoothing : float, default=0.0
    C : float, default=1.0
        Inverse penalty strength; ``np.inf`` for none.
    l1_ratio : float in [0, 1], default=0.0
        The elastic-net mixing: the penalty is
        ``((1 - l1_ratio) / 2 ||W||^2 + l1_ratio ||W||_1) / (C N)``.  Only its
        L2 part is in :meth:`loss` and :meth:`loss_gradient` (the smooth part,
        what every solver minimises); :meth:`l1_penalty` is the rest, which
        only ``newton-cd`` and the stochastic solvers handle.
    n_threads : int, default=None
        Threads for the row chunks; None: OpenMP's limit (``OMP_NUM_THREADS``,
        threadpoolctl).  Results do not depend on it.
    normaliser : (float, float), default=None
        For one block of rows of a larger data set (the dask objective): the
        whole set's mass ``sum_i (s_i / scale) S_i`` and weight ``scale``, so
        that the block's sums are its share of the whole objective.
    drop_empty_columns : bool, default=True
        Fit only the columns of a sparse X that hold entries, when they are at
        most half of them (see :func:`_used_columns`); the others' coefficients
        are 0 (the optimum with a penalty, the least-norm optimum without).
        Not for mini-batch steps, whose earlier coefficients must be kept.
    """

    def __init__(
        self,
        X,
        y,
        *,
        link,
        n_outputs,
        fit_intercept=True,
        sample_weight=None,
        class_weight=None,
        label_smoothing=0.0,
        C=1.0,
        l1_ratio=0.0,
        n_threads=None,
        drop_empty_columns=True,
        normaliser=None,
    ):
        self.n_features_in = X.shape[1]
        if not sparse.issparse(X) and not X.flags.aligned:
            # An array read from a network buffer (the result of a dask
            # compute(), for one) can start at any byte; numpy multiplies it
            # without BLAS, several times slower: copied once, aligned.
            X = np.array(X, order="K")
        threads = _loss.max_threads() if n_threads is None else n_threads
        self.columns, XT = _used_columns(X, threads) if drop_empty_columns else (None, None)
        if self.columns is not None:
            X = X[:, self.columns]
        self.X = X
        self.link = link
        self.n_outputs = K = int(n_outputs)
        self.fit_intercept = bool(fit_intercept)
        self.label_smoothing = float(label_smoothing)
        self.dtype = np.float32 if X.dtype == np.float32 else np.float64
        self.sparse = sparse.issparse(X)
        n, d = X.shape
        self.n_samples, self.n_features = n, d
        self.n_dof = K * (d + self.fit_intercept)
        self.class_weight = (
            None if class_weight is None else np.asarray(class_weight, dtype=np.float64)
        )
        self.loss_fn = _loss.CrossEntropyLoss(
            link, K, label_smoothing=self.label_smoothing, class_weight=self.class_weight
        )

        y = np.asarray(y)
        self.hard_labels = link == "softmax" and y.ndim == 1
        if self.hard_labels:
            self.target = np.ascontiguousarray(y, dtype=np.intp)
        else:
            self.target = np.ascontiguousarray(y.reshape(n, K), dtype=self.dtype)

        if isinstance(sample_weight, SampleWeight):
            scaled, scale = sample_weight.scaled, sample_weight.scale
        elif sample_weight is None:
            scaled, scale = np.ones(n), 1.0
        else:
            s = np.asarray(sample_weight, dtype=np.float64)
            scale = float(s.max()) if s.size else 0.0
            scaled = s / scale if scale > 0 else s
        self.mass = self._target_mass()  # S_i, or None for S_i = 1
        if normaliser is not None:
            # A block of a larger data set: its weights scaled by the whole
            # set's largest, its sums divided by the whole set's mass.
            n_scaled, whole_scale = normaliser
            if sample_weight is not None:
                scaled = scaled * (scale / whole_scale)
            scale = whole_scale
        else:
            n_scaled = float(np.sum(scaled if self.mass is None else scaled * self.mass))
        if not n_scaled > 0:
            raise ValueError(
                "The weighted target mass is zero (all sample or class weights are "
                "zero): there is nothing to fit."
            )
        # The kernel multiplies by these, so that its sums are the mean of f.
        self.kernel_weight = scaled / n_scaled
        self.total_mass = n_scaled * scale
        self._mass_parts = (n_scaled, scale)
        self.set_penalty(C, l1_ratio)

        self.eps = float(np.finfo(self.dtype).eps)
        # Relative rounding noise of f: per-sample losses are computed in X's
        # dtype and summed in float64, so their errors partly cancel.
        self.f_rtol = max(
            16 * np.finfo(np.float64).eps, 4 * np.finfo(self.dtype).eps / math.sqrt(max(n, 1))
        )
        self.runner = ChunkRunner(threads)
        self.n_threads = self.runner.n_threads
        self._chunks = self._make_chunks()
        self._hsample = None
        self._XT = XT
        self._twin = None
        self._last = None
        self._csr = _csr_arrays(X) if self.sparse and X.format == "csr" else None
        self._local = threading.local()

    def set_penalty(self, C, l1_ratio=0.0):
        """Set ``C`` and ``l1_ratio``: the penalty's strengths ``l2`` and ``l1``.

        Everything else (data, targets, weights, chunks) stays: a path over
        ``C`` changes only this between fits.
        """
        n_scaled, scale = self._mass_parts
        self.C = float(C)
        self.l1_ratio = float(l1_ratio)
        self.l2 = self.l1 = 0.0
        if not math.isinf(self.C):
            strength = min(1.0 / (self.C * n_scaled) / scale, _MAX_L2)
            self.l2 = (1.0 - self.l1_ratio) * strength
            self.l1 = self.l1_ratio * strength
        return self

    @property
    def y(self):
        """The encoded targets: class indices, or a target matrix (n, K)."""
        return self.target

    @classmethod
    def from_targets(
        cls,
        X,
        targets,
        *,
        sample_weight=None,
        fit_intercept=True,
        label_smoothing=0.0,
        C=1.0,
        l1_ratio=0.0,
        n_threads=None,
        drop_empty_columns=True,
        normaliser=None,
    ):
        """The objective of a fit, from :func:`skxent._validation.fit_targets`'s record."""
        y = targets.indices if targets.indices is not None else targets.matrix
        return cls(
            X,
            y,
            link=targets.link,
            n_outputs=targets.n_outputs,
            fit_intercept=fit_intercept,
            sample_weight=sample_weight,
            class_weight=targets.class_weight,
            label_smoothing=label_smoothing,
            C=C,
            l1_ratio=l1_ratio,
            n_threads=n_threads,
            drop_empty_columns=drop_empty_columns,
            normaliser=normaliser,
        )

    # -- set-up --------------------------------------------------------------

    def _smoothed_targets(self, rows=slice(None)):
        """The target matrix with smoothing applied (soft and sigmoid targets)."""
        eps = self.label_smoothing
        t = self.target[rows].astype(np.float64)
        if self.link == "softmax":
            return (1.0 - eps) * t + eps / self.n_outputs
        return (1.0 - eps) * t + eps / 2.0

    def _target_mass(self):
        """S_i = sum_c w_c t_ic per row (mean over labels for sigmoids), or None."""
        cw = self.class_weight
        if cw is None:
            return None
        eps = self.label_smoothing
        if self.link == "softmax":
            if self.hard_labels:
                return (1.0 - eps) * cw[self.target] + eps * cw.mean()
            return self._smoothed_targets() @ cw
        t = self._smoothed_targets()
        return (cw[1] * t + cw[0] * (1.0 - t)).mean(axis=1)

    def _make_chunks(self):
        n = self.n_samples
        if self.sparse and self.X.format != "csr":
            return [slice(0, n)]
        rows = max(_MIN_CHUNK_ROWS, _CHUNK_BYTES // self._row_bytes())
        return [slice(i, min(i + rows, n)) for i in range(0, n, rows)]

    def _row_bytes(self):
        """Bytes per row of X (values and column indices for sparse X)."""
        if self.sparse:
            return max(1, (self.X.dtype.itemsize + 4) * self.X.nnz // max(self.n_samples, 1))
        return max(1, self.n_features * self.X.dtype.itemsize)

    def __getstate__(self):
        # Copies and pickles get their own scratch buffers.
        state = self.__dict__.copy()
        del state["_local"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def _scratch(self, shape, dtype, slot="X"):
        """A buffer of ``shape`` for a temporary of one chunk, one per thread
        and ``slot``, kept.

        Made once and written again at every evaluation: a fresh array of a
        chunk's size costs new pages from the system where malloc returns
        freed memory at once (a dask worker, where this made an evaluation
        1.6 times slower).
        """
        size = math.prod(shape)
        bufs = self._local.__dict__.setdefault("bufs", {})
        buf = bufs.get(slot)
        if buf is None or buf.dtype != dtype or buf.size < size:
            buf = bufs[slot] = np.empty(size, dtype=dtype)
        return buf[:size].reshape(shape)

    def _Xrows(self, rows):
        """X[rows]: a view for dense X and slices; no copy of a whole sparse X."""
        if (
            isinstance(rows, slice)
            and rows.start in (0, None)
            and rows.step in (1, None)
            and (rows.stop is None or rows.stop >= self.n_samples)
        ):
            return self.X
        return self.X[rows]

    def __enter__(self):
        """BLAS on one thread and the chunks' thread pool, for the fit's duration."""
        self.runner.__enter__()
        return self

    def __exit__(self, *exc):
        self.runner.__exit__(*exc)

    def _kernel_threads(self, size):
        if self.runner.parallel or self.runner.n_threads == 1:
            return 1
        return _loss.default_threads(size)

    # -- coefficients ----------------------------------------------------------

    def unpack(self, w):
        """Views ``(W, b)``: W of shape (n_features, K), b of shape (K,) or None."""
        d, K = self.n_features, self.n_outputs
        W = w[: d * K].reshape(d, K)
        b = w[d * K :] if self.fit_intercept else None
        return W, b

    def pack(self, coef, intercept=None):
        """Flat ``w`` from ``coef_`` of shape (K, n_features) and ``intercept_``."""
        w = np.zeros(self.n_dof)
        W, b = self.unpack(w)
        coef = coef.toarray() if sparse.issparse(coef) else coef
        coef = np.asarray(coef, dtype=np.float64)
        if self.columns is not None and coef.shape[1] == self.n_features_in:
            coef = coef[:, self.columns]
        W[:] = coef.T
        if b is not None and intercept is not None:
            b[:] = intercept
        return w

    def coef_intercept(self, w):
        """``(coef_, intercept_)`` of ``w`` as an estimator shows them, in X's dtype.

        ``coef_`` is (K, n_features) over all the columns of the X given
        (unused columns of a sparse X get 0); ``intercept_`` is zeros without
        an intercept.
        """
        W, b = self.unpack(w)
        coef = np.zeros((self.n_outputs, self.n_features_in), dtype=self.dtype)
        if self.columns is None:
            coef[:] = W.T
        else:
            coef[:, self.columns] = W.T
        intercept = (
            np.zeros(self.n_outputs, dtype=self.dtype) if b is None else b.astype(self.dtype)
        )
        return coef, intercept

    def init_coef(self):
        """Zero weights, intercepts at the optimum of the intercept-only model.

        The intercept-only model predicts the weighted share of the target mass
        of each class: for softmax ``p_c = m_c / sum(m)`` with
        ``m_c = sum_i s_i w_c t_ic``; for each sigmoid ``log(pos / neg)``.
        Starting there saves the solver the first few iterations.
        """
        w = np.zeros(self.n_dof)
        if not self.fit_intercept:
            return w
        _, b = self.unpack(w)
        s = self.kernel_weight
        K = self.n_outputs
        eps = self.label_smoothing
        if self.link == "softmax":
            if self.hard_labels:
                m = np.bincount(self.target, weights=s, minlength=K)
                m = (1.0 - eps) * m + eps * s.sum() / K
            else:
                m = _weighted_sums(s, self._smoothed_targets())
            if self.class_weight is not None:
                m = m * self.class_weight
            m = np.maximum(m, 1e-12 * m.sum())
            logm = np.log(m)
            b[:] = logm - logm.mean()
        else:
            pos = _weighted_sums(s, self._smoothed_targets())
            neg = s.sum() - pos
            if self.class_weight is not None:
                pos = pos * self.class_weight[1]
                neg = neg * self.class_weight[0]
            tiny = 1e-12 * (pos + neg)
            b[:] = np.log(np.maximum(pos, tiny)) - np.log(np.maximum(neg, tiny))
        return w

    def penalty(self, w):
        """The L2 part of the penalty, ``l2 / 2 ||W||^2`` (part of the smooth objective)."""
        W, _ = self.unpack(w)
        return 0.5 * self.l2 * float(np.dot(W.ravel(), W.ravel()))

    def l1_penalty(self, w):
        """The L1 part, ``l1 ||W||_1``: the whole objective is ``loss(w) + l1_penalty(w)``."""
        if not self.l1:
            return 0.0
        W, _ = self.unpack(w)
        return self.l1 * float(np.abs(W).sum())

    # -- evaluation --------------------------------------------------------------

    def _csr_rows(self, rows):
        """The first row of ``rows`` when it is a plain slice of a CSR X, else None."""
        if not (self.sparse and self.X.format == "csr" and isinstance(rows, slice)):
            return None
        if rows.step not in (None, 1):
            return None
        return 0 if rows.start is None else rows.start

    def _raw(self, rows, W, b, slot=None):
        """``X[rows] @ W + b`` in X's dtype, of shape (n_rows, K); with
        ``slot``, written into that scratch buffer (see :meth:`_scratch`)."""
        start = self._csr_rows(rows)
        if start is not None:
            # skxent's own product: scipy's reads the rows of W without
            # prefetching them, and a row slice of a CSR X would be a copy.
            stop = self.n_samples if rows.stop is None else min(rows.stop, self.n_samples)
            shape = (stop - start, W.shape[1])
            if slot is None:
                Z = np.empty(shape, self.dtype)
            else:
                Z = self._scratch(shape, self.dtype, slot)
            data, indices, indptr = self._csr
            _sparse.csr_times_dense(
                data, indices, indptr, start, np.ascontiguousarray(W),
                _EMPTY_OF[self.dtype] if b is None else b, Z, self._kernel_threads(Z.size),
            )  # fmt: skip
            return Z
        Xb = self._Xrows(rows)
        if slot is not None and not self.sparse:
            Z = np.matmul(Xb, W, out=self._scratch((Xb.shape[0], W.shape[1]), self.dtype, slot))
        else:
            Z = Xb @ W
            if sparse.issparse(Z):  # pragma: no cover - sparse @ dense is dense
                Z = Z.toarray()
            Z = np.ascontiguousarray(Z)
        if b is not None:
            Z += b
        return Z

    def _cast(self, w):
        W, b = self.unpack(w)
        return W.astype(self.dtype), None if b is None else b.astype(self.dtype)

    def _weights(self, rows):
        return np.ascontiguousarray(self.kernel_weight[rows])

    def _kernel(
        self, rows, Z, *, gradient_out=None, hess_out=None, sample_weight=None, scratch=False
    ):
        """Per-chunk cross entropy: ``(sum of losses, G = dloss/dZ)``.

        ``hess_out`` (sigmoids only): filled with the diagonal of the Hessian
        in the raw scores, from the same kernel call.  ``sample_weight``
        replaces the objective's weights of these rows (mini-batches).  With
        ``scratch``, the losses and G go to scratch buffers (G is then valid
        until this thread's next chunk).  The configured loss trusts its
        inputs: they were validated once, when the targets were encoded.
        """
        sw = self._weights(rows) if sample_weight is None else sample_weight
        target = np.ascontiguousarray(self.target[rows])
        nt = self._kernel_threads(Z.size)
        loss_out = None
        if scratch:
            loss_out = self._scratch((Z.shape[0],), Z.dtype, "loss")
            if gradient_out is None:
                gradient_out = self._scratch(Z.shape, Z.dtype, "G")
        if hess_out is not None:
            loss, G, _ = self.loss_fn.gradient_hessian(
                target,
                Z,
                sample_weight=sw,
                loss_out=loss_out,
                gradient_out=gradient_out,
                hessian_out=hess_out,
                n_threads=nt,
            )
        else:
            loss, G = self.loss_fn.loss_gradient(
                target, Z, sample_weight=sw, loss_out=loss_out, gradient_out=gradient_out,
                n_threads=nt,
            )  # fmt: skip
        return float(np.sum(loss, dtype=np.float64)), G

    def _grad_from(self, Xb, G):
        """(X_b^T G, column sums of G), in float64."""
        XtG = Xb.T @ G
        if sparse.issparse(XtG):  # pragma: no cover
            XtG = XtG.toarray()
        XtG = np.asarray(XtG, dtype=np.float64)
        gb = G.sum(axis=0, dtype=np.float64) if self.fit_intercept else None
        return XtG, gb

    def _assemble(self, w, XtG, gb):
        """The flat gradient from ``X^T G``, the intercepts' part and the penalty.

        ``XtG`` may already be the W block of a flat buffer (the sparse
        products write there): that buffer is then completed in place.  The
        vectors have millions of entries on text data, where every temporary
        costs a pass over memory and fresh pages: the penalty is added by
        BLAS's axpy, in place.
        """
        owner = self._flat_owner(XtG)
        grad = owner if owner is not None else np.empty(self.n_dof)
        gW, g_b = self.unpack(grad)
        W, _ = self.unpack(w)
        if owner is None:
            gW[:] = XtG
        if self.l2:
            blas.daxpy(np.ascontiguousarray(W).reshape(-1), gW.reshape(-1), a=self.l2)
        if g_b is not None:
            g_b[:] = gb
        return grad

    def _flat_owner(self, XtG):
        """The flat buffer of ``n_dof`` entries whose W block ``XtG`` is (which
        :meth:`_assemble` completes in place), or None."""
        owner = XtG.base
        if (
            owner is not None
            and owner.shape == (self.n_dof,)
            and XtG.__array_interface__["data"][0] == owner.__array_interface__["data"][0]
        ):
            return owner
        return None

    def _pass(self, rows_fn, chunks, X=None):
        """Run ``rows_fn(rows, G_out) -> (scalar, G)`` over chunks; return
        ``(scalar sum, X^T G, column sums of G)`` folded in chunk order.

        Dense X: each chunk's ``X_b^T G_b``, added in chunk order.  Sparse X
        (plain row slices): the chunks write one G, and one sparse product
        ``X^T G`` follows.
        """
        X = self.X if X is None else X
        if self.sparse:
            G_all = np.empty((self.n_samples, self.n_outputs), dtype=self.dtype)

            def part(rows):
                value, G = rows_fn(rows, G_all[rows])
                gb = G.sum(axis=0, dtype=np.float64) if self.fit_intercept else 0.0
                return value, gb

            value, gb = self.runner.fold(part, chunks)
            XtG = self._sparse_XtG(X, G_all, flat=True)
            return value, XtG, gb if self.fit_intercept else None

        def part(rows):
            value, G = rows_fn(rows, None)
            XtG, gb = self._grad_from(self._Xrows(rows), G)
            return value, XtG, gb if self.fit_intercept else 0.0

        value, XtG, gb = self.runner.fold(part, chunks)
        return value, XtG, gb if self.fit_intercept else None

    def _transposed(self):
        """X^T as CSR (X's values and indices once more), made on first use and kept."""
        if self._XT is None:
            self._XT = _csr_transpose(self.X, self.n_threads)
        return self._XT

    def _sparse_XtG(self, X, G, squared=False, flat=False):
        """``X^T G`` in float64 for a sparse X (with ``squared``, X's entries
        squared): skxent's product for a CSR X, on its transpose stored as CSR,
        else scipy's.  With ``flat``, the product is written into the W block
        of a new flat vector of ``n_dof`` entries (see :meth:`_assemble`)."""
        if X is not self.X or X.format != "csr":
            Xs = X.multiply(X) if squared else X
            return np.asarray(Xs.T @ G, dtype=np.float64)
        data, indices, indptr = self._transposed()
        if flat:
            out, _ = self.unpack(np.empty(self.n_dof))
        else:
            out = np.empty((self.n_features, G.shape[1]))
        G = np.ascontiguousarray(G, dtype=self.dtype)
        threads = min(self.n_threads, _loss.default_threads(data.shape[0] * G.shape[1]))
        _sparse.csr_times_dense_f64(data, indices, indptr, G, out, squared, threads)
        return out

    def loss(self, w):
        """The objective f(w)."""
        Wd, bd = self._cast(w)

        def part(rows):
            Z = self._raw(rows, Wd, bd, slot="Z")
            sw = self._weights(rows)
            target = np.ascontiguousarray(self.target[rows])
            per_sample = self.loss_fn.loss(
                target, Z, sample_weight=sw, n_threads=self._kernel_threads(Z.size),
                loss_out=self._scratch((Z.shape[0],), Z.dtype, "loss"),
            )  # fmt: skip
            return (float(np.sum(per_sample, dtype=np.float64)),)

        (total,) = self.runner.fold(part, self._chunks)
        return total + self.penalty(w)

    def loss_from_raw(self, raw, w=None):
        """The smooth objective at ``w`` from its raw scores ``raw`` (n, K), without X
        (without ``w``: the data's part only, no penalty).

        A line search along a direction whose change of the raw scores is known
        evaluates trial points this way.  One kernel call over all rows (on
        OpenMP's threads: no pool of chunks, whose overhead was most of a
        call on 10**5 rows), its losses summed chunk by chunk, in order.
        """
        Z = np.ascontiguousarray(raw, dtype=self.dtype)
        threads = min(self.n_threads, _loss.default_threads(Z.size))
        per_sample = self.loss_fn.loss(
            np.ascontiguousarray(self.target), Z, sample_weight=self._weights(slice(None)),
            n_threads=threads,
        )  # fmt: skip
        total = self._sum_by_chunk(per_sample)
        return total if w is None else total + self.penalty(w)

    def _sum_by_chunk(self, per_sample):
        """``sum(per_sample)`` in float64, chunk by chunk in order: the bits
        of the chunked passes, whose per-chunk sums are added in chunk order."""
        total = 0.0
        for rows in self._chunks:
            total += float(np.sum(per_sample[rows], dtype=np.float64))
        return total

    def loss_gradient(self, w, *, return_raw=False):
        """``(f(w), grad f(w))``, and with ``return_raw`` the point's state.

        The state (raw scores, and for sigmoids the Hessian diagonal computed
        in the same kernel call) lets :meth:`hessp` and a preconditioner work
        at ``w`` without another pass over X.
        """
        last = self._last
        if (
            last is not None
            and (last[4] is not None or not return_raw)
            and np.array_equal(last[0], w)
        ):
            # The data's part at the same coefficients as the last call: only
            # the penalty may have changed since (a path over C, where each
            # fit starts where the previous one ended).  The same numbers as
            # a new pass, without the pass.
            _, value, XtG, gb, point = last  # read, never written (see below)
        else:
            value, XtG, gb, point = self._data_part(w, return_raw)
            # Kept as computed: _assemble reads XtG and gb, and writes into
            # XtG only when it is the W block of the gradient's own buffer.
            kept = XtG.copy() if self._flat_owner(XtG) is not None else XtG
            self._last = (np.array(w, dtype=np.float64), value, kept, gb, point)
        f = value + self.penalty(w)
        grad = self._assemble(w, XtG, gb)
        return (f, grad, point) if return_raw else (f, grad)

    def _data_part(self, w, return_raw):
        """One pass: the data's loss, ``X^T G``, the intercepts' gradient, and
        (with ``return_raw``) the point's state."""
        Wd, bd = self._cast(w)
        if self._csr is not None:
            # Sparse rows: one product over all rows and one kernel call, on
            # OpenMP's threads (the same bits as chunk by chunk: both are
            # row by row), then X^T G.  The pool of chunks cost more than
            # the kernel on text-like rows.
            # Without return_raw, the scores go to a kept buffer (fresh pages
            # for every evaluation cost a dask worker dearly, see _scratch).
            n, K = self.n_samples, self.n_outputs
            point = _Point(n, K, self.dtype, self.link == "sigmoid") if return_raw else None
            Z = point.raw2 if return_raw else self._scratch((n, K), self.dtype, "Z")
            data, indices, indptr = self._csr
            _sparse.csr_times_dense(
                data, indices, indptr, 0, np.ascontiguousarray(Wd),
                _EMPTY_OF[self.dtype] if bd is None else bd, Z,
                min(self.n_threads, _loss.default_threads(n * K)),
            )  # fmt: skip
            value, XtG, gb = self._from_raw(Z, None if point is None else point.hdiag2)
            return value, XtG, gb, point
        point = None
        if return_raw:
            point = _Point(self.n_samples, self.n_outputs, self.dtype, self.link == "sigmoid")

        def rows_fn(rows, G_out):
            Z = self._raw(rows, Wd, bd, slot="Z")
            if point is not None:
                point.raw2[rows] = Z
            hess = None if point is None or point.hdiag is None else point.hdiag2[rows]
            return self._kernel(rows, Z, gradient_out=G_out, hess_out=hess, scratch=True)

        value, XtG, gb = self._pass(rows_fn, self._chunks)
        return value, XtG, gb, point

    def loss_gradient_from_raw(self, w, raw):
        """``(f(w), grad f(w), point)`` as :meth:`loss_gradient` with
        ``return_raw`` gives them, from ``raw`` (n, K), w's raw scores known
        otherwise (a line search's ``raw0 + t X D``), without the product X w.

        The result is not kept for a later :meth:`loss_gradient` at ``w``: it
        is not X w's to the bit.
        """
        point = _Point(self.n_samples, self.n_outputs, self.dtype, self.link == "sigmoid")
        point.raw2[...] = raw
        value, XtG, gb = self._from_raw(point.raw2, point.hdiag2)
        return value + self.penalty(w), self._assemble(w, XtG, gb), point

    def _from_raw(self, Z, hdiag2=None):
        """``(data's loss, X^T G, intercepts' gradient or None)`` at the raw
        scores ``Z`` (n, K); sigmoids' Hessian diagonal into ``hdiag2`` if given.

        Sparse X: one kernel call over all rows (on OpenMP's threads), then
        ``X^T G``; dense X: the chunks' kernels and products on the pool, as
        :meth:`loss_gradient` runs them (OpenMP's threads, still spinning
        after a kernel, would compete with the pool's for the cores).  Sums
        chunk by chunk, in order, as everywhere.
        """
        n, K = self.n_samples, self.n_outputs
        if not self.sparse:

            def rows_fn(rows, G_out):
                hess = None if hdiag2 is None else hdiag2[rows]
                return self._kernel(rows, Z[rows], gradient_out=G_out, hess_out=hess, scratch=True)

            return self._pass(rows_fn, self._chunks)
        G_all = self._scratch((n, K), self.dtype, "G_all")
        losses = self._kernel_all(Z, hdiag2, G_all)
        value = self._sum_by_chunk(losses)
        gb = None
        if self.fit_intercept:
            gb = np.zeros(K)
            for rows in self._chunks:
                gb = gb + G_all[rows].sum(axis=0, dtype=np.float64)
        return value, self._sparse_XtG(self.X, G_all, flat=True), gb

    def _kernel_all(self, Z, hdiag2, G_out):
        """The kernel over all rows at the raw scores ``Z``: the per-sample
        losses (returned), the gradient into ``G_out``, and the Hessian's
        diagonal into ``hdiag2`` (sigmoids) unless it is None."""
        threads = min(self.n_threads, _loss.default_threads(Z.size))
        target, sw = np.ascontiguousarray(self.target), self._weights(slice(None))
        loss_out = self._scratch((Z.shape[0],), Z.dtype, "loss")
        if hdiag2 is not None:
            return self.loss_fn.gradient_hessian(
                target, Z, sample_weight=sw, loss_out=loss_out, gradient_out=G_out,
                hessian_out=hdiag2, n_threads=threads,
            )[0]  # fmt: skip
        return self.loss_fn.loss_gradient(
            target, Z, sample_weight=sw, loss_out=loss_out, gradient_out=G_out,
            n_threads=threads,
        )[0]  # fmt: skip

    def _hessian_sample(self):
        """Row chunks and scale for Hessian-vector products, cached.

        With many more samples than coefficients, the products use a strided
        sample of max(20000, 20 n_dof) rows, scaled by the weight of all rows
        over the sample's: a subsampled Hessian (Byrd, Chin, Neveitt & Nocedal
        2011, "On the use of stochastic Hessian information in optimization
        methods for machine learning").  The gradient, and so the convergence
        test and the solution, stay exact; conjugate gradients get 5 to 50
        times cheaper per product for a slightly less exact Newton step.
        Dense X only: a strided sample of a sparse matrix is a copy.
        """
        if self._hsample is not None:
            return self._hsample
        n = self.n_samples
        m = hessian_stride(n, self.n_dof)
        sample = None
        if m > 1 and not self.sparse:
            share = float(self.effective_weight(slice(0, n, m)).sum())
            if fair_share(share, n, m):
                chunks = strided_chunks(n, m, _CHUNK_BYTES // self._row_bytes())
                sample = (chunks, 1.0 / share)
        self._hsample = sample if sample is not None else (self._chunks, 1.0)
        return self._hsample

    def hessp(self, point, *, exact=False):
        """The Hessian-vector product ``v -> H v`` at a point of :meth:`loss_gradient`.

        Sigmoids have a diagonal Hessian in the raw scores (``point.hdiag``);
        softmax rows go through the kernel's Hessian-vector product.  Unless
        ``exact``, large data sets use a subsample of rows (see
        :meth:`_hessian_sample`).  In float32 the products see ``v`` scaled by
        a power of two to a largest entry in [0.5, 1) (:func:`_unit_scaled`).
        """
        if not exact and self._float32_products():
            twin = self._float32_twin()
            return twin.hessp(twin._point_of(point), exact=exact)
        product = self._hessp(point, exact)
        return _unit_scaled(product) if self.dtype == np.float32 else product

    def _hessp(self, point, exact):
        raw, h = point.raw2, point.hdiag2
        chunks, scale = (self._chunks, 1.0) if exact else self._hessian_sample()

        def hessp(v):
            Vd, vbd = self._cast(np.asarray(v, dtype=np.float64))

            def rows_fn(rows, G_out):
                U = self._raw(rows, Vd, vbd)
                if h is not None:
                    U *= h[rows]
                else:
                    U = self.loss_fn.hessp(
                        np.ascontiguousarray(self.target[rows]),
                        np.ascontiguousarray(raw[rows]),
                        U,
                        sample_weight=self._weights(rows),
                        out=G_out,
                        n_threads=self._kernel_threads(U.size),
                    )
                    return 0.0, U
                if G_out is not None:
                    G_out[:] = U
                return 0.0, U

            _, XtG, gb = self._pass(rows_fn, chunks)
            if scale != 1.0:
                XtG = XtG * scale
                gb = None if gb is None else gb * scale
            return self._assemble(v, XtG, gb)

        return hessp

    def _float32_products(self):
        """Whether :meth:`hessp` multiplies in float32: for a large float64 CSR
        X, and for a large dense float64 X with many outputs.

        The CSR products read a row of W (or of G) from memory for every stored
        entry of X, at random: in float32 they read half the bytes, and on the
        text-like benchmark problem (10**5 x 2**17, 20 classes) take 0.034 s
        instead of 0.06 s each.  With many outputs the dense products are
        matrix products that BLAS runs about twice as fast in float32 (1000
        classes, 20000 x 128: 0.16 s to 0.10 s each).  Conjugate gradients
        only need the products to a relative residual of
        ``max(forcing, 100 eps)`` (:attr:`hessp_eps`); the gradient, the
        objective and so the stopping test stay float64, so the solution is
        the same optimum.
        """
        if self.dtype != np.float64:
            return False
        if self._csr is not None:
            return self.X.nnz * self.n_outputs >= _FLOAT32_PRODUCTS_WORK
        return (
            not self.sparse
            and self.n_outputs >= _FLOAT32_DENSE_OUTPUTS
            and self.X.size * self.n_outputs >= _FLOAT32_PRODUCTS_WORK
        )

    @property
    def hessp_eps(self):
        """The relative rounding of :meth:`hessp`'s products: float32's or X's dtype's."""
        return float(np.finfo(np.float32).eps) if self._float32_products() else self.eps

    def _float32_twin(self):
        """This objective on a float32 copy of X's values (indices shared), made
        once, with this objective's current penalty: what :meth:`hessp` runs
        for a large float64 CSR X."""
        if self._twin is None:
            twin = copy.copy(self)
            if self._csr is not None:
                data, indices, indptr = self._csr
                twin.X = sparse.csr_matrix(
                    (data.astype(np.float32), indices, indptr), shape=self.X.shape, copy=False
                )
                twin._csr = (twin.X.data, indices, indptr)
                XT_data, XT_indices, XT_indptr = self._transposed()
                twin._XT = (XT_data.astype(np.float32), XT_indices, XT_indptr)
            else:
                twin.X = np.asarray(self.X, dtype=np.float32)
            twin.dtype = np.float32
            twin.eps = float(np.finfo(np.float32).eps)
            # Its own chunk buffers (of its dtype), not this objective's.
            twin._local = threading.local()
            if not self.hard_labels:
                twin.target = self.target.astype(np.float32)
            twin._hsample = None
            twin._last = None
            twin._twin = None
            self._twin = twin
        # The penalty is this objective's now: a path changes it between fits.
        twin = self._twin
        twin.C, twin.l1_ratio, twin.l2, twin.l1 = self.C, self.l1_ratio, self.l2, self.l1
        return twin

    def _point_of(self, point):
        """A point of the float64 objective in this objective's dtype."""
        out = _Point.__new__(_Point)
        out.raw = point.raw.astype(self.dtype)
        out.raw2 = out.raw.reshape(point.raw2.shape)
        out.hdiag = out.hdiag2 = None
        if point.hdiag is not None:
            out.hdiag = point.hdiag.astype(self.dtype)
            out.hdiag2 = out.hdiag.reshape(point.hdiag2.shape)
        return out

    def hessian_diagonal(self, point):
        """The diagonal of the Hessian at a point of :meth:`loss_gradient`, flat.

        Coordinate (j, c) has ``sum_i x_ij^2 R_ic + l2``, with ``R_ic`` row i's
        Hessian in its raw score c: ``s_i S_i p_ic (1 - p_ic) / N`` for
        softmax, the kernel's diagonal for sigmoids; an intercept has
        ``sum_i R_ic``.  One product of X's squares with R (for a CSR X
        without a squared copy of X).
        """
        # A preconditioner needs no more digits than the products it serves.
        by = self
        if self.sparse and self._float32_products():
            by = self._float32_twin()
        dtype = by.dtype if self.sparse else np.float64
        if self.link == "softmax":
            R = _softmax_curvature(point.raw2, self.effective_weight(), dtype)
        else:
            R = np.asarray(point.hdiag2, dtype=dtype)
        diag = np.empty(self.n_dof)
        dW, db = self.unpack(diag)
        if self.sparse:
            dW[:] = by._sparse_XtG(by.X, R, squared=True)
        else:
            dW[:] = self.runner.fold(
                lambda rows: (
                    np.einsum("ij,ij,ik->jk", self._Xrows(rows), self._Xrows(rows), R[rows]),
                ),
                self._chunks,
            )[0]
        dW += self.l2
        if db is not None:
            db[:] = R.sum(axis=0, dtype=np.float64)
        return diag

    def effective_weight(self, rows=slice(None)):
        """s_i S_i / N: each row's share of the Hessian's weight (sums to 1)."""
        kw = self.kernel_weight[rows]
        return kw if self.mass is None else kw * self.mass[rows]

    def row_sample(self):
        """Rows to estimate curvature from: strided slices of ~512 KB of X each.

        Every m-th row, about max(20000, 20 d) rows in all; views keep the
        extra memory to one small chunk.
        """
        n = self.n_samples
        m = max(1, n // max(20_000, 20 * self.n_features))
        return strided_chunks(n, m, (_CHUNK_BYTES // 4) // self._row_bytes())

    def hessian(self, w, rows=None):
        """``(f, grad, H)`` with the full Hessian H of shape (n_dof, n_dof).

        One pass over X.  Sigmoid outputs are independent: H is block diagonal,
        one ``X~^T diag(h_l) X~`` per output (X~ = [X, 1]).  For softmax the
        Hessian of row i in the raw scores is ``s_i S_i (diag(p) - p p^T)``, so
        block (c, c') is ``X~^T diag(a_cc') X~``,
        ``a_cc' = s_i S_i p_c (delta_cc' - p_c')``.

        ``rows`` (a list of row slices): H is the sum over those rows only
        (without the penalty, not rescaled: a row sample's part, for the
        caller to scale); f and grad are over all rows.
        """
        Wd, bd = self._cast(w)
        K, d = self.n_outputs, self.n_features
        p1 = d + self.fit_intercept
        if self.link == "sigmoid":
            pairs = [(c, c) for c in range(K)]
        else:
            pairs = [(c, e) for c in range(K) for e in range(c, K)]

        def part(rows):
            Z = self._raw(rows, Wd, bd)
            hd = np.empty_like(Z) if self.link == "sigmoid" else None
            loss, G = self._kernel(rows, Z, hess_out=hd)
            Xb = self._Xrows(rows)
            XtG, gb = self._grad_from(Xb, G)
            if self.link == "sigmoid":
                coef = {(c, c): hd[:, c].astype(np.float64) for c in range(K)}
            else:
                P = np.exp(log_softmax(Z.astype(np.float64), axis=1))
                sP = self.effective_weight(rows)[:, None] * P
                coef = {}
                for c, e in pairs:
                    a = -sP[:, c] * P[:, e]
                    coef[c, e] = a + sP[:, c] if c == e else a
            out = [loss, XtG, gb if gb is not None else 0.0]
            for c, e in pairs:
                a = coef[c, e]
                B = np.empty((p1, p1))
                if sparse.issparse(Xb):
                    B[:d, :d] = (Xb.T @ Xb.multiply(a[:, None]).tocsr()).toarray()
                else:
                    aX = np.multiply(
                        a[:, None].astype(Xb.dtype), Xb, out=self._scratch(Xb.shape, Xb.dtype)
                    )
                    B[:d, :d] = Xb.T @ aX
                Xa = np.asarray(Xb.T @ a.astype(Xb.dtype), dtype=np.float64).ravel()
                if self.fit_intercept:
                    B[:d, d] = B[d, :d] = Xa
                    B[d, d] = a.sum()
                out.append(B)
            return tuple(out)

        if rows is None:
            res = self.runner.fold(part, self._chunks)
            f = res[0] + self.penalty(w)
            grad = self._assemble(w, res[1], res[2] if self.fit_intercept else None)
        else:
            f, grad = self.loss_gradient(w)
            # No row at all (a short block of a sample): H is zero.
            res = self.runner.fold(part, rows) if rows else (0.0, 0.0, 0.0)
        # Into the flat layout: W (d, K) in C order, then the K intercepts.
        H = np.zeros((self.n_dof, self.n_dof))
        idx = [np.arange(p1) * K + c for c in range(K)]
        for (c, e), B in zip(pairs, res[3:]):
            H[np.ix_(idx[c], idx[e])] = B
            if c != e:
                H[np.ix_(idx[e], idx[c])] = B.T
        if rows is not None:
            return f, grad, _sym(H)
        if self.l2:
            diag = np.arange(d * K)
            H[diag, diag] += self.l2
        return f, grad, _sym(H)

    def sampled_hessian(self, w):
        """``(f, grad, H)`` with H from the row sample of :meth:`hessp`'s products
        (:meth:`_hessian_sample`), scaled to the whole; f and grad exact.  The
        exact :meth:`hessian` where there is no sample (small or sparse data,
        skewed weights).  What newton-cd's explicit variant runs on."""
        chunks, scale = self._hessian_sample()
        if chunks is self._chunks:
            return self.hessian(w)
        f, grad, H = self.hessian(w, rows=chunks)
        H *= scale
        if self.l2:
            diag = np.arange(self.n_features * self.n_outputs)
            H[diag, diag] += self.l2
        return f, grad, H

    # -- mini-batches ----------------------------------------------------------

    def batch_loss_gradient(self, w, rows, l2):
        """Mean loss and gradient over ``rows`` (an index array), penalty ``l2``.

        The weights are renormalised to the batch: the result estimates the
        full objective with penalty ``l2 / 2 ||W||^2``.
        """
        Wd, bd = self._cast(w)
        Z = self._raw(rows, Wd, bd)
        sw = self.kernel_weight[rows]
        batch_mass = float(np.sum(sw if self.mass is None else sw * self.mass[rows]))
        scale = 1.0 / batch_mass if batch_mass > 0 else 0.0
        f, G = self._kernel(rows, Z, sample_weight=sw * scale)
        XtG, gb = self._grad_from(self._Xrows(rows), G)
        grad = np.empty(self.n_dof)
        gW, g_b = self.unpack(grad)
        W, _ = self.unpack(w)
        gW[:] = XtG + l2 * W
        if g_b is not None:
            g_b[:] = gb
        f += 0.5 * l2 * float(np.dot(W.ravel(), W.ravel()))
        return f, grad

    def mean_squared_row_norm(self):
        """mean_i ||x_i||^2, for the step size of SGD."""
        if self.sparse:
            return float(self.X.multiply(self.X).sum()) / self.n_samples
        total = 0.0
        for rows in self._chunks:
            Xb = self._Xrows(rows)
            total += float(np.einsum("ij,ij->", Xb, Xb, dtype=np.float64))
        return total / self.n_samples
