"""Checks of the layers against brute force and finite differences."""
import itertools
import sys

import numpy
import pytest
import spacy
from spacy.tokens import Doc
from thinc.api import NumpyOps, fix_random_seed

from spacy_senna import kernels
from spacy_senna.features import FeatureTables
from spacy_senna.lexicon import caps_class, normalize_word, word_suffix
from spacy_senna.layers import SennaCharEmbed, SennaFeatureEmbed, SennaWindow, SentenceLogLikelihood, sll_loss, viterbi_decode
from spacy_senna.lexicon import char_matrix, word_char_rows
from spacy_senna.layers.window import window_rows


def test_features():
    assert normalize_word("Year-1984") == "year-0000"
    assert [caps_class(w) for w in ["word", "NASA", "Paris", "iPhone", "42"]] == [1, 2, 3, 4, 1]
    assert word_suffix("Running") == "ng"
    tables = FeatureTables.from_texts(["the", "The", "cat", "dog", "the"], min_freq=1)
    assert tables.words[:3] == ["PADDING", "UNKNOWN", "the"]
    assert tables.token_features("THE") == (2, 2, tables.suffix_ids["he"])
    assert tables.token_features("zebra")[0] == 1
    again = FeatureTables.from_bytes(tables.to_bytes())
    assert again.words == tables.words and again.suffixes == tables.suffixes


def test_docs_features_are_each_tokens_features():
    tables = FeatureTables.from_texts(["the", "The", "cat", "dog", "1984", "cats"], min_freq=1)
    vocab = spacy.blank("en").vocab
    docs = [Doc(vocab, words=w) for w in (["The", "cat", "the"], [], ["Dogs", "1999", "cat", "THE"])]
    expected = [tables.token_features(token.text) for doc in docs for token in doc]
    assert tables.docs_features(docs).tolist() == [list(row) for row in expected]
    assert tables.docs_features(docs).dtype == "int32"
    assert tables.doc_features(docs[1]).shape == (0, 3)
    assert tables.docs_features([]).shape == (0, 3)


def test_tables_find_words_by_hash_before_and_after_bytes():
    tables = FeatureTables(["the", "cat", "the", "0000"])
    again = FeatureTables.from_bytes(tables.to_bytes())
    for found in (tables, again):
        # a repeated word has its last row, as a dict from the word list would give
        assert [found.token_features(w)[0] for w in ("The", "cat", "1984", "dog")] == [4, 3, 5, 1]
        assert found.n_words == 6 and not found.is_empty
    assert again.words == tables.words == ["PADDING", "UNKNOWN", "the", "cat", "the", "0000"]
    assert FeatureTables().is_empty and FeatureTables().token_features("x")[0] == 1


def test_features_word_list(tmp_path):
    path = tmp_path / "words.lst"
    path.write_text("the\nPADDING\nUNKNOWN\n00\nparis\n", encoding="utf8")
    tables = FeatureTables.from_word_list(path)
    assert tables.words == ["PADDING", "UNKNOWN", "the", "00", "paris"]
    assert tables.token_features("19")[0] == 3
    with pytest.raises(FileNotFoundError, match="word list not found"):
        FeatureTables.from_word_list(tmp_path / "missing.lst")


@pytest.fixture(params=["compiled", "numpy"])
def decoder(request, monkeypatch):
    """Run a test with the compiled Viterbi kernel and again with the numpy code."""
    if request.param == "numpy":
        monkeypatch.setenv(kernels.ENV_VAR, "0")
        assert kernels.compiled() is None
    elif kernels.compiled() is None:
        pytest.skip("spacy_senna._kernels is not built (pip install -e . builds it)")
    return request.param


def test_a_stale_kernels_build_falls_back_to_numpy(monkeypatch):
    """A _kernels module built from an older _kernels.pyx (no SLL kernel) is not used: the
    numpy code runs, and a warning says to rebuild."""
    import sys
    from types import ModuleType

    stale = ModuleType("spacy_senna._kernels")
    stale.viterbi_flat = lambda *args: None
    stale.__file__ = "_kernels.so"
    monkeypatch.setitem(sys.modules, "spacy_senna._kernels", stale)
    import spacy_senna

    monkeypatch.setattr(spacy_senna, "_kernels", stale, raising=False)
    with pytest.warns(UserWarning, match="older _kernels.pyx .no sll_forward_backward.*rebuild"):
        assert kernels.compiled() is None
        loss, _ = sll_loss(_crf(3), [numpy.zeros((2, 3), dtype="float32")], [numpy.eye(3, dtype=bool)[[0, 1]]])
    assert numpy.isfinite(loss) and loss > 0


def _crf(n_tags, seed=0):
    rng = numpy.random.default_rng(seed)
    model = SentenceLogLikelihood(n_tags)
    model.initialize()
    model.set_param("transitions", rng.normal(size=(n_tags, n_tags)).astype("float32"))
    model.set_param("start", rng.normal(size=(n_tags,)).astype("float32"))
    return model


def _path_score(model, emissions, path):
    A = model.get_param("transitions").astype(float)
    s = model.get_param("start").astype(float)
    return s[path[0]] + sum(emissions[i, t] for i, t in enumerate(path)) + sum(
        A[a, b] for a, b in zip(path, path[1:])
    )


def _brute_force(model, emissions, allowed):
    n_tags = emissions.shape[1]
    paths = list(itertools.product(range(n_tags), repeat=len(emissions)))
    scores = numpy.array([_path_score(model, emissions, p) for p in paths])
    ok = numpy.array([all(allowed[i, t] for i, t in enumerate(p)) for p in paths])
    logsumexp = lambda x: numpy.log(numpy.exp(x - x.max()).sum()) + x.max()
    return logsumexp(scores) - logsumexp(scores[ok]), paths[int(scores.argmax())]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("with_missing_gold", [True, False])
def test_sll_loss_and_viterbi_match_brute_force(seed, with_missing_gold, decoder):
    rng = numpy.random.default_rng(seed)
    n_tags = 3
    model = _crf(n_tags, seed)
    lengths = [4, 1, 3, 0, 5]
    scores = [rng.normal(size=(n, n_tags)).astype("float32") for n in lengths]
    allowed = [numpy.eye(n_tags, dtype=bool)[rng.integers(0, n_tags, size=n)] for n in lengths]
    if with_missing_gold:
        allowed[0][1] = True  # a token without gold
    loss, _ = sll_loss(model, scores, allowed)
    expected = sum(_brute_force(model, s.astype(float), a)[0] for s, a in zip(scores, allowed) if len(s))
    assert loss == pytest.approx(expected, rel=1e-5)
    paths = viterbi_decode(model, scores)
    for s, path in zip(scores, paths):
        if len(s):
            assert tuple(path.tolist()) == _brute_force(model, s.astype(float), numpy.ones_like(s, bool))[1]
        else:
            assert len(path) == 0


def test_sll_gradients_match_finite_differences(decoder):
    rng = numpy.random.default_rng(3)
    n_tags = 4
    scores = [rng.normal(size=(n, n_tags)).astype("float32") for n in (6, 3)]
    allowed = [numpy.eye(n_tags, dtype=bool)[rng.integers(0, n_tags, size=len(s))] for s in scores]
    allowed[1][2] = True
    model = _crf(n_tags)
    loss, d_scores = sll_loss(model, scores, allowed)
    d_trans, d_start = model.get_grad("transitions").copy(), model.get_grad("start").copy()
    eps = 1e-3

    def loss_with(trans=None, start=None, emissions=None):
        other = _crf(n_tags)
        other.set_param("transitions", trans if trans is not None else model.get_param("transitions"))
        other.set_param("start", start if start is not None else model.get_param("start"))
        return sll_loss(other, emissions or scores, allowed)[0]

    for (i, j) in [(0, 0), (1, 2), (3, 1)]:
        trans = model.get_param("transitions").copy()
        trans[i, j] += eps
        assert (loss_with(trans=trans) - loss) / eps == pytest.approx(d_trans[i, j], abs=2e-3)
    for j in range(n_tags):
        start = model.get_param("start").copy()
        start[j] += eps
        assert (loss_with(start=start) - loss) / eps == pytest.approx(d_start[j], abs=2e-3)
    for k, i, j in [(0, 0, 1), (0, 5, 3), (1, 2, 0)]:
        emissions = [s.copy() for s in scores]
        emissions[k][i, j] += eps
        assert (loss_with(emissions=emissions) - loss) / eps == pytest.approx(d_scores[k][i, j], abs=2e-3)


def test_sll_long_sequence_is_finite(decoder):
    model = _crf(5)
    scores = [numpy.random.default_rng(0).normal(scale=20, size=(3000, 5)).astype("float32")]
    allowed = [numpy.eye(5, dtype=bool)[numpy.zeros(3000, dtype=int)]]
    loss, d_scores = sll_loss(model, scores, allowed)
    assert numpy.isfinite(loss) and numpy.isfinite(d_scores[0]).all()


def _brute_force_gradients(model, emissions, allowed, valid):
    """d loss / d (emissions, transitions, start) by enumerating the paths: marginals of all
    `valid` paths less those of the paths through `allowed` tags."""
    n, n_tags = emissions.shape
    paths = [p for p in itertools.product(range(n_tags), repeat=n) if valid(p)]
    scores = numpy.array([_path_score(model, emissions, p) for p in paths])
    ok = numpy.array([all(allowed[i, t] for i, t in enumerate(p)) for p in paths])
    d_emissions, d_trans, d_start = numpy.zeros((n, n_tags)), numpy.zeros((n_tags, n_tags)), numpy.zeros(n_tags)
    for sign, subset in ((1.0, numpy.ones_like(ok)), (-1.0, ok)):
        probs = numpy.exp(scores[subset] - scores[subset].max())
        probs /= probs.sum()
        for prob, path in zip(probs, [p for p, keep in zip(paths, subset) if keep]):
            d_emissions[numpy.arange(n), path] += sign * prob
            d_start[path[0]] += sign * prob
            for a, b in zip(path, path[1:]):
                d_trans[a, b] += sign * prob
    return d_emissions, d_trans, d_start


@pytest.mark.parametrize("n_labels", [0, 2])
@pytest.mark.parametrize("with_missing_gold", [True, False])
def test_sll_gradients_match_brute_force(n_labels, with_missing_gold, decoder):
    """The gradients of the emissions, transitions and start scores are the marginals of all
    (valid IOBES) paths less those of the gold paths, plain and IOBES-constrained."""
    rng = numpy.random.default_rng(n_labels + 10 * with_missing_gold)
    n_tags = 1 + 4 * n_labels if n_labels else 3
    model = SentenceLogLikelihood(n_tags, iobes_labels=n_labels)
    model.initialize()
    model.set_param("transitions", rng.normal(size=(n_tags, n_tags)).astype("float32"))
    model.set_param("start", rng.normal(size=(n_tags,)).astype("float32"))
    valid = (lambda p: _valid_iobes(p, n_labels)) if n_labels else (lambda p: True)
    lengths = [3, 1, 0, 4] if n_labels else [4, 1, 0, 5]
    scores = [rng.normal(size=(n, n_tags)).astype("float32") for n in lengths]
    allowed = []
    for s in scores:
        tags = max(itertools.product(range(n_tags), repeat=len(s)), key=lambda p: valid(p) + rng.random()) if len(s) else ()
        allowed.append(numpy.eye(n_tags, dtype=bool)[list(tags)].reshape(len(s), n_tags))
    if with_missing_gold:
        allowed[0][1] = True
        allowed[3][2:] = True
    _, d_scores = sll_loss(model, scores, allowed)
    expected_trans, expected_start = numpy.zeros((n_tags, n_tags)), numpy.zeros(n_tags)
    for s, a, d in zip(scores, allowed, d_scores):
        if not len(s):
            assert d.shape == (0, n_tags)
            continue
        d_emissions, d_trans, d_start = _brute_force_gradients(model, s.astype(float), a, valid)
        assert numpy.allclose(d, d_emissions, rtol=1e-5, atol=1e-6)
        expected_trans += d_trans
        expected_start += d_start
    assert numpy.allclose(model.get_grad("transitions"), expected_trans, rtol=1e-5, atol=1e-6)
    assert numpy.allclose(model.get_grad("start"), expected_start, rtol=1e-5, atol=1e-6)


def _sll_result(model, scores, allowed, mode, monkeypatch):
    """sll_loss's loss and gradients with the compiled kernel or the numpy code."""
    monkeypatch.setenv(kernels.ENV_VAR, "1" if mode == "compiled" else "0")
    model.set_grad("transitions", numpy.zeros_like(model.get_param("transitions")))
    model.set_grad("start", numpy.zeros_like(model.get_param("start")))
    loss, d_scores = sll_loss(model, scores, allowed)
    grads = [numpy.concatenate(d_scores), model.get_grad("transitions").copy(), model.get_grad("start").copy()]
    return loss, grads


@pytest.mark.parametrize(
    "n_tags,n_labels,scale",
    [(37, 0, 0.1), (37, 0, 1.0), (37, 0, 10.0), (49, 12, 0.1), (49, 12, 1.0), (49, 12, 10.0), (441, 110, 1.0)],
)
@pytest.mark.parametrize("with_missing_gold", [True, False])
def test_compiled_sll_matches_numpy(n_tags, n_labels, scale, with_missing_gold, monkeypatch):
    """The compiled forward-backward gives the numpy code's loss and gradients (emissions,
    transitions, start) to 1e-5 of their largest value, on batches of all lengths (0
    included), plain tags and IOBES-constrained ones (441 tags: the parser's)."""
    if kernels.compiled() is None:
        pytest.skip("spacy_senna._kernels is not built (pip install -e . builds it)")
    rng = numpy.random.default_rng(int(scale * 10) + n_tags)
    model = SentenceLogLikelihood(n_tags, iobes_labels=n_labels)
    model.initialize()
    model.set_param("transitions", rng.normal(scale=scale, size=(n_tags, n_tags)).astype("float32"))
    model.set_param("start", rng.normal(scale=scale, size=(n_tags,)).astype("float32"))
    lengths = rng.integers(0, 26, size=30)
    scores = [rng.normal(scale=3 * scale, size=(n, n_tags)).astype("float32") for n in lengths]
    # gold: the best valid path, so that the gold paths have a finite score under IOBES too
    allowed = [numpy.eye(n_tags, dtype=bool)[path] for path in viterbi_decode(model, scores)]
    if with_missing_gold:
        for a in allowed:
            a[rng.random(len(a)) < 0.3] = True
    loss, grads = _sll_result(model, scores, allowed, "compiled", monkeypatch)
    expected_loss, expected_grads = _sll_result(model, scores, allowed, "numpy", monkeypatch)
    assert loss == pytest.approx(expected_loss, rel=1e-6)
    for found, expected in zip(grads, expected_grads):
        assert numpy.abs(found - expected).max() <= 1e-5 * max(1e-3, numpy.abs(expected).max())


def test_compiled_sll_falls_back_when_a_step_underflows(monkeypatch):
    """A tag far above the allowed ones (I-A as the first tag: not allowed) would leave no
    weight at the step in probability space: the numpy code takes over, with its result."""
    if kernels.compiled() is None:
        pytest.skip("spacy_senna._kernels is not built (pip install -e . builds it)")
    model = SentenceLogLikelihood(5, iobes_labels=1)
    model.initialize()
    scores = [numpy.zeros((3, 5), dtype="float32")]
    scores[0][0, 2] = 3000.0  # I-A first
    allowed = [numpy.eye(5, dtype=bool)[[4, 1, 3]]]  # S-A B-A E-A
    loss, grads = _sll_result(model, scores, allowed, "compiled", monkeypatch)
    expected_loss, expected_grads = _sll_result(model, scores, allowed, "numpy", monkeypatch)
    assert numpy.isfinite(loss) and loss == pytest.approx(expected_loss, rel=1e-6)
    for found, expected in zip(grads, expected_grads):
        assert numpy.allclose(found, expected, atol=1e-6)


def test_window_rows_pad_each_sequence():
    ops = NumpyOps()
    rows = window_rows(ops, ops.asarray1i([2, 1]), 3)
    # token rows are 1-based (0 = padding); sequences do not see each other
    assert rows.tolist() == [[0, 1, 2], [1, 2, 0], [0, 3, 0]]


def test_window_backprop_matches_finite_differences():
    rng = numpy.random.default_rng(0)
    model = SennaWindow(3, nI=2)
    Xs = [rng.normal(size=(n, 2)).astype("float32") for n in (3, 1)]
    model.initialize(X=Xs)
    Ys, backprop = model.begin_update(Xs)
    assert [Y.shape for Y in Ys] == [(3, 6), (1, 6)]
    weights = [rng.normal(size=Y.shape).astype("float32") for Y in Ys]
    dXs = backprop(weights)
    # The output is linear in the inputs: d(sum(w * Y))/dX equals dX exactly.
    eps = 1e-2
    for k, i, j in [(0, 0, 0), (0, 2, 1), (1, 0, 1)]:
        moved = [X.copy() for X in Xs]
        moved[k][i, j] += eps
        new = sum((w * Y).sum() for w, Y in zip(weights, model.predict(moved)))
        old = sum((w * Y).sum() for w, Y in zip(weights, Ys))
        assert (new - old) / eps == pytest.approx(dXs[k][i, j], rel=1e-2, abs=1e-3)
    pad_grad = model.get_grad("pad")
    expected = weights[0][0, 0:2] + weights[0][2, 4:6] + weights[1][0, 0:2] + weights[1][0, 4:6]
    assert numpy.allclose(pad_grad, expected, atol=1e-5)


def test_embed_lookup_and_gradient():
    nlp = spacy.blank("en")
    docs = [nlp.make_doc("The cat sat"), nlp.make_doc("A Zebra")]
    model = SennaFeatureEmbed(4, 2, 3)
    model.initialize(X=docs[:1])
    vectors, backprop = model.begin_update(docs)
    assert [v.shape for v in vectors] == [(3, 9), (2, 9)]
    # unknown words share the UNKNOWN row
    assert numpy.allclose(vectors[1][0, :4], vectors[1][1, :4])
    backprop([numpy.ones_like(v) for v in vectors])
    d_words = model.get_grad("W_word")
    assert d_words[1].sum() == pytest.approx(2 * 4)  # 'a' and 'zebra' are unknown
    assert d_words[0].sum() == 0  # PADDING row is not used by tokens


def test_vectorised_iobes_phrases_match_conlleval_rules():
    from spacy_senna.tags import iobes_phrases, iobes_tag_names, tags_to_spans

    rng = numpy.random.default_rng(0)
    labels = ["A", "B", "C"]
    names = iobes_tag_names(labels)
    for _ in range(500):
        ids = rng.integers(0, len(names), size=rng.integers(0, 12))
        starts, ends, label_idx = iobes_phrases(ids, len(labels))
        found = [(s, e, labels[k]) for s, e, k in zip(starts.tolist(), ends.tolist(), label_idx.tolist())]
        assert found == tags_to_spans([names[i] for i in ids], "iobes")


def _valid_iobes(path, n_labels):
    from spacy_senna.decoding import iobes_constraints

    allowed, first, last = iobes_constraints(n_labels)
    return first[path[0]] and last[path[-1]] and all(allowed[a, b] for a, b in zip(path, path[1:]))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("with_missing_gold", [True, False])
def test_iobes_constrained_sll_and_viterbi_match_brute_force(seed, with_missing_gold, decoder):
    from spacy_senna.tags import iobes_tag_names, spans_to_tags

    rng = numpy.random.default_rng(seed)
    n_labels = 2
    n_tags = 1 + 4 * n_labels
    model = SentenceLogLikelihood(n_tags, iobes_labels=n_labels)
    model.initialize()
    model.set_param("transitions", rng.normal(size=(n_tags, n_tags)).astype("float32"))
    model.set_param("start", rng.normal(size=(n_tags,)).astype("float32"))
    names = {t: i for i, t in enumerate(iobes_tag_names(["A", "B"]))}
    golds = [[(0, 2, "A")], [(1, 2, "B")], [], [(0, 1, "A"), (1, 3, "B")]]
    lengths = [3, 2, 1, 4]
    scores = [rng.normal(size=(n, n_tags)).astype("float32") for n in lengths]
    allowed = [
        numpy.eye(n_tags, dtype=bool)[[names[t] for t in spans_to_tags(g, n, "iobes")]]
        for g, n in zip(golds, lengths)
    ]
    if with_missing_gold:
        allowed[3][2] = True
    loss, _ = sll_loss(model, scores, allowed)
    expected = 0.0
    for s, a in zip(scores, allowed):
        paths = [p for p in itertools.product(range(n_tags), repeat=len(s)) if _valid_iobes(p, n_labels)]
        totals = numpy.array([_path_score(model, s.astype(float), p) for p in paths])
        ok = numpy.array([all(a[i, t] for i, t in enumerate(p)) for p in paths])
        lse = lambda x: numpy.log(numpy.exp(x - x.max()).sum()) + x.max()
        expected += lse(totals) - lse(totals[ok])
    assert loss == pytest.approx(expected, rel=1e-5)
    for s, path in zip(scores, viterbi_decode(model, scores)):
        paths = [p for p in itertools.product(range(n_tags), repeat=len(s)) if _valid_iobes(p, n_labels)]
        best = max(paths, key=lambda p: _path_score(model, s.astype(float), p))
        assert tuple(path.tolist()) == best


@pytest.mark.parametrize("scale", [0.1, 1.0, 10.0])
def test_pruned_iobes_viterbi_is_exact(scale):
    from spacy_senna.decoding import viterbi_iobes

    rng = numpy.random.default_rng(int(scale * 10))
    n_labels = 12
    n_tags = 1 + 4 * n_labels
    transitions = rng.normal(scale=scale, size=(n_tags, n_tags)).astype("float32")
    start = rng.normal(scale=scale, size=(n_tags,)).astype("float32")
    emissions = rng.normal(scale=3 * scale, size=(40, 30, n_tags)).astype("float32")
    lengths = rng.integers(0, 31, size=40)
    full = viterbi_iobes(emissions, lengths, transitions, start, n_labels, top_k=n_tags)
    for k in (1, 3, 8):
        assert (viterbi_iobes(emissions, lengths, transitions, start, n_labels, top_k=k) == full).all()


@pytest.mark.parametrize("scale", [0.1, 1.0, 10.0])
def test_pruned_viterbi_is_exact(scale):
    from spacy_senna.decoding import viterbi

    rng = numpy.random.default_rng(int(scale * 10) + 1)
    n_tags = 45
    transitions = rng.normal(scale=scale, size=(n_tags, n_tags)).astype("float32")
    start = rng.normal(scale=scale, size=(n_tags,)).astype("float32")
    emissions = rng.normal(scale=3 * scale, size=(40, 30, n_tags)).astype("float32")
    lengths = rng.integers(0, 31, size=40)
    full = viterbi(emissions, lengths, transitions, start, top_k=n_tags)
    for k in (1, 4, 8):
        assert (viterbi(emissions, lengths, transitions, start, top_k=k) == full).all()


@pytest.mark.parametrize(
    "n_labels,scale,n_seqs",
    [(0, 0.1, 300), (0, 1.0, 300), (0, 10.0, 300), (12, 0.1, 300), (12, 1.0, 300), (12, 10.0, 300), (110, 1.0, 40)],
)
def test_compiled_viterbi_matches_numpy(n_labels, scale, n_seqs, monkeypatch):
    """The compiled kernel's paths are the numpy code's, on batches of 45-49 tags (and the
    parser's 441) with sequences of all lengths (0 included); plain and IOBES-constrained, with
    some emissions -inf (as the parser masks tags a unit may not take)."""
    if kernels.compiled() is None:
        pytest.skip("spacy_senna._kernels is not built (pip install -e . builds it)")
    rng = numpy.random.default_rng(int(scale * 10) + n_labels)
    n_tags = 1 + 4 * n_labels if n_labels else 45
    model = SentenceLogLikelihood(n_tags, iobes_labels=n_labels)
    model.initialize()
    model.set_param("transitions", rng.normal(scale=scale, size=(n_tags, n_tags)).astype("float32"))
    model.set_param("start", rng.normal(scale=scale, size=(n_tags,)).astype("float32"))
    scores = [rng.normal(scale=3 * scale, size=(n, n_tags)).astype("float32") for n in rng.integers(0, 60, size=n_seqs)]
    for emissions in scores[::3]:
        emissions[rng.random(emissions.shape) < 0.2] = -numpy.inf
    compiled = viterbi_decode(model, scores)
    monkeypatch.setenv(kernels.ENV_VAR, "0")
    expected = viterbi_decode(model, scores)
    assert [p.tolist() for p in compiled] == [p.tolist() for p in expected]
    assert all(p.dtype == "int32" for p in compiled)


def test_char_embed_gradient_matches_finite_differences():
    fix_random_seed(0)  # max over characters: a random draw could put a tie within eps
    nlp = spacy.blank("en")
    words = [["Hello", "world", "1999", "un-believable"], [], ["world", "x" * 40]]
    docs = [Doc(nlp.vocab, words=w) for w in words]
    model = SennaCharEmbed(4, char_width=3)
    model.initialize()
    vectors, backprop = model.begin_update(docs)
    assert [v.shape for v in vectors] == [(4, 4), (0, 4), (2, 4)]
    assert numpy.array_equal(vectors[0][1], vectors[2][0])  # one row per distinct word
    # inference skips the padded positions: the same vectors
    assert all(numpy.allclose(p, v, atol=1e-6) for p, v in zip(model.predict(docs), vectors))
    weights = [numpy.random.default_rng(0).normal(size=v.shape).astype("float32") for v in vectors]
    backprop(weights)
    eps = 1e-3
    for name in ("E", "W", "b"):
        param, grad = model.get_param(name), model.get_grad(name).copy()
        for index in numpy.argsort(-numpy.abs(grad).ravel())[:3]:
            index = numpy.unravel_index(index, grad.shape)
            old = param[index]
            param[index] = old + eps
            plus = sum((w * v).sum() for w, v in zip(weights, model.predict(docs)))
            param[index] = old - eps
            minus = sum((w * v).sum() for w, v in zip(weights, model.predict(docs)))
            param[index] = old
            assert (plus - minus) / (2 * eps) == pytest.approx(grad[index], rel=1e-2, abs=1e-3)


def test_char_rows_fold_digits_and_keep_both_ends_of_long_words():
    def rows(word):
        return numpy.frombuffer(word_char_rows(word, 512, 20), dtype="<u2").tolist()

    assert rows("1999") == rows("2024")
    long_word = "a" * 30 + "tion"
    assert len(rows(long_word)) == 20 and rows(long_word)[-4:] == rows("tion")
    assert rows("") == [1]
    assert char_matrix([], 1).shape == (0, 3)
    matrix = char_matrix([word_char_rows("", 512, 20), word_char_rows("ab", 512, 20)], 1)
    assert matrix.tolist() == [[0, 1, 0, 0], [0, *rows("ab"), 0]]


def test_dilated_window_rows_skip_neighbours_and_pad_past_the_ends():
    ops = NumpyOps()
    rows = window_rows(ops, ops.asarray1i([4, 1]), 3, dilation=2)
    assert rows.tolist() == [[0, 1, 3], [0, 2, 4], [1, 3, 0], [2, 4, 0], [0, 5, 0]]
    with pytest.raises(ValueError, match="dilation must be positive"):
        SennaWindow(3, dilation=0)


@pytest.mark.parametrize(
    "config",
    [
        # the tagger of training/senna: a shared-shape encoder (window, hidden) with characters
        {"model": {"window_size": 1, "hidden_width": 0, "tok2vec": {"@architectures": "spacy_senna.WindowEncoder.v1", "hidden_width": 24, "embed": {"@architectures": "spacy_senna.SennaEmbed.v1", "char_width": 8}}}},
        # a chunker reading POS tags; and a model with context layers after the hidden layer
        {"model": {"hidden_width": 24, "tok2vec": {"token_features": ["tag"]}}},
        {"model": {"hidden_width": 24, "context_dilations": [1, 2]}},
        {"model": {"hidden_width": 24, "context_dilations": [1, 2, 4], "context_width": 8, "hidden_dropout": True}},
    ],
)
def test_distinct_window_prediction_is_the_model_s(config, monkeypatch):
    """The window network's first layer per distinct token gives the plain prediction's
    scores (to float rounding), and SPACY_SENNA_KERNELS=0 gives the plain one itself."""
    from spacy.training import Example

    from spacy_senna.layers import distinct_window

    fix_random_seed(0)
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("senna_tagger", config=config)
    words = [["the", "cat", "sat", "on", "the", "mat", "."], ["the", "dog", "sat", "."], ["a", "cat", "."]]
    tags = [["DT", "NN", "VBD", "IN", "DT", "NN", "."], ["DT", "NN", "VBD", "."], ["DT", "NN", "."]]
    examples = [Example(Doc(nlp.vocab, words=w), Doc(nlp.vocab, words=w, tags=t)) for w, t in zip(words, tags)]
    nlp.initialize(lambda: examples)
    docs = [Doc(nlp.vocab, words=w, tags=t) for w, t in zip(words * 20, tags * 20)]
    expected = tagger.model.predict(docs)
    found = distinct_window.predict(tagger.model, docs)
    assert len(found) == len(expected)
    for a, b in zip(found, expected):
        numpy.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert distinct_window._predict_chain(tagger.model, docs) is not None  # the fast path ran
    monkeypatch.setenv(kernels.ENV_VAR, "0")
    assert all((a == b).all() for a, b in zip(distinct_window.predict(tagger.model, docs), expected))


def test_distinct_rows(monkeypatch):
    from spacy_senna import inference

    rng = numpy.random.default_rng(0)
    base = rng.normal(size=(7, 5)).astype("float32")
    rows = base[rng.integers(0, 7, size=50)]
    for keys in (inference.row_keys, lambda rows: numpy.zeros(len(rows))):  # then every key collides
        monkeypatch.setattr(inference, "row_keys", keys)
        distinct, index = inference.distinct_rows(rows)
        assert len(distinct) == len(numpy.unique(rows, axis=0))
        assert (distinct[index] == rows).all()


def test_a_kernels_build_without_the_lean_paths_kernels_is_not_used(monkeypatch):
    """A _kernels module from before window_sums and hash_strings is not used either: the string
    hash is then spaCy's own, and the module is used once it has every kernel."""
    import types

    from spacy.strings import hash_string

    from spacy_senna.lexicon import string_hashes

    stale = types.ModuleType("spacy_senna._kernels")
    stale.__file__ = "_kernels.so"
    stale.viterbi_flat = stale.sll_forward_backward = lambda *args: None
    monkeypatch.setitem(sys.modules, "spacy_senna._kernels", stale)
    import spacy_senna

    monkeypatch.setattr(spacy_senna, "_kernels", stale, raising=False)
    with pytest.warns(UserWarning, match="older _kernels.pyx .no window_sums, hash_strings"):
        assert kernels.built() is None and kernels.compiled() is None
        assert string_hashes(["dog"]).tolist() == [hash_string("dog")]
    for name in kernels.KERNELS:  # every kernel the code calls
        setattr(stale, name, getattr(stale, name, lambda *args: None))
    assert kernels.built() is stale
