"""Buckets have a public access block with all four settings (stack policy)."""
from __future__ import annotations

from typing import Sequence

from ..common import BUCKET, BUCKET_PAB, CONFIG_RULE, of_type, truthy
from ..model import COMPLIANT, Context, Finding, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings
from ._buckets import settings_for

SETTINGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    def judge(bucket: Resource) -> Outcome:
        blocks, maybe = settings_for(bucket, resources, BUCKET_PAB)
        for block in blocks:
            off = [s for s in SETTINGS if not truthy(block.props.get(s))]
            if not off:
                return COMPLIANT
        if maybe:
            return Unknown("bucketPublicAccessBlock.bucket")
        if blocks:
            off = [s for s in SETTINGS if not truthy(blocks[0].props.get(s))]
            return Violation(f"bucket public access block leaves {', '.join(off)} off")
        return Violation("bucket has no public access block")

    return stack_findings(of_type(resources, BUCKET), judge)


POLICY = PolicySpec(
    id="aws-s3-bucket-require-public-access-block",
    description="Every S3 bucket has a public access block with all four settings on.",
    severity="critical",
    enforcement="mandatory",
    criteria=("CC6.1", "CC6.6"),
    remediation="Create an aws.s3.BucketPublicAccessBlock for the bucket with blockPublicAcls, "
                "blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true.",
    reference=CONFIG_RULE.format("s3-bucket-level-public-access-prohibited"),
    resource_types=BUCKET,
    kind="stack",
    stack_check=stack_check,
    peer="s3-bucket-public-read-prohibited",
)
