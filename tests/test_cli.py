"""Tests for the spacy-senna command line: convert, predict, evaluate."""
import gzip
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
import spacy
import srsly
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span, SpanGroup
from spacy.vocab import Vocab
from typer.testing import CliRunner

from spacy_senna.cli import app
from spacy_senna.cli.convert import convert, output_stem
from spacy_senna.cli.evaluate import evaluate, per_type_tables, relevant_scores
from spacy_senna.cli.predict import PredictionError, predict
from spacy_senna.readers import read_docs, read_sentences
from spacy_senna.scoring import score_srl
from spacy_senna.srl_format import props_column

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
        if not line_in.strip():
            assert line_out == line_in
            continue
        if line_in.startswith("-DOCSTART-"):  # the same field count as every other line
            assert line_out == f"{line_in}{delimiter}O"
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
    assert lines[0] == "-DOCSTART- -X- -X- O O"
    assert {len(line.split()) for line in lines if line} == {5}  # as conlleval.pl requires
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


def test_evaluate_cli_exclude(model_dir, tmp_path):
    source = str(SAMPLES["conll2003"])
    result = runner.invoke(app, ["evaluate", str(model_dir), source, "-f", "conll2003", "--exclude", "entity_ruler"])
    assert result.exit_code == 1  # the excluded ruler was the NER component: no 100.00
    assert "has no NER component, which --format conll2003 needs (a senna_ner)" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(app, ["evaluate", str(model_dir), source, "-f", "conll2003", "--exclude", "nope"])
    assert result.exit_code == 1
    assert "cannot exclude nope: not in" in result.output


def test_evaluate_cli_malformed(model_dir, tmp_path):
    source = tmp_path / "bad.txt"
    source.write_bytes(b"Oslo NNP I-NP Q-LOC\n")
    result = runner.invoke(app, ["evaluate", str(model_dir), str(source), "-f", "conll2003"])
    assert result.exit_code == 1
    assert "bad.txt, line 1: NE column: prefix 'Q'" in result.output


# -- conll2005 (SRL) -----------------------------------------------------------------------

SRL_SAMPLE = FIXTURES / "sample_conll2005.txt"


class StandInSRL:
    """Deterministic stand-in for senna_srl with given predicates: for each `srl:<i>` group
    already on the doc, A0 = the tokens before i, V = i, A1 = the tokens after i but the last."""

    def __call__(self, doc: Doc) -> Doc:
        for key in [key for key in doc.spans if key.startswith("srl:")]:
            i = int(key[len("srl:") :])
            spans = [Span(doc, i, i + 1, "V")]
            if i > 0:
                spans.insert(0, Span(doc, 0, i, "A0"))
            if i + 1 < len(doc) - 1:
                spans.append(Span(doc, i + 1, len(doc) - 1, "A1"))
            attrs = dict(doc.spans[key].attrs)
            doc.spans[key] = SpanGroup(doc, name=key, attrs=attrs, spans=spans)
        return doc

    def score(self, examples, **kwargs):
        return score_srl(examples, **kwargs)


@Language.factory("senna_test_srl", default_score_weights={"spans_srl_f": 1.0})
def make_test_srl(nlp: Language, name: str) -> StandInSRL:
    return StandInSRL()


@Language.component("senna_test_drop_srl")
def senna_test_drop_srl(doc: Doc) -> Doc:
    """Removes every srl:* group: the pipeline predicted nothing for any predicate."""
    for key in [key for key in doc.spans if key.startswith("srl:")]:
        del doc.spans[key]
    return doc


@pytest.fixture(scope="module")
def srl_nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_test_srl")
    return nlp


@pytest.fixture(scope="module")
def srl_model_dir(srl_nlp: Language, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("srl_model")
    srl_nlp.to_disk(path)
    return path


def expected_stand_in_column(predicate: int, length: int) -> List[str]:
    """The props column StandInSRL gives a predicate."""
    args = [(predicate, predicate + 1, "V")]
    if predicate > 0:
        args.append((0, predicate, "A0"))
    if predicate + 1 < length - 1:
        args.append((predicate + 1, length - 1, "A1"))
    return props_column(args, length)


def read_props_file(path: Path) -> List[List[List[str]]]:
    """A props file as sentences of token rows of whitespace-split columns."""
    sentences, current = [], []
    for line in read_lines(path):
        if line.strip():
            current.append(line.split())
        else:
            sentences.append(current)
            current = []
    assert not current, "the last sentence must end with an empty line"
    return sentences


def test_predict_conll2005(srl_nlp, tmp_path):
    output = tmp_path / "devel.props"
    stats = predict(srl_nlp, SRL_SAMPLE, output, "conll2005", batch_size=2)
    assert (stats.n_sentences, stats.n_tokens) == (3, 27)
    gold = list(read_sentences(SRL_SAMPLE, "conll2005"))
    written = read_props_file(output)
    assert len(written) == len(gold)
    for sentence, rows in zip(gold, written):
        assert len(rows) == len(sentence.rows)
        # the input's TARGET column, then one column per input target
        assert [row[0] for row in rows] == sentence.column(1)
        assert all(len(row) == 1 + len(sentence.predicates) for row in rows)
        for k, (index, _) in enumerate(sentence.predicates):
            column = [row[1 + k] for row in rows]
            assert column == expected_stand_in_column(index, len(rows))
    assert read_lines(output)[14:19] == ["", "-", "-", "-", ""]  # the predicate-less one
    # the output parses back: paste the words in front and read it as conll2005
    pasted = tmp_path / "pasted.txt"
    lines = []
    for sentence, rows in zip(gold, written):
        lines += [" ".join([word, *row]) for word, row in zip(sentence.words, rows)] + [""]
    pasted.write_text("\n".join(lines) + "\n", encoding="utf8")
    docs = list(read_docs(pasted, "conll2005"))
    assert [(s.start, s.end, s.label_) for s in docs[2].spans["srl:4"]] == [
        (0, 4, "A0"),
        (4, 5, "V"),
        (5, 9, "A1"),
    ]
    assert docs[2].spans["srl:6"].attrs == {"predicate": 6, "lemma": "take"}


def test_predict_conll2005_missing_groups(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_test_drop_srl")
    output = tmp_path / "out.props"
    predict(nlp, SRL_SAMPLE, output, "conll2005")
    rows = [row for sentence in read_props_file(output) for row in sentence]
    assert [row[0] for row in rows][:4] == ["-", "-", "-", "approve"]
    assert all(cell == "*" for row in rows for cell in row[1:])
    assert sum(len(row) - 1 for row in rows) == 14 * 3 + 10 * 2


def test_predict_conll2005_gives_gold_predicates(tmp_path):
    seen = []

    @Language.component("senna_test_record_srl")
    def record(doc: Doc) -> Doc:
        seen.append({key: (len(g), dict(g.attrs)) for key, g in doc.spans.items()})
        return doc

    nlp = spacy.blank("en")
    nlp.add_pipe("senna_test_record_srl")
    predict(nlp, SRL_SAMPLE, tmp_path / "out.props", "conll2005")
    assert seen[0] == {
        "srl:3": (0, {"predicate": 3, "lemma": "approve"}),
        "srl:6": (0, {"predicate": 6, "lemma": "say"}),
        "srl:9": (0, {"predicate": 9, "lemma": "meet"}),
    }
    assert seen[1] == {}


def test_predict_conll2005_crossing_prediction(tmp_path):
    @Language.component("senna_test_crossing_srl")
    def crossing(doc: Doc) -> Doc:
        for key in [key for key in doc.spans if key.startswith("srl:")]:
            doc.spans[key] = [Span(doc, 0, 2, "A0"), Span(doc, 1, 3, "A1")]
        return doc

    nlp = spacy.blank("en")
    nlp.add_pipe("senna_test_crossing_srl")
    with pytest.raises(PredictionError, match="sentence at line 1: predicate at token 4: .*crosses"):
        predict(nlp, SRL_SAMPLE, tmp_path / "out.props", "conll2005")
    assert not (tmp_path / "out.props").exists()


def test_predict_cli_conll2005(srl_model_dir, tmp_path):
    output = tmp_path / "pred.props"
    args = ["predict", str(srl_model_dir), str(SRL_SAMPLE), str(output), "-f", "conll2005"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "3 sentences (27 tokens)" in result.output
    assert read_lines(output)[3].split() == ["approve", "(V*)", "*", "*"]


def test_predict_cli_conll2005_malformed(srl_model_dir, tmp_path):
    source = tmp_path / "bad.txt"
    source.write_bytes(b"Dogs - *\nbark bark (V*)\n\nCats - *)\nmeow meow (V*)\n")
    args = ["predict", str(srl_model_dir), str(source), str(tmp_path / "o"), "-f", "conll2005"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "bad.txt, line 4: props column 1 (predicate 'meow', token 2): cell '*)'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_evaluate_conll2005(srl_nlp):
    scores = evaluate(srl_nlp, SRL_SAMPLE, "conll2005")
    # right: only "say" in the first sentence (A0 and A1); see StandInSRL
    assert scores["spans_srl_p"] == pytest.approx(2 / 10)
    assert scores["spans_srl_r"] == pytest.approx(2 / 14)
    assert scores["spans_srl_f"] == pytest.approx(1 / 6)
    assert scores["srl_pred_f"] == 1.0
    keys = [key for key, _ in relevant_scores(scores, "conll2005")]
    assert {"spans_srl_p", "spans_srl_r", "spans_srl_f"} <= set(keys) and keys[-1] == "speed"
    assert "srl_pred_f" in keys
    assert "spans_srl_per_type" in per_type_tables(scores, "conll2005")
    bare = evaluate(srl_nlp, SRL_SAMPLE, "conll2005", given_predicates=False)
    assert bare["srl_pred_r"] == 0.0 and bare["spans_srl_r"] == 0.0


def test_evaluate_cli_conll2005(srl_model_dir, tmp_path):
    output = tmp_path / "scores.json"
    args = ["evaluate", str(srl_model_dir), str(SRL_SAMPLE), "-f", "conll2005", "-o", str(output)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "spans_srl_f" in result.output and "spans_srl_per_type" in result.output
    assert "16.67" in result.output  # spans_srl_f
    assert srsly.read_json(output)["srl_pred_f"] == 1.0


def test_convert_cli_conll2005(tmp_path):
    result = runner.invoke(app, ["convert", str(SRL_SAMPLE), str(tmp_path), "-f", "conll2005"])
    assert result.exit_code == 0, result.output
    assert "3 docs (27 tokens)" in result.output
    docs = list(DocBin().from_disk(tmp_path / "sample_conll2005.spacy").get_docs(Vocab()))
    assert list(docs[0].spans.keys()) == ["srl:3", "srl:6", "srl:9"]
    assert docs[0].spans["srl:3"].attrs == {"predicate": 3, "lemma": "approve"}
    assert [s.label_ for s in docs[0].spans["srl:3"]] == ["A0", "R-A0", "V", "A1"]
    assert docs[1].user_data["srl_annotated"] is True


# -- output files: atomic for regular files, in place for the rest ---------------------------


def half_written_then_full_disk(self, path, *args, **kwargs):
    """Stand-in for DocBin.to_disk on a full disk: half a file, then ENOSPC."""
    Path(path).write_bytes(b"\x93half a DocBin")
    raise OSError(28, "No space left on device")


def test_convert_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    args = ["convert", str(SAMPLES["wsj"]), str(tmp_path), "-f", "wsj"]
    assert runner.invoke(app, args).exit_code == 0
    output = tmp_path / "sample_wsj.spacy"
    good = output.read_bytes()
    monkeypatch.setattr(DocBin, "to_disk", half_written_then_full_disk)
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert f"cannot write to {tmp_path}: [Errno 28] No space left on device" in result.output
    assert output.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample_wsj.spacy"]  # no temp file left


def test_convert_brown_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    from .test_brown import write_brown_zip

    source = write_brown_zip(tmp_path / "brown.zip")
    args = ["convert-brown", str(source), str(tmp_path / "corpus")]
    assert runner.invoke(app, args).exit_code == 0
    good = (tmp_path / "corpus" / "brown.spacy").read_bytes()
    monkeypatch.setattr(DocBin, "to_disk", half_written_then_full_disk)
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert (tmp_path / "corpus" / "brown.spacy").read_bytes() == good
    assert [p.name for p in (tmp_path / "corpus").iterdir()] == ["brown.spacy"]


def test_predict_failure_keeps_the_old_output(tmp_path):
    output = tmp_path / "out.txt"
    output.write_text("old\n")
    with pytest.raises(PredictionError):
        predict(spacy.blank("en"), SAMPLES["wsj"], output, "wsj")
    assert output.read_text() == "old\n" and list(tmp_path.iterdir()) == [output]


def test_predict_through_a_symlink_keeps_the_link(nlp, tmp_path):
    target, link = tmp_path / "real.txt", tmp_path / "link.txt"
    target.write_text("old\n")
    link.symlink_to(target)
    predict(nlp, SAMPLES["wsj"], link, "wsj")
    assert link.is_symlink() and len(read_lines(target)) == len(read_lines(SAMPLES["wsj"]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "real.txt"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_predict_to_a_fifo_writes_to_its_reader(nlp, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    predict(nlp, SAMPLES["wsj"], fifo, "wsj")
    out, _ = reader.communicate(timeout=60)
    assert out.decode("utf8").splitlines()[0] == "Shares\tNNS\tNNP"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("output", ["-", "/dev/stdout"])
def test_predict_cli_to_stdout(ner_model_dir, output):
    source = str(SAMPLES["conll2003"])
    command = [sys.executable, "-m", "spacy_senna", "predict", str(ner_model_dir), source, output]
    result = subprocess.run([*command, "-f", "conll2003"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["-DOCSTART- -X- -X- O O", ""] and len(lines) == len(read_lines(SAMPLES["conll2003"]))
    assert "Tagged 3 sentences" in result.stderr
    assert Path("/dev/stdout").exists()


# -- a model without the format's task ------------------------------------------------------


@pytest.fixture(scope="module")
def ner_model_dir(tmp_path_factory) -> Path:
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns(ENTITY_PATTERNS)
    path = tmp_path_factory.mktemp("ner_model")
    nlp.to_disk(path)
    return path


@pytest.mark.parametrize(
    "command,fmt,source,expected",
    [
        ("evaluate", "wsj", SAMPLES["wsj"], "has no POS tagging component, which --format wsj needs (a senna_tagger)"),
        ("evaluate", "conll2005", SRL_SAMPLE, "has no SRL component, which --format conll2005 needs (a senna_srl)"),
        ("predict", "conll2005", SRL_SAMPLE, "has no SRL component, which --format conll2005 needs (a senna_srl)"),
        ("predict", "conll2000", SAMPLES["conll2000"], "(a senna_chunker); its pipeline: entity_ruler"),
    ],
)
def test_model_without_the_task_is_refused(ner_model_dir, tmp_path, command, fmt, source, expected):
    args = [command, str(ner_model_dir), str(source)]
    args += [str(tmp_path / "out")] if command == "predict" else []
    result = runner.invoke(app, [*args, "-f", fmt])
    assert result.exit_code == 1
    assert expected in result.output and "100.00" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


# -- broken models and outputs: one line, no traceback ---------------------------------------


def broken_copy(model_dir: Path, tmp_path: Path, relative: str, content: bytes) -> Path:
    """A copy of the pipeline folder with one file replaced by `content`."""
    copy = tmp_path / "broken_model"
    shutil.copytree(model_dir, copy)
    (copy / relative).write_bytes(content)
    return copy


@pytest.mark.parametrize(
    "relative,content,cause",
    [
        ("config.cfg", b"[nlp\nlang = en\n", "cannot load model"),
        ("config.cfg", b"\x00" * 64, "cannot load model"),
        ("config.cfg", b"", "cannot load model"),
        ("vocab/strings.json", b'["Oslo", ', "cannot load model"),
        ("vocab/strings.json", b"\x00\x00\x00", "cannot load model"),
        ("entity_ruler/patterns.jsonl", b'{"label": "LOC", "pattern"', "cannot load model"),
        ("meta.json", b"{not json", "cannot load model"),
    ],
)
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_broken_model_is_one_line(model_dir, tmp_path, relative, content, cause, command):
    broken = broken_copy(model_dir, tmp_path, relative, content)
    args = [command, str(broken), str(SAMPLES["conll2003"])]
    args += [str(tmp_path / "out")] if command == "predict" else []
    result = runner.invoke(app, [*args, "-f", "conll2003"])
    assert result.exit_code == 1, result.output
    assert f"{cause} {broken}: " in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_factory_is_one_line(model_dir, tmp_path):
    config = (model_dir / "config.cfg").read_text().replace('factory = "entity_ruler"', 'factory = "no_such_factory"')
    broken = broken_copy(model_dir, tmp_path, "config.cfg", config.encode())
    result = runner.invoke(app, ["evaluate", str(broken), str(SAMPLES["conll2003"]), "-f", "conll2003"])
    assert result.exit_code == 1
    assert f"cannot load model {broken}: " in result.output and "no_such_factory" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_evaluate_cli_unwritable_output(model_dir, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    args = ["evaluate", str(model_dir), str(SAMPLES["conll2003"]), "-f", "conll2003", "-o", str(blocker / "s.json")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert f"cannot write the scores to {blocker / 's.json'}: " in result.output
    assert "Traceback" not in result.output


def test_version():
    from spacy_senna import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"spacy-senna {__version__}"


def test_cli_loads_without_the_resource_module():
    """`resource` is POSIX only: the CLI must import without it (Windows)."""
    code = "import sys; sys.modules['resource'] = None; import spacy_senna.cli; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


# -- build-vocab -------------------------------------------------------------------------


def test_build_vocab_reads_jsonl_gz(tmp_path):
    source = tmp_path / "texts.jsonl.gz"
    srsly.write_gzip_jsonl(source, [{"text": "The cat sat ."}, {"text": "The 12 dogs"}])
    result = runner.invoke(app, ["build-vocab", str(tmp_path / "words.lst"), str(source)])
    assert result.exit_code == 0, result.output
    assert read_lines(tmp_path / "words.lst")[:3] == ["PADDING", "UNKNOWN", "the"]
    assert "00" in read_lines(tmp_path / "words.lst")


@pytest.mark.parametrize(
    "name,content,expected",
    [
        ("bad.txt", b"caf\xe9 au lait\n", "bad.txt, line 1: not valid UTF-8"),
        ("bad.jsonl", b'{"text": "ok"}\n{"text": \n', "bad.jsonl, line 2: not valid JSON"),
        ("bad.jsonl", b'{"text": "ok"}\n["a list"]\n', 'bad.jsonl, line 2: expected a JSON object with a "text" string'),
        ("bad.txt.gz", gzip.compress(b"many words here\n" * 200)[:-30], "cannot read the file: Compressed file ended"),
        ("bad.jsonl.gz", b"not gzip at all", "bad.jsonl.gz, line 1: cannot read the file"),
        ("folder", None, "folder: is a directory"),
        ("missing.txt", "missing", "missing.txt: file not found"),
    ],
)
def test_build_vocab_bad_input_is_one_line(tmp_path, name, content, expected):
    source = tmp_path / name
    if content is None:
        source.mkdir()
    elif isinstance(content, bytes):
        source.write_bytes(content)
    output = tmp_path / "words.lst"
    output.write_text("PADDING\nUNKNOWN\nold\n")
    result = runner.invoke(app, ["build-vocab", str(output), str(source)])
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]  # after the progress bar on stderr
    assert expected in last and "Aborted" not in result.output and "Traceback" not in result.output
    assert output.read_text() == "PADDING\nUNKNOWN\nold\n"


# -- make-senna-dir ----------------------------------------------------------------------


def test_make_senna_dir_refuses_a_real_senna_install(model_dir, tmp_path):
    from spacy_senna.cli.make_senna_dir import MARKER

    senna = tmp_path / "senna"
    senna.mkdir()
    (senna / "senna-linux64").write_bytes(b"\x7fELF the real SENNA")
    (senna / "README.txt").write_text("SENNA v3.0\n")
    args = ["make-senna-dir", str(senna), "--model", str(model_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "is not empty and was not written by make-senna-dir (README.txt, senna-linux64)" in result.output
    assert "--force" in result.output and len(result.output.strip().splitlines()) == 1
    assert (senna / "senna-linux64").read_bytes() == b"\x7fELF the real SENNA"
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
    assert (senna / "senna-linux64").read_text().startswith("#!/bin/sh")
    assert (senna / MARKER).is_file()
    assert runner.invoke(app, args).exit_code == 0  # its own directory: rewritten freely


def test_make_senna_dir_into_a_file(model_dir, tmp_path):
    (tmp_path / "f").write_text("")
    result = runner.invoke(app, ["make-senna-dir", str(tmp_path / "f"), "--model", str(model_dir)])
    assert result.exit_code == 1 and "is a file, not a directory" in result.output


def test_convert_into_a_file(tmp_path):
    (tmp_path / "taken").write_text("")
    result = runner.invoke(app, ["convert", str(SAMPLES["wsj"]), str(tmp_path / "taken"), "-f", "wsj"])
    assert result.exit_code == 1 and "taken is a file, not a folder" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_import_senna_into_a_file(tmp_path):
    senna = tmp_path / "senna"
    (senna / "hash").mkdir(parents=True)
    (senna / "embeddings").mkdir()
    (senna / "hash" / "words.lst").write_text("a\nb\n")
    (senna / "embeddings" / "embeddings.txt").write_text("0.1 0.2\n0.3 0.4\n")
    (tmp_path / "taken").write_text("")
    result = runner.invoke(app, ["import-senna", str(senna), str(tmp_path / "taken" / "out")])
    assert result.exit_code == 1 and f"cannot write {tmp_path / 'taken' / 'out'}: " in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def _gold_corpus(path: Path, n_docs: int) -> List[List[str]]:
    """A .spacy corpus of `n_docs` sentences, each with a wrong gold entity ("left" as ORG)."""
    vocab = Vocab()
    sentences = [["Maria", "Berg", "left", "Oslo", "on", str(i)] for i in range(n_docs)]
    store = DocBin()
    for words in sentences:
        doc = Doc(vocab, words=words)
        doc.ents = [Span(doc, 2, 3, label="ORG")]
        store.add(doc)
    store.to_disk(path)
    return sentences


def test_label_silver_writes_the_teachers_annotation_of_the_words(model_dir: Path, nlp: Language, tmp_path: Path):
    sentences = _gold_corpus(tmp_path / "gold.spacy", 3)
    result = runner.invoke(app, ["label-silver", str(model_dir), str(tmp_path / "gold.spacy"), str(tmp_path / "silver.spacy")])
    assert result.exit_code == 0, result.output
    assert "3 docs, 18 words" in result.output
    silver = list(DocBin().from_disk(tmp_path / "silver.spacy").get_docs(nlp.vocab))
    assert [[t.text for t in doc] for doc in silver] == sentences
    for doc in silver:
        teacher = nlp(Doc(nlp.vocab, words=[t.text for t in doc]))
        assert [(e.start, e.end, e.label_) for e in doc.ents] == [(e.start, e.end, e.label_) for e in teacher.ents]
        assert ("Maria Berg", "PER") in [(e.text, e.label_) for e in doc.ents]  # the teacher's, not the gold ORG
        assert [t.tag_ for t in doc] == [expected_tag(t.text) for t in doc]
        assert [(s.start, s.end) for s in doc.spans["chunks"]] == [(s.start, s.end) for s in teacher.spans["chunks"]]


def test_label_silver_max_docs_draws_in_corpus_order(model_dir: Path, nlp: Language, tmp_path: Path):
    sentences = _gold_corpus(tmp_path / "gold.spacy", 20)
    drawn = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.spacy"
        result = runner.invoke(app, ["label-silver", str(model_dir), str(tmp_path / "gold.spacy"), str(out), "--max-docs", "5", "--seed", "3"])
        assert result.exit_code == 0, result.output
        drawn.append([[t.text for t in doc] for doc in DocBin().from_disk(out).get_docs(nlp.vocab)])
    assert drawn[0] == drawn[1] and len(drawn[0]) == 5
    positions = [sentences.index(words) for words in drawn[0]]
    assert positions == sorted(positions)


def test_label_silver_bad_input_is_one_line_naming_it(model_dir: Path, tmp_path: Path):
    garbage = tmp_path / "garbage.spacy"
    garbage.write_bytes(b"not a docbin")
    empty = tmp_path / "empty.spacy"
    DocBin().to_disk(empty)
    for source, expected in ((garbage, "garbage.spacy: cannot read it"), (tmp_path / "missing.spacy", "missing.spacy"), (empty, "no docs to label")):
        result = runner.invoke(app, ["label-silver", str(model_dir), str(source), str(tmp_path / "out.spacy")])
        assert result.exit_code == 1 and expected in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not (tmp_path / "out.spacy").exists()
    no_model = runner.invoke(app, ["label-silver", str(tmp_path / "no_model"), str(empty), str(tmp_path / "out.spacy")])
    assert no_model.exit_code == 1 and "cannot load model" in no_model.output
