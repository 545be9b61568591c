"""senna_chunker: phrase chunks (NP, VP, PP, ...) as the span group `doc.spans["chunks"]`."""
from typing import Callable, Optional

from spacy.language import Language
from spacy.vocab import Vocab
from thinc.api import Model

from ..scoring import score_chunks
from ..tasks import CHUNK, CHUNKS_KEY, with_key
from .base import SennaSequencePipe
from .defaults import DEFAULT_TAGGER_MODEL


@Language.factory(
    "senna_chunker",
    assigns=["doc.spans"],
    default_config={
        "model": DEFAULT_TAGGER_MODEL,
        "spans_key": CHUNKS_KEY,
        "scorer": {"@scorers": "spacy_senna.chunk_scorer.v1"},
    },
    default_score_weights={
        "spans_chunks_f": 1.0,
        "spans_chunks_p": 0.0,
        "spans_chunks_r": 0.0,
        "spans_chunks_per_type": None,
    },
)
def make_chunker(
    nlp: Language, name: str, model: Model, spans_key: str, scorer: Optional[Callable]
) -> "SennaChunker":
    return SennaChunker(nlp.vocab, model, name, spans_key=spans_key, scorer=scorer)


class SennaChunker(SennaSequencePipe):
    """Assigns non-overlapping chunks to `doc.spans[spans_key]`, learned as IOBES tags."""

    task = CHUNK

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = CHUNK.factory,
        *,
        spans_key: str = CHUNKS_KEY,
        scorer=score_chunks,
    ):
        super().__init__(vocab, model, name, scorer=scorer, annotation=with_key(CHUNK.annotation, key=spans_key))
        self.cfg["spans_key"] = spans_key

    @property
    def spans_key(self) -> str:
        return self.cfg["spans_key"]

    def score(self, examples, **kwargs):
        return self.scorer(examples, spans_key=self.spans_key, **kwargs)
