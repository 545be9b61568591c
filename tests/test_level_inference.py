"""The parser's inference arithmetic (level_inference.py): the split first layer and the unit
scores of a whole level at once give, bit for bit, what each item's own sums give, with the
compiled kernel and with the numpy code."""
import numpy
import pytest

from spacy_senna import kernels
from spacy_senna.inference import blis_dot_transposed
from spacy_senna.constituents import levels_to_constituents, tree_levels
from spacy_senna.decoding import best_paths
from spacy_senna.level_inference import (
    LevelItem,
    LevelWordScores,
    Parse,
    SplitWindowLayer,
    forced_levels,
    level_unit_scores,
    parse_levels,
    unit_scores,
    word_groups,
)
from spacy_senna.tags import iobes_tag_names

from .test_layers import decoder  # noqa: F401 (a fixture: the compiled kernels, then the numpy code)

ACTIVATION = {"slope": 1.0, "offset": 0.0, "min_val": -1.0, "max_val": 1.0}


def make_layer(rng, doc_lengths, size, history_width, n_tags=21, n_word=12, n_hidden=17):
    vectors = [rng.normal(size=(n, n_word)).astype("float32") for n in doc_lengths]
    H = rng.normal(size=(n_tags, history_width)).astype("float32")
    pad = rng.normal(size=(n_word + history_width,)).astype("float32")
    W = rng.normal(size=(n_hidden, size * (n_word + history_width))).astype("float32")
    b = rng.normal(size=(n_hidden,)).astype("float32")
    return SplitWindowLayer(vectors, H, pad, W, b, size, ACTIVATION)


def per_word_sums(layer, items):
    """Each word's sum on its own, in the documented order: b, then per window position its
    word part and its history part (padding outside the doc)."""
    rows = []
    for item in items:
        n = len(item.history)
        base = layer.doc_bases[item.doc]
        for i in range(n):
            total = layer.b.copy()
            for k in range(layer.size):
                j = i + k - layer.size // 2
                inside = 0 <= j < n
                total = total + layer.word_table[base + (j + 1 if inside else 0), k]
                total = total + layer.history_table[item.history[j] + 1 if inside else 0, k]
            rows.append(total)
    pre = numpy.array(rows, dtype="float32").reshape((-1, layer.b.shape[0]))
    return numpy.clip(pre, -1.0, 1.0)


def random_items(rng, doc_lengths, doc_order, n_tags=21):
    items = []
    for doc in doc_order:
        n = doc_lengths[doc]
        starts = numpy.flatnonzero(numpy.concatenate([[True], rng.random(n - 1) < 0.5]))
        items.append(LevelItem(doc, rng.integers(0, n_tags, size=n).astype("int32"), starts))
    return items


@pytest.mark.parametrize("size,history_width", [(3, 10), (5, 10), (9, 30), (11, 5)])
@pytest.mark.parametrize(
    "doc_lengths,doc_order",
    [
        ([1], [0]),  # a one-word doc
        ([1, 1, 1], [2, 0, 1]),
        ([40, 3, 1, 17, 2], [0, 1, 2, 3, 4]),
        ([40, 3, 1, 17, 2], [3, 0, 4]),  # some docs done, out of order
        ([5, 8], [1, 1, 0]),  # one doc twice in a batch
        ([300, 4], [0, 1]),  # a long doc
    ],
)
def test_split_layer_sums_each_word_in_order(size, history_width, doc_lengths, doc_order, decoder):
    rng = numpy.random.default_rng(size * 100 + len(doc_order))
    layer = make_layer(rng, doc_lengths, size, history_width)
    items = random_items(rng, doc_lengths, doc_order)
    found = layer(items)
    assert found.dtype == numpy.float32
    assert found.tobytes() == per_word_sums(layer, items).tobytes()


def test_split_layer_kernel_and_numpy_agree_on_a_real_size(monkeypatch):
    """300 hidden units (the parser's), window 9: the compiled sums are the numpy ones."""
    if kernels.compiled() is None:
        pytest.skip("spacy_senna._kernels is not built (pip install -e . builds it)")
    rng = numpy.random.default_rng(0)
    doc_lengths = [int(n) for n in rng.integers(1, 60, size=30)]
    layer = make_layer(rng, doc_lengths, 9, 30, n_tags=141, n_word=70, n_hidden=300)
    items = random_items(rng, doc_lengths, range(30), n_tags=141)
    compiled = layer(items)
    monkeypatch.setenv(kernels.ENV_VAR, "0")
    assert compiled.tobytes() == layer(items).tobytes()


def test_split_window_sums_refuses_rows_outside_its_tables():
    if kernels.compiled() is None:
        pytest.skip("spacy_senna._kernels is not built (pip install -e . builds it)")
    table = numpy.zeros((3, 2, 4), dtype="float32")
    rows = numpy.zeros((2, 2), dtype="int32")
    bad = rows.copy()
    bad[1, 1] = 3
    out = numpy.empty((2, 4), dtype="float32")
    bias = numpy.zeros((4,), dtype="float32")
    with pytest.raises(ValueError, match="row 1 position 1 points outside"):
        kernels.compiled().split_window_sums(table, bad, table, rows, bias, out)
    with pytest.raises(ValueError, match="shapes disagree"):
        kernels.compiled().split_window_sums(table, rows, table, rows, bias, out[:1])


def test_unit_sums_refuses_units_that_do_not_tile_the_words():
    if kernels.compiled() is None:
        pytest.skip("spacy_senna._kernels is not built (pip install -e . builds it)")
    scores = numpy.zeros((4, 5), dtype="float32")
    places = numpy.zeros((4,), dtype="int32")
    tags = numpy.zeros((4, 5), dtype="int32")
    out = numpy.empty((2, 5), dtype="float32")
    with pytest.raises(ValueError, match="unit 0 starts at 2, not before the next unit"):
        kernels.compiled().unit_sums(scores, places, tags, numpy.array([2, 2], dtype="int32"), out)
    with pytest.raises(ValueError, match="word 3 has no place 4"):
        kernels.compiled().unit_sums(scores, numpy.array([0, 1, 2, 4], dtype="int32"), tags, numpy.array([0, 2], dtype="int32"), out)


@pytest.mark.parametrize("doc_lengths,doc_order", [([1], [0]), ([40, 3, 1, 17, 2], [3, 0, 4, 1]), ([5, 8], [1, 1, 0])])
def test_level_unit_scores_are_each_items_unit_scores(doc_lengths, doc_order, decoder):
    rng = numpy.random.default_rng(len(doc_order))
    items = random_items(rng, doc_lengths, doc_order, n_tags=141)
    assert_each_items_unit_scores(rng, items, 141)


@pytest.mark.parametrize("n_tags", [1, 5, 141])
def test_level_unit_scores_of_long_units(n_tags, decoder):
    """Units of every length from 1 to 300 words (numpy sums more than 8 rows pairwise)."""
    rng = numpy.random.default_rng(n_tags)
    items = [
        LevelItem(0, numpy.zeros((300,), dtype="int32"), numpy.array([0, 150, 299])),
        LevelItem(1, numpy.zeros((40,), dtype="int32"), numpy.array([0])),
        LevelItem(2, numpy.zeros((600,), dtype="int32"), numpy.cumsum([0] + list(range(1, 34)))),
        LevelItem(3, numpy.zeros((300,), dtype="int32"), numpy.array([0, 129, 258])),
    ]
    assert_each_items_unit_scores(rng, items, n_tags)
    negative_zeros = [LevelItem(0, numpy.zeros((12,), dtype="int32"), numpy.array([0, 3]))]
    assert_each_items_unit_scores(rng, negative_zeros, n_tags, numpy.full((12, n_tags), -0.0, dtype="float32"))


def assert_each_items_unit_scores(rng, items, n_tags, word_scores=None):
    if word_scores is None:
        n_words = sum(len(item.history) for item in items)
        word_scores = rng.normal(size=(n_words, n_tags)).astype("float32")
    found = level_unit_scores(word_scores, items)
    offset = 0
    assert len(found) == len(items)
    for scores, item in zip(found, items):
        n = len(item.history)
        expected, _ = unit_scores(word_scores[offset:offset + n], item.unit_starts)
        assert scores.dtype == expected.dtype and scores.tobytes() == expected.tobytes()
        offset += n


def blis_output_layer(rng, n_hidden=17, n_tags=21):
    """An output layer as the parser's: x @ W.T by BLIS, plus b."""
    W = rng.normal(size=(n_tags, n_hidden)).astype("float32")
    b = rng.normal(size=(n_tags,)).astype("float32")

    def forward(X):
        Y = blis_dot_transposed(X, W)
        Y += b
        return Y

    return forward


def test_blis_rows_do_not_depend_on_the_other_rows():
    """What LevelWordScores relies on: BLIS computes each row of x @ W.T on its own, so a
    word's scores are the same bits whichever other words share its product."""
    rng = numpy.random.default_rng(0)
    W = rng.normal(size=(141, 300)).astype("float32")
    X = rng.uniform(-1, 1, size=(2000, 300)).astype("float32")
    full = blis_dot_transposed(X, W)
    for m in (1, 2, 3, 7, 16, 33, 250, 1999):
        rows = numpy.sort(rng.choice(len(X), size=m, replace=False))
        assert blis_dot_transposed(X[rows], W).tobytes() == full[rows].tobytes()


@pytest.mark.parametrize("size", [5, 9])
def test_level_word_scores_recompute_only_what_changed(size, decoder):
    """Level after level (the docs' history tags changing in places, some docs done), the
    scores with the words whose windows did not change kept are those of running every word
    through the network; and only the words within size // 2 of a changed tag go through it."""
    rng = numpy.random.default_rng(size)
    doc_lengths = [1, 2, 40, 7, 120, 3]
    layer = make_layer(rng, doc_lengths, size, 10)
    rest = blis_output_layer(rng)
    computed_rows = []

    def counted(X):
        computed_rows.append(len(X))
        return rest(X)

    word_scores = LevelWordScores(layer, counted)
    histories = {doc: numpy.zeros((n,), dtype="int32") for doc, n in enumerate(doc_lengths)}
    active = list(range(len(doc_lengths)))
    expected_rows = sum(doc_lengths)  # the first level: every word
    for level in range(6):
        items = [LevelItem(doc, histories[doc].copy(), numpy.arange(doc_lengths[doc])) for doc in active]
        found = word_scores(items)
        assert computed_rows[-1] == expected_rows
        assert found.tobytes() == rest(layer(items)).tobytes()
        if level > 0:
            active = active[1:] if level % 2 else active[::-1]
        expected_rows = 0
        for doc in active:  # a new constituent here and there (none at level 1)
            n = doc_lengths[doc]
            if level > 0:
                start = int(rng.integers(0, n))
                histories[doc][start:start + int(rng.integers(1, 4))] = rng.integers(1, 21)
            changed = numpy.flatnonzero(histories[doc] != items[[item.doc for item in items].index(doc)].history)
            expected_rows += sum(any(abs(i - c) <= size // 2 for c in changed) for i in range(n))
    assert computed_rows[1] == 0


def test_level_word_scores_with_a_doc_twice_run_every_word(decoder):
    rng = numpy.random.default_rng(1)
    layer = make_layer(rng, [5, 8], 5, 10)
    rest = blis_output_layer(rng)
    items = random_items(rng, [5, 8], [1, 1, 0])
    assert LevelWordScores(layer, rest)(items).tobytes() == rest(layer(items)).tobytes()


@pytest.mark.parametrize(
    "lengths,max_words,groups",
    [
        ([], 10, []),
        ([3, 3, 3], 6, [[0, 1], [2]]),
        ([3, 3, 3], 5, [[0], [1], [2]]),
        ([12, 1, 2], 10, [[0], [1, 2]]),  # a longer sentence is a group alone
        ([1, 12, 1], 10, [[0], [1], [2]]),
        ([0, 2, 0, 8], 10, [[0, 1, 2, 3]]),
    ],
)
def test_word_groups(lengths, max_words, groups):
    assert [list(group) for group in word_groups(lengths, max_words)] == groups


# -- force_progress: a level that finds nothing is decoded again with O lowered ------------------
TAG_NAMES = iobes_tag_names(["NP", "VP"])  # O, B/I/E/S-NP, B/I/E/S-VP


def iobes_decode(scores):
    """Viterbi over valid IOBES paths, no transition scores."""
    n_tags = len(TAG_NAMES)
    return best_paths(scores, numpy.zeros((n_tags, n_tags), dtype="float32"), numpy.zeros((n_tags,), dtype="float32"), 2)


def o_first_scores(n_units, bonus):
    """O scores 1 on every unit, each other tag -1 but those in `bonus` ({(unit, tag): score})."""
    scores = numpy.full((n_units, len(TAG_NAMES)), -1.0, dtype="float32")
    scores[:, 0] = 1.0
    for (unit, tag), score in bonus.items():
        scores[unit, TAG_NAMES.index(tag)] = score
    return scores


def test_forced_level_is_the_best_path_once_o_is_lowered_enough():
    scores = o_first_scores(3, {(0, "B-NP"): 0.6, (1, "E-NP"): 0.5, (2, "S-VP"): 0.2})
    assert iobes_decode([scores])[0].tolist() == [0, 0, 0]  # nothing found
    # O lowered by 0.5 (the first shift that finds one): B-NP E-NP (1.1) beats O O (1.0), and
    # O (0.5) still beats S-VP on the last unit
    assert forced_levels([Parse(3, (0, 1, 2))], [scores], iobes_decode, TAG_NAMES) == [[(0, 2, "NP")]]
    # over units of several words, the constituent's word range
    assert forced_levels([Parse(5, (0, 2, 4))], [scores], iobes_decode, TAG_NAMES) == [[(0, 4, "NP")]]


def test_forced_levels_of_several_parses_at_once():
    parses = [Parse(3, (0, 1, 2)), Parse(2, (0, 1))]
    scores = [o_first_scores(3, {(1, "S-VP"): 0.9}), o_first_scores(2, {(0, "B-VP"): -0.9, (1, "E-VP"): -0.9})]
    assert forced_levels(parses, scores, iobes_decode, TAG_NAMES) == [[(1, 2, "VP")], [(0, 2, "VP")]]
    assert forced_levels([], [], iobes_decode, TAG_NAMES) == []


def test_forced_level_keeps_the_masked_tags():
    """The S- tags masked (-inf) over a unit that is a constituent already stay out."""
    scores = o_first_scores(2, {(0, "S-NP"): 0.9, (0, "B-VP"): -0.5, (1, "E-VP"): -0.5})
    scores[0, TAG_NAMES.index("S-NP")] = -numpy.inf
    assert forced_levels([Parse(2, (0, 1))], [scores], iobes_decode, TAG_NAMES) == [[(0, 2, "VP")]]


@pytest.mark.parametrize("lengths", [[4], [1, 6, 2, 9]])
def test_force_progress_builds_a_root_where_levels_find_nothing(lengths):
    """A network that always prefers O: without force_progress no level finds anything; with
    it, each sentence of two words or more gets a whole tree, up to its root, that the level
    decomposition represents."""
    def level_scores(items):
        return [o_first_scores(len(item.unit_starts), {}) for item in items]

    assert parse_levels(lengths, level_scores, iobes_decode, TAG_NAMES) == [[] for _ in lengths]
    trees = parse_levels(lengths, level_scores, iobes_decode, TAG_NAMES, force_progress=True)
    for n_words, tree in zip(lengths, trees):
        if n_words == 1:
            assert tree == []  # one unit: nothing to force
            continue
        assert (0, n_words, tree[-1][2]) in tree
        assert sorted(levels_to_constituents(n_words, tree_levels(n_words, tree))) == sorted(tree)
