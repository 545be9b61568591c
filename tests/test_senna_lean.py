"""The `senna` drop-in's lean path (spacy_senna/dropin/lean.py): the same bytes as the spaCy
path, no spaCy or Thinc imported, and stale or corrupt exports refused.

The small pipeline is trained here for a few updates; the WSJ comparison runs the `all`
workflow's training/senna when it is there.
"""
import gzip
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import spacy
import srsly
from spacy.strings import hash_string
from spacy.tokens import Doc
from spacy.training import Example

from spacy_senna.cli.tag import load_spacy_run
from spacy_senna.dropin import lean
from spacy_senna.dropin.args import parse_args
from spacy_senna.dropin.io import _USER_TOKEN, split_user_tokens
from spacy_senna.dropin.main import main, tag_stream
from spacy_senna.lexicon import string_hashes
from spacy_senna.tags import NO_TAG, decoded_phrases, iobes_phrases

from .test_components import make_examples, train
from .test_parser import TREES

ROOT = Path(__file__).resolve().parents[1]
REAL_PIPELINE = ROOT / "training" / "senna"
WSJ_DEV = ROOT / "assets" / "ptb_pos" / "wsj_dev.tsv.gz"

# Lines that exercise the edges: empty and blank lines, one token, unknown and odd words,
# spaCy's symbols as words (their orth id is not their hash), several sentences in a line
# (the sentencizer splits them), whitespace other than spaces, a non-ASCII space token
# (the networks skip it: "_SP"), undecodable bytes, and a very long line.
EDGE_LINES = [
    "The cat chased the dog .",
    "",
    "   ",
    "dog",
    "Zxqvw blorf 12,345.67 foo-bar @user #tag https://example.com",
    "POS SYM ORTH NOUN ADJ are symbols in spaCy 's strings",
    "John ate an apple . Mary said John left ! Then ... what ?",
    "tabs\tand  double   spaces\tbetween\t\ttokens",
    "Ünïcödé wörds and 日本語 and Ελληνικά",
    "before \u3000 after the ideographic space",
    "caf\udcc3 bytes that are not UTF-8",
    " ".join(["the", "dog", "saw", "John", "."] * 120),
]
FLAG_SETS = [["-pos"], ["-chk"], ["-ner"], ["-pos", "-chk", "-ner"], ["-ner", "-pos"]]
OPTION_SETS = [[], ["-iobtags"], ["-brackettags", "-offsettags"], ["-notokentags"]]


@pytest.fixture(scope="module")
def small_pipeline(tmp_path_factory):
    """sentencizer, a tagger with the character convolution, a chunker that embeds the POS
    tags and an NER component, trained for a few updates."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("senna_tagger", config={"model": {"hidden_width": 40, "tok2vec": {"char_width": 8}}})
    nlp.add_pipe("senna_chunker", config={"model": {"hidden_width": 40, "tok2vec": {"token_features": ["tag"]}}})
    nlp.add_pipe("senna_ner", config={"model": {"hidden_width": 40}})
    train(nlp, make_examples(nlp), n_iter=30)
    path = tmp_path_factory.mktemp("lean_pipeline") / "pipeline"
    nlp.to_disk(path)
    return path


def tag_with(model: Path, args, data: bytes, path: str, export: bool = True, user_tokens: bool = True) -> bytes:
    """SENNA's output of one path ("lean" or "spacy"), run in-process, with -usrtokens unless
    `user_tokens` is False; the spaCy path writes the lean path's export unless `export` is False."""
    opts = parse_args(["--model", str(model), *(["-usrtokens"] if user_tokens else []), *args])
    if path == "lean":
        run = lean.load_run(opts, lambda message: None)
        assert run is not None, "the lean path did not run"
    else:
        run = load_spacy_run(opts, lambda message: None, export=export)
    stdout = io.BytesIO()
    tag_stream(run, io.BytesIO(data), stdout)
    return stdout.getvalue()


def edge_text() -> bytes:
    return ("\n".join(EDGE_LINES) + "\n").encode("utf8", "surrogateescape")


@pytest.mark.parametrize("flags", FLAG_SETS)
@pytest.mark.parametrize("options", OPTION_SETS)
def test_lean_path_prints_the_spacy_paths_bytes(small_pipeline, flags, options):
    data = edge_text()
    expected = tag_with(small_pipeline, [*flags, *options], data, "spacy")
    assert expected.count(b"\n\n") == len([line for line in EDGE_LINES if line.strip()])
    assert tag_with(small_pipeline, [*flags, *options], data, "lean") == expected


# Raw text for spaCy's tokenizer: punctuation attached to words, contractions, abbreviations,
# URLs, emoticons, runs of whitespace (spaCy's whitespace tokens, which SENNA's output skips).
RAW_LINES = [
    *EDGE_LINES,
    'Anna Rossi, the chief executive of Acme Corp., said it\'s "fine" (really).',
    "Don't stop -- it's 5pm in N.Y.!  Two  spaces,\ta tab; e-mail a@b.com or see https://x.org/a?b=c :-)",
    "  leading and trailing spaces  ",
    "U.S.-based firms' shares rose 3.5% to $12.50/share in 1987-88.",
]


def raw_text() -> bytes:
    return ("\n".join(RAW_LINES) + "\n").encode("utf8", "surrogateescape")


@pytest.mark.parametrize("flags", [["-pos"], ["-pos", "-chk", "-ner"], ["-ner", "-offsettags"], ["-chk", "-brackettags"]])
def test_lean_path_with_spacys_tokenizer_prints_the_spacy_paths_bytes(small_pipeline, flags):
    """No -usrtokens: the lean path tokenises with the pipeline's own spaCy tokenizer."""
    data = raw_text()
    expected = tag_with(small_pipeline, flags, data, "spacy", user_tokens=False)
    assert expected.count(b"\n\n") == len([line for line in RAW_LINES if line.strip()])
    tokens = [line.split("\t")[0].strip() for line in expected.decode("utf8", "surrogateescape").splitlines() if line]
    assert {"Corp.", ",", "'s", "(", "N.Y."} <= set(tokens)  # spaCy's tokens, not whitespace runs
    assert tag_with(small_pipeline, flags, data, "lean", user_tokens=False) == expected
    assert expected != tag_with(small_pipeline, flags, data, "lean")


def test_lean_path_with_spacys_tokenizer_reads_the_pipelines_tokenizer(small_pipeline, tmp_path):
    """A special case saved with the pipeline is the lean path's too."""
    from spacy.attrs import ORTH

    nlp = spacy.load(small_pipeline)
    nlp.tokenizer.add_special_case("gimme", [{ORTH: "gim"}, {ORTH: "me"}])
    path = tmp_path / "pipeline"
    nlp.to_disk(path)
    data = b"gimme the dog .\n"
    expected = tag_with(path, ["-pos"], data, "spacy", user_tokens=False)
    assert expected.startswith(b"            gim\t")
    assert tag_with(path, ["-pos"], data, "lean", user_tokens=False) == expected


@pytest.mark.parametrize(
    "nlp_config, reason",
    [
        ({"tokenizer": {"@tokenizers": "spacy.Tokenizer.v1"}, "after_creation": None}, None),
        ({"tokenizer": {"@tokenizers": "my.Tokenizer.v1"}}, "the pipeline's tokenizer is not"),
        ({"tokenizer": {"@tokenizers": "spacy.Tokenizer.v1"}, "after_creation": {"@callbacks": "my.callback"}}, "the pipeline's config changes"),
    ],
)
def test_spacy_tokenizer_only_for_spacys_own(tmp_path, nlp_config, reason):
    """Another tokenizer, or a config that changes the language class: the spaCy path tokenises."""
    config = spacy.blank("en").config
    config["nlp"].update(nlp_config)
    config.to_disk(tmp_path / "config.cfg")
    tokenize, why = lean.spacy_tokenizer(tmp_path)
    if reason is None:
        assert why is None and tokenize("Hi, there.").words == ["Hi", ",", "there", "."]
    else:
        assert tokenize is None and why.startswith(reason)


def test_lean_path_skips_whitespace_tokens_as_the_spacy_path(small_pipeline):
    data = "before \u3000 after\n".encode("utf8")
    tag_with(small_pipeline, ["-pos"], data, "spacy")
    lines = tag_with(small_pipeline, ["-pos"], data, "lean").decode("utf8").splitlines()
    assert lines[1].split("\t")[1].strip() == "_SP"


@pytest.mark.parametrize("batch_size", ["1", "7", "128"])
def test_lean_path_by_batch_size(small_pipeline, batch_size):
    data = edge_text() * 3
    args = ["-pos", "-chk", "-ner", "--batch-size", batch_size]
    assert tag_with(small_pipeline, args, data, "lean") == tag_with(small_pipeline, args, data, "spacy")


def test_lean_path_with_int8_tables(small_pipeline, tmp_path):
    """half-tables --int8: the fast path reads the int8 rows and their scales as spaCy does."""
    from spacy_senna.cli.half_tables import half_word_tables

    nlp = spacy.load(small_pipeline)
    assert half_word_tables(nlp, int8=True) > 0
    nlp.to_disk(tmp_path / "int8")
    data = edge_text()
    for flags in (["-pos", "-chk", "-ner"], ["-ner", "-iobtags"]):
        expected = tag_with(tmp_path / "int8", flags, data, "spacy")
        assert tag_with(tmp_path / "int8", flags, data, "lean") == expected


@pytest.fixture(scope="module")
def context_pipeline(tmp_path_factory):
    """A chunker (reading the POS tags) and an NER component with context_dilations: residual
    dilated-window layers after the hidden layer."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("senna_tagger", config={"model": {"hidden_width": 20}})
    context = {"hidden_width": 16, "context_dilations": [1, 2, 4], "hidden_dropout": True}
    nlp.add_pipe("senna_chunker", config={"model": {**context, "tok2vec": {"token_features": ["tag"]}}})
    nlp.add_pipe("senna_ner", config={"model": context})
    train(nlp, make_examples(nlp), n_iter=30)
    path = tmp_path_factory.mktemp("context_pipeline") / "pipeline"
    nlp.to_disk(path)
    return path


@pytest.mark.parametrize("flags", [["-chk"], ["-ner"], ["-pos", "-chk", "-ner", "-iobtags"]])
def test_lean_path_runs_context_dilations(context_pipeline, flags):
    data = edge_text() * 2
    expected = tag_with(context_pipeline, flags, data, "spacy")
    assert tag_with(context_pipeline, flags, data, "lean") == expected
    assert_lean_imports(context_pipeline, flags)


@pytest.mark.skipif(not (REAL_PIPELINE / "config.cfg").is_file() or not WSJ_DEV.is_file(), reason="needs training/senna and WSJ dev")
@pytest.mark.parametrize("flags", [["-pos"], ["-chk"], ["-ner"], ["-pos", "-chk", "-ner"]])
def test_lean_path_on_wsj_dev(flags):
    """300 WSJ dev sentences through the `all` workflow's pipeline: the same bytes."""
    data = wsj_dev_text(300)
    expected = tag_with(REAL_PIPELINE, flags, data, "spacy")
    assert tag_with(REAL_PIPELINE, flags, data, "lean") == expected


# SRL's edges besides EDGE_LINES: no verb, a verb alone, a whitespace token in a sentence with
# verbs, verbs in several sentences of a line, and a sentence cut at max_sentence_length (200)
SRL_EDGE_LINES = [
    "the red dog",
    "runs",
    "John \u3000 ate the apple and left .",
    "He said it . She has been sleeping ; they were told to go !",
    " ".join(["He", "said", "it", "was", "good", "and"] * 60) + " .",
]
SRL_FLAG_SETS = [
    ["-posvbs", "-srl"],
    ["-pos", "-chk", "-posvbs", "-srl"],
    ["-srl", "-posvbs", "-iobtags"],
    ["-posvbs", "-srl", "-brackettags", "-offsettags"],
    ["-srl"],  # the predicate detector's predicates
    ["-pos", "-srl", "-iobtags"],
]


@pytest.mark.skipif(not (REAL_PIPELINE / "config.cfg").is_file() or not WSJ_DEV.is_file(), reason="needs training/senna and WSJ dev")
@pytest.mark.parametrize("flags", SRL_FLAG_SETS)
def test_lean_srl_on_wsj_dev_and_edges(flags):
    """-srl: the POS tagger, the chunker (both embedded by the SRL network), the predicates
    (-posvbs: the V* tags, else the predicate detector's) and the sentence network per
    predicate, the same bytes as the spaCy path."""
    edges = ("\n".join(EDGE_LINES + SRL_EDGE_LINES) + "\n").encode("utf8", "surrogateescape")
    for data in (wsj_dev_text(300), edges):
        expected = tag_with(REAL_PIPELINE, flags, data, "spacy")
        assert tag_with(REAL_PIPELINE, flags, data, "lean") == expected
    columns = [line.split("\t") for line in expected.decode("utf8", "surrogateescape").splitlines()]
    assert any(len(row) > 3 for row in columns)  # lines with several predicates' columns


def wsj_dev_text(n_sentences: int) -> bytes:
    """The first WSJ dev sentences, one a line."""
    sentences, words = [], []
    with gzip.open(WSJ_DEV, "rt", encoding="utf8") as lines:
        for line in lines:
            if not line.strip():
                if words:
                    sentences.append(" ".join(words))
                    words = []
                    if len(sentences) == n_sentences:
                        break
                continue
            words.append(line.split("\t")[0])
    return ("\n".join(sentences) + "\n").encode("utf8")


def test_lean_path_imports_neither_spacy_nor_thinc(small_pipeline):
    tag_with(small_pipeline, ["-chk"], b"x\n", "spacy")  # the export
    assert_lean_imports(small_pipeline, ["-pos", "-chk"])


@pytest.mark.skipif(not (REAL_PIPELINE / "config.cfg").is_file(), reason="needs training/senna")
def test_lean_srl_imports_neither_spacy_nor_thinc():
    tag_with(REAL_PIPELINE, ["-posvbs", "-srl"], b"x\n", "spacy")  # the export
    assert_lean_imports(REAL_PIPELINE, ["-pos", "-posvbs", "-srl"])


def assert_lean_imports(model: Path, flags) -> None:
    """The drop-in run on one line imports the lean path and none of spaCy, Thinc, torch."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "spacy_senna", "tag", "--model", str(model), "-usrtokens", *flags],
        input=b"The cat chased the dog .\n",
        capture_output=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
    )
    assert done.returncode == 0, done.stderr.decode()
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.decode().splitlines() if line.startswith("import time:")}
    assert "spacy_senna.dropin.lean" in imported
    assert not {"spacy", "thinc", "torch"} & imported
    assert done.stdout.count(b"\n") == 7


def _lean_output(model: Path, verbose: bool = True):
    stdout, stderr = io.BytesIO(), io.StringIO()
    args = ["--model", str(model), "-usrtokens", "-pos", "-chk"] + (["-verbose"] if verbose else [])
    assert main(args, io.BytesIO(edge_text()), stdout, stderr) == 0, stderr.getvalue()
    return stdout.getvalue(), stderr.getvalue()


@pytest.fixture
def own_pipeline(small_pipeline, tmp_path):
    """A copy of the small pipeline to change, with its export written."""
    path = tmp_path / "pipeline"
    shutil.copytree(small_pipeline, path)
    _lean_output(path)
    return path


def test_current_export_is_used(own_pipeline):
    output, log = _lean_output(own_pipeline)
    assert "loaded the fast-path export" in log
    assert output == tag_with(own_pipeline, ["-pos", "-chk"], edge_text(), "spacy")


def _refused_then_rewritten(pipeline: Path, reason: str) -> None:
    """One line says the export is not used; the output is the spaCy path's; the next run is lean."""
    output, log = _lean_output(pipeline, verbose=False)
    assert output == tag_with(pipeline, ["-pos", "-chk"], edge_text(), "spacy", export=False)
    lines = log.splitlines()
    assert len(lines) == 1 and reason in lines[0] and "not used" in lines[0], log
    again, log = _lean_output(pipeline)
    assert "loaded the fast-path export" in log and again == output


def test_stale_export_is_refused(own_pipeline):
    cfg = own_pipeline / "senna_chunker" / "cfg"
    cfg.write_text(cfg.read_text(encoding="utf8") + "\n", encoding="utf8")
    _refused_then_rewritten(own_pipeline, "out of date (senna_chunker/cfg changed)")


def test_export_of_a_replaced_model_is_refused(own_pipeline):
    os.utime(own_pipeline / "senna_tagger" / "model", ns=(0, 0))  # same bytes, another time: not trusted either
    _refused_then_rewritten(own_pipeline, "out of date (senna_tagger/model changed)")


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_corrupt_export_is_refused(own_pipeline, damage):
    path = lean.cache_folder(own_pipeline.resolve()) / "senna_tagger.npz"
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[len(data) // 2] ^= 0xFF  # inside an array: the member's CRC-32 catches it
    else:
        data = bytearray(b"not a zip file")
    path.write_bytes(bytes(data))
    _refused_then_rewritten(own_pipeline, "is unreadable")


def test_corrupt_index_is_refused(own_pipeline):
    (lean.cache_folder(own_pipeline.resolve()) / lean.INDEX).write_text("{not json", encoding="utf8")
    _refused_then_rewritten(own_pipeline, "is unreadable")


def test_options_the_lean_path_does_not_run(small_pipeline):
    assert lean.why_not(parse_args(["-pos"])) is None  # spaCy's tokenizer, loaded alone
    assert lean.why_not(parse_args(["-usrtokens", "-srl"])) is None  # the predicate detector's predicates
    assert lean.why_not(parse_args(["-usrtokens", "-pos", "-posvbs"])) is not None  # -posvbs ignored: a note
    assert lean.why_not(parse_args(["-usrtokens", "-srl", "-usrvbs", "verbs.txt"])) is not None
    assert lean.why_not(parse_args(["-usrtokens", "-srl", "-posvbs"])) is None
    assert lean.why_not(parse_args(["-usrtokens"])) is None  # every task of the pipeline, if the export has them
    assert lean.why_not(parse_args(["-usrtokens", "-psg", "-pos"])) is None
    assert lean.why_not(parse_args(["-usrtokens", "-psg", "-posvbs"])) is not None
    assert lean.why_not(parse_args(["-usrtokens", "-pos", "-ner"])) is None
    tag_with(small_pipeline, ["-pos"], b"x\n", "spacy")  # the export
    stdout, stderr = io.BytesIO(), io.StringIO()
    assert main(["--model", str(small_pipeline), "-pos", "-verbose"], io.BytesIO(b"The dog.\n"), stdout, stderr) == 0
    assert "loaded the fast-path export" in stderr.getvalue() and "spaCy path" not in stderr.getvalue()
    assert stdout.getvalue().count(b"\n") == 4  # The / dog / . / the empty line


# -- the pieces the lean path computes without spaCy, against spaCy's own -------------------
def test_string_hashes_are_spacys():
    words = ["", "the", "PADDING", "Ünïcödé", "日本語", "a" * 300, "\ufffd"]
    assert string_hashes(words).tolist() == [hash_string(word) for word in words]


def test_orth_keys_are_spacys():
    nlp = spacy.blank("en")
    words = ["POS", "dog", "SYM", "ORTH", "nsubj", "the"]
    doc = Doc(nlp.vocab, words=words)
    from spacy.symbols import IDS

    assert lean.orth_keys(words, dict(IDS)).tolist() == [token.orth for token in doc]


def test_sentence_starts_are_the_sentencizers():
    nlp = spacy.blank("en")
    sentencizer = nlp.add_pipe("sentencizer")
    rng = numpy.random.default_rng(0)
    vocabulary = ["the", "dog", ".", "!", "?", "...", '"', ")", "--", "Mr.", "U.S.", "\u3002", "ok"]
    punct_chars = frozenset(sentencizer.punct_chars)
    for _ in range(300):
        words = [vocabulary[i] for i in rng.integers(0, len(vocabulary), size=int(rng.integers(1, 15)))]
        doc = sentencizer(Doc(nlp.vocab, words=words))
        assert lean.sentence_starts(words, punct_chars) == [sent.start for sent in doc.sents]


def test_decoded_phrases_of_a_batch_are_each_sequences():
    rng = numpy.random.default_rng(0)
    n_labels = 3
    sequences = [rng.integers(-1, 1 + 4 * n_labels, size=int(rng.integers(0, 12))) for _ in range(200)]
    for ids, phrases in zip(sequences, decoded_phrases(sequences, n_labels)):
        positions = numpy.flatnonzero(ids != NO_TAG)
        starts, ends, labels = iobes_phrases(ids[positions], n_labels)
        expected = [(int(positions[s]), int(positions[e - 1]) + 1, int(label)) for s, e, label in zip(starts, ends, labels)]
        assert phrases == expected


@pytest.mark.parametrize("line", ["a b  c ", "  x", "", " ", "a\tb c", "ab\xa0c d", "x\x0by", "one"])
def test_split_user_tokens(line):
    sentence = split_user_tokens(line)
    matches = list(_USER_TOKEN.finditer(line))
    assert sentence.words == [m.group() for m in matches]
    assert sentence.offsets == [(m.start(), m.end()) for m in matches]
    assert sentence.spaces == [m.end() < len(line) for m in matches]


# -- -psg: the parser's levels (level_inference.py) without spaCy --------------------------
# The parser's edges besides EDGE_LINES and SRL_EDGE_LINES: one-token lines, punctuation only,
# whitespace tokens around a sentence, several sentences, a long sentence with no full stop
PSG_EDGE_LINES = [
    "Go",
    ".",
    "",
    "\u3000 It is . \u3000",
    "The cat sat on the mat . Look up ! It is .",
    " ".join(["the", "big", "cat", "that", "sat", "on", "the", "mat", "and"] * 25) + " slept",
]
PSG_FLAG_SETS = [["-psg"], ["-pos", "-psg"], ["-posvbs", "-srl", "-psg"], ["-chk", "-ner", "-psg", "-iobtags"], []]


def psg_edge_text() -> bytes:
    return ("\n".join(EDGE_LINES + SRL_EDGE_LINES + PSG_EDGE_LINES) + "\n").encode("utf8", "surrogateescape")


@pytest.mark.skipif(not (REAL_PIPELINE / "config.cfg").is_file() or not WSJ_DEV.is_file(), reason="needs training/senna and WSJ dev")
@pytest.mark.parametrize("flags", PSG_FLAG_SETS, ids=lambda flags: " ".join(flags) or "every-task")
def test_lean_psg_on_wsj_dev_and_edges(flags):
    """-psg alone and with the other tasks (none: every task, the tree last): the tagger, the
    parser's levels and SENNA's column, the same bytes as the spaCy path."""
    for data in (wsj_dev_text(300), psg_edge_text()):
        expected = tag_with(REAL_PIPELINE, flags, data, "spacy")
        assert tag_with(REAL_PIPELINE, flags, data, "lean") == expected
    psg = [line.rsplit("\t", 1)[-1] for line in expected.decode("utf8", "surrogateescape").splitlines() if line]
    assert psg[0].startswith("(S1(") and sum(cell.count("(") for cell in psg) > 3 * expected.count(b"\n\n")


@pytest.fixture(scope="module")
def parser_pipeline(small_pipeline, tmp_path_factory):
    """The small pipeline with a parser (plain window network, reading the POS tags) after
    its taggers, trained for a few updates on TREES."""
    nlp = spacy.load(small_pipeline)
    parser = nlp.add_pipe("senna_parser", config={"model": {"hidden_width": 40, "tok2vec": {"token_features": ["tag"]}}})
    train_parser(nlp, parser)
    path = tmp_path_factory.mktemp("lean_parser") / "pipeline"
    nlp.to_disk(path)
    return path


def train_parser(nlp, parser, n_iter: int = 40) -> None:
    """Train the parser alone on TREES, the POS tags on the predicted docs too."""
    from thinc.api import fix_random_seed

    from spacy_senna.constituency import set_constituents

    fix_random_seed(0)

    examples = []
    for words, tags, constituents in TREES:
        reference = Doc(nlp.vocab, words=words, tags=tags)
        set_constituents(reference, constituents)
        examples.append(Example(Doc(nlp.vocab, words=words, tags=tags), reference))
    parser.initialize(lambda: examples, nlp=nlp)
    optimizer = parser.create_optimizer()
    for _ in range(n_iter):
        parser.update(examples, sgd=optimizer)


def test_lean_psg_with_spacys_tokenizer(parser_pipeline):
    """Every task, no -usrtokens: the parse of spaCy's tokens, as the spaCy path prints it."""
    data = raw_text()
    expected = tag_with(parser_pipeline, [], data, "spacy", user_tokens=False)
    assert tag_with(parser_pipeline, [], data, "lean", user_tokens=False) == expected
    assert b"(S1" in expected


@pytest.mark.parametrize("flags", [["-psg"], ["-pos", "-psg"], ["-chk", "-psg", "-brackettags"], []], ids=lambda f: " ".join(f) or "every-task")
def test_lean_psg_prints_the_spacy_paths_bytes(parser_pipeline, flags):
    data = psg_edge_text()
    expected = tag_with(parser_pipeline, flags, data, "spacy")
    assert tag_with(parser_pipeline, flags, data, "lean") == expected
    rows = [line.split("\t") for line in expected.decode("utf8", "surrogateescape").splitlines() if line]
    assert rows[0][-1].startswith("(S1")  # the tree column, last, with constituents below the roots
    assert sum(row[-1].count("(") for row in rows) > 2 * expected.count(b"\n\n")
    tasks = [flag for flag in flags if flag != "-brackettags"] or ["-pos", "-chk", "-ner", "-psg"]
    assert len(rows[0]) == 1 + len(tasks)


def test_lean_psg_keeps_max_levels(parser_pipeline, tmp_path):
    """The parser's max_levels (its cfg) is the lean path's too."""
    path = tmp_path / "pipeline"
    shutil.copytree(parser_pipeline, path)
    full = tag_with(path, ["-psg"], psg_edge_text(), "spacy")
    cfg = srsly.read_json(path / "senna_parser" / "cfg")
    srsly.write_json(path / "senna_parser" / "cfg", {**cfg, "max_levels": 1})
    expected = tag_with(path, ["-psg"], psg_edge_text(), "spacy")
    assert expected != full
    assert tag_with(path, ["-psg"], psg_edge_text(), "lean") == expected


def test_lean_psg_keeps_force_progress(parser_pipeline, tmp_path):
    """The parser's force_progress (its cfg, on by default) is the lean path's too; the small
    parser's levels find nothing on some sentences of the edge text, so the trees differ."""
    path = tmp_path / "pipeline"
    shutil.copytree(parser_pipeline, path)
    forcing = tag_with(path, ["-psg"], psg_edge_text(), "spacy")
    cfg = srsly.read_json(path / "senna_parser" / "cfg")
    assert cfg["force_progress"] is True
    srsly.write_json(path / "senna_parser" / "cfg", {**cfg, "force_progress": False})
    expected = tag_with(path, ["-psg"], psg_edge_text(), "spacy")
    assert expected != forcing
    assert tag_with(path, ["-psg"], psg_edge_text(), "lean") == expected


def test_lean_psg_of_a_parser_with_hidden_dropout(small_pipeline, tmp_path):
    """A dropout layer after the HardTanh (identity at inference): the lean path runs it and
    prints the spaCy path's trees."""
    nlp = spacy.load(small_pipeline)
    parser = nlp.add_pipe("senna_parser", config={"model": {"hidden_width": 20, "hidden_dropout": True, "tok2vec": {"token_features": ["tag"]}}})
    train_parser(nlp, parser, n_iter=10)
    path = tmp_path / "pipeline"
    nlp.to_disk(path)
    data = psg_edge_text()
    expected = tag_with(path, ["-psg"], data, "spacy")
    assert b"(S1" in expected
    assert tag_with(path, ["-psg"], data, "lean") == expected


@pytest.mark.parametrize("model", [{"network": "sentence", "conv_width": 20}, {"context_dilations": [2]}], ids=["sentence", "dilations"])
def test_parser_the_lean_path_cannot_run(small_pipeline, tmp_path, model):
    """A parser the export has no steps for: one line says so, the spaCy path prints -psg;
    the taggers still run on the lean path."""
    nlp = spacy.load(small_pipeline)
    parser = nlp.add_pipe("senna_parser", config={"model": {"hidden_width": 20, "tok2vec": {"token_features": ["tag"]}, **model}})
    train_parser(nlp, parser, n_iter=2)
    path = tmp_path / "pipeline"
    nlp.to_disk(path)
    data = psg_edge_text()
    args = ["--model", str(path), "-usrtokens", "-psg", "-verbose"]
    outputs, logs = [], []
    for _ in range(2):
        stdout, stderr = io.BytesIO(), io.StringIO()
        assert main(args, io.BytesIO(data), stdout, stderr) == 0, stderr.getvalue()
        outputs.append(stdout.getvalue())
        logs.append(stderr.getvalue().splitlines())
    refusal = "no fast-path export of senna_parser: its level network is not a plain window network"
    assert [line for line in logs[0] if "senna_parser:" in line] == [f"[senna] {refusal} (network = \"window\", window_size > 1, a hidden layer, no context_dilations)"]
    assert [line for line in logs[1] if line.startswith("[senna] spaCy path")] == [f"[senna] spaCy path: {refusal} (network = \"window\", window_size > 1, a hidden layer, no context_dilations)"]
    assert outputs[0] == outputs[1] == tag_with(path, ["-psg"], data, "spacy", export=False)
    assert tag_with(path, ["-pos"], data, "lean") == tag_with(path, ["-pos"], data, "spacy", export=False)


def test_lean_psg_with_int8_tables(parser_pipeline, tmp_path):
    """The parser's int8 word table: the fast path's trees are the spaCy path's."""
    from spacy_senna.cli.half_tables import half_word_tables

    nlp = spacy.load(parser_pipeline)
    assert half_word_tables(nlp, int8=True) > 0
    nlp.to_disk(tmp_path / "int8")
    expected = tag_with(tmp_path / "int8", ["-psg"], psg_edge_text(), "spacy")
    assert tag_with(tmp_path / "int8", ["-psg"], psg_edge_text(), "lean") == expected


def test_lean_psg_imports_neither_spacy_nor_thinc(parser_pipeline):
    tag_with(parser_pipeline, ["-psg"], b"x\n", "spacy")  # the export
    assert_lean_imports(parser_pipeline, ["-psg"])
    assert_lean_imports(parser_pipeline, [])  # every task


@pytest.mark.skipif(not (REAL_PIPELINE / "config.cfg").is_file(), reason="needs training/senna")
def test_lean_psg_on_the_real_pipeline_imports_neither_spacy_nor_thinc():
    tag_with(REAL_PIPELINE, [], b"x\n", "spacy")  # the export of every component
    assert_lean_imports(REAL_PIPELINE, ["-psg"])
    assert_lean_imports(REAL_PIPELINE, [])
