"""Sparse, high-dimensional fits: the objective's CSR products, the Hessian's
diagonal, float32 Hessian products, and newton-cg on text-like data.

References are independent of the code under test: scipy's sparse products,
numpy's dense arithmetic, the Hessian formed by :meth:`LinearModelLoss.hessian`
from its own formula, and scikit-learn's ``LogisticRegression`` at a tight
tolerance.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import sparse
from scipy.special import softmax
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from skxent import CrossEntropyClassifier
from skxent._linear_loss import LinearModelLoss
from skxent._solvers import DiagonalHessian, _preconditioner


def text_like(n, d, k, terms=20, seed=0):
    """CSR rows of ~``terms`` entries from a Zipfian vocabulary, L2-normalised;
    labels that depend on a few words each."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(terms, n).clip(2)
    rows = np.repeat(np.arange(n), counts)
    p = 1.0 / np.arange(1, d + 1)
    cols = rng.choice(d, size=rows.shape[0], p=p / p.sum())
    X = sparse.csr_matrix((rng.uniform(0.5, 1.5, rows.shape[0]), (rows, cols)), shape=(n, d))
    X.sum_duplicates()
    X = sparse.diags(1.0 / np.sqrt(X.multiply(X).sum(axis=1).A.ravel())) @ X
    scores = X @ rng.standard_normal((d, k)) * 3.0
    y = np.argmax(scores + rng.gumbel(size=(n, k)), axis=1)
    return X.tocsr(), y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index", [np.int32, np.int64])
@pytest.mark.parametrize("link", ["softmax", "sigmoid"])
def test_csr_objective_matches_dense(dtype, index, link):
    # 40 000 rows: the objective runs several row chunks.
    X, y = text_like(40_000, 3000, 4, terms=30)
    X = X.astype(dtype)
    X.indices, X.indptr = X.indices.astype(index), X.indptr.astype(index)
    K = 4 if link == "softmax" else 1
    t = y if link == "softmax" else (y > 1).astype(float)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    kw = dict(link=link, n_outputs=K, sample_weight=sw, C=2.0, drop_empty_columns=False)
    sp_loss = LinearModelLoss(X, t, **kw)
    de_loss = LinearModelLoss(X.toarray(), t, **kw)
    assert len(sp_loss._chunks) >= 3
    rng = np.random.default_rng(2)
    w = 0.3 * rng.standard_normal(sp_loss.n_dof)
    v = rng.standard_normal(sp_loss.n_dof)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    with sp_loss, de_loss:
        f1, g1, p1 = sp_loss.loss_gradient(w, return_raw=True)
        f2, g2, p2 = de_loss.loss_gradient(w, return_raw=True)
        np.testing.assert_allclose(f1, f2, rtol=rtol)
        np.testing.assert_allclose(g1, g2, rtol=rtol, atol=rtol * np.abs(g2).max())
        h1 = sp_loss.hessp(p1, exact=True)(v)
        h2 = de_loss.hessp(p2, exact=True)(v)
        np.testing.assert_allclose(h1, h2, rtol=rtol, atol=rtol * np.abs(h2).max())
        # scipy's product as the reference of X^T G
        G = rng.standard_normal((X.shape[0], K)).astype(dtype)
        np.testing.assert_allclose(
            sp_loss._sparse_XtG(sp_loss.X, G),
            (X.astype(np.float64).T @ G.astype(np.float64)),
            rtol=rtol,
            atol=rtol * 10,
        )


@pytest.mark.parametrize("link", ["softmax", "sigmoid"])
def test_hessian_diagonal_is_the_diagonal_of_the_hessian(link):
    X, y = text_like(300, 40, 3, terms=6)
    K = 3 if link == "softmax" else 1
    t = y if link == "softmax" else (y == 0).astype(float)
    sw = np.random.default_rng(0).uniform(0.2, 3.0, X.shape[0])
    cw = np.array([0.5, 2.0, 1.5]) if link == "softmax" else np.array([0.7, 1.8])
    loss = LinearModelLoss(
        X, t, link=link, n_outputs=K, sample_weight=sw, class_weight=cw, C=0.5,
        drop_empty_columns=False,
    )  # fmt: skip
    w = 0.5 * np.random.default_rng(1).standard_normal(loss.n_dof)
    with loss:
        _, _, point = loss.loss_gradient(w, return_raw=True)
        _, _, H = loss.hessian(w)
        np.testing.assert_allclose(loss.hessian_diagonal(point), np.diag(H), rtol=1e-12)


def test_large_float64_csr_products_run_in_float32():
    X, y = text_like(50_000, 2**14, 8, terms=40)
    loss = LinearModelLoss(X, y, link="softmax", n_outputs=8)
    assert X.nnz * 8 >= 10**7
    assert loss.hessp_eps == np.finfo(np.float32).eps
    small = LinearModelLoss(X[:1000], y[:1000], link="softmax", n_outputs=8)
    assert small.hessp_eps == np.finfo(np.float64).eps
    rng = np.random.default_rng(0)
    w = 0.3 * rng.standard_normal(loss.n_dof)
    with loss:
        _, g, point = loss.loss_gradient(w, return_raw=True)
        for v in (rng.standard_normal(loss.n_dof), g):
            fast, exact = loss.hessp(point)(v), loss.hessp(point, exact=True)(v)
            assert np.linalg.norm(fast - exact) <= 1e-6 * np.linalg.norm(exact)


def test_newton_cg_preconditions_wide_sparse_data_by_the_diagonal():
    X, y = text_like(500, 3000, 4)
    loss = LinearModelLoss(X, y, link="softmax", n_outputs=4)
    assert isinstance(_preconditioner(loss), DiagonalHessian)
    narrow = LinearModelLoss(X[:, :100], y, link="softmax", n_outputs=4)
    assert not isinstance(_preconditioner(narrow), DiagonalHessian)
    dense = LinearModelLoss(X.toarray(), y, link="softmax", n_outputs=4)
    assert not isinstance(_preconditioner(dense), DiagonalHessian)


@pytest.mark.parametrize("case", ["binary", "multiclass", "weighted"])
@pytest.mark.parametrize("fmt", ["csr", "dense"])
def test_wide_sparse_fit_agrees_with_logistic_regression(case, fmt):
    k = 2 if case == "binary" else 4
    X, y = text_like(600, 3000, k, seed=3)
    sw = None
    if case == "weighted":
        sw = np.random.default_rng(4).uniform(0.1, 3.0, X.shape[0])
    Xf = X if fmt == "csr" else X.toarray()
    ours = CrossEntropyClassifier(C=5.0, tol=1e-10, max_iter=500).fit(Xf, y, sample_weight=sw)
    ref = LogisticRegression(C=5.0, tol=1e-10, max_iter=10_000).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=2e-5)


def _mean_gradient(X, T, sw, cw, C, W, b):
    """The gradient of the mean-scaled objective from its formula, with numpy:
    soft targets T (smoothed already) and class weights cw."""
    Q = softmax(X @ W + b, axis=1)
    mass = T @ cw
    G = sw[:, None] * (mass[:, None] * Q - cw * T)
    N = float(sw @ mass)
    return (X.T @ G + W / C) / N, G.sum(axis=0) / N


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_wide_sparse_soft_targets_meet_the_optimality_conditions(dtype):
    X, y = text_like(800, 4000, 3, seed=5)
    X = X.astype(dtype)
    rng = np.random.default_rng(6)
    T = np.eye(3)[y] * 0.7 + rng.dirichlet(np.ones(3), X.shape[0]) * 0.3
    sw = rng.uniform(0.5, 2.0, X.shape[0])
    cw = {0: 1.0, 1: 2.0, 2: 0.5}
    eps = 0.1
    # float32 data cannot give a gradient much below 1e-7 relative.
    tol = 1e-9 if dtype == np.float64 else 1e-6
    clf = CrossEntropyClassifier(C=3.0, class_weight=cw, label_smoothing=eps, tol=tol)
    clf.fit(X, T, sample_weight=sw)
    assert clf.coef_.dtype == dtype
    gW, gb = _mean_gradient(
        X.astype(np.float64), (1 - eps) * T + eps / 3, sw, np.array([1.0, 2.0, 0.5]), 3.0,
        clf.coef_.T.astype(np.float64), clf.intercept_.astype(np.float64),
    )  # fmt: skip
    bound = 1e-9 if dtype == np.float64 else 1e-5
    assert np.abs(gW).max() <= bound and np.abs(gb).max() <= bound


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_text_like_fit_bits_do_not_depend_on_threads(dtype):
    # Several row chunks, the diagonal preconditioner and (float64) float32
    # Hessian products: every part of newton-cg's sparse path.
    X, y = text_like(50_000, 2**14, 8, terms=40, seed=7)
    X = X.astype(dtype)
    fits = []
    for threads in (1, 2):
        with threadpool_limits(threads):
            fits.append(CrossEntropyClassifier(C=10.0, tol=1e-6).fit(X, y))
    one, two = fits
    assert one.coef_.dtype == dtype
    assert np.array_equal(one.coef_, two.coef_)
    assert np.array_equal(one.intercept_, two.intercept_)
    assert np.array_equal(one.n_iter_, two.n_iter_)


def test_float32_products_follow_the_penalty_of_a_path(monkeypatch):
    # The float32 twin is made once; its Hessian products must use the
    # penalty set since (a path over C changes it between fits), compared
    # with the exact float64 products of a fresh objective at that C.
    import skxent._linear_loss as linear_loss

    monkeypatch.setattr(linear_loss, "_FLOAT32_PRODUCTS_WORK", 0)
    X, y = text_like(2000, 3000, 4)
    rng = np.random.default_rng(0)
    loss = LinearModelLoss(X, y, link="softmax", n_outputs=4, C=1e-4, drop_empty_columns=False)
    w, v = 0.3 * rng.standard_normal(loss.n_dof), rng.standard_normal(loss.n_dof)
    with loss:
        _, _, point = loss.loss_gradient(w, return_raw=True)
        loss.hessp(point)(v)  # the twin is made at C = 1e-4
        loss.set_penalty(1e4)
        _, _, point = loss.loss_gradient(w, return_raw=True)
        fast = loss.hessp(point)(v)
    fresh = LinearModelLoss(X, y, link="softmax", n_outputs=4, C=1e4, drop_empty_columns=False)
    with fresh:
        _, _, point = fresh.loss_gradient(w, return_raw=True)
        exact = fresh.hessp(point, exact=True)(v)
    assert np.linalg.norm(fast - exact) <= 1e-5 * np.linalg.norm(exact)


def test_centring_keeps_a_centred_warm_start_bit_for_bit():
    # A path's warm start is centred to rounding already: centring it again
    # would change its last bits, and the objective's last evaluation (at the
    # previous fit's end) would no longer serve.
    X, y = text_like(500, 3000, 4)
    loss = LinearModelLoss(X, y, link="softmax", n_outputs=4)
    w = np.random.default_rng(0).standard_normal(loss.n_dof)
    precondition = DiagonalHessian(loss)
    centred = precondition.centred(w)
    np.testing.assert_allclose(centred.reshape(-1, 4).sum(axis=1), 0, atol=1e-12)
    assert precondition.centred(centred) is centred


def _sparse_levels():
    """The instruction sets of the CSR products' vector kernels this CPU runs
    ("none": _sparse.pyx's own loops)."""
    from skxent import _sparse

    levels = []
    previous = _sparse.simd_select(None)
    try:
        for name in _sparse.SIMD_LEVELS:
            try:
                _sparse.simd_select(name)
            except ValueError:
                continue
            levels.append(name)
    finally:
        _sparse.simd_select(previous)
    return levels


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index", [np.int32, np.int64])
@pytest.mark.parametrize("K", [1, 3, 20, 70])
def test_csr_products_match_scipy_for_any_thread_count(dtype, index, K):
    # skxent's CSR kernels (one output has its own loop; 20 and 70 outputs
    # fill one and several blocks of vectors) against scipy's products in
    # float64; the same bits for one and two threads and on every
    # instruction set (the vector kernels round as the plain loops do).
    from skxent import _sparse

    X = text_like(3000, 500, 2, terms=15, seed=3)[0].astype(dtype)
    X.indices, X.indptr = X.indices.astype(index), X.indptr.astype(index)
    X.data[X.indptr[150] : X.indptr[151]] = -0.0  # signed zeros in the sums
    rng = np.random.default_rng(4)
    W = rng.normal(size=(500, K)).astype(dtype)
    b = rng.normal(size=K).astype(dtype)
    b[0], W[:, 0] = -0.0, np.abs(W[:, 0])  # row 150: -0.0 + (-0.0 w) + ... is -0.0
    G = rng.normal(size=(3000, K)).astype(dtype)
    X64 = X.astype(np.float64)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    XT = X.T.tocsr()
    XT.indices, XT.indptr = XT.indices.astype(index), XT.indptr.astype(index)
    levels = _sparse_levels()
    previous = _sparse.simd_select(None)
    try:
        for squared in (False, True):
            A = X64.multiply(X64) if squared else X64
            want = A.T @ G.astype(np.float64)
            got = []
            for level in levels:
                _sparse.simd_select(level)
                for threads in (1, 2):
                    out = np.empty((500, K))
                    _sparse.csr_times_dense_f64(
                        XT.data, XT.indices, XT.indptr, G, out, squared, threads
                    )
                    got.append(out)
            np.testing.assert_allclose(got[0], want, rtol=rtol, atol=rtol * np.abs(want).max())
            for other in got[1:]:
                assert_same_bits(got[0], other)
        want = X64[100:] @ W.astype(np.float64) + b
        got = []
        for level in levels:
            _sparse.simd_select(level)
            for threads in (1, 2):
                Z = np.empty((2900, K), dtype=dtype)
                _sparse.csr_times_dense(X.data, X.indices, X.indptr, 100, W, b, Z, threads)
                got.append(Z)
        np.testing.assert_allclose(got[0], want, rtol=rtol, atol=rtol * np.abs(want).max())
        for other in got[1:]:
            assert_same_bits(got[0], other)
    finally:
        _sparse.simd_select(previous)


def assert_same_bits(a, b):
    """Bitwise equality: -0.0 is not 0.0 here (it is for assert_array_equal)."""
    assert a.dtype == b.dtype and a.shape == b.shape
    view = np.uint64 if a.dtype == np.float64 else np.uint32
    assert_array_equal(a.view(view), b.view(view))


def test_csr_products_simd_select_rejects_unknown_sets():
    from skxent import _sparse

    with pytest.raises(ValueError, match="cannot run the sse9 kernels"):
        _sparse.simd_select("sse9")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_csr_transpose_matches_scipy_for_any_thread_count(dtype, index):
    # X^T as CSR (X as CSC) from skxent's parallel counting sort: scipy's
    # arrays exactly, empty rows and columns and a Zipfian column included.
    from skxent._linear_loss import _csr_transpose

    rng = np.random.default_rng(0)
    X = sparse.random(700, 300, density=0.05, format="csr", random_state=2, dtype=dtype)
    X = X.tolil()
    X[:, 7] = rng.uniform(size=(700, 1)).astype(dtype)  # a column in every row
    X[40:60, :] = 0  # empty rows
    X[:, 100:120] = 0  # empty columns
    X = X.tocsr()
    X.indices, X.indptr = X.indices.astype(index), X.indptr.astype(index)
    ref = X.tocsc()
    ref.sort_indices()
    for threads in (1, 2, 3, 8):
        data, indices, indptr = _csr_transpose(X, threads)
        assert data.dtype == dtype and indices.dtype == index
        assert_array_equal(indptr, ref.indptr)
        assert_array_equal(indices, ref.indices)
        assert_array_equal(data, ref.data)


@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_the_loss_keeps_the_transpose_of_the_used_columns_only(index):
    # A CSR X with more than half its columns empty: the loss fits the used
    # ones, and X^T (made with the column counts) is scipy's of X[:, used].
    X, y = text_like(2000, 3000, 3, terms=8)
    X = X.tolil()
    X[:, 5:2500] = 0
    X = X.tocsr()
    X.eliminate_zeros()
    X.indices, X.indptr = X.indices.astype(index), X.indptr.astype(index)
    used = np.flatnonzero(np.diff(X.tocsc().indptr))
    loss = LinearModelLoss(X, y, link="softmax", n_outputs=3, n_threads=2)
    assert_array_equal(loss.columns, used)
    ref = X[:, used].tocsc()
    ref.sort_indices()
    data, indices, indptr = loss._transposed()
    assert indptr.dtype == index
    assert_array_equal(indptr, ref.indptr)
    assert_array_equal(indices, ref.indices)
    assert_array_equal(data, ref.data)


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("link", ["softmax", "sigmoid"])
def test_loss_gradient_from_raw_scores_matches_a_pass_over_x(link, dense):
    # newton-cd's next point from the line search's raw scores: the same
    # objective, gradient and point state as a pass over X computes there
    # (the raw scores from scipy's product, independently of skxent's).
    X, y = text_like(30_000, 500, 3, terms=10, seed=3)
    K = 3 if link == "softmax" else 1
    t = y if link == "softmax" else (y == 0).astype(float)
    sw = np.random.default_rng(4).uniform(0.5, 2.0, X.shape[0])
    Xf = X.toarray() if dense else X
    loss = LinearModelLoss(
        Xf, t, link=link, n_outputs=K, sample_weight=sw, C=3.0, drop_empty_columns=False
    )
    assert len(loss._chunks) >= 2  # sums over chunks, in order
    w = 0.5 * np.random.default_rng(5).standard_normal(loss.n_dof)
    W, b = loss.unpack(w)
    raw = np.asarray(X @ W) + b
    with loss:
        f1, g1, p1 = loss.loss_gradient_from_raw(w, raw)
        f2, g2, p2 = loss.loss_gradient(w, return_raw=True)
    np.testing.assert_allclose(f1, f2, rtol=1e-13)
    np.testing.assert_allclose(g1, g2, rtol=1e-11, atol=1e-13 * np.abs(g2).max())
    np.testing.assert_allclose(p1.raw2, p2.raw2, rtol=1e-12, atol=1e-13)
    if link == "sigmoid":
        np.testing.assert_allclose(p1.hdiag2, p2.hdiag2, rtol=1e-11, atol=1e-15)
