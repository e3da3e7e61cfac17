"""``CrossEntropyClassifier``: a linear classifier fitted by minimising cross entropy."""

import os
import sys
import time
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _solvers
from ._linear_loss import LinearModelLoss
from ._validation import check_estimator_y, check_sample_weight, fit_targets

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - older scikit-learn

    class CallbackSupportMixin:
        """Stand-in: this scikit-learn has no callback API."""


__all__ = ["CrossEntropyClassifier"]

_SPARSE = ["csr", "csc"]
_DTYPES = [np.float64, np.float32]


_ADVICE = (
    "Increase max_iter, or scale the data (sklearn.preprocessing.StandardScaler), "
    "or try another solver."
)


def _outside_libraries(filename):
    """Whether a frame's file is the user's, not skxent's or scikit-learn's."""
    import sklearn

    roots = (os.path.dirname(__file__), os.path.dirname(sklearn.__file__))
    return not any(filename.startswith(root + os.sep) for root in roots)


def _warn_user(message, category):
    """Warn with the location of the user's call (the first frame outside
    skxent and scikit-learn: ``clf.fit(...)``, or ``search.fit(...)``)."""
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and not _outside_libraries(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _warn_not_converged(solver, result):
    _warn_user(
        f"{solver} failed to converge after {result.n_iter} iteration(s): "
        f"{result.message}. {_ADVICE}",
        ConvergenceWarning,
    )


class _IterationMonitor:
    """Per-iteration reporting: ``verbose`` lines and scikit-learn's callbacks.

    Follows ``LogisticRegression``'s use of the callback API: every iteration
    is a sub-task of the fit task, begun before it runs and ended after it with
    the coefficients it produced (``fitted_estimator`` in the hooks); the
    sub-task begun after the last iteration never runs and is ended empty.
    """

    def __init__(self, estimator, ctx, X, y, metadata, loss, verbose, what="iter"):
        self.estimator = estimator
        self.ctx = ctx
        self.X, self.y, self.metadata = X, y, metadata
        self.loss = loss
        self.verbose = verbose
        self.what = what
        self.n = 0
        self.t0 = time.perf_counter()
        self.iter_ctx = None

    def _attrs(self, w):
        def make():
            return self.estimator._coef_attributes(self.loss, w)

        return make

    def begin(self, w):
        if self.ctx is not None:
            self.iter_ctx = self.ctx.subcontext(task_name=f"{self.what}")
            self.iter_ctx.call_on_fit_task_begin(
                estimator=self.estimator,
                X=self.X,
                y=self.y,
                metadata=self.metadata,
                reconstruction_attributes=self._attrs(w),
            )

    def __call__(self, w, f, g):
        self.n += 1
        stop = False
        if self.ctx is not None:
            stop = self.iter_ctx.call_on_fit_task_end(
                estimator=self.estimator,
                X=self.X,
                y=self.y,
                metadata=self.metadata,
                reconstruction_attributes=self._attrs(w.copy()),
            )
        if self.verbose:
            gtxt = "" if g is None else f"  max|grad| {np.abs(g).max():.3e}"
            name = "mean batch loss" if self.what == "call" else "objective"
            print(
                f"[{type(self.estimator).__name__}] {self.what} {self.n:4d}  "
                f"{name} {f:.10g}{gtxt}  time {time.perf_counter() - self.t0:.3f}s",
                flush=True,
            )
        if not stop:
            self.begin(w)
        else:
            self.iter_ctx = None
        return bool(stop)

    def close(self):
        if self.iter_ctx is not None:
            self.iter_ctx.call_on_fit_task_end(estimator=self.estimator)
            self.iter_ctx = None


class CrossEntropyClassifier(CallbackSupportMixin, ClassifierMixin, BaseEstimator):
    r"""Linear classifier fitted by minimising the cross entropy.

    Raw scores are :math:`z = x W^T + b`; the model predicts
    :math:`\mathrm{softmax}(z)` over the classes (more than two classes), a
    sigmoid of a single score (two classes), or an independent sigmoid per
    label (``multilabel=True``).  The objective is ``LogisticRegression``'s,
    with the same ``C``:

    .. math::
        \frac{1}{N} \sum_i s_i \ell_i + \frac{1}{C N} \left(
        \frac{1 - \rho}{2} \lVert W \rVert_F^2 + \rho \lVert W \rVert_1 \right),
        \qquad \ell_i = -\sum_c w_c t_{ic} \log q_{ic},

    with sample weights :math:`s`, class weights :math:`w`, target
    distributions :math:`t` (one-hot for labels, smoothed to :math:`(1 -
    \varepsilon) t + \varepsilon / k` by ``label_smoothing``) and :math:`N =
    \sum_i s_i \sum_c w_c t_{ic}` and :math:`\rho` the ``l1_ratio``: ``C``
    times it is scikit-learn's :math:`C \sum_i s_i \ell_i + \frac{1 -
    \rho}{2} \lVert W \rVert^2 + \rho \lVert W \rVert_1`.  The intercept is
    not penalised.  For hard labels this is exactly ``LogisticRegression``'s
    objective (``class_weight`` multiplies the weight of each sample by the
    weight of its class), so both give the same ``coef_`` and ``intercept_``
    up to solver tolerance.

    Beyond ``LogisticRegression``: soft targets (a matrix of target
    probabilities), label smoothing, multilabel fitting, ``partial_fit`` and
    float32 kept end to end.  The loss runs in skxent's multithreaded
    kernels.

    Parameters
    ----------
    C : float, default=1.0
        Inverse of the penalty strength, > 0.  ``np.inf`` fits without
        penalty.
    l1_ratio : float in [0, 1], default=0.0
        The elastic-net mixing, as in ``LogisticRegression`` (scikit-learn >=
        1.8): 0 is the L2 penalty, 1 the L1 penalty (lasso), in between both.
        With ``l1_ratio > 0`` coefficients are exactly 0.0 where the
        optimality conditions put them; it needs ``solver="newton-cd"``
        (which ``"auto"`` picks), ``"sgd"`` or ``"adam"``.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    class_weight : dict, "balanced" or None, default=None
        Weight of each class's term of the loss, ``{label: weight}``.
        ``"balanced"`` uses ``n_samples / (n_classes * class_mass)``, where
        ``class_mass`` is the (sample-weighted) number of samples of the class,
        or its total target probability for soft targets; ``partial_fit``
        counts the samples seen so far.  With ``multilabel=True`` the keys are
        0 and 1 (the negative and positive term of every label).
    label_smoothing : float in [0, 1), default=0.0
        Replace the targets by ``(1 - label_smoothing) * t + label_smoothing / k``
        (``k = 2`` for sigmoids).
    multilabel : bool, default=False
        Fit an indicator (or probability) matrix of shape (n_samples, n_labels)
        with an independent sigmoid per label.
    solver : {"auto", "lbfgs", "newton-cg", "newton-cholesky", "newton-cd", "sgd", \
"adam"}, default="auto"
        ``"auto"`` takes ``"newton-cd"`` when ``l1_ratio > 0``, else
        ``"newton-cholesky"`` (Newton's method with the exact Hessian) for tiny
        problems and ``"newton-cg"`` otherwise: truncated Newton, conjugate
        gradients preconditioned by a Kronecker-factored Hessian, with Hessian
        products on a subsample of rows when there are many more samples than
        coefficients.  ``"newton-cd"`` is proximal Newton: coordinate descent
        on the quadratic model plus the L1 penalty, over the features that are
        non-zero or violate their optimality condition, then a line search.
        ``"lbfgs"`` is scipy's L-BFGS-B with ``LogisticRegression``'s options.
        ``"sgd"`` and ``"adam"`` are mini-batch methods (with ``l1_ratio > 0``,
        Tsuruoka et al.'s cumulative L1 penalty, so that a streamed fit is
        sparse too); ``partial_fit`` always uses one of them (``"sgd"`` unless
        ``solver="adam"``).
    max_iter : int, default=100
        Maximum number of iterations (epochs for ``"sgd"`` and ``"adam"``).
    tol : float, default=1e-4
        Stop when the largest absolute entry of the objective's gradient (with
        an L1 penalty: of its subgradient of least norm, the violation of the
        optimality conditions) is at most ``tol``.  ``"sgd"`` and ``"adam"``: an
        epoch that improves the objective by less than ``tol`` divides the step
        by 5, and three such epochs in a row stop the fit.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.
    learning_rate : "auto" or float, default="auto"
        Step size of ``"sgd"`` and ``"adam"``.  ``"auto"``: 0.03 for Adam, and
        ``2 / L`` for SGD, with ``L`` the mean over samples of a bound on the
        curvature of a sample's loss (``||x||^2 / 4`` for a sigmoid,
        ``||x||^2 / 2`` for softmax).  Both keep the step constant and return
        an average of the iterates.
    batch_size : "auto" or int, default="auto"
        Mini-batch size of ``"sgd"`` and ``"adam"``; ``"auto"`` is
        ``min(32, n_samples)``.
    random_state : int, RandomState instance or None, default=None
        Shuffles the mini-batches of ``"sgd"`` and ``"adam"``.
    verbose : int, default=0
        Print one line per iteration: objective, largest gradient entry and
        time.  With scikit-learn >= 1.9, progress can also go to its callbacks,
        as for ``LogisticRegression``:
        ``clf.set_callbacks(sklearn.callback.ProgressBar())`` or
        ``ScoringMonitor(scoring=...)``; every iteration (epoch) is a task whose
        end hooks receive the model of that iteration as ``fitted_estimator``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (``arange(k)`` for soft targets, ``arange(n_labels)``
        for multilabel).
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients, in the dtype of X (float32 or float64).  (n_labels,
        n_features) with ``multilabel=True``.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros when ``fit_intercept=False``).
    n_iter_ : ndarray of shape (1,)
        Number of iterations (epochs) of the solver.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same objective on hard labels.
    skxent.metrics.cross_entropy : The loss, as a metric.

    Examples
    --------
    >>> from skxent.classifier import CrossEntropyClassifier
    >>> X = [[0.0], [1.0]]
    >>> y = [0, 1]
    >>> clf = CrossEntropyClassifier().fit(X, y)
    >>> clf.predict(X)
    array([0, 1])
    >>> clf.predict_proba(X).round(3)
    array([[0.555, 0.445],
           [0.445, 0.555]])

    Soft targets and label smoothing:

    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = CrossEntropyClassifier(C=10.0, label_smoothing=0.1).fit(X, y)
    >>> round(clf.score(X, y), 3)
    0.96
    >>> T = np.eye(3)[y]
    >>> soft = CrossEntropyClassifier(C=10.0).fit(X, 0.9 * T + 0.1 / 3)
    >>> bool(np.allclose(soft.coef_, clf.coef_, atol=1e-4))
    True
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "multilabel": ["boolean"],
        "solver": [StrOptions({"auto", *_solvers.SOLVERS})],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "learning_rate": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        C=1.0,
        l1_ratio=0.0,
        fit_intercept=True,
        class_weight=None,
        label_smoothing=0.0,
        multilabel=False,
        solver="auto",
        max_iter=100,
        tol=1e-4,
        warm_start=False,
        learning_rate="auto",
        batch_size="auto",
        random_state=None,
        verbose=0,
    ):
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        self.multilabel = multilabel
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------
    # Targets
    # ------------------------------------------------------------------

    def _sample_weight(self, sample_weight, n_samples):
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)
            if sample_weight.ndim == 0:  # a number weighs every sample, as in scikit-learn
                sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
        return check_sample_weight(sample_weight, n_samples)

    def _make_loss(self, X, targets, sample_weight, *, stream=False):
        return LinearModelLoss.from_targets(
            X,
            targets,
            sample_weight=sample_weight,
            fit_intercept=self.fit_intercept,
            label_smoothing=self.label_smoothing,
            C=self.C,
            l1_ratio=self.l1_ratio,
            drop_empty_columns=not stream,
        )

    def _coef_attributes(self, loss, w):
        coef, intercept = loss.coef_intercept(w)
        return {"coef_": coef, "intercept_": intercept}

    def _callback_context(self, max_subtasks, task_name="fit"):
        if hasattr(self, "_init_callback_context"):
            return self._init_callback_context(task_name=task_name, max_subtasks=max_subtasks)
        return None

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.  float32 stays float32 (no copy); CSR and CSC
            matrices are used as they are.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels of any type; or a matrix of target probabilities
            (soft labels, rows summing to one; ``classes_`` is then
            ``arange(n_classes)``); or, with ``multilabel=True``, an indicator
            or probability matrix of shape (n_samples, n_labels).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : CrossEntropyClassifier
            The fitted estimator.
        """
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=_SPARSE,
            dtype=_DTYPES,
            multi_output=True,
            y_numeric=False,
        )
        y = check_estimator_y(y, self.multilabel)
        sample_weight = self._sample_weight(sample_weight, X.shape[0])
        targets = fit_targets(
            y,
            sample_weight=sample_weight,
            class_weight=self.class_weight,
            multilabel=self.multilabel,
        )
        self.classes_ = targets.classes
        loss = self._make_loss(X, targets, sample_weight)

        solver = self._solver(loss)
        w0 = None
        if self.warm_start and hasattr(self, "coef_"):
            if self.coef_.shape == (loss.n_outputs, loss.n_features_in):
                w0 = loss.pack(self.coef_, self.intercept_)
        if w0 is None:
            w0 = loss.init_coef()

        metadata = None if sample_weight is None else {"sample_weight": sample_weight.values}
        ctx = self._callback_context(max_subtasks=max(self.max_iter, 1) + 1)
        if ctx is not None:
            ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
        what = "epoch" if solver in ("sgd", "adam") else "iter"
        monitor = _IterationMonitor(self, ctx, X, y, metadata, loss, self.verbose, what)
        monitor.begin(w0)
        with loss:
            if solver in ("sgd", "adam"):
                result = _solvers.stochastic(
                    loss,
                    w0,
                    method=solver,
                    max_iter=self.max_iter,
                    tol=self.tol,
                    batch_size=self._batch_size(loss.n_samples),
                    learning_rate=self._learning_rate(loss, solver),
                    random_state=check_random_state(self.random_state),
                    callback=monitor,
                )
            else:
                run = {
                    "lbfgs": _solvers.lbfgs,
                    "newton-cg": _solvers.newton_cg,
                    "newton-cholesky": _solvers.newton_cholesky,
                    "newton-cd": _solvers.newton_cd,
                }[solver]
                result = run(loss, w0, max_iter=self.max_iter, tol=self.tol, callback=monitor)
        monitor.close()
        if not result.converged:
            _warn_not_converged(solver, result)

        for name, value in self._coef_attributes(loss, result.w).items():
            setattr(self, name, value)
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.__dict__.pop("_partial", None)
        if ctx is not None:
            ctx.call_on_fit_task_end(
                estimator=self, X=X, y=y, metadata=metadata, reconstruction_attributes={}
            )
        return self

    def _solver(self, loss):
        """The solver to run: ``"auto"`` resolved; one that cannot take the L1
        penalty refused, naming both parameters."""
        solver = self.solver
        if solver == "auto":
            return _solvers.choose_solver(
                loss.n_samples, loss.n_features, loss.n_outputs, loss.link, loss.l1
            )
        if loss.l1 > 0 and solver in _solvers.SMOOTH_SOLVERS:
            raise ValueError(
                f"solver={solver!r} cannot fit the L1 part of the penalty "
                f"(l1_ratio={self.l1_ratio!r}); use solver='newton-cd' (or 'auto'), "
                "'sgd' or 'adam', or l1_ratio=0"
            )
        return solver

    def sparsify(self):
        """Store ``coef_`` as a scipy.sparse CSR matrix: faster and smaller when
        most coefficients are 0 (an L1 penalty).  ``predict`` and friends work
        with it; :meth:`densify` undoes it.

        Returns
        -------
        self : CrossEntropyClassifier
        """
        from scipy import sparse

        check_is_fitted(self)
        self.coef_ = sparse.csr_matrix(self.coef_)
        return self

    def densify(self):
        """Store ``coef_`` as a numpy array again (the default after ``fit``).

        Returns
        -------
        self : CrossEntropyClassifier
        """
        from scipy import sparse

        check_is_fitted(self)
        if sparse.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        return self

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(32, n_samples)
        return min(int(self.batch_size), n_samples)

    def _learning_rate(self, loss, solver, mean_sq_norm=None):
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        if solver == "adam":
            return 0.03
        # 2 / L, L the mean over samples of a bound on the curvature of one
        # sample's loss: sigmoid'' <= 1/4, and the softmax Hessian
        # diag(p) - p p^T has norm <= 1/2 (Boehning 1992), times ||x~||^2.
        if mean_sq_norm is None:
            mean_sq_norm = loss.mean_squared_row_norm()
        factor = 0.25 if loss.link == "sigmoid" else 0.5
        cw = 1.0 if loss.class_weight is None else float(np.max(loss.class_weight))
        curvature = factor * cw * (mean_sq_norm + self.fit_intercept) + loss.l2
        return 2.0 / curvature

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of mini-batch SGD or Adam over the given samples.

        For data that does not fit in memory, or arrives as a stream.  The
        penalty is scaled by the total weight of the samples seen so far, so
        that after one pass over a data set in chunks the objective is that of
        :meth:`fit` on the whole of it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Labels, or target probabilities, as in :meth:`fit`.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole stream: required on the first call for
            1-D labels (a chunk may miss some), and unused for target matrices.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : CrossEntropyClassifier
            The updated estimator.
        """
        initialized = hasattr(self, "coef_")
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=_SPARSE,
            dtype=_DTYPES,
            multi_output=True,
            y_numeric=False,
            reset=not initialized,
        )
        y = check_estimator_y(y, self.multilabel)
        sample_weight = self._sample_weight(sample_weight, X.shape[0])
        labels = y.ndim == 1 and not self.multilabel
        if labels and classes is not None:
            classes = np.unique(np.asarray(classes))
        if not initialized:
            if labels and classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
        elif labels:
            if classes is not None and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"classes={classes.tolist()!r} is not the same as on the first call "
                    f"to partial_fit ({self.classes_.tolist()!r})"
                )
            classes = self.classes_
        if not hasattr(self, "_partial"):
            self._partial = {"seen": 0.0, "state": None, "calls": 0, "lr": None, "class_mass": []}
        targets = fit_targets(
            y,
            sample_weight=sample_weight,
            class_weight=self.class_weight,
            multilabel=self.multilabel,
            classes=classes,
            prior_mass=(self._partial["class_mass"] or [None])[0],
        )
        self._partial["class_mass"] = [targets.mass]  # for "balanced": the masses so far
        if initialized and not np.array_equal(targets.classes, self.classes_):
            raise ValueError(
                f"y has {targets.classes.shape[0]} classes (columns) but the model was "
                f"fitted on {self.classes_.shape[0]}"
            )
        loss = self._make_loss(X, targets, sample_weight, stream=True)
        if not initialized:
            self.classes_ = targets.classes
            w = loss.init_coef()
        else:
            w = loss.pack(self.coef_, self.intercept_)
        part = self._partial
        part["seen"] += loss.total_mass
        part["calls"] += 1
        strength = 0.0 if np.isinf(self.C) else 1.0 / (self.C * part["seen"])
        l2, l1 = (1.0 - self.l1_ratio) * strength, self.l1_ratio * strength
        solver = "adam" if self.solver == "adam" else "sgd"
        if part["lr"] is None:  # from the first chunk, then kept
            part["lr"] = self._learning_rate(loss, solver)
        lr = part["lr"]
        state = part["state"]
        if state is not None and state.w.shape != w.shape:
            state = None
        if state is None:
            state = _solvers.StochasticState(w)

        ctx = self._callback_context(max_subtasks=0, task_name="partial_fit")
        metadata = None if sample_weight is None else {"sample_weight": sample_weight.values}
        if ctx is not None:
            ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
        monitor = _IterationMonitor(self, None, X, y, metadata, loss, self.verbose, "call")
        monitor.n = part["calls"] - 1
        with loss:
            result = _solvers.stochastic(
                loss,
                w,
                method=solver,
                max_iter=1,
                tol=self.tol,
                batch_size=self._batch_size(loss.n_samples),
                learning_rate=lr,
                l2=l2,
                l1=l1,
                random_state=check_random_state(self.random_state),
                state=state,
                callback=monitor,
                evaluate=False,
            )
        part["state"] = result.state
        for name, value in self._coef_attributes(loss, result.w).items():
            setattr(self, name, value)
        self.n_iter_ = np.array([part["calls"]], dtype=np.int32)
        if ctx is not None:
            ctx.call_on_fit_task_end(
                estimator=self, X=X, y=y, metadata=metadata, reconstruction_attributes={}
            )
        return self

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------

    def _is_binary(self):
        return not self.multilabel and self.coef_.shape[0] == 1

    def _inverse_link(self, X, sigmoid, softmax):
        """The link's probabilities (or their logs) of the raw scores of X.

        ``sigmoid`` and ``softmax`` are expit and softmax, or their logs.  Two
        classes take the sigmoid of both signs: no 1 - p, so tiny
        probabilities keep their digits.
        """
        z = self.decision_function(X)
        if self.multilabel:
            return sigmoid(z)
        if z.ndim == 1:
            return np.column_stack([sigmoid(-z), sigmoid(z)])
        return softmax(z, axis=1)

    def decision_function(self, X):
        """Raw scores ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the score of ``classes_[1]``; (n_samples,
            n_labels) with ``multilabel=True``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=_SPARSE, dtype=_DTYPES, reset=False)
        scores = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        scores = np.asarray(scores)
        return scores.ravel() if self._is_binary() else scores

    def predict_proba(self, X):
        """Predicted class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; with ``multilabel=True`` the
            probability of each label, (n_samples, n_labels).
        """
        return self._inverse_link(X, expit, softmax)

    def predict_log_proba(self, X):
        """Logarithm of the predicted probabilities, stable for huge scores.

        Computed as ``log_softmax`` (and ``log_expit`` for sigmoids) of the
        raw scores, never as ``log(predict_proba)``: a score difference of
        1000 gives -1000, not ``-inf``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return self._inverse_link(X, log_expit, log_softmax)

    def predict(self, X):
        """Predicted class labels (label indicators with ``multilabel=True``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
        """
        z = self.decision_function(X)
        if self.multilabel:
            return (z > 0).astype(np.int64)
        if z.ndim == 1:
            return self.classes_[(z > 0).astype(np.intp)]
        return self.classes_[np.argmax(z, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = bool(self.multilabel)
        if self.multilabel:
            tags.target_tags.multi_output = True
        return tags
