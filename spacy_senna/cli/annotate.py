"""`annotate`: run a pipeline over a big file, in constant memory, resumably.

INPUT holds one document per line: plain text, or JSONL with a "text" field (the other fields
are kept as the doc's `user_data["meta"]`). Every input line gives one doc (an empty line an
empty doc), so doc i of shard k is input line k * shard_size + i + 1.

OUTPUT is a directory of shards, one per --shard-size input lines: `shard-00000.spacy`
(DocBin) or, when OUTPUT's name ends in `.jsonl`, `shard-00000.jsonl` with one JSON object
per doc (text, tokens, tags, chunks, ents, srl frames). Each shard is written to a temporary
file and renamed when complete, so an interrupted run can be started again with the same
arguments: the shards already written are skipped (their lines are read past, not tagged).
`annotate.json` in OUTPUT records the job (input size and a hash of its ends, a hash of the
model, the settings) and each shard written (doc count, size, SHA-256): resuming another job,
or with a shard file it did not write or that was changed, is refused.
"""
import hashlib
import json
import os
import re
import time
from enum import Enum
from itertools import islice
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

import srsly
import typer
from spacy.language import Language
from spacy.tokens import Doc
from wasabi import msg

from ..processes import PipeGuard
from ..readers import read_lines, text_record
from ..tasks import TASKS
from ..util import FastDocBin
from ._util import DEFAULT_BATCH_SIZE, PipelineError, app, fail, load_pipeline, one_line

DEFAULT_SHARD_SIZE = 10000
SETTINGS_FILE = "annotate.json"


class InputFormat(str, Enum):
    text = "text"
    jsonl = "jsonl"


class Engine(str, Enum):
    local = "local"  # nlp.pipe here, with --n-process processes
    ray = "ray"  # a Ray Data actor pool (cli/annotate_ray.py)


def shard_name(index: int, fmt: str) -> str:
    return f"shard-{index:05d}.{fmt}"


def output_format(output: Path) -> str:
    """'jsonl' when OUTPUT's name ends in .jsonl, else 'spacy'."""
    return "jsonl" if output.name.lower().endswith(".jsonl") else "spacy"


def read_records(path: Path, fmt: str) -> Iterator[Tuple[int, str, Optional[Dict[str, Any]]]]:
    """(line number, text, other JSONL fields or None) for every line of INPUT."""
    for line_no, line in read_lines(path):
        yield (line_no, *line_record(path, line, line_no, fmt))


def line_record(path: Path, line: str, line_no: int, fmt: str) -> Tuple[str, Optional[Dict[str, Any]]]:
    """One input line's text and other JSONL fields (None for text input or a blank line)."""
    if fmt == "text" or not line.strip():
        return line, None
    record = text_record(path, line, line_no)
    return record.pop("text"), record


def doc_record(doc: Doc, line: Optional[int] = None) -> Dict[str, Any]:
    """A doc's annotation as a JSON-able dict: tokens, tags, chunks, ents, SRL frames."""
    record: Dict[str, Any] = {}
    if line is not None:
        record["line"] = line
    record["text"] = doc.text
    record["tokens"] = [t.text for t in doc]
    record["offsets"] = [[t.idx, t.idx + len(t.text)] for t in doc]
    for task in TASKS:
        record[task.record_key] = task.annotation.record(doc)
    if doc.user_data.get("meta"):
        record["meta"] = doc.user_data["meta"]
    return record


def record_line(doc: Doc, line: Optional[int] = None, file: Optional[str] = None) -> str:
    """One JSONL output line of a doc, as both engines write it: its `doc_record`, led by the
    input file's name when a job reads several files."""
    record = doc_record(doc, line)
    if file is not None:
        record = {"file": file, **record}
    return json.dumps(record, ensure_ascii=False) + "\n"


class Job:
    """OUTPUT's `annotate.json`: what the job is (input, model, settings) and the shards it wrote.

    Only the shards recorded here count as done, each with its doc count and checksum; the
    shard being written is recorded as in progress first, so that a run killed meanwhile
    leaves nothing that a resumed one would trust or would not recognise as its own.
    """

    def __init__(self, output: Path, identity: Dict[str, Any]) -> None:
        self.output = output
        self.path = output / SETTINGS_FILE
        self.identity = identity
        self.shards: Dict[str, Dict[str, Any]] = {}
        self.in_progress: Optional[Dict[str, str]] = None

    def open(self, fmt: str) -> None:
        """Start the job in OUTPUT, or resume it there after checking it is the same job."""
        if self.path.exists():
            self._resume(_read_record(self.path))
        self._check_shard_files(fmt)
        self.save()

    def _resume(self, old: Dict[str, Any]) -> None:
        job = old.get("job")
        if old.get("version") != JOB_VERSION or not isinstance(job, dict):
            raise ValueError(
                f"{self.path} was written by an older annotate, which did not record its shards: "
                "use another OUTPUT"
            )
        for key, label in JOB_KEYS:
            then, now = _get(job, key), _get(self.identity, key)
            if then != now:
                raise ValueError(
                    f"{self.output} holds the shards of another job ({label} {then!r} then, {now!r} now): "
                    "resume with the same input, model and settings, or use another OUTPUT"
                )
        self.shards = dict(old.get("shards") or {})
        self.in_progress = old.get("in_progress")
        if self.in_progress:  # a run died writing this shard: drop what it left
            for name in (self.in_progress.get("partial"), self.in_progress.get("shard")):
                if name and name not in self.shards and _is_own_name(name):
                    (self.output / name).unlink(missing_ok=True)
            self.in_progress = None

    def _check_shard_files(self, fmt: str) -> None:
        """Refuse shard files this job did not write, or changed since; forget recorded ones gone."""
        for path in sorted(self.output.glob("shard-*")):
            if path.name not in self.shards:
                raise ValueError(
                    f"{path} was not written by this annotate job (not recorded in {self.path}): "
                    "move it away or use another OUTPUT"
                )
        for name, shard in list(self.shards.items()):
            path = self.output / name
            if not path.exists():
                del self.shards[name]  # lost: written again
            elif path.stat().st_size != shard.get("bytes") or file_sha256(path) != shard.get("sha256"):
                raise ValueError(
                    f"{path} was changed since annotate wrote it (size or checksum differs from {self.path}): "
                    "delete it to have it written again"
                )

    def done(self, name: str) -> bool:
        return name in self.shards

    def start_shard(self, name: str, partial: str) -> None:
        self.in_progress = {"shard": name, "partial": partial}
        self.save()

    def finish_shard(self, name: str, n_docs: int) -> None:
        path = self.output / name
        self.shards[name] = {"docs": n_docs, "bytes": path.stat().st_size, "sha256": file_sha256(path)}
        self.in_progress = None
        self.save()

    def save(self) -> None:
        """Write annotate.json atomically (a temporary file renamed over it)."""
        record = {
            "version": JOB_VERSION,
            "job": self.identity,
            "shards": self.shards,
            "in_progress": self.in_progress,
        }
        temporary = self.path.with_name(f".{SETTINGS_FILE}.tmp{os.getpid()}")
        srsly.write_json(temporary, record)
        temporary.replace(self.path)


JOB_VERSION = 2
# the keys of the job identity that must match to resume, and how a message names them
JOB_KEYS = (
    ("input.size", "input size"),
    ("input.sha256_ends", "input content"),
    ("model.sha256", "model"),
    ("format_in", "--format-in"),
    ("shard_size", "shard_size"),
    ("format", "output format"),
)
PARTIAL_NAME = re.compile(r"^\.shard-\d{5}\.(spacy|jsonl)\.partial\d+$")
SHARD_NAME = re.compile(r"^shard-\d{5}\.(spacy|jsonl)$")


def _is_own_name(name: str) -> bool:
    """Whether a file name is one annotate writes (a shard or a shard's temporary file)."""
    return bool(PARTIAL_NAME.match(name) or SHARD_NAME.match(name))


def _get(record: Dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        record = record.get(key) if isinstance(record, dict) else None  # type: ignore[assignment]
    return record


def _read_record(path: Path) -> Dict[str, Any]:
    try:
        record = srsly.read_json(path)
    except ValueError as err:
        raise ValueError(f"{path} is not annotate's JSON record ({err}): use another OUTPUT") from None
    if not isinstance(record, dict):
        raise ValueError(f"{path} is not annotate's JSON record: use another OUTPUT")
    return record


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_identity(path: Path) -> Dict[str, Any]:
    """INPUT's size and a hash of its first and last MiB (a copy elsewhere is the same input)."""
    size = path.stat().st_size
    digest = hashlib.sha256()
    with path.open("rb") as file:
        digest.update(file.read(ENDS_BYTES))
        file.seek(max(0, size - ENDS_BYTES))
        digest.update(file.read(ENDS_BYTES))
    return {"path": str(path.resolve()), "size": size, "sha256_ends": digest.hexdigest()}


ENDS_BYTES = 1 << 20


def model_identity(nlp: Language, name: str) -> Dict[str, Any]:
    """The model's name and a hash of its config, meta and weights (what tags the docs)."""
    return {"name": name, "sha256": hashlib.sha256(nlp.to_bytes(exclude=["vocab"])).hexdigest()}


def job_identity(
    nlp: Language, model_name: str, input_path: Union[Path, Dict[str, Any]], fmt_in: str, shard_size: int, fmt: str
) -> Dict[str, Any]:
    """What must be the same to resume a job: INPUT (its path, or its input_identity-style
    record when it is not one local file), the model and the settings."""
    return {
        "input": input_path if isinstance(input_path, dict) else input_identity(input_path),
        "model": model_identity(nlp, model_name),
        "format_in": fmt_in,
        "shard_size": shard_size,
        "format": fmt,
    }


def open_job(
    nlp: Language,
    model_name: str,
    input_path: Union[Path, Dict[str, Any]],
    output: Path,
    fmt_in: str,
    shard_size: int,
) -> Job:
    """OUTPUT's job (see job_identity for `input_path`): started, or resumed after its checks."""
    if shard_size < 1:
        raise ValueError("--shard-size must be at least 1")
    fmt = output_format(output)
    if output.exists() and not output.is_dir():
        raise ValueError(f"{output} is a file, not a directory of shards: name another OUTPUT")
    output.mkdir(parents=True, exist_ok=True)
    job = Job(output, job_identity(nlp, model_name, input_path, fmt_in, shard_size, fmt))
    job.open(fmt)
    return job


def annotate(
    nlp: Language,
    input_path: Path,
    output: Path,
    fmt_in: str = "text",
    shard_size: int = DEFAULT_SHARD_SIZE,
    batch_size: int = DEFAULT_BATCH_SIZE,
    n_process: int = 1,
    max_shards: Optional[int] = None,
    model_name: str = "",
    progress: bool = True,
) -> Dict[str, int]:
    """Annotate INPUT into shards under OUTPUT, skipping shards already there.

    `max_shards` stops after writing that many new shards (a run in parts). Returns counts:
    shards written and skipped, docs and words tagged.
    """
    from tqdm import tqdm

    job = open_job(nlp, model_name, input_path, output, fmt_in, shard_size)
    fmt = output_format(output)
    stats = {"shards_written": 0, "shards_skipped": 0, "docs": 0, "words": 0}
    guard = PipeGuard()
    stopped: List[BaseException] = []  # why the feed ended early: raised once the pool is done
    fed: List[int] = []  # the shards whose every line was handed to nlp.pipe

    def done(index: int) -> bool:
        return job.done(shard_name(index, fmt))

    def todo() -> Iterator[Tuple[str, Tuple[int, int, Optional[Dict]]]]:
        """(text, (shard, line, meta)) for the lines of the shards still to write.

        A bad line or a SIGINT ends the feed instead of raising into nlp.pipe's worker pool
        (which would hang joining its workers); the reason goes to `stopped`.
        """
        records = read_records(input_path, fmt_in)
        index = 0
        new = 0
        try:
            while not guard.interrupted:
                shard = list(islice(records, shard_size))  # a whole shard parsed before any is tagged
                if not shard:
                    return
                if done(index):
                    stats["shards_skipped"] += 1
                else:
                    if max_shards is not None and new >= max_shards:
                        return
                    new += 1
                    for line_no, text, meta in shard:
                        if guard.interrupted:
                            break
                        yield text, (index, line_no, meta)
                    else:
                        fed.append(index)
                index += 1
        except Exception as err:  # SennaFormatError, or anything else reading INPUT
            stopped.append(err)
        if guard.interrupted:
            stopped.append(KeyboardInterrupt())

    bar = tqdm(unit=" words", unit_scale=True, disable=not progress, dynamic_ncols=True)
    current: Optional[int] = None
    docs: List[Tuple[Doc, int]] = []
    try:
        with guard:
            stream = guard.watch(
                nlp.pipe(todo(), as_tuples=True, batch_size=batch_size, n_process=n_process)
            )
            for doc, (index, line_no, meta) in stream:
                if current is not None and index != current:
                    _write_shard(job, current, fmt, docs)
                    stats["shards_written"] += 1
                    docs = []
                current = index
                if meta:
                    doc.user_data["meta"] = meta
                docs.append((doc, line_no))
                stats["docs"] += 1
                stats["words"] += len(doc)
                bar.update(len(doc))
                bar.set_postfix(shard=index, refresh=False)
        if current is not None and current in fed:  # not a shard cut short by `stopped`
            _write_shard(job, current, fmt, docs)
            stats["shards_written"] += 1
    finally:
        bar.close()
    if stopped:
        raise stopped[0]
    return stats


def _write_shard(job: Job, index: int, fmt: str, docs: List[Tuple[Doc, int]]) -> None:
    """Write one shard to a temporary file, then rename it into place and record it."""
    final = job.output / shard_name(index, fmt)
    partial = job.output / f".{final.name}.partial{os.getpid()}"
    job.start_shard(final.name, partial.name)
    try:
        if fmt == "jsonl":
            with partial.open("w", encoding="utf8") as file:
                for doc, line_no in docs:
                    file.write(record_line(doc, line_no))
        else:
            doc_bin = FastDocBin(store_user_data=True, docs=[doc for doc, _ in docs])
            doc_bin.to_disk(partial)
        partial.replace(final)
    finally:
        partial.unlink(missing_ok=True)
    job.finish_shard(final.name, len(docs))


def read_shards(output: Path) -> Iterator[Doc]:
    """The docs of a DocBin OUTPUT directory, in input order (a helper for readers of the output)."""
    import spacy

    vocab = spacy.blank("en").vocab
    record = _read_record(output / SETTINGS_FILE) if (output / SETTINGS_FILE).exists() else {}
    names = sorted(record.get("shards") or {}) or sorted(p.name for p in output.glob("shard-*.spacy"))
    for name in names:
        yield from FastDocBin().from_disk(output / name).get_docs(vocab)


@app.command("annotate")
def annotate_cli(
    model: str = typer.Argument(..., help="Pipeline package name or folder for spacy.load."),
    input_spec: str = typer.Argument(
        ...,
        help="One doc per line: text, or JSONL with a 'text' field (.gz ok); "
        "with --engine ray also a folder, a glob or a URI (s3://...).",
    ),
    output: Path = typer.Argument(
        ..., help="Output directory of shards: .spacy DocBins, or JSONL when its name ends in .jsonl."
    ),
    n_process: int = typer.Option(1, "--n-process", "-n", min=1, help="Processes for nlp.pipe."),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", "-b", min=1),
    format_in: InputFormat = typer.Option(InputFormat.text, "--format-in", help="text or jsonl."),
    shard_size: int = typer.Option(DEFAULT_SHARD_SIZE, "--shard-size", min=1, help="Input lines per shard."),
    max_shards: Optional[int] = typer.Option(
        None, "--max-shards", min=1, help="Stop after writing this many new shards (run again to go on)."
    ),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU to use; -1 for the CPU."),
    engine: Engine = typer.Option(Engine.local, "--engine", help="local (nlp.pipe here) or ray (a Ray cluster)."),
    address: Optional[str] = typer.Option(
        None, "--address", help="--engine ray: the cluster to join (auto, HOST:PORT, ray://...); default a local one."
    ),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="--engine ray: actors, one pipeline each."),
) -> None:
    """Annotate a big file with MODEL into OUTPUT shards; an interrupted run resumes where it stopped."""
    input_path = Path(input_spec)
    if engine is Engine.local and not input_path.is_file():
        fail(f"cannot read {input_path}: {'is a directory' if input_path.is_dir() else 'file not found'}")
    try:
        nlp = load_pipeline(model, gpu_id)
    except PipelineError as err:
        fail(str(err))
    start = time.perf_counter()
    try:
        if engine is Engine.ray:
            try:
                from .annotate_ray import annotate_on_ray  # imports ray: only for this engine
            except ImportError as err:
                fail(f'--engine ray needs Ray Data ({one_line(err)}): pip install "spacy-senna[ray]"')
            stats = annotate_on_ray(
                nlp, input_spec, output, format_in.value, shard_size, batch_size, workers, max_shards, model, address
            )
        else:
            stats = annotate(
                nlp,
                input_path,
                output,
                format_in.value,
                shard_size,
                batch_size,
                n_process,
                max_shards,
                model_name=model,
            )
    except ValueError as err:  # SennaFormatError included
        fail(str(err))
    except KeyboardInterrupt:
        fail(f"interrupted: run the same command again to resume (finished shards are kept in {output})")
    except OSError as err:
        fail(f"cannot write {output}: {err}")
    seconds = time.perf_counter() - start
    rate = f", {stats['words'] / seconds:,.0f} words/s" if seconds > 0 and stats["words"] else ""
    msg.good(
        f"Wrote {stats['shards_written']} shards ({stats['docs']:,} docs, {stats['words']:,} words{rate}); "
        f"skipped {stats['shards_skipped']} already done -> {output}"
    )
