"""Log groups keep logs at least `minLogRetentionDays` (its default is the threshold record's)."""
from __future__ import annotations

from ..common import CONFIG_RULE, LOG_GROUP
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation
from ..vocabulary.thresholds import CLOUDWATCH_RETENTION_DAYS, DEFAULT_THRESHOLDS

_DEFAULT = DEFAULT_THRESHOLDS["minLogRetentionDays"]
#: A few retention values CloudWatch accepts at or above the default, for the remediation.
_SOME = [str(d) for d in CLOUDWATCH_RETENTION_DAYS if d >= _DEFAULT][:4]
_EXAMPLES = ", ".join(_SOME[:-1]) + " or " + _SOME[-1]


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
    description=f"CloudWatch log groups retain logs for at least the minimum retention (default {_DEFAULT} days).",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC7.2", "C1.2"),
    remediation=f"Set retentionInDays to {_DEFAULT} or more (a value CloudWatch accepts, such as {_EXAMPLES}).",
    reference=CONFIG_RULE.format("cw-loggroup-retention-period-check"),
    resource_types=LOG_GROUP,
    check=check,
    thresholds=("minLogRetentionDays",),
    peer="cw-loggroup-retention-period-check, CKV_AWS_338",
)
