"""Time to the optimum: CrossEntropyClassifier against scikit-learn (glum, skglm).

For each problem the optimum f* of the objective (LogisticRegression's, with
the case's C and l1_ratio) is found first, by fitting to a tight tolerance.
Then every contender is run with a ladder of tolerances, loosest first; the
first fit whose objective is within ``--target`` (relative) of f* counts, and
its time is the median of ``--repeat`` runs (the gap printed is the worst of
them).  scikit-learn's sag and saga get ``random_state=0``: their order of
rows is random, and a lucky order must not decide the tolerance.  Everything
runs in this one process, one contender at a time, so that all share the
machine's state.

Usage::

    python benchmarks/bench_classifier.py                  # all cases, both dtypes
    python benchmarks/bench_classifier.py --cases binary --dtypes float32 --repeat 5
    python benchmarks/bench_classifier.py --quick           # 10x smaller problems
    python benchmarks/bench_classifier.py --cases l1-multiclass,l1-binary --dtypes float64

The L2 cases run scikit-learn's solvers, scikit-learn-intelex's
``LogisticRegression`` and (binary) glum where they are installed.  The
elastic-net cases (``l1-*``, ``en-*``) run scikit-learn's saga (the only
solver it has for them), glum and skglm for binary problems where they are
installed (``pip install glum skglm scikit-learn-intelex``, or the benchmark
extra: never the package's dependencies), with the same objective: their
``alpha`` is ``1 / (C n)``.  The
``text*`` cases are sparse, text-like problems (see :func:`make_text_like`).

The objective is evaluated in float64 on the data as given (float32 data are
upcast for the evaluation only), so that every contender is measured by the
same function.
"""

import argparse
import sys
import time
import warnings

import numpy as np
from scipy import sparse
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skxent._linear_loss import LinearModelLoss
from skxent.benchmarks import OtherLoad, machine_info
from skxent.classifier import CrossEntropyClassifier

_MC = dict(n_features=100, n_informative=50, n_classes=10)
CASES = {
    "multiclass": dict(n_samples=100_000, n_features=100, n_informative=50, n_classes=10),
    "binary": dict(n_samples=100_000, n_features=100, n_informative=50, n_classes=2),
    "binary-large": dict(n_samples=1_000_000, n_features=20, n_classes=2),
    # Elastic net: l1_ratio 1 (lasso) and 0.5, with a C that leaves a good part
    # of the coefficients at zero.
    "l1-multiclass": dict(n_samples=20_000, **_MC, l1_ratio=1.0, C=0.01),
    "en-multiclass": dict(n_samples=20_000, **_MC, l1_ratio=0.5, C=0.01),
    "l1-multiclass-large": dict(n_samples=100_000, **_MC, l1_ratio=1.0, C=0.01),
    "en-multiclass-large": dict(n_samples=100_000, **_MC, l1_ratio=0.5, C=0.01),
    "l1-binary": dict(n_samples=200_000, n_features=50, n_informative=20, n_classes=2,
                      l1_ratio=1.0, C=0.002),
    "en-binary": dict(n_samples=200_000, n_features=50, n_informative=20, n_classes=2,
                      l1_ratio=0.5, C=0.002),
    "l1-binary-large": dict(n_samples=1_000_000, n_features=20, n_classes=2,
                            l1_ratio=1.0, C=0.002),
    # Sparse and text-like: tf-idf rows of ~60 terms from a Zipfian vocabulary.
    "text": dict(text=True, n_samples=100_000, n_features=2**17, n_classes=20, C=1.0),
    "text-C10": dict(text=True, n_samples=100_000, n_features=2**17, n_classes=20, C=10.0),
    "l1-text": dict(text=True, n_samples=100_000, n_features=2**17, n_classes=20,
                    l1_ratio=1.0, C=10.0),
    "l1-text-binary": dict(text=True, n_samples=100_000, n_features=2**17, n_classes=2,
                           l1_ratio=1.0, C=10.0),
}  # fmt: skip

# Tolerance ladders, loosest first, all from 1e-3 (on the elastic-net cases
# that rung is sometimes near enough already, for any contender); skxent's,
# glum's and skglm's every decade down to 1e-10, so that none of the three
# has to overshoot by a factor 100.
LADDERS = {
    "skxent": [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10],
    "lbfgs": [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8],
    "newton-cg": [1e-3, 1e-4, 1e-5, 1e-6, 1e-8],
    "newton-cholesky": [1e-3, 1e-4, 1e-6, 1e-8],
    "sag": [1e-3, 1e-4, 1e-5, 1e-6],
    "saga": [1e-3, 1e-4, 1e-5, 1e-6],
    "glum": [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10],
    "sklearnex": [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8],
    "skglm": [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10],
}


def make_text_like(n_samples, n_features, n_classes, terms=60, seed=0):
    """A sparse tf-idf matrix of documents of ~``terms`` words, and their topics.

    The vocabulary is Zipfian (word r has frequency ~ 1/r); each topic draws a
    third of its words from its own Zipfian ranking of the vocabulary (a random
    permutation), the rest from the common one.  Rows are tf-idf weighted and
    L2-normalised, as ``TfidfVectorizer`` makes them.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n_samples)
    ranks = np.arange(1, n_features + 1)
    zipf = 1.0 / ranks
    zipf /= zipf.sum()
    cdf = np.cumsum(zipf)
    topics = [rng.permutation(n_features) for _ in range(n_classes)]
    n_words = rng.poisson(terms, n_samples).clip(5)
    rows = np.repeat(np.arange(n_samples), n_words)
    words = np.searchsorted(cdf, rng.uniform(size=rows.shape[0])).clip(0, n_features - 1)
    own = rng.uniform(size=rows.shape[0]) < 1 / 3
    for c in range(n_classes):
        pick = own & (y[rows] == c)
        words[pick] = topics[c][words[pick]]
    counts = sparse.csr_matrix(
        (np.ones(rows.shape[0]), (rows, words)), shape=(n_samples, n_features)
    )
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=n_features)
    idf = np.log((1 + n_samples) / (1 + df)) + 1
    X = counts.multiply(idf).tocsr()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sparse.diags(1 / np.maximum(norms, 1e-12)) @ X
    return X.tocsr(), y


def make_problem(case, dtype, scale):
    params = {k: v for k, v in CASES[case].items() if k not in ("l1_ratio", "C", "text")}
    params["n_samples"] = int(params["n_samples"] * scale)
    if CASES[case].get("text"):
        X, y = make_text_like(**params)
    else:
        X, y = make_classification(random_state=0, **params)
    return X.astype(dtype), y


def penalty_of(case, args):
    """(C, l1_ratio) of a case: its own, else the command line's C and L2."""
    return CASES[case].get("C", args.C), CASES[case].get("l1_ratio", 0.0)


class Objective:
    """LogisticRegression's objective with C and l1_ratio, in float64, for any model."""

    def __init__(self, X, y, C, l1_ratio=0.0):
        classes = np.unique(y)
        X64 = X.astype(np.float64) if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
        if classes.shape[0] == 2:
            target, link, K = (y == classes[1]).astype(float), "sigmoid", 1
        else:
            target, link, K = np.searchsorted(classes, y), "softmax", classes.shape[0]
        self.loss = LinearModelLoss(
            X64, target, link=link, n_outputs=K, C=C, l1_ratio=l1_ratio, drop_empty_columns=False
        )

    def __call__(self, coef, intercept):
        with self.loss:
            w = self.loss.pack(np.atleast_2d(coef), np.ravel(intercept))
            return self.loss.loss(w) + self.loss.l1_penalty(w)


def fit_skxent(X, y, tol, C, l1_ratio):
    clf = CrossEntropyClassifier(C=C, l1_ratio=l1_ratio, tol=tol, max_iter=1000).fit(X, y)
    return clf.coef_, clf.intercept_


def fit_sklearn(solver):
    def fit(X, y, tol, C, l1_ratio):
        kwargs = {"l1_ratio": l1_ratio} if l1_ratio else {}
        # random_state: sag and saga visit the rows in a random order, and
        # whether a tolerance reaches the target must not be left to chance
        clf = LogisticRegression(
            C=C, solver=solver, tol=tol, max_iter=100_000, random_state=0, **kwargs
        )
        clf.fit(X, y)
        return clf.coef_, clf.intercept_

    return fit


def fit_sklearnex(X, y, tol, C, l1_ratio):
    from sklearnex.linear_model import LogisticRegression as IntelLogisticRegression

    clf = IntelLogisticRegression(C=C, tol=tol, max_iter=100_000).fit(X, y)
    return clf.coef_, clf.intercept_


def fit_glum(X, y, tol, C, l1_ratio):
    from glum import GeneralizedLinearRegressor

    classes = np.unique(y)
    target = (y == classes[1]).astype(X.dtype)
    glm = GeneralizedLinearRegressor(
        family="binomial",
        alpha=1.0 / (C * X.shape[0]),
        l1_ratio=l1_ratio,
        gradient_tol=tol,
        max_iter=1000,
    ).fit(X, target)
    return glm.coef_, glm.intercept_


def fit_skglm(X, y, tol, C, l1_ratio):
    from skglm import SparseLogisticRegression

    clf = SparseLogisticRegression(
        alpha=1.0 / (C * X.shape[0]), l1_ratio=l1_ratio, tol=tol, max_iter=1000
    ).fit(X, y)
    return clf.coef_, clf.intercept_


def contenders(case, only):
    out = {"skxent": fit_skxent}
    binary = CASES[case]["n_classes"] == 2
    if CASES[case].get("l1_ratio"):
        out["saga"] = fit_sklearn("saga")
        optional = {"glum": fit_glum, "skglm": fit_skglm} if binary else {}
    else:
        for solver in ("lbfgs", "newton-cg", "newton-cholesky", "sag", "saga"):
            out[solver] = fit_sklearn(solver)
        optional = {"sklearnex": fit_sklearnex}
        if binary:
            optional["glum"] = fit_glum
    for name, fit in optional.items():
        try:
            __import__(name)
        except ImportError:
            print(f"  ({name} is not installed: skipped)")
        else:
            out[name] = fit
    if only:
        out = {k: v for k, v in out.items() if k in only or k == "skxent"}
    return out


def hessian_bytes(X, y):
    """Bytes of the dense Hessian of newton-cholesky (scikit-learn's) on X, y."""
    k = np.unique(y).shape[0]
    dof = (1 if k == 2 else k) * (X.shape[1] + 1)
    return 8 * dof * dof


def timed(fit, X, y, tol, penalty):
    t0 = time.perf_counter()
    coef, intercept = fit(X, y, tol, *penalty)
    return time.perf_counter() - t0, coef, intercept


def run_case(case, dtype, args):
    X, y = make_problem(case, dtype, args.scale)
    penalty = penalty_of(case, args)
    objective = Objective(X, y, *penalty)
    print(
        f"\n## {case}, {np.dtype(dtype).name}: X {X.shape}, {np.unique(y).shape[0]} classes, "
        f"C={penalty[0]:g}, l1_ratio={penalty[1]:g}"
    )
    with warnings.catch_warnings():
        # Convergence and ill-conditioning warnings of the contenders: the gap
        # to the optimum is what this measures.
        warnings.simplefilter("ignore")
        # The optimum: Newton to the precision of the data, on float64.
        ref = CrossEntropyClassifier(C=penalty[0], l1_ratio=penalty[1], tol=1e-10, max_iter=1000)
        ref.fit(X.astype(np.float64), y)
        f_star = objective(ref.coef_, ref.intercept_)
        zeros = float(np.mean(ref.coef_ == 0))
        if penalty[1]:
            print(f"  optimum: {100 * zeros:.1f}% of the coefficients are 0")
        rows = []
        for name, fit in contenders(case, args.solvers).items():
            if name == "newton-cholesky" and CASES[case]["n_classes"] > 2 and args.skip_slow:
                continue
            if name == "newton-cholesky" and hessian_bytes(X, y) > 2**33:
                # Its Hessian is dense: (k (d + 1))^2 float64 entries.
                print(f"  {name:16s} skipped: its dense Hessian would take "
                      f"{hessian_bytes(X, y) / 2**30:.3g} GiB")  # fmt: skip
                continue
            found, failed = None, False
            for tol in LADDERS[name]:
                try:
                    seconds, coef, intercept = timed(fit, X, y, tol, penalty)
                except MemoryError as exc:  # glum forms the dense Hessian of sparse X
                    print(f"  {name:16s} failed: {type(exc).__name__}: {str(exc)[:80]}")
                    failed = True
                    break
                f = objective(coef, intercept)
                f_star = min(f_star, f)
                gap = (f - f_star) / abs(f_star)
                if gap <= args.target:
                    found = (tol, seconds, gap)
                    break
                if seconds > args.budget:
                    break
            if failed:
                continue
            if found is None:
                rows.append((name, None, seconds, gap))
                print(
                    f"  {name:16s} did not reach {args.target:g} (last: tol={tol:g}, "
                    f"{seconds:.3f}s, gap {gap:.1e})",
                    flush=True,
                )
                continue
            tol, seconds, gap = found
            times = [seconds]
            for _ in range(args.repeat - 1):  # every run must reach the target: the worst gap
                seconds, coef, intercept = timed(fit, X, y, tol, penalty)
                times.append(seconds)
                gap = max(gap, (objective(coef, intercept) - f_star) / abs(f_star))
            rows.append((name, tol, float(np.median(times)), gap))
            print(
                f"  {name:16s} tol={tol:<7g} {np.median(times):8.3f}s  gap {gap:.1e}  "
                f"(runs: {', '.join(f'{t:.3f}' for t in times)})",
                flush=True,
            )
    ours = next(r for r in rows if r[0] == "skxent")
    others = [r for r in rows if r[0] != "skxent" and r[1] is not None]
    sk = [r for r in others if r[0] not in ("glum", "skglm", "sklearnex")]
    summary = []
    if sk:
        best = min(sk, key=lambda r: r[2])
        summary.append(f"fastest scikit-learn: {best[0]} {best[2]:.3f}s")
        if ours[1] is not None:
            summary.append(f"speed-up {best[2] / ours[2]:.2f}x")
    for peer in ("sklearnex", "glum", "skglm"):
        found = [r for r in others if r[0] == peer]
        if found and ours[1] is not None:
            summary.append(f"{peer} {found[0][2]:.3f}s, speed-up {found[0][2] / ours[2]:.2f}x")
    print(f"  => skxent {ours[2]:.3f}s; " + "; ".join(summary))
    return case, np.dtype(dtype).name, ours, others


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = "multiclass,binary,binary-large"
    parser.add_argument(
        "--cases", default=default, help="comma-separated, of: " + ", ".join(CASES)
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
