"""Fixed monthly cost of a planned stack at AWS list prices: what is billed whatever the traffic.

    .venv/bin/python -m rampart plan --stack dev --json out/plans/dev.json
    .venv/bin/python benchmarks/cost/cost.py out/plans/dev.json [out/plans/more.json ...]

Reads the plan JSON `rampart plan --json` writes (a list of {urn, type, name, parent, inputs}, the
priced ones with the `cost` that records the region) and prices, with `rampart.cost` and its table
(rampart/cost/prices.json: the same engine and prices `rampart plan` prints), the resources billed by
the hour or the month: NAT gateways, public IPv4 addresses (Elastic
IPs and an internet-facing ALB's address per AZ), interface VPC endpoints per AZ, ALBs, WAF web ACLs
and their rules, KMS customer keys, Secrets Manager secrets, CloudWatch alarms (per metric), hosted
zones. Given several plans (say: the environment alone, then with one service, then two), it also
prints what each step adds.

Left out, because they scale with traffic or use rather than existing: ALB LCUs, NAT and endpoint
data processing, WAF requests, data transfer, CloudWatch Logs ingestion and storage (flow logs,
task logs, WAF logs), Container Insights (billed per observation/metric, scales with task count),
Secrets Manager and KMS API calls, S3 requests and storage (access logs: cents), ECR storage (per GB
of images), SNS. AWS Config (the compliance rules) is billed per evaluation and per recorded change: it
is estimated apart (`config_lines`, with the assumptions named there), never in the fixed total.
Fargate tasks are variable too (autoscaling moves them); they are priced separately at each service's desiredCount for reference, never in the fixed total.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

from rampart.cost.engine import (CONFIG_CHANGES_PER_RESOURCE_MONTH, CONFIG_EVALUATIONS_PER_RESOURCE_MONTH, SHARED,
                                 Line, by_item, by_owner, config_lines, fixed_lines, task_lines, total)
from rampart.cost.table import TABLE_NAME, RegionPrices, UnpricedRegion, load_table

__all__ = ["CONFIG_CHANGES_PER_RESOURCE_MONTH", "CONFIG_EVALUATIONS_PER_RESOURCE_MONTH", "SHARED", "Line", "by_item",
           "by_owner", "config_lines", "fixed_lines", "task_lines", "total", "main"]


# ----------------------------------------------------------------------------- output

def _money(x: float) -> str:
    return f"${x:,.2f}"


def render_plan(label: str, plan: Sequence[Mapping[str, Any]], prices: RegionPrices) -> str:
    fixed, tasks = fixed_lines(plan, prices), task_lines(plan, prices)
    rows = ["| item | quantity | unit price / month | $ / month |", "|---|---:|---:|---:|"]
    for item, (qty, unit, unit_month, cost) in sorted(by_item(fixed).items(), key=lambda kv: -kv[1][3]):
        rows.append(f"| {item} | {qty:g} {unit} | {_money(unit_month)} | {_money(cost)} |")
    rows.append(f"| **fixed total** | | | **{_money(total(fixed))}** |")
    parts = [f"## {label}", "", f"{len(plan)} planned resources.", "", *rows, ""]
    recorded = [r["cost"] for r in plan if isinstance(r.get("cost"), Mapping)]
    if recorded:  # as `rampart plan` attributed them (it also gives a service the images only it uses)
        owners: dict[str, float] = {}
        for c in recorded:
            owners[str(c["owner"])] = owners.get(str(c["owner"]), 0.0) + float(c["monthly"])
        heading = "Fixed cost by owner, as `rampart plan --json` recorded it:"
    else:
        owners = by_owner(fixed)
        heading = "Fixed cost by owner (nearest `rampart:web_service:WebService` above each resource):"
    if len(owners) > 1 or SHARED not in owners:
        parts += [heading, "", "| owner | $ / month |", "|---|---:|",
                  *[f"| `{o}` | {_money(c)} |" for o, c in sorted(owners.items())], ""]
    config = config_lines(plan, prices)
    if config:
        rules = sum(1 for r in plan if r["type"] == "aws:cfg/rule:Rule")
        parts += [f"Variable, not in the total: AWS Config, {rules} rules, about {_money(total(config))} a month "
                  f"({'; '.join(f'{item}: {qty:g} {unit}s' for item, (qty, unit, _, _) in by_item(config).items())}; "
                  f"{CONFIG_EVALUATIONS_PER_RESOURCE_MONTH} evaluations per judged resource a month, "
                  f"{CONFIG_CHANGES_PER_RESOURCE_MONTH} changes per recorded resource; rules themselves cost nothing "
                  "while idle).", ""]
    if tasks:
        per_service: dict[str, list[str]] = {}
        for line in tasks:
            per_service.setdefault(line.resource, []).append(f"{line.quantity:g} {line.unit}")
        shown = "; ".join(f"{svc}: " + " + ".join(v) for svc, v in per_service.items())
        parts += [f"Variable, not in the total: Fargate tasks at desiredCount, {_money(total(tasks))} a month "
                  f"({shown}).", ""]
    return "\n".join(parts)


def render_steps(labels: Sequence[str], plans: Sequence[Sequence[Mapping[str, Any]]], prices: RegionPrices) -> str:
    totals = [total(fixed_lines(p, prices)) for p in plans]
    rows = ["## Cost added by each step", "", "| plan | fixed $ / month | added by this step |", "|---|---:|---:|",
            f"| {labels[0]} | {_money(totals[0])} | |"]
    for i in range(1, len(plans)):
        before, after = by_item(fixed_lines(plans[i - 1], prices)), by_item(fixed_lines(plans[i], prices))
        moved = []
        for item in sorted(set(before) | set(after)):
            d = after.get(item, (0, "", 0, 0.0))[3] - before.get(item, (0, "", 0, 0.0))[3]
            if abs(d) >= 0.005:
                moved.append(f"{item} {'+' if d > 0 else '-'}{_money(abs(d))}")
        rows.append(f"| {labels[i]} | {_money(totals[i])} | {'+' if totals[i] >= totals[i - 1] else '-'}"
                    f"{_money(abs(totals[i] - totals[i - 1]))} ({'; '.join(moved) or 'nothing'}) |")
    return "\n".join(rows) + "\n"


def header(prices: RegionPrices) -> str:
    return (f"Fixed monthly cost at {prices.region} list prices as of {prices.as_of} "
            f"({prices.currency}, {prices.hours_per_month} hours a month; table {TABLE_NAME}). "
            f"{load_table().basis}\n"
            "Excluded (traffic- or use-dependent): ALB LCUs, NAT and endpoint data processing, WAF requests, "
            "data transfer, CloudWatch Logs, Container Insights, API calls, S3, ECR storage, SNS; "
            "Fargate tasks are shown apart.\n")


def load(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    if not isinstance(data, list) or not all(isinstance(r, dict) and "type" in r and "name" in r for r in data):
        raise SystemExit(f"{path}: not a plan (expected the list `rampart plan --json` writes)")
    return data


def plan_region(paths: Sequence[Path], plans: Sequence[Sequence[Mapping[str, Any]]], given: str | None) -> str:
    """The region to price at: --region, else the one `rampart plan --json` recorded on the priced entries."""
    found = {str(r["cost"]["region"]) for plan in plans for r in plan if isinstance(r.get("cost"), Mapping)}
    if given:
        if found - {given}:
            raise SystemExit(f"--region {given}: the plans were priced for {', '.join(sorted(found))}; "
                             "give the plans' own region or none")
        return given
    if len(found) != 1:
        raise SystemExit(f"{', '.join(map(str, paths))}: " + (
            f"plans of several regions ({', '.join(sorted(found))}); price them one region at a time" if found else
            "no region recorded (a plan from before the price table moved, or made by hand); give --region REGION"))
    return found.pop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("plans", nargs="+", type=Path, metavar="PLAN.json")
    parser.add_argument("--region", help="AWS region to price at (default: the one the plans record)")
    args = parser.parse_args(argv)
    plans = [load(p) for p in args.plans]
    try:
        prices = load_table().for_region(plan_region(args.plans, plans, args.region))
    except UnpricedRegion as e:
        raise SystemExit(str(e)) from None
    labels = [p.name for p in args.plans]
    print(header(prices))
    for label, plan in zip(labels, plans):
        print(render_plan(label, plan, prices))
    if len(plans) > 1:
        print(render_steps(labels, plans, prices))
    return 0


if __name__ == "__main__":
    sys.exit(main())
