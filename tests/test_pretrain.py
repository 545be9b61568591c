"""Ranking language-model pre-training of the word table."""
import numpy
import spacy
from thinc.api import Adam, fix_random_seed

from spacy_senna.architectures import build_senna_embed
from spacy_senna.pretrain import create_ranking_objective, dictionary_size, sum_of_hinges

TEXT = [
    "the cat sat on the mat .",
    "the dog sat on the rug .",
    "a cat ate the fish .",
    "a dog ate the bone .",
] * 10


def train(model, docs, n_updates):
    optimizer = Adam(0.01)
    losses = []
    for _ in range(n_updates):
        hinges, backprop = model.begin_update(docs)
        loss, d_hinges = sum_of_hinges(model.ops, docs, hinges)
        backprop(d_hinges)
        model.finish_update(optimizer)
        losses.append(loss)
    return losses


def test_ranking_objective_learns():
    fix_random_seed(0)
    nlp = spacy.blank("en")
    docs = [nlp.make_doc(text) for text in TEXT]
    tok2vec = build_senna_embed(word_width=8, caps_width=2, suffix_width=2)
    model = create_ranking_objective(window_size=5, hidden_width=16, stage_updates=10**6)(nlp.vocab, tok2vec)
    model.initialize(X=docs)
    before = tok2vec.get_param("W_word").copy()
    losses = train(model, docs, 100)
    assert numpy.mean(losses[-20:]) < 0.85 * numpy.mean(losses[:10])
    assert not numpy.allclose(before, tok2vec.get_param("W_word"))


def test_words_only_scores_the_word_table_alone():
    fix_random_seed(0)
    nlp = spacy.blank("en")
    docs = [nlp.make_doc(text) for text in TEXT]
    tok2vec = build_senna_embed(word_width=8, caps_width=2, suffix_width=2, char_width=4)
    objective = create_ranking_objective(window_size=5, hidden_width=16, words_only=True)
    model = objective(nlp.vocab, tok2vec)
    model.initialize(X=docs)
    embed = model.get_ref("embed")
    words, caps, suffixes = (embed.get_param(n).copy() for n in ("W_word", "W_caps", "W_suffix"))
    char_filters = tok2vec.layers[1].get_param("W").copy()
    losses = train(model, docs, 30)
    assert numpy.mean(losses[-10:]) < numpy.mean(losses[:5])
    assert not numpy.allclose(words, embed.get_param("W_word"))
    # the paper's LM sees words only: the other features would give the replacement away
    assert numpy.array_equal(caps, embed.get_param("W_caps"))
    assert numpy.array_equal(suffixes, embed.get_param("W_suffix"))
    assert numpy.array_equal(char_filters, tok2vec.layers[1].get_param("W"))


def test_dictionary_grows_in_stages():
    nlp = spacy.blank("en")
    docs = [nlp.make_doc(text) for text in TEXT]
    tok2vec = build_senna_embed(word_width=8, caps_width=2, suffix_width=2)
    model = create_ranking_objective(window_size=5, hidden_width=16, dictionary_start=2, stage_updates=3)(nlp.vocab, tok2vec)
    model.initialize(X=docs)
    sizes = []
    for _ in range(3):
        sizes.append(dictionary_size(model))
        train(model, docs, 3)
    assert sizes == [4, 6, 10]


def test_only_dictionary_words_are_centres():
    nlp = spacy.blank("en")
    docs = [nlp.make_doc("the cat sat zebra")]
    tok2vec = build_senna_embed(word_width=4, caps_width=2, suffix_width=2)
    model = create_ranking_objective(window_size=3, hidden_width=4, dictionary_start=1)(nlp.vocab, tok2vec)
    model.initialize(X=[nlp.make_doc("the the the cat")])  # vocabulary: the, cat
    hinges = model.predict(docs)[0]
    tables = tok2vec.attrs["tables"]
    assert tables.words[2] == "the"
    assert hinges[1:].tolist() == [0.0, 0.0, 0.0]  # 'cat' is past the first stage; others unknown


def test_spacy_pretrain_then_init_tok2vec(tmp_path):
    """`spacy pretrain` with the ranking objective, its weights loaded by a training config."""
    import subprocess
    import sys
    from pathlib import Path

    import srsly
    from spacy.tokens import Doc, DocBin

    root = Path(__file__).resolve().parents[1]
    srsly.write_jsonl(tmp_path / "raw.jsonl", [{"text": t} for t in TEXT])
    nlp = spacy.blank("en")
    words = ["the", "cat", "sat", "on", "mat", "."]
    docs = [Doc(nlp.vocab, words=words, tags=["DT", "NN", "VBD", "IN", "NN", "."])] * 4
    DocBin(docs=docs).to_disk(tmp_path / "train.spacy")
    run = lambda *args: subprocess.run([sys.executable, "-m", *args], cwd=root, capture_output=True, text=True)
    result = run("spacy_senna", "build-vocab", str(tmp_path / "words.lst"), str(tmp_path / "raw.jsonl"))
    assert result.returncode == 0, result.stderr
    common = ["--paths.words", str(tmp_path / "words.lst"), "--paths.raw_text", str(tmp_path / "raw.jsonl")]
    result = run(
        "spacy", "pretrain", "configs/pos_pretrain.cfg", str(tmp_path / "pretrain"), *common,
        "--pretraining.max_epochs", "2", "--pretraining.batcher.size", "50",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    weights = tmp_path / "pretrain" / "model-last.bin"
    assert weights.exists()
    result = run(
        "spacy", "train", "configs/pos_pretrain.cfg", "--output", str(tmp_path / "model"), *common,
        "--paths.train", str(tmp_path / "train.spacy"), "--paths.dev", str(tmp_path / "train.spacy"),
        "--paths.init_tok2vec", str(weights), "--training.max_steps", "2", "--training.eval_frequency", "1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    trained = spacy.load(tmp_path / "model" / "model-last")
    embed = [n for n in trained.get_pipe("senna_tagger").model.walk() if n.name == "senna_embed"][0]
    assert embed.attrs["tables"].words[:3] == ["PADDING", "UNKNOWN", "the"]
