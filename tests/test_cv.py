"""CrossEntropyClassifierCV and cross_entropy_path against scikit-learn.

The reference is ``LogisticRegressionCV`` (scikit-learn 1.9, its non-legacy
attributes) with the same folds, grid and scoring, at tol=1e-8; for the path,
separate fits of ``CrossEntropyClassifier`` at each C.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from scipy.sparse import csr_matrix
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skxent import CrossEntropyClassifier, CrossEntropyClassifierCV, cross_entropy_path
from skxent.scorers import get_scorer


def _standardised(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


DATA = {
    "iris": lambda: _standardised(load_iris),
    "breast_cancer": lambda: _standardised(load_breast_cancer),
    "digits": lambda: _standardised(load_digits),
    "binary": lambda: make_classification(400, 8, n_informative=4, random_state=0),
    "multiclass": lambda: make_classification(
        400, 8, n_informative=5, n_classes=4, n_clusters_per_class=1, random_state=1
    ),
}
# Where a problem is nearly separable (digits from C = 100, iris and breast
# cancer past 1000), tol=1e-8 does not pin the weakly penalised fits down to
# 1e-4 of the test log loss: there both fits are within tol of the optimum
# (ours lower, by 1e-11), and the coefficients still move along the flat
# valley.  (Digits at C = 100 differed by 1.006e-4 in one fold once CG's
# sums changed their last bits, ours 5e-11 lower in every fold.)  The grids
# stop before.
GRIDS = {
    "digits": np.logspace(-4, 1, 6),
    "iris": np.logspace(-4, 3, 8),
    "breast_cancer": np.logspace(-4, 3, 8),
}


def _sklearn_cv(X, y, Cs, cv, sample_weight=None, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegressionCV(
            Cs=Cs, cv=cv, scoring="neg_log_loss", tol=1e-8, max_iter=100_000,
            use_legacy_attributes=False, **{"l1_ratios": (0.0,), **kwargs},
        ).fit(X, y, sample_weight=sample_weight)  # fmt: skip


@pytest.mark.parametrize("weights", ["none", "sample", "class"])
@pytest.mark.parametrize("name", list(DATA))
def test_same_answer_as_logistic_regression_cv(name, weights):
    X, y = DATA[name]()
    Cs = GRIDS.get(name, 10)
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    sw = np.random.default_rng(0).uniform(0.5, 2, y.shape[0]) if weights == "sample" else None
    kwargs = {"class_weight": "balanced"} if weights == "class" else {}
    ref = _sklearn_cv(X, y, Cs, cv, sample_weight=sw, **kwargs)
    ours = CrossEntropyClassifierCV(Cs=Cs, cv=cv, tol=1e-8, max_iter=1000, **kwargs)
    ours.fit(X, y, sample_weight=sw)
    assert ours.C_ == ref.C_ and ours.l1_ratio_ == ref.l1_ratio_ == 0.0
    assert_allclose(ours.Cs_, ref.Cs_)
    assert ours.scores_.shape == ref.scores_.shape
    assert_allclose(ours.scores_, ref.scores_, rtol=1e-4)
    assert ours.coefs_paths_.shape == ref.coefs_paths_.shape
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-4 * np.abs(ref.coef_).max())
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-4, atol=1e-4)
    assert_array_equal(ours.classes_, ref.classes_)
    assert ours.n_iter_.shape == ref.n_iter_.shape


@pytest.mark.parametrize("n_classes", [2, 3])
def test_elastic_net_grid_same_answer_as_saga(n_classes):
    X, y = make_classification(
        150, 6, n_informative=4, n_classes=n_classes, n_clusters_per_class=1, random_state=2
    )
    X = StandardScaler().fit_transform(X)
    cv = StratifiedKFold(3)
    Cs, l1_ratios = [0.05, 0.5, 5.0], [0.2, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = LogisticRegressionCV(
            Cs=Cs, l1_ratios=l1_ratios, cv=cv, solver="saga", scoring="neg_log_loss",
            tol=1e-12, max_iter=100_000, use_legacy_attributes=False,
        ).fit(X, y)  # fmt: skip
    ours = CrossEntropyClassifierCV(Cs=Cs, l1_ratios=l1_ratios, cv=cv, tol=1e-10).fit(X, y)
    assert (ours.C_, ours.l1_ratio_) == (ref.C_, ref.l1_ratio_)
    assert_allclose(ours.scores_, ref.scores_, rtol=1e-4)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-6)


def test_refit_false_averages_the_folds_as_sklearn():
    X, y = DATA["multiclass"]()
    cv = StratifiedKFold(4)
    ref = _sklearn_cv(X, y, 6, cv, refit=False)
    ours = CrossEntropyClassifierCV(Cs=6, cv=cv, tol=1e-8, refit=False).fit(X, y)
    assert ours.C_ == pytest.approx(ref.C_)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-6)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-4, atol=1e-6)


def test_results_do_not_depend_on_n_jobs():
    X, y = make_classification(3000, 20, n_informative=8, n_classes=3, random_state=0)
    kwargs = dict(Cs=4, l1_ratios=(0.0, 0.5), cv=3)
    one = CrossEntropyClassifierCV(n_jobs=1, **kwargs).fit(X, y)
    two = CrossEntropyClassifierCV(n_jobs=2, **kwargs).fit(X, y)
    for name in ("coef_", "intercept_", "scores_", "coefs_paths_", "n_iter_"):
        assert_array_equal(getattr(one, name), getattr(two, name))
    assert (one.C_, one.l1_ratio_) == (two.C_, two.l1_ratio_)


def test_cv_results_table_and_scores_are_the_scorers_values():
    X, y = DATA["iris"]()
    cv = KFold(3, shuffle=True, random_state=0)
    clf = CrossEntropyClassifierCV(Cs=[0.1, 1.0, 10.0], cv=cv, scoring="neg_cross_entropy_bits")
    clf.fit(X, y)
    table = pd.DataFrame(clf.cv_results_)
    assert table.shape[0] == 3
    assert {"param_C", "mean_test_score", "std_test_score", "rank_test_score"} <= set(table)
    assert table.loc[table["rank_test_score"] == 1, "param_C"].item() == clf.C_
    scorer = get_scorer("neg_cross_entropy_bits")
    for k, (train, test) in enumerate(cv.split(X, y)):
        fold = CrossEntropyClassifier(C=10.0, tol=1e-4).fit(X[train], y[train])
        assert table[f"split{k}_test_score"].iloc[2] == pytest.approx(
            scorer(fold, X[test], y[test]), rel=1e-3
        )
    assert_allclose(table["mean_test_score"], clf.scores_[:, 0, :].mean(axis=0))


def test_a_fold_without_a_class_still_scores():
    X, y = DATA["iris"]()
    # Unshuffled 3-fold on sorted iris: each test fold holds one class only.
    for scoring in ("neg_log_loss", "neg_cross_entropy"):
        clf = CrossEntropyClassifierCV(Cs=3, cv=KFold(3), scoring=scoring).fit(X, y)
        assert np.all(np.isfinite(clf.scores_))


def test_soft_targets_and_multilabel():
    X, y = DATA["multiclass"]()
    T = 0.9 * np.eye(4)[y] + 0.1 / 4
    soft = CrossEntropyClassifierCV(Cs=4, cv=3, tol=1e-10).fit(X, T)
    assert_array_equal(soft.classes_, np.arange(4))
    # The same fits as smoothed labels on the same folds (the scores differ:
    # the soft targets are scored against themselves, the labels as labels).
    smoothed = CrossEntropyClassifierCV(Cs=4, cv=KFold(3), label_smoothing=0.1, tol=1e-10)
    smoothed.fit(X, y)
    assert_allclose(soft.coefs_paths_, smoothed.coefs_paths_, rtol=1e-6, atol=1e-9)
    # Three labels: with two, scikit-learn's scorers take classes_ = [0, 1]
    # for a binary problem and keep one column of predict_proba.
    Y = np.column_stack([y == 0, y == 1, y == 3]).astype(int)
    multi = CrossEntropyClassifierCV(Cs=3, cv=3, multilabel=True).fit(X, Y)
    assert multi.coef_.shape == (3, X.shape[1]) and multi.predict(X).shape == Y.shape
    assert np.all(np.isfinite(multi.scores_))


def test_sample_weight_reaches_the_scorer_with_routing():
    X, y = DATA["breast_cancer"]()
    sw = np.random.default_rng(3).uniform(0.2, 3, y.shape[0])
    cv = StratifiedKFold(3)
    with sklearn.config_context(enable_metadata_routing=True):
        ref_scorer = sklearn.metrics.get_scorer("neg_log_loss").set_score_request(
            sample_weight=True
        )
        ours_scorer = get_scorer("neg_log_loss").set_score_request(sample_weight=True)
        Cs = np.logspace(-4, 1, 6)  # 3 weighted folds: separable past C = 10
        ref = LogisticRegressionCV(
            Cs=Cs, cv=cv, scoring=ref_scorer, tol=1e-8, l1_ratios=(0.0,),
            use_legacy_attributes=False,
        ).fit(X, y, sample_weight=sw)  # fmt: skip
        ours = CrossEntropyClassifierCV(Cs=Cs, cv=cv, scoring=ours_scorer, tol=1e-8)
        ours.fit(X, y, sample_weight=sw)
    assert_allclose(ours.scores_, ref.scores_, rtol=1e-4)
    assert ours.C_ == ref.C_


def test_in_a_pipeline_and_inside_a_grid_search():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), CrossEntropyClassifierCV(Cs=3, cv=3))
    search = GridSearchCV(
        pipe,
        {"crossentropyclassifiercv__label_smoothing": [0.0, 0.1]},
        scoring="neg_cross_entropy",
        cv=3,
    ).fit(X, y)
    assert search.best_estimator_.score(X, y) < 0  # its own scoring: neg_log_loss
    assert search.predict(X).shape == y.shape


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"Cs": []}, "Cs"),
        ({"Cs": [1.0, -1.0]}, "Cs"),
        ({"Cs": [1.0, np.nan]}, "Cs"),
        ({"Cs": 0}, "Cs"),
        ({"l1_ratios": [0.5, 1.5]}, "l1_ratios"),
        ({"l1_ratios": []}, "l1_ratios"),
        ({"cv": 1}, "cv"),
        ({"scoring": "neg_no_such_scorer"}, "scoring"),
    ],
)
def test_bad_parameters_name_themselves(kwargs, match):
    X, y = DATA["iris"]()
    with pytest.raises(ValueError, match=match):
        CrossEntropyClassifierCV(**kwargs).fit(X, y)


def test_path_is_the_fits_at_each_c():
    X, y = DATA["multiclass"]()
    Cs, coefs, intercepts, n_iter = cross_entropy_path(
        X, y, Cs=[10.0, 0.01, 1.0], l1_ratio=0.5, tol=1e-10
    )
    assert coefs.shape == (3, 4, X.shape[1]) and n_iter.shape == (3,)
    for C, coef, intercept in zip(Cs, coefs, intercepts):
        one = CrossEntropyClassifier(C=C, l1_ratio=0.5, tol=1e-10).fit(X, y)
        assert_allclose(coef, one.coef_, rtol=1e-5, atol=1e-6)
        assert_allclose(intercept, one.intercept_, rtol=1e-5, atol=1e-6)
        assert_array_equal(coef == 0, one.coef_ == 0)


@pytest.mark.parametrize("sparse_format", [np.asarray, csr_matrix])
def test_objective_reuses_the_data_part_across_a_change_of_C(sparse_format):
    # A path evaluates each fit's start where the previous fit ended: the
    # objective keeps the data's part of its last evaluation and adds the new
    # penalty.  The result must be the bits of a fresh objective at that C.
    from skxent._linear_loss import LinearModelLoss

    X, y = make_classification(3000, 8, n_informative=5, n_classes=3, random_state=0)
    X = sparse_format(X)
    w = np.random.default_rng(0).normal(scale=0.2, size=3 * 9)
    loss = LinearModelLoss(X, y, link="softmax", n_outputs=3, C=0.1)
    with loss:
        _, g0, _ = loss.loss_gradient(w, return_raw=True)
        g0[:] = np.nan  # a caller's writes into a returned gradient reach no cache
        loss.set_penalty(10.0)
        f, g, point = loss.loss_gradient(w, return_raw=True)
        f2, g2 = loss.loss_gradient(w + 1e-3)  # a new point: a new pass
    fresh = LinearModelLoss(X, y, link="softmax", n_outputs=3, C=10.0)
    with fresh:
        f_ref, g_ref, point_ref = fresh.loss_gradient(w, return_raw=True)
        f2_ref, g2_ref = fresh.loss_gradient(w + 1e-3)
    assert f == f_ref and f2 == f2_ref
    assert_array_equal(g, g_ref)
    assert_array_equal(g2, g2_ref)
    assert_array_equal(point.raw, point_ref.raw)


def test_path_on_large_data_leaves_converged_points_alone():
    # On large data a warm start that already meets tol is kept (0 iterations,
    # as L-BFGS-B does); every point still meets tol, checked on a fresh
    # objective at its C.
    from skxent._linear_loss import LinearModelLoss

    X, y = make_classification(60_000, 20, random_state=0)
    Cs = np.logspace(1, 4, 4)
    Cs_out, coefs, intercepts, n_iter = cross_entropy_path(X, y, Cs=Cs, tol=1e-4)
    assert (n_iter == 0).any() and (n_iter >= 1).any()
    for coef, b, C in zip(coefs, intercepts, Cs_out):
        loss = LinearModelLoss(X, (y == 1).astype(float), link="sigmoid", n_outputs=1, C=C)
        with loss:
            _, g = loss.loss_gradient(loss.pack(coef, b))
        assert np.abs(g).max() <= 1e-4
