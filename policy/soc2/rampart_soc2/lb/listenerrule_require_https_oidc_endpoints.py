"""OIDC sign-in talks to the identity provider over HTTPS only.

An `authenticate-oidc` action (on a listener rule or a listener's default actions) names the issuer
and three endpoints; the ALB sends the client secret to the token endpoint and receives tokens and
user claims from the others, so each must be an https:// URL.
"""
from __future__ import annotations

from ..common import LISTENER, LISTENER_RULE, items
from ..model import COMPLIANT, Context, NotApplicable, Outcome, PolicySpec, Resource, Violation

ENDPOINTS = ("issuer", "authorizationEndpoint", "tokenEndpoint", "userInfoEndpoint")


def check(r: Resource, ctx: Context) -> Outcome:
    key = "defaultActions" if r.type in LISTENER else "actions"
    oidc = [a.get("authenticateOidc") or {} for a in items(r.props.get(key)) if a.get("type") == "authenticate-oidc"]
    if not oidc:
        return NotApplicable("no authenticate-oidc action")
    bad = []
    for i, config in enumerate(oidc):
        for name in ENDPOINTS:
            value = config.get(name)
            if not isinstance(value, str) or not value.lower().startswith("https://"):
                bad.append(f"{name} {value!r}")
    if bad:
        return Violation("authenticate-oidc action uses endpoints that are not https://: " + ", ".join(bad))
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-lb-listenerrule-require-https-oidc-endpoints",
    description="Every authenticate-oidc action names an https:// issuer, authorization, token and user info "
                "endpoint.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.1", "CC6.7"),
    remediation="Use the identity provider's https:// URLs for issuer, authorizationEndpoint, tokenEndpoint and "
                "userInfoEndpoint (its /.well-known/openid-configuration lists them).",
    reference="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html",
    resource_types=LISTENER_RULE + LISTENER,
    check=check,
    peer="(none)",
)
