"""The SENNA drop-in: `tag` (and the `senna` script), `make-senna-dir` with NLTK, `annotate`.

The pipelines are tiny and trained here for a few updates; run this file under
`flock /tmp/train.lock` like the other tests that train.
"""
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span, SpanGroup
from spacy.training import Example
from thinc.api import fix_random_seed

from spacy_senna.cli.annotate import annotate, read_shards
from spacy_senna.cli.make_senna_dir import EXECUTABLES, make_senna_dir, resolve_model
from spacy_senna.dropin.args import TagUsageError, parse_args
from spacy_senna.dropin.io import phrase_tags, with_verb
from spacy_senna.cli.tag import main
from spacy_senna.tags import spans_to_tags

from .test_components import make_examples

PYTHON = sys.executable
SENNA_SCRIPT = Path(sys.executable).parent / "senna"
SMALL = {"model": {"hidden_width": 40}}

SRL_DATA = [
    (
        ["The", "cat", "chased", "the", "dog", "."],
        ["DT", "NN", "VBD", "DT", "NN", "."],
        {2: [(0, 2, "A0"), (2, 3, "V"), (3, 5, "A1")]},
    ),
    (
        ["John", "ate", "an", "apple", "yesterday", "."],
        ["NNP", "VBD", "DT", "NN", "NN", "."],
        {1: [(0, 1, "A0"), (1, 2, "V"), (2, 4, "A1"), (4, 5, "AM-TMP")]},
    ),
    (
        ["Mary", "said", "John", "left", "."],
        ["NNP", "VBD", "NNP", "VBD", "."],
        {1: [(0, 1, "A0"), (1, 2, "V"), (2, 4, "A1")], 3: [(2, 3, "A0"), (3, 4, "V")]},
    ),
]


def train(nlp, examples, n_iter):
    fix_random_seed(0)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(n_iter):
        nlp.update(examples, sgd=optimizer, losses={})
    return nlp


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A saved tagger + chunker + NER pipeline."""
    nlp = spacy.blank("en")
    for name in ("senna_tagger", "senna_chunker", "senna_ner"):
        nlp.add_pipe(name, config=SMALL)
    train(nlp, make_examples(nlp), n_iter=80)
    path = tmp_path_factory.mktemp("senna_model")
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="module")
def nlp3(model_dir):
    return spacy.load(model_dir)


def srl_examples(nlp):
    examples = []
    for words, tags, frames in SRL_DATA:
        reference = Doc(nlp.vocab, words=words, tags=tags)
        for index, arguments in frames.items():
            key = f"srl:{index}"
            spans = [Span(reference, s, e, label) for s, e, label in arguments]
            attrs = {"predicate": index, "lemma": words[index].lower()}
            reference.spans[key] = SpanGroup(reference, name=key, attrs=attrs, spans=spans)
        examples.append(Example(Doc(nlp.vocab, words=words), reference))
    return examples


@pytest.fixture(scope="module")
def srl_model_dir(tmp_path_factory):
    """A saved tagger + SRL pipeline (predicates found by the SRL component's own detector)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_tagger", config=SMALL)
    nlp.add_pipe(
        "senna_srl",
        config={"predicates": "model", "model": {"conv_width": 40, "hidden_width": 40}},
    )
    train(nlp, srl_examples(nlp), n_iter=60)
    path = tmp_path_factory.mktemp("senna_srl_model")
    nlp.to_disk(path)
    return path


def tag(args, text, expect_code=0):
    """Run the tag command in-process; (stdout text, stderr text)."""
    stdout, stderr = io.BytesIO(), io.StringIO()
    code = main(list(args), io.BytesIO(text.encode("utf8")), stdout, stderr)
    assert code == expect_code, stderr.getvalue()
    return stdout.getvalue().decode("utf8"), stderr.getvalue()


def run_cli(args, text="", **kwargs):
    return subprocess.run(
        [PYTHON, "-m", "spacy_senna", *args],
        input=text.encode("utf8"),
        capture_output=True,
        timeout=120,
        **kwargs,
    )


def sentences_of(output):
    """SENNA output as sentences of rows of tab-separated cells."""
    assert output == "" or output.endswith("\n\n")
    blocks = output[:-2].split("\n\n") if output else []
    return [[line.split("\t") for line in block.split("\n")] for block in blocks]


# -- option parsing ------------------------------------------------------------------------
def test_parse_args():
    opts = parse_args(["-ner", "-pos", "-iobtags", "-usrtokens", "-path", "/x/", "--model", "m"])
    assert opts.tasks == ["ner", "pos"] and opts.scheme == "iob2" and opts.usrtokens
    assert opts.path == "/x/" and opts.model == "m"
    assert parse_args(["-brackettags", "--model=m2"]).scheme == "brackets"
    assert parse_args([]).tasks == [] and parse_args([]).scheme == "iobes"
    assert parse_args(["-usrvbs", "f", "-posvbs", "-offsettags", "-notokentags"]).usrvbs == "f"
    for bad in (["-foo"], ["--pos"], ["-usrvbs"], ["extra"], ["--batch-size", "0"]):
        with pytest.raises(TagUsageError):
            parse_args(bad)


def test_phrase_tags_schemes():
    spans = [(0, 2, "NP"), (2, 3, "VP"), (4, 7, "NP")]
    assert phrase_tags(spans, 7, "iobes") == ["B-NP", "E-NP", "S-VP", "O", "B-NP", "I-NP", "E-NP"]
    assert phrase_tags(spans, 7, "iob2") == ["B-NP", "I-NP", "B-VP", "O", "B-NP", "I-NP", "I-NP"]
    assert phrase_tags(spans, 7, "brackets") == ["(NP*", "*)", "(VP*)", "*", "(NP*", "*", "*)"]
    # overlapping spans: the later one is dropped rather than failing
    assert phrase_tags([(0, 2, "A0"), (1, 3, "A1")], 3, "iobes") == ["B-A0", "E-A0", "O"]


def test_predicate_is_labelled_v():
    assert with_verb([], 0) == [(0, 1, "V")]
    assert with_verb([(0, 1, "A0"), (1, 2, "V")], 1) == [(0, 1, "A0"), (1, 2, "V")]
    # an argument the model put over the predicate is cut around it
    spans = [(0, 2, "A0"), (2, 5, "A1")]
    assert with_verb(spans, 3) == [(0, 2, "A0"), (2, 3, "A1"), (3, 4, "V"), (4, 5, "A1")]
    assert with_verb(spans, 2) == [(0, 2, "A0"), (2, 3, "V"), (3, 5, "A1")]


# -- output format -------------------------------------------------------------------------
SENTENCE = "Apple is buying a U.K. startup for $ 1 billion ."


def expected_lines(nlp, words, scheme="iobes"):
    doc = nlp(Doc(nlp.vocab, words=words))
    chunks = spans_to_tags([(s.start, s.end, s.label_) for s in doc.spans["chunks"]], len(doc), scheme)
    ents = spans_to_tags([(e.start, e.end, e.label_) for e in doc.ents], len(doc), scheme)
    return [
        "%15s\t%10s\t%10s\t%10s" % (t.text, t.tag_, chunk, ent)
        for t, chunk, ent in zip(doc, chunks, ents)
    ]


def test_default_output_has_all_tasks(model_dir, nlp3):
    out, _ = tag(["--model", str(model_dir)], SENTENCE + "\n")
    words = SENTENCE.split()
    assert out == "\n".join(expected_lines(nlp3, words)) + "\n\n"
    first = out.split("\n")[0]
    # the token in 15 characters, then each tag in 10, tab-separated (trained on this sentence)
    assert first == "          Apple\t       NNP\t      S-NP\t     S-ORG"


def test_task_order_and_iob(model_dir, nlp3):
    out, _ = tag(["--model", str(model_dir), "-ner", "-chk", "-iobtags"], SENTENCE)
    words = SENTENCE.split()
    expected = [line.split("\t") for line in expected_lines(nlp3, words, "iob2")]
    # columns in SENNA's order (POS, CHK, NER) whatever the order of the options
    assert sentences_of(out) == [[[row[0], row[2], row[3]] for row in expected]]
    assert sentences_of(out)[0][0] == ["          Apple", "      B-NP", "     B-ORG"]


def _loaded(args, model):
    """The components the drop-in's spaCy path loaded for these flags (its -verbose note); an
    empty cache folder keeps the lean path, which loads none, from running instead."""
    from unittest import mock

    from spacy_senna.dropin.lean import CACHE_ENV

    with tempfile.TemporaryDirectory() as cache, mock.patch.dict(os.environ, {CACHE_ENV: cache}):
        _, err = tag(["--model", str(model), "-usrtokens", "-verbose", *args], "Apple buys it .\n")
    line = next(line for line in err.splitlines() if line.startswith("[senna] loaded"))
    return line.split("(", 1)[1].split(")", 1)[0].split(", ")


def test_flags_load_only_what_they_need(tmp_path, nlp3):
    """-ner loads no tagger or chunker; a chunker that embeds POS tags brings the tagger."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("senna_tagger", config=SMALL)
    nlp.add_pipe("senna_chunker", config={"model": {"hidden_width": 40, "tok2vec": {"token_features": ["tag"]}}})
    nlp.add_pipe("senna_ner", config=SMALL)
    train(nlp, make_examples(nlp), n_iter=2)
    nlp.to_disk(tmp_path / "model")
    model = tmp_path / "model"
    assert _loaded(["-pos"], model) == ["sentencizer", "senna_tagger"]
    assert _loaded(["-chk"], model) == ["sentencizer", "senna_tagger", "senna_chunker"]
    assert _loaded(["-ner"], model) == ["sentencizer", "senna_ner"]
    assert _loaded([], model) == ["sentencizer", "senna_tagger", "senna_chunker", "senna_ner"]
    # the same columns as from the whole pipeline
    loaded = spacy.load(model)
    for flags in (["-chk"], ["-ner"], ["-pos", "-ner"]):
        out, _ = tag(["--model", str(model), "-usrtokens", *flags], SENTENCE + "\n")
        whole, _ = tag(["--model", str(model), "-usrtokens"], SENTENCE + "\n")
        columns = [1 + ["-pos", "-chk", "-ner"].index(flag) for flag in flags]
        expected = [[row[0]] + [row[c] for c in columns] for row in sentences_of(whole)[0]]
        assert sentences_of(out) == [expected]
    assert loaded.pipe_names[-1] == "senna_ner"


def test_srl_with_pos_verbs_loads_the_tagger(srl_model_dir):
    assert _loaded(["-srl"], srl_model_dir) == ["senna_srl"]
    assert _loaded(["-posvbs", "-srl"], srl_model_dir) == ["senna_tagger", "senna_srl"]


def test_needed_components_follow_listeners_and_keep_other_factories():
    from spacy_senna.cli.tag_load import needed_components

    config = {
        "nlp": {"pipeline": ["tok2vec", "senna_tagger", "senna_ner", "parser"]},
        "components": {
            "tok2vec": {"factory": "tok2vec", "model": {}},
            "senna_tagger": {"factory": "senna_tagger", "model": {}},
            "senna_ner": {"factory": "senna_ner", "model": {"tok2vec": {"upstream": "tok2vec"}}},
            "parser": {"factory": "parser", "model": {}},
        },
    }
    assert needed_components(config, ["ner"], posvbs=False) == ["tok2vec", "senna_ner"]
    assert needed_components(config, ["pos"], posvbs=False) == ["tok2vec", "senna_tagger"]
    assert needed_components(config, ["chk"], posvbs=False) is None  # no chunker: load everything


def test_bracket_tags(model_dir, nlp3):
    words = ["Angela", "Merkel", "visited", "New", "York", "City", "."]
    out, _ = tag(["--model", str(model_dir), "-chk", "-ner", "-brackettags"], " ".join(words))
    doc = nlp3(Doc(nlp3.vocab, words=words))
    chunks = phrase_tags([(s.start, s.end, s.label_) for s in doc.spans["chunks"]], 7, "brackets")
    rows = sentences_of(out)[0]
    assert [row[1].strip() for row in rows] == chunks
    assert [row[2] for row in rows] == ["%10s" % t for t in ["(PER*", "*)", "*", "(LOC*", "*", "*)", "*"]]


def test_empty_lines_give_nothing(model_dir):
    assert tag(["--model", str(model_dir)], "")[0] == ""
    assert tag(["--model", str(model_dir)], "\n \n\t\n\r\n")[0] == ""
    out, _ = tag(["--model", str(model_dir), "-pos"], "\nShe works .\n\n\nHello\n")
    assert [len(s) for s in sentences_of(out)] == [3, 1]
    assert out.count("\n\n") == 2 and not out.startswith("\n")


def test_user_tokens_and_spacy_tokenizer(model_dir):
    line = "Apple's  U.K.-startup,\tok"
    out, _ = tag(["--model", str(model_dir), "-pos", "-usrtokens"], line)
    assert [row[0].strip() for row in sentences_of(out)[0]] == ["Apple's", "U.K.-startup,", "ok"]
    out, _ = tag(["--model", str(model_dir), "-pos"], line)
    tokens = [row[0].strip() for row in sentences_of(out)[0]]
    assert tokens[:2] == ["Apple", "'s"] and "," in tokens and "" not in tokens
    # a no-break space is not a token separator for -usrtokens (SENNA splits on ASCII blanks)
    out, _ = tag(["--model", str(model_dir), "-pos", "-usrtokens"], "New\u00a0York is")
    assert [row[0].strip() for row in sentences_of(out)[0]] == ["New\u00a0York", "is"]
    long_token = "x" * 40
    out, _ = tag(["--model", str(model_dir), "-pos", "-usrtokens"], long_token)
    assert out.startswith(long_token + "\t")  # no truncation past 15 characters


def test_offset_tags(model_dir):
    line = "  Angela  Merkel visited Zurich."
    out, _ = tag(["--model", str(model_dir), "-pos", "-offsettags", "-usrtokens"], line)
    rows = sentences_of(out)[0]
    assert [row[1] for row in rows] == ["2 8", "10 16", "17 24", "25 32"]
    assert rows[0][0] == "         Angela" and len(rows[0]) == 3
    out, _ = tag(["--model", str(model_dir), "-pos", "-offsettags"], line)
    rows = sentences_of(out)[0]
    assert [(row[0].strip(), row[1]) for row in rows] == [
        ("Angela", "2 8"), ("Merkel", "10 16"), ("visited", "17 24"), ("Zurich", "25 31"), (".", "31 32"),
    ]
    for row in rows:
        start, end = map(int, row[1].split())
        assert line[start:end] == row[0].strip()


def test_no_token_tags(model_dir, nlp3):
    out, _ = tag(["--model", str(model_dir), "-pos", "-notokentags"], "She works for Google .")
    doc = nlp3(Doc(nlp3.vocab, words="She works for Google .".split()))
    assert out == "".join("%10s\n" % t.tag_ for t in doc) + "\n"
    out, _ = tag(["--model", str(model_dir), "-pos", "-notokentags", "-offsettags"], "She works")
    assert out.split("\n")[0].startswith("0 3\t")


def test_batches_match_single_lines(model_dir):
    text = "\n".join([SENTENCE, "", "Angela Merkel visited New York City .", "She works", "x"] * 3)
    out_one, _ = tag(["--model", str(model_dir), "--batch-size", "1"], text)
    out_big, _ = tag(["--model", str(model_dir)], text)
    assert out_one == out_big and len(sentences_of(out_big)) == 12


def test_path_is_ignored_with_a_note(model_dir):
    out, err = tag(["--model", str(model_dir), "-pos", "-path", "/no/such/senna/", "-verbose"], "She works")
    assert len(sentences_of(out)[0]) == 2
    assert "-path /no/such/senna/ ignored" in err
    assert tag(["--model", str(model_dir), "-pos", "-path", "/x/"], "She works")[1] == ""


def test_help():
    out, _ = tag(["-h"], "")
    assert "-usrtokens" in out and "--model" in out


# -- SRL -----------------------------------------------------------------------------------
def test_srl_pos_verbs(srl_model_dir):
    out, _ = tag(["--model", str(srl_model_dir), "-pos", "-srl", "-posvbs", "-usrtokens"], "Mary said John left .")
    rows = sentences_of(out)[0]
    verbs = [i for i, row in enumerate(rows) if row[1].strip().startswith("V")]
    assert verbs == [1, 3]  # the tagger learned VBD for both
    assert [row[2] for row in rows] == ["%15s" % w for w in ["-", "said", "-", "left", "-"]]
    assert all(len(row) == 3 + len(verbs) for row in rows)
    for column, verb in enumerate(verbs, start=3):
        assert rows[verb][column] == "%10s" % "S-V"
    assert rows[0][3] == "%10s" % "S-A0"


def test_srl_default_predicates_from_model(srl_model_dir):
    out, _ = tag(["--model", str(srl_model_dir), "-srl", "-usrtokens"], "The cat chased the dog .")
    rows = sentences_of(out)[0]
    predicates = [i for i, row in enumerate(rows) if row[1].strip() != "-"]
    assert all(len(row) == 2 + len(predicates) for row in rows)
    if predicates == [2]:
        assert [row[2].strip() for row in rows] == ["B-A0", "E-A0", "S-V", "B-A1", "E-A1", "O"]


def test_srl_user_verbs(srl_model_dir, tmp_path):
    marks = tmp_path / "verbs.txt"
    marks.write_text("-\n-\nchase\n-\n-\n-\n\n\n-\nate\n-\n-\n-\n-\n", encoding="utf8")
    args = ["--model", str(srl_model_dir), "-srl", "-usrtokens", "-usrvbs", str(marks)]
    out, _ = tag(args, "The cat chased the dog .\n\nJohn ate an apple yesterday .\n")
    first, second = sentences_of(out)
    assert [row[1].strip() for row in first] == ["-", "-", "chased", "-", "-", "-"]
    assert [row[2].strip() for row in first] == ["B-A0", "E-A0", "S-V", "B-A1", "E-A1", "O"]
    assert [row[1].strip() for row in second] == ["-", "ate", "-", "-", "-", "-"]
    assert second[1][2].strip() == "S-V" and all(len(row) == 3 for row in second)
    out, _ = tag([*args, "-brackettags"], "The cat chased the dog .")
    assert [row[2].strip() for row in sentences_of(out)[0]] == ["(A0*", "*)", "(V*)", "(A1*", "*)", "*"]
    # a block whose length is not the sentence's: one clear error
    out, err = tag(args, "The cat chased .\n", expect_code=1)
    assert "-usrvbs" in err and "line 1" in err and "\n" == err[-1] and err.count("\n") == 1
    out, err = tag([*args[:-1], str(tmp_path / "missing.txt")], "a\n", expect_code=1)
    assert "cannot read -usrvbs file" in err


def test_missing_task_is_an_error(model_dir, srl_model_dir):
    _, err = tag(["--model", str(model_dir), "-srl"], "a", expect_code=1)
    assert "-srl" in err and "-pos -chk -ner" in err
    out, _ = tag(["--model", str(srl_model_dir)], "The cat chased the dog .")
    assert len(sentences_of(out)[0][0]) >= 3  # token, POS, predicate column


# -- the command line, as other programs run it --------------------------------------------
def test_cli_errors_are_one_line(model_dir, tmp_path):
    for args in (
        ["tag", "--model", str(tmp_path / "no-such-model")],
        ["tag", "--model", str(model_dir), "-bogus"],
        ["tag", "--model", str(model_dir), "-srl"],
    ):
        result = run_cli(args, "a b c\n")
        err = result.stderr.decode("utf8")
        assert result.returncode == 1, err
        assert result.stdout == b"" and err.count("\n") == 1 and "Traceback" not in err
    assert "no-such-model" in run_cli(["tag", "--model", str(tmp_path / "no-such-model")]).stderr.decode()


def test_no_default_model():
    try:
        import en_senna  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("en_senna is installed")
    _, err = tag([], "a", expect_code=1)
    assert "--model" in err and "en_senna" in err


def test_senna_console_script(model_dir, nlp3):
    if not SENNA_SCRIPT.exists():
        pytest.skip("the senna console script is not installed (pip install -e .)")
    result = subprocess.run(
        [str(SENNA_SCRIPT), "--model", str(model_dir), "-usrtokens", "-iobtags"],
        input=(SENTENCE + "\n\n" + "She works\n").encode(),
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    expected = tag(["--model", str(model_dir), "-usrtokens", "-iobtags"], SENTENCE + "\nShe works\n")[0]
    assert result.stdout.decode() == expected
    # python -m spacy_senna tag is the same command
    result = run_cli(["tag", "--model", str(model_dir), "-usrtokens", "-iobtags"], SENTENCE + "\nShe works")
    assert result.returncode == 0 and result.stdout.decode() == expected


def test_streams_line_by_line(model_dir):
    """A caller that writes one line and waits for its answer is not kept waiting for a batch."""
    process = subprocess.Popen(
        [PYTHON, "-m", "spacy_senna", "tag", "--model", str(model_dir), "-pos", "-usrtokens"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for line, n_tokens in (("She works for Google .", 5), ("Hello", 1)):
            process.stdin.write((line + "\n").encode())
            process.stdin.flush()
            rows = []
            while True:
                row = process.stdout.readline()  # blocks (until the timeout below) if not streamed
                assert row, process.stderr.read().decode()
                if row == b"\n":
                    break
                rows.append(row)
            assert len(rows) == n_tokens
        process.stdin.close()
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()


# -- make-senna-dir and NLTK -----------------------------------------------------------------
def _nltk_refusal(executable):
    """Why NLTK would not run `executable` (it runs only files on a private path), or None."""
    try:
        from nltk.pathsec import untrusted_executable_reason
    except ImportError:  # older NLTK: no such check
        return None
    return untrusted_executable_reason(str(executable))


@pytest.fixture(scope="module")
def senna_dir(model_dir, tmp_path_factory):
    """A SENNA directory NLTK accepts: under pytest's tmp dir, or (when that is under a
    group/world-writable /tmp, which NLTK refuses) a private temp dir in the home directory."""
    pytest.importorskip("nltk")
    candidates = [tmp_path_factory.mktemp("senna_dir")]
    cleanup = []
    home_cache = Path.home() / ".cache"
    if Path.home().is_dir():
        home_cache.mkdir(exist_ok=True)
        private = Path(tempfile.mkdtemp(prefix="spacy-senna-test-", dir=home_cache))
        candidates.append(private)
        cleanup.append(private)
    found = None
    reasons = []
    for base in candidates:
        directory = base / "senna"
        make_senna_dir(directory, resolve_model(str(model_dir)))
        reason = _nltk_refusal(directory / "senna-linux64")
        if reason is None:
            found = directory
            break
        reasons.append(reason)
    if found is None:
        for path in cleanup:
            shutil.rmtree(path, ignore_errors=True)
        pytest.skip(f"no private directory NLTK accepts: {reasons}")
    yield found
    for path in cleanup:
        shutil.rmtree(path, ignore_errors=True)


def test_make_senna_dir_files(model_dir, tmp_path):
    result = run_cli(["make-senna-dir", str(tmp_path / "s"), "--model", str(model_dir)])
    assert result.returncode == 0, result.stderr.decode()
    for name in EXECUTABLES:
        path = tmp_path / "s" / name
        assert path.is_file() and not path.is_symlink() and os.stat(path).st_nlink == 1
        assert os.stat(path).st_mode & 0o777 == 0o755
        text = path.read_text()
        assert text.startswith("#!/bin/sh\n") and f"--model {model_dir}" in text
        assert f"exec {sys.executable}" in text and '"$@"' in text
    # the script is SENNA: same options, same output
    result = subprocess.run(
        [str(tmp_path / "s" / "senna"), "-path", str(tmp_path / "s") + "/", "-usrtokens", "-pos"],
        input=b"She works\n",
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode() == tag(["--model", str(model_dir), "-pos"], "She works")[0]
    bad = run_cli(["make-senna-dir", str(tmp_path / "t"), "--model", str(tmp_path / "nothing")])
    assert bad.returncode == 1 and "cannot find model" in bad.stderr.decode()


def test_nltk_senna_classes(senna_dir, nlp3):
    from nltk.classify.senna import Senna
    from nltk.tag import SennaChunkTagger, SennaNERTagger, SennaTagger

    words = ["Angela", "Merkel", "visited", "New", "York", "City", "."]
    pos_labels = set(nlp3.get_pipe("senna_tagger").labels)
    chunk_labels = {"O"} | {f"{p}-{l}" for p in "BI" for l in nlp3.get_pipe("senna_chunker").labels}
    ner_labels = {"O"} | {f"{p}-{l}" for p in "BI" for l in nlp3.get_pipe("senna_ner").labels}

    tagged = SennaTagger(str(senna_dir)).tag(words)
    assert [w for w, _ in tagged] == words and {t for _, t in tagged} <= pos_labels
    assert tagged == [(w, t.tag_) for w, t in zip(words, nlp3(Doc(nlp3.vocab, words=words)))]
    chunked = SennaChunkTagger(str(senna_dir)).tag(words)
    assert [w for w, _ in chunked] == words and {t for _, t in chunked} <= chunk_labels
    ents = SennaNERTagger(str(senna_dir)).tag(words)
    assert [w for w, _ in ents] == words and {t for _, t in ents} <= ner_labels
    assert [t for _, t in ents] == ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "I-LOC", "O"]

    sentences = [words, ["She", "works", "for", "Google", "."], ["Zurich"]]
    result = Senna(str(senna_dir), ["pos", "chk", "ner"]).tag_sents(sentences)
    assert [[token["word"] for token in sentence] for sentence in result] == sentences
    for sentence in result:
        for token in sentence:
            assert token["pos"] in pos_labels
            assert token["chk"] in chunk_labels and token["ner"] in ner_labels
    assert [(t["pos"], t["chk"], t["ner"]) for t in result[0]] == [
        (p, c, n) for (_, p), (_, c), (_, n) in zip(tagged, chunked, ents)
    ]


# -- annotate ------------------------------------------------------------------------------
LINES = [
    "Apple is buying a U.K. startup for $ 1 billion .",
    "Angela Merkel visited New York City .",
    "",
    "She works for Google in Zurich .",
    "Hello",
    "Angela Merkel works for Apple .",
    "New York",
]


def _docs(output):
    return [
        ([t.text for t in doc], [t.tag_ for t in doc], [(e.start, e.end, e.label_) for e in doc.ents],
         [(s.start, s.end, s.label_) for s in doc.spans.get("chunks", [])])
        for doc in read_shards(output)
    ]


def test_annotate_resume_spacy(nlp3, tmp_path):
    source = tmp_path / "input.txt"
    source.write_text("\n".join(LINES) + "\n", encoding="utf8")
    full = tmp_path / "full"
    stats = annotate(nlp3, source, full, shard_size=3, batch_size=2, progress=False)
    assert stats == {"shards_written": 3, "shards_skipped": 0, "docs": 7, "words": stats["words"]}
    assert sorted(p.name for p in full.glob("shard-*")) == [f"shard-0000{i}.spacy" for i in range(3)]
    expected = _docs(full)
    # one doc per input line, the empty line included
    assert [words for words, *_ in expected] == [[t.text for t in nlp3.make_doc(line)] for line in LINES]

    # interrupted after one shard, then resumed
    part = tmp_path / "part"
    assert annotate(nlp3, source, part, shard_size=3, max_shards=1, progress=False)["shards_written"] == 1
    assert [p.name for p in part.glob("shard-*")] == ["shard-00000.spacy"]
    stats = annotate(nlp3, source, part, shard_size=3, progress=False)
    assert stats["shards_skipped"] == 1 and stats["shards_written"] == 2 and stats["docs"] == 4
    assert _docs(part) == expected

    # the last shard lost (and a partial file annotate did not record left behind): only the
    # shard is redone, the stranger's file is left alone
    (part / "shard-00002.spacy").unlink()
    (part / ".shard-00002.spacy.partial123").write_bytes(b"junk")
    stats = annotate(nlp3, source, part, shard_size=3, progress=False)
    assert (stats["shards_skipped"], stats["shards_written"], stats["docs"]) == (2, 1, 1)
    assert _docs(part) == expected and (part / ".shard-00002.spacy.partial123").read_bytes() == b"junk"
    # resuming with another shard size would misalign the shards
    with pytest.raises(ValueError, match="shard_size"):
        annotate(nlp3, source, part, shard_size=2, progress=False)


def test_annotate_resume_checks_it_is_the_same_job(nlp3, model_dir, tmp_path):
    source = tmp_path / "input.txt"
    source.write_text("\n".join(LINES) + "\n", encoding="utf8")
    expected = tmp_path / "expected"
    annotate(nlp3, source, expected, shard_size=3, progress=False)
    part = tmp_path / "part"
    annotate(nlp3, source, part, shard_size=3, max_shards=1, progress=False)
    # another input, another model: refused, nothing written
    other = tmp_path / "other.txt"
    other.write_text("\n".join(reversed(LINES)) + "\n", encoding="utf8")
    with pytest.raises(ValueError, match="another job \\(input content"):
        annotate(nlp3, other, part, shard_size=3, progress=False)
    with pytest.raises(ValueError, match="another job \\(model"):
        annotate(spacy.blank("en"), source, part, shard_size=3, progress=False)
    result = run_cli(["annotate", str(model_dir), str(other), str(part), "--shard-size", "3"])
    assert result.returncode == 1 and "another job (input content" in result.stderr.decode().splitlines()[-1]
    assert sorted(p.name for p in part.glob("shard-*")) == ["shard-00000.spacy"]
    # a copy of the input elsewhere is the same job
    copy = tmp_path / "copy.txt"
    shutil.copy(source, copy)
    # a shard file annotate did not write is refused, not counted as done
    shutil.copy(expected / "shard-00001.spacy", part / "shard-00001.spacy")
    with pytest.raises(ValueError, match="shard-00001.spacy was not written by this annotate job"):
        annotate(nlp3, copy, part, shard_size=3, progress=False)
    (part / "shard-00001.spacy").unlink()
    # a recorded shard changed since: refused
    original = (part / "shard-00000.spacy").read_bytes()
    (part / "shard-00000.spacy").write_bytes(original + b"x")
    with pytest.raises(ValueError, match="shard-00000.spacy was changed"):
        annotate(nlp3, copy, part, shard_size=3, progress=False)
    (part / "shard-00000.spacy").write_bytes(original)
    # killed while writing shard 1 (renamed but not yet recorded): that shard is redone
    record = json.loads((part / "annotate.json").read_text())
    record["in_progress"] = {"shard": "shard-00001.spacy", "partial": ".shard-00001.spacy.partial999"}
    (part / "annotate.json").write_text(json.dumps(record))
    (part / "shard-00001.spacy").write_bytes(b"half")
    (part / ".shard-00001.spacy.partial999").write_bytes(b"half")
    stats = annotate(nlp3, copy, part, shard_size=3, progress=False)
    assert (stats["shards_skipped"], stats["shards_written"]) == (1, 2)
    assert _docs(part) == _docs(expected) and not list(part.glob(".shard-*"))
    record = json.loads((part / "annotate.json").read_text())
    assert [record["shards"][f"shard-0000{i}.spacy"]["docs"] for i in range(3)] == [3, 3, 1]
    # OUTPUT a file: one line naming it
    result = run_cli(["annotate", str(model_dir), str(source), str(source)])
    assert result.returncode == 1 and f"{source} is a file, not a directory" in result.stderr.decode()
    # an OUTPUT of the older annotate, which recorded no shards: refused
    (part / "annotate.json").write_text(json.dumps({"shard_size": 3, "format": "spacy"}))
    with pytest.raises(ValueError, match="older annotate"):
        annotate(nlp3, source, part, shard_size=3, progress=False)


def test_annotate_cli_jsonl(model_dir, nlp3, tmp_path):
    source = tmp_path / "input.jsonl"
    with source.open("w", encoding="utf8") as file:
        for i, line in enumerate(LINES):
            file.write(json.dumps({"text": line, "id": i}) + "\n")
    output = tmp_path / "out.jsonl"
    args = ["annotate", str(model_dir), str(source), str(output), "--format-in", "jsonl", "--shard-size", "4"]
    result = run_cli([*args, "--max-shards", "1"])
    assert result.returncode == 0, result.stderr.decode()
    assert [p.name for p in output.glob("shard-*")] == ["shard-00000.jsonl"]
    result = run_cli(args)
    assert result.returncode == 0, result.stderr.decode()
    assert "words/s" in result.stderr.decode()  # the progress bar
    records = [
        json.loads(line)
        for path in sorted(output.glob("shard-*.jsonl"))
        for line in path.read_text(encoding="utf8").splitlines()
    ]
    assert [r["line"] for r in records] == list(range(1, 8))
    assert [r["meta"]["id"] for r in records if r["text"]] == [0, 1, 3, 4, 5, 6]
    first = records[0]
    doc = nlp3(LINES[0])
    assert first["tokens"] == [t.text for t in doc] and first["tags"] == [t.tag_ for t in doc]
    assert first["ents"] == [[e.start, e.end, e.label_] for e in doc.ents]
    assert first["chunks"] == [[s.start, s.end, s.label_] for s in doc.spans["chunks"]]
    assert first["srl"] == [] and records[2]["tokens"] == []
    # a malformed line: one error line naming it
    source.write_text('{"text": "a"}\nnot json\n', encoding="utf8")
    bad = run_cli(["annotate", str(model_dir), str(source), str(tmp_path / "o2"), "--format-in", "jsonl"])
    assert bad.returncode == 1 and "line 2" in bad.stderr.decode()
    assert "Traceback" not in bad.stderr.decode()


def test_annotate_n_process(nlp3, model_dir, tmp_path):
    source = tmp_path / "input.txt"
    source.write_text("\n".join(LINES * 2), encoding="utf8")
    one, two = tmp_path / "one", tmp_path / "two"
    annotate(nlp3, source, one, shard_size=5, progress=False)
    annotate(spacy.load(model_dir), source, two, shard_size=5, n_process=2, batch_size=2, progress=False)
    assert _docs(one) == _docs(two) and len(_docs(two)) == 14
    doc_bin = DocBin().from_disk(one / "shard-00000.spacy")
    assert len(doc_bin) == 5


# -- annotate with worker processes: bad input and signals end it cleanly, leaving no workers --
def _running(marker):
    """Pids of the processes whose command line mentions `marker` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode("utf8", "replace"):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def _gone(marker, seconds=20.0):
    """Whether every process mentioning `marker` has exited within `seconds`."""
    deadline = time.monotonic() + seconds
    while _running(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _running(marker)


needs_proc = pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")


@needs_proc
def test_annotate_n_process_bad_line_fails_in_the_parent(model_dir, tmp_path):
    # as in the report: a broken line 3000 of 4000, enough docs in flight to fill the workers' pipes
    source = tmp_path / "input.jsonl"
    lines = [json.dumps({"text": LINES[i % len(LINES)]}) for i in range(4000)]
    lines[2999] = "{broken"
    source.write_text("\n".join(lines) + "\n", encoding="utf8")
    output = tmp_path / "bad-line-out"
    args = ["annotate", str(model_dir), str(source), str(output), "--format-in", "jsonl"]
    result = run_cli([*args, "-n", "2", "--shard-size", "1000"])
    stderr = result.stderr.decode()
    assert result.returncode == 1 and "Traceback" not in stderr
    assert f"{source}, line 3000: not valid JSON" in stderr.splitlines()[-1]
    assert _gone(str(output))
    # the shards before the bad line's are complete; no partial shard
    assert sorted(p.name for p in output.glob("shard-*")) == ["shard-00000.spacy", "shard-00001.spacy"]
    assert len(list(read_shards(output))) == 2000 and not list(output.glob(".shard-*"))


def default_sigint() -> None:
    """In a child about to be signalled: SIGINT's default action, so that Python raises
    KeyboardInterrupt even when the tests run in the background (nohup, `cmd &`), which
    starts every process with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_annotating(model_dir, tmp_path, n_lines=20000):
    """An annotate run with 2 worker processes, in its own session, once its first shard is written."""
    source = tmp_path / "big.txt"
    source.write_text("\n".join(LINES[i % len(LINES)] for i in range(n_lines)) + "\n", encoding="utf8")
    output = tmp_path / "signalled-out"
    args = ["annotate", str(model_dir), str(source), str(output), "-n", "2", "--shard-size", "200"]
    process = subprocess.Popen(
        [PYTHON, "-m", "spacy_senna", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=default_sigint,
    )
    deadline = time.monotonic() + 120
    while not (output / "shard-00000.spacy").exists():
        assert process.poll() is None and time.monotonic() < deadline, "annotate did not start"
        time.sleep(0.1)
    return process, output


def _finish(process, timeout=60):
    try:
        _, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return stderr.decode()


@needs_proc
@pytest.mark.parametrize("to_group", [False, True], ids=["kill-parent", "ctrl-c"])
def test_annotate_n_process_sigint_stops_cleanly(model_dir, tmp_path, to_group):
    process, output = _start_annotating(model_dir, tmp_path)
    if to_group:  # Ctrl-C in a terminal: the parent and its workers
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, signal.SIGINT)
    stderr = _finish(process)
    assert process.returncode == 1 and "Traceback" not in stderr
    assert "interrupted: run the same command again to resume" in stderr.splitlines()[-1]
    assert _gone(str(output))
    shards = sorted(output.glob("shard-*.spacy"))
    assert all(len(DocBin().from_disk(path)) == 200 for path in shards)  # whole shards only


@needs_proc
def test_annotate_n_process_workers_die_with_a_killed_parent(model_dir, tmp_path):
    process, output = _start_annotating(model_dir, tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    _finish(process, timeout=10)
    assert _gone(str(output)), "worker processes outlived their killed parent"
