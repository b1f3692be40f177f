"""Application load balancers drop invalid HTTP header fields."""
from __future__ import annotations

from ..common import CONFIG_RULE, LB, truthy
from ..model import COMPLIANT, Context, NotApplicable, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    kind = r.props.get("loadBalancerType") or "application"
    if kind != "application":
        return NotApplicable(f"load balancer type is {kind}")
    if not truthy(r.props.get("dropInvalidHeaderFields")):
        return Violation("load balancer forwards requests with invalid header fields (dropInvalidHeaderFields is not true)")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-lb-loadbalancer-enable-drop-invalid-headers",
    description="Application load balancers drop invalid HTTP header fields.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC6.1", "CC6.7"),
    remediation="Set dropInvalidHeaderFields to true on the load balancer.",
    reference=CONFIG_RULE.format("alb-http-drop-invalid-header-enabled"),
    resource_types=LB,
    check=check,
    peer="alb-http-drop-invalid-header-enabled, CKV_AWS_131",
)
