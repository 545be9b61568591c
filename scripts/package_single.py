"""Package each single-task model as its own wheel: packages/en_senna_<task>-<version>/dist/.

The SRL model is copied with `predicates = "model"` first (it was trained and scored with the
gold predicates), as the multi-task package is.
"""
import argparse
import subprocess
import sys
from pathlib import Path

import spacy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True)
    parser.add_argument("--tasks", nargs="+", default=["pos", "chunk", "ner", "srl"])
    args = parser.parse_args()
    for task in args.tasks:
        model = Path("training") / task / "model-best"
        if task == "srl":
            staged = Path("training") / "srl_package"
            nlp = spacy.load(model, config={"components": {"senna_srl": {"predicates": "model"}}})
            nlp.to_disk(staged)
            model = staged
        command = [
            sys.executable, "-m", "spacy", "package", str(model), "packages",
            "--name", f"senna_{task}", "--version", args.version, "--build", "wheel", "--force",
        ]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
