"""Shared lookup tables: a tok2vec component on SennaEmbed with every SENNA component listening."""
import spacy
from spacy.tokens import Doc, DocBin, Span, SpanGroup
from spacy.training import Example

from spacy_senna.layers.embed import embed_layers, pipeline_embed_layers
from spacy_senna.multitask import MixtureCorpus, task_reference

from .test_components import TRAIN_DATA, annotations

LISTENER = {"@architectures": "spacy.Tok2VecListener.v1", "width": 60, "upstream": "tok2vec"}
EMBED = {"@architectures": "spacy_senna.SennaEmbed.v1"}
SRL_DATA = [
    (["The", "cat", "ate", "the", "fish", "."], {2: [(0, 2, "A0"), (2, 3, "V"), (3, 5, "A1")]}),
    (["John", "said", "Mary", "left", "."], {1: [(0, 1, "A0"), (1, 2, "V"), (2, 4, "A1")], 3: [(2, 3, "A0"), (3, 4, "V")]}),
]


def make_pipeline():
    nlp = spacy.blank("en")
    nlp.add_pipe("tok2vec", config={"model": EMBED})
    for name in ("senna_tagger", "senna_chunker", "senna_ner"):
        nlp.add_pipe(name, config={"model": {"tok2vec": LISTENER}})
    nlp.add_pipe(
        "senna_srl",
        config={
            "model": {"tok2vec": LISTENER, "predicate_detector": {"tok2vec": LISTENER}},
            "predicates": "given",
        },
    )
    return nlp


def gold_docs(nlp):
    """Full gold docs: one per sentence for the window tasks and the SRL sentences."""
    docs = []
    for words, tags, chunks, ents in TRAIN_DATA:
        doc = Doc(nlp.vocab, words=words, tags=tags)
        doc.spans["chunks"] = [Span(doc, s, e, label) for s, e, label in chunks]
        doc.ents = [Span(doc, s, e, label) for s, e, label in ents]
        docs.append(doc)
    srl_docs = []
    for words, frames in SRL_DATA:
        doc = Doc(nlp.vocab, words=words)
        for p, args in frames.items():
            spans = [Span(doc, s, e, label) for s, e, label in args]
            doc.spans[f"srl:{p}"] = SpanGroup(doc, name=f"srl:{p}", attrs={"predicate": p}, spans=spans)
        doc.user_data["srl_annotated"] = True
        srl_docs.append(doc)
    return docs, srl_docs


def task_examples(nlp):
    docs, srl_docs = gold_docs(nlp)
    examples = []
    for task in ("tagger", "chunker", "ner"):
        for doc in docs:
            reference = task_reference(doc, task)
            examples.append(Example(Doc(nlp.vocab, words=[t.text for t in doc]), reference))
    for doc in srl_docs:
        examples.append(Example(Doc(nlp.vocab, words=[t.text for t in doc]), task_reference(doc, "srl")))
    return examples


def test_task_reference_keeps_one_task():
    nlp = spacy.blank("en")
    docs, _ = gold_docs(nlp)
    ner_only = task_reference(docs[0], "ner")
    assert [t.tag_ for t in ner_only] == [""] * len(ner_only)
    assert "chunks" not in ner_only.spans and len(ner_only.ents) == 2
    tags_only = task_reference(docs[0], "tagger")
    assert not tags_only.has_annotation("ENT_IOB") and tags_only[0].tag_ == "NNP"


def test_multitask_listeners_train_serialise_and_source(tmp_path):
    nlp = make_pipeline()
    examples = task_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(80):
        nlp.update(examples, sgd=optimizer)
    gold, srl_docs = gold_docs(nlp)
    for doc in gold:
        predicted = nlp(Doc(nlp.vocab, words=[t.text for t in doc]))
        assert annotations(predicted) == annotations(doc)
    srl_input = Doc(nlp.vocab, words=[t.text for t in srl_docs[1]])
    srl_input.spans["srl:1"] = []
    srl_input.spans["srl:3"] = []
    frames = nlp(srl_input)._.srl
    assert [(f["predicate"].i, [(a.start, a.end, a.label_) for a in f["arguments"]]) for f in frames] == [
        (1, [(0, 1, "A0"), (2, 4, "A1")]),
        (3, [(2, 3, "A0")]),
    ]
    # The tables exist once, in the tok2vec component
    embeds = [layer for _, pipe in nlp.pipeline for layer in embed_layers(pipe.model)]
    assert len(embeds) == 1 and embeds == pipeline_embed_layers(nlp)
    texts = ["Angela Merkel visited New York City .", "She works for Google in Zurich ."]
    expected = [annotations(doc) for doc in nlp.pipe(texts)]
    nlp.to_disk(tmp_path / "multi")
    loaded = spacy.load(tmp_path / "multi")
    assert [annotations(doc) for doc in loaded.pipe(texts)] == expected
    # a listening component sourced into another pipeline, together with its tok2vec
    other = spacy.blank("en")
    other.add_pipe("tok2vec", source=loaded)
    other.add_pipe("senna_ner", source=loaded)
    assert [annotations(doc)[2] for doc in other.pipe(texts)] == [e[2] for e in expected]


def test_mixture_corpus_interleaves_tasks(tmp_path):
    nlp = spacy.blank("en")
    docs, srl_docs = gold_docs(nlp)
    DocBin(docs=docs, store_user_data=True).to_disk(tmp_path / "window.spacy")
    DocBin(docs=srl_docs, store_user_data=True).to_disk(tmp_path / "srl.spacy")
    corpus = MixtureCorpus(
        {"tagger": tmp_path / "window.spacy", "ner": tmp_path / "window.spacy", "srl": tmp_path / "srl.spacy"},
        weights={"tagger": 4, "ner": 2, "srl": 2},
    )
    examples = list(corpus(nlp))
    assert len(examples) == 3 + 3 + 2  # an epoch is as long as the corpora together
    n_tagged = sum(1 for eg in examples if eg.reference.has_annotation("TAG"))
    n_ner = sum(1 for eg in examples if eg.reference.has_annotation("ENT_IOB"))
    n_srl = sum(1 for eg in examples if eg.reference.user_data.get("srl_annotated"))
    assert (n_tagged, n_ner, n_srl) == (4, 2, 2)
    assert all(not eg.predicted.has_annotation("TAG") for eg in examples)
