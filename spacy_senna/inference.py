"""The window network's inference arithmetic in numpy, without spaCy or Thinc: the windows of
a batch of sequences, the first hidden layer per distinct token vector, the character
convolution's max over a word and HardTanh. The Thinc layers (layers/window.py,
layers/distinct_window.py, layers/char_embed.py) and the `senna` drop-in's lean path
(dropin/lean.py) both run these, so the two give the same numbers.
"""
from typing import Callable, Iterable, List, Optional

import numpy

from .kernels import compiled

MAX_DISTINCT_SHARE = 0.6  # above this share of distinct token vectors, the plain product is faster
_BLOCK_WORDS = 256  # words per block of the character convolution's max


def dot_transposed(x: numpy.ndarray, W: numpy.ndarray) -> numpy.ndarray:
    """x @ W.T, as Thinc's NumpyOps.gemm(x, W, trans2=True) computes it without BLIS."""
    return numpy.dot(x, W.T)


def window_rows(lengths, width: int, dilation: int = 1, xp=numpy):
    """Rows of the padded table for each token's window: (n_tokens, width), 0 where padding,
    i + 1 for token i of the batch (sequences of `lengths` laid end to end)."""
    n_tokens = int(lengths.sum())
    position = xp.arange(n_tokens, dtype="int32")
    seq_start = xp.repeat(xp.cumsum(lengths) - lengths, lengths).astype("int32")
    seq_end = seq_start + xp.repeat(lengths, lengths).astype("int32")
    offsets = (xp.arange(width, dtype="int32") - width // 2) * dilation
    neighbour = position[:, None] + offsets[None, :]
    inside = (neighbour >= seq_start[:, None]) & (neighbour < seq_end[:, None])
    return xp.where(inside, neighbour + 1, 0).astype("int32")


def windows(flat: numpy.ndarray, lengths: numpy.ndarray, pad: numpy.ndarray, width: int) -> numpy.ndarray:
    """Each token's vector joined with its neighbours': (n_tokens, width * n_in), `pad` past
    the ends of each sequence."""
    n_in = flat.shape[1]
    table = numpy.vstack([pad.reshape((1, n_in)), flat])
    rows = window_rows(lengths, width)
    return table[rows.ravel()].reshape((rows.shape[0], width * n_in))


def row_keys(rows: numpy.ndarray) -> numpy.ndarray:
    """One float64 per row: its product with a fixed random vector."""
    return rows.astype("float64") @ numpy.random.default_rng(rows.shape[1]).uniform(0.5, 1.5, size=rows.shape[1])


def distinct_rows(rows: numpy.ndarray):
    """The distinct rows of a float32 matrix and the index of each row among them. Rows are
    told apart by a random projection (one float64 each, fast to sort); should two different
    rows share one, which the check catches, by their bytes."""
    _, first, inverse = numpy.unique(row_keys(rows), return_index=True, return_inverse=True)
    distinct = rows[first]
    if not (distinct[inverse.reshape((-1,))] == rows).all():
        as_bytes = numpy.ascontiguousarray(rows).view(f"V{rows.shape[1] * rows.itemsize}").reshape((-1,))
        _, first, inverse = numpy.unique(as_bytes, return_index=True, return_inverse=True)
        distinct = rows[first]
    return distinct, inverse.reshape((-1,))


def distinct_window_affine(
    flat: numpy.ndarray, lengths: numpy.ndarray, pad: numpy.ndarray, size: int, W: numpy.ndarray, b: numpy.ndarray
) -> Optional[numpy.ndarray]:
    """W [x(i-2); ...; x(i+2)] + b for every token (window `size`), with each W_k x computed
    once per distinct token vector; None when too many vectors are distinct for that to pay
    (then `windows` and a plain product are faster)."""
    n_tokens, width = flat.shape
    distinct, token_type = distinct_rows(flat)
    if len(distinct) > MAX_DISTINCT_SHARE * n_tokens:
        return None
    n_hidden = W.shape[0]
    # W_k of each window position k, side by side: (width, size * n_hidden)
    per_position = numpy.ascontiguousarray(W.reshape((n_hidden, size, width)).transpose((2, 1, 0)).reshape((width, -1)))
    table = numpy.empty((len(distinct) + 1, size, n_hidden), dtype="float32")
    table[0] = (pad.reshape((1, width)) @ per_position).reshape((size, n_hidden))
    numpy.matmul(distinct, per_position, out=table[1:].reshape((-1, size * n_hidden)))
    rows = window_rows(lengths, size)  # 0: padding, i + 1: token i
    type_rows = numpy.concatenate([[0], token_type.reshape((-1,)) + 1])[rows]
    summed = numpy.empty((n_tokens, n_hidden), dtype="float32")
    kernels = compiled()
    if kernels is not None:  # the same sums in the same order, in one pass
        kernels.window_sums(table, numpy.ascontiguousarray(type_rows, dtype="int32"), numpy.ascontiguousarray(b, dtype="float32"), summed)
        return summed
    summed[...] = b
    for position in range(size):
        summed += table[type_rows[:, position], position]
    return summed


def clipped_linear(X: numpy.ndarray, slope: float, offset: float, min_val: float, max_val: float) -> numpy.ndarray:
    """In place, as Thinc's Ops.clipped_linear(inplace=True): HardTanh for slope 1, offset 0, [-1, 1]."""
    X *= slope
    X += offset
    return numpy.clip(X, min_val, max_val, out=X)


def char_windows(chars: numpy.ndarray, window: int):
    """For (n_words, padded length) character rows: the rows of the `window` characters
    centred on each position, (n_words, n_positions, window), and whether each position
    holds a character of the word (n_words, n_positions)."""
    n_positions = chars.shape[1] - 2 * (window // 2)
    rows = chars[:, numpy.arange(n_positions)[:, None] + numpy.arange(window)[None, :]]
    inside = chars[:, window // 2 : window // 2 + n_positions] != 0
    return rows, inside


def max_over_characters(
    E: numpy.ndarray,
    W: numpy.ndarray,
    b: numpy.ndarray,
    window_rows_inside: numpy.ndarray,
    inside: numpy.ndarray,
    gemm: Callable[[numpy.ndarray, numpy.ndarray], numpy.ndarray] = dot_transposed,
) -> numpy.ndarray:
    """The character filters at each word's real positions only (`window_rows_inside`: the
    character windows where `inside`), max per word, a block of words at a time (the padded
    filter array stays small); `gemm(x, W)` is x @ W.T."""
    best = numpy.zeros((inside.shape[0], W.shape[0]), dtype="float32")
    position_start = numpy.concatenate([[0], numpy.cumsum(inside.sum(axis=1))])
    for start in range(0, inside.shape[0], _BLOCK_WORDS):
        end = min(start + _BLOCK_WORDS, inside.shape[0])
        rows = window_rows_inside[position_start[start] : position_start[end]]
        char_vectors = E[numpy.asarray(rows.reshape((-1,)), dtype="int32")].reshape((len(rows), -1))
        filters = numpy.full((end - start, inside.shape[1], W.shape[0]), -numpy.inf, dtype="float32")
        filters[inside[start:end]] = gemm(char_vectors, W)
        block = best[start:end]
        block[...] = filters[:, 0]
        for position in range(1, filters.shape[1]):
            numpy.maximum(block, filters[:, position], out=block)
    return best + b


def split_rows(array: numpy.ndarray, lengths: Iterable[int]) -> List[numpy.ndarray]:
    """The array's consecutive row blocks of these lengths, as views (numpy.split's and
    thinc's unflatten's cost per block is several times a slice's)."""
    lengths = [int(length) for length in lengths]
    ends = numpy.cumsum(lengths).tolist() if lengths else []
    return [array[end - length : end] for end, length in zip(ends, lengths)]
