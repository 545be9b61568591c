"""SENNA's token features: normalised word, capitalisation class and suffix, as integer ids."""
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar, Union

import numpy
import srsly
from spacy.attrs import ORTH
from spacy.strings import StringStore
from spacy.tokens import Doc
from thinc.api import Model, deserialize_attr, serialize_attr
from thinc.types import Ints2d

PADDING_ID = 0
UNKNOWN_ID = 1
PADDING = "PADDING"
UNKNOWN = "UNKNOWN"

# Capitalisation classes (SENNA's caps.lst, with PADDING first)
CAPS_CLASSES = ("PADDING", "nocaps", "allcaps", "initcap", "hascap")
N_CAPS = len(CAPS_CLASSES)

_DIGIT = re.compile(r"\d")
_MAX_CACHE = 1_000_000
T = TypeVar("T")


def fold_digits(text: str) -> str:
    """Every digit becomes '0'."""
    return _DIGIT.sub("0", text)


def normalize_word(text: str) -> str:
    """SENNA's word normalisation: lower-case, every digit becomes '0'."""
    return fold_digits(text.lower())


def cached_by_orth(
    cache: Dict[int, T], orths: Iterable[int], strings: StringStore, compute: Callable[[str], T]
) -> List[T]:
    """`compute(text)` of each orth id's text, cached by id (ids are hashes of the text, so
    the cache serves any vocab); the cache is emptied once it holds over a million entries."""
    if len(cache) > _MAX_CACHE:
        cache.clear()
    values = []
    for orth in orths:
        value = cache.get(orth)
        if value is None:
            value = cache[orth] = compute(strings[orth])
        values.append(value)
    return values


def caps_class(text: str) -> int:
    """Capitalisation class id: 1 no capitals, 2 all capitals, 3 initial capital, 4 other capital."""
    if not any(ch.isupper() for ch in text):
        return 1
    if text.isupper():
        return 2
    if text[0].isupper():
        return 3
    return 4


def word_suffix(text: str, length: int = 2) -> str:
    """The last `length` characters of the normalised word."""
    return normalize_word(text)[-length:]


class FeatureTables:
    """String -> row maps for the word and suffix tables, plus a cache from orth ids to feature rows.

    Rows 0 and 1 of both tables are PADDING and UNKNOWN. An empty instance (no words) stands
    for "not built yet", so it can be a Thinc attr that is filled in at initialisation.
    """

    def __init__(
        self,
        words: Sequence[str] = (),
        suffixes: Sequence[str] = (),
        suffix_length: int = 2,
    ) -> None:
        self.suffix_length = suffix_length
        # Interned: the tables of a pipeline's components share most words, and so their strings.
        self.words: List[str] = [PADDING, UNKNOWN] + [sys.intern(w) for w in words if w not in (PADDING, UNKNOWN)]
        self.suffixes: List[str] = [PADDING, UNKNOWN] + [s for s in suffixes if s not in (PADDING, UNKNOWN)]
        self.word_ids: Dict[str, int] = {w: i for i, w in enumerate(self.words)}
        self.suffix_ids: Dict[str, int] = {s: i for i, s in enumerate(self.suffixes)}
        self._cache: Dict[int, Tuple[int, int, int]] = {}

    @property
    def is_empty(self) -> bool:
        return len(self.words) <= 2

    @property
    def n_words(self) -> int:
        return len(self.words)

    @property
    def n_suffixes(self) -> int:
        return len(self.suffixes)

    def token_features(self, text: str) -> Tuple[int, int, int]:
        """(word row, caps class, suffix row) of one token."""
        norm = normalize_word(text)
        return (
            self.word_ids.get(norm, UNKNOWN_ID),
            caps_class(text),
            self.suffix_ids.get(norm[-self.suffix_length :], UNKNOWN_ID),
        )

    def doc_features(self, doc: Doc) -> Ints2d:
        """Feature rows of a doc, shape (len(doc), 3): word, caps, suffix."""
        return self.docs_features([doc])

    def docs_features(self, docs: Sequence[Doc]) -> Ints2d:
        """Feature rows of the docs' tokens, one after the other, shape (n_tokens, 3): each
        distinct word is looked up once."""
        orths = numpy.concatenate([doc.to_array(ORTH) for doc in docs]) if docs else numpy.zeros((0,), "uint64")
        distinct, token_row = numpy.unique(orths, return_inverse=True)
        strings = docs[0].vocab.strings if docs else None
        rows = cached_by_orth(self._cache, distinct.tolist(), strings, self.token_features)
        return numpy.array(rows, dtype="int32").reshape((len(rows), 3))[token_row.reshape((-1,))]

    @classmethod
    def from_texts(
        cls,
        texts: Iterable[str],
        *,
        min_freq: int = 1,
        max_words: int = 130_000,
        suffix_length: int = 2,
    ) -> "FeatureTables":
        """Build the tables from training tokens: the `max_words` most frequent words seen `min_freq` times."""
        counts = Counter(normalize_word(text) for text in texts)
        frequent = [w for w, c in counts.most_common() if c >= min_freq][: max(0, max_words - 2)]
        suffix_counts: Counter = Counter()
        for word, count in counts.items():
            suffix_counts[word[-suffix_length:]] += count
        suffixes = [s for s, c in suffix_counts.most_common() if c >= min_freq]
        return cls(frequent, suffixes, suffix_length=suffix_length)

    @classmethod
    def from_word_list(
        cls, path: Union[str, Path], *, suffix_length: int = 2, suffixes: Optional[Sequence[str]] = None
    ) -> "FeatureTables":
        """Read a word list, one word a line (e.g. SENNA's hash/words.lst), in row order."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"word list not found: {path}")
        words = [line.strip() for line in path.open(encoding="utf8")]
        words = [w for w in words if w]
        if not words:
            raise ValueError(f"word list {path} is empty")
        if suffixes is None:
            suffixes = sorted({w[-suffix_length:] for w in words if w not in (PADDING, UNKNOWN)})
        return cls(words, suffixes, suffix_length=suffix_length)

    def to_bytes(self) -> bytes:
        msg = {"words": self.words, "suffixes": self.suffixes, "suffix_length": self.suffix_length}
        return srsly.msgpack_dumps(msg)

    @classmethod
    def from_bytes(cls, data: bytes) -> "FeatureTables":
        msg = srsly.msgpack_loads(data)
        return cls(msg["words"], msg["suffixes"], suffix_length=msg["suffix_length"])


@serialize_attr.register(FeatureTables)
def _serialize_tables(_: FeatureTables, value: FeatureTables, name: str, model: Model) -> bytes:
    return value.to_bytes()


@deserialize_attr.register(FeatureTables)
def _deserialize_tables(_: FeatureTables, value: bytes, name: str, model: Model) -> FeatureTables:
    return FeatureTables.from_bytes(value)
