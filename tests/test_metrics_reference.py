"""skxent.metrics against independent references.

Every expected value here is computed by the test itself, never by skxent: with
mpmath at 50 significant digits from the exact binary values of the inputs (a
float is an exact rational number, so the reference is the true value of the
formula of DESIGN.md for those inputs), or with scipy.  The only hard-coded
numbers are mathematical facts (ln 2, 1 bit, a uniform guess's perplexity k).
"""

import math

import mpmath
import numpy as np
import pytest
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from skxent.metrics import (
    binary_cross_entropy,
    cross_entropy,
    entropy,
    focal_cross_entropy,
    kl_divergence,
    perplexity,
)

mp = mpmath.mp
mp.dps = 50

RTOL = 1e-12
RTOL32 = 1e-5


# ---------------------------------------------------------------------------
# mpmath reference implementations (the formulas of DESIGN.md, "Metrics")
# ---------------------------------------------------------------------------


def M(x):
    """The exact value of a binary float as an mpf."""
    return mpmath.mpf(float(x))


def mp_log(x):
    x = M(x) if not isinstance(x, mpmath.mpf) else x
    return mpmath.mpf("-inf") if x == 0 else mpmath.log(x)


def mp_log_softmax(z):
    """log softmax(z)_c = (z_c − max z) − log1p(Σ_{c ≠ argmax} e^{z_c − max z}).

    Written with log1p and without forming lse(z) itself: at 50 digits,
    max z + 1e-76 would round to max z, and a loss of 1e-76 to 0.
    """
    zs = [M(v) for v in z]
    am = max(range(len(zs)), key=lambda c: zs[c])
    m = zs[am]
    rest = mpmath.fsum(mpmath.exp(v - m) for c, v in enumerate(zs) if c != am)
    l1p = mpmath.log1p(rest)
    return [(v - m) - l1p for v in zs]


def clip_bounds(eps, dtype):
    """[lo, hi] of DESIGN.md's eps, as the dtype's numbers."""
    if eps == "auto":
        lo = dtype(np.finfo(dtype).eps)
    else:
        lo = dtype(eps)
    return lo, dtype(1) - lo


def mp_log_proba(Q, eps):
    """log of each clipped probability (a list of lists of mpf)."""
    Q = np.asarray(Q)
    lo, hi = clip_bounds(eps, Q.dtype.type)
    Qc = np.clip(Q, lo, hi) if lo > 0 else Q
    return [[mp_log(v) for v in row] for row in Qc]


def mp_log_logits(Z):
    return [mp_log_softmax(row) for row in np.asarray(Z)]


def onehot(codes, k):
    T = np.zeros((len(codes), k))
    T[np.arange(len(codes)), codes] = 1.0
    return T


def mp_xent_rows(T, logq, class_weight=None, smoothing=0.0):
    """ℓ_i = −Σ_c w_c t'_ic log q_ic, t' = (1 − ε) t + ε/k; 0 log 0 = 0."""
    T = np.asarray(T)
    k = T.shape[1]
    eps = M(smoothing)
    out = []
    for i in range(T.shape[0]):
        s = mpmath.mpf(0)
        for c in range(k):
            t = (1 - eps) * M(T[i, c]) + eps / k
            if t == 0:
                continue
            w = 1 if class_weight is None else M(class_weight[c])
            s -= w * t * logq[i][c]
        out.append(s)
    return out


def mp_reduce(per_sample, sample_weight, reduction, base):
    """mean = Σ s ℓ / Σ s, sum = Σ s ℓ, none = s ℓ; divided by ln(base)."""
    n = len(per_sample)
    s = [mpmath.mpf(1)] * n if sample_weight is None else [M(v) for v in sample_weight]
    scale = 1 if base is None else 1 / mpmath.log(M(base))
    if reduction == "none":
        return [si * v * scale for si, v in zip(s, per_sample)]
    total = mpmath.fsum(si * li for si, li in zip(s, per_sample))
    if reduction == "mean":
        total = total / mpmath.fsum(s)
    return total * scale


def to_float(ref):
    if isinstance(ref, list):
        return np.array([float(v) for v in ref])
    return float(ref)


def check(actual, ref, rtol=RTOL):
    """Compare with the reference; reductions give a Python float."""
    expected = to_float(ref)
    if isinstance(expected, float):
        assert isinstance(actual, float), type(actual)
    else:
        assert isinstance(actual, np.ndarray) and actual.shape == expected.shape
    assert_allclose(actual, expected, rtol=rtol, atol=0)


def dirichlet(rng, n, k, alpha=1.0, zeros=False):
    P = rng.dirichlet(np.full(k, alpha), size=n)
    if zeros:  # a few exact zeros, rows renormalised
        mask = rng.random((n, k)) < 0.25
        mask[np.arange(n), rng.integers(0, k, n)] = False
        P[mask] = 0.0
        P /= P.sum(axis=1, keepdims=True)
    return P


WEIGHTINGS = ["none", "sample", "class", "class_dict", "both"]


def weights(rng, weighting, n, k):
    sw = rng.uniform(0.1, 3.0, n) if weighting in ("sample", "both") else None
    cw = rng.uniform(0.2, 2.5, k) if weighting in ("class", "class_dict", "both") else None
    cw_arg = cw
    if weighting == "class_dict":
        cw_arg = {c: float(w) for c, w in enumerate(cw)}
    return sw, cw, cw_arg


# ---------------------------------------------------------------------------
# The seed example: ln 2 nats, 1 bit (mathematics), entropy and KL (mpmath)
# ---------------------------------------------------------------------------


def test_seed_cross_entropy_is_ln2_and_one_bit():
    value = cross_entropy([[0.6, 0.4]], [[0.5, 0.5]])
    assert isinstance(value, float)
    assert abs(value - math.log(2)) <= 1e-15 * math.log(2)
    bits = cross_entropy([[0.6, 0.4]], [[0.5, 0.5]], base=2)
    assert abs(bits - 1.0) <= 1e-15


def test_seed_entropy_and_kl_vs_mpmath():
    p, q = [0.6, 0.4], [0.5, 0.5]
    h_ref = -mpmath.fsum(M(v) * mpmath.log(M(v)) for v in p)
    d_ref = mpmath.fsum(M(a) * mpmath.log(M(a) / M(b)) for a, b in zip(p, q))
    h, d = entropy(p), kl_divergence(p, q)
    check(h, h_ref)
    check(d, d_ref)
    # The seed's rounded figures, derived here rather than hard-coded.
    assert round(h, 4) == round(float(h_ref), 4)
    assert round(d, 4) == round(float(d_ref), 4)
    # H(P, Q) = H(P) + D(P‖Q)
    assert_allclose(cross_entropy([p], [q]), float(h_ref + d_ref), rtol=1e-15)


# ---------------------------------------------------------------------------
# cross_entropy on probabilities: mpmath reference (mp_xent_rows)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("base", [None, 2])
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("targets", ["hard", "soft"])
def test_cross_entropy_proba_vs_mpmath(reduction, base, weighting, smoothing, targets):
    rng = np.random.default_rng([3, len(weighting), int(smoothing * 10), len(targets)])
    n, k = 23, 4
    Q = dirichlet(rng, n, k, alpha=0.7)
    if targets == "hard":
        y = rng.integers(0, k, n)
        T = onehot(y, k)
    else:
        y = T = dirichlet(rng, n, k, zeros=True)
    sw, cw, cw_arg = weights(rng, weighting, n, k)
    ref = mp_reduce(mp_xent_rows(T, mp_log_proba(Q, "auto"), cw, smoothing), sw, reduction, base)
    actual = cross_entropy(
        y,
        Q,
        sample_weight=sw,
        class_weight=cw_arg,
        label_smoothing=smoothing,
        base=base,
        reduction=reduction,
    )
    check(actual, ref)


@pytest.mark.parametrize("eps", ["auto", 0, 1e-3])
def test_cross_entropy_clipping_vs_mpmath(eps):
    # Reference: clip to [eps, 1 - eps] in the input's dtype, then the exact log.
    rng = np.random.default_rng(11)
    Q = dirichlet(rng, 30, 3, alpha=0.05)  # many entries far below 1e-3
    Q[0] = [0.0, 1.0, 0.0]
    Q[1] = [1e-20, 1 - 1e-12, 1e-12 - 1e-20]
    y = rng.integers(0, 3, 30)
    y[:2] = 1
    T = onehot(y, 3)
    ref = mp_xent_rows(T, mp_log_proba(Q, eps))
    per = cross_entropy(y, Q, eps=eps, reduction="none")
    check(per, ref)


def test_cross_entropy_near_zero_one_and_denormal_eps0():
    # No clipping: the exact log of tiny, denormal and near-one probabilities.
    tiny = np.nextafter(0.0, 1.0)  # the smallest denormal, 2**-1074
    Q = np.array(
        [
            [tiny, 1.0],
            [2.5e-310, 1.0],
            [1e-300, 1.0],
            [1e-12, 1 - 1e-12],
            [1 - 1e-15, 1e-15],
            [0.5 - 2**-40, 0.5 + 2**-40],
        ]
    )
    for cls in (0, 1):
        y = np.full(len(Q), cls)
        ref = mp_xent_rows(onehot(y, 2), mp_log_proba(Q, 0))
        check(cross_entropy(y, Q, eps=0, reduction="none"), ref)
    # the denormal on the true class: -log(2**-1074) = 1074 ln 2
    assert_allclose(cross_entropy([0], [[tiny, 1.0]], eps=0), 1074 * math.log(2), rtol=1e-15)
    # soft targets against tiny probabilities
    T = np.array([[0.25, 0.75]] * len(Q))
    check(cross_entropy(T, Q, eps=0, reduction="none"), mp_xent_rows(T, mp_log_proba(Q, 0)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_exact_zero_and_one(dtype):
    eps_d = np.finfo(dtype).eps
    Q = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=dtype)
    # eps="auto": clipped to [eps, 1 - eps] with eps the dtype's machine epsilon.
    per = cross_entropy([0, 0], Q, reduction="none")
    ref_lo = -mpmath.log(M(eps_d))
    ref_hi = -mpmath.log(1 - M(eps_d))  # tiny, must keep its relative precision
    assert_allclose(per, [float(ref_lo), float(ref_hi)], rtol=RTOL)
    # eps=0: a zero probability on the true class is inf, honestly
    assert cross_entropy([0], Q[:1], eps=0) == np.inf
    assert cross_entropy([0, 1], Q, eps=0, reduction="sum") == np.inf
    # ... and a zero probability where the target is 0 costs nothing
    assert cross_entropy([1], Q[:1], eps=0) == 0.0
    assert cross_entropy([[0.0, 1.0]], Q[:1], eps=0) == 0.0
    T = np.array([[0.0, 0.3, 0.7]], dtype=dtype)
    q = np.array([[0.0, 0.5, 0.5]], dtype=dtype)
    ref = mp_xent_rows(T, mp_log_proba(q, 0))
    assert_allclose(
        cross_entropy(T, q, eps=0), float(ref[0]), rtol=RTOL32 if dtype == np.float32 else RTOL
    )
    # a soft target with mass on a zero probability: inf
    assert cross_entropy([[0.1, 0.9]], Q[:1], eps=0) == np.inf


def test_cross_entropy_binary_1d_proba_vs_mpmath():
    # 1-D y_pred is the positive class: columns [1 - p, p] (1 - p exact in mpmath).
    rng = np.random.default_rng(5)
    p = rng.uniform(0.05, 0.95, 40)
    y = rng.integers(0, 2, 40)
    ref = [-mpmath.log(M(pi) if yi == 1 else 1 - M(pi)) for pi, yi in zip(p, y)]
    check(cross_entropy(y, p, reduction="none"), ref)
    check(cross_entropy(y, p), mp_reduce(ref, None, "mean", None))


def test_cross_entropy_string_labels_through_labels_vs_mpmath():
    rng = np.random.default_rng(8)
    Q = dirichlet(rng, 12, 3)
    columns = np.array(["cat", "ant", "bee"])  # column order, not sorted
    codes = rng.integers(0, 3, 12)
    y = columns[codes]
    ref = mp_xent_rows(onehot(codes, 3), mp_log_proba(Q, "auto"))
    check(cross_entropy(y, Q, labels=columns, reduction="none"), ref)
    # without labels=, strings map by their sorted order
    order = np.argsort(columns)  # sorted label j is column order[j]
    Qs = Q[:, order]
    ref_sorted = mp_xent_rows(
        onehot(np.searchsorted(np.sort(columns), y), 3), mp_log_proba(Qs, "auto")
    )
    check(cross_entropy(y, Qs, reduction="none"), ref_sorted)


# ---------------------------------------------------------------------------
# cross_entropy from logits: log-softmax in mpmath (mp_log_softmax)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
@pytest.mark.parametrize("weighting", ["none", "sample", "class", "both"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("targets", ["hard", "soft"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_from_logits_vs_mpmath(scale, weighting, smoothing, targets, reduction):
    rng = np.random.default_rng([int(scale), len(weighting), int(smoothing * 10), len(targets)])
    n, k = 19, 5
    Z = rng.uniform(-scale, scale, (n, k))
    Z[0] = [1e4, -1e4, 0.0, 1e4, -1e4]
    Z[1] = [-1e4] * k
    if targets == "hard":
        y = rng.integers(0, k, n)
        T = onehot(y, k)
    else:
        y = T = dirichlet(rng, n, k, zeros=True)
    sw, cw, _ = weights(rng, weighting, n, k)
    ref = mp_reduce(mp_xent_rows(T, mp_log_logits(Z), cw, smoothing), sw, reduction, None)
    actual = cross_entropy(
        y,
        Z,
        from_logits=True,
        sample_weight=sw,
        class_weight=cw,
        label_smoothing=smoothing,
        reduction=reduction,
    )
    assert np.all(np.isfinite(actual))
    check(actual, ref)


def test_cross_entropy_from_logits_extreme_exact():
    # lse(1e4, -1e4) = 1e4 + log1p(exp(-2e4)): the losses are 2e4 and 0 exactly.
    Z = np.array([[1e4, -1e4], [1e4, -1e4], [-1e4, 1e4]])
    per = cross_entropy([1, 0, 0], Z, from_logits=True, reduction="none")
    assert per.tolist() == [2e4, 0.0, 2e4]
    assert cross_entropy([1], Z[:1], from_logits=True, base=2) == pytest.approx(
        2e4 / math.log(2), rel=1e-15
    )
    # tiny losses keep their relative precision: log1p(exp(-20)) for logits (10, -10)
    small = cross_entropy([0], [[10.0, -10.0]], from_logits=True)
    assert_allclose(small, float(mpmath.log1p(mpmath.exp(-20))), rtol=1e-13)


def test_cross_entropy_from_logits_1d_binary():
    # 1-D logits z are columns [0, z]
    rng = np.random.default_rng(2)
    z = rng.normal(0, 5, 30)
    z[:2] = [1e4, -1e4]
    y = rng.integers(0, 2, 30)
    logq = [mp_log_softmax([0.0, zi]) for zi in z]
    ref = mp_xent_rows(onehot(y, 2), logq)
    check(cross_entropy(y, z, from_logits=True, reduction="none"), ref)


@pytest.mark.parametrize("base", [2, 10, 0.5, math.e])
def test_cross_entropy_bases_vs_mpmath(base):
    rng = np.random.default_rng(4)
    Q = dirichlet(rng, 10, 3)
    y = rng.integers(0, 3, 10)
    ref = mp_reduce(mp_xent_rows(onehot(y, 3), mp_log_proba(Q, "auto")), None, "mean", base)
    check(cross_entropy(y, Q, base=base), ref)


# ---------------------------------------------------------------------------
# float32: the float64 mpmath reference of the float32 values, to ~1e-5
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("targets", ["hard", "soft"])
def test_cross_entropy_float32_vs_mpmath(from_logits, targets):
    rng = np.random.default_rng(21)
    n, k = 25, 4
    if from_logits:
        X = rng.normal(0, 4, (n, k)).astype(np.float32)
        X[0] = [1e4, -1e4, 0, 3]
        logq = mp_log_logits(X)
    else:
        X = dirichlet(rng, n, k, alpha=0.5).astype(np.float32)
        X[0] = [0, 1, 0, 0]
        logq = mp_log_proba(X, "auto")  # clipped with float32's eps
    if targets == "hard":
        y = rng.integers(0, k, n)
        T = onehot(y, k)
    else:
        y = T = dirichlet(rng, n, k).astype(np.float32)
    sw = rng.uniform(0.5, 2, n)
    cw = rng.uniform(0.5, 2, k)
    ref = mp_xent_rows(T, logq, cw, 0.1)
    per = cross_entropy(
        y, X, from_logits=from_logits, class_weight=cw, label_smoothing=0.1, reduction="none"
    )
    assert_allclose(per, to_float(ref), rtol=RTOL32)
    mean = cross_entropy(
        y, X, from_logits=from_logits, class_weight=cw, label_smoothing=0.1, sample_weight=sw
    )
    assert_allclose(mean, float(mp_reduce(ref, sw, "mean", None)), rtol=RTOL32)


# ---------------------------------------------------------------------------
# binary_cross_entropy: mpmath reference of the Bernoulli terms
#   ℓ_ij = −(pw_j t' log q + (1 − t') log(1 − q)),  t' = (1 − ε) t + ε/2,
#   per sample the mean over labels.
# ---------------------------------------------------------------------------


def mp_bce_rows(T, X, *, from_logits, pos_weight=None, smoothing=0.0, eps="auto"):
    T = np.asarray(T)
    X = np.asarray(X)
    n = T.shape[0]
    T2, X2 = T.reshape(n, -1), X.reshape(n, -1)
    L = T2.shape[1]
    pw = np.broadcast_to(1.0 if pos_weight is None else pos_weight, (L,))
    if not from_logits:
        lo, hi = clip_bounds(eps, X2.dtype.type)
        if lo > 0:
            X2 = np.clip(X2, lo, hi)
    e = M(smoothing)
    rows = []
    for i in range(n):
        s = mpmath.mpf(0)
        for j in range(L):
            t = (1 - e) * M(T2[i, j]) + e / 2
            x = M(X2[i, j])
            if from_logits:  # log σ(z) = −log(1 + e^{−z}), log(1 − σ(z)) = −log(1 + e^{z})
                logq, log1mq = -mpmath.log1p(mpmath.exp(-x)), -mpmath.log1p(mpmath.exp(x))
            else:
                # log1p: at 50 digits, 1 − 2**-1074 would round to 1
                logq, log1mq = mp_log(x), mpmath.log1p(-x)
            if t != 0:
                s -= M(pw[j]) * t * logq
            if t != 1:
                s -= (1 - t) * log1mq
        rows.append(s / L)
    return rows


@pytest.mark.parametrize("shape", ["1d", "2d"])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("pos_weight", [None, "scalar", "per_label"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("sample_weight", [False, True])
def test_binary_cross_entropy_vs_mpmath(
    shape, from_logits, pos_weight, smoothing, reduction, sample_weight
):
    rng = np.random.default_rng(
        [len(shape), from_logits, len(str(pos_weight)), int(smoothing * 10)]
    )
    n, L = 17, 3
    size = (n,) if shape == "1d" else (n, L)
    T = rng.integers(0, 2, size).astype(float)
    soft = rng.random(size) < 0.4
    T[soft] = rng.random(int(soft.sum()))
    if from_logits:
        X = rng.uniform(-8, 8, size)
        X.flat[:2] = [1e4, -1e4]
    else:
        X = rng.uniform(0, 1, size)
        X.flat[:4] = [1e-12, 1 - 1e-12, 0.0, 1.0]
    if pos_weight == "scalar":
        pw = 2.5
    elif pos_weight == "per_label":
        pw = rng.uniform(0.2, 3, 1 if shape == "1d" else L)
    else:
        pw = None
    sw = rng.uniform(0.1, 2, n) if sample_weight else None
    rows = mp_bce_rows(T, X, from_logits=from_logits, pos_weight=pw, smoothing=smoothing)
    ref = mp_reduce(rows, sw, reduction, None)
    actual = binary_cross_entropy(
        T,
        X,
        from_logits=from_logits,
        pos_weight=pw,
        label_smoothing=smoothing,
        sample_weight=sw,
        reduction=reduction,
    )
    check(actual, ref)


@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_cross_entropy_bits_vs_mpmath(from_logits):
    rng = np.random.default_rng(9)
    T = rng.integers(0, 2, (12, 4)).astype(float)
    X = rng.normal(0, 3, (12, 4)) if from_logits else rng.uniform(0.01, 0.99, (12, 4))
    rows = mp_bce_rows(T, X, from_logits=from_logits)
    check(
        binary_cross_entropy(T, X, from_logits=from_logits, base=2),
        mp_reduce(rows, None, "mean", 2),
    )


def test_binary_cross_entropy_near_zero_one_eps0():
    tiny = np.nextafter(0.0, 1.0)
    q = np.array([tiny, 1e-300, 1e-12, 1 - 1e-12, 0.5, 1 - 2**-53])
    for t in (0.0, 1.0, 0.3):
        T = np.full(q.shape, t)
        ref = mp_bce_rows(T, q, from_logits=False, eps=0)
        check(binary_cross_entropy(T, q, eps=0, reduction="none"), ref)


def test_binary_cross_entropy_exact_zero_and_one():
    q = np.array([0.0, 1.0, 0.0, 1.0])
    t = np.array([0.0, 1.0, 1.0, 0.0])
    # eps=0: the right class predicted certain costs 0, the wrong one inf
    assert binary_cross_entropy(t, q, eps=0, reduction="none").tolist() == [
        0.0,
        0.0,
        np.inf,
        np.inf,
    ]
    # eps="auto": clipped to [eps, 1 - eps]
    ref = mp_bce_rows(t, q, from_logits=False, eps="auto")
    check(binary_cross_entropy(t, q, reduction="none"), ref)
    assert mpmath.almosteq(
        ref[2], -mpmath.log(M(np.finfo(float).eps)), rel_eps=mpmath.mpf(10) ** -40
    )


def test_binary_cross_entropy_logits_extreme_exact():
    z = np.array([1e4, -1e4, 1e4, -1e4])
    t = np.array([1.0, 0.0, 0.0, 1.0])
    assert binary_cross_entropy(t, z, from_logits=True, reduction="none").tolist() == [
        0.0,
        0.0,
        1e4,
        1e4,
    ]
    small = binary_cross_entropy([1.0], [20.0], from_logits=True)
    assert_allclose(small, float(mpmath.log1p(mpmath.exp(-20))), rtol=1e-13)


@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_cross_entropy_float32_vs_mpmath(from_logits):
    rng = np.random.default_rng(31)
    T = rng.random((20, 3)).astype(np.float32)
    if from_logits:
        X = rng.normal(0, 4, (20, 3)).astype(np.float32)
    else:
        X = rng.uniform(0, 1, (20, 3)).astype(np.float32)
        X[0] = [0, 1, 1e-30]
    rows = mp_bce_rows(T, X, from_logits=from_logits)
    assert_allclose(
        binary_cross_entropy(T, X, from_logits=from_logits, reduction="none"),
        to_float(rows),
        rtol=RTOL32,
    )


# ---------------------------------------------------------------------------
# focal_cross_entropy: mpmath reference −Σ α_c t'_c (1 − q_c)^γ log q_c;
# gamma = 0 against cross_entropy (which is checked against mpmath above)
# ---------------------------------------------------------------------------


def mp_focal_rows(T, X, *, gamma, alpha=None, from_logits=False, smoothing=0.0, eps="auto"):
    T = np.asarray(T)
    n, k = T.shape
    if from_logits:
        logq = mp_log_logits(X)
    else:
        logq = mp_log_proba(X, eps)
    e = M(smoothing)
    g = M(gamma)
    rows = []
    for i in range(n):
        s = mpmath.mpf(0)
        for c in range(k):
            t = (1 - e) * M(T[i, c]) + e / k
            a = 1 if alpha is None else M(alpha[c])
            q = mpmath.exp(logq[i][c])
            w = a * t * (1 - q) ** g
            if w != 0:
                s -= w * logq[i][c]
        rows.append(s)
    return rows


@pytest.mark.parametrize("gamma", [0.5, 2.0])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("alpha", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("targets", ["hard", "soft"])
def test_focal_vs_mpmath(gamma, from_logits, alpha, smoothing, targets):
    rng = np.random.default_rng(
        [int(gamma * 10), from_logits, alpha, int(smoothing * 10), len(targets)]
    )
    n, k = 15, 4
    if from_logits:
        X = rng.normal(0, 3, (n, k))
        X[0] = [1e4, -1e4, 0, 1]
    else:
        X = dirichlet(rng, n, k, alpha=0.8)
    if targets == "hard":
        y = rng.integers(0, k, n)
        T = onehot(y, k)
    else:
        y = T = dirichlet(rng, n, k, zeros=True)
    a = rng.uniform(0.1, 1, k) if alpha else None
    sw = rng.uniform(0.5, 2, n)
    rows = mp_focal_rows(T, X, gamma=gamma, alpha=a, from_logits=from_logits, smoothing=smoothing)
    kw = dict(gamma=gamma, alpha=a, from_logits=from_logits, label_smoothing=smoothing)
    check(focal_cross_entropy(y, X, reduction="none", **kw), rows)
    check(focal_cross_entropy(y, X, sample_weight=sw, **kw), mp_reduce(rows, sw, "mean", None))


@pytest.mark.parametrize("one_d", [True, False])
@pytest.mark.parametrize("from_logits", [False, True])
def test_focal_binary_scalar_alpha_vs_mpmath(one_d, from_logits):
    # scalar α weights the positive class, 1 − α the negative one
    rng = np.random.default_rng(13)
    n = 20
    y = rng.integers(0, 2, n)
    if from_logits:
        z = rng.normal(0, 3, n)
        X = z if one_d else np.column_stack([np.zeros(n), z])
        X2 = np.column_stack([np.zeros(n), z])
        rows = mp_focal_rows(onehot(y, 2), X2, gamma=2.0, alpha=[0.75, 0.25], from_logits=True)
    else:
        p = rng.uniform(0.05, 0.95, n)
        X = p if one_d else np.column_stack([1 - p, p])
        rows = []
        for pi, yi in zip(p, y):  # exact 1 - p in mpmath
            q = M(pi) if yi == 1 else 1 - M(pi)
            a = mpmath.mpf(0.25) if yi == 1 else mpmath.mpf(0.75)
            rows.append(-a * (1 - q) ** 2 * mpmath.log(q))
    actual = focal_cross_entropy(
        y, X, gamma=2.0, alpha=0.25, from_logits=from_logits, reduction="none"
    )
    check(actual, rows, rtol=RTOL if (from_logits or one_d) else 1e-11)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("targets", ["hard", "soft"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_focal_gamma0_equals_cross_entropy(from_logits, targets, reduction):
    rng = np.random.default_rng(17)
    n, k = 30, 3
    X = rng.normal(0, 3, (n, k)) if from_logits else dirichlet(rng, n, k, alpha=0.5)
    y = rng.integers(0, k, n) if targets == "hard" else dirichlet(rng, n, k, zeros=True)
    sw = rng.uniform(0.5, 2, n)
    cw = rng.uniform(0.5, 2, k)
    kw = dict(
        from_logits=from_logits, sample_weight=sw, label_smoothing=0.1, base=2, reduction=reduction
    )
    assert_allclose(focal_cross_entropy(y, X, gamma=0, **kw), cross_entropy(y, X, **kw), rtol=1e-13)
    # alpha per class is cross_entropy's class_weight at gamma = 0
    assert_allclose(
        focal_cross_entropy(y, X, gamma=0, alpha=cw, **kw),
        cross_entropy(y, X, class_weight=cw, **kw),
        rtol=1e-13,
    )


# ---------------------------------------------------------------------------
# entropy: scipy.stats.entropy and mpmath
# ---------------------------------------------------------------------------


def test_entropy_1d_is_float_vs_scipy():
    rng = np.random.default_rng(1)
    p = dirichlet(rng, 1, 6, zeros=True)[0]
    h = entropy(p)
    assert isinstance(h, float)
    assert_allclose(h, scipy.stats.entropy(p), rtol=RTOL)
    assert_allclose(entropy(p, base=2), scipy.stats.entropy(p, base=2), rtol=RTOL)
    ref = -mpmath.fsum(M(v) * mpmath.log(M(v)) for v in p if v > 0)
    check(h, ref)


@pytest.mark.parametrize("base", [None, 2])
def test_entropy_rows_and_axis0_vs_scipy(base):
    rng = np.random.default_rng(6)
    P = dirichlet(rng, 9, 5, alpha=0.5, zeros=True)
    h = entropy(P, base=base)
    assert h.shape == (9,)
    assert_allclose(h, scipy.stats.entropy(P, base=base, axis=1), rtol=RTOL)
    h0 = entropy(P.T, base=base, axis=0)
    assert_allclose(h0, scipy.stats.entropy(P.T, base=base, axis=0), rtol=RTOL)
    assert_allclose(entropy(np.asfortranarray(P.T), axis=0, base=base), h, rtol=RTOL)


def test_entropy_uniform_is_log_k():
    for k in (2, 3, 7, 64):
        assert_allclose(entropy(np.full(k, 1 / k)), math.log(k), rtol=1e-14)
        assert_allclose(entropy(np.full(k, 1 / k), base=2), math.log2(k), rtol=1e-14)


# ---------------------------------------------------------------------------
# kl_divergence: scipy.stats.entropy(p, q), mpmath, and hypothesis properties
# ---------------------------------------------------------------------------


def mp_kl(p, q, eps=0.0):
    s = mpmath.mpf(0)
    for a, b in zip(p, q):
        if a == 0:
            continue
        b = max(M(b), M(eps))
        s += M(a) * (mpmath.log(M(a) / b) if b > 0 else mpmath.mpf("inf"))
    return s


@pytest.mark.parametrize("base", [None, 2])
def test_kl_vs_scipy_and_mpmath(base):
    rng = np.random.default_rng(12)
    P = dirichlet(rng, 10, 4, alpha=0.8, zeros=True)
    Q = dirichlet(rng, 10, 4, alpha=0.8)
    d = kl_divergence(P, Q, base=base)
    assert d.shape == (10,)
    assert_allclose(d, scipy.stats.entropy(P, Q, base=base, axis=1), rtol=1e-11)
    scale = 1 if base is None else 1 / mpmath.log(2)
    assert_allclose(d, [float(mp_kl(p, q) * scale) for p, q in zip(P, Q)], rtol=RTOL)
    d0 = kl_divergence(P.T, Q.T, axis=0, base=base)
    assert_allclose(d0, d, rtol=1e-15)
    one = kl_divergence(P[0], Q[0], base=base)
    assert isinstance(one, float)
    assert_allclose(one, float(mp_kl(P[0], Q[0]) * scale), rtol=RTOL)


def test_kl_nearly_equal_distributions_vs_mpmath():
    # D(P‖Q) ~ 1e-13: a difference H(P, Q) − H(P) would have no correct digit;
    # computed directly it keeps most of them (mpmath is the judge, not scipy).
    rng = np.random.default_rng(14)
    P = dirichlet(rng, 8, 5)
    Q = P * (1 + 1e-6 * rng.standard_normal(P.shape))
    Q /= Q.sum(axis=1, keepdims=True)
    d = kl_divergence(P, Q)
    ref = np.array([float(mp_kl(p, q)) for p, q in zip(P, Q)])
    assert np.all(ref > 0) and np.all(ref < 1e-10)
    assert_allclose(d, ref, rtol=1e-6)


def test_kl_zero_q_and_eps():
    p, q = [0.5, 0.5, 0.0], [1.0, 0.0, 0.0]
    assert kl_divergence(p, q) == np.inf
    assert kl_divergence(q, p) == pytest.approx(float(mp_kl(q, p)), rel=1e-15)  # = ln 2
    assert_allclose(kl_divergence(q, p), math.log(2), rtol=1e-15)
    check(kl_divergence(p, q, eps=1e-10), mp_kl(p, q, eps=1e-10))


@pytest.mark.parametrize(
    "p, q",
    [
        ([1e-20, 1 - 1e-20], [0.5, 0.5]),  # p / q < 2**-53 on one class
        ([2**-1074, 1.0], [0.5, 0.5]),  # a denormal p
        ([1.0, 0.0], [1e-310, 1.0]),  # a denormal q: 1 / q overflows
        ([1.0, 0.0, 0.0], [2.2250738585072014e-308, 0.0, 1.0]),
        ([0.3, 0.7], [1e-300, 1.0]),
        ([0.5, 0.5 - 1e-17, 1e-17], [1e-17, 0.5 - 1e-17, 0.5]),
    ],
)
def test_kl_extreme_ratios_vs_mpmath(p, q):
    # mpmath at 50 digits: the terms p log(p / q) of the exact inputs.
    check(kl_divergence(p, q), mp_kl(p, q))
    check(kl_divergence(q, p), mp_kl(q, p))


def _normalised(values):
    a = np.array(values, dtype=np.float64)
    total = a.sum()
    assume(np.isfinite(total) and total > 1e-300)
    return a / total


distribution = st.integers(2, 6).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(0, 1e6, allow_subnormal=True), min_size=k, max_size=k),
        st.lists(st.floats(0, 1e6, allow_subnormal=True), min_size=k, max_size=k),
    )
)


@settings(max_examples=80, deadline=None)
@given(distribution)
def test_kl_property_nonnegative(pq):
    p, q = _normalised(pq[0]), _normalised(pq[1])
    d = kl_divergence(p, q)
    assert d >= 0.0  # also rules out NaN
    assert_allclose(d, float(mp_kl(p, q)), rtol=1e-9, atol=1e-15)
    assert kl_divergence(np.vstack([p, q]), np.vstack([q, p])).min() >= 0.0


@settings(max_examples=80, deadline=None)
@given(distribution)
def test_kl_property_zero_for_equal(pq):
    p = _normalised(pq[0])
    assert kl_divergence(p, p) == 0.0
    assert kl_divergence(p, p.copy(), base=2) == 0.0


# ---------------------------------------------------------------------------
# perplexity: exp of the mpmath mean cross entropy; k for a uniform guess
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("base", [None, 2])
def test_perplexity_is_exp_mean_cross_entropy(from_logits, base):
    rng = np.random.default_rng(19)
    n, k = 25, 4
    X = rng.normal(0, 2, (n, k)) if from_logits else dirichlet(rng, n, k)
    y = rng.integers(0, k, n)
    sw = rng.uniform(0.5, 2, n)
    logq = mp_log_logits(X) if from_logits else mp_log_proba(X, "auto")
    ref = mpmath.exp(mp_reduce(mp_xent_rows(onehot(y, k), logq), sw, "mean", None))
    actual = perplexity(y, X, from_logits=from_logits, sample_weight=sw, base=base)
    assert isinstance(actual, float)
    assert_allclose(actual, float(ref), rtol=RTOL)


@pytest.mark.parametrize("k", [2, 3, 10, 1000])
def test_perplexity_uniform_is_k(k):
    n = 7
    y = np.arange(n) % k
    assert_allclose(perplexity(y, np.full((n, k), 1 / k)), k, rtol=1e-13)
    assert_allclose(perplexity(y, np.zeros((n, k)), from_logits=True), k, rtol=1e-13)


# A weight of 0 removes a term entirely, even one that would be log(0) = -inf
# unclipped (0 * inf is NaN in floating point; the weighted sum has no such term).
def test_zero_class_weight_on_zero_probability_is_zero():
    value = cross_entropy(
        [0, 1], [[0.0, 1.0], [0.5, 0.5]], eps=0, class_weight=[0.0, 1.0], reduction="none"
    )
    assert_allclose(value, [0.0, np.log(2)], rtol=1e-15)
    soft = cross_entropy([[1.0, 0.0]], [[0.0, 1.0]], eps=0, class_weight=[0.0, 1.0])
    assert soft == 0.0


def test_zero_pos_weight_on_zero_probability_is_zero():
    value = binary_cross_entropy([1.0, 0.0], [0.0, 0.25], eps=0, pos_weight=0.0, reduction="none")
    assert_allclose(value, [0.0, -np.log1p(-0.25)], rtol=1e-15)
