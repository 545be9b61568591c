"""Tests for `bench`: input reading, the timing report, and the single-threaded CLI."""
import json
from pathlib import Path

import pytest
import spacy
from spacy.language import Language
from spacy.training import Example
from typer.testing import CliRunner

from spacy_senna.cli import app
from spacy_senna.cli.bench import THREAD_ENV, detect_format, read_bench_input, run_bench
from spacy_senna.readers import read_docs

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = {
    "wsj": FIXTURES / "sample_wsj.tsv",
    "conll2000": FIXTURES / "sample_conll2000.txt",
    "conll2003": FIXTURES / "sample_conll2003.txt",
}
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
