"""`build-gazetteers`: per-class entity lists from a corpus's own entities, for the NER
gazetteer feature (`gazetteer_dir`), so that a model can ship lists of its own data."""
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List

import typer
from spacy.tokens import Doc

from ..readers import SennaFormatError, read_docs
from ._util import FORMAT_HELP, CorpusFormat, app, fail


def entity_counts(docs: Iterable[Doc]) -> Dict[str, Counter]:
    """How often each entity string occurs, per label."""
    counts: Dict[str, Counter] = {}
    for doc in docs:
        for ent in doc.ents:
            counts.setdefault(ent.label_, Counter())[ent.text] += 1
    return counts


def gazetteer_entries(counts: Counter, min_count: int) -> List[str]:
    """The entity strings seen at least `min_count` times, most frequent first."""
    return sorted((text for text, n in counts.items() if n >= min_count), key=lambda text: (-counts[text], text))


@app.command("build-gazetteers")
def build_gazetteers_cli(
    input_path: Path = typer.Argument(..., help="An NER corpus file (conll2003) with entity annotation."),
    output_dir: Path = typer.Argument(..., help="Where to write LOC.lst, MISC.lst, ORG.lst, PER.lst (one entry a line)."),
    fmt: CorpusFormat = typer.Option(CorpusFormat.conll2003, "--format", "-f", help=FORMAT_HELP),
    min_count: int = typer.Option(1, "--min-count", min=1, help="Keep entities seen at least this often."),
) -> None:
    """Write one gazetteer list per entity label from a corpus's own entities (a source that can
    ship with a model); `--paths.gazetteers OUTPUT_DIR` feeds them to configs/ner.cfg."""
    try:
        counts = entity_counts(read_docs(input_path, fmt.value))
    except (SennaFormatError, OSError) as err:
        fail(str(err))
    if not counts:
        fail(f"{input_path}: no entities to list")
    output_dir.mkdir(parents=True, exist_ok=True)
    for label, label_counts in sorted(counts.items()):
        entries = gazetteer_entries(label_counts, min_count)
        (output_dir / f"{label}.lst").write_text("".join(entry + "\n" for entry in entries), encoding="utf8")
        typer.echo(f"{label}: {len(entries):,} entries -> {output_dir / f'{label}.lst'}")
