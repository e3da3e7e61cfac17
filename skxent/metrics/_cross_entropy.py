"""The cross-entropy family: cross_entropy, binary_cross_entropy, focal, perplexity."""

import numbers

import numpy as np
from scipy import special

from .. import _dask
from .. import loss as _kernels
from .._validation import (
    check_class_weight,
    check_consistent_samples,
    check_distribution_rows,
    check_float_array,
    check_label_smoothing,
    check_real,
    check_reduction,
    check_sample_weight,
    check_unit_interval,
    clip_value,
    encode_labels,
    input_dtype,
    input_error,
    log_base_factor,
    loosest,
    raise_bad_row,
    sum_tolerance,
)
from ._reductions import reduce

__all__ = ["cross_entropy", "binary_cross_entropy", "focal_cross_entropy", "perplexity"]


class _Multiclass:
    """A validated (y_true, y_pred) pair of a multiclass metric.

    ``pred`` is (n, k); 1-D positive-class probabilities p become columns
    [1 - p, p] (and ``p1`` keeps p, whose logs are taken as log p and
    log1p(-p): 1 - p would lose the digits of a tiny p), logits z become
    [0, z].  Exactly one of ``codes`` (class indices) and ``target`` (a target
    matrix of pred's dtype) is set.
    """

    def __init__(self, y_true, y_pred, labels, from_logits):
        pred = check_float_array(y_pred, "y_pred")
        self.p1 = None
        if pred.ndim == 1:
            if from_logits:
                pred = np.column_stack([np.zeros_like(pred), pred])
            else:
                # Check the values given first: once stacked, a p above 1
                # would be reported as the negative 1 - p.
                check_distribution_rows(pred.reshape(-1, 1), "y_pred", tol_dtype=False)
                self.p1 = pred
                pred = np.column_stack([1 - pred, pred])
        n, k = pred.shape
        if k < 2 and not from_logits:
            raise input_error(
                f"y_pred must have at least 2 columns (classes); got shape {pred.shape}",
                argument="y_pred",
            )
        self.pred = pred
        self.codes = self.target = None
        yt = np.asarray(y_true)
        if yt.ndim == 2 and yt.shape[1] > 1:
            target = check_float_array(yt, "y_true", ndims=(2,), dtype=pred.dtype)
            check_consistent_samples(target.shape[0], n)
            if target.shape[1] != k:
                raise input_error(
                    f"y_true (a target matrix) has {target.shape[1]} columns but y_pred has {k}",
                    argument="y_true",
                    detail=f"has {target.shape[1]} columns but y_pred has {k}: a target "
                    "matrix needs one column per column of y_pred",
                )
            check_distribution_rows(
                target, "y_true", what="target probabilities", tol_dtype=input_dtype(yt)
            )
            self.target = target
        else:
            self.codes = encode_labels(yt, classes=labels, n_classes=k).codes
            check_consistent_samples(self.codes.shape[0], n)

    def target_matrix(self, smoothing):
        """Smoothed targets as a float64 (n, k) matrix."""
        n, k = self.pred.shape
        if self.target is None:
            t = np.zeros((n, k))
            t[np.arange(n), self.codes] = 1.0
        else:
            t = self.target.astype(np.float64)
        return (1.0 - smoothing) * t + smoothing / k if smoothing else t


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
    if np.isfinite(per_sample).all() and np.isfinite(raw).all():
        return
    bad = ~np.isfinite(raw).all(axis=1)
    i = (
        int(np.flatnonzero(bad)[0])
        if bad.any()
        else int(np.flatnonzero(~np.isfinite(per_sample))[0])
    )
    raise input_error(
        f"y_pred (logits) must be finite; row {i} has NaN or inf: {raw[i]}",
        argument="y_pred",
        row=i,
        detail=f"logits must be finite; NaN or inf in {raw[i]}",
    )


def _logits_per_sample(mc, class_weight, smoothing):
    """Per-sample cross entropy from logits, in nats (float64)."""
    pred = mc.pred
    n, k = pred.shape
    loss = _kernels.CrossEntropyLoss(
        "softmax", k, label_smoothing=smoothing, class_weight=class_weight
    )
    target = mc.codes if mc.target is None else mc.target
    per_sample = loss.loss(target, pred, n_threads=_kernels.default_threads(pred.size))
    _check_logits(pred, per_sample)
    return per_sample.astype(np.float64, copy=False)


def _binary_logs(p1, clip):
    """(log q0, log q1) of positive-class probabilities p, clipped to [clip, 1 - clip].

    Clipping is done in p's dtype (as for any probabilities); the logs in
    float64, log(1 - p) as log1p(-p), exact for a tiny p.
    """
    dtype = p1.dtype.type
    pc = np.clip(p1, dtype(clip), dtype(1) - dtype(clip)).astype(np.float64)
    with np.errstate(divide="ignore"):  # eps=0: log(0) = -inf, honestly
        return np.column_stack([np.log1p(-pc), np.log(pc)])


def _proba_per_sample(mc, class_weight, smoothing, clip, given_dtype):
    """Per-sample cross entropy from probabilities, every row checked, in nats."""
    if mc.p1 is not None:
        logq = _binary_logs(mc.p1, clip)
        weight = mc.target_matrix(smoothing)
        if class_weight is not None:
            weight = weight * class_weight
        with np.errstate(invalid="ignore"):  # 0 * -inf: a term of no weight is 0
            return -np.where(weight == 0.0, 0.0, weight * logq).sum(axis=1)
    pred = mc.pred
    tol = sum_tolerance(loosest(pred.dtype, given_dtype))
    loss, status = _kernels._proba_cross_entropy(
        pred, mc.codes, mc.target, class_weight, smoothing, clip, tol
    )
    if status.any():
        raise_bad_row(pred, status, "y_pred", tol)
    return loss


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
        with ``from_logits=True``.  1-D: the positive class of a binary problem
        (its complement's log is taken as ``log1p(-p)``, exact for tiny p).
    labels : array-like of shape (k,), default=None
        The class of each column of ``y_pred`` (e.g. a classifier's ``classes_``).
    sample_weight : array-like of shape (n,), default=None
        Any uniform rescaling of the weights leaves the mean unchanged (it is
        computed with the weights divided by their largest).
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
    mc = _Multiclass(y_true, y_pred, labels, from_logits)
    n, k = mc.pred.shape
    sw = check_sample_weight(sample_weight, n)
    cw = check_class_weight(class_weight, k, _key_labels(class_weight, labels, y_true))
    if from_logits:
        per_sample = _logits_per_sample(mc, cw, smoothing)
    else:
        given = input_dtype(y_pred)  # float16 keeps its own eps and tolerance
        clip = clip_value(eps, given)
        per_sample = _proba_per_sample(mc, cw, smoothing, clip, given)
    return reduce(per_sample, sw, reduction, factor)


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
        raise input_error(
            "perplexity is defined on the mean cross entropy: reduction must be 'mean'",
            argument="reduction",
        )
    log_base_factor(kwargs.pop("base", None))  # any valid base gives the same number
    return float(np.exp(cross_entropy(y_true, y_pred, **kwargs)))


def _pos_weight(pos_weight, n_labels):
    if pos_weight is None:
        return None
    try:
        pw = np.broadcast_to(pos_weight, (n_labels,))
    except ValueError:
        raise input_error(
            f"pos_weight must be a number or have one entry per label ({n_labels}); "
            f"got shape {np.shape(pos_weight)}",
            argument="pos_weight",
        ) from None
    pw = check_float_array(pw, "pos_weight", ndims=(1,), dtype=np.float64)
    if not np.isfinite(pw).all() or (pw < 0).any():
        raise input_error(
            f"pos_weight must be finite and non-negative; got {pw}", argument="pos_weight"
        )
    return pw


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
        raise input_error(
            f"y_true has shape {target.shape} but y_pred has shape {pred.shape}",
            argument="y_true",
        )
    n = pred.shape[0]
    pred2 = pred.reshape(n, -1)
    target2 = target.reshape(n, -1)
    n_labels = pred2.shape[1]
    check_unit_interval(target2, "y_true", what="targets")
    sw = check_sample_weight(sample_weight, n)
    pw = _pos_weight(pos_weight, n_labels)

    if from_logits:
        loss = _kernels.CrossEntropyLoss(
            "sigmoid", n_labels, label_smoothing=smoothing, pos_weight=pw
        )
        elem = loss.elementwise_loss(target2, pred2, n_threads=_kernels.default_threads(pred2.size))
        bad = ~(np.isfinite(pred2) & np.isfinite(elem))  # +inf with t = 1 costs 0
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise input_error(
                f"y_pred (logits) must be finite; entry ({i}, {j}) is {pred2[i, j]!r}",
                argument="y_pred",
                row=int(i),
                detail=f"logits must be finite; got {pred2[i, j]!r}",
            )
        elem = elem.astype(np.float64, copy=False)
    else:
        check_unit_interval(pred2, "y_pred")
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
    return reduce(per_sample, sw, reduction, factor)


def _focal_alpha(alpha, k, labels, y_true):
    if alpha is None:
        return None
    if np.ndim(alpha) == 0:
        if k != 2:
            raise input_error(
                f"a scalar alpha is for binary problems; y_pred has {k} classes, "
                "pass one weight per class",
                argument="alpha",
            )
        a = check_real(alpha, "alpha", low=0.0, high=1.0)
        return np.array([1.0 - a, a])
    return check_class_weight(alpha, k, _key_labels(alpha, labels, y_true), name="alpha")


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
        raise input_error(f"gamma must be a non-negative number; got {gamma!r}", argument="gamma")
    smoothing = check_label_smoothing(label_smoothing)
    factor = log_base_factor(base)
    reduction = check_reduction(reduction)
    mc = _Multiclass(y_true, y_pred, labels, from_logits)
    n, k = mc.pred.shape
    sw = check_sample_weight(sample_weight, n)
    aw = _focal_alpha(alpha, k, labels, y_true)

    x = mc.pred.astype(np.float64)
    if from_logits:
        if not np.isfinite(x).all():
            i = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
            raise input_error(
                f"y_pred (logits) must be finite; row {i} has NaN or inf: {x[i]}",
                argument="y_pred",
                row=i,
                detail=f"logits must be finite; NaN or inf in {x[i]}",
            )
        logq = special.log_softmax(x, axis=1)
        one_minus_q = -np.expm1(logq)
    elif mc.p1 is not None:
        clip = clip_value(eps, input_dtype(y_pred))
        logq = _binary_logs(mc.p1, clip)
        one_minus_q = np.exp(logq[:, ::-1])
    else:
        given = input_dtype(y_pred)
        check_distribution_rows(mc.pred, "y_pred", tol_dtype=given)
        clip = clip_value(eps, given)
        q = np.clip(x, clip, 1 - clip)
        with np.errstate(divide="ignore"):
            logq = np.log(q)
        one_minus_q = 1.0 - q
    weight = mc.target_matrix(smoothing) * one_minus_q**gamma
    if aw is not None:
        weight = weight * aw
    with np.errstate(invalid="ignore"):  # eps=0: 0 * log(0) where the weight is 0
        elem = np.where(weight == 0.0, 0.0, -weight * logq)
    return reduce(elem.sum(axis=1), sw, reduction, factor)
