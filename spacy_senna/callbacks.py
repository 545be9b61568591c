"""Registered training callbacks that are not tied to one component."""
from typing import Callable, Optional

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


@registry.callbacks("spacy_senna.parser_levels.v1")
def create_parser_levels(max_levels: int = 1, component: str = "senna_parser") -> Callable[[Language], Language]:
    """`[nlp.after_pipeline_creation]` callback: limit a (sourced) senna_parser to its first
    `max_levels` levels, e.g. 1 to give a later component SENNA's PT0 feature (the tree's first
    level) at the cost of one pass instead of the whole tree."""

    def parser_levels(nlp: Language) -> Language:
        if component not in nlp.pipe_names:
            raise ValueError(f"spacy_senna.parser_levels.v1: the pipeline has no {component!r} (it has {nlp.pipe_names})")
        if max_levels < 0:
            raise ValueError(f"spacy_senna.parser_levels.v1: max_levels must be 0 (the whole tree) or more, got {max_levels}")
        nlp.get_pipe(component).cfg["max_levels"] = max_levels
        return nlp

    return parser_levels


@registry.callbacks("spacy_senna.parser_settings.v1")
def create_parser_settings(
    own_level_rate: Optional[float] = None, force_progress: Optional[bool] = None, component: str = "senna_parser"
) -> Callable[[Language], Language]:
    """`[nlp.after_pipeline_creation]` callback: set a (sourced) senna_parser's
    `own_level_rate` and `force_progress` (None: as it was), e.g. to train a parser on with
    scheduled sampling (configs/parser_resume.cfg), where a sourced component's settings come
    from its source."""
    from .pipeline.parser import check_own_level_rate

    def parser_settings(nlp: Language) -> Language:
        if component not in nlp.pipe_names:
            raise ValueError(f"spacy_senna.parser_settings.v1: the pipeline has no {component!r} (it has {nlp.pipe_names})")
        cfg = nlp.get_pipe(component).cfg
        if own_level_rate is not None:
            check_own_level_rate(component, own_level_rate)
            cfg["own_level_rate"] = float(own_level_rate)
        if force_progress is not None:
            cfg["force_progress"] = bool(force_progress)
        return nlp

    return parser_settings
