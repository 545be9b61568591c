"""The SENNA tasks, one entry each: what a task is called where, and where its annotation lives.

Every place that handles a task looks it up here: the components (which write and read their
annotation through `Task.annotation`), the `tag` drop-in (SENNA's flag and column), `predict`
and `evaluate` (the corpus format, its tag scheme and the score keys), `annotate` (the JSON
record), `bench` (which component provides the annotation another one reads), the multi-task
corpus (which copies one task's annotation) and `scripts/results.py` (the metric).

A new task is one component plus one entry in TASKS (and its Annotation kind, if none of
these fits). This module is a leaf: it imports spaCy, the format modules and the drop-in's
flag list (dropin/args.py), nothing else of the package, so that any module may import it.
"""
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy
from spacy.attrs import ENT_IOB, ORTH, TAG
from spacy.attrs import POS as UPOS
from spacy.parts_of_speech import IDS as UPOS_IDS
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example

from .constituency import CONSTITUENTS_KEY, doc_constituents, doc_senna_column, set_constituents
from .constituents import merge_chains, tree_levels
from .dropin.args import TASK_FLAGS
from .srl_format import SRL_ANNOTATED, srl_key, srl_predicates
from .tags import NO_TAG, PTB_TO_UPOS, SPACE_TAG, decoded_phrases, iobes_tag_names, spans_to_tags  # noqa: F401

CHUNKS_KEY = "chunks"  # the span group of the chunker's phrases

MissingTag = Optional[str]
SpanTuple = Tuple[int, int, str]  # (start token, end token exclusive, label)
_BILUO_TO_IOBES = {"B": "B", "I": "I", "L": "E", "U": "S"}


def same_tokens(example: Example) -> bool:
    """Whether the predicted and reference docs have the same tokens (no alignment needed)."""
    x, y = example.predicted, example.reference
    return len(x) == len(y) and bool((x.to_array(ORTH) == y.to_array(ORTH)).all())


def span_tuples(spans: Iterable[Span]) -> List[SpanTuple]:
    return [(span.start, span.end, span.label_) for span in spans]


# -- where a task's annotation lives on a Doc ---------------------------------------------------


class Annotation:
    """One kind of annotation on a Doc: how it is read, written, copied and learned.

    `phrases`: learned as IOBES tags over the labels (spans), else one output class per label.
    """

    phrases: bool = True
    where: str = ""  # how messages name it
    primary: bool = True  # the annotation that SENNA's output column of the task shows

    def tag_names(self, labels: Sequence[str]) -> List[str]:
        """The model's output classes for these labels."""
        return iobes_tag_names(labels) if self.phrases else list(labels)

    def has(self, doc: Doc, complete: bool = False) -> bool:
        """Whether the doc carries this annotation (`complete`: on every token, where that applies)."""
        raise NotImplementedError

    def tags(self, doc: Doc, scheme: str) -> List[str]:
        """One tag per token, phrases written in `scheme` (iob1, iob2, iobes...): a corpus column."""
        raise NotImplementedError

    def labels(self, doc: Doc) -> Iterator[str]:
        """The labels annotated on a doc."""
        raise NotImplementedError

    def feature_tags(self, doc: Doc) -> List[str]:
        """The value per token that a later component embeds as a token feature (its IOBES
        tag; '' where the doc has none of this annotation)."""
        return self.tags(doc, "iobes") if self.has(doc) else [""] * len(doc)

    def copy(self, source: Doc, target: Doc) -> None:
        """Copy only this annotation from `source` onto `target` (same tokens)."""
        raise NotImplementedError

    def record(self, doc: Doc) -> Any:
        """The annotation as JSON-able data (annotate's JSONL records)."""
        raise NotImplementedError

    def gold_tags(self, example: Example) -> List[MissingTag]:
        """One gold tag (of `tag_names`) per predicted token, None where there is no gold."""
        raise NotImplementedError

    def set_decoded(self, docs: Sequence[Doc], tag_ids: Sequence[numpy.ndarray], labels: Sequence[str]) -> None:
        """Write decoded tag ids (into `tag_names(labels)`; NO_TAG for whitespace) onto the docs."""
        raise NotImplementedError


@dataclass(frozen=True)
class TokenTags(Annotation):
    """One tag per token: `token.tag_` (and its Universal POS in `token.pos_`), or
    `token._.<extension>` (a second tag set that leaves `token.tag_` alone)."""

    extension: Optional[str] = None
    phrases = False

    @property
    def where(self) -> str:
        return f"token._.{self.extension}" if self.extension else "token.tag_"

    @property
    def primary(self) -> bool:
        """POS tags are `token.tag_`; an extension holds another tag set."""
        return self.extension is None

    def read(self, doc: Doc) -> List[str]:
        """One tag per token ('' where there is none)."""
        if self.extension:
            return [token._.get(self.extension) or "" for token in doc]
        strings = doc.vocab.strings  # from the hashes: no Token object per word
        return [strings[tag] if tag else "" for tag in doc.to_array(TAG).tolist()]

    def has(self, doc: Doc, complete: bool = False) -> bool:
        if self.extension:
            found = [bool(tag) for tag in self.read(doc)]
            return all(found) if complete else any(found)
        return doc.has_annotation("TAG", require_complete=complete)

    def tags(self, doc: Doc, scheme: str = "tags") -> List[str]:
        return self.read(doc)

    def labels(self, doc: Doc) -> Iterator[str]:
        return (tag for tag in self.read(doc) if tag)

    def copy(self, source: Doc, target: Doc) -> None:
        if self.extension:
            for theirs, ours in zip(source, target):
                ours._.set(self.extension, theirs._.get(self.extension))
        elif len(source):
            target.from_array([TAG], source.to_array([TAG]))

    def record(self, doc: Doc) -> List[str]:
        return self.read(doc)

    def gold_tags(self, example: Example) -> List[MissingTag]:
        if self.extension:
            return self._gold_extension_tags(example)
        if same_tokens(example):
            strings = example.reference.vocab.strings
            return [strings[h] if h else None for h in example.reference.to_array(TAG).tolist()]
        return [tag or None for tag in example.get_aligned("TAG", as_string=True)]

    def _gold_extension_tags(self, example: Example) -> List[MissingTag]:
        """Gold `token._.<extension>` per predicted token: None where missing or not one-to-one."""
        reference_tags = [tag or None for tag in self.read(example.reference)]
        if same_tokens(example):
            return reference_tags
        gold: List[MissingTag] = [None] * len(example.predicted)
        x2y = example.alignment.x2y
        for i in range(len(example.predicted)):
            aligned = x2y[i].tolist()
            if len(aligned) == 1 and len(example.alignment.y2x[aligned[0]]) == 1:
                gold[i] = reference_tags[aligned[0]]
        return gold

    def set_decoded(self, docs: Sequence[Doc], tag_ids: Sequence[numpy.ndarray], labels: Sequence[str]) -> None:
        """`token.tag_` and `token.pos_` for whole docs at once, from the label hashes (whitespace
        tokens: `_SP`); `token._.<extension>` token by token."""
        names = [*labels, SPACE_TAG]  # NO_TAG (-1) indexes the last row
        if self.extension:
            for doc, ids in zip(docs, tag_ids):
                for token, i in zip(doc, ids.tolist()):
                    token._.set(self.extension, names[i])
            return
        if not docs:
            return
        strings = docs[0].vocab.strings
        values = numpy.array(
            [[strings.add(label), UPOS_IDS.get(PTB_TO_UPOS.get(label, ""), 0)] for label in names],
            dtype="uint64",
        )
        for doc, ids in zip(docs, tag_ids):
            if len(doc):
                doc.from_array([TAG, UPOS], values[ids])


class Phrases(Annotation):
    """Non-overlapping labelled phrases, learned as IOBES tags."""

    def spans(self, doc: Doc) -> Sequence[Span]:
        raise NotImplementedError

    def write(self, doc: Doc, spans: List[Span]) -> None:
        raise NotImplementedError

    def read(self, doc: Doc) -> List[SpanTuple]:
        return span_tuples(self.spans(doc))

    def tags(self, doc: Doc, scheme: str) -> List[str]:
        return spans_to_tags(self.read(doc), len(doc), scheme)

    def labels(self, doc: Doc) -> Iterator[str]:
        return (span.label_ for span in self.spans(doc))

    def copy(self, source: Doc, target: Doc) -> None:
        if self.has(source):
            self.write(target, [Span(target, s.start, s.end, s.label_) for s in self.spans(source)])

    def record(self, doc: Doc) -> List[List]:
        return [list(span) for span in self.read(doc)]

    def set_decoded(self, docs: Sequence[Doc], tag_ids: Sequence[numpy.ndarray], labels: Sequence[str]) -> None:
        """The IOBES phrases of the tag ids; whitespace tokens (NO_TAG) are in no phrase, except
        inside one that spans them."""
        if not docs:
            return
        strings = docs[0].vocab.strings
        label_hashes = [strings.add(label) for label in labels]
        for doc, phrases in zip(docs, decoded_phrases(list(tag_ids), len(labels))):
            self.write(doc, [Span(doc, start, end, label_hashes[label]) for start, end, label in phrases])


@dataclass(frozen=True)
class GroupPhrases(Phrases):
    """Phrases in the span group `doc.spans[key]`."""

    key: str = CHUNKS_KEY

    @property
    def where(self) -> str:
        return f"doc.spans[{self.key!r}]"

    def spans(self, doc: Doc) -> Sequence[Span]:
        return doc.spans.get(self.key, [])

    def has(self, doc: Doc, complete: bool = False) -> bool:
        return self.key in doc.spans

    def write(self, doc: Doc, spans: List[Span]) -> None:
        doc.spans[self.key] = spans

    def gold_tags(self, example: Example) -> List[MissingTag]:
        if not self.has(example.reference):
            return [None] * len(example.predicted)
        spans = example.reference.spans[self.key]
        if not same_tokens(example):
            spans = example.get_aligned_spans_y2x(spans)
        return list(spans_to_tags(span_tuples(spans), len(example.predicted), "iobes"))


@dataclass(frozen=True)
class Entities(Phrases):
    """Phrases in `doc.ents` (a token with no entity annotation, ENT_IOB 0, has no gold)."""

    where = "doc.ents"

    def spans(self, doc: Doc) -> Sequence[Span]:
        return doc.ents

    def has(self, doc: Doc, complete: bool = False) -> bool:
        return doc.has_annotation("ENT_IOB", require_complete=complete)

    def write(self, doc: Doc, spans: List[Span]) -> None:
        doc.ents = spans

    def gold_tags(self, example: Example) -> List[MissingTag]:
        if same_tokens(example):
            reference = example.reference
            tags: List[MissingTag] = list(spans_to_tags(self.read(reference), len(reference), "iobes"))
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


@dataclass(frozen=True)
class Frames(Phrases):
    """Semantic roles: predicate token i owns the span group `doc.spans["srl:<i>"]` (its
    arguments, V included; attrs {"predicate": i, "lemma": ...}), as srl_format defines it.
    `doc.user_data["srl_annotated"]` marks a gold doc whose tokens without a group are no
    predicates."""

    where = 'doc.spans["srl:<i>"]'

    def predicates(self, doc: Doc) -> List[int]:
        """The tokens that own a group, in token order."""
        return [index for index in srl_predicates(doc) if index < len(doc)]

    def group(self, doc: Doc, index: int) -> Sequence[Span]:
        return doc.spans.get(srl_key(index), [])

    def has(self, doc: Doc, complete: bool = False) -> bool:
        return bool(doc.user_data.get(SRL_ANNOTATED)) or bool(self.predicates(doc))

    def labels(self, doc: Doc) -> Iterator[str]:
        return (span.label_ for index in self.predicates(doc) for span in doc.spans[srl_key(index)])

    def copy(self, source: Doc, target: Doc) -> None:
        for index in srl_predicates(source):
            key = srl_key(index)
            group = source.spans[key]
            spans = [Span(target, s.start, s.end, s.label_) for s in group]
            target.spans[key] = SpanGroup(target, name=key, attrs=dict(group.attrs), spans=spans)
        target.user_data[SRL_ANNOTATED] = bool(source.user_data.get(SRL_ANNOTATED, True))

    def record(self, doc: Doc) -> List[Dict[str, Any]]:
        return [
            {
                "predicate": index,
                "lemma": doc.spans[srl_key(index)].attrs.get("lemma"),
                "arguments": [list(span) for span in span_tuples(doc.spans[srl_key(index)])],
            }
            for index in srl_predicates(doc)
        ]

    def gold_tags_for(self, example: Example, index: int) -> List[str]:
        """IOBES tags of the arguments of the predicate at `index`, per predicted token."""
        spans = example.reference.spans[srl_key(index)]
        if not same_tokens(example):
            spans = example.get_aligned_spans_y2x(spans)
        return list(spans_to_tags(span_tuples(spans), len(example.predicted), "iobes"))

    def write_frame(self, doc: Doc, index: int, spans: List[Span]) -> None:
        """The arguments of the predicate at `index`, keeping its group's attrs (a given
        predicate's lemma) and filling in those missing."""
        key = srl_key(index)
        attrs = dict(doc.spans[key].attrs) if key in doc.spans else {}
        attrs.setdefault("predicate", index)
        attrs.setdefault("lemma", doc[index].lemma_ or doc[index].lower_)
        doc.spans[key] = SpanGroup(doc, name=key, attrs=attrs, spans=spans)


@dataclass(frozen=True)
class Constituents(Annotation):
    """A constituency tree: the span group `doc.spans[key]`, one span per constituent in
    pre-order (constituency.py; Span extensions labels/parent/children/parse_string). Learned
    level by level (constituents.tree_levels), not as one tag per token: its labels are the
    merged labels of the levels (a unary chain S -> VP is one label, S#VP)."""

    key: str = CONSTITUENTS_KEY

    @property
    def where(self) -> str:
        return f"doc.spans[{self.key!r}]"

    def has(self, doc: Doc, complete: bool = False) -> bool:
        return self.key in doc.spans

    def read(self, doc: Doc) -> List[SpanTuple]:
        return doc_constituents(doc, self.key)

    def tags(self, doc: Doc, scheme: str = "senna") -> List[str]:
        """SENNA's -psg column ('(S1(S(NP*', '*', '*))'), the doc as one sentence."""
        return doc_senna_column(doc)

    def feature_tags(self, doc: Doc) -> List[str]:
        """SENNA's PT0: the IOBES tags of the tree's first level (its phrases of words only),
        which a parser limited to one level (max_levels = 1) predicts as well as a whole one."""
        if not self.has(doc):
            return [""] * len(doc)
        levels = tree_levels(len(doc), self.read(doc))
        return list(levels[0].tags) if levels else ["O"] * len(doc)

    def labels(self, doc: Doc) -> Iterator[str]:
        return (label for _, _, label in merge_chains(self.read(doc)))

    def copy(self, source: Doc, target: Doc) -> None:
        if self.has(source):
            set_constituents(target, self.read(source), self.key)

    def record(self, doc: Doc) -> List[List]:
        return [list(constituent) for constituent in self.read(doc)]

    def write(self, doc: Doc, constituents: Sequence[SpanTuple]) -> None:
        set_constituents(doc, constituents, self.key)

    def gold_tags(self, example: Example) -> List[MissingTag]:
        raise NotImplementedError("a tree has one tag sequence per level: constituents.tree_levels")

    def set_decoded(self, docs: Sequence[Doc], tag_ids: Sequence[numpy.ndarray], labels: Sequence[str]) -> None:
        raise NotImplementedError("the parser decodes level by level and writes constituents (write)")


# -- the tasks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One SENNA task and its names in each place that handles it."""

    name: str  # the task's own name: metrics/<name>.json, scripts/results.py
    title: str  # for messages: "POS tagging"
    flag: str  # the SENNA binary's option, without its dash: -pos
    factory: str  # the spaCy factory of its component
    scorer: str  # the registered scorer
    corpus_format: str  # readers.FORMATS or PTB_FORMAT: the benchmark corpus it is trained and scored on
    corpus_scheme: str  # how the corpus files write its tags: "tags", "iob2", "iob1", "start-end"
    score_prefixes: Tuple[str, ...]  # the keys of its scores, by prefix
    main_score: str  # the score it is judged by
    annotation: Annotation = field(compare=False)
    record_key: str = ""  # its field in annotate's JSON records
    feature: Optional[str] = None  # the token feature (SennaEmbed.v1 token_features) that embeds it
    assigns: Tuple[str, ...] = ()  # other components do the task when they assign one of these

    @property
    def component(self) -> str:
        """The factory's name without its `senna_` prefix: the task's MixtureCorpus argument."""
        return self.factory[len("senna_"):]

    def annotation_of(self, component: Any) -> Annotation:
        """A component's annotation (its own spans key or extension), else the task's."""
        return getattr(component, "annotation", None) or self.annotation


POS = Task(
    "pos", "POS tagging", "pos", "senna_tagger", "spacy_senna.tagger_scorer.v1", "wsj", "tags",
    ("tag_", "pos_"), "tag_acc", TokenTags(), "tags", "tag", ("token.tag", "token.tag_"),
)
CHUNK = Task(
    "chunk", "chunking", "chk", "senna_chunker", "spacy_senna.chunk_scorer.v1", "conll2000", "iob2",
    ("chunk", "spans_chunks_"), "spans_chunks_f", GroupPhrases(CHUNKS_KEY), "chunks", "chunk",
)
NER = Task(
    "ner", "NER", "ner", "senna_ner", "spacy_senna.ner_scorer.v1", "conll2003", "iob1",
    ("ents_",), "ents_f", Entities(), "ents", None, ("doc.ents", "token.ent_iob"),
)
SRL = Task(
    "srl", "SRL", "srl", "senna_srl", "spacy_senna.srl_scorer.v1", "conll2005", "start-end",
    ("srl_", "spans_srl_"), "spans_srl_f", Frames(), "srl",
)

PSG = Task(
    "psg", "constituency parsing", "psg", "senna_parser", "spacy_senna.parser_scorer.v1", "ptb", "trees",
    ("constituents_",), "constituents_f", Constituents(), "constituents", "pt0",
)

TASKS: Tuple[Task, ...] = (POS, CHUNK, NER, SRL, PSG)  # in SENNA's column order
assert tuple(task.flag for task in TASKS) == TASK_FLAGS, "dropin.args.TASK_FLAGS lists the tasks' flags"
BY_NAME: Dict[str, Task] = {task.name: task for task in TASKS}
BY_FLAG: Dict[str, Task] = {task.flag: task for task in TASKS}
BY_FACTORY: Dict[str, Task] = {task.factory: task for task in TASKS}
BY_FORMAT: Dict[str, Task] = {task.corpus_format: task for task in TASKS}
BY_COMPONENT: Dict[str, Task] = {task.component: task for task in TASKS}
BY_FEATURE: Dict[str, Task] = {task.feature: task for task in TASKS if task.feature}


def with_key(annotation: Annotation, **settings: Any) -> Annotation:
    """The annotation kind with other settings (a chunker's spans key, a tagger's extension)."""
    return replace(annotation, **settings)


def task_of(factory: str, assigns: Iterable[str] = ()) -> Optional[Task]:
    """The task a component does: by its factory, else by what it assigns (a stock tagger or
    entity recogniser does POS or NER)."""
    if factory in BY_FACTORY:
        return BY_FACTORY[factory]
    assigns = set(assigns)
    return next((task for task in TASKS if assigns & set(task.assigns)), None)
