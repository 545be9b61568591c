"""Registered scorers: tag accuracy, phrase-level P/R/F1 with conlleval's exact-match rule,
CoNLL-2005 SRL argument P/R/F1 with srl-eval.pl's rules, and labelled-bracket P/R/F1 of
constituency trees with EVALB's COLLINS.prm rules."""
from collections import Counter, defaultdict
from typing import Any, Callable, Dict, Iterable, Optional, Sequence

from spacy.scorer import PRFScore, Scorer, get_ner_prf
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry

from .constituency import CONSTITUENTS_KEY, doc_constituents
from .srl_format import SRL_ANNOTATED, merged_arguments, srl_key, srl_predicates
from .tasks import CHUNKS_KEY


def score_tags(examples: Iterable[Example], extension: Optional[str] = None, **kwargs) -> Dict[str, Any]:
    """Token accuracy of `token.tag_` ("tag_acc"), or of `token._.<extension>` ("<extension>_acc")."""
    if extension:
        return Scorer.score_token_attr(examples, extension, getter=_extension_value, **kwargs)
    return Scorer.score_token_attr(examples, "tag", **kwargs)


def _extension_value(token, name: str):
    return token._.get(name)


def score_chunks(examples: Iterable[Example], spans_key: str = CHUNKS_KEY, **kwargs) -> Dict[str, Any]:
    """A chunk counts when its label and both boundaries match: "spans_<key>_p", "_r", "_f",
    "_per_type", the keys `spacy evaluate --spans-key chunks` shows."""
    return Scorer.score_spans(
        examples,
        attr=f"spans_{spans_key}",
        getter=lambda doc, attr: doc.spans.get(spans_key, []),
        has_annotation=lambda doc: spans_key in doc.spans,
        labeled=True,
        allow_overlap=False,
        **kwargs,
    )


def score_entities(examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
    """An entity counts when its label and both boundaries match ("ents_p", "ents_r", "ents_f")."""
    return get_ner_prf(examples, **kwargs)


@registry.scorers("spacy_senna.tagger_scorer.v1")
def make_tagger_scorer() -> Callable:
    return score_tags


@registry.scorers("spacy_senna.chunk_scorer.v1")
def make_chunk_scorer() -> Callable:
    return score_chunks


@registry.scorers("spacy_senna.ner_scorer.v1")
def make_ner_scorer() -> Callable:
    return score_entities


def _srl_groups(doc: Doc) -> Dict[int, Any]:
    """The `srl:<i>` span groups of a doc by the character offset of their predicate token."""
    groups = {}
    for index in srl_predicates(doc):
        if index < len(doc):
            groups[doc[index].idx] = doc.spans[srl_key(index)]
    return groups


def _srl_arguments(group: Iterable) -> Counter:
    """The arguments of a predicate as srl-eval.pl counts them, by character offsets."""
    spans = [(span.start_char, span.end_char, span.label_) for span in group]
    return Counter(merged_arguments(spans))


def score_srl(examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
    """CoNLL-2005 argument P/R/F1 ("spans_srl_p", "spans_srl_r", "spans_srl_f", "spans_srl_per_type":
    `spacy evaluate --spans-key srl` shows them) and predicate
    identification P/R/F1 ("srl_pred_p", "srl_pred_r", "srl_pred_f").

    Only examples whose reference has `user_data["srl_annotated"]` count. Arguments are scored
    for the reference's predicates (its `srl:<i>` groups) with srl-eval.pl's rules: V and C-V
    are left out, a C-X span joins the closest preceding X argument of the same predicate,
    and an argument is correct only when its label and all of its spans match a gold one. A
    predicate the prediction has no group for has no predicted arguments. Spans are compared
    by character offsets, so the predicted tokenisation may differ.
    """
    arguments = PRFScore()
    predicates = PRFScore()
    per_type: Dict[str, PRFScore] = defaultdict(PRFScore)
    n_annotated = 0
    for example in examples:
        if not example.reference.user_data.get(SRL_ANNOTATED):
            continue
        n_annotated += 1
        gold_groups = _srl_groups(example.reference)
        pred_groups = _srl_groups(example.predicted)
        gold_keys, pred_keys = set(gold_groups), set(pred_groups)
        predicates.tp += len(gold_keys & pred_keys)
        predicates.fp += len(pred_keys - gold_keys)
        predicates.fn += len(gold_keys - pred_keys)
        for offset, gold_group in gold_groups.items():
            gold = _srl_arguments(gold_group)
            pred = _srl_arguments(pred_groups.get(offset, ()))
            for (label, _), count in (gold & pred).items():
                arguments.tp += count
                per_type[label].tp += count
            for (label, _), count in (pred - gold).items():
                arguments.fp += count
                per_type[label].fp += count
            for (label, _), count in (gold - pred).items():
                arguments.fn += count
                per_type[label].fn += count
    if n_annotated == 0:
        keys = ("spans_srl_p", "spans_srl_r", "spans_srl_f", "spans_srl_per_type")
        keys += ("srl_pred_p", "srl_pred_r", "srl_pred_f")
        return dict.fromkeys(keys)
    return {
        "spans_srl_p": arguments.precision,
        "spans_srl_r": arguments.recall,
        "spans_srl_f": arguments.fscore,
        "spans_srl_per_type": {label: prf.to_dict() for label, prf in sorted(per_type.items())},
        "srl_pred_p": predicates.precision,
        "srl_pred_r": predicates.recall,
        "srl_pred_f": predicates.fscore,
    }


@registry.scorers("spacy_senna.srl_scorer.v1")
def make_srl_scorer() -> Callable:
    return score_srl


# EVALB's COLLINS.prm: these POS labels are deleted before scoring (punctuation; TOP and
# -NONE- never reach a Doc), and ADVP and PRT count as one label.
EVALB_DELETED_TAGS = frozenset({",", ":", "``", "''", "."})
EVALB_EQUAL_LABELS = {"PRT": "ADVP"}


def evalb_brackets(constituents: Iterable, tags: Sequence[str]) -> Counter:
    """The labelled brackets EVALB scores: (label, start, end) over the words left after
    deleting punctuation (by the gold POS `tags`), ADVP = PRT; a bracket over punctuation
    only is dropped. A Counter, as a unary chain X -> X counts twice."""
    kept_before = [0]
    for tag in tags:
        kept_before.append(kept_before[-1] + (tag not in EVALB_DELETED_TAGS))
    brackets: Counter = Counter()
    for start, end, label in constituents:
        first, last = kept_before[start], kept_before[end]
        if last > first:
            brackets[(EVALB_EQUAL_LABELS.get(label, label), first, last)] += 1
    return brackets


def score_constituents(examples: Iterable[Example], spans_key: str = CONSTITUENTS_KEY, **kwargs) -> Dict[str, Any]:
    """EVALB labelled bracketing ("constituents_p", "_r", "_f", "_per_type") with COLLINS.prm's
    rules: punctuation (by the reference's POS tags) not counted, ADVP = PRT; the root
    wrapper (TOP / S1) is never a constituent, the sentence's own S is. Only references with a
    tree count; predicted constituents are mapped onto the reference tokens when the
    tokenisations differ."""
    total = PRFScore()
    per_type: Dict[str, PRFScore] = defaultdict(PRFScore)
    n_scored = 0
    for example in examples:
        reference = example.reference
        if spans_key not in reference.spans:
            continue
        n_scored += 1
        tags = [token.tag_ for token in reference]
        gold = evalb_brackets(doc_constituents(reference, spans_key), tags)
        predicted_spans = example.predicted.spans.get(spans_key, [])
        if len(example.predicted) != len(reference) or any(
            a.text != b.text for a, b in zip(example.predicted, reference)
        ):
            predicted_spans = example.get_aligned_spans_x2y(predicted_spans)
        predicted = evalb_brackets([(s.start, s.end, s.label_) for s in predicted_spans], tags)
        for counts, field in ((gold & predicted, "tp"), (predicted - gold, "fp"), (gold - predicted, "fn")):
            for (label, _, _), count in counts.items():
                setattr(total, field, getattr(total, field) + count)
                setattr(per_type[label], field, getattr(per_type[label], field) + count)
    prefix = spans_key
    if n_scored == 0:
        return dict.fromkeys((f"{prefix}_p", f"{prefix}_r", f"{prefix}_f", f"{prefix}_per_type"))
    return {
        f"{prefix}_p": total.precision,
        f"{prefix}_r": total.recall,
        f"{prefix}_f": total.fscore,
        f"{prefix}_per_type": {label: prf.to_dict() for label, prf in sorted(per_type.items())},
    }


@registry.scorers("spacy_senna.parser_scorer.v1")
def make_parser_scorer() -> Callable:
    return score_constituents
