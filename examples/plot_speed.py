"""
==================================
Speed: skxent against scikit-learn
==================================

skxent's benchmark (``python -m skxent bench``) times skxent and scikit-learn
in the same process, on the same data, alternating the two so that both see
the same machine noise.  Here it runs on a small problem — a few seconds — on
the machine that builds this documentation, and the ratios are plotted.

Three groups of cases:

- ``log_loss``: :func:`skxent.metrics.log_loss` against
  :func:`sklearn.metrics.log_loss` (same value, see the ``rel.diff`` column);
- ``loss_gradient``: :func:`skxent.loss.loss_gradient` against scikit-learn's
  ``HalfMultinomialLoss.loss_gradient``, the kernel under
  ``LogisticRegression``, on one and on two threads;
- thread scaling: skxent's kernel on two threads against itself on one.
"""

# %%
# Run the benchmark
# -----------------
# :func:`skxent._bench.run` prints a table and returns its rows
# ``(name, t_skxent, t_reference, rel_diff)``.  ``n`` is kept small so that
# the documentation builds quickly; the full-size run is
# ``python -m skxent bench`` (n = 10**6).

import matplotlib.pyplot as plt
import numpy as np

import skxent
from skxent._bench import run

skxent.show_config()
rows = run(n=200_000, k=10, repeats=5, seed=0)

# %%
# Plot the ratios
# ---------------
# A ratio above 1 means skxent is faster.  Every row also reports the largest
# relative difference between the two results: a speed-up only counts with
# the same numbers.

names = [name for name, *_ in rows]
ratios = np.array([t_ref / t_ours for _, t_ours, t_ref, _ in rows])
max_rel_diff = max(err for *_, err in rows)
print(f"largest relative difference of the results: {max_rel_diff:.1e}")

fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2), layout="constrained")
colors = ["tab:blue" if "vs 1" not in name else "tab:gray" for name in names]
ax.barh(np.arange(len(rows)), ratios, color=colors)
ax.axvline(1.0, color="black", linewidth=1)
ax.set_yticks(np.arange(len(rows)), labels=names, fontsize=8)
ax.invert_yaxis()
ax.set_xlabel("speed-up (reference time / skxent time)")
ax.set_title("Speed-up of skxent (gray: its 2 threads against 1)")
for i, ratio in enumerate(ratios):
    ax.text(ratio, i, f" {ratio:.1f}x", va="center", fontsize=8)
plt.show()

# %%
# Reading the numbers
# -------------------
# On small inputs fixed costs (input checks, allocating the result) weigh
# more, and a team of threads has little to share, so the ratios here are a
# lower bound of those at n = 10**6.  The thread-scaling rows depend on the
# machine: on a machine busy with other work, or with a single core, two
# threads cannot beat one.  Whatever the number of threads, the results are
# bitwise identical (see :ref:`threads`).
