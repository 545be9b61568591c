"""SENNA's gazetteer feature: per class, is the token inside a longest gazetteer match?

Entries are multi-word phrases (one a line in user-supplied lists, e.g. SENNA's
hash/ner.loc.lst, or lists built from training data). Matching uses spaCy's PhraseMatcher on
the exact token texts; for each class, overlapping matches keep the longest. Each class has
its own small table with rows NO and YES, and the vectors of the classes are concatenated.
"""
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import numpy
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc
from spacy.util import filter_spans
from spacy.vocab import Vocab
from thinc.api import Model, uniform_init
from thinc.types import Floats2d

InT = List[Doc]
OutT = List[Floats2d]


def SennaGazetteerEmbed(gazetteers: Dict[str, str], width: int = 5) -> Model[InT, OutT]:
    """`gazetteers` maps a class name (LOC, MISC, ORG, PER, ...) to a list file, read at init."""
    classes = sorted(gazetteers)
    return Model(
        "senna_gazetteer",
        forward,
        init=init,
        dims={"nO": width * len(classes), "width": width},
        params={f"E_{name}": None for name in classes},
        attrs={"classes": classes, "paths": dict(gazetteers), "entries": {}},
    )


def read_gazetteer(path: Path) -> List[str]:
    """One entry a line; blank lines are skipped; tokens are separated by whitespace."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"gazetteer list not found: {path}")
    with path.open(encoding="utf8", errors="strict") as file:
        return sorted({" ".join(line.split()) for line in file if line.strip()})


def init(model: Model[InT, OutT], X=None, Y=None) -> None:
    if not model.attrs["entries"]:
        model.attrs["entries"] = {name: read_gazetteer(model.attrs["paths"][name]) for name in model.attrs["classes"]}
    for name in model.attrs["classes"]:
        model.set_param(f"E_{name}", uniform_init(model.ops, (2, model.get_dim("width"))))


def forward(model: Model[InT, OutT], docs: InT, is_train: bool) -> Tuple[OutT, Callable]:
    classes = model.attrs["classes"]
    flags = [gazetteer_flags(model, doc) for doc in docs]  # (n, n_classes) 0/1 each
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


def gazetteer_flags(model: Model, doc: Doc) -> numpy.ndarray:
    """(len(doc), n_classes) array: 1 where the token is inside a longest match of that class."""
    matcher = _matcher(model, doc.vocab)
    classes = model.attrs["classes"]
    flags = numpy.zeros((len(doc), len(classes)), dtype="int64")
    spans_by_class: Dict[int, list] = {}
    for match_id, start, end in matcher(doc):
        spans_by_class.setdefault(classes.index(doc.vocab.strings[match_id]), []).append(doc[start:end])
    for k, spans in spans_by_class.items():
        for span in filter_spans(spans):
            flags[span.start : span.end, k] = 1
    return flags


_MATCHERS: Dict[int, tuple] = {}  # model.id -> (vocab, entries, matcher)


def _matcher(model: Model, vocab: Vocab) -> PhraseMatcher:
    """A PhraseMatcher built on first use from the stored entries (kept outside the attrs,
    which are serialised), rebuilt when the vocab or the entries change."""
    entries = model.attrs["entries"]
    cached = _MATCHERS.get(model.id)
    if cached is None or cached[0] is not vocab or cached[1] is not entries:
        matcher = PhraseMatcher(vocab)
        for name, phrases in entries.items():
            matcher.add(name, [Doc(vocab, words=phrase.split(" ")) for phrase in phrases])
        _MATCHERS[model.id] = cached = (vocab, entries, matcher)
    return cached[2]
