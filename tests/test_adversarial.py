"""The defects an adversarial run found, and properties that catch their variants.

Each reproducer of the report runs as it was given, against an independent
reference (the unweighted value, mpmath at 50 digits, scikit-learn, or the
error that names the argument).  Then hypothesis searches the neighbourhood:
rescaled weights from the smallest subnormal to the largest float, outputs
aliasing inputs, resource arguments of any size, and values near P = Q and near
probabilities of 0 and 1 against mpmath.
"""

import math
import sys

import mpmath
import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from scipy import sparse

from skxent import CrossEntropyClassifier
from skxent.loss import hessp, loss_gradient
from skxent.metrics import (
    binary_cross_entropy,
    cross_entropy,
    focal_cross_entropy,
    kl_divergence,
    perplexity,
)

mpmath.mp.dps = 50
M = mpmath.mpf
TINY = 5e-324
HUGE = sys.float_info.max
P2 = np.array([[0.9, 0.1], [0.2, 0.8]])


def close(value, reference, rtol=1e-12):
    reference = float(reference)
    assert value == pytest.approx(reference, rel=rtol, abs=0), (value, reference)


# ---------------------------------------------------------------------------
# 1. n_threads is bounded
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n_threads", [2**31 - 1, 10**4, 10**12, 2**64, 0, -1])
def test_absurd_n_threads_is_an_error_naming_it(n_threads):
    y, raw = np.array([0]), np.zeros((1, 2))
    with pytest.raises(ValueError, match=r"n_threads.*\[1, \d+\]"):
        loss_gradient(y, raw, n_threads=n_threads)
    with pytest.raises(ValueError, match="n_threads"):
        hessp(y, raw, raw.copy(), n_threads=n_threads)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_any_integer_n_threads_runs_or_is_refused(n_threads):
    y, raw = np.array([0, 1]), np.array([[1.0, -1.0], [0.5, 2.0]])
    reference = loss_gradient(y, raw, n_threads=1)
    try:
        got = loss_gradient(y, raw, n_threads=n_threads)
    except ValueError as exc:
        assert "n_threads" in str(exc)
        assert not 1 <= n_threads <= 8
    else:
        for a, b in zip(got, reference):
            assert np.array_equal(a, b)


# ---------------------------------------------------------------------------
# 2. Outputs that alias inputs
# ---------------------------------------------------------------------------


def test_reproducers_of_aliased_outputs_are_refused():
    z = np.array([[2.0, 0.0, -1.0]])
    with pytest.raises(ValueError, match="gradient_out shares memory with raw"):
        loss_gradient(np.array([0]), z, gradient_out=z)
    T = np.array([[0.7, 0.2, 0.1]])
    with pytest.raises(ValueError, match="gradient_out shares memory with y"):
        loss_gradient(T, z.copy(), gradient_out=T)
    v = np.ones((1, 3))
    with pytest.raises(ValueError, match="out shares memory with vector"):
        hessp(np.array([0]), z, v, out=v)
    # and the values they should have given, with separate buffers
    loss, _ = loss_gradient(np.array([0]), z)
    ref = mpmath.log(sum(mpmath.exp(M(c)) for c in z[0])) - M(z[0, 0])
    close(loss[0], ref)


_ALIASES = [
    # (function, output keyword, input that the output is carved from)
    ("loss_gradient", "gradient_out", "raw"),
    ("loss_gradient", "gradient_out", "target"),
    ("loss_gradient", "loss_out", "raw"),
    ("loss_gradient", "loss_out", "target"),
    ("loss_gradient", "loss_out", "gradient"),
    ("hessp", "out", "raw"),
    ("hessp", "out", "vector"),
    ("hessp", "out", "target"),
]


@settings(max_examples=80, deadline=None)
@given(
    case=st.sampled_from(_ALIASES),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    k=st.integers(2, 6),
    offset=st.integers(0, 3),
)
def test_aliased_outputs_are_refused_or_harmless(case, seed, n, k, offset):
    func_name, out_name, source = case
    rng = np.random.default_rng(seed)
    buffers = {
        "raw": rng.normal(size=(n + 1) * k + 8),
        "target": rng.dirichlet(np.ones(k), n + 2).ravel(),
        "vector": rng.normal(size=(n + 1) * k + 8),
        "gradient": np.empty((n + 1) * k + 8),
    }
    raw = buffers["raw"][: n * k].reshape(n, k)
    target = buffers["target"][: n * k].reshape(n, k)
    vector = buffers["vector"][: n * k].reshape(n, k)
    shape = (n,) if out_name == "loss_out" else (n, k)
    size = int(np.prod(shape))
    out = buffers[source][offset : offset + size].reshape(shape)
    kwargs = {out_name: out}
    if out_name == "loss_out":
        kwargs["gradient_out"] = buffers["gradient"][: n * k].reshape(n, k)
    separate = {
        "raw": raw.copy(),
        "target": target.copy(),
        "vector": vector.copy(),
    }
    if func_name == "loss_gradient":
        expected = loss_gradient(separate["target"], separate["raw"])
        expected = expected[0] if out_name == "loss_out" else expected[1]
        call = lambda: loss_gradient(target, raw, **kwargs)  # noqa: E731
    else:
        expected = hessp(separate["target"], separate["raw"], separate["vector"])
        call = lambda: hessp(target, raw, vector, **kwargs)  # noqa: E731
    try:
        result = call()
    except ValueError as exc:
        assert out_name in str(exc) and "shares memory" in str(exc)
        return
    got = result[0] if out_name == "loss_out" else result
    got = got[1] if func_name == "loss_gradient" and out_name != "loss_out" else got
    assert np.array_equal(got, expected)


# ---------------------------------------------------------------------------
# 3 and 5. Huge and subnormal sample weights in the metrics
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [1e308, HUGE, TINY, 1e-310, 2.2250738585072014e-308])
@pytest.mark.parametrize("n_rows", [2, 4])
def test_uniform_extreme_weights_give_the_unweighted_mean(weight, n_rows):
    y = np.tile([0, 1], n_rows // 2)
    P = np.tile(P2, (n_rows // 2, 1))
    sw = [weight] * n_rows
    assert cross_entropy(y, P, sample_weight=sw) == cross_entropy(y, P)
    clipped = np.tile([[1.0, 0.0], [0.2, 0.8]], (n_rows // 2, 1))
    assert cross_entropy(y, clipped, sample_weight=sw) == cross_entropy(y, clipped)
    assert binary_cross_entropy(y, P[:, 1], sample_weight=sw) == binary_cross_entropy(y, P[:, 1])
    assert focal_cross_entropy(y, P, sample_weight=sw) == focal_cross_entropy(y, P)
    assert perplexity(y, P, sample_weight=sw) == perplexity(y, P)
    # the sum scales back honestly (it may overflow to inf, or underflow)
    total = cross_entropy(y, P, sample_weight=sw, reduction="sum")
    exact = M(weight) * sum(-mpmath.log(M(P[i, y[i]])) for i in range(n_rows))
    if exact < M(HUGE) and exact > M(2.2250738585072014e-308):
        close(total, exact)


def test_reproducers_of_extreme_weights():
    ref = float(-(mpmath.log(M(0.9)) + mpmath.log(M(0.8))) / 2)
    close(cross_entropy([0, 1], P2, sample_weight=[1e308] * 2), ref)
    close(binary_cross_entropy([0, 1], [0.1, 0.8], sample_weight=[1e308] * 2), ref)
    close(cross_entropy([0, 1], P2, sample_weight=[5e-324] * 2), ref)
    P4 = np.array([[0.9, 0.1], [0.2, 0.8], [1e-8, 1 - 1e-8], [0.5, 0.5]])
    ref4 = -sum(mpmath.log(M(P4[i, c])) for i, c in enumerate([0, 1, 0, 1])) / 4
    close(cross_entropy([0, 1, 0, 1], P4, sample_weight=[5e-324] * 4), ref4)


weights = st.lists(st.integers(1, 16), min_size=2, max_size=8)


@settings(max_examples=100, deadline=None)
@given(w=weights, exponent=st.integers(-1070, 1019), seed=st.integers(0, 2**32 - 1))
def test_weighted_mean_is_unchanged_by_power_of_two_rescaling(w, exponent, seed):
    # w * 2**e is exact from the smallest subnormal up to the largest float:
    # the mean must be bit for bit the same.
    rng = np.random.default_rng(seed)
    n = len(w)
    P = rng.dirichlet(np.ones(3), n)
    y = rng.integers(0, 3, n)
    w = np.array(w, dtype=float)
    scaled = np.ldexp(w, exponent)
    assert np.array_equal(scaled / np.ldexp(1.0, exponent), w)
    assert cross_entropy(y, P, sample_weight=scaled) == cross_entropy(y, P, sample_weight=w)
    Y = (rng.uniform(size=(n, 2)) < 0.5).astype(float)
    Q = rng.uniform(0.05, 0.95, size=(n, 2))
    assert binary_cross_entropy(Y, Q, sample_weight=scaled) == binary_cross_entropy(
        Y, Q, sample_weight=w
    )


@settings(max_examples=100, deadline=None)
@given(
    w=st.lists(st.floats(0.01, 100.0), min_size=2, max_size=8),
    factor=st.floats(1e-300, 1e300),
    seed=st.integers(0, 2**32 - 1),
)
def test_weighted_mean_is_unchanged_by_any_rescaling(w, factor, seed):
    w = np.array(w)
    assume(np.isfinite(w.max() * factor) and w.min() * factor > 2.2250738585072014e-308)
    rng = np.random.default_rng(seed)
    n = len(w)
    P = rng.dirichlet(np.ones(3), n)
    y = rng.integers(0, 3, n)
    a = cross_entropy(y, P, sample_weight=w * factor)
    b = cross_entropy(y, P, sample_weight=w)
    assert a == pytest.approx(b, rel=1e-13)


# ---------------------------------------------------------------------------
# 4. The classifier with uniform extreme weights
# ---------------------------------------------------------------------------

X4 = np.array([[0.0], [1.0], [2.0], [3.0]])
Y4 = np.array([0, 0, 1, 1])


def test_reproducer_uniform_extreme_weights_scale_the_penalty():
    # The objective is LogisticRegression's, C * sum_i s_i l_i + ||W||^2 / 2:
    # multiplying every weight by c is multiplying C by c.  Weights of 1e308
    # with C = 1e-308 are the unweighted fit with C = 1 (0.958); scikit-learn's
    # own lbfgs overflows there and returns 0.
    plain = CrossEntropyClassifier(tol=1e-10).fit(X4, Y4)
    assert plain.coef_[0, 0] == pytest.approx(0.958, abs=1e-3)
    for c in (1e308, HUGE / 8, 1e-300, 1e-307):
        clf = CrossEntropyClassifier(C=1 / c, tol=1e-10).fit(X4, Y4, sample_weight=[c] * 4)
        np.testing.assert_allclose(clf.coef_, plain.coef_, rtol=1e-9)
        np.testing.assert_allclose(clf.intercept_, plain.intercept_, rtol=1e-9, atol=1e-12)
    # With C = 1, weights of 1e308 leave (almost) no penalty on separable data:
    # large coefficients (the gradient falls below tol as the fit saturates),
    # and no silent zero.
    big = CrossEntropyClassifier().fit(X4, Y4, sample_weight=[1e308] * 4)
    assert big.coef_[0, 0] > 5
    # ... and weights of 1e-310 a penalty of 2.5e309: coefficients of 0.
    tiny = CrossEntropyClassifier().fit(X4, Y4, sample_weight=[1e-310] * 4)
    assert abs(tiny.coef_[0, 0]) < 1e-290
    assert abs(tiny.intercept_[0]) < 1e-12


@settings(max_examples=12, deadline=None)
@given(exponent=st.integers(-1000, 1000), solver=st.sampled_from(["newton-cholesky", "lbfgs"]))
def test_classifier_weight_scaling_is_penalty_scaling(exponent, solver):
    X = np.array([[0.0, 1.0], [1.0, 0.5], [2.0, 2.0], [3.0, 1.0], [1.5, 0.0], [0.5, 2.5]])
    y = np.array([0, 0, 1, 1, 0, 1])
    w = np.array([1.0, 2.0, 1.0, 3.0, 1.0, 2.0])
    c = 2.0**exponent
    ref = CrossEntropyClassifier(solver=solver, tol=1e-12, max_iter=1000).fit(X, y, sample_weight=w)
    got = CrossEntropyClassifier(solver=solver, C=1 / c, tol=1e-12, max_iter=1000).fit(
        X, y, sample_weight=w * c
    )
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=1e-7, atol=1e-10)


# ---------------------------------------------------------------------------
# 6 and 7. Precision near 0, 1 and P = Q, against mpmath
# ---------------------------------------------------------------------------


def test_reproducer_1d_binary_probability_near_zero():
    close(cross_entropy([0], [1e-10], eps=0), -mpmath.log1p(-M(1e-10)))


@settings(max_examples=150, deadline=None)
@example(p=1e-10, label=0, smoothing=0.0)
@example(p=1e-300, label=0, smoothing=0.0)
@example(p=1 - 2.0**-53, label=1, smoothing=0.0)
@example(p=2.0**-1074, label=1, smoothing=0.0)
@given(
    p=st.floats(2.0**-1074, 1.0, exclude_max=True),
    label=st.integers(0, 1),
    smoothing=st.sampled_from([0.0, 0.1]),
)
def test_binary_probabilities_near_zero_and_one_vs_mpmath(p, label, smoothing):
    t1 = M(1 - smoothing) * label + M(smoothing) / 2
    # log1p: with p below 10**-dps, 1 - p would round to 1 in mpmath too.
    ref = -(t1 * mpmath.log(M(p)) + (1 - t1) * mpmath.log1p(-M(p)))
    assume(ref > 0)
    close(cross_entropy([label], [p], eps=0, label_smoothing=smoothing), ref)
    close(binary_cross_entropy([label], [p], eps=0, label_smoothing=smoothing), ref)


@settings(max_examples=150, deadline=None)
@given(z=st.floats(-700, 700), label=st.integers(0, 1))
def test_logits_vs_mpmath(z, label):
    ref = mpmath.log1p(mpmath.exp(-M(z) if label else M(z)))
    assume(ref > M(2.2250738585072014e-308))
    close(binary_cross_entropy([label], [z], from_logits=True), ref)
    close(cross_entropy([label], [[0.0, z]], from_logits=True), ref)


def _mp_kl(p, q):
    return sum(M(a) * mpmath.log(M(a) / M(b)) for a, b in zip(p, q) if a > 0)


def test_reproducer_kl_near_equal():
    p, q = [0.25, 0.75], [0.25 + 1e-12, 0.75 - 1e-12]
    close(kl_divergence(p, q), _mp_kl(p, q))


@settings(max_examples=150, deadline=None)
@given(
    p=st.lists(st.floats(1e-6, 1.0), min_size=2, max_size=6),
    scale=st.sampled_from([1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 1e-1]),
    seed=st.integers(0, 2**32 - 1),
)
def test_kl_near_p_equals_q_vs_mpmath(p, scale, seed):
    p = np.array(p) / np.sum(p)
    q = p * (1 + scale * np.random.default_rng(seed).standard_normal(p.size))
    q = q / q.sum()
    assume(np.all(q > 0))
    ref = _mp_kl(p, q)
    # The value is representable and positive: the inputs' own rounding (their
    # sums are 1 only to rounding) must not dominate it.
    assume(ref > 64 * M(2.0**-52) * abs(sum(M(a) - M(b) for a, b in zip(p, q))) + M(1e-300))
    close(kl_divergence(p, q), ref, rtol=1e-12)


# ---------------------------------------------------------------------------
# 8. Non-finite class weights
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_class_weight_says_so(bad):
    with pytest.raises(ValueError, match=r"class_weight must be finite.*class 0"):
        CrossEntropyClassifier(class_weight={0: bad}).fit(X4, Y4)
    with pytest.raises(ValueError, match="class_weight must be finite"):
        cross_entropy([0, 1], P2, class_weight=[1.0, bad])


# ---------------------------------------------------------------------------
# 9. A sparse fit with very many columns: the work is the data's size
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_fit_with_a_million_columns(fmt, n_classes):
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 300, 3000), rng.integers(0, 10**6, 3000)
    X = sparse.coo_matrix((rng.uniform(size=3000), (rows, cols)), shape=(300, 10**6)).asformat(fmt)
    y = rng.integers(0, n_classes, 300)
    # tol bounds the gradient, and the coefficients' error is up to tol / l2 =
    # 300 tol here: 1e-10 leaves them within the tolerances below.
    clf = CrossEntropyClassifier(tol=1e-10).fit(X, y)
    used = np.flatnonzero(np.diff(X.tocsc().indptr))
    assert clf.coef_.shape == (1 if n_classes == 2 else n_classes, 10**6)
    assert not clf.coef_[:, np.setdiff1d(np.arange(10**6), used)].any()
    # The same as a fit of the used columns alone.
    ref = CrossEntropyClassifier(tol=1e-10).fit(X[:, used].toarray(), y)
    np.testing.assert_allclose(clf.coef_[:, used], ref.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X[:, used]), rtol=1e-7)


def test_zero_weights_with_infinite_loss_do_not_make_nan():
    # a zero-weight row whose probability is 0 on its class (eps=0): 0, not NaN
    value = cross_entropy([0, 1], [[0.0, 1.0], [0.2, 0.8]], eps=0, sample_weight=[0.0, 1.0])
    close(value, -mpmath.log(M(0.8)))
    assert math.isfinite(value)


# ---------------------------------------------------------------------------
# Defects a review found (each test fails without its fix)
# ---------------------------------------------------------------------------


def test_newton_cg_float32_softmax_intercepts_stay_put():
    # float32 rounding gave the gradient a component along "add one number to
    # every class's intercept", which the preconditioner blew up to 1e6.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 8))
    y = rng.integers(0, 4, 500)
    for C in (1.0, np.inf):
        ref = CrossEntropyClassifier(tol=1e-12, solver="newton-cholesky", C=C).fit(X, y)
        got = CrossEntropyClassifier(tol=1e-8, solver="newton-cg", C=C)
        with warnings_ignored():
            got.fit(X.astype(np.float32), y)
        assert np.abs(got.intercept_).max() < 10
        np.testing.assert_allclose(got.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def test_class_weight_list_with_labels_names_the_bad_weight():
    p = [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]
    with pytest.raises(ValueError, match="class_weight must be finite and non-negative"):
        cross_entropy(["a", "c"], p, labels=["a", "b", "c"], class_weight=[1, -1, 1])
    with pytest.raises(ValueError, match="alpha must be finite"):
        focal_cross_entropy(["a", "c"], p, labels=["a", "b", "c"], alpha=[1, np.nan, 1])


def test_a_failed_fit_leaves_the_estimator_as_it_was():
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = np.arange(20) % 2
    clf = CrossEntropyClassifier(solver="lbfgs", l1_ratio=0.5)
    with pytest.raises(ValueError, match="l1_ratio"):
        clf.fit(X, y)
    assert not [name for name in vars(clf) if name.endswith("_")]
    fitted = CrossEntropyClassifier().fit(X, y)
    before = (fitted.classes_.copy(), fitted.coef_.copy())
    fitted.set_params(solver="lbfgs", l1_ratio=0.5)
    with pytest.raises(ValueError):
        fitted.fit(X, np.array(["a", "b"] * 10))
    np.testing.assert_array_equal(fitted.classes_, before[0])
    np.testing.assert_array_equal(fitted.coef_, before[1])


def test_kl_divergence_scorer_checks_its_weights():
    from skxent.scorers import kl_divergence_score

    with pytest.raises(ValueError, match="sample_weight"):
        kl_divergence_score([0, 1], [[0.9, 0.1], [0.2, 0.8]], sample_weight=[-1, 3])
    with pytest.raises(ValueError, match="sample_weight"):
        kl_divergence_score([0, 1], [[0.9, 0.1], [0.2, 0.8]], sample_weight=[0, 0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"label_smoothing": -0.5}, "label_smoothing"),
        ({"label_smoothing": 1.5}, "label_smoothing"),
        ({"max_iter": -5}, "max_iter"),
        ({"max_iter": 2.5}, "max_iter"),
        ({"tol": -1.0}, "tol"),
        ({"fit_intercept": "no"}, "fit_intercept"),
    ],
)
def test_cross_entropy_path_checks_its_arguments(kwargs, match):
    from skxent import cross_entropy_path

    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises((ValueError, TypeError), match=match):
        cross_entropy_path(X, np.arange(20) % 2, **kwargs)


class warnings_ignored:
    def __enter__(self):
        import warnings

        self._context = warnings.catch_warnings()
        self._context.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)
