"""No secret-looking values in container `environment` (use `secrets`)."""
from __future__ import annotations

import re

from ..common import TASK_DEFINITION, items
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation
from ._containers import cname, containers

SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|AUTH_?KEY)",
                         re.IGNORECASE)
# Names that point at a secret rather than hold one.
REFERENCE_SUFFIX = re.compile(r"_(ARN|ARNS|NAME|ID|PATH|FILE|REF|URL)$", re.IGNORECASE)
SECRET_VALUE = re.compile(
    r"(AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|ghp_[A-Za-z0-9]{20,}"
    r"|xox[abpr]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{10,})")


def check(r: Resource, ctx: Context) -> Outcome:
    found = []
    for i, c in enumerate(containers(r)):
        for var in items(c.get("environment")):
            name = str(var.get("name") or "")
            value = var.get("value")
            by_name = bool(SECRET_NAME.search(name)) and not REFERENCE_SUFFIX.search(name)
            by_value = isinstance(value, str) and bool(SECRET_VALUE.search(value))
            if by_name or by_value:
                found.append(f"{cname(c, i)}:{name}")
    if found:
        return Violation(f"secret-looking plain environment variables: {', '.join(found)}")
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
