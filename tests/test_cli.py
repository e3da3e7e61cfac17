"""The command line, run as a user runs it: ``python -m skxent`` in a subprocess.

``score`` is compared with the metric functions called directly on the same
arrays; every malformed input must give one line on stderr that names the file
(and the line, where there is one), exit status 2, and no traceback.
"""

import contextlib
import io
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from scipy.special import softmax

import skxent
from skxent import metrics
from skxent.__main__ import main

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run(*args):
    """``python -m skxent ARGS`` in a subprocess: exactly what a user runs."""
    return subprocess.run(
        [sys.executable, "-m", "skxent", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def call(*args):
    """The same command line through ``skxent.__main__.main`` in this process.

    Each subprocess pays about a second to import scikit-learn; the many value
    and error cases run here, and a representative set also runs in a
    subprocess (``run``), which is what proves the exit status and the absence
    of a traceback from the real entry point.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse: --help, --version, usage errors
            code = exc.code
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def score_json(*args, runner=call):
    result = runner("score", *args, "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n, k = 40, 3
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)
    return {
        "y": y,
        "proba": rng.dirichlet(np.ones(k), n),
        "logits": rng.normal(scale=2.0, size=(n, k)),
        "targets": rng.dirichlet(np.ones(k), n),
        "weights": rng.uniform(0.1, 2.0, n),
        "y_bin": rng.integers(0, 2, n),
        "p_bin": rng.uniform(0.01, 0.99, n),
        "multi_true": (rng.random((n, 4)) < 0.4).astype(int),
        "multi_pred": rng.uniform(0.01, 0.99, (n, 4)),
    }


@pytest.fixture(scope="module")
def files(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("cli")
    paths = {}

    def save(name, array, **kwargs):
        path = d / name
        if name.endswith(".npy"):
            np.save(path, array)
        else:
            np.savetxt(path, array, **kwargs)
        paths[name] = path
        return path

    save("y.csv", data["y"])  # numpy's default: '%.18e', space separated
    save("y.npy", data["y"])
    save("proba.csv", data["proba"])
    save("proba_comma.csv", data["proba"], delimiter=",", header="class 0,class 1,class 2")
    save("proba.npy", data["proba"])
    save("logits.csv", data["logits"], delimiter=",")
    save("targets.csv", data["targets"], delimiter=",")
    save("weights.csv", data["weights"])
    save("y_bin.csv", data["y_bin"], fmt="%d")
    save("p_bin.csv", data["p_bin"])
    save("multi_true.csv", data["multi_true"], fmt="%d", delimiter=",")
    save("multi_pred.csv", data["multi_pred"], delimiter=",")
    names = np.array(["cat", "dog", "eel"])[data["y"]]
    save("names.csv", names, fmt="%s")
    return paths


# ---------------------------------------------------------------------------
# Values: the same numbers as the functions
# ---------------------------------------------------------------------------


def test_multiclass_labels_csv(data, files):
    out = score_json("--y-true", files["y.csv"], "--y-pred", files["proba.csv"], runner=run)
    y, q = data["y"], data["proba"]
    assert out["problem"] == "multiclass"
    assert out["n_samples"] == 40 and out["n_classes"] == 3
    m = out["metrics"]
    assert set(m) == {"cross_entropy", "log_loss", "focal_cross_entropy", "perplexity"}
    assert m["cross_entropy"] == pytest.approx(metrics.cross_entropy(y, q), rel=1e-12)
    assert m["log_loss"] == pytest.approx(metrics.log_loss(y, q), rel=1e-12)
    assert m["focal_cross_entropy"] == pytest.approx(
        metrics.focal_cross_entropy(y, q, gamma=2.0), rel=1e-12
    )
    assert m["perplexity"] == pytest.approx(metrics.perplexity(y, q), rel=1e-12)
    assert out["units"]["cross_entropy"] == "nats" and out["units"]["perplexity"] == ""


def test_npy_comma_csv_and_whitespace_csv_agree(files):
    a = score_json("--y-true", files["y.csv"], "--y-pred", files["proba.csv"])
    b = score_json("--y-true", files["y.npy"], "--y-pred", files["proba.npy"])
    c = score_json("--y-true", files["y.npy"], "--y-pred", files["proba_comma.csv"])
    assert a == b == c


def test_bits_and_sample_weight(data, files):
    out = score_json(
        "--y-true",
        files["y.csv"],
        "--y-pred",
        files["proba.csv"],
        "--base",
        "2",
        "--sample-weight",
        files["weights.csv"],
    )
    y, q, w = data["y"], data["proba"], data["weights"]
    m = out["metrics"]
    assert m["cross_entropy"] == pytest.approx(
        metrics.cross_entropy(y, q, base=2, sample_weight=w), rel=1e-12
    )
    assert m["focal_cross_entropy"] == pytest.approx(
        metrics.focal_cross_entropy(y, q, base=2, sample_weight=w), rel=1e-12
    )
    # log_loss is scikit-learn's drop-in: always nats.
    assert m["log_loss"] == pytest.approx(metrics.log_loss(y, q, sample_weight=w), rel=1e-12)
    assert m["perplexity"] == pytest.approx(metrics.perplexity(y, q, sample_weight=w), rel=1e-12)
    assert out["units"]["cross_entropy"] == "bits" and out["units"]["log_loss"] == "nats"


def test_text_labels_through_labels_option(data, files):
    out = score_json(
        "--y-true", files["names.csv"], "--y-pred", files["proba.csv"], "--labels", "cat,dog,eel"
    )
    assert out["metrics"]["cross_entropy"] == pytest.approx(
        metrics.cross_entropy(data["y"], data["proba"]), rel=1e-12
    )
    # The column order is the order of --labels.
    out = score_json(
        "--y-true",
        files["names.csv"],
        "--y-pred",
        files["proba.csv"],
        "--labels",
        "eel",
        "dog",
        "cat",
    )
    labels = np.array(["eel", "dog", "cat"])
    names = np.array(["cat", "dog", "eel"])[data["y"]]
    assert out["metrics"]["cross_entropy"] == pytest.approx(
        metrics.cross_entropy(names, data["proba"], labels=labels), rel=1e-12
    )


def test_text_labels_may_contain_spaces(tmp_path):
    (tmp_path / "cities.csv").write_text("New York\nParis\nNew York\n")
    (tmp_path / "proba.csv").write_text("0.7,0.3\n0.2,0.8\n0.6,0.4\n")
    out = score_json(
        "--y-true",
        tmp_path / "cities.csv",
        "--y-pred",
        tmp_path / "proba.csv",
        "--labels",
        "New York",
        "Paris",
    )
    q = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4]])
    assert out["metrics"]["cross_entropy"] == pytest.approx(
        metrics.cross_entropy([0, 1, 0], q), rel=1e-12
    )


def test_logits(data, files):
    out = score_json("--y-true", files["y.csv"], "--y-pred", files["logits.csv"], "--from-logits")
    y, z = data["y"], data["logits"]
    m = out["metrics"]
    assert "log_loss" not in m  # scikit-learn's log_loss takes probabilities only
    assert m["cross_entropy"] == pytest.approx(
        metrics.cross_entropy(y, z, from_logits=True), rel=1e-12
    )
    assert m["cross_entropy"] == pytest.approx(
        metrics.cross_entropy(y, softmax(z, axis=1)), rel=1e-9
    )
    assert m["focal_cross_entropy"] == pytest.approx(
        metrics.focal_cross_entropy(y, z, from_logits=True), rel=1e-12
    )


def test_binary_positive_class_column(data, files):
    out = score_json("--y-true", files["y_bin.csv"], "--y-pred", files["p_bin.csv"])
    y, p = data["y_bin"], data["p_bin"]
    m = out["metrics"]
    assert out["problem"] == "binary"
    assert m["binary_cross_entropy"] == pytest.approx(metrics.binary_cross_entropy(y, p), rel=1e-12)
    assert m["log_loss"] == pytest.approx(metrics.log_loss(y, p), rel=1e-12)
    assert m["cross_entropy"] == pytest.approx(m["binary_cross_entropy"], rel=1e-12)


def test_soft_targets(data, files):
    out = score_json("--y-true", files["targets.csv"], "--y-pred", files["proba.csv"])
    t, q = data["targets"], data["proba"]
    m = out["metrics"]
    assert out["problem"] == "multiclass, soft targets"
    assert "log_loss" not in m  # scikit-learn's log_loss rejects soft targets
    assert m["cross_entropy"] == pytest.approx(metrics.cross_entropy(t, q), rel=1e-12)
    assert m["entropy_of_y_true"] == pytest.approx(np.mean(metrics.entropy(t)), rel=1e-12)
    assert m["kl_divergence"] == pytest.approx(np.mean(metrics.kl_divergence(t, q)), rel=1e-12)
    # H(t, q) = H(t) + D(t || q)
    assert m["cross_entropy"] == pytest.approx(
        m["entropy_of_y_true"] + m["kl_divergence"], rel=1e-12
    )


def test_multilabel(data, files):
    out = score_json("--y-true", files["multi_true.csv"], "--y-pred", files["multi_pred.csv"])
    assert out["problem"] == "multilabel" and out["n_labels"] == 4
    assert out["metrics"] == {
        "binary_cross_entropy": pytest.approx(
            metrics.binary_cross_entropy(data["multi_true"], data["multi_pred"]), rel=1e-12
        )
    }


def test_text_output(data, files):
    result = run("score", "--y-true", files["y.csv"], "--y-pred", files["proba.csv"], "--base", "2")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines()[4:]}
    expected = metrics.cross_entropy(data["y"], data["proba"], base=2)
    assert float(lines["cross_entropy"][1]) == pytest.approx(expected, abs=1e-10)
    assert lines["cross_entropy"][2] == "bits"
    assert lines["log_loss"][2] == "nats"
    assert "multiclass, 40 samples, 3 classes" in result.stdout


def test_the_seed_example(tmp_path):
    (tmp_path / "P.csv").write_text("0.6,0.4\n")
    (tmp_path / "Q.csv").write_text("0.5,0.5\n")
    out = score_json("--y-true", tmp_path / "P.csv", "--y-pred", tmp_path / "Q.csv", "--base", "2")
    assert out["metrics"]["cross_entropy"] == pytest.approx(1.0, rel=1e-15)
    assert out["metrics"]["kl_divergence"] == pytest.approx(
        metrics.kl_divergence([0.6, 0.4], [0.5, 0.5], base=2), rel=1e-12
    )


# ---------------------------------------------------------------------------
# Errors: one line naming the file and the line, exit status 2
# ---------------------------------------------------------------------------

GOOD_PRED = "0.1,0.9\n0.5,0.5\n0.3,0.7\n"
GOOD_TRUE = "1\n0\n1\n"

ERROR_CASES = {
    # name: (y_true text, y_pred text, extra args, file blamed, expected text)
    "truncated": (GOOD_TRUE, "0.1,0.9\n0.5,0.5\n0.3", [], "y_pred", "line 3: truncated file"),
    "truncated number": (GOOD_TRUE, "0.1,0.9\n0.5,0.5\n0.3,0.7e", [], "y_pred", "line 3, column 2"),
    "column count": (
        GOOD_TRUE,
        "0.1,0.9\n0.5,0.4,0.1\n0.3,0.7\n",
        [],
        "y_pred",
        "line 2: expected 2",
    ),
    "non-numeric": (GOOD_TRUE, "0.1,0.9\n0.5,abc\n0.3,0.7\n", [], "y_pred", "line 2, column 2"),
    "empty cell": (GOOD_TRUE, "0.1,0.9\n,0.5\n0.3,0.7\n", [], "y_pred", "line 2, column 1"),
    "comment lines count": (GOOD_TRUE, "# p\n0.1,0.9\n0.5,x\n0.3,0.7\n", [], "y_pred", "line 3"),
    "nan": (GOOD_TRUE, "0.1,0.9\n0.5,0.5\nnan,0.7\n", [], "y_pred", "line 3: NaN"),
    "row sum": (GOOD_TRUE, "0.1,0.9\n0.6,0.5\n0.3,0.7\n", [], "y_pred", "line 2: probability"),
    "above one": (GOOD_TRUE, "0.1\n1.5\n0.3\n", [], "y_pred", "line 2: probabilities"),
    "too few rows": ("1\n0\n", GOOD_PRED, [], "y_pred", "line 3: no matching row"),
    "too many rows": ("1\n0\n1\n1\n", GOOD_PRED, [], "y_true", "line 4: no matching row"),
    "label range": ("1\n0\n2\n", GOOD_PRED, [], "y_true", "line 3: label 2"),
    "non-integer label": ("1\n0.5\n7\n", GOOD_PRED, [], "y_true", "line 2: label 0.5"),
    "unknown label": (
        "b\na\nc\n",
        GOOD_PRED,
        ["--labels", "a", "b"],
        "y_true",
        "line 3: label 'c'",
    ),
    "target columns": ("0.5,0.5,0\n1,0,0\n0,1,0\n", GOOD_PRED, [], "y_true", "3 columns"),
    "empty": (GOOD_TRUE, "", [], "y_pred", "no data"),
    "not text": (GOOD_TRUE, b"\x00\xff\xfe\n", [], "y_pred", "line 1: not text"),
    # Messages that name the fix: the flag, or what to do with the file.
    "logits, negative": (
        GOOD_TRUE,
        "1.2,-0.3\n2.0,0.1\n0.3,2.5\n",
        [],
        "y_pred",
        "line 1: probabilities must be in [0, 1]; this row has a negative value: "
        "[ 1.2, -0.3] (raw scores? pass --from-logits)",
    ),
    "logits, binary column": (
        GOOD_TRUE,
        "0.5\n2.5\n-1\n",
        [],
        "y_pred",
        "line 2: probabilities must be in [0, 1]; this row has a value above 1: [2.5] "
        "(raw scores? pass --from-logits)",
    ),
    "logits within [0, 1]": (
        GOOD_TRUE,
        "0.2,0.9\n0.6,0.2\n0.1,0.8\n",
        [],
        "y_pred",
        "line 1: probability rows must sum to 1; this row sums to 1.1",
    ),
    "header row": (
        GOOD_TRUE,
        "class 0,class 1\n0.1,0.9\n0.5,0.5\n0.3,0.7\n",
        [],
        "y_pred",
        "line 1: looks like a header row ('class 0', 'class 1'), not data; remove that line, "
        "or make it a comment by starting it with '#'",
    ),
    "header row after comments": (
        GOOD_TRUE,
        "# predictions\n\np\n0.9\n0.5\n0.7\n",
        [],
        "y_pred",
        "line 3: looks like a header row ('p'), not data",
    ),
    "header row, one name over two columns": (
        GOOD_TRUE,
        "proba\n0.1,0.9\n0.5,0.5\n0.3,0.7\n",
        [],
        "y_pred",
        "line 1: looks like a header row ('proba'), not data",
    ),
    "header row of labels": (
        "label\n1\n0\n1\n",
        GOOD_PRED,
        [],
        "y_true",
        "line 1: looks like a header row ('label'), not data",
    ),
    "header row of text labels": (
        "label\nb\na\nb\n",
        GOOD_PRED,
        ["--labels", "a", "b"],
        "y_true",
        "line 1: looks like a header row ('label'), not data",
    ),
    # A first line with a number in it is data with a bad cell, not a header.
    "bad cell on the first line": (
        GOOD_TRUE,
        "abc,0.9\n0.5,0.5\n0.3,0.7\n",
        [],
        "y_pred",
        "line 1, column 1: non-numeric cell 'abc'",
    ),
}

# The messages that must name the fix (a flag, or what to do with the file).
NAMES_THE_FIX = {
    "logits, negative": "--from-logits",
    "logits, binary column": "--from-logits",
    "logits within [0, 1]": "raw scores? pass --from-logits",
    "header row": "'#'",
    "header row after comments": "'#'",
    "header row, one name over two columns": "'#'",
    "header row of labels": "'#'",
    "header row of text labels": "'#'",
}


# The cases the command line promises, also run in a subprocess.
IN_SUBPROCESS = [
    "truncated",
    "column count",
    "non-numeric",
    "too few rows",
    "not text",
    "logits, negative",
    "header row",
]


@pytest.mark.parametrize(
    "case, runner",
    [(case, call) for case in ERROR_CASES] + [(case, run) for case in IN_SUBPROCESS],
    ids=[f"{case}-in-process" for case in ERROR_CASES]
    + [f"{case}-subprocess" for case in IN_SUBPROCESS],
)
def test_malformed_input_gives_one_line(tmp_path, case, runner):
    true_text, pred_text, extra, blamed, expected = ERROR_CASES[case]
    paths = {"y_true": tmp_path / "truth.csv", "y_pred": tmp_path / "pred.csv"}
    for path, text in ((paths["y_true"], true_text), (paths["y_pred"], pred_text)):
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
    result = runner("score", "--y-true", paths["y_true"], "--y-pred", paths["y_pred"], *extra)
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("skxent score: error: ")
    assert f"{blamed} file '{paths[blamed]}'" in lines[0]
    assert expected in lines[0]
    assert NAMES_THE_FIX.get(case, "") in lines[0]
    # The command line speaks in flags, never in the library's parameter names.
    assert "from_logits" not in lines[0] and "allow_pickle" not in lines[0]


def test_logits_without_the_flag_pass_with_it(tmp_path, data):
    """The fix the message names works: the same files score with --from-logits."""
    (tmp_path / "y.csv").write_text(GOOD_TRUE)
    (tmp_path / "z.csv").write_text("1.2,-0.3\n2.0,0.1\n0.3,2.5\n")
    args = ("--y-true", tmp_path / "y.csv", "--y-pred", tmp_path / "z.csv")
    assert call("score", *args).returncode == 2
    out = score_json(*args, "--from-logits")
    z = np.array([[1.2, -0.3], [2.0, 0.1], [0.3, 2.5]])
    assert out["metrics"]["cross_entropy"] == pytest.approx(
        np.mean(-np.log(softmax(z, axis=1))[np.arange(3), [1, 0, 1]]), rel=1e-12
    )


def test_header_row_commented_out_is_read(tmp_path):
    """The fix the message names works: the header as a '#' comment is skipped."""
    (tmp_path / "y.csv").write_text(GOOD_TRUE)
    (tmp_path / "p.csv").write_text("# class 0,class 1\n" + GOOD_PRED)
    out = score_json("--y-true", tmp_path / "y.csv", "--y-pred", tmp_path / "p.csv")
    q = np.array([[0.1, 0.9], [0.5, 0.5], [0.3, 0.7]])
    assert out["metrics"]["cross_entropy"] == pytest.approx(
        -np.mean(np.log(q[np.arange(3), [1, 0, 1]])), rel=1e-12
    )


NOT_NPY = {
    # name: (bytes or a writer, expected text)
    "text": (
        b"0.1,0.9\n0.5,0.5\n0.3,0.7\n",
        "not a NumPy .npy file (it holds text); if it is text (CSV), name it .csv; "
        "otherwise write it with numpy.save",
    ),
    "empty": (b"", "not a NumPy .npy file (it is empty)"),
    "binary": (
        b"\x00\xff\xfe\x01" * 8,
        "not a NumPy .npy file (it does not start with the .npy header); write it with numpy.save",
    ),
    "npz": (
        lambda path: np.savez(path, a=np.ones(3)),
        "a zip archive (.npz, as numpy.savez writes), not one array; "
        "save the array alone with numpy.save",
    ),
    "object array": (
        lambda path: np.save(path, np.array([0.5, "a", None], dtype=object), allow_pickle=True),
        "holds Python objects (an object array), which this command does not load",
    ),
}


@pytest.mark.parametrize(
    "case, runner",
    [(case, call) for case in NOT_NPY] + [("text", run)],
    ids=[f"{case}-in-process" for case in NOT_NPY] + ["text-subprocess"],
)
def test_files_named_npy_that_are_not_npy(tmp_path, case, runner):
    content, expected = NOT_NPY[case]
    (tmp_path / "y.csv").write_text(GOOD_TRUE)
    path = tmp_path / "pred.npy"
    if callable(content):
        with open(path, "wb") as f:  # np.savez would add .npz to a path
            content(f)
    else:
        path.write_bytes(content)
    result = runner("score", "--y-true", tmp_path / "y.csv", "--y-pred", path)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"skxent score: error: y_pred file '{path}': {expected}")
    assert "allow_pickle" not in lines[0]


def test_npy_content_is_read_whatever_the_name(tmp_path, data, files):
    """A real .npy file is recognised by its header, not by its name."""
    renamed = tmp_path / "proba.dat"
    renamed.write_bytes(files["proba.npy"].read_bytes())
    a = score_json("--y-true", files["y.csv"], "--y-pred", renamed)
    b = score_json("--y-true", files["y.csv"], "--y-pred", files["proba.npy"])
    assert a == b


def test_broken_npy_and_missing_file(tmp_path, files):
    broken = tmp_path / "broken.npy"
    broken.write_bytes(files["proba.npy"].read_bytes()[:-20])
    missing = tmp_path / "missing.csv"
    for y_pred, expected in ((broken, "cannot load it as .npy"), (missing, "cannot read it")):
        result = call("score", "--y-true", files["y.csv"], "--y-pred", y_pred)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert f"y_pred file '{y_pred}'" in result.stderr and expected in result.stderr


def test_bad_option_values(files):
    result = call(
        "score", "--y-true", files["y.csv"], "--y-pred", files["proba.csv"], "--base", "1"
    )
    assert result.returncode == 2 and "--base" in result.stderr
    result = call(
        "score", "--y-true", files["y.csv"], "--y-pred", files["proba.csv"], "--labels", "0", "1"
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "skxent score: error: --labels lists 2 labels but y_pred has 3 columns"
    )


# ---------------------------------------------------------------------------
# --help, --version, and the other subcommands still wired
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["demo", "score", "bench"])
def test_help_of_each_subcommand(command):
    result = (run if command == "score" else call)(command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: skxent {command}")


def test_help_and_version():
    result = run("--help")
    assert result.returncode == 0
    for command in ("demo", "score", "bench"):
        assert command in result.stdout
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"skxent {skxent.__version__}"


def test_bench_runs_small():
    result = run("bench", "--n", "2000", "--k", "3", "--repeats", "1")
    assert result.returncode == 0, result.stderr
    assert "log_loss" in result.stdout and "ratio" in result.stdout


def test_demo_compares_like_with_like():
    """The demo as a user reads it: every step labelled, both searches alike."""
    result = run("demo", "--n", "20000")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for step, text in enumerate(
        [
            "Fitting CrossEntropyClassifier: 3 folds for each of 3 candidates, totalling 9 fits",
            "Fitting LogisticRegression: 3 folds for each of 3 candidates, totalling 9 fits",
            "Fitting each model once more at C=",
            "Timing log_loss on n = 20,000 samples, k = 10 classes",
        ],
        1,
    ):
        assert f"[{step}/4] {text}" in out
    rows = {
        line.split(",")[0].strip(): line
        for line in out.splitlines()
        if line.strip().startswith(("CrossEntropyClassifier, tol=", "LogisticRegression, tol="))
    }
    assert set(rows) == {"CrossEntropyClassifier", "LogisticRegression"}
    ce = {name: float(line.split()[2]) for name, line in rows.items()}
    best_c = {name: line.split()[-1] for name, line in rows.items()}
    assert best_c["CrossEntropyClassifier"] == best_c["LogisticRegression"]
    # Same grid, same tol: the same test cross entropy to the digits printed,
    # which is also scikit-learn's log_loss of LogisticRegression at that C.
    assert ce["CrossEntropyClassifier"] == ce["LogisticRegression"]
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss as sk_log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    C = float(best_c["LogisticRegression"].split("=")[1])
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, tol=1e-8, max_iter=10_000))
    reference = sk_log_loss(y_test, model.fit(X_train, y_train).predict_proba(X_test))
    assert ce["LogisticRegression"] == pytest.approx(reference, abs=1e-6)
    assert "default tol=1e-4" in out and "that, not a different model" in out
    assert "skxent is " in out and "python -m skxent bench --n 20000" in out
