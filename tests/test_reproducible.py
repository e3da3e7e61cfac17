"""Fits give the same bits for any number of threads.

The kernels' sums are thread-count independent; so must a fit be: the objective
adds its row chunks in chunk order (never per thread), and BLAS runs on one
thread during the fit.  Each fit is run with OpenMP and BLAS limited to 1 and
to 2 threads through threadpoolctl, on data large enough to be split into
several chunks.
"""

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_limits

from skxent import CrossEntropyClassifier

SOLVERS = ["lbfgs", "newton-cg", "newton-cholesky", "newton-cd", "sgd", "adam"]


def _data(solver):
    if solver == "newton-cholesky":  # a full Hessian per chunk: keep it small
        return make_classification(
            100_000, 8, n_informative=5, n_classes=3, n_clusters_per_class=1, random_state=0
        )
    return make_classification(60_000, 30, n_informative=10, n_classes=5, random_state=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_fit_bits_do_not_depend_on_threads(solver, fmt, dtype):
    X, y = _data(solver)
    X = X.astype(dtype)
    if fmt == "csr":
        X = sparse.csr_matrix(X)
    stochastic = solver in ("sgd", "adam")
    fits = []
    for threads in (1, 2):
        with threadpool_limits(threads):
            clf = CrossEntropyClassifier(
                solver=solver,
                max_iter=2 if stochastic else 100,
                random_state=0,
                l1_ratio=0.5 if solver == "newton-cd" else 0.0,
            )
            with pytest.warns() if stochastic else _nothing():
                clf.fit(X, y)
        fits.append(clf)
    one, two = fits
    assert one.coef_.dtype == dtype
    assert np.array_equal(one.coef_, two.coef_)
    assert np.array_equal(one.intercept_, two.intercept_)
    assert np.array_equal(one.n_iter_, two.n_iter_)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_objective_is_split_into_several_chunks():
    # The thread pool only matters with several chunks: the test data above has them.
    from skxent._linear_loss import LinearModelLoss

    for solver in ("lbfgs", "newton-cholesky"):
        X, y = _data(solver)
        for data in (X, sparse.csr_matrix(X)):
            loss = LinearModelLoss(data, y, link="softmax", n_outputs=len(np.unique(y)))
            assert len(loss._chunks) >= 3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_newton_cd_blocked_sweeps_do_not_depend_on_threads(dtype):
    # More than 256 coefficients on dense rows, fewer than twice the Hessian
    # sample: newton-cd sweeps X's columns, on 16 384 rows or more in blocks
    # of rows shared out between the threads; the sums are added in block
    # order, so 1, 2 and 3 threads give the same bits.
    from skxent._cd import BLOCKED_ROWS

    from skxent._linear_loss import LinearModelLoss
    from skxent._solvers import explicit_suits

    X, y = make_classification(20_000, 60, n_informative=20, n_classes=5, random_state=1)
    X = X.astype(dtype)
    assert X.shape[0] >= BLOCKED_ROWS
    assert not explicit_suits(LinearModelLoss(X, y, link="softmax", n_outputs=5))
    fits = []
    for threads in (1, 2, 3):
        with threadpool_limits(threads):
            fits.append(CrossEntropyClassifier(l1_ratio=0.5, C=0.05).fit(X, y))
    for other in fits[1:]:
        assert np.array_equal(fits[0].coef_, other.coef_)
        assert np.array_equal(fits[0].intercept_, other.intercept_)
        assert np.array_equal(fits[0].n_iter_, other.n_iter_)


@pytest.mark.parametrize("link, K", [("sigmoid", 1), ("sigmoid", 3), ("softmax", 4)])
def test_starting_point_does_not_depend_on_blas_threads(link, K):
    # The intercept-only start is computed before a fit limits BLAS to one
    # thread: a BLAS dot over the rows split its sum between threads, and a
    # binary fit's intercept, and so its coefficients, changed in the last bit
    # from 1 to 2 threads.  Reference: the weighted masses summed exactly.
    import math

    from skxent._linear_loss import LinearModelLoss

    rng = np.random.default_rng(3)
    n = 40_000
    X = rng.normal(size=(n, 3))
    sw = rng.uniform(0.1, 3.0, n)
    if link == "sigmoid":
        T = (rng.uniform(size=(n, K)) < 0.3).astype(float)
        T = T[:, 0] if K == 1 else T
    else:
        T = rng.dirichlet(np.ones(K), n)
    loss = LinearModelLoss(X, T, link=link, n_outputs=K, sample_weight=sw)
    starts = []
    for threads in (1, 2):
        with threadpool_limits(threads, user_api="blas"):
            starts.append(loss.init_coef())
    assert np.array_equal(starts[0], starts[1])
    s = loss.kernel_weight
    T2 = T.reshape(n, -1)
    mass = np.array([math.fsum(s * T2[:, c]) for c in range(T2.shape[1])])
    if link == "sigmoid":
        expected = np.log(mass) - np.log(math.fsum(s) - mass)
    else:
        expected = np.log(mass) - np.log(mass).mean()
    # (softmax: a difference of logs near 9, rounded to 1e-15 of them)
    np.testing.assert_allclose(starts[0][-K:], expected, rtol=1e-12, atol=1e-13)


def test_binary_fit_bits_do_not_depend_on_threads():
    # The binary elastic-net fit (few coefficients, many rows: the formed
    # Hessian) from its start on: the same bits on 1 and 2 threads.
    X, y = make_classification(20_000, 40, n_informative=20, random_state=0)
    fits = []
    for threads in (1, 2):
        with threadpool_limits(threads):
            fits.append(CrossEntropyClassifier(l1_ratio=1.0, C=0.05, tol=1e-8).fit(X, y))
    assert np.array_equal(fits[0].coef_, fits[1].coef_)
    assert np.array_equal(fits[0].intercept_, fits[1].intercept_)
