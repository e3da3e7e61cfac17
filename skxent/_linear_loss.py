r"""Objective, gradient and Hessian of a linear model under cross entropy.

Raw scores are :math:`Z = X W + b`; :mod:`skxent.loss` turns them into
per-sample losses and gradients :math:`G = \partial \ell / \partial Z`; this
module maps back to the coefficients, :math:`\nabla_W = X^T G`, and adds the
penalty.  The objective is scikit-learn's ``LogisticRegression`` objective
(``sklearn/linear_model/_linear_loss.py`` and ``_logistic.py``, scikit-learn
1.9)::

    f(W, b) = 1/N sum_i s_i l_i(X_i W + b)  +  1/(2 C N) ||W||^2

with sample weights ``s`` and ``N = sum_i s_i S_i``, where ``S_i`` is the
class-weighted target mass of row ``i`` (``class_weight[y_i]`` for a hard
label, 1 without class weights): exactly scikit-learn's ``sw_sum`` after it
multiplies the sample weights by the class weights.  The intercept is not
penalised.  ``N`` rescales the whole objective, so it changes what ``tol``
means but not the minimiser.

Coefficients travel as one flat float64 vector ``w`` (what scipy's optimisers
want): first ``W`` of shape ``(n_features, K)`` in C order, then the ``K``
intercepts.  ``K`` is the number of classes for the softmax link, 1 for a
binary sigmoid, the number of labels for multilabel sigmoids.

Dense ``X`` is never copied.  It is read in row chunks small enough to stay in
cache, and each chunk goes through ``X_b @ W``, the kernel and ``X_b.T @ G_b``
before the next one is read: one pass over memory per evaluation instead of
two, which on this project's 2-core benchmark machine is 3x faster than two
whole-array BLAS calls.  The chunks are shared among threads (BLAS itself runs
on one thread inside, see :meth:`LinearModelLoss.__enter__`); each thread
sums its chunks in order and the threads' partial sums are added in order, so
a result depends on the thread count only through that last sum.
float32 ``X`` is multiplied in float32 (coefficients are cast down for the
product): sums within a chunk are BLAS's, in float32, and the chunks' partial
sums, the losses and everything the solvers see are float64.

Second order: Hessian-vector products (softmax through the kernel's
``hessp``; sigmoids from the Hessian diagonal that the kernel returns with the
gradient), a Kronecker-factored preconditioner, and the full Hessian for small
problems.  With many more samples than coefficients, Hessian-vector products
use a strided sample of rows (see :meth:`LinearModelLoss._hessian_sample`).
"""

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse
from scipy.special import log_softmax

from . import _core
from ._validation import n_threads_for
from .loss import hessp as _kernel_hessp
from .loss import loss_gradient as _kernel_loss_gradient

__all__ = ["LinearModelLoss"]

# Bytes of X per chunk: about one core's L2 cache on the machines we measured.
_CHUNK_BYTES = 1 << 21
_MIN_CHUNK_ROWS = 256


class _Point:
    """The state of the objective at a point: raw scores, and for sigmoids the
    diagonal of the Hessian in them (what Hessian products need)."""

    __slots__ = ("raw", "hdiag")

    def __init__(self, raw, hdiag=None):
        self.raw = raw
        self.hdiag = hdiag


_CONTROLLER = None


def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries, inspected once."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


def _sym(a):
    return 0.5 * (a + a.T)


class LinearModelLoss:
    r"""Cross entropy of ``X @ W + b`` plus an L2 penalty, as a function of ``w``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        float32 or float64; C- or F-ordered dense arrays and CSR/CSC matrices
        are used as they are.
    y : ndarray
        For ``link="softmax"``: class indices of shape (n_samples,) or a target
        matrix (n_samples, K).  For ``link="sigmoid"``: targets in [0, 1] of
        shape (n_samples,) (binary, K = 1) or (n_samples, K) (multilabel).
    link : {"softmax", "sigmoid"}
    n_outputs : int
        ``K``, the number of columns of the raw scores.
    fit_intercept : bool, default=True
    sample_weight : ndarray of shape (n_samples,), default=None
        Validated, non-negative.
    class_weight : ndarray of shape (K,) for softmax, (2,) for sigmoid
        (negative, positive), default=None.
    label_smoothing : float, default=0.0
    C : float, default=1.0
        Inverse penalty strength; ``np.inf`` for none.
    n_threads : int, default=None
        None follows OpenMP's limit (``OMP_NUM_THREADS``, threadpoolctl).
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
        n_threads=None,
    ):
        self.X = X
        self.link = link
        self.n_outputs = K = int(n_outputs)
        self.fit_intercept = bool(fit_intercept)
        self.label_smoothing = float(label_smoothing)
        self.C = float(C)
        self.dtype = np.float32 if X.dtype == np.float32 else np.float64
        self.sparse = sparse.issparse(X)
        n, d = X.shape
        self.n_samples, self.n_features = n, d
        self.n_dof = K * (d + self.fit_intercept)
        self.class_weight = (
            None if class_weight is None else np.asarray(class_weight, dtype=np.float64)
        )

        y = np.asarray(y)
        if link == "sigmoid" and K == 1:
            y = y.reshape(-1)
        self.hard_labels = link == "softmax" and y.ndim == 1
        self.y = np.ascontiguousarray(y, dtype=self.dtype)
        s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.mass = self._target_mass()  # S_i, or None for S_i = 1
        N = float(np.sum(s if self.mass is None else s * self.mass))
        if not N > 0:
            raise ValueError(
                "The weighted target mass is zero (all sample or class weights are "
                "zero): there is nothing to fit."
            )
        self.total_mass = N
        # The kernel multiplies by these, so that its sums are the mean of f.
        self.kernel_weight = s / N
        self.l2 = 0.0 if math.isinf(self.C) else 1.0 / (self.C * N)

        empty = np.empty(0)
        cw = self.class_weight
        self._pos_weight = empty if cw is None or link != "sigmoid" else np.full(K, cw[1])
        self._neg_weight = empty if cw is None or link != "sigmoid" else np.full(K, cw[0])
        self.eps = float(np.finfo(self.dtype).eps)
        # Relative rounding noise of f: per-sample losses are computed in X's
        # dtype and summed in float64, so their errors partly cancel.
        self.f_rtol = max(
            16 * np.finfo(np.float64).eps, 4 * np.finfo(self.dtype).eps / math.sqrt(max(n, 1))
        )
        self.n_threads = max(1, _core.max_threads() if n_threads is None else n_threads)
        self._chunks = self._make_chunks()
        self._pool = None
        self._limits = None

    # -- set-up --------------------------------------------------------------

    def _smoothed_targets(self, rows=slice(None)):
        """The target matrix with smoothing applied (soft targets only)."""
        eps = self.label_smoothing
        t = self.y[rows].astype(np.float64)
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
                idx = self.y.astype(np.intp)
                return (1.0 - eps) * cw[idx] + eps * cw.mean()
            return self._smoothed_targets() @ cw
        t = self._smoothed_targets().reshape(self.n_samples, -1)
        return (cw[1] * t + cw[0] * (1.0 - t)).mean(axis=1)

    def _make_chunks(self):
        n = self.n_samples
        if self.sparse and self.X.format != "csr":
            return [slice(0, n)]
        row_bytes = self._row_bytes()
        rows = max(_MIN_CHUNK_ROWS, _CHUNK_BYTES // row_bytes)
        return [slice(i, min(i + rows, n)) for i in range(0, n, rows)]

    def _row_bytes(self):
        """Bytes per row of X (values and column indices for sparse X)."""
        if self.sparse:
            return max(1, (self.X.dtype.itemsize + 4) * self.X.nnz // max(self.n_samples, 1))
        return max(1, self.n_features * self.X.dtype.itemsize)

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
        """Run BLAS on one thread; start the worker threads for chunked data.

        The parallelism is ours: chunks of rows on ``n_threads`` threads.  BLAS
        runs single-threaded inside them, and for data that fits in one chunk,
        where its threads cost more than they save (and, on a busy machine,
        wait for each other).
        """
        self._limits = _blas_controller().limit(limits=1, user_api="blas")
        if len(self._chunks) > 1 and self.n_threads > 1:
            self._pool = ThreadPoolExecutor(max_workers=self.n_threads)
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._limits is not None:
            self._limits.restore_original_limits()
            self._limits = None

    def _map_chunks(self, func, chunks=None):
        """``func(rows)`` summed over chunks: in order per thread, then threads."""
        chunks = self._chunks if chunks is None else chunks

        def run(part):
            total = None
            for rows in part:
                r = func(rows)
                total = r if total is None else tuple(a + b for a, b in zip(total, r))
            return total

        if self._pool is None or len(chunks) == 1:
            return run(chunks)
        n_parts = min(self.n_threads, len(chunks))
        bounds = np.linspace(0, len(chunks), n_parts + 1).round().astype(int)
        parts = [chunks[bounds[j] : bounds[j + 1]] for j in range(n_parts)]
        results = list(self._pool.map(run, parts))
        total = results[0]
        for r in results[1:]:
            total = tuple(a + b for a, b in zip(total, r))
        return total

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
        W[:] = np.asarray(coef, dtype=np.float64).T
        if b is not None and intercept is not None:
            b[:] = intercept
        return w

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
                m = np.bincount(self.y.astype(np.intp), weights=s, minlength=K)
                m = (1.0 - eps) * m + eps * s.sum() / K
            else:
                m = s @ self._smoothed_targets()
            if self.class_weight is not None:
                m = m * self.class_weight
            m = np.maximum(m, 1e-12 * m.sum())
            logm = np.log(m)
            b[:] = logm - logm.mean()
        else:
            t = self._smoothed_targets().reshape(self.n_samples, -1)
            pos = s @ t
            neg = s.sum() - pos
            if self.class_weight is not None:
                pos = pos * self.class_weight[1]
                neg = neg * self.class_weight[0]
            tiny = 1e-12 * (pos + neg)
            b[:] = np.log(np.maximum(pos, tiny)) - np.log(np.maximum(neg, tiny))
        return w

    def penalty(self, w):
        W, _ = self.unpack(w)
        return 0.5 * self.l2 * float(np.dot(W.ravel(), W.ravel()))

    # -- evaluation --------------------------------------------------------------

    def _raw(self, rows, W, b):
        """``X[rows] @ W + b`` in X's dtype, (n_rows,) for a single output."""
        Z = self._Xrows(rows) @ W
        if sparse.issparse(Z):  # pragma: no cover - sparse @ dense is dense
            Z = Z.toarray()
        Z = np.asarray(Z)
        if b is not None:
            Z += b
        return Z.ravel() if self.n_outputs == 1 and self.link == "sigmoid" else Z

    def _cast(self, w):
        W, b = self.unpack(w)
        return W.astype(self.dtype), None if b is None else b.astype(self.dtype)

    def _kernel(self, rows, Z, *, hess_out=None, sample_weight=None):
        """Per-chunk cross entropy: ``(sum of losses, G = dloss/dZ)``.

        ``hess_out`` (sigmoids only): filled with the diagonal of the Hessian
        in the raw scores, from the same kernel call.  ``sample_weight``
        replaces the objective's weights of these rows (mini-batches).

        Softmax goes through :func:`skxent.loss.loss_gradient`.  For sigmoids
        the kernel is called directly: ``skxent.loss`` has no way to return
        the Hessian diagonal with the gradient, and a second call (its
        ``hessp``) costs as much as the first.  The inputs were validated once
        when this objective was built: targets in [0, 1], finite non-negative
        weights, C-contiguous arrays of X's dtype.
        """
        sw = self.kernel_weight[rows] if sample_weight is None else sample_weight
        pool = self._pool is not None
        if self.link == "softmax":
            loss, G = _kernel_loss_gradient(
                self.y[rows],
                Z,
                link="softmax",
                sample_weight=sw,
                label_smoothing=self.label_smoothing,
                class_weight=self.class_weight,
                n_threads=1 if pool else None,
            )
            return float(np.sum(loss, dtype=np.float64)), G
        nb, K = Z.shape[0], self.n_outputs
        Z2 = np.ascontiguousarray(Z.reshape(nb, K))
        T2 = np.ascontiguousarray(self.y[rows].reshape(nb, K))
        elem = np.empty((nb, K), dtype=self.dtype)
        G = np.empty((nb, K), dtype=self.dtype)
        if hess_out is None:
            H = np.empty((0, K), dtype=self.dtype)
        else:
            H = hess_out.reshape(nb, K)
        _core.sigmoid_loss_gradient(
            Z2,
            T2,
            np.ascontiguousarray(sw, dtype=np.float64),
            self._pos_weight,
            self._neg_weight,
            self.label_smoothing,
            elem,
            G,
            H,
            1 if pool else n_threads_for(elem.size),
        )
        return float(np.sum(elem, dtype=np.float64)), G.reshape(Z.shape)

    def _grad_from(self, Xb, G):
        """(X_b^T G, column sums of G), in float64."""
        G2 = G.reshape(G.shape[0], -1)
        XtG = Xb.T @ G2
        if sparse.issparse(XtG):  # pragma: no cover
            XtG = XtG.toarray()
        XtG = np.asarray(XtG, dtype=np.float64)
        gb = G2.sum(axis=0, dtype=np.float64) if self.fit_intercept else None
        return XtG, gb

    def _assemble(self, w, XtG, gb):
        grad = np.empty(self.n_dof)
        gW, g_b = self.unpack(grad)
        W, _ = self.unpack(w)
        gW[:] = XtG
        if self.l2:
            gW += self.l2 * W
        if g_b is not None:
            g_b[:] = gb
        return grad

    def loss(self, w):
        """The objective f(w)."""
        Wd, bd = self._cast(w)

        def part(rows):
            return (self._kernel(rows, self._raw(rows, Wd, bd))[0],)

        (total,) = self._map_chunks(part)
        return total + self.penalty(w)

    def loss_gradient(self, w, *, return_raw=False):
        """``(f(w), grad f(w))``, and with ``return_raw`` the point's state.

        The state (raw scores, and for sigmoids the Hessian diagonal computed
        in the same kernel call) lets :meth:`hessp` and
        :meth:`preconditioner` work at ``w`` without another pass over X.
        """
        Wd, bd = self._cast(w)
        point = None
        if return_raw:
            shape = (self.n_samples,) if self._single() else (self.n_samples, self.n_outputs)
            point = _Point(np.empty(shape, dtype=self.dtype))
            if self.link == "sigmoid":
                point.hdiag = np.empty(shape, dtype=self.dtype)

        def part(rows):
            Z = self._raw(rows, Wd, bd)
            if point is not None:
                point.raw[rows] = Z
            hess = None if point is None or point.hdiag is None else point.hdiag[rows]
            loss, G = self._kernel(rows, Z, hess_out=hess)
            XtG, gb = self._grad_from(self._Xrows(rows), G)
            return (loss, XtG) if gb is None else (loss, XtG, gb)

        res = self._map_chunks(part)
        f = res[0] + self.penalty(w)
        grad = self._assemble(w, res[1], res[2] if self.fit_intercept else None)
        return (f, grad, point) if return_raw else (f, grad)

    def _single(self):
        return self.link == "sigmoid" and self.n_outputs == 1

    def _hessian_sample(self):
        """Row chunks and scale for Hessian-vector products, cached.

        With many more samples than coefficients, the products use a strided
        sample of max(20000, 20 n_dof) rows, scaled by the weight of all rows
        over the sample's: a subsampled Hessian (Byrd, Chin, Neveitt & Nocedal
        2011, "On the use of stochastic Hessian information in optimization
        methods for machine learning").  The gradient, and so the convergence
        test and the solution, stay exact; conjugate gradients get 5 to 50
        times cheaper per product for a slightly less exact Newton step.
        """
        if getattr(self, "_hsample", None) is not None:
            return self._hsample
        n = self.n_samples
        n_sub = max(20_000, 20 * self.n_dof)
        sample = None
        if n >= 2 * n_sub and not (self.sparse and self.X.format != "csr"):
            m = n // n_sub
            rows_all = slice(0, n, m)
            share = float(self._effective_weight(rows_all).sum())
            expected = len(range(0, n, m)) / n
            # Skewed weights (most of the mass outside the sample): exact products.
            if 0.5 * expected <= share <= 2.0 * expected:
                per_chunk = max(1, _CHUNK_BYTES // self._row_bytes())
                step = per_chunk * m
                chunks = [slice(i, min(i + step, n), m) for i in range(0, n, step)]
                sample = (chunks, 1.0 / share)
        self._hsample = sample if sample is not None else (self._chunks, 1.0)
        return self._hsample

    def hessp(self, point, *, exact=False):
        """The Hessian-vector product ``v -> H v`` at a point of :meth:`loss_gradient`.

        Sigmoids have a diagonal Hessian in the raw scores (``point.hdiag``);
        softmax rows go through the kernel's Hessian-vector product.  Unless
        ``exact``, large data sets use a subsample of rows (see
        :meth:`_hessian_sample`).
        """
        raw, h = point.raw, point.hdiag
        chunks, scale = (self._chunks, 1.0) if exact else self._hessian_sample()

        def hessp(v):
            Vd, vbd = self._cast(np.asarray(v, dtype=np.float64))

            def part(rows):
                U = self._raw(rows, Vd, vbd)
                if h is not None:
                    U *= h[rows]
                else:
                    U = _kernel_hessp(
                        self.y[rows],
                        raw[rows],
                        U,
                        link="softmax",
                        sample_weight=self.kernel_weight[rows],
                        label_smoothing=self.label_smoothing,
                        class_weight=self.class_weight,
                        n_threads=1 if self._pool is not None else None,
                    )
                return self._grad_from(self._Xrows(rows), U)

            res = self._map_chunks(part, chunks)
            XtG = res[0] * scale if scale != 1.0 else res[0]
            gb = None
            if self.fit_intercept:
                gb = res[1] * scale if scale != 1.0 else res[1]
            return self._assemble(v, XtG, gb)

        return hessp

    # -- second order --------------------------------------------------------

    def _effective_weight(self, rows=slice(None)):
        """s_i S_i / N: each row's share of the Hessian's weight (sums to 1)."""
        kw = self.kernel_weight[rows]
        return kw if self.mass is None else kw * self.mass[rows]

    def _row_sample(self):
        """Rows for the preconditioner, as strided slices of ~512 KB of X each.

        Every m-th row, about max(20000, 20 d) rows in all: the factors only
        precondition, and views keep the extra memory to one small chunk.
        """
        n = self.n_samples
        m = max(1, n // max(20_000, 20 * self.n_features))
        row_bytes = self._row_bytes()
        step = max(1, (_CHUNK_BYTES // 4) // row_bytes) * m
        return [slice(i, min(i + step, n), m) for i in range(0, n, step)]

    def _feature_factor(self):
        """Eigen-decomposition of B = sum_i s~_i x~_i x~_i^T (x~ = [x, 1]), cached.

        B is computed on a strided row sample: it only preconditions.  When the
        full (d+1)^2 matrix would cost too much compared with a pass over X, B
        is replaced by its diagonal.
        """
        if getattr(self, "_bfactor", None) is not None:
            return self._bfactor
        d = self.n_features
        chunks = self._row_sample()
        n_sub = sum(len(range(*c.indices(self.n_samples))) for c in chunks)
        total = sum(float(self._effective_weight(c).sum()) for c in chunks)
        if not total > 0:
            total = 1.0
        nnz_row = self.X.nnz / self.n_samples if self.sparse else d
        full_cost = n_sub * nnz_row * d
        pass_cost = self.n_samples * nnz_row * max(self.n_outputs, 4)
        full = d <= 2000 and full_cost <= 50 * pass_cost
        p1 = d + self.fit_intercept
        B = np.zeros((p1, p1)) if full else np.zeros(p1)
        for rows in chunks:
            Xs = self.X[rows]
            sb = self._effective_weight(rows) / total
            if self.sparse:
                if full:
                    B[:d, :d] += (Xs.T @ Xs.multiply(sb[:, None]).tocsr()).toarray()
                else:
                    B[:d] += np.asarray(Xs.multiply(Xs).T @ sb).ravel()
            elif full:
                B[:d, :d] += Xs.T @ (sb[:, None].astype(Xs.dtype) * Xs)
            else:
                B[:d] += np.einsum("ij,ij,i->j", Xs, Xs, sb.astype(Xs.dtype))
            if full and self.fit_intercept:
                B[:d, d] += np.asarray(Xs.T @ sb.astype(Xs.dtype)).ravel()
        if self.fit_intercept:
            if full:
                B[d, :d] = B[:d, d]
                B[d, d] = 1.0
            else:
                B[d] = 1.0
        if full:
            beta, U = np.linalg.eigh(_sym(B))
            beta = np.maximum(beta, 0.0)
        else:
            beta, U = B, None
        self._bfactor = (beta, U)
        return self._bfactor

    def preconditioner(self, point):
        r"""``r -> M^{-1} r`` with the Kronecker-factored Hessian M = A (x) B + l2 I.

        The Hessian of the mean loss is ``sum_i s~_i (x~_i x~_i^T) (x) H_i``
        with ``H_i`` the Hessian in the raw scores of row i.  Replacing each
        ``H_i`` by their weighted mean ``A`` (K x K) separates it into
        ``A (x) B`` (Martens & Grosse 2015, "K-FAC", applied here to the whole
        Hessian of a convex model).  With the eigen-decompositions of A and B
        the inverse of ``A (x) B + l2 I`` costs two small matrix products.  B
        captures the scaling and correlation of the features, which is what
        makes plain conjugate gradients slow; A the coupling of the classes.

        The softmax A is singular along (1, ..., 1), as is the Hessian itself
        (shifting all classes' scores changes nothing); gradients have no
        component there, and neither does ``M^{-1} r`` for such an r.
        """
        beta, Ub = self._feature_factor()
        K = self.n_outputs
        # A is K x K: a few thousand rows estimate it well.
        n = self.n_samples
        rows = slice(0, n, max(1, n // max(5000, 50 * K)))
        es = self._effective_weight(rows)
        total = float(es.sum())
        if not total > 0:  # all the weight outside the sample: any scale will do
            es, total = np.ones_like(es), float(es.shape[0])
        if self.link == "softmax":
            P = np.exp(log_softmax(np.asarray(point.raw[rows], dtype=np.float64), axis=1))
            sP = (es / total)[:, None] * P
            A = np.diag(sP.sum(axis=0)) - sP.T @ P
        else:
            h = point.hdiag[rows].reshape(-1, K)
            A = h.sum(axis=0, dtype=np.float64) / float(self._effective_weight(rows).sum() or 1.0)
        if self.link == "softmax":
            alpha, Ua = np.linalg.eigh(_sym(A))
        else:
            alpha, Ua = A, None
        alpha = np.maximum(alpha, 1e-3 * max(float(alpha.max()), 1e-300))
        p1 = beta.shape[0]
        # l2 on every row, the unpenalised intercept's too (M need only be
        # close to H), and a floor keep M invertible, also with C = inf.
        lam = np.full((p1, 1), self.l2)
        den = beta[:, None] * alpha[None, :] + lam
        den = np.maximum(den, 1e-12 * den.max())

        def apply(r):
            R = r.reshape(p1, K)
            if Ub is not None:
                R = Ub.T @ R
            if Ua is not None:
                R = R @ Ua
            R = R / den
            if Ua is not None:
                R = R @ Ua.T
            if Ub is not None:
                R = Ub @ R
            return R.ravel()

        return apply

    def hessian(self, w):
        """``(f, grad, H)`` with the full Hessian H of shape (n_dof, n_dof).

        One pass over X.  Sigmoid outputs are independent: H is block diagonal,
        one ``X~^T diag(h_l) X~`` per output (X~ = [X, 1]).  For softmax the
        Hessian of row i in the raw scores is ``s_i S_i (diag(p) - p p^T)``, so
        block (c, c') is ``X~^T diag(a_cc') X~``,
        ``a_cc' = s_i S_i p_c (delta_cc' - p_c')``.
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
                hd = hd.reshape(Z.shape[0], K)
                coef = {(c, c): hd[:, c].astype(np.float64) for c in range(K)}
            else:
                P = np.exp(log_softmax(Z.astype(np.float64), axis=1))
                sP = self._effective_weight(rows)[:, None] * P
                coef = {}
                for c, e in pairs:
                    a = -sP[:, c] * P[:, e]
                    coef[c, e] = a + sP[:, c] if c == e else a
            out = [loss, XtG]
            if gb is not None:
                out.append(gb)
            for c, e in pairs:
                a = coef[c, e]
                B = np.empty((p1, p1))
                if sparse.issparse(Xb):
                    B[:d, :d] = (Xb.T @ Xb.multiply(a[:, None]).tocsr()).toarray()
                else:
                    B[:d, :d] = Xb.T @ (a[:, None].astype(Xb.dtype) * Xb)
                Xa = np.asarray(Xb.T @ a.astype(Xb.dtype), dtype=np.float64).ravel()
                if self.fit_intercept:
                    B[:d, d] = B[d, :d] = Xa
                    B[d, d] = a.sum()
                out.append(B)
            return tuple(out)

        res = self._map_chunks(part)
        f = res[0] + self.penalty(w)
        grad = self._assemble(w, res[1], res[2] if self.fit_intercept else None)
        blocks = res[3:] if self.fit_intercept else res[2:]
        # Into the flat layout: W (d, K) in C order, then the K intercepts.
        H = np.zeros((self.n_dof, self.n_dof))
        idx = [np.arange(p1) * K + c for c in range(K)]
        for (c, e), B in zip(pairs, blocks):
            H[np.ix_(idx[c], idx[e])] = B
            if c != e:
                H[np.ix_(idx[e], idx[c])] = B.T
        if self.l2:
            diag = np.arange(d * K)
            H[diag, diag] += self.l2
        return f, grad, _sym(H)

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

        def part(rows):
            Xb = self._Xrows(rows)
            return (float(np.einsum("ij,ij->", Xb, Xb, dtype=np.float64)),)

        total = sum(part(rows)[0] for rows in self._chunks)
        return total / self.n_samples
