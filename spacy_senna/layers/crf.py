"""Sentence-level log-likelihood (the paper's SLL): tag transitions and start scores.

The layer itself passes the per-token tag scores through unchanged and owns the transition
matrix A[i, j] (score of tag j following tag i) and start scores s[j]. `sll_loss` gives the
negative log-likelihood of the gold paths by the forward algorithm (with backward pass for
gradients), `viterbi_decode` the best paths (decoding.py). The loss is vectorised over a padded
batch: the only Python loop runs over time steps.
"""
from typing import Callable, List, Optional, Sequence, Tuple

import numpy
from thinc.api import Model
from thinc.types import Floats2d, Ints1d

from ..decoding import best_paths, constrained_scores, pad_sequences

InT = List[Floats2d]
OutT = List[Floats2d]


def SentenceLogLikelihood(nO: Optional[int] = None, iobes_labels: int = 0) -> Model[InT, OutT]:
    """With `iobes_labels` = L > 0 the tags are O, then B/I/E/S of each of L labels, and only
    paths that are valid IOBES count, in training and in decoding."""
    return Model(
        "sll",
        forward,
        init=init,
        dims={"nO": nO, "nI": nO},
        params={"transitions": None, "start": None},
        attrs={"iobes_labels": iobes_labels},
    )


def forward(model: Model[InT, OutT], Xs: InT, is_train: bool) -> Tuple[OutT, Callable]:
    return Xs, lambda dYs: dYs


def init(model: Model[InT, OutT], X: Optional[InT] = None, Y=None) -> None:
    if X is not None and len(X) and not model.has_dim("nO"):
        model.set_dim("nO", X[0].shape[1])
    n_tags = model.get_dim("nO")
    model.set_dim("nI", n_tags, force=True)
    model.set_param("transitions", model.ops.alloc2f(n_tags, n_tags))
    model.set_param("start", model.ops.alloc1f(n_tags))


def sll_loss(
    model: Model[InT, OutT], scores: InT, allowed: Sequence[numpy.ndarray]
) -> Tuple[float, List[Floats2d]]:
    """Negative log-likelihood of the paths through `allowed` tags, summed over sequences.

    `allowed[k]` is a boolean (n_k, n_tags) array: one True per row for a gold tag, all True
    for a token without gold (its tag is marginalised out, so it adds nothing to the loss).
    Accumulates the gradients of the transition and start scores; returns d_scores.
    """
    ops = model.ops
    transitions = ops.to_numpy(model.get_param("transitions")).astype("float64")
    start = ops.to_numpy(model.get_param("start")).astype("float64")
    emissions, lengths = pad_sequences([ops.to_numpy(s) for s in scores])
    if emissions.shape[0] == 0 or emissions.shape[1] == 0:
        return 0.0, [ops.alloc2f(*s.shape) for s in scores]
    gold_mask, _ = pad_sequences(allowed, fill=True)
    transitions, start, end = constrained_scores(transitions, start, model.attrs["iobes_labels"])
    free = _marginals(emissions, lengths, transitions, start, end)
    if all((a.sum(axis=1) == 1).all() for a in allowed):
        constrained = _gold_path(emissions, gold_mask, lengths, transitions, start)
    else:
        constrained = _marginals(numpy.where(gold_mask, emissions, -numpy.inf), lengths, transitions, start, end)
    loss = float((free.log_z - constrained.log_z).sum())
    d_emissions = free.unary - constrained.unary
    model.inc_grad("transitions", ops.asarray2f((free.pairwise - constrained.pairwise).astype("float32")))
    model.inc_grad("start", ops.asarray1f((free.unary[:, 0] - constrained.unary[:, 0]).sum(0).astype("float32")))
    d_scores = [ops.asarray2f(d_emissions[i, : lengths[i]].astype("float32")) for i in range(len(scores))]
    return loss, d_scores


class _Marginals:
    def __init__(self, log_z, unary, pairwise):
        self.log_z = log_z  # (batch,)
        self.unary = unary  # (batch, time, tags): P(y_t = j)
        self.pairwise = pairwise  # (tags, tags): sum over batch and time of P(y_t-1 = i, y_t = j)


def _marginals(emissions, lengths, transitions, start, end) -> _Marginals:
    """Forward-backward in log space; each step is a matrix product with exp(transitions)."""
    batch, time, n_tags = emissions.shape
    active = numpy.arange(time)[None, :] < lengths[:, None]  # (batch, time)
    top = transitions[numpy.isfinite(transitions)].max()
    exp_trans = numpy.exp(transitions - top)
    alpha = numpy.empty_like(emissions)
    beta = numpy.empty_like(emissions)
    beta[:, time - 1] = end
    with numpy.errstate(divide="ignore", invalid="ignore", over="ignore"):
        alpha[:, 0] = start + emissions[:, 0]
        for t in range(1, time):
            prev = alpha[:, t - 1]
            peak = _finite_max(prev)
            step = numpy.log(numpy.exp(prev - peak) @ exp_trans) + peak + top + emissions[:, t]
            alpha[:, t] = numpy.where(active[:, t, None], step, prev)
        last = alpha[:, time - 1] + end
        peak = _finite_max(last)
        log_z = numpy.log(numpy.exp(last - peak).sum(1)) + peak[:, 0]
        log_z = numpy.where(lengths > 0, log_z, 0.0)
        for t in range(time - 2, -1, -1):
            nxt = emissions[:, t + 1] + beta[:, t + 1]
            peak = _finite_max(nxt)
            step = numpy.log(numpy.exp(nxt - peak) @ exp_trans.T) + peak + top
            beta[:, t] = numpy.where(active[:, t + 1, None], step, end)
        unary = numpy.exp(alpha + beta - log_z[:, None, None])
        unary[~active] = 0.0
        pairwise = numpy.zeros_like(transitions)
        for t in range(1, time):
            prev = alpha[:, t - 1]
            peak = _finite_max(prev)
            left = numpy.exp(prev - peak) * active[:, t, None]
            right = numpy.exp(emissions[:, t] + beta[:, t] + top + peak - log_z[:, None])
            right[~active[:, t]] = 0.0
            pairwise += (left.T @ right) * exp_trans
    return _Marginals(log_z, numpy.nan_to_num(unary), numpy.nan_to_num(pairwise))


def _gold_path(emissions, gold_mask, lengths, transitions, start) -> _Marginals:
    """The constrained "marginals" when every token has one gold tag: the gold path itself."""
    batch, time, n_tags = emissions.shape
    active = numpy.arange(time)[None, :] < lengths[:, None]
    unary = gold_mask * active[:, :, None]
    tags = gold_mask.argmax(axis=2)
    score = start[tags[:, 0]] * (lengths > 0) + (emissions * unary).sum(axis=(1, 2))
    steps = active[:, 1:]
    prev, nxt = tags[:, :-1][steps], tags[:, 1:][steps]
    pairwise = numpy.zeros_like(transitions)
    numpy.add.at(pairwise, (prev, nxt), 1.0)
    score += numpy.bincount(numpy.nonzero(steps)[0], weights=transitions[prev, nxt], minlength=batch)
    return _Marginals(score, unary.astype("float64"), pairwise)


def _finite_max(values):
    """Row maxima, keepdims, with -inf rows mapped to 0 so that subtracting them is safe."""
    peak = values.max(axis=1, keepdims=True)
    return numpy.where(numpy.isfinite(peak), peak, 0.0)


def viterbi_decode(model: Model[InT, OutT], scores: InT, group_size: int = 128) -> List[Ints1d]:
    """The best tag path of each sequence, under the layer's transition and start scores."""
    ops = model.ops
    if not scores:
        return []
    transitions = ops.to_numpy(model.get_param("transitions"))
    start = ops.to_numpy(model.get_param("start"))
    return best_paths([ops.to_numpy(s) for s in scores], transitions, start, model.attrs["iobes_labels"], group_size)
