"""
=====================================
Soft targets: knowledge distillation
=====================================

A large model (the *teacher*) is accurate but slow; a small one (the
*student*) is fast but learns less from the same labels.  Knowledge
distillation (Hinton, Vinyals and Dean, 2015) trains the student on the
teacher's predicted probabilities — *soft targets* — instead of, or as well
as, the hard labels.  A soft target says more than a label: not only which
class, but how sure, and which other class is plausible.

skxent handles soft targets throughout: :func:`~skxent.metrics.cross_entropy`
takes a target distribution per row, and
:class:`~skxent.CrossEntropyClassifier` fits one.  Here a random forest
teaches a linear model on cubic features, and the students are compared by
the cross entropy against the true labels and against the teacher.
"""

# %%
# Teacher
# -------
# Two interleaved half-moons with plenty of noise: the best possible
# classifier is far from certain near the boundary.  The teacher is a random
# forest of 200 trees fitted on 20,000 labelled points; a minimum leaf size
# keeps its probabilities smooth.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from skxent import CrossEntropyClassifier
from skxent.metrics import cross_entropy, entropy, kl_divergence

X, y = make_moons(n_samples=30_000, noise=0.35, random_state=0)
X_pool, y_pool = X[:20_000], y[:20_000]
X_test, y_test = X[20_000:], y[20_000:]

teacher = RandomForestClassifier(n_estimators=200, min_samples_leaf=30, random_state=0)
teacher.fit(X_pool, y_pool)
teacher_test = teacher.predict_proba(X_test)
print(
    f"teacher: cross entropy {cross_entropy(y_test, teacher_test):.4f} nats, "
    f"accuracy {teacher.score(X_test, y_test):.3f}"
)

# %%
# Students
# --------
# The student is a linear model on the cubic monomials of the two
# coordinates: ten features, a fraction of the forest's size.  Each student
# sees only ``n`` points of the pool.  The *hard* student learns from their
# labels; the *soft* student from the teacher's ``predict_proba`` on the same
# points — a (n, 2) matrix of target probabilities, passed as ``y``.


def student():
    return make_pipeline(PolynomialFeatures(3), StandardScaler(), CrossEntropyClassifier(C=10.0))


rng = np.random.default_rng(0)
sizes = [20, 50, 100, 200, 500, 1000]
repeats = 5
results = {kind: np.zeros((len(sizes), repeats, 3)) for kind in ("hard", "soft")}
for i, n in enumerate(sizes):
    for r in range(repeats):
        idx = rng.choice(len(y_pool), n, replace=False)
        targets = {"hard": y_pool[idx], "soft": teacher.predict_proba(X_pool[idx])}
        for kind, target in targets.items():
            proba = student().fit(X_pool[idx], target).predict_proba(X_test)
            results[kind][i, r] = (
                cross_entropy(y_test, proba),  # against the true labels
                cross_entropy(teacher_test, proba),  # against the teacher: soft targets
                np.mean(proba.argmax(axis=1) == y_test),
            )

for kind in ("hard", "soft"):
    mean = results[kind].mean(axis=1)
    print(kind, "students, mean over", repeats, "draws")
    for n, (ce, ce_teacher, acc) in zip(sizes, mean):
        print(
            f"  n={n:5d}: cross entropy {ce:.4f}, against the teacher {ce_teacher:.4f}, "
            f"accuracy {acc:.3f}"
        )

# %%
# Evaluating against soft targets
# -------------------------------
# ``cross_entropy(teacher_test, proba)`` treats the teacher's test
# probabilities as the targets: it measures how well a student imitates its
# teacher.  It can never go below the teacher's own entropy — the KL
# divergence is the part a student can still remove:
#
# .. math::
#     H(T, S) = H(T) + D(T \| S).

proba = student().fit(X_pool[:200], teacher.predict_proba(X_pool[:200])).predict_proba(X_test)
h_teacher = np.mean(entropy(teacher_test))
kl = np.mean(kl_divergence(teacher_test, proba))
print(
    f"H(T, S) = {cross_entropy(teacher_test, proba):.4f} = H(T) {h_teacher:.4f} + D(T||S) {kl:.4f}"
)

# %%
# What the soft targets are worth
# -------------------------------

fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for ax, column, title in zip(
    axes, [0, 1], ["against the true labels", "against the teacher's probabilities"]
):
    for kind, color in (("hard", "tab:orange"), ("soft", "tab:blue")):
        values = results[kind][:, :, column]
        ax.errorbar(
            sizes,
            values.mean(axis=1),
            yerr=values.std(axis=1),
            marker="o",
            color=color,
            capsize=3,
            label=f"student, {kind} targets",
        )
    reference = cross_entropy(y_test, teacher_test) if column == 0 else h_teacher
    ax.axhline(
        reference,
        color="black",
        linestyle=":",
        label="teacher" if column == 0 else "teacher's own entropy",
    )
    ax.set_xscale("log")
    ax.set_xlabel("training points seen by the student")
    ax.set_ylabel("test cross entropy (nats)")
    ax.set_title(title)
    ax.legend(fontsize=8)
plt.show()

# %%
# With few points, the soft student is far better: each soft target carries
# the teacher's knowledge of the noise at that point, where a hard label is a
# single coin flip.  With more points the hard student catches up — the
# labels then average out the noise by themselves.  Against the teacher's
# probabilities the soft student is the closer imitation at every size, as it
# was trained for.
#
# Hinton et al. also mix soft and hard targets, and soften the teacher's
# probabilities with a temperature :math:`T`.  Any matrix of target
# probabilities is a valid ``y``, so both are one line:
# ``0.5 * np.eye(2)[labels] + 0.5 * teacher_proba`` mixes, and
# ``scipy.special.softmax(np.log(teacher_proba) / T, axis=1)`` softens
# (for probabilities clipped away from 0; see :func:`scipy.special.softmax`).
