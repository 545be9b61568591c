"""spacy_senna.util: the msgpack extension snapshot keeps serialisation working."""
import numpy
import spacy
import srsly
from spacy.tokens import DocBin, Span

from spacy_senna.util import cache_msgpack_extensions


def test_msgpack_snapshot_keeps_extensions_and_docbin_round_trip():
    cache_msgpack_extensions()
    cache_msgpack_extensions()  # idempotent
    assert "numpy" in srsly.msgpack.msgpack_encoders.get_all()
    array = numpy.arange(6, dtype="float32").reshape((2, 3))
    assert (srsly.msgpack_loads(srsly.msgpack_dumps({"a": array}))["a"] == array).all()
    nlp = spacy.blank("en")
    doc = nlp("Anna flew to Lisbon .")
    doc.spans["chunks"] = [Span(doc, 0, 1, "NP"), Span(doc, 3, 4, "NP")]
    doc.user_data["note"] = array
    restored = list(DocBin(store_user_data=True, docs=[doc]).get_docs(nlp.vocab))[0]
    assert [(s.start, s.end, s.label_) for s in restored.spans["chunks"]] == [(0, 1, "NP"), (3, 4, "NP")]
    assert (restored.user_data["note"] == array).all()
