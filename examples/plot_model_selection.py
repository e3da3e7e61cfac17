"""
==========================================
Model selection with cross-entropy scorers
==========================================

Accuracy counts right and wrong answers; cross entropy scores the
probabilities.  It is a *strictly proper* scoring rule — a model cannot
improve its expected score by reporting anything other than its honest
probabilities — so it is the natural criterion to tune a probabilistic
classifier.

Importing skxent makes its scorers available by name wherever scikit-learn
takes ``scoring=``.  This example tunes the regularisation of a
:class:`~skxent.CrossEntropyClassifier` in a :class:`~sklearn.pipeline.Pipeline`
with :class:`~sklearn.model_selection.GridSearchCV`, records several scores at
once, and refits on the cross entropy.
"""

# %%
# Data and model
# --------------
# The handwritten digits that ship with scikit-learn: 1,797 images of 8×8
# pixels, 10 classes.  A quarter is held out for the final evaluation.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import skxent  # noqa: F401 -- registers "neg_cross_entropy" and friends
from skxent import CrossEntropyClassifier
from skxent.metrics import cross_entropy, log_loss, perplexity

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
model = Pipeline([("scale", StandardScaler()), ("clf", CrossEntropyClassifier())])

# %%
# The search
# ----------
# Several scorers at once, skxent's names next to scikit-learn's.  ``refit``
# names the one that chooses the model.

search = GridSearchCV(
    model,
    {"clf__C": np.logspace(-3, 2, 11)},
    scoring=["neg_cross_entropy", "neg_cross_entropy_bits", "neg_log_loss", "accuracy"],
    refit="neg_cross_entropy",
    cv=StratifiedKFold(5, shuffle=True, random_state=0),
)
search.fit(X_train, y_train)
print("best C by cross entropy:", search.best_params_["clf__C"])

# %%
# On hard labels, ``neg_cross_entropy`` is scikit-learn's ``neg_log_loss``
# (skxent's scorers also pass the estimator's ``classes_``, so a fold that
# misses a class is scored correctly), and the bits are the nats divided by
# :math:`\ln 2`:

res = search.cv_results_
print(np.allclose(res["mean_test_neg_cross_entropy"], res["mean_test_neg_log_loss"]))
print(
    np.allclose(
        res["mean_test_neg_cross_entropy_bits"], res["mean_test_neg_cross_entropy"] / np.log(2)
    )
)

# %%
# Cross entropy and accuracy do not agree
# ---------------------------------------
# Both criteria dislike strong regularisation.  Beyond that, accuracy barely
# moves — the most probable class rarely changes — while the cross entropy
# keeps reacting: too little regularisation makes the model overconfident,
# and a confident mistake costs many bits.  The two criteria need not pick
# the same ``C``; the cross entropy picks the model whose *probabilities* are
# best.

C = res["param_clf__C"].data.astype(float)
bits = -res["mean_test_neg_cross_entropy_bits"]
bits_std = res["std_test_neg_cross_entropy_bits"]
accuracy = res["mean_test_accuracy"]

fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
ax.semilogx(C, bits, "o-", color="tab:blue", label="cross entropy (bits)")
ax.fill_between(C, bits - bits_std, bits + bits_std, color="tab:blue", alpha=0.2)
ax.axvline(C[np.argmin(bits)], color="tab:blue", linestyle=":", label="best by cross entropy")
ax.set_xlabel("C (inverse regularisation strength)")
ax.set_ylabel("cross-validated cross entropy (bits / sample)", color="tab:blue")
ax2 = ax.twinx()
ax2.semilogx(C, accuracy, "s-", color="tab:orange", label="accuracy")
ax2.axvline(C[np.argmax(accuracy)], color="tab:orange", linestyle=":", label="best by accuracy")
ax2.set_ylabel("cross-validated accuracy", color="tab:orange")
handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
ax2.legend(handles=handles, loc="center right", fontsize=8)
ax.set_title("Tuning C: cross entropy against accuracy")
plt.show()

# %%
# The refitted model on held-out data
# -----------------------------------
# ``best_estimator_`` was refitted on the whole training set with the ``C``
# chosen by cross entropy.  skxent's metrics describe its probabilities on the
# test set from several angles.

proba = search.predict_proba(X_test)
print(f"cross entropy: {cross_entropy(y_test, proba):.4f} nats")
print(f"             = {cross_entropy(y_test, proba, base=2):.4f} bits")
print(f"log_loss:      {log_loss(y_test, proba):.4f} nats (scikit-learn's name)")
print(f"perplexity:    {perplexity(y_test, proba):.4f} (effective number of classes)")
print(f"accuracy:      {np.mean(search.predict(X_test) == y_test):.4f}")
print(
    f"search.score:  {search.score(X_test, y_test):.4f} (the refit scorer: minus the cross entropy)"
)

# %%
# The same search works unchanged with
# :class:`~sklearn.linear_model.LogisticRegression` in place of the
# classifier; ``CrossEntropyClassifier`` reaches the same model (it minimises
# the same objective) and adds soft targets, label smoothing and
# ``partial_fit``.
