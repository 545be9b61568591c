"""A constituency tree on a spaCy Doc, the way benepar users know it.

The constituents are the span group `doc.spans["constituents"]`, one labelled Span per
constituent in pre-order (a unary chain S -> VP is two spans over the same tokens, outer
first; POS tags are `token.tag_`). Span groups survive DocBin, `to_bytes`/`to_disk` and
pickle, and `displacy.render(doc, style="span", options={"spans_key": "constituents"})` draws
the tree as nested spans. Span extensions, all computed from the span group (nothing else is
stored):

- `span._.labels`: the labels of the constituents over exactly this span, outer first; ()
  when it is none.
- `span._.constituents`: the span and every constituent inside it, in pre-order, one Span per
  token range (a unary chain once); a token that is no constituent of its own comes as a
  one-token span with labels () (benepar's convention for words).
- `span._.parent`: the smallest constituent strictly containing the span; None for the root.
- `span._.children`: the constituents and uncovered tokens directly below the span.
- `span._.parse_string`: the PTB bracketing of the span, '(S (NP (DT The) (NN cat)) ...)'.
"""
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from spacy.tokens import Doc, Span

from .constituents import Constituent, ptb_string, senna_column, sort_constituents

CONSTITUENTS_KEY = "constituents"
NO_TAG = "XX"  # the POS written in a parse string for a token without a tag


def set_constituents(doc: Doc, constituents: Sequence[Constituent], key: str = CONSTITUENTS_KEY) -> None:
    """Put (start, end, label) constituents on the doc as its span group `key`, in pre-order."""
    doc.spans[key] = [Span(doc, start, end, label) for start, end, label in sort_constituents(constituents)]


def doc_constituents(doc: Doc, key: str = CONSTITUENTS_KEY) -> List[Constituent]:
    """The (start, end, label) constituents of a doc, in the span group's order."""
    return [(span.start, span.end, span.label_) for span in doc.spans.get(key, [])]


def has_constituents(doc: Doc, key: str = CONSTITUENTS_KEY) -> bool:
    return key in doc.spans


def _labels_by_range(doc: Doc) -> Dict[Tuple[int, int], Tuple[str, ...]]:
    """(start, end) -> labels outer first, for every constituent of the doc."""
    index: Dict[Tuple[int, int], Tuple[str, ...]] = {}
    for span in doc.spans.get(CONSTITUENTS_KEY, []):
        key = (span.start, span.end)
        index[key] = index.get(key, ()) + (span.label_,)
    return index


def get_labels(span: Span) -> Tuple[str, ...]:
    return _labels_by_range(span.doc).get((span.start, span.end), ())


def get_constituents(span: Span) -> Iterator[Span]:
    """The span and everything below it, pre-order (see the module docstring)."""
    doc = span.doc
    ranges = [r for r in _labels_by_range(doc) if span.start <= r[0] and r[1] <= span.end]
    ranges.extend((i, i + 1) for i in range(span.start, span.end) if (i, i + 1) not in ranges)
    if (span.start, span.end) not in ranges:
        ranges.append((span.start, span.end))
    for start, end in sorted(set(ranges), key=lambda r: (r[0], -r[1])):
        yield doc[start:end]


def get_children(span: Span) -> List[Span]:
    """The constituents (and uncovered tokens) directly below the span, left to right."""
    doc = span.doc
    inside = sorted(
        (r for r in _labels_by_range(doc) if span.start <= r[0] and r[1] <= span.end and r != (span.start, span.end)),
        key=lambda r: (r[0], -r[1]),
    )
    children: List[Span] = []
    position = span.start
    for start, end in inside:
        if start < position:  # inside a child already taken
            continue
        children.extend(doc[i : i + 1] for i in range(position, start))
        children.append(doc[start:end])
        position = end
    children.extend(doc[i : i + 1] for i in range(position, span.end))
    return children


def get_parent(span: Span) -> Optional[Span]:
    """The smallest constituent that contains the span and is longer than it."""
    containing = [
        (end - start, start, end)
        for start, end in _labels_by_range(span.doc)
        if start <= span.start and span.end <= end and end - start > len(span)
    ]
    if not containing:
        return None
    _, start, end = min(containing)
    return span.doc[start:end]


def get_parse_string(span: Span) -> str:
    words = [token.text for token in span]
    tags = [token.tag_ or NO_TAG for token in span]
    inside = [
        (start - span.start, end - span.start, label)
        for start, end, label in doc_constituents(span.doc)
        if span.start <= start and end <= span.end
    ]
    return ptb_string(words, tags, inside)


def doc_senna_column(doc: Doc, start: int = 0, end: Optional[int] = None) -> List[str]:
    """SENNA's -psg column for the tokens start..end (one sentence)."""
    end = len(doc) if end is None else end
    inside = [(s - start, e - start, label) for s, e, label in doc_constituents(doc) if start <= s and e <= end]
    return senna_column(end - start, inside)


EXTENSIONS = {
    "labels": get_labels,
    "constituents": get_constituents,
    "parent": get_parent,
    "children": get_children,
    "parse_string": get_parse_string,
}


def register_extensions() -> None:
    """Add the Span getters (once; a getter someone else registered under a name is kept)."""
    for name, getter in EXTENSIONS.items():
        if not Span.has_extension(name):
            Span.set_extension(name, getter=getter)


register_extensions()
