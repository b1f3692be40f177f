"""`rampart plan`: the real program under the mock engine, driven as a user drives it (the CLI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))


def rampart(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "rampart", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module", params=STACKS)
def planned(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    stack = str(request.param)
    out = tmp_path_factory.mktemp("plan") / f"{stack}.json"
    result = rampart("plan", "--stack", stack, "--json", str(out))
    assert result.returncode == 0, result.stderr
    return stack, result, json.loads(out.read_text())


def test_plan_prints_tree_and_counts(planned: tuple[str, subprocess.CompletedProcess[str], list[dict[str, Any]]]) -> None:
    stack, result, resources = planned
    assert f"Plan of stack '{stack}'" in result.stdout
    assert f"{len(resources)} resources by type:" in result.stdout
    for r in resources:
        assert f"{r['type']}  {r['name']}" in result.stdout, f"{r['urn']} missing from the printed tree"


def test_plan_json_lists_urn_type_name_parent_inputs(planned: tuple[str, subprocess.CompletedProcess[str], list[dict[str, Any]]]) -> None:
    stack, _, resources = planned
    assert resources, "the program registered nothing"
    urns = [r["urn"] for r in resources]
    assert len(urns) == len(set(urns)), "duplicate URNs"
    known = set(urns) | {f"urn:pulumi:{stack}::rampart::pulumi:pulumi:Stack::rampart-{stack}"}
    for r in resources:
        # A priced resource also carries its fixed monthly `cost` (issue 23; tests/foundation/test_cost.py).
        assert set(r) - {"cost"} == {"urn", "type", "name", "parent", "inputs"}
        assert r["urn"].startswith(f"urn:pulumi:{stack}::rampart::")
        assert r["parent"] in known, f"{r['urn']} has an unknown parent {r['parent']}"


def test_no_tls_key_or_tls_secret_in_the_plan(planned: tuple[str, subprocess.CompletedProcess[str], list[dict[str, Any]]]) -> None:
    """Issue 23 item 1: the sidecar's image makes its TLS pair at start, so no stack's plan has a
    `tls:` resource, a Secrets Manager secret for it, a proxy container reading one, or a key."""
    stack, _, resources = planned
    made = [(r["type"], r["name"]) for r in resources
            if r["type"].startswith("tls:") or r["type"].startswith("aws:secretsmanager/")]
    assert made == [], f"{stack}: TLS material or a secret in the plan: {made}"
    proxies = [c for r in resources if r["type"] == "aws:ecs/taskDefinition:TaskDefinition"
               for c in json.loads(r["inputs"]["containerDefinitions"]) if c["name"] == "proxy"]
    assert proxies or stack not in ("dev", "prod"), f"{stack}: its services run the sidecar; none found"
    for proxy in proxies:
        assert not proxy.get("secrets"), f"{stack}: the proxy container reads {proxy['secrets']}"
        assert {e["name"] for e in proxy["environment"]} == {"PROXY_TLS_COMMON_NAME", "PROXY_TLS_VALIDITY_DAYS"}
    assert json.dumps(resources).count("PRIVATE" + " KEY") == 0


def test_plan_json_redacts_secrets(planned: tuple[str, subprocess.CompletedProcess[str], list[dict[str, Any]]]) -> None:
    _, _, resources = planned
    text = json.dumps(resources)
    for marker in ("PRIVATE" + " KEY", "mock-private-key", "mock-ecr-password"):
        assert marker not in text


def test_plan_json_redacts_credential_values_whatever_they_are_called(project_copy: Path, tmp_path: Path) -> None:
    """A credential that reaches a resource input outside the validated stack keys (here a program
    edit) is still redacted in the JSON, inside JSON-string inputs too; ordinary values are kept."""
    password_url = "postgres://user:" + "pass@db.internal/shop"
    with (project_copy / "__main__.py").open("a") as program:
        program.write(
            "\nimport json as _json\nimport pulumi_aws as _aws\n"
            f"_aws.sns.Topic('leak', tags={{'conn': {password_url!r}, 'docs': 'https://example.com/docs'}})\n"
            "_aws.ecs.TaskDefinition('leak-task', family='leak', container_definitions=_json.dumps("
            f"[{{'name': 'a', 'environment': [{{'name': 'DATABASE_URL', 'value': {password_url!r}}}]}}]))\n"
        )
    out = tmp_path / "plan.json"
    result = rampart("plan", "--stack", "dev", "--json", str(out), cwd=project_copy)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "pass@" not in text, "a password in a URL reached the plan JSON"
    leak = next(r for r in json.loads(text) if r["name"] == "leak")
    assert leak["inputs"]["tags"]["conn"].startswith("[redacted") and leak["inputs"]["tags"]["docs"] == "https://example.com/docs"
    task = next(r for r in json.loads(text) if r["name"] == "leak-task")
    assert json.loads(task["inputs"]["containerDefinitions"])[0]["environment"][0]["value"].startswith("[redacted")


def write_stack(project: Path, name: str, mutate: Any) -> None:
    doc = yaml.safe_load((project / "stacks" / "Pulumi.dev.yaml").read_text())
    mutate(doc["config"])
    (project / "stacks" / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(doc))


def test_bad_stack_file_fails_with_the_message_and_no_traceback(project_copy: Path) -> None:
    def mutate(config: dict[str, Any]) -> None:
        config["rampart:services"]["web"]["cpu"] = 300
        config["rampart:services"]["web"]["memroy"] = 1024

    write_stack(project_copy, "broken", mutate)
    result = rampart("plan", "-C", str(project_copy), "--stack", "broken")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "rampart:services.web.cpu: 300 is not valid" in result.stderr
    assert "rampart:services.web.memroy: unknown key. Did you mean `memory`?" in result.stderr
    assert result.stdout == "", "nothing may be planned from a bad stack file"


def test_unknown_stack_fails_cleanly() -> None:
    result = rampart("plan", "--stack", "nope")
    assert result.returncode == 2
    assert "unknown stack 'nope'" in result.stderr and "Traceback" not in result.stderr


def test_plan_works_on_a_copy_of_the_project(project_copy: Path) -> None:
    write_stack(project_copy, "copy", lambda config: config["rampart:services"].update(copied=config["rampart:services"].pop("api")))
    result = rampart("plan", "-C", str(project_copy), "--stack", "copy")
    assert result.returncode == 0, result.stderr
    assert "copied-service" in result.stdout


def test_unwritable_output_path_fails_cleanly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = rampart("plan", "--stack", "dev", "--json", str(blocker / "out.json"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and str(blocker) in result.stderr


def test_the_components_rules_are_reported_against_the_stack_key(project_copy: Path) -> None:
    def mutate(config: dict[str, Any]) -> None:
        config["rampart:environment"]["waf"]["countOnlyRules"] = {"AWSManagedRulesCommonRuleSet": ["bad rule name!"]}

    write_stack(project_copy, "refused", mutate)
    result = rampart("plan", "-C", str(project_copy), "--stack", "refused")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "pydantic.dev" not in result.stderr
    assert "rampart:environment.waf: count_only_rules[AWSManagedRulesCommonRuleSet]: 'bad rule name!' is not a WAF rule name" in result.stderr
