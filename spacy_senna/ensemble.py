"""Ensembles of SENNA taggers: a component that averages its tag scores with those of the
same-named components of other trained pipelines (its *members*), then decodes the mean.

With the sentence-level likelihood, the members' transition and start scores are averaged
too, so Viterbi finds the path with the best mean score over the ensemble. An ensemble is a
teacher (`label-silver --ensemble`) or a measurement (`evaluate --ensemble`): it costs one
network pass per member, so it is not what a shipped pipeline runs.
"""
from typing import List, Sequence, Tuple

import numpy
from spacy.language import Language
from spacy.pipeline.tok2vec import Tok2VecListener
from thinc.api import Model
from thinc.types import Floats2d, Ints1d

from .decoding import best_paths
from .layers import distinct_window


def mean_scores(models: Sequence[Model], sentences: list) -> List[Floats2d]:
    """Each sentence's (n, tags) scores, averaged over the models (the first model's alone
    when there is one)."""
    scores = distinct_window.predict(models[0], sentences)
    if len(models) == 1:
        return scores
    totals = [models[0].ops.to_numpy(s).astype("float32") for s in scores]
    for model in models[1:]:
        for total, more in zip(totals, distinct_window.predict(model, sentences)):
            total += model.ops.to_numpy(more)
    return [models[0].ops.asarray2f(total / len(models)) for total in totals]


def mean_transitions(models: Sequence[Model]) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """The SLL layers' transition and start scores, averaged over the models."""
    slls = [model.get_ref("sll") for model in models]
    transitions = sum(sll.ops.to_numpy(sll.get_param("transitions")) for sll in slls) / len(slls)
    start = sum(sll.ops.to_numpy(sll.get_param("start")) for sll in slls) / len(slls)
    return transitions, start


def decode_mean(models: Sequence[Model], scores: List[Floats2d]) -> List[Ints1d]:
    """The best tag ids of each sequence under the models' mean SLL (they all have one)."""
    if not scores:
        return []
    transitions, start = mean_transitions(models)
    sll = models[0].get_ref("sll")
    return best_paths([sll.ops.to_numpy(s) for s in scores], transitions, start, sll.attrs["iobes_labels"])


def join_ensemble(nlp: Language, members: Sequence[Tuple[str, Language]]) -> List[str]:
    """Make each tagger, chunker or NER component of `nlp` that every member pipeline also
    has (by name) average its scores with theirs; returns the joined names. `members` are
    (name for errors, pipeline). A ValueError naming the member when none is shared, or
    when a shared component has other labels, another kind of output, or listens to a
    shared tok2vec (save it alone first: scripts/standalone_component.py)."""
    joined = []
    for name, pipe in nlp.pipeline:
        if not getattr(pipe, "can_ensemble", False):
            continue
        if not all(name in member.pipe_names for _, member in members):
            continue
        pipe.ensemble = [_member_model(pipe, name, label, member) for label, member in members]
        joined.append(name)
    if not joined:
        raise ValueError(
            f"no tagger, chunker or NER component is in the pipeline and in every --ensemble "
            f"member (the pipeline's components: {nlp.pipe_names})"
        )
    return joined


def _member_model(pipe, name: str, label: str, member: Language) -> Model:
    """The member's `name` component's model, checked against the pipeline's component."""
    other = member.get_pipe(name)
    if not getattr(other, "can_ensemble", False):
        raise ValueError(f"{label}: its {name!r} is a {type(other).__name__}, not a tagger, chunker or NER component")
    if tuple(other.labels) != tuple(pipe.labels):
        raise ValueError(f"{label}: its {name!r} has other labels than the pipeline's ({len(other.labels)} against {len(pipe.labels)})")
    if other.model.has_ref("sll") != pipe.model.has_ref("sll"):
        raise ValueError(f"{label}: its {name!r} and the pipeline's do not both decode with the sentence-level likelihood")
    if any(isinstance(node, Tok2VecListener) for node in other.model.walk()):
        raise ValueError(
            f"{label}: its {name!r} listens to a shared tok2vec; save it alone first "
            f"(python scripts/standalone_component.py {label} {name} OUTPUT)"
        )
    return other.model
