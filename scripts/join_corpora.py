"""Write the docs of several .spacy files, one file after another, as one .spacy file (e.g.
the gold chunking corpus followed by a silver one from `label-silver`)."""
import argparse
from pathlib import Path

from spacy.tokens import DocBin

from spacy_senna.util import one_line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", type=Path, nargs="+")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    joined = DocBin(store_user_data=True)
    for path in args.inputs:
        try:
            joined.merge(DocBin(store_user_data=True).from_disk(path))
        except Exception as err:  # a missing file, or one that is not a DocBin
            parser.error(f"{path}: cannot read it as a .spacy corpus ({one_line(err)})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    joined.to_disk(args.output)
    print(f"Wrote {len(joined):,} docs from {len(args.inputs)} files to {args.output}")


if __name__ == "__main__":
    main()
