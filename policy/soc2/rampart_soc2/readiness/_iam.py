"""Evaluate IAM policy documents: may a principal call one action on one resource?

This is IAM's own evaluation logic for the statements a plan carries, not pattern matching:
- an explicit Deny that applies wins over every Allow;
- an Allow that applies grants; with no applicable Allow the request is implicitly denied;
- `Action` / `NotAction` and `Resource` / `NotResource` with IAM's wildcards (`*` any run, `?` one
  character; actions case-insensitive, ARNs case-sensitive);
- a `Principal` (resource policies such as a KMS key policy) must name the caller, `*`, or its service;
- a `Condition` is evaluated only on keys whose value the request is known to carry (the caller
  passes them, e.g. `kms:ViaService` when Secrets Manager decrypts for ECS); any other key, and any
  policy variable (`${...}`) in a Resource, leaves the statement's effect *maybe*: a conditional
  Allow is never proof, a conditional Deny makes an Allow a *maybe*.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Mapping, Sequence

from ..iam_documents import statements


class Decision(Enum):
    ALLOWED = "allowed"
    MAYBE = "maybe (depends on a condition not known from the plan)"
    DENIED = "explicitly denied"
    NOT_ALLOWED = "not allowed (no statement grants it)"


@dataclass(frozen=True)
class Answer:
    decision: Decision
    why: tuple[str, ...] = ()
    """Labels (`<document>/<Sid or #n>`) of the statements that decided it."""

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED


@dataclass(frozen=True)
class Request:
    """One API call as IAM sees it: action, the resource's ARN(s), the caller and known condition keys.

    `resources` holds every ARN the one resource is known by in the plan (the ARN derived from an
    image URI or a log group name, and the plan's own `arn` output): a statement applies to the
    resource when one of them matches.
    """

    action: str
    resources: tuple[str, ...]
    principal_service: str = ""
    principal_arns: tuple[str, ...] = ()
    context: Mapping[str, tuple[str, ...]] = None  # type: ignore[assignment]

    def known(self) -> Mapping[str, tuple[str, ...]]:
        return {k.lower(): v for k, v in (self.context or {}).items()}


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int, float, bool)):
        return [str(value)]
    return [str(v) for v in value]


def _wildcard(pattern: str, value: str, case_sensitive: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case_sensitive else re.IGNORECASE) is not None


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: `service:Name`, case-insensitive, with `*` and `?`."""
    return pattern == "*" or _wildcard(pattern, action, case_sensitive=False)


def resource_matches(pattern: str, arn: str) -> bool:
    """IAM resource matching: `*`, or an ARN pattern with `*` and `?` (case-sensitive)."""
    return pattern == "*" or _wildcard(pattern, arn, case_sensitive=True)


def _applies_to_action(st: Any, action: str) -> bool:
    if st.get("NotAction") is not None:
        return not any(action_matches(p, action) for p in _strings(st.get("NotAction")))
    return any(action_matches(p, action) for p in _strings(st.get("Action")))


def _applies_to_resource(st: Any, arns: Sequence[str]) -> bool | None:
    """True/False, or None when a policy variable makes it depend on the request."""
    if st.get("NotResource") is not None:
        patterns = _strings(st.get("NotResource"))
        if any("${" in p for p in patterns):
            return None
        return not any(resource_matches(p, a) for p in patterns for a in arns)
    patterns = _strings(st.get("Resource"))
    if any(resource_matches(p, a) for p in patterns for a in arns):
        return True
    return None if any("${" in p for p in patterns) else False


def _applies_to_principal(st: Any, req: Request) -> bool:
    principal = st.get("Principal")
    not_principal = st.get("NotPrincipal")
    if principal is None and not_principal is None:
        return True  # an identity policy: it applies to the identity it is attached to
    if not_principal is not None:
        return not _names_caller(not_principal, req)
    return _names_caller(principal, req)


def _names_caller(principal: Any, req: Request) -> bool:
    if principal == "*":
        return True
    if not hasattr(principal, "get"):
        return False
    services = _strings(principal.get("Service"))
    arns = _strings(principal.get("AWS"))
    if "*" in arns:
        return True
    if req.principal_service and req.principal_service in services:
        return True
    return any(a in arns for a in req.principal_arns)


_STRING_OPS = {
    "stringequals": lambda v, p: v == p,
    "stringequalsignorecase": lambda v, p: v.lower() == p.lower(),
    "stringlike": lambda v, p: _wildcard(p, v, case_sensitive=True),
    "arnequals": lambda v, p: v == p,
    "arnlike": lambda v, p: _wildcard(p, v, case_sensitive=True),
}


def _condition_holds(condition: Any, req: Request) -> bool | None:
    """True/False when every condition key is known to the request, else None (unknown)."""
    known = req.known()
    result = True
    for operator, block in condition.items():
        op = str(operator)
        if_exists = op.lower().endswith("ifexists")
        base = op[: -len("IfExists")] if if_exists else op
        test = _STRING_OPS.get(base.lower())
        if test is None or not hasattr(block, "items"):
            return None
        for key, wanted in block.items():
            values = known.get(str(key).lower())
            if values is None:
                return None
            if not any(test(v, str(p)) for v in values for p in _strings(wanted)):
                result = False
    return result


def evaluate(documents: Sequence[tuple[str, Any]], req: Request) -> Answer:
    """The decision IAM would reach for `req` under `documents` ((label, parsed document) pairs)."""
    allow, maybe_allow, deny, maybe_deny = [], [], [], []
    for label, doc in documents:
        for i, st in enumerate(statements(doc)):
            name = f"{label}/{st.get('Sid') or f'#{i}'}"
            if not _applies_to_action(st, req.action) or not _applies_to_principal(st, req):
                continue
            on_resource = _applies_to_resource(st, req.resources)
            if on_resource is False:
                continue
            holds = _condition_holds(st.get("Condition"), req) if st.get("Condition") else True
            if holds is False:
                continue
            certain = on_resource is True and holds is True
            if st.get("Effect") == "Deny":
                (deny if certain else maybe_deny).append(name)
            elif st.get("Effect") == "Allow":
                (allow if certain else maybe_allow).append(name)
    if deny:
        return Answer(Decision.DENIED, tuple(deny))
    if allow and not maybe_deny:
        return Answer(Decision.ALLOWED, tuple(allow))
    if allow or maybe_allow:
        return Answer(Decision.MAYBE, tuple(maybe_deny or maybe_allow))
    return Answer(Decision.NOT_ALLOWED)


def describe(answer: Answer) -> str:
    return answer.decision.value + (f" [{', '.join(answer.why)}]" if answer.why else "")
