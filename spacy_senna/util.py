"""Small process-level helpers."""
from typing import Any

import srsly.msgpack
from spacy.tokens import Token


def ensure_token_extension(name: str, default: Any = None) -> None:
    """Register `token._.<name>` (with `default`) unless it is registered already."""
    if not Token.has_extension(name):
        Token.set_extension(name, default=default)


def cache_msgpack_extensions() -> None:
    """Look srsly's msgpack encoders and decoders up once, not on every (de)serialisation.

    srsly asks catalogue for its msgpack extensions on every `msgpack_dumps`/`msgpack_loads`;
    catalogue then rescans the installed packages' entry points and its whole global
    registry, so serialising a Doc with span groups (`DocBin.add`) spent most of its time
    there (3x slower `annotate`). This takes a snapshot of the extensions registered now
    and serves it from then on, in this process only (and the processes it forks).
    """
    for registry in (srsly.msgpack.msgpack_encoders, srsly.msgpack.msgpack_decoders):
        if getattr(registry, "_senna_snapshot", False):
            continue
        functions = registry.get_all()
        registry.get_all = lambda functions=functions: dict(functions)  # type: ignore[method-assign]
        registry._senna_snapshot = True  # type: ignore[attr-defined]
