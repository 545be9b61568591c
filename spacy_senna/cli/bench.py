"""`bench`: words per second of a pipeline on one CPU thread, per component and end to end.

The numbers are taken in a child process started with OMP/OpenBLAS/MKL/BLIS limited to one
thread (those limits only work when set before numpy loads its BLAS); the parent relays the
child's output. INPUT is raw text (one text per line) or a corpus file in one of the
`convert` formats, whose gold words are then given to the components pre-tokenised (for
conll2005 with the gold predicates, which SRL components then take: predicates = "given"
during that pass only). The first --warmup texts are run untimed; the others are timed
--repeat times, keeping the fastest run of each step. The components are timed by wall clock
(`words_per_second`) and by the process's CPU time (`words_per_cpu_second`), which another
job on the same core disturbs less.

Besides the component pass, each component's task is timed from raw text with only the
components it needs enabled (`task_words_per_second`, `task_pipes`): itself, the earlier
senna components whose POS or chunk tags its model embeds (recursively), or, for a component
that is not a senna one, every earlier component. --compare MODEL measures more pipelines,
each in its own child, and prints {"runs": [...]} plus a table on stderr; --scaling adds
words/s against batch size, sentence length and n_process (one timed run each).
"""
import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from itertools import islice
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Set

import typer
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import Model
from wasabi import table

from ..processes import PipeGuard
from ..readers import FORMATS, Sentence, SennaFormatError, get_spec, input_doc, read_lines
from ..readers import read_sentences
from ..layers.attr_embed import embedded_features
from ..tasks import BY_FEATURE  # the annotation a model can embed -> the task that sets it
from ._util import DEFAULT_BATCH_SIZE, PipelineError, app, fail, load_pipeline, one_line, open_output

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

SCALING_BATCH_SIZES = (1, 8, 32, 128, 512)
SCALING_N_PROCESS = (1, 2)
LENGTH_BUCKETS = ((1, 10), (11, 20), (21, 40), (41, None))  # tokens per text, inclusive


# How to read INPUT: auto-detected, raw text, or one of the corpus formats of readers.FORMATS.
BenchFormat = Enum(  # type: ignore[misc]
    "BenchFormat", {name: name for name in ("auto", "text", *FORMATS)}, type=str
)


@dataclass
class BenchInput:
    """The texts to time; `sentences` holds the corpus sentence of each text when INPUT is a corpus."""

    fmt: str
    texts: List[str]
    sentences: Optional[List[Sentence]] = None

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def words(self) -> Optional[List[List[str]]]:
        """The gold words of each text (corpus input), else None."""
        return None if self.sentences is None else [sentence.words for sentence in self.sentences]

    @property
    def given_predicates(self) -> bool:
        """Whether the components get the gold predicates (conll2005 input)."""
        return self.sentences is not None and get_spec(self.fmt).srl

    def part(self, start: int, end: Optional[int] = None) -> "BenchInput":
        sentences = self.sentences[start:end] if self.sentences is not None else None
        return BenchInput(self.fmt, self.texts[start:end], sentences)

    def select(self, indices: Sequence[int]) -> "BenchInput":
        """The texts at `indices`, in that order."""
        sentences = [self.sentences[i] for i in indices] if self.sentences is not None else None
        return BenchInput(self.fmt, [self.texts[i] for i in indices], sentences)


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


def iter_texts(path: Path, fmt: str = "auto") -> Iterator[str]:
    """The texts of INPUT one at a time, as read_bench_input gives them, keeping none."""
    fmt = _input_format(path, fmt)
    if fmt == "text":
        return (text.strip() for _, text in read_lines(path) if text.strip())
    return (" ".join(sentence.words) for sentence in read_sentences(path, fmt))


def read_bench_input(path: Path, fmt: str = "auto") -> BenchInput:
    """The texts of INPUT: its non-blank lines, or the sentences of a corpus file."""
    fmt = _input_format(path, fmt)
    if fmt == "text":
        return BenchInput("text", list(iter_texts(path, fmt)))
    sentences = list(read_sentences(path, fmt))
    return BenchInput(fmt, [" ".join(sentence.words) for sentence in sentences], sentences)


def _input_format(path: Path, fmt: str) -> str:
    """'text' or a corpus format of readers.FORMATS: `fmt`, or INPUT's detected one for 'auto'."""
    if fmt == "auto":
        return detect_format(path)
    if fmt != "text" and fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    return fmt


def run_bench(
    nlp: Language,
    data: BenchInput,
    batch_size: int = DEFAULT_BATCH_SIZE,
    warmup: int = DEFAULT_WARMUP,
    repeat: int = DEFAULT_REPEAT,
    scaling: bool = False,
) -> Dict[str, Any]:
    """Time the tokenizer, each component, each task and the whole pipeline on the texts after the warm-up.

    The first `warmup` texts go once through everything untimed; the rest are timed `repeat`
    times and each step keeps its fastest run (the steady state, as `timeit` does: caches
    such as the tokenizer's are filled by then). Words per second count the words each step
    receives: the tokenizer's tokens for the tokenizer, the tasks and the whole pipeline
    (which start from raw text); for the components the gold words of a corpus, or the
    tokenizer's tokens for raw text. `scaling` adds `run_scaling`'s figures.
    """
    if warmup < 0 or repeat < 1:
        raise ValueError("warmup must be 0 or more and repeat 1 or more")
    if len(data) <= warmup:
        raise ValueError(f"has {len(data)} texts: need more than --warmup {warmup} to time anything")
    warm, timed = data.part(0, warmup), data.part(warmup)
    pipes = task_pipes(nlp)
    if len(warm):
        _component_pass(nlp, _input_docs(nlp, warm), batch_size, warm.given_predicates)
        list(nlp.pipe(warm.texts, batch_size=batch_size))

    best: Dict[str, float] = {}
    best_cpu: Dict[str, float] = {}
    best_task: Dict[str, float] = {}
    for _ in range(repeat):
        start = time.perf_counter()
        tokenized = list(nlp.tokenizer.pipe(timed.texts, batch_size=batch_size))
        seconds = {"tokenizer": time.perf_counter() - start}
        docs = _input_docs(nlp, timed) if timed.sentences is not None else tokenized
        cpu_seconds: Dict[str, float] = {}
        seconds.update(_component_pass(nlp, docs, batch_size, timed.given_predicates, cpu_seconds))
        best_cpu = {name: min(s, best_cpu.get(name, s)) for name, s in cpu_seconds.items()}
        seconds["pipeline"] = _time_pipe(nlp, timed.texts, batch_size=batch_size)
        best = {name: min(s, best.get(name, s)) for name, s in seconds.items()}
        task_seconds = _task_pass(nlp, timed.texts, pipes, batch_size)
        best_task = {name: min(s, best_task.get(name, s)) for name, s in task_seconds.items()}

    n_tokens = sum(len(doc) for doc in tokenized)
    n_words = sum(len(doc) for doc in docs)
    counts = {name: n_words for name in nlp.pipe_names}
    counts["tokenizer"] = counts["pipeline"] = n_tokens
    result = {
        "words_per_second": {name: _rate(counts[name], s) for name, s in best.items()},
        # the components by the process's CPU time: steadier than wall time on a shared core
        "words_per_cpu_second": {name: _rate(counts[name], s) for name, s in best_cpu.items()},
        "seconds": {name: round(s, 4) for name, s in best.items()},
        "task_words_per_second": {name: _rate(n_tokens, s) for name, s in best_task.items()},
        "task_pipes": pipes,
        "n_texts": len(timed),
        "n_words": n_words,
        "n_words_tokenized": n_tokens,
        "warmup_texts": len(warm),
        "repeat": repeat,
        "batch_size": batch_size,
        "input_format": data.fmt,
        "pretokenized": timed.sentences is not None,
        "given_predicates": timed.given_predicates,
    }
    if scaling:
        result["scaling"] = run_scaling(nlp, timed, batch_size)
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    result["threads"] = {name: os.environ.get(name) for name in THREAD_ENV}
    return result


def run_scaling(nlp: Language, data: BenchInput, batch_size: int = DEFAULT_BATCH_SIZE) -> Dict[str, Any]:
    """Words/s, one timed run each, against batch size, sentence length and n_process.

    `batch_size` and `n_process`: the whole pipeline from raw text (n_process > 1 starts
    worker processes as spaCy does, each on one thread here). `sentence_length`: the texts
    bucketed by their number of tokenizer tokens, with the whole pipeline's and each
    component's words/s on the texts of each bucket and the words they count.
    """
    tokenized = list(nlp.tokenizer.pipe(data.texts, batch_size=batch_size))
    n_tokens = sum(len(doc) for doc in tokenized)
    by_batch = {
        str(size): _rate(n_tokens, _time_pipe(nlp, data.texts, batch_size=size)) for size in SCALING_BATCH_SIZES
    }
    by_process = {
        str(k): _rate(n_tokens, _time_pipe(nlp, data.texts, batch_size=batch_size, n_process=k))
        for k in SCALING_N_PROCESS
    }
    lengths = [len(doc) for doc in tokenized]
    by_length = {
        label: _bucket_rates(nlp, data.select(indices), sum(lengths[i] for i in indices), batch_size)
        for label, indices in length_buckets(lengths).items()
    }
    return {"batch_size": by_batch, "sentence_length": by_length, "n_process": by_process}


def length_buckets(lengths: Sequence[int]) -> Dict[str, List[int]]:
    """The indices of the texts in each LENGTH_BUCKETS bucket ('1-10', ..., '41+'), by token count."""
    buckets: Dict[str, List[int]] = {_bucket_label(low, high): [] for low, high in LENGTH_BUCKETS}
    for i, n in enumerate(lengths):
        low, high = next((low, high) for low, high in LENGTH_BUCKETS if high is None or n <= high)
        buckets[_bucket_label(low, high)].append(i)
    return buckets


def _bucket_label(low: int, high: Optional[int]) -> str:
    return f"{low}-{high}" if high is not None else f"{low}+"


def _bucket_rates(nlp: Language, part: BenchInput, n_tokens: int, batch_size: int) -> Dict[str, Any]:
    """Words/s of the whole pipeline and of each component on one bucket's texts."""
    docs = _input_docs(nlp, part)
    n_words = sum(len(doc) for doc in docs)
    rates: Dict[str, float] = {}
    if len(part):
        seconds = _component_pass(nlp, docs, batch_size, part.given_predicates)
        rates = {name: _rate(n_words, s) for name, s in seconds.items()}
        rates["pipeline"] = _rate(n_tokens, _time_pipe(nlp, part.texts, batch_size=batch_size))
    return {"n_texts": len(part), "n_words": n_words, "n_words_tokenized": n_tokens, "words_per_second": rates}


def task_pipes(nlp: Language) -> Dict[str, List[str]]:
    """For each component, the components enabled to time its task from raw text, in pipeline order."""
    return {name: [other for other in nlp.pipe_names if other in _needs(nlp, name)] for name in nlp.pipe_names}


def _needs(nlp: Language, name: str) -> Set[str]:
    """`name` and the earlier components whose annotation it reads, recursively."""
    earlier = nlp.pipe_names[: nlp.pipe_names.index(name)]
    if not _factory(nlp, name).startswith("senna_"):
        return {name, *earlier}
    needs = {name}
    for attr in read_attributes(nlp.get_pipe(name)):
        providers = [other for other in earlier if _factory(nlp, other) == BY_FEATURE[attr].factory]
        if providers:
            needs |= _needs(nlp, providers[-1])
    for other in earlier:  # a shared tok2vec the component listens to
        if name in getattr(nlp.get_pipe(other), "listening_components", []):
            needs |= _needs(nlp, other)
    return needs


def _factory(nlp: Language, name: str) -> str:
    return nlp.get_pipe_meta(name).factory


def read_attributes(proc: Any) -> List[str]:
    """The annotation ('tag', 'chunk') a component reads: embedded by its model, or POS-found predicates."""
    model = getattr(proc, "model", None)
    found = embedded_features(model) if isinstance(model, Model) else []
    if getattr(proc, "predicates", None) == "pos" and "tag" not in found:
        found.insert(0, "tag")
    return found


def _input_docs(nlp: Language, data: BenchInput) -> List[Doc]:
    """Unannotated docs for the components: the gold words (and predicates), or the tokenizer's output."""
    if data.sentences is not None:
        return [input_doc(nlp.vocab, sentence, data.fmt) for sentence in data.sentences]
    return list(nlp.tokenizer.pipe(data.texts))


def _component_pass(
    nlp: Language, docs: List[Doc], batch_size: int, given_predicates: bool = False, cpu: Optional[Dict[str, float]] = None
) -> Dict[str, float]:
    """Run the components in pipeline order over `docs`; seconds per component (and into
    `cpu`, when given, the process's CPU seconds per component)."""
    seconds = {}
    with predicates_given(nlp, given_predicates):
        for name, proc in nlp.pipeline:
            start, start_cpu = time.perf_counter(), time.process_time()
            if hasattr(proc, "pipe"):
                docs = list(proc.pipe(docs, batch_size=batch_size))
            else:
                docs = [proc(doc) for doc in docs]
            seconds[name] = time.perf_counter() - start
            if cpu is not None:
                cpu[name] = time.process_time() - start_cpu
    return seconds


@contextmanager
def predicates_given(nlp: Language, given: bool = True) -> Iterator[None]:
    """Within the block (when `given`), components with a `predicates` mode take the docs' given predicates."""
    saved = {name: proc.predicates for name, proc in nlp.pipeline if given and hasattr(proc, "predicates")}
    try:
        for name in saved:
            nlp.get_pipe(name).predicates = "given"
        yield
    finally:
        for name, mode in saved.items():
            nlp.get_pipe(name).predicates = mode


def _task_pass(nlp: Language, texts: List[str], pipes: Dict[str, List[str]], batch_size: int) -> Dict[str, float]:
    """Seconds of the pipeline over the raw texts with only each task's components enabled."""
    seconds = {}
    for name, enabled in pipes.items():
        with nlp.select_pipes(enable=enabled):
            seconds[name] = _time_pipe(nlp, texts, batch_size=batch_size)
    return seconds


def _time_pipe(nlp: Language, texts: Iterable[str], **kwargs: Any) -> float:
    """Seconds of one nlp.pipe run over the raw texts. With worker processes, a SIGINT ends
    the feed (PipeGuard) and is raised once the pool has closed, instead of hanging it."""
    start = time.perf_counter()
    if kwargs.get("n_process", 1) == 1:
        for _ in nlp.pipe(texts, **kwargs):
            pass
        return time.perf_counter() - start
    with PipeGuard() as guard:

        def feed() -> Iterator[str]:
            for text in texts:
                if guard.interrupted:
                    return
                yield text

        for _ in guard.watch(nlp.pipe(feed(), **kwargs)):
            pass
    if guard.interrupted:
        raise KeyboardInterrupt
    return time.perf_counter() - start


def _rate(n_words: int, seconds: float) -> float:
    return round(n_words / seconds, 1) if seconds > 0 else float("inf")


def streaming_peak_rss_mb(nlp: Language, texts: Iterable[str], batch_size: int) -> float:
    """Peak RSS after streaming the texts once through the whole pipeline, keeping no text
    or Doc: the memory a tagging process needs for this pipeline (run before the benchmark
    reads its input and holds its own lists of docs)."""
    _time_pipe(nlp, texts, batch_size=batch_size)
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    import resource  # POSIX only: imported here so that the CLI loads on Windows

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


def _run_single_threaded(args: List[str]) -> "subprocess.CompletedProcess[str]":
    """Run `python -m spacy_senna bench ARGS` with one thread, capturing its output."""
    env = {**os.environ, **THREAD_ENV}
    command = [sys.executable, "-m", "spacy_senna", "bench", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True)


def _relay(result: "subprocess.CompletedProcess[str]", stdout: bool = True) -> None:
    """Echo a child's stdout (when `stdout`) and stderr."""
    if stdout and result.stdout:
        typer.echo(result.stdout, nl=False)
    if result.stderr:
        typer.echo(result.stderr, nl=False, err=True)


def _rerun_single_threaded(args: List[str]) -> int:
    """Run `python -m spacy_senna bench ARGS` with one thread; relay its output; its exit code."""
    result = _run_single_threaded(args)
    _relay(result)
    return result.returncode


def compare_runs(models: List[str], args: List[str]) -> List[Dict[str, Any]]:
    """Bench each model in its own single-threaded child with the same ARGS; their results in order."""
    runs = []
    for model in models:
        result = _run_single_threaded([model, *args])
        _relay(result, stdout=False)
        if result.returncode != 0:
            raise typer.Exit(code=result.returncode)
        runs.append(json.loads(result.stdout))
    return runs


def compare_table(runs: List[Dict[str, Any]]) -> str:
    """Side by side, one column per run: each component's task words/s, the pipeline's and the peak RSS."""
    names = list(dict.fromkeys(name for run in runs for name in run["task_words_per_second"]))
    rows = [[name, *(_cell(run["task_words_per_second"].get(name)) for run in runs)] for name in names]
    rows.append(["pipeline", *(_cell(run["words_per_second"]["pipeline"]) for run in runs)])
    rows.append(["streaming RSS (MiB)", *(_cell(run["streaming_peak_rss_mb"], ",.1f") for run in runs)])
    rows.append(["peak RSS (MiB)", *(_cell(run["peak_rss_mb"], ",.1f") for run in runs)])
    header = ["words/s", *(run["model"] for run in runs)]
    width = max(len(str(cell)) for row in [header, *rows] for cell in row)
    return table(rows, header=header, divider=True, aligns=["l"] + ["r"] * len(runs), max_col=width)


def _cell(value: Optional[float], spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


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
    compare: Optional[List[str]] = typer.Option(
        None, "--compare", "-c", help="Another pipeline to bench alike (repeatable); prints {\"runs\": [...]}."
    ),
    scaling: bool = typer.Option(
        False, "--scaling", help="Also words/s against batch size, sentence length and n_process."
    ),
) -> None:
    """Words/second of MODEL's tokenizer, each component and the whole pipeline, on one thread (JSON)."""
    args = [str(input_path), "--batch-size", str(batch_size), "--warmup", str(warmup)]
    args += ["--repeat", str(repeat), "--format", fmt.value] + (["--scaling"] if scaling else [])
    if compare:
        runs = compare_runs([model, *compare], args)
        typer.echo(compare_table(runs), err=True)
        _write_json({"runs": runs}, output)
        return
    if not single_threaded():
        output_args = ["--output", str(output)] if output else []
        raise typer.Exit(code=_rerun_single_threaded([model, *args, *output_args]))
    _limit_loaded_pools()
    try:
        nlp = load_pipeline(model)
    except PipelineError as err:
        fail(str(err))
    try:
        streaming_rss = streaming_peak_rss_mb(nlp, iter_texts(input_path, fmt.value), batch_size)
        data = read_bench_input(input_path, fmt.value)
    except SennaFormatError as err:
        fail(str(err))
    try:
        result = {
            "model": model,
            "input": str(input_path),
            **run_bench(nlp, data, batch_size, warmup, repeat, scaling),
            "streaming_peak_rss_mb": round(streaming_rss, 1),
        }
    except ValueError as err:
        fail(f"{input_path}: {err}")
    _write_json(result, output)


def _write_json(result: Dict[str, Any], output: Optional[Path]) -> None:
    """Print the result as JSON and also write it to `output` when given."""
    text = json.dumps(result, indent=2)
    typer.echo(text)
    if output is not None:
        try:
            with open_output(output) as file:
                file.write(text + "\n")
        except OSError as err:
            fail(f"cannot write {output}: {one_line(err)}")
