"""Relationships between resources that the ECS API checks when a resource is created.

Each check reads the resources of one mocked run and returns, in words a user can act on, what
AWS would refuse. Only refusals AWS documents for the create call itself are here (a running task
that fails later is out of reach offline; see docs/aws-behaviour.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"

_REGISTER = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html"
_CONTAINER = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"
_SERVICE = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html"
_LB = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LoadBalancer.html"


class Resource(Protocol):
    """What the checks read of a registered resource (`rampart.mock_engine.RegisteredResource`)."""

    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def inputs(self) -> dict[str, Any]: ...
    @property
    def outputs(self) -> dict[str, Any]: ...


def _containers(task: Resource) -> list[dict[str, Any]] | None:
    raw = task.inputs.get("containerDefinitions")
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def task_definition_refusals(task: Resource) -> list[str]:
    """What RegisterTaskDefinition refuses about one task definition's containers."""
    where = f"{TASK_DEFINITION} {task.name!r}"
    containers = _containers(task)
    if containers is None:
        return [f"{where}: containerDefinitions is not a JSON list of containers ({_REGISTER})"]
    out: list[str] = []
    names = [str(c.get("name")) for c in containers]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        out.append(f"{where}: two containers are named {dup!r}; names must be unique in a task definition ({_CONTAINER})")
    volumes = {v.get("name") for v in task.inputs.get("volumes") or [] if isinstance(v, dict)}
    for c in containers:
        for mount in c.get("mountPoints") or []:
            if mount.get("sourceVolume") not in volumes:
                out.append(
                    f"{where}: container {c.get('name')!r} mounts sourceVolume {mount.get('sourceVolume')!r}, "
                    f"which is not one of the task's volumes {sorted(v for v in volumes if v)}. Fix: declare the "
                    f"volume in `volumes` ({_CONTAINER})"
                )
        for dep in c.get("dependsOn") or []:
            target = next((d for d in containers if d.get("name") == dep.get("containerName")), None)
            if target is None:
                out.append(f"{where}: container {c.get('name')!r} depends on {dep.get('containerName')!r}, which is not in the task ({_CONTAINER})")
            elif dep.get("condition") == "HEALTHY" and not target.get("healthCheck"):
                out.append(
                    f"{where}: container {c.get('name')!r} waits for {target.get('name')!r} to be HEALTHY, which has "
                    f"no healthCheck. Fix: give {target.get('name')!r} a health check ({_CONTAINER})"
                )
        for mapping in c.get("portMappings") or []:
            host = mapping.get("hostPort")
            if task.inputs.get("networkMode") == "awsvpc" and host not in (None, mapping.get("containerPort")):
                out.append(
                    f"{where}: container {c.get('name')!r} maps hostPort {host} to containerPort "
                    f"{mapping.get('containerPort')}; in awsvpc mode they must be equal ({_CONTAINER})"
                )
    for unit, key in (("memory", "memory"), ("CPU", "cpu")):
        total = sum(_int(c.get(key)) or 0 for c in containers)
        limit = _int(task.inputs.get(key))
        if limit is not None and total > limit:
            out.append(
                f"{where}: the containers' {unit} ({total}) is more than the task's {key} ({limit}). Fix: lower "
                f"the containers' {key} or raise the task's ({_CONTAINER})"
            )
    return out


def service_refusals(service: Resource, tasks: Sequence[Resource], target_groups: Sequence[Resource]) -> list[str]:
    """What CreateService refuses about one service's load balancer wiring."""
    where = f"{SERVICE} {service.name!r}"
    task = next((t for t in tasks if t.outputs.get("arn") == service.inputs.get("taskDefinition")), None)
    containers = _containers(task) if task is not None else None
    out: list[str] = []
    for lb in service.inputs.get("loadBalancers") or []:
        name, port = lb.get("containerName"), _int(lb.get("containerPort"))
        if containers is not None:
            container = next((c for c in containers if c.get("name") == name), None)
            ports = [_int(m.get("containerPort")) for m in (container or {}).get("portMappings") or []]
            if container is None:
                out.append(f"{where}: the load balancer targets container {name!r}, which the task definition does not have ({_LB})")
            elif port not in ports:
                out.append(
                    f"{where}: the load balancer targets port {port} of container {name!r}, which maps only {ports}. "
                    f"Fix: add the port to the container's portMappings or target a mapped one ({_LB})"
                )
        group = next((g for g in target_groups if g.outputs.get("arn") == lb.get("targetGroupArn")), None)
        network_mode = task.inputs.get("networkMode") if task is not None else None
        if group is not None and network_mode == "awsvpc" and group.inputs.get("targetType", "instance") != "ip":
            out.append(
                f"{where}: target group {group.name!r} has target type {group.inputs.get('targetType', 'instance')!r}; "
                f"tasks in awsvpc mode (Fargate) register by IP. Fix: targetType 'ip' ({_SERVICE})"
            )
    return out


def refusals(resources: Iterable[Resource]) -> list[str]:
    """Everything the ECS checks find in one run."""
    resources = list(resources)
    tasks = [r for r in resources if r.type == TASK_DEFINITION]
    groups = [r for r in resources if r.type == TARGET_GROUP]
    out: list[str] = []
    for task in tasks:
        out.extend(task_definition_refusals(task))
    for service in (r for r in resources if r.type == SERVICE):
        out.extend(service_refusals(service, tasks, groups))
    return out
