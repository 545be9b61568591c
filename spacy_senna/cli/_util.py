"""The typer app every command module registers on, and helpers shared by the commands."""
import importlib.util
import os
import shutil
import stat
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any, Dict, Iterator, List, NoReturn, Optional, Sequence, TextIO

import spacy
import typer
from spacy.language import Language

from .. import __version__
from ..dropin.args import DEFAULT_BATCH_SIZE, DEFAULT_MODEL, fail_line  # noqa: F401
from ..ensemble import join_ensemble
from ..readers import CORPUS_FORMATS
from ..tasks import BY_FORMAT
from ..util import one_line  # noqa: F401 (the CLI's modules import it from here)


app = typer.Typer(
    name="spacy-senna",
    help="SENNA taggers (POS, chunking, NER) for spaCy: convert corpora, predict, evaluate, bench.",
    no_args_is_help=True,
    add_completion=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"spacy-senna {__version__}")
        raise typer.Exit()


@app.callback()
def _main_options(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """SENNA taggers (POS, chunking, NER) for spaCy: convert corpora, predict, evaluate, bench."""


class CorpusFormat(str, Enum):
    """The corpus formats of readers.CORPUS_FORMATS, as a typer choice."""

    wsj = "wsj"
    conll2000 = "conll2000"
    conll2003 = "conll2003"
    conll2005 = "conll2005"
    ptb = "ptb"


assert tuple(f.value for f in CorpusFormat) == CORPUS_FORMATS == tuple(BY_FORMAT)

FORMAT_HELP = (
    "Corpus format: wsj (WORD<TAB>TAG), conll2000 (WORD POS CHUNK), "
    "conll2003 (WORD POS CHUNK NE), conll2005 (WORD TARGET PROPS...) or "
    "ptb (bracketed trees: a .mrg file, a folder or a .tar.gz of them)."
)


def fail(message: str) -> NoReturn:
    """Print one error line in msg.fail's style (never wrapped) to stderr and exit with code 1."""
    typer.echo(fail_line(message), err=True)
    raise typer.Exit(code=1)


# -- the task each corpus format scores, and loading a pipeline -----------------------------


class PipelineError(ValueError):
    """A pipeline that cannot be loaded, or lacks what a command needs: one line for fail()."""


def task_components(nlp: Language, fmt: str) -> List[str]:
    """The components of `nlp` whose factory declares a score of `fmt`'s task."""
    prefixes = BY_FORMAT[fmt].score_prefixes
    return [
        name
        for name in nlp.pipe_names
        if any(key.startswith(prefixes) for key in nlp.get_pipe_meta(name).default_score_weights)
    ]


def require_task(nlp: Language, model: str, fmt: str) -> None:
    """A PipelineError when no component of `nlp` does `fmt`'s task."""
    if not task_components(nlp, fmt):
        task = BY_FORMAT[fmt]
        raise PipelineError(
            f"{model} has no {task.title} component, which --format {fmt} needs "
            f"(a {task.factory}); its pipeline: {', '.join(nlp.pipe_names) or 'empty'}"
        )


def is_package(name: str) -> bool:
    """Whether `name` is an installed package (a pipeline package, for a model name)."""
    if not name.isidentifier():
        return False
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def default_model() -> str:
    """DEFAULT_MODEL when it is installed, else a PipelineError saying to pass --model."""
    if not is_package(DEFAULT_MODEL):
        raise PipelineError(
            f"no model: pass --model NAME_OR_PATH (the default package {DEFAULT_MODEL} is not installed)"
        )
    return DEFAULT_MODEL


def load_pipeline(
    model: str, gpu_id: int = -1, exclude: Sequence[str] = (), config: Optional[Dict[str, Any]] = None
) -> Language:
    """spacy.load the model (on GPU `gpu_id` when >= 0) without the `exclude` components (or
    serialization fields: "tokenizer", "vocab"), with `config` overrides; any failure (missing,
    truncated or garbage files, unknown factory...) is a PipelineError whose one line names the
    model and the cause."""
    if gpu_id >= 0:
        try:
            spacy.require_gpu(gpu_id)
        except Exception as err:  # no cupy, no such device...
            raise PipelineError(f"cannot use GPU {gpu_id}: {one_line(err)}") from None
    try:
        _check_excluded(model, exclude)
        return spacy.load(model, exclude=list(exclude), config=config or {})
    except PipelineError:
        raise
    except Exception as err:  # spacy.load raises OSError, ValueError, config and msgpack errors...
        raise PipelineError(f"cannot load model {model}: {one_line(err)}") from None


ENSEMBLE_HELP = (
    "Another trained pipeline (repeat for more): its taggers, chunkers and NER components "
    "average their scores with the same-named components of MODEL (an ensemble)."
)


def join_members(nlp: Language, members: Sequence[str], gpu_id: int = -1) -> List[str]:
    """Load the `members` pipelines and join them to `nlp` as an ensemble (ensemble.py);
    returns the joined components' names; a PipelineError naming the member and the cause."""
    if not members:
        return []
    loaded = [(member, load_pipeline(member, gpu_id)) for member in members]
    try:
        joined = join_ensemble(nlp, loaded)
    except ValueError as err:
        raise PipelineError(str(err)) from None
    typer.echo(f"Ensemble of {1 + len(members)} pipelines for {', '.join(joined)}", err=True)
    return joined


def _check_excluded(model: str, exclude: Sequence[str]) -> None:
    """A PipelineError when a name to exclude is not a component of the pipeline folder `model`."""
    config_path = Path(model) / "config.cfg"
    if not exclude or not config_path.is_file():
        return
    names = spacy.util.load_config(config_path)["nlp"]["pipeline"]
    unknown = [name for name in exclude if name not in names and name not in ("tokenizer", "vocab")]
    if unknown:
        raise PipelineError(f"cannot exclude {', '.join(unknown)}: not in {model}'s pipeline {names}")


# -- writing output files -----------------------------------------------------------------

STDOUT = "-"


def is_stdout(path: Path) -> bool:
    """Whether an output path is standard output: `-`, /dev/stdout or whatever fd 1 is."""
    if str(path) == STDOUT:
        return True
    try:
        here, out = os.stat(path), os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no such file, or stdout without an fd
        return False
    return (here.st_dev, here.st_ino) == (out.st_dev, out.st_ino)


def writes_through(path: Path) -> bool:
    """Whether `path` is written in place rather than through a renamed temporary file: a
    FIFO, a device, a socket, anything under /dev or /proc (/dev/stdout...), or a link to one."""
    if Path(os.path.abspath(path)).parts[1:2] in (("dev",), ("proc",)):
        return True
    try:
        return not stat.S_ISREG(path.stat().st_mode)
    except FileNotFoundError:
        return False  # a new file (or a dangling link, whose target is made)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """The path to write `path`'s new content to: a temporary file next to it (next to the
    link's target for a symlink), renamed over it when the block succeeds and removed when it
    fails, so `path` is either its old or its complete new self. Parent folders are made.
    A non-regular `path` (see writes_through) is yielded itself and written in place."""
    if writes_through(path):
        yield path
        return
    target = path.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial{os.getpid()}")
    try:
        yield partial
        if target.exists():
            shutil.copymode(target, partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def open_output(path: Path) -> Iterator[TextIO]:
    """A UTF-8 text file to write `path` with (see atomic_path); `-` is standard output."""
    if is_stdout(path):
        yield sys.stdout
        sys.stdout.flush()
        return
    with atomic_path(path) as partial, partial.open("w", encoding="utf8") as file:
        yield file
