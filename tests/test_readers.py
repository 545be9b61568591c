"""Tests for spacy_senna.readers: the corpus formats, errors, hold-out and the spaCy reader."""
import gzip
from pathlib import Path
from typing import List, Tuple

import pytest
import spacy
from spacy.tokens import Doc
from spacy.util import load_config_from_str, registry
from spacy.vocab import Vocab

from spacy_senna.readers import (
    FORMATS,
    SPECS,
    SennaFormatError,
    read_docs,
    read_docs_split,
    read_sentences,
    sentence_to_doc,
    split_hold_out,
)
from spacy_senna.srl_format import srl_props_columns
from spacy_senna.tags import spans_to_tags

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = {
    "wsj": FIXTURES / "sample_wsj.tsv",
    "conll2000": FIXTURES / "sample_conll2000.txt",
    "conll2003": FIXTURES / "sample_conll2003.txt",
    "conll2005": FIXTURES / "sample_conll2005.txt",
}
SHARED_DATA = Path(__file__).parents[1].parent / "shared" / "data"
needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.exists(), reason=f"shared data not found at {SHARED_DATA}"
)


def phrases(spans) -> List[Tuple[int, int, str]]:
    """Spans as (start, end, label) tuples."""
    return [(span.start, span.end, span.label_) for span in spans]


def write_bytes(path: Path, content: bytes) -> Path:
    """Write `content` to `path` (gzipped when the name ends in .gz) and return the path."""
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as file:
            file.write(content)
    else:
        path.write_bytes(content)
    return path


def test_read_wsj():
    docs = list(read_docs(SAMPLES["wsj"], "wsj"))
    assert [[t.text for t in doc] for doc in docs] == [
        ["Shares", "rose", "."],
        ["It", "was", "sold", "."],
    ]
    assert [t.tag_ for t in docs[1]] == ["PRP", "VBD", "VBN", "."]
    assert docs[0].text == "Shares rose ."
    assert "chunks" not in docs[0].spans
    assert not docs[0].has_annotation("ENT_IOB")


def test_read_conll2000():
    docs = list(read_docs(SAMPLES["conll2000"], "conll2000"))
    assert len(docs) == 3
    first = docs[0]
    assert [t.tag_ for t in first] == ["NNS", "IN", "DT", "JJ", "NN", "VBD", "RB", "."]
    assert phrases(first.spans["chunks"]) == [
        (0, 1, "NP"),
        (1, 2, "PP"),
        (2, 5, "NP"),
        (5, 6, "VP"),
        (6, 7, "ADVP"),
    ]
    assert phrases(docs[1].spans["chunks"]) == [(0, 1, "NP"), (1, 4, "VP")]
    assert not first.has_annotation("ENT_IOB")


def test_read_conll2003():
    docs = list(read_docs(SAMPLES["conll2003"], "conll2003"))
    assert [len(doc) for doc in docs] == [10, 7, 4]
    assert [doc.user_data["senna_doc_id"] for doc in docs] == [0, 0, 1]
    assert [t.text for t in docs[0]][:3] == ["Oslo", "fans", "cheered"]
    assert [t.tag_ for t in docs[2]] == ["NNP", "NNP", "VBD", "."]
    assert phrases(docs[0].ents) == [(0, 1, "LOC"), (3, 5, "PER"), (6, 9, "ORG")]
    # IOB1: "Norway I-LOC / Sweden B-LOC" are two entities, likewise the two NP chunks
    assert phrases(docs[1].ents) == [(0, 1, "LOC"), (1, 2, "LOC"), (3, 4, "MISC")]
    chunks = [(0, 1, "NP"), (1, 2, "NP"), (3, 5, "NP"), (5, 6, "VP")]
    assert phrases(docs[1].spans["chunks"]) == chunks
    # tokens outside entities are explicitly O, not missing
    for doc in docs:
        assert doc.has_annotation("ENT_IOB", require_complete=True)
    assert [t.ent_iob_ for t in docs[1]] == ["B", "B", "O", "B", "O", "O", "O"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(fmt):
    spec = SPECS[fmt]
    for sentence in read_sentences(SAMPLES[fmt], fmt):
        doc = sentence_to_doc(sentence, fmt, Vocab())
        assert [t.text for t in doc] == sentence.words
        if spec.pos_column is not None:
            assert [t.tag_ for t in doc] == sentence.column(spec.pos_column)
        if spec.srl:  # more in test_srl_format.py
            columns = srl_props_columns(doc)
            assert columns == [sentence.column(c) for c in range(1, len(sentence.rows[0].columns))]
        if spec.chunk_column is not None:
            scheme = spec.schemes[spec.chunk_column]
            tags = spans_to_tags(phrases(doc.spans["chunks"]), len(doc), scheme)
            assert tags == sentence.column(spec.chunk_column)
        if spec.ner_column is not None:
            scheme = spec.schemes[spec.ner_column]
            assert spans_to_tags(phrases(doc.ents), len(doc), scheme) == sentence.column(3)


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_sentences_mirrors_the_file(fmt):
    original = SAMPLES[fmt].read_text(encoding="utf8").splitlines()
    rebuilt: List[str] = []
    for sentence in read_sentences(SAMPLES[fmt], fmt):
        rebuilt.extend(sentence.lines_before)
        rebuilt.extend(row.text for row in sentence.rows)
        rebuilt.extend(sentence.lines_after)
        assert all(original[row.line_no - 1] == row.text for row in sentence.rows)
    assert rebuilt == original


def test_docstart_lines_are_not_tokens():
    sentences = list(read_sentences(SAMPLES["conll2003"], "conll2003"))
    assert sentences[0].lines_before == ("-DOCSTART- -X- -X- O", "")
    assert sentences[2].lines_before == ("", "-DOCSTART- -X- -X- O", "")
    assert sentences[2].lines_after == ("",)
    assert all("-DOCSTART-" not in s.words for s in sentences)
    assert sentences[0].first_line == 3


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_gzip(tmp_path, fmt):
    path = write_bytes(tmp_path / f"{SAMPLES[fmt].name}.gz", SAMPLES[fmt].read_bytes())
    plain = [doc.to_json() for doc in read_docs(SAMPLES[fmt], fmt)]
    assert [doc.to_json() for doc in read_docs(path, fmt)] == plain


def test_crlf_trailing_whitespace_and_extra_blank_lines(tmp_path):
    text = SAMPLES["conll2003"].read_text(encoding="utf8")
    messy = "\n\n" + text.replace("\n", " \t\r\n").replace("\r\n \t\r\n", "\r\n\r\n\r\n\r\n")
    path = write_bytes(tmp_path / "messy.txt", messy.encode("utf8"))
    expected = [doc.to_json() for doc in read_docs(SAMPLES["conll2003"], "conll2003")]
    assert [doc.to_json() for doc in read_docs(path, "conll2003")] == expected


def test_wsj_strips_spaces_around_the_tab(tmp_path):
    path = write_bytes(tmp_path / "spaced.tsv", b"Shares \tNNS\nrose\t VBD\n.\t.\n")
    (doc,) = read_docs(path, "wsj")
    assert [(t.text, t.tag_) for t in doc] == [("Shares", "NNS"), ("rose", "VBD"), (".", ".")]


def test_read_docs_is_lazy(tmp_path):
    content = b"Shares NNS B-NP\n\nrose VBD B-VP\n\nfell VBD\n"
    docs = read_docs(write_bytes(tmp_path / "late_error.txt", content), "conll2000")
    assert [t.text for t in next(docs)] == ["Shares"]
    with pytest.raises(SennaFormatError, match="line 5"):
        next(docs)


MALFORMED = [
    pytest.param(
        "conll2003",
        b"Oslo NNP I-NP I-LOC\nfans NNS I-NP O\ncheered VBD O\n",
        3,
        "expected 4 columns (WORD POS CHUNK NE), found 3",
        id="column-count",
    ),
    pytest.param(
        "wsj",
        b"Shares\tNNS\nrose VBD\n",
        2,
        "expected 2 tab-separated columns (WORD TAG), found 1",
        id="wsj-not-tab-separated",
    ),
    pytest.param(
        "conll2003",
        b"Oslo NNP I-NP X-LOC\n",
        1,
        "NE column: prefix 'X' of tag 'X-LOC' is not used by IOB1",
        id="unknown-prefix",
    ),
    pytest.param(
        "conll2000",
        b"Shares NNS B-NP\n\nsold VBN E-VP\n",
        3,
        "CHUNK column: prefix 'E' of tag 'E-VP' is not used by IOB2",
        id="prefix-outside-scheme",
    ),
    pytest.param(
        "conll2000",
        b"Shares NNS NP\n",
        1,
        "CHUNK column: tag 'NP' is neither 'O' nor PREFIX-LABEL",
        id="tag-without-prefix",
    ),
    pytest.param(
        "conll2000",
        b"Shares NNS B-NP\ncaf\xe9 NN I-NP\n",
        2,
        "not valid UTF-8 (byte 0xe9",
        id="not-utf8",
    ),
    pytest.param("wsj", b"", 1, "no sentences found (the file is empty)", id="empty-file"),
    pytest.param(
        "wsj", b"Shares\tNNS\n \tVBD\n", 2, "expected 2 tab-separated columns", id="blank-word"
    ),
    pytest.param(
        "wsj", b"Shares\tNNS\nrose\t \n", 2, "expected 2 tab-separated columns", id="blank-tag"
    ),
    pytest.param(
        "conll2003", b"-DOCSTART- -X- -X- O\n\n\n", 3, "no sentences found", id="only-docstart"
    ),
]


@pytest.mark.parametrize("fmt,content,line,problem", MALFORMED)
def test_malformed_input(tmp_path, fmt, content, line, problem):
    path = write_bytes(tmp_path / "broken.txt", content)
    with pytest.raises(SennaFormatError) as err:
        list(read_docs(path, fmt))
    message = str(err.value)
    assert message.startswith(f"{path}, line {line}: ")
    assert problem in message
    assert err.value.line == line
    assert err.value.path == path


def test_malformed_gzip_reports_line(tmp_path):
    path = write_bytes(tmp_path / "broken.txt.gz", b"Shares NNS B-NP\nrose VBD B-VP O\n")
    with pytest.raises(SennaFormatError, match=r"broken\.txt\.gz, line 2: expected 3 columns"):
        list(read_docs(path, "conll2000"))


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "corrupt.txt.gz"
    path.write_bytes(b"this is not gzip data\n")
    with pytest.raises(SennaFormatError, match=r"corrupt\.txt\.gz, line 1: cannot read the file"):
        list(read_docs(path, "conll2000"))


def test_missing_file(tmp_path):
    path = tmp_path / "missing.txt"
    with pytest.raises(SennaFormatError) as err:
        list(read_docs(path, "conll2003"))
    assert str(err.value) == f"{path}: file not found"
    assert err.value.line is None


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown format 'conll2012'"):
        list(read_docs(SAMPLES["wsj"], "conll2012"))


def test_split_hold_out():
    assert list(split_hold_out("abcde", 2)) == [
        ("a", False),
        ("b", False),
        ("c", False),
        ("d", True),
        ("e", True),
    ]
    assert list(split_hold_out("ab", 0)) == [("a", False), ("b", False)]


def test_read_docs_hold_out():
    path = SAMPLES["conll2000"]
    train = list(read_docs(path, "conll2000", hold_out=1, part="train"))
    heldout = list(read_docs(path, "conll2000", hold_out=1, part="heldout"))
    assert [doc[0].text for doc in train] == ["Shares", "It"]
    assert [doc[0].text for doc in heldout] == ["Prices"]
    flags = [held for _, held in read_docs_split(path, "conll2000", None, 2)]
    assert flags == [False, True, True]


def test_hold_out_too_large():
    with pytest.raises(SennaFormatError, match="has only 3 sentences: cannot hold out 3"):
        list(read_docs(SAMPLES["conll2000"], "conll2000", hold_out=3, part="heldout"))


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def test_registered_reader(nlp):
    create_corpus = registry.readers.get("spacy_senna.ConllCorpus.v1")
    corpus = create_corpus(SAMPLES["conll2003"], "conll2003")
    examples = list(corpus(nlp))
    assert len(examples) == 3
    for example in examples:
        predicted, reference = example.predicted, example.reference
        assert isinstance(predicted, Doc)
        assert predicted.vocab is nlp.vocab and reference.vocab is nlp.vocab
        assert [t.text for t in predicted] == [t.text for t in reference]
        assert predicted.text == reference.text
        assert not predicted.has_annotation("TAG") and not predicted.has_annotation("ENT_IOB")
        assert reference.has_annotation("TAG") and "chunks" in reference.spans
    assert phrases(examples[1].reference.ents) == [(0, 1, "LOC"), (1, 2, "LOC"), (3, 4, "MISC")]
    assert examples[2].reference.user_data["senna_doc_id"] == 1
    # a corpus can be read again, e.g. once per epoch
    assert len(list(corpus(nlp))) == 3


@pytest.mark.parametrize(
    "options,first_words",
    [
        ({}, ["Shares", "It", "Prices"]),
        ({"limit": 2}, ["Shares", "It"]),
        ({"hold_out": 1, "part": "train"}, ["Shares", "It"]),
        ({"hold_out": 1, "part": "heldout"}, ["Prices"]),
        ({"hold_out": 2, "part": "heldout", "limit": 1}, ["It"]),
        ({"hold_out": 1}, ["Shares", "It", "Prices"]),
    ],
)
def test_registered_reader_parts(nlp, options, first_words):
    create_corpus = registry.readers.get("spacy_senna.ConllCorpus.v1")
    corpus = create_corpus(SAMPLES["conll2000"], "conll2000", **options)
    assert [eg.reference[0].text for eg in corpus(nlp)] == first_words


def test_registered_reader_from_config(nlp):
    config = load_config_from_str(
        f"""
        [corpora]

        [corpora.dev]
        @readers = "spacy_senna.ConllCorpus.v1"
        path = "{SAMPLES['conll2000']}"
        format = "conll2000"
        hold_out = 1
        part = "heldout"
        """
    )
    corpus = registry.resolve(config)["corpora"]["dev"]
    examples = list(corpus(nlp))
    assert [t.text for t in examples[0].reference] == ["Prices", "fell", "."]
    assert phrases(examples[0].reference.spans["chunks"]) == [(0, 1, "NP"), (1, 2, "VP")]


@pytest.mark.parametrize(
    "options,error",
    [
        ({"format": "conll"}, "unknown format"),
        ({"part": "dev", "hold_out": 1}, "unknown part"),
        ({"part": "heldout"}, "needs hold_out > 0"),
        ({"limit": -1}, "must be 0 or more"),
        ({"path": None}, "path is None"),
    ],
)
def test_registered_reader_bad_options(options, error):
    create_corpus = registry.readers.get("spacy_senna.ConllCorpus.v1")
    arguments = {"path": SAMPLES["wsj"], "format": "wsj", **options}
    with pytest.raises(ValueError, match=error):
        create_corpus(**arguments)


@needs_shared_data
@pytest.mark.parametrize(
    "relative_path,fmt,n_sentences,n_tokens,n_documents",
    [
        ("ptb_pos/wsj_dev.tsv.gz", "wsj", 5527, 131768, 1),
        ("conll2000/train.txt", "conll2000", 8936, 211727, 1),
        ("conll2003/eng.testa", "conll2003", 3250, 51362, 216),
    ],
)
def test_shared_data_counts(relative_path, fmt, n_sentences, n_tokens, n_documents):
    sentences = list(read_sentences(SHARED_DATA / relative_path, fmt))
    assert len(sentences) == n_sentences
    assert sum(len(s.rows) for s in sentences) == n_tokens
    assert len({s.doc_id for s in sentences}) == n_documents


@needs_shared_data
def test_shared_data_conll2003_docs_round_trip():
    path = SHARED_DATA / "conll2003" / "eng.testa"
    vocab = Vocab()
    for sentence in read_sentences(path, "conll2003"):
        doc = sentence_to_doc(sentence, "conll2003", vocab)
        assert spans_to_tags(phrases(doc.ents), len(doc), "iob1") == sentence.column(3)
        assert spans_to_tags(phrases(doc.spans["chunks"]), len(doc), "iob1") == sentence.column(2)
