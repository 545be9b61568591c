"""Write the meta.json for `spacy package`: description, licence, data sources and the scores.

    python scripts/make_meta.py full --metrics metrics --name senna --version 0.1.0 --output meta.json
    python scripts/make_meta.py demo --metrics metrics/demo --name senna_demo --version 0.1.0 --output meta.json

`spacy package --meta-path` lays this over the pipeline's own meta.json; it adds the
requirements itself (spaCy, and spacy-senna because the components are registered by it).
The dev scores from METRICS/<task>.json go into "performance" (spaCy's key, shown in the
package README); test scores, when METRICS/<task>.test.json exists, into "performance_test".
SENNA's own files (word list, embeddings) are never part of a package.
"""
import argparse
import sys
from pathlib import Path
from typing import Any, Dict

import srsly

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import TASKS, read_json  # noqa: E402

from spacy_senna.glove import GLOVE_META  # noqa: E402

PAPER = "Collobert et al. (2011), Natural Language Processing (Almost) from Scratch, JMLR 12"
PARSER = (
    "Collobert (2011, AISTATS)'s level-by-level constituency parser (WSJ 02-20 trees; the tree in "
    "doc.spans['constituents'], with span._.parse_string, ._.parent, ._.children as in benepar)"
)
CODE = {
    "name": "spacy-senna (the components' code)",
    "url": "",
    "license": "MIT",
    "author": "spacy-senna contributors",
}

PTB_TREES = {
    "name": "Penn Treebank-3, Wall Street Journal sections 02-20 (parse trees: the parser)",
    "url": "https://catalog.ldc.upenn.edu/LDC99T42",
    "license": "LDC User Agreement for Non-Members",
    "author": "Marcus, Santorini, Marcinkiewicz, Taylor",
}

SETUPS: Dict[str, Dict[str, Any]] = {
    "full": {
        "description": (
            "SENNA's five tasks for spaCy, after " + PAPER + ": a part-of-speech tagger (WSJ), "
            "a chunker (CoNLL-2000) reading that tagger's tags, a named entity recogniser "
            "(CoNLL-2003), a semantic role labeller (CoNLL-2005, one span group srl:<i> per "
            "predicate, reading the tagger's and the chunker's tags) and " + PARSER + ", after "
            "spaCy's sentencizer. Each "
            "word table started from GloVe 6B 50d (public domain) and was fine-tuned; the tagger "
            "was trained jointly with a Brown-corpus tagger (dropped from the pipeline). No SENNA "
            "resources are included. Needs the spacy-senna package."
        ),
        "license": (
            "Research and evaluation only: trained on the Penn Treebank (LDC licence), CoNLL-2003 / "
            "Reuters RCV1 text (Reuters Corpus agreement) and CoNLL-2005 (PropBank on the WSJ); "
            "the GloVe vectors it started from are public domain (PDDL-1.0)"
        ),
        "sources": [
            {
                "name": "Penn Treebank-3, Wall Street Journal sections 00-18 (POS tags)",
                "url": "https://catalog.ldc.upenn.edu/LDC99T42",
                "license": "LDC User Agreement for Non-Members",
                "author": "Marcus, Santorini, Marcinkiewicz, Taylor",
            },
            PTB_TREES,
            {
                "name": "CoNLL-2000 shared task: chunking (WSJ sections 15-18)",
                "url": "https://www.clips.uantwerpen.be/conll2000/chunking/",
                "license": "Freely available for research (derived from the Penn Treebank)",
                "author": "Tjong Kim Sang and Buchholz",
            },
            {
                "name": "CoNLL-2003 shared task: English named entities (Reuters RCV1)",
                "url": "https://www.clips.uantwerpen.be/conll2003/ner/",
                "license": "Annotations free for research; text under the Reuters Corpus (NIST) agreement",
                "author": "Tjong Kim Sang and De Meulder",
            },
            {
                "name": "Brown Corpus, tagged (NLTK's copy): auxiliary task of the POS tagger",
                "url": "https://www.nltk.org/nltk_data/",
                "license": "Distributed with the permission of the copyright holder, redistribution permitted",
                "author": "Francis and Kucera",
            },
            CODE,
        ],
    },
    "core": {
        "description": (
            "SENNA's four taggers for spaCy, after " + PAPER + ", trained jointly: one tok2vec "
            "holds the lookup tables (word, caps, suffix) shared by a part-of-speech tagger (WSJ), "
            "a chunker (CoNLL-2000), a named entity recogniser (CoNLL-2003) and a semantic role "
            "labeller (CoNLL-2005, one span group srl:<i> per predicate, predicates found by its "
            "own detector). The shared word table started from GloVe 6B 50d (public domain); "
            "no SENNA resources are included."
        ),
        "license": (
            "Research and evaluation only: trained on the Penn Treebank (LDC licence), CoNLL-2003 / "
            "Reuters RCV1 text (Reuters Corpus agreement) and CoNLL-2005 (PropBank on the WSJ)"
        ),
        "sources": [],  # the full setup's sources plus CoNLL-2005, filled in below
    },
    "demo": {
        "description": (
            "Demo of spacy-senna: small SENNA taggers (POS, chunking, NER) trained for a few "
            "minutes on the sample in assets/sample/. Not for real use: see the full benchmarks."
        ),
        "license": "Non-commercial (the POS data is NLTK's Penn Treebank sample: fair use, non-commercial)",
        "sources": [
            {
                "name": "NLTK Penn Treebank sample (wsj_0001-0199)",
                "url": "https://www.nltk.org/nltk_data/",
                "license": "(C) LDC 1995, distributed by NLTK under fair use, non-commercial use only",
                "author": "LDC / NLTK",
            },
            {
                "name": "CoNLL-2000 chunking data, first 2,500 training sentences (as in NLTK)",
                "url": "https://www.clips.uantwerpen.be/conll2000/chunking/",
                "license": "Freely available for research",
                "author": "Tjong Kim Sang and Buchholz",
            },
            {
                "name": "Invented NER sentences (scripts/make_ner_sample.py)",
                "url": "",
                "license": "MIT",
                "author": "spacy-senna contributors",
            },
            CODE,
        ],
    },
}


CONLL_2005 = {
    "name": "CoNLL-2005 shared task: semantic role labelling (PropBank, WSJ sections 02-21)",
    "url": "https://www.cs.upc.edu/~srlconll/",
    "license": "Free for research; the words are Penn Treebank text (LDC licence)",
    "author": "Carreras and Marquez",
}
SETUPS["full"]["sources"] = SETUPS["full"]["sources"][:-1] + [CONLL_2005, GLOVE_META, CODE]
# The four-task multi-task pipeline has no Brown task and no parser.
SETUPS["core"]["sources"] = [source for source in SETUPS["full"]["sources"] if "Brown" not in source["name"] and source is not PTB_TREES]


def task_scores(metrics: Dict[str, Any], task_key: str) -> Dict[str, Any]:
    """The scores of one task from an evaluate JSON: tag_acc, spans_chunks_*, ents_*,
    spans_srl_* (SRL with the gold predicates, whose predicate scores are 1.0 by definition)
    or constituents_* (the parser's EVALB scores)."""
    prefixes = {
        "pos": ("tag_acc",), "chunk": ("spans_chunks_",), "ner": ("ents_",), "srl": ("spans_srl_",), "psg": ("constituents_",),
    }
    return {key: value for key, value in metrics.items() if key.startswith(prefixes[task_key])}


def predicted_predicate_scores(metrics_dir: Path, prefix: str) -> Dict[str, Any]:
    """SRL with the model's own predicates (METRICS/<prefix>srl.predicted.json): its argument
    scores as spans_srl_predicted_*, and the predicate detector's srl_pred_*."""
    metrics = read_json(metrics_dir / f"{prefix}srl.predicted.json") or {}
    scores = {key.replace("spans_srl_", "spans_srl_predicted_"): value for key, value in metrics.items() if key.startswith("spans_srl_")}
    scores.update({key: value for key, value in metrics.items() if key.startswith("srl_pred_")})
    return scores


def make_meta(setup: str, metrics_dir: Path, name: str, version: str, prefix: str = "") -> Dict[str, Any]:
    meta: Dict[str, Any] = {"lang": "en", "name": name, "version": version}
    meta.update({key: value for key, value in SETUPS[setup].items()})
    meta["author"] = "spacy-senna contributors"
    meta["url"] = ""
    performance: Dict[str, Any] = {}
    performance_test: Dict[str, Any] = {}
    evaluated = {}
    for task in TASKS:
        dev = read_json(metrics_dir / f"{prefix}{task.key}.json")
        test = read_json(metrics_dir / f"{prefix}{task.key}.test.json")
        if dev:
            performance.update(task_scores(dev, task.key))
            evaluated[task.key] = {"dev": task.dev}
        if test:
            performance_test.update(task_scores(test, task.key))
            evaluated.setdefault(task.key, {})["test"] = task.test
    performance.update(predicted_predicate_scores(metrics_dir, prefix))
    meta["performance"] = performance
    if performance_test:
        meta["performance_test"] = performance_test
    meta["evaluated_on"] = evaluated
    meta["notes"] = (
        "Scores are fractions (1.0 = 100%). SENNA's own files (word list, embeddings, "
        "gazetteers) are not included; configs that use them read them from a path the user gives."
    )
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("setup", choices=sorted(SETUPS))
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--prefix", default="", help="metrics file prefix, e.g. 'multitask.'")
    args = parser.parse_args()
    meta = make_meta(args.setup, args.metrics, args.name, args.version, args.prefix)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(args.output, meta)
    print(f"Wrote {args.output}: performance {sorted(k for k in meta['performance'] if not k.endswith('per_type'))}")


if __name__ == "__main__":
    main()
