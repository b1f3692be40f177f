"""A service's alarms, one function per family (issue 22 item 5: `WebService._alarms` was one 109-line
block). Each alarm notifies the environment's encrypted alarm topic on ALARM and on OK
(`monitoring.metric_alarm`); its resource name is `<service>-alarm-<suffix>`, which deployments read
for rollback, so a suffix never changes. `service_alarms` creates them in this order: the target
group's (5xx rate, health, latency), the tasks' (CPU, memory), then the sidecar's access-log metrics
(nginx ingress only).
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class AlarmScope:
    """What one service's alarms watch, and where they notify."""

    service: str
    topic_arn: StrInput
    tags: dict[str, str]
    parent: pulumi.Resource
    target_dims: dict[str, StrInput]  # LoadBalancer and TargetGroup: the load balancer's per-target-group metrics
    ecs_dims: dict[str, StrInput]  # ClusterName and ServiceName: AWS/ECS
    access_log_namespace: Optional[str] = None  # the sidecar's metric filters' namespace (nginx ingress only)

    def alarm(self, suffix: str, **kwargs: Any) -> aws.cloudwatch.MetricAlarm:
        return metric_alarm(
            f"{self.service}-alarm-{suffix}", topic_arn=self.topic_arn, tags=self.tags, parent=self.parent, **kwargs
        )


def service_alarms(scope: AlarmScope, thresholds: "AlarmSettings") -> None:
    error_rate_alarm(scope, thresholds)
    health_alarms(scope)
    latency_alarm(scope, thresholds)
    utilisation_alarms(scope, thresholds)
    if scope.access_log_namespace is not None:
        sidecar_alarms(scope, scope.access_log_namespace, thresholds)


def _target_query(scope: AlarmScope, query_id: str, metric_name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id,
        return_data=False,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=ELB, metric_name=metric_name, dimensions=scope.target_dims, period=PERIOD_SECONDS, stat="Sum",
        ),
    )


def error_rate_alarm(scope: AlarmScope, thresholds: "AlarmSettings") -> None:
    """The targets' 5xx as a share of the service's requests (metric math over two target-group metrics)."""
    percent = thresholds.http_5xx_rate_percent
    scope.alarm(
        "5xx-rate",
        description=f"{scope.service}: its targets answered 5xx to more than {percent}% of its requests",
        metric_queries=[
            _target_query(scope, "target5xx", "HTTPCode_Target_5XX_Count"),
            _target_query(scope, "requests", "RequestCount"),
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="rate", label="5xx rate (%)", expression="100 * FILL(target5xx, 0) / requests", return_data=True,
            ),
        ],
        threshold=percent,
        evaluation_periods=5,
        datapoints_to_alarm=3,
    )


def health_alarms(scope: AlarmScope) -> None:
    """The load balancer's health checks: one target failing, and none passing (the service is down)."""
    scope.alarm(
        "unhealthy-targets",
        description=f"{scope.service}: at least one target failed the load balancer health check",
        namespace=ELB,
        metric_name="UnHealthyHostCount",
        dimensions=scope.target_dims,
        statistic="Maximum",
        threshold=0,
        evaluation_periods=3,
    )
    scope.alarm(
        "no-healthy-targets",
        description=f"{scope.service}: no target passes the load balancer health check, so the service is down",
        namespace=ELB,
        metric_name="HealthyHostCount",
        dimensions=scope.target_dims,
        statistic="Minimum",
        threshold=1,
        comparison_operator="LessThanThreshold",
        evaluation_periods=3,
        # With no target registered (every task stopped) the metric is not published at all: that
        # is the outage this alarm exists for, so missing data counts as breaching.
        treat_missing_data="breaching",
    )


def latency_alarm(scope: AlarmScope, thresholds: "AlarmSettings") -> None:
    scope.alarm(
        "p99-latency",
        description=f"{scope.service}: p99 target response time above {thresholds.target_p99_seconds}s",
        namespace=ELB,
        metric_name="TargetResponseTime",
        dimensions=scope.target_dims,
        extended_statistic="p99",
        threshold=thresholds.target_p99_seconds,
        evaluation_periods=5,
        datapoints_to_alarm=3,
    )


def utilisation_alarms(scope: AlarmScope, thresholds: "AlarmSettings") -> None:
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
            dimensions=scope.ecs_dims,
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
