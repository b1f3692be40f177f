"""Errors a user can cause and fix; the CLI prints them without a traceback (`--debug` shows it).

`UserError` is a problem in the user's input (stack file, arguments, program) and exits 2.
`PackError` is a policy pack that could not start or whose policy raised; it exits 3, so CI can
tell a crashed check from a failed one (1).

`program_error` turns what a Pulumi program raised while it ran (a component refusing an argument,
two services that clash, a missing `config.require()` key) into one message that points where the
user wrote the value: the program file and line, the component and resource name written there, and
the argument as written in Python (snake_case), not the camelCase key of a stack file.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, get_args, get_origin


class UserError(Exception):
    """A problem in the user's input (stack file, arguments); the message says what and how to fix it."""

    exit_code = 2


class PackError(UserError):
    """A policy pack that failed to start, or whose policy raised: that pack's error, with its message."""

    exit_code = 3


#: Exit codes of `rampart` (documented in `rampart check --help`, docs/policy.md and the README).
EXIT_CODES = {
    0: "passed: no mandatory violation",
    1: "a mandatory violation",
    2: "a usage or configuration error (arguments, stack file, program)",
    3: "a policy pack failed to start or a policy raised",
}


def exit_codes_text() -> str:
    """The exit codes, as `--help` shows them."""
    return "exit codes:\n" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())


# ----------------------------------------------------------------------------- where in the program

@dataclass(frozen=True)
class CallSite:
    """The statement of the program that was running when it failed."""

    file: str
    """The program file as the user knows it (relative to the project)."""
    line: int
    component: str | None = None
    """The callee written there, when it is a resource call `Type("name", ...)`."""
    resource: str | None = None

    def __str__(self) -> str:
        where = f"{self.file} line {self.line}"
        if self.component and self.resource:
            return f"{where}, {self.component}({self.resource!r}, ...)"
        return where


def _program_line(traceback: TracebackType | None, program: Path) -> int | None:
    """The last line of `program` on the traceback: where the program called what failed."""
    line = None
    while traceback is not None:
        if Path(traceback.tb_frame.f_code.co_filename).resolve() == program.resolve():
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _resource_call(program: Path, line: int) -> tuple[str, str] | None:
    """`(callee, name)` of the outermost call spanning `line` that names a resource: `Type("name", ...)`."""
    try:
        tree = ast.parse(program.read_text(), str(program))
    except (OSError, SyntaxError):
        return None
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and node.lineno <= line <= (node.end_lineno or node.lineno)
             and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)]
    if not calls:
        return None
    outer = min(calls, key=lambda node: (node.lineno, -(node.end_lineno or node.lineno)))
    callee = ast.unparse(outer.func).rsplit(".", 1)[-1]
    if not callee[:1].isupper():  # a function (`config.require("key")`), not a resource's class
        return None
    return callee, str(outer.args[0].value)  # type: ignore[attr-defined]


def call_site(error: BaseException, program: Path, shown: str) -> CallSite | None:
    """Where in `program` the failure was raised from, or None when the program is not on the traceback."""
    line = _program_line(error.__traceback__, program)
    if line is None:
        return None
    found = _resource_call(program, line)
    return CallSite(shown, line, *(found or (None, None)))


# ----------------------------------------------------------------------------- the argument, in Python

def _models() -> dict[str, type]:
    """Every pydantic model class loaded, by name (the title a ValidationError carries), Rampart's first."""
    from pydantic import BaseModel

    found: dict[str, type] = {}
    pending: list[type] = [BaseModel]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__name__ not in found or cls.__module__.startswith("rampart"):
            found[cls.__name__] = cls
    return found


def _model_in(annotation: Any) -> type | None:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        model = _model_in(arg)
        if model is not None:
            return model
    return None


def python_path(model: type | None, loc: Sequence[int | str], *, strict: bool = False) -> str:
    """A pydantic error location as the argument path written in Python: field names, not aliases
    (`imageRepositoryArn` -> `image_repository_arn`), list items as `[i]`, map keys as `['key']`.
    `strict`: a part that is no field of its model is a KeyError, not kept as given."""
    text, map_key_next = "", False
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        if map_key_next:  # the key of a map of models (e.g. services by name)
            text, map_key_next = text + f"[{part!r}]", False
            continue
        fields: Mapping[str, Any] = getattr(model, "model_fields", {}) if model is not None else {}
        name = next((n for n, f in fields.items() if part in (n, f.alias)), str(part))
        if strict and name not in fields:
            raise KeyError(f"{part!r} is not an argument of {getattr(model, '__name__', model)}")
        text += f".{name}" if text else name
        annotation = fields[name].annotation if name in fields else None
        model = _model_in(annotation)
        map_key_next = get_origin(annotation) is dict
    return text


def _validation_lines(error: Any) -> list[str]:
    """One line per refused argument: `WafSettings.rate_limit = 5: Input should be greater than or equal to 10`."""
    model = _models().get(error.title)
    lines = []
    for item in error.errors():
        path = python_path(model, item["loc"])
        argument = f"{error.title}.{path}" if path else error.title
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "missing":
            lines.append(f"{argument} is required, but not given")
        elif item["type"] == "extra_forbidden":
            lines.append(f"{argument}: {error.title} has no argument `{path.rsplit('.', 1)[-1]}`")
        elif isinstance(item.get("input"), (dict, list)) or "input" not in item:
            lines.append(f"{argument}: {message}")
        else:
            lines.append(f"{argument} = {item['input']!r}: {message}")
    return lines


def _config_missing_lines(error: Any, stack_file: str) -> list[str]:
    key = str(error.key)
    bare = key.split(":", 1)[1] if ":" in key else key
    return [f"the program requires config key `{key}`, which {stack_file} does not set; "
            f"set it with `pulumi config set {bare} VALUE` (or add `{key}: VALUE` under `config:` in {stack_file})"]


def program_error(error: BaseException, program: Path, shown: str, stack_file: str) -> UserError | None:
    """What a program raised while it ran, as one UserError pointing into the program; None for a
    failure that is not the user's input (a bug: the CLI shows its traceback)."""
    from pulumi.config import ConfigMissingError, ConfigTypeError
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        lines = _validation_lines(error)
    elif isinstance(error, ConfigMissingError):
        lines = _config_missing_lines(error, stack_file)
    elif isinstance(error, ConfigTypeError):
        lines = [f"config key `{error.key}` in {stack_file} is {error.value!r}, not the {error.expect_type} the program asks for"]
    elif isinstance(error, ValueError):
        lines = [str(error)]
    else:
        return None
    site = call_site(error, program, shown)
    where = str(site) if site is not None else shown
    if len(lines) == 1:
        return UserError(f"{where}: {lines[0]}")
    return UserError(f"{where}: the program's arguments are refused:\n" + "\n".join(f"  - {line}" for line in lines))
