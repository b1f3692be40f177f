"""The fixed monthly cost arithmetic (rampart.cost, which benchmarks/cost/cost.py prints) on small
hand-made plans.

Expected figures are written as the bill's arithmetic (count x price x 730 h) over the package's
price table (rampart/cost/prices.json), so the table stays the one place prices live. Until the
table moved into the package these tests read the script's own `PRICES`; they now price at
eu-west-1 explicitly, as the plans they build record no region.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("rampart_cost_benchmark", ROOT / "benchmarks" / "cost" / "cost.py")
assert _spec and _spec.loader
cost = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = cost
_spec.loader.exec_module(cost)

from rampart.cost.table import load_table  # noqa: E402  (after the script, which puts the checkout on the path)

PRICES = load_table().for_region("eu-west-1")
P = PRICES.prices
H = PRICES.hours_per_month
SVC = "rampart:web_service:WebService"


def res(type_: str, name: str, parent: str | None = None, **inputs: Any) -> dict[str, Any]:
    return {"urn": f"urn:pulumi:t::p::{type_}::{name}", "type": type_, "name": name, "parent": parent, "inputs": inputs}


def subnets(n: int) -> list[str]:
    return [f"subnet-{i}" for i in range(n)]


def fixed(plan: list[dict[str, Any]]) -> float:
    return float(cost.total(cost.fixed_lines(plan, PRICES)))


def test_the_script_prices_with_the_package_table_not_a_copy() -> None:
    source = (ROOT / "benchmarks" / "cost" / "cost.py").read_text()
    assert "PRICES" not in source and "0.048" not in source, "the benchmark keeps no price table of its own"
    assert cost.fixed_lines.__module__ == "rampart.cost.engine"


def test_empty_plan_and_free_resources_cost_nothing() -> None:
    assert fixed([]) == 0
    plan = [res("aws:ec2/vpc:Vpc", "vpc"), res("aws:route53/record:Record", "dns"),
            res("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", vpcEndpointType="Gateway", routeTableIds=["rt-1"]),
            res("aws:ecs/cluster:Cluster", "cluster"), res("aws:s3/bucket:Bucket", "logs"),
            res("aws:cloudwatch/logGroup:LogGroup", "logs")]
    assert fixed(plan) == 0


def test_zero_nat_gateways() -> None:
    plan = [res("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", vpcEndpointType="Gateway")]
    assert not [line for line in cost.fixed_lines(plan, PRICES) if "NAT" in line.item or "IPv4" in line.item]


@pytest.mark.parametrize("azs", [1, 2, 3])
def test_one_nat_gateway_and_address_per_az(azs: int) -> None:
    plan = [r for i in range(azs) for r in (res("aws:ec2/eip:Eip", f"nat-{i}-eip", domain="vpc"),
                                            res("aws:ec2/natGateway:NatGateway", f"nat-{i}", subnetId=f"subnet-{i}"))]
    assert fixed(plan) == pytest.approx(azs * (P["natGatewayHour"] + P["publicIpv4Hour"]) * H)


@pytest.mark.parametrize(("endpoints", "azs"), [(1, 1), (4, 2), (4, 3), (5, 3)])
def test_interface_endpoints_are_billed_per_az(endpoints: int, azs: int) -> None:
    plan = [res("aws:ec2/vpcEndpoint:VpcEndpoint", f"ep-{i}", vpcEndpointType="Interface", subnetIds=subnets(azs))
            for i in range(endpoints)]
    plan.append(res("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", vpcEndpointType="Gateway"))
    assert fixed(plan) == pytest.approx(endpoints * azs * P["interfaceEndpointAzHour"] * H)


def test_internet_facing_alb_pays_an_address_per_az_internal_does_not() -> None:
    public = res("aws:lb/loadBalancer:LoadBalancer", "alb", loadBalancerType="application", internal=False,
                 subnets=subnets(3))
    internal = res("aws:lb/loadBalancer:LoadBalancer", "int", loadBalancerType="application", internal=True,
                   subnets=subnets(3))
    nlb = res("aws:lb/loadBalancer:LoadBalancer", "nlb", loadBalancerType="network", subnets=subnets(2))
    assert fixed([public]) == pytest.approx((P["albHour"] + 3 * P["publicIpv4Hour"]) * H)
    assert fixed([internal]) == pytest.approx(P["albHour"] * H)
    assert fixed([nlb]) == 0, "an NLB is not priced by this table; it must not be priced as an ALB"


def test_web_acl_rules_and_paid_managed_groups() -> None:
    def managed(name: str) -> dict[str, Any]:
        return {"name": name, "statement": {"managedRuleGroupStatement": {"vendorName": "AWS", "name": name}}}

    acl = res("aws:wafv2/webAcl:WebAcl", "acl", rules=[
        {"name": "rate", "statement": {"rateBasedStatement": {"limit": 1000}}},
        managed("AWSManagedRulesCommonRuleSet"), managed("AWSManagedRulesBotControlRuleSet")])
    assert fixed([acl]) == pytest.approx(P["webAclMonth"] + 3 * P["wafRuleMonth"] + P["wafPaidManagedGroupMonth"])
    assert fixed([res("aws:wafv2/webAcl:WebAcl", "empty")]) == pytest.approx(P["webAclMonth"])


def test_alarms_count_each_metric_of_metric_math_and_high_resolution() -> None:
    simple = res("aws:cloudwatch/metricAlarm:MetricAlarm", "cpu", metricName="CPUUtilization", period=60)
    math = res("aws:cloudwatch/metricAlarm:MetricAlarm", "rate", metricQueries=[
        {"id": "a", "metric": {"metricName": "A", "period": 60}}, {"id": "b", "metric": {"metricName": "B", "period": 60}},
        {"id": "c", "metric": {"metricName": "C", "period": 60}}, {"id": "e", "expression": "(a+b)/c"}])
    fast = res("aws:cloudwatch/metricAlarm:MetricAlarm", "fast", metricName="X", period=10)
    assert fixed([simple]) == pytest.approx(P["alarmMetricMonth"])
    assert fixed([math]) == pytest.approx(3 * P["alarmMetricMonth"])
    assert fixed([fast]) == pytest.approx(P["highResAlarmMetricMonth"])


def test_keys_secrets_and_zones() -> None:
    plan = [res("aws:kms/key:Key", "k1"), res("aws:kms/key:Key", "k2"), res("aws:kms/alias:Alias", "a"),
            res("aws:secretsmanager/secret:Secret", "s"), res("aws:secretsmanager/secretVersion:SecretVersion", "v"),
            res("aws:route53/zone:Zone", "z")]
    assert fixed(plan) == pytest.approx(2 * P["kmsKeyMonth"] + P["secretMonth"] + P["hostedZoneMonth"])


def test_fargate_tasks_are_variable_and_priced_apart() -> None:
    svc_urn = f"urn:pulumi:t::p::{SVC}::api"
    plan = [res(SVC, "api"),
            res("aws:ecs/taskDefinition:TaskDefinition", "api-task", parent=svc_urn, family="api", cpu="512", memory="1024"),
            res("aws:ecs/service:Service", "api-service", parent=svc_urn, desiredCount=2,
                taskDefinition="arn:aws:ecs:eu-west-1:1:task-definition/api:3")]
    assert fixed(plan) == 0
    tasks = cost.task_lines(plan, PRICES)
    assert cost.total(tasks) == pytest.approx(2 * (0.5 * P["fargateVcpuHour"] + 1 * P["fargateGbHour"]) * H)
    plan[2]["inputs"]["desiredCount"] = 0
    assert cost.task_lines(plan, PRICES) == []


def test_cost_is_attributed_to_the_nearest_web_service() -> None:
    env = "urn:pulumi:t::p::rampart:environment:Environment::env"
    api = f"urn:pulumi:t::p::{SVC}::api"
    plan = [res("rampart:environment:Environment", "env"), res(SVC, "api"),
            res("rampart:sidecar:ProxySidecar", "api-proxy", parent=api),
            res("aws:kms/key:Key", "env-key", parent=env),
            res("aws:secretsmanager/secret:Secret", "tls", parent="urn:pulumi:t::p::rampart:sidecar:ProxySidecar::api-proxy")]
    owners = cost.by_owner(cost.fixed_lines(plan, PRICES))
    assert owners == pytest.approx({cost.SHARED: P["kmsKeyMonth"], api: P["secretMonth"]})


def test_cli_prints_each_plan_and_what_each_step_adds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    env = [res("aws:ec2/natGateway:NatGateway", "nat"), res("aws:ec2/eip:Eip", "eip")]
    one = env + [res("aws:secretsmanager/secret:Secret", "svc-1")]
    two = one + [res("aws:secretsmanager/secret:Secret", "svc-2"), res("aws:kms/key:Key", "svc-2-key")]
    paths = []
    for name, plan in (("env.json", env), ("one.json", one), ("two.json", two)):
        (tmp_path / name).write_text(json.dumps(plan))
        paths.append(str(tmp_path / name))
    assert cost.main([*paths, "--region", "eu-west-1"]) == 0
    out = capsys.readouterr().out
    base = (P["natGatewayHour"] + P["publicIpv4Hour"]) * H
    assert "eu-west-1" in out and PRICES.as_of in out
    assert f"| env.json | ${base:,.2f} | |" in out
    assert f"| one.json | ${base + P['secretMonth']:,.2f} | +${P['secretMonth']:,.2f} (Secrets Manager secret +$0.40) |" in out
    assert (f"| two.json | ${base + 2 * P['secretMonth'] + P['kmsKeyMonth']:,.2f} | "
            f"+${P['secretMonth'] + P['kmsKeyMonth']:,.2f} (KMS customer managed key +$1.00; Secrets Manager secret +$0.40) |") in out


def test_a_file_that_is_not_a_plan_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"resources": []}')
    with pytest.raises(SystemExit, match="not a plan"):
        cost.main([str(tmp_path / "x.json")])


def test_config_rules_are_estimated_apart_from_the_fixed_total() -> None:
    rule = res("aws:cfg/rule:Rule", "retention", source={"owner": "AWS", "sourceIdentifier": "CW_LOGGROUP_RETENTION_PERIOD_CHECK"})
    groups = [res("aws:cloudwatch/logGroup:LogGroup", f"g{i}") for i in range(3)]
    plan = [rule, *groups]
    assert fixed(plan) == 0, "a Config rule has no monthly fee"
    (line,) = cost.config_lines(plan, PRICES)
    assert line.quantity == 3 * cost.CONFIG_EVALUATIONS_PER_RESOURCE_MONTH  # three log groups, judged daily
    assert line.monthly == pytest.approx(line.quantity * P["configRuleEvaluation"])
    # A recorder in the plan adds the configuration items it records (every AWS resource but the rules).
    recorded = [*plan, res("aws:cfg/recorder:Recorder", "recorder")]
    items = [x for x in cost.config_lines(recorded, PRICES) if "configuration items" in x.item]
    assert items and items[0].quantity == 4 * cost.CONFIG_CHANGES_PER_RESOURCE_MONTH
    assert cost.config_lines(groups, PRICES) == [], "no rule, no Config estimate"


def test_dashboards_and_log_metric_filters() -> None:
    """Every dashboard at the list price (the account's free three are not assumed: other dashboards
    may use them), and each metric filter's custom metric as if it published every hour."""
    plan = [res("aws:cloudwatch/dashboard:Dashboard", "d1"), res("aws:cloudwatch/dashboard:Dashboard", "d2"),
            res("aws:cloudwatch/logMetricFilter:LogMetricFilter", "f1")]
    assert fixed(plan) == pytest.approx(2 * P["dashboardMonth"] + P["customMetricMonth"])


def test_the_region_comes_from_the_plan_and_is_never_guessed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    def plan_file(name: str, region: str | None) -> str:
        nat = res("aws:ec2/natGateway:NatGateway", "nat")
        if region:
            nat["cost"] = {"monthly": 0, "owner": "environment", "currency": "USD", "region": region, "asOf": "x"}
        (tmp_path / name).write_text(json.dumps([nat]))
        return str(tmp_path / name)

    us = load_table().for_region("us-east-1")
    assert cost.main([plan_file("us.json", "us-east-1")]) == 0
    assert f"| **fixed total** | | | **${us.price('natGatewayHour') * H:,.2f}** |" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no region recorded .* give --region REGION"):
        cost.main([plan_file("none.json", None)])
    with pytest.raises(SystemExit, match="no prices for region 'eu-north-1'"):
        cost.main([plan_file("north.json", "eu-north-1")])
    with pytest.raises(SystemExit, match="--region eu-west-1: the plans were priced for us-east-1"):
        cost.main([plan_file("us.json", "us-east-1"), "--region", "eu-west-1"])
