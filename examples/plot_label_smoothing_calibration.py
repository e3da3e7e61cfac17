"""
===============================
Label smoothing and calibration
===============================

A classifier is *calibrated* when its probabilities can be taken at their
word: of the samples it gives 80%, about 80% are positive.  Cross entropy
rewards calibration, but minimising it on a small training set with little
regularisation gives an *overconfident* model: its training probabilities are
pushed towards 0 and 1, and on new data its confident mistakes are costly.

Label smoothing replaces the targets :math:`t` by
:math:`(1 - \\varepsilon)\\, t + \\varepsilon / k`.  The loss of a sample is
then smallest when the model gives its class :math:`1 - \\varepsilon / 2`
(for two classes) rather than 1: training stops pushing probabilities towards
0 and 1 at any price.

This example fits :class:`~skxent.CrossEntropyClassifier` with and without it,
draws reliability diagrams with :func:`sklearn.calibration.calibration_curve`,
and compares with the other cure, regularisation.
"""

# %%
# An overconfident model
# ----------------------
# 60 features of which 8 are informative, 400 training samples: with
# ``C=1e4`` (almost no penalty) the linear model can nearly separate the
# training data, and it believes itself.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.datasets import make_classification

from skxent import CrossEntropyClassifier
from skxent.metrics import cross_entropy

X, y = make_classification(
    n_samples=5400,
    n_features=60,
    n_informative=8,
    n_redundant=0,
    flip_y=0.02,
    class_sep=1.0,
    random_state=0,
)
X_train, y_train, X_test, y_test = X[:400], y[:400], X[400:], y[400:]

models = {
    "C=1e4": CrossEntropyClassifier(C=1e4),
    "C=1e4, label_smoothing=0.1": CrossEntropyClassifier(C=1e4, label_smoothing=0.1),
    "C=1e4, label_smoothing=0.3": CrossEntropyClassifier(C=1e4, label_smoothing=0.3),
    "C=0.1": CrossEntropyClassifier(C=0.1),
}
proba = {}
for name, clf in models.items():
    clf.fit(X_train, y_train)
    p = proba[name] = clf.predict_proba(X_test)[:, 1]
    print(
        f"{name:28s} cross entropy {cross_entropy(y_test, p):.3f} nats, "
        f"accuracy {clf.score(X_test, y_test):.3f}, "
        f"mean confidence {np.maximum(p, 1 - p).mean():.3f}"
    )

# %%
# For a calibrated model the mean confidence (the probability of the
# predicted class, averaged) matches the accuracy.  Without penalty or
# smoothing it is far above: the model is overconfident, and its cross
# entropy is high although its accuracy is not much worse.  Smoothing with
# :math:`\varepsilon = 0.1` brings the confidence down to the accuracy and
# cuts the cross entropy sharply; 0.3 takes it below, too far.  The models are
# always evaluated against the true labels, with the plain cross entropy:
# smoothing is a way to train, not a way to score.
#
# Reliability diagrams
# --------------------
# Each point is a bin of test samples: the mean predicted probability against
# the fraction of positives.  A calibrated model lies on the diagonal; an
# overconfident one lies below it on the right and above it on the left (an S
# lying on its side); an underconfident one the other way round.

fig, (ax, hist) = plt.subplots(
    2, 1, figsize=(6.5, 8), height_ratios=[3, 1], sharex=True, layout="constrained"
)
ax.plot([0, 1], [0, 1], color="black", linewidth=1, linestyle=":", label="calibrated")
for name, p in proba.items():
    frac_pos, mean_pred = calibration_curve(y_test, p, n_bins=10, strategy="quantile")
    ax.plot(mean_pred, frac_pos, "o-", label=name)
    hist.hist(p, bins=20, range=(0, 1), histtype="step", linewidth=1.5)
ax.set_ylabel("fraction of positives")
ax.set_title("Reliability diagram (test set)")
ax.legend(fontsize=8)
hist.set_xlabel("predicted probability of the positive class")
hist.set_ylabel("samples")
plt.show()

# %%
# The unregularised model's curve is the S of overconfidence, and its
# histogram is piled up at 0 and 1.  Smoothing straightens the curve;
# too much of it (0.3) overshoots into the mirror image, the S of
# underconfidence, with few predictions near 0 or 1.  The regularised model
# (``C=0.1``) is close to the diagonal without any smoothing.
#
# How much smoothing?
# -------------------
# The test cross entropy as a function of :math:`\varepsilon`, with almost no
# penalty and with a well-chosen one.  Smoothing is a regulariser: it helps
# the unregularised model a lot, and a model already regularised by ``C``
# needs little or none of it.

epsilons = np.array([0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4])
fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
for C in [1e4, 0.1]:
    curve = [
        cross_entropy(
            y_test,
            CrossEntropyClassifier(C=C, label_smoothing=eps)
            .fit(X_train, y_train)
            .predict_proba(X_test),
        )
        for eps in epsilons
    ]
    ax.plot(epsilons, curve, "o-", label=f"C={C:g}")
ax.set_xlabel("label smoothing ε")
ax.set_ylabel("test cross entropy (nats)")
ax.set_yscale("log")
ax.legend()
plt.show()

# %%
# Label smoothing is not free: it biases every probability towards
# :math:`1/k`, so a model that was already calibrated becomes underconfident.
# Choose :math:`\varepsilon` like any other regularisation parameter, by
# cross-validated cross entropy (see
# :ref:`sphx_glr_auto_examples_plot_model_selection.py`).
