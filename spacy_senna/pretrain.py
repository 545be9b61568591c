"""Language-model pre-training of SENNA's word table with the paper's pairwise ranking loss.

For every token, the window of `window_size` tokens around it must score higher than the same
window with its centre word replaced by a random dictionary word:
    loss = max(0, 1 - f(window) + f(corrupted window)),
f = Linear -> HardTanh -> Linear(1) over the window of word vectors (with `words_only`, the
default, as in the paper's language model: the centre token's capitalisation, suffix or
character features would give the replacement away; else the whole tok2vec output).
As in the paper the dictionary grows in stages (curriculum): at first only the `dictionary_start` most frequent
words are centre words and replacements, and the size doubles every `stage_updates`
updates. Word rows are ordered by frequency when the vocabulary comes from training text or
from a word list written in frequency order (`python -m spacy_senna build-vocab`).

Registered as a `spacy pretrain` objective ("spacy_senna.RankingLM.v1"); `spacy pretrain`
streams the JSONL corpus, prints words/second and loss, checkpoints (`n_save_every`) and
resumes (`--resume-path`). Its output loads with `[initialize] init_tok2vec`.
"""
from typing import Callable, List, Optional, Tuple

import numpy
from spacy.tokens import Doc
from spacy.util import registry
from spacy.vocab import Vocab
from thinc.api import HardTanh, Linear, Model, chain
from thinc.types import Floats1d

from .layers.embed import embed_layers
from .layers.window import window_rows


@registry.architectures("spacy_senna.RankingLM.v1")
def create_ranking_objective(
    window_size: int = 11,
    hidden_width: int = 100,
    dictionary_start: int = 5000,
    stage_updates: int = 2000,
    seed: int = 0,
    words_only: bool = True,
) -> Callable[[Vocab, Model], Model]:
    """`[pretraining.objective]`: the ranking language model on top of a SennaEmbed tok2vec."""

    def create_objective(vocab: Vocab, tok2vec: Model) -> Model:
        model = RankingLM(tok2vec, window_size, hidden_width, dictionary_start, stage_updates, seed, words_only)
        model.attrs["loss"] = sum_of_hinges
        return model

    return create_objective


def sum_of_hinges(ops, docs: List[Doc], hinges: List[Floats1d]) -> Tuple[float, List[Floats1d]]:
    """The model outputs the per-token hinge losses; their sum is the loss."""
    return float(sum(h.sum() for h in hinges)), [ops.alloc1f(len(h)) + 1.0 for h in hinges]


def RankingLM(
    tok2vec: Model,
    window_size: int,
    hidden_width: int,
    dictionary_start: int,
    stage_updates: int,
    seed: int,
    words_only: bool = True,
) -> Model:
    found = embed_layers(tok2vec)
    embed = found[0] if found else None
    if embed is None:
        raise ValueError("the ranking LM objective needs a spacy_senna.SennaEmbed.v1 tok2vec")
    scorer = chain(HardTanh(nO=hidden_width), Linear(nO=1))
    model = Model(
        "senna_ranking_lm",
        forward,
        init=init,
        layers=[tok2vec, scorer],
        refs={"tok2vec": tok2vec, "embed": embed, "scorer": scorer},
        attrs={
            "window_size": window_size,
            "dictionary_start": dictionary_start,
            "stage_updates": stage_updates,
            "n_updates": 0,
            "seed": seed,
            "words_only": words_only,
        },
    )
    return model


def init(model: Model, X: Optional[List[Doc]] = None, Y=None) -> None:
    tok2vec, scorer = model.layers
    tok2vec.initialize(X=X)
    width = _token_width(model) * model.attrs["window_size"]
    scorer.initialize(X=model.ops.alloc2f(2, width))


def _token_width(model: Model) -> int:
    """The width of each token's slot in the scored window."""
    if model.attrs["words_only"]:
        return model.get_ref("embed").get_dim("word_width")
    return model.get_ref("tok2vec").get_dim("nO")


def dictionary_size(model: Model) -> int:
    """The curriculum: the number of most frequent words in play after n updates."""
    n_words = model.get_ref("embed").get_dim("nV_word")
    stage = model.attrs["n_updates"] // max(1, model.attrs["stage_updates"])
    return int(min(n_words, 2 + model.attrs["dictionary_start"] * 2**stage))


def forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Floats1d], Callable]:
    ops = model.ops
    tok2vec, scorer = model.layers
    embed = model.get_ref("embed")
    width = model.attrs["window_size"]
    words_only = model.attrs["words_only"]
    vectors, backprop_tok2vec = (embed if words_only else tok2vec)(docs, is_train)
    lengths = ops.asarray1i([len(v) for v in vectors])
    n_in = _token_width(model)
    word_width = embed.get_dim("word_width")
    X = ops.flatten(vectors)[:, :n_in] if len(vectors) else ops.alloc2f(0, n_in)
    table = ops.xp.vstack([ops.alloc2f(1, n_in), X])  # row 0: zero padding
    rows = window_rows(ops, lengths, width)
    windows = table[rows.ravel()].reshape((rows.shape[0], width * n_in))
    # centre words in the current dictionary, and random replacements from it
    size = dictionary_size(model)
    word_ids = numpy.concatenate([embed.attrs["tables"].doc_features(doc)[:, 0] for doc in docs]) if docs else numpy.zeros((0,), "int32")
    in_play = (word_ids >= 2) & (word_ids < size)
    rng = numpy.random.default_rng(model.attrs["seed"] + model.attrs["n_updates"])
    replacements = rng.integers(2, max(3, size), size=len(word_ids))
    W_word = embed.get_param("W_word")
    centre = (width // 2) * n_in
    corrupted = windows.copy()
    corrupted[:, centre : centre + word_width] = W_word[replacements]
    both, backprop_scorer = scorer(ops.xp.vstack([windows, corrupted]), is_train)
    real, fake = both[: len(windows), 0], both[len(windows) :, 0]
    hinges = ops.xp.maximum(0.0, 1.0 - real + fake) * in_play
    violated = (hinges > 0).astype("float32")

    def backprop(d_hinges: List[Floats1d]) -> List[Doc]:
        d_h = ops.flatten(d_hinges) * violated if len(d_hinges) else violated
        d_both = ops.xp.concatenate([-d_h, d_h])[:, None].astype("float32")
        d_inputs = backprop_scorer(d_both)
        d_windows, d_corrupted = d_inputs[: len(windows)], d_inputs[len(windows) :]
        # the corrupted window shares every slot but its centre word with the real one
        d_replaced = ops.xp.ascontiguousarray(d_corrupted[:, centre : centre + word_width])
        d_corrupted = d_corrupted.copy()
        d_corrupted[:, centre : centre + word_width] = 0.0
        d_windows = d_windows + d_corrupted
        d_W = ops.alloc2f(*W_word.shape)
        ops.scatter_add(d_W, ops.asarray1i(replacements), d_replaced)
        embed.inc_grad("W_word", d_W)
        d_table = ops.alloc2f(table.shape[0], n_in)
        ops.scatter_add(d_table, rows.ravel(), ops.xp.ascontiguousarray(d_windows.reshape((-1, n_in))))
        d_vectors = d_table[1:]
        if words_only:  # the other features of the tokens get no gradient
            d_vectors = ops.xp.hstack([d_vectors, ops.alloc2f(len(d_vectors), embed.get_dim("nO") - n_in)])
        backprop_tok2vec(ops.unflatten(d_vectors, lengths) if len(vectors) else [])
        model.attrs["n_updates"] += 1
        return docs

    return (ops.unflatten(hinges, lengths) if len(vectors) else []), backprop
