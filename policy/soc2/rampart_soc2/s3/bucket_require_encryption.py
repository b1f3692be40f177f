"""Buckets have server-side encryption configured (stack policy)."""
from __future__ import annotations

from typing import Sequence

from ..common import BUCKET, BUCKET_SSE, CONFIG_RULE, items, of_type
from ..model import COMPLIANT, Context, Finding, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings
from ._buckets import settings_for

ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")


def _encrypts(config: Resource) -> bool:
    for rule in items(config.props.get("rules")):
        default = rule.get("applyServerSideEncryptionByDefault") or {}
        if default.get("sseAlgorithm") in ALGORITHMS:
            return True
    return False


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    def judge(bucket: Resource) -> Outcome:
        legacy = bucket.props.get("serverSideEncryptionConfiguration")
        if legacy:
            rule = legacy.get("rule") or {}
            if (rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm") in ALGORITHMS:
                return COMPLIANT
        configs, maybe = settings_for(bucket, resources, BUCKET_SSE)
        if any(_encrypts(c) for c in configs):
            return COMPLIANT
        if maybe:
            return Unknown("bucketServerSideEncryptionConfiguration.bucket")
        if configs:
            return Violation("bucket encryption configuration names no SSE algorithm (AES256 or aws:kms)")
        return Violation("bucket has no server-side encryption configuration")

    return stack_findings(of_type(resources, BUCKET), judge)


POLICY = PolicySpec(
    id="aws-s3-bucket-require-encryption",
    description="Every S3 bucket has a server-side encryption configuration.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.1",),
    remediation="Create an aws.s3.BucketServerSideEncryptionConfiguration for the bucket with "
                "applyServerSideEncryptionByDefault.sseAlgorithm 'aws:kms' (or 'AES256' where a service "
                "such as ELB access logging requires it).",
    reference=CONFIG_RULE.format("s3-bucket-server-side-encryption-enabled"),
    resource_types=BUCKET,
    kind="stack",
    stack_check=stack_check,
    peer="s3-bucket-server-side-encryption-enabled",
)
