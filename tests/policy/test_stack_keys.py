"""Remediation in the user's words: a finding of `rampart check` names the stack key that controls it."""
from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from rampart.check import main
from rampart.config import StackConfig
from rampart.stack_keys import STACK_KEYS, stack_keys
from rampart_soc2.registry import POLICIES


def _resolves(key: str) -> bool:
    """Does `rampart:section.field.sub` name a field of the stack-file model (by its camelCase alias)?"""
    namespace, _, path = key.partition(":")
    if namespace != "rampart":
        return False
    model: Any = StackConfig
    in_map = False
    for part in path.split("."):
        if in_map != (part == "<name>"):  # a map section's entries: rampart:services.<name>.memory
            return False
        if in_map:
            in_map = False
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return False
        fields = {(f.alias or n): f for n, f in model.model_fields.items()}
        if part not in fields:
            return False
        annotation = fields[part].annotation
        in_map = typing.get_origin(annotation) is dict
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return True


def test_every_mapped_key_is_a_key_of_the_stack_file() -> None:
    unknown_policies = sorted(set(STACK_KEYS) - set(POLICIES))
    assert unknown_policies == [], f"mapped policies that do not exist: {unknown_policies}"
    missing = sorted({k for pid, spec in POLICIES.items() for k in stack_keys(pid, spec.thresholds) if not _resolves(k)})
    assert missing == [], f"stack keys that the stack-file model does not have: {missing}"


def test_the_resolver_refuses_a_key_that_is_not_there() -> None:
    assert _resolves("rampart:environment.monitoring.logRetentionDays")
    assert not _resolves("rampart:environment.monitoring.logRetentionDayz")
    assert _resolves("rampart:services.<name>.memory") and not _resolves("rampart:services.memory")


@pytest.mark.e2e
def test_check_names_the_stack_key_and_file_of_a_finding(project_copy: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = project_copy / "stacks" / "Pulumi.prod.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["config"]["rampart:environment"]["monitoring"]["logRetentionDays"] = 90
    path.write_text(yaml.safe_dump(doc))
    code = main(["-C", str(project_copy), "--stack", "prod", "--report", str(tmp_path), "--format", "json,md"])
    out = capsys.readouterr().out
    assert code == 1, out
    lines = out.splitlines()
    at = next(i for i, l in enumerate(lines) if l.startswith("- [mandatory] aws-cloudwatch-loggroup-require-retention on "))
    hint = lines[at + 1]
    assert hint.strip().startswith("In your stack file stacks/Pulumi.prod.yaml: set `rampart:environment.monitoring.logRetentionDays`"), hint
    assert "`rampart:policy.minLogRetentionDays`" in hint, hint
    report = json.loads((tmp_path / "soc2-prod.json").read_text())["report"]
    shown = {v["inYourStack"] for v in report["violations"] if v["policy"] == "aws-cloudwatch-loggroup-require-retention"}
    assert shown == {hint.strip()}
    assert "rampart:environment.monitoring.logRetentionDays" in (tmp_path / "soc2-prod.md").read_text()
