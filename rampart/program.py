"""The program behind `__main__.py`: map a validated StackConfig onto the component library.

This is the only place that knows both the stack file's shape and the components' args; the
components know nothing of stacks. The stack file's sections are the components' own settings
models, so this module wires them together (environment reference, images) and copies no field
one by one. Kept importable (rather than inline in `__main__.py`) so tests and `rampart` can drive it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi

from components.environment import ENVIRONMENT_OUTPUT, Environment, EnvironmentArgs, EnvironmentRef
from components.image import Image, ImageArgs
from components.network import alb_subnet_cidrs
from components.proxy_config import ProxyConfig, write_image_context
from components.web_service import WebService, WebServiceArgs, sidecar_proxy
from rampart.config import ImageConfig, ServiceConfig, StackConfig

#: Where each proxy image context is rendered for a build, relative to the project directory.
BUILD_DIR = Path(".rampart") / "build"


def environment_name() -> str:
    """The environment component's name: the project's (physical names add the stack)."""
    return pulumi.get_project()


def attach_environment(config: StackConfig, tags: dict[str, str]) -> tuple[EnvironmentRef, Environment | None]:
    """This stack's environment (created here) or the one another stack exports."""
    if config.environment_stack is not None:
        return EnvironmentRef.from_stack_reference(config.environment_stack), None
    settings = config.environment_settings()
    environment = Environment(
        environment_name(),
        EnvironmentArgs(**{name: getattr(settings, name) for name in type(settings).model_fields}).model_copy(
            update={"tags": {**tags, **settings.tags}}
        ),
    )
    return environment.ref, environment


def build_image(name: str, image: ImageConfig, tags: dict[str, str]) -> Image:
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
            keep_tagged_images=image.keep_images,
            untagged_expiry_days=image.untagged_expiry_days,
            tags=tags,
        ),
    )


def proxy_settings(config: StackConfig, name: str) -> ProxyConfig:
    """Service `name`'s sidecar settings exactly as deployed (and as `rampart render-proxy` shows them)."""
    service = config.services[name]
    sidecar = service.sidecar()
    if sidecar is None:
        raise ValueError(f"service {name!r} has no sidecar (ingress is {service.ingress!r})")
    known = alb_subnet_cidrs(config.environment.network) if config.environment is not None else None
    return sidecar_proxy(sidecar, service.container_port, known)


def build_proxy_image(name: str, service: ServiceConfig, proxy: ProxyConfig, tags: dict[str, str]) -> Image:
    """The sidecar's image, rendered with the settings the sidecar is deployed with."""
    context = (BUILD_DIR / pulumi.get_stack() / name).resolve()
    write_image_context(proxy, context, source_dir=Path("proxy").resolve(), upstream_port=service.container_port)
    return Image(
        f"{name}-proxy",
        ImageArgs(
            context=str(context),
            dockerfile=str(context / "Dockerfile"),
            target="runtime",
            keep_tagged_images=service.image.keep_images,
            untagged_expiry_days=service.image.untagged_expiry_days,
            tags=tags,
        ),
    )


def deploy_service(
    config: StackConfig, name: str, environment: EnvironmentRef, tags: dict[str, str], after: list[pulumi.Resource]
) -> dict[str, Any]:
    """One service: its images, then the WebService attached to the environment. Returns its outputs."""
    service = config.services[name]
    outputs: dict[str, Any] = {}
    if service.image.build is not None:
        app_image = build_image(f"{name}-app", service.image, tags)
        image_ref: pulumi.Input[str] = app_image.image_ref
        repository_arn: pulumi.Input[str] = app_image.repository.arn
        outputs["appRepositoryUrl"] = app_image.repository.repository_url
    else:
        assert service.image.uri is not None
        image_ref = service.image.uri
        repository_arn = service.image.repository_arn()

    proxy_wiring: dict[str, Any] = {}
    sidecar = service.sidecar()
    if sidecar is not None:
        proxy_image = build_proxy_image(name, service, proxy_settings(config, name), tags)
        proxy_wiring = {
            "proxy": sidecar,
            "proxy_image": proxy_image.image_ref,
            "proxy_image_repository_arn": proxy_image.repository.arn,
        }
        outputs["proxyImage"] = proxy_image.image_ref

    web = WebService(
        name,
        WebServiceArgs(
            **service.settings(),
            environment_ref=environment,
            image=image_ref,
            image_repository_arn=repository_arn,
            **proxy_wiring,
        ).model_copy(update={"tags": {**tags, **service.tags}}),
        # The first tasks start at once: the environment's routes, endpoints and listener come first.
        opts=pulumi.ResourceOptions(depends_on=after),
    )
    outputs.update(
        url=web.url,
        serviceName=web.service_name,
        appImage=image_ref,
        logGroups=web.log_group_names,
    )
    return outputs


def deploy(config: StackConfig) -> None:
    """Register the stack's resources and export its outputs."""
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
        "services",
        {name: deploy_service(config, name, environment, tags, [created] if created else []) for name in config.services},
    )
