"""Reading IAM-style policy documents (IAM, ECR repository and S3 bucket policies)."""
from __future__ import annotations

from typing import Any

from .common import items, truthy


def statements(doc: Any) -> list[Any]:
    if doc is None or isinstance(doc, str):
        return []
    return items(doc.get("Statement"))


def _label(st: Any, i: int) -> str:
    return str(st.get("Sid") or f"#{i}")


def _strings(value: Any) -> list[str]:
    return [str(v) for v in items(value)]


def _is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if hasattr(principal, "get"):
        return "*" in _strings(principal.get("AWS"))
    return False


def public_statements(doc: Any) -> list[str]:
    """Allow statements whose principal is everyone and that carry no condition."""
    out = []
    for i, st in enumerate(statements(doc)):
        if st.get("Effect") == "Allow" and _is_everyone(st.get("Principal")) and not st.get("Condition"):
            out.append(_label(st, i))
    return out


def admin_statements(doc: Any) -> list[str]:
    """Allow statements granting every action on every resource."""
    out = []
    for i, st in enumerate(statements(doc)):
        if st.get("Effect") != "Allow":
            continue
        actions = _strings(st.get("Action"))
        resources = _strings(st.get("Resource"))
        if any(a in ("*", "*:*") for a in actions) and "*" in resources:
            out.append(_label(st, i))
    return out


def denies_insecure_transport(doc: Any) -> bool:
    """A Deny statement for every principal conditioned on aws:SecureTransport = false."""
    for st in statements(doc):
        if st.get("Effect") != "Deny" or not _is_everyone(st.get("Principal")):
            continue
        cond = st.get("Condition") or {}
        for op in ("Bool", "BoolIfExists"):
            block = cond.get(op) or {}
            for key in block:
                if key.lower() == "aws:securetransport":
                    values = _strings(block.get(key))
                    if values and all(not truthy(v) for v in values):
                        return True
    return False
