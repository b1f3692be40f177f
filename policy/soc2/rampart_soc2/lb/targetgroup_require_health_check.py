"""Target groups have health checks."""
from __future__ import annotations

from ..common import TARGET_GROUP, truthy
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    hc = r.props.get("healthCheck")
    if not hc:
        return Violation("target group has no healthCheck block")
    if "enabled" in hc and hc.get("enabled") is not None and not truthy(hc.get("enabled")):
        return Violation("target group health check is disabled")
    protocol = str(hc.get("protocol") or r.props.get("protocol") or "HTTP").upper()
    if protocol in ("HTTP", "HTTPS") and not hc.get("path"):
        return Violation("target group HTTP health check names no path")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-lb-targetgroup-require-health-check",
    description="Target groups have an enabled health check (with a path for HTTP/HTTPS).",
    severity="medium",
    enforcement="mandatory",
    criteria=("A1.2",),
    remediation="Set healthCheck = {enabled: true, path: '/healthz', matcher: '200', ...} on the target group.",
    reference="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html",
    resource_types=TARGET_GROUP,
    check=check,
    peer="CKV_AWS_261",
)
