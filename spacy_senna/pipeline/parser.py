"""senna_parser: SENNA's constituency parser (its -psg), Collobert (2011), level by level.

The tree is a stack of levels (constituents.tree_levels): level 1 labels the words with IOBES
constituent tags, each next level labels the units left by the levels below (the
constituents found, and the words none covers yet), until one constituent covers the
sentence. One network (architectures.LevelParser.v1) scores every level from the words and
the tree built so far; Viterbi over valid IOBES paths decodes each level. Training feeds the
gold levels below (teacher forcing), or with `own_level_rate` the model's own levels now and
then (scheduled sampling: the trees it is trained over are then those that it builds, its
target at each level the oracle's, constituents.oracle_tags); inference runs level after
level, the sentences of a batch together, until each has its root, a level finds nothing,
or the level limit.
A level may not put a constituent over a single unit that is one already (unary chains are
one merged label, S#VP), so every level makes progress and a sentence of n words needs at
most 2n levels.

The tree goes to `doc.spans["constituents"]` (constituency.py: its Span extensions and the
SENNA column).
"""
from collections import Counter
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Model, set_dropout_rate

from ..constituents import (
    Level,
    NotATreeError,
    level_constituents,
    oracle_tags,
    sort_constituents,
    split_chains,
    top_label,
    tree_levels,
    unit_history,
)
from ..layers.crf import sll_loss, viterbi_decode
from ..layers.levels import LevelBatch, LevelItem, LevelScorer
from ..level_inference import LEVEL_BATCH_WORDS, Parse, Tree, add_level, decode_level, level_items, parse_in_groups, parse_levels, single_tags
from ..scoring import score_constituents
from ..tasks import PSG, same_tokens, with_key
from .base import SennaSequencePipe, check_loss, check_tags
from .defaults import DEFAULT_PARSER_MODEL
from .sentences import split_docs

@Language.factory(
    "senna_parser",
    assigns=["doc.spans"],
    default_config={
        "model": DEFAULT_PARSER_MODEL,
        "spans_key": PSG.annotation.key,
        "max_levels": 0,
        "min_label_count": 1,
        "own_level_rate": 0.0,
        "force_progress": True,
        "scorer": {"@scorers": "spacy_senna.parser_scorer.v1"},
    },
    default_score_weights={
        "constituents_f": 1.0,
        "constituents_p": 0.0,
        "constituents_r": 0.0,
        "constituents_per_type": None,
    },
)
def make_parser(
    nlp: Language,
    name: str,
    model: Model,
    spans_key: str,
    max_levels: int,
    min_label_count: int,
    own_level_rate: float,
    force_progress: bool,
    scorer: Optional[Callable],
) -> "SennaParser":
    return SennaParser(
        nlp.vocab,
        model,
        name,
        spans_key=spans_key,
        max_levels=max_levels,
        min_label_count=min_label_count,
        own_level_rate=own_level_rate,
        force_progress=force_progress,
        scorer=scorer,
    )


def check_own_level_rate(name: str, own_level_rate: float) -> None:
    if not 0.0 <= own_level_rate <= 1.0:
        raise ValueError(f"[{name}] own_level_rate must be in [0, 1], got {own_level_rate!r}")


class SennaParser(SennaSequencePipe):
    """Assigns a constituency tree to `doc.spans[spans_key]`, one sentence at a time.

    A unary chain label (S#VP) seen fewer than `min_label_count` times in the training trees
    is not in the tag set: it is trained as its top label (S; its lower constituents are not
    learnt), which keeps the tags (1 + 4 per label) and the SLL's cost down;
    scripts/parser_label_folding.py prints what each threshold costs on dev, at best.

    `own_level_rate`: in training, the chance that a sentence's next level is built from the
    model's own prediction of this one rather than from the gold one (0: teacher forcing).

    `force_progress` (default on): at inference, a level of two units or more that finds
    nothing is decoded again with O's scores lowered until it finds a constituent, so that the
    parse goes on towards a root instead of stopping there (level_inference.forced_levels;
    WSJ 21 F1 85.45 -> 85.62 for the configs/parser.cfg parser, which stopped without a root on
    141 of 1,671 sentences)."""

    task = PSG
    can_ensemble = False  # its levels are decoded one by one (its own predict)

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = PSG.factory,
        *,
        spans_key: str = PSG.annotation.key,
        max_levels: int = 0,
        min_label_count: int = 1,
        own_level_rate: float = 0.0,
        force_progress: bool = True,
        scorer=score_constituents,
    ):
        super().__init__(vocab, model, name, scorer=scorer, annotation=with_key(PSG.annotation, key=spans_key))
        if max_levels < 0:
            raise ValueError(f"[{name}] max_levels must be 0 (no limit but 2n) or more, got {max_levels}")
        if not isinstance(min_label_count, int) or min_label_count < 1:
            raise ValueError(f"[{name}] min_label_count must be 1 (every label) or more, got {min_label_count!r}")
        self.cfg["spans_key"] = spans_key
        self.cfg["max_levels"] = max_levels
        check_own_level_rate(name, own_level_rate)
        self.cfg["min_label_count"] = min_label_count
        self.cfg["own_level_rate"] = own_level_rate
        self.cfg["force_progress"] = bool(force_progress)

    @property
    def spans_key(self) -> str:
        return self.cfg["spans_key"]

    def score(self, examples, **kwargs):
        return self.scorer(examples, spans_key=self.spans_key, **kwargs)

    # -- prediction ----------------------------------------------------------------------
    def predict(self, docs: Iterable[Doc]) -> List[Tree]:
        """Each doc's constituents (merged labels), every sentence parsed on its own."""
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            return [[] for _ in docs]
        check_tags(self.name, self.model, docs)
        sentences, layout = split_docs(docs, skip_space=True)
        trees = self.parse(sentences)
        per_doc = []
        for entries in layout:
            constituents = []
            for index, positions in entries:
                constituents.extend(
                    (int(positions[start]), int(positions[end - 1]) + 1, label) for start, end, label in trees[index]
                )
            per_doc.append(constituents)
        return per_doc

    def parse(self, sentences: Sequence[Doc], max_words: int = LEVEL_BATCH_WORDS) -> List[Tree]:
        """The trees of whole sentences, level by level, the sentences of a group of at most
        `max_words` words together (level_inference.parse_in_groups, parse_levels)."""
        lengths = [len(doc) for doc in sentences]
        return parse_in_groups(lengths, lambda group: self._parse_together([sentences[i] for i in group]), max_words)

    def _parse_together(self, sentences: Sequence[Doc]) -> List[Tree]:
        ops = self.model.ops
        sll = self.model.get_ref("sll")
        scorer = LevelScorer(self.model, sentences)  # the word vectors and products, once for all levels
        return parse_levels(
            [len(doc) for doc in sentences],
            lambda items: [ops.to_numpy(s) for s in scorer(items)],
            lambda scores: viterbi_decode(sll, scores),
            self.tag_names,
            self.cfg["max_levels"],
            self.cfg["force_progress"],
        )

    def set_annotations(self, docs: Iterable[Doc], trees: List[Tree]) -> None:
        for doc, tree in zip(docs, trees):
            self.annotation.write(doc, split_chains(tree))

    # -- training --------------------------------------------------------------------------
    def gold_levels(self, example: Example):
        """The levels of the reference tree over the predicted tokens; None without a tree."""
        reference = example.reference
        if not self.annotation.has(reference):
            return None
        spans = reference.spans[self.spans_key]
        if not same_tokens(example):
            spans = example.get_aligned_spans_y2x(spans)
        try:
            levels = tree_levels(len(example.predicted), [(s.start, s.end, s.label_) for s in spans])
        except NotATreeError as err:
            raise ValueError(f"[{self.name}] the reference of {reference.text[:60]!r} is not a tree: {err}") from None
        known = set(self.labels)
        return [Level(level.unit_starts, tuple(_folded_tag(tag, known) for tag in level.tags)) for level in levels]

    def teacher_batch(self, examples: Sequence[Example]) -> Tuple[LevelBatch, List[numpy.ndarray]]:
        """Every gold level of the examples as one batch (its history from the gold levels
        below), and the gold unit tag ids of each level."""
        ids = self.tag_ids
        docs: List[Doc] = []
        items: List[LevelItem] = []
        gold: List[numpy.ndarray] = []
        for example in examples:
            levels = self.gold_levels(example)
            if not levels:
                continue
            n_words = len(example.predicted)
            doc_index = len(docs)
            docs.append(example.predicted)
            below: Tree = []
            for level in levels:
                history = numpy.array([ids[tag] for tag in unit_history(n_words, level.unit_starts, below)], dtype="int32")
                items.append(LevelItem(doc_index, history, numpy.array(level.unit_starts)))
                gold.append(numpy.array([self._tag_id(tag, ids, example) for tag in level.tags], dtype="int64"))
                below.extend(level_constituents(n_words, level.unit_starts, level.tags))
        return LevelBatch(docs, items), gold

    def sampled_batch(self, examples: Sequence[Example]) -> Tuple[LevelBatch, List[numpy.ndarray]]:
        """Like teacher_batch, over trees that the model partly builds: level after level,
        all sentences together, a sentence's next level is built from its oracle tags
        (constituents.oracle_tags: the gold level, as long as the tree below is gold) or,
        with chance `own_level_rate`, from the model's prediction, decoded as in `parse`.
        Every level visited is one item, its gold the oracle tags; a sentence stops as in
        `parse`, or when its oracle finds nothing more to build (after one all-O level)."""
        ids, names, rate = self.tag_ids, self.tag_names, self.cfg.get("own_level_rate", 0.0)
        sll, single = self.model.get_ref("sll"), single_tags(names)
        kept, golds = [], []
        for example in examples:
            levels = self.gold_levels(example)
            if levels:
                kept.append(example)
                n_words = len(example.predicted)
                golds.append(sort_constituents(c for level in levels for c in level_constituents(n_words, level.unit_starts, level.tags)))
        docs = [example.predicted for example in kept]
        parses = [Parse(len(doc), tuple(range(len(doc)))) for doc in docs]
        scorer: Optional[LevelScorer] = None
        items: List[LevelItem] = []
        gold: List[numpy.ndarray] = []
        active = list(range(len(docs)))
        while active:
            level = level_items(parses, active, ids)
            targets = [oracle_tags(parses[i].n_words, parses[i].unit_starts, parses[i].ranges, golds[i]) for i in active]
            items.extend(level)
            gold.extend(numpy.array([self._tag_id(tag, ids, kept[i]) for tag in tags], dtype="int64") for i, tags in zip(active, targets))
            found = [level_constituents(parses[i].n_words, parses[i].unit_starts, tags) for i, tags in zip(active, targets)]
            own = [k for k in range(len(active)) if numpy.random.random_sample() < rate]
            if own:
                scorer = scorer or LevelScorer(self.model, docs)
                scores = [self.model.ops.to_numpy(s) for s in scorer([level[k] for k in own])]
                predicted = decode_level([parses[active[k]] for k in own], scores, lambda x: viterbi_decode(sll, x), names, single)
                for k, constituents in zip(own, predicted):
                    found[k] = constituents
            active = [i for i, constituents in zip(active, found) if add_level(parses[i], constituents, self.cfg["max_levels"])]
        return LevelBatch(docs, items), gold

    def _tag_id(self, tag: str, ids: Dict[str, int], example: Example) -> int:
        if tag not in ids:
            raise ValueError(
                f"[{self.name}] gold tag {tag!r} (in {example.reference.text[:60]!r}) is not among the "
                f"component's {len(self.labels)} labels"
            )
        return ids[tag]

    def update(self, examples: Iterable[Example], *, drop: float = 0.0, sgd=None, losses: Optional[Dict[str, float]] = None) -> Dict[str, float]:
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "SennaParser.update")
        own_levels = self.cfg.get("own_level_rate", 0.0) > 0.0
        batch, gold = self.sampled_batch(examples) if own_levels else self.teacher_batch(examples)
        if not batch.items:
            return losses
        set_dropout_rate(self.model, drop)
        scores, backprop = self.model.begin_update(batch)
        loss, d_scores = self._loss(scores, gold)
        backprop(d_scores)
        if sgd not in (None, False):
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def get_loss(self, examples: Iterable[Example], scores):
        """SLL per gold unit over the levels of `teacher_batch(examples)`, whose scores these are."""
        validate_examples(examples, "SennaParser.get_loss")
        return self._loss(scores, self.teacher_batch(list(examples))[1])

    def _loss(self, scores, gold: List[numpy.ndarray]):
        n_tags = len(self.tag_names)
        allowed = [numpy.eye(n_tags, dtype="bool")[tags] for tags in gold]
        loss, d_scores = sll_loss(self.model.get_ref("sll"), scores, allowed)
        check_loss(self.name, loss)
        n_units = max(1, sum(len(tags) for tags in gold))
        return loss / n_units, [d / n_units for d in d_scores]

    def labels_from_examples(self, examples: List[Example]) -> List[str]:
        """The merged labels of the training trees, less the chains seen fewer than
        `min_label_count` times (their top labels stand in for them)."""
        counts = Counter(label for eg in examples for label in self.example_labels(eg))
        threshold = self.cfg.get("min_label_count", 1)
        return sorted({label if count >= threshold else top_label(label) for label, count in counts.items()})

    def initialize(self, get_examples: Callable[[], Iterable[Example]], *, nlp: Optional[Language] = None, labels: Optional[Sequence[str]] = None) -> None:
        """Labels (merged, S#VP) and the feature vocabulary from the training trees; then the model."""
        validate_get_examples(get_examples, "SennaParser.initialize")
        examples = list(get_examples())
        self.prepare_model(examples, labels)
        self.model.get_ref("levels").set_dim("nH", len(self.tag_names))
        batch, _ = self.teacher_batch(examples[:10])
        if not batch.items:
            raise ValueError(f"[{self.name}] none of the first training examples has a tree in {self.annotation.where}")
        self.model.initialize(X=batch)


def _folded_tag(tag: str, labels: Set[str]) -> str:
    """A level tag whose chain label is not among `labels` as the tag of its top label."""
    if tag == "O":
        return tag
    prefix, label = tag.split("-", 1)
    if label in labels or top_label(label) not in labels:
        return tag  # an unknown label that is no chain of a known one is named by _tag_id
    return f"{prefix}-{top_label(label)}"
