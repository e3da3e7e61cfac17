"""``log_loss``: the drop-in for ``sklearn.metrics.log_loss``, only faster."""

import warnings

import numpy as np
from sklearn.metrics import _classification
from sklearn.utils._param_validation import Hidden, validate_params

from .. import _dask
from .. import loss as _kernels
from .._validation import encode_labels, unique_labels

__all__ = ["log_loss"]


def _original_sklearn_log_loss():
    """scikit-learn's own ``log_loss``, captured once, at import.

    Looked up at call time, the name could find skxent's function once a user
    (or :func:`skxent.patch_sklearn`) has put it in scikit-learn's place, and
    the general path would call itself forever.
    """
    func = _classification.log_loss
    return getattr(func, "_skxent_original", func)


_SK_LOG_LOSS = _original_sklearn_log_loss()


def _encode(y, labels):
    """Sorted classes and class indices of 1-D integer or string labels, or None
    where the general path must decide (a label outside ``labels``, unsorted
    or repeated ``labels``: scikit-learn's errors and warnings)."""
    if labels is None:
        enc = unique_labels(y)
        return enc.classes, enc.codes
    classes = np.asarray(labels)
    if classes.ndim != 1 or classes.dtype.kind != y.dtype.kind:
        return None
    if classes.shape[0] > 1 and not (classes[1:] > classes[:-1]).all():
        return None
    try:
        return classes, encode_labels(y, classes=classes).codes
    except (ValueError, TypeError):
        return None


def _log_loss_fast(y_true, y_proba, normalize, sample_weight, labels):
    """The one-pass path for clean ndarray input; None hands over to the general path.

    It returns a value only where scikit-learn would raise nothing: anything
    that might be an error goes to the general path, which is scikit-learn's
    own function, so that checks, errors and warnings are scikit-learn's.
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
    k = 2 if y_proba.ndim == 1 else y_proba.shape[1]
    proba = np.ascontiguousarray(y_proba)
    dtype = proba.dtype
    eps = float(np.finfo(dtype).eps)
    # scikit-learn's test is isclose(row sum, 1, rtol=sqrt(eps), atol=1e-8) on
    # row sums in the input's dtype.  The kernel sums in double, so it flags
    # every row within a rounding margin of failing, and scikit-learn's own
    # computation settles whether to warn.
    tol = 1e-8 + np.sqrt(eps)
    tol = max(tol - (1e-6 * tol + (k + 4) * eps), 0.0)

    picked = None
    # labels 0..k-1 given as such (what a scorer that knows the estimator's
    # classes passes) are the same case as none: the indices themselves.
    indices = labels is None
    if labels is not None and y_true.dtype.kind in "iu":
        given = np.asarray(labels)
        indices = (
            given.ndim == 1
            and given.dtype.kind in "iu"
            and given.shape[0] == k
            and bool((given == np.arange(k)).all())
        )
    if indices and y_true.dtype.kind in "iu":
        # Integer labels are most often exactly 0..k-1, which are then both
        # the sorted classes and the column indices: the kernel tries them as
        # such, checking their range and which occur in the same pass, and
        # nothing else reads the labels.  Anything else is encoded below.
        # (uint64 labels above 2**63 wrap to negative indices: out of range)
        codes = np.ascontiguousarray(y_true, dtype=np.intp)
        picked, ok, complete = _kernels._gather_clipped(proba, codes, eps, tol)
        if labels is not None:
            # Classes that do not occur are fine when labels are given; a bad
            # row goes through the encoding below, and then to scikit-learn.
            if not ok:
                picked = None
        elif complete and not ok:
            return None  # an error, or a warning: scikit-learn's to give
        elif not complete:
            picked = None
    if picked is None:
        encoded = _encode(y_true, labels)
        if encoded is None:
            return None
        classes, codes = encoded
        if classes.shape[0] < 2 or classes.shape[0] != k:
            return None
        picked, ok, _ = _kernels._gather_clipped(proba, codes, eps, tol)
        if not ok:
            return None  # an error, or a warning: scikit-learn's to give
    # The same log and the same reduction as scikit-learn, on the n picked
    # entries only: -sum_c t_c log(q_c) has a single non-zero term per row.
    # Negating the reduction instead of each term gives the same bits (the
    # rounding of a sum, a dot product or a quotient is symmetric in sign),
    # one pass fewer.
    log = np.log(picked, out=picked)
    if normalize:
        return -float(np.average(log, weights=sample_weight))
    if sample_weight is not None:
        return -float(np.dot(log, sample_weight))
    return -float(np.sum(log))


def _log_loss_general(y_true, y_proba, normalize, sample_weight, labels):
    """Everything the fast path hands over: scikit-learn's own ``log_loss``.

    It is the drop-in's reference, so its checks, errors and warnings are by
    definition the right ones, for whichever version is installed; it only
    sees input that is unusual (lists, frames, float16, unsorted ``labels``,
    indicator matrices), invalid, or that it warns about.
    """
    return float(
        _SK_LOG_LOSS(
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
    entry of the true class, and encodes integer labels in O(n); any other
    input goes to scikit-learn's own function (captured when skxent is
    imported, so that it keeps working after :func:`skxent.patch_sklearn` or
    a user has put this function in scikit-learn's place).

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


# Marks skxent's function, and where scikit-learn's own is, for whoever
# captures scikit-learn's name after it was replaced by this one.
log_loss._skxent_original = _SK_LOG_LOSS
