"""Buckets have versioning enabled (stack policy)."""
from __future__ import annotations

from typing import Sequence

from ..common import BUCKET, BUCKET_VERSIONING, CONFIG_RULE, of_type, truthy
from ..model import COMPLIANT, Context, Finding, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings
from ._buckets import settings_for


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    def judge(bucket: Resource) -> Outcome:
        legacy = bucket.props.get("versioning")
        if legacy and truthy(legacy.get("enabled")):
            return COMPLIANT
        configs, maybe = settings_for(bucket, resources, BUCKET_VERSIONING)
        for c in configs:
            if (c.props.get("versioningConfiguration") or {}).get("status") == "Enabled":
                return COMPLIANT
        if maybe:
            return Unknown("bucketVersioning.bucket")
        if configs:
            return Violation("bucket versioning is not 'Enabled'")
        return Violation("bucket has no versioning configuration")

    return stack_findings(of_type(resources, BUCKET), judge)


POLICY = PolicySpec(
    id="aws-s3-bucket-enable-versioning",
    description="Every S3 bucket has versioning enabled.",
    severity="medium",
    enforcement="mandatory",
    criteria=("A1.2", "C1.2"),
    remediation="Create an aws.s3.BucketVersioning for the bucket with versioningConfiguration.status 'Enabled' "
                "(and a lifecycle rule that expires noncurrent versions).",
    reference=CONFIG_RULE.format("s3-bucket-versioning-enabled"),
    resource_types=BUCKET,
    kind="stack",
    stack_check=stack_check,
    peer="s3-bucket-versioning-enabled",
)
