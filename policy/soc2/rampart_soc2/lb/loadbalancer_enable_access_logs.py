"""Load balancer access logs go to S3."""
from __future__ import annotations

from ..common import CONFIG_RULE, LB, truthy
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    logs = r.props.get("accessLogs")
    if not logs:
        return Violation("load balancer has no accessLogs block, so requests are not recorded")
    if not truthy(logs.get("enabled")):
        return Violation("load balancer access logs are disabled (accessLogs.enabled is not true)")
    bucket = logs.get("bucket")
    if not bucket:
        return Violation("load balancer access logs name no S3 bucket")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-lb-loadbalancer-enable-access-logs",
    description="Load balancer access logs are delivered to S3.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC7.2", "CC7.3", "A1.2"),
    remediation="Set accessLogs = {bucket: <encrypted log bucket>, enabled: true} on the load balancer.",
    reference=CONFIG_RULE.format("elb-logging-enabled"),
    resource_types=LB,
    check=check,
    peer="elb-logging-enabled, CKV_AWS_91",
)
