"""An app team's own Pulumi program: its own Pulumi.yaml, stack files and config keys (no `rampart:*`
keys), composing `rampart.components` itself: one Environment and two WebServices."""

from __future__ import annotations

from pathlib import Path

PULUMI_YAML = """\
name: shop
description: The shop team's web services, built on Rampart's components
runtime:
  name: python
  options:
    toolchain: pip
stackConfigDir: deploy
config:
  replicas:
    type: integer
    default: 2
"""

#: The stack file: the team's own keys (project namespace `shop`) and the provider's region.
STACK = """\
config:
  aws:region: us-east-1
  shop:certificateArn: arn:aws:acm:us-east-1:123456789012:certificate/abc
  shop:onCall: oncall@example.com
  shop:imageDigest: sha256:{digest}
{extra}"""

PROGRAM = '''\
"""The shop team's program: one Environment and two WebServices from rampart.components."""
import pulumi
from rampart.components import (ComplianceSettings, Environment, EnvironmentArgs, LoadBalancerSettings,
                                MonitoringArgs, WebService, WebServiceArgs)

config = pulumi.Config()
image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop@" + config.require("imageDigest")
repository = "arn:aws:ecr:us-east-1:123456789012:repository/shop"
# The image is built elsewhere: its HEALTHCHECK is not readable here, so the program states it.
health_check = {"command": ["CMD", "/server", "-health"]}

environment = Environment("shop", EnvironmentArgs(
    load_balancer=LoadBalancerSettings(certificate_arns=[config.require("certificateArn")]),
    monitoring=MonitoringArgs(alarm_email_endpoints=[config.require("onCall")]),
    compliance={"recorder": {"existing": "default"}},  # the account's AWS Config recorder
    # The team may turn its web ACL off; the SOC 2 pack then fails the check.
    **({} if config.get_bool("webAcl") is not False else {"waf": None}),
))
web = WebService("web", WebServiceArgs(environment_ref=environment.ref, image=image,
                                       image_repository_arn=repository, container_health_check=health_check))
api = WebService("api", WebServiceArgs(environment_ref=environment.ref, image=image,
                                       image_repository_arn=repository, container_health_check=health_check,
                                       routing={"paths": ["/api/*"]}))
pulumi.export("url", web.url)
pulumi.export("apiUrl", api.url)
'''


def write_project(directory: Path, extra: str = "") -> Path:
    """The project in `directory` with stack `dev`; `extra` adds lines to the stack file's config."""
    (directory / "deploy").mkdir(parents=True, exist_ok=True)
    (directory / "Pulumi.yaml").write_text(PULUMI_YAML)
    (directory / "__main__.py").write_text(PROGRAM)
    (directory / "deploy" / "Pulumi.dev.yaml").write_text(STACK.format(digest="a" * 64, extra=extra))
    return directory
