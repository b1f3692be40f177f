"""Listener-rule priorities are unique per listener (stack policy).

Two rules with one priority on one listener cannot both be created, and while one is being replaced
the other decides which service a request reaches. Rules without a priority get the next free one
from AWS and never collide. A rule's listener is the listener in the stack it refers to, or else
the literal `listenerArn` (a listener of another stack, such as a shared environment's).
"""
from __future__ import annotations

from typing import Sequence

from ..common import LISTENER, LISTENER_RULE, of_type, raw_get, referent
from ..model import COMPLIANT, Context, Finding, NotApplicable, Outcome, PolicySpec, Resource, Unknown, Violation
from ..props import UNKNOWN, UnknownValue


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    listeners = of_type(resources, LISTENER)
    rules = of_type(resources, LISTENER_RULE)

    def listener_of(rule: Resource) -> tuple[str, str]:
        """(key, label) of the rule's listener; raises UnknownValue when it cannot be told."""
        listener = referent(rule, "listenerArn", listeners)
        if listener is not None:
            return listener.urn, f"listener '{listener.name}'"
        arn = raw_get(rule, "listenerArn")
        if arn is UNKNOWN or not isinstance(arn, str) or not arn:
            raise UnknownValue("listenerArn")
        return arn, f"listener {arn}"

    slots: dict[str, tuple[str, str, int]] = {}      # rule urn -> (listener key, label, priority)
    settled: dict[str, Outcome] = {}                  # rules judged without comparing
    undecided: list[str | None] = []                  # listener keys (None: unknown) of unknown rules
    for rule in rules:
        key: str | None = None
        try:
            key, label = listener_of(rule)
            priority = rule.props.get("priority")
            if priority is None:
                settled[rule.urn] = NotApplicable("no priority: AWS assigns the next free one")
                continue
            slots[rule.urn] = (key, label, int(priority))
        except UnknownValue as exc:
            settled[rule.urn] = Unknown(exc.path)
            undecided.append(key)
        except (TypeError, ValueError) as exc:
            settled[rule.urn] = Violation(f"priority has an unexpected shape ({exc})")

    by_slot: dict[tuple[str, int], list[Resource]] = {}
    for rule in rules:
        if rule.urn in slots:
            key, _, priority = slots[rule.urn]
            by_slot.setdefault((key, priority), []).append(rule)

    findings = []
    for rule in rules:
        if rule.urn in settled:
            findings.append(Finding(rule.urn, settled[rule.urn]))
            continue
        key, label, priority = slots[rule.urn]
        others = [r.name for r in by_slot[(key, priority)] if r.urn != rule.urn]
        if others:
            names = " and ".join(f"'{n}'" for n in [rule.name, *others])
            findings.append(Finding(rule.urn, Violation(
                f"listener rules {names} use the same priority {priority} on {label}")))
        elif any(k is None or k == key for k in undecided):
            # another rule on this (or an unknown) listener has a priority not known yet
            findings.append(Finding(rule.urn, Unknown("priority (of another rule on the same listener)")))
        else:
            findings.append(Finding(rule.urn, COMPLIANT))
    return findings


POLICY = PolicySpec(
    id="aws-lb-listenerrule-require-unique-priority",
    description="Listener rules on the same listener have distinct priorities.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC6.7",),
    remediation="Give each rule on a listener its own priority (or leave it unset so AWS picks a free one); "
                "in the stack file, set a distinct routing priority per service or let Rampart derive them.",
    reference="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-update-rules.html",
    resource_types=LISTENER_RULE,
    kind="stack",
    stack_check=stack_check,
    peer="(none)",
)
