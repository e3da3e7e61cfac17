"""Bad input to skxent's own metrics and to skxent.loss.loss_gradient.

Every bad input must raise a ValueError or TypeError whose message names the
argument (and, where it applies, the row or the label at fault): never a crash,
never a warning-and-carry-on, never a NaN.  The inputs must be unchanged
afterwards, whether the call failed or succeeded.  Read-only and non-contiguous
arrays must work and give exactly what contiguous writable ones give.
"""

import copy
import warnings

import numpy as np
import pytest
from scipy import sparse

from skxent import metrics
from skxent.loss import hessp, loss_gradient

P = np.array([[0.2, 0.5, 0.3], [0.6, 0.2, 0.2], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
Y = np.array([0, 1, 2, 0])
T = np.array([[0.7, 0.2, 0.1], [0.0, 1.0, 0.0], [0.1, 0.1, 0.8], [1 / 3, 1 / 3, 1 / 3]])
P1 = np.array([0.1, 0.8, 0.7, 0.2])  # positive-class probabilities
Y1 = np.array([0, 1, 1, 0])
YB = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=float)  # multilabel targets
QB = np.array([[0.9, 0.2], [0.3, 0.6], [0.8, 0.7], [0.1, 0.4]])
Z = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0], [2.0, 2.0, 2.0], [0.5, 0.0, -0.5]])
SW = np.array([1.0, 2.0, 0.5, 1.5])


def _set(arr, index, value, dtype=float):
    out = np.array(arr, dtype=dtype)
    out[index] = value
    return out


# ---------------------------------------------------------------------------
# The cases: (function, base call, changes, the regex the message must match)
# ---------------------------------------------------------------------------

CASES = []


def case(func_id, case_id, args, kwargs, match, marks=()):
    CASES.append(pytest.param(func_id, args, kwargs, match, id=f"{func_id}-{case_id}", marks=marks))


# The multiclass metrics: cross_entropy, focal_cross_entropy, perplexity.
for f in ("cross_entropy", "focal_cross_entropy", "perplexity"):
    cw = "alpha" if f == "focal_cross_entropy" else "class_weight"
    # y_pred: values
    for name, value in [("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf)]:
        case(f, f"y_pred-{name}", (Y, _set(P, (1, 1), value)), {}, r"y_pred.*row 1.*(NaN|inf)")
        case(f, f"y_pred-1d-{name}", (Y1, _set(P1, 2, value)), {}, r"y_pred.*row 2")
        case(
            f,
            f"logits-{name}",
            (Y, _set(Z, (1, 1), value)),
            {"from_logits": True},
            r"y_pred \(logits\).*row 1",
        )
        case(
            f,
            f"logits-1d-{name}",
            (Y1, _set(P1, 2, value)),
            {"from_logits": True},
            r"y_pred \(logits\).*row 2",
        )
    # -inf for a class that is not the true one leaves the loss finite: still an error
    case(
        f,
        "logits--inf-other-class",
        (Y, _set(Z, (1, 0), -np.inf)),
        {"from_logits": True},
        r"y_pred \(logits\).*row 1",
    )
    case(
        f,
        "logits-1d--inf-other-class",
        (Y1, _set(P1, 3, -np.inf)),
        {"from_logits": True},
        r"y_pred \(logits\).*row 3",
    )
    case(f, "y_pred-negative", (Y, _set(P, (1, 1), -0.1)), {}, r"y_pred.*row 1.*negative")
    case(f, "y_pred-above-one", (Y, _set(P, (1, 1), 1.2)), {}, r"y_pred.*row 1.*above 1")
    case(f, "y_pred-1d-negative", (Y1, _set(P1, 2, -0.1)), {}, r"y_pred.*row 2.*negative")
    case(f, "y_pred-1d-above-one", (Y1, _set(P1, 2, 1.5)), {}, r"y_pred.*row 2.*above 1")
    case(f, "y_pred-row-sum", (Y, _set(P, (1, 1), 0.3)), {}, r"y_pred.*row 1.*sum")
    case(
        f,
        "y_pred-row-sum-float32",
        (Y, _set(P, (3, 0), 0.31).astype(np.float32)),
        {},
        r"y_pred.*row 3.*sum",
    )
    # y_pred: shapes and dtypes
    case(f, "y_pred-3d", (Y, P[:, :, None]), {}, r"y_pred.*3")
    case(f, "y_pred-empty", (np.array([], dtype=int), np.empty((0, 3))), {}, r"y_pred.*empty")
    case(f, "y_pred-empty-list", ([], []), {}, r"y_pred.*empty")
    case(f, "y_pred-no-columns", (Y, np.empty((4, 0))), {}, r"y_pred")
    case(f, "y_pred-one-column", (np.zeros(4, dtype=int), np.ones((4, 1))), {}, r"y_pred.*column")
    case(f, "y_pred-scalar", (Y[:1], 0.5), {}, r"y_pred")
    case(f, "y_pred-none", (Y, None), {}, r"y_pred")
    case(f, "y_pred-complex", (Y, P.astype(complex)), {}, r"y_pred.*complex")
    case(f, "y_pred-object", (Y, P.astype(object)), {}, r"y_pred.*object")
    case(f, "y_pred-strings", (Y, P.astype(str)), {}, r"y_pred")
    case(f, "y_pred-ragged", ([0, 1], [[0.5, 0.5], [1.0]]), {}, r"y_pred")
    case(f, "y_pred-sparse", (Y, sparse.csr_matrix(P)), {}, r"y_pred.*sparse")
    # y_true: labels
    case(f, "y_true-shorter", (Y[:3], P), {}, r"y_true.*3.*y_pred.*4")
    case(f, "y_true-longer", (np.r_[Y, 0], P), {}, r"y_true.*5.*y_pred.*4")
    case(f, "y_true-unknown-int", (_set(Y, 2, 3, int), P), {}, r"y_true.*label.*\b3\b")
    case(f, "y_true-unknown-negative", (_set(Y, 2, -1, int), P), {}, r"y_true.*label.*-1\b")
    case(
        f,
        "y_true-unknown-with-labels",
        (np.array(["a", "b", "z", "a"]), P),
        {"labels": ["a", "b", "c"]},
        r"y_true.*'z'",
    )
    case(
        f,
        "y_true-unknown-int-with-labels",
        (np.array([10, 20, 99, 10]), P),
        {"labels": [10, 20, 30]},
        r"y_true.*\b99\b",
    )
    case(f, "y_true-too-many-strings", (np.array(["a", "b", "c", "d"]), P), {}, r"y_true.*4")
    case(f, "y_true-nan", (_set(Y, 1, np.nan), P), {}, r"y_true.*(NaN|finite)")
    case(f, "y_true-fractional", (_set(Y, 1, 0.5), P), {}, r"y_true.*integer")
    case(f, "y_true-complex", (Y.astype(complex), P), {}, r"y_true.*complex")
    case(f, "y_true-3d", (T[:, :, None], P), {}, r"y_true")
    case(f, "y_true-empty", ([], P), {}, r"y_true.*empty")
    case(f, "y_true-none", (None, P), {}, r"y_true")
    case(f, "y_true-mixed-types", (np.array(["a", 1, 2.5, "b"], dtype=object), P), {}, r"y_true")
    # y_true: target matrices
    case(f, "targets-nan", (_set(T, (2, 1), np.nan), P), {}, r"y_true.*row 2")
    case(f, "targets-negative", (_set(T, (2, 1), -0.1), P), {}, r"y_true.*row 2.*negative")
    case(f, "targets-above-one", (_set(T, (2, 1), 1.1), P), {}, r"y_true.*row 2")
    case(f, "targets-row-sum", (_set(T, (2, 1), 0.3), P), {}, r"y_true.*row 2.*sum")
    case(f, "targets-columns", (T[:, :2], P), {}, r"y_true.*2 columns")
    case(f, "targets-rows", (T[:3], P), {}, r"y_true.*3")
    case(f, "targets-object", (T.astype(object), P), {}, r"y_true.*object")
    case(f, "targets-complex", (T.astype(complex), P), {}, r"y_true.*complex")
    # labels=
    case(f, "labels-length", (Y, P), {"labels": [0, 1]}, r"labels")
    case(f, "labels-repeated", (Y, P), {"labels": [0, 1, 1]}, r"labels.*repeated")
    case(f, "labels-incomparable", (Y, P), {"labels": ["a", "b", "c"]}, r"labels")
    # sample_weight
    for name, value in [
        ("negative", _set(SW, 1, -1.0)),
        ("nan", _set(SW, 1, np.nan)),
        ("inf", _set(SW, 1, np.inf)),
        ("shorter", SW[:3]),
        ("longer", np.r_[SW, 1.0]),
        ("2d", SW[:, None]),
        ("scalar", 2.0),
        ("complex", SW.astype(complex)),
        ("object", np.array([1.0, "a", 1.0, 1.0], dtype=object)),
        ("strings", ["a"] * 4),
        ("all-zero", np.zeros(4)),
        ("empty", []),
    ]:
        case(f, f"sample_weight-{name}", (Y, P), {"sample_weight": value}, r"sample_weight")
    # class weights (alpha for the focal loss)
    for name, value in [
        ("negative", [1.0, -1.0, 1.0]),
        ("nan", [1.0, np.nan, 1.0]),
        ("shorter", [1.0, 1.0]),
        ("2d", [[1.0, 1.0, 1.0]]),
        ("strings", ["a", "b", "c"]),
        ("unknown-dict-key", {7: 2.0}),
    ]:
        case(f, f"{cw}-{name}", (Y, P), {cw: value}, cw)
    # base, reduction, label_smoothing, eps
    for value in [0, 1, -2, "e", np.nan, np.inf, True, [2]]:
        case(f, f"base-{value!r}", (Y, P), {"base": value}, r"base")
    for value in ["avg", None, "MEAN", 1]:
        case(f, f"reduction-{value!r}", (Y, P), {"reduction": value}, r"reduction")
    for value in [-0.1, 1.0, 1.5, np.nan, "a", None, True]:
        case(
            f, f"label_smoothing-{value!r}", (Y, P), {"label_smoothing": value}, r"label_smoothing"
        )
    for value in [-1, -1e-9, 0.5, 1, "x", None, np.nan, "AUTO"]:
        case(f, f"eps-{value!r}", (Y, P), {"eps": value}, r"eps")

case("perplexity", "reduction-sum", (Y, P), {"reduction": "sum"}, r"reduction")
case("perplexity", "reduction-none", (Y, P), {"reduction": "none"}, r"reduction")
for value in [-1, np.nan, np.inf, "a", None]:
    case("focal_cross_entropy", f"gamma-{value!r}", (Y, P), {"gamma": value}, r"gamma")
for value in [2.0, -0.5, np.nan, "a"]:
    case("focal_cross_entropy", f"alpha-binary-{value!r}", (Y1, P1), {"alpha": value}, r"alpha")
case("focal_cross_entropy", "alpha-scalar-multiclass", (Y, P), {"alpha": 0.25}, r"alpha")

# binary_cross_entropy
f = "binary_cross_entropy"
for name, value in [
    ("nan", np.nan),
    ("inf", np.inf),
    ("-inf", -np.inf),
    ("negative", -0.1),
    ("above-one", 1.2),
]:
    case(f, f"y_pred-{name}", (YB, _set(QB, (1, 1), value)), {}, r"y_pred.*\(1, 1\)")
    case(f, f"y_true-{name}", (_set(YB, (2, 0), value), QB), {}, r"y_true.*\(2, 0\)")
for name, value in [("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf)]:
    case(
        f,
        f"logits-{name}",
        (YB, _set(QB, (1, 1), value)),
        {"from_logits": True},
        r"y_pred \(logits\).*\(1, 1\)",
    )
    case(
        f,
        f"logits-1d-{name}",
        (Y1.astype(float), _set(P1, 2, value)),
        {"from_logits": True},
        r"y_pred \(logits\).*\(2, 0\)",
    )
case(f, "shape-columns", (YB[:, :1], QB), {}, r"y_true.*shape.*y_pred")
case(f, "shape-rows", (YB[:3], QB), {}, r"y_true.*shape.*y_pred")
case(f, "shape-1d-vs-2d", (Y1, P1[:, None]), {}, r"y_true.*shape.*y_pred")
case(f, "y_pred-3d", (YB[:, :, None], QB[:, :, None]), {}, r"y_pred")
case(f, "y_pred-empty", (np.empty((0, 2)), np.empty((0, 2))), {}, r"y_pred.*empty")
case(f, "y_pred-empty-list", ([], []), {}, r"y_pred.*empty")
case(f, "y_pred-complex", (YB, QB.astype(complex)), {}, r"y_pred.*complex")
case(f, "y_pred-object", (YB, QB.astype(object)), {}, r"y_pred.*object")
case(f, "y_true-complex", (YB.astype(complex), QB), {}, r"y_true.*complex")
case(f, "y_true-object", (YB.astype(object), QB), {}, r"y_true.*object")
case(f, "y_true-strings", (np.array(["a", "b", "a", "b"]), P1), {}, r"y_true")
case(f, "y_true-3d", (YB[:, :, None], QB), {}, r"y_true")
for name, value in [
    ("negative", _set(SW, 1, -1.0)),
    ("nan", _set(SW, 1, np.nan)),
    ("shorter", SW[:3]),
    ("2d", SW[:, None]),
    ("complex", SW.astype(complex)),
    ("object", SW.astype(object)),
    ("all-zero", np.zeros(4)),
]:
    case(f, f"sample_weight-{name}", (YB, QB), {"sample_weight": value}, r"sample_weight")
for name, value in [
    ("negative", [1.0, -1.0]),
    ("nan", np.nan),
    ("longer", [1.0, 1.0, 1.0]),
    ("2d", [[1.0, 1.0], [1.0, 1.0]]),
    ("strings", "a"),
    ("complex", 1j),
]:
    case(f, f"pos_weight-{name}", (YB, QB), {"pos_weight": value}, r"pos_weight")
for value in [0, 1, -2, "e"]:
    case(f, f"base-{value!r}", (YB, QB), {"base": value}, r"base")
for value in ["avg", None]:
    case(f, f"reduction-{value!r}", (YB, QB), {"reduction": value}, r"reduction")
for value in [-0.1, 1.0, "a"]:
    case(f, f"label_smoothing-{value!r}", (YB, QB), {"label_smoothing": value}, r"label_smoothing")
for value in [-1, 0.5, "x", None]:
    case(f, f"eps-{value!r}", (YB, QB), {"eps": value}, r"eps")

# entropy and kl_divergence: every distribution argument
P2 = P[::-1].copy()
for f, args, names in [
    ("entropy", (P,), ("p",)),
    ("kl_divergence", (P, P2), ("p", "q")),
]:
    for pos, argname in enumerate(names):

        def with_arg(value, pos=pos, args=args):
            new = list(args)
            new[pos] = value
            return tuple(new)

        for name, value in [("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf)]:
            case(
                f,
                f"{argname}-{name}",
                with_arg(_set(P, (1, 1), value)),
                {},
                rf"\b{argname}\b.*row 1",
            )
        case(
            f,
            f"{argname}-negative",
            with_arg(_set(P, (1, 1), -0.1)),
            {},
            rf"\b{argname}\b.*row 1.*negative",
        )
        case(
            f,
            f"{argname}-above-one",
            with_arg(_set(P, (1, 1), 1.2)),
            {},
            rf"\b{argname}\b.*row 1.*above 1",
        )
        case(
            f,
            f"{argname}-row-sum",
            with_arg(_set(P, (1, 1), 0.3)),
            {},
            rf"\b{argname}\b.*row 1.*sum",
        )
        one_d = tuple(
            np.array([0.5, 0.6]) if i == pos else a[0, :2] / a[0, :2].sum()
            for i, a in enumerate(args)
        )
        case(f, f"{argname}-1d-row-sum", one_d, {}, rf"\b{argname}\b.*row 0.*sum")
        case(f, f"{argname}-complex", with_arg(P.astype(complex)), {}, rf"\b{argname}\b.*complex")
        case(f, f"{argname}-object", with_arg(P.astype(object)), {}, rf"\b{argname}\b.*object")
        case(f, f"{argname}-strings", with_arg(P.astype(str)), {}, rf"\b{argname}\b")
        case(f, f"{argname}-none", with_arg(None), {}, rf"\b{argname}\b")
        case(f, f"{argname}-sparse", with_arg(sparse.csr_matrix(P)), {}, rf"\b{argname}\b")
    case(f, "empty", tuple(np.empty((0, 3)) for _ in args), {}, r"\bp\b.*empty")
    case(f, "empty-1d", tuple([] for _ in args), {}, r"\bp\b.*empty")
    case(f, "3d", tuple(a[:, :, None] for a in args), {}, r"\bp\b.*3")
    for value in [0, 1, -2, "e", np.nan]:
        case(f, f"base-{value!r}", args, {"base": value}, r"base")
    for value in [2, -3, 1.5, "a", None, True]:
        case(f, f"axis-{value!r}", args, {"axis": value}, r"axis")
    case(f, "axis-1d", tuple(a[0] for a in args), {"axis": 1}, r"axis")
case(
    "kl_divergence",
    "shape-columns",
    (P, P2[:, :2] / P2[:, :2].sum(1, keepdims=True)),
    {},
    r"\bp\b.*\bq\b.*shape",
)
case("kl_divergence", "shape-rows", (P, P2[:3]), {}, r"\bp\b.*\bq\b.*shape")
for value in [-1, 0.5, "x", None]:
    case("kl_divergence", f"eps-{value!r}", (P, P2), {"eps": value}, r"eps")


# skxent.loss.loss_gradient: the checks that keep the kernel safe and cheap
f = "loss_gradient"
for name, value in [("3", 3), ("-1", -1), ("1e9", 1e9), ("nan", np.nan)]:
    case(
        f,
        f"y-index-{name}",
        (_set(Y, 1, value), Z),
        {},
        r"\by\b.*class indices.*"
        + ("nan" if name == "nan" else name.replace("1e9", "1000000000") + r"(\.0)?\b"),
    )
case(f, "y-index-fractional", (_set(Y, 1, 0.5), Z), {}, r"\by\b.*0\.5")
case(f, "y-shorter", (Y[:3], Z), {}, r"\by\b.*shape")
case(f, "y-targets-columns", (T[:, :2], Z), {}, r"\by\b.*shape")
case(f, "y-3d", (T[:, :, None], Z), {}, r"\by\b.*shape")
case(f, "y-complex", (Y.astype(complex), Z), {}, r"\by\b.*complex")
case(f, "y-object", (Y.astype(object), Z), {}, r"\by\b.*object")
case(f, "y-strings", (np.array(["a", "b", "c", "a"]), Z), {}, r"\by\b")
case(f, "raw-3d", (Y, Z[:, :, None]), {}, r"\braw\b.*shape")
case(f, "raw-1d-softmax", (Y, Z[:, 0]), {}, r"\braw\b.*2-D")
case(f, "raw-empty", (np.array([], dtype=int), np.empty((0, 3))), {}, r"\braw\b.*empty")
case(f, "raw-no-columns", (Y, np.empty((4, 0))), {}, r"\braw\b")
case(f, "raw-scalar", (Y[:1], 1.0), {}, r"\braw\b")
case(f, "raw-complex", (Y, Z.astype(complex)), {}, r"\braw\b.*complex")
case(f, "raw-object", (Y, Z.astype(object)), {}, r"\braw\b.*object")
case(f, "raw-strings", (Y, Z.astype(str)), {}, r"\braw\b")
case(f, "sample_weight-shorter", (Y, Z), {"sample_weight": SW[:3]}, r"sample_weight")
case(f, "sample_weight-2d", (Y, Z), {"sample_weight": SW[:, None]}, r"sample_weight")
case(f, "class_weight-shorter", (Y, Z), {"class_weight": [1.0, 1.0]}, r"class_weight")
for value in [-0.1, 1.0, 1.5, np.nan, "a", None]:
    case(f, f"label_smoothing-{value!r}", (Y, Z), {"label_smoothing": value}, r"label_smoothing")
case(f, "link", (Y, Z), {"link": "tanh"}, r"link")
for value in [0, -1, 1.5, "2", True]:
    case(f, f"n_threads-{value!r}", (Y, Z), {"n_threads": value}, r"n_threads")
case(f, "loss_out-shape", (Y, Z), {"loss_out": np.empty(3)}, r"loss_out")
case(f, "loss_out-dtype", (Y, Z), {"loss_out": np.empty(4, dtype=np.float32)}, r"loss_out")
case(f, "gradient_out-shape", (Y, Z), {"gradient_out": np.empty((4, 2))}, r"gradient_out")
case(
    f,
    "gradient_out-fortran",
    (Y, Z),
    {"gradient_out": np.empty((4, 3), order="F")},
    r"gradient_out",
)
case(f, "sigmoid-y-shape", (Y1.astype(float), Z), {"link": "sigmoid"}, r"\by\b.*shape")
case(f, "sigmoid-raw-3d", (Z[:, :, None], Z[:, :, None]), {"link": "sigmoid"}, r"\braw\b")
case(f, "sigmoid-raw-empty", ([], []), {"link": "sigmoid"}, r"\braw\b.*empty")
case(
    f,
    "sigmoid-class_weight",
    (Y1, P1),
    {"link": "sigmoid", "class_weight": [1.0, 1.0, 1.0]},
    r"class_weight",
)

# Value checks of skxent.loss: weights and targets are checked up front, the raw
# scores through the (cheap) finiteness of the outputs.  A -inf score where the
# target is 0 (and +inf for a sigmoid target of 1) is a probability of exactly 0
# (or 1) and gives exact, finite results: see test_infinite_scores_allowed_*.
for name, value in [("nan", np.nan), ("inf", np.inf)]:
    case(f, f"raw-{name}", (Y, _set(Z, (1, 1), value)), {}, r"\braw\b")
case(f, "raw--inf", (Y, _set(Z, (1, Y[1]), -np.inf)), {}, r"\braw\b")
for name, value in [("nan", np.nan), ("-inf", -np.inf)]:
    case(
        f,
        f"sigmoid-raw-{name}",
        (Y1.astype(float), _set(P1, 2, value)),
        {"link": "sigmoid"},
        r"\braw\b",
    )
case(f, "sample_weight-negative", (Y, Z), {"sample_weight": _set(SW, 1, -1.0)}, r"sample_weight")
case(f, "sample_weight-nan", (Y, Z), {"sample_weight": _set(SW, 1, np.nan)}, r"sample_weight")
case(f, "class_weight-negative", (Y, Z), {"class_weight": [1.0, -1.0, 1.0]}, r"class_weight")
case(f, "targets-row-sum", (_set(T, (2, 1), 0.3), Z), {}, r"\by\b.*row 2")
case(f, "targets-negative", (_set(T, (2, 1), -0.1), Z), {}, r"\by\b.*row 2")
case(f, "targets-nan", (_set(T, (2, 1), np.nan), Z), {}, r"\by\b.*row 2")
case(f, "sigmoid-targets-above-one", (_set(Y1, 1, 2.0), P1), {"link": "sigmoid"}, r"\by\b")


FUNCS = {
    "cross_entropy": metrics.cross_entropy,
    "binary_cross_entropy": metrics.binary_cross_entropy,
    "focal_cross_entropy": metrics.focal_cross_entropy,
    "entropy": metrics.entropy,
    "kl_divergence": metrics.kl_divergence,
    "perplexity": metrics.perplexity,
    "loss_gradient": loss_gradient,
}


def _snapshot(args, kwargs):
    items = list(args) + list(kwargs.values())
    return [
        (x, copy.deepcopy(x), getattr(getattr(x, "flags", None), "writeable", None)) for x in items
    ]


def _assert_unchanged(snapshot):
    for now, before, writeable in snapshot:
        if isinstance(before, np.ndarray):
            assert now.dtype == before.dtype and now.shape == before.shape
            if before.dtype.kind in "fc":
                assert np.array_equal(now, before, equal_nan=True), "input modified"
            else:
                assert np.array_equal(now, before), "input modified"
            assert now.flags.writeable == writeable
        elif sparse.issparse(before):
            assert (now != before).nnz == 0
        elif isinstance(before, float) and np.isnan(before):
            assert isinstance(now, float) and np.isnan(now)
        else:
            assert type(now) is type(before)
            assert repr(now) == repr(before), "input modified"


@pytest.mark.parametrize("func_id, args, kwargs, match", CASES)
def test_bad_input_raises_naming_the_argument(func_id, args, kwargs, match):
    func = FUNCS[func_id]
    snapshot = _snapshot(args, kwargs)
    with warnings.catch_warnings():
        # A warning is not an answer: ComplexWarning, RuntimeWarning (NaN
        # arithmetic) and the like must not stand in for the error.
        warnings.simplefilter("error")
        with pytest.raises((ValueError, TypeError), match=match):
            result = func(*args, **kwargs)
            pytest.fail(f"no error; returned {result!r}")
    _assert_unchanged(snapshot)


def test_every_function_has_cases():
    ids = {p.values[0] for p in CASES}
    assert ids == set(FUNCS)


# ---------------------------------------------------------------------------
# Valid calls: inputs unchanged; read-only and non-contiguous inputs work
# ---------------------------------------------------------------------------

VALID = {
    "cross_entropy": [
        ((Y, P), {}),
        (
            (Y, P),
            {
                "sample_weight": SW,
                "class_weight": [1.0, 2.0, 0.5],
                "label_smoothing": 0.1,
                "base": 2,
                "reduction": "none",
            },
        ),
        ((T, P), {"eps": 0}),
        ((Y, Z), {"from_logits": True, "sample_weight": SW, "reduction": "sum"}),
        ((Y1, P1), {}),
        ((Y, np.eye(3)[[1, 2, 0, 1]]), {}),  # zeros and ones: clipped internally
    ],
    "binary_cross_entropy": [
        ((YB, QB), {"sample_weight": SW, "pos_weight": [2.0, 0.5], "label_smoothing": 0.1}),
        ((YB, np.log(QB / (1 - QB))), {"from_logits": True, "reduction": "none"}),
        ((Y1.astype(float), P1), {"base": 2}),
        ((YB, YB), {}),  # zeros and ones: clipped internally
    ],
    "focal_cross_entropy": [
        ((Y, P), {"gamma": 1.5, "alpha": [0.2, 0.3, 0.5], "sample_weight": SW}),
        ((Y1, P1), {"alpha": 0.25, "reduction": "none"}),
        ((T, Z), {"from_logits": True, "label_smoothing": 0.05}),
    ],
    "entropy": [((P,), {}), ((P.T,), {"axis": 0, "base": 2}), ((P[0],), {})],
    "kl_divergence": [
        ((P, P2), {}),
        ((P.T, P2.T), {"axis": 0, "base": 2, "eps": 1e-12}),
        ((P[0], P2[0]), {}),
    ],
    "perplexity": [((Y, P), {"sample_weight": SW, "base": 2, "label_smoothing": 0.1})],
    "loss_gradient": [
        ((Y, Z), {"sample_weight": SW, "class_weight": [1.0, 2.0, 0.5], "label_smoothing": 0.1}),
        ((T, Z), {}),
        ((Y.astype(float), Z.astype(np.float32)), {}),
        ((YB, QB), {"link": "sigmoid", "sample_weight": SW, "class_weight": [0.5, 2.0]}),
        ((Y1.astype(float), P1), {"link": "sigmoid"}),
    ],
}
VALID_CASES = [
    pytest.param(f, i, id=f"{f}-{i}") for f, calls in VALID.items() for i in range(len(calls))
]


def _call(func_id, args, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return FUNCS[func_id](*args, **kwargs)


def _results_equal(a, b):
    if isinstance(a, tuple):
        return all(_results_equal(x, y) for x, y in zip(a, b))
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and np.array_equal(a, b)


def _readonly(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


def _strided_rows(a):
    return np.repeat(a, 2, axis=0)[::2] if a.ndim else a


def _strided_columns(a):
    if a.ndim != 2:
        return np.repeat(a, 2, axis=0)[::2]
    wide = np.zeros((a.shape[0], 2 * a.shape[1]), dtype=a.dtype)
    wide[:, 1::2] = a
    return wide[:, 1::2]


def _reversed(a):
    return np.ascontiguousarray(a[::-1])[::-1] if a.ndim else a


LAYOUTS = {
    "readonly": _readonly,
    "fortran": np.asfortranarray,
    "strided-rows": _strided_rows,
    "strided-columns": _strided_columns,
    "negative-strides": _reversed,
    "readonly-strided": lambda a: _readonly(a)[::1] if a.ndim == 0 else _strided_rows(_readonly(a)),
}


def _apply(change, x):
    if isinstance(x, np.ndarray):
        out = change(x)
        np.testing.assert_array_equal(out, x)  # the same values, another layout
        return out
    if isinstance(x, list) and all(isinstance(v, float) for v in x):
        return change(np.array(x))
    return x


@pytest.mark.parametrize("func_id, i", VALID_CASES)
def test_valid_calls_leave_inputs_unchanged(func_id, i):
    args, kwargs = VALID[func_id][i]
    args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    snapshot = _snapshot(args, kwargs)
    result = _call(func_id, args, kwargs)
    _assert_unchanged(snapshot)
    values = result if isinstance(result, tuple) else (result,)
    for v in values:
        assert np.all(np.isfinite(v)), "a valid call returned NaN or inf"


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("func_id, i", VALID_CASES)
def test_readonly_and_noncontiguous_inputs_work(func_id, i, layout):
    args, kwargs = VALID[func_id][i]
    expected = _call(func_id, args, kwargs)
    change = LAYOUTS[layout]
    new_args = tuple(_apply(change, a) for a in args)
    new_kwargs = {k: _apply(change, v) for k, v in kwargs.items()}
    snapshot = _snapshot(new_args, new_kwargs)
    got = _call(func_id, new_args, new_kwargs)
    _assert_unchanged(snapshot)
    assert _results_equal(got, expected), (got, expected)


@pytest.mark.parametrize("layout", ["readonly", "fortran", "strided-columns"])
def test_loss_gradient_output_buffers_and_hessp_accept_any_input_layout(layout):
    change = LAYOUTS[layout]
    loss, grad = loss_gradient(Y, Z)
    hv = hessp(Y, Z, Z)
    loss_out, grad_out = np.empty(4), np.empty((4, 3))
    got = loss_gradient(change(Y), change(Z), loss_out=loss_out, gradient_out=grad_out)
    assert got[0] is loss_out and got[1] is grad_out
    np.testing.assert_array_equal(loss_out, loss)
    np.testing.assert_array_equal(grad_out, grad)
    np.testing.assert_array_equal(hessp(change(Y), change(Z), change(Z)), hv)


def test_readonly_output_buffer_is_refused():
    with pytest.raises(ValueError, match="loss_out"):
        loss_gradient(Y, Z, loss_out=_readonly(np.empty(4)))


def test_infinite_scores_allowed_where_the_target_has_no_mass():
    # softmax: a -inf score is a probability of exactly 0; the loss and gradient
    # stay exact (independent reference: the same problem without that class).
    from skxent.loss import loss_gradient

    raw = np.array([[2.0, -np.inf, 0.5], [0.0, 1.0, -np.inf]])
    y = np.array([0, 1])
    loss, grad = loss_gradient(y, raw)
    ref_loss, ref_grad = loss_gradient(np.array([0, 1]), np.array([[2.0, 0.5], [0.0, 1.0]]))
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-15)
    np.testing.assert_allclose(grad[:, [0, 2]][0], ref_grad[0], rtol=1e-15)
    assert grad[0, 1] == 0.0 and grad[1, 2] == 0.0
    # sigmoid: +inf with target 1 and -inf with target 0 cost nothing
    loss, grad = loss_gradient(np.array([1.0, 0.0]), np.array([np.inf, -np.inf]), link="sigmoid")
    assert np.array_equal(loss, [0.0, 0.0]) and np.array_equal(grad, [0.0, 0.0])
