# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled inner loops for inference: Viterbi decoding of each sequence in turn.

Optional: `spacy_senna.kernels` uses this module when it was built (setup.py builds it when
Cython is available) and falls back to the numpy code otherwise. The results are those of
the numpy code, bit for bit: the same float32 sums in the same order, ties to the lowest tag.
"""
import numpy

from libc.math cimport INFINITY
from libc.stdlib cimport free, malloc

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
