"""Which OpenMP runtime runs skxent's parallel regions (skxent/_omp.h).

With gcc on Linux skxent links no OpenMP runtime of its own: it uses the one
scikit-learn's extension modules are linked with, so that one pool of threads
serves both libraries.
"""

import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import skxent
from skxent import _core
from skxent.loss import loss_gradient

INFO = skxent._config.build_info()
SHARED = INFO["openmp_runtime"] == "scikit-learn"


def test_the_runtime_is_reported():
    assert INFO["openmp_runtime"] in ("scikit-learn", "system", "none")
    if INFO["openmp"] and sys.platform.startswith("linux"):
        assert INFO["openmp_runtime"] != "none"


@pytest.mark.skipif(not SHARED, reason="skxent does not share scikit-learn's runtime here")
def test_one_openmp_runtime_in_the_process():
    # Importing skxent (and running a kernel on two threads) loads no OpenMP
    # runtime besides scikit-learn's.
    code = (
        "import numpy as np, skxent, skxent.loss\n"
        "skxent.loss.loss_gradient(np.zeros(10**5, dtype=int), np.zeros((10**5, 3)), n_threads=2)\n"
        "libs = {l.split()[-1] for l in open('/proc/self/maps') if 'gomp' in l or 'libomp' in l}\n"
        "print(len(libs), *sorted(libs))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == "1", out
    assert out[1] == INFO["openmp_library"]


@pytest.mark.skipif(not SHARED, reason="skxent does not share scikit-learn's runtime here")
def test_limits_and_results_on_either_runtime():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(60_000, 7))
    y = rng.integers(0, 7, 60_000)
    expected = loss_gradient(y, raw, n_threads=1)
    module = _core._sklearn_openmp_module()
    try:
        for target in (None, module):
            kind, path = _core.openmp_bind(target)
            assert kind == (2 if target is not None else 1) and path
            for n_threads in (1, 2, 3):
                loss, grad = loss_gradient(y, raw, n_threads=n_threads)
                assert np.array_equal(loss, expected[0]) and np.array_equal(grad, expected[1])
            with threadpool_limits(limits=1, user_api="openmp"):
                assert _core.max_threads() == 1
    finally:
        _core.openmp_bind(module)
    assert skxent._config.build_info()["openmp_runtime"] == "scikit-learn"
