"""SENNA's token features: normalised word, capitalisation class and suffix, as integer ids."""
import re
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar, Union

import numpy
import srsly
from spacy.attrs import ORTH
from spacy.strings import StringStore, hash_string
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
    Words are found by their 64-bit string hash (spaCy's, as in its StringStore) in a sorted
    array: 12 bytes a word instead of a dict's ~100 with its strings and ints. Tables read
    from bytes keep the words themselves serialised until `words` is asked for (inference
    never does).
    """

    def __init__(
        self,
        words: Sequence[str] = (),
        suffixes: Sequence[str] = (),
        suffix_length: int = 2,
    ) -> None:
        self.suffix_length = suffix_length
        self.suffixes: List[str] = [PADDING, UNKNOWN] + [s for s in suffixes if s not in (PADDING, UNKNOWN)]
        self.suffix_ids: Dict[str, int] = {s: i for i, s in enumerate(self.suffixes)}
        self._cache: Dict[int, Tuple[int, int, int]] = {}
        self._packed_words: Optional[bytes] = None
        self._set_words([PADDING, UNKNOWN] + [w for w in words if w not in (PADDING, UNKNOWN)])

    def _set_words(self, words: List[str], packed: Optional[bytes] = None) -> None:
        """Index the words (row order); with `packed` (their msgpack), keep that instead of the list."""
        self._n_words = len(words)
        hashes = numpy.fromiter(map(hash_string, words), dtype="uint64", count=len(words))
        order = numpy.argsort(hashes, kind="stable")
        hashes = hashes[order]
        last = numpy.append(hashes[1:] != hashes[:-1], True)  # a repeated word: its last row, as a dict
        self._word_hashes = hashes[last]
        self._word_rows = order[last].astype("int32")
        self._words = None if packed is not None else words
        self._packed_words = packed

    @property
    def words(self) -> List[str]:
        """The words in row order."""
        if self._words is None:
            self._words = srsly.msgpack_loads(self._packed_words or srsly.msgpack_dumps([]))
            self._packed_words = None
        return self._words

    @property
    def is_empty(self) -> bool:
        return self._n_words <= 2

    @property
    def n_words(self) -> int:
        return self._n_words

    @property
    def n_suffixes(self) -> int:
        return len(self.suffixes)

    def word_rows(self, normalized: Sequence[str]) -> numpy.ndarray:
        """The word table row of each normalised word (UNKNOWN_ID for one not in the table)."""
        wanted = numpy.fromiter(map(hash_string, normalized), dtype="uint64", count=len(normalized))
        at = numpy.searchsorted(self._word_hashes, wanted).clip(0, max(0, len(self._word_hashes) - 1))
        found = self._word_hashes[at] == wanted if len(self._word_hashes) else numpy.zeros(len(wanted), bool)
        return numpy.where(found, self._word_rows[at] if len(self._word_rows) else 0, UNKNOWN_ID).astype("int32")

    def texts_features(self, texts: Sequence[str]) -> Ints2d:
        """(word row, caps class, suffix row) of each token text: shape (len(texts), 3)."""
        normalized = [normalize_word(text) for text in texts]
        rows = numpy.empty((len(texts), 3), dtype="int32")
        rows[:, 0] = self.word_rows(normalized)
        rows[:, 1] = [caps_class(text) for text in texts]
        rows[:, 2] = [self.suffix_ids.get(norm[-self.suffix_length :], UNKNOWN_ID) for norm in normalized]
        return rows

    def token_features(self, text: str) -> Tuple[int, int, int]:
        """(word row, caps class, suffix row) of one token."""
        word, caps, suffix = self.texts_features([text])[0].tolist()
        return word, caps, suffix

    def doc_features(self, doc: Doc) -> Ints2d:
        """Feature rows of a doc, shape (len(doc), 3): word, caps, suffix."""
        return self.docs_features([doc])

    def docs_features(self, docs: Sequence[Doc]) -> Ints2d:
        """Feature rows of the docs' tokens, one after the other, shape (n_tokens, 3): each
        distinct word is looked up once (and cached by orth id, which is a hash of the text)."""
        orths = numpy.concatenate([doc.to_array(ORTH) for doc in docs]) if docs else numpy.zeros((0,), "uint64")
        distinct, token_row = numpy.unique(orths, return_inverse=True)
        if len(self._cache) > _MAX_CACHE:
            self._cache.clear()
        keys = distinct.tolist()
        values = [self._cache.get(key) for key in keys]
        missing = [i for i, value in enumerate(values) if value is None]
        if missing:
            strings = docs[0].vocab.strings
            computed = self.texts_features([strings[keys[i]] for i in missing]).tolist()
            for i, row in zip(missing, computed):
                values[i] = self._cache[keys[i]] = tuple(row)
        return numpy.array(values, dtype="int32").reshape((len(values), 3))[token_row.reshape((-1,))]

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
        tables = cls((), msg["suffixes"], suffix_length=msg["suffix_length"])
        words = [PADDING, UNKNOWN] + [w for w in msg.pop("words") if w not in (PADDING, UNKNOWN)]
        tables._set_words(words, packed=srsly.msgpack_dumps(words))
        return tables


@serialize_attr.register(FeatureTables)
def _serialize_tables(_: FeatureTables, value: FeatureTables, name: str, model: Model) -> bytes:
    return value.to_bytes()


@deserialize_attr.register(FeatureTables)
def _deserialize_tables(_: FeatureTables, value: bytes, name: str, model: Model) -> FeatureTables:
    return FeatureTables.from_bytes(value)
