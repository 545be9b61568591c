"""`label-silver`: a teacher pipeline's annotation of a corpus's words, as a new .spacy corpus
(self-training: a slower, more accurate model labels text that a fast one then trains on)."""
import random
from pathlib import Path
from typing import List

import typer
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab
from tqdm import tqdm

from ..util import words_only
from ._util import DEFAULT_BATCH_SIZE, ENSEMBLE_HELP, PipelineError, app, atomic_path, fail, join_members, load_pipeline, one_line


def read_words(path: Path, vocab: Vocab) -> List[Doc]:
    """The docs of a .spacy file with their words and spaces only (no annotation); a
    ValueError naming the file when it is missing or not a DocBin."""
    try:
        docs = list(DocBin().from_disk(path).get_docs(vocab))
    except Exception as err:  # OSError, msgpack and zlib errors, a DocBin's own ValueError...
        raise ValueError(f"{path}: cannot read it as a .spacy corpus ({one_line(err)})") from None
    return [words_only(doc) for doc in docs]


def sampled(docs: List[Doc], max_docs: int, seed: int) -> List[Doc]:
    """`max_docs` of the docs drawn at random with `seed`, in corpus order (0: all of them)."""
    if max_docs <= 0 or max_docs >= len(docs):
        return docs
    keep = sorted(random.Random(seed).sample(range(len(docs)), max_docs))
    return [docs[i] for i in keep]


@app.command("label-silver")
def label_silver_cli(
    model: str = typer.Argument(..., help="The teacher: a trained pipeline (folder or package)."),
    input_path: Path = typer.Argument(..., help="A .spacy corpus; only its words are read."),
    output_path: Path = typer.Argument(..., help="The .spacy file to write: those words with the teacher's annotation."),
    max_docs: int = typer.Option(0, "--max-docs", "-n", min=0, help="Label this many docs, drawn at random (0: all)."),
    seed: int = typer.Option(0, "--seed", help="The random draw of --max-docs."),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", min=1, help="Docs per nlp.pipe batch."),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, or -1 for CPU."),
    ensemble: List[str] = typer.Option([], "--ensemble", "-e", help=ENSEMBLE_HELP),
) -> None:
    """Write a silver corpus: the words of INPUT_PATH as MODEL annotates them (its tags, entities
    and span groups), for training a faster model on more text than the gold corpus holds."""
    try:
        nlp = load_pipeline(model, gpu_id)
        join_members(nlp, ensemble, gpu_id)
        docs = sampled(read_words(input_path, nlp.vocab), max_docs, seed)
    except (PipelineError, ValueError) as err:
        fail(str(err))
    if not docs:
        fail(f"{input_path}: no docs to label")
    silver = DocBin(store_user_data=False)
    n_words = 0
    for doc in tqdm(nlp.pipe(docs, batch_size=batch_size), total=len(docs), desc="label-silver", unit="doc", leave=False):
        silver.add(doc)
        n_words += len(doc)
    with atomic_path(output_path) as partial:
        silver.to_disk(partial)
    teacher = " + ".join([model, *ensemble])
    typer.echo(f"{len(docs):,} docs, {n_words:,} words labelled by {teacher} -> {output_path}")
