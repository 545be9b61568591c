"""`half-tables`: a pipeline whose SENNA word tables are stored as float16 (or int8), for inference."""
from pathlib import Path

import spacy
import typer
from spacy.language import Language
from spacy.strings import StringStore

from ..layers.embed import half_word_table, pipeline_embed_layers, quantize_word_table
from ._util import PipelineError, app, fail, load_pipeline


def half_word_tables(nlp: Language, int8: bool = False) -> int:
    """Halve every SENNA word table of the pipeline (shared tables once), or with `int8` store
    it as 8-bit rows with a scale each; returns the bytes saved."""
    shrink = quantize_word_table if int8 else half_word_table
    return sum(shrink(layer) for layer in pipeline_embed_layers(nlp))


def write_blank_strings(nlp: Language, vocab_dir: Path) -> int:
    """Rewrite `vocab_dir/strings.json` with only a blank pipeline's strings (its tokenizer's);
    returns how many strings went. The SENNA tables keep their own words, and a doc adds its
    own strings as it is made, so the strings that pre-trained vectors brought into the vocab
    (400,000 for GloVe: about 45 MB of memory once loaded) serve nothing at inference."""
    blank_strings = list(spacy.blank(nlp.lang).vocab.strings)
    StringStore(blank_strings).to_disk(vocab_dir / "strings.json")
    return max(0, len(nlp.vocab.strings) - len(blank_strings))


@app.command("half-tables")
def half_tables_cli(
    model: str = typer.Argument(..., help="A trained pipeline (name or folder)."),
    output_dir: Path = typer.Argument(..., help="Where to write the pipeline with float16 word tables."),
    keep_strings: bool = typer.Option(
        False, "--keep-strings", help="Keep every string of the vocab (default: only a blank pipeline's)."
    ),
    int8: bool = typer.Option(
        False, "--int8", help="Store each word table row as int8 values times a float32 scale: a quarter of float32's memory."
    ),
) -> None:
    """Write MODEL with its SENNA word tables stored as float16: about half their memory, the
    same tags to float16's precision (check with `evaluate`). With --int8, 8-bit rows with a
    scale each (row / max|row| in 255 steps): a quarter of the float32 memory. For inference
    and packaging only: training from the output is refused; train from MODEL. The vocab keeps
    only a blank pipeline's strings unless --keep-strings: the tables hold their own words."""
    try:
        nlp = load_pipeline(model)
    except PipelineError as err:
        fail(str(err))
    saved = half_word_tables(nlp, int8)
    if not saved:
        fail(f"{model} has no float16 or float32 SENNA word table to store as int8" if int8 else f"{model} has no float32 SENNA word table to halve")
    try:
        nlp.to_disk(output_dir)
        dropped = 0 if keep_strings else write_blank_strings(nlp, Path(output_dir) / "vocab")
    except OSError as err:
        fail(f"cannot write {output_dir}: {err}")
    typer.echo(
        f"Wrote {output_dir}: word tables in {'int8' if int8 else 'float16'}, {saved / 2**20:.1f} MB smaller; "
        f"{dropped:,} vocab strings dropped"
    )
