# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled inner loops for inference: Viterbi decoding of each sequence in turn, and
spaCy's string hash without spaCy (for the drop-in's lean path, lexicon.string_hashes).

Optional: `spacy_senna.kernels` uses this module when it was built (setup.py builds it when
Cython is available) and falls back to the numpy code otherwise. The results are those of
the numpy code, bit for bit: the same float32 sums in the same order, ties to the lowest tag.
"""
import numpy

from libc.math cimport INFINITY
from libc.stdint cimport uint64_t
from libc.stdlib cimport free, malloc
from murmurhash.mrmr cimport hash64

# What kernels.API_VERSION asks for: bumped whenever a function is added or changed, so that
# an older build is not used by newer code (spacy_senna/kernels.py falls back to numpy).
API_VERSION = 2


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

    See `_step` for how each tag's best predecessor is found (exactly, trying few)."""
    cdef Py_ssize_t n_rows = emissions.shape[0], n_tags = emissions.shape[1]
    cdef Py_ssize_t n_seqs = lengths.shape[0]
    paths_array = numpy.zeros((n_rows,), dtype="int32")
    if n_rows == 0 or n_tags == 0:
        return paths_array
    cdef int[::1] paths = paths_array
    # backpointers of one sequence at a time: (length, n_tags)
    cdef Py_ssize_t longest = 0, s
    for s in range(n_seqs):
        if lengths[s] > longest:
            longest = lengths[s]
    cdef int* back = <int*> malloc(longest * n_tags * sizeof(int))
    cdef float* delta = <float*> malloc(n_tags * sizeof(float))
    cdef float* new_delta = <float*> malloc(n_tags * sizeof(float))
    cdef int* order = <int*> malloc(n_tags * sizeof(int))
    cdef float* into_max = <float*> malloc(n_tags * sizeof(float))
    if back == NULL or delta == NULL or new_delta == NULL or order == NULL or into_max == NULL:
        free(back); free(delta); free(new_delta); free(order); free(into_max)
        raise MemoryError()
    cdef Py_ssize_t i, j, t, offset = 0, length, best_tag
    cdef float best, score
    with nogil:
        for j in range(n_tags):
            into_max[j] = -INFINITY
            for i in range(n_tags):
                if transitions[i, j] > into_max[j]:
                    into_max[j] = transitions[i, j]
        for s in range(n_seqs):
            length = lengths[s]
            if length == 0:
                continue
            for j in range(n_tags):
                delta[j] = start[j] + emissions[offset, j]
            for t in range(1, length):
                _step(delta, new_delta, &back[t * n_tags], order, into_max, transitions, n_tags)
                for j in range(n_tags):
                    delta[j] = new_delta[j] + emissions[offset + t, j]
            best = -INFINITY
            best_tag = 0
            for j in range(n_tags):
                score = delta[j] + end[j]
                if score > best:
                    best = score
                    best_tag = j
            paths[offset + length - 1] = <int> best_tag
            for t in range(length - 1, 0, -1):
                best_tag = back[t * n_tags + best_tag]
                paths[offset + t - 1] = <int> best_tag
            offset += length
    free(back); free(delta); free(new_delta); free(order); free(into_max)
    return paths_array


cdef void _step(
    const float* delta,
    float* best_scores,
    int* back,
    int* order,
    const float* into_max,
    const float[:, ::1] transitions,
    Py_ssize_t n_tags,
) noexcept nogil:
    """For each tag j: max over i of delta[i] + transitions[i, j] into best_scores[j], the
    argmax i (the lowest on a tie) into back[j].

    With imax the best previous tag, tag j scores at least bound_j = delta[imax] + A[imax, j],
    and a previous tag i can only reach that when delta[i] + max_i' A[i', j] >= bound_j. So
    only the previous tags with delta above min_j (bound_j - max A[., j]) (less a margin for
    rounding) are candidates; they are tried by decreasing delta, each tag j stopping at the
    first candidate that cannot beat its best so far. A tag j that imax cannot precede
    (A[imax, j] = -inf: an IOBES constraint) is searched over all previous tags."""
    cdef Py_ssize_t i, j, k, n_candidates = 0, best_tag, top = 0
    cdef float best, score, value, top_delta = -INFINITY
    cdef double threshold = INFINITY, bound
    cdef int key
    for i in range(n_tags):
        if delta[i] > top_delta:
            top_delta = delta[i]
            top = i
    if top_delta != -INFINITY:
        for j in range(n_tags):
            if transitions[top, j] != -INFINITY:
                bound = <double> top_delta + transitions[top, j] - into_max[j]
                if bound < threshold:
                    threshold = bound
        threshold -= 1e-3 + 1e-5 * (threshold if threshold > 0 else -threshold)
        # the candidates, by decreasing delta (insertion sort: they are few)
        for i in range(n_tags):
            value = delta[i]
            if value == -INFINITY or value < threshold:
                continue
            k = n_candidates
            while k > 0 and delta[order[k - 1]] < value:
                order[k] = order[k - 1]
                k -= 1
            order[k] = <int> i
            n_candidates += 1
    for j in range(n_tags):
        best = -INFINITY
        best_tag = 0
        if top_delta != -INFINITY and transitions[top, j] != -INFINITY:
            for k in range(n_candidates):
                key = order[k]
                if delta[key] + into_max[j] < best:
                    break
                score = delta[key] + transitions[key, j]
                if score > best or (score == best and key < best_tag):
                    best = score
                    best_tag = key
        else:
            for i in range(n_tags):
                score = delta[i] + transitions[i, j]
                if score > best:
                    best = score
                    best_tag = i
        best_scores[j] = best
        back[j] = <int> best_tag


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
    cdef const float* row
    cdef float* target
    if table.shape[1] != size or table.shape[2] != n_hidden or bias.shape[0] != n_hidden or out.shape[0] != n_tokens:
        raise ValueError("window_sums: the table, rows, bias and output shapes disagree")
    with nogil:
        for i in range(n_tokens):
            target = &out[i, 0]
            for j in range(n_hidden):
                target[j] = bias[j]
            for k in range(size):
                row = &table[type_rows[i, k], k, 0]
                for j in range(n_hidden):
                    target[j] = target[j] + row[j]
