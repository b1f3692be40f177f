"""WAF metric names per stack (issue 21, items 5 and 10).

CloudWatch keys WAF metrics by the metric names in the web ACL's visibility configs, per account and
region: two stacks' ACLs with one name (dev and prod in one account) sum each other's requests in
every alarm and widget. Each name carries the environment and the stack; the alarm and both
dashboards read the ACL's name from its one owner (`WebAcl.web_acl_metric_name`), and so does a
services-only stack through the environment it attaches to."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from rampart.components.environment import EnvironmentRef, EnvironmentSettings
from rampart.components.load_balancer import LoadBalancerSettings
from rampart.components.routing import RoutingSettings
from rampart.components.waf import ScopedRateLimit, WafSettings
from rampart.components.web_service import WebService, WebServiceArgs
from rampart.offline.mock_engine import run_program_full

from components_support import CERTIFICATE_ARN, DECLARED_RECORDER, IMAGE, REGION, REPOSITORY_ARN, Plan, run_environment
from rampart.components.compliance import ComplianceSettings

ACL = "aws:wafv2/webAcl:WebAcl"
LB = LoadBalancerSettings(certificate_arns=[CERTIFICATE_ARN])
COMPLIANCE = ComplianceSettings(recorder=DECLARED_RECORDER)  # every environment says where its recorder is
ENV = EnvironmentSettings(load_balancer=LB, compliance=COMPLIANCE, waf=WafSettings(scoped_rate_limits=[ScopedRateLimit(
    name="api", limit=100, path_prefixes=["/api/"])]))


def metric_names(plan: Plan) -> list[str]:
    acl = plan.one(ACL).inputs
    return [acl["visibilityConfig"]["metricName"], *(r["visibilityConfig"]["metricName"] for r in acl["rules"])]


def waf_dimensions(body: str) -> list[dict[str, Any]]:
    """The dimensions of every AWS/WAFV2 metric line in a dashboard body."""
    found = []
    for widget in json.loads(body)["widgets"]:
        for line in widget["properties"]["metrics"]:
            flat = [x for x in line if not isinstance(x, dict)]
            if flat and flat[0] == "AWS/WAFV2":
                found.append(dict(zip(flat[2::2], flat[3::2])))
    return found


@pytest.fixture(scope="module")
def stacks() -> dict[str, Plan]:
    return {stack: run_environment(ENV, {"web": {}}, stack=stack) for stack in ("dev", "prod")}


def test_two_stacks_share_no_waf_metric_name(stacks: dict[str, Plan]) -> None:
    dev, prod = (metric_names(stacks[s]) for s in ("dev", "prod"))
    assert not set(dev) & set(prod), f"dev and prod publish WAF metrics under {sorted(set(dev) & set(prod))}"
    for stack, names in (("dev", dev), ("prod", prod)):
        assert len(set(names)) == len(names) == 6, names  # the ACL, the per-IP and the scoped limit, three groups
        assert all(name.startswith(f"shop-waf-{stack}-") for name in names), names


def test_alarm_and_dashboards_read_the_acls_metric_name(stacks: dict[str, Plan]) -> None:
    plan = stacks["prod"]
    acl_name = plan.one(ACL).inputs["visibilityConfig"]["metricName"]
    assert acl_name == "shop-waf-prod-acl"
    assert plan.named("shop-alarm-waf-blocked").inputs["dimensions"]["WebACL"] == acl_name
    assert plan.outputs["environment"]["web_acl_metric_name"] == acl_name
    for dashboard in plan.of_type("aws:cloudwatch/dashboard:Dashboard"):
        dims = waf_dimensions(dashboard.inputs["dashboardBody"])
        assert dims and all(d["WebACL"] == acl_name for d in dims), f"{dashboard.name}: {dims}"


def test_the_longest_names_stay_within_wafs_limit_and_apart() -> None:
    """At the limits: a 40-character environment name, a long stack name and a 63-character scoped
    limit: every name at most 128 characters, letters, digits, - and _, and no two cut to one."""
    limits = [ScopedRateLimit(name=("a" * 62) + c, limit=100, path_prefixes=[f"/{c}/"]) for c in "xy"]
    env = EnvironmentSettings(load_balancer=LB, compliance=COMPLIANCE, waf=WafSettings(scoped_rate_limits=limits))
    plan = run_environment(env, {}, name="e" * 40, stack="a-very-long-stack-name-" + "s" * 60)
    names = metric_names(plan)
    assert all(len(n) <= 128 and n.replace("-", "").replace("_", "").isalnum() for n in names), names
    assert len(set(names)) == len(names), names


# --- a services-only stack keeps the WAF widget of the environment it attaches to -----------------------------------
def _team_dashboard(platform: Plan) -> str:
    """The dashboard of a service in a services-only stack that asks for one of its own (`dashboard`)."""
    def program() -> None:
        ref = EnvironmentRef.from_stack_reference("org/rampart/platform")
        WebService("reports", WebServiceArgs(environment_ref=ref, image=IMAGE, image_repository_arn=REPOSITORY_ARN,
                                             routing=RoutingSettings(paths=["/reports/*"], priority=2000),
                                             dashboard=True))
        pulumi.export("done", True)

    run = run_program_full(program, stack="team", region=REGION, stack_references={"org/rampart/platform": platform.outputs})
    (dashboard,) = [r for r in run.resources if r.type == "aws:cloudwatch/dashboard:Dashboard"]
    return str(dashboard.inputs["dashboardBody"])


def test_a_services_only_stack_shows_the_environments_waf(stacks: dict[str, Plan]) -> None:
    dims = waf_dimensions(_team_dashboard(stacks["dev"]))
    assert dims and all(d["WebACL"] == "shop-waf-dev-acl" for d in dims), dims


def test_a_services_only_stack_on_an_environment_without_waf_has_no_waf_widget() -> None:
    platform = run_environment(EnvironmentSettings(load_balancer=LB, compliance=COMPLIANCE, waf=None), {"web": {}},
                               stack="platform")
    body = _team_dashboard(platform)
    assert waf_dimensions(body) == [] and "null" not in body, body
