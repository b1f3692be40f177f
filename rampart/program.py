"""The program behind `__main__.py`: map a validated StackConfig onto the component library.

This is the only place that knows both the stack file's shape and the components' args; the
components know nothing of stacks. The stack file's sections are the components' own settings
models, so this module wires them together (environment reference, images) and copies no field
one by one. Kept importable (rather than inline in `__main__.py`) so tests and `rampart` can drive it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pulumi
from pydantic import ValidationError

from rampart.components.environment import ENVIRONMENT_OUTPUT, Environment, EnvironmentArgs, EnvironmentRef
from rampart.components.image import Image, ImageArgs, ImageFacts, declared_volumes, read_image_facts
from rampart.components.network import alb_subnet_cidrs
from rampart.components.proxy_config import ProxyConfig
from rampart.components.nginx_conf import write_image_context
from rampart.components.web_service import WebService, WebServiceArgs
from rampart.config import ConfigError, ImageConfig, ServiceConfig, StackConfig

#: Where each proxy image context is rendered for a build, relative to the project directory.
BUILD_DIR = Path(".rampart") / "build"
#: The sidecar image's source in this config-driven program's project (Rampart's checkout or a fork of it,
#: whose proxy/ may differ from the installed one: programs of app teams use PROXY_IMAGE_SOURCES), and the
#: stage a build targets.
PROXY_SOURCE = Path("proxy")
PROXY_TARGET = "runtime"
#: A service's images are `Image` components named after it (beside its WebService, whose args need
#: their refs): the evidence report files them under the service by these suffixes.
IMAGE_SUFFIXES = {"app": "-app", "proxy": "-proxy"}


def environment_name() -> str:
    """The environment component's name: the project's, made a component name (lower case, `-` for
    what Pulumi allows in project names but AWS names refuse, at most 40 characters; physical names
    add the stack)."""
    name = re.sub(r"[^a-z0-9-]+", "-", pulumi.get_project().lower()).strip("-")[:40].rstrip("-")
    return name if name[:1].isalpha() else f"env-{name}"[:40].rstrip("-")


def attach_environment(config: StackConfig, tags: dict[str, str]) -> tuple[EnvironmentRef, Environment | None]:
    """This stack's environment (created here) or the one another stack exports."""
    if config.environment_stack is not None:
        return EnvironmentRef.from_stack_reference(config.environment_stack), None
    settings = config.environment_settings()
    environment = Environment(
        environment_name(),
        EnvironmentArgs(
            **{name: getattr(settings, name) for name in type(settings).model_fields},
            # The stack's pack settings: the environment's AWS Config rules check what the preview checks.
            policy_thresholds=config.policy.thresholds(),
            policy_enforcement=dict(config.policy.enforcement),
        ).model_copy(update={"tags": {**tags, **settings.tags}}),
    )
    return environment.ref, environment


def build_image(name: str, image: ImageConfig, kms_key_arn: pulumi.Input[str], tags: dict[str, str]) -> Image:
    build = image.build
    assert build is not None
    context = Path(build.context).resolve()
    return Image(
        name,
        ImageArgs(
            context=str(context),
            dockerfile=str(context / build.dockerfile),
            target=build.target,
            build_args=build.args,
            **image.lifecycle(),
            kms_key_arn=kms_key_arn,
            tags=tags,
        ),
    )


def repository_key(service: ServiceConfig, environment: EnvironmentRef) -> pulumi.Input[str]:
    """The KMS key of a service's ECR repositories: its own when the stack file names one, else the
    environment's (issue 23: one key for the environment instead of one per repository)."""
    return service.image.kms_key_arn or environment.kms_key_arn


def proxy_settings(config: StackConfig, name: str) -> ProxyConfig:
    """Service `name`'s sidecar settings exactly as deployed (and as `rampart render-proxy` shows them)."""
    service = config.services[name]
    known = alb_subnet_cidrs(config.environment.network) if config.environment is not None else None
    return service.ingress_mode().deployed(service.container_port, known, service.routing).sidecar_settings(f"service {name!r}")


def build_proxy_image(
    name: str, service: ServiceConfig, proxy: ProxyConfig, kms_key_arn: pulumi.Input[str], tags: dict[str, str]
) -> Image:
    """The sidecar's image, rendered with the settings the sidecar is deployed with."""
    context = (BUILD_DIR / pulumi.get_stack() / name).resolve()
    write_image_context(proxy, context, source_dir=PROXY_SOURCE.resolve(), upstream_port=service.container_port)
    return Image(
        f"{name}{IMAGE_SUFFIXES['proxy']}",
        ImageArgs(
            context=str(context),
            dockerfile=str(context / "Dockerfile"),
            target=PROXY_TARGET,
            **service.image.lifecycle(),
            kms_key_arn=kms_key_arn,
            tags=tags,
        ),
    )


@dataclass(frozen=True)
class ServiceImages:
    """Where a service's images come from: refs and repositories, and the VOLUMEs they declare
    (None when the image is built elsewhere and its Dockerfile is not here to read)."""

    image: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    volumes: list[str] | None
    proxy_image: pulumi.Input[str] | None = None
    proxy_repository_arn: pulumi.Input[str] | None = None
    proxy_volumes: list[str] | None = None
    facts: ImageFacts | None = None
    """What the app image's Dockerfile declares and holds (its HEALTHCHECK); None when built elsewhere."""


def service_args(config: StackConfig, name: str, environment: EnvironmentRef, images: ServiceImages) -> WebServiceArgs:
    """Service `name`'s WebServiceArgs: its settings from the stack file, wired to the environment and images."""
    service = config.services[name]
    proxy_wiring: dict[str, Any] = service.ingress_mode().for_sidecar(lambda proxy: {
        "proxy": proxy,
        "proxy_image": images.proxy_image,
        "proxy_image_repository_arn": images.proxy_repository_arn,
        "proxy_image_volumes": images.proxy_volumes,
    }) or {}
    return WebServiceArgs(
        **service.settings(),
        environment_ref=environment,
        image=images.image,
        image_repository_arn=images.repository_arn,
        image_volumes=images.volumes,
        image_facts=images.facts,
        **proxy_wiring,
    ).model_copy(update={"tags": {**config.tags.as_dict(), **service.tags}})


def planned_environment(config: StackConfig) -> EnvironmentRef:
    """The environment's reference as it will be, before any resource exists: what the services'
    args are checked against. Values only another stack knows are left unknown (None)."""
    if config.environment is not None:
        return EnvironmentRef.planned(environment_name(), config.environment_settings())
    placeholder = "(planned)"
    return EnvironmentRef(
        name=str(config.environment_stack), vpc_id=placeholder, private_subnet_ids=[placeholder],
        cluster_arn=placeholder, cluster_name=placeholder, https_listener_arn=placeholder,
        alb_arn_suffix=placeholder, alb_security_group_id=placeholder, kms_key_arn=placeholder,
        alarm_topic_arn=placeholder, log_group_prefix=placeholder, log_retention_days=1, url=f"https://{placeholder}",
        in_other_stack=True,
    )


def planned_images(config: StackConfig, name: str) -> ServiceImages:
    """The images a service will get, with the VOLUMEs their Dockerfiles declare, before any is built."""
    service = config.services[name]
    build = service.image.build
    facts = None
    if build is not None:
        context = Path(build.context)
        facts = read_image_facts(context / build.dockerfile, build.target, build.args)
    proxy_volumes = service.ingress_mode().for_sidecar(lambda _: list(declared_volumes(PROXY_SOURCE / "Dockerfile", PROXY_TARGET)))
    return ServiceImages("(planned)", "(planned)", list(facts.volumes) if facts else None, "(planned)", "(planned)",
                         proxy_volumes, facts)


def preflight(config: StackConfig) -> None:
    """Check every service's args against the planned environment and the images' Dockerfiles before
    the first resource is registered, so a refused service never leaves a partial deployment."""
    problems: list[str] = []
    environment = planned_environment(config)
    for name in config.services:
        try:
            service_args(config, name, environment, planned_images(config, name))
        except (ValidationError, ValueError) as error:
            errors = error.errors() if isinstance(error, ValidationError) else [{"msg": str(error)}]
            problems += [f"rampart:services.{name}: {str(e['msg']).removeprefix('Value error, ')}" for e in errors]
    if problems:
        raise ConfigError("the components refuse these services:\n" + "\n".join(f"  - {p}" for p in problems))


def deploy_service(
    config: StackConfig, name: str, environment: EnvironmentRef, after: list[pulumi.Resource]
) -> dict[str, Any]:
    """One service: its images, then the WebService attached to the environment. Returns its outputs."""
    service = config.services[name]
    tags = config.tags.as_dict()
    outputs: dict[str, Any] = {}
    if service.image.build is not None:
        app_image = build_image(f"{name}{IMAGE_SUFFIXES['app']}", service.image, repository_key(service, environment), tags)
        images = ServiceImages(app_image.image_ref, app_image.repository.arn, list(app_image.volumes), facts=app_image.facts)
        outputs["appRepositoryUrl"] = app_image.repository.repository_url
    else:
        assert service.image.uri is not None
        images = ServiceImages(service.image.uri, service.image.repository_arn(), None)

    def with_proxy_image(_: ProxyConfig) -> ServiceImages:
        proxy_image = build_proxy_image(name, service, proxy_settings(config, name), repository_key(service, environment), tags)
        outputs["proxyImage"] = proxy_image.image_ref
        return replace(images, proxy_image=proxy_image.image_ref, proxy_repository_arn=proxy_image.repository.arn,
                       proxy_volumes=list(proxy_image.volumes))

    images = service.ingress_mode().for_sidecar(with_proxy_image) or images

    web = WebService(
        name,
        service_args(config, name, environment, images),
        # The first tasks start at once: the environment's routes, endpoints and listener come first.
        opts=pulumi.ResourceOptions(depends_on=after),
    )
    outputs.update(url=web.url, serviceName=web.service_name, appImage=images.image, logGroups=web.log_group_names)
    return outputs


def deploy(config: StackConfig) -> None:
    """Register the stack's resources and export its outputs (after checking every service's args)."""
    preflight(config)
    tags = config.tags.as_dict()
    environment, created = attach_environment(config, tags)
    if created is not None:
        pulumi.export(ENVIRONMENT_OUTPUT, environment.outputs())
        pulumi.export("url", created.load_balancer.url)
        pulumi.export("albDnsName", created.load_balancer.alb.dns_name)
        pulumi.export("clusterName", created.cluster.name)
        if created.web_acl is not None:
            pulumi.export("webAclArn", created.web_acl.web_acl_arn)
        pulumi.export("logGroups", created.log_group_names)
    pulumi.export(
        "services", {name: deploy_service(config, name, environment, [created] if created else []) for name in config.services}
    )
