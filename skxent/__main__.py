"""The command line: ``python -m skxent demo | score | bench``.

``demo`` is the main job a new user runs first; ``score`` computes the metrics
of a file of predictions against a file of targets; ``bench`` times skxent
against scikit-learn.
"""

import argparse
import json
import math
import sys
import textwrap
import time
import warnings


def _tol(value):
    """1e-08 as ``1e-8``."""
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _step(text):
    """Print what the demo is about to do, at once (the work follows on the same line)."""
    print(text, end="", flush=True)


def _demo(args):
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from . import CrossEntropyClassifier, benchmarks, metrics, show_config

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
    Cs, folds, tol = [0.1, 1.0, 10.0], 3, 1e-8
    scoring = ["neg_cross_entropy", "neg_cross_entropy_bits", "accuracy"]
    print(f"Digits ({len(y_train)} training, {len(y_test)} test images, 10 classes).")
    print(
        "The same search for both models: Pipeline(StandardScaler, model) in GridSearchCV\n"
        f"over C = {', '.join(f'{C:g}' for C in Cs)}, {folds}-fold, scored by name with "
        f"skxent's scorers\n({', '.join(scoring)}), refit on neg_cross_entropy.\n"
        f"Both models are fitted to tol={_tol(tol)}, so that both reach the optimum of the "
        "objective they share."
    )
    models = {
        "CrossEntropyClassifier": CrossEntropyClassifier(tol=tol),
        "LogisticRegression": LogisticRegression(tol=tol, max_iter=10_000),
    }
    n_steps = len(models) + 2
    rows, searches = [], {}
    for step, (name, clf) in enumerate(models.items(), 1):
        pipe = Pipeline([("scale", StandardScaler()), ("clf", clf)])
        search = GridSearchCV(
            pipe, {"clf__C": Cs}, scoring=scoring, refit="neg_cross_entropy", cv=folds
        )
        _step(
            f"[{step}/{n_steps}] Fitting {name}: {folds} folds for each of {len(Cs)} "
            f"candidates, totalling {folds * len(Cs)} fits ..."
        )
        t0 = time.perf_counter()
        search.fit(X_train, y_train)
        fit_time = time.perf_counter() - t0
        print(f" {fit_time:.2f} s")
        searches[name] = search
        rows.append((f"{name}, tol={_tol(tol)}", search, fit_time, search.best_params_["clf__C"]))

    # Each model once more, at the best C, with its own default tolerance.
    best_C = searches["CrossEntropyClassifier"].best_params_["clf__C"]
    defaults = {
        "CrossEntropyClassifier": CrossEntropyClassifier(C=best_C),
        "LogisticRegression": LogisticRegression(C=best_C, max_iter=10_000),
    }
    _step(
        f"[{len(models) + 1}/{n_steps}] Fitting each model once more at C={best_C:g} with "
        "its default tol ..."
    )
    t0 = time.perf_counter()
    for name, clf in defaults.items():
        pipe = Pipeline([("scale", StandardScaler()), ("clf", clf)])
        t1 = time.perf_counter()
        pipe.fit(X_train, y_train)
        label = f"{name}, default tol={_tol(clf.tol)}"
        rows.append((label, pipe, time.perf_counter() - t1, best_C))
    print(f" {time.perf_counter() - t0:.2f} s")

    print()
    width = max(len(label) for label, *_ in rows)
    print(f"  {'':<{width}}  {'test cross entropy':^19}")
    print(f"  {'model, tolerance':<{width}}  {'nats':>9} {'bits':>9} {'accuracy':>9} {'time':>7}")
    test_ce = []
    for i, (label, model, seconds, C) in enumerate(rows):
        if i == len(models):
            print(f"  at C={best_C:g}, each model's default tolerance (one fit each):")
        proba = model.predict_proba(X_test)
        ce = metrics.cross_entropy(y_test, proba)
        bits = metrics.cross_entropy(y_test, proba, base=2)
        test_ce.append((ce, bits))
        acc = float(np.mean(model.predict(X_test) == y_test))
        what = f"C={C:g}" if i >= len(models) else f"best C={C:g}"
        print(f"  {label:<{width}}  {ce:9.6f} {bits:9.6f} {acc:9.4f} {seconds:6.2f}s   {what}")
    coef = {name: search.best_estimator_[-1].coef_ for name, search in searches.items()}
    diff = float(np.max(np.abs(coef["CrossEntropyClassifier"] - coef["LogisticRegression"])))
    (ce_opt, _), _, (ce_skx, _), (ce_lr, _) = test_ce
    print()
    print(
        f"  Same objective, same C, same tol={_tol(tol)}: both reach the same optimum (largest\n"
        f"  difference between their coefficients {diff:.1e}), so their scores agree; the\n"
        "  times compare a Newton method (CrossEntropyClassifier's solver) with L-BFGS\n"
        "  (LogisticRegression's) on the same work.\n"
        "  At the default tol=1e-4 both stop before the optimum, so their test cross entropy\n"
        f"  moves from the optimum's by {ce_skx - ce_opt:+.6f} (CrossEntropyClassifier) and "
        f"{ce_lr - ce_opt:+.6f}\n  (LogisticRegression): that, not a different model, is the "
        "difference in the last two rows."
    )
    if ce_skx < ce_opt or ce_lr < ce_opt:
        print(
            "  (Lower than at the optimum: stopping early acts as a little extra "
            "regularisation here.)"
        )
    print()

    n, k, repeats = args.n, 10, 5
    _step(
        f"[{n_steps}/{n_steps}] Timing log_loss on n = {n:,} samples, k = {k} classes: drawing "
        f"the random\n      probabilities, then {repeats} runs of each, alternating ..."
    )
    t0 = time.perf_counter()
    report = benchmarks.run(n, k, repeats, seed=0, cases=["log_loss"], dtypes=["float64"], out=None)
    print(f" {time.perf_counter() - t0:.1f} s")
    by_name = {case.name: case for case in report.cases}
    case, bare = by_name["log_loss float64"], by_name["log_loss float64 vs numpy"]
    print(
        f"  skxent           {case.t_skxent * 1e3:8.1f} ms  (medians of {repeats} runs each; "
        f"the runs scattered by {case.noise:.0%})"
    )
    print(f"  scikit-learn     {case.t_reference * 1e3:8.1f} ms")
    print(f"  numpy's bare gather + log, no checks  {bare.t_reference * 1e3:8.1f} ms")
    print(
        f"  skxent is {case.ratio:.1f}x faster; the values differ by {case.rel_diff:.1e} "
        "(relative)."
    )
    machine = report.machine
    print(
        f"  Measured on this machine ({machine['cpu']}, {machine['cores']} cores, scikit-learn "
        f"{machine['scikit-learn']}),\n  as `python -m skxent bench` measures; to repeat it "
        f"alone:\n    {report.command}"
    )
    if report.other_cores is not None:
        print(
            f"  Other processes used {report.other_cores:.2f} of the {machine['cores']} cores "
            "meanwhile."
        )
    for note in report.notes():
        if note.startswith("The repeats of"):  # the scatter is printed above
            continue
        print(textwrap.fill(note, 96, initial_indent="  NOTE: ", subsequent_indent="        "))
    return 0


def _bench(args):
    from .benchmarks import run

    def progress(text):
        print(text, file=sys.stderr, flush=True)

    run(
        args.n,
        args.k,
        args.repeats,
        args.seed,
        cases=args.cases,
        dtypes=args.dtypes,
        progress=progress,
    )
    return 0


def _add_bench_arguments(parser):
    from .benchmarks import CASES, DTYPES

    parser.add_argument("--n", type=int, default=10**6, help="samples (default 10**6)")
    parser.add_argument("--k", type=int, default=10, help="classes (default 10)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs of each (default 7)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--cases",
        nargs="+",
        choices=CASES,
        default=list(CASES),
        help="which cases to run (default: all)",
    )
    parser.add_argument(
        "--dtypes", nargs="+", choices=DTYPES, default=list(DTYPES), help="(default: both)"
    )


# ---------------------------------------------------------------------------
# score: the metrics of a predictions file
# ---------------------------------------------------------------------------


class ScoreError(Exception):
    """A problem with the user's files or options: one line on stderr, exit status 2."""


class _Table:
    """The data rows of one input file, and where each row came from.

    ``values`` is 1-D (one column) or 2-D; ``lines[i]`` is the 1-based line
    number of row ``i`` in a CSV file (None for ``.npy``).
    """

    def __init__(self, role, path, values, lines):
        self.role = role
        self.path = path
        self.values = values
        self.lines = lines

    def where(self, i=None):
        """``y_pred file 'p.csv', line 7``: the place to name in a message."""
        text = f"{self.role} file {self.path!r}"
        if i is None:
            return text
        if self.lines is None:
            return f"{text}, row {i}"
        return f"{text}, line {self.lines[i]}"


def _one_line(text):
    return " ".join(str(text).split())


def _read_npy(path, role):
    import numpy as np

    try:
        values = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        if "allow_pickle" in str(exc) or "pickled" in str(exc):
            raise ScoreError(
                f"{role} file {path!r}: holds Python objects (an object array), which this "
                "command does not load; save numbers, or text labels, with numpy.save"
            ) from None
        raise ScoreError(
            f"{role} file {path!r}: cannot load it as .npy ({_one_line(exc)})"
        ) from None
    if not isinstance(values, np.ndarray):
        raise ScoreError(f"{role} file {path!r}: holds several arrays (.npz); give one .npy array")
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.ndim not in (1, 2):
        raise ScoreError(
            f"{role} file {path!r}: needs a 1-D or 2-D array; got shape {values.shape}"
        )
    if values.shape[0] == 0:
        raise ScoreError(f"{role} file {path!r}: no data (the array is empty)")
    if values.dtype.kind not in "biufU":
        raise ScoreError(
            f"{role} file {path!r}: needs numbers (or text labels); got dtype {values.dtype}"
        )
    return _Table(role, path, values, None)


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _header_error(role, path, number, cells):
    shown = ", ".join(repr(cell) for cell in cells[:4]) + (", ..." if len(cells) > 4 else "")
    return ScoreError(
        f"{role} file {path!r}, line {number}: looks like a header row ({shown}), not data; "
        "remove that line, or make it a comment by starting it with '#'"
    )


def _read_table(path, role, *, text=False):
    """Read a CSV (as ``numpy.savetxt`` writes it) or a ``.npy`` file.

    Cells are separated by commas, or by whitespace when a line has no comma;
    blank lines and lines starting with ``#`` (savetxt's header) are skipped.
    With ``text=True`` the cells are kept as strings (labels).
    """
    import numpy as np

    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ScoreError(f"{role} file {path!r}: cannot read it ({exc.strerror})") from None
    if raw.startswith(b"\x93NUMPY"):
        return _read_npy(path, role)
    if raw.startswith(b"PK\x03\x04"):
        raise ScoreError(
            f"{role} file {path!r}: a zip archive (.npz, as numpy.savez writes), not one array; "
            "save the array alone with numpy.save"
        )
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if path.lower().endswith(".npy"):
            raise ScoreError(
                f"{role} file {path!r}: not a NumPy .npy file (it does not start with the "
                ".npy header); write it with numpy.save"
            ) from None
        line = raw[: exc.start].count(b"\n") + 1
        raise ScoreError(
            f"{role} file {path!r}, line {line}: not text (byte {exc.start} is not UTF-8); "
            "expected a CSV file or a .npy file"
        ) from None

    if path.lower().endswith(".npy"):
        what = "it is empty" if not content.strip() else "it holds text"
        raise ScoreError(
            f"{role} file {path!r}: not a NumPy .npy file ({what}); if it is text (CSV), "
            "name it .csv; otherwise write it with numpy.save"
        )
    lines = content.split("\n")
    newline_at_end = content.endswith("\n")
    if newline_at_end:
        lines.pop()
    rows, numbers = [], []
    n_cols = first = None
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if "," in stripped:
            cells = [cell.strip() for cell in stripped.split(",")]
        elif text:
            cells = [stripped]  # a label may contain spaces
        else:
            cells = stripped.split()
        truncated = number == len(lines) and not newline_at_end
        if n_cols is None:
            n_cols, first = len(cells), number
        elif len(cells) != n_cols:
            if (
                not text
                and len(rows) == 1
                and not any(map(_is_number, rows[0]))
                and all(map(_is_number, cells))
            ):
                raise _header_error(role, path, first, rows[0])
            if truncated and len(cells) < n_cols:
                raise ScoreError(
                    f"{role} file {path!r}, line {number}: truncated file: the last line "
                    f"has {len(cells)} of {n_cols} columns and no newline at its end"
                )
            raise ScoreError(
                f"{role} file {path!r}, line {number}: expected {n_cols} columns "
                f"(as on line {first}), found {len(cells)}"
            )
        rows.append(cells)
        numbers.append(number)
    if not rows:
        raise ScoreError(f"{role} file {path!r}: no data (the file is empty or only comments)")

    table = _Table(role, path, None, np.asarray(numbers))
    if text:
        if n_cols != 1:
            raise ScoreError(
                f"{role} file {path!r}, line {first}: text labels need one column, found {n_cols}"
            )
        table.values = np.asarray([cells[0] for cells in rows])
        return table
    try:
        values = np.asarray(rows, dtype=np.float64)
    except ValueError:
        values = None
    if values is None:  # find the offending cell
        if (
            len(rows) > 1
            and not any(map(_is_number, rows[0]))
            and all(_is_number(cell) for cells in rows[1:] for cell in cells)
        ):
            raise _header_error(role, path, first, rows[0])
        for i, cells in enumerate(rows):
            for j, cell in enumerate(cells):
                try:
                    float(cell)
                except ValueError:
                    what = "an empty cell" if cell == "" else f"non-numeric cell {cell!r}"
                    hint = ""
                    if i == len(rows) - 1 and not newline_at_end:
                        hint = " (truncated file? there is no newline at its end)"
                    raise ScoreError(
                        f"{role} file {path!r}, line {numbers[i]}, column {j + 1}: {what}{hint}"
                    ) from None
        raise ScoreError(f"{role} file {path!r}: cannot read the numbers")  # pragma: no cover
    table.values = values.ravel() if n_cols == 1 else values
    return table


def _check_same_rows(a, b):
    """One row per sample in each file; else name the first row without a partner."""
    na, nb = a.values.shape[0], b.values.shape[0]
    if na == nb:
        return
    longer, shorter = (a, b) if na > nb else (b, a)
    n = min(na, nb)
    raise ScoreError(
        f"{longer.where(n)}: no matching row in {shorter.where()}, which has {n} rows "
        f"({a.role} has {na}, {b.role} has {nb}; one row per sample in each)"
    )


def _parse_labels(labels):
    """``--labels``: numbers (ints where integral) or strings, in column order."""
    import numpy as np

    if labels is None:
        return None
    if len(labels) == 1 and "," in labels[0]:
        labels = [s.strip() for s in labels[0].split(",")]
    try:
        numeric = np.asarray([float(s) for s in labels])
    except ValueError:
        out = np.asarray(labels)
    else:
        if not np.isfinite(numeric).all():
            raise ScoreError(f"--labels: labels must be finite numbers or text; got {labels}")
        out = numeric.astype(np.int64) if (numeric == np.round(numeric)).all() else numeric
    if len(set(out.tolist())) != len(out):
        raise ScoreError(f"--labels: repeated labels in {labels}")
    return out


def _base(text):
    if text.lower() == "e":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value > 0 and value != 1):
        raise argparse.ArgumentTypeError(f"the base must be a positive number other than 1: {text}")
    return value


# The library's parameter names, as the command line spells them.
_FLAGS = (
    ("from_logits=True", "--from-logits"),
    ("renormalize=True", "--renormalize"),
    ("multilabel=True", "--multilabel"),
    ("labels=", "--labels"),
)


def _as_flags(text):
    """A library message with its parameter names spelled as this command's flags."""
    for name, flag in _FLAGS:
        text = text.replace(name, flag)
    if text.startswith("labels "):
        text = "--" + text
    return text


def _located(exc, tables):
    """A library error as the command line says it: the file and line at fault."""
    table = tables.get(getattr(exc, "argument", None))
    if table is None:
        return _as_flags(str(exc))
    detail = getattr(exc, "detail", str(exc))
    return f"{table.where(getattr(exc, 'row', None))}: {_as_flags(detail)}"


def _compute_scores(args):
    """Read the files and score them with :func:`skxent.metrics.score_predictions`."""
    from .metrics import score_predictions

    labels = _parse_labels(args.labels)
    y_pred = _read_table(args.y_pred, "y_pred")
    y_true = _read_table(
        args.y_true, "y_true", text=labels is not None and labels.dtype.kind == "U"
    )
    if y_pred.values.dtype.kind not in "biuf":
        raise ScoreError(f"{y_pred.where()}: needs numbers; got dtype {y_pred.values.dtype}")
    if y_true.values.dtype.kind == "U" and labels is None:
        raise ScoreError(f"{y_true.where(0)}: text labels need --labels (the column order)")
    if y_true.values.dtype.kind == "U" and len(y_true.values) > 1:
        known = set(labels.tolist())
        first, rest = y_true.values[0], y_true.values[1:]
        if first not in known and all(label in known for label in rest.tolist()):
            raise _header_error("y_true", y_true.path, y_true.lines[0], [str(first)])
    _check_same_rows(y_true, y_pred)
    tables = {"y_true": y_true, "y_pred": y_pred}
    sample_weight = None
    if args.sample_weight is not None:
        weights = _read_table(args.sample_weight, "sample_weight")
        if weights.values.ndim != 1 or weights.values.dtype.kind not in "biuf":
            raise ScoreError(f"{weights.where()}: needs one number per line (one column)")
        _check_same_rows(weights, y_pred)
        tables["sample_weight"] = weights
        sample_weight = weights.values
    try:
        return score_predictions(
            y_true.values,
            y_pred.values,
            labels=labels,
            sample_weight=sample_weight,
            base=args.base,
            from_logits=args.from_logits,
            multilabel=args.multilabel,
            renormalize=args.renormalize,
        )
    except (ValueError, TypeError) as exc:
        message = _located(exc, tables)
        if "sum to 1" in message and not args.from_logits and "--from-logits" not in message:
            # Raw scores that happen to lie in [0, 1] fail here, not on the range.
            message += "; raw scores? pass --from-logits"
        raise ScoreError(message) from None


def _score(args):
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = _compute_scores(args)
    except ScoreError as exc:
        print(f"skxent score: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    for w in caught:
        print(f"skxent score: warning: {_one_line(w.message)}", file=sys.stderr)
    scores, units = report["metrics"], report["units"]
    if args.json:
        info = {k: v for k, v in report.items() if k not in ("metrics", "units")}
        print(json.dumps(dict(info, base=args.base, metrics=scores, units=units), indent=2))
        return 0
    size = report.get("n_classes", report.get("n_labels"))
    kind = "labels" if "n_labels" in report else "classes"
    print(f"y_true: {args.y_true}")
    print(f"y_pred: {args.y_pred}{' (logits)' if args.from_logits else ''}")
    print(f"{report['problem']}, {report['n_samples']} samples, {size} {kind}")
    print()
    width = max(len(name) for name in scores)
    for name, value in scores.items():
        note = "  (gamma=2)" if name == "focal_cross_entropy" else ""
        print(f"  {name:<{width}}  {value:>16.10f}  {units[name]}{note}".rstrip())
    return 0


_SCORE_EPILOG = """\
Files: CSV as numpy.savetxt writes it (comma or whitespace separated, '#'
comments skipped), or .npy.  y_true holds one label per line (integers are
column indices of y_pred unless --labels says otherwise), or a matrix of
target probabilities with one column per column of y_pred (soft targets; or
multilabel targets when its rows, or y_pred's, do not sum to one).  y_pred
holds one row of class probabilities per sample, or one column: the
probability of the positive class of a binary problem.

Metrics: cross_entropy, focal_cross_entropy (gamma=2) and perplexity always;
log_loss (scikit-learn's, always in nats) for labels and probabilities;
binary_cross_entropy for binary and multilabel problems; the targets'
entropy and the KL divergence for soft targets.

A malformed file or a mismatch between the files is reported on one line
naming the file and the line, with exit status 2.

example:
  python -m skxent score --y-true y.csv --y-pred proba.csv --base 2
"""


def _add_score_arguments(parser):
    parser.add_argument(
        "--y-true", required=True, metavar="FILE", help="targets: labels or a target matrix"
    )
    parser.add_argument(
        "--y-pred",
        required=True,
        metavar="FILE",
        help="predicted probabilities (or raw scores with --from-logits)",
    )
    parser.add_argument(
        "--labels",
        nargs="+",
        metavar="LABEL",
        help="the label of each column of y_pred, in order (e.g. --labels cat dog bird)",
    )
    parser.add_argument(
        "--base",
        type=_base,
        default=None,
        metavar="B",
        help="logarithm base: 2 for bits, e (the default) for nats",
    )
    parser.add_argument(
        "--from-logits",
        action="store_true",
        help="y_pred holds raw scores (logits): stable log-softmax / log-sigmoid",
    )
    parser.add_argument("--sample-weight", metavar="FILE", help="one weight per sample")
    parser.add_argument(
        "--multilabel",
        action="store_true",
        help="y_true and y_pred are (n, L): independent labels, binary cross entropy",
    )
    parser.add_argument(
        "--renormalize",
        action="store_true",
        help="divide each row of y_pred by its sum (for probabilities saved with few digits)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def build_parser():
    from . import __version__

    parser = argparse.ArgumentParser(prog="skxent", description="Cross entropy for scikit-learn.")
    parser.add_argument("--version", action="version", version=f"skxent {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo",
        help="CrossEntropyClassifier against LogisticRegression in the same grid search, "
        "and log_loss's speed",
        description="The same GridSearchCV (same grid, same tol) for CrossEntropyClassifier "
        "and LogisticRegression on the digits, scored with skxent's scorers; then log_loss "
        "timed against scikit-learn's as `python -m skxent bench` times it.",
    )
    demo.add_argument("--n", type=int, default=10**6, help="samples for the timing (default 10**6)")
    demo.set_defaults(func=_demo)

    score = sub.add_parser(
        "score",
        help="every cross-entropy metric of a predictions file",
        description="Compute every cross-entropy metric of predictions against targets.",
        epilog=_SCORE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_score_arguments(score)
    score.set_defaults(func=_score)

    bench = sub.add_parser(
        "bench",
        help="benchmarks against scikit-learn",
        description="Time skxent against scikit-learn in one process, on the same data, "
        "and print the ratios with the machine, the versions and its load during the run.",
    )
    _add_bench_arguments(bench)
    bench.set_defaults(func=_bench)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
