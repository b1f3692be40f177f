"""Bucket policies deny requests not made over TLS (stack policy)."""
from __future__ import annotations

from typing import Sequence

from ..common import BUCKET, BUCKET_POLICY, CONFIG_RULE, of_type
from ..iam_documents import denies_insecure_transport
from ..model import COMPLIANT, Context, Finding, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings
from ..props import json_document
from ._buckets import settings_for


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    def judge(bucket: Resource) -> Outcome:
        policies, maybe = settings_for(bucket, resources, BUCKET_POLICY)
        for p in policies:
            if denies_insecure_transport(json_document(p.props.raw().get("policy"), "policy")):
                return COMPLIANT
        if maybe:
            return Unknown("bucketPolicy.bucket")
        if policies:
            return Violation("bucket policy does not deny requests with aws:SecureTransport = false")
        return Violation("bucket has no bucket policy denying non-TLS requests")

    return stack_findings(of_type(resources, BUCKET), judge)


POLICY = PolicySpec(
    id="aws-s3-bucket-require-tls-requests-only",
    description="Every S3 bucket has a bucket policy that denies requests not made over TLS.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.7",),
    remediation="Attach an aws.s3.BucketPolicy with a statement {Effect: Deny, Principal: '*', Action: 's3:*', "
                "Resource: [bucket ARN, bucket ARN/*], Condition: {Bool: {'aws:SecureTransport': 'false'}}}.",
    reference=CONFIG_RULE.format("s3-bucket-ssl-requests-only"),
    resource_types=BUCKET,
    kind="stack",
    stack_check=stack_check,
    peer="s3-bucket-ssl-requests-only",
)
