"""Readers for the SENNA benchmark corpora (WSJ POS, CoNLL-2000 chunking, CoNLL-2003 NER,
CoNLL-2005 SRL, and the PTB constituency trees of the parser: format "ptb").

Every format is read line by line (gzipped files transparently), one sentence at a time,
so memory stays constant however large the file. Every problem in the input stops the
read with a `SennaFormatError` naming the file, the line and what is wrong.
"""
import gzip
import json
import tarfile
import zlib
from collections import deque
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Callable, Deque, Dict, Iterable, Iterator, List, Optional, Sequence
from typing import Tuple, TypeVar, Union

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import registry
from spacy.vocab import Vocab

from .constituency import set_constituents
from .constituents import ParsedSentence, TreeFormatError, preprocess, read_trees, tree_sentence
from .srl_format import NO_TARGET, SRL_ANNOTATED, Proposition, PropsFormatError
from .srl_format import mark_predicates, parse_props_column, predicate_lemma, set_propositions
from .srl_format import srl_predicates
from .tags import TagSchemeError, tags_to_spans
from .tasks import CHUNKS_KEY
from .util import one_line

FORMATS = ("wsj", "conll2000", "conll2003", "conll2005")
PTB_FORMAT = "ptb"  # bracketed trees (.mrg), not columns: read by read_ptb_sentences
CORPUS_FORMATS = FORMATS + (PTB_FORMAT,)  # every format convert / predict / evaluate read
PARTS = ("all", "train", "heldout")
DOC_ID_KEY = "senna_doc_id"
DOCSTART = "-DOCSTART-"

PathLike = Union[str, Path]
T = TypeVar("T")


class SennaFormatError(ValueError):
    """Malformed input: the message reads 'FILE, line N: PROBLEM' (or 'FILE: PROBLEM')."""

    def __init__(self, path: PathLike, problem: str, line: Optional[int] = None) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{path}, line {line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class FormatSpec:
    """The layout of one corpus format."""

    columns: Tuple[str, ...]  # column names, for error messages
    delimiter: Optional[str]  # None: any run of whitespace
    schemes: Dict[int, str]  # column index -> tag scheme that column must follow
    pos_column: Optional[int]
    chunk_column: Optional[int] = None
    ner_column: Optional[int] = None
    has_docstart: bool = False
    srl: bool = False  # CoNLL-2005: WORD TARGET then one props column per predicate

    def describe_columns(self) -> str:
        """'2 tab-separated columns (WORD TAG)' style description for messages."""
        kind = " tab-separated" if self.delimiter == "\t" else ""
        least, more = ("at least ", " [PROPS ...]") if self.srl else ("", "")
        return f"{least}{len(self.columns)}{kind} columns ({' '.join(self.columns)}{more})"


SPECS: Dict[str, FormatSpec] = {
    "wsj": FormatSpec(("WORD", "TAG"), "\t", {}, pos_column=1),
    "conll2000": FormatSpec(
        ("WORD", "POS", "CHUNK"), None, {2: "iob2"}, pos_column=1, chunk_column=2
    ),
    "conll2003": FormatSpec(
        ("WORD", "POS", "CHUNK", "NE"),
        None,
        {2: "iob1", 3: "iob1"},
        pos_column=1,
        chunk_column=2,
        ner_column=3,
        has_docstart=True,
    ),
    "conll2005": FormatSpec(("WORD", "TARGET"), None, {}, pos_column=None, srl=True),
}


@dataclass(frozen=True)
class Row:
    """One token line: its 1-based line number, the line as read (no line ending), its columns."""

    line_no: int
    text: str
    columns: Tuple[str, ...]


@dataclass(frozen=True)
class Sentence:
    """The token rows of one sentence plus the verbatim non-token lines around it.

    `lines_before` holds the blank and -DOCSTART- lines between the previous sentence and
    this one; `lines_after` is only filled for the last sentence (the lines after it), so
    writing before + rows + after for every sentence reproduces the whole file.
    """

    rows: Tuple[Row, ...]
    lines_before: Tuple[str, ...] = ()
    lines_after: Tuple[str, ...] = ()
    doc_id: int = 0
    # conll2005: the propositions read from the props columns (None: not parsed yet)
    propositions: Optional[Tuple[Proposition, ...]] = None

    @property
    def words(self) -> List[str]:
        """The word column."""
        return self.column(0)

    @property
    def first_line(self) -> int:
        """Line number of the first token."""
        return self.rows[0].line_no

    def column(self, index: int) -> List[str]:
        """One column of the sentence, one value per token."""
        return [row.columns[index] for row in self.rows]

    @property
    def predicates(self) -> List[Tuple[int, str]]:
        """conll2005: (token index, lemma) of every token whose TARGET is not '-'."""
        return [(i, t) for i, t in enumerate(self.column(1)) if t != NO_TARGET]


def get_spec(fmt: str) -> FormatSpec:
    """The FormatSpec of a format name, or a ValueError listing the known formats."""
    if fmt not in SPECS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return SPECS[fmt]


def read_sentences(path: PathLike, fmt: str) -> Iterator[Sentence]:
    """Stream the sentences of a corpus file, checking every line."""
    spec = get_spec(fmt)
    path = Path(path)
    pending: Optional[Sentence] = None  # held back until we know whether it is the last
    rows: List[Row] = []
    lines_before: List[str] = []
    gap: List[str] = []  # non-token lines since the last token row
    doc_id, doc_has_sentences, sentence_doc_id = 0, False, 0
    last_line = 0
    for line_no, text in read_lines(path):
        last_line = line_no
        docstart = spec.has_docstart and is_docstart(text)
        if docstart or not text.strip():
            if rows:
                finished = _finish(path, spec, rows, lines_before, sentence_doc_id)
                rows = []
                if pending is not None:
                    yield pending
                pending = finished
            if docstart and doc_has_sentences:
                doc_id, doc_has_sentences = doc_id + 1, False
            gap.append(text)
            continue
        if not rows:
            lines_before, gap = gap, []
            sentence_doc_id, doc_has_sentences = doc_id, True
        row = parse_row(path, line_no, text, spec)
        if spec.srl and rows and len(row.columns) != len(rows[0].columns):
            problem = (
                f"found {len(row.columns)} columns, but the sentence's first line "
                f"(line {rows[0].line_no}) has {len(rows[0].columns)}"
            )
            raise SennaFormatError(path, problem, line_no)
        rows.append(row)
    if rows:
        finished = _finish(path, spec, rows, lines_before, sentence_doc_id)
        if pending is not None:
            yield pending
        pending = finished
    if pending is None:
        problem = "no sentences found" + (" (the file is empty)" if last_line == 0 else "")
        raise SennaFormatError(path, problem, max(last_line, 1))
    yield replace(pending, lines_after=tuple(gap))


def _finish(
    path: Path, spec: FormatSpec, rows: List[Row], lines_before: List[str], doc_id: int
) -> Sentence:
    """The Sentence of the rows read; for conll2005 with its props columns checked and parsed."""
    sentence = Sentence(tuple(rows), tuple(lines_before), doc_id=doc_id)
    if spec.srl:
        sentence = replace(sentence, propositions=tuple(read_propositions(path, sentence)))
    return sentence


def read_propositions(path: PathLike, sentence: Sentence) -> List[Proposition]:
    """Parse a conll2005 sentence's props columns, one Proposition per TARGET.

    Raises SennaFormatError naming the line of the problem: a props column count that is not
    the number of targets, a cell that is not Start-End, or unbalanced brackets.
    """
    predicates = sentence.predicates
    n_columns = len(sentence.rows[0].columns) - 2
    if n_columns != len(predicates):
        problem = (
            f"the sentence has {len(predicates)} predicates in the TARGET column but "
            f"{n_columns} props columns"
        )
        raise SennaFormatError(path, problem, sentence.first_line)
    propositions = []
    for k, (index, lemma) in enumerate(predicates):
        try:
            arguments = parse_props_column(sentence.column(2 + k))
        except PropsFormatError as err:
            where = f"props column {k + 1} (predicate {lemma!r}, token {index + 1})"
            line = sentence.rows[err.token].line_no
            raise SennaFormatError(path, f"{where}: {err.problem}", line) from None
        propositions.append(Proposition(index, lemma, tuple(arguments)))
    return propositions


def text_record(path: Path, line: str, line_no: int) -> Dict:
    """A JSONL line as its object, which must hold a "text" string; else a SennaFormatError."""
    try:
        record = json.loads(line)
    except ValueError as err:
        raise SennaFormatError(path, f"not valid JSON: {' '.join(str(err).split())}", line_no) from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise SennaFormatError(path, 'expected a JSON object with a "text" string', line_no)
    return record


def read_lines(path: Path) -> Iterator[Tuple[int, str]]:
    """Yield (1-based line number, decoded line without its line ending); gunzip `.gz` files."""
    if not path.exists():
        raise SennaFormatError(path, "file not found")
    if path.is_dir():
        raise SennaFormatError(path, "is a directory, not a corpus file")
    opener: Callable = gzip.open if path.suffix == ".gz" else open
    line_no = 0
    try:
        with opener(path, "rb") as file:
            for line_no, raw in enumerate(file, start=1):
                yield line_no, _decode(path, line_no, raw)
    except (OSError, EOFError, zlib.error) as err:
        raise SennaFormatError(path, f"cannot read the file: {err}", line_no + 1) from None


def _decode(path: Path, line_no: int, raw: bytes) -> str:
    """Decode one line as UTF-8 and drop its line ending (and a leading byte-order mark)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        position = f"byte 0x{raw[err.start]:02x} at byte {err.start + 1} of the line"
        problem = f"not valid UTF-8 ({position})"
        raise SennaFormatError(path, problem, line_no) from None
    if line_no == 1:
        text = text.lstrip("\ufeff")
    return text.rstrip("\r\n")


def is_docstart(text: str) -> bool:
    """Whether a line is a CoNLL-2003 `-DOCSTART- -X- -X- O` document separator."""
    return text.strip().split(maxsplit=1)[:1] == [DOCSTART]


def parse_row(path: Path, line_no: int, text: str, spec: FormatSpec) -> Row:
    """Split a token line into columns, checking the column count and the tag schemes.

    Each column is stripped ('Shares <TAB>NNS' is the word 'Shares'); a column that would be
    empty ('<TAB>NNS', 'Shares<TAB> ') makes the line one column short.
    """
    columns = tuple(column.strip() for column in text.strip().split(spec.delimiter))
    if len(columns) != len(spec.columns) and not (spec.srl and len(columns) > len(spec.columns)):
        problem = f"expected {spec.describe_columns()}, found {len(columns)}"
        raise SennaFormatError(path, problem, line_no)
    for index, scheme in spec.schemes.items():
        problem = tag_problem(columns[index], scheme)
        if problem is not None:
            raise SennaFormatError(path, f"{spec.columns[index]} column: {problem}", line_no)
    return Row(line_no, text, columns)


@lru_cache(maxsize=4096)
def tag_problem(tag: str, scheme: str) -> Optional[str]:
    """Why `tag` cannot occur in `scheme`, or None when it can."""
    try:
        tags_to_spans([tag], scheme)
    except TagSchemeError as err:
        return str(err).split(": ", 1)[-1]  # drop the "token 0: " that tags_to_spans adds
    return None


def make_doc(vocab: Vocab, words: Sequence[str]) -> Doc:
    """A Doc of the given words, separated by single spaces."""
    spaces = [True] * (len(words) - 1) + [False]
    return Doc(vocab, words=list(words), spaces=spaces)


def sentence_to_doc(sentence: Sentence, fmt: str, vocab: Vocab) -> Doc:
    """The gold Doc of a sentence: tags in token.tag_, chunks in doc.spans, entities in doc.ents.

    conll2005: each predicate token i gets `doc.spans["srl:<i>"]` (its arguments, V included,
    labelled as in the file; attrs {"predicate": i, "lemma": TARGET}) and
    `doc.user_data["srl_annotated"]` is True.
    """
    spec = get_spec(fmt)
    doc = make_doc(vocab, sentence.words)
    if spec.pos_column is not None:
        for token, tag in zip(doc, sentence.column(spec.pos_column)):
            token.tag_ = tag
    if spec.srl:
        propositions = sentence.propositions
        if propositions is None:
            propositions = read_propositions("<sentence>", sentence)
        set_propositions(doc, propositions)
        doc.user_data[SRL_ANNOTATED] = True
    if spec.chunk_column is not None:
        doc.spans[CHUNKS_KEY] = _column_spans(doc, sentence, spec, spec.chunk_column)
    if spec.ner_column is not None:
        doc.ents = _column_spans(doc, sentence, spec, spec.ner_column)
    if spec.has_docstart:
        doc.user_data[DOC_ID_KEY] = sentence.doc_id
    return doc


def input_doc(vocab: Vocab, sentence: Sentence, fmt: str, given_predicates: bool = True) -> Doc:
    """The unannotated Doc a pipeline gets for a sentence: its words, and for conll2005 (when
    `given_predicates`) the gold predicates as empty `srl:<i>` groups with their attrs."""
    doc = make_doc(vocab, sentence.words)
    if given_predicates and get_spec(fmt).srl:
        mark_predicates(doc, sentence.predicates)
    return doc


def given_predicates_doc(vocab: Vocab, gold: Doc) -> Doc:
    """The words of a gold Doc plus its predicates as empty `srl:<i>` groups (same attrs)."""
    doc = make_doc(vocab, [token.text for token in gold])
    return mark_predicates(doc, [(i, predicate_lemma(gold, i)) for i in srl_predicates(gold)])


def _column_spans(doc: Doc, sentence: Sentence, spec: FormatSpec, column: int) -> List[Span]:
    """The phrases of a tag column as labelled Spans of `doc`."""
    phrases = tags_to_spans(sentence.column(column), spec.schemes[column])
    return [Span(doc, start, end, label=label) for start, end, label in phrases]


def gold_docs(path: PathLike, fmt: str, vocab: Vocab) -> Iterator[Doc]:
    """One gold Doc per sentence of a corpus file in any format, "ptb" included."""
    if fmt == PTB_FORMAT:
        return (parsed_sentence_doc(s, vocab) for s in read_ptb_sentences(path))
    return (sentence_to_doc(s, fmt, vocab) for s in read_sentences(path, fmt))


# -- PTB trees ---------------------------------------------------------------------------------
PTB_SUFFIX = ".mrg"


def read_ptb_sentences(path: PathLike) -> Iterator[ParsedSentence]:
    """The preprocessed trees (-NONE- and what it leaves empty dropped, functional tags and
    indices stripped) of a .mrg file (.gz read transparently), of every .mrg file under a
    folder, or of every .mrg member of a .tar.gz archive, in name order. Problems raise a
    SennaFormatError naming the file (archive:member) and line."""
    path = Path(path)
    found = False
    for name, lines in _ptb_files(path):
        try:
            for line, tree in read_trees(lines):
                kept = preprocess(tree)
                if kept is None:
                    raise SennaFormatError(name, "the tree holds only -NONE- elements", line)
                found = True
                yield tree_sentence(kept, line)
        except TreeFormatError as err:
            raise SennaFormatError(name, err.problem, err.line) from None
    if not found:
        raise SennaFormatError(path, f"no trees found (no {PTB_SUFFIX} file, or only empty ones)")


def _ptb_files(path: Path) -> Iterator[Tuple[str, Iterable[Tuple[int, str]]]]:
    """(name for messages, numbered lines) of each tree file that `path` holds."""
    if path.is_dir():
        for file in sorted(path.rglob(f"*{PTB_SUFFIX}")):
            yield str(file), read_lines(file)
        return
    if path.name.endswith((".tar.gz", ".tgz", ".tar")):
        yield from _archive_files(path)
        return
    yield str(path), read_lines(path)


def _archive_files(path: Path) -> Iterator[Tuple[str, Iterable[Tuple[int, str]]]]:
    try:
        with tarfile.open(path) as archive:
            members = sorted((m for m in archive if m.isfile() and m.name.endswith(PTB_SUFFIX)), key=lambda m: m.name)
            for member in members:
                name = f"{path}:{member.name}"
                raw = archive.extractfile(member).read()
                yield name, (_numbered(name, raw))
    except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
        raise SennaFormatError(path, f"cannot read the archive: {one_line(err)}") from None


def _numbered(name: str, raw: bytes) -> Iterator[Tuple[int, str]]:
    for line_no, line in enumerate(raw.splitlines(), start=1):
        yield line_no, _decode(Path(name), line_no, line)


def parsed_sentence_doc(sentence: ParsedSentence, vocab: Vocab) -> Doc:
    """The gold Doc of a tree: POS tags in token.tag_, constituents in doc.spans["constituents"]."""
    doc = make_doc(vocab, sentence.words)
    for token, tag in zip(doc, sentence.tags):
        token.tag_ = tag
    set_constituents(doc, sentence.constituents)
    return doc


class HoldOutError(ValueError):
    """Too few items to hold out the requested number."""


def split_hold_out(items: Iterable[T], hold_out: int) -> Iterator[Tuple[T, bool]]:
    """Yield (item, is_held_out), flagging the last `hold_out` items; buffers only those."""
    if hold_out < 0:
        raise ValueError(f"hold_out must be 0 or more, not {hold_out}")
    buffer: Deque[T] = deque()
    n_kept = 0
    for item in items:
        buffer.append(item)
        if len(buffer) > hold_out:
            n_kept += 1
            yield buffer.popleft(), False
    if hold_out and n_kept == 0:
        raise HoldOutError(
            f"has only {len(buffer)} sentences: cannot hold out {hold_out} "
            "and keep any for training"
        )
    for item in buffer:
        yield item, True


def read_docs(
    path: PathLike,
    fmt: str,
    vocab: Optional[Vocab] = None,
    hold_out: int = 0,
    part: str = "all",
) -> Iterator[Doc]:
    """Stream one gold Doc per sentence; part "heldout" is the last `hold_out`, "train" the rest."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; expected one of {', '.join(PARTS)}")
    if part == "all":
        return gold_docs(path, fmt, vocab if vocab is not None else Vocab())
    wanted = part == "heldout"
    return (doc for doc, held in read_docs_split(path, fmt, vocab, hold_out) if held == wanted)


def read_docs_split(
    path: PathLike, fmt: str, vocab: Optional[Vocab], hold_out: int
) -> Iterator[Tuple[Doc, bool]]:
    """Stream (gold Doc, is_held_out) pairs; the last `hold_out` sentences are held out."""
    docs = gold_docs(path, fmt, vocab if vocab is not None else Vocab())
    try:
        yield from split_hold_out(docs, hold_out)
    except HoldOutError as err:
        raise SennaFormatError(path, str(err)) from None


class ConllCorpus:
    """Callable corpus for spaCy's training loop: `corpus(nlp)` yields one Example per sentence."""

    def __init__(
        self,
        path: PathLike,
        fmt: str,
        limit: int = 0,
        hold_out: int = 0,
        part: str = "all",
        given_predicates: bool = True,
    ) -> None:
        if fmt != PTB_FORMAT:
            get_spec(fmt)
        if part not in PARTS:
            raise ValueError(f"unknown part {part!r}; expected one of {', '.join(PARTS)}")
        if part != "all" and hold_out <= 0:
            raise ValueError(f"part={part!r} needs hold_out > 0")
        if limit < 0 or hold_out < 0:
            raise ValueError("limit and hold_out must be 0 or more")
        self.path = Path(path)
        self.format = fmt
        self.limit = limit
        self.hold_out = hold_out
        self.part = part
        self.given_predicates = given_predicates

    def __call__(self, nlp: Language) -> Iterator[Example]:
        """Yield Examples whose predicted Doc has the gold words and no annotation.

        conll2005 with `given_predicates`: the predicted Doc also holds the gold predicates,
        as empty `srl:<i>` span groups (for an SRL component with predicates = "given").
        """
        docs = read_docs(self.path, self.format, nlp.vocab, self.hold_out, self.part)
        mark = self.given_predicates and self.format != PTB_FORMAT and get_spec(self.format).srl
        for gold in islice(docs, self.limit or None):
            if mark:
                predicted = given_predicates_doc(nlp.vocab, gold)
            else:
                predicted = make_doc(nlp.vocab, [token.text for token in gold])
            yield Example(predicted, gold)


@registry.readers("spacy_senna.ConllCorpus.v1")
def create_conll_corpus(
    path: Optional[Path],
    format: str,
    limit: int = 0,
    hold_out: int = 0,
    part: str = "all",
    given_predicates: bool = True,
) -> Callable[[Language], Iterator[Example]]:
    """Registered reader: sentences of a wsj/conll2000/conll2003/conll2005 file (or the trees
    of a ptb file, folder or .tar.gz) as Examples.

    `given_predicates` (conll2005 only): put the gold predicates on the predicted docs as
    empty `srl:<i>` span groups; set it to false for a pipeline that finds them itself.
    """
    if path is None:
        raise ValueError(
            "spacy_senna.ConllCorpus.v1: path is None; set it in the config or override it "
            "on the command line, e.g. --paths.train corpus/train.txt"
        )
    return ConllCorpus(
        path, format, limit=limit, hold_out=hold_out, part=part, given_predicates=given_predicates
    )
