"""The parser's level loop against its group size (level_inference.LEVEL_BATCH_WORDS): for
each --max-words, in a fresh process, the peak RSS that parsing adds and the parser's words
per CPU second, on treebank sentences with their POS tags; and whether the trees are the
same for every size (they must be: each word's row is computed on its own).

    OPENBLAS_NUM_THREADS=1 python scripts/bench_level_batch.py training/parser/model-best corpus/parse/wsj_trees_21.spacy

Sizes are compared as ratios within one run; a shared machine's figures of separate runs are not.
"""
import argparse
import hashlib
import json
import subprocess
import sys
from typing import Any, Dict, List

import spacy

from bench_parser_predict import fastest_cpu_seconds, tagged_docs
from spacy_senna.cli.bench import peak_rss_mb


def measure(model: str, trees: str, max_words: int, n_docs: int, batch_size: int, repeat: int) -> Dict[str, Any]:
    """One size's figures (run in a process of its own, for its peak RSS)."""
    nlp = spacy.load(model)
    parser = nlp.get_pipe("senna_parser")
    docs = tagged_docs(nlp, trees, n_docs)
    batches = [docs[i : i + batch_size] for i in range(0, len(docs), batch_size)]
    before = peak_rss_mb()
    parsed: List[Any] = []

    def parse_all() -> None:
        parsed[:] = [tree for batch in batches for tree in parser.parse(batch, max_words)]

    seconds = fastest_cpu_seconds(parse_all, repeat)
    peak = peak_rss_mb()
    n_words = sum(len(doc) for doc in docs)
    return {
        "max_words": max_words,
        "rss_added_mb": round(peak - before, 1),
        "peak_rss_mb": round(peak, 1),
        "words_per_cpu_second": round(n_words / seconds),
        "trees_sha1": hashlib.sha1(repr(parsed).encode()).hexdigest()[:12],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("model", help="a pipeline holding senna_parser")
    parser.add_argument("trees", help="a .spacy treebank (convert --format ptb)")
    parser.add_argument("--max-words", type=int, nargs="+", default=[2000, 1000, 500, 250])
    parser.add_argument("--n-docs", type=int, default=1000, help="first N sentences (0: all)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child run
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.model, args.trees, args.max_words[0], args.n_docs, args.batch_size, args.repeat)))
        return
    runs: List[Dict[str, Any]] = []
    for max_words in args.max_words:
        command = [sys.executable, __file__, args.model, args.trees, "--one", "--max-words", str(max_words)]
        command += ["--n-docs", str(args.n_docs), "--batch-size", str(args.batch_size), "--repeat", str(args.repeat)]
        runs.append(json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout))
    same = len({run["trees_sha1"] for run in runs}) == 1
    print(json.dumps({"runs": runs, "same_trees": same}, indent=2))
    if not same:
        sys.exit("the trees differ between group sizes")


if __name__ == "__main__":
    main()
