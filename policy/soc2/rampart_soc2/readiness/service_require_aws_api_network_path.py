"""Each service's tasks can reach ECR (api and dkr), S3 (image layers) and CloudWatch Logs on 443.

For every subnet in the service's networkConfiguration: an interface endpoint with private DNS in the
subnet's VPC for ecr.api, ecr.dkr and logs (then the task's group needs egress on 443 to the endpoint's
group or a CIDR holding the VPC, and the endpoint's group ingress on 443 from the task's group or subnet),
or else a NAT gateway default route on the subnet's route table (egress on 443 to 0.0.0.0/0); for S3, a
gateway endpoint on that route table (egress on 443 to a prefix list or 0.0.0.0/0) or the NAT route. With
`assignPublicIp` an internet gateway route serves as the NAT route does. A subnet not in this stack (an
existing network, another stack's) cannot be read: its route is reported unknown, never passed.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..common import ECS_SERVICE, of_type, raw_get, truthy
from ..model import (COMPLIANT, Context, Finding, NotApplicable, Outcome, PolicySpec, Resource, Unknown, Violation,
                     stack_findings)
from ..props import UNKNOWN, UnknownValue
from ._needs import GATEWAY_ENDPOINT_SERVICES, HTTPS_PORT, INTERFACE_ENDPOINT_SERVICES, NETWORK_ERROR
from ._net import ANYWHERE, Network, reaches


def _ids(value: Any, path: str) -> list[str]:
    raw = value.raw() if hasattr(value, "raw") else (value or [])
    if raw is UNKNOWN or any(v is UNKNOWN for v in raw):
        raise UnknownValue(path)
    return [str(v) for v in raw]


def _vpc_cidr(net: Network, vpc_id: str) -> str | None:
    for r in net.resources:
        if r.type == "aws:ec2/vpc:Vpc" and raw_get(r, "id") == vpc_id and isinstance(raw_get(r, "cidrBlock"), str):
            return raw_get(r, "cidrBlock")
    return None


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    net = Network(resources)

    def judge(svc: Resource) -> Outcome:
        config = svc.props.get("networkConfiguration")
        if config is None:
            return NotApplicable("no awsvpc network configuration")
        subnets = _ids(config.get("subnets"), "networkConfiguration.subnets")
        groups = _ids(config.get("securityGroups"), "networkConfiguration.securityGroups")
        public_ip = truthy(config.get("assignPublicIp"))
        egress = [r for g in groups for r in net.rules(g, "egress")]
        problems, unknown = [], []
        if not any(r.covers_port(HTTPS_PORT) for r in egress):
            problems.append(f"no egress on {HTTPS_PORT} from the service's groups ({', '.join(groups)})")
        for subnet in subnets:
            if subnet not in net.subnets:
                unknown.append(f"subnet {subnet} (not in this stack: its route to ECR, S3 and Logs cannot be read)")
                continue
            vpc, rt = net.vpc_of(subnet), net.route_table_of(subnet)
            default = net.default_route(rt) if rt else None
            internet = bool(default and (default.get("natGatewayId") or (public_ip and default.get("gatewayId"))))
            for service in INTERFACE_ENDPOINT_SERVICES:
                endpoint = net.endpoint(vpc or "", service, "Interface")
                if endpoint is not None and truthy(raw_get(endpoint, "privateDnsEnabled")):
                    problems += _endpoint_path(net, endpoint, service, subnet, groups, egress, vpc)
                elif internet:
                    if not reaches(egress, HTTPS_PORT, cidrs=[ANYWHERE]):
                        problems.append(f"{service}: subnet {subnet} goes out through NAT but no egress rule admits "
                                        f"{HTTPS_PORT} to {ANYWHERE}")
                else:
                    problems.append(f"{service}: subnet {subnet} has no interface endpoint with private DNS and no "
                                    "NAT route" + ("" if rt else " (no route table association in the plan)"))
            for service in GATEWAY_ENDPOINT_SERVICES:
                gateway = net.endpoint(vpc or "", service, "Gateway")
                tables = raw_get(gateway, "routeTableIds") if gateway is not None else None
                if isinstance(tables, list) and rt in tables:
                    if not reaches(egress, HTTPS_PORT, cidrs=[ANYWHERE], prefix_list=True):
                        problems.append(f"{service}: no egress rule admits {HTTPS_PORT} to the gateway endpoint's "
                                        f"prefix list or {ANYWHERE}")
                elif internet:
                    if not reaches(egress, HTTPS_PORT, cidrs=[ANYWHERE]):
                        problems.append(f"{service}: no egress rule admits {HTTPS_PORT} to {ANYWHERE} for image layers")
                else:
                    problems.append(f"{service}: subnet {subnet}'s route table has no gateway endpoint and no NAT "
                                    "route, so image layers cannot be fetched")
        if problems:
            return Violation(f"service '{svc.name}' tasks cannot reach AWS APIs: {'; '.join(dict.fromkeys(problems))}; "
                             f"tasks fail with {NETWORK_ERROR}")
        if unknown:
            return Unknown("; ".join(unknown))
        return COMPLIANT

    return stack_findings(of_type(resources, ECS_SERVICE), judge)


def _endpoint_path(net: Network, endpoint: Resource, service: str, subnet: str, groups: Sequence[str],
                   egress: Sequence[Any], vpc: str | None) -> list[str]:
    endpoint_groups = [str(g) for g in (raw_get(endpoint, "securityGroupIds") or [])]
    vpc_cidr = _vpc_cidr(net, vpc or "")
    out = []
    if not reaches(egress, HTTPS_PORT, groups=endpoint_groups, cidrs=[vpc_cidr] if vpc_cidr else []):
        out.append(f"{service}: no egress rule admits {HTTPS_PORT} to endpoint '{endpoint.name}' (its group or the "
                   "VPC's CIDR)")
    subnet_cidr = net.subnet_cidr(subnet)
    ingress = [r for g in endpoint_groups for r in net.rules(g, "ingress")]
    if not reaches(ingress, HTTPS_PORT, groups=groups, cidrs=[subnet_cidr] if subnet_cidr else []):
        out.append(f"{service}: endpoint '{endpoint.name}' admits no {HTTPS_PORT} from the service's group or "
                   f"subnet {subnet}")
    return out


POLICY = PolicySpec(
    id="aws-ecs-service-require-aws-api-network-path",
    description="Readiness: each service's subnets reach ECR (api, dkr), S3 and CloudWatch Logs, through interface "
                "and gateway VPC endpoints or a NAT route, and its security groups (and the endpoints' groups) admit "
                f"{HTTPS_PORT} on that path. Prevents: " + NETWORK_ERROR + ".",
    severity="high",
    enforcement="mandatory",
    criteria=("A1.2", "CC8.1"),
    remediation="Give the tasks' route tables a NAT gateway default route, or interface endpoints (private DNS) for "
                "ecr.api, ecr.dkr and logs plus an S3 gateway endpoint on their route tables; allow egress on 443 "
                "from the service's group to 0.0.0.0/0 or to the endpoints' group, and ingress on 443 to the "
                "endpoints from the tasks.",
    reference="https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html",
    resource_types=ECS_SERVICE,
    kind="stack",
    stack_check=stack_check,
    peer="(none: AWS reports it at the first deploy)",
)
