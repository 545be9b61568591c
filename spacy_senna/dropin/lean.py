"""The drop-in's lean path: SENNA's tasks (-pos, -chk, -ner, -srl, -psg) with numpy and the
compiled kernels only, from an export of the pipeline's components, without importing spaCy or
Thinc (with -usrtokens; without it, spaCy is imported for the pipeline's own tokenizer only:
spacy_tokenizer).

`import spacy` alone takes longer than SENNA's whole start, so the drop-in keeps, per
pipeline folder, a numpy export of what its window taggers compute with: the word, caps,
suffix, character and tag tables, the window padding, the layers' weights and the
transition scores (cli/lean_export.py writes it from a loaded pipeline, the first time the
spaCy path runs the pipeline). Tokens then go to feature rows, windows, Linear / HardTanh /
Linear and Viterbi through the very functions the Thinc layers call (lexicon.py,
inference.py, decoding.py), in the same batches, so the output is the spaCy path's, byte
for byte. The export lives in a cache folder (SPACY_SENNA_CACHE, else
$XDG_CACHE_HOME/spacy-senna, else ~/.cache/spacy-senna), one folder per pipeline folder.

An export records the size, modification time and CRC-32 of the pipeline files it was made
from and its format version; one that does not match them, or that cannot be read (numpy's
zip files check each member's CRC-32), is never used: the drop-in says so on one line and
runs the spaCy path, which writes it anew. -srl runs too: the predicates are,
with -posvbs, the tokens whose POS tag starts with V, as the spaCy path marks them, else the
SRL component's predicate detector's; its sentence network runs through inference.py's
SentenceDistances, which its Thinc layer (layers/sentence.py) calls too. So does -psg, for a
parser with a plain window network: level_inference.py's level loop, split first layer and
unit scores, which senna_parser's LevelScorer and SennaParser.parse run too, and the layers
after the first by BLIS (blis, not Thinc), as the parser's Thinc layers compute them; and a
run with no task flag, every task of a pipeline of SENNA's components and a sentencizer. What
the lean path does not do (a tokenizer other than spaCy's Tokenizer.v1; -usrvbs; components other
than SENNA's and a sentencizer; a layer the export has no step for; SPACY_SENNA_KERNELS=0; no
compiled kernels) is done by the spaCy path, as before.
"""
import json
import os
import unicodedata
import zlib
from hashlib import sha1
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy

from ..constituents import senna_column, split_chains
from ..decoding import best_paths
from ..inference import SentenceDistances, blis_dot_transposed, char_windows, clipped_linear, distinct_window_affine
from ..inference import SENTENCE_PARAMS, TABLES, WORD_SCALE, dot_transposed, looked_up, max_over_characters, row_bounded_chunks, split_rows, windows
from ..kernels import compiled
from ..level_inference import LevelItem, LevelWordScores, SplitWindowLayer, Tree, level_unit_scores, parse_in_groups, parse_levels
from ..lexicon import WordTables, char_matrix, string_hashes, value_rows, word_char_rows
from ..tags import NO_TAG, SPACE_TAG, decoded_phrases, iobes_phrases, iobes_tag_names, spans_to_tags
from .args import DEFAULT_MODEL, TASK_FLAGS, TagOptions
from .io import BLANK, Sentence, clean_text, non_overlapping, phrase_tags, sentence_lines, spacy_tokens, split_user_tokens
from .io import tag_cells, token_columns, with_verb

FORMAT = 4  # the export's layout (2: SRL and the chunk-tag feature; 3: the parser, the no-flag run; 4: its force_progress); a file of another version is not read
CACHE_ENV = "SPACY_SENNA_CACHE"
WINDOW_FLAGS = ("pos", "chk", "ner")  # the tasks of the window network, which the lean path runs
SRL_FLAG = "srl"  # the sentence network's task
PSG_FLAG = "psg"  # the parser's
LEAN_FLAGS = (*WINDOW_FLAGS, SRL_FLAG, PSG_FLAG)
INDEX = "index.json"
MANIFEST = "manifest"  # the member of a component's .npz holding its JSON description
SENTENCIZER = "sentencizer"  # the one non-SENNA component the lean path runs (spaCy's rules)
_MAX_CACHE = 1_000_000

Log = Callable[[str], None]
Tokenize = Callable[[str], Sentence]  # an input line to its tokens
DEFAULT_TOKENIZER = {"@tokenizers": "spacy.Tokenizer.v1"}  # the only tokenizer the lean path loads alone


class ExportError(Exception):
    """An export that is out of date or unreadable: the message says which and why."""


# -- where the export is, and whether it is current ------------------------------------------
def pipeline_folder(model: Optional[str]) -> Optional[Path]:
    """The folder of a pipeline named as `--model` names it (a folder with config.cfg, or an
    installed package holding one), or None when it is neither."""
    name = model or DEFAULT_MODEL
    path = Path(name).expanduser()
    if (path / "config.cfg").is_file():
        return path.resolve()
    if not name.isidentifier():
        return None
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    found = sorted(Path(locations[0]).glob("*/config.cfg")) if locations else []
    return found[0].parent.resolve() if found else None


def cache_folder(pipeline: Path) -> Path:
    """The folder of a pipeline folder's export."""
    root = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "spacy-senna"
    )
    key = sha1(str(pipeline).encode("utf8", "surrogateescape")).hexdigest()[:16]
    return Path(root) / f"lean-{pipeline.name}-{key}"


def source_files(pipeline: Path, component: Optional[str]) -> List[str]:
    """The pipeline files an export depends on: config.cfg, the sentencizer's settings, and the
    component's folder (relative paths)."""
    names = ["config.cfg"] + (["sentencizer.json"] if (pipeline / "sentencizer.json").is_file() else [])
    if component is not None:
        names += sorted(f"{component}/{path.name}" for path in (pipeline / component).iterdir() if path.is_file())
    return names


def fingerprint(pipeline: Path, names: Sequence[str]) -> Dict[str, List[int]]:
    """Size, modification time (ns) and, for files under 1 MB, CRC-32 of each file."""
    found = {}
    for name in names:
        st = os.stat(pipeline / name)
        crc = zlib.crc32((pipeline / name).read_bytes()) if st.st_size < 1 << 20 else -1
        found[name] = [st.st_size, st.st_mtime_ns, crc]
    return found


def changed_file(pipeline: Path, recorded: Dict[str, List[int]], component: Optional[str]) -> Optional[str]:
    """The first pipeline file that differs from the fingerprint (or is new or gone), else None."""
    try:
        names = source_files(pipeline, component)
    except OSError:
        return component or "config.cfg"
    if sorted(names) != sorted(recorded):
        return next(iter(sorted(set(names) ^ set(recorded))))
    try:
        current = fingerprint(pipeline, names)
    except OSError as err:
        return str(err.filename or names[0])
    return next((name for name in names if current[name] != list(recorded[name])), None)


# -- writing (the spaCy path calls these through cli/lean_export.py) -------------------------
def write_index(
    pipeline: Path,
    flags: Dict[str, List[str]],
    factories: Dict[str, str],
    sentencizers: Dict[str, List[str]],
    symbols: Dict[str, int],
    every_flag: Optional[List[str]] = None,
    unsupported: Optional[Dict[str, str]] = None,
) -> Path:
    """The pipeline-level part: per task flag the components it needs (in pipeline order),
    each component's factory, each sentencizer's punctuation, spaCy's symbols (strings whose
    StringStore key is a small id, not their hash: `orth_keys`), the flags of a run with no
    task flag (None: the spaCy path's to tell), and why the lean path cannot run a component."""
    folder = cache_folder(pipeline)
    folder.mkdir(parents=True, exist_ok=True)
    index = {
        "format": FORMAT,
        "pipeline": str(pipeline),
        "sources": fingerprint(pipeline, source_files(pipeline, None)),
        "flags": flags,
        "factories": factories,
        "sentencizers": sentencizers,
        "symbols": symbols,
        "every_flag": every_flag,
        "unsupported": unsupported or {},
    }
    return _write_atomic(folder / INDEX, lambda path: path.write_text(json.dumps(index), encoding="utf8"))


def write_component(pipeline: Path, name: str, manifest: Dict, arrays: Dict[str, numpy.ndarray]) -> Path:
    """One component's export: its arrays and, as the member `manifest`, its description
    with the format version and the fingerprint of its files."""
    folder = cache_folder(pipeline)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {**manifest, "format": FORMAT, "component": name, "sources": fingerprint(pipeline, source_files(pipeline, name))}
    members = {**arrays, MANIFEST: numpy.frombuffer(json.dumps(manifest).encode("utf8"), dtype="uint8")}

    def save(path: Path) -> None:
        with path.open("wb") as file:
            numpy.savez(file, **members)

    return _write_atomic(folder / f"{name}.npz", save)


def _write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
    return path


# -- reading --------------------------------------------------------------------------------
def read_index(pipeline: Path) -> Optional[Dict]:
    """The export's index, None when there is none; an ExportError when it is stale or unreadable."""
    path = cache_folder(pipeline) / INDEX
    if not path.is_file():
        return None
    try:
        index = json.loads(path.read_text(encoding="utf8"))
        if index.get("format") != FORMAT:
            raise ExportError(f"the fast-path export {path} has format {index.get('format')!r}, not {FORMAT}")
        changed = changed_file(pipeline, index["sources"], None)
        _check_flags(index)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise ExportError(f"the fast-path export {path} is unreadable ({type(err).__name__}: {err})") from None
    if changed is not None:
        raise ExportError(f"the fast-path export of {pipeline} is out of date ({changed} changed)")
    return index


def _check_flags(index: Dict) -> None:
    if not all(isinstance(index[key], dict) for key in ("flags", "factories", "sentencizers", "symbols", "unsupported")):
        raise ValueError("flags and factories must be objects")
    if index["every_flag"] is not None and not all(flag in LEAN_FLAGS for flag in index["every_flag"]):
        raise ValueError(f"every_flag must list task flags, not {index['every_flag']!r}")


class LeanTables:
    """A lookup-table layer (word, caps, suffix rows per token) of an export."""

    def __init__(self, arrays, prefix: str, spec: Dict) -> None:
        self.tables = WordTables.from_index(
            arrays[f"{prefix}word_hashes"], arrays[f"{prefix}word_rows"], spec["n_words"], spec["suffixes"], spec["suffix_length"]
        )
        self.W = [arrays[f"{prefix}{name}"] for name in TABLES]
        self.scale = arrays.get(f"{prefix}{WORD_SCALE}")  # an int8 word table's row scales
        self._cache: Dict[int, Tuple[int, int, int]] = {}

    def __call__(self, texts: List[str], orths: numpy.ndarray, feature_rows) -> numpy.ndarray:
        """Each distinct word looked up once, cached by orth key for the run (one process per input)."""
        if len(self._cache) > _MAX_CACHE:
            self._cache.clear()
        distinct, first, token_row = numpy.unique(orths, return_index=True, return_inverse=True)
        keys = distinct.tolist()
        values = [self._cache.get(key) for key in keys]
        missing = [i for i, value in enumerate(values) if value is None]
        if missing:
            starts = first.tolist()
            computed = self.tables.texts_features([texts[starts[i]] for i in missing]).tolist()
            for i, row in zip(missing, computed):
                values[i] = self._cache[keys[i]] = tuple(row)
        ids = numpy.array(values, dtype="int32").reshape((len(values), 3))[token_row.reshape((-1,))]
        return looked_up(self.W, self.scale, ids)


class LeanChars:
    """The character convolution of an export: filters max over each distinct word."""

    def __init__(self, arrays, prefix: str, spec: Dict) -> None:
        self.E, self.W, self.b = (arrays[f"{prefix}{name}"] for name in ("E", "W", "b"))
        self.window, self.max_chars, self.n_rows = spec["window_size"], spec["max_chars"], spec["n_rows"]
        self._rows: Dict[int, bytes] = {}

    def __call__(self, texts: List[str], orths: numpy.ndarray, feature_rows) -> numpy.ndarray:
        """The distinct words in orth key order, as the Thinc layer has them (char_embed.py)."""
        unique, first, token_word = numpy.unique(orths, return_index=True, return_inverse=True)
        if len(self._rows) > _MAX_CACHE:
            self._rows.clear()
        rows = []
        for key, index in zip(unique.tolist(), first.tolist()):
            value = self._rows.get(key)
            if value is None:
                value = self._rows[key] = word_char_rows(texts[index], self.n_rows, self.max_chars)
            rows.append(value)
        char_rows, inside = char_windows(char_matrix(rows, self.window // 2), self.window)
        best = max_over_characters(self.E, self.W, self.b, char_rows[inside], inside, dot_transposed)
        return best[token_word.reshape((-1,))]


class LeanTagFeature:
    """The embedding of the POS or chunk tags an earlier component gave (rows by the tag's
    StringStore key: `tag_keys`, for the chunk tags, from their names)."""

    def __init__(self, arrays, prefix: str, spec: Dict) -> None:
        self.E = arrays[f"{prefix}E"]
        self.kind: str = spec["kind"]
        self.n_rows = spec["n_rows"]
        self.tag_keys: Dict[str, int] = dict(spec.get("tag_keys", {}))

    def __call__(self, texts: List[str], orths: numpy.ndarray, feature_rows: Dict[str, numpy.ndarray]) -> numpy.ndarray:
        return self.E[feature_rows[self.kind]]


PARTS = {"tables": LeanTables, "chars": LeanChars, "tag": LeanTagFeature, "chunk": LeanTagFeature}


class LeanComponent:
    """One window tagger of an export: token texts in, tag ids out."""

    def __init__(self, path: Path, pipeline: Path) -> None:
        self.path = path
        try:
            with numpy.load(path, allow_pickle=False) as stored:
                arrays = {key: stored[key] for key in stored.files}
            manifest = json.loads(arrays.pop(MANIFEST).tobytes().decode("utf8"))
            if manifest.get("format") != FORMAT:
                raise ExportError(f"the fast-path export {path} has format {manifest.get('format')!r}, not {FORMAT}")
            self.name: str = manifest["component"]
            self.labels: List[str] = list(manifest["labels"])
            self.phrases: bool = bool(manifest["phrases"])
            self.reads: Dict[str, str] = dict(manifest["reads"])
            # the tags' StringStore keys, then 0 for NO_TAG (-1): no value
            self.tag_keys = numpy.array([*manifest["tag_keys"], 0], dtype="uint64")
            self.ops = [self._op(op, arrays, f"op{i}.") for i, op in enumerate(manifest["ops"])]
            # SRL's predicate detector: a window network whose argmax 1 marks a predicate
            self.detector_ops = [self._op(op, arrays, f"detector.op{i}.") for i, op in enumerate(manifest.get("detector_ops", []))]
            changed = changed_file(pipeline, manifest["sources"], self.name)
        except ExportError:
            raise
        except Exception as err:  # a truncated or garbled file: zipfile, numpy, json, a missing key
            raise ExportError(f"the fast-path export {path} is unreadable ({type(err).__name__}: {err})") from None
        if changed is not None:
            raise ExportError(f"the fast-path export of {pipeline} is out of date ({changed} changed)")
        parts = [part for op in self.ops if op["op"] == "embed" for part in op["parts"]]
        self.features = {part.kind: part for part in parts if isinstance(part, LeanTagFeature)}
        if any(kind not in self.reads for kind in self.features):
            raise ExportError(f"the fast-path export {path} embeds tags but names no component that sets them")
        self.is_srl = any(op["op"] == "sentence" for op in self.ops)
        self.is_parser = any(op["op"] == "levels" for op in self.ops)
        if self.is_parser and not _parser_steps(self.ops):
            raise ExportError(f"the fast-path export {path} has parser steps {[op['op'] for op in self.ops]}")
        self.max_levels = int(manifest.get("max_levels", 0))
        self.force_progress = bool(manifest["force_progress"]) if self.is_parser else False
        self.max_sentence_length = int(manifest.get("max_sentence_length", 0))
        self.max_rows = int(manifest.get("max_rows", 0))
        self.space_tag_key = int(manifest.get("space_tag_key", 0))
        self.tag_names = iobes_tag_names(self.labels) if self.phrases else list(self.labels)
        if not (self.is_srl or self.is_parser) and len(self.tag_keys) != len(self.tag_names) + 1:
            raise ExportError(f"the fast-path export {path} has {len(self.tag_keys) - 1} tag keys for {len(self.tag_names)} tags")

    @staticmethod
    def _op(op: Dict, arrays, prefix: str) -> Dict:
        kind = op["op"]
        found = dict(op)
        if kind == "embed":
            found["parts"] = [PARTS[part["kind"]](arrays, f"{prefix}{i}.", part) for i, part in enumerate(op["parts"])]
        elif kind in ("window", "affine", "sll", "levels"):
            names = {"window": ("pad",), "affine": ("W", "b"), "sll": ("transitions", "start"), "levels": ("H", "pad", "W", "b")}
            for name in names[kind]:
                found[name] = arrays[f"{prefix}{name}"]
        elif kind == "sentence":
            tables = [arrays[f"{prefix}{name}"] for name in SENTENCE_PARAMS]
            found["distances"] = SentenceDistances(*tables, int(op["max_distance"]))
        elif kind not in ("clip", "residual_begin", "residual_end"):
            raise ValueError(f"unknown op {kind!r}")
        return found

    def predict(
        self,
        sequences: List[List[str]],
        orths: List[numpy.ndarray],
        feature_rows: Dict[str, List[numpy.ndarray]],
        predicates: Optional[List[numpy.ndarray]] = None,
        ops: Optional[List[Dict]] = None,
    ) -> List[numpy.ndarray]:
        """Tag ids of each sequence of token texts, given their orth keys (`orth_keys`) and
        (`feature_rows`) the rows of earlier components' tags, for a model that embeds them;
        for SRL, of each (sequence, predicate), predicates in order within each sequence.
        `ops`: other steps than the component's (its predicate detector's)."""
        ops = self.ops if ops is None else ops
        if not any(sequences):
            return [numpy.zeros((len(s),), dtype="int32") for s in sequences]
        lengths = numpy.array([len(s) for s in sequences], dtype="int32")
        texts = [text for sequence in sequences for text in sequence]
        flat_orths = numpy.concatenate(orths)
        flat_rows = {kind: numpy.concatenate(rows) for kind, rows in feature_rows.items()}
        X = None
        pending_distinct = False
        decoded = None
        residual_inputs: List[numpy.ndarray] = []
        for i, op in enumerate(ops):
            kind = op["op"]
            if kind == "embed":
                X = _embedded(op, texts, flat_orths, flat_rows)
            elif kind == "window":
                if op.get("distinct"):
                    affine = ops[i + 1]
                    summed = distinct_window_affine(
                        numpy.ascontiguousarray(X, dtype="float32"), lengths, op["pad"], op["size"], affine["W"], affine["b"]
                    )
                    if summed is not None:
                        X, pending_distinct = summed, True
                        continue
                X = windows(X, lengths, op["pad"], op["size"], op.get("dilation", 1))
            elif kind == "affine":
                if pending_distinct:
                    pending_distinct = False
                    continue
                X = _dense(op, X)
            elif kind == "clip":
                X = _dense(op, X)
            elif kind == "residual_begin":
                residual_inputs.append(X)
            elif kind == "residual_end":
                X = residual_inputs.pop() + X
            elif kind == "sentence":  # one (n, nO) row block per (sequence, predicate), as with_array joins them
                outputs = op["distances"](split_rows(X, lengths), predicates)
                lengths = numpy.array([len(rows) for rows in outputs], dtype="int32")
                X = numpy.concatenate(outputs)
            elif kind == "sll":
                decoded = best_paths(split_rows(X, lengths), op["transitions"], op["start"], op["iobes_labels"])
        if decoded is None:
            decoded = [scores.argmax(axis=1).astype("int32") for scores in split_rows(X, lengths)]
        return decoded

    def parse(self, sequences: List[List[str]], orths: List[numpy.ndarray], feature_rows: Dict[str, List[numpy.ndarray]]) -> List[Tree]:
        """The parser's trees (merged constituents) of each sequence of token texts, as
        SennaParser.parse builds them: groups of at most LEVEL_BATCH_WORDS words
        (level_inference.parse_in_groups), each group's word vectors once, then level by level."""

        def parse_group(group: range) -> List[Tree]:
            rows = {kind: [feature_rows[kind][i] for i in group] for kind in feature_rows}
            return self._parse_together([sequences[i] for i in group], [orths[i] for i in group], rows)

        return parse_in_groups([len(sequence) for sequence in sequences], parse_group)

    def _parse_together(self, sequences: List[List[str]], orths: List[numpy.ndarray], feature_rows: Dict[str, List[numpy.ndarray]]) -> List[Tree]:
        embed, levels, *after, sll = self.ops
        lengths = [len(sequence) for sequence in sequences]
        flat_rows = {kind: numpy.concatenate(rows) for kind, rows in feature_rows.items()}
        texts = [text for sequence in sequences for text in sequence]
        vectors = _embedded(embed, texts, numpy.concatenate(orths), flat_rows)
        first_layer = SplitWindowLayer(split_rows(vectors, lengths), levels["H"], levels["pad"], levels["W"], levels["b"], levels["size"], levels)

        def after_hidden(X: numpy.ndarray) -> numpy.ndarray:
            for op in after:
                X = _dense(op, X)
            return X

        word_scores = LevelWordScores(first_layer, after_hidden)

        def level_scores(items: List[LevelItem]) -> List[numpy.ndarray]:
            return level_unit_scores(word_scores(items), items)

        def decode(scores: List[numpy.ndarray]) -> List[numpy.ndarray]:
            return best_paths(scores, sll["transitions"], sll["start"], sll["iobes_labels"])

        return parse_levels(lengths, level_scores, decode, self.tag_names, self.max_levels, self.force_progress)


def _parser_steps(ops: List[Dict]) -> bool:
    """Whether the steps are a parser's: an embedding, the levels, affine / clip steps, the SLL."""
    kinds = [op["op"] for op in ops]
    return len(kinds) > 3 and kinds[:2] == ["embed", "levels"] and kinds[-1] == "sll" and set(kinds[2:-1]) <= {"affine", "clip"}


def _embedded(op: Dict, texts: List[str], orths: numpy.ndarray, feature_rows: Dict[str, numpy.ndarray]) -> numpy.ndarray:
    """An embedding step's token vectors: its lookups side by side."""
    vectors = [part(texts, orths, feature_rows) for part in op["parts"]]
    return numpy.hstack(vectors) if len(vectors) > 1 else vectors[0]


def _dense(op: Dict, X: numpy.ndarray) -> numpy.ndarray:
    """An affine step (its product by BLIS where the layer's ops use BLIS) or a clip step."""
    if op["op"] == "clip":
        return clipped_linear(X, op["slope"], op["offset"], op["min_val"], op["max_val"])
    X = blis_dot_transposed(X, op["W"]) if op.get("blis") else dot_transposed(X, op["W"])
    X += op["b"]
    return X


# -- the run ----------------------------------------------------------------------------------
def orth_keys(texts: List[str], symbols: Dict[str, int]) -> numpy.ndarray:
    """spaCy's orth id of each token text: its StringStore key, the string's hash except for
    spaCy's symbols, whose key is their symbol id."""
    keys = string_hashes(texts)
    if not symbols.keys().isdisjoint(texts):
        for i, text in enumerate(texts):
            symbol = symbols.get(text)
            if symbol is not None:
                keys[i] = symbol
    return keys


def _model_words(words: List[str]) -> List[str]:
    """The words as the network sees them: clean_text's (undecodable bytes as U+FFFD)."""
    cleaned = [clean_text(word) for word in words] if not all(map(str.isprintable, words)) else words
    return cleaned


def is_punct(text: str) -> bool:
    """spaCy's `token.is_punct`: every character is punctuation (Unicode category P*)."""
    return all(unicodedata.category(char).startswith("P") for char in text)


def sentence_starts(texts: Sequence[str], punct_chars: frozenset) -> List[int]:
    """Where spaCy's rule-based Sentencizer starts sentences in a line's tokens: after a token
    in `punct_chars`, at the first token that is neither punctuation nor one of them."""
    if not texts:
        return []
    starts = [0]
    seen_period = False
    for i, text in enumerate(texts):
        in_punct_chars = text in punct_chars
        if seen_period and not in_punct_chars and not is_punct(text):
            starts.append(i)
            seen_period = False
        elif in_punct_chars:
            seen_period = True
    return sorted(set(starts))


class LeanRun:
    """The asked tasks over the components they need, as SennaTagRun runs them."""

    def __init__(
        self,
        opts: TagOptions,
        steps: List[Tuple[str, object]],
        providers: Dict[str, LeanComponent],
        symbols: Dict[str, int],
        tasks: Sequence[str] = (),
        tokenize: Optional[Tokenize] = None,
    ) -> None:
        self.opts = opts
        self.tokenize = tokenize or split_user_tokens
        self.symbols = symbols
        self.steps = steps  # (name, punct_chars) for a sentencizer, (name, LeanComponent) for a tagger
        tasks = tasks or opts.tasks  # the tasks printed: the asked ones, or every task of the pipeline
        self.outputs = [providers[flag] for flag in TASK_FLAGS if flag in tasks]
        self.n_sentences = self.n_tokens = 0

    def tag_batch(self, lines: Sequence[str]) -> str:
        """SENNA's output for a batch of input lines."""
        sentences: List[Sentence] = []
        for line in lines:
            if line.strip(BLANK):
                sentence = self.tokenize(line)
                if sentence.words:
                    sentences.append(sentence)
        if not sentences:
            return ""
        texts = [_model_words(sentence.words) for sentence in sentences]
        lengths = [len(words) for words in texts]
        self.orths = split_rows(orth_keys([word for words in texts for word in words], self.symbols), lengths)
        bounds: List[List[Tuple[int, int]]] = [[(0, len(words))] for words in texts]
        tags: Dict[str, List[numpy.ndarray]] = {}
        frames: List[Dict[int, Tuple[int, numpy.ndarray]]] = []
        trees: List[Tree] = []
        for name, step in self.steps:
            if isinstance(step, LeanComponent) and step.is_srl:
                frames = self._run_srl(step, texts, bounds, tags)
            elif isinstance(step, LeanComponent) and step.is_parser:
                trees = self._run_parser(step, texts, bounds, tags)
            elif isinstance(step, LeanComponent):
                tags[name] = self._run_component(step, texts, bounds, tags)
            else:
                bounds = [_bounds(sentence_starts(words, step), len(words)) for words in texts]
        cells = [self._columns(component, sentences, tags, frames, trees) for component in self.outputs]
        out: List[str] = []
        for i, (sentence, words) in enumerate(zip(sentences, texts)):
            columns = token_columns(sentence, self.opts.notokentags, self.opts.offsettags)
            columns.extend(column for per_line in cells for column in per_line[i])
            out.extend(sentence_lines(columns, len(words)))
            out.append("")
            self.n_sentences += 1
            self.n_tokens += len(words)
        return "\n".join(out) + "\n"

    def _columns(self, component: LeanComponent, sentences: List[Sentence], tags, frames, trees: List[Tree]) -> List[List[List[str]]]:
        """Per line, a task's columns."""
        if component.is_srl:
            return self._srl_columns(component, sentences, frames)
        if component.is_parser:  # SENNA's -psg column, the line as one sentence (constituency.doc_senna_column)
            return [[senna_column(len(sentence.words), split_chains(tree))] for sentence, tree in zip(sentences, trees)]
        return [[column] for column in self._cells(component, tags[component.name])]

    def _sentence_inputs(self, component: LeanComponent, texts, bounds, tags):
        """The sentences as a component sees them: each alone, whitespace tokens left out, as
        (line, kept token indices), with their token texts, orth keys and the rows of the
        earlier components' tags it embeds."""
        pieces: List[Tuple[int, List[int]]] = []
        for line, (words, line_bounds) in enumerate(zip(texts, bounds)):
            for start, end in line_bounds:
                kept = [j for j in range(start, end) if not words[j].isspace()]
                if kept:
                    pieces.append((line, kept))
        sequences = [[texts[line][j] for j in kept] for line, kept in pieces]
        feature_rows = {}
        for kind, feature in component.features.items():  # the chunker's and the parser's POS tags
            provider = self._component(component.reads[kind])
            rows_of = value_rows(provider.tag_keys, feature.n_rows)
            feature_rows[kind] = [rows_of[tags[provider.name][line][kept]] for line, kept in pieces]
        orths = [self.orths[line][kept] for line, kept in pieces]
        return pieces, sequences, orths, feature_rows

    def _run_component(self, component: LeanComponent, texts, bounds, tags) -> List[numpy.ndarray]:
        """Tag ids per line: each sentence tagged alone, whitespace tokens left out (NO_TAG)."""
        pieces, sequences, orths, feature_rows = self._sentence_inputs(component, texts, bounds, tags)
        decoded = component.predict(sequences, orths, feature_rows) if sequences else []
        per_line = split_rows(numpy.full((sum(map(len, texts)),), NO_TAG, dtype="int32"), map(len, texts))
        for (line, kept), ids in zip(pieces, decoded):
            per_line[line][kept] = ids
        return per_line

    def _run_parser(self, component: LeanComponent, texts, bounds, tags) -> List[Tree]:
        """Per line, its sentences' trees (merged constituents, by token of the line), each
        sentence parsed alone without its whitespace tokens, as SennaParser.predict."""
        pieces, sequences, orths, feature_rows = self._sentence_inputs(component, texts, bounds, tags)
        trees = component.parse(sequences, orths, feature_rows) if sequences else []
        per_line: List[Tree] = [[] for _ in texts]
        for (line, kept), tree in zip(pieces, trees):
            per_line[line].extend((kept[start], kept[end - 1] + 1, label) for start, end, label in tree)
        return per_line

    def _run_srl(self, component: LeanComponent, texts, bounds, tags) -> List[Dict[int, Tuple[int, numpy.ndarray]]]:
        """Per line, {predicate: (first token of its sentence piece, tag ids over the piece)}:
        the predicates are the tokens whose POS tag starts with V (-posvbs); each sentence,
        cut at max_sentence_length, runs alone, as SennaSRL.predict runs them."""
        tagger = self._component(component.reads["tag"])
        tag_names = [*tagger.tag_names, SPACE_TAG]  # NO_TAG (-1): a whitespace token, spaCy's _SP
        tag_keys = tagger.tag_keys.copy()
        tag_keys[-1] = component.space_tag_key
        chunk_feature = component.features.get("chunk")
        chunker = self._component(component.reads["chunk"]) if chunk_feature is not None else None
        chunk_phrases = decoded_phrases(tags[chunker.name], len(chunker.labels)) if chunker is not None else []
        tag_feature = component.features.get("tag")
        sequences, orths, predicates, owners = [], [], [], []
        feature_rows: Dict[str, List[numpy.ndarray]] = {kind: [] for kind in component.features}
        detected = None if self.opts.posvbs else self._detect_predicates(component, texts, bounds)
        for line, (words, line_bounds) in enumerate(zip(texts, bounds)):
            line_tags = tags[tagger.name][line]
            if detected is not None:
                line_predicates = detected[line]
            else:
                line_predicates = [j for j, tag_id in enumerate(line_tags.tolist()) if tag_names[tag_id].startswith("V")]
            if not line_predicates:
                continue
            for start, end in _pieces(line_bounds, component.max_sentence_length):
                inside = [index - start for index in line_predicates if start <= index < end]
                if not inside:
                    continue
                sequences.append(words[start:end])
                orths.append(self.orths[line][start:end])
                predicates.append(numpy.array(inside, dtype="int32"))
                owners.append((line, start))
                if tag_feature is not None:
                    feature_rows["tag"].append(value_rows(tag_keys[line_tags[start:end]], tag_feature.n_rows))
                if chunk_feature is not None:
                    labels = chunker.labels
                    spans = [(s - start, e - start, labels[k]) for s, e, k in chunk_phrases[line] if s >= start and e <= end]
                    keys = [chunk_feature.tag_keys[tag] for tag in spans_to_tags(spans, end - start, "iobes")]
                    feature_rows["chunk"].append(value_rows(numpy.array(keys, dtype="uint64"), chunk_feature.n_rows))
        decoded: List[numpy.ndarray] = []
        lengths = [len(sequence) for sequence in sequences]
        for first, end in row_bounded_chunks(lengths, [len(p) for p in predicates], component.max_rows):
            rows = {kind: values[first:end] for kind, values in feature_rows.items()}
            decoded.extend(component.predict(sequences[first:end], orths[first:end], rows, predicates[first:end]))
        frames: List[Dict[int, Tuple[int, numpy.ndarray]]] = [{} for _ in texts]
        found = iter(decoded)
        for (line, start), inside in zip(owners, predicates):
            for index in inside.tolist():
                frames[line][start + index] = (start, next(found))
        return frames

    def _detect_predicates(self, component: LeanComponent, texts, bounds) -> List[List[int]]:
        """Per line, the tokens the SRL component's predicate detector marks (argmax 1), each
        sentence tagged alone, whitespace tokens left out, as SennaSRL._detect_predicates."""
        pieces = [
            (line, [j for j in range(start, end) if not words[j].isspace()])
            for line, (words, line_bounds) in enumerate(zip(texts, bounds))
            for start, end in line_bounds
        ]
        pieces = [(line, kept) for line, kept in pieces if kept]
        sequences = [[texts[line][j] for j in kept] for line, kept in pieces]
        orths = [self.orths[line][kept] for line, kept in pieces]
        found: List[List[int]] = [[] for _ in texts]
        if sequences:
            for (line, kept), ids in zip(pieces, component.predict(sequences, orths, {}, ops=component.detector_ops)):
                found[line].extend(kept[j] for j in numpy.flatnonzero(ids == 1).tolist())
        return [sorted(indices) for indices in found]

    def _srl_columns(self, component: LeanComponent, sentences: List[Sentence], frames) -> List[List[List[str]]]:
        """Per line, SENNA's SRL columns: the predicates' words, then one column of arguments
        per predicate (cli/senna_io.py's task_columns)."""
        per_line = []
        n_labels = len(component.labels)
        for sentence, line_frames in zip(sentences, frames):
            length = len(sentence.words)
            columns = [[f"{word if i in line_frames else '-':>15}" for i, word in enumerate(sentence.words)]]
            for index in sorted(line_frames):
                start, ids = line_frames[index]
                starts, ends, labels = iobes_phrases(ids, n_labels)
                spans = [(start + s, start + e, component.labels[k]) for s, e, k in zip(starts.tolist(), ends.tolist(), labels.tolist())]
                columns.append(tag_cells(phrase_tags(with_verb(non_overlapping(spans), index), length, self.opts.scheme)))
            per_line.append(columns)
        return per_line

    def _component(self, name: str) -> LeanComponent:
        return next(step for step_name, step in self.steps if step_name == name and isinstance(step, LeanComponent))

    def _cells(self, component: LeanComponent, per_line: List[numpy.ndarray]) -> List[List[str]]:
        """A task's column of each line, from its tag ids."""
        labels = component.labels
        if not component.phrases:
            names = [*labels, SPACE_TAG]  # NO_TAG (-1) indexes the last
            return [tag_cells(names[i] for i in ids.tolist()) for ids in per_line]
        return [
            tag_cells(phrase_tags([(start, end, labels[label]) for start, end, label in phrases], len(ids), self.opts.scheme))
            for ids, phrases in zip(per_line, decoded_phrases(per_line, len(labels)))
        ]


def _bounds(starts: List[int], length: int) -> List[Tuple[int, int]]:
    """(start, end) of the sentences of a line of `length` tokens from its sentence starts."""
    return list(zip(starts, starts[1:] + [length]))


def _pieces(bounds: List[Tuple[int, int]], max_length: int) -> List[Tuple[int, int]]:
    """The sentences cut into pieces of at most `max_length` tokens (0: no limit), as
    pipeline/sentences.py's sentence_bounds cuts them."""
    if max_length <= 0:
        return bounds
    return [(s, min(end, s + max_length)) for start, end in bounds for s in range(start, end, max_length)]


def why_not(opts: TagOptions) -> Optional[str]:
    """Why the options need the spaCy path (None: the lean path can run them, if the export
    can: `load_run` tells)."""
    other = [flag for flag in opts.tasks if flag not in LEAN_FLAGS]
    if other:
        return f"-{other[0]} is not a task the fast path runs"
    if opts.usrvbs is not None:
        return "-usrvbs"
    if opts.posvbs and opts.tasks and SRL_FLAG not in opts.tasks:
        return "-posvbs without -srl"
    if compiled() is None:
        return "the compiled kernels are not built, or SPACY_SENNA_KERNELS=0"
    return None


def load_run(opts: TagOptions, log: Log) -> Optional[LeanRun]:
    """The lean run for the options, or None (with a note) when it cannot run them; an
    ExportError when the export is stale or unreadable."""
    reason = why_not(opts)
    pipeline = pipeline_folder(opts.model) if reason is None else None
    if reason is None and pipeline is None:
        reason = f"cannot find the pipeline folder of {opts.model or DEFAULT_MODEL}"
    index = read_index(pipeline) if pipeline is not None else None
    if reason is None and index is None:
        reason = "no fast-path export yet (this run writes it)"
    tasks: List[str] = list(opts.tasks)
    if reason is None:
        tasks, reason = _tasks(opts, index)
    if reason is not None:
        log(f"spaCy path: {reason}")
        return None
    needed = [name for name in _in_order(index, tasks)]
    steps: List[Tuple[str, object]] = []
    providers: Dict[str, LeanComponent] = {}
    folder = cache_folder(pipeline)
    for name in needed:
        factory = index["factories"][name]
        if factory == SENTENCIZER:
            steps.append((name, frozenset(index["sentencizers"][name])))
            continue
        path = folder / f"{name}.npz"
        if not path.is_file():
            log(f"spaCy path: no fast-path export of {name} yet (this run writes it)")
            return None
        steps.append((name, LeanComponent(path, pipeline)))
    for flag in tasks:
        providers[flag] = next(step for name, step in steps if name == index["flags"][flag][-1])
    if SRL_FLAG in tasks and not opts.posvbs and not providers[SRL_FLAG].detector_ops:
        log("spaCy path: -srl without -posvbs, and no predicate detector in the fast-path export")
        return None
    tokenize: Tokenize = split_user_tokens
    if not opts.usrtokens:
        tokenize, reason = spacy_tokenizer(pipeline)
        if tokenize is None:
            log(f"spaCy path: {reason}")
            return None
    return LeanRun(opts, steps, providers, index["symbols"], tasks, tokenize)


def spacy_tokenizer(pipeline: Path) -> Tuple[Optional[Tokenize], Optional[str]]:
    """The pipeline's own spaCy tokenizer, as a line -> Sentence function, without loading
    its components (this imports spaCy); or None and why the spaCy path must tokenise."""
    import spacy
    from spacy.util import load_config

    nlp_config = load_config(pipeline / "config.cfg", interpolate=False)["nlp"]
    if nlp_config.get("tokenizer") != DEFAULT_TOKENIZER:
        return None, f"the pipeline's tokenizer is not {DEFAULT_TOKENIZER}"
    if any(nlp_config.get(key) for key in ("before_creation", "after_creation")):
        return None, "the pipeline's config changes its language class (before_creation, after_creation)"
    nlp = spacy.blank(nlp_config["lang"])
    if (pipeline / "tokenizer").exists():
        nlp.tokenizer.from_disk(pipeline / "tokenizer")
    return (lambda line: spacy_tokens(line, nlp.make_doc)), None


def _tasks(opts: TagOptions, index: Dict) -> Tuple[List[str], Optional[str]]:
    """The tasks to print (the asked ones, else every task of the pipeline) and why the
    export cannot run them (None: it can)."""
    tasks = list(opts.tasks) if opts.tasks else index["every_flag"]
    if tasks is None:
        return [], "no task flag, and the pipeline has components other than SENNA's and a sentencizer (or a disabled one)"
    missing = [flag for flag in tasks if flag not in index["flags"]]
    if missing:
        return tasks, f"the export has no -{missing[0]} (the pipeline lacks it, or the spaCy path has not run it yet)"
    if opts.posvbs and SRL_FLAG not in tasks:
        return tasks, "-posvbs without -srl"
    refused = next((name for name in _in_order(index, tasks) if name in index["unsupported"]), None)
    if refused is not None:
        return tasks, f"no fast-path export of {refused}: {index['unsupported'][refused]}"
    return tasks, None


def _in_order(index: Dict, flags: Sequence[str]) -> List[str]:
    """The components the flags need, in pipeline order (the index lists each flag's)."""
    order = list(index["factories"])
    needed = {name for flag in flags for name in index["flags"][flag]}
    return [name for name in order if name in needed]
