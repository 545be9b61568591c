"""The sequence-labelling component that the SENNA taggers share.

A subclass says what its gold tags are (`gold_tags`), how tags turn into annotation
(`set_doc_annotation`) and which labels an example holds (`example_labels`); this class
does the rest: label inventory, feature vocabulary, loss (sentence-level log-likelihood or
word-level softmax), decoding, and the usual spaCy component API.
"""
from typing import Callable, Dict, Iterable, List, Optional, Sequence

import numpy
from spacy.attrs import ORTH
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Model
from thinc.types import Floats2d, Ints1d

from ..layers.crf import sll_loss, viterbi_decode
from ..layers.embed import prepare_tables
from ..tags import SPACE_TAG, iobes_phrases, iobes_tag_names
from .sentences import NO_TAG, join_sentences, split_docs

MissingTag = Optional[str]


class SennaSequencePipe(TrainablePipe):
    """Base class: per-token tag scores from a SENNA network, decoded to one tag per token."""

    uses_iobes = True  # span annotations are learned as IOBES tags over the labels

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str,
        *,
        scorer: Optional[Callable] = None,
    ) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.cfg: Dict = {"labels": []}
        self._tag_ids: Optional[Dict[str, int]] = None

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
        return iobes_tag_names(self.labels) if self.uses_iobes else list(self.labels)

    @property
    def tag_ids(self) -> Dict[str, int]:
        if self._tag_ids is None or len(self._tag_ids) != len(self.tag_names):
            self._tag_ids = {tag: i for i, tag in enumerate(self.tag_names)}
        return self._tag_ids

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

    # -- to be provided by subclasses --------------------------------------------------
    def gold_tags(self, example: Example) -> List[MissingTag]:
        """One tag name (from `tag_names`) per predicted token, None where there is no gold."""
        raise NotImplementedError

    def example_labels(self, example: Example) -> Iterable[str]:
        """The labels annotated in an example's reference doc."""
        raise NotImplementedError

    def set_doc_annotation(self, doc: Doc, tags: Sequence[str]) -> None:
        """Write one decoded tag per token onto the doc."""
        raise NotImplementedError

    # -- prediction --------------------------------------------------------------------
    def predict(self, docs: Iterable[Doc]) -> List[Ints1d]:
        """Tag ids per token of each doc, each sentence (`doc.sents`, when set) tagged alone."""
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            return [numpy.zeros((len(doc),), dtype="int32") for doc in docs]
        check_tags(self.name, self.model, docs)
        sentences, layout = split_docs(docs, skip_space=True)
        tag_ids = self.decode(self.model.predict(sentences)) if sentences else []
        return join_sentences(tag_ids, layout, [len(doc) for doc in docs])

    def decode(self, scores: List[Floats2d]) -> List[Ints1d]:
        """Best tag ids per token: Viterbi with the SLL layer, else the argmax of each token."""
        if self.model.has_ref("sll"):
            return viterbi_decode(self.model.get_ref("sll"), scores)
        return [self.model.ops.to_numpy(s.argmax(axis=1)).astype("int32") for s in scores]

    def set_annotations(self, docs: Iterable[Doc], tag_ids: List[Ints1d]) -> None:
        """Tags or phrases onto the docs; whitespace tokens (NO_TAG) get spaCy's `_SP` tag and
        are in no phrase, except inside one that spans them."""
        if not self.uses_iobes:
            names = self.tag_names
            for doc, ids in zip(docs, tag_ids):
                self.set_doc_annotation(doc, [names[i] if i != NO_TAG else SPACE_TAG for i in ids.tolist()])
            return
        label_hashes = [self.vocab.strings.add(label) for label in self.labels]
        for doc, ids in zip(docs, tag_ids):
            positions = numpy.flatnonzero(ids != NO_TAG)
            starts, ends, labels = iobes_phrases(ids[positions], len(label_hashes))
            phrases = [
                Span(doc, int(positions[start]), int(positions[end - 1]) + 1, label_hashes[label])
                for start, end, label in zip(starts.tolist(), ends.tolist(), labels.tolist())
            ]
            self.set_doc_phrases(doc, phrases)

    def set_doc_phrases(self, doc: Doc, phrases: List[Span]) -> None:
        """Write the decoded phrases onto the doc (components with IOBES tags)."""
        raise NotImplementedError

    # -- training ----------------------------------------------------------------------
    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd=None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, f"{type(self).__name__}.update")
        if not any(len(eg.predicted) for eg in examples):
            return losses
        set_dropout_rate(self.model, drop)
        scores, backprop = self.model.begin_update([eg.predicted for eg in examples])
        loss, d_scores = self.get_loss(examples, scores)
        backprop(d_scores)
        if sgd not in (None, False):
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def get_loss(self, examples: Iterable[Example], scores: List[Floats2d]):
        """Loss per gold token, and its gradient: SLL, or softmax cross-entropy per token."""
        validate_examples(examples, f"{type(self).__name__}.get_loss")
        allowed = [self._allowed_tags(eg) for eg in examples]
        n_gold = max(1, sum(int((row.sum(1) == 1).sum()) for row in allowed))
        if self.model.has_ref("sll"):
            loss, d_scores = sll_loss(self.model.get_ref("sll"), scores, allowed)
        else:
            loss, d_scores = _softmax_loss(self.model.ops, scores, allowed)
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
        for node in self.model.walk():
            if node.name == "senna_embed":
                prepare_tables(node, [eg.predicted for eg in examples], self.vocab)
        n_tags = len(self.tag_names)
        self.model.get_ref("output_layer").set_dim("nO", n_tags)
        if self.model.has_ref("sll"):
            self.model.get_ref("sll").set_dim("nO", n_tags)
            if self.uses_iobes:  # decode and train over valid IOBES paths only
                self.model.get_ref("sll").attrs["iobes_labels"] = len(self.labels)


def reads_tags(model: Model) -> bool:
    """Whether the model embeds the POS tags set by an earlier component (`token_features = ["tag"]`)."""
    return any(node.name == "senna_attr_embed(tag)" for node in model.walk())


def check_tags(name: str, model: Model, docs: List[Doc]) -> None:
    """A clear error, not silently worse output, when a model that reads `token.tag_` gets a doc without tags."""
    if reads_tags(model) and any(len(doc) and not doc.has_annotation("TAG") for doc in docs):
        raise ValueError(f"[{name}] its model reads token.tag_ but a doc has no POS tags: put a senna_tagger before {name}")


def same_tokens(example: Example) -> bool:
    """Whether the predicted and reference docs have the same tokens (no alignment needed)."""
    x, y = example.predicted, example.reference
    return len(x) == len(y) and bool((x.to_array(ORTH) == y.to_array(ORTH)).all())


def set_dropout_rate(model: Model, drop: Optional[float]) -> None:
    if drop is None:
        return
    for node in model.walk():
        if node.name == "dropout":
            node.attrs["dropout_rate"] = drop


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
