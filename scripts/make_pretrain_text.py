"""Raw text for pre-training as JSONL ({"text": ...} a line): Brown plus the training splits' words.

Only training text goes in (never dev or test). Users with more text (e.g. a Wikipedia dump
as plain text, one paragraph a line) add it with --extra.
"""
import gzip
from pathlib import Path
from typing import Iterator, List

import srsly
import typer

from spacy_senna.readers import read_sentences


def brown_lines(path: Path) -> Iterator[str]:
    with gzip.open(path, "rt", encoding="utf8") as file:
        yield from (line.strip() for line in file if line.strip())


def main(
    output: Path,
    brown: Path = typer.Option(..., help="brown_raw.txt.gz: one tokenised sentence a line"),
    wsj: Path = typer.Option(None), conll2000: Path = typer.Option(None),
    conll2003: Path = typer.Option(None), conll2005: Path = typer.Option(None),
    extra: List[Path] = typer.Option([], help="More plain-text files, one text a line"),
) -> None:
    def texts() -> Iterator[dict]:
        yield from ({"text": line} for line in brown_lines(brown))
        for fmt, path in (("wsj", wsj), ("conll2000", conll2000), ("conll2003", conll2003), ("conll2005", conll2005)):
            if path is not None:
                yield from ({"text": " ".join(s.words)} for s in read_sentences(path, fmt))
        for path in extra:
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt", encoding="utf8") as file:
                yield from ({"text": line.strip()} for line in file if line.strip())

    output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_jsonl(output, texts())
    typer.echo(f"Wrote {output}")


if __name__ == "__main__":
    typer.run(main)
