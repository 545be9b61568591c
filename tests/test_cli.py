"""Tests for the spacy-senna command line: convert, predict, evaluate."""
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
import spacy
import srsly
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from typer.testing import CliRunner

from spacy_senna.cli import app
from spacy_senna.cli.convert import convert, output_stem
from spacy_senna.cli.evaluate import evaluate, per_type_tables, relevant_scores
from spacy_senna.cli.predict import PredictionError, predict

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = {
    "wsj": FIXTURES / "sample_wsj.tsv",
    "conll2000": FIXTURES / "sample_conll2000.txt",
    "conll2003": FIXTURES / "sample_conll2003.txt",
}
ENTITY_PATTERNS = [
    {"label": "LOC", "pattern": "Oslo"},
    {"label": "PER", "pattern": [{"TEXT": "Maria"}, {"TEXT": "Berg"}]},
    {"label": "LOC", "pattern": "Norway"},
    {"label": "LOC", "pattern": "Sweden"},
    {"label": "PER", "pattern": [{"TEXT": "Tom"}, {"TEXT": "Hale"}]},
]  # finds 5 of the sample's 7 entities (not "Nordic Ski Club", not "Danish") and nothing wrong

runner = CliRunner()


@Language.component("senna_test_annotator")
def senna_test_annotator(doc: Doc) -> Doc:
    """Deterministic stand-in for a tagger and chunker: NNP/XX tags, capitalised runs as NPs."""
    for token in doc:
        token.tag_ = "NNP" if token.text[:1].isupper() else "XX"
    chunks: List[Span] = []
    start = None
    for i, token in enumerate(list(doc) + [None]):
        capitalised = token is not None and token.text[:1].isupper()
        if capitalised and start is None:
            start = i
        elif not capitalised and start is not None:
            chunks.append(Span(doc, start, i, label="NP"))
            start = None
    doc.spans["chunks"] = chunks
    return doc


def expected_tag(word: str) -> str:
    """The tag senna_test_annotator gives `word`."""
    return "NNP" if word[:1].isupper() else "XX"


@pytest.fixture(scope="module")
def nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_test_annotator")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(ENTITY_PATTERNS)
    return nlp


@pytest.fixture(scope="module")
def model_dir(nlp: Language, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model")
    nlp.to_disk(path)
    return path


def read_lines(path: Path) -> List[str]:
    """A file's lines without line endings."""
    return path.read_text(encoding="utf8").splitlines()


def test_python_m_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "spacy_senna", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    for command in ("convert", "predict", "evaluate"):
        assert command in result.stdout


@pytest.mark.parametrize(
    "name,stem",
    [
        ("wsj_train.tsv.gz", "wsj_train"),
        ("train.txt", "train"),
        ("eng.testa", "eng.testa"),
        ("eng.train.gz", "eng.train"),
        ("sample.txt.gz", "sample"),
    ],
)
def test_output_stem(name, stem):
    assert output_stem(Path("some/dir") / name) == stem


def test_convert_cli(tmp_path):
    result = runner.invoke(
        app, ["convert", str(SAMPLES["conll2003"]), str(tmp_path / "out"), "--format", "conll2003"]
    )
    assert result.exit_code == 0, result.output
    assert "3 docs (21 tokens)" in result.output
    output = tmp_path / "out" / "sample_conll2003.spacy"
    assert sorted(p.name for p in output.parent.iterdir()) == [output.name]
    docs = list(DocBin().from_disk(output).get_docs(spacy.blank("en").vocab))
    assert [len(doc) for doc in docs] == [10, 7, 4]
    assert [doc.user_data["senna_doc_id"] for doc in docs] == [0, 0, 1]
    assert [(e.start, e.end, e.label_) for e in docs[1].ents] == [
        (0, 1, "LOC"),
        (1, 2, "LOC"),
        (3, 4, "MISC"),
    ]
    assert [(s.start, s.end, s.label_) for s in docs[1].spans["chunks"]][:2] == [
        (0, 1, "NP"),
        (1, 2, "NP"),
    ]
    assert [t.tag_ for t in docs[2]] == ["NNP", "NNP", "VBD", "."]


def test_convert_cli_hold_out(tmp_path):
    source = str(SAMPLES["conll2000"])
    args = ["convert", source, str(tmp_path), "-f", "conll2000", "--hold-out", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    vocab = spacy.blank("en").vocab
    train = list(DocBin().from_disk(tmp_path / "sample_conll2000.spacy").get_docs(vocab))
    heldout = list(DocBin().from_disk(tmp_path / "sample_conll2000.heldout.spacy").get_docs(vocab))
    assert [doc.text for doc in train] == [
        "Shares of the small bank rose sharply .",
        "It has been sold .",
    ]
    assert [doc.text for doc in heldout] == ["Prices fell ."]
    assert "2 docs (13 tokens)" in result.output and "1 docs (3 tokens)" in result.output


def test_convert_gzip(tmp_path):
    import gzip

    source = tmp_path / "wsj_dev.tsv.gz"
    source.write_bytes(gzip.compress(SAMPLES["wsj"].read_bytes()))
    written = convert(source, tmp_path / "out", "wsj")
    assert [(w.path.name, w.n_docs, w.n_tokens) for w in written] == [("wsj_dev.spacy", 2, 7)]


@pytest.mark.parametrize(
    "content,options,expected",
    [
        (
            b"Shares NNS B-NP\nrose VBD\n",
            [],
            "broken.txt, line 2: expected 3 columns (WORD POS CHUNK), found 2",
        ),
        (b"Shares NNS B-NP\nrose VBD L-VP\n", [], "broken.txt, line 2: CHUNK column: prefix 'L'"),
        (b"caf\xe9 NN B-NP\n", [], "broken.txt, line 1: not valid UTF-8"),
        (b"", [], "broken.txt, line 1: no sentences found"),
        (b"Shares NNS B-NP\n", ["--hold-out", "1"], "broken.txt: has only 1 sentences"),
    ],
)
def test_convert_cli_malformed(tmp_path, content, options, expected):
    source = tmp_path / "broken.txt"
    source.write_bytes(content)
    args = ["convert", str(source), str(tmp_path / "out"), "--format", "conll2000", *options]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert expected in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "broken.spacy").exists()


def test_convert_cli_missing_file(tmp_path):
    result = runner.invoke(app, ["convert", str(tmp_path / "nope.txt"), str(tmp_path), "-f", "wsj"])
    assert result.exit_code == 1
    assert "nope.txt: file not found" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_convert_cli_bad_format(tmp_path):
    result = runner.invoke(app, ["convert", str(SAMPLES["wsj"]), str(tmp_path), "-f", "conll05"])
    assert result.exit_code == 2  # usage error from typer


def check_mirrors_input(input_path: Path, output_path: Path, delimiter: str) -> List[str]:
    """Assert OUTPUT = INPUT line for line plus one column on token lines; return that column."""
    inputs, outputs = read_lines(input_path), read_lines(output_path)
    assert len(outputs) == len(inputs)
    predicted = []
    for line_in, line_out in zip(inputs, outputs):
        if not line_in.strip() or line_in.startswith("-DOCSTART-"):
            assert line_out == line_in
            continue
        head, sep, tag = line_out.rpartition(delimiter)
        assert head == line_in and sep == delimiter and tag
        assert len(line_out.split(delimiter)) == len(line_in.split(delimiter)) + 1
        predicted.append(tag)
    return predicted


def sample_words(fmt: str) -> List[str]:
    """The word column of a sample file."""
    return [
        line.split()[0]
        for line in read_lines(SAMPLES[fmt])
        if line.strip() and not line.startswith("-DOCSTART-")
    ]


def test_predict_wsj(nlp, tmp_path):
    output = tmp_path / "wsj.pred"
    stats = predict(nlp, SAMPLES["wsj"], output, "wsj", batch_size=1)
    assert (stats.n_sentences, stats.n_tokens) == (2, 7)
    tags = check_mirrors_input(SAMPLES["wsj"], output, "\t")
    assert tags == [expected_tag(word) for word in sample_words("wsj")]


def test_predict_conll2000(nlp, tmp_path):
    output = tmp_path / "conll2000.pred"
    predict(nlp, SAMPLES["conll2000"], output, "conll2000")
    tags = check_mirrors_input(SAMPLES["conll2000"], output, " ")
    # IOB2 from the capitalised-run chunks of senna_test_annotator
    assert tags[:8] == ["B-NP", "O", "O", "O", "O", "O", "O", "O"]
    assert tags[8:] == ["B-NP", "O", "O", "O", "O", "B-NP", "O", "O"]


def test_predict_conll2003(nlp, tmp_path):
    output = tmp_path / "sub" / "conll2003.pred"
    predict(nlp, SAMPLES["conll2003"], output, "conll2003")
    tags = check_mirrors_input(SAMPLES["conll2003"], output, " ")
    # IOB1: I- everywhere, B- only for Sweden, which directly follows the LOC Norway
    assert tags[:10] == ["I-LOC", "O", "O", "I-PER", "I-PER", "O", "O", "O", "O", "O"]
    assert tags[10:17] == ["I-LOC", "B-LOC", "O", "O", "O", "O", "O"]
    assert tags[17:] == ["I-PER", "I-PER", "O", "O"]
    lines = read_lines(output)
    assert lines[0] == "-DOCSTART- -X- -X- O"
    assert lines[14] == "Sweden NNP B-NP B-LOC B-LOC"


def test_predict_missing_annotation(tmp_path):
    nlp = spacy.blank("en")
    with pytest.raises(PredictionError, match="sentence at line 1: the pipeline set no token.tag_"):
        predict(nlp, SAMPLES["wsj"], tmp_path / "out.txt", "wsj")
    assert not (tmp_path / "out.txt").exists()
    assert list(tmp_path.iterdir()) == []


def test_predict_cli(model_dir, tmp_path):
    output = tmp_path / "pred.txt"
    args = ["predict", str(model_dir), str(SAMPLES["conll2003"]), str(output), "-f", "conll2003"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "3 sentences (21 tokens)" in result.output
    assert check_mirrors_input(SAMPLES["conll2003"], output, " ")[10:12] == ["I-LOC", "B-LOC"]


def test_predict_cli_errors(model_dir, tmp_path):
    source = tmp_path / "bad.txt"
    source.write_bytes(b"Oslo NNP I-NP\n")
    args = ["predict", str(model_dir), str(source), str(tmp_path / "o.txt"), "-f", "conll2003"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "bad.txt, line 1: expected 4 columns" in result.output
    assert len(result.output.strip().splitlines()) == 1
    no_model = str(tmp_path / "no_model")
    args = ["predict", no_model, str(SAMPLES["wsj"]), str(tmp_path / "o.txt"), "-f", "wsj"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "cannot load model" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_evaluate(nlp):
    scores = evaluate(nlp, SAMPLES["conll2003"], "conll2003")
    assert scores["ents_p"] == 1.0
    assert scores["ents_r"] == pytest.approx(5 / 7)
    assert scores["ents_per_type"]["LOC"]["r"] == 1.0
    assert scores["ents_per_type"]["ORG"]["r"] == 0.0
    keys = [key for key, _ in relevant_scores(scores, "conll2003")]
    assert keys == ["ents_p", "ents_r", "ents_f", "speed"]
    assert [row[0] for row in per_type_tables(scores, "conll2003")["ents_per_type"]] == [
        "LOC",
        "MISC",
        "ORG",
        "PER",
    ]


def test_relevant_scores_falls_back_to_all_numeric():
    scores = {"token_acc": 1.0, "tag_acc": None, "ents_per_type": {}, "speed": 10.0}
    assert relevant_scores(scores, "wsj") == [("token_acc", 1.0), ("speed", 10.0)]
    assert relevant_scores({"tag_acc": 0.5, "token_acc": 1.0}, "wsj") == [("tag_acc", 0.5)]


def test_evaluate_cli(model_dir, tmp_path):
    output = tmp_path / "scores" / "scores.json"
    source = str(SAMPLES["conll2003"])
    args = ["evaluate", str(model_dir), source, "-f", "conll2003", "-o", str(output)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "ents_f" in result.output and "ents_per_type" in result.output
    assert "71.43" in result.output  # ents_r
    scores = srsly.read_json(output)
    assert scores["ents_p"] == 1.0 and "speed" in scores


def test_evaluate_cli_malformed(model_dir, tmp_path):
    source = tmp_path / "bad.txt"
    source.write_bytes(b"Oslo NNP I-NP Q-LOC\n")
    result = runner.invoke(app, ["evaluate", str(model_dir), str(source), "-f", "conll2003"])
    assert result.exit_code == 1
    assert "bad.txt, line 1: NE column: prefix 'Q'" in result.output
