"""Security group ingress entries, wherever they are declared (inline, SecurityGroupRule, IngressRule)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..common import SECURITY_GROUP, SG_INGRESS_RULE, SG_RULE, items
from ..model import Resource

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
