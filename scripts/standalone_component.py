"""Save one component of a multi-task pipeline on its own, with its own copy of the shared layers.

    python scripts/standalone_component.py MODEL COMPONENT OUTPUT [--upstream tok2vec]

The component listens to the shared `tok2vec` (configs/pos_brown.cfg, configs/multitask.cfg);
`nlp.replace_listeners` gives it a copy of that model, then every other component is removed.
The result loads and is sourced like a single-task model (e.g. by `spacy assemble`).
"""
from pathlib import Path

import spacy
import typer
from wasabi import msg


def main(
    model: Path = typer.Argument(..., help="The multi-task pipeline folder."),
    component: str = typer.Argument(..., help="The component to keep."),
    output: Path = typer.Argument(..., help="Folder for the one-component pipeline."),
    upstream: str = typer.Option("tok2vec", help="The shared component it listens to."),
) -> None:
    nlp = spacy.load(model)
    if component not in nlp.pipe_names or upstream not in nlp.pipe_names:
        msg.fail(f"{model} has no {component!r} or no {upstream!r}: its components are {nlp.pipe_names}", exits=1)
    if component not in getattr(nlp.get_pipe(upstream), "listening_components", []):
        msg.fail(f"{component!r} does not listen to {upstream!r} in {model}", exits=1)
    nlp.replace_listeners(upstream, component, ["model.tok2vec"])
    for name in list(nlp.pipe_names):
        if name != component:
            nlp.remove_pipe(name)
    output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    msg.good(f"Saved {component} alone, with its own copy of {upstream}, to {output}")


if __name__ == "__main__":
    typer.run(main)
