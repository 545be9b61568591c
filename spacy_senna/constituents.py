"""Constituency trees: PTB bracket reading, the parsing preprocessing, and the level
decomposition of Collobert (2011), "Deep Learning for Efficient Discriminative Parsing".

A sentence's tree is held as its constituents, `(start, end, label)` token ranges (end
exclusive) in pre-order: a parent before its children, and in a unary chain (several labels
on one range, e.g. S over VP) the outer label first. POS tags are not constituents.

The level decomposition (`tree_levels`): the unary chains are merged into one constituent
labelled `OUTER#INNER` (Collobert's choice; `split_chains` undoes it), so that every
constituent covers at least two units of the level below. A constituent's height is 1 when
all its children are words, else 1 + its highest child's height. Level l labels the *units*
left by the levels below (the constituents of height < l not inside another one, and the
words no constituent covers yet) with IOBES tags: the constituents of height l are phrases of
consecutive units. Level 1 is chunk-like (it labels words); the last level has the root.
Every properly nested set of constituents has exactly one decomposition and
`levels_to_constituents` rebuilds it: the round trip is the identity.

Pure functions, no spaCy: the component, the reader and the scorer build on them.
"""
import re
from dataclasses import dataclass
from typing import Iterable, Iterator, List, NamedTuple, Optional, Sequence, Set, Tuple, Union

from .tags import spans_to_tags, tags_to_spans

Constituent = Tuple[int, int, str]  # (start token, end token exclusive, label)
CHAIN_JOINER = "#"
EMPTY_TAG = "-NONE-"
ROOT_LABEL = "S1"  # the label SENNA's -psg column prints around every sentence


class TreeFormatError(ValueError):
    """Malformed bracketed text: the message reads 'line N: PROBLEM'."""

    def __init__(self, problem: str, line: int) -> None:
        self.problem = problem
        self.line = line
        super().__init__(f"line {line}: {problem}")


class Leaf(NamedTuple):
    """A preterminal: the POS tag and its word."""

    tag: str
    word: str


class Tree(NamedTuple):
    """A constituent: its label ("" for PTB's unlabelled wrapper) and its children."""

    label: str
    children: Tuple[Union["Tree", Leaf], ...]


@dataclass(frozen=True)
class ParsedSentence:
    """A preprocessed tree: its words, POS tags and constituents (pre-order)."""

    words: Tuple[str, ...]
    tags: Tuple[str, ...]
    constituents: Tuple[Constituent, ...]
    line: int = 1  # where its tree opens in the file


@dataclass(frozen=True)
class Level:
    """One level: the units it labels (start token of each; units tile the sentence) and
    their IOBES tags over the merged labels."""

    unit_starts: Tuple[int, ...]
    tags: Tuple[str, ...]


# -- reading bracketed trees ------------------------------------------------------------------
class _OwnWord(Leaf):
    """While reading: the word of a (TAG word) bracket, told apart from a Leaf child."""


_TOKEN = re.compile(r"\(|\)|[^\s()]+")


def _bracket_tokens(lines: Iterable[Tuple[int, str]]) -> Iterator[Tuple[int, str]]:
    for line_no, text in lines:
        for match in _TOKEN.finditer(text):
            yield line_no, match.group()


def read_trees(lines: Iterable[Tuple[int, str]]) -> Iterator[Tuple[int, Tree]]:
    """Stream (opening line, tree) from (line number, text) pairs; several trees a line or
    one tree over many lines. A TreeFormatError names the line of any unbalanced bracket,
    text outside a tree, an unlabelled inner constituent or an empty one."""
    stack: List[Tuple[int, List]] = []  # (line, [label, children...]) of the open brackets
    expect_label = False
    last_line = 0
    for line_no, token in _bracket_tokens(lines):
        last_line = line_no
        if token == "(":
            stack.append((line_no, []))
            expect_label = True
            continue
        if token == ")":
            if not stack:
                raise TreeFormatError("unbalanced brackets: ')' closes no open bracket", line_no)
            opened, node = stack.pop()
            tree = _make_node(node, opened, is_top=not stack)
            expect_label = False
            if stack:
                stack[-1][1].append(tree)
            else:
                yield opened, tree
            continue
        if not stack:
            raise TreeFormatError(f"text outside a tree: {token!r}", line_no)
        node = stack[-1][1]
        if expect_label:
            node.append(token)
            expect_label = False
        else:
            if len(node) != 1 or not isinstance(node[0], str):
                raise TreeFormatError(f"word {token!r} is not in a (TAG word) pair", line_no)
            node[0] = _OwnWord(node[0], token)
    if stack:
        opened = stack[0][0]
        problem = f"unbalanced brackets: the tree opened at line {opened} is not closed at the end of the file"
        raise TreeFormatError(problem, max(last_line, 1))


def _make_node(node: List, line: int, is_top: bool) -> Union[Tree, Leaf]:
    """A closed bracket's Tree, or its Leaf for a (TAG word) pair."""
    if not node:
        raise TreeFormatError("empty brackets '()'", line)
    if isinstance(node[0], _OwnWord):
        if len(node) != 1:
            raise TreeFormatError(f"(TAG word) pair {node[0].tag!r} holds more than its word", line)
        return Leaf(*node[0])
    if isinstance(node[0], str):
        label, children = node[0], node[1:]
        if not children:
            raise TreeFormatError(f"constituent {label!r} has no children", line)
        return Tree(label, tuple(children))
    if not is_top:
        raise TreeFormatError("a constituent without a label (only the outermost bracket may have none)", line)
    return Tree("", tuple(node))


# -- preprocessing ----------------------------------------------------------------------------
def strip_label(label: str) -> str:
    """NP-SBJ-1 -> NP, PP=2 -> PP, S-TPC -> S; -LRB-, -NONE- and the like stay as they are."""
    if label.startswith("-"):
        return label
    return re.split(r"[-=]", label, maxsplit=1)[0] or label


def preprocess(tree: Tree) -> Optional[Tree]:
    """The tree without -NONE- leaves, without the constituents they leave empty, and with
    functional tags and indices stripped from the labels (POS tags are kept). None when
    nothing is left."""
    children = []
    for child in tree.children:
        if isinstance(child, Leaf):
            if child.tag != EMPTY_TAG:
                children.append(child)
            continue
        kept = preprocess(child)
        if kept is not None:
            children.append(kept)
    if not children:
        return None
    return Tree(strip_label(tree.label) if tree.label else "", tuple(children))


def tree_sentence(tree: Tree, line: int = 1) -> ParsedSentence:
    """The words, tags and constituents of a (preprocessed) tree; an unlabelled wrapper
    (PTB's outer `( ... )`, or a TOP label) is not a constituent."""
    words: List[str] = []
    tags: List[str] = []
    constituents: List[Constituent] = []

    def walk(node: Union[Tree, Leaf]) -> None:
        if isinstance(node, Leaf):
            words.append(node.word)
            tags.append(node.tag)
            return
        index = len(constituents)
        constituents.append((len(words), -1, node.label))
        for child in node.children:
            walk(child)
        constituents[index] = (constituents[index][0], len(words), node.label)

    if tree.label in ("", "TOP", ROOT_LABEL):
        for child in tree.children:
            walk(child)
    else:
        walk(tree)
    return ParsedSentence(tuple(words), tuple(tags), tuple(constituents), line)


# -- unary chains -----------------------------------------------------------------------------
def sort_constituents(constituents: Iterable[Constituent]) -> List[Constituent]:
    """Pre-order: by start, longer first; a unary chain keeps its given order (outer first)."""
    return sorted(constituents, key=lambda c: (c[0], -c[1]))


def merge_chains(constituents: Sequence[Constituent]) -> List[Constituent]:
    """One constituent per token range, the labels of a unary chain joined outer first
    (S over VP -> 'S#VP')."""
    merged: List[Constituent] = []
    for start, end, label in sort_constituents(constituents):
        if merged and merged[-1][:2] == (start, end):
            merged[-1] = (start, end, merged[-1][2] + CHAIN_JOINER + label)
        else:
            merged.append((start, end, label))
    return merged


def top_label(label: str) -> str:
    """The outermost label of a merged unary chain ('S#VP' -> 'S'); a plain label itself."""
    return label.split(CHAIN_JOINER, 1)[0]


def split_chains(constituents: Sequence[Constituent]) -> List[Constituent]:
    """Undo merge_chains: 'S#VP' -> S then VP over the same range."""
    return [(start, end, part) for start, end, label in constituents for part in label.split(CHAIN_JOINER)]


# -- levels -----------------------------------------------------------------------------------
class NotATreeError(ValueError):
    """Constituents that cross or fall outside the sentence."""


def check_nested(n_words: int, constituents: Sequence[Constituent]) -> None:
    """Raise NotATreeError unless the constituents are non-empty, inside the sentence and
    properly nested."""
    open_ends: List[int] = []
    for start, end, label in sort_constituents(constituents):
        if not 0 <= start < end <= n_words:
            raise NotATreeError(f"constituent {label!r} ({start}, {end}) is outside the sentence of {n_words} words")
        while open_ends and open_ends[-1] <= start:
            open_ends.pop()
        if open_ends and end > open_ends[-1]:
            raise NotATreeError(f"constituent {label!r} ({start}, {end}) crosses another one ending at {open_ends[-1]}")
        open_ends.append(end)


def parents(merged: Sequence[Constituent]) -> List[int]:
    """The index of each merged constituent's parent (given in pre-order), -1 for a top one."""
    result = [-1] * len(merged)
    stack: List[int] = []  # indices of the open ancestors
    for index, (start, _, _) in enumerate(merged):
        while stack and merged[stack[-1]][1] <= start:
            stack.pop()
        result[index] = stack[-1] if stack else -1
        stack.append(index)
    return result


def heights(merged: Sequence[Constituent]) -> List[int]:
    """The height of each merged constituent (given in pre-order): 1 over words only, else
    1 + the highest child's."""
    result = [1] * len(merged)
    for index, parent in reversed(list(enumerate(parents(merged)))):
        if parent >= 0:
            result[parent] = max(result[parent], result[index] + 1)
    return result


def tree_levels(n_words: int, constituents: Sequence[Constituent]) -> List[Level]:
    """The levels of a tree (constituents in any order, unary chains not yet merged)."""
    check_nested(n_words, constituents)
    merged = merge_chains(constituents)
    if not merged:
        return []
    height = heights(merged)
    units: List[Tuple[int, int]] = [(i, i + 1) for i in range(n_words)]
    levels = []
    for level in range(1, max(height) + 1):
        starts = [start for start, _ in units]
        index_of = {start: k for k, start in enumerate(starts)}
        phrases = []  # (first unit, last unit + 1, label)
        for (start, end, label), h in zip(merged, height):
            if h == level:
                first = index_of[start]
                last = first
                while units[last][1] < end:
                    last += 1
                phrases.append((first, last + 1, label))
        levels.append(Level(tuple(starts), tuple(spans_to_tags(phrases, len(units), "iobes"))))
        units = _merge_units(units, phrases)
    return levels


def _merge_units(units: List[Tuple[int, int]], phrases: Sequence[Constituent]) -> List[Tuple[int, int]]:
    """The units of the next level: each phrase of units becomes one unit."""
    merged = list(units)
    for first, last, _ in sorted(phrases, reverse=True):
        merged[first:last] = [(units[first][0], units[last - 1][1])]
    return merged


def unit_ends(unit_starts: Sequence[int], n_words: int) -> List[int]:
    """The end token of each unit (units tile the sentence)."""
    return list(unit_starts[1:]) + [n_words]


def level_constituents(n_words: int, unit_starts: Sequence[int], tags: Sequence[str]) -> List[Constituent]:
    """The word ranges of the phrases that a level's unit tags make (merged labels)."""
    ends = unit_ends(unit_starts, n_words)
    return [(unit_starts[first], ends[last - 1], label) for first, last, label in tags_to_spans(tags, "iobes")]


def next_unit_starts(n_words: int, unit_starts: Sequence[int], found: Sequence[Constituent]) -> Tuple[int, ...]:
    """The units after a level that found `found`: starts inside a found range disappear."""
    inside = set()
    for start, end, _ in found:
        inside.update(range(start + 1, end))
    return tuple(start for start in unit_starts if start not in inside)


def oracle_tags(n_words: int, unit_starts: Sequence[int], found: Set[Tuple[int, int]], gold: Sequence[Constituent]) -> List[str]:
    """The unit tags that a level should give over any partial tree, the model's own as well
    as the gold levels below: IOBES over each gold constituent that is still to build (its
    range not among the `found` ones), whose range is whole units, and none of whose gold
    descendants is still to build; O elsewhere. `gold`: the merged constituents in pre-order.
    A gold constituent that a wrong one crosses can never be built, and no longer holds its
    ancestors back. Over the gold levels below, these are the gold level's tags."""
    boundaries = set(unit_starts) | {n_words}
    buildable = [(start, end) not in found and start in boundaries and end in boundaries for start, end, _ in gold]
    pending = list(buildable)  # itself or a descendant still to build
    blocked = [False] * len(gold)  # a descendant still to build
    for index, parent in reversed(list(enumerate(parents(gold)))):
        if parent >= 0 and pending[index]:
            pending[parent] = blocked[parent] = True
    unit_of = {start: k for k, start in enumerate(unit_starts)}
    unit_of[n_words] = len(unit_starts)
    phrases = [
        (unit_of[start], unit_of[end], label)
        for (start, end, label), ready, waits in zip(gold, buildable, blocked)
        if ready and not waits
    ]
    return spans_to_tags(phrases, len(unit_starts), "iobes")


def levels_to_constituents(n_words: int, levels: Sequence[Level]) -> List[Constituent]:
    """Rebuild the constituents (unary chains split, pre-order) from the levels' tags."""
    merged: List[Constituent] = []
    for level in levels:
        merged.extend(level_constituents(n_words, level.unit_starts, level.tags))
    return split_chains(sort_constituents(merged))


def unit_history(n_words: int, unit_starts: Sequence[int], merged: Sequence[Constituent]) -> List[str]:
    """Per word, the IOBES tag of the unit it is in at a level: B-X/I-X/E-X (or S-X for a one-
    word constituent) inside a constituent unit labelled X, O for a word no constituent
    covers yet. The parser's input feature from the levels below."""
    ends = dict(zip(unit_starts, unit_ends(unit_starts, n_words)))
    labels = {(start, end): label for start, end, label in merged}
    phrases = [(start, end, labels[start, end]) for start, end in ends.items() if (start, end) in labels]
    return spans_to_tags(phrases, n_words, "iobes")


# -- output -----------------------------------------------------------------------------------
def ptb_string(words: Sequence[str], tags: Sequence[str], constituents: Sequence[Constituent], root: str = "") -> str:
    """'(S (NP (DT The) (NN cat)) (VP (VBD sat)))'; wrapped in '(ROOT ...)' when `root` is
    given (or when the constituents are not one tree over all the words). Brackets in words
    and tags are written as -LRB- / -RRB-."""
    opens: List[List[str]] = [[] for _ in words]
    closes = [0] * len(words)
    for start, end, label in sort_constituents(constituents):
        opens[start].append(label)
        closes[end - 1] += 1
    parts = []
    for i, (word, tag) in enumerate(zip(words, tags)):
        pieces = [f"({label} " for label in opens[i]]
        pieces.append(f"({_escape(tag)} {_escape(word)})")
        pieces.append(")" * closes[i])
        parts.append("".join(pieces))
    body = " ".join(parts)
    covers = any(start == 0 and end == len(words) for start, end, _ in constituents)
    if root or not covers:
        return f"({root or ROOT_LABEL} {body})"
    return body


def _escape(text: str) -> str:
    return text.replace("(", "-LRB-").replace(")", "-RRB-")


def senna_column(n_words: int, constituents: Sequence[Constituent], root: str = ROOT_LABEL) -> List[str]:
    """SENNA's -psg column (CoNLL-2005's synt layout): per word its opening '(LABEL's, '*',
    then its closing brackets: '(S1(S(NP*', '*', '*))'. `root` wraps the sentence."""
    opens = [[] for _ in range(n_words)]
    closes = [0] * n_words
    if n_words and root:
        opens[0].append(root)
        closes[n_words - 1] += 1
    for start, end, label in sort_constituents(constituents):
        opens[start].append(label)
        closes[end - 1] += 1
    return ["".join(f"({label}" for label in opens[i]) + "*" + ")" * closes[i] for i in range(n_words)]
