"""Security-group rules and routes as the readiness policies need them: who may reach whom on which port.

A group's rules are gathered wherever they are declared: inline `ingress` / `egress` of
`aws:ec2/securityGroup:SecurityGroup`, `aws:ec2/securityGroupRule:SecurityGroupRule`, and
`aws:vpc/securityGroupIngressRule` / `aws:vpc/securityGroupEgressRule`. A group created by the
provider has no egress unless one is declared (the provider removes AWS's default allow-all rule).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Literal, Sequence

from ..common import SECURITY_GROUP, SG_EGRESS_RULE, SG_INGRESS_RULE, SG_RULE, SUBNET, items, of_type, raw_get, truthy
from ..model import Resource
from ..props import UNKNOWN, UnknownValue

Direction = Literal["ingress", "egress"]
ROUTE = ("aws:ec2/route:Route",)
ROUTE_TABLE = ("aws:ec2/routeTable:RouteTable",)
ROUTE_TABLE_ASSOCIATION = ("aws:ec2/routeTableAssociation:RouteTableAssociation",)
VPC_ENDPOINT = ("aws:ec2/vpcEndpoint:VpcEndpoint",)
ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class Rule:
    label: str
    direction: Direction
    protocol: str
    from_port: int
    to_port: int
    cidrs: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    prefix_lists: tuple[str, ...] = ()

    def covers_port(self, port: int) -> bool:
        if self.protocol in ("-1", "all"):
            return True
        return self.protocol in ("tcp", "6") and self.from_port <= port <= self.to_port

    def covers_cidr(self, cidr: str) -> bool:
        """Does a CIDR of this rule contain all of `cidr`?"""
        try:
            target = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return False
        for c in self.cidrs:
            try:
                net = ipaddress.ip_network(c, strict=False)
            except ValueError:
                continue
            if net.version == target.version and target.subnet_of(net):  # type: ignore[arg-type]
                return True
        return False


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _strs(value: Any) -> tuple[str, ...]:
    raw = value.raw() if hasattr(value, "raw") else value
    if raw is None:
        return ()
    values = raw if isinstance(raw, list) else [raw]
    if any(v is UNKNOWN for v in values):
        raise UnknownValue("security group rule peer")
    return tuple(str(v) for v in values if v)


def _inline(sg: Resource) -> list[Rule]:
    out = []
    for direction in ("ingress", "egress"):
        for i, e in enumerate(items(sg.props.get(direction))):
            groups = _strs(e.raw().get("securityGroups")) + ((str(raw_get(sg, "id")),) if truthy(e.get("self")) else ())
            out.append(Rule(f"group '{sg.name}' {direction}[{i}]", direction, str(e.get("protocol") or "tcp"),
                            _int(e.get("fromPort"), 0), _int(e.get("toPort"), 65535),
                            _strs(e.raw().get("cidrBlocks")) + _strs(e.raw().get("ipv6CidrBlocks")), groups,
                            _strs(e.raw().get("prefixListIds"))))
    return out


def _standalone(r: Resource) -> Rule | None:
    p = r.props.raw()
    if r.type in SG_RULE:
        direction = p.get("type")
        if direction is UNKNOWN:
            raise UnknownValue(f"{r.name}.type")
        groups = _strs(p.get("sourceSecurityGroupId"))
        if truthy(p.get("self")):
            groups += _strs(p.get("securityGroupId"))
        return Rule(f"rule '{r.name}'", direction, str(p.get("protocol") or "tcp"), _int(p.get("fromPort"), 0),
                    _int(p.get("toPort"), 65535), _strs(p.get("cidrBlocks")) + _strs(p.get("ipv6CidrBlocks")),
                    groups, _strs(p.get("prefixListIds")))
    protocol = str(p.get("ipProtocol") or "-1")
    everything = protocol == "-1"
    return Rule(f"rule '{r.name}'", "ingress" if r.type in SG_INGRESS_RULE else "egress", protocol,
                0 if everything else _int(p.get("fromPort"), 0), 65535 if everything else _int(p.get("toPort"), 65535),
                _strs(p.get("cidrIpv4")) + _strs(p.get("cidrIpv6")), _strs(p.get("referencedSecurityGroupId")),
                _strs(p.get("prefixListId")))


class Network:
    """The stack's groups, rules, subnets, routes and endpoints, indexed by the ids other resources hold."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self.resources = resources
        self.groups = {raw_get(g, "id"): g for g in of_type(resources, SECURITY_GROUP) if isinstance(raw_get(g, "id"), str)}
        self.subnets = {raw_get(s, "id"): s for s in of_type(resources, SUBNET) if isinstance(raw_get(s, "id"), str)}
        self._rules = of_type(resources, SG_RULE + SG_INGRESS_RULE + SG_EGRESS_RULE)

    def rules(self, group_id: str, direction: Direction) -> list[Rule]:
        """Every rule of one group (in the plan) in one direction."""
        out = [r for r in _inline(self.groups[group_id]) if r.direction == direction] if group_id in self.groups else []
        for res in self._rules:
            on = raw_get(res, "securityGroupId")
            if on is UNKNOWN:
                raise UnknownValue(f"{res.name}.securityGroupId")
            if on == group_id:
                rule = _standalone(res)
                if rule is not None and rule.direction == direction:
                    out.append(rule)
        return out

    def subnet_cidr(self, subnet_id: str) -> str | None:
        subnet = self.subnets.get(subnet_id)
        value = raw_get(subnet, "cidrBlock") if subnet is not None else None
        return value if isinstance(value, str) else None

    def vpc_of(self, subnet_id: str) -> str | None:
        subnet = self.subnets.get(subnet_id)
        value = raw_get(subnet, "vpcId") if subnet is not None else None
        return value if isinstance(value, str) else None

    def route_table_of(self, subnet_id: str) -> str | None:
        for a in of_type(self.resources, ROUTE_TABLE_ASSOCIATION):
            _known(a, "subnetId", "routeTableId")
            if raw_get(a, "subnetId") == subnet_id and isinstance(raw_get(a, "routeTableId"), str):
                return raw_get(a, "routeTableId")
        return None

    def default_route(self, route_table_id: str) -> dict[str, Any] | None:
        """The 0.0.0.0/0 route of a route table (a Route resource or an inline route), if any."""
        for r in of_type(self.resources, ROUTE):
            _known(r, "routeTableId", "destinationCidrBlock")
            if raw_get(r, "routeTableId") == route_table_id and raw_get(r, "destinationCidrBlock") == ANYWHERE:
                return r.props.raw()
        for t in of_type(self.resources, ROUTE_TABLE):
            if raw_get(t, "id") == route_table_id:
                for route in t.props.raw().get("routes") or []:
                    if isinstance(route, dict) and route.get("cidrBlock") == ANYWHERE:
                        return route
        return None

    def endpoint(self, vpc_id: str, service: str, kind: str) -> Resource | None:
        for e in of_type(self.resources, VPC_ENDPOINT):
            _known(e, "serviceName", "vpcId")
            name = raw_get(e, "serviceName")
            if (raw_get(e, "vpcId") == vpc_id and isinstance(name, str) and name.endswith("." + service)
                    and str(raw_get(e, "vpcEndpointType") or "Gateway") == kind):
                return e
        return None


def _known(r: Resource, *keys: str) -> None:
    """Raise UnknownValue when a property a relation is read by is not known yet (preview)."""
    for key in keys:
        if raw_get(r, key) is UNKNOWN:
            raise UnknownValue(f"{r.name}.{key}")


def reaches(rules: Sequence[Rule], port: int, *, groups: Sequence[str] = (), cidrs: Sequence[str] = (),
            prefix_list: bool = False) -> list[str]:
    """Labels of the rules admitting `port` to/from one of `groups`, or covering every one of `cidrs`."""
    out = []
    for r in rules:
        if not r.covers_port(port):
            continue
        if (set(r.groups) & set(groups)) or (cidrs and all(r.covers_cidr(c) for c in cidrs)) or (
                prefix_list and r.prefix_lists):
            out.append(r.label)
    return out
