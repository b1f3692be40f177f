"""The cost in the plan (issue 23, item 4): the dated, region-aware price table in the package, the
fixed monthly cost `rampart plan` prints for the environment and each service, its `--json`, and the
guard that every resource type the program creates is either priced or listed as free.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from rampart.cli import main as cli_main
from rampart.cost import summary
from rampart.cost.engine import NOT_FIXED, PRICED_TYPES, fixed_lines, gaps, owners
from rampart.cost.table import TABLE_NAME, UnpricedRegion, load_table

ROOT = Path(__file__).resolve().parents[2]
PLANNED_STACKS = ("dev", "prod", "dev-reports")
SVC = "rampart:web_service:WebService"
TABLE = load_table()


def res(type_: str, name: str, parent: str | None = None, deps: tuple[str, ...] = (), **inputs: Any) -> dict[str, Any]:
    return {"urn": f"urn:pulumi:t::p::{type_}::{name}", "type": type_, "name": name, "parent": parent,
            "inputs": inputs, "dependencies": list(deps)}


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:t::p::{type_}::{name}"


# ----------------------------------------------------------------------------- the table

def regions_the_repo_deploys_to() -> set[str]:
    """`aws:region` of every stack file, and of the app-team example the packaging tests deploy."""
    found = {str(yaml.safe_load(p.read_text())["config"]["aws:region"]) for p in (ROOT / "stacks").glob("Pulumi.*.yaml")}
    found |= set(re.findall(r"aws:region: ([a-z0-9-]+)", (ROOT / "tests" / "packaging" / "app_team.py").read_text()))
    return found


def test_the_table_prices_every_region_the_stacks_and_examples_use() -> None:
    wanted = regions_the_repo_deploys_to()
    assert "eu-west-1" in wanted and "us-east-1" in wanted, wanted
    assert wanted <= set(TABLE.regions), f"regions without prices: {sorted(wanted - set(TABLE.regions))}"


@pytest.mark.parametrize("region", sorted(TABLE.regions))
def test_each_region_is_dated_and_prices_exactly_the_keys_the_sources_name(region: str) -> None:
    entry = TABLE.regions[region]
    assert dt.date.fromisoformat(entry["asOf"]) <= dt.date(2026, 12, 31) and entry["name"]
    assert set(entry["prices"]) == set(TABLE.sources), f"{region}: a price without a source, or a source without a price"
    assert all(isinstance(v, (int, float)) and v > 0 for v in entry["prices"].values()), region


def test_every_source_names_its_aws_pricing_page() -> None:
    for key, source in TABLE.sources.items():
        assert source["page"] and source["item"], key
        assert re.fullmatch(r"https://aws\.amazon\.com/[a-z0-9-]+/pricing/", source["url"]), (key, source["url"])


def test_the_docs_list_every_source_page_and_every_region() -> None:
    docs = (ROOT / "docs" / "cost.md").read_text()
    for source in TABLE.sources.values():
        assert source["url"] in docs and source["page"] in docs, f"docs/cost.md does not name {source['page']}"
    for region, entry in TABLE.regions.items():
        assert f"`{region}`" in docs and entry["asOf"] in docs, f"docs/cost.md does not list {region} as of {entry['asOf']}"


def test_each_region_is_priced_at_its_own_prices() -> None:
    plan = [res("aws:ec2/natGateway:NatGateway", "nat"), res("aws:lb/loadBalancer:LoadBalancer", "alb", internal=True)]
    for region in ("eu-west-1", "us-east-1"):
        p = TABLE.for_region(region)
        got = sum(line.monthly for line in fixed_lines(plan, p))
        assert got == pytest.approx((p.price("natGatewayHour") + p.price("albHour")) * 730), region
    assert TABLE.for_region("eu-west-1").prices != TABLE.for_region("us-east-1").prices


def test_only_an_internet_facing_alb_pays_for_public_addresses_one_per_subnet() -> None:
    p = TABLE.for_region("eu-west-1")
    subnets = ["subnet-a", "subnet-b"]
    internal = fixed_lines([res("aws:lb/loadBalancer:LoadBalancer", "alb", internal=True, subnets=subnets)], p)
    facing = fixed_lines([res("aws:lb/loadBalancer:LoadBalancer", "alb", internal=False, subnets=subnets)], p)
    assert [line.item for line in internal] == ["application load balancer"]
    addresses = [line for line in facing if "public IPv4" in line.item]
    assert [line.quantity for line in addresses] == [2], facing


def test_a_metric_math_alarm_is_high_resolution_when_any_of_its_metrics_is() -> None:
    p = TABLE.for_region("eu-west-1")
    def alarm(*periods: int) -> list[str]:
        queries = [{"id": f"m{i}", "metric": {"metricName": "x", "period": s}} for i, s in enumerate(periods)]
        return [line.item for line in fixed_lines([res("aws:cloudwatch/metricAlarm:MetricAlarm", "a",
                                                      metricQueries=[*queries, {"id": "e", "expression": "m0+m1"}])], p)]
    assert alarm(60, 10) == ["CloudWatch alarm metric (high resolution)"]
    assert alarm(60, 60) == ["CloudWatch alarm metric (standard)"]


def test_a_private_nat_gateway_is_named_so() -> None:
    p = TABLE.for_region("eu-west-1")
    lines = fixed_lines([res("aws:ec2/natGateway:NatGateway", "nat", connectivityType="private")], p)
    assert [line.item for line in lines] == ["NAT gateway (private)"]


def test_a_region_the_table_lacks_is_said_plainly_and_nothing_is_priced() -> None:
    with pytest.raises(UnpricedRegion, match=r"no prices for region 'eu-north-1' \(it has eu-west-1, us-east-1\)"):
        TABLE.for_region("eu-north-1")
    plan = [res("aws:ec2/natGateway:NatGateway", "nat")]
    cost = summary.estimate(plan, "eu-north-1")
    assert cost["priced"] is False and "fixedMonthly" not in cost and "environment" not in cost
    text = summary.render_text(cost)
    assert text.startswith("Fixed monthly cost: not priced: ") and "eu-north-1" in text and TABLE_NAME in text
    assert "$" not in text, "no figure at all, not another region's"
    entries = summary.annotate([dict(r) for r in plan], plan, "eu-north-1")
    assert all("cost" not in e for e in entries)
    assert summary.estimate(plan, "eu-west-1")["priced"] is True  # the same plan where the table has prices


# ----------------------------------------------------------------------------- free or priced

def test_priced_and_free_lists_are_disjoint_and_every_free_type_says_why() -> None:
    assert not PRICED_TYPES & set(NOT_FIXED)
    assert all(len(why) > 10 for why in NOT_FIXED.values())


def test_a_type_in_neither_list_is_named_in_the_plan() -> None:
    plan = [res("aws:rds/instance:Instance", "db"), res("aws:ec2/vpc:Vpc", "vpc"), res(SVC, "web"),
            res("aws:lb/loadBalancer:LoadBalancer", "nlb", loadBalancerType="network")]
    found = gaps(plan, TABLE.for_region("eu-west-1"))
    assert set(found) == {"aws:rds/instance:Instance", "aws:lb/loadBalancer:LoadBalancer"}, found
    text = summary.render_text(summary.estimate(plan, "eu-west-1"))
    assert "Not priced: aws:rds/instance:Instance is neither priced nor listed" in text
    assert "Not priced: a network load balancer" in text


# ----------------------------------------------------------------------------- owners

def test_a_tree_beside_the_services_belongs_to_the_one_service_that_uses_it() -> None:
    image_a, image_b, shared = urn("rampart:image:Image", "a-img"), urn("rampart:image:Image", "b-img"), urn("rampart:x:Shared", "s")
    key_a, key_b, key_s = (urn("aws:kms/key:Key", n) for n in ("a-key", "b-key", "s-key"))
    svc_a, svc_b = urn(SVC, "a"), urn(SVC, "b")
    plan = [res(SVC, "a"), res(SVC, "b"), res("rampart:image:Image", "a-img"), res("rampart:image:Image", "b-img"),
            res("rampart:x:Shared", "s"),
            res("aws:kms/key:Key", "a-key", parent=image_a), res("aws:kms/key:Key", "b-key", parent=image_b),
            res("aws:kms/key:Key", "s-key", parent=shared),
            res("aws:ecs/taskDefinition:TaskDefinition", "a-task", parent=svc_a, deps=(key_a, key_s)),
            res("aws:ecs/taskDefinition:TaskDefinition", "b-task", parent=svc_b, deps=(key_s,))]
    got = owners(plan)
    assert got[key_a] == svc_a, "used only by service a"
    assert got[key_b] == summary.SHARED, "used by no service: stays shared"
    assert got[key_s] == summary.SHARED, "used by two services: shared"


def test_the_environment_stays_shared_when_one_service_uses_it() -> None:
    """A stack with one service (prod, an app team's program) still bills its environment apart: only a
    service's images are billed to the one service that uses them."""
    env, svc = urn("rampart:environment:Environment", "shop"), urn(SVC, "web")
    key, alb = urn("aws:kms/key:Key", "shop-key"), urn("aws:lb/loadBalancer:LoadBalancer", "shop-alb")
    plan = [res("rampart:environment:Environment", "shop"), res(SVC, "web"),
            res("aws:kms/key:Key", "shop-key", parent=env), res("aws:lb/loadBalancer:LoadBalancer", "shop-alb", parent=env),
            res("aws:ecs/taskDefinition:TaskDefinition", "web-task", parent=svc, deps=(key, alb))]
    got = owners(plan)
    assert got[key] == summary.SHARED and got[alb] == summary.SHARED, got


# ----------------------------------------------------------------------------- the real stacks

@pytest.fixture(scope="module", params=PLANNED_STACKS)
def planned(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, list[dict[str, Any]]]:
    stack = str(request.param)
    out = tmp_path_factory.mktemp("cost") / f"{stack}.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli_main(["plan", "-C", str(ROOT), "--stack", stack, "--json", str(out)]) == 0
    return stack, printed.getvalue(), json.loads(out.read_text())


def test_every_planned_resource_type_is_priced_or_listed_free(planned: tuple[str, str, list[dict[str, Any]]]) -> None:
    stack, _, resources = planned
    assert not gaps(resources), f"{stack}: add these types to PRICERS (with a price) or NOT_FIXED (with why): {gaps(resources)}"


def test_plan_prints_the_environment_and_each_service_after_the_tree(planned: tuple[str, str, list[dict[str, Any]]]) -> None:
    stack, out, resources = planned
    heading = out.index("Fixed monthly cost at eu-west-1 list prices as of ")
    assert heading > out.index("resources by type:"), "the cost comes after the tree and counts"
    assert "Not priced" not in out
    block = out[heading:]
    services = sorted(r["name"] for r in resources if r["type"] == SVC)
    assert services, stack
    sums: dict[str, float] = {}
    for r in resources:
        if "cost" in r:
            assert r["cost"]["region"] == "eu-west-1" and r["cost"]["asOf"] == TABLE.regions["eu-west-1"]["asOf"]
            sums[r["cost"]["owner"]] = sums.get(r["cost"]["owner"], 0.0) + r["cost"]["monthly"]
    for name in services:
        line = re.search(rf"^  service {re.escape(name)} +\$([0-9,.]+)$", block, re.M)
        assert line, f"{stack}: no line for service {name}"
        assert float(line[1].replace(",", "")) == pytest.approx(sums.get(name, 0.0), abs=0.005), f"{stack}: {name}"
    env = re.search(r"^  environment \(shared, not under a service\) +\$([0-9,.]+)$", block, re.M)
    total = re.search(r"^  total +\$([0-9,.]+)$", block, re.M)
    assert env and total, block
    assert float(env[1].replace(",", "")) == pytest.approx(sums.get("environment", 0.0), abs=0.005)
    assert float(total[1].replace(",", "")) == pytest.approx(sum(sums.values()), abs=0.01)


def test_plan_json_stays_a_list_of_resources_with_cost_on_the_priced_ones(planned: tuple[str, str, list[dict[str, Any]]]) -> None:
    stack, _, resources = planned
    assert isinstance(resources, list)
    priced = [r for r in resources if "cost" in r]
    assert priced and all(r["type"] in PRICED_TYPES for r in priced), stack
    assert all(set(r["cost"]) == {"monthly", "owner", "currency", "region", "asOf"} for r in priced)
    assert not [r for r in resources if r["type"] in ("aws:kms/key:Key", "aws:ec2/natGateway:NatGateway") and "cost" not in r]


def test_the_services_images_use_the_environments_key(planned: tuple[str, str, list[dict[str, Any]]]) -> None:
    """Issue 23: a service's images are made beside it and used to bring a KMS key per repository
    ($1 a month each, that service's cost). They now use the environment's one key: no key under an
    image, and the only key is the environment's monitoring key (whoever the plan bills it to: with one
    service, the owner rule gives the whole environment to it)."""
    stack, _, resources = planned
    under_images = [r["urn"] for r in resources if r["type"] == "aws:kms/key:Key" and "rampart:image:Image" in str(r["parent"])]
    assert not under_images, (stack, under_images)
    repositories = [r for r in resources if r["type"] == "aws:ecr/repository:Repository"]
    assert repositories, stack
    keys = [r for r in resources if r["type"] == "aws:kms/key:Key"]
    assert [str(k["parent"]).split("::")[-2].rsplit("$", 1)[-1] for k in keys] in ([], ["rampart:monitoring:Monitoring"]), \
        (stack, [k["urn"] for k in keys])


@pytest.mark.parametrize("planned", ["dev"], indirect=True)
def test_readme_quotes_what_the_plan_prints_for_devs_services(planned: tuple[str, str, list[dict[str, Any]]]) -> None:
    _, out, _ = planned
    figures = set(re.findall(r"^  service \S+ +(\$[0-9,.]+)$", out, re.M))
    assert len(figures) == 1, f"dev's services cost different amounts now ({figures}): reword the README"
    (figure,) = figures
    env = re.search(r"^  environment \(shared, not under a service\) +(\$[0-9,.]+)$", out, re.M)
    assert env
    readme = (ROOT / "README.md").read_text()
    top = readme[:readme.index("```mermaid")]
    bench = readme[readme.index("## Benchmarks"):readme.index("## Layout")]
    assert f"{figure} a month for each of dev's services" in " ".join(top.split()), "README's introduction"
    assert f"{env[1]} for the dev environment, paid once, and {figure} for each of dev's services" in " ".join(bench.split()), \
        "README's Benchmarks section"
    docs = " ".join((ROOT / "docs" / "cost.md").read_text().split())
    assert f"service web {figure}" in docs and f"environment (shared, not under a service) {env[1]}" in docs, "docs/cost.md's example"


# ----------------------------------------------------------------------------- the evidence report

def test_the_evidence_report_shows_the_plans_cost() -> None:
    from rampart.offline.check import check_stack
    from rampart.offline.report import build_report, render_html, render_md

    result = check_stack(ROOT, "prod")
    report = build_report(result)
    cost = report["cost"]
    assert cost["priced"] and cost["region"] == "eu-west-1" and cost["services"], cost
    md, page = render_md(report), render_html(report)
    assert "## Fixed monthly cost" in md and "<h2>Fixed monthly cost</h2>" in page
    for s in cost["services"]:
        assert f"| service {s['name']} | ${s['monthly']:,.2f} |" in md
        assert f"<td>service {s['name']}</td><td>${s['monthly']:,.2f}</td>" in page
    assert f"| **total** | **${cost['fixedMonthly']:,.2f}** |" in md
    printed = summary.render_text(summary.estimate(summary.entries(result_plan("prod")), "eu-west-1"))
    assert f"${cost['fixedMonthly']:,.2f}" in printed, "the report and the plan print the same total"


def result_plan(stack: str) -> list[Any]:
    from rampart.offline.plan import run_stack

    return run_stack(ROOT, stack).resources
