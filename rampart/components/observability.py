"""Metrics from the proxy sidecar's JSON access log (issue 14, monitoring half).

One table, `ACCESS_LOG_METRICS`, owns every metric the sidecar's log feeds: its name, the CloudWatch
Logs filter pattern (JSON syntax, `{ $.status = 429 }`) and the value it records. The metric filters,
the alarms on them and the tests that feed real nginx log lines to the patterns all read this table.

Field types follow what nginx writes with `log_format ... escape=json` (rampart/components/proxy_config.py
`_JSON_LOG_FORMAT`): `status`, `bytes_sent` and `request_time` are unquoted numbers; `upstream_status`,
`upstream_time` and `cache` are quoted strings (empty when nginx answered itself, a comma list when it
retried another upstream). A string field compared with a number never matches in CloudWatch, so the
patterns compare each field as the type nginx writes.

The sidecar exists only in `nginx` ingress mode; in `alb` mode the service has no access log of its own
and its dashboard and alarms use the load balancer's per-target-group metrics (AWS/ApplicationELB).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

NAMESPACE_PREFIX = "Rampart/Proxy"


@dataclass(frozen=True)
class AccessLogMetric:
    """One metric filter on the sidecar's access log: a count (value "1") or a value taken from a field."""

    metric_name: str
    pattern: str
    value: str = "1"
    unit: str = "Count"


ACCESS_LOG_METRICS: tuple[AccessLogMetric, ...] = (
    AccessLogMetric("Requests2xx", "{ $.status >= 200 && $.status < 300 }"),
    AccessLogMetric("Requests3xx", "{ $.status >= 300 && $.status < 400 }"),
    AccessLogMetric("Requests4xx", "{ $.status >= 400 && $.status < 500 }"),
    AccessLogMetric("Requests5xx", "{ $.status >= 500 && $.status < 600 }"),
    AccessLogMetric("RateLimited429", "{ $.status = 429 }"),
    AccessLogMetric("Forbidden403", "{ $.status = 403 }"),
    AccessLogMetric("CacheHits", '{ $.cache = "HIT" }'),
    AccessLogMetric("CacheMisses", '{ $.cache = "MISS" }'),
    # Upstream 5xx: nginx writes the upstream's status as a string ("502", or "502, 200" after a retry).
    AccessLogMetric("Upstream5xx", '{ $.upstream_status = "5*" }'),
    # `upstream_time` is a string that may be empty or a comma list, which a metric value cannot read; the
    # value metric records `request_time` (a number: the whole request, upstream time included) for the
    # requests that reached the upstream.
    AccessLogMetric(
        "UpstreamRequestTime",
        '{ $.upstream_status != "" && $.request_time >= 0 }',
        value="$.request_time",
        unit="Seconds",
    ),
)

# The alarms on the sidecar's metrics watch these two.
RATE_LIMITED_METRIC = "RateLimited429"
UPSTREAM_5XX_METRIC = "Upstream5xx"


def metric_namespace(service_physical_name: str) -> str:
    """Per-service namespace: metric filter dimensions can only take values from log fields, and the
    log has no service field, so the service is in the namespace."""
    return f"{NAMESPACE_PREFIX}/{service_physical_name}"


def access_log_metric(name: str) -> AccessLogMetric:
    return next(m for m in ACCESS_LOG_METRICS if m.metric_name == name)


def access_log_metric_filters(
    service_name: str,
    *,
    namespace: str,
    log_group_name: pulumi.Input[str],
    parent: pulumi.Resource,
    depends_on: Optional[list[pulumi.Resource]] = None,
) -> list[aws.cloudwatch.LogMetricFilter]:
    """The metric filters on the sidecar's log group, one per `ACCESS_LOG_METRICS` entry."""
    return [
        aws.cloudwatch.LogMetricFilter(
            f"{service_name}-metric-{metric.metric_name.lower()}",
            aws.cloudwatch.LogMetricFilterArgs(
                log_group_name=log_group_name,
                pattern=metric.pattern,
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=metric.metric_name,
                    namespace=namespace,
                    value=metric.value,
                    unit=metric.unit,
                ),
            ),
            opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
        )
        for metric in ACCESS_LOG_METRICS
    ]
