"""The build: floating-point state, configuration, docs and CI consistency."""

import doctest
import importlib
import io
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import skxent

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_import_leaves_denormals_alone():
    # A module linked with -ffast-math would pull in crtfastmath.o and set
    # flush-to-zero / denormals-are-zero for the whole process at import.
    code = (
        "import numpy as np\n"
        "before = float((np.array([1e-300]) * 1e-10)[0])\n"
        "import skxent, skxent.metrics, skxent.loss\n"
        "skxent.metrics.cross_entropy([0, 1], [[0.9, 0.1], [0.2, 0.8]])\n"
        "after = float((np.array([1e-300]) * 1e-10)[0])\n"
        "tiny = float(np.float64(5e-324) * 1.0)\n"
        "print(repr(before), repr(after), repr(tiny))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    before, after, tiny = (float(v) for v in out)
    assert before == after == 1e-310 * 1.0 or (before == after and before > 0)
    assert after > 0.0, "importing skxent flushed denormals to zero"
    assert tiny == 5e-324


def test_denormal_probabilities_stay_exact():
    # Denormal inputs must not be flushed inside the kernels either.
    from skxent.metrics import cross_entropy

    p = 1e-310
    value = cross_entropy([1], [[1 - p, p]], eps=0)
    assert value == pytest.approx(-np.log(p), rel=1e-12)


def test_show_config_reports_the_build():
    buf = io.StringIO()
    skxent.show_config(file=buf)
    text = buf.getvalue()
    assert "OpenMP" in text and "threads available" in text
    info = skxent._config.build_info()
    assert set(info) == {
        "openmp", "openmp_runtime", "openmp_library", "vector_exp", "simd", "max_threads"
    }
    assert info["simd"] in ("avx512", "avx2", "sse2", "none")
    assert info["max_threads"] >= 1


@pytest.mark.parametrize("module", ["skxent.metrics", "skxent.loss", "skxent._config"])
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{module} has no docstring examples"
    assert result.failed == 0


def test_ci_runs_the_readme_commands_verbatim():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [
        line.strip() for line in readme.splitlines() if line.startswith("python3 -m venv .venv")
    ]
    assert len(commands) == 2, commands
    assert commands[0].endswith("python -m skxent demo")
    assert commands[1].endswith("pytest")
    for command in commands:
        assert command in ci.splitlines(), f"{command!r} is not run by .ci/run"
