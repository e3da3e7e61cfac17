"""skxent: cross entropy for scikit-learn.

A fast, exact Cython core for the loss, its gradient and Hessian-vector
products (:mod:`skxent.loss`), and the metrics built on it
(:mod:`skxent.metrics`): a drop-in ``log_loss`` and ``cross_entropy`` with soft
targets, logits, label smoothing, class and sample weights and bits.  Importing
skxent registers its scorers (:mod:`skxent.scorers`) with scikit-learn, so that
``scoring="neg_cross_entropy"`` works in ``GridSearchCV`` and friends.
:class:`CrossEntropyClassifier` is a linear classifier fitted by minimising
cross entropy: ``LogisticRegression``'s objective, faster, with soft targets,
label smoothing, multilabel and ``partial_fit``.
"""

from . import loss, metrics, scorers
from ._config import show_config
from ._path import cross_entropy_path
from .classifier import CrossEntropyClassifier, CrossEntropyClassifierCV
from .scorers import patch_sklearn, unpatch_sklearn

__version__ = "0.1.0.dev0"

__all__ = [
    "CrossEntropyClassifier",
    "CrossEntropyClassifierCV",
    "cross_entropy_path",
    "loss",
    "metrics",
    "patch_sklearn",
    "scorers",
    "show_config",
    "unpatch_sklearn",
    "__version__",
]
