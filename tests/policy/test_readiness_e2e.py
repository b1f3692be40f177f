"""Readiness policies through the real Analyzer protocol: the pack started as the Pulumi CLI starts it.

Positive: every readiness policy judges its baseline resource compliant. Negative: the first single-
removal case of each policy (test_policies.CASES) is a mandatory violation naming that resource.
"""
from __future__ import annotations

from typing import Any

import pytest

from policy_fixtures import PACK_DIR
from rampart.offline.analyzer import run_pack
from rampart_soc2.registry import POLICIES
from test_e2e_pack import to_analysis
from test_policies import CASES

pytestmark = pytest.mark.e2e
Stack = list[dict[str, Any]]
READINESS = sorted(pid for pid, spec in POLICIES.items() if spec.category == "readiness")
FIRST_CASE = {pid: next(c for c in CASES if c.policy == pid) for pid in READINESS}


def test_the_category_is_the_seven_readiness_policies_all_mandatory_stack_policies() -> None:
    assert READINESS == [
        "aws-config-rule-require-configuration-recorder",
        "aws-ecs-service-require-aws-api-network-path",
        "aws-ecs-service-require-load-balancer-path",
        "aws-ecs-taskdefinition-require-image-pull-access",
        "aws-ecs-taskdefinition-require-log-write-access",
        "aws-ecs-taskdefinition-require-secret-access",
        "aws-lb-listenerrule-require-identity-provider-egress",
    ]
    for pid in READINESS:
        spec = POLICIES[pid]
        assert spec.kind == "stack" and spec.enforcement == "mandatory" and spec.non_production_enforcement is None, pid
        assert "Prevents: " in spec.description, f"{pid} names no AWS error it prevents"


def test_readiness_policies_pass_the_baseline_over_grpc(stack: Stack) -> None:
    analysis = run_pack(PACK_DIR, to_analysis(stack), project="rampart", stack="dev")
    for pid in READINESS:
        meta = analysis.policies[pid]
        assert meta.enforcement == "mandatory" and meta.kind == "stack", (pid, meta)
        resource = FIRST_CASE[pid].resource
        got = {o.kind for o in analysis.outcomes if o.policy == pid and o.urn.endswith("::" + resource)}
        assert got == {"compliant"}, f"{pid} on {resource}: {got}"


@pytest.mark.parametrize("pid", READINESS)
def test_one_missing_permission_or_path_is_a_mandatory_violation_over_grpc(stack: Stack, pid: str) -> None:
    case = FIRST_CASE[pid]
    case.mutate(stack)
    analysis = run_pack(PACK_DIR, to_analysis(stack), project="rampart", stack="dev")
    hits = [(o.policy, o.urn.rsplit("::", 1)[-1]) for o in analysis.mandatory_violations()]
    assert hits == [(pid, case.resource)], f"{pid}[{case.name}]: {hits}"
    [violation] = analysis.mandatory_violations()
    assert "Remediation: " in violation.message and "SOC 2: " in violation.message, violation.message
