"""`make-senna-dir`: a directory that programs written for SENNA accept as a SENNA install.

SENNA wrappers (NLTK's `nltk.classify.senna.Senna`, `nltk.tag.SennaTagger` and friends) take
the SENNA directory and run the executable for the platform in it: `senna-linux64`,
`senna-linux32`, `senna-osx` or plain `senna`, with SENNA's options (`-path DIR/ -usrtokens
-iobtags -pos ...`) and sentences on stdin. This command writes those executables as small
shell scripts that exec this Python with `-m spacy_senna tag --model MODEL "$@"` (absolute
paths baked in), so the wrappers run the spaCy pipeline unchanged. It also writes the
drop-in's fast-path export of MODEL (dropin/lean.py), so that even the first call starts fast.

NLTK only runs an executable on a private path: every directory from / down to it, and the
files in the SENNA directory, must be owned by you (or root) and not group/world-writable. A
directory under /tmp fails that; the files written here get mode 755/644, and the command warns
when a directory above DIR would make NLTK refuse it.
"""
import os
import shlex
import stat
import sys
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from ._util import DEFAULT_MODEL, app, atomic_path, default_model, fail, is_package, one_line

# The names SENNA wrappers look for, by platform (senna-win32.exe is not written).
EXECUTABLES = ("senna", "senna-linux64", "senna-linux32", "senna-osx")
README = "README.txt"
# Written last: the directory is make-senna-dir's own, which may overwrite it without --force.
MARKER = ".spacy-senna-dir"


class NotOurDirectory(ValueError):
    """The directory holds files that make-senna-dir did not write (a real SENNA install?)."""


def resolve_model(model: Optional[str]) -> str:
    """The model as the tag command will be given it: an absolute folder, or a package name."""
    if model is None:
        return default_model()
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.cfg").is_file():
            raise ValueError(f"{model} is not a spaCy pipeline folder (it has no config.cfg)")
        return os.path.abspath(path)
    if is_package(model):
        return model
    raise ValueError(f"cannot find model {model}: neither a pipeline folder nor an installed package")


def launcher_script(model: str, python: Optional[str] = None) -> str:
    """The shell script run in SENNA's place: exec Python on `spacy_senna tag --model MODEL`."""
    python = os.path.abspath(python or sys.executable)
    # -P (Python 3.11+): do not put the caller's working directory on sys.path.
    flags = " -P" if sys.version_info >= (3, 11) else ""
    return (
        "#!/bin/sh\n"
        "# SENNA-compatible tagger written by `python -m spacy_senna make-senna-dir`:\n"
        "# runs the spaCy pipeline below with SENNA's options and stdin/stdout formats.\n"
        f"exec {shlex.quote(python)}{flags} -m spacy_senna tag --model {shlex.quote(model)} \"$@\"\n"
    )


def check_overwritable(directory: Path) -> None:
    """Raise NotOurDirectory unless `directory` is missing, empty or has make-senna-dir's marker."""
    if not directory.exists():
        return
    if not directory.is_dir():
        raise NotOurDirectory(f"{directory} is a file, not a directory")
    if (directory / MARKER).is_file():
        return
    names = sorted(path.name for path in directory.iterdir())
    if names:
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        raise NotOurDirectory(
            f"{directory} is not empty and was not written by make-senna-dir ({shown}): "
            "pass --force to overwrite its senna* and README.txt"
        )


def make_senna_dir(
    directory: Path, model: str, python: Optional[str] = None, force: bool = False
) -> List[Path]:
    """Write the SENNA executables (and a README) into `directory`; returns the files written.

    Without `force`, a NotOurDirectory unless check_overwritable allows it."""
    directory = Path(os.path.abspath(directory))
    if not force:
        check_overwritable(directory)
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    if created:
        os.chmod(directory, 0o755)
    script = launcher_script(model, python)
    written = []
    for name in EXECUTABLES:
        # Separate regular files: NLTK refuses symlinks and hard links in a SENNA directory.
        written.append(_write(directory / name, script, 0o755))
    readme = (
        "A SENNA-compatible directory written by spacy-senna (python -m spacy_senna make-senna-dir).\n"
        f"The executables run the spaCy pipeline {model}\n"
        f"with {os.path.abspath(python or sys.executable)}; no SENNA data files are needed.\n"
        "Options as SENNA's: -pos -chk -ner -srl -psg -iobtags -brackettags -usrtokens -offsettags\n"
        "-notokentags -posvbs -usrvbs FILE -path DIR (ignored) -verbose; run `senna -h` for help.\n"
    )
    written.append(_write(directory / README, readme, 0o644))
    _write(directory / MARKER, "Written by spacy-senna make-senna-dir.\n", 0o644)
    return written


def write_fast_path_export(model: str) -> None:
    """Load the pipeline once and write the lean path's export (dropin/lean.py), so that the
    first call of a wrapper already starts fast; a pipeline it cannot load is only a warning."""
    from ..dropin.lean import cache_folder, pipeline_folder
    from .lean_export import export_pipeline
    from ._util import PipelineError, load_pipeline

    folder = pipeline_folder(model)
    if folder is None:
        return
    notes: List[str] = []
    try:
        export_pipeline(load_pipeline(model), folder, notes.append)
    except PipelineError as err:
        msg.warn(f"no fast-path export: {err}")
        return
    for note in notes:
        (msg.info if note.startswith("wrote") else msg.warn)(note)
    if not any(note.startswith("wrote") for note in notes) and (cache_folder(folder) / "index.json").is_file():
        msg.info(f"the fast-path export in {cache_folder(folder)} is current")


def _write(path: Path, text: str, mode: int) -> Path:
    """Write a file through a renamed temporary one and give it `mode`."""
    with atomic_path(path) as partial:
        partial.write_text(text, encoding="utf8")
    os.chmod(path, mode)
    return path


def trust_problems(directory: Path) -> List[str]:
    """Why NLTK would refuse to run executables in `directory`: directories from / down to it
    (or the directory itself) that are group/world-writable or owned by another user."""
    if os.name != "posix":
        return []
    problems = []
    me = os.geteuid()
    current = Path(os.path.abspath(directory))
    for folder in [*reversed(current.parents), current]:
        try:
            st = os.stat(folder)
        except OSError:
            continue
        if st.st_uid not in (me, 0):
            problems.append(f"{folder} is owned by another user")
        elif st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            problems.append(f"{folder} is group/world-writable (mode {stat.S_IMODE(st.st_mode):04o})")
    return problems


@app.command("make-senna-dir")
def make_senna_dir_cli(
    directory: Path = typer.Argument(..., help="Directory to write (created if missing)."),
    model: Optional[str] = typer.Option(
        None, "--model", "-m", help=f"Pipeline package name or folder (default: {DEFAULT_MODEL})."
    ),
    force: bool = typer.Option(
        False, "--force", help="Overwrite the executables of a directory make-senna-dir did not write."
    ),
    export: bool = typer.Option(
        True, "--export/--no-export", help="Also write the drop-in's fast-path export of MODEL now (else its first run does)."
    ),
) -> None:
    """Write DIR as a SENNA installation that runs MODEL, for SENNA wrappers such as NLTK's.

    DIR gets the executables senna, senna-linux64, senna-linux32 and senna-osx, each running
    `python -m spacy_senna tag --model MODEL` with the options it is given.
    """
    try:
        resolved = resolve_model(model)
    except ValueError as err:
        fail(str(err))
    try:
        make_senna_dir(directory, resolved, force=force)
    except NotOurDirectory as err:
        fail(str(err))
    except OSError as err:
        fail(f"cannot write {directory}: {one_line(err)}")
    msg.good(f"Wrote a SENNA-compatible directory for {resolved} to {os.path.abspath(directory)}")
    if export:
        write_fast_path_export(resolved)
    for problem in trust_problems(directory):
        msg.warn(f"NLTK will refuse to run it: {problem} (move DIR somewhere private, not /tmp)")
