"""The senna_tagger, senna_chunker and senna_ner components, in the style of spaCy's own tests."""
import pickle

import numpy
import pytest
import spacy
import srsly
from spacy.tokens import Doc, Span
from spacy.training import Example

from spacy_senna.pipeline import SennaSequencePipe

TRAIN_DATA = [
    (
        ["Apple", "is", "buying", "a", "U.K.", "startup", "for", "$", "1", "billion", "."],
        ["NNP", "VBZ", "VBG", "DT", "NNP", "NN", "IN", "$", "CD", "CD", "."],
        [(0, 1, "NP"), (1, 3, "VP"), (3, 6, "NP"), (6, 7, "PP"), (7, 10, "NP")],
        [(0, 1, "ORG"), (4, 5, "LOC")],
    ),
    (
        ["Angela", "Merkel", "visited", "New", "York", "City", "."],
        ["NNP", "NNP", "VBD", "NNP", "NNP", "NNP", "."],
        [(0, 2, "NP"), (2, 3, "VP"), (3, 6, "NP")],
        [(0, 2, "PER"), (3, 6, "LOC")],
    ),
    (
        ["She", "works", "for", "Google", "in", "Zurich", "."],
        ["PRP", "VBZ", "IN", "NNP", "IN", "NNP", "."],
        [(0, 1, "NP"), (1, 2, "VP"), (2, 3, "PP"), (3, 4, "NP"), (4, 5, "PP"), (5, 6, "NP")],
        [(3, 4, "ORG"), (5, 6, "LOC")],
    ),
]
FACTORIES = ["senna_tagger", "senna_chunker", "senna_ner"]


def make_examples(nlp):
    examples = []
    for words, tags, chunks, ents in TRAIN_DATA:
        reference = Doc(nlp.vocab, words=words, tags=tags)
        reference.spans["chunks"] = [Span(reference, s, e, label) for s, e, label in chunks]
        reference.ents = [Span(reference, s, e, label) for s, e, label in ents]
        examples.append(Example(Doc(nlp.vocab, words=words), reference))
    return examples


def annotations(doc):
    return (
        [t.tag_ for t in doc],
        [(s.start, s.end, s.label_) for s in doc.spans.get("chunks", [])],
        [(e.start, e.end, e.label_) for e in doc.ents],
    )


def gold_annotations(example):
    return annotations(example.reference)


def train(nlp, examples, n_iter=60):
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(n_iter):
        nlp.update(examples, sgd=optimizer, losses={})
    return nlp


@pytest.fixture(scope="module")
def trained():
    nlp = spacy.blank("en")
    for name in FACTORIES:
        nlp.add_pipe(name)
    return train(nlp, make_examples(nlp))


@pytest.mark.parametrize("factory", FACTORIES)
@pytest.mark.parametrize("sentence_level", [True, False])
def test_overfitting(factory, sentence_level):
    nlp = spacy.blank("en")
    nlp.add_pipe(factory, config={"model": {"sentence_level": sentence_level}})
    examples = make_examples(nlp)
    train(nlp, examples, n_iter=80)
    index = {"senna_tagger": 0, "senna_chunker": 1, "senna_ner": 2}[factory]
    for example in examples:
        doc = nlp(Doc(nlp.vocab, words=[t.text for t in example.reference]))
        assert annotations(doc)[index] == gold_annotations(example)[index]
    scores = nlp.evaluate(examples)
    key = {"senna_tagger": "tag_acc", "senna_chunker": "spans_chunks_f", "senna_ner": "ents_f"}[factory]
    assert scores[key] == 1.0


def test_labels_from_data(trained):
    assert set(trained.get_pipe("senna_ner").labels) == {"ORG", "LOC", "PER"}
    assert set(trained.get_pipe("senna_chunker").labels) == {"NP", "VP", "PP"}
    assert "NNP" in trained.get_pipe("senna_tagger").labels
    with pytest.raises(ValueError, match="cannot add label 'MISC'"):
        trained.get_pipe("senna_ner").add_label("MISC")


def test_tag_ids_follow_the_labels():
    """from_bytes/from_disk replace cfg["labels"] (spaCy's TrainablePipe): the tag ids follow,
    also for as many labels as before."""
    chunker = spacy.blank("en").add_pipe("senna_chunker")
    for label in ("NP", "VP"):
        chunker.add_label(label)
    assert chunker.tag_ids["B-NP"] == 1 and chunker.tag_ids["B-VP"] == 5
    chunker.cfg.update({"labels": ["VP", "NP"]})
    assert chunker.tag_ids["B-VP"] == 1 and chunker.tag_ids["B-NP"] == 5
    assert list(chunker.tag_ids) == chunker.tag_names


def test_no_labels_is_an_error():
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_ner")
    example = Example(Doc(nlp.vocab, words=["a"]), Doc(nlp.vocab, words=["a"], ents=["O"]))
    with pytest.raises(ValueError, match="no labels found"):
        nlp.initialize(lambda: [example])


def _predictions(nlp, texts):
    return [annotations(doc) for doc in nlp.pipe(texts)]


TEXTS = ["Apple is buying a U.K. startup.", "Angela Merkel visited Zurich.", "xyzzy qwerty ☃ 𝔘nicode !!"]


def test_serialize_disk_bytes_pickle(trained, tmp_path):
    expected = _predictions(trained, TEXTS)
    trained.to_disk(tmp_path / "model")
    assert _predictions(spacy.load(tmp_path / "model"), TEXTS) == expected
    fresh = spacy.blank("en")
    for name in FACTORIES:
        fresh.add_pipe(name)
    fresh.from_bytes(trained.to_bytes())
    assert _predictions(fresh, TEXTS) == expected
    assert _predictions(pickle.loads(pickle.dumps(trained)), TEXTS) == expected


def test_serialize_component_alone(trained, tmp_path):
    ner = trained.get_pipe("senna_ner")
    ner.to_disk(tmp_path / "ner")
    nlp = spacy.blank("en")
    loaded = nlp.add_pipe("senna_ner")
    loaded.from_disk(tmp_path / "ner")
    assert loaded.labels == ner.labels
    doc = nlp("Angela Merkel visited Zurich.")
    assert annotations(doc)[2] == annotations(trained("Angela Merkel visited Zurich."))[2]


def test_word_table_in_its_own_file_mapped_on_load(trained, tmp_path):
    """to_disk writes each word table beside `model` (which no longer holds it); from_disk maps
    it into memory (copy-on-write), with the same predictions."""
    import numpy

    from spacy_senna.layers.embed import WORD_TABLE, word_table_layers

    expected = _predictions(trained, TEXTS)
    trained.to_disk(tmp_path / "model")
    folder = tmp_path / "model" / "senna_ner"
    table = word_table_layers(trained.get_pipe("senna_ner").model)[0].get_param(WORD_TABLE)
    assert numpy.array_equal(numpy.load(folder / "word_table0.npy"), table)
    assert len(trained.get_pipe("senna_ner").model.to_bytes()) - (folder / "model").stat().st_size >= table.nbytes
    loaded = spacy.load(tmp_path / "model")
    for name in FACTORIES:
        (layer,) = word_table_layers(loaded.get_pipe(name).model)
        assert isinstance(layer.get_param(WORD_TABLE), numpy.memmap)
    assert _predictions(loaded, TEXTS) == expected
    # saved over the folder it was loaded from (in-place tools do that): the mapped old
    # files stay readable, and the new ones load
    loaded.to_disk(tmp_path / "model")
    assert _predictions(loaded, TEXTS) == expected
    assert _predictions(spacy.load(tmp_path / "model"), TEXTS) == expected
    assert not list(folder.glob("*.partial"))


def test_word_table_written_inside_model_still_loads(trained, tmp_path):
    """A component folder from before the separate table file (the table inside `model`)."""
    ner = trained.get_pipe("senna_ner")
    ner.to_disk(tmp_path / "ner")
    (tmp_path / "ner" / "word_table0.npy").unlink()
    ner.model.to_disk(tmp_path / "ner" / "model")
    loaded = spacy.blank("en").add_pipe("senna_ner").from_disk(tmp_path / "ner")
    assert annotations(loaded(Doc(loaded.vocab, words=["Angela", "Merkel", "visited", "Zurich", "."])))[2] == annotations(
        ner(Doc(ner.vocab, words=["Angela", "Merkel", "visited", "Zurich", "."]))
    )[2]


@pytest.mark.parametrize("damage", ["missing", "garbage", "wrong-shape"])
def test_word_table_file_damaged(trained, tmp_path, damage):
    import numpy

    trained.get_pipe("senna_ner").to_disk(tmp_path / "ner")
    path = tmp_path / "ner" / "word_table0.npy"
    if damage == "missing":
        path.unlink()
        message = "word_table0.npy is missing"
    elif damage == "garbage":
        path.write_bytes(b"not numpy")
        message = "word_table0.npy is not a readable .npy word table"
    else:
        numpy.save(path, numpy.zeros((3, 2), dtype="float32"))
        message = r"word_table0.npy holds a float32 array of shape \(3, 2\)"
    with pytest.raises(ValueError, match=message):
        spacy.blank("en").add_pipe("senna_ner").from_disk(tmp_path / "ner")


@pytest.mark.parametrize(
    "words",
    [[], ["Zurich"], ["\n", "Apple", " ", "is", "\t"], ["☃", "𝔘", "日本", "x" * 300]],
    ids=["empty", "one-token", "whitespace-tokens", "unknown-characters"],
)
def test_edge_cases(trained, words):
    doc = trained(Doc(trained.vocab, words=words))
    assert len([t.tag_ for t in doc if t.tag_]) == len(words)
    assert all(e.end <= len(doc) for e in doc.ents)


def test_long_doc(trained):
    words = (["Angela", "Merkel", "visited", "New", "York", "City", "."] * 715)[:5000]
    doc = trained(Doc(trained.vocab, words=words))
    assert len(doc) == 5000 and all(t.tag_ for t in doc)
    assert len(doc.ents) > 100
    assert doc.ents[0].label_ == "PER"


def test_batch_matches_single_docs(trained):
    texts = TEXTS * 5 + ["", "Hello"]
    batched = _predictions(trained, texts)
    assert batched == [annotations(trained(text)) for text in texts]


def test_partial_annotation_is_ignored_in_loss():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("senna_ner")
    words = ["Angela", "Merkel", "visited", "Zurich"]
    full = Doc(nlp.vocab, words=words, ents=["B-PER", "I-PER", "O", "B-LOC"])
    partial = Doc(nlp.vocab, words=words, ents=["B-PER", "I-PER", "", ""])  # last two unknown
    nlp.initialize(lambda: [Example(Doc(nlp.vocab, words=words), full)])
    assert ner.gold_tags(Example(Doc(nlp.vocab, words=words), partial)) == ["B-PER", "E-PER", None, None]
    scores = ner.model.predict([Doc(nlp.vocab, words=words)])
    allowed = ner._allowed_tags(Example(Doc(nlp.vocab, words=words), partial))
    assert allowed[2:].all() and allowed[:2].sum() == 2
    _, d_scores = ner.get_loss([Example(Doc(nlp.vocab, words=words), partial)], scores)
    assert d_scores[0].shape == scores[0].shape


def test_unknown_gold_tag_is_named():
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_tagger")
    words = ["a", "b"]
    nlp.initialize(lambda: [Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, tags=["DT", "NN"]))])
    odd = Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, tags=["DT", "XYZ"]))
    with pytest.raises(ValueError, match="gold tag 'XYZ'"):
        nlp.update([odd])


def test_chunker_without_chunk_annotation_has_no_gold():
    nlp = spacy.blank("en")
    chunker = nlp.add_pipe("senna_chunker")
    example = Example(Doc(nlp.vocab, words=["a", "b"]), Doc(nlp.vocab, words=["a", "b"]))
    assert chunker.gold_tags(example) == [None, None]


def test_word_list_vocabulary(tmp_path):
    words_path = tmp_path / "words.lst"
    words_path.write_text("PADDING\nUNKNOWN\napple\nis\nbuying\n", encoding="utf8")
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_ner", config={"model": {"tok2vec": {"word_list": str(words_path)}}})
    train(nlp, make_examples(nlp), n_iter=2)
    embed = [n for n in nlp.get_pipe("senna_ner").model.walk() if n.name == "senna_embed"][0]
    assert embed.attrs["tables"].words == ["PADDING", "UNKNOWN", "apple", "is", "buying"]
    # the list is read at initialisation only: a saved pipeline loads without it
    nlp.to_disk(tmp_path / "model")
    words_path.unlink()
    assert spacy.load(tmp_path / "model")("apple is buying").ents is not None


def test_tagger_with_char_features_overfits_and_round_trips(tmp_path):
    nlp = spacy.blank("en")
    config = {"model": {"hidden_dropout": True, "tok2vec": {"@architectures": "spacy_senna.SennaEmbed.v1", "char_width": 8}}}
    nlp.add_pipe("senna_tagger", config=config)
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(80):
        nlp.update(examples, sgd=optimizer, drop=0.1, losses={})
    for example in examples:
        doc = nlp(Doc(nlp.vocab, words=[t.text for t in example.reference]))
        assert annotations(doc)[0] == gold_annotations(example)[0]
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert _predictions(loaded, TEXTS) == _predictions(nlp, TEXTS)
    assert [t.tag_ != "" for t in loaded(Doc(loaded.vocab, words=["x" * 300, "☃"]))] == [True, True]


@pytest.mark.parametrize("context_width", [0, 8], ids=["full", "projected"])
@pytest.mark.parametrize("factory", FACTORIES)
def test_context_dilations_overfit_and_round_trip(factory, context_width, tmp_path):
    nlp = spacy.blank("en")
    model = {"hidden_width": 32, "context_dilations": [1, 2], "context_width": context_width}
    config = {"model": {**model, "tok2vec": {"@architectures": "spacy_senna.SennaEmbed.v1"}}}
    nlp.add_pipe(factory, config=config)
    examples = make_examples(nlp)
    train(nlp, examples, n_iter=80)
    index = FACTORIES.index(factory)
    for example in examples:
        doc = nlp(Doc(nlp.vocab, words=[t.text for t in example.reference]))
        assert annotations(doc)[index] == gold_annotations(example)[index]
    nlp.to_disk(tmp_path / "model")
    assert _predictions(spacy.load(tmp_path / "model"), TEXTS) == _predictions(nlp, TEXTS)
    assert annotations(nlp(""))[index] == []


def test_context_width_projects_each_context_window():
    """context_width: each context layer's window holds 3 x context_width projected features,
    and a negative width is refused."""
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("senna_tagger", config={"model": {"hidden_width": 20, "context_dilations": [1, 3], "context_width": 6}})
    nlp.initialize(lambda: make_examples(nlp))
    context_windows = [node for node in tagger.model.walk() if node.name == "senna_window" and node.attrs["window_size"] == 3]
    assert [(node.attrs["dilation"], node.get_dim("nI"), node.get_dim("nO")) for node in context_windows] == [(1, 6, 18), (3, 6, 18)]
    with pytest.raises(ValueError, match="context_width must be 0"):
        spacy.blank("en").add_pipe("senna_tagger", config={"model": {"context_dilations": [1], "context_width": -1}})


def _sentences_doc(nlp, sentences):
    words = [w for sentence in sentences for w in sentence]
    starts = [i == 0 for sentence in sentences for i in range(len(sentence))]
    return Doc(nlp.vocab, words=words, sent_starts=starts)


def test_each_sentence_is_tagged_alone(trained, monkeypatch):
    """With `doc.sents` set, a doc gets what its sentences get one by one (item 12)."""
    sentences = [example.reference for example in make_examples(trained)]
    sentences = [[t.text for t in doc] for doc in sentences]
    alone = [annotations(trained(Doc(trained.vocab, words=words))) for words in sentences]
    seen = []
    decode = SennaSequencePipe.decode
    monkeypatch.setattr(SennaSequencePipe, "decode", lambda self, scores: seen.append([len(s) for s in scores]) or decode(self, scores))
    doc = trained(_sentences_doc(trained, sentences))
    assert seen == [[len(words) for words in sentences]] * len(FACTORIES)
    offset, expected = 0, ([], [], [])
    for words, (tags, chunks, ents) in zip(sentences, alone):
        expected[0].extend(tags)
        expected[1].extend((s + offset, e + offset, label) for s, e, label in chunks)
        expected[2].extend((s + offset, e + offset, label) for s, e, label in ents)
        offset += len(words)
    assert annotations(doc) == expected
    assert [len(sent) for sent in doc.sents] == [len(words) for words in sentences]


def test_sentences_split_the_features_of_earlier_components():
    """A chunker reading the POS tags (`chunk_pos`) gets each sentence's tags and chunks."""
    from spacy_senna.pipeline.sentences import sentence_pieces

    nlp = spacy.blank("en")
    doc = _sentences_doc(nlp, [["A", "b", "."], ["C", "d"]])
    doc.spans["chunks"] = [Span(doc, 0, 2, "NP"), Span(doc, 3, 5, "NP")]
    for token, tag in zip(doc, ["DT", "NN", ".", "NNP", "NN"]):
        token.tag_ = tag
    pieces = sentence_pieces(doc)
    assert [(start, [t.tag_ for t in piece]) for piece, start in pieces] == [(0, ["DT", "NN", "."]), (3, ["NNP", "NN"])]
    assert [[(s.start, s.end, s.label_) for s in piece.spans["chunks"]] for piece, _ in pieces] == [[(0, 2, "NP")], [(0, 2, "NP")]]
    assert [len(piece) for piece, _ in sentence_pieces(doc, max_length=2)] == [2, 1, 2]
    assert sentence_pieces(Doc(nlp.vocab, words=[])) == []


def test_tagger_sets_universal_pos(trained):
    """`token.pos_` from the PTB tag, as in spaCy's English pipelines (item 12)."""
    doc = trained(Doc(trained.vocab, words=["Angela", "Merkel", "visited", "New", "York", "City", "."]))
    assert [t.tag_ for t in doc] == ["NNP", "NNP", "VBD", "NNP", "NNP", "NNP", "."]
    assert [t.pos_ for t in doc] == ["PROPN", "PROPN", "VERB", "PROPN", "PROPN", "PROPN", "PUNCT"]


def test_assembled_pipelines_split_sentences():
    """The packaged pipeline has a sentencizer first: `doc.sents` works (item 12)."""
    from pathlib import Path

    config = spacy.util.load_config(Path(__file__).parent.parent / "configs" / "assemble.cfg")
    assert config["nlp"]["pipeline"][0] == "sentencizer"
    assert config["components"]["sentencizer"]["factory"] == "sentencizer"


def test_spacy_evaluate_shows_the_chunk_scores(trained, tmp_path, capsys):
    """Chunk scores are keyed spans_chunks_*: `spacy evaluate --spans-key chunks` prints them (item 15)."""
    from spacy.cli.evaluate import evaluate
    from spacy.tokens import DocBin

    trained.to_disk(tmp_path / "model")
    DocBin(docs=[eg.reference for eg in make_examples(trained)]).to_disk(tmp_path / "dev.spacy")
    scores = evaluate(tmp_path / "model", tmp_path / "dev.spacy", spans_key="chunks", silent=False)
    assert scores["spans_chunks_f"] == 1.0
    assert "SPAN F   100.00" in capsys.readouterr().out


def test_chunker_reading_tags_without_tags_is_a_clear_error():
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_chunker", config={"model": {"tok2vec": {"token_features": ["tag"]}}})
    train(nlp, make_examples(nlp), n_iter=1)
    with pytest.raises(ValueError, match=r"\[senna_chunker\] its model reads token.tag_ but a doc has no POS tagging annotation"):
        nlp(Doc(nlp.vocab, words=["Apple", "is", "here"]))
    tagged = nlp(Doc(nlp.vocab, words=["Apple", "is", "here"], tags=["NNP", "VBZ", "RB"]))
    assert all(s.end <= 3 for s in tagged.spans["chunks"])


def test_half_tables_keep_the_predictions_and_refuse_training(trained, tmp_path):
    from typer.testing import CliRunner

    from spacy_senna.cli import app

    trained.to_disk(tmp_path / "model")
    result = CliRunner().invoke(app, ["half-tables", str(tmp_path / "model"), str(tmp_path / "half")])
    assert result.exit_code == 0, result.output
    half = spacy.load(tmp_path / "half")
    tables = [half.get_pipe(name).model.get_ref("tok2vec").get_param("W_word") for name in FACTORIES]
    assert all(table.dtype == "float16" for table in tables)
    assert _predictions(half, TEXTS) == _predictions(trained, TEXTS)
    assert "Merkel" in srsly.read_json(tmp_path / "model" / "vocab" / "strings.json")
    assert "Merkel" not in srsly.read_json(tmp_path / "half" / "vocab" / "strings.json")
    with pytest.raises(ValueError, match="stored as float16 for inference"):
        half.update(make_examples(half), sgd=half.resume_training())
    again = CliRunner().invoke(app, ["half-tables", str(tmp_path / "half"), str(tmp_path / "again")])
    assert again.exit_code == 1 and "no float32 SENNA word table" in again.output


def test_int8_tables_keep_the_predictions_and_refuse_training(trained, tmp_path):
    """half-tables --int8: 8-bit rows with a scale each, mapped from their .npy on load; the
    rows read back within half a step of the float32 ones, and the tags stay the same."""
    from typer.testing import CliRunner

    from spacy_senna.cli import app
    from spacy_senna.layers.embed import WORD_SCALE

    trained.to_disk(tmp_path / "model")
    result = CliRunner().invoke(app, ["half-tables", str(tmp_path / "model"), str(tmp_path / "int8"), "--int8"])
    assert result.exit_code == 0, result.output
    assert "word tables in int8" in result.output
    small = spacy.load(tmp_path / "int8")
    for name in FACTORIES:
        embed = small.get_pipe(name).model.get_ref("tok2vec")
        table, scale = embed.get_param("W_word"), embed.get_param(WORD_SCALE)
        assert table.dtype == "int8" and isinstance(table, numpy.memmap) and scale.shape == (table.shape[0], 1)
        original = trained.get_pipe(name).model.get_ref("tok2vec").get_param("W_word")
        assert numpy.all(numpy.abs(table * scale - original) <= scale / 2 + 1e-6)
    assert _predictions(small, TEXTS) == _predictions(trained, TEXTS)
    small.to_disk(tmp_path / "again")  # re-saved: still int8, same tags
    assert _predictions(spacy.load(tmp_path / "again"), TEXTS) == _predictions(trained, TEXTS)
    with pytest.raises(ValueError, match="stored as int8 for inference"):
        small.update(make_examples(small), sgd=small.resume_training())
    again = CliRunner().invoke(app, ["half-tables", str(tmp_path / "int8"), str(tmp_path / "more"), "--int8"])
    assert again.exit_code == 1 and "no float16 or float32 SENNA word table" in again.output
    halved = CliRunner().invoke(app, ["half-tables", str(tmp_path / "int8"), str(tmp_path / "half")])
    assert halved.exit_code == 1 and "no float32 SENNA word table" in halved.output


def test_whitespace_tokens_are_not_words(trained):
    """spaCy makes tokens of runs of spaces and newlines; SENNA, which splits on whitespace,
    never sees them: they get `_SP`/SPACE, start or end no phrase, and change no other tag."""
    words = ["Angela", "Merkel", "\n\n", "visited", "  ", "New", "York", "City", "."]
    spaced = trained(Doc(trained.vocab, words=words))
    plain = trained(Doc(trained.vocab, words=[w for w in words if w.strip()]))
    assert [(t.tag_, t.pos_) for t in spaced if t.is_space] == [("_SP", "SPACE")] * 2
    assert [t.tag_ for t in spaced if not t.is_space] == [t.tag_ for t in plain]
    for group in (spaced.spans["chunks"], spaced.ents):
        assert all(not span[0].is_space and not span[-1].is_space for span in group)
    assert [s.text.split() for s in spaced.ents] == [s.text.split() for s in plain.ents]
    only_space = trained(Doc(trained.vocab, words=["\n", "  "]))
    assert [t.tag_ for t in only_space] == ["_SP", "_SP"] and not only_space.ents
