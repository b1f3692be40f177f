"""WAF: a regional WAFv2 web ACL associated with the ALB: a per-client-IP rate-based rule
answering 429, AWS managed rule groups, CloudWatch metrics on every rule, and logging to an
encrypted `aws-waf-logs-*` log group with the Authorization and Cookie headers redacted.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Optional

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator
from rampart_soc2.vocabulary.thresholds import WAF_RATE_LIMIT_MAX, WAF_RATE_LIMIT_MIN, WAF_RATE_WINDOWS

from rampart.components._util import ArgsModel, StrInput, merge_tags, physical_name, Tags
from rampart.components.monitoring import DEFAULT_LOG_RETENTION_DAYS, encrypted_log_group

DEFAULT_MANAGED_RULE_GROUPS: tuple[str, ...] = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)
#: Headers never written to WAF logs (credentials and sessions).
REDACTED_HEADERS: tuple[str, ...] = ("authorization", "cookie")
RATE_LIMIT_BODY_KEY = "rate-limited"
#: Rule priorities: the ACL-wide rate limit at 0, scoped limits from 1, managed groups from here.
MANAGED_GROUP_PRIORITY = 100

_GROUP = re.compile(r"^AWSManagedRules[A-Za-z0-9]+$")
_RULE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class ScopedRateLimit(ArgsModel):
    """A rate limit for one service's requests: a rate-based rule in the shared web ACL, scoped down
    to the service's host names and path prefixes."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$", description="The rule's name: the service's.")
    limit: int = Field(ge=WAF_RATE_LIMIT_MIN, le=WAF_RATE_LIMIT_MAX, description="Requests one client IP may send per window to these routes.")
    hosts: list[str] = Field(default_factory=list, description="Host names (exact, or `*.domain`).")
    path_prefixes: list[str] = Field(default_factory=list, description="URL path prefixes the limit covers.")

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if "?" in host or "*" in host.removeprefix("*."):
                raise ValueError(f"hosts: {host!r}: a WAF scope takes exact host names or `*.domain`")
        return value

    @model_validator(mode="after")
    def _scope(self) -> "ScopedRateLimit":
        if not self.hosts and not self.path_prefixes:
            raise ValueError(f"{self.name}: a scoped rate limit needs hosts or path prefixes (else use rate_limit)")
        return self


class WafSettings(ArgsModel):
    """What a platform team chooses about the environment's web ACL (Environment fills in the wiring)."""

    rate_limit: int = Field(
        2000, ge=WAF_RATE_LIMIT_MIN, le=WAF_RATE_LIMIT_MAX,
        description="Requests one client IP may send per `rate_limit_window_seconds` before WAF answers 429.",
    )
    rate_limit_window_seconds: Literal[WAF_RATE_WINDOWS] = Field(  # type: ignore[valid-type]
        300, description="Evaluation window of the rate-based rule."
    )
    managed_rule_groups: list[str] = Field(
        default_factory=lambda: list(DEFAULT_MANAGED_RULE_GROUPS), min_length=1,
        description="AWS managed rule groups (vendor AWS), evaluated in this order after the rate rule.",
    )
    count_only_rules: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Managed group -> rule names overridden to COUNT instead of BLOCK (documented exceptions).",
    )
    scoped_rate_limits: list[ScopedRateLimit] = Field(
        default_factory=list,
        max_length=50,
        description="Per-service rate limits, each a rate-based rule scoped to that service's hosts and paths "
        "(evaluated after the ACL-wide limit, before the managed groups).",
    )
    tags: Tags = Field(default_factory=dict, description="Tags added to every taggable resource.")

    @field_validator("managed_rule_groups")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        for group in value:
            if not _GROUP.match(group):
                raise ValueError(f"managed_rule_groups: {group!r} is not an AWS managed rule group (AWSManagedRules...)")
        if len(set(value)) != len(value):
            raise ValueError("managed_rule_groups lists a group twice")
        return value

    @model_validator(mode="after")
    def _overrides(self) -> "WafSettings":
        unknown = sorted(set(self.count_only_rules) - set(self.managed_rule_groups))
        if unknown:
            raise ValueError(
                f"count_only_rules names {', '.join(unknown)}, which managed_rule_groups does not include; "
                "add the group to managed_rule_groups or drop the override"
            )
        for group, rules in self.count_only_rules.items():
            for rule in rules:
                if not _RULE.match(rule):
                    raise ValueError(f"count_only_rules[{group}]: {rule!r} is not a WAF rule name")
        return self


class WebAclArgs(WafSettings):
    """Settings plus wiring: what the ACL protects and where its logs go."""

    resource_arn: StrInput = Field(description="ARN of the ALB the web ACL is associated with.")
    kms_key_arn: StrInput = Field(description="KMS key of the WAF log group.")
    log_retention_days: int = Field(DEFAULT_LOG_RETENTION_DAYS, description="Retention of the WAF log group.")
    logging: bool = Field(True, description="Send WAF logs (redacted) to CloudWatch Logs.")


def _block_429(window_seconds: int) -> aws.wafv2.WebAclRuleActionArgs:
    return aws.wafv2.WebAclRuleActionArgs(
        block=aws.wafv2.WebAclRuleActionBlockArgs(
            custom_response=aws.wafv2.WebAclRuleActionBlockCustomResponseArgs(
                response_code=429,
                custom_response_body_key=RATE_LIMIT_BODY_KEY,
                response_headers=[
                    aws.wafv2.WebAclRuleActionBlockCustomResponseResponseHeaderArgs(
                        name="Retry-After", value=str(window_seconds)
                    )
                ],
            )
        )
    )


def _byte_match(field: str, constraint: str, text: str) -> dict[str, Any]:
    """One scope-down test: the Host header (lower-cased) or the URI path."""
    field_to_match = (
        {"single_header": {"name": "host"}} if field == "host" else {"uri_path": {}}
    )
    return {
        "byte_match_statement": {
            "field_to_match": field_to_match,
            "positional_constraint": constraint,
            "search_string": text,
            "text_transformations": [{"priority": 0, "type": "LOWERCASE" if field == "host" else "NONE"}],
        }
    }


def _any(statements: list[Any]) -> Any:
    """One statement, or an OR of several (WAF's OR takes two or more)."""
    return statements[0] if len(statements) == 1 else {"or_statement": {"statements": statements}}


def _scoped_rate_rule(prefix: str, limit: ScopedRateLimit, priority: int, window: int) -> aws.wafv2.WebAclRuleArgs:
    """A rate-based rule counting only the requests to one service's hosts and path prefixes."""
    hosts = [_byte_match("host", "ENDS_WITH", h[1:]) if h.startswith("*.") else _byte_match("host", "EXACTLY", h)
             for h in limit.hosts]
    paths = [_byte_match("path", "STARTS_WITH", p) for p in limit.path_prefixes]
    parts = [_any(group) for group in (hosts, paths) if group]
    # Plain dicts: the provider's nested statement types are too deep to spell out; it validates them.
    scope: Any = parts[0] if len(parts) == 1 else {"and_statement": {"statements": parts}}
    return aws.wafv2.WebAclRuleArgs(
        name=f"rate-limit-{limit.name}",
        priority=priority,
        action=_block_429(window),
        statement=aws.wafv2.WebAclRuleStatementArgs(
            rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                aggregate_key_type="IP",
                limit=limit.limit,
                evaluation_window_sec=window,
                scope_down_statement=scope,
            )
        ),
        visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
            cloudwatch_metrics_enabled=True,
            metric_name=_metric(f"{prefix}-rate-limit-{limit.name}"),
            sampled_requests_enabled=True,
        ),
    )


def _per_ip_rate_rule(prefix: str, limit: int, window: int) -> aws.wafv2.WebAclRuleArgs:
    """The ACL-wide rate-based rule: every client IP's requests, counted over `window` seconds."""
    return aws.wafv2.WebAclRuleArgs(
        name="rate-limit-per-ip",
        priority=0,
        action=_block_429(window),
        statement=aws.wafv2.WebAclRuleStatementArgs(
            rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                aggregate_key_type="IP",
                limit=limit,
                evaluation_window_sec=window,
            )
        ),
        visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
            cloudwatch_metrics_enabled=True,
            metric_name=_metric(f"{prefix}-rate-limit-per-ip"),
            sampled_requests_enabled=True,
        ),
    )


def _managed_group_rule(prefix: str, group: str, priority: int, count_only: list[str]) -> aws.wafv2.WebAclRuleArgs:
    """One AWS managed rule group, with the rules named in `count_only` overridden to COUNT."""
    overrides = [
        aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs(
            name=rule,
            action_to_use=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs(
                count=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs()
            ),
        )
        for rule in count_only
    ]
    return aws.wafv2.WebAclRuleArgs(
        name=group,
        priority=priority,
        override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
            none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()
        ),
        statement=aws.wafv2.WebAclRuleStatementArgs(
            managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                vendor_name="AWS",
                name=group,
                rule_action_overrides=overrides or None,
            )
        ),
        visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
            cloudwatch_metrics_enabled=True,
            metric_name=_metric(f"{prefix}-{group}"),
            sampled_requests_enabled=True,
        ),
    )


def _metric(name: str) -> str:
    """CloudWatch metric names for WAF: letters, digits, '-' and '_' only, at most 128 characters."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", name)[:128]


#: Room the metric prefix leaves for the longest rule suffix (`rate-limit-` and a 63-character
#: service name) within WAF's 128 characters, so no two rules' names are cut to one.
METRIC_PREFIX_LENGTH = 48


def metric_prefix(name: str) -> str:
    """The start of every metric name of web ACL `name`: the name and the stack. CloudWatch keys WAF
    metrics by these names in the account and region, so two stacks' ACLs (dev and prod in one
    account) must not share them, or every alarm and widget sums both."""
    return physical_name(name, METRIC_PREFIX_LENGTH)


class WebAcl(pulumi.ComponentResource):
    """Regional WAFv2 web ACL, its ALB association and its logging."""

    web_acl: aws.wafv2.WebAcl
    log_group: Optional[aws.cloudwatch.LogGroup]
    web_acl_arn: pulumi.Output[str]
    web_acl_metric_name: str

    def __init__(self, name: str, args: WebAclArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("rampart:waf:WebAcl", name, None, opts)
        self._name = name
        self._args = args
        self._tags = merge_tags(args.tags)
        self._prefix = metric_prefix(name)

        # CloudWatch publishes the ACL's metrics under this name (the `WebACL` dimension), not under
        # the ACL's own name, which the provider randomises when it is not set. Alarms and dashboards
        # read it from here (through `EnvironmentRef.web_acl_metric_name`).
        self.web_acl_metric_name = _metric(f"{self._prefix}-acl")
        self.web_acl = self._web_acl(self._rules())
        self.web_acl_arn = self.web_acl.arn
        self._association()
        self.log_group = self._logging() if args.logging else None

        self.register_outputs(
            {
                "web_acl_arn": self.web_acl_arn,
                "log_group_name": self.log_group.name if self.log_group is not None else None,
            }
        )

    # --- pieces, in the order the constructor uses them -------------------------------------
    def _child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)

    def _rules(self) -> list[aws.wafv2.WebAclRuleArgs]:
        """In priority order: the ACL-wide rate limit (0), the scoped ones (from 1), the managed groups
        (from MANAGED_GROUP_PRIORITY, 10 apart)."""
        args, prefix, window = self._args, self._prefix, self._args.rate_limit_window_seconds
        rules = [_per_ip_rate_rule(prefix, args.rate_limit, window)]
        rules += [_scoped_rate_rule(prefix, limit, 1 + index, window)
                  for index, limit in enumerate(args.scoped_rate_limits)]
        rules += [_managed_group_rule(prefix, group, MANAGED_GROUP_PRIORITY + 10 * index,
                                      args.count_only_rules.get(group, []))
                  for index, group in enumerate(args.managed_rule_groups)]
        return rules

    def _web_acl(self, rules: list[aws.wafv2.WebAclRuleArgs]) -> aws.wafv2.WebAcl:
        """The web ACL: allow by default, `rules` in front, the 429 body the rate rules answer with."""
        name = self._name
        return aws.wafv2.WebAcl(
            f"{name}-acl",
            aws.wafv2.WebAclArgs(
                scope="REGIONAL",
                description=f"{name}: per-IP rate limit and AWS managed rules in front of the ALB",
                default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
                custom_response_bodies=[
                    aws.wafv2.WebAclCustomResponseBodyArgs(
                        key=RATE_LIMIT_BODY_KEY,
                        content='{"error":"too many requests"}',
                        content_type="APPLICATION_JSON",
                    )
                ],
                rules=rules,
                visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                    cloudwatch_metrics_enabled=True,
                    metric_name=self.web_acl_metric_name,
                    sampled_requests_enabled=True,
                ),
                tags=self._tags,
            ),
            opts=self._child(),
        )

    def _association(self) -> None:
        """The web ACL in front of the load balancer."""
        aws.wafv2.WebAclAssociation(
            f"{self._name}-association",
            aws.wafv2.WebAclAssociationArgs(resource_arn=self._args.resource_arn, web_acl_arn=self.web_acl.arn),
            opts=self._child(),
        )

    def _logging(self) -> aws.cloudwatch.LogGroup:
        """The encrypted log group and the logging configuration that redacts credential headers."""
        name, args = self._name, self._args
        # WAF only delivers to log groups whose name starts with `aws-waf-logs-`.
        log_group = encrypted_log_group(
            f"{name}-logs",
            log_group_name=f"aws-waf-logs-{physical_name(name, 450)}",
            kms_key_arn=args.kms_key_arn,
            retention_days=args.log_retention_days,
            tags=self._tags,
            parent=self,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-logging",
            aws.wafv2.WebAclLoggingConfigurationArgs(
                resource_arn=self.web_acl.arn,
                log_destination_configs=[log_group.arn],
                redacted_fields=[
                    aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                        single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name=header)
                    )
                    for header in REDACTED_HEADERS
                ],
            ),
            opts=self._child(),
        )
        return log_group
