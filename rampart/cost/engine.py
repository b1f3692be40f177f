"""The pricing engine: what a planned resource costs a month whatever the traffic.

Input is a plan as entries (`{urn, type, name, parent, inputs}`, what `rampart plan --json` writes).
Every AWS resource type the program may create is either priced here (`PRICERS`: billed by the
hour or month for existing) or listed in `NOT_FIXED` with why it adds no fixed monthly cost (free,
or billed by traffic or use). A type in neither is a gap: `gaps()` names it, and a test plans every
stack and fails on one, so a new priced resource cannot slip in unpriced.

Variable charges are priced apart, never in the fixed total: Fargate tasks at each service's
desiredCount (`task_lines`) and the AWS Config estimate (`config_lines`, assumptions named there).
"""
from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from rampart.cost.table import RegionPrices

Entry = Mapping[str, Any]

SERVICE_COMPONENT = "rampart:web_service:WebService"
#: A service's images are made beside it (its args need their refs): billed to the one service using them.
IMAGE_COMPONENT = "rampart:image:Image"
SHARED = "(shared: not under a WebService)"

#: AWS managed rule groups with a monthly subscription on top of the $1 rule charge.
PAID_MANAGED_GROUPS = ("AWSManagedRulesBotControlRuleSet", "AWSManagedRulesATPRuleSet", "AWSManagedRulesACFPRuleSet")

#: Assumptions of the AWS Config estimate (use-dependent, never in the fixed total): each resource a rule
#: judges is evaluated once a day (a periodic rule's default 24-hour run, or one change a day for a
#: change-triggered one), and each recorded resource changes 4 times a month (a weekly deploy).
CONFIG_EVALUATIONS_PER_RESOURCE_MONTH = 30
CONFIG_CHANGES_PER_RESOURCE_MONTH = 4

#: Resource types with no fixed monthly charge, and why. Billed-by-traffic or by-use charges are named.
NOT_FIXED: dict[str, str] = {
    "aws:acm/certificate:Certificate": "public ACM certificates are free",
    "aws:acm/certificateValidation:CertificateValidation": "a wait for validation, not an AWS resource",
    "aws:appautoscaling/policy:Policy": "Application Auto Scaling is free (its alarms are priced as alarms)",
    "aws:appautoscaling/target:Target": "Application Auto Scaling is free",
    "aws:cfg/deliveryChannel:DeliveryChannel": "a Config setting; its bucket bills storage (use)",
    "aws:cfg/recorder:Recorder": "AWS Config bills per configuration item recorded (use): estimated apart by config_lines",
    "aws:cfg/recorderStatus:RecorderStatus": "a Config setting (the recorder's items: use)",
    "aws:cfg/rule:Rule": "AWS Config bills per rule evaluation (use): estimated apart by config_lines",
    "aws:cloudwatch/eventRule:EventRule": "EventBridge bills per event published (use); rules are free",
    "aws:cloudwatch/eventTarget:EventTarget": "part of an EventBridge rule; billed per event (use)",
    "aws:cloudwatch/logGroup:LogGroup": "CloudWatch Logs bills ingestion and storage (traffic)",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "security groups are free",
    "aws:ec2/flowLog:FlowLog": "flow logs bill the log data delivered (traffic)",
    "aws:ec2/internetGateway:InternetGateway": "internet gateways are free (data transfer is traffic)",
    "aws:ec2/route:Route": "routes are free",
    "aws:ec2/routeTable:RouteTable": "route tables are free",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "route table associations are free",
    "aws:ec2/securityGroup:SecurityGroup": "security groups are free",
    "aws:ec2/subnet:Subnet": "subnets are free",
    "aws:ec2/vpc:Vpc": "VPCs are free",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "lifecycle policies are free",
    "aws:ecr/repository:Repository": "ECR bills image storage per GB (use); its KMS key is priced as a key",
    "aws:ecs/cluster:Cluster": "ECS clusters are free (Container Insights bills per observation: use)",
    "aws:ecs/service:Service": "Fargate bills running tasks per vCPU and GB-hour, which autoscaling moves: "
                               "priced apart at desiredCount by task_lines",
    "aws:ecs/taskDefinition:TaskDefinition": "task definitions are free (their tasks: see aws:ecs/service)",
    "aws:iam/role:Role": "IAM is free",
    "aws:iam/rolePolicy:RolePolicy": "IAM is free",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM is free",
    "aws:kms/alias:Alias": "aliases are free (the key is priced)",
    "aws:lb/listener:Listener": "listeners are free (the ALB's LCUs are traffic)",
    "aws:lb/listenerCertificate:ListenerCertificate": "adding a certificate to a listener is free",
    "aws:lb/listenerRule:ListenerRule": "listener rules are free up to the LCU's 10 rules evaluated (traffic)",
    "aws:lb/targetGroup:TargetGroup": "target groups are free",
    "aws:route53/record:Record": "records in a hosted zone are free (queries are traffic)",
    "aws:s3/bucket:Bucket": "S3 bills storage and requests (use)",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "bucket settings are free",
    "aws:s3/bucketLogging:BucketLogging": "bucket settings are free (the logs are storage: use)",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "bucket settings are free",
    "aws:s3/bucketPolicy:BucketPolicy": "bucket settings are free",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "bucket settings are free",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "bucket settings are free",
    "aws:s3/bucketVersioning:BucketVersioning": "bucket settings are free (old versions are storage: use)",
    "aws:secretsmanager/secretVersion:SecretVersion": "versions are free (the secret is priced)",
    "aws:sns/topic:Topic": "SNS bills per request and delivery (use)",
    "aws:sns/topicPolicy:TopicPolicy": "SNS topic policies are free",
    "aws:sns/topicSubscription:TopicSubscription": "SNS bills per delivery (use)",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "security group rules are free",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "security group rules are free",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "associating a web ACL is free (the ACL is priced)",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "WAF logs bill the log data (traffic)",
    "docker:index/image:Image": "a build and push by the Docker provider, not an AWS resource (ECR storage: use)",
}


@dataclass(frozen=True)
class Charge:
    """What one resource is billed for: `quantity` units at `unit_month` dollars a month each."""

    item: str
    quantity: float
    unit: str
    unit_month: float


@dataclass(frozen=True)
class Unpriced:
    """A resource of a priced type in a variant the table has no price for."""

    reason: str


@dataclass(frozen=True)
class Line:
    """One priced item of one resource, with its owner (the nearest WebService's URN, or SHARED)."""

    item: str
    resource: str
    quantity: float
    unit: str
    unit_month: float
    owner: str = SHARED
    urn: str = ""

    @property
    def monthly(self) -> float:
        return self.quantity * self.unit_month


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


# ----------------------------------------------------------------------------- one pricer per type

Pricer = Callable[[Mapping[str, Any], RegionPrices], "list[Charge] | Unpriced"]


def _nat_gateway(inputs: Mapping[str, Any], p: RegionPrices) -> list[Charge]:
    private = inputs.get("connectivityType", "public") != "public"
    return [Charge("NAT gateway (private)" if private else "NAT gateway", 1, "gateway", p.hourly("natGatewayHour"))]


def _eip(inputs: Mapping[str, Any], p: RegionPrices) -> list[Charge]:
    return [Charge("public IPv4 (Elastic IP)", 1, "address", p.hourly("publicIpv4Hour"))]


def _vpc_endpoint(inputs: Mapping[str, Any], p: RegionPrices) -> list[Charge]:
    if str(inputs.get("vpcEndpointType") or "Gateway") != "Interface":
        return []  # gateway endpoints (S3, DynamoDB) are free
    azs = len(_list(inputs.get("subnetIds"))) or len(_list(inputs.get("subnetConfigurations")))
    return [Charge("interface VPC endpoint", max(azs, 1), "endpoint-AZ", p.hourly("interfaceEndpointAzHour"))]


def _load_balancer(inputs: Mapping[str, Any], p: RegionPrices) -> list[Charge] | Unpriced:
    kind = str(inputs.get("loadBalancerType") or "application")
    if kind != "application":
        return Unpriced(f"a {kind} load balancer: the table prices application load balancers only")
    out = [Charge("application load balancer", 1, "ALB", p.hourly("albHour"))]
    if not inputs.get("internal"):
        azs = len(_list(inputs.get("subnets"))) or len(_list(inputs.get("subnetMappings")))
        out.append(Charge("public IPv4 (ALB, one per AZ at least)", azs, "address", p.hourly("publicIpv4Hour")))
    return out


def _web_acl(inputs: Mapping[str, Any], p: RegionPrices) -> list[Charge]:
    rules = [x for x in _list(inputs.get("rules")) if isinstance(x, Mapping)]
    paid = [x for x in rules
            if ((x.get("statement") or {}).get("managedRuleGroupStatement") or {}).get("name") in PAID_MANAGED_GROUPS]
    return [Charge("WAF web ACL", 1, "web ACL", p.monthly("webAclMonth")),
            Charge("WAF rule (managed group = 1 rule)", len(rules), "rule", p.monthly("wafRuleMonth")),
            Charge("WAF paid managed rule group subscription", len(paid), "group", p.monthly("wafPaidManagedGroupMonth"))]


def _alarm_metrics(inputs: Mapping[str, Any]) -> tuple[int, bool]:
    """(metrics billed, high resolution) of a metric alarm: each metric of a metric-math alarm counts."""
    queries = _list(inputs.get("metricQueries"))
    if queries:
        metrics = [q for q in queries if isinstance(q, Mapping) and q.get("metric")]
        periods = [int((q.get("metric") or {}).get("period") or 60) for q in metrics]
        return len(metrics), any(p < 60 for p in periods)
    return 1, int(inputs.get("period") or 60) < 60


def _metric_alarm(inputs: Mapping[str, Any], p: RegionPrices) -> list[Charge]:
    metrics, high_res = _alarm_metrics(inputs)
    if high_res:
        return [Charge("CloudWatch alarm metric (high resolution)", metrics, "metric", p.monthly("highResAlarmMetricMonth"))]
    return [Charge("CloudWatch alarm metric (standard)", metrics, "metric", p.monthly("alarmMetricMonth"))]


def _each(item: str, unit: str, key: str, hourly: bool = False) -> Pricer:
    """A resource billed as one unit at one price."""
    def price(inputs: Mapping[str, Any], p: RegionPrices) -> list[Charge]:
        return [Charge(item, 1, unit, p.hourly(key) if hourly else p.monthly(key))]
    return price


#: Every resource type billed by the hour or month for existing, and how.
PRICERS: dict[str, Pricer] = {
    "aws:ec2/natGateway:NatGateway": _nat_gateway,
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:alb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    "aws:wafv2/webAclRule:WebAclRule": _each("WAF rule (managed group = 1 rule)", "rule", "wafRuleMonth"),
    "aws:wafv2/ruleGroup:RuleGroup": _each("WAF rule group", "group", "wafRuleGroupMonth"),
    "aws:kms/key:Key": _each("KMS customer managed key", "key", "kmsKeyMonth"),
    "aws:kms/replicaKey:ReplicaKey": _each("KMS customer managed key", "key", "kmsKeyMonth"),
    "aws:secretsmanager/secret:Secret": _each("Secrets Manager secret", "secret", "secretMonth"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _metric_alarm,
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": _each("CloudWatch composite alarm", "alarm", "compositeAlarmMonth"),
    "aws:cloudwatch/dashboard:Dashboard": _each("CloudWatch dashboard", "dashboard", "dashboardMonth"),
    # publishes only in hours a log line matches: counted as if every hour had traffic (the upper bound)
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": _each("CloudWatch custom metric (log metric filter)", "metric",
                                                            "customMetricMonth"),
    "aws:route53/zone:Zone": _each("Route 53 hosted zone", "zone", "hostedZoneMonth"),
}

PRICED_TYPES = frozenset(PRICERS)


# ----------------------------------------------------------------------------- the plan's lines

def is_component(entry: Entry) -> bool:
    """A component resource (no cloud resource of its own): Rampart's, or the engine's stack."""
    return str(entry["type"]).split(":", 1)[0] in ("rampart", "pulumi")


def _service_above(entry: Entry, by_urn: Mapping[str, Entry]) -> str:
    """The URN of the nearest WebService component above the resource, else SHARED."""
    seen: set[str] = set()
    urn = entry.get("parent")
    while urn and urn in by_urn and urn not in seen:
        seen.add(urn)
        if by_urn[urn]["type"] == SERVICE_COMPONENT:
            return str(urn)
        urn = by_urn[urn].get("parent")
    return SHARED


def _top(urn: str, by_urn: Mapping[str, Entry]) -> str:
    """The resource's outermost ancestor in the plan (a direct child of the stack)."""
    seen = {urn}
    parent = by_urn[urn].get("parent")
    while parent in by_urn and parent not in seen:
        seen.add(urn := str(parent))
        parent = by_urn[urn].get("parent")
    return urn


def owners(plan: Sequence[Entry]) -> dict[str, str]:
    """{URN: owner}: the nearest WebService above the resource; else, for an image made beside the
    services (a top-level `Image` tree), the one service whose resources use it (the entries'
    `dependencies`, when the plan has them); else SHARED (the environment, even with one service using
    it, or an image used by several)."""
    by_urn = {str(r["urn"]): r for r in plan if r.get("urn")}
    out = {urn: _service_above(r, by_urn) if r["type"] != SERVICE_COMPONENT else urn for urn, r in by_urn.items()}
    trees: dict[str, set[str]] = defaultdict(set)
    for urn in by_urn:
        trees[_top(urn, by_urn)].add(urn)
    uses = {urn: set(r.get("dependencies") or ()) for urn, r in by_urn.items()}
    for top, members in trees.items():
        if by_urn[top]["type"] != IMAGE_COMPONENT or any(out[m] != SHARED for m in members):
            continue
        users = {out[u] for u, deps in uses.items() if u not in members and deps & members}
        if len(users) == 1 and SHARED not in users:
            (service,) = users
            out.update({m: service for m in members})
    return out


def fixed_lines(plan: Sequence[Entry], prices: RegionPrices) -> list[Line]:
    """Every item of the plan billed by the hour or month whatever the traffic."""
    owner_by_urn = owners(plan)
    out: list[Line] = []
    for r in plan:
        pricer = PRICERS.get(str(r["type"]))
        charges = pricer(r.get("inputs") or {}, prices) if pricer else []
        if isinstance(charges, Unpriced):
            continue
        owner = owner_by_urn.get(str(r.get("urn") or ""), SHARED)
        out += [Line(c.item, str(r["name"]), c.quantity, c.unit, c.unit_month, owner, str(r.get("urn") or ""))
                for c in charges if c.quantity]
    return out


def gaps(plan: Sequence[Entry], prices: RegionPrices | None = None) -> dict[str, str]:
    """{resource type: why it was not priced} for types neither priced nor listed in NOT_FIXED, and
    resources of a priced type in a variant the table lacks."""
    out: dict[str, str] = {}
    for r in plan:
        t = str(r["type"])
        if is_component(r) or t in NOT_FIXED:
            continue
        pricer = PRICERS.get(t)
        if pricer is None:
            out[t] = f"{t} is neither priced nor listed as free or traffic-priced (rampart/cost/engine.py)"
        elif prices is not None and isinstance(result := pricer(r.get("inputs") or {}, prices), Unpriced):
            out[t] = result.reason
    return out


def _task_definition_for(service: Entry, tasks: Sequence[Entry]) -> Entry | None:
    """The planned task definition a service runs: by ARN (name or family in it), else the only one beside it."""
    ref = str((service.get("inputs") or {}).get("taskDefinition") or "")
    for td in tasks:
        family = str((td.get("inputs") or {}).get("family") or "")
        if ref and (ref == td["name"] or ref.endswith(":" + str(td["name"])) or (family and (
                f"task-definition/{family}:" in ref or ref.endswith("/" + family) or ref == family))):
            return td
    siblings = [td for td in tasks if td.get("parent") == service.get("parent")]
    return siblings[0] if len(siblings) == 1 else None


def task_lines(plan: Sequence[Entry], prices: RegionPrices) -> list[Line]:
    """Fargate tasks at each service's desiredCount (variable: excluded from the fixed total)."""
    owner_by_urn = owners(plan)
    tasks = [r for r in plan if r["type"] == "aws:ecs/taskDefinition:TaskDefinition"]
    out: list[Line] = []
    for svc in (r for r in plan if r["type"] == "aws:ecs/service:Service"):
        count = (svc.get("inputs") or {}).get("desiredCount")
        count = 1 if count is None else int(count)
        td = _task_definition_for(svc, tasks)
        if td is None or not count:
            continue
        tdi = td.get("inputs") or {}
        vcpu = int(tdi.get("cpu") or 0) / 1024
        gb = int(tdi.get("memory") or 0) / 1024
        urn = str(svc.get("urn") or "")
        owner = owner_by_urn.get(urn, SHARED)
        out.append(Line(f"Fargate vCPU ({vcpu:g} per task)", str(svc["name"]), count * vcpu, "vCPU",
                        prices.hourly("fargateVcpuHour"), owner, urn))
        out.append(Line(f"Fargate memory ({gb:g} GB per task)", str(svc["name"]), count * gb, "GB",
                        prices.hourly("fargateGbHour"), owner, urn))
    return out


def _rule_types() -> dict[str, set[str]]:
    """Managed-rule identifier -> the Pulumi types its policies judge, from the pack's registry."""
    try:
        from rampart_soc2.registry import POLICIES
    except ImportError:  # a source checkout without the pack installed
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policy" / "soc2"))
        from rampart_soc2.registry import POLICIES
    out: dict[str, set[str]] = defaultdict(set)
    for spec in POLICIES.values():
        if spec.config_rule is not None:
            out[spec.config_rule.identifier].update(spec.resource_types)
    return dict(out)


def config_lines(plan: Sequence[Entry], prices: RegionPrices) -> list[Line]:
    """Estimated AWS Config charges of the plan's rules (and recorder, when it creates one): use-dependent."""
    rules = [r for r in plan if r["type"] == "aws:cfg/rule:Rule"]
    if not rules:
        return []
    types = _rule_types()
    count: dict[str, int] = defaultdict(int)
    for r in plan:
        count[str(r["type"])] += 1
    out: list[Line] = []
    for rule in rules:
        identifier = str(((rule.get("inputs") or {}).get("source") or {}).get("sourceIdentifier"))
        judged = sum(count[t] for t in types.get(identifier, ()))
        if judged:
            out.append(Line("AWS Config rule evaluations (estimate)", str(rule["name"]),
                            judged * CONFIG_EVALUATIONS_PER_RESOURCE_MONTH, "evaluation",
                            prices.monthly("configRuleEvaluation")))
    if any(r["type"] == "aws:cfg/recorder:Recorder" for r in plan):
        recorded = sum(1 for r in plan if str(r["type"]).startswith("aws:") and r["type"] != "aws:cfg/rule:Rule")
        out.append(Line("AWS Config configuration items (estimate)", "recorder",
                        recorded * CONFIG_CHANGES_PER_RESOURCE_MONTH, "item", prices.monthly("configItem")))
    return out


# ----------------------------------------------------------------------------- sums

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
