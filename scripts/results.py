"""Render the measured scores (metrics/*.json) as a markdown table next to the paper's figures.

    python scripts/results.py --metrics metrics --readme README.md   # rewrite README's table
    python scripts/results.py --metrics metrics                      # print the table

The table goes between the `<!-- results:start -->` and `<!-- results:end -->` lines of the
README and is rebuilt from the JSON files every time, so it only ever shows what was measured.
Dev scores come from metrics/<task>.json, test scores from metrics/<task>.test.json (written
only when the test split was present), speed from metrics/bench.json.
"""
import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

START = "<!-- results:start -->"
END = "<!-- results:end -->"
MISSING = "–"


@dataclass(frozen=True)
class Task:
    key: str  # metrics/<key>.json
    name: str
    metric_name: str
    metric: str  # score key in the JSON written by `spacy_senna evaluate`
    dev: str
    test: str
    paper_random: float  # Collobert et al. (2011), window/sentence network, random init
    paper_senna: float  # ... with language-model embeddings and task features (SENNA)


TASKS = [
    Task("pos", "POS (WSJ)", "accuracy", "tag_acc", "sec. 19-21", "sec. 22-24", 96.37, 97.29),
    Task(
        "chunk", "Chunking (CoNLL-2000)", "F1", "chunks_f", "last 1,000 train sentences",
        "test", 90.33, 94.32,
    ),
    Task("ner", "NER (CoNLL-2003)", "F1", "ents_f", "testa", "testb", 81.47, 89.59),
    Task("srl", "SRL (CoNLL-2005)", "F1", "srl_f", "devel 24", "test WSJ 23", 70.99, 75.49),
]


def read_json(path: Path) -> Optional[Dict]:
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf8"))


def score(metrics: Optional[Dict], key: str) -> Optional[float]:
    """A score as a percentage, or None when absent."""
    if not metrics or not isinstance(metrics.get(key), (int, float)):
        return None
    return 100 * float(metrics[key])


def load_scores(metrics_dir: Path) -> Dict[str, Dict[str, Optional[float]]]:
    """{task: {"dev": %, "test": %}} from metrics/<task>.json and metrics/<task>.test.json."""
    return {
        task.key: {
            "dev": score(read_json(metrics_dir / f"{task.key}.json"), task.metric),
            "test": score(read_json(metrics_dir / f"{task.key}.test.json"), task.metric),
        }
        for task in TASKS
    }


def fmt(value: Optional[float]) -> str:
    return MISSING if value is None else f"{value:.2f}"


def render_table(metrics_dir: Path) -> str:
    """The results section: scores table, then the speed line when metrics/bench.json exists."""
    scores = load_scores(metrics_dir)
    rows: List[Tuple[str, ...]] = [
        ("Task", "Metric", "Paper: random init", "Paper: SENNA", "Ours: dev", "Ours: test"),
        ("---", "---", "---:", "---:", "---:", "---:"),
    ]
    for task in TASKS:
        rows.append(
            (
                task.name,
                task.metric_name,
                f"{task.paper_random:.2f}",
                f"{task.paper_senna:.2f}",
                f"{fmt(scores[task.key]['dev'])} ({task.dev})" if scores[task.key]["dev"] is not None else MISSING,
                f"{fmt(scores[task.key]['test'])} ({task.test})" if scores[task.key]["test"] is not None else MISSING,
            )
        )
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines += [
        "",
        "Paper: Collobert et al. (2011), test-set scores of the networks trained from random "
        "initialisation and of SENNA (language-model embeddings plus task features). Ours: "
        f"written by `spacy project run results` from `{metrics_dir.as_posix()}/*.json`; "
        f"{MISSING} = not measured (test columns need the withheld test splits).",
    ]
    bench = read_json(metrics_dir / "bench.json")
    if bench and isinstance(bench.get("words_per_second"), dict):
        speeds = ", ".join(f"{name} {value:,.0f}" for name, value in bench["words_per_second"].items())
        lines += [
            "",
            f"Speed (words/second, one CPU thread, `bench` on {bench.get('n_words', 0):,} words): "
            f"{speeds}; peak RSS {bench.get('peak_rss_mb', 0):,.0f} MB.",
        ]
    return "\n".join(lines)


def replace_section(text: str, section: str) -> str:
    """`text` with everything between the START and END markers replaced by `section`."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < 0 or end < start:
        raise ValueError(f"the README needs a line {START} and, after it, a line {END}")
    return text[: start + len(START)] + "\n" + section + "\n" + text[end:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--metrics", type=Path, default=Path("metrics"))
    parser.add_argument("--readme", type=Path, default=None, help="Rewrite this file's table.")
    args = parser.parse_args()
    section = render_table(args.metrics)
    if args.readme is None:
        print(section)
        return 0
    try:
        text = replace_section(args.readme.read_text(encoding="utf8"), section)
    except ValueError as err:
        print(f"{args.readme}: {err}", file=sys.stderr)
        return 1
    args.readme.write_text(text, encoding="utf8")
    print(section)
    print(f"\nUpdated {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
