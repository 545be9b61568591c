"""The `senna` console script and `python -m spacy_senna tag`: SENNA's options, stdin to stdout.

Runs the lean path (lean.py: numpy and the compiled kernels, no spaCy) when the options and
the pipeline's export allow it, else the spaCy path (cli/tag.py), which is only imported
then. Both tag the same batches of lines and print the same bytes.
"""
import os
import sys
import time
from typing import IO, List, Optional, Sequence

from . import lean
from .args import USAGE, TagError, TagUsageError, fail_line, parse_args
from .io import read_line_batches


def main(
    argv: Optional[Sequence[str]] = None,
    stdin: Optional[IO[bytes]] = None,
    stdout: Optional[IO[bytes]] = None,
    stderr: Optional[IO[str]] = None,
) -> int:
    """Run the SENNA-compatible tagger; returns the exit code (0, or 1 after one error line).

    With no arguments it reads sys.argv, stdin and stdout and exits: the `senna` console script.
    """
    as_script = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    stdin = sys.stdin.buffer if stdin is None else stdin
    stdout = sys.stdout.buffer if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    code = _run(argv, stdin, stdout, stderr)
    if as_script:
        sys.exit(code)
    return code


def tag_stream(run, stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """Tag stdin to stdout batch by batch (`run.tag_batch`), flushing after each batch."""
    for lines in read_line_batches(stdin, run.opts.batch_size):
        text = run.tag_batch(lines)
        if text:
            stdout.write(text.encode("utf-8", "surrogateescape"))
            stdout.flush()


def _run(argv: List[str], stdin: IO[bytes], stdout: IO[bytes], stderr: IO[str]) -> int:
    def log(message: str) -> None:
        if verbose:
            print(f"[senna] {message}", file=stderr, flush=True)

    verbose = False
    run = None
    try:
        opts = parse_args(argv)
        verbose = opts.verbose
        if opts.help:
            stdout.write(USAGE.encode("utf-8"))
            stdout.flush()
            return 0
        if opts.path is not None:
            log(f"-path {opts.path} ignored: spacy-senna needs no SENNA data directory")
        start = time.perf_counter()
        try:
            run = lean.load_run(opts, log)
        except lean.ExportError as err:  # said whatever -verbose: it is never used
            print(f"[senna] {err}: not used; the spaCy path runs and rewrites it", file=stderr, flush=True)
        if run is not None:
            log(f"loaded the fast-path export of {opts.model or lean.DEFAULT_MODEL} in {time.perf_counter() - start:.2f}s")
        else:
            from ..cli.tag import load_spacy_run

            run = load_spacy_run(opts, log, export=lean.why_not(opts) is None)
        start = time.perf_counter()
        tag_stream(run, stdin, stdout)
        seconds = time.perf_counter() - start
        log(
            f"tagged {run.n_sentences} sentences, {run.n_tokens} tokens in {seconds:.2f}s"
            + (f" ({run.n_tokens / seconds:,.0f} tokens/s)" if seconds > 0 else "")
        )
        return 0
    except (TagUsageError, TagError) as err:
        print(fail_line(str(err)), file=stderr, flush=True)
        return 1
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        usrvbs = getattr(run, "usrvbs", None)
        if usrvbs is not None:
            usrvbs.close()


def _silence_stdout() -> None:
    """After the reader went away: point stdout at devnull so the exit flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
