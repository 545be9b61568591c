"""senna_tagger: part-of-speech tags (`token.tag_`) from SENNA's window network.

With `extension = "NAME"` the tags are read from and written to `token._.NAME` instead: a
second tag set (e.g. the Brown corpus's, as an auxiliary task in multi-task training) that
does not touch `token.tag_`.
"""
from typing import Callable, Iterable, List, Optional, Sequence

import numpy
from spacy.attrs import POS, TAG
from spacy.parts_of_speech import IDS as UPOS_IDS
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.vocab import Vocab
from thinc.api import Model
from thinc.types import Ints1d

from ..scoring import score_tags
from ..tags import PTB_TO_UPOS, SPACE_TAG
from ..util import ensure_token_extension
from .base import MissingTag, SennaSequencePipe, same_tokens
from .defaults import DEFAULT_TAGGER_MODEL


@Language.factory(
    "senna_tagger",
    assigns=["token.tag", "token.pos"],
    default_config={
        "model": DEFAULT_TAGGER_MODEL,
        "scorer": {"@scorers": "spacy_senna.tagger_scorer.v1"},
        "extension": None,
    },
    default_score_weights={"tag_acc": 1.0},
)
def make_tagger(
    nlp: Language, name: str, model: Model, scorer: Optional[Callable], extension: Optional[str]
) -> "SennaTagger":
    return SennaTagger(nlp.vocab, model, name, scorer=scorer, extension=extension)


class SennaTagger(SennaSequencePipe):
    """Assigns `token.tag_` (or `token._.<extension>`); each tag is one output class (no IOBES).

    With `token.tag_` it also sets `token.pos_`: the Universal POS of the Penn Treebank tag
    (`tags.PTB_TO_UPOS`, spaCy's English tag map), none for a tag outside that map."""

    uses_iobes = False

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "senna_tagger",
        *,
        scorer=score_tags,
        extension: Optional[str] = None,
    ):
        super().__init__(vocab, model, name, scorer=scorer)
        self.cfg["extension"] = extension
        if extension:
            ensure_token_extension(extension)

    @property
    def extension(self) -> Optional[str]:
        """The `token._` attribute holding this tagger's tags; None for `token.tag_`."""
        return self.cfg.get("extension")

    def gold_tags(self, example: Example) -> List[MissingTag]:
        if self.extension:
            return self._gold_extension_tags(example)
        if same_tokens(example):
            strings = self.vocab.strings
            return [strings[h] if h else None for h in example.reference.to_array(TAG).tolist()]
        return [tag or None for tag in example.get_aligned("TAG", as_string=True)]

    def _gold_extension_tags(self, example: Example) -> List[MissingTag]:
        """Gold `token._.<extension>` per predicted token: None where missing or not one-to-one."""
        reference_tags = [token._.get(self.extension) or None for token in example.reference]
        if same_tokens(example):
            return reference_tags
        gold: List[MissingTag] = [None] * len(example.predicted)
        x2y = example.alignment.x2y
        for i in range(len(example.predicted)):
            aligned = x2y[i].tolist()
            if len(aligned) == 1 and len(example.alignment.y2x[aligned[0]]) == 1:
                gold[i] = reference_tags[aligned[0]]
        return gold

    def example_labels(self, example: Example) -> Iterable[str]:
        if self.extension:
            return (tag for tag in (t._.get(self.extension) for t in example.reference) if tag)
        return (token.tag_ for token in example.reference if token.tag_)

    def set_annotations(self, docs: Iterable[Doc], tag_ids: List[Ints1d]) -> None:
        """Set `token.tag_` for whole docs at once, from the label hashes; `token._.<extension>`
        token by token (the base class's `set_doc_annotation` loop)."""
        if self.extension:
            super().set_annotations(docs, tag_ids)
            return
        # One row per label, then the whitespace tokens' row, which NO_TAG (-1) indexes.
        values = numpy.array(
            [
                [self.vocab.strings.add(label), UPOS_IDS.get(PTB_TO_UPOS.get(label, ""), 0)]
                for label in [*self.labels, SPACE_TAG]
            ],
            dtype="uint64",
        )
        for doc, ids in zip(docs, tag_ids):
            if len(doc):
                doc.from_array([TAG, POS], values[ids])

    def set_doc_annotation(self, doc: Doc, tags: Sequence[str]) -> None:
        for token, tag in zip(doc, tags):
            if self.extension:
                token._.set(self.extension, tag)
            else:
                token.tag_ = tag
                token.pos_ = PTB_TO_UPOS.get(tag, "")
