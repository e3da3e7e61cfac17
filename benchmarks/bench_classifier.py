"""Time to the optimum: CrossEntropyClassifier against scikit-learn (and glum).

For each problem the optimum f* of the objective (LogisticRegression's, C=1)
is found first, by fitting to a tight tolerance.  Then every contender is run
with a ladder of tolerances, loosest first; the first fit whose objective is
within ``--target`` (relative) of f* counts, and its time is the median of
``--repeat`` runs.  Everything runs in this one process, one contender at a
time, so that all share the machine's state.

Usage::

    python benchmarks/bench_classifier.py                  # all cases, both dtypes
    python benchmarks/bench_classifier.py --cases binary --dtypes float32 --repeat 5
    python benchmarks/bench_classifier.py --quick           # 10x smaller problems

The objective is evaluated in float64 on the data as given (float32 data are
upcast for the evaluation only), so that every contender is measured by the
same function.
"""

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skxent._linear_loss import LinearModelLoss
from skxent.benchmarks import OtherLoad, machine_info
from skxent.classifier import CrossEntropyClassifier

CASES = {
    "multiclass": dict(n_samples=100_000, n_features=100, n_informative=50, n_classes=10),
    "binary": dict(n_samples=100_000, n_features=100, n_informative=50, n_classes=2),
    "binary-large": dict(n_samples=1_000_000, n_features=20, n_classes=2),
}

# Tolerance ladders, loosest first.
LADDERS = {
    "skxent": [1e-4, 1e-5, 1e-6, 1e-7, 1e-8],
    "lbfgs": [1e-4, 1e-5, 1e-6, 1e-7, 1e-8],
    "newton-cg": [1e-4, 1e-5, 1e-6, 1e-8],
    "newton-cholesky": [1e-4, 1e-6, 1e-8],
    "sag": [1e-3, 1e-4, 1e-5, 1e-6],
    "saga": [1e-3, 1e-4, 1e-5, 1e-6],
    "glum": [1e-4, 1e-5, 1e-6, 1e-8],
}


def make_problem(case, dtype, scale):
    params = dict(CASES[case])
    params["n_samples"] = int(params["n_samples"] * scale)
    X, y = make_classification(random_state=0, **params)
    return X.astype(dtype), y


class Objective:
    """LogisticRegression's objective with C, in float64, for any fitted model."""

    def __init__(self, X, y, C):
        classes = np.unique(y)
        X64 = np.asarray(X, dtype=np.float64)
        if classes.shape[0] == 2:
            self.loss = LinearModelLoss(
                X64, (y == classes[1]).astype(float), link="sigmoid", n_outputs=1, C=C
            )
        else:
            self.loss = LinearModelLoss(
                X64,
                np.searchsorted(classes, y).astype(float),
                link="softmax",
                n_outputs=classes.shape[0],
                C=C,
            )

    def __call__(self, coef, intercept):
        with self.loss:
            return self.loss.loss(self.loss.pack(np.atleast_2d(coef), np.ravel(intercept)))


def fit_skxent(X, y, tol, C):
    clf = CrossEntropyClassifier(C=C, tol=tol, max_iter=1000).fit(X, y)
    return clf.coef_, clf.intercept_


def fit_sklearn(solver):
    def fit(X, y, tol, C):
        clf = LogisticRegression(C=C, solver=solver, tol=tol, max_iter=100_000).fit(X, y)
        return clf.coef_, clf.intercept_

    return fit


def fit_glum(X, y, tol, C):
    from glum import GeneralizedLinearRegressor

    classes = np.unique(y)
    target = (y == classes[1]).astype(X.dtype)
    glm = GeneralizedLinearRegressor(
        family="binomial",
        alpha=1.0 / (C * X.shape[0]),
        l1_ratio=0.0,
        gradient_tol=tol,
        max_iter=1000,
    ).fit(X, target)
    return glm.coef_, glm.intercept_


def contenders(case, only):
    out = {"skxent": fit_skxent}
    for solver in ("lbfgs", "newton-cg", "newton-cholesky", "sag", "saga"):
        out[solver] = fit_sklearn(solver)
    if CASES[case]["n_classes"] == 2:
        try:
            import glum  # noqa: F401

            out["glum"] = fit_glum
        except ImportError:
            print("  (glum is not installed: skipped)")
    if only:
        out = {k: v for k, v in out.items() if k in only or k == "skxent"}
    return out


def timed(fit, X, y, tol, C):
    t0 = time.perf_counter()
    coef, intercept = fit(X, y, tol, C)
    return time.perf_counter() - t0, coef, intercept


def run_case(case, dtype, args):
    X, y = make_problem(case, dtype, args.scale)
    objective = Objective(X, y, args.C)
    print(f"\n## {case}, {np.dtype(dtype).name}: X {X.shape}, {np.unique(y).shape[0]} classes")
    with warnings.catch_warnings():
        # Convergence and ill-conditioning warnings of the contenders: the gap
        # to the optimum is what this measures.
        warnings.simplefilter("ignore")
        # The optimum: Newton to the precision of the data, on float64.
        ref = CrossEntropyClassifier(C=args.C, tol=1e-10, max_iter=1000)
        ref.fit(np.asarray(X, dtype=np.float64), y)
        f_star = objective(ref.coef_, ref.intercept_)
        rows = []
        for name, fit in contenders(case, args.solvers).items():
            if name == "newton-cholesky" and CASES[case]["n_classes"] > 2 and args.skip_slow:
                continue
            found = None
            for tol in LADDERS[name]:
                seconds, coef, intercept = timed(fit, X, y, tol, args.C)
                f = objective(coef, intercept)
                f_star = min(f_star, f)
                gap = (f - f_star) / abs(f_star)
                if gap <= args.target:
                    found = (tol, seconds, gap)
                    break
                if seconds > args.budget:
                    break
            if found is None:
                rows.append((name, None, seconds, gap))
                print(
                    f"  {name:16s} did not reach {args.target:g} (last: tol={tol:g}, "
                    f"{seconds:.3f}s, gap {gap:.1e})",
                    flush=True,
                )
                continue
            tol, seconds, gap = found
            times = [seconds] + [timed(fit, X, y, tol, args.C)[0] for _ in range(args.repeat - 1)]
            rows.append((name, tol, float(np.median(times)), gap))
            print(
                f"  {name:16s} tol={tol:<7g} {np.median(times):8.3f}s  gap {gap:.1e}  "
                f"(runs: {', '.join(f'{t:.3f}' for t in times)})",
                flush=True,
            )
    ours = next(r for r in rows if r[0] == "skxent")
    others = [r for r in rows if r[0] != "skxent" and r[1] is not None]
    sk = [r for r in others if r[0] != "glum"]
    summary = []
    if sk:
        best = min(sk, key=lambda r: r[2])
        summary.append(f"fastest scikit-learn: {best[0]} {best[2]:.3f}s")
        if ours[1] is not None:
            summary.append(f"speed-up {best[2] / ours[2]:.2f}x")
    glum = [r for r in others if r[0] == "glum"]
    if glum and ours[1] is not None:
        summary.append(f"glum {glum[0][2]:.3f}s, speed-up {glum[0][2] / ours[2]:.2f}x")
    print(f"  => skxent {ours[2]:.3f}s; " + "; ".join(summary))
    return case, np.dtype(dtype).name, ours, others


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cases", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES)
    )
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--solvers", default="", help="only these contenders (comma-separated)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    parser.add_argument("--target", type=float, default=1e-7, help="relative gap to reach")
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument(
        "--budget", type=float, default=60.0, help="give up a ladder after a fit this slow (s)"
    )
    parser.add_argument(
        "--skip-slow", action="store_true", help="skip newton-cholesky on multiclass"
    )
    parser.add_argument("--quick", action="store_true", help="problems 10x smaller")
    args = parser.parse_args(argv)
    args.scale = 0.1 if args.quick else 1.0
    args.solvers = [s for s in args.solvers.split(",") if s]
    m = machine_info()
    print(f"# command:  python benchmarks/bench_classifier.py {' '.join(argv or sys.argv[1:])}")
    print(f"# machine:  {m['cpu']}, {m['cores']} cores{m['vm']}, {m['system']}")
    print(
        f"# software: Python {m['python']}, numpy {m['numpy']}, scipy {m['scipy']}, "
        f"scikit-learn {m['scikit-learn']}, skxent {m['skxent']} ({m['build']})"
    )
    results = []
    with OtherLoad() as load:
        for case in args.cases.split(","):
            for dtype in args.dtypes.split(","):
                results.append(run_case(case, getattr(np, dtype), args))
    if load.cores is not None:
        print(
            f"\n# load: other processes used {load.cores:.2f} of {m['cores']} cores during "
            f"the run ({load.seconds:.0f} s)"
            + ("; the machine was busy: these times are not reliable" if load.busy else "")
        )
    return results


if __name__ == "__main__":
    main()
