"""Every VPC in the stack has flow logs (stack policy)."""
from __future__ import annotations

from typing import Sequence

from ..common import CONFIG_RULE, FLOW_LOG, VPC, any_refers, of_type
from ..model import COMPLIANT, Context, Finding, Outcome, PolicySpec, Resource, Unknown, Violation, stack_findings


def stack_check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    flow_logs = of_type(resources, FLOW_LOG)

    def judge(vpc: Resource) -> Outcome:
        found = any_refers(flow_logs, "vpcId", vpc, ("id",))
        if found is None:
            return Unknown("flowLog.vpcId")
        if not found:
            return Violation("VPC has no flow log, so its network traffic leaves no record")
        return COMPLIANT

    return stack_findings(of_type(resources, VPC), judge)


POLICY = PolicySpec(
    id="aws-ec2-vpc-require-flow-logs",
    description="Every VPC the stack creates has a flow log.",
    severity="medium",
    enforcement="mandatory",
    criteria=("CC7.2", "CC7.3"),
    remediation="Create an aws.ec2.FlowLog with vpcId = the VPC's id, trafficType 'ALL' and a KMS-encrypted "
                "CloudWatch log group (Rampart's Network does this unless flow_logs=False).",
    reference=CONFIG_RULE.format("vpc-flow-logs-enabled"),
    resource_types=VPC,
    kind="stack",
    stack_check=stack_check,
    peer="vpc-flow-logs-enabled (VPC_FLOW_LOGS_ENABLED)",
)
