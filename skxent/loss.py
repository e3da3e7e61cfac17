"""Per-sample cross entropy, its gradient and Hessian-vector products.

The only door to skxent's Cython kernels (``skxent._core``).  Two levels:

- :class:`CrossEntropyLoss`, a configured loss (link, number of outputs, label
  smoothing, class weights) whose methods **trust their inputs**: encoded
  targets, C-contiguous arrays of one float dtype, valid weights.  Solvers
  and skxent's own layers call it inside their loops, where nothing is
  validated again.
- :func:`loss_gradient` and :func:`hessp`, which validate their inputs once
  (through :mod:`skxent._validation`) and then call a :class:`CrossEntropyLoss`.

The functions whose names start with an underscore are the other kernels'
doors for skxent's own modules (the metrics' fused row checks, deterministic
sums); they trust their inputs too.

Dtype policy: ``raw`` decides.  float32 in gives float32 out, with sums
accumulated in float64 inside the kernel; any other dtype is computed in
float64.  Results never depend on the number of threads.
"""

import numpy as np

from . import _core
from ._validation import (
    check_distribution_rows,
    check_float_array,
    check_label_smoothing,
    check_n_threads,
    check_output,
    check_sample_weight,
    input_dtype,
    input_error,
)

__all__ = ["CrossEntropyLoss", "loss_gradient", "hessp"]

_EMPTY = np.empty(0, dtype=np.float64)
_NO_INDICES = np.empty(0, dtype=np.intp)

# Below this many entries a kernel runs on one thread: starting a team costs
# more than it saves.
_SERIAL_SIZE = 50_000
# The same for log_loss's gather, a single pass over memory.
_GATHER_PARALLEL_SIZE = 2**22


def max_threads():
    """``omp_get_max_threads()``: honours ``OMP_NUM_THREADS`` and threadpoolctl."""
    return _core.max_threads()


def default_threads(size):
    """The thread policy of every kernel call: all of OpenMP's threads, one for small work."""
    if size < _SERIAL_SIZE:
        return 1
    return max(1, _core.max_threads())


class CrossEntropyLoss:
    r"""Cross entropy with a fixed link, number of outputs, smoothing and class weights.

    Its methods trust their inputs (no checks, no copies): ``raw`` is a
    C-contiguous float32 or float64 array, (n, k) for softmax and (n, L) for
    sigmoids; ``target`` is, for softmax, class indices (n,) (intp, or
    float labels of ``raw``'s dtype; the kernels check them as they go) or a
    target matrix (n, k) of ``raw``'s dtype, and for sigmoids a matrix of
    targets in [0, 1] of ``raw``'s shape and dtype; ``sample_weight`` is None
    or float64 (n,), finite and non-negative.  Output buffers, when given, are
    of the right shape and dtype and alias no input.  ``n_threads`` is a
    positive integer; results do not depend on it.

    Parameters
    ----------
    link : {"softmax", "sigmoid"}
    n_outputs : int
        k, the number of classes (softmax), or L, the number of independent
        sigmoid outputs.
    label_smoothing : float in [0, 1), default=0.0
        Targets become (1 − ε) t + ε / k (k = 2 for a sigmoid).
    class_weight : ndarray, default=None
        (k,) for softmax; for sigmoids the pair (negative, positive), shared by
        every output.
    pos_weight : ndarray of shape (L,), default=None
        Sigmoids only: a further weight of each output's positive term.
    """

    def __init__(self, link, n_outputs, *, label_smoothing=0.0, class_weight=None, pos_weight=None):
        if link not in ("softmax", "sigmoid"):
            raise ValueError(f"link must be 'softmax' or 'sigmoid'; got {link!r}")
        self.link = link
        self.n_outputs = int(n_outputs)
        self.label_smoothing = float(label_smoothing)
        self.class_weight = None if class_weight is None else np.asarray(class_weight, float)
        L = self.n_outputs
        if link == "softmax":
            self._cw = _EMPTY if self.class_weight is None else self.class_weight
            return
        cw = self.class_weight
        pw = None if pos_weight is None else np.asarray(pos_weight, dtype=np.float64)
        if cw is None and pw is None:
            self._pw = self._nw = _EMPTY
        else:
            neg, pos = (1.0, 1.0) if cw is None else (float(cw[0]), float(cw[1]))
            self._pw = np.full(L, pos) if pw is None else np.ascontiguousarray(pos * pw)
            self._nw = _EMPTY if neg == 1.0 else np.full(L, neg)

    # -- softmax or sigmoid, loss and gradient -------------------------------

    def _softmax_inputs(self, target, raw, sample_weight):
        """The softmax kernels' leading arguments: scores, indices, float labels
        or targets, weights, smoothing (empty arrays stand for what is not given)."""
        hard = target.ndim == 1
        labels = hard and target.dtype == raw.dtype
        return (
            raw,
            target if hard and not labels else _NO_INDICES,
            target if labels else np.empty(0, raw.dtype),
            np.empty((0, raw.shape[1]), raw.dtype) if hard else target,
            _EMPTY if sample_weight is None else sample_weight,
            self._cw,
            self.label_smoothing,
        )

    def _softmax(self, target, raw, sample_weight, loss_out, gradient_out, n_threads):
        if gradient_out is None:
            gradient_out = np.empty((0, raw.shape[1]), raw.dtype)
        bad = _core.softmax_loss_gradient(
            *self._softmax_inputs(target, raw, sample_weight), loss_out, gradient_out, n_threads
        )
        if bad >= 0:
            raise _label_error(target, bad, raw.shape[1])

    def _sigmoid(self, target, raw, sample_weight, elem_out, gradient_out, hessian_out, n_threads):
        """Run the sigmoid kernel; return whether every output it wrote is finite."""
        none = np.empty((0, raw.shape[1]), dtype=raw.dtype)
        return _core.sigmoid_loss_gradient(
            raw,
            target,
            _EMPTY if sample_weight is None else sample_weight,
            self._pw,
            self._nw,
            self.label_smoothing,
            elem_out,
            none if gradient_out is None else gradient_out,
            none if hessian_out is None else hessian_out,
            n_threads,
        )

    def _per_sample(self, raw, elem, loss_out):
        """Per-sample sums of the element-wise sigmoid losses."""
        if loss_out is None:
            loss_out = np.empty(raw.shape[0], dtype=raw.dtype)
        if elem.ndim == 2 and elem.shape[1] > 1:
            np.sum(elem, axis=1, out=loss_out)
        return loss_out

    def _elem_buffer(self, raw, loss_out):
        """Where the sigmoid kernel writes its element-wise losses."""
        if raw.shape[1] == 1 and loss_out is not None:
            return loss_out.reshape(-1, 1)
        return np.empty(raw.shape, dtype=raw.dtype)

    def loss(self, target, raw, *, sample_weight=None, loss_out=None, n_threads=1):
        """Per-sample loss (n,), in ``raw``'s dtype (sigmoids: summed over outputs)."""
        if self.link == "softmax":
            if loss_out is None:
                loss_out = np.empty(raw.shape[0], dtype=raw.dtype)
            self._softmax(target, raw, sample_weight, loss_out, None, n_threads)
            return loss_out
        elem = self._elem_buffer(raw, loss_out)
        self._sigmoid(target, raw, sample_weight, elem, None, None, n_threads)
        return self._per_sample(raw, elem, loss_out if raw.shape[1] > 1 else elem.reshape(-1))

    def elementwise_loss(self, target, raw, *, sample_weight=None, out=None, n_threads=1):
        """Sigmoids only: the (n, L) losses of every output."""
        if out is None:
            out = np.empty(raw.shape, dtype=raw.dtype)
        self._sigmoid(target, raw, sample_weight, out, None, None, n_threads)
        return out

    def loss_gradient(
        self, target, raw, *, sample_weight=None, loss_out=None, gradient_out=None, n_threads=1
    ):
        """``(loss, gradient)``: per-sample loss (n,) and its gradient w.r.t. ``raw``."""
        if gradient_out is None:
            gradient_out = np.empty(raw.shape, dtype=raw.dtype)
        if self.link == "softmax":
            if loss_out is None:
                loss_out = np.empty(raw.shape[0], dtype=raw.dtype)
            self._softmax(target, raw, sample_weight, loss_out, gradient_out, n_threads)
            return loss_out, gradient_out
        elem = self._elem_buffer(raw, loss_out)
        self._sigmoid(target, raw, sample_weight, elem, gradient_out, None, n_threads)
        loss = self._per_sample(raw, elem, loss_out if raw.shape[1] > 1 else elem.reshape(-1))
        return loss, gradient_out

    def gradient_hessian(
        self,
        target,
        raw,
        *,
        sample_weight=None,
        loss_out=None,
        gradient_out=None,
        hessian_out=None,
        n_threads=1,
    ):
        """Sigmoids only: ``(loss, gradient, hessian)`` from one kernel call.

        The Hessian of a sigmoid loss in the raw scores is diagonal; its
        diagonal has ``raw``'s shape.  Newton solvers use it for their
        Hessian-vector products, at no second pass over the data.
        """
        if self.link != "sigmoid":
            raise NotImplementedError("the Hessian of softmax is not diagonal: use hessp")
        if gradient_out is None:
            gradient_out = np.empty(raw.shape, dtype=raw.dtype)
        if hessian_out is None:
            hessian_out = np.empty(raw.shape, dtype=raw.dtype)
        elem = self._elem_buffer(raw, loss_out)
        self._sigmoid(target, raw, sample_weight, elem, gradient_out, hessian_out, n_threads)
        loss = self._per_sample(raw, elem, loss_out if raw.shape[1] > 1 else elem.reshape(-1))
        return loss, gradient_out, hessian_out

    def hessp(self, target, raw, vector, *, sample_weight=None, out=None, n_threads=1):
        """Row-wise Hessian-vector products ``H_i v_i`` of the per-sample loss."""
        if out is None:
            out = np.empty(raw.shape, dtype=raw.dtype)
        if self.link == "softmax":
            bad = _core.softmax_hessp(
                *self._softmax_inputs(target, raw, sample_weight), vector, out, n_threads
            )
            if bad >= 0:
                raise _label_error(target, bad, raw.shape[1])
            return out
        self._sigmoid(
            target, raw, sample_weight, np.empty(raw.shape, raw.dtype), None, out, n_threads
        )
        out *= vector
        return out


# ---------------------------------------------------------------------------
# The public, validating functions
# ---------------------------------------------------------------------------


def _prepare(y, raw, link, sample_weight, label_smoothing, class_weight, n_threads=None):
    """Validate the inputs of the public functions; return the kernel's view of them
    and the number of threads (``n_threads``, or the default for this size) for
    the kernels and the checks of ``y``."""
    if link not in ("softmax", "sigmoid"):
        raise input_error(f"link must be 'softmax' or 'sigmoid'; got {link!r}", argument="link")
    raw_in = np.asarray(raw)
    y_in = np.asarray(y)
    # Cheap dtype checks: a complex array would lose its imaginary part in the
    # cast (a warning, not an error), strings and objects would be parsed.
    for name, arr in (("raw", raw_in), ("y", y_in)):
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
    if raw_in.ndim == 0 or raw_in.shape[0] == 0:
        raise input_error(
            f"raw is empty or a scalar (shape {raw_in.shape}); it needs rows (samples)",
            argument="raw",
        )
    dtype = np.float32 if raw_in.dtype == np.float32 else np.float64
    raw = np.ascontiguousarray(raw_in, dtype=dtype)
    smoothing = check_label_smoothing(label_smoothing)
    n = raw.shape[0]
    nt = _threads(n_threads, raw.size)

    if link == "softmax":
        if raw.ndim != 2:
            raise input_error(
                f"raw must be 2-D (n, k) for link='softmax'; got shape {raw.shape}", argument="raw"
            )
        k = raw.shape[1]
        if k == 0:
            raise input_error(
                f"raw must have at least one column (class); got shape {raw.shape}", argument="raw"
            )
        if y_in.shape == (n,):
            target = _class_indices(y_in, k, nt, dtype)
        elif y_in.shape == (n, k):
            target = np.ascontiguousarray(y_in, dtype=dtype)
            check_distribution_rows(
                target, "y", what="target probabilities", tol_dtype=input_dtype(y_in)
            )
        else:
            raise input_error(
                f"y must be class indices of shape ({n},) or targets of shape ({n}, {k}); "
                f"got shape {y_in.shape}",
                argument="y",
            )
        cw = None if class_weight is None else _weights(class_weight, k, "class_weight")
        loss = CrossEntropyLoss("softmax", k, label_smoothing=smoothing, class_weight=cw)
    else:
        if raw.ndim not in (1, 2):
            raise input_error(
                f"raw must be 1-D or 2-D for link='sigmoid'; got shape {raw.shape}",
                argument="raw",
            )
        if y_in.shape != raw.shape:
            raise input_error(
                f"y must have the shape of raw {raw.shape}; got {y_in.shape}", argument="y"
            )
        target = np.ascontiguousarray(y_in, dtype=dtype).reshape(n, -1)
        bad = _core.first_outside_unit(target.reshape(-1), nt)  # NaN is outside
        if bad >= 0:
            i, j = divmod(bad, target.shape[1])
            raise input_error(
                f"y must hold targets in [0, 1]; got {target[i, j]!r} in row {i}",
                argument="y",
                row=int(i),
            )
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
        loss = CrossEntropyLoss(
            "sigmoid", target.shape[1], label_smoothing=smoothing, class_weight=cw
        )
    sw = check_sample_weight(sample_weight, n, allow_all_zero=True)
    return raw, target, None if sw is None else sw.values, loss, nt


def _weights(w, size, name, what=""):
    """float64 weights of shape (size,), finite and non-negative."""
    w = check_float_array(w, name, ndims=(0, 1), dtype=np.float64)
    if w.shape != (size,):
        raise input_error(f"{name} must have shape ({size},){what}; got {w.shape}", argument=name)
    ok = (w >= 0) & np.isfinite(w)  # NaN fails w >= 0
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise input_error(
            f"{name} must be finite and non-negative; {name}[{i}] is {w[i]!r}", argument=name
        )
    return w


def _class_indices(y, k, n_threads=1, dtype=None):
    """y as class indices for the softmax kernels, checked in its own dtype
    before any cast.

    The kernel indexes rows with them: out of range (or NaN) would be memory
    corruption, a fraction silently another class.  intp indices, and float
    labels of the scores' ``dtype``, go to the kernels as they are (they check
    each chunk's labels as they go: no pass over y, no array of indices);
    other dtypes are converted here, in one pass.
    """
    if y.dtype == np.intp or (dtype is not None and y.dtype == dtype):
        return np.ascontiguousarray(y)
    if y.dtype.kind == "f":
        values = np.ascontiguousarray(y if y.dtype == np.float32 else y.astype(float))
        out = np.empty(y.shape[0], dtype=np.intp)
        bad = _core.class_indices(values, k, out, n_threads)
        if bad >= 0:
            raise _label_error(values, bad, k)
        return out
    lo, hi = y.min(), y.max()
    if lo < 0 or hi > k - 1:
        raise _label_error(y, int(np.flatnonzero((y < 0) | (y > k - 1))[0]), k)
    return np.ascontiguousarray(y, dtype=np.intp)


def _label_error(y, bad, k):
    """The error for ``y[bad]``, which is not a class index in 0..k-1."""
    if y.dtype.kind == "f":
        return input_error(
            f"y must hold whole class indices in 0..{k - 1}; y[{bad}] is "
            f"{y[bad].item()!r} (for soft targets pass an (n, k) matrix)",
            argument="y",
            row=int(bad),
        )
    return input_error(
        f"y must hold class indices in 0..{k - 1}; y[{bad}] is {y[bad].item()!r}",
        argument="y",
        row=int(bad),
    )


def _threads(n_threads, size):
    n_threads = check_n_threads(n_threads)
    return default_threads(size) if n_threads is None else n_threads


def _check_finite(values, raw, vector=None):
    """Raise if the kernel's output has a non-finite entry, naming the input to blame.

    Valid weights and targets leave only the raw scores (or the direction of a
    Hessian-vector product) to blame.  Finite scores always give finite
    results, and so do -inf scores of classes the target gives no mass (their
    probability is exactly 0): those are accepted, as is a sigmoid score of
    +inf where the target is 1 (the class of probability 0 is then the other).
    Checking the outputs costs one pass over arrays the caller is about to
    read anyway.
    """
    ok = np.isfinite(values)
    if ok.all():
        return
    i = int(np.flatnonzero(~ok.reshape(ok.shape[0], -1).all(axis=1))[0])
    if vector is not None and not np.isfinite(vector[i]).all():
        raise input_error(
            f"vector must be finite; row {i} is {vector[i]}", argument="vector", row=i
        )
    row = raw[i] if raw.ndim == 2 else raw[i : i + 1]
    if np.isfinite(row).all():
        raise input_error(
            f"the loss overflows {raw.dtype}: the raw scores of row {i} are too large "
            f"in magnitude ({np.abs(row).max()!r})",
            argument="raw",
            row=i,
        )
    raise input_error(
        "raw must be finite (a -inf score is allowed only where the target is 0, "
        f"and for a sigmoid +inf where it is 1); row {i} is {row}",
        argument="raw",
        row=i,
    )


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
        Multiplies each sample's loss and gradient.  Weights that are all zero
        are allowed here (a mini-batch of no weight has zero loss and
        gradient), unlike in the metrics, which would have nothing to average.
    label_smoothing : float in [0, 1), default=0.0
    class_weight : ndarray of shape (k,), or (2,) for ``link="sigmoid"``
        Weight of each class's term (for sigmoid: negative, positive).
    loss_out : ndarray of shape (n,), default=None
        Filled in place when given (partly, on an error).
    gradient_out : ndarray of the shape of ``raw``, default=None
        Filled in place when given (partly, on an error).  Nothing else is
        allocated when both outputs are given (except for a 2-D sigmoid, which
        needs the element-wise losses before summing them).  An output must
        not share memory with an input or with the other output (a
        ``ValueError`` says so): the kernel writes it while it still reads
        them.
    n_threads : int, default=None
        OpenMP threads, from 1 to 4 per CPU; None follows ``OMP_NUM_THREADS``
        and threadpoolctl.  Results do not depend on it.

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
    raw, target, sw, loss, nt = _prepare(
        y, raw, link, sample_weight, label_smoothing, class_weight, n_threads
    )
    n = raw.shape[0]
    inputs = [("raw", raw), ("y", target), ("sample_weight", sw)]
    lo = check_output(loss_out, (n,), raw.dtype, "loss_out", inputs)
    go = check_output(
        gradient_out, raw.shape, raw.dtype, "gradient_out", inputs + [("loss_out", lo)]
    )
    if link == "softmax":
        loss.loss_gradient(
            target, raw, sample_weight=sw, loss_out=lo, gradient_out=go, n_threads=nt
        )
        _check_finite(lo, raw)
        return lo, go
    raw2 = raw.reshape(n, -1)
    elem = loss._elem_buffer(raw2, lo)
    finite = loss._sigmoid(target, raw2, sw, elem, go.reshape(n, -1), None, nt)
    loss._per_sample(raw2, elem, lo if raw2.shape[1] > 1 else elem.reshape(-1))
    # The kernel says whether its outputs are finite; summed over several
    # outputs, a row's loss can still overflow.
    if not finite or raw2.shape[1] > 1:
        _check_finite(lo, raw)
    if not finite:
        _check_finite(go, raw)  # a zero weight hides a NaN score from the loss only
    return lo, go


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
    ``vector`` has the shape of ``raw``; ``out`` must not share memory with an
    input.

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
    raw, target, sw, loss, nt = _prepare(
        y, raw, link, sample_weight, label_smoothing, class_weight, n_threads
    )
    v = np.asarray(vector)
    if v.dtype.kind not in "biuf":
        raise TypeError(f"vector must be a real numeric array; got dtype {v.dtype}")
    if v.shape != raw.shape:
        raise input_error(
            f"vector must have the shape of raw {raw.shape}; got {v.shape}", argument="vector"
        )
    v = np.ascontiguousarray(v, dtype=raw.dtype)
    n = raw.shape[0]
    inputs = [("raw", raw), ("y", target), ("sample_weight", sw), ("vector", v)]
    res = check_output(out, raw.shape, raw.dtype, "out", inputs)
    if link == "softmax":
        loss.hessp(target, raw, v, sample_weight=sw, out=res, n_threads=nt)
    else:
        loss.hessp(
            target,
            raw.reshape(n, -1),
            v.reshape(n, -1),
            sample_weight=sw,
            out=res.reshape(n, -1),
            n_threads=nt,
        )
    _check_finite(res, raw, v)
    return res


# ---------------------------------------------------------------------------
# The other kernels, for skxent's own modules (trusted inputs)
# ---------------------------------------------------------------------------


def _row_status(arr, tol):
    """Status of each row of a C-contiguous 2-D float array (0 valid; see
    :func:`skxent._validation.raise_bad_row`): finite, in [0, 1], and summing
    to 1 within ``tol`` (``tol < 0``: sums unchecked)."""
    status = np.empty(arr.shape[0], dtype=np.int8)
    _core.check_rows(arr, tol, status, default_threads(arr.size))
    return status


def _weighted_sum(x, weight=None):
    """``(sum_i w_i x_i, sum_i w_i)`` in float64, bitwise independent of threads."""
    x = np.ascontiguousarray(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    w = _EMPTY if weight is None else np.ascontiguousarray(weight, dtype=np.float64)
    return _core.block_sum(x, w, default_threads(x.shape[0]))


def _proba_cross_entropy(proba, indices, matrix, class_weight, smoothing, clip, tol):
    """Per-sample ``-sum_c w_c t_c log(clip(q_c))`` (float64, nats) and each row's status.

    ``proba`` (n, k) float32/float64; ``indices`` intp (n,) or ``matrix``
    (n, k) of proba's dtype; ``tol`` as in :func:`_row_status`.
    """
    n, k = proba.shape
    loss = np.empty(n, dtype=np.float64)
    status = np.empty(n, dtype=np.int8)
    _core.xent_proba(
        proba,
        _NO_INDICES if indices is None else indices,
        np.empty((0, k), dtype=proba.dtype) if matrix is None else matrix,
        _EMPTY if class_weight is None else class_weight,
        smoothing,
        clip,
        tol,
        loss,
        status,
        default_threads(proba.size),
    )
    return loss, status


def _gather_clipped(proba, codes, clip, tol):
    """``log_loss``'s one pass: each row checked, the clipped probability of its class.

    ``proba`` is (n, k), or (n,) positive-class probabilities (the column
    [1 - p, p]; sums unchecked).  ``codes`` are intp class indices; one outside
    0..k-1 counts as a bad row (so raw integer labels can be tried as the
    indices themselves).  A row is good when it is finite, in [0, 1] and sums
    to 1 within ``tol`` (``tol < 0``: unchecked).  Returns
    ``(picked, ok, complete)``: ``ok`` whether every row is good, ``complete``
    whether every class 0..k-1 occurs.
    """
    n = proba.shape[0]
    k = 2 if proba.ndim == 1 else proba.shape[1]
    picked = np.empty(n, dtype=proba.dtype)
    seen = np.zeros(k, dtype=np.uint8)
    # One pass over memory, about a millisecond per 2**21 entries on one
    # thread: below 2**22 entries, waking a second thread (a sleeping CPU of
    # a virtual machine, a busy core) can cost more than it saves.
    nt = default_threads(proba.size) if proba.size >= _GATHER_PARALLEL_SIZE else 1
    if proba.ndim == 1:
        bad = _core.gather_binary(proba, codes, clip, picked, seen, nt)
    else:
        bad = _core.gather_proba(proba, codes, clip, tol, picked, seen, nt)
    return picked, bad == 0, bool(seen.all())
