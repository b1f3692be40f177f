"""Helpers for the component tests: build a WebService under the mock engine and query what it registered."""

from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Optional

import pulumi

from components.load_balancer import LoadBalancerSettings
from components.web_service import WebService, WebServiceArgs
from rampart.mock_engine import RegisteredResource, run_program_full

ACCOUNT = "123456789012"
REGION = "us-east-1"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shop@sha256:" + "a" * 64
REPOSITORY_ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shop"
CERTIFICATE_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0f0e0d0c-1111-2222-3333-444455556666"
TAGS = {"Owner": "payments-team", "Environment": "test", "CostCentre": "cc-42"}


def minimal_args(**overrides: Any) -> WebServiceArgs:
    """Only the required args (what an app team writes), plus any overrides."""
    values: dict[str, Any] = {
        "image": IMAGE,
        "image_repository_arn": REPOSITORY_ARN,
        "load_balancer": LoadBalancerSettings(certificate_arn=CERTIFICATE_ARN),
    }
    values.update(overrides)
    return WebServiceArgs(**values)


@dataclass
class Plan:
    """What one mocked program registered, with lookups whose failures name the resource."""

    resources: list[RegisteredResource]
    outputs: dict[str, Any]

    def of_type(self, type_token: str) -> list[RegisteredResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: Optional[str] = None) -> RegisteredResource:
        found = [r for r in self.of_type(type_token) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_token} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> RegisteredResource:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, found {len(found)}"
        return found[0]

    def containers(self) -> list[dict[str, Any]]:
        task = self.one("aws:ecs/taskDefinition:TaskDefinition")
        return list(json.loads(task.inputs["containerDefinitions"]))

    def container(self, name: str = "app") -> dict[str, Any]:
        matches = [c for c in self.containers() if c["name"] == name]
        assert len(matches) == 1, f"task definition has no single container {name!r}"
        return matches[0]

    def policy(self, resource: RegisteredResource, key: str = "policy") -> dict[str, Any]:
        raw = resource.inputs[key]
        return json.loads(raw) if isinstance(raw, str) else dict(raw)

    def by_urn(self, urn: str) -> RegisteredResource:
        return next(r for r in self.resources if r.urn == urn)


def run_service(args: WebServiceArgs, name: str = "shop", *, extra: Optional[Callable[[], None]] = None) -> Plan:
    """Register one WebService (and export its outputs as a stack would) under the mock engine."""

    def program() -> None:
        service = WebService(name, args)
        pulumi.export("url", service.url)
        pulumi.export("albDnsName", service.alb_dns_name)
        pulumi.export("clusterName", service.cluster_name)
        pulumi.export("serviceName", service.service_name)
        pulumi.export("logGroupNames", service.log_group_names)
        pulumi.export("webAclArn", service.web_acl_arn)
        if extra is not None:
            extra()

    run = run_program_full(program, region=REGION)
    return Plan(resources=run.resources, outputs=run.stack_outputs)


@lru_cache(maxsize=None)
def is_taggable(type_token: str) -> bool:
    """True when the provider resource behind a type token accepts `tags` (read from pulumi_aws itself)."""
    package, module_path, class_name = type_token.split(":")
    if package != "aws":
        return False
    module = module_path.split("/")[0]
    mod = importlib.import_module("pulumi_aws" if module == "index" else f"pulumi_aws.{module}")
    cls = getattr(mod, class_name)
    return "tags" in inspect.signature(cls._internal_init).parameters
