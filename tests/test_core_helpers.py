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
