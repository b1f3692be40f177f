"""ECR repositories scan images on push."""
from __future__ import annotations

from ..common import ECR_REPOSITORY, truthy
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    scanning = r.props.get("imageScanningConfiguration") or {}
    if not truthy(scanning.get("scanOnPush")):
        return Violation("repository does not scan images on push (imageScanningConfiguration.scanOnPush is not true)")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-ecr-repository-require-scan-on-push",
    description="ECR repositories scan every image on push.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC7.1",),
    remediation="Set imageScanningConfiguration = {scanOnPush: true} on the repository.",
    reference="https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning.html",
    resource_types=ECR_REPOSITORY,
    check=check,
    peer="CKV_AWS_163",
)
