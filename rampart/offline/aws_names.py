"""AWS's rules for physical names, as the mock engine applies them.

One table, :data:`NAME_RULES`: for each resource type Rampart registers that carries a physical name,
the input that holds it, how the Pulumi AWS provider names it when the program leaves it unset, the
limits AWS enforces (length, characters, reserved forms) and the scope in which it must be unique.
Each row cites the page it comes from. The mock engine (`rampart.offline.mock_engine`) resolves every
physical name exactly once, checks it against its row and refuses the plan with one finding per
name that AWS (or the provider, at preview) would refuse.

How the provider names a resource (pulumi-terraform-bridge, used by pulumi-aws):
- `name` (or the row's property) given: used as is.
- `namePrefix` / `bucketPrefix` given: Terraform's `id.PrefixedUniqueId`, the prefix plus 26
  characters (a timestamp and a counter), which is why AWS-side prefix limits are 26 below the name
  limit (target group and ALB prefixes at most 6 characters, IAM role prefixes at most 38).
- neither: auto-naming, the logical name, `-`, and 7 random hex characters
  (`resource.NewUniqueName(seed, name + "-", 7, maxlen, nil)`); a logical name too long for the
  provider's own `maxlen` fails `pulumi preview` with "name '<name>-' plus 7 random chars is longer
  than maximum length <maxlen>". The mock derives the 7 characters from a hash of the stack and the
  resource, so tests are deterministic and two stacks get different names, as they would.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: Random characters the provider appends to an auto-generated name (after a `-`).
AUTO_NAME_RANDOM_CHARS = 7
#: Characters Terraform's `id.PrefixedUniqueId` appends to a `namePrefix`.
PREFIX_UNIQUE_CHARS = 26

#: Where a name must be unique: all of AWS, the account (every region), the account and region,
#: inside a parent resource named by another input (a VPC, a cluster, a role), or a hosted zone.
Scope = Literal["global", "account", "region", "parent", "zone", "none"]

_BRIDGE = "https://github.com/pulumi/pulumi-terraform-bridge/blob/master/pkg/tfbridge/names.go (AutoName: name + '-' + 7 random hex)"


@dataclass(frozen=True)
class NameRule:
    """One physical name of one resource type, and what AWS allows for it."""

    type: str
    """Provider type token."""
    prop: str
    """camelCase input that holds the name; `a.b` for nested, `a[].b` for every element of a list."""
    max_len: int
    pattern: str
    """Regular expression the whole name must match (AWS's documented character set)."""
    allowed: str
    """The character rule in words, for the finding."""
    source: str
    """Where the limit is documented."""
    min_len: int = 1
    scope: Scope = "region"
    scope_props: tuple[str, ...] = ()
    """For `parent`/`zone` scopes: the inputs that name the container the name is unique in."""
    auto_max: int | None = None
    """The provider auto-names this property (when unset) with this `maxlen`; None: it does not."""
    lowercase: bool = False
    """The provider lower-cases the logical name before auto-naming (S3 buckets)."""
    auto_prefix: str = ""
    """Prepended by the provider to an auto-name (KMS aliases get `alias/`)."""
    prefix_prop: str | None = None
    """The `namePrefix`-style input, when the resource has one."""
    reserved: tuple[tuple[str, str], ...] = ()
    """(regular expression, reason): forms AWS refuses even within the character set."""
    on_clash: str = 'the second create fails with "already exists"'
    """What AWS does when a second resource claims the name in its scope."""
    kind: Literal["name", "text"] = "name"
    """`name`: a physical name; `text`: another string AWS restricts (a description)."""


#: What a second resource with one name does to the first for the APIs that create or update by name
#: (PutMetricAlarm, PutDashboard, PutConfigRule, PutRule): no "already exists", a silent overwrite.
PUT_BY_NAME = (
    "AWS puts it by name: the second stack's create silently overwrites the first stack's (and destroying "
    "either stack deletes the one both use)"
)


#: The characters EC2 allows in security group and rule descriptions (no apostrophe, no quotes).
_EC2_TEXT = r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*"
_EC2_TEXT_WORDS = "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$* (no apostrophes or quotes)"

NAME_RULES: tuple[NameRule, ...] = (
    NameRule(
        "aws:lb/loadBalancer:LoadBalancer", "name", 32, r"[A-Za-z0-9-]+",
        "letters, digits and hyphens",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
        auto_max=32, prefix_prop="namePrefix",
        reserved=((r"^-|-$", "must not begin or end with a hyphen"), (r"^internal-", "must not begin with `internal-`")),
    ),
    NameRule(
        "aws:lb/targetGroup:TargetGroup", "name", 32, r"[A-Za-z0-9-]+",
        "letters, digits and hyphens",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html",
        auto_max=32, prefix_prop="namePrefix", reserved=((r"^-|-$", "must not begin or end with a hyphen"),),
    ),
    NameRule(
        "aws:iam/role:Role", "name", 64, r"[\w+=,.@-]+", "letters, digits and + = , . @ _ -",
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
        scope="account", auto_max=64, prefix_prop="namePrefix",
    ),
    NameRule(
        "aws:iam/rolePolicy:RolePolicy", "name", 128, r"[\w+=,.@-]+", "letters, digits and + = , . @ _ -",
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html",
        scope="parent", scope_props=("role",), auto_max=255, prefix_prop="namePrefix",
    ),
    NameRule(
        "aws:ecs/taskDefinition:TaskDefinition", "family", 255, r"[A-Za-z0-9_-]+",
        "letters, digits, hyphens and underscores",
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
        on_clash="AWS accepts it and both stacks' revisions share one family (the family's latest revision is "
        "whichever stack deployed last; a destroy deregisters revisions the other stack's history lists)",
    ),
    NameRule(
        "aws:ecs/taskDefinition:TaskDefinition", "volumes[].name", 255, r"[A-Za-z0-9_-]+",
        "letters, digits, hyphens and underscores",
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Volume.html",
        scope="none",
    ),
    NameRule(
        "aws:ecs/cluster:Cluster", "name", 255, r"[A-Za-z0-9_-]+", "letters, digits, hyphens and underscores",
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html",
        auto_max=255,
    ),
    NameRule(
        "aws:ecs/service:Service", "name", 255, r"[A-Za-z0-9_-]+", "letters, digits, hyphens and underscores",
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html",
        scope="parent", scope_props=("cluster",), auto_max=255,
    ),
    NameRule(
        "aws:cloudwatch/logGroup:LogGroup", "name", 512, r"[.\-_/#A-Za-z0-9]+",
        "letters, digits and . - _ / #",
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
        auto_max=255, prefix_prop="namePrefix",
    ),
    NameRule(
        "aws:cloudwatch/metricAlarm:MetricAlarm", "name", 255, r"[^\x00-\x1f\x7f]+", "no control characters",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
        auto_max=255, on_clash=PUT_BY_NAME,
    ),
    NameRule(
        "aws:cloudwatch/dashboard:Dashboard", "dashboardName", 255, r"[A-Za-z0-9_-]+",
        "letters, digits, hyphens and underscores",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
        on_clash=PUT_BY_NAME,
    ),
    NameRule(
        "aws:sns/topic:Topic", "name", 256, r"[A-Za-z0-9_-]+(\.fifo)?",
        "letters, digits, hyphens and underscores (and `.fifo` at the end of a FIFO topic)",
        "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html",
        auto_max=255, prefix_prop="namePrefix",
    ),
    NameRule(
        "aws:kms/alias:Alias", "name", 256, r"alias/[A-Za-z0-9/_-]+",
        "`alias/` then letters, digits and / _ -",
        "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
        auto_max=238, auto_prefix="alias/", prefix_prop="namePrefix",
        reserved=((r"^alias/aws/", "the `alias/aws/` prefix is reserved for AWS managed keys"),),
    ),
    NameRule(
        "aws:ecr/repository:Repository", "name", 256,
        r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
        "lower-case letters and digits, separated by single . _ - or /",
        "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html",
        min_len=2, auto_max=255,
    ),
    NameRule(
        "aws:s3/bucket:Bucket", "bucket", 63, r"[a-z0-9][a-z0-9.-]*[a-z0-9]",
        "lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
        min_len=3, scope="global", auto_max=63, lowercase=True, prefix_prop="bucketPrefix",
        reserved=(
            (r"\.\.", "must not contain two adjacent dots"),
            (r"^xn--|^sthree-|^amzn-s3-demo-", "must not begin with `xn--`, `sthree-` or `amzn-s3-demo-`"),
            (r"-s3alias$|--ol-s3$|\.mrap$|--x-s3$", "must not end with `-s3alias`, `--ol-s3`, `.mrap` or `--x-s3`"),
        ),
    ),
    NameRule(
        "aws:wafv2/webAcl:WebAcl", "name", 128, r"[\w-]+", "letters, digits, hyphens and underscores",
        "https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html",
        auto_max=255,
    ),
    NameRule(
        "aws:wafv2/webAcl:WebAcl", "visibilityConfig.metricName", 255, r"[\w#:.\-/]+",
        "letters, digits and # : . - / _",
        "https://docs.aws.amazon.com/waf/latest/APIReference/API_VisibilityConfig.html",
        scope="none", reserved=((r"^(All|Default_Action)$", "`All` and `Default_Action` are reserved"),),
    ),
    NameRule(
        "aws:wafv2/webAcl:WebAcl", "rules[].name", 128, r"[\w-]+", "letters, digits, hyphens and underscores",
        "https://docs.aws.amazon.com/waf/latest/APIReference/API_Rule.html",
        scope="none",
    ),
    NameRule(
        "aws:wafv2/webAcl:WebAcl", "rules[].visibilityConfig.metricName", 255, r"[\w#:.\-/]+",
        "letters, digits and # : . - / _",
        "https://docs.aws.amazon.com/waf/latest/APIReference/API_VisibilityConfig.html",
        scope="none", reserved=((r"^(All|Default_Action)$", "`All` and `Default_Action` are reserved"),),
    ),
    NameRule(
        "aws:secretsmanager/secret:Secret", "name", 512, r"[A-Za-z0-9/_+=.@-]+", "letters, digits and / _ + = . @ -",
        "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
        auto_max=255, prefix_prop="namePrefix",
    ),
    NameRule(
        "aws:ec2/securityGroup:SecurityGroup", "name", 255, r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+",
        "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*",
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
        scope="parent", scope_props=("vpcId",), auto_max=255, prefix_prop="namePrefix",
        reserved=((r"^sg-", "must not begin with `sg-`"),),
    ),
    NameRule(
        "aws:ec2/securityGroup:SecurityGroup", "description", 255, _EC2_TEXT, _EC2_TEXT_WORDS,
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
        scope="none", kind="text",
    ),
    NameRule(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "description", 255, _EC2_TEXT, _EC2_TEXT_WORDS,
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html",
        scope="none", kind="text",
    ),
    NameRule(
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "description", 255, _EC2_TEXT, _EC2_TEXT_WORDS,
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html",
        scope="none", kind="text",
    ),
    NameRule(
        "aws:wafv2/webAcl:WebAcl", "description", 256, r"[\w+=:#@/\-,.][\w+=:#@/\-,.\s]+[\w+=:#@/\-,.]",
        "letters, digits, spaces and + = : # @ / - , . _",
        "https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html",
        scope="none", kind="text",
    ),
    NameRule(
        "aws:iam/role:Role", "description", 1000, r"[\t\n\r\x20-\x7e\xa1-\xff]*", "printable Latin-1 characters",
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
        min_len=0, scope="none", kind="text",
    ),
    NameRule(
        "aws:appautoscaling/policy:Policy", "name", 256, r"[\x20-\x7e]+", "printable characters",
        "https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScalingPolicy.html",
        scope="parent", scope_props=("resourceId", "scalableDimension"), auto_max=255,
    ),
    NameRule(
        "aws:cfg/rule:Rule", "name", 128, r".*\S.*", "1 to 128 characters, not only white space",
        "https://docs.aws.amazon.com/config/latest/APIReference/API_ConfigRule.html",
        on_clash=PUT_BY_NAME,
    ),
    NameRule(
        "aws:cloudwatch/eventRule:EventRule", "name", 64, r"[.\-_A-Za-z0-9]+", "letters, digits and . - _",
        "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html",
        auto_max=64, prefix_prop="namePrefix", on_clash=PUT_BY_NAME,
    ),
    NameRule(
        "aws:route53/record:Record", "name", 255, r"[A-Za-z0-9_*.-]+\.?", "a DNS name",
        "https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html",
        scope="zone", scope_props=("zoneId", "type"),
        on_clash="the second create fails, or with `allowOverwrite` silently takes over the first stack's record",
    ),
)

#: Every row of one type, in table order; the first row is the resource's own physical name.
RULES_BY_TYPE: dict[str, tuple[NameRule, ...]] = {}
for _rule in NAME_RULES:
    RULES_BY_TYPE[_rule.type] = (*RULES_BY_TYPE.get(_rule.type, ()), _rule)


@dataclass(frozen=True)
class PhysicalName:
    """One physical name as the provider would send it to AWS."""

    rule: NameRule
    value: str
    origin: Literal["explicit", "prefix", "auto"]
    """Given by the program, built from a `namePrefix`, or generated from the logical name."""
    where: str = ""
    """The property path with list indexes (`rules.0.name`), for the finding."""


@dataclass(frozen=True)
class NameFinding:
    """A name AWS (or the provider) would refuse, in words a user can act on."""

    type: str
    logical_name: str
    prop: str
    value: str
    problem: str
    fix: str
    source: str = field(default="")

    def __str__(self) -> str:
        return (
            f"{self.type} {self.logical_name!r}: {self.prop} {self.value!r} ({len(self.value)} characters) "
            f"{self.problem}. Fix: {self.fix}. (Limit: {self.source})"
        )


def _hex(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def _values(inputs: Mapping[str, Any], path: str, where: str = "") -> Iterator[tuple[str, Any]]:
    """The values at a property path (`a.b`, `a[].b`) with their concrete paths."""
    head, _, rest = path.partition(".")
    many = head.endswith("[]")
    key = head[:-2] if many else head
    if not isinstance(inputs, Mapping) or key not in inputs:
        return
    value = inputs[key]
    here = f"{where}.{key}" if where else key
    items = list(enumerate(value)) if many and isinstance(value, list) else [(None, value)]
    for index, item in items:
        at = here if index is None else f"{here}.{index}"
        if rest:
            yield from _values(item, rest, at)
        else:
            yield at, item


def resolve(type_: str, logical_name: str, inputs: Mapping[str, Any], seed: str) -> tuple[list[PhysicalName], list[NameFinding]]:
    """Every physical name of one resource, as the provider would set it, and the findings on them.

    `seed` makes the auto-name's random part deterministic (the mock passes the stack and the URN).
    """
    names: list[PhysicalName] = []
    findings: list[NameFinding] = []
    for rule in RULES_BY_TYPE.get(type_, ()):
        found = [(at, v) for at, v in _values(inputs, rule.prop) if isinstance(v, str) and v != ""]
        if found:
            names.extend(PhysicalName(rule, v, "explicit", at) for at, v in found)
        elif rule.prefix_prop and isinstance(inputs.get(rule.prefix_prop), str):
            prefix = str(inputs[rule.prefix_prop])
            limit = rule.max_len - PREFIX_UNIQUE_CHARS
            if len(prefix) > limit:
                findings.append(NameFinding(
                    type_, logical_name, rule.prefix_prop, prefix,
                    f"is longer than {limit} characters (the provider appends {PREFIX_UNIQUE_CHARS} to a prefix "
                    f"and AWS allows {rule.max_len} in all)",
                    f"shorten `{rule.prefix_prop}` to at most {limit} characters", rule.source,
                ))
            unique = str(int(_hex(seed), 16))[:PREFIX_UNIQUE_CHARS]
            names.append(PhysicalName(rule, prefix + unique, "prefix", rule.prefix_prop))
        elif rule.auto_max is not None:
            base = (logical_name.lower() if rule.lowercase else logical_name) + "-"
            if len(base) + AUTO_NAME_RANDOM_CHARS > rule.auto_max:
                findings.append(NameFinding(
                    type_, logical_name, rule.prop, base,
                    f"plus {AUTO_NAME_RANDOM_CHARS} random characters is longer than the provider's maximum "
                    f"of {rule.auto_max} for an auto-generated name; `pulumi preview` fails",
                    f"shorten the resource's logical name to at most {rule.auto_max - AUTO_NAME_RANDOM_CHARS - 1} "
                    f"characters, or set `{rule.prop}` from a shortened, stack-derived name",
                    _BRIDGE,
                ))
            value = rule.auto_prefix + base + _hex(seed)[:AUTO_NAME_RANDOM_CHARS]
            names.append(PhysicalName(rule, value, "auto", rule.prop))
    refused_early = {f.prop for f in findings}  # the provider stops these before AWS sees them
    for name in names:
        if name.where not in refused_early and not (name.origin == "prefix" and name.rule.prefix_prop in refused_early):
            findings.extend(check(type_, logical_name, name))
    return names, findings


def _is_ip(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def check(type_: str, logical_name: str, name: PhysicalName) -> list[NameFinding]:
    """What AWS would refuse about one physical name."""
    rule, value = name.rule, name.value
    where = name.where or rule.prop
    if name.origin == "auto":
        fix = (f"shorten the resource's logical name {logical_name!r} (the provider appends '-' and "
               f"{AUTO_NAME_RANDOM_CHARS} random characters), or set `{rule.prop}` explicitly")
    elif name.origin == "prefix":
        fix = f"change `{rule.prefix_prop}`"
    elif rule.kind == "text":
        fix = f"rewrite the `{where}` with the allowed characters"
    else:
        fix = f"change the `{where}` the program gives (it must fit AWS's rule for every stack name)"
    problems: list[str] = []
    if not rule.min_len <= len(value) <= rule.max_len:
        problems.append(f"is not {rule.min_len} to {rule.max_len} characters long")
    if not re.fullmatch(rule.pattern, value):
        problems.append(f"has characters AWS does not allow here (allowed: {rule.allowed})")
    problems.extend(reason for pattern, reason in rule.reserved if re.search(pattern, value))
    if rule.type == "aws:s3/bucket:Bucket" and _is_ip(value):
        problems.append("must not be formatted as an IP address")
    return [NameFinding(type_, logical_name, where, value, p, fix, rule.source) for p in problems]


@dataclass(frozen=True)
class NamedResource:
    """What the uniqueness checks need of a registered resource."""

    urn: str
    type: str
    name: PhysicalName
    inputs: Mapping[str, Any]


def scope_key(resource: NamedResource, region: str) -> tuple[str, ...] | None:
    """The key two resources must not share: type, the scope's container, the name."""
    rule = resource.name.rule
    container = tuple(str(resource.inputs.get(p, "")) for p in rule.scope_props)
    if rule.scope == "global":
        return (rule.type, rule.prop, resource.name.value)
    if rule.scope == "account":
        return (rule.type, rule.prop, resource.name.value)
    if rule.scope == "region":
        return (rule.type, rule.prop, region, resource.name.value)
    if rule.scope in ("parent", "zone"):
        return (rule.type, rule.prop, *container, resource.name.value.rstrip(".").lower() if rule.scope == "zone" else resource.name.value)
    return None


def duplicates(resources: list[NamedResource], region: str) -> list[tuple[tuple[str, ...], list[NamedResource]]]:
    """Groups of resources that would claim the same physical name in the same scope."""
    seen: dict[tuple[str, ...], list[NamedResource]] = {}
    for r in resources:
        key = scope_key(r, region)
        if key is not None:
            seen.setdefault(key, []).append(r)
    return [(k, rs) for k, rs in seen.items() if len(rs) > 1]
