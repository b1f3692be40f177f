"""Every boundary pinned: each test here fails under one single change to the code it guards.

The mutations they were written against (issue 13): rate-limit bounds compared with `<` instead
of `<=`; a rule spanning 80-443 from the internet taken for a web port; a service without
desiredCount (AWS's default is 1) taken as compliant; a waiver expiring today taken as expired (or
one that expired yesterday as active), in the pack and in the evidence report; booleans that
arrive as the strings "true"/"false".
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from policy_fixtures import find, fired, run_all
from rampart_soc2.model import DEFAULT_THRESHOLDS, context_from_config, evaluate_resource, make_resource
from rampart_soc2.registry import POLICIES

Stack = list[dict[str, Any]]

RATE = "aws-wafv2-webacl-require-rate-based-rule"
LOW, HIGH = DEFAULT_THRESHOLDS["rateLimitMin"], DEFAULT_THRESHOLDS["rateLimitMax"]


@pytest.mark.parametrize("limit,ok", [(LOW - 1, False), (LOW, True), (LOW + 1, True),
                                      (HIGH - 1, True), (HIGH, True), (HIGH + 1, False)])
def test_rate_limit_bounds_are_inclusive(stack: Stack, limit: int, ok: bool) -> None:
    find(stack, "waf")["props"]["rules"][0]["statement"]["rateBasedStatement"]["limit"] = limit
    result = run_all(stack)[(RATE, "waf")]
    assert result.kind == ("compliant" if ok else "violation"), f"limit {limit}: {result}"


@pytest.mark.parametrize("bounds,limit,ok", [((500, 500), 500, True), ((500, 500), 501, False), ((500, 500), 499, False)])
def test_configured_rate_limit_bounds_are_inclusive(stack: Stack, bounds: tuple[int, int], limit: int, ok: bool) -> None:
    find(stack, "waf")["props"]["rules"][0]["statement"]["rateBasedStatement"]["limit"] = limit
    cfg = {RATE: {"rateLimitMin": bounds[0], "rateLimitMax": bounds[1]}}
    assert run_all(stack, cfg)[(RATE, "waf")].kind == ("compliant" if ok else "violation")


SG = "aws-ec2-securitygroup-disallow-public-ingress"


@pytest.mark.parametrize("low,high,ok", [(443, 443, True), (80, 80, True), (80, 443, False), (443, 444, False),
                                         (79, 80, False), (0, 65535, False)])
def test_only_exact_web_ports_are_web_ports(stack: Stack, low: int, high: int, ok: bool) -> None:
    """On the load balancer's own group, 80 and 443 alone may be open to the internet; a range that
    spans them (80-443 opens 81-442 too) is not a web port."""
    entry = find(stack, "alb-sg")["props"]["ingress"][1]
    entry["fromPort"], entry["toPort"] = low, high
    assert run_all(stack)[(SG, "alb-sg")].kind == ("compliant" if ok else "violation"), f"{low}-{high}"


def test_standalone_rule_spanning_web_ports_is_not_a_web_port(stack: Stack) -> None:
    stack.append({"type": "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "name": "alb-span",
                  "props": {"securityGroupId": "sg-alb", "ipProtocol": "tcp", "fromPort": 80, "toPort": 443,
                            "cidrIpv4": "0.0.0.0/0", "description": "web"}})
    assert run_all(stack)[(SG, "alb-span")].kind == "violation"


MIN_TASKS = "aws-ecs-service-require-min-task-count"


def test_service_without_desired_count_runs_one_task(stack: Stack) -> None:
    """AWS starts a service created without desiredCount with 1 task: below the production minimum."""
    del find(stack, "svc")["props"]["desiredCount"]
    result = run_all(stack)[(MIN_TASKS, "svc")]
    assert result.kind == "violation" and "1 task" in result.message  # type: ignore[union-attr]
    assert run_all(stack, {MIN_TASKS: {"minTaskCount": 1}})[(MIN_TASKS, "svc")].kind == "compliant"


def test_a_dev_stacks_own_minimum_is_not_called_production(stack: Stack) -> None:
    """A minTaskCount a dev stack sets for itself: the finding says so, and never calls the service 'production'."""
    find(stack, "svc")["props"]["desiredCount"] = 1
    find(stack, "svc-scaling")["props"]["minCapacity"] = 1
    config = {MIN_TASKS: {"minTaskCount": 3}}
    for name in ("svc", "svc-scaling"):
        result = run_all(stack, config, stack_name="dev")[(MIN_TASKS, name)]
        assert result.kind == "violation" and "production" not in result.message, result  # type: ignore[union-attr]
        assert "fewer than 3 (this stack's minTaskCount)" in result.message  # type: ignore[union-attr]
    prod = run_all(stack)[(MIN_TASKS, "svc")]
    assert "fewer than 2 (the minimum on production stacks; 'prod' is in productionStacks)" in prod.message  # type: ignore[union-attr]


@pytest.mark.parametrize("count,ok", [(1, False), (2, True), (3, True)])
def test_min_task_count_is_inclusive(stack: Stack, count: int, ok: bool) -> None:
    find(stack, "svc")["props"]["desiredCount"] = count
    find(stack, "svc-scaling")["props"]["minCapacity"] = count
    results = run_all(stack)
    assert {results[(MIN_TASKS, n)].kind for n in ("svc", "svc-scaling")} == {"compliant" if ok else "violation"}


SAFE_DEPLOY = "aws-ecs-service-require-alarm-rollback-and-bake"


@pytest.mark.parametrize("bake,ok", [("9", False), ("10", True), ("11", True), (10, True)])
def test_bake_time_is_inclusive_at_the_threshold(stack: Stack, bake: object, ok: bool) -> None:
    """minBakeTimeMinutes (10 by default) is met at 10 and missed at 9; the provider sends the minutes as a string."""
    find(stack, "svc")["props"]["deploymentConfiguration"]["bakeTimeInMinutes"] = bake
    assert run_all(stack)[(SAFE_DEPLOY, "svc")].kind == ("compliant" if ok else "violation")


@pytest.mark.parametrize("minimum,ok", [(15, False), (10, True), (0, True)])
def test_bake_time_minimum_is_the_stacks_threshold(stack: Stack, minimum: int, ok: bool) -> None:
    result = run_all(stack, {SAFE_DEPLOY: {"minBakeTimeMinutes": minimum}})[(SAFE_DEPLOY, "svc")]
    assert result.kind == ("compliant" if ok else "violation"), result
    if not ok:
        assert "bakes 10 minute(s), fewer than 15 (minBakeTimeMinutes)" in result.message  # type: ignore[union-attr]


@pytest.mark.parametrize("strategy", ["CANARY", "LINEAR", "BLUE_GREEN"])
def test_every_strategy_that_keeps_old_tasks_bakes(stack: Stack, strategy: str) -> None:
    find(stack, "svc")["props"]["deploymentConfiguration"]["strategy"] = strategy
    assert run_all(stack)[(SAFE_DEPLOY, "svc")].kind == "compliant"


def test_safe_deploys_are_mandatory_on_production_and_advisory_elsewhere() -> None:
    from rampart_soc2.registry import POLICIES

    spec = POLICIES[SAFE_DEPLOY]
    assert (spec.enforcement_for("prod"), spec.enforcement_for("dev")) == ("mandatory", "advisory")
    assert spec.criteria == ("CC8.1",)


# ---- waivers: one implementation (rampart_soc2.model), used by the pack and by the evidence report

DELETION = "aws-lb-loadbalancer-enable-deletion-protection"
TODAY = dt.date(2026, 11, 30)


def _waived_on(stack: Stack, expires: dt.date, today: dt.date) -> str:
    find(stack, "alb")["props"]["enableDeletionProtection"] = False
    spec = POLICIES[DELETION]
    alb = find(stack, "alb")
    ctx = context_from_config(DELETION, {"waivers": [
        {"resource": "alb", "reason": "migration window", "expires": expires.isoformat()}]}, "prod", today=today)
    return evaluate_resource(spec, make_resource(alb["type"], alb["name"], alb["props"]), ctx).kind


@pytest.mark.parametrize("expires,kind", [(TODAY + dt.timedelta(days=1), "waived"), (TODAY, "waived"),
                                          (TODAY - dt.timedelta(days=1), "violation")])
def test_waiver_applies_through_its_expiry_date(stack: Stack, expires: dt.date, kind: str) -> None:
    assert _waived_on(stack, expires, TODAY) == kind


@pytest.mark.parametrize("expires,status", [(TODAY, "unused (matches no resource)"), (TODAY - dt.timedelta(days=1), "expired"),
                                            (TODAY + dt.timedelta(days=1), "unused (matches no resource)")])
def test_report_reads_waiver_expiry_as_the_pack_does(expires: dt.date, status: str) -> None:
    from rampart.offline.analyzer import Analysis
    from rampart.offline.result import CheckResult
    from rampart.offline.report import build_report

    waiver = {"policy": DELETION, "resource": "alb", "reason": "migration window", "expires": expires.isoformat()}
    analysis = Analysis(pack_name="rampart-soc2", pack_version="0", policies={}, enforcement={}, outcomes=[], logs=[])
    result = CheckResult(stack="prod", project="p", project_dir=Path("."), pack_dir=Path("policy/soc2"),
                         analysis=analysis, resources=[], pack_config={DELETION: {"waivers": [waiver]}},
                         plan_seconds=0.0, check_seconds=0.0)
    now = dt.datetime(TODAY.year, TODAY.month, TODAY.day, 23, 59, tzinfo=dt.timezone.utc)
    [shown] = build_report(result, now=now)["waivers"]
    assert shown["status"] == status, f"a waiver expiring {expires} on {TODAY}"


# ---- booleans that arrive as strings (some providers and JSON send "true"/"false")

STRING_BOOLEANS = [
    # (resource, property path, policy, value that must pass, value that must fail)
    ("alb", "enableDeletionProtection", DELETION),
    ("alb", "dropInvalidHeaderFields", "aws-lb-loadbalancer-enable-drop-invalid-headers"),
    ("kms", "enableKeyRotation", "aws-kms-key-enable-rotation"),
    ("repo", "imageScanningConfiguration.scanOnPush", "aws-ecr-repository-require-scan-on-push"),
    ("alb", "accessLogs.enabled", "aws-lb-loadbalancer-enable-access-logs"),
    ("alarm-5xx", "actionsEnabled", "aws-cloudwatch-metricalarm-require-actions"),
    ("svc", "deploymentCircuitBreaker.rollback", "aws-ecs-service-require-circuit-breaker-rollback"),
    ("svc", "deploymentCircuitBreaker.enable", "aws-ecs-service-require-circuit-breaker-rollback"),
    ("tg", "healthCheck.enabled", "aws-lb-targetgroup-require-health-check"),
    ("alb-logs-pab", "restrictPublicBuckets", "aws-s3-bucket-require-public-access-block"),
]
#: where a settings resource's value is judged on another resource (the bucket it configures)
JUDGED_ON = {"alb-logs-pab": "alb-logs"}
STRING_BOOLEANS_INVERTED = [
    # properties where true is the violation
    ("svc", "networkConfiguration.assignPublicIp", "aws-ecs-service-disallow-public-ip"),
    ("subnet-a", "mapPublicIpOnLaunch", "aws-ec2-subnet-disallow-public-ip-on-launch"),
]


def _set(stack: Stack, name: str, path: str, value: Any) -> None:
    target = find(stack, name)["props"]
    *parents, last = path.split(".")
    for key in parents:
        target = target[key]
    target[last] = value


@pytest.mark.parametrize("name,path,policy", STRING_BOOLEANS, ids=[p for _, p, _ in STRING_BOOLEANS])
@pytest.mark.parametrize("text", ["true", "True", " TRUE "])
def test_string_true_counts_as_on(stack: Stack, name: str, path: str, policy: str, text: str) -> None:
    _set(stack, name, path, text)
    assert run_all(stack)[(policy, JUDGED_ON.get(name, name))].kind == "compliant", f"{name}.{path} = {text!r}"


@pytest.mark.parametrize("name,path,policy", STRING_BOOLEANS, ids=[p for _, p, _ in STRING_BOOLEANS])
@pytest.mark.parametrize("text", ["false", "False", "", "yes"])
def test_string_false_counts_as_off(stack: Stack, name: str, path: str, policy: str, text: str) -> None:
    _set(stack, name, path, text)
    assert run_all(stack)[(policy, JUDGED_ON.get(name, name))].kind == "violation", f"{name}.{path} = {text!r}"


@pytest.mark.parametrize("name,path,policy", STRING_BOOLEANS_INVERTED, ids=[p for _, p, _ in STRING_BOOLEANS_INVERTED])
def test_string_booleans_where_true_is_the_violation(stack: Stack, name: str, path: str, policy: str) -> None:
    _set(stack, name, path, "true")
    assert (policy, name) in fired(run_all(stack)), f"{name}.{path} = 'true'"
    _set(stack, name, path, "false")
    assert run_all(stack)[(policy, name)].kind == "compliant", f"{name}.{path} = 'false'"


# ---- readiness: the alternate target group of a blue/green, canary or linear service is a path too

LB_PATH = "aws-ecs-service-require-load-balancer-path"
ALTERNATE_TG = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-alt/0123456789abcdef"


def _with_alternate(stack: list[dict[str, Any]], forwarded: bool) -> None:
    from policy_fixtures import TG_ARN

    find(stack, "svc")["props"]["loadBalancers"][0]["advancedConfiguration"] = {"alternateTargetGroupArn": ALTERNATE_TG}
    if forwarded:
        find(stack, "web-rule")["props"]["actions"] = [{"type": "forward", "forward": {"targetGroups": [
            {"arn": TG_ARN, "weight": 100}, {"arn": ALTERNATE_TG, "weight": 0}]}}]


def test_an_alternate_target_group_no_listener_forwards_to_is_not_shown_reachable(stack: Stack) -> None:
    _with_alternate(stack, forwarded=False)
    result = run_all(stack)[(LB_PATH, "svc")]
    assert result.kind == "unknown" and ALTERNATE_TG in result.path, result  # type: ignore[union-attr]


def test_an_alternate_target_group_on_the_production_rule_is_reachable(stack: Stack) -> None:
    _with_alternate(stack, forwarded=True)
    assert run_all(stack)[(LB_PATH, "svc")].kind == "compliant"
