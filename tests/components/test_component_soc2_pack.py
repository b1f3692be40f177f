"""The SOC 2 pack's own checks (policy/soc2, evaluated in-process through its registry) find no
violation in what WebService registers: with only the required args, and with every option on.

Props are what a resolved plan holds: the inputs the engine received plus the mock's outputs
(ids and ARNs), which is how the pack relates a bucket to its policy or a task to its log group.
"""

from __future__ import annotations

import sys
from typing import Any
from pathlib import Path

import pytest

from rampart.components.compliance import ComplianceSettings
from rampart.components.load_balancer import DomainSettings, LoadBalancerSettings
from rampart.components.monitoring import MonitoringArgs
from rampart.components.network import CreateNetworkArgs, NetworkSettings
from rampart.components.proxy_config import ProxyConfig
from components_support import Plan, minimal_args, run_service

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policy" / "soc2"))

from rampart_soc2.model import (  # noqa: E402
    Unknown,
    Violation,
    context_from_config,
    evaluate_resource,
    evaluate_stack,
    make_resource,
)
from rampart_soc2.registry import POLICIES  # noqa: E402

# Who is on call is the one thing a default cannot know: every variant names an alarm address.
ON_CALL = MonitoringArgs(alarm_email_endpoints=["oncall@example.com"])
# Nor what the image runs to report its health: its image is built elsewhere (no Dockerfile to read).
HEALTH = {"command": ["CMD", "/server", "-health"]}

VARIANTS = {
    "required args and an alarm address": lambda: minimal_args(monitoring=ON_CALL, container_health_check=HEALTH),
    # ECS Exec is left out: it needs a writable root, which the read-only-root control reports.
    "every option on": lambda: minimal_args(
        monitoring=ON_CALL,
        container_health_check=HEALTH,
        secrets={"DB_URL": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"},
        secret_kms_key_arns={"DB_URL": "arn:aws:kms:us-east-1:123456789012:key/0d9f8e7c-1111-2222-3333-444455556666"},
        environment={"LOG_LEVEL": "info"},
        load_balancer=LoadBalancerSettings(
            domains=[DomainSettings(domain=d, hosted_zone_id="Z123456ABC") for d in ("shop.example.com", "api.example.com")]
        ),
        routing={"hosts": ["shop.example.com"], "paths": ["/shop/*"]},
        network=NetworkSettings(create=CreateNetworkArgs(az_count=3, nat_gateways="perAz")),
        min_count=2,
        compliance=ComplianceSettings(recorder="create"),
    ),
    # The load balancer's egress to identity providers is judged by the pack's security group policies.
    "sign-in route": lambda: minimal_args(
        monitoring=ON_CALL,
        container_health_check=HEALTH,
        load_balancer=LoadBalancerSettings(
            certificate_arns=["arn:aws:acm:us-east-1:123456789012:certificate/x"], sign_in_egress=True
        ),
        routing={"access": [{"paths": ["/admin/*"], "private": True, "cognito": {
            "userPoolArn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123",
            "userPoolClientId": "abc123", "userPoolDomain": "shop-login"}}]},
    ),
    "nginx sidecar": lambda: minimal_args(
        monitoring=ON_CALL,
        container_health_check=HEALTH,
        ingress="nginx",
        proxy=ProxyConfig(),
        proxy_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/proxy@sha256:" + "b" * 64,
        proxy_image_repository_arn="arn:aws:ecr:us-east-1:123456789012:repository/proxy",
    ),
    # The readiness policy must be able to show that the execution role can read and decrypt the
    # certificate a stack brings (secrets it did not create: the key is stated on the task definition).
    "nginx sidecar with a brought certificate": lambda: minimal_args(
        monitoring=ON_CALL,
        container_health_check=HEALTH,
        ingress="nginx",
        proxy=ProxyConfig.model_validate({"certificate": {"secrets": {
            "certSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/proxy-cert-AbCdEf",
            "keySecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/proxy-key-AbCdEf",
            "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/0d9f8e7c-1111-2222-3333-444455556666"}}}),
        proxy_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/proxy@sha256:" + "b" * 64,
        proxy_image_repository_arn="arn:aws:ecr:us-east-1:123456789012:repository/proxy",
    ),
}


#: The one finding the components' defaults earn on purpose: a service deploys `rolling` unless its
#: `deployment` says otherwise, which the pack advises against outside production stacks (and refuses on
#: them: tests/components/test_component_deployments.py, tests/foundation/test_stack_breaks_a_default.py).
#: Only a rolling service's finding is set aside here; a blue/green one that fails the policy still counts.
ROLLING_ADVICE = "aws-ecs-service-require-alarm-rollback-and-bake"


def _deploys_rolling(resource: Any) -> bool:
    config = resource.props.raw().get("deploymentConfiguration") or {}
    return (config.get("strategy") or "ROLLING") == "ROLLING"


def findings(plan: Plan) -> list[str]:
    resources = [
        make_resource(r.type, r.name, {**r.inputs, **r.outputs}, urn=r.urn, parent=r.parent_urn)
        for r in plan.resources
        if r.custom
    ]
    problems: list[str] = []
    for policy_id, spec in sorted(POLICIES.items()):
        ctx = context_from_config(policy_id, {}, stack="test")
        if spec.kind == "resource":
            results = [(r.name, evaluate_resource(spec, r, ctx)) for r in resources]
        else:
            results = evaluate_stack(spec, resources, ctx)
        by_name = {r.name: r for r in resources}
        by_urn = {r.urn: r for r in resources}
        problems += [f"{policy_id}: {name}: {outcome}" for name, outcome in results
                     if isinstance(outcome, (Violation, Unknown))
                     and not (policy_id == ROLLING_ADVICE and _deploys_rolling(by_name.get(name) or by_urn[name]))]
    return problems


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_pack_finds_no_violation(variant: str) -> None:
    assert len(POLICIES) >= 40, "the pack registry looks incomplete"
    assert findings(run_service(VARIANTS[variant]())) == []


def test_required_args_alone_leave_only_the_unsubscribed_topic() -> None:
    """Without an address the alarms reach no one: the pack says so, and says nothing else (the
    health check is given: an image built elsewhere brings none the program can read)."""
    found = findings(run_service(minimal_args(container_health_check=HEALTH)))
    policy = "aws-cloudwatch-metricalarm-require-subscribed-topic: "
    # Six on the service's target group and tasks, two on the environment (ALB 5xx, WAF blocks).
    assert len(found) == 8 and all(f.startswith(policy) and "shop-alarm-" in f for f in found), found


@pytest.mark.parametrize("strategy", ["blue_green", "canary", "linear"])
def test_a_service_that_shifts_traffic_passes_the_whole_pack(strategy: str) -> None:
    """The alternate target group, the production and test rules and the ECS infrastructure role pass every
    policy (health check, rule priorities, HTTPS-only forwarding, IAM, readiness), and the rollback alarms and
    bake time pass the safe-deploy policy itself."""
    found = findings(run_service(minimal_args(monitoring=ON_CALL, container_health_check=HEALTH,
                                              deployment={"strategy": strategy})))
    assert found == [], found


def test_a_rolling_service_is_advised_to_bake() -> None:
    """What ROLLING_ADVICE sets aside is really there: the default (rolling) service gets exactly that finding."""
    from rampart_soc2.model import context_from_config, evaluate_resource, make_resource

    plan = run_service(minimal_args(monitoring=ON_CALL, container_health_check=HEALTH))
    service = next(r for r in plan.resources if r.type == "aws:ecs/service:Service")
    outcome = evaluate_resource(POLICIES[ROLLING_ADVICE], make_resource(service.type, service.name, service.inputs),
                                context_from_config(ROLLING_ADVICE, {}, stack="test"))
    assert isinstance(outcome, Violation) and "strategy ROLLING keeps no old tasks" in outcome.message, outcome
    assert POLICIES[ROLLING_ADVICE].enforcement_for("test") == "advisory"


def test_a_container_without_any_health_check_is_reported() -> None:
    """No image HEALTHCHECK known and none given: the task has no container check, and the pack's
    health-check control reports it (the component never invents another image's command)."""
    found = findings(run_service(minimal_args(monitoring=ON_CALL)))
    assert [f.split(":")[0] for f in found] == ["aws-ecs-taskdefinition-require-health-check"], found


def test_pack_sees_an_opt_out() -> None:
    """Guard against a vacuous pass: an explicit opt-out is reported by the pack."""
    plan = run_service(minimal_args(waf=None, load_balancer=LoadBalancerSettings(
        certificate_arns=["arn:aws:acm:us-east-1:123456789012:certificate/x"], deletion_protection=False)))
    found = findings(plan)
    assert any(f.startswith("aws-lb-loadbalancer-require-waf-association") for f in found), found
    assert any("deletion" in f for f in found), found
