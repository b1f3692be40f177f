"""The readiness outcomes this repository's stacks have, exactly, and why: what a policy cannot read
from the plan (an existing VPC; a services-only stack whose environment lives in another stack).

It is exact both ways: tests/policy/test_readiness_stacks.py fails when a stack gains a finding not
listed here, and when a listed one no longer occurs (then delete its line). A stack file may not set
a readiness policy advisory to hide a finding: test_readiness_stacks fails on such an override.
"""
from __future__ import annotations

NETWORK = "aws-ecs-service-require-aws-api-network-path"
LB_PATH = "aws-ecs-service-require-load-balancer-path"
LOG_WRITE = "aws-ecs-taskdefinition-require-log-write-access"

_ENVIRONMENT_STACK = "a services-only stack: the {} live in the environment's stack, which this plan cannot read"

TODAY: dict[str, dict[tuple[str, str], str]] = {
    "dev": {},
    "prod": {
        (NETWORK, "unknown"): "an existing VPC: the tasks' subnets, route tables and endpoints are not in the plan",
        (LB_PATH, "unknown"): "an existing VPC: the ALB's egress goes to the VPC CIDR and the tasks' subnets are not in "
                              "the plan to compare",
    },
    "dev-reports": {
        (NETWORK, "unknown"): _ENVIRONMENT_STACK.format("subnets and their routes"),
        (LB_PATH, "unknown"): _ENVIRONMENT_STACK.format("listener and the ALB's security group"),
        (LOG_WRITE, "unknown"): _ENVIRONMENT_STACK.format("log groups' KMS key and its policy"),
    },
}


def pending(stack: str, policy: str, kind: str) -> bool:
    """Is this outcome one of the stack's known readiness findings of today?"""
    return (policy, kind) in TODAY.get(stack, {})

