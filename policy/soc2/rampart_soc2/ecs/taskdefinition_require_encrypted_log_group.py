"""Every log group a task writes to is KMS-encrypted (stack policy)."""
from __future__ import annotations

from typing import Sequence

from ..common import LOG_GROUP, TASK_DEFINITION, of_type
from ..model import COMPLIANT, Context, Finding, NotApplicable, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings
from ..props import UNKNOWN
from ._containers import cname, containers


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    groups = of_type(resources, LOG_GROUP)

    def judge(task: Resource) -> Outcome:
        targets = []
        for i, c in enumerate(containers(task)):
            log = c.get("logConfiguration") or {}
            if log.get("logDriver") == "awslogs":
                group = (log.get("options") or {}).get("awslogs-group")
                if group:
                    targets.append((cname(c, i), str(group)))
        if not targets:
            return NotApplicable("no container writes to CloudWatch Logs")
        problems = []
        unknown = False
        for container, group_name in targets:
            match = None
            for g in groups:
                names = [g.props.raw().get(k) for k in ("name", "id")]
                if group_name in names:
                    match = g
                    break
                if any(n is UNKNOWN for n in names):
                    unknown = True
            if match is None:
                problems.append(f"{container} writes to '{group_name}', a log group this stack does not "
                                "manage, so its encryption cannot be shown")
                continue
            kms = match.props.raw().get("kmsKeyId")
            if kms is UNKNOWN:
                unknown = True
            elif not kms:
                problems.append(f"{container} writes to unencrypted log group '{group_name}'")
        if problems:
            if unknown:
                return Unknown("logGroup.name")
            return Violation("; ".join(problems))
        return COMPLIANT

    return stack_findings(of_type(resources, TASK_DEFINITION), judge)


POLICY = PolicySpec(
    id="aws-ecs-taskdefinition-require-encrypted-log-group",
    description="Every CloudWatch log group a task writes to (awslogs-group) is managed in the stack and "
                "encrypted with KMS.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.1", "CC7.3"),
    remediation="Point awslogs-group at a log group created in the same stack with kmsKeyId set to a "
                "customer-managed KMS key.",
    reference="https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html",
    resource_types=TASK_DEFINITION,
    kind="stack",
    stack_check=stack_check,
    peer="cloudwatch-log-group-encrypted (per task)",
)
