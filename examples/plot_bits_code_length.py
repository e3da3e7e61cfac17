"""
======================================
Cross entropy in bits is a code length
======================================

A code that spends :math:`\\ell(x)` bits on symbol :math:`x` is a probability
model in disguise, :math:`Q(x) = 2^{-\\ell(x)}`, and on text drawn from
:math:`P` it spends on average :math:`H_2(P, Q) = -\\sum_x P(x) \\log_2 Q(x)`
bits per symbol: the cross entropy in bits.  A better model of the text is a
shorter code.

This example fits simple character models — each byte predicted from the
:math:`k` bytes before it — on one part of a text, measures their cross entropy
in bits per character on another part with :func:`skxent.metrics.cross_entropy`,
builds a real (Huffman) code from one of them, and compares with what the
general-purpose compressors ``zlib``, ``bz2`` and ``lzma`` achieve.
"""

# %%
# A text
# ------
# The documentation that ships with Python: the docstrings of a few dozen
# standard-library modules, as UTF-8 bytes (almost all ASCII, so a byte is a
# character).  The models are fitted on the first 90% and measured on the last
# 10%, which documents other modules: a model must generalise.

import bz2
import heapq
import importlib
import inspect
import lzma
import zlib

import matplotlib.pyplot as plt
import numpy as np

from skxent.metrics import cross_entropy, entropy, kl_divergence

MODULES = """collections itertools functools json pathlib textwrap random statistics
string re os argparse logging subprocess typing dataclasses enum decimal fractions
heapq bisect calendar csv datetime shutil tempfile unittest doctest pickle threading
""".split()

parts = []
for name in MODULES:
    module = importlib.import_module(name)
    objects = [module] + [
        obj
        for attr, obj in sorted(vars(module).items())
        if not attr.startswith("_") and getattr(obj, "__module__", None) == name
    ]
    parts += [doc for doc in map(inspect.getdoc, objects) if doc]
data = np.frombuffer("\n\n".join(parts).encode(), dtype=np.uint8)
split = int(0.9 * len(data))
train, test = data[:split], data[split:]
print(f"{len(data):,} bytes: {len(train):,} to fit the models, {len(test):,} to measure them")
print(bytes(test[:160]).decode(errors="replace"))

# %%
# Character models
# ----------------
# A model of order :math:`k` predicts the next byte from the :math:`k` bytes
# before it, with the frequencies seen in the training text plus a small
# pseudo-count :math:`\alpha` (so that no byte gets probability zero):
# :math:`Q(x \mid c) = (n(c, x) + \alpha) / (n(c) + 256\,\alpha)`.


def contexts(seq, order):
    """The k bytes before each position, packed into one integer."""
    ctx = np.zeros(len(seq) - order, dtype=np.int64)
    for j in range(order):
        ctx = ctx * 256 + seq[j : len(seq) - order + j]
    return ctx


class CharModel:
    def __init__(self, order, alpha=0.01):
        self.order, self.alpha = order, alpha

    def fit(self, seq):
        self.keys_, index = np.unique(contexts(seq, self.order), return_inverse=True)
        self.counts_ = np.zeros((len(self.keys_), 256), dtype=np.float32)
        np.add.at(self.counts_, (index, seq[self.order :]), 1)
        return self

    def predict_proba(self, ctx):
        """Q(. | c), one row per context; unseen contexts get the uniform prior."""
        pos = np.minimum(np.searchsorted(self.keys_, ctx), len(self.keys_) - 1)
        table = self.counts_[pos]  # a copy, float32: half the memory of float64
        table[self.keys_[pos] != ctx] = 0.0
        table += self.alpha
        table /= table.sum(axis=1, keepdims=True)
        return table


# %%
# Bits per character
# ------------------
# Each byte of the test text is a sample, its value the label, and the
# model's prediction a row of 256 probabilities: the cross entropy in bits is
# the average length of the ideal code for that model, in bits per character.
#
# The same number is also a cross entropy between *distributions*: the
# empirical distribution of the next byte in each context, against the
# model's, weighted by how often the context occurs.  The second form needs
# one row per distinct context instead of one per byte, so it measures the
# models on all of their (large) training text too.


def bits_per_char(model, seq):
    ctx = contexts(seq, model.order)
    return cross_entropy(seq[model.order :], model.predict_proba(ctx), base=2)


def bits_per_char_by_context(model, seq):
    keys, index = np.unique(contexts(seq, model.order), return_inverse=True)
    empirical = np.zeros((len(keys), 256), dtype=np.float32)
    np.add.at(empirical, (index, seq[model.order :]), 1)
    n_context = empirical.sum(axis=1)
    empirical /= n_context[:, None]
    return cross_entropy(empirical, model.predict_proba(keys), sample_weight=n_context, base=2)


orders = [0, 1, 2, 3, 4]
models = [CharModel(order).fit(train) for order in orders]
on_test = [bits_per_char(m, test) for m in models]
on_train = [bits_per_char_by_context(m, train) for m in models]
by_context = [bits_per_char_by_context(m, test) for m in models]
for order, a, b, c in zip(orders, on_test, by_context, on_train):
    print(f"order {order}: test {a:.4f} bits/char (by context {b:.4f}), training text {c:.4f}")

# %%
# Higher orders predict better — up to a point.  On the training text the
# cross entropy keeps falling: a model with more contexts memorises more.  On
# the test text it falls more slowly, then rises again once most contexts
# have been seen only a few times: the model has learnt its training text
# rather than the language.  This is overfitting, measured in bits.
#
# For the order-0 model (byte frequencies alone), the decomposition is exact:
# the cross entropy of the test text is the entropy of its own byte
# frequencies plus their divergence from the training frequencies.

p_test = np.bincount(test, minlength=256) / len(test)
q_train = models[0].predict_proba(np.zeros(1, dtype=np.int64))[0]
h = entropy(p_test, base=2)
d = kl_divergence(p_test, q_train, base=2)
print(f"H(P_test) = {h:.4f} bits, D(P_test || Q_train) = {d:.4f} bits, sum = {h + d:.4f}")
print(f"cross entropy of the order-0 model on the test text: {on_test[0]:.4f} bits/char")

# %%
# A real code: Huffman
# --------------------
# The cross entropy is the length of an *ideal* code, with fractional bits.
# A Huffman code built from the order-0 model's probabilities uses whole bits
# per byte; on the test text it costs at most one bit per character more than
# the cross entropy.  Here it is built and its bits are counted.


def huffman_lengths(prob):
    """Codeword length of each symbol in a Huffman code for ``prob``."""
    heap = [(p, i, [i]) for i, p in enumerate(prob)]
    heapq.heapify(heap)
    lengths = np.zeros(len(prob), dtype=int)
    while len(heap) > 1:
        p1, i1, s1 = heapq.heappop(heap)
        p2, i2, s2 = heapq.heappop(heap)
        lengths[s1 + s2] += 1  # each merge adds one bit to every symbol below it
        heapq.heappush(heap, (p1 + p2, min(i1, i2), s1 + s2))
    return lengths


lengths = huffman_lengths(q_train)
assert (2.0**-lengths).sum() <= 1 + 1e-12  # Kraft's inequality: a prefix code exists
huffman = lengths[test].mean()
print(f"Huffman code of the order-0 model: {huffman:.4f} bits/char")
print(f"its cross entropy:                 {on_test[0]:.4f} bits/char")

# %%
# General-purpose compressors
# ---------------------------
# ``zlib``, ``bz2`` and ``lzma`` learn as they go and exploit long repeats
# that a model of three characters of context cannot see.  Compressing the
# test text alone, they start from nothing; given the training text first
# (the extra bytes needed to compress training + test text rather than the
# training text alone), they may use what they learned there, as the models
# do.

compressors = {
    "zlib": lambda b: zlib.compress(b, 9),
    "bz2": lambda b: bz2.compress(b, 9),
    "lzma": lambda b: lzma.compress(b, preset=9 | lzma.PRESET_EXTREME),
}
alone, given_train = {}, {}
for name, compress in compressors.items():
    alone[name] = 8 * len(compress(test.tobytes())) / len(test)
    extra = len(compress(data.tobytes())) - len(compress(train.tobytes()))
    given_train[name] = 8 * extra / len(test)
    print(f"{name:5s}: {alone[name]:.3f} bits/char alone, {given_train[name]:.3f} given training")

# %%
# All together
# ------------

fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
ax.plot(orders, on_test, "o-", label="character model, test text")
ax.plot(orders, on_train, "o--", color="tab:blue", alpha=0.5, label="... on its training text")
ax.plot([0], [huffman], "s", color="tab:red", label="Huffman code of the order-0 model")
for (name, value), color in zip(alone.items(), ["tab:green", "tab:purple", "tab:brown"]):
    ax.axhline(value, color=color, linestyle=":", label=f"{name}, test text alone")
    ax.axhline(given_train[name], color=color, alpha=0.6, label=f"{name}, given training")
ax.axhline(8, color="black", linewidth=1, label="8 bits: no model (uniform over bytes)")
ax.set_xticks(orders)
ax.set_xlabel("order of the character model (bytes of context)")
ax.set_ylabel("bits per character")
ax.set_ylim(0, 11)
ax.legend(fontsize=8, loc="upper right", ncols=2)
ax.set_title("Cross entropy in bits = average code length")
plt.show()

# %%
# The cross entropy in bits of a model is what an ideal code built on it
# would spend, and a real code gets close (arithmetic coding comes within a
# couple of bits of it for the whole text).  Compression and prediction are
# the same problem: the compressors win here because they use longer
# contexts, not because they escape the arithmetic of cross entropy.
