"""Embeddings of annotation set by earlier components: the POS tag, the chunk tag (IOBES), or
the parse tree's first level (PT0, IOBES).

SENNA feeds its chunker the POS tags and its SRL network the PT0 tags predicted by earlier
stages. The values are hashed into a fixed number of rows, so no vocabulary has to be known
in advance; row 0 stands for a token with no value.
"""
from typing import Callable, List, Tuple

import numpy
from spacy.attrs import TAG
from spacy.tokens import Doc
from thinc.api import Model, uniform_init
from thinc.types import Floats2d, Ints1d

from ..lexicon import value_rows
from ..tasks import BY_FEATURE, CHUNK, CHUNKS_KEY, Annotation, with_key

InT = List[Doc]
OutT = List[Floats2d]
ATTRIBUTES = tuple(BY_FEATURE)  # the annotation of the POS, chunking and parsing tasks: "tag", "chunk", "pt0"


def feature_ref(attr: str) -> str:
    """The ref that SennaEmbed.v1 sets on the layer embedding `attr`: 'tag_feature', 'chunk_feature'."""
    return f"{attr}_feature"


def embedded_features(model: Model) -> List[str]:
    """The annotation of earlier components that a model embeds ('tag', 'chunk'), found by ref."""
    found = {layer.attrs["attr"] for layer in feature_layers(model)}
    return [attr for attr in ATTRIBUTES if attr in found]


def feature_layers(model: Model) -> List[Model]:
    """The layers of a model that embed earlier components' annotation, found by ref."""
    found: List[Model] = []
    for node in model.walk():
        for attr in ATTRIBUTES:
            if node.has_ref(feature_ref(attr)) and node.get_ref(feature_ref(attr)) not in found:
                found.append(node.get_ref(feature_ref(attr)))
    return found


def layer_annotation(layer: Model) -> Annotation:
    """The annotation that a SennaAttrEmbed layer reads."""
    return feature_annotation(layer.attrs["attr"], layer.attrs["chunks_key"])


def SennaAttrEmbed(attr: str, width: int = 5, n_rows: int = 512, chunks_key: str = CHUNKS_KEY) -> Model[InT, OutT]:
    if attr not in ATTRIBUTES:
        raise ValueError(f"unknown token feature {attr!r}; expected one of {ATTRIBUTES}")
    return Model(
        f"senna_attr_embed({attr})",
        forward,
        init=init,
        dims={"nO": width, "nV": n_rows},
        params={"E": None},
        attrs={"attr": attr, "chunks_key": chunks_key},
    )


def init(model: Model[InT, OutT], X=None, Y=None) -> None:
    model.set_param("E", uniform_init(model.ops, (model.get_dim("nV"), model.get_dim("nO"))))


def forward(model: Model[InT, OutT], docs: InT, is_train: bool) -> Tuple[OutT, Callable]:
    E = model.get_param("E")
    rows = [attr_rows(doc, model.attrs["attr"], E.shape[0], model.attrs["chunks_key"]) for doc in docs]
    flat = numpy.concatenate(rows) if rows else numpy.zeros((0,), dtype="int64")
    vectors = E[flat]

    def backprop(d_outputs: OutT) -> InT:
        d_E = model.ops.alloc2f(*E.shape)
        if len(flat):
            model.ops.scatter_add(d_E, flat.astype("int32"), model.ops.flatten(d_outputs))
        model.inc_grad("E", d_E)
        return []

    lengths = model.ops.asarray1i([len(doc) for doc in docs])
    return (model.ops.unflatten(vectors, lengths) if docs else []), backprop


def attr_rows(doc: Doc, attr: str, n_rows: int, chunks_key: str = CHUNKS_KEY) -> Ints1d:
    """Row per token: 0 without a value, else 1 + hash(value) mod (n_rows - 1)."""
    if attr == "tag":
        hashes = doc.to_array(TAG).astype("uint64")
    else:
        tags = feature_annotation(attr, chunks_key).feature_tags(doc)
        hashes = numpy.array([doc.vocab.strings.add(t) if t else 0 for t in tags], dtype="uint64")
    return value_rows(hashes, n_rows)


def feature_annotation(attr: str, chunks_key: str = CHUNKS_KEY) -> Annotation:
    """Where the annotation that token feature `attr` embeds is read (the chunker's own key)."""
    annotation = BY_FEATURE[attr].annotation
    return with_key(annotation, key=chunks_key) if attr == CHUNK.feature else annotation
