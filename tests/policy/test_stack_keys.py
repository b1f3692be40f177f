"""Remediation in the user's words: a finding of `rampart check` names the stack key that controls it."""
from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from rampart.cli import main as cli
from rampart.config import StackConfig
from rampart.offline.stack_keys import STACK_KEYS, stack_keys
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
    # One task on prod: the component accepts it (the task count mirrors no component bound), the pack fails it.
    # (Log retention, the example here before issue 22, is now refused at plan: tests/foundation/test_thresholds.py.)
    path = project_copy / "stacks" / "Pulumi.prod.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["config"]["rampart:services"]["web"].update(desiredCount=1, minCount=1)
    path.write_text(yaml.safe_dump(doc))
    code = cli(["check", "-C", str(project_copy), "--stack", "prod", "--report", str(tmp_path), "--format", "json,md"])
    out = capsys.readouterr().out
    assert code == 1, out
    lines = out.splitlines()
    at = next(i for i, l in enumerate(lines) if l.startswith("- [mandatory] aws-ecs-service-require-min-task-count on "))
    hint = lines[at + 1]
    assert hint.strip().startswith("In your stack file stacks/Pulumi.prod.yaml: set `rampart:services.<name>.desiredCount`"), hint
    assert "`rampart:policy.minTaskCount`" in hint, hint
    report = json.loads((tmp_path / "soc2-prod.json").read_text())["report"]
    shown = {v["inYourStack"] for v in report["violations"] if v["policy"] == "aws-ecs-service-require-min-task-count"}
    assert shown == {hint.strip()}
    assert "rampart:services.<name>.desiredCount" in (tmp_path / "soc2-prod.md").read_text()


# ----------------------------------------------------------------------------- in a program's words

def test_every_mapped_key_is_a_component_argument_in_python() -> None:
    from rampart.offline.stack_keys import component_argument

    found = {key: component_argument(key) for keys in STACK_KEYS.values() for key in keys}
    assert found["rampart:environment.waf.rateLimit"] == "EnvironmentArgs.waf.rate_limit"
    assert found["rampart:services.<name>.readonlyRootFilesystem"] == "WebServiceArgs.readonly_root_filesystem"
    assert found["rampart:services.<name>.image.build.dockerfile"] == "ImageArgs.dockerfile"
    assert all(not any(c.isupper() for c in argument.split(".", 1)[1]) for argument in found.values()), found


def test_a_key_that_is_no_component_argument_is_refused() -> None:
    from rampart.offline.stack_keys import component_argument

    with pytest.raises(KeyError, match="'rateLimitt' is not an argument of WafSettings"):
        component_argument("rampart:environment.waf.rateLimitt")


def test_check_names_the_component_argument_in_a_program_that_is_not_ramparts(tmp_path: Path) -> None:
    """The program tells the component a wider bound (`policy_thresholds={"rateLimitMin": 10}`) than its stack
    file gives the pack (none: the pack's default, 100), so `WafSettings(rate_limit=50)` passes the component
    and fails the check: the remediation names the argument in the program, not a stack key it lacks.
    (Under the same thresholds the component refuses 50 itself: tests/foundation/test_thresholds.py.)"""
    import subprocess
    import sys

    (tmp_path / "Pulumi.yaml").write_text("name: shop\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-east-1\n")
    (tmp_path / "__main__.py").write_text(
        "from rampart.components import Environment, EnvironmentArgs, LoadBalancerSettings, MonitoringArgs\n"
        "from rampart.components.compliance import ComplianceSettings\n"
        "from rampart.components.waf import WafSettings\n"
        'Environment("shop", EnvironmentArgs(\n'
        '    load_balancer=LoadBalancerSettings(certificate_arns=["arn:aws:acm:us-east-1:123456789012:certificate/abc"]),\n'
        '    monitoring=MonitoringArgs(alarm_email_endpoints=["oncall@example.com"]),\n'
        '    compliance=ComplianceSettings(recorder="none"),\n'
        '    waf=WafSettings(rate_limit=50), policy_thresholds={"rateLimitMin": 10}))\n')
    result = subprocess.run([sys.executable, "-m", "rampart", "check", "--stack", "dev", "--report", str(tmp_path / "r"),
                             "--format", "json"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert ("In your program __main__.py: set `EnvironmentArgs.waf.rate_limit` / `EnvironmentArgs.waf.scoped_rate_limits`; "
            "the policy's threshold is `rampart:policy.rateLimitMin` / `rampart:policy.rateLimitMax` in Pulumi.dev.yaml."
            ) in result.stdout, result.stdout
    assert "rampart:environment." not in result.stdout  # no stack key (the URN's type token may say rampart:environment:)
    assert "rampart:environment.waf" not in (tmp_path / "r" / "soc2-dev.json").read_text()


@pytest.mark.e2e
def test_the_safe_deploy_advice_names_the_deployment_keys_not_only_the_bake_threshold(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """dev deploys rolling, which the safe-deploy policy advises against there: the way out is the service's
    `deployment` section (a strategy, a bake time, rollback alarms), which no `minBakeTimeMinutes` fixes."""
    root = Path(__file__).resolve().parents[2]
    code = cli(["check", "-C", str(root), "--stack", "dev", "--report", str(tmp_path), "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    at = next(i for i, l in enumerate(lines) if l.startswith("- [advisory] aws-ecs-service-require-alarm-rollback-and-bake on "))
    hint = lines[at + 1].strip()
    assert hint.startswith("In your stack file stacks/Pulumi.dev.yaml: set `rampart:services.<name>.deployment.strategy`"), hint
    assert "`rampart:services.<name>.deployment.bakeTimeMinutes`" in hint and "`rampart:policy.minBakeTimeMinutes`" in hint, hint
