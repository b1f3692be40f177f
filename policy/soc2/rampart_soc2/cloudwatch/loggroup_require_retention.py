"""Log groups keep logs at least `minLogRetentionDays` (default 365)."""
from __future__ import annotations

from ..common import CONFIG_RULE, LOG_GROUP
from ..model import COMPLIANT, ConfigRule, Context, Outcome, PolicySpec, Resource, Violation


def check(r: Resource, ctx: Context) -> Outcome:
    minimum = int(ctx.threshold("minLogRetentionDays"))
    days = r.props.get("retentionInDays")
    if not days:
        return Violation("log group sets no retention, so logs are never disposed of on a schedule")
    if int(days) < minimum:
        return Violation(f"log group keeps logs {int(days)} days, less than the required {minimum}")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-cloudwatch-loggroup-require-retention",
    description="CloudWatch log groups retain logs for at least the minimum retention (default 365 days).",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC7.2", "C1.2"),
    remediation="Set retentionInDays to 365 or more (a value CloudWatch accepts, such as 365, 400, 545 or 731).",
    reference=CONFIG_RULE.format("cw-loggroup-retention-period-check"),
    resource_types=LOG_GROUP,
    check=check,
    thresholds=("minLogRetentionDays",),
    peer="cw-loggroup-retention-period-check, CKV_AWS_338",
    config_rule=ConfigRule("CW_LOGGROUP_RETENTION_PERIOD_CHECK", (("MinRetentionTime", "minLogRetentionDays"),)),
)
