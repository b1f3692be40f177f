"""Fargate platform version is LATEST or a recent pinned version."""
from __future__ import annotations

from ..common import ECS_SERVICE, items
from ..model import COMPLIANT, Context, NotApplicable, Outcome, PolicySpec, Resource, Violation


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def check(r: Resource, ctx: Context) -> Outcome:
    launch = r.props.get("launchType")
    providers = [str(s.get("capacityProvider") or "") for s in items(r.props.get("capacityProviderStrategies"))]
    if launch != "FARGATE" and not any(p.startswith("FARGATE") for p in providers):
        return NotApplicable("service does not run on Fargate")
    version = r.props.get("platformVersion") or "LATEST"
    if version == "LATEST":
        return COMPLIANT
    minimum = str(ctx.threshold("minFargatePlatformVersion"))
    try:
        if _version(str(version)) >= _version(minimum):
            return COMPLIANT
    except ValueError:
        return Violation(f"platformVersion '{version}' is neither LATEST nor a version number")
    return Violation(f"Fargate platform version {version} is older than {minimum}")


POLICY = PolicySpec(
    id="aws-ecs-service-configure-fargate-platform-version",
    description="Fargate services run platform version LATEST or a pinned version no older than the threshold.",
    severity="low",
    enforcement="mandatory",
    criteria=("CC7.1",),
    remediation="Leave platformVersion unset (LATEST) or pin it to 1.4.0 or newer.",
    reference="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-fargate.html",
    resource_types=ECS_SERVICE,
    check=check,
    thresholds=("minFargatePlatformVersion",),
    peer="CKV_AWS_332",
)
