"""The policy documents an IAM resource grants: a role's inline policies, a role or managed policy's document."""
from __future__ import annotations

from typing import Any

from ..common import ROLE, items
from ..model import Resource
from ..props import json_document


def policy_documents(r: Resource) -> list[tuple[str, Any]]:
    """(label, parsed document) for each document the resource carries; raises UnknownValue while unknown."""
    docs = []
    if r.type in ROLE:
        for i, inline in enumerate(items(r.props.get("inlinePolicies"))):
            raw = inline.raw().get("policy") if hasattr(inline, "raw") else None
            if raw is not None:
                docs.append((str(inline.get("name") or f"inline #{i}"), json_document(raw, f"inlinePolicies[{i}].policy")))
    else:
        raw = r.props.raw().get("policy")
        if raw is not None:
            docs.append(("policy", json_document(raw, "policy")))
    return docs
