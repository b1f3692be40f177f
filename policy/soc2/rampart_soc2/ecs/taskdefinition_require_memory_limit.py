"""Memory limits are set."""
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
    task_limit = r.props.get("memory")
    if task_limit is not None and _positive(task_limit):
        return COMPLIANT  # a task-level hard limit bounds every container (Fargate requires it)
    bad = [cname(c, i) for i, c in enumerate(containers(r)) if not _positive(c.get("memory") or 0)]
    if bad:
        return Violation(f"no task-level memory and no hard memory limit on containers: {', '.join(bad)}")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecs-taskdefinition-require-memory-limit",
    description="Task definitions set a hard memory limit (task-level memory, or memory on every container).",
    severity="medium",
    enforcement="mandatory",
    criteria=("A1.1",),
    remediation="Set the task definition's memory (required for Fargate) or 'memory' on each container.",
    reference=CONFIG_RULE.format("ecs-task-definition-memory-hard-limit"),
    resource_types=TASK_DEFINITION,
    check=check,
    peer="ecs-task-definition-memory-hard-limit",
)
