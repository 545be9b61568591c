"""Copy the jointly trained pipeline for packaging, with a sentencizer first.

Its SRL component saves `predicates = "auto"`: the given predicates when a doc has them (as
in training and scoring), else its own detector's, so nothing else needs changing.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from package_single import with_sentencizer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    with_sentencizer(args.input, args.output)
    print(f"Wrote {args.output} (a sentencizer first)")


if __name__ == "__main__":
    main()
