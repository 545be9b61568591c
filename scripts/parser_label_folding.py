"""What folding rare unary-chain labels would cost senna_parser: the oracle EVALB F1 on dev.

Each tree's merged labels (S#VP: a unary chain as one label) are counted over the training
trees. For each threshold N, a chain label seen fewer than N times is folded to its top label
(FRAG#S#VP -> FRAG: the chain's lower constituents are lost); single labels are kept, as
senna_parser's `min_label_count` does. The dev
trees go gold -> levels -> folded levels -> trees and are scored against the unfolded gold
with spacy_senna.parser_scorer.v1. Prints, per N, the labels left, the tags (1 + 4 labels)
and the oracle F1: the best a parser with that tag set could score.

python scripts/parser_label_folding.py /work/main/corpus/parse/wsj_trees_02-20.spacy \
    /work/main/corpus/parse/wsj_trees_21.spacy --thresholds 1,2,5,10,20,50,100
"""
from collections import Counter
from pathlib import Path
from typing import List

import spacy
import typer
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example
from wasabi import msg

from spacy_senna.constituency import doc_constituents
from spacy_senna.util import words_only
from spacy_senna.constituents import Level, levels_to_constituents, merge_chains, top_label, tree_levels
from spacy_senna.scoring import score_constituents
from spacy_senna.tasks import PSG

KEY = PSG.annotation.key


def label_counts(docs: List[Doc]) -> Counter:
    """How often each merged label occurs in the trees."""
    return Counter(label for doc in docs for _, _, label in merge_chains(doc_constituents(doc, KEY)))


def folded_label(label: str, counts: Counter, threshold: int) -> str:
    """The label itself, or its top label when it is a chain seen fewer than threshold times
    in training (a chain never seen there is not in any tag set; a plain label is its own top)."""
    return top_label(label) if counts[label] < threshold else label


def folded_example(reference: Doc, counts: Counter, threshold: int) -> Example:
    """The reference against a copy of itself whose tree went through folded levels."""
    levels = tree_levels(len(reference), doc_constituents(reference, KEY))
    folded = [Level(level.unit_starts, tuple(_folded_tag(tag, counts, threshold) for tag in level.tags)) for level in levels]
    predicted = words_only(reference)
    predicted.spans[KEY] = [Span(predicted, s, e, label) for s, e, label in levels_to_constituents(len(reference), folded)]
    return Example(predicted, reference)


def _folded_tag(tag: str, counts: Counter, threshold: int) -> str:
    if tag == "O":
        return tag
    prefix, label = tag.split("-", 1)
    return f"{prefix}-{folded_label(label, counts, threshold)}"


def main(
    train: Path = typer.Argument(..., help="training trees (DocBin): the label counts"),
    dev: Path = typer.Argument(..., help="dev trees (DocBin): the oracle F1"),
    thresholds: str = typer.Option("1,2,5,10,20,50,100", help="comma-separated N: chains seen < N times are folded"),
):
    vocab = spacy.blank("en").vocab
    counts = label_counts(list(DocBin().from_disk(train).get_docs(vocab)))
    dev_docs = [doc for doc in DocBin().from_disk(dev).get_docs(vocab) if KEY in doc.spans]
    rows = []
    for threshold in (int(n) for n in thresholds.split(",")):
        kept = {folded_label(label, counts, threshold) for label in counts}
        scores = score_constituents([folded_example(doc, counts, threshold) for doc in dev_docs])
        rows.append((threshold, len(kept), 1 + 4 * len(kept), f"{100 * scores[f'{KEY}_f']:.2f}"))
    msg.table(rows, header=("N", "labels", "tags", "oracle F1"), divider=True)


if __name__ == "__main__":
    typer.run(main)
