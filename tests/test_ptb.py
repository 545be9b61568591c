"""Tests for the PTB tree format: reading .mrg files, folders and archives, `convert --format ptb`."""
import gzip
import io
import tarfile
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_senna.cli import app
from spacy_senna.constituency import doc_constituents
from spacy_senna.readers import ConllCorpus, SennaFormatError, read_docs, read_ptb_sentences

runner = CliRunner()
FIRST = """( (S
    (NP-SBJ (DT The) (NN cat) )
    (VP (VBD sat)
      (NP (-NONE- *T*-1) ))
    (. .) ))
"""
SECOND = "( (FRAG (NP (NNP Yes)) (. .)))\n"


def write_archive(path: Path, files) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode("utf8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_read_mrg_file(tmp_path):
    path = tmp_path / "wsj_0001.mrg"
    path.write_text(FIRST + SECOND)
    sentences = list(read_ptb_sentences(path))
    assert [s.words for s in sentences] == [("The", "cat", "sat", "."), ("Yes", ".")]
    assert [s.line for s in sentences] == [1, 6]
    assert sentences[0].constituents == ((0, 4, "S"), (0, 2, "NP"), (2, 3, "VP"))


def test_read_folder_archive_and_gzip_alike(tmp_path):
    folder = tmp_path / "wsj" / "00"
    folder.mkdir(parents=True)
    (folder / "wsj_0001.mrg").write_text(FIRST)
    (folder / "wsj_0002.mrg").write_text(SECOND)
    (folder / "README").write_text("not a tree")
    archive = write_archive(tmp_path / "trees.tar.gz", {"wsj/00/wsj_0002.mrg": SECOND, "wsj/00/wsj_0001.mrg": FIRST})
    gz = tmp_path / "trees.mrg.gz"
    gz.write_bytes(gzip.compress((FIRST + SECOND).encode()))
    expected = [("The", "cat", "sat", "."), ("Yes", ".")]
    for source in (tmp_path / "wsj", archive, gz):
        assert [s.words for s in read_ptb_sentences(source)] == expected


def test_gold_docs(tmp_path):
    path = tmp_path / "a.mrg"
    path.write_text(FIRST + SECOND)
    docs = list(read_docs(path, "ptb"))
    assert [t.tag_ for t in docs[0]] == ["DT", "NN", "VBD", "."]
    assert doc_constituents(docs[0]) == [(0, 4, "S"), (0, 2, "NP"), (2, 3, "VP")]
    assert docs[1][:]._.parse_string == "(FRAG (NP (NNP Yes)) (. .))"
    examples = list(ConllCorpus(path, "ptb")(spacy.blank("en")))
    assert len(examples) == 2 and not examples[0].predicted.spans


@pytest.mark.parametrize(
    "text,line,problem",
    [
        (FIRST + "( (S (NN a))))\n", 6, "unbalanced brackets: ')' closes no open bracket"),
        ("( (S (NN a)\n", 1, "unbalanced brackets: the tree opened at line 1 is not closed"),
        ("( (S (-NONE- *T*)))\n", 1, "the tree holds only -NONE- elements"),
        ("", None, "no trees found"),
    ],
)
def test_bad_trees(tmp_path, text, line, problem):
    path = tmp_path / "bad.mrg"
    path.write_text(text)
    with pytest.raises(SennaFormatError) as err:
        list(read_ptb_sentences(path))
    assert err.value.line == line
    assert problem in str(err.value)


def test_bad_tree_in_archive_names_the_member(tmp_path):
    archive = write_archive(tmp_path / "t.tar.gz", {"wsj/00/wsj_0001.mrg": FIRST, "wsj/00/wsj_0002.mrg": "(S (NN a)\n"})
    with pytest.raises(SennaFormatError, match=r"t\.tar\.gz:wsj/00/wsj_0002\.mrg, line 1: unbalanced brackets"):
        list(read_ptb_sentences(archive))


def test_not_an_archive(tmp_path):
    path = tmp_path / "fake.tar.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(SennaFormatError, match="fake.tar.gz: cannot read the archive"):
        list(read_ptb_sentences(path))


def test_convert_cli_ptb(tmp_path):
    archive = write_archive(tmp_path / "wsj_trees_00.tar.gz", {"wsj/00/wsj_0001.mrg": FIRST + SECOND})
    result = runner.invoke(app, ["convert", str(archive), str(tmp_path / "out"), "--format", "ptb"])
    assert result.exit_code == 0, result.output
    assert "2 docs (6 tokens)" in result.output
    docs = list(DocBin().from_disk(tmp_path / "out" / "wsj_trees_00.spacy").get_docs(spacy.blank("en").vocab))
    assert doc_constituents(docs[0]) == [(0, 4, "S"), (0, 2, "NP"), (2, 3, "VP")]
    assert docs[0][:]._.parse_string == "(S (NP (DT The) (NN cat)) (VP (VBD sat)) (. .))"


def test_convert_cli_ptb_malformed(tmp_path):
    source = tmp_path / "broken.mrg"
    source.write_text(FIRST + "(S (NN a)))\n")
    result = runner.invoke(app, ["convert", str(source), str(tmp_path / "out"), "-f", "ptb"])
    assert result.exit_code == 1
    assert "broken.mrg, line 6: unbalanced brackets" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "broken.spacy").exists()
