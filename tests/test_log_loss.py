"""skxent.metrics.log_loss against sklearn.metrics.log_loss, the reference.

The drop-in must give the same value (to 1e-12 relative), the same warnings and,
for every input scikit-learn rejects, the same exception type with the same
message; it must never modify its inputs, and read-only or non-contiguous
arrays must work.  Each case is built by a factory, so that the reference and
skxent get fresh, independent inputs.
"""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.metrics import log_loss as sk_log_loss

import skxent.metrics._log_loss as skm  # the drop-in's module: its fast and general paths
from skxent.metrics import log_loss

RTOL = 1e-12

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _run(func, args, kwargs):
    """(value, (exc type, message) or None, [(warning category, message)])."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            value, err = func(*args, **kwargs), None
        except Exception as exc:  # noqa: BLE001 - compared with the reference
            value, err = None, (type(exc), str(exc))
    return value, err, [(w.category, str(w.message)) for w in record]


def _same_value(got, expected):
    if expected == got:  # also inf == inf
        return True
    return bool(np.isfinite(expected) and abs(got - expected) <= RTOL * abs(expected))


def _equal(a, b):
    """Deep equality of an input and its snapshot (arrays, frames, lists, scalars)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, (pd.Series, pd.DataFrame)):
        return (
            type(a) is type(b)
            and a.equals(b)
            and a.index.equals(b.index)
            and list(np.ravel(a.dtypes if hasattr(a, "columns") else [a.dtype]))
            == list(np.ravel(b.dtypes if hasattr(b, "columns") else [b.dtype]))
        )
    if sparse.issparse(a):
        return sparse.issparse(b) and a.shape == b.shape and (a != b).nnz == 0
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return type(a) is type(b) and bool(a == b)


def _inputs(args, kwargs):
    return list(args) + list(kwargs.values())


def _snapshot(args, kwargs):
    """Deep copies of the inputs, and the writeable flag of each array."""
    return [
        (x, copy.deepcopy(x), x.flags.writeable if isinstance(x, np.ndarray) else None)
        for x in _inputs(args, kwargs)
    ]


def _assert_unchanged(snapshot):
    for orig, snap, writeable in snapshot:
        assert _equal(orig, snap), f"input modified: {snap!r} became {orig!r}"
        if writeable is not None:
            assert orig.flags.writeable == writeable, "writeable flag changed"


def check_against_sklearn(make):
    """Run the reference and skxent on fresh inputs from ``make()``; compare all."""
    ref_args, ref_kwargs = make()
    ref = _run(sk_log_loss, ref_args, ref_kwargs)

    args, kwargs = make()
    snapshot = _snapshot(args, kwargs)
    got = _run(log_loss, args, kwargs)
    _assert_unchanged(snapshot)

    value, err, warns = got
    ref_value, ref_err, ref_warns = ref
    if ref_err is not None:
        assert err is not None, f"scikit-learn raised {ref_err}, skxent returned {value!r}"
        assert err[0] is ref_err[0], f"exception type {err[0]} != {ref_err[0]}: {err[1]}"
        assert err[1] == ref_err[1]
    else:
        assert err is None, f"skxent raised {err}, scikit-learn returned {ref_value!r}"
        assert isinstance(value, float)
        assert _same_value(value, ref_value), (value, ref_value)
    assert warns == ref_warns
    return got


# ---------------------------------------------------------------------------
# Valid inputs: the same value and the same warnings
# ---------------------------------------------------------------------------

RNG = np.random.default_rng(20261125)
N = 60
P3 = RNG.dirichlet(np.ones(3), size=N)
P4 = RNG.dirichlet(np.ones(4), size=N)
P2 = RNG.dirichlet(np.ones(2), size=N)
Y3 = np.r_[0, 1, 2, RNG.integers(0, 3, N - 3)]
Y2 = np.r_[0, 1, RNG.integers(0, 2, N - 2)]
SW = RNG.random(N) * 3
SW_INT = RNG.integers(0, 5, N)
SW_INT[0] = 3
SW_ZEROS = np.where(RNG.random(N) < 0.3, 0.0, SW)
SW_ZEROS[0] = 1.0
U64 = np.iinfo(np.uint64).max
ML4 = RNG.integers(0, 2, (N, 4))  # a multilabel indicator matrix


def _labels(values, codes, dtype=None):
    arr = np.asarray(values, dtype=dtype)
    return arr[codes]


VALID = {
    # integer labels
    "int-0..2": lambda: ((Y3, P3), {}),
    "int-list": lambda: ((Y3.tolist(), P3.tolist()), {}),
    "int-noncontiguous-values": lambda: ((_labels([3, 7, 100], Y3), P3), {}),
    "int-negative": lambda: ((_labels([-100, -7, 2], Y3), P3), {}),
    "int8-wide-span": lambda: ((_labels([-100, 0, 100], Y3, np.int8), P3), {}),
    "int8-extremes": lambda: ((_labels([-128, 0, 127], Y3, np.int8), P3), {}),
    "int32": lambda: ((_labels([-(2**31), 0, 2**31 - 1], Y3, np.int32), P3), {}),
    "int64-extremes": lambda: (
        (_labels([np.iinfo(np.int64).min, 0, np.iinfo(np.int64).max], Y3, np.int64), P3),
        {},
    ),
    "uint8": lambda: ((_labels([3, 7, 200], Y3, np.uint8), P3), {}),
    "uint64-near-max": lambda: ((_labels([U64 - 2, U64 - 1, U64], Y3, np.uint64), P3), {}),
    "uint64-near-max-gap": lambda: ((_labels([U64 - 9, U64 - 1, U64], Y3, np.uint64), P3), {}),
    "bool-1d": lambda: ((Y2.astype(bool), P2[:, 1]), {}),
    "bool-2col": lambda: ((Y2.astype(bool), P2), {}),
    "int-1d-binary": lambda: ((Y2, P2[:, 1]), {}),
    "int-1d-binary-3-7": lambda: ((_labels([3, 7], Y2), P2[:, 1]), {}),
    "int-n-by-1": lambda: ((Y2, P2[:, 1:]), {}),
    "int-1d-list": lambda: ((Y2.tolist(), P2[:, 1].tolist()), {}),
    # string and object labels
    "str": lambda: ((_labels(["ham", "eggs", "spam"], Y3), P3), {}),
    "str-list": lambda: ((_labels(["ham", "eggs", "spam"], Y3).tolist(), P3), {}),
    "str-1d": lambda: ((_labels(["no", "yes"], Y2), P2[:, 1]), {}),
    "str-empty-string": lambda: ((_labels(["", "a", "b"], Y3), P3), {}),
    "object-str": lambda: ((_labels(["a", "b", "c"], Y3, object), P3), {}),
    # float labels
    "float-0-1": lambda: ((Y2.astype(float), P2[:, 1]), {}),
    "float-0-1-2col": lambda: ((Y2.astype(float), P2), {}),
    "float-0-1-2": lambda: ((Y3.astype(float), P3), {}),
    "float32-labels": lambda: ((Y3.astype(np.float32), P3), {}),
    # labels=
    "labels-sorted-absent": lambda: ((Y3 % 2, P3), {"labels": [0, 1, 2]}),
    "labels-sorted-absent-ndarray": lambda: ((Y3 % 2, P3), {"labels": np.array([0, 1, 2])}),
    "labels-sorted-absent-str": lambda: (
        (_labels(["a", "b", "c"], Y3 % 2), P3),
        {"labels": ["a", "b", "c"]},
    ),
    "labels-sorted-absent-object": lambda: (
        (_labels(["a", "b", "c"], Y3 % 2), P3),
        {"labels": np.array(["a", "b", "c"], dtype=object)},
    ),
    "labels-unsorted": lambda: ((Y3, P3), {"labels": [2, 0, 1]}),
    "labels-unsorted-absent": lambda: ((Y3 % 2, P3), {"labels": [2, 0, 1]}),
    "labels-unsorted-str": lambda: (
        (_labels(["eggs", "ham", "spam"], Y3), P3),
        {"labels": ["spam", "eggs", "ham"]},
    ),
    "labels-ints-as-floats": lambda: ((Y3, P3), {"labels": [0.0, 1.0, 2.0]}),
    "labels-int8-y-int64": lambda: ((Y3, P3), {"labels": np.array([0, 1, 2], dtype=np.int8)}),
    "labels-single-class-present": lambda: ((np.full(N, 2), P2), {"labels": [1, 2]}),
    "labels-1d-proba": lambda: ((np.full(N, 1), P2[:, 1]), {"labels": [0, 1]}),
    "labels-4-classes": lambda: ((Y3, P4), {"labels": [0, 1, 2, 3]}),
    # sample weights and normalize
    "sw-float": lambda: ((Y3, P3), {"sample_weight": SW}),
    "sw-int": lambda: ((Y3, P3), {"sample_weight": SW_INT}),
    "sw-list": lambda: ((Y3, P3), {"sample_weight": SW.tolist()}),
    "sw-zeros": lambda: ((Y3, P3), {"sample_weight": SW_ZEROS}),
    "sw-float32": lambda: ((Y3, P3), {"sample_weight": SW.astype(np.float32)}),
    "sw-bool": lambda: ((Y3, P3), {"sample_weight": SW_ZEROS > 0}),
    "sw-negative": lambda: ((Y3, P3), {"sample_weight": SW - 1.0}),
    "sw-series": lambda: ((Y3, P3), {"sample_weight": pd.Series(SW)}),
    "normalize-false": lambda: ((Y3, P3), {"normalize": False}),
    "normalize-false-sw": lambda: ((Y3, P3), {"normalize": False, "sample_weight": SW}),
    "normalize-false-sw-int": lambda: ((Y3, P3), {"normalize": False, "sample_weight": SW_INT}),
    "normalize-np-bool": lambda: ((Y3, P3), {"normalize": np.bool_(False)}),
    "y_pred-keyword": lambda: ((Y3,), {"y_pred": P3}),  # FutureWarning
    "y_proba-keyword": lambda: ((Y3,), {"y_proba": P3}),
    # dtypes
    "float32": lambda: ((Y3, P3.astype(np.float32)), {}),
    "float32-sw": lambda: ((Y3, P3.astype(np.float32)), {"sample_weight": SW}),
    "float32-sw-float32": lambda: (
        (Y3, P3.astype(np.float32)),
        {"sample_weight": SW.astype(np.float32)},
    ),
    "float32-unnormalized": lambda: ((Y3, P3.astype(np.float32)), {"normalize": False}),
    "float32-1d": lambda: ((Y2, P2[:, 1].astype(np.float32)), {}),
    "float16": lambda: ((Y3, P3.astype(np.float16)), {}),
    "float16-sw": lambda: ((Y3, P3.astype(np.float16)), {"sample_weight": SW}),
    "float16-1d": lambda: ((Y2, P2[:, 1].astype(np.float16)), {}),
    "int-proba": lambda: ((Y3, np.eye(3, dtype=int)[Y3]), {}),
    "numeric-strings-proba": lambda: ((Y3, P3.astype(str)), {}),
    "big-endian": lambda: (
        (Y3.astype(">i8"), P3.astype(">f8")),
        {"sample_weight": SW.astype(">f8")},
    ),
    # pandas
    "pandas": lambda: ((pd.Series(Y3), pd.DataFrame(P3)), {}),
    "pandas-str": lambda: ((pd.Series(_labels(list("abc"), Y3)), pd.DataFrame(P3)), {}),
    "pandas-categorical": lambda: (
        (pd.Series(_labels(list("abc"), Y3)).astype("category"), pd.DataFrame(P3)),
        {},
    ),
    "pandas-nullable-int": lambda: ((pd.Series(Y3, dtype="Int64"), pd.DataFrame(P3)), {}),
    "pandas-float32": lambda: ((pd.Series(Y3), pd.DataFrame(P3.astype(np.float32))), {}),
    "pandas-1d-series": lambda: ((pd.Series(Y2), pd.Series(P2[:, 1])), {}),
    "pandas-index": lambda: (
        (pd.Series(Y3, index=np.arange(N)[::-1]), pd.DataFrame(P3, index=np.arange(N) * 2)),
        {},
    ),
    # multilabel indicator y_true: scikit-learn computes -sum y log p
    "multilabel": lambda: ((np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]]), P3[:4]), {}),
    "multilabel-random": lambda: ((ML4, P4), {}),
    "multilabel-list": lambda: (([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]], P3[:4]), {}),
    "multilabel-sw-unnormalized": lambda: (
        (np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]]), P3[:4]),
        {"sample_weight": [1.0, 2.0, 0.0, 0.5], "normalize": False},
    ),
    "y_true-column-vector": lambda: ((Y2[:, None], P2[:, 1]), {}),
    # rows not summing to one: a UserWarning, the same value
    "not-summing": lambda: ((Y3, P3 * 1.1), {}),
    "not-summing-one-row": lambda: ((Y3, np.vstack([P3[:-1], [0.2, 0.2, 0.2]])), {}),
    "not-summing-list": lambda: ((Y3.tolist(), (P3 * 0.9).tolist()), {}),
    "not-summing-float32": lambda: ((Y3, (P3 * 1.01).astype(np.float32)), {}),
    "not-summing-float16": lambda: ((Y3, (P3 * 1.1).astype(np.float16)), {}),
    "not-summing-labels": lambda: ((Y3 % 2, P3 * 0.5), {"labels": [0, 1, 2]}),
    "not-summing-unsorted-labels": lambda: ((Y3, P3 * 0.5), {"labels": [1, 0, 2]}),
    "summing-within-tolerance": lambda: ((Y3, P3 * (1 + 1e-9)), {}),
    "summing-within-tolerance-float32": lambda: ((Y3, (P3 * (1 + 1e-4)).astype(np.float32)), {}),
    # exact 0 and 1: clipping to [eps, 1 - eps] of the dtype
    "zeros-ones-float64": lambda: ((Y3, np.eye(3)[(Y3 + 1) % 3]), {}),
    "perfect-float64": lambda: ((Y3, np.eye(3)[Y3]), {}),
    "zeros-ones-float32": lambda: ((Y3, np.eye(3, dtype=np.float32)[(Y3 + 1) % 3]), {}),
    "perfect-float32": lambda: ((Y3, np.eye(3, dtype=np.float32)[Y3]), {}),
    "zeros-ones-float16": lambda: ((Y3, np.eye(3, dtype=np.float16)[(Y3 + 1) % 3]), {}),
    "zeros-ones-1d": lambda: ((Y2, (1 - Y2).astype(float)), {}),
    "perfect-1d-float32": lambda: ((Y2, Y2.astype(np.float32)), {}),
    "tiny-probabilities": lambda: ((Y2, np.where(Y2 == 1, 1e-300, 1 - 1e-300)), {}),
    "one-sample-two-classes-labels": lambda: (([1], [[0.3, 0.7]]), {"labels": [0, 1]}),
}


@pytest.mark.parametrize("case", list(VALID))
def test_matches_sklearn(case):
    value, err, _ = check_against_sklearn(VALID[case])
    assert err is None
    assert np.isfinite(value)


def _general_path(
    *args, y_proba=None, y_pred="deprecated", normalize=True, sample_weight=None, labels=None
):
    if len(args) > 1:
        y_proba = args[1]
    elif y_proba is None:
        y_proba = y_pred
    return skm._log_loss_general(args[0], y_proba, normalize, sample_weight, labels)


@pytest.mark.parametrize("case", [c for c in VALID if "keyword" not in c])
def test_general_path_matches_sklearn(case):
    """The fallback alone (used when the fast path declines) is also exact."""
    args, kwargs = VALID[case]()
    ref = _run(sk_log_loss, args, kwargs)
    args, kwargs = VALID[case]()
    got = _run(_general_path, args, kwargs)
    assert got[1] is None and ref[1] is None
    assert _same_value(got[0], ref[0]), (got[0], ref[0])
    assert got[2] == ref[2]


FAST = [
    "int-0..2",
    "int-noncontiguous-values",
    "int-negative",
    "int8-wide-span",
    "int8-extremes",
    "uint8",
    "uint64-near-max",
    "uint64-near-max-gap",
    "int-1d-binary",
    "str",
    "str-1d",
    "labels-sorted-absent-ndarray",
    "sw-float",
    "sw-int",
    "sw-zeros",
    "sw-negative",
    "normalize-false-sw",
    "float32",
    "float32-1d",
    "zeros-ones-float32",
    "perfect-float64",
]


# Rows that do not sum to one go to scikit-learn itself, which warns (its words,
# for the installed version) and computes the value: a slow path for odd input.


@pytest.mark.parametrize("case", FAST)
def test_fast_path_is_taken_for_clean_numpy_input(case, monkeypatch):
    """These cases must not need the general path (and still match scikit-learn)."""

    def fail(*args, **kwargs):
        raise AssertionError("the general path ran")

    monkeypatch.setattr(skm, "_log_loss_general", fail)
    check_against_sklearn(VALID[case])


def test_labels_warning_message_word_for_word():
    _, _, warns = check_against_sklearn(
        lambda: (
            (["eggs", "spam", "ham"], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]),
            {"labels": ["spam", "eggs", "ham"]},
        )
    )
    assert [c for c, _ in warns] == [UserWarning]
    assert "assumes labels are ordered lexicographically" in warns[0][1]


def test_sum_warning_and_y_pred_deprecation():
    _, _, warns = check_against_sklearn(lambda: ((Y3,), {"y_pred": P3 * 2 / 3}))
    assert sorted(c.__name__ for c, _ in warns) == ["FutureWarning", "UserWarning"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_sum_to_one_warning_at_the_tolerance_boundary(dtype):
    """Rows summing to 1 +- (1e-8 + sqrt(eps)), right at scikit-learn's edge.

    scikit-learn sums each row in the input's dtype; whether it warns there
    depends on that rounding, and the drop-in must warn exactly when it does.
    """
    rng = np.random.default_rng(7)
    tol = 1e-8 + np.sqrt(float(np.finfo(dtype).eps))
    for _ in range(300):
        k = int(rng.integers(2, 13))
        scale = 1 + rng.choice([-1, 1]) * tol * (1 + rng.normal() * 1e-3)
        row = rng.dirichlet(np.ones(k)) * scale
        proba = np.vstack([np.minimum(row, 1.0), np.eye(k)[1]]).astype(dtype)
        if rng.random() < 0.5:
            proba = np.asfortranarray(proba)
        y = np.array([0, 1])

        def make(proba=proba, y=y, k=k):
            return (y, proba.copy(order="K")), {"labels": np.arange(k)}

        check_against_sklearn(make)


def test_sum_to_one_warning_float32_rounding():
    """This float32 row sums to 1 - 3.45259e-4 in double, inside the tolerance
    1e-8 + sqrt(eps) = 3.45277e-4; summed in float32, as scikit-learn does, it is
    1 - 3.45290e-4, outside: scikit-learn warns, so the drop-in must."""
    row = np.array(
        [
            0.16381926834583282,
            0.144597128033638,
            0.0071569462306797504,
            0.1333693265914917,
            0.45388486981391907,
            0.0968272015452385,
        ],
        dtype=np.float32,
    )
    proba = np.vstack([row, np.eye(6, dtype=np.float32)[1]])
    _, _, warns = check_against_sklearn(
        lambda: ((np.array([0, 1]), proba.copy()), {"labels": np.arange(6)})
    )
    assert [c for c, _ in warns] == [UserWarning]


# ---------------------------------------------------------------------------
# A large case: the fast (threaded) path, exact
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def large():
    rng = np.random.default_rng(0)
    n, k = 200_000, 10
    logits = rng.normal(size=(n, k)) * 3
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    proba[:100] = np.eye(k)[rng.integers(0, k, 100)]  # exact 0 and 1 (clipping)
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)
    sw = rng.random(n)
    return y, proba, sw


@pytest.mark.parametrize("variant", ["float64", "float32", "weighted", "sum", "labels", "strings"])
def test_large_random_case_fast_path(large, variant, monkeypatch):
    y, proba, sw = large
    kwargs = {}
    if variant == "float32":
        proba = proba.astype(np.float32)
    elif variant == "weighted":
        kwargs["sample_weight"] = sw
    elif variant == "sum":
        kwargs.update(normalize=False, sample_weight=sw)
    elif variant == "labels":
        y = np.array([3, 7, 100, 101, 102, 200, 300, 301, 999, 1000])[y]
        kwargs["labels"] = np.array([3, 7, 100, 101, 102, 200, 300, 301, 999, 1000])
    elif variant == "strings":
        y = np.array([f"class{c:02d}" for c in range(10)])[y]
    y_copy, proba_copy = y.copy(), proba.copy()
    expected = sk_log_loss(y, proba, **kwargs)

    def fail(*args, **kw):
        raise AssertionError("the general path ran on clean numpy input")

    with monkeypatch.context() as m:
        m.setattr(skm, "_log_loss_general", fail)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = log_loss(y, proba, **kwargs)
    assert isinstance(got, float)
    assert got == expected or abs(got - expected) <= RTOL * abs(expected), (got, expected)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(proba, proba_copy)


def test_large_case_deterministic(large):
    y, proba, _ = large
    first = log_loss(y, proba)
    for _ in range(3):
        assert log_loss(y, proba) == first


# ---------------------------------------------------------------------------
# Invalid inputs: the same exception type and the same message
# ---------------------------------------------------------------------------


def _with(arr, index, value, dtype=None):
    out = np.array(arr, dtype=dtype if dtype is not None else np.asarray(arr).dtype)
    out[index] = value
    return out


BAD = {
    # non-finite and out-of-range probabilities
    "nan": lambda: ((Y3, _with(P3, (1, 1), np.nan)), {}),
    "nan-list": lambda: ((Y3.tolist(), _with(P3, (1, 1), np.nan).tolist()), {}),
    "nan-float32": lambda: ((Y3, _with(P3, (5, 0), np.nan).astype(np.float32)), {}),
    "nan-1d": lambda: ((Y2, _with(P2[:, 1], 3, np.nan)), {}),
    "inf": lambda: ((Y3, _with(P3, (1, 1), np.inf)), {}),
    "-inf": lambda: ((Y3, _with(P3, (1, 1), -np.inf)), {}),
    "inf-1d": lambda: ((Y2, _with(P2[:, 1], 3, np.inf)), {}),
    "above-one": lambda: ((Y3, _with(P3, (1, 1), 1.5)), {}),
    "above-one-float32": lambda: ((Y3, _with(P3, (1, 1), 1.0001).astype(np.float32)), {}),
    "above-one-1d": lambda: ((Y2, _with(P2[:, 1], 3, 1.2)), {}),
    "below-zero": lambda: ((Y3, _with(P3, (1, 1), -0.5)), {}),
    "below-zero-tiny": lambda: ((Y3, _with(P3, (1, 1), -1e-300)), {}),
    "below-zero-1d": lambda: ((Y2, _with(P2[:, 1], 3, -0.2)), {}),
    "below-zero-and-above-one": lambda: ((Y3, _with(_with(P3, (1, 1), -0.5), (2, 2), 2.0)), {}),
    # lengths
    "y_true-shorter": lambda: ((Y3[:-1], P3), {}),
    "y_true-longer-list": lambda: ((Y3.tolist() + [0], P3.tolist()), {}),
    "sklearn-inconsistent-message": lambda: (([2, 2], [[0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]), {}),
    "sw-shorter": lambda: ((Y3, P3), {"sample_weight": SW[:-1]}),
    "sw-longer-list": lambda: ((Y3, P3), {"sample_weight": SW.tolist() + [1.0]}),
    "sw-2d": lambda: ((Y3, P3), {"sample_weight": SW[:, None]}),
    "sw-2d-list": lambda: ((Y3, P3), {"sample_weight": SW[:, None].tolist()}),
    "sw-all-zero": lambda: ((Y3, P3), {"sample_weight": np.zeros(N)}),
    "sw-all-zero-list": lambda: ((Y3, P3), {"sample_weight": [0] * N}),
    "sw-all-zero-unnormalized": lambda: (
        (Y3, P3),
        {"sample_weight": np.zeros(N), "normalize": False},
    ),
    "sw-sum-zero": lambda: ((Y3, P3), {"sample_weight": np.r_[1.0, -1.0, np.zeros(N - 2)]}),
    "sw-nan": lambda: ((Y3, P3), {"sample_weight": _with(SW, 4, np.nan)}),
    "sw-inf": lambda: ((Y3, P3), {"sample_weight": _with(SW, 4, np.inf)}),
    "sw-strings": lambda: ((Y3, P3), {"sample_weight": np.array(["a"] * N)}),
    "sw-complex": lambda: ((Y3, P3), {"sample_weight": SW.astype(complex)}),
    "sw-scalar": lambda: ((Y3, P3), {"sample_weight": 2.0}),
    "sw-numpy-scalar": lambda: ((Y3, P3), {"sample_weight": np.float64(2.0)}),
    # labels
    "unknown-label": lambda: ((_with(Y3, 4, 5), P3), {"labels": [0, 1, 2]}),
    "unknown-label-ndarray": lambda: ((_with(Y3, 4, 5), P3), {"labels": np.array([0, 1, 2])}),
    "unknown-label-str": lambda: (
        (["a", "b", "c"], [[0.9, 0.1, 0.0], [0.1, 0.9, 0.0], [0.1, 0.1, 0.8]]),
        {"labels": ["a", "c", "d"]},
    ),
    "unknown-label-str-ndarray": lambda: (
        (_labels(["a", "b", "z"], Y3), P3),
        {"labels": np.array(["a", "b", "c"])},
    ),
    "single-class": lambda: ((np.full(N, 2), P2), {}),
    "single-class-list": lambda: (([2, 2], [[0.2, 0.8], [0.6, 0.4]]), {}),
    "single-class-str": lambda: ((np.array(["x"] * N), P2[:, 1]), {}),
    "labels-single": lambda: ((np.full(N, 2), P2), {"labels": [2]}),
    "labels-duplicated": lambda: ((Y3, P3), {"labels": [0, 1, 1, 2]}),
    "labels-2d": lambda: ((Y3, P3), {"labels": [[0, 1, 2]]}),
    "labels-type-mismatch": lambda: ((Y3, P3), {"labels": ["0", "1", "2"]}),
    "class-count-mismatch": lambda: ((Y2, P3), {}),
    "class-count-mismatch-3-vs-2": lambda: (([1, 0, 2], [[0.3, 0.7], [0.6, 0.4], [0.4, 0.6]]), {}),
    "class-count-mismatch-1d": lambda: ((Y3, P3[:, 0]), {}),
    "class-count-mismatch-labels": lambda: ((Y3 % 2, P3), {"labels": [0, 1]}),
    "class-count-mismatch-labels-4": lambda: ((Y3, P3), {"labels": [0, 1, 2, 3]}),
    "multilabel-wrong-k": lambda: ((ML4[:, :2], P3), {}),
    "bytes-labels": lambda: ((_labels([b"a", b"b", b"c"], Y3), P3), {}),
    "bytes-labels-with-labels": lambda: (
        (_labels([b"a", b"b", b"c"], Y3), P3),
        {"labels": [b"a", b"b", b"c"]},
    ),
    "nan-labels": lambda: ((_with(Y2.astype(float), 3, np.nan), P2[:, 1]), {}),
    "object-int-labels": lambda: ((_labels([0, 1, 2], Y3, object), P3), {}),  # unknown type
    "continuous-labels": lambda: ((Y3 + 0.5, P3), {}),
    "mixed-type-labels": lambda: ((np.array(["a", 1, "b"] * (N // 3), dtype=object), P3), {}),
    "y_true-3d": lambda: ((Y3[:, None, None], P3), {}),
    # shapes and dtypes of y_proba
    "proba-3d": lambda: ((Y3, P3[:, :, None]), {}),
    "proba-scalar": lambda: ((Y3[:1], 0.5), {}),
    "empty": lambda: (([], []), {}),
    "empty-ndarray": lambda: ((np.array([], dtype=int), np.empty((0, 3))), {}),
    "empty-columns": lambda: ((Y3, np.empty((N, 0))), {}),
    "complex": lambda: ((Y3, P3.astype(complex)), {}),
    "complex-1d": lambda: ((Y2, P2[:, 1].astype(complex)), {}),
    "string-proba": lambda: ((Y3, np.array([["a", "b", "c"]] * N)), {}),
    "object-proba-ragged": lambda: ((Y3[:2], np.array([[0.5, 0.5], [1.0]], dtype=object)), {}),
    "sparse-proba": lambda: ((Y3, sparse.csr_matrix(P3)), {}),
    "none-proba": lambda: ((Y3,), {}),
    # arguments
    "normalize-string": lambda: ((Y3, P3), {"normalize": "yes"}),
    "normalize-int": lambda: ((Y3, P3), {"normalize": 1}),
    "normalize-none": lambda: ((Y3, P3), {"normalize": None}),
    "normalize-float": lambda: ((Y3, P3), {"normalize": 0.0}),
    "both-y_pred-and-y_proba": lambda: ((Y3, P3), {"y_pred": P3}),
    "both-y_pred-and-y_proba-keywords": lambda: ((Y3,), {"y_pred": P3, "y_proba": P3}),
    "y_true-none": lambda: ((None, P3), {}),
    "y_true-scalar": lambda: ((1, P3), {}),
    "labels-scalar": lambda: ((Y3, P3), {"labels": 3}),
    "unknown-keyword": lambda: ((Y3, P3), {"eps": 1e-15}),
}


@pytest.mark.parametrize("case", list(BAD))
def test_invalid_input_same_error(case):
    _, err, _ = check_against_sklearn(BAD[case])
    assert err is not None, "scikit-learn accepts this input: move it to VALID"


# ---------------------------------------------------------------------------
# Layouts: read-only, Fortran order, strided views; inputs never modified
# ---------------------------------------------------------------------------


def _readonly(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


def _strided_rows(a):
    big = np.repeat(a, 2, axis=0)
    return big[::2]


def _strided_columns(a):
    wide = np.zeros((a.shape[0], 2 * a.shape[1]), dtype=a.dtype)
    wide[:, ::2] = a
    return wide[:, ::2]


LAYOUTS = {
    "readonly": _readonly,
    "fortran": np.asfortranarray,
    "strided-rows": _strided_rows,
    "strided-columns": _strided_columns,
    "reversed": lambda a: np.ascontiguousarray(a[::-1])[::-1],
    "readonly-fortran": lambda a: _readonly(np.asfortranarray(a)),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_layouts_give_the_same_value(layout, dtype, weighted):
    change = LAYOUTS[layout]
    proba = P3.astype(dtype)
    kwargs = {"sample_weight": SW} if weighted else {}
    contiguous = log_loss(Y3, proba, **kwargs)
    ref = sk_log_loss(Y3, proba, **kwargs)

    def make():
        kw = {}
        if weighted:
            kw["sample_weight"] = _readonly(SW) if layout == "readonly" else _strided_rows(SW)
        y = _strided_rows(Y3) if "strided" in layout else change(Y3[:, None])[:, 0]
        return (y, change(proba)), kw

    value, err, _ = check_against_sklearn(make)
    assert err is None
    assert value == contiguous
    assert _same_value(value, ref)


@pytest.mark.parametrize("layout", ["readonly", "strided-rows", "reversed"])
def test_layouts_1d_proba(layout):
    change = LAYOUTS[layout]
    expected = log_loss(Y2, P2[:, 1])

    def make():
        return (change(Y2[:, None])[:, 0], change(P2[:, 1:])[:, 0]), {}

    value, err, _ = check_against_sklearn(make)
    assert err is None and value == expected


def test_readonly_inputs_stay_readonly_and_unchanged():
    y, proba, sw = _readonly(Y3), _readonly(P3 * 1.1), _readonly(SW)  # warns: rows sum to 1.1
    with pytest.warns(UserWarning, match="do not sum to one"):
        log_loss(y, proba, sample_weight=sw)
    for a in (y, proba, sw):
        assert not a.flags.writeable
    np.testing.assert_array_equal(proba, P3 * 1.1)


def test_clipping_does_not_write_into_the_input():
    proba = np.eye(3)[Y3]  # exact zeros and ones: clipped internally
    before = proba.copy()
    log_loss(Y3, proba)
    log_loss(Y3, proba.astype(np.float32))
    np.testing.assert_array_equal(proba, before)


@pytest.mark.parametrize("k", [2, 4])
def test_labels_that_are_the_column_indices(k):
    # labels=[0, ..., k-1] with integer y takes the indices as they are; the
    # values are scikit-learn's, with a class missing from y too, and a label
    # outside them is scikit-learn's error.
    rng = np.random.default_rng(k)
    proba = rng.dirichlet(np.ones(k), 500)
    y = rng.integers(0, k - 1, 500)  # class k-1 never occurs
    labels = np.arange(k)
    assert log_loss(y, proba, labels=labels) == sk_log_loss(y, proba, labels=labels)
    assert log_loss(y, proba, labels=list(labels), normalize=False) == sk_log_loss(
        y, proba, labels=list(labels), normalize=False
    )
    y[3] = k + 1
    with pytest.raises(ValueError) as ours:
        log_loss(y, proba, labels=labels)
    with pytest.raises(ValueError) as theirs:
        sk_log_loss(y, proba, labels=labels)
    assert str(ours.value) == str(theirs.value)
