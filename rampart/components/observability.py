"""Metrics from the proxy sidecar's JSON access log (issue 14, monitoring half).

One table, `ACCESS_LOG_METRICS`, owns every metric the sidecar's log feeds: its name, the CloudWatch
Logs filter pattern (JSON syntax, `{ $.status = 429 }`) and the value it records. The metric filters,
the alarms on them and the tests that feed real nginx log lines to the patterns all read this table.

Field types follow what nginx writes with `log_format ... escape=json` (rampart/components/nginx_conf.py
`_JSON_LOG_FORMAT`): `status`, `bytes_sent` and `request_time` are unquoted numbers; `upstream_status`,
`upstream_time` and `cache` are quoted strings (empty when nginx answered itself, a comma list when it
retried another upstream); the `ACCESS_LOG_FLAGS` fields are an unquoted 0 or 1, or null. A string
field compared with a number never matches in CloudWatch, so the patterns compare each field as the
type nginx writes.

The sidecar exists only in `nginx` ingress mode; in `alb` mode the service has no access log of its own
and its dashboard and alarms use the load balancer's per-target-group metrics (AWS/ApplicationELB).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Optional, Union

import pulumi
import pulumi_aws as aws

from rampart.components._util import physical_name, project_namespace

NAMESPACE_PREFIX = "Rampart/Proxy"


@dataclass(frozen=True)
class AccessLogMetric:
    """One metric filter on the sidecar's access log: a count (value "1") or a value taken from a field."""

    metric_name: str
    pattern: str
    value: str = "1"
    unit: str = "Count"


@dataclass(frozen=True)
class LogFlag:
    """A numeric field of the sidecar's JSON access log that tells two outcomes apart: 1 when the nginx
    variable `source` is `one`, 0 when it is `zero`, JSON null on every other line. The nginx config
    (rampart/components/nginx_conf.py) writes it from this definition: a `map` from `source` to
    `variable`, and the field in the log format."""

    field: str
    source: str
    one: str
    zero: str

    @property
    def variable(self) -> str:
        return f"$rampart_{self.field}"

    def metric(self, metric_name: str) -> AccessLogMetric:
        """One metric for both outcomes (issue 23: a custom metric is billed by the month, whatever
        it carries): the filter matches the lines whose flag is a number, so the flag is in the pattern
        and every line it matches has a value, and publishes the flag itself. CloudWatch then keeps, per
        period, Sum (the lines written 1), SampleCount (the lines written 0 or 1) and Average (Sum /
        SampleCount, the share written 1). A null flag is no number: the line is not matched and adds
        no sample. No default value: it would add a 0 sample for every other line."""
        return AccessLogMetric(
            metric_name, f"{{ $.{self.field} = 0 || $.{self.field} = 1 }}", value=f"$.{self.field}"
        )


#: 1 for a 429 (the sidecar's rate limit), 0 for a 403 (its access control, or the app's).
RATE_LIMITED = LogFlag("rate_limited", "$status", one="429", zero="403")
#: 1 for a cache HIT, 0 for a MISS. BYPASS, EXPIRED, STALE and the rest, and lines with no cache
#: lookup (an empty `$upstream_cache_status`), are neither: null, no sample.
CACHE_HIT = LogFlag("cache_hit", "$upstream_cache_status", one="HIT", zero="MISS")
ACCESS_LOG_FLAGS: tuple[LogFlag, ...] = (RATE_LIMITED, CACHE_HIT)

#: Sum = 429s, SampleCount = 429s + 403s (so 403s = SampleCount - Sum).
REJECTIONS = RATE_LIMITED.metric("Rejections")
#: Sum = hits, SampleCount = hits + misses (the lookups), Average = the hit ratio.
CACHE_LOOKUPS = CACHE_HIT.metric("CacheLookups")
# Upstream 5xx: nginx writes the upstream's status as a string ("502", or "502, 200" after a retry).
UPSTREAM_5XX = AccessLogMetric("Upstream5xx", '{ $.upstream_status = "5*" }')

#: Only what the load balancer does not already publish per target group for free: AWS/ApplicationELB
#: counts the requests and the 2xx/3xx/4xx/5xx the sidecar answers (`RequestCount`,
#: `HTTPCode_Target_*_Count`) and times them (`TargetResponseTime`, upstream time included), per
#: TargetGroup and LoadBalancer. What only the sidecar knows is which 4xx were its own rate limit (429)
#: or access control (403), whether the cache answered, and whether the app behind it failed. Each entry
#: is a custom metric CloudWatch bills by the month (issue 23): add one only for a signal AWS lacks, and
#: let two outcomes share one metric through a `LogFlag` where they can.
ACCESS_LOG_METRICS: tuple[AccessLogMetric, ...] = (REJECTIONS, CACHE_LOOKUPS, UPSTREAM_5XX)


def metric_namespace(service_physical_name: str) -> str:
    """Per-service namespace: metric filter dimensions can only take values from log fields, and the
    log has no service field, so the service is in the namespace."""
    return f"{NAMESPACE_PREFIX}/{service_physical_name}"


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


# --- dashboards ------------------------------------------------------------------------------------
# A dashboard body (AWS "Dashboard Body Structure and Syntax"): {"widgets": [{"type": "metric", "x", "y",
# "width", "height", "properties": {"metrics": [[namespace, name, dim, value, ..., {options}], ...],
# "view", "stat", "period", "region", "title"}}]}. The grid is 24 columns wide. Metric math lines are
# `[{"expression": ..., "label": ..., "id": ...}]`, and the metrics they use carry `{"id", "visible": False}`.

GRID_COLUMNS = 24
WIDGET_WIDTH = 8
WIDGET_HEIGHT = 6
PERIOD_SECONDS = 60

Dims = dict[str, pulumi.Input[str]]


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: Dims
    stat: str = "Sum"
    label: Optional[str] = None
    id: Optional[str] = None
    visible: bool = True

    def line(self) -> list[Any]:
        options: dict[str, Any] = {"stat": self.stat}
        if self.label:
            options["label"] = self.label
        if self.id:
            options["id"] = self.id
        if not self.visible:
            options["visible"] = False
        flat: list[Any] = [self.namespace, self.name]
        for key, value in self.dimensions.items():
            flat += [key, value]
        return [*flat, options]


@dataclass(frozen=True)
class Expression:
    expression: str
    label: str
    id: str
    visible: bool = True

    def line(self) -> list[Any]:
        options: dict[str, Any] = {"expression": self.expression, "label": self.label, "id": self.id}
        if not self.visible:
            options["visible"] = False
        return [options]


@dataclass(frozen=True)
class MetricWidget:
    title: str
    lines: tuple[Union[Metric, Expression], ...]
    x: int = 0
    y: int = 0
    width: int = WIDGET_WIDTH
    height: int = WIDGET_HEIGHT

    def body(self, region: pulumi.Input[str]) -> dict[str, Any]:
        return {
            "type": "metric",
            "x": self.x,
            "y": self.y,
            "width": self.width,
            "height": self.height,
            "properties": {
                "title": self.title,
                "view": "timeSeries",
                "region": region,
                "period": PERIOD_SECONDS,
                "metrics": [line.line() for line in self.lines],
            },
        }


def grid(widgets: list[MetricWidget]) -> list[MetricWidget]:
    """Place widgets left to right, WIDGET_WIDTH columns each, wrapping at GRID_COLUMNS."""
    per_row = GRID_COLUMNS // WIDGET_WIDTH
    return [
        replace(w, x=(i % per_row) * WIDGET_WIDTH, y=(i // per_row) * WIDGET_HEIGHT, width=WIDGET_WIDTH, height=WIDGET_HEIGHT)
        for i, w in enumerate(widgets)
    ]


@dataclass(frozen=True)
class DashboardVariable:
    """A dashboard variable (AWS "Dashboard body structure and syntax", `variables`): a `property`
    variable replaces the value of every `dimension` of that name in the body's metric lines with the
    value chosen in the dashboard's toolbar. Its choices come from `search` (a metric search expression,
    `populateFrom` that dimension), so they are whatever publishes now: a service attached later, from
    any stack, is listed without changing the dashboard. `defaultValue` `__FIRST` picks the first."""

    id: str
    label: str
    dimension: str
    search: pulumi.Input[str]

    def body(self) -> dict[str, Any]:
        return {
            "type": "property",
            "property": self.dimension,
            "inputType": "select",
            "id": self.id,
            "label": self.label,
            "search": self.search,
            "populateFrom": self.dimension,
            "defaultValue": "__FIRST",
            "visible": True,
        }


def dashboard_body(
    widgets: list[MetricWidget], region: pulumi.Input[str], variables: tuple[DashboardVariable, ...] = ()
) -> pulumi.Output[str]:
    body: dict[str, Any] = {"widgets": [w.body(region) for w in widgets]}
    if variables:
        body["variables"] = [v.body() for v in variables]
    return pulumi.Output.json_dumps(body)


@dataclass(frozen=True)
class ServiceMetrics:
    """Where a service's metrics live: the values AWS publishes them under."""

    alb_arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    region: pulumi.Input[str]
    access_log_namespace: Optional[str] = None  # nginx ingress only
    web_acl_metric_name: Optional[pulumi.Input[str]] = None  # the environment's WAF, if any


def waf_widget(web_acl_metric_name: pulumi.Input[str], region: pulumi.Input[str]) -> MetricWidget:
    dims: Dims = {"WebACL": web_acl_metric_name, "Region": region, "Rule": "ALL"}
    return MetricWidget("WAF allowed / blocked", (
        Metric("AWS/WAFV2", "AllowedRequests", dims, label="allowed"),
        Metric("AWS/WAFV2", "BlockedRequests", dims, label="blocked"),
    ))


def service_widgets(m: ServiceMetrics) -> list[MetricWidget]:
    """The service dashboard, in reading order (requests first, deployments last)."""
    alb: Dims = {"LoadBalancer": m.alb_arn_suffix, "TargetGroup": m.target_group_arn_suffix}
    ecs: Dims = {"ClusterName": m.cluster_name, "ServiceName": m.service_name}
    elb, ci = "AWS/ApplicationELB", "ECS/ContainerInsights"
    widgets = [
        MetricWidget("Requests", (Metric(elb, "RequestCount", alb, label="requests"),)),
        MetricWidget("Latency p50 / p99 (s)", (
            Metric(elb, "TargetResponseTime", alb, stat="p50", label="p50"),
            Metric(elb, "TargetResponseTime", alb, stat="p99", label="p99"),
        )),
        MetricWidget("Target 4xx / 5xx", (
            Metric(elb, "HTTPCode_Target_4XX_Count", alb, label="4xx"),
            Metric(elb, "HTTPCode_Target_5XX_Count", alb, label="5xx"),
        )),
    ]
    ns = m.access_log_namespace
    if ns is not None:
        widgets += [
            MetricWidget("429 / 403 at the proxy", (
                Metric(ns, REJECTIONS.metric_name, {}, stat="Sum", label="429", id="limited"),
                Metric(ns, REJECTIONS.metric_name, {}, stat="SampleCount", id="refused", visible=False),
                Expression("refused - limited", "403", "forbidden"),
            )),
            MetricWidget("Cache hit ratio (%)", (
                Metric(ns, CACHE_LOOKUPS.metric_name, {}, stat="Average", id="hitshare", visible=False),
                Expression("100 * hitshare", "hit ratio", "ratio"),
            )),
        ]
    if m.web_acl_metric_name is not None:
        widgets.append(waf_widget(m.web_acl_metric_name, m.region))
    widgets += [
        MetricWidget("Healthy / unhealthy targets", (
            Metric(elb, "HealthyHostCount", alb, stat="Minimum", label="healthy"),
            Metric(elb, "UnHealthyHostCount", alb, stat="Maximum", label="unhealthy"),
        )),
        MetricWidget("Task CPU / memory used", (
            Metric(ci, "CpuUtilized", ecs, stat="Average", label="CPU units"),
            Metric(ci, "MemoryUtilized", ecs, stat="Average", label="memory MiB"),
        )),
        # Container Insights publishes DeploymentCount per service: above 1 while a deployment rolls.
        MetricWidget("Deployments / tasks", (
            Metric(ci, "DeploymentCount", ecs, stat="Maximum", label="deployments"),
            Metric(ci, "RunningTaskCount", ecs, stat="Average", label="running tasks"),
        )),
    ]
    return grid(widgets)


def service_dashboard_body(m: ServiceMetrics) -> pulumi.Output[str]:
    """The service dashboard's body. The WAF widget appears when the environment has a web ACL: known
    here for an environment in this program; for one another stack exports, when its exported metric
    name turns out to be set (an environment without a WAF exports none)."""
    name = m.web_acl_metric_name
    if isinstance(name, pulumi.Output):
        return name.apply(lambda known: dashboard_body(service_widgets(replace(m, web_acl_metric_name=known)), m.region))
    return dashboard_body(service_widgets(m), m.region)


def environment_widgets(
    alb_arn_suffix: pulumi.Input[str],
    cluster_name: pulumi.Input[str],
    region: pulumi.Input[str],
    web_acl_metric_name: Optional[pulumi.Input[str]],
) -> list[MetricWidget]:
    """The environment's shared parts: the load balancer, WAF and cluster, summed over all services."""
    lb: Dims = {"LoadBalancer": alb_arn_suffix}
    cluster: Dims = {"ClusterName": cluster_name}
    elb, ci = "AWS/ApplicationELB", "ECS/ContainerInsights"
    widgets = [
        MetricWidget("Requests (all services)", (Metric(elb, "RequestCount", lb, label="requests"),)),
        MetricWidget("Latency p50 / p99 (s)", (
            Metric(elb, "TargetResponseTime", lb, stat="p50", label="p50"),
            Metric(elb, "TargetResponseTime", lb, stat="p99", label="p99"),
        )),
        MetricWidget("Load balancer 4xx / 5xx", (
            Metric(elb, "HTTPCode_ELB_4XX_Count", lb, label="ELB 4xx"),
            Metric(elb, "HTTPCode_ELB_5XX_Count", lb, label="ELB 5xx"),
        )),
    ]
    if web_acl_metric_name is not None:
        widgets.append(waf_widget(web_acl_metric_name, region))
    widgets += [
        MetricWidget("Cluster CPU / memory used", (
            Metric(ci, "CpuUtilized", cluster, stat="Average", label="CPU units"),
            Metric(ci, "MemoryUtilized", cluster, stat="Average", label="memory MiB"),
        )),
        MetricWidget("Services / tasks", (
            Metric(ci, "ServiceCount", cluster, stat="Maximum", label="services"),
            Metric(ci, "TaskCount", cluster, stat="Maximum", label="tasks"),
        )),
    ]
    return widgets


# --- the service selector (issue 23): one environment dashboard instead of one per service ---------
# A dashboard costs $3 a month; the environment's one shows any service attached to it, chosen in its
# toolbar. The service's widgets are `service_widgets` itself, with these placeholder dimension values,
# which the two variables replace with the chosen target group and ECS service (AWS publishes the load
# balancer's metrics per target group and Container Insights' per service name: two selectors).
SELECTED_TARGET_GROUP = "SELECTED_TARGET_GROUP"
SELECTED_SERVICE = "SELECTED_SERVICE"
SERVICE_TITLE_PREFIX = "Service: "


def service_selectors(alb_arn_suffix: pulumi.Input[str], cluster_name: pulumi.Input[str]) -> tuple[DashboardVariable, ...]:
    """The toolbar's choices: the target groups this load balancer publishes requests for, and the
    services this cluster publishes Container Insights for (exact matches on the environment's own)."""
    return (
        DashboardVariable(
            "targetGroup", "Service target group", "TargetGroup",
            pulumi.Output.format('{{AWS/ApplicationELB,LoadBalancer,TargetGroup}} MetricName="RequestCount" '
                                 'LoadBalancer="{0}"', alb_arn_suffix),
        ),
        DashboardVariable(
            "service", "ECS service", "ServiceName",
            pulumi.Output.format('{{ECS/ContainerInsights,ClusterName,ServiceName}} MetricName="CpuUtilized" '
                                 'ClusterName="{0}"', cluster_name),
        ),
    )


def sidecar_search(metric: AccessLogMetric, stat: str = "Sum") -> str:
    """Every service's sidecar metric `metric` (one of `ACCESS_LOG_METRICS`, so one a filter publishes)
    as `stat`, one time series per service (its namespace names it)."""
    return f"SEARCH('Namespace:\"{NAMESPACE_PREFIX}\" MetricName=\"{metric.metric_name}\"', '{stat}', {PERIOD_SECONDS})"


def sidecar_widgets() -> list[MetricWidget]:
    """The sidecars' own signals for every nginx-ingress service at once (each service's metrics are in
    its own namespace, which a dimension variable cannot switch). AWS documents metric math on an array
    of time series with a scalar or with one time series, not with another array, so a sidecar's 403s
    (SampleCount - Sum) are not worked out per search result: the widget shows each sidecar's 429s and
    429s + 403s, and the 403s of all sidecars together."""
    return [
        MetricWidget("429 / 403 at each sidecar", (
            Expression(sidecar_search(REJECTIONS, "Sum"), "429", "limited"),
            Expression(sidecar_search(REJECTIONS, "SampleCount"), "429 + 403", "refused"),
            Expression("SUM(refused) - SUM(limited)", "403, all sidecars", "forbidden"),
        )),
        MetricWidget("Cache hits / lookups at each sidecar", (
            Expression(sidecar_search(CACHE_LOOKUPS, "Sum"), "hits", "hits"),
            Expression(sidecar_search(CACHE_LOOKUPS, "SampleCount"), "lookups", "lookups"),
        )),
        MetricWidget("Cache hit ratio (%) at each sidecar", (
            Expression(sidecar_search(CACHE_LOOKUPS, "Average"), "hit share", "hitshare", visible=False),
            Expression("100 * hitshare", "hit ratio", "ratio"),
        )),
        MetricWidget("Upstream 5xx at each sidecar", (
            Expression(sidecar_search(UPSTREAM_5XX, "Sum"), UPSTREAM_5XX.metric_name, "upstream5xx"),
        )),
    ]


def environment_dashboard(
    alb_arn_suffix: pulumi.Input[str],
    cluster_name: pulumi.Input[str],
    region: pulumi.Input[str],
    web_acl_metric_name: Optional[pulumi.Input[str]],
) -> tuple[list[MetricWidget], tuple[DashboardVariable, ...]]:
    """The environment dashboard: its shared parts, then the selected service, then every sidecar."""
    selected = service_widgets(ServiceMetrics(
        alb_arn_suffix=alb_arn_suffix, target_group_arn_suffix=SELECTED_TARGET_GROUP, cluster_name=cluster_name,
        service_name=SELECTED_SERVICE, region=region,
    ))
    widgets = [
        *environment_widgets(alb_arn_suffix, cluster_name, region, web_acl_metric_name),
        *[replace(w, title=SERVICE_TITLE_PREFIX + w.title) for w in selected],
        *sidecar_widgets(),
    ]
    return grid(widgets), service_selectors(alb_arn_suffix, cluster_name)


def dashboard_name(component: str) -> str:
    """`<project>-<component>-<stack>`: PutDashboard overwrites a dashboard of the same name without a
    word, so two programs (or two stacks) in one account must never share one."""
    return physical_name(f"{project_namespace()}-{component}", 255)


def dashboard(
    resource_name: str,
    component: str,
    body: pulumi.Input[str],
    parent: pulumi.Resource,
) -> aws.cloudwatch.Dashboard:
    """The dashboard of `component` (its name from `dashboard_name`) with this body."""
    return aws.cloudwatch.Dashboard(
        resource_name,
        aws.cloudwatch.DashboardArgs(dashboard_name=dashboard_name(component), dashboard_body=body),
        opts=pulumi.ResourceOptions(parent=parent),
    )
