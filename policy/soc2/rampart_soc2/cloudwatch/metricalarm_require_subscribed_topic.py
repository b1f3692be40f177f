"""Alarms notify someone: the topic an alarm's action targets has at least one subscription (stack).

An alarm whose topic nobody subscribes to passes "alarms have actions" while no one is told. The
policy follows each alarm action to the SNS topic in the stack that it names (by the engine's
property dependencies at preview, by value in a resolved plan) and asks for a subscription on that
topic. An action that names a topic outside the stack cannot be judged here: it is reported as not
applicable with that reason, and a waiver records which system subscribes when that is the case.

Enforcement is mandatory on production stacks (the pack's `productionStacks`) and advisory on the
others, where an address may not be set up yet.
"""
from __future__ import annotations

from typing import Sequence

from ..common import METRIC_ALARM, SNS_SUBSCRIPTION, SNS_TOPIC, any_refers, items, of_type, refers_to
from ..model import COMPLIANT, Context, Finding, NotApplicable, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    topics = of_type(resources, SNS_TOPIC)
    subscriptions = of_type(resources, SNS_SUBSCRIPTION)

    def judge(alarm: Resource) -> Outcome:
        if not items(alarm.props.get("alarmActions")):
            return NotApplicable("the alarm has no actions (aws-cloudwatch-metricalarm-require-actions reports that)")
        targets = [t for t in topics if refers_to(alarm, "alarmActions", t) is True]
        maybe = [t for t in topics if refers_to(alarm, "alarmActions", t) is None]
        if not targets:
            if maybe:
                return Unknown("alarmActions")
            return NotApplicable("the alarm notifies a topic outside this stack, whose subscriptions cannot be seen here")
        for topic in targets:
            subscribed = any_refers(subscriptions, "topic", topic)
            if subscribed is None:
                return Unknown("topic")
            if not subscribed:
                return Violation(f"the alarm notifies topic '{topic.name}', which has no subscription, so no one is told")
        return COMPLIANT

    return stack_findings(of_type(resources, METRIC_ALARM), judge)


POLICY = PolicySpec(
    id="aws-cloudwatch-metricalarm-require-subscribed-topic",
    description="Every SNS topic an alarm notifies has at least one subscription (stack); mandatory on "
                "production stacks, advisory on the others.",
    severity="medium",
    enforcement="mandatory",
    non_production_enforcement="advisory",
    criteria=("CC7.2", "CC7.3", "CC7.4"),
    remediation="Subscribe the on-call address or paging system to the alarm topic (rampart:environment.monitoring.alarmEmailEndpoints, "
                "or MonitoringArgs.alarm_email_endpoints); if another system subscribes outside this stack, "
                "record it as a waiver.",
    reference="https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html",
    resource_types=METRIC_ALARM + SNS_TOPIC + SNS_SUBSCRIPTION,
    kind="stack",
    stack_check=stack_check,
    thresholds=("productionStacks",),
    peer="(none)",
)
