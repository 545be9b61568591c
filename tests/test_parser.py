"""The senna_parser component and its level layer, in the style of spaCy's own tests."""
import pickle

import numpy
import pytest
import spacy
from numpy.testing import assert_allclose
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import Linear, chain, fix_random_seed, with_array

from spacy_senna.constituency import doc_constituents, set_constituents
from spacy_senna.layers.levels import LevelBatch, LevelItem, SennaLevels, unit_scores, unit_scores_backward
from spacy_senna.layers.window import SennaWindow
from spacy_senna.pipeline import SennaParser
from spacy_senna.tags import iobes_tag_names

from .test_components import train

TREES = [
    (["The", "cat", "sat", "on", "the", "mat", "."], ["DT", "NN", "VBD", "IN", "DT", "NN", "."],
     [(0, 7, "S"), (0, 2, "NP"), (2, 6, "VP"), (3, 6, "PP"), (4, 6, "NP")]),
    (["Look", "up", "!"], ["VB", "RP", "."], [(0, 3, "S"), (0, 2, "VP"), (1, 2, "PRT")]),
    (["It", "is", "."], ["PRP", "VBZ", "."], [(0, 3, "S"), (0, 1, "NP"), (1, 2, "VP")]),
    (["Go"], ["VB"], [(0, 1, "S"), (0, 1, "VP")]),  # a unary chain over one word
]
SMALL = {"model": {"hidden_width": 50}}


def make_examples(nlp):
    examples = []
    for words, tags, constituents in TREES:
        reference = Doc(nlp.vocab, words=words, tags=tags)
        set_constituents(reference, constituents)
        examples.append(Example(Doc(nlp.vocab, words=words), reference))
    return examples


@pytest.fixture(scope="module")
def trained():
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_parser", config=SMALL)
    return train(nlp, make_examples(nlp), n_iter=100)


def trees(docs):
    return [doc_constituents(doc) for doc in docs]


def test_overfitting(trained):
    examples = make_examples(trained)
    for example in examples:
        doc = trained(Doc(trained.vocab, words=[t.text for t in example.reference]))
        assert doc_constituents(doc) == doc_constituents(example.reference)
    assert trained.evaluate(examples)["constituents_f"] == 1.0


def test_loss_falls():
    fix_random_seed(0)
    nlp = spacy.blank("en")
    parser = nlp.add_pipe("senna_parser", config=SMALL)
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    first = nlp.update(examples, sgd=optimizer, losses={})["senna_parser"]
    for _ in range(30):
        last = nlp.update(examples, sgd=optimizer, losses={})["senna_parser"]
    assert last < first / 2
    assert parser.labels == ("NP", "PP", "PRT", "S", "S#VP", "VP")  # the chain S -> VP is one label


def test_rare_chains_are_trained_as_their_top_label():
    """min_label_count = 2: the chain S#VP (one tree) is not a label; its tree is trained as S."""
    nlp = spacy.blank("en")
    parser = nlp.add_pipe("senna_parser", config={**SMALL, "min_label_count": 2})
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    assert parser.labels == ("NP", "PP", "PRT", "S", "VP")
    assert [level.tags for level in parser.gold_levels(examples[3])] == [("S-S",)]
    assert numpy.isfinite(nlp.update(examples, sgd=optimizer, losses={})["senna_parser"])
    with pytest.raises(ValueError, match="min_label_count must be 1"):
        spacy.blank("en").add_pipe("senna_parser", config={"min_label_count": 0})


def test_resume_config_trains_a_trained_parser_on(tmp_path):
    """configs/parser_resume.cfg: the tagger and the parser sourced from a trained pipeline,
    the parser trained on (same labels, weights moved), the tagger frozen."""
    from pathlib import Path

    from spacy.cli.train import train as spacy_train
    from spacy.tokens import DocBin

    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_tagger", config={"model": {"hidden_width": 20}})
    nlp.add_pipe("senna_parser", config={"model": {"hidden_width": 20, "tok2vec": {"token_features": ["tag"]}}})
    train(nlp, make_examples(nlp), n_iter=5)
    nlp.to_disk(tmp_path / "trained")
    DocBin(docs=[eg.reference for eg in make_examples(nlp)]).to_disk(tmp_path / "trees.spacy")
    config = Path(__file__).parent.parent / "configs" / "parser_resume.cfg"
    trees = str(tmp_path / "trees.spacy")
    overrides = {"paths.train": trees, "paths.dev": trees, "paths.parser": str(tmp_path / "trained")}
    overrides.update({"training.max_steps": 2, "training.eval_frequency": 1})
    spacy_train(config, tmp_path / "resumed", overrides=overrides)
    resumed = spacy.load(tmp_path / "resumed" / "model-last")
    before, after = nlp.get_pipe("senna_parser"), resumed.get_pipe("senna_parser")
    assert after.labels == before.labels
    hidden = lambda pipe: pipe.model.get_ref("output_layer").get_param("W")
    assert hidden(after).shape == hidden(before).shape and not numpy.allclose(hidden(after), hidden(before))
    # trained on from its weights, not initialised again (Thinc's averages still lag a little)
    assert numpy.linalg.norm(hidden(after) - hidden(before)) < 0.2 * numpy.linalg.norm(hidden(before))
    tagger = lambda pipeline: pipeline.get_pipe("senna_tagger").model.get_ref("output_layer").get_param("W")
    assert numpy.array_equal(tagger(resumed), tagger(nlp))


def test_parse_string_of_a_prediction(trained):
    doc = trained(Doc(trained.vocab, words=["The", "cat", "sat", "on", "the", "mat", "."]))
    assert doc[:]._.parse_string == "(S (NP (XX The) (XX cat)) (VP (XX sat) (PP (XX on) (NP (XX the) (XX mat)))) (XX .))"
    assert doc[:]._.labels == ("S",)


TEXTS = ["The cat sat on the mat.", "Look up!", "xyzzy qwerty ☃ 𝔘nicode !!", "It is."]


def test_serialize_disk_bytes_pickle(trained, tmp_path):
    expected = trees(trained.pipe(TEXTS))
    assert any(expected)
    trained.to_disk(tmp_path / "model")
    assert trees(spacy.load(tmp_path / "model").pipe(TEXTS)) == expected
    fresh = spacy.blank("en")
    fresh.add_pipe("senna_parser", config=SMALL)
    fresh.from_bytes(trained.to_bytes())
    assert trees(fresh.pipe(TEXTS)) == expected
    assert trees(pickle.loads(pickle.dumps(trained)).pipe(TEXTS)) == expected


def test_serialize_component_alone(trained, tmp_path):
    trained.get_pipe("senna_parser").to_disk(tmp_path / "parser")
    nlp = spacy.blank("en")
    loaded = nlp.add_pipe("senna_parser", config=SMALL)
    loaded.from_disk(tmp_path / "parser")
    assert loaded.labels == trained.get_pipe("senna_parser").labels
    assert trees(nlp.pipe(TEXTS)) == trees(trained.pipe(TEXTS))


@pytest.mark.parametrize(
    "words",
    [[], ["Go"], ["\n", "It", " ", "is", "\t"], ["☃", "𝔘", "日本", "x" * 300]],
    ids=["empty", "one-token", "whitespace-tokens", "unknown-characters"],
)
def test_edge_cases(trained, words):
    doc = trained(Doc(trained.vocab, words=words))
    constituents = doc_constituents(doc)
    assert all(0 <= s < e <= len(doc) for s, e, _ in constituents)
    assert all(not doc[s].is_space and not doc[e - 1].is_space for s, e, _ in constituents)
    if words == ["Go"]:
        assert constituents == [(0, 1, "S"), (0, 1, "VP")]


def test_long_doc(trained):
    words = (["The", "cat", "sat", "on", "the", "mat", "."] * 300)[:2000]
    doc = trained(Doc(trained.vocab, words=words))
    constituents = doc_constituents(doc)
    assert len(constituents) > 500
    assert (0, 2, "NP") in constituents


def test_batch_matches_single_docs(trained):
    texts = TEXTS * 3 + ["", "Hello"]
    assert trees(trained.pipe(texts, batch_size=4)) == [doc_constituents(trained(text)) for text in texts]


def test_word_groups_parse_as_one_batch(trained):
    """The level loop runs groups of at most `max_words` words: the same trees as one group."""
    from spacy_senna.level_inference import word_groups

    parser = trained.get_pipe("senna_parser")
    docs = list(trained.pipe([" ".join(words) for words, _, _ in TREES * 3], disable=["senna_parser"]))
    assert [len(group) for group in word_groups([len(doc) for doc in docs], 8)] == [1, 3, 1, 3, 1, 3]
    assert parser.parse(docs, max_words=8) == parser.parse(docs, max_words=10**6) == parser.parse(docs)


def test_level_scorer_is_freed_without_the_garbage_collector(trained):
    """A scorer holds its batch's word table (10.8 kB a word at window 9): no reference cycle
    may keep it alive until the garbage collector runs."""
    import gc
    import weakref

    from spacy_senna.layers.levels import LevelScorer

    parser = trained.get_pipe("senna_parser")
    gc.disable()
    try:
        scorer = LevelScorer(parser.model, [trained.make_doc("The cat sat .")])
        assert scorer.split  # the split first layer, whose word scores hold the layers after it
        freed = weakref.ref(scorer)
        del scorer
        assert freed() is None
    finally:
        gc.enable()


def test_each_sentence_is_parsed_alone(trained):
    words = ["It", "is", ".", "The", "cat", "sat", "on", "the", "mat", "."]
    doc = Doc(trained.vocab, words=words, sent_starts=[True, False, False, True] + [False] * 6)
    constituents = doc_constituents(trained(doc))
    assert constituents[:3] == [(0, 3, "S"), (0, 1, "NP"), (1, 2, "VP")]
    assert [(s - 3, e - 3, label) for s, e, label in constituents[3:]] == TREES[0][2]


def test_examples_without_trees_are_skipped_and_none_is_an_error():
    nlp = spacy.blank("en")
    parser = nlp.add_pipe("senna_parser", config=SMALL)
    no_tree = Example(Doc(nlp.vocab, words=["a"]), Doc(nlp.vocab, words=["a"]))
    with pytest.raises(ValueError, match="no labels found"):
        nlp.initialize(lambda: [no_tree])
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    assert parser.update([no_tree], sgd=optimizer)["senna_parser"] == 0.0


def test_crossing_reference_is_named():
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_parser", config=SMALL)
    reference = Doc(nlp.vocab, words=["a", "b", "c"])
    set_constituents(reference, [(0, 2, "NP"), (1, 3, "VP")])
    with pytest.raises(ValueError, match=r"the reference of 'a b c ?' is not a tree: .*crosses"):
        nlp.initialize(lambda: [Example(Doc(nlp.vocab, words=["a", "b", "c"]), reference)])


def test_max_levels(trained):
    with pytest.raises(ValueError, match="max_levels"):
        nlp = spacy.blank("en")
        nlp.add_pipe("senna_parser", config={"max_levels": -1})
    parser = trained.get_pipe("senna_parser")
    words = ["The", "cat", "sat", "on", "the", "mat", "."]
    full = doc_constituents(trained(Doc(trained.vocab, words=words)))
    parser.cfg["max_levels"] = 1
    try:
        first = doc_constituents(trained(Doc(trained.vocab, words=words)))
    finally:
        parser.cfg["max_levels"] = 0
    # level 1 only: phrases over words, none inside another, all of them in the full tree
    assert first and set(first) <= set(full) and len(first) < len(full)
    assert not any(a != b and b[0] <= a[0] and a[1] <= b[1] for a in first for b in first)


def test_parser_is_a_sequence_pipe():
    nlp = spacy.blank("en")
    assert isinstance(nlp.add_pipe("senna_parser"), SennaParser)


# -- the level layer ---------------------------------------------------------------------------
def brute_unit_scores(word_scores, unit_starts, tag_names):
    """Unit score of tag t: the sum of its words' scores of the word tags t stands for."""
    n_words = len(word_scores)
    ends = list(unit_starts[1:]) + [n_words]
    index = {tag: i for i, tag in enumerate(tag_names)}
    out = numpy.zeros((len(unit_starts), len(tag_names)))
    for u, (start, end) in enumerate(zip(unit_starts, ends)):
        for t, tag in enumerate(tag_names):
            prefix, label = (tag, "") if tag == "O" else tag.split("-", 1)
            for w in range(start, end):
                first, last = w == start, w == end - 1
                if prefix == "O":
                    word_tag = "O"
                elif prefix == "I":
                    word_tag = "I-" + label
                elif prefix == "B":
                    word_tag = ("B-" if first else "I-") + label
                elif prefix == "E":
                    word_tag = ("E-" if last else "I-") + label
                else:  # S: the unit is the whole constituent
                    word_tag = ("S-" if first and last else "B-" if first else "E-" if last else "I-") + label
                out[u, t] += word_scores[w, index[word_tag]]
    return out


@pytest.mark.parametrize("unit_starts", [(0, 1, 2, 3, 4, 5), (0, 2, 3), (0,), (0, 1, 5), (0, 4, 5)])
def test_unit_scores_match_brute_force(unit_starts):
    tag_names = iobes_tag_names(["NP", "VP"])
    word_scores = numpy.random.default_rng(0).normal(size=(6, len(tag_names)))
    scores, rows = unit_scores(word_scores, numpy.array(unit_starts))
    assert_allclose(scores, brute_unit_scores(word_scores, unit_starts, tag_names))
    # backward: the gradient of sum(d * scores) by the word scores, numerically
    d_units = numpy.random.default_rng(1).normal(size=scores.shape)
    d_words = unit_scores_backward(d_units, rows, numpy.array(unit_starts), 6, len(tag_names))
    numeric = numpy.zeros_like(word_scores)
    for w in range(6):
        for t in range(len(tag_names)):
            bumped = word_scores.copy()
            bumped[w, t] += 1.0  # the scores are linear in the word scores
            numeric[w, t] = (d_units * (unit_scores(bumped, numpy.array(unit_starts))[0] - scores)).sum()
    assert_allclose(d_words, numeric, atol=1e-5)


def test_levels_layer_gradient_of_history_table():
    """The history embedding's gradient matches finite differences (tok2vec: fixed vectors)."""
    from thinc.api import Model

    docs = [Doc(spacy.blank("en").vocab, words=["a", "b", "c"])]
    fixed = numpy.random.default_rng(2).normal(size=(3, 4)).astype("float32")
    tok2vec = Model("fixed", lambda model, X, is_train: ([model.ops.asarray2f(fixed) for _ in X], lambda d: X))
    network = chain(SennaWindow(3), with_array(Linear(nO=9)))
    layer = SennaLevels(tok2vec, network, history_width=2, nH=9)
    batch = LevelBatch(docs, [LevelItem(0, numpy.array([0, 1, 3]), numpy.array([0, 1, 2])), LevelItem(0, numpy.array([1, 2, 3]), numpy.array([0, 1]))])
    layer.initialize(X=batch)
    weights = [numpy.random.default_rng(3 + k).normal(size=(len(u.unit_starts), 9)) for k, u in enumerate(batch.items)]

    def objective():
        scores = layer.predict(batch)
        return sum(float((w * s).sum()) for w, s in zip(weights, scores))

    _, backprop = layer.begin_update(batch)
    backprop([layer.ops.asarray2f(w.astype("float32")) for w in weights])
    analytic = layer.get_grad("H").copy()
    H = layer.get_param("H").copy()
    numeric = numpy.zeros_like(H)
    eps = 1e-2
    for i in range(H.shape[0]):
        for j in range(H.shape[1]):
            for sign in (1, -1):
                bumped = H.copy()
                bumped[i, j] += sign * eps
                layer.set_param("H", bumped)
                numeric[i, j] += sign * objective() / (2 * eps)
    layer.set_param("H", H)
    assert_allclose(analytic, numeric, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize(
    "model_config", [{"hidden_width": 30}, {"hidden_width": 30, "window_size": 3, "history_width": 4}, {"hidden_width": 30, "hidden_dropout": True}]
)
def test_split_training_layer_matches_the_whole_network(model_config):
    """Training's split first layer (layers/level_hidden.py) gives the window network's
    scores, and the same gradients for every parameter and the word vectors."""
    from spacy_senna.layers.levels import HIDDEN_REF, WINDOW_REF

    fix_random_seed(0)
    nlp = spacy.blank("en")
    parser = nlp.add_pipe("senna_parser", config={"model": model_config})
    nlp.initialize(lambda: make_examples(nlp))
    levels = parser.model.get_ref("levels")
    assert levels.has_ref(WINDOW_REF) and levels.has_ref(HIDDEN_REF)
    rng = numpy.random.default_rng(1)
    for node in levels.walk():  # parameters that matter: no zero biases or history rows
        for name in node.param_names:
            if node.has_param(name):
                node.set_param(name, rng.normal(scale=0.3, size=node.get_param(name).shape).astype("float32"))
    docs = [Doc(nlp.vocab, words=words) for words, _, _ in TREES] + [Doc(nlp.vocab, words=["x", "y"] * 20)]
    items = []
    for d, doc in enumerate(docs):  # two levels of each doc, in mixed order
        n = len(doc)
        items.append(LevelItem(d, rng.integers(0, len(parser.tag_names), size=n).astype("int32"), numpy.arange(n)))
    for d, doc in reversed(list(enumerate(docs))):
        n = len(doc)
        items.append(LevelItem(d, rng.integers(0, len(parser.tag_names), size=n).astype("int32"), numpy.array([0] + ([n // 2] if n > 1 else []))))
    batch = LevelBatch(docs, items)
    weights = [rng.normal(size=(len(item.unit_starts), len(parser.tag_names))).astype("float32") for item in items]

    def run(split: bool):
        refs = (levels.get_ref(WINDOW_REF), levels.get_ref(HIDDEN_REF))
        if not split:
            levels.set_ref(WINDOW_REF, None)
        try:
            scores, backprop = levels.begin_update(batch)
            backprop([levels.ops.asarray2f(w) for w in weights])
        finally:
            levels.set_ref(WINDOW_REF, refs[0])
        grads = {(node.id, name): node.get_grad(name).copy() for node in levels.walk() for name in node.grad_names}
        for node in levels.walk():
            for name in node.grad_names:
                node.set_grad(name, node.ops.alloc(node.get_grad(name).shape))
        return scores, grads

    split_scores, split_grads = run(True)
    whole_scores, whole_grads = run(False)
    for found, expected in zip(split_scores, whole_scores):
        assert_allclose(found, expected, rtol=1e-4, atol=1e-4)
    assert split_grads.keys() == whole_grads.keys() and len(split_grads) >= 6  # tables, pad, W, b, H, output layer
    for key, expected in whole_grads.items():
        assert numpy.abs(expected).max() > 0, key
        assert_allclose(split_grads[key], expected, rtol=1e-3, atol=1e-3 * numpy.abs(expected).max())


def assert_random_in_training_only(levels, batch) -> None:
    """Two training passes over the batch give different scores, two predictions the same."""
    trained_scores = [levels.begin_update(batch)[0] for _ in range(2)]
    assert any(not numpy.allclose(a, b) for a, b in zip(*trained_scores))
    for a, b in zip(levels.predict(batch), levels.predict(batch)):
        assert_allclose(a, b)


def test_hidden_dropout_drops_in_training_only(tmp_path):
    """hidden_dropout: the split first layer's output goes through the dropout layer in
    training (different scores from the same batch), not at prediction; the parser still
    overfits and round-trips."""
    from thinc.api import set_dropout_rate

    from spacy_senna.layers.levels import WINDOW_REF

    fix_random_seed(0)
    nlp = spacy.blank("en")
    parser = nlp.add_pipe("senna_parser", config={"model": {"hidden_width": 50, "hidden_dropout": True}})
    examples = make_examples(nlp)
    nlp.initialize(lambda: examples)
    levels = parser.model.get_ref("levels")
    assert levels.has_ref(WINDOW_REF)
    docs = [Doc(nlp.vocab, words=words) for words, _, _ in TREES]
    batch = LevelBatch(docs, [LevelItem(d, numpy.zeros(len(doc), dtype="int32"), numpy.arange(len(doc))) for d, doc in enumerate(docs)])
    set_dropout_rate(parser.model, 0.5)
    assert_random_in_training_only(levels, batch)
    optimizer = nlp.create_optimizer()
    for _ in range(150):
        nlp.update(examples, sgd=optimizer, drop=0.1, losses={})
    assert nlp.evaluate(examples)["constituents_f"] == 1.0
    nlp.to_disk(tmp_path / "model")
    assert trees(spacy.load(tmp_path / "model").pipe(TEXTS)) == trees(nlp.pipe(TEXTS))


def test_history_dropout_reads_o_in_training_only():
    """history_dropout: in training a share of the words' history tags read O (id 0); the
    layer's predictions never change; the parser still overfits."""
    from spacy_senna.layers.levels import drop_history

    fix_random_seed(0)
    item = LevelItem(0, numpy.arange(1, 2001, dtype="int32") % 7 + 1, numpy.arange(2000))
    assert drop_history(item, 0.0).history.tolist() == item.history.tolist()
    dropped = drop_history(item, 0.25)
    changed = dropped.history != item.history
    assert 0.2 < changed.mean() < 0.3 and (dropped.history[changed] == 0).all()
    assert iobes_tag_names(["NP"])[0] == "O"  # id 0
    assert dropped.history.dtype == item.history.dtype and dropped.unit_starts is item.unit_starts

    nlp = spacy.blank("en")
    parser = nlp.add_pipe("senna_parser", config={"model": {"hidden_width": 50, "history_dropout": 0.3}})
    examples = make_examples(nlp)
    nlp.initialize(lambda: examples)
    levels = parser.model.get_ref("levels")
    assert levels.attrs["history_dropout"] == 0.3
    docs = [Doc(nlp.vocab, words=words) for words, _, _ in TREES]
    rng = numpy.random.default_rng(0)
    H = levels.get_param("H")
    H[...] = rng.normal(size=H.shape)  # history rows that matter
    history = [rng.integers(1, len(parser.tag_names), size=len(doc)).astype("int32") for doc in docs]
    batch = LevelBatch(docs, [LevelItem(d, h, numpy.arange(len(h))) for d, h in enumerate(history)])
    assert_random_in_training_only(levels, batch)
    train(nlp, examples, n_iter=150)
    assert nlp.evaluate(examples)["constituents_f"] == 1.0


@pytest.mark.parametrize("rate", [-0.1, 1.0])
def test_history_dropout_out_of_range_is_an_error(rate):
    with pytest.raises(ValueError, match="history_dropout must be in"):
        spacy.blank("en").add_pipe("senna_parser", config={"model": {"history_dropout": rate}})


def batch_levels(batch, gold):
    """Per item, doc by doc, level by level: its doc, history, units and gold tag ids."""
    return sorted([(item.doc, item.history.tolist(), list(item.unit_starts), tags.tolist()) for item, tags in zip(batch.items, gold)], key=lambda level: level[0])


def test_own_levels_at_rate_0_are_the_teacher_batch(trained):
    parser = trained.get_pipe("senna_parser")
    examples = make_examples(trained)
    assert batch_levels(*parser.sampled_batch(examples)) == batch_levels(*parser.teacher_batch(examples))


def test_own_levels_at_rate_1_follow_the_models_parse():
    """own_level_rate 1: every level is built from the model's prediction (an untrained
    model's, not the gold tree), level for level as `parse` builds it; the gold of each is
    the oracle's over the units it has."""
    from spacy_senna.constituents import merge_chains, oracle_tags, unit_ends
    from spacy_senna.layers.crf import viterbi_decode
    from spacy_senna.layers.levels import LevelScorer
    from spacy_senna.level_inference import parse_levels

    fix_random_seed(0)
    nlp = spacy.blank("en")
    parser = nlp.add_pipe("senna_parser", config={**SMALL, "own_level_rate": 1.0})
    examples = make_examples(nlp)
    nlp.initialize(lambda: examples)
    batch, gold = parser.sampled_batch(examples)
    docs = [eg.predicted for eg in examples]
    scorer, parsed = LevelScorer(parser.model, docs), []
    level_scores = lambda items: parsed.extend(items) or [parser.model.ops.to_numpy(s) for s in scorer(items)]
    decode = lambda scores: viterbi_decode(parser.model.get_ref("sll"), scores)
    trees = parse_levels([len(doc) for doc in docs], level_scores, decode, parser.tag_names)
    assert trees != [merge_chains(doc_constituents(eg.reference)) for eg in examples]
    assert [(i.doc, i.history.tolist(), i.unit_starts.tolist()) for i in batch.items] == [
        (i.doc, i.history.tolist(), i.unit_starts.tolist()) for i in parsed
    ]
    for item, tags in zip(batch.items, gold):
        n_words, starts = len(docs[item.doc]), item.unit_starts.tolist()
        built = {(s, e) for s, e in zip(starts, unit_ends(starts, n_words)) if item.history[s] != 0}  # not O
        reference = merge_chains(doc_constituents(examples[item.doc].reference))
        assert [parser.tag_names[t] for t in tags] == oracle_tags(n_words, starts, built, reference)


def test_own_levels_overfit_and_out_of_range_is_an_error():
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_parser", config={**SMALL, "own_level_rate": 0.5})
    examples = make_examples(nlp)
    train(nlp, examples, n_iter=100)
    assert nlp.evaluate(examples)["constituents_f"] == 1.0
    for rate in (-0.1, 1.5):
        with pytest.raises(ValueError, match="own_level_rate must be in"):
            spacy.blank("en").add_pipe("senna_parser", config={"own_level_rate": rate})


def test_sentence_network_overfits_and_round_trips(tmp_path):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_parser", config={"model": {"network": "sentence", "conv_width": 40, "hidden_width": 40}})
    examples = make_examples(nlp)
    train(nlp, examples, n_iter=100)
    assert nlp.evaluate(examples)["constituents_f"] == 1.0
    nlp.to_disk(tmp_path / "model")
    assert trees(spacy.load(tmp_path / "model").pipe(TEXTS)) == trees(nlp.pipe(TEXTS))


def test_unknown_network_is_an_error():
    with pytest.raises(ValueError, match="network must be 'window' or 'sentence'"):
        spacy.blank("en").add_pipe("senna_parser", config={"model": {"network": "lstm"}})


@pytest.mark.parametrize(
    "config", [SMALL, {"model": {"hidden_width": 50, "hidden_dropout": True}}, {"model": {"network": "sentence", "conv_width": 20, "hidden_width": 20}}]
)
def test_level_scorer_matches_the_layer(config):
    """Inference's LevelScorer (word vectors and, for a window network, the first layer's word
    and history products done once for all levels) gives the senna_levels layer's scores."""
    from spacy_senna.layers.levels import HIDDEN_REF, WINDOW_REF, LevelScorer

    fix_random_seed(0)
    nlp = spacy.blank("en")
    parser = nlp.add_pipe("senna_parser", config=config)
    nlp.initialize(lambda: make_examples(nlp))
    assert parser.model.has_ref(WINDOW_REF) == parser.model.has_ref(HIDDEN_REF) == ("network" not in config["model"])
    rng = numpy.random.default_rng(0)
    H = parser.model.get_ref("levels").get_param("H")
    H[...] = rng.normal(size=H.shape)  # history rows that matter
    docs = [Doc(nlp.vocab, words=words) for words, _, _ in TREES] + [Doc(nlp.vocab, words=["x"] * 40)]
    items = []
    for d, doc in enumerate(docs):
        n = len(doc)
        for starts in ([*range(n)], [0] + ([n // 2] if n > 1 else [])):
            items.append(LevelItem(d, rng.integers(0, len(parser.tag_names), size=n).astype("int32"), numpy.array(starts)))
    expected = parser.model.predict(LevelBatch(docs, items))
    found = LevelScorer(parser.model, docs)(items)
    assert len(found) == len(expected)
    for f, e in zip(found, expected):
        assert_allclose(f, e, rtol=1e-5, atol=1e-5)


def test_parser_settings_callback(tmp_path):
    """spacy_senna.parser_settings.v1 sets a parser's own_level_rate and force_progress, a
    sourced one's too (its settings otherwise come from its source), and leaves what is None."""
    from spacy_senna.callbacks import create_parser_settings

    nlp = spacy.blank("en")
    parser = nlp.add_pipe("senna_parser", config={"own_level_rate": 0.3})
    assert create_parser_settings(force_progress=True)(nlp) is nlp
    assert (parser.cfg["own_level_rate"], parser.cfg["force_progress"]) == (0.3, True)
    create_parser_settings(own_level_rate=0.1)(nlp)
    assert (parser.cfg["own_level_rate"], parser.cfg["force_progress"]) == (0.1, True)
    with pytest.raises(ValueError, match="the pipeline has no 'parser'"):
        create_parser_settings(component="parser")(nlp)
    with pytest.raises(ValueError, match=r"\[senna_parser\] own_level_rate must be in \[0, 1\], got 1.5"):
        create_parser_settings(own_level_rate=1.5)(nlp)
    nlp.initialize(lambda: make_examples(nlp))
    nlp.to_disk(tmp_path / "source")
    config = spacy.util.load_config_from_str(
        f"""
[nlp]
lang = "en"
pipeline = ["senna_parser"]
after_pipeline_creation = {{"@callbacks": "spacy_senna.parser_settings.v1", "own_level_rate": 0.25, "force_progress": false}}

[components]

[components.senna_parser]
source = "{tmp_path / 'source'}"
"""
    )
    sourced = spacy.util.load_model_from_config(config, auto_fill=True).get_pipe("senna_parser")
    assert (sourced.cfg["own_level_rate"], sourced.cfg["force_progress"]) == (0.25, False)
