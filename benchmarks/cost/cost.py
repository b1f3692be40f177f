"""Fixed monthly cost of a planned stack at AWS list prices: what is billed whatever the traffic.

    .venv/bin/python -m rampart plan --stack dev --json out/plans/dev.json
    .venv/bin/python benchmarks/cost/cost.py out/plans/dev.json [out/plans/more.json ...]

Reads the plan JSON `rampart plan --json` writes (a list of {urn, type, name, parent, inputs}) and
prices the resources billed by the hour or the month: NAT gateways, public IPv4 addresses (Elastic
IPs and an internet-facing ALB's address per AZ), interface VPC endpoints per AZ, ALBs, WAF web ACLs
and their rules, KMS customer keys, Secrets Manager secrets, CloudWatch alarms (per metric), hosted
zones. Given several plans (say: the environment alone, then with one service, then two), it also
prints what each step adds.

Left out, because they scale with traffic or use rather than existing: ALB LCUs, NAT and endpoint
data processing, WAF requests, data transfer, CloudWatch Logs ingestion and storage (flow logs,
task logs, WAF logs), Container Insights (billed per observation/metric, scales with task count),
Secrets Manager and KMS API calls, S3 requests and storage (access logs: cents), ECR storage (per GB
of images), SNS. AWS Config (the compliance rules) is billed per evaluation and per recorded change: it
is estimated apart (`config_lines`, with the assumptions named there), never in the fixed total. Fargate tasks are variable too (autoscaling moves them); they are priced
separately at each service's desiredCount for reference, never in the fixed total.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

HOURS_PER_MONTH = 730  # AWS's own convention for monthly estimates (24 x 365 / 12)

#: The one price table. List prices, on-demand, no free tier, no discounts.
PRICES: dict[str, Any] = {
    "region": "eu-west-1",
    "currency": "USD",
    "asOf": "2026-11-30",
    "basis": ("AWS public list prices for eu-west-1 (Europe, Ireland) as of the date above, from the pages "
              "named in `sources`; recalled by the author and cross-checked against third-party copies of "
              "those pages, not fetched live. Check the pages before quoting a figure."),
    "sources": {
        "natGatewayHour": "Amazon VPC pricing: NAT gateway, per NAT gateway-hour",
        "publicIpv4Hour": "Amazon VPC pricing: public IPv4 address, per in-use or idle address-hour",
        "interfaceEndpointAzHour": "AWS PrivateLink pricing: interface endpoint, per VPC endpoint per AZ-hour",
        "albHour": "Elastic Load Balancing pricing: Application Load Balancer-hour",
        "webAclMonth": "AWS WAF pricing: web ACL, per month",
        "wafRuleMonth": "AWS WAF pricing: rule (a managed rule group counts as one), per month",
        "wafRuleGroupMonth": "AWS WAF pricing: rule group you create, per month",
        "wafPaidManagedGroupMonth": "AWS WAF pricing: Bot Control, Fraud Control ATP and ACFP subscriptions, per month",
        "kmsKeyMonth": "AWS KMS pricing: customer managed key, per month (rotated versions add $1 each for the first two rotations, from the second year)",
        "secretMonth": "AWS Secrets Manager pricing: per secret per month",
        "alarmMetricMonth": "Amazon CloudWatch pricing: standard-resolution alarm, per alarm metric per month",
        "highResAlarmMetricMonth": "Amazon CloudWatch pricing: high-resolution alarm, per alarm metric per month",
        "compositeAlarmMonth": "Amazon CloudWatch pricing: composite alarm, per month",
        "hostedZoneMonth": "Amazon Route 53 pricing: hosted zone, per month (records are free)",
        "dashboardMonth": "Amazon CloudWatch pricing: dashboard, per month (an account's first 3 are free; not applied here)",
        "customMetricMonth": "Amazon CloudWatch pricing: custom metric (first 10,000), per metric per month, prorated by the hours it is published",
        "fargateVcpuHour": "AWS Fargate pricing: Linux/x86, per vCPU-hour",
        "fargateGbHour": "AWS Fargate pricing: Linux/x86, per GB-hour",
        "configRuleEvaluation": "AWS Config pricing: rule evaluation, per evaluation per region (first 100,000 a month; "
                                "$0.0008 from 100,001 to 500,000)",
        "configItem": "AWS Config pricing: configuration item recorded, continuous recording, per item",
    },
    "natGatewayHour": 0.048,
    "publicIpv4Hour": 0.005,
    "interfaceEndpointAzHour": 0.011,
    "albHour": 0.0252,
    "webAclMonth": 5.00,
    "wafRuleMonth": 1.00,
    "wafRuleGroupMonth": 1.00,
    "wafPaidManagedGroupMonth": 10.00,
    "kmsKeyMonth": 1.00,
    "secretMonth": 0.40,
    "alarmMetricMonth": 0.10,
    "highResAlarmMetricMonth": 0.30,
    "compositeAlarmMonth": 0.50,
    "hostedZoneMonth": 0.50,
    "dashboardMonth": 3.00,
    "customMetricMonth": 0.30,
    "fargateVcpuHour": 0.04048,
    "fargateGbHour": 0.004445,
    "configRuleEvaluation": 0.001,
    "configItem": 0.003,
}

#: Assumptions of the AWS Config estimate (use-dependent, never in the fixed total): each resource a rule
#: judges is evaluated once a day (a periodic rule's default 24-hour run, or one change a day for a
#: change-triggered one), and each recorded resource changes 4 times a month (a weekly deploy).
CONFIG_EVALUATIONS_PER_RESOURCE_MONTH = 30
CONFIG_CHANGES_PER_RESOURCE_MONTH = 4

#: AWS managed rule groups with a monthly subscription on top of the $1 rule charge.
PAID_MANAGED_GROUPS = ("AWSManagedRulesBotControlRuleSet", "AWSManagedRulesATPRuleSet", "AWSManagedRulesACFPRuleSet")

SERVICE_COMPONENT = "rampart:web_service:WebService"
SHARED = "(shared: not under a WebService)"


@dataclass(frozen=True)
class Line:
    """One priced item: `quantity` units at `unit_month` dollars a month each."""

    item: str
    resource: str
    quantity: float
    unit: str
    unit_month: float
    owner: str = SHARED

    @property
    def monthly(self) -> float:
        return self.quantity * self.unit_month


def hourly(key: str) -> float:
    return float(PRICES[key]) * HOURS_PER_MONTH


def monthly(key: str) -> float:
    return float(PRICES[key])


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _owner(resource: Mapping[str, Any], by_urn: Mapping[str, Mapping[str, Any]]) -> str:
    """The URN of the nearest WebService component above the resource, else SHARED."""
    seen: set[str] = set()
    urn = resource.get("parent")
    while urn and urn in by_urn and urn not in seen:
        seen.add(urn)
        if by_urn[urn]["type"] == SERVICE_COMPONENT:
            return str(urn)
        urn = by_urn[urn].get("parent")
    return SHARED


def _alarm_metrics(inputs: Mapping[str, Any]) -> tuple[int, bool]:
    """(metrics billed, high resolution) of a metric alarm: each metric of a metric-math alarm counts."""
    queries = _list(inputs.get("metricQueries"))
    if queries:
        metrics = [q for q in queries if isinstance(q, Mapping) and q.get("metric")]
        periods = [int((q.get("metric") or {}).get("period") or 60) for q in metrics]
        return len(metrics), any(p < 60 for p in periods)
    return 1, int(inputs.get("period") or 60) < 60


def fixed_lines(plan: Sequence[Mapping[str, Any]]) -> list[Line]:
    """Every item of the plan billed by the hour or month whatever the traffic."""
    by_urn = {str(r["urn"]): r for r in plan if r.get("urn")}
    out: list[Line] = []
    for r in plan:
        t, name, inputs = r["type"], r["name"], r.get("inputs") or {}
        owner = _owner(r, by_urn)

        def add(item: str, quantity: float, unit: str, unit_month: float) -> None:
            if quantity:
                out.append(Line(item, name, quantity, unit, unit_month, owner))

        if t == "aws:ec2/natGateway:NatGateway":
            if inputs.get("connectivityType", "public") == "public":
                add("NAT gateway", 1, "gateway", hourly("natGatewayHour"))
            else:
                add("NAT gateway (private)", 1, "gateway", hourly("natGatewayHour"))
        elif t == "aws:ec2/eip:Eip":
            add("public IPv4 (Elastic IP)", 1, "address", hourly("publicIpv4Hour"))
        elif t == "aws:ec2/vpcEndpoint:VpcEndpoint":
            if str(inputs.get("vpcEndpointType") or "Gateway") == "Interface":
                azs = len(_list(inputs.get("subnetIds"))) or len(_list(inputs.get("subnetConfigurations")))
                add("interface VPC endpoint", max(azs, 1), "endpoint-AZ", hourly("interfaceEndpointAzHour"))
            # gateway endpoints (S3, DynamoDB) are free
        elif t in ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"):
            if str(inputs.get("loadBalancerType") or "application") == "application":
                add("application load balancer", 1, "ALB", hourly("albHour"))
                if not inputs.get("internal"):
                    azs = len(_list(inputs.get("subnets"))) or len(_list(inputs.get("subnetMappings")))
                    add("public IPv4 (ALB, one per AZ at least)", azs, "address", hourly("publicIpv4Hour"))
        elif t == "aws:wafv2/webAcl:WebAcl":
            add("WAF web ACL", 1, "web ACL", monthly("webAclMonth"))
            rules = [x for x in _list(inputs.get("rules")) if isinstance(x, Mapping)]
            add("WAF rule (managed group = 1 rule)", len(rules), "rule", monthly("wafRuleMonth"))
            paid = [x for x in rules
                    if ((x.get("statement") or {}).get("managedRuleGroupStatement") or {}).get("name") in PAID_MANAGED_GROUPS]
            add("WAF paid managed rule group subscription", len(paid), "group", monthly("wafPaidManagedGroupMonth"))
        elif t == "aws:wafv2/webAclRule:WebAclRule":
            add("WAF rule (managed group = 1 rule)", 1, "rule", monthly("wafRuleMonth"))
        elif t == "aws:wafv2/ruleGroup:RuleGroup":
            add("WAF rule group", 1, "group", monthly("wafRuleGroupMonth"))
        elif t in ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"):
            add("KMS customer managed key", 1, "key", monthly("kmsKeyMonth"))
        elif t == "aws:secretsmanager/secret:Secret":
            add("Secrets Manager secret", 1, "secret", monthly("secretMonth"))
        elif t == "aws:cloudwatch/metricAlarm:MetricAlarm":
            metrics, high_res = _alarm_metrics(inputs)
            if high_res:
                add("CloudWatch alarm metric (high resolution)", metrics, "metric", monthly("highResAlarmMetricMonth"))
            else:
                add("CloudWatch alarm metric (standard)", metrics, "metric", monthly("alarmMetricMonth"))
        elif t == "aws:cloudwatch/compositeAlarm:CompositeAlarm":
            add("CloudWatch composite alarm", 1, "alarm", monthly("compositeAlarmMonth"))
        elif t == "aws:cloudwatch/dashboard:Dashboard":
            add("CloudWatch dashboard", 1, "dashboard", monthly("dashboardMonth"))
        elif t == "aws:cloudwatch/logMetricFilter:LogMetricFilter":
            # publishes only in hours a log line matches: counted as if every hour had traffic
            add("CloudWatch custom metric (log metric filter)", 1, "metric", monthly("customMetricMonth"))
        elif t == "aws:route53/zone:Zone":
            add("Route 53 hosted zone", 1, "zone", monthly("hostedZoneMonth"))
    return out


def _task_definition_for(service: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The planned task definition a service runs: by ARN (name or family in it), else the only one beside it."""
    ref = str((service.get("inputs") or {}).get("taskDefinition") or "")
    for td in tasks:
        family = str((td.get("inputs") or {}).get("family") or "")
        if ref and (ref == td["name"] or ref.endswith(":" + td["name"]) or (family and (
                f"task-definition/{family}:" in ref or ref.endswith("/" + family) or ref == family))):
            return td
    siblings = [td for td in tasks if td.get("parent") == service.get("parent")]
    return siblings[0] if len(siblings) == 1 else None


def task_lines(plan: Sequence[Mapping[str, Any]]) -> list[Line]:
    """Fargate tasks at each service's desiredCount (variable: excluded from the fixed total)."""
    by_urn = {str(r["urn"]): r for r in plan if r.get("urn")}
    tasks = [r for r in plan if r["type"] == "aws:ecs/taskDefinition:TaskDefinition"]
    out: list[Line] = []
    for svc in (r for r in plan if r["type"] == "aws:ecs/service:Service"):
        inputs = svc.get("inputs") or {}
        count = inputs.get("desiredCount")
        count = 1 if count is None else int(count)
        td = _task_definition_for(svc, tasks)
        if td is None or not count:
            continue
        tdi = td.get("inputs") or {}
        vcpu = int(tdi.get("cpu") or 0) / 1024
        gb = int(tdi.get("memory") or 0) / 1024
        owner = _owner(svc, by_urn)
        out.append(Line(f"Fargate vCPU ({vcpu:g} per task)", svc["name"], count * vcpu, "vCPU",
                        hourly("fargateVcpuHour"), owner))
        out.append(Line(f"Fargate memory ({gb:g} GB per task)", svc["name"], count * gb, "GB",
                        hourly("fargateGbHour"), owner))
    return out


def _rule_types() -> dict[str, set[str]]:
    """Managed-rule identifier -> the Pulumi types its policies judge, from the pack's registry."""
    try:
        from rampart_soc2.registry import POLICIES
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policy" / "soc2"))
        from rampart_soc2.registry import POLICIES
    out: dict[str, set[str]] = defaultdict(set)
    for spec in POLICIES.values():
        if spec.config_rule is not None:
            out[spec.config_rule.identifier].update(spec.resource_types)
    return dict(out)


def config_lines(plan: Sequence[Mapping[str, Any]]) -> list[Line]:
    """Estimated AWS Config charges of the plan's rules (and recorder, when it creates one): use-dependent."""
    rules = [r for r in plan if r["type"] == "aws:cfg/rule:Rule"]
    if not rules:
        return []
    types = _rule_types()
    count = defaultdict(int)
    for r in plan:
        count[r["type"]] += 1
    out: list[Line] = []
    for rule in rules:
        identifier = str(((rule.get("inputs") or {}).get("source") or {}).get("sourceIdentifier"))
        judged = sum(count[t] for t in types.get(identifier, ()))
        if judged:
            out.append(Line("AWS Config rule evaluations (estimate)", rule["name"],
                            judged * CONFIG_EVALUATIONS_PER_RESOURCE_MONTH, "evaluation", monthly("configRuleEvaluation")))
    if any(r["type"] == "aws:cfg/recorder:Recorder" for r in plan):
        recorded = sum(1 for r in plan if r["type"].startswith("aws:") and r["type"] != "aws:cfg/rule:Rule")
        out.append(Line("AWS Config configuration items (estimate)", "recorder",
                        recorded * CONFIG_CHANGES_PER_RESOURCE_MONTH, "item", monthly("configItem")))
    return out


def total(lines: Iterable[Line]) -> float:
    return sum(line.monthly for line in lines)


def by_item(lines: Iterable[Line]) -> dict[str, tuple[float, str, float, float]]:
    """{item: (quantity, unit, unit $/month, $/month)} summed over resources."""
    acc: dict[str, list[Any]] = {}
    for line in lines:
        row = acc.setdefault(line.item, [0.0, line.unit, line.unit_month, 0.0])
        row[0] += line.quantity
        row[3] += line.monthly
    return {k: (v[0], v[1], v[2], v[3]) for k, v in acc.items()}


def by_owner(lines: Iterable[Line]) -> dict[str, float]:
    acc: dict[str, float] = defaultdict(float)
    for line in lines:
        acc[line.owner] += line.monthly
    return dict(acc)


# ----------------------------------------------------------------------------- output

def _money(x: float) -> str:
    return f"${x:,.2f}"


def render_plan(label: str, plan: Sequence[Mapping[str, Any]]) -> str:
    fixed, tasks = fixed_lines(plan), task_lines(plan)
    rows = ["| item | quantity | unit price / month | $ / month |", "|---|---:|---:|---:|"]
    for item, (qty, unit, unit_month, cost) in sorted(by_item(fixed).items(), key=lambda kv: -kv[1][3]):
        rows.append(f"| {item} | {qty:g} {unit} | {_money(unit_month)} | {_money(cost)} |")
    rows.append(f"| **fixed total** | | | **{_money(total(fixed))}** |")
    parts = [f"## {label}", "", f"{len(plan)} planned resources.", "", *rows, ""]
    owners = by_owner(fixed)
    if len(owners) > 1 or SHARED not in owners:
        parts += ["Fixed cost by owner (nearest `rampart:web_service:WebService` above each resource):", "",
                  "| owner | $ / month |", "|---|---:|",
                  *[f"| `{o}` | {_money(c)} |" for o, c in sorted(owners.items())], ""]
    config = config_lines(plan)
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


def render_steps(labels: Sequence[str], plans: Sequence[Sequence[Mapping[str, Any]]]) -> str:
    totals = [total(fixed_lines(p)) for p in plans]
    rows = ["## Cost added by each step", "", "| plan | fixed $ / month | added by this step |", "|---|---:|---:|",
            f"| {labels[0]} | {_money(totals[0])} | |"]
    for i in range(1, len(plans)):
        before, after = by_item(fixed_lines(plans[i - 1])), by_item(fixed_lines(plans[i]))
        moved = []
        for item in sorted(set(before) | set(after)):
            d = after.get(item, (0, "", 0, 0.0))[3] - before.get(item, (0, "", 0, 0.0))[3]
            if abs(d) >= 0.005:
                moved.append(f"{item} {'+' if d > 0 else '-'}{_money(abs(d))}")
        rows.append(f"| {labels[i]} | {_money(totals[i])} | {'+' if totals[i] >= totals[i - 1] else '-'}"
                    f"{_money(abs(totals[i] - totals[i - 1]))} ({'; '.join(moved) or 'nothing'}) |")
    return "\n".join(rows) + "\n"


def header() -> str:
    return (f"Fixed monthly cost at {PRICES['region']} list prices as of {PRICES['asOf']} "
            f"({PRICES['currency']}, {HOURS_PER_MONTH} hours a month). {PRICES['basis']}\n"
            "Excluded (traffic- or use-dependent): ALB LCUs, NAT and endpoint data processing, WAF requests, "
            "data transfer, CloudWatch Logs, Container Insights, API calls, S3, ECR storage, SNS; "
            "Fargate tasks are shown apart.\n")


def load(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    if not isinstance(data, list) or not all(isinstance(r, dict) and "type" in r and "name" in r for r in data):
        raise SystemExit(f"{path}: not a plan (expected the list `rampart plan --json` writes)")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("plans", nargs="+", type=Path, metavar="PLAN.json")
    args = parser.parse_args(argv)
    plans = [load(p) for p in args.plans]
    labels = [p.name for p in args.plans]
    print(header())
    for label, plan in zip(labels, plans):
        print(render_plan(label, plan))
    if len(plans) > 1:
        print(render_steps(labels, plans))
    return 0


if __name__ == "__main__":
    sys.exit(main())
