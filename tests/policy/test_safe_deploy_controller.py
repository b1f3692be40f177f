"""aws-ecs-service-require-alarm-rollback-and-bake judges ECS-controlled deployments only: a service
deployed by CodeDeploy or an external controller sets no ECS `deploymentConfiguration` or `alarms`
(those are the controller's), so it is not applicable there, and is judged when the controller is ECS,
named or (ECS's default) unset."""
from __future__ import annotations

from typing import Any

import pytest

from rampart_soc2.model import COMPLIANT, NotApplicable, Violation, context_from_config, evaluate_resource, make_resource
from rampart_soc2.registry import POLICIES

SAFE_DEPLOY = "aws-ecs-service-require-alarm-rollback-and-bake"
SAFE = {"alarms": {"enable": True, "rollback": True, "alarmNames": ["svc-alarm-5xx-rate"]},
        "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "10"}}


def _judge(props: dict[str, Any]) -> Any:
    return evaluate_resource(POLICIES[SAFE_DEPLOY], make_resource("aws:ecs/service:Service", "svc", props),
                             context_from_config(SAFE_DEPLOY, {}, stack="prod"))


@pytest.mark.parametrize("controller", ["CODE_DEPLOY", "EXTERNAL"])
def test_a_service_another_controller_deploys_is_not_applicable(controller: str) -> None:
    outcome = _judge({"deploymentController": {"type": controller}})
    assert isinstance(outcome, NotApplicable) and controller in outcome.reason, outcome


@pytest.mark.parametrize("controller", [{"type": "ECS"}, None])
def test_an_ecs_controlled_service_is_judged(controller: Any) -> None:
    extra = {} if controller is None else {"deploymentController": controller}
    assert isinstance(_judge(extra), Violation)
    assert _judge({**SAFE, **extra}) == COMPLIANT


def test_an_empty_alarm_name_is_no_rollback_alarm() -> None:
    """`alarmNames: [""]` names no alarm ECS could watch: no rollback, as with `[]`."""
    outcome = _judge({**SAFE, "alarms": {**SAFE["alarms"], "alarmNames": [""]}})
    assert isinstance(outcome, Violation) and "rolls back on no CloudWatch alarm" in outcome.message, outcome
