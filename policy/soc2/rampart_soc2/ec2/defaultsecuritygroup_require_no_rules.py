"""The default security group of every VPC has no rules (stack policy)."""
from __future__ import annotations

from typing import Sequence

from ..common import CONFIG_RULE, DEFAULT_SECURITY_GROUP, VPC, any_refers, items, of_type
from ..model import COMPLIANT, Context, Finding, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    defaults = of_type(resources, DEFAULT_SECURITY_GROUP)

    def judge(r: Resource) -> Outcome:
        if r.type in DEFAULT_SECURITY_GROUP:
            # Adopting the default group with no rules makes the provider remove every rule it has.
            rules = [f"{kind}[{i}]" for kind in ("ingress", "egress") for i, _ in enumerate(items(r.props.get(kind)))]
            if rules:
                return Violation(f"the VPC's default security group has rules: {', '.join(rules)}")
            return COMPLIANT
        found = any_refers(defaults, "vpcId", r, ("id",))
        if found is None:
            return Unknown("defaultSecurityGroup.vpcId")
        if not found:
            return Violation("VPC's default security group is left with AWS's rules (all traffic between its "
                             "members, all egress): no aws.ec2.DefaultSecurityGroup closes it")
        return COMPLIANT

    return stack_findings(of_type(resources, VPC + DEFAULT_SECURITY_GROUP), judge)


POLICY = PolicySpec(
    id="aws-ec2-defaultsecuritygroup-require-no-rules",
    description="Every VPC the stack creates has its default security group adopted with no ingress or egress rules.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC6.6",),
    remediation="Create an aws.ec2.DefaultSecurityGroup with vpcId = the VPC's id and ingress=[] and egress=[] "
                "(Rampart's Network does), and give resources their own security groups.",
    reference=CONFIG_RULE.format("vpc-default-security-group-closed"),
    resource_types=VPC + DEFAULT_SECURITY_GROUP,
    kind="stack",
    stack_check=stack_check,
    peer="vpc-default-security-group-closed (VPC_DEFAULT_SECURITY_GROUP_CLOSED)",
)
