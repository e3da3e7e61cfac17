"""Benchmarks: skxent's kernels and log_loss against scikit-learn, in one run.

Each case runs skxent and scikit-learn alternately, ``--repeats`` times, and
reports the median time of each and the ratio (scikit-learn / skxent: above 1
means skxent is faster).  Outputs are preallocated for both, so neither pays
for page faults.  Run after installing skxent::

    python -m skxent bench                      # n = 10**6, k = 10
    python benchmarks/bench_core.py --n 200000 --repeats 5
"""

import argparse
import time
from functools import partial

import numpy as np


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _pair(ours, theirs, repeats):
    """Median times of two callables, interleaved so both see the same noise."""
    ours()
    theirs()  # warm-up
    t_ours, t_theirs = [], []
    for _ in range(repeats):
        t_ours.append(_median_time(ours, 1))
        t_theirs.append(_median_time(theirs, 1))
    return float(np.median(t_ours)), float(np.median(t_theirs))


def bench_log_loss(n, k, repeats, rng):
    from sklearn.metrics import log_loss as sk_log_loss

    from skxent.metrics import log_loss

    rows = []
    for dtype in (np.float64, np.float32):
        proba = rng.dirichlet(np.ones(k), n).astype(dtype)
        y = rng.integers(0, k, n)
        ours = log_loss(y, proba)
        theirs = sk_log_loss(y, proba)
        t_ours, t_theirs = _pair(
            partial(log_loss, y, proba), partial(sk_log_loss, y, proba), repeats
        )
        rows.append(
            (
                f"log_loss n={n} k={k} {np.dtype(dtype).name}",
                t_ours,
                t_theirs,
                abs(ours - theirs) / abs(theirs),
            )
        )
    return rows


def _loss_rows(name, link, sk_loss, raw, y, repeats):
    """skxent's loss_gradient against a scikit-learn loss object, on 1 and 2 threads."""
    from skxent.loss import loss_gradient

    n, dtype = raw.shape[0], raw.dtype
    loss_a, grad_a = np.empty(n, dtype), np.empty_like(raw)
    loss_b, grad_b = np.empty(n, dtype), np.empty_like(raw)
    rows = []
    for threads in (1, 2):
        out_a = dict(loss_out=loss_a, gradient_out=grad_a, n_threads=threads)
        out_b = dict(loss_out=loss_b, gradient_out=grad_b, n_threads=threads)
        ours = partial(loss_gradient, y, raw, link=link, **out_a)
        theirs = partial(sk_loss.loss_gradient, y, raw, **out_b)
        t_ours, t_theirs = _pair(ours, theirs, repeats)
        err = float(np.max(np.abs(loss_a - loss_b) / np.maximum(np.abs(loss_b), 1)))
        rows.append((f"{name} {dtype.name} threads={threads}", t_ours, t_theirs, err))
    return rows


def bench_loss_gradient(n, k, repeats, rng):
    """Softmax cross entropy on hard labels against HalfMultinomialLoss, then binary
    cross entropy on logits against HalfBinomialLoss on n * k samples (as many
    entries as the softmax cases)."""
    from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss

    cases = [
        (f"loss_gradient softmax n={n} k={k}", "softmax", HalfMultinomialLoss(n_classes=k), (n, k)),
        (f"loss_gradient sigmoid n={n * k}", "sigmoid", HalfBinomialLoss(), (n * k,)),
    ]
    rows = []
    for name, link, sk_loss, shape in cases:
        n_classes = shape[1] if link == "softmax" else 2
        for dtype in (np.float64, np.float32):
            raw = rng.standard_normal(shape).astype(dtype)
            y = rng.integers(0, n_classes, shape[0]).astype(dtype)
            rows += _loss_rows(name, link, sk_loss, raw, y, repeats)
    return rows


def bench_thread_scaling(n, k, repeats, rng):
    from skxent.loss import loss_gradient

    rows = []
    for dtype in (np.float64, np.float32):
        raw = rng.standard_normal((n, k)).astype(dtype)
        y = rng.integers(0, k, n).astype(dtype)
        loss, grad = np.empty(n, dtype), np.empty((n, k), dtype)
        call = partial(loss_gradient, y, raw, loss_out=loss, gradient_out=grad)
        t2, t1 = _pair(partial(call, n_threads=2), partial(call, n_threads=1), repeats)
        rows.append((f"skxent loss_gradient 2 threads vs 1, {np.dtype(dtype).name}", t2, t1, 0.0))
    return rows


def run(n=10**6, k=10, repeats=7, seed=0, out=print):
    """Run every case and print a table; returns the rows."""
    rng = np.random.default_rng(seed)
    rows = []
    rows += bench_log_loss(n, k, repeats, rng)
    rows += bench_loss_gradient(n, k, repeats, rng)
    rows += bench_thread_scaling(n, k, repeats, rng)
    out(f"{'case':<58} {'skxent':>10} {'reference':>10} {'ratio':>7} {'rel.diff':>9}")
    for name, t_ours, t_ref, err in rows:
        out(
            f"{name:<58} {t_ours * 1e3:8.1f}ms {t_ref * 1e3:8.1f}ms "
            f"{t_ref / t_ours:6.2f}x {err:9.1e}"
        )
    out(
        "ratio = reference time / skxent time (median of repeats, same run); "
        "reference is scikit-learn, or skxent on 1 thread for the scaling rows."
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
