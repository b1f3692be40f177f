"""Alarms have actions."""
from __future__ import annotations

from ..common import CONFIG_RULE, METRIC_ALARM, items, truthy
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    enabled = r.props.get("actionsEnabled")
    # Unset means enabled (AWS's default); a value that is not true ("false", "", ...) is not.
    if enabled is not None and not truthy(enabled):
        return Violation(f"alarm actions are disabled (actionsEnabled is {enabled!r}, not true)")
    if not items(r.props.get("alarmActions")):
        return Violation("alarm notifies no one (alarmActions is empty)")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-cloudwatch-metricalarm-require-actions",
    description="CloudWatch alarms have enabled alarm actions.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC7.2", "CC7.3", "CC7.4"),
    remediation="Set alarmActions to an SNS topic (or other action) and leave actionsEnabled true.",
    reference=CONFIG_RULE.format("cloudwatch-alarm-action-check"),
    resource_types=METRIC_ALARM,
    check=check,
    peer="cloudwatch-alarm-action-check",
)
