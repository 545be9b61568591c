"""senna_chunker: phrase chunks (NP, VP, PP, ...) as the span group `doc.spans["chunks"]`."""
from typing import Callable, Iterable, List, Optional, Sequence

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.vocab import Vocab
from thinc.api import Model

from ..scoring import score_chunks
from ..tags import spans_to_tags, tags_to_spans
from .base import MissingTag, SennaSequencePipe, same_tokens
from .defaults import DEFAULT_TAGGER_MODEL


@Language.factory(
    "senna_chunker",
    assigns=["doc.spans"],
    default_config={
        "model": DEFAULT_TAGGER_MODEL,
        "spans_key": "chunks",
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

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "senna_chunker",
        *,
        spans_key: str = "chunks",
        scorer=score_chunks,
    ):
        super().__init__(vocab, model, name, scorer=scorer)
        self.cfg["spans_key"] = spans_key

    @property
    def spans_key(self) -> str:
        return self.cfg["spans_key"]

    def gold_tags(self, example: Example) -> List[MissingTag]:
        if self.spans_key not in example.reference.spans:
            return [None] * len(example.predicted)
        spans = example.reference.spans[self.spans_key]
        if not same_tokens(example):
            spans = example.get_aligned_spans_y2x(spans)
        triples = [(span.start, span.end, span.label_) for span in spans]
        return list(spans_to_tags(triples, len(example.predicted), "iobes"))

    def example_labels(self, example: Example) -> Iterable[str]:
        return (span.label_ for span in example.reference.spans.get(self.spans_key, []))

    def set_doc_annotation(self, doc: Doc, tags: Sequence[str]) -> None:
        self.set_doc_phrases(doc, [Span(doc, s, e, label) for s, e, label in tags_to_spans(tags, "iobes")])

    def set_doc_phrases(self, doc: Doc, phrases: List[Span]) -> None:
        doc.spans[self.spans_key] = phrases

    def score(self, examples, **kwargs):
        return self.scorer(examples, spans_key=self.spans_key, **kwargs)
