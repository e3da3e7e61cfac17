"""
===========================================
The seed's example: one sigmoid, two points
===========================================

The tutorial this project grew from ends with a Keras snippet: a network of
a single sigmoid unit, inputs ``X = [[0], [1]]``, targets ``y = [0, 1]``, the
``binary_crossentropy`` loss and the Adam optimiser for 200 epochs.  In
scikit-learn terms that is a logistic regression without penalty, and
:class:`~skxent.CrossEntropyClassifier` does the job — with the same
optimiser, epoch by epoch, and with the exact solvers that make 200 epochs
unnecessary.
"""

# %%
# The Keras recipe, in scikit-learn
# ---------------------------------
# ``solver="adam"`` with ``C=np.inf`` (Keras adds no penalty).  Each call to
# ``partial_fit`` is one epoch, so the training loss can be recorded after
# every epoch; :func:`~skxent.metrics.binary_cross_entropy` is Keras's
# ``binary_crossentropy``.

import matplotlib.pyplot as plt
import numpy as np

from skxent import CrossEntropyClassifier
from skxent.metrics import binary_cross_entropy

X = np.array([[0.0], [1.0]])
y = np.array([0, 1])
epochs = np.arange(1, 201)

curves, snapshots = {}, {}
for solver in ("adam", "sgd"):
    clf = CrossEntropyClassifier(solver=solver, C=np.inf, random_state=0)
    curves[solver] = []
    for epoch in epochs:
        clf.partial_fit(X, y, classes=[0, 1])
        curves[solver].append(binary_cross_entropy(y, clf.predict_proba(X)[:, 1]))
        if solver == "adam" and epoch in (1, 20, 50, 200):
            snapshots[f"Adam, epoch {epoch}"] = (clf.coef_[0, 0], clf.intercept_[0])
    print(
        f"{solver:4s} after 200 epochs: loss {curves[solver][-1]:.4f} nats, "
        f"w = {clf.coef_[0, 0]:.3f}, b = {clf.intercept_[0]:.3f}"
    )

# %%
# The exact solvers
# -----------------
# On two points, the whole data set is one batch, and a Newton method needs a
# handful of iterations.  Without penalty, though, there is no minimum: the
# two points are separable, and the loss keeps falling towards 0 as the weight
# grows without bound.  The solver stops when the gradient is below ``tol``.
# The default penalty (``C=1``) gives the problem a unique, finite solution,
# at the price of a higher training loss — the usual trade.

exact = CrossEntropyClassifier(C=np.inf).fit(X, y)
regularised = CrossEntropyClassifier(C=1.0).fit(X, y)
for name, clf in (("no penalty", exact), ("C=1", regularised)):
    loss = binary_cross_entropy(y, clf.predict_proba(X)[:, 1])
    print(
        f"{name:10s}: {clf.n_iter_[0]} iterations, loss {loss:.2e} nats, "
        f"w = {clf.coef_[0, 0]:.3f}, b = {clf.intercept_[0]:.3f}"
    )
    snapshots[f"Newton, {name}"] = (clf.coef_[0, 0], clf.intercept_[0])

print(regularised.predict(X), regularised.predict_proba(X).round(3))

# %%
# Loss curves and the fitted sigmoids
# -----------------------------------

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
left.plot(epochs, curves["adam"], label="Adam (the tutorial's choice)")
left.plot(epochs, curves["sgd"], label="SGD")
left.axhline(np.log(2), color="gray", linestyle=":", label="ln 2: w = b = 0")
left.set_yscale("log")
left.set_xlabel("epoch")
left.set_ylabel("training binary cross entropy (nats)")
left.set_title("Training loss, no penalty")
left.legend(fontsize=8)

x = np.linspace(-1, 2, 200)
for name, (w, b) in snapshots.items():
    style = "--" if name.startswith("Newton") else "-"
    right.plot(x, 1 / (1 + np.exp(-(w * x + b))), style, label=name)
right.plot(X[:, 0], y, "ko", markersize=8, label="the two points")
right.set_xlabel("x")
right.set_ylabel("P(y = 1 | x)")
right.set_title("The fitted sigmoid")
right.legend(fontsize=8)
plt.show()

# %%
# At :math:`w = b = 0` the model says 1/2 for both points and the loss is
# :math:`\ln 2` nats — one bit, the seed's worked example again.  Training
# drives the loss down by sharpening the sigmoid, without limit: the
# probability of each point's class approaches 1 and the loss approaches 0
# but never reaches it.  Cross entropy is zero only for a certain, correct
# prediction — a one-hot target predicted exactly — not "when the two
# distributions are equal" in general.
