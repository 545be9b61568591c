"""A trained senna_parser with force_progress off and on: EVALB scores on a dev corpus, how
many sentences end without a root, and the parser's words per CPU second (alternating).

python scripts/parser_force_progress.py training/parser/model-best corpus/parse/wsj_trees_21.spacy
"""
import time

import spacy
import typer
from spacy.training import Corpus

from spacy_senna.constituency import doc_constituents


def main(pipeline: str, dev: str, rounds: int = 2) -> None:
    nlp = spacy.load(pipeline)
    parser = nlp.get_pipe("senna_parser")
    examples = list(Corpus(dev, gold_preproc=True)(nlp))
    tagged = [doc for doc in nlp.pipe([eg.predicted.copy() for eg in examples], disable=[parser.name])]
    n_words = sum(len(doc) for doc in tagged)
    for force in (False, True):
        parser.cfg["force_progress"] = force
        scores = nlp.evaluate(examples)
        parsed = list(parser.pipe([doc.copy() for doc in tagged]))
        rootless = sum(1 for doc in parsed if len(doc) > 1 and not any(s == 0 and e == len(doc) for s, e, _ in doc_constituents(doc)))
        p, r, f = (100 * scores[f"constituents_{key}"] for key in "prf")
        print(f"force_progress={force}: P {p:.2f} R {r:.2f} F1 {f:.2f}; {rootless} of {len(examples)} sentences without a root")
    for _ in range(rounds):
        for force in (False, True):
            parser.cfg["force_progress"] = force
            start = time.process_time()
            list(parser.pipe([doc.copy() for doc in tagged]))
            print(f"force_progress={force}: {n_words / (time.process_time() - start):,.0f} parser words/cpu-s")


if __name__ == "__main__":
    typer.run(main)
