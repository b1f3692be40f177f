"""Web ACLs use AWS managed rule groups, including Known Bad Inputs."""
from __future__ import annotations

from ..common import WEB_ACL, items
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    required = list(ctx.threshold("requiredManagedRuleGroups"))
    active: set[str] = set()
    counting: set[str] = set()
    for rule in items(r.props.get("rules")):
        statement = rule.get("statement") or {}
        group = statement.get("managedRuleGroupStatement")
        if not group or group.get("vendorName") != "AWS":
            continue
        name = str(group.get("name"))
        override = rule.get("overrideAction") or {}
        if override.get("count") is not None:
            counting.add(name)
        else:
            active.add(name)
    missing = [g for g in required if g not in active]
    if missing:
        detail = ", ".join(f"{g} (count only)" if g in counting else g for g in missing)
        return Violation(f"web ACL does not enforce the AWS managed rule groups {detail}")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-wafv2-webacl-require-managed-rule-groups",
    description="Web ACLs enforce AWS managed rule groups, including AWSManagedRulesKnownBadInputsRuleSet.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.6", "CC6.8"),
    remediation="Add rules with managedRuleGroupStatement {vendorName: 'AWS', name: "
                "'AWSManagedRulesKnownBadInputsRuleSet'} and 'AWSManagedRulesCommonRuleSet' with "
                "overrideAction = {none: {}}.",
    reference="https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html",
    resource_types=WEB_ACL,
    check=check,
    thresholds=("requiredManagedRuleGroups",),
    peer="CKV2_AWS_76, CKV_AWS_192",
)
