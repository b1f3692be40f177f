"""KMS keys rotate."""
from __future__ import annotations

from ..common import CONFIG_RULE, KMS_KEY, truthy
from ..model import COMPLIANT, Context, NotApplicable, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    spec = r.props.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    usage = r.props.get("keyUsage") or "ENCRYPT_DECRYPT"
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
        return NotApplicable("AWS rotates only symmetric encryption keys")
    if not truthy(r.props.get("enableKeyRotation")):
        return Violation("KMS key does not rotate (enableKeyRotation is not true)")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-kms-key-enable-rotation",
    description="Symmetric KMS keys have automatic rotation enabled.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC6.1",),
    remediation="Set enableKeyRotation to true (optionally rotationPeriodInDays) on the key.",
    reference=CONFIG_RULE.format("cmk-backing-key-rotation-enabled"),
    resource_types=KMS_KEY,
    check=check,
    peer="CKV_AWS_7",
)
