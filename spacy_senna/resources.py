"""User-supplied SENNA v3 resources: the word list and its 50-d embeddings.

SENNA's licence forbids redistributing its files, so they are only ever read from a path the
user gives: `hash/words.lst` (one word a line, lower-cased, digits as 0, with PADDING and
UNKNOWN entries) and `embeddings/embeddings.txt` (one vector a line, in the same order).
"""
from pathlib import Path
from typing import List, Tuple

import numpy
import spacy
from spacy.language import Language
from spacy.vectors import Vectors


class SennaResourceError(ValueError):
    """A SENNA file that is missing or malformed; the message names the file and line."""


def read_senna_embeddings(senna_dir: Path) -> Tuple[List[str], numpy.ndarray]:
    """The words and their vectors from a SENNA v3 directory."""
    senna_dir = Path(senna_dir)
    words_path = senna_dir / "hash" / "words.lst"
    vectors_path = senna_dir / "embeddings" / "embeddings.txt"
    for path in (words_path, vectors_path):
        if not path.exists():
            raise SennaResourceError(f"{path}: file not found (expected SENNA's layout: hash/words.lst, embeddings/embeddings.txt)")
    words = [line.rstrip("\n").strip() for line in words_path.open(encoding="utf8", errors="strict")]
    rows = []
    width = None
    with vectors_path.open(encoding="utf8") as file:
        for line_no, line in enumerate(file, start=1):
            fields = line.split()
            try:
                values = [float(field) for field in fields]
            except ValueError:
                raise SennaResourceError(f"{vectors_path}, line {line_no}: not a line of numbers") from None
            if width is None:
                width = len(values)
            if len(values) != width or width == 0:
                raise SennaResourceError(
                    f"{vectors_path}, line {line_no}: {len(values)} numbers, but line 1 has {width}"
                )
            rows.append(values)
    if len(rows) != len(words):
        raise SennaResourceError(
            f"{vectors_path} has {len(rows)} vectors but {words_path} has {len(words)} words: they must match line for line"
        )
    if not rows:
        raise SennaResourceError(f"{vectors_path}: no vectors")
    return words, numpy.asarray(rows, dtype="float32")


def senna_vectors_pipeline(senna_dir: Path, lang: str = "en") -> Language:
    """A blank pipeline whose `vocab.vectors` are SENNA's embeddings, keyed by SENNA's words."""
    words, data = read_senna_embeddings(senna_dir)
    nlp = spacy.blank(lang)
    keys = [nlp.vocab.strings.add(word) for word in words]
    nlp.vocab.vectors = Vectors(strings=nlp.vocab.strings, data=data, keys=keys)
    return nlp
