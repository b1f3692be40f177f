"""Issue 10's acceptance on the repository's stacks: one environment, many services; a service is
added and removed by config alone; a services-only stack attaches to another stack's environment."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from rampart.offline.check import check_stack
from rampart.offline.plan import run_stack

ROOT = Path(__file__).resolve().parents[2]
SHARED = ("aws:ec2/vpc:Vpc", "aws:lb/loadBalancer:LoadBalancer", "aws:wafv2/webAcl:WebAcl", "aws:ecs/cluster:Cluster")


def _types(project: Path, stack: str) -> Counter[str]:
    return Counter(r.type for r in run_stack(project, stack).resources)


def test_dev_has_one_environment_and_two_services() -> None:
    types = _types(ROOT, "dev")
    for shared in SHARED:
        assert types[shared] == 1, f"{shared} x{types[shared]}"
    assert types["aws:ecs/service:Service"] == 2
    # Each service's route, plus the allow and 403 rules of web's private /admin/* entry.
    assert types["aws:lb/listenerRule:ListenerRule"] == 4
    assert types["aws:lb/targetGroup:TargetGroup"] == 2


def _edit_dev(project: Path, mutate: Any) -> None:
    path = project / "stacks" / "Pulumi.dev.yaml"
    doc = yaml.safe_load(path.read_text())
    mutate(doc["config"])
    path.write_text(yaml.safe_dump(doc))


def _service_urns(project: Path, stack: str, services: tuple[str, ...]) -> dict[str, list[str]]:
    """Every URN in the plan that belongs to one of `services` (its component and what it parents),
    and to the environment."""
    resources = run_stack(project, stack).resources
    by_urn = {r.urn: r for r in resources}

    def owner(urn: str) -> str:
        r = by_urn[urn]
        while r.parent_urn in by_urn:
            r = by_urn[r.parent_urn]
        return r.name

    owners: dict[str, list[str]] = {}
    for r in resources:
        owners.setdefault(owner(r.urn), []).append(r.urn)
    return {name: sorted(urns) for name, urns in owners.items() if name in services or name.startswith(services)}


def test_a_third_service_by_config_alone_plans_checks_and_leaves_the_others_unchanged(project_copy: Path) -> None:
    before = _service_urns(project_copy, "dev", ("web", "api", "rampart"))

    def add_admin(config: dict[str, Any]) -> None:
        admin = json.loads(json.dumps(config["rampart:services"]["api"]))
        admin["routing"] = {"paths": ["/admin/*"]}
        config["rampart:services"]["admin"] = admin

    _edit_dev(project_copy, add_admin)
    with_admin = _service_urns(project_copy, "dev", ("web", "api", "rampart", "admin"))
    assert any(name.startswith("admin") for name in with_admin), sorted(with_admin)
    assert _types(project_copy, "dev")["aws:ecs/service:Service"] == 3
    result = check_stack(project_copy, "dev")
    assert not result.failed, [(o.policy, o.urn) for o in result.analysis.mandatory_violations()]
    for name, urns in before.items():
        assert with_admin[name] == urns, f"adding a service changed {name}'s resources"

    _edit_dev(project_copy, lambda config: config["rampart:services"].pop("admin"))
    assert _service_urns(project_copy, "dev", ("web", "api", "rampart")) == before


def test_the_services_only_stack_plans_and_checks_against_the_dev_environment() -> None:
    types = _types(ROOT, "dev-reports")
    for shared in SHARED:
        assert types[shared] == 0, f"the services-only stack creates {shared}"
    assert types["aws:ecs/service:Service"] == 1
    dev_outputs = run_stack(ROOT, "dev").stack_outputs["environment"]
    reports = run_stack(ROOT, "dev-reports").resources
    rule = next(r for r in reports if r.type == "aws:lb/listenerRule:ListenerRule")
    assert rule.inputs["listenerArn"] == dev_outputs["https_listener_arn"], "the rule is not on dev's listener"
    service = next(r for r in reports if r.type == "aws:ecs/service:Service")
    assert service.inputs["cluster"] == dev_outputs["cluster_arn"]
    assert service.inputs["networkConfiguration"]["subnets"] == dev_outputs["private_subnet_ids"]
    result = check_stack(ROOT, "dev-reports")
    assert not result.failed


def rampart(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rampart", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_stack_outputs_from_a_file_stand_in_for_the_referenced_stack(tmp_path: Path) -> None:
    outputs = run_stack(ROOT, "dev").stack_outputs
    outputs["environment"]["https_listener_arn"] = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/x/1/2"
    file = tmp_path / "dev-outputs.json"
    file.write_text(json.dumps(outputs))
    plan = tmp_path / "plan.json"
    result = rampart("plan", "--stack", "dev-reports", "--stack-outputs", f"organization/rampart/dev={file}", "--json", str(plan))
    assert result.returncode == 0, result.stderr
    rule = next(r for r in json.loads(plan.read_text()) if r["type"] == "aws:lb/listenerRule:ListenerRule")
    assert rule["inputs"]["listenerArn"] == outputs["environment"]["https_listener_arn"]


def test_a_reference_to_another_project_needs_its_outputs(project_copy: Path) -> None:
    path = project_copy / "stacks" / "Pulumi.dev-reports.yaml"
    path.write_text(path.read_text().replace("organization/rampart/dev", "organization/platform/dev"))
    result = rampart("plan", "-C", str(project_copy), "--stack", "dev-reports")
    assert result.returncode == 2
    assert "--stack-outputs organization/platform/dev=FILE" in result.stderr and "Traceback" not in result.stderr


def _acl_rules(project: Path, stack: str) -> dict[str, dict[str, Any]]:
    acl = next(r for r in run_stack(project, stack).resources if r.type == "aws:wafv2/webAcl:WebAcl")
    return {rule["name"]: rule for rule in acl.inputs["rules"]}


def test_a_services_rate_limit_is_a_scoped_rule_in_the_shared_acl() -> None:
    rules = _acl_rules(ROOT, "dev")
    api = rules["rate-limit-api"]["statement"]["rateBasedStatement"]
    assert api["limit"] == 300
    assert api["scopeDownStatement"] == {"byteMatchStatement": {
        "fieldToMatch": {"uriPath": {}}, "positionalConstraint": "STARTS_WITH", "searchString": "/api/",
        "textTransformations": [{"priority": 0, "type": "NONE"}]}}
    assert "scopeDownStatement" not in rules["rate-limit-per-ip"]["statement"]["rateBasedStatement"]
    assert "rate-limit-web" not in rules, "a service without rateLimit got a rule"
    priorities = sorted(rule["priority"] for rule in rules.values())
    assert len(set(priorities)) == len(priorities)


def test_hosts_and_paths_scope_a_rate_limit_by_both(project_copy: Path) -> None:
    def scope(config: dict[str, Any]) -> None:
        config["rampart:services"]["api"]["routing"] = {"hosts": ["api.example.com", "*.api.example.com"], "paths": ["/v1/*", "/v2/*"]}

    _edit_dev(project_copy, scope)
    statement = _acl_rules(project_copy, "dev")["rate-limit-api"]["statement"]["rateBasedStatement"]["scopeDownStatement"]
    hosts, paths = statement["andStatement"]["statements"]
    assert [s["byteMatchStatement"]["searchString"] for s in hosts["orStatement"]["statements"]] == ["api.example.com", ".api.example.com"]
    assert [s["byteMatchStatement"]["positionalConstraint"] for s in hosts["orStatement"]["statements"]] == ["EXACTLY", "ENDS_WITH"]
    assert [s["byteMatchStatement"]["searchString"] for s in paths["orStatement"]["statements"]] == ["/v1/", "/v2/"]


def test_a_rate_limit_on_another_stacks_environment_is_refused(project_copy: Path) -> None:
    path = project_copy / "stacks" / "Pulumi.dev-reports.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["config"]["rampart:services"]["reports"]["rateLimit"] = 100
    path.write_text(yaml.safe_dump(doc))
    result = rampart("plan", "-C", str(project_copy), "--stack", "dev-reports")
    assert result.returncode == 2
    assert "rampart:services.reports.rateLimit is a rule in the environment's web ACL, which another stack owns" in result.stderr


def _strip_volumes(dockerfile: Path) -> None:
    lines = dockerfile.read_text().splitlines()
    kept = [line for line in lines if not line.lstrip().upper().startswith("VOLUME")]
    assert len(kept) < len(lines), f"{dockerfile} declares no VOLUME to strip"
    dockerfile.write_text("\n".join(kept) + "\n")


def test_an_app_image_without_its_volume_is_refused_before_anything_is_registered(project_copy: Path) -> None:
    _strip_volumes(project_copy / "app" / "Dockerfile")
    result = rampart("plan", "-C", str(project_copy), "--stack", "dev")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "container 'app' mounts a task volume at '/tmp', which its image does not declare as a VOLUME" in result.stderr
    assert "add `VOLUME /tmp`" in result.stderr


def test_a_proxy_image_without_its_volumes_is_refused(project_copy: Path) -> None:
    _strip_volumes(project_copy / "proxy" / "Dockerfile")
    result = rampart("plan", "-C", str(project_copy), "--stack", "dev")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "container 'proxy' mounts a task volume at '/run/proxy'" in result.stderr, result.stderr


def test_a_rate_limit_needs_the_environments_web_acl(project_copy: Path) -> None:
    _edit_dev(project_copy, lambda config: config["rampart:environment"].update(waf=None))
    result = rampart("plan", "-C", str(project_copy), "--stack", "dev")
    assert result.returncode == 2, result.stderr
    assert "services set rateLimit, but rampart:environment.waf is off" in result.stderr, result.stderr


def test_the_sidecar_keeps_the_trusted_cidrs_its_settings_name() -> None:
    from rampart.components.proxy_config import ProxyConfig
    from rampart.components.ingress import sidecar_proxy

    from rampart.components.routing import RoutingSettings

    given = sidecar_proxy(ProxyConfig(trusted_proxy_cidrs=["10.9.0.0/16"]), 8080, ["10.0.0.0/20"], RoutingSettings())
    assert [str(c) for c in given.trusted_proxy_cidrs] == ["10.9.0.0/16"]
    derived = sidecar_proxy(ProxyConfig(), 8080, ["10.0.0.0/20"], RoutingSettings())
    assert [str(c) for c in derived.trusted_proxy_cidrs] == ["10.0.0.0/20"]


def test_a_refused_service_registers_no_resource_at_all(project_copy: Path, monkeypatch: Any) -> None:
    """The preflight runs before the environment or any earlier service is registered: a `pulumi up`
    of this stack would create nothing, not an environment without its services."""
    import pulumi

    from rampart.errors import UserError

    constructed: list[str] = []
    original = pulumi.Resource.__init__

    def recording_init(self: pulumi.Resource, t: str, name: str, *args: Any, **kwargs: Any) -> None:
        constructed.append(f"{t}::{name}")
        original(self, t, name, *args, **kwargs)

    monkeypatch.setattr(pulumi.Resource, "__init__", recording_init)
    run_stack(project_copy, "dev")  # the unchanged stack registers its resources through this hook
    assert len(constructed) > 50, constructed
    constructed.clear()
    _strip_volumes(project_copy / "app" / "Dockerfile")
    try:
        run_stack(project_copy, "dev")
    except UserError as refused:
        assert "does not declare as a VOLUME" in str(refused)
    else:
        raise AssertionError("a service whose image lacks its VOLUME planned")
    # The engine's own stack root exists before any program code runs; nothing of ours may.
    ours = [urn for urn in constructed if not urn.startswith("pulumi:pulumi:Stack::")]
    assert ours == [], f"registered before the refusal: {ours[:5]}"


def test_stacks_that_reference_each_other_are_refused_naming_the_cycle(project_copy: Path) -> None:
    stacks = project_copy / "stacks"
    doc = yaml.safe_load((stacks / "Pulumi.dev-reports.yaml").read_text())
    doc["config"]["rampart:environmentStack"] = "organization/rampart/reports-b"
    (stacks / "Pulumi.reports-a.yaml").write_text(yaml.safe_dump(doc))
    doc["config"]["rampart:environmentStack"] = "organization/rampart/reports-a"
    (stacks / "Pulumi.reports-b.yaml").write_text(yaml.safe_dump(doc))
    result = rampart("plan", "-C", str(project_copy), "--stack", "reports-a")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "stacks reference each other in a cycle: reports-a -> reports-b -> reports-a" in result.stderr


def test_a_stack_that_references_itself_is_a_cycle(project_copy: Path) -> None:
    path = project_copy / "stacks" / "Pulumi.dev-reports.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["config"]["rampart:environmentStack"] = "organization/rampart/dev-reports"
    path.write_text(yaml.safe_dump(doc))
    result = rampart("plan", "-C", str(project_copy), "--stack", "dev-reports")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "stacks reference each other in a cycle: dev-reports -> dev-reports" in result.stderr
