"""Copy the jointly trained pipeline for packaging, with its SRL finding predicates itself.

It was trained and scored with the gold predicates (`predicates = "given"`); users have none,
so the packaged pipeline uses the SRL component's own predicate detector by default.
"""
import argparse
from pathlib import Path

import spacy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--predicates", default="model", choices=["model", "pos", "given"])
    args = parser.parse_args()
    nlp = spacy.load(args.input, config={"components": {"senna_srl": {"predicates": args.predicates}}})
    nlp.to_disk(args.output)
    print(f"Wrote {args.output} (senna_srl predicates = {args.predicates!r})")


if __name__ == "__main__":
    main()
