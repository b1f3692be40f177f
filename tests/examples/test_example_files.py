"""Every program under examples/ is complete as a team keeps it: a Pulumi.yaml that Pulumi's own
project schema accepts, a stack file beside it and a README saying how to run it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.examples.examples_support import EXAMPLES, ROOT

SCHEMA = json.loads((ROOT / "schemas" / "pulumi-project.schema.json").read_text())
PROGRAMS = sorted(p.parent for p in EXAMPLES.rglob("Pulumi.yaml"))
EXPECTED_EXAMPLES = {"alb-service", "two-services-nginx", "platform-and-app", "plain-pulumi"}


def test_every_example_is_here() -> None:
    assert {p.name for p in EXAMPLES.iterdir() if p.is_dir()} == EXPECTED_EXAMPLES
    assert {p.relative_to(EXAMPLES).parts[0] for p in PROGRAMS} == EXPECTED_EXAMPLES


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_each_program_is_a_complete_pulumi_project(program: Path) -> None:
    project = yaml.safe_load((program / "Pulumi.yaml").read_text())
    jsonschema.validate(project, SCHEMA)
    assert project["runtime"]["name"] == "python", project["runtime"]
    assert (program / "__main__.py").is_file() and (program / "Pulumi.dev.yaml").is_file(), sorted(program.iterdir())
    readme = next(p / "README.md" for p in (program, program.parent) if (p / "README.md").is_file())
    assert "rampart plan --stack dev" in readme.read_text() and "rampart check --stack dev" in readme.read_text(), readme
