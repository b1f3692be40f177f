"""HTTP listeners only redirect to HTTPS."""
from __future__ import annotations

from ..common import CONFIG_RULE, LISTENER, items
from ..model import COMPLIANT, Context, NotApplicable, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    protocol = str(r.props.get("protocol") or "HTTP").upper()
    if protocol != "HTTP":
        return NotApplicable(f"listener protocol is {protocol}")
    actions = items(r.props.get("defaultActions"))
    if not actions:
        return Violation("HTTP listener has no default action; it must redirect to HTTPS")
    for i, action in enumerate(actions):
        kind = str(action.get("type") or "")
        redirect = action.get("redirect") or {}
        if kind != "redirect" or str(redirect.get("protocol") or "").upper() != "HTTPS":
            return Violation(f"HTTP listener default action {i} is '{kind or 'unset'}', not a redirect to HTTPS, "
                             "so it serves traffic in cleartext")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-lb-listener-require-https-redirect",
    description="HTTP listeners only redirect to HTTPS.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.1", "CC6.7"),
    remediation="Give the port-80 listener a single default action of type 'redirect' with protocol HTTPS "
                "(status HTTP_301) and serve the application only on the HTTPS listener.",
    reference=CONFIG_RULE.format("alb-http-to-https-redirection-check"),
    resource_types=LISTENER,
    check=check,
    peer="alb-http-to-https-redirection-check, CKV2_AWS_20",
)
