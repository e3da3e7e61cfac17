"""Turning user input into what the kernels trust, and every user-facing error.

The kernels (:mod:`skxent._core`) assume C-contiguous float32/float64 arrays of
consistent shapes.  Everything here runs once, at the public boundary, and each
error names the argument and what is wrong with it.
"""

import numbers

import numpy as np
from scipy import sparse

from . import _core

_REDUCTIONS = ("mean", "sum", "none")


def n_threads_for(size):
    """Threads for a kernel call over ``size`` elements.

    ``omp_get_max_threads()`` honours ``OMP_NUM_THREADS`` and threadpoolctl's
    limits; small problems run on one thread, where starting a team costs more
    than it saves.
    """
    if size < 50_000:
        return 1
    return max(1, _core.max_threads())


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
        raise ValueError(f"{name} cannot be read as an array: {exc}") from None
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
        raise ValueError(f"{name} must be {allowed}; got an array of shape {arr.shape}")
    if arr.size == 0 or arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if dtype is None:
        dtype = np.float32 if arr.dtype in (np.float32, np.float16) else np.float64
    return np.ascontiguousarray(arr, dtype=dtype)


def check_sample_weight(sample_weight, n_samples):
    """float64 (n,) weights, finite and non-negative, not all zero; or None."""
    if sample_weight is None:
        return None
    sw = check_float_array(sample_weight, "sample_weight", ndims=(1,), dtype=np.float64)
    if sw.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {sw.shape[0]} entries but there are {n_samples} samples"
        )
    bad = ~np.isfinite(sw)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"sample_weight must be finite; entry {i} is {sw[i]}")
    if (sw < 0).any():
        i = int(np.flatnonzero(sw < 0)[0])
        raise ValueError(f"sample_weight must be non-negative; entry {i} is {sw[i]}")
    if not sw.any():
        raise ValueError("sample_weight sums to zero: there is nothing to average")
    return sw


def check_class_weight(class_weight, n_classes, labels=None, name="class_weight"):
    """float64 (k,) class weights from an array-like or a dict; or None.

    A dict is keyed by label when ``labels`` is given, else by column index.
    """
    if class_weight is None:
        return None
    if isinstance(class_weight, dict):
        keys = list(labels) if labels is not None else list(range(n_classes))
        unknown = set(class_weight) - set(keys)
        if unknown:
            raise ValueError(
                f"{name} has keys {sorted(map(repr, unknown))} that are not classes "
                f"(the classes are {keys})"
            )
        class_weight = [class_weight.get(key, 1.0) for key in keys]
    cw = check_float_array(class_weight, name, ndims=(1,), dtype=np.float64)
    if cw.shape[0] != n_classes:
        raise ValueError(f"{name} has {cw.shape[0]} entries but there are {n_classes} classes")
    if not np.isfinite(cw).all() or (cw < 0).any():
        raise ValueError(f"{name} must be finite and non-negative; got {cw}")
    return cw


def check_label_smoothing(label_smoothing):
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
        raise TypeError(f"label_smoothing must be a real number in [0, 1); got {label_smoothing!r}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing!r}")
    return float(label_smoothing)


def log_base_factor(base):
    """The factor turning nats into units of ``base`` (None: nats)."""
    if base is None:
        return 1.0
    if isinstance(base, bool) or not isinstance(base, numbers.Real):
        raise TypeError(f"base must be None or a positive number; got {base!r}")
    if not (np.isfinite(base) and base > 0 and base != 1):
        raise ValueError(f"base must be a positive number other than 1; got {base!r}")
    return 1.0 / np.log(float(base))


def check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}; got {reduction!r}")
    return reduction


def clip_value(eps, dtype):
    """The clipping bound for probabilities: [eps, 1 - eps]."""
    if isinstance(eps, str):
        if eps != "auto":
            raise ValueError(f"eps must be 'auto' or a number in [0, 0.5); got {eps!r}")
        return float(np.finfo(dtype).eps)
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"eps must be 'auto' or a number in [0, 0.5); got {eps!r}")
    if not 0.0 <= eps < 0.5:
        raise ValueError(f"eps must be 'auto' or a number in [0, 0.5); got {eps!r}")
    return float(eps)


def sum_tolerance(dtype):
    """How far from 1 a row of probabilities may sum: sqrt of the dtype's eps."""
    return float(np.sqrt(np.finfo(dtype).eps))


def _row_text(row, limit=8):
    text = np.array2string(np.asarray(row)[:limit], precision=6, separator=", ")
    return text[:-1] + ", ...]" if len(row) > limit else text


def raise_bad_row(arr, status, name, tol, what="probabilities"):
    """Raise the ValueError for the first invalid row that a kernel reported."""
    i = int(np.flatnonzero(status)[0])
    code = int(status[i])
    row = arr[i] if arr.ndim == 2 else arr[i : i + 1]
    text = _row_text(row)
    if code == 1:
        msg = f"{name} must be finite; row {i} has NaN or inf: {text}"
    elif code == 2:
        msg = f"{name} must hold {what} in [0, 1]; row {i} has a negative value: {text}"
    elif code == 3:
        msg = f"{name} must hold {what} in [0, 1]; row {i} has a value above 1: {text}"
    else:
        total = float(np.sum(row, dtype=np.float64))
        msg = f"{name} rows must sum to 1; row {i} sums to {total!r} (tolerance {tol:.2g}): {text}"
    raise ValueError(msg)


def input_dtype(x):
    """The float dtype the user's values were given in (float64 for integers)."""
    dtype = np.asarray(x).dtype if not hasattr(x, "dtype") else np.dtype(x.dtype)
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def loosest(*dtypes):
    """Of float dtypes, the least precise: the one whose rounding tolerances apply."""
    return max((np.dtype(d) for d in dtypes), key=lambda d: np.finfo(d).eps)


def check_distribution_rows(arr, name, what="probabilities", tol_dtype=None):
    """Check that every row of a 2-D float array is a probability distribution.

    The tolerance on the row sums is that of ``tol_dtype``, the dtype the values
    were given in, when they were converted to a more precise one: float32
    rows normalised in float32 sum to one only within float32's rounding.
    """
    tol = sum_tolerance(arr.dtype if tol_dtype is None else loosest(arr.dtype, tol_dtype))
    status = np.empty(arr.shape[0], dtype=np.int8)
    _core.check_rows(arr, tol, status, n_threads_for(arr.size))
    if status.any():
        raise_bad_row(arr, status, name, tol, what)


def encode_labels(y_true, n_classes, labels=None, name="y_true"):
    """Class indices (intp, C-contiguous) of 1-D labels for ``n_classes`` columns.

    With ``labels`` (the column order), labels of any type map through it.
    Without, integer labels (or integral floats) are column indices; other
    labels map by their sorted unique values, which must number ``n_classes``.
    """
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D labels or an (n, k) target matrix; got shape {y.shape}"
        )
    if y.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if y.dtype.kind == "c":
        raise TypeError(f"{name} must hold class labels; got complex dtype {y.dtype}")

    if labels is not None:
        lab = np.asarray(labels)
        if lab.ndim != 1 or lab.shape[0] != n_classes:
            raise ValueError(
                f"labels must list the {n_classes} classes in column order; "
                f"got {lab.shape[0] if lab.ndim == 1 else lab.shape} entries"
            )
        try:
            order = np.argsort(lab, kind="stable")
            sorted_lab = lab[order]
            if (sorted_lab[1:] == sorted_lab[:-1]).any():
                raise ValueError(f"labels has repeated entries: {lab.tolist()}")
            pos = np.searchsorted(sorted_lab, y)
        except TypeError:
            raise TypeError(
                f"{name} and labels must hold comparable values; got {y.dtype} and {lab.dtype}"
            ) from None
        pos_c = np.minimum(pos, n_classes - 1)
        bad = sorted_lab[pos_c] != y
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{name} contains label {y[i].item()!r} (at index {i}), which is not in labels"
            )
        return np.ascontiguousarray(order[pos_c], dtype=np.intp)

    if y.dtype.kind in "biuf":
        if y.dtype.kind == "f":
            if not np.isfinite(y).all():
                raise ValueError(f"{name} must be finite class labels; it has NaN or inf")
            if (y != np.round(y)).any():
                raise ValueError(
                    f"{name} holds non-integer values; class labels must be integers "
                    "(column indices) or mapped with labels=, and soft targets must be "
                    "a 2-D (n, k) matrix"
                )
        ymin, ymax = y.min(), y.max()
        if ymin < 0 or ymax >= n_classes:
            v = (ymin if ymin < 0 else ymax).item()
            raise ValueError(
                f"{name} contains label {v!r}, outside the {n_classes} columns of y_pred: "
                f"integer labels are column indices 0..{n_classes - 1} "
                "(pass labels= to map other values)"
            )
        return np.ascontiguousarray(y, dtype=np.intp)

    try:
        classes, codes = np.unique(y, return_inverse=True)
    except TypeError:
        raise TypeError(f"{name} holds labels of mixed types that cannot be sorted") from None
    if classes.shape[0] != n_classes:
        raise ValueError(
            f"{name} has {classes.shape[0]} distinct labels {classes.tolist()[:10]} but "
            f"y_pred has {n_classes} columns; pass labels= to say which column is which"
        )
    return np.ascontiguousarray(codes.reshape(-1), dtype=np.intp)


def check_consistent_samples(n_true, n_pred, true_name="y_true", pred_name="y_pred"):
    if n_true != n_pred:
        raise ValueError(f"{true_name} has {n_true} samples but {pred_name} has {n_pred}")
