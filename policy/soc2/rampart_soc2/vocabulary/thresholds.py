"""The pack's thresholds: one record each, and the AWS value sets they are bounded by.

Each `Threshold` is the one owner of its name, default, bounds (its JSON schema), description and
the sentence the evidence report prints. Everything else reads it: the pack's config schema and
POLICIES.md, the stack file's `rampart:policy` model and its camelCase keys (rampart/config.py),
`rampart check` (which spellings it accepts) and the report. Component settings that mirror a
threshold (the WAF rate limit and its window, log retention, the TLS policy) take their bounds from
here, and `rampart.components.environment` refuses at plan what a threshold would fail at check.

This module imports nothing of Rampart and nothing of the rest of the pack, so the component
library may read it without depending on the pack's policies.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .deployments import BAKE_TIME_RANGE

#: Retention values CloudWatch Logs accepts (days); a log group can have no other.
CLOUDWATCH_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip

#: ALB security policies that negotiate only TLS 1.2 and 1.3 with forward-secret ciphers.
TLS_POLICIES: tuple[str, ...] = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
)

#: What AWS WAF accepts for a rate-based rule's limit (requests per evaluation window, per key).
WAF_RATE_LIMIT_MIN, WAF_RATE_LIMIT_MAX = 10, 2_000_000_000
#: The evaluation windows (seconds) AWS WAF offers a rate-based rule.
WAF_RATE_WINDOWS: tuple[int, ...] = (60, 120, 300, 600)
#: The window AWS WAF uses when a rate-based statement sets none.
WAF_DEFAULT_RATE_WINDOW = 300


def snake(key: str) -> str:
    """`minLogRetentionDays` -> `min_log_retention_days` (the Python spelling of a threshold)."""
    return "".join("_" + c.lower() if c.isupper() else c for c in key)


@dataclass(frozen=True)
class Threshold:
    """One pack threshold: what policies read through `Context.threshold(key)`."""

    key: str
    """The pack config key, and the stack file's `rampart:policy.<key>`."""
    default: Any
    schema: Mapping[str, Any]
    """JSON schema of the value (type and bounds), without the description."""
    description: str
    """What the threshold means (pack config schema, POLICIES.md)."""
    sentence: str
    """The report's sentence: `{value}` is the value; `{window}` the configured WAF evaluation window(s)."""
    when_unset: str = ""
    """What a stack file that leaves it unset gets; "" for the pack's default."""
    in_stack_file: bool = True
    """Whether a stack file's `rampart:policy` may set it (False: pack-wide, set in the pack config)."""

    @property
    def field(self) -> str:
        return snake(self.key)

    @property
    def spellings(self) -> tuple[str, str]:
        """The keys a stack file or pack config may use: camelCase, then snake_case."""
        return (self.key, self.field)

    def full_schema(self) -> dict[str, Any]:
        return {**self.schema, "description": self.description}

    def unset_text(self) -> str:
        if self.when_unset:
            return self.when_unset
        shown = ", ".join(self.default) if isinstance(self.default, (list, tuple)) else str(self.default)
        return f"the pack's default ({shown})"


THRESHOLDS: tuple[Threshold, ...] = (
    Threshold(
        "minLogRetentionDays", 365,
        {"type": "integer", "minimum": CLOUDWATCH_RETENTION_DAYS[0], "maximum": CLOUDWATCH_RETENTION_DAYS[-1]},
        "minimum CloudWatch log retention in days",
        "Log groups must keep their logs for at least {value} days.",
    ),
    Threshold(
        "allowedTlsPolicies", list(TLS_POLICIES),
        {"type": "array", "items": {"type": "string"}},
        "ELB security policies HTTPS listeners may use",
        "HTTPS listeners may only use these TLS policies: {value}.",
        when_unset="the pack's TLS 1.2+ list",
    ),
    Threshold(
        "minTaskCount", 2,
        {"type": "integer", "minimum": 1, "maximum": 100},
        "minimum running tasks for services in production stacks",
        "Each service must run at least this many tasks: {value}.",
        when_unset="2 on stacks named prod or production, otherwise not checked",
    ),
    Threshold(
        "productionStacks", ["prod", "production"],
        {"type": "array", "items": {"type": "string"}},
        "stack names treated as production (pack-wide, set in the pack config; a stack file sets minTaskCount instead)",
        "These stacks count as production: {value}.",
        in_stack_file=False,
    ),
    Threshold(
        "rateLimitMin", 100,
        {"type": "integer", "minimum": WAF_RATE_LIMIT_MIN, "maximum": WAF_RATE_LIMIT_MAX},
        "lowest allowed WAF rate-based limit (requests per window per key)",
        "A web ACL's rate limit must be at least {value} requests per {window}.",
    ),
    Threshold(
        "rateLimitMax", 10000,
        {"type": "integer", "minimum": WAF_RATE_LIMIT_MIN, "maximum": WAF_RATE_LIMIT_MAX},
        "highest allowed WAF rate-based limit",
        "A web ACL's rate limit must be at most {value} requests per {window}.",
    ),
    Threshold(
        "requiredManagedRuleGroups", ["AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesCommonRuleSet"],
        {"type": "array", "items": {"type": "string"}},
        "AWS managed rule groups every web ACL must use",
        "Every web ACL must include these AWS managed rule groups: {value}.",
        when_unset="Common and KnownBadInputs",
    ),
    Threshold(
        "minBakeTimeMinutes", 10,
        {"type": "integer", "minimum": BAKE_TIME_RANGE[0], "maximum": BAKE_TIME_RANGE[1]},
        "minimum minutes a service's deployment keeps the old tasks after all traffic moved, watched by its "
        f"rollback alarms (ECS bakeTimeInMinutes, {BAKE_TIME_RANGE[0]}-{BAKE_TIME_RANGE[1]})",
        "Each service must deploy blue/green, canary or linear and bake for at least {value} minutes, rolling back "
        "on at least one alarm.",
        when_unset="10 (mandatory on stacks named prod or production, advisory on the others)",
    ),
    Threshold(
        "minFargatePlatformVersion", "1.4.0",
        {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
        "oldest pinned Fargate platform version accepted",
        "Fargate services must run platform version {value} or later.",
    ),
)

BY_KEY: dict[str, Threshold] = {t.key: t for t in THRESHOLDS}
DEFAULT_THRESHOLDS: dict[str, Any] = {t.key: t.default for t in THRESHOLDS}
THRESHOLD_SCHEMAS: dict[str, dict[str, Any]] = {t.key: t.full_schema() for t in THRESHOLDS}


def in_effect(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every threshold's value for a stack: its overrides (pack keys) over the defaults."""
    given = {k: v for k, v in (overrides or {}).items() if k in BY_KEY and v is not None}
    return {**DEFAULT_THRESHOLDS, **given}


def _how_to_change(*keys: str) -> str:
    return " / ".join(f"`rampart:policy.{k}`" for k in keys)


def rate_limit_problem(limit: int, thresholds: Mapping[str, Any]) -> str | None:
    """Why the SOC 2 pack would fail a rate-based rule with this limit, or None when it passes."""
    values = in_effect(thresholds)
    low, high = int(values["rateLimitMin"]), int(values["rateLimitMax"])
    if low <= limit <= high:
        return None
    return (f"{limit} is outside the SOC 2 pack's rate limit bounds [{low}, {high}] (thresholds rateLimitMin and "
            f"rateLimitMax), so the check would fail the web ACL; use a limit in that range, or change the stack's "
            f"{_how_to_change('rateLimitMin', 'rateLimitMax')}")


def retention_problem(days: int, thresholds: Mapping[str, Any]) -> str | None:
    """Why the SOC 2 pack would fail a log group kept this many days, or None when it passes."""
    minimum = int(in_effect(thresholds)["minLogRetentionDays"])
    if days >= minimum:
        return None
    return (f"{days} days is less than the SOC 2 pack's minimum log retention, {minimum} days (threshold "
            f"minLogRetentionDays), so the check would fail the log group; keep logs at least {minimum} days, "
            f"or change the stack's {_how_to_change('minLogRetentionDays')}")


def tls_policy_problem(policy: str, thresholds: Mapping[str, Any]) -> str | None:
    """Why the SOC 2 pack would fail an HTTPS listener with this TLS policy, or None when it passes."""
    allowed = list(in_effect(thresholds)["allowedTlsPolicies"])
    if policy in allowed:
        return None
    return (f"{policy!r} is not among the SOC 2 pack's allowed TLS policies (threshold allowedTlsPolicies: "
            f"{', '.join(allowed) or 'none'}), so the check would fail the listener; use one of them, or change "
            f"the stack's {_how_to_change('allowedTlsPolicies')}")
