"""Registered training callbacks that are not tied to one component."""
from typing import Callable

from spacy.language import Language
from spacy.util import registry
from spacy.vectors import Vectors


@registry.callbacks("spacy_senna.drop_vectors.v1")
def create_drop_vectors() -> Callable[[Language], Language]:
    """`[initialize.after_init]` callback: once the word tables have copied the pre-trained
    vectors (`pretrained_vectors = true`), drop `vocab.vectors`, so that the saved pipeline
    does not hold a second copy of them (26 MB for 130,000 x 50)."""

    def drop_vectors(nlp: Language) -> Language:
        nlp.vocab.vectors = Vectors(strings=nlp.vocab.strings)
        nlp.meta.pop("vectors", None)
        return nlp

    return drop_vectors
