"""Tests for spacy_senna.constituency: the tree as doc.spans["constituents"] and its Span extensions."""
import pickle

import pytest
from spacy import displacy
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from spacy_senna.constituency import CONSTITUENTS_KEY, doc_constituents, doc_senna_column, set_constituents

WORDS = ["The", "cat", "sat", "on", "the", "mat", "."]
TAGS = ["DT", "NN", "VBD", "IN", "DT", "NN", "."]
TREE = [(0, 7, "S"), (0, 2, "NP"), (2, 6, "VP"), (3, 6, "PP"), (4, 6, "NP")]
PARSE = "(S (NP (DT The) (NN cat)) (VP (VBD sat) (PP (IN on) (NP (DT the) (NN mat)))) (. .))"


@pytest.fixture
def doc():
    doc = Doc(Vocab(), words=WORDS, tags=TAGS)
    set_constituents(doc, list(reversed(TREE)))  # any order in, pre-order stored
    return doc


def test_span_group_in_pre_order(doc):
    assert doc_constituents(doc) == TREE
    assert [span.label_ for span in doc.spans[CONSTITUENTS_KEY]] == ["S", "NP", "VP", "PP", "NP"]


def test_extensions(doc):
    sentence = doc[:]
    assert sentence._.labels == ("S",)
    assert sentence._.parse_string == PARSE
    assert sentence._.parent is None
    assert [(c.text, c._.labels) for c in sentence._.children] == [("The cat", ("NP",)), ("sat on the mat", ("VP",)), (".", ())]
    vp = doc[2:6]
    assert vp._.parent == sentence
    assert [c.text for c in vp._.children] == ["sat", "on the mat"]
    assert doc[4:6]._.parent == doc[3:6]
    assert doc[1:3]._.labels == ()  # not a constituent
    assert doc[5:6]._.parent == doc[4:6]
    assert [(c.start, c.end) for c in sentence._.constituents] == [
        (0, 7), (0, 2), (0, 1), (1, 2), (2, 6), (2, 3), (3, 6), (3, 4), (4, 6), (4, 5), (5, 6), (6, 7)
    ]
    assert doc[3:6]._.parse_string == "(PP (IN on) (NP (DT the) (NN mat)))"


def test_unary_chain(doc):
    set_constituents(doc, TREE + [(2, 6, "S")])  # an S over the VP, then split again
    assert doc[2:6]._.labels == ("VP", "S")  # the given order of a chain is kept
    set_constituents(doc, [(0, 7, "S"), (0, 7, "VP"), (0, 2, "NP")])
    assert doc[:]._.labels == ("S", "VP")
    assert doc[:]._.parse_string.startswith("(S (VP (NP (DT The) (NN cat)) (VBD sat)")
    assert doc[0:2]._.parent == doc[:]


def test_no_tags_and_no_tree():
    doc = Doc(Vocab(), words=["a", "b"])
    assert doc[:]._.parse_string == "(S1 (XX a) (XX b))"
    assert doc[:]._.labels == () and doc[:]._.parent is None
    assert [c.text for c in doc[:]._.children] == ["a", "b"]


def test_survives_docbin_bytes_disk_and_pickle(doc, tmp_path):
    vocab = Vocab()
    copies = [
        next(DocBin(docs=[doc]).from_bytes(DocBin(docs=[doc]).to_bytes()).get_docs(vocab)),
        Doc(vocab).from_bytes(doc.to_bytes()),
        pickle.loads(pickle.dumps(doc)),
    ]
    doc.to_disk(tmp_path / "doc")
    copies.append(Doc(vocab).from_disk(tmp_path / "doc"))
    for copy in copies:
        assert doc_constituents(copy) == TREE
        assert copy[:]._.parse_string == PARSE


def test_displacy_span_style(doc):
    html = displacy.render(doc, style="span", options={"spans_key": CONSTITUENTS_KEY})
    for label in ("S", "NP", "VP", "PP"):
        assert f">{label}<" in html.replace(" ", "").replace("\n", "")


def test_senna_column(doc):
    assert doc_senna_column(doc) == ["(S1(S(NP*", "*)", "(VP*", "(PP*", "(NP*", "*)))", "*))"]
    # one sentence of a longer doc: its own tokens only
    assert doc_senna_column(doc, 2, 6) == ["(S1(VP*", "(PP*", "(NP*", "*))))"]
