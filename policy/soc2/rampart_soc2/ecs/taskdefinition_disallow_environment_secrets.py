"""No secret-looking values in container `environment` (use `secrets`): by value (rampart_soc2.vocabulary.secret_values,
whatever the name) and by name."""
from __future__ import annotations

from ..common import TASK_DEFINITION, items
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation
from ..vocabulary.secret_values import secret_kind, secret_name
from ._containers import cname, containers


def check(r: Resource, ctx: Context) -> Outcome:
    found = []
    for i, c in enumerate(containers(r)):
        for var in items(c.get("environment")):
            name = str(var.get("name") or "")
            value = var.get("value")
            kind = secret_kind(value)
            if kind is not None:
                found.append(f"{cname(c, i)}:{name} (its value looks like {kind})")
            elif secret_name(name):
                found.append(f"{cname(c, i)}:{name} (its name)")
    if found:
        return Violation(f"secret-looking plain environment variables, which belong in `secrets`: {', '.join(found)}")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecs-taskdefinition-disallow-environment-secrets",
    description="Container definitions put no secret-looking values in plain `environment` variables.",
    severity="critical",
    enforcement="mandatory",
    criteria=("C1.1", "CC6.1"),
    remediation="Move the value to Secrets Manager or SSM and reference it from the container's 'secrets' "
                "list ({name, valueFrom: <secret ARN>}).",
    reference="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html",
    resource_types=TASK_DEFINITION,
    check=check,
    peer="ecs-no-environment-secrets",
)
