"""Containers run as a non-root user."""
from __future__ import annotations

from ..common import CONFIG_RULE, TASK_DEFINITION
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation
from ._containers import cname, containers

ROOT = ("root", "0")


def check(r: Resource, ctx: Context) -> Outcome:
    bad = []
    for i, c in enumerate(containers(r)):
        user = c.get("user")
        if user is None or str(user).strip() == "":
            bad.append(f"{cname(c, i)} (no user)")
        elif str(user).split(":", 1)[0].strip() in ROOT:
            bad.append(f"{cname(c, i)} (user {user})")
    if bad:
        return Violation(f"containers may run as root: {', '.join(bad)}")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecs-taskdefinition-require-non-root-user",
    description="Every container in a task definition runs as a non-root user.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.1",),
    remediation="Set 'user' in each container definition to a non-root UID:GID (for example '10001:10001').",
    reference=CONFIG_RULE.format("ecs-containers-nonroot"),
    resource_types=TASK_DEFINITION,
    check=check,
    peer="ecs-containers-nonroot",
)
