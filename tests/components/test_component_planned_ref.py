"""`EnvironmentRef.planned` (what a program checks its services against before anything exists) says
what the real `Environment.ref` will say, for every fact a service reads while the program runs."""

from __future__ import annotations

from typing import Any

import pytest

from components_support import CERTIFICATE_ARN, run_environment
from rampart.components.environment import EnvironmentRef, EnvironmentSettings

FACTS = ("alb_subnet_cidrs", "interface_endpoints", "nat", "log_retention_days")
SUBNETS = {
    "public_subnets": [{"id": "subnet-a", "availabilityZone": "eu-west-1a", "cidrBlock": "10.9.0.0/24"},
                       {"id": "subnet-b", "availabilityZone": "eu-west-1b", "cidrBlock": "10.9.1.0/24"}],
    "private_subnets": [{"id": "subnet-c", "availabilityZone": "eu-west-1a"},
                        {"id": "subnet-d", "availabilityZone": "eu-west-1b"}],
}

CASES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "another VPC range, three zones": {"network": {"create": {"cidr_block": "10.40.0.0/20", "az_count": 3}}},
    "no NAT, extra endpoints": {"network": {"create": {"nat_gateways": "none"}}, "extra_endpoints": ["ssm", "ssmmessages"]},
    "existing VPC, subnets with CIDRs": {"network": {"existing": {"vpc_id": "vpc-9", "vpc_cidr_block": "10.9.0.0/16", **SUBNETS}}},
    "existing VPC, subnet CIDRs unknown": {"network": {"existing": {
        "vpc_id": "vpc-9", "vpc_cidr_block": "10.9.0.0/16",
        "public_subnets": [{"id": "subnet-a"}, {"id": "subnet-b"}], "private_subnets": SUBNETS["private_subnets"]}}},
    # A retention other than the default, above the pack's minimum (shorter ones are refused at plan).
    "ECS Exec, long retention": {"execute_command": True, "monitoring": {"log_retention_days": 731}},
}


def _settings(values: dict[str, Any]) -> EnvironmentSettings:
    return EnvironmentSettings.model_validate({"load_balancer": {"certificate_arns": [CERTIFICATE_ARN]},
                                               "compliance": {"recorder": {"existing": "default"}}, **values})


@pytest.mark.parametrize("case", list(CASES))
def test_the_planned_reference_states_the_real_environments_facts(case: str) -> None:
    settings = _settings(CASES[case])
    real = run_environment(settings, {}).outputs["environment"]
    planned = EnvironmentRef.planned("shop", settings).outputs()
    for fact in FACTS:
        assert planned.get(fact) == real.get(fact), f"{case}: {fact} planned {planned.get(fact)!r}, real {real.get(fact)!r}"
    assert ("execute_command_log_group_arn" in planned) == ("execute_command_log_group_arn" in real), case
