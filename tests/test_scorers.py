"""skxent's scorers inside scikit-learn's model selection.

References: scikit-learn's own ``neg_log_loss`` scorer, and the metrics applied
by hand to each fold's predictions.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn import config_context
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import skxent
from skxent import metrics, scorers

# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------


def test_registration_with_sklearn_worked():
    # Fails loudly (here, in CI) if the installed scikit-learn stops taking the
    # names, rather than users finding out.
    from sklearn.metrics import get_scorer_names

    assert scorers.REGISTERED_WITH_SKLEARN
    for name in (
        "neg_cross_entropy",
        "neg_cross_entropy_bits",
        "neg_binary_cross_entropy",
        "neg_kl_divergence",
        "neg_perplexity",
        "neg_focal_cross_entropy",
    ):
        assert name in get_scorer_names()
        assert name in scorers.get_scorer_names()
    assert "accuracy" in scorers.get_scorer_names()
    assert scorers.get_scorer_names() == sorted(scorers.get_scorer_names())


_ORDER_SCRIPT = """
import warnings
warnings.simplefilter("error")
{imports}
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV, HalvingGridSearchCV, RandomizedSearchCV, cross_val_score, cross_validate,
)

X, y = load_iris(return_X_y=True)
clf = LogisticRegression(max_iter=500)
grid = {{"C": [0.5, 1.0]}}
GridSearchCV(clf, grid, scoring="neg_cross_entropy").fit(X, y)
GridSearchCV(clf, grid, scoring=["neg_cross_entropy", "accuracy"],
             refit="neg_cross_entropy").fit(X, y)
GridSearchCV(clf, grid, scoring={{"ce": "neg_cross_entropy_bits"}}, refit="ce").fit(X, y)
RandomizedSearchCV(clf, grid, n_iter=2, scoring="neg_kl_divergence", random_state=0).fit(X, y)
HalvingGridSearchCV(clf, grid, scoring="neg_perplexity", random_state=0).fit(X, y)
cross_val_score(clf, X, y, scoring="neg_focal_cross_entropy", cv=3)
cross_validate(clf, X, y, scoring=["neg_cross_entropy", "neg_log_loss"], cv=3)
permutation_importance(clf.fit(X, y), X, y, scoring="neg_cross_entropy", n_repeats=2,
                       random_state=0)
print("ok")
"""


@pytest.mark.parametrize(
    "imports",
    [
        "import skxent\nimport sklearn.model_selection",
        "import sklearn.model_selection\nimport sklearn.inspection\nimport skxent",
    ],
    ids=["skxent-first", "sklearn-first"],
)
def test_plain_string_names_in_either_import_order(imports):
    # Each scikit-learn module builds its `scoring` constraint from
    # get_scorer_names() when imported: both orders must work.
    script = _ORDER_SCRIPT.format(imports=imports)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


# ---------------------------------------------------------------------------
# Values inside model selection
# ---------------------------------------------------------------------------


def _pipeline():
    return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=2000))])


def test_grid_search_neg_cross_entropy_equals_neg_log_loss():
    X, y = load_wine(return_X_y=True)
    grid = {"clf__C": [0.1, 1.0, 10.0]}
    ours = GridSearchCV(_pipeline(), grid, scoring="neg_cross_entropy", n_jobs=2).fit(X, y)
    ref = GridSearchCV(_pipeline(), grid, scoring="neg_log_loss", n_jobs=2).fit(X, y)
    assert ours.best_params_ == ref.best_params_
    assert_allclose(ours.best_score_, ref.best_score_, rtol=1e-12)
    assert_allclose(
        ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-12
    )


def test_cross_validate_four_scorers_bits_are_nats_over_ln2():
    X, y = load_iris(return_X_y=True)
    res = cross_validate(
        _pipeline(),
        X,
        y,
        scoring=["neg_cross_entropy", "neg_cross_entropy_bits", "neg_log_loss", "accuracy"],
    )
    assert_allclose(res["test_neg_cross_entropy"], res["test_neg_log_loss"], rtol=1e-12)
    assert_allclose(
        res["test_neg_cross_entropy_bits"], res["test_neg_cross_entropy"] / np.log(2), rtol=1e-12
    )
    assert np.all((res["test_accuracy"] > 0.8) & (res["test_accuracy"] <= 1))


def test_each_scorer_matches_its_metric_on_one_fit():
    X, y = load_iris(return_X_y=True)
    y_named = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = _pipeline().fit(X, y_named)
    proba = clf.predict_proba(X)
    codes = np.searchsorted(clf.classes_, y_named)
    onehot = np.eye(3)[codes]
    expected = {
        "neg_cross_entropy": metrics.cross_entropy(codes, proba),
        "neg_cross_entropy_bits": metrics.cross_entropy(codes, proba, base=2),
        "neg_cross_entropy_logits": metrics.cross_entropy(
            codes, clf.decision_function(X), from_logits=True
        ),
        "neg_perplexity": metrics.perplexity(codes, proba),
        "neg_focal_cross_entropy": metrics.focal_cross_entropy(codes, proba),
        "neg_kl_divergence": float(
            np.mean(metrics.kl_divergence(onehot, proba, eps=np.finfo(float).eps))
        ),
    }
    for name, value in expected.items():
        assert_allclose(scorers.get_scorer(name)(clf, X, y_named), -value, rtol=1e-12, err_msg=name)


def test_binary_cross_entropy_scorer_on_a_binary_classifier():
    X, y = load_breast_cancer(return_X_y=True)
    y_named = np.where(y == 1, "benign", "malignant")
    clf = _pipeline().fit(X, y_named)
    p_pos = clf.predict_proba(X)[:, 1]
    target = (y_named == clf.classes_[1]).astype(float)
    score = scorers.get_scorer("neg_binary_cross_entropy")(clf, X, y_named)
    assert_allclose(score, -metrics.binary_cross_entropy(target, p_pos), rtol=1e-12)
    # and for a binary problem it is the cross entropy
    assert_allclose(score, scorers.get_scorer("neg_cross_entropy")(clf, X, y_named), rtol=1e-12)


def test_fold_missing_a_class_scores_with_the_classifiers_classes():
    # Test folds that hold two of iris's three classes, while the model learns
    # all three.  scikit-learn's neg_log_loss cannot score such a fold (it
    # infers the classes from y_true); skxent's scorer uses classes_.
    X, y = load_iris(return_X_y=True)
    idx = np.arange(len(y))
    folds = []
    for a, b in [(0, 1), (1, 2), (0, 2)]:
        test = np.concatenate([idx[y == a][:10], idx[y == b][:10]])
        folds.append((np.setdiff1d(idx, test), test))
    scores = cross_val_score(_pipeline(), X, y, cv=folds, scoring="neg_cross_entropy")
    with pytest.raises(ValueError):
        cross_val_score(_pipeline(), X, y, cv=folds, scoring="neg_log_loss", error_score="raise")
    for (train, test), score in zip(folds, scores):
        clf = _pipeline().fit(X[train], y[train])
        proba = clf.predict_proba(X[test])
        codes = np.searchsorted(clf.classes_, y[test])
        expected = -np.mean(
            -np.log(np.clip(proba[np.arange(len(test)), codes], np.finfo(float).eps, 1))
        )
        assert_allclose(score, expected, rtol=1e-12)


def test_register_a_users_scorer_and_use_it_by_name():
    def neg_smoothed(y_true, y_pred, labels=None):
        return -metrics.cross_entropy(y_true, y_pred, labels=labels, label_smoothing=0.2)

    name = "neg_test_smoothed_cross_entropy"
    scorers.register(name, neg_smoothed, response_method="predict_proba", replace=True)
    X, y = load_iris(return_X_y=True)
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    search = GridSearchCV(_pipeline(), {"clf__C": [0.1, 1.0]}, scoring=name, cv=cv).fit(X, y)
    i = search.best_index_
    train, test = next(cv.split(X, y))
    clf = _pipeline().set_params(**search.cv_results_["params"][i]).fit(X[train], y[train])
    expected = neg_smoothed(y[test], clf.predict_proba(X[test]))
    assert_allclose(search.cv_results_["split0_test_score"][i], expected, rtol=1e-12)
    with pytest.raises(ValueError, match="scikit-learn scorer name"):
        scorers.register("accuracy", neg_smoothed)
    with pytest.raises(ValueError, match="registered already"):
        scorers.register(name, neg_smoothed)


def test_scoring_dict_works_without_registration():
    X, y = load_iris(return_X_y=True)
    sc = scorers.scoring("neg_cross_entropy", "accuracy")
    search = GridSearchCV(
        _pipeline(), {"clf__C": [0.1, 1.0]}, scoring=sc, refit="neg_cross_entropy", cv=3
    ).fit(X, y)
    assert set(search.cv_results_) >= {"mean_test_neg_cross_entropy", "mean_test_accuracy"}
    with pytest.raises(ValueError, match="at least one"):
        scorers.scoring()


# ---------------------------------------------------------------------------
# Metadata routing
# ---------------------------------------------------------------------------


def test_sample_weight_reaches_scorer_and_fit_through_metadata_routing():
    X, y = load_iris(return_X_y=True)
    sw = np.random.default_rng(0).uniform(0.1, 3.0, len(y))
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    grid = {"C": [0.1, 1.0]}
    with config_context(enable_metadata_routing=True):
        weighted = scorers.get_scorer("neg_cross_entropy").set_score_request(sample_weight=True)
        unweighted = scorers.get_scorer("neg_cross_entropy").set_score_request(sample_weight=False)
        est = LogisticRegression(max_iter=2000).set_fit_request(sample_weight=True)
        res = (
            GridSearchCV(est, grid, cv=cv, scoring={"w": weighted, "u": unweighted}, refit=False)
            .fit(X, y, sample_weight=sw)
            .cv_results_
        )
    for i, params in enumerate(res["params"]):
        for fold, (train, test) in enumerate(cv.split(X, y)):
            clf = LogisticRegression(max_iter=2000, **params).fit(
                X[train], y[train], sample_weight=sw[train]
            )
            proba = clf.predict_proba(X[test])
            w = metrics.cross_entropy(y[test], proba, sample_weight=sw[test])
            u = metrics.cross_entropy(y[test], proba)
            assert_allclose(res[f"split{fold}_test_w"][i], -w, rtol=1e-10)
            assert_allclose(res[f"split{fold}_test_u"][i], -u, rtol=1e-10)
            assert not np.isclose(w, u, rtol=1e-6)


def test_package_imports_scorers():
    assert skxent.scorers is scorers
