"""The reports team's program: one service attached to the platform team's environment.

Nothing shared is created or changed here: the network, cluster, load balancer and web ACL come
from the platform stack's `environment` output (a StackReference). The image is built and pushed
by the team's CI and given by digest, so its Dockerfile is not here: the container health check
is given explicitly, a command the image contains.
"""

import pulumi
from rampart.components import (
    CanarySettings, ContainerHealthCheck, DeploymentSettings, EnvironmentRef, HealthCheckSettings, RoutingSettings,
    WebService, WebServiceArgs,
)

#: The port the reports server listens on.
REPORTS_PORT = 8700

config = pulumi.Config()
environment = EnvironmentRef.from_stack_reference(config.require("platformStack"))   # org/project/stack

reports = WebService("reports", WebServiceArgs(
    environment_ref=environment,
    image=config.require("image"),
    image_repository_arn=config.require("imageRepositoryArn"),
    container_port=REPORTS_PORT,
    health_check=HealthCheckSettings(path="/reports/healthz"),
    container_health_check=ContainerHealthCheck(command=["CMD", "/usr/local/bin/reports", "healthcheck"]),
    routing=RoutingSettings(paths=["/reports/*"], priority=config.require_int("priority")),
    desired_count=1, min_count=1, max_count=3,
    # A release gets 10% of the traffic for 5 minutes, then all of it; the old tasks stay 10 minutes more. The
    # reports' own 5xx, unhealthy-target and p99 alarms roll it back; before traffic moves the team tests it
    # with the header X-Rampart-Test-Traffic: candidate. `priority` leaves room for the test rule just below.
    deployment=DeploymentSettings(strategy="canary", canary=CanarySettings(percent=10, interval_minutes=5),
                                  bake_time_minutes=10),
))

pulumi.export("url", reports.url)
pulumi.export("serviceName", reports.service_name)
