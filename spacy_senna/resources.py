"""User-supplied SENNA v3 resources: the word list, its 50-d embeddings, the gazetteers.

SENNA's licence forbids redistributing its files, so they are only ever read from a path the
user gives: `hash/words.lst` (one word a line, lower-cased, digits as 0, with PADDING and
UNKNOWN entries), `embeddings/embeddings.txt` (one vector a line, in the same order) and the
gazetteer lists `hash/ner.<class>.lst` (with `data/ner.<class>.dat`, which marks their real
entries); lists of one's own are read from a folder as `<CLASS>.lst`.
"""
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy
import spacy
from spacy.language import Language
from spacy.vectors import Vectors

from .lexicon import normalize_word


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


def find_gazetteers(folder: str, classes: Sequence[str] = ("LOC", "MISC", "ORG", "PER")) -> Dict[str, str]:
    """The list file of each class in a folder: `ner.<class>.lst` (SENNA) or `<CLASS>.lst`."""
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"gazetteer folder not found: {folder}")
    found = {}
    for name in classes:
        for candidate in (Path(folder) / f"ner.{name.lower()}.lst", Path(folder) / f"{name}.lst"):
            if candidate.exists():
                found[name] = str(candidate)
                break
    if not found:
        raise FileNotFoundError(f"no gazetteer lists (ner.loc.lst or LOC.lst, ...) in {folder}")
    return found


def read_gazetteer(path: Path) -> List[str]:
    """One entry a line, normalised as SENNA's words; UTF-8, or Latin-1 (as SENNA's own lists).

    SENNA's hash/ner.*.lst also list every prefix of an entry; its data/ner.*.dat (one byte a
    line, 1 = a real entry) says which lines are entries. When that file sits where SENNA
    keeps it, only the lines it marks are read.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"gazetteer list not found: {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    admissible = path.parent.parent / "data" / f"{path.stem}.dat"
    if admissible.exists():
        marks = admissible.read_bytes()
        if len(marks) != len(lines):
            raise ValueError(f"{admissible} has {len(marks)} bytes but {path} has {len(lines)} lines")
        lines = [line for line, mark in zip(lines, marks) if mark]
    entries = {" ".join(normalize_word(word) for word in line.split()) for line in lines}
    entries.discard("")
    if not entries:
        raise ValueError(f"gazetteer list {path} has no entries")
    return sorted(entries)
