"""Deployment circuit breaker with rollback."""
from __future__ import annotations

from ..common import ECS_SERVICE, truthy
from ..model import COMPLIANT, Context, NotApplicable, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    controller = (r.props.get("deploymentController") or {}).get("type") or "ECS"
    if controller != "ECS":
        return NotApplicable(f"deployment controller is {controller}")
    cb = r.props.get("deploymentCircuitBreaker") or {}
    if not (truthy(cb.get("enable")) and truthy(cb.get("rollback"))):
        return Violation("service deploys without a circuit breaker that rolls back failed deployments")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecs-service-require-circuit-breaker-rollback",
    description="ECS services use the deployment circuit breaker with automatic rollback.",
    severity="medium",
    enforcement="mandatory",
    criteria=("A1.2", "CC8.1"),
    remediation="Set deploymentCircuitBreaker = {enable: true, rollback: true} on the service.",
    reference="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html",
    resource_types=ECS_SERVICE,
    check=check,
    peer="(none)",
)
