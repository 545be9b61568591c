"""The sequence-labelling component that the SENNA taggers share.

A subclass names its task (`task`, an entry of spacy_senna.tasks): the task's annotation
(`self.annotation`) says how gold tags are read from a reference doc, which labels it holds
and how decoded tags are written onto a doc. This class does the rest: label inventory,
feature vocabulary, loss (sentence-level log-likelihood or word-level softmax), decoding, and
the usual spaCy component API (`update` is TrainablePipe's).
"""
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
from spacy.errors import Errors
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.util import ensure_path
from spacy.vocab import Vocab
from thinc.api import Model
from thinc.types import Floats2d, Ints1d

from ..ensemble import decode_mean, mean_scores
from ..layers.attr_embed import feature_layers, layer_annotation
from ..layers.crf import sll_loss, viterbi_decode
from ..layers.embed import embed_layers, load_word_tables, prepare_tables, save_word_tables, word_tables_set_aside
from ..tasks import BY_FEATURE, Annotation, MissingTag, Task
from .sentences import join_sentences, split_docs


class SennaSequencePipe(TrainablePipe):
    """Base class: per-token tag scores from a SENNA network, decoded to one tag per token."""

    task: Task  # set by each subclass
    can_ensemble = True  # its scores can be averaged with other pipelines' (spacy_senna.ensemble)

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str,
        *,
        scorer: Optional[Callable] = None,
        annotation: Optional[Annotation] = None,
    ) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.annotation = annotation or self.task.annotation
        self.cfg: Dict = {"labels": []}
        self._tag_ids: Optional[Tuple[tuple, Dict[str, int]]] = None  # (the labels, their tag ids)
        self.ensemble: List[Model] = []  # other pipelines' models to average with (ensemble.join_ensemble)

    # -- serialization: TrainablePipe's, with the word tables in files of their own ----------
    def to_disk(self, path, *, exclude=tuple()) -> None:
        """TrainablePipe's, except that each word table goes to its own .npy file beside
        `model` (layers/embed.py), which `from_disk` maps into memory."""
        path = ensure_path(path)
        if "model" in exclude:
            return super().to_disk(path, exclude=exclude)
        with word_tables_set_aside(self.model) as tables:
            super().to_disk(path, exclude=exclude)
        save_word_tables(tables, path)

    def from_disk(self, path, *, exclude=tuple()) -> "SennaSequencePipe":
        path = ensure_path(path)
        super().from_disk(path, exclude=exclude)
        if "model" not in exclude:
            load_word_tables(self.model, path, self.name)
        return self

    # -- labels -----------------------------------------------------------------------
    @property
    def labels(self) -> tuple:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> List[str]:
        return list(self.labels)

    @property
    def tag_names(self) -> List[str]:
        """The model's output classes: IOBES tags over the labels, or the labels themselves."""
        return self.annotation.tag_names(self.labels)

    @property
    def tag_ids(self) -> Dict[str, int]:
        """Each tag name's class id, built again only when the labels change (training looks up
        every gold tag: building the parser's 441 tag names each time was much of its step)."""
        labels = self.labels
        if self._tag_ids is None or self._tag_ids[0] != labels:
            self._tag_ids = (labels, {tag: i for i, tag in enumerate(self.tag_names)})
        return self._tag_ids[1]

    def add_label(self, label: str) -> int:
        if not isinstance(label, str):
            raise ValueError(f"[{self.name}] labels must be strings, got {label!r}")
        if label in self.labels:
            return 0
        if self.model.get_ref("output_layer").has_dim("nO"):
            raise ValueError(
                f"[{self.name}] cannot add label {label!r}: the model is already initialised "
                f"with {len(self.labels)} labels; add labels before nlp.initialize()"
            )
        self.cfg["labels"].append(label)
        self.vocab.strings.add(label)
        self._tag_ids = None
        return 1

    # -- annotation, through the task's entry ------------------------------------------
    def gold_tags(self, example: Example) -> List[MissingTag]:
        """One tag name (from `tag_names`) per predicted token, None where there is no gold."""
        return self.annotation.gold_tags(example)

    def example_labels(self, example: Example) -> Iterable[str]:
        """The labels annotated in an example's reference doc."""
        return self.annotation.labels(example.reference)

    # -- prediction --------------------------------------------------------------------
    def predict(self, docs: Iterable[Doc]) -> List[Ints1d]:
        """Tag ids per token of each doc, each sentence (`doc.sents`, when set) tagged alone."""
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            return [numpy.zeros((len(doc),), dtype="int32") for doc in docs]
        check_tags(self.name, self.model, docs)
        sentences, layout = split_docs(docs, skip_space=True)
        tag_ids = self.decode(mean_scores([self.model, *self.ensemble], sentences)) if sentences else []
        return join_sentences(tag_ids, layout, [len(doc) for doc in docs])

    def decode(self, scores: List[Floats2d]) -> List[Ints1d]:
        """Best tag ids per token: Viterbi with the SLL layer (the ensemble's mean one, when
        there is an ensemble), else the argmax of each token."""
        if self.model.has_ref("sll") and self.ensemble:
            return decode_mean([self.model, *self.ensemble], scores)
        if self.model.has_ref("sll"):
            return viterbi_decode(self.model.get_ref("sll"), scores)
        return [self.model.ops.to_numpy(s.argmax(axis=1)).astype("int32") for s in scores]

    def set_annotations(self, docs: Iterable[Doc], tag_ids: List[Ints1d]) -> None:
        """The decoded tags onto the docs, as the task's annotation (whitespace tokens get
        spaCy's `_SP` tag, or are in no phrase except inside one that spans them)."""
        self.annotation.set_decoded(list(docs), tag_ids, self.labels)

    # -- training (update: TrainablePipe's) ----------------------------------------------
    def get_loss(self, examples: Iterable[Example], scores: List[Floats2d]):
        """Loss per gold token, and its gradient: SLL, or softmax cross-entropy per token."""
        validate_examples(examples, f"{type(self).__name__}.get_loss")
        allowed = [self._allowed_tags(eg) for eg in examples]
        n_gold = max(1, sum(int((row.sum(1) == 1).sum()) for row in allowed))
        if self.model.has_ref("sll"):
            loss, d_scores = sll_loss(self.model.get_ref("sll"), scores, allowed)
        else:
            loss, d_scores = _softmax_loss(self.model.ops, scores, allowed)
        check_loss(self.name, loss)
        d_scores = [d / n_gold for d in d_scores]
        return loss / n_gold, d_scores

    def _allowed_tags(self, example: Example) -> numpy.ndarray:
        """(n_tokens, n_tags) booleans: the gold tag, or every tag where gold is missing."""
        ids = self.tag_ids
        gold = self.gold_tags(example)
        allowed = numpy.ones((len(gold), len(ids)), dtype="bool")
        for i, tag in enumerate(gold):
            if tag is None:
                continue
            if tag not in ids:
                raise ValueError(
                    f"[{self.name}] gold tag {tag!r} (token {i} of {example.reference.text[:60]!r}) "
                    f"is not among the component's labels {list(self.labels)}"
                )
            allowed[i] = False
            allowed[i, ids[tag]] = True
        return allowed

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Sequence[str]] = None,
    ) -> None:
        """Collect labels and the feature vocabulary from the training data, then size the model."""
        validate_get_examples(get_examples, f"{type(self).__name__}.initialize")
        examples = list(get_examples())  # read the corpus once
        self.prepare_model(examples, labels)
        self.model.initialize(X=[eg.predicted for eg in examples[:10]])

    def labels_from_examples(self, examples: List[Example]) -> List[str]:
        return sorted({label for eg in examples for label in self.example_labels(eg)})

    def prepare_model(self, examples: List[Example], labels: Optional[Sequence[str]] = None) -> None:
        """Before model initialisation: the labels, the lookup tables' vocabularies and the
        output sizes, from the training examples."""
        if labels is None:
            labels = self.labels_from_examples(examples)
        for label in labels:
            self.add_label(label)
        if not self.labels:
            raise ValueError(f"[{self.name}] no labels found in the training examples")
        for layer in embed_layers(self.model):
            prepare_tables(layer, [eg.predicted for eg in examples], self.vocab)
        n_tags = len(self.tag_names)
        self.model.get_ref("output_layer").set_dim("nO", n_tags)
        if self.model.has_ref("sll"):
            self.model.get_ref("sll").set_dim("nO", n_tags)
            if self.annotation.phrases:  # decode and train over valid IOBES paths only
                self.model.get_ref("sll").attrs["iobes_labels"] = len(self.labels)


def check_tags(name: str, model: Model, docs: List[Doc]) -> None:
    """A clear error, not silently worse output, when a model that embeds an earlier
    component's annotation (POS tags, chunks, the tree's first level) gets a doc without it."""
    for layer in feature_layers(model):
        annotation = layer_annotation(layer)
        if any(len(doc) and not annotation.has(doc) for doc in docs):
            task = BY_FEATURE[layer.attrs["attr"]]
            raise ValueError(
                f"[{name}] its model reads {annotation.where} but a doc has no {task.title} annotation: "
                f"put a {task.factory} before {name}"
            )


def check_loss(name: str, loss: float) -> None:
    """spaCy's error for a NaN loss (E910), as its own trainable components raise it."""
    if numpy.isnan(loss):
        raise ValueError(Errors.E910.format(name=name))


def _softmax_loss(ops, scores: List[Floats2d], allowed: List[numpy.ndarray]):
    """Word-level log-likelihood: cross-entropy of each gold token's softmax; missing gold adds nothing."""
    loss = 0.0
    d_scores = []
    for s, allow in zip(scores, allowed):
        s = ops.to_numpy(s).astype("float64")
        probs = numpy.exp(s - s.max(1, keepdims=True))
        probs /= probs.sum(1, keepdims=True)
        has_gold = allow.sum(1) == 1
        target = allow.astype("float64") * has_gold[:, None]
        loss += float(-(numpy.log(probs + 1e-12) * target).sum())
        d_scores.append(ops.asarray2f(((probs - target) * has_gold[:, None]).astype("float32")))
    return loss, d_scores
