"""skxent.benchmarks: the public benchmark entry, its report and its honesty checks.

The timings themselves cannot be tested (they are the machine's); what is
tested is that the report says where it ran and how busy the machine was,
measured against independent sources (``lscpu``, ``nproc``, the installed
distributions' metadata, a process that keeps one core busy).
"""

import importlib.metadata
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.metrics import log_loss as sk_log_loss

from skxent import benchmarks
from skxent.benchmarks import Case, OtherLoad, Report


@pytest.fixture(scope="module")
def small_report():
    return benchmarks.run(n=3000, k=4, repeats=4, seed=1, out=None)


def test_cases_and_their_ratios(small_report):
    names = [case.name for case in small_report.cases]
    assert names[:4] == [
        "log_loss k=2 float64",
        "log_loss k=2 float64 vs numpy",
        "log_loss float64",
        "log_loss float64 vs numpy",
    ]
    assert "loss_gradient softmax k=4 float64, 1 thread" in names
    assert "loss_gradient softmax k=40 float32, 1 thread vs a copy" in names
    if small_report.machine["max_threads"] >= 2:
        assert "loss_gradient sigmoid float32, 2 threads" in names
        assert "threads: softmax float32, 2 vs 1" in names
        assert "threads: softmax float32, 2 vs 1, alternating" in names
    assert small_report.size == (3000, 4)
    assert "size:     n = 3,000 samples, k = 4 classes (the sigmoid cases: n * k = 12,000" in str(
        small_report
    )
    for case in small_report.cases:
        assert case.t_skxent > 0 and case.t_reference > 0
        assert case.ratio == case.t_reference / case.t_skxent
        assert case.noise >= 0
        tol = 1e-5 if "float32" in case.name else 1e-12
        assert case.rel_diff <= tol, case
    assert small_report.repeats == 4
    assert small_report.command == "python -m skxent bench --n 3000 --k 4 --repeats 4 --seed 1"


def test_log_loss_case_compares_the_same_values():
    # The log_loss case's relative difference is the one of the two functions
    # on the data it draws: redraw the same data and compare with scikit-learn.
    report = benchmarks.run(
        n=500, k=3, repeats=1, seed=3, cases=["log_loss"], dtypes=["float64"], out=None
    )
    _, _, case, bare = report.cases
    assert (case.reference, bare.reference) == ("scikit-learn", "numpy")
    rng = np.random.default_rng(3)
    rng.dirichlet(np.ones(2), 500), rng.integers(0, 2, 500)  # the k = 2 case's data
    proba = rng.dirichlet(np.ones(3), 500)
    y = rng.integers(0, 3, 500)
    from skxent.metrics import log_loss

    expected = abs(log_loss(y, proba) - sk_log_loss(y, proba)) / sk_log_loss(y, proba)
    assert case.rel_diff == expected
    assert bare.rel_diff < 1e-14
    assert report.command.endswith("--cases log_loss --dtypes float64")


def test_unknown_case_is_an_error():
    with pytest.raises(ValueError, match="unknown benchmark cases"):
        benchmarks.run(n=100, cases=["log_los"], out=None)
    with pytest.raises(ValueError, match="unknown dtypes"):
        benchmarks.run(n=100, dtypes=["float16"], out=None)


@pytest.mark.skipif(shutil.which("lscpu") is None, reason="needs lscpu")
def test_machine_is_the_one_lscpu_names():
    info = benchmarks.machine_info()
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, env={"LC_ALL": "C"}).stdout
    model = [line.split(":", 1)[1].strip() for line in lscpu.splitlines() if "Model name" in line]
    assert model and info["cpu"] == model[0]
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout
    assert info["cores"] == int(nproc)
    assert ("hypervisor" in lscpu.lower()) == (info["vm"] != "")


def test_machine_versions_are_the_installed_ones():
    info = benchmarks.machine_info()
    for name in ("numpy", "scipy", "scikit-learn"):
        assert info[name] == importlib.metadata.version(name)
    assert info["python"] == ".".join(map(str, sys.version_info[:3]))


def test_report_says_where_it_ran(small_report):
    text = str(small_report)
    info = small_report.machine
    assert text.splitlines()[0] == f"command:  {small_report.command}"
    assert f"machine:  {info['cpu']}, {info['cores']} cores" in text
    assert f"scikit-learn {importlib.metadata.version('scikit-learn')}" in text
    assert "load:" in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat is Linux's")
def test_other_load_sees_a_busy_core():
    # A separate process that keeps one core busy for about 1.5 s, while
    # this one sleeps: the CPU time of others during the sleep is about one
    # core (more if the machine is busy anyway), and never ours.
    spin = "import time\nt = time.perf_counter()\nwhile time.perf_counter() - t < 1.5: pass"
    proc = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.2)  # let it start
        with OtherLoad() as load:
            time.sleep(1.0)
    finally:
        proc.wait(timeout=30)
    assert load.seconds >= 1.0
    assert load.cores > 0.6 and load.busy


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat is Linux's")
def test_other_load_does_not_count_our_own_work():
    # Our own busy half-second is not "other processes": counted, it would add
    # a whole core.  Others' work may come and go meanwhile, so each busy
    # window is compared with an idle one next to it, and one of three tries
    # must show the difference well under a core.
    differences = []
    for _ in range(3):
        with OtherLoad() as idle:
            time.sleep(0.3)
        with OtherLoad() as load:
            t = time.perf_counter()
            while time.perf_counter() - t < 0.3:
                pass
        differences.append(load.cores - idle.cores)
    assert min(differences) < 0.5, differences


def _report(ratio_threads, other_cores):
    machine = benchmarks.machine_info()
    cases = [
        Case("log_loss float64", 1.0, 10.0, "scikit-learn", 0.0, 0.01),
        Case(
            "threads: softmax float64, 2 vs 1",
            1.0,
            ratio_threads,
            "skxent, 1 thread",
            0.0,
            0.01,
            2,
        ),
    ]
    return Report(cases, machine, "python -m skxent bench", other_cores, 1.0, 5)


def test_notes_of_a_quiet_run():
    assert _report(1.8, 0.01).notes() == []
    assert not _report(1.8, 0.01).busy


def test_notes_of_a_busy_run():
    report = _report(0.5, 1.2)
    assert report.busy
    busy, slower = report.notes()
    assert "The machine was busy: other processes used 1.20 of its" in busy
    assert "two-thread ones least of all" in busy
    assert "Two threads were slower than one" in slower and "the machine was busy" in slower
    assert "NOTE: The machine was busy" in str(report)


def test_notes_of_two_slow_threads_on_a_quiet_machine():
    (note,) = _report(0.5, 0.0).notes()
    assert "Two threads were slower than one" in note and "OMP_WAIT_POLICY=passive" in note


def test_bench_command_prints_the_report():
    result = subprocess.run(
        [sys.executable, "-m", "skxent", "bench", "--n", "2000", "--k", "3", "--repeats", "1"]
        + ["--cases", "log_loss", "threads", "--dtypes", "float32"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "command:  python -m skxent bench --n 2000 --k 3 --repeats 1 --seed 0 "
        "--cases log_loss threads --dtypes float32"
    )
    assert any(line.startswith("log_loss float32 ") for line in lines)
    if benchmarks.machine_info()["max_threads"] >= 2:
        assert any(line.startswith("threads: softmax float32, 2 vs 1 ") for line in lines)
    assert not any("float64" in line for line in lines[5:])
    assert "timing log_loss float32 (1 run of each side)" in result.stderr  # progress
