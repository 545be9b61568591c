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
