"""The plan's fixed monthly cost as one JSON-able value, and how `rampart plan`, `--json` and the
evidence report show it. Every figure comes from the engine (`engine.py`) and the table (`prices.json`).
"""
from __future__ import annotations

from html import escape
from typing import Any, Iterable, Mapping, Sequence

from rampart.cost.engine import (SERVICE_COMPONENT, SHARED, Entry, Line, by_item, config_lines, fixed_lines, gaps,
                                 total, task_lines)
from rampart.cost.table import TABLE_NAME, UnpricedRegion, load_table

ENVIRONMENT = "environment"
"""The owner name of everything not under a WebService: the environment and anything else shared."""

DOCS = "docs/cost.md"
EXCLUDED = ("Not in the fixed total (billed by traffic or use): ALB LCUs, NAT and endpoint data processing, "
            "WAF requests, data transfer, CloudWatch Logs, Container Insights, API calls, S3, ECR storage, SNS.")


def entries(resources: Iterable[Any]) -> list[dict[str, Any]]:
    """Plan entries from the mock engine's RegisteredResources (or entries already)."""
    out = []
    for r in resources:
        if isinstance(r, Mapping):
            out.append(dict(r))
        else:
            out.append({"urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent_urn, "inputs": r.inputs,
                        "dependencies": sorted(r.dependencies)})
    return out


def _items(lines: Sequence[Line]) -> list[dict[str, Any]]:
    return [{"item": item, "quantity": round(qty, 6), "unit": unit, "unitMonthly": round(unit_month, 6),
             "monthly": round(cost, 2)}
            for item, (qty, unit, unit_month, cost) in sorted(by_item(lines).items(), key=lambda kv: (-kv[1][3], kv[0]))]


def _owner_name(owner: str) -> str:
    return ENVIRONMENT if owner == SHARED else owner.rsplit("::", 1)[-1]


def estimate(plan: Sequence[Entry], region: str) -> dict[str, Any]:
    """The fixed monthly cost of the environment (all not under a WebService) and of each service,
    with the variable charges priced apart; `priced` is False, with the reason, for a region the
    table lacks."""
    table = load_table()
    base: dict[str, Any] = {"region": region, "currency": table.currency, "hoursPerMonth": table.hours_per_month,
                            "table": TABLE_NAME, "sources": DOCS}
    unknown = gaps(plan)
    try:
        prices = table.for_region(region)
    except UnpricedRegion as e:
        return {**base, "priced": False, "reason": str(e), "notPriced": unknown}
    fixed = fixed_lines(plan, prices)
    services = sorted(str(r["urn"]) for r in plan if r["type"] == SERVICE_COMPONENT)
    owners: dict[str, list[Line]] = {SHARED: [], **{s: [] for s in services}}
    for line in fixed:
        owners.setdefault(line.owner, []).append(line)
    tasks, config = task_lines(plan, prices), config_lines(plan, prices)
    return {
        **base, "priced": True, "asOf": prices.as_of, "regionName": prices.name,
        "fixedMonthly": round(total(fixed), 2),
        "environment": {"monthly": round(total(owners[SHARED]), 2), "items": _items(owners[SHARED])},
        "services": [{"name": _owner_name(s), "urn": s, "monthly": round(total(owners[s]), 2), "items": _items(owners[s])}
                     for s in owners if s != SHARED],
        "variable": {"fargateTasksMonthly": round(total(tasks), 2), "awsConfigMonthly": round(total(config), 2)},
        "notPriced": {**unknown, **gaps(plan, prices)},
    }


def annotate(plan_json: list[dict[str, Any]], plan: Sequence[Entry], region: str) -> list[dict[str, Any]]:
    """`rampart plan --json` entries, each priced resource with a `cost` key: its fixed dollars a month,
    its owner (`environment` or the service's name), the region and the table's date. The file stays a
    list of resources, so every reader of it keeps working; the environment's and services' figures are
    the sums by owner. In a region the table lacks, nothing is annotated (the plan says why)."""
    try:
        prices = load_table().for_region(region)
    except UnpricedRegion:
        return plan_json
    per_resource: dict[str, list[Line]] = {}
    for line in fixed_lines(plan, prices):
        per_resource.setdefault(line.urn, []).append(line)
    for r in plan_json:
        lines = per_resource.get(str(r["urn"]))
        if lines:
            r["cost"] = {"monthly": round(total(lines), 2), "owner": _owner_name(lines[0].owner),
                         "currency": prices.currency, "region": prices.region, "asOf": prices.as_of}
    return plan_json


def _money(x: float) -> str:
    return f"${x:,.2f}"


def _variable_sentence(cost: Mapping[str, Any]) -> str:
    v = cost["variable"]
    parts = [f"Fargate tasks at desiredCount {_money(v['fargateTasksMonthly'])}"]
    if v["awsConfigMonthly"]:
        parts.append(f"AWS Config about {_money(v['awsConfigMonthly'])} (an estimate)")
    return "Variable, not in the total: " + "; ".join(parts) + ". " + EXCLUDED


def heading(cost: Mapping[str, Any]) -> str:
    if not cost["priced"]:
        return f"Fixed monthly cost: not priced: {cost['reason']}."
    return (f"Fixed monthly cost at {cost['region']} list prices as of {cost['asOf']} ({cost['currency']}, "
            f"{cost['hoursPerMonth']} hours a month; table {cost['table']}, sources in {cost['sources']})")


def owners(cost: Mapping[str, Any]) -> list[tuple[str, float, list[dict[str, Any]]]]:
    """(label, $/month, items) for the environment, then each service."""
    return ([("environment (shared, not under a service)", cost["environment"]["monthly"], cost["environment"]["items"])]
            + [(f"service {s['name']}", s["monthly"], s["items"]) for s in cost["services"]])


def render_text(cost: Mapping[str, Any]) -> str:
    lines = [heading(cost)]
    if cost["priced"]:
        rows = owners(cost)
        width = max(len(label) for label, _, _ in rows + [("total", 0.0, [])])
        for label, monthly, items in rows:
            lines.append(f"  {label.ljust(width)}  {_money(monthly):>10}")
            lines += [f"      {i['item']}: {i['quantity']:g} {i['unit']} x {_money(i['unitMonthly'])} = {_money(i['monthly'])}"
                      for i in items]
        lines.append(f"  {'total'.ljust(width)}  {_money(cost['fixedMonthly']):>10}")
        lines.append(_variable_sentence(cost))
    lines += [f"Not priced: {why}" for why in cost["notPriced"].values()]
    return "\n".join(lines)


def render_md(cost: Mapping[str, Any]) -> list[str]:
    """The evidence report's section (Markdown lines)."""
    lines = ["## Fixed monthly cost", "", heading(cost) + (":" if cost["priced"] else ""), ""]
    if cost["priced"]:
        lines += ["| owner | $ / month |", "|---|---:|",
                  *[f"| {label} | {_money(monthly)} |" for label, monthly, _ in owners(cost)],
                  f"| **total** | **{_money(cost['fixedMonthly'])}** |", "", _variable_sentence(cost), ""]
    lines += [*[f"- Not priced: {why}" for why in cost["notPriced"].values()], ""] if cost["notPriced"] else []
    return lines


def render_html(cost: Mapping[str, Any]) -> str:
    """The evidence report's section (HTML)."""
    parts = ["<h2>Fixed monthly cost</h2>", f"<p>{escape(heading(cost))}</p>"]
    if cost["priced"]:
        rows = "".join(f"<tr><td>{escape(label)}</td><td>{_money(monthly)}</td></tr>" for label, monthly, _ in owners(cost))
        parts += [f"<table><thead><tr><th>owner</th><th>$ / month</th></tr></thead><tbody>{rows}"
                  f"<tr><td><b>total</b></td><td><b>{_money(cost['fixedMonthly'])}</b></td></tr></tbody></table>",
                  f"<p class='muted'>{escape(_variable_sentence(cost))}</p>"]
    parts += [f"<p>Not priced: {escape(why)}</p>" for why in cost["notPriced"].values()]
    return "".join(parts)
