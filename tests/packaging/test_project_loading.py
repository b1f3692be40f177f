"""Any Pulumi Python project's files, read as the Pulumi CLI reads them (rampart/project.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_team import write_project

from rampart.errors import UserError
from rampart.project import SECRET_PLACEHOLDER, load_project, stack_config

ROOT = Path(__file__).resolve().parents[2]


def test_only_a_program_importing_rampart_program_is_ramparts_own(tmp_path: Path) -> None:
    assert load_project(ROOT).is_rampart_program
    assert not load_project(write_project(tmp_path / "shop")).is_rampart_program


def test_the_missing_stack_message_says_where_it_looked_and_what_it_found(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path / "shop"))
    with pytest.raises(UserError, match=r"unknown stack 'prod': no Pulumi.prod.yaml in .*/shop/deploy \(stackConfigDir\); stacks found: dev$"):
        stack_config(project, "prod")


def test_stack_config_is_namespaced_defaulted_and_secrets_stay_secret(tmp_path: Path) -> None:
    project_dir = write_project(tmp_path / "shop", extra="  team: shop\n  dbPassword:\n    secure: v1:abc\n")
    found = stack_config(load_project(project_dir), "dev")
    assert found.values["shop:team"] == "shop"  # a bare key is in the project's namespace
    assert found.values["shop:replicas"] == 2  # Pulumi.yaml's declared default
    assert found.values["aws:region"] == "us-east-1"
    assert found.values["shop:dbPassword"] == SECRET_PLACEHOLDER and found.secret_keys == ("shop:dbPassword",)


def test_a_non_python_project_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: web\nruntime: nodejs\n")
    with pytest.raises(UserError, match="runtime is 'nodejs'; rampart runs Python programs only"):
        load_project(tmp_path)


def test_a_value_yaml_types_but_cannot_build_is_refused_naming_the_file(tmp_path: Path) -> None:
    """`expires: 2027-13-01` is a date to YAML, and no date: one line naming the file, not a traceback."""
    project = load_project(write_project(tmp_path / "shop", extra="  expires: 2027-13-01\n"))
    with pytest.raises(UserError, match=r"Pulumi.dev.yaml: a value YAML reads as a date or number is not one "
                                        r"\(month must be in 1..12\); quote it if it is text"):
        stack_config(project, "dev")
