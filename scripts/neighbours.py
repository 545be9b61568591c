"""Nearest neighbours (cosine) of a few words in the word table, before and after pre-training.

"Before" is the table the component starts from without pre-training (its random
initialisation); "after" is the table written by `spacy pretrain` (an init_tok2vec file).
With --trained, a third column shows the table of a trained pipeline's component.

    python scripts/neighbours.py configs/pos_pretrain.cfg pretrain/pos/model-last.bin \
        --words corpus/words.lst --trained training/pos_wordlist/model-best --output metrics/neighbours.md
"""
from pathlib import Path
from typing import Dict, List, Optional

import numpy
import spacy
import typer
from spacy import util
from thinc.api import Model

from spacy_senna.layers.embed import embed_layers

DEFAULT_PROBES = "france,monday,bank,said,good,three,company,john,quickly,oil"


def embed_layer(model: Model) -> Model:
    """The SENNA lookup-table layer of a component's model (it holds the word table and its vocabulary)."""
    found = embed_layers(model)
    if not found:
        raise ValueError(f"no SENNA lookup tables in {model.name}")
    return found[0]


def word_table(layer: Model) -> Dict[str, numpy.ndarray]:
    return {"rows": layer.ops.to_numpy(layer.get_param("W_word")), "words": layer.attrs["tables"].words}


def neighbours(table: Dict, word: str, k: int) -> List[str]:
    """The k words whose rows are closest (cosine) to `word`'s row."""
    index = table["words"].index(word)
    rows = table["rows"] / (numpy.linalg.norm(table["rows"], axis=1, keepdims=True) + 1e-8)
    similarity = rows @ rows[index]
    similarity[[0, 1, index]] = -numpy.inf  # PADDING, UNKNOWN and the word itself
    return [table["words"][i] for i in numpy.argsort(-similarity)[:k]]


def main(
    config_path: Path = typer.Argument(..., help="Training config whose component was pre-trained."),
    weights: Path = typer.Argument(..., help="init_tok2vec file written by `spacy pretrain`."),
    words: Path = typer.Option(..., "--words", help="The word list shared by pre-training and training."),
    component: str = typer.Option("senna_tagger", "--component"),
    trained: Optional[Path] = typer.Option(None, "--trained", help="Also show a trained pipeline's table."),
    probes: str = typer.Option(DEFAULT_PROBES, "--probes", help="Comma-separated words to look up."),
    k: int = typer.Option(5, "--k", min=1),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write the Markdown table here."),
) -> None:
    config = util.load_config(config_path, overrides={"paths.words": str(words)}, interpolate=False)
    nlp = util.load_model_from_config(config, auto_fill=True, validate=True)
    tok2vec = nlp.get_pipe(component).model.get_ref("tok2vec")
    tok2vec.initialize()
    tables = {"random init (no pre-training)": word_table(embed_layer(tok2vec))}
    tok2vec.from_bytes(weights.read_bytes())
    tables["after pre-training"] = word_table(embed_layer(tok2vec))
    if trained is not None:
        trained_model = spacy.load(trained).get_pipe(component).model
        tables[f"trained tagger ({trained})"] = word_table(embed_layer(trained_model))
    lines = ["| word | " + " | ".join(tables) + " |", "|---" * (len(tables) + 1) + "|"]
    for word in probes.split(","):
        if not all(word in table["words"] for table in tables.values()):
            typer.echo(f"skipped {word!r}: not in every table's vocabulary", err=True)
            continue
        cells = [", ".join(neighbours(table, word, k)) for table in tables.values()]
        lines.append(f"| {word} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    typer.echo(text)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf8")


if __name__ == "__main__":
    typer.run(main)
