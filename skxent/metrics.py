"""Cross-entropy metrics: a drop-in ``log_loss`` and the correct generalisations.

Every function takes array-likes and returns a Python float, or a 1-D array for
``reduction="none"``.  Shared keywords mean the same everywhere:

- ``sample_weight`` (n,): weighted mean (``"mean"``) or weighted sum (``"sum"``).
- ``base``: None for nats, 2 for bits, any positive number other than 1.
- ``reduction``: ``"mean"`` (default), ``"sum"`` or ``"none"`` (per-sample
  values, times the sample weights when given, so that they add up to ``"sum"``).
- ``from_logits``: the prediction is raw scores; a stable log-softmax /
  log-sigmoid is used, never ``log(softmax(z))``.
- ``label_smoothing`` ε in [0, 1): the target becomes (1 − ε) t + ε / k.
- ``class_weight`` (k,): weights each class's term inside the sum,
  ℓ_i = −Σ_c w_c t_ic log q_ic; reductions never renormalise by it.
- ``eps``: ``"auto"`` clips probabilities to [eps, 1 − eps] with eps the
  dtype's machine epsilon (scikit-learn's behaviour); 0 means no clipping, so
  a zero probability on an observed class gives ``inf``.
"""

import numbers
import warnings

import numpy as np
from scipy import special
from sklearn.utils._param_validation import Hidden, validate_params

from . import _core, _dask
from ._validation import (
    check_class_weight,
    check_consistent_samples,
    check_distribution_rows,
    check_float_array,
    check_label_smoothing,
    check_reduction,
    check_sample_weight,
    clip_value,
    encode_labels,
    input_dtype,
    log_base_factor,
    loosest,
    n_threads_for,
    raise_bad_row,
    sum_tolerance,
)

__all__ = [
    "log_loss",
    "cross_entropy",
    "binary_cross_entropy",
    "focal_cross_entropy",
    "entropy",
    "kl_divergence",
    "perplexity",
]

_EMPTY = np.empty(0, dtype=np.float64)


# ---------------------------------------------------------------------------
# Shared plumbing
# ---------------------------------------------------------------------------


def _reduce(per_sample, sample_weight, reduction, factor):
    """Apply the reduction to per-sample losses in nats; scale to the base."""
    if reduction == "none":
        out = np.asarray(per_sample, dtype=np.float64)
        if sample_weight is not None:
            out = out * sample_weight  # so that "sum" is the sum of "none"
        return out * factor if factor != 1.0 else out
    per_sample = np.ascontiguousarray(per_sample)
    total, wsum = _core.block_sum(
        per_sample,
        _EMPTY if sample_weight is None else sample_weight,
        n_threads_for(per_sample.shape[0]),
    )
    value = total / wsum if reduction == "mean" else total
    return float(value * factor)


def _prepare_multiclass(y_true, y_pred, labels, from_logits):
    """Validate a (y_true, y_pred) pair for the multiclass metrics.

    Returns the 2-D predictions, then either class indices or a target matrix
    (the other is None).  1-D ``y_pred`` is the positive class of a binary
    problem: probabilities p become columns [1 - p, p], logits z become [0, z].
    """
    pred = check_float_array(y_pred, "y_pred")
    if pred.ndim == 1:
        if from_logits:
            pred = np.column_stack([np.zeros_like(pred), pred])
        else:
            # Check the values given first: once stacked, a p above 1 would be
            # reported as the negative 1 - p.
            status = np.empty(pred.shape[0], dtype=np.int8)
            _core.check_rows(pred.reshape(-1, 1), -1.0, status, n_threads_for(pred.size))
            if status.any():
                raise_bad_row(pred, status, "y_pred", -1.0)
            pred = np.column_stack([1 - pred, pred])
    n, k = pred.shape
    if k < 2 and not from_logits:
        raise ValueError(f"y_pred must have at least 2 columns (classes); got shape {pred.shape}")

    yt = np.asarray(y_true)
    if yt.ndim == 2 and yt.shape[1] > 1:
        target = check_float_array(yt, "y_true", ndims=(2,), dtype=pred.dtype)
        check_consistent_samples(target.shape[0], n)
        if target.shape[1] != k:
            raise ValueError(
                f"y_true (a target matrix) has {target.shape[1]} columns but y_pred has {k}"
            )
        check_distribution_rows(
            target, "y_true", what="target probabilities", tol_dtype=input_dtype(yt)
        )
        return pred, None, target
    codes = encode_labels(yt, k, labels)
    check_consistent_samples(codes.shape[0], n)
    return pred, codes, None


def _key_labels(weights, labels, y_true):
    """The labels a dict of class weights is keyed by: ``labels``, or else, for
    labels that are not column indices, their sorted unique values."""
    if labels is not None or not isinstance(weights, dict):
        return labels
    y = np.asarray(y_true)
    return np.unique(y) if y.ndim == 1 and y.dtype.kind not in "biuf" else None


def _check_logits(raw, per_sample):
    """After a logits kernel: a non-finite loss can only come from bad logits."""
    # A -inf logit of a class other than the true one leaves the loss finite:
    # check the logits themselves too.
    if not (np.isfinite(per_sample).all() and np.isfinite(raw).all()):
        bad = ~np.isfinite(raw).all(axis=1)
        i = (
            int(np.flatnonzero(bad)[0])
            if bad.any()
            else int(np.flatnonzero(~np.isfinite(per_sample))[0])
        )
        raise ValueError(f"y_pred (logits) must be finite; row {i} has NaN or inf: {raw[i]}")


def _softmax_per_sample(pred, codes, target, class_weight, smoothing):
    """Per-sample cross entropy from logits, in nats (float64)."""
    n, k = pred.shape
    dtype = pred.dtype
    loss = np.empty(n, dtype=dtype)
    _core.softmax_loss_gradient(
        pred,
        np.empty(0, dtype=np.intp) if codes is None else codes,
        np.empty((0, k), dtype=dtype) if target is None else target,
        _EMPTY,
        _EMPTY if class_weight is None else class_weight,
        smoothing,
        loss,
        np.empty((0, k), dtype=dtype),
        n_threads_for(pred.size),
    )
    _check_logits(pred, loss)
    return loss.astype(np.float64, copy=False)


def _proba_per_sample(pred, codes, target, class_weight, smoothing, clip, given_dtype):
    """Per-sample cross entropy from probabilities, every row checked, in nats."""
    n, k = pred.shape
    tol = sum_tolerance(loosest(pred.dtype, given_dtype))
    loss = np.empty(n, dtype=np.float64)
    status = np.empty(n, dtype=np.int8)
    _core.xent_proba(
        pred,
        np.empty(0, dtype=np.intp) if codes is None else codes,
        np.empty((0, k), dtype=pred.dtype) if target is None else target,
        _EMPTY if class_weight is None else class_weight,
        smoothing,
        clip,
        tol,
        loss,
        status,
        n_threads_for(pred.size),
    )
    if status.any():
        raise_bad_row(pred, status, "y_pred", tol)
    return loss


# ---------------------------------------------------------------------------
# cross_entropy and friends
# ---------------------------------------------------------------------------


@_dask.blockwise
def cross_entropy(
    y_true,
    y_pred,
    *,
    labels=None,
    sample_weight=None,
    class_weight=None,
    from_logits=False,
    label_smoothing=0.0,
    base=None,
    eps="auto",
    reduction="mean",
):
    r"""Cross entropy H(t, q) = −Σ_c t_c log q_c between targets and predictions.

    .. math::
        \ell_i = -\sum_c w_c\, t_{ic} \log q_{ic}, \qquad
        H = \frac{\sum_i s_i \ell_i}{\sum_i s_i}

    with class weights :math:`w` (default 1), sample weights :math:`s`
    (default 1) and the target :math:`t_i` either one-hot for a class label or
    a given distribution, smoothed to :math:`(1 - \varepsilon) t + \varepsilon / k`.
    H(t, q) ≥ H(t), with equality exactly when q = t: it is not zero for
    q = t unless t is one-hot (that is the KL divergence's property).

    Parameters
    ----------
    y_true : array-like of shape (n,) or (n, k)
        Class labels, or a target distribution per row (soft labels, one-hot).
        Integer labels are column indices 0..k-1 unless ``labels`` is given;
        other labels map by their sorted unique values.
    y_pred : array-like of shape (n, k) or (n,)
        Predicted probabilities (rows in [0, 1] summing to one), or raw scores
        with ``from_logits=True``.  1-D: the positive class of a binary problem.
    labels : array-like of shape (k,), default=None
        The class of each column of ``y_pred`` (e.g. a classifier's ``classes_``).
    sample_weight : array-like of shape (n,), default=None
    class_weight : array-like of shape (k,) or dict, default=None
        Weight of each class's term (PyTorch's ``weight``); not renormalised.
    from_logits : bool, default=False
    label_smoothing : float in [0, 1), default=0.0
    base : float, default=None
        Logarithm base: None for nats, 2 for bits.
    eps : "auto" or float, default="auto"
        Probabilities are clipped to [eps, 1 - eps]; "auto" is the dtype's
        machine epsilon, 0 disables clipping.
    reduction : {"mean", "sum", "none"}, default="mean"

    Returns
    -------
    loss : float, or ndarray of shape (n,) for ``reduction="none"``

    Examples
    --------
    The two-event example: P = (0.6, 0.4) against Q = (0.5, 0.5) costs ln 2
    nats, exactly one bit.

    >>> from skxent.metrics import cross_entropy
    >>> round(cross_entropy([[0.6, 0.4]], [[0.5, 0.5]]), 4)
    0.6931
    >>> cross_entropy([[0.6, 0.4]], [[0.5, 0.5]], base=2)
    1.0
    >>> round(cross_entropy([0, 2], [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]), 4)
    0.2899
    """
    smoothing = check_label_smoothing(label_smoothing)
    factor = log_base_factor(base)
    reduction = check_reduction(reduction)
    pred, codes, target = _prepare_multiclass(y_true, y_pred, labels, from_logits)
    n, k = pred.shape
    sw = check_sample_weight(sample_weight, n)
    cw = check_class_weight(class_weight, k, _key_labels(class_weight, labels, y_true))
    if from_logits:
        per_sample = _softmax_per_sample(pred, codes, target, cw, smoothing)
    else:
        given = input_dtype(y_pred)  # float16 keeps its own eps and tolerance
        clip = clip_value(eps, given)
        per_sample = _proba_per_sample(pred, codes, target, cw, smoothing, clip, given)
    return _reduce(per_sample, sw, reduction, factor)


def perplexity(y_true, y_pred, **cross_entropy_kwargs):
    r"""Perplexity: the exponential of the mean cross entropy in nats.

    ``base ** H`` in any base is the same number; a perfect model has
    perplexity 1, a uniform guess over k classes has perplexity k.  Keywords
    are those of :func:`cross_entropy` (``reduction`` must stay ``"mean"``).

    Examples
    --------
    >>> from skxent.metrics import perplexity
    >>> round(perplexity([0, 1, 2], [[1 / 3] * 3] * 3), 6)
    3.0
    """
    kwargs = dict(cross_entropy_kwargs)
    if kwargs.pop("reduction", "mean") != "mean":
        raise ValueError(
            "perplexity is defined on the mean cross entropy: reduction must be 'mean'"
        )
    log_base_factor(kwargs.pop("base", None))  # any valid base gives the same number
    return float(np.exp(cross_entropy(y_true, y_pred, **kwargs)))


@_dask.blockwise
def binary_cross_entropy(
    y_true,
    y_pred,
    *,
    sample_weight=None,
    pos_weight=None,
    from_logits=False,
    label_smoothing=0.0,
    base=None,
    eps="auto",
    reduction="mean",
):
    r"""Binary cross entropy of independent Bernoulli predictions (multilabel).

    .. math::
        \ell_{ij} = -\left(w^+_j\, t_{ij} \log q_{ij} + (1 - t_{ij}) \log(1 - q_{ij})\right)

    averaged over the L labels of each sample, then over samples.  Unlike
    ``sklearn.metrics.log_loss`` on an indicator matrix, the (1 − t) term is
    there.

    Parameters
    ----------
    y_true : array-like of shape (n,) or (n, L)
        Targets in [0, 1] (0/1 indicators or soft targets).
    y_pred : array-like of the shape of ``y_true``
        Probabilities of the positive outcome, or logits with ``from_logits``.
    sample_weight : array-like of shape (n,), default=None
    pos_weight : float or array-like of shape (L,), default=None
        Weight of the positive term of each label (PyTorch's ``pos_weight``).
    from_logits : bool, default=False
    label_smoothing : float in [0, 1), default=0.0
        Targets become (1 − ε) t + ε / 2.
    base : float, default=None
    eps : "auto" or float, default="auto"
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"none"`` gives each sample's mean over its labels.

    Returns
    -------
    loss : float, or ndarray of shape (n,)

    Examples
    --------
    >>> from skxent.metrics import binary_cross_entropy
    >>> round(binary_cross_entropy([[1, 0], [0, 1]], [[0.9, 0.2], [0.3, 0.6]]), 4)
    0.299
    >>> round(binary_cross_entropy([1, 0], [2.0, -1.0], from_logits=True), 4)
    0.2201
    """
    smoothing = check_label_smoothing(label_smoothing)
    factor = log_base_factor(base)
    reduction = check_reduction(reduction)
    pred = check_float_array(y_pred, "y_pred")
    target = check_float_array(y_true, "y_true", dtype=pred.dtype)
    if target.shape != pred.shape:
        raise ValueError(f"y_true has shape {target.shape} but y_pred has shape {pred.shape}")
    n = pred.shape[0]
    pred2 = pred.reshape(n, -1)
    target2 = target.reshape(n, -1)
    n_labels = pred2.shape[1]
    bad = ~np.isfinite(target2) | (target2 < 0) | (target2 > 1)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"y_true must hold targets in [0, 1]; entry ({i}, {j}) is {target2[i, j]!r}"
        )
    sw = check_sample_weight(sample_weight, n)
    if pos_weight is None:
        pw = None
    else:
        try:
            pw = np.broadcast_to(pos_weight, (n_labels,))
        except ValueError:
            raise ValueError(
                f"pos_weight must be a number or have one entry per label ({n_labels}); "
                f"got shape {np.shape(pos_weight)}"
            ) from None
        pw = check_float_array(pw, "pos_weight", ndims=(1,), dtype=np.float64)
        if not np.isfinite(pw).all() or (pw < 0).any():
            raise ValueError(f"pos_weight must be finite and non-negative; got {pw}")

    if from_logits:
        elem = np.empty_like(pred2)
        empty = np.empty((0, n_labels), dtype=pred2.dtype)
        _core.sigmoid_loss_gradient(
            pred2,
            target2,
            _EMPTY,
            _EMPTY if pw is None else pw,
            _EMPTY,
            smoothing,
            elem,
            empty,
            empty,
            n_threads_for(pred2.size),
        )
        bad = ~(np.isfinite(pred2) & np.isfinite(elem))  # +inf with t = 1 costs 0
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(f"y_pred (logits) must be finite; entry ({i}, {j}) is {pred2[i, j]!r}")
        elem = elem.astype(np.float64, copy=False)
    else:
        bad = ~np.isfinite(pred2) | (pred2 < 0) | (pred2 > 1)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(
                f"y_pred must hold probabilities in [0, 1]; entry ({i}, {j}) is {pred2[i, j]!r}"
            )
        clip = clip_value(eps, input_dtype(y_pred))
        q = np.clip(pred2, clip, 1 - clip).astype(np.float64)
        t = (1.0 - smoothing) * target2.astype(np.float64) + 0.5 * smoothing
        # xlogy: a zero target costs nothing even where q is 0 or 1; log1p(-q)
        # keeps log(1 - q) accurate for small q.
        with np.errstate(divide="ignore", invalid="ignore"):  # eps=0: q of 0 or 1
            pos = special.xlogy(t, q)
            neg = np.where(t == 1.0, 0.0, (1.0 - t) * np.log1p(-q))
            if pw is not None:  # a weight of 0 makes the term 0, even against log(0)
                pos = np.where(pw == 0.0, 0.0, pw * pos)
        elem = -pos - neg
    per_sample = elem.mean(axis=1)
    return _reduce(per_sample, sw, reduction, factor)


@_dask.blockwise
def focal_cross_entropy(
    y_true,
    y_pred,
    *,
    gamma=2.0,
    alpha=None,
    labels=None,
    sample_weight=None,
    from_logits=False,
    label_smoothing=0.0,
    base=None,
    eps="auto",
    reduction="mean",
):
    r"""Focal loss (Lin et al., 2017): cross entropy with easy examples down-weighted.

    .. math::
        \ell_i = -\sum_c \alpha_c\, t_{ic} (1 - q_{ic})^\gamma \log q_{ic}

    ``gamma=0`` without ``alpha`` is :func:`cross_entropy`.  For a binary
    problem (1-D ``y_pred``, or two columns) a scalar ``alpha`` weights the
    positive class and ``1 - alpha`` the negative one, as in the paper;
    otherwise ``alpha`` is one weight per class.

    Parameters
    ----------
    y_true, y_pred, labels, sample_weight, from_logits, label_smoothing, base, eps, reduction
        As in :func:`cross_entropy`.
    gamma : float >= 0, default=2.0
        Focusing parameter.
    alpha : float in [0, 1] or array-like of shape (k,), default=None

    Returns
    -------
    loss : float, or ndarray of shape (n,)

    References
    ----------
    T.-Y. Lin, P. Goyal, R. Girshick, K. He, P. Dollár, "Focal loss for dense
    object detection", ICCV 2017.

    Examples
    --------
    >>> from skxent.metrics import focal_cross_entropy
    >>> round(focal_cross_entropy([0, 1], [[0.9, 0.1], [0.4, 0.6]]), 5)
    0.04139
    >>> round(focal_cross_entropy([0, 1], [[0.9, 0.1], [0.4, 0.6]], gamma=0), 5)
    0.30809
    """
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real):
        raise TypeError(f"gamma must be a non-negative number; got {gamma!r}")
    if not (np.isfinite(gamma) and gamma >= 0):
        raise ValueError(f"gamma must be a non-negative number; got {gamma!r}")
    smoothing = check_label_smoothing(label_smoothing)
    factor = log_base_factor(base)
    reduction = check_reduction(reduction)
    pred, codes, target = _prepare_multiclass(y_true, y_pred, labels, from_logits)
    n, k = pred.shape
    sw = check_sample_weight(sample_weight, n)
    if alpha is None:
        aw = None
    elif np.ndim(alpha) == 0:
        if k != 2:
            raise ValueError(
                f"a scalar alpha is for binary problems; y_pred has {k} classes, "
                "pass one weight per class"
            )
        try:
            a = float(alpha)
        except (TypeError, ValueError):
            raise TypeError(
                f"alpha must be a number in [0, 1] or one weight per class; got {alpha!r}"
            ) from None
        if not 0.0 <= a <= 1.0:
            raise ValueError(f"alpha must be in [0, 1]; got {alpha!r}")
        aw = np.array([1.0 - a, a])
    else:
        aw = check_class_weight(alpha, k, _key_labels(alpha, labels, y_true), name="alpha")

    x = pred.astype(np.float64)
    if from_logits:
        if not np.isfinite(x).all():
            i = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
            raise ValueError(f"y_pred (logits) must be finite; row {i} has NaN or inf: {x[i]}")
        logq = special.log_softmax(x, axis=1)
        one_minus_q = -np.expm1(logq)
    else:
        given = input_dtype(y_pred)
        tol = sum_tolerance(loosest(pred.dtype, given))
        status = np.empty(n, dtype=np.int8)
        _core.check_rows(pred, tol, status, n_threads_for(pred.size))
        if status.any():
            raise_bad_row(pred, status, "y_pred", tol)
        clip = clip_value(eps, given)
        q = np.clip(x, clip, 1 - clip)
        with np.errstate(divide="ignore"):
            logq = np.log(q)
        one_minus_q = 1.0 - q
    if target is None:
        t = np.zeros((n, k))
        t[np.arange(n), codes] = 1.0
    else:
        t = target.astype(np.float64)
    t = (1.0 - smoothing) * t + smoothing / k
    weight = t * one_minus_q**gamma
    if aw is not None:
        weight = weight * aw
    with np.errstate(invalid="ignore"):  # eps=0: 0 * log(0) where the weight is 0
        elem = np.where(weight == 0.0, 0.0, -weight * logq)
    return _reduce(elem.sum(axis=1), sw, reduction, factor)


def _distributions(x, name, axis):
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an integer; got {axis!r}")
    arr = check_float_array(x, name, dtype=np.float64)
    if arr.ndim == 2:
        arr = np.ascontiguousarray(np.moveaxis(arr, axis, -1))
    else:
        if axis not in (0, -1):
            raise ValueError(f"axis must be 0 or -1 for a 1-D {name}; got {axis}")
        arr = arr.reshape(1, -1)
    return arr


def entropy(p, *, base=None, axis=-1):
    r"""Shannon entropy H(P) = −Σ p log p of each distribution.

    The convention 0 log 0 = 0 applies.  H(P) is the least cross entropy any
    Q can reach against P: H(P, Q) = H(P) + D(P‖Q).

    Parameters
    ----------
    p : array-like of shape (k,) or (n, k)
        One distribution, or one per row (along ``axis``).
    base : float, default=None
    axis : int, default=-1
        The axis along which each distribution lies.

    Returns
    -------
    h : float for 1-D ``p``, else ndarray of shape (n,)

    Examples
    --------
    >>> from skxent.metrics import entropy
    >>> round(entropy([0.6, 0.4]), 4)
    0.673
    >>> entropy([0.5, 0.5], base=2)
    1.0
    """
    if _dask.any_dask(p) and np.ndim(p) == 2:
        return _dask.rowwise(entropy, p if axis in (-1, 1) else p.T, base=base)
    factor = log_base_factor(base)
    one = np.ndim(p) == 1
    arr = _distributions(p, "p", axis)
    check_distribution_rows(arr, "p", tol_dtype=input_dtype(p))
    h = special.entr(arr).sum(axis=1) * factor
    return float(h[0]) if one else h


def kl_divergence(p, q, *, base=None, axis=-1, eps=0):
    r"""Kullback–Leibler divergence D(P‖Q) = Σ p log(p / q) of each pair of rows.

    Computed term by term as p · log1p((p − q) / q), which is exact where
    p = q and accurate where p ≈ q, rather than as the difference
    H(P, Q) − H(P) of two nearly equal numbers; the sum is floored at 0,
    Gibbs' inequality, so rounding never makes it negative.  D(P‖Q) = 0
    exactly when P = Q.

    Parameters
    ----------
    p, q : array-like of shape (k,) or (n, k)
        Distributions (rows summing to one).
    base : float, default=None
    axis : int, default=-1
    eps : float, default=0
        Clip q to at least ``eps``; with 0, a q of zero where p > 0 gives ``inf``.

    Returns
    -------
    d : float for 1-D input, else ndarray of shape (n,)

    Examples
    --------
    >>> from skxent.metrics import kl_divergence
    >>> round(kl_divergence([0.6, 0.4], [0.5, 0.5]), 4)
    0.0201
    >>> kl_divergence([0.6, 0.4], [0.6, 0.4])
    0.0
    """
    if _dask.any_dask(p, q) and np.ndim(p) == 2:
        if axis in (0, -2):
            p, q = p.T, q.T
        return _dask.rowwise(kl_divergence, p, q, base=base, eps=eps)
    factor = log_base_factor(base)
    one = np.ndim(p) == 1 and np.ndim(q) == 1
    P = _distributions(p, "p", axis)
    Q = _distributions(q, "q", axis)
    if P.shape != Q.shape:
        raise ValueError(f"p and q must have the same shape; got {P.shape} and {Q.shape}")
    check_distribution_rows(P, "p", tol_dtype=input_dtype(p))
    check_distribution_rows(Q, "q", tol_dtype=input_dtype(q))
    clip = clip_value(eps, np.float64)
    Qc = np.maximum(Q, clip) if clip > 0 else Q
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # log1p((p - q) / q) only where p / q is in [0.5, 1.5]: elsewhere
        # (p - q) / q rounds to -1 for p / q < 2**-53 (log1p gives -inf, and
        # the floored sum a silent 0) or overflows for a subnormal q, while
        # log p - log q is accurate there (|log(p / q)| >= log 1.5).
        near = np.abs(P - Qc) <= 0.5 * Qc
        log_ratio = np.where(near, np.log1p((P - Qc) / Qc), np.log(P) - np.log(Qc))
        terms = np.where(P > 0, P * log_ratio, 0.0)
    d = np.maximum(terms.sum(axis=1), 0.0) * factor
    return float(d[0]) if one else d


# ---------------------------------------------------------------------------
# log_loss: the drop-in for sklearn.metrics.log_loss
# ---------------------------------------------------------------------------


def _encode_fast(y, labels):
    """Sorted classes and class indices of 1-D integer or string labels.

    Integers in a compact range are encoded in O(n) with a count table;
    anything else sorts.  Returns None where the general path must decide
    (a label outside ``labels``).
    """
    if labels is not None:
        classes = np.asarray(labels)
        if classes.ndim != 1 or classes.dtype.kind != y.dtype.kind:
            return None
        if classes.shape[0] > 1 and not (classes[1:] > classes[:-1]).all():
            return None  # unsorted or repeated: scikit-learn warns; general path
        pos = np.searchsorted(classes, y)
        if pos.max() >= classes.shape[0] or (classes[pos] != y).any():
            return None
        return classes, pos
    if y.dtype.kind in "iu":
        lo, hi = int(y.min()), int(y.max())
        span = hi - lo + 1
        if span <= 4 * y.shape[0] + 1024:
            # Offsets from the minimum, computed in int64 (y - lo in y's own
            # dtype can overflow, e.g. int8 [-100, 100]); uint64 labels beyond
            # int64's range sort instead.  No copy for int64 labels from 0.
            if hi <= np.iinfo(np.int64).max:
                wide = y.astype(np.int64, copy=False)
                shifted = (wide - lo) if lo != 0 else wide
                shifted = shifted.astype(np.intp, copy=False)
                present = np.bincount(shifted, minlength=span) > 0
                classes = (np.flatnonzero(present) + lo).astype(y.dtype)
                if classes.shape[0] == span:
                    return classes, shifted
                lut = np.cumsum(present) - 1
                return classes, lut[shifted]
    classes, codes = np.unique(y, return_inverse=True)
    return classes, codes.reshape(-1)


def _log_loss_fast(y_true, y_proba, normalize, sample_weight, labels):
    """The one-pass path for clean ndarray input; None hands over to the general path.

    It returns a value only where scikit-learn would raise nothing: anything
    that might be an error goes to the general path, which reproduces
    scikit-learn's checks in scikit-learn's order.
    """
    if not (isinstance(y_true, np.ndarray) and isinstance(y_proba, np.ndarray)):
        return None
    if y_proba.dtype not in (np.float32, np.float64) or y_proba.ndim not in (1, 2):
        return None
    n = y_proba.shape[0]
    # Not "S": scikit-learn rejects labels represented as bytes (a TypeError).
    if n == 0 or y_true.ndim != 1 or y_true.shape[0] != n or y_true.dtype.kind not in "iuU":
        return None
    if y_proba.ndim == 2 and y_proba.shape[1] < 2:
        return None
    if sample_weight is not None:
        if not isinstance(sample_weight, np.ndarray) or sample_weight.shape != (n,):
            return None
        if sample_weight.dtype.kind not in "iuf" or not np.isfinite(sample_weight).all():
            return None
        if not sample_weight.any():
            return None  # all zero: scikit-learn's error, raised by the general path
    encoded = _encode_fast(y_true, labels)
    if encoded is None:
        return None
    classes, codes = encoded
    k = 2 if y_proba.ndim == 1 else y_proba.shape[1]
    if classes.shape[0] < 2 or (labels is not None and classes.shape[0] != k):
        return None
    if labels is None and classes.shape[0] != k:
        return None

    proba = np.ascontiguousarray(y_proba)
    codes = np.ascontiguousarray(codes, dtype=np.intp)
    dtype = proba.dtype
    eps = float(np.finfo(dtype).eps)
    picked = np.empty(n, dtype=dtype)
    status = np.empty(n, dtype=np.int8)
    nt = n_threads_for(proba.size)
    if proba.ndim == 1:
        _core.gather_binary(proba, codes, eps, picked, status, nt)
    else:
        # scikit-learn's test is isclose(row sum, 1, rtol=sqrt(eps), atol=1e-8)
        # on row sums in the input's dtype.  The kernel sums in double, so it
        # flags (status 4) every row within a rounding margin of failing, and
        # scikit-learn's own computation settles whether to warn.
        tol = 1e-8 + np.sqrt(eps)
        margin = 1e-6 * tol + (proba.shape[1] + 4) * eps
        _core.gather_proba(proba, codes, eps, max(tol - margin, 0.0), picked, status, nt)
    if status.any():
        return None  # an error, or a warning: scikit-learn's to give
    # The same log and the same reduction as scikit-learn, on the n picked
    # entries only: -sum_c t_c log(q_c) has a single non-zero term per row.
    loss = np.log(picked, out=picked)
    np.negative(loss, out=loss)
    return _average(loss, sample_weight, normalize)


def _average(loss, sample_weight, normalize):
    if normalize:
        return float(np.average(loss, weights=sample_weight))
    if sample_weight is not None:
        return float(np.dot(loss, sample_weight))
    return float(np.sum(loss))


def _log_loss_general(y_true, y_proba, normalize, sample_weight, labels):
    """Everything the fast path hands over: scikit-learn's own ``log_loss``.

    It is the drop-in's reference, so its checks, errors and warnings are by
    definition the right ones, for whichever version is installed; it only
    sees input that is unusual (lists, frames, float16, unsorted ``labels``,
    indicator matrices), invalid, or that it warns about.
    """
    from sklearn.metrics import log_loss as sk_log_loss

    return float(
        sk_log_loss(
            y_true, y_proba, normalize=normalize, sample_weight=sample_weight, labels=labels
        )
    )


@validate_params(
    {
        "y_true": ["array-like"],
        "y_proba": ["array-like", Hidden(None)],
        "normalize": ["boolean"],
        "sample_weight": ["array-like", None],
        "labels": ["array-like", None],
        "y_pred": ["array-like", str],
    },
    prefer_skip_nested_validation=True,
)
def log_loss(
    y_true,
    y_proba=None,
    *,
    normalize=True,
    sample_weight=None,
    labels=None,
    y_pred="deprecated",
):
    r"""Log loss: a drop-in for :func:`sklearn.metrics.log_loss`, only faster.

    Same signature, inputs, errors, warnings and values as the installed
    scikit-learn's (1.9): the mean (or sum) over samples of
    :math:`-\log \mathrm{clip}(q_{i, y_i})`, probabilities clipped to
    [eps, 1 − eps] with eps the dtype's machine epsilon.  For numpy input it
    makes one pass over ``y_proba`` that checks every row and gathers the
    entry of the true class, and encodes integer labels in O(n).

    For soft targets, logits, weights per class, bits or no clipping, use
    :func:`cross_entropy`.

    Parameters
    ----------
    y_true : array-like or label indicator matrix
        Ground truth labels for n samples.
    y_proba : array-like of shape (n, k) or (n,)
        Predicted probabilities, columns in the sorted order of the labels
        (as ``LabelBinarizer``); 1-D is the probability of the positive class.
    normalize : bool, default=True
        Mean per sample if True, else the sum.
    sample_weight : array-like of shape (n,), default=None
    labels : array-like, default=None
        All the labels, when ``y_true`` does not show every class.
    y_pred : array-like
        Deprecated alias of ``y_proba`` (scikit-learn 1.9), removed in 1.11.

    Returns
    -------
    loss : float

    Examples
    --------
    >>> from skxent.metrics import log_loss
    >>> round(log_loss(["spam", "ham", "ham", "spam"],
    ...                [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]), 5)
    0.21616
    """
    if not (isinstance(y_pred, str) and y_pred == "deprecated"):
        if y_proba is not None:
            raise ValueError(
                "Cannot use both `y_pred` and `y_proba`. `y_pred` is deprecated, "
                "use `y_proba` instead."
            )
        warnings.warn(
            "`y_pred` was renamed to `y_proba` in version 1.9 and will be removed "
            "in 1.11. Use `y_proba` instead.",
            FutureWarning,
            stacklevel=2,
        )
        y_proba = y_pred
    if _dask.any_dask(y_true, y_proba, sample_weight):
        return _dask.reduce_log_loss(
            log_loss,
            y_true,
            y_proba,
            normalize=normalize,
            sample_weight=sample_weight,
            labels=labels,
        )
    value = _log_loss_fast(y_true, y_proba, normalize, sample_weight, labels)
    if value is None:
        value = _log_loss_general(y_true, y_proba, normalize, sample_weight, labels)
    return value
