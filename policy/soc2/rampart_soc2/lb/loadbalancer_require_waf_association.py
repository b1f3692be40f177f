"""Every internet-facing ALB has a WAFv2 web ACL association (stack policy)."""
from __future__ import annotations

from typing import Sequence

from ..common import CONFIG_RULE, LB, WEB_ACL_ASSOCIATION, any_refers, of_type, truthy
from ..model import (COMPLIANT, Context, Finding, NotApplicable, Outcome, PolicySpec, Resource,
                     Unknown,
                     Violation, stack_findings)


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    associations = of_type(resources, WEB_ACL_ASSOCIATION)

    def judge(lb: Resource) -> Outcome:
        if (lb.props.get("loadBalancerType") or "application") != "application":
            return NotApplicable("not an application load balancer")
        if truthy(lb.props.get("internal")):
            return NotApplicable("internal load balancer")
        found = any_refers(associations, "resourceArn", lb, ("arn", "id"))
        if found is None:
            return Unknown("webAclAssociation.resourceArn")
        if not found:
            return Violation("internet-facing load balancer has no WAFv2 web ACL association")
        return COMPLIANT

    return stack_findings(of_type(resources, LB), judge)


POLICY = PolicySpec(
    id="aws-lb-loadbalancer-require-waf-association",
    description="Every internet-facing application load balancer has a WAFv2 web ACL association.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.6",),
    remediation="Create an aws.wafv2.WebAclAssociation with resourceArn = the load balancer's ARN and "
                "webAclArn = the service's web ACL.",
    reference=CONFIG_RULE.format("alb-waf-enabled"),
    resource_types=LB,
    kind="stack",
    stack_check=stack_check,
    peer="alb-waf-enabled, CKV2_AWS_28",
)
