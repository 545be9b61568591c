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


# -- the EVALB scorer ----------------------------------------------------------------------
def example_of(words, tags, gold, predicted):
    from spacy.training import Example

    reference = Doc(Vocab(), words=words, tags=tags)
    set_constituents(reference, gold)
    prediction = Doc(reference.vocab, words=words)
    set_constituents(prediction, predicted)
    return Example(prediction, reference)


def test_evalb_brackets_drop_punctuation_and_join_advp_prt():
    from spacy_senna.scoring import evalb_brackets

    # words: The cat sat on the mat .  -> '.' deleted: 6 words
    brackets = evalb_brackets(TREE + [(6, 7, "X"), (2, 4, "PRT")], TAGS)
    assert brackets == {("S", 0, 6): 1, ("NP", 0, 2): 1, ("VP", 2, 6): 1, ("PP", 3, 6): 1, ("NP", 4, 6): 1, ("ADVP", 2, 4): 1}


def test_score_constituents_by_hand():
    from spacy_senna.scoring import score_constituents

    # Example 1. gold: S(0,6) NP(0,2) VP(2,6) PP(3,6) NP(4,6) after deleting '.' (5 brackets).
    # predicted: S(0,7) NP(0,2) VP(2,7) NP(3,6): VP(2,7) is VP(2,6) once '.' is deleted, so
    # S, NP, VP match and NP(3,6) is wrong: 3 of 4 predicted, 3 of 5 gold.
    first = example_of(WORDS, TAGS, TREE, [(0, 7, "S"), (0, 2, "NP"), (2, 7, "VP"), (3, 6, "NP")])
    scores = score_constituents([first])
    assert scores["constituents_p"] == pytest.approx(3 / 4)
    assert scores["constituents_r"] == pytest.approx(3 / 5)
    assert scores["constituents_f"] == pytest.approx(2 * (3 / 4) * (3 / 5) / (3 / 4 + 3 / 5))
    # Example 2. gold: (S (VP (VB Look) (PRT (RP up)))): S, VP (a unary chain: both count), PRT.
    # predicted: S, VP, ADVP(1,2) (= PRT for EVALB) and a wrong NP(0,1): 3 of 4, 3 of 3.
    second = example_of(["Look", "up"], ["VB", "RP"], [(0, 2, "S"), (0, 2, "VP"), (1, 2, "PRT")],
                        [(0, 2, "S"), (0, 2, "VP"), (0, 1, "NP"), (1, 2, "ADVP")])
    scores = score_constituents([second])
    assert (scores["constituents_p"], scores["constituents_r"]) == (pytest.approx(3 / 4), pytest.approx(1.0))
    # together, micro-averaged: 6 correct of 8 predicted and 8 gold
    scores = score_constituents([first, second])
    assert scores["constituents_p"] == pytest.approx(6 / 8)
    assert scores["constituents_r"] == pytest.approx(6 / 8)
    assert scores["constituents_per_type"]["ADVP"] == {"p": 1.0, "r": 1.0, "f": pytest.approx(1.0)}
    assert scores["constituents_per_type"]["NP"]["p"] == pytest.approx(1 / 3)  # NP(0,2) right; NP(3,6), NP(0,1) wrong


def test_score_constituents_counts_a_chain_twice():
    from spacy_senna.scoring import score_constituents

    # gold (NP (NP (NN x))): NP twice; one predicted NP gets half the recall
    scores = score_constituents([example_of(["x"], ["NN"], [(0, 1, "NP"), (0, 1, "NP")], [(0, 1, "NP")])])
    assert (scores["constituents_p"], scores["constituents_r"]) == (pytest.approx(1.0), pytest.approx(0.5))


def test_score_constituents_without_trees():
    from spacy.training import Example

    from spacy_senna.scoring import score_constituents

    doc = Doc(Vocab(), words=["a"])
    assert score_constituents([Example(doc, doc)])["constituents_f"] is None


def test_scorer_is_registered():
    from spacy.util import registry

    from spacy_senna.scoring import score_constituents

    assert registry.scorers.get("spacy_senna.parser_scorer.v1")() is score_constituents
