"""spacy_senna.util: FastDocBin reads and writes what DocBin does, leaving srsly's registry alone."""
import sys

import numpy
import pytest
import spacy
import srsly
from spacy.tokens import DocBin, Span, SpanGroup

from spacy_senna.util import FastCorpus, FastDocBin, words_only


def _doc(nlp):
    doc = nlp("Anna flew to Lisbon on Monday .")
    doc.spans["chunks"] = [Span(doc, 0, 1, "NP"), Span(doc, 3, 4, "NP", kb_id="Q597", span_id="city")]
    doc.spans["srl:1"] = SpanGroup(doc, name="srl:1", attrs={"lemma": "fly"}, spans=[Span(doc, 0, 1, "A0")])
    doc.spans["alias"] = doc.spans["chunks"]  # one group under two keys
    doc.user_data["note"] = numpy.arange(6, dtype="float32").reshape((2, 3))
    doc.user_data["meta"] = {"id": 7, "tags": ["a", "b"]}
    return doc


def _view(doc):
    spans = {k: (g.name, g.attrs, [(s.start, s.end, s.label_, s.kb_id_, s.id_) for s in g]) for k, g in doc.spans.items()}
    return [t.text for t in doc], spans, doc.user_data["meta"], doc.user_data["note"].tolist()


def test_fast_docbin_writes_the_same_bytes_and_reads_the_same_docs(tmp_path):
    nlp = spacy.blank("en")
    docs = [_doc(nlp), nlp("No spans here ."), nlp("")]
    docs[1].user_data["meta"] = {"id": 8}
    docs[1].user_data["note"] = docs[0].user_data["note"]
    docs[2].user_data.update(docs[1].user_data)
    fast = FastDocBin(store_user_data=True, docs=docs)
    assert fast.to_bytes() == DocBin(store_user_data=True, docs=docs).to_bytes()
    assert list(docs[0].spans) == ["chunks", "srl:1", "alias"]  # add leaves the doc as it was
    plain = DocBin(store_user_data=True, docs=docs)
    assert [_view(d) for d in fast.get_docs(nlp.vocab)] == [_view(d) for d in plain.get_docs(nlp.vocab)]
    DocBin(store_user_data=True, docs=docs).to_disk(tmp_path / "plain.spacy")
    expected = [_view(d) for d in DocBin().from_disk(tmp_path / "plain.spacy").get_docs(spacy.blank("en").vocab)]
    assert [_view(d) for d in FastDocBin().from_disk(tmp_path / "plain.spacy").get_docs(spacy.blank("en").vocab)] == expected
    corpus = [eg.reference for eg in FastCorpus(tmp_path / "plain.spacy")(nlp)]  # the empty doc skipped, as Corpus
    assert [_view(d) for d in corpus] == expected[:2]


def test_extensions_registered_after_the_cli_and_initialize_are_seen(tmp_path):
    from spacy_senna.cli import main

    from .test_components import make_examples

    nlp = spacy.blank("en")
    nlp.add_pipe("senna_tagger", config={"model": {"hidden_width": 8}})
    nlp.initialize(lambda: make_examples(nlp))
    argv, sys.argv = sys.argv, ["spacy-senna", "--help"]
    try:
        with pytest.raises(SystemExit):
            main()
    finally:
        sys.argv = argv

    class Late:
        pass

    def encode(obj, chain=None):
        return {"late": True} if isinstance(obj, Late) else (obj if chain is None else chain(obj))

    srsly.msgpack_encoders.register("spacy_senna_test_late", func=encode)
    try:
        assert "spacy_senna_test_late" in srsly.msgpack_encoders.get_all()
        assert srsly.msgpack_loads(srsly.msgpack_dumps({"x": Late()})) == {"x": {"late": True}}
    finally:
        srsly.msgpack_encoders.get_all()  # (catalogue has no unregister; the name is test-only)


def test_words_only_keeps_words_and_spaces_and_drops_annotation():
    nlp = spacy.blank("en")
    doc = nlp("Mr. Smith  left .")
    doc[1].tag_ = "NNP"
    doc.ents = [Span(doc, 1, 2, label="PER")]
    doc.spans["sc"] = [Span(doc, 0, 2, label="NP")]
    copy = words_only(doc)
    assert copy.text == doc.text and [t.text for t in copy] == [t.text for t in doc]
    assert copy.vocab is doc.vocab
    assert not copy.ents and not copy.spans and copy[1].tag_ == ""
    other = spacy.blank("en").vocab
    assert words_only(doc, other).vocab is other
    assert len(words_only(nlp(""))) == 0
