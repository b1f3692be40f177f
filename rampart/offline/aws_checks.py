"""Relationships between resources that AWS checks when a resource is created.

Each check reads the resources of one mocked run and returns, in words a user can act on, what
AWS would refuse: ECS task definitions and services, an ALB's access-log bucket (AWS writes a test
object when the load balancer is created), a WAF logging destination's name. Only refusals AWS
documents for the create call itself are here (a running task
that fails later is out of reach offline; see docs/aws-behaviour.md).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from rampart_soc2.vocabulary.deployments import (
    CANARY_PERCENT_RANGE, LINEAR_STEP_PERCENT_RANGE, PERCENT_STEP, ROLLING, SHIFTING_STRATEGIES, percent_problem,
)

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"

#: Principals that deliver ALB access logs: the region's ELB account (older regions) or the service.
ELB_LOG_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"

_REGISTER = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html"
_CONTAINER = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"
_SERVICE = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html"
_LB = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LoadBalancer.html"
_BLUE_GREEN = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-implementation.html"
_DEPLOYMENT_CONFIG = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html"
_ALB_LOGS = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html"
_WAF_LOGS = "https://docs.aws.amazon.com/waf/latest/APIReference/API_LoggingConfiguration.html"


class Resource(Protocol):
    """What the checks read of a registered resource (`rampart.offline.mock_engine.RegisteredResource`)."""

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
    for bad in (n for n in names if not re.fullmatch(r"[A-Za-z0-9_-]{1,255}", n)):
        out.append(
            f"{where}: container name {bad!r} is not 1-255 letters, digits, hyphens and underscores. Fix: rename "
            f"the container ({_CONTAINER})"
        )
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




def _forwarded_groups(rule: Resource) -> set[str]:
    """The target group ARNs a listener rule's forward actions send requests to."""
    out: set[str] = set()
    for action in rule.inputs.get("actions") or []:
        if not isinstance(action, dict) or action.get("type") != "forward":
            continue
        if action.get("targetGroupArn"):
            out.add(str(action["targetGroupArn"]))
        for group in (action.get("forward") or {}).get("targetGroups") or []:
            if isinstance(group, dict) and group.get("arn"):
                out.add(str(group["arn"]))
    return out


def deployment_refusals(service: Resource, target_groups: Sequence[Resource], rules: Sequence[Resource]) -> list[str]:
    """What CreateService/UpdateService refuse about a blue/green, canary or linear deployment: no advanced
    configuration on a load balancer, a canary or linear share ECS does not accept, an alternate target
    group that differs from the primary in port or protocol, and a production or test listener rule on
    another listener than the one that forwards to the service's target group. (A canary or linear
    strategy without its block is accepted: ECS has defaults for both.)"""
    where = f"{SERVICE} {service.name!r}"
    config = service.inputs.get("deploymentConfiguration") or {}
    strategy = str(config.get("strategy") or ROLLING)
    if strategy not in SHIFTING_STRATEGIES:
        return []
    out: list[str] = []
    for block, key, accepted in (("canaryConfiguration", "canaryPercent", CANARY_PERCENT_RANGE),
                                 ("linearConfiguration", "stepPercent", LINEAR_STEP_PERCENT_RANGE)):
        share = (config.get(block) or {}).get(key)
        problem = None if share is None else percent_problem(float(share), accepted)
        if problem:
            out.append(f"{where}: deploymentConfiguration.{block}.{key} {problem}. Fix: a multiple of {PERCENT_STEP:g} from "
                       f"{accepted[0]:g} to {accepted[1]:g} ({_DEPLOYMENT_CONFIG})")
    by_arn = {str(g.outputs.get("arn")): g for g in target_groups}
    rules_by_arn = {str(r.outputs.get("arn")): r for r in rules}
    for lb in service.inputs.get("loadBalancers") or []:
        primary = str(lb.get("targetGroupArn"))
        advanced = lb.get("advancedConfiguration")
        if not advanced:
            out.append(f"{where}: strategy {strategy} with load balancer target group {primary!r} and no "
                       f"advancedConfiguration. Fix: give alternateTargetGroupArn, productionListenerRule and "
                       f"roleArn ({_BLUE_GREEN})")
            continue
        alternate = str(advanced.get("alternateTargetGroupArn"))
        first, second = by_arn.get(primary), by_arn.get(alternate)
        if alternate == primary:
            out.append(f"{where}: the alternate target group is the primary one ({primary!r}). Fix: a second target "
                       f"group with the same port and protocol ({_BLUE_GREEN})")
        elif first is not None and second is not None:
            for key in ("port", "protocol"):
                if first.inputs.get(key) != second.inputs.get(key):
                    out.append(
                        f"{where}: alternate target group {second.name!r} has {key} {second.inputs.get(key)!r}, the "
                        f"primary {first.name!r} {first.inputs.get(key)!r}; ECS registers the same tasks in both. Fix: "
                        f"build both from one set of target group settings ({_BLUE_GREEN})"
                    )
        forwarding = {str(r.inputs.get("listenerArn")) for r in rules
                      if primary in _forwarded_groups(r) and str(r.outputs.get("arn")) != advanced.get("testListenerRule")}
        for key in ("productionListenerRule", "testListenerRule"):
            rule = rules_by_arn.get(str(advanced.get(key)))
            if rule is None:
                continue  # not given, or a rule of another stack: out of sight
            listener = str(rule.inputs.get("listenerArn"))
            if listener not in forwarding:
                out.append(
                    f"{where}: {key} {rule.name!r} is a rule of listener {listener!r}, which forwards nothing to "
                    f"target group {primary!r} (that is {', '.join(sorted(forwarding)) or 'no listener of this plan'}). "
                    f"Fix: name the rule that forwards the service's requests, on the listener that serves them ({_BLUE_GREEN})"
                )
            elif key == "productionListenerRule" and primary not in _forwarded_groups(rule):
                out.append(f"{where}: productionListenerRule {rule.name!r} does not forward to target group {primary!r}. "
                           f"Fix: name the rule that forwards the service's requests ({_BLUE_GREEN})")
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _grants_put(statement: dict[str, Any], key: str, elb_account_arn: str | None) -> bool:
    if statement.get("Effect") != "Allow" or statement.get("Condition"):
        return False
    principal = statement.get("Principal") or {}
    principals = set(_as_list(principal.get("AWS", []))) | set(_as_list(principal.get("Service", []))) if isinstance(principal, dict) else {principal}
    if not principals & {ELB_LOG_SERVICE, elb_account_arn, "*"}:
        return False
    if not any(fnmatch.fnmatchcase("s3:PutObject", str(a)) for a in _as_list(statement.get("Action", []))):
        return False
    return any(fnmatch.fnmatchcase(key, str(r)) for r in _as_list(statement.get("Resource", [])))


def access_log_refusals(
    alb: Resource, resources: Sequence[Resource], account_id: str, elb_account_arn: str | None
) -> list[str]:
    """What creating an ALB with access logs into a bucket of this plan runs into: AWS writes a test
    object (`ELBAccessLogTestFile`) and refuses the load balancer ("Access Denied for bucket") when
    the bucket policy does not let the log delivery put it, or the bucket encrypts with SSE-KMS."""
    logs = alb.inputs.get("accessLogs") or {}
    if not logs.get("enabled") or not logs.get("bucket"):
        return []
    bucket = next((r for r in resources if r.type == BUCKET and r.outputs.get("id") == logs["bucket"]), None)
    if bucket is None:
        return []  # a bucket of another stack: out of sight
    where = f"{LOAD_BALANCER} {alb.name!r}"
    out: list[str] = []
    for enc in (r for r in resources if r.type == BUCKET_ENCRYPTION and r.inputs.get("bucket") == logs["bucket"]):
        for rule in enc.inputs.get("rules") or []:
            algorithm = (rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")
            if algorithm not in (None, "AES256"):
                out.append(
                    f"{where}: access logs go to bucket {logs['bucket']!r}, encrypted with {algorithm!r}; ALB access "
                    f"logs support SSE-S3 (AES256) only. Fix: encrypt the log bucket with AES256 ({_ALB_LOGS})"
                )
    prefix = f"{logs['prefix'].strip('/')}/" if logs.get("prefix") else ""
    key = f"{bucket.outputs.get('arn')}/{prefix}AWSLogs/{account_id}/ELBAccessLogTestFile"
    statements: list[dict[str, Any]] = []
    for policy in (r for r in resources if r.type == BUCKET_POLICY and r.inputs.get("bucket") == logs["bucket"]):
        try:
            document = json.loads(policy.inputs.get("policy") or "{}")
        except ValueError:
            continue
        statements.extend(s for s in _as_list(document.get("Statement", [])) if isinstance(s, dict))
    if not any(_grants_put(s, key, elb_account_arn) for s in statements):
        out.append(
            f"{where}: access logs go to bucket {logs['bucket']!r}, whose policy does not let the log delivery put "
            f"{key!r}; AWS refuses the load balancer (\"Access Denied for bucket\"). Fix: allow s3:PutObject on "
            f"<bucket>/{prefix}AWSLogs/<account>/* to {ELB_LOG_SERVICE} (and the region's ELB account) ({_ALB_LOGS})"
        )
    return out


def waf_logging_refusals(config: Resource, resources: Sequence[Resource]) -> list[str]:
    """PutLoggingConfiguration refuses a destination whose name does not start with `aws-waf-logs-`."""
    out: list[str] = []
    for arn in config.inputs.get("logDestinationConfigs") or []:
        group = next((r for r in resources if r.type == LOG_GROUP and r.outputs.get("arn") == arn), None)
        name = str(group.outputs.get("name", "")) if group is not None else ""
        if group is not None and not name.startswith("aws-waf-logs-"):
            out.append(
                f"{WAF_LOGGING} {config.name!r}: destination log group {name!r} does not start with `aws-waf-logs-`; "
                f"WAF refuses it. Fix: name the log group `aws-waf-logs-...` ({_WAF_LOGS})"
            )
    return out


def refusals(resources: Iterable[Resource], account_id: str = "123456789012", elb_account_arn: str | None = None) -> list[str]:
    """Everything the create-time checks find in one run."""
    resources = list(resources)
    tasks = [r for r in resources if r.type == TASK_DEFINITION]
    groups = [r for r in resources if r.type == TARGET_GROUP]
    out: list[str] = []
    for task in tasks:
        out.extend(task_definition_refusals(task))
    rules = [r for r in resources if r.type == LISTENER_RULE]
    for service in (r for r in resources if r.type == SERVICE):
        out.extend(service_refusals(service, tasks, groups))
        out.extend(deployment_refusals(service, groups, rules))
    for alb in (r for r in resources if r.type == LOAD_BALANCER):
        out.extend(access_log_refusals(alb, resources, account_id, elb_account_arn))
    for config in (r for r in resources if r.type == WAF_LOGGING):
        out.extend(waf_logging_refusals(config, resources))
    return out
