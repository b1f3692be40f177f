"""The registry: every policy record, found in `rampart_soc2/<service or category>/<policy>.py` (`POLICY = ...`)."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from .model import PolicySpec

SERVICES = ("lb", "wafv2", "ecs", "ecr", "cloudwatch", "s3", "kms", "ec2", "secretsmanager", "iam", "sns", "docker")
#: Categories that span services: `rampart_soc2/<category>/<policy>.py`, each policy's service read from its ID
#: (`aws-<service>-...`).
CATEGORIES = ("readiness",)


def _discover() -> dict[str, PolicySpec]:
    found: dict[str, PolicySpec] = {}
    base = Path(__file__).parent
    for folder in SERVICES + CATEGORIES:
        for info in sorted(pkgutil.iter_modules([str(base / folder)]), key=lambda m: m.name):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{__package__}.{folder}.{info.name}")
            spec = getattr(module, "POLICY", None)
            if not isinstance(spec, PolicySpec):
                raise TypeError(f"{module.__name__} defines no POLICY record")
            if spec.id in found:
                raise ValueError(f"duplicate policy id {spec.id}")
            if (spec.kind == "resource") != (spec.check is not None) or (spec.kind == "stack") != (spec.stack_check is not None):
                raise ValueError(f"{spec.id}: kind {spec.kind} does not match its check function")
            if folder in CATEGORIES:
                found[spec.id] = PolicySpec(**{**spec.__dict__, "service": spec.id.split("-")[1], "category": folder})
            else:
                found[spec.id] = PolicySpec(**{**spec.__dict__, "service": folder})
    return found


POLICIES: dict[str, PolicySpec] = _discover()


def get(policy_id: str) -> PolicySpec:
    return POLICIES[policy_id]


def ids() -> list[str]:
    return sorted(POLICIES)
