"""`predict`: run a pipeline over a corpus file and write it back with one more column.

The output mirrors the input line for line (blank and -DOCSTART- lines included) with the
prediction appended to every token line, so conlleval can score it directly.

ptb (bracketed trees) gives one predicted tree per line, `(TOP (S (NP (DT The) ...)))`, in
the input's order: the words of the input, the POS tags the pipeline predicted (XX without a
tagger), the constituents of its parser; EVALB reads it (COLLINS.prm deletes TOP).

conll2005 is the other exception: the output is a props file for srl-eval.pl, one line per token
with the input's TARGET column and one predicted Start-End column per input target, and an
empty line after each sentence. The pipeline gets the gold predicates as empty
`doc.spans["srl:<i>"]` groups (for an SRL component with predicates = "given"). Score it with
`srl-eval.pl GOLD_PROPS OUTPUT`, GOLD_PROPS being the input without its word column
(`conll05st-release/devel/props/devel.24.props.gz` gunzipped, for the devel set).
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List

import typer
from spacy.language import Language
from spacy.tokens import Doc
from wasabi import msg

from ..constituents import ParsedSentence, ptb_string
from ..readers import PTB_FORMAT, Sentence, SennaFormatError, get_spec, input_doc, is_docstart
from ..readers import make_doc, read_ptb_sentences, read_sentences
from ..srl_format import props_column, props_lines, srl_key
from ..tags import TagSchemeError
from ..tasks import BY_FORMAT, PSG
from ._util import DEFAULT_BATCH_SIZE, FORMAT_HELP, CorpusFormat, PipelineError, app, fail, is_stdout
from ._util import load_pipeline, one_line, open_output, require_task

DELIMITERS = {"wsj": "\t", "conll2000": " ", "conll2003": " ", "conll2005": " "}


class PredictionError(ValueError):
    """The pipeline's output cannot be written as the format's prediction column."""


@dataclass(frozen=True)
class PredictStats:
    """How much `predict` wrote."""

    n_sentences: int
    n_tokens: int


def predict(
    nlp: Language,
    input_path: Path,
    output_path: Path,
    fmt: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> PredictStats:
    """Tag INPUT with `nlp` and write it to OUTPUT with the prediction as a last column.

    conll2005: write a props file instead (TARGET column plus one predicted column per target).
    OUTPUT `-` is stdout; a regular OUTPUT is replaced only once complete (see open_output).
    """
    if fmt == PTB_FORMAT:
        return predict_trees(nlp, input_path, output_path, batch_size)
    delimiter = DELIMITERS[fmt]
    sentences = read_sentences(input_path, fmt)
    pairs = ((input_doc(nlp.vocab, s, fmt), s) for s in sentences)
    n_sentences = n_tokens = 0
    with open_output(output_path) as out:
        for doc, sentence in nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
            lines = prediction_lines(doc, fmt, sentence, delimiter)
            out.writelines(f"{line}\n" for line in lines)
            n_sentences, n_tokens = n_sentences + 1, n_tokens + len(sentence.rows)
    return PredictStats(n_sentences, n_tokens)


def predict_trees(nlp: Language, input_path: Path, output_path: Path, batch_size: int) -> PredictStats:
    """One predicted PTB tree per line for the trees of INPUT (see the module docstring)."""
    sentences = read_ptb_sentences(input_path)
    pairs = ((make_doc(nlp.vocab, s.words), s) for s in sentences)
    n_sentences = n_tokens = 0
    with open_output(output_path) as out:
        for doc, sentence in nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
            out.write(tree_line(doc, sentence) + "\n")
            n_sentences, n_tokens = n_sentences + 1, n_tokens + len(sentence.words)
    return PredictStats(n_sentences, n_tokens)


def tree_line(doc: Doc, sentence: ParsedSentence) -> str:
    """The predicted tree of one sentence, `(TOP ...)`, over the input's words."""
    where = f"tree at line {sentence.line}"
    if len(doc) != len(sentence.words):
        raise PredictionError(f"{where}: the pipeline changed the number of tokens")
    annotation = PSG.annotation
    if not annotation.has(doc):
        raise PredictionError(f"{where}: the pipeline set no {annotation.where} (has it a {PSG.factory}?)")
    tags = [token.tag_ or "XX" for token in doc]
    return ptb_string(sentence.words, tags, annotation.read(doc), root="TOP")


def prediction_lines(doc: Doc, fmt: str, sentence: Sentence, delimiter: str) -> List[str]:
    """The output lines of one sentence: its input lines plus a tag, or its props lines."""
    if get_spec(fmt).srl:
        return srl_output_lines(doc, sentence, delimiter)
    return list(output_lines(sentence, prediction_tags(doc, fmt, sentence), delimiter))


def srl_output_lines(doc: Doc, sentence: Sentence, delimiter: str = " ") -> List[str]:
    """The sentence as srl-eval.pl props lines, then an empty line.

    Each line holds the input's TARGET and, per input target i, the predicted arguments of
    `doc.spans["srl:<i>"]` as a Start-End cell (all `*` when the doc has no such group).
    """
    where = f"sentence at line {sentence.first_line}"
    if len(doc) != len(sentence.rows):
        raise PredictionError(f"{where}: the pipeline changed the number of tokens")
    columns = [sentence.column(1)]
    for index, _ in sentence.predicates:
        spans = doc.spans.get(srl_key(index), [])
        try:
            columns.append(props_column([(s.start, s.end, s.label_) for s in spans], len(doc)))
        except ValueError as err:
            raise PredictionError(f"{where}: predicate at token {index + 1}: {err}") from None
    return props_lines(columns, delimiter) + [""]


def prediction_tags(doc: Doc, fmt: str, sentence: Sentence) -> List[str]:
    """One predicted tag per token, in the format's own scheme: tag_ (wsj), IOB2 chunks
    (conll2000), IOB1 NEs (conll2003)."""
    where = f"sentence at line {sentence.first_line}"
    if len(doc) != len(sentence.rows):
        raise PredictionError(f"{where}: the pipeline changed the number of tokens")
    task = BY_FORMAT[fmt]
    if not task.annotation.has(doc, complete=True):
        raise PredictionError(f"{where}: the pipeline set no {task.annotation.where} (has it a {task.factory}?)")
    try:
        return task.annotation.tags(doc, task.corpus_scheme)
    except TagSchemeError as err:
        raise PredictionError(f"{where}: {err}") from None


def output_lines(sentence: Sentence, tags: List[str], delimiter: str) -> Iterator[str]:
    """The sentence's original lines, each token line followed by `delimiter` and its tag
    (and each -DOCSTART- line by an O, so that every line has the same number of fields)."""
    yield from (_docstart_line(line, delimiter) for line in sentence.lines_before)
    for row, tag in zip(sentence.rows, tags):
        yield f"{row.text.rstrip()}{delimiter}{tag}"
    yield from (_docstart_line(line, delimiter) for line in sentence.lines_after)


def _docstart_line(line: str, delimiter: str) -> str:
    """A -DOCSTART- line with the O of an extra column; any other non-token line as it is."""
    if is_docstart(line):
        return f"{line.rstrip()}{delimiter}O"
    return line


@app.command("predict")
def predict_cli(
    model: str = typer.Argument(..., help="Pipeline package name or folder for spacy.load."),
    input_path: Path = typer.Argument(..., help="Corpus file to tag (.gz is read transparently)."),
    output_path: Path = typer.Argument(
        ..., help="Output: the input plus a prediction column (conll2005: a props file); - for stdout."
    ),
    fmt: CorpusFormat = typer.Option(..., "--format", "-f", help=FORMAT_HELP),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", "-b", min=1),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU to use; -1 for the CPU."),
) -> None:
    """Tag INPUT with MODEL; write OUTPUT = INPUT plus a column (tag, IOB2 chunk or IOB1 NE).

    ptb: OUTPUT holds one predicted tree per line, (TOP ...), for EVALB.

    conll2005: OUTPUT is a props file for srl-eval.pl (gold TARGET column plus one predicted
    Start-End column per target); the gold predicates are given to the pipeline.
    """
    try:
        nlp = load_pipeline(model, gpu_id)
        require_task(nlp, model, fmt.value)
    except PipelineError as err:
        fail(str(err))
    try:
        stats = predict(nlp, input_path, output_path, fmt.value, batch_size)
    except SennaFormatError as err:
        fail(str(err))
    except PredictionError as err:
        fail(f"{input_path}, {err}")
    except OSError as err:
        fail(f"cannot write {output_path}: {one_line(err)}")
    done = f"Tagged {stats.n_sentences:,} sentences ({stats.n_tokens:,} tokens) -> {output_path}"
    if is_stdout(output_path):
        typer.echo(done, err=True)  # stdout holds the output
    else:
        msg.good(done)
