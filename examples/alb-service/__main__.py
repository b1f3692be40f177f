"""The catalog team's program: its own environment and one service in `alb` ingress mode.

The service is a static C binary (app/) built by the `Image` component: its own port, its own
health-check path for the load balancer, and the image's own Dockerfile `HEALTHCHECK` for ECS.
"""

import pulumi
from rampart.components import (
    ComplianceSettings, DomainSettings, Environment, EnvironmentArgs, HealthCheckSettings, Image, ImageArgs, LoadBalancerSettings,
    MonitoringArgs, RoutingSettings, WebService, WebServiceArgs,
)

#: The port the binary listens on (its Dockerfile's PORT; the task definition passes the same).
CATALOG_PORT = 9090
#: What the load balancer probes before it sends a task traffic (server.c's READY_PATH).
READY_PATH = "/status/ready"

config = pulumi.Config()
domain = config.require("domain")

environment = Environment("catalog", EnvironmentArgs(
    load_balancer=LoadBalancerSettings(
        domains=[DomainSettings(domain=domain, hosted_zone_id=config.require("hostedZoneId"))],
    ),
    monitoring=MonitoringArgs(alarm_email_endpoints=[config.require("onCall")]),
    # A new account of the team's own: this stack creates the region's AWS Config recorder.
    compliance=ComplianceSettings(recorder="create"),
    tags={"Owner": "catalog-team", "Environment": pulumi.get_stack()},
))

# The environment's KMS key encrypts the repository too: no key of its own to pay for and review.
image = Image("catalog", ImageArgs(context="app", target="runtime", kms_key_arn=environment.ref.kms_key_arn))

catalog = WebService("catalog", WebServiceArgs(
    environment_ref=environment.ref,
    image=image.image_ref,                       # by digest
    image_repository_arn=image.repository.arn,   # the only repository its tasks may pull from
    image_volumes=image.volumes,                 # /tmp is declared in the Dockerfile
    image_facts=image.facts,                     # its HEALTHCHECK becomes the task's container health check
    ingress="alb",
    container_port=CATALOG_PORT,
    health_check=HealthCheckSettings(path=READY_PATH),
    routing=RoutingSettings(hosts=[domain]),
    desired_count=1, min_count=1, max_count=2,
))

pulumi.export("url", catalog.url)
pulumi.export("serviceName", catalog.service_name)
