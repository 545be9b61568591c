"""SENNA's lookup tables: word, capitalisation and suffix embeddings, concatenated per token."""
import os
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple

import numpy

from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab
from thinc.api import Model, NumpyOps, uniform_init
from thinc.types import Floats2d, Ints2d

from ..features import FeatureTables
from ..inference import TABLES, WORD_SCALE, WORD_TABLE, looked_up
from ..lexicon import N_CAPS, PADDING, UNKNOWN, UNKNOWN_ID

InT = List[Doc]
OutT = List[Floats2d]
TABLE_DTYPES = ("float32", "float16", "int8")  # a word table's dtypes; all but float32 are for inference only
TABLES_REF = "tables"  # the ref that SennaEmbed.v1 sets on this layer, for the layers that need it
WORD_TABLE_FILE = "word_table{}.npy"  # in a component's folder, beside `model`: the k-th layer's


def SennaFeatureEmbed(
    word_width: int = 50,
    caps_width: int = 5,
    suffix_width: int = 5,
    *,
    suffix_length: int = 2,
    min_word_freq: int = 1,
    max_words: int = 130_000,
    word_list: Optional[str] = None,
    word_dropout: float = 0.0,
    pretrained_vectors: bool = False,
    pretrained_scale: float = 1.0,
    freeze_pretrained: bool = False,
    init_W: Callable = uniform_init,
) -> Model[InT, OutT]:
    """Embed each token as [word vector; caps vector; suffix vector].

    The tables' vocabularies live in the `tables` attr (a FeatureTables); they are read from
    `word_list` or built from the initialisation docs. During training each word is replaced
    by UNKNOWN with probability `word_dropout`, so the UNKNOWN row learns to stand for rare words.
    With `pretrained_vectors`, the word table starts from the pipeline's vectors
    (`nlp.vocab.vectors`, loaded by `[initialize] vectors`), whose words join the vocabulary,
    and is fine-tuned from there, multiplied by `pretrained_scale` (GloVe's values are about
    ten times the random initialisation's: 0.1 brings them to its scale). With
    `freeze_pretrained` the rows copied from the vectors keep their values in training (attr
    `frozen_rows`: that range of rows gets no gradient); the other rows (PADDING, UNKNOWN, the
    training words without a vector) and the caps and suffix tables learn. (An optimizer's
    L2 weight decay still shrinks them, as every weight; the configs set L2 = 0.)
    """
    return Model(
        "senna_embed",
        forward,
        init=partial(init, init_W=init_W),
        dims={
            "nO": word_width + caps_width + suffix_width,
            "word_width": word_width,
            "caps_width": caps_width,
            "suffix_width": suffix_width,
            "nV_word": None,
            "nV_suffix": None,
        },
        params={name: None for name in (*TABLES, WORD_SCALE)},
        attrs={
            "tables": FeatureTables(suffix_length=suffix_length),
            "suffix_length": suffix_length,
            "min_word_freq": min_word_freq,
            "max_words": max_words,
            "word_list": word_list,
            "word_dropout": word_dropout,
            "pretrained_vectors": pretrained_vectors,
            "pretrained_scale": pretrained_scale,
            "freeze_pretrained": freeze_pretrained,
            "frozen_rows": (0, 0),
        },
    )


def forward(model: Model[InT, OutT], docs: InT, is_train: bool) -> Tuple[OutT, Callable]:
    tables: FeatureTables = model.attrs["tables"]
    lengths = [len(doc) for doc in docs]
    ids = _batch_features(model, docs, tables)
    if is_train and model.attrs["word_dropout"] > 0:
        dropped = model.ops.xp.random.random_sample(ids.shape[0]) < model.attrs["word_dropout"]
        ids[dropped, 0] = UNKNOWN_ID
    W = [model.get_param(name) for name in TABLES]
    if is_train and W[0].dtype != "float32":
        raise ValueError(
            f"senna_embed: the word table is stored as {W[0].dtype} for inference (half-tables): "
            "train from the float32 pipeline it was made from"
        )
    scale = model.get_param(WORD_SCALE) if model.has_param(WORD_SCALE) else None
    vectors = looked_up(W, scale, ids, model.ops.xp)
    first_frozen, end_frozen = model.attrs.get("frozen_rows", (0, 0))

    def backprop(d_outputs: OutT) -> InT:
        d_vectors = model.ops.flatten(d_outputs) if d_outputs else vectors[:0]
        start = 0
        for i, name in enumerate(TABLES):
            width = W[i].shape[1]
            d_table = model.ops.alloc2f(*W[i].shape)
            model.ops.scatter_add(
                d_table, ids[:, i], model.ops.xp.ascontiguousarray(d_vectors[:, start : start + width])
            )
            if i == 0:
                d_table[first_frozen:end_frozen] = 0.0
            model.inc_grad(name, d_table)
            start += width
        return []

    return model.ops.unflatten(vectors, model.ops.asarray1i(lengths)) if docs else [], backprop


def _batch_features(model: Model, docs: InT, tables: FeatureTables) -> Ints2d:
    if not docs:
        return model.ops.alloc2i(0, 3)
    return model.ops.asarray2i(tables.docs_features(docs))


def init(model: Model[InT, OutT], X: Optional[InT] = None, Y=None, *, init_W: Callable = uniform_init) -> None:
    tables: FeatureTables = model.attrs["tables"]
    if tables.is_empty:
        if model.attrs["word_list"]:
            tables = FeatureTables.from_word_list(
                model.attrs["word_list"], suffix_length=model.attrs["suffix_length"]
            )
        elif model.attrs.get("pretrained_vectors"):
            # spaCy's tok2vec component initialises its model from a few docs, and the vectors
            # would never be copied: a table left for init to build is an error, not a table
            # of ten docs' words without its vectors
            raise ValueError(
                "senna_embed: pretrained_vectors is set but the table's vocabulary was not built "
                "from the training corpus; a shared tok2vec needs [initialize] before_init = "
                '{"@callbacks":"spacy_senna.build_vocabularies.v1","corpus":"corpora.train"}'
            )
        elif X is not None:
            tables = tables_from_docs(model, X)
        else:
            raise ValueError("senna_embed needs example docs or a word_list to build its vocabulary")
        model.attrs["tables"] = tables
    _allocate_tables(model, tables, init_W)


def tables_from_docs(model: Model, docs: List[Doc], vocab: Optional[Vocab] = None) -> FeatureTables:
    """Build the feature vocabularies from the words of training docs, with the layer's limits
    (and the words of `vocab.vectors` first, when the layer starts from pretrained vectors)."""
    tables = FeatureTables.from_texts(
        (token.text for doc in docs for token in doc),
        min_freq=model.attrs["min_word_freq"],
        max_words=model.attrs["max_words"],
        suffix_length=model.attrs["suffix_length"],
    )
    if model.attrs.get("pretrained_vectors") and vocab is not None:
        vector_words = [vocab.strings[key] for key in vocab.vectors.keys()]
        words = list(dict.fromkeys([w for w in vector_words if w not in (PADDING, UNKNOWN)] + tables.words[2:]))
        tables = FeatureTables(words[: max(0, model.attrs["max_words"] - 2)], tables.suffixes[2:], tables.suffix_length)
    return tables


def prepare_tables(model: Model, docs: List[Doc], vocab: Vocab) -> None:
    """Before initialisation: size the tables from the training docs (unless a word list or
    earlier call did), and start the word table from the vectors when asked to."""
    tables: FeatureTables = model.attrs["tables"]
    if tables.is_empty:
        if model.attrs["word_list"]:
            tables = FeatureTables.from_word_list(model.attrs["word_list"], suffix_length=model.attrs["suffix_length"])
        else:
            tables = tables_from_docs(model, docs, vocab)
        set_tables(model, tables)
        if model.attrs.get("pretrained_vectors"):
            filled = init_from_vectors(model, vocab)
            if model.attrs.get("freeze_pretrained"):
                model.attrs["frozen_rows"] = frozen_range(tables, filled)


def frozen_range(tables: FeatureTables, filled: List[int]) -> Tuple[int, int]:
    """The range of the word-table rows filled from the vectors, PADDING and UNKNOWN aside
    (the vectors' words come first: tables_from_docs); a ValueError when they are not one range."""
    rows = [row for row in filled if tables.words[row] not in (PADDING, UNKNOWN)]
    if not rows:
        return (0, 0)
    if rows[-1] - rows[0] + 1 != len(rows):
        raise ValueError(
            "freeze_pretrained: the vectors' words are not one range of the word table "
            "(a word_list orders it): leave freeze_pretrained off"
        )
    return (rows[0], rows[-1] + 1)


def init_from_vectors(model: Model, vocab: Vocab) -> List[int]:
    """Copy `vocab.vectors` into the word table, row by row of the vocabulary; returns the
    rows it filled.

    SENNA's PADDING and UNKNOWN words, when the vectors have them, fill those rows.
    """
    vectors = vocab.vectors
    if vectors.shape[0] == 0:
        raise ValueError("pretrained_vectors is set but the pipeline has no vectors: set [initialize] vectors")
    width = model.get_dim("word_width")
    if vectors.shape[1] != width:
        raise ValueError(f"the vectors have {vectors.shape[1]} dimensions but word_width is {width}")
    tables: FeatureTables = model.attrs["tables"]
    W = model.ops.to_numpy(model.get_param("W_word")).copy()
    data = model.ops.to_numpy(vectors.data) * model.attrs.get("pretrained_scale", 1.0)
    filled = []
    for row, word in enumerate(tables.words):
        key = vocab.strings[word] if word in vocab.strings else None
        index = vectors.find(key=key) if key is not None else -1
        if index >= 0:
            W[row] = data[index]
            filled.append(row)
    model.set_param("W_word", model.ops.asarray2f(W))
    return filled


def set_tables(model: Model, tables: FeatureTables, init_W: Callable = uniform_init) -> None:
    """Give the layer its vocabularies (before initialisation) and size its tables to them."""
    model.attrs["tables"] = tables
    _allocate_tables(model, tables, init_W)


def _allocate_tables(model: Model, tables: FeatureTables, init_W: Callable) -> None:
    sizes = {"W_word": tables.n_words, "W_caps": N_CAPS, "W_suffix": tables.n_suffixes}
    widths = {
        "W_word": model.get_dim("word_width"),
        "W_caps": model.get_dim("caps_width"),
        "W_suffix": model.get_dim("suffix_width"),
    }
    model.set_dim("nV_word", tables.n_words, force=True)
    model.set_dim("nV_suffix", tables.n_suffixes, force=True)
    for name in TABLES:
        if model.has_param(name) and model.get_param(name).shape == (sizes[name], widths[name]):
            continue
        model.set_param(name, init_W(model.ops, (sizes[name], widths[name])))


def half_word_table(model: Model) -> int:
    """Store the layer's word table as float16 (half its memory; inference only); returns the
    bytes saved. Rows are widened back to float32 as they are looked up."""
    W = model.get_param(WORD_TABLE)
    if W.dtype != "float32":  # float16 already, or int8
        return 0
    model.set_param(WORD_TABLE, W.astype("float16"))
    return W.nbytes // 2


def quantize_word_table(model: Model) -> int:
    """Store the layer's word table as int8 rows with a float32 scale each (a quarter of the
    float32 table's memory; inference only): row r is round(W[r] * 127 / max|W[r]|), read back
    as those int8 values times max|W[r]| / 127. Returns the bytes saved."""
    W = model.get_param(WORD_TABLE)
    if W.dtype == "int8":
        return 0
    rows = model.ops.to_numpy(W).astype("float32")
    largest = numpy.abs(rows).max(axis=1, keepdims=True)
    scale = numpy.where(largest > 0, largest / 127.0, 1.0).astype("float32")
    quantized = numpy.clip(numpy.rint(rows / scale), -127, 127).astype("int8")
    model.set_param(WORD_TABLE, quantized)
    model.set_param(WORD_SCALE, scale)
    return W.nbytes - quantized.nbytes - scale.nbytes


def embed_layers(model: Model) -> List[Model]:
    """The SENNA lookup-table layers in a model, each once: the `tables` refs of its nodes."""
    layers: dict = {}
    for node in model.walk():
        if node.has_ref(TABLES_REF):
            tables = node.get_ref(TABLES_REF)
            layers[tables.id] = tables
    return list(layers.values())


def pipeline_embed_layers(nlp: Language) -> List[Model]:
    """The SENNA lookup-table layers of the pipeline's components, each once (a tok2vec
    component's shared one included)."""
    layers: dict = {}
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if isinstance(model, Model):
            layers.update((layer.id, layer) for layer in embed_layers(model))
    return list(layers.values())


# -- the word tables on disk ------------------------------------------------------------------
# A component's `to_disk` writes each of its word tables (the bulk of its weights) to its own
# .npy file beside `model`, and `from_disk` maps it into memory (numpy copy-on-write): only the
# rows that the texts use are read from disk and take memory, and loading makes no copies of
# it (thinc's `from_bytes` holds the file's bytes, msgpack's arrays and a copy at once).


def word_table_layers(model: Model) -> List[Model]:
    """The model's SENNA lookup-table layers that hold a word table."""
    return [layer for layer in embed_layers(model) if layer.has_param(WORD_TABLE)]


@contextmanager
def word_tables_set_aside(model: Model) -> Iterator[List[numpy.ndarray]]:
    """The model's word tables, each replaced by its first 0 rows while the block runs (so that
    `model.to_bytes` leaves them out), then put back."""
    layers = word_table_layers(model)
    tables = [layer.get_param(WORD_TABLE) for layer in layers]
    try:
        for layer, table in zip(layers, tables):
            layer.set_param(WORD_TABLE, table[:0])
        yield [layer.ops.to_numpy(table) for layer, table in zip(layers, tables)]
    finally:
        for layer, table in zip(layers, tables):
            layer.set_param(WORD_TABLE, table)


def save_word_tables(tables: List[numpy.ndarray], folder: Path) -> None:
    """Write the tables as WORD_TABLE_FILE files, each through a new file renamed over the old
    one, so that a process that has the old one mapped (the pipeline saved over the folder it
    was loaded from) keeps reading it; files of tables beyond these are removed."""
    for k, table in enumerate(tables):
        target = folder / WORD_TABLE_FILE.format(k)
        partial_file = target.with_name(target.name + ".partial")
        with partial_file.open("wb") as file_:
            numpy.save(file_, numpy.ascontiguousarray(table), allow_pickle=False)
        os.replace(partial_file, target)
    k = len(tables)
    while (folder / WORD_TABLE_FILE.format(k)).exists():
        (folder / WORD_TABLE_FILE.format(k)).unlink()
        k += 1


def load_word_tables(model: Model, folder: Path, component: str) -> None:
    """Put the WORD_TABLE_FILE tables of `folder` into the model's word-table layers that came
    out of `model` without rows (a folder written before this layout holds them in `model`)."""
    for k, layer in enumerate(word_table_layers(model)):
        stub = layer.get_param(WORD_TABLE)
        if stub.shape[0] > 0:
            continue
        path = folder / WORD_TABLE_FILE.format(k)
        if not path.is_file():
            raise ValueError(f"{component}: {path} is missing (the word table of {folder / 'model'})")
        try:
            table = numpy.load(path, mmap_mode="c", allow_pickle=False)
        except (OSError, ValueError) as err:
            raise ValueError(f"{component}: {path} is not a readable .npy word table ({err})") from None
        expected = (layer.get_dim("nV_word"), stub.shape[1])
        if table.ndim != 2 or table.shape != expected or table.dtype.name not in TABLE_DTYPES or table.dtype != stub.dtype:
            raise ValueError(
                f"{component}: {path} holds a {table.dtype} array of shape {table.shape}, "
                f"not the word table of {expected[0]} x {expected[1]} {stub.dtype} values"
            )
        layer.set_param(WORD_TABLE, table if isinstance(layer.ops, NumpyOps) else layer.ops.asarray(table))
