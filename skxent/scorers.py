"""Scorers: skxent's metrics by name, wherever scikit-learn takes ``scoring=``.

Every scorer here is a loss, so its name starts with ``neg_`` and it returns
minus the metric (greater is better, as model selection expects).  Scorers use
``predict_proba`` (``decision_function`` for the ``*_logits`` ones) and pass the
estimator's ``classes_`` to the metric as ``labels``, so a cross-validation fold
whose test part misses a class still scores correctly.

Importing skxent registers these names with scikit-learn, so that
``GridSearchCV(..., scoring="neg_cross_entropy")``, ``cross_validate`` with
lists or dicts of names, and ``refit="neg_cross_entropy"`` work.  Where the
installed scikit-learn cannot take them, the import warns once and
:func:`get_scorer` / :func:`scoring` still work.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.model_selection import cross_val_score
>>> import skxent
>>> X, y = load_iris(return_X_y=True)
>>> scores = cross_val_score(LogisticRegression(max_iter=1000), X, y,
...                          scoring="neg_cross_entropy_bits", cv=3)
>>> bool((scores < 0).all())
True
"""

import copy
import functools
import importlib.abc
import importlib.util
import inspect
import sys
import warnings

import numpy as np
from sklearn.metrics import get_scorer as _sk_get_scorer
from sklearn.metrics import get_scorer_names as _sk_get_scorer_names
from sklearn.metrics import make_scorer
from sklearn.metrics._scorer import _BaseScorer, _Scorer

from . import metrics
from ._validation import encode_labels

__all__ = [
    "get_scorer",
    "get_scorer_names",
    "patch_sklearn",
    "register",
    "scoring",
    "unpatch_sklearn",
]


class _LabelledScorer(_Scorer):
    """A scorer that gives the metric the estimator's ``classes_`` as ``labels``.

    Without them, a metric sees only the labels present in one fold's ``y`` and
    cannot tell which column of ``predict_proba`` is which.
    """

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        classes = getattr(estimator, "classes_", None)
        if classes is not None and "labels" not in self._kwargs:
            kwargs = {**kwargs, "labels": classes}
        return super()._score(method_caller, estimator, X, y_true, **kwargs)


def _one_hot(y_true, labels, n_classes):
    """Target matrix of 1-D labels (mapped through ``labels``), or a given matrix."""
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.astype(np.float64)
    codes = encode_labels(y, classes=labels, n_classes=n_classes).codes
    target = np.zeros((codes.shape[0], n_classes))
    target[np.arange(codes.shape[0]), codes] = 1.0
    return target


def _as_columns(y_pred):
    """predict_proba output as (n, k): 1-D is the positive class of a binary problem."""
    q = np.asarray(y_pred, dtype=np.float64)
    return np.column_stack([1 - q, q]) if q.ndim == 1 else q


def binary_cross_entropy_score(y_true, y_pred, *, labels=None, sample_weight=None, **kwargs):
    """:func:`skxent.metrics.binary_cross_entropy` of a classifier's output.

    Binary labels become 0/1 targets through ``labels`` (the last one is the
    positive class, as in ``predict_proba``); a multilabel indicator matrix is
    used as it is, and a list of per-label ``predict_proba`` arrays (as
    ``MultiOutputClassifier`` returns) is reduced to the positive columns.
    """
    if isinstance(y_pred, list):
        y_pred = np.column_stack([np.asarray(p)[:, -1] for p in y_pred])
    y = np.asarray(y_true)
    pred = np.asarray(y_pred, dtype=np.float64)
    if y.ndim == 1:
        enc = encode_labels(y, classes=labels)
        if enc.classes.shape[0] != 2:
            raise ValueError(
                "binary_cross_entropy scores a binary or multilabel problem; "
                f"got {enc.classes.shape[0]} classes"
            )
        y = enc.codes.astype(np.float64)
        if pred.ndim == 2:
            pred = pred[:, -1]
    return metrics.binary_cross_entropy(y, pred, sample_weight=sample_weight, **kwargs)


def kl_divergence_score(y_true, y_pred, *, labels=None, sample_weight=None, eps="auto"):
    """Mean D(t‖q) of targets against ``predict_proba``, weighted by samples.

    For hard labels D(onehot‖q) = −log q_y, the cross entropy; for soft targets
    it is the cross entropy less the targets' entropy.  ``eps="auto"`` clips q
    as :func:`skxent.metrics.cross_entropy` does.
    """
    from ._validation import check_sample_weight
    from .metrics._reductions import reduce

    q = _as_columns(y_pred)
    target = _one_hot(y_true, labels, q.shape[1])
    clip = float(np.finfo(np.float64).eps) if eps == "auto" else eps
    per_sample = metrics.kl_divergence(target, q, eps=clip)
    sw = check_sample_weight(sample_weight, per_sample.shape[0])
    return reduce(per_sample, sw, "mean", 1.0)


_BUILTIN = {
    "neg_cross_entropy": (metrics.cross_entropy, "predict_proba", {}),
    "neg_cross_entropy_bits": (metrics.cross_entropy, "predict_proba", {"base": 2}),
    "neg_cross_entropy_logits": (
        metrics.cross_entropy,
        "decision_function",
        {"from_logits": True},
    ),
    "neg_binary_cross_entropy": (binary_cross_entropy_score, "predict_proba", {}),
    "neg_kl_divergence": (kl_divergence_score, "predict_proba", {}),
    "neg_perplexity": (metrics.perplexity, "predict_proba", {}),
    "neg_focal_cross_entropy": (metrics.focal_cross_entropy, "predict_proba", {}),
}

_REGISTRY = {
    name: _LabelledScorer(func, -1, kwargs, response_method)
    for name, (func, response_method, kwargs) in _BUILTIN.items()
}


def get_scorer(name):
    """Return a fresh scorer for ``name``: skxent's names and every scikit-learn name.

    Parameters
    ----------
    name : str or callable
        A scorer name; a callable is returned as it is.

    Returns
    -------
    scorer : callable ``scorer(estimator, X, y, sample_weight=None)``

    Examples
    --------
    >>> from skxent.scorers import get_scorer
    >>> get_scorer("neg_cross_entropy")
    make_scorer(cross_entropy, greater_is_better=False, response_method='predict_proba')
    """
    if isinstance(name, str) and name in _REGISTRY:
        return copy.deepcopy(_REGISTRY[name])
    return _sk_get_scorer(name)


def get_scorer_names():
    """All scorer names, skxent's and scikit-learn's, sorted.

    Examples
    --------
    >>> from skxent.scorers import get_scorer_names
    >>> "neg_cross_entropy" in get_scorer_names() and "accuracy" in get_scorer_names()
    True
    """
    return sorted(set(_sk_get_scorer_names()) | set(_REGISTRY))


def scoring(*names):
    """A dict of scorers, usable as ``scoring=`` with ``refit=name``.

    It relies on no registration inside scikit-learn.

    Examples
    --------
    >>> from skxent.scorers import scoring
    >>> sorted(scoring("neg_cross_entropy", "accuracy"))
    ['accuracy', 'neg_cross_entropy']
    """
    if not names:
        raise ValueError("scoring() needs at least one scorer name")
    return {name: get_scorer(name) for name in names}


def _takes_estimator(func):
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return False
    return bool(params) and params[0] == "estimator"


def register(name, scorer_or_metric, *, replace=False, **make_scorer_kwargs):
    """Add a user's own scorer under ``name``, usable as a string from then on.

    Parameters
    ----------
    name : str
    scorer_or_metric : callable
        A scorer (made by ``make_scorer``, or a callable whose first parameter
        is ``estimator``), or a metric ``f(y_true, y_pred, **kwargs)``, which
        is wrapped with ``make_scorer(f, **make_scorer_kwargs)``.
    replace : bool, default=False
        Allow replacing a name registered before (scikit-learn's own names are
        never replaced).
    **make_scorer_kwargs
        Passed to :func:`sklearn.metrics.make_scorer` for a metric.

    Returns
    -------
    scorer : the registered scorer

    Examples
    --------
    >>> from skxent.scorers import register, get_scorer
    >>> from skxent.metrics import cross_entropy
    >>> _ = register("neg_smoothed_ce", cross_entropy, greater_is_better=False,
    ...              response_method="predict_proba", label_smoothing=0.1)
    >>> get_scorer("neg_smoothed_ce")  # doctest: +ELLIPSIS
    make_scorer(cross_entropy, greater_is_better=False, ...label_smoothing=0.1)
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string; got {name!r}")
    if not callable(scorer_or_metric):
        raise TypeError(f"scorer_or_metric must be callable; got {scorer_or_metric!r}")
    if name in _sk_builtin_names() and name not in _REGISTRY:
        raise ValueError(f"{name!r} is a scikit-learn scorer name; choose another name")
    if name in _REGISTRY and not replace:
        raise ValueError(f"{name!r} is registered already; pass replace=True to replace it")
    if isinstance(scorer_or_metric, _BaseScorer) or _takes_estimator(scorer_or_metric):
        if make_scorer_kwargs:
            raise TypeError("make_scorer keywords apply to a metric, not to a scorer")
        scorer = scorer_or_metric
    else:
        scorer = make_scorer(scorer_or_metric, **make_scorer_kwargs)
    _REGISTRY[name] = scorer
    _install(names=[name])
    return scorer


_SK_NAMES = None


def _sk_builtin_names():
    global _SK_NAMES
    if _SK_NAMES is None:
        from sklearn.metrics import _scorer

        _SK_NAMES = set(_scorer._SCORERS) - set(_REGISTRY)
    return _SK_NAMES


# scikit-learn's ``scoring`` parameter constraints, found so far, and the
# modules already searched for them.
_CONSTRAINTS = {}
_SEARCHED = set()


def _scoring_options(constraints):
    """The StrOptions of scorer names among a table of parameter constraints."""
    from sklearn.utils._param_validation import StrOptions

    if not isinstance(constraints, dict):
        return
    for options in constraints.values():
        if not isinstance(options, list):
            continue
        for c in options:
            if type(c) is StrOptions and "neg_log_loss" in c.options and "accuracy" in c.options:
                yield c


def _find_constraints():
    """Add the scoring constraints of modules imported since the last search.

    A scoring constraint is ``StrOptions(set(get_scorer_names()))``, built when
    its module is imported; the modules that build one hold
    ``get_scorer_names`` in their namespace.  Their classes'
    ``_parameter_constraints`` and their functions'
    ``_skl_parameter_constraints`` (set by ``validate_params``) are searched.
    The cost grows with the number of modules, once each, not with the number
    of objects in the process.
    """
    for name, module in list(sys.modules.items()):
        if name in _SEARCHED:
            continue
        _SEARCHED.add(name)
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict) or "get_scorer_names" not in namespace:
            continue
        for value in list(namespace.values()):
            if isinstance(value, type):
                table = value.__dict__.get("_parameter_constraints")
            else:
                table = getattr(value, "_skl_parameter_constraints", None)
            for c in _scoring_options(table):
                _CONSTRAINTS[id(c)] = c


def _install(names=None):
    """Make skxent's names plain strings for scikit-learn; return True on success.

    Two things are needed (scikit-learn 1.6 to 1.9): the scorer table
    ``sklearn.metrics._scorer._SCORERS``, which ``get_scorer`` and
    ``get_scorer_names`` read, and the ``StrOptions`` parameter constraints
    that modules such as ``sklearn.model_selection`` build from
    ``get_scorer_names()`` when they are imported.  Modules imported after this
    see the names in the table; constraints built before are completed here.
    """
    from sklearn.metrics import _scorer

    _sk_builtin_names()
    names = list(_REGISTRY) if names is None else list(names)
    table = _scorer._SCORERS
    for name in names:
        table[name] = _REGISTRY[name]
    _find_constraints()
    for c in _CONSTRAINTS.values():
        c.options.update(names)
    return all(name in _sk_get_scorer_names() for name in names)


def _install_or_warn():
    try:
        ok = _install()
    except Exception as exc:  # noqa: BLE001 - any change in scikit-learn's internals
        ok = False
        reason = f"{type(exc).__name__}: {exc}"
    else:
        reason = "the names did not appear in sklearn.metrics.get_scorer_names()"
    if not ok:
        warnings.warn(
            "skxent could not register its scorers with the installed scikit-learn "
            f"({reason}); use skxent.scorers.get_scorer(name) or "
            "skxent.scorers.scoring(*names) instead of plain strings.",
            RuntimeWarning,
            stacklevel=3,
        )
    return ok


REGISTERED_WITH_SKLEARN = _install_or_warn()


# ---------------------------------------------------------------------------
# dask-ml: its wrappers score dask arrays with a scorer table of their own
# ---------------------------------------------------------------------------


def _metric_for_dask_ml(func, fixed, y_true, y_pred, compute=True, **kwargs):
    """A skxent metric as dask-ml's scorers call theirs (with ``compute=``).

    skxent's metrics reduce dask arrays block by block and return the number
    (``compute=False`` is not kept lazy).
    """
    return func(y_true, y_pred, **fixed, **kwargs)


def _register_with_dask_ml(module):
    """Add skxent's names to ``dask_ml.metrics.scorer.SCORERS``.

    dask-ml's ``Incremental`` and friends score dask input through that table
    (``get_scorer(name, compute=...)``) and refuse other names.
    """
    table = getattr(module, "SCORERS", None)
    if not isinstance(table, dict):
        return
    for name, (func, response_method, kwargs) in _BUILTIN.items():
        metric = functools.partial(_metric_for_dask_ml, func, dict(kwargs))
        metric.__name__ = getattr(func, "__name__", name)
        table[name] = (metric, {"greater_is_better": False, "response_method": response_method})


class _CallbackLoader(importlib.abc.Loader):
    """A loader that runs a callback once the module it loads is executed."""

    def __init__(self, loader, callback):
        self.loader = loader
        self.callback = callback

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        self.callback(module)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Run ``callback(module)`` when the module ``name`` is imported (once)."""

    def __init__(self, name, callback):
        self.name = name
        self.callback = callback
        self.searching = False

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name or self.searching:
            return None
        self.searching = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self.searching = False
        if spec is None or spec.loader is None:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec.loader = _CallbackLoader(spec.loader, self.callback)
        return spec


def _after_import(name, callback):
    """``callback(module)`` now if ``name`` is imported, else when it is."""
    module = sys.modules.get(name)
    if module is not None:
        callback(module)
    else:
        sys.meta_path.insert(0, _AfterImport(name, callback))


_after_import("dask_ml.metrics.scorer", _register_with_dask_ml)


# ---------------------------------------------------------------------------
# patch_sklearn: skxent's log_loss in scikit-learn's place
# ---------------------------------------------------------------------------

_PATCHED = {}


def patch_sklearn():
    """Make scikit-learn's ``log_loss`` and ``neg_log_loss`` scorer run on skxent's.

    As scikit-learn-intelex's ``patch_sklearn`` does for its algorithms:
    ``sklearn.metrics.log_loss`` (and the name in the modules that define and
    use it) becomes :func:`skxent.metrics.log_loss`, and the scorer behind
    ``scoring="neg_log_loss"`` calls it, so that existing code, including
    ``GridSearchCV``, ``cross_val_score`` and ``LogisticRegressionCV``
    scoring, gets faster untouched.  Values, errors and warnings are
    scikit-learn's (the drop-in hands anything unusual to scikit-learn's own
    function).  :func:`unpatch_sklearn` restores scikit-learn's.  Calling it
    twice is harmless.

    Returns
    -------
    patched : list of str
        The names now pointing at skxent's function.

    Examples
    --------
    >>> import sklearn.metrics
    >>> import skxent
    >>> patched = skxent.patch_sklearn()
    >>> patched[0], patched[-1]
    ('sklearn.metrics.log_loss', "scorer 'neg_log_loss'")
    >>> sklearn.metrics.log_loss is skxent.metrics.log_loss
    True
    >>> skxent.unpatch_sklearn()
    >>> sklearn.metrics.log_loss is skxent.metrics.log_loss
    False
    """
    import sklearn.metrics
    from sklearn.metrics import _classification, _scorer

    ours = metrics.log_loss
    modules = {
        "sklearn.metrics": sklearn.metrics,
        "sklearn.metrics._classification": _classification,
        "sklearn.metrics._scorer": _scorer,
    }
    names = []
    for module_name, module in modules.items():
        key = f"{module_name}.log_loss"
        if key not in _PATCHED:
            _PATCHED[key] = (module, module.log_loss)
        module.log_loss = ours
        names.append(key)
    scorer = _scorer._SCORERS["neg_log_loss"]
    if "scorer" not in _PATCHED:
        _PATCHED["scorer"] = (scorer, scorer._score_func)
    scorer._score_func = ours
    names.append("scorer 'neg_log_loss'")
    return names


def unpatch_sklearn():
    """Undo :func:`patch_sklearn`: scikit-learn's own ``log_loss`` everywhere again."""
    for key, (owner, original) in list(_PATCHED.items()):
        if key == "scorer":
            owner._score_func = original
        else:
            owner.log_loss = original
        del _PATCHED[key]
