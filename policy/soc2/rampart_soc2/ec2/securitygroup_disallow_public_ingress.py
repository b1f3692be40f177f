"""No ingress from 0.0.0.0/0 or ::/0 except 80/443 on a load balancer's group (stack policy)."""
from __future__ import annotations

from typing import Sequence

from ..common import CONFIG_RULE, LB, SECURITY_GROUP, SG_INGRESS_RULE, SG_RULE, of_type, raw_get
from ..model import COMPLIANT, Context, Finding, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings
from ..props import UNKNOWN
from ._groups import OPEN, ingress_entries, is_web_port


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    lbs = of_type(resources, LB)
    lb_group_ids: set[str] = set()
    lb_group_urns: set[str] = set()
    lb_groups_unknown = False
    for lb in lbs:
        lb_group_urns.update(lb.property_dependencies.get("securityGroups", ()))
        groups = raw_get(lb, "securityGroups")
        for g in groups if isinstance(groups, list) else [groups]:
            if g is UNKNOWN:
                lb_groups_unknown = True
            elif isinstance(g, str):
                lb_group_ids.add(g)

    def lb_owned(r: Resource) -> bool | None:
        if r.type in SECURITY_GROUP:
            if r.urn in lb_group_urns:
                return True
            gid = raw_get(r, "id")
            if isinstance(gid, str) and gid in lb_group_ids:
                return True
            return None if (gid is UNKNOWN or lb_groups_unknown) else False
        if lb_group_urns & set(r.property_dependencies.get("securityGroupId", ())):
            return True
        gid = raw_get(r, "securityGroupId")
        if isinstance(gid, str) and gid in lb_group_ids:
            return True
        return None if (gid is UNKNOWN or lb_groups_unknown) else False

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
