"""ECS services get no public IP."""
from __future__ import annotations

from ..common import ECS_SERVICE, truthy
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    net = r.props.get("networkConfiguration") or {}
    if truthy(net.get("assignPublicIp")):
        return Violation("service tasks get a public IP address (networkConfiguration.assignPublicIp is true)")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecs-service-disallow-public-ip",
    description="ECS services do not assign public IP addresses to tasks.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.6",),
    remediation="Set networkConfiguration.assignPublicIp to false and run tasks in private subnets behind the ALB.",
    reference="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html",
    resource_types=ECS_SERVICE,
    check=check,
    peer="CKV_AWS_333",
)
