"""Security group rules have descriptions."""
from __future__ import annotations

from ..common import SECURITY_GROUP, SG_EGRESS_RULE, SG_INGRESS_RULE, SG_RULE, items
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    if r.type in SECURITY_GROUP:
        missing = [f"{kind}[{i}]" for kind in ("ingress", "egress")
                   for i, e in enumerate(items(r.props.get(kind))) if not e.get("description")]
        if missing:
            return Violation(f"security group rules without a description: {', '.join(missing)}")
        return COMPLIANT
    if not r.props.get("description"):
        return Violation("security group rule has no description")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ec2-securitygroup-require-rule-descriptions",
    description="Every security group rule has a description.",
    severity="low",
    enforcement="mandatory",
    criteria=("CC6.6",),
    remediation="Give each ingress and egress rule a description saying who needs the access and why.",
    reference="https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
    resource_types=SECURITY_GROUP + SG_RULE + SG_INGRESS_RULE + SG_EGRESS_RULE,
    check=check,
    peer="CKV_AWS_23",
)
