"""HTTPS listeners use an allowed TLS 1.2+/1.3 security policy."""
from __future__ import annotations

from ..common import CONFIG_RULE, LISTENER
from ..model import COMPLIANT, Context, NotApplicable, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    protocol = str(r.props.get("protocol") or "HTTP").upper()
    if protocol not in ("HTTPS", "TLS"):
        return NotApplicable(f"listener protocol is {protocol}")
    allowed = list(ctx.threshold("allowedTlsPolicies"))
    policy = r.props.get("sslPolicy")
    if not policy:
        return Violation("HTTPS listener sets no sslPolicy, so AWS applies ELBSecurityPolicy-2016-08, "
                         "which still accepts TLS 1.0 and 1.1")
    if policy not in allowed:
        return Violation(f"HTTPS listener uses security policy '{policy}', which is not in the allowed "
                         f"TLS 1.2+/1.3 list")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-lb-listener-require-tls-policy",
    description="HTTPS listeners use an allowed TLS 1.2+/1.3 security policy.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.7",),
    remediation="Set sslPolicy to ELBSecurityPolicy-TLS13-1-2-2021-06 (or another policy listed in the "
                "allowedTlsPolicies threshold).",
    reference=CONFIG_RULE.format("elb-predefined-security-policy-ssl-check"),
    resource_types=LISTENER,
    check=check,
    thresholds=("allowedTlsPolicies",),
    peer="elb-predefined-security-policy-ssl-check, CKV_AWS_103",
)
