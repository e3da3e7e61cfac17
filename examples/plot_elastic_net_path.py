"""
=================================================
Elastic-net regularisation path and its sparsity
=================================================

With ``l1_ratio > 0``, :class:`~skxent.CrossEntropyClassifier` adds an L1 part
to its penalty, ``C sum_i s_i l_i + (1 - l1_ratio)/2 ||W||^2 + l1_ratio ||W||_1``
(``LogisticRegression``'s objective since scikit-learn 1.8), and its solver
``newton-cd`` puts coefficients at exactly 0.0 where the optimality conditions
ask for it.  Here a multinomial model (the full softmax, not one-vs-rest) is
fitted for a range of ``C``, each fit starting from the previous one
(``warm_start``): the coefficients enter the model one after the other as the
penalty weakens.
"""

# %%
# A 4-class problem with a few informative features among noise.

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from skxent import CrossEntropyClassifier

X, y = make_classification(
    n_samples=2000, n_features=30, n_informative=6, n_redundant=2, n_classes=4,
    n_clusters_per_class=1, random_state=0,
)  # fmt: skip
X = StandardScaler().fit_transform(X)

# %%
# The path, from the strongest penalty to the weakest, for the lasso
# (``l1_ratio=1``) and an elastic net (``l1_ratio=0.5``).

Cs = np.logspace(-3, 0, 25)
paths = {}
for l1_ratio in (1.0, 0.5):
    clf = CrossEntropyClassifier(l1_ratio=l1_ratio, warm_start=True, tol=1e-6)
    coefs, zeros = [], []
    t0 = time.perf_counter()
    for C in Cs:
        clf.set_params(C=C).fit(X, y)
        coefs.append(clf.coef_.copy())
        zeros.append(np.mean(clf.coef_ == 0.0))
    paths[l1_ratio] = (np.array(coefs), np.array(zeros))
    print(
        f"l1_ratio={l1_ratio}: {len(Cs)} fits in {time.perf_counter() - t0:.2f} s; "
        f"at C={Cs[-1]:g}, {100 * zeros[-1]:.0f}% of the coefficients are exactly 0"
    )

# %%
# Each line is one coefficient (feature and class) against ``C``; the lower
# panel shows the share of coefficients that are exactly zero.

fig, axes = plt.subplots(2, 2, figsize=(10, 6), sharex=True, height_ratios=[3, 1])
for col, (l1_ratio, (coefs, zeros)) in enumerate(paths.items()):
    ax = axes[0, col]
    ax.semilogx(Cs, coefs.reshape(len(Cs), -1), linewidth=0.8)
    ax.set_title(f"l1_ratio = {l1_ratio}")
    ax.set_ylabel("coefficient")
    axes[1, col].semilogx(Cs, 100 * zeros, color="k")
    axes[1, col].set_ylabel("% exactly 0")
    axes[1, col].set_xlabel("C")
fig.tight_layout()
plt.show()
