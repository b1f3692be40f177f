"""Sign-in routes and the load balancer's egress (issue 21, item 3).

A listener rule that authenticates (OIDC or Cognito) makes the ALB itself call the identity
provider's token and user-info endpoints (or the Cognito domain) on TCP 443. The ALB's security group
belongs to the environment, so the environment owns that egress (`load_balancer.sign_in_egress`),
exports whether it allows it, and a service whose route signs in is refused, naming the setting, when
its environment does not: in the same program before anything is registered, and in a services-only
program when the environment another stack exports says no (or says nothing)."""

from __future__ import annotations

from typing import Any, Callable

import pulumi
import pytest

from rampart.components.environment import EnvironmentRef, EnvironmentSettings
from rampart.components.load_balancer import SIGN_IN_EGRESS_DESCRIPTION, LoadBalancerSettings
from rampart.components.routing import RoutingSettings
from rampart.components.web_service import WebService, WebServiceArgs
from rampart.offline.mock_engine import run_program_full

from components_support import DECLARED_RECORDER, CERTIFICATE_ARN, IMAGE, REGION, REPOSITORY_ARN, Plan, minimal_args, run_environment, run_service
from test_component_access import COGNITO, OIDC


EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
RULE = "aws:lb/listenerRule:ListenerRule"
SIGN_IN = {"access": [{"paths": ["/admin/*"], "oidc": OIDC}]}


def lb(**values: Any) -> LoadBalancerSettings:
    return LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN], **values)


def alb_egress(plan: Plan) -> list[Any]:
    """Every egress rule on the load balancer's group (the one its rule to the tasks is on)."""
    group = plan.named("shop-lb-alb-out-tasks").inputs["securityGroupId"]
    return [r for r in plan.of_type(EGRESS) if r.inputs["securityGroupId"] == group]


def test_by_default_the_alb_reaches_only_its_targets() -> None:
    plan = run_service(minimal_args())
    egress = alb_egress(plan)
    assert [(r.name, r.inputs["fromPort"], r.inputs["toPort"]) for r in egress] == [("shop-lb-alb-out-tasks", 1024, 65535)]
    assert plan.outputs["environment"]["sign_in_egress"] is False, "the environment does not say it refuses sign-in"


def test_sign_in_egress_opens_https_to_the_internet_with_a_description() -> None:
    plan = run_service(minimal_args(load_balancer=lb(sign_in_egress=True), routing=SIGN_IN))
    rule = plan.named("shop-lb-alb-out-sign-in")
    group = plan.named("shop-lb-alb-sg")
    assert rule.inputs["securityGroupId"] == plan.named("shop-lb-alb-out-tasks").inputs["securityGroupId"], (
        f"{rule.name} is not on the load balancer's group")
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["cidrIpv4"]) == (
        "tcp", 443, 443, "0.0.0.0/0"), rule.inputs
    assert rule.inputs["description"] == SIGN_IN_EGRESS_DESCRIPTION
    assert "identity providers" in group.inputs["description"], group.inputs["description"]
    assert plan.outputs["environment"]["sign_in_egress"] is True
    assert plan.named("shop-route-access-0-allow").inputs["actions"][0]["type"] == "authenticate-oidc"


@pytest.mark.parametrize("sign_in", [{"oidc": OIDC}, {"cognito": COGNITO}, {"oidc": {**OIDC, "onUnauthenticatedRequest": "allow"}}],
                         ids=["oidc", "cognito", "oidc-allow"])
def test_a_sign_in_route_on_an_environment_without_the_egress_is_refused_naming_the_setting(sign_in: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as caught:
        minimal_args(routing={"access": [{"paths": ["/admin/*"], **sign_in}]})
    message = str(caught.value)
    assert "load_balancer.sign_in_egress" in message and "loadBalancer.signInEgress" in message, message
    assert "'shop'" in message and "443" in message, message


def test_routes_without_sign_in_need_no_egress() -> None:
    assert minimal_args(routing={"access": [{"paths": ["/admin/*"], "allowCidrs": ["198.51.100.0/24"]}]})
    assert not RoutingSettings(access=[{"paths": ["/a/*"], "allowCidrs": ["198.51.100.0/24"]}]).authenticates()


# --- a services-only stack attached to another stack's environment -------------------------------------------------
def _team(routing: dict[str, Any]) -> Callable[[], None]:
    def program() -> None:
        ref = EnvironmentRef.from_stack_reference("org/rampart/platform")
        WebService("admin", WebServiceArgs(
            environment_ref=ref, image=IMAGE, image_repository_arn=REPOSITORY_ARN,
            routing=RoutingSettings.model_validate({"paths": ["/admin/*"], "priority": 2000, **routing}),
        ))
        pulumi.export("done", True)

    return program


def _platform(**lb_values: Any) -> dict[str, Any]:
    platform = run_environment(EnvironmentSettings(load_balancer=lb(**lb_values), compliance={"recorder": DECLARED_RECORDER}), {"web": {}}, stack="platform")
    return platform.outputs


def test_an_app_stack_sign_in_route_is_refused_when_the_environment_does_not_allow_it() -> None:
    with pytest.raises(Exception) as caught:
        run_program_full(_team(SIGN_IN), stack="team", region=REGION,
                         stack_references={"org/rampart/platform": _platform()})
    message = str(caught.value)
    assert "loadBalancer.signInEgress" in message and "org/rampart/platform" in message, message


def test_an_app_stack_sign_in_route_is_refused_when_the_environment_does_not_say() -> None:
    """An environment stack exported before the setting existed says nothing: refused the same way."""
    outputs = _platform(sign_in_egress=True)
    outputs["environment"] = {k: v for k, v in outputs["environment"].items() if k != "sign_in_egress"}
    with pytest.raises(Exception, match="signInEgress"):
        run_program_full(_team(SIGN_IN), stack="team", region=REGION, stack_references={"org/rampart/platform": outputs})


def test_an_app_stack_sign_in_route_attaches_when_the_environment_allows_it() -> None:
    run = run_program_full(_team(SIGN_IN), stack="team", region=REGION,
                           stack_references={"org/rampart/platform": _platform(sign_in_egress=True)})
    rules = {r.name: r for r in run.resources if r.type == RULE}
    assert rules["admin-route-access-0-allow"].inputs["actions"][0]["type"] == "authenticate-oidc"
    assert rules["admin-route-access-0-allow"].inputs["listenerArn"] == rules["admin-route-rule"].inputs["listenerArn"]


def test_an_app_stack_route_without_sign_in_needs_no_egress() -> None:
    run = run_program_full(_team({}), stack="team", region=REGION, stack_references={"org/rampart/platform": _platform()})
    assert [r.name for r in run.resources if r.type == RULE] == ["admin-route-rule"]


def test_an_environment_of_this_program_that_does_not_say_is_refused_at_the_args() -> None:
    """A hand-made reference to this program's environment without `sign_in_egress` counts as no
    (mutation review: only False was refused before anything was registered)."""
    from components_support import IMAGE as image, placeholder_ref

    ref = placeholder_ref(EnvironmentSettings(load_balancer=lb(), compliance={"recorder": DECLARED_RECORDER}))
    silent = ref.model_copy(update={"sign_in_egress": None})
    assert not silent.in_other_stack
    with pytest.raises(ValueError, match="signInEgress"):
        WebServiceArgs(environment_ref=silent, image=image, image_repository_arn=REPOSITORY_ARN,
                       routing=RoutingSettings.model_validate(SIGN_IN))
