"""Each alarm watches a metric AWS really publishes: its dimensions are the values that the resource
behind the metric defines (the WAF ACL's visibility-config metric name, the ALB's and target group's
ARN suffixes, the cluster's and service's names), never a name the mock engine merely echoes back.

The mock returns a resource's logical name as its `name`, which is not what AWS does for the web
ACL (the provider randomises an unset name), so these tests compare with the defining input.
"""

from __future__ import annotations

from typing import Any

import pytest

from components_support import Plan, minimal_args, run_service

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_service(minimal_args())


def _alb_suffixes(plan: Plan) -> tuple[Any, Any]:
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    tg = plan.one("aws:lb/targetGroup:TargetGroup")
    return alb.outputs["arnSuffix"], tg.outputs["arnSuffix"]


SERVICE_ALARMS = ("5xx-rate", "unhealthy-targets", "no-healthy-targets", "p99-latency", "cpu", "memory")
ENVIRONMENT_ALARMS = ("alb-5xx", "waf-blocked")


def test_every_alarm_is_covered_here(plan: Plan) -> None:
    """The service alarms on its own target group and tasks; the environment on what it shares."""
    owners = {
        "rampart:web_service:WebService": SERVICE_ALARMS,
        "rampart:environment:Environment": ENVIRONMENT_ALARMS,
    }
    assert sorted(a.name for a in plan.of_type(ALARM)) == sorted(
        f"shop-alarm-{s}" for s in (*SERVICE_ALARMS, *ENVIRONMENT_ALARMS)
    )
    for token, suffixes in owners.items():
        owner = plan.one(token)
        for suffix in suffixes:
            alarm = plan.named(f"shop-alarm-{suffix}")
            assert alarm.parent_urn == owner.urn, f"{alarm.name} is not the {token.rsplit(':', 1)[-1]}'s"


def test_waf_alarm_uses_the_acls_metric_name(plan: Plan) -> None:
    acl = plan.one("aws:wafv2/webAcl:WebAcl")
    alarm = plan.named("shop-alarm-waf-blocked")
    dims = alarm.inputs["dimensions"]
    assert dims["WebACL"] == acl.inputs["visibilityConfig"]["metricName"], (
        f"{alarm.name}: WebACL dimension {dims['WebACL']!r} is not the ACL's metric name"
    )
    assert dims["Region"] == "us-east-1" and dims["Rule"] == "ALL", dims
    assert alarm.inputs["namespace"] == "AWS/WAFV2" and alarm.inputs["metricName"] == "BlockedRequests"


def test_5xx_rate_alarm_queries_the_services_target_group(plan: Plan) -> None:
    alb_suffix, tg_suffix = _alb_suffixes(plan)
    alarm = plan.named("shop-alarm-5xx-rate")
    metrics = [q["metric"] for q in alarm.inputs["metricQueries"] if "metric" in q]
    assert {m["metricName"] for m in metrics} == {"HTTPCode_Target_5XX_Count", "RequestCount"}
    for metric in metrics:
        assert metric["namespace"] == "AWS/ApplicationELB"
        assert metric["dimensions"] == {"LoadBalancer": alb_suffix, "TargetGroup": tg_suffix}, (
            f"{alarm.name}: {metric['dimensions']}"
        )


def test_load_balancer_5xx_alarm_is_the_environments(plan: Plan) -> None:
    """5xx the ALB answers itself are published per load balancer only (no TargetGroup dimension)."""
    alb_suffix, _ = _alb_suffixes(plan)
    alarm = plan.named("shop-alarm-alb-5xx")
    assert alarm.inputs["namespace"] == "AWS/ApplicationELB"
    assert alarm.inputs["metricName"] == "HTTPCode_ELB_5XX_Count"
    assert alarm.inputs["dimensions"] == {"LoadBalancer": alb_suffix}, f"{alarm.name}: {alarm.inputs['dimensions']}"


@pytest.mark.parametrize("alarm_name", ["shop-alarm-unhealthy-targets", "shop-alarm-no-healthy-targets", "shop-alarm-p99-latency"])
def test_target_alarms_use_the_alb_and_target_group_suffixes(plan: Plan, alarm_name: str) -> None:
    alb_suffix, tg_suffix = _alb_suffixes(plan)
    alarm = plan.named(alarm_name)
    assert alarm.inputs["namespace"] == "AWS/ApplicationELB"
    assert alarm.inputs["dimensions"] == {"LoadBalancer": alb_suffix, "TargetGroup": tg_suffix}, (
        f"{alarm.name}: {alarm.inputs['dimensions']}"
    )


def test_no_healthy_targets_alarm_fires_when_the_metric_stops(plan: Plan) -> None:
    alarm = plan.named("shop-alarm-no-healthy-targets")
    assert alarm.inputs["metricName"] == "HealthyHostCount"
    assert alarm.inputs["statistic"] == "Minimum"
    assert alarm.inputs["comparisonOperator"] == "LessThanThreshold" and alarm.inputs["threshold"] == 1
    # No registered target publishes no datapoint: that silence is the outage.
    assert alarm.inputs["treatMissingData"] == "breaching", alarm.inputs["treatMissingData"]


@pytest.mark.parametrize("alarm_name", ["shop-alarm-cpu", "shop-alarm-memory"])
def test_service_alarms_use_the_cluster_and_service_names(plan: Plan, alarm_name: str) -> None:
    cluster = plan.one("aws:ecs/cluster:Cluster")
    service = plan.one("aws:ecs/service:Service")
    alarm = plan.named(alarm_name)
    assert alarm.inputs["namespace"] == "AWS/ECS"
    assert alarm.inputs["dimensions"] == {
        "ClusterName": cluster.outputs["name"],
        "ServiceName": service.outputs["name"],
    }, f"{alarm.name}: {alarm.inputs['dimensions']}"


def test_5xx_rate_alarm_says_what_it_counts(plan: Plan) -> None:
    """It counts the targets' 5xx only (AWS publishes the load balancer's own 5xx per load balancer, which
    the environment alarms on): its description and its setting's must not promise the ALB's too."""
    from rampart.components.web_service import AlarmSettings

    alarm = plan.named("shop-alarm-5xx-rate")
    counted = {q["metric"]["metricName"] for q in alarm.inputs["metricQueries"] if "metric" in q} - {"RequestCount"}
    assert counted == {"HTTPCode_Target_5XX_Count"}, counted
    described = (alarm.inputs["alarmDescription"], AlarmSettings.model_fields["http_5xx_rate_percent"].description)
    for text in described:
        assert "target" in text.lower() and "ALB +" not in text, text
