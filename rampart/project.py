"""A Pulumi Python project as the Pulumi CLI reads it: `Pulumi.yaml`, its program, its stack files.

Works for any Pulumi Python project, not only Rampart's: `rampart plan` and `rampart check` run the
program a project names under the mock engine with the stack's config, as `pulumi preview` would.

Rampart's own stack-file model (rampart/config.py) applies only to Rampart's program, which is
detected explicitly: the program's entry file imports `rampart.program` (as this repository's
`__main__.py` does). Any other program, for example an app team's that composes `rampart.components`
itself, gets its stack file as Pulumi gives it: every key in any namespace, bare keys in the
project's namespace, project-level defaults from `Pulumi.yaml`, `secure:` values as secrets.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rampart.errors import UserError

#: The module whose import marks a program as Rampart's own (its stack files follow rampart/config.py).
RAMPART_PROGRAM_MODULE = "rampart.program"
#: What offline runs put where a `secure:` value would be decrypted: the program sees a secret string.
SECRET_PLACEHOLDER = "[secret]"


@dataclass(frozen=True)
class Project:
    directory: Path
    name: str
    runtime: str
    main: Path
    """The program's entry file."""
    stack_config_dir: Path
    defaults: dict[str, Any]
    """Project-level config from Pulumi.yaml (values and declared defaults), namespaced keys."""

    @property
    def is_rampart_program(self) -> bool:
        """True when the program is Rampart's own: its entry file imports `rampart.program`."""
        return RAMPART_PROGRAM_MODULE in imported_modules(self.program())

    def program(self) -> Path:
        """The program's entry file, which must exist to run (Pulumi.yaml `main`, default __main__.py)."""
        if not self.main.is_file():
            raise UserError(f"{self.directory / 'Pulumi.yaml'}: the program entry {self.shown(self.main)} does not exist")
        return self.main

    def shown(self, path: Path) -> str:
        """`path` as the user knows it: relative to the project when inside it."""
        return str(path.relative_to(self.directory)) if path.is_relative_to(self.directory) else str(path)


def imported_modules(entry: Path) -> set[str]:
    """The modules a Python file imports at any level (`import a.b`, `from a.b import c` -> a.b)."""
    try:
        tree = ast.parse(entry.read_text(), str(entry))
    except SyntaxError as e:
        raise UserError(f"{entry}: the program is not valid Python ({e.msg}, line {e.lineno})") from None
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _namespaced(key: str, project: str) -> str:
    """Pulumi puts a bare config key in the project's namespace."""
    return key if ":" in key else f"{project}:{key}"


def _project_defaults(config: Any, project: str) -> dict[str, Any]:
    """Project-level config: a plain value, or a declaration's `value`/`default`."""
    found: dict[str, Any] = {}
    for key, spec in dict(config or {}).items():
        if isinstance(spec, dict) and ("value" in spec or "default" in spec):
            found[_namespaced(str(key), project)] = spec.get("value", spec.get("default"))
        elif not isinstance(spec, dict):
            found[_namespaced(str(key), project)] = spec
    return found


def load_project(directory: Path) -> Project:
    """The project in `directory`, from its Pulumi.yaml; only Python programs can run offline."""
    directory = directory.resolve()
    project_file = directory / "Pulumi.yaml"
    if not project_file.is_file():
        raise UserError(f"no Pulumi.yaml in {directory}; run from a Pulumi project directory or pass -C DIR")
    try:
        doc = yaml.safe_load(project_file.read_text()) or {}
    except yaml.YAMLError as e:
        raise UserError(f"{project_file} is not valid YAML: {e}") from None
    if not isinstance(doc, dict) or not doc.get("name"):
        raise UserError(f"{project_file} has no project `name`")
    runtime = doc.get("runtime")
    runtime_name = str(runtime.get("name") if isinstance(runtime, dict) else runtime)
    if runtime_name != "python":
        raise UserError(f"{project_file}: runtime is {runtime_name!r}; rampart runs Python programs only")
    name = str(doc["name"])
    main = directory / str(doc.get("main") or ".")
    if main.is_dir():
        main = main / "__main__.py"
    return Project(directory, name, runtime_name, main, directory / str(doc.get("stackConfigDir") or "."),
                   _project_defaults(doc.get("config"), name))


def stack_file(project: Project, stack: str) -> Path:
    """The stack file for `stack`, honouring the project's `stackConfigDir`."""
    path = project.stack_config_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        where = project.shown(project.stack_config_dir) if project.stack_config_dir != project.directory else "."
        found = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml")
                       for p in project.stack_config_dir.glob("Pulumi.*.yaml"))
        raise UserError(f"unknown stack {stack!r}: no {path.name} in {project.directory}/{where} (stackConfigDir); "
                        f"stacks found: {', '.join(found) or 'none'}")
    return path


def read_stack_file(project: Project, stack: str) -> tuple[Path, dict[str, Any]]:
    """The stack file's `config:` mapping, as written (keys not namespaced, `secure:` values kept)."""
    path = stack_file(project, stack)
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise UserError(f"{project.shown(path)} is not valid YAML: {e}") from None
    except ValueError as e:  # a value YAML types but cannot build, such as the date 2027-13-01
        raise UserError(f"{project.shown(path)}: a value YAML reads as a date or number is not one ({e}); "
                        "quote it if it is text") from None
    config = doc.get("config", {}) if isinstance(doc, dict) else None
    if not isinstance(config, dict):
        raise UserError(f"{project.shown(path)}: `config` must be a mapping of keys to values")
    return path, config


@dataclass(frozen=True)
class StackValues:
    """A stack's config as the engine gives it to the program."""

    path: Path
    values: dict[str, Any]
    """Namespaced keys: project defaults under the stack file's values."""
    secret_keys: tuple[str, ...]
    """Keys whose stack-file value is `secure:` (offline: SECRET_PLACEHOLDER, marked secret)."""


def stack_config(project: Project, stack: str) -> StackValues:
    """Any program's stack config: every namespace, bare keys in the project's, secrets kept secret."""
    path, raw = read_stack_file(project, stack)
    values = dict(project.defaults)
    secret_keys: list[str] = []
    for key, value in raw.items():
        name = _namespaced(str(key), project.name)
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[name] = SECRET_PLACEHOLDER
            secret_keys.append(name)
        else:
            values[name] = value
    return StackValues(path, values, tuple(secret_keys))
