# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled inner loops: Viterbi decoding of each sequence in turn, the SLL's forward-backward,
the window networks' first-layer sums (the parser's split one too), the parser's unit scores, and spaCy's string hash without spaCy (for the
drop-in's lean path, lexicon.string_hashes).

Optional: `spacy_senna.kernels` uses this module when it was built (setup.py builds it when
Cython is available) and falls back to the numpy code otherwise. The results are those of
the numpy code: Viterbi's bit for bit (the same float32 sums in the same order, ties to the
lowest tag), the SLL's to rounding (float64 in probability space, rescaled at each step,
where the numpy code works in log space).
"""
import numpy

from libc.math cimport INFINITY
from libc.stdint cimport uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy
from murmurhash.mrmr cimport hash64

DEF FEW = 8  # a tag that at most this many tags may precede (I-x, E-x) tries just those


def viterbi_flat(
    const float[:, ::1] emissions,
    const int[::1] lengths,
    const float[:, ::1] transitions,
    const float[::1] start,
    const float[::1] end,
):
    """Best paths of sequences laid end to end in `emissions` (sum(lengths), n_tags; float32)
    with int32 `lengths`: the tag ids, int32, one per row. `transitions[i, j]` scores tag j after tag i, `start` the first
    tag and `end` the last (-inf where a tag is not allowed there).

    Each step keeps only the best scores (`_step`); the best predecessor of each tag on the
    path is found again while tracing it back (`_best_predecessor`), from the same float32
    sums, so the path is that of a full search (ties to the lowest tag)."""
    cdef Py_ssize_t n_rows = emissions.shape[0], n_tags = emissions.shape[1]
    cdef Py_ssize_t n_seqs = lengths.shape[0]
    paths_array = numpy.zeros((n_rows,), dtype="int32")
    if n_rows == 0 or n_tags == 0:
        return paths_array
    cdef int[::1] paths = paths_array
    # the best scores of one sequence at a time: (length, n_tags)
    cdef Py_ssize_t longest = 0, s
    for s in range(n_seqs):
        if lengths[s] > longest:
            longest = lengths[s]
    cdef float* deltas = <float*> malloc(longest * n_tags * sizeof(float))
    cdef int* n_few = <int*> malloc(n_tags * sizeof(int))
    cdef int* few = <int*> malloc(n_tags * FEW * sizeof(int))
    cdef int* dense_rows = <int*> malloc(n_tags * sizeof(int))
    if deltas == NULL or n_few == NULL or few == NULL or dense_rows == NULL:
        free(deltas); free(n_few); free(few); free(dense_rows)
        raise MemoryError()
    cdef Py_ssize_t j, t, offset = 0, length, best_tag, n_dense
    cdef float best, score
    cdef float* delta
    with nogil:
        n_dense = _predecessors(transitions, n_tags, n_few, few, dense_rows)
        for s in range(n_seqs):
            length = lengths[s]
            if length == 0:
                continue
            for j in range(n_tags):
                deltas[j] = start[j] + emissions[offset, j]
            for t in range(1, length):
                delta = &deltas[t * n_tags]
                _step(&deltas[(t - 1) * n_tags], delta, dense_rows, n_dense, n_few, few, transitions, n_tags)
                for j in range(n_tags):
                    delta[j] = delta[j] + emissions[offset + t, j]
            delta = &deltas[(length - 1) * n_tags]
            best = -INFINITY
            best_tag = 0
            for j in range(n_tags):
                score = delta[j] + end[j]
                if score > best:
                    best = score
                    best_tag = j
            paths[offset + length - 1] = <int> best_tag
            for t in range(length - 1, 0, -1):
                best_tag = _best_predecessor(&deltas[(t - 1) * n_tags], best_tag, dense_rows, n_dense, n_few, few, transitions)
                paths[offset + t - 1] = <int> best_tag
            offset += length
    free(deltas); free(n_few); free(few); free(dense_rows)
    return paths_array


cdef Py_ssize_t _predecessors(
    const float[:, ::1] transitions, Py_ssize_t n_tags, int* n_few, int* few, int* dense_rows
) noexcept nogil:
    """Which tags may precede which (transitions[i, j] > -inf). A tag j that at most FEW tags
    may precede gets them in few[j * FEW:] (n_few[j] of them, by increasing tag), any other
    n_few[j] = -1. Returns the number of dense rows: the tags i, increasing, that may precede
    some tag of the other kind."""
    cdef Py_ssize_t i, j, n_dense = 0
    for j in range(n_tags):
        n_few[j] = 0
        for i in range(n_tags):
            if transitions[i, j] != -INFINITY and n_few[j] >= 0:
                if n_few[j] == FEW:
                    n_few[j] = -1
                else:
                    few[j * FEW + n_few[j]] = <int> i
                    n_few[j] += 1
    for i in range(n_tags):
        for j in range(n_tags):
            if n_few[j] < 0 and transitions[i, j] != -INFINITY:
                dense_rows[n_dense] = <int> i
                n_dense += 1
                break
    return n_dense


cdef void _step(
    const float* delta,
    float* best_scores,
    const int* dense_rows,
    Py_ssize_t n_dense,
    const int* n_few,
    const int* few,
    const float[:, ::1] transitions,
    Py_ssize_t n_tags,
) noexcept nogil:
    """For each tag j: max over i of delta[i] + transitions[i, j] into best_scores[j].

    A tag that few tags may precede (I-x and E-x, after B-x or I-x) tries those. Every other
    tag is scored in one pass over the dense rows (the tags that may precede such a tag: all
    of them for POS, O / E-x / S-x for IOBES tags), each row added to delta[i] across all tags
    at once: a running max with no argmax and no branch, which the compiler vectorises."""
    cdef Py_ssize_t i, j, k
    cdef float d, score, best
    cdef const float* row
    for j in range(n_tags):
        best_scores[j] = -INFINITY
    for k in range(n_dense):
        i = dense_rows[k]
        d = delta[i]
        if d == -INFINITY:
            continue
        row = &transitions[i, 0]
        for j in range(n_tags):
            score = d + row[j]
            best_scores[j] = score if score > best_scores[j] else best_scores[j]
    for j in range(n_tags):
        if n_few[j] < 0:
            continue
        best = -INFINITY
        for k in range(n_few[j]):
            i = few[j * FEW + k]
            score = delta[i] + transitions[i, j]
            best = score if score > best else best
        best_scores[j] = best


cdef Py_ssize_t _best_predecessor(
    const float* delta,
    Py_ssize_t tag,
    const int* dense_rows,
    Py_ssize_t n_dense,
    const int* n_few,
    const int* few,
    const float[:, ::1] transitions,
) noexcept nogil:
    """The lowest i with the highest delta[i] + transitions[i, tag]: the tags that may
    precede `tag`, in increasing order, as `_step` scored them."""
    cdef Py_ssize_t k, i, best_tag = 0
    cdef float best = -INFINITY, score
    if n_few[tag] >= 0:
        for k in range(n_few[tag]):
            i = few[tag * FEW + k]
            score = delta[i] + transitions[i, tag]
            if score > best:
                best = score
                best_tag = i
        return best_tag
    for k in range(n_dense):
        i = dense_rows[k]
        score = delta[i] + transitions[i, tag]
        if score > best:
            best = score
            best_tag = i
    return best_tag


def sll_forward_backward(
    const double[:, ::1] weights,
    const int[::1] lengths,
    const double[::1] start_weights,
    const double[::1] end_weights,
    const double[:, ::1] block,
    const int[::1] block_from,
    const int[::1] block_to,
    const int[::1] edge_from,
    const int[::1] edge_to,
    const double[::1] edge_weights,
):
    """The scaled forward-backward of the SLL over sequences laid end to end in `weights`
    (sum(lengths), n_tags): each row holds exp(emission - its max), 0 for a forbidden tag.

    The transition weights (exp of the transition scores less their max, 0 where a pair is
    forbidden) come as a dense `block`, block[s, d] for the pair (block_from[s], block_to[d]),
    and sparse `edges` outside it: every other pair is forbidden. IOBES tags are the block of
    closed (O, E-x, S-x) into opening (O, B-x, S-x) tags plus the 4 edges B-x/I-x -> I-x/E-x
    of each label, so a step costs (2L + 1)^2 + 4L instead of (4L + 1)^2; plain tags are one
    full block. Returns (alpha, beta, scales, end_scales): alpha[t] sums to 1, scales[t] is
    the sum it was divided by, end_scales[k] the weight of sequence k's end, so that
    log Z = sum(log scales) + log end_scale (plus the maxima taken out), P(y_t = j) =
    alpha[t, j] * beta[t, j], and P(y_t-1 = i, y_t = j) = alpha[t-1, i] * A[i, j] *
    weights[t, j] * beta[t, j] / scales[t]. A scale of 0 means that no path is left."""
    cdef Py_ssize_t n_rows = weights.shape[0], n_tags = weights.shape[1]
    cdef Py_ssize_t n_seqs = lengths.shape[0]
    cdef Py_ssize_t n_from = block_from.shape[0], n_to = block_to.shape[0], n_edges = edge_from.shape[0]
    alpha_array = numpy.zeros((n_rows, n_tags), dtype="float64")
    beta_array = numpy.zeros((n_rows, n_tags), dtype="float64")
    scales_array = numpy.zeros((n_rows,), dtype="float64")
    end_array = numpy.zeros((n_seqs,), dtype="float64")
    if n_rows == 0 or n_tags == 0:
        return alpha_array, beta_array, scales_array, end_array
    cdef double[:, ::1] alpha = alpha_array
    cdef double[:, ::1] beta = beta_array
    cdef double[::1] scales = scales_array
    cdef double[::1] end_scales = end_array
    block_t_array = numpy.ascontiguousarray(numpy.asarray(block).T)
    cdef const double[:, ::1] block_t = block_t_array
    cdef _Pairs forward, backward  # backward: A transposed, for beta[t, i] = sum_j A[i, j] * ...
    forward.block, forward.block_from, forward.block_to = &block[0, 0], &block_from[0], &block_to[0]
    backward.block, backward.block_from, backward.block_to = &block_t[0, 0], &block_to[0], &block_from[0]
    forward.n_from = backward.n_to = n_from
    forward.n_to = backward.n_from = n_to
    forward.n_edges = backward.n_edges = n_edges
    forward.edge_weights = backward.edge_weights = &edge_weights[0] if n_edges else NULL
    forward.edge_from = backward.edge_to = &edge_from[0] if n_edges else NULL
    forward.edge_to = backward.edge_from = &edge_to[0] if n_edges else NULL
    cdef double* scratch = <double*> malloc((n_to + n_from + n_tags) * sizeof(double))
    if scratch == NULL:
        raise MemoryError()
    cdef double* forward_sums = scratch
    cdef double* backward_sums = scratch + n_to
    cdef double* incoming = scratch + n_to + n_from
    cdef Py_ssize_t s, t, j, offset = 0, length, row
    cdef double total
    with nogil:
        for s in range(n_seqs):
            length = lengths[s]
            if length == 0:
                continue
            total = 0.0
            for j in range(n_tags):
                alpha[offset, j] = start_weights[j] * weights[offset, j]
                total += alpha[offset, j]
            _normalise(&alpha[offset, 0], &scales[offset], total, n_tags)
            for t in range(1, length):
                row = offset + t
                _transfer(&alpha[row - 1, 0], &alpha[row, 0], &forward, forward_sums)
                total = 0.0
                for j in range(n_tags):
                    alpha[row, j] *= weights[row, j]
                    total += alpha[row, j]
                _normalise(&alpha[row, 0], &scales[row], total, n_tags)
            row = offset + length - 1
            total = 0.0
            for j in range(n_tags):
                total += alpha[row, j] * end_weights[j]
            end_scales[s] = total
            if total > 0.0:
                for j in range(n_tags):
                    beta[row, j] = end_weights[j] / total
            for t in range(length - 2, -1, -1):
                row = offset + t
                if scales[row + 1] > 0.0:
                    for j in range(n_tags):
                        incoming[j] = weights[row + 1, j] * beta[row + 1, j] / scales[row + 1]
                else:
                    for j in range(n_tags):
                        incoming[j] = 0.0
                _transfer(incoming, &beta[row, 0], &backward, backward_sums)
            offset += length
    free(scratch)
    return alpha_array, beta_array, scales_array, end_array


cdef inline void _normalise(double* values, double* scale, double total, Py_ssize_t n) noexcept nogil:
    """Divide the values by their sum, kept in scale (0 leaves them as they are: all 0)."""
    cdef Py_ssize_t j
    scale[0] = total
    if total > 0.0:
        for j in range(n):
            values[j] /= total



cdef struct _Pairs:
    # the allowed (previous, next) tag pairs and their weights: a dense block, block[s, d] for
    # (block_from[s], block_to[d]), and edges (edge_from[e], edge_to[e]) outside it
    const double* block
    const int* block_from
    const int* block_to
    Py_ssize_t n_from
    Py_ssize_t n_to
    const int* edge_from
    const int* edge_to
    const double* edge_weights
    Py_ssize_t n_edges


cdef void _transfer(const double* previous, double* following, const _Pairs* pairs, double* summed) noexcept nogil:
    """following[j] += sum over i of previous[i] * A[i, j], A as the pairs' block and edges;
    `summed` is scratch of the block's width."""
    cdef Py_ssize_t s, d, e, n_to = pairs.n_to
    cdef double value
    cdef const double* weights_row
    for d in range(n_to):
        summed[d] = 0.0
    for s in range(pairs.n_from):
        value = previous[pairs.block_from[s]]
        if value == 0.0:
            continue
        weights_row = pairs.block + s * n_to
        for d in range(n_to):
            summed[d] += value * weights_row[d]
    for d in range(n_to):
        following[pairs.block_to[d]] += summed[d]
    for e in range(pairs.n_edges):
        following[pairs.edge_to[e]] += previous[pairs.edge_from[e]] * pairs.edge_weights[e]


def hash_strings(list texts):
    """spaCy's hash_string of each text (MurmurHash64A of its UTF-8 bytes, seed 1), uint64."""
    cdef Py_ssize_t i, n = len(texts)
    hashes_array = numpy.empty((n,), dtype="uint64")
    cdef uint64_t[::1] hashes = hashes_array
    cdef bytes data
    for i in range(n):
        data = (<str> texts[i]).encode("utf8")
        hashes[i] = hash64(<char*> data, len(data), 1)
    return hashes_array


def window_sums(
    const float[:, :, ::1] table,
    const int[:, ::1] type_rows,
    const float[::1] bias,
    float[:, ::1] out,
):
    """out[i] = bias + table[type_rows[i, 0], 0] + ... + table[type_rows[i, k - 1], k - 1]: the
    window network's first layer from per-type products (inference.distinct_window_affine),
    added in that order in float32, as the numpy code adds them, in one pass per token."""
    cdef Py_ssize_t n_tokens = type_rows.shape[0], size = type_rows.shape[1], n_hidden = out.shape[1]
    cdef Py_ssize_t i, k, j
    cdef float* target
    if table.shape[1] != size or table.shape[2] != n_hidden or bias.shape[0] != n_hidden or out.shape[0] != n_tokens:
        raise ValueError("window_sums: the table, rows, bias and output shapes disagree")
    with nogil:
        for i in range(n_tokens):
            target = &out[i, 0]
            memcpy(target, &bias[0], n_hidden * sizeof(float))
            for k in range(size):
                _add_row(target, &table[type_rows[i, k], k, 0], n_hidden)


cdef inline void _add_row(float* target, const float* row, Py_ssize_t n) noexcept nogil:
    """target += row, n float32s."""
    cdef Py_ssize_t j
    for j in range(n):
        target[j] = target[j] + row[j]


def split_window_sums(
    const float[:, :, ::1] word_table,
    const int[:, ::1] word_rows,
    const float[:, :, ::1] history_table,
    const int[:, ::1] history_rows,
    const float[::1] bias,
    float[:, ::1] out,
):
    """out[i] = bias + word_table[word_rows[i, 0], 0] + history_table[history_rows[i, 0], 0] +
    ... up to window position k - 1: the parser's split first layer
    (level_inference.SplitWindowLayer), added in that order in float32, as the numpy code
    adds them, in one pass per word."""
    cdef Py_ssize_t n_words = word_rows.shape[0], size = word_rows.shape[1], n_hidden = out.shape[1]
    cdef Py_ssize_t n_word_rows = word_table.shape[0], n_history_rows = history_table.shape[0]
    cdef Py_ssize_t i, k, j
    cdef float* target
    if (
        history_rows.shape[0] != n_words or history_rows.shape[1] != size or out.shape[0] != n_words
        or word_table.shape[1] != size or history_table.shape[1] != size
        or word_table.shape[2] != n_hidden or history_table.shape[2] != n_hidden or bias.shape[0] != n_hidden
    ):
        raise ValueError("split_window_sums: the tables, rows, bias and output shapes disagree")
    for i in range(n_words):
        for k in range(size):
            if not (0 <= word_rows[i, k] < n_word_rows and 0 <= history_rows[i, k] < n_history_rows):
                raise ValueError(f"split_window_sums: row {i} position {k} points outside its table")
    with nogil:
        for i in range(n_words):
            target = &out[i, 0]
            memcpy(target, &bias[0], n_hidden * sizeof(float))
            for k in range(size):
                _add_row(target, &word_table[word_rows[i, k], k, 0], n_hidden)
                _add_row(target, &history_table[history_rows[i, k], k, 0], n_hidden)



def unit_sums(
    const float[:, ::1] word_scores,
    const int[::1] places,
    const int[:, ::1] place_tags,
    const int[::1] unit_starts,
    float[:, ::1] out,
):
    """out[u, t] = the sum over the words w of unit u (from unit_starts[u] to the next unit's
    start, the last to the end) of word_scores[w, place_tags[places[w], t]]:
    level_inference.unit_scores without its gathered (n_words, n_tags) arrays, the same
    float32 sums in the same order as numpy's add.reduceat over rows: the first word plus
    numpy's pairwise sum of the others (`_pairwise`), so the same bits."""
    cdef Py_ssize_t n_words = word_scores.shape[0], n_tags = word_scores.shape[1], n_units = unit_starts.shape[0]
    cdef Py_ssize_t u, w, t, first, stop
    cdef const float* scores
    cdef const int* tags
    cdef float* target
    if places.shape[0] != n_words or place_tags.shape[1] != n_tags or out.shape[0] != n_units or out.shape[1] != n_tags:
        raise ValueError("unit_sums: the scores, places, tags and output shapes disagree")
    for w in range(n_words):
        if not 0 <= places[w] < place_tags.shape[0]:
            raise ValueError(f"unit_sums: word {w} has no place {places[w]}")
    for w in range(place_tags.shape[0]):
        for t in range(n_tags):
            if not 0 <= place_tags[w, t] < n_tags:
                raise ValueError(f"unit_sums: place {w} points outside the {n_tags} tags")
    for u in range(n_units):
        stop = unit_starts[u + 1] if u + 1 < n_units else n_words
        if not 0 <= unit_starts[u] < stop <= n_words:
            raise ValueError(f"unit_sums: unit {u} starts at {unit_starts[u]}, not before the next unit (or the end, {n_words})")
    cdef _Gather words
    words.scores, words.places, words.tags, words.n_tags = &word_scores[0, 0], &places[0], &place_tags[0, 0], n_tags
    cdef float* scratch = <float*> malloc(9 * n_tags * sizeof(float))
    if scratch == NULL:
        raise MemoryError()
    cdef int failed = 0
    with nogil:
        for u in range(n_units):
            first = unit_starts[u]
            stop = unit_starts[u + 1] if u + 1 < n_units else n_words
            target = &out[u, 0]
            if stop - first > 1:
                if _pairwise(&words, first + 1, stop - first - 1, target, scratch) < 0:
                    failed = 1
                    break
            scores = &word_scores[first, 0]
            tags = &place_tags[places[first], 0]
            if stop - first > 1:
                for t in range(n_tags):
                    target[t] = scores[tags[t]] + target[t]
            else:
                for t in range(n_tags):
                    target[t] = scores[tags[t]]
    free(scratch)
    if failed:
        raise MemoryError()


cdef struct _Gather:
    # word w's score of tag t: scores[w * n_tags + tags[places[w] * n_tags + t]]
    const float* scores
    const int* places
    const int* tags
    Py_ssize_t n_tags


cdef inline void _add_word(const _Gather* words, Py_ssize_t w, float* target) noexcept nogil:
    cdef Py_ssize_t t, n_tags = words.n_tags
    cdef const float* scores = words.scores + w * n_tags
    cdef const int* tags = words.tags + words.places[w] * n_tags
    for t in range(n_tags):
        target[t] = target[t] + scores[tags[t]]


cdef int _pairwise(const _Gather* words, Py_ssize_t first, Py_ssize_t n, float* target, float* scratch) noexcept nogil:
    """target[t] = numpy's pairwise float32 sum (loops_utils.h.src, numpy 2) of the n words
    from `first`, per tag: under 8 words one after the other from -0.0; up to 128, 8
    running sums of every 8th word, added as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 +
    r7)), then the words left over; above, the two halves (the first a multiple of 8 words)
    added. `scratch`: 8 * n_tags floats. Returns -1 when out of memory."""
    cdef Py_ssize_t t, k, i, n_tags = words.n_tags, half
    cdef float* r
    cdef float* second
    if n < 8:
        for t in range(n_tags):
            target[t] = -0.0
        for i in range(first, first + n):
            _add_word(words, i, target)
        return 0
    if n <= 128:
        for k in range(8):
            r = scratch + k * n_tags
            for t in range(n_tags):
                r[t] = -0.0
            _add_word(words, first + k, r)  # -0.0 + x is x
        i = 8
        while i < n - n % 8:
            for k in range(8):
                _add_word(words, first + i + k, scratch + k * n_tags)
            i += 8
        r = scratch
        for t in range(n_tags):
            target[t] = ((r[t] + r[n_tags + t]) + (r[2 * n_tags + t] + r[3 * n_tags + t])) + (
                (r[4 * n_tags + t] + r[5 * n_tags + t]) + (r[6 * n_tags + t] + r[7 * n_tags + t])
            )
        while i < n:
            _add_word(words, first + i, target)
            i += 1
        return 0
    half = n // 2
    half -= half % 8
    second = <float*> malloc(9 * n_tags * sizeof(float))
    if second == NULL:
        return -1
    if _pairwise(words, first, half, target, scratch) < 0 or _pairwise(words, first + half, n - half, second, second + n_tags) < 0:
        free(second)
        return -1
    for t in range(n_tags):
        target[t] = target[t] + second[t]
    free(second)
    return 0
