"""Tests for spacy_senna.constituents: bracket reading, preprocessing, the levels, output."""
import itertools
import tarfile

import pytest

from spacy_senna.constituents import (
    Leaf,
    Level,
    NotATreeError,
    Tree,
    TreeFormatError,
    heights,
    level_constituents,
    levels_to_constituents,
    merge_chains,
    next_unit_starts,
    oracle_tags,
    preprocess,
    ptb_string,
    read_trees,
    senna_column,
    split_chains,
    strip_label,
    tree_levels,
    tree_sentence,
    unit_history,
)

PTB_TREE = """( (S
    (NP-SBJ-1 (DT The) (NN cat) )
    (VP (VBD sat)
      (NP (-NONE- *-1) )
      (PP-LOC (IN on)
        (NP (DT the) (NN mat) )))
    (. .) ))
"""


def trees(text: str):
    return list(read_trees(enumerate(text.splitlines(), start=1)))


def sentence_of(text: str):
    (line, tree), = trees(text)
    return tree_sentence(preprocess(tree), line)


def test_read_and_preprocess():
    sentence = sentence_of(PTB_TREE)
    assert sentence.words == ("The", "cat", "sat", "on", "the", "mat", ".")
    assert sentence.tags == ("DT", "NN", "VBD", "IN", "DT", "NN", ".")
    # -NONE- dropped with the NP it leaves empty; NP-SBJ-1 -> NP, PP-LOC -> PP; no TOP
    assert sentence.constituents == ((0, 7, "S"), (0, 2, "NP"), (2, 6, "VP"), (3, 6, "PP"), (4, 6, "NP"))


def test_several_trees_per_line_and_lines():
    text = "(S (NN a)) (S (NN b))\n( (S\n (NN c)))"
    assert [line for line, _ in trees(text)] == [1, 1, 2]
    assert trees("(S (NN a))")[0][1] == Tree("S", (Leaf("NN", "a"),))


@pytest.mark.parametrize(
    "label,stripped",
    [("NP-SBJ-1", "NP"), ("PP=2", "PP"), ("S-TPC-3", "S"), ("NP", "NP"), ("-LRB-", "-LRB-"), ("-NONE-", "-NONE-"),
     ("ADVP|PRT", "ADVP|PRT"), ("WHNP-10", "WHNP")],
)
def test_strip_label(label, stripped):
    assert strip_label(label) == stripped


def test_brackets_as_pos_tags_are_kept():
    sentence = sentence_of("( (S (-LRB- -LRB-) (NP (NN x)) (-RRB- -RRB-)))")
    assert sentence.tags == ("-LRB-", "NN", "-RRB-")


def test_tree_of_only_empty_elements_is_none():
    (_, tree), = trees("( (S (NP (-NONE- *)) (-NONE- *T*)))")
    assert preprocess(tree) is None


@pytest.mark.parametrize(
    "text,line,problem",
    [
        ("(S (NN a))\n)", 2, "')' closes no open bracket"),
        ("(S (NN a)\n(NP (NN b))", 2, "the tree opened at line 1 is not closed"),
        ("word (S (NN a))", 1, "text outside a tree"),
        ("(S (NN a) b)", 1, "not in a (TAG word) pair"),
        ("(S (NN a b))", 1, "not in a (TAG word) pair"),
        ("(S ())", 1, "empty brackets"),
        ("(S\n (NP))", 2, "constituent 'NP' has no children"),
        ("(S ((NN a)))", 1, "a constituent without a label"),
    ],
)
def test_bad_brackets(text, line, problem):
    with pytest.raises(TreeFormatError) as err:
        trees(text)
    assert err.value.line == line
    assert problem in str(err.value)
    assert str(err.value).startswith(f"line {line}: ")


def test_merge_and_split_chains():
    constituents = [(0, 3, "S"), (0, 3, "VP"), (1, 3, "NP"), (1, 3, "QP")]
    merged = merge_chains(constituents)
    assert merged == [(0, 3, "S#VP"), (1, 3, "NP#QP")]
    assert split_chains(merged) == constituents


def test_heights():
    merged = merge_chains(sentence_of(PTB_TREE).constituents)
    assert merged == [(0, 7, "S"), (0, 2, "NP"), (2, 6, "VP"), (3, 6, "PP"), (4, 6, "NP")]
    assert heights(merged) == [4, 1, 3, 2, 1]


def test_levels_of_a_tree():
    sentence = sentence_of(PTB_TREE)
    levels = tree_levels(len(sentence.words), sentence.constituents)
    assert levels == [
        Level((0, 1, 2, 3, 4, 5, 6), ("B-NP", "E-NP", "O", "O", "B-NP", "E-NP", "O")),
        Level((0, 2, 3, 4, 6), ("O", "O", "B-PP", "E-PP", "O")),
        Level((0, 2, 3, 6), ("O", "B-VP", "E-VP", "O")),
        Level((0, 2, 6), ("B-S", "I-S", "E-S")),
    ]
    assert level_constituents(7, levels[1].unit_starts, levels[1].tags) == [(3, 6, "PP")]
    assert next_unit_starts(7, levels[1].unit_starts, [(3, 6, "PP")]) == levels[2].unit_starts
    assert levels_to_constituents(7, levels) == list(sentence.constituents)


def test_unit_history():
    # at level 3 the units are NP(0-2), sat, PP(3-6), '.'
    merged = merge_chains(sentence_of(PTB_TREE).constituents)
    assert unit_history(7, (0, 2, 3, 6), merged) == ["B-NP", "E-NP", "O", "B-PP", "I-PP", "E-PP", "O"]
    assert unit_history(3, (0, 1, 2), [(1, 2, "NP")]) == ["O", "S-NP", "O"]


def test_one_word_constituents_and_chains():
    # (S (NP (PRP It)) (VP (VBZ is))) : both children are one-word constituents of level 1
    levels = tree_levels(2, [(0, 2, "S"), (0, 1, "NP"), (1, 2, "VP")])
    assert levels == [Level((0, 1), ("S-NP", "S-VP")), Level((0, 1), ("B-S", "E-S"))]
    # a chain over one word: (S (VP (VB Go)))
    assert tree_levels(1, [(0, 1, "S"), (0, 1, "VP")]) == [Level((0,), ("S-S#VP",))]
    assert levels_to_constituents(1, tree_levels(1, [(0, 1, "S"), (0, 1, "VP")])) == [(0, 1, "S"), (0, 1, "VP")]


def test_no_constituents_no_levels():
    assert tree_levels(3, []) == []
    assert levels_to_constituents(3, []) == []


@pytest.mark.parametrize(
    "constituents,problem",
    [([(0, 2, "NP"), (1, 3, "VP")], "crosses"), ([(0, 4, "S")], "outside"), ([(1, 1, "NP")], "outside")],
)
def test_not_a_tree(constituents, problem):
    with pytest.raises(NotATreeError, match=problem):
        tree_levels(3, constituents)


def all_trees(start: int, end: int, depth: int = 2):
    """Every set of nested constituents over start..end (labels X/Y), to a nesting depth."""
    if depth == 0:
        yield []
        return
    # choose a split of the range into consecutive pieces, each either a word or a constituent
    n = end - start
    for cuts in itertools.product([False, True], repeat=max(0, n - 1)):
        bounds = [start] + [start + i + 1 for i, cut in enumerate(cuts) if cut] + [end]
        pieces = list(zip(bounds[:-1], bounds[1:]))
        options = []
        for s, e in pieces:
            choice = [[]]  # a plain run of words
            for label in ("X", "Y"):
                for inner in all_trees(s, e, depth - 1):
                    choice.append([(s, e, label)] + inner)
            options.append(choice)
        for combo in itertools.product(*options):
            yield [c for part in combo for c in part]


def test_round_trip_exhaustive():
    """Every small tree (chains included) comes back from its levels unchanged."""
    n_checked = 0
    for n in range(1, 5):
        seen = set()
        for constituents in all_trees(0, n):
            key = tuple(constituents)
            if key in seen:
                continue
            seen.add(key)
            expected = split_chains(merge_chains(constituents))
            assert levels_to_constituents(n, tree_levels(n, constituents)) == expected
            n_checked += 1
    assert n_checked > 1000


def gold_states(n_words, constituents):
    """Each gold level's units and the ranges built below it."""
    found = set()
    for level in tree_levels(n_words, constituents):
        yield level, set(found)
        found.update((start, end) for start, end, _ in level_constituents(n_words, level.unit_starts, level.tags))


def test_oracle_over_the_gold_levels_is_the_gold_level():
    n_checked = 0
    for n in range(1, 5):
        for constituents in all_trees(0, n):
            gold = merge_chains(constituents)
            for level, found in gold_states(n, constituents):
                assert tuple(oracle_tags(n, level.unit_starts, found, gold)) == level.tags
                n_checked += 1
    assert n_checked > 1000


def test_oracle_over_a_wrong_tree():
    """(S (NP The cat) (VP sat (PP on (NP the mat))) .) after a wrong level 1 that took
    "cat sat" as an NP: NP(0-2) and VP(2-6) cross it and can never be built; NP(4-6) is to
    build, and PP(3-6) waits for it; S, over whole units, waits for them too."""
    gold = merge_chains(sentence_of(PTB_TREE).constituents)
    units = (0, 1, 3, 4, 5, 6)  # The, [cat sat], on, the, mat, .
    assert oracle_tags(7, units, {(1, 3)}, gold) == ["O", "O", "O", "B-NP", "E-NP", "O"]
    # then PP; then S, over units whose own constituents are all built or lost
    assert oracle_tags(7, (0, 1, 3, 4, 6), {(1, 3), (4, 6)}, gold) == ["O", "O", "B-PP", "E-PP", "O"]
    assert oracle_tags(7, (0, 1, 3, 6), {(1, 3), (4, 6), (3, 6)}, gold) == ["B-S", "I-S", "I-S", "E-S"]
    # a constituent over the right range with the wrong label counts as built: nothing is
    # left under S, which is next
    assert oracle_tags(7, (0, 2, 3, 6), {(0, 2), (4, 6), (3, 6)}, gold) == ["O", "B-VP", "E-VP", "O"]
    # a wrong constituent over the whole sentence: nothing is left to build
    assert oracle_tags(7, (0,), {(0, 7), (1, 3)}, gold) == ["O"]


def test_ptb_string():
    sentence = sentence_of(PTB_TREE)
    text = ptb_string(sentence.words, sentence.tags, sentence.constituents)
    assert text == "(S (NP (DT The) (NN cat)) (VP (VBD sat) (PP (IN on) (NP (DT the) (NN mat)))) (. .))"
    assert ptb_string(sentence.words, sentence.tags, sentence.constituents, root="TOP").startswith("(TOP (S (NP")
    # read back, it is the same tree
    assert sentence_of(text).constituents == sentence.constituents
    # no single root: wrapped, so that the string is one tree
    assert ptb_string(["a", "b"], ["X", "Y"], [(0, 1, "NP")]) == "(S1 (NP (X a)) (Y b))"
    assert ptb_string(["(", ")"], ["-LRB-", "-RRB-"], []) == "(S1 (-LRB- -LRB-) (-RRB- -RRB-))"


def test_senna_column():
    sentence = sentence_of(PTB_TREE)
    assert senna_column(7, sentence.constituents) == [
        "(S1(S(NP*", "*)", "(VP*", "(PP*", "(NP*", "*)))", "*))",
    ]
    assert senna_column(1, []) == ["(S1*)"]
    assert senna_column(0, []) == []


def test_round_trip_on_every_training_tree(shared_data):
    """The whole training and dev sets: tree -> levels -> tree is the identity."""
    archives = [shared_data / "ptb_parse" / name for name in ("wsj_trees_02-20.tar.gz", "wsj_trees_21.tar.gz")]
    if not all(path.exists() for path in archives):
        pytest.skip("ptb_parse data not available")
    n_trees = 0
    for path in archives:
        with tarfile.open(path) as archive:
            for member in archive:
                if not member.name.endswith(".mrg"):
                    continue
                text = archive.extractfile(member).read().decode("utf8")
                for line, tree in read_trees(enumerate(text.splitlines(), start=1)):
                    sentence = tree_sentence(preprocess(tree), line)
                    n = len(sentence.words)
                    assert levels_to_constituents(n, tree_levels(n, sentence.constituents)) == list(sentence.constituents), (member.name, line)
                    n_trees += 1
    assert n_trees == 38161 + 1671
