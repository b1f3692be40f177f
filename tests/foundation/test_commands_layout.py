"""Commands apart from engines (issue 22): the offline engine's modules import one another without
a circle, and the `rampart` subcommands are thin modules over it, loaded only when chosen.

Imports are read from the source with `ast`, function-level ones included (a lazy import is still a
dependency).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RAMPART = ROOT / "rampart"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> Iterator[str]:
    """Every module `path` imports, at any depth of its code: `from a import b` names both `a` and `a.b`
    (b may be a module)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports."""
    modules = {module_name(p): p for p in package.rglob("*.py")}
    return {name: {m for m in imported(path) if m in modules and m != name} for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import circle once, as the path that closes it."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            found.append(path[path.index(node):] + [node])
            return
        if node in done:
            return
        for nxt in sorted(graph[node]):
            visit(nxt, [*path, node])
        done.add(node)

    for start in sorted(graph):
        visit(start, [])
    return found


def test_the_offline_engine_has_no_import_circle() -> None:
    graph = import_graph(RAMPART / "offline")
    assert "rampart.offline.check" in graph and "rampart.offline.report" in graph, sorted(graph)
    assert not cycles(graph), "import circles in rampart/offline: " + "; ".join(" -> ".join(c) for c in cycles(graph))


def test_the_check_and_the_report_share_their_result_and_import_neither_each_other() -> None:
    graph = import_graph(RAMPART / "offline")
    assert "rampart.offline.report" not in graph["rampart.offline.check"], "rampart/offline/check.py imports the report"
    assert "rampart.offline.check" not in graph["rampart.offline.report"], "rampart/offline/report.py imports the check"
    for module in ("rampart.offline.check", "rampart.offline.report"):
        assert "rampart.offline.result" in graph[module], f"{module} does not read CheckResult from rampart.offline.result"


def test_a_circle_is_found_when_there_is_one() -> None:
    """The finder itself: a two-module circle and a three-module one, and none in a chain."""
    assert cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_engine_holds_no_command_line() -> None:
    """argparse wiring lives in rampart/commands: no engine module parses arguments or calls a command."""
    for path in sorted((RAMPART / "offline").rglob("*.py")):
        wiring = sorted(m for m in imported(path) if m == "argparse" or m.startswith(("rampart.commands", "rampart.cli")))
        assert not wiring, f"{path.relative_to(ROOT)} imports {', '.join(wiring)}: command-line wiring belongs in rampart/commands"


def test_the_subcommand_given_is_the_only_one_whose_module_is_registered() -> None:
    from rampart.cli import build_parser
    from rampart.commands import COMMANDS

    for name in COMMANDS:
        parsers = subparsers_of(build_parser([name]))
        registered = sorted(n for n, p in parsers.items() if len(p._actions) > 1)  # a listed-only one has just -h
        assert registered == [name], f"`rampart {name}` registered {registered}"
    assert list(subparsers_of(build_parser([]))) == list(COMMANDS), "`rampart --help` does not list every command in order"


def subparsers_of(parser: Any) -> dict[str, Any]:
    return next(a for a in parser._actions if a.dest == "command").choices  # type: ignore[no-any-return]


def test_the_subcommand_is_the_first_word_that_is_no_option_nor_the_value_of_c() -> None:
    from rampart.cli import chosen_command

    assert chosen_command(["-C", "plan", "check", "--stack", "dev"]) == "check"  # a project directory named `plan`
    assert chosen_command(["-Cplan", "verify", "r.json"]) == "verify"
    assert chosen_command(["--debug", "local", "up", "--stack", "dev"]) == "local"
    assert chosen_command(["plan", "-C", "check"]) == "plan"
    assert chosen_command(["bogus", "plan"]) is None  # argparse then names the bad choice
    assert chosen_command(["--help"]) is None
    assert chosen_command(["-C"]) is None
    assert chosen_command([]) is None


#: What `rampart --help` must not load: Pulumi, the engine, rampart.local, any subcommand's module.
HEAVY = ("pulumi", "pulumi_aws", "grpc", "docker", "rampart.offline", "rampart.local", "rampart.components", "rampart.commands.")


def test_rampart_help_imports_no_engine() -> None:
    code = ("import sys\nfrom rampart.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('--- modules ---')\nprint('\\n'.join(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    listed, _, loaded = done.stdout.partition("--- modules ---")
    assert all(f"    {name}" in listed for name in ("plan", "check", "pack-path", "local")), listed
    heavy = [module for module in loaded.split() if module.startswith(HEAVY)]
    assert "rampart.cli" in loaded.split() and not heavy, f"`rampart --help` imported {', '.join(heavy)}"
