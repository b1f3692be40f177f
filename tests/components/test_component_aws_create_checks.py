"""What AWS refuses when a resource is created, from its relationships (`rampart/offline/aws_checks.py`).

The mock engine applies these checks to every run, so every component test also proves the
components' task definitions and services pass them; here each refusal is shown once on a small
program, and the checks are shown to read the components' real wiring (not to pass vacuously).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi_aws as aws
import pytest

from rampart.components.proxy_config import ProxyConfig
from components_support import IMAGE, REPOSITORY_ARN, compose, minimal_args
from rampart.offline import aws_checks
from rampart.offline.mock_engine import AwsRefusal, run_program

APP: dict[str, Any] = {
    "name": "app", "image": "x", "essential": True, "memory": 256,
    "portMappings": [{"containerPort": 8080}],
    "healthCheck": {"command": ["CMD", "true"]},
}


def _program(containers: list[dict[str, Any]], *, port: int = 8080, container: str = "app", target_type: str = "ip",
             volumes: tuple[str, ...] = ()) -> None:
    task = aws.ecs.TaskDefinition(
        "task", family="shop-dev", cpu="256", memory="512", network_mode="awsvpc", requires_compatibilities=["FARGATE"],
        container_definitions=json.dumps(containers), volumes=[{"name": v} for v in volumes],
    )
    tg = aws.lb.TargetGroup("tg", port=port, protocol="HTTP", vpc_id="vpc-1", target_type=target_type)
    aws.ecs.Service(
        "service", task_definition=task.arn, launch_type="FARGATE",
        load_balancers=[{"target_group_arn": tg.arn, "container_name": container, "container_port": port}],
    )


def test_a_correct_service_passes() -> None:
    run_program(lambda: _program([APP]))


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"port": 9090}, "targets port 9090 of container 'app', which maps only [8080]"),
        ({"container": "proxy"}, "targets container 'proxy', which the task definition does not have"),
        ({"target_type": "instance"}, "has target type 'instance'; tasks in awsvpc mode (Fargate) register by IP"),
        ({"containers": [APP, {**APP, "name": "proxy", "portMappings": [], "memory": 512}]}, "the containers' memory (768) is more than the task's memory (512)"),
        ({"containers": [{**APP, "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp"}]}]}, "mounts sourceVolume 'tmp', which is not one of the task's volumes"),
        (
            {"containers": [{**APP, "healthCheck": None}, {**APP, "name": "proxy", "memory": 128, "portMappings": [],
                                                           "dependsOn": [{"containerName": "app", "condition": "HEALTHY"}]}]},
            "waits for 'app' to be HEALTHY, which has no healthCheck",
        ),
        ({"containers": [{**APP, "portMappings": [{"containerPort": 8080, "hostPort": 80}]}]}, "in awsvpc mode they must be equal"),
        ({"containers": [APP, {**APP, "memory": 128}]}, "two containers are named 'app'"),
        ({"containers": [{**APP, "name": "app.web"}], "container": "app.web"}, "container name 'app.web' is not 1-255 letters"),
    ],
)
def test_what_ecs_refuses_at_create_fails_the_plan(kwargs: dict[str, Any], expected: str) -> None:
    containers = kwargs.pop("containers", [APP])
    with pytest.raises(AwsRefusal) as refused:
        run_program(lambda: _program(containers, **kwargs))
    assert expected in str(refused.value), str(refused.value)


@pytest.mark.parametrize("ingress", ["alb", "nginx"])
def test_the_checks_read_the_components_wiring(ingress: str) -> None:
    extra = {"proxy": ProxyConfig(), "proxy_image": IMAGE, "proxy_image_repository_arn": REPOSITORY_ARN} if ingress == "nginx" else {}
    case = minimal_args(ingress=ingress, **extra)
    resources = run_program(lambda: compose(case) and None)
    assert aws_checks.refusals(resources) == []
    service = next(r for r in resources if r.type == aws_checks.SERVICE)
    moved = [{**lb, "containerPort": 1} for lb in service.inputs["loadBalancers"]]
    broken = [dataclasses.replace(r, inputs={**r.inputs, "loadBalancers": moved}) if r is service else r for r in resources]
    found = aws_checks.refusals(broken)
    assert len(found) == 1 and "targets port 1 of container" in found[0], found


# --- an ALB's access-log bucket and a WAF logging destination ----------------------------------


def _alb_with_logs(*, policy: bool = True, algorithm: str = "AES256", prefix: str = "alb") -> None:
    bucket = aws.s3.Bucket("logs")
    aws.s3.BucketServerSideEncryptionConfiguration(
        "logs-encryption", bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": algorithm}}],
    )
    if policy:
        aws.s3.BucketPolicy("logs-policy", bucket=bucket.id, policy=bucket.arn.apply(lambda arn: json.dumps({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                "Action": "s3:PutObject", "Resource": f"{arn}/alb/AWSLogs/123456789012/*",
            }],
        })))
    aws.lb.LoadBalancer("alb", name="shop-dev", access_logs={"bucket": bucket.id, "prefix": prefix, "enabled": True})


def test_alb_access_logs_into_a_bucket_the_delivery_may_write_pass() -> None:
    run_program(lambda: _alb_with_logs())


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"policy": False}, "whose policy does not let the log delivery put"),
        ({"prefix": "logs/alb"}, "logs/alb/AWSLogs/123456789012/ELBAccessLogTestFile"),
        ({"algorithm": "aws:kms"}, "ALB access logs support SSE-S3 (AES256) only"),
    ],
)
def test_alb_access_logs_aws_would_refuse_fail_the_plan(kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(AwsRefusal) as refused:
        run_program(lambda: _alb_with_logs(**kwargs))
    assert expected in str(refused.value), str(refused.value)


def test_waf_logging_into_a_group_not_named_aws_waf_logs_fails_the_plan() -> None:
    def program() -> None:
        group = aws.cloudwatch.LogGroup("waf", name="/shop/dev/waf")
        aws.wafv2.WebAclLoggingConfiguration("logging", resource_arn="arn:aws:wafv2:x", log_destination_configs=[group.arn])

    with pytest.raises(AwsRefusal, match="destination log group '/shop/dev/waf' does not start with `aws-waf-logs-`"):
        run_program(program)


def test_the_access_log_and_waf_checks_read_the_components_wiring() -> None:
    case = minimal_args()
    resources = run_program(lambda: compose(case) and None)
    assert aws_checks.refusals(resources) == []
    no_grants = [
        dataclasses.replace(r, inputs={**r.inputs, "policy": json.dumps({"Statement": [
            s for s in json.loads(r.inputs["policy"])["Statement"] if s["Effect"] == "Deny"]})})
        if r.type == aws_checks.BUCKET_POLICY else r
        for r in resources
    ]
    found = aws_checks.refusals(no_grants)
    assert len(found) == 1 and "does not let the log delivery put" in found[0], found
    renamed = [
        dataclasses.replace(r, outputs={**r.outputs, "name": "/shop/test/waf"}) if r.name == "shop-waf-logs" else r
        for r in resources
    ]
    found = aws_checks.refusals(renamed)
    assert len(found) == 1 and "does not start with `aws-waf-logs-`" in found[0], found
