"""`rampart local` routes a listener rule to the target group it forwards to: its one target group, or
of a weighted forward (blue/green, canary, linear: ECS rewrites the weights) the heaviest, wherever it
is listed; a rule that forwards nowhere routes nowhere."""

from __future__ import annotations

from typing import Any

import pytest

from rampart.local.tasks import _forward_group
from rampart.offline.mock_engine import RegisteredResource

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/"


def rule(*actions: dict[str, Any]) -> RegisteredResource:
    return RegisteredResource(urn="urn:rule", type="aws:lb/listenerRule:ListenerRule", name="rule", parent_urn=None,
                              inputs={"actions": list(actions)}, outputs={}, custom=True)


def weighted(*groups: tuple[str, int]) -> dict[str, Any]:
    return {"type": "forward", "forward": {"targetGroups": [{"arn": ARN + name, "weight": w} for name, w in groups]}}


@pytest.mark.parametrize("groups,heaviest", [
    ((("blue", 100), ("green", 0)), "blue"),
    ((("green", 0), ("blue", 100)), "blue"),  # listed second: still the one that takes the traffic
    ((("blue", 0), ("green", 100)), "green"),  # after a release ECS left the traffic on the other group
])
def test_a_weighted_forward_routes_to_its_heaviest_group(groups: tuple[tuple[str, int], ...], heaviest: str) -> None:
    assert _forward_group(rule(weighted(*groups))) == ARN.rsplit(":", 1)[-1] + heaviest


def test_a_plain_forward_and_no_forward() -> None:
    assert _forward_group(rule({"type": "forward", "targetGroupArn": ARN + "blue"})) == "targetgroup/blue"
    assert _forward_group(rule({"type": "fixed-response", "fixedResponse": {"statusCode": "403"}})) is None
