"""`evaluate`: score a pipeline on a corpus file with spaCy's `nlp.evaluate`."""
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import srsly
import typer
from spacy.language import Language
from wasabi import msg

from ..readers import ConllCorpus, SennaFormatError
from ..tasks import BY_FORMAT
from ._util import DEFAULT_BATCH_SIZE, ENSEMBLE_HELP, FORMAT_HELP, CorpusFormat, PipelineError, app, fail, is_stdout
from ._util import join_members, load_pipeline, one_line, open_output, require_task


def evaluate(
    nlp: Language,
    input_path: Path,
    fmt: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    hold_out: int = 0,
    given_predicates: bool = True,
) -> Dict[str, Any]:
    """Run `nlp.evaluate` on the sentences of INPUT (only its last `hold_out` if > 0).

    conll2005 with `given_predicates`: the pipeline gets the gold predicates (empty
    `srl:<i>` span groups on its input docs).
    """
    part = "heldout" if hold_out else "all"
    corpus = ConllCorpus(
        input_path, fmt, hold_out=hold_out, part=part, given_predicates=given_predicates
    )
    examples = list(corpus(nlp))
    return nlp.evaluate(examples, batch_size=batch_size)


def relevant_scores(scores: Dict[str, Any], fmt: str) -> List[Tuple[str, float]]:
    """The numeric scores for `fmt` (all numeric scores if none match), then speed."""
    numeric = {
        key: float(value)
        for key, value in scores.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "speed"
    }
    picked = [(k, v) for k, v in numeric.items() if k.startswith(BY_FORMAT[fmt].score_prefixes)]
    rows = picked or list(numeric.items())
    if isinstance(scores.get("speed"), (int, float)):
        rows.append(("speed", float(scores["speed"])))
    return rows


def per_type_tables(scores: Dict[str, Any], fmt: str) -> Dict[str, List[Tuple[str, ...]]]:
    """Per-label P/R/F rows (in %) for the `*_per_type` scores relevant to `fmt`."""
    tables = {}
    for key, value in scores.items():
        if key.endswith("_per_type") and key.startswith(BY_FORMAT[fmt].score_prefixes) and value:
            tables[key] = [
                (label, *(f"{100 * prf.get(m, 0.0):.2f}" for m in ("p", "r", "f")))
                for label, prf in sorted(value.items())
            ]
    return tables


def print_scores(scores: Dict[str, Any], fmt: str) -> None:
    """Print the relevant scores (and per-label tables) with wasabi."""
    rows = [
        (key, f"{value:,.0f} words/s" if key == "speed" else f"{100 * value:.2f}")
        for key, value in relevant_scores(scores, fmt)
    ]
    msg.divider("Scores")
    msg.table(rows, aligns=("l", "r"))
    for key, table in per_type_tables(scores, fmt).items():
        msg.divider(key)
        msg.table(table, header=("", "P", "R", "F"), aligns=("l", "r", "r", "r"))


def set_srl_predicates(nlp, given: bool) -> None:
    """Make the SRL components use the gold predicates, or find their own (their detector,
    when they were saved in "given" mode)."""
    for _, component in nlp.pipeline:
        if hasattr(component, "predicates"):
            if given:
                component.predicates = "given"
            elif component.predicates == "given":
                component.predicates = "model"


@app.command("evaluate")
def evaluate_cli(
    model: str = typer.Argument(..., help="Pipeline package name or folder for spacy.load."),
    input_path: Path = typer.Argument(..., help="Gold corpus file (.gz is read transparently)."),
    fmt: CorpusFormat = typer.Option(..., "--format", "-f", help=FORMAT_HELP),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write all scores as JSON."),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", "-b", min=1),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU to use; -1 for the CPU."),
    hold_out: int = typer.Option(
        0,
        "--hold-out",
        min=0,
        help="Score only the last N sentences (the dev part that `convert --hold-out N` wrote).",
    ),
    given_predicates: bool = typer.Option(
        True,
        "--given-predicates/--no-given-predicates",
        help="conll2005: give the pipeline the gold predicates (as empty srl:<i> span groups).",
    ),
    exclude: str = typer.Option(
        "", "--exclude", help="Comma-separated components to leave out (e.g. an auxiliary tagger)."
    ),
    ensemble: List[str] = typer.Option([], "--ensemble", "-e", help=ENSEMBLE_HELP),
) -> None:
    """Score MODEL on the gold annotation of INPUT; print a table, optionally save JSON."""
    try:
        nlp = load_pipeline(model, gpu_id, [name for name in exclude.split(",") if name])
        require_task(nlp, model, fmt.value)
        join_members(nlp, ensemble, gpu_id)
    except PipelineError as err:
        fail(str(err))
    if fmt.value == "conll2005":
        set_srl_predicates(nlp, given_predicates)
    try:
        scores = evaluate(nlp, input_path, fmt.value, batch_size, hold_out, given_predicates)
    except SennaFormatError as err:
        fail(str(err))
    if not any(key.startswith(BY_FORMAT[fmt.value].score_prefixes) for key in scores):
        fail(f"{model} reported no {BY_FORMAT[fmt.value].title} score for --format {fmt.value}")
    print_scores(scores, fmt.value)
    if output is not None:
        save_scores(scores, output)


def save_scores(scores: Dict[str, Any], output: Path) -> None:
    """Write the scores as JSON to `output` (`-`: stdout), or fail with one line."""
    try:
        with open_output(output) as file:
            file.write(srsly.json_dumps(scores, indent=2) + "\n")
    except OSError as err:
        fail(f"cannot write the scores to {output}: {one_line(err)}")
    if not is_stdout(output):
        msg.good(f"Saved scores to {output}")
