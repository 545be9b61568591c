"""senna_ner: named entities (`doc.ents`) from SENNA's window network."""
from typing import Callable, Optional

from spacy.language import Language
from spacy.vocab import Vocab
from thinc.api import Model

from ..scoring import score_entities
from ..tasks import NER
from .base import SennaSequencePipe
from .defaults import DEFAULT_TAGGER_MODEL


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

    task = NER

    def __init__(self, vocab: Vocab, model: Model, name: str = NER.factory, *, scorer=score_entities):
        super().__init__(vocab, model, name, scorer=scorer)
