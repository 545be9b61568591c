"""Every registered function of the package has an entry point in setup.py (issue 15, item 16).

Without one, a name resolves only when some other import happens to have registered it
(e.g. creating a `Language` imports the factory modules), so a config naming it can fail.
"""
import ast
import re
from pathlib import Path

import spacy

ROOT = Path(__file__).resolve().parent.parent
REGISTRATION = re.compile(r"@(?:registry\.(\w+)|Language\.(factory))\(\s*\"([^\"]+)\"")
GROUPS = {"factory": "spacy_factories"}  # entry-point group of each registry; else spacy_<registry>


def registered_names():
    """(entry-point group, name, module) of each @registry.* / @Language.factory in the package."""
    found = set()
    for path in (ROOT / "spacy_senna").rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for registry_name, factory, name in REGISTRATION.findall(path.read_text(encoding="utf8")):
            kind = registry_name or factory
            found.add((GROUPS.get(kind, f"spacy_{kind}"), name, module))
    return found


def setup_entry_points():
    """(group, name, module) of each spaCy entry point that setup.py declares."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf8"))
    call = next(node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup")
    entry_points = ast.literal_eval(next(k.value for k in call.keywords if k.arg == "entry_points"))
    declared = set()
    for group, lines in entry_points.items():
        if group.startswith("spacy_"):
            for line in lines:
                name, target = (part.strip() for part in line.split("="))
                declared.add((group, name, target.split(":")[0]))
    return declared


def test_every_registration_has_an_entry_point():
    registered = registered_names()
    assert ("spacy_architectures", "spacy_senna.WindowEncoder.v1", "spacy_senna.architectures") in registered
    assert registered == setup_entry_points()


def test_entry_points_resolve():
    """Each entry point's target exists and registers the name it is declared for."""
    import importlib

    for group, name, module in setup_entry_points():
        importlib.import_module(module)
        if group == "spacy_factories":
            assert spacy.Language.has_factory(name)
        else:
            assert spacy.registry.has(group[len("spacy_"):], name)
