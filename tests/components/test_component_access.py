"""Access control per route at the ALB (rampart/components/routing.py): allow-lists as a source-ip
rule plus a 403 rule, sign-in actions with the OIDC secret only as a secret, priorities just below
the service's own rule, the ALB's limits at their boundaries, and the sidecar fed the same rules."""
from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from rampart.components.proxy_config import ProxyConfig
from rampart.components.nginx_conf import render_nginx_conf
from rampart.components.routing import (
    MAX_ACCESS_ENTRIES,
    MAX_VALUES_PER_RULE,
    RoutingSettings,
    check_routes,
    effective_priority,
    priority_range,
)
from rampart.offline.mock_engine import mock_secret_string
from rampart_soc2.vocabulary.tags import PRIVATE_ROUTE_TAG

from rampart.components.load_balancer import LoadBalancerSettings

from components_support import CERTIFICATE_ARN, Plan, minimal_args, placeholder_ref, run_service
from test_component_nginx import PROXY_IMAGE, PROXY_REPOSITORY_ARN, nginx_args

RULE = "aws:lb/listenerRule:ListenerRule"
OFFICE, VPN = "198.51.100.0/24", "203.0.113.0/24"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/oidc-AbCdEf"
OIDC = {
    "issuer": "https://idp.example.com",
    "authorizationEndpoint": "https://idp.example.com/authorize",
    "tokenEndpoint": "https://idp.example.com/token",
    "userInfoEndpoint": "https://idp.example.com/userinfo",
    "clientId": "shop",
    "clientSecretArn": SECRET_ARN,
}
COGNITO = {
    "userPoolArn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123",
    "userPoolClientId": "abc123",
    "userPoolDomain": "shop-login",
}


#: An environment whose load balancer may reach identity providers, which sign-in routes need.
SIGN_IN_LB = LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN], sign_in_egress=True)


def routing(**values: Any) -> RoutingSettings:
    return RoutingSettings.model_validate(values)


def conditions(rule: Any) -> dict[str, list[str]]:
    return {key: block["values"] for c in rule.inputs["conditions"] for key, block in c.items()}


@pytest.fixture(scope="module")
def allow_list_plan() -> Plan:
    return run_service(minimal_args(routing={"hosts": ["shop.example.com"], "access": [
        {"paths": ["/admin/*"], "allowCidrs": [OFFICE, VPN], "private": True}]}))


def test_allow_list_forwards_the_networks_and_answers_403_to_the_rest(allow_list_plan: Plan) -> None:
    allow = allow_list_plan.named("shop-route-access-0-allow")
    deny = allow_list_plan.named("shop-route-access-0-deny")
    own = allow_list_plan.named("shop-route-rule")
    assert conditions(allow) == {"hostHeader": ["shop.example.com"], "pathPattern": ["/admin/*"], "sourceIp": [OFFICE, VPN]}
    assert [a["type"] for a in allow.inputs["actions"]] == ["forward"]
    assert allow.inputs["actions"][0]["targetGroupArn"] == own.inputs["actions"][0]["targetGroupArn"]
    assert conditions(deny) == {"hostHeader": ["shop.example.com"], "pathPattern": ["/admin/*"]}
    (action,) = deny.inputs["actions"]
    assert action["type"] == "fixed-response" and action["fixedResponse"]["statusCode"] == "403"
    # tried in this order: the allowed networks, then everyone else on the path, then the service's route
    assert allow.inputs["priority"] + 1 == deny.inputs["priority"] == own.inputs["priority"] - 1
    assert own.inputs["priority"] == effective_priority("shop", routing(hosts=["shop.example.com"]))
    assert allow.inputs["tags"][PRIVATE_ROUTE_TAG] == deny.inputs["tags"][PRIVATE_ROUTE_TAG] == "true"
    assert PRIVATE_ROUTE_TAG not in own.inputs["tags"]


def test_oidc_action_carries_the_client_secret_only_as_a_secret() -> None:
    plan = run_service(minimal_args(load_balancer=SIGN_IN_LB, routing={"access": [{"paths": ["/admin/*"], "oidc": OIDC}]}))
    rule = plan.named("shop-route-access-0-allow")
    assert [(a["type"], a["order"]) for a in rule.inputs["actions"]] == [("authenticate-oidc", 1), ("forward", 2)]
    oidc = rule.inputs["actions"][0]["authenticateOidc"]
    secret = mock_secret_string(SECRET_ARN)
    assert oidc["clientSecret"] == secret, "the secret read from Secrets Manager reaches the action"
    assert "actions.0.authenticateOidc.clientSecret" in rule.secret_paths
    assert secret not in json.dumps(rule.redacted_inputs())
    assert secret not in json.dumps(plan.outputs, default=str)
    assert (oidc["sessionTimeout"], oidc["onUnauthenticatedRequest"], oidc["scope"]) == (3600, "authenticate", "openid")
    assert "sourceIp" not in conditions(rule)
    assert not [r for r in plan.of_type(RULE) if r.name.endswith("-deny")], "sign-in alone needs no 403 rule"


def test_oidc_session_and_unauthenticated_settings_reach_the_action() -> None:
    plan = run_service(minimal_args(load_balancer=SIGN_IN_LB, routing={"access": [{"paths": ["/admin/*"], "oidc": {
        **OIDC, "sessionTimeoutSeconds": 900, "onUnauthenticatedRequest": "deny", "scope": "openid email"}}]}))
    oidc = plan.named("shop-route-access-0-allow").inputs["actions"][0]["authenticateOidc"]
    assert (oidc["sessionTimeout"], oidc["onUnauthenticatedRequest"], oidc["scope"]) == (900, "deny", "openid email")


def test_cognito_action_then_forward() -> None:
    plan = run_service(minimal_args(load_balancer=SIGN_IN_LB, routing={"access": [
        {"paths": ["/admin/*"], "cognito": {**COGNITO, "sessionTimeoutSeconds": 900, "onUnauthenticatedRequest": "deny"}}]}))
    actions = plan.named("shop-route-access-0-allow").inputs["actions"]
    assert [a["type"] for a in actions] == ["authenticate-cognito", "forward"]
    cognito = actions[0]["authenticateCognito"]
    assert (cognito["userPoolDomain"], cognito["sessionTimeout"], cognito["onUnauthenticatedRequest"]) == ("shop-login", 900, "deny")


def test_session_timeout_up_to_seven_days() -> None:
    week = 7 * 24 * 3600
    assert routing(access=[{"paths": ["/a/*"], "cognito": {**COGNITO, "sessionTimeoutSeconds": week}}])
    with pytest.raises(ValidationError, match="sessionTimeoutSeconds"):
        routing(access=[{"paths": ["/a/*"], "cognito": {**COGNITO, "sessionTimeoutSeconds": week + 1}}])
    with pytest.raises(ValidationError, match="sessionTimeoutSeconds"):
        routing(access=[{"paths": ["/a/*"], "oidc": {**OIDC, "sessionTimeoutSeconds": 0}}])


def test_a_secret_in_the_stack_file_is_refused() -> None:
    with pytest.raises(ValidationError, match="clientSecret"):
        routing(access=[{"paths": ["/admin/*"], "oidc": {**OIDC, "clientSecret": "hunter2"}}])


@pytest.mark.parametrize("field", ["issuer", "authorizationEndpoint", "tokenEndpoint", "userInfoEndpoint"])
def test_oidc_endpoints_must_be_https(field: str) -> None:
    with pytest.raises(ValidationError, match="must be an https:// URL"):
        routing(access=[{"paths": ["/admin/*"], "oidc": {**OIDC, field: "http://idp.example.com/x"}}])


def test_secret_arn_must_be_secrets_manager_and_one_sign_in_only() -> None:
    with pytest.raises(ValidationError, match="Secrets Manager secret ARN"):
        routing(access=[{"paths": ["/a/*"], "oidc": {**OIDC, "clientSecretArn": "arn:aws:ssm:us-east-1:123456789012:parameter/x"}}])
    with pytest.raises(ValidationError, match="not both"):
        routing(access=[{"paths": ["/a/*"], "oidc": OIDC, "cognito": COGNITO}])


# ---- ALB limits and priorities, at the boundary and one past it ---------------------------------


def test_networks_per_condition_three_not_four() -> None:
    three = ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"]
    assert len(routing(access=[{"paths": ["/a/*"], "allowCidrs": three}]).access[0].allow_cidrs) == 3
    with pytest.raises(ValidationError, match="allowCidrs has 4 values"):
        routing(access=[{"paths": ["/a/*"], "allowCidrs": [*three, "10.0.0.0/8"]}])


def test_values_per_rule_five_not_six() -> None:
    cidrs = ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"]
    at_limit = routing(hosts=["a.example.com"], access=[{"paths": ["/a/*"], "allowCidrs": cidrs}])
    assert len(at_limit.hosts) + 1 + len(cidrs) == MAX_VALUES_PER_RULE
    with pytest.raises(ValidationError, match="routing.access\\[0\\] has 6 host, path and network values"):
        routing(hosts=["a.example.com", "b.example.com"], access=[{"paths": ["/a/*"], "allowCidrs": cidrs}])


def test_access_entries_at_most_the_limit() -> None:
    entries = [{"paths": [f"/p{i}/*"], "allowCidrs": [OFFICE]} for i in range(MAX_ACCESS_ENTRIES + 1)]
    assert routing(access=entries[:-1]).access_rule_count() == 2 * MAX_ACCESS_ENTRIES
    with pytest.raises(ValidationError, match="at most 8"):
        routing(access=entries)


def test_explicit_priority_leaves_room_for_the_access_rules() -> None:
    entry = {"paths": ["/admin/*"], "allowCidrs": [OFFICE]}  # two rules
    lowest = routing(priority=3, access=[entry])
    assert list(priority_range("shop", lowest)) == [1, 2, 3]
    with pytest.raises(ValidationError, match="routing.priority 2 leaves no room for the 2 access rules"):
        routing(priority=2, access=[entry])


def test_access_rules_collide_with_another_service_by_priority() -> None:
    admin = routing(priority=100, access=[{"paths": ["/admin/*"], "allowCidrs": [OFFICE]}, {"paths": ["/sso/*"], "oidc": OIDC}])
    assert list(priority_range("web", admin)) == [97, 98, 99, 100]
    check_routes({"web": admin, "api": routing(paths=["/api/*"], priority=96)})  # just below: fine
    with pytest.raises(ValueError, match="services.api.routing.priority and services.web.routing.priority both take listener rule priority 97"):
        check_routes({"web": admin, "api": routing(paths=["/api/*"], priority=97)})


def test_derived_priority_is_unchanged_by_access_rules() -> None:
    plain = routing(paths=["/*"])
    guarded = routing(paths=["/*"], access=[{"paths": ["/admin/*"], "allowCidrs": [OFFICE]}])
    assert effective_priority("web", plain) == effective_priority("web", guarded)
    assert list(priority_range("web", guarded)) == [effective_priority("web", plain) - 2 + i for i in range(3)]


def test_access_paths_must_lie_inside_the_route() -> None:
    assert routing(paths=["/api/*"], access=[{"paths": ["/api/admin/*"], "allowCidrs": [OFFICE]}])
    with pytest.raises(ValidationError, match="lie outside the route's paths"):
        routing(paths=["/api/*"], access=[{"paths": ["/admin/*"], "allowCidrs": [OFFICE]}])


# ---- the sidecar gets the same rules ------------------------------------------------------------


def test_the_sidecar_enforces_the_routes_allow_lists_and_sign_in() -> None:
    case = nginx_args(load_balancer=SIGN_IN_LB, routing={"access": [{"paths": ["/admin/*"], "allowCidrs": [OFFICE]},
                                          {"paths": ["/sso/*"], "oidc": OIDC},
                                          {"paths": ["/maybe/*"], "oidc": {**OIDC, "onUnauthenticatedRequest": "allow"}}]})
    proxy = case.args(placeholder_ref(case.environment)).effective_proxy()
    assert proxy is not None
    assert [(a.paths, [str(c) for c in a.allow_cidrs], a.signed_in) for a in proxy.access] == [
        (["/admin/*"], [OFFICE], False), (["/sso/*"], [], True), (["/maybe/*"], [], False)]
    conf = render_nginx_conf(proxy)
    assert '"~^/admin/.*$" 0;' in conf and f"{OFFICE} 0;" in conf and "return 403;" in conf


def test_proxy_access_set_by_hand_is_refused() -> None:
    with pytest.raises(ValidationError, match="proxy.access is filled from routing.access"):
        minimal_args(ingress="nginx", proxy=ProxyConfig.model_validate({"access": [{"paths": ["/admin/*"], "allowCidrs": [OFFICE]}]}),
                     proxy_image=PROXY_IMAGE, proxy_image_repository_arn=PROXY_REPOSITORY_ARN)


def test_a_value_listed_twice_is_named() -> None:
    with pytest.raises(ValidationError, match=r"routing.access.allowCidrs lists \['198.51.100.0/24'\] more than once"):
        routing(access=[{"paths": ["/a/*"], "allowCidrs": [OFFICE, OFFICE]}])
    with pytest.raises(ValidationError, match=r"routing.paths lists \['/api/\*'\] more than once"):
        routing(paths=["/api/*", "/v1/*", "/api/*"])
    with pytest.raises(ValidationError, match="userpool/REGION_ID"):
        routing(access=[{"paths": ["/a/*"], "cognito": {**COGNITO, "userPoolArn": "arn:aws:cognito-idp:us-east-1:1:pool"}}])
