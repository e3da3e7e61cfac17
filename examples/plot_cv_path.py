"""
===============================================
Choosing C: cross entropy on the folds, in bits
===============================================

:class:`~skxent.CrossEntropyClassifierCV` fits, on every fold, the whole path
of ``C`` from the strongest penalty to the weakest, each fit starting from the
previous one, and scores each point on the fold's held-out part with any
scorer: here skxent's ``neg_cross_entropy_bits``, the test cross entropy in
bits per sample.  The chosen ``C`` minimises its mean over the folds, and the
model is refitted there on all the data.
"""

# %%
# Digits, standardised: 10 classes, 64 features.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from skxent import CrossEntropyClassifierCV

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)

clf = CrossEntropyClassifierCV(Cs=np.logspace(-4, 2, 13), cv=5, scoring="neg_cross_entropy_bits")
clf.fit(X, y)
print(f"chosen C = {clf.C_:.3g}")

# %%
# The folds' cross entropy against ``C`` (the scores are negated cross
# entropies: greater is better), and the path of the coefficients of one fold.

bits = -clf.scores_[:, 0, :]  # (n_folds, n_cs)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.semilogx(clf.Cs_, bits.T, color="0.7", linewidth=0.8)
left.semilogx(clf.Cs_, bits.mean(axis=0), color="C0", linewidth=2, label="mean over folds")
left.axvline(clf.C_, color="C3", linestyle="--", label=f"chosen C = {clf.C_:.3g}")
left.set_xlabel("C")
left.set_ylabel("test cross entropy (bits per sample)")
left.legend()

path = clf.coefs_paths_[0, 0, :, :, :-1]  # fold 0: (n_cs, n_classes, n_features)
right.semilogx(clf.Cs_, path.reshape(len(clf.Cs_), -1), linewidth=0.5)
right.axvline(clf.C_, color="C3", linestyle="--")
right.set_xlabel("C")
right.set_ylabel("coefficient (fold 0)")
fig.tight_layout()
plt.show()

# %%
# ``cv_results_`` is a dict of arrays, as ``GridSearchCV`` makes it
# (``pandas.DataFrame(clf.cv_results_)`` turns it into a table).

results = clf.cv_results_
for i in np.argsort(results["rank_test_score"])[:4]:
    print(
        f"rank {results['rank_test_score'][i]}: C = {results['param_C'][i]:.3g}, "
        f"{-results['mean_test_score'][i]:.4f} ± {results['std_test_score'][i]:.4f} bits"
    )
