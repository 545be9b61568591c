"""build-gazetteers: entity lists from a corpus's own entities."""
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from spacy_senna.cli import app
from spacy_senna.cli.build_gazetteers import gazetteer_entries

SAMPLE = Path(__file__).parent / "fixtures" / "sample_conll2003.txt"


def test_gazetteer_entries_by_count():
    counts = Counter({"Paris": 3, "Lyon": 1, "Nice": 3})
    assert gazetteer_entries(counts, 1) == ["Nice", "Paris", "Lyon"]
    assert gazetteer_entries(counts, 2) == ["Nice", "Paris"]


def test_build_gazetteers_cli_lists_feed_the_gazetteer_feature(tmp_path):
    result = CliRunner().invoke(app, ["build-gazetteers", str(SAMPLE), str(tmp_path / "gaz")])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "gaz").iterdir())
    assert written and set(written) <= {"LOC.lst", "MISC.lst", "ORG.lst", "PER.lst"}
    from spacy_senna.resources import find_gazetteers

    assert sorted(Path(p).name for p in find_gazetteers(str(tmp_path / "gaz")).values()) == written


def test_build_gazetteers_errors(tmp_path):
    missing = CliRunner().invoke(app, ["build-gazetteers", str(tmp_path / "nope.txt"), str(tmp_path / "gaz")])
    assert missing.exit_code == 1 and "nope.txt" in missing.output
    no_ents = tmp_path / "plain.txt"
    no_ents.write_text("The DT B-NP O\ncat NN I-NP O\n\n", encoding="utf8")
    result = CliRunner().invoke(app, ["build-gazetteers", str(no_ents), str(tmp_path / "gaz")])
    assert result.exit_code == 1 and "no entities" in result.output
