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

from spacy_senna.tasks import CHUNK, NER, POS, PSG, SRL

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
    paper_random: Optional[float]  # Collobert et al. (2011), window/sentence network, random init
    paper_senna: Optional[float]  # ... with language-model embeddings and task features (SENNA)


TASKS = [
    Task(POS.name, "POS (WSJ)", "accuracy", POS.main_score, "sec. 19-21", "sec. 22-24", 96.37, 97.29),
    Task(
        CHUNK.name, "Chunking (CoNLL-2000)", "F1", CHUNK.main_score, "last 1,000 train sentences",
        "test", 90.33, 94.32,
    ),
    Task(NER.name, "NER (CoNLL-2003)", "F1", NER.main_score, "testa", "testb", 81.47, 89.59),
    Task(SRL.name, "SRL (CoNLL-2005)", "F1", SRL.main_score, "devel 24", "test WSJ 23", 70.99, 75.49),
    # the JMLR paper has no parsing figures (the parser is Collobert 2011, AISTATS)
    Task(PSG.name, "Parsing (WSJ)", "EVALB F1", PSG.main_score, "sec. 21", "sec. 23", None, None),
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
                fmt(task.paper_random),
                fmt(task.paper_senna),
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
    lines += feature_gain_lines(metrics_dir)
    lines += comparison_lines(metrics_dir)
    lines += scaling_lines(metrics_dir)
    bench = read_json(metrics_dir / "bench.json")
    if bench and isinstance(bench.get("words_per_second"), dict):
        speeds = ", ".join(f"{name} {value:,.0f}" for name, value in bench["words_per_second"].items())
        lines += [
            "",
            f"Speed (words/second, one CPU thread, `bench` on {bench.get('n_words', 0):,} words): "
            f"{speeds}; peak RSS {_rss(bench)}.",
        ]
    return "\n".join(lines)


# (task, configuration, metrics file, score key, the file of the configuration it adds to)
FEATURE_ROWS = [
    ("POS", "random init, SENNA's features (2-character suffix)", "pos_suffix2", POS.main_score, None),
    ("POS", "random init, 3-character suffix", "pos_s3_nochar", POS.main_score, "pos_suffix2"),
    ("POS", "+ character convolution, hidden-layer dropout (configs/pos.cfg)", "pos_single", POS.main_score, "pos_s3_nochar"),
    (
        "POS", "+ Brown-tag task sharing tables and hidden layer, GloVe word table (configs/pos_brown.cfg; shipped)",
        "pos", POS.main_score, "pos_single",
    ),
    ("POS", "configs/pos.cfg, vocabulary = pre-training word list", "pos_wordlist", POS.main_score, None),
    ("POS", "+ word table pre-trained (ranking LM)", "pos_pretrained", POS.main_score, "pos_wordlist"),
    ("Chunking", "random init, predicted POS tag feature (configs/chunk_pos.cfg)", "chunk_pos", CHUNK.main_score, None),
    (
        "Chunking", "+ GloVe word table, trained on CoNLL-2000 train and WSJ 00-14 labelled by a context-layer teacher "
        "(train-chunk-teacher, label-chunk-silver, train-chunk; shipped)", "chunk", CHUNK.main_score, "chunk_pos",
    ),
    ("NER", "GloVe word table (configs/ner.cfg; shipped)", "ner", NER.main_score, None),
    ("NER", "+ gazetteer feature (SENNA's lists)", "ner_gazetteer", NER.main_score, "ner"),
    ("NER", "random init, vocabulary = pre-training word list", "ner_wordlist", NER.main_score, None),
    ("NER", "+ word table pre-trained (ranking LM)", "ner_pretrained", NER.main_score, "ner_wordlist"),
    ("SRL", "GloVe x 0.1, predicted POS and chunk tags (configs/srl_chunk.cfg; shipped), gold predicates", "srl", SRL.main_score, None),
    ("Parsing", "window network, 141 IOBES tags (configs/parser.cfg; shipped)", "psg", PSG.main_score, None),
]


def feature_gain_lines(metrics_dir: Path) -> List[str]:
    """Dev score of each feature configuration and its gain over the one it adds to."""
    rows = []
    for task, config, key, metric, base in FEATURE_ROWS:
        value = score(read_json(metrics_dir / f"{key}.json"), metric)
        if value is None:
            continue
        base_value = score(read_json(metrics_dir / f"{base}.json"), metric) if base else None
        gain = f"{value - base_value:+.2f}" if base_value is not None else ""
        rows.append(f"| {task} | {config} | {fmt(value)} | {gain} | `metrics/{key}.json` |")
    if not rows:
        return []
    header = ["", "Features (dev):", "", "| Task | Configuration | Dev | Gain | From |", "|---|---|---:|---:|---|"]
    return header + rows


def comparison_lines(metrics_dir: Path) -> List[str]:
    """Words/s and dev score side by side: ours and spaCy's stock components (the SENNA binary is
    compared in the same run by `bench-senna`, in the README's drop-in section)."""
    compare = read_json(metrics_dir / "bench_compare.json")
    if not compare or not compare.get("runs"):
        return []
    ours, stock = compare["runs"][0], {run["model"]: run for run in compare["runs"][1:]}
    srl = read_json(metrics_dir / "bench_srl.json") or {}
    stock_by_task = {
        "POS": _stock_run(stock, "tagger"),
        "NER": _stock_run(stock, "ner"),
    }
    tasks = [
        ("POS", POS, "stock_tagger"),
        ("Chunking", CHUNK, None),
        ("NER", NER, "stock_ner"),
    ]
    rows = []
    for task, senna_task, stock_key in tasks:
        metric = senna_task.main_score
        ours_rate = ours.get("task_words_per_second", {}).get(senna_task.factory)
        stock_run = stock_by_task.get(task)
        stock_rate = stock_run["words_per_second"]["pipeline"] if stock_run else None
        ours_score = score(read_json(metrics_dir / f"{senna_task.name}.json"), metric)
        stock_score = score(read_json(metrics_dir / f"{stock_key}.json"), metric) if stock_key else None
        rows.append(_comparison_row(task, ours_rate, ours_score, stock_rate, stock_score))
    srl_rate = srl.get("words_per_second", {}).get(SRL.factory)
    if srl_rate:
        srl_score = score(read_json(metrics_dir / f"{SRL.name}.json"), SRL.main_score)
        rows.append(_comparison_row("SRL: the component, gold predicates", srl_rate, srl_score, None, None))
    core = read_json(metrics_dir / "bench_core.json")
    if core and core.get("words_per_second", {}).get("pipeline"):
        rows.append(
            _comparison_row(
                f"SRL: all four tasks from raw text ({core['model']}, predicted predicates)",
                core["words_per_second"]["pipeline"], None, None, None,
            )
        )
    peaks = [f"ours ({ours['model']}) {_rss(ours)}"]
    peaks += [f"{name} {_rss(run)}" for name, run in stock.items()]
    if core:
        peaks.append(f"the four-task pipeline {core['model']} {_rss(core)}")
    return [
        "",
        "Speed against spaCy's stock components (words/second, one thread, WSJ dev text from "
        "raw text with what each task needs; SRL: the component alone with gold predicates on "
        "WSJ 24, and the four-task pipeline from raw text; `spacy project run compare`; against "
        "the SENNA binary, measured in the same run, see the drop-in section below):",
        "",
        "| Task | Ours w/s | Ours dev | spaCy stock w/s | stock dev | ours / stock |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Peak RSS of a process streaming the text through the pipeline (torch not installed): "
        f"{', '.join(peaks)}.",
    ]


def scaling_lines(metrics_dir: Path) -> List[str]:
    """Words/s against batch size, n_process and sentence length, from `bench --scaling`."""
    bench = read_json(metrics_dir / "bench_scaling.json")
    if not bench or "scaling" not in bench:
        return []
    scaling = bench["scaling"]
    batch = ", ".join(f"{size}: {rate:,.0f}" for size, rate in scaling["batch_size"].items())
    process = ", ".join(f"{k}: {rate:,.0f}" for k, rate in scaling["n_process"].items())
    components = [name for name in bench["words_per_second"] if name not in ("tokenizer", "pipeline")]
    lines = [
        "",
        f"Scaling (`bench {bench['model']} --scaling`, words/second, one thread per process; one "
        "timed run each):",
        "",
        f"- whole pipeline from raw text by batch size: {batch}",
        f"- whole pipeline by `n_process` (this machine has 2 cores): {process}",
        "",
        "| Sentence length (tokens) | Texts | Words | " + " | ".join(components) + " | pipeline |",
        "|---|---:|---:|" + "---:|" * (len(components) + 1),
    ]
    for label, bucket in scaling["sentence_length"].items():
        rates = bucket["words_per_second"]
        cells = [f"{rates[name]:,.0f}" if name in rates else MISSING for name in [*components, "pipeline"]]
        lines.append(f"| {label} | {bucket['n_texts']:,} | {bucket['n_words']:,} | " + " | ".join(cells) + " |")
    return lines


def _rss(run: Dict) -> str:
    """Streaming peak RSS (loading and running the pipeline), else the bench process's peak."""
    if "streaming_peak_rss_mb" in run:
        return f"{run['streaming_peak_rss_mb']:,.0f} MB"
    return f"{run.get('peak_rss_mb', 0):,.0f} MB (bench process)"


def _stock_run(runs: Dict[str, Dict], component: str) -> Optional[Dict]:
    """The compared run whose pipeline has `component` (spaCy's factory name)."""
    for run in runs.values():
        if component in run.get("words_per_second", {}):
            return run
    return None


def _comparison_row(task: str, ours_rate, ours_score, stock_rate, stock_score) -> str:
    cells = [
        task,
        f"{ours_rate:,.0f}" if ours_rate else MISSING,
        fmt(ours_score),
        f"{stock_rate:,.0f}" if stock_rate else MISSING,
        fmt(stock_score),
        f"{ours_rate / stock_rate:.2f}x" if ours_rate and stock_rate else MISSING,
    ]
    return "| " + " | ".join(cells) + " |"


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
