"""The real program (`__main__.py` -> rampart.program) for the dev and prod stacks registers the
whole service, and each stack file's choices reach the components' resources."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from components_support import Plan, is_taggable
from rampart.config import load_stack_config
from rampart.plan import run_stack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> tuple[str, Plan]:
    run = run_stack(ROOT, request.param)
    return request.param, Plan(resources=run.resources, outputs=run.stack_outputs)


def test_whole_service_is_registered(stack: tuple[str, Plan]) -> None:
    name, plan = stack
    config = load_stack_config(ROOT, name)
    components = Counter(r.type for r in plan.resources if not r.custom)
    for token in ("rampart:web_service:WebService", "rampart:monitoring:Monitoring", "rampart:network:Network",
                  "rampart:load_balancer:LoadBalancer", "rampart:waf:WebAcl"):
        assert components[token] == 1, f"{name}: {token} x{components[token]}"
    assert (components["rampart:sidecar:ProxySidecar"] == 1) == (config.ingress.mode == "nginx")
    assert not [u for u, n in Counter(r.urn for r in plan.resources).items() if n > 1], f"{name}: duplicate URNs"
    alarms = plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert len(alarms) == 7, f"{name}: {len(alarms)} alarms"


def test_stack_settings_reach_the_resources(stack: tuple[str, Plan]) -> None:
    name, plan = stack
    config = load_stack_config(ROOT, name)
    alb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["enableDeletionProtection"] is config.ingress.deletion_protection
    assert alb.inputs["desyncMitigationMode"] == config.ingress.desync_mitigation
    assert plan.named(f"{config.service.name}-lb-https").inputs["sslPolicy"] == config.ingress.tls_policy
    for group in plan.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs["retentionInDays"] == config.logging.retention_days, group.name
    target = plan.one("aws:appautoscaling/target:Target")
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (config.service.min_count, config.service.max_count)
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    assert (task.inputs["cpu"], task.inputs["memory"]) == (str(config.service.cpu), str(config.service.memory))
    app = next(c for c in json.loads(task.inputs["containerDefinitions"]) if c["name"] == "app")
    assert [s["name"] for s in app["secrets"]] == list(config.service.secrets)
    assert plan.one("aws:wafv2/webAcl:WebAcl").inputs["rules"][0]["statement"]["rateBasedStatement"]["limit"] == config.waf.rate_limit
    assert (plan.of_type("aws:ec2/vpc:Vpc") != []) == (config.network.mode == "create")
    tags = config.tags.as_dict()
    for resource in plan.resources:
        if resource.custom and is_taggable(resource.type):
            have = resource.inputs.get("tags") or {}
            assert all(have.get(k) == v for k, v in tags.items()), f"{name}: {resource.name} lacks the stack's tags"
