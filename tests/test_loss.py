"""skxent.loss.loss_gradient and skxent.loss.hessp against independent references.

References: mpmath at 50 digits (the formulas of DESIGN.md evaluated on the exact
binary values of the inputs; derivatives both analytic and by mpmath.diff),
central finite differences, and scikit-learn's own HalfMultinomialLoss /
HalfBinomialLoss.  Nothing is compared with skxent itself except where the
property under test is identity (threads, layouts, output buffers).
"""

import mpmath
import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss
from threadpoolctl import threadpool_limits

from skxent import _core
from skxent.loss import hessp, loss_gradient

mp = mpmath.mp
mp.dps = 50

DTYPES = [np.float64, np.float32]
WEIGHTINGS = ["plain", "sample_weight", "class_weight", "smoothing", "all"]
# (link, kind of y)
TARGETS = [
    ("softmax", "int"),
    ("softmax", "float"),
    ("softmax", "matrix"),
    ("sigmoid", "1d"),
    ("sigmoid", "2d"),
]

# (rtol, atol relative to the largest reference value) per dtype
TOL = {
    np.float64: dict(loss=1e-12, grad=1e-10, atol=1e-13),
    np.float32: dict(loss=1e-5, grad=1e-5, atol=1e-6),
}


def M(x):
    return mpmath.mpf(float(x))


# ---------------------------------------------------------------------------
# Test problems
# ---------------------------------------------------------------------------


def make_case(link, kind, weighting, dtype, n=12, k=4, L=3, seed=0):
    """(y, raw, kwargs) with random logits and the requested weighting."""
    rng = np.random.default_rng([seed, len(kind), len(weighting), np.dtype(dtype).itemsize])
    if link == "softmax":
        raw = rng.normal(0, 3, (n, k)).astype(dtype)
        if kind == "matrix":
            y = rng.dirichlet(np.full(k, 0.7), n)
            y[0] = np.eye(k)[1]
        else:
            y = rng.integers(0, k, n)
            if kind == "float":
                y = y.astype(dtype)
        cw = rng.uniform(0.3, 2.5, k)
    else:
        shape = (n,) if kind == "1d" else (n, L)
        raw = rng.normal(0, 3, shape).astype(dtype)
        y = rng.integers(0, 2, shape).astype(float)
        if kind == "2d":
            soft = rng.random(shape) < 0.3
            y[soft] = rng.random(int(soft.sum()))
        cw = np.array([0.6, 1.9])  # (w_neg, w_pos)
    kwargs = dict(link=link)
    if weighting in ("sample_weight", "all"):
        kwargs["sample_weight"] = rng.uniform(0.1, 3.0, n)
    if weighting in ("class_weight", "all"):
        kwargs["class_weight"] = cw
    if weighting in ("smoothing", "all"):
        kwargs["label_smoothing"] = 0.15
    return y, raw, kwargs


# ---------------------------------------------------------------------------
# mpmath references
#   softmax: t' = (1 − ε) t + ε/k, S = Σ w_c t'_c, p = softmax(z)
#     ℓ = s Σ_c w_c t'_c (lse(z) − z_c),  ∂ℓ/∂z_c = s (S p_c − w_c t'_c),
#     H v = s S (p ∘ v − p (p·v))
#   sigmoid: t' = (1 − ε) t + ε/2, per element
#     ℓ = s (w₊ t' softplus(−z) + w₋ (1 − t') softplus(z)), summed over columns,
#     ∂ℓ/∂z = s (w₋ (1 − t') σ(z) − w₊ t' σ(−z)),  ∂²ℓ/∂z² = s (w₊ t' + w₋ (1 − t')) σ(z) σ(−z)
# ---------------------------------------------------------------------------


def softplus(x):
    # log(1 + e^x), accurate at 50 digits for any sign (log1p of a tiny e^x)
    return x + mpmath.log1p(mpmath.exp(-x)) if x > 0 else mpmath.log1p(mpmath.exp(x))


def sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def mp_softmax_row(z, t, s=1, cw=None, eps=0):
    """(loss, gradient, p, S) of one row; t the unsmoothed target (list)."""
    k = len(z)
    zs = [M(v) for v in z]
    am = max(range(k), key=lambda c: zs[c])
    m = zs[am]
    e = [mpmath.exp(v - m) for v in zs]
    rest = mpmath.fsum(e[c] for c in range(k) if c != am)
    l1p = mpmath.log1p(rest)  # lse − max, exact even when rest is 1e-80
    tot = 1 + rest
    p = [v / tot for v in e]
    eps = M(eps)
    ts = [(1 - eps) * M(tc) + eps / k for tc in t]
    w = [mpmath.mpf(1)] * k if cw is None else [M(v) for v in cw]
    s = M(s)
    loss = s * mpmath.fsum(w[c] * ts[c] * ((m - zs[c]) + l1p) for c in range(k) if ts[c] != 0)
    S = mpmath.fsum(w[c] * ts[c] for c in range(k))
    grad = [s * (S * p[c] - w[c] * ts[c]) for c in range(k)]
    return loss, grad, p, S * s


def mp_sigmoid_elem(z, t, s=1, cw=None, eps=0):
    """(loss, gradient, hessian) of one Bernoulli term."""
    z = M(z)
    eps = M(eps)
    t = (1 - eps) * M(t) + eps / 2
    wn, wp = (mpmath.mpf(1), mpmath.mpf(1)) if cw is None else (M(cw[0]), M(cw[1]))
    s = M(s)
    a, b = s * wp * t, s * wn * (1 - t)
    loss = (a * softplus(-z) if a else 0) + (b * softplus(z) if b else 0)
    grad = b * sigmoid(z) - a * sigmoid(-z)
    hess = (a + b) * sigmoid(z) * sigmoid(-z)
    return loss, grad, hess


def target_matrix(y, link, raw):
    """The unsmoothed targets as a 2-D float array of raw's dtype (what the kernel sees)."""
    n = raw.shape[0]
    if link == "softmax":
        k = raw.shape[1]
        y = np.asarray(y)
        if y.ndim == 1:
            return np.eye(k)[y.astype(int)]
        return y.astype(raw.dtype)
    return np.asarray(y).astype(raw.dtype).reshape(n, -1)


def reference(
    y, raw, *, link, sample_weight=None, class_weight=None, label_smoothing=0.0, vector=None
):
    """mpmath loss (n,), gradient and (if vector is given) H v, as float64 arrays."""
    n = raw.shape[0]
    T = target_matrix(y, link, raw)
    sw = np.ones(n) if sample_weight is None else sample_weight
    Z = raw.reshape(n, -1)
    V = None if vector is None else vector.reshape(n, -1)
    loss = np.empty(n)
    grad = np.empty(Z.shape)
    hv = np.empty(Z.shape)
    for i in range(n):
        if link == "softmax":
            li, gi, p, sS = mp_softmax_row(Z[i], T[i], sw[i], class_weight, label_smoothing)
            loss[i] = float(li)
            grad[i] = [float(g) for g in gi]
            if V is not None:
                v = [M(x) for x in V[i]]
                pv = mpmath.fsum(pc * vc for pc, vc in zip(p, v))
                hv[i] = [float(sS * p[c] * (v[c] - pv)) for c in range(len(p))]
        else:
            terms = [
                mp_sigmoid_elem(Z[i, j], T[i, j], sw[i], class_weight, label_smoothing)
                for j in range(Z.shape[1])
            ]
            loss[i] = float(mpmath.fsum(t[0] for t in terms))
            grad[i] = [float(t[1]) for t in terms]
            if V is not None:
                hv[i] = [float(t[2] * M(V[i, j])) for j, t in enumerate(terms)]
    return loss, grad.reshape(raw.shape), hv.reshape(raw.shape)


def assert_close(actual, expected, rtol, atol_rel):
    scale = max(1.0, float(np.max(np.abs(expected))))
    assert_allclose(actual, expected, rtol=rtol, atol=atol_rel * scale)


# ---------------------------------------------------------------------------
# Loss, gradient and H v against mpmath (analytic formulas at 50 digits),
# for every link x kind of target x weighting x dtype
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("link, kind", TARGETS)
def test_loss_gradient_hessp_vs_mpmath(link, kind, weighting, dtype):
    y, raw, kw = make_case(link, kind, weighting, dtype)
    v = np.random.default_rng(1).normal(size=raw.shape).astype(dtype)
    ref_loss, ref_grad, ref_hv = reference(y, raw, vector=v, **kw)
    loss, grad = loss_gradient(y, raw, **kw)
    hv = hessp(y, raw, v, **kw)
    assert loss.dtype == grad.dtype == hv.dtype == dtype
    assert loss.shape == (raw.shape[0],) and grad.shape == raw.shape and hv.shape == raw.shape
    tol = TOL[dtype]
    assert_close(loss, ref_loss, tol["loss"], tol["atol"])
    assert_close(grad, ref_grad, tol["grad"], tol["atol"])
    assert_close(hv, ref_hv, tol["grad"], tol["atol"])


@pytest.mark.parametrize(
    "link, kind", [("softmax", "int"), ("softmax", "matrix"), ("sigmoid", "2d")]
)
def test_gradient_vs_mpmath_numerical_derivative(link, kind):
    # mpmath.diff of the 50-digit loss, independent of the analytic formulas
    y, raw, kw = make_case(link, kind, "all", np.float64, n=3)
    T = target_matrix(y, link, raw)
    sw, cw, eps = kw["sample_weight"], kw["class_weight"], kw["label_smoothing"]
    _, grad = loss_gradient(y, raw, **kw)
    for i in range(raw.shape[0]):
        for c in range(raw.shape[1]):
            if link == "softmax":

                def f(x, i=i, c=c):
                    z = [M(v) for v in raw[i]]
                    z[c] = x
                    lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in z))
                    k = len(z)
                    return M(sw[i]) * mpmath.fsum(
                        M(cw[j]) * ((1 - M(eps)) * M(T[i, j]) + M(eps) / k) * (lse - z[j])
                        for j in range(k)
                    )
            else:

                def f(x, i=i, c=c):
                    t = (1 - M(eps)) * M(T[i, c]) + M(eps) / 2
                    return M(sw[i]) * (
                        M(cw[1]) * t * softplus(-x) + M(cw[0]) * (1 - t) * softplus(x)
                    )

            d = mpmath.diff(f, M(raw[i, c]))
            assert_allclose(grad[i, c], float(d), rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------------------
# Central finite differences: gradient from the loss, H v from the gradient
# ---------------------------------------------------------------------------


def fd_gradient(y, raw, h, **kw):
    """d loss_i / d raw_ic by central differences (the Jacobian is block diagonal)."""
    n = raw.shape[0]
    Z = raw.reshape(n, -1)
    fd = np.empty(Z.shape)
    for c in range(Z.shape[1]):
        zp, zm = Z.copy(), Z.copy()
        zp[:, c] += h
        zm[:, c] -= h
        step = zp[:, c].astype(np.float64) - zm[:, c].astype(np.float64)  # the step taken
        lp, _ = loss_gradient(y, zp.reshape(raw.shape), **kw)
        lm, _ = loss_gradient(y, zm.reshape(raw.shape), **kw)
        fd[:, c] = (lp.astype(np.float64) - lm.astype(np.float64)) / step
    return fd.reshape(raw.shape)


FD = {
    np.float64: dict(h=1e-5, rtol=1e-6, atol=1e-7),
    np.float32: dict(h=2.0**-6, rtol=2e-2, atol=2e-3),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("link, kind", TARGETS)
def test_gradient_vs_finite_differences(link, kind, weighting, dtype):
    y, raw, kw = make_case(link, kind, weighting, dtype, seed=3)
    _, grad = loss_gradient(y, raw, **kw)
    fd = fd_gradient(y, raw, FD[dtype]["h"], **kw)
    assert_close(grad, fd, FD[dtype]["rtol"], FD[dtype]["atol"])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("link, kind", TARGETS)
def test_hessp_vs_finite_differences(link, kind, weighting, dtype):
    y, raw, kw = make_case(link, kind, weighting, dtype, seed=4)
    v = np.random.default_rng(5).normal(size=raw.shape).astype(dtype)
    h = FD[dtype]["h"]
    _, gp = loss_gradient(y, (raw + h * v).astype(dtype), **kw)
    _, gm = loss_gradient(y, (raw - h * v).astype(dtype), **kw)
    fd = (gp.astype(np.float64) - gm.astype(np.float64)) / (2 * h)
    assert_close(hessp(y, raw, v, **kw), fd, FD[dtype]["rtol"], FD[dtype]["atol"])


# ---------------------------------------------------------------------------
# scikit-learn's HalfMultinomialLoss / HalfBinomialLoss (hard labels, no smoothing
# and no class weights: the same loss and gradient)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sample_weight", [False, True])
@pytest.mark.parametrize("k", [2, 3, 7])
def test_softmax_vs_sklearn_half_multinomial(k, sample_weight, dtype):
    rng = np.random.default_rng(k)
    n = 200
    raw = rng.normal(0, 4, (n, k)).astype(dtype)
    y = rng.integers(0, k, n).astype(dtype)
    sw = rng.uniform(0.1, 3, n) if sample_weight else None
    sk_loss, sk_grad = HalfMultinomialLoss(n_classes=k).loss_gradient(
        y_true=y, raw_prediction=raw, sample_weight=None if sw is None else sw.astype(dtype)
    )
    loss, grad = loss_gradient(y, raw, sample_weight=sw)
    # scikit-learn takes log(sum(exp)) in the input's dtype: its small losses
    # carry an absolute error of about eps * lse (skxent's keep their relative
    # precision, see the mpmath tests), hence the absolute tolerance.
    rtol, atol = (1e-10, 1e-13) if dtype == np.float64 else (1e-5, 5e-6)
    assert_allclose(loss, sk_loss, rtol=rtol, atol=atol)
    assert_allclose(grad, sk_grad, rtol=rtol, atol=atol)
    # int labels give the same as float labels
    loss_i, grad_i = loss_gradient(y.astype(np.int64), raw, sample_weight=sw)
    assert np.array_equal(loss_i, loss) and np.array_equal(grad_i, grad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sample_weight", [False, True])
@pytest.mark.parametrize("soft", [False, True])
def test_sigmoid_vs_sklearn_half_binomial(soft, sample_weight, dtype):
    rng = np.random.default_rng(7)
    n = 300
    raw = rng.normal(0, 4, n).astype(dtype)
    y = (rng.random(n) if soft else rng.integers(0, 2, n)).astype(dtype)
    sw = rng.uniform(0.1, 3, n) if sample_weight else None
    sk_loss, sk_grad = HalfBinomialLoss().loss_gradient(
        y_true=y, raw_prediction=raw, sample_weight=None if sw is None else sw.astype(dtype)
    )
    loss, grad = loss_gradient(y, raw, link="sigmoid", sample_weight=sw)
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    assert_allclose(loss, sk_loss, rtol=rtol, atol=rtol * 1e-2)
    assert_allclose(grad, sk_grad, rtol=rtol, atol=rtol * 1e-3)


# ---------------------------------------------------------------------------
# dtypes and output buffers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("link, kind", TARGETS)
def test_output_buffers_filled_in_place(link, kind, dtype):
    y, raw, kw = make_case(link, kind, "all", dtype)
    fresh_loss, fresh_grad = loss_gradient(y, raw, **kw)
    loss_out = np.full(raw.shape[0], np.nan, dtype=dtype)
    grad_out = np.full(raw.shape, np.nan, dtype=dtype)
    loss, grad = loss_gradient(y, raw, loss_out=loss_out, gradient_out=grad_out, **kw)
    assert loss is loss_out and grad is grad_out
    assert np.array_equal(loss_out, fresh_loss) and np.array_equal(grad_out, fresh_grad)
    v = np.ones(raw.shape, dtype=dtype)
    out = np.full(raw.shape, np.nan, dtype=dtype)
    res = hessp(y, raw, v, out=out, **kw)
    assert res is out
    assert np.array_equal(out, hessp(y, raw, v, **kw))


@pytest.mark.parametrize(
    "in_dtype, out_dtype",
    [
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.int64, np.float64),
        (np.float16, np.float64),
    ],
)
def test_dtype_policy(in_dtype, out_dtype):
    # raw decides: float32 stays float32, anything else is float64
    raw = np.array([[1, 0, -1], [2, 2, 0]], dtype=in_dtype)
    loss, grad = loss_gradient(np.array([0, 2]), raw)
    assert loss.dtype == out_dtype and grad.dtype == out_dtype
    assert hessp(np.array([0, 2]), raw, np.ones((2, 3))).dtype == out_dtype
    loss, grad = loss_gradient(np.array([0.0, 1.0]), raw[:, 0], link="sigmoid")
    assert loss.dtype == out_dtype and grad.dtype == out_dtype


# ---------------------------------------------------------------------------
# Threads: bitwise identical results whatever the thread count
# ---------------------------------------------------------------------------


BIG_CASES = [
    ("softmax", "int", "plain"),
    ("softmax", "matrix", "all"),
    ("softmax", "float", "all"),
    ("sigmoid", "2d", "all"),
    ("sigmoid", "1d", "sample_weight"),
]


@pytest.fixture(scope="module")
def big_cases():
    cases = {}
    for dtype in DTYPES:
        for link, kind, weighting in BIG_CASES:
            y, raw, kw = make_case(link, kind, weighting, dtype, n=20_000, k=7, L=7, seed=9)
            v = np.random.default_rng(2).normal(size=raw.shape).astype(dtype)
            cases[(dtype, link, kind, weighting)] = (y, raw, v, kw)
    return cases


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("link, kind, weighting", BIG_CASES)
def test_bitwise_identical_across_n_threads(big_cases, link, kind, weighting, dtype):
    y, raw, v, kw = big_cases[(dtype, link, kind, weighting)]
    l1, g1 = loss_gradient(y, raw, n_threads=1, **kw)
    h1 = hessp(y, raw, v, n_threads=1, **kw)
    for n_threads in (2,) * 12 + (3,):  # repeated: a data race shows only sometimes
        l2, g2 = loss_gradient(y, raw, n_threads=n_threads, **kw)
        h2 = hessp(y, raw, v, n_threads=n_threads, **kw)
        assert np.array_equal(l1, l2)
        assert np.array_equal(g1, g2), f"gradient: {np.sum(g1 != g2)} entries differ"
        assert np.array_equal(h1, h2), f"hessp: {np.sum(h1 != h2)} entries differ"


@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_sigmoid_parallel_gradient_is_correct(kind):
    # Reference: the closed form in numpy float64 with scipy.special.expit,
    # ∂ℓ/∂z = s (w₋ (1 − t') σ(z) − w₊ t' σ(−z)), ∂²ℓ/∂z² = s (w₊ t' + w₋ (1 − t')) σ(z) σ(−z).
    from scipy.special import expit

    y, raw, kw = make_case("sigmoid", kind, "all", np.float64, n=20_000, L=7, seed=10)
    s = kw["sample_weight"].reshape(-1, *([1] * (raw.ndim - 1)))
    wn, wp = kw["class_weight"]
    eps = kw["label_smoothing"]
    t = (1 - eps) * y + eps / 2
    a, b = s * wp * t, s * wn * (1 - t)
    ref_g = b * expit(raw) - a * expit(-raw)
    ref_h = (a + b) * expit(raw) * expit(-raw)
    for _ in range(12):  # repeated: a data race shows only sometimes
        _, grad = loss_gradient(y, raw, n_threads=2, **kw)
        assert_allclose(grad, ref_g, rtol=1e-12, atol=1e-14)
        assert_allclose(
            hessp(y, raw, np.ones_like(raw), n_threads=2, **kw), ref_h, rtol=1e-12, atol=1e-15
        )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("link, kind, weighting", BIG_CASES)
def test_bitwise_identical_under_threadpool_limits(big_cases, link, kind, weighting, dtype):
    y, raw, v, kw = big_cases[(dtype, link, kind, weighting)]
    default_loss, default_grad = loss_gradient(y, raw, **kw)
    default_h = hessp(y, raw, v, **kw)
    with threadpool_limits(1):
        assert _core.max_threads() == 1  # the limit reaches the kernels' OpenMP
        loss, grad = loss_gradient(y, raw, **kw)
        h = hessp(y, raw, v, **kw)
    assert np.array_equal(loss, default_loss) and np.array_equal(grad, default_grad)
    assert np.array_equal(h, default_h)


# ---------------------------------------------------------------------------
# Input layouts: read-only and non-contiguous inputs work and are left alone
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["readonly", "fortran", "strided"])
@pytest.mark.parametrize("link, kind", TARGETS)
def test_readonly_and_noncontiguous_inputs(link, kind, layout):
    y, raw, kw = make_case(link, kind, "all", np.float64)
    v = np.random.default_rng(0).normal(size=raw.shape)
    expected = loss_gradient(y, raw, **kw)
    expected_h = hessp(y, raw, v, **kw)

    def transform(a):
        a = np.asarray(a)
        if layout == "readonly":
            a = a.copy()
            a.setflags(write=False)
        elif layout == "fortran":
            a = np.asfortranarray(a)
        else:  # every other element of a twice as large array
            big = np.empty((2 * a.shape[0],) + a.shape[1:], dtype=a.dtype)
            big[::2] = a
            a = big[::2]
            if a.ndim == 2:
                wide = np.empty((a.shape[0], 2 * a.shape[1]), dtype=a.dtype)
                wide[:, ::2] = a
                a = wide[:, ::2]
        return a

    args = dict(kw)
    for name in ("sample_weight", "class_weight"):
        args[name] = transform(kw[name])
    y_t, raw_t, v_t = transform(y), transform(raw), transform(v)
    if layout == "strided" or (layout == "fortran" and raw_t.ndim == 2):
        assert not raw_t.flags.c_contiguous
    snapshots = [a.copy() for a in (y_t, raw_t, v_t, args["sample_weight"], args["class_weight"])]
    loss, grad = loss_gradient(y_t, raw_t, **args)
    h = hessp(y_t, raw_t, v_t, **args)
    assert np.array_equal(loss, expected[0]) and np.array_equal(grad, expected[1])
    assert np.array_equal(h, expected_h)
    for before, after in zip(
        snapshots, (y_t, raw_t, v_t, args["sample_weight"], args["class_weight"])
    ):
        assert np.array_equal(before, after)


# ---------------------------------------------------------------------------
# Extreme logits: exact results (mathematics), tiny losses (mpmath)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_extreme_logits_exact(dtype):
    raw = np.array([[1e4, -1e4], [1e4, -1e4], [-1e4, 1e4]], dtype=dtype)
    loss, grad = loss_gradient(np.array([1, 0, 0]), raw)
    # lse(1e4, -1e4) = 1e4 + log1p(e^{-2e4}), which is 1e4 in floating point
    assert loss.tolist() == [2e4, 0.0, 2e4]
    assert grad.tolist() == [[1.0, -1.0], [0.0, 0.0], [-1.0, 1.0]]
    h = hessp(np.array([1, 0, 0]), raw, np.ones_like(raw))
    assert np.all(h == 0)
    raw3 = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=dtype)
    loss, grad = loss_gradient(np.array([2, 1]), raw3)
    assert loss[0] == 1e4
    assert_allclose(loss[1], float(mpmath.log(3)), rtol=1e-6 if dtype == np.float32 else 1e-15)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_extreme_logits_exact(dtype):
    raw = np.array([1e4, 1e4, -1e4, -1e4], dtype=dtype)
    y = np.array([1.0, 0.0, 1.0, 0.0])
    loss, grad = loss_gradient(y, raw, link="sigmoid")
    assert loss.tolist() == [0.0, 1e4, 1e4, 0.0]
    assert grad.tolist() == [0.0, 1.0, -1.0, 0.0]
    assert np.all(hessp(y, raw, np.ones_like(raw), link="sigmoid") == 0)


@pytest.mark.parametrize("link", ["softmax", "sigmoid"])
def test_tiny_losses_keep_relative_precision(link):
    # mpmath: log1p(e^{-20}) = 2.06e-9; log(1 + e^{-20}) in double has 7 digits
    ref = mpmath.log1p(mpmath.exp(-20))
    if link == "softmax":
        loss, grad = loss_gradient(np.array([0]), np.array([[10.0, -10.0]]))
        ref_g = mpmath.exp(-20) / (1 + mpmath.exp(-20))  # p_1 = 1 - p_0
        assert_allclose(grad[0], [-float(ref_g), float(ref_g)], rtol=1e-13)
    else:
        loss, grad = loss_gradient(np.array([1.0]), np.array([20.0]), link="sigmoid")
        assert_allclose(grad[0], -float(sigmoid(-mpmath.mpf(20))), rtol=1e-13)
    assert_allclose(loss[0], float(ref), rtol=1e-13)
    # and further out: e^{-600}, far below double's epsilon relative to 1
    loss, _ = loss_gradient(np.array([0, 0]), np.array([[300.0, -300.0], [0.0, -745.0]]))
    assert_allclose(
        loss,
        [float(mpmath.log1p(mpmath.exp(-600))), float(mpmath.log1p(mpmath.exp(-745)))],
        rtol=1e-13,
    )


def _rows_across_rest(k):
    """Rows whose rest = sum_{c != argmax} e^{z_c - max} runs from 1e-12 to k - 1,
    through both of the kernel's ways of computing it, plus ties at the maximum
    and logits so close together that their exponentials round to 1."""
    rows = []
    for rest in np.geomspace(1e-12, k - 1, 61):
        rows.append(np.r_[0.0, np.full(k - 1, np.log(rest / (k - 1)))])
    rows.append(np.r_[2.0, 2.0, np.full(k - 2, -30.0)])  # two maxima, rest = 1 + tiny
    rows.append(np.full(k, 3.0))  # all tied
    rows.append(np.r_[1e-18, 2e-18, np.full(k - 2, -40.0)])  # e = 1 off the maximum
    return np.array(rows)


@pytest.mark.parametrize("k", [2, 4, 11, 30])
def test_softmax_precision_across_rest(k):
    raw = _rows_across_rest(k)
    n = raw.shape[0]
    for y in (np.zeros(n, dtype=int), np.ones(n, dtype=int), np.full(n, k - 1)):
        ref_loss, ref_grad, ref_hv = reference(y, raw, link="softmax", vector=np.ones_like(raw))
        loss, grad = loss_gradient(y, raw)
        # A few ulps (libmvec's exp and log are within 4): the sum s = 1 + rest
        # must not be what rest is taken from when rest is small.
        rtol = 16 * np.finfo(float).eps
        assert_allclose(loss, ref_loss, rtol=rtol, atol=0)
        assert_allclose(grad, ref_grad, rtol=rtol, atol=1e-300)
        v = np.random.default_rng(k).normal(size=raw.shape)
        _, _, ref_hv = reference(y, raw, link="softmax", vector=v)
        assert_allclose(hessp(y, raw, v), ref_hv, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_softmax_non_finite_score_anywhere_raises(bad, k, dtype):
    # Dominated rows (rest < 1) and balanced ones, the bad score at every
    # position, with and without a gradient, with the other weights zeroed.
    for scale in (0.1, 30.0):
        base = (scale * np.random.default_rng(k).normal(size=k)).astype(dtype)
        for pos in range(k):
            raw = np.tile(base, (3, 1))
            raw[1, pos] = bad
            for y in (np.zeros(3, dtype=int), np.full(3, k - 1)):
                with pytest.raises(ValueError, match="row 1"):
                    loss_gradient(y, raw)
                with pytest.raises(ValueError, match="row 1"):
                    loss_gradient(y, raw, class_weight=np.r_[1.0, np.zeros(k - 1)])
                with pytest.raises(ValueError, match="row 1"):
                    hessp(y, raw, np.ones_like(raw))


# ---------------------------------------------------------------------------
# Class indices the kernel would index out of bounds with are refused
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [[3], [-1], [np.nan], [1e8], [2.5]])
def test_out_of_range_labels_raise(bad):
    raw = np.zeros((1, 3))
    with pytest.raises(ValueError, match="class indices"):
        loss_gradient(np.array(bad), raw)
    with pytest.raises(ValueError, match="class indices"):
        hessp(np.array(bad), raw, np.ones((1, 3)))


# Float labels of the scores' dtype and intp indices reach the kernels
# unconverted; each chunk of rows checks its own: the error names the first bad
# row whichever thread and chunk met it, and a valid y gives the bits of the
# other dtypes.
@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("kind", ["float64", "float32", "intp"])
@pytest.mark.parametrize("fn", ["loss_gradient", "hessp"])
def test_first_bad_label_of_many_chunks_is_named(n_threads, kind, fn):
    rng = np.random.default_rng(3)
    n, k = 60_000, 5
    raw = rng.normal(size=(n, k)).astype(np.float32 if kind == "float32" else np.float64)
    y = rng.integers(0, k, n).astype(kind)
    floats = kind != "intp"
    bad = [(41_234, 7), (50_001, -1), (59_999, k)] + (
        [(45_000, 2.5), (47_000, np.nan)] if floats else []
    )
    for row, value in bad:
        y[row] = value
    call = {
        "loss_gradient": lambda: loss_gradient(y, raw, n_threads=n_threads),
        "hessp": lambda: hessp(y, raw, np.ones_like(raw), n_threads=n_threads),
    }[fn]
    with pytest.raises(ValueError, match=r"y\[41234\] is 7") as info:
        call()
    assert info.value.row == 41_234
    y[41_234] = 0
    with pytest.raises(ValueError, match=r"y\[45000\] is 2\.5" if floats else r"y\[50001\] is -1"):
        call()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_float_labels_give_the_bits_of_integer_labels(dtype):
    rng = np.random.default_rng(4)
    n, k = 30_000, 7
    raw = rng.normal(scale=2, size=(n, k)).astype(dtype)
    y = rng.integers(0, k, n)
    v = rng.normal(size=(n, k)).astype(dtype)
    expected = loss_gradient(y.astype(np.int32), raw), hessp(y.astype(np.int32), raw, v)
    for labels in (y.astype(np.float64), y.astype(np.float32), y.astype(np.intp)):
        before = labels.copy()
        loss, grad = loss_gradient(labels, raw, n_threads=2)
        assert np.array_equal(loss, expected[0][0]) and np.array_equal(grad, expected[0][1])
        assert np.array_equal(hessp(labels, raw, v), expected[1])
        assert np.array_equal(labels, before)


# A row's result must not depend on the rows around it (the vector exp and log
# run over chunks of rows; their tails must take the same path as the bulk).
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [1, 3, 7, 10, 17])
def test_rows_give_the_same_bits_alone_and_in_a_batch(dtype, k):
    rng = np.random.default_rng(k)
    n = 100
    raw = rng.normal(scale=3, size=(n, k)).astype(dtype)
    y = rng.integers(0, k, n)
    loss, grad = loss_gradient(y, raw)
    for i in range(n):
        li, gi = loss_gradient(y[i : i + 1], raw[i : i + 1])
        assert li[0] == loss[i] and np.array_equal(gi[0], grad[i]), i
    hv = hessp(y, raw, np.ones_like(raw))
    assert np.array_equal(hessp(y[:1], raw[:1], np.ones_like(raw[:1]))[0], hv[0])


# The sigmoid kernel walks the (n, L) array in flat runs of entries: an entry's
# result must not depend on where a run starts or ends.
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("L", [1, 3, 7])
def test_sigmoid_rows_give_the_same_bits_alone_and_in_a_batch(dtype, L):
    rng = np.random.default_rng(L)
    n = 300  # runs of 256 entries: rows straddle their boundaries
    raw = rng.normal(scale=5, size=(n, L)).astype(dtype)
    y = rng.integers(0, 2, (n, L)).astype(float)
    sw = rng.uniform(0.5, 2.0, n)
    kw = dict(link="sigmoid", class_weight=np.array([0.7, 1.6]), label_smoothing=0.1)
    loss, grad = loss_gradient(y, raw, sample_weight=sw, **kw)
    hv = hessp(y, raw, np.ones_like(raw), sample_weight=sw, **kw)
    for i in range(n):
        s = slice(i, i + 1)
        li, gi = loss_gradient(y[s], raw[s], sample_weight=sw[s], **kw)
        hi = hessp(y[s], raw[s], np.ones_like(raw[s]), sample_weight=sw[s], **kw)
        assert li[0] == loss[i] and np.array_equal(gi[0], grad[i]), i
        assert np.array_equal(hi[0], hv[i]), i
