"""Viterbi decoding of tag scores, in numpy and by the compiled kernel, without spaCy or Thinc:
the SLL layer (layers/crf.py) and the `senna` drop-in's lean path (dropin/lean.py) decode here.

Decoding runs in the compiled kernel (spacy_senna/_kernels.pyx) when it is built, with the
same results as the vectorised numpy code, whose only Python loop runs over time steps.
"""
from typing import List, Sequence, Tuple

import numpy

from .inference import split_rows
from .kernels import compiled


def iobes_constraints(n_labels: int) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Allowed (previous, next) tag pairs, first tags and last tags of IOBES sequences."""
    n_tags = 1 + 4 * n_labels
    begin, inside, end, single = (numpy.arange(n_labels) * 4 + k for k in (1, 2, 3, 4))
    closed = numpy.concatenate([[0], end, single])
    opening = numpy.concatenate([[0], begin, single])
    allowed = numpy.zeros((n_tags, n_tags), dtype="bool")
    allowed[numpy.ix_(closed, opening)] = True
    for prev in (begin, inside):
        allowed[prev, inside] = True
        allowed[prev, end] = True
    first = numpy.zeros((n_tags,), dtype="bool")
    first[opening] = True
    last = numpy.zeros((n_tags,), dtype="bool")
    last[closed] = True
    return allowed, first, last


def constrained_scores(transitions, start, n_labels: int):
    """Transition, start and end scores with -inf where the IOBES constraints over `n_labels`
    labels forbid a tag (none for 0: any tag sequence)."""
    end = numpy.zeros_like(start)
    if n_labels:
        allowed, first, last = iobes_constraints(n_labels)
        transitions = numpy.where(allowed, transitions, -numpy.inf)
        start = numpy.where(first, start, -numpy.inf)
        end = numpy.where(last, 0.0, -numpy.inf)
    return transitions, start, end


def best_paths(
    scores: List[numpy.ndarray], transitions, start, n_labels: int = 0, group_size: int = 128
) -> List[numpy.ndarray]:
    """The best tag path of each sequence's (n, tags) scores under `transitions` (A[i, j]: tag j
    after tag i) and `start` scores, over valid IOBES paths of `n_labels` labels when that is
    positive: by the compiled kernel when it is built, else decoded together over the padded
    batch."""
    if not scores:
        return []
    kernels = compiled()
    if kernels is not None:
        return _viterbi_compiled(kernels, scores, transitions, start, n_labels)
    # Sequences of similar length are decoded together, so little time goes on padding.
    order = numpy.argsort([len(s) for s in scores], kind="stable")
    decoded: List[numpy.ndarray] = [None] * len(scores)  # type: ignore
    for group in numpy.array_split(order, max(1, len(order) // group_size)):
        emissions, lengths = pad_sequences([scores[i] for i in group], dtype=scores[0].dtype)
        if n_labels:
            paths = viterbi_iobes(emissions, lengths, transitions, start, n_labels)
        else:
            paths = viterbi(emissions, lengths, transitions, start)
        for row, i in enumerate(group.tolist()):
            decoded[i] = paths[row, : lengths[row]]
    return decoded


def _viterbi_compiled(kernels, scores: List[numpy.ndarray], transitions, start, n_labels: int) -> List[numpy.ndarray]:
    """best_paths by the compiled kernel: each sequence in turn, no padding; the IOBES
    constraints are -inf transition, start and end scores."""
    transitions, start, end = constrained_scores(transitions, start, n_labels)
    lengths = numpy.array([len(s) for s in scores], dtype="int32")
    emissions = numpy.ascontiguousarray(numpy.concatenate(scores), dtype="float32")
    paths = kernels.viterbi_flat(
        emissions,
        lengths,
        numpy.ascontiguousarray(transitions, dtype="float32"),
        numpy.ascontiguousarray(start, dtype="float32"),
        numpy.ascontiguousarray(end, dtype="float32"),
    )
    return split_rows(paths, lengths)


def viterbi(emissions, lengths, transitions, start, top_k: int = 4) -> numpy.ndarray:
    """Vectorised Viterbi over (batch, time, tags) emissions; returns (batch, time) tag ids.

    Each tag's best predecessor is sought among the `top_k` best tags first, which is exact
    (see `_best_opening`) and, for 45 POS tags, 20% faster than the full search (measured)."""
    batch, time, n_tags = emissions.shape
    if batch == 0 or time == 0:
        return numpy.zeros((batch, time), dtype="int32")
    active = numpy.arange(time)[None, :] < lengths[:, None]
    backpointers = numpy.zeros((batch, time, n_tags), dtype="int32")
    delta = start[None, :] + emissions[:, 0]
    incoming_max = transitions.max(axis=0)
    for t in range(1, time):
        best_score, best = _best_opening(delta, transitions, incoming_max, top_k)
        backpointers[:, t] = best
        step = best_score + emissions[:, t]
        delta = numpy.where(active[:, t, None], step, delta)
    return _backtrace(backpointers, delta.argmax(axis=1), active)


def viterbi_iobes(emissions, lengths, transitions, start, n_labels: int, top_k: int = 4) -> numpy.ndarray:
    """Viterbi over valid IOBES paths only, using their structure: a phrase opens (O, B-y,
    S-y) only after a closed tag (O, E-x, S-x), and I-x / E-x follow only B-x or I-x. Each
    step costs (2L + 1)^2 + 4L operations per sequence instead of (4L + 1)^2, and fewer still
    with `top_k`: the best predecessor of each opening tag is first sought among the k best
    closed tags, which is exact whenever no other closed tag could win (checked with a bound;
    the sequences where one could are redone in full)."""
    batch, time, n_tags = emissions.shape
    if batch == 0 or time == 0:
        return numpy.zeros((batch, time), dtype="int32")
    begin, inside, end, single = (numpy.arange(n_labels) * 4 + k for k in (1, 2, 3, 4))
    closed = numpy.concatenate([[0], end, single])
    opening = numpy.concatenate([[0], begin, single])
    open_scores = transitions[numpy.ix_(closed, opening)]  # [previous closed, next opening]
    # I-x and E-x: the previous tag is B-x (choice 0) or I-x (choice 1)
    from_begin = numpy.stack([transitions[begin, inside], transitions[begin, end]])  # (2, L)
    from_inside = numpy.stack([transitions[inside, inside], transitions[inside, end]])
    continuing = numpy.stack([inside, end])
    open_max = open_scores.max(axis=0)  # best transition into each opening tag
    active = numpy.arange(time)[None, :] < lengths[:, None]
    backpointers = numpy.zeros((batch, time, n_tags), dtype="int32")
    delta = numpy.full((batch, n_tags), -numpy.inf, dtype=emissions.dtype)
    delta[:, opening] = start[opening] + emissions[:, 0, opening]
    for t in range(1, time):
        step = numpy.empty_like(delta)
        best_score, best_prev = _best_opening(delta[:, closed], open_scores, open_max, top_k)
        step[:, opening] = best_score
        backpointers[:, t, opening] = closed[best_prev]
        via_begin = delta[:, None, begin] + from_begin[None]  # (batch, 2, L)
        via_inside = delta[:, None, inside] + from_inside[None]
        use_inside = via_inside > via_begin
        step[:, continuing] = numpy.where(use_inside, via_inside, via_begin)
        backpointers[:, t, continuing] = numpy.where(use_inside, inside[None, None], begin[None, None])
        step += emissions[:, t]
        delta = numpy.where(active[:, t, None], step, delta)
    final = numpy.full_like(delta, -numpy.inf)
    final[:, closed] = delta[:, closed]
    return _backtrace(backpointers, final.argmax(axis=1), active)


def _backtrace(backpointers, last_tags, active) -> numpy.ndarray:
    """Follow the backpointers from each sequence's best last tag: (batch, time) tag ids."""
    batch, time = active.shape
    paths = numpy.zeros((batch, time), dtype="int32")
    current = last_tags.astype("int32")
    rows = numpy.arange(batch)
    for t in range(time - 1, 0, -1):
        is_active = active[:, t]
        paths[is_active, t] = current[is_active]
        current = numpy.where(is_active, backpointers[rows, t, current], current)
    paths[:, 0] = current
    return paths


def _best_opening(prev_delta, scores_from, into_max, top_k: int):
    """For each next tag s: max over previous tags c of delta[c] + A[c, s], and the argmax c.

    `prev_delta` is (batch, previous tags), `scores_from` is A (previous, next) and `into_max`
    its column maxima. The top k candidates are laid out (k, batch, next) so that their max
    runs over the first axis: numpy reduces a short last axis row by row, many times slower."""
    n_prev = prev_delta.shape[1]
    if top_k >= n_prev:
        return _max_over_all_previous(prev_delta, scores_from)
    top = _top_k(prev_delta, top_k)  # (k, batch)
    top_delta = numpy.take_along_axis(prev_delta.T, top, axis=0)
    best_score, best = _max_over_previous(top_delta, top, scores_from[top])
    # A tag outside the top k scores at most (k-th best delta) + max_c A[c, s].
    bound = top_delta.min(axis=0)[:, None] + into_max[None, :]
    unsure = numpy.flatnonzero((best_score < bound).any(axis=1))
    if len(unsure):
        best_score[unsure], best[unsure] = _max_over_all_previous(prev_delta[unsure], scores_from)
    return best_score, best


def _top_k(values, k: int):
    """The column indices of each row's k largest values, shape (k, batch), by k argmaxes
    (for a small k several times faster than numpy.argpartition over short rows)."""
    remaining = values.copy()
    rows = numpy.arange(values.shape[0])
    top = numpy.empty((k, values.shape[0]), dtype="int64")
    for j in range(k):
        top[j] = remaining.argmax(axis=1)
        remaining[rows, top[j]] = -numpy.inf
    return top


def _max_over_all_previous(prev_delta, scores_from):
    """max over c of prev_delta[b, c] + scores_from[c, s], and the argmax c: (batch, next) each.
    Over all previous tags, the (batch, next, previous) layout with argmax is the faster one."""
    candidates = prev_delta[:, None, :] + numpy.ascontiguousarray(scores_from.T)[None]
    best = candidates.argmax(axis=2)
    return numpy.take_along_axis(candidates, best[:, :, None], axis=2)[:, :, 0], best


def _max_over_previous(prev_delta, prev_tags, transition_scores):
    """max over j of prev_delta[j, b] + transition_scores[j, b, s], and the tag prev_tags[j, b]
    that attains it: (batch, next) each."""
    candidates = prev_delta[:, :, None] + transition_scores  # (candidates, batch, next)
    best_score = candidates.max(axis=0)
    best = numpy.empty(best_score.shape, dtype="int64")
    for j in range(candidates.shape[0] - 1, -1, -1):  # on a tie the first candidate wins
        numpy.copyto(best, prev_tags[j][:, None], where=candidates[j] == best_score)
    return best_score, best


def pad_sequences(arrays: Sequence[numpy.ndarray], fill=0.0, dtype=None) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """Stack (n_k, tags) arrays into (batch, max n, tags), with the lengths."""
    lengths = numpy.array([a.shape[0] for a in arrays], dtype="int64")
    n_tags = arrays[0].shape[1] if len(arrays) else 0
    time = int(lengths.max()) if len(arrays) else 0
    if dtype is None:
        dtype = "bool" if isinstance(fill, bool) else "float64"
    padded = numpy.full((len(arrays), time, n_tags), fill, dtype=dtype)
    for i, array in enumerate(arrays):
        padded[i, : array.shape[0]] = array
    return padded, lengths
