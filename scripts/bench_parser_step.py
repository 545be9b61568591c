"""CPU time of a senna_parser training step, with the numpy SLL and with the compiled one.

Loads a trained parser pipeline twice (its senna_tagger and senna_parser), tags a fixed sample
of training trees with the tagger once, then runs the same batches through `nlp.update` of
both copies in turn, one with SPACY_SENNA_KERNELS=0 (numpy) and one with the default, so that
both see the same load on a shared machine. Prints CPU seconds per step (time.process_time)
and the part of it spent in `sll_loss` (timed apart, on the step's scores), and their ratios.

python scripts/bench_parser_step.py /work/main/training/parser/model-best \
    /work/main/corpus/parse/wsj_trees_02-20.spacy --n-docs 300 --steps 6
"""
import os
import time
from pathlib import Path
from typing import Dict, List

import numpy
import spacy
import typer
from spacy.tokens import DocBin
from spacy.training import Example
from wasabi import msg

from spacy_senna import kernels
from spacy_senna.util import words_only
from spacy_senna.layers import sll_loss

MODES = {"numpy": "0", "compiled": "1"}


def sample_examples(nlp, path: Path, n_docs: int) -> List[Example]:
    """The first n_docs trees of a DocBin, their predicted docs tagged by the pipeline's tagger."""
    references = list(DocBin().from_disk(path).get_docs(nlp.vocab))[:n_docs]
    predicted = [words_only(ref, nlp.vocab) for ref in references]
    predicted = list(nlp.get_pipe("senna_tagger").pipe(predicted))
    return [Example(p, r) for p, r in zip(predicted, references)]


def batches(examples: List[Example], words: int) -> List[List[Example]]:
    batcher = spacy.registry.batchers.get("spacy.batch_by_words.v1")(size=words, tolerance=0.2, discard_oversize=False)
    return list(batcher(examples))


def sll_seconds(nlp, batch: List[Example]) -> float:
    """CPU seconds of sll_loss on this batch's gold levels (the transition gradients it adds are dropped)."""
    parser = nlp.get_pipe("senna_parser")
    levels, gold = parser.teacher_batch(batch)
    scores = parser.model.predict(levels)
    n_tags = len(parser.tag_names)
    allowed = [numpy.eye(n_tags, dtype="bool")[tags] for tags in gold]
    sll = parser.model.get_ref("sll")
    saved = {name: sll.get_grad(name).copy() for name in ("transitions", "start") if sll.has_grad(name)}
    began = time.process_time()
    sll_loss(sll, scores, allowed)
    seconds = time.process_time() - began
    for name in ("transitions", "start"):
        if name in saved:
            sll.set_grad(name, saved[name])
    return seconds


def main(
    pipeline: Path = typer.Argument(..., help="a trained pipeline with senna_tagger and senna_parser"),
    train: Path = typer.Argument(..., help="a DocBin of trees (wsj_trees_02-20.spacy)"),
    n_docs: int = typer.Option(300, help="trees in the sample"),
    steps: int = typer.Option(6, help="update steps per mode"),
    batch_words: int = typer.Option(1000, help="words per batch, as configs/parser.cfg"),
):
    pipes = {mode: spacy.load(pipeline) for mode in MODES}
    examples = sample_examples(pipes["numpy"], train, n_docs)
    sample = batches(examples, batch_words)
    sample = (sample * (steps // max(1, len(sample)) + 1))[:steps]
    optimizers = {mode: nlp.resume_training() for mode, nlp in pipes.items()}
    step_seconds: Dict[str, List[float]] = {mode: [] for mode in MODES}
    sll_part: Dict[str, List[float]] = {mode: [] for mode in MODES}
    n_tags = len(pipes["numpy"].get_pipe("senna_parser").tag_names)
    msg.info(f"{len(examples)} trees, {steps} steps of ~{batch_words} words, {n_tags} tags, kernels built: {kernels.compiled() is not None}")
    previous = os.environ.get(kernels.ENV_VAR)
    try:
        for batch in sample:
            for mode, flag in MODES.items():
                os.environ[kernels.ENV_VAR] = flag
                nlp = pipes[mode]
                began = time.process_time()
                nlp.update(batch, sgd=optimizers[mode], exclude=["senna_tagger"])
                step_seconds[mode].append(time.process_time() - began)
                sll_part[mode].append(sll_seconds(nlp, batch))
    finally:
        if previous is None:
            os.environ.pop(kernels.ENV_VAR, None)
        else:
            os.environ[kernels.ENV_VAR] = previous
    rows = []
    for mode in MODES:
        step, sll = numpy.mean(step_seconds[mode]), numpy.mean(sll_part[mode])
        rows.append((mode, f"{step:.3f}", f"{sll:.3f}", f"{sll / step:.0%}", f"{step - sll:.3f}"))
    msg.table(rows, header=("SLL", "CPU s/step", "sll_loss s", "share", "rest s"), divider=True)
    ratio_step = numpy.mean(step_seconds["numpy"]) / numpy.mean(step_seconds["compiled"])
    ratio_sll = numpy.mean(sll_part["numpy"]) / numpy.mean(sll_part["compiled"])
    msg.good(f"numpy / compiled: step {ratio_step:.2f}x, sll_loss {ratio_sll:.2f}x")


if __name__ == "__main__":
    typer.run(main)
