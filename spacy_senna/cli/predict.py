"""`predict`: run a pipeline over a corpus file and write it back with one more column.

The output mirrors the input line for line (blank and -DOCSTART- lines included) with the
prediction appended to every token line, so conlleval can score it directly.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, List

import spacy
import typer
from spacy.language import Language
from spacy.tokens import Doc, Span
from wasabi import msg

from ..readers import CHUNKS_KEY, Sentence, SennaFormatError, make_doc, read_sentences
from ..tags import TagSchemeError, spans_to_tags
from ._util import FORMAT_HELP, CorpusFormat, app, fail

DELIMITERS = {"wsj": "\t", "conll2000": " ", "conll2003": " "}
DEFAULT_BATCH_SIZE = 128


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
    """Tag INPUT with `nlp` and write it to OUTPUT with the prediction as a last column."""
    delimiter = DELIMITERS[fmt]
    pairs = ((make_doc(nlp.vocab, s.words), s) for s in read_sentences(input_path, fmt))
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(output_path.name + ".partial")
    n_sentences = n_tokens = 0
    try:
        with partial.open("w", encoding="utf8") as out:
            for doc, sentence in nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
                tags = prediction_tags(doc, fmt, sentence)
                out.writelines(f"{line}\n" for line in output_lines(sentence, tags, delimiter))
                n_sentences, n_tokens = n_sentences + 1, n_tokens + len(tags)
        partial.replace(output_path)
    finally:
        partial.unlink(missing_ok=True)
    return PredictStats(n_sentences, n_tokens)


def prediction_tags(doc: Doc, fmt: str, sentence: Sentence) -> List[str]:
    """One predicted tag per token: tag_ (wsj), IOB2 chunks (conll2000), IOB1 NEs (conll2003)."""
    where = f"sentence at line {sentence.first_line}"
    if len(doc) != len(sentence.rows):
        raise PredictionError(f"{where}: the pipeline changed the number of tokens")
    if fmt == "wsj":
        if not doc.has_annotation("TAG", require_complete=True):
            raise PredictionError(f"{where}: the pipeline set no token.tag_ (has it a tagger?)")
        return [token.tag_ for token in doc]
    if fmt == "conll2000":
        if CHUNKS_KEY not in doc.spans:
            raise PredictionError(
                f"{where}: the pipeline set no doc.spans[{CHUNKS_KEY!r}] (has it a chunker?)"
            )
        return _phrase_tags(doc.spans[CHUNKS_KEY], len(doc), "iob2", where)
    if not doc.has_annotation("ENT_IOB", require_complete=True):
        raise PredictionError(f"{where}: the pipeline set no entities (has it an NER component?)")
    return _phrase_tags(doc.ents, len(doc), "iob1", where)


def _phrase_tags(spans: Iterable[Span], length: int, scheme: str, where: str) -> List[str]:
    """Spans as one tag per token in `scheme`."""
    try:
        return spans_to_tags([(s.start, s.end, s.label_) for s in spans], length, scheme)
    except TagSchemeError as err:
        raise PredictionError(f"{where}: {err}") from None


def output_lines(sentence: Sentence, tags: List[str], delimiter: str) -> Iterator[str]:
    """The sentence's original lines, each token line followed by `delimiter` and its tag."""
    yield from sentence.lines_before
    for row, tag in zip(sentence.rows, tags):
        yield f"{row.text.rstrip()}{delimiter}{tag}"
    yield from sentence.lines_after


def load_pipeline(model: str, gpu_id: int = -1) -> Language:
    """spacy.load the model (on GPU `gpu_id` when >= 0); one-line failure on the CLI."""
    if gpu_id >= 0:
        spacy.require_gpu(gpu_id)
    try:
        return spacy.load(model)
    except OSError as err:
        fail(f"cannot load model {model}: {err}")


@app.command("predict")
def predict_cli(
    model: str = typer.Argument(..., help="Pipeline package name or folder for spacy.load."),
    input_path: Path = typer.Argument(..., help="Corpus file to tag (.gz is read transparently)."),
    output_path: Path = typer.Argument(..., help="Output: the input plus a prediction column."),
    fmt: CorpusFormat = typer.Option(..., "--format", "-f", help=FORMAT_HELP),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", "-b", min=1),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU to use; -1 for the CPU."),
) -> None:
    """Tag INPUT with MODEL; write OUTPUT = INPUT plus a column (tag, IOB2 chunk or IOB1 NE)."""
    nlp = load_pipeline(model, gpu_id)
    try:
        stats = predict(nlp, input_path, output_path, fmt.value, batch_size)
    except SennaFormatError as err:
        fail(str(err))
    except PredictionError as err:
        fail(f"{input_path}, {err}")
    except OSError as err:
        fail(f"cannot write {output_path}: {err}")
    msg.good(
        f"Tagged {stats.n_sentences:,} sentences ({stats.n_tokens:,} tokens) -> {output_path}"
    )
