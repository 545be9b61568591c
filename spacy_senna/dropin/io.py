"""SENNA's input and output: lines read from stdin as they arrive, SENNA's tokens, the -usrvbs
predicate file, phrases as tags and the output lines (a token per line, one column per task).
No spaCy: the drop-in's lean path (dropin/lean.py) and its spaCy path (cli/tag.py) both read
and write through this module.
"""
import os
import re
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterable, Iterator, List, Optional, Tuple

from ..tags import spans_to_tags
from .args import TagError

READ_SIZE = 1 << 16
# SENNA's tokens are separated by ASCII whitespace only: a no-break space stays inside a token.
_USER_TOKEN = re.compile(r"[^ \t\n\r\f\v]+")
BLANK = " \t\n\r\f\v"
_BLANK_NOT_SPACE = BLANK[1:]


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


def spacy_tokens(line: str, make_doc: Callable[[str], Any]) -> Sentence:
    """A line tokenised by spaCy (`make_doc`: a pipeline's), its whitespace tokens left out;
    the words are the line's own characters at the tokens' offsets."""
    kept = [token for token in make_doc(clean_text(line)) if not token.is_space]
    offsets = [(token.idx, token.idx + len(token.text)) for token in kept]
    return Sentence([line[start:end] for start, end in offsets], offsets, [bool(token.whitespace_) for token in kept])


def split_user_tokens(line: str) -> Sentence:
    """-usrtokens: tokens are the runs of non-whitespace characters (ASCII whitespace)."""
    if any(blank in line for blank in _BLANK_NOT_SPACE):
        matches = list(_USER_TOKEN.finditer(line))
        words = [m.group() for m in matches]
        offsets = [(m.start(), m.end()) for m in matches]
    else:  # only spaces between the tokens: str.split, several times faster
        words, offsets, start = [], [], 0
        for part in line.split(" "):
            if part:
                words.append(part)
                offsets.append((start, start + len(part)))
            start += len(part) + 1
    spaces = [end < len(line) for _, end in offsets]
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


# -- output lines --------------------------------------------------------------------------
def tag_cells(tags: Iterable[str]) -> List[str]:
    """A task's tag column: each tag right-aligned in 10 characters, as SENNA prints it."""
    return [f"{tag:>10}" for tag in tags]


def token_columns(sentence: "Sentence", notokentags: bool, offsettags: bool) -> List[List[str]]:
    """The columns before the task columns: the tokens right-aligned in 15 characters
    (unless `notokentags`), their character offsets (with `offsettags`)."""
    columns: List[List[str]] = []
    if not notokentags:
        columns.append([f"{word:>15}" for word in sentence.words])
    if offsettags:
        columns.append([f"{start} {end}" for start, end in sentence.offsets])
    return columns


def sentence_lines(columns: List[List[str]], n_tokens: int) -> List[str]:
    """One output line per token: its cells joined by tabs (an empty line each without columns)."""
    return ["\t".join(cells) for cells in zip(*columns)] if columns else [""] * n_tokens
