"""Package each single-task model as its own wheel: packages/en_senna_<task>-<version>/dist/.

Each model is staged with a sentencizer first (`with_sentencizer`), so that the packaged
pipeline has `doc.sents` and its components label each sentence alone.
"""
import argparse
import subprocess
import sys
from pathlib import Path

import spacy


def with_sentencizer(model: Path, output: Path) -> Path:
    """Save the pipeline at `model` to `output` with spaCy's sentencizer first (if it has none)."""
    nlp = spacy.load(model)
    if "sentencizer" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer", first=True)
    nlp.to_disk(output)
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True)
    parser.add_argument("--tasks", nargs="+", default=["pos", "chunk", "ner", "srl"])
    args = parser.parse_args()
    for task in args.tasks:
        staged = with_sentencizer(Path("training") / task / "model-best", Path("training") / f"{task}_package")
        command = [
            sys.executable, "-m", "spacy", "package", str(staged), "packages",
            "--name", f"senna_{task}", "--version", args.version, "--build", "wheel", "--force",
        ]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
