"""Every container has a hard memory limit (AWS Config's ECS_TASK_DEFINITION_MEMORY_HARD_LIMIT)."""
from __future__ import annotations

from ..common import CONFIG_RULE, TASK_DEFINITION
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation
from ._containers import cname, containers


def _positive(value: object) -> bool:
    try:
        return int(str(value)) > 0
    except ValueError:
        return False


def check(r: Resource, ctx: Context) -> Outcome:
    # A task-level size is not enough: without its own hard limit one container can take the whole
    # task's memory and starve the others. memoryReservation is a soft limit and does not count.
    bad = []
    for i, c in enumerate(containers(r)):
        if not _positive(c.get("memory") or 0):
            soft = " (memoryReservation alone is a soft limit)" if c.get("memoryReservation") is not None else ""
            bad.append(cname(c, i) + soft)
    if bad:
        return Violation(f"containers without a hard memory limit: {', '.join(bad)}")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecs-taskdefinition-require-memory-limit",
    description="Every container in a task definition has a hard memory limit ('memory'); a soft "
                "memoryReservation alone is not one.",
    severity="medium",
    enforcement="mandatory",
    criteria=("A1.1",),
    remediation="Set 'memory' (MiB) on each container definition, the sum within the task's memory "
                "(Rampart's WebService gives the app and the proxy sidecar their shares).",
    reference=CONFIG_RULE.format("ecs-task-definition-memory-hard-limit"),
    resource_types=TASK_DEFINITION,
    check=check,
    peer="ecs-task-definition-memory-hard-limit (ECS_TASK_DEFINITION_MEMORY_HARD_LIMIT)",
)
