"""Container definitions: the provider takes them as one JSON string (containerDefinitions)."""
from __future__ import annotations

from typing import Any

from ..common import items
from ..model import Resource
from ..props import json_document


def containers(r: Resource) -> list[Any]:
    """Each container definition as a View; raises UnknownValue while the JSON is unknown."""
    raw = r.props.raw().get("containerDefinitions")
    doc = json_document(raw, "containerDefinitions") if raw is not None else []
    return items(doc)


def cname(c: Any, i: int) -> str:
    return str(c.get("name") or f"#{i}")
