"""Dask arrays in the metrics: one task per block of rows, then an exact reduction.

A metric given a dask array (``y_true``, ``y_pred`` or ``sample_weight``) is
computed block by block on whatever scheduler is active (a
``dask.distributed`` client included): each block gives its weighted sum of
per-sample losses and its sum of weights, and those are added on the client.
Labels that need the whole column to be known (strings, for instance) are
resolved first, with one pass over ``y_true``.  dask is imported only when a
dask array is seen; it is the optional extra ``skxent[dask]``.
"""

import functools

import numpy as np

from ._validation import check_sample_weight


def is_dask_collection(x):
    """True for a dask array (checked without importing dask)."""
    return type(x).__module__.split(".")[0] == "dask" and hasattr(x, "chunks")


def any_dask(*arrays):
    return any(is_dask_collection(a) for a in arrays)


def _row_slices(chunks):
    bounds = np.cumsum((0,) + tuple(chunks))
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def _blocks(x, slices):
    """The row blocks of ``x`` as delayed objects (dask) or numpy slices."""
    if x is None:
        return [None] * len(slices)
    if is_dask_collection(x):
        x = x.rechunk(
            {0: tuple(s.stop - s.start for s in slices)} | {axis: -1 for axis in range(1, x.ndim)}
        )
        return list(x.to_delayed().ravel())
    x = np.asarray(x)
    return [x[s] for s in slices]


def _layout(y_true, y_pred):
    """Row chunks shared by the inputs: those of the first dask array."""
    for x in (y_pred, y_true):
        if is_dask_collection(x):
            n = x.shape[0]
            if isinstance(n, float) and np.isnan(n):
                raise ValueError(
                    "dask arrays with unknown chunk sizes are not supported; "
                    "call .compute_chunk_sizes() first"
                )
            return _row_slices(x.chunks[0])
    raise TypeError("no dask array among the inputs")


def _global_labels(y_true):
    """Sorted unique labels of a (possibly dask) 1-D y_true."""
    if is_dask_collection(y_true):
        import dask.array as da

        return np.asarray(da.unique(y_true).compute())
    return np.unique(np.asarray(y_true))


def _needs_global_labels(y_true):
    dtype = np.dtype(getattr(y_true, "dtype", np.asarray(y_true).dtype))
    return getattr(y_true, "ndim", 1) == 1 and dtype.kind not in "biuf"


def _sum_block(func, yt, yp, sw, kwargs):
    """``(scale, sum_i w_i l_i / scale, sum_i w_i / scale)`` of one block.

    The weights are checked as the in-memory path checks them, and divided by
    the block's largest weight (``scale``), so that no sum overflows; the
    client combines the blocks with :func:`_combine`.
    """
    per_sample = np.asarray(func(yt, yp, sample_weight=None, reduction="none", **kwargs))
    if sw is None:
        return 1.0, float(per_sample.sum()), float(per_sample.shape[0])
    record = check_sample_weight(sw, per_sample.shape[0], allow_all_zero=True)
    if record.scale == 0.0:
        return 0.0, 0.0, 0.0
    return record.scale, float(per_sample @ record.scaled), float(record.scaled.sum())


def _combine(parts):
    """Weighted total and total weight of blocks, as ``(scale, total, weight)``."""
    top = max(scale for scale, _, _ in parts)
    if top == 0.0:
        return 0.0, 0.0, 0.0
    total = sum(scale / top * t for scale, t, _ in parts)
    weight = sum(scale / top * w for scale, _, w in parts)
    return top, total, weight


def blockwise(metric):
    """Let ``metric(y_true, y_pred, *, sample_weight, reduction, ...)`` take dask arrays.

    Numpy input goes straight to ``metric``; with a dask array among
    ``y_true``, ``y_pred`` and ``sample_weight``, :func:`reduce_metric` runs it
    block by block.
    """

    @functools.wraps(metric)
    def wrapper(y_true, y_pred, **kwargs):
        if any_dask(y_true, y_pred, kwargs.get("sample_weight")):
            return reduce_metric(metric, y_true, y_pred, **kwargs)
        return metric(y_true, y_pred, **kwargs)

    return wrapper


def reduce_metric(func, y_true, y_pred, *, sample_weight=None, reduction="mean", **kwargs):
    """``func(y_true, y_pred, ..., reduction=...)`` over dask arrays, block by block.

    ``func`` is a metric with ``sample_weight`` and ``reduction`` keywords whose
    per-sample values (``reduction="none"``) are already in the right base.
    """
    import dask

    if kwargs.get("labels") is None and _needs_global_labels(y_true):
        kwargs["labels"] = _global_labels(y_true)
    slices = _layout(y_true, y_pred)
    parts = zip(_blocks(y_true, slices), _blocks(y_pred, slices), _blocks(sample_weight, slices))
    if reduction == "none":
        tasks = [
            dask.delayed(func)(yt, yp, sample_weight=None, reduction="none", **kwargs)
            for yt, yp, _ in parts
        ]
        return np.concatenate(dask.compute(*tasks))
    tasks = [dask.delayed(_sum_block)(func, yt, yp, sw, kwargs) for yt, yp, sw in parts]
    scale, total, weight = _combine(dask.compute(*tasks))
    if sample_weight is not None and weight == 0:
        check_sample_weight(np.zeros(1), 1)  # the in-memory path's error
    return float(total / weight) if reduction == "mean" else float(total * scale)


def _log_loss_block(func, yt, yp, sw, labels):
    return func(yt, yp, normalize=False, sample_weight=sw, labels=labels)


def reduce_log_loss(func, y_true, y_proba, *, normalize=True, sample_weight=None, labels=None):
    """The drop-in ``log_loss`` over dask arrays: labels from the whole of y_true."""
    import dask

    if labels is None:
        labels = _global_labels(y_true)
    slices = _layout(y_true, y_proba)
    parts = zip(_blocks(y_true, slices), _blocks(y_proba, slices), _blocks(sample_weight, slices))
    tasks = [dask.delayed(_log_loss_block)(func, yt, yp, sw, labels) for yt, yp, sw in parts]
    total = float(sum(dask.compute(*tasks)))
    if not normalize:
        return total
    if sample_weight is None:
        return total / slices[-1].stop
    if is_dask_collection(sample_weight):
        weight = float(sample_weight.sum().compute())
    else:
        weight = float(np.asarray(sample_weight, dtype=np.float64).sum())
    return total / weight


def rowwise(func, *arrays, **kwargs):
    """A per-row metric (entropy, KL) of dask arrays, computed block by block."""
    import dask

    slices = _layout(arrays[0], arrays[-1])
    columns = [_blocks(a, slices) for a in arrays]
    tasks = [dask.delayed(func)(*blocks, **kwargs) for blocks in zip(*columns)]
    return np.concatenate([np.atleast_1d(r) for r in dask.compute(*tasks)])
