"""Small helpers: token extensions, fast DocBin (de)serialisation."""
import copy
import functools
import struct
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Union

import srsly.msgpack
from spacy.tokens import Doc, DocBin, Span, SpanGroup, Token
from spacy.tokens._dict_proxies import SpanGroups
from spacy.training import Corpus
from spacy.util import registry
from spacy.vocab import Vocab


def one_line(err: BaseException) -> str:
    """An exception's message on one line (its type's name when it has none)."""
    return " ".join(str(err).split()) or type(err).__name__


def words_only(doc: Doc, vocab: Optional[Vocab] = None) -> Doc:
    """A new Doc with `doc`'s words and spaces and no annotation (in `vocab`, else doc's)."""
    return Doc(vocab or doc.vocab, words=[token.text for token in doc], spaces=[bool(token.whitespace_) for token in doc])


def ensure_token_extension(name: str, default: Any = None) -> None:
    """Register `token._.<name>` (with `default`) unless it is registered already."""
    if not Token.has_extension(name):
        Token.set_extension(name, default=default)


class Msgpack:
    """srsly's msgpack with the extensions registered when it is made, looked up once.

    `srsly.msgpack_dumps`/`msgpack_loads` ask catalogue for the extensions on every call, and
    catalogue rescans the installed packages' entry points each time: most of the time of
    reading or writing a DocBin of docs with span groups. Make one per DocBin, not per doc.
    """

    def __init__(self) -> None:
        self._packer = srsly.msgpack.Packer(use_bin_type=True)  # as srsly.msgpack_dumps
        hook: Optional[Callable[[Dict], Any]] = None
        for decoder in srsly.msgpack.msgpack_decoders.get_all().values():
            hook = functools.partial(decoder, chain=hook)
        self._hook = hook

    def dumps(self, data: Any) -> bytes:
        return self._packer.pack(data)

    def loads(self, data: bytes, use_list: bool = True) -> Any:
        # object_pairs_hook: srsly's unpackb then leaves the registry alone
        return srsly.msgpack.unpackb(data, raw=False, use_list=use_list, object_pairs_hook=self._object)

    def _object(self, pairs: List[Tuple[Any, Any]]) -> Any:
        obj = dict(pairs)
        return self._hook(obj) if self._hook is not None else obj


SPAN = ">QQQllll"  # SpanGroup.to_bytes: id, kb_id, label, start, end, start_char, end_char


def span_groups_to_bytes(doc: Doc, codec: Msgpack) -> bytes:
    """`doc.spans.to_bytes()`, byte for byte, with `codec`."""
    if not doc.spans:
        return SpanGroups._EMPTY_BYTES
    msg: Dict[bytes, List[str]] = {}
    for key, group in doc.spans.items():
        spans = [struct.pack(SPAN, s.id, s.kb_id, s.label, s.start, s.end, s.start_char, s.end_char) for s in group]
        group_bytes = codec.dumps({"name": group.name, "attrs": group.attrs, "spans": spans})
        msg.setdefault(group_bytes, []).append(key)
    return codec.dumps(msg)


def span_groups_from_bytes(doc: Doc, data: bytes, codec: Msgpack) -> None:
    """`doc.spans.from_bytes(data)` with `codec` (both layouts: a dict of groups, an old list)."""
    doc.spans.clear()
    if not data or data == SpanGroups._EMPTY_BYTES:
        return
    msg = codec.loads(data)
    items = [(group_bytes, None) for group_bytes in msg] if isinstance(msg, list) else msg.items()
    for group_bytes, keys in items:
        group_msg = codec.loads(group_bytes)
        spans = []
        for span_bytes in group_msg["spans"]:
            span_id, kb_id, label, start, end, _, _ = struct.unpack(SPAN, span_bytes)
            spans.append(Span(doc, start, end, label=label, kb_id=kb_id, span_id=span_id))
        name = group_msg["name"]
        group = SpanGroup(doc, name=name, attrs=dict(group_msg["attrs"]), spans=spans)
        for i, key in enumerate(keys or [name]):
            doc.spans[key] = group if i == 0 else group.copy()


class FastDocBin(DocBin):
    """A DocBin that (de)serialises span groups and user data with one extension look-up per
    `add`/`get_docs` pass instead of one per doc and group (~10x faster with span groups).
    Same files as DocBin."""

    _codec: Optional[Msgpack] = None

    def codec(self) -> Msgpack:
        if self._codec is None:
            self._codec = Msgpack()
        return self._codec

    def add(self, doc: Doc) -> None:
        """DocBin.add, the span groups and user data serialised with `codec()`."""
        spans, user_data = span_groups_to_bytes(doc, self.codec()), doc.user_data
        store, self.store_user_data = self.store_user_data, False
        try:
            with _without_spans(doc):
                super().add(doc)
        finally:
            self.store_user_data = store
        self.span_groups[-1] = spans
        if store:
            self.user_data.append(self.codec().dumps(user_data))
        for group in doc.spans.values():
            for span in group:
                self.strings.add(span.label_)
                if span.kb_id in doc.vocab.strings:
                    self.strings.add(span.kb_id_)
                if span.id in doc.vocab.strings:
                    self.strings.add(span.id_)

    def get_docs(self, vocab: Vocab) -> Iterator[Doc]:
        """DocBin.get_docs, the span groups and user data read with `codec()`."""
        codec = self.codec()
        span_groups, user_data = self.span_groups, self.user_data
        plain = copy.copy(self)  # the same arrays, no span groups or user data to decode
        plain.span_groups = [SpanGroups._EMPTY_BYTES] * len(span_groups)
        plain.user_data = []
        for i, doc in enumerate(DocBin.get_docs(plain, vocab)):
            span_groups_from_bytes(doc, span_groups[i], codec)
            if i < len(user_data) and user_data[i] is not None:
                doc.user_data.update(codec.loads(user_data[i], use_list=False))
            yield doc


@contextmanager
def _without_spans(doc: Doc) -> Iterator[None]:
    """`doc` with no span groups for the duration (DocBin.add then serialises none)."""
    groups = list(doc.spans.items())
    doc.spans.clear()
    try:
        yield
    finally:
        for key, group in groups:
            doc.spans[key] = group


class FastCorpus(Corpus):
    """spaCy's Corpus reading its .spacy files with FastDocBin."""

    def read_docbin(self, vocab: Vocab, locs: Iterable[Union[str, Path]]) -> Iterator[Doc]:
        i = 0
        for loc in locs:
            loc = Path(loc)
            if loc.name.endswith(".spacy"):
                for doc in FastDocBin().from_disk(loc).get_docs(vocab):
                    if len(doc):
                        yield doc
                        i += 1
                        if self.limit >= 1 and i >= self.limit:
                            break


@registry.readers("spacy_senna.Corpus.v1")
def create_fast_corpus(
    path: Optional[Path], gold_preproc: bool = False, max_length: int = 0, limit: int = 0, augmenter: Optional[Callable] = None
) -> FastCorpus:
    """`spacy.Corpus.v1` reading with FastDocBin (~10x faster on docs with span groups)."""
    return FastCorpus(path, gold_preproc=gold_preproc, max_length=max_length, limit=limit, augmenter=augmenter)
