"""Web ACLs have a blocking rate-based rule within the configured bounds."""
from __future__ import annotations

from ..common import WEB_ACL, items
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    low, high = int(ctx.threshold("rateLimitMin")), int(ctx.threshold("rateLimitMax"))
    rate_rules = []
    for rule in items(r.props.get("rules")):
        statement = rule.get("statement") or {}
        rate = statement.get("rateBasedStatement")
        if rate:
            rate_rules.append((rule, rate))
    if not rate_rules:
        return Violation("web ACL has no rate-based rule, so one client can flood the service")
    problems = []
    for rule, rate in rate_rules:
        name = rule.get("name") or "?"
        limit = rate.get("limit")
        action = rule.get("action") or {}
        if not isinstance(limit, (int, float)) or not low <= limit <= high:
            problems.append(f"rule '{name}' limit {limit} is outside [{low}, {high}]")
        elif not any(action.get(k) is not None for k in ("block", "captcha", "challenge")):
            problems.append(f"rule '{name}' only counts requests (action is not block, captcha or challenge)")
        else:
            return COMPLIANT
    return Violation("web ACL has no effective rate-based rule: " + "; ".join(problems))


POLICY = PolicySpec(
    id="aws-wafv2-webacl-require-rate-based-rule",
    description="Web ACLs have a blocking rate-based rule whose limit is within the stack's bounds.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.6", "A1.1"),
    remediation="Add a rule with statement.rateBasedStatement = {limit: <rateLimitMin..rateLimitMax>, "
                "aggregateKeyType: 'IP'} and action = {block: {}}.",
    reference="https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html",
    resource_types=WEB_ACL,
    check=check,
    thresholds=("rateLimitMin", "rateLimitMax"),
    peer="(none)",
)
