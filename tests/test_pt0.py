"""SENNA's PT0 token feature: the IOBES tags of the parse tree's first level (issue 17)."""
import pytest
import spacy
from spacy.tokens import Doc
from thinc.api import fix_random_seed

from spacy_senna.callbacks import create_parser_levels
from spacy_senna.constituency import doc_constituents, set_constituents
from spacy_senna.constituents import tree_levels
from spacy_senna.layers.attr_embed import attr_rows
from spacy_senna.tasks import PSG

from .test_parser import TREES, trained  # noqa: F401 (a fixture)

WORDS, TAGS, TREE = TREES[0]  # The cat sat on the mat .


def tree_doc(vocab, constituents=TREE):
    doc = Doc(vocab, words=WORDS, tags=TAGS)
    set_constituents(doc, constituents)
    return doc


def test_pt0_of_a_tree_is_its_first_level():
    doc = tree_doc(spacy.blank("en").vocab)
    # level 1 holds the phrases of words only: (0, 2) NP and (4, 6) NP
    assert PSG.annotation.feature_tags(doc) == ["B-NP", "E-NP", "O", "O", "B-NP", "E-NP", "O"]
    assert PSG.annotation.feature_tags(doc) == list(tree_levels(len(doc), TREE)[0].tags)
    assert PSG.annotation.feature_tags(Doc(doc.vocab, words=WORDS)) == [""] * len(WORDS)
    assert PSG.annotation.feature_tags(tree_doc(doc.vocab, [])) == ["O"] * len(WORDS)


def test_pt0_rows_follow_the_tree():
    vocab = spacy.blank("en").vocab
    rows = attr_rows(tree_doc(vocab), "pt0", 512).tolist()
    assert rows[0] != rows[1] != rows[2] and rows[2] == rows[3] and rows[:2] == rows[4:6]
    other = attr_rows(tree_doc(vocab, [(0, 7, "S"), (0, 3, "NP")]), "pt0", 512).tolist()
    assert other[:3] != rows[:3] and 0 not in other
    assert attr_rows(Doc(vocab, words=WORDS), "pt0", 512).tolist() == [0] * len(WORDS)


def test_pt0_of_a_one_level_parse_is_that_of_the_whole_tree(trained):  # noqa: F811
    parser = trained.get_pipe("senna_parser")
    whole = trained(Doc(trained.vocab, words=WORDS))
    create_parser_levels(max_levels=1)(trained)
    try:
        first = trained(Doc(trained.vocab, words=WORDS))
    finally:
        parser.cfg["max_levels"] = 0
    assert len(doc_constituents(first)) < len(doc_constituents(whole))
    assert PSG.annotation.feature_tags(first) == PSG.annotation.feature_tags(whole)


def test_a_model_reading_pt0_without_a_parser_is_a_clear_error():
    fix_random_seed(0)
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("senna_tagger", config={"model": {"tok2vec": {"token_features": ["pt0"]}}})
    doc = tree_doc(nlp.vocab)
    tagger.add_label("NN")
    nlp.initialize()
    assert len(tagger(tree_doc(nlp.vocab))) == len(WORDS)
    message = r"\[senna_tagger\] its model reads doc.spans\['constituents'\] but a doc has no constituency parsing annotation: put a senna_parser before senna_tagger"
    with pytest.raises(ValueError, match=message):
        tagger(Doc(doc.vocab, words=WORDS))


def test_parser_levels_callback():
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_parser")
    assert create_parser_levels(max_levels=1)(nlp) is nlp and nlp.get_pipe("senna_parser").cfg["max_levels"] == 1
    with pytest.raises(ValueError, match="the pipeline has no 'parser'"):
        create_parser_levels(component="parser")(nlp)
    with pytest.raises(ValueError, match="max_levels must be 0"):
        create_parser_levels(max_levels=-2)(nlp)
    config = nlp.config.copy()
    config["nlp"]["after_pipeline_creation"] = {"@callbacks": "spacy_senna.parser_levels.v1", "max_levels": 2}
    configured = spacy.util.load_model_from_config(config, auto_fill=True)
    assert configured.get_pipe("senna_parser").cfg["max_levels"] == 2
