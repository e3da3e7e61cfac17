"""Optimisation loops for :class:`skxent._linear_loss.LinearModelLoss`.

Every solver minimises the objective from the flat coefficient vector ``w0``
and returns one :class:`SolverResult`, so that the estimator has one code path
after any fit.  Solvers know nothing of the data: they only call the
objective's ``loss_gradient``, ``hessp``, ``hessian``, ``batch_loss_gradient``
and the row statistics the preconditioner needs.  They do not warn: a run that
stops before its convergence test holds says so in its result
(``converged=False`` and a ``message``), and the estimator warns, pointing at
the user's call.

``callback(w, f, grad)``, when given, is called after each iteration (epoch for
the stochastic solvers) with the new iterate; returning True stops the run.

Convergence test of the deterministic solvers (scikit-learn's for ``lbfgs`` and
``newton-cg``): ``max_j |grad_j| <= tol``, the gradient of the objective scaled
as in :mod:`skxent._linear_loss`.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize
from scipy.special import log_softmax

from ._linear_loss import _sym

__all__ = [
    "SOLVERS",
    "pick_solver",
    "run_deterministic",
    "SolverResult",
    "choose_solver",
    "kfac_preconditioner",
    "lbfgs",
    "newton_cd",
    "newton_cg",
    "newton_cholesky",
    "stochastic",
]

SOLVERS = ("lbfgs", "newton-cg", "newton-cholesky", "newton-cd", "sgd", "adam")
# The solvers that minimise a smooth objective only: no L1 penalty.
SMOOTH_SOLVERS = ("lbfgs", "newton-cg", "newton-cholesky")


@dataclass
class SolverResult:
    """What every solver returns.

    ``w`` the solution (flat, float64); ``n_iter`` iterations (epochs for the
    stochastic solvers); ``converged`` whether the stopping rule held (or the
    callback stopped the run); ``message`` why the run stopped when it did not
    converge; ``state`` what a stochastic solver carries to the next
    ``partial_fit`` call.
    """

    w: np.ndarray
    n_iter: int
    converged: bool = True
    message: str = ""
    state: object = None


def pick_solver(solver, loss):
    """The solver to run on ``loss``: ``"auto"`` resolved by :func:`choose_solver`;
    a solver that cannot take the L1 penalty refused, naming both parameters."""
    if solver == "auto":
        return choose_solver(loss.n_samples, loss.n_features, loss.n_outputs, loss.link, loss.l1)
    if loss.l1 > 0 and solver in SMOOTH_SOLVERS:
        raise ValueError(
            f"solver={solver!r} cannot fit the L1 part of the penalty "
            f"(l1_ratio={loss.l1_ratio!r}); use solver='newton-cd' (or 'auto'), "
            "'sgd' or 'adam', or l1_ratio=0"
        )
    return solver


def run_deterministic(solver, loss, w0, *, max_iter, tol, callback=None, min_iter=1):
    """Run one of the deterministic solvers by name; a :class:`SolverResult`.

    ``min_iter=0`` lets the Newton solvers return ``w0`` itself when it already
    meets ``tol`` (a warm start on a path over C, as scipy's L-BFGS-B does for
    ``LogisticRegressionCV``); a single fit takes at least one step.
    """
    if solver == "lbfgs":
        return lbfgs(loss, w0, max_iter=max_iter, tol=tol, callback=callback)
    run = {"newton-cg": newton_cg, "newton-cholesky": newton_cholesky, "newton-cd": newton_cd}
    return run[solver](loss, w0, max_iter=max_iter, tol=tol, callback=callback, min_iter=min_iter)


def choose_solver(n_samples, n_features, n_outputs, link, l1=0.0):
    """The solver of ``solver="auto"``.

    With an L1 penalty (``l1_ratio > 0``), ``"newton-cd"``: proximal Newton,
    the only deterministic solver here that handles it.

    Truncated Newton with conjugate gradients, preconditioned by a
    Kronecker-factored Hessian (``"newton-cg"``): one pass over X per gradient
    and per Hessian-vector product (on a row sample for large data), typically
    5 to 10 iterations with a few products each.  For tiny problems, Newton's
    method with the exact Hessian (``"newton-cholesky"``), which then costs
    next to nothing.  On small data both end with quadratic convergence, so
    the result is accurate far beyond ``tol`` (fits with repeated samples and
    with integer sample weights agree to rounding); on large data the
    subsampled Hessian makes the last steps fast-linear instead.

    Sparse, high-dimensional data (text) get newton-cg too: with the
    Hessian's diagonal as preconditioner (:class:`DiagonalHessian`) and, for
    large float64 CSR data, Hessian products in float32.  A stochastic
    variance-reduced solver (SAGA) was the alternative weighed: on the
    text-like benchmark problem (10**5 x 2**17, 20 classes) scikit-learn's
    saga needed 19 epochs to 2e-7 of the optimum at C = 1 and was still 8e-4
    away after 32 at C = 10, where newton-cg needs the equivalent of about
    30 and 50 passes over X.  An epoch touches two rows at random per stored
    entry of X (the coefficients' and the gradient table's), as a pass does
    (a row of W, a row of G), but on one thread, one sample after the other:
    it is not cheaper than a pass, so SAGA could at best tie at C = 1 and
    loses more as C grows.
    """
    if l1 > 0:
        return "newton-cd"
    d1 = n_features + 1
    n_blocks = n_outputs if link == "sigmoid" else n_outputs * (n_outputs + 1) // 2
    hess_flops = n_samples * d1 * d1 * n_blocks
    if n_outputs * d1 <= 100 and hess_flops <= 2e7:
        return "newton-cholesky"
    return "newton-cg"


# ---------------------------------------------------------------------------
# L-BFGS (scipy)
# ---------------------------------------------------------------------------


def lbfgs(loss, w0, *, max_iter=100, tol=1e-4, callback=None):
    """L-BFGS-B from scipy, with scikit-learn's ``LogisticRegression`` options."""
    last = {}

    def fun(w):
        f, g = loss.loss_gradient(w)
        last["g"] = g
        return f, g

    def cb(intermediate_result):
        if callback is not None and callback(
            intermediate_result.x, intermediate_result.fun, last.get("g")
        ):
            raise StopIteration

    if max_iter == 0:  # scipy would take one step all the same
        return SolverResult(np.array(w0, dtype=np.float64), 0)
    res = optimize.minimize(
        fun,
        w0,
        method="L-BFGS-B",
        jac=True,
        callback=cb,
        options={
            "maxiter": max_iter,
            "maxls": 50,
            "gtol": tol,
            "ftol": 64 * np.finfo(float).eps,
        },
    )
    n_iter = min(int(res.nit), max_iter)
    stopped = res.status == 99 or "callback" in str(res.message).lower()
    converged = res.status == 0 or stopped
    return SolverResult(res.x, n_iter, converged, "" if converged else str(res.message))


# ---------------------------------------------------------------------------
# Newton methods
# ---------------------------------------------------------------------------


def _line_search(loss, w, f, g, p, *, max_halvings=20, evaluate=None):
    """Backtracking (Armijo) along p from the unit step.

    ``evaluate(w)`` gives ``(f, g, state)`` at a trial point (default: the
    objective's ``loss_gradient`` with the point's raw scores as state).
    Returns ``(t, w, f, g, state, rounding)``; ``t = 0`` when no step helped.
    Near the optimum rounding can hide the decrease that the quadratic model
    predicts; a step that keeps f within a few ulps and reduces the gradient
    is then accepted (``rounding=True``), as scikit-learn's Newton solvers do.
    """
    slope = float(g @ p)
    if not slope < 0:  # not a descent direction (rounding): use the gradient
        p = -g
        slope = -float(g @ g)
    t = 1.0
    eps_f = getattr(loss, "f_rtol", 16 * np.finfo(float).eps) * max(1.0, abs(f))
    if evaluate is None:

        def evaluate(w):
            return loss.loss_gradient(w, return_raw=True)

    for _ in range(max_halvings):
        w_new = w + t * p
        f_new, g_new, raw = evaluate(w_new)
        if f_new <= f + 1e-4 * t * slope:
            return t, w_new, f_new, g_new, raw, f_new > f - eps_f
        if f_new <= f + eps_f and np.abs(g_new).max() < np.abs(g).max():
            return t, w_new, f_new, g_new, raw, True
        t *= 0.5
    return 0.0, w, f, g, None, True


def _pcg(hessp, g, precond, *, rtol, maxiter, patience=10, floor=0.0, n_threads=1):
    """Preconditioned conjugate gradients for H p = -g.

    Stops at ``||r|| <= rtol ||g||``, after ``maxiter`` products, or when it
    stagnates: the residual has not reached a new minimum for ``patience``
    products and the quadratic model ``q(p) = g.p + p.Hp / 2`` fell by less
    than 0.1% meanwhile.  With float32 data the products are only
    float32-accurate and CG then wanders instead of converging.  The model's
    fall is the test that tells wandering from slow progress: CG lowers q at
    every step (by ``a r.z / 2``), while the residual's norm need not fall,
    and with a diagonal preconditioner on text data it rose and fell by 2-4x
    from one step to the next for dozens of steps of real progress.
    Returns ``(p, n_products, stagnated)``, where ``stagnated`` means that it
    stopped so with a residual within ``floor`` (relative to ``||g||``, the
    precision of the products) of the target: the arithmetic, not a slow but
    honest convergence, held it back.

    The vector work runs in :mod:`skxent._cd` on ``n_threads`` (the same bits
    on any number): on text data the vectors have millions of entries, and
    one pass a step for ``p``, ``r`` and ``r.r``, one for a diagonal
    preconditioner's ``z`` and ``r.z`` (its ``inverse`` and ``runs``
    attributes, see :class:`DiagonalHessian`), replace a pass (and for
    numpy a temporary) per operation on one core.
    """
    from ._cd import cg_direction, cg_dot, cg_precondition, cg_step

    nt = n_threads
    g = np.ascontiguousarray(g, dtype=np.float64)
    p = np.zeros_like(g)
    r = -g
    inverse = getattr(precond, "inverse", None)

    def preconditioned(z):
        """``(z, r.z)`` at the current r (into z's buffer for the diagonal)."""
        if inverse is not None:
            return z, cg_precondition(r, inverse, precond.runs, z, nt)
        z = r if precond is None else np.ascontiguousarray(precond(r), dtype=np.float64)
        return z, cg_dot(r, z, nt)

    z, rz = preconditioned(np.empty_like(r))
    d = z.copy()
    target = rtol * float(np.linalg.norm(g))
    best = np.inf
    since_best = 0
    n_hessp = 0
    model = [0.0]  # q at p after each step
    for _ in range(maxiter):
        Hd = np.ascontiguousarray(hessp(d), dtype=np.float64)
        n_hessp += 1
        curv = cg_dot(d, Hd, nt)
        if not curv > 0:  # rounding; the objective is convex
            if n_hessp == 1:
                p = d
            return p, n_hessp, best <= floor * float(np.linalg.norm(g))
        a = rz / curv
        # Unscaled, unlike BLAS's dnrm2: r's entries would have to pass 1e154
        # (or all fall below 1e-154) for r.r to overflow (underflow).
        rnorm = math.sqrt(cg_step(a, d, Hd, p, r, nt))
        model.append(model[-1] - 0.5 * a * rz)
        if rnorm <= target:
            break
        if rnorm < best:
            best, since_best = rnorm, 0
        else:
            since_best += 1
            fall = model[-1 - patience] - model[-1] if len(model) > patience else np.inf
            if since_best >= patience and fall <= 1e-3 * abs(model[-1]):
                return p, n_hessp, best <= floor * float(np.linalg.norm(g))
        z, rz_new = preconditioned(z)
        cg_direction(rz_new / rz, z, d, nt)
        rz = rz_new
    return p, n_hessp, False


def _stalled_message(g, tol, dtype):
    text = (
        "the objective stopped decreasing at the precision of the arithmetic "
        f"(max|grad| = {np.abs(g).max():.3g} > tol = {tol:.3g})"
    )
    if dtype == np.float32:
        text += "; float32 data cannot give a gradient much below 1e-7 relative"
    return text


def _newton_step_ends(n_iter, t, w, f, g, tol, stalled, callback, dtype):
    """The result of a Newton iteration that took the step ``t``, if it ends the fit.

    Returns None to go on.  The fit ends, converged, when the callback asks or
    ``max|grad| <= tol``; not converged, when the line search found no
    decrease (t = 0) or the steps stalled at the precision of the arithmetic
    three times.
    """
    if (t > 0 and callback is not None and callback(w, f, g)) or np.abs(g).max() <= tol:
        return SolverResult(w, n_iter)
    if t == 0.0 or stalled >= 3:
        return SolverResult(w, n_iter, False, _stalled_message(g, tol, dtype))
    return None


def _forcing(gnorm, g0norm, tol, eps, fixed=None):
    """The relative residual at which CG stops, for a gradient of norm ``gnorm``.

    Eisenstat & Walker's ``min(0.5, sqrt(||g||))``, made scale-free as
    ``sqrt(||g|| / ||g_0||)`` (Nocedal & Wright, "Numerical Optimization",
    eq. 7.3 and Theorem 7.2: superlinear all the same): the objective is a
    mean, so that ``||g||`` is small from the start and the unscaled rule
    asked far-off iterations for a 3% residual.  Counted on the text-like
    benchmark problem (10**5 x 2**17, 20 classes), this takes the Hessian
    products to 1e-7 of the optimum from 39 to 27 at C = 1 and from 65 to 47
    at C = 10, and the dense multiclass problem from 18 to 12.  CG need not
    go further than a residual of ``tol / 4`` either: the residual is the
    quadratic model's gradient after the step, and ``max|g| <= ||g||`` ends
    the fit.  Hessian-vector products carry the rounding of X's dtype: CG
    cannot reduce the residual below a few ulps of it.

    With ``fixed``, that residual instead of the rule: for a preconditioner
    whose every rebuild costs a few products (:attr:`BlockJacobi.forcing`).
    """
    if fixed is not None:
        forcing = fixed
    else:
        forcing = min(0.5, math.sqrt(gnorm / g0norm)) if g0norm > 0 else 0.5
    if gnorm > 0:
        forcing = max(forcing, min(0.5, 0.25 * tol / gnorm))
    return max(forcing, 100 * eps)


def newton_cg(loss, w0, *, max_iter=100, tol=1e-4, callback=None, precondition=True, min_iter=1):
    """Truncated Newton: preconditioned CG on H p = -g, then a line search.

    CG stops at a relative residual ``min(0.5, sqrt(||g|| / ||g_0||))``
    (:func:`_forcing`: Eisenstat & Walker's forcing term, scale-free), which
    makes the outer iterations superlinear; at 0.1 with the block
    preconditioner, whose rebuilds cost a few products
    (:attr:`BlockJacobi.forcing`).  The preconditioner is a
    Kronecker-factored Hessian (:class:`KFAC`), with many outputs the
    Hessian's diagonal blocks (:class:`BlockJacobi`), and for sparse X with
    many features the Hessian's diagonal (:class:`DiagonalHessian`): see
    :func:`_preconditioner`.
    """
    w = np.array(w0, dtype=np.float64)
    kfac = _preconditioner(loss) if precondition else None
    if isinstance(kfac, DiagonalHessian):
        w = kfac.centred(w)
    f, g, raw = loss.loss_gradient(w, return_raw=True)
    stalled = 0
    g0norm = float(np.linalg.norm(g))
    for n_iter in range(1, max_iter + 1):
        if np.abs(g).max() <= tol and n_iter > min_iter:
            return SolverResult(w, n_iter - 1)
        gnorm = float(np.linalg.norm(g))
        hessp = loss.hessp(raw)
        precond = kfac(raw) if kfac is not None else None
        rtol = _forcing(
            gnorm, g0norm, tol, getattr(loss, "hessp_eps", loss.eps), getattr(kfac, "forcing", None)
        )
        p, _, stagnated = _pcg(
            hessp, _off_null_space(loss, g), precond, rtol=rtol,
            maxiter=max(10, min(200, g.size)), floor=1e4 * getattr(loss, "hessp_eps", loss.eps),
            n_threads=getattr(loss, "n_threads", 1),
        )  # fmt: skip
        t, w, f, g, raw, rounding = _line_search(loss, w, f, g, _off_null_space(loss, p))
        stalled += bool(rounding) + bool(stagnated)
        end = _newton_step_ends(n_iter, t, w, f, g, tol, stalled, callback, loss.dtype)
        if end is not None:
            return end
    return SolverResult(w, max_iter, False, f"max_iter={max_iter} reached")


def _off_null_space(loss, v):
    """``v`` without its component along softmax's null directions.

    Adding one number to every class's intercept (and, without a penalty, to
    every class's coefficient of a feature) changes no probability: the
    Hessian is singular there and the exact gradient has no component there.
    In float32 the computed gradient has one at the level of the rounding,
    which a preconditioner can amplify into steps of 1e6 along that line,
    where float32 scores lose their digits (seen with newton-cg at tol=1e-8).
    """
    if loss.link != "softmax":
        return v
    v = np.array(v, dtype=np.float64)
    W, b = loss.unpack(v)
    if b is not None:
        b -= b.mean()
    if not loss.l2:
        W -= W.mean(axis=1, keepdims=True)
    return v


def _centre_intercepts(loss, w):
    """Shift softmax intercepts to mean 0 (an equivalent model), in place."""
    if loss.link == "softmax" and loss.fit_intercept:
        _, b = loss.unpack(w)
        b -= b.mean()
    return w


def _solve_newton(H, g, null_block):
    """Solve H p = -g for the Newton step; H may be singular.

    ``null_block`` (K for softmax, else 0): the softmax Hessian is singular
    along "add the same number to every class" for each feature; gradients
    have no component there, so adding a positive multiple of that projector
    to H changes nothing but makes it positive definite.
    """
    if null_block:
        K = null_block
        rho = max(float(np.max(np.abs(np.diag(H)))), 1e-12)
        blk = np.full((K, K), rho / K)
        for start in range(0, H.shape[0], K):
            H[start : start + K, start : start + K] += blk
    try:
        c, low = linalg.cho_factor(H, check_finite=False)
        p = -linalg.cho_solve((c, low), g, check_finite=False)
        if np.all(np.isfinite(p)):
            return p
    except linalg.LinAlgError:
        pass
    # Singular (e.g. C=inf with collinear features): least squares.
    evals, evecs = linalg.eigh(H, check_finite=False)
    keep = evals > evals.max() * 1e-12
    return -(evecs[:, keep] @ ((evecs[:, keep].T @ g) / evals[keep]))


def newton_cholesky(loss, w0, *, max_iter=100, tol=1e-4, callback=None, min_iter=1):
    """Newton's method with the exact Hessian and a line search.

    Gradient and Hessian come from one pass over X.  Stops when
    ``max|grad| <= tol``; the quadratic convergence of the last steps
    usually leaves the gradient far below tol.
    """
    w = np.array(w0, dtype=np.float64)
    null_block = loss.n_outputs if loss.link == "softmax" else 0
    stalled = 0
    f, g, H = loss.hessian(w)
    for n_iter in range(1, max_iter + 1):
        if np.abs(g).max() <= tol and n_iter > min_iter:
            return SolverResult(w, n_iter - 1)
        p = _solve_newton(H, g, null_block)
        # Trial points get the Hessian too: an accepted step (the usual case)
        # then needs no second pass over the data for the next iteration.
        t, w, f, g, H_new, rounding = _line_search(loss, w, f, g, p, evaluate=loss.hessian)
        H = H_new if H_new is not None else H
        stalled += bool(rounding)
        end = _newton_step_ends(n_iter, t, w, f, g, tol, stalled, callback, loss.dtype)
        if end is not None:
            return end
    return SolverResult(w, max_iter, False, f"max_iter={max_iter} reached")


# ---------------------------------------------------------------------------
# Proximal Newton with coordinate descent: the L1 penalty (newton-cd)
# ---------------------------------------------------------------------------


def min_norm_subgradient(loss, w, g):
    """The optimality measure of ``loss(w) + l1 ||W||_1`` at ``w``, given the
    smooth gradient ``g``: the subgradient of least norm, in ``w``'s layout.

    Where ``W_jc != 0`` it is ``g_jc + l1 sign(W_jc)``; where ``W_jc = 0``,
    ``g_jc`` moved towards 0 by up to ``l1`` (0 when ``|g_jc| <= l1``); the
    intercepts' is their gradient.  Its largest entry is 0 exactly at the
    optimum; for ``l1 = 0`` it is the gradient.
    """
    l1 = loss.l1
    if not l1:
        return g
    W, _ = loss.unpack(w)
    G, _ = loss.unpack(g)
    out = g.copy()
    S, _ = loss.unpack(out)
    # At zero: G moved towards 0 by up to l1, G - clip(G, -l1, l1); then the
    # non-zeros (few, on sparse solutions) by index.
    S -= np.clip(G, -l1, l1)
    nz = np.nonzero(W)
    S[nz] = G[nz] + l1 * np.sign(W[nz])
    return out


def _kept_columns(loss):
    """A CSR X's columns as the objective keeps them for its ``X^T G`` products
    (X^T as CSR is X as CSC, with sorted indices), or None: one conversion per
    fit serves the products, the coordinate descent and the curvatures."""
    if getattr(loss, "_csr", None) is None or not hasattr(loss, "_transposed"):
        return None
    return loss._transposed()


def _columns(X, csc_arrays=None, n_threads=1):
    """X as newton-cd's kernel reads it: Fortran-ordered dense, or CSC (its
    indices and pointers of one dtype, int32 or int64, as scipy has them).

    Returns ``(dense, data, indices, indptr)``, the unused ones empty.  One copy
    per fit at most (none for a Fortran-ordered array or a CSC matrix);
    ``csc_arrays`` (data, indices, indptr with sorted indices) are X's CSC
    form already made.  A C-ordered X is copied on ``n_threads`` threads.
    """
    from scipy import sparse

    from ._cd import fortran_copy

    if sparse.issparse(X):
        if csc_arrays is None:
            csc = X.tocsc()
            csc.sort_indices()
            csc_arrays = (csc.data, csc.indices, csc.indptr)
        data, indices, indptr = csc_arrays
        empty = np.empty((0, 0), dtype=data.dtype, order="F")
        index = np.int32 if indices.dtype == indptr.dtype == np.int32 else np.int64
        return (
            empty,
            np.ascontiguousarray(data),
            np.ascontiguousarray(indices, dtype=index),
            np.ascontiguousarray(indptr, dtype=index),
        )
    X = np.asarray(X)
    if X.flags.f_contiguous or not X.flags.c_contiguous or X.dtype not in (np.float32, np.float64):
        dense = np.asfortranarray(X)
    else:
        dense = np.empty(X.shape, dtype=X.dtype, order="F")
        fortran_copy(X, dense, n_threads)
    none = np.empty(0, dtype=np.intp)
    return dense, np.empty(0, dtype=dense.dtype), none, np.zeros(1, dtype=np.intp)


def _curvature(loss, point):
    """The kernel's Q, R (and P for softmax) at a point, each (K, n) float64."""
    if loss.link == "softmax":
        from ._cd import softmax_curvatures

        K, n = loss.n_outputs, loss.n_samples
        P, Q, R = np.empty((K, n)), np.empty((K, n)), np.empty((K, n))
        softmax_curvatures(
            np.ascontiguousarray(point.raw2), np.ascontiguousarray(loss.effective_weight()),
            P, Q, R, loss.n_threads,
        )  # fmt: skip
        return Q, R, P
    H = np.ascontiguousarray(np.asarray(point.hdiag2, dtype=np.float64).T)
    return H, H, np.empty((0, H.shape[1]))


# The most one coordinate update of newton-cd moves any row's raw score.
STEP_CAP = 10.0


def _step_caps(dense, data, indptr, d):
    """Each coordinate's largest move in one update of newton-cd's coordinate
    descent: :data:`STEP_CAP` over its column's largest ``|x_ij|``.

    A feature whose rows the model already fits to saturation (a rare word
    of a text, its rows' probabilities at 0 or 1) has nearly no curvature
    there, and its Newton step, the gradient over that curvature, runs off
    to 1e14 where the quadratic model means nothing; the line search then
    halves the whole step 30 times.  On the text-like benchmark problem
    (20 classes, ``l1_ratio=1, C=10``) such steps stalled or crawled (22
    iterations, steps of 1e-4); a change of the raw scores of 10 (odds
    e^10) is already far outside where the model holds.  Near the optimum
    steps are small and the cap is never reached.
    """
    from ._cd import column_abs_max

    if dense.size:
        big = np.maximum(dense.max(axis=0), -dense.min(axis=0)).astype(np.float64)
    else:
        big = np.empty(d)
        column_abs_max(data, indptr, big)
    caps = np.full(d, np.inf)
    np.divide(STEP_CAP, big, out=caps, where=big > 0)
    return caps


class _Model:
    """The quadratic model of a newton-cd step, to compare candidate steps.

    ``value(D, Db, U, m)`` is ``<G, D> + <gb, Db> + 1/2 <D, H D> + l2/2 ||D||^2
    + l1 ||W0 + D||_1`` with ``<D, H D>`` from the change of the raw scores U:
    ``sum_ci Q_ci U_ci^2 - sum_i s_i m_i^2`` for softmax (``m_i = p_i . U_i``),
    ``sum_ci h_ci U_ci^2`` for sigmoids.  D is 0 off the working set
    (``coords``, flat indices into the (K, d) arrays), and so is W0 where the
    L1 term is concerned: the sums over coefficients run over it only (on
    text, a few thousand coordinates of millions).
    """

    def __init__(self, loss, Q, P, Gt, gb, Wt, l1, l2, coords, caps=None):
        self.Q, self.gb, self.l1, self.l2, self.coords = Q, gb, l1, l2, coords
        self.Gv, self.Wv = Gt.ravel()[coords], Wt.ravel()[coords]
        # Each coordinate's largest move in one update (_step_caps): the
        # sweeps keep to it, and so do the steps between them.
        d = Wt.shape[1]
        self.caps = np.full(coords.size, np.inf) if caps is None else caps[coords % d]
        # The rows' weights for softmax's m term (empty for sigmoids), as the kernels take them.
        self.s = np.ascontiguousarray(loss.effective_weight() if P.shape[0] else [], np.float64)
        self.n_threads = loss.n_threads

    def value(self, D, Db, U, m):
        return self.value_at(D.ravel()[self.coords], Db, U, m)

    def value_at(self, Dv, Db, U, m):
        """:meth:`value` with D given by its working set's entries."""
        from ._cd import model_quadratic

        quad = model_quadratic(self.Q, U, m, self.s, self.n_threads)
        v = float(self.Gv @ Dv) + 0.5 * quad + 0.5 * self.l2 * float(Dv @ Dv)
        if self.gb is not None:
            v += float(self.gb @ Db)
        return v + self.l1 * float(np.abs(self.Wv + Dv).sum())


def _sweep(kernel, data_args, point_args, penalty_args, state, n_sweeps, tol):
    """One call of the coordinate-descent kernel on ``state = (D, Db, U, m)``."""
    D, Db, U, m = state
    return kernel(*data_args, U, m, *point_args, D, Db, *penalty_args, n_sweeps, tol)


def _kinked_minimum(kinks, weights, h, g, l1):
    """Column by column, the t minimising

        h t^2 / 2 + g t + l1 sum_k w_k |t - kink_k|

    (convex piecewise quadratic, ``h >= 0``): at the first kink whose slope on
    the right is >= 0 if the slope on its left is <= 0, else where the line
    ``h t + c`` of the piece before it crosses 0.  ``kinks`` (k, J) sorted
    along axis 0 with their ``weights`` (k, J) (> 0); ``h`` and ``g`` (J,).
    Where h = 0 and no kink turns the slope, the kink nearest (not unbounded:
    the caller's problems have a minimum)."""
    k, J = kinks.shape
    below = np.cumsum(weights, axis=0)  # weight of kinks <= kink i
    total = below[-1]
    right = h * kinks + g + l1 * (2.0 * below - total)
    rises = right >= 0.0
    first = np.where(rises.any(axis=0), rises.argmax(axis=0), k)
    at = np.minimum(first, k - 1)
    cols = np.arange(J)
    kink = kinks[at, cols]
    before = np.where(first > 0, below[np.maximum(first - 1, 0), cols], 0.0)
    before = np.where(first < k, before, total)
    c = g + l1 * (2.0 * before - total)
    on_kink = (first < k) & (h * kink + c <= 0.0)
    safe = np.where(h > 0.0, h, 1.0)
    return np.where(on_kink | (h <= 0.0), kink, -c / safe)


class _ClassShift:
    """The exact minimum of a softmax model along its flat directions.

    Adding one number t to every class's coefficient of feature j moves every
    row's scores by ``x_ij t`` in all classes: the softmax, and so the loss, its
    gradient and Hessian, do not change (the model's data term has zero slope
    and curvature that way).  Only the penalty sees it:

        phi(t) = l2 K t^2 / 2 + b t + l1 sum_c |v_c + t|,

    ``b = sum_c (G_cj + l2 D_cj)``, ``v_c = W0_cj + D_cj``: a convex piecewise
    quadratic, minimised exactly (:func:`_kinked_minimum`).  Coordinate
    descent moves one class at a time and crawls along such a direction when
    l2 is small (a lasso: l2 = 0, only the L1 term decides): on
    ``make_classification(2e4, 100, n_informative=50, n_classes=10)`` with
    ``l1_ratio=1, C=0.01``, taking this step after each sweep cut the sweeps of
    a fit from 134 to 52.

    Only features whose K coordinates are all in the working set move (the
    others' zeros are pinned for this model).  The raw scores' change ``U`` is
    left as it is: ``U - m`` and the model's quadratic term do not change, nor
    does the loss at ``raw0 + t U`` in the line search.
    """

    def __init__(self, Wt, Gt, active, l1, l2):
        self.features = np.flatnonzero(active.all(axis=0))
        self.W0 = Wt[:, self.features]
        self.G = Gt[:, self.features]
        self.l1, self.l2 = l1, l2

    def __call__(self, state):
        D = state[0]
        if not self.features.size:
            return
        K, J = self.W0.shape
        Dj = D[:, self.features]
        b = (self.G + self.l2 * Dj).sum(axis=0)
        kinks = np.sort(-(self.W0 + Dj), axis=0)
        h = np.full(J, self.l2 * K)
        D[:, self.features] = Dj + _kinked_minimum(kinks, np.ones_like(kinks), h, b, self.l1)


class _SweepExtrapolation:
    """The exact minimum of the newton-cd model along the last sweep's change.

    A sweep moves one coordinate at a time; along a valley of the model (the
    scores of all classes shifted by one function, which the softmax does not
    see, or collinear columns) successive sweeps move the same way and shrink
    by a constant factor (0.98 a sweep on ``make_classification(2e4, 100,
    n_informative=50, n_classes=10)`` at ``l1_ratio=0.5``, whose redundant
    columns are sums of others).  After each sweep the model is minimised
    exactly along the change ``Delta`` since the point the sweep started from
    (an Anderson jump in between included),

        h t^2/2 + g t + l1 sum_j |W0_j + D_j + t Delta_j|,

    with ``g`` and ``h`` the slope and curvature of its smooth part, from the
    scores' change (``h = sum Q dU^2 - sum s dm^2 + l2 |dD|^2`` for softmax,
    no ``dm`` term for sigmoids): no pass over X.  :func:`_kinked_minimum`
    finds t, ``U`` and ``m`` follow the step, so the model stays exact.  That
    fit took 117 sweeps instead of 187.
    """

    def __init__(self, model, Q, l1, l2):
        # Coordinates outside the working set never move: only these are kept.
        self.model, self.Q, self.l1, self.l2 = model, Q, l1, l2
        self.coords = model.coords
        self.W0, self.G = model.Wv, model.Gv
        self.last = None  # the state the last sweep started from

    def __call__(self, state):
        from ._cd import extrapolate, extrapolation_terms

        D, Db, U, m = state
        Dw = D.ravel()[self.coords]
        if self.last is None:
            self.last = [Dw, Db.copy(), U.copy(), m.copy()]
            return
        D0, Db0, U0, m0 = self.last
        dD, dDb = Dw - D0, Db - Db0
        self.last[:2] = Dw, Db.copy()
        g, h = extrapolation_terms(self.Q, U, U0, m, m0, self.model.s, self.model.n_threads)
        h += self.l2 * float(dD @ dD)
        g += float((self.G + self.l2 * Dw) @ dD)
        if self.model.gb is not None:
            g += float(self.model.gb @ dDb)
        moved = np.flatnonzero(dD)
        t = 0.0
        if h > 0.0 and moved.size:
            step = dD[moved]
            kinks = -(self.W0[moved] + Dw[moved]) / step
            order = np.argsort(kinks)
            t = _kinked_minimum(
                kinks[order, None], np.abs(step)[order, None], np.array([h]), np.array([g]),
                self.l1,
            )[0]  # fmt: skip
            # No further than the sweeps could go: along a saturated
            # coordinate's capped moves the model is flat, and its minimum
            # would be the uncapped Newton step again.
            limit = float(np.min(self.model.caps[moved] / np.abs(step)))
            t = min(max(t, -limit), limit)
        # With t = 0, U0 and m0 take a copy of U and m (left as they are).
        extrapolate(U, U0, m, m0, float(t), self.model.n_threads)
        if not t:
            return
        Dw += t * dD
        D.ravel()[self.coords] = Dw
        Db += t * dDb
        self.last[:2] = Dw.copy(), Db.copy()


def _anderson_cd(sweep, state, model, max_sweeps, tol, depth=5, after_sweep=()):
    """Coordinate descent sweeps with Anderson acceleration of their iterates.

    Every ``depth + 1`` sweeps, the combination of the last iterates whose
    residuals (the changes between consecutive sweeps) cancel best is tried
    and kept if it lowers the model (Bertrand & Massias 2021, "Anderson
    acceleration of coordinate descent"; skglm does the same).  The change of
    the raw scores is linear in the step, so the combination's is the same
    combination of the stored ones: no pass over X.  The steps
    ``after_sweep`` (callables on ``state``: :class:`_ClassShift`,
    :class:`_SweepExtrapolation`) follow every sweep but the last.  The run ends on a
    plain sweep, so that its zeros are exact.
    """
    from ._cd import combine_iterates, store_iterate

    D, Db, U, m = state
    K, nt = U.shape[0], model.n_threads
    # The iterates' (D, Db) as vectors over the working set, and their U and
    # m stacked, (K + 1, n), in buffers made once (not depth + 1 fresh
    # arrays of U's size a round), and the trial's.
    Xh = np.empty((depth + 1, model.coords.size + Db.size))
    Uh = np.empty((depth + 1, K + 1, m.shape[0]))
    trial_Um = np.empty((K + 1, m.shape[0]))
    kept = 0
    done = 0
    while done < max_sweeps:
        _, biggest = sweep(state, 1, tol)
        done += 1
        if biggest <= tol:
            return done
        if done == max_sweeps:
            break  # the run ends on a plain sweep: its zeros are exact
        for step in after_sweep:
            step(state)
        Xh[kept, : model.coords.size] = D.ravel()[model.coords]
        Xh[kept, model.coords.size :] = Db
        store_iterate(U, m, Uh[kept], nt)
        kept += 1
        if kept < depth + 1:
            continue
        kept = 0
        r = np.diff(Xh, axis=0)
        gram = r @ r.T
        gram += 1e-12 * max(np.trace(gram), 1e-300) * np.eye(depth)
        try:
            z = np.linalg.solve(gram, np.ones(depth))
        except np.linalg.LinAlgError:
            continue
        c = z / z.sum()
        trial = c @ Xh[1:]
        trial_Dv, trial_Db = trial[: model.coords.size], trial[model.coords.size :]
        latest_Dv, latest_Db = Xh[depth, : model.coords.size], Xh[depth, model.coords.size :]
        if not np.all(np.abs(trial_Dv - latest_Dv) <= model.caps):
            continue
        combine_iterates(c, Uh[1:], trial_Um, nt)
        latest = Uh[depth]
        if model.value_at(trial_Dv, trial_Db, trial_Um[:K], trial_Um[K]) < model.value_at(
            latest_Dv, latest_Db, latest[:K], latest[K]
        ):
            D.ravel()[model.coords] = trial_Dv
            Db[...] = trial_Db
            U[...] = trial_Um[:K]
            m[...] = trial_Um[K]
    return done


# The smallest working set that newton-cd restricts its step to (_working_set).
_WORKING_SET_MIN = 1000


def _working_set(Wt, Gt, l1):
    """The coordinates a newton-cd step may move: the non-zero ones and those
    that violate their optimality condition at zero (``|G| > l1``); but when
    the violators are many more than the non-zeros, only the worst of them,
    up to ``max(2 * non-zeros, _WORKING_SET_MIN)`` in all (the working sets of
    celer and skglm, Massias et al. 2018, 2022).

    From W = 0 on a text-like problem (1e5 x 2^17, tf-idf) nearly every
    feature violates (106 000 of them) where the solution has 212 non-zeros:
    the sweeps over all of them cost 20 ms each where the final ones take 3 ms.
    The outer iterations stop on the whole least-norm subgradient, and each
    takes in the worst violators: the fit ends at the same optimum.
    """
    nonzero = Wt != 0
    active = nonzero | (np.abs(Gt) > l1)
    size = max(2 * int(np.count_nonzero(nonzero)), _WORKING_SET_MIN)
    if np.count_nonzero(active) <= size:
        return active
    score = np.where(nonzero, np.inf, np.abs(Gt) - l1).ravel()
    keep = np.argpartition(score, score.size - size)[score.size - size :]
    ws = np.zeros(Wt.shape, dtype=bool)
    ws.ravel()[keep] = True
    return ws & active


# newton-cd's inner tolerance, times the violation.  Measured in one process,
# runs interleaved (Intel Xeon, 2 threads): on make_classification(2e4, 100, 10
# classes) 0.03 took the L1 fit from 0.29 s to 0.23 s (4 Newton steps to 3) and
# the elastic net from 0.57 s to 0.52 s; on the 20-class text-like problem
# (1e5 x 2^17 tf-idf) it took 6.6 s where 0.1 took 5.2 s (fewer steps, but a
# sparse sweep costs a good part of a pass).
INNER_FACTOR_DENSE = 0.03
INNER_FACTOR_SPARSE = 0.1


def newton_cd(
    loss, w0, *, max_iter=100, tol=1e-4, callback=None, max_sweeps=50, inner_factor=None,
    min_iter=1,
):  # fmt: skip
    r"""Proximal Newton for ``loss(w) + l1 ||W||_1``: coordinate descent inside.

    Each iteration builds the quadratic model of the smooth part (the exact
    Hessian, never formed) and minimises it plus the L1 penalty by coordinate
    descent (the Cython kernel :func:`skxent._cd.newton_cd_sweeps`), over the
    working set of coordinates that are non-zero or violate their optimality
    condition at zero (only the worst violators when they are many more:
    :func:`_working_set`): coordinates stuck at 0 cost nothing.  A backtracking
    line search on the whole objective follows (Lee, Sun & Saunders 2014,
    "Proximal Newton-type methods for minimizing composite functions"; glmnet's
    and glum's inner solver is the same coordinate descent).  Trial points
    need no pass over X: the step's change of the raw scores comes out of the
    coordinate descent.

    Stops when the largest entry of the minimal-norm subgradient
    (:func:`min_norm_subgradient`) is at most ``tol``: the optimality
    conditions, on the scale of the gradient tolerance of the smooth solvers.
    The callback receives that subgradient as its gradient.

    The coordinate descent stops when its largest change is below
    ``inner_factor`` times the current violation (and never asks for less
    than a tenth of ``tol``): by default
    :data:`INNER_FACTOR_DENSE` on dense X, where a sweep is cheap next to
    the rest of an iteration, and :data:`INNER_FACTOR_SPARSE` on sparse X.

    Few coefficients and many dense rows (:func:`explicit_suits`) go to
    :func:`newton_cd_explicit` instead, with its own sweep limit and inner
    tolerance (``max_sweeps`` and ``inner_factor`` do not apply there).
    """
    from ._cd import newton_cd_sweeps

    if explicit_suits(loss):
        return newton_cd_explicit(
            loss, w0, max_iter=max_iter, tol=tol, callback=callback, min_iter=min_iter
        )
    if inner_factor is None:
        sparse_X = getattr(loss, "sparse", False)
        inner_factor = INNER_FACTOR_SPARSE if sparse_X else INNER_FACTOR_DENSE
    result = _newton_cd(
        loss, w0, max_iter, tol, callback, max_sweeps, inner_factor, newton_cd_sweeps, min_iter
    )
    # Shifting every class's intercept by one number changes nothing; the
    # smooth solvers keep their sum at 0 (the gradient's is), coordinate
    # descent moves them one by one: centre them, as the others leave them.
    _centre_intercepts(loss, result.w)
    return result


def _newton_cd(
    loss, w0, max_iter, tol, callback, max_sweeps, inner_factor, newton_cd_sweeps, min_iter=1
):
    from ._cd import dense_working_curvatures, working_curvatures

    l1, l2 = loss.l1, loss.l2
    K, d, n = loss.n_outputs, loss.n_features, loss.n_samples
    kept = _kept_columns(loss)
    dense, data, indices, indptr = _columns(loss.X, kept, loss.n_threads)
    caps = _step_caps(dense, data, indptr, d)
    w = np.array(w0, dtype=np.float64)
    f, g, point = loss.loss_gradient(w, return_raw=True)
    eps_f = getattr(loss, "f_rtol", 16 * np.finfo(float).eps)
    stalled = 0
    expanding = True
    sub = min_norm_subgradient(loss, w, g)  # then from _l1_step_ends
    for n_iter in range(1, max_iter + 1):
        violation = float(np.abs(sub).max())
        if violation <= tol and n_iter > min_iter:
            return SolverResult(w, n_iter - 1)
        W, b = loss.unpack(w)
        G, gb = loss.unpack(g)
        Wt, Gt = np.ascontiguousarray(W.T), np.ascontiguousarray(G.T)
        Q, R, P = _curvature(loss, point)
        active = _working_set(Wt, Gt, l1) if l1 else np.ones((K, d), dtype=bool)
        coords = np.flatnonzero(active)  # output-major, as the kernel takes them
        coord_ptr = np.zeros(K + 1, dtype=np.intp)
        coord_ptr[1:] = np.cumsum(np.bincount(coords // d, minlength=K))
        coord_feat = np.ascontiguousarray(coords % d, dtype=np.intp)
        # The curvatures of the working set's coordinates (the sweeps read no others).
        A = np.full((K, d), l2)
        Hwb = np.zeros((K if loss.fit_intercept else 0, d))
        if dense.size:  # feature by feature: each column of X read once
            by_feature = coords[np.argsort(coord_feat, kind="stable")]
            dense_working_curvatures(dense, R, by_feature, l2, A, Hwb, loss.n_threads)
        else:
            working_curvatures(data, indices, indptr, R, coord_ptr, coord_feat, l2, A, Hwb)
        D = np.zeros((K, d))
        Db = np.zeros(K if loss.fit_intercept else 0)
        a_b = R.sum(axis=1) if loss.fit_intercept else np.empty(0)
        U = np.zeros((K, n))
        m = np.zeros(n)
        model = _Model(loss, Q, P, Gt, gb, Wt, l1, l2, coords, caps)

        gb_kernel = np.empty(0) if gb is None else np.ascontiguousarray(gb)
        sweep = functools.partial(
            _sweep, functools.partial(newton_cd_sweeps, n_threads=loss.n_threads),
            (dense, data, indices, indptr, n, Q, R, A, a_b, Hwb, P),
            (Gt, gb_kernel, Wt), (l1, l2, coord_ptr, coord_feat, caps),
        )  # fmt: skip
        after = []
        if l1 and P.shape[0]:
            after.append(_ClassShift(Wt, Gt, active, l1, l2))
        after.append(_SweepExtrapolation(model, Q, l1, l2))
        _anderson_cd(sweep, (D, Db, U, m), model, max_sweeps,
                     max(inner_factor * violation, 0.1 * tol), after_sweep=after)  # fmt: skip
        # Line search on the whole objective, from the unit step.  W and the
        # step are 0 outside the working set: the penalty's changes are sums
        # over its coordinates, and trial points need no copy of w.
        cj = (coord_feat, coords // d)  # the working set's entries of W (d, K)
        Wv, Dv, Gv = model.Wv, D.ravel()[coords], model.Gv
        gb_dot = float(gb @ Db) if gb is not None else 0.0
        ray = _PenaltyRay(Wv, Dv, l1, l2)
        F0 = f + ray.l1_at(0.0)
        slope = float(Gv @ Dv) + gb_dot + ray.l1_at(1.0) - ray.l1_at(0.0)
        raw0 = np.asarray(point.raw2, dtype=np.float64)
        objective = functools.partial(_objective_on_ray, loss, raw0, U, ray)
        t, F_t, rounding = _backtrack(objective, F0, slope, eps_f)
        if t is None:
            return SolverResult(w, n_iter, False, _stalled_message(sub, tol, loss.dtype))
        t_max = min(MAX_STEP, _first_zero(Wv, Dv) if l1 else np.inf)
        if t == 1.0 and not rounding and expanding and t_max >= 2.0:
            t = _expand(objective, F_t, t_max)
            # Longer steps help far from the optimum only: once one did not,
            # the trial (a loss evaluation per step) is not made again.
            expanding = t > 1.0
        accepted = w.copy()
        W_new, b_new = loss.unpack(accepted)
        W_new[cj] += t * Dv
        if b_new is not None:
            b_new += t * Db
        w = accepted
        # The new raw scores are the line search's, raw0 + t X D: no product
        # X w.  They differ from X w's by rounding, and for softmax by the
        # class shifts of _ClassShift (a constant per row, which changes no
        # probability); a fit that converges (or steps at the precision of
        # the arithmetic) is judged on X w's own.
        f, g, point = loss.loss_gradient_from_raw(w, raw0 + t * U.T)
        sub = min_norm_subgradient(loss, w, g)
        if rounding or np.abs(sub).max() <= tol:
            f, g, point = loss.loss_gradient(w, return_raw=True)
            sub = None
        stalled += bool(rounding)
        end, sub = _l1_step_ends(loss, n_iter, w, f, g, tol, stalled, callback, sub)
        if end is not None:
            return end
    return SolverResult(w, max_iter, False, f"max_iter={max_iter} reached")


class _PenaltyRay:
    """The penalty along a step, ``l2/2 ||W + t D||^2 + l1 ||W + t D||_1``,
    from the entries that can be non-zero (those of the working set):
    ``(W, D)`` as vectors over them."""

    def __init__(self, W, D, l1, l2):
        self.W, self.D, self.l1, self.l2 = W, D, l1, l2
        self.ww, self.wd, self.dd = float(W @ W), float(W @ D), float(D @ D)

    def l1_at(self, t):
        if not self.l1:
            return 0.0
        return self.l1 * float(np.abs(self.W + t * self.D).sum())

    def at(self, t):
        l2_part = 0.5 * self.l2 * (self.ww + 2.0 * t * self.wd + t * t * self.dd)
        return l2_part + self.l1_at(t)


def _objective_on_ray(loss, raw0, U, ray, t):
    """The whole objective at ``w + t (D, Db)``, from the raw scores ``raw0 + t U^T``."""
    return loss.loss_from_raw(raw0 + t * U.T) + ray.at(t)


def _backtrack(objective, F0, slope, eps_f):
    """Backtracking from the unit step: ``(t, F_t, rounding)``, the first of 1,
    1/2, 1/4, ... (30 halvings at most) that decreases ``objective`` enough
    (Armijo, 1e-4), or that leaves it within the rounding of ``F0``
    (``rounding=True``: the fit is at the precision of the arithmetic), and
    the objective there; ``(None, None, False)`` if none does."""
    t = 1.0
    for _ in range(30):
        F_t = objective(t)
        if F_t <= F0 + 1e-4 * t * min(slope, 0.0):
            return t, F_t, F_t > F0 - eps_f * max(1.0, abs(F0))
        if F_t <= F0 + eps_f * max(1.0, abs(F0)):
            return t, F_t, True
        t *= 0.5
    return None, None, False


# The longest step newton-cd's line search tries, when the unit step is accepted.
MAX_STEP = 64.0


def _first_zero(W, D):
    """The least t > 0 at which a coefficient of ``W + t D`` reaches 0 (inf if
    none does): past it, a longer step would undo a zero of the proximal step
    or flip a sign."""
    crossing = W * D < 0
    if not crossing.any():
        return np.inf
    return float(np.min(-W[crossing] / D[crossing]))


def _expand(objective, F_1, t_max=np.inf):
    """After a unit step that helped (the objective there ``F_1``): 2, 4, ...
    times the step while the objective keeps falling, up to
    ``min(MAX_STEP, t_max)`` (:func:`_first_zero` with an L1 part, so that
    the step's zeros and signs stay as the coordinate descent set them).

    Far from the optimum of a weakly penalised problem (separable text
    classes, large C), the coefficients must grow by orders of magnitude,
    and the quadratic model of the logistic loss, which flattens out there,
    takes them only part of the way: on the text-like benchmark problem with
    two classes (``l1_ratio=1, C=10``) the first step went 8 times as far,
    and the fit took 10 Newton steps instead of 13.  A trial costs the loss
    at known raw scores, no pass over X.
    """
    t, best = 1.0, F_1
    while 2.0 * t <= min(MAX_STEP, t_max):
        F = objective(2.0 * t)
        if not F < best:
            break
        t, best = 2.0 * t, F
    return t


def _l1_step_ends(loss, n_iter, w, f, g, tol, stalled, callback, sub=None):
    """The result of a proximal Newton iteration if it ends the fit (on the
    callback's word or the least-norm subgradient: converged; after three
    steps at the precision of the arithmetic: not converged), else None; and
    that subgradient (``sub`` if the caller has it), for the next iteration."""
    if sub is None:
        sub = min_norm_subgradient(loss, w, g)
    if callback is not None and callback(w, f + loss.l1_penalty(w), sub):
        return SolverResult(w, n_iter), sub
    if np.abs(sub).max() <= tol:
        return SolverResult(w, n_iter), sub
    if stalled >= 3:
        return SolverResult(w, n_iter, False, _stalled_message(sub, tol, loss.dtype)), sub
    return None, sub


# The most coefficients newton_cd_explicit takes: its Hessian is dense on the client.
EXPLICIT_CD_MAX_DOF = 2000


def _explicit_cd(H, g, w, n_penalised, l1, max_sweeps, tol):
    """Coordinate descent on gᵀD + ½ DᵀHD + l1 |w + D| over the penalised
    coordinates (the intercepts without the l1 term), with H explicit: the
    Cython kernel :func:`skxent._cd.explicit_cd`."""
    from ._cd import explicit_cd

    H = np.ascontiguousarray(H, dtype=np.float64)
    D = np.zeros(w.shape[0])
    explicit_cd(
        H, np.ascontiguousarray(g, dtype=np.float64), np.ascontiguousarray(w, dtype=np.float64),
        D, np.zeros(w.shape[0]), n_penalised, float(l1), int(max_sweeps), float(tol),
    )  # fmt: skip
    return D


def explicit_suits(loss):
    """Whether in-memory newton-cd forms its Hessian (:func:`newton_cd_explicit`).

    Dense X, and either at most 256 coefficients and at least 10 000 rows, or
    at most :data:`EXPLICIT_CD_MAX_DOF` coefficients and so many rows that the
    Hessian comes from a row sample of half of them or fewer
    (``_hessian_sample``).  Each iteration is then one pass over X for the
    gradient, the Hessian from the sample (BLAS products), and coordinate
    descent on the explicit (p x p) model, where sweeps over X's columns read
    all of X, for every output, a few dozen times an iteration.  On
    ``make_classification(2e5, 50)`` with correlated features: 6 iterations of
    0.03 s against 8 of 0.12 s.  With 10 classes and 100 features, to the same
    tolerance (1e-5): 2.9 s against 3.4 s at 5e4 rows (every 2nd row sampled),
    3.4 s against 17.9 s at 1e5 rows (every 4th); the other way round at
    2e4 rows, no sample: 1.8 s against 0.7 s.
    """
    if loss.sparse or not hasattr(loss, "sampled_hessian"):
        return False
    if loss.n_dof <= 256 and loss.n_samples >= 10_000:
        return True
    if loss.n_dof > EXPLICIT_CD_MAX_DOF:
        return False
    chunks, _ = loss._hessian_sample()
    return chunks is not loss._chunks


def newton_cd_explicit(
    loss, w0, *, max_iter=100, tol=1e-4, callback=None, max_sweeps=1000, min_iter=1
):
    """:func:`_newton_cd_explicit`, its softmax intercepts centred as newton_cd's."""
    result = _newton_cd_explicit(loss, w0, max_iter, tol, callback, max_sweeps, min_iter)
    _centre_intercepts(loss, result.w)
    return result


def _newton_cd_explicit(loss, w0, max_iter, tol, callback, max_sweeps, min_iter=1):
    """Proximal Newton with the Hessian formed: each evaluation one pass for
    the gradient and Hessian, coordinate descent on the explicit quadratic
    model plus the L1 penalty (inner tolerance a hundredth of the current
    violation: its sweeps cost next to nothing), and a line search on the
    whole objective whose full step gets the Hessian too (the usual case then
    needs no other pass).  For dask arrays (the solver cannot read them by
    columns) and for few coefficients and many rows; on large data the
    Hessian comes from a row sample (``sampled_hessian``; the gradient stays
    exact).  At most :data:`EXPLICIT_CD_MAX_DOF` coefficients.  Stops on the
    least-norm subgradient, as :func:`newton_cd`.
    """
    l1 = loss.l1
    n_penalised = loss.n_outputs * loss.n_features
    hessian = getattr(loss, "sampled_hessian", loss.hessian)
    w = np.array(w0, dtype=np.float64)
    f, g, H = hessian(w)
    stalled = 0
    eps_f = getattr(loss, "f_rtol", 16 * np.finfo(float).eps)
    sub = min_norm_subgradient(loss, w, g)  # then from _l1_step_ends
    for n_iter in range(1, max_iter + 1):
        violation = float(np.abs(sub).max())
        if violation <= tol and n_iter > min_iter:
            return SolverResult(w, n_iter - 1)
        D = _explicit_cd(H, g, w, n_penalised, l1, max_sweeps, 0.01 * violation)
        F0 = f + loss.l1_penalty(w)
        slope = float(g @ D) + l1 * (
            float(np.abs(w[:n_penalised] + D[:n_penalised]).sum())
            - float(np.abs(w[:n_penalised]).sum())
        )
        t, accepted, evaluated = 1.0, None, None
        for _ in range(30):
            w_t = w + D if t == 1.0 else w + t * D
            if t == 1.0:
                evaluated = hessian(w_t)
                F_t = evaluated[0] + loss.l1_penalty(w_t)
            else:
                evaluated = None
                F_t = loss.loss(w_t) + loss.l1_penalty(w_t)
            if F_t <= F0 + 1e-4 * t * min(slope, 0.0) or F_t <= F0 + eps_f * max(1.0, abs(F0)):
                accepted = w_t
                stalled += F_t > F0 - eps_f * max(1.0, abs(F0))
                break
            t *= 0.5
        if accepted is None:
            return SolverResult(w, n_iter, False, _stalled_message(sub, tol, loss.dtype))
        w = accepted
        f, g, H = evaluated if evaluated is not None else hessian(w)
        end, sub = _l1_step_ends(loss, n_iter, w, f, g, tol, stalled, callback)
        if end is not None:
            return end
    return SolverResult(w, max_iter, False, f"max_iter={max_iter} reached")


# ---------------------------------------------------------------------------
# The Kronecker-factored preconditioner of newton-cg
# ---------------------------------------------------------------------------


class KFAC:
    r"""``r -> M^{-1} r`` with the Kronecker-factored Hessian M = A (x) B + l2 I.

    The Hessian of the mean loss is ``sum_i s~_i (x~_i x~_i^T) (x) H_i`` with
    ``H_i`` the Hessian in the raw scores of row i and ``x~ = [x, 1]``.
    Replacing each ``H_i`` by their weighted mean ``A`` (K x K) separates it
    into ``A (x) B`` (Martens & Grosse 2015, "K-FAC", applied here to the whole
    Hessian of a convex model).  With the eigen-decompositions of A and B the
    inverse of ``A (x) B + l2 I`` costs two small matrix products.  B captures
    the scaling and correlation of the features, which is what makes plain
    conjugate gradients slow; A the coupling of the classes.

    B depends on the data only: it is computed once per solve, on a strided
    row sample, and replaced by its diagonal when the full (d+1)^2 matrix
    would cost too much compared with a pass over X.  A is recomputed at each
    point.  The softmax A is singular along (1, ..., 1), as is the Hessian
    itself (shifting all classes' scores changes nothing); gradients have no
    component there, and neither does ``M^{-1} r`` for such an r.
    """

    def __init__(self, objective):
        self.obj = objective
        # B depends on the data only: it is kept with the objective, so that
        # the fits of a path (only the penalty changes) compute it once.
        self._cache = objective.__dict__.setdefault("_solver_cache", {})

    def _feature_factor(self):
        if "kfac_B" in self._cache:
            return self._cache["kfac_B"]
        from scipy import sparse

        obj = self.obj
        d = obj.n_features
        if hasattr(obj, "kfac_second_moment"):  # data elsewhere: the objective sums B
            full = d <= 2000
            B = obj.kfac_second_moment(full)
            beta, U = np.linalg.eigh(_sym(B)) if full else (B, None)
            self._cache["kfac_B"] = (np.maximum(beta, 0.0) if full else beta, U)
            return self._cache["kfac_B"]
        X = obj.X
        chunks = obj.row_sample()
        total = sum(float(obj.effective_weight(c).sum()) for c in chunks)
        if not total > 0:
            total = 1.0
        full = _kfac_full_factor(obj)
        p1 = d + obj.fit_intercept
        B = np.zeros((p1, p1)) if full else np.zeros(p1)
        for rows in chunks:
            Xs = X[rows]
            sb = obj.effective_weight(rows) / total
            if sparse.issparse(Xs):
                if full:
                    B[:d, :d] += (Xs.T @ Xs.multiply(sb[:, None]).tocsr()).toarray()
                else:
                    B[:d] += np.asarray(Xs.multiply(Xs).T @ sb).ravel()
            elif full:
                B[:d, :d] += Xs.T @ (sb[:, None].astype(Xs.dtype) * Xs)
            else:
                B[:d] += np.einsum("ij,ij,i->j", Xs, Xs, sb.astype(Xs.dtype))
            if full and obj.fit_intercept:
                B[:d, d] += np.asarray(Xs.T @ sb.astype(Xs.dtype)).ravel()
        if obj.fit_intercept:
            if full:
                B[d, :d] = B[:d, d]
                B[d, d] = 1.0
            else:
                B[d] = 1.0
        if full:
            beta, U = np.linalg.eigh(_sym(B))
            beta = np.maximum(beta, 0.0)
        else:
            beta, U = B, None
        self._cache["kfac_B"] = (beta, U)
        return beta, U

    def _output_curvature(self, point):
        """A, the weighted mean Hessian of a row in its raw scores, on a row sample
        (K x K for softmax, its diagonal for sigmoids): a few thousand rows
        estimate it well."""
        obj = self.obj
        n, K = obj.n_samples, obj.n_outputs
        rows = slice(0, n, max(1, n // max(5000, 50 * K)))
        es = obj.effective_weight(rows)
        total = float(es.sum())
        if not total > 0:  # all the weight outside the sample: any scale will do
            es, total = np.ones_like(es), float(es.shape[0])
        if obj.link == "softmax":
            P = np.exp(log_softmax(np.asarray(point.raw2[rows], dtype=np.float64), axis=1))
            sP = (es / total)[:, None] * P
            return np.diag(sP.sum(axis=0)) - sP.T @ P
        h = point.hdiag2[rows]
        return h.sum(axis=0, dtype=np.float64) / float(obj.effective_weight(rows).sum() or 1.0)

    def __call__(self, point):
        """The preconditioner ``r -> M^{-1} r`` at a point of ``loss_gradient``."""
        obj = self.obj
        beta, Ub = self._feature_factor()
        K = obj.n_outputs
        if hasattr(obj, "kfac_output_curvature"):  # gathered with the gradient
            A = obj.kfac_output_curvature(point)
        else:
            A = self._output_curvature(point)
        if obj.link == "softmax":
            alpha, Ua = np.linalg.eigh(_sym(A))
        else:
            alpha, Ua = A, None
        alpha = np.maximum(alpha, 1e-3 * max(float(alpha.max()), 1e-300))
        p1 = beta.shape[0]
        # l2 on every row, the unpenalised intercept's too (M need only be
        # close to H), and a floor keep M invertible, also with C = inf.
        den = beta[:, None] * alpha[None, :] + obj.l2
        den = np.maximum(den, 1e-12 * den.max())

        def apply(r):
            R = r.reshape(p1, K)
            if Ub is not None:
                R = Ub.T @ R
            if Ua is not None:
                R = R @ Ua
            R = R / den
            if Ua is not None:
                R = R @ Ua.T
            if Ub is not None:
                R = Ub @ R
            return R.ravel()

        return apply


# From this many outputs on, newton-cg preconditions with BlockJacobi rather
# than KFAC (measured: similar at 250 classes, better at 1000, worse at 100).
BLOCK_JACOBI_MIN_OUTPUTS = 200


class BlockJacobi:
    r"""``r -> M^{-1} r`` with M the Hessian's diagonal blocks, one per output.

    Block c is ``X~^T diag(r_c) X~ + l2 I`` with ``r_c = s~ p_c (1 - p_c)`` for
    softmax (the exact diagonal block: the cross-class blocks
    ``-X~^T diag(s~ p_c p_e) X~`` are left out) and the Hessian diagonal of
    output c for sigmoids (exact: their outputs do not couple).  With many
    classes each row weighs on few of them, which the Kronecker factors of
    :class:`KFAC` average away: there these blocks cut conjugate gradients'
    products about fourfold (1000 classes of 20 samples in 128 features).
    Each block sums its ``4 (d + 1)`` heaviest rows exactly and the rest of its
    weight times the rows' mean second moment (K-FAC's B).

    Its rebuild at every Newton iteration costs about two Hessian products
    (1000 classes of 20000 x 128: 0.3-0.4 s against 0.15-0.19 s), which
    favours fewer iterations with more CG steps each: CG stops at a fixed
    relative residual of 0.1 (:attr:`forcing`, see :func:`_forcing`).  On that
    problem the fit took 13 iterations, 17 gradients and 59 products where
    the default rule took 16, 21 and 66 (and a cap of 0.1 on the rule 13, 17
    and 63).
    """

    #: The relative residual at which newton-cg's CG stops (:func:`_forcing`).
    forcing = 0.1

    def __init__(self, objective):
        self.obj = objective
        self._kept = None

    @staticmethod
    def suits(objective):
        """Dense X, many outputs, and blocks that fit in memory (200 MB)."""
        d1 = objective.n_features + objective.fit_intercept
        return (
            not objective.sparse
            and hasattr(objective, "X")
            and objective.n_outputs >= BLOCK_JACOBI_MIN_OUTPUTS
            and objective.n_outputs * d1 * d1 <= 25_000_000
        )

    def __call__(self, point):
        """``v -> M^{-1} v`` at a point of the objective's ``loss_gradient``;
        valid until the next call, which reuses its buffers."""
        from ._cd import block_jacobi_curvatures, block_jacobi_factors, block_jacobi_solve

        obj = self.obj
        K, d = obj.n_outputs, obj.n_features
        d1 = d + obj.fit_intercept
        n = obj.n_samples
        threads = obj.runner.n_threads
        if self._kept is None:
            self._kept = self._first_call(K, d1, n)
        X, weight, B, ridge, Rt, factors = self._kept
        if obj.link == "softmax":
            block_jacobi_curvatures(np.ascontiguousarray(point.raw2), weight, Rt, threads)
        else:
            Rt[...] = point.hdiag2.T
        # Each class's block alone on one thread (BLAS on one thread in a
        # fit): the bits do not depend on the number of threads.
        most = min(max(4 * d1, 256), n)
        block_jacobi_factors(X, Rt, B, ridge, most, obj.fit_intercept, factors, threads)

        def apply(v):
            out = np.empty((d1, K))
            block_jacobi_solve(factors, v.reshape(d1, K), out, threads)
            return out.ravel()

        return apply

    def _first_call(self, K, d1, n):
        """What every call reads and the buffers it writes, made once: X in C
        order (X itself when it is), the rows' weights, the rows' mean second
        moment B (K-FAC's, which stands in for the light rows of each block: a
        block is its heaviest rows, summed exactly, plus the rest of its
        weight times B), the ridge (the L2 penalty, none on the intercepts:
        an instance serves one fit), and the curvatures R (one class per row)
        and the
        factors, whose buffers are kept from call to call (at 1000 classes of
        20000 rows, 160 MB and 130 MB that fresh pages made 1.6 times slower
        to write)."""
        obj = self.obj
        X = obj.X
        if not X.flags.c_contiguous or X.dtype not in (np.float32, np.float64):
            X = np.ascontiguousarray(X, dtype=np.float64)
        weight = np.ascontiguousarray(obj.effective_weight(), dtype=np.float64)
        beta, U = KFAC(obj)._feature_factor()
        B = np.ascontiguousarray((U * beta) @ U.T if U is not None else np.diag(beta))
        ridge = np.full(d1, obj.l2)
        if obj.fit_intercept:
            ridge[-1] = 0.0
        return X, weight, B, ridge, np.empty((K, n)), np.empty((K, d1, d1))


class DiagonalHessian:
    r"""``r -> r / diag(H)``: the exact diagonal of the Hessian (Jacobi).

    For sparse X with many features, where :class:`KFAC` would replace its
    feature factor B by B's diagonal anyway: the coordinate (j, c) gets its
    own curvature ``sum_i x_ij^2 R_ic + l2``, with ``R_ic`` the Hessian of row
    i in its raw score c (``s~_i p_ic (1 - p_ic)`` for softmax), where the
    Kronecker form has ``B_jj A_cc``, the class curvature averaged over all
    rows.  A word that occurs in the documents of one topic is where the two
    differ.  It costs one product of X's squares with R per Newton iteration
    (:meth:`hessian_diagonal`), and its application one division, where
    K-FAC's rotates the class axis twice per CG step.  Counted to 1e-7 of the
    optimum on the text-like benchmark problem (10**5 x 2**17, 20 classes):
    19 Hessian products where K-FAC needed 27 at C = 1, 39 where it needed 44
    at C = 10; on the text-like data of ``tests/test_sparse.py`` (8 classes,
    C = 10, tol 1e-6) 102 where it needed 123.  For softmax the steps are
    projected as K-FAC's are (see below).
    """

    def __init__(self, objective):
        self.obj = objective

    def centred(self, w):
        """``w`` with each feature's (softmax) coefficients and the intercepts
        shifted to sum to 0 over the classes: the same probabilities, a penalty
        no larger, and the subspace that the projected steps keep."""
        obj = self.obj
        if obj.link != "softmax" or obj.n_outputs < 2:
            return w
        means = w.reshape(-1, obj.n_outputs).mean(axis=1, keepdims=True)
        if not np.abs(means).max(initial=0.0) > 1e-12 * np.abs(w).max(initial=0.0):
            # Centred to rounding already (a warm start on a path): kept as it
            # is, bit for bit, so that the objective's last evaluation serves.
            return w
        w = w.copy()
        w.reshape(-1, obj.n_outputs)[...] -= means
        return w

    def __call__(self, point):
        """The preconditioner ``r -> r / diag(H)`` at a point of ``loss_gradient``."""
        obj = self.obj
        diag = obj.hessian_diagonal(point)
        # A floor keeps it invertible (C = inf, a feature whose rows are all
        # predicted with certainty).
        diag = np.maximum(diag, 1e-12 * max(float(diag.max()), 1e-300))
        inverse = 1.0 / diag
        K = obj.n_outputs
        # The softmax loss does not change when one number is added to every
        # class's coefficient of a feature (or intercept): along those
        # directions the Hessian has the penalty's curvature alone (none for
        # the intercepts), far below its diagonal.  Gradients at centred
        # coefficients have no component there, but r / diag(H) would: CG
        # would then crawl along them (a text-like test problem, C = 10,
        # took 482 products instead of 102).  Projected out, as K-FAC's
        # eigenbasis does.
        project = obj.link == "softmax" and K > 1

        def apply(r):
            out = r * inverse
            if project:
                rows = out.reshape(-1, K)
                rows -= rows.mean(axis=1, keepdims=True)
            return out

        # What _pcg applies itself, in one pass with r.z (skxent._cd.cg_precondition)
        apply.inverse = np.ascontiguousarray(inverse, dtype=np.float64)
        apply.runs = K if project else 1
        return apply


def _preconditioner(loss):
    """newton-cg's preconditioner: the Hessian's diagonal for sparse X whose
    K-FAC feature factor would be diagonal; the diagonal blocks for many
    outputs (:meth:`BlockJacobi.suits`); else K-FAC."""
    if getattr(loss, "sparse", False) and hasattr(loss, "hessian_diagonal"):
        if not _kfac_full_factor(loss):
            return DiagonalHessian(loss)
    if BlockJacobi.suits(loss):
        return BlockJacobi(loss)
    return KFAC(loss)


def _kfac_full_factor(obj):
    """Whether :class:`KFAC` keeps the full (d+1)^2 feature factor: at most 2000
    features, and computing it on the row sample costs at most 50 passes."""
    n, d = obj.n_samples, obj.n_features
    if d > 2000:
        return False
    n_sub = sum(len(range(*c.indices(n))) for c in obj.row_sample())
    nnz_row = obj.X.nnz / n if obj.sparse else d
    return n_sub * nnz_row * d <= 50 * n * nnz_row * max(obj.n_outputs, 4)


def kfac_preconditioner(objective, point):
    """The K-FAC preconditioner of ``objective`` at ``point`` (see :class:`KFAC`)."""
    return KFAC(objective)(point)


# ---------------------------------------------------------------------------
# Mini-batch solvers
# ---------------------------------------------------------------------------


class StochasticState:
    """What a mini-batch solver carries from one call to the next (partial_fit).

    ``w`` is the current iterate, ``w_avg`` the running average returned as the
    solution, ``t`` the number of steps, ``m`` and ``v`` Adam's moments.
    """

    def __init__(self, w0):
        self.t = 0
        self.w = np.array(w0, dtype=np.float64)
        self.w_avg = self.w.copy()
        self.m = np.zeros_like(self.w)
        self.v = np.zeros_like(self.w)
        # Tsuruoka et al.'s cumulative L1 penalty: u, what each weight could
        # have been pulled towards 0 so far; q, what it actually was.
        self.u = np.zeros_like(self.w)
        self.q = np.zeros_like(self.w)


def _cumulative_l1(w, n_penalised, state, step):
    """Apply the L1 penalty of one step to the penalised part of ``w`` (in place).

    Tsuruoka, Tsujii & Ananiadou (2009), "Stochastic gradient descent training
    for L1-regularized log-linear models with cumulative penalty": each
    weight is clipped at 0 by the penalty it has not received yet, so that
    weights the gradient does not keep away from 0 end exactly at 0.  ``step``
    is the penalty of this step, ``learning_rate * l1``, a scalar for SGD and
    per coordinate for Adam, whose steps are scaled per coordinate.
    """
    W, q, u = w[:n_penalised], state.q[:n_penalised], state.u[:n_penalised]
    u += step if np.ndim(step) == 0 else step[:n_penalised]
    before = W.copy()
    pos, neg = W > 0, W < 0
    W[pos] = np.maximum(0.0, W[pos] - (u[pos] + q[pos]))
    W[neg] = np.minimum(0.0, W[neg] + (u[neg] - q[neg]))
    q += W - before


# Polynomial-decay averaging weight (Shamir & Zhang 2013): the average forgets
# the early iterates, unlike a uniform average.
_AVERAGING_ETA = 3.0


def stochastic(
    loss,
    w0,
    *,
    method,
    max_iter=100,
    tol=1e-4,
    batch_size=32,
    learning_rate=0.01,
    l2=None,
    l1=None,
    random_state=None,
    state=None,
    callback=None,
    n_iter_no_change=3,
    evaluate=True,
):
    """Mini-batch SGD or Adam over shuffled batches, ``max_iter`` epochs.

    Each step follows the gradient of the batch's weighted mean loss plus the
    penalty ``l2 / 2 ||W||^2`` (default: the objective's), with a constant
    step ``learning_rate`` (SGD) or Adam's moment estimates (Kingma & Ba 2015;
    0.9, 0.999, 1e-8).  The solution is an average of the iterates,
    ``w_avg += (eta + 1) / (t + eta) (w_t - w_avg)``, eta = 3 (Shamir & Zhang
    2013): averaging is what lets a constant step converge (Bach & Moulines
    2013) and makes one pass over the data nearly as good as the full fit.

    With ``evaluate`` (``fit``), the objective at the average is evaluated
    after every epoch; an epoch that does not improve the best value by
    ``tol`` divides the step by 5, and ``n_iter_no_change`` such epochs in a
    row stop the run (converged).  Without (``partial_fit``), the epochs just
    run.  The result's ``state`` continues the run when passed back.

    With an L1 penalty ``l1`` (default: the objective's), every step is
    followed by the cumulative L1 penalty (:func:`_cumulative_l1`), and the
    solution is the last iterate, which is sparse, rather than the average,
    which is not.
    """
    if hasattr(random_state, "permutation"):
        rng = random_state
    else:
        rng = np.random.default_rng(random_state)
    n = loss.n_samples
    l2 = loss.l2 if l2 is None else l2
    l1 = loss.l1 if l1 is None else l1
    n_penalised = loss.n_outputs * loss.n_features
    state = StochasticState(w0) if state is None else state

    def solution():
        return state.w if l1 else state.w_avg

    def objective(v):
        return loss.loss(v) + (l1 * float(np.abs(v[:n_penalised]).sum()) if l1 else 0.0)

    w = state.w
    batch_size = max(1, min(int(batch_size), n))
    best = objective(solution()) if evaluate else np.inf
    no_improvement = 0
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    epoch = 0
    for epoch in range(1, max_iter + 1):
        order = rng.permutation(n)
        total = 0.0
        n_batches = 0
        for start in range(0, n, batch_size):
            rows = np.sort(order[start : start + batch_size])
            f, g = loss.batch_loss_gradient(w, rows, l2)
            total += f
            n_batches += 1
            state.t += 1
            if method == "adam":
                state.m *= beta1
                state.m += (1 - beta1) * g
                state.v *= beta2
                state.v += (1 - beta2) * g * g
                m_hat = state.m / (1 - beta1**state.t)
                v_hat = state.v / (1 - beta2**state.t)
                scale = learning_rate / (np.sqrt(v_hat) + eps)
                w -= scale * m_hat
            else:
                scale = learning_rate
                w -= learning_rate * g
            if l1:
                _cumulative_l1(w, n_penalised, state, scale * l1)
            rate = (_AVERAGING_ETA + 1) / (state.t + _AVERAGING_ETA)
            state.w_avg += rate * (w - state.w_avg)
        value = total / n_batches
        if not np.isfinite(value) or not np.all(np.isfinite(w)):
            raise ValueError(
                f"The {method} solver diverged (the loss became {value}); "
                "use a smaller learning_rate or scale the data."
            )
        if evaluate:
            value = objective(solution())
        if callback is not None and callback(solution(), value, None):
            return SolverResult(solution().copy(), epoch, True, "", state)
        if evaluate:
            if value < best - tol:
                no_improvement = 0
            else:
                no_improvement += 1
                learning_rate /= 5.0
                if no_improvement >= n_iter_no_change:
                    return SolverResult(solution().copy(), epoch, True, "", state)
            best = min(best, value)
    converged = not evaluate or max_iter == 0
    message = "" if converged else f"max_iter={max_iter} epochs reached"
    return SolverResult(solution().copy(), epoch, converged, message, state)
