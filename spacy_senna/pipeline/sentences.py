"""The sentences the SENNA networks see: one per `doc.sents` when it is set, else the whole doc.

SENNA tags each sentence on its own: the window network pads at its edges, Viterbi decodes
it alone, and SRL's sentence network takes the max over its words only. A doc without
sentence boundaries (no sentencizer or parser before the component) is one sentence, as a
line is for SENNA.
"""
from typing import List, Tuple

import numpy

from spacy.tokens import Doc, Span

from ..tasks import NO_TAG  # the tag id that join_sentences gives a token no sentence covers

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


# Per doc, (index in the flat list of sentences, positions of its tokens in the doc) per piece.
Layout = List[List[Tuple[int, numpy.ndarray]]]


def split_docs(docs: List[Doc], max_length: int = 0, skip_space: bool = False) -> Tuple[List[Doc], Layout]:
    """All sentences of a batch, and where each one's tokens are in its doc. With `skip_space`,
    whitespace tokens (spaCy's for runs of spaces and newlines) are left out of the sentences,
    as SENNA, which splits on whitespace, never sees them."""
    flat: List[Doc] = []
    layout: Layout = []
    for doc in docs:
        entries = []
        for piece, start in sentence_pieces(doc, max_length):
            positions = numpy.arange(start, start + len(piece))
            if skip_space and any(token.is_space for token in piece):
                kept = [i for i, token in enumerate(piece) if not token.is_space]
                if not kept:
                    continue
                piece, positions = _without(piece, kept), positions[kept]
            entries.append((len(flat), positions))
            flat.append(piece)
        layout.append(entries)
    return flat, layout


def _without(doc: Doc, kept: List[int]) -> Doc:
    """The doc of the `kept` tokens only, with their POS tags (which features may read)."""
    tokens = [doc[i] for i in kept]
    return Doc(doc.vocab, words=[t.text for t in tokens], spaces=[True] * len(tokens), tags=[t.tag_ for t in tokens])


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


def join_sentences(
    per_sentence: List[numpy.ndarray], layout: Layout, lengths: List[int], fill: int = NO_TAG
) -> List[numpy.ndarray]:
    """Per doc, one value per token from its sentences' rows (`split_docs`); `fill` where no
    sentence covers the token."""
    joined = []
    for entries, length in zip(layout, lengths):
        values = numpy.full((length,), fill, dtype="int32")
        for index, positions in entries:
            values[positions] = per_sentence[index]
        joined.append(values)
    return joined
