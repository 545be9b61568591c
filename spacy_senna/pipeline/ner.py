"""senna_ner: named entities (`doc.ents`) from SENNA's window network."""
from typing import Callable, Iterable, List, Optional, Sequence

import numpy
from spacy.attrs import ENT_IOB
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.vocab import Vocab
from thinc.api import Model

from ..scoring import score_entities
from ..tags import spans_to_tags, tags_to_spans
from .base import MissingTag, SennaSequencePipe, same_tokens
from .defaults import DEFAULT_TAGGER_MODEL

_BILUO_TO_IOBES = {"B": "B", "I": "I", "L": "E", "U": "S"}


@Language.factory(
    "senna_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
    default_config={
        "model": DEFAULT_TAGGER_MODEL,
        "scorer": {"@scorers": "spacy_senna.ner_scorer.v1"},
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_ner(nlp: Language, name: str, model: Model, scorer: Optional[Callable]) -> "SennaNER":
    return SennaNER(nlp.vocab, model, name, scorer=scorer)


class SennaNER(SennaSequencePipe):
    """Assigns `doc.ents` (replacing earlier entities), learned as IOBES tags."""

    def __init__(self, vocab: Vocab, model: Model, name: str = "senna_ner", *, scorer=score_entities):
        super().__init__(vocab, model, name, scorer=scorer)

    def gold_tags(self, example: Example) -> List[MissingTag]:
        if same_tokens(example):
            reference = example.reference
            spans = [(ent.start, ent.end, ent.label_) for ent in reference.ents]
            tags: List[MissingTag] = list(spans_to_tags(spans, len(reference), "iobes"))
            for i in numpy.flatnonzero(reference.to_array(ENT_IOB) == 0).tolist():
                tags[i] = None
            return tags
        tags = []
        for tag in example.get_aligned_ner():
            if tag is None or tag == "-":
                tags.append(None)
            elif tag == "O":
                tags.append("O")
            else:
                tags.append(f"{_BILUO_TO_IOBES[tag[0]]}-{tag[2:]}")
        return tags

    def example_labels(self, example: Example) -> Iterable[str]:
        return (ent.label_ for ent in example.reference.ents)

    def set_doc_annotation(self, doc: Doc, tags: Sequence[str]) -> None:
        self.set_doc_phrases(doc, [Span(doc, s, e, label) for s, e, label in tags_to_spans(tags, "iobes")])

    def set_doc_phrases(self, doc: Doc, phrases: List[Span]) -> None:
        doc.ents = phrases
