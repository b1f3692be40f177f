"""No privileged containers and no host PID/IPC namespaces."""
from __future__ import annotations

from ..common import TASK_DEFINITION, truthy
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation
from ._containers import cname, containers


def check(r: Resource, ctx: Context) -> Outcome:
    problems = []
    for key in ("pidMode", "ipcMode"):
        if str(r.props.get(key) or "").lower() == "host":
            problems.append(f"{key} is 'host'")
    privileged = [cname(c, i) for i, c in enumerate(containers(r)) if truthy(c.get("privileged"))]
    if privileged:
        problems.append(f"privileged containers: {', '.join(privileged)}")
    if problems:
        return Violation("task definition escapes container isolation: " + "; ".join(problems))
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecs-taskdefinition-disallow-privileged",
    description="Task definitions run no privileged container and share no host PID or IPC namespace.",
    severity="critical",
    enforcement="mandatory",
    criteria=("CC6.1",),
    remediation="Remove 'privileged: true' from container definitions and unset pidMode/ipcMode 'host'.",
    reference="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html",
    resource_types=TASK_DEFINITION,
    check=check,
    peer="CKV_AWS_334, CKV_AWS_335",
)
