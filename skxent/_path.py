"""Regularisation paths: one fit per ``C``, each starting from the previous one.

:func:`cross_entropy_path` is the public entry (it validates its input once);
:func:`fit_path` runs a path on an objective that is already built, which is
what :class:`skxent.CrossEntropyClassifierCV` does on every fold.
"""

import time
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_array

from . import _solvers
from ._linear_loss import LinearModelLoss
from ._validation import (
    check_estimator_y,
    check_label_smoothing,
    check_real,
    check_sample_weight,
    fit_targets,
)

__all__ = ["cross_entropy_path"]

# Samples times coefficients from which a pass over the data is worth saving:
# a point of a path that already meets tol is then left as it is.
_LARGE = 10**6


def check_Cs(Cs):
    """The grid of ``C``: an int n gives ``np.logspace(-4, 4, n)``, as scikit-learn's."""
    if isinstance(Cs, Integral) and not isinstance(Cs, bool):
        if Cs < 1:
            raise ValueError(f"Cs must be a positive int or a list of positive floats; got {Cs}")
        return np.logspace(-4, 4, int(Cs))
    try:
        grid = np.asarray(Cs, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"Cs must be an int or a list of positive floats; got {Cs!r}") from None
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(f"Cs must be a non-empty list of positive floats; got {Cs!r}")
    if not np.all(grid > 0):  # NaN fails too
        bad = grid[~(grid > 0)][0]
        raise ValueError(f"Cs must hold positive numbers (np.inf: no penalty); got {bad!r}")
    return grid


def check_l1_ratios(l1_ratios):
    """The grid of ``l1_ratio``: numbers in [0, 1], at least one."""
    if isinstance(l1_ratios, Real):
        l1_ratios = [l1_ratios]
    try:
        grid = [check_real(r, "l1_ratios", low=0.0, high=1.0) for r in l1_ratios]
    except TypeError:
        raise TypeError(
            f"l1_ratios must be a list of numbers in [0, 1]; got {l1_ratios!r}"
        ) from None
    if not grid:
        raise ValueError("l1_ratios must hold at least one number in [0, 1]")
    return np.asarray(grid)


def fit_path(loss, Cs, *, l1_ratio=0.0, solver="auto", tol=1e-4, max_iter=100, w0=None):
    """Fit ``loss`` for each ``C`` of ``Cs`` in increasing order, warm-started.

    The strongest penalty first: each solution is close to the next, and the
    first starts from the intercept-only model (or ``w0``).  Returns the flat
    solutions, iterations, seconds and unconverged results, in the order of
    ``Cs``.
    """
    order = np.argsort(Cs, kind="stable")
    min_iter = 0 if loss.n_samples * loss.n_dof >= _LARGE else 1
    w = loss.init_coef() if w0 is None else np.array(w0, dtype=np.float64)
    ws, n_iter, seconds = [None] * len(Cs), np.zeros(len(Cs), dtype=np.int32), np.zeros(len(Cs))
    failed = []
    with loss:
        for i in order:
            loss.set_penalty(Cs[i], l1_ratio)
            name = _solvers.pick_solver(solver, loss)
            t0 = time.perf_counter()
            # On large data, a point of the path that already meets tol stays
            # as it is (zero iterations, as L-BFGS-B leaves it): the step would
            # cost a pass over X.  On small data the step costs next to
            # nothing and takes the solution further below tol.
            result = _solvers.run_deterministic(
                name, loss, w, max_iter=max_iter, tol=tol, min_iter=min_iter
            )
            seconds[i] = time.perf_counter() - t0
            w = result.w
            ws[i], n_iter[i] = w.copy(), result.n_iter
            if not result.converged:
                failed.append((Cs[i], name, result))
    return ws, n_iter, seconds, failed


def warn_unconverged(failed):
    """One ConvergenceWarning for the fits of a path that did not converge."""
    from .classifier import _warn_user

    if not failed:
        return
    C, name, result = failed[0]
    _warn_user(
        f"{name} failed to converge for {len(failed)} value(s) of C (first: C={C:g}, "
        f"after {result.n_iter} iteration(s): {result.message}). Increase max_iter, or "
        "scale the data (sklearn.preprocessing.StandardScaler).",
        ConvergenceWarning,
    )


def cross_entropy_path(
    X,
    y,
    *,
    Cs=10,
    l1_ratio=0.0,
    sample_weight=None,
    class_weight=None,
    fit_intercept=True,
    label_smoothing=0.0,
    multilabel=False,
    solver="auto",
    tol=1e-4,
    max_iter=100,
):
    """Coefficients of :class:`~skxent.CrossEntropyClassifier` along a grid of ``C``.

    One fit per value of ``C``, from the strongest penalty to the weakest,
    each starting from the previous solution: a path costs a few full fits,
    not one per value.  The objective is the classifier's
    (``LogisticRegression``'s, with ``l1_ratio`` its elastic-net mixing).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Labels, a target matrix, or with ``multilabel`` an indicator matrix, as
        :meth:`CrossEntropyClassifier.fit` takes them.
    Cs : int or array-like of float, default=10
        An int n gives ``np.logspace(-4, 4, n)``.
    l1_ratio : float in [0, 1], default=0.0
    sample_weight : array-like of shape (n_samples,), default=None
    class_weight, fit_intercept, label_smoothing, multilabel, solver, tol, max_iter
        As in :class:`~skxent.CrossEntropyClassifier`.

    Returns
    -------
    Cs : ndarray of shape (n_cs,)
    coefs : ndarray of shape (n_cs, n_outputs, n_features)
        ``coef_`` of each fit (``n_outputs`` is 1 for a binary problem).
    intercepts : ndarray of shape (n_cs, n_outputs)
    n_iter : ndarray of shape (n_cs,)
        Iterations of each fit.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skxent import cross_entropy_path
    >>> X, y = load_iris(return_X_y=True)
    >>> Cs, coefs, intercepts, n_iter = cross_entropy_path(X, y, Cs=[0.01, 1.0], l1_ratio=1.0)
    >>> coefs.shape
    (2, 3, 4)
    >>> bool((coefs[0] == 0).sum() >= (coefs[1] == 0).sum())  # sparser at small C
    True
    """
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    y = check_estimator_y(y, multilabel)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]}")
    grid = check_Cs(Cs)
    l1 = check_real(l1_ratio, "l1_ratio", low=0.0, high=1.0)
    label_smoothing = check_label_smoothing(label_smoothing)
    tol = check_real(tol, "tol", low=0.0)
    if isinstance(max_iter, bool) or not isinstance(max_iter, Integral) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer; got {max_iter!r}")
    if not isinstance(fit_intercept, (bool, np.bool_)):
        raise TypeError(f"fit_intercept must be True or False; got {fit_intercept!r}")
    if solver not in ("auto", *_solvers.SOLVERS) or solver in ("sgd", "adam"):
        raise ValueError(
            "solver must be one of 'auto', 'lbfgs', 'newton-cg', 'newton-cholesky', "
            f"'newton-cd' for a path; got {solver!r}"
        )
    sw = check_sample_weight(sample_weight, X.shape[0])
    targets = fit_targets(y, sample_weight=sw, class_weight=class_weight, multilabel=multilabel)
    loss = LinearModelLoss.from_targets(
        X, targets, sample_weight=sw, fit_intercept=fit_intercept,
        label_smoothing=label_smoothing, C=grid[0], l1_ratio=l1,
    )  # fmt: skip
    ws, n_iter, _, failed = fit_path(
        loss, grid, l1_ratio=l1, solver=solver, tol=tol, max_iter=max_iter
    )
    warn_unconverged(failed)
    pairs = [loss.coef_intercept(w) for w in ws]
    return grid, np.array([c for c, _ in pairs]), np.array([b for _, b in pairs]), n_iter
