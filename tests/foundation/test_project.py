"""The project files agree with Pulumi's schema, the config model, the README and CI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from rampart import reference

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schemas" / "pulumi-project.schema.json"
SHARED_SCHEMA = ROOT.parent / "shared" / "schemas" / "pulumi-project.schema.json"


def test_pulumi_yaml_matches_pulumis_project_schema() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    jsonschema.validate(project, json.loads(SCHEMA.read_text()))
    assert project["name"] == "rampart"
    assert project["stackConfigDir"] == "stacks"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"


def test_schema_check_rejects_a_broken_project_file() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    project["runtime"] = {"name": "python", "virtualenv": ".venv"}  # options misplaced
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(project, json.loads(SCHEMA.read_text()))


@pytest.mark.skipif(not SHARED_SCHEMA.exists(), reason="the team's shared/ folder is not beside this checkout")
def test_vendored_schema_is_the_shared_one() -> None:
    assert json.loads(SCHEMA.read_text()) == json.loads(SHARED_SCHEMA.read_text())


def test_pulumi_yaml_declares_every_stack_setting() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["config"] == reference.pulumi_yaml_config(), "run: python -m rampart.reference --write"


def test_readme_configuration_reference_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert reference.markdown_reference() in readme, "README's configuration reference is stale: python -m rampart.reference --write"


def readme_commands() -> list[str]:
    """The commands in the README's quick start code block."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", section, re.S)
    assert block, "the quick start has no code block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip() and not line.strip().startswith("#")]


def test_quick_start_is_two_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2, commands


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    test_command = readme_commands()[1]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines, f".ci/run does not run the README's test command {test_command!r}"


def test_mypy_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "__main__.py", "rampart"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_lock_pins_every_declared_dependency_at_its_declared_version() -> None:
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["test"]]]
    locked = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            locked[canonicalize_name(name)] = version
    for req in declared:
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} is declared in pyproject.toml but not in requirements.lock: run scripts/lock"
        assert req.specifier.contains(locked[name]), f"{req.name}: pyproject says {req.specifier}, the lock {locked[name]}: run scripts/lock"


def test_packages_are_found_under_ramparts_own_names_only() -> None:
    """setuptools discovers the packages (tests/packaging checks the built wheel holds every one);
    the discovery may only pick up Rampart's own import names, never a bare generic one."""
    import tomllib

    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert find["include"] == ["rampart", "rampart.*", "rampart_soc2", "rampart_soc2.*"]
    assert find["where"] == [".", "policy/soc2"]
