"""The parser's first hidden layer in training, split as LevelScorer splits it at inference.

A plain window network over [word vector; history tag embedding] computes, for each word of
each level, act(W [x(i-k); h(i-k); ...; x(i+k); h(i+k)] + b). The word part of that product
does not change between the levels of a sentence, so it is one window product per word,
for all the word's levels; the history part is a table per window position of W_k times
each history tag's embedding (a few hundred rows), which each level's words gather. In the
backward pass the word part's gradient is first summed over the levels of each word, so both
products, forward and backward, run over the batch's words, not over its (word, level) rows.
The window's padding vector stands for a position past either end, in both parts. The
result is the window layer and the hidden layer run on every row, up to float rounding
(tests/test_parser.py compares the two, outputs and gradients).
"""
from typing import Callable, List, Sequence, Tuple

from thinc.api import Model
from thinc.types import Floats2d

from ..inference import CLIP_SETTINGS
from ..level_inference import LevelItem
from .window import window_rows

Backprop = Callable[[Floats2d], Tuple[List[Floats2d], Floats2d]]


def split_hidden(
    window: Model, hidden: Model, vectors: List[Floats2d], H: Floats2d, items: Sequence[LevelItem]
) -> Tuple[Floats2d, Backprop]:
    """The hidden layer's output for every word of the items, the items end to end, and the
    backprop from its gradient to the word vectors' (per doc) and the history table's."""
    ops = hidden.ops
    xp = ops.xp
    if not items:
        return ops.alloc2f(0, hidden.get_dim("nO")), lambda d_output: ([ops.alloc2f(*v.shape) for v in vectors], ops.alloc2f(*H.shape))
    size = window.attrs["window_size"]
    pad, W, b = window.get_param("pad"), hidden.get_param("W"), hidden.get_param("b")
    n_hidden, n_in = W.shape[0], pad.shape[0]
    n_word = n_in - H.shape[1]
    settings = {key: hidden.attrs[key] for key in CLIP_SETTINGS}
    W_positions = W.reshape((n_hidden, size, n_in))
    W_word = xp.ascontiguousarray(W_positions[:, :, :n_word].reshape((n_hidden, size * n_word)))
    W_history = W_positions[:, :, n_word:]  # (n_hidden, size, history width)
    # the word part, one row per word of the docs: its window (padding past the ends) times W_word
    doc_lengths = ops.asarray1i([len(v) for v in vectors])
    word_windows = window_rows(ops, doc_lengths, size)  # rows of word_inputs: 0 the padding, j + 1 word j
    word_inputs = xp.vstack([pad[None, :n_word]] + list(vectors))
    X_word = word_inputs[word_windows.ravel()].reshape((len(word_windows), size * n_word))
    word_part = ops.gemm(X_word, W_word, trans2=True)
    # the history part: per position k, the table of W_k's history columns times each tag's row
    history_inputs = xp.vstack([pad[None, n_word:], H])  # row 0: the padding, t + 1: tag t
    history_tables = xp.ascontiguousarray(xp.einsum("rc,hkc->krh", history_inputs, W_history))
    # each item's rows: its doc's words, and the history tags in each word's window
    item_lengths = ops.asarray1i([len(item.history) for item in items])
    doc_starts = xp.cumsum(doc_lengths) - doc_lengths
    word_of_row = xp.concatenate([doc_starts[item.doc] + xp.arange(len(item.history)) for item in items]).astype("int32")
    histories = xp.concatenate([xp.zeros((1,), dtype="int32")] + [xp.asarray(item.history, dtype="int32") + 1 for item in items])
    # (size, n_rows): row k holds each row's history tag at window position k, in history_tables[k]
    history_rows = xp.ascontiguousarray(histories[window_rows(ops, item_lengths, size)].T)
    preact = word_part[word_of_row] + b
    for position in range(size):
        preact += history_tables[position][history_rows[position]]
    output = ops.clipped_linear(preact, **settings)

    def backprop(d_output: Floats2d) -> Tuple[List[Floats2d], Floats2d]:
        d_preact = ops.backprop_clipped_linear(d_output, preact, **settings)
        d_word_part = ops.alloc2f(*word_part.shape)
        ops.scatter_add(d_word_part, word_of_row, d_preact)  # each word's levels summed
        d_X_word = ops.gemm(d_word_part, W_word)
        d_word_inputs = ops.alloc2f(*word_inputs.shape)
        ops.scatter_add(d_word_inputs, word_windows.ravel(), xp.ascontiguousarray(d_X_word.reshape((-1, n_word))))
        d_history_tables = xp.zeros(history_tables.shape, dtype="float32")
        for position in range(size):
            ops.scatter_add(d_history_tables[position], history_rows[position], d_preact)
        d_history_inputs = xp.einsum("krh,hkc->rc", d_history_tables, W_history)
        d_W = xp.zeros((n_hidden, size, n_in), dtype="float32")
        d_W[:, :, :n_word] = ops.gemm(d_word_part, X_word, trans1=True).reshape((n_hidden, size, n_word))
        d_W[:, :, n_word:] = xp.einsum("krh,rc->hkc", d_history_tables, history_inputs)
        hidden.inc_grad("W", d_W.reshape(W.shape))
        hidden.inc_grad("b", d_preact.sum(axis=0))
        window.inc_grad("pad", xp.concatenate([d_word_inputs[0], d_history_inputs[0]]))
        return ops.unflatten(d_word_inputs[1:], doc_lengths), d_history_inputs[1:]

    return output, backprop
