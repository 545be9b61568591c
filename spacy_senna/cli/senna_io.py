"""SENNA's input and output: lines read from stdin as they arrive, SENNA's tokens, the -usrvbs
predicate file, and the output columns of each task (a token per line, one column per task).
"""
import os
import re
from dataclasses import dataclass
from typing import IO, Iterable, Iterator, List, Optional, Sequence, Tuple

from spacy.tokens import Doc

from ..tags import spans_to_tags
from ..tasks import Annotation, Constituents, Frames, Phrases, span_tuples
from .senna_args import TagError

READ_SIZE = 1 << 16
# SENNA's tokens are separated by ASCII whitespace only: a no-break space stays inside a token.
_USER_TOKEN = re.compile(r"[^ \t\n\r\f\v]+")
BLANK = " \t\n\r\f\v"


# -- tag formatting ------------------------------------------------------------------------
Spans = Iterable[Tuple[int, int, str]]


def non_overlapping(spans: Spans) -> List[Tuple[int, int, str]]:
    """The spans sorted by start, dropping any that overlaps an earlier one."""
    kept: List[Tuple[int, int, str]] = []
    end = 0
    for span in sorted(spans, key=lambda s: (s[0], -s[1])):
        if span[0] >= end and span[1] > span[0]:
            kept.append(span)
            end = span[1]
    return kept


def phrase_tags(spans: Spans, length: int, scheme: str) -> List[str]:
    """One tag per token for non-overlapping phrases: IOBES, IOB2 or SENNA's bracket tags."""
    spans = non_overlapping(spans)
    if scheme != "brackets":
        return spans_to_tags(spans, length, scheme)
    tags = ["*"] * length
    for start, end, label in spans:
        if end - start == 1:
            tags[start] = f"({label}*)"
        else:
            tags[start], tags[end - 1] = f"({label}*", "*)"
    return tags


def with_verb(spans: List[Tuple[int, int, str]], index: int) -> List[Tuple[int, int, str]]:
    """The arguments of the predicate at `index`, with the predicate itself labelled V as in
    SENNA's output: when the model gave its token another label, that argument is cut around it."""
    if any(start <= index < end and label == "V" for start, end, label in spans):
        return spans
    fixed = []
    for start, end, label in spans:
        if start <= index < end:
            fixed.extend(part for part in ((start, index, label), (index + 1, end, label)) if part[0] < part[1])
        else:
            fixed.append((start, end, label))
    return sorted(fixed + [(index, index + 1, "V")])


@dataclass
class Sentence:
    """One input line to tag: its tokens, their offsets, and its -usrvbs predicate marks."""

    words: List[str]
    offsets: List[Tuple[int, int]]
    spaces: List[bool]
    predicates: Optional[List[int]] = None


def split_user_tokens(line: str) -> Sentence:
    """-usrtokens: tokens are the runs of non-whitespace characters."""
    matches = list(_USER_TOKEN.finditer(line))
    words = [m.group() for m in matches]
    offsets = [(m.start(), m.end()) for m in matches]
    spaces = [m.end() < len(line) for m in matches]
    return Sentence(words, offsets, spaces)


# -- reading stdin as it arrives -----------------------------------------------------------
def read_line_batches(stream: IO[bytes], size: int) -> Iterator[List[str]]:
    """Batches of decoded lines (without line endings): up to `size` lines, fewer when no more
    input is available yet, so that interactive callers get their answer without waiting."""
    fd = _select_fd(stream)
    if fd is None:
        yield from _greedy_batches(stream, size)
        return
    import select

    pending = b""
    eof = False
    while not eof:
        lines: List[bytes] = []
        # Read while input is ready, but never block once we hold a complete line.
        while len(lines) < size:
            if lines and not select.select([fd], [], [], 0)[0]:
                break
            chunk = _read(fd)
            if not chunk:
                eof = True
                if pending:
                    lines.append(pending)
                break
            more = (pending + chunk).split(b"\n")
            pending = more.pop()
            lines.extend(more)
        for start in range(0, len(lines), size):
            yield [_decode(raw) for raw in lines[start : start + size]]


def _select_fd(stream: IO[bytes]) -> Optional[int]:
    """The stream's file descriptor when select() works on it (POSIX), else None."""
    if os.name != "posix":
        return None
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    try:
        import select

        select.select([fd], [], [], 0)
    except (OSError, ValueError):
        return None
    return fd


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, READ_SIZE)
    except IsADirectoryError:
        raise TagError("cannot read the input: stdin is a directory") from None
    except OSError as err:
        raise TagError(f"cannot read the input: {err.strerror or err}") from None


def _greedy_batches(stream: IO[bytes], size: int) -> Iterator[List[str]]:
    batch: List[str] = []
    try:
        for raw in stream:
            batch.append(_decode(raw))
            if len(batch) >= size:
                yield batch
                batch = []
    except OSError as err:
        raise TagError(f"cannot read the input: {err.strerror or err}") from None
    if batch:
        yield batch


def clean_text(text: str) -> str:
    """The text for spaCy: undecodable bytes (kept as lone surrogates) become U+FFFD, one
    character for one, so offsets stay those of the input line."""
    if text.isprintable() or not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return "".join("\ufffd" if "\udc80" <= ch <= "\udcff" else ch for ch in text)


def _decode(raw: bytes) -> str:
    """UTF-8, keeping undecodable bytes as they are (they are written back unchanged)."""
    return raw.decode("utf-8", "surrogateescape").rstrip("\r\n")


class PredicateFile:
    """The -usrvbs file, read one sentence block at a time in step with stdin."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.file = open(path, "rb")
        except OSError as err:
            raise TagError(f"cannot read -usrvbs file {path}: {err.strerror or err}") from None
        self.line_no = 0
        self.n_blocks = 0

    def next_block(self) -> Tuple[List[bool], int]:
        """The predicate marks of the next sentence (blank lines before it are skipped),
        and the line number it starts at."""
        marks: List[bool] = []
        start = 0
        try:
            for raw in self.file:
                self.line_no += 1
                text = _decode(raw).strip(BLANK)
                if not text:
                    if marks:
                        break
                    continue
                if not marks:
                    start = self.line_no
                marks.append(text != "-")
        except OSError as err:
            raise TagError(f"cannot read -usrvbs file {self.path}: {err.strerror or err}") from None
        self.n_blocks += 1
        if not marks:
            raise TagError(
                f"-usrvbs file {self.path} ends after {self.n_blocks - 1} sentences, but the input has more"
            )
        return marks, start

    def close(self) -> None:
        self.file.close()


# -- the output columns --------------------------------------------------------------------
def task_columns(
    annotation: Annotation, doc: Doc, words: Sequence[str], scheme: str, predicates: Sequence[int] = ()
) -> List[List[str]]:
    """SENNA's columns for one task's annotation on a tagged doc: a tag column (tags, or
    phrases in `scheme`); for semantic roles, the predicate column (its word on each of
    `predicates`, '-' elsewhere) and one column of arguments per predicate; for a tree,
    SENNA's -psg column ('(S1(S(NP*')."""
    if isinstance(annotation, Frames):
        marked = set(predicates)
        columns = [[f"{word if i in marked else '-':>15}" for i, word in enumerate(words)]]
        for index in predicates:
            spans = with_verb(non_overlapping(span_tuples(annotation.group(doc, index))), index)
            columns.append(_tag_cells(phrase_tags(spans, len(doc), scheme)))
        return columns
    if isinstance(annotation, Phrases):
        return [_tag_cells(phrase_tags(annotation.read(doc), len(doc), scheme))]
    if isinstance(annotation, Constituents):  # SENNA prints its -psg column unpadded
        return [annotation.tags(doc)]
    return [_tag_cells(tag or "-" for tag in annotation.read(doc))]


def _tag_cells(tags: Iterable[str]) -> List[str]:
    return [f"{tag:>10}" for tag in tags]
