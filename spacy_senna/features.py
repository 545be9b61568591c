"""SENNA's token features of spaCy docs: normalised word, capitalisation class and suffix, as
integer ids (the functions themselves are in lexicon.py, which has no spaCy)."""
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, TypeVar, Union

import numpy
import srsly
from spacy.attrs import ORTH
from spacy.strings import StringStore
from spacy.tokens import Doc
from thinc.api import Model, deserialize_attr, serialize_attr
from thinc.types import Ints2d

from .lexicon import PADDING, UNKNOWN, WordTables

_MAX_CACHE = 100_000  # entries of a cached_by_orth cache (then emptied): some 10 MB at most
T = TypeVar("T")


def cached_by_orth(
    cache: Dict[int, T], orths: Iterable[int], strings: StringStore, compute: Callable[[str], T]
) -> List[T]:
    """`compute(text)` of each orth id's text, cached by id (ids are hashes of the text, so
    the cache serves any vocab); the cache is emptied once it holds over _MAX_CACHE entries."""
    if len(cache) > _MAX_CACHE:
        cache.clear()
    values = []
    for orth in orths:
        value = cache.get(orth)
        if value is None:
            value = cache[orth] = compute(strings[orth])
        values.append(value)
    return values



class FeatureTables(WordTables):
    """The word and suffix tables (lexicon.WordTables), plus a cache from orth ids to feature
    rows, the lookups of spaCy docs and serialisation. An empty instance (no words) stands for
    "not built yet", so it can be a Thinc attr that is filled in at initialisation. Tables
    read from bytes keep the words themselves serialised until `words` is asked for
    (inference never does).
    """

    def doc_features(self, doc: Doc) -> Ints2d:
        """Feature rows of a doc, shape (len(doc), 3): word, caps, suffix."""
        return self.docs_features([doc])

    def docs_features(self, docs: Sequence[Doc]) -> Ints2d:
        """Feature rows of the docs' tokens, one after the other, shape (n_tokens, 3): each
        distinct word of the batch is looked up once. Nothing is kept between batches: a
        cache by orth id saved about 1% of a pipeline's time and held some 175 bytes a word
        in every component (13 MB of en_senna's streaming peak on the WSJ dev text)."""
        orths = numpy.concatenate([doc.to_array(ORTH) for doc in docs]) if docs else numpy.zeros((0,), "uint64")
        distinct, token_row = numpy.unique(orths, return_inverse=True)
        if not len(distinct):
            return numpy.zeros((0, 3), dtype="int32")
        strings = docs[0].vocab.strings
        rows = self.texts_features([strings[key] for key in distinct.tolist()])
        return rows[token_row.reshape((-1,))]

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
