"""The command line: ``python -m skxent demo | bench``.

``demo`` is the main job a new user runs first; ``bench`` times skxent against
scikit-learn.
"""

import argparse
import sys
import time


def _demo(args):
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss as sk_log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from . import metrics, show_config

    show_config()
    print()
    print("The seed's two-event example, P = (0.6, 0.4), Q = (0.5, 0.5):")
    P, Q = [0.6, 0.4], [0.5, 0.5]
    print(
        f"  H(P, Q) = {metrics.cross_entropy([P], [Q]):.4f} nats "
        f"= {metrics.cross_entropy([P], [Q], base=2):.4f} bit"
    )
    print(
        f"  H(P)    = {metrics.entropy(P):.4f} nats, "
        f"D(P||Q) = {metrics.kl_divergence(P, Q):.4f} nats  (H(P, Q) = H(P) + D(P||Q))"
    )
    print()

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=1000))
    model.fit(X_train, y_train)
    proba = model.predict_proba(X_test)
    print(f"Digits, LogisticRegression, {len(y_test)} test samples, 10 classes:")
    rows = [
        ("sklearn.metrics.log_loss", sk_log_loss(y_test, proba), "nats"),
        ("skxent.metrics.log_loss", metrics.log_loss(y_test, proba), "nats"),
        ("cross_entropy", metrics.cross_entropy(y_test, proba), "nats"),
        ("cross_entropy, base=2", metrics.cross_entropy(y_test, proba, base=2), "bits"),
        (
            "cross_entropy, label_smoothing=0.1",
            metrics.cross_entropy(y_test, proba, label_smoothing=0.1),
            "nats",
        ),
        ("perplexity", metrics.perplexity(y_test, proba), "classes"),
    ]
    for name, value, unit in rows:
        print(f"  {name:<38} {value:10.6f} {unit}")
    print()

    n, k = args.n, 10
    rng = np.random.default_rng(0)
    big_proba = rng.dirichlet(np.ones(k), n)
    big_y = rng.integers(0, k, n)
    times = {}
    for name, fn in (("scikit-learn", sk_log_loss), ("skxent", metrics.log_loss)):
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            value = fn(big_y, big_proba)
            best = min(best, time.perf_counter() - t0)
        times[name] = (best, value)
    print(f"log_loss on n = {n:,}, k = {k} (best of 3):")
    for name, (t, value) in times.items():
        print(f"  {name:<14} {t * 1e3:8.1f} ms   value {value:.12f}")
    ratio = times["scikit-learn"][0] / times["skxent"][0]
    print(f"  skxent is {ratio:.1f}x faster, same value.")
    return 0


def _bench(args):
    from ._bench import run

    run(args.n, args.k, args.repeats, args.seed)
    return 0


def build_parser():
    from . import __version__

    parser = argparse.ArgumentParser(prog="skxent", description="Cross entropy for scikit-learn.")
    parser.add_argument("--version", action="version", version=f"skxent {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the metrics on a real dataset, and their speed")
    demo.add_argument("--n", type=int, default=10**6, help="samples for the timing (default 10**6)")
    demo.set_defaults(func=_demo)

    bench = sub.add_parser("bench", help="benchmarks against scikit-learn")
    from ._bench import add_arguments

    add_arguments(bench)
    bench.set_defaults(func=_bench)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
