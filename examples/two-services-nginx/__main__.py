"""The bookshop team's program: its own environment and two services in `nginx` ingress mode.

Each service's tasks run the app (app/, one image for both) behind an Nginx TLS sidecar; the
sidecar's image is rendered per service from the proxy sources installed with Rampart, with the
settings the sidecar is deployed with. Two kinds of access control:

- storefront (`/*`): `/admin/*` only from the office networks; everyone else gets 403, from the
  load balancer and again from the sidecar;
- backoffice (`/backoffice/*`): everyone signs in through the OIDC identity provider first.
"""

from pathlib import Path

import pulumi
from rampart.components import (
    ComplianceSettings, DomainSettings, Environment, EnvironmentArgs, ExistingRecorder, Image, ImageArgs, LoadBalancerSettings, MonitoringArgs,
    ProxyConfig, RoutingSettings, WebService, WebServiceArgs, sidecar_proxy, write_image_context,
)
from rampart.components.routing import OidcSettings, RouteAccess

#: The port the app listens on, on 127.0.0.1 behind the sidecar (its Dockerfile's PORT).
APP_PORT = 7000
#: Where each service's proxy image context is rendered before it is built.
PROXY_BUILD_DIR = Path(".rampart") / "build" / pulumi.get_stack()

config = pulumi.Config()
domain = config.require("domain")
issuer = config.require("oidcIssuer")

environment = Environment("bookshop", EnvironmentArgs(
    load_balancer=LoadBalancerSettings(
        domains=[DomainSettings(domain=domain, hosted_zone_id=config.require("hostedZoneId"))],
        sign_in_egress=True,  # backoffice's OIDC sign-in: the load balancer calls the identity provider on 443
    ),
    monitoring=MonitoringArgs(alarm_email_endpoints=[config.require("onCall")]),
    # The account's AWS Config recorder is the platform team's baseline ("default"): declared, not created.
    compliance=ComplianceSettings(recorder=ExistingRecorder(existing="default")),
    tags={"Owner": "bookshop-team", "Environment": pulumi.get_stack()},
))

# Repositories are encrypted with the environment's KMS key (no key per repository).
app = Image("bookshop-app", ImageArgs(context="app", target="runtime", kms_key_arn=environment.ref.kms_key_arn))


def proxy_image(service: str, routing: RoutingSettings) -> Image:
    """The service's sidecar image: Rampart's proxy sources with the nginx.conf its sidecar runs
    (upstream port, trusted load balancer subnets and the route's access control filled in)."""
    settings = sidecar_proxy(ProxyConfig(), APP_PORT, environment.ref.alb_subnet_cidrs, routing)
    context = PROXY_BUILD_DIR / service  # relative to the project: the same build inputs from any checkout
    write_image_context(settings, context, upstream_port=APP_PORT)
    return Image(f"{service}-proxy", ImageArgs(context=str(context), target="runtime",
                                               kms_key_arn=environment.ref.kms_key_arn))


def bookshop_service(name: str, routing: RoutingSettings) -> WebService:
    """One service: the app image behind its own sidecar, on its own route."""
    proxy = proxy_image(name, routing)
    return WebService(name, WebServiceArgs(
        environment_ref=environment.ref,
        image=app.image_ref,
        image_repository_arn=app.repository.arn,
        image_volumes=app.volumes,
        image_facts=app.facts,                # the app's HEALTHCHECK becomes the task's container health check
        ingress="nginx",
        proxy=ProxyConfig(),
        proxy_image=proxy.image_ref,
        proxy_image_repository_arn=proxy.repository.arn,
        proxy_image_volumes=proxy.volumes,
        container_port=APP_PORT,
        environment={"SERVICE_NAME": name},
        routing=routing,
        desired_count=1, min_count=1, max_count=2,
    ))


storefront = bookshop_service("storefront", RoutingSettings(
    hosts=[domain],
    paths=["/*"],
    access=[RouteAccess(paths=["/admin/*"], allow_cidrs=config.require_object("officeCidrs"), private=True)],
))
backoffice = bookshop_service("backoffice", RoutingSettings(
    hosts=[domain],
    paths=["/backoffice/*"],
    access=[RouteAccess(paths=["/backoffice/*"], private=True, oidc=OidcSettings(
        issuer=issuer,
        authorization_endpoint=f"{issuer}/authorize",
        token_endpoint=f"{issuer}/token",
        user_info_endpoint=f"{issuer}/userinfo",
        client_id=config.require("oidcClientId"),
        client_secret_arn=config.require("oidcClientSecretArn"),
    ))],
))

pulumi.export("storefrontUrl", storefront.url)
pulumi.export("backofficeUrl", backoffice.url)
