"""The parser's inference without spaCy or Thinc (pipeline/parser.py explains the levels): a
level's unit tag scores from its word tag scores, a plain window network's first hidden layer
split into a product per word and one per history tag, and the loop that builds each
sentence's tree level by level. senna_parser (SennaParser.parse, LevelScorer in
layers/levels.py) and the `senna` drop-in's lean path (dropin/lean.py) both run these, so the
two build the same trees. A level runs all its sentences at once: the compiled kernels
(split_window_sums, unit_sums) add in the numpy code's order, so both give the same bits,
and LevelWordScores runs only the words whose window changed since their last level.
"""
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

import numpy

from .constituents import Constituent, level_constituents, next_unit_starts, unit_history
from .inference import CLIP_SETTINGS, clipped_linear, position_weights, split_rows, window_rows
from .kernels import compiled

FIRST, INNER, LAST, SINGLE = range(4)  # a word's place in its unit
Tree = List[Constituent]  # merged constituents (a unary chain is one, labelled S#VP)


@dataclass
class LevelItem:
    doc: int  # index into the batch's docs (sentences)
    history: numpy.ndarray  # per word, its tag id in the tree so far
    unit_starts: numpy.ndarray  # first word of each unit (units tile the doc)


# -- unit scores ------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def word_tag_table(n_tags: int) -> numpy.ndarray:
    """(4, n_tags): the word tag that unit tag t gives a word at each place in the unit
    (first, inner, last, single). Tags: O, then B/I/E/S per label (tags.iobes_tag_names)."""
    table = numpy.zeros((4, n_tags), dtype="int64")
    for label in range((n_tags - 1) // 4):
        b, i, e, s = (1 + 4 * label + k for k in range(4))
        table[:, b] = (b, i, i, b)
        table[:, i] = (i, i, i, i)
        table[:, e] = (i, i, e, e)
        table[:, s] = (b, i, e, s)
    return table


def word_places(unit_starts: numpy.ndarray, n_words: int) -> numpy.ndarray:
    """Each word's place in its unit: FIRST, INNER, LAST or SINGLE."""
    starts = numpy.zeros((n_words,), dtype="bool")
    starts[numpy.asarray(unit_starts, dtype="int64")] = True
    ends = numpy.roll(starts, -1)
    ends[-1] = True
    places = numpy.full((n_words,), INNER, dtype="int64")
    places[starts] = FIRST
    places[ends & ~starts] = LAST
    places[starts & ends] = SINGLE
    return places


def unit_scores(word_scores: numpy.ndarray, unit_starts: numpy.ndarray) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """Unit tag scores (n_units, n_tags) from word tag scores, and the gathered word tag rows."""
    n_words, n_tags = word_scores.shape
    rows = word_tag_table(n_tags)[word_places(unit_starts, n_words)]  # (n_words, n_tags)
    gathered = numpy.take_along_axis(word_scores, rows, axis=1)
    return numpy.add.reduceat(gathered, numpy.asarray(unit_starts, dtype="int64"), axis=0), rows


def level_unit_scores(word_scores: numpy.ndarray, items: Sequence[LevelItem]) -> List[numpy.ndarray]:
    """Each item's unit tag scores (n_units, n_tags) from the word tag scores of the items end
    to end: `unit_scores` of them all at once (the same sums), as views of one array."""
    lengths = [len(item.history) for item in items]
    offsets = numpy.cumsum([0] + lengths[:-1]).tolist()
    starts = [numpy.asarray(item.unit_starts, dtype="int64") + offset for item, offset in zip(items, offsets)]
    all_starts = numpy.concatenate(starts) if starts else numpy.zeros((0,), dtype="int64")
    kernels = compiled()
    if kernels is not None and len(all_starts):  # the same sums in the same order
        n_words, n_tags = word_scores.shape
        scores = numpy.empty((len(all_starts), n_tags), dtype="float32")
        places = word_places(all_starts, n_words).astype("int32")
        word_scores = numpy.ascontiguousarray(word_scores, dtype="float32")
        kernels.unit_sums(word_scores, places, word_tag_table(n_tags).astype("int32"), all_starts.astype("int32"), scores)
    else:
        scores, _ = unit_scores(word_scores, all_starts)
    return split_rows(scores, [len(item_starts) for item_starts in starts])


# -- a plain window network's first layer, split --------------------------------------------
class SplitWindowLayer:
    """The first hidden layer of a plain window network over [word vector; history tag
    embedding], act(W [x(i-2); h(i-2); ...; x(i+2); h(i+2)] + b), with its word part a product
    per doc (for all levels) and its history part a product per history tag (a few hundred
    rows): a level adds them up by gathering. `vectors`: each doc's word vectors; `H`: the
    history tag embeddings; `pad`: the window's padding vector; `activation`: the layer's
    clipped_linear settings (slope, offset, min_val, max_val)."""

    def __init__(
        self,
        vectors: Sequence[numpy.ndarray],
        H: numpy.ndarray,
        pad: numpy.ndarray,
        W: numpy.ndarray,
        b: numpy.ndarray,
        size: int,
        activation: Dict[str, float],
    ) -> None:
        self.size = size
        self.b = numpy.ascontiguousarray(b, dtype="float32")
        self.activation = {key: activation[key] for key in CLIP_SETTINGS}
        n_hidden = W.shape[0]
        n_word = pad.shape[0] - H.shape[1]
        W_word = position_weights(W, size, 0, n_word)
        W_history = position_weights(W, size, n_word)
        # per doc, row 0: the padding vector's part, row r + 1: word r; the docs end to end
        # in word_table, doc d from row doc_bases[d]; history_table row r + 1: history tag r
        # (each doc's product written in place: the table is the layer's largest array)
        self.doc_lengths = numpy.array([len(doc) for doc in vectors], dtype="int64")
        self.doc_bases = numpy.cumsum(self.doc_lengths + 1) - (self.doc_lengths + 1)
        word_table = numpy.empty((int((self.doc_lengths + 1).sum()), size * n_hidden), dtype="float32")
        for doc, base in zip(vectors, self.doc_bases.tolist()):
            numpy.matmul(numpy.vstack([pad[None, :n_word], doc]), W_word, out=word_table[base : base + len(doc) + 1])
        self.word_table = word_table.reshape((-1, size, n_hidden))
        history_table = (numpy.vstack([pad[None, n_word:], H]) @ W_history).reshape((-1, size, n_hidden))
        self.history_table = numpy.ascontiguousarray(history_table, dtype="float32")

    def table_rows(self, items: Sequence[LevelItem]) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """Each word's window rows (the items end to end) in word_table and in history_table:
        two (n_words, size) int32 arrays."""
        lengths = numpy.array([len(item.history) for item in items], dtype="int64")
        rows = window_rows(lengths, self.size).astype("int64")  # 0: padding, j + 1: word j of the level
        item_starts = numpy.repeat(numpy.cumsum(lengths) - lengths, lengths)
        doc_bases = numpy.repeat(self.doc_bases[[item.doc for item in items]], lengths)
        word_rows = numpy.where(rows == 0, 0, rows - item_starts[:, None]) + doc_bases[:, None]
        histories = numpy.concatenate([numpy.zeros((1,), dtype="int64")] + [numpy.asarray(item.history, dtype="int64") + 1 for item in items])
        return word_rows.astype("int32"), histories[rows].astype("int32")

    def __call__(self, items: Sequence[LevelItem], words: Optional[numpy.ndarray] = None) -> numpy.ndarray:
        """The layer's output for every word of the items, the items end to end, or for the
        `words` (indices into them) only: b, then per window position k its word part and
        its history part, added in that order (float32), each word on its own."""
        word_rows, history_rows = self.table_rows(items)
        if words is not None:
            word_rows, history_rows = word_rows[words], history_rows[words]
        pre = numpy.empty((len(word_rows), self.b.shape[0]), dtype="float32")
        kernels = compiled()
        if kernels is not None:  # the same sums in the same order, in one pass
            kernels.split_window_sums(self.word_table, word_rows, self.history_table, history_rows, self.b, pre)
        else:
            pre[...] = self.b
            for position in range(self.size):
                pre += self.word_table[word_rows[:, position], position]
                pre += self.history_table[history_rows[:, position], position]
        return clipped_linear(pre, **self.activation)


class LevelWordScores:
    """A plain window network's word tag scores at each level (the items end to end): its
    split first layer, then `rest`, the layers after it. A word whose window's history tags
    are those of its doc's last level keeps its scores from then; only the others go through
    the network (a level changes the tags of the words in the constituents it finds, at
    least a third of the words at most levels). Every layer computes each word's row on its
    own (the first layer's sums, BLIS's product), so the scores are those of running every
    word through the network, bit for bit."""

    def __init__(self, first_layer: SplitWindowLayer, rest: Callable[[numpy.ndarray], numpy.ndarray]) -> None:
        self.first_layer, self.rest = first_layer, rest
        doc_lengths = first_layer.doc_lengths
        self.doc_starts = numpy.cumsum(doc_lengths) - doc_lengths  # doc d's first word in the caches
        self.history = numpy.full((int(doc_lengths.sum()),), -1, dtype="int64")  # -1: no level yet
        self.scores: Optional[numpy.ndarray] = None  # (n_words, n_tags), as `rest` gives them

    def __call__(self, items: Sequence[LevelItem]) -> numpy.ndarray:
        docs = [item.doc for item in items]
        if not items or len(set(docs)) < len(docs):  # a doc twice: no last level to compare with
            return self.rest(self.first_layer(items))
        lengths = numpy.array([len(item.history) for item in items], dtype="int64")
        level_starts = numpy.repeat(numpy.cumsum(lengths) - lengths, lengths)
        cached = numpy.repeat(self.doc_starts[docs], lengths) + numpy.arange(int(lengths.sum())) - level_starts
        history = numpy.concatenate([numpy.asarray(item.history, dtype="int64") for item in items])
        differs = numpy.concatenate([[False], self.history[cached] != history])  # row 0: the padding
        stale = numpy.flatnonzero(differs[window_rows(lengths, self.first_layer.size)].any(axis=1))
        computed = self.rest(self.first_layer(items, stale))
        if self.scores is None:
            self.scores = numpy.zeros((len(self.history), computed.shape[1]), dtype=computed.dtype)
        self.scores[cached[stale]] = computed
        self.history[cached] = history
        return self.scores[cached]


# -- the level loop -------------------------------------------------------------------------
@dataclass
class Parse:
    """A sentence's tree while it is being built."""

    n_words: int
    unit_starts: Tuple[int, ...]
    found: Tree = field(default_factory=list)
    ranges: Set[Tuple[int, int]] = field(default_factory=set)
    n_levels: int = 0

    def add(self, constituents: Tree) -> None:
        self.found.extend(constituents)
        self.ranges.update((start, end) for start, end, _ in constituents)
        self.unit_starts = next_unit_starts(self.n_words, self.unit_starts, constituents)
        self.n_levels += 1

    def constituent_units(self) -> numpy.ndarray:
        """Which units are constituents already (a word unit is not)."""
        ends = list(self.unit_starts[1:]) + [self.n_words]
        return numpy.array([(s, e) in self.ranges for s, e in zip(self.unit_starts, ends)], dtype="bool")

    def history_ids(self, tag_ids: Dict[str, int]) -> numpy.ndarray:
        """Each word's tag id in the tree so far (the network's history input)."""
        return numpy.array([tag_ids[tag] for tag in unit_history(self.n_words, self.unit_starts, self.found)], dtype="int32")


def level_limit(n_words: int, max_levels: int) -> int:
    """The most levels a sentence of n words gets: 2n, or `max_levels` when that is less (0: no limit but 2n)."""
    limit = 2 * n_words
    return min(limit, max_levels) if max_levels else limit


LevelScores = Callable[[List[LevelItem]], List[numpy.ndarray]]  # items -> (n_units, n_tags) scores each
Decode = Callable[[List[numpy.ndarray]], List[numpy.ndarray]]  # unit scores -> best tag ids each


# The most words whose levels run together: their split first layer holds window x hidden
# floats a word (11 MB for 1,000 words at window 9, 300 hidden). Against 2,000
# (scripts/bench_level_batch.py, a window-13 parser in int8): 20 MB less RSS, about 6% fewer
# parser words/cpu-s (0.85-1.01x in pairs of one run); 500 saves 10 MB more but costs 8-14%.
LEVEL_BATCH_WORDS = 1000


def word_groups(lengths: Sequence[int], max_words: int = LEVEL_BATCH_WORDS) -> List[range]:
    """Consecutive groups of the sentences of these lengths, each of at most `max_words`
    words (a longer sentence is a group alone): the batches that the level loop runs, so
    that its memory is bounded by `max_words`, not by the batch it is given."""
    groups: List[range] = []
    start, words = 0, 0
    for index, length in enumerate(lengths):
        if index > start and words + length > max_words:
            groups.append(range(start, index))
            start, words = index, 0
        words += length
    if start < len(lengths):
        groups.append(range(start, len(lengths)))
    return groups


def parse_in_groups(lengths: Sequence[int], parse_group: Callable[[range], List[Tree]], max_words: int = LEVEL_BATCH_WORDS) -> List[Tree]:
    """The trees of the sentences of these lengths, `parse_group` (the sentences of one group,
    by index, parsed together) run on each of their word_groups in turn."""
    trees: List[Tree] = []
    for group in word_groups(lengths, max_words):
        trees.extend(parse_group(group))
    return trees


def parse_levels(
    lengths: Sequence[int],
    level_scores: LevelScores,
    decode: Decode,
    tag_names: Sequence[str],
    max_levels: int = 0,
    force_progress: bool = False,
) -> List[Tree]:
    """The trees of whole sentences of these lengths, level by level, all sentences together:
    each level scores the units of the sentences still active, decodes them (decode_level),
    and a sentence stops at its root, at a level that finds nothing, or at its `level_limit`.
    With `force_progress`, a level of two units or more that finds nothing is decoded again
    with O's score lowered (forced_levels), so that the sentence goes on towards its root."""
    tag_ids = {tag: i for i, tag in enumerate(tag_names)}
    single = single_tags(tag_names)
    parses = [Parse(n, tuple(range(n))) for n in lengths]
    active = [i for i, n in enumerate(lengths) if n]
    while active:
        scores = level_scores(level_items(parses, active, tag_ids))
        found = decode_level([parses[i] for i in active], scores, decode, tag_names, single)
        if force_progress:
            stuck = [k for k, i in enumerate(active) if not found[k] and len(parses[i].unit_starts) > 1]
            forced = forced_levels([parses[active[k]] for k in stuck], [scores[k] for k in stuck], decode, tag_names)
            for k, constituents in zip(stuck, forced):
                found[k] = constituents
        active = [i for i, constituents in zip(active, found) if add_level(parses[i], constituents, max_levels)]
    return [parse.found for parse in parses]


# What forced_levels subtracts from O's unit scores, in turn, until a level finds a constituent.
PROGRESS_SHIFTS = tuple(2.0**k for k in range(-3, 13))


def forced_levels(parses: Sequence[Parse], scores: List[numpy.ndarray], decode: Decode, tag_names: Sequence[str]) -> List[Tree]:
    """The constituents of each parse's level at the smallest shift in PROGRESS_SHIFTS that
    O's unit scores can be lowered by for the best path to find one; [] where none does.
    The scores are decode_level's, masked already."""
    outside = numpy.array([name == "O" for name in tag_names], dtype="float32")
    found: List[Tree] = [[] for _ in parses]
    waiting = list(range(len(parses)))
    for shift in PROGRESS_SHIFTS:
        if not waiting:
            break
        paths = decode([scores[k] - shift * outside for k in waiting])
        still_waiting = []
        for k, path in zip(waiting, paths):
            found[k] = level_constituents(parses[k].n_words, parses[k].unit_starts, [tag_names[t] for t in path.tolist()])
            if not found[k]:
                still_waiting.append(k)
        waiting = still_waiting
    return found


def level_items(parses: Sequence[Parse], active: Sequence[int], tag_ids: Dict[str, int]) -> List[LevelItem]:
    """The next level of each active parse (indices into `parses`, which are the docs')."""
    return [LevelItem(i, parses[i].history_ids(tag_ids), numpy.array(parses[i].unit_starts)) for i in active]


def single_tags(tag_names: Sequence[str]) -> numpy.ndarray:
    """Which tags are S- tags (a one-unit constituent), as a bool mask over the tags."""
    return numpy.array([name.startswith("S-") for name in tag_names], dtype="bool")


def decode_level(
    parses: Sequence[Parse], scores: List[numpy.ndarray], decode: Decode, tag_names: Sequence[str], single: numpy.ndarray
) -> List[Tree]:
    """The constituents that each parse's level finds from its unit scores (changed in
    place): no one-unit constituent (`single`: single_tags) over a unit that is one already
    (a chain is one merged label), then the best IOBES path."""
    for parse, unit_scores_ in zip(parses, scores):
        unit_scores_[numpy.ix_(parse.constituent_units(), single)] = -numpy.inf
    return [
        level_constituents(parse.n_words, parse.unit_starts, [tag_names[t] for t in path.tolist()])
        for parse, path in zip(parses, decode(scores))
    ]


def add_level(parse: Parse, constituents: Tree, max_levels: int) -> bool:
    """Add a level's constituents to the parse; whether it goes on (it found some, has no
    root yet, and is under its level limit)."""
    if not constituents:
        return False
    parse.add(constituents)
    return len(parse.unit_starts) > 1 and parse.n_levels < level_limit(parse.n_words, max_levels)
