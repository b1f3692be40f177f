"""The ingress mode (rampart/components/ingress.py): worked out once, and its answers agree with each
other in the plan of either mode; WebService, program.py and config.py ask it instead of testing it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from components_support import Plan, ServiceCase, minimal_args, run_service
from test_component_nginx import nginx_args

ROOT = Path(__file__).resolve().parents[2]
#: The modules that once re-derived the mode (issue 22): they ask the mode object now.
ASKERS = ("rampart/components/web_service.py", "rampart/program.py", "rampart/config.py")
MODE_NAMES = {"ingress", "proxy", "_proxy", "sidecar"}


def _modes() -> dict[str, ServiceCase]:
    return {"alb": minimal_args(), "nginx": nginx_args()}


@pytest.fixture(scope="module", params=["alb", "nginx"])
def plan(request: pytest.FixtureRequest) -> Plan:
    return run_service(_modes()[request.param])


def test_the_target_is_one_container_port_everywhere(plan: Plan) -> None:
    """The target group's port, the ECS service's load balancer entry, the security group's only
    ingress and the target container's port mapping are the same port of the same container."""
    tg = plan.one("aws:lb/targetGroup:TargetGroup")
    (lb,) = plan.one("aws:ecs/service:Service").inputs["loadBalancers"]
    service_sg = plan.named("shop-service-sg").outputs["id"]
    ingress = [(r.inputs["fromPort"], r.inputs["toPort"])
               for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
               if r.inputs["securityGroupId"] == service_sg]
    mapped = [m["containerPort"] for m in plan.container(lb["containerName"])["portMappings"]]
    port = tg.inputs["port"]
    assert (lb["containerPort"], ingress, mapped) == (port, [(port, port)], [port]), (
        f"{tg.name}: port {port}; service load balancer {lb}; security group ingress {ingress}; "
        f"{lb['containerName']} maps {mapped}")


def test_the_health_check_speaks_the_target_groups_protocol(plan: Plan) -> None:
    tg = plan.one("aws:lb/targetGroup:TargetGroup")
    assert tg.inputs["healthCheck"]["protocol"] == tg.inputs["protocol"], f"{tg.name}: {tg.inputs}"


def test_each_container_logs_to_its_own_log_group_and_mounts_only_task_volumes(plan: Plan) -> None:
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    volumes = {v["name"] for v in task.inputs["volumes"]}
    # the service's own log groups (WebService.log_group_names, container -> name), not the environment's
    groups = {key: name for key, name in plan.outputs["logGroupNames"].items() if key not in ("vpc_flow", "waf")}
    used = {}
    for container in plan.containers():
        used[container["name"]] = container["logConfiguration"]["options"]["awslogs-group"]
        mounts = {m["sourceVolume"] for m in container["mountPoints"]}
        assert mounts <= volumes, f"{task.name}: {container['name']} mounts {mounts - volumes}, not task volumes"
    assert used == groups and len(set(used.values())) == len(used), f"{task.name}: containers log to {used}; log groups {groups}"


def _mode_tests(path: str) -> list[str]:
    """Comparisons that work the mode out again: `ingress == / != ...`, or `proxy` / `sidecar`
    (attribute, name or call) tested against None."""
    found = []
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        names = set()
        for side in sides:
            target = side.func if isinstance(side, ast.Call) else side
            if isinstance(target, ast.Attribute):
                names.add(target.attr)
            elif isinstance(target, ast.Name):
                names.add(target.id)
        is_none = any(isinstance(s, ast.Constant) and s.value is None for s in sides)
        on_kind = any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops) and "ingress" in names
        if on_kind or (is_none and names & MODE_NAMES):
            found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("path", ASKERS)
def test_the_mode_is_asked_not_worked_out_again(path: str) -> None:
    assert _mode_tests(path) == [], "ask the ingress mode (rampart/components/ingress.py) instead"
