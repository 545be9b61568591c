"""Ensembles of taggers (spacy_senna/ensemble.py; `evaluate --ensemble`, `label-silver --ensemble`)."""
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.tokens import Doc, DocBin
from typer.testing import CliRunner

from spacy_senna.cli import app
from spacy_senna.decoding import best_paths
from spacy_senna.ensemble import join_ensemble, mean_scores
from spacy_senna.layers import distinct_window

from .test_components import FACTORIES, TRAIN_DATA, annotations, make_examples, train

runner = CliRunner()
WORDS = [["Angela", "Merkel", "works", "for", "Apple", "in", "Zurich", "."], ["Google", "is", "buying", "a", "startup", "."]]


def trained_pipeline(seed: int, factories=FACTORIES, n_iter: int = 30):
    spacy.util.fix_random_seed(seed)
    nlp = spacy.blank("en")
    for name in factories:
        nlp.add_pipe(name)
    return train(nlp, make_examples(nlp), n_iter=n_iter)


@pytest.fixture(scope="module")
def two_pipelines():
    """Two pipelines trained from different seeds, briefly, so that their scores differ."""
    return trained_pipeline(0), trained_pipeline(1)


def docs_of(nlp):
    return [Doc(nlp.vocab, words=words) for words in WORDS]


@pytest.mark.parametrize("name", FACTORIES)
def test_ensemble_decodes_the_mean_of_the_members_scores(two_pipelines, name):
    first, second = two_pipelines
    pipe, other = first.get_pipe(name), second.get_pipe(name)
    docs = docs_of(first)
    alone = [distinct_window.predict(model, docs) for model in (pipe.model, other.model)]
    assert not numpy.allclose(alone[0][0], alone[1][0])
    mean = mean_scores([pipe.model, other.model], docs)
    for k in range(len(docs)):
        numpy.testing.assert_allclose(mean[k], (alone[0][k] + alone[1][k]) / 2, rtol=1e-5, atol=1e-6)
    slls = [model.get_ref("sll") for model in (pipe.model, other.model)]
    transitions = (slls[0].get_param("transitions") + slls[1].get_param("transitions")) / 2
    start = (slls[0].get_param("start") + slls[1].get_param("start")) / 2
    expected = best_paths(mean, transitions, start, slls[0].attrs["iobes_labels"])
    pipe.ensemble = [other.model]
    try:
        found = pipe.predict(docs)
    finally:
        pipe.ensemble = []
    assert [list(ids) for ids in found] == [list(ids) for ids in expected]


def test_an_ensemble_with_a_copy_of_itself_predicts_as_the_pipeline(two_pipelines, tmp_path):
    nlp = two_pipelines[0]
    expected = [annotations(doc) for doc in nlp.pipe(docs_of(nlp))]
    nlp.to_disk(tmp_path / "copy")
    ensemble = spacy.load(tmp_path / "copy")
    assert join_ensemble(ensemble, [("copy", spacy.load(tmp_path / "copy"))]) == FACTORIES
    assert all(ensemble.get_pipe(name).ensemble for name in FACTORIES)
    assert [annotations(doc) for doc in ensemble.pipe(docs_of(ensemble))] == expected


def test_only_the_shared_components_are_joined(two_pipelines):
    tagger_only = trained_pipeline(2, ["senna_tagger"], n_iter=2)
    assert join_ensemble(two_pipelines[0], [("tagger_only", tagger_only)]) == ["senna_tagger"]
    two_pipelines[0].get_pipe("senna_tagger").ensemble = []


def test_an_ensemble_member_must_match(two_pipelines):
    nlp = two_pipelines[0]
    with pytest.raises(ValueError, match="no tagger, chunker or NER component"):
        join_ensemble(nlp, [("parserless", spacy.blank("en"))])
    other_labels = spacy.blank("en")
    ner = other_labels.add_pipe("senna_ner")
    ner.add_label("MISC")
    other_labels.initialize()
    with pytest.raises(ValueError, match="other_labels: its 'senna_ner' has other labels"):
        join_ensemble(nlp, [("other_labels", other_labels)])
    softmax = spacy.blank("en")
    softmax.add_pipe("senna_ner", config={"model": {"sentence_level": False}})
    train(softmax, make_examples(softmax), n_iter=1)
    with pytest.raises(ValueError, match="do not both decode with the sentence-level likelihood"):
        join_ensemble(nlp, [("softmax", softmax)])


def test_an_ensemble_member_that_listens_to_a_shared_tok2vec_is_refused(two_pipelines):
    shared = spacy.blank("en")
    shared.add_pipe("tok2vec", config={"model": {"@architectures": "spacy_senna.SennaEmbed.v1"}})
    listener = {"@architectures": "spacy.Tok2VecListener.v1", "width": 60, "upstream": "tok2vec"}
    shared.add_pipe("senna_tagger", config={"model": {"tok2vec": listener}})
    train(shared, make_examples(shared), n_iter=1)
    with pytest.raises(ValueError, match="listens to a shared tok2vec; save it alone first"):
        join_ensemble(two_pipelines[0], [("shared", shared)])


@pytest.fixture(scope="module")
def two_model_dirs(two_pipelines, tmp_path_factory):
    root = tmp_path_factory.mktemp("ensemble")
    for i, nlp in enumerate(two_pipelines):
        nlp.to_disk(root / f"m{i}")
    gold = DocBin()
    for words, tags, _, _ in TRAIN_DATA:
        gold.add(Doc(two_pipelines[0].vocab, words=words, tags=tags))
    gold.to_disk(root / "gold.spacy")
    wsj = root / "dev.tsv"
    wsj.write_text("\n\n".join("\n".join(f"{w}\t{t}" for w, t in zip(words, tags)) for words, tags, _, _ in TRAIN_DATA) + "\n")
    return root


def test_label_silver_and_evaluate_take_an_ensemble(two_pipelines, two_model_dirs: Path):
    root = two_model_dirs
    silver = root / "silver.spacy"
    result = runner.invoke(app, ["label-silver", str(root / "m0"), str(root / "gold.spacy"), str(silver), "--ensemble", str(root / "m1")])
    assert result.exit_code == 0, result.output
    assert f"labelled by {root / 'm0'} + {root / 'm1'}" in result.output
    ensemble = spacy.load(root / "m0")
    join_ensemble(ensemble, [("m1", spacy.load(root / "m1"))])
    expected = [annotations(doc) for doc in ensemble.pipe(Doc(ensemble.vocab, words=w) for w, _, _, _ in TRAIN_DATA)]
    written = [annotations(doc) for doc in DocBin().from_disk(silver).get_docs(ensemble.vocab)]
    assert written == expected
    result = runner.invoke(app, ["evaluate", str(root / "m0"), str(root / "dev.tsv"), "--format", "wsj", "-e", str(root / "m1")])
    assert result.exit_code == 0, result.output
    assert "Ensemble of 2 pipelines for senna_tagger, senna_chunker, senna_ner" in result.output


def test_a_bad_ensemble_member_is_one_line(two_model_dirs: Path):
    root = two_model_dirs
    result = runner.invoke(app, ["evaluate", str(root / "m0"), str(root / "dev.tsv"), "--format", "wsj", "-e", str(root / "missing")])
    assert result.exit_code == 1
    assert "cannot load model" in result.output and "missing" in result.output
    assert "Traceback" not in result.output
