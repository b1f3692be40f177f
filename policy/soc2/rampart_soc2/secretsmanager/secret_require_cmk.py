"""Secrets use a customer-managed KMS key."""
from __future__ import annotations

from ..common import SECRET
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    key = r.props.get("kmsKeyId")
    if not key:
        return Violation("secret is encrypted with the AWS managed key aws/secretsmanager (kmsKeyId is unset)")
    if str(key).endswith("alias/aws/secretsmanager"):
        return Violation("secret names the AWS managed key alias/aws/secretsmanager")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-secretsmanager-secret-require-cmk",
    description="Secrets Manager secrets are encrypted with a customer-managed KMS key.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC6.1",),
    remediation="Set kmsKeyId to a customer-managed KMS key whose policy limits decrypt to the task execution role.",
    reference="https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html",
    resource_types=SECRET,
    check=check,
    peer="CKV_AWS_149",
)
