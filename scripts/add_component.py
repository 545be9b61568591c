"""Add a trained component, sourced from another pipeline, at the end of a pipeline folder.

    python scripts/add_component.py training/senna senna_srl training/srl/model-best

The component keeps its own weights and tables (spaCy's `add_pipe(source=...)`); the folder
is rewritten in place.
"""
import argparse
from pathlib import Path

import spacy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("pipeline", type=Path)
    parser.add_argument("name", help="the component's name in the source pipeline")
    parser.add_argument("source", type=Path, help="the trained pipeline holding it")
    args = parser.parse_args()
    nlp = spacy.load(args.pipeline)
    source = spacy.load(args.source)
    if args.name not in source.pipe_names:
        parser.error(f"{args.source} has no component {args.name!r}; its pipeline: {source.pipe_names}")
    if args.name in nlp.pipe_names:
        nlp.remove_pipe(args.name)
    nlp.add_pipe(args.name, source=source)
    nlp.to_disk(args.pipeline)
    print(f"{args.pipeline}: {nlp.pipe_names}")


if __name__ == "__main__":
    main()
