"""The platform team's program: one environment and no service.

App teams attach their services to it from their own stacks through a stack reference; the
`environment` output is the whole reference (`EnvironmentRef`), the only thing they read.
"""

import pulumi
from rampart.components import (
    ComplianceSettings, DomainSettings, Environment, EnvironmentArgs, LoadBalancerSettings, MonitoringArgs,
)

config = pulumi.Config()

environment = Environment("apps", EnvironmentArgs(
    load_balancer=LoadBalancerSettings(
        domains=[DomainSettings(domain=config.require("domain"), hosted_zone_id=config.require("hostedZoneId"))],
    ),
    monitoring=MonitoringArgs(alarm_email_endpoints=[config.require("onCall")]),
    # The platform owns the account's AWS Config recorder; app stacks' rules (if any) declare it.
    compliance=ComplianceSettings(recorder="create"),
    tags={"Owner": "platform-team", "Environment": pulumi.get_stack()},
))

pulumi.export("environment", environment.ref.outputs())   # what app stacks attach to
pulumi.export("url", environment.load_balancer.url)
