"""Where ``solver="auto"`` switches on sparse data: newton-cg's two preconditioners.

On sparse X, newton-cg preconditions with a Kronecker-factored Hessian
(K-FAC) while its feature factor stays a full (d + 1)^2 matrix that is cheap
to compute (at most 2000 features), and with the Hessian's diagonal beyond
(see ``skxent._solvers._preconditioner``).  This script times both, and
skxent's lbfgs, on text-like problems (``bench_classifier.make_text_like``)
of growing width, each to ``tol`` (max |gradient| of the mean-scaled
objective), median of ``--repeat`` runs, in one process.

Usage::

    python benchmarks/bench_sparse_crossover.py
    python benchmarks/bench_sparse_crossover.py --widths 500,2000,8000 --n 20000
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import skxent._solvers as solvers
from skxent import CrossEntropyClassifier
from skxent.benchmarks import OtherLoad, machine_info

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_classifier import make_text_like  # noqa: E402


def fit_time(X, y, C, tol, solver, preconditioner, repeat):
    """Median seconds of a fit, its iterations, and the preconditioner newton-cg
    used: forced to ``preconditioner`` ("kfac", "diagonal") or left to the rule
    (None)."""
    rule = solvers._preconditioner
    forced = {"kfac": solvers.KFAC, "diagonal": solvers.DiagonalHessian}.get(preconditioner)
    used = []

    def chosen(loss):
        made = forced(loss) if forced is not None else rule(loss)
        used.append(type(made).__name__)
        return made

    solvers._preconditioner = chosen
    try:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf = CrossEntropyClassifier(C=C, tol=tol, solver=solver, max_iter=1000).fit(X, y)
            times.append(time.perf_counter() - t0)
    finally:
        solvers._preconditioner = rule
    names = {"KFAC": "K-FAC", "DiagonalHessian": "diagonal", "BlockJacobi": "blocks"}
    name = names.get(used[-1], "-") if used else "-"
    return float(np.median(times)), int(np.max(clf.n_iter_)), name


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widths", default="500,2000,8000,32768,131072")
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--classes", type=int, default=20)
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    m = machine_info()
    options = " ".join(argv or sys.argv[1:])
    print(f"# command:  python benchmarks/bench_sparse_crossover.py {options}")
    print(f"# machine:  {m['cpu']}, {m['cores']} cores{m['vm']}, {m['system']}")
    print(f"# software: scikit-learn {m['scikit-learn']}, skxent {m['skxent']} ({m['build']})")
    print(
        f"# n = {args.n}, {args.classes} classes, C = {args.C}, tol = {args.tol}; "
        f"median of {args.repeat} fits (iterations)"
    )
    print(f"{'features':>9}  {'auto picks':>10}  {'K-FAC':>14}  {'diagonal':>14}  {'lbfgs':>14}")
    with OtherLoad() as load:
        for d in (int(w) for w in args.widths.split(",")):
            X, y = make_text_like(args.n, d, args.classes, seed=0)
            cells, picked = [], "-"
            for solver, pre in (
                ("newton-cg", None),
                ("newton-cg", "kfac"),
                ("newton-cg", "diagonal"),
                ("lbfgs", None),
            ):
                seconds, n_iter, used = fit_time(X, y, args.C, args.tol, solver, pre, args.repeat)
                if solver == "newton-cg" and pre is None:
                    picked = used
                    continue
                cells.append(f"{seconds:8.3f}s ({n_iter:3d})")
            print(f"{d:>9}  {picked:>10}  " + "  ".join(f"{c:>14}" for c in cells), flush=True)
    if load.cores is not None:
        print(
            f"# load: other processes used {load.cores:.2f} of {m['cores']} cores "
            f"({load.seconds:.0f} s)"
        )


if __name__ == "__main__":
    main()
