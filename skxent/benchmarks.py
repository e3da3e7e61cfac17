"""Benchmarks: skxent's kernels and ``log_loss`` against scikit-learn, in one run.

:func:`run` times each case with skxent and with its reference alternately,
``repeats`` times, on the same data in the same process, and returns a
:class:`Report`: the median time of each, their ratio (reference / skxent,
above 1 means skxent is faster), how much the repeats scattered, the largest
relative difference between the two results, the machine it ran on (CPU,
cores, versions) and how busy that machine was with other work meanwhile.
``python -m skxent bench`` prints the same report::

    python -m skxent bench                      # n = 10**6, k = 10
    python -m skxent bench --n 200000 --repeats 5

>>> from skxent import benchmarks
>>> report = benchmarks.run(n=2000, k=3, repeats=1, cases=["log_loss"], out=None)
>>> [case.name for case in report.cases][:3]
['log_loss k=2 float64', 'log_loss k=2 float64 vs numpy', 'log_loss float64']
>>> max(case.rel_diff for case in report.cases) < 1e-12
True

Outputs are preallocated for both sides, so neither pays for page faults.
Timings are only as good as the machine is quiet: a run during which other
processes used a noticeable part of the cores says so (:attr:`Report.busy`,
:meth:`Report.notes`), and so does a two-thread run slower than one thread.
"""

import os
import platform
import sys
import textwrap
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np

__all__ = ["Case", "OtherLoad", "Report", "machine_info", "run"]

CASES = ("log_loss", "softmax", "sigmoid", "threads")
DTYPES = ("float64", "float32")

# A run is "busy" when other processes used, on average, more than this many
# cores while it ran: enough to shift a two-thread timing on a small machine.
BUSY_CORES = 0.2


@dataclass(frozen=True)
class Case:
    """One benchmark case: skxent against its reference on the same input."""

    name: str
    #: median time of skxent, in seconds
    t_skxent: float
    #: median time of the reference, in seconds
    t_reference: float
    #: ``"scikit-learn"``; ``"numpy"`` (a bare gather + log), ``"copy"`` (one
    #: ``np.copyto`` of the scores), or ``"skxent, 1 thread"`` (thread scaling)
    reference: str
    #: largest relative difference between the two results
    rel_diff: float
    #: the larger, of the two sides, of the interquartile range of the repeats
    #: divided by their median (0 with fewer than 4 repeats)
    noise: float
    #: threads used by skxent's kernel (None: its default)
    threads: int | None = None

    @property
    def ratio(self):
        """Reference time / skxent time: above 1 means skxent is faster."""
        return self.t_reference / self.t_skxent


@dataclass
class Report:
    """The cases of one run, and where and how they were measured."""

    cases: list
    #: facts of the machine and the software versions, see :func:`machine_info`
    machine: dict
    #: the command line that repeats this run
    command: str
    #: cores' worth of CPU time that other processes used during the run, on
    #: average (None where the operating system does not tell)
    other_cores: float | None = None
    #: wall time of the whole run, in seconds
    seconds: float = 0.0
    repeats: int = 0
    extra_notes: list = field(default_factory=list)
    #: ``(n, k)``: samples and classes of the run
    size: tuple | None = None

    @property
    def busy(self):
        """True when other processes used more than ``BUSY_CORES`` cores meanwhile."""
        return self.other_cores is not None and self.other_cores > BUSY_CORES

    def notes(self):
        """Plain sentences about what limits these figures; empty when nothing does."""
        notes = list(self.extra_notes)
        cores = self.machine.get("cores")
        if self.busy:
            least = (
                ", the two-thread ones least of all"
                if any(case.threads == 2 for case in self.cases)
                else ""
            )
            notes.append(
                f"The machine was busy: other processes used {self.other_cores:.2f} of its "
                f"{cores} cores during this run, so these times are not reliable{least}. "
                "Run again when the machine is quiet."
            )
        for case in self.cases:
            if case.threads == 2 and case.reference.startswith("skxent") and case.ratio < 1:
                why = (
                    "the machine was busy"
                    if self.busy
                    else "with the machine otherwise quiet, a sign of something in the way "
                    "(another OpenMP runtime spin-waiting, try OMP_WAIT_POLICY=passive; "
                    "or a virtual machine's cores shared with others)"
                )
                notes.append(
                    f"Two threads were slower than one in '{case.name}' "
                    f"({case.ratio:.3f}x): {why}. This is not the kernel's scaling."
                )
        noisy = [case.name for case in self.cases if case.noise > 0.25]
        if noisy and not self.busy:
            notes.append(
                f"The repeats of {len(noisy)} case(s) scattered by more than 25% (noise "
                f"column): {'; '.join(noisy)}. More --repeats would make their medians firmer."
            )
        return notes

    def format(self):
        """The report as ``python -m skxent bench`` prints it."""
        m = self.machine
        lines = [
            f"command:  {self.command}",
            f"machine:  {m['cpu']}, {m['cores']} cores{m['vm']}, {m['system']}",
            f"software: Python {m['python']}, numpy {m['numpy']}, scipy {m['scipy']}, "
            f"scikit-learn {m['scikit-learn']},",
            f"          skxent {m['skxent']} ({m['build']})",
        ]
        if m["environment"]:
            lines.append(f"environment: {m['environment']}")
        if self.size is not None:
            n, k = self.size
            lines.append(
                f"size:     n = {n:,} samples, k = {k} classes (the sigmoid cases: "
                f"n * k = {n * k:,} samples)"
            )
        width = max([len(case.name) for case in self.cases] + [4])
        lines.append(
            f"{'case':<{width}}  {'skxent':>9}  {'reference':>9}  {'ratio':>7}  "
            f"{'noise':>5}  {'rel.diff':>8}"
        )
        for case in self.cases:
            lines.append(
                f"{case.name:<{width}}  {_ms(case.t_skxent):>9}  {_ms(case.t_reference):>9}  "
                f"{case.ratio:6.2f}x  {case.noise:5.0%}  {case.rel_diff:8.1e}"
            )
        lines += [
            f"ratio = reference time / skxent time (medians of {self.repeats} interleaved runs); "
            "reference =",
            "scikit-learn; a bare numpy gather + log ('vs numpy'); one np.copyto of the scores",
            "('vs a copy', the memory floor: 0.33x is three copies' time); or skxent on 1 thread",
            "('threads' rows; 'alternating': a scikit-learn loss call on 2 threads before each).",
            "noise = interquartile range / median.",
        ]
        if self.other_cores is None:
            lines.append(f"load:     unknown on this system; the run took {self.seconds:.0f} s.")
        else:
            lines.append(
                f"load:     other processes used {self.other_cores:.2f} of {m['cores']} cores "
                f"during the run ({self.seconds:.0f} s)."
            )
        for note in self.notes():
            lines += textwrap.wrap(note, 96, initial_indent="NOTE: ", subsequent_indent="      ")
        return "\n".join(lines)

    def __str__(self):
        return self.format()


def _ms(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _is_virtual_machine():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return "hypervisor" in line.split()
    except OSError:
        pass
    return False


def machine_info():
    """Where a benchmark runs: CPU model, cores, operating system and versions.

    Returns
    -------
    dict
        ``cpu``, ``cores`` (usable by this process), ``vm`` (text, empty on
        bare metal), ``system``, the versions of ``python``, ``numpy``,
        ``scipy``, ``scikit-learn`` and ``skxent``, ``build`` (OpenMP and
        whose runtime, the kernels' vector instruction set, threads) and
        ``environment`` (the ``OMP_*`` variables set).
    """
    import scipy
    import sklearn

    from . import __version__
    from ._config import build_info

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    info = build_info()
    runtime = {"scikit-learn": "scikit-learn's runtime", "system": "the system's runtime"}
    simd = {"avx512": "AVX-512", "avx2": "AVX2", "sse2": "SSE2"}.get(info.get("simd"))
    build = ", ".join(
        [
            (
                f"OpenMP ({runtime.get(info.get('openmp_runtime'), 'its own runtime')}), "
                f"{info['max_threads']} threads"
                if info["openmp"]
                else "serial build"
            ),
            f"{simd} kernels" if simd else "plain C kernels",
        ]
    )
    env = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("OMP_"))
    return {
        "cpu": _cpu_model(),
        "cores": cores,
        "vm": " (virtual machine)" if _is_virtual_machine() else "",
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "skxent": __version__,
        "build": build,
        "max_threads": info["max_threads"],
        "environment": env,
    }


def _busy_seconds():
    """CPU seconds all processes have used since boot (Linux), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal (guest is within user)
    values = [int(v) for v in fields[1:9]]
    busy = sum(values) - values[3] - values[4]
    return busy / os.sysconf("SC_CLK_TCK")


def _own_seconds():
    t = os.times()
    return t.user + t.system


class OtherLoad:
    """Measures how much CPU time other processes take while a block of code runs.

    >>> from skxent.benchmarks import OtherLoad
    >>> with OtherLoad() as load:
    ...     pass
    >>> load.cores is None or load.cores >= 0
    True

    ``load.cores`` is the CPU time other processes used (including time a
    hypervisor gave to other machines) divided by the wall time: 0 on a quiet
    machine, 1.0 when they kept one core busy all along.  None where the
    operating system does not tell (it is read from Linux's ``/proc/stat``).
    """

    def __init__(self):
        self.cores = None
        self.seconds = 0.0

    def __enter__(self):
        self._start = _busy_seconds(), _own_seconds(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        busy0, own0, t0 = self._start
        self.seconds = time.perf_counter() - t0
        busy1, own1 = _busy_seconds(), _own_seconds()
        if busy0 is not None and busy1 is not None and self.seconds > 0:
            self.cores = max(0.0, ((busy1 - busy0) - (own1 - own0)) / self.seconds)
        return False

    @property
    def busy(self):
        """True when other processes used more than ``BUSY_CORES`` cores meanwhile."""
        return self.cores is not None and self.cores > BUSY_CORES


def _noise(times):
    if len(times) < 4:
        return 0.0
    q1, med, q3 = np.percentile(times, [25, 50, 75])
    return float((q3 - q1) / med)


def _interleaved(ours, theirs, repeats, before=None):
    """Times of two callables, alternating so that both see the same noise.
    ``before`` (untimed) runs before every timed call."""
    ours()
    theirs()  # warm-up
    t_ours, t_theirs = [], []
    for _ in range(repeats):
        for fn, times in ((ours, t_ours), (theirs, t_theirs)):
            if before is not None:
                before()
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return t_ours, t_theirs


def _case(name, ours, theirs, repeats, reference, rel_diff, threads=None, before=None):
    """Time ``ours`` against ``theirs``; ``rel_diff`` is a number, or a callable
    that computes it from the outputs the last runs left behind."""
    t_ours, t_theirs = _interleaved(ours, theirs, repeats, before)
    if callable(rel_diff):
        rel_diff = rel_diff()
    return Case(
        name=name,
        t_skxent=float(np.median(t_ours)),
        t_reference=float(np.median(t_theirs)),
        reference=reference,
        rel_diff=rel_diff,
        noise=max(_noise(t_ours), _noise(t_theirs)),
        threads=threads,
    )


def _say(progress, name, repeats):
    if progress is not None:
        runs = f"{repeats} run{'s' if repeats != 1 else ''}"
        progress(f"timing {name} ({runs} of each side) ...")


def _log_loss_cases(n, k, repeats, rng, dtypes, progress):
    """log_loss against scikit-learn's and against numpy's bare gather + clip +
    log + mean of the same entries (what no validation at all would cost), at k
    classes and, in float64, at 2."""
    from sklearn.metrics import log_loss as sk_log_loss

    from .metrics import log_loss

    sizes = [(k, dtype) for dtype in dtypes]
    if k != 2 and "float64" in dtypes:
        sizes.insert(0, (2, "float64"))
    cases = []
    for kk, dtype in sizes:
        name = f"log_loss {dtype}" if kk == k else f"log_loss k={kk} {dtype}"
        _say(progress, name, repeats)
        proba = rng.dirichlet(np.ones(kk), n).astype(dtype)
        y = rng.integers(0, kk, n)
        eps, index = np.finfo(dtype).eps, np.arange(n)

        def bare(proba=proba, y=y, eps=eps, index=index):
            return float(-np.log(np.clip(proba[index, y], eps, 1 - eps)).mean())

        ours, theirs = log_loss(y, proba), sk_log_loss(y, proba)
        mine = partial(log_loss, y, proba)
        cases.append(
            _case(
                name,
                mine,
                partial(sk_log_loss, y, proba),
                repeats,
                "scikit-learn",
                abs(ours - theirs) / abs(theirs),
            )
        )
        cases.append(
            _case(f"{name} vs numpy", mine, bare, repeats, "numpy", abs(ours - bare()) / ours)
        )
    return cases


def _loss_cases(name, link, sk_loss, raw, y, repeats, thread_counts, progress):
    """skxent's loss_gradient against a scikit-learn loss object, per thread
    count, and (softmax) on one thread against one copy of the scores."""
    from .loss import loss_gradient

    n, dtype = raw.shape[0], raw.dtype
    loss_a, grad_a = np.empty(n, dtype), np.empty_like(raw)
    loss_b, grad_b = np.empty(n, dtype), np.empty_like(raw)
    copy = np.empty_like(raw)
    cases = []
    for threads in thread_counts:
        label = f"{name} {dtype.name}, {threads} thread{'s' if threads > 1 else ''}"
        _say(progress, label, repeats)
        out_a = dict(loss_out=loss_a, gradient_out=grad_a, n_threads=threads)
        out_b = dict(loss_out=loss_b, gradient_out=grad_b, n_threads=threads)
        ours = partial(loss_gradient, y, raw, link=link, **out_a)
        theirs = partial(sk_loss.loss_gradient, y, raw, **out_b)

        def rel_diff():
            return float(np.max(np.abs(loss_a - loss_b) / np.maximum(np.abs(loss_b), 1)))

        cases.append(_case(label, ours, theirs, repeats, "scikit-learn", rel_diff, threads))
        if threads == 1 and link == "softmax":
            label = f"{name} {dtype.name}, 1 thread vs a copy"
            _say(progress, label, repeats)
            cases.append(_case(label, ours, partial(np.copyto, copy, raw), repeats, "copy", 0.0, 1))
    return cases


def _softmax_cases(n, k, repeats, rng, dtypes, thread_counts, progress):
    """At (n, k) and at (n / 10, 10 k): as many entries, ten times the classes."""
    from sklearn._loss.loss import HalfMultinomialLoss

    cases = []
    for rows, classes in ((n, k), (max(1, n // 10), 10 * k)):
        for dtype in dtypes:
            raw = rng.standard_normal((rows, classes)).astype(dtype)
            y = rng.integers(0, classes, rows).astype(dtype)
            name = f"loss_gradient softmax k={classes}"
            loss = HalfMultinomialLoss(n_classes=classes)
            cases += _loss_cases(name, "softmax", loss, raw, y, repeats, thread_counts, progress)
    return cases


def _sigmoid_cases(n, k, repeats, rng, dtypes, thread_counts, progress):
    """Binary cross entropy on logits against HalfBinomialLoss, on n * k samples:
    as many entries as the softmax cases."""
    from sklearn._loss.loss import HalfBinomialLoss

    cases = []
    for dtype in dtypes:
        raw = rng.standard_normal(n * k).astype(dtype)
        y = rng.integers(0, 2, n * k).astype(dtype)
        name = "loss_gradient sigmoid"
        loss = HalfBinomialLoss()
        cases += _loss_cases(name, "sigmoid", loss, raw, y, repeats, thread_counts, progress)
    return cases


def _thread_cases(n, k, repeats, rng, dtypes, progress):
    """skxent's softmax kernel on 2 threads against 1: alone, and with a call of
    scikit-learn's loss on 2 threads before each call (as in a search that
    scores both, when two OpenMP thread pools would compete for the cores)."""
    from sklearn._loss.loss import HalfMultinomialLoss

    from .loss import loss_gradient

    cases = []
    for dtype in dtypes:
        raw = rng.standard_normal((n, k)).astype(dtype)
        y = rng.integers(0, k, n).astype(dtype)
        loss, grad = np.empty(n, dtype), np.empty((n, k), dtype)
        call = partial(loss_gradient, y, raw, loss_out=loss, gradient_out=grad)
        sk_call = partial(
            HalfMultinomialLoss(n_classes=k).loss_gradient,
            y,
            raw,
            loss_out=np.empty(n, dtype),
            gradient_out=np.empty((n, k), dtype),
            n_threads=2,
        )
        for before, suffix in ((None, ""), (sk_call, ", alternating")):
            name = f"threads: softmax {dtype}, 2 vs 1{suffix}"
            _say(progress, name, repeats)
            cases.append(
                _case(
                    name,
                    partial(call, n_threads=2),
                    partial(call, n_threads=1),
                    repeats,
                    "skxent, 1 thread",
                    0.0,
                    2,
                    before,
                )
            )
    return cases


def run(n=10**6, k=10, repeats=7, seed=0, *, cases=CASES, dtypes=DTYPES, out=print, progress=None):
    """Time skxent against scikit-learn and return a :class:`Report`.

    Parameters
    ----------
    n : int, default=10**6
        Samples (rows) of each case; the sigmoid cases use ``n * k`` samples.
    k : int, default=10
        Classes.
    repeats : int, default=7
        Timed runs of each side of each case, alternating, after one warm-up
        run each.  Times are medians over them.
    seed : int, default=0
        Seed of the random data.
    cases : sequence of str, default=all
        Which groups to run: ``"log_loss"`` (:func:`skxent.metrics.log_loss`
        against :func:`sklearn.metrics.log_loss` and against a bare numpy
        gather + log, at k classes and at 2), ``"softmax"`` and ``"sigmoid"``
        (:func:`skxent.loss.loss_gradient` against scikit-learn's
        ``HalfMultinomialLoss`` and ``HalfBinomialLoss``, on 1 and 2 threads;
        softmax at (n, k) and (n / 10, 10 k), and against one copy of the
        scores), ``"threads"`` (skxent's kernel on 2 threads against 1, alone
        and alternating with scikit-learn's loss).
    dtypes : sequence of str, default=("float64", "float32")
    out : callable or None, default=print
        Called with the report's text when the run is done; None prints
        nothing.
    progress : callable or None, default=None
        Called with one line of text as each case starts (``print`` shows the
        progress of a long run).

    Returns
    -------
    Report
        ``report.cases`` are :class:`Case` objects; ``str(report)`` is the
        table that ``python -m skxent bench`` prints, with the machine, the
        versions and the load of the machine during the run.
    """
    unknown = set(cases) - set(CASES)
    if unknown:
        raise ValueError(f"unknown benchmark cases {sorted(unknown)}; choose from {CASES}")
    unknown = set(dtypes) - set(DTYPES)
    if unknown:
        raise ValueError(f"unknown dtypes {sorted(unknown)}; choose from {DTYPES}")
    machine = machine_info()
    thread_counts = (1, 2) if machine["max_threads"] >= 2 else (1,)
    notes = []
    if machine["max_threads"] < 2:
        notes.append("Only one thread is available here: the two-thread cases are left out.")
    command = f"python -m skxent bench --n {n} --k {k} --repeats {repeats} --seed {seed}"
    if tuple(cases) != CASES:
        command += " --cases " + " ".join(cases)
    if tuple(dtypes) != DTYPES:
        command += " --dtypes " + " ".join(dtypes)

    rng = np.random.default_rng(seed)
    rows = []
    with OtherLoad() as load:
        for group in CASES:  # always in this order, whatever the order asked
            if group not in cases:
                continue
            if group == "log_loss":
                rows += _log_loss_cases(n, k, repeats, rng, dtypes, progress)
            elif group == "softmax":
                rows += _softmax_cases(n, k, repeats, rng, dtypes, thread_counts, progress)
            elif group == "sigmoid":
                rows += _sigmoid_cases(n, k, repeats, rng, dtypes, thread_counts, progress)
            elif len(thread_counts) > 1:
                rows += _thread_cases(n, k, repeats, rng, dtypes, progress)
    report = Report(
        cases=rows,
        machine=machine,
        command=command,
        other_cores=load.cores,
        seconds=load.seconds,
        repeats=repeats,
        extra_notes=notes,
        size=(n, k),
    )
    if out is not None:
        out(report.format())
    return report


if __name__ == "__main__":  # python -m skxent.benchmarks: the same as python -m skxent bench
    from .__main__ import main

    sys.exit(main(["bench", *sys.argv[1:]]))
