"""Containers have a read-only root filesystem."""
from __future__ import annotations

from ..common import CONFIG_RULE, TASK_DEFINITION, truthy
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation
from ._containers import cname, containers


def check(r: Resource, ctx: Context) -> Outcome:
    bad = [cname(c, i) for i, c in enumerate(containers(r)) if not truthy(c.get("readonlyRootFilesystem"))]
    if bad:
        return Violation(f"containers have a writable root filesystem: {', '.join(bad)}")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecs-taskdefinition-require-read-only-root-filesystem",
    description="Every container in a task definition has a read-only root filesystem.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC6.1", "CC6.8"),
    remediation="Set readonlyRootFilesystem: true in each container definition; mount writable paths as volumes.",
    reference=CONFIG_RULE.format("ecs-containers-readonly-access"),
    resource_types=TASK_DEFINITION,
    check=check,
    peer="ecs-containers-readonly-access, CKV_AWS_336",
)
