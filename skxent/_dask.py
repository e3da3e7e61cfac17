"""Dask arrays in the metrics: one task per block of rows, then an exact reduction.

A metric given a dask array (``y_true``, ``y_pred`` or ``sample_weight``) is
computed block by block on whatever scheduler is active (a
``dask.distributed`` client included): each block gives its weighted sum of
per-sample losses and its sum of weights, and those are added on the client.
Labels that need the whole column to be known (strings, for instance) are
resolved first, with one pass over ``y_true``.  dask is imported only when a
dask array is seen; it is the optional extra ``skxent[dask]``.
"""

import contextlib
import functools
import threading

import numpy as np

from ._validation import check_sample_weight


def is_dask_collection(x):
    """True for a dask array, DataFrame or Series (checked without importing dask)."""
    return type(x).__module__.split(".")[0] == "dask" and hasattr(x, "__dask_graph__")


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
            dask.delayed(func)(yt, yp, sample_weight=sw, reduction="none", **kwargs)
            for yt, yp, sw in parts
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


# ---------------------------------------------------------------------------
# The blockwise objective: CrossEntropyClassifier.fit on dask arrays
# ---------------------------------------------------------------------------
#
# The data stay where dask keeps them (on the workers of a distributed
# cluster).  Each evaluation sends the coefficients to one task per row block;
# a task builds the block's objective (skxent._linear_loss.LinearModelLoss,
# normalised by the whole data set's weight) and returns its partial sums; the
# client adds them in block order, so that the result does not depend on
# where or when the tasks ran, and adds the penalty.  The solver runs on the
# client and sees the same interface as for in-memory data.


def as_blocks(X, y, sample_weight, multilabel=False):
    """Row blocks of X, y and sample_weight, as lists of delayed objects.

    A dask DataFrame or Series becomes an array (its columns' names are
    returned for ``feature_names_in_``); X is rechunked to whole rows and the
    others to X's row chunks.  Returns ``(blocks, rows, n_features, dtype,
    feature_names)`` with ``blocks`` a list of ``(X_b, y_b, sw_b)`` and
    ``rows`` the first row of each block.
    """
    feature_names = None
    if hasattr(X, "columns") and hasattr(X, "to_dask_array"):
        feature_names = np.asarray([str(c) for c in X.columns], dtype=object)
        X = X.to_dask_array(lengths=True)
    y = y.to_dask_array(lengths=True) if hasattr(y, "to_dask_array") else y
    if getattr(y, "ndim", 1) == 2 and y.shape[1] == 1 and not multilabel:
        import warnings

        from sklearn.exceptions import DataConversionWarning

        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change "
            "the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
            stacklevel=4,
        )
        y = y[:, 0]
    if hasattr(sample_weight, "to_dask_array"):
        sample_weight = sample_weight.to_dask_array(lengths=True)
    if not is_dask_collection(X):
        raise TypeError("X must be a dask array or DataFrame when y or sample_weight is one")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D; got a dask array of shape {X.shape}")
    if any(isinstance(c, float) and np.isnan(c) for c in X.chunks[0]):
        raise ValueError(
            "X has blocks of unknown size: call X.compute_chunk_sizes() (or pass a dask "
            "DataFrame, whose lengths are computed)"
        )
    X = X.rechunk({1: -1})
    slices = _row_slices(X.chunks[0])
    n = slices[-1].stop
    for name, arr in (("y", y), ("sample_weight", sample_weight)):
        if arr is not None and getattr(arr, "shape", (n,))[0] != n:
            raise ValueError(f"{name} has {arr.shape[0]} rows but X has {n}")
    Xb = _held(list(X.to_delayed().ravel()), X)
    yb = _blocks(y, slices)
    sb = _blocks(sample_weight, slices)
    rows = [s.start for s in slices]
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    return list(zip(Xb, yb, sb)), rows, X.shape[1], dtype, feature_names


def _held(blocks, X):
    """The futures of X's blocks where a distributed cluster holds all of them
    (X persisted), else the delayed blocks."""
    try:
        from distributed import futures_of
    except ImportError:
        return blocks
    held = {f.key: f for f in futures_of(X)}
    if not all(b.key in held for b in blocks):
        return blocks
    return [held[b.key] for b in blocks]


def _as_float(X, dtype):
    """X as an array of ``dtype`` whose entries are aligned.

    A block received from another worker can start at any byte of its
    message's buffer; numpy multiplies unaligned arrays without BLAS, eight
    times slower here (one such block made a worker's evaluations 2.4 times
    slower): those are copied.
    """
    X = np.asarray(X)
    if X.dtype != dtype:
        return X.astype(dtype)
    return X if X.flags.aligned else X.copy()


def _first_bad(ok):
    return int(np.flatnonzero(~ok)[0])


def _finite_rows(X):
    """None if every entry of X is finite, else a boolean mask of the finite rows.

    A row's sum is finite when all its entries are (NaN and inf propagate;
    only a sum of huge finite entries overflows), so one product with ones
    clears the usual block; the rows it flags are then checked entry by entry.
    """
    if X.shape[0] == 0 or X.shape[1] == 0:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        sums = X @ np.ones(X.shape[1], dtype=X.dtype)
    flagged = ~np.isfinite(sums)
    if not flagged.any():
        return None
    finite = ~flagged
    rows = np.flatnonzero(flagged)
    finite[rows] = np.isfinite(X[rows]).all(axis=1)
    return None if finite.all() else finite


def block_summary(X, y, sw, first_row, kind, multilabel, dtype):
    """Check one block and count what the whole fit needs from it.

    Returns a dict: rows, the labels present (``kind="labels"``), the class
    masses (for "balanced" and the intercept's start), the weights' largest
    and a description of the first bad entry, if any, in global row numbers.
    """
    X = _as_float(X, dtype)
    bad = None
    finite = _finite_rows(X)
    if finite is not None:
        bad = f"X must be finite; row {first_row + _first_bad(finite)} has NaN or inf"
    s = None
    if sw is not None:
        s = np.asarray(sw, dtype=np.float64).reshape(-1)
        ok = np.isfinite(s) & (s >= 0)
        if bad is None and not ok.all():
            i = _first_bad(ok)
            bad = f"sample_weight must be finite and non-negative; row {first_row + i} is {s[i]!r}"
    y = np.asarray(y)
    out = {"rows": X.shape[0], "bad": bad, "sw_max": 0.0 if s is None else float(s.max(initial=0))}
    if kind == "labels":
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            i = _first_bad(np.isfinite(y))
            out["bad"] = out["bad"] or f"y must be finite labels; row {first_row + i} is {y[i]!r}"
            return out
        from ._validation import unique_labels

        enc = unique_labels(y)
        k = enc.classes.shape[0]
        out["labels"] = enc.classes
        mass = np.bincount(enc.codes, weights=s, minlength=k)
        out["label_mass"] = np.asarray(mass, dtype=np.float64)
    else:
        Y = np.asarray(y, dtype=np.float64).reshape(y.shape[0], -1)
        ok = ((Y >= 0) & (Y <= 1)).all(axis=1)
        if out["bad"] is None and not ok.all():
            i = _first_bad(ok)
            out["bad"] = f"y must hold probabilities in [0, 1]; row {first_row + i} does not"
        w = np.ones(y.shape[0]) if s is None else s
        if multilabel:
            pos = float(w @ Y.sum(axis=1))
            out["matrix_mass"] = np.array([float(w.sum()) * Y.shape[1] - pos, pos])
        else:
            from ._validation import input_dtype, sum_tolerance

            sums_ok = np.abs(Y.sum(axis=1) - 1) <= sum_tolerance(input_dtype(y))
            if out["bad"] is None and not sums_ok.all():
                i = _first_bad(sums_ok)
                out["bad"] = f"y rows must sum to 1; row {first_row + i} does not"
            out["matrix_mass"] = w @ Y
    return out


class _BlockSpec:
    """What a block task needs to build its part of the objective."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


# Taking a block's objective out of its state and putting it back: one task
# at a time per process (two fits whose tasks share a state may run at once on
# a worker with several threads).
_STATE_LOCK = threading.Lock()


class _BlockState:
    """One block's encoded targets and weights, kept on its worker for the fit.

    It also keeps the block's objective once built (:func:`_block_objective`),
    so that its arrays are made once and not at every evaluation: a dask
    worker returns freed memory to the system at once (glibc's
    ``MALLOC_TRIM_THRESHOLD_``, which distributed sets), and fresh pages for
    every temporary made each block's evaluation twice as slow.  The cache
    is not pickled: a copy of the state on another worker builds its own.
    """

    def __init__(self, encoded, weights):
        self.encoded = encoded
        self.weights = weights
        self._objective = None  # (weak reference to the X block, its objective)

    def __getstate__(self):
        return {"encoded": self.encoded, "weights": self.weights, "_objective": None}


def block_targets(y, sw, spec):
    """One block's encoded targets and weights: made once, kept with the block.

    Every evaluation then builds the block's objective from X and these,
    with no encoding and no checks again.
    """
    from ._validation import fit_targets

    targets = fit_targets(
        np.asarray(y), class_weight=spec.class_weight_dict, multilabel=spec.multilabel,
        classes=spec.classes if spec.kind == "labels" else None,
    )  # fmt: skip
    encoded = targets.indices if targets.indices is not None else targets.matrix
    weights = None if sw is None else np.asarray(sw, dtype=np.float64).reshape(-1)
    return _BlockState(encoded, weights)


def _block_objective(X, state, spec):
    """The objective of one block, built on its first use and kept in ``state``.

    It is taken out of the state while in use, so that two tasks running at
    once on one worker never share one (the second builds its own).
    """
    import weakref

    from ._linear_loss import LinearModelLoss

    with _STATE_LOCK:
        cached, state._objective = state._objective, None
    if cached is not None and cached[0]() is X:
        loss = cached[1]
        loss.X = loss._aligned if loss._aligned is not None else _as_float(X, spec.dtype)
        return loss
    Xf = _as_float(X, spec.dtype)
    loss = LinearModelLoss(
        Xf, state.encoded, link=spec.link, n_outputs=spec.n_outputs,
        fit_intercept=spec.fit_intercept, sample_weight=state.weights,
        class_weight=spec.class_weight, label_smoothing=spec.label_smoothing, C=np.inf,
        n_threads=1, drop_empty_columns=False, normaliser=spec.normaliser,
    )  # fmt: skip
    try:
        loss._source = weakref.ref(X)
    except TypeError:  # an X that takes no weak reference is not kept
        loss._source = None
    # The aligned copy of an unaligned block is kept with it, for the fit
    # (blocks of another dtype are converted at each evaluation instead: a
    # copy of every block would double the memory the data take).
    aligned = np.asarray(X)
    loss._aligned = Xf if aligned.dtype == Xf.dtype and not aligned.flags.aligned else None
    return loss


@contextlib.contextmanager
def _objective_of(X, state, spec):
    """The block's objective, ready to evaluate; kept in ``state`` afterwards."""
    loss = _block_objective(X, state, spec)
    with loss:
        yield loss
    if loss._source is not None:
        # Kept without X: the state must not keep a block of X in memory
        # that dask would free (X made again at every evaluation, not
        # persisted); the same block, still alive, is attached again.
        loss.X = None
        with _STATE_LOCK:
            state._objective = (loss._source, loss)


def block_loss_gradient(X, state, spec, w, curvature):
    """(loss, X^T G, column sums of G[, K x K curvature of the softmax Hessian])."""
    with _objective_of(X, state, spec) as loss:
        f, g, point = loss.loss_gradient(w, return_raw=True)
        out = [f, g]
        if curvature:
            out.append(_output_curvature(loss, point))
    return tuple(out)


def _output_curvature(loss, point):
    """sum_i s~_i H_i over the block, H_i the Hessian of row i in its raw scores."""
    from scipy.special import log_softmax

    if loss.link == "softmax":
        P = np.exp(log_softmax(np.asarray(point.raw2, dtype=np.float64), axis=1))
        sP = loss.effective_weight()[:, None] * P
        return np.diag(sP.sum(axis=0)) - sP.T @ P
    return np.asarray(point.hdiag2, dtype=np.float64).sum(axis=0)


def block_loss(X, state, spec, w):
    with _objective_of(X, state, spec) as loss:
        return loss.loss(w)


def block_hessp(X, state, spec, w, v):
    with _objective_of(X, state, spec) as loss:
        _, _, point = loss.loss_gradient(w, return_raw=True)
        return loss.hessp(point, exact=True)(v)


def block_hessian(X, state, spec, w, sample):
    """(f, grad, H) of the block; with ``sample = (stride, first_row)`` H is
    the sum over the block's rows whose global number is a multiple of the
    stride, and the weight of those rows follows."""
    from ._linear_loss import _CHUNK_BYTES, strided_chunks

    with _objective_of(X, state, spec) as loss:
        if sample is None:
            return loss.hessian(w)
        stride, first_row = sample
        rows = strided_chunks(
            loss.n_samples, stride, _CHUNK_BYTES // loss._row_bytes(), start=-first_row % stride
        )
        f, g, H = loss.hessian(w, rows=rows)
        mass = sum(float(loss.effective_weight(r).sum()) for r in rows)
        return f, g, H, mass


def block_second_moment(X, state, spec, full):
    """sum_i s~_i x~_i x~_i^T of the block (its diagonal unless ``full``)."""
    with _objective_of(X, state, spec) as loss:
        Xt = loss.X
        weights = loss.effective_weight()
    if loss.fit_intercept:
        Xt = np.hstack([Xt, np.ones((Xt.shape[0], 1), dtype=Xt.dtype)])
    if full:
        return (Xt.T * weights) @ Xt
    return np.einsum("ij,ij,i->j", Xt, Xt, weights)


class _DaskPoint:
    """A point of the dask objective: its coefficients, and the curvature
    statistics the preconditioner needs, gathered in the same pass."""

    def __init__(self, w, curvature):
        self.w = w
        self.curvature = curvature


class DaskLinearModelLoss:
    """The objective of :class:`skxent._linear_loss.LinearModelLoss` over dask blocks.

    The same interface for the solvers (``loss``, ``loss_gradient``,
    ``hessp``, ``hessian``, the coefficient layout, the penalty), computed by
    one task per row block and added on the client in block order.
    """

    def __init__(self, blocks, spec, *, n_samples, n_features, n_outputs, link, mass, C,
                 l1_ratio, compute, first_rows, actors=None):  # fmt: skip
        spec.link, spec.n_outputs = link, n_outputs
        self.spec = spec
        self.compute = compute
        self._data = blocks
        self.blocks = None  # (X_b, state_b) for the tasks, made when first needed
        self._futures = None
        # Persisted data: the actors that checked the blocks encode the
        # targets and keep them; any failure puts the fit on the tasks.
        self._actors = actors
        if actors is not None:
            try:
                actors.call("encode", spec)
            except Exception:
                self.release()
        if self._actors is None:
            self._tasks()
        self.first_rows = list(first_rows)
        self._sampled_hessian = True
        self.n_samples, self.n_features, self.n_outputs = n_samples, n_features, n_outputs
        self.n_features_in = n_features
        self.columns = None
        self.link = link
        self.fit_intercept = spec.fit_intercept
        self.dtype = spec.dtype
        self.sparse = False
        self.n_dof = n_outputs * (n_features + self.fit_intercept)
        self.label_smoothing = spec.label_smoothing
        self.class_weight = spec.class_weight
        self.mass = mass  # class masses (intercept start)
        self._mass_parts = spec.normaliser
        self.total_mass = spec.normaliser[0] * spec.normaliser[1]
        self.eps = float(np.finfo(self.dtype).eps)
        self.f_rtol = max(
            16 * np.finfo(np.float64).eps,
            4 * np.finfo(self.dtype).eps / np.sqrt(max(n_samples, 1)),
        )
        self._solver_cache = {}
        self.set_penalty(C, l1_ratio)

    # The in-memory objective's coefficient layout and penalty.
    from ._linear_loss import LinearModelLoss as _Local

    set_penalty = _Local.set_penalty
    unpack = _Local.unpack
    pack = _Local.pack
    coef_intercept = _Local.coef_intercept
    penalty = _Local.penalty
    l1_penalty = _Local.l1_penalty
    del _Local

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def _tasks(self):
        """Set up the task path: the blocks' states as dask objects."""
        if self.blocks is not None:
            return
        import dask

        # The encoded targets of every block, computed once and kept (on the
        # workers of a cluster, where they are made again from the data if a
        # worker is lost): every evaluation reads X again, but encodes nothing.
        task = dask.delayed(block_targets, pure=True)
        states = dask.persist(*[task(y, sw, self.spec) for _, y, sw in self._data])
        self.blocks = [(X, state) for (X, _, _), state in zip(self._data, states)]
        self._futures = _futures_of_blocks(self.blocks)

    def _map(self, func, *args, per_block=None):
        """``func(X_b, state_b, spec, *args[, per_block[b]])`` for every block,
        in block order."""
        per = None if per_block is None else list(per_block)
        if self._actors is not None:
            try:
                return self._actors.call("evaluate", func, args, per_block=per)
            except Exception:  # a worker lost, a block moved: the tasks go on
                self.release()
                self._tasks()
        n = len(self.blocks)
        if self._futures is not None:
            # Persisted data on a distributed cluster: one task per worker,
            # on the futures of the blocks it holds (a round trip costs less
            # with fewer tasks: 11 ms for 2 against 18 ms for 8 on two local
            # workers, most of an evaluation), no graph to build and no
            # arguments to hash.  Each task returns its blocks' parts; they
            # are added here in block order, as always.
            client, xs, states, groups = self._futures
            tasks = [
                client.submit(
                    _blocks_call,
                    func,
                    [xs[i] for i in rows],
                    [states[i] for i in rows],
                    self.spec,
                    args,
                    None if per is None else [per[i] for i in rows],
                    pure=False,
                    # (a block held by no worker, lost, is made again anywhere)
                    **({} if worker is None else dict(workers=[worker], allow_other_workers=True)),
                )  # fmt: skip
                for worker, rows in groups
            ]
            out = [None] * n
            for (_, rows), parts in zip(groups, client.gather(tasks)):
                for i, part in zip(rows, parts):
                    out[i] = part
            return out
        import dask

        task = dask.delayed(func, pure=True)
        return self.compute(
            [
                task(X, state, self.spec, *args, *(() if per is None else (per[b],)))
                for b, (X, state) in enumerate(self.blocks)
            ]
        )

    def release(self):
        """Let the workers drop this fit's actors (the tasks remain)."""
        self._actors = None

    def init_coef(self):
        """Zero weights; intercepts at the optimum of the intercept-only model."""
        w = np.zeros(self.n_dof)
        if not self.fit_intercept:
            return w
        _, b = self.unpack(w)
        m = np.asarray(self.mass, dtype=np.float64)
        eps = self.label_smoothing
        if self.link == "softmax":
            m = (1 - eps) * m + eps * m.sum() / m.shape[0]
            if self.class_weight is not None:
                m = m * self.class_weight
            m = np.maximum(m, 1e-12 * m.sum())
            b[:] = np.log(m) - np.log(m).mean()
        else:
            pos, neg = m[1], m[0]  # masses of the positive and the negative terms
            pos, neg = (
                (1 - eps) * pos + eps * (pos + neg) / 2,
                (1 - eps) * neg + eps * (pos + neg) / 2,
            )
            if self.class_weight is not None:
                pos, neg = pos * self.class_weight[1], neg * self.class_weight[0]
            tiny = 1e-12 * (pos + neg)
            b[:] = np.log(np.maximum(pos, tiny)) - np.log(np.maximum(neg, tiny))
        return w

    def loss(self, w):
        return float(sum(self._map(block_loss, w))) + self.penalty(w)

    def _add(self, parts, index):
        total = None
        for part in parts:
            total = part[index] if total is None else total + part[index]
        return total

    def loss_gradient(self, w, *, return_raw=False):
        parts = self._map(block_loss_gradient, w, return_raw)
        f = self._add(parts, 0) + self.penalty(w)
        g = self._add(parts, 1)
        W, _ = self.unpack(w)
        gW, _ = self.unpack(g)
        gW += self.l2 * W
        if return_raw:
            return f, g, _DaskPoint(w, self._add(parts, 2))
        return f, g

    def hessp(self, point, *, exact=False):
        def hessp(v):
            Hv = self._add([(r,) for r in self._map(block_hessp, point.w, v)], 0)
            V, _ = self.unpack(np.asarray(v, dtype=np.float64))
            HV, _ = self.unpack(Hv)
            HV += self.l2 * V
            return Hv

        return hessp

    def hessian(self, w):
        """``(f, grad, H)``; on large data H from a row sample (see below)."""
        # As the in-memory objective's Hessian products: with many more rows
        # than coefficients, H from every m-th row (about max(20000, 20
        # n_dof) rows), scaled by the weight of all rows over the sample's.
        # The gradient stays exact, and so do the convergence test and the
        # solution; each evaluation costs a pass for f and grad only.  Rows
        # whose weight the sample misrepresents get the exact H.
        from ._linear_loss import fair_share, hessian_stride

        n = self.n_samples
        stride = hessian_stride(n, self.n_dof) if self._sampled_hessian else 1
        sample = [None if stride == 1 else (stride, first) for first in self.first_rows]
        parts = self._map(block_hessian, w, per_block=sample)
        f = self._add(parts, 0) + self.penalty(w)
        g, H = self._add(parts, 1), self._add(parts, 2)
        if stride > 1:
            share = self._add(parts, 3)
            if not fair_share(share, n, stride):
                self._sampled_hessian = False
                return self.hessian(w)
            H *= 1.0 / share
        W, _ = self.unpack(w)
        gW, _ = self.unpack(g)
        gW += self.l2 * W
        if self.l2:
            diag = np.arange(self.n_features * self.n_outputs)
            H[diag, diag] += self.l2
        return f, g, H

    # -- what the K-FAC preconditioner needs, without the rows ----------------

    def kfac_second_moment(self, full):
        parts = self._map(block_second_moment, full)
        return self._add([(p,) for p in parts], 0)

    def kfac_output_curvature(self, point):
        return point.curvature


def _blocks_call(func, Xs, states, spec, args, per):
    """``func`` on several blocks of one worker, in their order: the parts."""
    return [
        func(X, state, spec, *args, *(() if per is None else (per[j],)))
        for j, (X, state) in enumerate(zip(Xs, states))
    ]


class _WorkerBlocks:
    """One worker's blocks of a fit, checked and evaluated there (a dask actor).

    A call goes from the client to the worker and back without the
    scheduler: 2 ms for two workers here, where a round trip of two tasks
    costs 11 ms.  The actor keeps its blocks' targets and states (their
    objectives are kept in them), and the keys of the X blocks, which it
    looks up in the worker's data at each call: it holds no block of X
    itself, and a block no longer there raises ``KeyError``.
    """

    def __init__(self, keys, ys, sws):
        self.keys = keys
        self.targets = list(zip(ys, sws))
        self.states = self.spec = None

    def _X(self):
        from distributed import get_worker

        data = get_worker().data
        return [data[key] for key in self.keys]

    def summary(self, kind, multilabel, dtype, first_rows):
        return [
            block_summary(X, y, sw, first, kind, multilabel, dtype)
            for X, (y, sw), first in zip(self._X(), self.targets, first_rows)
        ]

    def encode(self, spec):
        self.spec = spec
        self.states = [block_targets(y, sw, spec) for y, sw in self.targets]
        self.targets = None
        return [None] * len(self.keys)

    def evaluate(self, func, args, per=None):
        return _blocks_call(func, self._X(), self.states, self.spec, args, per)


class _Actors:
    """The client's side of a fit's actors, one per worker holding blocks of X."""

    def __init__(self, futures, groups, n_blocks):
        self.futures = futures  # the actors live while these do
        self.actors = [future.result() for future in futures]
        self.groups = groups
        self.n_blocks = n_blocks

    def call(self, method, *args, per_block=None):
        """``method`` on every actor; the results of its blocks in block order."""
        calls = [
            getattr(actor, method)(
                *args, *(() if per_block is None else ([per_block[i] for i in rows],))
            )
            for actor, rows in zip(self.actors, self.groups)
        ]
        out = [None] * self.n_blocks
        for rows, call in zip(self.groups, calls):
            for i, part in zip(rows, call.result()):
                out[i] = part
        return out


def start_actors(blocks):
    """:class:`_Actors` for ``blocks`` (from :func:`as_blocks`) when X is
    persisted on a distributed cluster, else None."""
    try:
        from distributed import Future, get_client

        client = get_client()
    except (ImportError, ValueError):
        return None
    xs = [X for X, _, _ in blocks]
    if not all(isinstance(X, Future) for X in xs):
        return None
    try:
        groups = _by_worker(client, xs)
        if None in groups:
            return None
        # y and the weights (small) go to the actors once, as futures.
        ys = client.compute([y for _, y, _ in blocks])
        sws = [None] * len(blocks)
        if blocks[0][2] is not None:
            sws = client.compute([sw for _, _, sw in blocks])
        futures = [
            client.submit(
                _WorkerBlocks,
                [xs[i].key for i in rows],
                [ys[i] for i in rows],
                [sws[i] for i in rows],
                actor=True,
                workers=[worker],
                allow_other_workers=False,
                pure=False,
            )
            for worker, rows in groups.items()
        ]
        return _Actors(futures, list(groups.values()), len(blocks))
    except Exception:
        return None


def _futures_of_blocks(blocks):
    """``(client, X futures, state futures, groups)`` when every block of X and
    every state is held by a distributed cluster (persisted), else None;
    ``groups`` lists ``(worker, block numbers)``: where X's blocks are."""
    try:
        from distributed import futures_of, get_client

        client = get_client()
    except (ImportError, ValueError):
        return None
    xs, states = [], []
    for X, state in blocks:
        for obj, out in ((X, xs), (state, states)):
            futures = futures_of(obj)
            if len(futures) != 1 or futures[0].key != obj.key:
                return None  # computed at each evaluation
            out.append(futures[0])
    groups = _by_worker(client, xs)
    return client, xs, states, [(w, rows) for w, rows in groups.items()]


def _by_worker(client, xs):
    """``{worker: block numbers}``: each block of X to a worker that holds it,
    the one with the fewest blocks so far when several do (replicated data);
    None for blocks that no worker holds."""
    where = client.who_has(xs)
    groups = {}
    for i, f in enumerate(xs):
        holders = sorted(where.get(f.key, ()), key=lambda w: (len(groups.get(w, ())), w))
        groups.setdefault(holders[0] if holders else None, []).append(i)
    return groups


def dask_compute():
    """``compute(tasks) -> list``: on the distributed client if there is one."""
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        import dask

        return lambda tasks: list(dask.compute(*tasks))

    def compute(tasks):
        return client.gather(client.compute(tasks))

    return compute


def map_rows(func, X, n_columns, dtype):
    """A dask array of ``func(block)`` for each row block of X (a prediction)."""
    if hasattr(X, "to_dask_array"):
        X = X.to_dask_array(lengths=True)
    X = X.rechunk({1: -1})
    if n_columns is None:
        return X.map_blocks(func, drop_axis=1, dtype=dtype)
    return X.map_blocks(func, chunks=(X.chunks[0], (n_columns,)), dtype=dtype)
