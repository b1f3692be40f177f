"""The sidecar's access-log metrics (rampart/components/observability.py): one metric filter per
`ACCESS_LOG_METRICS` entry on the proxy's log group, and the two alarms on them watch exactly the
metric name and namespace a filter publishes (an alarm on a metric no filter writes never fires)."""

from __future__ import annotations

import pytest

from components_support import Plan, minimal_args, run_service
from test_component_nginx import nginx_args

from rampart.components.observability import ACCESS_LOG_METRICS
from rampart.components.web_service import AlarmSettings

FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_service(nginx_args())


def test_one_filter_per_metric_on_the_proxy_log_group(plan: Plan) -> None:
    proxy_logs = plan.named("shop-proxy-logs")
    filters = plan.of_type(FILTER)
    assert sorted(f.inputs["metricTransformation"]["name"] for f in filters) == sorted(
        m.metric_name for m in ACCESS_LOG_METRICS
    )
    service = plan.one("rampart:web_service:WebService")
    for f in filters:
        assert f.inputs["logGroupName"] == proxy_logs.outputs["name"], f"{f.name} is not on the proxy's log group"
        assert f.parent_urn == service.urn
    namespaces = {f.inputs["metricTransformation"]["namespace"] for f in filters}
    assert len(namespaces) == 1 and namespaces.pop().startswith("Rampart/Proxy/shop")


@pytest.mark.parametrize("suffix", ["429-surge", "upstream-5xx-surge"])
def test_surge_alarms_watch_a_metric_a_filter_publishes_and_notify_the_topic(plan: Plan, suffix: str) -> None:
    alarm = plan.named(f"shop-alarm-{suffix}")
    published = {
        (f.inputs["metricTransformation"]["namespace"], f.inputs["metricTransformation"]["name"])
        for f in plan.of_type(FILTER)
    }
    assert (alarm.inputs["namespace"], alarm.inputs["metricName"]) in published, (
        f"{alarm.name} watches {alarm.inputs['namespace']}/{alarm.inputs['metricName']}, which no filter publishes"
    )
    assert "dimensions" not in alarm.inputs or not alarm.inputs["dimensions"], "filters publish no dimensions"
    topic = plan.one("aws:sns/topic:Topic")
    assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]]
    assert alarm.inputs["okActions"] == [topic.outputs["arn"]]


def test_thresholds_come_from_the_settings() -> None:
    tuned = run_service(nginx_args(alarms=AlarmSettings(rate_limited_per_minute=7, upstream_5xx_per_minute=3)))
    assert tuned.named("shop-alarm-429-surge").inputs["threshold"] == 7
    assert tuned.named("shop-alarm-upstream-5xx-surge").inputs["threshold"] == 3


def test_alb_mode_has_no_sidecar_log_so_no_filters_or_surge_alarms() -> None:
    alb = run_service(minimal_args())
    assert alb.of_type(FILTER) == []
    names = {a.name for a in alb.of_type(ALARM)}
    assert "shop-alarm-429-surge" not in names and "shop-alarm-upstream-5xx-surge" not in names
