"""The registry: every policy record, found in `rampart_soc2/<service or category>/<policy>.py` (`POLICY = ...`),
with its AWS Config rule attached from the vocabulary (`vocabulary.config_rules`, keyed by policy id)."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Mapping

from .model import PolicySpec
from .vocabulary.config_rules import CONFIG_RULES, RULE_POLICY_LEVEL, ConfigRule

_CONFIG_RULES_FILE = "policy/soc2/rampart_soc2/vocabulary/config_rules.py"

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
            found[spec.id] = placed(spec, folder, module.__name__)
    check_config_rules(found)
    return found


def placed(spec: PolicySpec, folder: str, module_name: str,
           rules: Mapping[str, ConfigRule] = CONFIG_RULES) -> PolicySpec:
    """The record as the registry keeps it: its service (and category) from where it lives, its AWS
    Config rule from the vocabulary. A policy file that declares a rule itself is refused: the
    components read the rules from the vocabulary and would not see it."""
    if spec.config_rule is not None:
        raise ValueError(f"{spec.id}: {module_name} declares its AWS Config rule itself; declare it in "
                         f"{_CONFIG_RULES_FILE} (CONFIG_RULES[{spec.id!r}]) instead, where the components read it")
    where = {"service": spec.id.split("-")[1], "category": folder} if folder in CATEGORIES else {"service": folder}
    return PolicySpec(**{**spec.__dict__, **where, "config_rule": rules.get(spec.id)})


def check_config_rules(found: Mapping[str, PolicySpec], rules: Mapping[str, ConfigRule] = CONFIG_RULES) -> None:
    """Every Config rule names a policy, and every policy with one has the level `Compliance` assumes."""
    orphans = sorted(set(rules) - set(found))
    if orphans:
        raise ValueError(f"{_CONFIG_RULES_FILE}: CONFIG_RULES names {', '.join(orphans)}, which no policy has as its "
                         "id; correct the id or remove the entry")
    for policy_id in rules:
        spec = found[policy_id]
        if spec.enforcement != RULE_POLICY_LEVEL or spec.non_production_enforcement is not None:
            raise ValueError(
                f"{policy_id} has an AWS Config rule ({_CONFIG_RULES_FILE}) but its default level is "
                f"{spec.enforcement!r} (non-production: {spec.non_production_enforcement!r}); the components deploy "
                f"and alarm every such rule at {RULE_POLICY_LEVEL!r} unless the stack overrides it, so make the "
                f"policy {RULE_POLICY_LEVEL} everywhere or remove its Config rule"
            )


POLICIES: dict[str, PolicySpec] = _discover()


def get(policy_id: str) -> PolicySpec:
    return POLICIES[policy_id]


def ids() -> list[str]:
    return sorted(POLICIES)
