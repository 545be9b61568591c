"""The senna_srl component."""
import pickle

import numpy
import pytest
import spacy
from spacy import displacy
from spacy.tokens import Doc, DocBin, Span, SpanGroup
from spacy.training import Example

SRL_DATA = [
    (["The", "cat", "ate", "the", "fish", "yesterday", "."], {2: [(0, 2, "A0"), (2, 3, "V"), (3, 5, "A1"), (5, 6, "AM-TMP")]}),
    (["John", "said", "Mary", "left", "."], {1: [(0, 1, "A0"), (1, 2, "V"), (2, 4, "A1")], 3: [(2, 3, "A0"), (3, 4, "V")]}),
    (["Nothing", "happens", "here"], {}),
]


def make_examples(nlp, data=SRL_DATA):
    examples = []
    for words, frames in data:
        reference = Doc(nlp.vocab, words=words)
        for p, args in frames.items():
            spans = [Span(reference, s, e, label) for s, e, label in args]
            reference.spans[f"srl:{p}"] = SpanGroup(reference, name=f"srl:{p}", attrs={"predicate": p}, spans=spans)
        reference.user_data["srl_annotated"] = True
        examples.append(Example(Doc(nlp.vocab, words=words), reference))
    return examples


def frames(doc):
    return [(f["predicate"].i, [(a.start, a.end, a.label_) for a in f["arguments"]]) for f in doc._.srl]


@pytest.fixture(scope="module")
def trained():
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_srl")
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(120):
        nlp.update(examples, sgd=optimizer)
    return nlp


def test_hidden_dropout_overfits_and_round_trips(tmp_path):
    """hidden_dropout: a dropout layer after the HardTanh, active in training only."""
    nlp = spacy.blank("en")
    srl = nlp.add_pipe("senna_srl", config={"model": {"hidden_width": 64, "hidden_dropout": True}})
    assert [node.name for node in srl.model.walk()].count("dropout") == 1
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(150):
        nlp.update(examples, sgd=optimizer, drop=0.1)
    for words, gold in SRL_DATA:
        assert frames(nlp(Doc(nlp.vocab, words=words))) == expected_frames(gold)
    nlp.to_disk(tmp_path / "srl")
    loaded = spacy.load(tmp_path / "srl")
    assert [frames(loaded(Doc(loaded.vocab, words=w))) for w, _ in SRL_DATA] == [expected_frames(g) for _, g in SRL_DATA]


def expected_frames(frames_by_predicate):
    return [(p, [a for a in args if a[2] != "V"]) for p, args in sorted(frames_by_predicate.items())]


def test_overfitting_with_predicted_predicates(trained):
    for words, gold in SRL_DATA:
        doc = trained(Doc(trained.vocab, words=words))
        assert frames(doc) == expected_frames(gold)
    scores = trained.evaluate(make_examples(trained))
    assert scores["spans_srl_f"] == 1.0 and scores["srl_pred_f"] == 1.0


@pytest.mark.parametrize("mode", ["given", "pos"])
def test_predicate_modes(trained, mode):
    trained.get_pipe("senna_srl").predicates = mode
    try:
        doc = Doc(trained.vocab, words=["John", "said", "Mary", "left", "."], tags=["NNP", "VBD", "NNP", "VBD", "."])
        if mode == "given":
            doc[3]._.srl_predicate = True  # only "left"
        doc = trained(doc)
        expected = [(3, [(2, 3, "A0")])] if mode == "given" else expected_frames(SRL_DATA[1][1])
        assert frames(doc) == expected
    finally:
        trained.get_pipe("senna_srl").predicates = "model"


def test_no_predicate_and_empty_doc(trained):
    trained.get_pipe("senna_srl").predicates = "given"
    try:
        assert trained(Doc(trained.vocab, words=["Nothing", "here"]))._.srl == []
        assert trained(Doc(trained.vocab, words=[]))._.srl == []
    finally:
        trained.get_pipe("senna_srl").predicates = "model"


def _with_predicates(nlp, words, predicates):
    doc = Doc(nlp.vocab, words=words)
    for i in predicates:
        doc.spans[f"srl:{i}"] = []
    nlp.get_pipe("senna_srl").predicates = "given"
    try:
        return nlp(doc)
    finally:
        nlp.get_pipe("senna_srl").predicates = "model"


def test_long_sentence_many_predicates(trained):
    words = (["John", "said", "Mary", "left", "."] * 60)[:300]
    predicates = [i for i, w in enumerate(words) if w in ("said", "left")][:30]
    doc = _with_predicates(trained, words, predicates)
    assert [f["predicate"].i for f in doc._.srl] == predicates
    assert all(doc.spans[f"srl:{i}"].attrs["predicate"] == i for i in predicates)
    # each frame is the same as when its predicate is labelled alone
    for i in predicates[::10]:
        alone = _with_predicates(trained, words, [i])
        assert [(s.start, s.end, s.label_) for s in alone.spans[f"srl:{i}"]] == [
            (s.start, s.end, s.label_) for s in doc.spans[f"srl:{i}"]
        ]


def test_predict_in_row_bounded_chunks(trained, monkeypatch):
    """Splitting a batch to bound memory gives the same frames as one forward pass."""
    from spacy_senna.pipeline import srl as srl_module

    texts = [words for words, _ in SRL_DATA] * 3
    whole = [frames(doc) for doc in trained.pipe([Doc(trained.vocab, words=w) for w in texts])]
    monkeypatch.setattr(srl_module, "PREDICT_MAX_ROWS", 6)
    docs, predicates = _docs_and_predicates(trained, texts)
    chunks = list(srl_module.row_bounded_chunks([len(doc) for doc in docs], [len(p) for p in predicates], 6))
    assert len(chunks) > 3 and chunks[0][0] == 0 and chunks[-1][1] == len(texts)
    assert all(end == next_start for (_, end), (next_start, _) in zip(chunks, chunks[1:]))
    split = [frames(doc) for doc in trained.pipe([Doc(trained.vocab, words=w) for w in texts])]
    assert split == whole and any(split)


def _docs_and_predicates(nlp, texts):
    docs = [Doc(nlp.vocab, words=words) for words in texts]
    return docs, nlp.get_pipe("senna_srl").find_predicates(docs)


def test_round_trips(trained, tmp_path):
    texts = [["The", "cat", "ate", "the", "fish", "yesterday", "."], ["John", "said", "Mary", "left", "."]]
    docs = [trained(Doc(trained.vocab, words=w)) for w in texts]
    expected = [frames(doc) for doc in docs]
    # the annotation survives DocBin and Doc.to_bytes, group attrs included
    restored = list(DocBin(docs=docs, store_user_data=True).from_bytes(
        DocBin(docs=docs, store_user_data=True).to_bytes()).get_docs(trained.vocab))
    assert [frames(doc) for doc in restored] == expected
    again = Doc(trained.vocab).from_bytes(docs[1].to_bytes())
    assert frames(again) == expected[1] and again.spans["srl:1"].attrs["predicate"] == 1
    # the pipeline survives disk, bytes and pickle
    trained.to_disk(tmp_path / "srl")
    for nlp in (spacy.load(tmp_path / "srl"), pickle.loads(pickle.dumps(trained))):
        assert [frames(nlp(Doc(nlp.vocab, words=w))) for w in texts] == expected


def test_displacy_renders_frames(trained):
    doc = trained(Doc(trained.vocab, words=["John", "said", "Mary", "left", "."]))
    html = displacy.render(doc, style="span", options={"spans_key": "srl:1"})
    assert "A0" in html and "A1" in html


def test_sentence_network_scores_shape(trained):
    srl = trained.get_pipe("senna_srl")
    docs = [Doc(trained.vocab, words=["John", "said", "Mary", "left", "."])]
    scores = srl.model.predict((docs, [numpy.array([1, 3], dtype="int32")]))
    assert [s.shape for s in scores] == [(5, len(srl.tag_names))] * 2


def test_bad_predicates_setting():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="predicates must be one of"):
        nlp.add_pipe("senna_srl", config={"predicates": "guess"})


def test_predicates_setting_is_not_saved_with_the_pipeline(trained, tmp_path):
    trained.get_pipe("senna_srl").predicates = "given"
    try:
        trained.to_disk(tmp_path / "srl")
    finally:
        trained.get_pipe("senna_srl").predicates = "model"
    assert spacy.load(tmp_path / "srl").get_pipe("senna_srl").predicates == "auto"
    pos = spacy.load(tmp_path / "srl", config={"components": {"senna_srl": {"predicates": "pos"}}})
    assert pos.get_pipe("senna_srl").predicates == "pos"


def test_auto_predicates_given_when_the_doc_has_them_else_detected(trained, tmp_path):
    """A pipeline trained with `predicates = "given"` labels raw text once loaded (issue 15, item 9)."""
    srl = trained.get_pipe("senna_srl")
    srl.predicates = "auto"
    try:
        words = ["John", "said", "Mary", "left", "."]
        assert frames(trained(Doc(trained.vocab, words=words))) == expected_frames(SRL_DATA[1][1])
        marked = Doc(trained.vocab, words=words)
        marked[3]._.srl_predicate = True
        assert [p for p, _ in frames(trained(marked))] == [3]
    finally:
        srl.predicates = "model"
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_srl", config={"predicates": "given"})
    nlp.initialize(lambda: make_examples(nlp))
    nlp.to_disk(tmp_path / "given")
    assert spacy.load(tmp_path / "given").get_pipe("senna_srl").predicates == "given"
    assert spacy.blank("en").add_pipe("senna_srl").predicates == "auto"


def test_auto_predicates_without_a_detector_use_the_pos_rule():
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_srl", config={"model": {"predicate_detector": None}})
    nlp.initialize(lambda: make_examples(nlp))
    doc = Doc(nlp.vocab, words=["John", "said", "Mary", "left", "."], tags=["NNP", "VBD", "NNP", "VBD", "."])
    assert [f["predicate"].i for f in nlp(doc)._.srl] == [1, 3]


def test_init_labels_agree_with_min_label_count():
    """`spacy init labels` output (label_data) in [initialize.components.senna_srl.labels]
    trains with min_label_count > 1: rare gold labels are left out, not an error (item 10)."""
    config = {"min_label_count": 2}
    nlp = spacy.blank("en")
    nlp.add_pipe("senna_srl", config=config)
    examples = make_examples(nlp)
    nlp.initialize(lambda: examples)
    label_data = nlp.get_pipe("senna_srl").label_data
    assert label_data == {"A0": 3, "A1": 2, "AM-TMP": 1, "V": 3}
    again = spacy.blank("en")
    again.add_pipe("senna_srl", config=config)
    again.config["initialize"]["components"]["senna_srl"] = {"labels": label_data}
    optimizer = again.initialize(lambda: make_examples(again))
    assert again.get_pipe("senna_srl").labels == nlp.get_pipe("senna_srl").labels == ("A0", "A1", "V")
    losses = again.update(make_examples(again), sgd=optimizer)
    assert losses["senna_srl"] > 0
    # a plain list of labels: the data's other labels count as rare too
    listed = spacy.blank("en")
    listed.add_pipe("senna_srl", config=config)
    listed.config["initialize"]["components"]["senna_srl"] = {"labels": ["A0", "V"]}
    optimizer = listed.initialize(lambda: make_examples(listed))
    assert listed.update(make_examples(listed), sgd=optimizer)["senna_srl"] > 0


def test_each_sentence_is_labelled_alone(trained, monkeypatch):
    """With `doc.sents` set, the sentence network sees one sentence at a time (item 12)."""
    from spacy_senna.pipeline import SennaSRL

    sentences = [words for words, _ in SRL_DATA[:2]]
    alone = [frames(trained(Doc(trained.vocab, words=words))) for words in sentences]
    seen = []
    decode = SennaSRL.decode
    monkeypatch.setattr(SennaSRL, "decode", lambda self, scores: seen.extend(len(s) for s in scores) or decode(self, scores))
    words = [w for sentence in sentences for w in sentence]
    starts = [i == 0 for sentence in sentences for i in range(len(sentence))]
    doc = trained(Doc(trained.vocab, words=words, sent_starts=starts))
    offset = len(sentences[0])
    shifted = [(p + offset, [(s + offset, e + offset, label) for s, e, label in args]) for p, args in alone[1]]
    assert frames(doc) == alone[0] + shifted
    assert seen == [7, 5, 5]  # one row of scores per predicate, over its sentence only


def test_long_doc_is_labelled_in_bounded_time_and_memory():
    """One 3,000-token line with 1,000 predicates: cut into max_sentence_length pieces (item 13)."""
    import time
    import tracemalloc

    nlp = spacy.blank("en")
    small = {"conv_width": 8, "hidden_width": 8, "tok2vec": {"word_width": 4}}
    nlp.add_pipe("senna_srl", config={"model": small, "predicates": "pos", "max_sentence_length": 100})
    nlp.initialize(lambda: make_examples(nlp))
    words = ["John", "said", "Mary", "left", ".", "then"] * 500
    tags = ["NNP", "VBD", "NNP", "VBD", ".", "RB"] * 500
    doc = Doc(nlp.vocab, words=words, tags=tags)
    tracemalloc.start()
    began = time.perf_counter()
    doc = nlp(doc)
    seconds = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(doc._.srl) == 1000
    assert all(a.end - a.start <= 100 and a.start // 100 == (a.end - 1) // 100 for f in doc._.srl for a in f["arguments"])
    assert seconds < 20 and peak < 200 * 2**20


def test_bad_max_sentence_length():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="max_sentence_length must be 0"):
        nlp.add_pipe("senna_srl", config={"max_sentence_length": -5})


def test_spacy_evaluate_shows_the_srl_scores(trained, tmp_path, capsys):
    """SRL argument scores are keyed spans_srl_*: `spacy evaluate --spans-key srl` prints them (item 15)."""
    from spacy.cli.evaluate import evaluate

    trained.to_disk(tmp_path / "model")
    references = [eg.reference for eg in make_examples(trained)]
    DocBin(docs=references, store_user_data=True).to_disk(tmp_path / "dev.spacy")
    scores = evaluate(tmp_path / "model", tmp_path / "dev.spacy", spans_key="srl", silent=False)
    assert scores["spans_srl_f"] == 1.0
    assert "SPAN F   100.00" in capsys.readouterr().out


def test_pos_predicates_without_tags_is_a_clear_error(trained):
    trained.get_pipe("senna_srl").predicates = "pos"
    try:
        with pytest.raises(ValueError, match="has no POS tags: put a senna_tagger before"):
            trained(Doc(trained.vocab, words=["John", "left"]))
    finally:
        trained.get_pipe("senna_srl").predicates = "model"


def test_a_whitespace_token_is_no_predicate(trained):
    """spaCy's newline tokens are not words: the detector neither sees nor picks them."""
    srl = trained.get_pipe("senna_srl")
    words = ["John", "said", "\n", "Mary", "left", "."]
    predicates = srl.find_predicates([Doc(trained.vocab, words=words)])[0].tolist()
    plain = srl.find_predicates([Doc(trained.vocab, words=[w for w in words if w.strip()])])[0].tolist()
    assert 2 not in predicates
    assert predicates == [i + (i >= 2) for i in plain]
    assert srl.find_predicates([Doc(trained.vocab, words=["\n"])])[0].tolist() == []
