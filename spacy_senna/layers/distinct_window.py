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

import numpy
from thinc.api import Model
from thinc.types import Floats2d

from ..kernels import enabled
from ..util import split_rows
from .window import window_rows

MAX_DISTINCT_SHARE = 0.6  # above this share of distinct token vectors, the plain product is faster


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


def distinct_rows(rows: numpy.ndarray):
    """The distinct rows of a float32 matrix and the index of each row among them. Rows are
    told apart by a random projection (one float64 each, fast to sort); should two different
    rows share one, which the check catches, by their bytes."""
    _, first, inverse = numpy.unique(row_keys(rows), return_index=True, return_inverse=True)
    distinct = rows[first]
    if not (distinct[inverse.reshape((-1,))] == rows).all():
        as_bytes = numpy.ascontiguousarray(rows).view(f"V{rows.shape[1] * rows.itemsize}").reshape((-1,))
        _, first, inverse = numpy.unique(as_bytes, return_index=True, return_inverse=True)
        distinct = rows[first]
    return distinct, inverse.reshape((-1,))


def row_keys(rows: numpy.ndarray) -> numpy.ndarray:
    """One float64 per row: its product with a fixed random vector."""
    return rows.astype("float64") @ numpy.random.default_rng(rows.shape[1]).uniform(0.5, 1.5, size=rows.shape[1])


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
    n_tokens, width = flat.shape
    distinct, token_type = distinct_rows(flat)
    if len(distinct) > MAX_DISTINCT_SHARE * n_tokens:
        return None
    inner = hidden.layers[0]
    linear = _first_layer(inner)
    W, b = linear.get_param("W"), linear.get_param("b")
    size = window.attrs["window_size"]
    n_hidden = W.shape[0]
    # W_k of each window position k, side by side: (width, size * n_hidden)
    per_position = numpy.ascontiguousarray(W.reshape((n_hidden, size, width)).transpose((2, 1, 0)).reshape((width, -1)))
    table = numpy.empty((len(distinct) + 1, size, n_hidden), dtype="float32")
    table[0] = (window.get_param("pad").reshape((1, width)) @ per_position).reshape((size, n_hidden))
    table[1:] = (distinct @ per_position).reshape((-1, size, n_hidden))
    rows = window_rows(ops, lengths, size)  # 0: padding, i + 1: token i
    type_rows = numpy.concatenate([[0], token_type.reshape((-1,)) + 1])[rows]
    summed = numpy.empty((n_tokens, n_hidden), dtype="float32")
    summed[...] = b
    for position in range(size):
        summed += table[type_rows[:, position], position]
    attrs = linear.attrs
    outputs = ops.clipped_linear(summed, attrs["slope"], attrs["offset"], attrs["min_val"], attrs["max_val"], inplace=True)
    for layer in inner.layers[1:] if _is_chain(inner) else []:
        outputs = layer.predict(outputs)
    return split_rows(outputs, lengths)
