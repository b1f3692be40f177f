"""The real program (`__main__.py` -> rampart.program) for the dev and prod stacks registers one
environment and every service the stack file lists, and each stack file's choices reach the
components' resources; the services-only stack attaches to the environment of another stack."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from components_support import Plan, descendants, is_taggable
from rampart.config import load_stack_config
from rampart.offline.mock_engine import RegisteredResource
from rampart.offline.plan import run_stack

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "rampart"  # Pulumi.yaml's name: the environment component's name
SHARED = ("aws:ec2/vpc:Vpc", "aws:lb/loadBalancer:LoadBalancer", "aws:wafv2/webAcl:WebAcl", "aws:ecs/cluster:Cluster")
SERVICE_ALARMS = 6  # 5xx rate, unhealthy targets, no healthy target, p99 latency, CPU, memory
SIDECAR_ALARMS = 2  # 429 surge, upstream 5xx surge (nginx ingress: on the access-log metrics)
ALTERNATE_ALARMS = 3  # 5xx rate, unhealthy targets, p99 latency on the alternate target group (blue/green, canary, linear)


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> tuple[str, Plan]:
    run = run_stack(ROOT, request.param)
    return request.param, Plan(resources=run.resources, outputs=run.stack_outputs)


def _service(plan: Plan, name: str) -> list[RegisteredResource]:
    return descendants(plan, plan.one("rampart:web_service:WebService", name))


def test_whole_environment_and_every_service_are_registered(stack: tuple[str, Plan]) -> None:
    name, plan = stack
    config = load_stack_config(ROOT, name)
    assert config.environment is not None
    components = Counter(r.type for r in plan.resources if not r.custom)
    for token in ("rampart:environment:Environment", "rampart:monitoring:Monitoring", "rampart:network:Network",
                  "rampart:load_balancer:LoadBalancer", "rampart:waf:WebAcl"):
        assert components[token] == 1, f"{name}: {token} x{components[token]}"
    assert sorted(r.name for r in plan.of_type("rampart:web_service:WebService")) == sorted(config.services)
    assert components["rampart:routing:ServiceRoute"] == len(config.services), f"{name}: {components}"
    nginx = [s for s, service in config.services.items() if service.ingress == "nginx"]
    assert components["rampart:sidecar:ProxySidecar"] == len(nginx), f"{name}: sidecars {components}"
    for token in SHARED[1:]:
        assert len(plan.of_type(token)) == 1, f"{name}: {token} x{len(plan.of_type(token))}"
    assert len(plan.of_type("aws:ecs/service:Service")) == len(config.services)
    rules = plan.of_type("aws:lb/listenerRule:ListenerRule")
    # each service's own rule, plus its access rules (routing.access), plus the test rule of a deployment that
    # shifts traffic (blue/green, canary, linear)
    expected = sum(1 + s.routing.access_rule_count() + int(s.deployment.shifts_traffic) for s in config.services.values())
    assert len(rules) == expected, [r.name for r in rules]
    assert len({r.inputs["priority"] for r in rules}) == len(rules), f"{name}: listener rule priorities collide"
    assert not [u for u, n in Counter(r.urn for r in plan.resources).items() if n > 1], f"{name}: duplicate URNs"
    alarms = plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    environment_alarms = 1 + (config.environment.waf is not None)
    shifting = [s for s, service in config.services.items() if service.deployment.shifts_traffic]
    expected_alarms = (SERVICE_ALARMS * len(config.services) + SIDECAR_ALARMS * len(nginx) + environment_alarms
                       + ALTERNATE_ALARMS * len(shifting))
    assert len(alarms) == expected_alarms, f"{name}: {len(alarms)} alarms"


def test_every_service_is_on_the_environment_dashboard_with_metric_filters_and_surge_alarms_with_actions(
    stack: tuple[str, Plan],
) -> None:
    """Issue 14's acceptance, with issue 23's cost: the environment's one dashboard shows each service
    (chosen in its toolbar; a service's own dashboard only when its `dashboard` setting asks); each
    nginx-ingress service gets the access-log metric filters and the two surge alarms, whose actions
    notify the environment's topic."""
    from rampart.components.observability import ACCESS_LOG_METRICS

    name, plan = stack
    config = load_stack_config(ROOT, name)
    topic = plan.one("aws:sns/topic:Topic").outputs["arn"]
    environment = plan.one("rampart:environment:Environment")
    (board,) = [d for d in plan.of_type("aws:cloudwatch/dashboard:Dashboard") if d.parent_urn == environment.urn]
    selectors = {v["property"] for v in json.loads(board.inputs["dashboardBody"])["variables"]}
    assert selectors == {"TargetGroup", "ServiceName"}, f"{name}: the environment dashboard's service selectors"
    for service, settings in config.services.items():
        mine = _service(plan, service)
        own = [r for r in mine if r.type == "aws:cloudwatch/dashboard:Dashboard"]
        assert len(own) == int(settings.dashboard), f"{name}/{service}: dashboard setting {settings.dashboard}"
        filters = [r for r in mine if r.type == "aws:cloudwatch/logMetricFilter:LogMetricFilter"]
        surges = [r for r in mine if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm" and r.name.endswith("-surge")]
        if settings.ingress != "nginx":
            assert not filters and not surges, f"{name}/{service}: alb ingress has no sidecar log"
            continue
        assert len(filters) == len(ACCESS_LOG_METRICS), f"{name}/{service}: {len(filters)} metric filters"
        assert sorted(a.name for a in surges) == [f"{service}-alarm-429-surge", f"{service}-alarm-upstream-5xx-surge"]
        for alarm in surges:
            assert alarm.inputs["alarmActions"] == [topic] and alarm.inputs["okActions"] == [topic], alarm.name


def test_stack_settings_reach_the_resources(stack: tuple[str, Plan]) -> None:
    name, plan = stack
    config = load_stack_config(ROOT, name)
    environment = config.environment
    assert environment is not None
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["enableDeletionProtection"] is environment.load_balancer.deletion_protection
    assert alb.inputs["desyncMitigationMode"] == environment.load_balancer.desync_mitigation
    assert plan.named(f"{PROJECT}-lb-https").inputs["sslPolicy"] == environment.load_balancer.tls_policy
    for group in plan.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs["retentionInDays"] == environment.monitoring.log_retention_days, group.name
    assert environment.waf is not None
    rate = plan.one("aws:wafv2/webAcl:WebAcl").inputs["rules"][0]["statement"]["rateBasedStatement"]["limit"]
    assert rate == environment.waf.rate_limit
    assert (plan.of_type("aws:ec2/vpc:Vpc") != []) == (environment.network.create is not None)
    for service_name, service in config.services.items():
        own = _service(plan, service_name)

        def one(type_token: str) -> RegisteredResource:
            found = [r for r in own if r.type == type_token]
            assert len(found) == 1, f"{name}: {service_name} has {len(found)} {type_token}"
            return found[0]

        target = one("aws:appautoscaling/target:Target")
        assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (service.min_count, service.max_count)
        task = one("aws:ecs/taskDefinition:TaskDefinition")
        assert (task.inputs["cpu"], task.inputs["memory"]) == (str(service.cpu), str(service.memory))
        app = next(c for c in json.loads(task.inputs["containerDefinitions"]) if c["name"] == "app")
        assert [s["name"] for s in app["secrets"]] == list(service.secrets)
        assert {"name": "PORT", "value": str(service.container_port)} in app["environment"]
        groups = [r for r in own if r.type == "aws:lb/targetGroup:TargetGroup"]
        assert len(groups) == 1 + int(service.deployment.shifts_traffic), [g.name for g in groups]
        for group in groups:  # the alternate target group of blue/green, canary, linear: the same settings
            health = group.inputs["healthCheck"]
            assert health["interval"] == service.health_check.interval_seconds, f"{service_name}: {group.name} {health}"
        rule = next(r for r in own if r.name == f"{service_name}-route-rule")
        test_rule = f"{service_name}-route-test-rule"
        access_rules = [r for r in own if r.type == "aws:lb/listenerRule:ListenerRule" and r is not rule and r.name != test_rule]
        assert len(access_rules) == service.routing.access_rule_count(), [r.name for r in access_rules]
        paths = [c["pathPattern"]["values"] for c in rule.inputs["conditions"] if "pathPattern" in c]
        assert paths == ([service.routing.path_patterns()] if service.routing.path_patterns() else []), paths
        assert rule.inputs["listenerArn"] == plan.named(f"{PROJECT}-lb-https").outputs["arn"]
    tags = config.tags.as_dict()
    for resource in plan.resources:
        if resource.custom and is_taggable(resource.type):
            have = resource.inputs.get("tags") or {}
            assert all(have.get(k) == v for k, v in tags.items()), f"{name}: {resource.name} lacks the stack's tags"


def env_key(run: object) -> str:
    return str(run.stack_outputs["environment"]["kms_key_arn"])  # type: ignore[attr-defined]


def test_every_repository_uses_the_environment_key(stack: tuple[str, Plan]) -> None:
    """Issue 23: the services' ECR repositories share the environment's key (one key, not one per
    repository), and that key's policy is the one that lets ECR use it."""
    name, plan = stack
    (key,) = plan.of_type("aws:kms/key:Key")
    assert key.parent_urn == plan.one("rampart:monitoring:Monitoring").urn, f"{name}: {key.name} is not the environment's"
    assert any(s.get("Sid") == "EcrRepositoriesInThisRegion" for s in plan.policy(key)["Statement"]), key.name
    repositories = plan.of_type("aws:ecr/repository:Repository")
    assert len(repositories) == 2 * len(load_stack_config(ROOT, name).services), f"{name}: app and sidecar repositories"
    for repository in repositories:
        assert repository.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key.outputs["arn"]}], \
            f"{name}: {repository.name} is not encrypted with the environment's key"


def test_a_service_may_bring_its_own_repository_key(tmp_path: Path) -> None:
    """`image.kmsKeyArn` in the stack file: that service's repositories use it; the others keep the
    environment's."""
    import shutil

    import yaml

    own = "arn:aws:kms:eu-west-1:123456789012:key/0d9f8e7c-1111-2222-3333-444455556666"
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".venv", ".git", "out", "node_modules", "__pycache__"))
    stack_file = project / "stacks" / "Pulumi.dev.yaml"
    data = yaml.safe_load(stack_file.read_text())
    data["config"]["rampart:services"]["api"]["image"]["kmsKeyArn"] = own
    stack_file.write_text(yaml.safe_dump(data, sort_keys=False))
    run = run_stack(project, "dev")
    plan = Plan(resources=run.resources, outputs=run.stack_outputs)
    keys = {r.name: r.inputs["encryptionConfigurations"][0]["kmsKey"] for r in plan.of_type("aws:ecr/repository:Repository")}
    assert keys == {"api-app-repo": own, "api-proxy-repo": own, "web-app-repo": env_key(run), "web-proxy-repo": env_key(run)}, keys


def test_dev_routes_api_before_the_catch_all() -> None:
    plan = Plan(resources=(run := run_stack(ROOT, "dev")).resources, outputs=run.stack_outputs)
    rules = {r.name: r.inputs["priority"] for r in plan.of_type("aws:lb/listenerRule:ListenerRule")}
    assert rules["api-route-rule"] < rules["web-route-rule"], f"/* would shadow /api/*: {rules}"


def test_services_only_stack_attaches_to_the_dev_environment() -> None:
    """dev-reports creates no shared resource; its service joins dev's cluster, listener and network."""
    dev = run_stack(ROOT, "dev")
    run = run_stack(ROOT, "dev-reports")
    plan = Plan(resources=run.resources, outputs=run.stack_outputs)
    config = load_stack_config(ROOT, "dev-reports")
    for token in (*SHARED, "rampart:environment:Environment", "rampart:monitoring:Monitoring", "rampart:network:Network",
                  "rampart:load_balancer:LoadBalancer", "rampart:waf:WebAcl", "aws:lb/listener:Listener",
                  "aws:sns/topic:Topic"):
        assert plan.of_type(token) == [], f"the services-only stack created {token}"
    assert plan.of_type("aws:kms/key:Key") == [], "the services' repositories use dev's key: no key of their own"
    repositories = plan.of_type("aws:ecr/repository:Repository")
    assert repositories
    for repository in repositories:
        assert repository.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": env_key(dev)}], \
            f"{repository.name}: not encrypted with dev's key"
    assert sorted(r.name for r in plan.of_type("rampart:web_service:WebService")) == sorted(config.services)
    env = dev.stack_outputs["environment"]
    rule = plan.one("aws:lb/listenerRule:ListenerRule")
    assert rule.inputs["listenerArn"] == env["https_listener_arn"], "not on dev's HTTPS listener"
    assert rule.inputs["priority"] == config.services["reports"].routing.priority
    service = plan.one("aws:ecs/service:Service")
    assert service.inputs["cluster"] == env["cluster_arn"], "not in dev's cluster"
    assert service.inputs["networkConfiguration"]["subnets"] == env["private_subnet_ids"]
    ingress = plan.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert ingress.inputs["referencedSecurityGroupId"] == env["alb_security_group_id"], "admits another group than dev's ALB"
    tg = plan.one("aws:lb/targetGroup:TargetGroup")
    assert tg.inputs["vpcId"] == env["vpc_id"]
    for group in plan.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs["kmsKeyId"] == env["kms_key_arn"], f"{group.name}: not dev's key"
        assert group.inputs["name"].startswith(env["log_group_prefix"] + "/"), group.inputs["name"]
    for alarm in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        assert alarm.inputs["alarmActions"] == [env["alarm_topic_arn"]], alarm.name
    tags = config.tags.as_dict()
    for resource in plan.resources:
        if resource.custom and is_taggable(resource.type):
            have = resource.inputs.get("tags") or {}
            assert all(have.get(k) == v for k, v in tags.items()), f"{resource.name} lacks the stack's tags"
