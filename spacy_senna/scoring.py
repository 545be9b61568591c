"""Registered scorers: tag accuracy, and phrase-level P/R/F1 with conlleval's exact-match rule."""
from typing import Any, Callable, Dict, Iterable

from spacy.scorer import Scorer, get_ner_prf
from spacy.training import Example
from spacy.util import registry


def score_tags(examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
    """Token accuracy of `token.tag_` ("tag_acc")."""
    return Scorer.score_token_attr(examples, "tag", **kwargs)


def score_chunks(examples: Iterable[Example], spans_key: str = "chunks", **kwargs) -> Dict[str, Any]:
    """A chunk counts when its label and both boundaries match ("chunks_p", "chunks_r", "chunks_f")."""
    return Scorer.score_spans(
        examples,
        attr="chunks",
        getter=lambda doc, attr: doc.spans.get(spans_key, []),
        has_annotation=lambda doc: spans_key in doc.spans,
        labeled=True,
        allow_overlap=False,
        **kwargs,
    )


def score_entities(examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
    """An entity counts when its label and both boundaries match ("ents_p", "ents_r", "ents_f")."""
    return get_ner_prf(examples, **kwargs)


@registry.scorers("spacy_senna.tagger_scorer.v1")
def make_tagger_scorer() -> Callable:
    return score_tags


@registry.scorers("spacy_senna.chunk_scorer.v1")
def make_chunk_scorer() -> Callable:
    return score_chunks


@registry.scorers("spacy_senna.ner_scorer.v1")
def make_ner_scorer() -> Callable:
    return score_entities
