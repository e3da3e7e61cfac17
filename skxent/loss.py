"""Per-sample cross entropy, its gradient and Hessian-vector products.

The public face of the Cython kernels, for solvers and for anyone building their
own model.  This layer allocates missing outputs and makes the checks that keep
the kernels safe and their results honest, at little cost next to the kernel:
shapes, dtypes and contiguity; class indices (one pass over ``y``); weights and
target matrices; and the raw scores through the finiteness of the outputs.  It
does not encode labels: that is the metrics' and estimators' job.

Dtype policy: ``raw`` decides.  float32 in gives float32 out, with sums
accumulated in float64 inside the kernel; any other dtype is computed in
float64.  ``y``, ``vector`` and given outputs must match ``raw``'s shape.
"""

import numbers

import numpy as np

from . import _core
from ._validation import (
    check_distribution_rows,
    check_label_smoothing,
    input_dtype,
    n_threads_for,
)

__all__ = ["loss_gradient", "hessp"]

_EMPTY = np.empty(0, dtype=np.float64)


def _prepare(y, raw, link, sample_weight, label_smoothing, class_weight):
    if link not in ("softmax", "sigmoid"):
        raise ValueError(f"link must be 'softmax' or 'sigmoid'; got {link!r}")
    raw = np.asarray(raw)
    y = np.asarray(y)
    # Cheap dtype checks: a complex array would lose its imaginary part in the
    # cast (a warning, not an error), strings and objects would be parsed.
    for name, arr in (("raw", raw), ("y", y)):
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
    if raw.ndim == 0 or raw.shape[0] == 0:
        raise ValueError(f"raw is empty or a scalar (shape {raw.shape}); it needs rows (samples)")
    dtype = np.float32 if raw.dtype == np.float32 else np.float64
    raw = np.ascontiguousarray(raw, dtype=dtype)
    label_smoothing = check_label_smoothing(label_smoothing)

    if link == "softmax":
        if raw.ndim != 2:
            raise ValueError(f"raw must be 2-D (n, k) for link='softmax'; got shape {raw.shape}")
        n, k = raw.shape
        if k == 0:
            raise ValueError(f"raw must have at least one column (class); got shape {raw.shape}")
        if y.shape == (n,):
            labels = _class_indices(y, k)
            target = np.empty((0, k), dtype=dtype)
        elif y.shape == (n, k):
            labels = np.empty(0, dtype=np.intp)
            target = np.ascontiguousarray(y, dtype=dtype)
            check_distribution_rows(
                target, "y", what="target probabilities", tol_dtype=input_dtype(y)
            )
        else:
            raise ValueError(
                f"y must be class indices of shape ({n},) or targets of shape ({n}, {k}); "
                f"got shape {y.shape}"
            )
        cw = _EMPTY if class_weight is None else _weights(class_weight, k, "class_weight")
    else:
        if raw.ndim not in (1, 2):
            raise ValueError(f"raw must be 1-D or 2-D for link='sigmoid'; got shape {raw.shape}")
        if y.shape != raw.shape:
            raise ValueError(f"y must have the shape of raw {raw.shape}; got {y.shape}")
        n = raw.shape[0]
        labels = None
        target = np.ascontiguousarray(y, dtype=dtype).reshape(n, -1)
        if not ((target >= 0) & (target <= 1)).all():  # NaN fails both
            i, j = np.argwhere(~((target >= 0) & (target <= 1)))[0]
            raise ValueError(f"y must hold targets in [0, 1]; got {target[i, j]!r} in row {i}")
        cw = (
            None
            if class_weight is None
            else _weights(
                class_weight,
                2,
                "class_weight",
                " for link='sigmoid' (the weights of the negative and the positive class)",
            )
        )

    sw = _EMPTY if sample_weight is None else _weights(sample_weight, n, "sample_weight")
    return raw, labels, target, sw, cw, dtype


def _weights(w, size, name, what=""):
    """float64 weights of shape (size,), finite and non-negative."""
    w = np.ascontiguousarray(w, dtype=np.float64)
    if w.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},){what}; got {w.shape}")
    _check_weights(w, name)
    return w


def _class_indices(y, k):
    """y as intp class indices, checked in its own dtype before any cast.

    The kernel indexes rows with them: out of range (or NaN) would be memory
    corruption, a fraction silently another class.  One pass over y.
    """
    if y.dtype.kind == "f":
        values = y if y.dtype in (np.float32, np.float64) else y.astype(np.float64)
        out = np.empty(y.shape[0], dtype=np.intp)
        bad = _core.class_indices(np.ascontiguousarray(values), k, out)
        if bad >= 0:
            raise ValueError(
                f"y must hold whole class indices in 0..{k - 1}; y[{bad}] is "
                f"{values[bad].item()!r} (for soft targets pass an (n, k) matrix)"
            )
        return out
    lo, hi = y.min(), y.max()
    if lo < 0 or hi > k - 1:
        bad = int(np.flatnonzero((y < 0) | (y > k - 1))[0])
        raise ValueError(f"y must hold class indices in 0..{k - 1}; y[{bad}] is {y[bad].item()!r}")
    return np.ascontiguousarray(y, dtype=np.intp)


def _check_weights(w, name):
    if not (w >= 0).all() or not np.isfinite(w).all():  # NaN fails w >= 0
        i = int(np.flatnonzero(~((w >= 0) & np.isfinite(w)))[0])
        raise ValueError(f"{name} must be finite and non-negative; {name}[{i}] is {w[i]!r}")


def _check_finite(values, raw, vector=None):
    """Raise if the kernel's output has a non-finite entry, naming the input to blame.

    Valid weights and targets leave only the raw scores (or the direction of a
    Hessian-vector product) to blame.  Finite scores always give finite
    results, and so do -inf scores of classes the target gives no mass (their
    probability is exactly 0): those are accepted, as is a sigmoid score of
    +inf where the target is 1 (the class of probability 0 is then the other).
    Checking the outputs costs
    one pass over arrays the caller is about to read anyway.
    """
    ok = np.isfinite(values)
    if ok.all():
        return
    i = int(np.flatnonzero(~ok.reshape(ok.shape[0], -1).all(axis=1))[0])
    if vector is not None and not np.isfinite(vector[i]).all():
        raise ValueError(f"vector must be finite; row {i} is {vector[i]}")
    row = raw[i] if raw.ndim == 2 else raw[i : i + 1]
    if np.isfinite(row).all():
        raise ValueError(
            f"the loss overflows {raw.dtype}: the raw scores of row {i} are too large "
            f"in magnitude ({np.abs(row).max()!r})"
        )
    raise ValueError(
        f"raw must be finite (a -inf score is allowed only where the target is 0); row {i} is {row}"
    )


def _n_threads(n_threads, size):
    """None: the default; else a positive integer (OpenMP aborts the process on -1)."""
    if n_threads is None:
        return n_threads_for(size)
    if isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads must be None or a positive integer; got {n_threads!r}")
    if n_threads < 1:
        raise ValueError(f"n_threads must be None or a positive integer; got {n_threads!r}")
    return int(n_threads)


def _sigmoid_kernel(
    raw2, target, sw, cw, label_smoothing, n_threads, loss, *, gradient=None, hessian=None
):
    """Run the sigmoid kernel on (n, L) scores, filling ``loss`` and the outputs asked for.

    ``cw`` is None or the pair (w_neg, w_pos), shared by every column.
    """
    n_cols = raw2.shape[1]
    none = np.empty((0, n_cols), dtype=raw2.dtype)
    _core.sigmoid_loss_gradient(
        raw2,
        target,
        sw,
        _EMPTY if cw is None else np.full(n_cols, cw[1]),
        _EMPTY if cw is None else np.full(n_cols, cw[0]),
        label_smoothing,
        loss,
        none if gradient is None else gradient,
        none if hessian is None else hessian,
        n_threads,
    )


def _out(buf, shape, dtype, name):
    if buf is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(buf, np.ndarray) or buf.shape != shape or buf.dtype != dtype:
        raise ValueError(f"{name} must be an array of shape {shape} and dtype {np.dtype(dtype)}")
    if not (buf.flags.c_contiguous and buf.flags.writeable):
        raise ValueError(f"{name} must be C-contiguous and writeable")
    return buf


def loss_gradient(
    y,
    raw,
    *,
    link="softmax",
    sample_weight=None,
    label_smoothing=0.0,
    class_weight=None,
    loss_out=None,
    gradient_out=None,
    n_threads=None,
):
    r"""Per-sample cross entropy and its gradient with respect to raw scores.

    For ``link="softmax"``, with :math:`p = \mathrm{softmax}(z_i)` and target
    distribution :math:`t_i` (one-hot for a class index, smoothed to
    :math:`(1 - \varepsilon) t + \varepsilon / k`),

    .. math::
        \ell_i = s_i \sum_c w_c t_{ic} (\mathrm{lse}(z_i) - z_{ic}), \qquad
        \frac{\partial \ell_i}{\partial z_{ic}} = s_i (S_i p_{ic} - w_c t_{ic}),

    with sample weights :math:`s`, class weights :math:`w` and
    :math:`S_i = \sum_c w_c t_{ic}`.  For ``link="sigmoid"`` each entry is an
    independent Bernoulli term,
    :math:`\ell = s (w_1 t \log(1 + e^{-z}) + w_0 (1 - t) \log(1 + e^{z}))`,
    summed over the columns of a 2-D ``raw``.

    Parameters
    ----------
    y : ndarray of shape (n,) or (n, k)
        Class indices 0..k-1 (int or float), or a target matrix.  For
        ``link="sigmoid"``, targets in [0, 1] of the shape of ``raw``.
    raw : ndarray of shape (n, k), or (n,) / (n, L) for ``link="sigmoid"``
        Raw scores (logits).  float32 stays float32.
    link : {"softmax", "sigmoid"}, default="softmax"
    sample_weight : ndarray of shape (n,), default=None
        Multiplies each sample's loss and gradient.
    label_smoothing : float in [0, 1), default=0.0
    class_weight : ndarray of shape (k,), or (2,) for ``link="sigmoid"``
        Weight of each class's term (for sigmoid: negative, positive).
    loss_out : ndarray of shape (n,), default=None
        Filled in place when given.
    gradient_out : ndarray of the shape of ``raw``, default=None
        Filled in place when given.  Nothing else is allocated when both
        outputs are given (except for a 2-D sigmoid, which needs the
        element-wise losses before summing them).
    n_threads : int, default=None
        OpenMP threads; None follows ``OMP_NUM_THREADS`` and threadpoolctl.
        Results do not depend on it.

    Returns
    -------
    loss : ndarray of shape (n,)
    gradient : ndarray of the shape of ``raw``

    Examples
    --------
    >>> import numpy as np
    >>> from skxent.loss import loss_gradient
    >>> loss, grad = loss_gradient(np.array([0, 1]), np.array([[2.0, 0.0], [0.0, 0.0]]))
    >>> loss.round(4)
    array([0.1269, 0.6931])
    >>> grad.round(4)
    array([[-0.1192,  0.1192],
           [ 0.5   , -0.5   ]])
    """
    raw, labels, target, sw, cw, dtype = _prepare(
        y, raw, link, sample_weight, label_smoothing, class_weight
    )
    n = raw.shape[0]
    nt = _n_threads(n_threads, raw.size)
    loss = _out(loss_out, (n,), dtype, "loss_out")
    grad = _out(gradient_out, raw.shape, dtype, "gradient_out")
    if link == "softmax":
        _core.softmax_loss_gradient(raw, labels, target, sw, cw, label_smoothing, loss, grad, nt)
        _check_finite(loss, raw)
        return loss, grad

    raw2 = raw.reshape(n, -1)
    n_cols = raw2.shape[1]
    elem = loss.reshape(n, 1) if n_cols == 1 else np.empty_like(raw2)
    _sigmoid_kernel(raw2, target, sw, cw, label_smoothing, nt, elem, gradient=grad.reshape(n, -1))
    if n_cols > 1 or raw.ndim == 2:
        np.sum(elem, axis=1, out=loss)
    _check_finite(loss, raw)
    _check_finite(grad, raw)  # a zero weight hides a NaN score from the loss only
    return loss, grad


def hessp(
    y,
    raw,
    vector,
    *,
    link="softmax",
    sample_weight=None,
    label_smoothing=0.0,
    class_weight=None,
    out=None,
    n_threads=None,
):
    r"""Hessian-vector products of the per-sample loss with respect to raw scores.

    The Hessian is block diagonal over samples; row ``i`` of the result is
    :math:`H_i v_i` with :math:`H_i = s_i S_i (\mathrm{diag}(p_i) - p_i p_i^T)`
    for softmax and the diagonal :math:`s_i (w_1 t + w_0 (1 - t)) \sigma(z)
    \sigma(-z)` for sigmoid.  Parameters are those of :func:`loss_gradient`;
    ``vector`` has the shape of ``raw``.

    Returns
    -------
    hessp : ndarray of the shape of ``raw``

    Examples
    --------
    >>> import numpy as np
    >>> from skxent.loss import hessp
    >>> hessp(np.array([0]), np.zeros((1, 2)), np.array([[1.0, 0.0]]))
    array([[ 0.25, -0.25]])
    """
    raw, labels, target, sw, cw, dtype = _prepare(
        y, raw, link, sample_weight, label_smoothing, class_weight
    )
    v = np.asarray(vector)
    if v.shape != raw.shape:
        raise ValueError(f"vector must have the shape of raw {raw.shape}; got {v.shape}")
    v = np.ascontiguousarray(v, dtype=dtype)
    n = raw.shape[0]
    nt = _n_threads(n_threads, raw.size)
    res = _out(out, raw.shape, dtype, "out")
    if link == "softmax":
        _core.softmax_hessp(raw, labels, target, sw, cw, label_smoothing, v, res, nt)
        _check_finite(res, raw, v)
        return res
    raw2 = raw.reshape(n, -1)
    hess = res.reshape(n, -1)
    _sigmoid_kernel(raw2, target, sw, cw, label_smoothing, nt, np.empty_like(raw2), hessian=hess)
    hess *= v.reshape(n, -1)
    _check_finite(res, raw, v)
    return res
