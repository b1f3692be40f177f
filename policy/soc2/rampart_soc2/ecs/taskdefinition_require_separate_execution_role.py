"""The execution role differs from the task role."""
from __future__ import annotations

from ..common import TASK_DEFINITION
from ..model import COMPLIANT, Context, NotApplicable, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    task_role = r.props.get("taskRoleArn")
    execution_role = r.props.get("executionRoleArn")
    if not task_role or not execution_role:
        return NotApplicable("task definition does not set both roles")
    if task_role == execution_role:
        return Violation("task role and execution role are the same role, so application code holds the "
                         "permissions to pull images and read every task secret")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecs-taskdefinition-require-separate-execution-role",
    description="A task definition's execution role differs from its task role.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.3",),
    remediation="Create one IAM role for the ECS agent (executionRoleArn: ECR pull, logs, secrets) and a "
                "separate least-privilege role for the application (taskRoleArn).",
    reference="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
    resource_types=TASK_DEFINITION,
    check=check,
    peer="CKV_AWS_249",
)
