"""Which load balancer serves a listener rule or a target group, read from the plan's ARNs."""
from __future__ import annotations

from typing import Any, Sequence

from ..common import LB, LISTENER, LISTENER_RULE, of_type, raw_get
from ..model import Resource
from ..props import UNKNOWN, UnknownValue
from ._plan import by_value


class NotInStack(Exception):
    """The listener or load balancer a resource names is kept in another stack."""


def actions_of(r: Resource) -> list[Any]:
    key = "defaultActions" if r.type in LISTENER else "actions"
    value = r.props.raw().get(key)
    if value is UNKNOWN:
        raise UnknownValue(key)
    return list(value or [])


def forwards_to(action: Any, target_group_arn: str) -> bool:
    if not isinstance(action, dict) or action.get("type") != "forward":
        return False
    arns = [action.get("targetGroupArn")] + [t.get("arn") for t in (action.get("forward") or {}).get("targetGroups") or []
                                             if isinstance(t, dict)]
    return target_group_arn in arns


def load_balancer_of(r: Resource, resources: Sequence[Resource]) -> Resource:
    """The load balancer of a listener or listener rule; NotInStack when it lives elsewhere."""
    listener = r
    if r.type in LISTENER_RULE:
        arn = raw_get(r, "listenerArn")
        if arn is UNKNOWN:
            raise UnknownValue("listenerArn")
        found = by_value(of_type(resources, LISTENER), arn, ("arn", "id"))
        if found is None:
            raise NotInStack(f"listener {arn}")
        listener = found
    arn = raw_get(listener, "loadBalancerArn")
    if arn is UNKNOWN:
        raise UnknownValue(f"{listener.name}.loadBalancerArn")
    lb = by_value(of_type(resources, LB), arn, ("arn", "id"))
    if lb is None:
        raise NotInStack(f"load balancer {arn}")
    return lb


def load_balancers_forwarding_to(target_group_arn: str, resources: Sequence[Resource]) -> list[Resource]:
    """Load balancers with a listener or rule forwarding to the target group (NotInStack if one is elsewhere)."""
    out: list[Resource] = []
    for r in of_type(resources, LISTENER + LISTENER_RULE):
        if any(forwards_to(a, target_group_arn) for a in actions_of(r)):
            lb = load_balancer_of(r, resources)
            if lb not in out:
                out.append(lb)
    return out


def groups_of(lb: Resource) -> list[str]:
    value = raw_get(lb, "securityGroups")
    if value is UNKNOWN or (isinstance(value, list) and any(v is UNKNOWN for v in value)):
        raise UnknownValue(f"{lb.name}.securityGroups")
    return [str(v) for v in value or []]
