"""Tests of CrossEntropyClassifier, its objective (_linear_loss) and solvers."""

import doctest
import pickle
import tracemalloc
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.special import log_softmax
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import skxent.classifier
from skxent._linear_loss import LinearModelLoss
from skxent._solvers import kfac_preconditioner
from skxent.classifier import CrossEntropyClassifier


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """scikit-learn's references run faster and steadier on one BLAS thread."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _standardised(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


DATASETS = {
    "iris": _standardised(load_iris),
    "digits": _standardised(load_digits),
    "breast_cancer": _standardised(load_breast_cancer),
}


def _close(actual, desired, rtol=1e-5):
    """Agreement to ``rtol`` relative to the largest entry."""
    desired = np.asarray(desired)
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max())


# ---------------------------------------------------------------------------
# The seed's example and basic behaviour
# ---------------------------------------------------------------------------


def test_seed_example():
    X, y = [[0], [1]], [0, 1]
    clf = CrossEntropyClassifier().fit(X, y)
    assert_array_equal(clf.predict(X), [0, 1])
    proba = clf.predict_proba(X)
    assert proba[1, 1] > proba[0, 1]
    assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.coef_.shape == (1, 1)
    assert clf.intercept_.shape == (1,)


def test_docstring_examples():
    result = doctest.testmod(skxent.classifier, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_not_fitted():
    with pytest.raises(NotFittedError):
        CrossEntropyClassifier().predict([[0.0]])


# ---------------------------------------------------------------------------
# Same objective as LogisticRegression
# ---------------------------------------------------------------------------

WEIGHTINGS = ["none", "sample_weight", "balanced", "dict", "balanced+sample_weight"]


@pytest.mark.parametrize("name", list(DATASETS))
@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_matches_logistic_regression(name, weighting):
    X, y = DATASETS[name]
    rng = np.random.RandomState(0)
    params, fit_params = {}, {}
    if "sample_weight" in weighting:
        fit_params["sample_weight"] = rng.uniform(0.2, 2.0, size=y.shape[0])
    if "balanced" in weighting:
        params["class_weight"] = "balanced"
    if weighting == "dict":
        params["class_weight"] = {c: 1.0 + 0.5 * c for c in np.unique(y)}
    ref = LogisticRegression(tol=1e-10, max_iter=10_000, **params).fit(X, y, **fit_params)
    clf = CrossEntropyClassifier(tol=1e-10, **params).fit(X, y, **fit_params)
    assert clf.coef_.shape == ref.coef_.shape
    _close(clf.coef_, ref.coef_)
    _close(clf.intercept_, ref.intercept_)
    _close(clf.predict_proba(X), ref.predict_proba(X))
    assert_array_equal(clf.classes_, ref.classes_)


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "newton-cholesky"])
@pytest.mark.parametrize("name", ["iris", "breast_cancer"])
def test_every_solver_matches_logistic_regression(solver, name):
    X, y = DATASETS[name]
    ref = LogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y)
    with warnings.catch_warnings():
        # lbfgs may stop on its relative-decrease test before gtol=1e-10.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = CrossEntropyClassifier(solver=solver, tol=1e-10, max_iter=1000).fit(X, y)
    _close(clf.coef_, ref.coef_)
    _close(clf.intercept_, ref.intercept_)


def test_default_tol_is_close_to_the_optimum():
    X, y = DATASETS["iris"]
    ref = LogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y)
    clf = CrossEntropyClassifier().fit(X, y)
    _close(clf.predict_proba(X), ref.predict_proba(X), rtol=1e-3)


def test_no_penalty_and_no_intercept():
    X, y = make_classification(
        n_samples=300, n_features=5, n_redundant=0, flip_y=0.2, random_state=0
    )
    for fit_intercept in (True, False):
        ref = LogisticRegression(C=np.inf, fit_intercept=fit_intercept, tol=1e-10).fit(X, y)
        clf = CrossEntropyClassifier(C=np.inf, fit_intercept=fit_intercept, tol=1e-10).fit(X, y)
        _close(clf.coef_, ref.coef_)
        _close(clf.intercept_, ref.intercept_)
    assert_array_equal(clf.intercept_, [0.0])


def test_multiclass_no_penalty_is_finite():
    # The softmax Hessian is singular along "shift all classes"; without a
    # penalty the weights have that freedom too.
    X, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=4,
        n_redundant=0,
        n_classes=3,
        flip_y=0.3,
        random_state=0,
    )
    clf = CrossEntropyClassifier(C=np.inf, tol=1e-8).fit(X, y)
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(X, y)
    _close(clf.predict_proba(X), ref.predict_proba(X), rtol=1e-5)


# ---------------------------------------------------------------------------
# Soft targets, label smoothing, multilabel
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["iris", "breast_cancer"])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_one_hot_targets_equal_labels(name, class_weight):
    X, y = DATASETS[name]
    sw = np.random.RandomState(1).uniform(0.5, 1.5, size=y.shape[0])
    k = np.unique(y).shape[0]
    T = np.eye(k)[y]
    a = CrossEntropyClassifier(tol=1e-10, class_weight=class_weight).fit(X, y, sample_weight=sw)
    b = CrossEntropyClassifier(tol=1e-10, class_weight=class_weight).fit(X, T, sample_weight=sw)
    assert b.coef_.shape == a.coef_.shape
    _close(b.coef_, a.coef_, rtol=1e-7)
    _close(b.intercept_, a.intercept_, rtol=1e-7)
    assert_array_equal(b.classes_, np.arange(k))
    assert_array_equal(b.predict(X), a.predict(X))


@pytest.mark.parametrize("name", ["iris", "breast_cancer"])
@pytest.mark.parametrize("class_weight", [None, {0: 2.0, 1: 0.5}])
@pytest.mark.parametrize("eps", [0.05, 0.3])
def test_label_smoothing_equals_smoothed_targets(name, class_weight, eps):
    X, y = DATASETS[name]
    k = np.unique(y).shape[0]
    T = (1 - eps) * np.eye(k)[y] + eps / k
    a = CrossEntropyClassifier(tol=1e-10, label_smoothing=eps, class_weight=class_weight).fit(X, y)
    b = CrossEntropyClassifier(tol=1e-10, class_weight=class_weight).fit(X, T)
    _close(b.coef_, a.coef_, rtol=1e-7)
    _close(b.intercept_, a.intercept_, rtol=1e-7)
    # Smoothing shrinks the confidence.
    plain = CrossEntropyClassifier(tol=1e-10, class_weight=class_weight).fit(X, y)
    assert a.predict_proba(X).max() < plain.predict_proba(X).max()


def test_soft_targets_fit_the_distribution():
    # With a single constant feature, the intercepts reproduce the mean target.
    rng = np.random.RandomState(0)
    T = rng.dirichlet([1.0, 2.0, 3.0], size=400)
    X = np.zeros((400, 1))
    clf = CrossEntropyClassifier(tol=1e-12).fit(X, T)
    assert_allclose(clf.predict_proba(X[:1])[0], T.mean(axis=0), rtol=1e-8)


def test_multilabel_equals_independent_binary_fits():
    X, _ = DATASETS["breast_cancer"]
    rng = np.random.RandomState(0)
    Y = (X[:, :3] + rng.normal(size=(X.shape[0], 3)) > 0).astype(int)
    clf = CrossEntropyClassifier(multilabel=True, tol=1e-10).fit(X, Y)
    assert clf.coef_.shape == (3, X.shape[1])
    assert clf.predict(X).shape == Y.shape
    assert clf.predict_proba(X).shape == Y.shape
    assert_array_equal(clf.classes_, np.arange(3))
    for j in range(3):
        ref = LogisticRegression(tol=1e-10, max_iter=10_000).fit(X, Y[:, j])
        _close(clf.coef_[j], ref.coef_[0])
        _close(clf.intercept_[j], ref.intercept_)
    assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X), rtol=1e-12)
    assert 0 <= clf.score(X, Y) <= 1
    with pytest.raises(ValueError, match="multilabel=True needs y of shape"):
        CrossEntropyClassifier(multilabel=True).fit(X, Y[:, 0])


def test_multilabel_single_label_and_partial_fit():
    X, y = DATASETS["breast_cancer"]
    Y = y[:, None]
    clf = CrossEntropyClassifier(multilabel=True, tol=1e-10).fit(X, Y)
    ref = CrossEntropyClassifier(tol=1e-10).fit(X, y)
    _close(clf.coef_, ref.coef_)
    assert clf.predict(X).shape == (X.shape[0], 1)
    Y2 = np.column_stack([y, 1 - y])
    clf = CrossEntropyClassifier(multilabel=True, random_state=0)
    for Xc, Yc in zip(np.array_split(X, 5), np.array_split(Y2, 5)):
        clf.partial_fit(Xc, Yc)
    assert clf.score(X, Y2) > 0.9


def test_multilabel_class_weight_and_soft_targets():
    X, _ = DATASETS["iris"]
    rng = np.random.RandomState(0)
    P = rng.uniform(size=(X.shape[0], 2))
    a = CrossEntropyClassifier(multilabel=True, class_weight={1: 3.0}, tol=1e-10).fit(X, P)
    b = CrossEntropyClassifier(multilabel=True, tol=1e-10).fit(X, P)
    assert (a.predict_proba(X).mean(axis=0) > b.predict_proba(X).mean(axis=0)).all()
    CrossEntropyClassifier(multilabel=True, class_weight="balanced").fit(X, (P > 0.5))


# ---------------------------------------------------------------------------
# The objective: gradients and Hessians against finite differences
# ---------------------------------------------------------------------------


def _problem(link, targets, dtype, weighting, sparse_X=False, seed=0):
    rng = np.random.RandomState(seed)
    n, d = 60, 4
    X = rng.normal(size=(n, d)).astype(dtype)
    if sparse_X:
        X[rng.uniform(size=X.shape) < 0.5] = 0
        X = sparse.csr_matrix(X)
    k = 3
    if link == "softmax":
        y = rng.dirichlet(np.ones(k), size=n) if targets == "soft" else rng.randint(0, k, n)
        K = k
        cw = rng.uniform(0.5, 2.0, size=k)
    else:
        K = 1 if targets == "binary" else 2
        y = rng.uniform(size=(n, K)) if targets == "soft" else rng.randint(0, 2, (n, K))
        y = y.ravel() if K == 1 else y
        cw = np.array([0.7, 1.6])
    kwargs = dict(link=link, n_outputs=K, C=0.5)
    if weighting in ("sample", "all"):
        kwargs["sample_weight"] = rng.uniform(0.1, 2.0, size=n)
    if weighting in ("class", "all"):
        kwargs["class_weight"] = cw
    if weighting in ("smoothing", "all"):
        kwargs["label_smoothing"] = 0.2
    loss = LinearModelLoss(X, y, **kwargs)
    w = rng.normal(scale=0.5, size=loss.n_dof)
    return loss, w


CASES = [("softmax", "hard"), ("softmax", "soft"), ("sigmoid", "binary"), ("sigmoid", "soft")]


@pytest.mark.parametrize("link,targets", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighting", ["none", "sample", "class", "smoothing", "all"])
def test_gradient_and_hessian_finite_differences(link, targets, dtype, weighting):
    loss, w = _problem(link, targets, dtype, weighting)
    h = 1e-6 if dtype == np.float64 else 1e-2
    rtol = 1e-6 if dtype == np.float64 else 2e-3
    with loss:
        f, g, raw = loss.loss_gradient(w, return_raw=True)
        assert_allclose(f, loss.loss(w), rtol=1e-12)
        eye = np.eye(w.size)
        fd = np.array([(loss.loss(w + h * e) - loss.loss(w - h * e)) / (2 * h) for e in eye])
        assert_allclose(g, fd, rtol=rtol, atol=rtol * np.abs(fd).max())

        hessp = loss.hessp(raw)
        _, _, H = loss.hessian(w)
        assert_allclose(H, H.T)
        v = np.random.RandomState(1).normal(size=w.size)
        Hv = hessp(v)
        assert_allclose(Hv, H @ v, rtol=rtol, atol=rtol * np.abs(Hv).max())
        fd_hv = (loss.loss_gradient(w + h * v)[1] - loss.loss_gradient(w - h * v)[1]) / (2 * h)
        assert_allclose(Hv, fd_hv, rtol=10 * rtol, atol=10 * rtol * np.abs(Hv).max())
        # The preconditioner is symmetric positive definite.
        M = kfac_preconditioner(loss, raw)
        Minv = np.column_stack([M(e) for e in eye])
        assert_allclose(Minv, Minv.T, atol=1e-10 * np.abs(Minv).max())
        assert np.linalg.eigvalsh(0.5 * (Minv + Minv.T)).min() > 0


@pytest.mark.parametrize("link,targets", CASES)
def test_objective_sparse_equals_dense(link, targets):
    loss_s, w = _problem(link, targets, np.float64, "all", sparse_X=True)
    loss_d = LinearModelLoss(
        loss_s.X.toarray(),
        loss_s.y,
        link=loss_s.link,
        n_outputs=loss_s.n_outputs,
        sample_weight=loss_s.kernel_weight * loss_s.total_mass,
        class_weight=loss_s.class_weight,
        label_smoothing=loss_s.label_smoothing,
        C=loss_s.C,
    )
    f_s, g_s, raw = loss_s.loss_gradient(w, return_raw=True)
    f_d, g_d = loss_d.loss_gradient(w)
    assert_allclose(f_s, f_d, rtol=1e-12)
    assert_allclose(g_s, g_d, rtol=1e-10, atol=1e-14)
    assert_allclose(loss_s.hessian(w)[2], loss_d.hessian(w)[2], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("K", [1, 3])
def test_sigmoid_objective_agrees_with_skxent_loss(dtype, K):
    # The objective calls the sigmoid kernel directly (to get the Hessian
    # diagonal with the gradient); skxent.loss is the reference.
    from skxent.loss import hessp, loss_gradient

    rng = np.random.RandomState(0)
    n = 3000
    X = rng.normal(size=(n, 5)).astype(dtype)
    Y = rng.uniform(size=(n, K)) if K > 1 else rng.randint(0, 2, n).astype(float)
    s = rng.uniform(0.5, 2, size=n)
    cw = np.array([0.5, 2.0])
    loss = LinearModelLoss(
        X,
        Y,
        link="sigmoid",
        n_outputs=K,
        sample_weight=s,
        class_weight=cw,
        label_smoothing=0.1,
        C=2.0,
    )
    w = rng.normal(size=loss.n_dof)
    f, g, point = loss.loss_gradient(w, return_raw=True)
    W, b = loss.unpack(w)
    Z = X @ W.astype(dtype) + b.astype(dtype)
    Z = Z[:, 0] if K == 1 else Z
    kw = dict(
        link="sigmoid", sample_weight=s / loss.total_mass, label_smoothing=0.1, class_weight=cw
    )
    ref_loss, ref_G = loss_gradient(Y.astype(dtype), Z, **kw)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert_allclose(f - loss.penalty(w), ref_loss.sum(), rtol=rtol)
    assert_allclose(point.raw, Z, rtol=rtol)
    h_ref = hessp(Y.astype(dtype), Z, np.ones_like(Z), **kw)
    assert_allclose(point.hdiag, h_ref, rtol=rtol)
    gW = X.astype(np.float64).T @ ref_G.reshape(n, K).astype(np.float64) + loss.l2 * W
    assert_allclose(loss.unpack(g)[0], gW, rtol=10 * rtol, atol=10 * rtol * np.abs(gW).max())


@pytest.mark.parametrize("n_classes,n_features", [(2, 2), (3, 40)])
def test_subsampled_hessian(n_classes, n_features):
    # Large n: Hessian products on a strided row sample; the solution is the
    # exact optimum all the same (the gradient is exact).
    X, y = make_classification(
        n_samples=60_000,
        n_features=n_features,
        n_informative=2,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=0,
    )
    K = 1 if n_classes == 2 else n_classes
    link = "sigmoid" if n_classes == 2 else "softmax"
    loss = LinearModelLoss(X, y.astype(float), link=link, n_outputs=K)
    chunks, scale = loss._hessian_sample()
    assert scale > 1 and all(c.step > 1 for c in chunks)
    w = np.random.RandomState(0).normal(scale=0.1, size=loss.n_dof)
    v = np.random.RandomState(1).normal(size=loss.n_dof)
    with loss:
        _, _, point = loss.loss_gradient(w, return_raw=True)
        exact, approx = loss.hessp(point, exact=True)(v), loss.hessp(point)(v)
    assert np.linalg.norm(approx - exact) < 0.1 * np.linalg.norm(exact)
    a = CrossEntropyClassifier(tol=1e-8).fit(X, y)
    b = CrossEntropyClassifier(solver="newton-cholesky", tol=1e-8).fit(X, y)
    _close(a.coef_, b.coef_, rtol=1e-6)
    _close(a.intercept_, b.intercept_, rtol=1e-6)


def test_objective_matches_sklearn_scaling():
    # LogisticRegression's objective: mean weighted loss + ||W||^2 / (2 C sum(s)).
    from sklearn._loss.loss import HalfMultinomialLoss
    from sklearn.linear_model._linear_loss import LinearModelLoss as SkLoss

    X, y = DATASETS["iris"]
    s = np.random.RandomState(0).uniform(0.5, 2, size=y.shape[0])
    C = 0.3
    ours = LinearModelLoss(X, y.astype(float), link="softmax", n_outputs=3, sample_weight=s, C=C)
    coef = np.random.RandomState(1).normal(size=(3, X.shape[1] + 1))
    w = ours.pack(coef[:, :-1], coef[:, -1])
    theirs = SkLoss(HalfMultinomialLoss(n_classes=3), fit_intercept=True)
    f_ref, g_ref = theirs.loss_gradient(
        coef, X, y.astype(float), s, l2_reg_strength=1 / (C * s.sum())
    )
    f, g = ours.loss_gradient(w)
    assert_allclose(f, f_ref, rtol=1e-12)
    W, b = ours.unpack(g)
    assert_allclose(W.T, g_ref[:, :-1], rtol=1e-10, atol=1e-15)
    assert_allclose(b, g_ref[:, -1], rtol=1e-10, atol=1e-15)


def test_chunked_threads_agree():
    X, y = make_classification(
        n_samples=20_000, n_features=30, n_informative=10, n_classes=4, random_state=0
    )
    losses = [
        LinearModelLoss(X, y.astype(float), link="softmax", n_outputs=4, n_threads=t)
        for t in (1, 2)
    ]
    w = np.random.RandomState(0).normal(scale=0.1, size=losses[0].n_dof)
    assert len(losses[0]._chunks) > 1
    results = []
    for loss in losses:
        with loss:
            f, g, raw = loss.loss_gradient(w, return_raw=True)
            results.append((f, g, loss.hessp(raw)(w)))
    for a, b in zip(*results):
        assert_allclose(a, b, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------
# partial_fit, warm_start, stochastic solvers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_partial_fit_ten_chunks_close_to_fit(solver, n_classes):
    X, y = make_classification(
        n_samples=10_000, n_features=20, n_informative=10, n_classes=n_classes, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    full = log_loss(y, CrossEntropyClassifier().fit(X, y).predict_proba(X))
    clf = CrossEntropyClassifier(solver=solver, random_state=0)
    for Xc, yc in zip(np.array_split(X, 10), np.array_split(y, 10)):
        clf.partial_fit(Xc, yc, classes=np.unique(y))
    assert clf.n_iter_[0] == 10
    assert log_loss(y, clf.predict_proba(X)) <= 1.02 * full


def test_partial_fit_checks():
    X, y = DATASETS["iris"]
    clf = CrossEntropyClassifier()
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:10], y[:10], classes=[0, 1, 2])
    assert_array_equal(clf.classes_, [0, 1, 2])
    with pytest.raises(ValueError, match="not the same"):
        clf.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X, y + 1)
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :2], y)
    # "balanced" counts the classes seen so far.
    clf = CrossEntropyClassifier(class_weight="balanced")
    clf.partial_fit(X[y == 0], y[y == 0], classes=[0, 1, 2])
    clf.partial_fit(X, y)
    assert_allclose(clf._partial["class_mass"][0], [100, 50, 50])
    # Soft targets need no classes.
    CrossEntropyClassifier().partial_fit(X, np.eye(3)[y])


def test_partial_fit_after_fit_continues():
    X, y = DATASETS["breast_cancer"]
    clf = CrossEntropyClassifier().fit(X, y)
    before = log_loss(y, clf.predict_proba(X))
    clf.partial_fit(X, y)
    assert log_loss(y, clf.predict_proba(X)) < 1.1 * before


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_stochastic_fit(solver, n_classes):
    X, y = make_classification(
        n_samples=3000, n_features=10, n_informative=6, n_classes=n_classes, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    ref = log_loss(y, CrossEntropyClassifier().fit(X, y).predict_proba(X))
    clf = CrossEntropyClassifier(solver=solver, random_state=0).fit(X, y)
    assert log_loss(y, clf.predict_proba(X)) < 1.02 * ref
    clf2 = CrossEntropyClassifier(solver=solver, random_state=0).fit(X, y)
    assert_array_equal(clf.coef_, clf2.coef_)


def test_warm_start_continues():
    X, y = DATASETS["digits"]
    loss = LinearModelLoss(X, y.astype(float), link="softmax", n_outputs=10)

    def objective(clf):
        return loss.loss(loss.pack(clf.coef_, clf.intercept_))

    clf = CrossEntropyClassifier(solver="lbfgs", max_iter=5, warm_start=True)
    values = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(4):
            clf.fit(X, y)
            values.append(objective(clf))
        cold = CrossEntropyClassifier(solver="lbfgs", max_iter=5).fit(X, y)
    assert all(b < a for a, b in zip(values, values[1:]))
    assert_allclose(objective(cold), values[0])
    # At the optimum, a warm start has nothing left to do.
    clf = CrossEntropyClassifier(warm_start=True, tol=1e-8).fit(X, y)
    coef = clf.coef_.copy()
    clf.fit(X, y)
    assert clf.n_iter_[0] <= 1
    _close(clf.coef_, coef, rtol=1e-6)


@pytest.mark.parametrize("solver", ["auto", "lbfgs", "newton-cg", "newton-cholesky", "sgd", "adam"])
def test_n_iter_and_attributes(solver):
    X, y = DATASETS["iris"]
    clf = CrossEntropyClassifier(solver=solver, random_state=0, max_iter=300).fit(X, y)
    assert clf.n_iter_.shape == (1,) and 1 <= clf.n_iter_[0] <= 300
    assert clf.n_features_in_ == 4
    assert clf.coef_.shape == (3, 4) and clf.intercept_.shape == (3,)
    assert clf.decision_function(X).shape == (150, 3)


def test_auto_solver_choice():
    from skxent._solvers import choose_solver

    assert choose_solver(150, 4, 3, "softmax") == "newton-cholesky"
    assert choose_solver(100_000, 100, 10, "softmax") == "newton-cg"
    assert choose_solver(1_000_000, 20, 1, "sigmoid") == "newton-cg"


def test_convergence_warning():
    X, y = DATASETS["digits"]
    for solver in ["lbfgs", "newton-cg", "newton-cholesky", "sgd", "adam"]:
        with pytest.warns(ConvergenceWarning, match="failed to converge"):
            CrossEntropyClassifier(solver=solver, max_iter=1, tol=1e-12).fit(X[:300], y[:300])


# ---------------------------------------------------------------------------
# Data types and containers
# ---------------------------------------------------------------------------


def test_float32_is_kept_and_not_copied():
    X, y = make_classification(
        n_samples=20_000, n_features=250, n_informative=20, n_classes=3, random_state=0
    )
    X = X.astype(np.float32)
    clf = CrossEntropyClassifier()
    clf.fit(X[:2000], y[:2000])  # warm up imports and caches
    tracemalloc.start()
    try:
        clf.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.25 * X.nbytes, (peak, X.nbytes)
    assert clf.coef_.dtype == np.float32
    assert clf.intercept_.dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float32
    assert clf.decision_function(X).dtype == np.float32
    ref = CrossEntropyClassifier().fit(X.astype(np.float64), y)
    assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "newton-cholesky", "sgd"])
def test_float32_every_solver(solver):
    X, y = DATASETS["iris"]
    clf = CrossEntropyClassifier(solver=solver, random_state=0, max_iter=300)
    clf.fit(X.astype(np.float32), y)
    assert clf.coef_.dtype == np.float32
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_equals_dense(fmt, dtype):
    X, y = DATASETS["iris"]
    X = X.astype(dtype)
    X[np.abs(X) < 0.5] = 0
    Xs = sparse.csr_matrix(X).asformat(fmt)
    fit_tol = 1e-10 if dtype == np.float64 else 1e-6
    a = CrossEntropyClassifier(tol=fit_tol).fit(X, y)
    b = CrossEntropyClassifier(tol=fit_tol).fit(Xs, y)
    assert b.coef_.dtype == dtype
    tol = 1e-6 if dtype == np.float64 else 1e-3
    _close(b.coef_, a.coef_, rtol=tol)
    assert_allclose(b.predict_proba(Xs), a.predict_proba(X), atol=tol)


def test_fortran_and_readonly_input():
    X, y = DATASETS["iris"]
    a = CrossEntropyClassifier(tol=1e-10).fit(X, y)
    XF = np.asfortranarray(X)
    XF.flags.writeable = False
    b = CrossEntropyClassifier(tol=1e-10).fit(XF, y)
    _close(b.coef_, a.coef_, rtol=1e-8)


def test_labels_of_any_type():
    X, y = DATASETS["iris"]
    names = np.array(["setosa", "versicolor", "virginica"])
    clf = CrossEntropyClassifier().fit(X, names[y])
    assert_array_equal(clf.classes_, names)
    assert clf.predict(X).dtype == names.dtype
    assert clf.score(X, names[y]) > 0.9
    ref = CrossEntropyClassifier().fit(X, y)
    assert_allclose(clf.coef_, ref.coef_)
    # Binary booleans, and labels as a list of objects.
    yb = y == 2
    clf = CrossEntropyClassifier().fit(X, yb)
    assert_array_equal(clf.classes_, [False, True])
    clf = CrossEntropyClassifier().fit(X, [("a", "b", "c")[i] for i in y])
    assert clf.predict(X[:1])[0] in ("a", "b", "c")


def test_pandas_frames():
    pd = pytest.importorskip("pandas")
    X, y = DATASETS["iris"]
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = CrossEntropyClassifier().fit(df, pd.Series(y).map({0: "x", 1: "y", 2: "z"}))
    assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    assert_array_equal(clf.classes_, ["x", "y", "z"])
    soft = pd.DataFrame(np.eye(3)[y])
    clf = CrossEntropyClassifier().fit(df, soft)
    assert clf.coef_.shape == (3, 4)
    df32 = df.astype(np.float32)
    assert CrossEntropyClassifier().fit(df32, y).coef_.dtype == np.float32


def test_polars_frames():
    pl = pytest.importorskip("polars")
    X, y = DATASETS["iris"]
    df = pl.DataFrame({name: X[:, j] for j, name in enumerate("abcd")})
    clf = CrossEntropyClassifier().fit(df, y)
    assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    ref = CrossEntropyClassifier().fit(X, y)
    assert_allclose(clf.predict_proba(df), ref.predict_proba(X))


def test_predict_log_proba_is_stable():
    clf = CrossEntropyClassifier().fit([[0.0], [1.0], [2.0]], [0, 1, 2])
    X = np.array([[1e4], [-1e4]])
    lp = clf.predict_log_proba(X)
    assert np.isfinite(lp).all()
    assert_allclose(lp, log_softmax(clf.decision_function(X), axis=1))
    assert lp.min() < -100
    clf = CrossEntropyClassifier().fit([[0.0], [1.0]], [0, 1])
    lp = clf.predict_log_proba(X)
    assert np.isfinite(lp).all() and lp.min() < -100
    z = clf.decision_function(X)
    assert_allclose(lp[:, 1], -np.logaddexp(0, -z))
    assert_allclose(lp[:, 0], -np.logaddexp(0, z))
    # predict_proba keeps tiny probabilities: no 1 - p.
    z = clf.decision_function([[200.0]])
    assert_allclose(clf.predict_proba([[200.0]])[0, 0], np.exp(-np.logaddexp(0, z[0])))


def test_pickle_roundtrip():
    X, y = DATASETS["iris"]
    clf = CrossEntropyClassifier().fit(X, y)
    clone = pickle.loads(pickle.dumps(clf))
    assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))
    clf = CrossEntropyClassifier(solver="sgd", random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    clone = pickle.loads(pickle.dumps(clf))
    clone.partial_fit(X, y)
    clf.partial_fit(X, y)
    assert_array_equal(clone.coef_, clf.coef_)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_bad_input_errors():
    X, y = DATASETS["iris"]
    T = np.eye(3)[y]
    with pytest.raises(ValueError, match="sum to 1"):
        CrossEntropyClassifier().fit(X, 0.9 * T)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        CrossEntropyClassifier().fit(X, 2 * T - 0.5)
    with pytest.raises(ValueError, match="must be numeric"):
        CrossEntropyClassifier().fit(X, np.array([["a", "b"]] * X.shape[0]))
    with pytest.raises(ValueError, match="Negative values"):
        CrossEntropyClassifier().fit(X, y, sample_weight=-np.ones(y.shape[0]))
    with pytest.raises(ValueError, match="non-zero"):
        CrossEntropyClassifier().fit(X, y, sample_weight=np.zeros(y.shape[0]))
    for bad in (1.0, -0.1, 2):
        with pytest.raises(ValueError, match="label_smoothing"):
            CrossEntropyClassifier(label_smoothing=bad).fit(X, y)
    with pytest.raises(ValueError, match="C"):
        CrossEntropyClassifier(C=0).fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        CrossEntropyClassifier().fit(X, np.zeros(y.shape[0]))
    with pytest.raises(ValueError, match="Unknown label type"):
        CrossEntropyClassifier().fit(X, X[:, 0])
    with pytest.raises(ValueError, match="not classes"):
        CrossEntropyClassifier(class_weight={7: 1.0}).fit(X, T)
    with pytest.raises(ValueError, match="sparse y"):
        CrossEntropyClassifier().fit(X, sparse.csr_matrix(T))
    with pytest.raises(ValueError, match="NaN"):
        CrossEntropyClassifier().fit(np.where(X > 2, np.nan, X), y)


# ---------------------------------------------------------------------------
# Progress: verbose and scikit-learn's callbacks
# ---------------------------------------------------------------------------


def test_verbose_prints_each_iteration(capsys):
    X, y = DATASETS["iris"]
    for solver in ["lbfgs", "newton-cg", "newton-cholesky", "sgd"]:
        clf = CrossEntropyClassifier(solver=solver, verbose=1, max_iter=50, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        lines = [line for line in capsys.readouterr().out.splitlines() if "CrossEntropy" in line]
        assert len(lines) == clf.n_iter_[0], solver
        assert "time" in lines[-1]
        if solver != "sgd":
            assert "objective" in lines[-1] and "max|grad|" in lines[-1]


callback = pytest.importorskip("sklearn.callback")


class _Recorder:
    def __init__(self):
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append(("setup", context.task_name))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context.task_name))

    def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None):
        self.calls.append(("begin", context.task_name, fitted_estimator))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.calls.append(("end", context.task_name, fitted_estimator))


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "newton-cholesky", "adam"])
def test_callbacks(solver):
    X, y = DATASETS["iris"]
    rec = _Recorder()
    clf = CrossEntropyClassifier(solver=solver, random_state=0, max_iter=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.set_callbacks(rec).fit(X, y)
    n_iter = clf.n_iter_[0]
    kinds = [c[0] for c in rec.calls]
    assert kinds[0] == "setup" and kinds[-1] == "teardown"
    # The fit task, every iteration, and the empty task begun after the last.
    assert kinds.count("begin") == kinds.count("end") == 1 + n_iter + 1
    ends = [c for c in rec.calls if c[0] == "end" and c[1] in ("iter", "epoch")]
    assert all(c[2] is not None for c in ends[:-1]) and ends[-1][2] is None
    # The estimator of the last iteration predicts like the fitted one.
    last = ends[-2][2]
    assert_allclose(last.predict_proba(X), clf.predict_proba(X))


def test_scoring_monitor():
    X, y = DATASETS["breast_cancer"]
    monitor = callback.ScoringMonitor(scoring="neg_log_loss")
    clf = CrossEntropyClassifier().set_callbacks(monitor).fit(X, y)
    logs = monitor.get_logs()
    scores = [row["neg_log_loss"] for row in logs.data if "neg_log_loss" in row]
    assert len(scores) >= clf.n_iter_[0]
    assert scores[-1] == pytest.approx(-log_loss(y, clf.predict_proba(X)))


def test_progress_bar(capsys):
    pytest.importorskip("rich")
    X, y = DATASETS["iris"]
    clf = CrossEntropyClassifier().set_callbacks(callback.ProgressBar()).fit(X, y)
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "newton-cholesky", "sgd"])
def test_convergence_warning_points_at_the_users_call(solver):
    X, y = DATASETS["iris"]
    with pytest.warns(ConvergenceWarning, match="failed to converge") as record:
        CrossEntropyClassifier(solver=solver, max_iter=1, tol=1e-12, C=100.0).fit(X, y)
    assert [w.filename for w in record] == [__file__]


def test_unaligned_X_is_fitted_on_an_aligned_copy_and_left_unchanged():
    # An array read from a network buffer (a dask compute(), for one) can
    # start at any byte; numpy multiplies it without BLAS, several times
    # slower.  The objective works on an aligned copy; the fit is the same.
    X, y = make_classification(2000, 6, n_informative=4, n_classes=3, random_state=0)
    raw = bytearray(X.nbytes + 3)
    unaligned = np.frombuffer(raw, dtype=np.float64, count=X.size, offset=3).reshape(X.shape)
    unaligned[...] = X
    before = bytes(raw)
    assert not unaligned.flags.aligned
    loss = LinearModelLoss(unaligned, y, link="softmax", n_outputs=3)
    assert loss.X.flags.aligned
    assert_array_equal(loss.X, X)
    ref = CrossEntropyClassifier(tol=1e-10).fit(X, y)
    got = CrossEntropyClassifier(tol=1e-10).fit(unaligned, y)
    assert_array_equal(got.coef_, ref.coef_)
    assert_array_equal(got.predict_proba(unaligned), ref.predict_proba(X))
    assert bytes(raw) == before
