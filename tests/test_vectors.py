"""Pre-trained vectors: SENNA's layout imported, and the word table started from vectors."""
import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import Adam
from typer.testing import CliRunner

from spacy_senna.cli import app
from spacy_senna.resources import SennaResourceError, read_senna_embeddings

WORDS = ["PADDING", "UNKNOWN", "the", "cat", "sat", "zurich", "00"]


def write_senna_dir(path, words=WORDS, width=4, seed=0):
    """A small folder in SENNA v3's layout (made up here: SENNA's own files are never shipped)."""
    rng = numpy.random.default_rng(seed)
    (path / "hash").mkdir(parents=True)
    (path / "embeddings").mkdir()
    (path / "hash" / "words.lst").write_text("".join(w + "\n" for w in words), encoding="utf8")
    vectors = rng.normal(size=(len(words), width)).round(4)
    lines = [" ".join(str(v) for v in row) for row in vectors]
    (path / "embeddings" / "embeddings.txt").write_text("\n".join(lines) + "\n", encoding="utf8")
    return vectors


def test_read_senna_embeddings(tmp_path):
    vectors = write_senna_dir(tmp_path)
    words, data = read_senna_embeddings(tmp_path)
    assert words == WORDS and numpy.allclose(data, vectors)


def test_senna_files_errors(tmp_path):
    with pytest.raises(SennaResourceError, match="words.lst: file not found"):
        read_senna_embeddings(tmp_path)
    write_senna_dir(tmp_path)
    with (tmp_path / "embeddings" / "embeddings.txt").open("a") as file:
        file.write("1 2 3\n")
    with pytest.raises(SennaResourceError, match="line 8: 3 numbers, but line 1 has 4"):
        read_senna_embeddings(tmp_path)


def test_import_senna_cli_and_training_from_vectors(tmp_path):
    vectors = write_senna_dir(tmp_path / "senna")
    result = CliRunner().invoke(app, ["import-senna", str(tmp_path / "senna"), str(tmp_path / "vectors")])
    assert result.exit_code == 0, result.output
    assert "7 vectors of 4 dimensions" in result.output
    loaded = spacy.load(tmp_path / "vectors")
    assert loaded.vocab.vectors.shape == (7, 4)

    nlp = loaded  # as `[initialize] vectors = "<output dir>"` gives the pipeline its vectors
    tok2vec = {"word_width": 4, "pretrained_vectors": True}
    nlp.add_pipe("senna_tagger", config={"model": {"tok2vec": tok2vec}})
    words = ["The", "cat", "sat", "in", "Zurich"]
    example = Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, tags=["DT", "NN", "VBD", "IN", "NNP"]))
    nlp.initialize(lambda: [example])
    embed = [n for n in nlp.get_pipe("senna_tagger").model.walk() if n.name == "senna_embed"][0]
    tables = embed.attrs["tables"]
    # every vector word joined the vocabulary, with its vector as the starting row
    for i, word in enumerate(WORDS):
        assert numpy.allclose(embed.get_param("W_word")[tables.words.index(word)], vectors[i], atol=1e-4)
    assert "in" in tables.words  # training words not in the vectors are added
    before = embed.get_param("W_word").copy()
    optimizer = nlp.resume_training()
    nlp.update([example], sgd=optimizer)
    assert not numpy.allclose(before, embed.get_param("W_word"))  # fine-tuned, unlike StaticVectors


def test_pretrained_vectors_need_vectors():
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_tagger", config={"model": {"tok2vec": {"pretrained_vectors": True}}})
    example = Example(Doc(nlp.vocab, words=["a"]), Doc(nlp.vocab, words=["a"], tags=["DT"]))
    with pytest.raises(ValueError, match="no vectors"):
        nlp.initialize(lambda: [example])


def test_freeze_pretrained_keeps_the_vector_rows_and_trains_the_rest(tmp_path):
    vectors = write_senna_dir(tmp_path / "senna")
    CliRunner().invoke(app, ["import-senna", str(tmp_path / "senna"), str(tmp_path / "vectors")])
    nlp = spacy.load(tmp_path / "vectors")
    tok2vec = {"word_width": 4, "pretrained_vectors": True, "freeze_pretrained": True}
    nlp.add_pipe("senna_tagger", config={"model": {"tok2vec": tok2vec}})
    words = ["The", "cat", "sat", "in", "Zurich"]
    example = Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, tags=["DT", "NN", "VBD", "IN", "NNP"]))
    nlp.initialize(lambda: [example])
    optimizer = Adam(0.01, L2=0.0)  # the configs' L2; weight decay would shrink every row
    embed = [n for n in nlp.get_pipe("senna_tagger").model.walk() if n.name == "senna_embed"][0]
    tables = embed.attrs["tables"]
    vector_rows = [tables.words.index(word) for word in WORDS[2:]]
    assert embed.attrs["frozen_rows"] == (min(vector_rows), max(vector_rows) + 1)
    before = embed.get_param("W_word").copy()
    for _ in range(5):
        nlp.update([example], sgd=optimizer)
    after = embed.get_param("W_word")
    for i, word in enumerate(WORDS[2:], start=2):
        assert numpy.array_equal(after[tables.words.index(word)], before[tables.words.index(word)])  # kept
        assert numpy.allclose(after[tables.words.index(word)], vectors[i], atol=1e-4)
    assert not numpy.allclose(before[tables.words.index("in")], after[tables.words.index("in")])  # learnt
    nlp.to_disk(tmp_path / "tagger")
    loaded = spacy.load(tmp_path / "tagger")
    embed = [n for n in loaded.get_pipe("senna_tagger").model.walk() if n.name == "senna_embed"][0]
    assert tuple(embed.attrs["frozen_rows"]) == (min(vector_rows), max(vector_rows) + 1)
    kept = embed.get_param("W_word")[vector_rows].copy()
    loaded.update([example], sgd=Adam(0.01, L2=0.0))  # still frozen when training goes on from disk
    assert numpy.array_equal(embed.get_param("W_word")[vector_rows], kept)


def test_a_shared_table_from_vectors_without_build_vocabularies_is_an_error(tmp_path):
    """spaCy's tok2vec component initialises its model from ten docs: without the
    build_vocabularies callback the vectors would silently never reach the table."""
    write_senna_dir(tmp_path / "senna")
    CliRunner().invoke(app, ["import-senna", str(tmp_path / "senna"), str(tmp_path / "vectors")])
    nlp = spacy.load(tmp_path / "vectors")
    embed = {"@architectures": "spacy_senna.SennaEmbed.v1", "word_width": 4, "pretrained_vectors": True}
    nlp.add_pipe("tok2vec", config={"model": embed})
    listener = {"@architectures": "spacy.Tok2VecListener.v1", "width": 14, "upstream": "tok2vec"}
    nlp.add_pipe("senna_tagger", config={"model": {"tok2vec": listener}})
    words = ["The", "cat", "sat"]
    example = Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, tags=["DT", "NN", "VBD"]))
    with pytest.raises(ValueError, match="needs \\[initialize\\] before_init .*build_vocabularies"):
        nlp.initialize(lambda: [example])
