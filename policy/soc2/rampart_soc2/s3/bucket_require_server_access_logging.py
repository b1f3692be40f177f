"""Buckets that hold audit logs have S3 server access logging into a dedicated log bucket (stack policy).

An audit-log bucket is one the stack sends evidence to: a load balancer's access logs, a web ACL's
or a VPC flow log's S3 destination, a CloudTrail trail. The log bucket that receives their server
access logs is the end of the chain: it is judged by the other S3 policies (encryption, public
access block, TLS only, versioning) and need not log anywhere, since logging it into a further bucket
never ends. Whatever a bucket holds, server access logs that go into the bucket itself fail: each log
write is logged again (AWS advises against it).
"""
from __future__ import annotations

from typing import Any, Sequence

from ..common import (BUCKET, BUCKET_LOGGING, CLOUDTRAIL, CONFIG_RULE, FLOW_LOG, LB, WEB_ACL_LOGGING, items, of_type,
                      raw_get, truthy)
from ..model import COMPLIANT, Context, Finding, NotApplicable, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings
from ..props import UNKNOWN
from ._buckets import BUCKET_KEYS, settings_for


INTO_ITSELF = "server access logs go into the bucket itself (each log write is logged again)"


def _names(bucket: Resource) -> set[str]:
    """What other resources may call the bucket: its name, id or ARN (and the name inside the ARN)."""
    out = {v for v in (raw_get(bucket, k) for k in BUCKET_KEYS) if isinstance(v, str)}
    return out | {v.split(":::", 1)[1] for v in out if v.startswith("arn:") and ":::" in v}


def _bucket_of(value: Any) -> Any:
    """A destination as a bucket name: 'arn:aws:s3:::name/prefix' -> 'name'; UNKNOWN stays UNKNOWN."""
    if value is UNKNOWN or not isinstance(value, str):
        return value
    if value.startswith("arn:") and ":::" in value:
        value = value.split(":::", 1)[1]
    return value.split("/", 1)[0]


def _destinations(resources: Sequence[Resource]) -> list[tuple[str, str, Any]]:
    """(source urn, property, destination bucket name or UNKNOWN) for every audit-log delivery to S3."""
    out: list[tuple[str, str, Any]] = []
    for lb in of_type(resources, LB):
        logs = raw_get(lb, "accessLogs")
        if logs is UNKNOWN:
            out.append((lb.urn, "accessLogs", UNKNOWN))
        elif isinstance(logs, dict) and truthy(logs.get("enabled")):
            out.append((lb.urn, "accessLogs", _bucket_of(logs.get("bucket"))))
    for acl_log in of_type(resources, WEB_ACL_LOGGING):
        configs = raw_get(acl_log, "logDestinationConfigs")
        for dest in [UNKNOWN] if configs is UNKNOWN else items(configs):
            if dest is UNKNOWN or (isinstance(dest, str) and dest.startswith("arn:aws:s3:::")):
                out.append((acl_log.urn, "logDestinationConfigs", _bucket_of(dest)))
    for flow in of_type(resources, FLOW_LOG):
        if raw_get(flow, "logDestinationType") == "s3":
            out.append((flow.urn, "logDestination", _bucket_of(raw_get(flow, "logDestination"))))
    for trail in of_type(resources, CLOUDTRAIL):
        out.append((trail.urn, "s3BucketName", _bucket_of(raw_get(trail, "s3BucketName"))))
    return out


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    by_urn = {r.urn: r for r in resources}
    buckets = of_type(resources, BUCKET)
    destinations = _destinations(resources)

    def holds_audit_logs(bucket: Resource) -> bool | None:
        names, maybe = _names(bucket), False
        for source, prop, dest in destinations:
            if bucket.urn in by_urn[source].property_dependencies.get(prop, ()):
                return True
            if dest is UNKNOWN:
                maybe = True
            elif dest in names:
                return True
        return None if maybe else False

    def target_bucket(config: Resource) -> Resource | str | Any:
        """Where a BucketLogging sends the logs: a bucket of the stack (by dependency or name), an
        outside bucket's name, or UNKNOWN."""
        for b in buckets:
            if b.urn in config.property_dependencies.get("targetBucket", ()):
                return b
        name = _bucket_of(raw_get(config, "targetBucket"))
        if name is UNKNOWN or not isinstance(name, str):
            return UNKNOWN
        return next((b for b in buckets if name in _names(b)), name)

    def log_targets(bucket: Resource) -> tuple[list[Any], bool]:
        """The targets of the bucket's server access logging, and whether some config might apply."""
        legacy = raw_get(bucket, "logging")
        targets: list[Any] = []
        if isinstance(legacy, dict) and legacy.get("targetBucket"):
            name = _bucket_of(legacy.get("targetBucket"))
            targets.append(next((b for b in buckets if isinstance(name, str) and name in _names(b)), name))
        configs, maybe = settings_for(bucket, resources, BUCKET_LOGGING)
        targets += [target_bucket(c) for c in configs]
        return targets, maybe

    def judge(bucket: Resource) -> Outcome:
        audit = holds_audit_logs(bucket)
        targets, maybe = log_targets(bucket)
        if audit is False:
            if any(t is bucket for t in targets):  # the dedicated log bucket too: a loop, whatever it holds
                return Violation(INTO_ITSELF)
            return NotApplicable("bucket holds no audit logs (load balancer, WAF, flow log or CloudTrail)")
        if not targets:
            if maybe or audit is None:
                return Unknown("bucketLogging.bucket")
            return Violation("bucket holds audit logs but has no S3 server access logging, so who read or "
                             "deleted them is not on record")
        if any(t is UNKNOWN for t in targets):
            return Unknown("bucketLogging.targetBucket")
        problems = []
        for t in targets:
            if t is bucket:
                problems.append(INTO_ITSELF)
            elif isinstance(t, Resource) and holds_audit_logs(t) is True:
                problems.append(f"server access logs go to '{t.name}', which also holds audit logs; "
                                "use a dedicated log bucket")
        if problems:
            return Violation("; ".join(problems))
        return COMPLIANT

    return stack_findings(buckets, judge)


POLICY = PolicySpec(
    id="aws-s3-bucket-require-server-access-logging",
    description="S3 buckets that hold audit logs (load balancer, WAF, flow log, CloudTrail) have server access "
                "logging into a dedicated log bucket; that log bucket need not log, and no bucket logs into itself.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC7.2", "A1.2"),
    remediation="Create an aws.s3.BucketLogging for the bucket with targetBucket = a separate, locked-down "
                "bucket that holds only server access logs (Rampart's LoadBalancer creates '<name>-alb-logs-access').",
    reference=CONFIG_RULE.format("s3-bucket-logging-enabled"),
    resource_types=BUCKET,
    kind="stack",
    stack_check=stack_check,
    peer="s3-bucket-logging-enabled (S3_BUCKET_LOGGING_ENABLED)",
)
