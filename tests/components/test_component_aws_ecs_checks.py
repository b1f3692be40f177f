"""What the ECS API refuses when a task definition or service is created (`rampart/aws_checks.py`).

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

from components.proxy_config import ProxyConfig
from components.web_service import WebService
from components_support import IMAGE, REPOSITORY_ARN, minimal_args
from rampart import aws_checks
from rampart.mock_engine import AwsRefusal, run_program

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
    resources = run_program(lambda: WebService("shop", minimal_args(ingress=ingress, **extra)) and None)
    assert aws_checks.refusals(resources) == []
    service = next(r for r in resources if r.type == aws_checks.SERVICE)
    moved = [{**lb, "containerPort": 1} for lb in service.inputs["loadBalancers"]]
    broken = [dataclasses.replace(r, inputs={**r.inputs, "loadBalancers": moved}) if r is service else r for r in resources]
    found = aws_checks.refusals(broken)
    assert len(found) == 1 and "targets port 1 of container" in found[0], found
