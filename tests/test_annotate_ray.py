"""`annotate --engine ray` on a local Ray cluster: the single-machine engine's shards, record
for record, with a worker killed, after a killed driver, and with a bad line.

The cluster (`ray.init(num_cpus=2)`) is started once for the module; the CLI runs start
their own. Skipped when Ray Data is not installed (the `ray` extra).
"""
import gzip
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import spacy

from spacy_senna.cli.annotate import annotate

from .test_senna_cli import LINES, PYTHON, _running, model_dir, needs_proc, nlp3  # noqa: F401  (fixtures)

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from spacy_senna.cli.annotate_ray import Inputs, RayJobError, annotate_on_ray  # noqa: E402

ACTOR_TITLE = "Annotator"  # in the process title of Ray Data's actors: ray::MapWorker(MapBatches(Annotator))


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


def write_text(path, n_lines):
    path.write_text("\n".join(LINES[i % len(LINES)] for i in range(n_lines)) + "\n", encoding="utf8")
    return path


def write_jsonl(path, n_lines):
    with path.open("w", encoding="utf8") as file:
        for i in range(n_lines):
            file.write(json.dumps({"text": LINES[i % len(LINES)], "id": i}) + "\n")
    return path


def shard_files(output):
    """Each shard file's bytes, by name, and the shards annotate.json records."""
    files = {path.name: path.read_bytes() for path in sorted(output.glob("shard-*"))}
    record = json.loads((output / "annotate.json").read_text())
    return files, record["shards"]


def jsonl_records(output):
    return [
        json.loads(line)
        for path in sorted(output.glob("shard-*.jsonl"))
        for line in path.read_text(encoding="utf8").splitlines()
    ]


def test_ray_writes_the_shards_of_the_single_machine_engine(ray_cluster, nlp3, model_dir, tmp_path):
    inputs = (("text", write_text(tmp_path / "in.txt", 60), ""), ("jsonl", write_jsonl(tmp_path / "in.jsonl", 60), ".jsonl"))
    for fmt, source, suffix in inputs:  # text to DocBins, JSONL to JSONL
        local, on_ray = tmp_path / f"local-{fmt}{suffix}", tmp_path / f"ray-{fmt}{suffix}"
        annotate(nlp3, source, local, fmt, shard_size=7, progress=False, model_name=str(model_dir))
        # small batches on two actors: rows of many batches that must come back in order
        stats = annotate_on_ray(
            nlp3, str(source), on_ray, fmt, shard_size=7, batch_size=3, workers=2, progress=False,
            model_name=str(model_dir),
        )
        assert (stats["shards_written"], stats["shards_skipped"], stats["docs"]) == (9, 0, 60)
        # the same files, byte for byte, and the same annotate.json record of them
        assert shard_files(on_ray) == shard_files(local)
    records = jsonl_records(tmp_path / "ray-jsonl.jsonl")
    assert [r["line"] for r in records] == list(range(1, 61))
    assert [r["meta"]["id"] for r in records] == list(range(60))


def test_ray_reads_a_folder_or_a_glob_in_order(ray_cluster, nlp3, model_dir, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_text(folder / "b.txt", 5)
    write_text(folder / "a.txt", 9)
    (folder / ".hidden.txt").write_text("not input\n")
    both = tmp_path / "both.txt"
    both.write_bytes((folder / "a.txt").read_bytes() + (folder / "b.txt").read_bytes())
    with gzip.open(folder / "b.txt.gz", "wb") as file:  # read through Ray's decompression
        file.write((folder / "b.txt").read_bytes())
    (folder / "b.txt").unlink()
    expected = tmp_path / "expected.jsonl"
    annotate(nlp3, both, expected, shard_size=4, progress=False)
    files = [str(folder / "a.txt"), str(folder / "b.txt.gz")]
    assert Inputs(str(folder)).files == files and Inputs(str(folder / "?.t*")).files == files
    output = tmp_path / "out.jsonl"
    annotate_on_ray(nlp3, str(folder), output, shard_size=4, workers=1, progress=False, model_name=str(model_dir))
    records = jsonl_records(output)
    assert [(Path(r.pop("file")).name, r["line"]) for r in records] == [
        *(("a.txt", i) for i in range(1, 10)), *(("b.txt.gz", i) for i in range(1, 6))
    ]
    assert [r["tokens"] for r in records] == [r["tokens"] for r in jsonl_records(expected)]
    with pytest.raises(ValueError, match="no files found"):
        annotate_on_ray(nlp3, str(folder / "*.jsonl"), tmp_path / "none", model_name=str(model_dir))


@needs_proc
def test_ray_a_killed_worker_is_retried_exactly_once(ray_cluster, nlp3, model_dir, tmp_path):
    n_lines, shard_size = 12000, 200
    source = write_jsonl(tmp_path / "in.jsonl", n_lines)
    output = tmp_path / "out.jsonl"
    killed = {}

    def kill_an_actor_once_a_shard_is_written():
        deadline = time.monotonic() + 120
        while not (output / "shard-00000.jsonl").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = _running(ACTOR_TITLE)
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            killed.update(pid=pids[0], shards_then=len(list(output.glob("shard-*"))))

    killer = threading.Thread(target=kill_an_actor_once_a_shard_is_written)
    killer.start()
    stats = annotate_on_ray(
        nlp3, str(source), output, "jsonl", shard_size=shard_size, batch_size=50, workers=2, progress=False,
        model_name=str(model_dir),
    )
    killer.join()
    n_shards = n_lines // shard_size
    assert killed and killed["shards_then"] < n_shards, "the actor was not killed mid-run"
    lines = Counter(record["line"] for record in jsonl_records(output))
    duplicates = sum(count - 1 for count in lines.values())
    missing = n_lines - len(lines)
    assert (stats["docs"], sum(lines.values()), duplicates, missing) == (n_lines, n_lines, 0, 0)
    assert [r["meta"]["id"] for r in jsonl_records(output)] == list(range(n_lines))
    assert stats["shards_written"] == n_shards


def _with_marker(marker):
    return {**os.environ, "SPACY_SENNA_TEST_RUN": marker}


def _marked(marker, but=()):
    """Pids of the processes whose environment holds `marker` (the CLI's Ray cluster inherits
    it), but those whose command line mentions one of `but`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"SPACY_SENNA_TEST_RUN={marker}".encode() in (entry / "environ").read_bytes():
                    if not any(name in (entry / "cmdline").read_bytes().decode("utf8", "replace") for name in but):
                        pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def _gone(marker, seconds=30.0, but=()):
    """Whether every process holding `marker` (but `but`) has exited within `seconds`."""
    deadline = time.monotonic() + seconds
    while _marked(marker, but) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _marked(marker, but)


# Ray's two agents, which notice that their raylet was killed within a minute and exit then
RAY_AGENTS = ("ray::DashboardAgent", "ray::RuntimeEnvAgent")


@needs_proc
def test_ray_resumes_after_a_killed_driver(ray_cluster, nlp3, model_dir, tmp_path):
    source = write_text(tmp_path / "in.txt", 8000)
    expected = tmp_path / "expected"
    annotate(nlp3, source, expected, shard_size=500, progress=False)
    output = tmp_path / "out"
    marker = uuid.uuid4().hex
    args = ["annotate", str(model_dir), str(source), str(output), "--engine", "ray", "--shard-size", "500", "-b", "20"]
    process = subprocess.Popen(
        [PYTHON, "-m", "spacy_senna", *args], env=_with_marker(marker), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while not (output / "shard-00000.spacy").exists():
            assert process.poll() is None and time.monotonic() < deadline, "annotate did not start"
            time.sleep(0.05)
    finally:
        process.kill()
        process.wait(timeout=10)
    assert _gone(marker, but=RAY_AGENTS), "Ray's processes outlived their killed driver"
    written = len(list(output.glob("shard-*.spacy")))
    assert 1 <= written < 16
    # resumed, here on the test's cluster: the shards written are kept, the others written once
    stats = annotate_on_ray(nlp3, str(source), output, shard_size=500, workers=2, progress=False, model_name=str(model_dir))
    assert stats["shards_skipped"] >= written and stats["shards_skipped"] + stats["shards_written"] == 16
    assert shard_files(output)[1] == shard_files(expected)[1]  # checksums included
    assert not list(output.glob(".shard-*"))


def test_ray_resumes_the_single_machine_engine_and_checks_the_job(ray_cluster, nlp3, model_dir, tmp_path):
    source = write_text(tmp_path / "in.txt", 30)
    expected, part = tmp_path / "expected", tmp_path / "part"
    annotate(nlp3, source, expected, shard_size=10, progress=False)
    annotate(nlp3, source, part, shard_size=10, max_shards=1, progress=False)
    other = write_text(tmp_path / "other.txt", 31)
    with pytest.raises(ValueError, match="another job \\(input size"):
        annotate_on_ray(nlp3, str(other), part, shard_size=10, model_name=str(model_dir), progress=False)
    with pytest.raises(ValueError, match="another job \\(shard_size"):
        annotate_on_ray(nlp3, str(source), part, shard_size=5, model_name=str(model_dir), progress=False)
    with pytest.raises(ValueError, match="another job \\(model"):
        annotate_on_ray(spacy.blank("en"), str(source), part, shard_size=10, model_name="blank:en", progress=False)
    stats = annotate_on_ray(nlp3, str(source), part, shard_size=10, model_name=str(model_dir), progress=False)
    assert (stats["shards_skipped"], stats["shards_written"], stats["docs"]) == (1, 2, 20)
    assert shard_files(part)[1] == shard_files(expected)[1]
    # workers that load another model than the driver's (another version on a node): refused
    other_model = tmp_path / "other_model"
    spacy.blank("en").to_disk(other_model)
    with pytest.raises(RayJobError, match="is not the model the job was started with"):
        annotate_on_ray(nlp3, str(source), tmp_path / "o", shard_size=10, model_name=str(other_model), progress=False)
    assert not list((tmp_path / "o").glob("shard-*"))


@needs_proc
def test_ray_cli_bad_line_fails_on_one_line_leaving_no_workers(model_dir, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", 1000)
    lines = source.read_text(encoding="utf8").splitlines()
    lines[749] = "{broken"
    source.write_text("\n".join(lines) + "\n", encoding="utf8")
    output, local = tmp_path / "out", tmp_path / "local"
    marker = uuid.uuid4().hex
    settings = ["--format-in", "jsonl", "--shard-size", "300"]
    result = subprocess.run(
        [PYTHON, "-m", "spacy_senna", "annotate", str(model_dir), str(source), str(output), *settings,
         "--engine", "ray", "--workers", "2"],
        env=_with_marker(marker), capture_output=True, timeout=300,
    )
    stderr = result.stderr.decode()
    assert result.returncode == 1 and "Traceback" not in stderr
    assert f"{source}, line 750: not valid JSON" in stderr.splitlines()[-1]
    assert _gone(marker), "Ray processes outlived the failed job"
    # the single-machine engine's error line, and the shards before the bad line's, complete
    single = subprocess.run(
        [PYTHON, "-m", "spacy_senna", "annotate", str(model_dir), str(source), str(local), *settings],
        capture_output=True, timeout=120,
    )
    assert single.returncode == 1 and single.stderr.decode().splitlines()[-1] == stderr.splitlines()[-1]
    assert sorted(shard_files(output)[0]) == ["shard-00000.spacy", "shard-00001.spacy"]
    assert shard_files(output)[1] == shard_files(local)[1]


def test_single_machine_annotate_imports_no_ray(model_dir, tmp_path):
    source = write_text(tmp_path / "in.txt", 5)
    script = (
        "import sys, spacy_senna, spacy_senna.cli\n"
        "from pathlib import Path\n"
        "from spacy_senna.cli.annotate import annotate\n"
        f"annotate(spacy_senna.cli._util.load_pipeline({str(model_dir)!r}), Path({str(source)!r}), "
        f"Path({str(tmp_path / 'out')!r}), progress=False)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'ray', 'pyarrow'}))\n"
    )
    result = subprocess.run([PYTHON, "-c", script], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().split() == ["[]"]
    assert (tmp_path / "out" / "shard-00000.spacy").exists()
