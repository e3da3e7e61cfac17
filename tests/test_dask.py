"""Scaling out with dask (the optional extra ``skxent[dask]``).

Skipped only where dask is not installed; ``.ci/run`` installs the extra.
References: the same computation in memory, and the same search under loky.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from sklearn.datasets import load_wine  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skxent import metrics  # noqa: E402


@pytest.fixture(scope="module")
def client():
    # Two worker processes on loopback, no dashboard: nothing leaves the machine.
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n, k = 20_000, 6
    proba = rng.dirichlet(np.ones(k), n)
    logits = rng.normal(scale=3, size=(n, k))
    y = rng.integers(0, k, n)
    names = np.array(["ant", "bee", "cat", "dog", "eel", "fox"])[y]
    sw = rng.uniform(0.1, 2.0, n)
    targets = rng.dirichlet(np.ones(k), n)
    return proba, logits, y, names, sw, targets


def _d(x, rows):
    return da.from_array(x, chunks=(rows,) + x.shape[1:])


@pytest.mark.parametrize("use_client", [False, True], ids=["threads", "distributed"])
def test_metrics_reduce_chunk_by_chunk_to_the_in_memory_value(request, data, use_client):
    if use_client:
        request.getfixturevalue("client")
    proba, logits, y, names, sw, targets = data
    dp, dl, dy, dn, dsw, dt = (
        _d(proba, 3000),
        _d(logits, 4100),
        _d(y, 2500),
        _d(names, 7000),
        _d(sw, 5000),
        _d(targets, 3333),
    )
    cases = [
        (metrics.cross_entropy, (y, proba), (dy, dp), {}),
        (metrics.cross_entropy, (names, proba), (dn, dp), {"base": 2}),
        (
            metrics.cross_entropy,
            (y, logits),
            (dy, dl),
            {"from_logits": True, "label_smoothing": 0.1},
        ),
        (metrics.cross_entropy, (targets, proba), (dt, dp), {"reduction": "sum"}),
        (metrics.focal_cross_entropy, (y, proba), (dy, dp), {"gamma": 1.5}),
        (metrics.perplexity, (y, proba), (dy, dp), {}),
        (metrics.log_loss, (names, proba), (dn, dp), {}),
        (metrics.log_loss, (y, proba), (dy, dp), {"normalize": False}),
    ]
    for func, args, dargs, kw in cases:
        expected = func(*args, **kw)
        assert_allclose(func(*dargs, **kw), expected, rtol=1e-12, err_msg=func.__name__)
        if func is not metrics.perplexity:
            assert_allclose(
                func(*dargs, sample_weight=dsw, **kw),
                func(*args, sample_weight=sw, **kw),
                rtol=1e-12,
            )
    multilabel = (targets > 0.2).astype(float)
    assert_allclose(
        metrics.binary_cross_entropy(_d(multilabel, 3000), dp, sample_weight=dsw),
        metrics.binary_cross_entropy(multilabel, proba, sample_weight=sw),
        rtol=1e-12,
    )
    assert_allclose(metrics.entropy(dp), metrics.entropy(proba), rtol=1e-12)
    assert_allclose(
        metrics.kl_divergence(dt, dp), metrics.kl_divergence(targets, proba), rtol=1e-12
    )
    assert_allclose(
        metrics.cross_entropy(dy, dp, reduction="none"),
        metrics.cross_entropy(y, proba, reduction="none"),
        rtol=1e-12,
    )


def _search():
    from skxent import CrossEntropyClassifier

    pipe = Pipeline([("scale", StandardScaler()), ("clf", CrossEntropyClassifier())])
    return GridSearchCV(
        pipe,
        {"clf__C": [0.1, 1.0, 10.0], "clf__label_smoothing": [0.0, 0.1]},
        scoring=["neg_cross_entropy", "accuracy"],
        refit="neg_cross_entropy",
        cv=KFold(4, shuffle=True, random_state=0),
        n_jobs=2,
    )


def test_grid_search_under_the_dask_joblib_backend_matches_loky(client):
    import joblib

    X, y = load_wine(return_X_y=True)
    with joblib.parallel_backend("loky"):
        ref = _search().fit(X, y)
    with joblib.parallel_backend("dask"):
        ours = _search().fit(X, y)
    for key, value in ref.cv_results_.items():
        if "time" in key:
            continue
        if key == "params":
            assert ours.cv_results_[key] == value
        else:
            assert_allclose(
                np.asarray(ours.cv_results_[key], dtype=float),
                np.asarray(value, dtype=float),
                rtol=1e-12,
                err_msg=key,
            )
    assert ours.best_params_ == ref.best_params_


def test_grid_search_over_the_classifier_with_skxent_scorers():
    # The search: a Pipeline over CrossEntropyClassifier on a data set
    # that ships with scikit-learn.  Scored on hard labels, the cross entropy of
    # the predictions is the log loss, with or without smoothing in the fit.
    from sklearn.datasets import load_breast_cancer

    from skxent.classifier import CrossEntropyClassifier

    X, y = load_breast_cancer(return_X_y=True)
    grid = {"clf__C": [0.1, 1, 10], "clf__label_smoothing": [0, 0.1]}

    def search(scoring):
        pipe = Pipeline([("scale", StandardScaler()), ("clf", CrossEntropyClassifier())])
        return GridSearchCV(pipe, grid, scoring=scoring, n_jobs=2).fit(X, y)

    ours, ref = search("neg_cross_entropy"), search("neg_log_loss")
    assert_allclose(
        ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-12
    )
    assert_allclose(ours.best_score_, ref.best_score_, rtol=1e-12)
    assert ours.best_params_ == ref.best_params_


def test_incremental_partial_fit_on_a_dask_array_larger_than_one_chunk(client):
    from dask_ml.wrappers import Incremental
    from sklearn.datasets import make_classification

    from skxent.classifier import CrossEntropyClassifier

    X, y = make_classification(
        n_samples=20_000, n_features=20, n_informative=10, n_classes=3, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    full = CrossEntropyClassifier().fit(X, y)
    full_loss = metrics.log_loss(y, full.predict_proba(X))

    dX, dy = da.from_array(X, chunks=2_000), da.from_array(y, chunks=2_000)
    assert dX.numblocks[0] == 10
    inc = Incremental(CrossEntropyClassifier(solver="adam", random_state=0))
    for _ in range(3):  # a few passes over the blocks
        inc.partial_fit(dX, dy, classes=np.unique(y))
    inc_loss = metrics.log_loss(y, inc.estimator_.predict_proba(X))
    assert inc_loss <= 1.02 * full_loss, (inc_loss, full_loss)


def test_reduction_none_applies_the_weights_on_dask_arrays(data):
    proba, _, y, _, sw, _ = data
    expected = metrics.cross_entropy(y, proba, sample_weight=sw, reduction="none")
    got = metrics.cross_entropy(
        _d(y, 3000), _d(proba, 3000), sample_weight=_d(sw, 3000), reduction="none"
    )
    assert_allclose(got, expected, rtol=1e-12)
