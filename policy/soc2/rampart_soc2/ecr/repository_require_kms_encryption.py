"""ECR repositories are encrypted with KMS."""
from __future__ import annotations

from ..common import ECR_REPOSITORY, items
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    configs = items(r.props.get("encryptionConfigurations"))
    kinds = [str(c.get("encryptionType") or "AES256") for c in configs]
    if not kinds or not all(k in ("KMS", "KMS_DSSE") for k in kinds):
        return Violation(f"repository is encrypted with {', '.join(kinds) or 'AES256 (default)'}, not KMS")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecr-repository-require-kms-encryption",
    description="ECR repositories encrypt images with KMS.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC6.1", "C1.1"),
    remediation="Set encryptionConfigurations = [{encryptionType: 'KMS', kmsKey: <customer-managed key ARN>}].",
    reference="https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html",
    resource_types=ECR_REPOSITORY,
    check=check,
    peer="CKV_AWS_136",
)
