"""Measure document-level label consistency for NER on a CoNLL-2003 file (an experiment).

python scripts/ner_doc_consistency.py training/ner/model-best assets/conll2003/eng.testa

The NER tags every sentence alone, as SENNA does. CoNLL-2003's sentences come in documents
(-DOCSTART- lines), and a name mentioned twice in one article is nearly always the same kind
of entity. This prints the entity F1 of the model's own output and of each way of making its
output agree across a document:
- "majority": every predicted mention of the same words takes the document's majority label;
- "propagate": + an untagged, capitalised occurrence of a predicted name becomes that entity;
- "surnames": + an untagged, capitalised single token equal to the last word of a multi-word
  PER entity of the document becomes PER;
- "propagate-only", "surnames-only": the same two without the majority relabelling.
eng.testa, `configs/ner.cfg` retrained 2026-12-03 (F1 92.76): majority 92.31, propagate 92.38,
surnames 92.46, propagate-only 92.83, surnames-only 92.91. Not part of the component.
"""
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import spacy
import typer
from spacy.scorer import get_ner_prf
from spacy.tokens import Doc, Span
from spacy.training import Example

from spacy_senna.readers import DOC_ID_KEY, read_docs

Mention = Tuple[str, ...]


def mention_key(span: Span) -> Mention:
    """The words of a span, as a document-level key."""
    return tuple(token.text for token in span)


def majority_labels(docs: Sequence[Doc]) -> Dict[Mention, str]:
    """Each mention's most frequent label in a document (ties: the first seen)."""
    counts: Dict[Mention, Counter] = defaultdict(Counter)
    for doc in docs:
        for ent in doc.ents:
            counts[mention_key(ent)][ent.label_] += 1
    return {key: count.most_common(1)[0][0] for key, count in counts.items()}


def relabel(doc: Doc, labels: Dict[Mention, str]) -> None:
    """Give every entity of `doc` its document-level majority label."""
    doc.ents = [Span(doc, e.start, e.end, label=labels.get(mention_key(e), e.label_)) for e in doc.ents]


def is_name_token(text: str) -> bool:
    """A token that can start a name: capitalised or all caps."""
    return text[:1].isupper()


def propagate(doc: Doc, labels: Dict[Mention, str]) -> None:
    """Tag untagged occurrences of the document's predicted names (longest first)."""
    taken = [False] * len(doc)
    for ent in doc.ents:
        taken[ent.start : ent.end] = [True] * len(ent)
    spans = list(doc.ents)
    for key in sorted(labels, key=len, reverse=True):
        if not is_name_token(key[0]):
            continue
        n = len(key)
        for start in range(len(doc) - n + 1):
            if not any(taken[start : start + n]) and mention_key(doc[start : start + n]) == key:
                spans.append(Span(doc, start, start + n, label=labels[key]))
                taken[start : start + n] = [True] * n
    doc.ents = sorted(spans, key=lambda s: s.start)


def surname_labels(docs: Sequence[Doc]) -> Dict[Mention, str]:
    """The last word of each multi-word PER entity of a document, as a one-word PER mention."""
    return {
        (ent[-1].text,): "PER"
        for doc in docs
        for ent in doc.ents
        if ent.label_ == "PER" and len(ent) > 1 and is_name_token(ent[-1].text)
    }


def f1(examples: List[Example]) -> str:
    scores = get_ner_prf(examples)
    return f"P {100 * scores['ents_p']:.2f} R {100 * scores['ents_r']:.2f} F1 {100 * scores['ents_f']:.2f}"


def copy_predicted(examples: List[Example]) -> List[Example]:
    """Examples whose predicted docs are fresh copies (so each variant starts from the model)."""
    return [Example(eg.predicted.copy(), eg.reference) for eg in examples]


def main(model: Path, conll_file: Path) -> None:
    nlp = spacy.load(model)
    gold = list(read_docs(conll_file, "conll2003", nlp.vocab))
    predicted = list(nlp.pipe(Doc(nlp.vocab, words=[t.text for t in doc]) for doc in gold))
    base = [Example(p, g) for p, g in zip(predicted, gold)]
    by_doc: Dict[int, List[int]] = defaultdict(list)
    for i, doc in enumerate(gold):
        by_doc[doc.user_data.get(DOC_ID_KEY, 0)].append(i)
    print(f"{len(gold):,} sentences in {len(by_doc):,} documents")
    print(f"model          {f1(base)}")
    for variant in ("majority", "propagate", "surnames", "propagate-only", "surnames-only"):
        examples = copy_predicted(base)
        for indices in by_doc.values():
            docs = [examples[i].predicted for i in indices]
            labels = majority_labels(docs)
            if not variant.endswith("-only"):
                for doc in docs:
                    relabel(doc, labels)
            if variant != "majority":
                # a predicted name keeps its own label over a surname's PER
                wanted = {**surname_labels(docs), **labels} if variant.startswith("surnames") else labels
                for doc in docs:
                    propagate(doc, wanted)
        print(f"{variant:<14} {f1(examples)}")


if __name__ == "__main__":
    typer.run(main)
