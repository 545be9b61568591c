"""Registered model builders (`@architectures = "spacy_senna.*"` in a config)."""
from contextlib import contextmanager
from functools import wraps
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, TypeVar

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Dropout, HardTanh, Linear, Model, NumpyOps, chain, concatenate, get_current_ops
from thinc.api import residual, use_ops, with_array
from thinc.types import Floats2d

from .layers.attr_embed import feature_ref
from .layers.embed import TABLES_REF
from .layers.levels import HIDDEN_REF, WINDOW_REF
from .layers import (
    SennaAttrEmbed,
    SennaCharEmbed,
    SennaFeatureEmbed,
    SennaGazetteerEmbed,
    SennaLevels,
    SennaSentence,
    SennaWindow,
    SentenceLogLikelihood,
    with_predicates,
    with_start_predicate,
)

Builder = TypeVar("Builder", bound=Callable[..., Model])


@contextmanager
def numpy_blas() -> Iterator[None]:
    """Layers made in this block run their matrix products through numpy's BLAS (OpenBLAS)
    instead of thinc's BLIS, when the current ops are thinc's NumpyOps: on one thread of an
    AVX-512 CPU, 96 against 33 GFLOP/s for the window network's products (measured). Other
    ops (GPU, Apple) are left as they are."""
    ops = get_current_ops()
    if type(ops) is NumpyOps and ops.use_blis:
        with use_ops("numpy", use_blis=False):
            yield
    else:
        yield


def on_numpy_blas(builder: Builder) -> Builder:
    """The builder, making its layers inside `numpy_blas()`."""

    @wraps(builder)
    def build(*args, **kwargs):
        with numpy_blas():
            return builder(*args, **kwargs)

    return build  # type: ignore[return-value]


@registry.architectures("spacy_senna.SennaEmbed.v1")
@on_numpy_blas
def build_senna_embed(
    word_width: int = 50,
    caps_width: int = 5,
    suffix_width: int = 5,
    suffix_length: int = 2,
    min_word_freq: int = 1,
    max_words: int = 130_000,
    word_list: Optional[str] = None,
    word_dropout: float = 0.0,
    pretrained_vectors: bool = False,
    pretrained_scale: float = 1.0,
    freeze_pretrained: bool = False,
    token_features: Sequence[str] = (),
    feature_width: int = 5,
    gazetteers: Optional[Dict[str, str]] = None,
    gazetteer_dir: Optional[str] = None,
    gazetteer_width: int = 5,
    gazetteer_dropout: float = 0.0,
    char_width: int = 0,
) -> Model[List[Doc], List[Floats2d]]:
    """SENNA's lookup tables (word, caps, suffix) concatenated per token: a tok2vec layer.

    Optional extra tables: `token_features` embeds annotation set by earlier components
    ("tag": the POS tag, "chunk": the IOBES chunk tag), `gazetteers` (class -> list file)
    adds SENNA's per-class gazetteer membership feature; `gazetteer_dir` finds the lists of
    LOC, MISC, ORG and PER in a folder (SENNA's hash/ner.loc.lst ... or LOC.lst ...).
    Lists are read at initialisation and stored in the model; `gazetteer_dropout` hides each
    match with that probability in training (for lists built from the training data). `char_width` > 0 adds that
    many filters of a convolution over each word's characters (layers/char_embed.py).
    `pretrained_vectors` starts the word table from `nlp.vocab.vectors`, times `pretrained_scale`;
    `freeze_pretrained` keeps those rows as they start (the other rows and tables learn).
    """
    tables = SennaFeatureEmbed(
        word_width,
        caps_width,
        suffix_width,
        suffix_length=suffix_length,
        min_word_freq=min_word_freq,
        max_words=max_words,
        word_list=word_list,
        word_dropout=word_dropout,
        pretrained_vectors=pretrained_vectors,
        pretrained_scale=pretrained_scale,
        freeze_pretrained=freeze_pretrained,
    )
    extras = [SennaAttrEmbed(attr, feature_width) for attr in token_features]
    if gazetteers or gazetteer_dir:  # the folder is read at initialisation, not here
        extras.append(
            SennaGazetteerEmbed(dict(gazetteers or {}), gazetteer_width, folder=gazetteer_dir, dropout=gazetteer_dropout)
        )
    if char_width:
        extras.append(SennaCharEmbed(char_width))
    model = concatenate(tables, *extras) if extras else tables
    if extras and all(layer.has_dim("nO") is True for layer in [tables, *extras]):  # else set at initialisation
        model.set_dim("nO", sum(layer.get_dim("nO") for layer in [tables, *extras]))
    model.set_ref(TABLES_REF, tables)  # what vocabulary building, pre-training and tools look up
    for attr, layer in zip(token_features, extras):  # what reads earlier annotation (pipeline/base, bench)
        model.set_ref(feature_ref(attr), layer)
    return model


@registry.architectures("spacy_senna.WindowTagger.v1")
@on_numpy_blas
def build_window_tagger(
    tok2vec: Model[List[Doc], List[Floats2d]],
    window_size: int = 5,
    hidden_width: int = 300,
    sentence_level: bool = True,
    hidden_dropout: bool = False,
    context_dilations: Sequence[int] = (),
    context_width: int = 0,
    nO: Optional[int] = None,
) -> Model[List[Doc], List[Floats2d]]:
    """The window network: windows of token vectors -> Linear -> HardTanh -> Linear -> tag scores.

    With `sentence_level` the scores feed the sentence-level log-likelihood (transition
    scores, Viterbi decoding); without it each token's tag is a softmax over its scores.
    With `hidden_dropout` a dropout layer follows HardTanh; `[training] dropout` sets its rate.
    On a shared `spacy_senna.WindowEncoder.v1` (which holds the window and the hidden layer),
    `window_size = 1` and `hidden_width = 0` leave only the output layer to the task.
    `context_dilations` widens each token's context beyond the window: one residual layer
    per entry, a width-3 window of the hidden vectors with that dilation -> Linear ->
    HardTanh (for [1, 2, 4], 14 more tokens on each side: Strubell et al. 2017's dilated CNN).
    `context_width` > 0 narrows each such layer's window to that many projected features
    (Linear(context_width) first): about 4 * context_width / (3 * hidden_width) of its cost.
    """
    output_layer = Linear(nO=nO)
    input_width = tok2vec.get_dim("nO") if context_dilations and not hidden_width else None
    context = ContextSpec(context_dilations, context_width)
    head = _window_head(output_layer, window_size, hidden_width, hidden_dropout, context, input_width)
    layers = [tok2vec, *head]
    refs = {"tok2vec": tok2vec, "output_layer": output_layer}
    if sentence_level:
        sll = SentenceLogLikelihood(nO=nO)
        layers.append(sll)
        refs["sll"] = sll
    model = chain(*layers)
    for name, layer in refs.items():
        model.set_ref(name, layer)
    return model


class ContextSpec(NamedTuple):
    """The dilated context layers after the hidden layer: their dilations and (0: none)
    the width of the projection each one's window reads."""

    dilations: Sequence[int] = ()
    width: int = 0


def _window_head(
    output_layer: Model,
    window_size: int,
    hidden_width: int,
    hidden_dropout: bool,
    context: ContextSpec,
    input_width: Optional[int] = None,
) -> List[Model]:
    """The window network on token vectors: window -> hidden -> (dilated context) -> output.
    `input_width`: the vectors' width, needed for context layers without a hidden layer."""
    layers: List[Model] = []
    if window_size != 1:
        layers.append(SennaWindow(window_size))
    hidden = _hidden_layers(hidden_width, hidden_dropout)
    if context.dilations:
        if hidden:
            layers.append(with_array(_in_sequence(hidden)))
        layers.extend(_context_layers(hidden_width or input_width, context, hidden_dropout))
        layers.append(with_array(output_layer))
    else:
        layers.append(with_array(_in_sequence(hidden + [output_layer])))
    return layers


@registry.architectures("spacy_senna.LevelParser.v1")
def build_level_parser(
    tok2vec: Model[List[Doc], List[Floats2d]],
    window_size: int = 5,
    hidden_width: int = 300,
    history_width: int = 10,
    hidden_dropout: bool = False,
    context_dilations: Sequence[int] = (),
    context_width: int = 0,
    network: str = "window",
    history_dropout: float = 0.0,
    conv_width: int = 300,
    distance_width: int = 5,
    max_distance: int = 30,
    nO: Optional[int] = None,
) -> Model:
    """Collobert's (2011) parser, one level at a time (layers/levels.py): each word's vector
    joined with an embedding of its tag in the tree built so far -> a network -> word tag
    scores -> unit tag scores -> SLL over the units (IOBES over the merged labels). The
    component runs it level after level until one constituent covers the sentence.

    `network = "window"`: the window network (window_size, hidden_width, context_dilations,
    context_width).
    `network = "sentence"`: the sentence network of SRL (layers/sentence.py), as in the
    paper: a width-3 convolution (conv_width) with distance embeddings to the word being
    tagged and to the sentence start, max over the sentence, HardTanh(hidden_width); it sees
    the whole sentence at every level.
    `history_dropout`: in training, the chance that a word's tag in the tree below reads O
    (as if no constituent covered it yet), so the network learns from imperfect trees too."""
    if network not in ("window", "sentence"):
        raise ValueError(f"LevelParser.v1: network must be 'window' or 'sentence', got {network!r}")
    output_layer = Linear(nO=nO)
    if network == "sentence":
        level_network = chain(
            SennaWindow(3),
            with_array(Linear(nO=conv_width)),
            with_start_predicate(),
            SennaSentence(conv_width, distance_width=distance_width, max_distance=max_distance),
            with_array(_in_sequence(_hidden_layers(hidden_width, hidden_dropout) + [output_layer])),
        )
    else:
        input_width = tok2vec.get_dim("nO") + history_width if context_dilations and not hidden_width else None
        head = _window_head(output_layer, window_size, hidden_width, hidden_dropout, ContextSpec(context_dilations, context_width), input_width)
        level_network = _in_sequence(head)
    levels = SennaLevels(tok2vec, level_network, history_width=history_width, history_dropout=history_dropout)
    sll = SentenceLogLikelihood(nO=nO)
    model = chain(levels, sll)
    for name, layer in {"tok2vec": tok2vec, "output_layer": output_layer, "levels": levels, "sll": sll}.items():
        model.set_ref(name, layer)
    if network == "window" and window_size > 1 and hidden_width and not context_dilations:
        # a plain window network: LevelScorer does its first layer per word and per history tag
        # ... and the levels layer trains it split too (layers/level_hidden.py)
        window, per_token = head
        for holder in (model, levels):
            holder.set_ref(WINDOW_REF, window)
            holder.set_ref(HIDDEN_REF, per_token.layers[0].layers[0])
    return model


@registry.architectures("spacy_senna.WindowEncoder.v1")
@on_numpy_blas
def build_window_encoder(
    embed: Model[List[Doc], List[Floats2d]],
    window_size: int = 5,
    hidden_width: int = 300,
    hidden_dropout: bool = False,
    context_dilations: Sequence[int] = (),
    context_width: int = 0,
) -> Model[List[Doc], List[Floats2d]]:
    """The lookup tables, the window and the first hidden layer, as a tok2vec to share.

    The paper's multi-task set-up (its figure 5): tasks share the lookup tables and the first
    hidden layer, and each keeps its own output layer (`WindowTagger.v1` with
    `window_size = 1`, `hidden_width = 0`, listening to this model). `context_dilations`
    (and `context_width`) add dilated-window layers after the hidden layer, as on `WindowTagger.v1`."""
    if hidden_width < 1:
        raise ValueError(f"WindowEncoder.v1: hidden_width must be positive, got {hidden_width}")
    model = chain(
        embed,
        SennaWindow(window_size),
        with_array(_in_sequence(_hidden_layers(hidden_width, hidden_dropout))),
        *_context_layers(hidden_width, ContextSpec(context_dilations, context_width), hidden_dropout),
    )
    model.set_dim("nO", hidden_width)
    model.set_ref("embed", embed)
    return model


def _context_layers(width: int, context: ContextSpec, hidden_dropout: bool) -> List[Model]:
    """One residual dilated-window layer (width-3 window -> HardTanh(width)) per dilation,
    its window over a Linear(context.width) projection when that is set."""
    if context.width < 0:
        raise ValueError(f"context_width must be 0 (no projection) or positive, got {context.width}")
    window_width = context.width or width
    layers = []
    for dilation in context.dilations:
        steps = [SennaWindow(3, nI=window_width, dilation=dilation), with_array(_in_sequence(_hidden_layers(width, hidden_dropout)))]
        if context.width:
            steps.insert(0, with_array(Linear(nO=context.width, nI=width)))
        layers.append(residual(chain(*steps)))
    return layers


def _in_sequence(layers: List[Model]) -> Model:
    """The layers chained, or the one layer itself (thinc's `chain` wants two or more)."""
    return chain(*layers) if len(layers) > 1 else layers[0]


def _hidden_layers(hidden_width: int, hidden_dropout: bool) -> List[Model]:
    """HardTanh(hidden_width), then dropout if asked; nothing for hidden_width 0."""
    if hidden_width == 0:
        return []
    return [HardTanh(nO=hidden_width)] + ([Dropout(0.0)] if hidden_dropout else [])


@registry.architectures("spacy_senna.SentenceTagger.v1")
@on_numpy_blas
def build_sentence_tagger(
    tok2vec: Model[List[Doc], List[Floats2d]],
    conv_width: int = 300,
    hidden_width: int = 500,
    distance_width: int = 5,
    max_distance: int = 30,
    sentence_level: bool = True,
    predicate_detector: Optional[Model[List[Doc], List[Floats2d]]] = None,
    hidden_dropout: bool = False,
    nO: Optional[int] = None,
) -> Model:
    """SENNA's sentence network for SRL, on (docs, predicate positions) input.

    Per token: its vector plus embeddings of its distance to the word being tagged and to
    the predicate; a width-3 convolution, max over the sentence, Linear -> HardTanh ->
    Linear: one row of tag scores per word, per predicate. The word part of the
    convolution runs once per sentence (see layers/sentence.py). `predicate_detector`, a
    window tagger over {O, V}, finds predicates when none are given. With `hidden_dropout`
    a dropout layer follows the HardTanh; `[training] dropout` sets its rate.
    """
    word_convolution = chain(tok2vec, SennaWindow(3), with_array(Linear(nO=conv_width)))
    output_layer = Linear(nO=nO)
    layers = [
        with_predicates(word_convolution),
        SennaSentence(conv_width, distance_width=distance_width, max_distance=max_distance),
        with_array(chain(*_hidden_layers(hidden_width, hidden_dropout), output_layer)),
    ]
    refs = {"tok2vec": tok2vec, "output_layer": output_layer}
    if sentence_level:
        refs["sll"] = SentenceLogLikelihood(nO=nO)
        layers.append(refs["sll"])
    model = chain(*layers)
    if predicate_detector is not None:
        model = Model(
            "srl_with_predicate_detector",
            _forward_first_layer,
            init=_init_srl_with_detector,
            layers=[model, predicate_detector],
        )
        refs["predicate_detector"] = predicate_detector
    for name, layer in refs.items():
        model.set_ref(name, layer)
    return model


def _forward_first_layer(model: Model, X, is_train: bool):
    return model.layers[0](X, is_train)


def _init_srl_with_detector(model: Model, X=None, Y=None) -> None:
    model.layers[0].initialize(X=X)
    model.layers[1].initialize(X=X[0] if X is not None else None)
