"""Listener-rule priority ranges (issue 21, item 9): rules of an app stack (a services-only stack on
another stack's environment) and of the environment's own stack can never take one priority
(`PriorityInUse` at deploy), because the app stacks' range and the derived range are disjoint by
construction, an app stack must take an explicit priority from its range, and the environment's own
stack may not take one there. Boundaries: at each limit and one past it."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from rampart.components.environment import EnvironmentRef, EnvironmentSettings
from rampart.components.load_balancer import LoadBalancerSettings
from rampart.components.routing import (
    APP_STACK_PRIORITIES,
    DERIVED_PRIORITIES,
    PRIORITY_RANGE,
    RoutingSettings,
    effective_priority,
    priority_range_problem,
)
from rampart.components.web_service import WebService, WebServiceArgs
from rampart.offline.mock_engine import run_program_full

from components_support import DECLARED_RECORDER, CERTIFICATE_ARN, IMAGE, REGION, REPOSITORY_ARN, minimal_args, run_environment


FIRST, LAST = APP_STACK_PRIORITIES.start, APP_STACK_PRIORITIES.stop - 1
ALLOW = {"paths": ["/team/admin/*"], "allowCidrs": ["198.51.100.0/24"]}  # two rules just below the service's own


def routing(**values: Any) -> RoutingSettings:
    return RoutingSettings.model_validate({"paths": ["/team/*"], **values})


def test_the_ranges_are_disjoint_and_inside_what_aws_accepts() -> None:
    assert (FIRST, LAST) == (1000, 9999)
    assert not set(APP_STACK_PRIORITIES) & set(DERIVED_PRIORITIES)
    assert PRIORITY_RANGE[0] <= FIRST and DERIVED_PRIORITIES.stop - 1 <= PRIORITY_RANGE[1]
    # App stacks' routes are tried before every derived route, the environment's catch-all included.
    assert LAST < DERIVED_PRIORITIES.start <= effective_priority("web", RoutingSettings())


@pytest.mark.parametrize(
    ("values", "ok"),
    [
        ({"priority": FIRST}, True), ({"priority": FIRST - 1}, False),
        ({"priority": LAST}, True), ({"priority": LAST + 1}, False),
        # with two access rules the service's rules take priority-2 .. priority
        ({"priority": FIRST + 2, "access": [ALLOW]}, True), ({"priority": FIRST + 1, "access": [ALLOW]}, False),
        ({}, False),  # derived: in the environment stack's range
    ],
)
def test_an_app_stack_takes_explicit_priorities_from_its_range(values: dict[str, Any], ok: bool) -> None:
    problem = priority_range_problem(routing(**values), app_stack=True)
    assert (problem is None) is ok, problem
    if not ok:
        assert f"{FIRST}-{LAST}" in problem, problem


@pytest.mark.parametrize(
    ("values", "ok"),
    [
        ({}, True),  # derived
        ({"priority": FIRST - 1}, True), ({"priority": FIRST}, False),
        ({"priority": LAST}, False), ({"priority": LAST + 1}, True),
        ({"priority": LAST + 3, "access": [ALLOW]}, True), ({"priority": LAST + 2, "access": [ALLOW]}, False),
    ],
)
def test_the_environments_own_stack_stays_out_of_the_app_stacks_range(values: dict[str, Any], ok: bool) -> None:
    problem = priority_range_problem(routing(**values), app_stack=False)
    assert (problem is None) is ok, problem
    if not ok:
        assert "routing.priority" in problem and f"{FIRST}-{LAST}" in problem, problem


def test_a_service_of_the_environments_stack_in_the_app_range_is_refused_before_registering() -> None:
    with pytest.raises(ValueError, match=rf"routing.priority {FIRST} .* {FIRST}-{LAST}"):
        minimal_args(routing={"paths": ["/a/*"], "priority": FIRST})
    assert minimal_args(routing={"paths": ["/a/*"], "priority": FIRST - 1})


def _team(values: dict[str, Any]) -> None:
    ref = EnvironmentRef.from_stack_reference("org/rampart/platform")
    WebService("reports", WebServiceArgs(environment_ref=ref, image=IMAGE, image_repository_arn=REPOSITORY_ARN,
                                         routing=routing(**values)))
    pulumi.export("done", True)


@pytest.fixture(scope="module")
def platform() -> dict[str, Any]:
    settings = EnvironmentSettings(load_balancer=LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN]), compliance={"recorder": DECLARED_RECORDER})
    return run_environment(settings, {"web": {}, "api": {"routing": {"paths": ["/api/*"]}}}, stack="platform").outputs


def test_an_app_stack_without_a_priority_is_refused(platform: dict[str, Any]) -> None:
    with pytest.raises(Exception, match=rf"routing.priority is unset.*{FIRST}-{LAST}"):
        run_program_full(lambda: _team({}), stack="team", region=REGION, stack_references={"org/rampart/platform": platform})


def test_an_app_stack_priority_in_its_range_attaches(platform: dict[str, Any]) -> None:
    run = run_program_full(lambda: _team({"priority": LAST}), stack="team", region=REGION,
                           stack_references={"org/rampart/platform": platform})
    (rule,) = [r for r in run.resources if r.type == "aws:lb/listenerRule:ListenerRule"]
    assert rule.inputs["priority"] == LAST
    with pytest.raises(Exception, match=rf"routing.priority {LAST + 1} .*outside {FIRST}-{LAST}"):
        run_program_full(lambda: _team({"priority": LAST + 1}), stack="team", region=REGION,
                         stack_references={"org/rampart/platform": platform})
