"""Listener rules never serve over HTTP: on an HTTP listener they only redirect to HTTPS (stack policy).

A rule's protocol is its listener's, so the rule is related to its listener through `listenerArn`
(property dependencies at preview, values in a resolved plan). A rule whose listener cannot be
found in the stack is reported unknown, never passed.
"""
from __future__ import annotations

from typing import Sequence

from ..common import CONFIG_RULE, LISTENER, LISTENER_RULE, items, of_type, referent
from ..model import COMPLIANT, Context, Finding, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings


def _protocol(listener: Resource) -> str:
    # The provider's default for an application load balancer's listener is HTTP.
    return str(listener.props.get("protocol") or "HTTP").upper()


def _redirect_protocol(action: object) -> str:
    redirect = action.get("redirect") or {}  # type: ignore[attr-defined]
    # Unset, the redirect keeps the request's protocol ("#{protocol}").
    return str(redirect.get("protocol") or "#{protocol}").upper()


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    listeners = of_type(resources, LISTENER)

    def judge(rule: Resource) -> Outcome:
        listener = referent(rule, "listenerArn", listeners)
        if listener is None:
            return Unknown("listenerArn (the rule's listener is not in this stack, so its protocol cannot be read)")
        protocol = _protocol(listener)
        actions = items(rule.props.get("actions"))
        if not actions:
            return Violation(f"listener rule on {protocol} listener '{listener.name}' has no action")
        bad = []
        for i, action in enumerate(actions):
            kind = str(action.get("type") or "unset")
            if protocol == "HTTP":
                if kind != "redirect" or _redirect_protocol(action) != "HTTPS":
                    what = "redirects without switching to HTTPS" if kind == "redirect" else f"is '{kind}'"
                    bad.append(f"action {i} {what}, so it serves traffic in cleartext on HTTP listener "
                               f"'{listener.name}'")
            elif kind == "forward" and protocol != "HTTPS":
                bad.append(f"action {i} forwards on {protocol} listener '{listener.name}', which is not HTTPS")
            elif kind == "redirect" and _redirect_protocol(action) == "HTTP":
                bad.append(f"action {i} redirects from {protocol} listener '{listener.name}' down to HTTP")
        if bad:
            return Violation("listener rule " + "; ".join(bad))
        return COMPLIANT

    return stack_findings(of_type(resources, LISTENER_RULE), judge)


POLICY = PolicySpec(
    id="aws-lb-listenerrule-disallow-http-forwarding",
    description="Listener rules never serve over HTTP: a rule on an HTTP listener only redirects to HTTPS, "
                "and forward actions sit only on HTTPS listeners.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.7",),
    remediation="Attach forwarding rules (host and path routes) to the HTTPS listener; on the port-80 listener "
                "use only redirect actions with protocol HTTPS (status HTTP_301), and never redirect to HTTP.",
    reference=CONFIG_RULE.format("alb-http-to-https-redirection-check"),
    resource_types=LISTENER_RULE,
    kind="stack",
    stack_check=stack_check,
    peer="ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK",
)
