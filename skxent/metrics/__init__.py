"""Cross-entropy metrics: a drop-in ``log_loss`` and the correct generalisations.

Every function takes array-likes and returns a Python float, or a 1-D array for
``reduction="none"``.  Shared keywords mean the same everywhere:

- ``sample_weight`` (n,): weighted mean (``"mean"``) or weighted sum (``"sum"``).
- ``base``: None for nats, 2 for bits, any positive number other than 1.
- ``reduction``: ``"mean"`` (default), ``"sum"`` or ``"none"`` (per-sample
  values, times the sample weights when given, so that they add up to ``"sum"``).
- ``from_logits``: the prediction is raw scores; a stable log-softmax /
  log-sigmoid is used, never ``log(softmax(z))``.
- ``label_smoothing`` ε in [0, 1): the target becomes (1 − ε) t + ε / k.
- ``class_weight`` (k,): weights each class's term inside the sum,
  ℓ_i = −Σ_c w_c t_ic log q_ic; reductions never renormalise by it.
- ``eps``: ``"auto"`` clips probabilities to [eps, 1 − eps] with eps the
  dtype's machine epsilon (scikit-learn's behaviour); 0 means no clipping, so
  a zero probability on an observed class gives ``inf``.

The package has one module per job: the cross-entropy family
(``_cross_entropy``), entropy and divergences (``_information``), the
``log_loss`` drop-in (``_log_loss``), reductions (``_reductions``) and the
report of every metric of a table of predictions (``_report``).
"""

from ._cross_entropy import binary_cross_entropy, cross_entropy, focal_cross_entropy, perplexity
from ._information import entropy, kl_divergence
from ._log_loss import log_loss
from ._report import score_predictions

__all__ = [
    "log_loss",
    "cross_entropy",
    "binary_cross_entropy",
    "focal_cross_entropy",
    "entropy",
    "kl_divergence",
    "perplexity",
    "score_predictions",
]

# The public names live here: that is where their docs, reprs and pickles say
# they come from.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
