"""SENNA's token features without spaCy: the normalised word, capitalisation class, suffix,
characters and hashed tag values of a token's text, and the word/suffix tables that turn them
into rows. The Thinc layers (features.py, layers/) and the `senna` drop-in's lean path
(dropin/lean.py), which imports neither spaCy nor Thinc, both compute features here.
"""
import re
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy

from .kernels import built

PADDING_ID = 0
UNKNOWN_ID = 1
PADDING = "PADDING"
UNKNOWN = "UNKNOWN"

# Capitalisation classes (SENNA's caps.lst, with PADDING first)
CAPS_CLASSES = ("PADDING", "nocaps", "allcaps", "initcap", "hascap")
N_CAPS = len(CAPS_CLASSES)

_DIGIT = re.compile(r"\d")


def fold_digits(text: str) -> str:
    """Every digit becomes '0'."""
    return _DIGIT.sub("0", text)


def normalize_word(text: str) -> str:
    """SENNA's word normalisation: lower-case, every digit becomes '0'."""
    return fold_digits(text.lower())


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


def string_hashes(texts: Sequence[str]) -> numpy.ndarray:
    """spaCy's 64-bit hash of each text (its StringStore keys and token orth ids), uint64:
    computed by the compiled kernel when it is built, else by spaCy itself."""
    kernels = built()
    if kernels is None:
        from spacy.strings import hash_string

        return numpy.fromiter(map(hash_string, texts), dtype="uint64", count=len(texts))
    return kernels.hash_strings(list(texts))


def value_rows(hashes: numpy.ndarray, n_rows: int) -> numpy.ndarray:
    """Rows of hashed values (a POS tag's string hash): 0 for no value (hash 0), else
    1 + hash mod (n_rows - 1)."""
    hashes = numpy.asarray(hashes, dtype="uint64")
    rows = 1 + (hashes % numpy.uint64(n_rows - 1)).astype("int64")
    rows[hashes == 0] = 0
    return rows


def word_char_rows(word: str, n_rows: int, max_chars: int) -> bytes:
    """Rows of a word's characters, 1 + code point mod (n_rows - 1), digits as '0', as
    little-endian uint16 bytes (compact to cache); an empty word gets one row, 1."""
    word = fold_digits(word)
    if len(word) > max_chars:
        word = word[: max_chars // 2] + word[-(max_chars - max_chars // 2) :]
    codes = numpy.frombuffer(word.encode("utf-32-le"), dtype="uint32").astype("int64")
    rows = 1 + codes % (n_rows - 1) if len(codes) else numpy.ones((1,), dtype="int64")
    return rows.astype("<u2").tobytes()


def char_matrix(word_rows: List[bytes], pad: int) -> numpy.ndarray:
    """(n_words, longest + 2 * pad) character rows, 0 outside each word."""
    n_chars = numpy.fromiter(map(len, word_rows), dtype="int64", count=len(word_rows)) // 2
    longest = int(n_chars.max()) if len(word_rows) else 1
    matrix = numpy.zeros((len(word_rows), longest + 2 * pad), dtype="int32")
    if len(word_rows):
        inside = numpy.arange(longest)[None, :] < n_chars[:, None]
        matrix[:, pad : pad + longest][inside] = numpy.frombuffer(b"".join(word_rows), dtype="<u2")
    return matrix


class WordTables:
    """String -> row maps for the word and suffix tables.

    Rows 0 and 1 of both tables are PADDING and UNKNOWN. An empty instance (no words) stands
    for "not built yet". Words are found by their 64-bit string hash (spaCy's, as in its
    StringStore) in a sorted array: 12 bytes a word instead of a dict's ~100 with its strings
    and ints. `features.FeatureTables` adds the lookups of spaCy docs and serialisation.
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
        self._packed_words: Optional[bytes] = None
        self._set_words([PADDING, UNKNOWN] + [w for w in words if w not in (PADDING, UNKNOWN)])

    def _set_words(self, words: List[str], packed: Optional[bytes] = None) -> None:
        """Index the words (row order); with `packed` (their msgpack), keep that instead of the list."""
        self._n_words = len(words)
        hashes = string_hashes(words)
        order = numpy.argsort(hashes, kind="stable")
        hashes = hashes[order]
        last = numpy.append(hashes[1:] != hashes[:-1], True)  # a repeated word: its last row, as a dict
        self._word_hashes = hashes[last]
        self._word_rows = order[last].astype("int32")
        self._words = None if packed is not None else words
        self._packed_words = packed

    @property
    def word_index(self) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """The sorted word hashes and the row of each: what finds a word's row."""
        return self._word_hashes, self._word_rows

    @classmethod
    def from_index(
        cls, hashes: numpy.ndarray, rows: numpy.ndarray, n_words: int, suffixes: Sequence[str], suffix_length: int
    ) -> "WordTables":
        """Tables from a `word_index` (no words kept: they are only needed to build or save tables)."""
        tables = cls((), suffixes, suffix_length)
        tables._n_words = n_words
        tables._word_hashes = numpy.ascontiguousarray(hashes, dtype="uint64")
        tables._word_rows = numpy.ascontiguousarray(rows, dtype="int32")
        tables._words, tables._packed_words = None, None
        return tables

    @property
    def words(self) -> List[str]:
        """The words in row order."""
        if self._words is None:
            import srsly

            if self._packed_words is None:
                raise ValueError("these tables were made from a word index and keep no words")
            self._words = srsly.msgpack_loads(self._packed_words)
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
        wanted = string_hashes(normalized)
        at = numpy.searchsorted(self._word_hashes, wanted).clip(0, max(0, len(self._word_hashes) - 1))
        found = self._word_hashes[at] == wanted if len(self._word_hashes) else numpy.zeros(len(wanted), bool)
        return numpy.where(found, self._word_rows[at] if len(self._word_rows) else 0, UNKNOWN_ID).astype("int32")

    def texts_features(self, texts: Sequence[str]) -> numpy.ndarray:
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

    @classmethod
    def from_texts(
        cls,
        texts: Iterable[str],
        *,
        min_freq: int = 1,
        max_words: int = 130_000,
        suffix_length: int = 2,
    ) -> "WordTables":
        """Build the tables from training tokens: the `max_words` most frequent words seen `min_freq` times."""
        counts = Counter(normalize_word(text) for text in texts)
        frequent = [w for w, c in counts.most_common() if c >= min_freq][: max(0, max_words - 2)]
        suffix_counts: Counter = Counter()
        for word, count in counts.items():
            suffix_counts[word[-suffix_length:]] += count
        suffixes = [s for s, c in suffix_counts.most_common() if c >= min_freq]
        return cls(frequent, suffixes, suffix_length=suffix_length)
