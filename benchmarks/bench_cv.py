"""Choosing C by cross-validation: CrossEntropyClassifierCV against scikit-learn.

Three ways to the same choice, in one process, one after the other, at the
same ``tol``, ``Cs`` and folds (5-fold, stratified):

- ``CrossEntropyClassifierCV(Cs, cv)``: a warm-started path per fold;
- ``LogisticRegressionCV(Cs, cv)`` (its default lbfgs, and newton-cholesky);
- ``GridSearchCV(CrossEntropyClassifier(), {"C": Cs}, cv)``: a cold fit per
  point and fold, what the warm start saves.

Usage::

    python benchmarks/bench_cv.py                       # both problems
    python benchmarks/bench_cv.py --quick --repeat 1    # 10x smaller
"""

import argparse
import os
import platform
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skxent import CrossEntropyClassifier, CrossEntropyClassifierCV
from skxent.loss import max_threads

CASES = {
    "multiclass": dict(n_samples=100_000, n_features=100, n_informative=50, n_classes=10),
    "binary": dict(n_samples=1_000_000, n_features=20, n_classes=2),
}


def contenders(Cs, cv, tol, n_jobs):
    return {
        "skxent CV": lambda: CrossEntropyClassifierCV(
            Cs=Cs, cv=cv, tol=tol, scoring="neg_log_loss", n_jobs=n_jobs
        ),
        "LogisticRegressionCV lbfgs": lambda: LogisticRegressionCV(
            Cs=Cs,
            cv=cv,
            tol=tol,
            scoring="neg_log_loss",
            n_jobs=n_jobs,
            l1_ratios=(0.0,),
            use_legacy_attributes=False,
        ),  # fmt: skip
        "LogisticRegressionCV newton-cholesky": lambda: LogisticRegressionCV(
            Cs=Cs,
            cv=cv,
            tol=tol,
            scoring="neg_log_loss",
            n_jobs=n_jobs,
            solver="newton-cholesky",
            l1_ratios=(0.0,),
            use_legacy_attributes=False,
        ),  # fmt: skip
        "GridSearchCV(skxent)": lambda: GridSearchCV(
            CrossEntropyClassifier(tol=tol),
            {"C": list(Cs)},
            cv=cv,
            scoring="neg_log_loss",
            n_jobs=n_jobs,
        ),  # fmt: skip
    }


def chosen_C(model):
    return model.C_ if hasattr(model, "C_") else model.best_params_["C"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--Cs", type=int, default=10)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    parser.add_argument("--quick", action="store_true", help="problems 10x smaller")
    args = parser.parse_args(argv)
    print(
        f"# bench_cv: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"skxent threads {max_threads()}; Cs={args.Cs}, {args.folds}-fold, tol={args.tol:g}"
    )
    Cs = np.logspace(-4, 4, args.Cs)
    for case in args.cases.split(","):
        params = dict(CASES[case])
        if args.quick:
            params["n_samples"] //= 10
        X, y = make_classification(random_state=0, **params)
        cv = StratifiedKFold(args.folds, shuffle=True, random_state=0)
        print(f"\n## {case}: X {X.shape}, {np.unique(y).shape[0]} classes")
        times = {}
        for name, make in contenders(Cs, cv, args.tol, args.n_jobs).items():
            runs = []
            for _ in range(args.repeat):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    model = make().fit(X, y)
                    runs.append(time.perf_counter() - t0)
            times[name] = float(np.median(runs))
            print(
                f"  {name:38s} {times[name]:8.2f}s  C_ = {chosen_C(model):.3g}  "
                f"(runs: {', '.join(f'{t:.2f}' for t in runs)})",
                flush=True,
            )
        ours = times["skxent CV"]
        print(
            "  => skxent CV is "
            + ", ".join(
                f"{t / ours:.1f}x faster than {n}" for n, t in times.items() if n != "skxent CV"
            )
        )


if __name__ == "__main__":
    main()
