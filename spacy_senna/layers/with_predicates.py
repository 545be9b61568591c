"""Run a layer on the docs of (docs, predicate positions) input, passing the predicates along."""
from typing import Callable, List, Tuple, TypeVar

from spacy.tokens import Doc
from thinc.api import Model
from thinc.types import Ints1d

OutT = TypeVar("OutT")
InT = Tuple[List[Doc], List[Ints1d]]


def with_predicates(layer: Model[List[Doc], OutT]) -> Model[InT, Tuple[OutT, List[Ints1d]]]:
    return Model(f"with_predicates({layer.name})", forward, init=init, layers=[layer])


def forward(model: Model, inputs: InT, is_train: bool) -> Tuple[Tuple, Callable]:
    docs, predicates = inputs
    layer = model.layers[0]
    outputs, backprop_layer = layer(docs, is_train)

    def backprop(d_outputs: Tuple) -> InT:
        backprop_layer(d_outputs[0])
        return docs, predicates

    return (outputs, predicates), backprop


def init(model: Model, X=None, Y=None) -> None:
    model.layers[0].initialize(X=X[0] if X is not None else None)


def with_start_predicate() -> Model[List, Tuple[List, List[Ints1d]]]:
    """Pair each sequence with one 'predicate' at its first token, for the sentence network
    (layers/sentence.py) where there is no predicate: the parser's levels, whose distance
    features are then the offset to the word being tagged and the position in the sentence."""
    return Model("with_start_predicate", _forward_start)


def _forward_start(model: Model, sequences: List, is_train: bool) -> Tuple[Tuple, Callable]:
    starts = [model.ops.xp.zeros((1,), dtype="int32") for _ in sequences]
    return (sequences, starts), lambda d_outputs: d_outputs[0]
