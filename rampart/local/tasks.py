"""What runs locally, read from the plan: the program runs under the mock engine (`rampart plan`)
and each service's task definition, image builds and listener rule are taken from the resources it
registers. Nothing here describes a container: a setting changed in a component shows up locally."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rampart.errors import UserError
from rampart.local.deployment import Deployment, deployment_of
from rampart.offline.mock_engine import RegisteredResource
from rampart.offline.plan import run_stack

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE = "aws:ecs/service:Service"
DOCKER_IMAGE = "docker:index/image:Image"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
WEB_SERVICE = "rampart:web_service:WebService"


@dataclass(frozen=True)
class ImageBuild:
    """How the deployment builds one image (the pulumi-docker Image's `build` inputs)."""

    repository: str
    context: Path
    dockerfile: Path
    target: str | None
    args: dict[str, str]


#: A target group's settings when left out, as AWS defaults them for an ALB's group.
DEFAULT_PROTOCOL = "HTTP"
DEFAULT_HEALTH_CHECK_PATH = "/"
DEFAULT_MATCHER = "200"
DEFAULT_UNHEALTHY_THRESHOLD = 2


@dataclass(frozen=True)
class Route:
    """One listener rule: where the load balancer sends a request, and how it probes the target."""

    priority: int
    hosts: list[str]
    paths: list[str]
    container: str
    port: int
    health_check_path: str
    source_ips: list[str] = field(default_factory=list)
    """The rule's source-ip condition: it matches only clients in these CIDRs."""
    answer: int | None = None
    """The status the load balancer answers itself instead of forwarding: a fixed response (an access
    entry's 403), or 401 for a sign-in rule, whose identity provider the local edge cannot reach."""
    protocol: str = DEFAULT_PROTOCOL
    """The target group's protocol: what the load balancer speaks to the target (HTTP in `alb` mode,
    HTTPS to the sidecar). AWS's default when a group leaves it out."""
    health_check_protocol: str = DEFAULT_PROTOCOL
    """The protocol of the target group's health check (its `healthCheck.protocol`, else the group's)."""
    matcher: str = DEFAULT_MATCHER
    """The codes the target group's health check counts as healthy (`200`, `200-299`, `200,302`)."""
    unhealthy_threshold: int = DEFAULT_UNHEALTHY_THRESHOLD
    """Consecutive failed health checks that make a target unhealthy (its `healthCheck.unhealthyThreshold`)."""


@dataclass(frozen=True)
class Task:
    """One service's task: its task definition as registered, with the builds of its images."""

    service: str
    family: str
    definition: dict[str, Any]
    containers: list[dict[str, Any]]
    builds: dict[str, ImageBuild] = field(default_factory=dict)
    """Container name -> the build of its image (absent: an image built elsewhere, pulled as is)."""
    routes: list[Route] = field(default_factory=list)
    deployment: Deployment = field(default_factory=Deployment)
    """How its ECS service deploys a change (strategy and bake time; ROLLING, bake 0 when unset)."""

    @property
    def volumes(self) -> list[dict[str, Any]]:
        return list(self.definition.get("volumes") or [])


def repository_of(image_ref: str) -> str:
    """`repo@sha256:...` or `repo:tag` -> `repo` (a registry port's colon is kept)."""
    ref = image_ref.split("@", 1)[0]
    name, _, tag = ref.rpartition(":")
    return name if name and "/" not in tag else ref


def service_of(resource: RegisteredResource) -> str:
    """The WebService a resource belongs to: the last WebService name in its parent URN."""
    parent = resource.parent_urn or ""
    marker = f"{WEB_SERVICE}"
    if marker not in parent:
        raise UserError(f"{resource.type} {resource.name!r} is not part of a WebService; `rampart local` runs services")
    return parent.rsplit("::", 1)[-1]


def image_builds(resources: list[RegisteredResource], project_dir: Path = Path(".")) -> dict[str, ImageBuild]:
    """Repository -> the build the deployment runs for it. The plan records build paths relative to
    the project directory (as the provider resolves them); here they are made absolute against it."""
    builds: dict[str, ImageBuild] = {}
    for r in resources:
        if r.type != DOCKER_IMAGE:
            continue
        build = r.inputs.get("build") or {}
        repository = repository_of(str(r.inputs["imageName"]))
        builds[repository] = ImageBuild(
            repository=repository,
            context=(project_dir / build["context"]).resolve(),
            dockerfile=(project_dir / (build.get("dockerfile") or Path(build["context"]) / "Dockerfile")).resolve(),
            target=build.get("target"),
            args={str(k): str(v) for k, v in (build.get("args") or {}).items()},
        )
    return builds


#: What the local edge answers for a rule that signs users in (OIDC or Cognito): it cannot.
SIGN_IN_NOT_REPRODUCED = 401


def routes_by_service(resources: list[RegisteredResource]) -> dict[str, list[Route]]:
    """Each service's listener rules, joined to its target group (health check) and to the ECS
    service's load balancer entry (container and port the target group forwards to). A rule that
    answers itself (an access entry's fixed 403) belongs to the service whose route it sits in."""
    groups = {f"{r.name}": r for r in resources if r.type == TARGET_GROUP}
    targets: dict[str, tuple[str, str, int]] = {}  # target group name -> (service, container, port)
    for r in resources:
        if r.type == ECS_SERVICE:
            for lb in r.inputs.get("loadBalancers") or []:
                targets[str(lb["targetGroupArn"]).rsplit(":", 1)[-1]] = (
                    service_of(r), str(lb["containerName"]), int(lb["containerPort"]))
    rules = [r for r in resources if r.type == LISTENER_RULE and not _is_test_traffic_rule(r)]
    # The forward target of each route component (a ServiceRoute parents a service's rules).
    forwards: dict[str, tuple[tuple[str, str, int], TargetGroupProbe]] = {}
    for r in rules:
        group_name = _forward_group(r)
        if group_name in targets and group_name in groups:
            forwards[r.parent_urn or ""] = (targets[group_name], target_group_probe(groups[group_name]))
    found: dict[str, list[Route]] = {}
    for r in rules:
        target = forwards.get(r.parent_urn or "")
        if target is None:
            continue
        (service, container, port), probe = target
        actions = r.inputs.get("actions") or []
        kinds = {str(a.get("type")) for a in actions}
        fixed = next((a["fixedResponse"] for a in actions if a.get("type") == "fixed-response"), None)
        answer = int(fixed["statusCode"]) if fixed else SIGN_IN_NOT_REPRODUCED if kinds & SIGN_IN_ACTIONS else None
        conditions = r.inputs.get("conditions") or []
        found.setdefault(service, []).append(Route(
            priority=int(r.inputs["priority"]),
            hosts=[v for c in conditions for v in (c.get("hostHeader") or {}).get("values") or []],
            paths=[v for c in conditions for v in (c.get("pathPattern") or {}).get("values") or []],
            container=container, port=port, health_check_path=probe.path,
            source_ips=[v for c in conditions for v in (c.get("sourceIp") or {}).get("values") or []],
            answer=answer, protocol=probe.protocol, health_check_protocol=probe.health_check_protocol,
            matcher=probe.matcher, unhealthy_threshold=probe.unhealthy_threshold,
        ))
    return found


SIGN_IN_ACTIONS = {"authenticate-oidc", "authenticate-cognito"}


@dataclass(frozen=True)
class TargetGroupProbe:
    """How a target group talks to its targets and checks them (AWS's defaults for keys left out)."""

    protocol: str
    health_check_protocol: str
    path: str
    matcher: str
    unhealthy_threshold: int = DEFAULT_UNHEALTHY_THRESHOLD


def target_group_probe(group: RegisteredResource) -> TargetGroupProbe:
    protocol = str(group.inputs.get("protocol") or DEFAULT_PROTOCOL).upper()
    health = group.inputs.get("healthCheck") or {}
    return TargetGroupProbe(
        protocol=protocol,
        health_check_protocol=str(health.get("protocol") or protocol).upper(),
        path=str(health.get("path") or DEFAULT_HEALTH_CHECK_PATH),
        matcher=str(health.get("matcher") or DEFAULT_MATCHER),
        unhealthy_threshold=int(health.get("unhealthyThreshold") or DEFAULT_UNHEALTHY_THRESHOLD),
    )


def _forward_group(rule: RegisteredResource) -> str | None:
    """The name of the target group a listener rule forwards to, if it forwards: its one target group,
    or of a weighted forward (blue/green, canary, linear: ECS moves the weights) the one with the most
    weight, where the service's traffic goes between deployments."""
    for action in rule.inputs.get("actions") or []:
        if action.get("type") != "forward":
            continue
        if action.get("targetGroupArn"):
            return str(action["targetGroupArn"]).rsplit(":", 1)[-1]
        weighted = (action.get("forward") or {}).get("targetGroups") or []
        if weighted:
            heaviest = max(weighted, key=lambda group: int(group.get("weight") or 0))
            return str(heaviest["arn"]).rsplit(":", 1)[-1]
    return None


def _is_test_traffic_rule(rule: RegisteredResource) -> bool:
    """A deployment's test listener rule (a header condition reaching the new release before traffic
    moves): the local edge routes by host, path and source address only, and `local up` moves all
    traffic once the new release is healthy, so it has no use for this rule."""
    return any("httpHeader" in condition for condition in rule.inputs.get("conditions") or [])


def deployments_by_service(resources: list[RegisteredResource]) -> dict[str, Deployment]:
    """Each service's deployment settings, from its ECS service's `deploymentConfiguration`."""
    return {service_of(r): deployment_of(r.inputs, f"{ECS_SERVICE} {r.name!r}")
            for r in resources if r.type == ECS_SERVICE}


def tasks_from_resources(resources: list[RegisteredResource], project_dir: Path = Path(".")) -> list[Task]:
    builds = image_builds(resources, project_dir)
    routes = routes_by_service(resources)
    deployments = deployments_by_service(resources)
    tasks: list[Task] = []
    for r in resources:
        if r.type != TASK_DEFINITION:
            continue
        service = service_of(r)
        raw = r.inputs["containerDefinitions"]
        containers = json.loads(raw) if isinstance(raw, str) else list(raw)
        tasks.append(Task(
            service=service,
            family=str(r.inputs.get("family") or service),
            definition={k: v for k, v in r.inputs.items() if k != "containerDefinitions"},
            containers=containers,
            builds={c["name"]: builds[repository_of(c["image"])] for c in containers
                    if repository_of(c["image"]) in builds},
            routes=sorted(routes.get(service, []), key=lambda route: route.priority),
            deployment=deployments.get(service, Deployment()),
        ))
    return tasks


def stack_tasks(project_dir: Path, stack: str, services: list[str] | None = None) -> list[Task]:
    """The tasks of `stack` (all services, or the ones named), from its plan."""
    return select_services(tasks_from_resources(run_stack(project_dir, stack).resources, project_dir), services, stack)


def select_services(tasks: list[Task], services: list[str] | None, stack: str) -> list[Task]:
    """The tasks of the services named (all when none is), refusing a name the stack does not have."""
    if not services:
        return tasks
    known = {t.service for t in tasks}
    unknown = sorted(set(services) - known)
    if unknown:
        raise UserError(f"--service {', '.join(unknown)}: stack {stack!r} has services {', '.join(sorted(known))}")
    return [t for t in tasks if t.service in services]
