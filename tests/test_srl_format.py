"""Tests for the CoNLL-2005 SRL format: reading, writing back, errors, and the SRL scorer."""
import gzip
from pathlib import Path
from typing import List, Sequence, Tuple

import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span, SpanGroup
from spacy.training import Example
from spacy.util import registry
from spacy.vocab import Vocab

from spacy_senna.readers import (
    ConllCorpus,
    SennaFormatError,
    read_docs,
    read_sentences,
    sentence_to_doc,
)
from spacy_senna.scoring import score_srl
from spacy_senna.srl_format import (
    SRL_ANNOTATED,
    PropsFormatError,
    mark_predicates,
    merged_arguments,
    parse_cell,
    parse_props_column,
    props_column,
    props_lines,
    srl_predicates,
    srl_props_columns,
)

SAMPLE = Path(__file__).parent / "fixtures" / "sample_conll2005.txt"
DEVEL = "conll2005/conll05.devel.words_props.txt.gz"

Arg = Tuple[int, int, str]


def arguments(group) -> List[Arg]:
    """A span group as (start, end, label) tuples."""
    return [(span.start, span.end, span.label_) for span in group]


def write_bytes(path: Path, content: bytes) -> Path:
    """Write `content` to `path` (gzipped when the name ends in .gz)."""
    path.write_bytes(gzip.compress(content) if path.suffix == ".gz" else content)
    return path


# -- reading -------------------------------------------------------------------------------


def test_read_sample():
    docs = list(read_docs(SAMPLE, "conll2005"))
    assert [len(doc) for doc in docs] == [14, 3, 10]
    first, empty, last = docs
    assert first.text.startswith("The committee that approved the plan said")
    assert all(doc.user_data[SRL_ANNOTATED] is True for doc in docs)
    assert list(first.spans.keys()) == ["srl:3", "srl:6", "srl:9"]
    assert srl_predicates(first) == [3, 6, 9]
    assert first.spans["srl:3"].attrs == {"predicate": 3, "lemma": "approve"}
    assert arguments(first.spans["srl:3"]) == [
        (0, 2, "A0"),
        (2, 3, "R-A0"),
        (3, 4, "V"),
        (4, 6, "A1"),
    ]
    assert arguments(first.spans["srl:6"]) == [(0, 6, "A0"), (6, 7, "V"), (7, 13, "A1")]
    assert arguments(first.spans["srl:9"]) == [
        (7, 8, "A0"),
        (8, 9, "AM-MOD"),
        (9, 10, "V"),
        (10, 11, "AM-ADV"),
        (11, 13, "AM-TMP"),
    ]
    assert first.spans["srl:9"].attrs == {"predicate": 9, "lemma": "meet"}
    assert len(empty.spans) == 0
    assert arguments(last.spans["srl:4"]) == [
        (0, 2, "A1"),
        (3, 4, "A0"),
        (4, 5, "V"),
        (6, 9, "C-A1"),
    ]
    assert [s.text for s in last.spans["srl:4"]] == ["The rule", "officials", "said", "takes effect today"]
    assert last.spans["srl:6"].attrs["lemma"] == "take"
    # no POS column in this format
    assert not first.has_annotation("TAG")


def test_read_sentences_predicates_and_mirror():
    sentences = list(read_sentences(SAMPLE, "conll2005"))
    assert [s.predicates for s in sentences] == [
        [(3, "approve"), (6, "say"), (9, "meet")],
        [],
        [(4, "say"), (6, "take")],
    ]
    assert [len(s.propositions) for s in sentences] == [3, 0, 2]
    rebuilt = []
    for sentence in sentences:
        rebuilt.extend(sentence.lines_before)
        rebuilt.extend(row.text for row in sentence.rows)
        rebuilt.extend(sentence.lines_after)
    assert rebuilt == SAMPLE.read_text(encoding="utf8").splitlines()


def test_sentence_to_doc_parses_unparsed_sentence():
    sentence = next(iter(read_sentences(SAMPLE, "conll2005")))
    doc = sentence_to_doc(sentence.__class__(sentence.rows), "conll2005", Vocab())
    assert list(doc.spans.keys()) == ["srl:3", "srl:6", "srl:9"]


def test_a_predicate_without_arguments_keeps_its_group(tmp_path):
    path = write_bytes(tmp_path / "s.txt", b"Dogs - *\nbark bark *\n. - *\n\n")
    (doc,) = read_docs(path, "conll2005")
    assert list(doc.spans.keys()) == ["srl:1"]
    assert len(doc.spans["srl:1"]) == 0
    assert doc.spans["srl:1"].attrs == {"predicate": 1, "lemma": "bark"}
    assert srl_props_columns(doc) == [["-", "bark", "-"], ["*", "*", "*"]]


def test_whitespace_only_separators_and_gzip(tmp_path):
    text = SAMPLE.read_text(encoding="utf8").replace("\n\n", "\n   \t\n")
    path = write_bytes(tmp_path / "s.txt.gz", text.encode("utf8"))
    expected = [srl_props_columns(doc) for doc in read_docs(SAMPLE, "conll2005")]
    assert [srl_props_columns(doc) for doc in read_docs(path, "conll2005")] == expected


def test_docbin_keeps_groups_attrs_and_flag():
    docs = list(read_docs(SAMPLE, "conll2005"))
    doc_bin = DocBin(store_user_data=True, docs=docs)
    restored = list(DocBin().from_bytes(doc_bin.to_bytes()).get_docs(Vocab()))
    for doc, back in zip(docs, restored):
        assert srl_props_columns(back) == srl_props_columns(doc)
        assert back.user_data[SRL_ANNOTATED] is True
        for key, group in doc.spans.items():
            assert back.spans[key].attrs == group.attrs


def test_corpus_gives_gold_predicates():
    nlp = spacy.blank("en")
    examples = list(ConllCorpus(SAMPLE, "conll2005")(nlp))
    predicted = examples[0].predicted
    assert list(predicted.spans.keys()) == ["srl:3", "srl:6", "srl:9"]
    assert all(len(group) == 0 for group in predicted.spans.values())
    assert predicted.spans["srl:6"].attrs == {"predicate": 6, "lemma": "say"}
    assert SRL_ANNOTATED not in predicted.user_data
    copied = examples[0].copy()  # what nlp.evaluate works on
    assert copied.predicted.spans["srl:6"].attrs == {"predicate": 6, "lemma": "say"}
    assert copied.reference.user_data[SRL_ANNOTATED] is True
    bare = list(ConllCorpus(SAMPLE, "conll2005", given_predicates=False)(nlp))
    assert all(len(eg.predicted.spans) == 0 for eg in bare)
    assert len(bare[0].reference.spans) == 3


def test_registered_reader_conll2005():
    create = registry.readers.get("spacy_senna.ConllCorpus.v1")
    examples = list(create(SAMPLE, "conll2005", hold_out=1, part="heldout")(spacy.blank("en")))
    assert [len(eg.reference) for eg in examples] == [10]
    assert list(examples[0].predicted.spans.keys()) == ["srl:4", "srl:6"]


# -- cells, columns, writing back ----------------------------------------------------------


@pytest.mark.parametrize(
    "cell,expected",
    [
        ("*", ((), 0)),
        ("(A0*", (("A0",), 0)),
        ("*)", ((), 1)),
        ("(V*)", (("V",), 1)),
        ("(AM-TMP*", (("AM-TMP",), 0)),
        ("(A1(C-A2*", (("A1", "C-A2"), 0)),
        ("*))", ((), 2)),
        ("(A1(R-A0*))", (("A1", "R-A0"), 2)),
    ],
)
def test_parse_cell(cell, expected):
    assert parse_cell(cell) == expected


@pytest.mark.parametrize("cell", ["(A0", "A0", "**", "(*", "*(A0", "*)(", "(A0*)x", "-", ""])
def test_parse_cell_rejects(cell):
    with pytest.raises(ValueError, match="is not a Start-End bracket cell"):
        parse_cell(cell)


def test_parse_props_column_nesting():
    cells = ["(A1*", "(C-A2*", "*", "*))", "(V*)", "(A0(R-A0*)", "*)"]
    assert parse_props_column(cells) == [
        (0, 4, "A1"),
        (1, 4, "C-A2"),
        (4, 5, "V"),
        (5, 7, "A0"),
        (5, 6, "R-A0"),
    ]
    assert props_column(parse_props_column(cells), len(cells)) == cells


@pytest.mark.parametrize(
    "cells,token,problem",
    [
        (["*", "*)"], 1, "cell '*)' closes an argument but none is open"),
        (["(A0*)", "*)"], 1, "closes an argument but none is open"),
        (["(A0*", "*"], 0, "argument 'A0' opened here is still open at the end of the sentence"),
        (["(A0*", "(A1*", "*)"], 0, "argument 'A0' opened here is still open"),
        (["*", "(A0"], 1, "cell '(A0' is not a Start-End bracket cell"),
    ],
)
def test_parse_props_column_errors(cells, token, problem):
    with pytest.raises(PropsFormatError) as err:
        parse_props_column(cells)
    assert err.value.token == token
    assert problem in err.value.problem


def test_props_column():
    assert props_column([], 3) == ["*", "*", "*"]
    assert props_column([(1, 2, "V"), (0, 1, "A0"), (2, 4, "A1")], 4) == [
        "(A0*)",
        "(V*)",
        "(A1*",
        "*)",
    ]
    assert props_column([(0, 3, "A1"), (0, 1, "R-A1")], 3) == ["(A1(R-A1*)", "*", "*)"]
    with pytest.raises(ValueError, match="crosses"):
        props_column([(0, 2, "A0"), (1, 3, "A1")], 3)
    with pytest.raises(ValueError, match="outside"):
        props_column([(2, 4, "A0")], 3)
    with pytest.raises(ValueError, match="cannot be written"):
        props_column([(0, 1, "A(0")], 3)


def test_srl_props_columns_lemma_fallbacks():
    doc = Doc(Vocab(), words=["Prices", "Fell", "sharply", "today"])
    doc[1].lemma_ = "fall"
    doc.spans["srl:1"] = [Span(doc, 0, 1, "A1"), Span(doc, 1, 2, "V")]  # no attrs at all
    doc.spans["srl:3"] = [Span(doc, 3, 4, "V")]
    doc.spans["other"] = [Span(doc, 0, 1, "X")]
    mark_predicates(doc, [(2, "sharpen")])  # an empty group: a given predicate
    assert srl_props_columns(doc) == [
        ["-", "fall", "sharpen", "today"],
        ["(A1*)", "(V*)", "*", "*"],
        ["*", "*", "*", "*"],
        ["*", "*", "*", "(V*)"],
    ]
    assert props_lines(srl_props_columns(doc))[1] == "fall (V*) * *"


def test_srl_props_columns_predicate_outside_doc():
    doc = Doc(Vocab(), words=["Hi"])
    doc.spans["srl:5"] = []
    with pytest.raises(ValueError, match="outside the doc"):
        srl_props_columns(doc)


# -- malformed input -----------------------------------------------------------------------

MALFORMED = [
    pytest.param(
        b"Dogs - *)\nbark bark (V*)\n",
        1,
        "props column 1 (predicate 'bark', token 2): cell '*)' closes an argument but none is open",
        id="close-with-nothing-open",
    ),
    pytest.param(
        b"Dogs - *\nbark bark (V*)\n\nCats - (A0*\nmeow meow (V*)\n. - *\n",
        4,
        "props column 1 (predicate 'meow', token 2): argument 'A0' opened here is still open "
        "at the end of the sentence",
        id="open-at-sentence-end",
    ),
    pytest.param(
        b"Dogs - (A0\nbark bark (V*)\n",
        1,
        "cell '(A0' is not a Start-End bracket cell",
        id="not-star-based",
    ),
    pytest.param(
        b"Dogs - (A0*)\nbark bark (V*) *\n",
        2,
        "found 4 columns, but the sentence's first line (line 1) has 3",
        id="column-count-changes",
    ),
    pytest.param(
        b"Dogs - *\nbark - *\n",
        1,
        "the sentence has 0 predicates in the TARGET column but 1 props columns",
        id="props-without-target",
    ),
    pytest.param(
        b"x -\n\nDogs - (A0*)\nbark bark (V*)\nand - *\nrun run *\n",
        3,
        "the sentence has 2 predicates in the TARGET column but 1 props columns",
        id="target-without-props",
    ),
    pytest.param(
        b"Dogs\n",
        1,
        "expected at least 2 columns (WORD TARGET [PROPS ...]), found 1",
        id="too-few-columns",
    ),
    pytest.param(b"Dogs - *\ncaf\xe9 - *\n", 2, "not valid UTF-8 (byte 0xe9", id="not-utf8"),
    pytest.param(b"", 1, "no sentences found (the file is empty)", id="empty-file"),
    pytest.param(b"  \n\n", 2, "no sentences found", id="only-blank-lines"),
]


@pytest.mark.parametrize("name", ["broken.txt", "broken.txt.gz"])
@pytest.mark.parametrize("content,line,problem", MALFORMED)
def test_malformed_input(tmp_path, name, content, line, problem):
    path = write_bytes(tmp_path / name, content)
    with pytest.raises(SennaFormatError) as err:
        list(read_docs(path, "conll2005"))
    message = str(err.value)
    assert message.startswith(f"{path}, line {line}: "), message
    assert problem in message
    assert err.value.line == line and err.value.path == path


def test_read_sentences_checks_props_too(tmp_path):
    """predict reads with read_sentences only: it must not let bad brackets through."""
    path = write_bytes(tmp_path / "b.txt", b"Dogs - (A0*\nbark bark (V*)\n")
    with pytest.raises(SennaFormatError, match="line 1: props column 1"):
        list(read_sentences(path, "conll2005"))


# -- the real data -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def devel_path(shared_data) -> Path:
    path = shared_data / DEVEL
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


@pytest.fixture(scope="module")
def devel_docs(devel_path) -> List[Doc]:
    return list(read_docs(devel_path, "conll2005", Vocab()))


def raw_props(path: Path) -> List[List[List[str]]]:
    """Per sentence, per token: the columns after the word, split on whitespace."""
    sentences, current = [], []
    with gzip.open(path, "rt", encoding="utf8") as file:
        for line in file:
            if line.strip():
                current.append(line.split()[1:])
            elif current:
                sentences.append(current)
                current = []
    if current:
        sentences.append(current)
    return sentences


def test_devel_counts(devel_path, devel_docs):
    assert len(devel_docs) == 1346
    assert sum(len(doc) for doc in devel_docs) == 32853
    assert sum(len(srl_predicates(doc)) for doc in devel_docs) == 3248


def test_devel_round_trip(devel_path, devel_docs):
    original = raw_props(devel_path)
    assert len(original) == len(devel_docs)
    for doc, rows in zip(devel_docs, original):
        written = [line.split() for line in props_lines(srl_props_columns(doc))]
        assert written == rows


def count_arguments(sentences: Sequence[List[List[str]]]) -> int:
    """srl-eval.pl's number of gold arguments, counted straight from the brackets."""
    total = 0
    for rows in sentences:
        for k in range(1, len(rows[0])):
            seen = set()
            for row in rows:
                for label in row[k].split("*")[0].split("(")[1:]:
                    if label in ("V", "C-V"):
                        continue
                    if label.startswith("C-") and label[2:] in seen:
                        continue  # joins an earlier argument
                    label = label[2:] if label.startswith("C-") else label
                    seen.add(label)
                    total += 1
    return total


def test_devel_gold_vs_gold(devel_path, devel_docs):
    examples = [Example(doc, doc) for doc in devel_docs]
    scores = score_srl(examples)
    for key in ("spans_srl_p", "spans_srl_r", "spans_srl_f", "srl_pred_p", "srl_pred_r", "srl_pred_f"):
        assert scores[key] == pytest.approx(1.0), key
    assert all(prf["f"] == pytest.approx(1.0) for prf in scores["spans_srl_per_type"].values())
    assert {"A0", "A1", "AM-TMP", "R-A0"} <= set(scores["spans_srl_per_type"])
    assert not any(label.startswith("C-") or label == "V" for label in scores["spans_srl_per_type"])
    n_arguments = count_arguments(raw_props(devel_path))
    merged = sum(
        len(merged_arguments(arguments(doc.spans[key])))
        for doc in devel_docs
        for key in doc.spans
    )
    assert merged == n_arguments
    # dropping one argument's span shows the scorer counts exactly n_arguments gold ones
    reduced = devel_docs[0].copy()
    key = "srl:6"
    reduced.spans[key] = SpanGroup(
        reduced,
        name=key,
        attrs=reduced.spans[key].attrs,
        spans=[s for s in reduced.spans[key] if s.label_ != "A1"],
    )
    examples[0] = Example(reduced, devel_docs[0])
    scores = score_srl(examples)
    assert scores["spans_srl_p"] == pytest.approx(1.0)
    assert scores["spans_srl_r"] == pytest.approx((n_arguments - 1) / n_arguments)


# -- the scorer on hand-made examples --------------------------------------------------------

WORDS = "The rule , officials said , takes effect today .".split()


def srl_doc(vocab: Vocab, frames, annotated: bool = True) -> Doc:
    """A doc of WORDS with one `srl:<i>` group per (predicate, [(start, end, label), ...])."""
    doc = Doc(vocab, words=WORDS, spaces=[True] * (len(WORDS) - 1) + [False])
    for index, args in frames.items():
        key = f"srl:{index}"
        spans = [Span(doc, s, e, label) for s, e, label in args]
        doc.spans[key] = SpanGroup(doc, name=key, attrs={"predicate": index, "lemma": "x"}, spans=spans)
    if annotated:
        doc.user_data[SRL_ANNOTATED] = True
    return doc


GOLD = {
    4: [(0, 2, "A1"), (3, 4, "A0"), (4, 5, "V"), (6, 9, "C-A1")],
    6: [(0, 2, "A0"), (6, 7, "V"), (7, 8, "A1"), (8, 9, "AM-TMP")],
}


def test_score_srl_perfect():
    vocab = Vocab()
    scores = score_srl([Example(srl_doc(vocab, GOLD), srl_doc(vocab, GOLD))])
    assert scores["spans_srl_p"] == scores["spans_srl_r"] == scores["spans_srl_f"] == 1.0
    assert scores["srl_pred_f"] == 1.0
    assert sorted(scores["spans_srl_per_type"]) == ["A0", "A1", "AM-TMP"]


def test_score_srl_continuation_must_match():
    vocab = Vocab()
    predicted = {
        4: [(0, 2, "A1"), (3, 4, "A0"), (5, 6, "V")],  # A1 without its C-A1 part; V wrong
        6: [(0, 2, "A0"), (6, 7, "V"), (7, 9, "A1"), (8, 9, "AM-TMP")],  # A1 too long
    }
    scores = score_srl([Example(srl_doc(vocab, predicted), srl_doc(vocab, GOLD))])
    # gold: A1+C-A1, A0 | A0, A1, AM-TMP; right: A0 | A0, AM-TMP
    assert scores["spans_srl_p"] == pytest.approx(3 / 5)
    assert scores["spans_srl_r"] == pytest.approx(3 / 5)
    assert scores["spans_srl_per_type"]["A1"] == {"p": 0.0, "r": 0.0, "f": 0.0}
    assert scores["spans_srl_per_type"]["A0"]["f"] == pytest.approx(1.0)
    assert scores["srl_pred_f"] == 1.0


def test_score_srl_v_is_not_an_argument():
    vocab = Vocab()
    predicted = {4: [(0, 2, "A1"), (3, 4, "A0"), (6, 9, "C-A1")], 6: [(0, 2, "A0"), (7, 8, "A1"), (8, 9, "AM-TMP")]}
    scores = score_srl([Example(srl_doc(vocab, predicted), srl_doc(vocab, GOLD))])
    assert scores["spans_srl_f"] == 1.0
    assert "V" not in scores["spans_srl_per_type"]


def test_score_srl_reference_and_partial_spans():
    vocab = Vocab()
    gold = {4: [(0, 2, "A1"), (2, 3, "R-A1"), (3, 4, "A0"), (4, 5, "V")]}
    predicted = {4: [(0, 2, "A1"), (2, 3, "R-A0"), (3, 5, "A0"), (4, 5, "V")]}
    scores = score_srl([Example(srl_doc(vocab, predicted), srl_doc(vocab, gold))])
    # A1 right; R-A0 is a wrong label for R-A1; A0 (3, 5) only overlaps the gold (3, 4)
    assert scores["spans_srl_p"] == pytest.approx(1 / 3)
    assert scores["spans_srl_r"] == pytest.approx(1 / 3)
    assert scores["spans_srl_per_type"]["R-A1"]["r"] == 0.0
    assert scores["spans_srl_per_type"]["R-A0"]["p"] == 0.0
    assert scores["spans_srl_per_type"]["A1"]["f"] == 1.0


def test_score_srl_orphan_continuation_stands_alone():
    vocab = Vocab()
    gold = {4: [(3, 4, "A0"), (4, 5, "V"), (6, 9, "C-A1")]}
    as_a1 = {4: [(3, 4, "A0"), (6, 9, "A1")]}
    scores = score_srl([Example(srl_doc(vocab, as_a1), srl_doc(vocab, gold))])
    assert scores["spans_srl_f"] == 1.0
    assert sorted(scores["spans_srl_per_type"]) == ["A0", "A1"]


def test_score_srl_continuation_joins_closest_preceding():
    vocab = Vocab()
    gold = {4: [(0, 1, "A1"), (1, 2, "A1"), (2, 3, "C-A1")]}
    right = {4: [(0, 1, "A1"), (1, 2, "A1"), (2, 3, "C-A1")]}
    assert merged_arguments([(0, 1, "A1"), (1, 2, "A1"), (2, 3, "C-A1")]) == [
        ("A1", ((0, 1),)),
        ("A1", ((1, 2), (2, 3))),
    ]
    scores = score_srl([Example(srl_doc(vocab, right), srl_doc(vocab, gold))])
    assert scores["spans_srl_f"] == 1.0
    wrong = {4: [(0, 1, "A1"), (2, 3, "C-A1")]}  # now the C-A1 joins (0, 1)
    scores = score_srl([Example(srl_doc(vocab, wrong), srl_doc(vocab, gold))])
    assert scores["spans_srl_p"] == 0.0 and scores["spans_srl_r"] == 0.0


def test_score_srl_predicates():
    vocab = Vocab()
    predicted = {6: GOLD[6], 1: [(0, 1, "A0")]}  # misses predicate 4, invents predicate 1
    scores = score_srl([Example(srl_doc(vocab, predicted), srl_doc(vocab, GOLD))])
    assert scores["srl_pred_p"] == pytest.approx(0.5)
    assert scores["srl_pred_r"] == pytest.approx(0.5)
    # predicate 4's arguments are all missed; predicate 1's are not scored
    assert scores["spans_srl_p"] == pytest.approx(1.0)
    assert scores["spans_srl_r"] == pytest.approx(3 / 5)


def test_score_srl_skips_unannotated_references():
    vocab = Vocab()
    unannotated = Example(srl_doc(vocab, GOLD), srl_doc(vocab, {}, annotated=False))
    scores = score_srl([unannotated])
    assert all(value is None for value in scores.values())
    assert "spans_srl_f" in scores and "srl_pred_f" in scores
    annotated_empty = Example(srl_doc(vocab, {4: [(3, 4, "A0")]}), srl_doc(vocab, {}))
    scores = score_srl([unannotated, annotated_empty])
    assert scores["srl_pred_p"] == 0.0  # a predicted predicate where the gold has none
    assert scores["spans_srl_p"] == 0.0 and scores["spans_srl_r"] == 0.0


def test_score_srl_different_tokenisation():
    vocab = Vocab()
    gold = srl_doc(vocab, {4: [(0, 2, "A1"), (4, 5, "V"), (6, 9, "C-A1")]})
    words = ["The", "rule", ",", "officials", "said", ",", "takes", "effect", "to", "day", "."]
    spaces = [True] * 8 + [False, True, False]
    predicted = Doc(vocab, words=words, spaces=spaces)
    assert predicted.text == gold.text
    spans = [Span(predicted, 0, 2, "A1"), Span(predicted, 6, 10, "C-A1")]
    predicted.spans["srl:4"] = SpanGroup(predicted, name="srl:4", attrs={}, spans=spans)
    scores = score_srl([Example(predicted, gold)])
    assert scores["spans_srl_f"] == 1.0 and scores["srl_pred_f"] == 1.0


def test_registered_srl_scorer():
    assert registry.scorers.get("spacy_senna.srl_scorer.v1")() is score_srl
