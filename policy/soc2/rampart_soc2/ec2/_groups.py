"""Security group ingress entries, wherever they are declared (inline, SecurityGroupRule, IngressRule)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from ..common import LB, SECURITY_GROUP, SG_INGRESS_RULE, SG_RULE, items, of_type, raw_get
from ..model import Resource
from ..props import UNKNOWN

OPEN = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class Ingress:
    label: str
    protocol: str
    from_port: int
    to_port: int
    cidrs: tuple[str, ...]


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def ingress_entries(r: Resource) -> list[Ingress]:
    out: list[Ingress] = []
    if r.type in SECURITY_GROUP:
        for i, e in enumerate(items(r.props.get("ingress"))):
            cidrs = tuple(str(c) for c in items(e.get("cidrBlocks")) + items(e.get("ipv6CidrBlocks")))
            out.append(Ingress(f"ingress[{i}]", str(e.get("protocol") or "tcp"), _int(e.get("fromPort"), 0),
                               _int(e.get("toPort"), 65535), cidrs))
    elif r.type in SG_RULE:
        if r.props.get("type") == "ingress":
            cidrs = tuple(str(c) for c in items(r.props.get("cidrBlocks")) + items(r.props.get("ipv6CidrBlocks")))
            out.append(Ingress("rule", str(r.props.get("protocol") or "tcp"), _int(r.props.get("fromPort"), 0),
                               _int(r.props.get("toPort"), 65535), cidrs))
    elif r.type in SG_INGRESS_RULE:
        cidrs = tuple(str(c) for c in (r.props.get("cidrIpv4"), r.props.get("cidrIpv6")) if c)
        protocol = str(r.props.get("ipProtocol") or "-1")
        low = _int(r.props.get("fromPort"), 0) if protocol != "-1" else 0
        high = _int(r.props.get("toPort"), 65535) if protocol != "-1" else 65535
        out.append(Ingress("rule", protocol, low, high, cidrs))
    return out


def is_web_port(e: Ingress) -> bool:
    return e.protocol in ("tcp", "6") and e.from_port == e.to_port and e.from_port in (80, 443)


@dataclass(frozen=True)
class LoadBalancerGroups:
    """The security groups load balancers in the stack use: by id (values) and URN (dependencies)."""

    ids: frozenset[str]
    urns: frozenset[str]
    unknown: bool
    """Some load balancer's groups are unknown and no dependency names them."""

    def owns_id(self, group_id: Any) -> bool:
        return isinstance(group_id, str) and group_id in self.ids

    def owns_urn(self, urn: str) -> bool:
        return urn in self.urns


def load_balancer_groups(resources: Iterable[Resource]) -> LoadBalancerGroups:
    ids: set[str] = set()
    urns: set[str] = set()
    unknown = False
    resources = list(resources)
    for lb in of_type(resources, LB):
        deps = lb.property_dependencies.get("securityGroups", ())
        urns.update(deps)
        groups = raw_get(lb, "securityGroups")
        for g in groups if isinstance(groups, list) else [groups]:
            if g is UNKNOWN:
                unknown = unknown or not deps
            elif isinstance(g, str):
                ids.add(g)
    for sg in of_type(resources, SECURITY_GROUP):
        if raw_get(sg, "id") in ids:
            urns.add(sg.urn)
    return LoadBalancerGroups(frozenset(ids), frozenset(urns), unknown)
