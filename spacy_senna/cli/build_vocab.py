"""`build-vocab`: a word list in frequency order, shared by pre-training and training configs."""
from collections import Counter
from pathlib import Path
from typing import Iterator, List

import spacy
import typer
from tqdm import tqdm

from ..lexicon import PADDING, UNKNOWN, normalize_word
from ..readers import SennaFormatError, read_lines, text_record
from ._util import app, fail, is_stdout, one_line, open_output

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")


def read_texts(path: Path) -> Iterator[str]:
    """The non-blank lines of a text file (.gz gunzipped), or the "text" field of each line
    of a .jsonl / .jsonl.gz file; a SennaFormatError names the file and line of a problem."""
    is_jsonl = path.name.endswith(JSONL_SUFFIXES)
    for line_no, line in read_lines(path):
        if not line.strip():
            continue
        if not is_jsonl:
            yield line
            continue
        yield text_record(path, line, line_no)["text"]


@app.command("build-vocab")
def build_vocab_cli(
    output: Path = typer.Argument(..., help="The word list to write (one normalised word a line; - for stdout)."),
    inputs: List[Path] = typer.Argument(..., help="Text files (one text a line, .gz ok) or JSONL (.jsonl, .jsonl.gz) with a \"text\" field."),
    max_words: int = typer.Option(130_000, "--max-words", min=3, help="Size of the list, PADDING and UNKNOWN included."),
    min_count: int = typer.Option(1, "--min-count", min=1, help="Leave out words seen fewer times."),
) -> None:
    """Count SENNA's normalised words (lower-case, digits as 0) with spaCy's English tokenizer
    and write the most frequent ones, most frequent first, for SennaEmbed's `word_list`."""
    tokenizer = spacy.blank("en").tokenizer
    counts: Counter = Counter()
    try:
        for path in inputs:
            texts = tokenizer.pipe(read_texts(path), batch_size=1000)
            for doc in tqdm(texts, desc=path.name, unit=" texts"):
                counts.update(normalize_word(token.text) for token in doc if not token.is_space)
    except SennaFormatError as err:
        fail(str(err))
    words = [w for w, c in counts.most_common() if c >= min_count and w not in (PADDING, UNKNOWN)]
    words = [PADDING, UNKNOWN] + words[: max_words - 2]
    try:
        with open_output(output) as file:
            file.writelines(word + "\n" for word in words)
    except OSError as err:
        fail(f"cannot write {output}: {one_line(err)}")
    typer.echo(
        f"Wrote {len(words):,} words to {output} ({sum(counts.values()):,} tokens counted)",
        err=is_stdout(output),  # stdout may hold the list
    )
