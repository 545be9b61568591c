"""`annotate`: run a pipeline over a big file, in constant memory, resumably.

INPUT holds one document per line: plain text, or JSONL with a "text" field (the other fields
are kept as the doc's `user_data["meta"]`). Every input line gives one doc (an empty line an
empty doc), so doc i of shard k is input line k * shard_size + i + 1.

OUTPUT is a directory of shards, one per --shard-size input lines: `shard-00000.spacy`
(DocBin) or, when OUTPUT's name ends in `.jsonl`, `shard-00000.jsonl` with one JSON object
per doc (text, tokens, tags, chunks, ents, srl frames). Each shard is written to a temporary
file and renamed when complete, so an interrupted run can be started again with the same
arguments: shards already there are skipped (their lines are read past, not tagged).
`annotate.json` in OUTPUT records the shard size; resuming with another one is refused.
"""
import json
import os
import time
from enum import Enum
from itertools import islice
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import srsly
import typer
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from wasabi import msg

from ..processes import PipeGuard
from ..readers import SennaFormatError, read_lines
from ..srl_format import srl_key, srl_predicates
from ._util import app, fail
from .predict import load_pipeline

DEFAULT_SHARD_SIZE = 10000
DEFAULT_BATCH_SIZE = 128
SETTINGS_FILE = "annotate.json"


class InputFormat(str, Enum):
    text = "text"
    jsonl = "jsonl"


def shard_name(index: int, fmt: str) -> str:
    return f"shard-{index:05d}.{fmt}"


def output_format(output: Path) -> str:
    """'jsonl' when OUTPUT's name ends in .jsonl, else 'spacy'."""
    return "jsonl" if output.name.lower().endswith(".jsonl") else "spacy"


def read_records(path: Path, fmt: str) -> Iterator[Tuple[int, str, Optional[Dict[str, Any]]]]:
    """(line number, text, other JSONL fields or None) for every line of INPUT."""
    for line_no, line in read_lines(path):
        if fmt == "text" or not line.strip():
            yield line_no, line, None
            continue
        try:
            record = json.loads(line)
        except ValueError as err:
            raise SennaFormatError(path, f"not a JSON object: {err}", line_no) from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise SennaFormatError(path, 'expected a JSON object with a "text" string', line_no)
        text = record.pop("text")
        yield line_no, text, record


def doc_record(doc: Doc, line: Optional[int] = None) -> Dict[str, Any]:
    """A doc's annotation as a JSON-able dict: tokens, tags, chunks, ents, SRL frames."""
    record: Dict[str, Any] = {}
    if line is not None:
        record["line"] = line
    record["text"] = doc.text
    record["tokens"] = [t.text for t in doc]
    record["offsets"] = [[t.idx, t.idx + len(t.text)] for t in doc]
    record["tags"] = [t.tag_ for t in doc]
    record["chunks"] = [[s.start, s.end, s.label_] for s in doc.spans.get("chunks", [])]
    record["ents"] = [[e.start, e.end, e.label_] for e in doc.ents]
    frames = []
    for index in srl_predicates(doc):
        group = doc.spans[srl_key(index)]
        frames.append(
            {
                "predicate": index,
                "lemma": group.attrs.get("lemma"),
                "arguments": [[s.start, s.end, s.label_] for s in group],
            }
        )
    record["srl"] = frames
    if doc.user_data.get("meta"):
        record["meta"] = doc.user_data["meta"]
    return record


def check_settings(output: Path, shard_size: int, fmt: str, model: str, input_path: Path) -> None:
    """Record the shard layout in OUTPUT, or refuse to resume with a different one."""
    settings_path = output / SETTINGS_FILE
    settings = {"shard_size": shard_size, "format": fmt, "model": model, "input": str(input_path)}
    if settings_path.exists():
        old = srsly.read_json(settings_path)
        for key in ("shard_size", "format"):
            if old.get(key) != settings[key]:
                raise ValueError(
                    f"{output} holds shards written with {key} {old.get(key)!r}, not {settings[key]!r}: "
                    "resume with the same settings or use another OUTPUT"
                )
        return
    srsly.write_json(settings_path, settings)


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

    if shard_size < 1:
        raise ValueError("--shard-size must be at least 1")
    fmt = output_format(output)
    output.mkdir(parents=True, exist_ok=True)
    check_settings(output, shard_size, fmt, model_name, input_path)
    for stale in output.glob(".shard-*.partial*"):  # left by an interrupted run
        stale.unlink(missing_ok=True)
    stats = {"shards_written": 0, "shards_skipped": 0, "docs": 0, "words": 0}
    guard = PipeGuard()
    stopped: List[BaseException] = []  # why the feed ended early: raised once the pool is done
    fed: List[int] = []  # the shards whose every line was handed to nlp.pipe

    def done(index: int) -> bool:
        return (output / shard_name(index, fmt)).exists()

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
                    _write_shard(output, current, fmt, docs)
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
            _write_shard(output, current, fmt, docs)
            stats["shards_written"] += 1
    finally:
        bar.close()
    if stopped:
        raise stopped[0]
    return stats


def _write_shard(output: Path, index: int, fmt: str, docs: List[Tuple[Doc, int]]) -> None:
    """Write one shard to a temporary file, then rename it into place."""
    final = output / shard_name(index, fmt)
    partial = output / f".{final.name}.partial{os.getpid()}"
    try:
        if fmt == "jsonl":
            with partial.open("w", encoding="utf8") as file:
                for doc, line_no in docs:
                    file.write(json.dumps(doc_record(doc, line_no), ensure_ascii=False) + "\n")
        else:
            doc_bin = DocBin(store_user_data=True, docs=[doc for doc, _ in docs])
            doc_bin.to_disk(partial)
        partial.replace(final)
    finally:
        partial.unlink(missing_ok=True)


def read_shards(output: Path) -> Iterator[Doc]:
    """The docs of a DocBin OUTPUT directory, in input order (a helper for readers of the output)."""
    import spacy

    vocab = spacy.blank("en").vocab
    for path in sorted(output.glob("shard-*.spacy")):
        yield from DocBin().from_disk(path).get_docs(vocab)


@app.command("annotate")
def annotate_cli(
    model: str = typer.Argument(..., help="Pipeline package name or folder for spacy.load."),
    input_path: Path = typer.Argument(..., help="One doc per line: text, or JSONL with a 'text' field (.gz ok)."),
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
) -> None:
    """Annotate a big file with MODEL into OUTPUT shards; an interrupted run resumes where it stopped."""
    if not input_path.is_file():
        fail(f"cannot read {input_path}: {'is a directory' if input_path.is_dir() else 'file not found'}")
    nlp = load_pipeline(model, gpu_id)
    start = time.perf_counter()
    try:
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
