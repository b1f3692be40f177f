"""Log groups are encrypted with KMS."""
from __future__ import annotations

from ..common import CONFIG_RULE, LOG_GROUP
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    if not r.props.get("kmsKeyId"):
        return Violation("log group is not encrypted with a KMS key (kmsKeyId is unset)")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-cloudwatch-loggroup-require-kms-encryption",
    description="CloudWatch log groups are encrypted with a KMS key.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC6.1", "CC7.3"),
    remediation="Set kmsKeyId to a customer-managed KMS key whose policy allows logs.<region>.amazonaws.com.",
    reference=CONFIG_RULE.format("cloudwatch-log-group-encrypted"),
    resource_types=LOG_GROUP,
    check=check,
    peer="cloudwatch-log-group-encrypted, CKV_AWS_158",
)
