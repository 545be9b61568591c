"""Inference for the window network with its first hidden layer computed per distinct token.

The window network's first layer is W [x(i-2); ...; x(i+2)] + b: a sum over the window's
positions k of W_k x(i+k). A token vector x depends on the token alone (its word, caps,
suffix and characters; its POS tag for a chunker), so a batch's W_k x are computed once per
distinct vector and each token adds up the k rows it needs: for the WSJ dev text about a
quarter of the matrix product. The results are the layer's own up to float rounding (the
products are summed in another order). `predict` is `model.predict` otherwise: for a model
that is not a window network, one whose tokens are mostly distinct, or with
SPACY_SENNA_KERNELS=0 (the reference code).
"""
from typing import List, Optional

from thinc.api import Model
from thinc.types import Floats2d

from ..inference import distinct_window_affine, split_rows
from ..kernels import enabled


def predict(model: Model, docs: list) -> List[Floats2d]:
    """`model.predict(docs)`, with a window network's first hidden layer done per distinct token."""
    found = _predict_chain(model, docs) if enabled() else None
    return model.predict(docs) if found is None else found


def _predict_chain(model: Model, docs: list) -> Optional[List[Floats2d]]:
    """The chain's output when it starts with embed >> senna_window >> with_array(clipped_linear...),
    itself or in its first layer (a shared encoder); None for any other model."""
    if not _is_chain(model):
        return None
    if _starts_window_network(model):
        outputs = _window_hidden(model.layers[0], model.layers[1], model.layers[2], docs)
        if outputs is None:
            return None
        rest = model.layers[3:]
    else:
        outputs = _predict_chain(model.layers[0], docs) if model.layers else None
        if outputs is None:
            return None
        rest = model.layers[1:]
    for layer in rest:
        outputs = layer.predict(outputs)
    return outputs


def _is_chain(model: Model) -> bool:
    return model._func.__module__ == "thinc.layers.chain"


def _starts_window_network(model: Model) -> bool:
    if len(model.layers) < 3:
        return False
    window, hidden = model.layers[1], model.layers[2]
    if window.name != "senna_window" or window.attrs.get("dilation", 1) != 1:
        return False
    if hidden._func.__module__ != "thinc.layers.with_array" or not hidden.layers:
        return False
    first = _first_layer(hidden.layers[0])
    return first._func.__module__ == "thinc.layers.clipped_linear"


def _first_layer(model: Model) -> Model:
    return model.layers[0] if _is_chain(model) else model


def _window_hidden(embed: Model, window: Model, hidden: Model, docs: list) -> Optional[List[Floats2d]]:
    """with_array(hidden)(window(embed(docs))), the first Linear per distinct token vector."""
    ops = embed.ops
    vectors = embed.predict(docs)
    lengths = ops.asarray1i([len(x) for x in vectors])
    if not len(vectors) or int(lengths.sum()) == 0:
        return None
    flat = ops.xp.ascontiguousarray(ops.flatten(vectors), dtype="float32")
    inner = hidden.layers[0]
    linear = _first_layer(inner)
    summed = distinct_window_affine(
        flat, lengths, window.get_param("pad"), window.attrs["window_size"], linear.get_param("W"), linear.get_param("b")
    )
    if summed is None:
        return None
    attrs = linear.attrs
    outputs = ops.clipped_linear(summed, attrs["slope"], attrs["offset"], attrs["min_val"], attrs["max_val"], inplace=True)
    for layer in inner.layers[1:] if _is_chain(inner) else []:
        outputs = layer.predict(outputs)
    return split_rows(outputs, lengths)


def distinct_window_chain(model: Model) -> Optional[Model]:
    """The chain whose window network `predict` runs per distinct token vector (the first one
    on the path `_predict_chain` follows), or None."""
    if not _is_chain(model):
        return None
    if _starts_window_network(model):
        return model
    return distinct_window_chain(model.layers[0]) if model.layers else None
