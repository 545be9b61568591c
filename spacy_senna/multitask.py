"""Multi-task training: a corpus that interleaves the task corpora, and shared vocabularies.

SENNA's multi-task set-up shares the lookup tables between tasks while each task keeps its
own layers. In spaCy terms: a `tok2vec` component built on `spacy_senna.SennaEmbed.v1` with
the SENNA components listening to it; `spacy_senna.MixtureCorpus.v1` feeds one `spacy train`
run examples of every task, each carrying only its own task's annotation (the others count
as missing, not as negatives).
"""
import random
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional

from spacy.language import Language
from spacy.tokens import Doc, SpanGroup
from spacy.training import Example
from spacy.training.initialize import load_vectors_into_model
from spacy.util import registry, resolve_dot_names

from .layers.embed import pipeline_embed_layers, prepare_tables
from .tasks import BY_COMPONENT, SRL
from .util import FastCorpus, words_only

TASKS = tuple(BY_COMPONENT)  # the MixtureCorpus arguments: tagger, chunker, ner, srl


def task_reference(doc: Doc, task: str) -> Doc:
    """A copy of a gold doc holding only one task's annotation (`task`: one of TASKS)."""
    if task not in BY_COMPONENT:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    out = words_only(doc)
    BY_COMPONENT[task].annotation.copy(doc, out)
    return out


class MixtureCorpus:
    """Examples from several task corpora (.spacy files), interleaved by sampling weights."""

    def __init__(
        self,
        paths: Dict[str, Path],
        weights: Optional[Dict[str, float]] = None,
        shuffle: bool = True,
        seed: int = 0,
        limit: int = 0,
        given_predicates: bool = True,
    ) -> None:
        unknown = set(paths) - set(TASKS)
        if unknown:
            raise ValueError(f"MixtureCorpus: unknown task(s) {sorted(unknown)}; expected {TASKS}")
        self.paths = {task: Path(path) for task, path in paths.items() if path}
        for task, path in self.paths.items():
            if not path.exists():
                raise FileNotFoundError(f"MixtureCorpus: {task} corpus not found: {path}")
        self.weights = weights or {}
        self.shuffle = shuffle
        self.seed = seed
        self.limit = limit
        self.given_predicates = given_predicates
        self._pools: Optional[tuple] = None
        self._calls = 0

    def task_examples(self, nlp: Language, task: str) -> List[Example]:
        examples = []
        for example in FastCorpus(self.paths[task], gold_preproc=True, limit=self.limit)(nlp):
            reference = task_reference(example.reference, task)
            predicted = words_only(reference, nlp.vocab)
            if BY_COMPONENT[task] is SRL and self.given_predicates:  # as ConllCorpus: the gold predicates, no arguments
                for key, group in reference.spans.items():
                    predicted.spans[key] = SpanGroup(predicted, name=key, attrs=dict(group.attrs))
            examples.append(Example(predicted, reference))
        return examples

    def __call__(self, nlp: Language) -> Iterator[Example]:
        # The corpora are read once (reading span groups from a DocBin is slow) and reused by
        # every pass: vocabulary building, each component's initialisation, each epoch.
        if self._pools is None or self._pools[0] is not nlp.vocab:
            self._pools = (nlp.vocab, {task: self.task_examples(nlp, task) for task in self.paths})
        pools = self._pools[1]
        self._calls += 1
        rng = random.Random(self.seed + self._calls)
        # An epoch has as many examples as all corpora together; each task's share follows its
        # weight (default: its size, i.e. every example once), cycling through its corpus.
        weights = {task: float(self.weights.get(task, len(pool))) for task, pool in pools.items()}
        total_weight = sum(weights.values()) or 1.0
        n_examples = sum(len(pool) for pool in pools.values())
        counts = {task: int(round(n_examples * weights[task] / total_weight)) for task in pools}
        schedule: List[Example] = []
        for task, pool in pools.items():
            order = list(pool)
            if self.shuffle:
                rng.shuffle(order)
            schedule.extend(order[i % len(order)] for i in range(counts[task]) if order)
        if self.shuffle:
            rng.shuffle(schedule)
        yield from schedule


@registry.readers("spacy_senna.MixtureCorpus.v1")
def create_mixture_corpus(
    tagger: Optional[Path] = None,
    chunker: Optional[Path] = None,
    ner: Optional[Path] = None,
    srl: Optional[Path] = None,
    weights: Optional[Dict[str, float]] = None,
    shuffle: bool = True,
    seed: int = 0,
    limit: int = 0,
    given_predicates: bool = True,
) -> Callable[[Language], Iterable[Example]]:
    """Per-task .spacy corpora interleaved; relative weights default to the corpus sizes.

    `given_predicates`: SRL examples carry their gold predicates (empty `srl:<i>` groups) on
    the predicted docs, for scoring with `predicates = "given"`.
    """
    paths = {"tagger": tagger, "chunker": chunker, "ner": ner, "srl": srl}
    return MixtureCorpus({t: p for t, p in paths.items() if p}, weights, shuffle, seed, limit, given_predicates)


@registry.callbacks("spacy_senna.build_vocabularies.v1")
def create_build_vocabularies(corpus: str = "corpora.train") -> Callable[[Language], Language]:
    """`[initialize.before_init]` callback: size every SENNA lookup table in the pipeline
    (shared `tok2vec` included) from all the words of the training corpus, not just the
    sample of docs that component initialisation sees. Tables that start from pre-trained
    vectors need them now, before `nlp.initialize` would load them: `[initialize] vectors`
    is loaded here first."""

    def build_vocabularies(nlp: Language) -> Language:
        config = nlp.config.interpolate()
        vectors = config.get("initialize", {}).get("vectors")
        if vectors and nlp.vocab.vectors.shape[0] == 0:
            load_vectors_into_model(nlp, vectors)
        (train_corpus,) = resolve_dot_names(config, [corpus])
        docs = [eg.predicted for eg in train_corpus(nlp)]
        for layer in pipeline_embed_layers(nlp):
            prepare_tables(layer, docs, nlp.vocab)
        return nlp

    return build_vocabularies
