"""A convolution over each word's characters, max over positions: a learned word-shape feature.

This is CharWNN (dos Santos and Zadrozny, ICML 2014), SENNA's window network applied to the
characters of a word: embed each character, join it with its neighbours in a window, apply
one Linear layer and keep the maximum of each filter over the word. It gives rare and unseen
words a representation built from their affixes, capitals, digits and hyphens.

The convolution runs once per distinct word of a batch; tokens gather their word's row.
"""
from functools import partial
from typing import Callable, Dict, List, Sequence, Tuple

import numpy
from spacy.attrs import ORTH
from spacy.tokens import Doc
from thinc.api import Model, glorot_uniform_init, uniform_init
from thinc.types import Floats2d

from ..features import cached_by_orth, fold_digits

InT = List[Doc]
OutT = List[Floats2d]
_ROWS_BY_ORTH: Dict[Tuple[int, int], Dict[int, bytes]] = {}
_BLOCK_WORDS = 256


def SennaCharEmbed(
    width: int = 50,
    char_width: int = 10,
    window_size: int = 3,
    max_chars: int = 20,
    n_rows: int = 512,
) -> Model[InT, OutT]:
    """Per token, `width` filters of a `window_size`-character convolution, max over the word.

    Characters are hashed into `n_rows` rows (row 0 pads the word at both ends); digits count
    as '0'. Words longer than `max_chars` keep their first and last `max_chars // 2` characters.
    """
    if window_size < 1 or window_size % 2 == 0:
        raise ValueError(f"window_size must be odd and positive, got {window_size}")
    if not 2 <= n_rows <= 2**16:
        raise ValueError(f"n_rows must be between 2 and 65536, got {n_rows}")
    return Model(
        "senna_char_embed",
        forward,
        init=init,
        dims={"nO": width, "nC": char_width, "nV": n_rows},
        params={"E": None, "W": None, "b": None},
        attrs={"window_size": window_size, "max_chars": max_chars},
    )


def init(model: Model[InT, OutT], X=None, Y=None) -> None:
    n_in = model.get_dim("nC") * model.attrs["window_size"]
    model.set_param("E", uniform_init(model.ops, (model.get_dim("nV"), model.get_dim("nC"))))
    model.set_param("W", glorot_uniform_init(model.ops, (model.get_dim("nO"), n_in)))
    model.set_param("b", model.ops.alloc1f(model.get_dim("nO")))


def forward(model: Model[InT, OutT], docs: InT, is_train: bool) -> Tuple[OutT, Callable]:
    ops, xp = model.ops, model.ops.xp
    E, W, b = model.get_param("E"), model.get_param("W"), model.get_param("b")
    n_filters, window = W.shape[0], model.attrs["window_size"]
    lengths = ops.asarray1i([len(doc) for doc in docs])
    token_word, chars = _distinct_words(model, docs)
    n_words, n_positions = chars.shape[0], chars.shape[1] - 2 * (window // 2)
    # (word, position, k) rows of E: the window of characters centred on each position.
    char_rows = chars[:, numpy.arange(n_positions)[:, None] + numpy.arange(window)[None, :]]
    inside = chars[:, window // 2 : window // 2 + n_positions] != 0
    if not is_train:
        vectors = _max_over_characters(model, char_rows[inside], inside)[token_word]
        return (ops.unflatten(vectors, lengths) if docs else []), lambda d_outputs: []
    char_rows = ops.asarray(char_rows.reshape((-1,)), dtype="int32")
    windows = E[char_rows].reshape((n_words * n_positions, window * E.shape[1]))
    filters = (ops.gemm(windows, W, trans2=True) + b).reshape((n_words, n_positions, n_filters))
    filters[ops.asarray(~inside)] = -numpy.inf
    best = filters.argmax(axis=1)
    word_vectors = xp.take_along_axis(filters, best[:, None, :], axis=1)[:, 0, :]
    token_word = ops.asarray(token_word, dtype="int32")
    vectors = word_vectors[token_word]

    def backprop(d_outputs: OutT) -> InT:
        d_words = ops.alloc2f(n_words, n_filters)
        if len(token_word):
            ops.scatter_add(d_words, token_word, ops.flatten(d_outputs))
        d_filters = ops.alloc3f(n_words, n_positions, n_filters)
        xp.put_along_axis(d_filters, best[:, None, :], d_words[:, None, :], axis=1)
        d_filters = d_filters.reshape((n_words * n_positions, n_filters))
        model.inc_grad("W", ops.gemm(d_filters, windows, trans1=True))
        model.inc_grad("b", d_filters.sum(axis=0))
        d_windows = ops.gemm(d_filters, W).reshape((-1, E.shape[1]))
        d_E = ops.alloc2f(*E.shape)
        ops.scatter_add(d_E, char_rows, d_windows)
        model.inc_grad("E", d_E)
        return []

    return (ops.unflatten(vectors, lengths) if docs else []), backprop


def _distinct_words(model: Model, docs: InT) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """The distinct word of each token, and the padded character rows of each distinct word."""
    orths = numpy.concatenate([doc.to_array(ORTH) for doc in docs]) if docs else numpy.zeros((0,), "uint64")
    unique_orths, token_word = numpy.unique(orths, return_inverse=True)
    strings = docs[0].vocab.strings if docs else None
    word_rows = orth_char_rows(strings, unique_orths, model.get_dim("nV"), model.attrs["max_chars"])
    return token_word.reshape((-1,)), char_matrix(word_rows, model.attrs["window_size"] // 2)


def _max_over_characters(model: Model, char_windows, inside) -> Floats2d:
    """Inference: the filters at each word's real character positions only, max per word,
    a block of words at a time (the padded filter array stays small)."""
    ops, E, W, b = model.ops, model.get_param("E"), model.get_param("W"), model.get_param("b")
    best = ops.alloc2f(inside.shape[0], W.shape[0])
    position_start = numpy.concatenate([[0], numpy.cumsum(inside.sum(axis=1))])
    for start in range(0, inside.shape[0], _BLOCK_WORDS):
        end = min(start + _BLOCK_WORDS, inside.shape[0])
        rows = char_windows[position_start[start] : position_start[end]]
        windows = E[ops.asarray(rows.reshape((-1,)), dtype="int32")].reshape((len(rows), -1))
        filters = ops.xp.full((end - start, inside.shape[1], W.shape[0]), -numpy.inf, dtype="float32")
        filters[ops.asarray(inside[start:end])] = ops.gemm(windows, W, trans2=True)
        block = best[start:end]
        block[...] = filters[:, 0]
        for position in range(1, filters.shape[1]):
            ops.xp.maximum(block, filters[:, position], out=block)
    return best + b


def orth_char_rows(strings, orths: Sequence[int], n_rows: int, max_chars: int) -> List[bytes]:
    """The character rows of each word (by orth id), cached by id: ids are hashes of the text."""
    cache = _ROWS_BY_ORTH.setdefault((n_rows, max_chars), {})
    return cached_by_orth(cache, orths.tolist(), strings, partial(word_char_rows, n_rows=n_rows, max_chars=max_chars))


def char_matrix(word_rows: List[bytes], pad: int) -> numpy.ndarray:
    """(n_words, longest + 2 * pad) character rows, 0 outside each word."""
    n_chars = numpy.fromiter(map(len, word_rows), dtype="int64", count=len(word_rows)) // 2
    longest = int(n_chars.max()) if len(word_rows) else 1
    matrix = numpy.zeros((len(word_rows), longest + 2 * pad), dtype="int32")
    if len(word_rows):
        inside = numpy.arange(longest)[None, :] < n_chars[:, None]
        matrix[:, pad : pad + longest][inside] = numpy.frombuffer(b"".join(word_rows), dtype="<u2")
    return matrix


def word_char_rows(word: str, n_rows: int, max_chars: int) -> bytes:
    """Rows of a word's characters, 1 + code point mod (n_rows - 1), digits as '0', as
    little-endian uint16 bytes (compact to cache); an empty word gets one row, 1."""
    word = fold_digits(word)
    if len(word) > max_chars:
        word = word[: max_chars // 2] + word[-(max_chars - max_chars // 2) :]
    codes = numpy.frombuffer(word.encode("utf-32-le"), dtype="uint32").astype("int64")
    rows = 1 + codes % (n_rows - 1) if len(codes) else numpy.ones((1,), dtype="int64")
    return rows.astype("<u2").tobytes()
