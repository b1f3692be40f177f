"""Load balancers have deletion protection (enforcement configurable per stack)."""
from __future__ import annotations

from ..common import CONFIG_RULE, LB, truthy
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    if not truthy(r.props.get("enableDeletionProtection")):
        return Violation("load balancer can be deleted by a single API call (enableDeletionProtection is not true)")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-lb-loadbalancer-enable-deletion-protection",
    description="Load balancers have deletion protection enabled.",
    severity="low",
    enforcement="mandatory",
    criteria=("A1.2",),
    remediation="Set enableDeletionProtection to true, or make this policy advisory for short-lived stacks "
                "in the stack's rampart:policy.enforcement.",
    reference=CONFIG_RULE.format("elb-deletion-protection-enabled"),
    resource_types=LB,
    check=check,
    peer="elb-deletion-protection-enabled, CKV_AWS_150",
)
