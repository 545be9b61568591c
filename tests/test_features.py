"""Extra input features: gazetteers and annotation from earlier components."""
import numpy
import pytest
import spacy
from spacy.tokens import Doc, Span
from spacy.training import Example

from spacy_senna.layers import SennaAttrEmbed, SennaGazetteerEmbed
from spacy_senna.layers.attr_embed import attr_rows
from spacy_senna.layers.gazetteer import gazetteer_flags


@pytest.fixture
def gazetteer_files(tmp_path):
    (tmp_path / "loc.lst").write_text("New York\nNew York City\nYork\nZurich\n", encoding="utf8")
    (tmp_path / "org.lst").write_text("New York Times\nGoogle\n", encoding="utf8")
    return {"LOC": str(tmp_path / "loc.lst"), "ORG": str(tmp_path / "org.lst")}


def test_gazetteer_longest_match_per_class(gazetteer_files):
    nlp = spacy.blank("en")
    layer = SennaGazetteerEmbed(gazetteer_files, width=3)
    layer.initialize()
    doc = Doc(nlp.vocab, words=["The", "New", "York", "City", "office", "of", "Google", "in", "York"])
    flags = gazetteer_flags(layer, doc)
    assert flags[:, 0].tolist() == [0, 1, 1, 1, 0, 0, 0, 0, 1]  # LOC: "New York City" beats "New York"
    assert flags[:, 1].tolist() == [0, 0, 0, 0, 0, 0, 1, 0, 0]  # ORG
    vectors = layer.predict([doc])[0]
    assert vectors.shape == (9, 6)
    assert numpy.allclose(vectors[1], vectors[2]) and not numpy.allclose(vectors[0], vectors[1])


def test_gazetteer_missing_file_is_named(tmp_path):
    layer = SennaGazetteerEmbed({"LOC": str(tmp_path / "nope.lst")})
    with pytest.raises(FileNotFoundError, match="nope.lst"):
        layer.initialize()


def test_attr_rows_for_tags_and_chunks():
    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=["the", "cat", "sat"], tags=["DT", "NN", ""])
    rows = attr_rows(doc, "tag", 64)
    assert rows[2] == 0 and rows[0] != rows[1] and rows.min() >= 0 and rows.max() < 64
    doc.spans["chunks"] = [Span(doc, 0, 2, "NP"), Span(doc, 2, 3, "VP")]
    chunk_rows = attr_rows(doc, "chunk", 64)
    assert len(set(chunk_rows.tolist())) == 3  # B-NP, E-NP, S-VP
    no_chunks = Doc(nlp.vocab, words=["a"])
    assert attr_rows(no_chunks, "chunk", 64).tolist() == [0]
    with pytest.raises(ValueError, match="unknown token feature"):
        SennaAttrEmbed("lemma")


def test_ner_with_gazetteer_trains_and_round_trips(gazetteer_files, tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_ner", config={"model": {"tok2vec": {"gazetteers": gazetteer_files}}})
    words = ["She", "works", "for", "Google", "in", "Zurich", "."]
    reference = Doc(nlp.vocab, words=words, ents=["O", "O", "O", "B-ORG", "O", "B-LOC", "O"])
    examples = [Example(Doc(nlp.vocab, words=words), reference)]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(40):
        nlp.update(examples, sgd=optimizer)
    doc = nlp(Doc(nlp.vocab, words=words))
    assert [(e.text, e.label_) for e in doc.ents] == [("Google", "ORG"), ("Zurich", "LOC")]
    nlp.to_disk(tmp_path / "model")
    for path in gazetteer_files.values():  # the entries are stored in the model
        Path = type(tmp_path)
        Path(path).unlink()
    loaded = spacy.load(tmp_path / "model")
    assert [(e.text, e.label_) for e in loaded(Doc(loaded.vocab, words=words)).ents] == [
        ("Google", "ORG"),
        ("Zurich", "LOC"),
    ]


def test_chunker_uses_pos_tags_from_earlier_component():
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_tagger")
    nlp.add_pipe("senna_chunker", config={"model": {"tok2vec": {"token_features": ["tag"]}}})
    words = ["the", "cat", "sat", "on", "the", "mat"]
    tags = ["DT", "NN", "VBD", "IN", "DT", "NN"]
    reference = Doc(nlp.vocab, words=words, tags=tags)
    reference.spans["chunks"] = [Span(reference, 0, 2, "NP"), Span(reference, 2, 3, "VP"), Span(reference, 3, 4, "PP"), Span(reference, 4, 6, "NP")]
    examples = [Example(Doc(nlp.vocab, words=words), reference)]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(60):
        nlp.update(examples, sgd=optimizer, annotates=["senna_tagger"])
    doc = nlp(Doc(nlp.vocab, words=words))
    assert [t.tag_ for t in doc] == tags
    assert [(s.start, s.end, s.label_) for s in doc.spans["chunks"]] == [(0, 2, "NP"), (2, 3, "VP"), (3, 4, "PP"), (4, 6, "NP")]
    embed = nlp.get_pipe("senna_chunker").model.get_ref("tok2vec")
    assert embed.get_dim("nO") == 65


def test_gazetteer_reads_senna_style_lists(tmp_path):
    # SENNA's lists are lower-cased, digits as 0, Latin-1, and hold every prefix of an entry
    path = tmp_path / "ner.loc.lst"
    path.write_bytes("new\nnew york\nm\xfcnchen\nroute 00\n".encode("latin-1"))
    layer = SennaGazetteerEmbed({"LOC": str(path)}, width=2)
    layer.initialize()
    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=["Route", "66", "to", "M\u00fcnchen", "via", "New", "York"])
    assert gazetteer_flags(layer, doc)[:, 0].tolist() == [1, 1, 0, 1, 0, 1, 1]


def test_longest_matches_do_not_overlap():
    from spacy_senna.layers.gazetteer import build_trie, longest_matches

    trie = build_trie(["a b", "b c d", "a", "d"])
    assert longest_matches(trie, ["a", "b", "c", "d"]) == [(0, 2), (3, 4)]
    assert longest_matches(trie, ["x", "b", "c", "d", "a"]) == [(1, 4), (4, 5)]
    assert longest_matches(trie, []) == []


def test_gazetteer_uses_senna_admissible_marks(tmp_path):
    (tmp_path / "hash").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "hash" / "ner.loc.lst").write_text("new\nnew york\nyork\n", encoding="utf8")
    (tmp_path / "data" / "ner.loc.dat").write_bytes(bytes([0, 1, 1]))
    from spacy_senna.resources import read_gazetteer

    assert read_gazetteer(tmp_path / "hash" / "ner.loc.lst") == ["new york", "york"]
    (tmp_path / "data" / "ner.loc.dat").write_bytes(bytes([0, 1]))
    with pytest.raises(ValueError, match="has 2 bytes but"):
        read_gazetteer(tmp_path / "hash" / "ner.loc.lst")


def test_find_gazetteers(tmp_path):
    from spacy_senna.resources import find_gazetteers

    (tmp_path / "ner.loc.lst").write_text("york\n", encoding="utf8")
    (tmp_path / "PER.lst").write_text("anna\n", encoding="utf8")
    assert find_gazetteers(str(tmp_path)) == {"LOC": str(tmp_path / "ner.loc.lst"), "PER": str(tmp_path / "PER.lst")}
    with pytest.raises(FileNotFoundError, match="gazetteer folder not found"):
        find_gazetteers(str(tmp_path / "nothing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no gazetteer lists"):
        find_gazetteers(str(tmp_path / "empty"))


def test_model_trained_with_gazetteer_dir_loads_without_it(tmp_path):
    """The folder is read at initialisation, not when the model is built (issue 15, item 11)."""
    import shutil

    import spacy
    from spacy.tokens import Doc, Span
    from spacy.training import Example

    folder = tmp_path / "gazetteers"
    folder.mkdir()
    (folder / "LOC.lst").write_text("new york\nzurich\n", encoding="utf8")
    (folder / "PER.lst").write_text("anna\n", encoding="utf8")
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_ner", config={"model": {"tok2vec": {"gazetteer_dir": str(folder)}}})
    words = ["Anna", "visited", "New", "York", "and", "Zurich"]
    reference = Doc(nlp.vocab, words=words)
    reference.ents = [Span(reference, 0, 1, "PER"), Span(reference, 2, 4, "LOC"), Span(reference, 5, 6, "LOC")]
    examples = [Example(Doc(nlp.vocab, words=words), reference)]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(30):
        nlp.update(examples, sgd=optimizer)
    expected = [(e.start, e.end, e.label_) for e in nlp(Doc(nlp.vocab, words=words)).ents]
    nlp.to_disk(tmp_path / "ner")
    shutil.rmtree(folder)
    loaded = spacy.load(tmp_path / "ner")
    assert [(e.start, e.end, e.label_) for e in loaded(Doc(loaded.vocab, words=words)).ents] == expected
    gazetteer = next(node for node in loaded.get_pipe("senna_ner").model.walk() if node.name == "senna_gazetteer")
    assert gazetteer.attrs["classes"] == ["LOC", "PER"] and gazetteer.attrs["entries"]["LOC"] == ["new york", "zurich"]


def test_gazetteer_dropout_hides_whole_matches_in_training_only(gazetteer_files):
    nlp = spacy.blank("en")
    layer = SennaGazetteerEmbed(gazetteer_files, width=3, dropout=0.5)
    layer.initialize()
    doc = Doc(nlp.vocab, words=["New", "York", "City", "and", "Zurich"] * 40)
    numpy.random.seed(0)
    flags = gazetteer_flags(layer, doc, dropout=0.5)[:, 0].reshape((40, 5))
    kept = flags[:, 0]
    assert 5 < kept.sum() < 35  # about half the matches are hidden ...
    assert (flags[:, :3] == kept[:, None]).all()  # ... each one whole
    predicted = layer.predict([doc])[0]  # inference: nothing hidden
    assert numpy.allclose(predicted[0], predicted[5 * 39])
    Y, _ = layer.begin_update([doc])
    assert not all(numpy.allclose(Y[0][0], Y[0][5 * i]) for i in range(40))
    with pytest.raises(ValueError, match="gazetteer dropout"):
        SennaGazetteerEmbed(gazetteer_files, dropout=1.0)


def test_feature_lookups_keep_no_state_per_word():
    """A long stream of new words does not grow the tables (docs_features keeps nothing
    between batches), and its rows are texts_features' for each token."""
    from spacy_senna.features import FeatureTables

    tables = FeatureTables(["the", "cat", "000"], ["he", "at"])
    nlp = spacy.blank("en")
    sizes = {name: len(value) for name, value in vars(tables).items() if isinstance(value, (dict, list))}
    docs = [Doc(nlp.vocab, words=[f"word{i}", "The", "cat", "1984", "x" * (1 + i % 3)]) for i in range(2000)]
    rows = tables.docs_features(docs)
    assert rows.shape == (10_000, 3) and rows.dtype == numpy.int32
    texts = [token.text for doc in docs for token in doc]
    assert (rows == tables.texts_features(texts)).all()
    assert {name: len(value) for name, value in vars(tables).items() if isinstance(value, (dict, list))} == sizes
    assert tables.docs_features([]).shape == (0, 3)


def test_orth_cache_is_bounded(monkeypatch):
    import spacy_senna.features as features

    monkeypatch.setattr(features, "_MAX_CACHE", 100)
    strings = spacy.blank("en").vocab.strings
    cache: dict = {}
    for start in range(0, 1000, 50):
        orths = [strings.add(f"w{i}") for i in range(start, start + 50)]
        assert features.cached_by_orth(cache, orths, strings, len) == [len(f"w{i}") for i in range(start, start + 50)]
        assert len(cache) <= 100 + 50
