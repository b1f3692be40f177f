"""Essential containers have health checks."""
from __future__ import annotations

from ..common import TASK_DEFINITION, items
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation
from ._containers import cname, containers


def check(r: Resource, ctx: Context) -> Outcome:
    bad = []
    for i, c in enumerate(containers(r)):
        essential = c.get("essential")
        if essential is False or str(essential).lower() == "false":
            continue
        if not items((c.get("healthCheck") or {}).get("command")):
            bad.append(cname(c, i))
    if bad:
        return Violation(f"essential containers have no health check command: {', '.join(bad)}")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecs-taskdefinition-require-health-check",
    description="Every essential container in a task definition has a health check.",
    severity="medium",
    enforcement="mandatory",
    criteria=("A1.2",),
    remediation="Add healthCheck {command: ['CMD', ...], interval, timeout, retries, startPeriod} to each "
                "essential container.",
    reference="https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html",
    resource_types=TASK_DEFINITION,
    check=check,
    peer="(none)",
)
