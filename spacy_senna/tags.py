"""Conversions between span lists and per-token tag sequences (IOB1, IOB2, IOBES, BILUO)."""
from functools import lru_cache
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy

SCHEMES = ("iob1", "iob2", "iobes", "biluo")
NO_TAG = -1  # a decoded tag id that stands for no tag: a whitespace token the network skips
SpanTuple = Tuple[int, int, str]  # (start token, end token exclusive, label)


class TagSchemeError(ValueError):
    """A tag that does not fit the expected tagging scheme."""


def split_tag(tag: str) -> Tuple[str, str]:
    """'B-NP' -> ('B', 'NP'); 'O' -> ('O', '')."""
    if tag == "O":
        return "O", ""
    if len(tag) < 3 or tag[1] != "-":
        raise TagSchemeError(f"tag {tag!r} is neither 'O' nor PREFIX-LABEL")
    return tag[0], tag[2:]


def tags_to_spans(tags: Sequence[str], scheme: str) -> List[SpanTuple]:
    """Read phrases from tags, following conlleval's rules for where a phrase starts and ends.

    Raises TagSchemeError (with the token index) for a prefix the scheme does not use.
    """
    allowed = {"iob1": "IB", "iob2": "IB", "iobes": "IBES", "biluo": "BILU"}[scheme]
    spans: List[SpanTuple] = []
    start: Optional[int] = None
    label = ""
    prev_prefix = "O"
    for i, tag in enumerate(tags):
        try:
            prefix, tag_label = split_tag(tag)
        except TagSchemeError as err:
            raise TagSchemeError(f"token {i}: {err}") from None
        if prefix != "O" and prefix not in allowed:
            raise TagSchemeError(
                f"token {i}: prefix {prefix!r} of tag {tag!r} is not used by {scheme.upper()}"
            )
        if start is not None and _phrase_ends(prev_prefix, prefix, label, tag_label):
            spans.append((start, i, label))
            start = None
        if prefix != "O" and start is None:
            start, label = i, tag_label
        prev_prefix = prefix
    if start is not None:
        spans.append((start, len(tags), label))
    return spans


def _phrase_ends(prev: str, cur: str, prev_label: str, cur_label: str) -> bool:
    """conlleval's endOfChunk, before token `cur`, for an open phrase ending in `prev`."""
    if cur == "O" or prev in "ELU" or prev == "S":
        return True
    if cur in "BSU":
        return True
    return cur_label != prev_label


def spans_to_tags(spans: Iterable[SpanTuple], length: int, scheme: str) -> List[str]:
    """Write non-overlapping phrases as one tag per token in the given scheme."""
    tags = ["O"] * length
    previous_end, previous_label = -1, None
    for start, end, label in sorted(spans):
        if start < previous_end:
            raise TagSchemeError(f"phrases overlap at token {start}")
        for i in range(start, end):
            tags[i] = f"I-{label}"
        single = end - start == 1
        if scheme == "iob2":
            tags[start] = f"B-{label}"
        elif scheme == "iob1":
            if start == previous_end and label == previous_label:
                tags[start] = f"B-{label}"
        elif scheme == "iobes":
            if single:
                tags[start] = f"S-{label}"
            else:
                tags[start], tags[end - 1] = f"B-{label}", f"E-{label}"
        elif scheme == "biluo":
            if single:
                tags[start] = f"U-{label}"
            else:
                tags[start], tags[end - 1] = f"B-{label}", f"L-{label}"
        else:
            raise ValueError(f"unknown tag scheme {scheme!r}; expected one of {SCHEMES}")
        previous_end, previous_label = end, label
    return tags


O_ID = 0  # the id of "O" in iobes_tag_names


def iobes_tag_names(labels: Sequence[str]) -> List[str]:
    """The IOBES tag inventory for a label set: 'O' first, then B/I/E/S per label."""
    return ["O"] + [f"{p}-{label}" for label in labels for p in "BIES"]


@lru_cache(maxsize=64)
def _iobes_parts(n_labels: int) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """Prefix (0 O, 1 B, 2 I, 3 E, 4 S) and label index (-1 for O) of each IOBES tag id."""
    prefix_of = numpy.array([0] + [1, 2, 3, 4] * n_labels)
    label_of = numpy.array([-1] + [i for i in range(n_labels) for _ in range(4)])
    return prefix_of, label_of


def iobes_phrases(tag_ids: numpy.ndarray, n_labels: int) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Vectorised `tags_to_spans` for ids into `iobes_tag_names(labels)`: (starts, ends, label indices)."""
    ids = numpy.asarray(tag_ids, dtype="int64")
    prefix_of, label_of = _iobes_parts(n_labels)
    prefix, label = prefix_of[ids], label_of[ids]
    inside = prefix != 0
    prev_prefix = numpy.concatenate([[0], prefix[:-1]])
    prev_label = numpy.concatenate([[-1], label[:-1]])
    starts = inside & (
        (prefix == 1) | (prefix == 4) | (prev_prefix == 0) | (prev_prefix >= 3) | (prev_label != label)
    )
    continues = inside & ~starts
    last = inside & ~numpy.concatenate([continues[1:], [False]])
    start_idx = numpy.flatnonzero(starts)
    return start_idx, numpy.flatnonzero(last) + 1, label[start_idx]


def decoded_phrases(sequences: Sequence[numpy.ndarray], n_labels: int) -> List[List[Tuple[int, int, int]]]:
    """Per sequence of decoded tag ids, the (start, end, label index) of its IOBES phrases;
    tokens without a tag (NO_TAG: whitespace) are in no phrase, except inside one that spans
    them. All sequences are read in one pass, an O between each two."""
    if not sequences:
        return []
    lengths = numpy.array([len(ids) for ids in sequences], dtype="int64")
    starts_at = numpy.concatenate([[0], numpy.cumsum(lengths + 1)[:-1]])  # each one's first position
    joined = numpy.zeros((int(lengths.sum()) + len(sequences),), dtype="int64")  # O between them
    for ids, start in zip(sequences, starts_at.tolist()):
        joined[start : start + len(ids)] = ids
    positions = numpy.flatnonzero(joined != NO_TAG)
    starts, ends, found = iobes_phrases(joined[positions], n_labels)
    first = positions[starts]
    last = positions[ends - 1] + 1
    owner = numpy.searchsorted(starts_at, first, side="right") - 1
    offset = starts_at[owner]
    phrases: List[List[Tuple[int, int, int]]] = [[] for _ in sequences]
    for index, start, end, label in zip(owner.tolist(), (first - offset).tolist(), (last - offset).tolist(), found.tolist()):
        phrases[index].append((start, end, label))
    return phrases


# Penn Treebank tag -> Universal POS, as in spaCy's English pipelines (the tag map that their
# attribute_ruler applies; MD is AUX, PRP$ and WP$ are PRON). Tags not listed get no POS.
# The tag of a whitespace token, as spaCy's English taggers give it (Universal POS SPACE).
SPACE_TAG = "_SP"
PTB_TO_UPOS = {
    ".": "PUNCT", ",": "PUNCT", ":": "PUNCT", "``": "PUNCT", "''": "PUNCT", '""': "PUNCT",
    "-LRB-": "PUNCT", "-RRB-": "PUNCT", "(": "PUNCT", ")": "PUNCT", "HYPH": "PUNCT", "NFP": "PUNCT",
    "$": "SYM", "#": "SYM", "SYM": "SYM",
    "AFX": "ADJ", "JJ": "ADJ", "JJR": "ADJ", "JJS": "ADJ",
    "CC": "CCONJ", "CD": "NUM", "DT": "DET", "PDT": "DET", "WDT": "DET",
    "EX": "PRON", "PRP": "PRON", "PRP$": "PRON", "WP": "PRON", "WP$": "PRON",
    "FW": "X", "LS": "X", "ADD": "X", "GW": "X", "XX": "X", "NIL": "X",
    "IN": "ADP", "RP": "ADP",
    "MD": "AUX",
    "NN": "NOUN", "NNS": "NOUN", "NNP": "PROPN", "NNPS": "PROPN",
    "POS": "PART", "TO": "PART",
    "RB": "ADV", "RBR": "ADV", "RBS": "ADV", "WRB": "ADV",
    "UH": "INTJ",
    "VB": "VERB", "VBD": "VERB", "VBG": "VERB", "VBN": "VERB", "VBP": "VERB", "VBZ": "VERB",
    "_SP": "SPACE", "SP": "SPACE",
}
