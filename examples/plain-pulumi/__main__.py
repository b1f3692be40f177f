"""The archive team's program: plain pulumi_aws resources, no Rampart component.

An encrypted, versioned, private, TLS-only bucket for report archives, its server access logs in a
second bucket kept the same way, and the customer-managed KMS key (rotating) both are encrypted
with. Rampart's SOC 2 pack checks it as it checks any program (it sees resource types and
properties, not components), beside AWSGuard (awsguard/).
"""

import json

import pulumi
import pulumi_aws as aws

TAGS = {"Owner": "archive-team", "Environment": pulumi.get_stack()}
#: How long the access logs are kept.
ACCESS_LOG_DAYS = 365

key = aws.kms.Key(
    "archive-key",
    description="Encrypts the archive buckets",
    enable_key_rotation=True,
    deletion_window_in_days=30,
    tags=TAGS,
)


def private_bucket(name: str) -> aws.s3.Bucket:
    """A bucket encrypted with the key, versioned, closed to the public and to plain HTTP."""
    bucket = aws.s3.Bucket(name, tags=TAGS)
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=key.arn),
            bucket_key_enabled=True,
        )],
    )
    aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
    )
    aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    aws.s3.BucketPolicy(
        f"{name}-tls-only",
        bucket=bucket.id,
        policy=bucket.arn.apply(lambda arn: json.dumps({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }],
        })),
    )
    return bucket


access_logs = private_bucket("archive-access-logs")
aws.s3.BucketLifecycleConfiguration(
    "archive-access-logs-expiry",
    bucket=access_logs.id,
    rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="expire-access-logs", status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=ACCESS_LOG_DAYS),
    )],
)
archive = private_bucket("archive")
aws.s3.BucketLogging(
    "archive-logging",
    bucket=archive.id,
    target_bucket=access_logs.id,
    target_prefix="archive/",
)

pulumi.export("archiveBucket", archive.bucket)
pulumi.export("accessLogBucket", access_logs.bucket)
