"""Load balancers span at least two availability zones."""
from __future__ import annotations

from ..common import CONFIG_RULE, LB, items
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    # ELB accepts at most one subnet per availability zone, so distinct subnets count zones.
    subnets = {str(s) for s in items(r.props.get("subnets"))}
    subnets |= {str(m.get("subnetId")) for m in items(r.props.get("subnetMappings"))}
    if len(subnets) < 2:
        return Violation(f"load balancer is in {len(subnets)} subnet(s), so one availability zone's failure takes it down")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-lb-loadbalancer-require-multiple-azs",
    description="Load balancers are placed in subnets of at least two availability zones.",
    severity="medium",
    enforcement="mandatory",
    criteria=("A1.2",),
    remediation="Give the load balancer subnets (or subnetMappings) in at least two availability zones.",
    reference=CONFIG_RULE.format("elbv2-multiple-az"),
    resource_types=LB,
    check=check,
    peer="elbv2-multiple-az (ELBV2_MULTIPLE_AZ)",
)
