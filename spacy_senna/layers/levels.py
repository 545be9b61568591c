"""One level of Collobert's (2011) parser for a batch: unit tag scores from the words and the
levels below.

Input: a `LevelBatch`, the docs plus one `LevelItem` per (doc, level): each word's tag in the
tree built so far (`history`, ids into the IOBES tags: B-NP/I-NP/E-NP over an NP unit, O over
a word no constituent covers yet) and where the level's units start. Each word's vector
(`tok2vec`) is joined with an embedding of its history tag; `network` (a window network)
gives every word a score per IOBES tag; a unit's score for tag t adds up its words' scores of
the word tags that t means for them (B-X over a unit of three words: B-X, I-X, I-X). So a
level labels whole units, never splitting one, while the network sees words. Output: one
(n_units, n_tags) array per item, for the SLL over units (layers/crf.py).

The tok2vec runs once per doc whatever the number of its levels in the batch. The unit scores
and the inference's split first layer are level_inference.py's (no spaCy), which the `senna`
drop-in's lean path runs too.
"""
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import numpy
from spacy.tokens import Doc
from thinc.api import Model, uniform_init
from thinc.types import Floats2d, Ints1d

from ..level_inference import LevelItem, LevelWordScores, SplitWindowLayer, level_unit_scores, unit_scores
from ..tags import O_ID
from .level_hidden import split_hidden

OutT = List[Floats2d]


@dataclass
class LevelBatch:
    docs: List[Doc]
    items: List[LevelItem]


def SennaLevels(
    tok2vec: Model, network: Model, history_width: int = 10, history_dropout: float = 0.0, nH: Optional[int] = None
) -> Model[LevelBatch, OutT]:
    """tok2vec: docs -> word vectors; network: word vectors + history -> word tag scores.
    In training, `history_dropout` is the chance that a word's history tag reads O."""
    if not 0.0 <= history_dropout < 1.0:
        raise ValueError(f"history_dropout must be in [0, 1), got {history_dropout}")
    return Model(
        "senna_levels",
        forward,
        init=init,
        layers=[tok2vec, network],
        dims={"nH": nH, "history_width": history_width},
        params={"H": None},
        attrs={"history_dropout": history_dropout},
    )


def init(model: Model[LevelBatch, OutT], X: Optional[LevelBatch] = None, Y=None) -> None:
    tok2vec, network = model.layers
    model.set_param("H", uniform_init(model.ops, (model.get_dim("nH"), model.get_dim("history_width"))))
    if X is None:
        tok2vec.initialize()
        network.initialize()
        return
    tok2vec.initialize(X=X.docs)
    vectors = tok2vec.predict(X.docs)
    network.initialize(X=_inputs(model, vectors, X.items))


def _inputs(model: Model, vectors: List[Floats2d], items: Sequence[LevelItem]) -> List[Floats2d]:
    H = model.get_param("H")
    return [model.ops.xp.hstack([vectors[item.doc], H[item.history]]) for item in items]


# The word tag scores of a batch's items, and their backprop to the word vectors (per doc)
# and to the history table H.
NetworkBackprop = Callable[[OutT], Tuple[List[Floats2d], Floats2d]]


def forward(model: Model[LevelBatch, OutT], batch: LevelBatch, is_train: bool) -> Tuple[OutT, Callable]:
    tok2vec, network = model.layers
    ops = model.ops
    vectors, backprop_tok2vec = tok2vec(batch.docs, is_train)
    run_network = _split_network if model.has_ref(WINDOW_REF) and model.has_ref(HIDDEN_REF) else _whole_network
    history_dropout = model.attrs["history_dropout"]
    items = [drop_history(item, history_dropout) for item in batch.items] if is_train and history_dropout else batch.items
    word_scores, backprop_network = run_network(model, vectors, items, is_train)
    n_tags = word_scores[0].shape[1] if word_scores else 0
    pooled = [unit_scores(ops.to_numpy(s), item.unit_starts) for s, item in zip(word_scores, batch.items)]

    def backprop(d_units: OutT) -> LevelBatch:
        d_words = [
            ops.asarray2f(unit_scores_backward(ops.to_numpy(d), rows, item.unit_starts, len(item.history), n_tags))
            for d, (_, rows), item in zip(d_units, pooled, batch.items)
        ]
        d_vectors, d_H = backprop_network(d_words)
        model.inc_grad("H", d_H)
        backprop_tok2vec(d_vectors)
        return batch

    return [ops.asarray2f(scores) for scores, _ in pooled], backprop


def drop_history(item: LevelItem, rate: float) -> LevelItem:
    """The item with each word's history tag set to O with probability `rate`: training on the
    imperfect trees below a level that inference builds, not only the gold ones."""
    dropped = numpy.random.random_sample(len(item.history)) < rate
    return LevelItem(item.doc, numpy.where(dropped, O_ID, item.history).astype(item.history.dtype), item.unit_starts)


def _whole_network(model: Model, vectors: List[Floats2d], items: Sequence[LevelItem], is_train: bool) -> Tuple[OutT, NetworkBackprop]:
    """The network on each item's [word vectors; history tag rows]."""
    ops = model.ops
    word_scores, backprop_network = model.layers[1](_inputs(model, vectors, items), is_train)

    def backprop(d_words: OutT) -> Tuple[List[Floats2d], Floats2d]:
        d_inputs = backprop_network(d_words)
        width = vectors[0].shape[1] if vectors else 0
        d_vectors = [ops.alloc2f(*v.shape) for v in vectors]
        d_H = ops.alloc2f(*model.get_param("H").shape)
        for d_input, item in zip(d_inputs, items):
            d_vectors[item.doc] += d_input[:, :width]
            ops.scatter_add(d_H, ops.asarray1i(item.history), ops.xp.ascontiguousarray(d_input[:, width:]))
        return d_vectors, d_H

    return word_scores, backprop


def _split_network(model: Model, vectors: List[Floats2d], items: Sequence[LevelItem], is_train: bool) -> Tuple[OutT, NetworkBackprop]:
    """A plain window network with its first hidden layer split (layers/level_hidden.py),
    then the layers after it, on the items' rows end to end."""
    hidden = model.get_ref(HIDDEN_REF)
    outputs, backprop_hidden = split_hidden(model.get_ref(WINDOW_REF), hidden, vectors, model.get_param("H"), items)
    backprops = []
    for layer in layers_after(hidden, model.layers[1]):
        outputs, backprop_layer = layer(outputs, is_train)
        backprops.append(backprop_layer)
    lengths = [len(item.history) for item in items]

    def backprop(d_words: OutT) -> Tuple[List[Floats2d], Floats2d]:
        d_outputs = model.ops.xp.concatenate(d_words) if d_words else outputs[:0]
        for backprop_layer in reversed(backprops):
            d_outputs = backprop_layer(d_outputs)
        return backprop_hidden(d_outputs)

    return model.ops.unflatten(outputs, model.ops.asarray1i(lengths)) if items else [], backprop


def unit_scores_backward(d_units: numpy.ndarray, rows: numpy.ndarray, unit_starts: Ints1d, n_words: int, n_tags: int) -> numpy.ndarray:
    """The gradient of the word scores from that of the unit scores."""
    starts = numpy.asarray(unit_starts, dtype="int64")
    unit_of_word = numpy.repeat(numpy.arange(len(starts)), numpy.diff(numpy.append(starts, n_words)))
    d_gathered = d_units[unit_of_word]  # (n_words, n_tags)
    d_words = numpy.zeros((n_words, n_tags), dtype="float32")
    numpy.add.at(d_words, (numpy.arange(n_words)[:, None], rows), d_gathered)
    return d_words


WINDOW_REF = "level_window"  # LevelParser.v1 sets these two when its network is a plain window network
HIDDEN_REF = "level_hidden"


class LevelScorer:
    """Inference over a batch of docs level after level (SennaParser.parse): unit tag scores
    as the `senna_levels` layer gives them, with what does not change between levels done
    once. The word vectors are computed once, not once a level; and for a plain window
    network (LevelParser.v1's refs `level_window` and `level_hidden`), the first hidden layer
    W [x(i-2); h(i-2); ...; x(i+2); h(i+2)] + b is split into its word part, a product per
    doc, and its history part, a product per history tag (a few hundred rows), which each
    level adds up by gathering (level_inference.SplitWindowLayer). The scores are the layer's
    up to float rounding."""

    def __init__(self, model: Model, docs: Sequence[Doc]) -> None:
        levels = model.get_ref("levels")
        tok2vec, self.network = levels.layers
        self.ops = levels.ops
        self.H = self.ops.to_numpy(levels.get_param("H"))
        self.vectors = [self.ops.to_numpy(v) for v in tok2vec.predict(list(docs))]
        self.split = model.has_ref(WINDOW_REF) and model.has_ref(HIDDEN_REF)
        if self.split:
            self._prepare_split(model)

    def _prepare_split(self, model: Model) -> None:
        window, hidden = model.get_ref(WINDOW_REF), model.get_ref(HIDDEN_REF)
        params = [self.ops.to_numpy(p) for p in (window.get_param("pad"), hidden.get_param("W"), hidden.get_param("b"))]
        first_layer = SplitWindowLayer(self.vectors, self.H, *params, window.attrs["window_size"], hidden.attrs)
        self.word_scores = LevelWordScores(first_layer, self._after_hidden(layers_after(hidden, self.network)))

    def _after_hidden(self, layers: List[Model]) -> Callable[[numpy.ndarray], numpy.ndarray]:
        """The layers after the first hidden layer, as one function of its output. It holds
        the ops, not the scorer: a scorer held by its own word scores would be a reference
        cycle, its tables freed only by the garbage collector, several batches later."""
        ops = self.ops

        def predict(outputs: numpy.ndarray) -> numpy.ndarray:
            for layer in layers:
                outputs = layer.predict(outputs)
            return ops.to_numpy(outputs)

        return predict

    def __call__(self, items: Sequence[LevelItem]) -> OutT:
        """Unit tag scores (n_units, n_tags) per item."""
        if not items:
            return []
        word_scores = self.word_scores(items) if self.split else self._network_scores(items)
        return [self.ops.asarray2f(scores) for scores in level_unit_scores(word_scores, items)]

    def _network_scores(self, items: Sequence[LevelItem]) -> numpy.ndarray:
        """The word tag scores of the items end to end."""
        inputs = [numpy.hstack([self.vectors[item.doc], self.H[item.history]]) for item in items]
        return numpy.concatenate([self.ops.to_numpy(s) for s in self.network.predict([self.ops.asarray2f(x) for x in inputs])])


def layers_after(hidden: Model, network: Model) -> List[Model]:
    """The layers that follow the first hidden layer in the window network's per-token chain."""
    for node in network.walk():
        if node.layers and node.layers[0] is hidden:
            return list(node.layers[1:])
    raise ValueError("the window network has no chain starting with its hidden layer")
