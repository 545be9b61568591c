"""The typer app every command module registers on, and helpers shared by the commands."""
from enum import Enum
from typing import NoReturn

import typer
from wasabi import MESSAGES, color, msg
from wasabi.util import locale_escape

from ..readers import FORMATS

app = typer.Typer(
    name="spacy-senna",
    help="SENNA taggers (POS, chunking, NER) for spaCy: convert corpora, predict, evaluate, bench.",
    no_args_is_help=True,
    add_completion=False,
)


class CorpusFormat(str, Enum):
    """The corpus formats of readers.FORMATS, as a typer choice."""

    wsj = "wsj"
    conll2000 = "conll2000"
    conll2003 = "conll2003"
    conll2005 = "conll2005"


assert tuple(f.value for f in CorpusFormat) == FORMATS

FORMAT_HELP = (
    "Corpus format: wsj (WORD<TAB>TAG), conll2000 (WORD POS CHUNK), "
    "conll2003 (WORD POS CHUNK NE) or conll2005 (WORD TARGET PROPS...)."
)


def fail(message: str) -> NoReturn:
    """Print one error line in msg.fail's style (never wrapped) to stderr and exit with code 1."""
    typer.echo(fail_line(message), err=True)
    raise typer.Exit(code=1)


def fail_line(message: str) -> str:
    """The message on one line, with wasabi's fail icon and colour when msg prints pretty.

    msg.fail itself wraps at 80 columns, which would split file names and line numbers.
    """
    line = " ".join(message.split())
    if msg.pretty:
        line = locale_escape(f"{msg.icons[MESSAGES.FAIL]} {line}")
        if msg.show_color:
            line = color(line, fg=msg.colors[MESSAGES.FAIL])
    return line
