"""The solvers' parts: conjugate gradients' stopping rule and the preconditioners."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skxent import CrossEntropyClassifier
from skxent._linear_loss import LinearModelLoss
from skxent._solvers import KFAC, BlockJacobi, _pcg


def test_pcg_slow_convergence_is_not_a_precision_stall():
    # On an ill-conditioned system the CG residual rises and falls: ten
    # products without a new minimum far above the precision of the products
    # is slow convergence, not arithmetic at its limit.  The quadratic model
    # keeps falling meanwhile, so CG carries on to the target.
    eigenvalues = np.linspace(1, 1e6, 300)
    b = np.random.default_rng(0).normal(size=300)
    p, n_products, stagnated = _pcg(
        lambda v: eigenvalues * v, b, None, rtol=1e-12, maxiter=2000, patience=10
    )
    residual = np.linalg.norm(eigenvalues * p + b) / np.linalg.norm(b)
    assert not stagnated
    assert residual <= 1e-11 and n_products < 2000
    # (Before, this counted as a stall of the arithmetic: three of them ended
    # the fit of 1000 classes with a ConvergenceWarning, in float64.)


@pytest.mark.parametrize("n, k", [(40_003, 1), (40_005, 5), (70_000, 20), (100, 4)])
def test_cg_vector_work_against_numpy_on_any_number_of_threads(n, k):
    # skxent._cd's passes of a CG step against numpy's operations, and the
    # same bits on one, two and three threads (40 000 entries and more run
    # in parallel blocks; 100 on one thread).
    from skxent import _cd

    rng = np.random.default_rng(n + k)
    d, h, p0, r0 = (rng.normal(size=n) for _ in range(4))
    inverse = rng.uniform(0.1, 10.0, size=n)
    runs = []
    for threads in (1, 2, 3):
        p, r, z, dd = p0.copy(), r0.copy(), np.empty(n), d.copy()
        dot = _cd.cg_dot(d, h, threads)
        rr = _cd.cg_step(0.3, d, h, p, r, threads)
        rz = _cd.cg_precondition(r, inverse, k, z, threads)
        _cd.cg_direction(0.7, z, dd, threads)
        runs.append((dot, rr, rz, p, r, z, dd))
    want_p, want_r = p0 + 0.3 * d, r0 - 0.3 * h
    want_z = (want_r * inverse).reshape(-1, k)
    if k > 1:
        want_z = want_z - want_z.mean(axis=1, keepdims=True)
    want_z = want_z.ravel()
    dot, rr, rz, p, r, z, dd = runs[0]
    assert_allclose(dot, d @ h, rtol=1e-12)
    assert_allclose(p, want_p, rtol=1e-15)
    assert_allclose(r, want_r, rtol=1e-15)
    assert_allclose(rr, want_r @ want_r, rtol=1e-12)
    assert_allclose(z, want_z, rtol=1e-12, atol=1e-13 * np.abs(want_z).max())
    assert_allclose(rz, want_r @ want_z, rtol=1e-12)
    assert_allclose(dd, want_z + 0.7 * d, rtol=1e-12, atol=1e-13)
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            assert_array_equal(a, b)
    with pytest.raises(ValueError, match="10 entries are not runs of 3"):
        _cd.cg_precondition(np.ones(10), np.ones(10), 3, np.empty(10))
    with pytest.raises(ValueError, match="cg_dot: vectors"):
        _cd.cg_dot(d, h[:-1])


def _point(loss, seed=0):
    w = np.random.default_rng(seed).normal(scale=0.3, size=loss.n_dof)
    _, _, point = loss.loss_gradient(w, return_raw=True)
    return w, point


def test_block_jacobi_is_the_exact_hessian_for_independent_sigmoids():
    # Multilabel sigmoids do not couple their outputs: the Hessian is block
    # diagonal, and with few rows every block is summed exactly.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    Y = (rng.uniform(size=(60, 4)) < 0.4).astype(float)
    loss = LinearModelLoss(X, Y, link="sigmoid", n_outputs=4, C=0.7)
    w, point = _point(loss)
    precondition = BlockJacobi(loss)(point)
    _, _, H = loss.hessian(w)
    for e in np.eye(loss.n_dof)[::3]:
        assert_allclose(precondition(H @ e), e, atol=1e-9)


@pytest.mark.parametrize("link", ["softmax", "sigmoid"])
def test_block_jacobi_has_the_same_bits_on_any_number_of_threads(link):
    # The blocks are built over rows and then over classes on the objective's
    # threads, in parts that depend on their number; each row and each block
    # is computed alone.  Reference: the blocks summed class by class in numpy
    # over all rows (at most 256 rows: every row is a heavy one).
    rng = np.random.default_rng(1)
    n, d, K = 200, 4, 7
    X = rng.normal(size=(n, d))
    y = rng.integers(0, K, n) if link == "softmax" else (rng.random((n, K)) < 0.3) * 1.0
    sw = rng.uniform(0.5, 2.0, n)
    v = rng.normal(size=(d + 1) * K)
    out = []
    for threads in (1, 2, 3):
        loss = LinearModelLoss(X, y, link=link, n_outputs=K, C=2.0, sample_weight=sw,
                               n_threads=threads)  # fmt: skip
        w, point = _point(loss)
        with loss:
            out.append(BlockJacobi(loss)(point)(v))
    assert_array_equal(out[0], out[1])
    assert_array_equal(out[0], out[2])
    if link == "softmax":
        Z = X @ w.reshape(d + 1, K)[:d] + w.reshape(d + 1, K)[d]
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        R = loss.effective_weight()[:, None] * P * (1 - P)
    else:
        R = np.asarray(point.hdiag2)
    X1 = np.hstack([X, np.ones((n, 1))])
    V = v.reshape(d + 1, K)
    for c in range(K):
        block = (X1.T * R[:, c]) @ X1 + np.diag(np.r_[np.full(d, loss.l2), 0.0])
        assert_allclose(block @ out[0].reshape(d + 1, K)[:, c], V[:, c], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("preconditioner", [BlockJacobi, KFAC])
def test_preconditioners_are_symmetric_positive_definite(preconditioner):
    X, y = make_classification(400, 6, n_informative=4, n_classes=5, random_state=0)
    loss = LinearModelLoss(X, y, link="softmax", n_outputs=5, C=1.0)
    _, point = _point(loss)
    M = preconditioner(loss)(point)
    Minv = np.column_stack([M(e) for e in np.eye(loss.n_dof)])
    assert_allclose(Minv, Minv.T, atol=1e-10 * np.abs(Minv).max())
    assert np.linalg.eigvalsh(0.5 * (Minv + Minv.T)).min() > 0


def test_many_classes_converge_to_tol():
    # 200 classes of 20 samples: newton-cg with the block preconditioner
    # reaches tol on the objective's own gradient, without a warning.
    X, y = make_classification(
        4000, 32, n_informative=28, n_classes=200, n_clusters_per_class=1, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = CrossEntropyClassifier(tol=1e-5).fit(X, y)
    loss = LinearModelLoss(X, y, link="softmax", n_outputs=200, C=1.0)
    _, g = loss.loss_gradient(loss.pack(clf.coef_, clf.intercept_))
    assert np.abs(g).max() <= 1e-5
    assert BlockJacobi.suits(loss)


def test_many_outputs_multiply_the_hessian_in_float32():
    # Dense float64 X with 200 classes or more: Hessian products in float32
    # (a copy of X), within float32's rounding of the exact ones; the gradient
    # stays float64 and X is left as it is.  Fewer classes: exact products.
    X, y = make_classification(
        2000, 40, n_informative=30, n_classes=200, n_clusters_per_class=1, random_state=0
    )
    X_before = X.copy()
    loss = LinearModelLoss(X, y, link="softmax", n_outputs=200, C=1.0)
    assert loss.hessp_eps == np.finfo(np.float32).eps
    few = LinearModelLoss(X, y % 20, link="softmax", n_outputs=20, C=1.0)
    assert few.hessp_eps == np.finfo(np.float64).eps
    rng = np.random.default_rng(0)
    w = 0.3 * rng.standard_normal(loss.n_dof)
    with loss:
        _, g, point = loss.loss_gradient(w, return_raw=True)
        assert g.dtype == np.float64
        for v in (rng.standard_normal(loss.n_dof), g):
            fast, exact = loss.hessp(point)(v), loss.hessp(point, exact=True)(v)
            assert not np.array_equal(fast, exact)
            assert np.linalg.norm(fast - exact) <= 1e-5 * np.linalg.norm(exact)
    assert_array_equal(X, X_before)
    assert loss.X.dtype == np.float64


@pytest.mark.parametrize("link, K", [("sigmoid", 1), ("softmax", 3), ("sigmoid", 2)])
def test_hessian_of_a_row_sample_is_the_sum_over_those_rows(link, K):
    # Reference: the Hessian built row by row with numpy from the model's
    # probabilities, over the sampled rows only; f and grad stay over all rows.
    rng = np.random.default_rng(0)
    n, d = 3000, 4
    X = rng.normal(size=(n, d))
    if link == "softmax":
        y = rng.integers(0, K, size=n)
    else:
        y = (rng.random((n, K)) < 0.4).astype(float)
    sw = rng.uniform(0.5, 2.0, size=n)
    loss = LinearModelLoss(X, y, link=link, n_outputs=K, sample_weight=sw, C=10.0)
    w = rng.normal(scale=0.3, size=loss.n_dof)
    rows = [slice(1, 1200, 7), slice(1200, 3000, 7)]
    f, g, H = loss.hessian(w, rows=rows)
    f_ref, g_ref = loss.loss_gradient(w)
    assert f == f_ref
    assert_allclose(g, g_ref, rtol=0, atol=0)
    W, b = loss.unpack(w)
    idx = np.concatenate([np.arange(n)[r] for r in rows])
    Xt = np.hstack([X[idx], np.ones((idx.size, 1))])
    Z = X[idx] @ W + b
    s = sw[idx] / sw.sum()  # a row of L labels sums L losses
    H_ref = np.zeros((loss.n_dof, loss.n_dof))
    pos = [np.arange(d + 1) * K + c for c in range(K)]
    if link == "softmax":
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        for c in range(K):
            for e in range(K):
                a = s * P[:, c] * ((c == e) - P[:, e])
                H_ref[np.ix_(pos[c], pos[e])] = (Xt * a[:, None]).T @ Xt
    else:
        P = 1 / (1 + np.exp(-Z))
        for c in range(K):
            a = s * P[:, c] * (1 - P[:, c])
            H_ref[np.ix_(pos[c], pos[c])] = (Xt * a[:, None]).T @ Xt
    assert_allclose(H, H_ref, rtol=1e-12, atol=1e-15)


def test_explicit_coordinate_descent_solves_its_lasso_model():
    # min_D g.D + 1/2 D.H.D + l1 |w + D| (the last coordinate unpenalised):
    # at the result the model's least-norm subgradient, computed here with
    # numpy, is below the sweep tolerance's order, and the L1 coordinates the
    # conditions put at zero are exactly zero.
    from skxent._cd import explicit_cd

    rng = np.random.default_rng(4)
    p = 12
    A = rng.normal(size=(p, 3 * p))
    H = A @ A.T / (3 * p) + 0.05 * np.eye(p)
    g, w = rng.normal(size=p), rng.normal(scale=0.1, size=p)
    l1 = 1.0
    D, HD = np.zeros(p), np.zeros(p)
    sweeps = explicit_cd(H, g, w, D, HD, p - 1, l1, 10_000, 1e-13)
    assert 1 < sweeps < 10_000
    assert_allclose(HD, H @ D, rtol=1e-12, atol=1e-14)
    x = w + D
    grad = g + H @ D
    pen = x[: p - 1]
    sub = np.where(
        pen != 0, grad[: p - 1] + l1 * np.sign(pen),
        np.sign(grad[: p - 1]) * np.maximum(np.abs(grad[: p - 1]) - l1, 0.0),
    )  # fmt: skip
    assert np.abs(sub).max() < 1e-10
    assert abs(grad[-1]) < 1e-10
    inside = np.abs(grad[: p - 1]) < l1 * (1 - 1e-6)
    assert inside.any()
    assert_array_equal(x[: p - 1][inside], 0.0)


def _heavy_rows_block(X1, r, B, ridge, most):
    """A block as BlockJacobi documents it, in numpy: the ``most`` largest
    curvatures (ties in row order) summed exactly, the rest of the weight
    times B, and the ridge plus 1e-12 of the mean diagonal."""
    top = np.argsort(-r, kind="stable")[:most]
    block = (X1[top].T * r[top]) @ X1[top] + max(r.sum() - r[top].sum(), 0.0) * B
    block[np.diag_indices_from(block)] += ridge + 1e-12 * np.trace(block) / len(ridge)
    return block


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_block_jacobi_factors_against_numpy(dtype):
    # Curvatures over many binades, with ties at the selection's threshold,
    # zeros of both signs and a class of equal values; the heavy rows found
    # by a histogram of exponents and a selection within one binade.
    from skxent._cd import block_jacobi_factors, block_jacobi_solve

    rng = np.random.default_rng(3)
    n, d, K, most = 700, 6, 6, 40
    X = rng.normal(size=(n, d)).astype(dtype)
    R = np.exp(rng.uniform(-60, 0, size=(K, n)))
    R[1] = np.round(rng.random(n) * 8) / 8  # ties at the threshold
    R[2, ::3] = 0.0
    R[2, 1::3] = -0.0
    R[3] = 0.25  # every value equal
    R[4, : n - 5] = 0.0  # fewer positive values than heavy rows
    X1 = np.hstack([X.astype(np.float64), np.ones((n, 1))])
    B = np.cov(X1[:, :d].T, bias=True)
    B = np.block([[B, np.zeros((d, 1))], [np.zeros((1, d)), np.ones((1, 1))]])
    ridge = np.r_[np.full(d, 1e-3), 0.0]
    factors = []
    for threads in (1, 2, 3):
        out = np.empty((K, d + 1, d + 1))
        block_jacobi_factors(X, R, B, ridge, most, True, out, threads)
        factors.append(out)
    assert_array_equal(factors[0], factors[1])
    assert_array_equal(factors[0], factors[2])
    for c in range(K):
        L = factors[0][c].T  # Fortran's lower triangle: row j of the array is column j
        assert_array_equal(np.triu(L, 1), 0.0)
        block = _heavy_rows_block(X1, R[c], B, ridge, most)
        assert_allclose(L @ L.T, block, rtol=1e-12, atol=1e-13 * np.abs(block).max())
    V = rng.normal(size=(d + 1, K))
    out = np.empty_like(V)
    block_jacobi_solve(factors[0], V, out, 2)
    for c in range(K):
        block = _heavy_rows_block(X1, R[c], B, ridge, most)
        assert_allclose(out[:, c], np.linalg.solve(block, V[:, c]), rtol=1e-9)


def test_block_jacobi_factor_of_a_block_that_is_not_positive_definite():
    # LAPACK's Cholesky fails (a negative B, no exact rows' weight): the
    # factor is the square root of the diagonal, 1 where that is not > 0.
    from skxent._cd import block_jacobi_factors

    n, d = 50, 3
    X = np.random.default_rng(0).normal(size=(n, d))
    R = np.full((1, n), 1e-3)
    B = -np.eye(d + 1)
    B[0, 0] = 4.0
    out = np.empty((1, d + 1, d + 1))
    block_jacobi_factors(X, R, B, np.zeros(d + 1), 10, True, out, 1)
    X1 = np.hstack([X, np.ones((n, 1))])
    diag = np.diag(_heavy_rows_block(X1, R[0], B, np.zeros(d + 1), 10))
    assert np.any(diag <= 0) and np.any(diag > 0)
    expected = np.where(diag > 0, np.sqrt(np.maximum(diag, 0)), 1.0)
    assert_allclose(out[0], np.diag(expected), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_block_jacobi_curvatures_against_scipy(dtype):
    # Its own exp, good to about 1e-8: s p (1 - p) against scipy's softmax,
    # in the class-major layout, with the same bits on any number of threads.
    from scipy.special import softmax
    from skxent._cd import block_jacobi_curvatures

    rng = np.random.default_rng(4)
    n, K = 301, 37
    raw = (rng.normal(scale=8, size=(n, K))).astype(dtype)
    raw[0] = -800.0 * np.arange(K)  # exponentials far below the smallest double
    s = rng.uniform(0.0, 2.0, n)
    P = softmax(raw.astype(np.float64), axis=1)
    expected = (s[:, None] * P * (1 - P)).T
    out = []
    for threads in (1, 2, 3):
        R = np.empty((K, n))
        block_jacobi_curvatures(raw, s, R, threads)
        out.append(R)
    assert_array_equal(out[0], out[1])
    assert_array_equal(out[0], out[2])
    normal = expected > 1e-290
    assert_allclose(out[0][normal], expected[normal], rtol=2e-8)
    assert np.all(np.abs(out[0][~normal]) <= 1e-290)


def test_block_jacobi_with_heavy_rows_against_numpy():
    # More rows than 4 (d + 1) and 256: each block sums its heaviest rows and
    # the rest of its weight times K-FAC's B (the rows' mean second moment).
    rng = np.random.default_rng(6)
    n, d, K = 3000, 5, 4
    X = rng.normal(size=(n, d))
    y = rng.integers(0, K, n)
    loss = LinearModelLoss(X, y, link="softmax", n_outputs=K, C=0.5,
                           sample_weight=rng.uniform(0.5, 2.0, n))  # fmt: skip
    w, point = _point(loss, seed=2)
    v = rng.normal(size=loss.n_dof)
    with loss:
        got = BlockJacobi(loss)(point)(v).reshape(d + 1, K)
    Z = X @ w.reshape(d + 1, K)[:d] + w.reshape(d + 1, K)[d]
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    R = loss.effective_weight()[:, None] * P * (1 - P)
    X1 = np.hstack([X, np.ones((n, 1))])
    s = loss.effective_weight()
    B = (X1.T * (s / s.sum())) @ X1
    ridge = np.r_[np.full(d, loss.l2), 0.0]
    V = v.reshape(d + 1, K)
    for c in range(K):
        block = _heavy_rows_block(X1, R[:, c], B, ridge, 256)
        assert_allclose(got[:, c], np.linalg.solve(block, V[:, c]), rtol=1e-6)


def test_newton_cg_stops_cg_at_a_fixed_residual_with_the_blocks(monkeypatch):
    # BlockJacobi.forcing: CG stops at a relative residual of 0.1 (or the
    # tolerance's floor), not at the rule's sqrt(||g|| / ||g0||), capped at 0.5.
    import skxent._solvers as solvers

    seen = []
    pcg = solvers._pcg

    def recording(hessp, g, precond, **kw):
        seen.append(kw["rtol"])
        return pcg(hessp, g, precond, **kw)

    monkeypatch.setattr(solvers, "_pcg", recording)
    monkeypatch.setattr(solvers, "BLOCK_JACOBI_MIN_OUTPUTS", 5)
    X, y = make_classification(600, 8, n_informative=6, n_classes=6, random_state=0)
    CrossEntropyClassifier(solver="newton-cg", tol=1e-6).fit(X, y)
    assert seen and seen[0] == BlockJacobi.forcing == 0.1
    assert all(0.1 <= r <= 0.5 for r in seen)
    seen.clear()
    monkeypatch.setattr(solvers, "BLOCK_JACOBI_MIN_OUTPUTS", 50)
    CrossEntropyClassifier(solver="newton-cg", tol=1e-6).fit(X, y)
    assert seen[0] == 0.5


def test_block_jacobi_factors_never_take_a_nan():
    # NaN curvatures (a diverged fit; either sign bit) are never among the
    # heavy rows, and no more than `most` rows are taken even when the NaNs
    # share the selection's binade (there a NaN made the selection overrun
    # its buffers).  With the heavy rows in a binade of their own the choice
    # is exact; the NaNs' weight is not added (the rest counts as 0).
    from skxent._cd import block_jacobi_factors

    rng = np.random.default_rng(8)
    n, d, most = 2000, 3, 32
    X = rng.normal(size=(n, d))
    X1 = np.hstack([X, np.ones((n, 1))])
    nan = np.array([np.nan, -np.nan])
    tiny = np.arange(n) * 5e-324  # subnormals: one binade with the NaNs
    tiny[::97] = nan[np.arange(len(tiny[::97])) % 2]
    heavy = tiny.copy()
    heavy[rng.choice(n, 50, replace=False)] = rng.uniform(0.5, 0.9, 50)
    heavy[np.isnan(tiny)] = nan[np.arange(np.isnan(tiny).sum()) % 2]
    R = np.vstack([tiny, heavy])
    B = np.eye(d + 1)
    out = np.empty((2, d + 1, d + 1))
    block_jacobi_factors(X, R, B, np.zeros(d + 1), most, True, out, 2)
    assert np.all(np.isfinite(out))
    r = np.where(np.isnan(heavy), -np.inf, heavy)
    top = np.argsort(-r, kind="stable")[:most]
    block = (X1[top].T * heavy[top]) @ X1[top]
    block[np.diag_indices_from(block)] += 1e-12 * np.trace(block) / (d + 1)
    L = out[1].T
    assert_allclose(L @ L.T, block, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", ["float32 X", "float32 products"])
def test_float32_hessian_products_of_tiny_vectors(kind):
    # Conjugate gradients' directions shrink near the optimum: a direction of
    # 1e-41 gives the same product as its unit-sized version times 1e-41
    # (float32's rounding), where float32 held it, and the row products, as
    # subnormals (below 1.2e-38) with few digits (and BLAS's speed).
    classes, n, d = (200, 2000, 30) if kind == "float32 products" else (5, 600, 12)
    X, y = make_classification(
        n, d, n_informative=d - 2, n_classes=classes, n_clusters_per_class=1, random_state=0
    )
    X = X.astype(np.float32) if kind == "float32 X" else X
    loss = LinearModelLoss(X, y, link="softmax", n_outputs=classes, C=1.0)
    assert loss.hessp_eps == np.finfo(np.float32).eps
    rng = np.random.default_rng(0)
    w = rng.standard_normal(loss.n_dof)
    v = rng.standard_normal(loss.n_dof)
    with loss:
        _, _, point = loss.loss_gradient(w, return_raw=True)
        hessp = loss.hessp(point)
        exact = loss.hessp(point, exact=True)(v)
        atol = 2e-6 * np.abs(exact).max()
        for tiny in (1.0, 1e-30, 1e-38, 1e-41):
            assert_allclose(hessp(tiny * v) / tiny, exact, rtol=2e-5, atol=atol)
