"""The sidecar's access-log metrics (rampart/components/observability.py): one metric filter per
`ACCESS_LOG_METRICS` entry on the proxy's log group, and the two alarms on them watch exactly the
metric name and namespace a filter publishes (an alarm on a metric no filter writes never fires)."""

from __future__ import annotations

import pytest

from components_support import Plan, minimal_args, run_service
from test_component_nginx import nginx_args

from rampart.components.observability import (
    ACCESS_LOG_METRICS,
    CACHE_LOOKUPS,
    RATE_LIMITED,
    REJECTIONS,
    UPSTREAM_5XX,
    SELECTED_SERVICE,
    SELECTED_TARGET_GROUP,
    SERVICE_TITLE_PREFIX,
)
from rampart.components.web_service import AlarmSettings

FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


# What each sidecar metric means as each statistic: a count (value 1) as its Sum; a 0/1 flag as its Sum
# (the lines written 1), SampleCount (written 0 or 1) and Average (the share written 1).
STATS_READ = {
    REJECTIONS.metric_name: {"Sum", "SampleCount"},  # 429s; 429s + 403s
    CACHE_LOOKUPS.metric_name: {"Sum", "SampleCount", "Average"},  # hits; lookups; hit ratio
    UPSTREAM_5XX.metric_name: {"Sum"},
}


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


def test_filters_publish_what_the_table_says_and_the_429_alarm_sums_the_flag_a_429_sets(plan: Plan) -> None:
    """The filter behind the 429 alarm takes its value from the log flag that is 1 for a 429 (0 for a
    403), and the alarm reads its Sum: the same number of 429s as a metric of 429s alone."""
    filters = {f.inputs["metricTransformation"]["name"]: f for f in plan.of_type(FILTER)}
    for metric in ACCESS_LOG_METRICS:
        f = filters[metric.metric_name]
        assert (f.inputs["pattern"], f.inputs["metricTransformation"]["value"]) == (metric.pattern, metric.value), f.name
        assert "defaultValue" not in f.inputs["metricTransformation"], f"{f.name}: a default would add a sample per line"
    alarm = plan.named("shop-alarm-429-surge")
    watched = filters[alarm.inputs["metricName"]]
    assert watched.inputs["metricTransformation"]["value"] == f"$.{RATE_LIMITED.field}" and RATE_LIMITED.one == "429"
    assert alarm.inputs["statistic"] == "Sum" and alarm.inputs["threshold"] == AlarmSettings().rate_limited_per_minute


def test_thresholds_come_from_the_settings() -> None:
    tuned = run_service(nginx_args(alarms=AlarmSettings(rate_limited_per_minute=7, upstream_5xx_per_minute=3)))
    assert tuned.named("shop-alarm-429-surge").inputs["threshold"] == 7
    assert tuned.named("shop-alarm-upstream-5xx-surge").inputs["threshold"] == 3


def test_alb_mode_has_no_sidecar_log_so_no_filters_or_surge_alarms() -> None:
    alb = run_service(minimal_args())
    assert alb.of_type(FILTER) == []
    names = {a.name for a in alb.of_type(ALARM)}
    assert "shop-alarm-429-surge" not in names and "shop-alarm-upstream-5xx-surge" not in names


# --- dashboards ----------------------------------------------------------------------------------
import json  # noqa: E402
import re  # noqa: E402
from typing import Any  # noqa: E402

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
WIDGET_KEYS = {"type", "x", "y", "width", "height", "properties"}
# AWS's metric search expression, as the environment dashboard writes it for the sidecars' metrics
SEARCH = re.compile(
    r"""SEARCH\('Namespace:"(?P<namespace>[^"]+)" MetricName="(?P<name>[^"]+)"', '(?P<stat>Sum|SampleCount|Average)', 60\)"""
)


@pytest.fixture(scope="module")
def opted() -> Plan:
    """A service that asks for a dashboard of its own."""
    return run_service(nginx_args(dashboard=True))


def _body(plan: Plan, name: str) -> dict[str, Any]:
    return json.loads(plan.named(name).inputs["dashboardBody"])


def _check_structure(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """AWS's dashboard body structure: widgets on a 24-column grid, width 1-24, no two overlapping;
    metric widgets list metrics as [namespace, name, dim, value, ..., {options}] or [{expression}].
    Returns (widget title, metric line dimensions + options) for every metric."""
    assert set(body) <= {"widgets", "variables"} and "widgets" in body
    cells: dict[tuple[int, int], str] = {}
    found = []
    for w in body["widgets"]:
        assert set(w) == WIDGET_KEYS and w["type"] == "metric", w
        assert 1 <= w["width"] <= 24 and 0 <= w["x"] and w["x"] + w["width"] <= 24, w
        assert 1 <= w["height"] <= 1000 and w["y"] >= 0, w
        title = w["properties"]["title"]
        for cx in range(w["x"], w["x"] + w["width"]):
            for cy in range(w["y"], w["y"] + w["height"]):
                assert (cx, cy) not in cells, f"{title} overlaps {cells[(cx, cy)]}"
                cells[(cx, cy)] = title
        props = w["properties"]
        assert props["view"] == "timeSeries" and props["period"] % 60 == 0 and props["region"]
        ids = {line[-1]["id"] for line in props["metrics"] if "id" in line[-1]}
        for line in props["metrics"]:
            if len(line) == 1:
                assert {"expression", "label", "id"} <= set(line[0]) <= {"expression", "label", "id", "visible"}, line
                expression = line[0]["expression"]
                search = SEARCH.fullmatch(expression)
                if search:  # a metric search: what it finds is checked by the caller
                    found.append((title, {"namespace": search["namespace"], "name": search["name"],
                                          "stat": search["stat"], "search": True}))
                    continue
                assert "SEARCH" not in expression, f"{title}: a search the pattern above does not read: {expression}"
                used = set(re.findall(r"[a-z][A-Za-z0-9_]*", expression))
                assert used <= ids - {line[0]["id"]}, f"{title}: expression uses {used - ids}, not defined ids"
                continue
            *flat, options = line
            assert isinstance(options, dict) and len(flat) % 2 == 0, line
            found.append((title, {"namespace": flat[0], "name": flat[1], "stat": options["stat"],
                                  "dims": dict(zip(flat[2::2], flat[3::2]))}))
    return found


def test_service_dashboard_structure_and_dimensions(opted: Plan) -> None:
    plan = opted
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"]
    tg = plan.one("aws:lb/targetGroup:TargetGroup").outputs["arnSuffix"]
    cluster = plan.one("aws:ecs/cluster:Cluster").outputs["name"]
    service = plan.one("aws:ecs/service:Service").outputs["name"]
    acl = plan.one("aws:wafv2/webAcl:WebAcl").inputs["visibilityConfig"]["metricName"]
    namespace = next(iter(plan.of_type(FILTER))).inputs["metricTransformation"]["namespace"]
    published = {f.inputs["metricTransformation"]["name"] for f in plan.of_type(FILTER)}
    expected_dims = {
        "AWS/ApplicationELB": {"LoadBalancer": alb, "TargetGroup": tg},
        "ECS/ContainerInsights": {"ClusterName": cluster, "ServiceName": service},
        "AWS/WAFV2": {"WebACL": acl, "Region": "us-east-1", "Rule": "ALL"},
        namespace: {},
    }
    metrics = _check_structure(_body(plan, "shop-dashboard"))
    read: dict[str, set[str]] = {}
    for title, m in metrics:
        assert m["dims"] == expected_dims[m["namespace"]], f"{title}: {m}"
        if m["namespace"] == namespace:
            assert m["name"] in published, f"{title}: {m['name']} is published by no metric filter"
            read.setdefault(m["name"], set()).add(m["stat"])
    assert read == {REJECTIONS.metric_name: {"Sum", "SampleCount"}, CACHE_LOOKUPS.metric_name: {"Average"}}, read
    titles = {t for t, _ in metrics}
    assert {"Requests", "Latency p50 / p99 (s)", "429 / 403 at the proxy", "Cache hit ratio (%)",
            "WAF allowed / blocked", "Healthy / unhealthy targets", "Task CPU / memory used",
            "Deployments / tasks", "Target 4xx / 5xx"} <= titles


def _environment_body(plan: Plan) -> dict[str, Any]:
    environment = plan.one("rampart:environment:Environment")
    (board,) = [d for d in plan.of_type(DASHBOARD) if d.parent_urn == environment.urn]
    return json.loads(board.inputs["dashboardBody"])


def test_environment_dashboard_structure_and_dimensions(plan: Plan) -> None:
    """Every widget of the environment dashboard reads a metric AWS or the sidecars' filters publish:
    the shared parts under the environment's own dimensions, the selected service's under the
    placeholder its toolbar variable replaces, the sidecars' by a search for a filter's metric."""
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"]
    cluster = plan.one("aws:ecs/cluster:Cluster").outputs["name"]
    acl = plan.one("aws:wafv2/webAcl:WebAcl").inputs["visibilityConfig"]["metricName"]
    shared = {
        "AWS/ApplicationELB": {"LoadBalancer": alb},
        "ECS/ContainerInsights": {"ClusterName": cluster},
        "AWS/WAFV2": {"WebACL": acl, "Region": "us-east-1", "Rule": "ALL"},
    }
    selected = {
        "AWS/ApplicationELB": {"LoadBalancer": alb, "TargetGroup": SELECTED_TARGET_GROUP},
        "ECS/ContainerInsights": {"ClusterName": cluster, "ServiceName": SELECTED_SERVICE},
    }
    published = {(f.inputs["metricTransformation"]["namespace"], f.inputs["metricTransformation"]["name"])
                 for f in plan.of_type(FILTER)}
    searched: dict[str, set[str]] = {}
    for title, m in _check_structure(_environment_body(plan)):
        if m.get("search"):
            searched.setdefault(m["name"], set()).add(m["stat"])
            assert any(ns.startswith(m["namespace"] + "/") and name == m["name"] for ns, name in published), (
                f"{title}: searches {m['namespace']} {m['name']}, which no metric filter publishes")
        elif title.startswith(SERVICE_TITLE_PREFIX):
            assert m["dims"] == selected[m["namespace"]], f"{title}: {m}"
        else:
            assert m["dims"] == shared[m["namespace"]], f"{title}: {m}"
    assert set(searched) == {m.metric_name for m in ACCESS_LOG_METRICS}, "every sidecar metric is on the dashboard"
    assert searched == STATS_READ, "each sidecar metric is read as the statistics that mean something for it"


def test_environment_dashboard_selects_any_service_of_its_own_load_balancer_and_cluster(plan: Plan) -> None:
    """The toolbar's two selectors replace exactly the placeholders the service widgets carry, and list
    the target groups of this environment's load balancer and the services of its cluster."""
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"]
    cluster = plan.one("aws:ecs/cluster:Cluster").outputs["name"]
    body = _environment_body(plan)
    variables = {v["property"]: v for v in body["variables"]}
    assert set(variables) == {"TargetGroup", "ServiceName"}
    for v in variables.values():
        assert v["type"] == "property" and v["inputType"] == "select" and v["populateFrom"] == v["property"]
        assert v["defaultValue"] == "__FIRST" and v["visible"] is True and v["label"]
    assert variables["TargetGroup"]["search"] == (
        '{AWS/ApplicationELB,LoadBalancer,TargetGroup} MetricName="RequestCount" ' f'LoadBalancer="{alb}"')
    assert variables["ServiceName"]["search"] == (
        '{ECS/ContainerInsights,ClusterName,ServiceName} MetricName="CpuUtilized" ' f'ClusterName="{cluster}"')
    placeholders = {value for _, m in _check_structure(body) for value in m.get("dims", {}).values()
                    if value in (SELECTED_TARGET_GROUP, SELECTED_SERVICE)}
    assert placeholders == {SELECTED_TARGET_GROUP, SELECTED_SERVICE}


def test_a_service_has_no_dashboard_of_its_own_unless_it_asks(plan: Plan, opted: Plan) -> None:
    service = plan.one("rampart:web_service:WebService").urn
    assert [d.name for d in plan.of_type(DASHBOARD) if d.parent_urn == service] == []
    assert [d.name for d in opted.of_type(DASHBOARD) if d.parent_urn == opted.one("rampart:web_service:WebService").urn] \
        == ["shop-dashboard"]


def test_alb_mode_dashboard_has_no_proxy_widgets() -> None:
    alb_plan = run_service(minimal_args(dashboard=True))
    titles = {w["properties"]["title"] for w in _body(alb_plan, "shop-dashboard")["widgets"]}
    assert "Requests" in titles and "Cache hit ratio (%)" not in titles and "429 / 403 at the proxy" not in titles


def test_dashboard_names_differ_when_environment_and_service_share_a_name(opted: Plan) -> None:
    names = [d.inputs["dashboardName"] for d in opted.of_type(DASHBOARD)]
    assert len(names) == 2 and len(set(names)) == 2, names
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,255}", n) for n in names), names
