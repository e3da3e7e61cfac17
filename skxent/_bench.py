"""Benchmarks: skxent's kernels and log_loss against scikit-learn, in one run.

Each case runs skxent and its references in turn, ``--repeats`` times (every
skxent call follows a scikit-learn call, as in a real search), and reports
the median time of each and the ratio (reference / skxent: above 1 means
skxent is faster).  Outputs are preallocated for everyone, so nobody pays for
page faults.  Run after installing skxent::

    python -m skxent bench                      # n = 10**6, k = 10
    python benchmarks/bench_core.py --n 200000 --repeats 5

The cases (n, k from the options):

- ``log_loss`` at k = 2 and k: against ``sklearn.metrics.log_loss`` and
  against a bare numpy gather + clip + log + mean of the same entries;
- ``loss_gradient`` softmax at (n, k) and (n / 10, 10 k), float64 and float32:
  on one thread against ``HalfMultinomialLoss.loss_gradient`` and against one
  copy of the score array (``np.copyto``: the memory floor; a ratio of 1/3
  means three copies' time), on two threads against scikit-learn on two,
  and two threads against one, alone and with a scikit-learn call (on two
  threads) before each call;
- ``loss_gradient`` sigmoid on n k samples against ``HalfBinomialLoss``.
"""

import argparse
import os
import platform
import time
from functools import partial

import numpy as np


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _interleaved(calls, repeats, before=None):
    """Median time of each callable, run in turn ``repeats`` times after a
    warm-up, so that all see the same noise.  ``before`` (untimed) runs before
    every timed call."""
    for fn in calls:
        fn()
    times = [[] for _ in calls]
    for _ in range(repeats):
        for i, fn in enumerate(calls):
            if before is not None:
                before()
            times[i].append(_timed(fn))
    return [float(np.median(t)) for t in times]


def bench_log_loss(n, k, repeats, rng):
    """log_loss against scikit-learn's and against numpy's bare gather + log."""
    from sklearn.metrics import log_loss as sk_log_loss

    from skxent.metrics import log_loss

    rows = []
    for kk, dtypes in ((2, (np.float64,)), (k, (np.float64, np.float32))):
        for dtype in dtypes:
            proba = rng.dirichlet(np.ones(kk), n).astype(dtype)
            y = rng.integers(0, kk, n)
            eps = np.finfo(dtype).eps
            index = np.arange(n)

            def bare(proba=proba, y=y, eps=eps, index=index):
                return float(-np.log(np.clip(proba[index, y], eps, 1 - eps)).mean())

            ours = log_loss(y, proba)
            theirs = sk_log_loss(y, proba)
            t_ours, t_sk, t_np = _interleaved(
                [partial(log_loss, y, proba), partial(sk_log_loss, y, proba), bare], repeats
            )
            name = f"log_loss n={n} k={kk} {np.dtype(dtype).name}"
            err = abs(ours - theirs) / abs(theirs)
            rows.append((name, t_ours, t_sk, err))
            rows.append((f"{name} vs numpy gather+log", t_ours, t_np, abs(ours - bare()) / ours))
    return rows


def _loss_case(name, link, sk_loss, raw, y, repeats):
    """skxent's loss_gradient against a scikit-learn loss object (1 and 2 threads),
    against one copy of ``raw``, and on two threads against itself on one."""
    from skxent.loss import loss_gradient

    n, dtype = raw.shape[0], raw.dtype
    loss_a, grad_a = np.empty(n, dtype), np.empty_like(raw)
    loss_b, grad_b = np.empty(n, dtype), np.empty_like(raw)
    copy = np.empty_like(raw)

    def ours(threads):
        return loss_gradient(y, raw, link=link, loss_out=loss_a, gradient_out=grad_a,
                             n_threads=threads)

    def theirs(threads):
        return sk_loss.loss_gradient(y, raw, loss_out=loss_b, gradient_out=grad_b,
                                     n_threads=threads)

    rows = []
    t1, t_sk1, t_copy = _interleaved(
        [partial(ours, 1), partial(theirs, 1), partial(np.copyto, copy, raw)], repeats
    )
    err = float(np.max(np.abs(loss_a - loss_b) / np.maximum(np.abs(loss_b), 1)))
    rows.append((f"{name} {dtype.name} threads=1", t1, t_sk1, err))
    t2, t_sk2 = _interleaved([partial(ours, 2), partial(theirs, 2)], repeats)
    rows.append((f"{name} {dtype.name} threads=2", t2, t_sk2, err))
    if link == "softmax":
        rows.append((f"{name} {dtype.name} threads=1 vs a copy", t1, t_copy, 0.0))
        t2, t1 = _interleaved([partial(ours, 2), partial(ours, 1)], repeats)
        rows.append((f"{name} {dtype.name} 2 threads vs 1", t2, t1, 0.0))
        t2, t1 = _interleaved(
            [partial(ours, 2), partial(ours, 1)], repeats, before=partial(theirs, 2)
        )
        rows.append((f"{name} {dtype.name} 2 threads vs 1, alternating", t2, t1, 0.0))
    return rows


def bench_loss_gradient(n, k, repeats, rng):
    """Softmax cross entropy on hard labels against HalfMultinomialLoss at (n, k)
    and (n / 10, 10 k), then binary cross entropy on logits against
    HalfBinomialLoss on n * k samples (as many entries as the softmax cases)."""
    from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss

    wide = (max(1, n // 10), 10 * k)
    cases = [
        (f"loss_gradient softmax n={n} k={k}", "softmax", HalfMultinomialLoss(n_classes=k),
         (n, k)),
        (f"loss_gradient softmax n={wide[0]} k={wide[1]}", "softmax",
         HalfMultinomialLoss(n_classes=wide[1]), wide),
        (f"loss_gradient sigmoid n={n * k}", "sigmoid", HalfBinomialLoss(), (n * k,)),
    ]
    rows = []
    for name, link, sk_loss, shape in cases:
        n_classes = shape[1] if link == "softmax" else 2
        for dtype in (np.float64, np.float32):
            raw = rng.standard_normal(shape).astype(dtype)
            y = rng.integers(0, n_classes, shape[0]).astype(dtype)
            rows += _loss_case(name, link, sk_loss, raw, y, repeats)
    return rows


def run(n=10**6, k=10, repeats=7, seed=0, out=print):
    """Run every case and print a table; returns the rows."""
    from . import _config

    rng = np.random.default_rng(seed)
    rows = []
    rows += bench_log_loss(n, k, repeats, rng)
    rows += bench_loss_gradient(n, k, repeats, rng)
    info = _config.build_info()
    out(
        f"# {_cpu_model()}, {os.cpu_count()} CPUs; skxent kernels: {info.get('simd', '?')}, "
        f"OpenMP runtime: {info.get('openmp_runtime', '?')}; median of {repeats}"
    )
    out(f"{'case':<72} {'skxent':>10} {'reference':>10} {'ratio':>7} {'rel.diff':>9}")
    for name, t_ours, t_ref, err in rows:
        out(
            f"{name:<72} {t_ours * 1e3:8.1f}ms {t_ref * 1e3:8.1f}ms "
            f"{t_ref / t_ours:6.2f}x {err:9.1e}"
        )
    out(
        "ratio = reference time / skxent time (median of repeats, same run).  The reference\n"
        "is scikit-learn; numpy's bare gather + log ('vs numpy'); one np.copyto of the\n"
        "scores ('vs a copy': 0.33x is three copies' time); or skxent on one thread\n"
        "('2 threads vs 1'; 'alternating': each call follows a call of scikit-learn's\n"
        "loss on two threads)."
    )
    return rows


def add_arguments(parser):
    parser.add_argument("--n", type=int, default=10**6, help="samples (default 10**6)")
    parser.add_argument("--k", type=int, default=10, help="classes (default 10)")
    parser.add_argument("--repeats", type=int, default=7, help="repeats (default 7)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    run(args.n, args.k, args.repeats, args.seed)
