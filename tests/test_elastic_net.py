"""Elastic-net and L1: l1_ratio in CrossEntropyClassifier, and the newton-cd solver.

The reference optimum is scikit-learn's ``LogisticRegression(solver="saga")``
run to tol=1e-12 on small data: the same objective,
``C sum_i s_i l_i + (1 - l1_ratio)/2 ||W||^2 + l1_ratio ||W||_1``.  The
optimality conditions are checked directly: the subgradient of least norm,
computed here from a gradient taken by finite differences of the objective,
not by the code under test.
"""

import io
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skxent import CrossEntropyClassifier

RATIOS = [0.1, 0.5, 1.0]


def _data(n_classes, n=240, d=12, seed=0):
    X, y = make_classification(
        n, d, n_informative=5, n_redundant=1, n_classes=n_classes,
        n_clusters_per_class=1, random_state=seed,
    )  # fmt: skip
    return StandardScaler().fit_transform(X), y


def _objective(X, y, coef, intercept, C, l1_ratio, sample_weight=None):
    """scikit-learn's elastic-net objective, computed here from scratch."""
    s = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight)
    Z = np.asarray(X @ np.asarray(coef).T) + intercept
    classes = np.unique(y)
    if Z.shape[1] == 1:
        z = Z[:, 0]
        t = (y == classes[1]).astype(float)
        loss = np.logaddexp(0, z) - t * z
    else:
        idx = np.searchsorted(classes, y)
        loss = np.logaddexp.reduce(Z, axis=1) - Z[np.arange(len(y)), idx]
    W = np.asarray(coef)
    penalty = (1 - l1_ratio) / 2 * np.sum(W**2) + l1_ratio * np.abs(W).sum()
    return C * float(s @ loss) + penalty


def _smooth_gradient(X, y, coef, intercept, C, l1_ratio, sample_weight=None, h=1e-6):
    """The gradient of the smooth part (loss and L2 term) at coef, by central
    differences, scaled as the estimator's tol (divided by C times the weight),
    together with the scaled L1 strength."""
    s = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight)
    coef = np.asarray(coef, dtype=float)

    def smooth(c):
        return _objective(X, y, c, intercept, C, 0.0, sample_weight) - (
            l1_ratio / 2 * np.sum(c**2)
        )

    g = np.zeros_like(coef)
    for index in np.ndindex(coef.shape):
        e = np.zeros_like(coef)
        e[index] = h
        g[index] = (smooth(coef + e) - smooth(coef - e)) / (2 * h)
    scale = C * s.sum()
    return g / scale, l1_ratio / scale


def _violation(X, y, coef, intercept, C, l1_ratio, sample_weight=None):
    """Largest entry of the least-norm subgradient."""
    g, l1 = _smooth_gradient(X, y, coef, intercept, C, l1_ratio, sample_weight)
    coef = np.asarray(coef)
    sub = np.where(
        coef != 0, g + l1 * np.sign(coef), np.sign(g) * np.maximum(np.abs(g) - l1, 0.0)
    )
    return float(np.abs(sub).max())


def _forced_zeros(X, y, coef, intercept, C, l1_ratio, sample_weight=None):
    """Where the optimality conditions put a coefficient strictly at zero:
    its smooth gradient is well inside [-l1, l1]."""
    g, l1 = _smooth_gradient(X, y, coef, intercept, C, l1_ratio, sample_weight)
    return np.abs(g) < l1 * (1 - 1e-4)


def _check_saga_optimum(X, y, ours, C, l1_ratio, sw):
    """ours reaches saga's optimum (run to tol 1e-12): the same objective to
    1e-8, the optimality conditions to 1e-6, and exact zeros where they put
    a coefficient strictly at zero.  Returns saga's fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        saga = LogisticRegression(
            solver="saga", l1_ratio=l1_ratio, C=C, tol=1e-12, max_iter=20_000
        ).fit(X, y, sample_weight=sw)
    f_ours = _objective(X, y, ours.coef_, ours.intercept_, C, l1_ratio, sw)
    f_saga = _objective(X, y, saga.coef_, saga.intercept_, C, l1_ratio, sw)
    assert f_ours <= f_saga * (1 + 1e-8)
    assert f_saga <= f_ours * (1 + 1e-8)
    assert _violation(X, y, ours.coef_, ours.intercept_, C, l1_ratio, sw) <= 1e-6
    # Real sparsity: where the optimality conditions put a coefficient strictly
    # at zero, it is exactly 0.0, not 1e-12.
    forced = _forced_zeros(X, y, ours.coef_, ours.intercept_, C, l1_ratio, sw)
    assert forced.any()
    assert_array_equal(ours.coef_[forced], 0.0)
    return saga


@pytest.mark.parametrize("l1_ratio", RATIOS)
@pytest.mark.parametrize("n_classes", [2, 4, 10])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
def test_same_optimum_as_saga(l1_ratio, n_classes, fmt, weighted):
    X, y = _data(n_classes, n=300 if n_classes == 10 else 240)
    sw = np.random.default_rng(1).uniform(0.5, 2, X.shape[0]) if weighted else None
    C = 0.1
    Xf = sparse.csr_matrix(X) if fmt == "csr" else X
    ours = CrossEntropyClassifier(l1_ratio=l1_ratio, C=C, tol=1e-10).fit(Xf, y, sample_weight=sw)
    saga = _check_saga_optimum(X, y, ours, C, l1_ratio, sw)
    if l1_ratio < 1 or n_classes == 2:
        # The minimiser is unique (with pure L1, softmax's shift along all
        # classes of a feature is not): the same zeros as saga.
        assert_array_equal(ours.coef_ == 0, saga.coef_ == 0)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_sparse_index_dtypes_give_the_same_fit(n_classes):
    # newton-cd reads scipy's int32 or int64 indices as they are: the same
    # bits either way, and the optimum saga finds.
    X, y = _data(n_classes, n=240)
    X32 = sparse.csr_matrix(X)
    X64 = X32.copy()
    X64.indices, X64.indptr = X64.indices.astype(np.int64), X64.indptr.astype(np.int64)
    fits = [
        CrossEntropyClassifier(l1_ratio=0.5, C=0.1, tol=1e-10, solver="newton-cd").fit(Xs, y)
        for Xs in (X32, X64)
    ]
    assert_array_equal(fits[0].coef_, fits[1].coef_)
    assert_array_equal(fits[0].intercept_, fits[1].intercept_)
    _check_saga_optimum(X, y, fits[1], 0.1, 0.5, None)


def test_exact_zeros_where_the_conditions_ask():
    X, y = _data(4, n=400, d=30, seed=3)
    clf = CrossEntropyClassifier(l1_ratio=1.0, C=0.2, tol=1e-10).fit(X, y)
    zero = clf.coef_ == 0.0
    assert 0.2 < zero.mean() < 0.95  # a good part, not all
    assert not np.any(np.abs(clf.coef_[~zero]) < 1e-12)  # no 1e-15 "zeros"


def test_multilabel_is_one_binary_fit_per_label():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    Y = (X @ rng.normal(size=(6, 3)) + rng.normal(size=(300, 3)) > 0).astype(int)
    multi = CrossEntropyClassifier(multilabel=True, l1_ratio=0.7, C=0.2, tol=1e-10).fit(X, Y)
    for label in range(3):
        one = CrossEntropyClassifier(l1_ratio=0.7, C=0.2, tol=1e-10).fit(X, Y[:, label])
        assert_allclose(multi.coef_[label], one.coef_[0], rtol=1e-6, atol=1e-9)
        assert_array_equal(multi.coef_[label] == 0, one.coef_[0] == 0)


@pytest.mark.parametrize("fmt", ["dense", "csc"])
def test_float32_kept_and_close_to_float64(fmt):
    X, y = _data(3, n=300, d=12)
    X32 = X.astype(np.float32)
    if fmt == "csc":
        X32 = sparse.csc_matrix(X32)
    a = CrossEntropyClassifier(l1_ratio=0.5, C=0.5, tol=1e-6).fit(X32, y)
    b = CrossEntropyClassifier(l1_ratio=0.5, C=0.5, tol=1e-8).fit(X, y)
    assert a.coef_.dtype == np.float32
    f_a = _objective(X, y, a.coef_, a.intercept_, 0.5, 0.5)
    f_b = _objective(X, y, b.coef_, b.intercept_, 0.5, 0.5)
    assert f_a == pytest.approx(f_b, rel=1e-5)


def test_soft_targets_smoothing_and_class_weights_are_optimal():
    # No reference implementation: the optimality conditions are the check,
    # and the soft-target fit of one-hot targets is the label fit.
    X, y = _data(3, n=300, d=8)
    T = np.eye(3)[y]
    labels = CrossEntropyClassifier(l1_ratio=0.5, C=0.5, tol=1e-10).fit(X, y)
    soft = CrossEntropyClassifier(l1_ratio=0.5, C=0.5, tol=1e-10).fit(X, T)
    assert_allclose(soft.coef_, labels.coef_, rtol=1e-7, atol=1e-10)
    for kwargs in ({"label_smoothing": 0.1}, {"class_weight": {0: 2.0, 1: 0.5}}):
        clf = CrossEntropyClassifier(l1_ratio=0.5, C=0.5, tol=1e-9, **kwargs).fit(X, y)
        ref = CrossEntropyClassifier(
            l1_ratio=0.5, C=0.5, solver="sgd", max_iter=300, random_state=0, **kwargs
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ref.fit(X, y)
        # the stochastic fit of the same objective is no better
        from skxent._linear_loss import LinearModelLoss
        from skxent._validation import fit_targets

        targets = fit_targets(y, class_weight=kwargs.get("class_weight"))
        obj = LinearModelLoss.from_targets(
            X, targets, label_smoothing=kwargs.get("label_smoothing", 0.0), C=0.5, l1_ratio=0.5
        )

        def F(model, obj=obj):
            w = obj.pack(model.coef_, model.intercept_)
            return obj.loss(w) + obj.l1_penalty(w)

        assert F(clf) <= F(ref) + 1e-12


def test_c_inf_ignores_l1_ratio():
    X, y = _data(2)
    a = CrossEntropyClassifier(C=np.inf, l1_ratio=0.5, tol=1e-10).fit(X, y)
    b = CrossEntropyClassifier(C=np.inf, tol=1e-10).fit(X, y)
    assert_allclose(a.coef_, b.coef_, rtol=1e-6)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-0.1, 1.5, np.nan, "half"])
def test_l1_ratio_outside_the_unit_interval(bad):
    X, y = _data(2)
    with pytest.raises((ValueError, TypeError), match="l1_ratio"):
        CrossEntropyClassifier(l1_ratio=bad).fit(X, y)


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "newton-cholesky"])
def test_a_solver_without_l1_is_refused_not_replaced(solver):
    X, y = _data(2)
    with pytest.raises(ValueError, match=rf"solver='{solver}'.*l1_ratio=0\.5"):
        CrossEntropyClassifier(solver=solver, l1_ratio=0.5).fit(X, y)
    CrossEntropyClassifier(solver=solver, l1_ratio=0.0).fit(X, y)  # L2 is fine


# ---------------------------------------------------------------------------
# Streaming, sparsify, progress
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_with_l1_is_sparse_and_close(solver):
    X, y = make_classification(6000, 30, n_informative=5, n_classes=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    C, r = 0.05, 1.0
    full = CrossEntropyClassifier(l1_ratio=r, C=C, tol=1e-8).fit(X, y)
    clf = CrossEntropyClassifier(l1_ratio=r, C=C, solver=solver, random_state=0)
    for _ in range(3):
        for Xc, yc in zip(np.array_split(X, 6), np.array_split(y, 6)):
            clf.partial_fit(Xc, yc, classes=np.unique(y))
    assert (clf.coef_ == 0).mean() >= 0.5 * (full.coef_ == 0).mean() > 0
    f_full = _objective(X, y, full.coef_, full.intercept_, C, r)
    f_stream = _objective(X, y, clf.coef_, clf.intercept_, C, r)
    assert f_stream <= 1.05 * f_full


def test_sparsify_and_densify():
    X, y = _data(4, n=300, d=20)
    clf = CrossEntropyClassifier(l1_ratio=1.0, C=0.05, tol=1e-10).fit(X, y)
    dense_proba = clf.predict_proba(X)
    coef = clf.coef_.copy()
    assert clf.sparsify() is clf
    assert sparse.issparse(clf.coef_) and clf.coef_.nnz == np.count_nonzero(coef)
    assert_allclose(clf.predict_proba(X), dense_proba, rtol=1e-12)
    assert_array_equal(clf.predict(X), dense_proba.argmax(axis=1))
    clf.densify()
    assert isinstance(clf.coef_, np.ndarray)
    assert_array_equal(clf.coef_, coef)
    # warm start from a sparsified model: the same optimum.  With an even
    # number of classes the L1 optimum is a set: shifting a feature's
    # coefficients of every class by one amount changes no probability, and
    # the L1 norm not within the middle pair of them, so the warm fit may
    # land elsewhere in it (it did once the kernels' last bits changed).
    clf.set_params(warm_start=True).sparsify().fit(X, y)
    assert_allclose(clf.predict_proba(X), dense_proba, rtol=1e-6)
    shift = np.asarray(clf.coef_.todense() if sparse.issparse(clf.coef_) else clf.coef_) - coef
    assert_allclose(shift, np.broadcast_to(shift.mean(axis=0), shift.shape), atol=1e-8)
    assert_allclose(np.abs(clf.coef_).sum(), np.abs(coef).sum(), rtol=1e-7)


def test_verbose_prints_the_optimality_violation():
    X, y = _data(3)
    out = io.StringIO()
    with redirect_stdout(out):
        clf = CrossEntropyClassifier(l1_ratio=0.5, verbose=1, tol=1e-8).fit(X, y)
    lines = [line for line in out.getvalue().splitlines() if "iter" in line]
    assert len(lines) == clf.n_iter_[0]
    last = float(lines[-1].split("max|grad|")[1].split()[0])
    assert last <= 1e-8


@pytest.mark.parametrize(
    "n_classes, l1_ratio, weighted, n, d",
    [
        (2, 0.5, True, 12_000, 8),
        (3, 1.0, False, 12_000, 8),
        (2, 1.0, False, 45_000, 8),
        (3, 0.5, True, 45_000, 90),
    ],
)
def test_formed_hessian_on_many_rows_reaches_saga_optimum(n_classes, l1_ratio, weighted, n, d):
    # 12 000 rows and few coefficients: newton-cd forms its Hessian (from a row
    # sample where the rows are many) and runs coordinate descent on it; the
    # same optimum, optimality conditions and exact zeros as above.  More than
    # 256 coefficients (3 x 91): only where the Hessian comes from a sample.
    from skxent._linear_loss import LinearModelLoss
    from skxent._solvers import explicit_suits

    X, y = _data(n_classes, n=n, d=d, seed=5)
    sw = np.random.default_rng(2).uniform(0.5, 2, X.shape[0]) if weighted else None
    link, K = ("softmax", n_classes) if n_classes > 2 else ("sigmoid", 1)
    loss = LinearModelLoss(X, y if K > 1 else y.astype(float), link=link, n_outputs=K)
    assert explicit_suits(loss)
    # 45 000 rows: the Hessian from every 2nd row (the gradient from all).
    assert (loss._hessian_sample()[0] is not loss._chunks) == (n >= 40_000)
    if loss.n_dof > 256:  # the same model on fewer rows: sweeps over the columns
        fewer = slice(0, 12_000)
        assert not explicit_suits(LinearModelLoss(X[fewer], y[fewer], link=link, n_outputs=K))
    C = 0.002
    ours = CrossEntropyClassifier(l1_ratio=l1_ratio, C=C, tol=1e-10).fit(X, y, sample_weight=sw)
    _check_saga_optimum(X, y, ours, C, l1_ratio, sw)


@pytest.mark.parametrize("l2", [0.0, 0.3])
@pytest.mark.parametrize("K", [3, 10])
def test_class_shift_is_the_exact_minimum_along_the_flat_direction(l2, K):
    # newton-cd's step along "the same number added to every class of a
    # feature": the minimum of l2 K t^2/2 + b t + l1 sum_c |v_c + t|, against
    # scipy's bounded scalar minimisation of that function, feature by feature;
    # features with a class outside the working set do not move.
    from scipy.optimize import minimize_scalar

    from skxent._solvers import _ClassShift

    rng = np.random.default_rng(K)
    d, l1 = 40, 0.7
    Wt = rng.normal(size=(K, d))
    Wt[:, 5:15] = 0.0  # kinks at zero, all tied
    Wt[: K // 2, 15:20] = 1.5  # half the classes tied
    Gt = rng.normal(scale=2.0, size=(K, d))
    if l2 == 0.0:  # a softmax gradient sums to 0 over the classes: phi is bounded
        Gt -= Gt.mean(axis=0)
    D = rng.normal(scale=0.5, size=(K, d))
    D[:, 5:10] = 0.0
    active = np.ones((K, d), dtype=bool)
    active[0, 30:] = False
    before = D.copy()
    _ClassShift(Wt, Gt, active, l1, l2)((D,))
    assert_array_equal(D[:, 30:], before[:, 30:])
    for j in range(30):
        v, b = Wt[:, j] + before[:, j], float((Gt[:, j] + l2 * before[:, j]).sum())

        def phi(t, v=v, b=b):
            return 0.5 * l2 * K * t * t + b * t + l1 * np.abs(v + t).sum()

        span = np.abs(v).max() + abs(b) / l1 + 1.0
        ref = minimize_scalar(phi, bounds=(-span, span), method="bounded",
                              options={"xatol": 1e-12})  # fmt: skip
        t = D[:, j] - before[:, j]
        assert np.ptp(t) <= 1e-12 * (1 + np.abs(t).max())  # one shift for all classes
        assert phi(t[0]) <= min(ref.fun, phi(0.0)) + 1e-9


@pytest.mark.parametrize("link, K", [("softmax", 4), ("sigmoid", 3)])
def test_sweep_extrapolation_is_the_exact_minimum_along_the_last_change(link, K):
    # After a sweep, newton-cd minimises its model along the sweep's change:
    # the step found is the minimum of the model (evaluated from X, D and the
    # intercepts directly) along that line, by scipy's scalar minimisation;
    # the scores' change U and m follow the step exactly.
    from scipy.optimize import minimize_scalar

    from skxent._linear_loss import LinearModelLoss
    from skxent._solvers import _curvature, _Model, _SweepExtrapolation

    X, y = _data(K if link == "softmax" else 2, n=120, d=7, seed=4)
    rng = np.random.default_rng(0)
    Y = y if link == "softmax" else (rng.uniform(size=(len(y), K)) < 0.4).astype(float)
    loss = LinearModelLoss(X, Y, link=link, n_outputs=K, C=0.5, l1_ratio=0.6)
    w = rng.normal(scale=0.3, size=loss.n_dof)
    W, b = loss.unpack(w)
    W[rng.uniform(size=W.shape) < 0.3] = 0.0
    f, g, point = loss.loss_gradient(w, return_raw=True)
    G, gb = loss.unpack(g)
    Q, R, P = _curvature(loss, point)
    Wt, Gt = np.ascontiguousarray(W.T), np.ascontiguousarray(G.T)
    model = _Model(loss, Q, P, Gt, gb, Wt, loss.l1, loss.l2, np.arange(K * 7))

    def state(D, Db):
        U = D @ X.T + Db[:, None]
        m = (P * U).sum(axis=0) if link == "softmax" else np.zeros(X.shape[0])
        return [D.copy(), Db.copy(), U, m]

    def value(D, Db):
        return model.value(*state(D, Db))

    D0, Db0 = rng.normal(scale=0.2, size=(K, 7)), rng.normal(scale=0.1, size=K)
    D1, Db1 = D0 + rng.normal(scale=0.1, size=(K, 7)), Db0 + rng.normal(scale=0.05, size=K)
    D1[0, :3] = -Wt[0, :3]  # coordinates at exactly zero: kinks on the line
    # The model itself against the formed Hessian (l2 included):
    # g.d + d H d / 2 + l1 |W + D|_1, d the step in w's layout.
    _, _, H = loss.hessian(w)
    d_flat = loss.pack(D1, Db1)
    expected = g @ d_flat + 0.5 * d_flat @ H @ d_flat + loss.l1 * np.abs(W + D1.T).sum()
    assert_allclose(value(D1, Db1), expected, rtol=1e-12)
    step = _SweepExtrapolation(model, Q, loss.l1, loss.l2)
    step(state(D0, Db0))
    current = state(D1, Db1)
    step(current)
    dD, dDb = D1 - D0, Db1 - Db0
    t = float(np.mean((current[0] - D1)[dD != 0] / dD[dD != 0]))
    assert_allclose(current[0], D1 + t * dD, rtol=0, atol=1e-12)
    assert_allclose(current[1], Db1 + t * dDb, rtol=0, atol=1e-12)
    exact = state(current[0], current[1])
    assert_allclose(current[2], exact[2], rtol=0, atol=1e-10)
    assert_allclose(current[3], exact[3], rtol=0, atol=1e-10)
    ref = minimize_scalar(lambda s: value(D1 + s * dD, Db1 + s * dDb), bounds=(-20, 20),
                          method="bounded", options={"xatol": 1e-10})  # fmt: skip
    assert value(current[0], current[1]) <= ref.fun + 1e-12 * abs(ref.fun)
    assert value(current[0], current[1]) <= value(D1, Db1)

    # With caps on the coordinates' moves, the step along the line keeps to
    # them: |t dD_k| <= cap_k, tight for one coordinate when they bind.
    caps = np.full(7, 1e-3)
    capped = _Model(loss, Q, P, Gt, gb, Wt, loss.l1, loss.l2, np.arange(K * 7), caps)
    step = _SweepExtrapolation(capped, Q, loss.l1, loss.l2)
    step(state(D0, Db0))
    current = state(D1, Db1)
    step(current)
    moved = np.abs(current[0] - D1)
    assert moved.max() <= 1e-3 * (1 + 1e-9)
    assert np.isclose(moved.max(), 1e-3)


def test_working_set_keeps_the_nonzeros_and_the_worst_violators():
    from skxent._solvers import _WORKING_SET_MIN, _working_set

    rng = np.random.default_rng(3)
    K, d, l1 = 3, 2000, 0.5
    Wt = np.where(rng.uniform(size=(K, d)) < 0.1, rng.normal(size=(K, d)), 0.0)
    Gt = rng.normal(size=(K, d))
    ws = _working_set(Wt, Gt, l1)
    nonzero = Wt != 0
    violators = ~nonzero & (np.abs(Gt) > l1)
    size = max(2 * nonzero.sum(), _WORKING_SET_MIN)
    assert violators.sum() + nonzero.sum() > size  # the case where it chooses
    assert ws.sum() == size
    assert ws[nonzero].all()
    assert not ws[~nonzero & ~violators].any()
    # The violators taken are the worst: none left out is worse than one taken.
    taken = np.abs(Gt)[ws & violators]
    left = np.abs(Gt)[~ws & violators]
    assert left.max() <= taken.min()
    # Few violators: all of them.
    Gs = np.where(nonzero, Gt, 0.1 * Gt)
    assert_array_equal(_working_set(Wt, Gs, l1), nonzero | (np.abs(Gs) > l1))


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_small_working_sets_reach_saga_optimum(fmt, monkeypatch):
    # Working sets of at most max(2 nnz, 5) coordinates instead of 1000: the
    # outer iterations take in the worst violators until none is left.
    import skxent._solvers as solvers

    sizes = []
    choose = solvers._working_set

    def spy(Wt, Gt, l1):
        ws = choose(Wt, Gt, l1)
        sizes.append((int(ws.sum()), int(((Wt != 0) | (np.abs(Gt) > l1)).sum())))
        return ws

    monkeypatch.setattr(solvers, "_WORKING_SET_MIN", 5)
    monkeypatch.setattr(solvers, "_working_set", spy)
    X, y = _data(4, n=300, d=30, seed=7)
    Xf = sparse.csr_matrix(X) if fmt == "csr" else X
    ours = CrossEntropyClassifier(l1_ratio=1.0, C=0.1, tol=1e-10).fit(Xf, y)
    assert sizes[0][0] < sizes[0][1]  # the first step on a part of the violators
    _check_saga_optimum(X, y, ours, 0.1, 1.0, None)


@pytest.mark.parametrize("index", [np.int32, np.intp])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_working_curvatures_against_scipy_products(dtype, index):
    # newton-cd's curvatures on a sparse X, for the working set's columns only:
    # the entries of scipy's (X^2)^T R and X^T R there, the rest untouched.
    from skxent._cd import working_curvatures

    rng = np.random.default_rng(5)
    n, d, K = 200, 40, 3
    X = sparse.random(n, d, density=0.2, format="csc", random_state=1, dtype=dtype)
    X.sort_indices()
    R = rng.uniform(size=(K, n))
    active = rng.uniform(size=(K, d)) < 0.4
    coord_ptr = np.concatenate([[0], np.cumsum(active.sum(axis=1))]).astype(np.intp)
    coord_feat = np.nonzero(active)[1].astype(np.intp)
    A, Hwb = np.full((K, d), -1.0), np.full((K, d), -1.0)
    working_curvatures(X.data, X.indices.astype(index), X.indptr.astype(index), R,
                       coord_ptr, coord_feat, 0.25, A, Hwb)  # fmt: skip
    X64 = X.astype(np.float64)
    assert_allclose(A[active], ((X64.multiply(X64)).T @ R.T).T[active] + 0.25, rtol=1e-12)
    assert_allclose(Hwb[active], (X64.T @ R.T).T[active], rtol=1e-12)
    assert_array_equal(A[~active], -1.0)
    assert_array_equal(Hwb[~active], -1.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_working_curvatures_against_numpy_products(dtype):
    # Dense X: the working set's curvatures, the entries of numpy's (X^2)^T R
    # and X^T R there (the rest untouched), the same bits on any threads.
    from skxent._cd import dense_working_curvatures

    rng = np.random.default_rng(6)
    n, d, K = 1001, 30, 4
    X = np.asfortranarray(rng.normal(size=(n, d)).astype(dtype))
    R = rng.uniform(size=(K, n))
    active = rng.uniform(size=(K, d)) < 0.4
    coords = np.flatnonzero(active)
    runs = []
    for threads, order in ((1, coords), (2, coords[np.argsort(coords % d)]), (3, coords[::-1])):
        A, Hwb = np.full((K, d), -1.0), np.full((K, d), -1.0)
        dense_working_curvatures(X, R, np.ascontiguousarray(order), 0.25, A, Hwb, threads)
        runs.append((A, Hwb))
    X64 = X.astype(np.float64)
    A, Hwb = runs[0]
    assert_allclose(A[active], ((X64**2).T @ R.T).T[active] + 0.25, rtol=1e-12)
    assert_allclose(Hwb[active], (X64.T @ R.T).T[active], rtol=1e-10, atol=1e-12)
    assert_array_equal(A[~active], -1.0)
    assert_array_equal(Hwb[~active], -1.0)
    for other in runs[1:]:
        assert_array_equal(other[0], A)
        assert_array_equal(other[1], Hwb)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_curvatures_against_scipy(dtype):
    from scipy.special import softmax
    from skxent._cd import softmax_curvatures

    rng = np.random.default_rng(7)
    n, K = 2003, 5
    raw = (rng.normal(size=(n, K)) * 30).astype(dtype)  # saturated rows included
    s = rng.uniform(0.1, 2.0, n)
    P_ref = softmax(raw.astype(np.float64), axis=1).T
    runs = []
    for threads in (1, 2, 3):
        P, Q, R = (np.full((K, n), np.nan) for _ in range(3))
        softmax_curvatures(raw, s, P, Q, R, threads)
        runs.append((P, Q, R))
    P, Q, R = runs[0]
    assert_allclose(P, P_ref, rtol=1e-13, atol=1e-300)
    assert_allclose(Q, P_ref * s, rtol=1e-13, atol=1e-300)
    assert_allclose(R, P_ref * s * (1 - P_ref), rtol=1e-12, atol=1e-300)
    for other in runs[1:]:
        for a, b in zip(other, runs[0]):
            assert_array_equal(a, b)


@pytest.mark.parametrize("K, softmax", [(5, True), (3, False)])
def test_between_sweep_passes_against_numpy(K, softmax):
    # The passes over the scores' change between sweeps (extrapolation,
    # Anderson acceleration), over blocks of rows on the threads: numpy's
    # formulas, the same bits on 1, 2 and 3 threads (rows enough for the
    # threads; fewer, on one thread; fewer than the blocks, some empty).
    from skxent._cd import (
        BLOCKED_ROWS,
        combine_iterates,
        extrapolate,
        extrapolation_terms,
        model_quadratic,
        store_iterate,
    )  # fmt: skip

    rng = np.random.default_rng(8)
    for n in (BLOCKED_ROWS + 13, 1001, 3):
        Q = rng.uniform(size=(K, n))
        U, U0 = rng.normal(size=(K, n)), rng.normal(size=(K, n))
        m, m0 = rng.normal(size=n), rng.normal(size=n)
        s = rng.uniform(0.5, 2.0, n) if softmax else np.empty(0)
        sm = s if softmax else np.zeros(n)
        dU, dm = U - U0, m - m0
        g_ref = float(np.sum(dU * Q * (U - m)))
        h_ref = float(np.sum(Q * dU**2) - np.sum(sm * dm**2))
        quad_ref = float(np.sum(Q * U**2) - np.sum(sm * m**2))
        H = rng.normal(size=(4, K + 1, n))
        coef = rng.normal(size=4)
        runs = []
        for threads in (1, 2, 3):
            g, h = extrapolation_terms(Q, U, U0, m, m0, s, threads)
            quad = model_quadratic(Q, U, m, s, threads)
            stored = np.full((K + 1, n), np.nan)
            store_iterate(U, m, stored, threads)
            combined = np.full((K + 1, n), np.nan)
            combine_iterates(coef, H, combined, threads)
            U1, U01, m1, m01 = U.copy(), U0.copy(), m.copy(), m0.copy()
            extrapolate(U1, U01, m1, m01, 0.7, threads)
            # t = 0: a copy into U0 and m0, U and m untouched (-0.0 included).
            Uz, U0z, mz, m0z = U.copy(), U0.copy(), m.copy(), m0.copy()
            Uz[0, 0], mz[0] = -0.0, -0.0
            extrapolate(Uz, U0z, mz, m0z, 0.0, threads)
            for a, b in ((Uz, U0z), (mz, m0z)):
                assert_array_equal(a, b)
                assert np.signbit(a.flat[0]) and np.signbit(b.flat[0])
            assert_array_equal(Uz[1:], U[1:])
            runs.append((np.array([g, h, quad]), stored, combined, U1, U01, m1, m01))
        g, h, quad = runs[0][0]
        assert_allclose([g, h, quad], [g_ref, h_ref, quad_ref], rtol=1e-11)
        stored, combined, U1, U01, m1, m01 = runs[0][1:]
        assert_array_equal(stored, np.vstack([U, m]))
        assert_allclose(combined, np.tensordot(coef, H, axes=1), rtol=1e-12, atol=1e-12)
        assert_allclose(U1, U + 0.7 * dU, rtol=1e-14)
        assert_allclose(m1, m + 0.7 * dm, rtol=1e-14)
        assert_array_equal(U01, U1)
        assert_array_equal(m01, m1)
        for other in runs[1:]:
            for a, b in zip(other, runs[0]):
                assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fortran_copy_against_numpy(dtype):
    from skxent._cd import fortran_copy

    X = np.random.default_rng(9).normal(size=(1003, 21)).astype(dtype)
    for threads in (1, 2, 3):
        out = np.full(X.shape, np.nan, dtype=dtype, order="F")
        fortran_copy(X, out, threads)
        assert_array_equal(out, X)


def test_blocked_sweeps_reach_saga_optimum():
    # 20 000 dense rows and 3 x 91 coefficients, fewer rows than two Hessian
    # samples: newton-cd sweeps the columns, its sums over blocks of rows
    # (skxent._cd.BLOCKED_ROWS); the same optimum as saga's.
    from skxent._cd import BLOCKED_ROWS

    from skxent._linear_loss import LinearModelLoss
    from skxent._solvers import explicit_suits

    X, y = _data(3, n=20_000, d=90, seed=8)
    sw = np.random.default_rng(4).uniform(0.5, 2, X.shape[0])
    assert X.shape[0] >= BLOCKED_ROWS
    assert not explicit_suits(LinearModelLoss(X, y, link="softmax", n_outputs=3))
    ours = CrossEntropyClassifier(l1_ratio=0.5, C=0.002, tol=1e-10).fit(X, y, sample_weight=sw)
    _check_saga_optimum(X, y, ours, 0.002, 0.5, sw)


def test_blocked_sweeps_same_bits_on_any_threads():
    # The kernel itself, with intercepts and softmax coupling, run repeatedly:
    # a race between the threads would show as different bits now and then.
    from skxent._cd import BLOCKED_ROWS, newton_cd_sweeps

    rng = np.random.default_rng(0)
    n, d, K = BLOCKED_ROWS + 3001, 20, 4
    X = np.asfortranarray(rng.normal(size=(n, d)))
    P = rng.dirichlet(np.ones(K), size=n).T.copy()
    Q, R = P.copy(), P * (1 - P)
    A = np.ascontiguousarray(((X**2).T @ R.T).T)
    Hwb, a_b = np.ascontiguousarray((X.T @ R.T).T), R.sum(axis=1)
    G, gb = 0.1 * rng.normal(size=(K, d)), 0.1 * rng.normal(size=K)
    ptr = np.arange(K + 1, dtype=np.intp) * d
    feat = np.tile(np.arange(d, dtype=np.intp), K)

    def run(threads):
        U, m, D, Db = np.zeros((K, n)), np.zeros(n), np.zeros((K, d)), np.zeros(K)
        out = newton_cd_sweeps(
            X, np.empty(0), np.empty(0, np.intp), np.zeros(1, np.intp), n, Q, R, A, a_b, Hwb,
            P, U, m, G, gb, np.zeros((K, d)), D, Db, 0.01, 0.001, ptr, feat, caps, 2, 0.0,
            n_threads=threads,
        )  # fmt: skip
        return out, D, Db, U, m

    # Every other feature's moves capped (tightly enough to bind): both branches.
    caps = np.where(np.arange(d) % 2 == 0, 1e-6, np.inf)
    ref = run(1)
    assert np.isclose(np.abs(ref[1][:, ::2]).max(), 2e-6)
    assert np.abs(ref[1]).max() > 0
    for threads in (2, 3) * 5:
        got = run(threads)
        assert got[0] == ref[0]
        for a, b in zip(got[1:], ref[1:]):
            assert_array_equal(a, b)


@pytest.mark.parametrize("layout", ["dense", "csc", "blocked"])
@pytest.mark.parametrize("link", ["softmax", "sigmoid"])
def test_sweeps_minimise_the_model_of_a_formed_hessian(layout, link):
    # Without an L1 part the model's minimum solves (H + l2) D = -G, with H
    # formed here from its definition, row by row: the kernel's sweeps (with
    # intercepts, and softmax's coupling) must reach it.
    from skxent._cd import BLOCKED_ROWS, newton_cd_sweeps

    rng = np.random.default_rng(11)
    n = BLOCKED_ROWS + 100 if layout == "blocked" else 400
    d, K, l2 = 5, (3 if link == "softmax" else 2), 0.05
    Xd = rng.normal(size=(n, d)) * (rng.uniform(size=(n, d)) < 0.6) + 0.3
    s = rng.uniform(0.5, 2.0, n) / n
    if link == "softmax":
        P = rng.dirichlet(np.ones(K), size=n).T.copy()
        Q, R = P * s, P * s * (1 - P)
        blocks = s[:, None, None] * (
            np.einsum("ci,cd->icd", P, np.eye(K)) - np.einsum("ci,di->icd", P, P)
        )
    else:
        P = np.empty((0, n))
        Q = R = rng.uniform(0.01, 0.25, size=(K, n)) * s
        blocks = np.einsum("ci,cd->icd", R, np.eye(K))
    Xt = np.hstack([Xd, np.ones((n, 1))])  # the intercept's column last
    H = np.einsum("icd,ij,ik->cjdk", blocks, Xt, Xt).reshape(K * (d + 1), K * (d + 1))
    penalty = np.tile(np.r_[np.full(d, l2), 0.0], K)
    G, gb = rng.normal(size=(K, d)) / 10, rng.normal(size=K) / 10
    if link == "softmax":  # a softmax gradient sums to 0 over the classes
        G, gb = G - G.mean(axis=0), gb - gb.mean()
    rhs = -np.hstack([G, gb[:, None]]).ravel()
    want = np.linalg.lstsq(H + np.diag(penalty), rhs, rcond=None)[0].reshape(K, d + 1)
    A = np.ascontiguousarray(((Xd**2).T @ R.T).T) + l2
    Hwb, a_b = np.ascontiguousarray((Xd.T @ R.T).T), R.sum(axis=1)
    if layout == "csc":
        Xs = sparse.csc_matrix(Xd)
        data = (np.empty((0, 0), order="F"), Xs.data, Xs.indices, Xs.indptr)
    else:
        data = (np.asfortranarray(Xd), np.empty(0), np.empty(0, np.intp), np.zeros(1, np.intp))
    U, m, D, Db = np.zeros((K, n)), np.zeros(n), np.zeros((K, d)), np.zeros(K)
    ptr = np.arange(K + 1, dtype=np.intp) * d
    feat = np.tile(np.arange(d, dtype=np.intp), K)
    newton_cd_sweeps(*data, n, Q, R, A, a_b, Hwb, P, U, m, G, gb, np.zeros((K, d)), D, Db,
                     0.0, l2, ptr, feat, np.full(d, np.inf), 3000, 1e-15, n_threads=2)  # fmt: skip
    assert_allclose(D, want[:, :d], rtol=1e-7, atol=1e-9)
    Db0 = Db.copy()
    if link == "softmax":  # the intercepts up to a common shift (H's null direction)
        Db, want_b = Db - Db.mean(), want[:, d] - want[:, d].mean()
    else:
        want_b = want[:, d]
    assert_allclose(Db, want_b, rtol=1e-7, atol=1e-9)
    # The change of the raw scores the sweeps kept is X D + Db, and m is p . U.
    assert_allclose(U, (Xd @ D.T).T + Db0[:, None], atol=1e-10)
    if link == "softmax":
        assert_allclose(m, np.sum(P * U, axis=0), atol=1e-10)


@pytest.mark.parametrize("layout", ["dense", "csc"])
def test_capped_coordinate_moves(layout):
    # newton-cd's coordinate descent moves a coordinate by at most its cap per
    # update (skxent._solvers._step_caps), and with enough sweeps still reaches
    # the minimum of the model that the uncapped sweeps reach.
    from skxent._cd import newton_cd_sweeps

    rng = np.random.default_rng(3)
    n, d, K = 300, 12, 3
    Xd = rng.normal(size=(n, d)) * (rng.uniform(size=(n, d)) < 0.5)
    P = rng.dirichlet(np.ones(K), size=n).T.copy()
    Q, R = P / n, P * (1 - P) / n
    A = np.ascontiguousarray(((Xd**2).T @ R.T).T) + 1e-3
    Hwb, a_b = np.ascontiguousarray((Xd.T @ R.T).T), R.sum(axis=1)
    G, gb = 0.5 * rng.normal(size=(K, d)), 0.1 * rng.normal(size=K)
    ptr = np.arange(K + 1, dtype=np.intp) * d
    feat = np.tile(np.arange(d, dtype=np.intp), K)
    if layout == "dense":
        data = (np.asfortranarray(Xd), np.empty(0), np.empty(0, np.intp), np.zeros(1, np.intp))
    else:
        Xs = sparse.csc_matrix(Xd)
        Xs.sort_indices()
        data = (np.empty((0, 0), order="F"), Xs.data, Xs.indices.astype(np.intp),
                Xs.indptr.astype(np.intp))  # fmt: skip

    def run(caps, sweeps):
        U, m, D, Db = np.zeros((K, n)), np.zeros(n), np.zeros((K, d)), np.zeros(K)
        newton_cd_sweeps(*data, n, Q, R, A, a_b, Hwb, P, U, m, G, gb, np.zeros((K, d)), D, Db,
                         1e-3, 1e-3, ptr, feat, caps, sweeps, 1e-14)  # fmt: skip
        return D, Db

    free = run(np.full(d, np.inf), 1)[0]
    caps = np.full(d, 0.5 * np.abs(free).max())
    assert (np.abs(free) > caps).any()
    one = run(caps, 1)[0]
    assert np.abs(one).max() <= caps[0] * (1 + 1e-12)
    assert np.isclose(np.abs(one).max(), caps[0])
    D_free, Db_free = run(np.full(d, np.inf), 5000)
    D_cap, Db_cap = run(caps, 5000)
    assert_allclose(D_cap, D_free, rtol=1e-7, atol=1e-10)
    assert_allclose(Db_cap, Db_free, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_caps_from_each_columns_largest_entry(dtype):
    from skxent._solvers import STEP_CAP, _columns, _step_caps

    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 9)).astype(dtype) * (rng.uniform(size=(50, 9)) < 0.3)
    X[:, 4] = 0  # an empty column: no cap
    big = np.abs(X).max(axis=0).astype(np.float64)
    expected = np.where(big > 0, STEP_CAP / np.where(big > 0, big, 1), np.inf)
    for form in (X, sparse.csr_matrix(X)):
        dense, data, indices, indptr = _columns(form)
        assert_allclose(_step_caps(dense, data, indptr, X.shape[1]), expected, rtol=1e-15)


def test_longer_steps_stop_where_the_objective_or_a_sign_would_turn():
    # newton-cd's line search doubles a unit step that helped while the
    # objective falls, up to MAX_STEP and to the first coefficient that
    # would reach 0 along the step (brute force over the ray's crossings).
    from skxent._solvers import MAX_STEP, _expand, _first_zero

    rng = np.random.default_rng(4)
    W, D = rng.normal(size=50), rng.normal(size=50)
    crossings = [-w / d for w, d in zip(W, D) if w * d < 0]
    assert _first_zero(W, D) == pytest.approx(min(crossings), rel=1e-15)
    assert _first_zero(np.abs(W), np.abs(D)) == np.inf
    assert _expand(lambda t: -t, -1.0) == MAX_STEP
    assert _expand(lambda t: -t, -1.0, t_max=5.0) == 4.0
    assert _expand(lambda t: -t, -1.0, t_max=1.5) == 1.0
    assert _expand(lambda t: (t - 3.0) ** 2, 4.0) == 2.0  # f(4) = f(2): no gain
    assert _expand(lambda t: (t - 30.0) ** 2, 29.0**2) == 32.0
