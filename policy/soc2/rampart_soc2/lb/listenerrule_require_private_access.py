"""Listener rules marked private let nobody through unchecked (stack policy).

How "private" reaches the pack: the pack sees resource types and properties only, so the component
tags every listener rule of a route entry marked `private` with `rampart-private-route=true`
(`PRIVATE_ROUTE_TAG`, declared in `vocabulary.tags`, where Rampart's routing reads it too). A private rule that forwards must
sign users in (an `authenticate-oidc` or `authenticate-cognito` action whose
`onUnauthenticatedRequest` is not `allow`) or match a `source-ip` condition; a source-ip rule that
does not sign in also needs a private rule on the same listener, for the same host and path
conditions and tried after it, that answers without forwarding (the 403), or the requests from other
addresses fall through to the service's own rule. Rules that only answer (fixed-response, redirect)
pass.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..common import LISTENER, LISTENER_RULE, items, of_type, raw_get, referent
from ..model import COMPLIANT, Context, Finding, NotApplicable, Outcome, PolicySpec, Resource, Unknown, Violation
from ..props import UNKNOWN, UnknownValue
from ..vocabulary.tags import PRIVATE_ROUTE_TAG
_AUTHENTICATE = ("authenticate-oidc", "authenticate-cognito")
_PASSES = ("forward",)


def is_private(rule: Resource) -> bool:
    tags = rule.props.get("tags") or {}
    return str(tags.get(PRIVATE_ROUTE_TAG, "")).lower() == "true"


def _known_private(rule: Resource) -> bool:
    """Private, for finding a rule's 403 partner; a rule whose tags are unknown is not counted."""
    try:
        return is_private(rule)
    except UnknownValue:
        return False


def _signs_in(action: Any) -> bool:
    kind = str(action.get("type") or "")
    if kind not in _AUTHENTICATE:
        return False
    config = action.get("authenticateOidc" if kind == "authenticate-oidc" else "authenticateCognito") or {}
    # The provider's default is "authenticate".
    return str(config.get("onUnauthenticatedRequest") or "authenticate") != "allow"


def _condition(rule: Resource, key: str) -> Any:
    for condition in items(rule.props.get("conditions")):
        block = condition.get(key)
        if block:
            return block.get("values")
    return None


def _match(rule: Resource) -> tuple[Any, Any]:
    """The host and path conditions, as comparable values."""
    def key(values: Any) -> Any:
        return tuple(sorted(str(v) for v in values)) if values else None
    return key(_condition(rule, "hostHeader")), key(_condition(rule, "pathPattern"))


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    listeners = of_type(resources, LISTENER)
    rules = [r for r in of_type(resources, LISTENER_RULE) if _known_private(r)]

    def listener_key(rule: Resource) -> str:
        listener = referent(rule, "listenerArn", listeners)
        if listener is not None:
            return listener.urn
        arn = raw_get(rule, "listenerArn")
        if arn is UNKNOWN or not isinstance(arn, str) or not arn:
            raise UnknownValue("listenerArn")
        return arn

    def judge(rule: Resource) -> Outcome:
        actions = items(rule.props.get("actions"))
        kinds = [str(a.get("type") or "") for a in actions]
        if not any(k in _PASSES for k in kinds):
            return COMPLIANT  # answers by itself (403, redirect): lets nobody through
        if any(_signs_in(a) for a in actions):
            return COMPLIANT
        if not _condition(rule, "sourceIp"):
            return Violation(
                f"listener rule '{rule.name}' is marked private ({PRIVATE_ROUTE_TAG}=true) but forwards with "
                "neither a sign-in action (authenticate-oidc or authenticate-cognito, not onUnauthenticatedRequest "
                "allow) nor a source-ip condition"
            )
        priority = rule.props.get("priority")
        if priority is None:
            return Unknown("priority")
        key = listener_key(rule)
        for other in rules:
            if other.urn == rule.urn or _match(other) != _match(rule):
                continue
            other_actions = items(other.props.get("actions"))
            if any(str(a.get("type") or "") in _PASSES for a in other_actions):
                continue
            other_priority = other.props.get("priority")
            if other_priority is not None and int(other_priority) > int(priority) and listener_key(other) == key:
                return COMPLIANT
        return Violation(
            f"listener rule '{rule.name}' is marked private and lets only its source-ip networks through, but no "
            "private rule for the same host and path conditions answers the other addresses (a fixed-response 403 "
            "tried after it), so their requests fall through to the next rule"
        )

    findings = []
    for rule in of_type(resources, LISTENER_RULE):
        try:
            outcome = judge(rule) if is_private(rule) else NotApplicable(f"not marked private ({PRIVATE_ROUTE_TAG})")
        except UnknownValue as exc:
            outcome = Unknown(exc.path)
        findings.append(Finding(rule.urn, outcome))
    return findings


POLICY = PolicySpec(
    id="aws-lb-listenerrule-require-private-access",
    description="Listener rules marked private forward only signed-in users or allow-listed source networks, "
                "and an allow-list is followed by a rule that answers everyone else.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.1",),
    remediation="Give the stack file's private access entry `allowCidrs` (office and VPN networks) or sign-in "
                "(`oidc` or `cognito` with onUnauthenticatedRequest authenticate or deny); Rampart adds the 403 rule "
                "for an allow-list.",
    reference="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-authenticate-users.html",
    resource_types=LISTENER_RULE,
    kind="stack",
    stack_check=stack_check,
    peer="(none)",
)
