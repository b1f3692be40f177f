"""Desync mitigation mode is defensive or strictest."""
from __future__ import annotations

from ..common import CONFIG_RULE, LB
from ..model import COMPLIANT, Context, NotApplicable, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    kind = r.props.get("loadBalancerType") or "application"
    if kind != "application":
        return NotApplicable(f"load balancer type is {kind}")
    mode = r.props.get("desyncMitigationMode") or "defensive"  # the AWS default
    if mode not in ("defensive", "strictest"):
        return Violation(f"desyncMitigationMode is '{mode}', which lets HTTP desync (request smuggling) through")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-lb-loadbalancer-configure-desync-mitigation",
    description="Application load balancers use defensive or strictest HTTP desync mitigation.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC6.6",),
    remediation="Set desyncMitigationMode to 'defensive' (the AWS default) or 'strictest'.",
    reference=CONFIG_RULE.format("alb-desync-mode-check"),
    resource_types=LB,
    check=check,
    peer="alb-desync-mode-check, CKV_AWS_328",
)
