"""`tag`: a drop-in replacement for the SENNA binary, on a spaCy pipeline.

Reads one sentence per line on stdin and writes SENNA's output on stdout: one line per
token (the token right-aligned in 15 characters, then a tab-separated column per task),
and an empty line after each sentence. The options are spelled as the SENNA binary spells
them, with a single dash, so existing SENNA wrappers work unchanged (dropin/args.py lists
them; dropin/io.py reads the input and writes the lines). Run `-h` for the options.

stdin is read as it arrives: a batch holds the lines already available (up to --batch-size),
so a program that writes one line and waits for its output is answered at once, while a
large file is tagged in full batches with constant memory. Output is flushed per batch.

The same runs as the `senna` console script and as `python -m spacy_senna tag`: dropin/main.py
reads the options and the input, and runs the lean path (dropin/lean.py, no spaCy) when it
can; this module is the spaCy path, which can do everything.
"""
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

import typer

from ..dropin.args import TagError, TagOptions
from ..dropin.lean import pipeline_folder
from ..dropin.main import main
from ..tasks import POS, SRL, TASKS, task_of
from ._util import PipelineError, app, default_model, load_pipeline
from .lean_export import export_pipeline
from ..dropin.io import BLANK, PredicateFile, Sentence, clean_text, sentence_lines
from ..dropin.io import spacy_tokens, split_user_tokens, token_columns
from .senna_io import task_columns
from .tag_load import load_plan


# -- the tagger ----------------------------------------------------------------------------
class SennaTagRun:
    """A loaded pipeline set up for the asked tasks; `tag_batch` turns lines into output."""

    def __init__(self, nlp, opts: TagOptions, log: Callable[[str], None]) -> None:
        self.nlp = nlp
        self.opts = opts
        self.log = log
        self.available = task_providers(nlp)
        available = self.available
        if opts.tasks:
            missing = [flag for flag in opts.tasks if flag not in available]
            if missing:
                has = " ".join(f"-{t.flag}" for t in TASKS if t.flag in available) or "none"
                raise TagError(
                    f"the model has no component for {' '.join('-' + t for t in missing)} "
                    f"(it can do: {has})"
                )
            self.tasks = [task for task in TASKS if task.flag in opts.tasks]
        else:
            self.tasks = [task for task in TASKS if task.flag in available]
            if not self.tasks:
                names = ", ".join(task.title for task in TASKS)
                raise TagError(f"the model has none of the SENNA components ({names})")
        # Each task's annotation as its component writes it (a chunker's own spans key...).
        self.annotations = [task.annotation_of(nlp.get_pipe(available[task.flag])) for task in self.tasks]
        # Run the pipeline up to the last component an asked task needs.
        needed = {available[task.flag] for task in self.tasks}
        last = max(nlp.pipe_names.index(name) for name in needed)
        self.components = [(n, p) for n, p in nlp.pipeline[: last + 1]]
        self.srl_name = available.get(SRL.flag) if SRL in self.tasks else None
        self.predicate_source = self._predicate_source()
        if self.srl_name and self.predicate_source:
            nlp.get_pipe(self.srl_name).predicates = "given"
        self.usrvbs = (
            PredicateFile(opts.usrvbs) if self.predicate_source == "usrvbs" else None
        )
        self.n_sentences = self.n_tokens = 0

    def _predicate_source(self) -> Optional[str]:
        """Where the SRL predicates come from: 'usrvbs', 'posvbs', or None (the model's own)."""
        opts = self.opts
        if not self.srl_name:
            if opts.posvbs or opts.usrvbs:
                self.log("-posvbs/-usrvbs ignored: no SRL output asked")
            return None
        if opts.usrvbs is not None:
            if opts.posvbs:
                self.log("-posvbs ignored: -usrvbs gives the predicates")
            return "usrvbs"
        mode = getattr(self.nlp.get_pipe(self.srl_name), "predicates", None)
        if opts.posvbs or mode == "given":
            if POS.flag not in self.available:
                need = "-posvbs needs" if opts.posvbs else "the SRL component takes given predicates: it needs"
                raise TagError(f"{need} a POS tagger in the model (or use -usrvbs FILE)")
            tagger = self.nlp.pipe_names.index(self.available[POS.flag])
            if tagger > self.nlp.pipe_names.index(self.srl_name):
                raise TagError("-posvbs needs the POS tagger to run before the SRL component")
            if not opts.posvbs:
                self.log("the model's SRL component takes given predicates: using POS verbs (-posvbs)")
            return "posvbs"
        return None

    def sentences(self, lines: Sequence[str]) -> List[Sentence]:
        """The lines with tokens, tokenised (empty lines give nothing)."""
        found = []
        for line in lines:
            if not line.strip(BLANK):
                continue
            sentence = split_user_tokens(line) if self.opts.usrtokens else spacy_tokens(line, self.nlp.make_doc)
            if not sentence.words:
                continue
            if self.usrvbs is not None:
                marks, start = self.usrvbs.next_block()
                if len(marks) != len(sentence.words):
                    raise TagError(
                        f"-usrvbs file {self.usrvbs.path}, line {start}: {len(marks)} lines for a "
                        f"sentence of {len(sentence.words)} tokens ({' '.join(sentence.words)[:60]!r})"
                        + ("" if self.opts.usrtokens else "; use -usrtokens to keep your tokens")
                    )
                sentence.predicates = [i for i, mark in enumerate(marks) if mark]
            found.append(sentence)
        return found

    def run(self, sentences: List[Sentence]) -> list:
        """The annotated docs of the sentences."""
        from spacy.tokens import Doc

        docs = [
            Doc(self.nlp.vocab, words=[clean_text(w) for w in s.words], spaces=s.spaces)
            for s in sentences
        ]
        for name, proc in self.components:
            if name == self.srl_name and self.predicate_source:
                for doc, sentence in zip(docs, sentences):
                    for index in self._predicates(doc, sentence):
                        doc[index]._.srl_predicate = True
            if hasattr(proc, "pipe"):
                docs = list(proc.pipe(docs, batch_size=max(1, len(docs))))
            else:
                docs = [proc(doc) for doc in docs]
        return docs

    def _predicates(self, doc, sentence: Sentence) -> List[int]:
        if self.predicate_source == "usrvbs":
            return list(sentence.predicates or [])
        if self.predicate_source == "posvbs":
            return [t.i for t in doc if t.tag_.startswith("V")]
        return []

    def tag_batch(self, lines: Sequence[str]) -> str:
        """SENNA's output for a batch of input lines."""
        sentences = self.sentences(lines)
        if not sentences:
            return ""
        out: List[str] = []
        for doc, sentence in zip(self.run(sentences), sentences):
            out.extend(self.format(doc, sentence))
            out.append("")
            self.n_sentences += 1
            self.n_tokens += len(doc)
        return "\n".join(out) + "\n"

    def format(self, doc, sentence: Sentence) -> List[str]:
        """One output line per token of a tagged sentence."""
        columns = token_columns(sentence, self.opts.notokentags, self.opts.offsettags)
        predicates = self._output_predicates(doc, sentence) if self.srl_name else []
        for annotation in self.annotations:
            columns.extend(task_columns(annotation, doc, sentence.words, self.opts.scheme, predicates))
        return sentence_lines(columns, len(doc))

    def _output_predicates(self, doc, sentence: Sentence) -> List[int]:
        """The predicates SRL columns are written for: the given ones, else those the model found."""
        if self.predicate_source:
            return sorted(set(self._predicates(doc, sentence)))
        return SRL.annotation.predicates(doc)


def task_providers(nlp) -> Dict[str, str]:
    """For each task flag, the first enabled component that does the task and writes its main
    annotation (a tagger of a second tag set in `token._` does not count)."""
    found: Dict[str, str] = {}
    for name, proc in nlp.pipeline:
        meta = nlp.get_pipe_meta(name)
        task = task_of(meta.factory, meta.assigns)
        if task is not None and task.flag not in found and task.annotation_of(proc).primary:
            found[task.flag] = name
    return found


def load_spacy_run(opts: TagOptions, log: Callable[[str], None], export: bool = False) -> SennaTagRun:
    """The spaCy path's run for the options: the pipeline loaded with what the flags need
    (tag_load.load_plan); with `export`, the lean path's export of it is written too
    (cli/lean_export.py). A pipeline that cannot be loaded is a TagError."""
    try:
        model = opts.model or default_model()
        start = time.perf_counter()
        exclude, overrides = load_plan(model, opts.tasks, user_tokens=opts.usrtokens, posvbs=opts.posvbs)
        nlp = load_pipeline(model, exclude=exclude, config=overrides)
    except PipelineError as err:
        raise TagError(str(err)) from None
    log(f"loaded {model} ({', '.join(nlp.pipe_names) or 'no components'}) in {time.perf_counter() - start:.1f}s")
    run = SennaTagRun(nlp, opts, log)
    log(
        f"tasks: {' '.join('-' + t.flag for t in run.tasks)}; tags: {opts.scheme}; "
        f"tokens: {'whitespace (-usrtokens)' if opts.usrtokens else 'spaCy tokenizer'}"
        + (f"; SRL predicates: -{run.predicate_source}" if run.predicate_source else "")
    )
    folder = pipeline_folder(model) if export else None
    if folder is not None:
        export_pipeline(nlp, folder, log)
    return run


@app.command(
    "tag",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def tag_cli(ctx: typer.Context) -> None:
    """SENNA-compatible tagging: one sentence per line on stdin, SENNA's output on stdout (-h lists the options).

    Options as the SENNA binary spells them: -pos -chk -ner -srl -iobtags -brackettags
    -usrtokens -offsettags -notokentags -posvbs -usrvbs FILE -path DIR -verbose, plus
    --model NAME_OR_PATH.
    """
    code = main(ctx.args, sys.stdin.buffer, sys.stdout.buffer, sys.stderr)
    raise typer.Exit(code)


__all__ = ["main", "load_spacy_run", "SennaTagRun"]
