"""ingress='nginx': the target group speaks HTTPS to the Nginx sidecar (rampart/components/sidecar.py),
the app port is no longer reachable from the ALB, and the sidecar's secrets, log group, health
check and start order are wired in."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from rampart.components.proxy_config import ProxyConfig
from components_support import REPOSITORY_ARN, TAGS, Plan, ServiceCase, is_taggable, minimal_args, run_service

PROXY_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/proxy@sha256:" + "b" * 64
PROXY_REPOSITORY_ARN = "arn:aws:ecr:us-east-1:123456789012:repository/proxy"


def nginx_args(**overrides: Any) -> ServiceCase:
    return minimal_args(
        ingress="nginx",
        proxy=ProxyConfig(),
        proxy_image=PROXY_IMAGE,
        proxy_image_repository_arn=PROXY_REPOSITORY_ARN,
        tags=TAGS,
        **overrides,
    )


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_service(nginx_args())


def test_target_group_speaks_https_to_the_proxy(plan: Plan) -> None:
    tg = plan.one("aws:lb/targetGroup:TargetGroup")
    assert (tg.inputs["protocol"], tg.inputs["port"]) == ("HTTPS", 8443), f"{tg.name}: {tg.inputs['protocol']}:{tg.inputs['port']}"
    hc = tg.inputs["healthCheck"]
    assert (hc["protocol"], hc["path"], hc["matcher"]) == ("HTTPS", "/healthz", "200"), hc
    (lb,) = plan.one("aws:ecs/service:Service").inputs["loadBalancers"]
    assert (lb["containerName"], lb["containerPort"]) == ("proxy", 8443), lb


def test_app_port_is_not_reachable_from_the_alb(plan: Plan) -> None:
    service_sg = plan.named("shop-service-sg").outputs["id"]
    alb_sg = plan.named("shop-lb-alb-sg").outputs["id"]
    ingress = [(r.inputs["fromPort"], r.inputs["toPort"], r.inputs.get("referencedSecurityGroupId"))
               for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
               if r.inputs["securityGroupId"] == service_sg]
    assert ingress == [(8443, 8443, alb_sg)], ingress
    # The shared ALB may reach the VPC's unprivileged ports; the service's own group is what keeps
    # the app port (3000 or 8080, inside that range) closed to it.
    egress = [(r.inputs["fromPort"], r.inputs["toPort"], r.inputs.get("cidrIpv4"))
              for r in plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
              if r.inputs["securityGroupId"] == alb_sg]
    assert egress == [(1024, 65535, "10.0.0.0/16")], egress
    app = plan.container("app")
    assert {"name": "HOST", "value": "127.0.0.1"} in app["environment"], "app still listens on every interface"


def test_task_has_the_proxy_container(plan: Plan) -> None:
    names = [c["name"] for c in plan.containers()]
    assert names == ["app", "proxy"], names
    proxy = plan.container("proxy")
    # The app image here declares no health check, so the proxy can wait only for the app to start
    # (ECS refuses HEALTHY on a container without one); test_container_health covers both cases.
    assert proxy["dependsOn"] == [{"containerName": "app", "condition": "START"}]
    assert proxy["image"] == PROXY_IMAGE and proxy["healthCheck"]["command"][0] == "CMD"
    assert {s["name"] for s in proxy["secrets"]} == {"PROXY_TLS_CERT", "PROXY_TLS_KEY"}
    assert "environment" not in proxy or proxy["environment"] == []
    group = plan.named("shop-proxy-logs")
    assert proxy["logConfiguration"]["options"]["awslogs-group"] == group.outputs["name"]
    assert group.inputs["kmsKeyId"] and group.inputs["retentionInDays"] == 365
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    assert [v["name"] for v in task.inputs["volumes"]] == ["writable-tmp", "proxy-run", "proxy-cache"]
    app = plan.container("app")
    for container in (app, proxy):  # hard limits (ECS_TASK_DEFINITION_MEMORY_HARD_LIMIT), not only reservations
        assert isinstance(container.get("memory"), int) and container["memory"] > 0, f"{container['name']}: no hard memory limit"
    assert app["memory"] + proxy["memory"] <= int(task.inputs["memory"]), "containers exceed the task memory"


def test_execution_role_reads_the_proxy_secrets_and_pulls_both_images(plan: Plan) -> None:
    role_id = plan.named("shop-execution-role").outputs["id"]
    policies = {p.name: json.loads(p.inputs["policy"]) for p in plan.of_type("aws:iam/rolePolicy:RolePolicy")
                if p.inputs["role"] == role_id}
    assert set(policies) == {"shop-execution-policy", "shop-execution-proxy-policy"}, set(policies)
    secrets = {plan.named("shop-proxy-tls-cert-secret").outputs["arn"], plan.named("shop-proxy-tls-key-secret").outputs["arn"]}
    read = next(s for s in policies["shop-execution-proxy-policy"]["Statement"] if s["Action"] == "secretsmanager:GetSecretValue")
    assert set(read["Resource"]) == secrets
    pull = next(s for s in policies["shop-execution-policy"]["Statement"] if s["Sid"] == "PullThisImage")
    assert pull["Resource"] == sorted([REPOSITORY_ARN, PROXY_REPOSITORY_ARN])
    logs = next(s for s in policies["shop-execution-policy"]["Statement"] if s["Sid"] == "WriteTheseLogGroups")
    assert len(logs["Resource"]) == 2
    key_arn = plan.one("aws:kms/key:Key").outputs["arn"]
    for secret in plan.of_type("aws:secretsmanager/secret:Secret"):
        assert secret.inputs["kmsKeyId"] == key_arn, f"{secret.name}: not encrypted with the service key"


def test_outputs_name_the_proxy_log_group_and_no_secret(plan: Plan) -> None:
    assert set(plan.outputs["logGroupNames"]) == {"app", "proxy", "vpc_flow", "waf"}
    dumped = json.dumps(plan.outputs)
    assert "tls" not in dumped and "secret" not in dumped.lower(), plan.outputs


def test_structure_in_nginx_mode(plan: Plan) -> None:
    assert not [u for u, n in Counter(r.urn for r in plan.resources).items() if n > 1]
    sidecar = plan.one("rampart:sidecar:ProxySidecar")
    assert sidecar.name == "shop-proxy" and sidecar.parent_urn == plan.one("rampart:web_service:WebService").urn
    for resource in plan.resources:
        if resource.custom and is_taggable(resource.type):
            tags = resource.inputs.get("tags") or {}
            assert all(tags.get(k) == v for k, v in TAGS.items()), f"{resource.name} lacks the tags"
