"""The layers, read from the imports: what each kind of module may depend on.

A module's layer is what it IS, found from where it lives, never from a list of today's file names:
- the vocabulary: `rampart_soc2.vocabulary` (policy/soc2/rampart_soc2/vocabulary/), the words the
  components and the pack share (tags, thresholds, TLS policies, the secret detector, Config rules);
- the pack: everything else under policy/soc2/ (`rampart_soc2.*`, and the pack's entry points);
- the components: `rampart.components` (the library);
- the tooling: everything else in `rampart` (the CLI, its commands and the offline engine, wherever
  they move).
What the design forbids (../shared/DESIGN.md, "Layers"): components -> tooling, components -> a pack
module other than the vocabulary, pack -> anything of `rampart`, vocabulary -> anything of Rampart or of
the pack outside itself (and any third-party package: it is plain Python, importable by both sides).
Every import counts: module-level, inside functions, under `if TYPE_CHECKING`, and
`importlib.import_module("literal")` / `__import__("literal")`.
"""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

VOCABULARY, PACK, COMPONENTS, TOOLING, OTHER = "vocabulary", "pack", "components", "tooling", "third-party"

#: Source layer -> the layers it must not import, and why (the sentence a failure prints).
FORBIDDEN: dict[str, dict[str, str]] = {
    COMPONENTS: {
        TOOLING: "the component library knows nothing of the CLI or the offline engine",
        PACK: "the component library knows nothing of individual policies; read the shared vocabulary "
              "(rampart_soc2.vocabulary) instead",
    },
    PACK: {
        COMPONENTS: "the pack knows nothing of components (and runs from its own folder, without `rampart`)",
        TOOLING: "the pack runs from its own folder (`pulumi preview --policy-pack policy/soc2`), without `rampart`",
    },
    VOCABULARY: {
        COMPONENTS: "the vocabulary imports nothing of Rampart",
        TOOLING: "the vocabulary imports nothing of Rampart",
        PACK: "the vocabulary imports nothing of the pack outside itself, so the components may read it",
        OTHER: "the vocabulary is plain Python (the standard library and itself), importable by both sides",
    },
}


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def layer_of(name: str) -> str:
    """The layer of a dotted module name (a name imported from a module counts as inside it)."""
    if _within(name, "rampart_soc2.vocabulary"):
        return VOCABULARY
    if _within(name, "rampart_soc2"):
        return PACK
    if _within(name, "rampart.components"):
        return COMPONENTS
    if _within(name, "rampart"):
        return TOOLING
    return OTHER


@dataclass(frozen=True)
class Module:
    path: Path
    name: str
    """Dotted name as imported (`rampart.components.waf`); a package's `__init__` is the package."""
    layer: str
    is_package: bool


@dataclass(frozen=True)
class Import:
    module: Module
    line: int
    target: str


def modules(root: Path) -> list[Module]:
    """Every Python module of the two roots: `rampart/` and the pack folder `policy/soc2/`."""
    found: list[Module] = []
    for path in sorted((root / "rampart").rglob("*.py")):
        found.append(_module(path, root, "rampart"))
    pack_dir = root / "policy" / "soc2"
    for path in sorted(pack_dir.rglob("*.py")):
        rel = path.relative_to(pack_dir)
        if rel.parts[0] == "rampart_soc2":
            found.append(_module(path, pack_dir, "rampart_soc2"))
        else:  # the pack's entry point beside its package (policy/soc2/__main__.py): the pack, not importable
            found.append(Module(path, "__pack_main__." + ".".join(rel.with_suffix("").parts), PACK, False))
    return found


def _module(path: Path, base: Path, top: str) -> Module:
    parts = list(path.relative_to(base).with_suffix("").parts)
    assert parts[0] == top
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    name = ".".join(parts)
    return Module(path, name, layer_of(name), is_package)


def imports(module: Module) -> list[Import]:
    """Every import the module makes, wherever it is written, as absolute dotted names."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(module, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node.module, node.level)
            # `from pkg import name` may load the submodule pkg.name: judge each name as inside `base`.
            found += [Import(module, node.lineno, base if alias.name == "*" else f"{base}.{alias.name}")
                      for alias in node.names]
        elif isinstance(node, ast.Call) and _dynamic_import(node):
            found.append(Import(module, node.lineno, node.args[0].value))  # type: ignore[attr-defined]
    return found


def _absolute(module: Module, name: str | None, level: int) -> str:
    if level == 0:
        return name or ""
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    if level - 1 > len(package) - 1:
        raise AssertionError(f"{module.path}: a relative import climbs above its top package")
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _dynamic_import(node: ast.Call) -> bool:
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return (called in ("import_module", "__import__") and bool(node.args)
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
            and not node.args[0].value.startswith("."))


def _standard(name: str) -> bool:
    top = name.split(".")[0]
    return top in sys.stdlib_module_names or top == "__future__"


def violations(root: Path) -> list[str]:
    """One sentence per forbidden import: where it is written, what it imports, why not, and the fix."""
    found: list[str] = []
    for module in modules(root):
        rules = FORBIDDEN.get(module.layer, {})
        for imp in imports(module):
            target = layer_of(imp.target)
            if target == OTHER and _standard(imp.target):
                continue
            if target in rules:
                where = f"{module.path.relative_to(root)}:{imp.line}"
                found.append(f"{where}: {module.name} ({module.layer}) imports {imp.target} ({target}): "
                             f"{rules[target]}; move what it needs into the layer it may read, or drop the import")
    return found


# --- the repository ------------------------------------------------------------------------------------

def test_the_repository_keeps_its_layers() -> None:
    problems = violations(ROOT)
    assert not problems, "forbidden imports between layers:\n" + "\n".join(problems)


def test_every_layer_is_found_where_it_lives() -> None:
    """The scan sees each kind of module (a scan of nothing would pass the test above)."""
    by_name = {m.name: m.layer for m in modules(ROOT)}
    assert by_name["rampart.components.compliance"] == COMPONENTS
    assert by_name["rampart.components"] == COMPONENTS
    assert by_name["rampart.cli"] == TOOLING
    assert by_name["rampart_soc2.registry"] == PACK
    assert by_name["rampart_soc2.lb.listenerrule_require_private_access"] == PACK
    assert by_name["rampart_soc2.vocabulary.thresholds"] == VOCABULARY
    assert by_name["rampart_soc2.vocabulary"] == VOCABULARY
    assert by_name["__pack_main__.__main__"] == PACK
    components = [m for m in modules(ROOT) if m.layer == COMPONENTS]
    assert len(components) == len(list((ROOT / "rampart" / "components").rglob("*.py")))
    read = {imp.target for m in components for imp in imports(m)}
    assert any(layer_of(t) == VOCABULARY for t in read), "the components read the vocabulary"


# --- the rule itself, on small trees: each forbidden kind fails, each allowed neighbour passes --------

def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    base = {
        "rampart/__init__.py": "",
        "rampart/components/__init__.py": "",
        "rampart/cli.py": "",
        "policy/soc2/__main__.py": "",
        "policy/soc2/rampart_soc2/__init__.py": "",
        "policy/soc2/rampart_soc2/model.py": "",
        "policy/soc2/rampart_soc2/lb/__init__.py": "",
        "policy/soc2/rampart_soc2/vocabulary/__init__.py": "",
        "policy/soc2/rampart_soc2/vocabulary/tags.py": "",
    }
    for rel, text in {**base, **files}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


FORBIDDEN_CASES = {
    "components -> CLI": ("rampart/components/a.py", "import rampart.cli\n"),
    "components -> offline engine in a function": (
        "rampart/components/a.py", "def f():\n    from rampart.engine import plan\n"),
    "components -> a package outside components": ("rampart/components/a.py", "from rampart import commands\n"),
    "components -> policy module": (
        "rampart/components/a.py", "from rampart_soc2.lb.listenerrule_require_private_access import TAG\n"),
    "components -> pack registry by name": ("rampart/components/a.py", "from rampart_soc2 import registry\n"),
    "components -> pack package itself": ("rampart/components/a.py", "import rampart_soc2\n"),
    "components -> look-alike of the vocabulary": ("rampart/components/a.py", "import rampart_soc2.vocabulary_old\n"),
    "components -> pack by importlib": (
        "rampart/components/a.py", "import importlib\nimportlib.import_module('rampart_soc2.registry')\n"),
    "pack -> components": ("policy/soc2/rampart_soc2/lb/p.py", "from rampart.components import waf\n"),
    "pack -> rampart tooling, under TYPE_CHECKING": (
        "policy/soc2/rampart_soc2/lb/p.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import rampart.config\n"),
    "pack entry point -> rampart": ("policy/soc2/__main__.py", "from rampart import cli\n"),
    "vocabulary -> pack model (relative)": ("policy/soc2/rampart_soc2/vocabulary/v.py", "from ..model import Resource\n"),
    "vocabulary -> pack (absolute)": ("policy/soc2/rampart_soc2/vocabulary/v.py", "from rampart_soc2 import common\n"),
    "vocabulary -> rampart": ("policy/soc2/rampart_soc2/vocabulary/v.py", "import rampart.components\n"),
    "vocabulary -> third-party": ("policy/soc2/rampart_soc2/vocabulary/v.py", "import pydantic\n"),
    "vocabulary package -> pack (relative)": ("policy/soc2/rampart_soc2/vocabulary/__init__.py", "from .. import model\n"),
}

ALLOWED_CASES = {
    "components -> vocabulary": ("rampart/components/a.py", "from rampart_soc2.vocabulary.tags import X\n"),
    "components -> vocabulary package": ("rampart/components/a.py", "from rampart_soc2 import vocabulary\n"),
    "components -> components (relative)": ("rampart/components/a.py", "from ._util import X\nfrom . import b\n"),
    "components -> third-party": ("rampart/components/a.py", "import pulumi\nimport pulumi_aws as aws\n"),
    "pack -> pack (relative)": ("policy/soc2/rampart_soc2/lb/p.py", "from ..model import R\nfrom ..common import X\n"),
    "pack -> vocabulary (relative)": ("policy/soc2/rampart_soc2/lb/p.py", "from ..vocabulary.tags import T\n"),
    "pack -> third-party": ("policy/soc2/rampart_soc2/lb/p.py", "import pulumi_policy\n"),
    "vocabulary -> itself (relative)": ("policy/soc2/rampart_soc2/vocabulary/v.py", "from .tags import T\nfrom . import tags\n"),
    "vocabulary -> itself (absolute)": ("policy/soc2/rampart_soc2/vocabulary/v.py", "import rampart_soc2.vocabulary.tags\n"),
    "vocabulary -> standard library": ("policy/soc2/rampart_soc2/vocabulary/v.py", "from __future__ import annotations\nimport re, json\n"),
    "tooling -> anything": ("rampart/cli.py", "import rampart_soc2.registry\nfrom rampart.components import waf\n"),
}


@pytest.mark.parametrize("case", sorted(FORBIDDEN_CASES))
def test_a_forbidden_import_fails(tmp_path: Path, case: str) -> None:
    rel, text = FORBIDDEN_CASES[case]
    problems = violations(_tree(tmp_path, {rel: text}))
    assert len(problems) == 1, f"{case}: expected one violation, got {problems}"
    assert problems[0].startswith(f"{rel}:"), problems[0]


@pytest.mark.parametrize("case", sorted(ALLOWED_CASES))
def test_an_allowed_import_passes(tmp_path: Path, case: str) -> None:
    rel, text = ALLOWED_CASES[case]
    assert violations(_tree(tmp_path, {rel: text})) == [], case


def test_a_violation_says_where_what_why_and_the_fix(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"rampart/components/a.py": "import os\n\n\ndef f():\n    import rampart_soc2.registry\n"})
    (problem,) = violations(root)
    assert problem.startswith("rampart/components/a.py:5: rampart.components.a (components) imports "
                              "rampart_soc2.registry (pack): "), problem
    assert "rampart_soc2.vocabulary" in problem and "drop the import" in problem
