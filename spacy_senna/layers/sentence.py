"""The distance part of SENNA's sentence network (SRL), with max over time, per predicate.

For a predicate p and a word w being tagged, token i of the sentence enters the width-3
convolution as [x_i; dist(i - w); dist(i - p)]. The convolution is linear, so its output is

    h(i | w, p) = C[i] + Dw[i, w] + Dp[i, p]

where C (n, nO) is the ordinary convolution of the token vectors, computed once per sentence
by the layers before this one, and Dw / Dp add up, over the three window slots k, a vector that
depends only on the clipped offset: G_k[clip(i + k - 1 - w)], with G_k = E @ W_k (distance
embedding E, slot weights W_k), precomputed per batch. Per predicate this costs n * n * nO
additions and a max over i, instead of a full convolution per (predicate, word) pair. The
backward pass uses the same decomposition: only the argmax positions receive gradient. At
inference all predicates of a sentence go together, a block of words at a time, so memory
stays bounded for long sentences.

Input: (C per sentence, predicate positions per sentence). Output: one (n, nO) array per
(sentence, predicate), sentences in order and predicates in order within each.
"""
from typing import Callable, List, Optional, Tuple

import numpy
from thinc.api import Model, glorot_uniform_init, uniform_init
from thinc.types import Floats2d, Ints1d

from ..inference import SENTENCE_PARAMS, SLOT_OFFSETS, SentenceDistances, clipped_distance_rows, distance_part

InT = Tuple[List[Floats2d], List[Ints1d]]
OutT = List[Floats2d]


def SennaSentence(
    nO: Optional[int] = None, distance_width: int = 5, max_distance: int = 30
) -> Model[InT, OutT]:
    """Add word- and predicate-distance features to a convolution, then max over time."""
    return Model(
        "senna_sentence",
        forward,
        init=init,
        dims={"nO": nO, "distance_width": distance_width},
        params={name: None for name in SENTENCE_PARAMS},
        attrs={"max_distance": max_distance},
    )


def init(model: Model[InT, OutT], X: Optional[InT] = None, Y=None) -> None:
    if X is not None and len(X[0]) and not model.has_dim("nO"):
        model.set_dim("nO", X[0][0].shape[1])
    n_out = model.get_dim("nO")
    width = model.get_dim("distance_width")
    n_dist = 2 * model.attrs["max_distance"] + 1
    for which in ("word", "pred"):
        model.set_param(f"E_{which}", uniform_init(model.ops, (n_dist, width)))
        model.set_param(f"W_{which}", glorot_uniform_init(model.ops, (len(SLOT_OFFSETS), width, n_out)))


def forward(model: Model[InT, OutT], inputs: InT, is_train: bool) -> Tuple[OutT, Callable]:
    convolved, predicates = inputs
    max_distance = model.attrs["max_distance"]
    distances = SentenceDistances(*(model.ops.to_numpy(model.get_param(name)) for name in SENTENCE_PARAMS), max_distance)
    tables = {"word": distances.G_word, "pred": distances.G_pred}
    outputs: List[Floats2d] = []
    argmaxes: List[numpy.ndarray] = []
    if not is_train:  # all predicates of a sentence together (inference.py, as the drop-in runs it)
        outputs = distances([model.ops.to_numpy(C) for C in convolved], predicates)
    for C, preds in zip(convolved, predicates) if is_train else ():  # one predicate at a time, with argmaxes
        if len(preds) == 0:
            continue
        C = model.ops.to_numpy(C)
        n = C.shape[0]
        base = distances.pred_base(C, preds)  # (P, n_i, nO): C[i] + Dp[i, p_q]
        word_part = distance_part(distances.G_word, distances.T_word, numpy.arange(n), n, max_distance)
        for q in range(len(preds)):
            # h[i, w] = C[i] + Dw[i, w] + Dp[i, p]; max over i for every word w
            h = word_part + base[q][:, None, :]
            best = h.argmax(axis=0)  # (n_w, nO)
            outputs.append(numpy.take_along_axis(h, best[None], axis=0)[0])
            argmaxes.append(best)

    def backprop(d_outputs: OutT) -> InT:
        d_tables = {which: numpy.zeros_like(tables[which]) for which in tables}
        d_convolved = []
        k = 0
        for C, preds in zip(convolved, predicates):
            n = C.shape[0]
            dC = numpy.zeros((n * C.shape[1],), dtype="float64")
            for q in range(len(preds)):
                dY = model.ops.to_numpy(d_outputs[k]).astype("float64")
                best = argmaxes[k]
                n_out = dY.shape[1]
                units = numpy.arange(n_out)[None, :]
                dC += numpy.bincount((best * n_out + units).ravel(), weights=dY.ravel(), minlength=n * n_out)
                words = numpy.arange(n)[:, None]
                _scatter_distance(d_tables["word"], best, words, dY, n, max_distance)
                _scatter_distance(d_tables["pred"], best, numpy.full((n, 1), preds[q]), dY, n, max_distance)
                k += 1
            d_convolved.append(model.ops.asarray2f(dC.reshape((n, -1)).astype("float32")))
        for which in ("word", "pred"):
            _backprop_slot_tables(model, which, d_tables[which])
        return d_convolved, predicates

    return [model.ops.asarray2f(o.astype("float32", copy=False)) for o in outputs], backprop


def _backprop_slot_tables(model: Model, which: str, d_G: numpy.ndarray) -> None:
    E = model.ops.to_numpy(model.get_param(f"E_{which}"))
    W = model.ops.to_numpy(model.get_param(f"W_{which}"))
    d_G = d_G.astype("float32")
    model.inc_grad(f"E_{which}", model.ops.asarray2f(numpy.einsum("kdo,kwo->dw", d_G, W)))
    model.inc_grad(f"W_{which}", model.ops.asarray3f(numpy.einsum("kdo,dw->kwo", d_G, E)))


def _slot_rows(positions: numpy.ndarray, targets: numpy.ndarray, n: int, max_distance: int):
    """For each slot k: (clipped distance row of token i + offset_k to each target, inside mask)."""
    for k, offset in enumerate(SLOT_OFFSETS):
        neighbour = positions + offset
        inside = (neighbour >= 0) & (neighbour < n)
        rows = clipped_distance_rows(neighbour - targets, max_distance)
        yield k, rows, inside


def _scatter_distance(d_G, best, targets, dY, n: int, max_distance: int) -> None:
    """Add dY[w, u] to d_G[k][clip(best[w, u] + offset_k - target_w), u] for each slot k."""
    n_out = dY.shape[1]
    units = numpy.arange(n_out)[None, :]
    for k, rows, inside in _slot_rows(best, targets, n, max_distance):
        flat = (rows * n_out + units).ravel()
        weights = (dY * inside).ravel()
        d_G[k] += numpy.bincount(flat, weights=weights, minlength=d_G.shape[1] * n_out).reshape(d_G.shape[1:])
