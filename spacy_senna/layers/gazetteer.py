"""SENNA's gazetteer feature: per class, is the token inside a longest gazetteer match?

Entries are multi-word phrases (one a line in user-supplied lists, e.g. SENNA's
hash/ner.loc.lst, or lists built from training data), compared on SENNA's normalised words
(lower-case, digits -> 0). Matching walks a trie of the entries: from each position the
longest entry is taken, then matching goes on after it. Each class has its own small table
with rows NO and YES, and the vectors of the classes are concatenated.
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy
from spacy.tokens import Doc
from thinc.api import Model, uniform_init
from thinc.types import Floats2d

from ..lexicon import normalize_word
from ..resources import find_gazetteers, read_gazetteer

InT = List[Doc]
OutT = List[Floats2d]


def SennaGazetteerEmbed(
    gazetteers: Dict[str, str], width: int = 5, folder: Optional[str] = None, dropout: float = 0.0
) -> Model[InT, OutT]:
    """`gazetteers` maps a class name (LOC, MISC, ORG, PER, ...) to a list file; `folder`
    holds more lists (`find_gazetteers`). Both are read at init, and the entries are stored
    in the model, so a trained model loads without them. In training, each match is hidden
    with probability `dropout`: lists built from the training data itself would otherwise
    match every training entity, and the network would learn nothing else."""
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"gazetteer dropout must be in [0, 1), got {dropout}")
    classes = [] if folder else sorted(gazetteers)
    return Model(
        "senna_gazetteer",
        forward,
        init=init,
        dims={"nO": None if folder else width * len(classes), "width": width},
        params={f"E_{name}": None for name in classes},
        attrs={"classes": classes, "paths": dict(gazetteers), "folder": folder, "entries": {}, "dropout": dropout},
    )


def init(model: Model[InT, OutT], X=None, Y=None) -> None:
    if model.attrs.get("folder") and not model.attrs["entries"]:
        paths = {**find_gazetteers(model.attrs["folder"]), **model.attrs["paths"]}
        model.attrs["paths"] = paths
        model.attrs["classes"] = sorted(paths)
        model.set_dim("nO", model.get_dim("width") * len(paths), force=True)
    if not model.attrs["entries"]:
        model.attrs["entries"] = {name: read_gazetteer(model.attrs["paths"][name]) for name in model.attrs["classes"]}
    for name in model.attrs["classes"]:
        model.set_param(f"E_{name}", uniform_init(model.ops, (2, model.get_dim("width"))))


def forward(model: Model[InT, OutT], docs: InT, is_train: bool) -> Tuple[OutT, Callable]:
    classes = model.attrs["classes"]
    dropout = model.attrs.get("dropout", 0.0) if is_train else 0.0
    flags = [gazetteer_flags(model, doc, dropout) for doc in docs]  # (n, n_classes) 0/1 each
    flat = numpy.concatenate(flags) if flags else numpy.zeros((0, len(classes)), dtype="int64")
    tables = [model.get_param(f"E_{name}") for name in classes]
    vectors = numpy.hstack([tables[k][flat[:, k]] for k in range(len(classes))]) if classes else flat

    def backprop(d_outputs: OutT) -> InT:
        if not len(flat):
            return []
        d_vectors = model.ops.flatten(d_outputs)
        width = model.get_dim("width")
        for k, name in enumerate(classes):
            d_table = numpy.zeros_like(tables[k])
            numpy.add.at(d_table, flat[:, k], d_vectors[:, k * width : (k + 1) * width])
            model.inc_grad(f"E_{name}", d_table)
        return []

    lengths = model.ops.asarray1i([len(doc) for doc in docs])
    return (model.ops.unflatten(model.ops.asarray2f(vectors), lengths) if docs else []), backprop


def gazetteer_flags(model: Model, doc: Doc, dropout: float = 0.0) -> numpy.ndarray:
    """(len(doc), n_classes) array: 1 where the token is inside a longest match of that class
    (each match left out with probability `dropout`)."""
    words = [normalize_word(token.text) for token in doc]
    tries = _tries(model)
    flags = numpy.zeros((len(doc), len(tries)), dtype="int64")
    for k, trie in enumerate(tries):
        for start, end in longest_matches(trie, words):
            if not dropout or numpy.random.random_sample() >= dropout:
                flags[start:end, k] = 1
    return flags


def longest_matches(trie: Dict, words: Sequence[str]) -> List[Tuple[int, int]]:
    """Left to right, the longest entry starting at each position; matches do not overlap."""
    matches = []
    i = 0
    while i < len(words):
        node, end = trie, None
        for j in range(i, len(words)):
            node = node.get(words[j])
            if node is None:
                break
            if _END in node:
                end = j + 1
        if end is None:
            i += 1
        else:
            matches.append((i, end))
            i = end
    return matches


_END = ""  # key marking the end of an entry in a trie node (no word is empty)
_TRIES: Dict[int, tuple] = {}  # model.id -> (entries, tries): kept outside the serialised attrs


def build_trie(entries: Sequence[str]) -> Dict:
    root: Dict = {}
    for entry in entries:
        node = root
        for word in entry.split(" "):
            node = node.setdefault(word, {})
        node[_END] = True
    return root


def _tries(model: Model) -> List[Dict]:
    """One trie per class, built on first use and rebuilt when the entries change."""
    entries = model.attrs["entries"]
    cached = _TRIES.get(model.id)
    if cached is None or cached[0] is not entries:
        tries = [build_trie(entries[name]) for name in model.attrs["classes"]]
        _TRIES[model.id] = cached = (entries, tries)
    return cached[1]
