"""The parser in the SENNA drop-in (`-psg`, the PSG column last), `predict`/`evaluate --format
ptb`, and pntl (practNLPTools-lite) running unchanged on `make-senna-dir`."""
import pytest
import spacy
from spacy.tokens import Doc
from thinc.api import fix_random_seed
from typer.testing import CliRunner

from spacy_senna.cli import app
from spacy_senna.cli.make_senna_dir import make_senna_dir, resolve_model
from spacy_senna.constituency import doc_constituents, doc_senna_column

from .test_parser import SMALL, TREES, make_examples
from .test_components import train
from .test_senna_cli import model_dir, sentences_of, srl_model_dir, tag  # noqa: F401  (fixtures)

runner = CliRunner()
PTB = "".join(
    "( " + _tree + " )\n"
    for _tree in (
        "(S (NP (DT The) (NN cat)) (VP (VBD sat) (PP (IN on) (NP (DT the) (NN mat)))) (. .))",
        "(S (VP (VB Look) (PRT (RP up))) (. !))",
    )
)


@pytest.fixture(scope="module")
def parser_dir(tmp_path_factory):
    """A saved tagger + parser pipeline: the parser trained on TREES, the tagger on their tags."""
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_tagger", config=SMALL)
    nlp.add_pipe("senna_parser", config=SMALL)
    train(nlp, make_examples(nlp), n_iter=100)
    path = tmp_path_factory.mktemp("parser_model")
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="module")
def all_tasks_dir(model_dir, srl_model_dir, parser_dir, tmp_path_factory):  # noqa: F811
    """Tagger, chunker, NER, SRL and parser in one pipeline (sourced from the trained ones)."""
    nlp = spacy.load(model_dir)
    nlp.add_pipe("senna_srl", source=spacy.load(srl_model_dir))
    nlp.add_pipe("senna_parser", source=spacy.load(parser_dir))
    path = tmp_path_factory.mktemp("all_tasks")
    nlp.to_disk(path)
    return path


def test_psg_column(parser_dir):
    out, _ = tag(["--model", str(parser_dir), "-usrtokens", "-psg"], "The cat sat on the mat .\n")
    (rows,) = sentences_of(out)
    assert [row[0].strip() for row in rows] == ["The", "cat", "sat", "on", "the", "mat", "."]
    nlp = spacy.load(parser_dir)
    expected = doc_senna_column(nlp(Doc(nlp.vocab, words=[row[0].strip() for row in rows])))
    assert [row[1] for row in rows] == expected
    assert expected == ["(S1(S(NP*", "*)", "(VP*", "(PP*", "(NP*", "*)))", "*))"]  # as trained


def test_psg_column_is_last_by_default(all_tasks_dir):
    out, _ = tag(["--model", str(all_tasks_dir), "-usrtokens"], "The cat chased the dog .\n")
    (rows,) = sentences_of(out)
    widths = {len(row) for row in rows}
    assert len(widths) == 1
    # word, POS, chunk, NER, predicate column, one SRL column per predicate, then the tree
    n_predicates = sum(row[4].strip() != "-" for row in rows)
    assert widths == {6 + n_predicates}
    psg = [row[-1] for row in rows]
    assert psg[0].startswith("(S1") and "".join(psg).count("(") == "".join(psg).count(")")
    assert all("*" in cell for cell in psg)
    explicit, _ = tag(["--model", str(all_tasks_dir), "-usrtokens", "-psg", "-pos"], "The cat chased the dog .\n")
    (chosen,) = sentences_of(explicit)
    assert [(row[1], row[2]) for row in chosen] == [(row[1], row[-1]) for row in rows]  # SENNA's order


def test_predict_and_evaluate_ptb(parser_dir, tmp_path):
    source = tmp_path / "dev.mrg"
    source.write_text(PTB)
    output = tmp_path / "pred.txt"
    result = runner.invoke(app, ["predict", str(parser_dir), str(source), str(output), "--format", "ptb"])
    assert result.exit_code == 0, result.output
    lines = output.read_text().splitlines()
    assert len(lines) == 2 and all(line.startswith("(TOP (") for line in lines)
    assert lines[0] == "(TOP (S (NP (DT The) (NN cat)) (VP (VBD sat) (PP (IN on) (NP (DT the) (NN mat)))) (. .)))"
    result = runner.invoke(app, ["evaluate", str(parser_dir), str(source), "--format", "ptb"])
    assert result.exit_code == 0, result.output
    assert "constituents_f" in result.output


def test_predict_ptb_needs_a_parser(model_dir, tmp_path):  # noqa: F811
    source = tmp_path / "dev.mrg"
    source.write_text(PTB)
    result = runner.invoke(app, ["predict", str(model_dir), str(source), str(tmp_path / "out"), "--format", "ptb"])
    assert result.exit_code == 1
    assert "senna_parser" in result.output and len(result.output.strip().splitlines()) == 1


def test_pntl_runs_unchanged(all_tasks_dir, tmp_path):
    """pntl's Annotator runs `senna-linux64` with no flags and reads word, POS, chunk, NER,
    predicates, one SRL column per predicate, then the tree (verbs = columns - 6)."""
    tools = pytest.importorskip("pntl.tools")
    directory = tmp_path / "senna"
    make_senna_dir(directory, resolve_model(str(all_tasks_dir)))
    annotator = tools.Annotator(senna_dir=str(directory))
    words = "The cat sat on the mat .".split()
    annotations = annotator.get_annoations(words, dep_parse=False)
    assert annotations["words"] == words
    nlp = spacy.load(all_tasks_dir)
    doc = nlp(Doc(nlp.vocab, words=words))
    assert annotations["pos"] == [(t.text, t.tag_) for t in doc]
    # pntl's tree: the PSG column with each '*' replaced by '(POS word)'
    expected = "".join(cell.replace("*", f"({t.tag_} {t.text})") for cell, t in zip(doc_senna_column(doc), doc))
    assert annotations["syntax_tree"] == expected
    assert expected.startswith("(S1(S(NP(")
    assert doc_constituents(doc)[0] == (0, 7, "S")
    assert [frame["V"] for frame in annotations["srl"]] == [t.text for t in doc if t.i in set(_predicates(doc))]


def _predicates(doc):
    from spacy_senna.tasks import SRL

    return SRL.annotation.predicates(doc)
