"""``score_predictions``: every metric that applies to a table of predictions."""

import numpy as np
from scipy import special

from .._validation import (
    check_distribution_rows,
    check_float_array,
    check_sample_weight,
    encode_labels,
    input_error,
    sum_tolerance,
)
from ._cross_entropy import binary_cross_entropy, cross_entropy, focal_cross_entropy, perplexity
from ._information import entropy, kl_divergence
from ._log_loss import log_loss

__all__ = ["score_predictions"]

_ORDER = (
    "cross_entropy",
    "log_loss",
    "binary_cross_entropy",
    "focal_cross_entropy",
    "perplexity",
    "entropy_of_y_true",
    "kl_divergence",
)


def _units(base):
    if base is None:
        return "nats"
    if base == 2:
        return "bits"
    if base == 10:
        return "hartleys"
    return f"log-base-{base:g} units"


def _rows_sum_to_one(values):
    return np.abs(values.sum(axis=1) - 1.0) <= sum_tolerance(np.float64)


def _positive(pred, logits):
    """The positive class's probability (or logit) of a binary y_pred."""
    if pred.ndim == 1:
        return pred
    if logits:
        return pred[:, 1] - pred[:, 0]
    return pred[:, 1]


def _two_columns(pred, logits):
    if pred.ndim == 2:
        return pred
    if logits:
        return np.column_stack([np.zeros_like(pred), pred])
    return np.column_stack([1.0 - pred, pred])


def _soft_target_scores(scores, target, pred, base, logits, sw):
    """Entropy of the targets and KL divergence, weighted means over samples."""
    q = special.softmax(pred, axis=1) if logits else pred
    scores["entropy_of_y_true"] = float(np.average(entropy(target, base=base), weights=sw))
    scores["kl_divergence"] = float(np.average(kl_divergence(target, q, base=base), weights=sw))


def score_predictions(
    y_true,
    y_pred,
    *,
    labels=None,
    sample_weight=None,
    base=None,
    from_logits=False,
    multilabel=False,
    renormalize=False,
):
    """Every cross-entropy metric that applies to a table of predictions.

    Infers the problem from the shapes and values (what ``python -m skxent
    score`` prints): 1-D labels against class probabilities (multiclass or
    binary), soft binary targets against a 1-D ``y_pred``, a target matrix
    (soft multiclass targets, or multilabel targets when rows do not sum to
    one or ``multilabel=True``).

    Parameters
    ----------
    y_true : array-like of shape (n,) or (n, k)
        Labels (integers are column indices of ``y_pred`` unless ``labels``
        maps them), or a target matrix.
    y_pred : array-like of shape (n, k) or (n,)
        Probabilities (1-D: the positive class of a binary problem), or raw
        scores with ``from_logits=True``.
    labels : array-like of shape (k,), default=None
        The label of each column of ``y_pred``.
    sample_weight : array-like of shape (n,), default=None
    base : float, default=None
        Logarithm base of every metric but ``log_loss`` (scikit-learn's, in nats).
    from_logits : bool, default=False
    multilabel : bool, default=False
        ``y_true`` and ``y_pred`` are (n, L) independent labels.
    renormalize : bool, default=False
        Divide each row of probabilities by its sum first (for probabilities
        saved with few digits).

    Returns
    -------
    report : dict
        ``problem`` (a description), ``n_samples``, ``n_classes`` or
        ``n_labels``, ``metrics`` (name: value, in a fixed order) and
        ``units`` (name: unit).

    Raises
    ------
    ValueError
        Naming the argument and, where one row is at fault, its index; the
        exception's attributes ``argument``, ``row`` and ``detail`` say the
        same for programs (the command line maps them to files and lines).

    Examples
    --------
    >>> from skxent.metrics import score_predictions
    >>> report = score_predictions([0, 1], [[0.8, 0.2], [0.4, 0.6]], base=2)
    >>> report["problem"], round(report["metrics"]["cross_entropy"], 4)
    ('binary', 0.5294)
    """
    pred = check_float_array(y_pred, "y_pred", dtype=np.float64)
    n = pred.shape[0]
    yt = np.asarray(y_true)
    if yt.ndim == 2 and yt.shape[1] == 1:
        yt = yt.ravel()
    if yt.shape[0] != n:
        raise input_error(
            f"y_true has {yt.shape[0]} samples but y_pred has {n}",
            argument="y_true" if yt.shape[0] > n else "y_pred",
            row=min(yt.shape[0], n),
            detail="no matching row (one row per sample in each)",
        )
    sw_record = check_sample_weight(sample_weight, n)
    sw = None if sw_record is None else sw_record.values
    logits = bool(from_logits)
    if not logits:
        check_distribution_rows(pred.reshape(n, -1), "y_pred", tol_dtype=False)
    if renormalize and not logits and pred.ndim == 2 and not multilabel:
        sums = pred.sum(axis=1, keepdims=True)
        if (sums <= 0).any():
            i = int(np.flatnonzero(sums.ravel() <= 0)[0])
            raise input_error(
                f"y_pred row {i} sums to 0: it cannot be renormalised",
                argument="y_pred",
                row=i,
                detail="cannot renormalise a row of zeros",
            )
        pred = pred / sums
    common = {"sample_weight": sw, "from_logits": logits}
    info = {"n_samples": n}
    scores = {}

    def fill_multiclass(target, p):
        scores["cross_entropy"] = cross_entropy(target, p, base=base, **common)
        scores["focal_cross_entropy"] = focal_cross_entropy(
            target, p, gamma=2.0, base=base, **common
        )
        scores["perplexity"] = perplexity(target, p, **common)

    if yt.ndim == 2:
        target = check_float_array(yt, "y_true", ndims=(2,), dtype=np.float64)
        if pred.ndim != 2 or target.shape[1] != pred.shape[1]:
            k_pred = 1 if pred.ndim == 1 else pred.shape[1]
            raise input_error(
                f"y_true has {target.shape[1]} columns but y_pred has {k_pred}",
                argument="y_true",
                detail=f"has {target.shape[1]} columns but y_pred has {k_pred}: a target "
                "matrix needs one column per column of y_pred",
            )
        check_distribution_rows(target, "y_true", what="targets", tol_dtype=False)
        is_multilabel = multilabel or not _rows_sum_to_one(target).all()
        if not is_multilabel and not logits and not _rows_sum_to_one(pred).all():
            is_multilabel = True  # independent probabilities per column
        k = pred.shape[1]
        if is_multilabel:
            info.update(problem="multilabel", n_labels=k)
            scores["binary_cross_entropy"] = binary_cross_entropy(target, pred, base=base, **common)
        else:
            info.update(problem="multiclass, soft targets", n_classes=k)
            fill_multiclass(target, pred)
            _soft_target_scores(scores, target, pred, base, logits, sw)
            if k == 2:
                scores["binary_cross_entropy"] = binary_cross_entropy(
                    target[:, 1], _positive(pred, logits), base=base, **common
                )
        return _report(info, scores, base)

    if multilabel:
        raise input_error(
            "multilabel=True needs a target matrix y_true (one column per label)",
            argument="y_true",
            detail="multilabel=True needs a target matrix (one column per label)",
        )
    binary_1d = pred.ndim == 1
    k = 2 if binary_1d else pred.shape[1]
    if not logits and not binary_1d:
        hint = "" if renormalize else " (renormalize=True divides each row by its sum)"
        try:
            check_distribution_rows(pred, "y_pred")
        except ValueError as exc:
            raise input_error(
                f"{exc}{hint}",
                argument="y_pred",
                row=getattr(exc, "row", None),
                detail=f"{getattr(exc, 'detail', exc)}{hint}",
            ) from None
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.shape[0] != k:
            what = "classes (a 1-D y_pred is binary)" if binary_1d else "columns"
            raise input_error(
                f"labels lists {labels.size} labels but y_pred has {k} {what}",
                argument="labels",
            )
    info.update(problem="binary" if k == 2 else "multiclass", n_classes=k)
    if (
        binary_1d
        and labels is None
        and yt.dtype.kind == "f"
        and np.isfinite(yt).all()
        and (yt != np.round(yt)).any()
        and ((yt >= 0) & (yt <= 1)).all()
    ):
        info["problem"] = "binary, soft targets"
        soft = yt.astype(np.float64)
        target = np.column_stack([1.0 - soft, soft])
        full = _two_columns(pred, logits)
        fill_multiclass(target, full)
        _soft_target_scores(scores, target, full, base, logits, sw)
        scores["binary_cross_entropy"] = binary_cross_entropy(
            soft, _positive(pred, logits), base=base, **common
        )
        return _report(info, scores, base)

    codes = encode_labels(yt, classes=labels, n_classes=k).codes
    fill_multiclass(codes, pred)
    if not logits:
        # The drop-in for sklearn.metrics.log_loss: nats, and its own clipping.
        scores["log_loss"] = log_loss(codes, pred, sample_weight=sw, labels=np.arange(k))
    if k == 2:
        scores["binary_cross_entropy"] = binary_cross_entropy(
            codes.astype(np.float64), _positive(pred, logits), base=base, **common
        )
    return _report(info, scores, base)


def _report(info, scores, base):
    scores = {name: scores[name] for name in _ORDER if name in scores}
    unit = _units(base)
    units = {
        name: "" if name == "perplexity" else "nats" if name == "log_loss" else unit
        for name in scores
    }
    return dict(info, metrics=scores, units=units)
