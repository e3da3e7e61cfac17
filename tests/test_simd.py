"""The vector kernels of every instruction set this CPU runs, forced one at a time.

skxent/_simd.h compiles the kernels for AVX-512, AVX2 with FMA, SSE2 and plain
C, and picks the widest the CPU has at import.  Here each set is forced in
turn (``_core.simd_select``) and checked on its own: its exp and log against
mpmath at 50 digits, its losses and gradients against the mpmath references
of test_loss.py, and the bitwise properties (a row alone and in a batch, one
thread and two) that must hold within each set.
"""

import mpmath
import numpy as np
import pytest
from numpy.testing import assert_allclose
from test_loss import TOL, assert_close, make_case, reference

from skxent import _core
from skxent.loss import hessp, loss_gradient

mpmath.mp.dps = 50

LEVELS = list(_core.simd_levels())


@pytest.fixture(params=LEVELS)
def level(request):
    previous = _core.simd_select(request.param)
    assert _core.build_info()["simd"] == request.param
    yield request.param
    _core.simd_select(previous)


def test_the_widest_set_is_the_default():
    assert _core.build_info()["simd"] == LEVELS[-1]
    assert LEVELS[0] == "none"  # the plain C fallback runs everywhere
    with pytest.raises(ValueError):
        _core.simd_select("no-such-set")


def ulps(actual, expected):
    """|actual - expected| in units of the last place of expected (of its dtype)."""
    actual = np.asarray(actual)
    expected = np.asarray(expected, dtype=actual.dtype)
    spacing = np.spacing(np.abs(expected)).astype(np.float64)
    return np.abs(actual.astype(np.float64) - expected.astype(np.float64)) / spacing


def mp_map(f, x, dtype):
    return np.array([float(f(mpmath.mpf(float(v)))) for v in x]).astype(dtype)


def run(name, x):
    out = np.empty_like(x)
    _core.simd_map(name, x, out)
    return out


# Points of every length class: whole vectors and partial tails (n = 1..40).
def points(lo, hi, n, dtype, rng):
    x = np.concatenate([np.linspace(lo, hi, n), rng.uniform(lo, hi, n)]).astype(dtype)
    return x


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exp_against_mpmath(level, dtype):
    rng = np.random.default_rng(0)
    lo = -708.0 if dtype == np.float64 else -87.0
    x = points(lo, 0.0, 301, dtype, rng)
    y = run("exp", x)
    assert ulps(y, mp_map(mpmath.exp, x, dtype)).max() <= 2
    # subnormal results, exactly 0 below them, exp(0) = 1 exactly, -inf, NaN
    tiny = np.linspace(-745.2 if dtype == np.float64 else -104.0, lo, 97).astype(dtype)
    ref = mp_map(mpmath.exp, tiny, dtype)
    y = run("exp", tiny)
    smallest = np.finfo(dtype).smallest_subnormal
    assert np.all(np.abs(y.astype(float) - ref.astype(float)) <= 2 * smallest)
    special = np.array([0.0, -0.0, -np.inf, np.nan, -1e300 if dtype == np.float64 else -1e30],
                       dtype=dtype)
    y = run("exp", special)
    assert y[0] == 1.0 and y[1] == 1.0 and y[2] == 0.0 and np.isnan(y[3]) and y[4] == 0.0


@pytest.mark.parametrize("n", range(1, 41))
def test_exp_tails_take_the_vector_path(level, n):
    # Every length gives each entry the same bits as in a long run.
    rng = np.random.default_rng(n)
    for dtype in (np.float64, np.float32):
        x = rng.uniform(-30, 0, 64).astype(dtype)
        full = run("exp", x)
        assert np.array_equal(run("exp", x[:n].copy()), full[:n])
        assert np.array_equal(run("exp", x[64 - n :].copy()), full[64 - n :])


def test_log_against_mpmath(level):
    rng = np.random.default_rng(1)
    x = np.concatenate([points(1.0, 2.0, 301, np.float64, rng),
                        points(1.0, 1e4, 301, np.float64, rng), [1.0, 2.0, 1.0 + 2**-52]])
    y = run("log", x)
    ref = mp_map(mpmath.log, x, np.float64)
    assert y[-3] == 0.0
    nonzero = ref != 0
    assert ulps(y[nonzero], ref[nonzero]).max() <= 2
    assert np.isnan(run("log", np.array([np.nan])))[0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log1p_against_mpmath(level, dtype):
    rng = np.random.default_rng(2)
    x = np.concatenate([points(0.0, 1.0, 301, dtype, rng),
                        np.geomspace(1e-300 if dtype == np.float64 else 1e-37, 1e-3, 60),
                        [0.5, np.nextafter(0.5, 0), 1.0]]).astype(dtype)
    y = run("log1p", x)
    ref = mp_map(mpmath.log1p, x, dtype)
    assert y[0] == 0.0
    assert ulps(y[1:], ref[1:]).max() <= 2
    assert np.isnan(run("log1p", np.array([np.nan], dtype=dtype)))[0]


# ---------------------------------------------------------------------------
# The kernels on each set: against mpmath, and the bitwise properties
# ---------------------------------------------------------------------------

CASES = [
    ("softmax", "int", "plain"),
    ("softmax", "int", "all"),
    ("softmax", "matrix", "all"),
    ("sigmoid", "1d", "plain"),
    ("sigmoid", "2d", "all"),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("link, kind, weighting", CASES)
@pytest.mark.parametrize("k", [3, 10, 17])
def test_kernels_against_mpmath(level, link, kind, weighting, dtype, k):
    y, raw, kw = make_case(link, kind, weighting, dtype, n=29, k=k, L=k)
    v = np.random.default_rng(1).normal(size=raw.shape).astype(dtype)
    ref_loss, ref_grad, ref_hv = reference(y, raw, vector=v, **kw)
    loss, grad = loss_gradient(y, raw, **kw)
    tol = TOL[dtype]
    assert_close(loss, ref_loss, tol["loss"], tol["atol"])
    assert_close(grad, ref_grad, tol["grad"], tol["atol"])
    assert_close(hessp(y, raw, v, **kw), ref_hv, tol["grad"], tol["atol"])


def test_tiny_losses_on_each_set(level):
    loss, _ = loss_gradient(np.array([0, 0, 0]), np.array([[10.0, -10.0], [300.0, -300.0],
                                                          [0.0, -745.0]]))
    expected = [float(mpmath.log1p(mpmath.exp(-d))) for d in (20, 600, 745)]
    assert_allclose(loss, expected, rtol=1e-13)
    loss, _ = loss_gradient(np.array([1.0]), np.array([20.0]), link="sigmoid")
    assert_allclose(loss, float(mpmath.log1p(mpmath.exp(-20))), rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [1, 2, 5, 10, 16, 33, 200, 1000])
def test_rows_alone_and_in_a_batch_on_each_set(level, dtype, k):
    rng = np.random.default_rng(k)
    n = 300  # several chunks, a partial last one
    raw = rng.normal(scale=3, size=(n, k)).astype(dtype)
    y = rng.integers(0, k, n)
    loss, grad = loss_gradient(y, raw)
    hv = hessp(y, raw, np.ones_like(raw))
    for i in list(range(0, n, 37)) + [n - 1]:
        li, gi = loss_gradient(y[i : i + 1], raw[i : i + 1])
        assert li[0] == loss[i] and np.array_equal(gi[0], grad[i]), i
        assert np.array_equal(hessp(y[i : i + 1], raw[i : i + 1], np.ones_like(raw[:1]))[0], hv[i])
    z = raw.reshape(-1)
    t = rng.integers(0, 2, z.shape[0]).astype(dtype)
    sl, sg = loss_gradient(t, z, link="sigmoid")
    for i in (0, 1, 15, 16, 17, z.shape[0] // 2, z.shape[0] - 1):
        li, gi = loss_gradient(t[i : i + 1], z[i : i + 1], link="sigmoid")
        assert li[0] == sl[i] and gi[0] == sg[i], i


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [200, 1000])
def test_many_classes_against_scipy_on_each_set(level, dtype, k):
    # Chunks of fewer rows than a vector has lanes (one row at 1000 classes):
    # the lanes past the chunk's rows take no part.  Reference: scipy's
    # softmax and logsumexp in float64.
    from scipy.special import logsumexp, softmax

    rng = np.random.default_rng(k)
    n = 23
    raw = rng.normal(scale=4, size=(n, k)).astype(dtype)
    y = rng.integers(0, k, n)
    w = rng.uniform(0.5, 2.0, n)
    v = rng.normal(size=(n, k)).astype(dtype)
    z = raw.astype(np.float64)
    P = softmax(z, axis=1)
    Y = np.eye(k)[y]
    loss, grad = loss_gradient(y, raw, sample_weight=w)
    hv = hessp(y, raw, v, sample_weight=w)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    assert_allclose(loss, w * (logsumexp(z, axis=1) - z[np.arange(n), y]), rtol=rtol)
    assert_allclose(grad, w[:, None] * (P - Y), rtol=rtol, atol=rtol * 1e-3)
    Hv = w[:, None] * P * (v - np.sum(P * v, axis=1, keepdims=True))
    assert_allclose(hv, Hv, rtol=rtol * 10, atol=rtol * 1e-2)


def few_classes_case(k, dtype, n=150):
    """Scores on a grid of 1/256 (so that z - max(z) is exact and the only
    roundings are the kernel's), with ties, an entry an ulp below the maximum
    (its exponential rounds to 1), -inf away from the row's class, and a row
    whose class is far below the others."""
    rng = np.random.default_rng(k)
    raw = (np.round(rng.normal(scale=3, size=(n, k)) * 256) / 256).astype(dtype)
    y = rng.integers(0, k, n)
    raw[1] = 0.5
    raw[2, 0] = raw[2, -1] = raw[2].max() + 1
    raw[4] = np.minimum(raw[4], 0) - 1
    raw[4, 0] = 0.125
    raw[4, 1] = np.nextafter(dtype(0.125), dtype(0))  # exp(-ulp) rounds to 1
    raw[5, (y[5] + 1) % k] = -np.inf
    raw[6] = -np.inf
    raw[6, y[6]] = 3.0
    raw[7] = 50.0
    raw[7, y[7]] = -50.0
    weights = dict(sample_weight=rng.uniform(0.1, 3.0, n), class_weight=rng.uniform(0.3, 2.5, k))
    return y, raw, weights


@pytest.mark.parametrize("dtype, loss_ulps, grad_ulps", [(np.float32, 1, 2), (np.float64, 3, 4)])
@pytest.mark.parametrize("k", [2, 3, 7, 8, 9, 10, 15, 16])
@pytest.mark.parametrize("weighted", [False, True])
def test_few_classes_to_a_few_ulps(level, dtype, loss_ulps, grad_ulps, k, weighted):
    # Hard labels with at most 16 classes take their own kernels on AVX-512
    # (rows transposed, one class per vector; a float64 row in two parts past
    # 8 classes; chunks of several groups of rows and a partial one).  Every
    # set is within a few ulps of mpmath: float32 results are rounded from
    # double (one ulp for the loss, two for the gradient, a product of two
    # roundings); in float64 the sums and the log add theirs (over 10^6 random
    # rows both this kernel and the row-by-row one reach 4-5 ulps on a few:
    # the bounds hold for these rows, on every set).  The loss alone is the
    # loss computed with the gradient.
    from skxent.loss import CrossEntropyLoss

    y, raw, kw = few_classes_case(k, dtype)
    if not weighted:
        kw = {}
    ref_loss, ref_grad, _ = reference(y, raw, link="softmax", **kw)
    loss, grad = loss_gradient(y, raw, **kw)
    assert ulps(loss, ref_loss).max() <= loss_ulps
    assert ulps(grad, ref_grad).max() <= grad_ulps
    alone = CrossEntropyLoss("softmax", k, class_weight=kw.get("class_weight")).loss(
        y, raw, sample_weight=kw.get("sample_weight")
    )
    assert np.array_equal(alone, loss)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("link, kind, weighting", CASES)
def test_threads_bitwise_on_each_set(level, link, kind, weighting, dtype):
    y, raw, kw = make_case(link, kind, weighting, dtype, n=30_000, k=7, L=7, seed=4)
    v = np.random.default_rng(2).normal(size=raw.shape).astype(dtype)
    l1, g1 = loss_gradient(y, raw, n_threads=1, **kw)
    h1 = hessp(y, raw, v, n_threads=1, **kw)
    for n_threads in (2, 2, 3):
        l2, g2 = loss_gradient(y, raw, n_threads=n_threads, **kw)
        assert np.array_equal(l1, l2) and np.array_equal(g1, g2)
        assert np.array_equal(h1, hessp(y, raw, v, n_threads=n_threads, **kw))


def test_sets_agree_to_an_ulp_or_two():
    # Different sets may round differently (fused multiply-adds), never by more.
    rng = np.random.default_rng(5)
    raw = rng.normal(scale=4, size=(2000, 12))
    y = rng.integers(0, 12, 2000)
    results = {}
    previous = _core.simd_select(None)
    try:
        for name in LEVELS:
            _core.simd_select(name)
            results[name] = loss_gradient(y, raw)
    finally:
        _core.simd_select(previous)
    ref_loss, ref_grad = results[LEVELS[-1]]
    for loss, grad in results.values():
        assert_allclose(loss, ref_loss, rtol=1e-14, atol=0)
        assert_allclose(grad, ref_grad, rtol=1e-13, atol=1e-17)
