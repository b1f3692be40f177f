"""Routing: how a service attaches to the environment's shared HTTPS listener.

A service owns its target group (with the health check) and one listener rule that forwards the
requests matching its host names and/or path patterns. The environment's listener answers 404 to
everything no rule matches. Rules are evaluated in priority order (lowest first), so a service's
priority is given or derived from how specific its route is: `/api/*` is tried before `/*`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from typing import Literal, Optional

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from rampart.components._util import ArgsModel, StrInput

_PATH = re.compile(r"^/[A-Za-z0-9._~/-]*$")
_MATCHER = re.compile(r"^[1-5]\d\d(-[1-5]\d\d)?(,[1-5]\d\d(-[1-5]\d\d)?)*$")
#: ALB path-pattern and host-header values: case-sensitive paths with `*` and `?` wildcards, at most
#: 128 characters each (Elastic Load Balancing, "Listener rules for your Application Load Balancer").
_PATH_PATTERN = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+*?]{0,127}$")
_HOST_PATTERN = re.compile(r"^(?=.{1,128}$)[a-z0-9*?]([a-z0-9*?-]*[a-z0-9*?])?(\.[a-z0-9*?]([a-z0-9*?-]*[a-z0-9*?])?)*$")

#: An ALB rule allows three values per condition and five across its conditions.
MAX_VALUES_PER_CONDITION = 3
MAX_VALUES_PER_RULE = 5
#: Listener rule priorities AWS accepts.
PRIORITY_RANGE = (1, 50_000)
#: Derived priorities: six specificity classes of 8000 slots each from 1000 up (1000-48999), so
#: more specific routes are tried first; the service name picks a stable slot within its class.
_DERIVED_BASE, _CLASS_SLOTS = 1000, 8000
#: Literal path prefix lengths (characters before the first wildcard) that open classes 0-3.
_PREFIX_CLASSES = (17, 9, 5, 2)
_HOST_CLASS, _CATCH_ALL_CLASS = 4, 5


class HealthCheckSettings(ArgsModel):
    """Target group health check (what the ALB probes before sending traffic to a task)."""

    path: str = Field("/healthz", description="HTTP path probed; must answer `matcher` when healthy.")
    matcher: str = Field("200", description="HTTP codes that mean healthy, e.g. `200` or `200-299`.")
    interval_seconds: int = Field(15, ge=5, le=300, description="Seconds between probes.")
    timeout_seconds: int = Field(5, ge=2, le=120, description="Seconds before a probe counts as failed.")
    healthy_threshold: int = Field(2, ge=2, le=10, description="Consecutive successes to become healthy.")
    unhealthy_threshold: int = Field(3, ge=2, le=10, description="Consecutive failures to become unhealthy.")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _PATH.match(value):
            raise ValueError(f"health_check.path {value!r} must be an absolute URL path such as /healthz")
        return value

    @field_validator("matcher")
    @classmethod
    def _matcher(cls, value: str) -> str:
        if not _MATCHER.match(value):
            raise ValueError(f"health_check.matcher {value!r} must be HTTP codes such as 200 or 200-299")
        return value

    @model_validator(mode="after")
    def _timeout(self) -> "HealthCheckSettings":
        if self.timeout_seconds >= self.interval_seconds:
            raise ValueError(
                f"health_check.timeout_seconds ({self.timeout_seconds}) must be less than "
                f"health_check.interval_seconds ({self.interval_seconds})"
            )
        return self


class RoutingSettings(ArgsModel):
    """Which requests reach the service: host names and/or path patterns on the shared HTTPS listener."""

    hosts: list[str] = Field(
        default_factory=list,
        description="Host names (`*` and `?` wildcards allowed); empty matches any host. At most 3.",
    )
    paths: list[str] = Field(
        default_factory=list,
        description="Path patterns such as `/api/*`; empty with no hosts means `/*`. At most 3, and at most 5 "
        "host and path values together (the ALB's limits for one rule).",
    )
    priority: Optional[int] = Field(
        None,
        ge=PRIORITY_RANGE[0],
        le=PRIORITY_RANGE[1],
        description="Listener rule priority (lowest is tried first), unique on the listener; unset derives one "
        "from the paths' specificity and the service name.",
    )

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not _HOST_PATTERN.match(host):
                raise ValueError(f"routing.hosts: {host!r} is not a lower-case host name (wildcards * and ? allowed)")
        return value

    @field_validator("paths")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not _PATH_PATTERN.match(path):
                raise ValueError(
                    f"routing.paths: {path!r} is not an ALB path pattern: it starts with / and has at most 128 of "
                    "A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + and the wildcards * and ?"
                )
        return value

    @model_validator(mode="after")
    def _limits(self) -> "RoutingSettings":
        for key, values in (("hosts", self.hosts), ("paths", self.paths)):
            if len(values) > MAX_VALUES_PER_CONDITION:
                raise ValueError(
                    f"routing.{key} has {len(values)} values; an ALB rule condition takes at most "
                    f"{MAX_VALUES_PER_CONDITION}: split the service's routes or use a wildcard"
                )
            if len(set(values)) != len(values):
                raise ValueError(f"routing.{key} lists a value twice")
        if len(self.hosts) + len(self.paths) > MAX_VALUES_PER_RULE:
            raise ValueError(
                f"routing has {len(self.hosts) + len(self.paths)} host and path values; an ALB rule takes at most "
                f"{MAX_VALUES_PER_RULE} in all"
            )
        return self

    def path_patterns(self) -> list[str]:
        """The rule's path patterns: `/*` when neither hosts nor paths are given."""
        return list(self.paths) or ([] if self.hosts else ["/*"])

    def claims(self) -> set[tuple[str, str]]:
        """The (host, path) pairs this route matches exactly as written; `*` stands for any."""
        return {(h, p) for h in (self.hosts or ["*"]) for p in (self.path_patterns() or ["/*"])}


def _literal_prefix(pattern: str) -> int:
    """Characters before the first wildcard: the longer, the more specific the pattern."""
    return len(re.split(r"[*?]", pattern, maxsplit=1)[0])


def specificity_class(routing: RoutingSettings) -> int:
    """0 (most specific) to 5 (`/*` on any host): paths by their shortest literal prefix (17+, 9-16,
    5-8, 2-4 characters), then rules that match by host alone, then catch-all paths."""
    prefix = min((_literal_prefix(p) for p in routing.paths), default=0)
    for index, minimum in enumerate(_PREFIX_CLASSES):
        if prefix >= minimum:
            return index
    return _HOST_CLASS if routing.hosts else _CATCH_ALL_CLASS


def effective_priority(service: str, routing: RoutingSettings) -> int:
    """The rule's priority: the given one, or one derived from the route's specificity class and a
    stable slot from the service name, so adding or removing another service never changes this
    one's rule. Two derived priorities can still meet (`check_routes` refuses that, naming both):
    set `priority` explicitly on one, as stacks with many services should."""
    if routing.priority is not None:
        return routing.priority
    slot = zlib.crc32(service.encode()) % _CLASS_SLOTS
    return _DERIVED_BASE + specificity_class(routing) * _CLASS_SLOTS + slot


def check_routes(routes: Mapping[str, RoutingSettings], where: str = "services") -> None:
    """Refuse routes that cannot share one listener: the same host and path claimed twice, or one
    priority used twice. Errors name both services and the key."""
    claimed: dict[tuple[str, str], str] = {}
    priorities: dict[int, str] = {}
    for service, routing in routes.items():
        for claim in sorted(routing.claims()):
            other = claimed.get(claim)
            if other is not None:
                host, path = claim
                raise ValueError(
                    f"{where}.{service}.routing and {where}.{other}.routing both claim host {host!r} path {path!r}; "
                    "give one of them another host or path"
                )
            claimed[claim] = service
        priority = effective_priority(service, routing)
        other = priorities.get(priority)
        if other is not None:
            raise ValueError(
                f"{where}.{service}.routing.priority and {where}.{other}.routing.priority are both {priority}; "
                "set a different `priority` on one of them"
            )
        priorities[priority] = service


class ServiceRoute(pulumi.ComponentResource):
    """A service's target group and the listener rule that forwards its requests to it."""

    target_group: aws.lb.TargetGroup
    listener_rule: aws.lb.ListenerRule
    priority: int

    def __init__(
        self,
        name: str,
        *,
        routing: RoutingSettings,
        priority: int,
        listener_arn: StrInput,
        vpc_id: StrInput,
        port: int,
        protocol: Literal["HTTP", "HTTPS"],
        health_check: HealthCheckSettings,
        deregistration_delay_seconds: int,
        tags: dict[str, str],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("rampart:routing:ServiceRoute", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        hc = health_check
        self.target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            aws.lb.TargetGroupArgs(
                name_prefix="rmp-",
                vpc_id=vpc_id,
                target_type="ip",
                port=port,
                protocol=protocol,
                deregistration_delay=deregistration_delay_seconds,
                health_check=aws.lb.TargetGroupHealthCheckArgs(
                    enabled=True,
                    protocol=protocol,
                    port="traffic-port",
                    path=hc.path,
                    matcher=hc.matcher,
                    interval=hc.interval_seconds,
                    timeout=hc.timeout_seconds,
                    healthy_threshold=hc.healthy_threshold,
                    unhealthy_threshold=hc.unhealthy_threshold,
                ),
                tags=tags,
            ),
            opts=child,
        )
        conditions = []
        if routing.hosts:
            conditions.append(
                aws.lb.ListenerRuleConditionArgs(
                    host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(values=list(routing.hosts))
                )
            )
        if routing.path_patterns():
            conditions.append(
                aws.lb.ListenerRuleConditionArgs(
                    path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=routing.path_patterns())
                )
            )
        self.priority = priority
        self.listener_rule = aws.lb.ListenerRule(
            f"{name}-rule",
            aws.lb.ListenerRuleArgs(
                listener_arn=listener_arn,
                priority=self.priority,
                actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=self.target_group.arn)],
                conditions=conditions,
                tags=tags,
            ),
            opts=child,
        )
        self.register_outputs(
            {"target_group_arn": self.target_group.arn, "listener_rule_arn": self.listener_rule.arn, "priority": self.priority}
        )
