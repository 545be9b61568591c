"""`convert`: a corpus file to spaCy's binary DocBin format (.spacy)."""
from dataclasses import dataclass
from pathlib import Path
from typing import List

import typer
from spacy.tokens import DocBin
from spacy.vocab import Vocab
from wasabi import msg

from ..brown import brown_docs
from ..readers import SennaFormatError, read_docs_split
from ._util import FORMAT_HELP, CorpusFormat, app, atomic_path, fail, one_line

STRIPPED_SUFFIXES = (".txt", ".tsv", ".tar", ".mrg")


@dataclass(frozen=True)
class WrittenFile:
    """A .spacy file written by `convert`, with how much it holds."""

    path: Path
    n_docs: int
    n_tokens: int


def output_stem(input_path: Path) -> str:
    """Output name stem: drop a trailing .gz, then .txt/.tsv ('wsj_train.tsv.gz' -> 'wsj_train')."""
    name = input_path.name
    if name.endswith(".gz"):
        name = name[: -len(".gz")]
    for suffix in STRIPPED_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def convert(
    input_path: Path, output_dir: Path, fmt: str, hold_out: int = 0
) -> List[WrittenFile]:
    """Write INPUT as OUTPUT_DIR/<stem>.spacy (and <stem>.heldout.spacy for the last `hold_out`)."""
    kept = DocBin(store_user_data=True)
    held = DocBin(store_user_data=True)
    n_tokens = {False: 0, True: 0}
    for doc, is_held_out in read_docs_split(input_path, fmt, None, hold_out):
        (held if is_held_out else kept).add(doc)
        n_tokens[is_held_out] += len(doc)
    make_output_dir(output_dir)
    stem = output_stem(input_path)
    written = [_write(kept, output_dir / f"{stem}.spacy", n_tokens[False])]
    if hold_out:
        written.append(_write(held, output_dir / f"{stem}.heldout.spacy", n_tokens[True]))
    return written


def make_output_dir(output_dir: Path) -> None:
    """Make the output folder (and its parents); an OSError naming a file in its place."""
    if output_dir.exists() and not output_dir.is_dir():
        raise NotADirectoryError(f"{output_dir} is a file, not a folder")
    output_dir.mkdir(parents=True, exist_ok=True)


def _write(doc_bin: DocBin, path: Path, n_tokens: int) -> WrittenFile:
    """Save a DocBin (replacing `path` only once complete) and describe what was saved."""
    with atomic_path(path) as partial:
        doc_bin.to_disk(partial)
    return WrittenFile(path, len(doc_bin), n_tokens)


@app.command("convert")
def convert_cli(
    input_path: Path = typer.Argument(..., help="Corpus file (.gz is read transparently)."),
    output_dir: Path = typer.Argument(..., help="Folder for the .spacy files (made if missing)."),
    fmt: CorpusFormat = typer.Option(..., "--format", "-f", help=FORMAT_HELP),
    hold_out: int = typer.Option(
        0, "--hold-out", min=0, help="Write the last N sentences to <stem>.heldout.spacy."
    ),
) -> None:
    """Convert a WSJ / CoNLL-2000 / CoNLL-2003 / CoNLL-2005 file or PTB trees to OUTPUT_DIR/<stem>.spacy."""
    try:
        written = convert(input_path, output_dir, fmt.value, hold_out)
    except SennaFormatError as err:
        fail(str(err))
    except OSError as err:
        fail(f"cannot write to {output_dir}: {one_line(err)}")
    for file in written:
        msg.good(f"Wrote {file.n_docs:,} docs ({file.n_tokens:,} tokens) to {file.path}")


@app.command("convert-brown")
def convert_brown_cli(
    input_path: Path = typer.Argument(..., help="NLTK's tagged Brown corpus: brown.zip, its folder or one text file."),
    output_dir: Path = typer.Argument(..., help="Folder for brown.spacy (made if missing)."),
) -> None:
    """Convert the tagged Brown corpus to OUTPUT_DIR/brown.spacy, tags in token._.brown_tag.

    The auxiliary task of configs/pos_brown.cfg: a second tag set for multi-task training."""
    doc_bin = DocBin(store_user_data=True)
    n_tokens = 0
    try:
        for doc in brown_docs(input_path, Vocab()):
            doc_bin.add(doc)
            n_tokens += len(doc)
        make_output_dir(output_dir)
        written = _write(doc_bin, output_dir / "brown.spacy", n_tokens)
    except SennaFormatError as err:
        fail(str(err))
    except OSError as err:
        fail(f"cannot write to {output_dir}: {one_line(err)}")
    msg.good(f"Wrote {written.n_docs:,} docs ({written.n_tokens:,} tokens) to {written.path}")
