"""Sentence-level log-likelihood (the paper's SLL): tag transitions and start scores.

The layer itself passes the per-token tag scores through unchanged and owns the transition
matrix A[i, j] (score of tag j following tag i) and start scores s[j]. `sll_loss` gives the
negative log-likelihood of the gold paths by the forward algorithm (with backward pass for
gradients), `viterbi_decode` the best paths (decoding.py). The numpy code of both is
vectorised over a padded batch: the only Python loop runs over time steps. Both run in the
compiled kernels (spacy_senna/_kernels.pyx) when they are built, with the same results (the
SLL's to rounding), and the SLL's kernel visits only the tag pairs that the IOBES constraints
allow.
"""
from functools import partial
from typing import Callable, List, Optional, Sequence, Tuple

import numpy
from thinc.api import Model
from thinc.types import Floats2d, Ints1d

from ..decoding import best_paths, constrained_scores, pad_sequences
from ..inference import split_rows
from ..kernels import compiled

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
    Accumulates the gradients of the transition and start scores; returns d_scores. The
    forward-backward runs in the compiled kernel when it is built (`_marginals_compiled`),
    in numpy otherwise (`_marginals`), on the sequences laid end to end.
    """
    ops = model.ops
    lengths = numpy.array([s.shape[0] for s in scores], dtype="int64")
    if not len(scores) or lengths.sum() == 0 or scores[0].shape[1] == 0:
        return 0.0, [ops.alloc2f(*s.shape) for s in scores]
    transitions = ops.to_numpy(model.get_param("transitions")).astype("float64")
    start = ops.to_numpy(model.get_param("start")).astype("float64")
    emissions = numpy.concatenate([ops.to_numpy(s) for s in scores]).astype("float64")
    gold_mask = numpy.concatenate(allowed)
    transitions, start, end = constrained_scores(transitions, start, model.attrs["iobes_labels"])
    kernels = compiled()
    if kernels is not None:
        marginals = partial(_marginals_compiled, kernels, model.attrs["iobes_labels"])
    else:
        marginals = _marginals
    free = marginals(emissions, lengths, transitions, start, end)
    if (gold_mask.sum(axis=1) == 1).all():
        constrained = _gold_path(emissions, gold_mask, lengths, transitions, start)
    else:
        constrained = marginals(numpy.where(gold_mask, emissions, -numpy.inf), lengths, transitions, start, end)
    loss = float((free.log_z - constrained.log_z).sum())
    d_emissions = free.unary - constrained.unary
    d_start = d_emissions[_first_rows(lengths)].sum(axis=0)
    model.inc_grad("transitions", ops.asarray2f((free.pairwise - constrained.pairwise).astype("float32")))
    model.inc_grad("start", ops.asarray1f(d_start.astype("float32")))
    return loss, [ops.asarray2f(d) for d in split_rows(d_emissions.astype("float32"), lengths)]


class _Marginals:
    def __init__(self, log_z, unary, pairwise):
        self.log_z = log_z  # (batch,)
        self.unary = unary  # (sum of lengths, tags): P(y_t = j), the sequences end to end
        self.pairwise = pairwise  # (tags, tags): sum over batch and time of P(y_t-1 = i, y_t = j)


def _first_rows(lengths: numpy.ndarray) -> numpy.ndarray:
    """The row of each non-empty sequence's first token, the sequences laid end to end."""
    return (numpy.cumsum(lengths) - lengths)[lengths > 0]


def _marginals(emissions, lengths, transitions, start, end) -> _Marginals:
    """Forward-backward in log space over the padded batch; each step is a matrix product with
    exp(transitions). `emissions` are the sequences end to end, (sum of lengths, tags)."""
    emissions, _ = pad_sequences(split_rows(emissions, lengths))
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
        unary = numpy.exp(alpha + beta - log_z[:, None, None])[active]
        pairwise = numpy.zeros_like(transitions)
        for t in range(1, time):
            prev = alpha[:, t - 1]
            peak = _finite_max(prev)
            left = numpy.exp(prev - peak) * active[:, t, None]
            right = numpy.exp(emissions[:, t] + beta[:, t] + top + peak - log_z[:, None])
            right[~active[:, t]] = 0.0
            pairwise += (left.T @ right) * exp_trans
    return _Marginals(log_z, numpy.nan_to_num(unary), numpy.nan_to_num(pairwise))


def _marginals_compiled(kernels, n_labels: int, emissions, lengths, transitions, start, end) -> _Marginals:
    """`_marginals` by the compiled kernel (spacy_senna/_kernels.pyx): each sequence in turn,
    in probability space, and with IOBES tags (n_labels > 0) over the allowed pairs only.
    The pairwise marginals are one matrix product over all steps. Falls back to `_marginals`
    when a scale underflows (no path, or one far below the best tag of a step)."""
    with numpy.errstate(invalid="ignore"):
        row_peak = _finite_max(emissions)
        start_peak = _finite_max(start[None, :])[0, 0]
        top = transitions[numpy.isfinite(transitions)].max()
        weights = numpy.exp(emissions - row_peak)
        exp_trans = numpy.exp(transitions - top)
    pairs = _transition_pairs(n_labels, transitions.shape[0])
    block_from, block_to, edge_from, edge_to = pairs
    alpha, beta, scales, end_scales = kernels.sll_forward_backward(
        weights,
        lengths.astype("int32"),
        numpy.exp(start - start_peak),
        numpy.exp(end),
        numpy.ascontiguousarray(exp_trans[numpy.ix_(block_from, block_to)]),
        block_from,
        block_to,
        edge_from,
        edge_to,
        numpy.ascontiguousarray(exp_trans[edge_from, edge_to]),
    )
    nonempty = lengths > 0
    if not (scales.min() > _TINY_SCALE and end_scales[nonempty].min() > _TINY_SCALE):
        return _marginals(emissions, lengths, transitions, start, end)
    sequence = numpy.repeat(numpy.arange(len(lengths)), lengths)
    log_z = numpy.bincount(sequence, weights=numpy.log(scales) + row_peak[:, 0], minlength=len(lengths))
    log_z[nonempty] += numpy.log(end_scales[nonempty]) + start_peak + (lengths[nonempty] - 1) * top
    following = numpy.ones(len(emissions), dtype="bool")
    following[_first_rows(lengths)] = False  # rows t >= 1: P(y_t-1 = i, y_t = j) pairs them with row t - 1
    incoming = (weights * beta / scales[:, None])[following]
    preceding = alpha[numpy.flatnonzero(following) - 1]
    pairwise = numpy.zeros_like(transitions)
    pairwise[numpy.ix_(block_from, block_to)] = (preceding[:, block_from].T @ incoming[:, block_to]) * exp_trans[numpy.ix_(block_from, block_to)]
    pairwise[edge_from, edge_to] += (preceding[:, edge_from] * incoming[:, edge_to]).sum(axis=0) * exp_trans[edge_from, edge_to]
    return _Marginals(log_z, alpha * beta, pairwise)


_TINY_SCALE = 1e-280  # a step's scale below this could lose precision to denormals


def _transition_pairs(n_labels: int, n_tags: int) -> Tuple[numpy.ndarray, ...]:
    """The kernel's layout of the allowed (previous, next) tag pairs: a dense block, rows
    block_from and columns block_to, and edges (edge_from[e], edge_to[e]) outside it. IOBES
    tags: closed (O, E-x, S-x) into opening (O, B-x, S-x), and B-x/I-x into I-x/E-x; plain
    tags: all into all, no edges."""
    if not n_labels:
        every = numpy.arange(n_tags, dtype="int32")
        none = numpy.zeros((0,), dtype="int32")
        return every, every, none, none
    begin, inside, end, single = (numpy.arange(n_labels, dtype="int32") * 4 + k for k in (1, 2, 3, 4))
    zero = numpy.zeros((1,), dtype="int32")
    closed = numpy.concatenate([zero, end, single])
    opening = numpy.concatenate([zero, begin, single])
    edge_from = numpy.concatenate([begin, begin, inside, inside])
    edge_to = numpy.concatenate([inside, end, inside, end])
    return closed, opening, edge_from, edge_to


def _gold_path(emissions, gold_mask, lengths, transitions, start) -> _Marginals:
    """The constrained "marginals" when every token has one gold tag: the gold path itself.
    The sequences are laid end to end, (sum of lengths, tags)."""
    tags = gold_mask.argmax(axis=1)
    sequence = numpy.repeat(numpy.arange(len(lengths)), lengths)
    first_rows = _first_rows(lengths)
    following = numpy.ones(len(tags), dtype="bool")
    following[first_rows] = False
    prev, nxt = tags[numpy.flatnonzero(following) - 1], tags[following]
    token_scores = emissions[numpy.arange(len(tags)), tags]
    token_scores[following] += transitions[prev, nxt]
    token_scores[first_rows] += start[tags[first_rows]]
    score = numpy.bincount(sequence, weights=token_scores, minlength=len(lengths))
    pairwise = numpy.zeros_like(transitions)
    numpy.add.at(pairwise, (prev, nxt), 1.0)
    return _Marginals(score, gold_mask.astype("float64"), pairwise)


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
