"""ECS clusters have Container Insights."""
from __future__ import annotations

from ..common import ECS_CLUSTER, items
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    for s in items(r.props.get("settings")):
        if s.get("name") == "containerInsights" and s.get("value") in ("enabled", "enhanced"):
            return COMPLIANT
    return Violation("cluster does not enable Container Insights")


POLICY = PolicySpec(
    id="aws-ecs-cluster-enable-container-insights",
    description="ECS clusters enable Container Insights.",
    severity="low",
    enforcement="mandatory",
    criteria=("CC7.2",),
    remediation="Add settings = [{name: 'containerInsights', value: 'enabled'}] (or 'enhanced') to the cluster.",
    reference="https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContainerInsights.html",
    resource_types=ECS_CLUSTER,
    check=check,
    peer="CKV_AWS_65",
    # No runtime rule: ECS_CONTAINER_INSIGHTS_ENABLED's page does not say how it judges a cluster set to
    # `enhanced`, which Rampart sets; unverified, it is not deployed (docs/policy.md).
)
