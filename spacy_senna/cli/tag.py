"""`tag`: a drop-in replacement for the SENNA binary, on a spaCy pipeline.

Reads one sentence per line on stdin and writes SENNA's output on stdout: one line per
token (the token right-aligned in 15 characters, then a tab-separated column per task),
and an empty line after each sentence. The options are spelled as the SENNA binary spells
them, with a single dash, so existing SENNA wrappers work unchanged:

    -pos -chk -ner -srl     tasks to output (none given: every task the pipeline has)
    -iobtags                IOB2 tags (B-NP, I-NP) instead of the default IOBES tags
    -brackettags            bracket tags: (NP*  *  *)  (NP*)
    -usrtokens              split the line on whitespace instead of using spaCy's tokenizer
    -offsettags             add a column with each token's character offsets in its line
    -notokentags            leave the token column out
    -posvbs                 SRL predicates: the tokens whose POS tag starts with V
    -usrvbs FILE            SRL predicates from FILE: one line per token, a blank line after
                            each sentence; a line other than '-' marks a predicate
    -path DIR               accepted for compatibility and ignored (no SENNA data is read)
    -verbose                notes on stderr
    --model NAME_OR_PATH    the spaCy pipeline (default: the installed package en_senna)
    --batch-size N          sentences per batch (default 128)

stdin is read as it arrives: a batch holds the lines already available (up to --batch-size),
so a program that writes one line and waits for its output is answered at once, while a
large file is tagged in full batches with constant memory. Output is flushed per batch.

The same runs as the `senna` console script and as `python -m spacy_senna tag`.
"""
import importlib.util
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import IO, Callable, Iterable, Iterator, List, Optional, Sequence, Tuple

import typer

from ._util import DEFAULT_MODEL, app, fail_line

TASKS = ("pos", "chk", "ner", "srl")
SCHEMES = ("iobes", "iob2", "brackets")
DEFAULT_BATCH_SIZE = 128
READ_SIZE = 1 << 16
# SENNA's tokens are separated by ASCII whitespace only: a no-break space stays inside a token.
_USER_TOKEN = re.compile(r"[^ \t\n\r\f\v]+")
_BLANK = " \t\n\r\f\v"

USAGE = """\
usage: senna [options] < input.txt > output.txt
       python -m spacy_senna tag [options] < input.txt > output.txt

SENNA-compatible tagging with a spaCy pipeline: one sentence per line on stdin,
one token per line on stdout, an empty line after each sentence.

options (as the SENNA binary spells them):
  -pos -chk -ner -srl    tasks to output (default: all the pipeline has)
  -iobtags               IOB2 tags instead of IOBES
  -brackettags           bracket tags instead of IOBES
  -usrtokens             tokens are separated by whitespace (no spaCy tokenizer)
  -offsettags            print character offsets of each token in its line
  -notokentags           do not print the tokens
  -posvbs                SRL predicates: tokens whose POS tag starts with V
  -usrvbs FILE           SRL predicates given in FILE (one line per token, '-' for
                         none, an empty line between sentences)
  -path DIR              accepted for compatibility, ignored (no SENNA data needed)
  -verbose               notes on stderr
  --model NAME_OR_PATH   spaCy pipeline (default: installed package en_senna)
  --batch-size N         sentences per batch (default 128)
  -h, --help             show this help
"""


class TagUsageError(Exception):
    """Bad command line: reported on one line, exit code 1."""


class TagError(Exception):
    """Cannot tag (no model, missing task, unreadable input): one line, exit code 1."""


@dataclass
class TagOptions:
    """The parsed command line."""

    tasks: List[str] = field(default_factory=list)  # empty: every task the pipeline has
    scheme: str = "iobes"
    usrtokens: bool = False
    offsettags: bool = False
    notokentags: bool = False
    posvbs: bool = False
    usrvbs: Optional[str] = None
    path: Optional[str] = None
    verbose: bool = False
    model: Optional[str] = None
    batch_size: int = DEFAULT_BATCH_SIZE
    help: bool = False


_FLAGS = {
    "-usrtokens": "usrtokens",
    "-offsettags": "offsettags",
    "-notokentags": "notokentags",
    "-posvbs": "posvbs",
    "-verbose": "verbose",
}


def parse_args(argv: Sequence[str]) -> TagOptions:
    """Parse SENNA's single-dash options (plus --model and --batch-size)."""
    opts = TagOptions()
    args = list(argv)
    i = 0

    def value(name: str) -> str:
        nonlocal i
        if i + 1 >= len(args):
            raise TagUsageError(f"option {name} needs a value")
        i += 1
        return args[i]

    while i < len(args):
        arg = args[i]
        if arg in ("-pos", "-chk", "-ner", "-srl"):
            if arg[1:] not in opts.tasks:
                opts.tasks.append(arg[1:])
        elif arg in _FLAGS:
            setattr(opts, _FLAGS[arg], True)
        elif arg == "-iobtags":
            opts.scheme = "iob2"
        elif arg == "-brackettags":
            opts.scheme = "brackets"
        elif arg == "-usrvbs":
            opts.usrvbs = value(arg)
        elif arg == "-path":
            opts.path = value(arg)
        elif arg in ("--model", "-model"):
            opts.model = value(arg)
        elif arg.startswith("--model="):
            opts.model = arg[len("--model="):]
        elif arg in ("--batch-size", "--batch-size=") or arg.startswith("--batch-size="):
            raw = arg.split("=", 1)[1] if "=" in arg else value(arg)
            try:
                opts.batch_size = int(raw)
            except ValueError:
                raise TagUsageError(f"--batch-size needs a positive integer, got {raw!r}") from None
            if opts.batch_size < 1:
                raise TagUsageError(f"--batch-size needs a positive integer, got {raw!r}")
        elif arg in ("-h", "-help", "--help"):
            opts.help = True
        elif arg == "-psg":
            raise TagUsageError("option -psg (syntactic parsing) is not supported by spacy-senna")
        elif arg.startswith("-"):
            raise TagUsageError(f"unknown option {arg!r} (run with -h for the options)")
        else:
            raise TagUsageError(f"unexpected argument {arg!r}: input is read from stdin (-h for help)")
        i += 1
    if opts.model is not None and not opts.model.strip():
        raise TagUsageError("--model needs a pipeline name or path")
    return opts


def default_model() -> str:
    """The installed package DEFAULT_MODEL, or a TagError saying to pass --model."""
    try:
        found = importlib.util.find_spec(DEFAULT_MODEL) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise TagError(
            f"no model: pass --model NAME_OR_PATH (the default package {DEFAULT_MODEL} is not installed)"
        )
    return DEFAULT_MODEL


def load_model(name: str, opts: Optional[TagOptions] = None):
    """spacy.load the pipeline (with `opts`, only what its flags need: tag_load.py); a
    TagError (one line) when that fails."""
    import spacy

    try:
        if opts is not None:
            from .tag_load import load_for_tasks

            return load_for_tasks(name, opts.tasks, user_tokens=opts.usrtokens, posvbs=opts.posvbs)
        return spacy.load(name)
    except Exception as err:  # spacy.load raises OSError, ValueError, config errors...
        problem = " ".join(str(err).split()) or type(err).__name__
        raise TagError(f"cannot load model {name}: {problem}") from None


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
    from ..tags import spans_to_tags

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


def _clean(text: str) -> str:
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
                text = _decode(raw).strip(_BLANK)
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


# -- the tagger ----------------------------------------------------------------------------
class SennaTagRun:
    """A loaded pipeline set up for the asked tasks; `tag_batch` turns lines into output."""

    def __init__(self, nlp, opts: TagOptions, log: Callable[[str], None]) -> None:
        from ..pipeline import SennaChunker, SennaSRL

        self.nlp = nlp
        self.opts = opts
        self.log = log
        available = {}
        for name, proc in nlp.pipeline:
            assigns = nlp.get_pipe_meta(name).assigns if name in nlp.pipe_names else []
            if "pos" not in available and ("token.tag" in assigns or "token.tag_" in assigns):
                available["pos"] = name
            if "chk" not in available and isinstance(proc, SennaChunker):
                available["chk"] = name
            if "ner" not in available and ("doc.ents" in assigns or "token.ent_iob" in assigns):
                available["ner"] = name
            if "srl" not in available and isinstance(proc, SennaSRL):
                available["srl"] = name
        self.available = available
        if opts.tasks:
            missing = [task for task in opts.tasks if task not in available]
            if missing:
                has = " ".join(f"-{t}" for t in TASKS if t in available) or "none"
                raise TagError(
                    f"the model has no component for {' '.join('-' + t for t in missing)} "
                    f"(it can do: {has})"
                )
            self.tasks = [task for task in TASKS if task in opts.tasks]
        else:
            self.tasks = [task for task in TASKS if task in available]
            if not self.tasks:
                raise TagError("the model has none of the SENNA components (POS, chunker, NER, SRL)")
        self.chunks_key = (
            nlp.get_pipe(available["chk"]).spans_key if "chk" in self.tasks else "chunks"
        )
        # Run the pipeline up to the last component an asked task needs.
        needed = {available[task] for task in self.tasks}
        last = max(nlp.pipe_names.index(name) for name in needed)
        self.components = [(n, p) for n, p in nlp.pipeline[: last + 1]]
        self.srl_name = available.get("srl") if "srl" in self.tasks else None
        self.predicate_source = self._predicate_source()
        if self.srl_name and self.predicate_source:
            nlp.get_pipe(self.srl_name).predicates = "given"
        self.usrvbs = (
            PredicateFile(opts.usrvbs) if self.predicate_source == "usrvbs" else None
        )
        self.n_sentences = self.n_tokens = 0

    def _predicate_source(self) -> Optional[str]:
        """Where the SRL predicates come from: 'usrvbs', 'posvbs', or None (the model's own)."""
        opts = self.opts
        if not self.srl_name:
            if opts.posvbs or opts.usrvbs:
                self.log("-posvbs/-usrvbs ignored: no SRL output asked")
            return None
        if opts.usrvbs is not None:
            if opts.posvbs:
                self.log("-posvbs ignored: -usrvbs gives the predicates")
            return "usrvbs"
        mode = getattr(self.nlp.get_pipe(self.srl_name), "predicates", None)
        if opts.posvbs or mode == "given":
            if "pos" not in self.available:
                need = "-posvbs needs" if opts.posvbs else "the SRL component takes given predicates: it needs"
                raise TagError(f"{need} a POS tagger in the model (or use -usrvbs FILE)")
            tagger = self.nlp.pipe_names.index(self.available["pos"])
            if tagger > self.nlp.pipe_names.index(self.srl_name):
                raise TagError("-posvbs needs the POS tagger to run before the SRL component")
            if not opts.posvbs:
                self.log("the model's SRL component takes given predicates: using POS verbs (-posvbs)")
            return "posvbs"
        return None

    def sentences(self, lines: Sequence[str]) -> List[Sentence]:
        """The lines with tokens, tokenised (empty lines give nothing)."""
        found = []
        for line in lines:
            if not line.strip(_BLANK):
                continue
            if self.opts.usrtokens:
                sentence = split_user_tokens(line)
            else:
                doc = self.nlp.make_doc(_clean(line))
                kept = [t for t in doc if not t.is_space]
                offsets = [(t.idx, t.idx + len(t.text)) for t in kept]
                sentence = Sentence(
                    [line[start:end] for start, end in offsets],
                    offsets,
                    [bool(t.whitespace_) for t in kept],
                )
            if not sentence.words:
                continue
            if self.usrvbs is not None:
                marks, start = self.usrvbs.next_block()
                if len(marks) != len(sentence.words):
                    raise TagError(
                        f"-usrvbs file {self.usrvbs.path}, line {start}: {len(marks)} lines for a "
                        f"sentence of {len(sentence.words)} tokens ({' '.join(sentence.words)[:60]!r})"
                        + ("" if self.opts.usrtokens else "; use -usrtokens to keep your tokens")
                    )
                sentence.predicates = [i for i, mark in enumerate(marks) if mark]
            found.append(sentence)
        return found

    def run(self, sentences: List[Sentence]) -> list:
        """The annotated docs of the sentences."""
        from spacy.tokens import Doc

        docs = [
            Doc(self.nlp.vocab, words=[_clean(w) for w in s.words], spaces=s.spaces)
            for s in sentences
        ]
        for name, proc in self.components:
            if name == self.srl_name and self.predicate_source:
                for doc, sentence in zip(docs, sentences):
                    for index in self._predicates(doc, sentence):
                        doc[index]._.srl_predicate = True
            if hasattr(proc, "pipe"):
                docs = list(proc.pipe(docs, batch_size=max(1, len(docs))))
            else:
                docs = [proc(doc) for doc in docs]
        return docs

    def _predicates(self, doc, sentence: Sentence) -> List[int]:
        if self.predicate_source == "usrvbs":
            return list(sentence.predicates or [])
        if self.predicate_source == "posvbs":
            return [t.i for t in doc if t.tag_.startswith("V")]
        return []

    def tag_batch(self, lines: Sequence[str]) -> str:
        """SENNA's output for a batch of input lines."""
        sentences = self.sentences(lines)
        if not sentences:
            return ""
        out: List[str] = []
        for doc, sentence in zip(self.run(sentences), sentences):
            out.extend(self.format(doc, sentence))
            out.append("")
            self.n_sentences += 1
            self.n_tokens += len(doc)
        return "\n".join(out) + "\n"

    def format(self, doc, sentence: Sentence) -> List[str]:
        """One output line per token of a tagged sentence."""
        from ..srl_format import srl_key, srl_predicates

        n = len(doc)
        scheme = self.opts.scheme
        columns: List[List[str]] = []
        if not self.opts.notokentags:
            columns.append([f"{word:>15}" for word in sentence.words])
        if self.opts.offsettags:
            columns.append([f"{start} {end}" for start, end in sentence.offsets])
        for task in self.tasks:
            if task == "pos":
                columns.append([f"{t.tag_ or '-':>10}" for t in doc])
            elif task == "chk":
                spans = [(s.start, s.end, s.label_) for s in doc.spans.get(self.chunks_key, [])]
                columns.append([f"{tag:>10}" for tag in phrase_tags(spans, n, scheme)])
            elif task == "ner":
                spans = [(s.start, s.end, s.label_) for s in doc.ents]
                columns.append([f"{tag:>10}" for tag in phrase_tags(spans, n, scheme)])
            else:
                if self.predicate_source:
                    predicates = sorted(set(self._predicates(doc, sentence)))
                else:
                    predicates = [i for i in srl_predicates(doc) if i < n]
                marked = set(predicates)
                columns.append(
                    [f"{word if i in marked else '-':>15}" for i, word in enumerate(sentence.words)]
                )
                for index in predicates:
                    group = doc.spans.get(srl_key(index), [])
                    spans = with_verb(non_overlapping((s.start, s.end, s.label_) for s in group), index)
                    columns.append([f"{tag:>10}" for tag in phrase_tags(spans, n, scheme)])
        return ["\t".join(cells) for cells in zip(*columns)] if columns else [""] * n


def tag_stream(run: SennaTagRun, stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """Tag stdin to stdout batch by batch, flushing after each batch."""
    for lines in read_line_batches(stdin, run.opts.batch_size):
        text = run.tag_batch(lines)
        if text:
            stdout.write(text.encode("utf-8", "surrogateescape"))
            stdout.flush()


def main(
    argv: Optional[Sequence[str]] = None,
    stdin: Optional[IO[bytes]] = None,
    stdout: Optional[IO[bytes]] = None,
    stderr: Optional[IO[str]] = None,
) -> int:
    """Run the SENNA-compatible tagger; returns the exit code (0, or 1 after one error line).

    With no arguments it reads sys.argv, stdin and stdout and exits: the `senna` console script.
    """
    as_script = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    stdin = sys.stdin.buffer if stdin is None else stdin
    stdout = sys.stdout.buffer if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    code = _run(argv, stdin, stdout, stderr)
    if as_script:
        sys.exit(code)
    return code


def _run(argv: List[str], stdin: IO[bytes], stdout: IO[bytes], stderr: IO[str]) -> int:
    def log(message: str) -> None:
        if verbose:
            print(f"[senna] {message}", file=stderr, flush=True)

    verbose = False
    run = None
    try:
        opts = parse_args(argv)
        verbose = opts.verbose
        if opts.help:
            stdout.write(USAGE.encode("utf-8"))
            stdout.flush()
            return 0
        if opts.path is not None:
            log(f"-path {opts.path} ignored: spacy-senna needs no SENNA data directory")
        model = opts.model or default_model()
        start = time.perf_counter()
        nlp = load_model(model, opts)
        log(f"loaded {model} ({', '.join(nlp.pipe_names) or 'no components'}) in {time.perf_counter() - start:.1f}s")
        run = SennaTagRun(nlp, opts, log)
        log(
            f"tasks: {' '.join('-' + t for t in run.tasks)}; tags: {opts.scheme}; "
            f"tokens: {'whitespace (-usrtokens)' if opts.usrtokens else 'spaCy tokenizer'}"
            + (f"; SRL predicates: -{run.predicate_source}" if run.predicate_source else "")
        )
        start = time.perf_counter()
        tag_stream(run, stdin, stdout)
        seconds = time.perf_counter() - start
        log(
            f"tagged {run.n_sentences} sentences, {run.n_tokens} tokens in {seconds:.2f}s"
            + (f" ({run.n_tokens / seconds:,.0f} tokens/s)" if seconds > 0 else "")
        )
        return 0
    except (TagUsageError, TagError) as err:
        print(fail_line(str(err)), file=stderr, flush=True)
        return 1
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if run is not None and run.usrvbs is not None:
            run.usrvbs.close()


def _silence_stdout() -> None:
    """After the reader went away: point stdout at devnull so the exit flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


@app.command(
    "tag",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def tag_cli(ctx: typer.Context) -> None:
    """SENNA-compatible tagging: one sentence per line on stdin, SENNA's output on stdout (-h lists the options).

    Options as the SENNA binary spells them: -pos -chk -ner -srl -iobtags -brackettags
    -usrtokens -offsettags -notokentags -posvbs -usrvbs FILE -path DIR -verbose, plus
    --model NAME_OR_PATH.
    """
    code = main(ctx.args, sys.stdin.buffer, sys.stdout.buffer, sys.stderr)
    raise typer.Exit(code)
