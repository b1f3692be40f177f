"""Helpers for the component tests: build an Environment and a WebService attached to it under the
mock engine, and query what they registered."""

from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping, Optional

import pulumi

from rampart.components.compliance import ComplianceSettings, ExistingRecorder
from rampart.components.environment import Environment, EnvironmentArgs, EnvironmentRef, EnvironmentSettings
from rampart.components.load_balancer import LoadBalancerSettings
from rampart.components.web_service import WebService, WebServiceArgs
from rampart.offline.mock_engine import RegisteredResource, run_program_full

ACCOUNT = "123456789012"
REGION = "us-east-1"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shop@sha256:" + "a" * 64
REPOSITORY_ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shop"
CERTIFICATE_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0f0e0d0c-1111-2222-3333-444455556666"
TAGS = {"Owner": "payments-team", "Environment": "test", "CostCentre": "cc-42"}
DECLARED_RECORDER = ExistingRecorder(existing="default")


#: Args that belong to the environment the service attaches to, not to the service. `alarms` and
#: `tags` exist on both: `alarms` is the service's (the environment's are `environment_alarms`), and
#: `tags` go to both, as `rampart.program` gives the stack's tags to the environment and every service.
ENVIRONMENT_KEYS = frozenset(EnvironmentSettings.model_fields) - {"tags", "alarms"}


@dataclass
class ServiceCase:
    """A service's args (validated) and the settings of the environment it attaches to."""

    service: dict[str, Any]
    environment: EnvironmentSettings

    def args(self, environment: EnvironmentRef) -> WebServiceArgs:
        return WebServiceArgs(environment_ref=environment, image=IMAGE, image_repository_arn=REPOSITORY_ARN, **self.service)


def placeholder_ref(settings: EnvironmentSettings) -> EnvironmentRef:
    """What a real Environment with these settings would report, before any resource exists: lets
    `minimal_args` validate a service's args where a test calls it."""
    return EnvironmentRef.planned("shop", settings)


def minimal_args(**overrides: Any) -> ServiceCase:
    """Only the required args (what an app team writes), plus any overrides; environment settings
    (load_balancer, network, waf, monitoring, ...) go to the environment the service attaches to."""
    env_values: dict[str, Any] = {
        "load_balancer": LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN]),
        # Every environment says where its AWS Config recorder is: here the account's own (declared).
        "compliance": ComplianceSettings(recorder=DECLARED_RECORDER),
    }
    env_values.update({k: overrides.pop(k) for k in list(overrides) if k in ENVIRONMENT_KEYS})
    if "environment_alarms" in overrides:
        env_values["alarms"] = overrides.pop("environment_alarms")
    if "tags" in overrides:
        env_values["tags"] = overrides["tags"]
    case = ServiceCase(overrides, EnvironmentSettings(**env_values))
    case.args(placeholder_ref(case.environment))  # refuse bad args here, as WebServiceArgs would
    return case


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


def compose(case: ServiceCase, name: str = "shop", *, wait_for_environment: bool = False) -> tuple[Environment, WebService]:
    """Register an Environment and one WebService attached to it, both named `name` (call inside a
    program). `wait_for_environment` composes them as `rampart.program` does: the service in
    `depends_on` of the whole environment (its routes and endpoints); without it, as a component
    user's program with only the required arguments does."""
    environment = Environment(name, EnvironmentArgs(**dict(case.environment)))
    opts = pulumi.ResourceOptions(depends_on=[environment]) if wait_for_environment else None
    return environment, WebService(name, case.args(environment.ref), opts=opts)


def run_service(
    case: ServiceCase,
    name: str = "shop",
    *,
    extra: Optional[Callable[[], None]] = None,
    wait_for_environment: bool = False,
) -> Plan:
    """Register an Environment and one WebService attached to it (and export their outputs as a
    stack would) under the mock engine; `wait_for_environment` as in `compose`."""

    def program() -> None:
        environment, service = compose(case, name, wait_for_environment=wait_for_environment)
        pulumi.export("environment", environment.ref.outputs())
        pulumi.export("url", service.url)
        pulumi.export("serviceName", service.service_name)
        pulumi.export("logGroupNames", {**environment.log_group_names, **service.log_group_names})
        if extra is not None:
            extra()

    run = run_program_full(program, region=REGION)
    return Plan(resources=run.resources, outputs=run.stack_outputs)


def run_environment(
    environment: EnvironmentSettings, services: Mapping[str, Mapping[str, Any]], name: str = "shop", *, stack: str = "test"
) -> Plan:
    """Register an Environment and one WebService per entry of `services` (name -> the service's own
    args, as a component user writes them) attached to it, under the mock engine."""

    def program() -> None:
        env = Environment(name, EnvironmentArgs(**dict(environment)))
        pulumi.export("environment", env.ref.outputs())
        for service_name, args in services.items():
            service = WebService(
                service_name,
                WebServiceArgs(environment_ref=env.ref, image=IMAGE, image_repository_arn=REPOSITORY_ARN, **args),
            )
            pulumi.export(f"{service_name}Url", service.url)

    run = run_program_full(program, region=REGION, stack=stack)
    return Plan(resources=run.resources, outputs=run.stack_outputs)


def descendants(plan: Plan, root: RegisteredResource) -> list[RegisteredResource]:
    """Every resource registered under `root`, at any depth."""
    below: set[str] = {root.urn}
    grew = True
    while grew:
        grew = False
        for resource in plan.resources:
            if resource.parent_urn in below and resource.urn not in below:
                below.add(resource.urn)
                grew = True
    return [r for r in plan.resources if r.urn in below and r is not root]


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
