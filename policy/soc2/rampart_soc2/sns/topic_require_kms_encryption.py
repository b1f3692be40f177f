"""SNS topics are encrypted with a KMS key."""
from __future__ import annotations

from ..common import CONFIG_RULE, SNS_TOPIC
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    key = r.props.get("kmsMasterKeyId")
    if not isinstance(key, str) or not key.strip():
        return Violation("SNS topic is not encrypted at rest with KMS (kmsMasterKeyId is not set)")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-sns-topic-require-kms-encryption",
    description="SNS topics are encrypted at rest with a KMS key.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC6.1",),
    remediation="Set kmsMasterKeyId on the topic to a KMS key whose policy lets the publishers (for alarms: "
                "cloudwatch.amazonaws.com) use it; Rampart's Monitoring key does.",
    reference=CONFIG_RULE.format("sns-encrypted-kms"),
    resource_types=SNS_TOPIC,
    check=check,
    peer="sns-encrypted-kms (SNS_ENCRYPTED_KMS)",
)
