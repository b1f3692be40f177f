"""A listener (rule) that signs users in can reach the identity provider: 443 to the internet from the ALB.

After the user signs in, the ALB itself calls the provider's token and user-info endpoints (OIDC) or
the Cognito domain on 443; its security group must allow that egress to 0.0.0.0/0 (the provider's
addresses are not known in advance).
"""
from __future__ import annotations

from typing import Sequence

from ..common import LISTENER, LISTENER_RULE, of_type
from ..model import (COMPLIANT, Context, Finding, NotApplicable, Outcome, PolicySpec, Resource, Unknown, Violation,
                     stack_findings)
from ._lb import NotInStack, actions_of, groups_of, load_balancer_of
from ._needs import HTTPS_PORT, IDP_EGRESS_ERROR
from ._net import ANYWHERE, Network, reaches

SIGN_IN_ACTIONS = ("authenticate-oidc", "authenticate-cognito")


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    net = Network(resources)

    def judge(r: Resource) -> Outcome:
        kinds = [a.get("type") for a in actions_of(r) if isinstance(a, dict) and a.get("type") in SIGN_IN_ACTIONS]
        if not kinds:
            return NotApplicable("no authenticate-oidc or authenticate-cognito action")
        try:
            lb = load_balancer_of(r, resources)
        except NotInStack as where:
            return Unknown(f"{where} (not in this stack: its security group's egress is judged where it is created)")
        groups = groups_of(lb)
        if any(g not in net.groups for g in groups):
            return Unknown(f"load balancer '{lb.name}' security group not in this stack")
        egress = [rule for g in groups for rule in net.rules(g, "egress")]
        if reaches(egress, HTTPS_PORT, cidrs=[ANYWHERE]):
            return COMPLIANT
        return Violation(f"'{r.name}' signs users in ({', '.join(kinds)}) but load balancer '{lb.name}' groups "
                         f"({', '.join(groups)}) have no egress on {HTTPS_PORT} to {ANYWHERE}; {IDP_EGRESS_ERROR}")

    return stack_findings(of_type(resources, LISTENER_RULE + LISTENER), judge)


POLICY = PolicySpec(
    id="aws-lb-listenerrule-require-identity-provider-egress",
    description="Readiness: a listener or listener rule with an authenticate-oidc or authenticate-cognito action "
                f"belongs to a load balancer whose security group has egress on {HTTPS_PORT} to {ANYWHERE}. "
                f"Prevents: {IDP_EGRESS_ERROR}.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.1", "CC8.1"),
    remediation=f"Add an egress rule on the load balancer's security group: tcp {HTTPS_PORT} to {ANYWHERE}, described "
                "as the identity provider's token and user-info endpoints.",
    reference="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html",
    resource_types=LISTENER_RULE + LISTENER,
    kind="stack",
    stack_check=stack_check,
    peer="(none: AWS reports it at the first sign-in)",
)
