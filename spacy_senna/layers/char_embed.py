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

from ..features import cached_by_orth
from ..inference import char_windows, max_over_characters
from ..lexicon import char_matrix, word_char_rows

InT = List[Doc]
OutT = List[Floats2d]
_ROWS_BY_ORTH: Dict[Tuple[int, int], Dict[int, bytes]] = {}


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
    char_rows, inside = char_windows(chars, window)
    if not is_train:
        gemm = partial(ops.gemm, trans2=True)
        vectors = max_over_characters(E, W, b, char_rows[inside], inside, gemm)[token_word]
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


def orth_char_rows(strings, orths: Sequence[int], n_rows: int, max_chars: int) -> List[bytes]:
    """The character rows of each word (by orth id), cached by id: ids are hashes of the text."""
    cache = _ROWS_BY_ORTH.setdefault((n_rows, max_chars), {})
    return cached_by_orth(cache, orths.tolist(), strings, partial(word_char_rows, n_rows=n_rows, max_chars=max_chars))
