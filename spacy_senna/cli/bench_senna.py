"""`bench-senna`: our `senna` drop-in against the SENNA binary, per task, same text, same run.

Each program is run as a SENNA user runs it: the whole process, one sentence a line on stdin
with `-usrtokens`, pinned to one core (`taskset -c CPU`, one BLAS thread), --repeat times,
keeping the fastest run; and again on the text's first line, whose time is the load time.
Words/s exclude the load: tokens out / (wall(text) - wall(one line)). Peak RSS is the program's
own (wait4, in a small process that forks it: see LAUNCHER); words/cpu-s use the child's user + system time instead of wall time, steadier on
a core other work shares. The programs take turns within each of the --repeat rounds. Tasks as
SENNA spells them: -pos, -chk, -ner, -srl (with -posvbs) and -psg (the last two on the first
--srl-lines lines; -psg is not in the default --tasks: it needs a MODEL with a senna_parser);
SENNA runs POS first for each of them.

The programs, one row each per task: SENNA (SENNA_DIR/senna-linux64, or SENNA_DIR/senna, with
-path SENNA_DIR/), `python -m spacy_senna tag --model MODEL`, the installed `senna` console
script when it is on the interpreter's bin folder, and `python -m spacy_senna tag` again with
each --pythonpath DIR in front (an older checkout, for a before/after in the same run). The
ratio column is words/s against SENNA's on the same task. With --in-process FILE, the `bench`
command's per-component words/s on FILE are added (same core). SENNA's binary and data are
never part of this project: SENNA_DIR is made by the user (e.g. senna_c's setup.sh).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import typer
from wasabi import table

from ..readers import FORMATS, SennaFormatError, read_sentences
from ._util import app, fail

TASK_FLAGS: Dict[str, List[str]] = {
    "pos": ["-usrtokens", "-pos"],
    "chk": ["-usrtokens", "-chk"],
    "ner": ["-usrtokens", "-ner"],
    "srl": ["-usrtokens", "-posvbs", "-srl"],
    "psg": ["-usrtokens", "-psg"],
}
SHORT_TASKS = ("srl", "psg")  # run on the first --srl-lines lines: they are the slow ones
SENNA_BINARIES = ("senna-linux64", "senna")
ONE_THREAD = {
    name: "1"
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
}


@dataclass
class Program:
    """A command line that reads SENNA's input on stdin (the task flags are appended)."""

    name: str
    argv: List[str]
    env: Dict[str, str]


@dataclass
class Timing:
    """One program on one task: the fastest of its runs on the text and on its first line;
    words/s exclude the load, by wall time and by the child's own CPU time (user + system,
    steadier on a busy core)."""

    program: str
    task: str
    wall_s: float
    load_s: float
    cpu_s: float
    load_cpu_s: float
    maxrss_mb: float
    tokens: int
    predicates: Optional[int]
    words_per_s: Optional[float]
    words_per_cpu_s: Optional[float]
    ratio: Optional[float] = None
    cpu_ratio: Optional[float] = None


@dataclass
class Run:
    """What one run of a program measured."""

    wall_s: float
    cpu_s: float
    maxrss_mb: float


def text_lines(path: Path, fmt: str) -> List[str]:
    """The sentences to tag, one a line with space-separated tokens: the file's non-empty lines
    (fmt "text"), or the words of each sentence of a corpus file (a `convert` format)."""
    if fmt == "text":
        return [line for line in path.read_text(encoding="utf8").splitlines() if line.strip()]
    try:
        return [" ".join(sentence.words) for sentence in read_sentences(path, fmt) if sentence.words]
    except SennaFormatError as err:
        fail(str(err))


def find_senna(senna_dir: Path) -> Path:
    for name in SENNA_BINARIES:
        if (senna_dir / name).is_file() and os.access(senna_dir / name, os.X_OK):
            return senna_dir / name
    fail(f"no SENNA binary ({' or '.join(SENNA_BINARIES)}) in {senna_dir}: make the folder with senna_c's setup.sh")


# Runs argv in a process forked from this small one, and writes "exit code, CPU seconds, peak
# RSS KiB" of it (wait4) to the fd it is given. Linux carries a process's peak RSS across exec,
# and a child of this benchmark starts as a copy of it (vfork): read directly, a program's peak
# would be at least the benchmark's own (a loaded pipeline's, with --in-process).
LAUNCHER = """
import os, sys
fd = int(sys.argv[1])
argv = sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.close(fd)
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
os.write(fd, ("%d %r %d" % (os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss)).encode())
"""


def run_once(program: Program, flags: Sequence[str], text: Path, output: Path, cpu: Optional[int]) -> Run:
    """One run with stdout to `output`: wall and CPU seconds and peak RSS of the program itself
    (wait4 in LAUNCHER); fails on a non-zero exit."""
    argv = [*program.argv, *flags]
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu), *argv]
    read_end, write_end = os.pipe()
    with text.open("rb") as stdin, output.open("wb") as stdout:
        started = time.perf_counter()
        # cwd: the output's folder, so that `python -m` imports spacy_senna from the program's
        # environment (PYTHONPATH), not from the folder the benchmark was started in
        child = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER, str(write_end), *argv],
            stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, env=program.env, cwd=output.parent,
            pass_fds=(write_end,),
        )
        os.close(write_end)
        errors = child.stderr.read().decode("utf8", "replace").strip() if child.stderr else ""
        child.wait()
        wall = time.perf_counter() - started
    with os.fdopen(read_end, "rb") as report:
        fields = report.read().decode("ascii").split()
    if child.returncode != 0 or len(fields) != 3:
        fail(f"{program.name} {' '.join(flags)}: the launcher failed ({child.returncode}): {errors.splitlines()[-1] if errors else ''}")
    exit_code, cpu_s, maxrss_kb = int(fields[0]), float(fields[1]), int(fields[2])
    if exit_code != 0:
        fail(f"{program.name} {' '.join(flags)} exited with {exit_code}: {errors.splitlines()[-1] if errors else ''}")
    return Run(wall, cpu_s, maxrss_kb / 1024)


def count_output(path: Path, srl: bool):
    """Tokens in SENNA-format output (non-empty lines) and, for SRL, predicates (column 2 not '-')."""
    tokens = predicates = 0
    with path.open("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            tokens += 1
            if srl:
                columns = line.split(b"\t")
                predicates += len(columns) > 1 and columns[1].strip() != b"-"
    return tokens, (predicates if srl else None)


def task_flags(program: Program, task: str) -> List[str]:
    flags = TASK_FLAGS[task]
    return ["-path", program.env["SENNA_PATH"], *flags] if program.name == "SENNA" else flags


def time_task(
    programs: Sequence[Program], task: str, text: Path, one_line: Path, work: Path, repeat: int, cpu
) -> List[Timing]:
    """Each program on the text and on its first line, `repeat` rounds, the programs taking
    turns within a round (so that a change in the machine's load hits them alike)."""
    full: Dict[str, List[Run]] = {program.name: [] for program in programs}
    load: Dict[str, List[Run]] = {program.name: [] for program in programs}
    outputs = {program.name: work / f"{_file_name(program.name)}.{task}.out" for program in programs}
    for _ in range(repeat):
        for program in programs:
            flags = task_flags(program, task)
            full[program.name].append(run_once(program, flags, text, outputs[program.name], cpu))
            load[program.name].append(run_once(program, flags, one_line, work / "one.out", cpu))
    timings = []
    for program in programs:
        tokens, predicates = count_output(outputs[program.name], task == "srl")
        wall = min(run.wall_s for run in full[program.name])
        load_wall = min(run.wall_s for run in load[program.name])
        cpu_s = min(run.cpu_s for run in full[program.name])
        load_cpu = min(run.cpu_s for run in load[program.name])
        timings.append(
            Timing(
                program.name, task, round(wall, 3), round(load_wall, 3), round(cpu_s, 3), round(load_cpu, 3),
                round(max(run.maxrss_mb for run in full[program.name]), 1), tokens, predicates,
                _rate(tokens, wall - load_wall), _rate(tokens, cpu_s - load_cpu),
            )
        )
    return timings


def _rate(tokens: int, seconds: float) -> Optional[float]:
    return round(tokens / seconds) if seconds > 0 else None


def _file_name(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def programs(senna: Path, model: str, pythonpaths: Sequence[Path], console_script: bool) -> List[Program]:
    env = {**os.environ, **ONE_THREAD}
    found = [Program("SENNA", [str(senna)], {**env, "SENNA_PATH": f"{senna.parent}/"})]
    ours = [sys.executable, "-m", "spacy_senna", "tag", "--model", model]
    found.append(Program("ours", ours, env))
    script = Path(sys.executable).parent / "senna"
    if console_script and script.is_file():
        found.append(Program("ours (senna script)", [str(script), "--model", model], env))
    for path in pythonpaths:
        paths = [str(path.resolve()), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
        found.append(Program(f"ours ({path})", ours, {**env, "PYTHONPATH": os.pathsep.join(paths)}))
    return found


def with_ratios(timings: List[Timing]) -> List[Timing]:
    """Each timing's words/s (wall, CPU) over SENNA's on the same task."""
    senna = {t.task: t for t in timings if t.program == "SENNA"}
    for timing in timings:
        reference = senna.get(timing.task)
        if reference is not None and reference.words_per_s and timing.words_per_s:
            timing.ratio = round(timing.words_per_s / reference.words_per_s, 2)
        if reference is not None and reference.words_per_cpu_s and timing.words_per_cpu_s:
            timing.cpu_ratio = round(timing.words_per_cpu_s / reference.words_per_cpu_s, 2)
    return timings


def in_process(model: str, text: Path, cpu: Optional[int]) -> Dict:
    """The `bench` command's JSON on `text` (its format auto-detected), in a child on the same core."""
    argv = [sys.executable, "-m", "spacy_senna", "bench", model, str(text.resolve())]
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu), *argv]
    done = subprocess.run(argv, capture_output=True, env={**os.environ, **ONE_THREAD}, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        fail(f"bench {model} {text} exited with {done.returncode}: {done.stderr.decode('utf8', 'replace').strip()[-300:]}")
    return json.loads(done.stdout)


@app.command("bench-senna")
def bench_senna_cli(
    senna_dir: Path = typer.Argument(..., help="SENNA's folder: the binary, hash/ and data/ (senna_c's setup.sh makes one)."),
    text: Path = typer.Argument(..., help="One sentence a line, tokens split by spaces (or a corpus file: --format)."),
    model: str = typer.Option("training/senna", "--model", "-m", help="Our pipeline (spacy.load name or folder)."),
    tasks: str = typer.Option("pos,chk,ner,srl", "--tasks", help="Comma-separated: pos, chk, ner, srl, psg."),
    repeat: int = typer.Option(3, "--repeat", "-r", min=1, help="Runs of each; the fastest counts."),
    cpu: int = typer.Option(1, "--cpu", help="The core every program is pinned to (-1: not pinned)."),
    srl_lines: int = typer.Option(1000, "--srl-lines", min=1, help="-srl and -psg run on the first N lines."),
    pythonpath: Optional[List[Path]] = typer.Option(None, "--pythonpath", help="Also time our drop-in with this checkout first on PYTHONPATH (repeatable)."),
    console_script: bool = typer.Option(True, "--console-script/--no-console-script", help="Also time the installed `senna` script."),
    in_process_input: Optional[Path] = typer.Option(None, "--in-process", help="Add the `bench` command's in-process words/s on this file (raw text or a corpus, e.g. WSJ .tsv.gz: pre-tokenised)."),
    fmt: str = typer.Option("text", "--format", "-f", help=f"TEXT's format: text, or one of {', '.join(FORMATS)} (its words are tagged)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write the JSON here."),
) -> None:
    """Words/s of our `senna` drop-in against SENNA's binary, per task, in one run: prints a table and JSON."""
    if fmt != "text" and fmt not in FORMATS:
        fail(f"--format: unknown format {fmt!r}; expected text or one of {', '.join(FORMATS)}")
    names = [task.strip() for task in tasks.split(",") if task.strip()]
    unknown = [task for task in names if task not in TASK_FLAGS]
    if unknown or not names:
        fail(f"--tasks: unknown task {unknown[0] if unknown else '(none)'}; expected some of {', '.join(TASK_FLAGS)}")
    if not text.is_file():
        fail(f"no text file {text}")
    if not senna_dir.is_dir():
        fail(f"no SENNA folder {senna_dir}")
    pinned: Optional[int] = None if cpu < 0 else cpu
    if pinned is not None and shutil.which("taskset") is None:
        fail("taskset (util-linux) is not installed: pass --cpu -1 to run unpinned")
    senna = find_senna(senna_dir.resolve())
    if Path(model).exists():  # the programs run in a temporary folder
        model = str(Path(model).resolve())
    text = text.resolve()
    with tempfile.TemporaryDirectory(prefix="bench-senna-") as tmp:
        work = Path(tmp)
        lines = text_lines(text, fmt)
        if not lines:
            fail(f"{text} has no sentences")
        full_text = work / "text.txt"
        full_text.write_text("\n".join(lines) + "\n", encoding="utf8")
        (work / "one.txt").write_text(lines[0] + "\n", encoding="utf8")
        (work / "srl.txt").write_text("\n".join(lines[:srl_lines]) + "\n", encoding="utf8")
        timings = []
        runs = programs(senna, model, pythonpath or [], console_script)
        for task in names:
            task_text = work / "srl.txt" if task in SHORT_TASKS else full_text
            for timing in time_task(runs, task, task_text, work / "one.txt", work, repeat, pinned):
                typer.echo(
                    f"{timing.program:>24} -{task}: {timing.words_per_s or 0:>9,} words/s, "
                    f"{timing.words_per_cpu_s or 0:>9,} words/cpu-s",
                    err=True,
                )
                timings.append(timing)
    with_ratios(timings)
    words = sum(len(line.split()) for line in lines)
    result = {
        "text": str(text),
        "sentences": len(lines),
        "words": words,
        "srl_lines": min(srl_lines, len(lines)),
        "cpu": pinned,
        "repeat": repeat,
        "date": time.strftime("%Y-%m-%d"),
        "loadavg": os.getloadavg(),
        "timings": [asdict(t) for t in timings],
    }
    rows = [
        (
            t.task, t.program, t.words_per_s, t.ratio, t.words_per_cpu_s, t.cpu_ratio, t.load_s, t.maxrss_mb,
            t.tokens, t.predicates if t.predicates is not None else "",
        )
        for t in timings
    ]
    header = ("task", "program", "words/s", "/ SENNA", "words/cpu-s", "/ SENNA", "load s", "peak RSS MB", "tokens", "predicates")
    typer.echo(table(rows, header=header, divider=True), err=True)
    if in_process_input is not None:  # after the table, which is there even if this fails
        result["in_process"] = in_process(model, in_process_input, pinned)
    payload = json.dumps(result, indent=2)
    typer.echo(payload)
    if output is not None:
        output.write_text(payload + "\n", encoding="utf8")
