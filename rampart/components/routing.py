"""Routing: how a service attaches to the environment's shared HTTPS listener.

A service owns its target group (with the health check) and one listener rule that forwards the
requests matching its host names and/or path patterns. The environment's listener answers 404 to
everything no rule matches. Rules are evaluated in priority order (lowest first), so a service's
priority is given or derived from how specific its route is: `/api/*` is tried before `/*`.

Access control (`routing.access`): paths of the route may be restricted to client networks (a rule
with a `source-ip` condition that forwards, then a rule for the same paths that answers 403) and/or
require sign-in (`authenticate-oidc` or `authenticate-cognito` before the forward). These rules take
the priorities just below the service's own rule, in the order listed, so they are tried first. The
sidecar (ingress `nginx`) enforces the same allow-lists again on the real client address.
"""

from __future__ import annotations

import ipaddress
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from collections.abc import Collection, Mapping
from typing import Any, Literal, Optional

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from rampart.components._util import ArgsModel, StrInput
from rampart_soc2.vocabulary.tags import PRIVATE_ROUTE_TAG

_PATH = re.compile(r"^/[A-Za-z0-9._~/-]*$")
_MATCHER = re.compile(r"^[1-5]\d\d(-[1-5]\d\d)?(,[1-5]\d\d(-[1-5]\d\d)?)*$")
#: The health path, declared once: the Nginx sidecar answers it itself (proxy_config renders it; the image's
#: proxy-healthcheck reads it from that config), the load balancer probes it in `nginx` mode whatever
#: `health_check.path` says (rampart.components.ingress), and it is that setting's default for the app.
HEALTH_CHECK_PATH = "/healthz"
#: The property of a blue/green, canary or linear service's production and test rules that ECS owns and
#: Pulumi ignores after create (a Pulumi property path): the forward weights, not the target groups.
ECS_OWNED_RULE_PROPERTY = "actions[*].forward.targetGroups[*].weight"
#: ALB path-pattern and host-header values: case-sensitive paths with `*` and `?` wildcards, at most
#: 128 characters each (Elastic Load Balancing, "Listener rules for your Application Load Balancer").
MAX_PATTERN_LENGTH = 128
_PATH_PATTERN = re.compile(rf"^/[A-Za-z0-9_\-.$/~\"'@:+*?]{{0,{MAX_PATTERN_LENGTH - 1}}}$")
_HOST_PATTERN = re.compile(r"^(?=.{1,128}$)[a-z0-9*?]([a-z0-9*?-]*[a-z0-9*?])?(\.[a-z0-9*?]([a-z0-9*?-]*[a-z0-9*?])?)*$")

#: An ALB rule allows three values per condition and five across its conditions.
MAX_VALUES_PER_CONDITION = 3
MAX_VALUES_PER_RULE = 5
#: Access entries per service: each takes one or two rules just before the service's own.
MAX_ACCESS_ENTRIES = 8
#: The ALB's session timeout for authenticate actions, in seconds (1 second to 7 days).
SESSION_TIMEOUT_RANGE = (1, 604_800)
#: Rampart's ALB session cookie lifetime (AWS's default is 7 days).
DEFAULT_SESSION_TIMEOUT_SECONDS = 3600
#: Listener rule priorities AWS accepts.
PRIORITY_RANGE = (1, 50_000)
#: The listener's priorities, split so that rules of different stacks cannot meet (`PriorityInUse`
#: at deploy): the one owner of these ranges. Services of other stacks than the environment's (app
#: stacks, whose rules this program cannot see) take explicit priorities from APP_STACK_PRIORITIES,
#: tried before every derived one; derived priorities fill DERIVED_PRIORITIES; an explicit priority
#: of the environment's own stack may be anything outside APP_STACK_PRIORITIES (`check_routes`
#: refuses one that meets another of the same program).
APP_STACK_PRIORITIES = range(1_000, 10_000)
#: Derived priorities: six specificity classes of 6500 slots each (10000-48999), so more specific
#: routes are tried first; the service name picks a stable slot within its class.
_CLASS_COUNT, _CLASS_SLOTS = 6, 6_500
DERIVED_PRIORITIES = range(APP_STACK_PRIORITIES.stop, APP_STACK_PRIORITIES.stop + _CLASS_COUNT * _CLASS_SLOTS)
_DERIVED_BASE = DERIVED_PRIORITIES.start
if DERIVED_PRIORITIES.stop - 1 > PRIORITY_RANGE[1]:
    raise AssertionError("the derived classes must fit the listener's priorities")
#: Literal path prefix lengths (characters before the first wildcard) that open classes 0-3.
_PREFIX_CLASSES = (17, 9, 5, 2)
_HOST_CLASS, _CATCH_ALL_CLASS = 4, 5
_HTTPS_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/%:@!$&'()*+,;=-]*)?$")
_SECRETS_MANAGER_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$")
_USER_POOL_ARN = re.compile(r"^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool/[\w-]+_[0-9A-Za-z]+$")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
OnUnauthenticated = Literal["authenticate", "deny", "allow"]


def _https(field: str, value: str) -> str:
    if not _HTTPS_URL.match(value):
        raise ValueError(f"{field} {value!r} must be an https:// URL (the ALB sends the client secret and tokens there)")
    return value


class OidcSettings(ArgsModel):
    """Sign-in through an OpenID Connect identity provider (the ALB's `authenticate-oidc` action).
    The client secret is read from Secrets Manager when the program runs and passed to the ALB as a
    Pulumi secret: never written in a stack file, a plan or an output."""

    issuer: str = Field(description="The IdP's issuer URL (https).")
    authorization_endpoint: str = Field(description="The IdP's authorization endpoint (https).")
    token_endpoint: str = Field(description="The IdP's token endpoint (https).")
    user_info_endpoint: str = Field(description="The IdP's user info endpoint (https).")
    client_id: str = Field(min_length=1, max_length=256, description="The OAuth client ID registered at the IdP.")
    client_secret_arn: str = Field(
        description="Secrets Manager secret ARN whose value is the OAuth client secret (read at deploy time)."
    )
    scope: str = Field("openid", description="Scopes requested from the IdP (space-separated).")
    session_timeout_seconds: int = Field(
        DEFAULT_SESSION_TIMEOUT_SECONDS, ge=SESSION_TIMEOUT_RANGE[0], le=SESSION_TIMEOUT_RANGE[1],
        description="Lifetime of the ALB's session cookie (AWS's default is 7 days; Rampart's is one hour).",
    )
    on_unauthenticated_request: OnUnauthenticated = Field(
        "authenticate",
        description="`authenticate` (redirect to sign-in), `deny` (401) or `allow` (forward without identity; "
        "does not count as protecting a private route).",
    )

    @field_validator("issuer", "authorization_endpoint", "token_endpoint", "user_info_endpoint")
    @classmethod
    def _endpoints(cls, value: str, info: Any) -> str:
        return _https(f"oidc.{info.field_name}", value)

    @field_validator("client_secret_arn")
    @classmethod
    def _secret_arn(cls, value: str) -> str:
        if not _SECRETS_MANAGER_ARN.match(value):
            raise ValueError(
                f"oidc.client_secret_arn {value!r} must be a Secrets Manager secret ARN "
                "(arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME); the secret itself never goes in a stack file"
            )
        return value


class CognitoSettings(ArgsModel):
    """Sign-in through an Amazon Cognito user pool (the ALB's `authenticate-cognito` action)."""

    user_pool_arn: str = Field(description="The Cognito user pool ARN.")
    user_pool_client_id: str = Field(min_length=1, max_length=128, description="The user pool app client ID.")
    user_pool_domain: str = Field(
        min_length=1, max_length=63, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
        description="The user pool domain prefix (without .auth.REGION.amazoncognito.com).",
    )
    scope: str = Field("openid", description="Scopes requested (space-separated).")
    session_timeout_seconds: int = Field(
        DEFAULT_SESSION_TIMEOUT_SECONDS, ge=SESSION_TIMEOUT_RANGE[0], le=SESSION_TIMEOUT_RANGE[1],
        description="Lifetime of the ALB's session cookie in seconds.",
    )
    on_unauthenticated_request: OnUnauthenticated = Field(
        "authenticate", description="`authenticate`, `deny` or `allow` (as for OIDC)."
    )

    @field_validator("user_pool_arn")
    @classmethod
    def _pool(cls, value: str) -> str:
        if not _USER_POOL_ARN.match(value):
            raise ValueError(
                f"cognito.user_pool_arn {value!r} is not a Cognito user pool ARN "
                "(arn:aws:cognito-idp:REGION:ACCOUNT:userpool/REGION_ID, from the user pool's overview)"
            )
        return value


class RouteAccess(ArgsModel):
    """Who may reach some paths of the route: client networks (`allowCidrs`, everything else on
    those paths gets 403), sign-in (`oidc` or `cognito`), or both. `private` declares the paths
    must not be open; the policy pack then requires an allow-list or sign-in on them."""

    paths: list[str] = Field(
        min_length=1, description="ALB path patterns, such as `/admin/*`, this entry governs. At most 3."
    )
    allow_cidrs: list[Network] = Field(
        default_factory=list,
        description="Client networks allowed on these paths (the address the ALB sees, and the sidecar's real "
        "client address); others get 403. At most 3, and hosts + paths + networks at most 5.",
    )
    oidc: Optional[OidcSettings] = Field(None, description="Require sign-in through an OIDC provider.")
    cognito: Optional[CognitoSettings] = Field(None, description="Require sign-in through a Cognito user pool.")
    private: bool = Field(
        False, description="The paths are not public: tagged on the listener rule for the policy pack, which "
        "fails the stack unless they have an allow-list or sign-in."
    )

    @field_validator("paths")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not _PATH_PATTERN.match(path):
                raise ValueError(f"routing.access.paths: {path!r} is not an ALB path pattern such as /admin/*")
        return value

    @model_validator(mode="after")
    def _one_sign_in(self) -> "RouteAccess":
        if self.oidc is not None and self.cognito is not None:
            raise ValueError("routing.access: give `oidc` or `cognito`, not both (a rule authenticates once)")
        for key, values in (("paths", self.paths), ("allowCidrs", self.allow_cidrs)):
            if len(values) > MAX_VALUES_PER_CONDITION:
                raise ValueError(
                    f"routing.access.{key} has {len(values)} values; an ALB rule condition takes at most "
                    f"{MAX_VALUES_PER_CONDITION}: split it into two access entries or use a wider pattern or network"
                )
            twice = _repeated(values)
            if twice:
                raise ValueError(f"routing.access.{key} lists {twice} more than once; list each value once")
        return self

    @property
    def authentication(self) -> Optional[OidcSettings | CognitoSettings]:
        return self.oidc or self.cognito

    def signs_in(self) -> bool:
        """True when only signed-in users pass (the ALB then sets the x-amzn-oidc-* headers)."""
        auth = self.authentication
        return auth is not None and auth.on_unauthenticated_request != "allow"

    def rule_count(self) -> int:
        """Listener rules this entry needs: the allowing rule, plus the 403 rule with an allow-list."""
        return 2 if self.allow_cidrs else 1


class HealthCheckSettings(ArgsModel):
    """Target group health check (what the ALB probes before sending traffic to a task)."""

    path: str = Field(HEALTH_CHECK_PATH, description="HTTP path probed; must answer `matcher` when healthy.")
    matcher: str = Field("200", description="HTTP codes that mean healthy, e.g. `200` or `200-299`.")
    interval_seconds: int = Field(15, ge=5, le=300, description="Seconds between probes.")
    timeout_seconds: int = Field(5, ge=2, le=120, description="Seconds before a probe counts as failed.")
    healthy_threshold: int = Field(2, ge=2, le=10, description="Consecutive successes to become healthy.")
    unhealthy_threshold: int = Field(3, ge=2, le=10, description="Consecutive failures to become unhealthy.")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _PATH.match(value):
            raise ValueError(f"health_check.path {value!r} must be an absolute URL path such as {HEALTH_CHECK_PATH}")
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
    access: list[RouteAccess] = Field(
        default_factory=list,
        max_length=MAX_ACCESS_ENTRIES,
        description="Paths restricted to client networks and/or behind sign-in; their rules take the priorities "
        f"just below the service's own, in this order. At most {MAX_ACCESS_ENTRIES}.",
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
            twice = _repeated(values)
            if twice:
                raise ValueError(f"routing.{key} lists {twice} more than once; list each value once")
        if len(self.hosts) + len(self.paths) > MAX_VALUES_PER_RULE:
            raise ValueError(
                f"routing has {len(self.hosts) + len(self.paths)} host and path values; an ALB rule takes at most "
                f"{MAX_VALUES_PER_RULE} in all"
            )
        for i, entry in enumerate(self.access):
            outside = [p for p in entry.paths if not _covers(self.path_patterns() or ["/*"], p)]
            if outside:
                raise ValueError(
                    f"routing.access[{i}].paths {outside} lie outside the route's paths {self.path_patterns()}: an "
                    "access rule would take those requests from other services; restrict only paths of this route"
                )
            total = len(self.hosts) + len(entry.paths) + len(entry.allow_cidrs)
            if total > MAX_VALUES_PER_RULE:
                raise ValueError(
                    f"routing.access[{i}] has {total} host, path and network values with the route's hosts; an ALB "
                    f"rule takes at most {MAX_VALUES_PER_RULE} in all: split it into two access entries"
                )
        if self.priority is not None and self.priority - self.access_rule_count() < PRIORITY_RANGE[0]:
            raise ValueError(
                f"routing.priority {self.priority} leaves no room for the {self.access_rule_count()} access rules "
                f"tried before it; set priority to at least {PRIORITY_RANGE[0] + self.access_rule_count()}"
            )
        return self

    def access_rule_count(self) -> int:
        """Listener rules the access entries take, just before the service's own rule."""
        return sum(entry.rule_count() for entry in self.access)

    def authenticates(self) -> bool:
        """True when a rule of the route signs users in (OIDC or Cognito): the ALB then calls the
        identity provider's endpoints itself, which its security group must allow."""
        return any(entry.authentication is not None for entry in self.access)

    def path_patterns(self) -> list[str]:
        """The rule's path patterns: `/*` when neither hosts nor paths are given."""
        return list(self.paths) or ([] if self.hosts else ["/*"])

    def claims(self) -> set[tuple[str, str]]:
        """The (host, path) pairs this route matches exactly as written; `*` stands for any."""
        return {(h, p) for h in (self.hosts or ["*"]) for p in (self.path_patterns() or ["/*"])}


def _repeated(values: list[Any]) -> list[str]:
    """The values listed more than once, as written."""
    return sorted(str(value) for value, count in Counter(values).items() if count > 1)


def _covers(patterns: list[str], path: str) -> bool:
    """True when every request `path` matches also matches one of `patterns` (exactly the same
    pattern, or a pattern ending in `*` with no other wildcard whose literal part starts `path`)."""
    for pattern in patterns:
        if pattern == path:
            return True
        head = pattern[:-1]
        if pattern.endswith("*") and not re.search(r"[*?]", head) and path.startswith(head):
            return True
    return False


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


def priority_range(service: str, routing: RoutingSettings, test_rule: bool = False) -> range:
    """Every priority the service's rules take: its test rule (blue/green, canary and linear deployments),
    its access rules, then its own rule (the last)."""
    own = effective_priority(service, routing)
    return range(own - routing.access_rule_count() - int(test_rule), own + 1)


def _span(values: range) -> str:
    return f"{values.start}-{values.stop - 1}"


def priority_range_problem(routing: RoutingSettings, *, app_stack: bool, test_rule: bool = False) -> Optional[str]:
    """Why the service's priorities lie in the wrong range (None when they do not): a service of an
    app stack (the environment is another stack's) takes explicit priorities in APP_STACK_PRIORITIES;
    a service of the environment's own stack takes none there. The ranges are disjoint from the
    derived ones by construction, so two stacks' rules never meet on the listener."""
    app = APP_STACK_PRIORITIES
    if routing.priority is None:
        if not app_stack:
            return None  # derived: in DERIVED_PRIORITIES, never in the app stacks' range
        return (
            f"routing.priority is unset, but the environment is another stack's and its other rules are not "
            f"visible here: set routing.priority in {_span(app)}, the range for app stacks (a derived one would "
            f"be in {_span(DERIVED_PRIORITIES)}, the environment stack's)"
        )
    taken = range(routing.priority - routing.access_rule_count() - int(test_rule), routing.priority + 1)
    if taken.start < PRIORITY_RANGE[0]:
        return (
            f"routing.priority {routing.priority} leaves no room for the test listener rule of a blue/green, canary or "
            f"linear deployment, tried before it; set priority to at least {PRIORITY_RANGE[0] + len(taken) - 1}"
        )
    if app_stack:
        if taken.start < app.start or taken.stop > app.stop:
            return (
                f"routing.priority {routing.priority} (its rules take {_span(taken)}) is outside {_span(app)}, the "
                "range for services attached to another stack's environment; pick a priority in that range that "
                "no other app stack uses"
            )
        return None
    if taken.start < app.stop and app.start < taken.stop:
        return (
            f"routing.priority {routing.priority} (its rules take {_span(taken)}) is in {_span(app)}, the range kept "
            f"for app stacks attaching to this environment; give a priority below {app.start} or from {app.stop} "
            "up, or leave it unset to derive one"
        )
    return None


def check_routes(routes: Mapping[str, RoutingSettings], where: str = "services", test_rules: Collection[str] = ()) -> None:
    """Refuse routes that cannot share one listener: the same host and path claimed twice, or one
    priority used twice. `test_rules` names the services with a test listener rule (blue/green, canary,
    linear), which takes one more priority. Errors name both services and the key."""
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
        for priority in priority_range(service, routing, service in test_rules):
            other = priorities.get(priority)
            if other is not None:
                raise ValueError(
                    f"{where}.{service}.routing.priority and {where}.{other}.routing.priority both take listener rule "
                    f"priority {priority} (a service's access rules and test rule take the priorities just below its own); "
                    "set a different `priority` on one of them"
                )
            priorities[priority] = service


@dataclass(frozen=True)
class TestRoute:
    """The test listener rule of a blue/green, canary or linear deployment: the service's hosts and paths
    plus one header, forwarding to the target group ECS registers the new tasks in until traffic moves."""

    header: str
    value: str


class ServiceRoute(pulumi.ComponentResource):
    """A service's target group and the listener rule that forwards its requests to it; for a deployment
    that shifts traffic (`alternate=True`), a second target group with the same settings, and the
    production and test listener rules ECS moves traffic on (their actions are then ECS's)."""

    target_group: aws.lb.TargetGroup
    alternate_target_group: Optional[aws.lb.TargetGroup]
    listener_rule: aws.lb.ListenerRule
    test_listener_rule: Optional[aws.lb.ListenerRule]
    access_rules: list[aws.lb.ListenerRule]
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
        test_route: Optional[TestRoute] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("rampart:routing:ServiceRoute", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        hc = health_check
        # One owner for the target group's port, protocol and health check: the alternate group ECS
        # registers new tasks in is built from the very same args (ECS refuses a pair that differs).
        group_args = aws.lb.TargetGroupArgs(
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
        )
        self.target_group = aws.lb.TargetGroup(f"{name}-tg", group_args, opts=child)
        self.alternate_target_group = (
            aws.lb.TargetGroup(f"{name}-tg-alternate", group_args, opts=child) if test_route is not None else None
        )
        self.priority = priority
        self.access_rules = self._access_rules(name, routing, priority, listener_arn, self.target_group.arn, tags, child)
        conditions = _conditions(routing.hosts, routing.path_patterns())
        self.listener_rule = aws.lb.ListenerRule(
            f"{name}-rule",
            aws.lb.ListenerRuleArgs(
                listener_arn=listener_arn,
                priority=self.priority,
                actions=[self._forward()],
                conditions=conditions,
                tags=tags,
            ),
            opts=self._ecs_owns_weights(child),
        )
        self.test_listener_rule = None
        if test_route is not None:
            header = aws.lb.ListenerRuleConditionArgs(
                http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                    http_header_name=test_route.header, values=[test_route.value]
                )
            )
            self.test_listener_rule = aws.lb.ListenerRule(
                f"{name}-test-rule",
                aws.lb.ListenerRuleArgs(
                    listener_arn=listener_arn,
                    priority=self.priority - routing.access_rule_count() - 1,
                    actions=[self._forward()],
                    conditions=[*conditions, header],
                    tags=tags,
                ),
                opts=self._ecs_owns_weights(child),
            )
        self.register_outputs(
            {"target_group_arn": self.target_group.arn, "listener_rule_arn": self.listener_rule.arn, "priority": self.priority}
        )

    def _forward(self) -> aws.lb.ListenerRuleActionArgs:
        """Forward to the target group; with an alternate group, weighted 100/0 over both, the shape ECS
        rewrites the weights of while it moves traffic."""
        if self.alternate_target_group is None:
            return aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=self.target_group.arn)
        return aws.lb.ListenerRuleActionArgs(
            type="forward",
            forward=aws.lb.ListenerRuleActionForwardArgs(
                target_groups=[
                    aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=self.target_group.arn, weight=100),
                    aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=self.alternate_target_group.arn, weight=0),
                ]
            ),
        )

    def _ecs_owns_weights(self, child: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
        """A rule ECS moves traffic on: ECS rewrites its forward weights during and after each deployment
        (after a release the live rule may forward 0/100), so the next `pulumi up` must not set them back to
        100/0 and send the traffic to the old, stopped tasks. Pulumi ignores the weights only: the target
        groups stay Pulumi's, so a setting that replaces them (the container port, the ingress mode) moves
        the rule to the new groups instead of leaving it on groups that can then never be deleted."""
        if self.alternate_target_group is None:
            return child
        return pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(ignore_changes=[ECS_OWNED_RULE_PROPERTY]))

    @staticmethod
    def _access_rules(
        name: str,
        routing: RoutingSettings,
        priority: int,
        listener_arn: StrInput,
        target_group_arn: pulumi.Output[str],
        tags: dict[str, str],
        child: pulumi.ResourceOptions,
    ) -> list[aws.lb.ListenerRule]:
        """Per access entry, in order from `priority - access_rule_count()`: the rule that lets the
        allowed networks (and/or signed-in users) through, then, with an allow-list, the rule that
        answers 403 to everyone else on those paths."""
        rules: list[aws.lb.ListenerRule] = []
        next_priority = priority - routing.access_rule_count()
        for i, entry in enumerate(routing.access):
            rule_tags = {**tags, PRIVATE_ROUTE_TAG: "true"} if entry.private else tags
            sign_in = _authenticate_actions(entry, child)
            forward = aws.lb.ListenerRuleActionArgs(
                type="forward", target_group_arn=target_group_arn, order=len(sign_in) + 1
            )
            actions = [*sign_in, forward]
            rules.append(
                aws.lb.ListenerRule(
                    f"{name}-access-{i}-allow",
                    aws.lb.ListenerRuleArgs(
                        listener_arn=listener_arn,
                        priority=next_priority,
                        actions=actions,
                        conditions=_conditions(routing.hosts, entry.paths, entry.allow_cidrs),
                        tags=rule_tags,
                    ),
                    opts=child,
                )
            )
            next_priority += 1
            if entry.allow_cidrs:
                rules.append(
                    aws.lb.ListenerRule(
                        f"{name}-access-{i}-deny",
                        aws.lb.ListenerRuleArgs(
                            listener_arn=listener_arn,
                            priority=next_priority,
                            actions=[DENY_ACTION],
                            conditions=_conditions(routing.hosts, entry.paths),
                            tags=rule_tags,
                        ),
                        opts=child,
                    )
                )
                next_priority += 1
        assert next_priority == priority, "access rules must end just before the service's own rule"
        return rules


#: What the ALB answers a client outside an access entry's allow-list.
DENY_ACTION = aws.lb.ListenerRuleActionArgs(
    type="fixed-response",
    fixed_response=aws.lb.ListenerRuleActionFixedResponseArgs(
        content_type="text/plain", status_code="403", message_body="Forbidden\n"
    ),
)


def _conditions(
    hosts: list[str], paths: list[str], cidrs: Optional[list[Network]] = None
) -> list[aws.lb.ListenerRuleConditionArgs]:
    conditions = []
    if hosts:
        conditions.append(
            aws.lb.ListenerRuleConditionArgs(host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(values=list(hosts)))
        )
    if paths:
        conditions.append(
            aws.lb.ListenerRuleConditionArgs(path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(paths)))
        )
    if cidrs:
        conditions.append(
            aws.lb.ListenerRuleConditionArgs(
                source_ip=aws.lb.ListenerRuleConditionSourceIpArgs(values=[c.with_prefixlen for c in cidrs])
            )
        )
    return conditions


def _authenticate_actions(entry: RouteAccess, child: pulumi.ResourceOptions) -> list[aws.lb.ListenerRuleActionArgs]:
    """The entry's sign-in action, if any. The OIDC client secret is read from Secrets Manager when
    the program runs and wrapped as a Pulumi secret, so it is encrypted in the state and masked in
    plans; it is never a stack-file value or an output."""
    if entry.oidc is not None:
        oidc = entry.oidc
        secret = aws.secretsmanager.get_secret_version_output(
            secret_id=oidc.client_secret_arn, opts=pulumi.InvokeOptions(parent=child.parent)
        )
        return [
            aws.lb.ListenerRuleActionArgs(
                type="authenticate-oidc",
                order=1,
                authenticate_oidc=aws.lb.ListenerRuleActionAuthenticateOidcArgs(
                    issuer=oidc.issuer,
                    authorization_endpoint=oidc.authorization_endpoint,
                    token_endpoint=oidc.token_endpoint,
                    user_info_endpoint=oidc.user_info_endpoint,
                    client_id=oidc.client_id,
                    client_secret=pulumi.Output.secret(secret.secret_string),
                    scope=oidc.scope,
                    session_timeout=oidc.session_timeout_seconds,
                    on_unauthenticated_request=oidc.on_unauthenticated_request,
                ),
            )
        ]
    if entry.cognito is not None:
        cognito = entry.cognito
        return [
            aws.lb.ListenerRuleActionArgs(
                type="authenticate-cognito",
                order=1,
                authenticate_cognito=aws.lb.ListenerRuleActionAuthenticateCognitoArgs(
                    user_pool_arn=cognito.user_pool_arn,
                    user_pool_client_id=cognito.user_pool_client_id,
                    user_pool_domain=cognito.user_pool_domain,
                    scope=cognito.scope,
                    session_timeout=cognito.session_timeout_seconds,
                    on_unauthenticated_request=cognito.on_unauthenticated_request,
                ),
            )
        ]
    return []
