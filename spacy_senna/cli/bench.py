"""`bench`: words per second of a pipeline on one CPU thread, per component and end to end.

The numbers are taken in a child process started with OMP/OpenBLAS/MKL/BLIS limited to one
thread (those limits only work when set before numpy loads its BLAS); the parent relays the
child's output. INPUT is raw text (one text per line) or a corpus file in one of the
`convert` formats, whose gold words are then given to the components pre-tokenised. The
first --warmup texts are run untimed; the others are timed --repeat times, keeping the
fastest run of each step.
"""
import json
import os
import re
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from enum import Enum
from itertools import islice
from pathlib import Path
from typing import Any, Dict, List, Optional

import typer
from spacy.language import Language
from spacy.tokens import Doc

from ..readers import FORMATS, SennaFormatError, make_doc, read_lines, read_sentences
from ._util import app, fail
from .predict import DEFAULT_BATCH_SIZE, load_pipeline

THREAD_ENV = {
    name: "1"
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "BLIS_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    )
}
DEFAULT_WARMUP = 100
DEFAULT_REPEAT = 3
DETECT_LINES = 200
_TAG = re.compile(r"^(O|[BI]-\S+)$")


# How to read INPUT: auto-detected, raw text, or one of the corpus formats of readers.FORMATS.
BenchFormat = Enum(  # type: ignore[misc]
    "BenchFormat", {name: name for name in ("auto", "text", *FORMATS)}, type=str
)


@dataclass
class BenchInput:
    """The texts to time; `words` holds the gold words of each text when INPUT is a corpus."""

    fmt: str
    texts: List[str]
    words: Optional[List[List[str]]] = None

    def __len__(self) -> int:
        return len(self.texts)

    def part(self, start: int, end: Optional[int] = None) -> "BenchInput":
        words = self.words[start:end] if self.words is not None else None
        return BenchInput(self.fmt, self.texts[start:end], words)


def detect_format(path: Path) -> str:
    """'wsj', 'conll2000' or 'conll2003' when the first lines look like that corpus format, else 'text'."""
    rows = [text for _, text in islice(read_lines(path), DETECT_LINES) if text.strip()]
    if not rows:
        return "text"
    if all(len(row.split("\t")) == 2 and row.split("\t")[0].strip() for row in rows):
        return "wsj"
    columns = [row.split() for row in rows]
    if all(len(cols) == 3 and _TAG.match(cols[2]) for cols in columns):
        return "conll2000"
    if all(len(cols) == 4 and _TAG.match(cols[3]) for cols in columns):
        return "conll2003"
    return "text"


def read_bench_input(path: Path, fmt: str = "auto") -> BenchInput:
    """The texts of INPUT: its non-blank lines, or the sentences of a corpus file."""
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "text":
        return BenchInput("text", [text.strip() for _, text in read_lines(path) if text.strip()])
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    words = [sentence.words for sentence in read_sentences(path, fmt)]
    return BenchInput(fmt, [" ".join(w) for w in words], words)


def run_bench(
    nlp: Language,
    data: BenchInput,
    batch_size: int = DEFAULT_BATCH_SIZE,
    warmup: int = DEFAULT_WARMUP,
    repeat: int = DEFAULT_REPEAT,
) -> Dict[str, Any]:
    """Time the tokenizer, each component and the whole pipeline on the texts after the warm-up.

    The first `warmup` texts go once through everything untimed; the rest are timed `repeat`
    times and each step keeps its fastest run (the steady state, as `timeit` does: caches
    such as the tokenizer's are filled by then). Words per second count the words each step
    receives: the tokenizer's tokens for the tokenizer and for the whole pipeline (which
    starts from raw text); for the components the gold words of a corpus, or the
    tokenizer's tokens for raw text.
    """
    if warmup < 0 or repeat < 1:
        raise ValueError("warmup must be 0 or more and repeat 1 or more")
    if len(data) <= warmup:
        raise ValueError(f"has {len(data)} texts: need more than --warmup {warmup} to time anything")
    warm, timed = data.part(0, warmup), data.part(warmup)
    if len(warm):
        _component_pass(nlp, _input_docs(nlp, warm), batch_size)
        list(nlp.pipe(warm.texts, batch_size=batch_size))

    best: Dict[str, float] = {}
    for _ in range(repeat):
        start = time.perf_counter()
        tokenized = list(nlp.tokenizer.pipe(timed.texts, batch_size=batch_size))
        seconds = {"tokenizer": time.perf_counter() - start}
        docs = _input_docs(nlp, timed) if timed.words is not None else tokenized
        seconds.update(_component_pass(nlp, docs, batch_size))
        start = time.perf_counter()
        for _ in nlp.pipe(timed.texts, batch_size=batch_size):
            pass
        seconds["pipeline"] = time.perf_counter() - start
        best = {name: min(s, best.get(name, s)) for name, s in seconds.items()}

    n_tokens = sum(len(doc) for doc in tokenized)
    n_words = sum(len(doc) for doc in docs)
    counts = {name: n_words for name in nlp.pipe_names}
    counts["tokenizer"] = counts["pipeline"] = n_tokens
    return {
        "words_per_second": {name: _rate(counts[name], s) for name, s in best.items()},
        "seconds": {name: round(s, 4) for name, s in best.items()},
        "n_texts": len(timed),
        "n_words": n_words,
        "n_words_tokenized": n_tokens,
        "warmup_texts": len(warm),
        "repeat": repeat,
        "batch_size": batch_size,
        "input_format": data.fmt,
        "pretokenized": timed.words is not None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "threads": {name: os.environ.get(name) for name in THREAD_ENV},
    }


def _input_docs(nlp: Language, data: BenchInput) -> List[Doc]:
    """Unannotated docs for the components: the gold words, or the tokenizer's output."""
    if data.words is not None:
        return [make_doc(nlp.vocab, words) for words in data.words]
    return list(nlp.tokenizer.pipe(data.texts))


def _component_pass(nlp: Language, docs: List[Doc], batch_size: int) -> Dict[str, float]:
    """Run the components in pipeline order over `docs`; seconds per component."""
    seconds = {}
    for name, proc in nlp.pipeline:
        start = time.perf_counter()
        if hasattr(proc, "pipe"):
            docs = list(proc.pipe(docs, batch_size=batch_size))
        else:
            docs = [proc(doc) for doc in docs]
        seconds[name] = time.perf_counter() - start
    return seconds


def _rate(n_words: int, seconds: float) -> float:
    return round(n_words / seconds, 1) if seconds > 0 else float("inf")


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def single_threaded() -> bool:
    """Whether this process was started with every thread-count variable at 1."""
    return all(os.environ.get(name) == value for name, value in THREAD_ENV.items())


def _limit_loaded_pools() -> None:
    """Also cap thread pools of libraries already loaded (torch; BLAS via threadpoolctl if present)."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)


def _rerun_single_threaded(args: List[str]) -> int:
    """Run `python -m spacy_senna bench ARGS` with one thread; relay its output; its exit code."""
    env = {**os.environ, **THREAD_ENV}
    command = [sys.executable, "-m", "spacy_senna", "bench", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.stdout:
        typer.echo(result.stdout, nl=False)
    if result.stderr:
        typer.echo(result.stderr, nl=False, err=True)
    return result.returncode


@app.command("bench")
def bench_cli(
    model: str = typer.Argument(..., help="Pipeline package name or folder for spacy.load."),
    input_path: Path = typer.Argument(
        ..., help="Text file (one text per line) or a corpus file in a --format of `convert`."
    ),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", "-b", min=1),
    warmup: int = typer.Option(
        DEFAULT_WARMUP, "--warmup", "-w", min=0, help="Texts run untimed first (not timed later)."
    ),
    repeat: int = typer.Option(
        DEFAULT_REPEAT, "--repeat", "-r", min=1, help="Timed runs; each step keeps its fastest."
    ),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write the JSON here."),
    fmt: BenchFormat = typer.Option(  # type: ignore[valid-type]
        BenchFormat.auto.value, "--format", "-f", help="INPUT's format; auto-detected by default."
    ),
) -> None:
    """Words/second of MODEL's tokenizer, each component and the whole pipeline, on one thread (JSON)."""
    if not single_threaded():
        args = [model, str(input_path), "--batch-size", str(batch_size), "--warmup", str(warmup)]
        args += ["--repeat", str(repeat)]
        args += ["--format", fmt.value] + (["--output", str(output)] if output else [])
        raise typer.Exit(code=_rerun_single_threaded(args))
    _limit_loaded_pools()
    try:
        data = read_bench_input(input_path, fmt.value)
    except SennaFormatError as err:
        fail(str(err))
    nlp = load_pipeline(model)
    try:
        result = {"model": model, "input": str(input_path), **run_bench(nlp, data, batch_size, warmup, repeat)}
    except ValueError as err:
        fail(f"{input_path}: {err}")
    text = json.dumps(result, indent=2)
    typer.echo(text)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n", encoding="utf8")
