"""ingress='nginx': the target group speaks HTTPS to the Nginx sidecar (rampart/components/sidecar.py),
the app port is no longer reachable from the ALB, and the sidecar's secrets, log group, health
check and start order are wired in."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from rampart.components.proxy_config import ProxyConfig
from rampart.components.routing import HEALTH_CHECK_PATH
from components_support import REPOSITORY_ARN, TAGS, Plan, ServiceCase, is_taggable, minimal_args, run_service

PROXY_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/proxy@sha256:" + "b" * 64
PROXY_REPOSITORY_ARN = "arn:aws:ecr:us-east-1:123456789012:repository/proxy"


def nginx_args(**overrides: Any) -> ServiceCase:
    return minimal_args(
        **{
            "ingress": "nginx",
            "proxy": ProxyConfig(),
            "proxy_image": PROXY_IMAGE,
            "proxy_image_repository_arn": PROXY_REPOSITORY_ARN,
            "tags": TAGS,
            **overrides,
        }
    )


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_service(nginx_args())


def test_target_group_speaks_https_to_the_proxy(plan: Plan) -> None:
    tg = plan.one("aws:lb/targetGroup:TargetGroup")
    assert (tg.inputs["protocol"], tg.inputs["port"]) == ("HTTPS", 8443), f"{tg.name}: {tg.inputs['protocol']}:{tg.inputs['port']}"
    hc = tg.inputs["healthCheck"]
    assert (hc["protocol"], hc["path"], hc["matcher"]) == ("HTTPS", HEALTH_CHECK_PATH, "200"), hc
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
    assert "secrets" not in proxy, "the proxy makes its own TLS pair at start: no ECS secret"
    assert {e["name"] for e in proxy["environment"]} == {"PROXY_TLS_COMMON_NAME", "PROXY_TLS_VALIDITY_DAYS"}
    group = plan.named("shop-proxy-logs")
    assert proxy["logConfiguration"]["options"]["awslogs-group"] == group.outputs["name"]
    assert group.inputs["kmsKeyId"] and group.inputs["retentionInDays"] == 365
    task = plan.one("aws:ecs/taskDefinition:TaskDefinition")
    assert [v["name"] for v in task.inputs["volumes"]] == ["writable-tmp", "proxy-run", "proxy-cache"]
    app = plan.container("app")
    for container in (app, proxy):  # hard limits (ECS_TASK_DEFINITION_MEMORY_HARD_LIMIT), not only reservations
        assert isinstance(container.get("memory"), int) and container["memory"] > 0, f"{container['name']}: no hard memory limit"
    assert app["memory"] + proxy["memory"] <= int(task.inputs["memory"]), "containers exceed the task memory"


def test_execution_role_pulls_both_images_and_reads_no_tls_secret(plan: Plan) -> None:
    role_id = plan.named("shop-execution-role").outputs["id"]
    policies = {p.name: json.loads(p.inputs["policy"]) for p in plan.of_type("aws:iam/rolePolicy:RolePolicy")
                if p.inputs["role"] == role_id}
    assert set(policies) == {"shop-execution-policy"}, set(policies)
    actions = {a for s in policies["shop-execution-policy"]["Statement"] for a in [s["Action"]] if isinstance(a, str)}
    assert not actions & {"secretsmanager:GetSecretValue", "kms:Decrypt"}, f"the execution role may still {actions}"
    pull = next(s for s in policies["shop-execution-policy"]["Statement"] if s["Sid"] == "PullThisImage")
    assert pull["Resource"] == sorted([REPOSITORY_ARN, PROXY_REPOSITORY_ARN])
    logs = next(s for s in policies["shop-execution-policy"]["Statement"] if s["Sid"] == "WriteTheseLogGroups")
    assert len(logs["Resource"]) == 2


def test_no_tls_material_or_secret_in_the_plan(plan: Plan) -> None:
    found = [(r.type, r.name) for r in plan.resources if r.type.startswith("tls:") or r.type.startswith("aws:secretsmanager")]
    assert found == [], f"TLS material or a secret for it in the plan: {found}"
    assert "PRIVATE KEY" not in json.dumps([r.inputs for r in plan.resources], default=str)


BROUGHT_KMS = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
BROUGHT_CERT = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/proxy-cert-AbCdEf"
BROUGHT_KEY = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/proxy-key-AbCdEf"


def brought_proxy() -> ProxyConfig:
    return ProxyConfig.model_validate({"certificate": {"secrets": {
        "certSecretArn": BROUGHT_CERT, "keySecretArn": BROUGHT_KEY, "kmsKeyArn": BROUGHT_KMS}}})


def test_a_brought_certificate_is_read_and_decrypted_with_its_own_key_only() -> None:
    """As for the app's own secrets (`secret_kms_key_arns`): the execution role reads exactly the two
    secrets and decrypts only with their key, through Secrets Manager, and the task definition states
    the key of each (the pack's readiness policy reads it there)."""
    plan = run_service(nginx_args(proxy=brought_proxy()))
    proxy = plan.container("proxy")
    assert proxy["secrets"] == [{"name": "PROXY_TLS_CERT", "valueFrom": BROUGHT_CERT},
                                {"name": "PROXY_TLS_KEY", "valueFrom": BROUGHT_KEY}]
    role_id = plan.named("shop-execution-role").outputs["id"]
    (policy,) = [json.loads(p.inputs["policy"]) for p in plan.of_type("aws:iam/rolePolicy:RolePolicy")
                 if p.inputs["role"] == role_id]
    read = next(s for s in policy["Statement"] if s["Action"] == "secretsmanager:GetSecretValue")
    assert sorted(read["Resource"]) == sorted([BROUGHT_CERT, BROUGHT_KEY])
    decrypt = [s for s in policy["Statement"] if s["Action"] == "kms:Decrypt"]
    assert decrypt and all(s["Resource"] == BROUGHT_KMS for s in decrypt), decrypt
    assert all(s["Condition"]["StringEquals"]["kms:ViaService"] == "secretsmanager.us-east-1.amazonaws.com"
               for s in decrypt), decrypt
    tags = plan.one("aws:ecs/taskDefinition:TaskDefinition").inputs["tags"]
    assert tags["rampart-secret-kms-key:PROXY_TLS_CERT"] == BROUGHT_KMS
    assert tags["rampart-secret-kms-key:PROXY_TLS_KEY"] == BROUGHT_KMS
    assert not plan.of_type("aws:secretsmanager/secret:Secret"), "the stack brings the secrets; it creates none"


def test_an_app_secret_may_not_take_the_brought_certificates_name() -> None:
    with pytest.raises(ValueError, match="PROXY_TLS_KEY is the name the sidecar's brought certificate uses"):
        nginx_args(proxy=brought_proxy(), secrets={"PROXY_TLS_KEY": BROUGHT_KEY},
                   secret_kms_key_arns={"PROXY_TLS_KEY": BROUGHT_KMS})
    assert nginx_args(secrets={"PROXY_TLS_KEY": BROUGHT_KEY}, secret_kms_key_arns={"PROXY_TLS_KEY": BROUGHT_KMS}), \
        "with a made certificate the name is free"


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
