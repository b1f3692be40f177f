"""A stack's plan (`rampart plan`, rampart.commands.plan): the project's real Pulumi program run
under the mock engine with that stack's config.

No cloud account, no Pulumi CLI and no provider plugins: the program's resources are recorded as
the engine would receive them, rendered as a tree and counts, and as JSON (secrets redacted: those
marked secret, and any value that looks like a credential).
"""

from __future__ import annotations

import contextlib
import os
import runpy
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rampart.config import engine_config, read_stack_values, validate_region, validate_stack_config
from rampart.errors import UserError, program_error
from rampart.project import Project, load_project, stack_config
from rampart.offline.mock_engine import ProgramRun, RegisteredResource, StackReferenceError, run_program_full
from rampart_soc2.vocabulary.secret_values import redact


def project_info(project_dir: Path) -> tuple[str, Path]:
    """The project's name and its program's entry file, from Pulumi.yaml."""
    project = load_project(project_dir)
    return project.name, project.program()


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


StackOutputs = Mapping[str, Mapping[str, Any]]


def referenced_outputs(project_dir: Path, reference: str, given: StackOutputs, seen: tuple[str, ...]) -> StackOutputs:
    """The outputs of the stacks a stack reads: given ones first, else another stack of this project,
    planned offline first (as `pulumi up` on that stack would have exported them)."""
    if reference in given:
        return given
    project, _ = project_info(project_dir)
    _org, ref_project, ref_stack = reference.split("/")
    if ref_project != project:
        raise UserError(
            f"the stack reads {reference!r}, another project's stack, whose outputs are not known offline; "
            f"pass --stack-outputs {reference}=FILE with the JSON that `pulumi stack output --json` prints there"
        )
    if ref_stack in seen:
        raise UserError(f"stacks reference each other in a cycle: {' -> '.join([*seen, ref_stack])}")
    planned = run_stack(project_dir, ref_stack, given, (*seen, ref_stack))
    return {**given, reference: planned.stack_outputs}


def run_stack(project_dir: Path, stack: str, stack_outputs: StackOutputs | None = None,
              seen: tuple[str, ...] = ()) -> ProgramRun:
    """Run the project's program under the mock engine with the stack's config.

    Rampart's own program (rampart/project.py says how it is recognised) gets its stack file
    validated first and its environment stack planned; any other program gets its config as is.
    """
    project = load_project(project_dir)
    given: StackOutputs = dict(stack_outputs or {})
    secret_keys: tuple[str, ...]
    if project.is_rampart_program:
        path, values = read_stack_values(project_dir, stack)
        config = validate_stack_config(values, path.name)  # fails before any resource is registered
        if config.environment_stack is not None:
            given = referenced_outputs(project_dir, config.environment_stack, given, (*seen, stack) if not seen else seen)
        region, secret_keys = config.region, ()
    else:
        found = stack_config(project, stack)
        path, values, secret_keys = found.path, found.values, found.secret_keys
        region = program_region(values, project.shown(path))
    with _in_project(project.directory):
        try:
            return run_program_full(
                lambda: runpy.run_path(str(project.program()), run_name="__main__"),
                project=project.name,
                stack=stack,
                config=engine_config(values),
                secret_keys=list(secret_keys),
                region=region,
                stack_references=given,
            )
        except StackReferenceError as e:
            raise UserError(f"{path.name}: {e}") from None
        except UserError:
            raise
        except Exception as e:
            raise _refused(e, project, path) from e


def _refused(error: Exception, project: Project, stack_file: Path) -> Exception:
    """What the program raised, pointing where the user wrote the value: in Rampart's own program the
    stack file (its values are the components' args), in any other the program's file, line, component
    and argument. A failure that is no refusal (a bug) is returned as is, for its traceback."""
    if project.is_rampart_program and isinstance(error, ValidationError):
        # The stack file passed its own model but a component refused the values it maps to.
        lines = "\n".join(
            f"  - {'.'.join([error.title, *(str(p) for p in err['loc'])])}: {str(err['msg']).removeprefix('Value error, ')}"
            for err in error.errors()
        )
        return UserError(f"{stack_file.name}: the components refuse these settings:\n{lines}")
    found = program_error(error, project.program(), project.shown(project.program()), project.shown(stack_file))
    return found if found is not None else error


def program_region(values: Mapping[str, Any], where: str) -> str:
    """The AWS region a program deploys to: `aws:region` in its config, else AWS_REGION as the provider reads it."""
    for source, region in (("aws:region", values.get("aws:region")), ("AWS_REGION", os.environ.get("AWS_REGION")),
                           ("AWS_DEFAULT_REGION", os.environ.get("AWS_DEFAULT_REGION"))):
        if region:
            return validate_region(str(region), f"{where}: {source}" if source == "aws:region" else f"{source} (environment)")
    raise UserError(f"{where}: no aws:region; set it (pulumi config set aws:region REGION) or AWS_REGION")


def plan_stack(project_dir: Path, stack: str, stack_outputs: StackOutputs | None = None) -> list[RegisteredResource]:
    """The resources the program registers for `stack`."""
    return run_stack(project_dir, stack, stack_outputs).resources


def to_json(resources: list[RegisteredResource]) -> list[dict[str, Any]]:
    """Resources as JSON: values the program marked secret, and values that look like credentials
    whatever they are called (the pack's secret-value detector), are redacted."""
    return [
        {"urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent_urn, "inputs": redact(r.redacted_inputs())}
        for r in sorted(resources, key=lambda r: r.urn)  # registration order varies between runs
    ]


def render_tree(resources: list[RegisteredResource]) -> str:
    children: dict[str | None, list[RegisteredResource]] = {}
    known = {r.urn for r in resources}
    for r in resources:
        parent = r.parent_urn if r.parent_urn in known else None
        children.setdefault(parent, []).append(r)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for r in sorted(children.get(parent, []), key=lambda r: (r.type, r.name)):  # stable between runs
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
