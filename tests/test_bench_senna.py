"""bench-senna: timing a SENNA-style program per task, and its table of ratios."""
import os
import subprocess
import sys

import pytest

from spacy_senna.cli.bench_senna import Program, Timing, count_output, run_once, text_lines, time_task, with_ratios

FAKE_SENNA = """#!/bin/sh
# SENNA's output shape: the token, a tab, a tag; an empty line after each sentence
while read -r line; do
  for word in $line; do printf '%15s\\t%10s\\t%s\\n' "$word" "NN" "$*"; done
  echo
done
"""


@pytest.fixture
def fake_senna(tmp_path):
    path = tmp_path / "senna"
    path.write_text(FAKE_SENNA, encoding="utf8")
    path.chmod(0o755)
    return path


def test_count_output_counts_tokens_and_predicates(tmp_path):
    output = tmp_path / "out.txt"
    output.write_text("  The\t-\tB-A0\n  cat\tcat\tB-V\n\n   It\t-\tS-A0\n\n", encoding="utf8")
    assert count_output(output, srl=False) == (3, None)
    assert count_output(output, srl=True) == (3, 1)


@pytest.mark.parametrize("task", ["pos", "psg"])
def test_time_task_runs_text_and_one_line(fake_senna, tmp_path, task):
    text = tmp_path / "text.txt"
    text.write_text("The cat sat .\nA dog .\n", encoding="utf8")
    one = tmp_path / "one.txt"
    one.write_text("The cat sat .\n", encoding="utf8")
    programs = [Program("fake", [str(fake_senna)], dict(os.environ)), Program("fake 2", [str(fake_senna)], dict(os.environ))]
    timings = time_task(programs, task, text, one, tmp_path, repeat=2, cpu=None)
    assert [t.program for t in timings] == ["fake", "fake 2"]
    for timing in timings:
        assert timing.tokens == 7 and timing.predicates is None
        assert timing.wall_s > 0 and timing.load_s > 0 and timing.cpu_s >= 0 and timing.maxrss_mb > 0
    output = (tmp_path / f"fake.{task}.out").read_text(encoding="utf8")
    assert output.count("\n\n") == 2 and f"-{task}" in output  # the task's flag reached the program


def test_programs_run_outside_the_current_folder(tmp_path, monkeypatch):
    """`python -m spacy_senna` must import the program's own spacy_senna (its PYTHONPATH), not
    a checkout in the folder the benchmark was started from."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "work").mkdir()
    text = tmp_path / "text.txt"
    text.write_text("a b\n", encoding="utf8")
    program = Program("where", ["sh", "-c", "cat > /dev/null; pwd"], dict(os.environ))
    timing = time_task([program], "pos", text, text, tmp_path / "work", repeat=1, cpu=None)[0]
    assert timing.tokens == 1
    assert (tmp_path / "work" / "where.pos.out").read_text(encoding="utf8").strip() == str(tmp_path / "work")


def _timing(program, task, words_per_s, words_per_cpu_s):
    return Timing(program, task, 1.0, 0.1, 1.0, 0.1, 170.0, 100, None, words_per_s, words_per_cpu_s)


def test_ratios_are_against_senna_on_the_same_task():
    timings = [
        _timing("SENNA", "pos", 50_000, 40_000),
        _timing("ours", "pos", 75_000, 100_000),
        _timing("ours", "chk", 30_000, 30_000),
        _timing("SENNA", "ner", None, 10_000),
        _timing("ours", "ner", 10_000, 5_000),
    ]
    with_ratios(timings)
    assert [t.ratio for t in timings] == [1.0, 1.5, None, None, None]
    assert [t.cpu_ratio for t in timings] == [1.0, 2.5, None, 1.0, 0.5]


def test_corpus_files_are_tagged_one_sentence_a_line(tmp_path):
    corpus = tmp_path / "dev.tsv"
    corpus.write_text("The\tDT\ncat\tNN\n\nIt\tPRP\n", encoding="utf8")
    assert text_lines(corpus, "wsj") == ["The cat", "It"]
    plain = tmp_path / "plain.txt"
    plain.write_text("a b\n\n c \n", encoding="utf8")
    assert text_lines(plain, "text") == ["a b", " c "]


def test_cli_errors_are_one_line(tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("The cat .\n", encoding="utf8")
    for args, message in [
        ([str(tmp_path), str(text)], "no SENNA binary"),
        ([str(tmp_path / "missing"), str(text)], "no SENNA folder"),
        ([str(tmp_path), str(text), "--tasks", "pos,dep"], "unknown task dep"),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "spacy_senna", "bench-senna", *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 1, done.stderr
        assert message in done.stderr and "Traceback" not in done.stderr


def test_peak_rss_is_the_programs_own(fake_senna, tmp_path):
    """Linux carries a process's peak RSS across exec: a program started straight from this
    (large) process would report at least this process's peak, not its own."""
    ballast = bytearray(400 * 2**20)
    ballast[::4096] = b"x" * len(ballast[::4096])  # resident
    text = tmp_path / "text.txt"
    text.write_text("The cat sat .\n", encoding="utf8")
    run = run_once(Program("fake", [str(fake_senna)], dict(os.environ)), ["-pos"], text, tmp_path / "out.txt", cpu=None)
    assert 0 < run.maxrss_mb < 100 and len(ballast)
