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
from typing import List, Optional, Tuple

from thinc.api import Model
from thinc.types import Floats2d, Ints1d

from ..inference import CLIP_SETTINGS, distinct_window_affine, split_rows, windows
from ..kernels import enabled

# the layers `_flat_predict` runs on a batch's rows laid end to end: a window network's head
FLAT_MODULES = ("thinc.layers.chain", "thinc.layers.with_array", "thinc.layers.residual", "thinc.layers.linear", "thinc.layers.clipped_linear", "thinc.layers.dropout")


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
        found = _window_hidden(model.layers[0], model.layers[1], model.layers[2], docs)
        if found is None:
            return None
        flat, lengths = found
        rest = model.layers[3:]
        while rest and _runs_flat(rest[0]):  # the context layers and the output layer, unsplit
            flat = _flat_predict(rest[0], flat, lengths)
            rest = rest[1:]
        outputs = split_rows(flat, lengths)
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


def _runs_flat(layer: Model) -> bool:
    """Whether `_flat_predict` runs the layer: it and its sublayers are FLAT_MODULES or windows."""
    if layer.name != "senna_window" and layer._func.__module__ not in FLAT_MODULES:
        return False
    return all(_runs_flat(inner) for inner in layer.layers)


def _flat_predict(layer: Model, X: Floats2d, lengths) -> Floats2d:
    """layer.predict on the rows of sequences of `lengths` laid end to end, for a layer that
    `_runs_flat`: the same products as the layer's own, without a split per sequence."""
    module = layer._func.__module__
    if layer.name == "senna_window":
        return windows(X, lengths, layer.get_param("pad"), layer.attrs["window_size"], layer.attrs.get("dilation", 1))
    if module == "thinc.layers.chain":
        for inner in layer.layers:
            X = _flat_predict(inner, X, lengths)
        return X
    if module == "thinc.layers.with_array":
        return _flat_predict(layer.layers[0], X, lengths)
    if module == "thinc.layers.residual":
        return X + _flat_predict(layer.layers[0], X, lengths)
    if module == "thinc.layers.dropout":
        return X
    Y = layer.ops.gemm(X, layer.get_param("W"), trans2=True)
    Y += layer.get_param("b")
    if module == "thinc.layers.clipped_linear":
        Y = layer.ops.clipped_linear(Y, *(layer.attrs[key] for key in CLIP_SETTINGS), inplace=True)
    return Y


def _window_hidden(embed: Model, window: Model, hidden: Model, docs: list) -> Optional[Tuple[Floats2d, Ints1d]]:
    """with_array(hidden)(window(embed(docs))), the first Linear per distinct token vector:
    the batch's rows laid end to end, and the sequences' lengths."""
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
    outputs = ops.clipped_linear(summed, *(linear.attrs[key] for key in CLIP_SETTINGS), inplace=True)
    for layer in inner.layers[1:] if _is_chain(inner) else []:
        outputs = layer.predict(outputs)
    return outputs, lengths


def distinct_window_chain(model: Model) -> Optional[Model]:
    """The chain whose window network `predict` runs per distinct token vector (the first one
    on the path `_predict_chain` follows), or None."""
    if not _is_chain(model):
        return None
    if _starts_window_network(model):
        return model
    return distinct_window_chain(model.layers[0]) if model.layers else None
