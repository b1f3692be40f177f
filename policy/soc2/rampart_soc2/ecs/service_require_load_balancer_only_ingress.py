"""Service security groups admit traffic only from load-balancer security groups (stack policy).

For each ECS service, every ingress entry of every group in its networkConfiguration.securityGroups
(inline `ingress`, aws.ec2.SecurityGroupRule of type ingress, aws.vpc.SecurityGroupIngressRule) must
name a security group that a load balancer in the stack uses: no CIDR or prefix-list sources, no
`self`, no other groups. What cannot be told from the stack (a group or load balancer kept in
another stack, a value unknown at preview) is reported unknown, never passed.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..common import ECS_SERVICE, SECURITY_GROUP, SG_INGRESS_RULE, SG_RULE, items, of_type, raw_get, refers_to, truthy
from ..ec2._groups import LoadBalancerGroups, load_balancer_groups
from ..model import COMPLIANT, Context, Finding, NotApplicable, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings
from ..props import UNKNOWN, UnknownValue


class _Verdicts:
    def __init__(self) -> None:
        self.bad: list[str] = []
        self.unknown: list[str] = []


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    lbs: LoadBalancerGroups = load_balancer_groups(resources)
    groups = of_type(resources, SECURITY_GROUP)
    by_id = {raw_get(g, "id"): g for g in groups if isinstance(raw_get(g, "id"), str)}
    by_urn = {g.urn: g for g in groups}
    rules = [r for r in of_type(resources, SG_INGRESS_RULE + SG_RULE)
             if r.type in SG_INGRESS_RULE or raw_get(r, "type") in ("ingress", UNKNOWN)]

    def judge_source(value: Any, deps: Sequence[str], where: str, v: _Verdicts) -> None:
        """One group named as a traffic source."""
        if isinstance(value, str):
            if lbs.owns_id(value):
                return
            if value in by_id:
                if lbs.unknown:
                    v.unknown.append(f"{where}: loadBalancer.securityGroups")
                else:
                    v.bad.append(f"{where} admits group '{by_id[value].name}', which no load balancer uses")
            else:
                v.unknown.append(f"{where}: source group {value} (not in this stack)")
            return
        named = [u for u in deps if u in by_urn]
        if any(lbs.owns_urn(u) for u in named):
            return
        if named and not lbs.unknown:
            v.bad.append(f"{where} admits group '{by_urn[named[0]].name}', which no load balancer uses")
        else:
            v.unknown.append(f"{where}: source group")

    def judge_entry(entry: Any, group_keys: Sequence[str], cidr_keys: Sequence[str], deps: Sequence[str],
                    where: str, v: _Verdicts) -> None:
        cidrs = [str(c) for k in cidr_keys for c in items(entry.get(k)) if c]
        if cidrs:
            v.bad.append(f"{where} admits {', '.join(cidrs)} instead of a load balancer's group")
        if truthy(entry.get("self")):
            v.bad.append(f"{where} admits the group itself (self), not a load balancer's group")
        for key in group_keys:
            raw = entry.raw().get(key)
            for value in raw if isinstance(raw, list) else [raw]:
                if value is not None:
                    judge_source(value, deps, where, v)

    def judge_group(sg: Resource, v: _Verdicts) -> None:
        for i, e in enumerate(items(sg.props.get("ingress"))):
            judge_entry(e, ("securityGroups",), ("cidrBlocks", "ipv6CidrBlocks", "prefixListIds"),
                        sg.property_dependencies.get("ingress", ()), f"group '{sg.name}' ingress[{i}]", v)
        for rule in rules:
            on = refers_to(rule, "securityGroupId", sg, ("id",))
            if on is False:
                continue
            if on is None or raw_get(rule, "type") is UNKNOWN:
                v.unknown.append(f"rule '{rule.name}': securityGroupId")
                continue
            if rule.type in SG_INGRESS_RULE:
                judge_entry(rule.props, ("referencedSecurityGroupId",), ("cidrIpv4", "cidrIpv6", "prefixListId"),
                            rule.property_dependencies.get("referencedSecurityGroupId", ()), f"rule '{rule.name}'", v)
            else:
                judge_entry(rule.props, ("sourceSecurityGroupId",), ("cidrBlocks", "ipv6CidrBlocks", "prefixListIds"),
                            rule.property_dependencies.get("sourceSecurityGroupId", ()), f"rule '{rule.name}'", v)

    def judge(svc: Resource) -> Outcome:
        network = svc.props.get("networkConfiguration")
        if network is None:
            return NotApplicable("no awsvpc network configuration: the service has no security group of its own")
        attached = items(network.raw().get("securityGroups"))
        deps = set(svc.property_dependencies.get("networkConfiguration", ()))
        v = _Verdicts()
        seen: list[Resource] = [g for g in groups if g.urn in deps]
        for value in attached:
            if value is UNKNOWN:
                if not seen:
                    raise UnknownValue("networkConfiguration.securityGroups")
            elif value in by_id:
                if by_id[value] not in seen:
                    seen.append(by_id[value])
            else:
                v.unknown.append(f"security group {value} (not in this stack, so its rules cannot be read)")
        for sg in seen:
            judge_group(sg, v)
        if v.bad:
            return Violation("service security group " + "; ".join(v.bad))
        if v.unknown:
            return Unknown("; ".join(v.unknown))
        return COMPLIANT

    return stack_findings(of_type(resources, ECS_SERVICE), judge)


POLICY = PolicySpec(
    id="aws-ecs-service-require-load-balancer-only-ingress",
    description="Service security groups admit traffic only from load-balancer security groups: no CIDR "
                "sources and no other groups.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.6",),
    remediation="Give each service its own security group whose only ingress is an "
                "aws.vpc.SecurityGroupIngressRule with referencedSecurityGroupId = the load balancer's group, "
                "on the service's port; remove CIDR, prefix-list, self and other-group sources.",
    reference="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-network.html",
    resource_types=ECS_SERVICE,
    kind="stack",
    stack_check=stack_check,
    peer="(none)",
)
