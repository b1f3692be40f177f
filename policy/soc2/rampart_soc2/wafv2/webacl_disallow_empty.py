"""A web ACL is never empty."""
from __future__ import annotations

from ..common import CONFIG_RULE, WEB_ACL, items
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    rules = items(r.props.get("rules"))
    rule_json = r.props.get("ruleJson")
    if not rules and not (isinstance(rule_json, str) and rule_json.strip() not in ("", "[]")):
        return Violation("web ACL has no rules, so it only applies its default action")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-wafv2-webacl-disallow-empty",
    description="WAFv2 web ACLs contain at least one rule or rule group.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.6",),
    remediation="Add rules to the web ACL: a rate-based rule and the AWS managed rule groups "
                "(Rampart's WebAcl adds both).",
    reference=CONFIG_RULE.format("wafv2-webacl-not-empty"),
    resource_types=WEB_ACL,
    check=check,
    peer="wafv2-webacl-not-empty (WAFV2_WEBACL_NOT_EMPTY)",
)
