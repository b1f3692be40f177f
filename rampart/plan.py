"""`rampart plan`: run the project's real Pulumi program under the mock engine with a stack's config.

No cloud account, no Pulumi CLI and no provider plugins: the program's resources are recorded as
the engine would receive them, printed as a tree, and optionally written as JSON (secrets redacted).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import runpy
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rampart.config import engine_config, read_stack_values, validate_stack_config
from rampart.errors import UserError
from rampart.mock_engine import STACK_TYPE, ProgramRun, RegisteredResource, run_program_full


def project_info(project_dir: Path) -> tuple[str, Path]:
    """The project's name and its program's entry file, from Pulumi.yaml."""
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    name = str(project.get("name", project_dir.name))
    main = project_dir / str(project.get("main", "."))
    if main.is_dir():
        main = main / "__main__.py"
    if not main.is_file():
        raise UserError(f"{project_dir}: the program entry {main.name} does not exist")
    return name, main


@contextlib.contextmanager
def _in_project(project_dir: Path) -> Iterator[None]:
    """Run with the project as working directory and import root, as `pulumi up` does."""
    old_cwd = Path.cwd()
    sys.path.insert(0, str(project_dir))
    os.chdir(project_dir)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        with contextlib.suppress(ValueError):
            sys.path.remove(str(project_dir))


def run_stack(project_dir: Path, stack: str) -> ProgramRun:
    """Validate the stack file, then run the program under the mock engine with its config."""
    path, values = read_stack_values(project_dir, stack)
    config = validate_stack_config(values, path.name)  # fails before any resource is registered
    name, main = project_info(project_dir)
    with _in_project(project_dir):
        try:
            return run_program_full(
                lambda: runpy.run_path(str(main), run_name="__main__"),
                project=name,
                stack=stack,
                config=engine_config(values),
                region=config.region,
            )
        except ValidationError as e:
            # The stack file passed its own model but a component refused the values it maps to.
            lines = "\n".join(
                f"  - {'.'.join([e.title, *(str(p) for p in err['loc'])])}: {str(err['msg']).removeprefix('Value error, ')}"
                for err in e.errors()
            )
            raise UserError(f"{path.name}: the components refuse these settings:\n{lines}") from None


def plan_stack(project_dir: Path, stack: str) -> list[RegisteredResource]:
    """The resources the program registers for `stack`."""
    return run_stack(project_dir, stack).resources


def to_json(resources: list[RegisteredResource]) -> list[dict[str, Any]]:
    return [
        {"urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent_urn, "inputs": r.redacted_inputs()}
        for r in resources
    ]


def render_tree(resources: list[RegisteredResource]) -> str:
    children: dict[str | None, list[RegisteredResource]] = {}
    known = {r.urn for r in resources}
    for r in resources:
        parent = r.parent_urn if r.parent_urn in known else None
        children.setdefault(parent, []).append(r)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for r in children.get(parent, []):
            # The name AWS will know it by, when it has one (given, from a prefix, or auto-generated).
            aws_name = f"  [{r.physical_name}]" if r.physical_name and r.physical_name != r.name else ""
            lines.append(f"{'  ' * depth}{r.type}  {r.name}{aws_name}")
            walk(r.urn, depth + 1)

    walk(None, 0)
    return "\n".join(lines)


def render_counts(resources: list[RegisteredResource]) -> str:
    counts = Counter(r.type for r in resources)
    width = max((len(t) for t in counts), default=0)
    rows = [f"  {t.ljust(width)}  {n}" for t, n in sorted(counts.items())]
    return "\n".join([f"{len(resources)} resources by type:", *rows])


def run(args: argparse.Namespace) -> int:
    result = run_stack(args.project_dir, args.stack)
    resources = [r for r in result.resources if r.type != STACK_TYPE]
    print(f"Plan of stack {args.stack!r} (mock engine; nothing was deployed)\n")
    print(render_tree(resources))
    print()
    print(render_counts(resources))
    if result.stack_outputs:
        print("\nOutputs:")
        for key, value in sorted(result.stack_outputs.items()):
            shown = "[secret]" if key in result.secret_outputs else json.dumps(value)
            print(f"  {key}: {shown}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(resources), indent=2, sort_keys=True) + "\n")
        print(f"\nWrote {len(resources)} resources to {args.json}")
    return 0


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("plan", parents=[parent], help="show what a stack would create (offline, mock engine)")
    p.add_argument("--stack", "-s", required=True, help="stack name: stacks/Pulumi.<NAME>.yaml")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the resources as JSON (secrets redacted)")
    p.set_defaults(func=run)
