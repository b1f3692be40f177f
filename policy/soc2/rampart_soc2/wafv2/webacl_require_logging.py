"""Every web ACL has a logging configuration (stack policy)."""
from __future__ import annotations

from typing import Sequence

from ..common import CONFIG_RULE, WEB_ACL, WEB_ACL_LOGGING, any_refers, of_type
from ..model import COMPLIANT, Context, Finding, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    logging = of_type(resources, WEB_ACL_LOGGING)

    def judge(acl: Resource) -> Outcome:
        found = any_refers(logging, "resourceArn", acl, ("arn",))
        if found is None:
            return Unknown("webAclLoggingConfiguration.resourceArn")
        if not found:
            return Violation("web ACL has no WebAclLoggingConfiguration, so blocked requests leave no record")
        return COMPLIANT

    return stack_findings(of_type(resources, WEB_ACL), judge)


POLICY = PolicySpec(
    id="aws-wafv2-webacl-require-logging",
    description="Every WAFv2 web ACL has a logging configuration.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC7.2", "A1.2"),
    remediation="Create an aws.wafv2.WebAclLoggingConfiguration with resourceArn = the web ACL's ARN and a "
                "CloudWatch log group named 'aws-waf-logs-...' as the destination.",
    reference=CONFIG_RULE.format("wafv2-logging-enabled"),
    resource_types=WEB_ACL,
    kind="stack",
    stack_check=stack_check,
    peer="wafv2-logging-enabled, CKV2_AWS_31",
)
