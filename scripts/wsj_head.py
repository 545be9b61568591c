"""Write a .spacy file without its last N docs (e.g. WSJ 00-18 -> 00-14: drop the 8,936
sentences of sections 15-18, which are CoNLL-2000's training set)."""
import argparse
from pathlib import Path

import spacy
from spacy.tokens import DocBin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--drop-last", type=int, required=True)
    args = parser.parse_args()
    docs = list(DocBin().from_disk(args.input).get_docs(spacy.blank("en").vocab))
    if not 0 <= args.drop_last < len(docs):
        parser.error(f"{args.input} has {len(docs)} docs: cannot drop the last {args.drop_last}")
    kept = docs[: len(docs) - args.drop_last]
    DocBin(docs=kept, store_user_data=True).to_disk(args.output)
    print(f"Wrote {len(kept):,} docs to {args.output}")


if __name__ == "__main__":
    main()
