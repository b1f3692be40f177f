"""Every container has a log configuration."""
from __future__ import annotations

from ..common import CONFIG_RULE, TASK_DEFINITION
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation
from ._containers import cname, containers


def check(r: Resource, ctx: Context) -> Outcome:
    bad = [cname(c, i) for i, c in enumerate(containers(r))
           if not (c.get("logConfiguration") or {}).get("logDriver")]
    if bad:
        return Violation(f"containers send their logs nowhere (no logConfiguration.logDriver): {', '.join(bad)}")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecs-taskdefinition-require-log-configuration",
    description="Every container in a task definition has a log configuration.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC7.2", "A1.2"),
    remediation="Give each container logConfiguration {logDriver: 'awslogs', options: {awslogs-group, "
                "awslogs-region, awslogs-stream-prefix}}.",
    reference=CONFIG_RULE.format("ecs-task-definition-log-configuration"),
    resource_types=TASK_DEFINITION,
    check=check,
    peer="ecs-task-definition-log-configuration",
)
