"""The networks' inference arithmetic in numpy, without spaCy or Thinc: the windows of a
batch of sequences, the first hidden layer per distinct token vector, the character
convolution's max over a word, HardTanh, the SRL sentence network's distance features with
max over time, and x @ W.T by BLIS as the parser's Thinc layers compute it. The Thinc layers
(layers/window.py, layers/distinct_window.py, layers/char_embed.py, layers/sentence.py) and
the `senna` drop-in's lean path (dropin/lean.py) both run these, so the two give the same
numbers.
"""
from typing import Callable, Dict, Iterable, List, Optional, Sequence

import numpy

from .kernels import compiled

MAX_DISTINCT_SHARE = 0.6  # above this share of distinct token vectors, the plain product is faster
_BLOCK_WORDS = 256  # words per block of the character convolution's max
SLOT_OFFSETS = (-1, 0, 1)  # the sentence network's convolution window, around token i
_MAX_BLOCK = 500_000  # floats in the (predicates, n, words, nO) sums of one step at inference
_MAX_CACHED = 500_000  # floats of whole word-distance parts kept within a batch at inference
WORD_TABLE = "W_word"  # SennaEmbed's parameters: the word, caps and suffix tables
TABLES = (WORD_TABLE, "W_caps", "W_suffix")
WORD_SCALE = "W_word_scale"  # an int8 word table's (n_words, 1) float32 row scales (layers/embed.py)
SENTENCE_PARAMS = ("E_word", "W_word", "E_pred", "W_pred")  # SennaSentence's parameters: SentenceDistances' arguments, in order


def dot_transposed(x: numpy.ndarray, W: numpy.ndarray) -> numpy.ndarray:
    """x @ W.T, as Thinc's NumpyOps.gemm(x, W, trans2=True) computes it without BLIS."""
    return numpy.dot(x, W.T)


def blis_dot_transposed(x: numpy.ndarray, W: numpy.ndarray) -> numpy.ndarray:
    """x @ W.T by BLIS, as Thinc's NumpyOps(use_blis=True).gemm(x, W, trans2=True) computes it
    (the parser's layers run on such ops): float32, C-contiguous operands."""
    from blis.py import gemm  # a dependency of Thinc, but not Thinc: imported only when needed

    return gemm(_contiguous(x), _contiguous(W), trans1=False, trans2=True, beta=0.0)


def _contiguous(x: numpy.ndarray) -> numpy.ndarray:
    return x if x.flags["C_CONTIGUOUS"] else numpy.ascontiguousarray(x)


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


def looked_up(W: Sequence, scale: Optional[numpy.ndarray], ids: numpy.ndarray, xp=numpy) -> numpy.ndarray:
    """Each token's [word row; caps row; suffix row] (`ids`: its three row numbers) in
    float32; an int8 word table's rows times their scales (`scale`), a float16 one's widened."""
    word = W[0][ids[:, 0]]
    if scale is not None:
        word = word.astype("float32") * scale[ids[:, 0]]
    return xp.hstack([word, W[1][ids[:, 1]], W[2][ids[:, 2]]]).astype("float32", copy=False)


def windows(flat: numpy.ndarray, lengths: numpy.ndarray, pad: numpy.ndarray, width: int, dilation: int = 1) -> numpy.ndarray:
    """Each token's vector joined with its neighbours' (every `dilation`-th): (n_tokens,
    width * n_in), `pad` past the ends of each sequence."""
    n_in = flat.shape[1]
    table = numpy.vstack([pad.reshape((1, n_in)), flat])
    rows = window_rows(lengths, width, dilation)
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


def position_weights(W: numpy.ndarray, size: int, start: int = 0, stop: Optional[int] = None) -> numpy.ndarray:
    """The first layer's W_k of each window position k, side by side, for the input columns
    start:stop of each position: (stop - start, size * n_hidden), column k * n_hidden + h."""
    n_hidden = W.shape[0]
    per_position = W.reshape((n_hidden, size, -1))[:, :, start:stop]
    return numpy.ascontiguousarray(per_position.transpose((2, 1, 0)).reshape((per_position.shape[2], size * n_hidden)))


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
    per_position = position_weights(W, size)
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


CLIP_SETTINGS = ("slope", "offset", "min_val", "max_val")  # clipped_linear's settings: Thinc's ClippedLinear attrs


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


# -- the SRL sentence network (layers/sentence.py explains the decomposition) ----------------
def slot_tables(E: numpy.ndarray, W: numpy.ndarray) -> numpy.ndarray:
    """G[k] = E @ W[k]: the convolution output of each clipped distance in window slot k."""
    return numpy.einsum("dw,kwo->kdo", E, W)


def clipped_distance_rows(distances: numpy.ndarray, max_distance: int) -> numpy.ndarray:
    """The distance embedding's row of each distance, clipped to [-max_distance, max_distance]."""
    return numpy.clip(distances, -max_distance, max_distance) + max_distance


def offset_table(G: numpy.ndarray, max_distance: int) -> numpy.ndarray:
    """T[d] = sum_k G[k][clip(d + offset_k)] for d in [-(max_distance + 1), max_distance + 1]:
    the distance part of a token whose neighbours are all inside the sentence, by offset d
    from its target (beyond that range every slot is clipped, so T is constant there)."""
    reach = max_distance + 1
    offsets = numpy.arange(-reach, reach + 1)
    return sum(G[k][clipped_distance_rows(offsets + shift, max_distance)] for k, shift in enumerate(SLOT_OFFSETS))


def distance_part(G: numpy.ndarray, T: numpy.ndarray, targets: numpy.ndarray, n: int, max_distance: int) -> numpy.ndarray:
    """D[i, t] = sum_k [i + offset_k inside] * G[k][clip(i + offset_k - targets[t])]: (n, T, nO).

    One gather from the offset table T; the first and last tokens then lose the slot that
    falls outside the sentence."""
    reach = max_distance + 1
    offsets = numpy.arange(n)[:, None] - targets[None, :]
    total = T[numpy.clip(offsets, -reach, reach) + reach]
    total[0] -= G[0][clipped_distance_rows(-1 - targets, max_distance)]
    total[n - 1] -= G[-1][clipped_distance_rows(n - targets, max_distance)]
    return total


def max_over_time(
    base: numpy.ndarray, G: numpy.ndarray, T: numpy.ndarray, max_distance: int, cache: Dict[int, numpy.ndarray]
) -> numpy.ndarray:
    """out[q, w] = max over i of base[q, i] + Dw[i, w], for all predicates at once, a block
    of words at a time so that the (P, n_i, block, nO) sums stay under _MAX_BLOCK floats.
    `cache` keeps the word parts of short sentences (they depend on the length only)."""
    n_preds, n, n_out = base.shape
    out = numpy.empty_like(base)
    block = max(1, _MAX_BLOCK // (n_preds * n * n_out))
    whole = None
    if n * n * n_out <= _MAX_CACHED:
        if n not in cache:
            if sum(part.size for part in cache.values()) > _MAX_CACHED:
                cache.clear()
            cache[n] = distance_part(G, T, numpy.arange(n), n, max_distance)
        whole = cache[n]
    for first in range(0, n, block):
        words = slice(first, min(n, first + block))
        if whole is not None:
            word_part = whole[:, words]
        else:
            word_part = distance_part(G, T, numpy.arange(n)[words], n, max_distance)  # (n_i, block, nO)
        numpy.max(word_part[None] + base[:, :, None, :], axis=1, out=out[:, words])
    return out


def row_bounded_chunks(lengths: Sequence[int], n_predicates: Sequence[int], max_rows: int) -> Iterable:
    """(start, end) ranges of sentences whose (predicate, word) rows add up to at most
    `max_rows` (or one sentence): the SRL network's arrays have one row per (predicate, word)."""
    start, rows = 0, 0
    for i, (length, count) in enumerate(zip(lengths, n_predicates)):
        sentence_rows = length * count
        if rows and rows + sentence_rows > max_rows:
            yield start, i
            start, rows = i, 0
        rows += sentence_rows
    if start < len(lengths):
        yield start, len(lengths)


class SentenceDistances:
    """The sentence network's distance features and max over time at inference, from its
    distance embeddings E and slot weights W (word and predicate): one (n, nO) array per
    (sentence, predicate), from each sentence's convolution C (n, nO) and predicates."""

    def __init__(self, E_word, W_word, E_pred, W_pred, max_distance: int) -> None:
        self.max_distance = max_distance
        self.G_word, self.G_pred = slot_tables(E_word, W_word), slot_tables(E_pred, W_pred)
        self.T_word, self.T_pred = offset_table(self.G_word, max_distance), offset_table(self.G_pred, max_distance)
        self._word_parts: Dict[int, numpy.ndarray] = {}

    def pred_base(self, C: numpy.ndarray, predicates: numpy.ndarray) -> numpy.ndarray:
        """(P, n, nO): C[i] + Dp[i, p_q] for each predicate q."""
        pred_part = distance_part(self.G_pred, self.T_pred, numpy.asarray(predicates), C.shape[0], self.max_distance)
        return C[None] + pred_part.transpose((1, 0, 2))

    def __call__(self, convolved: Sequence[numpy.ndarray], predicates: Sequence[numpy.ndarray]) -> List[numpy.ndarray]:
        outputs: List[numpy.ndarray] = []
        for C, preds in zip(convolved, predicates):
            if len(preds):
                base = self.pred_base(C, preds)
                outputs.extend(max_over_time(base, self.G_word, self.T_word, self.max_distance, self._word_parts))
        return outputs
