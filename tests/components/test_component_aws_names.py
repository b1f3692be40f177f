"""Physical names as AWS and the provider would make and judge them (see docs/aws-behaviour.md).

The mock engine auto-names what the program leaves unnamed (logical name, `-`, 7 hex characters),
checks every physical name against `rampart.offline.aws_names.NAME_RULES` and refuses a plan AWS would
refuse. These tests pin the emulation itself, then hold the components to it at their limits.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pulumi
import pulumi_aws as aws
import pytest

from rampart.components._util import check_component_name
from rampart.components.environment import Environment, EnvironmentArgs
from rampart.components.image import Image, ImageArgs
from rampart.components.proxy_config import ProxyConfig
from rampart.components.web_service import WebService, WebServiceArgs
from components_support import IMAGE, REPOSITORY_ARN, compose, minimal_args
from rampart.offline.mock_engine import AwsRefusal, RegisteredResource, run_program

ROOT = Path(__file__).resolve().parents[2]


def _one(resources: list[RegisteredResource], type_: str) -> RegisteredResource:
    found = [r for r in resources if r.type == type_]
    assert len(found) == 1, f"expected one {type_}, found {[r.name for r in found]}"
    return found[0]


# --- the emulation -----------------------------------------------------------------------------


def test_unnamed_resource_is_auto_named_like_the_provider() -> None:
    def program() -> None:
        aws.ecs.Cluster("shop-cluster")

    first = _one(run_program(program, stack="dev"), "aws:ecs/cluster:Cluster")
    again = _one(run_program(program, stack="dev"), "aws:ecs/cluster:Cluster")
    other = _one(run_program(program, stack="prod"), "aws:ecs/cluster:Cluster")
    assert re.fullmatch(r"shop-cluster-[0-9a-f]{7}", first.physical_name or ""), first.physical_name
    assert first.outputs["name"] == first.physical_name, "the name output is the generated name"
    assert again.physical_name == first.physical_name, "auto-names are deterministic in tests"
    assert other.physical_name != first.physical_name, "another stack gets another random suffix"


def test_given_name_and_prefix_are_respected() -> None:
    def program() -> None:
        aws.ecs.Cluster("shop-cluster", name="shop-dev")
        aws.lb.TargetGroup("shop-tg", name_prefix="shp-", port=80, protocol="HTTP", vpc_id="vpc-1")

    resources = run_program(program)
    assert _one(resources, "aws:ecs/cluster:Cluster").physical_name == "shop-dev"
    tg = _one(resources, "aws:lb/targetGroup:TargetGroup").physical_name or ""
    assert tg.startswith("shp-") and len(tg) == 4 + 26, f"prefix plus Terraform's 26 unique characters: {tg}"


def test_s3_bucket_auto_name_is_lower_case_and_is_its_id() -> None:
    resources = run_program(lambda: aws.s3.Bucket("Shop-Logs") and None)
    bucket = _one(resources, "aws:s3/bucket:Bucket")
    assert re.fullmatch(r"shop-logs-[0-9a-f]{7}", bucket.physical_name or ""), bucket.physical_name
    assert bucket.outputs["id"] == bucket.outputs["bucket"] == bucket.physical_name


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: aws.lb.LoadBalancer("alb", name="a" * 33), ["aws:lb/loadBalancer:LoadBalancer 'alb'", "'" + "a" * 33 + "'", "1 to 32", "API_CreateLoadBalancer"]),
        (lambda: aws.lb.LoadBalancer("alb", name="internal-shop"), ["must not begin with `internal-`"]),
        (lambda: aws.lb.LoadBalancer("alb", name="shop-dev.eu"), ["characters AWS does not allow", "letters, digits and hyphens"]),
        (lambda: aws.lb.TargetGroup("tg", name_prefix="shop-tg", port=80, protocol="HTTP", vpc_id="vpc-1"), ["namePrefix 'shop-tg'", "longer than 6"]),
        (lambda: aws.ecs.TaskDefinition("task", family="shop.dev", container_definitions="[]"), ["family 'shop.dev'", "hyphens and underscores"]),
        (lambda: aws.ecs.TaskDefinition("task", family="shop-dev", container_definitions="[]", volumes=[{"name": "run/proxy"}]), ["volumes.0.name 'run/proxy'", "API_Volume"]),
        (lambda: aws.cloudwatch.LogGroup("logs", name="/shop/dev app"), ["'/shop/dev app'", "API_CreateLogGroup"]),
        (lambda: aws.ecr.Repository("repo", name="Shop-App"), ["'Shop-App'", "lower-case"]),
        (lambda: aws.kms.Alias("alias", name="alias/shop.dev", target_key_id="k"), ["'alias/shop.dev'"]),
        (lambda: aws.iam.Role("r" * 60, assume_role_policy="{}"), ["plus 7 random characters", "maximum of 64", "`pulumi preview` fails"]),
        (lambda: aws.s3.Bucket("b" * 60), ["plus 7 random characters", "maximum of 63"]),
        (
            lambda: aws.vpc.SecurityGroupEgressRule("out", security_group_id="sg-1", ip_protocol="tcp", from_port=443,
                                                    to_port=443, cidr_ipv4="10.0.0.0/8", description="To the service's tasks"),
            ["description \"To the service's tasks\"", "no apostrophes", "API_IpRange"],
        ),
        (lambda: aws.ec2.SecurityGroup("sg", vpc_id="vpc-1", description="Web tier — public"), ["description 'Web tier — public'"]),
        (
            lambda: aws.wafv2.WebAcl(
                "acl", scope="REGIONAL", default_action={"allow": {}},
                visibility_config={"cloudwatch_metrics_enabled": True, "metric_name": "shop acl", "sampled_requests_enabled": True},
            ),
            ["visibilityConfig.metricName 'shop acl'"],
        ),
    ],
)
def test_a_name_aws_would_refuse_fails_the_plan_with_the_fix(make, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AwsRefusal) as refused:
        run_program(lambda: make() and None)
    message = str(refused.value)
    for part in expected:
        assert part in message, f"{part!r} not in: {message}"
    assert "Fix:" in message, message


def test_two_resources_claiming_one_name_fail_the_plan() -> None:
    def program() -> None:
        aws.cloudwatch.LogGroup("app-logs", name="/shop/dev/app")
        aws.cloudwatch.LogGroup("proxy-logs", name="/shop/dev/app")

    with pytest.raises(AwsRefusal, match=r"2 resources claim the name '/shop/dev/app', unique per account and region"):
        run_program(program)


@pytest.mark.parametrize(
    "register",
    [
        lambda n: aws.cloudwatch.MetricAlarm(n, name="shop-5xx", comparison_operator="GreaterThanThreshold",
                                             evaluation_periods=1),
        lambda n: aws.cloudwatch.Dashboard(n, dashboard_name="shop-service-dev", dashboard_body="{}"),
        lambda n: aws.cloudwatch.EventRule(n, name="shop-findings"),
        lambda n: aws.cfg.Rule(n, name="shop-rule", source={"owner": "AWS", "source_identifier": "X"}),
    ],
    ids=["PutMetricAlarm", "PutDashboard", "PutRule", "PutConfigRule"],
)
def test_a_name_put_twice_fails_the_plan_saying_aws_would_overwrite(register: Any) -> None:
    """These APIs create or update by name: AWS answers no "already exists", the second overwrites
    the first (docs/aws-behaviour.md). The plan refuses it, and says so rather than "already exists"."""

    def program() -> None:
        register("first")
        register("second")

    with pytest.raises(AwsRefusal) as caught:
        run_program(program)
    message = str(caught.value)
    assert "silently overwrites" in message and "already exists" not in message, message


def test_names_unique_in_a_parent_may_repeat_across_parents() -> None:
    def program() -> None:
        aws.ec2.SecurityGroup("a", name="web", vpc_id="vpc-1")
        aws.ec2.SecurityGroup("b", name="web", vpc_id="vpc-2")

    run_program(program)  # one per VPC: AWS accepts both


# --- the components at their limits ------------------------------------------------------------

LONGEST = "a-very-long-service-name-at-the-limit-xx"  # the longest name check_component_name accepts
assert len(LONGEST) == 40 and check_component_name(LONGEST) == LONGEST


@pytest.mark.parametrize("ingress", ["alb", "nginx"])
def test_the_longest_accepted_component_name_plans_names_aws_accepts(ingress: str) -> None:
    # The environment and the service both take the longest name either accepts.
    extra = {"proxy": ProxyConfig(), "proxy_image": IMAGE, "proxy_image_repository_arn": REPOSITORY_ARN} if ingress == "nginx" else {}
    case = minimal_args(ingress=ingress, **extra)
    resources = run_program(lambda: compose(case, LONGEST) and None, stack="production-eu-west-1")
    named = [r for r in resources if r.physical_names]
    assert len(named) > 15, "suspiciously few named resources"


@pytest.mark.parametrize("stack", ["Dev.EU_2", "feature.login-page"])
def test_any_pulumi_stack_name_plans_names_aws_accepts(stack: str) -> None:
    # Pulumi stack names may hold letters of either case, digits, `-`, `_` and `.`; a name derived
    # from the stack must still fit the narrowest AWS rule it feeds (ALB: letters, digits, hyphens).
    case = minimal_args()
    resources = run_program(lambda: compose(case) and None, stack=stack)
    alb = _one(resources, "aws:lb/loadBalancer:LoadBalancer")
    assert alb.physical_name and len(alb.physical_name) <= 32, alb.physical_name


def test_stack_names_differing_only_in_case_or_punctuation_get_different_names() -> None:
    case = minimal_args()
    a = run_program(lambda: compose(case) and None, stack="dev.eu")
    b = run_program(lambda: compose(case) and None, stack="dev-eu")
    names_a = {r.physical_name for r in a if r.physical_name and r.type == "aws:lb/loadBalancer:LoadBalancer"}
    names_b = {r.physical_name for r in b if r.physical_name and r.type == "aws:lb/loadBalancer:LoadBalancer"}
    assert names_a.isdisjoint(names_b), (names_a, names_b)


def test_program_names_stay_readable_for_a_plain_stack() -> None:
    case = minimal_args()
    resources = run_program(lambda: compose(case) and None, stack="dev")
    assert _one(resources, "aws:lb/loadBalancer:LoadBalancer").physical_name == "shop-lb-dev"
    assert _one(resources, "aws:ecs/taskDefinition:TaskDefinition").physical_name == "shop-dev"


def test_export_reads_generated_names() -> None:
    def program() -> None:
        cluster = aws.ecs.Cluster("shop-cluster")
        pulumi.export("cluster", cluster.name)

    from rampart.offline.mock_engine import run_program_full

    run = run_program_full(program, stack="dev")
    assert run.stack_outputs["cluster"] == _one(run.resources, "aws:ecs/cluster:Cluster").physical_name


def _team_program(environment: str) -> None:
    """A team's program as README shows it: an environment, an image built from `app/`, and a
    service `shop` running it."""
    case = minimal_args()
    env = Environment(environment, EnvironmentArgs(**dict(case.environment)))
    image = Image("shop-app", ImageArgs(context=str(ROOT / "app"), target="runtime"))
    WebService("shop", WebServiceArgs(
        environment_ref=env.ref, image=image.image_ref, image_repository_arn=image.repository.arn,
        image_volumes=list(image.volumes),
    ))


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        pytest.param(
            lambda project: "shop",
            {
                ("aws:lb/loadBalancer:LoadBalancer", "shop-lb-dev"),
                ("aws:cloudwatch/logGroup:LogGroup", "aws-waf-logs-shop-waf-dev"),
                ("aws:ecs/taskDefinition:TaskDefinition", "shop-dev"),
                ("aws:ecr/repository:Repository", "shop-app-dev"),
            },
            id="one environment name",
        ),
        pytest.param(
            # After the project, as `rampart.program` names it (`shop.web` spelled `shop-web`: a
            # component name takes no `.`).
            lambda project: project.replace(".", "-"),
            {("aws:ecs/taskDefinition:TaskDefinition", "shop-dev"), ("aws:ecr/repository:Repository", "shop-app-dev")},
            id="environment named after the project",
        ),
    ],
)
def test_two_programs_in_one_account_clash_only_where_documented(
    environment: Callable[[str], str], expected: set[tuple[str, str]]
) -> None:
    # Two teams' Pulumi projects with the same stack name and service name, in one account. Log
    # groups and KMS aliases carry the project; the names derived from a component's name and the
    # stack alone do not (docs/aws-behaviour.md): the environment's ALB (32 characters) and WAF log
    # group, the service's task family, the image's ECR repository. Such names need to differ per account.
    from rampart.offline.mock_engine import cross_stack_clashes, run_program_full

    runs = {
        project: run_program_full(lambda: _team_program(environment(project)), project=project, stack="dev")
        for project in ("shop-api", "shop.web")
    }
    clashes = {(c.type, c.name) for c in cross_stack_clashes(runs)}
    assert clashes == expected, clashes
    groups = {r.physical_name for run in runs.values() for r in run.resources if r.type == "aws:cloudwatch/logGroup:LogGroup"}
    env = {project: environment(project) for project in runs}
    assert {g for g in groups if g and not g.startswith("aws-waf-logs-")} >= {
        f"/shop-api/dev/{env['shop-api']}/shop-dev/app", f"/shop-web/dev/{env['shop.web']}/shop-dev/app",
        f"/shop-api/dev/{env['shop-api']}/vpc-flow-logs", f"/shop-web/dev/{env['shop.web']}/vpc-flow-logs",
    }, groups


def test_one_logical_name_under_two_parents_gets_two_auto_names() -> None:
    # Distinct URNs (the parents' types differ) with one type and logical name: the provider's random
    # suffixes differ, so AWS sees two names, and the mock must not report a clash.
    class Part(pulumi.ComponentResource):
        def __init__(self, token: str) -> None:
            super().__init__(token, "part")
            aws.ecs.Cluster("cluster", opts=pulumi.ResourceOptions(parent=self))

    resources = run_program(lambda: (Part("test:index:Front"), Part("test:index:Back")) and None)
    names = [r.physical_name for r in resources if r.type == "aws:ecs/cluster:Cluster"]
    assert len(names) == 2 and names[0] != names[1], names
