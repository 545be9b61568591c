"""senna_tagger: part-of-speech tags (`token.tag_`) from SENNA's window network."""
from typing import Callable, Iterable, List, Optional, Sequence

import numpy
from spacy.attrs import TAG
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.vocab import Vocab
from thinc.api import Model
from thinc.types import Ints1d

from ..scoring import score_tags
from .base import MissingTag, SennaSequencePipe, same_tokens
from .defaults import DEFAULT_TAGGER_MODEL


@Language.factory(
    "senna_tagger",
    assigns=["token.tag"],
    default_config={
        "model": DEFAULT_TAGGER_MODEL,
        "scorer": {"@scorers": "spacy_senna.tagger_scorer.v1"},
    },
    default_score_weights={"tag_acc": 1.0},
)
def make_tagger(nlp: Language, name: str, model: Model, scorer: Optional[Callable]) -> "SennaTagger":
    return SennaTagger(nlp.vocab, model, name, scorer=scorer)


class SennaTagger(SennaSequencePipe):
    """Assigns `token.tag_`; each tag is one output class (no IOBES)."""

    uses_iobes = False

    def __init__(self, vocab: Vocab, model: Model, name: str = "senna_tagger", *, scorer=score_tags):
        super().__init__(vocab, model, name, scorer=scorer)

    def gold_tags(self, example: Example) -> List[MissingTag]:
        if same_tokens(example):
            strings = self.vocab.strings
            return [strings[h] if h else None for h in example.reference.to_array(TAG).tolist()]
        return [tag or None for tag in example.get_aligned("TAG", as_string=True)]

    def example_labels(self, example: Example) -> Iterable[str]:
        return (token.tag_ for token in example.reference if token.tag_)

    def set_annotations(self, docs: Iterable[Doc], tag_ids: List[Ints1d]) -> None:
        """Set `token.tag_` for whole docs at once, from the label hashes."""
        label_hashes = numpy.array([self.vocab.strings.add(label) for label in self.labels], dtype="uint64")
        for doc, ids in zip(docs, tag_ids):
            if len(doc):
                doc.from_array([TAG], label_hashes[ids].reshape((-1, 1)))

    def set_doc_annotation(self, doc: Doc, tags: Sequence[str]) -> None:
        for token, tag in zip(doc, tags):
            token.tag_ = tag
