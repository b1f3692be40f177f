"""No CloudWatch Logs resource policy grants access to everyone."""
from __future__ import annotations

from ..common import LOG_RESOURCE_POLICY
from ..iam_documents import open_to_everyone
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation
from ..props import json_document


def check(r: Resource, ctx: Context) -> Outcome:
    raw = r.props.raw().get("policyDocument")
    if raw is None:
        return Violation("log resource policy has no policy document")
    bad = open_to_everyone(json_document(raw, "policyDocument"))
    if bad:
        return Violation(f"log resource policy lets any principal in any account use the log groups "
                         f"(statements {', '.join(bad)})")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-cloudwatch-logresourcepolicy-disallow-public",
    description="CloudWatch Logs resource policies grant nothing to everyone ('*') without an account, "
                "organisation or source-resource condition.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.1",),
    remediation="Name the service principal that delivers the logs (for example delivery.logs.amazonaws.com) "
                "and add aws:SourceAccount / aws:SourceArn conditions; never Principal '*' alone.",
    reference="https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html",
    resource_types=LOG_RESOURCE_POLICY,
    check=check,
    peer="Prowler cloudwatch_log_group_not_publicly_accessible",
)
