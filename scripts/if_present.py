"""Run a command only when all the given files exist (for the optional test splits).

    python scripts/if_present.py FILE [FILE ...] [--else-remove OUTPUT] -- COMMAND [ARGS ...]

When a FILE is missing it prints what it skips, deletes OUTPUT if given (so no stale result
of an earlier run outlives its input) and exits 0; otherwise it runs COMMAND (a leading
`python` is this interpreter, as in `spacy project run`) and exits with its status.
"""
import subprocess
import sys
from pathlib import Path
from typing import List

USAGE = __doc__.strip().splitlines()[2].strip()


def main(argv: List[str]) -> int:
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        print(f"usage: {USAGE}", file=sys.stderr)
        return 2
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    files: List[Path] = []
    stale: List[Path] = []
    while options:
        arg = options.pop(0)
        if arg == "--else-remove":
            if not options:
                print(f"usage: {USAGE}", file=sys.stderr)
                return 2
            stale.append(Path(options.pop(0)))
        else:
            files.append(Path(arg))
    if not files:
        print(f"usage: {USAGE}", file=sys.stderr)
        return 2
    missing = [str(p) for p in files if not p.exists()]
    if missing:
        print(f"Skipping (not present: {', '.join(missing)}): {' '.join(command)}")
        for path in stale:
            if path.exists():
                path.unlink()
                print(f"Removed {path}: its input is gone")
        return 0
    if command[0] in ("python", "python3"):
        command[0] = sys.executable
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
