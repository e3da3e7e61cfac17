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
