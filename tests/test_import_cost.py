"""Importing skxent costs the same in a process full of objects as in an empty one.

Registering the scorer names must find scikit-learn's ``scoring`` constraints
without walking every object of the process (``gc.get_objects()``): a notebook
holding millions of objects would pay for each.  Each measurement runs in a
fresh subprocess, the baseline (an empty process) in the same test, and the
best of a few runs is compared.
"""

import json
import subprocess
import sys

_SCRIPT = r"""
import json, sys, time
objects = [[i] for i in range(int(sys.argv[1]))]   # gc-tracked containers
import sklearn.model_selection
t0 = time.perf_counter()
import skxent
t1 = time.perf_counter()
skxent.scorers.register(
    "neg_ce_smoothed_for_timing", skxent.metrics.cross_entropy,
    greater_is_better=False, response_method="predict_proba", label_smoothing=0.1,
)
t2 = time.perf_counter()
from sklearn.model_selection import cross_validate
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True)
scores = cross_validate(LogisticRegression(max_iter=500), X, y, cv=2,
                        scoring="neg_ce_smoothed_for_timing")
assert (scores["test_score"] < 0).all()
print(json.dumps({"import": t1 - t0, "register": t2 - t1}))
"""


def _cost(n_objects):
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(n_objects)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_cost_does_not_grow_with_the_objects_in_the_process():
    empty = [_cost(0) for _ in range(2)]
    full = [_cost(2_000_000) for _ in range(2)]
    for what in ("import", "register"):
        best_empty = min(run[what] for run in empty)
        best_full = min(run[what] for run in full)
        assert best_full - best_empty <= 0.050, (what, best_empty, best_full)
