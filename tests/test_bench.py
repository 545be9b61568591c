"""Tests for `bench`: input reading, the timing report, and the single-threaded CLI."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.language import Language
from spacy.training import Example
from typer.testing import CliRunner

from spacy_senna.cli import app
from spacy_senna.cli.bench import THREAD_ENV, detect_format, read_bench_input, run_bench, task_pipes
from spacy_senna.readers import read_docs

from .test_senna_cli import default_sigint

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = {
    "wsj": FIXTURES / "sample_wsj.tsv",
    "conll2000": FIXTURES / "sample_conll2000.txt",
    "conll2003": FIXTURES / "sample_conll2003.txt",
}
SRL_SAMPLE = FIXTURES / "sample_conll2005.txt"
TEXTS = [
    "Maria Berg flew to Oslo on Monday.",
    "Tom Hale won the race in Sweden.",
    "Shares of Nordic Ski Club rose 5 percent.",
    "The Danish team met in Norway.",
]
SMALL_MODEL = {
    "@architectures": "spacy_senna.WindowTagger.v1",
    "window_size": 3,
    "hidden_width": 16,
    "sentence_level": True,
    "tok2vec": {
        "@architectures": "spacy_senna.SennaEmbed.v1",
        "word_width": 8,
        "caps_width": 2,
        "suffix_width": 2,
    },
}

SMALL_SRL_MODEL = {
    "@architectures": "spacy_senna.SentenceTagger.v1",
    "conv_width": 16,
    "hidden_width": 16,
    "distance_width": 2,
    "max_distance": 5,
    "tok2vec": SMALL_MODEL["tok2vec"],
    "predicate_detector": {**SMALL_MODEL, "sentence_level": False},
}

runner = CliRunner()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A tiny tagger + NER pipeline, trained for a few steps on the CoNLL-2003 fixture."""
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_tagger", config={"model": SMALL_MODEL})
    nlp.add_pipe("senna_ner", config={"model": SMALL_MODEL})
    examples = [
        Example(nlp.make_doc(doc.text), doc) for doc in read_docs(SAMPLES["conll2003"], "conll2003", nlp.vocab)
    ]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(5):
        nlp.update(examples, sgd=optimizer)
    path = tmp_path_factory.mktemp("bench") / "pipeline"
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="module")
def nlp(model_dir) -> Language:
    return spacy.load(model_dir)


@pytest.fixture
def text_file(tmp_path) -> Path:
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(TEXTS * 5) + "\n\n", encoding="utf8")
    return path


def test_detect_format(text_file, tmp_path):
    for fmt, path in SAMPLES.items():
        assert detect_format(path) == fmt
    assert detect_format(text_file) == "text"
    three_words = tmp_path / "three.txt"
    three_words.write_text("He saw it\nShe left early\n")
    assert detect_format(three_words) == "text"


def test_read_text_and_corpus_input(text_file):
    text = read_bench_input(text_file)
    assert text.fmt == "text" and text.words is None and len(text) == 20
    corpus = read_bench_input(SAMPLES["wsj"])
    gold = list(read_docs(SAMPLES["wsj"], "wsj"))
    assert corpus.fmt == "wsj" and corpus.words == [[t.text for t in doc] for doc in gold]
    assert corpus.texts[0] == " ".join(corpus.words[0])


def test_run_bench_on_text(nlp, text_file):
    data = read_bench_input(text_file)
    result = run_bench(nlp, data, batch_size=4, warmup=4, repeat=2)
    assert set(result["words_per_second"]) == {"tokenizer", "senna_tagger", "senna_ner", "pipeline"}
    assert all(rate > 0 for rate in result["words_per_second"].values())
    assert set(result["words_per_cpu_second"]) == {"senna_tagger", "senna_ner"}  # the components
    assert all(rate > 0 for rate in result["words_per_cpu_second"].values())
    expected_words = sum(len(nlp.make_doc(text)) for text in data.texts[4:])
    assert result["n_texts"] == 16 and result["warmup_texts"] == 4 and result["repeat"] == 2
    assert result["n_words"] == result["n_words_tokenized"] == expected_words
    assert result["pretokenized"] is False and result["peak_rss_mb"] > 10


def test_run_bench_on_corpus_uses_gold_words(nlp):
    data = read_bench_input(SAMPLES["conll2003"])
    result = run_bench(nlp, data, warmup=1, repeat=1)
    gold_words = sum(len(words) for words in data.words[1:])
    assert result["pretokenized"] is True and result["input_format"] == "conll2003"
    assert result["n_words"] == gold_words


def test_run_bench_needs_texts_after_warmup(nlp, text_file):
    with pytest.raises(ValueError, match="need more than --warmup 20"):
        run_bench(nlp, read_bench_input(text_file), warmup=20)


def test_bench_cli_runs_single_threaded(model_dir, text_file, tmp_path):
    output = tmp_path / "out" / "bench.json"
    args = ["bench", str(model_dir), str(text_file), "--warmup", "2", "--repeat", "1", "-b", "8", "-o", str(output)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == json.loads(output.read_text())
    assert printed["threads"] == THREAD_ENV  # measured in a child started with one thread
    assert printed["model"] == str(model_dir) and printed["batch_size"] == 8
    assert printed["words_per_second"]["pipeline"] > 0
    # streamed before the input is held in memory: at most the process's overall peak
    assert 0 < printed["streaming_peak_rss_mb"] <= printed["peak_rss_mb"]


def test_bench_cli_corpus_format_option(model_dir):
    args = ["bench", str(model_dir), str(SAMPLES["wsj"]), "--warmup", "0", "--repeat", "1", "--format", "text"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["input_format"] == "text"


def test_bench_cli_errors(model_dir, tmp_path):
    missing = runner.invoke(app, ["bench", str(model_dir), str(tmp_path / "nope.txt")])
    assert missing.exit_code == 1 and "file not found" in missing.output
    short = tmp_path / "short.txt"
    short.write_text("One text.\n")
    too_short = runner.invoke(app, ["bench", str(model_dir), str(short)])
    assert too_short.exit_code == 1 and "need more than --warmup 100" in too_short.output


def test_read_conll2005_input_keeps_sentences():
    data = read_bench_input(SRL_SAMPLE, "conll2005")
    assert data.given_predicates is True and len(data.sentences) == len(data) == 3
    assert data.words[0][:2] == ["The", "committee"]
    assert read_bench_input(SAMPLES["wsj"]).given_predicates is False


@pytest.fixture(scope="module")
def srl_nlp() -> Language:
    """A tiny SRL pipeline (predicates = "model"), trained for a few steps on the CoNLL-2005 fixture."""
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_srl", config={"model": SMALL_SRL_MODEL})
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in read_docs(SRL_SAMPLE, "conll2005", nlp.vocab)]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(3):
        nlp.update(examples, sgd=optimizer)
    return nlp


def test_run_bench_conll2005_gives_gold_predicates(srl_nlp, monkeypatch):
    srl = srl_nlp.get_pipe("senna_srl")
    modes, given = [], []
    find_predicates = srl.find_predicates

    def recording(docs):
        modes.append(srl.predicates)
        found = find_predicates(docs)
        if srl.predicates == "given":
            given.extend(p.tolist() for p in found)
        return found

    monkeypatch.setattr(srl, "find_predicates", recording)
    data = read_bench_input(SRL_SAMPLE, "conll2005")
    result = run_bench(srl_nlp, data, batch_size=2, warmup=1, repeat=1)
    assert result["given_predicates"] is True and result["input_format"] == "conll2005"
    assert result["words_per_second"]["senna_srl"] > 0 and result["task_words_per_second"]["senna_srl"] > 0
    assert srl.predicates == "auto"  # the default, restored after the bench
    # the component pass (warm-up + timed) takes the gold predicates; the raw-text passes the
    # detector's (auto: no given predicates in raw text)
    assert "given" in modes and "auto" in modes
    gold = [[i for i, _ in sentence.predicates] for sentence in data.sentences]
    assert given == gold  # warm-up sentence, then the timed ones


def test_given_predicates_restored_on_error(srl_nlp, monkeypatch):
    srl = srl_nlp.get_pipe("senna_srl")

    def broken(docs, batch_size=128):
        raise RuntimeError("broken")

    monkeypatch.setattr(srl, "pipe", broken)
    with pytest.raises(RuntimeError, match="broken"):
        run_bench(srl_nlp, read_bench_input(SRL_SAMPLE, "conll2005"), warmup=1, repeat=1)
    assert srl.predicates == "auto"


def test_task_pipes_follow_token_features():
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_tagger", name="pos_a")
    nlp.add_pipe("senna_tagger", name="pos_b")
    nlp.add_pipe("senna_chunker", config={"model": {"tok2vec": {"token_features": ["tag"]}}})
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("senna_ner")
    nlp.add_pipe("senna_srl", config={"model": {"tok2vec": {"token_features": ["chunk"]}}})
    nlp.add_pipe("senna_srl", name="srl_pos", config={"predicates": "pos"})
    assert task_pipes(nlp) == {
        "pos_a": ["pos_a"],
        "pos_b": ["pos_b"],
        "senna_chunker": ["pos_b", "senna_chunker"],  # the last tagger before it
        "sentencizer": ["pos_a", "pos_b", "senna_chunker", "sentencizer"],  # not senna: all before it
        "senna_ner": ["senna_ner"],
        "senna_srl": ["pos_b", "senna_chunker", "senna_srl"],  # chunk tags, and the chunker's POS tags
        "srl_pos": ["pos_b", "srl_pos"],  # predicates from POS tags
    }


def test_run_bench_task_figures(nlp, text_file):
    result = run_bench(nlp, read_bench_input(text_file), batch_size=4, warmup=4, repeat=1)
    assert result["task_pipes"] == {"senna_tagger": ["senna_tagger"], "senna_ner": ["senna_ner"]}
    assert set(result["task_words_per_second"]) == {"senna_tagger", "senna_ner"}
    assert all(rate > 0 for rate in result["task_words_per_second"].values())
    assert result["given_predicates"] is False and "scaling" not in result
    assert nlp.pipe_names == ["senna_tagger", "senna_ner"] and not nlp.disabled


def test_run_bench_scaling(nlp, tmp_path):
    texts = ["Oslo .", " ".join(["Maria flew to Oslo ."] * 3), " ".join(["Tom won ."] * 10), *TEXTS]
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(texts) + "\n", encoding="utf8")
    result = run_bench(nlp, read_bench_input(path), batch_size=4, warmup=0, repeat=1, scaling=True)
    scaling = result["scaling"]
    assert set(scaling) == {"batch_size", "sentence_length", "n_process"}
    assert set(scaling["batch_size"]) == {"1", "8", "32", "128", "512"}
    assert set(scaling["n_process"]) == {"1", "2"}
    assert all(rate > 0 for rate in [*scaling["batch_size"].values(), *scaling["n_process"].values()])
    buckets = scaling["sentence_length"]
    assert list(buckets) == ["1-10", "11-20", "21-40", "41+"]
    assert [bucket["n_texts"] for bucket in buckets.values()] == [5, 1, 1, 0]
    assert sum(bucket["n_words_tokenized"] for bucket in buckets.values()) == result["n_words_tokenized"]
    assert sum(bucket["n_words"] for bucket in buckets.values()) == result["n_words"]
    assert set(buckets["11-20"]["words_per_second"]) == {"senna_tagger", "senna_ner", "pipeline"}
    assert buckets["41+"]["words_per_second"] == {}


def test_bench_cli_compare(model_dir, text_file, tmp_path):
    output = tmp_path / "compare.json"
    args = ["bench", str(model_dir), str(text_file), "-w", "2", "-r", "1", "-b", "8", "-o", str(output)]
    result = runner.invoke(app, [*args, "--compare", str(model_dir), "--scaling"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == json.loads(output.read_text())
    assert list(printed) == ["runs"] and len(printed["runs"]) == 2
    for run in printed["runs"]:
        assert run["model"] == str(model_dir) and run["batch_size"] == 8 and run["threads"] == THREAD_ENV
        assert "scaling" in run and run["task_words_per_second"]["senna_ner"] > 0
    table = result.stderr
    assert "senna_tagger" in table and "pipeline" in table and "peak RSS" in table


def test_bench_cli_compare_error(model_dir, text_file, tmp_path):
    args = ["bench", str(model_dir), str(text_file), "-w", "2", "-r", "1", "--compare", str(tmp_path / "none")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "cannot load model" in result.stderr
    assert result.stdout == ""


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_scaling_with_worker_processes_stops_on_sigint():
    """A Ctrl-C while `bench --scaling` times n_process=2 ends the run instead of hanging
    spaCy's worker pool (the feed raised KeyboardInterrupt into it before)."""
    script = (
        "import os, signal, spacy\n"
        "from spacy_senna.cli.bench import _time_pipe\n"
        "nlp = spacy.blank('en'); nlp.add_pipe('sentencizer')\n"
        "def texts():\n"
        "    for i in range(20000):\n"
        "        if i == 3000: os.kill(os.getpid(), signal.SIGINT)\n"
        "        yield 'A short sentence to tag . And another one .'\n"
        "_time_pipe(nlp, texts(), batch_size=64, n_process=2)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=default_sigint,
    )
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the parent and its hung workers
        process.communicate()
        pytest.fail("bench's n_process run hung after SIGINT")
    assert process.returncode != 0 and "KeyboardInterrupt" in stderr.decode()
