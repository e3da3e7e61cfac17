"""CrossEntropyClassifier.fit on dask arrays, on a real distributed.LocalCluster.

The data are made on the workers (``dask.array.random`` with a seed), so the
client never holds them; the reference is the in-memory fit of the same data
(computed once, here, for the comparison only).  The cluster has two worker
processes on 127.0.0.1 and is stopped at the end.
"""

import json
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from skxent import CrossEntropyClassifier  # noqa: E402
from skxent._linear_loss import LinearModelLoss  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    )  # fmt: skip
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _problem(n_classes, n=40_000, d=8, blocks=8, seed=0, dtype=np.float64):
    """X, y (and weights) made on the workers by a seeded generator."""
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n, d), chunks=(n // blocks, d)).astype(dtype)
    coef = np.random.default_rng(seed).normal(size=(d, n_classes))
    scores = X.astype(np.float64) @ coef + rng.gumbel(
        size=(n, n_classes), chunks=(n // blocks, n_classes)
    )
    y = scores.argmax(axis=1)
    sw = rng.uniform(0.2, 3.0, size=n, chunks=n // blocks)
    return X, y, sw


def _objective(X, y, sw, clf):
    """The in-memory objective (the same function as the fit's) at clf's solution."""
    k = clf.classes_.shape[0]
    link, K = ("sigmoid", 1) if k == 2 else ("softmax", k)
    loss = LinearModelLoss(np.asarray(X, dtype=np.float64), np.searchsorted(clf.classes_, y),
                           link=link, n_outputs=K, sample_weight=sw, C=clf.C)  # fmt: skip
    return loss.loss(loss.pack(clf.coef_, clf.intercept_))


@pytest.mark.parametrize(
    "n_classes, weighted, solver",
    [
        (2, False, "auto"),
        (2, True, "auto"),
        (4, False, "auto"),
        (4, True, "lbfgs"),
        (3, True, "newton-cg"),
    ],
)
def test_same_fit_as_in_memory(client, n_classes, weighted, solver):
    X, y, sw = _problem(n_classes)
    Xm, ym, swm = client.compute([X, y, sw], sync=True)
    kw = dict(solver=solver, tol=1e-10, max_iter=500)
    dist = CrossEntropyClassifier(**kw).fit(X, y, sample_weight=sw if weighted else None)
    mem = CrossEntropyClassifier(**kw).fit(Xm, ym, sample_weight=swm if weighted else None)
    s = swm if weighted else None
    f_dist, f_mem = _objective(Xm, ym, s, dist), _objective(Xm, ym, s, mem)
    assert f_dist == pytest.approx(f_mem, rel=1e-10)
    assert_allclose(dist.coef_, mem.coef_, rtol=0, atol=1e-8)
    assert_allclose(dist.intercept_, mem.intercept_, rtol=0, atol=1e-8)
    assert_array_equal(dist.classes_, mem.classes_)
    proba = dist.predict_proba(X)
    assert isinstance(proba, da.Array)
    assert_allclose(proba.compute(), mem.predict_proba(Xm), rtol=1e-7, atol=1e-12)
    assert dist.score(X, y) == pytest.approx(mem.score(Xm, ym))


def test_float32_kept(client):
    # float32 data: products and per-chunk sums in float32 (the in-memory path
    # groups rows into other chunks), so the two fits agree to float32 noise.
    X, y, _ = _problem(3, dtype=np.float32)
    Xm, ym = client.compute([X, y], sync=True)
    dist = CrossEntropyClassifier(tol=1e-6).fit(X, y)
    mem = CrossEntropyClassifier(tol=1e-6).fit(Xm, ym)
    assert dist.coef_.dtype == np.float32
    assert _objective(Xm, ym, None, dist) == pytest.approx(_objective(Xm, ym, None, mem), rel=1e-7)
    assert_allclose(dist.coef_, mem.coef_, atol=1e-4)


def test_multilabel_soft_targets_class_weights_and_l1(client):
    X, y, sw = _problem(3, n=12_000, d=5, blocks=4)
    Xm, ym, swm = client.compute([X, y, sw], sync=True)
    Y = da.stack([y == 0, y == 2], axis=1).astype(int)
    T = da.eye(3, chunks=3)[y] * 0.8 + 0.2 / 3
    cases = [
        (
            dict(multilabel=True, class_weight={1: 2.0}),
            Y,
            np.column_stack([ym == 0, ym == 2]).astype(int),
        ),
        (dict(label_smoothing=0.1, class_weight="balanced"), y, ym),
        ({}, T, np.eye(3)[ym] * 0.8 + 0.2 / 3),
        (dict(l1_ratio=0.5, C=0.05), y, ym),
    ]  # fmt: skip
    for kwargs, target, target_mem in cases:
        dist = CrossEntropyClassifier(tol=1e-10, **kwargs).fit(X, target, sample_weight=sw)
        mem = CrossEntropyClassifier(tol=1e-10, **kwargs).fit(Xm, target_mem, sample_weight=swm)
        assert_allclose(dist.coef_, mem.coef_, atol=1e-6, err_msg=str(kwargs))
        if kwargs.get("l1_ratio"):
            assert_array_equal(dist.coef_ == 0, mem.coef_ == 0)


def test_dataframe_sets_feature_names(client):
    dd = pytest.importorskip("dask.dataframe")
    X, y, _ = _problem(2, n=8000, d=4, blocks=4)
    frame = dd.from_dask_array(X, columns=["a", "b", "c", "d"])
    clf = CrossEntropyClassifier().fit(frame, dd.from_dask_array(y))
    assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    assert clf.predict(frame).compute().shape == (8000,)


def test_a_block_with_nan_names_its_row(client):
    X, y, _ = _problem(2, n=8000, d=4, blocks=4)
    X = da.where((da.arange(8000) == 5123)[:, None], np.nan, X)
    with pytest.raises(ValueError, match="row 5123"):
        CrossEntropyClassifier().fit(X, y)


@pytest.mark.parametrize("persisted", [False, True])
def test_a_worker_killed_mid_fit_changes_nothing(client, persisted):
    # Persisted data are evaluated by one actor per worker; when a worker is
    # lost the fit goes on with tasks, and a lost block is made again from
    # its lineage.
    X, y, _ = _problem(4, n=400_000, d=20, blocks=8)
    if persisted:
        from skxent.classifier import _dask_objective

        X, y = client.persist([X, y])
        distributed.wait([X, y])
        assert _dask_objective(CrossEntropyClassifier(), X, y, None)[0]._actors is not None
    reference = CrossEntropyClassifier(solver="lbfgs", tol=1e-8).fit(X, y)
    killed = {}

    def kill():
        time.sleep(1.0)
        worker = sorted(client.scheduler_info()["workers"])[0]
        killed["at"] = time.perf_counter()
        try:
            client.run(os._exit, 1, workers=[worker])
        except OSError:  # the connection to the worker closes: it is gone
            pass

    killer = threading.Thread(target=kill)
    t0 = time.perf_counter()
    killer.start()
    faulted = CrossEntropyClassifier(solver="lbfgs", tol=1e-8).fit(X, y)
    done = time.perf_counter()
    killer.join()
    assert t0 < killed["at"] < done, "the worker was not killed during the fit"
    # The lost blocks are made again from their seed and the partial sums added
    # in block order; only BLAS's rounding on memory laid out by another
    # process may differ (a few ulps).
    assert_allclose(faulted.coef_, reference.coef_, rtol=1e-12, atol=1e-15)
    assert_array_equal(faulted.n_iter_, reference.n_iter_)
    client.wait_for_workers(2, timeout=60)


def test_data_larger_than_a_worker_fits_with_a_small_client():
    # Two workers of 1 GiB each and X of 1.5 GiB, made on the workers; the
    # client (a subprocess, so that its peak memory is its own) stays small.
    script = textwrap.dedent(
        """
        import json, os, resource, sys
        import numpy as np
        import dask.array as da
        import distributed
        from skxent import CrossEntropyClassifier

        def peak_bytes():
            # This process's own high-water mark: ru_maxrss survives exec, so
            # it would count the parent's pages at the fork (a big pytest).
            if os.path.exists("/proc/self/status"):
                with open("/proc/self/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            return int(line.split()[1]) * 1024
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

        if __name__ == "__main__":
            cluster = distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, memory_limit="1GiB", host="127.0.0.1",
                dashboard_address=None,
            )
            with distributed.Client(cluster) as client:
                n, d = 10_500_000, 20
                rng = da.random.default_rng(0)
                X = rng.standard_normal((n, d), chunks=(250_000, d))
                y = (X[:, 0] - 0.5 * X[:, 1] + rng.logistic(size=n, chunks=250_000) > 0)
                before = peak_bytes()
                clf = CrossEntropyClassifier(tol=1e-6).fit(X, y.astype(int))
                peak = peak_bytes()
                print(json.dumps({"x_bytes": X.nbytes, "before": before, "client_peak": peak,
                                  "coef": clf.coef_[0, :2].tolist()}))
            cluster.close()
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["x_bytes"] > 1.5 * 2**30 - 1
    # The client process holds the scheduler and the libraries (a few hundred
    # MB before the fit); the fit adds little to its peak, nothing like X.
    assert result["client_peak"] < 0.5 * result["x_bytes"]
    assert result["client_peak"] - result["before"] < 0.05 * result["x_bytes"]
    # the planted model: a logistic of x0 - 0.5 x1
    assert result["coef"] == pytest.approx([1.0, -0.5], abs=0.01)


def test_float32_soft_targets_and_a_column_of_labels():
    # The local scheduler: the same checks as in memory (float32 rows sum to
    # one within float32's tolerance; a column of labels is flattened).
    from sklearn.exceptions import DataConversionWarning

    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    T = rng.dirichlet(np.ones(3), 600).astype(np.float32)
    mem = CrossEntropyClassifier(tol=1e-10).fit(X, T)
    dist = CrossEntropyClassifier(tol=1e-10).fit(
        da.from_array(X, chunks=150), da.from_array(T, chunks=(150, 3))
    )
    assert_allclose(dist.coef_, mem.coef_, atol=1e-8)
    y = (X[:, 0] > 0).astype(int)
    with pytest.warns(DataConversionWarning):
        col = CrossEntropyClassifier().fit(
            da.from_array(X, chunks=150), da.from_array(y[:, None], chunks=(150, 1))
        )
    assert_allclose(col.coef_, CrossEntropyClassifier().fit(X, y).coef_, atol=1e-8)


@pytest.mark.parametrize("skewed", [False, True])
def test_hessian_from_a_row_sample_on_large_data(client, skewed):
    # 40 000 rows, 9 coefficients: H comes from every 2nd row (the gradient
    # from all), scaled by the weight of all rows over the sample's.  Weights
    # that put almost all the mass outside the sample get the exact H.
    from skxent._dask import DaskLinearModelLoss
    from skxent.classifier import _dask_objective

    X, y, sw = _problem(2)
    if skewed:
        odd = da.arange(X.shape[0], chunks=X.chunks[0]) % 2
        sw = (odd + 1e-6).astype(np.float64)
    Xm, ym, swm = client.compute([X, y, sw], sync=True)
    loss, _, _ = _dask_objective(CrossEntropyClassifier(C=1.0), X, y, sw)
    assert isinstance(loss, DaskLinearModelLoss)
    mem = LinearModelLoss(Xm, ym.astype(float), link="sigmoid", n_outputs=1, sample_weight=swm)
    w = np.random.default_rng(3).normal(scale=0.2, size=loss.n_dof)
    f, g, H = loss.hessian(w)
    f_ref, g_ref, H_ref = mem.hessian(w)
    assert f == pytest.approx(f_ref, rel=1e-12)
    assert_allclose(g, g_ref, rtol=1e-10, atol=1e-14)
    if skewed:
        assert not loss._sampled_hessian
        assert_allclose(H, H_ref, rtol=1e-10, atol=1e-14)
    else:
        assert loss._sampled_hessian
        # An estimate from 20 000 rows: close, not equal.
        assert not np.allclose(H, H_ref, rtol=1e-8, atol=0)
        assert np.abs(H - H_ref).max() <= 0.05 * np.abs(H_ref).max()
        # Exactly the scaled sum over the even rows (the global stride 2).
        sub = LinearModelLoss(Xm[::2], ym[::2].astype(float), link="sigmoid", n_outputs=1,
                              sample_weight=swm[::2])  # fmt: skip
        _, _, H_sub = sub.hessian(w)
        H_sub[np.arange(8), np.arange(8)] -= sub.l2
        H_sub[np.arange(8), np.arange(8)] += mem.l2
        assert_allclose(H, H_sub, rtol=1e-10, atol=1e-14)


def _binary_spec(n):
    """What a block task of a binary fit with plain labels gets, ``n`` rows in all."""
    from skxent import _dask

    return _dask._BlockSpec(
        dtype=np.float64, kind="labels", multilabel=False, classes=np.array([0, 1]),
        class_weight_dict=None, class_weight=None, fit_intercept=True, label_smoothing=0.0,
        n_threads=1, normaliser=(n, 1.0), link="sigmoid", n_outputs=1,
    )  # fmt: skip


def test_block_objective_is_kept_between_evaluations_without_its_block():
    # A block's objective is built once per fit and kept in the block's state,
    # without a reference to X; another X (or a pickled state) builds afresh.
    import gc
    import pickle
    import weakref

    from skxent import _dask

    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    y = (X[:, 0] + rng.logistic(size=500) > 0).astype(int)
    spec = _binary_spec(500.0)
    state = _dask.block_targets(y, None, spec)
    w = np.array([0.5, -0.2, 0.1, 0.3])
    mem = LinearModelLoss(X, y.astype(float), link="sigmoid", n_outputs=1, C=np.inf)
    f1 = _dask.block_loss(X, state, spec, w)
    kept = state._objective[1]
    assert kept.X is None
    assert _dask.block_loss(X, state, spec, w) == f1 == pytest.approx(mem.loss(w), rel=1e-14)
    assert state._objective[1] is kept
    # Another block object (other values) is not served the kept objective.
    X2 = X * 2.0
    mem2 = LinearModelLoss(X2, y.astype(float), link="sigmoid", n_outputs=1, C=np.inf)
    assert _dask.block_loss(X2, state, spec, w) == pytest.approx(mem2.loss(w), rel=1e-14)
    assert state._objective[1] is not kept
    # The state does not keep X alive, and a pickled state keeps no objective.
    ref = weakref.ref(X2)
    del X2, mem2
    gc.collect()
    assert ref() is None
    assert pickle.loads(pickle.dumps(state))._objective is None


def test_an_unaligned_block_is_evaluated_on_an_aligned_copy_kept_for_the_fit():
    # A block received from another worker may start at any byte of its
    # message; numpy multiplies such arrays without BLAS, several times slower.
    # The block's objective works on an aligned copy, made once and kept.
    from skxent import _dask

    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 5))
    y = (X[:, 1] + rng.logistic(size=3000) > 0).astype(int)
    raw = bytearray(X.nbytes + 1)
    unaligned = np.frombuffer(raw, dtype=np.float64, count=X.size, offset=1).reshape(X.shape)
    unaligned[...] = X
    assert not unaligned.flags.aligned
    spec = _binary_spec(3000.0)
    state = _dask.block_targets(y, None, spec)
    mem = LinearModelLoss(X, y.astype(float), link="sigmoid", n_outputs=1, C=np.inf)
    copies = []
    for w in (np.array([0.3, -0.2, 0.1, 0.0, 0.5, -0.1]), np.full(6, 0.2)):
        f, g = _dask.block_loss_gradient(unaligned, state, spec, w, False)
        f_mem, g_mem = mem.loss_gradient(w)
        assert f == pytest.approx(f_mem, rel=1e-14)
        assert_allclose(g, g_mem, rtol=1e-13, atol=1e-16)
        copies.append(state._objective[1]._aligned)
    assert copies[0] is not None and copies[0].flags.aligned
    assert_array_equal(copies[0], X)
    assert copies[1] is copies[0]  # copied once, on the first evaluation
    summary = _dask.block_summary(unaligned, y, None, 0, "labels", False, np.float64)
    assert summary["bad"] is None and summary["rows"] == 3000


def test_block_checks_name_the_bad_row_and_pass_huge_finite_rows():
    from skxent import _dask

    X = np.ones((6, 3))
    X[1] = [1e308, 1e308, 1e308]  # finite; its row sum overflows
    y = np.array([0, 1, 0, 1, 0, 1])
    assert _dask.block_summary(X, y, None, 100, "labels", False, np.float64)["bad"] is None
    for value in (np.nan, np.inf, -np.inf):
        Xb = X.copy()
        Xb[4, 2] = value
        bad = _dask.block_summary(Xb, y, None, 100, "labels", False, np.float64)["bad"]
        assert "row 104" in bad
    summary = _dask.block_summary(X, np.array([5, -3, 5, 5, -3, 7]), None, 0, "labels",
                                  False, np.float64)  # fmt: skip
    assert_array_equal(summary["labels"], [-3, 5, 7])
    assert_array_equal(summary["label_mass"], [2.0, 3.0, 1.0])


@pytest.mark.parametrize("n_classes", [2, 3])
def test_persisted_blocks_are_evaluated_per_worker_with_the_in_memory_result(client, n_classes):
    # Persisted data: one actor per worker on the blocks it holds, or (when
    # an actor fails) one task per worker; the parts are added in block order
    # either way, so both give the same numbers, and the fit is the in-memory one.
    from skxent.classifier import _dask_objective

    X, y, sw = _problem(n_classes, n=24_000, blocks=6)
    X, y, sw = client.persist([X, y, sw])
    distributed.wait([X, y, sw])
    loss = _dask_objective(CrossEntropyClassifier(), X, y, sw)[0]
    xs = [b[0] for b in loss._data]
    where = client.who_has(xs)
    for rows, actor in zip(loss._actors.groups, loss._actors.futures):
        worker = client.who_has(actor)[actor.key][0]
        assert all(worker in where[xs[i].key] for i in rows)
    assert sorted(i for rows in loss._actors.groups for i in rows) == list(range(len(xs)))
    w = np.random.default_rng(0).normal(size=loss.n_dof)
    by_actors = loss.loss_gradient(w + 0.1)
    loss.release()
    loss._tasks()
    _, _, _, groups = loss._futures
    assert sorted(i for _, rows in groups for i in rows) == list(range(len(xs)))
    for worker, rows in groups:
        assert all(worker in where[xs[i].key] for i in rows)
    by_tasks = loss.loss_gradient(w + 0.1)
    assert by_tasks[0] == by_actors[0]
    assert_array_equal(by_tasks[1], by_actors[1])
    Xm, ym, swm = client.compute([X, y, sw], sync=True)
    kw = dict(tol=1e-10, max_iter=500)
    dist = CrossEntropyClassifier(**kw).fit(X, y, sample_weight=sw)
    mem = CrossEntropyClassifier(**kw).fit(Xm, ym, sample_weight=swm)
    assert _objective(Xm, ym, swm, dist) == pytest.approx(_objective(Xm, ym, swm, mem), rel=1e-10)
    assert_allclose(dist.coef_, mem.coef_, rtol=0, atol=1e-8)
    assert_allclose(dist.intercept_, mem.intercept_, rtol=0, atol=1e-8)


def test_replicated_blocks_are_shared_out_between_their_holders(client):
    # Every block on both workers: each worker evaluates half of them (not
    # all on the first holder), and the fit is the in-memory one.
    from skxent.classifier import _dask_objective

    X, y, _ = _problem(2, n=16_000, blocks=8)
    first = sorted(client.scheduler_info()["workers"])[0]
    X, y = client.persist([X, y], workers=[first])
    distributed.wait([X, y])
    # The scheduler's active memory manager drops extra replicas every two
    # seconds (ReduceReplicas): off while this test needs them.
    client.amm.stop()
    try:
        client.replicate([X, y], n=2)
        loss = _dask_objective(CrossEntropyClassifier(), X, y, None)[0]
        assert sorted(len(rows) for rows in loss._actors.groups) == [4, 4]
        loss.release()
        loss._tasks()
        assert sorted(len(rows) for _, rows in loss._futures[3]) == [4, 4]
        Xm, ym = client.compute([X, y], sync=True)
        dist = CrossEntropyClassifier(tol=1e-10).fit(X, y)
        mem = CrossEntropyClassifier(tol=1e-10).fit(Xm, ym)
    finally:
        client.amm.start()
    assert_allclose(dist.coef_, mem.coef_, rtol=0, atol=1e-8)


def test_a_block_without_a_sampled_row_adds_no_curvature():
    # Stride 3 on 60 000 rows: the one-row block at row 30 001 holds no
    # multiple of 3, so it has no sampled row; its H part is zero and the fit
    # is the in-memory one (found by the reviewer: it raised a TypeError).
    import dask

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60_000, 4))
    y = (X[:, 0] + rng.standard_normal(60_000) > 0).astype(int)
    chunks = (30_001, 1, 29_998)
    Xd, yd = da.from_array(X, chunks=(chunks, 4)), da.from_array(y, chunks=(chunks,))
    with dask.config.set(scheduler="threads"):
        dist = CrossEntropyClassifier(solver="newton-cholesky", tol=1e-10).fit(Xd, yd)
    mem = CrossEntropyClassifier(solver="newton-cholesky", tol=1e-10).fit(X, y)
    assert_allclose(dist.coef_, mem.coef_, rtol=0, atol=1e-8)
