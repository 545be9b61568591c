"""Words per CPU second of a trained senna_parser alone (POS tags given), overall and by
sentence length, on treebank sentences: how the level-by-level parse's cost grows.

    python scripts/bench_parser_predict.py training/parser/model-best corpus/parse/wsj_trees_21.spacy

Each sentence gets the treebank's words and POS tags; the parser's `predict` runs on batches
of --batch-size sentences, untimed once, then --repeat timed runs, each figure the fastest.
Run it with OPENBLAS_NUM_THREADS=1 for one thread. Compare two parsers in one session, as
ratios: speeds of separate sessions on a shared machine are not comparable.
"""
import argparse
import time
from typing import Callable, Dict, List, Sequence, Tuple

import spacy
from spacy.tokens import Doc, DocBin

LENGTH_BUCKETS: Tuple[Tuple[int, int], ...] = ((1, 10), (11, 20), (21, 40), (41, 10_000))


def fastest_cpu_seconds(run: Callable[[], object], repeat: int) -> float:
    """The least process CPU time of `repeat` calls of `run`, after one untimed call."""
    run()
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def tagged_docs(nlp, path: str, n_docs: int) -> List[Doc]:
    """The treebank's sentences as docs with their words and POS tags only."""
    references = list(DocBin().from_disk(path).get_docs(nlp.vocab))
    if n_docs:
        references = references[:n_docs]
    return [Doc(nlp.vocab, words=[t.text for t in ref], tags=[t.tag_ for t in ref]) for ref in references]


def words_per_second(parser, docs: Sequence[Doc], batch_size: int, repeat: int) -> Dict[str, float]:
    """Words per CPU second and constituents per sentence of the parser on the docs."""
    batches = [list(docs[i : i + batch_size]) for i in range(0, len(docs), batch_size)]
    seconds = fastest_cpu_seconds(lambda: [parser.predict(batch) for batch in batches], repeat)
    trees = [tree for batch in batches for tree in parser.predict(batch)]
    n_words = sum(len(doc) for doc in docs)
    return {
        "sentences": len(docs),
        "words": n_words,
        "words_per_cpu_second": n_words / seconds if seconds > 0 else float("inf"),
        "constituents_per_sentence": sum(len(tree) for tree in trees) / max(1, len(docs)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("model", help="a pipeline holding senna_parser")
    parser.add_argument("trees", help="a .spacy treebank (convert --format ptb)")
    parser.add_argument("--n-docs", type=int, default=2000, help="first N sentences (0: all)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    nlp = spacy.load(args.model)
    if "senna_parser" not in nlp.pipe_names:
        parser.error(f"{args.model} has no senna_parser; its pipeline: {nlp.pipe_names}")
    senna_parser = nlp.get_pipe("senna_parser")
    docs = tagged_docs(nlp, args.trees, args.n_docs)
    rows = [("all", docs)] + [
        (f"{low}-{high}" if high < 10_000 else f"{low}+", [doc for doc in docs if low <= len(doc) <= high])
        for low, high in LENGTH_BUCKETS
    ]
    print("| words a sentence | sentences | words | words/cpu-s | constituents a sentence |")
    print("|---|---:|---:|---:|---:|")
    for name, subset in rows:
        if not subset:
            continue
        figures = words_per_second(senna_parser, subset, args.batch_size, args.repeat)
        print(
            f"| {name} | {figures['sentences']:,} | {figures['words']:,} | "
            f"{figures['words_per_cpu_second']:,.0f} | {figures['constituents_per_sentence']:.1f} |"
        )


if __name__ == "__main__":
    main()
