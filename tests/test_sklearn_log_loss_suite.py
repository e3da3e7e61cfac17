"""scikit-learn's own log-loss tests, run against skxent's drop-in log_loss.

The tests ship inside the installed scikit-learn
(``sklearn/metrics/tests/test_classification.py``).  Every test function there
that calls ``log_loss`` directly is re-exported here under its own name (pytest
keeps its parametrize marks), and an autouse fixture swaps the module global
``log_loss`` of that test module for skxent's function, wrapped to count its
calls: a re-exported test that never reached skxent's function fails.

The generic metric invariance tests of ``sklearn/metrics/tests/test_common.py``
for "log_loss" and "unnormalized_log_loss" run too, with skxent's function
patched into that module's metric tables (and substituted where a test is
parametrized by the metric function itself).
"""

import functools
import inspect
import itertools
import re

import pytest
from _pytest.mark.structures import ParameterSet

# scikit-learn's test modules use its `thread_unsafe` marker: registered in
# pyproject.toml, as --strict-markers requires.
from sklearn.metrics.tests import test_classification as sk_tests

import skxent.metrics

SKLEARN_LOG_LOSS = sk_tests.log_loss
SKXENT_LOG_LOSS = skxent.metrics.log_loss

# The tests scikit-learn 1.9 has for log_loss (test_log_loss_* and the d2 tests
# that compare d2_log_loss_score with log_loss calls of their own).
EXPECTED = {
    "test_log_loss",
    "test_log_loss_eps",
    "test_log_loss_not_probabilities_warning",
    "test_log_loss_perfect_predictions",
    "test_log_loss_pandas_input",
    "test_log_loss_warnings",
    "test_log_loss_y_pred_deprecation",
}

_CALLS_LOG_LOSS = re.compile(r"(?<![\w.])log_loss\(")


def _calls_log_loss_directly(func):
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return False
    return bool(_CALLS_LOG_LOSS.search(source))


SKLEARN_TESTS = sorted(
    name
    for name, obj in vars(sk_tests).items()
    if name.startswith("test_") and inspect.isfunction(obj) and _calls_log_loss_directly(obj)
)

# Re-export: pytest collects them here, marks and all.
for _name in SKLEARN_TESTS:
    globals()[_name] = getattr(sk_tests, _name)
del _name


class _Counter:
    def __init__(self):
        self.calls = 0

    def wrap(self, func):
        @functools.wraps(func)
        def counted(*args, **kwargs):
            self.calls += 1
            return func(*args, **kwargs)

        return counted


@pytest.fixture(autouse=True, params=["test-module", "sklearn-names-replaced"])
def _skxent_log_loss_in_sklearn_tests(request, monkeypatch):
    """Swap the module global the sklearn tests call; check that they called it.

    Every test runs twice: with only the test module's global swapped, and
    with scikit-learn's own names replaced too, as a user (or
    ``skxent.patch_sklearn``) would replace them.  skxent's general path calls
    scikit-learn's function, captured at import: it must not find skxent's
    under scikit-learn's name and call itself.
    """
    counter = _Counter()
    counted = counter.wrap(SKXENT_LOG_LOSS)
    monkeypatch.setattr(sk_tests, "log_loss", counted)
    if request.param == "sklearn-names-replaced":
        import sklearn.metrics
        from sklearn.metrics import _classification

        monkeypatch.setattr(sklearn.metrics, "log_loss", counted)
        monkeypatch.setattr(_classification, "log_loss", counted)
    yield counter
    if request.function.__name__ in SKLEARN_TESTS and request.function is getattr(
        sk_tests, request.function.__name__
    ):
        assert counter.calls > 0, "the scikit-learn test never called skxent's log_loss"


def test_guard_swap_is_in_effect(_skxent_log_loss_in_sklearn_tests):
    swapped = sk_tests.log_loss
    assert swapped is not SKLEARN_LOG_LOSS
    assert swapped.__wrapped__ is SKXENT_LOG_LOSS
    assert SKXENT_LOG_LOSS.__module__ == "skxent.metrics"
    # Calls made the way the sklearn tests make them reach skxent's function.
    swapped([0, 1], [[0.9, 0.1], [0.2, 0.8]])
    assert _skxent_log_loss_in_sklearn_tests.calls == 1


def test_guard_sklearn_tests_collected():
    assert SKLEARN_TESTS, "no scikit-learn log-loss test was found"
    missing = EXPECTED - set(SKLEARN_TESTS)
    assert not missing, f"scikit-learn's log-loss tests not collected: {sorted(missing)}"
    for name in SKLEARN_TESTS:
        assert globals()[name] is getattr(sk_tests, name)


def test_guard_every_log_loss_test_is_included():
    """Any sklearn test named *log_loss* that calls log_loss is re-exported."""
    named = {
        name
        for name, obj in vars(sk_tests).items()
        if name.startswith("test_") and "log_loss" in name and inspect.isfunction(obj)
    }
    assert named & set(SKLEARN_TESTS) >= EXPECTED
    for name in named - set(SKLEARN_TESTS):
        # e.g. test_d2_log_loss_score_raises: it only calls d2_log_loss_score,
        # which uses scikit-learn's private _log_loss, not the module global.
        assert not _calls_log_loss_directly(getattr(sk_tests, name)), name


# ---------------------------------------------------------------------------
# sklearn/metrics/tests/test_common.py: the invariance tests for log_loss
# ---------------------------------------------------------------------------

sk_common = pytest.importorskip("sklearn.metrics.tests.test_common")

_NAMES = {"log_loss", "unnormalized_log_loss"}


def _is_sklearn_log_loss(value):
    if value is SKLEARN_LOG_LOSS:
        return True
    return isinstance(value, functools.partial) and value.func is SKLEARN_LOG_LOSS


def _to_skxent(value):
    if value is SKLEARN_LOG_LOSS:
        return SKXENT_LOG_LOSS
    if isinstance(value, functools.partial) and value.func is SKLEARN_LOG_LOSS:
        return functools.partial(SKXENT_LOG_LOSS, *value.args, **value.keywords)
    return value


def _metric_tables():
    """(dict, key) of every entry of test_common's tables holding sklearn's log_loss."""
    return [
        (table, key)
        for table in vars(sk_common).values()
        if isinstance(table, dict)
        for key, value in list(table.items())
        if _is_sklearn_log_loss(value)
    ]


def _expand(func):
    """The parameter combinations of a test's parametrize marks, as kwargs."""
    axes = []
    for mark in getattr(func, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        argnames = mark.args[0]
        if isinstance(argnames, str):
            argnames = [a.strip() for a in argnames.split(",") if a.strip()]
        values = []
        for v in mark.args[1]:
            marks = ()
            if isinstance(v, ParameterSet):
                v, marks = v.values, v.marks
            if len(argnames) == 1 and not (isinstance(v, tuple) and len(v) == 1):
                v = (v,)
            values.append((dict(zip(argnames, v)), tuple(marks)))
        axes.append(values)
    for combo in itertools.product(*axes):
        kwargs, marks = {}, ()
        for kw, mk in combo:
            kwargs.update(kw)
            marks += mk
        yield kwargs, marks


def _about_log_loss(kwargs):
    return any(
        (isinstance(v, str) and v in _NAMES) or _is_sklearn_log_loss(v) for v in kwargs.values()
    )


def _common_cases():
    cases = []
    for name, func in sorted(vars(sk_common).items()):
        if not (name.startswith("test_") and inspect.isfunction(func)):
            continue
        if "array_api" in name:
            # The array-API tests need SCIPY_ARRAY_API=1 set before scipy is
            # imported and another namespace (array_api_strict, torch, cupy):
            # with numpy alone they skip.  skxent's log_loss is for numpy input.
            continue
        if set(inspect.signature(func).parameters) - {
            "name",
            "metric",
            "metric_name",
            "y_true",
            "y_score",
            "df_lib_name",
        }:
            continue  # needs fixtures this project does not have
        for i, (kwargs, marks) in enumerate(_expand(func)):
            if _about_log_loss(kwargs):
                label = "-".join(_label(v) for v in kwargs.values() if _label(v))
                cases.append(pytest.param(name, kwargs, marks=marks, id=f"{name}[{label}-{i}]"))
    return cases


def _label(value):
    if isinstance(value, str):
        return value
    if value is SKLEARN_LOG_LOSS:
        return "log_loss"
    if _is_sklearn_log_loss(value):
        return "unnormalized_log_loss" if value.keywords == {"normalize": False} else "partial"
    return ""


COMMON_CASES = _common_cases()


@pytest.mark.parametrize("test_name, kwargs", COMMON_CASES)
def test_sklearn_common(test_name, kwargs, monkeypatch):
    counter = _Counter()
    counted = counter.wrap(SKXENT_LOG_LOSS)
    for table, key in _metric_tables():
        value = table[key]
        if value is SKLEARN_LOG_LOSS:
            monkeypatch.setitem(table, key, counted)
        else:
            partial = functools.partial(counted, *value.args, **value.keywords)
            monkeypatch.setitem(table, key, partial)
    monkeypatch.setattr(sk_common, "log_loss", counted)
    kwargs = {
        k: (
            counted
            if v is SKLEARN_LOG_LOSS
            else functools.partial(counted, *v.args, **v.keywords)
            if _is_sklearn_log_loss(v)
            else v
        )
        for k, v in kwargs.items()
    }
    if "df_lib_name" in kwargs:
        pytest.importorskip(kwargs["df_lib_name"])
    getattr(sk_common, test_name)(**kwargs)
    assert counter.calls > 0, "the scikit-learn test never called skxent's log_loss"


def test_guard_common_cases_collected():
    names = {p.values[0] for p in COMMON_CASES}
    assert {
        "test_sample_order_invariance",
        "test_format_invariance_with_1d_vectors",
        "test_continuous_inf_nan_input",
        "test_normalize_option_binary_classification",
        "test_normalize_option_multiclass_classification",
        "test_binary_sample_weight_invariance",
        "test_multiclass_sample_weight_invariance",
        "test_multilabel_sample_weight_invariance",
    } <= names
    assert _metric_tables(), "test_common no longer lists log_loss in its tables"
