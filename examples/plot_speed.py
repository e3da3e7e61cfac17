"""
==================================
Speed: skxent against scikit-learn
==================================

skxent's benchmark, :func:`skxent.benchmarks.run` (on the command line,
``python -m skxent bench``), times skxent and scikit-learn in the same
process, on the same data, alternating the two so that both see the same
machine noise.  Here it runs on a small problem — a few seconds — on the
machine that builds this documentation, while the documentation is built: the
figures below are that machine's, and the report says which machine it is,
which versions ran, and how busy the machine was meanwhile.

Three groups of cases:

- ``log_loss``: :func:`skxent.metrics.log_loss` against
  :func:`sklearn.metrics.log_loss` (same value, see the ``rel.diff`` column);
- ``loss_gradient``: :func:`skxent.loss.loss_gradient` against scikit-learn's
  ``HalfMultinomialLoss.loss_gradient`` (softmax, the kernel under
  ``LogisticRegression``) and ``HalfBinomialLoss.loss_gradient`` (sigmoid),
  on one and on two threads;
- ``threads``: skxent's kernel on two threads against itself on one.

The report also times ``log_loss`` against numpy's bare gather + log and the
softmax kernel against one copy of its scores (the memory floor); those rows
are in the printed report, and the plot keeps to the comparisons with
scikit-learn and the thread scaling.
"""

# %%
# Run the benchmark
# -----------------
# :func:`skxent.benchmarks.run` prints its report and returns it: a list of
# cases (each with its name, both median times, the ratio, the scatter of the
# repeats and the difference of the results) and the machine it ran on.
# ``n`` is kept small so that the documentation builds quickly; the full-size
# run is ``python -m skxent bench`` (n = 10**6).

import matplotlib.pyplot as plt
import numpy as np

from skxent import benchmarks

report = benchmarks.run(n=200_000, k=10, repeats=5, seed=0)

# %%
# Plot the ratios
# ---------------
# A ratio above 1 means skxent is faster; each bar is labelled with its
# ratio and the scatter of its repeats (the ``noise`` column).  Every case
# also reports the largest relative difference between the two results: a
# speed-up only counts with the same numbers.

cases = [
    c for c in report.cases if c.reference == "scikit-learn" or c.reference.startswith("skxent")
]
names = [case.name for case in cases]
ratios = np.array([case.ratio for case in cases])
noise = np.array([case.noise for case in cases])
print(f"largest relative difference of the results: {max(c.rel_diff for c in cases):.1e}")

fig, ax = plt.subplots(figsize=(8, 0.42 * len(cases) + 1.8), layout="constrained")
colors = ["tab:gray" if name.startswith("threads") else "tab:blue" for name in names]
bars = ax.barh(np.arange(len(cases)), ratios, color=colors)
if report.busy:  # hatch what a busy machine makes least reliable: the two-thread runs
    for bar, case in zip(bars, cases):
        if case.threads == 2:
            bar.set_hatch("///")
            bar.set_alpha(0.5)
ax.axvline(1.0, color="black", linewidth=1)
ax.set_xlim(0, 1.35 * max(ratios.max(), 1.0))  # room for the labels
ax.set_yticks(np.arange(len(cases)), labels=names, fontsize=8)
ax.invert_yaxis()
ax.set_xlabel("speed-up (reference time / skxent time)")
machine = report.machine
ax.set_title(
    f"skxent's speed-up (gray: its 2 threads against 1)\n"
    f"n = {report.size[0]:,}, k = {report.size[1]}; {machine['cpu']}, {machine['cores']} cores, "
    f"scikit-learn {machine['scikit-learn']}",
    fontsize=10,
)
for i, ratio in enumerate(ratios):
    ax.text(ratio, i, f" {ratio:.1f}x (noise {noise[i]:.0%})", va="center", fontsize=8)
if report.busy:  # said under the plot, where the layout keeps room for it
    fig.supxlabel(
        f"The machine was busy during this run: other processes used "
        f"{report.other_cores:.2f} of its {machine['cores']} cores.\n"
        "The hatched two-thread figures, above all, are not reliable.",
        color="tab:red",
        fontsize=9,
    )
plt.show()

# %%
# Reading the numbers
# -------------------
# On small inputs fixed costs (input checks, allocating the result) weigh
# more, and a team of threads has little to share, so the ratios here are a
# lower bound of those at n = 10**6 (:doc:`/benchmarks` has figures of the
# full size, with the machine they were measured on).  The two-thread cases
# need both cores of this machine to themselves: any other work running at
# the same time delays them most.  The report measures how much CPU time
# other processes took during the run and says so when it was enough to
# matter, and says so when two threads came out slower than one:

notes = report.notes()
if notes:
    for note in notes:
        print("NOTE:", note)
elif report.other_cores is None:
    print("No two-thread run was slower than one; this system does not tell the load.")
else:
    print(
        f"No caveats: other processes used {report.other_cores:.2f} of the "
        f"{machine['cores']} cores during the run, and no two-thread run was slower "
        "than one thread."
    )

# %%
# Whatever the number of threads, the results are bitwise identical (see
# :ref:`threads`).
