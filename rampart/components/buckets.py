"""A private S3 bucket as the pack wants every bucket: ACLs off (owner enforced), public access
blocked, SSE-S3, versioned, TLS only, optionally expiring. Log delivery services (ALB and S3 access
logs, AWS Config) accept SSE-S3 only, which is why the key is not the environment's KMS key.

One builder for every bucket Rampart creates (the load balancer's log buckets, the Compliance
component's delivery bucket); the caller names the services that may write to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from rampart.components._util import policy_json

#: Policy statements for the writers of a bucket, given its ARN.
Writers = Callable[[pulumi.Output[str]], list[dict[str, Any]]]


def locked_bucket(
    name: str,
    parent: pulumi.Resource,
    tags: dict[str, str],
    writers: Writers,
    *,
    force_destroy: bool = False,
    expiry_days: Optional[int] = None,
) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
    """The bucket and its policy (deny without TLS, then `writers`). Children are named `<name>-...`."""
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(
        name,
        aws.s3.BucketArgs(
            # S3 bucket names are at most 63 characters: the provider's auto-name (logical name, `-`,
            # 7 characters) does not fit a long component name; a prefix of at most 37 characters
            # plus the provider's 26 unique ones always does, and stays unique per stack.
            bucket_prefix=None if len(name) + 8 <= 63 else f"{name[:36].rstrip('-')}-",
            force_destroy=force_destroy,
            tags=tags,
        ),
        opts=child,
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        aws.s3.BucketOwnershipControlsArgs(
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        ),
        opts=child,
    )
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        aws.s3.BucketPublicAccessBlockArgs(
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        ),
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        aws.s3.BucketServerSideEncryptionConfigurationInitArgs(
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    ),
                )
            ],
        ),
        opts=child,
    )
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning",
        aws.s3.BucketVersioningInitArgs(
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        ),
        opts=child,
    )
    if expiry_days is not None:
        _expire(name, bucket, expiry_days, pulumi.ResourceOptions(parent=parent, depends_on=[versioning]))
    policy = aws.s3.BucketPolicy(
        f"{name}-policy",
        aws.s3.BucketPolicyArgs(
            bucket=bucket.id,
            policy=policy_json(
                [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                    *writers(bucket.arn),
                ]
            ),
        ),
        # The public access block must exist first or a policy naming a principal may be refused.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[public_access_block]),
    )
    return bucket, policy


def _expire(name: str, bucket: aws.s3.Bucket, days: int, opts: pulumi.ResourceOptions) -> None:
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        aws.s3.BucketLifecycleConfigurationArgs(
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=30
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                )
            ],
        ),
        opts=opts,
    )
