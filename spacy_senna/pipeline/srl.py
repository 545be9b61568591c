"""senna_srl: semantic role labelling with SENNA's sentence network.

One span group per predicate, `doc.spans["srl:<token index>"]`, holding the predicate's
arguments (labels as in the data: A0, A1, AM-TMP, C-A1, R-A0, ... and V for the verb), with
`group.attrs = {"predicate": i, "lemma": ...}`; `doc._.srl` lists the frames.
"""
from collections import Counter
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Model, set_dropout_rate
from thinc.types import Floats2d, Ints1d

from ..inference import row_bounded_chunks
from ..layers.crf import sll_loss
from ..srl_format import srl_key
from ..tags import iobes_phrases
from ..tasks import SRL
from ..util import ensure_token_extension
from .base import SennaSequencePipe, _softmax_loss, check_loss, check_tags
from .defaults import DEFAULT_SRL_MODEL
from .sentences import join_sentences, sentence_pieces, split_docs

PREDICATE_MODES = ("auto", "model", "pos", "given")
DEFAULT_MAX_SENTENCE_LENGTH = 200
PREDICT_MAX_ROWS = 2048  # (predicate, word) rows per forward pass at inference: bounds its memory

Frame = Tuple[int, int, Ints1d]  # (predicate token, first token of its piece, tag ids over the piece)

ensure_token_extension("srl_predicate", default=False)


def srl_frames(doc: Doc) -> List[Dict]:
    """The frames of a doc: [{"predicate": Token, "arguments": [Span, ...]}], in token order."""
    frames = []
    for index in SRL.annotation.predicates(doc):
        group = doc.spans[srl_key(index)]
        arguments = [span for span in group if span.label_ != "V"]
        frames.append({"predicate": doc[index], "lemma": group.attrs.get("lemma"), "arguments": arguments})
    return frames


if not Doc.has_extension("srl"):
    Doc.set_extension("srl", getter=srl_frames)


def marked_predicates(doc: Doc) -> set:
    """Tokens the user marked with `token._.srl_predicate = True` (read from the doc's user data,
    where spaCy keeps extension values, so unmarked docs cost no per-token lookups)."""
    marked = set()
    for key, value in doc.user_data.items():
        if isinstance(key, tuple) and len(key) == 4 and key[1] == "srl_predicate" and value:
            marked.add(doc.char_span(key[2], key[2] + 1, alignment_mode="expand")[0].i)
    return marked


@Language.factory(
    "senna_srl",
    assigns=["doc.spans"],
    default_config={
        "model": DEFAULT_SRL_MODEL,
        "predicates": "auto",
        "min_label_count": 1,
        "max_sentence_length": DEFAULT_MAX_SENTENCE_LENGTH,
        "scorer": {"@scorers": "spacy_senna.srl_scorer.v1"},
    },
    default_score_weights={
        "spans_srl_f": 1.0,
        "spans_srl_p": 0.0,
        "spans_srl_r": 0.0,
        "spans_srl_per_type": None,
        "srl_pred_p": None,
        "srl_pred_r": None,
        "srl_pred_f": None,
    },
)
def make_srl(
    nlp: Language,
    name: str,
    model: Model,
    predicates: str,
    min_label_count: int,
    max_sentence_length: int,
    scorer: Optional[Callable],
) -> "SennaSRL":
    return SennaSRL(
        nlp.vocab,
        model,
        name,
        predicates=predicates,
        min_label_count=min_label_count,
        max_sentence_length=max_sentence_length,
        scorer=scorer,
    )


class SennaSRL(SennaSequencePipe):
    """Labels the arguments of each predicate: IOBES tags decoded per predicate.

    Argument labels seen fewer than `min_label_count` times in the training data are left
    out of the tag set; their tokens count as unannotated in the loss.

    `predicates`: "given" (the doc's `srl:<i>` groups and `token._.srl_predicate` marks),
    "model" (the predicate detector), "pos" (tokens tagged VB*), or "auto": the given ones
    when a doc has any, else the detector (the POS rule without one). Each sentence
    (`doc.sents` when set) is labelled alone, cut into pieces of at most
    `max_sentence_length` tokens (0: no limit), which bounds time and memory.
    """

    task = SRL
    can_ensemble = False  # its scores are per predicate (its own predict)

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = SRL.factory,
        *,
        predicates: str = "auto",
        min_label_count: int = 1,
        max_sentence_length: int = DEFAULT_MAX_SENTENCE_LENGTH,
        scorer: Optional[Callable] = None,
    ):
        super().__init__(vocab, model, name, scorer=scorer)
        self.cfg["min_label_count"] = min_label_count
        if predicates not in PREDICATE_MODES:
            raise ValueError(f"[{name}] predicates must be one of {PREDICATE_MODES}, got {predicates!r}")
        if predicates == "model" and not model.has_ref("predicate_detector"):
            raise ValueError(f"[{name}] predicates = 'model' needs a model with a predicate_detector")
        if not isinstance(max_sentence_length, int) or max_sentence_length < 0:
            raise ValueError(f"[{name}] max_sentence_length must be 0 (no limit) or a positive number of tokens, got {max_sentence_length!r}")
        self.max_sentence_length = max_sentence_length  # like `predicates`, a load-time setting
        # Not in cfg: cfg is saved with the pipeline, and how predicates are found is a
        # setting of the loaded pipeline (`spacy.load(..., config=...)`), not of the trained one.
        self.predicates = predicates

    @property
    def _rare_labels(self) -> set:
        return set(self.cfg.get("rare_labels", []))

    # -- predicates --------------------------------------------------------------------
    def find_predicates(self, docs: List[Doc]) -> List[Ints1d]:
        """Predicate positions per doc, as configured: given, from POS tags, predicted, or
        ("auto") given where a doc has them, else predicted (from POS tags without a detector)."""
        mode = self.predicates
        if mode == "model":
            return self._detect_predicates(docs)
        found = [_given_predicates(doc) if mode in ("given", "auto") else _pos_predicates(doc) for doc in docs]
        if mode == "auto":
            missing = [i for i, (doc, given) in enumerate(zip(docs, found)) if len(doc) and not len(given)]
            if self.model.has_ref("predicate_detector"):
                fallback = self._detect_predicates([docs[i] for i in missing])
            else:
                fallback = [_pos_predicates(docs[i]) for i in missing]
            for i, predicates in zip(missing, fallback):
                found[i] = predicates
        return found

    def _detect_predicates(self, docs: List[Doc]) -> List[Ints1d]:
        """The detector's predicates per doc, each sentence tagged alone."""
        detector = self.model.get_ref("predicate_detector")
        sentences, owners = split_docs(docs, skip_space=True)  # a whitespace token is no predicate
        scores = detector.predict(sentences) if sentences else []
        is_predicate = [detector.ops.to_numpy(s).argmax(axis=1) == 1 for s in scores]
        joined = join_sentences(is_predicate, owners, [len(doc) for doc in docs], fill=0)
        return [numpy.flatnonzero(flags).astype("int32") for flags in joined]

    def gold_predicates(self, example: Example) -> Ints1d:
        return numpy.array(self.annotation.predicates(example.reference), dtype="int32")

    # -- prediction --------------------------------------------------------------------
    def predict(self, docs: Iterable[Doc]) -> List[List[Frame]]:
        """Per doc, a (predicate, first token of its sentence piece, tag ids over that piece)
        for each predicate; each piece (a sentence, cut at `max_sentence_length`) runs alone."""
        docs = list(docs)
        check_tags(self.name, self.model, docs)
        pieces: List[Doc] = []
        piece_predicates: List[Ints1d] = []
        owners: List[Tuple[int, int]] = []  # (doc number, first token) of each piece
        for d, (doc, doc_predicates) in enumerate(zip(docs, self.find_predicates(docs))):
            if not len(doc_predicates):
                continue
            for piece, start in sentence_pieces(doc, self.max_sentence_length):
                inside = doc_predicates[(doc_predicates >= start) & (doc_predicates < start + len(piece))]
                if len(inside):
                    pieces.append(piece)
                    piece_predicates.append((inside - start).astype("int32"))
                    owners.append((d, start))
        tag_ids: List[Ints1d] = []
        for first, end in row_bounded_chunks([len(piece) for piece in pieces], [len(p) for p in piece_predicates], PREDICT_MAX_ROWS):
            tag_ids.extend(self.decode(self.model.predict((pieces[first:end], piece_predicates[first:end]))))
        frames: List[List[Frame]] = [[] for _ in docs]
        decoded = iter(tag_ids)
        for (d, start), local in zip(owners, piece_predicates):
            frames[d].extend((start + index, start, next(decoded)) for index in local.tolist())
        return frames

    def set_annotations(self, docs: Iterable[Doc], frames: List[List[Frame]]) -> None:
        label_hashes = [self.vocab.strings.add(label) for label in self.labels]
        for doc, doc_frames in zip(docs, frames):
            for index, offset, ids in doc_frames:
                starts, ends, labels = iobes_phrases(ids, len(label_hashes))
                spans = [
                    Span(doc, offset + s, offset + e, label_hashes[k])
                    for s, e, k in zip(starts.tolist(), ends.tolist(), labels.tolist())
                ]
                self.annotation.write_frame(doc, index, spans)

    # -- training ----------------------------------------------------------------------
    def update(self, examples: Iterable[Example], *, drop: float = 0.0, sgd=None, losses=None):
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)  # all of them, in order: a listener checks it gets the whole batch
        validate_examples(examples, "SennaSRL.update")
        if not any(len(eg.predicted) for eg in examples):
            return losses
        set_dropout_rate(self.model, drop)
        docs = [eg.predicted for eg in examples]
        predicates = [self.gold_predicates(eg) for eg in examples]
        if any(len(p) for p in predicates):
            scores, backprop = self.model.begin_update((docs, predicates))
            loss, d_scores = self._srl_loss(examples, predicates, scores)
            backprop(d_scores)
            losses[self.name] += loss
        if self.model.has_ref("predicate_detector"):
            annotated = [self.annotation.has(eg.reference) for eg in examples]
            losses[self.name] += self._update_detector(docs, predicates, annotated)
        if sgd not in (None, False):
            self.finish_update(sgd)
        return losses

    def _srl_loss(self, examples, predicates, scores) -> Tuple[float, List[Floats2d]]:
        ids = self.tag_ids
        allowed = []
        for example, doc_predicates in zip(examples, predicates):
            for index in doc_predicates.tolist():
                gold = self.annotation.gold_tags_for(example, index)
                rows = numpy.zeros((len(gold), len(ids)), dtype="bool")
                for i, tag in enumerate(gold):
                    if tag in ids:
                        rows[i, ids[tag]] = True
                    elif tag[2:] in self._rare_labels:
                        rows[i] = True  # a label left out of the tag set: no gold here
                    else:
                        raise ValueError(f"[{self.name}] gold tag {tag!r} is not among the labels {list(self.labels)}")
                allowed.append(rows)
        n_gold = max(1, sum(len(a) for a in allowed))
        if self.model.has_ref("sll"):
            loss, d_scores = sll_loss(self.model.get_ref("sll"), scores, allowed)
        else:
            loss, d_scores = _softmax_loss(self.model.ops, scores, allowed)
        check_loss(self.name, loss)
        return loss / n_gold, [d / n_gold for d in d_scores]

    def _update_detector(self, docs, predicates, annotated: List[bool]) -> float:
        """Train the predicate detector on the docs with SRL annotation (the others have no gold)."""
        detector = self.model.get_ref("predicate_detector")
        scores, backprop = detector.begin_update(docs)
        allowed = []
        for doc, doc_predicates, has_gold in zip(docs, predicates, annotated):
            if not has_gold:
                allowed.append(numpy.ones((len(doc), 2), dtype="bool"))
                continue
            is_predicate = numpy.zeros((len(doc),), dtype="int64")
            is_predicate[doc_predicates] = 1
            allowed.append(numpy.eye(2, dtype="bool")[is_predicate])
        loss, d_scores = _softmax_loss(detector.ops, scores, allowed)
        n_tokens = max(1, sum(len(doc) for doc, has_gold in zip(docs, annotated) if has_gold))
        backprop([d / n_tokens for d in d_scores])
        return loss / n_tokens

    def get_loss(self, examples: Iterable[Example], scores):
        examples = list(examples)
        predicates = [self.gold_predicates(eg) for eg in examples]
        return self._srl_loss(examples, predicates, scores)

    @property
    def label_data(self) -> Dict[str, int]:
        """How often each argument label occurs in the training data, rare ones included (what
        `spacy init labels` saves): `initialize(labels=...)` applies `min_label_count` to it."""
        counts = self.cfg.get("label_counts")
        if counts:
            return dict(counts)
        return {label: self.cfg["min_label_count"] for label in self.labels}

    def labels_from_examples(self, examples: List[Example]) -> List[str]:
        return self._frequent_labels(Counter(label for eg in examples for label in self.example_labels(eg)))

    def _frequent_labels(self, counts: Mapping[str, int]) -> List[str]:
        """The labels counted at least `min_label_count` times; the others are kept as rare."""
        self.cfg["label_counts"] = {label: int(counts[label]) for label in sorted(counts)}
        labels = sorted(label for label, count in counts.items() if count >= self.cfg["min_label_count"])
        self.cfg["rare_labels"] = sorted(set(counts) - set(labels))
        return labels

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp=None,
        labels: Optional[Union[Dict[str, int], List[str]]] = None,
    ) -> None:
        """`labels`: label counts (`label_data`, from `spacy init labels`), thinned out by
        `min_label_count` as the training data's are; or a list of labels to keep, the data's
        other labels counting as rare (unannotated in the loss)."""
        validate_get_examples(get_examples, "SennaSRL.initialize")
        examples = list(get_examples())  # read the corpus once
        if isinstance(labels, Mapping):
            labels = self._frequent_labels(labels)
        elif labels is not None:
            seen = {label for eg in examples for label in self.example_labels(eg)}
            self.cfg["rare_labels"] = sorted(seen - set(labels))
        self.prepare_model(examples, labels)
        if self.model.has_ref("predicate_detector"):
            self.model.get_ref("predicate_detector").get_ref("output_layer").set_dim("nO", 2)
        sample = [eg for eg in examples[:20] if len(eg.predicted)]
        docs = [eg.predicted for eg in sample]
        self.model.initialize(X=(docs, [self.gold_predicates(eg) for eg in sample]))


def _given_predicates(doc: Doc) -> Ints1d:
    """The doc's `srl:<i>` groups and `token._.srl_predicate` marks."""
    return numpy.array(sorted(set(SRL.annotation.predicates(doc)) | marked_predicates(doc)), dtype="int32")


def _pos_predicates(doc: Doc) -> Ints1d:
    """The tokens whose POS tag starts with VB (SENNA's -posvbs)."""
    if len(doc) and not doc.has_annotation("TAG"):
        raise ValueError("[senna_srl] predicates = 'pos' reads token.tag_ but a doc has no POS tags: put a senna_tagger before it")
    return numpy.array([t.i for t in doc if t.tag_.startswith("VB")], dtype="int32")
