"""The readiness findings this repository's stacks have today, exactly, and why.

Issue 21's other deliverables fix most of them on other branches; this table is the one place that
says so. It is exact both ways: tests/policy/test_readiness_stacks.py fails when a stack gains a
finding not listed here, and when a listed one no longer occurs (then delete its line). Other tests
that run the stacks see them as the stack files have them: a blocking finding is set advisory
(`rampart:policy.enforcement`) there, with a comment, and test_readiness_stacks fails if such an
override outlives its finding.

`PENDING_ELSEWHERE` names the policies whose findings on programs built from the components' defaults
other branches are fixing; the component tests that expect "no finding" leave exactly those out, and
test_readiness_stacks fails once they no longer occur (then empty it).
"""
from __future__ import annotations

RECORDER = "aws-config-rule-require-configuration-recorder"
SECRETS = "aws-ecs-taskdefinition-require-secret-access"
NETWORK = "aws-ecs-service-require-aws-api-network-path"
LB_PATH = "aws-ecs-service-require-load-balancer-path"
LOG_WRITE = "aws-ecs-taskdefinition-require-log-write-access"

_NO_RECORDER = ("its Config rules neither have a recorder in the stack nor declare one (issue 21 item 1, "
                "fixed on the recorder branch: create or declare it)")
_ENVIRONMENT_STACK = "a services-only stack: the {} live in the environment's stack, which this plan cannot read"

TODAY: dict[str, dict[tuple[str, str], str]] = {
    "dev": {
        (RECORDER, "violation"): _NO_RECORDER,
    },
    "prod": {
        (RECORDER, "violation"): _NO_RECORDER,
        (SECRETS, "violation"): "DATABASE_URL is another account's secret whose KMS key is not stated (issue 21 item 4, "
                                "fixed on the secrets branch: state the key ARN)",
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


PENDING_ELSEWHERE: dict[str, str] = {
    RECORDER: "Compliance without createRecorder neither creates nor declares a recorder (issue 21 item 1)",
    SECRETS: "a secret the stack did not create has no stated key (issue 21 item 4)",
}
