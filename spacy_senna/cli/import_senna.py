"""`import-senna`: a user's SENNA v3 embeddings as a spaCy vectors pipeline."""
from pathlib import Path

import typer

from ..resources import SennaResourceError, senna_vectors_pipeline
from ._util import app, fail, one_line


@app.command("import-senna")
def import_senna_cli(
    senna_dir: Path = typer.Argument(..., help="A SENNA v3 folder (hash/words.lst, embeddings/embeddings.txt)."),
    output_dir: Path = typer.Argument(..., help="Where to write a blank pipeline holding the vectors."),
) -> None:
    """Write SENNA's word embeddings as a pipeline for `[initialize] vectors`; set
    `pretrained_vectors = true` on SennaEmbed to start the word table from them."""
    try:
        nlp = senna_vectors_pipeline(senna_dir)
    except (SennaResourceError, UnicodeDecodeError) as err:
        fail(str(err))
    try:
        nlp.to_disk(output_dir)
    except OSError as err:
        fail(f"cannot write {output_dir}: {one_line(err)}")
    rows, width = nlp.vocab.vectors.shape
    typer.echo(f"Wrote {rows:,} vectors of {width} dimensions to {output_dir}")
