"""scikit-learn's estimator checks, run on CrossEntropyClassifier and its CV variant.

Every check runs: nothing is skipped and nothing is expected to fail.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skxent.classifier import CrossEntropyClassifier, CrossEntropyClassifierCV


@pytest.fixture(autouse=True)
def _array_api_checks(monkeypatch):
    # scikit-learn skips its array API check (dispatch on, NumPy inputs: the
    # results must not change) unless SCIPY_ARRAY_API is set.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")


ESTIMATORS = [
    CrossEntropyClassifier(),
    CrossEntropyClassifier(solver="lbfgs"),
    CrossEntropyClassifier(solver="newton-cg"),
    CrossEntropyClassifier(solver="newton-cholesky"),
    CrossEntropyClassifier(label_smoothing=0.1),
    CrossEntropyClassifier(class_weight="balanced"),
    CrossEntropyClassifier(l1_ratio=0.5),
    CrossEntropyClassifierCV(Cs=3, cv=3),
    CrossEntropyClassifierCV(Cs=3, cv=3, l1_ratios=(0.0, 0.5)),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
