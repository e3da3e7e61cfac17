"""``CrossEntropyClassifier``: a linear classifier fitted by minimising cross entropy."""

import functools
import inspect
import os
import sys
import time
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import _check_method_params, check_is_fitted, validate_data

from . import _dask, _solvers
from ._linear_loss import LinearModelLoss
from ._validation import check_estimator_y, check_sample_weight, fit_targets

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - older scikit-learn

    class CallbackSupportMixin:
        """Stand-in: this scikit-learn has no callback API."""


__all__ = ["CrossEntropyClassifier", "CrossEntropyClassifierCV"]

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


class _LinearCrossEntropyModel(ClassifierMixin, BaseEstimator):
    """What the fitted linear models share: predictions from ``coef_`` and
    ``intercept_`` through the link, and ``sparsify`` / ``densify``."""

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

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------

    def _is_binary(self):
        return not self.multilabel and self.coef_.shape[0] == 1

    def _map_dask(self, X, method, width, dtype):
        """``method`` on every row block of a dask X: a dask array, one task a block."""
        check_is_fitted(self)
        n_features = X.shape[1]
        if n_features != self.n_features_in_:
            raise ValueError(
                f"X has {n_features} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        local = _local_copy(self)
        return _dask.map_rows(functools.partial(_call, local, method), X, width, dtype)

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
            # Both columns in one call of the ufunc, in place.
            both = np.empty((z.shape[0], 2), dtype=z.dtype)
            np.negative(z, out=both[:, 0])
            both[:, 1] = z
            return sigmoid(both, out=both)
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
        if _dask.any_dask(X):
            width = None if self._is_binary() else self.coef_.shape[0]
            return self._map_dask(X, "decision_function", width, np.float64)
        X = validate_data(self, X, accept_sparse=_SPARSE, dtype=_DTYPES, reset=False)
        return self._scores(X)

    def _scores(self, X):
        """The raw scores of validated rows X."""
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
        if _dask.any_dask(X):
            return self._map_dask(X, "predict_proba", self._n_columns(), np.float64)
        return self._inverse_link(X, expit, softmax)

    def _n_columns(self):
        return 2 if self._is_binary() else self.coef_.shape[0]

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
        if _dask.any_dask(X):
            return self._map_dask(X, "predict_log_proba", self._n_columns(), np.float64)
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
        if _dask.any_dask(X):
            width = self.coef_.shape[0] if self.multilabel else None
            dtype = np.int64 if self.multilabel else self.classes_.dtype
            return self._map_dask(X, "predict", width, dtype)
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


def _keep_fitted_state_on_failure(method):
    """A fit that raises leaves the estimator as it was before it.

    Its fitted attributes (``classes_``, ``coef_``, ``n_features_in_``...)
    are set as the fit goes; an error midway (a solver refused, a bad block of
    a dask array) must not leave new classes beside old coefficients.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        before = dict(self.__dict__)
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    return wrapper


def _local_copy(estimator):
    """A plain fitted CrossEntropyClassifier with the same model, for the workers."""
    model = CrossEntropyClassifier(
        fit_intercept=estimator.fit_intercept, multilabel=estimator.multilabel
    )
    for name in ("classes_", "coef_", "intercept_", "n_features_in_"):
        setattr(model, name, getattr(estimator, name))
    return model


def _call(model, method, block):
    return getattr(model, method)(block)


def _dask_objective(estimator, X, y, sample_weight):
    """The blockwise objective of a fit on dask arrays, from one pass of checks.

    The pass checks every block (finite X, valid labels or targets and
    weights; an error names the row) and counts what the fit needs: the
    classes (a distributed unique), the class masses, the largest weight.
    Returns ``(objective, classes_, feature_names)``.
    """
    import dask

    from . import loss as _loss
    from ._validation import balanced_class_weight, check_class_weight

    blocks, rows, n_features, dtype, names = _dask.as_blocks(
        X, y, sample_weight, multilabel=estimator.multilabel
    )
    y_ndim = (
        1 if len(y.shape) == 2 and y.shape[1] == 1 and not estimator.multilabel else len(y.shape)
    )
    multilabel = bool(estimator.multilabel)
    if multilabel and y_ndim != 2:
        raise ValueError(
            "multilabel=True needs y of shape (n_samples, n_labels): an indicator or "
            f"probability matrix; got {y_ndim}-D y"
        )
    kind = "labels" if y_ndim == 1 else "matrix"
    compute = _dask.dask_compute()
    summaries, actors = None, _dask.start_actors(blocks)
    if actors is not None:  # persisted X: the checks on the workers' actors
        try:
            summaries = actors.call("summary", kind, multilabel, dtype, per_block=rows)
        except Exception:
            actors = None
    if summaries is None:
        summaries = compute(
            [
                dask.delayed(_dask.block_summary)(Xb, yb, sb, r, kind, multilabel, dtype)
                for (Xb, yb, sb), r in zip(blocks, rows)
            ]
        )
    for summary in summaries:
        if summary["bad"] is not None:
            raise ValueError(summary["bad"])
    n_samples = sum(s["rows"] for s in summaries)
    if kind == "labels":
        classes = np.unique(np.concatenate([s["labels"] for s in summaries]))
        if classes.dtype.kind not in "biu":
            from sklearn.utils.multiclass import check_classification_targets

            check_classification_targets(classes)
        mass = np.zeros(classes.shape[0])
        for s in summaries:
            mass[np.searchsorted(classes, s["labels"])] += s["label_mass"]
        if classes.shape[0] < 2:
            raise ValueError(
                "CrossEntropyClassifier needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {classes[0]!r}"
            )
        k, L = classes.shape[0], None
    else:
        mass = sum(s["matrix_mass"] for s in summaries)
        width = int(y.shape[1])
        classes = np.arange(width)
        k, L = (None, width) if multilabel else (width, None)
    sigmoid = multilabel or k == 2
    keys = [0, 1] if multilabel else list(classes)
    cw_param = estimator.class_weight
    if cw_param == "balanced":
        cw = balanced_class_weight(mass)
    else:
        cw = check_class_weight(cw_param, len(keys), labels=keys) if cw_param else None
    eps = float(estimator.label_smoothing)
    # N = sum_i s_i S_i from the class masses (S_i as in _linear_loss).
    weights = np.ones(len(mass)) if cw is None else cw
    if sigmoid:
        neg, pos = (mass[0], mass[1])
        total = pos + neg
        pos_s, neg_s = (1 - eps) * pos + eps * total / 2, (1 - eps) * neg + eps * total / 2
        n_labels = L if multilabel else 1
        whole = (weights[1] * pos_s + weights[0] * neg_s) / n_labels
    else:
        whole = (1 - eps) * float(weights @ mass) + eps * float(weights.mean()) * float(mass.sum())
    scale = max(s["sw_max"] for s in summaries) if sample_weight is not None else 1.0
    if not (whole > 0 and scale > 0):
        raise ValueError("sample_weight must contain at least one non-zero number")
    spec = _dask._BlockSpec(
        dtype=dtype,
        kind=kind,
        multilabel=multilabel,
        classes=classes,
        class_weight_dict=None if cw is None else dict(zip(keys, cw.tolist())),
        class_weight=cw,
        fit_intercept=estimator.fit_intercept,
        label_smoothing=eps,
        n_threads=_loss.max_threads(),
        normaliser=(whole / scale, scale),
    )
    n_outputs = L if multilabel else (1 if k == 2 else k)
    objective = _dask.DaskLinearModelLoss(
        blocks, spec, n_samples=n_samples, n_features=n_features, n_outputs=n_outputs,
        link="sigmoid" if sigmoid else "softmax", mass=mass, C=estimator.C,
        l1_ratio=estimator.l1_ratio, compute=compute, first_rows=rows, actors=actors,
    )  # fmt: skip
    return objective, classes, names


class CrossEntropyClassifier(CallbackSupportMixin, _LinearCrossEntropyModel):
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
    solver : str, default="auto"
        One of ``"auto"``, ``"lbfgs"``, ``"newton-cg"``, ``"newton-cholesky"``,
        ``"newton-cd"``, ``"sgd"``, ``"adam"``.  ``"auto"`` takes ``"newton-cd"``
        when ``l1_ratio > 0``, else ``"newton-cholesky"`` (Newton's method with the
        exact Hessian) for tiny problems and ``"newton-cg"`` otherwise: truncated
        Newton, conjugate gradients preconditioned by a Kronecker-factored Hessian
        (by the Hessian's diagonal for sparse data with many features, such as
        text, and by its diagonal blocks for hundreds of classes), with Hessian
        products on a subsample of rows when there are many more samples than
        coefficients.  ``"newton-cd"`` is proximal Newton: coordinate descent on
        the quadratic model plus the L1 penalty, over the features that are
        non-zero or violate their optimality condition, then a line search.
        ``"lbfgs"`` is scipy's L-BFGS-B with ``LogisticRegression``'s options.
        ``"sgd"`` and ``"adam"`` are mini-batch methods (with ``l1_ratio > 0``,
        Tsuruoka et al.'s cumulative L1 penalty, so that a streamed fit is sparse
        too); ``partial_fit`` always uses one of them (``"sgd"`` unless
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
    @_keep_fitted_state_on_failure
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
        if _dask.any_dask(X, y, sample_weight):
            return self._fit_dask(X, y, sample_weight)
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
                result = _solvers.run_deterministic(
                    solver, loss, w0, max_iter=self.max_iter, tol=self.tol, callback=monitor
                )
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
        return _solvers.pick_solver(self.solver, loss)

    def _fit_dask(self, X, y, sample_weight):
        """Fit on dask arrays: the data stay on the workers (see skxent._dask)."""
        loss, classes, names = _dask_objective(self, X, y, sample_weight)
        try:
            return self._fit_dask_objective(loss, classes, names, X, y)
        finally:
            loss.release()  # the workers drop the fit's actors

    def _fit_dask_objective(self, loss, classes, names, X, y):
        solver = self.solver
        if solver in ("sgd", "adam"):
            raise NotImplementedError(
                f"solver={solver!r} is not available for dask arrays: use partial_fit "
                "on blocks (for example dask_ml.wrappers.Incremental), or a deterministic "
                "solver"
            )
        if solver == "auto":
            solver = "newton-cholesky" if loss.n_dof <= 500 else "newton-cg"
            if loss.l1 > 0:
                solver = "newton-cd"
        else:
            solver = _solvers.pick_solver(solver, loss)
        if solver == "newton-cd" and loss.n_dof > _solvers.EXPLICIT_CD_MAX_DOF:
            raise NotImplementedError(
                f"l1_ratio > 0 on dask arrays needs the Hessian on the client: at most "
                f"{_solvers.EXPLICIT_CD_MAX_DOF} coefficients; this model has {loss.n_dof}"
            )
        w0 = None
        if self.warm_start and hasattr(self, "coef_"):
            if np.shape(self.coef_) == (loss.n_outputs, loss.n_features):
                w0 = loss.pack(self.coef_, self.intercept_)
        w0 = loss.init_coef() if w0 is None else w0
        self.classes_ = classes
        monitor = _IterationMonitor(self, None, X, y, None, loss, self.verbose)
        if solver == "newton-cd":
            result = _solvers.newton_cd_explicit(
                loss, w0, max_iter=self.max_iter, tol=self.tol, callback=monitor
            )
        else:
            result = _solvers.run_deterministic(
                solver, loss, w0, max_iter=self.max_iter, tol=self.tol, callback=monitor
            )
        if not result.converged:
            _warn_not_converged(solver, result)
        self.coef_, self.intercept_ = loss.coef_intercept(result.w)
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.n_features_in_ = loss.n_features
        if names is not None:
            self.feature_names_in_ = names
        else:
            self.__dict__.pop("feature_names_in_", None)
        self.__dict__.pop("_partial", None)
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
    @_keep_fitted_state_on_failure
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of mini-batch SGD or Adam over the given samples.

        For data that does not fit in memory, or arrives as a stream.  The
        penalty is scaled by the total weight of the samples seen so far, so
        that after one pass over a data set in chunks the objective is that of
        :meth:`fit` on the whole of it.  Each call counts its samples anew: a
        second pass over the same data halves the penalty (the objective of
        ``fit`` with ``2 C``), as a stream that brings new samples would.

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


# ---------------------------------------------------------------------------
# CrossEntropyClassifierCV
# ---------------------------------------------------------------------------


class _PathPoint(CrossEntropyClassifier):
    """One point of a cross-validated path, scored on a fold's test rows.

    Those rows were validated once, with the whole X: the scores of that very
    array skip the validation (a pass over it) at each of the path's points.
    Any other input is validated as usual.
    """

    _trusted = None

    def decision_function(self, X):
        if X is not None and X is self._trusted:
            return self._scores(X)
        return super().decision_function(X)


def _labelled_scorer(scorer, classes):
    """A scorer that gives its metric every class as ``labels``.

    A fold's test part may miss a class; metrics that take ``labels`` (such
    as ``log_loss``) then need them to know which column is which, as
    ``LogisticRegressionCV`` does for scikit-learn's scorers.  skxent's scorers
    pass the estimator's ``classes_`` themselves.
    """
    from sklearn.metrics import make_scorer

    from .metrics import _log_loss
    from .scorers import _LabelledScorer

    func = getattr(scorer, "_score_func", None)
    if func is None or isinstance(scorer, _LabelledScorer) or classes is None:
        return scorer
    if func is _log_loss._SK_LOG_LOSS:
        func = _log_loss.log_loss  # the drop-in: the same values, faster
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return scorer
    if "labels" not in params or "labels" in scorer._kwargs:
        return scorer
    return make_scorer(
        func,
        greater_is_better=scorer._sign == 1,
        response_method=scorer._response_method,
        labels=classes,
        **scorer._kwargs,
    )


class CrossEntropyClassifierCV(_LinearCrossEntropyModel):
    r"""Cross-validated ``CrossEntropyClassifier``: a warm-started path over ``Cs``.

    ``LogisticRegressionCV``'s interface (scikit-learn 1.9, its non-legacy
    attributes): for each fold and each ``l1_ratio``, the model is fitted for
    every ``C`` of ``Cs`` from the strongest penalty to the weakest, each fit
    starting from the previous one (:func:`skxent.cross_entropy_path`), and
    scored on the fold's test part.  The best ``C`` (and ``l1_ratio``), by the
    sum of the folds' scores, is refitted on all the data, starting from the
    mean of the folds' solutions.  The folds and ``l1_ratios`` run in parallel
    on ``n_jobs`` threads (the kernels release the GIL); the results are the
    same bits for any ``n_jobs``.

    Parameters
    ----------
    Cs : int or array-like of float, default=10
        The grid of ``C``: an int n gives ``np.logspace(-4, 4, n)``.
    l1_ratios : array-like of float in [0, 1], default=(0.0,)
        The grid of the elastic-net mixing (see ``CrossEntropyClassifier``).
    fit_intercept : bool, default=True
    cv : int, cross-validation generator or iterable, default=None
        5-fold by default: stratified for labels, plain ``KFold`` for target
        matrices.  At least 2 folds.
    scoring : str or callable, default="neg_log_loss"
        Any scikit-learn or skxent scorer name (``"neg_cross_entropy_bits"``,
        ...), or a scorer callable.  For target matrices (soft or multilabel),
        ``"neg_log_loss"`` means the cross entropy (``"neg_cross_entropy"``,
        or ``"neg_binary_cross_entropy"`` for multilabel), which is the log
        loss generalised: scikit-learn's ``log_loss`` rejects soft targets and
        misses a term on indicator matrices.
    solver : str, default="auto"
        One of ``"auto"``, ``"lbfgs"``, ``"newton-cg"``, ``"newton-cholesky"``,
        ``"newton-cd"``: the solver of every fit of the path (see
        ``CrossEntropyClassifier``; ``"auto"`` picks ``"newton-cd"`` for the
        ``l1_ratios`` above 0).
    tol : float, default=1e-4
    max_iter : int, default=100
        Iterations per fit of the path.
    class_weight : dict, "balanced" or None, default=None
        ``"balanced"`` weights are computed on all of ``y``, as
        ``LogisticRegressionCV`` does.
    n_jobs : int, default=None
        Threads for the folds and ``l1_ratios`` (joblib's ``n_jobs``).
    verbose : int, default=0
    refit : bool, default=True
        Refit at the best ``C`` and ``l1_ratio`` on all the data; if False,
        average the folds' coefficients at each fold's best values (and
        ``C_``, ``l1_ratio_`` are the means of those values).
    random_state : None
        Unused (the solvers are deterministic); kept for
        ``LogisticRegressionCV``'s interface.
    label_smoothing : float in [0, 1), default=0.0
    multilabel : bool, default=False

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    Cs_ : ndarray of shape (n_cs,)
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
    C_ : float
        The chosen ``C``.
    l1_ratio_ : float
        The chosen ``l1_ratio``.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    scores_ : ndarray of shape (n_folds, n_l1_ratios, n_cs)
        The score of every fit on its fold's test part (greater is better).
    coefs_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_cs, n_outputs, n_dof)
        The coefficients of every fit, the intercept last when fitted
        (``n_dof = n_features + fit_intercept``; ``n_outputs`` is 1 for a
        binary problem).
    n_iter_ : ndarray of shape (n_folds, n_l1_ratios, n_cs)
    cv_results_ : dict of ndarray
        One entry per candidate ``(l1_ratio, C)``, ``GridSearchCV``-style:
        ``param_C``, ``param_l1_ratio``, ``params``, ``split{k}_test_score``,
        ``mean_test_score``, ``std_test_score``, ``rank_test_score``,
        ``mean_fit_time``, ``std_fit_time``; ``pandas.DataFrame(cv_results_)``
        makes a table of it.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    sklearn.linear_model.LogisticRegressionCV : The same search, for hard labels.
    skxent.cross_entropy_path : The path of one data set.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skxent import CrossEntropyClassifierCV
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = CrossEntropyClassifierCV(Cs=5, scoring="neg_cross_entropy_bits").fit(X, y)
    >>> clf.C_, clf.scores_.shape
    (100.0, (5, 1, 5))
    """

    _parameter_constraints: dict = {
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l1_ratios": ["array-like"],
        "fit_intercept": ["boolean"],
        "cv": ["cv_object"],
        "scoring": [str, callable],
        "solver": [StrOptions({"auto", "lbfgs", "newton-cg", "newton-cholesky", "newton-cd"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "refit": ["boolean"],
        "random_state": ["random_state"],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "multilabel": ["boolean"],
    }

    def __init__(
        self,
        *,
        Cs=10,
        l1_ratios=(0.0,),
        fit_intercept=True,
        cv=None,
        scoring="neg_log_loss",
        solver="auto",
        tol=1e-4,
        max_iter=100,
        class_weight=None,
        n_jobs=None,
        verbose=0,
        refit=True,
        random_state=None,
        label_smoothing=0.0,
        multilabel=False,
    ):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.scoring = scoring
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.refit = refit
        self.random_state = random_state
        self.label_smoothing = label_smoothing
        self.multilabel = multilabel

    # -- scoring and routing ---------------------------------------------------

    def _scoring_name(self, y=None):
        """The scorer name or callable, with "neg_log_loss" generalised for matrices."""
        scoring = self.scoring
        if scoring == "neg_log_loss" and y is not None and y.ndim == 2:
            return "neg_binary_cross_entropy" if self.multilabel else "neg_cross_entropy"
        return scoring

    def _get_scorer(self, y=None):
        from .scorers import get_scorer

        scoring = self._scoring_name(y)
        if callable(scoring):
            return scoring
        try:
            return get_scorer(scoring)
        except ValueError as exc:
            raise ValueError(f"scoring={scoring!r} is not a scorer name: {exc}") from None

    def get_metadata_routing(self):
        """Metadata routing: ``sample_weight`` to ``fit`` and to the scorer.

        Returns
        -------
        routing : MetadataRouter
        """
        from sklearn.model_selection import check_cv
        from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping

        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                splitter=self.cv if hasattr(self.cv, "split") else check_cv(self.cv),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
            .add(
                scorer=self._get_scorer(),
                method_mapping=MethodMapping()
                .add(caller="score", callee="score")
                .add(caller="fit", callee="score"),
            )
        )

    def _routed(self, method, sample_weight, params):
        from sklearn.utils.metadata_routing import _routing_enabled, process_routing

        if _routing_enabled():
            if sample_weight is not None:
                params = {**params, "sample_weight": sample_weight}
            return process_routing(self, method, **params)
        from sklearn.utils.metadata_routing import _raise_for_params

        _raise_for_params(params, self, method)
        score = {} if sample_weight is None else {"sample_weight": sample_weight}
        return _ManualRouting(splitter={}, scorer=score)

    # -- fitting ------------------------------------------------------------------

    def _check_cv(self, y):
        from sklearn.model_selection import check_cv

        if isinstance(self.cv, Integral) and self.cv < 2:
            raise ValueError(f"cv must be at least 2 folds; got cv={self.cv}")
        labels = y.ndim == 1
        cv = check_cv(self.cv, y if labels else np.zeros(y.shape[0]), classifier=labels)
        return cv

    @_fit_context(prefer_skip_nested_validation=True)
    @_keep_fitted_state_on_failure
    def fit(self, X, y, sample_weight=None, **params):
        """Fit the path on every fold, choose ``C`` (and ``l1_ratio``), refit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Labels, a matrix of target probabilities, or with ``multilabel``
            an indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the fits and, as ``LogisticRegressionCV`` does, of the
            scores (with metadata routing, where the scorer requests them).
        **params : dict
            With metadata routing enabled, parameters for the splitter and
            the scorer.

        Returns
        -------
        self : CrossEntropyClassifierCV
        """
        from joblib import Parallel, delayed, effective_n_jobs
        from threadpoolctl import threadpool_limits

        from . import loss as _loss
        from ._path import check_Cs, check_l1_ratios, fit_path, warn_unconverged

        X, y = validate_data(
            self, X, y, accept_sparse=_SPARSE, dtype=_DTYPES, multi_output=True, y_numeric=False
        )
        y = check_estimator_y(y, self.multilabel)
        Cs = check_Cs(self.Cs)
        l1_ratios = check_l1_ratios(self.l1_ratios)
        sw = _sample_weight_array(sample_weight, X.shape[0])
        sw_record = check_sample_weight(sw, X.shape[0])
        full = fit_targets(
            y, sample_weight=sw_record, class_weight=self.class_weight, multilabel=self.multilabel
        )
        self.classes_ = full.classes
        labels = y.ndim == 1
        # "balanced" weights come from all of y, and then are the same on every fold.
        class_weight = self.class_weight
        if class_weight is not None and labels:
            class_weight = dict(zip(full.classes.tolist(), full.class_weight.tolist()))
        elif isinstance(class_weight, str):
            class_weight = {0: full.class_weight[0], 1: full.class_weight[1]}
            if not self.multilabel:
                class_weight = dict(enumerate(full.class_weight.tolist()))

        routed = self._routed("fit", sw, params)
        cv = self._check_cv(y)
        folds = list(cv.split(X, y if labels else None, **routed.splitter.get("split", {})))
        scorer = _labelled_scorer(self._get_scorer(y), self.classes_ if labels else None)
        score_params = routed.scorer.get("score", {})
        n_workers = max(1, min(effective_n_jobs(self.n_jobs), len(folds) * len(l1_ratios)))
        n_threads = max(1, _loss.max_threads() // n_workers)

        def one(train, test, l1_ratio):
            fold_sw = None if sw is None else sw[train]
            record = check_sample_weight(fold_sw, len(train))
            targets = fit_targets(
                y[train], sample_weight=record, class_weight=class_weight,
                multilabel=self.multilabel, classes=self.classes_ if labels else None,
            )  # fmt: skip
            loss = LinearModelLoss.from_targets(
                X[train], targets, sample_weight=record, fit_intercept=self.fit_intercept,
                label_smoothing=self.label_smoothing, C=Cs[0], l1_ratio=l1_ratio,
                n_threads=n_threads, drop_empty_columns=False,
            )  # fmt: skip
            ws, n_iter, seconds, failed = fit_path(
                loss, Cs, l1_ratio=l1_ratio, solver=self.solver, tol=self.tol,
                max_iter=self.max_iter,
            )  # fmt: skip
            models = [loss.coef_intercept(w) for w in ws]
            test_params = _check_method_params(X, params=score_params, indices=test)
            X_test, y_test = X[test], y[test]  # once per fold, not once per C
            scores = [
                scorer(self._model(coef, b, X_test), X_test, y_test, **test_params)
                for coef, b in models
            ]
            return models, scores, n_iter, seconds, failed

        with threadpool_limits(limits=1, user_api="blas"):
            results = Parallel(n_jobs=n_workers, prefer="threads", verbose=self.verbose)(
                delayed(one)(train, test, r) for train, test in folds for r in l1_ratios
            )
        n_folds, n_l1, n_cs = len(folds), len(l1_ratios), len(Cs)
        shape = (n_folds, n_l1, n_cs)
        self.Cs_, self.l1_ratios_ = Cs, l1_ratios
        self.scores_ = np.array([r[1] for r in results], dtype=np.float64).reshape(shape)
        self.n_iter_ = np.array([r[2] for r in results], dtype=np.int32).reshape(shape)
        coefs = np.array([[c for c, _ in r[0]] for r in results]).reshape(*shape, -1, X.shape[1])
        intercepts = np.array([[b for _, b in r[0]] for r in results]).reshape(*shape, -1)
        paths = coefs
        if self.fit_intercept:
            paths = np.concatenate([coefs, intercepts[..., None]], axis=-1)
        self.coefs_paths_ = paths
        seconds = np.array([r[3] for r in results]).reshape(shape)
        warn_unconverged([f for r in results for f in r[4]])

        if self.refit:
            # The best (C, l1_ratio) by the sum over folds, ties to the first
            # in LogisticRegressionCV's order (C first, then l1_ratio).
            total = self.scores_.sum(axis=0).T  # (n_cs, n_l1)
            i_c, i_r = np.unravel_index(np.argmax(total), total.shape)
            self.C_, self.l1_ratio_ = float(Cs[i_c]), float(l1_ratios[i_r])
            loss = LinearModelLoss.from_targets(
                X, full, sample_weight=sw_record, fit_intercept=self.fit_intercept,
                label_smoothing=self.label_smoothing, C=self.C_, l1_ratio=self.l1_ratio_,
            )  # fmt: skip
            w0 = loss.pack(coefs[:, i_r, i_c].mean(axis=0), intercepts[:, i_r, i_c].mean(axis=0))
            ws, n_iter, _, failed = fit_path(
                loss, np.array([self.C_]), l1_ratio=self.l1_ratio_, solver=self.solver,
                tol=self.tol, max_iter=self.max_iter, w0=w0,
            )  # fmt: skip
            warn_unconverged(failed)
            self.coef_, self.intercept_ = loss.coef_intercept(ws[0])
        else:
            flat = self.scores_.transpose(0, 2, 1).reshape(n_folds, -1)  # C first
            best = [np.unravel_index(i, (n_cs, n_l1)) for i in np.argmax(flat, axis=1)]
            self.coef_ = np.mean([coefs[k, r, c] for k, (c, r) in enumerate(best)], axis=0)
            self.intercept_ = np.mean(
                [intercepts[k, r, c] for k, (c, r) in enumerate(best)], axis=0
            )
            self.coef_ = self.coef_.astype(coefs.dtype)
            self.C_ = float(np.mean([Cs[c] for c, _ in best]))
            self.l1_ratio_ = float(np.mean([l1_ratios[r] for _, r in best]))
        self.cv_results_ = _cv_results(self.scores_, seconds, Cs, l1_ratios)
        return self

    def _model(self, coef, intercept, trusted=None):
        """A fitted CrossEntropyClassifier holding one point of a path (for
        scorers); ``trusted``: the validated test rows of a fold, which its
        scores then take as they are."""
        model = _PathPoint(fit_intercept=self.fit_intercept, multilabel=self.multilabel)
        model._trusted = trusted
        model.classes_ = self.classes_
        model.coef_, model.intercept_ = coef, intercept
        model.n_features_in_ = self.n_features_in_
        return model

    def score(self, X, y, sample_weight=None, **score_params):
        """The ``scoring`` of the model on the given data (greater is better).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
        sample_weight : array-like of shape (n_samples,), default=None
        **score_params : dict
            With metadata routing enabled, parameters for the scorer.

        Returns
        -------
        score : float
        """
        routed = self._routed("score", sample_weight, score_params)
        y_arr = np.asarray(y) if not sparse.issparse(y) else y.toarray()
        scorer = _labelled_scorer(self._get_scorer(y_arr), self.classes_)
        return scorer(self, X, y, **routed.scorer.get("score", {}))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = bool(self.multilabel)
        if self.multilabel:
            tags.target_tags.multi_output = True
        return tags


class _ManualRouting(dict):
    """Routed parameters without metadata routing: attribute access to dicts."""

    def __init__(self, splitter, scorer):
        super().__init__(splitter={"split": splitter}, scorer={"score": scorer})
        self.splitter = self["splitter"]
        self.scorer = self["scorer"]


def _sample_weight_array(sample_weight, n_samples):
    if sample_weight is None:
        return None
    sample_weight = np.asarray(sample_weight)
    if sample_weight.ndim == 0:
        return np.full(n_samples, sample_weight, dtype=np.float64)
    return sample_weight


def _cv_results(scores, seconds, Cs, l1_ratios):
    """``GridSearchCV``-style results: one entry per candidate (l1_ratio, C)."""
    n_folds = scores.shape[0]
    per_candidate = scores.reshape(n_folds, -1)  # l1_ratio major, then C
    times = seconds.reshape(n_folds, -1)
    mean = per_candidate.mean(axis=0)
    results = {
        "param_C": np.tile(Cs, len(l1_ratios)),
        "param_l1_ratio": np.repeat(l1_ratios, len(Cs)),
    }
    results["params"] = [
        {"C": float(c), "l1_ratio": float(r)}
        for c, r in zip(results["param_C"], results["param_l1_ratio"])
    ]
    for k in range(n_folds):
        results[f"split{k}_test_score"] = per_candidate[k]
    results["mean_test_score"] = mean
    results["std_test_score"] = per_candidate.std(axis=0)
    # Ranks as GridSearchCV gives them: 1 is best, ties share the lowest rank.
    order = np.argsort(-mean, kind="stable")
    ranks = np.empty(mean.shape[0], dtype=np.int32)
    ranks[order] = np.arange(1, mean.shape[0] + 1)
    for value in np.unique(mean):
        tied = mean == value
        ranks[tied] = ranks[tied].min()
    results["rank_test_score"] = ranks
    results["mean_fit_time"] = times.mean(axis=0)
    results["std_fit_time"] = times.std(axis=0)
    return results
