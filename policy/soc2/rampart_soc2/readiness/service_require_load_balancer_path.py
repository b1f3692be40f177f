"""The load balancer's group and the service's group admit the target port both ways.

For each `loadBalancers` entry of an ECS service, and for the alternate target group of a blue/green, canary
or linear deployment (`advancedConfiguration.alternateTargetGroupArn`, where every other release's tasks
register): every load balancer forwarding to the target group
needs an egress rule on the container port to the service's group (or a CIDR holding each of the
service's subnets), and the service's group an ingress rule on that port from the load balancer's
group (or a CIDR holding each of its subnets). A listener or load balancer kept in another stack
cannot be read: reported unknown, never passed.
"""
from __future__ import annotations

from typing import Sequence

from ..common import ECS_SERVICE, of_type
from ..model import (COMPLIANT, Context, Finding, NotApplicable, Outcome, PolicySpec, Resource, Unknown, Violation,
                     stack_findings)
from ..props import UNKNOWN, UnknownValue
from ._lb import NotInStack, groups_of, load_balancers_forwarding_to
from ._needs import TARGET_PATH_ERROR
from ._net import Network, reaches


def _cidrs(net: Network, subnets: Sequence[str]) -> list[str] | None:
    cidrs = [net.subnet_cidr(s) for s in subnets]
    return None if not cidrs or any(c is None for c in cidrs) else [c for c in cidrs if c]


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    net = Network(resources)

    def judge(svc: Resource) -> Outcome:
        entries = [e for e in (svc.props.get("loadBalancers") or []) if e.raw().get("targetGroupArn")]
        if not entries:
            return NotApplicable("the service is not behind a load balancer")
        config = svc.props.get("networkConfiguration") or {}
        groups = [str(g) for g in (config.get("securityGroups") or [])]
        subnets = [str(s) for s in (config.get("subnets") or [])]
        ingress = [r for g in groups for r in net.rules(g, "ingress")]
        problems, unknown = [], []
        pairs = []
        for entry in entries:
            port = int(entry.get("containerPort"))
            pairs.append((entry.get("targetGroupArn"), port))
            alternate = (entry.raw().get("advancedConfiguration") or {}).get("alternateTargetGroupArn")
            if alternate:
                pairs.append((alternate, port))
        for tg, port in pairs:
            try:
                lbs = load_balancers_forwarding_to(str(tg), resources)
            except NotInStack as where:
                unknown.append(f"{where} forwarding to {tg} is not in this stack")
                continue
            if not lbs:
                unknown.append(f"no listener in this stack forwards to {tg}")
                continue
            for lb in lbs:
                lb_groups = groups_of(lb)
                lb_subnets = lb.props.raw().get("subnets")
                if lb_subnets is UNKNOWN:
                    raise UnknownValue(f"{lb.name}.subnets")
                egress = [r for g in lb_groups for r in net.rules(g, "egress")]
                service_cidrs = _cidrs(net, subnets)
                if any(g not in net.groups for g in lb_groups):
                    unknown.append(f"load balancer '{lb.name}' group not in this stack")
                elif reaches(egress, port, groups=groups, cidrs=service_cidrs or []):
                    pass
                elif service_cidrs is None and any(r.covers_port(port) and r.cidrs for r in egress):
                    unknown.append(f"load balancer '{lb.name}' egress on {port} goes to a CIDR, and the service's "
                                   "subnets are not in this stack to compare")
                else:
                    problems.append(f"load balancer '{lb.name}' groups ({', '.join(lb_groups)}) have no egress on "
                                    f"{port} to the service's group or subnets")
                if not reaches(ingress, port, groups=lb_groups, cidrs=_cidrs(net, lb_subnets or []) or []):
                    problems.append(f"the service's groups ({', '.join(groups)}) admit no ingress on {port} from "
                                    f"load balancer '{lb.name}'")
        if problems:
            return Violation(f"service '{svc.name}' is not reachable from its load balancer: {'; '.join(problems)}; "
                             f"{TARGET_PATH_ERROR}")
        if unknown:
            return Unknown("; ".join(unknown))
        return COMPLIANT

    return stack_findings(of_type(resources, ECS_SERVICE), judge)


POLICY = PolicySpec(
    id="aws-ecs-service-require-load-balancer-path",
    description="Readiness: for each load-balanced service, the load balancer's security group has egress on the "
                "container port to the service's group and the service's group admits that port from the load "
                f"balancer's group. Prevents: {TARGET_PATH_ERROR}.",
    severity="high",
    enforcement="mandatory",
    criteria=("A1.2", "CC8.1"),
    remediation="Add an egress rule on the load balancer's group to the service's group (or the tasks' subnets) on "
                "the container port, and an ingress rule on the service's group from the load balancer's group on "
                "that port.",
    reference="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-update-security-groups.html",
    resource_types=ECS_SERVICE,
    kind="stack",
    stack_check=stack_check,
    peer="(none: AWS reports it at the first request)",
)
