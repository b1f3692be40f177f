"""Details of safe deploys (issue 24) that a mutation review found unguarded: a rollback alarm listed
twice, how long `pulumi up` waits for each strategy, and that each target group's alarms (the primary's
and the alternate's twins, which roll a deployment back) fire on what their names and descriptions say."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from components_support import compose, minimal_args
from rampart.components.web_service import DeploymentSettings
from rampart.offline.mock_engine import RegisteredResource, run_program

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SERVICE = "aws:ecs/service:Service"
#: WebServiceArgs.steady_state_timeout_minutes's default: what `pulumi up` waits for the tasks alone.
STEADY_STATE_MINUTES = 20


def _plan(**deployment: Any) -> list[RegisteredResource]:
    case = minimal_args(deployment=DeploymentSettings(**deployment))
    return run_program(lambda: compose(case) and None)


def _named(resources: list[RegisteredResource], type_: str, name: str) -> RegisteredResource:
    found = [r for r in resources if r.type == type_ and r.name == name]
    assert len(found) == 1, f"{type_} {name}: {[r.name for r in resources if r.type == type_]}"
    return found[0]


def test_a_rollback_alarm_listed_twice_is_refused_naming_the_list() -> None:
    with pytest.raises(ValidationError, match=r"lists an alarm twice \(\['5xx-rate', '5xx-rate'\]\); list each once"):
        DeploymentSettings(strategy="blue_green", rollback_alarms=["5xx-rate", "5xx-rate"])
    # One past it: each alarm once is fine.
    DeploymentSettings(strategy="blue_green", rollback_alarms=["5xx-rate", "p99-latency"])


@pytest.mark.parametrize("deployment,shifting_minutes", [
    ({}, 0),  # rolling: the tasks alone
    ({"strategy": "blue_green", "bake_time_minutes": 12}, 0),
    ({"strategy": "canary", "bake_time_minutes": 10, "canary": {"percent": 5, "interval_minutes": 7}}, 7),
    # ECS waits a step's interval after each shift but the one that reaches 100% (API_LinearConfiguration):
    # 25, 50, 75, 100 waits three times; 30, 60, 90, 100 three times; 33.4, 66.8, 100 twice; 3.5% 28 times.
    ({"strategy": "linear", "bake_time_minutes": 10, "linear": {"step_percent": 25, "interval_minutes": 3}}, 3 * 3),
    ({"strategy": "linear", "bake_time_minutes": 10, "linear": {"step_percent": 30, "interval_minutes": 3}}, 3 * 3),
    ({"strategy": "linear", "bake_time_minutes": 10, "linear": {"step_percent": 33.4, "interval_minutes": 3}}, 2 * 3),
    ({"strategy": "linear", "bake_time_minutes": 10, "linear": {"step_percent": 3.5, "interval_minutes": 1}}, 28),
    ({"strategy": "linear", "bake_time_minutes": 10, "linear": {"step_percent": 100, "interval_minutes": 3}}, 0),
])
def test_pulumi_up_waits_for_each_strategys_traffic_shifts_and_bake(deployment: dict[str, Any],
                                                                   shifting_minutes: int) -> None:
    bake = deployment.get("bake_time_minutes", 0)
    service = _named(_plan(**deployment), SERVICE, "shop-service")
    expected = f"{STEADY_STATE_MINUTES + shifting_minutes + bake}m"
    assert service.custom_timeouts["create"] == expected and service.custom_timeouts["update"] == expected, (
        service.custom_timeouts)


@pytest.fixture(scope="module")
def blue_green() -> list[RegisteredResource]:
    return _plan(strategy="blue_green")


@pytest.mark.parametrize("tail", ["", "-alternate"])
def test_one_unhealthy_target_fires_the_unhealthy_targets_alarm(blue_green: list[RegisteredResource], tail: str) -> None:
    """Its description says "at least one target": more than 0, so 1 unhealthy target breaches."""
    alarm = _named(blue_green, ALARM, f"shop-alarm-unhealthy-targets{tail}").inputs
    assert (alarm["metricName"], alarm["statistic"]) == ("UnHealthyHostCount", "Maximum"), alarm
    assert (alarm["comparisonOperator"], alarm["threshold"]) == ("GreaterThanThreshold", 0), alarm


@pytest.mark.parametrize("tail", ["", "-alternate"])
def test_the_latency_alarm_reads_the_p99(blue_green: list[RegisteredResource], tail: str) -> None:
    alarm = _named(blue_green, ALARM, f"shop-alarm-p99-latency{tail}").inputs
    assert (alarm["metricName"], alarm["extendedStatistic"]) == ("TargetResponseTime", "p99"), alarm


@pytest.mark.parametrize("tail", ["", "-alternate"])
def test_the_5xx_rate_is_zero_not_missing_when_no_target_answered_5xx(blue_green: list[RegisteredResource],
                                                                      tail: str) -> None:
    """AWS publishes no HTTPCode_Target_5XX_Count datapoint for a minute without a 5xx: unfilled, the rate
    would be missing data (the alarm INSUFFICIENT_DATA) exactly when the release is healthy."""
    alarm = _named(blue_green, ALARM, f"shop-alarm-5xx-rate{tail}").inputs
    [rate] = [q for q in alarm["metricQueries"] if q.get("expression")]
    assert rate["expression"] == "100 * FILL(target5xx, 0) / requests" and rate["returnData"] is True, rate


def test_an_alternate_target_group_that_is_the_primary_is_refused() -> None:
    """ECS registers the new tasks in the alternate group while the old ones serve from the primary: one
    group for both is no blue/green (the port and protocol check alone passes it, being equal to itself)."""
    import dataclasses

    from rampart.offline import aws_checks

    resources = _plan(strategy="blue_green")
    service = _named(resources, SERVICE, "shop-service")
    lbs = [{**lb, "advancedConfiguration": {**lb["advancedConfiguration"], "alternateTargetGroupArn": lb["targetGroupArn"]}}
           for lb in service.inputs["loadBalancers"]]
    broken = [dataclasses.replace(r, inputs={**r.inputs, "loadBalancers": lbs}) if r is service else r for r in resources]
    found = aws_checks.refusals(broken)
    assert len(found) == 1 and "the alternate target group is the primary one" in found[0], found
    assert repr(str(lbs[0]["targetGroupArn"])) in found[0], "the refusal names the group"


def test_the_infrastructure_role_allows_what_ecs_does_to_shift_traffic() -> None:
    """The actions of AWS's AmazonECSInfrastructureRolePolicyForLoadBalancers that a deployment on listener
    rules uses (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonECSInfrastructureRolePolicyForLoadBalancers.html),
    each one: a missing Describe fails the deployment in AWS, not in the plan."""
    import json

    policy = json.loads(_named(_plan(strategy="blue_green"), "aws:iam/rolePolicy:RolePolicy",
                               "shop-ecs-infrastructure-policy").inputs["policy"])
    allowed = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert allowed == {f"elasticloadbalancing:{a}" for a in (
        "DescribeListeners", "DescribeRules", "DescribeTargetGroups", "DescribeTargetHealth",
        "RegisterTargets", "DeregisterTargets", "ModifyRule")}, sorted(allowed)
