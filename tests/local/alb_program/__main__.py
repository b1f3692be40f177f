"""An app team's program: one service in `alb` mode (the ALB speaks HTTP to the app), its own
image (a static binary on an empty base), port, routes and health checks."""

import pulumi

from rampart.components import (
    ComplianceSettings, DomainSettings, Environment, EnvironmentArgs, ExistingRecorder, Image, ImageArgs, LoadBalancerSettings, MonitoringArgs,
    RoutingSettings, WebService, WebServiceArgs,
)
from rampart.components.routing import HealthCheckSettings
from rampart.components.web_service import ContainerHealthCheck

env = Environment("hello", EnvironmentArgs(
    load_balancer=LoadBalancerSettings(domains=[DomainSettings(domain="hello.example.com",
                                                               hosted_zone_id="Z0123456789ABC")]),
    monitoring=MonitoringArgs(alarm_email_endpoints=["oncall@example.com"]),
    compliance=ComplianceSettings(recorder=ExistingRecorder(existing="default")),  # the account's own
))
image = Image("hello", ImageArgs(context="./app", target="runtime", kms_key_arn=env.ref.kms_key_arn))
service = WebService("hello", WebServiceArgs(
    environment_ref=env.ref,
    image=image.image_ref,
    image_repository_arn=image.repository.arn,
    container_port=9090,
    routing=RoutingSettings(hosts=["localhost"], paths=["/hello", "/ready"]),
    health_check=HealthCheckSettings(path="/ready", matcher="200-299"),
    container_health_check=ContainerHealthCheck(command=["CMD", "/server", "--check"], interval_seconds=5,
                                                start_period_seconds=0),
))
pulumi.export("url", service.url)
