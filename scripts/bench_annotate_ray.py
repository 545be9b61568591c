"""Throughput of `annotate` on one file: the single-machine engine (--n-process 1, 2) against
the Ray engine (--workers 1, 2) on a local Ray cluster, in one run, and a Ray run with one
actor SIGKILLed half-way (counts and the time lost to the retry).

    python scripts/make_big_text.py assets/ptb_pos/wsj_dev.tsv.gz corpus/wsj_dev_1M.txt --format wsj --words 1000000
    python scripts/bench_annotate_ray.py training/ner/model-best corpus/wsj_dev_1M.txt

The Ray overhead is printed as: the cluster's start (ray.init); a job's fixed cost, the time
of a job of 100 lines (actors started, model loaded, one batch); and the per-batch cost, the
Ray run's time less that fixed cost less the single-machine run's time, over the batches. The
driver's CPU time per word says how many words/s one driver can take in.
"""
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, List

import ray
import spacy
import typer

from spacy_senna.cli._util import DEFAULT_BATCH_SIZE
from spacy_senna.cli.annotate import annotate
from spacy_senna.cli.annotate_ray import annotate_on_ray


def timed(run: Callable[[], Dict[str, int]]) -> Dict[str, float]:
    """The run's counts, its wall time, words/s, and this process's CPU time (the driver's)."""
    start, cpu = time.perf_counter(), time.process_time()
    stats = run()
    seconds = time.perf_counter() - start
    return {**stats, "seconds": seconds, "words_per_s": stats["words"] / seconds, "cpu": time.process_time() - cpu}


def actor_pids() -> List[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"Annotator" in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def main(
    model: str = typer.Argument(..., help="Pipeline folder or package."),
    input_path: Path = typer.Argument(..., help="Plain text, one doc a line."),
    shard_size: int = typer.Option(10000, "--shard-size"),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size"),
) -> None:
    nlp = spacy.load(model)
    n_lines = sum(1 for _ in input_path.open("rb"))
    n_batches = -(-n_lines // batch_size)
    work = Path(tempfile.mkdtemp(prefix="bench_annotate_ray."))
    rows = {}

    def out(name: str) -> Path:
        shutil.rmtree(work / name, ignore_errors=True)
        return work / name

    for n in (1, 2):
        rows[f"local --n-process {n}"] = timed(
            lambda: annotate(nlp, input_path, out(f"local{n}"), shard_size=shard_size, batch_size=batch_size,
                             n_process=n, progress=False)
        )
    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False)
    cluster_start = time.perf_counter() - start
    small = work / "small.txt"
    small.write_text("".join(line for _, line in zip(range(100), input_path.open(encoding="utf8"))), encoding="utf8")
    fixed = {}
    try:
        for n in (1, 2):
            fixed[n] = timed(
                lambda: annotate_on_ray(nlp, str(small), out("small"), shard_size=shard_size, batch_size=batch_size,
                                        workers=n, model_name=model, progress=False)
            )["seconds"]
            rows[f"ray --workers {n}"] = timed(
                lambda: annotate_on_ray(nlp, str(input_path), out(f"ray{n}"), shard_size=shard_size,
                                        batch_size=batch_size, workers=n, model_name=model, progress=False)
            )
        clean = timed(
            lambda: annotate_on_ray(nlp, str(input_path), out("clean.jsonl"), shard_size=shard_size,
                                    batch_size=batch_size, workers=2, model_name=model, progress=False)
        )
        killed: Dict[str, int] = {}
        output_jsonl = out("killed.jsonl")

        def kill_half_way() -> None:
            while len(list(output_jsonl.glob("shard-*"))) < max(1, n_lines // shard_size // 2):
                time.sleep(0.05)
            pids = actor_pids()
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                killed["at_shard"] = len(list(output_jsonl.glob("shard-*")))

        threading.Thread(target=kill_half_way, daemon=True).start()
        faulty = timed(
            lambda: annotate_on_ray(nlp, str(input_path), output_jsonl, shard_size=shard_size, batch_size=batch_size,
                                    workers=2, model_name=model, progress=False)
        )
    finally:
        ray.shutdown()
    words = rows["local --n-process 1"]["words"]
    print(f"input: {input_path} ({n_lines:,} lines, {words:,} words), model {model}, batch {batch_size}, "
          f"shard {shard_size}, os.cpu_count()={os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    print(f"{'engine':<22}{'seconds':>9}{'words/s':>10}{'vs local -n 1':>15}")
    base = rows["local --n-process 1"]["words_per_s"]
    for name, row in rows.items():
        assert row["words"] == words, (name, row)
        print(f"{name:<22}{row['seconds']:>9.1f}{row['words_per_s']:>10,.0f}{row['words_per_s'] / base:>14.2f}x")
    print(f"Ray overhead: cluster start (ray.init) {cluster_start:.1f} s")
    for n in (1, 2):
        ray_row, local = rows[f"ray --workers {n}"], rows[f"local --n-process {n}"]
        per_batch = (ray_row["seconds"] - fixed[n] - local["seconds"]) / n_batches
        print(f"  {n} worker(s): a job's fixed cost (100 lines) {fixed[n]:.1f} s; then {1000 * per_batch:+.1f} ms per "
              f"batch of {batch_size} lines against --n-process {n} ({n_batches:,} batches); driver CPU "
              f"{1e6 * ray_row['cpu'] / words:.1f} us a word (one driver takes in ~{words / ray_row['cpu']:,.0f} words/s)")
    lines = Counter(json.loads(line)["line"] for path in sorted(output_jsonl.glob("shard-*"))
                    for line in path.read_text(encoding="utf8").splitlines())
    duplicates = sum(count - 1 for count in lines.values())
    missing = len(set(range(1, n_lines + 1)) - set(lines))
    print(f"fault run (JSONL out, 2 workers, one actor SIGKILLed after shard {killed.get('at_shard', 'none')}): "
          f"input records {n_lines:,}, output records {sum(lines.values()):,}, duplicates {duplicates}, "
          f"missing {missing}; {faulty['seconds']:.1f} s against {clean['seconds']:.1f} s without the kill: "
          f"{faulty['seconds'] - clean['seconds']:+.1f} s lost to the retry")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    typer.run(main)
