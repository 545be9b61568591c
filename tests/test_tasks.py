"""The table of tasks (spacy_senna/tasks.py): one entry per component, and each entry's
annotation reads, writes and copies only its own annotation."""
import numpy
import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example

from spacy_senna.architectures import build_senna_embed, build_window_tagger
from spacy_senna.cli._util import PipelineError, load_pipeline
from spacy_senna.dropin.args import parse_args
from spacy_senna.layers.attr_embed import embedded_features, feature_ref
from spacy_senna.layers.embed import TABLES_REF, embed_layers
from spacy_senna.constituency import set_constituents
from spacy_senna.readers import CORPUS_FORMATS, SPECS
from spacy_senna.srl_format import Proposition, set_propositions
from spacy_senna.tasks import BY_FORMAT, CHUNK, NER, NO_TAG, POS, SRL, TASKS, GroupPhrases, TokenTags
from spacy_senna.tasks import task_of

from .test_components import TRAIN_DATA, make_examples

PROPOSITIONS = [Proposition(2, "buy", ((0, 1, "A0"), (2, 3, "V"), (3, 6, "A1")))]


def senna_factories():
    return sorted(name for name in Language.factories if name.startswith("senna_") and not name.startswith("senna_test"))


def full_doc(vocab):
    """The first training sentence with every task's annotation."""
    words, tags, chunks, ents = TRAIN_DATA[0]
    doc = Doc(vocab, words=words, tags=tags)
    doc.spans["chunks"] = [Span(doc, s, e, label) for s, e, label in chunks]
    doc.ents = [Span(doc, s, e, label) for s, e, label in ents]
    set_propositions(doc, PROPOSITIONS)
    doc.user_data["srl_annotated"] = True
    set_constituents(doc, [(0, 11, "S"), (0, 1, "NP"), (1, 10, "VP"), (3, 6, "NP"), (6, 10, "PP"), (7, 10, "NP"), (7, 10, "QP")])
    return doc


def test_every_factory_has_one_entry():
    assert senna_factories() == sorted(task.factory for task in TASKS)
    for task in TASKS:
        assert task_of(task.factory) is task
        meta = Language.get_factory_meta(task.factory)
        assert meta.default_config["scorer"] == {"@scorers": task.scorer}
        assert task.main_score in meta.default_score_weights
        assert all(key.startswith(task.score_prefixes) for key in meta.default_score_weights)


def test_names_are_unique_and_formats_match_the_readers():
    for attribute in ("name", "flag", "factory", "corpus_format", "record_key", "component"):
        values = [getattr(task, attribute) for task in TASKS]
        assert len(set(values)) == len(values), attribute
    assert tuple(BY_FORMAT) == CORPUS_FORMATS
    assert SPECS[CHUNK.corpus_format].schemes[SPECS[CHUNK.corpus_format].chunk_column] == CHUNK.corpus_scheme
    assert SPECS[NER.corpus_format].schemes[SPECS[NER.corpus_format].ner_column] == NER.corpus_scheme
    assert parse_args([f"-{task.flag}" for task in reversed(TASKS)]).tasks == [task.flag for task in reversed(TASKS)]


def test_stock_components_do_pos_and_ner():
    nlp = spacy.blank("en")
    expected = {"tagger": POS, "entity_ruler": NER, "spancat": None}
    for factory in expected:
        nlp.add_pipe(factory)
    assert {name: task_of(name, nlp.get_pipe_meta(name).assigns) for name in expected} == expected


@pytest.mark.parametrize("task", TASKS, ids=[task.name for task in TASKS])
def test_copy_takes_only_that_annotation(task):
    vocab = spacy.blank("en").vocab
    source = full_doc(vocab)
    target = Doc(vocab, words=[t.text for t in source])
    task.annotation.copy(source, target)
    assert task.annotation.record(target) == task.annotation.record(source)
    assert task.annotation.record(target)  # not trivially empty
    assert task.annotation.has(target)
    for other in TASKS:
        if other is not task:
            assert not other.annotation.has(target), other.name
    assert sorted(task.annotation.labels(target)) == sorted(task.annotation.labels(source))


@pytest.mark.parametrize("task", [POS, CHUNK, NER], ids=["pos", "chunk", "ner"])
def test_decoded_tags_round_trip(task):
    """Gold tags as ids, written by set_decoded, read back as the same annotation."""
    vocab = spacy.blank("en").vocab
    source = full_doc(vocab)
    example = Example(Doc(vocab, words=[t.text for t in source]), source)
    labels = sorted(set(task.annotation.labels(source)))
    ids = {tag: i for i, tag in enumerate(task.annotation.tag_names(labels))}
    gold = task.annotation.gold_tags(example)
    assert None not in gold
    target = Doc(vocab, words=[t.text for t in source])
    task.annotation.set_decoded([target], [numpy.array([ids[tag] for tag in gold], dtype="int32")], labels)
    assert task.annotation.record(target) == task.annotation.record(source)
    assert task.annotation.gold_tags(Example(example.predicted, target)) == gold


def test_whitespace_tokens_get_no_tag_and_no_phrase():
    vocab = spacy.blank("en").vocab
    doc = Doc(vocab, words=["New", "\n", "York"], spaces=[False, False, False])
    TokenTags().set_decoded([doc], [numpy.array([0, NO_TAG, 0], dtype="int32")], ["NNP"])
    assert [t.tag_ for t in doc] == ["NNP", "_SP", "NNP"] and doc[1].pos_ == "SPACE"
    chunks = GroupPhrases("chunks")
    # B-NP, (whitespace), E-NP: one phrase over the whitespace token
    chunks.set_decoded([doc], [numpy.array([1, NO_TAG, 3], dtype="int32")], ["NP"])
    assert chunks.read(doc) == [(0, 3, "NP")]


def test_srl_frames_write_keeps_given_attrs():
    vocab = spacy.blank("en").vocab
    source = full_doc(vocab)
    target = Doc(vocab, words=[t.text for t in source])
    spans = [Span(target, s.start, s.end, s.label_) for s in source.spans["srl:2"]]
    SRL.annotation.write_frame(target, 2, spans)
    assert SRL.annotation.record(target)[0]["arguments"] == SRL.annotation.record(source)[0]["arguments"]
    assert SRL.annotation.predicates(target) == [2]
    assert SRL.annotation.gold_tags_for(Example(target, source), 2) == ["S-A0", "O", "S-V", "B-A1", "I-A1", "E-A1"] + ["O"] * 5


def test_components_write_through_their_entry():
    nlp = spacy.blank("en")
    chunker = nlp.add_pipe("senna_chunker", config={"spans_key": "phrases"})
    tagger = nlp.add_pipe("senna_tagger", name="brown", config={"extension": "brown_tag"})
    assert chunker.task is CHUNK and chunker.annotation == GroupPhrases("phrases")
    assert tagger.annotation == TokenTags("brown_tag") and not tagger.annotation.primary
    assert CHUNK.annotation_of(chunker).where == "doc.spans['phrases']"


def test_nan_loss_is_spacys_error():
    nlp = spacy.blank("en")
    tagger = nlp.add_pipe("senna_tagger")
    examples = make_examples(nlp)
    nlp.initialize(lambda: examples)
    scores = tagger.model.predict([eg.predicted for eg in examples])
    scores[0][0, 0] = numpy.nan
    with pytest.raises(ValueError, match="NaN value when computing loss for component 'senna_tagger'"):
        tagger.get_loss(examples, scores)


@pytest.mark.parametrize("features", [[], ["tag"], ["chunk", "tag"]])
def test_layers_are_found_by_ref(features):
    embed = build_senna_embed(token_features=features, char_width=3 if features else 0)
    tagger = build_window_tagger(embed)
    (tables,) = embed_layers(tagger)
    assert embed.get_ref(TABLES_REF) is tables and "W_word" in tables.param_names
    assert embedded_features(tagger) == sorted(features, key=["tag", "chunk"].index)
    for attr in features:
        assert embed.get_ref(feature_ref(attr)).attrs["attr"] == attr


def test_load_pipeline_returns_errors(tmp_path):
    """A helper reports the problem as an exception for its command to print, not an exit."""
    with pytest.raises(PipelineError, match=f"cannot load model {tmp_path / 'nothing'}"):
        load_pipeline(str(tmp_path / "nothing"))
