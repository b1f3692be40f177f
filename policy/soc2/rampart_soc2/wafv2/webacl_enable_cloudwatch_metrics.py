"""Web ACLs and their rules emit CloudWatch metrics."""
from __future__ import annotations

from ..common import WEB_ACL, items, truthy
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    vis = r.props.get("visibilityConfig") or {}
    if not truthy(vis.get("cloudwatchMetricsEnabled")):
        return Violation("web ACL visibilityConfig.cloudwatchMetricsEnabled is not true")
    silent = [str(rule.get("name") or i) for i, rule in enumerate(items(r.props.get("rules")))
              if not truthy((rule.get("visibilityConfig") or {}).get("cloudwatchMetricsEnabled"))]
    if silent:
        return Violation(f"web ACL rules {', '.join(silent)} emit no CloudWatch metrics")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-wafv2-webacl-enable-cloudwatch-metrics",
    description="Web ACLs and every rule in them emit CloudWatch metrics.",
    severity="low",
    enforcement="mandatory",
    criteria=("CC7.2",),
    remediation="Set visibilityConfig.cloudwatchMetricsEnabled = true on the web ACL and on each rule.",
    reference="https://docs.aws.amazon.com/waf/latest/developerguide/monitoring-cloudwatch.html",
    resource_types=WEB_ACL,
    check=check,
    peer="CKV_AWS_342",
)
