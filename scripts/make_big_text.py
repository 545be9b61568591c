"""Write a big plain-text file (one sentence a line) by repeating a corpus's sentences until
it holds --words words, for the `annotate` throughput and memory run.

    python scripts/make_big_text.py assets/ptb_pos/wsj_dev.tsv.gz corpus/wsj_dev_10M.txt --format wsj --words 10000000
"""
from pathlib import Path

import typer

from spacy_senna.readers import FORMATS, read_sentences


def main(
    input_path: Path = typer.Argument(..., help="Corpus file whose sentences are repeated."),
    output: Path = typer.Argument(..., help="Plain text out, one sentence a line."),
    fmt: str = typer.Option("wsj", "--format", help=f"One of {', '.join(FORMATS)}."),
    words: int = typer.Option(10_000_000, "--words", min=1, help="Stop once this many words are written."),
) -> None:
    lines = [" ".join(sentence.words) for sentence in read_sentences(input_path, fmt)]
    lengths = [len(line.split(" ")) for line in lines]
    if not lines:
        raise typer.BadParameter(f"{input_path}: no sentences")
    output.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with output.open("w", encoding="utf8") as out:
        while written < words:
            for line, n in zip(lines, lengths):
                out.write(line + "\n")
                written += n
                if written >= words:
                    break
    typer.echo(f"{output}: {written:,} words")


if __name__ == "__main__":
    typer.run(main)
