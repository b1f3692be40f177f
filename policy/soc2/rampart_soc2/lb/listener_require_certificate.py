"""HTTPS listeners carry a certificate."""
from __future__ import annotations

from ..common import CONFIG_RULE, LISTENER
from ..model import COMPLIANT, Context, NotApplicable, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    protocol = str(r.props.get("protocol") or "HTTP").upper()
    if protocol not in ("HTTPS", "TLS"):
        return NotApplicable(f"listener protocol is {protocol}")
    cert = r.props.get("certificateArn")
    if not isinstance(cert, str) or not cert.strip():
        return Violation("HTTPS listener has no certificateArn")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-lb-listener-require-certificate",
    description="HTTPS listeners carry a certificate.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.7",),
    remediation="Set certificateArn to an ACM certificate for the service's domain.",
    reference=CONFIG_RULE.format("elbv2-acm-certificate-required"),
    resource_types=LISTENER,
    check=check,
    peer="elbv2-acm-certificate-required",
)
