"""skxent.patch_sklearn: scikit-learn's log_loss and neg_log_loss scorer on skxent's.

Which function ran is observed with a profiling hook on the code of skxent's
fast path (it only records calls; nothing is replaced), and every value is
compared with scikit-learn's own, computed unpatched in the same test.
"""

import sys

import numpy as np
import pytest
import sklearn.metrics
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import _classification, _scorer, get_scorer
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skxent
from skxent.metrics import _log_loss

SKLEARN_LOG_LOSS = _classification.log_loss


class _Calls:
    """Count the calls of one code object, through sys.setprofile."""

    def __init__(self, code):
        self.code = code
        self.n = 0

    def __enter__(self):
        self._previous = sys.getprofile()

        def hook(frame, event, arg):
            if event == "call" and frame.f_code is self.code:
                self.n += 1

        sys.setprofile(hook)
        return self

    def __exit__(self, *exc):
        sys.setprofile(self._previous)


@pytest.fixture
def patched():
    names = skxent.patch_sklearn()
    yield names
    skxent.unpatch_sklearn()


def _model():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def test_patch_then_unpatch_restores_every_name(patched):
    assert sklearn.metrics.log_loss is skxent.metrics.log_loss
    assert _classification.log_loss is skxent.metrics.log_loss
    assert _scorer._SCORERS["neg_log_loss"]._score_func is skxent.metrics.log_loss
    assert get_scorer("neg_log_loss")._score_func is skxent.metrics.log_loss
    assert skxent.patch_sklearn() == patched  # twice is harmless
    skxent.unpatch_sklearn()
    assert sklearn.metrics.log_loss is SKLEARN_LOG_LOSS
    assert _classification.log_loss is SKLEARN_LOG_LOSS
    assert _scorer._SCORERS["neg_log_loss"]._score_func is SKLEARN_LOG_LOSS
    skxent.unpatch_sklearn()  # and so is undoing twice
    assert sklearn.metrics.log_loss is SKLEARN_LOG_LOSS


def test_cross_val_score_neg_log_loss_runs_on_skxent():
    X, y = load_iris(return_X_y=True)
    expected = cross_val_score(_model(), X, y, scoring="neg_log_loss", cv=3)
    skxent.patch_sklearn()
    try:
        with _Calls(_log_loss._log_loss_fast.__code__) as calls:
            got = cross_val_score(_model(), X, y, scoring="neg_log_loss", cv=3)
    finally:
        skxent.unpatch_sklearn()
    assert calls.n == 3  # one score per fold, by skxent's function
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.filterwarnings("ignore:The default value for l1_ratios:FutureWarning")
@pytest.mark.filterwarnings("ignore:The fitted attributes of LogisticRegressionCV:FutureWarning")
def test_grid_search_and_logistic_regression_cv_scoring(patched):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with _Calls(_log_loss._log_loss_fast.__code__) as calls:
        search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, scoring="neg_log_loss")
        search.fit(X, y)
        lrcv = LogisticRegressionCV(Cs=3, scoring="neg_log_loss", cv=3).fit(X, y)
    assert calls.n >= 10 + 9
    skxent.unpatch_sklearn()
    ref = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, scoring="neg_log_loss").fit(X, y)
    ref_cv = LogisticRegressionCV(Cs=3, scoring="neg_log_loss", cv=3).fit(X, y)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], rtol=1e-12
    )
    np.testing.assert_allclose(lrcv.scores_[0], ref_cv.scores_[0], rtol=1e-12)


def test_patched_log_loss_odd_input_takes_sklearns_own_path(patched):
    # A list goes to scikit-learn's function (captured at import), not to the
    # patched name, which is skxent's: no recursion, scikit-learn's value.
    y, p = [0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.4, 0.6]]
    assert sklearn.metrics.log_loss(y, p) == SKLEARN_LOG_LOSS(y, p)
    with pytest.warns(UserWarning, match="do not sum to one"):
        sklearn.metrics.log_loss([0, 1], [[0.5, 0.6], [0.5, 0.4]])
