"""`half-tables`: a pipeline whose SENNA word tables are stored as float16, for inference."""
from pathlib import Path

import typer
from spacy.language import Language

from ..layers.embed import half_word_table, pipeline_embed_layers
from ._util import PipelineError, app, fail, load_pipeline


def half_word_tables(nlp: Language) -> int:
    """Halve every SENNA word table of the pipeline (shared tables once); returns the bytes saved."""
    return sum(half_word_table(layer) for layer in pipeline_embed_layers(nlp))


@app.command("half-tables")
def half_tables_cli(
    model: str = typer.Argument(..., help="A trained pipeline (name or folder)."),
    output_dir: Path = typer.Argument(..., help="Where to write the pipeline with float16 word tables."),
) -> None:
    """Write MODEL with its SENNA word tables stored as float16: about half their memory, the
    same tags to float16's precision (check with `evaluate`). For inference and packaging only:
    training from the output is refused; train from MODEL."""
    try:
        nlp = load_pipeline(model)
    except PipelineError as err:
        fail(str(err))
    saved = half_word_tables(nlp)
    if not saved:
        fail(f"{model} has no float32 SENNA word table to halve")
    try:
        nlp.to_disk(output_dir)
    except OSError as err:
        fail(f"cannot write {output_dir}: {err}")
    typer.echo(f"Wrote {output_dir}: word tables in float16, {saved / 2**20:.1f} MB smaller")
