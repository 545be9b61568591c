"""The export that the `senna` drop-in's lean path reads (dropin/lean.py), written from a
loaded pipeline by the spaCy path: per window tagger, the arrays its network computes with
and the steps it takes, found by walking its Thinc model; and an index of which components
each window task needs (tag_load.needed_components, the spaCy path's own plan).

The SRL component (SentenceTagger.v1) is exported too: its word convolution's steps, the
sentence network's distance embeddings and slot weights, the steps after the max over time, and
its predicate detector's steps. So is the parser (LevelParser.v1) with a plain window network,
the one LevelScorer splits (level_inference.py): its embedding, history table, window padding,
first layer, the layers after it (whose products run by BLIS, as the parser's own Thinc layers
compute them) and its SLL.

A model with a layer the lean path has no step for (a gazetteer, dilated context layers, the
parser's sentence network, BLIS or GPU ops in a tagger...) is not exported: its flags keep the
spaCy path, and the index records why, which the lean path says.
"""
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy
from spacy.language import Language
from spacy.symbols import IDS
from spacy.util import load_config
from thinc.api import Model, NumpyOps

from ..dropin import lean
from ..inference import CLIP_SETTINGS, SENTENCE_PARAMS, TABLES, WORD_SCALE
from ..layers.distinct_window import distinct_window_chain
from ..layers.levels import HIDDEN_REF, WINDOW_REF, layers_after
from ..pipeline.srl import PREDICT_MAX_ROWS
from ..tags import SPACE_TAG
from ..tasks import BY_FLAG, PSG, SRL, TASKS
from .tag_load import SENNA_FACTORIES, needed_components

Arrays = Dict[str, numpy.ndarray]


class Unsupported(ValueError):
    """A model or pipeline the lean path cannot run."""


def export_pipeline(nlp: Language, pipeline: Path, log: Callable[[str], None]) -> List[str]:
    """Write the export of each loaded component the lean path needs that has none that is
    current, then the index (with the reason of each component it cannot run); returns the
    components written. Nothing is written for a pipeline the lean path cannot run; a cache
    folder that cannot be written is a note, not an error."""
    try:
        index_flags, factories, sentencizers, every_flag = pipeline_plan(nlp, pipeline)
    except Unsupported as err:
        log(f"no fast-path export: {err}")
        return []
    written: List[str] = []
    refused: Dict[str, str] = {}
    try:
        folder = lean.cache_folder(pipeline)
        for name in sorted({name for names in index_flags.values() for name in names}):
            if factories[name] == lean.SENTENCIZER or name not in nlp.pipe_names:
                continue
            if _is_current(folder / f"{name}.npz", pipeline):
                continue
            try:
                manifest, arrays = EXPORTS.get(factories[name], component_export)(nlp, name)
            except Unsupported as err:
                log(f"no fast-path export of {name}: {err}")
                refused[name] = str(err)
                continue
            lean.write_component(pipeline, name, manifest, arrays)
            written.append(name)
        lean.write_index(pipeline, index_flags, factories, sentencizers, dict(IDS), every_flag, refused)
    except OSError as err:
        log(f"cannot write the fast-path export to {lean.cache_folder(pipeline)}: {err.strerror or err}")
    if written:
        log(f"wrote the fast-path export of {', '.join(sorted(written))} to {lean.cache_folder(pipeline)}")
    return written


def _is_current(path: Path, pipeline: Path) -> bool:
    if not path.is_file():
        return False
    try:
        lean.LeanComponent(path, pipeline)
    except lean.ExportError:
        return False
    return True


Plan = Tuple[Dict[str, List[str]], Dict[str, str], Dict[str, List[str]], Optional[List[str]]]


def pipeline_plan(nlp: Language, pipeline: Path) -> Plan:
    """Per task flag whose components the lean path can run, the components it needs (in
    pipeline order); each component's factory; each needed sentencizer's punctuation; the
    flags of a run with no task flag (`every_task_flag`)."""
    config = load_config(pipeline / "config.cfg")  # the whole pipeline's, not just what is loaded
    names: List[str] = list(config["nlp"]["pipeline"])
    factories = {name: config["components"][name].get("factory", "") for name in names}
    window_factories = {BY_FLAG[flag].factory for flag in lean.WINDOW_FLAGS}
    flags: Dict[str, List[str]] = {}
    sentencizers: Dict[str, List[str]] = {}
    for flag in lean.LEAN_FLAGS:
        needed = needed_components(config, [flag], posvbs=flag == SRL.flag) if any(
            factory == BY_FLAG[flag].factory for factory in factories.values()
        ) else None
        if not needed:
            continue
        others = [name for name in needed if factories[name] not in SENNA_FACTORIES]
        if any(factories[name] != lean.SENTENCIZER for name in others):
            continue
        senna = [name for name in needed if factories[name] in SENNA_FACTORIES]
        if any(factories[name] not in window_factories for name in senna[:-1]):
            continue
        if factories[senna[-1]] not in window_factories | {SRL.factory, PSG.factory}:
            continue
        if config["components"][needed[-1]].get("extension"):  # a second tag set, not SENNA's column
            continue
        for name in others:
            if name not in nlp.pipe_names:
                break
            sentencizers[name] = sorted(nlp.get_pipe(name).punct_chars)
        else:
            flags[flag] = needed
    if not flags:
        raise Unsupported("no task (-pos -chk -ner -srl -psg) with only SENNA components and a sentencizer")
    return flags, factories, sentencizers, every_task_flag(config, factories)


def every_task_flag(config: Dict[str, Any], factories: Dict[str, str]) -> Optional[List[str]]:
    """The tasks a run with no task flag prints (SennaTagRun: each task of the pipeline, in
    SENNA's order), where the config tells them for sure: every component SENNA's or a
    sentencizer, no task done twice, none disabled, no second tag set; else None."""
    if config["nlp"].get("disabled"):
        return None
    if any(factory not in SENNA_FACTORIES and factory != lean.SENTENCIZER for factory in factories.values()):
        return None
    senna = [factory for factory in factories.values() if factory in SENNA_FACTORIES]
    if len(senna) != len(set(senna)) or any(config["components"][name].get("extension") for name in factories):
        return None
    return [task.flag for task in TASKS if task.factory in senna]


def component_export(nlp: Language, name: str) -> Tuple[Dict[str, Any], Arrays]:
    """The manifest and arrays of a window tagger's export (Unsupported if it is not one)."""
    pipe = nlp.get_pipe(name)
    factory = nlp.get_pipe_meta(name).factory
    task = next((task for task in TASKS if task.factory == factory and task.flag in lean.WINDOW_FLAGS), None)
    if task is None or not task.annotation_of(pipe).primary:
        raise Unsupported(f"{factory} is not one of SENNA's window taggers")
    model = pipe.model
    steps, arrays = flatten(model, distinct_window_chain(model))
    reads = feature_providers(nlp, name, steps)
    if pipe.tag_names != (lean.iobes_tag_names(pipe.labels) if pipe.annotation.phrases else list(pipe.labels)):
        raise Unsupported("its output classes are not its labels or their IOBES tags")
    manifest = {
        "labels": list(pipe.labels),
        "phrases": bool(pipe.annotation.phrases),
        # the StringStore keys of its tags, as a later component's tag feature reads them
        "tag_keys": [int(nlp.vocab.strings.add(tag)) for tag in pipe.tag_names],
        "reads": reads,
        "ops": steps,
    }
    return manifest, arrays


def feature_providers(nlp: Language, name: str, steps: List[Dict[str, Any]]) -> Dict[str, str]:
    """The component whose tags each embedded token feature ("tag", "chunk") reads: the last
    senna_tagger / senna_chunker before `name` (Unsupported if there is none)."""
    embedded = [part for step in steps if step["op"] == "embed" for part in step["parts"] if part["kind"] in FEATURE_FLAGS]
    names = list(nlp.config["nlp"]["pipeline"])
    earlier = names[: names.index(name)]
    reads: Dict[str, str] = {}
    for part in embedded:
        factory = BY_FLAG[FEATURE_FLAGS[part["kind"]]].factory
        providers = [other for other in earlier if nlp.config["components"][other].get("factory") == factory]
        if not providers or providers[-1] not in nlp.pipe_names:
            raise Unsupported(f"it embeds {part['kind']} tags but no loaded {factory} runs before it")
        reads[part["kind"]] = providers[-1]
        if part["kind"] == "chunk":
            chunker = nlp.get_pipe(providers[-1])
            if BY_FLAG["chk"].annotation_of(chunker).key != part["chunks_key"]:
                raise Unsupported(f"its chunk feature reads doc.spans[{part['chunks_key']!r}], not {providers[-1]}'s")
            part["tag_keys"] = {tag: int(nlp.vocab.strings.add(tag)) for tag in lean.iobes_tag_names(chunker.labels)}
    return reads


FEATURE_FLAGS = {"tag": "pos", "chunk": "chk"}  # the embedded token features, by the task that sets them


def srl_export(nlp: Language, name: str) -> Tuple[Dict[str, Any], Arrays]:
    """The manifest and arrays of SENNA's SRL component (SentenceTagger.v1): the word
    convolution's steps, the sentence network's tables and the steps after it."""
    pipe = nlp.get_pipe(name)
    model = pipe.model
    network = model.layers[0] if model.name == "srl_with_predicate_detector" else model
    layers = network.layers if network._func.__module__ == "thinc.layers.chain" else []
    names = [layer.name for layer in layers]
    if len(layers) not in (3, 4) or not names[0].startswith("with_predicates(") or names[1] != "senna_sentence":
        raise Unsupported(f"not SENNA's sentence network ({names})")
    convolution_steps, arrays = flatten(layers[0].layers[0], None)
    if [step["op"] for step in convolution_steps] != ["embed", "window", "affine"]:
        raise Unsupported(f"its word convolution has steps {[step['op'] for step in convolution_steps]}")
    tail_steps, tail_arrays = walk_steps(layers[2:], None, first=len(convolution_steps) + 1)
    kinds = [step["op"] for step in tail_steps]
    if not kinds or "embed" in kinds or "window" in kinds or "sll" in kinds[:-1]:
        raise Unsupported(f"steps {kinds} after the max over time")
    sentence = layers[1]
    arrays.update(tail_arrays)
    arrays.update({f"op{len(convolution_steps)}.{key}": numpy.ascontiguousarray(sentence.get_param(key)) for key in SENTENCE_PARAMS})
    reads = feature_providers(nlp, name, convolution_steps)
    if "tag" not in reads:
        raise Unsupported("-posvbs reads the POS tags, which it does not embed")
    detector_steps: List[Dict[str, Any]] = []
    configured = nlp.config["components"][name].get("predicates", "auto")  # -posvbs sets pipe.predicates to "given"
    if model.has_ref("predicate_detector") and configured in ("auto", "model"):
        detector = model.get_ref("predicate_detector")
        try:
            detector_steps, detector_arrays = flatten(detector, distinct_window_chain(detector))
        except Unsupported:
            detector_steps = []  # its own predicates stay on the spaCy path
        else:
            if detector_steps[-1]["op"] == "sll":
                detector_steps = []
            arrays.update({f"detector.{key}": value for key, value in detector_arrays.items()})
    manifest = {
        "labels": list(pipe.labels),
        "phrases": True,
        "tag_keys": [],
        "reads": reads,
        "ops": convolution_steps + [{"op": "sentence", "max_distance": int(sentence.attrs["max_distance"])}] + tail_steps,
        "max_sentence_length": int(pipe.max_sentence_length),
        "max_rows": PREDICT_MAX_ROWS,
        "space_tag_key": int(nlp.vocab.strings.add(SPACE_TAG)),
        "detector_ops": detector_steps,  # the predicate detector (argmax, 1: a predicate), if it runs
    }
    return manifest, arrays


def parser_export(nlp: Language, name: str) -> Tuple[Dict[str, Any], Arrays]:
    """The manifest and arrays of senna_parser with a plain window network, the one
    LevelScorer splits (LevelParser.v1's refs level_window and level_hidden): its embedding,
    a `levels` step (history table, window padding and size, first layer), the layers after
    the first (BLIS products, as its Thinc layers run them) and the SLL."""
    pipe = nlp.get_pipe(name)
    model = pipe.model
    if not all(model.has_ref(ref) for ref in (WINDOW_REF, HIDDEN_REF, "levels", "sll")):
        raise Unsupported("its level network is not a plain window network (network = \"window\", window_size > 1, a hidden layer, no context_dilations)")
    if any(type(node.ops) is not NumpyOps for node in model.walk()):
        raise Unsupported("its layers do not run on numpy")
    levels, window, hidden, sll = (model.get_ref(ref) for ref in ("levels", WINDOW_REF, HIDDEN_REF, "sll"))
    tok2vec, network = levels.layers
    if not network.layers or network.layers[0] is not window or window.attrs.get("dilation", 1) != 1 or hidden._func.__module__ != "thinc.layers.clipped_linear":
        raise Unsupported("its level network is not a window, then a HardTanh layer and the layers after it")
    embed_steps, arrays = flatten(tok2vec, None)
    if [step["op"] for step in embed_steps] != ["embed"]:
        raise Unsupported(f"its tok2vec has steps {[step['op'] for step in embed_steps]}, not one embedding")
    try:
        after = layers_after(hidden, network)
    except ValueError as err:
        raise Unsupported(str(err)) from None
    after_steps, after_arrays = walk_steps(after, None, first=2, blis=True)
    if not after_steps or any(step["op"] not in ("affine", "clip") for step in after_steps):
        raise Unsupported(f"steps {[step['op'] for step in after_steps]} after its first layer")
    if pipe.tag_names != lean.iobes_tag_names(pipe.labels):
        raise Unsupported("its output classes are not the IOBES tags of its labels")
    arrays.update(after_arrays)
    level_arrays = {"H": levels.get_param("H"), "pad": window.get_param("pad"), "W": hidden.get_param("W"), "b": hidden.get_param("b")}
    arrays.update({f"op1.{key}": numpy.ascontiguousarray(value) for key, value in level_arrays.items()})
    sll_index = 2 + len(after_steps)
    arrays.update({f"op{sll_index}.{key}": numpy.ascontiguousarray(sll.get_param(key)) for key in ("transitions", "start")})
    levels_step = {**_clip(hidden), "op": "levels", "size": int(window.attrs["window_size"])}
    manifest = {
        "labels": list(pipe.labels),
        "phrases": True,
        "tag_keys": [],
        "reads": feature_providers(nlp, name, embed_steps),
        "ops": embed_steps + [levels_step] + after_steps + [{"op": "sll", "iobes_labels": int(sll.attrs["iobes_labels"])}],
        "max_levels": int(pipe.cfg["max_levels"]),
        "force_progress": bool(pipe.cfg["force_progress"]),
    }
    return manifest, arrays


EXPORTS = {SRL.factory: srl_export, PSG.factory: parser_export}  # the others: component_export


def flatten(model: Model, distinct_chain: Optional[Model]) -> Tuple[List[Dict[str, Any]], Arrays]:
    """The model's inference as the lean path's steps (embed, window, affine, clip, sll) with
    their arrays under op<i>."""
    steps, arrays = walk_steps([model], distinct_chain)
    kinds = [step["op"] for step in steps]
    if not kinds or kinds[0] != "embed" or "embed" in kinds[1:] or "sll" in kinds[:-1]:
        raise Unsupported(f"steps {kinds}: one embedding first, Viterbi (if any) last")
    return steps, arrays


def walk_steps(
    models: List[Model], distinct_chain: Optional[Model], first: int = 0, blis: bool = False
) -> Tuple[List[Dict[str, Any]], Arrays]:
    """The models' inference, one after the other, as steps numbered from `first`; with
    `blis`, layers on BLIS ops are taken too, their products marked to run by BLIS."""
    steps: List[Dict[str, Any]] = []
    arrays: Arrays = {}

    def add(step: Dict[str, Any], **params: numpy.ndarray) -> None:
        for key, value in params.items():
            arrays[f"op{first + len(steps)}.{key}"] = numpy.ascontiguousarray(value)
        steps.append(step)

    def walk(node: Model) -> None:
        if type(node.ops) is not NumpyOps or (node.ops.use_blis and not blis):
            raise Unsupported(f"layer {node.name} runs on {type(node.ops).__name__} (BLIS or GPU), not numpy")
        module = node._func.__module__
        if module == "thinc.layers.chain":
            first_step = len(steps)
            for layer in node.layers:
                walk(layer)
            if node is distinct_chain:
                window = next(i for i in range(first_step, len(steps)) if steps[i]["op"] == "window")
                steps[window]["distinct"] = True
        elif module == "thinc.layers.with_array":
            walk(node.layers[0])
        elif module == "thinc.layers.concatenate" or node.name in EMBED_PARTS:
            parts = node.layers if module == "thinc.layers.concatenate" else [node]
            specs, params = [], {}
            for i, part in enumerate(parts):
                spec, part_params = embed_part(part)
                specs.append(spec)
                params.update({f"{i}.{key}": value for key, value in part_params.items()})
            add({"op": "embed", "parts": specs}, **params)
        elif node.name == "senna_window":
            dilation = node.attrs.get("dilation", 1)
            spec = {"op": "window", "size": node.attrs["window_size"], **({"dilation": dilation} if dilation != 1 else {})}
            add(spec, pad=node.get_param("pad"))
        elif module == "thinc.layers.residual":  # context_dilations: X + layer(X)
            add({"op": "residual_begin"})
            walk(node.layers[0])
            add({"op": "residual_end"})
        elif module == "thinc.layers.clipped_linear":
            add(_affine(node), W=node.get_param("W"), b=node.get_param("b"))
            add(_clip(node))
        elif module == "thinc.layers.linear":
            add(_affine(node), W=node.get_param("W"), b=node.get_param("b"))
        elif module == "thinc.layers.dropout":
            pass  # nothing at inference
        elif node.name == "sll":
            add(
                {"op": "sll", "iobes_labels": int(node.attrs["iobes_labels"])},
                transitions=node.get_param("transitions"),
                start=node.get_param("start"),
            )
        else:
            raise Unsupported(f"no lean step for layer {node.name}")

    for model in models:
        walk(model)
    return steps, arrays


def _affine(node: Model) -> Dict[str, Any]:
    """An affine step; its product by BLIS where the layer's ops use BLIS."""
    return {"op": "affine", "blis": True} if node.ops.use_blis else {"op": "affine"}


def _clip(node: Model) -> Dict[str, Any]:
    """A clipped_linear layer's activation (HardTanh: slope 1, offset 0, [-1, 1])."""
    return {"op": "clip", **{key: float(node.attrs[key]) for key in CLIP_SETTINGS}}


EMBED_PARTS = ("senna_embed", "senna_char_embed", "senna_attr_embed(tag)", "senna_attr_embed(chunk)")


def embed_part(node: Model) -> Tuple[Dict[str, Any], Arrays]:
    """One lookup layer of an embedding: its spec and arrays."""
    if node.name == "senna_embed":
        tables = node.attrs["tables"]
        hashes, rows = tables.word_index
        spec = {"kind": "tables", "n_words": tables.n_words, "suffixes": tables.suffixes, "suffix_length": tables.suffix_length}
        params = {name: node.get_param(name) for name in TABLES}
        if node.has_param(WORD_SCALE):  # an int8 word table's row scales
            params[WORD_SCALE] = node.get_param(WORD_SCALE)
        return spec, {**params, "word_hashes": hashes, "word_rows": rows}
    if node.name == "senna_char_embed":
        spec = {"kind": "chars", "window_size": node.attrs["window_size"], "max_chars": node.attrs["max_chars"], "n_rows": node.get_dim("nV")}
        return spec, {name: node.get_param(name) for name in ("E", "W", "b")}
    if node.name == "senna_attr_embed(tag)":
        return {"kind": "tag", "n_rows": node.get_dim("nV")}, {"E": node.get_param("E")}
    if node.name == "senna_attr_embed(chunk)":
        return {"kind": "chunk", "n_rows": node.get_dim("nV"), "chunks_key": node.attrs["chunks_key"]}, {"E": node.get_param("E")}
    raise Unsupported(f"no lean step for the lookup layer {node.name}")
