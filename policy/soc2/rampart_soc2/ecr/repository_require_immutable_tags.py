"""ECR repositories have immutable tags."""
from __future__ import annotations

from ..common import ECR_REPOSITORY
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    mutability = r.props.get("imageTagMutability") or "MUTABLE"  # the AWS default
    if mutability != "IMMUTABLE":
        return Violation(f"repository tags are {mutability}, so a pushed tag can be silently replaced")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecr-repository-require-immutable-tags",
    description="ECR repositories make image tags immutable.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC8.1",),
    remediation="Set imageTagMutability to 'IMMUTABLE' and deploy images by digest.",
    reference="https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html",
    resource_types=ECR_REPOSITORY,
    check=check,
    peer="CKV_AWS_51",
)
