"""The command line: ``python -m skxent demo | score | bench``.

``demo`` is the main job a new user runs first; ``score`` computes the metrics
of a file of predictions against a file of targets; ``bench`` times skxent
against scikit-learn.
"""

import argparse
import json
import math
import sys
import time
import warnings


def _demo(args):
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss as sk_log_loss
    from sklearn.model_selection import GridSearchCV, train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from . import CrossEntropyClassifier, metrics, show_config

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
    print(f"Digits ({len(y_train)} training, {len(y_test)} test images, 10 classes):")
    print("GridSearchCV over C and label_smoothing, scored by name with skxent's scorers")
    models = {
        "CrossEntropyClassifier": (
            CrossEntropyClassifier(),
            {"clf__C": [0.01, 0.1, 1.0], "clf__label_smoothing": [0.0, 0.05]},
        ),
        "LogisticRegression": (LogisticRegression(max_iter=2000), {"clf__C": [0.01, 0.1, 1.0]}),
    }
    rows = []
    for name, (clf, grid) in models.items():
        pipe = Pipeline([("scale", StandardScaler()), ("clf", clf)])
        search = GridSearchCV(
            pipe, grid, scoring=["neg_cross_entropy", "neg_cross_entropy_bits", "accuracy"],
            refit="neg_cross_entropy", cv=3, verbose=1,
        )
        t0 = time.perf_counter()
        search.fit(X_train, y_train)
        fit_time = time.perf_counter() - t0
        proba = search.predict_proba(X_test)
        rows.append((
            name,
            metrics.cross_entropy(y_test, proba),
            metrics.cross_entropy(y_test, proba, base=2),
            float(np.mean(search.predict(X_test) == y_test)),
            fit_time,
            search.best_params_,
        ))
    print()
    print(f"  {'model':<24} {'test CE (nats)':>14} {'(bits)':>8} {'accuracy':>9} "
          f"{'search time':>12}   best parameters")
    for name, ce, bits, acc, t, params in rows:
        best = ", ".join(f"{k.split('__')[1]}={v}" for k, v in params.items())
        print(f"  {name:<24} {ce:14.4f} {bits:8.4f} {acc:9.4f} {t:11.2f}s   {best}")
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
    if raw.startswith(b"\x93NUMPY") or path.endswith(".npy"):
        return _read_npy(path, role)
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScoreError(
            f"{role} file {path!r}, line {line}: not text (byte {exc.start} is not UTF-8); "
            "expected a CSV file or a .npy file"
        ) from None

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


def _check_finite(table):
    import numpy as np

    values = table.values
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad.reshape(values.shape[0], -1).any(axis=1))[0])
        row = values[i]
        raise ScoreError(f"{table.where(i)}: NaN or inf in {_row_text(row)}")


def _row_text(row):
    import numpy as np

    row = np.atleast_1d(row)
    text = ", ".join(f"{v:.6g}" if isinstance(v, float | np.floating) else str(v) for v in row[:8])
    return f"[{text}{', ...' if len(row) > 8 else ''}]"


def _check_unit_interval(table, what="probabilities"):
    import numpy as np

    values = table.values
    bad = (values < 0) | (values > 1)
    if bad.any():
        i = int(np.flatnonzero(bad.reshape(values.shape[0], -1).any(axis=1))[0])
        raise ScoreError(f"{table.where(i)}: {what} must be in [0, 1]; got {_row_text(values[i])}")


def _row_sums_ok(values):
    """Which rows of a 2-D array sum to one (skxent's tolerance: sqrt(eps))."""
    import numpy as np

    from ._validation import sum_tolerance

    return np.abs(values.sum(axis=1) - 1.0) <= sum_tolerance(np.float64)


def _check_rows_sum_to_one(table, what, hint=""):
    import numpy as np

    ok = _row_sums_ok(table.values)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        total = float(table.values[i].sum())
        raise ScoreError(
            f"{table.where(i)}: {what} must sum to 1; this row sums to {total!r}{hint}"
        )


def _encode_labels(y_true, labels, n_classes, binary_1d):
    """Class indices of 1-D labels, or soft binary targets; errors name the line.

    Returns ``(codes, soft)``: one of them is None.
    """
    import numpy as np

    values = y_true.values
    if labels is not None:
        if labels.shape[0] != n_classes:
            raise ScoreError(
                f"--labels lists {labels.shape[0]} labels but y_pred has {n_classes} "
                f"{'classes (a 1-D y_pred is binary)' if binary_1d else 'columns'}"
            )
        if labels.dtype.kind in "U":
            keys = values.astype(str)
        else:
            if values.dtype.kind == "U":
                raise ScoreError(f"{y_true.where(0)}: text labels need text --labels")
            keys = values
        index = {label: c for c, label in enumerate(labels.tolist())}
        codes = np.empty(values.shape[0], dtype=np.intp)
        for i, key in enumerate(keys.tolist()):
            c = index.get(key)
            if c is None:
                raise ScoreError(
                    f"{y_true.where(i)}: label {key!r} is not one of --labels {labels.tolist()}"
                )
            codes[i] = c
        return codes, None

    if values.dtype.kind == "U":
        raise ScoreError(f"{y_true.where(0)}: text labels need --labels (the column order)")
    _check_finite(y_true)
    integral = values == np.round(values)
    if not integral.all():
        if binary_1d and ((values >= 0) & (values <= 1)).all():
            return None, values.astype(np.float64)  # soft binary targets
        i = int(np.flatnonzero(~integral)[0])
        raise ScoreError(
            f"{y_true.where(i)}: label {values[i]:g} is not an integer; labels are column "
            "indices 0..k-1 (or pass --labels), soft targets are a matrix of one column "
            "per class"
        )
    bad = (values < 0) | (values >= n_classes)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ScoreError(
            f"{y_true.where(i)}: label {values[i]:g} is not a column index 0..{n_classes - 1} "
            "of y_pred; pass --labels to map other labels to columns"
        )
    return values.astype(np.intp), None


def _units(base):
    if base is None:
        return "nats"
    if base == 2:
        return "bits"
    if base == 10:
        return "hartleys"
    return f"log-base-{base:g} units"


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


def _compute_scores(args):
    """Read the files, decide the problem type, compute every metric that applies."""
    import numpy as np
    from scipy import special

    from . import metrics

    labels = _parse_labels(args.labels)
    y_pred = _read_table(args.y_pred, "y_pred")
    y_true = _read_table(
        args.y_true, "y_true", text=labels is not None and labels.dtype.kind == "U"
    )
    if y_pred.values.dtype.kind not in "biuf":
        raise ScoreError(f"{y_pred.where()}: needs numbers; got dtype {y_pred.values.dtype}")
    pred = y_pred.values.astype(np.float64)
    y_pred.values = pred
    n = pred.shape[0]
    _check_same_rows(y_true, y_pred)
    _check_finite(y_pred)
    logits = args.from_logits
    base = args.base
    sw = None
    if args.sample_weight is not None:
        weights = _read_table(args.sample_weight, "sample_weight")
        if weights.values.ndim != 1 or weights.values.dtype.kind not in "biuf":
            raise ScoreError(f"{weights.where()}: needs one number per line (one column)")
        _check_same_rows(weights, y_pred)
        _check_finite(weights)
        negative = weights.values < 0
        if negative.any():
            i = int(np.flatnonzero(negative)[0])
            raise ScoreError(f"{weights.where(i)}: weights must be non-negative")
        sw = weights.values.astype(np.float64)
        if not sw.any():
            raise ScoreError(f"{weights.where()}: the weights sum to zero")

    if args.renormalize and not logits and pred.ndim == 2 and not args.multilabel:
        _check_unit_interval(y_pred)
        sums = pred.sum(axis=1, keepdims=True)
        if (sums <= 0).any():
            i = int(np.flatnonzero(sums.ravel() <= 0)[0])
            raise ScoreError(f"{y_pred.where(i)}: cannot renormalise a row of zeros")
        pred = pred / sums
        y_pred.values = pred
    sum_hint = "" if args.renormalize else " (--renormalize divides each row by its sum)"

    common = {"sample_weight": sw, "from_logits": logits}
    info = {"n_samples": n}
    scores = {}
    yt = y_true.values

    if yt.ndim == 2:
        # A target matrix: soft multiclass targets, or multilabel targets.
        if yt.dtype.kind not in "biuf":
            raise ScoreError(f"{y_true.where()}: a target matrix needs numbers")
        yt = yt.astype(np.float64)
        y_true.values = yt
        if pred.ndim != 2 or yt.shape[1] != pred.shape[1]:
            raise ScoreError(
                f"{y_true.where()} has {yt.shape[1]} columns but {y_pred.where()} has "
                f"{1 if pred.ndim == 1 else pred.shape[1]}: a target matrix needs one "
                "column per column of y_pred"
            )
        _check_finite(y_true)
        _check_unit_interval(y_true, "targets")
        if not logits:
            _check_unit_interval(y_pred)
        multilabel = args.multilabel or not _row_sums_ok(yt).all()
        if not multilabel and not logits and not _row_sums_ok(pred).all():
            multilabel = True  # independent probabilities per column
        k = pred.shape[1]
        if multilabel:
            info.update(problem="multilabel", n_labels=k)
            scores["binary_cross_entropy"] = metrics.binary_cross_entropy(
                yt, pred, base=base, **common
            )
        else:
            _check_rows_sum_to_one(y_true, "target rows")
            info.update(problem="multiclass, soft targets", n_classes=k)
            _fill_multiclass(scores, metrics, yt, pred, base, common)
            q = special.softmax(pred, axis=1) if logits else pred
            h = metrics.entropy(yt, base=base)
            d = metrics.kl_divergence(yt, q, base=base)
            scores["entropy_of_y_true"] = float(np.average(h, weights=sw))
            scores["kl_divergence"] = float(np.average(d, weights=sw))
            if k == 2:
                scores["binary_cross_entropy"] = metrics.binary_cross_entropy(
                    yt[:, 1], _positive(pred, logits), base=base, **common
                )
        return info, scores

    # 1-D targets: class labels, or soft binary targets against a 1-D y_pred.
    if args.multilabel:
        raise ScoreError(
            f"{y_true.where()}: --multilabel needs a target matrix (one column per label)"
        )
    binary_1d = pred.ndim == 1
    k = 2 if binary_1d else pred.shape[1]
    if not logits:
        _check_unit_interval(y_pred)
        if not binary_1d:
            _check_rows_sum_to_one(y_pred, "probability rows", sum_hint)
    codes, soft = _encode_labels(y_true, labels, k, binary_1d)
    info.update(problem="binary" if k == 2 else "multiclass", n_classes=k)
    if soft is not None:
        info["problem"] = "binary, soft targets"
        target = np.column_stack([1.0 - soft, soft])
        full = _as_two_columns(pred, logits)
        _fill_multiclass(scores, metrics, target, full, base, common)
        q = special.softmax(full, axis=1) if logits else full
        scores["entropy_of_y_true"] = float(
            np.average(metrics.entropy(target, base=base), weights=sw)
        )
        scores["kl_divergence"] = float(
            np.average(metrics.kl_divergence(target, q, base=base), weights=sw)
        )
        scores["binary_cross_entropy"] = metrics.binary_cross_entropy(
            soft, _positive(pred, logits), base=base, **common
        )
        return info, scores

    _fill_multiclass(scores, metrics, codes, pred, base, common)
    if not logits:
        # The drop-in for sklearn.metrics.log_loss: nats, and its own clipping.
        scores["log_loss"] = metrics.log_loss(codes, pred, sample_weight=sw, labels=np.arange(k))
    if k == 2:
        scores["binary_cross_entropy"] = metrics.binary_cross_entropy(
            codes.astype(np.float64), _positive(pred, logits), base=base, **common
        )
    return info, scores


def _as_two_columns(pred, logits):
    import numpy as np

    if pred.ndim == 2:
        return pred
    if logits:
        return np.column_stack([np.zeros_like(pred), pred])
    return np.column_stack([1.0 - pred, pred])


def _positive(pred, logits):
    """The positive class's probability (or logit) of a binary y_pred."""
    if pred.ndim == 1:
        return pred
    if logits:
        return pred[:, 1] - pred[:, 0]
    return pred[:, 1]


def _fill_multiclass(scores, metrics, target, pred, base, common):
    scores["cross_entropy"] = metrics.cross_entropy(target, pred, base=base, **common)
    scores["focal_cross_entropy"] = metrics.focal_cross_entropy(
        target, pred, gamma=2.0, base=base, **common
    )
    scores["perplexity"] = metrics.perplexity(target, pred, **common)


_ORDER = (
    "cross_entropy",
    "log_loss",
    "binary_cross_entropy",
    "focal_cross_entropy",
    "perplexity",
    "entropy_of_y_true",
    "kl_divergence",
)
_UNITLESS = {"perplexity"}
_NATS = {"log_loss"}


def _score(args):
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            info, scores = _compute_scores(args)
    except ScoreError as exc:
        print(f"skxent score: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as exc:
        # A check inside skxent.metrics that the command's own checks missed.
        print(f"skxent score: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    for w in caught:
        print(f"skxent score: warning: {_one_line(w.message)}", file=sys.stderr)
    scores = {name: scores[name] for name in _ORDER if name in scores}

    unit = _units(args.base)
    units = {
        name: ("" if name in _UNITLESS else "nats" if name in _NATS else unit) for name in scores
    }
    if args.json:
        out = dict(info, base=args.base, metrics=scores, units=units)
        print(json.dumps(out, indent=2))
        return 0
    size = info.get("n_classes", info.get("n_labels"))
    kind = "labels" if "n_labels" in info else "classes"
    print(f"y_true: {args.y_true}")
    print(f"y_pred: {args.y_pred}{' (logits)' if args.from_logits else ''}")
    print(f"{info['problem']}, {info['n_samples']} samples, {size} {kind}")
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
        help="CrossEntropyClassifier against LogisticRegression in a grid search, "
        "and the metrics' speed",
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
