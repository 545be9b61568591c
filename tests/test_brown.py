"""The Brown auxiliary task: its reader, a tagger writing token._.brown_tag, and two taggers
sharing one window network (lookup tables and hidden layer) through listeners."""
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, DocBin, Token
from spacy.training import Example

from spacy_senna.brown import BROWN_TAG, brown_docs, read_brown, simplify_tag
from spacy_senna.cli.convert import convert_brown_cli
from spacy_senna.readers import SennaFormatError

from .test_components import TRAIN_DATA

BROWN_LINES = [
    "\tThe/at Fulton/np-tl County/nn-tl said/vbd Friday/nr ./.",
    "",
    "\tHe/pps won't/md* pay/vb 1/2/cd of/in it/ppo ./.",
]
BROWN_SENTENCES = [
    (["The", "Fulton", "County", "said", "Friday", "."], ["at", "np", "nn", "vbd", "nr", "."]),
    (["He", "won't", "pay", "1/2", "of", "it", "."], ["pps", "md*", "vb", "cd", "in", "ppo", "."]),
]
ENCODER = {
    "@architectures": "spacy_senna.WindowEncoder.v1",
    "hidden_width": 64,
    "embed": {"@architectures": "spacy_senna.SennaEmbed.v1"},
}
LISTENER = {"@architectures": "spacy.Tok2VecListener.v1", "width": 64, "upstream": "tok2vec"}
HEAD = {"window_size": 1, "hidden_width": 0, "tok2vec": LISTENER}


def write_brown_zip(path, lines=BROWN_LINES):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("brown/README", "not a text")
        archive.writestr("brown/ca01", "\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "tag,simple", [("nn-tl", "nn"), ("NP-TL-HL", "np"), ("md*", "md*"), ("-hl", "-hl"), ("ppss+md", "ppss+md")]
)
def test_simplify_tag(tag, simple):
    assert simplify_tag(tag) == simple


def test_read_brown_from_zip_folder_and_file(tmp_path):
    assert list(read_brown(write_brown_zip(tmp_path / "brown.zip"))) == BROWN_SENTENCES
    (tmp_path / "brown").mkdir()
    (tmp_path / "brown" / "ca01").write_text("\n".join(BROWN_LINES))
    (tmp_path / "brown" / "cats.txt").write_text("ca01 news\n")
    assert list(read_brown(tmp_path / "brown")) == BROWN_SENTENCES
    assert list(read_brown(tmp_path / "brown" / "ca01")) == BROWN_SENTENCES


@pytest.mark.parametrize("bad", ["The/at dog ./.", "The/at /nn", "The/at dog/ ./."])
def test_bad_token_names_file_and_line(tmp_path, bad):
    path = write_brown_zip(tmp_path / "brown.zip", ["", "\tFine/jj ./.", "", bad])
    with pytest.raises(SennaFormatError, match=r"brown/ca01, line 4: token .* is not WORD/TAG"):
        list(read_brown(path))


def test_missing_and_empty_inputs(tmp_path):
    with pytest.raises(SennaFormatError, match="file not found"):
        list(read_brown(tmp_path / "nope.zip"))
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as archive:
        archive.writestr("brown/README", "x")
    with pytest.raises(SennaFormatError, match="no Brown text files"):
        list(read_brown(tmp_path / "empty.zip"))


def test_convert_brown_round_trip(tmp_path):
    convert_brown_cli(write_brown_zip(tmp_path / "brown.zip"), tmp_path / "corpus")
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(tmp_path / "corpus" / "brown.spacy").get_docs(nlp.vocab))
    assert [([t.text for t in d], [t._.get(BROWN_TAG) for t in d]) for d in docs] == BROWN_SENTENCES
    assert all(t.tag_ == "" for d in docs for t in d)


def brown_examples(nlp, tmp_path):
    return [Example(Doc(nlp.vocab, words=[t.text for t in d]), d) for d in brown_docs(write_brown_zip(tmp_path / "b.zip"), nlp.vocab)]


def test_extension_tagger_overfits_and_round_trips(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_tagger", name="brown_tagger", config={"extension": BROWN_TAG, "model": {"sentence_level": False}})
    examples = brown_examples(nlp, tmp_path)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(60):
        nlp.update(examples, sgd=optimizer)
    for words, tags in BROWN_SENTENCES:
        doc = nlp(Doc(nlp.vocab, words=words))
        assert [t._.get(BROWN_TAG) for t in doc] == tags
        assert [t.tag_ for t in doc] == [""] * len(words)
    assert nlp.evaluate(examples)["brown_tag_acc"] == 1.0
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert loaded.get_pipe("brown_tagger").extension == BROWN_TAG
    doc = loaded(Doc(loaded.vocab, words=BROWN_SENTENCES[1][0]))
    assert [t._.get(BROWN_TAG) for t in doc] == BROWN_SENTENCES[1][1]
    assert [t._.get(BROWN_TAG) for t in loaded(Doc(loaded.vocab, words=[]))] == []


def test_extension_gold_follows_the_alignment():
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("senna_tagger", config={"extension": BROWN_TAG})
    reference = Doc(nlp.vocab, words=["He", "won't", "pay"])
    for token, tag in zip(reference, ["pps", "md*", "vb"]):
        token._.set(BROWN_TAG, tag)
    example = Example(Doc(nlp.vocab, words=["He", "wo", "n't", "pay"]), reference)
    assert tagger.gold_tags(example) == ["pps", None, None, "vb"]
    assert sorted(tagger.example_labels(example)) == ["md*", "pps", "vb"]


def test_shared_window_network_two_tag_sets(tmp_path):
    """PTB tags and Brown tags from one encoder; each tagger learns only from its own gold."""
    nlp = spacy.blank("en")
    nlp.add_pipe("tok2vec", config={"model": ENCODER})
    nlp.add_pipe("senna_tagger", config={"model": HEAD})
    nlp.add_pipe("senna_tagger", name="brown_tagger", config={"extension": BROWN_TAG, "model": {**HEAD, "sentence_level": False}})
    ptb = [Example(Doc(nlp.vocab, words=w), Doc(nlp.vocab, words=w, tags=t)) for w, t, _, _ in TRAIN_DATA]
    examples = ptb + brown_examples(nlp, tmp_path)
    optimizer = nlp.initialize(lambda: examples)
    assert nlp.get_pipe("senna_tagger").labels == tuple(sorted({t for _, tags, _, _ in TRAIN_DATA for t in tags}))
    assert "at" in nlp.get_pipe("brown_tagger").labels and "DT" not in nlp.get_pipe("brown_tagger").labels
    for _ in range(80):
        nlp.update(examples, sgd=optimizer)
    for words, tags, _, _ in TRAIN_DATA:
        assert [t.tag_ for t in nlp(Doc(nlp.vocab, words=words))] == tags
    for words, tags in BROWN_SENTENCES:
        assert [t._.get(BROWN_TAG) for t in nlp(Doc(nlp.vocab, words=words))] == tags
    # the tables and the hidden layer exist once, in the tok2vec component
    hidden = [node for _, pipe in nlp.pipeline for node in pipe.model.walk() if node.name == "clipped_linear"]
    assert len(hidden) == 1
    nlp.to_disk(tmp_path / "model")
    pos_only = spacy.load(tmp_path / "model", exclude=["brown_tagger"])
    assert pos_only.pipe_names == ["tok2vec", "senna_tagger"]
    assert [t.tag_ for t in pos_only("Angela Merkel visited New York City .")] == TRAIN_DATA[1][1]
    assert [t.tag_ for t in pos_only("")] == []
    # the POS tagger alone, with its own copy of the shared layers (scripts/standalone_component.py)
    script = Path(__file__).resolve().parents[1] / "scripts" / "standalone_component.py"
    run = [sys.executable, str(script), str(tmp_path / "model"), "senna_tagger", str(tmp_path / "pos" / "model-best")]
    assert subprocess.run(run, capture_output=True).returncode == 0
    alone = spacy.load(tmp_path / "pos" / "model-best")
    assert alone.pipe_names == ["senna_tagger"]
    assert [t.tag_ for t in alone("Angela Merkel visited New York City .")] == TRAIN_DATA[1][1]
    bad = subprocess.run(run[:3] + ["brown_taggr", str(tmp_path / "x")], capture_output=True, text=True)
    assert bad.returncode == 1 and "has no 'brown_taggr'" in bad.stdout


def test_encoder_needs_a_hidden_layer():
    from spacy_senna.architectures import build_window_encoder, build_senna_embed

    with pytest.raises(ValueError, match="hidden_width must be positive"):
        build_window_encoder(build_senna_embed(), hidden_width=0)
    assert Token.has_extension(BROWN_TAG)
