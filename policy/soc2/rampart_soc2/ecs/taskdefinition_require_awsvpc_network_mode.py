"""Task definitions use awsvpc networking."""
from __future__ import annotations

from ..common import CONFIG_RULE, TASK_DEFINITION
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    mode = r.props.get("networkMode")
    if mode != "awsvpc":
        # Unset means 'bridge' on EC2 (Fargate refuses anything but awsvpc).
        return Violation(f"task definition uses network mode {mode or 'bridge (the default)'}, not awsvpc, so "
                         f"its tasks share the host's network and security groups")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecs-taskdefinition-require-awsvpc-network-mode",
    description="Task definitions use the awsvpc network mode, so each task has its own interface and security groups.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC6.6",),
    remediation="Set networkMode to 'awsvpc' (required for Fargate) and give the service a security group.",
    reference=CONFIG_RULE.format("ecs-awsvpc-networking-enabled"),
    resource_types=TASK_DEFINITION,
    check=check,
    peer="ecs-awsvpc-networking-enabled (ECS_AWSVPC_NETWORKING_ENABLED)",
)
