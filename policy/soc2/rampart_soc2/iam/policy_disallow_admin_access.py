"""No `*` action on `*` resource in role policies."""
from __future__ import annotations

from ..common import IAM_POLICY, ROLE, ROLE_POLICY, ROLE_POLICY_ATTACHMENT, items
from ..iam_documents import admin_statements
from ..model import COMPLIANT, Context, Outcome, PolicySpec, Resource, Violation
from ._documents import policy_documents


ADMIN_POLICY_SUFFIXES = (":policy/AdministratorAccess", ":policy/PowerUserAccess", ":policy/IAMFullAccess")


def _admin_arns(arns: list[object]) -> list[str]:
    return [str(a) for a in arns if str(a).endswith(ADMIN_POLICY_SUFFIXES)]


def check(r: Resource, ctx: Context) -> Outcome:
    if r.type in ROLE_POLICY_ATTACHMENT:
        bad_arns = _admin_arns([r.props.get("policyArn")])
        if bad_arns:
            return Violation(f"role is given the AWS managed admin policy {bad_arns[0]}")
        return COMPLIANT
    if r.type in ROLE:
        bad_arns = _admin_arns(items(r.props.get("managedPolicyArns")))
        if bad_arns:
            return Violation(f"role is given the AWS managed admin policy {bad_arns[0]}")
    bad = [f"{label} ({', '.join(sts)})" for label, doc in policy_documents(r) if (sts := admin_statements(doc))]
    if bad:
        return Violation(f"policy allows every action on every resource: {'; '.join(bad)}")
    return COMPLIANT


POLICY = PolicySpec(
    id="aws-iam-policy-disallow-admin-access",
    description="IAM role and managed policies never allow action '*' on resource '*', and roles get no "
                "AWS managed admin policy.",
    severity="critical",
    enforcement="mandatory",
    criteria=("CC6.3",),
    remediation="List the specific actions the role needs and scope Resource to the ARNs it uses.",
    reference="https://docs.aws.amazon.com/config/latest/developerguide/iam-policy-no-statements-with-admin-access.html",
    resource_types=ROLE_POLICY + IAM_POLICY + ROLE + ROLE_POLICY_ATTACHMENT,
    check=check,
    peer="iam-policy-no-statements-with-admin-access",
    # No runtime rule: IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS evaluates only customer-managed policies
    # (AWS::IAM::Policy, "does NOT evaluate inline policies" per its page), Rampart's roles carry inline
    # policies, and a recorder that skips global resource types records no IAM at all (docs/policy.md).
)
