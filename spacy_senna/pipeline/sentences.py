"""The sentences the SENNA networks see: one per `doc.sents` when it is set, else the whole doc.

SENNA tags each sentence on its own: the window network pads at its edges, Viterbi decodes
it alone, and SRL's sentence network takes the max over its words only. A doc without
sentence boundaries (no sentencizer or parser before the component) is one sentence, as a
line is for SENNA.
"""
from typing import List, Tuple

import numpy

from spacy.tokens import Doc, Span

Piece = Tuple[Doc, int]  # (the sentence as a doc of its own, its first token in the doc)


def sentence_bounds(doc: Doc, max_length: int = 0) -> List[Tuple[int, int]]:
    """(start, end) token ranges of the doc's sentences (the whole doc without boundaries);
    with `max_length` > 0, longer sentences are cut into consecutive pieces of that length."""
    if len(doc) == 0:
        return []
    if doc.has_annotation("SENT_START"):
        bounds = [(sent.start, sent.end) for sent in doc.sents]
    else:
        bounds = [(0, len(doc))]
    if max_length <= 0:
        return bounds
    return [(s, min(e, s + max_length)) for start, e in bounds for s in range(start, e, max_length)]


def sentence_pieces(doc: Doc, max_length: int = 0) -> List[Piece]:
    """The doc's sentences as docs (with their tags and the span groups inside them); the
    doc itself when it is one sentence."""
    bounds = sentence_bounds(doc, max_length)
    if len(bounds) <= 1:
        return [(doc, 0)] if len(doc) else []
    return [(_as_doc(doc[start:end]), start) for start, end in bounds]


def split_docs(docs: List[Doc], max_length: int = 0) -> Tuple[List[Doc], List[List[int]]]:
    """All sentences of a batch, and per doc the indices of its sentences in that list."""
    flat: List[Doc] = []
    owners: List[List[int]] = []
    for doc in docs:
        pieces = sentence_pieces(doc, max_length)
        owners.append(list(range(len(flat), len(flat) + len(pieces))))
        flat.extend(piece for piece, _ in pieces)
    return flat, owners


def _as_doc(span: Span) -> Doc:
    """`span.as_doc()` plus the span groups' spans that lie inside it (e.g. chunks, which the
    chunk-tag feature reads), attrs kept; extension values are copied too."""
    doc = span.as_doc(copy_user_data=True)
    for key, group in span.doc.spans.items():
        inside = [
            Span(doc, s.start - span.start, s.end - span.start, s.label, kb_id=s.kb_id)
            for s in group
            if s.start >= span.start and s.end <= span.end
        ]
        doc.spans[key] = inside
        doc.spans[key].attrs.update(group.attrs)
    return doc


def join_sentences(per_sentence: List[numpy.ndarray], owners: List[List[int]]) -> List[numpy.ndarray]:
    """Per doc, the rows of its sentences (from `split_docs`) joined in order."""
    joined = []
    for indices in owners:
        parts = [per_sentence[i] for i in indices]
        joined.append(numpy.concatenate(parts) if parts else numpy.zeros((0,), dtype="int32"))
    return joined
