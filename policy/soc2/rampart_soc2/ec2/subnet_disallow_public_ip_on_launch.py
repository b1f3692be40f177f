"""Subnets do not assign public IPs on launch."""
from __future__ import annotations

from ..common import CONFIG_RULE, SUBNET, truthy
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    # Unset is AWS's default for a subnet that is not a default subnet: no public IP.
    if truthy(r.props.get("mapPublicIpOnLaunch")):
        return Violation("subnet gives every network interface launched in it a public IP (mapPublicIpOnLaunch is true)")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ec2-subnet-disallow-public-ip-on-launch",
    description="Subnets do not assign public IPv4 addresses on launch.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.6",),
    remediation="Set mapPublicIpOnLaunch to false (or leave it unset); only the load balancer, placed in the "
                "public subnets, should have public addresses.",
    reference=CONFIG_RULE.format("subnet-auto-assign-public-ip-disabled"),
    resource_types=SUBNET,
    check=check,
    peer="subnet-auto-assign-public-ip-disabled (SUBNET_AUTO_ASSIGN_PUBLIC_IP_DISABLED)",
)
