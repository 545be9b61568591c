"""What the `tag` drop-in loads: only the components its flags need, decided from the
pipeline's config before anything is loaded.

SENNA runs POS plus the asked task; so does the drop-in: an asked task's component, the
components whose annotation it reads (the POS tags a chunker embeds, the POS verbs of
-posvbs), recursively, and the other, non-SENNA components before them (a sentencizer).
Components that nothing asked for are not loaded at all. With -usrtokens the tokenizer is
neither built nor loaded (words come from the line), and when every loaded component is a
SENNA one (they keep their own word tables and add the strings they write) neither is the
stored vocabulary, whose strings take a third of the load time.
"""
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from spacy.tokens import Doc
from spacy.util import get_package_path, is_package, load_config, registry
from spacy.vocab import Vocab

from ..tasks import BY_FEATURE, BY_FLAG, SRL, TASKS

SENNA_FACTORIES = {task.factory for task in TASKS}
# Components that read nothing from the stored vocabulary.
NO_VOCAB_FACTORIES = {*SENNA_FACTORIES, "sentencizer"}
# What spacy.load can leave out besides components (serialization fields).
FIELDS = ("tokenizer", "vocab")
WHITESPACE_TOKENIZER = "spacy_senna.WhitespaceTokenizer.v1"


class WhitespaceTokenizer:
    """Splits on whitespace; for a pipeline whose docs are made from given words (-usrtokens),
    in place of the rule-based tokenizer that takes a fifth of the load time to build."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        return Doc(self.vocab, words=text.split())

    def to_disk(self, path, **kwargs) -> None:  # nothing to save
        pass

    def from_disk(self, path, **kwargs) -> "WhitespaceTokenizer":
        return self

    def to_bytes(self, **kwargs) -> bytes:
        return b""

    def from_bytes(self, data: bytes, **kwargs) -> "WhitespaceTokenizer":
        return self


@registry.tokenizers(WHITESPACE_TOKENIZER)
def create_whitespace_tokenizer():
    return lambda nlp: WhitespaceTokenizer(nlp.vocab)


def pipeline_config_path(name: str) -> Optional[Path]:
    """config.cfg of a pipeline folder or installed package; None when it cannot be found."""
    path = Path(name)
    if (path / "config.cfg").is_file():
        return path / "config.cfg"
    if is_package(name):
        found = sorted(get_package_path(name).glob("*/config.cfg"))
        return found[0] if found else None
    return None


def needed_components(config: Dict[str, Any], tasks: Sequence[str], posvbs: bool) -> Optional[List[str]]:
    """The components to load for the tasks (SENNA flags), in pipeline order; None when a task's
    component is not a SENNA one (then everything is loaded, as before)."""
    names: List[str] = list(config["nlp"]["pipeline"])
    factories = {name: config["components"][name].get("factory", "") for name in names}
    needed: Set[str] = set()

    def need(name: str) -> None:
        if name in needed:
            return
        needed.add(name)
        block = config["components"][name]
        earlier = names[: names.index(name)]
        reads = set(_values_of(block.get("model", {}), "token_features"))
        if factories[name] == SRL.factory and (posvbs or block.get("predicates") in ("pos", "given")):
            reads.add(BY_FLAG["pos"].feature)
        for attr in reads:
            provider = BY_FEATURE[attr].factory if attr in BY_FEATURE else None
            providers = [other for other in earlier if factories[other] == provider]
            if providers:
                need(providers[-1])
        for upstream in _values_of(block.get("model", {}), "upstream"):
            for other in earlier if upstream == "*" else [upstream]:
                if other in factories:
                    need(other)

    for flag in tasks:
        found = [name for name in names if factories[name] == BY_FLAG[flag].factory]
        if not found:
            return None
        need(found[0])
    last = max(names.index(name) for name in needed)
    return [name for name in names[: last + 1] if name in needed or factories[name] not in SENNA_FACTORIES]


def _values_of(block: Any, key: str) -> Iterator[Any]:
    """Every value of `key` anywhere in a config block (lists are flattened)."""
    if isinstance(block, dict):
        for name, value in block.items():
            if name == key:
                yield from value if isinstance(value, (list, tuple)) else [value]
            else:
                yield from _values_of(value, key)


def load_plan(name: str, tasks: Sequence[str], *, user_tokens: bool, posvbs: bool) -> Tuple[List[str], Dict[str, Any]]:
    """What spacy.load leaves out for the tasks (SENNA flags; none: every task the pipeline
    has), components and FIELDS, and the config overrides (see the module docstring)."""
    config_path = pipeline_config_path(name)
    if config_path is None:
        return [], {}
    config = load_config(config_path)
    if not tasks:
        factories = {block.get("factory") for block in config["components"].values()}
        tasks = [task.flag for task in TASKS if task.factory in factories]
    keep = needed_components(config, tasks, posvbs) if tasks else None
    if keep is None:
        return [], {}
    exclude = [component for component in config["nlp"]["pipeline"] if component not in keep]
    overrides: Dict[str, Any] = {}
    if user_tokens:
        exclude.append("tokenizer")
        overrides["nlp"] = {"tokenizer": {"@tokenizers": WHITESPACE_TOKENIZER}}
        if all(config["components"][component].get("factory") in NO_VOCAB_FACTORIES for component in keep):
            exclude.append("vocab")
    return exclude, overrides
