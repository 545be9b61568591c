"""`annotate --engine ray`: the same shards and `annotate.json` as `annotate`, tagged by a Ray
Data actor pool (one pipeline loaded per actor) on a local or an existing Ray cluster.

INPUT is a file, a folder (its files, recursively, in sorted order, skipping names that start
with `.` or `_` as Ray does) or a glob, on any filesystem Ray Data reads (local, `s3://`,
`gs://`...). Its records are the lines of its files in that order: record r (from 0) goes to
shard r // shard_size, so one local file gives the shards of the single-machine engine, and a
job started with one engine can be resumed with the other.

How exactly-once output is kept:
- a first pass (a Ray Data job) counts each file's lines, which fixes every record's number
  and so every shard's records before anything is tagged;
- `LineSource` reads the files with Ray's file machinery (filesystems, compression, retried
  I/O) and drops the lines of the shards already written;
- `Annotator` actors (restarted and their batches retried by Ray when a worker dies) turn each
  line into one output row: the shard record of its doc, or the problem with the line;
- the driver takes the rows in input order (`preserve_order`), checks that each is the next
  record it expects (a duplicate, a gap or a reordering stops the job instead of being
  written), raises the first bad line as `FILE, line N: problem` like the single-machine
  engine, and writes each complete shard atomically, recorded in `annotate.json` (`Job`).
"""
import fnmatch
import hashlib
import json
import logging
import os
import platform
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

import numpy
import pyarrow
import pyarrow.fs
import ray
import spacy
from ray.data import DataContext
from ray.data.datasource import FileBasedDatasource
from spacy.language import Language

from ..readers import SennaFormatError, _decode
from ..util import FastDocBin
from ._util import DEFAULT_BATCH_SIZE, atomic_path, one_line
from .annotate import (
    DEFAULT_SHARD_SIZE,
    ENDS_BYTES,
    Job,
    input_identity,
    line_record,
    model_identity,
    open_job,
    output_format,
    record_line,
    shard_name,
)

BLOCK_LINES = 4096  # lines per block that LineSource yields
READ_BYTES = 1 << 20


class RayJobError(ValueError):
    """The Ray job failed for a reason other than the input (a ValueError so that the CLI
    reports it on one line like the others)."""


# -- INPUT: its files, their identity, their line counts -------------------------------------


class Inputs:
    """INPUT's files on their filesystem, in the order their lines are numbered."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        if "://" in spec:
            self.filesystem, base = pyarrow.fs.FileSystem.from_uri(spec)
        else:
            self.filesystem, base = pyarrow.fs.LocalFileSystem(), str(Path(spec).resolve())
        self.local = isinstance(self.filesystem, pyarrow.fs.LocalFileSystem)
        self.files = self._expand(base)
        if not self.files:
            raise ValueError(f"cannot read {spec}: no files found")

    def _expand(self, base: str) -> List[str]:
        if any(char in base for char in "*?["):
            root = base[: min(base.find(char) for char in "*?[" if char in base)].rpartition("/")[0] or "/"
            return [path for path in self._listing(root) if fnmatch.fnmatchcase(path, base)]
        info = self.filesystem.get_file_info(base)
        if info.type == pyarrow.fs.FileType.File:
            return [base]
        if info.type == pyarrow.fs.FileType.Directory:
            return self._listing(base)
        return []

    def _listing(self, root: str) -> List[str]:
        """The files under `root`, sorted, without hidden ones (`.x`, `_x`, as Ray Data lists)."""
        selector = pyarrow.fs.FileSelector(root, recursive=True, allow_not_found=True)
        return sorted(
            info.path
            for info in self.filesystem.get_file_info(selector)
            if info.type == pyarrow.fs.FileType.File
            and not any(part.startswith((".", "_")) for part in info.path[len(root) :].split("/"))
        )

    def name(self, index: int) -> str:
        """How messages name file `index`: INPUT as given when it is one file."""
        return self.spec if len(self.files) == 1 else self.files[index]

    def identity(self) -> Dict[str, Any]:
        """input_identity's record (size, a hash of the ends) for the files together.

        One local file gives input_identity's own record, so that the engines resume each other;
        the files are named relative to their common folder (a copy elsewhere is the same input).
        """
        if self.local and len(self.files) == 1:
            return input_identity(Path(self.files[0]))
        digest = hashlib.sha256()
        total = 0
        common = os.path.commonpath(self.files) if len(self.files) > 1 else self.files[0]
        for path in self.files:
            with self.filesystem.open_input_file(path) as file:
                size = file.size()
                head = file.read(ENDS_BYTES)
                file.seek(max(0, size - ENDS_BYTES))
                ends = hashlib.sha256(head + file.read(ENDS_BYTES)).hexdigest()
            digest.update(json.dumps([path[len(common) :], size, ends]).encode("utf8"))
            total += size
        return {"path": self.spec, "files": len(self.files), "size": total, "sha256_ends": digest.hexdigest()}


class LineSource(FileBasedDatasource):
    """INPUT's lines as rows (file, line, raw bytes), but those of the shards in `skip_shards`."""

    def __init__(
        self,
        inputs: Inputs,
        *,
        offsets: Sequence[int] = (),
        shard_size: int = DEFAULT_SHARD_SIZE,
        skip_shards: Iterable[int] = (),
    ) -> None:
        super().__init__(list(inputs.files), filesystem=inputs.filesystem)
        self.file_index = {path: index for index, path in enumerate(self._paths())}
        self.offsets = list(offsets)
        self.shard_size = shard_size
        self.skip_shards = frozenset(skip_shards)

    def _read_stream(self, f: "pyarrow.NativeFile", path: str) -> Iterator[pyarrow.Table]:
        index = self.file_index[path]
        first = self.offsets[index] - 1  # record number of line 1, less 1
        lines: List[int] = []
        raws: List[bytes] = []
        for line_no, raw in enumerate(_raw_lines(f), start=1):
            if (first + line_no) // self.shard_size in self.skip_shards:
                continue
            lines.append(line_no)
            raws.append(raw)
            if len(lines) == BLOCK_LINES:
                yield _line_block(index, lines, raws)
                lines, raws = [], []
        if lines:
            yield _line_block(index, lines, raws)


def _line_block(index: int, lines: List[int], raws: List[bytes]) -> pyarrow.Table:
    return pyarrow.table(
        {
            "file": pyarrow.array([index] * len(lines), pyarrow.int32()),
            "line": pyarrow.array(lines, pyarrow.int64()),
            "raw": pyarrow.array(raws, pyarrow.binary()),
        }
    )


def _raw_lines(f: "pyarrow.NativeFile") -> Iterator[bytes]:
    """A stream's lines, split on b"\\n" as Python's binary files are (the b"\\n" kept off)."""
    rest = b""
    while True:
        chunk = f.read(READ_BYTES)
        if not chunk:
            break
        pieces = (rest + chunk).split(b"\n")
        rest = pieces.pop()
        yield from pieces
    if rest:
        yield rest


def count_lines(inputs: Inputs) -> List[int]:
    """Each file's line count, read here (a pass over the bytes, cheap next to tagging them)."""
    counts = []
    for index, path in enumerate(inputs.files):
        try:
            with inputs.filesystem.open_input_stream(path, compression="detect") as stream:
                counts.append(sum(1 for _ in _raw_lines(stream)))
        except OSError as err:  # unreadable, or not the compressed stream its name says
            raise SennaFormatError(inputs.name(index), f"cannot read the file: {one_line(err)}") from None
    return counts


# -- the actors -------------------------------------------------------------------------------


class Annotator:
    """A Ray Data actor: the pipeline, loaded once, turning line rows into output rows (file,
    line, payload, the line's problem or "", the doc's word count).

    A JSONL row's payload is its doc's line; for DocBin shards, the last row of each run of
    the batch's rows in one shard carries their docs as one DocBin (the others b""), which
    spares the driver a DocBin to decode per doc.
    """

    def __init__(
        self, model: str, model_sha256: str, fmt_in: str, fmt: str, names: List[str], batch_size: int,
        offsets: List[int], shard_size: int,
    ):
        self.nlp = spacy.load(model)
        if model_identity(self.nlp, model)["sha256"] != model_sha256:
            raise RayJobError(f"{model} on {platform.node()} is not the model the job was started with")
        self.fmt_in, self.fmt, self.names, self.batch_size = fmt_in, fmt, names, batch_size
        self.offsets, self.shard_size = offsets, shard_size

    def __call__(self, batch: Dict[str, numpy.ndarray]) -> Dict[str, numpy.ndarray]:
        files, lines, raws = batch["file"], batch["line"], batch["raw"]
        problems = [""] * len(lines)
        texts: List[Tuple[str, Tuple[int, Optional[Dict[str, Any]]]]] = []
        for i, (file, line_no, raw) in enumerate(zip(files, lines, raws)):
            name = self.names[file]
            try:
                text, meta = line_record(Path(name), _decode(Path(name), int(line_no), bytes(raw)), int(line_no), self.fmt_in)
            except SennaFormatError as err:
                problems[i] = err.problem
                continue
            texts.append((text, (i, meta)))
        payloads = [b""] * len(lines)
        words = numpy.zeros(len(lines), dtype="int64")
        docs = []
        for doc, (i, meta) in self.nlp.pipe(texts, as_tuples=True, batch_size=self.batch_size):
            if meta:
                doc.user_data["meta"] = meta
            words[i] = len(doc)
            if self.fmt == "jsonl":
                payloads[i] = self._jsonl_line(doc, int(lines[i]), self.names[files[i]])
            else:
                docs.append(doc)
                if i + 1 == len(lines) or self._shard(files[i + 1], lines[i + 1]) != self._shard(files[i], lines[i]):
                    payloads[i] = FastDocBin(store_user_data=True, docs=docs).to_bytes()
                    docs = []
        return {
            "file": files,
            "line": lines,
            "payload": numpy.array(payloads, dtype=object),
            "problem": numpy.array(problems, dtype=object),
            "words": words,
        }

    def _shard(self, file: int, line_no: int) -> int:
        return (self.offsets[file] + int(line_no) - 1) // self.shard_size

    def _jsonl_line(self, doc: Any, line_no: int, name: str) -> bytes:
        return record_line(doc, line_no, name if len(self.names) > 1 else None).encode("utf8")


# -- the driver -------------------------------------------------------------------------------


def annotate_on_ray(
    nlp: Language,
    input_spec: str,
    output: Path,
    fmt_in: str = "text",
    shard_size: int = DEFAULT_SHARD_SIZE,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int = 1,
    max_shards: Optional[int] = None,
    model_name: str = "",
    address: Optional[str] = None,
    progress: bool = True,
) -> Dict[str, int]:
    """annotate's job on Ray: INPUT into shards under OUTPUT, skipping shards already there.

    Each actor loads `model_name` (a package installed or a folder shared on every node) and
    checks it is `nlp`, the model the job's identity records.

    Uses the Ray cluster this process is connected to, else the one at `address` (`auto`,
    `ray://...`), else a new local one; a cluster it started or joined is left at the end,
    whatever happens, which ends its actors. Returns annotate's counts.
    """
    from tqdm import tqdm

    if workers < 1:
        raise ValueError("--workers must be at least 1")
    if not model_name:
        raise ValueError("the Ray engine needs the model's name or folder, which each worker loads")
    inputs = Inputs(input_spec)
    job = open_job(nlp, model_name, inputs.identity(), output, fmt_in, shard_size)
    fmt = output_format(output)
    stats = {"shards_written": 0, "shards_skipped": 0, "docs": 0, "words": 0}
    bar = tqdm(unit=" words", unit_scale=True, disable=not progress, dynamic_ncols=True)
    try:
        with _ray_cluster(address, workers), _data_context():
            offsets = _offsets(count_lines(inputs))  # before anything is tagged: every record's shard
            n_shards = -(-offsets[-1] // shard_size)
            done = {index for index in range(n_shards) if job.done(shard_name(index, fmt))}
            todo = [index for index in range(n_shards) if index not in done]
            if max_shards is not None:
                todo = todo[:max_shards]
            stats["shards_skipped"] = len(done)
            if todo:
                skip = set(range(n_shards)) - set(todo)
                model = (model_name, job.identity["model"]["sha256"])
                rows = _annotated_rows(model, inputs, offsets, fmt_in, fmt, shard_size, batch_size, workers, skip)
                with closing(rows):  # whatever stops the loop stops the Ray job, before the cluster goes
                    _write_shards(job, fmt, rows, todo, offsets, shard_size, inputs, stats, bar)
    finally:
        bar.close()
    return stats


def _offsets(counts: List[int]) -> List[int]:
    """The record number of each file's first line, then the number of records."""
    offsets = [0]
    for count in counts:
        offsets.append(offsets[-1] + count)
    return offsets


def _annotated_rows(
    model: Tuple[str, str],
    inputs: Inputs,
    offsets: List[int],
    fmt_in: str,
    fmt: str,
    shard_size: int,
    batch_size: int,
    workers: int,
    skip: Set[int],
) -> Iterator[Tuple[int, int, bytes, str, int]]:
    """(file, line, payload, problem, words) of the records of the shards not in `skip`, in
    input order, by actors that load `model` (its name, and the hash they check)."""
    names = [inputs.name(index) for index in range(len(inputs.files))]
    source = LineSource(inputs, offsets=offsets, shard_size=shard_size, skip_shards=skip)
    constructor = {
        "model": model[0],
        "model_sha256": model[1],
        "fmt_in": fmt_in,
        "fmt": fmt,
        "names": names,
        "batch_size": batch_size,
        "offsets": offsets,
        "shard_size": shard_size,
    }
    # reading takes no CPU slot, so that `workers` actors on as many CPUs leave it room to run
    dataset = ray.data.read_datasource(source, num_cpus=0).map_batches(
        Annotator,
        fn_constructor_kwargs=constructor,
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )  # Ray Data's actor pool restarts a dead actor and runs its batches again (its defaults
    # max_restarts=-1, max_task_retries=-1): the fault test holds it to that
    batches = dataset.iter_batches(batch_size=None, batch_format="numpy")
    try:
        for batch in batches:
            yield from zip(batch["file"], batch["line"], batch["payload"], batch["problem"], batch["words"])
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()


def _write_shards(
    job: Job,
    fmt: str,
    rows: Iterator[Tuple[int, int, bytes, str, int]],
    todo: List[int],
    offsets: List[int],
    shard_size: int,
    inputs: Inputs,
    stats: Dict[str, int],
    bar: Any,
) -> None:
    """Check each row is the next record expected, raise the first bad line, write each shard."""
    n_records = offsets[-1]
    expected = (r for index in todo for r in range(index * shard_size, min((index + 1) * shard_size, n_records)))
    current: Optional[int] = None
    payloads: List[bytes] = []
    try:
        for file, line_no, payload, problem, words in rows:
            record = offsets[int(file)] + int(line_no) - 1
            want = next(expected, None)
            if record != want:
                raise RayJobError(
                    f"Ray returned {inputs.name(int(file))}, line {line_no} (record {record}) where record "
                    f"{want} was due: nothing of it was written; run the same command again"
                )
            if problem:
                raise SennaFormatError(inputs.name(int(file)), str(problem), int(line_no))
            index = record // shard_size
            if index != current and current is not None:
                _write_shard(job, current, fmt, payloads, stats)
                payloads = []
            current = index
            payloads.append(bytes(payload))
            stats["docs"] += 1
            stats["words"] += int(words)
            bar.update(int(words))
    except ray.exceptions.RayError as err:
        raise RayJobError(f"the Ray job failed: {_first_line(err)}") from None
    missing = next(expected, None)
    if missing is not None:
        raise RayJobError(f"Ray returned no row for record {missing}: run the same command again")
    if current is not None:
        _write_shard(job, current, fmt, payloads, stats)


def _write_shard(job: Job, index: int, fmt: str, payloads: List[bytes], stats: Dict[str, int]) -> None:
    """Write one shard to a temporary file, rename it into place, then record it in the Job."""
    final = job.output / shard_name(index, fmt)
    with atomic_path(final) as partial:
        job.start_shard(final.name, partial.name)
        if fmt == "jsonl":
            partial.write_bytes(b"".join(payloads))
        else:
            doc_bin = FastDocBin(store_user_data=True)
            for payload in filter(None, payloads):
                doc_bin.merge(FastDocBin(store_user_data=True).from_bytes(payload))
            if len(doc_bin) != len(payloads):
                raise RayJobError(f"Ray returned {len(doc_bin)} docs for the {len(payloads)} records of {final.name}")
            doc_bin.to_disk(partial)
    job.finish_shard(final.name, len(payloads))
    stats["shards_written"] += 1


def _first_line(err: BaseException) -> str:
    """A Ray error on one line: a RayJobError's message found in it (an actor refusing its
    model), else the innermost cause's last line, without the tracebacks."""
    chain: List[BaseException] = []
    while isinstance(err, BaseException) and err not in chain:
        chain.append(err)
        err = getattr(err, "cause", None) or err.__cause__ or err.__context__  # type: ignore[assignment]
    ours = f"{RayJobError.__module__}.{RayJobError.__qualname__}: "
    for link in chain:
        for line in str(link).splitlines():
            if line.strip().startswith(ours):
                return one_line(Exception(line.strip()[len(ours) :]))
    text = str(chain[-1]).strip().splitlines()
    return one_line(Exception(text[-1] if text else type(chain[-1]).__name__))


@contextmanager
def _ray_cluster(address: Optional[str], workers: int) -> Iterator[None]:
    """The Ray cluster to run on: the one connected already, or one joined or started here and
    left (shut down, for a local one) however the block ends."""
    if ray.is_initialized():
        yield
        return
    if address:
        ray.init(address=address, logging_level=logging.WARNING)
    else:
        ray.init(
            address="local",
            num_cpus=max(workers, os.cpu_count() or 1),
            include_dashboard=False,
            logging_level=logging.WARNING,
        )
    try:
        yield
    finally:
        ray.shutdown()


@contextmanager
def _data_context() -> Iterator[None]:
    """Ray Data settings for the job: rows in input order, no progress bars of its own."""
    context = DataContext.get_current()
    saved = (context.execution_options.preserve_order, context.enable_progress_bars, context.print_on_execution_start)
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    quiet = {name: logging.getLogger(name) for name in QUIET_LOGGERS}
    levels = {name: logger.level for name, logger in quiet.items()}
    for logger in quiet.values():
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        (context.execution_options.preserve_order, context.enable_progress_bars, context.print_on_execution_start) = saved
        for name, logger in quiet.items():
            logger.setLevel(levels[name])


# Ray Data's INFO lines (each dataset's start and end) and its notice that progress bars are
# off (annotate shows its own): quietened while a job runs
QUIET_LOGGERS = ("ray.data._internal.execution.streaming_executor", "ray.data._internal.progress")
