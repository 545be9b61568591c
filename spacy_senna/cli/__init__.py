"""Command-line interface: `spacy-senna COMMAND` or `python -m spacy_senna COMMAND`.

Each command lives in its own module that registers itself on `app` when imported;
a new command is a new module here plus one import line below.
"""
from ._util import app
from . import bench, convert, evaluate, predict  # noqa: F401  (registers the commands)
from . import annotate, bench_senna, make_senna_dir, tag  # noqa: F401  (SENNA drop-in and big-file commands)
from . import build_gazetteers, build_vocab, half_tables, import_senna, import_vectors, label_silver  # noqa: F401


def main() -> None:
    """Entry point of the `spacy-senna` console script."""
    app(prog_name="spacy-senna")
