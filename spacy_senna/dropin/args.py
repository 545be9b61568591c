"""SENNA's command line: the options of the SENNA binary, spelled as it spells them.

    -pos -chk -ner -srl -psg
                            tasks to output (none given: every task the pipeline has, in
                            this order); one per entry of spacy_senna.tasks (its `flag`)
    -iobtags                IOB2 tags (B-NP, I-NP) instead of the default IOBES tags
    -brackettags            bracket tags: (NP*  *  *)  (NP*)
    -usrtokens              split the line on whitespace instead of using spaCy's tokenizer
    -offsettags             add a column with each token's character offsets in its line
    -notokentags            leave the token column out
    -posvbs                 SRL predicates: the tokens whose POS tag starts with V
    -usrvbs FILE            SRL predicates from FILE: one line per token, a blank line after
                            each sentence; a line other than '-' marks a predicate
    -path DIR               accepted for compatibility and ignored (no SENNA data is read)
    -verbose                notes on stderr
    --model NAME_OR_PATH    the spaCy pipeline (default: the installed package en_senna)
    --batch-size N          sentences per batch (default 128)

This module, like the rest of spacy_senna.dropin, imports neither spaCy nor Thinc.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

# The task flags, in SENNA's column order: the `flag` of each entry of spacy_senna.tasks.TASKS
# (which imports spaCy, so the drop-in's lean path cannot read them there; tasks.py checks
# that the two agree).
TASK_FLAGS = ("pos", "chk", "ner", "srl", "psg")
# The installed pipeline package that `senna`/`tag` and `make-senna-dir` use when no model is
# named: the `all` workflow's four-task pipeline.
DEFAULT_MODEL = "en_senna"
# Docs (sentences, lines) per nlp.pipe batch: the default of every command that tags.
DEFAULT_BATCH_SIZE = 128

SCHEMES = ("iobes", "iob2", "brackets")
_TASK_FLAGS = " ".join(f"-{flag}" for flag in TASK_FLAGS)

USAGE = f"""\
usage: senna [options] < input.txt > output.txt
       python -m spacy_senna tag [options] < input.txt > output.txt

SENNA-compatible tagging with a spaCy pipeline: one sentence per line on stdin,
one token per line on stdout, an empty line after each sentence.

options (as the SENNA binary spells them):
  {_TASK_FLAGS:<22} tasks to output (default: all the pipeline has)
  -iobtags               IOB2 tags instead of IOBES
  -brackettags           bracket tags instead of IOBES
  -usrtokens             tokens are separated by whitespace (no spaCy tokenizer)
  -offsettags            print character offsets of each token in its line
  -notokentags           do not print the tokens
  -posvbs                SRL predicates: tokens whose POS tag starts with V
  -usrvbs FILE           SRL predicates given in FILE (one line per token, '-' for
                         none, an empty line between sentences)
  -path DIR              accepted for compatibility, ignored (no SENNA data needed)
  -verbose               notes on stderr
  --model NAME_OR_PATH   spaCy pipeline (default: installed package {DEFAULT_MODEL})
  --batch-size N         sentences per batch (default {DEFAULT_BATCH_SIZE})
  -h, --help             show this help
"""


class TagUsageError(Exception):
    """Bad command line: reported on one line, exit code 1."""


class TagError(Exception):
    """Cannot tag (no model, missing task, unreadable input): one line, exit code 1."""


@dataclass
class TagOptions:
    """The parsed command line."""

    tasks: List[str] = field(default_factory=list)  # task flags; empty: every task the pipeline has
    scheme: str = "iobes"
    usrtokens: bool = False
    offsettags: bool = False
    notokentags: bool = False
    posvbs: bool = False
    usrvbs: Optional[str] = None
    path: Optional[str] = None
    verbose: bool = False
    model: Optional[str] = None
    batch_size: int = DEFAULT_BATCH_SIZE
    help: bool = False


_FLAGS = {
    "-usrtokens": "usrtokens",
    "-offsettags": "offsettags",
    "-notokentags": "notokentags",
    "-posvbs": "posvbs",
    "-verbose": "verbose",
}


def parse_args(argv: Sequence[str]) -> TagOptions:
    """Parse SENNA's single-dash options (plus --model and --batch-size)."""
    opts = TagOptions()
    args = list(argv)
    i = 0

    def value(name: str) -> str:
        nonlocal i
        if i + 1 >= len(args):
            raise TagUsageError(f"option {name} needs a value")
        i += 1
        return args[i]

    while i < len(args):
        arg = args[i]
        if arg[:1] == "-" and arg[1:] in TASK_FLAGS:
            if arg[1:] not in opts.tasks:
                opts.tasks.append(arg[1:])
        elif arg in _FLAGS:
            setattr(opts, _FLAGS[arg], True)
        elif arg == "-iobtags":
            opts.scheme = "iob2"
        elif arg == "-brackettags":
            opts.scheme = "brackets"
        elif arg == "-usrvbs":
            opts.usrvbs = value(arg)
        elif arg == "-path":
            opts.path = value(arg)
        elif arg in ("--model", "-model"):
            opts.model = value(arg)
        elif arg.startswith("--model="):
            opts.model = arg[len("--model="):]
        elif arg in ("--batch-size", "--batch-size=") or arg.startswith("--batch-size="):
            raw = arg.split("=", 1)[1] if "=" in arg else value(arg)
            try:
                opts.batch_size = int(raw)
            except ValueError:
                raise TagUsageError(f"--batch-size needs a positive integer, got {raw!r}") from None
            if opts.batch_size < 1:
                raise TagUsageError(f"--batch-size needs a positive integer, got {raw!r}")
        elif arg in ("-h", "-help", "--help"):
            opts.help = True
        elif arg.startswith("-"):
            raise TagUsageError(f"unknown option {arg!r} (run with -h for the options)")
        else:
            raise TagUsageError(f"unexpected argument {arg!r}: input is read from stdin (-h for help)")
        i += 1
    if opts.model is not None and not opts.model.strip():
        raise TagUsageError("--model needs a pipeline name or path")
    return opts


def fail_line(message: str) -> str:
    """The message on one line, with wasabi's fail icon and colour when msg prints pretty.

    msg.fail itself wraps at 80 columns, which would split file names and line numbers.
    """
    from wasabi import MESSAGES, color, msg
    from wasabi.util import locale_escape

    line = " ".join(message.split())
    if msg.pretty:
        line = locale_escape(f"{msg.icons[MESSAGES.FAIL]} {line}")
        if msg.show_color:
            line = color(line, fg=msg.colors[MESSAGES.FAIL])
    return line
