"""The validation helpers of skxent._core, on one thread and several.

Each finds the *first* bad entry of an array, in one pass; on several threads
each thread searches its own share, and the answer must still be the first
bad entry overall, whichever share it is in.
"""

import numpy as np
import pytest

from skxent import _core
from skxent.loss import loss_gradient


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_class_indices_first_bad_entry(dtype, n_threads):
    n = 50_000
    y = (np.arange(n) % 7).astype(dtype)
    out = np.empty(n, dtype=np.intp)
    assert _core.class_indices(y, 7, out, n_threads) == -1
    assert np.array_equal(out, np.arange(n) % 7)
    for bad_at in ([n - 1], [3 * n // 4], [n // 2 - 1, n - 5], [10, n // 2 + 10]):
        for value in (np.nan, 7.0, -1.0, 2.5):
            z = y.copy()
            z[bad_at] = value
            assert _core.class_indices(z, 7, out, n_threads) == bad_at[0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_first_outside_unit(dtype, n_threads):
    n = 70_001
    x = np.linspace(0, 1, n).astype(dtype)
    assert _core.first_outside_unit(x, n_threads) == -1
    for bad_at in ([0], [n - 1], [n // 2 + 3], [300, n - 2], [255], [256]):
        for value in (np.nan, -1e-30, 1.0000001, np.inf, -np.inf):
            z = x.copy()
            z[bad_at] = value
            assert _core.first_outside_unit(z, n_threads) == bad_at[0]


def test_sigmoid_reports_non_finite_outputs():
    # The kernel's finiteness flag sends the public function to its checks.
    raw = np.zeros(100_000)
    y = np.zeros(100_000)
    raw[77_777] = np.nan
    for sw in (None, np.r_[np.ones(77_777), 0.0, np.ones(100_000 - 77_778)]):
        with pytest.raises(ValueError, match="row 77777"):
            loss_gradient(y, raw, link="sigmoid", sample_weight=sw, n_threads=2)
    raw[77_777] = 0.0
    y[77_777] = 1.5
    with pytest.raises(ValueError, match="row 77777"):
        loss_gradient(y, raw, link="sigmoid")


def _gather(proba, y, tol, n_threads):
    k = proba.shape[1] if proba.ndim == 2 else 2
    out = np.empty(proba.shape[0], dtype=proba.dtype)
    seen = np.zeros(k, dtype=np.uint8)
    eps = float(np.finfo(proba.dtype).eps)
    if proba.ndim == 1:
        bad = _core.gather_binary(proba, y, eps, out, seen, n_threads)
    else:
        bad = _core.gather_proba(proba, y, eps, tol, out, seen, n_threads)
    return bad, out, seen


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [2, 3, 10, 17])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_gather_proba_checks_every_row(dtype, k, n_threads):
    # log_loss's pass: every row finite, in [0, 1], summing to 1 within tol,
    # its class in 0..k-1; the clipped entry of the class gathered.  A bad
    # row anywhere (in a vector's spare lanes, a block's last row, either
    # thread's share) is seen.
    rng = np.random.default_rng(k)
    n = 9000
    proba = rng.dirichlet(np.ones(k), n).astype(dtype)
    proba[5] = 0.0
    proba[5, 1] = 1.0  # clipped: 0 up to eps, 1 down to 1 - eps
    y = rng.integers(0, k, n)
    y[5] = 0
    eps = np.finfo(dtype).eps
    tol = 1e-8 + np.sqrt(eps) / 2
    bad, out, seen = _gather(proba, y, tol, n_threads)
    assert bad == 0 and seen.all()
    expected = np.clip(proba[np.arange(n), y], eps, 1 - eps)
    assert np.array_equal(out, expected)
    for row in (0, 1, 7, 8, 1023, n // 2, n - 1):
        for col, value in ((0, np.nan), (k - 1, -0.0001), (0, 1.0001), (k - 1, np.inf)):
            p = proba.copy()
            p[row, col] = value
            assert _gather(p, y, tol, n_threads)[0] > 0, (row, col, value)
        p = proba.copy()
        p[row] *= 1 + 4 * tol  # sums off by 4 tol, entries still in [0, 1]
        p[row] = np.minimum(p[row], 1)
        if abs(p[row].astype(float).sum() - 1) > 2 * tol:
            assert _gather(p, y, tol, n_threads)[0] > 0, row
        z = y.copy()
        z[row] = k
        assert _gather(proba, z, tol, n_threads)[0] > 0
        z[row] = -1
        assert _gather(proba, z, tol, n_threads)[0] > 0
    # a class that never occurs
    bad, _, seen = _gather(proba, np.minimum(y, k - 2), tol, n_threads)
    assert bad == 0 and not seen[k - 1] and seen[: k - 1].all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_gather_binary(dtype, n_threads):
    rng = np.random.default_rng(0)
    n = 9000
    p = rng.random(n).astype(dtype)
    y = rng.integers(0, 2, n)
    bad, out, seen = _gather(p, y, -1.0, n_threads)
    eps = np.finfo(dtype).eps
    expected = np.clip(np.where(y == 1, p, (1 - p).astype(dtype)), eps, 1 - eps)
    assert bad == 0 and seen.all() and np.array_equal(out, expected)
    for i in (0, n // 2, n - 1):
        for value in (np.nan, -1e-3, 1.5):
            q = p.copy()
            q[i] = value
            assert _gather(q, y, -1.0, n_threads)[0] > 0
        z = y.copy()
        z[i] = 2
        assert _gather(p, z, -1.0, n_threads)[0] > 0


@pytest.mark.parametrize(
    "y, classes",
    [
        (np.array([3, -2, 3, 7, -2], dtype=np.int8), np.array([7, -2, 3], dtype=np.int8)),
        (np.array([0, 1, 1, 0], dtype=np.uint8), np.array([1, 0])),
        (np.array([True, False, True]), np.array([False, True])),
        (np.array([10**12, 5, 10**12]), np.array([5, 10**12])),  # too wide for a table
    ],
)
def test_labels_map_to_the_position_of_their_class(y, classes):
    from skxent._validation import encode_labels

    codes = encode_labels(y, classes=classes, name="y", classes_name="classes").codes
    expected = [list(classes.tolist()).index(v) for v in y.tolist()]
    np.testing.assert_array_equal(codes, expected)
    assert codes.dtype == np.intp


def test_a_label_outside_the_classes_is_named_with_its_index():
    from skxent._validation import encode_labels

    with pytest.raises(ValueError, match=r"label 4 \(at index 2\), which is not in classes"):
        encode_labels(np.array([1, 2, 4, 9]), classes=np.array([1, 2, 9]), name="y",
                      classes_name="classes")  # fmt: skip
