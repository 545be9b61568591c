"""The CoNLL-2005 Start-End bracket format of semantic roles, and its Doc conventions.

A proposition column holds one cell per token: `(A0*` opens an argument labelled A0, `*`
continues, `*)` closes the innermost open argument, `(V*)` is a one-token argument; a cell
may open and close several (`(A1(C-A2*))`). The TARGET column holds the predicate's lemma on
the predicate tokens and `-` elsewhere, with one proposition column per predicate, in token
order.

On a Doc, predicate token `i` owns the span group `doc.spans["srl:<i>"]` with every
bracketed argument of its column (the `V` span too), labelled as in the data and ordered by
start (outer before inner), and `group.attrs == {"predicate": i, "lemma": TARGET}`.
"""
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, List, Optional, Sequence, Tuple

from spacy.tokens import Doc, Span, SpanGroup

SRL_PREFIX = "srl:"
SRL_ANNOTATED = "srl_annotated"  # doc.user_data flag: the doc carries gold SRL annotation
NO_TARGET = "-"
VERB_LABELS = ("V", "C-V")
CONTINUATION_PREFIX = "C-"

ArgumentTuple = Tuple[int, int, str]  # (start token, end token exclusive, label)

_CELL = re.compile(r"((?:\([^()*\s]+)*)\*(\)*)")
_OPEN = re.compile(r"\(([^()*\s]+)")


class PropsFormatError(ValueError):
    """A malformed proposition column; `token` is the 0-based token the problem is at."""

    def __init__(self, token: int, problem: str) -> None:
        self.token = token
        self.problem = problem
        super().__init__(f"token {token}: {problem}")


@dataclass(frozen=True)
class Proposition:
    """One predicate of a sentence: its token, its TARGET lemma and its bracketed arguments."""

    predicate: int
    lemma: str
    arguments: Tuple[ArgumentTuple, ...]


def srl_key(index: int) -> str:
    """The span-group key of the predicate at token `index`: 'srl:<index>'."""
    return f"{SRL_PREFIX}{index}"


def predicate_index(key: str) -> Optional[int]:
    """The token index of an 'srl:<i>' key, or None for any other key."""
    if key.startswith(SRL_PREFIX):
        number = key[len(SRL_PREFIX):]
        if number.isdigit():
            return int(number)
    return None


def srl_predicates(doc: Doc) -> List[int]:
    """The token indices that own an `srl:<i>` span group, in token order."""
    found = (predicate_index(key) for key in doc.spans)
    return sorted(index for index in found if index is not None)


@lru_cache(maxsize=1024)
def parse_cell(cell: str) -> Tuple[Tuple[str, ...], int]:
    """('(A0(C-A1*)' -> (('A0', 'C-A1'), 1)): the labels a cell opens and how many it closes."""
    match = _CELL.fullmatch(cell)
    if match is None:
        raise ValueError(
            f"cell {cell!r} is not a Start-End bracket cell like '*', '(A0*', '*)' or '(V*)'"
        )
    return tuple(_OPEN.findall(match.group(1))), len(match.group(2))


def parse_props_column(cells: Sequence[str]) -> List[ArgumentTuple]:
    """The arguments bracketed in one proposition column, ordered by start (outer first).

    Nesting is resolved with a stack: a `)` closes the innermost open argument. Raises
    PropsFormatError for a cell that is not Start-End, a `)` with nothing open, or an
    argument still open after the last token.
    """
    arguments: List[ArgumentTuple] = []
    stack: List[Tuple[int, str]] = []
    for i, cell in enumerate(cells):
        try:
            opened, n_closed = parse_cell(cell)
        except ValueError as err:
            raise PropsFormatError(i, str(err)) from None
        stack.extend((i, label) for label in opened)
        for _ in range(n_closed):
            if not stack:
                raise PropsFormatError(i, f"cell {cell!r} closes an argument but none is open")
            start, label = stack.pop()
            arguments.append((start, i + 1, label))
    if stack:
        start, label = stack[0]
        raise PropsFormatError(
            start,
            f"argument {label!r} opened here is still open at the end of the sentence",
        )
    arguments.sort(key=lambda arg: (arg[0], -arg[1]))
    return arguments


def props_column(arguments: Iterable[ArgumentTuple], length: int) -> List[str]:
    """Write arguments as one Start-End cell per token (the inverse of parse_props_column).

    Arguments may nest (and repeat) but not cross; crossing or out-of-range arguments raise
    ValueError.
    """
    opens: List[List[str]] = [[] for _ in range(length)]
    closes = [0] * length
    stack: List[int] = []  # end tokens of the open arguments
    for start, end, label in sorted(arguments, key=lambda arg: (arg[0], -arg[1])):
        if not 0 <= start < end <= length:
            raise ValueError(f"argument {label!r} ({start}, {end}) is outside 0..{length}")
        if not label or any(c in label for c in "()*") or label.split() != [label]:
            raise ValueError(f"argument label {label!r} cannot be written in a bracket cell")
        while stack and stack[-1] <= start:
            stack.pop()
        if stack and end > stack[-1]:
            raise ValueError(
                f"argument {label!r} ({start}, {end}) crosses another one ending at {stack[-1]}"
            )
        stack.append(end)
        opens[start].append(label)
        closes[end - 1] += 1
    return ["".join(f"({label}" for label in o) + "*" + ")" * c for o, c in zip(opens, closes)]


def set_propositions(doc: Doc, propositions: Iterable[Proposition]) -> None:
    """Store each proposition as `doc.spans["srl:<i>"]` with attrs {"predicate", "lemma"}."""
    for prop in propositions:
        key = srl_key(prop.predicate)
        spans = [Span(doc, start, end, label=label) for start, end, label in prop.arguments]
        attrs = {"predicate": prop.predicate, "lemma": prop.lemma}
        doc.spans[key] = SpanGroup(doc, name=key, attrs=attrs, spans=spans)


def mark_predicates(doc: Doc, predicates: Iterable[Tuple[int, str]]) -> Doc:
    """Give each (token index, lemma) predicate an empty `srl:<i>` group: given predicates."""
    for index, lemma in predicates:
        key = srl_key(index)
        attrs = {"predicate": index, "lemma": lemma}
        doc.spans[key] = SpanGroup(doc, name=key, attrs=attrs, spans=[])
    return doc


def predicate_lemma(doc: Doc, index: int) -> str:
    """The TARGET value of a predicate: its group's 'lemma' attr, else lemma_, else lower case."""
    group = doc.spans.get(srl_key(index))
    lemma = group.attrs.get("lemma") if group is not None else None
    token = doc[index]
    return lemma or token.lemma_ or token.lower_ or token.text.lower()


def srl_props_columns(doc: Doc) -> List[List[str]]:
    """The TARGET column then one Start-End column per predicate (token order), from `srl:*`.

    Each inner list has one cell per token. Raises ValueError for a group whose predicate
    index is outside the doc, or whose spans cross.
    """
    predicates = srl_predicates(doc)
    targets = [NO_TARGET] * len(doc)
    columns = [targets]
    for index in predicates:
        if index >= len(doc):
            raise ValueError(f"span group {srl_key(index)!r} names a token outside the doc")
        targets[index] = predicate_lemma(doc, index)
        spans = doc.spans[srl_key(index)]
        columns.append(props_column([(s.start, s.end, s.label_) for s in spans], len(doc)))
    return columns


def props_lines(columns: Sequence[Sequence[str]], delimiter: str = " ") -> List[str]:
    """Columns (as from srl_props_columns) as one line per token."""
    return [delimiter.join(cells) for cells in zip(*columns)]


MergedArgument = Tuple[str, Tuple[Tuple[int, int], ...]]  # (label, ((start, end), ...))


def merged_arguments(arguments: Iterable[ArgumentTuple]) -> List[MergedArgument]:
    """Arguments as srl-eval.pl counts them: (label, spans), V and C-V left out.

    A `C-X` span joins the closest preceding argument labelled X (or stands alone as X when
    there is none).
    """
    merged: List[Tuple[str, List[Tuple[int, int]]]] = []
    for start, end, label in sorted(arguments, key=lambda arg: (arg[0], -arg[1])):
        if label in VERB_LABELS:
            continue
        if label.startswith(CONTINUATION_PREFIX):
            base = label[len(CONTINUATION_PREFIX):]
            for previous_label, spans in reversed(merged):
                if previous_label == base:
                    spans.append((start, end))
                    break
            else:
                merged.append((base, [(start, end)]))
            continue
        merged.append((label, [(start, end)]))
    return [(label, tuple(spans)) for label, spans in merged]
