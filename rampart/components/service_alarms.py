"""A service's alarms, one function per family (issue 22 item 5: `WebService._alarms` was one 109-line
block). Each alarm notifies the environment's encrypted alarm topic on ALARM and on OK
(`monitoring.metric_alarm`); its resource name is `<service>-alarm-<suffix>`, which deployments read
for rollback, so a suffix never changes. They come in two phases:
- `target_group_alarms`, before the service (its deployments roll back on them): per target group the
  5xx rate, unhealthy targets and p99 latency (the alternate target group's twins end in `-alternate`),
  then no healthy target in any group;
- `task_alarms`, after it: the tasks' CPU and memory, then the sidecar's access-log metrics (nginx
  ingress only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

import pulumi
import pulumi_aws as aws

from rampart.components._util import StrInput
from rampart.components.monitoring import metric_alarm
from rampart.components.observability import REJECTIONS, UPSTREAM_5XX

if TYPE_CHECKING:  # the settings model lives with the service's other settings
    from rampart.components.web_service import AlarmSettings

ELB = "AWS/ApplicationELB"
PERIOD_SECONDS = 60

#: Suffix of the twin of a target-group alarm on the alternate target group (`<service>-alarm-5xx-rate-alternate`).
ALTERNATE_ALARM = "-alternate"


@dataclass(frozen=True)
class AlarmScope:
    """Whose alarms, where they notify, and the alarms made so far by suffix (`alarms`)."""

    service: str
    topic_arn: StrInput
    tags: dict[str, str]
    parent: pulumi.Resource
    alb_arn_suffix: StrInput
    alarms: dict[str, aws.cloudwatch.MetricAlarm] = field(default_factory=dict)

    def alarm(self, suffix: str, **kwargs: Any) -> aws.cloudwatch.MetricAlarm:
        made = metric_alarm(
            f"{self.service}-alarm-{suffix}", topic_arn=self.topic_arn, tags=self.tags, parent=self.parent, **kwargs
        )
        self.alarms[suffix] = made
        return made

    def target_dims(self, target_group_arn_suffix: StrInput) -> dict[str, StrInput]:
        """The load balancer's per-target-group metrics' dimensions."""
        return {"LoadBalancer": self.alb_arn_suffix, "TargetGroup": target_group_arn_suffix}


@dataclass(frozen=True)
class TargetGroupWatch:
    """One target group the alarms watch: `tail` is "" for the primary, ALTERNATE_ALARM for the alternate."""

    tail: str
    arn_suffix: StrInput

    @property
    def which(self) -> str:
        return " (alternate target group)" if self.tail else ""


def target_group_alarms(scope: AlarmScope, thresholds: "AlarmSettings", groups: list[TargetGroupWatch]) -> None:
    """Failing traffic on each target group, then the service down (no healthy target in any group)."""
    for group in groups:
        error_rate_alarm(scope, thresholds, group)
        unhealthy_targets_alarm(scope, group)
        latency_alarm(scope, thresholds, group)
    no_healthy_targets_alarm(scope, groups)


def task_alarms(
    scope: AlarmScope,
    thresholds: "AlarmSettings",
    ecs_dims: dict[str, StrInput],
    access_log_namespace: Optional[str],
) -> None:
    """The tasks' load (AWS/ECS, per service) and, with a sidecar, its surges."""
    utilisation_alarms(scope, thresholds, ecs_dims)
    if access_log_namespace is not None:
        sidecar_alarms(scope, access_log_namespace, thresholds)


def _target_query(
    query_id: str, metric_name: str, dims: dict[str, StrInput], stat: str = "Sum"
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id,
        return_data=False,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=ELB, metric_name=metric_name, dimensions=dims, period=PERIOD_SECONDS, stat=stat,
        ),
    )


def error_rate_alarm(scope: AlarmScope, thresholds: "AlarmSettings", group: TargetGroupWatch) -> None:
    """The targets' 5xx as a share of the group's requests (metric math over two target-group metrics)."""
    percent = thresholds.http_5xx_rate_percent
    dims = scope.target_dims(group.arn_suffix)
    scope.alarm(
        f"5xx-rate{group.tail}",
        description=f"{scope.service}: its targets{group.which} answered 5xx to more than {percent}% of its requests",
        metric_queries=[
            _target_query("target5xx", "HTTPCode_Target_5XX_Count", dims),
            _target_query("requests", "RequestCount", dims),
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="rate", label="5xx rate (%)", expression="100 * FILL(target5xx, 0) / requests", return_data=True,
            ),
        ],
        threshold=percent,
        evaluation_periods=5,
        datapoints_to_alarm=3,
    )


def unhealthy_targets_alarm(scope: AlarmScope, group: TargetGroupWatch) -> None:
    scope.alarm(
        f"unhealthy-targets{group.tail}",
        description=f"{scope.service}: at least one target{group.which} failed the load balancer health check",
        namespace=ELB,
        metric_name="UnHealthyHostCount",
        dimensions=scope.target_dims(group.arn_suffix),
        statistic="Maximum",
        threshold=0,
        evaluation_periods=3,
    )


def latency_alarm(scope: AlarmScope, thresholds: "AlarmSettings", group: TargetGroupWatch) -> None:
    scope.alarm(
        f"p99-latency{group.tail}",
        description=f"{scope.service}: p99 target response time{group.which} above {thresholds.target_p99_seconds}s",
        namespace=ELB,
        metric_name="TargetResponseTime",
        dimensions=scope.target_dims(group.arn_suffix),
        extended_statistic="p99",
        threshold=thresholds.target_p99_seconds,
        evaluation_periods=5,
        datapoints_to_alarm=3,
    )


def no_healthy_targets_alarm(scope: AlarmScope, groups: list[TargetGroupWatch]) -> None:
    """No healthy target in any of the service's target groups: the service is down. With two groups
    (blue/green, canary, linear) their healthy counts add up, since the idle one is empty by design."""
    common: dict[str, Any] = dict(
        description=f"{scope.service}: no target passes the load balancer health check, so the service is down",
        threshold=1,
        comparison_operator="LessThanThreshold",
        evaluation_periods=3,
        # With no target registered (every task stopped) the metric is not published at all: that
        # is the outage this alarm exists for, so missing data counts as breaching.
        treat_missing_data="breaching",
    )
    if len(groups) == 1:
        scope.alarm(
            "no-healthy-targets",
            namespace=ELB,
            metric_name="HealthyHostCount",
            dimensions=scope.target_dims(groups[0].arn_suffix),
            statistic="Minimum",
            **common,
        )
        return
    queries = [
        _target_query(f"healthy{i}", "HealthyHostCount", scope.target_dims(group.arn_suffix), stat="Minimum")
        for i, group in enumerate(groups)
    ]
    total = aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id="healthy",
        label="healthy targets (both target groups)",
        expression=" + ".join(f"FILL(healthy{i}, 0)" for i in range(len(groups))),
        return_data=True,
    )
    scope.alarm("no-healthy-targets", metric_queries=[*queries, total], **common)

def utilisation_alarms(scope: AlarmScope, thresholds: "AlarmSettings", ecs_dims: dict[str, StrInput]) -> None:
    """The service's average CPU and memory use (AWS/ECS, per service)."""
    for suffix, metric, threshold in (
        ("cpu", "CPUUtilization", thresholds.cpu_percent),
        ("memory", "MemoryUtilization", thresholds.memory_percent),
    ):
        scope.alarm(
            suffix,
            description=f"{scope.service}: service average {metric} above {threshold}%",
            namespace="AWS/ECS",
            metric_name=metric,
            dimensions=ecs_dims,
            statistic="Average",
            threshold=threshold,
            evaluation_periods=5,
            datapoints_to_alarm=3,
        )


def sidecar_alarms(scope: AlarmScope, namespace: str, thresholds: "AlarmSettings") -> None:
    """Surges at the sidecar, from its access-log metrics (rampart/components/observability.py). Both
    read the Sum: for `Rejections` that is the 429s alone (a 429 is written 1, a 403 0), so the alarm
    fires on the same number of 429s as when they had a metric of their own."""
    for suffix, metric, threshold, what in (
        ("429-surge", REJECTIONS, thresholds.rate_limited_per_minute, "requests answered 429"),
        ("upstream-5xx-surge", UPSTREAM_5XX, thresholds.upstream_5xx_per_minute, "upstream 5xx"),
    ):
        scope.alarm(
            suffix,
            description=f"{scope.service}: more than {threshold} {what} a minute at the proxy sidecar",
            namespace=namespace,
            metric_name=metric.metric_name,
            statistic="Sum",
            threshold=threshold,
            evaluation_periods=3,
            datapoints_to_alarm=2,
        )
