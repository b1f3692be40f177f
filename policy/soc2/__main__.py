"""Entry point the Pulumi CLI runs (`python -m pulumi.policy <engine> .`): build the pack, nothing else.

Every policy lives in the importable package `rampart_soc2`; constructing `PolicyPack` starts the
analyzer gRPC server and never returns, so nothing else may happen here.
"""
from pulumi_policy import EnforcementLevel, PolicyPack

from rampart_soc2.pulumi_adapter import PACK_NAME, build_policies

PolicyPack(
    name=PACK_NAME,
    policies=build_policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Rampart SOC 2 controls (AICPA TSC 2017, points of focus 2022)",
    provider="aws",
    tags=["soc2", "aws", "ecs", "docker"],
)
