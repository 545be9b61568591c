"""The output columns of each task's annotation on a tagged spaCy doc, for the `tag` drop-in's
spaCy path (the columns' formats and SENNA's input are in dropin/io.py, which has no spaCy).
"""
from typing import List, Sequence

from spacy.tokens import Doc

from ..dropin.io import non_overlapping, phrase_tags, tag_cells, with_verb
from ..tasks import Annotation, Constituents, Frames, Phrases, span_tuples


def task_columns(
    annotation: Annotation, doc: Doc, words: Sequence[str], scheme: str, predicates: Sequence[int] = ()
) -> List[List[str]]:
    """SENNA's columns for one task's annotation on a tagged doc: a tag column (tags, or
    phrases in `scheme`); for semantic roles, the predicate column (its word on each of
    `predicates`, '-' elsewhere) and one column of arguments per predicate; for a tree,
    SENNA's -psg column ('(S1(S(NP*')."""
    if isinstance(annotation, Frames):
        marked = set(predicates)
        columns = [[f"{word if i in marked else '-':>15}" for i, word in enumerate(words)]]
        for index in predicates:
            spans = with_verb(non_overlapping(span_tuples(annotation.group(doc, index))), index)
            columns.append(tag_cells(phrase_tags(spans, len(doc), scheme)))
        return columns
    if isinstance(annotation, Phrases):
        return [tag_cells(phrase_tags(annotation.read(doc), len(doc), scheme))]
    if isinstance(annotation, Constituents):  # SENNA prints its -psg column unpadded
        return [annotation.tags(doc)]
    return [tag_cells(tag or "-" for tag in annotation.read(doc))]


