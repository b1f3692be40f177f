"""No privilege-escalation actions (iam:PassRole, iam:CreatePolicyVersion, iam:Attach*Policy, ...) on `*`."""
from __future__ import annotations

from ..common import IAM_POLICY, ROLE, ROLE_POLICY
from ..iam_documents import PRIVILEGE_ESCALATION_ACTIONS, escalation_grants
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation
from ._documents import policy_documents


def check(r: Resource, ctx: Context) -> Outcome:
    bad = [f"{label} ({'; '.join(grants)})" for label, doc in policy_documents(r) if (grants := escalation_grants(doc))]
    if bad:
        return Violation(f"policy lets its holder raise its own privileges on every resource: {' | '.join(bad)}")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-iam-policy-disallow-privilege-escalation",
    description="Inline role policies and managed policies grant no privilege-escalation action "
                f"({', '.join(PRIVILEGE_ESCALATION_ACTIONS[:3])}, ...) on resource '*'.",
    severity="high",
    enforcement="mandatory",
    criteria=("CC6.3",),
    remediation="Scope Resource to the ARNs the role needs (for iam:PassRole: the exact role ARNs, with an "
                "iam:PassedToService condition) and drop IAM write actions the workload does not use.",
    reference="https://hub.prowler.com/check/iam_inline_policy_allows_privilege_escalation",
    resource_types=ROLE_POLICY + IAM_POLICY + ROLE,
    check=check,
    peer="Prowler iam_inline_policy_allows_privilege_escalation, iam_policy_allows_privilege_escalation",
)
