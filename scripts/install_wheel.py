"""Install a pipeline wheel without its dependencies (they are already here: spaCy, spacy-senna).

    python scripts/install_wheel.py WHEEL [--target DIR]

With an empty or no --target the wheel goes into this Python environment (replacing an
installed version); with a folder it goes there (`pip install --target`), e.g. for tests.
"""
import argparse
import subprocess
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--target", default="", help="Install into this folder instead.")
    args = parser.parse_args()
    if not args.wheel.exists():
        print(f"No such wheel: {args.wheel}", file=sys.stderr)
        return 1
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--force-reinstall"]
    if args.target:
        command += ["--upgrade", "--target", args.target]
    return subprocess.call(command + [str(args.wheel)])


if __name__ == "__main__":
    sys.exit(main())
