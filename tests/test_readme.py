"""The README's ```python blocks run as written: in order, in one fresh Python process.

They are given, unchanged and in order, to a new interpreter as ``python -c``,
which runs them as a user pasting them into a Python session does (no script
file that the dask workers would import again; the dask block starts a
``LocalCluster`` on 127.0.0.1 and closes it).  After them, in the same
process, a few checks compare what they computed with scikit-learn's own
functions, and that the cluster's worker processes are gone.
"""

import json
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def python_blocks(text):
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


# Runs after the README's blocks, in the same process; prints one JSON line.
CHECKS = """
import json as _json
import multiprocessing as _mp

import numpy as _np
from sklearn.metrics import log_loss as _sk_log_loss

_in_memory = _sk_log_loss(y, search.predict_proba(X))
print("CHECKS " + _json.dumps({
    "quick_start_log_loss": [float(log_loss(y, proba)), float(_sk_log_loss(y, proba))],
    "kl": float(kl_divergence([0.6, 0.4], [0.5, 0.5])),
    "dask_cross_entropy": float(skxent.metrics.cross_entropy(y_dask, proba_dask)),
    "in_memory_log_loss": float(_in_memory),
    "search_scorer": sorted(search.scorer_),
    "refit": search.refit,
    "best_C": search.best_params_["clf__C"],
    "children_left": len(_mp.active_children()),
}))
"""


def test_readme_has_the_blocks():
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 3
    assert any("LocalCluster" in block for block in blocks)


def test_readme_python_blocks_run_in_one_fresh_process(tmp_path):
    pytest.importorskip("dask.array")
    pytest.importorskip("distributed")
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    source = "\n\n".join(blocks) + "\n" + CHECKS
    result = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # nothing of the clone on the path but the installed package
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("CHECKS ")]
    checks = json.loads(line[len("CHECKS ") :])
    ours, theirs = checks["quick_start_log_loss"]
    assert ours == pytest.approx(theirs, rel=1e-12)  # "same value as sklearn.metrics.log_loss"
    assert round(checks["kl"], 4) == 0.0201  # the README's comment says 0.0201 nats
    # The dask block prints the metric computed block by block on the cluster:
    # the in-memory value of scikit-learn's log loss of the same predictions.
    printed = [float(s) for s in result.stdout.split() if re.fullmatch(r"\d+\.\d+", s)]
    assert printed and printed[-1] == pytest.approx(checks["in_memory_log_loss"], rel=1e-12)
    assert checks["dask_cross_entropy"] == pytest.approx(checks["in_memory_log_loss"], rel=1e-12)
    # The scorer registered by name is the one the search used.
    assert checks["refit"] == "neg_smoothed_ce" and "neg_smoothed_ce" in checks["search_scorer"]
    assert checks["best_C"] in (0.1, 1, 10)
    # Leaving the with block stopped the cluster: no worker process is left.
    assert checks["children_left"] == 0
    assert "Traceback" not in result.stderr
