"""`build-vocab`: a word list in frequency order, shared by pre-training and training configs."""
import gzip
from collections import Counter
from pathlib import Path
from typing import Iterator, List

import spacy
import srsly
import typer
from tqdm import tqdm

from ..features import PADDING, UNKNOWN, normalize_word
from ._util import app, fail


def read_texts(path: Path) -> Iterator[str]:
    """Lines of a text file (.gz read as is), or the "text" field of each JSONL line."""
    if not path.exists():
        fail(f"{path}: file not found")
    if path.name.endswith((".jsonl", ".jsonl.gz")):
        for line_no, record in enumerate(srsly.read_jsonl(path), start=1):
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                fail(f"{path}, line {line_no}: expected a JSON object with a \"text\" string")
            yield record["text"]
        return
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf8") as file:
        yield from (line for line in file if line.strip())


@app.command("build-vocab")
def build_vocab_cli(
    output: Path = typer.Argument(..., help="The word list to write (one normalised word a line)."),
    inputs: List[Path] = typer.Argument(..., help="Text files (one text a line, .gz ok) or JSONL with a \"text\" field."),
    max_words: int = typer.Option(130_000, "--max-words", min=3, help="Size of the list, PADDING and UNKNOWN included."),
    min_count: int = typer.Option(1, "--min-count", min=1, help="Leave out words seen fewer times."),
) -> None:
    """Count SENNA's normalised words (lower-case, digits as 0) with spaCy's English tokenizer
    and write the most frequent ones, most frequent first, for SennaEmbed's `word_list`."""
    tokenizer = spacy.blank("en").tokenizer
    counts: Counter = Counter()
    for path in inputs:
        for doc in tqdm(tokenizer.pipe(read_texts(path), batch_size=1000), desc=path.name, unit=" texts"):
            counts.update(normalize_word(token.text) for token in doc if not token.is_space)
    words = [w for w, c in counts.most_common() if c >= min_count and w not in (PADDING, UNKNOWN)]
    words = [PADDING, UNKNOWN] + words[: max_words - 2]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(word + "\n" for word in words), encoding="utf8")
    typer.echo(f"Wrote {len(words):,} words to {output} ({sum(counts.values()):,} tokens counted)")
