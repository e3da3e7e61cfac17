"""Every check of user input, and every user-facing message, in one place.

The kernels trust their inputs; this module is what makes that safe.  It runs
once, at the public boundary (a metric, :mod:`skxent.loss`'s public functions,
``CrossEntropyClassifier.fit``, the dask layer, the command line), and hands on
small records that the layers below use as they are:

- :class:`SampleWeight`: validated sample weights, with a scaled copy that no
  sum can overflow or underflow (:func:`check_sample_weight`);
- :class:`LabelCodes`: class indices of 1-D labels and the classes they index
  (:func:`encode_labels`, :func:`unique_labels`);
- :class:`Targets`: what a linear model is fitted to (class indices or a target
  matrix, the link, the classes and the class weights; :func:`fit_targets`).

One rule per input everywhere.  Where a rule differs on purpose, the function
says so: a mini-batch whose sample weights are all zero is a valid input to
:func:`skxent.loss.loss_gradient` (its gradient is zero), while a metric or an
estimator has nothing to average or fit and refuses it
(``check_sample_weight(..., allow_all_zero=...)``).

Errors are ``ValueError`` or ``TypeError``, their messages naming the argument.
A ``ValueError`` made by :func:`input_error` also carries the argument's name,
the index of the row at fault (when one is) and a short ``detail`` that reads
on its own after a location, so that the command line can say
``y_pred file 'p.csv', line 7: <detail>``.
"""

import numbers
import os
from dataclasses import dataclass

import numpy as np
from scipy import sparse

_REDUCTIONS = ("mean", "sum", "none")


def input_error(message, *, argument=None, row=None, detail=None):
    """A ``ValueError`` about one argument, and the row at fault if there is one.

    The exception is a plain ``ValueError`` (what users and scikit-learn's
    conventions expect to see and catch), with three attributes:
    ``argument`` (the parameter the message is about: ``"y_pred"``,
    ``"sample_weight"``...), ``row`` (the index of the sample at fault, or
    None) and ``detail`` (the message without the argument's name and the
    row: what is wrong, readable after a location such as a file and line).
    """
    exc = ValueError(message)
    exc.argument = argument
    exc.row = row
    exc.detail = message if detail is None else detail
    return exc


def _kernels():
    """skxent.loss, the door to the kernels (imported late: it imports this module)."""
    from . import loss

    return loss


# ---------------------------------------------------------------------------
# Arrays and scalar options
# ---------------------------------------------------------------------------


def check_float_array(x, name, *, ndims=(1, 2), dtype=None):
    """Return ``x`` as a C-contiguous float32/float64 array.

    float32 stays float32, float16 becomes float32, integers and booleans become
    float64; ``dtype`` forces one of the two.  The input is never modified: a
    copy is made only when the layout or dtype requires one (read-only and
    non-contiguous inputs work).
    """
    if sparse.issparse(x):
        raise TypeError(f"{name} must be a dense array; got a sparse {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise input_error(f"{name} cannot be read as an array: {exc}", argument=name) from None
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} must hold real numbers; got complex dtype {arr.dtype}")
    if kind not in "biuf":
        raise TypeError(
            f"{name} must be numeric; got dtype {arr.dtype}"
            + (" (ragged rows or mixed types?)" if kind == "O" else "")
        )
    if arr.ndim not in ndims:
        allowed = " or ".join(f"{d}-D" for d in ndims)
        raise input_error(
            f"{name} must be {allowed}; got an array of shape {arr.shape}", argument=name
        )
    if arr.size == 0 or arr.shape[0] == 0:
        raise input_error(f"{name} is empty (shape {arr.shape})", argument=name)
    if dtype is None:
        dtype = np.float32 if arr.dtype in (np.float32, np.float16) else np.float64
    return np.ascontiguousarray(arr, dtype=dtype)


def check_real(value, name, *, low=None, high=None, low_open=False, high_open=False):
    """A real number (not a bool) in the given interval, as a float."""
    interval = (
        f"{'(' if low_open else '['}{'-inf' if low is None else low}, "
        f"{'inf' if high is None else high}{')' if high_open else ']'}"
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in {interval}; got {value!r}")
    v = float(value)
    ok = not np.isnan(v)
    if ok and low is not None:
        ok = v > low if low_open else v >= low
    if ok and high is not None:
        ok = v < high if high_open else v <= high
    if not ok:
        raise input_error(f"{name} must be in {interval}; got {value!r}", argument=name)
    return v


def check_label_smoothing(label_smoothing):
    return check_real(label_smoothing, "label_smoothing", low=0.0, high=1.0, high_open=True)


def log_base_factor(base):
    """The factor turning nats into units of ``base`` (None: nats)."""
    if base is None:
        return 1.0
    if isinstance(base, bool) or not isinstance(base, numbers.Real):
        raise TypeError(f"base must be None or a positive number; got {base!r}")
    if not (np.isfinite(base) and base > 0 and base != 1):
        raise input_error(
            f"base must be a positive number other than 1; got {base!r}", argument="base"
        )
    return 1.0 / np.log(float(base))


def check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise input_error(
            f"reduction must be one of {_REDUCTIONS}; got {reduction!r}", argument="reduction"
        )
    return reduction


def clip_value(eps, dtype):
    """The clipping bound for probabilities: [eps, 1 - eps]."""
    if isinstance(eps, str):
        if eps != "auto":
            raise input_error(
                f"eps must be 'auto' or a number in [0, 0.5); got {eps!r}", argument="eps"
            )
        return float(np.finfo(dtype).eps)
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"eps must be 'auto' or a number in [0, 0.5); got {eps!r}")
    if not 0.0 <= eps < 0.5:
        raise input_error(
            f"eps must be 'auto' or a number in [0, 0.5); got {eps!r}", argument="eps"
        )
    return float(eps)


def thread_limit():
    """The largest ``n_threads`` a call accepts: 4 per CPU (at least 8).

    OpenMP allocates per-thread state up front: an absurd request costs seconds,
    or makes libgomp abort the process (``2**31 - 1`` threads).
    """
    return max(8, 4 * (os.cpu_count() or 1))


def check_n_threads(n_threads):
    """``None`` (the default policy) or a positive integer up to :func:`thread_limit`."""
    if n_threads is None:
        return None
    if isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads must be None or a positive integer; got {n_threads!r}")
    limit = thread_limit()
    if not 1 <= n_threads <= limit:
        raise input_error(
            f"n_threads must be None or an integer in [1, {limit}] (4 per CPU of this "
            f"machine); got {n_threads!r}",
            argument="n_threads",
        )
    return int(n_threads)


def check_output(buf, shape, dtype, name, inputs=()):
    """A caller's output buffer: right shape and dtype, C-contiguous, writeable,
    and sharing no memory with an input (the kernels read inputs after they
    start writing outputs, so an aliased buffer would give wrong results).

    ``inputs`` is a sequence of ``(name, array)``.
    """
    if buf is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(buf, np.ndarray) or buf.shape != shape or buf.dtype != dtype:
        raise input_error(
            f"{name} must be an array of shape {shape} and dtype {np.dtype(dtype)}",
            argument=name,
        )
    if not (buf.flags.c_contiguous and buf.flags.writeable):
        raise input_error(f"{name} must be C-contiguous and writeable", argument=name)
    for other_name, other in inputs:
        if isinstance(other, np.ndarray) and np.may_share_memory(buf, other):
            raise input_error(
                f"{name} shares memory with {other_name}: the kernel reads {other_name} "
                f"while it writes {name}; pass a separate buffer",
                argument=name,
            )
    return buf


# ---------------------------------------------------------------------------
# Sample weights
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleWeight:
    """Validated sample weights.

    ``values`` are the weights as given (float64, finite, non-negative);
    ``scaled = values / scale`` with ``scale = max(values)``, so that the
    largest scaled weight is 1: sums of scaled weights can neither overflow
    (weights of 1e308) nor lose digits to underflow (subnormal weights), and a
    weighted mean ``sum(scaled * x) / sum(scaled)`` is the same for any
    uniform rescaling of the weights.  ``scale`` is 0 when every weight is 0.
    """

    values: np.ndarray
    scaled: np.ndarray
    scale: float

    def mean_of(self, x):
        """Weighted mean of ``x`` (see :func:`skxent.loss._weighted_sum`)."""
        total, wsum = _kernels()._weighted_sum(x, self.scaled)
        return total / wsum

    def sum_of(self, x):
        """Weighted sum of ``x``."""
        total, _ = _kernels()._weighted_sum(x, self.scaled)
        return total * self.scale


def check_sample_weight(sample_weight, n_samples, *, allow_all_zero=False):
    """Validate sample weights: a :class:`SampleWeight`, or None for None.

    Weights must be finite, non-negative, one per sample.  All-zero weights
    are refused unless ``allow_all_zero`` (the low-level loss functions, for
    which a mini-batch of zero weight is valid: its loss and gradient are 0).
    """
    if sample_weight is None:
        return None
    values = check_float_array(sample_weight, "sample_weight", ndims=(1,), dtype=np.float64)
    if values.shape[0] != n_samples:
        raise input_error(
            f"sample_weight has {values.shape[0]} entries but there are {n_samples} samples",
            argument="sample_weight",
        )
    ok = (values >= 0) & np.isfinite(values)  # NaN fails both
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        v = values[i]
        what = "Negative values in sample_weight" if v < 0 else "sample_weight must be finite"
        raise input_error(
            f"{what}: sample_weight[{i}] is {v!r} (weights must be finite and non-negative)",
            argument="sample_weight",
            row=i,
            detail=f"weights must be finite and non-negative; got {v!r}",
        )
    scale = float(values.max())
    if scale == 0.0:
        if not allow_all_zero:
            raise input_error(
                "sample_weight must contain at least one non-zero number: the weights "
                "sum to zero and there is nothing to average",
                argument="sample_weight",
                detail="the weights sum to zero",
            )
        return SampleWeight(values, values, 0.0)
    scaled = values if scale == 1.0 else values / scale
    return SampleWeight(values, scaled, scale)


def check_class_weight(class_weight, n_classes, labels=None, name="class_weight"):
    """float64 (k,) class weights from an array-like or a dict; or None.

    A dict is keyed by label when ``labels`` is given, else by column index;
    classes it does not name get weight 1.
    """
    if class_weight is None:
        return None
    from_dict = isinstance(class_weight, dict)
    keys = list(labels) if labels is not None else list(range(n_classes))
    if from_dict:
        try:
            unknown = set(class_weight) - set(keys)
        except TypeError:
            unknown = set(map(repr, class_weight)) - set(map(repr, keys))
        if unknown:
            raise input_error(
                f"{name} has keys {sorted(map(repr, unknown))} that are not classes "
                f"(the classes are {keys})",
                argument=name,
            )
        values = [class_weight.get(key, 1.0) for key in keys]
        for key, value in zip(keys, values):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name}[{key!r}] must be a number; got {value!r}")
        class_weight = values
    cw = check_float_array(class_weight, name, ndims=(1,), dtype=np.float64)
    if cw.shape[0] != n_classes:
        raise input_error(
            f"{name} has {cw.shape[0]} entries but there are {n_classes} classes", argument=name
        )
    ok = np.isfinite(cw) & (cw >= 0)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        which = i
        if from_dict and labels is not None:
            which = repr(getattr(keys[i], "item", lambda: keys[i])())
        raise input_error(
            f"{name} must be finite and non-negative; the weight of class {which} is "
            f"{float(cw[i])!r}",
            argument=name,
        )
    return cw


def balanced_class_weight(mass):
    """``"balanced"`` class weights, total / (k mass_c), from class masses.

    ``mass[c]`` is the (sample-weighted) number of samples of class c, or its
    total target probability.  A class without mass gets weight 1 (it has no
    term to weigh).
    """
    mass = np.asarray(mass, dtype=np.float64)
    k = mass.shape[0]
    top = mass.max()
    if top > 0 and np.isfinite(top):
        mass = mass / top  # the weights are ratios: no overflow in the total
    total = mass.sum()
    safe = np.where(mass > 0, mass, 1.0)
    return np.where(mass > 0, total / (k * safe), 1.0)


# ---------------------------------------------------------------------------
# Probability rows
# ---------------------------------------------------------------------------


def sum_tolerance(dtype):
    """How far from 1 a row of probabilities may sum: sqrt of the dtype's eps."""
    return float(np.sqrt(np.finfo(dtype).eps))


def input_dtype(x):
    """The float dtype the user's values were given in (float64 for integers)."""
    dtype = np.asarray(x).dtype if not hasattr(x, "dtype") else np.dtype(x.dtype)
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def loosest(*dtypes):
    """Of float dtypes, the least precise: the one whose rounding tolerances apply."""
    return max((np.dtype(d) for d in dtypes), key=lambda d: np.finfo(d).eps)


def _row_text(row, limit=8):
    row = np.atleast_1d(np.asarray(row))
    text = np.array2string(row[:limit], precision=6, separator=", ")
    return text[:-1] + ", ...]" if len(row) > limit else text


# Row status codes of the kernels' row checks (0 = valid).
ST_NONFINITE, ST_NEGATIVE, ST_ABOVE_ONE, ST_SUM = 1, 2, 3, 4


def raise_bad_row(arr, status, name, tol, what="probabilities"):
    """Raise the ValueError for the first invalid row that a kernel reported."""
    i = int(np.flatnonzero(status)[0])
    code = int(status[i])
    row = arr[i] if arr.ndim == 2 else arr[i : i + 1]
    text = _row_text(row)
    logits_hint = ""
    if what == "probabilities" and code in (ST_NEGATIVE, ST_ABOVE_ONE):
        logits_hint = " (raw scores? pass from_logits=True)"
    if code == ST_NONFINITE:
        msg = f"{name} must be finite; row {i} has NaN or inf: {text}"
        detail = f"NaN or inf in {text}"
    elif code == ST_NEGATIVE:
        msg = f"{name} must hold {what} in [0, 1]; row {i} has a negative value: {text}"
        detail = f"{what} must be in [0, 1]; this row has a negative value: {text}"
    elif code == ST_ABOVE_ONE:
        msg = f"{name} must hold {what} in [0, 1]; row {i} has a value above 1: {text}"
        detail = f"{what} must be in [0, 1]; this row has a value above 1: {text}"
    else:
        total = float(np.sum(row, dtype=np.float64))
        noun = what[:-3] + "y" if what.endswith("ies") else what
        msg = f"{name} rows must sum to 1; row {i} sums to {total!r} (tolerance {tol:.2g}): {text}"
        detail = f"{noun} rows must sum to 1; this row sums to {total!r} (tolerance {tol:.2g})"
    raise input_error(msg + logits_hint, argument=name, row=i, detail=detail + logits_hint)


def check_distribution_rows(arr, name, what="probabilities", tol_dtype=None):
    """Check that every row of a 2-D float array is a probability distribution.

    The tolerance on the row sums is that of ``tol_dtype``, the dtype the values
    were given in, when they were converted to a more precise one: float32
    rows normalised in float32 sum to one only within float32's rounding.
    ``tol_dtype=False`` checks the range only, not the sums (independent
    probabilities, as in multilabel targets).
    """
    if tol_dtype is False:
        tol = -1.0
    else:
        tol = sum_tolerance(arr.dtype if tol_dtype is None else loosest(arr.dtype, tol_dtype))
    status = _kernels()._row_status(arr.reshape(arr.shape[0], -1), tol)
    if status.any():
        raise_bad_row(arr, status, name, tol, what)


def check_unit_interval(arr, name, what="probabilities"):
    """Every entry of a 2-D array finite and in [0, 1] (independent probabilities)."""
    ok = (arr >= 0) & (arr <= 1)  # NaN fails both
    if ok.all():
        return
    i, j = (int(v) for v in np.argwhere(~ok)[0])
    v = arr[i, j].item()
    hint = (
        " (raw scores? pass from_logits=True)" if what == "probabilities" and np.isfinite(v) else ""
    )
    raise input_error(
        f"{name} must hold {what} in [0, 1]; entry ({i}, {j}) is {v!r}{hint}",
        argument=name,
        row=i,
        detail=f"{what} must be in [0, 1]; got {_row_text(arr[i])}{hint}",
    )


def check_consistent_samples(n_true, n_pred, true_name="y_true", pred_name="y_pred"):
    if n_true != n_pred:
        raise input_error(
            f"{true_name} has {n_true} samples but {pred_name} has {n_pred}",
            argument=true_name if n_true > n_pred else pred_name,
            row=min(n_true, n_pred),
            detail=f"no matching row: {true_name} has {n_true} samples, {pred_name} {n_pred}",
        )


# ---------------------------------------------------------------------------
# Labels: the one encoder
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelCodes:
    """1-D labels as class indices: ``classes[codes] == y``."""

    codes: np.ndarray  # intp (n,), C-contiguous
    classes: np.ndarray  # (k,)


def _labels_1d(y, name):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise input_error(
            f"{name} must be 1-D labels or an (n, k) target matrix; got shape {y.shape}",
            argument=name,
        )
    if y.shape[0] == 0:
        raise input_error(f"{name} is empty", argument=name)
    if y.dtype.kind == "c":
        raise TypeError(f"{name} must hold class labels; got complex dtype {y.dtype}")
    return y


def unique_labels(y, name="y"):
    """:class:`LabelCodes` of 1-D labels against their sorted distinct values.

    Integers of a modest range are counted in one pass (``bincount``, about 10
    times faster than sorting a million labels); anything else sorts.
    """
    y = _labels_1d(y, name)
    if y.dtype.kind in "biu":
        lo, hi = int(y.min()), int(y.max())
        if hi - lo <= 4 * y.shape[0] + 1024 and -(2**62) < lo and hi < 2**62:
            # Offsets computed in int64: y - lo in y's own dtype can overflow
            # (int8 [-100, 100]).  No copy for intp labels from 0.
            shifted = y.astype(np.intp, copy=False)
            if lo != 0:
                shifted = shifted - lo
            present = np.bincount(shifted, minlength=hi - lo + 1) > 0
            classes = (np.flatnonzero(present) + lo).astype(y.dtype)
            if classes.shape[0] == hi - lo + 1:
                return LabelCodes(np.ascontiguousarray(shifted, dtype=np.intp), classes)
            lookup = np.cumsum(present) - 1
            return LabelCodes(np.ascontiguousarray(lookup[shifted], dtype=np.intp), classes)
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        i = int(np.flatnonzero(~np.isfinite(y))[0])
        raise input_error(
            f"{name} must be finite labels; {name}[{i}] is {y[i].item()!r}",
            argument=name,
            row=i,
            detail=f"label {y[i].item()!r} is not finite",
        )
    try:
        classes, codes = np.unique(y, return_inverse=True)
    except TypeError:
        raise TypeError(f"{name} holds labels of mixed types that cannot be sorted") from None
    return LabelCodes(np.ascontiguousarray(codes.reshape(-1), dtype=np.intp), classes)


def encode_labels(y, *, classes=None, n_classes=None, name="y_true", classes_name="labels"):
    """The one label encoder: :class:`LabelCodes` of 1-D labels.

    Three uses, one set of rules:

    - ``classes`` given (a metric's ``labels=``, in column order; an
      estimator's ``classes_``): every label must be one of them (errors call
      them ``classes_name``).
    - ``n_classes`` given without ``classes`` (a metric without ``labels=``):
      integer labels (and integral floats) are column indices
      ``0..n_classes-1``, as in PyTorch and Keras; other labels map by their
      sorted distinct values, which must number ``n_classes``.
    - neither (an estimator's ``fit``): the sorted distinct labels are the
      classes (:func:`unique_labels`).
    """
    y = _labels_1d(y, name)
    if classes is not None:
        return _map_labels(y, np.asarray(classes), n_classes, name, classes_name)
    if n_classes is None:
        return unique_labels(y, name)
    if y.dtype.kind in "biuf":
        return LabelCodes(_column_indices(y, n_classes, name), np.arange(n_classes))
    enc = unique_labels(y, name)
    if enc.classes.shape[0] != n_classes:
        raise input_error(
            f"{name} has {enc.classes.shape[0]} distinct labels {enc.classes.tolist()[:10]} "
            f"but y_pred has {n_classes} columns; pass labels= to say which column is which",
            argument=name,
        )
    return enc


def _column_indices(y, n_classes, name):
    """Integer (or integral float) labels as column indices, checked in range."""
    if y.dtype.kind == "f":
        finite = np.isfinite(y)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            raise input_error(
                f"{name} must be finite class labels; {name}[{i}] is {y[i].item()!r}",
                argument=name,
                row=i,
                detail=f"label {y[i].item()!r} is not finite",
            )
        bad = y != np.round(y)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise input_error(
                f"{name} holds non-integer values ({name}[{i}] is {y[i].item()!r}); class "
                "labels must be integers (column indices) or mapped with labels=, and soft "
                "targets must be a 2-D (n, k) matrix",
                argument=name,
                row=i,
                detail=f"label {y[i].item():g} is not an integer; labels are column indices "
                f"0..{n_classes - 1} (or pass labels=), soft targets are a matrix of "
                "one column per class",
            )
    bad = (y < 0) | (y >= n_classes)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        v = y[i].item()
        raise input_error(
            f"{name} contains label {v!r} (at index {i}), outside the {n_classes} columns of "
            f"y_pred: integer labels are column indices 0..{n_classes - 1} "
            "(pass labels= to map other values)",
            argument=name,
            row=i,
            detail=f"label {v:g} is not a column index 0..{n_classes - 1} of y_pred; "
            "pass labels= to map other labels to columns",
        )
    return np.ascontiguousarray(y, dtype=np.intp)


def _lookup_labels(y, classes):
    """Codes of integer labels that are all among integer ``classes`` (distinct),
    by a table over their range (several times faster than a binary search);
    None when that does not apply or a label is not a class."""
    if y.dtype.kind not in "biu" or classes.dtype.kind not in "biu" or y.shape[0] == 0:
        return None
    lo = min(int(y.min()), int(classes.min()))
    hi = max(int(y.max()), int(classes.max()))
    if hi - lo > 4 * y.shape[0] + 1024 or not (-(2**62) < lo and hi < 2**62):
        return None
    table = np.full(hi - lo + 1, -1, dtype=np.intp)
    table[classes.astype(np.intp) - lo] = np.arange(classes.shape[0])
    shifted = y.astype(np.intp, copy=False)
    codes = table[shifted - lo if lo else shifted]
    if (codes < 0).any():
        return None  # the searching path names the first label that is not a class
    return codes


def _map_labels(y, classes, n_classes, name, classes_name):
    if classes.ndim != 1 or (n_classes is not None and classes.shape[0] != n_classes):
        size = classes.shape[0] if classes.ndim == 1 else classes.shape
        raise input_error(
            f"labels must list the {n_classes} classes in column order; got {size} entries",
            argument="labels",
        )
    if classes.shape[0] == 0:
        raise input_error("labels is empty", argument="labels")
    try:
        order = np.argsort(classes, kind="stable")
        sorted_classes = classes[order]
        if (sorted_classes[1:] == sorted_classes[:-1]).any():
            raise input_error(f"labels has repeated entries: {classes.tolist()}", argument="labels")
        codes = _lookup_labels(y, classes)
        if codes is not None:
            return LabelCodes(codes, classes)
        pos = np.searchsorted(sorted_classes, y)
    except TypeError:
        raise TypeError(
            f"{name} and labels must hold comparable values; got {y.dtype} and {classes.dtype}"
        ) from None
    pos = np.minimum(pos, classes.shape[0] - 1)
    bad = sorted_classes[pos] != y
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        v = y[i].item()
        raise input_error(
            f"{name} contains label {v!r} (at index {i}), which is not in {classes_name} "
            f"{classes.tolist()[:20]}",
            argument=name,
            row=i,
            detail=f"label {v!r} is not one of the {classes_name} {classes.tolist()[:20]}",
        )
    return LabelCodes(np.ascontiguousarray(order[pos], dtype=np.intp), classes)


# ---------------------------------------------------------------------------
# What a linear model is fitted to
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """The encoded targets of one fit, as the objective and the kernels take them.

    ``link`` is ``"softmax"`` (``n_outputs`` classes) or ``"sigmoid"`` (one
    output for two classes, one per label for multilabel).  Exactly one of
    ``indices`` (intp (n,), hard softmax labels) and ``matrix`` (float64
    (n, n_outputs): soft softmax targets, or the sigmoid targets in [0, 1]) is
    set.  ``class_weight`` is (k,) for softmax, the pair (negative, positive)
    for sigmoids, or None.  ``mass`` is each class's (sample-weighted) target
    mass, which ``"balanced"`` class weights come from.
    """

    link: str
    n_outputs: int
    classes: np.ndarray
    indices: np.ndarray | None = None
    matrix: np.ndarray | None = None
    class_weight: np.ndarray | None = None
    mass: np.ndarray | None = None


def check_estimator_y(y, multilabel):
    """An estimator's ``y`` as an ndarray: 1-D labels or a 2-D target matrix.

    A sparse ``y`` is a multilabel indicator matrix; a column vector of labels
    becomes 1-D with scikit-learn's ``DataConversionWarning``.
    """
    if sparse.issparse(y):
        if not multilabel:
            raise input_error(
                "A sparse y is only accepted as a multilabel indicator matrix (multilabel=True).",
                argument="y",
            )
        y = y.toarray()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and not multilabel:
        from sklearn.utils.validation import column_or_1d

        y = column_or_1d(y, warn=True)
    if y.ndim not in (1, 2):
        raise input_error(
            f"y must be 1-D labels or a 2-D target matrix; got shape {y.shape}", argument="y"
        )
    return y


def check_target_matrix(Y, name="y", *, rows_sum_to_one=True):
    """A 2-D numeric matrix of target probabilities, as float64."""
    if Y.dtype.kind not in "biuf":
        raise input_error(
            f"A 2-D {name} is a matrix of target probabilities and must be numeric; "
            f"got dtype {Y.dtype}",
            argument=name,
        )
    Yf = np.ascontiguousarray(Y, dtype=np.float64)
    check_distribution_rows(
        Yf,
        name,
        what="target probabilities",
        tol_dtype=input_dtype(Y) if rows_sum_to_one else False,
    )
    return Yf


def _class_weight_for(param, classes, mass, keys_note=""):
    """Class weights from an estimator's ``class_weight``: None, "balanced" or a dict."""
    if param is None:
        return None
    if isinstance(param, str):
        if param != "balanced":
            raise input_error(
                f"class_weight must be a dict, 'balanced' or None; got {param!r}",
                argument="class_weight",
            )
        return balanced_class_weight(mass)
    if not isinstance(param, dict):
        raise TypeError(f"class_weight must be a dict, 'balanced' or None; got {param!r}")
    try:
        return check_class_weight(param, len(classes), labels=list(classes))
    except ValueError as exc:
        if keys_note and "not classes" in str(exc):
            raise input_error(f"{exc}{keys_note}", argument="class_weight") from None
        raise


def fit_targets(
    y,
    *,
    sample_weight=None,
    class_weight=None,
    multilabel=False,
    classes=None,
    prior_mass=None,
):
    """Encode an estimator's ``y`` into :class:`Targets`.

    ``y`` is 1-D labels of any type, or a 2-D matrix of target probabilities
    (soft labels; classes ``arange(k)``; two columns are a binary problem),
    or with ``multilabel`` an (n, L) indicator or probability matrix.
    ``classes`` (``partial_fit``) fixes the classes of 1-D labels.
    ``class_weight`` is the estimator's parameter: None, ``"balanced"`` or a
    dict keyed by label (by 0 and 1, the negative and positive terms, for
    multilabel).  ``prior_mass`` (``partial_fit``) is added to this call's
    class masses before ``"balanced"`` weights are computed from them.
    """
    y = np.asarray(y)
    n = y.shape[0]
    s = np.ones(n) if sample_weight is None else sample_weight.values

    def add_prior(mass):
        if prior_mass is not None and prior_mass.shape == mass.shape:
            return mass + prior_mass
        return mass

    if multilabel:
        if y.ndim != 2:
            raise input_error(
                "multilabel=True needs y of shape (n_samples, n_labels): an "
                f"indicator or probability matrix; got shape {y.shape}",
                argument="y",
            )
        Y = check_target_matrix(y, rows_sum_to_one=False)
        L = Y.shape[1]
        pos = float(s @ Y.sum(axis=1))
        mass = add_prior(np.array([float(s.sum()) * L - pos, pos]))
        cw = _class_weight_for(
            class_weight,
            [0, 1],
            mass,
            " (with multilabel=True, class_weight keys are 0 (negative) and 1 (positive))",
        )
        return Targets("sigmoid", L, np.arange(L), matrix=Y, class_weight=cw, mass=mass)

    if y.ndim == 2:
        Y = check_target_matrix(y)
        k = Y.shape[1]
        mass = add_prior(s @ Y)
        cw = _class_weight_for(
            class_weight, range(k), mass, f": for a target matrix the classes are 0..{k - 1}"
        )
        if k == 2:
            return Targets("sigmoid", 1, np.arange(2), matrix=Y[:, 1:], class_weight=cw, mass=mass)
        return Targets("softmax", k, np.arange(k), matrix=Y, class_weight=cw, mass=mass)

    if y.dtype.kind not in "biu":  # integer labels are always class labels
        from sklearn.utils.multiclass import check_classification_targets

        check_classification_targets(y)
    enc = encode_labels(y, classes=classes, name="y", classes_name="classes")
    k = enc.classes.shape[0]
    if k < 2:
        raise input_error(
            "CrossEntropyClassifier needs samples of at least 2 classes in the "
            f"data, but the data contains only one class: {enc.classes[0]!r}",
            argument="y",
        )
    counts = np.bincount(
        enc.codes, weights=None if sample_weight is None else s, minlength=k
    )  # fmt: skip
    mass = add_prior(np.asarray(counts, dtype=np.float64))
    cw = _class_weight_for(class_weight, enc.classes, mass)
    if k == 2:
        Y = (enc.codes == 1).astype(np.float64).reshape(-1, 1)
        return Targets("sigmoid", 1, enc.classes, matrix=Y, class_weight=cw, mass=mass)
    return Targets("softmax", k, enc.classes, indices=enc.codes, class_weight=cw, mass=mass)
