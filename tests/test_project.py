"""Tests for the spaCy project: project.yml, its scripts, and the demo workflow end to end."""
import hashlib
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
import srsly
from weasel.util import load_project_config

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"


def load_script(name: str) -> ModuleType:
    """Import scripts/<name>.py as a module (scripts/ is not a package)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    spec = importlib.util.spec_from_file_location(f"senna_script_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> dict:
    """project.yml through weasel's loader (from a copy: the loader creates its directories)."""
    folder = tmp_path_factory.mktemp("project_yml")
    shutil.copy(ROOT / "project.yml", folder / "project.yml")
    return load_project_config(folder)


# ------------------------------------------------------------------ project.yml


def test_workflows_name_defined_commands(project):
    commands = {command["name"] for command in project["commands"]}
    assert {"demo", "all"} <= set(project["workflows"])
    for name, steps in project["workflows"].items():
        assert set(steps) <= commands, f"workflow {name} names undefined commands"
    assert project["workflows"]["all"] == [
        "copy-assets", "glove-assets", "import-glove", "convert", "convert-brown", "train-pos",
        "train-pos-00-14", "train-chunk-teacher", "label-chunk-silver", "train-chunk", "train-ner", "train-srl", "convert-parse", "train-parser",
        "evaluate", "evaluate-srl", "evaluate-parser", "package", "bench", "results",
    ]


def test_command_scripts_reference_existing_files(project):
    from spacy_senna.cli import app

    senna_commands = {command.name for command in app.registered_commands}
    for command in project["commands"]:
        for line in command["script"]:
            args = shlex.split(line)
            for arg in args:
                if arg.startswith(("scripts/", "configs/")):
                    assert (ROOT / arg).is_file(), f"{command['name']}: {arg} does not exist"
            if args[:3] == ["python", "-m", "spacy_senna"]:
                assert args[3] in senna_commands, f"{command['name']}: unknown command {args[3]}"
        for dep in command.get("deps", []):
            if dep.startswith(("assets/sample/", "configs/", "scripts/")):
                assert (ROOT / dep).exists(), f"{command['name']}: dep {dep} does not exist"


def test_assets_are_declared_with_checksums(project):
    assets = {asset["dest"]: asset for asset in project["assets"]}
    for dest, asset in assets.items():
        assert dest.startswith("assets/")
        assert len(asset.get("checksum", "")) == 32, dest
        assert asset.get("url") or asset.get("description"), dest
    test_splits = ["assets/ptb_pos/wsj_test.tsv.gz", "assets/conll2000/test.txt", "assets/conll2003/eng.testb"]
    for dest in test_splits:
        assert assets[dest].get("extra") is True  # weasel's flag: `spacy project assets` skips it
    assert not any("optional" in asset for asset in assets.values())  # not a weasel key
    assert assets["assets/conll2003/eng.testb"]["url"].startswith("https://")
    assert "local_data" in assets["assets/ptb_pos/wsj_train.tsv.gz"]["description"]


def test_asset_checksums_match_local_data(project, shared_data):
    """Every asset that is in ../shared/data has the checksum project.yml declares."""
    checked = 0
    for asset in project["assets"]:
        local = shared_data / Path(asset["dest"]).relative_to("assets")
        if local.is_file():
            assert md5(local) == asset["checksum"], asset["dest"]
            checked += 1
    assert checked >= 5


def test_sample_is_small_and_readable():
    from spacy_senna.readers import read_docs

    sample = ROOT / "assets" / "sample"
    assert sum(p.stat().st_size for p in sample.iterdir()) < 1_000_000
    formats = {"wsj_sample": "wsj", "conll2000_sample": "conll2000", "ner_sample": "conll2003"}
    for path in sorted(sample.glob("*.gz")):
        fmt = next(f for prefix, f in formats.items() if path.name.startswith(prefix))
        docs = list(read_docs(path, fmt))
        assert len(docs) >= 400, path.name
    ner = list(read_docs(sample / "ner_sample_train.txt.gz", "conll2003"))
    assert {ent.label_ for doc in ner for ent in doc.ents} == {"PER", "LOC", "ORG", "MISC"}


def test_ner_sample_is_reproducible(tmp_path):
    script = SCRIPTS / "make_ner_sample.py"
    subprocess.run([sys.executable, str(script), "--output", str(tmp_path)], check=True, capture_output=True)
    for name in ("ner_sample_train.txt.gz", "ner_sample_dev.txt.gz"):
        assert md5(tmp_path / name) == md5(ROOT / "assets" / "sample" / name)


# ------------------------------------------------------------------ copy-assets


def write_project(tmp_path: Path, assets: list) -> Path:
    project_dir = tmp_path / "project"
    project_dir.mkdir()
    srsly.write_yaml(project_dir / "project.yml", {"title": "test", "assets": assets})
    return project_dir


def test_copy_assets_copies_and_checks_md5(tmp_path):
    copy_assets = load_script("copy_assets")
    local = tmp_path / "local"
    (local / "corpus").mkdir(parents=True)
    good, bad = local / "corpus" / "train.txt", local / "corpus" / "dev.txt"
    good.write_text("a b c\n")
    bad.write_text("corrupted\n")
    archive = local / "corpus" / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("bundle/test.txt", "x y z\n")
    test_md5 = hashlib.md5(b"x y z\n").hexdigest()
    project_dir = write_project(
        tmp_path,
        [
            {"dest": "assets/corpus/train.txt", "checksum": md5(good)},
            {"dest": "assets/corpus/dev.txt", "checksum": "0" * 32},
            {"dest": "assets/corpus/bundle.zip", "url": "https://example.org/b.zip", "checksum": md5(archive)},
            {
                "dest": "assets/corpus/test.txt",
                "checksum": test_md5,
                "extra": True,
                "archive": {"path": "assets/corpus/bundle.zip", "member": "bundle/test.txt"},
            },
            {"dest": "assets/corpus/extra.txt", "checksum": "1" * 32, "extra": True},
            {"dest": "assets/corpus/needed.txt", "checksum": "2" * 32},
        ],
    )
    report = {dest: (status, optional) for dest, status, _, optional in copy_assets.copy_assets(project_dir, local)}
    assert report == {
        "assets/corpus/train.txt": ("copied", False),
        "assets/corpus/dev.txt": ("failed", False),
        "assets/corpus/bundle.zip": ("copied", False),
        "assets/corpus/test.txt": ("extracted", True),
        "assets/corpus/extra.txt": ("missing", True),
        "assets/corpus/needed.txt": ("missing", False),
    }
    assets = project_dir / "assets" / "corpus"
    assert (assets / "train.txt").read_text() == "a b c\n"
    assert not (assets / "dev.txt").exists()  # a wrong checksum is never put in place
    assert (assets / "test.txt").read_text() == "x y z\n"
    assert sorted(p.name for p in assets.iterdir()) == ["bundle.zip", "test.txt", "train.txt"]
    again = {dest: status for dest, status, _, _ in copy_assets.copy_assets(project_dir, local)}
    assert again["assets/corpus/train.txt"] == again["assets/corpus/test.txt"] == "present"


def test_copy_assets_exit_status(tmp_path):
    local = tmp_path / "local"
    (local / "d").mkdir(parents=True)
    (local / "d" / "f.txt").write_text("data\n")
    assets = [
        {"dest": "assets/d/f.txt", "checksum": md5(local / "d" / "f.txt")},
        {"dest": "assets/d/test.txt", "checksum": "3" * 32, "extra": True},
    ]
    project_dir = write_project(tmp_path, assets)
    script = [sys.executable, str(SCRIPTS / "copy_assets.py"), "--local-data", str(local)]
    ok = subprocess.run(script + ["--project-dir", str(project_dir)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "copied" in ok.stdout and "assets/d/test.txt" in ok.stdout
    srsly.write_yaml(project_dir / "project.yml", {"title": "t", "assets": assets + [{"dest": "assets/d/g.txt"}]})
    failed = subprocess.run(script + ["--project-dir", str(project_dir)], capture_output=True, text=True)
    assert failed.returncode == 1


def test_if_present(tmp_path):
    script = [sys.executable, str(SCRIPTS / "if_present.py")]
    marker, stale = tmp_path / "ran.txt", tmp_path / "old.test.json"
    command = ["--", "python", "-c", f"open({str(marker)!r}, 'w').write('ok')"]
    stale.write_text("{}")
    skip = script + [str(tmp_path / "absent"), "--else-remove", str(stale)] + command
    skipped = subprocess.run(skip, capture_output=True, text=True)
    assert skipped.returncode == 0 and "Skipping" in skipped.stdout
    assert not marker.exists() and not stale.exists()
    ran = subprocess.run(script + [str(tmp_path)] + command, capture_output=True, text=True)
    assert ran.returncode == 0 and marker.read_text() == "ok"
    assert subprocess.run(script + ["--", "true"], capture_output=True).returncode == 2


# ------------------------------------------------------------------ results and meta


@pytest.fixture
def metrics_dir(tmp_path) -> Path:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    srsly.write_json(metrics / "pos.json", {"tag_acc": 0.97123, "token_acc": 1.0, "speed": 5000.0})
    srsly.write_json(metrics / "chunk.json", {"spans_chunks_p": 0.9, "spans_chunks_r": 0.91, "spans_chunks_f": 0.905})
    srsly.write_json(
        metrics / "ner.json",
        {"ents_p": 0.8, "ents_r": 0.82, "ents_f": 0.8099, "ents_per_type": {"PER": {"p": 1, "r": 1, "f": 1}}},
    )
    srsly.write_json(metrics / "ner.test.json", {"ents_f": 0.7512})
    srsly.write_json(metrics / "psg.json", {"constituents_p": 0.85, "constituents_r": 0.83, "constituents_f": 0.8411, "tag_acc": 0.97})
    srsly.write_json(
        metrics / "bench.json",
        {
            "words_per_second": {"tokenizer": 200000.0, "pipeline": 12345.6},
            "n_words": 131768,
            "peak_rss_mb": 300.2,
            "streaming_peak_rss_mb": 181.4,
        },
    )
    return metrics


def test_results_table(metrics_dir):
    results = load_script("results")
    table = results.render_table(metrics_dir)
    lines = table.splitlines()
    assert lines[0].startswith("| Task |")
    assert "| POS (WSJ) | accuracy | 96.37 | 97.29 | 97.12 (sec. 19-21) | – |" in lines
    assert "| Chunking (CoNLL-2000) | F1 | 90.33 | 94.32 | 90.50 (last 1,000 train sentences) | – |" in lines
    assert "| NER (CoNLL-2003) | F1 | 81.47 | 89.59 | 80.99 (testa) | 75.12 (testb) |" in lines
    assert "| SRL (CoNLL-2005) | F1 | 70.99 | 75.49 | – | – |" in lines
    assert "| Parsing (WSJ) | EVALB F1 | – | – | 84.11 (sec. 21) | – |" in lines
    assert "pipeline 12,346" in table and "131,768 words" in table
    assert "peak RSS 181 MB." in table  # the streaming peak, not the bench process's


def test_results_fall_back_to_the_bench_processs_peak(metrics_dir):
    bench = srsly.read_json(metrics_dir / "bench.json")
    del bench["streaming_peak_rss_mb"]
    srsly.write_json(metrics_dir / "bench.json", bench)
    assert "peak RSS 300 MB (bench process)." in load_script("results").render_table(metrics_dir)


def test_results_rewrite_only_the_marked_section(metrics_dir, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nintro\n<!-- results:start -->\nold table\n<!-- results:end -->\n\n## After\n")
    script = [sys.executable, str(SCRIPTS / "results.py"), "--metrics", str(metrics_dir), "--readme", str(readme)]
    subprocess.run(script, check=True, capture_output=True)
    text = readme.read_text()
    assert text.startswith("# Title\n\nintro\n<!-- results:start -->\n| Task |")
    assert "old table" not in text and text.endswith("<!-- results:end -->\n\n## After\n")
    subprocess.run(script, check=True, capture_output=True)
    assert readme.read_text() == text  # idempotent
    readme.write_text("no markers\n")
    assert subprocess.run(script, capture_output=True).returncode == 1


def test_readme_has_the_results_section():
    """README.md holds the markers, with a rendered table between them."""
    results = load_script("results")
    text = (ROOT / "README.md").read_text(encoding="utf8")
    assert text.count(results.START) == text.count(results.END) == 1
    section = text[text.index(results.START) + len(results.START) : text.index(results.END)]
    header = results.render_table(ROOT / "no-metrics").splitlines()[:2]
    assert section.strip().splitlines()[:2] == header
    assert "| NER (CoNLL-2003) | F1 | 81.47 | 89.59 |" in section


def test_make_meta(metrics_dir):
    make_meta = load_script("make_meta")
    meta = make_meta.make_meta("full", metrics_dir, "senna", "0.1.0")
    assert meta["name"] == "senna" and meta["lang"] == "en"
    assert meta["performance"]["tag_acc"] == 0.97123
    assert meta["performance"]["spans_chunks_f"] == 0.905
    assert meta["performance"]["ents_per_type"]["PER"]["f"] == 1
    assert "token_acc" not in meta["performance"] and "speed" not in meta["performance"]
    assert meta["performance_test"] == {"ents_f": 0.7512}
    assert meta["performance"]["constituents_f"] == 0.8411
    assert any("parse trees" in source["name"] for source in meta["sources"])
    assert {s["name"].split(",")[0] for s in meta["sources"]} >= {"Penn Treebank-3"}
    assert meta["license"].startswith("Research")
    demo = make_meta.make_meta("demo", metrics_dir, "senna_demo", "0.1.0")
    assert "NLTK" in demo["license"] and demo["performance"] == meta["performance"]


# ------------------------------------------------------------------ the demo, end to end


def clean_copy(destination: Path) -> Path:
    """Copy what git would commit (tracked plus untracked-but-not-ignored files) to `destination`."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode("utf8").split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def test_demo_workflow_from_a_clean_copy(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to know which files are part of the project")
    copy = clean_copy(tmp_path / "project")
    site = tmp_path / "site"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    demo = subprocess.run(
        [sys.executable, "-m", "spacy", "project", "run", "demo", ".", "--vars.demo_install_target", str(site)],
        cwd=copy, env=env, capture_output=True, text=True, timeout=900,
    )
    assert demo.returncode == 0, demo.stdout[-4000:] + demo.stderr[-4000:]
    assert "Entities:" in demo.stdout

    scores = {task: srsly.read_json(copy / "metrics" / "demo" / f"{task}.json") for task in ("pos", "chunk", "ner")}
    assert scores["pos"]["tag_acc"] > 0.8
    assert scores["chunk"]["spans_chunks_f"] > 0.6
    assert scores["ner"]["ents_f"] > 0.5

    wheel = copy / "packages" / "en_senna_demo-0.1.0" / "dist" / "en_senna_demo-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zipped:
        meta = json.loads(zipped.read("en_senna_demo/meta.json"))
    assert any(req.startswith("spacy-senna") for req in meta["requirements"])
    assert meta["performance"]["ents_f"] == scores["ner"]["ents_f"]
    assert meta["sources"]

    check = (
        "import json, spacy\n"
        "nlp = spacy.load('en_senna_demo')\n"
        "doc = nlp('Maria Berg met the French minister in Oslo on Monday.')\n"
        "print(json.dumps({'pipes': nlp.pipe_names, 'tags': [t.tag_ for t in doc],\n"
        "  'chunks': [c.label_ for c in doc.spans['chunks']], 'ents': [(e.text, e.label_) for e in doc.ents]}))\n"
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    loaded = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    result = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert result["pipes"] == ["sentencizer", "senna_tagger", "senna_chunker", "senna_ner"]
    assert all(result["tags"]) and "NP" in result["chunks"] and result["ents"]


# ------------------------------------------------------------------ packaging


def test_packaging_metadata():
    """One version (spacy_senna/about.py) for setup.py and the CLI; licence, URL, py.typed."""
    from spacy_senna import __version__

    command = [sys.executable, "setup.py", "--version", "--license", "--url", "--classifiers"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [__version__, "MIT"] and lines[2].startswith("https://")
    assert "Typing :: Typed" in lines
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    assert (ROOT / "spacy_senna" / "py.typed").is_file()
    assert '"spacy_senna": ["py.typed"]' in (ROOT / "setup.py").read_text()
    version = subprocess.run([sys.executable, "-m", "spacy_senna", "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"spacy-senna {__version__}"


def test_add_component_appends_a_sourced_component(tmp_path):
    """The package step's scripts/add_component.py (SRL after the assembled window taggers)."""
    import spacy

    base = spacy.blank("en")
    base.add_pipe("sentencizer")
    base.to_disk(tmp_path / "pipeline")
    source = spacy.blank("en")
    source.add_pipe("entity_ruler").add_patterns([{"label": "ORG", "pattern": "Acme"}])
    source.to_disk(tmp_path / "source")
    command = [sys.executable, str(SCRIPTS / "add_component.py"), str(tmp_path / "pipeline"), "entity_ruler", str(tmp_path / "source")]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    nlp = spacy.load(tmp_path / "pipeline")
    assert nlp.pipe_names == ["sentencizer", "entity_ruler"]
    assert [(e.text, e.label_) for e in nlp("Acme rose.").ents] == [("Acme", "ORG")]
    missing = subprocess.run(command[:3] + ["senna_srl", str(tmp_path / "source")], capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "has no component 'senna_srl'" in missing.stderr


def test_ner_doc_consistency_relabels_and_propagates():
    """scripts/ner_doc_consistency.py: majority labels, repeats and surnames within a document."""
    import spacy
    from spacy.tokens import Doc, Span

    script = load_script("ner_doc_consistency")
    vocab = spacy.blank("en").vocab
    first = Doc(vocab, words=["Anna", "Rossi", "met", "Kestrel", "."])
    first.ents = [Span(first, 0, 2, "PER"), Span(first, 3, 4, "ORG")]
    second = Doc(vocab, words=["Rossi", "left", "Kestrel", "and", "kestrel", "."])
    second.ents = [Span(second, 2, 3, "LOC")]
    third = Doc(vocab, words=["Kestrel", "grew", "."])
    third.ents = [Span(third, 0, 1, "ORG")]
    docs = [first, second, third]
    labels = script.majority_labels(docs)
    assert labels[("Kestrel",)] == "ORG"
    script.relabel(second, labels)
    assert [(e.text, e.label_) for e in second.ents] == [("Kestrel", "ORG")]
    wanted = dict(labels)
    wanted.update(script.surname_labels(docs))
    script.propagate(second, wanted)
    # "Rossi" is the surname of a PER name; the lower-cased "kestrel" is not a name
    assert [(e.text, e.label_) for e in second.ents] == [("Rossi", "PER"), ("Kestrel", "ORG")]
