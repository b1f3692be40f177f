"""Safe deploys (issue 24): a service's deployment strategy, bake time and rollback alarms, what ECS
needs for them (alternate target group, production and test listener rules, an infrastructure role),
and what ECS refuses about them, refused by the mock engine that plans (`rampart/offline/aws_checks.py`)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi_aws as aws
import pytest
from pydantic import ValidationError

from components_support import compose, minimal_args, run_service
from rampart.offline import aws_checks
from rampart.components.web_service import BAKE_TIME_RANGE, DeploymentSettings, TEST_TRAFFIC_HEADER
from rampart.offline.mock_engine import AwsRefusal, RegisteredResource, run_program

SERVICE, RULE, TG = aws_checks.SERVICE, aws_checks.LISTENER_RULE, aws_checks.TARGET_GROUP


def _plan(**deployment: Any) -> list[RegisteredResource]:
    case = minimal_args(deployment=DeploymentSettings(**deployment))
    return run_program(lambda: compose(case) and None)


def _one(resources: list[RegisteredResource], type_: str, name: str | None = None) -> RegisteredResource:
    found = [r for r in resources if r.type == type_ and (name is None or r.name == name)]
    assert len(found) == 1, f"{type_} {name}: {[r.name for r in found]}"
    return found[0]


# --- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("minutes,ok", [(BAKE_TIME_RANGE[0] - 1, False), (BAKE_TIME_RANGE[0], True),
                                        (BAKE_TIME_RANGE[1], True), (BAKE_TIME_RANGE[1] + 1, False)])
def test_bake_time_takes_what_ecs_takes(minutes: int, ok: bool) -> None:
    if ok:
        assert DeploymentSettings(strategy="blue_green", bake_time_minutes=minutes).bake_time_minutes == minutes
    else:
        with pytest.raises(ValidationError, match="bake_time_minutes"):
            DeploymentSettings(strategy="blue_green", bake_time_minutes=minutes)


@pytest.mark.parametrize("block,key,value,ok", [
    ("canary", "percent", 0.1, True), ("canary", "percent", 0.09, False), ("canary", "percent", 100.0, True),
    ("canary", "percent", 100.1, False), ("linear", "step_percent", 3.0, True), ("linear", "step_percent", 2.9, False),
    ("canary", "interval_minutes", 1440, True), ("linear", "interval_minutes", 1441, False),
])
def test_canary_and_linear_bounds_are_ecs_bounds(block: str, key: str, value: float, ok: bool) -> None:
    settings = {"strategy": block, block: {key: value}}
    if ok:
        DeploymentSettings.model_validate(settings)
    else:
        with pytest.raises(ValidationError, match=key):
            DeploymentSettings.model_validate(settings)


def test_a_block_of_another_strategy_is_refused_naming_both() -> None:
    with pytest.raises(ValidationError, match="deployment.canary is set but deployment.strategy is 'linear'"):
        DeploymentSettings.model_validate({"strategy": "linear", "canary": {"percent": 10}})


def test_a_bake_time_with_rolling_is_refused() -> None:
    """Rolling keeps no old tasks: a bake time set for it would be silently ignored by ECS."""
    with pytest.raises(ValidationError, match="strategy 'rolling', which keeps no old tasks"):
        DeploymentSettings(bake_time_minutes=15)
    assert DeploymentSettings().strategy == "rolling"  # the default bake time alone is fine


def test_rollback_alarms_need_the_alarms() -> None:
    with pytest.raises(ValidationError, match="alarms.enabled is false"):
        minimal_args(alarms={"enabled": False}, deployment={"rollback_alarms": ["5xx-rate"]})
    minimal_args(alarms={"enabled": False}, deployment={"rollback_alarms": []})  # explicit: no alarm rollback


def test_shifting_traffic_with_access_rules_is_refused() -> None:
    with pytest.raises(ValidationError, match="routing.access"):
        minimal_args(routing={"paths": ["/*"], "access": [{"paths": ["/admin/*"], "allow_cidrs": ["10.0.0.0/8"]}]},
                     deployment={"strategy": "blue_green"})


@pytest.mark.parametrize("paths,ok", [(["/a/*", "/b/*", "/c/*"], True), (["/a/*", "/b/*", "/c/*"], False)])
def test_the_test_rule_fits_the_albs_five_values(paths: list[str], ok: bool) -> None:
    """Hosts + paths + the test header: at most 5 values per ALB rule (4 given + 1 fits; 5 + 1 does not)."""
    hosts = ["shop.example.com"] if ok else ["shop.example.com", "www.example.com"]
    routing = {"hosts": hosts, "paths": paths}
    if ok:
        minimal_args(routing=routing, deployment={"strategy": "blue_green"})
    else:
        with pytest.raises(ValidationError, match="at most 5"):
            minimal_args(routing=routing, deployment={"strategy": "blue_green"})


def test_the_stack_file_reuses_the_model_with_camel_case_keys() -> None:
    from rampart.components.web_service import ServiceSettings

    settings = ServiceSettings.model_validate(
        {"deployment": {"strategy": "canary", "bakeTimeMinutes": 12, "canary": {"percent": 5, "intervalMinutes": 4},
                        "rollbackAlarms": ["5xx-rate"]}})
    assert settings.deployment.canary is not None and settings.deployment.canary.interval_minutes == 4
    assert ServiceSettings.model_fields["deployment"].annotation is DeploymentSettings


# --- what the component registers ------------------------------------------------------------------


def test_rolling_plans_as_before_with_alarm_rollback() -> None:
    resources = _plan()
    service = _one(resources, SERVICE)
    assert "deploymentConfiguration" not in service.inputs, service.inputs.get("deploymentConfiguration")
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service.inputs["alarms"]["rollback"] is True and service.inputs["alarms"]["enable"] is True
    assert [r.name for r in resources if r.type == TG] == ["shop-route-tg"]
    assert [r.name for r in resources if r.type == RULE] == ["shop-route-rule"]
    assert "advancedConfiguration" not in service.inputs["loadBalancers"][0]


def test_rollback_alarms_default_to_the_services_own_traffic_alarms() -> None:
    resources = _plan(strategy="blue_green")
    alarms = {r.name: r.outputs["name"] for r in resources if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"}
    names = _one(resources, SERVICE).inputs["alarms"]["alarmNames"]
    expected = [f"shop-alarm-{s}{t}" for s in ("5xx-rate", "unhealthy-targets", "p99-latency") for t in ("", "-alternate")]
    assert names == [alarms[n] for n in expected], names


def test_rollback_alarms_off_sends_no_alarms_block() -> None:
    assert "alarms" not in _one(_plan(rollback_alarms=[]), SERVICE).inputs


@pytest.mark.parametrize("strategy,block,expected", [
    ("blue_green", None, None),
    ("canary", "canaryConfiguration", {"canaryPercent": 10, "canaryBakeTimeInMinutes": "5"}),
    ("linear", "linearConfiguration", {"stepPercent": 25, "stepBakeTimeInMinutes": "3"}),
])
def test_strategies_reach_the_service(strategy: str, block: str | None, expected: dict[str, Any] | None) -> None:
    resources = _plan(strategy=strategy, bake_time_minutes=12)
    config = _one(resources, SERVICE).inputs["deploymentConfiguration"]
    assert config["strategy"] == strategy.upper() and config["bakeTimeInMinutes"] == "12", config
    if block is not None:
        assert config[block] == expected, config


def test_blue_green_wires_what_ecs_needs() -> None:
    resources = _plan(strategy="blue_green")
    primary, alternate = _one(resources, TG, "shop-route-tg"), _one(resources, TG, "shop-route-tg-alternate")
    same = ("port", "protocol", "healthCheck", "targetType", "deregistrationDelay", "vpcId")
    assert {k: alternate.inputs.get(k) for k in same} == {k: primary.inputs.get(k) for k in same}
    production, test = _one(resources, RULE, "shop-route-rule"), _one(resources, RULE, "shop-route-test-rule")
    role = _one(resources, "aws:iam/role:Role", "shop-ecs-infrastructure-role")
    advanced = _one(resources, SERVICE).inputs["loadBalancers"][0]["advancedConfiguration"]
    assert advanced == {"alternateTargetGroupArn": alternate.outputs["arn"], "productionListenerRule": production.outputs["arn"],
                        "testListenerRule": test.outputs["arn"], "roleArn": role.outputs["arn"]}
    # the test rule: the same hosts and paths plus the header, tried first, on the same listener
    assert test.inputs["priority"] == production.inputs["priority"] - 1
    assert test.inputs["listenerArn"] == production.inputs["listenerArn"]
    header = [c["httpHeader"] for c in test.inputs["conditions"] if "httpHeader" in c]
    assert header == [{"httpHeaderName": TEST_TRAFFIC_HEADER, "values": ["candidate"]}], test.inputs["conditions"]
    assert [c for c in test.inputs["conditions"] if "httpHeader" not in c] == production.inputs["conditions"]
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "ecs.amazonaws.com"}


def _addressed(value: Any, path: str) -> list[Any]:
    """The values a Pulumi property path (`a[*].b.c[*].d`, as ignore_changes takes it) addresses in `value`."""
    found = [value]
    for part in path.split("."):
        name, each = (part[:-3], True) if part.endswith("[*]") else (part, False)
        found = [v[name] for v in found if isinstance(v, dict) and name in v]
        if each:
            found = [item for v in found for item in v]
    return found


def test_ecs_owns_the_rules_weights_so_pulumi_up_does_not_undo_a_traffic_shift() -> None:
    """ECS rewrites the production and test rules' forward weights; Pulumi ignores exactly those (each
    rule's one ignore_changes path addresses its two weights and nothing else), so the target groups stay
    Pulumi's: a setting that replaces them moves the rules with them (ignoring the whole actions left the
    rules on the old groups, which then could not be deleted)."""
    resources = _plan(strategy="canary")
    groups = {_one(resources, TG, n).outputs["arn"] for n in ("shop-route-tg", "shop-route-tg-alternate")}
    for name in ("shop-route-rule", "shop-route-test-rule"):
        rule = _one(resources, RULE, name)
        (path,) = rule.ignore_changes
        assert _addressed(rule.inputs, path) == [100, 0], f"{name}: {path} in {rule.inputs['actions']}"
        assert {g["arn"] for g in rule.inputs["actions"][0]["forward"]["targetGroups"]} == groups
    assert _one(_plan(), RULE, "shop-route-rule").ignore_changes == (), "a rolling service's rule stays Pulumi's"


def test_the_infrastructure_role_may_touch_only_this_services_groups_and_rules() -> None:
    resources = _plan(strategy="blue_green")
    policy = json.loads(_one(resources, "aws:iam/rolePolicy:RolePolicy", "shop-ecs-infrastructure-policy").inputs["policy"])
    groups = sorted(r.outputs["arn"] for r in resources if r.type == TG)
    rules = sorted(r.outputs["arn"] for r in resources if r.type == RULE)
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert sorted(by_sid["RegisterInTheseTargetGroups"]["Resource"]) == groups
    assert sorted(by_sid["ShiftTheseRules"]["Resource"]) == rules
    writes = [s for s in policy["Statement"] if s["Resource"] == "*"]
    assert [a for s in writes for a in s["Action"] if not a.startswith("elasticloadbalancing:Describe")] == []


def test_pulumi_up_waits_for_the_bake_time_too() -> None:
    service = _one(_plan(strategy="linear", bake_time_minutes=10, linear={"step_percent": 25, "interval_minutes": 3}), SERVICE)
    assert service.inputs["waitForSteadyState"] is True
    assert service.inputs["sigintRollback"] is True, "Ctrl-C during pulumi up rolls the deployment back"
    # 25, 50, 75 and 100%: three step intervals (none after the step that reaches 100%), then the bake
    assert service.custom_timeouts["update"] == f"{20 + 3 * 3 + 10}m", service.custom_timeouts


def test_no_healthy_targets_counts_both_groups_of_a_blue_green_service() -> None:
    resources = _plan(strategy="blue_green")
    alarm = _one(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "shop-alarm-no-healthy-targets")
    expression = [q for q in alarm.inputs["metricQueries"] if q.get("expression")]
    assert expression[0]["expression"] == "FILL(healthy0, 0) + FILL(healthy1, 0)", alarm.inputs["metricQueries"]


# --- what the mock engine refuses (aws_checks.deployment_refusals) ------------------------------------


def _broken(resources: list[RegisteredResource], type_: str, name: str, **inputs: Any) -> list[RegisteredResource]:
    return [dataclasses.replace(r, inputs={**r.inputs, **inputs}) if (r.type, r.name) == (type_, name) else r
            for r in resources]


def _service_inputs(resources: list[RegisteredResource]) -> dict[str, Any]:
    return _one(resources, SERVICE).inputs


def test_the_components_blue_green_canary_linear_pass_the_checks() -> None:
    for strategy in ("blue_green", "canary", "linear"):
        assert aws_checks.refusals(_plan(strategy=strategy)) == []


@pytest.mark.parametrize("strategy", ["BLUE_GREEN", "CANARY", "LINEAR"])
def test_a_shifting_strategy_without_advanced_configuration_is_refused(strategy: str) -> None:
    resources = _plan(strategy=strategy.lower())
    lbs = [{k: v for k, v in lb.items() if k != "advancedConfiguration"} for lb in _service_inputs(resources)["loadBalancers"]]
    found = aws_checks.refusals(_broken(resources, SERVICE, "shop-service", loadBalancers=lbs))
    assert len(found) == 1 and f"strategy {strategy} with load balancer target group" in found[0], found
    rolling = {**_service_inputs(resources)["deploymentConfiguration"], "strategy": "ROLLING"}
    assert aws_checks.refusals(_broken(resources, SERVICE, "shop-service", loadBalancers=lbs,
                                       deploymentConfiguration=rolling)) == [], "rolling needs none"


@pytest.mark.parametrize("strategy,block", [("canary", "canaryConfiguration"), ("linear", "linearConfiguration")])
def test_canary_or_linear_without_its_block_is_accepted_as_ecs_has_defaults(strategy: str, block: str) -> None:
    resources = _plan(strategy=strategy)
    config = {k: v for k, v in _service_inputs(resources)["deploymentConfiguration"].items() if k != block}
    assert aws_checks.refusals(_broken(resources, SERVICE, "shop-service", deploymentConfiguration=config)) == []


@pytest.mark.parametrize("strategy,block,key,value,accepted", [
    ("canary", "canaryConfiguration", "canaryPercent", 0.1, True),
    ("canary", "canaryConfiguration", "canaryPercent", 0.05, False),
    ("canary", "canaryConfiguration", "canaryPercent", 12.3, True),
    ("canary", "canaryConfiguration", "canaryPercent", 12.34, False),
    ("canary", "canaryConfiguration", "canaryPercent", 100.0, True),
    ("canary", "canaryConfiguration", "canaryPercent", 100.1, False),
    ("linear", "linearConfiguration", "stepPercent", 3.0, True),
    ("linear", "linearConfiguration", "stepPercent", 2.9, False),
    ("linear", "linearConfiguration", "stepPercent", 3.33, False),
    ("linear", "linearConfiguration", "stepPercent", 100.0, True),
])
def test_a_share_ecs_refuses_is_refused_by_the_engine_and_the_settings(
    strategy: str, block: str, key: str, value: float, accepted: bool
) -> None:
    """ECS takes canaryPercent in multiples of 0.1 from 0.1 to 100, stepPercent from 3 to 100: a hand-written
    service is refused by the mock engine, Rampart's settings refuse it at plan."""
    resources = _plan(strategy=strategy)
    config = _service_inputs(resources)["deploymentConfiguration"]
    config = {**config, block: {**config[block], key: value}}
    found = aws_checks.refusals(_broken(resources, SERVICE, "shop-service", deploymentConfiguration=config))
    if accepted:
        assert found == []
    else:
        assert len(found) == 1 and f"deploymentConfiguration.{block}.{key} {value:g} is " in found[0], found
    settings = {"canary": {"percent": value}} if strategy == "canary" else {"linear": {"step_percent": value}}
    if accepted:
        DeploymentSettings(strategy=strategy, **settings)
    else:
        # out of range: the field's bounds (the schema's too) say so; in range: the multiple of 0.1
        with pytest.raises(ValidationError, match=r"(than or equal to (0.1|3|100)|is not a multiple of 0.1; ECS accepts)"):
            DeploymentSettings(strategy=strategy, **settings)


@pytest.mark.parametrize("key,value", [("port", 8081), ("protocol", "HTTPS")])
def test_an_alternate_target_group_of_another_port_or_protocol_is_refused(key: str, value: Any) -> None:
    resources = _plan(strategy="blue_green")
    same = _one(resources, TG, "shop-route-tg-alternate").inputs[key]
    assert aws_checks.refusals(_broken(resources, TG, "shop-route-tg-alternate", **{key: same})) == []  # the same: fine
    found = aws_checks.refusals(_broken(resources, TG, "shop-route-tg-alternate", **{key: value}))
    assert len(found) == 1 and f"has {key} {value!r}" in found[0], found


@pytest.mark.parametrize("rule", ["shop-route-rule", "shop-route-test-rule"])
def test_a_listener_rule_of_another_listener_is_refused(rule: str) -> None:
    resources = _plan(strategy="blue_green")
    other = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/other/1/2"
    found = aws_checks.refusals(_broken(resources, RULE, rule, listenerArn=other))
    # moving either rule splits the pair: the refusal names the listener the other one serves the group on
    assert len(found) == 1 and "is a rule of listener" in found[0] and other in found[0], found


def test_a_production_rule_forwarding_elsewhere_is_refused() -> None:
    resources = _plan(strategy="blue_green")
    elsewhere = [{"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/1"}]
    # another rule on the same listener still forwards to the group (the test rule): the production rule must itself
    test = _one(resources, RULE, "shop-route-test-rule")
    resources = _broken(resources, RULE, "shop-route-rule", actions=elsewhere)
    resources = [dataclasses.replace(r, outputs={**r.outputs, "arn": "not-the-test-rule"}) if r is test else r
                 for r in resources]
    found = aws_checks.refusals(resources)
    assert any("does not forward to target group" in f or "forwards nothing to" in f for f in found), found


def test_the_mock_engine_refuses_a_hand_written_blue_green_without_advanced_configuration() -> None:
    def program() -> None:
        tg = aws.lb.TargetGroup("tg", port=8080, protocol="HTTP", vpc_id="vpc-1", target_type="ip")
        aws.ecs.Service("service", launch_type="FARGATE",
                        deployment_configuration={"strategy": "BLUE_GREEN", "bake_time_in_minutes": "10"},
                        load_balancers=[{"target_group_arn": tg.arn, "container_name": "app", "container_port": 8080}])

    with pytest.raises(AwsRefusal, match="no advancedConfiguration"):
        run_program(program)


# --- a services-only stack (the environment is another stack's) ----------------------------------------


def test_a_services_only_stack_gets_what_ecs_needs_too(project_copy: Any) -> None:
    """dev-reports attaches to dev's environment: its canary service still gets the alternate target
    group, the production and test rules on that environment's listener, and the role, and the test rule's
    priority stays in the app stacks' range."""
    import yaml

    from rampart.components.routing import APP_STACK_PRIORITIES
    from rampart.offline.plan import run_stack

    path = project_copy / "stacks" / "Pulumi.dev-reports.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["config"]["rampart:services"]["reports"]["deployment"] = {"strategy": "canary", "bakeTimeMinutes": 10}
    path.write_text(yaml.safe_dump(doc))
    resources = run_stack(project_copy, "dev-reports").resources
    production, test = _one(resources, RULE, "reports-route-rule"), _one(resources, RULE, "reports-route-test-rule")
    assert test.inputs["listenerArn"] == production.inputs["listenerArn"]
    assert test.inputs["priority"] in APP_STACK_PRIORITIES and test.inputs["priority"] == production.inputs["priority"] - 1
    advanced = _one(resources, SERVICE).inputs["loadBalancers"][0]["advancedConfiguration"]
    assert set(advanced) == {"alternateTargetGroupArn", "productionListenerRule", "testListenerRule", "roleArn"}
    assert aws_checks.refusals(resources) == []


@pytest.mark.parametrize("app_stack,priority,ok", [
    (True, APP_START := 1_000, False), (True, APP_START + 1, True),  # the test rule takes priority - 1
    (False, 1, False), (False, 2, True),
])
def test_the_test_rule_takes_a_priority_in_range(app_stack: bool, priority: int, ok: bool) -> None:
    from rampart.components.routing import APP_STACK_PRIORITIES, RoutingSettings, priority_range_problem

    assert APP_STACK_PRIORITIES.start == APP_START
    routing = RoutingSettings(paths=["/shop/*"], priority=priority)
    problem = priority_range_problem(routing, app_stack=app_stack, test_rule=True)
    assert (problem is None) == ok, problem
    assert priority_range_problem(routing, app_stack=app_stack) is None, "without a test rule the priority fits"


def test_a_test_rule_priority_meeting_another_service_is_refused() -> None:
    from rampart.components.routing import RoutingSettings, check_routes

    routes = {"web": RoutingSettings(paths=["/*"], priority=100), "api": RoutingSettings(paths=["/api/*"], priority=99)}
    check_routes(routes)
    with pytest.raises(ValueError, match="both take listener rule priority 99"):
        check_routes(routes, test_rules={"web"})
