"""The program behind `__main__.py`: map a validated StackConfig onto the component library.

This is the only place that knows both the stack file's shape and the components' args; the
components know nothing of stacks. Kept importable (rather than inline in `__main__.py`) so
tests and `rampart` can drive it.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from components.image import Image, ImageArgs
from components.load_balancer import LoadBalancerSettings
from components.monitoring import MonitoringArgs
from components.network import CreateNetworkArgs, ExistingNetworkArgs, NetworkSettings, subnet_blocks
from components.proxy_config import ProxyConfig, write_image_context
from components.web_service import WebService, WebServiceArgs
from rampart.config import StackConfig

#: Where the proxy image context is rendered for a build, relative to the project directory.
BUILD_DIR = Path(".rampart") / "build"


def proxy_settings(config: StackConfig) -> ProxyConfig:
    """The sidecar's settings: the stack's, pointed at the app port and trusting the ALB's network."""
    proxy = config.proxy
    updates: dict[str, object] = {"upstream": proxy.upstream.model_copy(update={"port": config.service.container_port})}
    if not proxy.trusted_proxy_cidrs and config.network.mode == "create":
        # The ALB lives in the created VPC's public subnets; only peers there may set X-Forwarded-For.
        updates["trusted_proxy_cidrs"] = subnet_blocks(network_settings(config, {}).create or CreateNetworkArgs())[0]
    return ProxyConfig.model_validate({**proxy.model_dump(), **updates})


def network_settings(config: StackConfig, tags: dict[str, str]) -> NetworkSettings:
    net = config.network
    if net.mode == "existing":
        assert net.vpc_id is not None  # guaranteed by NetworkConfig
        return NetworkSettings(
            existing=ExistingNetworkArgs(
                vpc_id=net.vpc_id,
                public_subnet_ids=[s.id for s in net.public_subnets],
                private_subnet_ids=[s.id for s in net.private_subnets],
            ),
            flow_log_retention_days=net.flow_log_retention_days,
            tags=tags,
        )
    return NetworkSettings(
        create=CreateNetworkArgs(cidr_block=net.cidr, az_count=net.az_count, nat_gateways=net.nat_gateways),
        flow_log_retention_days=net.flow_log_retention_days,
        tags=tags,
    )


def load_balancer_settings(config: StackConfig) -> LoadBalancerSettings:
    ingress = config.ingress
    hc = ingress.health_check
    if ingress.mode == "nginx":
        # The ALB probes the sidecar, which answers /healthz itself.
        hc = hc.model_copy(update={"path": "/healthz", "matcher": "200"})
    return LoadBalancerSettings(
        certificate_arn=ingress.certificate_arn,
        domain=ingress.domain,
        hosted_zone_id=ingress.hosted_zone_id,
        tls_policy=ingress.tls_policy,
        deletion_protection=ingress.deletion_protection,
        desync_mitigation=ingress.desync_mitigation,
        idle_timeout_seconds=ingress.idle_timeout_seconds,
        access_log_expiry_days=ingress.access_log_expiry_days,
        deregistration_delay_seconds=ingress.deregistration_delay_seconds,
        health_check=hc,
    )


def build_image(name: str, config: StackConfig, tags: dict[str, str]) -> Image:
    build = config.image.build
    assert build is not None
    context = Path(build.context).resolve()
    return Image(
        name,
        ImageArgs(
            context=str(context),
            dockerfile=str(context / build.dockerfile),
            target=build.target,
            build_args=build.args,
            keep_tagged_images=config.image.keep_images,
            untagged_expiry_days=config.image.untagged_expiry_days,
            tags=tags,
        ),
    )


def build_proxy_image(name: str, config: StackConfig, proxy: ProxyConfig, tags: dict[str, str]) -> Image:
    context = (BUILD_DIR / pulumi.get_stack() / "proxy").resolve()
    write_image_context(proxy, context, source_dir=Path("proxy").resolve(), upstream_port=config.service.container_port)
    return Image(
        name,
        ImageArgs(
            context=str(context),
            dockerfile=str(context / "Dockerfile"),
            target="runtime",
            keep_tagged_images=config.image.keep_images,
            untagged_expiry_days=config.image.untagged_expiry_days,
            tags=tags,
        ),
    )


def deploy(config: StackConfig) -> WebService:
    """Register the stack's resources and export its outputs."""
    name = config.service.name
    tags = config.tags.as_dict()

    if config.image.build is not None:
        app_image = build_image(f"{name}-app", config, tags)
        image_ref: pulumi.Input[str] = app_image.image_ref
        repository_arn: pulumi.Input[str] = app_image.repository.arn
        pulumi.export("appRepositoryUrl", app_image.repository.repository_url)
    else:
        assert config.image.uri is not None
        image_ref = config.image.uri
        repository_arn = config.image.repository_arn()

    proxy_kwargs: dict[str, object] = {}
    if config.ingress.mode == "nginx":
        proxy = proxy_settings(config)
        proxy_image = build_proxy_image(f"{name}-proxy", config, proxy, tags)
        proxy_kwargs = {
            "proxy": proxy,
            "proxy_image": proxy_image.image_ref,
            "proxy_image_repository_arn": proxy_image.repository.arn,
        }
        pulumi.export("proxyRepositoryUrl", proxy_image.repository.repository_url)
        pulumi.export("proxyImage", proxy_image.image_ref)

    service = WebService(
        name,
        WebServiceArgs(
            image=image_ref,
            image_repository_arn=repository_arn,
            ingress=config.ingress.mode,
            load_balancer=load_balancer_settings(config),
            container_port=config.service.container_port,
            cpu=config.service.cpu,
            memory=config.service.memory,
            environment=dict(config.service.environment),
            secrets=dict(config.service.secrets),
            secret_kms_key_arns=list(config.service.secret_kms_key_arns),
            desired_count=config.service.desired_count,
            min_count=config.service.min_count,
            max_count=config.service.max_count,
            cpu_target_percent=config.service.cpu_target_percent,
            requests_per_target=config.service.requests_per_target,
            enable_execute_command=config.service.enable_execute_command,
            steady_state_timeout_minutes=config.service.steady_state_timeout_minutes,
            network=network_settings(config, tags),
            waf=config.waf.settings(tags),
            monitoring=MonitoringArgs(
                log_retention_days=config.logging.retention_days,
                alarm_email_endpoints=[config.logging.alarm_email] if config.logging.alarm_email else [],
                tags=tags,
            ),
            tags=tags,
            **proxy_kwargs,
        ),
    )

    pulumi.export("url", service.url)
    pulumi.export("albDnsName", service.alb_dns_name)
    pulumi.export("appImage", image_ref)
    pulumi.export("logGroups", service.log_group_names)
    pulumi.export("webAclArn", service.web_acl_arn)
    pulumi.export("clusterName", service.cluster_name)
    pulumi.export("serviceName", service.service_name)
    return service


