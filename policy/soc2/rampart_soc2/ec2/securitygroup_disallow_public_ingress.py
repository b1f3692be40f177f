"""No ingress from 0.0.0.0/0 or ::/0 except 80/443 on a load balancer's group (stack policy)."""
from __future__ import annotations

from typing import Sequence

from ..common import CONFIG_RULE, SECURITY_GROUP, SG_INGRESS_RULE, SG_RULE, of_type, raw_get
from ..model import COMPLIANT, Context, Finding, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings
from ..props import UNKNOWN
from ._groups import OPEN, ingress_entries, is_web_port, load_balancer_groups


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    lb_groups = load_balancer_groups(resources)

    def lb_owned(r: Resource) -> bool | None:
        if r.type in SECURITY_GROUP:
            if lb_groups.owns_urn(r.urn):
                return True
            gid = raw_get(r, "id")
            if lb_groups.owns_id(gid):
                return True
            return None if (gid is UNKNOWN or lb_groups.unknown) else False
        if lb_groups.urns & set(r.property_dependencies.get("securityGroupId", ())):
            return True
        gid = raw_get(r, "securityGroupId")
        if lb_groups.owns_id(gid):
            return True
        return None if (gid is UNKNOWN or lb_groups.unknown) else False

    def judge(r: Resource) -> Outcome:
        bad = []
        undecided = False
        for e in ingress_entries(r):
            if not any(c in OPEN for c in e.cidrs):
                continue
            if is_web_port(e):
                owned = lb_owned(r)
                if owned is True:
                    continue
                if owned is None:
                    undecided = True
                    continue
                bad.append(f"{e.label} opens port {e.from_port} to the internet on a group no load balancer uses")
            else:
                bad.append(f"{e.label} opens {e.protocol} {e.from_port}-{e.to_port} to the internet")
        if bad:
            return Violation("; ".join(bad))
        if undecided:
            return Unknown("loadBalancer.securityGroups")
        return COMPLIANT

    return stack_findings(of_type(resources, SECURITY_GROUP + SG_RULE + SG_INGRESS_RULE), judge)


POLICY = PolicySpec(
    id="aws-ec2-securitygroup-disallow-public-ingress",
    description="Security groups allow no ingress from 0.0.0.0/0 or ::/0, except TCP 80/443 on a load "
                "balancer's group.",
    severity="critical",
    enforcement="mandatory",
    criteria=("CC6.6",),
    remediation="Restrict the source to the load balancer's security group (referencedSecurityGroupId) or to "
                "known CIDRs; only the ALB's own group may accept 80/443 from anywhere.",
    reference=CONFIG_RULE.format("restricted-common-ports"),
    resource_types=SECURITY_GROUP + SG_RULE + SG_INGRESS_RULE,
    kind="stack",
    stack_check=stack_check,
    peer="restricted-common-ports, CKV_AWS_260",
)
